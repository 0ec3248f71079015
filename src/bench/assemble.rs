//! Turns measurements into the bench report: each one compared with its
//! baseline entry and judged, and a forecast fitted per query × parameter set
//! over the scales. Pure.

use super::baseline::{self, Baseline};
use super::forecast;
use super::model::{BaselineStatus, BenchReport, Measurement, ScaleInfo};
use super::verdict;
use std::collections::BTreeMap;

/// Per (check, parameter set): the budget and the (volume, judged time) points.
type SeriesByUnit<'a> = BTreeMap<(&'a str, &'a str), (f64, Vec<(u64, f64)>)>;

pub struct Thresholds {
    pub max_slowdown: f64,
    pub min_slowdown_ms: f64,
}

/// `baselines` maps check name → its baseline file (None: no file yet).
/// With `accepting`, measurements become the baseline: they are reported as
/// `same` instead of being compared.
pub fn assemble(
    suite: &str,
    (volume_relation, volume_per_scale): (&str, f64),
    scales: Vec<ScaleInfo>,
    mut measurements: Vec<Measurement>,
    baselines: &BTreeMap<String, Option<Baseline>>,
    thresholds: &Thresholds,
    accepting: bool,
) -> BenchReport {
    measurements.sort_by(|a, b| {
        (&a.check, &a.param_set)
            .cmp(&(&b.check, &b.param_set))
            .then(a.scale.total_cmp(&b.scale))
    });
    let mut forecasts: BTreeMap<String, BTreeMap<String, _>> = BTreeMap::new();
    let mut points: SeriesByUnit = BTreeMap::new();
    for m in measurements.iter().filter(|m| m.error.is_none()) {
        points
            .entry((&m.check, &m.param_set))
            .or_insert_with(|| (m.budget_ms, Vec::new()))
            .1
            .push((m.volume, m.judged_ms));
    }
    for ((check, set), (budget, pts)) in points {
        if let Some(f) = forecast::fit(&pts, budget, volume_per_scale) {
            forecasts
                .entry(check.to_string())
                .or_default()
                .insert(set.to_string(), f);
        }
    }
    let rows = measurements
        .into_iter()
        .map(|m| {
            let status = if accepting && m.error.is_none() {
                BaselineStatus::Same {
                    baseline_ms: m.judged_ms,
                }
            } else {
                let entry = baselines
                    .get(&m.check)
                    .and_then(Option::as_ref)
                    .and_then(|b| b.entry(&m.param_set, m.scale));
                baseline::compare(
                    entry,
                    &m,
                    thresholds.max_slowdown,
                    thresholds.min_slowdown_ms,
                )
            };
            verdict::judge(&m, &status)
        })
        .collect();
    BenchReport {
        suite: suite.to_string(),
        volume_relation: volume_relation.to_string(),
        volume_per_scale,
        scales,
        rows,
        forecasts,
        max_slowdown: thresholds.max_slowdown,
        min_slowdown_ms: thresholds.min_slowdown_ms,
    }
}
