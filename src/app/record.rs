//! `assay run --history LOCATION [--notify KIND=URL] [--keep 90d]`: the run
//! is recorded however it ends (exit 0 to 3: a nightly job that broke is
//! news), alerts about what is new go out, and old runs are removed.

use super::run::{self, Hooks};
use crate::cli::RunArgs;
use crate::db::url;
use crate::error::{exit_code, AppError};
use crate::history::{self, digest, record, Collector, RunRecord, Store};
use crate::metrics::PriorRuns;
use crate::notify::{self, Receiver};
use std::path::Path;
use std::sync::Arc;

/// How far back a run reads earlier runs (per-run anomaly rules, alerts)
/// when `--keep` does not say.
const LOOKBACK_DAYS: i64 = 400;

pub(super) async fn run(root: &Path, args: RunArgs) -> Result<i32, AppError> {
    if args.history.is_none() && args.notify.is_empty() {
        for (flag, set) in [
            ("--keep", args.keep.is_some()),
            ("--run-id", args.run_id.is_some()),
        ] {
            if set {
                return Err(AppError::Usage(format!(
                    "{flag} goes with --history LOCATION"
                )));
            }
        }
        return run::run(root, args, &mut Hooks::default()).await;
    }
    let clock = std::time::Instant::now();
    let now = history::now()?;
    let receivers = args
        .notify
        .iter()
        .map(|s| Receiver::parse(s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(AppError::Usage)?;
    let keep = match &args.keep {
        Some(k) if args.history.is_some() => Some(history::cutoff("--keep", k, now)?),
        Some(_) => {
            return Err(AppError::Usage(
                "--keep goes with --history LOCATION".into(),
            ))
        }
        None => None,
    };
    let store: Option<Box<dyn Store>> = match &args.history {
        Some(location) => {
            refuse_target_url(location, &args.database_urls)?;
            Some(history::open(location, true).await?)
        }
        None => None,
    };
    let since = keep.unwrap_or(now - chrono::Duration::days(LOOKBACK_DAYS));
    let earlier = match &store {
        Some(s) => s.load(Some(since)).await?,
        None => history::Loaded::default(),
    };
    for p in &earlier.problems {
        crate::tell!("warning: history: {p}");
    }
    let collector = Collector::default();
    let mut hooks = Hooks {
        collector: Some(collector.clone()),
        now: Some(now),
        prior: store
            .as_ref()
            .map(|_| Arc::new(prior_runs(&earlier.records))),
        history_db: store.as_ref().and_then(|s| s.database().cloned()),
        ..Default::default()
    };
    let partition = args.partition.clone();
    let explicit_id = args.run_id.clone();
    let result = run::run(root, args, &mut hooks).await;
    if hooks.history_is_target {
        if let Some(s) = &store {
            s.close().await;
        }
        return result;
    }
    let finished = now
        + chrono::Duration::from_std(clock.elapsed()).unwrap_or_else(|_| chrono::Duration::zero());
    let mut rec = RunRecord::new(
        record::run_id(explicit_id.as_deref(), partition.is_some(), now),
        now,
        hooks.suite.clone().unwrap_or_else(|| suite_name(root)),
    );
    rec.finished_at = finished;
    rec.version = record::git_version(root);
    rec.sql_fingerprint = hooks.fingerprint.clone();
    rec.partition = partition;
    rec.targets = hooks.targets.clone();
    rec.absorb(collector.take());
    match &result {
        Ok(code) => rec.exit_code = *code,
        Err(e) => {
            rec.exit_code = e.exit_code();
            rec.error = Some(url::redact(&e.to_string()));
        }
    }
    if !receivers.is_empty() {
        let mut records = earlier.records;
        records.push(rec.clone());
        let d = digest::digest(records, "", Vec::new());
        if let Some(m) = notify::payload::message(&d) {
            rec.notify_errors = notify::send(&receivers, &m).await;
            for e in &rec.notify_errors {
                crate::tell!("warning: alert not delivered: {e}");
            }
        }
    }
    let Some(store) = store else {
        return result;
    };
    let stored = store.append(&rec).await;
    let pruned = match (&stored, keep) {
        (Ok(()), Some(before)) => store.prune(before).await.map(Some),
        _ => Ok(None),
    };
    store.close().await;
    if let Err(e) = stored.and(pruned.map(|_| ())) {
        let msg = match e {
            history::HistoryError::Input(m) | history::HistoryError::Infrastructure(m) => m,
        };
        crate::tell!("error: the run was not recorded: {msg}");
        // A nightly report missing a run is an infrastructure problem.
        return Ok(exit_code::INFRASTRUCTURE.max(result.as_ref().map(|c| *c).unwrap_or(0)));
    }
    result
}

/// Refuses `--history` naming one of the `--database-url` targets (the same
/// host, port and database), before anything connects; identities are
/// compared again once both are connected.
fn refuse_target_url(location: &str, targets: &[String]) -> Result<(), AppError> {
    if !history::is_database_url(location) {
        return Ok(());
    }
    let Ok(h) = url::options(location) else {
        return Ok(());
    };
    let label = url::label(&h);
    for t in targets {
        if url::options(t).is_ok_and(|o| url::label(&o) == label) {
            return Err(AppError::Usage(format!(
                "--history names {label}, which is also a --database-url under test; \
                 keep the history in a database of its own or a directory"
            )));
        }
    }
    Ok(())
}

/// The suite's name for a run that ended before the suite loaded.
fn suite_name(root: &Path) -> String {
    std::fs::read_to_string(root.join(crate::suite::CONFIG_FILE))
        .ok()
        .and_then(|t| serde_yaml_ng::from_str::<serde_yaml_ng::Value>(&t).ok())
        .and_then(|v| v.get("name").and_then(|n| n.as_str()).map(str::to_string))
        .unwrap_or_else(|| {
            root.canonicalize()
                .ok()
                .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                .unwrap_or_else(|| "suite".into())
        })
}

/// Earlier runs' values of metrics measured once per run.
pub(super) fn prior_runs(records: &[RunRecord]) -> PriorRuns {
    let mut p = PriorRuns::default();
    let mut sorted: Vec<&RunRecord> = records.iter().collect();
    sorted.sort_by_key(|r| r.started_at);
    for r in sorted {
        for u in &r.units {
            for m in u.unit.metrics.iter().filter(|m| m.day.is_none()) {
                p.values
                    .entry((
                        crate::db::stable_label(&u.unit.target),
                        u.unit.check.clone(),
                        m.name.clone(),
                    ))
                    .or_default()
                    .push((
                        r.started_at,
                        m.value,
                        m.anomaly
                            .as_ref()
                            .filter(|e| e.anomalous)
                            .and_then(|e| e.score),
                    ));
            }
        }
    }
    p
}
