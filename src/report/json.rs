//! The JSON report: versioned, stable field names, one entry per check and
//! parameter set, sorted.

use super::Sink;
use crate::engine::{Event, Reporter, RunSummary, UnitResult};
use serde::Serialize;

pub const SCHEMA: &str = "assay.report/v1";

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

/// Reads a report written by this reporter (for `assay merge`).
pub fn parse(text: &str) -> Result<(RunSummary, Vec<UnitResult>), String> {
    let doc: OwnedDocument = serde_json::from_str(text).map_err(|e| e.to_string())?;
    if doc.schema != SCHEMA {
        return Err(format!("schema `{}`, expected `{SCHEMA}`", doc.schema));
    }
    Ok((doc.summary, doc.results))
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
