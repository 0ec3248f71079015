//! Judging measured values: a series over the data's own days (judged on
//! its newest days), or a run's value against earlier runs' values (from the
//! history). Pure: values in, outcomes and explained values out.

use super::anomaly;
use super::model::{num, At, ChangeRule, Direction, Explanation, MetricValue, Thresholds, Watch};
use crate::checks::Outcome;
use crate::suite::{CompareOp, Severity};
use chrono::{DateTime, Duration, NaiveDate, Utc};

/// What a metric is and which rules apply to it.
#[derive(Debug, Clone, Copy)]
pub struct MetricSpec<'a> {
    pub name: &'a str,
    pub unit: Option<&'a str>,
    pub thresholds: &'a Thresholds,
    /// Severity of the thresholds (change and anomaly carry their own).
    pub severity: Severity,
    pub watch: &'a Watch,
}

/// One series per value of the split (`None` when there is no split), each
/// sorted by day.
pub type DaySeries = Vec<(Option<String>, Vec<(NaiveDate, f64)>)>;

const KIND: &str = "metric";

/// The bounds to draw on a chart: `min`, `max`, or what `op` implies.
fn chart_bounds(t: &Thresholds) -> (Option<f64>, Option<f64>) {
    let (mut lo, mut hi) = (t.min, t.max);
    if let Some((op, x)) = t.op {
        match op {
            CompareOp::Ge | CompareOp::Gt => lo = lo.or(Some(x)),
            CompareOp::Le | CompareOp::Lt => hi = hi.or(Some(x)),
            _ => {}
        }
    }
    (lo, hi)
}

fn point_label(day: Option<NaiveDate>, dim: &Option<String>) -> String {
    match (day, dim) {
        (Some(d), Some(x)) => format!("{d} [{x}]"),
        (Some(d), None) => d.to_string(),
        (None, Some(x)) => format!("[{x}]"),
        (None, None) => "this run".into(),
    }
}

/// Whether moving from `prev` to `v` breaks the change rule, and how far it moved.
pub fn change_verdict(rule: &ChangeRule, prev: f64, v: f64) -> (bool, String) {
    let delta = v - prev;
    let pct = if prev != 0.0 {
        Some(delta / prev.abs() * 100.0)
    } else {
        None
    };
    let moved = match pct {
        Some(p) => format!(
            "{}{} ({:+.1} %)",
            if delta >= 0.0 { "+" } else { "" },
            num(delta),
            p
        ),
        None => format!(
            "{}{} (from 0)",
            if delta >= 0.0 { "+" } else { "" },
            num(delta)
        ),
    };
    let watched = rule.direction.watches(delta) && delta != 0.0;
    let over_pct = rule
        .max_pct
        .is_some_and(|m| pct.is_none_or(|p| p.abs() > m));
    let over_abs = rule.max.is_some_and(|m| delta.abs() > m);
    let broken = watched && (over_pct || over_abs);
    let mut limits = Vec::new();
    if let Some(m) = rule.max_pct {
        limits.push(format!("{} %", num(m)));
    }
    if let Some(m) = rule.max {
        limits.push(num(m));
    }
    let dir = match rule.direction {
        Direction::Both => "change",
        Direction::Up => "rise",
        Direction::Down => "drop",
    };
    let text = if broken {
        format!(
            "{} -> {}: {moved}, more than the allowed {} {dir}",
            num(prev),
            num(v),
            limits.join(" / ")
        )
    } else {
        format!("{} -> {}: {moved}", num(prev), num(v))
    };
    (broken, text)
}

/// Whether anything broke, and the message: the first problem (and how many
/// more), else `ok_text`.
fn summarize(bad: &[String], judged: usize, ok_text: String) -> (bool, String, Vec<String>) {
    if bad.is_empty() {
        return (false, ok_text, Vec::new());
    }
    let mut msg = format!("{} of {judged} judged values: {}", bad.len(), bad[0]);
    if bad.len() > 1 {
        msg.push_str(&format!(" (and {} more)", bad.len() - 1));
        return (true, msg, bad.to_vec());
    }
    (true, msg, Vec::new())
}

