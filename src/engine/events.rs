//! What the engine tells reporters. Reporters see only these.

use crate::checks::{Outcome, Status};
use crate::suite::Severity;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UnitKind {
    /// One query check under one parameter set.
    Query,
    /// Relations across a query check's parameter sets.
    Relations,
    /// A table check.
    Table,
}

/// The overall verdict of a unit, taking severities into account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Skip,
    Warn,
    Fail,
    Error,
}

impl Verdict {
    pub fn label(&self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Skip => "SKIP",
            Verdict::Warn => "WARN",
            Verdict::Fail => "FAIL",
            Verdict::Error => "ERROR",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Timing {
    pub runs: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub max_ms: f64,
    pub budget_ms: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UnitResult {
    pub check: String,
    /// The database it ran on (host:port/database, never credentials).
    #[serde(default)]
    pub target: String,
    pub kind: UnitKind,
    pub file: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    pub param_set: String,
    pub params: BTreeMap<String, serde_json::Value>,
    pub severity: Severity,
    pub verdict: Verdict,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timing: Option<Timing>,
    /// `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)` for queries above half their budget.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<serde_json::Value>,
    pub outcomes: Vec<Outcome>,
}

impl UnitResult {
    /// Computes the verdict from the outcomes.
    pub fn settle(&mut self) {
        let blocking = |s: Status| {
            self.outcomes
                .iter()
                .any(|o| o.status == s && o.severity == Severity::Error)
        };
        let any = |s: Status| self.outcomes.iter().any(|o| o.status == s);
        self.verdict = if blocking(Status::Error) {
            Verdict::Error
        } else if blocking(Status::Fail) {
            Verdict::Fail
        } else if any(Status::Fail) || any(Status::Error) {
            Verdict::Warn
        } else if !self.outcomes.is_empty()
            && self.outcomes.iter().all(|o| o.status == Status::Skip)
        {
            Verdict::Skip
        } else {
            Verdict::Pass
        };
    }
    pub fn label(&self) -> String {
        if self.param_set.is_empty() {
            self.check.clone()
        } else {
            format!("{} [{}]", self.check, self.param_set)
        }
    }
    /// The label with the target, for runs against several databases.
    pub fn label_on_target(&self, several: bool) -> String {
        if several {
            format!("{} @ {}", self.label(), self.target)
        } else {
            self.label()
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Counts {
    pub passed: usize,
    pub failed: usize,
    pub warned: usize,
    pub errored: usize,
    pub skipped: usize,
}

impl Counts {
    pub fn add(&mut self, v: Verdict) {
        match v {
            Verdict::Pass => self.passed += 1,
            Verdict::Fail => self.failed += 1,
            Verdict::Warn => self.warned += 1,
            Verdict::Error => self.errored += 1,
            Verdict::Skip => self.skipped += 1,
        }
    }
    pub fn total(&self) -> usize {
        self.passed + self.failed + self.warned + self.errored + self.skipped
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunSummary {
    pub suite: String,
    pub target: String,
    pub environment: String,
    pub counts: Counts,
    pub duration_ms: f64,
    pub setup_ms: f64,
    /// Seconds each standby target was behind its primary when the run started.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replica_lag: Vec<ReplicaLag>,
    /// Input errors found while loading (the rest of the suite still ran).
    pub input_errors: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReplicaLag {
    pub target: String,
    pub seconds: f64,
}

pub enum Event<'a> {
    RunStarted {
        suite: &'a str,
        target: &'a str,
        units: usize,
        several_targets: bool,
    },
    UnitFinished(&'a UnitResult),
    RunFinished(&'a RunSummary),
}

/// A consumer of events: one per output format.
pub trait Reporter: Send {
    fn on_event(&mut self, event: &Event<'_>);
    /// Writes anything held back until the end. Errors are IO errors.
    fn finish(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
