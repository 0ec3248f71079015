//! `mutants.out/` in cargo-mutants' layout: `caught.txt`, `missed.txt`,
//! `timeout.txt`, `unviable.txt` (one mutant name per line),
//! `outcomes.json`, `mutants.json`, and `diff/<mutant>.diff`. Mutants with no
//! difference on the fixtures, which cargo-mutants does not have, are in
//! `no-difference.txt` and carry the summary `NoDifference`.

use crate::mutate::model::{Outcome, Report, Status};
use serde_json::{json, Value};
use std::path::PathBuf;

/// The file of each status list.
pub fn list_file(s: Status) -> &'static str {
    match s {
        Status::Caught => "caught.txt",
        Status::Missed => "missed.txt",
        Status::Timeout => "timeout.txt",
        Status::Unviable => "unviable.txt",
        Status::NoDifference => "no-difference.txt",
    }
}

fn summary(s: Status) -> &'static str {
    match s {
        Status::Caught => "CaughtMutant",
        Status::Missed => "MissedMutant",
        Status::Timeout => "Timeout",
        Status::Unviable => "Unviable",
        Status::NoDifference => "NoDifference",
    }
}

/// The diff file of a mutant, unique by its id.
pub fn diff_file(o: &Outcome) -> String {
    let m = &o.mutant;
    let stem: String = m
        .file
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!(
        "diff/{stem}_line_{}_col_{}_{}.diff",
        m.start.line, m.start.column, m.id
    )
}

fn mutant_json(r: &Report, o: &Outcome) -> Value {
    let m = &o.mutant;
    json!({
        "name": m.name(),
        "id": m.id,
        "file": m.file,
        "span": {
            "start": {"line": m.start.line, "column": m.start.column},
            "end": {"line": m.end.line, "column": m.end.column},
        },
        "replacement": m.replacement,
        "genre": m.operator.name(),
        "family": m.family.name(),
        "checks": o.checks,
        "diff": m.diff(r.original_sql(&m.file)),
    })
}

/// Every file of `mutants.out/`, relative to it, with its contents.
pub fn files(r: &Report) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    for s in Status::ALL {
        let mut text = String::new();
        for o in r.outcomes.iter().filter(|o| o.status == s) {
            text.push_str(&o.mutant.name());
            text.push('\n');
        }
        out.push((PathBuf::from(list_file(s)), text));
    }
    let c = r.counts();
    let baseline = if r.baseline_failures.is_empty() {
        "Success"
    } else {
        "Failure"
    };
    let mut outcomes = vec![json!({"scenario": "Baseline", "summary": baseline})];
    for o in &r.outcomes {
        let mut v = json!({
            "scenario": {"Mutant": mutant_json(r, o)},
            "summary": summary(o.status),
            "diff_path": diff_file(o),
            "duration": o.duration_ms / 1000.0,
        });
        if !o.killed_by.is_empty() {
            v["killed_by"] = o.killed_by.clone().into();
        }
        if let Some(reason) = &o.reason {
            v["reason"] = reason.clone().into();
        }
        outcomes.push(v);
    }
    let doc = json!({
        "outcomes": outcomes,
        "total_mutants": c.mutants,
        "caught": c.caught,
        "missed": c.missed,
        "timeout": c.timeout,
        "unviable": c.unviable,
        "no_difference": c.no_difference,
        "success": 0,
        "failure": 0,
        "score": c.score(),
    });
    out.push((
        PathBuf::from("outcomes.json"),
        serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n",
    ));
    let mutants: Vec<Value> = r.outcomes.iter().map(|o| mutant_json(r, o)).collect();
    out.push((
        PathBuf::from("mutants.json"),
        serde_json::to_string_pretty(&mutants).unwrap_or_default() + "\n",
    ));
    for o in &r.outcomes {
        out.push((
            PathBuf::from(diff_file(o)),
            o.mutant.diff(r.original_sql(&o.mutant.file)),
        ));
    }
    out
}
