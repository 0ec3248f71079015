//! Measuring one query × parameter set on the database: warm-up runs, timed
//! runs (client wall time), then one `EXPLAIN (ANALYZE, BUFFERS)` for the
//! server's execution time and the plan. Every statement runs read-only.

use super::fingerprint;
use super::model::Measurement;
use crate::engine::query_unit::{binds_for, param_json};
use crate::engine::session::Session;
use crate::engine::timing;
use crate::suite::{ParamSet, QueryCheck};
use crate::timing::TimingStats;
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
    volume: u64,
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
        volume,
        budget_ms: check.budget.0.as_secs_f64() * 1e3,
        runs: 0,
        p50_ms: 0.0,
        max_ms: 0.0,
        p95_ms: None,
        judged_ms: 0.0,
        judged: String::new(),
        server_ms: None,
        buffers: None,
        rows: 0,
        plan: None,
        fingerprint: None,
        error: None,
        attempts: 1,
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
        let samples = timing::time_runs(&mut session, sql, &binds, opts.timed_runs.max(1))
            .await
            .map_err(|e| e.message)?;
        if let Some(t) = TimingStats::of(&samples) {
            m.runs = t.runs;
            m.p50_ms = t.p50_ms;
            m.max_ms = t.max_ms;
            m.p95_ms = t.p95_ms;
            m.judged_ms = t.judged_ms();
            m.judged = t.judged_label();
        }
        let plan = timing::explain(&mut session, sql, &binds, true)
            .await
            .map_err(|e| e.message)?;
        if let Some(plan) = plan {
            m.server_ms = fingerprint::execution_ms(&plan);
            m.buffers = fingerprint::buffers(&plan);
            m.fingerprint = Some(fingerprint::fingerprint(&plan));
            m.plan = Some(plan);
        }
        Ok(())
    }
    .await;
    session.close().await;
    result
}
