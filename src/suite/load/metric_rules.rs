//! Metrics in table checks: `metric:` with thresholds and an optional series
//! over the data's days, and the `change:` / `anomaly:` rules an entry may
//! put on the number it measures.

use crate::error::InputError;
use crate::metrics::{defaults, AnomalyRule, ChangeRule, Thresholds, Watch};
use crate::suite::locate::line_containing;
use crate::suite::model::*;
use crate::suite::raw::*;
use std::path::Path;

/// `metric:` → its rule kind (None after recording an error).
pub(super) fn metric_kind(
    file: &Path,
    text: &str,
    m: &RawMetric,
    anomaly: Option<&RawAnomaly>,
    errors: &mut Vec<InputError>,
) -> Option<TableRuleKind> {
    let line = line_containing(text, &m.sql);
    let err = |msg: String, help: &str| InputError::new(file, msg).at(line, None).help(help);
    let op = match (&m.op, m.value) {
        (Some(op), Some(v)) => match CompareOp::parse(op) {
            Some(op) => Some((op, v)),
            None => {
                errors.push(err(
                    format!("unknown operator `{op}`"),
                    "use one of <, <=, =, >=, >, !=",
                ));
                return None;
            }
        },
        (None, None) => None,
        (Some(_), None) | (None, Some(_)) => {
            errors.push(err(
                "`op` and `value` go together".into(),
                "write both (`op: \">=\"`, `value: 30`), or use `min:` / `max:`",
            ));
            return None;
        }
    };
    if let (Some(lo), Some(hi)) = (m.min, m.max) {
        if lo > hi {
            errors.push(err(
                format!("`min` {lo} is above `max` {hi}"),
                "swap them, or drop one",
            ));
            return None;
        }
    }
    let series = match &m.per_day {
        Some(day) => {
            // An anomaly rule needs its training window and detection
            // period inside the series; thresholds alone judge the newest days.
            let (training, detection) = anomaly
                .map(|a| {
                    let r = anomaly_rule(a).0;
                    (r.training, r.detection)
                })
                .unwrap_or((0, 1));
            let needed = (training + detection) as u32;
            let days = m.days.unwrap_or(defaults::DAYS.max(needed));
            if days < needed {
                errors.push(err(
                    format!(
                        "`days: {days}` is shorter than the anomaly rule's training ({training}) plus detection ({detection})"
                    ),
                    &format!("read at least {needed} days, or shorten `training`"),
                ));
                return None;
            }
            if days == 0 {
                errors.push(err("`days` must be at least 1".into(), "e.g. `days: 35`"));
                return None;
            }
            Some(SeriesSpec {
                day: day.clone(),
                by: m.by.clone(),
                days,
                fill: m.fill,
            })
        }
        None => {
            for (key, present) in [
                ("by", m.by.is_some()),
                ("days", m.days.is_some()),
                ("fill", m.fill.is_some()),
            ] {
                if present {
                    errors.push(err(
                        format!("`{key}` belongs to a series over days"),
                        "add `per_day: <date column>` to measure the metric per day, or remove the key",
                    ));
                    return None;
                }
            }
            None
        }
    };
    Some(TableRuleKind::Metric {
        sql: m.sql.clone(),
        filter: m.filter.clone(),
        thresholds: Thresholds {
            min: m.min,
            max: m.max,
            op,
        },
        unit: m.unit.clone(),
        series,
    })
}

/// The anomaly rule with every unset key at its default, and what is wrong with it.
fn anomaly_rule(a: &RawAnomaly) -> (AnomalyRule, Vec<String>) {
    let mut r = AnomalyRule::with_seasonality(a.seasonality);
    let mut problems = Vec::new();
    if let Some(s) = a.sensitivity {
        if s.is_finite() && s > 0.0 {
            r.sensitivity = s;
        } else {
            problems.push(format!("`sensitivity: {s}` must be a positive number"));
        }
    }
    if let Some(t) = a.training {
        r.training = t;
    }
    if let Some(m) = a.min_training {
        r.min_training = m;
    } else if a.training.is_some() {
        r.min_training = r.min_training.min(r.training);
    }
    if let Some(d) = a.detection {
        r.detection = d;
    }
    if r.training == 0 {
        problems.push("`training` must be at least 1".into());
    }
    if r.detection == 0 {
        problems.push("`detection` must be at least 1".into());
    }
    if r.min_training > r.training {
        problems.push(format!(
            "`min_training: {}` is more than `training: {}`",
            r.min_training, r.training
        ));
    }
    if let Some(d) = a.direction {
        r.direction = d;
    }
    if let Some(f) = &a.min_deviation {
        for (key, v) in [("relative", f.relative), ("absolute", f.absolute)] {
            if v.is_some_and(|v| !(v.is_finite() && v >= 0.0)) {
                problems.push(format!("`min_deviation.{key}` must be 0 or more"));
            }
        }
        if let Some(v) = f.relative {
            r.min_deviation_relative = v;
        }
        if let Some(v) = f.absolute {
            r.min_deviation_absolute = v;
        }
    }
    if let Some(s) = a.severity {
        r.severity = s;
    }
    (r, problems)
}

/// `change:` and `anomaly:` of one entry. `measures` is false for entries
/// whose rules count violations rather than measure a metric.
pub(super) fn watch(
    file: &Path,
    text: &str,
    after: usize,
    raw: &RawTableRule,
    measures: bool,
    errors: &mut Vec<InputError>,
) -> Watch {
    let mut w = Watch::default();
    if raw.change.is_none() && raw.anomaly.is_none() {
        return w;
    }
    let key_at = |key: &str| crate::suite::locate::key_line(text, key, after);
    if !measures {
        let key = if raw.anomaly.is_some() {
            "anomaly"
        } else {
            "change"
        };
        errors.push(
            InputError::new(
                file,
                format!("`{key}` needs an entry that measures a value"),
            )
            .at(key_at(key), None)
            .help("put it on a `metric`, `row_count` or `freshness` entry"),
        );
        return w;
    }
    if let Some(c) = &raw.change {
        if c.max_pct.is_none() && c.max.is_none() {
            errors.push(
                InputError::new(file, "`change` needs a limit")
                    .at(key_at("change"), None)
                    .help(
                        "add `max_pct: 20` (percent of the previous value) or `max: 5` (absolute)",
                    ),
            );
        } else if [c.max_pct, c.max]
            .iter()
            .flatten()
            .any(|v| !(v.is_finite() && *v >= 0.0))
        {
            errors.push(
                InputError::new(file, "`change` limits must be 0 or more")
                    .at(key_at("change"), None),
            );
        } else {
            w.change = Some(ChangeRule {
                max_pct: c.max_pct,
                max: c.max,
                direction: c.direction.unwrap_or_default(),
                severity: c.severity.unwrap_or(Severity::Warn),
            });
        }
    }
    if let Some(a) = &raw.anomaly {
        let (rule, problems) = anomaly_rule(a);
        for p in problems {
            errors.push(
                InputError::new(file, format!("anomaly: {p}"))
                    .at(key_at("anomaly"), None)
                    .help("see docs/check-files.md, \"Metrics\", for every key and its default"),
            );
        }
        w.anomaly = Some(rule);
    }
    w
}
