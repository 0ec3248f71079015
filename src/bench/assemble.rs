//! Turns measurements into the bench report: each one compared with its
//! baseline entry and judged, and a forecast fitted per query × parameter set
//! over the scales. Pure.

use super::baseline::{self, Baseline, BaselineEntry};
use super::forecast;
use super::model::{BaselineStatus, BenchReport, BenchRow, BenchVerdict, Measurement, ScaleInfo};
use super::verdict;
use std::collections::BTreeMap;

/// Fewer same-plan measurements with a baseline than this give no machine
/// factor: a median of one or two ratios is one query's, not the machine's.
const MIN_FACTOR_SAMPLES: usize = 3;

/// Per (check, parameter set): the budget and the (volume, judged time) points.
type SeriesByUnit<'a> = BTreeMap<(&'a str, &'a str), (f64, Vec<(u64, f64)>)>;

pub struct Thresholds {
    pub max_slowdown: f64,
    pub min_slowdown_ms: f64,
    /// Judge slowdowns against baseline × the scale's machine factor.
    pub relative: bool,
}

/// Everything a measurement is judged against: the baselines, the
/// thresholds, and whether the run is saving them (then nothing is compared).
pub struct Judge<'a> {
    /// Check name → its baseline file (None: no file yet).
    pub baselines: &'a BTreeMap<String, Option<Baseline>>,
    pub thresholds: Thresholds,
    /// Measurements become the baseline: reported `same`, not compared.
    pub accepting: bool,
}

impl Judge<'_> {
    fn entry(&self, m: &Measurement) -> Option<&BaselineEntry> {
        self.baselines
            .get(&m.check)
            .and_then(Option::as_ref)
            .and_then(|b| b.entry(&m.param_set, m.scale))
    }

    /// How much slower this machine ran one scale's measurements than the
    /// baselines record: the median of their same-plan ratios. None unless
    /// slowdowns are relative, or with too few ratios to stand for the
    /// machine.
    pub fn machine_factor<'m>(
        &self,
        scale: impl IntoIterator<Item = &'m Measurement>,
    ) -> Option<f64> {
        if !self.thresholds.relative || self.accepting {
            return None;
        }
        let ratios = scale
            .into_iter()
            .filter_map(|m| baseline::same_plan_ratio(self.entry(m), m))
            .collect();
        machine_factor(ratios)
    }

    /// The row of one measurement on a machine `factor` times as slow as the
    /// baselines' (None: as fast).
    pub fn row(&self, m: &Measurement, factor: Option<f64>) -> BenchRow {
        let status = if self.accepting && m.error.is_none() {
            BaselineStatus::Same {
                baseline_ms: m.judged_ms,
            }
        } else {
            baseline::compare_on_machine(
                self.entry(m),
                m,
                self.thresholds.max_slowdown,
                self.thresholds.min_slowdown_ms,
                factor.unwrap_or(1.0),
            )
        };
        verdict::judge(m, &status)
    }

    /// Which of one scale's measurements are worth measuring again before
    /// they fail: over budget or slower than the baseline (a query that
    /// errs or changed plan fails whatever its time).
    pub fn to_confirm(&self, scale: &[Measurement]) -> Vec<usize> {
        let factor = self.machine_factor(scale);
        scale
            .iter()
            .enumerate()
            .filter(|(_, m)| {
                matches!(
                    self.row(m, factor).verdict,
                    BenchVerdict::OverBudget | BenchVerdict::Slower
                )
            })
            .map(|(i, _)| i)
            .collect()
    }
}

/// The median of `ratios` (each a measurement's time over its baseline's),
/// None with fewer than `MIN_FACTOR_SAMPLES`.
pub fn machine_factor(mut ratios: Vec<f64>) -> Option<f64> {
    ratios.retain(|r| r.is_finite() && *r > 0.0);
    if ratios.len() < MIN_FACTOR_SAMPLES {
        return None;
    }
    crate::timing::median(ratios)
}

