//! `assay merge`: the JSON reports of split runs combined into one report.

use super::reports::reporters;
use crate::cli;
use crate::engine;
use crate::error::{exit_code, AppError, InputError};
use crate::report;

pub(super) fn merge(args: cli::MergeArgs) -> Result<i32, AppError> {
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
        input_errors: summaries
            .iter()
            .flat_map(|s| s.input_errors.clone())
            .collect(),
    };
    for r in reps.iter_mut() {
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
        r.finish()
            .map_err(|e| AppError::Infrastructure(format!("cannot write report: {e}")))?;
    }
    Ok(if !summary.input_errors.is_empty() {
        exit_code::INVALID_INPUT
    } else if summary.counts.failed + summary.counts.errored > 0 {
        exit_code::CHECK_FAILED
    } else {
        exit_code::OK
    })
}
