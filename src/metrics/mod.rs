//! Metric values and the rules that judge them: thresholds, change against
//! the previous value, anomaly scores over a trailing training window. Pure:
//! no IO; the engine measures, these judge, the history keeps.

pub mod anomaly;
pub mod model;
pub mod rules;

pub use model::*;
pub use rules::{judge_days, judge_run, DaySeries, MetricSpec, Prior};