/// Judges a series over the data's days on its newest `detection` days and
/// explains every point (so charts can draw the band of each).
pub fn judge_days(spec: &MetricSpec<'_>, series: &DaySeries) -> (Vec<Outcome>, Vec<MetricValue>) {
    let mut outcomes = Vec::new();
    let mut values = Vec::new();
    let latest = series
        .iter()
        .filter_map(|(_, s)| s.last().map(|p| p.0))
        .max();
    let Some(latest) = latest else {
        outcomes.push(Outcome::fail(
            KIND,
            spec.name,
            spec.severity,
            "no value: the relation has no rows with a valid day",
        ));
        return (outcomes, values);
    };
    let detection = spec.watch.detection().max(1);
    let first_judged = latest - Duration::days(detection as i64 - 1);
    let (lo, hi) = chart_bounds(spec.thresholds);
    let mut threshold_bad = Vec::new();
    let mut change_bad = Vec::new();
    let mut change_lines = Vec::new();
    let mut anomaly_bad = Vec::new();
    let mut anomaly_lines = Vec::new();
    let mut judged = 0usize;
    let mut anomaly_judged = 0usize;
    for (dim, points) in series {
        let at: Vec<(At, f64)> = points.iter().map(|(d, v)| (At::Day(*d), *v)).collect();
        let explained: Vec<Option<Explanation>> = match &spec.watch.anomaly {
            Some(rule) => anomaly::explain_series(rule, &at)
                .into_iter()
                .map(Some)
                .collect(),
            None => vec![None; at.len()],
        };
        for (i, ((day, v), explanation)) in points.iter().zip(explained).enumerate() {
            let is_judged = *day >= first_judged;
            let label = point_label(Some(*day), dim);
            if is_judged {
                judged += 1;
                if let Some(why) = spec.thresholds.violation(*v) {
                    threshold_bad.push(format!("{label}: {} {why}", num(*v)));
                }
                if let Some(rule) = &spec.watch.change {
                    match i.checked_sub(1).map(|j| points[j]) {
                        Some((pd, pv)) => {
                            let (broken, text) = change_verdict(rule, pv, *v);
                            let line = format!("{label}: {text} (since {pd})");
                            if broken {
                                change_bad.push(line.clone());
                            }
                            change_lines.push(line);
                        }
                        None => {
                            change_lines.push(format!("{label}: no earlier day to compare with"))
                        }
                    }
                }
                if let Some(e) = &explanation {
                    if e.expected.is_some() {
                        anomaly_judged += 1;
                    }
                    let line = format!("{label}: {}", e.why);
                    if e.anomalous {
                        anomaly_bad.push(line.clone());
                    }
                    anomaly_lines.push(line);
                }
            }
            values.push(MetricValue {
                name: spec.name.to_string(),
                day: Some(*day),
                dimension: dim.clone(),
                value: *v,
                unit: spec.unit.map(str::to_string),
                min: lo,
                max: hi,
                judged: is_judged,
                anomaly: explanation,
            });
        }
    }
    let window = if detection == 1 {
        latest.to_string()
    } else {
        format!("{first_judged}..{latest}")
    };
    let series_note = if series.len() > 1 {
        format!(" in {} series", series.len())
    } else {
        String::new()
    };
    if !spec.thresholds.is_empty() {
        let (bad, msg, details) = summarize(
            &threshold_bad,
            judged,
            format!(
                "{judged} values of {window}{series_note} judged, all {}",
                spec.thresholds.describe()
            ),
        );
        outcomes.push(outcome(spec.name, spec.severity, bad, msg, details));
    }
    if let Some(rule) = &spec.watch.change {
        let name = format!("{}.change", spec.name);
        let (bad, msg, _) = summarize(
            &change_bad,
            judged,
            format!("{judged} values of {window}{series_note} judged against the day before"),
        );
        outcomes.push(outcome(&name, rule.severity, bad, msg, change_lines));
    }
    if let Some(rule) = &spec.watch.anomaly {
        let name = format!("{}.anomaly", spec.name);
        if anomaly_judged == 0 {
            let why = anomaly_lines
                .first()
                .cloned()
                .unwrap_or_else(|| "no values in the detection period".into());
            outcomes
                .push(Outcome::skip(KIND, &name, rule.severity, why).with_details(anomaly_lines));
        } else {
            let (bad, msg, _) = summarize(
                &anomaly_bad,
                judged,
                format!(
                    "{anomaly_judged} values of {window}{series_note} within their expected bands"
                ),
            );
            outcomes.push(outcome(&name, rule.severity, bad, msg, anomaly_lines));
        }
    }
    if outcomes.is_empty() {
        let latest_values: Vec<String> = values
            .iter()
            .filter(|v| v.day == Some(latest))
            .map(|v| match &v.dimension {
                Some(d) => format!("{d} {}", num(v.value)),
                None => num(v.value),
            })
            .collect();
        outcomes.push(Outcome::pass(
            KIND,
            spec.name,
            spec.severity,
            format!(
                "{} values recorded; {latest}: {}",
                values.len(),
                latest_values.join(", ")
            ),
        ));
    }
    (outcomes, values)
}

