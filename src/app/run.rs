//! `assay run`: the suite on one or more targets, reported in every format asked for.
//!
//! Every flag is checked before a database starts; a selection that matches
//! nothing starts none. Reports are files written atomically at the end; when
//! a database cannot be started or reached they still say what failed.

use super::load;
use super::reports::reporters;
use super::targets::{close_all, target_specs};
use crate::cli::RunArgs;
use crate::db::fixtures::{self, PrepareError};
use crate::db::TargetSpec;
use crate::engine::{self, LoadError, Partition, RunSummary, Selection};
use crate::error::{exit_code, AppError};
use crate::snapshot::WriteMode;
use crate::suite::{self, Environment, Suite};
use std::path::Path;
use std::time::Instant;

/// What recording a run (`--history`, app/record.rs) adds to it, and what
/// the record needs back: the suite's name and version, the targets.
#[derive(Default)]
pub(super) struct Hooks {
    /// A reporter keeping the results for the record.
    pub collector: Option<crate::history::Collector>,
    /// The time the run is recorded at.
    pub now: Option<chrono::DateTime<chrono::Utc>>,
    /// Earlier runs' values of per-run metrics.
    pub prior: Option<std::sync::Arc<crate::metrics::PriorRuns>>,
    /// The history's database: refused as a target.
    pub history_db: Option<crate::history::postgres::Identity>,
    pub suite: Option<String>,
    pub fingerprint: Option<String>,
    pub targets: Vec<String>,
    /// Set when a target is the history's database (nothing may be recorded).
    pub history_is_target: bool,
}

