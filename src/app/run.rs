//! `assay run`: the suite on one or more targets, reported in every format asked for.

use super::load;
use super::reports::reporters;
use super::targets::{close_all, target_specs};
use crate::cli::RunArgs;
use crate::db::{self, Database};
use crate::engine::{self, Selection};
use crate::error::{exit_code, AppError, InputError};
use crate::snapshot::WriteMode;
use crate::suite::{self, Suite};
use std::path::Path;
use std::time::Instant;

pub(super) async fn run(root: &Path, args: RunArgs) -> Result<i32, AppError> {
    let started = Instant::now();
    let loaded = load(root, args.sql_dir.clone())?;
    let suite: Suite = loaded.suite;
    let input_errors: Vec<String> = loaded.errors.iter().map(|e| e.to_string()).collect();
    for e in &loaded.errors {
        eprintln!("error: {e}");
    }
    let mut reps = reporters(&args.formats, args.output.as_ref(), args.no_progress)?;
    let jobs = args.jobs.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
    });
    if jobs == 0 {
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
    let specs = target_specs(&args, &suite)?;
    let opened = futures::future::join_all(
        specs
            .iter()
            .map(|s| Database::open(s, suite.config.postgres_version, jobs as u32 + 1)),
    )
    .await;
    let mut databases = Vec::new();
    let mut failure = None;
    for o in opened {
        match o {
            Ok(d) => databases.push(d),
            Err(e) => failure = failure.or(Some(e)),
        }
    }
    if let Some(e) = failure {
        close_all(databases).await;
        return Err(AppError::Infrastructure(e));
    }
    if let Some(limit) = max_lag {
        if let Some(d) = databases
            .iter()
            .find(|d| d.replica_lag_s.is_some_and(|l| l > limit.as_secs_f64()))
        {
            let msg = format!(
                "{} is {:.1} s behind its primary, more than --max-lag {}; not running checks against it",
                d.label,
                d.replica_lag_s.unwrap_or_default(),
                args.max_lag.as_deref().unwrap_or_default()
            );
            close_all(databases).await;
            return Err(AppError::Infrastructure(msg));
        }
    }
    for d in &databases {
        if d.external {
            continue;
        }
        if let Err(e) = db::setup::apply(&d.pool, &suite).await {
            close_all(databases).await;
            return Err(AppError::Input(vec![InputError::new(
                &e.file,
                format!("setup failed: {}", e.message),
            )
            .at(e.line, None)
            .help(
                "fix the schema or fixture file; setup runs in the order of `setup:` in assay.yaml",
            )]));
        }
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
        sample_rows: args.sample_rows,
        write_mode,
        environment: args
            .environment
            .map(Into::into)
            .unwrap_or(databases[0].environment),
    };
    let selection = Selection {
        filter: args.select.filter.clone(),
        tags: args.select.tags.clone(),
        partition,
    };
    let targets: Vec<&Database> = databases.iter().collect();
    let (summary, infra) = engine::run(
        &suite,
        &targets,
        &opts,
        &selection,
        setup_ms,
        input_errors,
        &mut reps,
    )
    .await;
    close_all(databases).await;
    for r in reps.iter_mut() {
        r.finish()
            .map_err(|e| AppError::Infrastructure(format!("cannot write report: {e}")))?;
    }
    if let Some(e) = infra {
        return Err(AppError::Infrastructure(format!(
            "the database was unreachable during the run (the report shows what did run): {e}"
        )));
    }
    if !loaded.errors.is_empty() {
        return Ok(exit_code::INVALID_INPUT);
    }
    Ok(if summary.counts.failed + summary.counts.errored > 0 {
        exit_code::CHECK_FAILED
    } else {
        exit_code::OK
    })
}
