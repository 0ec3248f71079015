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
