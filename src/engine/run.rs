//! Plans a run (which checks, which parameter sets), executes the units with
//! bounded concurrency and hands every result to the reporters as it lands.

use super::events::{Counts, Event, Reporter, RunSummary, UnitResult};
use super::query_unit::{self, Context};
use super::table_unit;
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
        name_ok && self.tags.iter().all(|t| tags.contains(t))
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
    pub timing_runs: Option<u32>,
    pub sample_rows: Option<usize>,
    pub write_mode: WriteMode,
    pub environment: Environment,
}

enum Done {
    Query {
        check: usize,
        set: usize,
        done: query_unit::QueryUnitDone,
    },
    Table(table_unit::TableUnitDone),
}

/// Runs the selected checks; returns the summary and, if the database went
/// away during the run, the infrastructure error.
pub async fn run(
    suite: &Suite,
    db: &Database,
    opts: &RunOptions,
    sel: &Selection,
    setup_ms: f64,
    input_errors: Vec<String>,
    reporters: &mut [Box<dyn Reporter>],
) -> (RunSummary, Option<String>) {
    let start = Instant::now();
    let env = opts.environment;
    let ctx = Context {
        pool: db.pool.clone(),
        environment: env,
        timing_runs: opts
            .timing_runs
            .unwrap_or(suite.config.defaults.timing_runs),
        sample_rows: opts
            .sample_rows
            .unwrap_or(suite.config.defaults.sample_rows),
        snapshots_dir: suite.root.join(&suite.config.snapshots_dir),
        write_mode: opts.write_mode,
    };
    let (queries, tables) = select_checks(suite, sel);
    let mut skipped_units: Vec<UnitResult> = Vec::new();
    let mut futures: Vec<LocalBoxFuture<'_, Done>> = Vec::new();
    for (ci, check) in queries.iter().enumerate() {
        if !check.applies_to(env) {
            let mut r = query_unit::new_result(check, super::UnitKind::Query, "", BTreeMap::new());
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
            let ctx = &ctx;
            futures.push(
                async move {
                    Done::Query {
                        check: ci,
                        set: si,
                        done: query_unit::run(ctx, check, set).await,
                    }
                }
                .boxed_local(),
            );
        }
    }
    for check in &tables {
        if !check.applies_to(env) {
            continue;
        }
        let ctx = &ctx;
        futures.push(async move { Done::Table(table_unit::run(ctx, check).await) }.boxed_local());
    }
    let relation_units = queries
        .iter()
        .filter(|c| c.applies_to(env) && !c.expect.relations.is_empty())
        .count();
    let total = futures.len() + relation_units + skipped_units.len();
    for r in reporters.iter_mut() {
        r.on_event(&Event::RunStarted {
            suite: &suite.config.name,
            target: &db.label,
            units: total,
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
    let mut outputs: BTreeMap<usize, BTreeMap<usize, Option<QueryOutput>>> = BTreeMap::new();
    let mut stream = futures::stream::iter(futures).buffer_unordered(opts.jobs.max(1));
    while let Some(done) = stream.next().await {
        match done {
            Done::Query { check, set, done } => {
                if infra.is_none() {
                    infra = done.infrastructure.clone();
                }
                emit(&done.result, reporters, &mut counts);
                let c = queries[check];
                let entry = outputs.entry(check).or_default();
                entry.insert(set, done.output);
                if entry.len() == c.sets.len() && !c.expect.relations.is_empty() {
                    let results: Vec<_> = c
                        .sets
                        .iter()
                        .enumerate()
                        .map(|(i, s)| (s, entry[&i].as_ref()))
                        .collect();
                    if let Some(r) = query_unit::relations_unit(c, &results, env) {
                        emit(&r, reporters, &mut counts);
                    }
                    // Outputs are no longer needed once relations are judged.
                    outputs.remove(&check);
                } else if entry.len() == c.sets.len() {
                    outputs.remove(&check);
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
    let summary = RunSummary {
        suite: suite.config.name.clone(),
        target: db.label.clone(),
        environment: env.to_string(),
        counts,
        duration_ms: start.elapsed().as_secs_f64() * 1000.0 + setup_ms,
        setup_ms,
        input_errors,
    };
    for r in reporters.iter_mut() {
        r.on_event(&Event::RunFinished(&summary));
    }
    (summary, infra)
}
