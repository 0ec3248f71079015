//! Drives a bench: for each scale, regenerate the dataset in the throwaway
//! cluster and measure every selected query × parameter set, one at a time
//! (nothing else runs while a query is timed).

use super::measure::{self, MeasureOptions};
use super::model::{Measurement, ScaleInfo};
use crate::gen::{self, GenError, GenOptions};
use crate::suite::{ParamSet, QueryCheck, ScaleConfig, Suite};
use indicatif::{ProgressBar, ProgressStyle};
use sqlx::postgres::PgPool;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Ascending, distinct.
    pub scales: Vec<f64>,
    pub seed: u64,
    pub connections: usize,
    pub warmup_runs: u32,
    pub timed_runs: u32,
    /// statement_timeout; None: 10 × each query's budget, at least 30 s.
    pub timeout: Option<Duration>,
    pub progress: bool,
    /// Schemas to drop before each scale is generated.
    pub schemas: Vec<String>,
}

/// Progress of a bench, for whoever shows it.
pub enum BenchEvent<'a> {
    Generated(&'a ScaleInfo),
}

pub async fn run(
    pool: &PgPool,
    suite: &Suite,
    cfg: &ScaleConfig,
    checks: &[&QueryCheck],
    opts: &BenchOptions,
    mut on_event: impl FnMut(BenchEvent<'_>),
) -> Result<(Vec<ScaleInfo>, Vec<Measurement>), GenError> {
    let mut scales = Vec::new();
    let mut measurements = Vec::new();
    let units = units(checks);
    for &scale in &opts.scales {
        crate::db::setup::drop_schemas(pool, &opts.schemas)
            .await
            .map_err(|e| GenError::Database(crate::db::describe_error(&e).0))?;
        let stats = gen::generate(
            pool,
            &suite.root,
            cfg,
            &GenOptions {
                scale,
                seed: opts.seed,
                connections: opts.connections,
                progress: opts.progress,
            },
        )
        .await?;
        // Settle the tables as production has them (hint bits set, visibility
        // map built, statistics fresh), so autovacuum does not start in the
        // middle of the timings.
        sqlx::raw_sql("VACUUM (ANALYZE)")
            .execute(pool)
            .await
            .map_err(|e| GenError::Database(crate::db::describe_error(&e).0))?;
        let info = ScaleInfo {
            scale,
            volume: stats.relation_rows.get(&cfg.volume).copied().unwrap_or(0),
            relation_rows: stats.relation_rows,
            generate_ms: stats.total_ms,
        };
        on_event(BenchEvent::Generated(&info));
        measurements.extend(measure_all(pool, &units, &info, opts).await);
        scales.push(info);
    }
    Ok((scales, measurements))
}

/// Measures every unit on the data `pool` holds now, described by `info`
/// (used as is for an existing database, after generation otherwise).
pub async fn measure_all(
    pool: &PgPool,
    units: &[(&QueryCheck, &ParamSet)],
    info: &ScaleInfo,
    opts: &BenchOptions,
) -> Vec<Measurement> {
    let mut out = Vec::with_capacity(units.len());
    let bar = progress_bar(opts.progress, units.len() as u64, info.scale);
    for (check, set) in units {
        bar.set_message(format!("{}[{}]", check.name, set.name));
        let timeout = opts
            .timeout
            .unwrap_or_else(|| (check.budget.0 * 10).max(Duration::from_secs(30)));
        let m = measure::measure(
            pool,
            check,
            set,
            info.scale,
            info.volume,
            MeasureOptions {
                warmup_runs: opts.warmup_runs,
                timed_runs: opts.timed_runs,
                timeout,
            },
        )
        .await;
        out.push(m);
        bar.inc(1);
    }
    bar.finish_and_clear();
    out
}

/// Rows of `relations` in an existing database, read in a read-only
/// session; the count of `volume` (when given) places it on the scale axis.
pub async fn existing_volume(
    pool: &PgPool,
    relations: &[String],
    volume: Option<&str>,
    volume_per_scale: f64,
) -> Result<ScaleInfo, String> {
    let mut session = crate::engine::session::Session::open(pool, Duration::from_secs(300))
        .await
        .map_err(|e| e.message)?;
    let mut relation_rows = std::collections::BTreeMap::new();
    let mut result = Ok(());
    for t in relations {
        let sql = format!("select count(*) from {}", crate::gen::load::quote_name(t));
        match session.query(&sql, &[]).await {
            Ok((out, _)) => {
                let n = out
                    .rows
                    .first()
                    .and_then(|r| r.first())
                    .and_then(|c| c.as_f64());
                relation_rows.insert(t.to_string(), n.unwrap_or(0.0) as u64);
            }
            Err(e) => {
                result = Err(format!("cannot count {t}: {}", e.message));
                break;
            }
        }
    }
    session.close().await;
    result?;
    let rows = volume
        .and_then(|v| relation_rows.get(v))
        .copied()
        .unwrap_or(0);
    Ok(ScaleInfo {
        scale: if volume_per_scale > 0.0 {
            rows as f64 / volume_per_scale
        } else {
            0.0
        },
        volume: rows,
        relation_rows,
        generate_ms: 0.0,
    })
}

/// Every query check × parameter set, in suite order.
pub fn units<'a>(checks: &[&'a QueryCheck]) -> Vec<(&'a QueryCheck, &'a ParamSet)> {
    checks
        .iter()
        .flat_map(|c| c.sets.iter().map(move |s| (*c, s)))
        .collect()
}

fn progress_bar(show: bool, len: u64, scale: f64) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "scale {scale}: {{bar:30}} {{pos}}/{{len}} {{msg}}"
        ))
        .expect("static template"),
    );
    bar
}
