//! Metric values as reports carry them, and the rules that judge them, with
//! every default in one place (`defaults`).

use crate::suite::{CompareOp, Severity};
use chrono::{DateTime, Datelike, NaiveDate, Utc, Weekday};
use serde::{Deserialize, Serialize};

/// The defaults of every metric rule. docs/check-files.md lists the same
/// numbers; change both together.
pub mod defaults {
    /// A value further than this many deviations from the expected value is anomalous.
    pub const SENSITIVITY: f64 = 3.0;
    /// Values (days of a series, or earlier runs) the expected value is computed from.
    pub const TRAINING: usize = 14;
    /// The same with `seasonality: day_of_week` (four of each weekday).
    pub const TRAINING_SEASONAL: usize = 28;
    /// Fewer training values than this: the point is not judged (and says so).
    pub const MIN_TRAINING: usize = 7;
    /// The same with `seasonality: day_of_week` (two of each weekday).
    pub const MIN_TRAINING_SEASONAL: usize = 14;
    /// The newest days of a series that a run judges; also how many values
    /// just before a point are left out of its training window, minus one.
    pub const DETECTION: usize = 2;
    /// The deviation is never taken below this fraction of |expected| ...
    pub const MIN_DEVIATION_RELATIVE: f64 = 0.01;
    /// ... nor below this absolute amount (in the metric's unit).
    pub const MIN_DEVIATION_ABSOLUTE: f64 = 0.001;
    /// Days a `per_day` series reads back from its latest day, at least
    /// training + detection.
    pub const DAYS: u32 = 35;
}

/// Which way a value must move to count.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    #[default]
    Both,
    Up,
    Down,
}

impl Direction {
    pub fn label(&self) -> &'static str {
        match self {
            Direction::Both => "both",
            Direction::Up => "up",
            Direction::Down => "down",
        }
    }
    /// Whether a signed movement `delta` goes the watched way.
    pub fn watches(&self, delta: f64) -> bool {
        match self {
            Direction::Both => true,
            Direction::Up => delta > 0.0,
            Direction::Down => delta < 0.0,
        }
    }
}

/// Repeating patterns the expected value accounts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Seasonality {
    /// Compare a Sunday with earlier Sundays (the weekday's own mean), with a
    /// deviation pooled over all weekdays.
    DayOfWeek,
}

/// `anomaly:` — a z-score against a trailing training window.
#[derive(Debug, Clone, PartialEq)]
pub struct AnomalyRule {
    pub sensitivity: f64,
    pub training: usize,
    pub min_training: usize,
    pub detection: usize,
    pub direction: Direction,
    pub seasonality: Option<Seasonality>,
    pub min_deviation_relative: f64,
    pub min_deviation_absolute: f64,
    pub severity: Severity,
}

impl Default for AnomalyRule {
    fn default() -> Self {
        AnomalyRule {
            sensitivity: defaults::SENSITIVITY,
            training: defaults::TRAINING,
            min_training: defaults::MIN_TRAINING,
            detection: defaults::DETECTION,
            direction: Direction::Both,
            seasonality: None,
            min_deviation_relative: defaults::MIN_DEVIATION_RELATIVE,
            min_deviation_absolute: defaults::MIN_DEVIATION_ABSOLUTE,
            severity: Severity::Warn,
        }
    }
}

impl AnomalyRule {
    /// The defaults for a rule with this seasonality (longer training with
    /// day-of-week seasonality, so every weekday has several values).
    pub fn with_seasonality(seasonality: Option<Seasonality>) -> Self {
        let mut r = AnomalyRule {
            seasonality,
            ..Default::default()
        };
        if seasonality.is_some() {
            r.training = defaults::TRAINING_SEASONAL;
            r.min_training = defaults::MIN_TRAINING_SEASONAL;
        }
        r
    }
}

/// `change:` — against the previous value (previous day, or previous run).
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeRule {
    /// Largest allowed change in percent of the previous value.
    pub max_pct: Option<f64>,
    /// Largest allowed change in the metric's unit.
    pub max: Option<f64>,
    pub direction: Direction,
    pub severity: Severity,
}

/// Fixed bounds on a value: `min`, `max`, and the older `op` + `value`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Thresholds {
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub op: Option<(CompareOp, f64)>,
}

