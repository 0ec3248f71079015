//! Anomaly scores: how far a value lies from what its training window
//! expects, in deviations, with a floor under the deviation.
//!
//! Elementary scores 0 when the training values have no spread, so a series
//! that sat at 31 % and then fell to 20 % never alerts. Here the deviation is
//! never below `min_deviation_relative` × |expected| nor
//! `min_deviation_absolute`, so a drop from a constant series scores high.
//! And the values just before a point (`detection` − 1 of them) stay out of
//! its training window, so a drop lasting the detection period is not
//! absorbed into its own expectation.

use super::model::{num, AnomalyRule, At, Direction, Explanation, Seasonality};
use chrono::{Duration, Weekday};

/// The positions in `series` (sorted by `At`) of the training window of
/// point `i`: the `training` values before it, leaving out the
/// `detection − 1` just before it. Days count by the calendar (a missing day
/// is just absent from the window); runs count by position.
pub fn window_range(rule: &AnomalyRule, series: &[(At, f64)], i: usize) -> std::ops::Range<usize> {
    let gap = rule.detection.saturating_sub(1);
    match series[i].0 {
        At::Day(day) => {
            let end = day - Duration::days(gap as i64); // exclusive
            let start = end - Duration::days(rule.training as i64); // inclusive
            let lo = series.partition_point(|(a, _)| *a < At::Day(start));
            let hi = series.partition_point(|(a, _)| *a < At::Day(end));
            lo..hi.max(lo)
        }
        At::Run(_) => {
            let hi = i.saturating_sub(gap);
            let lo = hi.saturating_sub(rule.training);
            lo..hi
        }
    }
}

/// The training values of point `i` (see [`window_range`]).
pub fn training_window<'a>(
    rule: &AnomalyRule,
    series: &'a [(At, f64)],
    i: usize,
) -> &'a [(At, f64)] {
    &series[window_range(rule, series, i)]
}

/// How far beyond the sensitivity a value must be to be left out of later
/// training windows.
pub const GROSS: f64 = 2.0;

/// Scores point `i` against its window, leaving out gross anomalies
/// (`flagged`: beyond twice the sensitivity, like a day without any rows):
/// an outage does not teach what normal is. Unless they are half the window
/// or more: a lasting change of level then becomes the new normal instead
/// of alerting forever. Marginal anomalies stay in, so leaving values out
/// never snowballs into a narrower and narrower band.
pub fn explain_at(
    rule: &AnomalyRule,
    series: &[(At, f64)],
    flagged: &[bool],
    i: usize,
) -> Explanation {
    let range = window_range(rule, series, i);
    let n = range.len();
    let bad = range
        .clone()
        .filter(|&j| flagged.get(j).copied().unwrap_or(false))
        .count();
    let training: Vec<(At, f64)> = if bad > 0 && bad * 2 < n {
        range
            .filter(|&j| !flagged.get(j).copied().unwrap_or(false))
            .map(|j| series[j])
            .collect()
    } else {
        series[range].to_vec()
    };
    let mut e = explain(rule, series[i].0, series[i].1, &training);
    if bad > 0 && bad * 2 < n {
        e.why.push_str(&format!(
            " ({bad} grossly anomalous earlier value{} left out of the training)",
            if bad == 1 { "" } else { "s" }
        ));
    }
    e
}

/// Whether an explained value is a gross anomaly (left out of later windows).
pub fn is_gross(rule: &AnomalyRule, e: &Explanation) -> bool {
    e.anomalous && e.score.is_some_and(|z| z.abs() > GROSS * rule.sensitivity)
}

/// Explains every point of a series, oldest first, each against its own
/// training window (gross anomalies found on the way are left out of later
/// windows).
pub fn explain_series(rule: &AnomalyRule, series: &[(At, f64)]) -> Vec<Explanation> {
    let mut flagged = vec![false; series.len()];
    let mut out = Vec::with_capacity(series.len());
    for i in 0..series.len() {
        let e = explain_at(rule, series, &flagged, i);
        flagged[i] = is_gross(rule, &e);
        out.push(e);
    }
    out
}

