//! Stryker's mutation-testing-report-schema (the fields its 3.x package
//! requires, plus the optional ones that carry our information), so
//! standard report viewers show the mutants over each query's source.
//!
//! Status mapping: caught -> Killed, missed -> Survived, timeout -> Timeout,
//! unviable -> CompileError, no difference on fixtures -> Ignored (with the
//! reason), so Stryker's own score (killed + timeout) / (killed + timeout +
//! survived + no coverage) is the same as ours.

use crate::mutate::model::{Report, Status};
use serde_json::{json, Map, Value};

pub const SCHEMA_VERSION: &str = "2.0";

fn status(s: Status) -> &'static str {
    match s {
        Status::Caught => "Killed",
        Status::Missed => "Survived",
        Status::Timeout => "Timeout",
        Status::Unviable => "CompileError",
        Status::NoDifference => "Ignored",
    }
}

pub fn to_value(r: &Report) -> Value {
    let mut files = Map::new();
    for q in &r.queries {
        let mutants: Vec<Value> = r
            .outcomes
            .iter()
            .filter(|o| o.mutant.file == q.file)
            .map(|o| {
                let m = &o.mutant;
                let mut v = json!({
                    "id": m.id,
                    "mutatorName": m.operator.name(),
                    "replacement": m.replacement,
                    "description": m.description,
                    "location": {
                        "start": {"line": m.start.line, "column": m.start.column},
                        "end": {"line": m.end.line, "column": m.end.column},
                    },
                    "status": status(o.status),
                    "coveredBy": o.checks,
                    "duration": o.duration_ms.round(),
                    "static": false,
                });
                let reason = match o.status {
                    Status::Caught => Some(o.killed_by.join("; ")),
                    Status::NoDifference => {
                        Some("no difference on fixtures: same output as the original on every parameter set".to_string())
                    }
                    Status::Missed => Some(
                        o.differences
                            .iter()
                            .map(|d| format!("differs on {} [{}]: {}", d.check, d.param_set, d.summary))
                            .collect::<Vec<_>>()
                            .join("; "),
                    ),
                    Status::Unviable | Status::Timeout => o.reason.clone(),
                };
                if let Some(reason) = reason.filter(|s| !s.is_empty()) {
                    v["statusReason"] = reason.into();
                }
                if o.status == Status::Caught {
                    // Test ids are check names; killed_by holds `check [set]: outcome`.
                    let checks: Vec<String> = o
                        .checks
                        .iter()
                        .filter(|c| {
                            o.killed_by.iter().any(|k| {
                                k.starts_with(&format!("{c} [")) || k.starts_with(&format!("{c}:"))
                            })
                        })
                        .cloned()
                        .collect();
                    v["killedBy"] = checks.into();
                }
                v
            })
            .collect();
        files.insert(
            q.file.clone(),
            json!({"language": "sql", "source": q.sql, "mutants": mutants}),
        );
    }
    let mut tests = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for q in &r.queries {
        for c in &q.checks {
            if seen.insert(c.clone()) {
                tests.push(json!({"id": c, "name": c}));
            }
        }
    }
    let high = r.min_score.clamp(0.0, 100.0).round() as i64;
    json!({
        "schemaVersion": SCHEMA_VERSION,
        "thresholds": {"high": high, "low": (high - 20).max(0)},
        "files": files,
        "testFiles": {"checks": {"tests": tests}},
        "framework": {"name": "assay", "version": env!("CARGO_PKG_VERSION")},
        "config": {
            "operators": r.operators.iter().map(|o| o.name()).collect::<Vec<_>>(),
            "sample": r.sample,
            "partitions": r.partitions,
            "minScore": r.min_score,
        },
    })
}

pub fn render(r: &Report) -> String {
    let mut s = serde_json::to_string_pretty(&to_value(r)).unwrap_or_default();
    s.push('\n');
    s
}