fn outcome(
    name: &str,
    severity: Severity,
    bad: bool,
    msg: String,
    details: Vec<String>,
) -> Outcome {
    if bad {
        Outcome::fail(KIND, name, severity, msg).with_details(details)
    } else {
        Outcome::pass(KIND, name, severity, msg).with_details(details)
    }
}

/// Earlier runs' values of one metric, oldest first; `None` when the run
/// has no history to read.
pub type Prior<'a> = Option<&'a [super::model::PriorValue]>;

/// Judges a run's value against earlier runs (change and anomaly rules;
/// thresholds are the table rule's own). Returns the rules' outcomes and the
/// value, explained.
pub fn judge_run(
    spec: &MetricSpec<'_>,
    value: f64,
    now: DateTime<Utc>,
    prior: Prior<'_>,
) -> (Vec<Outcome>, MetricValue) {
    let (lo, hi) = chart_bounds(spec.thresholds);
    let mut mv = MetricValue {
        name: spec.name.to_string(),
        day: None,
        dimension: None,
        value,
        unit: spec.unit.map(str::to_string),
        min: lo,
        max: hi,
        judged: true,
        anomaly: None,
    };
    let mut outcomes = Vec::new();
    let no_history = "not judged: needs the history of earlier runs (run with --history LOCATION)";
    if let Some(rule) = &spec.watch.change {
        let name = format!("{}.change", spec.name);
        outcomes.push(match prior {
            None => Outcome::skip(KIND, &name, rule.severity, no_history),
            Some([]) => Outcome::skip(
                KIND,
                &name,
                rule.severity,
                "not judged: no earlier run in the history",
            ),
            Some(p) => {
                let (at, prev, _) = p[p.len() - 1];
                let (broken, text) = change_verdict(rule, prev, value);
                let msg = format!("{text} since the run of {}", at.format("%Y-%m-%d %H:%M"));
                outcome(&name, rule.severity, broken, msg, Vec::new())
            }
        });
    }
    if let Some(rule) = &spec.watch.anomaly {
        let name = format!("{}.anomaly", spec.name);
        match prior {
            None => outcomes.push(Outcome::skip(KIND, &name, rule.severity, no_history)),
            Some(p) => {
                let mut series: Vec<(At, f64)> =
                    p.iter().map(|(t, v, _)| (At::Run(*t), *v)).collect();
                let gross = anomaly::GROSS * rule.sensitivity;
                let mut flagged: Vec<bool> = p
                    .iter()
                    .map(|(_, _, score)| score.is_some_and(|z| z.abs() > gross))
                    .collect();
                series.push((At::Run(now), value));
                flagged.push(false);
                let e = anomaly::explain_at(rule, &series, &flagged, series.len() - 1);
                let o = if e.expected.is_none() {
                    Outcome::skip(KIND, &name, rule.severity, e.why.clone())
                } else {
                    outcome(&name, rule.severity, e.anomalous, e.why.clone(), Vec::new())
                };
                outcomes.push(o);
                mv.anomaly = Some(e);
            }
        }
    }
    (outcomes, mv)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Status;
    use crate::metrics::model::{AnomalyRule, Seasonality};

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn series(values: &[f64]) -> Vec<(NaiveDate, f64)> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| (d("2025-09-01") + Duration::days(i as i64), *v))
            .collect()
    }

    #[test]
    fn thresholds_judge_only_the_detection_days() {
        let t = Thresholds {
            min: Some(30.0),
            ..Default::default()
        };
        let w = Watch::default();
        let spec = MetricSpec {
            name: "shipped_pct",
            unit: Some("%"),
            thresholds: &t,
            severity: Severity::Error,
            watch: &w,
        };
        // An old low day is context, not judged.
        let s = vec![(None, series(&[5.0, 40.0, 41.0, 42.0]))];
        let (o, v) = judge_days(&spec, &s);
        assert_eq!(o.len(), 1);
        assert_eq!(o[0].status, Status::Pass, "{}", o[0].message);
        assert_eq!(v.iter().filter(|x| x.judged).count(), 2);
        assert_eq!(v[0].min, Some(30.0));
        let s = vec![(Some("web".to_string()), series(&[40.0, 41.0, 42.0, 12.5]))];
        let (o, _) = judge_days(&spec, &s);
        assert_eq!(o[0].status, Status::Fail);
        assert!(
            o[0].message
                .contains("2025-09-04 [web]: 12.5 below the minimum 30"),
            "{}",
            o[0].message
        );
    }

    #[test]
    fn a_drop_is_flagged_on_its_day_with_an_explanation() {
        let w = Watch {
            change: None,
            anomaly: Some(AnomalyRule {
                direction: Direction::Down,
                ..AnomalyRule::with_seasonality(Some(Seasonality::DayOfWeek))
            }),
        };
        let t = Thresholds::default();
        let spec = MetricSpec {
            name: "shipped_pct",
            unit: None,
            thresholds: &t,
            severity: Severity::Error,
            watch: &w,
        };
        let mut values: Vec<f64> = (0..35).map(|i| 84.0 + (i % 3) as f64).collect();
        values[33] = 60.0; // 2025-10-04
        let (o, v) = judge_days(&spec, &vec![(None, series(&values))]);
        let a = o.iter().find(|o| o.name == "shipped_pct.anomaly").unwrap();
        assert_eq!(a.status, Status::Fail);
        assert_eq!(a.severity, Severity::Warn);
        assert!(
            a.message
                .contains("2025-10-04: 60 is below the expected band"),
            "{}",
            a.message
        );
        assert_eq!(a.details.len(), 2);
        let flagged: Vec<_> = v
            .iter()
            .filter(|x| x.anomaly.as_ref().is_some_and(|e| e.anomalous))
            .collect();
        assert_eq!(flagged.len(), 1);
        assert_eq!(flagged[0].day, Some(d("2025-10-04")));
    }

    #[test]
    fn change_against_the_previous_day_and_run() {
        let rule = ChangeRule {
            max_pct: Some(20.0),
            max: None,
            direction: Direction::Down,
            severity: Severity::Warn,
        };
        assert!(change_verdict(&rule, 100.0, 75.0).0);
        assert!(!change_verdict(&rule, 100.0, 85.0).0);
        assert!(
            !change_verdict(&rule, 100.0, 200.0).0,
            "rises are not watched"
        );
        assert!(
            change_verdict(
                &ChangeRule {
                    direction: Direction::Both,
                    ..rule.clone()
                },
                0.0,
                1.0
            )
            .0
        );
        let w = Watch {
            change: Some(rule),
            anomaly: Some(AnomalyRule::default()),
        };
        let t = Thresholds::default();
        let spec = MetricSpec {
            name: "row_count",
            unit: Some("rows"),
            thresholds: &t,
            severity: Severity::Error,
            watch: &w,
        };
        let now = Utc::now();
        let (o, v) = judge_run(&spec, 10.0, now, None);
        assert!(o
            .iter()
            .all(|o| o.status == Status::Skip && o.message.contains("--history")));
        assert!(v.judged);
        let prior: Vec<(DateTime<Utc>, f64, Option<f64>)> = (1..=20)
            .rev()
            .map(|i| (now - Duration::days(i), 100.0, None))
            .collect();
        let (o, v) = judge_run(&spec, 10.0, now, Some(&prior));
        assert!(o.iter().all(|o| o.status == Status::Fail), "{o:?}");
        assert!(v.anomaly.unwrap().anomalous);
    }
}