fn weekday_name(w: Weekday) -> &'static str {
    match w {
        Weekday::Mon => "Mondays",
        Weekday::Tue => "Tuesdays",
        Weekday::Wed => "Wednesdays",
        Weekday::Thu => "Thursdays",
        Weekday::Fri => "Fridays",
        Weekday::Sat => "Saturdays",
        Weekday::Sun => "Sundays",
    }
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// Expected value, deviation before the floor, and a note on how the
/// expectation was formed.
fn expectation(rule: &AnomalyRule, at: At, training: &[(At, f64)]) -> (f64, f64, String) {
    let all: Vec<f64> = training.iter().map(|(_, v)| *v).collect();
    let n = all.len();
    match rule.seasonality {
        None => {
            let m = mean(&all);
            let ss: f64 = all.iter().map(|v| (v - m).powi(2)).sum();
            let dev = if n > 1 {
                (ss / (n - 1) as f64).sqrt()
            } else {
                0.0
            };
            (m, dev, format!("{n} earlier values"))
        }
        Some(Seasonality::DayOfWeek) => {
            // Each weekday its own mean; one deviation pooled over weekdays.
            let mut groups: Vec<(Weekday, Vec<f64>)> = Vec::new();
            for (a, v) in training {
                let w = a.weekday();
                match groups.iter_mut().find(|(g, _)| *g == w) {
                    Some((_, vs)) => vs.push(*v),
                    None => groups.push((w, vec![*v])),
                }
            }
            let ss: f64 = groups
                .iter()
                .map(|(_, vs)| {
                    let m = mean(vs);
                    vs.iter().map(|v| (v - m).powi(2)).sum::<f64>()
                })
                .sum();
            let dof = n.saturating_sub(groups.len());
            let dev = if dof > 0 {
                (ss / dof as f64).sqrt()
            } else {
                0.0
            };
            let w = at.weekday();
            match groups.iter().find(|(g, _)| *g == w) {
                Some((_, vs)) => (
                    mean(vs),
                    dev,
                    format!(
                        "{} earlier {} ({n} values in the window)",
                        vs.len(),
                        weekday_name(w)
                    ),
                ),
                None => (
                    mean(&all),
                    dev,
                    format!(
                        "no earlier {} in the window, so all {n} values",
                        weekday_name(w)
                    ),
                ),
            }
        }
    }
}

/// Scores `value` at `at` against `training`.
pub fn explain(rule: &AnomalyRule, at: At, value: f64, training: &[(At, f64)]) -> Explanation {
    let n = training.len();
    if n < rule.min_training.max(1) {
        return Explanation {
            anomalous: false,
            expected: None,
            low: None,
            high: None,
            score: None,
            training: n,
            why: format!(
                "not judged: {n} earlier values in the training window, {} needed",
                rule.min_training.max(1)
            ),
        };
    }
    let (expected, spread, basis) = expectation(rule, at, training);
    let floor = (rule.min_deviation_relative * expected.abs()).max(rule.min_deviation_absolute);
    let floored = spread < floor;
    let deviation = spread.max(floor);
    let score = if deviation > 0.0 {
        (value - expected) / deviation
    } else if value == expected {
        0.0
    } else {
        // Only reachable with both floors set to 0 by the user.
        f64::MAX.copysign(value - expected)
    };
    let s = rule.sensitivity;
    let anomalous = match rule.direction {
        Direction::Both => score.abs() > s,
        Direction::Up => score > s,
        Direction::Down => score < -s,
    };
    let low = expected - s * deviation;
    let high = expected + s * deviation;
    let band = format!("{}..{}", num(low), num(high));
    let floor_note = if floored {
        format!(
            "; the training values barely vary (deviation {}), so the floor {} is used",
            num(spread),
            num(floor)
        )
    } else {
        String::new()
    };
    let side = if value < low {
        "below"
    } else if value > high {
        "above"
    } else {
        "within"
    };
    let why = if anomalous {
        format!(
            "{} is {side} the expected band {band} (expected {} from {basis}, deviation {}{floor_note}): score {:.2}, beyond {}{s}",
            num(value),
            num(expected),
            num(deviation),
            score,
            match rule.direction {
                Direction::Both => "±",
                Direction::Up => "+",
                Direction::Down => "-",
            }
        )
    } else if side != "within" {
        format!(
            "{} is {side} the expected band {band} (score {:.2}), but only {} moves are watched",
            num(value),
            score,
            rule.direction.label()
        )
    } else {
        format!(
            "{} is within the expected band {band} (expected {} from {basis}{floor_note}): score {:.2}",
            num(value),
            num(expected),
            score
        )
    };
    Explanation {
        anomalous,
        expected: Some(sig(expected)),
        low: Some(sig(low)),
        high: Some(sig(high)),
        score: Some(sig(score)),
        training: n,
        why,
    }
}

