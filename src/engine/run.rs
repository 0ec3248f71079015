//! Plans a run (which checks, which parameter sets), executes the units with
//! bounded concurrency and hands every result to the reporters as it lands.

use super::events::{Counts, Event, Reporter, RunSummary, UnitResult};
use super::query_unit::{self, Context};
use super::table_unit;
use super::timing::TimingPolicy;
use crate::db::Database;
use crate::output::QueryOutput;
use crate::snapshot::WriteMode;
use crate::suite::{Environment, QueryCheck, Suite, TableCheck};
use futures::future::LocalBoxFuture;
use futures::{FutureExt, StreamExt};
use std::collections::BTreeMap;
use std::time::Instant;

/// Which checks a run includes.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// A check-name pattern: a glob if it has `*` or `?`, otherwise a substring.
    pub filter: Option<String>,
    /// Every tag listed must be on the check.
    pub tags: Vec<String>,
    /// `(k, n)`: only checks whose name hashes to share k of n (1-based).
    pub partition: Option<(u64, u64)>,
}

/// FNV-1a: stable across platforms and Rust versions, so a partition of the
/// checks is the same on every CI job.
pub fn stable_hash(text: &str) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in text.as_bytes() {
        h ^= *b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

/// Parses `hash:K/N` (1 <= K <= N).
pub fn parse_partition(text: &str) -> Result<(u64, u64), String> {
    let bad =
        || format!("invalid partition `{text}`: write hash:K/N with 1 <= K <= N, e.g. hash:1/3");
    let rest = text.strip_prefix("hash:").ok_or_else(bad)?;
    let (k, n) = rest.split_once('/').ok_or_else(bad)?;
    let (k, n): (u64, u64) = (
        k.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    if k == 0 || n == 0 || k > n {
        return Err(bad());
    }
    Ok((k, n))
}

impl Selection {
    pub fn matches(&self, name: &str, tags: &[String]) -> bool {
        let name_ok = match &self.filter {
            None => true,
            Some(p) if p.contains(['*', '?', '[']) => globset::Glob::new(p)
                .map(|g| g.compile_matcher().is_match(name))
                .unwrap_or(false),
            Some(p) => name.contains(p.as_str()),
        };
        let share_ok = self
            .partition
            .is_none_or(|(k, n)| stable_hash(name) % n == k - 1);
        name_ok && share_ok && self.tags.iter().all(|t| tags.contains(t))
    }
}

pub fn select_checks<'a>(
    suite: &'a Suite,
    sel: &Selection,
) -> (Vec<&'a QueryCheck>, Vec<&'a TableCheck>) {
    (
        suite
            .query_checks
            .iter()
            .filter(|c| sel.matches(&c.name, &c.tags))
            .collect(),
        suite
            .table_checks
            .iter()
            .filter(|c| sel.matches(&c.name, &c.tags))
            .collect(),
    )
}

#[derive(Debug, Clone)]
pub struct RunOptions {
    pub jobs: usize,
    /// `--timing-runs N`: N solo timed runs for every query (else the suite's default).
    pub timing_runs: Option<u32>,
    /// `--explain-analyze`: plans of slow queries from EXPLAIN ANALYZE on
    /// url targets too (it executes the query once more).
    pub explain_analyze: bool,
    pub sample_rows: Option<usize>,
    pub write_mode: WriteMode,
    pub environment: Environment,
    /// How the (first) database got its fixtures, for the summary.
    pub fixtures: Option<crate::db::fixtures::FixtureSource>,
    /// The time the run is recorded at (default: now).
    pub now: Option<chrono::DateTime<chrono::Utc>>,
    /// Earlier runs' metric values (from `--history`).
    pub prior: Option<std::sync::Arc<crate::metrics::PriorRuns>>,
}

enum Done {
    Query {
        target: usize,
        check: usize,
        set: usize,
        done: query_unit::QueryUnitDone,
    },
    Table(table_unit::TableUnitDone),
}

/// Waits between attempts of a unit that hit a transient failure (connection
/// refused during a restart, a conflict with recovery on a standby).
const BACKOFF_MS: [u64; 3] = [200, 800, 2000];

/// Runs a unit, again after a backoff while it reports an infrastructure
/// failure; marks the target unavailable when the failure persists. Once a
/// target is unavailable, `skip` stands in for units not yet started.
async fn with_retry<T, F, Fut>(
    ctx: &Context,
    failed: impl Fn(&T) -> bool,
    attempt_unit: F,
    skip: impl Fn() -> T,
) -> T
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let mut attempt = 0;
    loop {
        if ctx.unavailable.get() {
            return skip();
        }
        let done = attempt_unit().await;
        if !failed(&done) || attempt == BACKOFF_MS.len() {
            if failed(&done) {
                ctx.unavailable.set(true);
            }
            return done;
        }
        tokio::time::sleep(std::time::Duration::from_millis(BACKOFF_MS[attempt])).await;
        attempt += 1;
    }
}

