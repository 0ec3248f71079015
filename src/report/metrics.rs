//! How metric values read in the text reports (human, Markdown, JUnit):
//! values with their unit, and the judged values of each metric.

use crate::metrics::{num, MetricValue};

/// A value with its unit: `79.12 %`, `15123 rows`; seconds (freshness lags)
/// as seconds, hours or days.
pub fn value_text(value: f64, unit: Option<&str>) -> String {
    match unit {
        Some("s") => {
            if value.abs() >= 86400.0 {
                format!("{} d", num(value / 86400.0))
            } else if value.abs() >= 3600.0 {
                format!("{} h", num(value / 3600.0))
            } else {
                format!("{} s", num(value))
            }
        }
        Some("%") => format!("{} %", num(value)),
        Some(u) => format!("{} {u}", num(value)),
        None => num(value),
    }
}

/// `expected 88.6 (band 84.4..92.8), score -14.21` or the reason it was not judged.
pub fn judgement_text(v: &MetricValue) -> Option<String> {
    let e = v.anomaly.as_ref()?;
    Some(match (e.expected, e.low, e.high, e.score) {
        (Some(x), Some(lo), Some(hi), Some(s)) => format!(
            "expected {} (band {}..{}), score {:.2}{}",
            num(x),
            num(lo),
            num(hi),
            s,
            if e.anomalous { ", ANOMALY" } else { "" }
        ),
        _ => e.why.clone(),
    })
}

/// The judged values of a unit grouped by metric name, in the order measured.
pub fn judged_by_metric(metrics: &[MetricValue]) -> Vec<(&str, Vec<&MetricValue>)> {
    let mut out: Vec<(&str, Vec<&MetricValue>)> = Vec::new();
    for m in metrics.iter().filter(|m| m.judged) {
        match out.iter_mut().find(|(n, _)| *n == m.name) {
            Some((_, v)) => v.push(m),
            None => out.push((&m.name, vec![m])),
        }
    }
    out
}

/// One line per metric: `shipped_pct 2025-10-04: 60.12 %, 2025-10-05: 79.4 %`
/// or, split by a dimension, `share 2025-10-05: phone 19.2 %, web 48.8 %`
/// (the newest judged day only).
pub fn metric_line(name: &str, values: &[&MetricValue]) -> String {
    let split = values.iter().any(|v| v.dimension.is_some());
    let latest = values.iter().filter_map(|v| v.day).max();
    let part = |v: &&MetricValue| {
        let val = value_text(v.value, v.unit.as_deref());
        let flag = if v.anomaly.as_ref().is_some_and(|e| e.anomalous) {
            " (anomaly)"
        } else {
            ""
        };
        match (&v.dimension, v.day) {
            (Some(d), _) => format!("{d} {val}{flag}"),
            (None, Some(day)) => format!("{day}: {val}{flag}"),
            (None, None) => format!("{val}{flag}"),
        }
    };
    if split {
        let parts: Vec<String> = values
            .iter()
            .filter(|v| v.day == latest)
            .map(part)
            .collect();
        format!(
            "{name} {}: {}",
            latest.map(|d| d.to_string()).unwrap_or_default(),
            parts.join(", ")
        )
    } else if values.iter().all(|v| v.day.is_none()) {
        let v = values[values.len() - 1];
        match judgement_text(v) {
            Some(j) => format!("{name} = {} ({j})", part(&v)),
            None => format!("{name} = {}", part(&v)),
        }
    } else {
        let parts: Vec<String> = values.iter().map(part).collect();
        format!("{name} {}", parts.join(", "))
    }
}