/// The report: every measurement judged by `judge` against its scale's
/// machine factor, and a forecast per check × parameter set.
pub fn assemble(
    suite: &str,
    (volume_relation, volume_per_scale): (&str, f64),
    mut scales: Vec<ScaleInfo>,
    mut measurements: Vec<Measurement>,
    judge: &Judge<'_>,
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
    let same_scale = |a: f64, b: f64| (a - b).abs() <= 1e-9;
    for s in &mut scales {
        s.machine_factor =
            judge.machine_factor(measurements.iter().filter(|m| same_scale(m.scale, s.scale)));
    }
    let rows = measurements
        .into_iter()
        .map(|m| {
            let factor = scales
                .iter()
                .find(|s| same_scale(s.scale, m.scale))
                .and_then(|s| s.machine_factor);
            judge.row(&m, factor)
        })
        .collect();
    let thresholds = &judge.thresholds;
    BenchReport {
        suite: suite.to_string(),
        volume_relation: volume_relation.to_string(),
        volume_per_scale,
        scales,
        rows,
        forecasts,
        max_slowdown: thresholds.max_slowdown,
        min_slowdown_ms: thresholds.min_slowdown_ms,
        relative_slowdown: thresholds.relative,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::model::Fingerprint;

    fn fp() -> Fingerprint {
        let mut f = Fingerprint::default();
        f.relations
            .entry("t".into())
            .or_default()
            .insert("Index Scan using t_idx".into());
        f
    }

    fn m(set: &str, p50: f64) -> Measurement {
        Measurement {
            check: "q".into(),
            param_set: set.into(),
            params: BTreeMap::new(),
            scale: 1.0,
            volume: 1000,
            budget_ms: 2000.0,
            runs: 5,
            p50_ms: p50,
            judged_ms: p50 * 1.2,
            p95_ms: None,
            judged: "max of 5 runs".into(),
            max_ms: p50 * 1.2,
            server_ms: None,
            buffers: None,
            rows: 1,
            plan: None,
            fingerprint: Some(fp()),
            error: None,
            attempts: 1,
        }
    }

    /// Baselines of sets `s0`, `s1`, ... with the given medians.
    fn baselines(p50s: &[f64]) -> BTreeMap<String, Option<Baseline>> {
        let entries = p50s
            .iter()
            .enumerate()
            .map(|(i, &p50)| BaselineEntry {
                param_set: format!("s{i}"),
                scale: 1.0,
                judged_ms: p50 * 1.2,
                p50_ms: Some(p50),
                plan: fp().to_string(),
                fingerprint: fp(),
            })
            .collect();
        BTreeMap::from([(
            "q".to_string(),
            Some(Baseline {
                check: "q".into(),
                entries,
            }),
        )])
    }

    fn judge(b: &BTreeMap<String, Option<Baseline>>, relative: bool) -> Judge<'_> {
        Judge {
            baselines: b,
            thresholds: Thresholds {
                max_slowdown: 1.5,
                min_slowdown_ms: 5.0,
                relative,
            },
            accepting: false,
        }
    }

    #[test]
    fn the_machine_factor_is_the_median_ratio_of_at_least_three() {
        assert_eq!(machine_factor(vec![]), None);
        assert_eq!(machine_factor(vec![2.0, 4.0]), None);
        assert_eq!(machine_factor(vec![2.0, 9.0, 3.0]), Some(3.0));
        assert_eq!(machine_factor(vec![2.0, 9.0, 3.0, 5.0]), Some(4.0));
        // Unusable ratios do not count.
        assert_eq!(machine_factor(vec![2.0, f64::NAN, 3.0, 0.0]), None);
    }

    #[test]
    fn a_uniformly_slower_machine_fails_only_when_judged_absolutely() {
        let b = baselines(&[10.0, 20.0, 40.0, 80.0]);
        // Everything five times slower: the machine, not a query.
        let now: Vec<Measurement> = [50.0, 100.0, 200.0, 400.0]
            .iter()
            .enumerate()
            .map(|(i, &p50)| m(&format!("s{i}"), p50))
            .collect();
        assert_eq!(judge(&b, false).to_confirm(&now), vec![0, 1, 2, 3]);
        let relative = judge(&b, true);
        assert_eq!(relative.machine_factor(&now), Some(5.0));
        assert!(relative.to_confirm(&now).is_empty());
        // One query slowed down on top of the machine: only it fails.
        let mut one = now.clone();
        one[2].p50_ms = 2000.0;
        assert_eq!(relative.to_confirm(&one), vec![2]);
        let report = assemble(
            "s",
            ("t", 1000.0),
            vec![ScaleInfo {
                scale: 1.0,
                volume: 1000,
                relation_rows: BTreeMap::new(),
                generate_ms: 0.0,
                machine_factor: None,
            }],
            one,
            &relative,
        );
        assert_eq!(report.scales[0].machine_factor, Some(5.0));
        assert!(report.relative_slowdown);
        let verdicts: Vec<_> = report.rows.iter().map(|r| r.verdict).collect();
        assert_eq!(
            verdicts,
            [
                BenchVerdict::Pass,
                BenchVerdict::Pass,
                BenchVerdict::Slower,
                BenchVerdict::Pass
            ]
        );
        match &report.rows[2].baseline {
            BaselineStatus::Slower { baseline_ms, ratio } => {
                assert_eq!(*baseline_ms, 40.0);
                // 2000 ms against 40 ms × 5.
                assert!((ratio - 10.0).abs() < 1e-9, "{ratio}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn over_budget_is_confirmed_and_saving_compares_nothing() {
        let b = baselines(&[10.0]);
        let mut over = m("s0", 10.0);
        over.judged_ms = 2500.0;
        assert_eq!(judge(&b, false).to_confirm(&[over.clone()]), vec![0]);
        // A failed query or a changed plan is not measured again.
        let mut failed = m("s0", 10.0);
        failed.error = Some("timeout".into());
        let mut changed = m("s0", 10.0);
        changed.fingerprint = Some(Fingerprint::default());
        assert!(judge(&b, false).to_confirm(&[failed, changed]).is_empty());
        // Saving: a slow query is the new baseline, its budget still holds.
        let saving = Judge {
            accepting: true,
            ..judge(&b, true)
        };
        assert!(saving.to_confirm(&[m("s0", 1000.0)]).is_empty());
        assert_eq!(saving.to_confirm(&[over]), vec![0]);
        assert_eq!(saving.machine_factor(&[m("s0", 1000.0)]), None);
    }
}
