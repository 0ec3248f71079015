//! The JSON report: versioned, stable field names, one entry per check and
//! parameter set, sorted.

use super::Sink;
use crate::engine::{Event, Reporter, RunSummary, UnitResult};
use serde::Serialize;

pub const SCHEMA: &str = "assay.report/v2";
/// Reports of earlier versions that `parse` still reads.
pub const SCHEMA_V1: &str = "assay.report/v1";

#[derive(Serialize)]
struct Document<'a> {
    schema: &'static str,
    summary: &'a RunSummary,
    results: Vec<&'a UnitResult>,
}

#[derive(serde::Deserialize)]
struct OwnedDocument {
    schema: String,
    summary: RunSummary,
    results: Vec<UnitResult>,
}

/// Reads a report written by this reporter or its v1 predecessor (for
/// `assay merge`). v1's `input_errors` (plain text) become load errors and
/// its `p95_ms` (a nearest-rank p95 of few runs: their maximum) is dropped.
pub fn parse(text: &str) -> Result<(RunSummary, Vec<UnitResult>), String> {
    let mut value: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let schema = value["schema"].as_str().unwrap_or_default().to_string();
    if schema == SCHEMA_V1 {
        upgrade_v1(&mut value);
    } else if schema != SCHEMA {
        return Err(format!(
            "schema `{schema}`, expected `{SCHEMA}` (or `{SCHEMA_V1}`)"
        ));
    }
    let doc: OwnedDocument = serde_json::from_value(value).map_err(|e| e.to_string())?;
    let _ = doc.schema;
    Ok((doc.summary, doc.results))
}

fn upgrade_v1(v: &mut serde_json::Value) {
    use serde_json::{json, Value};
    if let Some(errors) = v["summary"]
        .as_object_mut()
        .and_then(|s| s.remove("input_errors"))
    {
        let load: Vec<Value> = errors
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| json!({"file": "", "message": e.as_str().unwrap_or_default()}))
            .collect();
        v["summary"]["load_errors"] = Value::Array(load);
    }
    for r in v["results"].as_array_mut().into_iter().flatten() {
        if let Some(t) = r.get_mut("timing").and_then(Value::as_object_mut) {
            t.remove("p95_ms");
            let runs = t.get("runs").and_then(Value::as_u64).unwrap_or(1);
            t.insert(
                "judged".into(),
                Value::String(if runs == 1 {
                    "1 run".into()
                } else {
                    format!("max of {runs} runs")
                }),
            );
        }
    }
}

pub struct JsonReporter {
    out: Sink,
    results: Vec<UnitResult>,
    summary: Option<RunSummary>,
}

impl JsonReporter {
    pub fn new(out: Sink) -> Self {
        JsonReporter {
            out,
            results: Vec::new(),
            summary: None,
        }
    }
}

impl Reporter for JsonReporter {
    fn on_event(&mut self, event: &Event<'_>) {
        match event {
            Event::UnitFinished(r) => self.results.push((*r).clone()),
            Event::RunFinished(s) => self.summary = Some((*s).clone()),
            Event::RunStarted { .. } => {}
        }
    }
    fn finish(&mut self) -> std::io::Result<()> {
        let Some(summary) = &self.summary else {
            return Ok(());
        };
        let doc = Document {
            schema: SCHEMA,
            summary,
            results: super::sorted(&self.results),
        };
        serde_json::to_writer_pretty(&mut self.out, &doc)?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }
}
use std::io::Write;