async fn query_with_retry(
    ctx: &Context,
    check: &QueryCheck,
    set: &crate::suite::ParamSet,
) -> query_unit::QueryUnitDone {
    with_retry(
        ctx,
        |d: &query_unit::QueryUnitDone| d.infrastructure.is_some(),
        || query_unit::run(ctx, check, set),
        || query_unit::unavailable(ctx, check, set),
    )
    .await
}

async fn table_with_retry(ctx: &Context, check: &TableCheck) -> table_unit::TableUnitDone {
    with_retry(
        ctx,
        |d: &table_unit::TableUnitDone| d.infrastructure.is_some(),
        || table_unit::run(ctx, check),
        || table_unit::unavailable(ctx, check),
    )
    .await
}

/// The timing rule of a target: `--timing-runs`, else the suite's
/// `defaults.timing_runs`, else automatic — 3 solo runs (2 on a database
/// assay does not own, to spare production) for a query whose checked
/// execution took more than half its budget.
fn timing_policy(suite: &Suite, opts: &RunOptions, external: bool) -> TimingPolicy {
    match opts.timing_runs.or(suite.config.defaults.timing_runs) {
        Some(n) => TimingPolicy::Runs(n),
        None => TimingPolicy::Auto {
            solo_runs: if external { 2 } else { 3 },
        },
    }
}