/// Derived statistics keep 7 significant digits: more says nothing and
/// only grows reports and the history.
pub fn sig(v: f64) -> f64 {
    if v == 0.0 || !v.is_finite() {
        return v;
    }
    let digits = 7 - 1 - v.abs().log10().floor() as i32;
    if !(0..=15).contains(&digits) {
        return v;
    }
    let f = 10f64.powi(digits);
    (v * f).round() / f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::model::Seasonality;
    use chrono::{Datelike, NaiveDate};

    fn day(s: &str) -> At {
        At::Day(NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap())
    }

    fn days(start: &str, values: &[f64]) -> Vec<(At, f64)> {
        let At::Day(d0) = day(start) else {
            unreachable!()
        };
        values
            .iter()
            .enumerate()
            .map(|(i, v)| (At::Day(d0 + Duration::days(i as i64)), *v))
            .collect()
    }

    #[test]
    fn a_constant_series_that_drops_alerts() {
        // Elementary's blind spot: deviation 0 scores 0.
        let mut values = vec![31.0; 20];
        values.push(25.0);
        let s = days("2025-09-01", &values);
        let rule = AnomalyRule::default();
        let e = explain_series(&rule, &s);
        let last = e.last().unwrap();
        assert!(last.anomalous, "{}", last.why);
        assert!(last.why.contains("floor"), "{}", last.why);
        // 1 % of 31 is the deviation: (25 - 31) / 0.31
        assert!((last.score.unwrap() + 6.0 / 0.31).abs() < 1e-5);
        assert_eq!(sig(-19.354838709677), -19.35484);
        assert_eq!(sig(0.000123456789), 0.0001234568);
        assert!(e[..20].iter().all(|x| !x.anomalous));
    }

    #[test]
    fn a_constant_series_that_moves_slightly_does_not_alert() {
        let mut values = vec![31.0; 20];
        values.push(30.5); // within 3 × 0.31
        let e = explain_series(&AnomalyRule::default(), &days("2025-09-01", &values));
        assert!(!e.last().unwrap().anomalous);
    }

    #[test]
    fn zero_series_uses_the_absolute_floor() {
        let mut values = vec![0.0; 15];
        values.push(1.0);
        let e = explain_series(&AnomalyRule::default(), &days("2025-09-01", &values));
        let last = e.last().unwrap();
        assert!(last.anomalous);
        assert_eq!(last.score, Some(1000.0));
    }

    #[test]
    fn too_little_training_is_not_judged_and_says_so() {
        let s = days("2025-09-01", &[1.0, 2.0, 3.0, 100.0]);
        let e = explain_series(&AnomalyRule::default(), &s);
        assert!(!e[3].anomalous);
        assert!(
            e[3].why.contains("not judged: 2 earlier values"),
            "{}",
            e[3].why
        );
    }

    #[test]
    fn the_detection_period_stays_out_of_training() {
        // Two low days at the end: with detection 2 the second low day is
        // still compared with the days before the drop.
        let mut values: Vec<f64> = (0..20).map(|i| 80.0 + (i % 3) as f64).collect();
        values.extend([60.0, 60.0]);
        let s = days("2025-09-01", &values);
        let e = explain_series(&AnomalyRule::default(), &s);
        assert!(e[20].anomalous && e[21].anomalous);
        let w = training_window(&AnomalyRule::default(), &s, 21);
        assert_eq!(w.len(), 14);
        assert!(w.iter().all(|(_, v)| *v >= 80.0));
    }

    #[test]
    fn missing_days_are_absent_from_the_window() {
        let mut s = days("2025-09-01", &[10.0; 20]);
        s.remove(15);
        let rule = AnomalyRule::default();
        let last = s.len() - 1; // 2025-09-20
        let w = training_window(&rule, &s, last);
        // window 09-05..09-18 without 09-16
        assert_eq!(w.len(), 13);
    }

    #[test]
    fn direction_down_ignores_spikes() {
        let mut values: Vec<f64> = (0..20).map(|i| 50.0 + (i % 2) as f64).collect();
        values.push(90.0);
        let rule = AnomalyRule {
            direction: Direction::Down,
            ..Default::default()
        };
        let e = explain_series(&rule, &days("2025-09-01", &values));
        let last = e.last().unwrap();
        assert!(!last.anomalous);
        assert!(last.why.contains("only down moves"), "{}", last.why);
    }

    #[test]
    fn weekly_dips_are_normal_with_seasonality_and_a_weekday_drop_is_not() {
        // 2025-09-01 is a Monday; Sundays sit at 70, other days at 84-86.
        let start = NaiveDate::from_ymd_opt(2025, 9, 1).unwrap();
        let mut s: Vec<(At, f64)> = (0..35)
            .map(|i| {
                let d = start + Duration::days(i);
                let v = if d.weekday() == Weekday::Sun {
                    70.0 + (i % 2) as f64
                } else {
                    84.0 + (i % 3) as f64
                };
                (At::Day(d), v)
            })
            .collect();
        let rule = AnomalyRule::with_seasonality(Some(Seasonality::DayOfWeek));
        let e = explain_series(&rule, &s);
        assert!(e.iter().all(|x| !x.anomalous));
        assert!(e[34].why.contains("earlier Sundays"), "{}", e[34].why);
        // A Thursday at the Sunday level is anomalous.
        s[31].1 = 70.0; // 2025-10-02, a Thursday
        let e = explain_series(&rule, &s);
        assert!(e[31].anomalous, "{}", e[31].why);
    }

    #[test]
    fn an_outage_does_not_mask_the_next_anomaly_but_a_new_level_becomes_normal() {
        // A zero day, then a spike: without leaving the zero out, its
        // deviation would hide the spike.
        let mut values: Vec<f64> = (0..30).map(|i| 450.0 + (i % 5) as f64 * 10.0).collect();
        values[10] = 0.0;
        values[20] = 600.0;
        let e = explain_series(&AnomalyRule::default(), &days("2025-09-01", &values));
        assert!(e[10].anomalous);
        assert!(e[20].anomalous, "{}", e[20].why);
        assert!(
            e[20]
                .why
                .contains("1 grossly anomalous earlier value left out"),
            "{}",
            e[20].why
        );
        // A lasting shift from 450 to 900: flagged at first, normal once it
        // fills half the window.
        let values: Vec<f64> = (0..60)
            .map(|i| if i < 30 { 450.0 } else { 900.0 } + (i % 3) as f64)
            .collect();
        let e = explain_series(&AnomalyRule::default(), &days("2025-08-01", &values));
        assert!(e[30].anomalous && e[31].anomalous);
        assert!(!e[59].anomalous, "{}", e[59].why);
    }

    #[test]
    fn runs_count_by_position() {
        let t0 = chrono::DateTime::parse_from_rfc3339("2025-09-01T02:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let s: Vec<(At, f64)> = (0..10)
            .map(|i| (At::Run(t0 + Duration::hours(i * 7)), i as f64))
            .collect();
        let rule = AnomalyRule {
            training: 3,
            detection: 2,
            ..Default::default()
        };
        let w = training_window(&rule, &s, 9);
        assert_eq!(
            w.iter().map(|(_, v)| *v).collect::<Vec<_>>(),
            vec![5.0, 6.0, 7.0]
        );
    }
}
