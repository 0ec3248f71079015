//! Timing a statement and fetching its plan, for `run` (solo timings of the
//! queries whose verdict needs them) and `bench` alike. Every statement runs
//! in the caller's read-only session.

use super::session::{Session, StatementError};
use crate::db::bind::Bind;
use crate::output::Cell;

/// How a query's budget verdict is reached in a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimingPolicy {
    /// Judge on the checked execution when it used at most half the budget;
    /// otherwise time it again alone on its server (`solo_runs` runs) and
    /// judge on those. The default.
    Auto { solo_runs: u32 },
    /// Always time `n` more runs alone (0: judge on the checked execution).
    Runs(u32),
}

impl TimingPolicy {
    /// Solo runs wanted after a checked execution of `first_ms` against
    /// `budget_ms` (0: the checked execution decides).
    pub fn solo_runs(&self, first_ms: f64, budget_ms: f64) -> u32 {
        match *self {
            TimingPolicy::Runs(n) => n,
            TimingPolicy::Auto { solo_runs } if first_ms > budget_ms / 2.0 => solo_runs,
            TimingPolicy::Auto { .. } => 0,
        }
    }
}

/// Times `runs` executions of `sql` one after another (milliseconds).
pub async fn time_runs(
    session: &mut Session,
    sql: &str,
    binds: &[Bind],
    runs: u32,
) -> Result<Vec<f64>, StatementError> {
    let mut samples = Vec::with_capacity(runs as usize);
    for _ in 0..runs {
        let d = session.time(sql, binds).await?;
        samples.push(d.as_secs_f64() * 1e3);
    }
    Ok(samples)
}

/// The plan of `sql` as EXPLAIN's JSON document. `analyze` executes the
/// statement (with BUFFERS); without it the plan is only estimated.
pub async fn explain(
    session: &mut Session,
    sql: &str,
    binds: &[Bind],
    analyze: bool,
) -> Result<Option<serde_json::Value>, StatementError> {
    let options = if analyze {
        "ANALYZE, BUFFERS, FORMAT JSON"
    } else {
        "FORMAT JSON"
    };
    let (plan, _) = session
        .query(&format!("EXPLAIN ({options}) {sql}"), binds)
        .await?;
    Ok(match plan.rows.first().and_then(|r| r.first()) {
        Some(Cell::Text(t)) => serde_json::from_str(t).ok(),
        _ => None,
    })
}
