//! What `assay bench` measures and reports: plain data shared by the
//! measuring code (IO), the pure judges (fingerprint, forecast, baseline) and
//! the reporters.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The shape of a query plan: which access methods touch which relation, and
/// which joins combine them. Costs, row counts and timings are left out so
/// that the fingerprint only changes when the strategy does.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Fingerprint {
    /// Relation name → access methods seen on it (`Seq Scan`,
    /// `Index Scan using orders_ordered_on_idx`, `Bitmap Heap Scan`, ...).
    pub relations: BTreeMap<String, BTreeSet<String>>,
    /// Join nodes in plan order, e.g. `Hash Join (Inner)`, `Nested Loop (Left)`.
    pub joins: Vec<String>,
}

/// One query × parameter set measured at one scale.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Measurement {
    pub check: String,
    pub param_set: String,
    /// Parameter values as JSON (null, string, number, bool, array).
    pub params: BTreeMap<String, serde_json::Value>,
    /// Multiple of the fixture volume the data was generated at.
    pub scale: f64,
    /// Rows of the volume relation at this scale (the forecast's x axis).
    pub volume: u64,
    pub budget_ms: f64,
    /// Timed runs (after warm-up).
    pub runs: usize,
    pub p50_ms: f64,
    pub max_ms: f64,
    /// Only with at least 20 timed runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p95_ms: Option<f64>,
    /// What budgets, baselines and forecasts judge: `p95_ms` when there is
    /// one, else `max_ms`.
    pub judged_ms: f64,
    /// `judged_ms` in words: `max of 5 runs`, `p95 of 20 runs`.
    #[serde(default)]
    pub judged: String,
    /// `Execution Time` reported by `EXPLAIN (ANALYZE, BUFFERS)`.
    pub server_ms: Option<f64>,
    /// Shared buffers hit + read by the plan (from BUFFERS), when reported.
    pub buffers: Option<u64>,
    /// Rows the query returned.
    pub rows: usize,
    /// The `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)` document.
    pub plan: Option<serde_json::Value>,
    pub fingerprint: Option<Fingerprint>,
    /// The query failed (or timed out); the timings are then meaningless.
    pub error: Option<String>,
    /// How many times the query was measured: 1, or more when a measurement
    /// was over its budget or slower than its baseline and was measured
    /// again to confirm it (the one with the lowest median is kept, so a
    /// failure stands only when every measurement failed).
    #[serde(default = "one")]
    pub attempts: u32,
}

fn one() -> u32 {
    1
}

/// How a measurement compares with the committed baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum BaselineStatus {
    /// No baseline entry for this check, parameter set and scale.
    New,
    /// Same plan shape, time within the allowed ratio.
    Same { baseline_ms: f64 },
    /// The plan shape differs from the baseline's.
    PlanChanged {
        baseline: Fingerprint,
        /// Human-readable differences, e.g. `events: - Index Scan using x, + Seq Scan`.
        changes: Vec<String>,
    },
    /// The time grew beyond the allowed ratio of the baseline's. `ratio` is
    /// the median over the baseline's median, divided by the scale's machine
    /// factor when slowdowns are judged relative to it.
    Slower { baseline_ms: f64, ratio: f64 },
}

/// How a query's time grows with data volume, fitted over the measured scales.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Forecast {
    /// Scales the fit used (measurements without error).
    pub points: usize,
    /// Least-squares line judged_ms = intercept_ms + ms_per_million_rows * volume / 1e6.
    pub intercept_ms: f64,
    pub ms_per_million_rows: f64,
    /// Coefficient of determination of that line (None with fewer than 3 points).
    pub r2: Option<f64>,
    /// Slope of log(time) over log(volume): ~0 flat, ~1 linear, >1 worse than linear.
    pub growth_exponent: Option<f64>,
    /// Volume at which the line reaches the budget (None: it never does,
    /// i.e. the time does not grow with volume).
    pub volume_at_budget: Option<f64>,
    /// The same as a multiple of the fixture volume.
    pub scale_at_budget: Option<f64>,
}

/// The judgement of one measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BenchVerdict {
    Pass,
    OverBudget,
    PlanChanged,
    Slower,
    Error,
}

impl BenchVerdict {
    pub fn is_failure(self) -> bool {
        self != BenchVerdict::Pass
    }
    pub fn label(self) -> &'static str {
        match self {
            BenchVerdict::Pass => "pass",
            BenchVerdict::OverBudget => "over budget",
            BenchVerdict::PlanChanged => "plan changed",
            BenchVerdict::Slower => "slower",
            BenchVerdict::Error => "error",
        }
    }
}

/// One row of the bench report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BenchRow {
    pub measurement: Measurement,
    pub baseline: BaselineStatus,
    pub verdict: BenchVerdict,
    /// budget / judged time (None when the query errored).
    pub headroom: Option<f64>,
}

/// A dataset the bench generated and measured on.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScaleInfo {
    pub scale: f64,
    pub volume: u64,
    /// Rows per relation after generation (views refreshed).
    pub relation_rows: BTreeMap<String, u64>,
    pub generate_ms: f64,
    /// With `--relative-slowdown`: the median, over this scale's measurements
    /// that have a baseline with the same plan, of median ÷ baseline median —
    /// how much slower (above 1) or faster this machine ran the suite than the
    /// machine that saved the baselines. Slowdowns are then judged against
    /// baseline × this factor. None: judged against the baselines as they are
    /// (without the flag, or with fewer than 3 such measurements).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine_factor: Option<f64>,
}

/// The whole bench run, as reporters see it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BenchReport {
    pub suite: String,
    /// The relation whose rows are the volume (`scale.volume`).
    pub volume_relation: String,
    /// Its rows at scale 1 (to turn volumes into scales).
    pub volume_per_scale: f64,
    pub scales: Vec<ScaleInfo>,
    /// Sorted by check, parameter set, scale.
    pub rows: Vec<BenchRow>,
    /// Per (check, parameter set).
    pub forecasts: BTreeMap<String, BTreeMap<String, Forecast>>,
    /// Allowed growth of the judged time over the baseline before a row is `slower`.
    pub max_slowdown: f64,
    /// A growth smaller than this never counts as slower (noise floor).
    pub min_slowdown_ms: f64,
    /// Slowdowns judged relative to each scale's `machine_factor`.
    #[serde(default)]
    pub relative_slowdown: bool,
}

impl BenchReport {
    pub fn failures(&self) -> usize {
        self.rows.iter().filter(|r| r.verdict.is_failure()).count()
    }
    pub fn forecast(&self, check: &str, param_set: &str) -> Option<&Forecast> {
        self.forecasts.get(check)?.get(param_set)
    }
}
