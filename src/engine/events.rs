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
    /// One endpoint called with one parameter set (`assay probe`).
    Endpoint,
    /// The dashboard page: its endpoints called at once (`assay probe`).
    Page,
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

/// How long a query took, and what its budget verdict rests on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    /// Timed executions behind the figures below.
    pub runs: usize,
    pub p50_ms: f64,
    pub max_ms: f64,
    /// Only with at least 20 runs (below that a "p95" is the maximum).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p95_ms: Option<f64>,
    pub budget_ms: f64,
    /// Every timed run had its server to itself (no other assay query running there).
    #[serde(default)]
    pub solo: bool,
    /// The figure the budget verdict used, in words: `max of 3 runs (solo)`, `1 run`.
    #[serde(default)]
    pub judged: String,
}

impl Timing {
    /// The figure the budget verdict used.
    pub fn judged_ms(&self) -> f64 {
        self.p95_ms.unwrap_or(self.max_ms)
    }
}

/// An execution of the query beyond the checked one, and why it happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rerun {
    /// `timing` (solo timed runs), `explain_analyze` (executed under EXPLAIN
    /// ANALYZE), `text_output` (executed again to read a column as text).
    pub kind: String,
    pub count: usize,
    pub why: String,
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
    /// The plan (`EXPLAIN ... FORMAT JSON`) of a query above half its budget.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<serde_json::Value>,
    /// Executions of the query beyond the checked one (none in a default
    /// run unless a documented rule asked for them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reruns: Vec<Rerun>,
    pub outcomes: Vec<Outcome>,
    /// Values the unit measured (table checks' metrics, row counts, lags).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metrics: Vec<crate::metrics::MetricValue>,
}

impl UnitResult {
    /// A unit of `kind` for `check` that has judged nothing yet (verdict
    /// pass, no outcomes); callers fill in where it ran and with what.
    pub fn blank(kind: UnitKind, check: impl Into<String>, severity: Severity) -> UnitResult {
        UnitResult {
            check: check.into(),
            target: String::new(),
            kind,
            file: String::new(),
            endpoint: None,
            param_set: String::new(),
            params: BTreeMap::new(),
            severity,
            verdict: Verdict::Pass,
            rows: None,
            timing: None,
            plan: None,
            reruns: Vec::new(),
            outcomes: Vec::new(),
            metrics: Vec::new(),
        }
    }

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
    /// Problems found while loading the suite (the rest of it still ran).
    #[serde(default)]
    pub load_errors: Vec<LoadError>,
    /// The share of the suite this run covered (`--partition hash:K/N`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<Partition>,
    /// Why the run could not finish (its exit code is then 3): the database
    /// could not be started, reached, or went away.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub infrastructure_error: Option<String>,
    /// How the database got its fixtures: `cached`, `loaded`, `external`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixtures: Option<crate::db::fixtures::FixtureSource>,
}

/// An input problem: file, line and column where known, the message, the fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoadError {
    pub file: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl LoadError {
    /// `file:line:column: message`, as editors understand it.
    pub fn located(&self) -> String {
        let mut s = self.file.clone();
        if let Some(l) = self.line {
            s.push_str(&format!(":{l}"));
            if let Some(c) = self.column {
                s.push_str(&format!(":{c}"));
            }
        }
        format!("{s}: {}", self.message)
    }
}

impl From<&crate::error::InputError> for LoadError {
    fn from(e: &crate::error::InputError) -> Self {
        LoadError {
            file: e.file.display().to_string(),
            line: e.line,
            column: e.column,
            message: e.message.clone(),
            help: e.help.clone(),
        }
    }
}

/// Share `k` of `n` of a partitioned run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Partition {
    pub k: u64,
    pub n: u64,
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