pub(super) async fn run(root: &Path, args: RunArgs, hooks: &mut Hooks) -> Result<i32, AppError> {
    let started = Instant::now();
    let loaded = load(root, args.sql_dir.clone())?;
    let suite: Suite = loaded.suite;
    hooks.suite = Some(suite.config.name.clone());
    hooks.fingerprint = Some(crate::history::record::sql_fingerprint(&suite));
    if args.jobs == Some(0) {
        return Err(AppError::Usage("--jobs must be at least 1".into()));
    }
    let partition = match &args.partition {
        Some(p) => Some(engine::parse_partition(p).map_err(AppError::Usage)?),
        None => None,
    };
    let max_lag = match &args.max_lag {
        Some(t) => Some(
            suite::duration::parse_duration(t)
                .map_err(|e| AppError::Usage(format!("--max-lag: {e}")))?,
        ),
        None => None,
    };
    let selection = Selection {
        filter: args.select.filter.clone(),
        tags: args.select.tags.clone(),
        partition,
    };
    // A filter or tag that matches nothing is a mistake (a typo in a CI job
    // must not pass the gate); an empty share of a split is not.
    let unsplit = Selection {
        partition: None,
        ..selection.clone()
    };
    let (queries, tables) = engine::select_checks(&suite, &unsplit);
    if queries.is_empty() && tables.is_empty() && !args.allow_empty {
        if !loaded.errors.is_empty() {
            // The checks asked for may be the ones that failed to load.
            return Err(AppError::Input(loaded.errors));
        }
        return Err(AppError::Usage(super::nothing_selected(
            &suite,
            &args.select,
        )));
    }
    let (queries, tables) = engine::select_checks(&suite, &selection);
    let nothing_selected = queries.is_empty() && tables.is_empty();
    let specs = target_specs(&args, &suite)?;
    let jobs = super::jobs(
        args.jobs,
        specs.iter().all(|s| !matches!(s, TargetSpec::Url(_))),
    )?;
    let mut reports = reporters(&args.formats, args.output.as_ref(), args.no_progress)?;
    if let Some(c) = &hooks.collector {
        reports.reporters.push(Box::new(c.clone()));
    }
    let load_errors: Vec<LoadError> = loaded.errors.iter().map(LoadError::from).collect();
    if !reports.human_on_terminal {
        // No human report shows them: say them once on standard error.
        for e in &loaded.errors {
            crate::tell!("error: {e}");
        }
    }
    let part = partition.map(|(k, n)| Partition { k, n });
    let environment = args.environment.map(Environment::from).unwrap_or(
        if specs.iter().all(|s| matches!(s, TargetSpec::Url(_))) {
            Environment::Production
        } else {
            Environment::Fixtures
        },
    );
    if nothing_selected {
        let summary = empty_summary(&suite, "-", environment, &load_errors, part, None);
        reports.finish_empty(&summary)?;
        return Ok(exit_code_of(&summary));
    }

    let opened = futures::future::join_all(
        specs
            .iter()
            .map(|s| fixtures::open(s, &suite, jobs as u32 + 1, !args.no_fixture_cache)),
    )
    .await;
    let mut databases = Vec::new();
    let mut sources = Vec::new();
    let mut failure = None;
    let mut setup_failure = None;
    for o in opened {
        match o {
            Ok((d, source)) => {
                databases.push(d);
                sources.push(source);
            }
            Err(PrepareError::Setup(e)) => setup_failure = setup_failure.or(Some(e)),
            Err(PrepareError::Infrastructure(e)) => failure = failure.or(Some(e)),
        }
    }
    if let Some(e) = setup_failure {
        close_all(databases).await;
        return Err(PrepareError::Setup(e).into_app_error());
    }
    hooks.targets = databases.iter().map(|d| d.label.clone()).collect();
    if let Some(history) = &hooks.history_db {
        for d in databases.iter().filter(|d| d.external) {
            let same = crate::history::postgres::identity(&d.pool, &d.label)
                .await
                .is_ok_and(|id| id.same_database(history));
            if same {
                hooks.history_is_target = true;
                let msg = format!(
                    "--history names {}, a database under test (or its primary); keep the history in a database of its own or a directory",
                    d.label
                );
                close_all(databases).await;
                return Err(AppError::Usage(msg));
            }
        }
    }
    let refusal = max_lag.and_then(|limit| {
        databases
            .iter()
            .find(|d| d.replica_lag_s.is_some_and(|l| l > limit.as_secs_f64()))
            .map(|d| {
                format!(
                    "{} is {:.1} s behind its primary, more than --max-lag {}; not running checks against it",
                    d.label,
                    d.replica_lag_s.unwrap_or_default(),
                    args.max_lag.as_deref().unwrap_or_default()
                )
            })
    });
    if let Some(e) = failure.or(refusal) {
        close_all(databases).await;
        let summary = empty_summary(
            &suite,
            &target_label(&specs),
            environment,
            &load_errors,
            part,
            Some(e.clone()),
        );
        reports.finish_empty(&summary)?;
        return Err(AppError::Infrastructure(e));
    }
    let setup_ms = started.elapsed().as_secs_f64() * 1000.0;
    let in_ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false" && v != "0");
    let write_mode = if args.accept_snapshots {
        WriteMode::Accept
    } else if in_ci && !args.write_pending {
        WriteMode::Nothing
    } else {
        WriteMode::Pending
    };
    let opts = engine::RunOptions {
        jobs,
        timing_runs: args.timing_runs,
        explain_analyze: args.explain_analyze,
        sample_rows: args.sample_rows,
        write_mode,
        environment,
        fixtures: sources.first().copied(),
        now: hooks.now,
        prior: hooks.prior.clone(),
    };
    let targets: Vec<&crate::db::Database> = databases.iter().collect();
    if args.log_statements.is_some() {
        crate::engine::statement_log::start();
    }
    let (summary, infra) = engine::run(
        &suite,
        &targets,
        &opts,
        &selection,
        setup_ms,
        load_errors,
        &mut reports.reporters,
    )
    .await;
    close_all(databases).await;
    if let Some(path) = &args.log_statements {
        let script =
            crate::engine::statement_log::psql_script(&crate::engine::statement_log::take());
        crate::report::sink::write_atomic(path, script.as_bytes()).map_err(|e| {
            AppError::Infrastructure(format!("cannot write {}: {e}", path.display()))
        })?;
    }
    reports.finish()?;
    if let Some(e) = infra {
        return Err(AppError::Infrastructure(format!(
            "the database was unreachable during the run (the report shows what did run): {e}"
        )));
    }
    Ok(exit_code_of(&summary))
}

fn exit_code_of(summary: &RunSummary) -> i32 {
    if !summary.load_errors.is_empty() {
        exit_code::INVALID_INPUT
    } else if summary.counts.failed + summary.counts.errored > 0 {
        exit_code::CHECK_FAILED
    } else {
        exit_code::OK
    }
}

pub(super) fn target_label(specs: &[TargetSpec]) -> String {
    specs
        .iter()
        .map(|s| match s {
            TargetSpec::Embedded => "embedded PostgreSQL".to_string(),
            TargetSpec::Docker(i) => format!("docker {}:{}", i.name, i.tag),
            TargetSpec::Url(u) => crate::db::url::options(u)
                .map(|o| crate::db::url::label(&o))
                .unwrap_or_else(|_| "database".into()),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The summary of a run that executed no unit.
fn empty_summary(
    suite: &Suite,
    target: &str,
    environment: Environment,
    load_errors: &[LoadError],
    partition: Option<Partition>,
    infrastructure_error: Option<String>,
) -> RunSummary {
    RunSummary {
        suite: suite.config.name.clone(),
        target: target.to_string(),
        environment: environment.to_string(),
        counts: engine::Counts::default(),
        duration_ms: 0.0,
        setup_ms: 0.0,
        replica_lag: Vec::new(),
        load_errors: load_errors.to_vec(),
        partition,
        infrastructure_error,
        fixtures: None,
    }
}
