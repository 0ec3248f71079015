//! `assay merge` of `assay mutate --partition hash:K/N --format json=...`
//! reports: one report of every partition, each exactly once, of the same
//! run (suite, operators, sample, minimum score, plan).

use super::outputs;
use crate::cli::MergeArgs;
use crate::error::{AppError, InputError};
use crate::mutate::model::{Partition, Report, SCHEMA};
use crate::mutate::report;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The schema a JSON report file names, if it is readable JSON with one.
fn schema_of(text: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    v.get("schema")?.as_str().map(str::to_string)
}

/// Merges the reports when they are mutation reports; None otherwise (the
/// run-report merge handles them).
pub fn merge_if_mutate(args: &MergeArgs) -> Result<Option<i32>, AppError> {
    let mut texts = Vec::new();
    for p in &args.reports {
        match std::fs::read_to_string(p) {
            Ok(t) => texts.push((p.clone(), t)),
            Err(_) => return Ok(None),
        }
    }
    let is_mutate: Vec<bool> = texts
        .iter()
        .map(|(_, t)| schema_of(t).as_deref() == Some(SCHEMA))
        .collect();
    if !is_mutate.iter().any(|m| *m) {
        return Ok(None);
    }
    let mut errors = Vec::new();
    let mut reports: Vec<(PathBuf, Report)> = Vec::new();
    for ((path, text), m) in texts.iter().zip(&is_mutate) {
        if !m {
            errors.push(
                InputError::new(
                    path,
                    "not an `assay mutate` report; it cannot be merged with one",
                )
                .help("merge the reports of one command at a time"),
            );
            continue;
        }
        match report::parse_json(text) {
            Ok(r) => reports.push((path.clone(), r)),
            Err(e) => errors.push(InputError::new(
                path,
                format!("unreadable mutation report: {e}"),
            )),
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Input(errors));
    }
    let merged = merge(reports)?;
    let specs = outputs::specs(&args.formats)?;
    if let Some(dir) = &args.out_dir {
        outputs::write_mutants_out(dir, &merged)?;
    }
    outputs::write_reports(&specs, &merged)?;
    Ok(Some(super::exit_for(&merged)))
}

/// One report from the partitions of one run.
pub fn merge(reports: Vec<(PathBuf, Report)>) -> Result<Report, AppError> {
    let bad = |path: &PathBuf, msg: String, help: &str| {
        AppError::Input(vec![InputError::new(path, msg).help(help.to_string())])
    };
    let Some((first_path, first)) = reports.first().cloned() else {
        return Err(AppError::Usage("no report to merge".into()));
    };
    let Some(n) = first.partition_count else {
        if reports.len() == 1 {
            return Ok(first);
        }
        return Err(bad(
            &first_path,
            "not a partitioned run: it cannot be merged with other reports".into(),
            "merge the reports of `assay mutate --partition hash:K/N`, one per K",
        ));
    };
    let mut seen: BTreeMap<u64, PathBuf> = BTreeMap::new();
    for (path, r) in &reports {
        let same_run = r.suite == first.suite
            && r.operators == first.operators
            && r.sample == first.sample
            && r.partition_count == Some(n)
            && r.planned == first.planned
            && r.min_score == first.min_score;
        if !same_run {
            return Err(bad(
                path,
                format!(
                    "not a partition of the same run as {} (suite, operators, sample, partition count, plan and --min-score must match)",
                    first_path.display()
                ),
                "merge the reports of one `assay mutate` command run with --partition hash:1/N .. hash:N/N",
            ));
        }
        for p in &r.partitions {
            if let Some(other) = seen.insert(p.k, path.clone()) {
                return Err(bad(
                    path,
                    format!(
                        "partition {}/{n} appears twice (also in {})",
                        p.k,
                        other.display()
                    ),
                    "give each partition's report once",
                ));
            }
        }
    }
    let missing: Vec<String> = (1..=n)
        .filter(|k| !seen.contains_key(k))
        .map(|k| format!("{k}/{n}"))
        .collect();
    if !missing.is_empty() {
        return Err(bad(
            &first_path,
            format!("partition {} missing", missing.join(", ")),
            "merge the reports of every partition, hash:1/N to hash:N/N",
        ));
    }
    let mut merged = first.clone();
    merged.partitions = (1..=n).map(|k| Partition { k, n }).collect();
    merged.queries.clear();
    merged.skipped.clear();
    merged.baseline_failures.clear();
    merged.outcomes.clear();
    merged.duration_ms = 0.0;
    for (_, r) in reports {
        for q in r.queries {
            if !merged.queries.iter().any(|m| m.file == q.file) {
                merged.queries.push(q);
            }
        }
        for s in r.skipped {
            if !merged.skipped.contains(&s) {
                merged.skipped.push(s);
            }
        }
        for b in r.baseline_failures {
            if !merged.baseline_failures.contains(&b) {
                merged.baseline_failures.push(b);
            }
        }
        merged.outcomes.extend(r.outcomes);
        merged.duration_ms = merged.duration_ms.max(r.duration_ms);
    }
    merged.queries.sort_by(|a, b| a.file.cmp(&b.file));
    let order: BTreeMap<String, usize> = merged
        .queries
        .iter()
        .enumerate()
        .map(|(i, q)| (q.file.clone(), i))
        .collect();
    merged.outcomes.sort_by(|a, b| {
        let key = |o: &crate::mutate::Outcome| {
            (
                order.get(&o.mutant.file).copied().unwrap_or(usize::MAX),
                o.mutant.start,
                o.mutant.operator,
                o.mutant.replacement.clone(),
                o.mutant.description.clone(),
            )
        };
        key(a).cmp(&key(b))
    });
    Ok(merged)
}
