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
    let units: Vec<(&QueryCheck, &ParamSet)> = checks
        .iter()
        .flat_map(|c| c.sets.iter().map(move |s| (*c, s)))
        .collect();
    for &scale in &opts.scales {
        for s in &opts.schemas {
            let drop = format!(
                "drop schema if exists {} cascade",
                crate::sql::quote_ident(s)
            );
            sqlx::raw_sql(&drop)
                .execute(pool)
                .await
                .map_err(|e| GenError::Database(crate::db::describe_error(&e).0))?;
        }
        let stats = gen::generate(
            pool,
            suite,
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
            leads: stats.leads,
            relation_rows: stats.relation_rows,
            generate_ms: stats.total_ms,
        };
        on_event(BenchEvent::Generated(&info));
        let bar = progress_bar(opts.progress, units.len() as u64, scale);
        for (check, set) in &units {
            bar.set_message(format!("{}[{}]", check.name, set.name));
            let timeout = opts
                .timeout
                .unwrap_or_else(|| (check.budget.0 * 10).max(Duration::from_secs(30)));
            let m = measure::measure(
                pool,
                check,
                set,
                scale,
                info.leads,
                MeasureOptions {
                    warmup_runs: opts.warmup_runs,
                    timed_runs: opts.timed_runs,
                    timeout,
                },
            )
            .await;
            measurements.push(m);
            bar.inc(1);
        }
        bar.finish_and_clear();
        scales.push(info);
    }
    Ok((scales, measurements))
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
