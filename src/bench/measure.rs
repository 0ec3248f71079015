//! Measuring one query × parameter set on the database: warm-up runs, timed
//! runs (client wall time), then one `EXPLAIN (ANALYZE, BUFFERS)` for the
//! server's execution time and the plan. Every statement runs read-only.

use super::fingerprint;
use super::model::Measurement;
use crate::engine::query_unit::{binds_for, param_json, percentile};
use crate::engine::session::Session;
use crate::suite::{ParamSet, QueryCheck};
use sqlx::postgres::PgPool;
use std::time::Duration;

/// How to measure.
#[derive(Debug, Clone, Copy)]
pub struct MeasureOptions {
    pub warmup_runs: u32,
    pub timed_runs: u32,
    /// statement_timeout of every statement.
    pub timeout: Duration,
}

pub async fn measure(
    pool: &PgPool,
    check: &QueryCheck,
    set: &ParamSet,
    scale: f64,
    leads: u64,
    opts: MeasureOptions,
) -> Measurement {
    let mut m = Measurement {
        check: check.name.clone(),
        param_set: set.name.clone(),
        params: set
            .values
            .iter()
            .map(|(k, v)| (k.clone(), param_json(v)))
            .collect(),
        scale,
        leads,
        budget_ms: check.budget.0.as_secs_f64() * 1e3,
        runs: 0,
        p50_ms: 0.0,
        p95_ms: 0.0,
        max_ms: 0.0,
        server_ms: None,
        buffers: None,
        rows: 0,
        plan: None,
        fingerprint: None,
        error: None,
    };
    if let Err(e) = timed(pool, check, set, opts, &mut m).await {
        m.error = Some(e);
    }
    m
}

async fn timed(
    pool: &PgPool,
    check: &QueryCheck,
    set: &ParamSet,
    opts: MeasureOptions,
    m: &mut Measurement,
) -> Result<(), String> {
    let sql = &check.statement.sql;
    let binds = binds_for(&check.statement, set, &check.types);
    let mut session = Session::open(pool, opts.timeout)
        .await
        .map_err(|e| e.message)?;
    let result = async {
        let (out, _) = session.query(sql, &binds).await.map_err(|e| e.message)?;
        m.rows = out.rows.len();
        for _ in 1..opts.warmup_runs {
            session.time(sql, &binds).await.map_err(|e| e.message)?;
        }
        let mut samples = Vec::with_capacity(opts.timed_runs as usize);
        for _ in 0..opts.timed_runs.max(1) {
            let t = session.time(sql, &binds).await.map_err(|e| e.message)?;
            samples.push(t.as_secs_f64() * 1e3);
        }
        samples.sort_by(f64::total_cmp);
        m.runs = samples.len();
        m.p50_ms = percentile(&samples, 0.5);
        m.p95_ms = percentile(&samples, 0.95);
        m.max_ms = *samples.last().unwrap_or(&0.0);
        let explain = format!("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}");
        let (plan, _) = session
            .query(&explain, &binds)
            .await
            .map_err(|e| e.message)?;
        if let Some(crate::output::Cell::Text(t)) = plan.rows.first().and_then(|r| r.first()) {
            if let Ok(plan) = serde_json::from_str::<serde_json::Value>(t) {
                m.server_ms = fingerprint::execution_ms(&plan);
                m.buffers = fingerprint::buffers(&plan);
                m.fingerprint = Some(fingerprint::fingerprint(&plan));
                m.plan = Some(plan);
            }
        }
        Ok(())
    }
    .await;
    session.close().await;
    result
}