impl Thresholds {
    pub fn is_empty(&self) -> bool {
        self.min.is_none() && self.max.is_none() && self.op.is_none()
    }
    /// None when `v` is within every bound, else what it breaks.
    pub fn violation(&self, v: f64) -> Option<String> {
        if let Some(m) = self.min {
            if v < m {
                return Some(format!("below the minimum {}", num(m)));
            }
        }
        if let Some(m) = self.max {
            if v > m {
                return Some(format!("above the maximum {}", num(m)));
            }
        }
        if let Some((op, x)) = self.op {
            if !op.holds(v, x) {
                return Some(format!("expected {} {}", op.symbol(), num(x)));
            }
        }
        None
    }
    /// The bounds as text: `>= 30, <= 100`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(m) = self.min {
            parts.push(format!(">= {}", num(m)));
        }
        if let Some(m) = self.max {
            parts.push(format!("<= {}", num(m)));
        }
        if let Some((op, x)) = self.op {
            parts.push(format!("{} {}", op.symbol(), num(x)));
        }
        parts.join(", ")
    }
}

/// Rules on how a measured value moves: across the days of a series, or
/// across runs (read from the history).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Watch {
    pub change: Option<ChangeRule>,
    pub anomaly: Option<AnomalyRule>,
}

impl Watch {
    pub fn is_empty(&self) -> bool {
        self.change.is_none() && self.anomaly.is_none()
    }
    /// The newest days of a series that are judged.
    pub fn detection(&self) -> usize {
        self.anomaly
            .as_ref()
            .map(|a| a.detection)
            .unwrap_or(defaults::DETECTION)
    }
}

/// Why a value is or is not anomalous, with the numbers behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    pub anomalous: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<f64>,
    /// expected - sensitivity × deviation
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low: Option<f64>,
    /// expected + sensitivity × deviation
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub high: Option<f64>,
    /// (value - expected) / deviation
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// How many values the expectation was computed from.
    pub training: usize,
    pub why: String,
}

/// One measured value, as the JSON report and the history carry it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricValue {
    /// The rule's name (`shipped_pct`, `row_count`, `freshness(date)`).
    pub name: String,
    /// The day of the data it belongs to (series over the data's own time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day: Option<NaiveDate>,
    /// The value of the split (`by:`), e.g. the channel; `(null)` for NULL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dimension: Option<String>,
    pub value: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// The thresholds in force (for charts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// True for values this run judged (the newest days of a series, or the
    /// run's own value); the others are context.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub judged: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anomaly: Option<Explanation>,
}

impl MetricValue {
    pub fn new(name: &str, value: f64) -> Self {
        MetricValue {
            name: name.to_string(),
            day: None,
            dimension: None,
            value,
            unit: None,
            min: None,
            max: None,
            judged: false,
            anomaly: None,
        }
    }
    /// `name`, `name [web]`.
    pub fn label(&self) -> String {
        match &self.dimension {
            Some(d) => format!("{} [{d}]", self.name),
            None => self.name.clone(),
        }
    }
}

/// An earlier run's value: when, what, and its score if it was anomalous.
pub type PriorValue = (DateTime<Utc>, f64, Option<f64>);

/// Earlier runs' values of the metrics measured once per run, read from the
/// history before a run: by (target, check, metric), oldest first.
#[derive(Debug, Clone, Default)]
pub struct PriorRuns {
    pub values: std::collections::BTreeMap<(String, String, String), Vec<PriorValue>>,
}

impl PriorRuns {
    pub fn get(&self, target: &str, check: &str, metric: &str) -> &[PriorValue] {
        self.values
            .get(&(target.to_string(), check.to_string(), metric.to_string()))
            .map(|v| v.as_slice())
            .unwrap_or(&[])
    }
}

/// Where a value sits in time: a day of the data, or the time of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum At {
    Day(NaiveDate),
    Run(DateTime<Utc>),
}

impl At {
    pub fn weekday(&self) -> Weekday {
        match self {
            At::Day(d) => d.weekday(),
            At::Run(t) => t.weekday(),
        }
    }
    pub fn label(&self) -> String {
        match self {
            At::Day(d) => d.to_string(),
            At::Run(t) => t.format("%Y-%m-%d %H:%M").to_string(),
        }
    }
}

/// Numbers in messages: integers without decimals, others with up to 4
/// significant decimals.
pub fn num(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    if v == v.trunc() && v.abs() < 1e15 {
        return format!("{}", v as i64);
    }
    let digits = if v.abs() >= 100.0 {
        1
    } else if v.abs() >= 1.0 {
        2
    } else {
        4
    };
    let s = format!("{v:.digits$}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}
