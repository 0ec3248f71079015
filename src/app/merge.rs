//! `assay merge`: the JSON reports of split runs combined into one report.

use super::reports::reporters;
use crate::cli;
use crate::engine;
use crate::error::{exit_code, AppError, InputError};
use crate::report;

pub(super) fn merge(args: cli::MergeArgs) -> Result<i32, AppError> {
    if let Some(code) = super::mutate::merge_if_mutate(&args)? {
        return Ok(code);
    }
    let mut results: Vec<engine::UnitResult> = Vec::new();
    let mut summaries: Vec<engine::RunSummary> = Vec::new();
    let mut errors = Vec::new();
    for path in &args.reports {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                errors.push(InputError::new(path, format!("cannot read: {e}")));
                continue;
            }
        };
        match report::json::parse(&text) {
            Ok((s, r)) => {
                summaries.push(s);
                results.extend(r);
            }
            Err(e) => errors.push(
                InputError::new(path, format!("not an assay JSON report: {e}"))
                    .help("merge reads files written by `assay run --format json=FILE`"),
            ),
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Input(errors));
    }
    let parts: Vec<(&std::path::PathBuf, Option<engine::Partition>)> = args
        .reports
        .iter()
        .zip(&summaries)
        .map(|(p, s)| (p, s.partition))
        .collect();
    check_partitions(&parts)?;
    let mut reps = reporters(&args.formats, None, true)?;
    let mut counts = engine::Counts::default();
    for r in &results {
        counts.add(r.verdict);
    }
    let mut targets: Vec<String> = Vec::new();
    for s in &summaries {
        if !targets.contains(&s.target) {
            targets.push(s.target.clone());
        }
    }
    let summary = engine::RunSummary {
        suite: summaries
            .first()
            .map(|s| s.suite.clone())
            .unwrap_or_default(),
        target: targets.join(", "),
        environment: summaries
            .first()
            .map(|s| s.environment.clone())
            .unwrap_or_default(),
        counts,
        duration_ms: summaries.iter().map(|s| s.duration_ms).fold(0.0, f64::max),
        setup_ms: summaries.iter().map(|s| s.setup_ms).fold(0.0, f64::max),
        replica_lag: summaries
            .iter()
            .flat_map(|s| s.replica_lag.clone())
            .collect(),
        load_errors: summaries
            .iter()
            .flat_map(|s| s.load_errors.clone())
            .collect(),
        partition: None,
        infrastructure_error: summaries
            .iter()
            .filter_map(|s| s.infrastructure_error.clone())
            .reduce(|a, b| format!("{a}; {b}")),
        fixtures: None,
    };
    for r in reps.reporters.iter_mut() {
        r.on_event(&engine::Event::RunStarted {
            suite: &summary.suite,
            target: &summary.target,
            units: results.len(),
            several_targets: targets.len() > 1,
        });
        for u in &results {
            r.on_event(&engine::Event::UnitFinished(u));
        }
        r.on_event(&engine::Event::RunFinished(&summary));
    }
    reps.finish()?;
    Ok(if summary.infrastructure_error.is_some() {
        exit_code::INFRASTRUCTURE
    } else if !summary.load_errors.is_empty() {
        exit_code::INVALID_INPUT
    } else if summary.counts.failed + summary.counts.errored > 0 {
        exit_code::CHECK_FAILED
    } else {
        exit_code::OK
    })
}

/// Partitioned reports must cover every share of one split exactly once;
/// reports of unsplit runs (several targets, say) merge as they are, but the
/// two kinds do not mix.
fn check_partitions(
    parts: &[(&std::path::PathBuf, Option<engine::Partition>)],
) -> Result<(), AppError> {
    let split: Vec<_> = parts
        .iter()
        .filter_map(|(p, part)| part.map(|x| (*p, x)))
        .collect();
    if split.is_empty() {
        return Ok(());
    }
    let mut problems = Vec::new();
    if let Some((p, _)) = parts.iter().find(|(_, part)| part.is_none()) {
        problems.push(format!(
            "{} is a whole run, the others are partitions of one",
            p.display()
        ));
    }
    let n = split[0].1.n;
    if let Some((p, x)) = split.iter().find(|(_, x)| x.n != n) {
        problems.push(format!(
            "{} is part {}/{} of another split (the first report is of {n} parts)",
            p.display(),
            x.k,
            x.n
        ));
    }
    for k in 1..=n {
        let with_k: Vec<_> = split.iter().filter(|(_, x)| x.k == k && x.n == n).collect();
        match with_k.len() {
            0 => problems.push(format!("part hash:{k}/{n} is missing")),
            1 => {}
            _ => problems.push(format!(
                "part hash:{k}/{n} is given {} times ({})",
                with_k.len(),
                with_k
                    .iter()
                    .map(|(p, _)| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(AppError::Usage(format!(
            "cannot merge: {}; pass the JSON report of every partition exactly once",
            problems.join("; ")
        )))
    }
}
