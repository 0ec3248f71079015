//! The verdict of one expectation.

use crate::suite::Severity;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Skip,
    Fail,
    Error,
}

impl Status {
    pub fn label(&self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Skip => "skip",
            Status::Fail => "fail",
            Status::Error => "error",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// The expectation's name (`share_sums_to_100`, `columns`, `snapshot`, ...).
    pub name: String,
    /// Which kind of expectation (`row_check`, `reconcile`, `budget`, ...).
    pub kind: String,
    pub status: Status,
    pub severity: Severity,
    pub message: String,
    /// Offending rows, diffs, plans: shown indented under the message.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<String>,
}

impl Outcome {
    pub fn new(
        kind: &str,
        name: &str,
        severity: Severity,
        status: Status,
        message: impl Into<String>,
    ) -> Self {
        Outcome {
            name: name.to_string(),
            kind: kind.to_string(),
            status,
            severity,
            message: message.into(),
            details: Vec::new(),
        }
    }
    pub fn pass(kind: &str, name: &str, severity: Severity, message: impl Into<String>) -> Self {
        Self::new(kind, name, severity, Status::Pass, message)
    }
    pub fn fail(kind: &str, name: &str, severity: Severity, message: impl Into<String>) -> Self {
        Self::new(kind, name, severity, Status::Fail, message)
    }
    pub fn skip(kind: &str, name: &str, severity: Severity, message: impl Into<String>) -> Self {
        Self::new(kind, name, severity, Status::Skip, message)
    }
    pub fn error(kind: &str, name: &str, severity: Severity, message: impl Into<String>) -> Self {
        Self::new(kind, name, severity, Status::Error, message)
    }
    pub fn with_details(mut self, details: Vec<String>) -> Self {
        self.details = details;
        self
    }
}