/// Runs the selected checks on every target concurrently; returns the summary
/// and, if a database was or became unreachable, the infrastructure error.
#[allow(clippy::too_many_arguments)]
pub async fn run(
    suite: &Suite,
    targets: &[&Database],
    opts: &RunOptions,
    sel: &Selection,
    setup_ms: f64,
    load_errors: Vec<super::events::LoadError>,
    reporters: &mut [Box<dyn Reporter>],
) -> (RunSummary, Option<String>) {
    let start = Instant::now();
    let env = opts.environment;
    let contexts: Vec<Context> = targets
        .iter()
        .map(|db| Context {
            connections: crate::db::kept::KeptConnections::new(db.pool.clone()),
            target: db.label.clone(),
            external: db.external,
            environment: env,
            timing: timing_policy(suite, opts, db.external),
            concurrency: opts.jobs.max(1),
            explain_analyze: opts.explain_analyze || !db.external,
            empty_database: !db.external && suite.config.setup.is_empty(),
            sample_rows: opts
                .sample_rows
                .unwrap_or(suite.config.defaults.sample_rows),
            snapshots_dir: suite.root.join(&suite.config.snapshots_dir),
            write_mode: opts.write_mode,
            unavailable: std::cell::Cell::new(false),
            now: opts.now.unwrap_or_else(chrono::Utc::now),
            prior: opts.prior.clone(),
        })
        .collect();
    let (queries, tables) = select_checks(suite, sel);
    let mut skipped_units: Vec<UnitResult> = Vec::new();
    let mut futures: Vec<LocalBoxFuture<'_, Done>> = Vec::new();
    for (ti, ctx) in contexts.iter().enumerate() {
        // Table units first: each scans whole relations, and they are the
        // longest units of a run; started last, one of them kept a single
        // job busy while the others had nothing left to do.
        for check in &tables {
            if check.applies_to(env) {
                futures.push(
                    async move { Done::Table(table_with_retry(ctx, check).await) }.boxed_local(),
                );
            } else {
                skipped_units.push(table_unit::skipped(ctx, check));
            }
        }
        for (ci, check) in queries.iter().enumerate() {
            if !check.applies_to(env) {
                let mut r =
                    query_unit::new_result(ctx, check, super::UnitKind::Query, "", BTreeMap::new());
                r.outcomes.push(crate::checks::Outcome::skip(
                    "check",
                    "check",
                    check.severity,
                    format!("not run on {env}"),
                ));
                r.settle();
                skipped_units.push(r);
                continue;
            }
            for (si, set) in check.sets.iter().enumerate() {
                futures.push(
                    async move {
                        Done::Query {
                            target: ti,
                            check: ci,
                            set: si,
                            done: query_with_retry(ctx, check, set).await,
                        }
                    }
                    .boxed_local(),
                );
            }
        }
    }
    let relation_units = queries
        .iter()
        .filter(|c| c.applies_to(env) && !c.expect.relations.is_empty())
        .count()
        * contexts.len();
    let total = futures.len() + relation_units + skipped_units.len();
    let labels: Vec<String> = targets.iter().map(|d| d.label.clone()).collect();
    let target_label = labels.join(", ");
    for r in reporters.iter_mut() {
        r.on_event(&Event::RunStarted {
            suite: &suite.config.name,
            target: &target_label,
            units: total,
            several_targets: targets.len() > 1,
        });
    }
    let mut counts = Counts::default();
    let mut infra: Option<String> = None;
    let emit = |r: &UnitResult, reporters: &mut [Box<dyn Reporter>], counts: &mut Counts| {
        counts.add(r.verdict);
        for rep in reporters.iter_mut() {
            rep.on_event(&Event::UnitFinished(r));
        }
    };
    for r in &skipped_units {
        emit(r, reporters, &mut counts);
    }
    type Outputs = BTreeMap<usize, Option<QueryOutput>>;
    let mut outputs: BTreeMap<(usize, usize), Outputs> = BTreeMap::new();
    let parallel = opts.jobs.max(1) * contexts.len();
    // Units whose budget verdict needs solo timing wait for phase 2.
    let mut deferred: Vec<(usize, usize, usize, query_unit::QueryUnitDone)> = Vec::new();
    let mut stream = futures::stream::iter(futures).buffer_unordered(parallel);
    while let Some(done) = stream.next().await {
        match done {
            Done::Query {
                target,
                check,
                set,
                done,
            } => {
                if infra.is_none() {
                    infra = done
                        .infrastructure
                        .as_ref()
                        .map(|e| format!("{}: {e}", labels[target]));
                }
                let c = queries[check];
                let mut done = done;
                let output = done.output.take();
                if done.pending.is_some() {
                    deferred.push((target, check, set, done));
                } else {
                    emit(&done.result, reporters, &mut counts);
                }
                let entry = outputs.entry((target, check)).or_default();
                entry.insert(set, output);
                if entry.len() == c.sets.len() {
                    let results: Vec<_> = c
                        .sets
                        .iter()
                        .enumerate()
                        .map(|(i, s)| (s, entry[&i].as_ref()))
                        .collect();
                    if let Some(r) = query_unit::relations_unit(&contexts[target], c, &results, env)
                    {
                        emit(&r, reporters, &mut counts);
                    }
                    // Outputs are no longer needed once relations are judged.
                    outputs.remove(&(target, check));
                }
            }
            Done::Table(done) => {
                if infra.is_none() {
                    infra = done.infrastructure.clone();
                }
                emit(&done.result, reporters, &mut counts);
            }
        }
    }
    drop(stream);
    // Phase 2: solo timings, one statement at a time per target (targets
    // are different servers and run side by side).
    let mut per_target: Vec<Vec<(usize, usize, query_unit::QueryUnitDone)>> =
        contexts.iter().map(|_| Vec::new()).collect();
    for (t, c, s, done) in deferred {
        per_target[t].push((c, s, done));
    }
    let mut solo: Vec<LocalBoxFuture<'_, Vec<UnitResult>>> = Vec::new();
    for (t, units) in per_target.into_iter().enumerate() {
        let ctx = &contexts[t];
        let queries = &queries;
        solo.push(
            async move {
                let mut out = Vec::new();
                for (c, s, done) in units {
                    let check = queries[c];
                    let set = &check.sets[s];
                    out.push(if ctx.unavailable.get() {
                        let mut r = done.result;
                        r.settle();
                        r
                    } else {
                        query_unit::finish_timing(ctx, check, set, done)
                            .await
                            .result
                    });
                }
                out
            }
            .boxed_local(),
        );
    }
    for results in futures::future::join_all(solo).await {
        for r in &results {
            emit(r, reporters, &mut counts);
        }
    }
    let summary = RunSummary {
        suite: suite.config.name.clone(),
        target: target_label,
        environment: env.to_string(),
        counts,
        duration_ms: start.elapsed().as_secs_f64() * 1000.0 + setup_ms,
        setup_ms,
        replica_lag: targets
            .iter()
            .filter_map(|d| {
                d.replica_lag_s.map(|s| super::events::ReplicaLag {
                    target: d.label.clone(),
                    seconds: s,
                })
            })
            .collect(),
        load_errors,
        partition: sel
            .partition
            .map(|(k, n)| super::events::Partition { k, n }),
        infrastructure_error: infra.clone(),
        fixtures: opts.fixtures,
    };
    for r in reporters.iter_mut() {
        r.on_event(&Event::RunFinished(&summary));
    }
    (summary, infra)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_cover_every_check_once() {
        let names: Vec<String> = (0..50).map(|i| format!("check_{i}")).collect();
        for n in 1..5u64 {
            let mut seen = 0;
            for k in 1..=n {
                let sel = Selection {
                    partition: Some((k, n)),
                    ..Default::default()
                };
                seen += names.iter().filter(|c| sel.matches(c, &[])).count();
            }
            assert_eq!(seen, names.len());
        }
        assert!(parse_partition("hash:0/3").is_err());
        assert_eq!(parse_partition("hash:2/3"), Ok((2, 3)));
    }
}
