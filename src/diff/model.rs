//! What `assay diff` found: plain data, serialised as `assay.diff/v1` and
//! rendered by every report format.

use crate::compare::Comparison;
use crate::timing::TimingStats;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const SCHEMA: &str = "assay.diff/v1";

/// The verdict of one check × parameter set, worst last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The two query files are the same text: nothing was run.
    Unchanged,
    /// Same columns, same rows (in the same order where the query orders).
    Same,
    /// Same rows in another order, under the current query's ORDER BY.
    OrderOnly,
    /// Different columns or rows.
    Different,
    /// A side failed.
    Error,
}

impl Verdict {
    pub fn label(&self) -> &'static str {
        match self {
            Verdict::Unchanged => "UNCHANGED",
            Verdict::Same => "SAME",
            Verdict::OrderOnly => "ORDER",
            Verdict::Different => "DIFF",
            Verdict::Error => "ERROR",
        }
    }
    /// In words, for summaries.
    pub fn words(&self) -> &'static str {
        match self {
            Verdict::Unchanged => "unchanged",
            Verdict::Same => "same",
            Verdict::OrderOnly => "same rows, different order",
            Verdict::Different => "different",
            Verdict::Error => "error",
        }
    }
}

/// Which side of a comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Base,
    Current,
    Both,
}

impl Side {
    pub fn words(&self) -> &'static str {
        match self {
            Side::Base => "base",
            Side::Current => "current",
            Side::Both => "both sides",
        }
    }
}

/// Why a side did not give an output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SideErrors {
    pub side: Side,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<String>,
}

/// Where the row key came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyUsed {
    pub columns: Vec<String>,
    /// `diff.key` or `expect.unique`.
    pub from: String,
}

/// Each side's time and how they compare.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Speed {
    pub base: TimingStats,
    pub current: TimingStats,
    /// current p50 / base p50: below 1 the rewrite is faster.
    pub ratio: f64,
    /// How the figures were taken, in words: `1 run each`,
    /// `5 solo runs each, sides alternated`.
    pub measured: String,
    /// Past `--max-slowdown` (and its noise floor).
    #[serde(default)]
    pub slower: bool,
}

/// The plans of the two sides, as bench fingerprints them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanChange {
    pub base: String,
    pub current: String,
    /// The strategy differs (access method per relation, join methods).
    pub changed: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<String>,
    /// `explain` (estimated, nothing executed) or `explain_analyze`.
    pub from: String,
}

/// One check × parameter set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub check: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// The query file, relative to the SQL directory.
    pub query: String,
    pub param_set: String,
    pub params: BTreeMap<String, serde_json::Value>,
    pub verdict: Verdict,
    /// Why a difference is expected (`--expect-different`, or the check
    /// file's `diff.expect_different`): it is reported and passes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged: Option<String>,
    /// Counts toward exit 0.
    pub passes: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comparison: Option<Comparison>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<SideErrors>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<KeyUsed>,
    /// The current query's ORDER BY columns (ties among them are allowed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_keys: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speed: Option<Speed>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<PlanChange>,
    /// How the comparison was made where it matters (the key was not in the
    /// output, the ORDER BY columns are unknown so no ties are allowed, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl Entry {
    pub fn label(&self) -> String {
        format!("{} [{}]", self.check, self.param_set)
    }
}

/// A query present on one side only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OneSided {
    /// The check that runs it (none for a query only the base has).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    pub query: String,
}

/// Where the base came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaseInfo {
    /// `sql_dir` or `git_ref`.
    pub kind: String,
    /// The directory, or the revision as given.
    pub source: String,
    /// The commit a git revision resolved to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
}

impl BaseInfo {
    pub fn describe(&self) -> String {
        match &self.commit {
            Some(c) => format!("{} ({})", self.source, &c[..c.len().min(12)]),
            None => self.source.clone(),
        }
    }
}

/// Counts by verdict.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub unchanged: usize,
    pub same: usize,
    pub order_only: usize,
    pub different: usize,
    pub error: usize,
    /// Differences and base-side errors that were expected.
    pub acknowledged: usize,
    /// Past --max-slowdown.
    pub slower: usize,
    /// Entries that do not pass: the run exits 1 when this is not 0.
    pub failing: usize,
}

/// A check that was selected but not compared here, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotRun {
    pub check: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiffReport {
    pub schema: String,
    pub suite: String,
    pub base: BaseInfo,
    /// The current queries' directory (relative to the suite root).
    pub current: String,
    /// The database (host:port/db, never credentials).
    pub target: String,
    /// `fixtures`, `scale N: V rows in R generated with seed S`, or `database as it is`.
    pub data: String,
    /// Timed runs per side beyond the compared execution (0: none).
    pub timing_runs: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_slowdown: Option<f64>,
    /// The noise floor of `--max-slowdown`: smaller slowdowns never fail.
    pub min_slowdown_ms: f64,
    pub entries: Vec<Entry>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub added: Vec<OneSided>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<OneSided>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_run: Vec<NotRun>,
    /// `--expect-different` names whose every set came out the same.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expected_but_same: Vec<String>,
    pub counts: Counts,
    pub setup_ms: f64,
    pub duration_ms: f64,
    /// Why the diff could not finish (exit 3): the database could not be
    /// started or reached, or went away. Entries hold what did not need it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub infrastructure_error: Option<String>,
}

impl DiffReport {
    /// Nothing differs unexpectedly, nothing failed, nothing got too slow.
    pub fn passes(&self) -> bool {
        self.counts.failing == 0 && self.infrastructure_error.is_none()
    }

    /// Queries (checks) compared.
    pub fn checks(&self) -> usize {
        let mut names: Vec<&str> = self.entries.iter().map(|e| e.check.as_str()).collect();
        names.dedup();
        names.len()
    }
}
