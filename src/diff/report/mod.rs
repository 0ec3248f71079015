//! A diff report in every format: `human` (row diffs, colour on a
//! terminal), `json` (`assay.diff/v1`), `markdown` (a pull-request comment:
//! endpoints × verdict × speed ratio), `junit` (a test case per check ×
//! parameter set). Pure: text in, text out.

mod human;
mod junit;
mod markdown;

use super::model::{DiffReport, Entry, Verdict};
use crate::report::Format;

pub use human::human;
pub use junit::junit;
pub use markdown::markdown;

pub fn json(report: &DiffReport) -> String {
    let mut s = serde_json::to_string_pretty(report).expect("a diff report serialises");
    s.push('\n');
    s
}

pub fn render(report: &DiffReport, format: Format, color: bool) -> String {
    match format {
        Format::Human => human(report, color),
        Format::Json => json(report),
        Format::Markdown => markdown(report),
        Format::Junit => junit(report),
    }
}

/// `0.92x`.
pub fn ratio(r: f64) -> String {
    if r >= 100.0 {
        format!("{r:.0}x")
    } else if r >= 10.0 {
        format!("{r:.1}x")
    } else {
        format!("{r:.2}x")
    }
}

/// `0.45 ms`, `12.3 ms`, `1.52 s`.
pub fn duration(ms: f64) -> String {
    if ms >= 1000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else if ms >= 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.2} ms")
    }
}

/// The headline of an entry: what differs, or the error, or the row count.
pub fn headline(e: &Entry) -> String {
    match (&e.verdict, &e.error, &e.comparison) {
        (Verdict::Unchanged, ..) => "same query text: not run".into(),
        (_, Some(err), _) => {
            let mut parts = Vec::new();
            if let Some(b) = &err.base {
                parts.push(format!("base: {b}"));
            }
            if let Some(c) = &err.current {
                parts.push(format!("current: {c}"));
            }
            parts.join("; ")
        }
        (Verdict::Same, _, Some(c)) => match c.current_rows {
            1 => "1 row".into(),
            n => format!("{n} rows"),
        },
        (_, _, Some(c)) => c.summary(),
        _ => String::new(),
    }
}

/// How the timings were taken, for headers: the first entry's words.
pub fn measured(report: &DiffReport) -> Option<String> {
    report
        .entries
        .iter()
        .find_map(|e| e.speed.as_ref().map(|s| s.measured.clone()))
}

/// Entries grouped by check, in report order.
pub fn by_check(report: &DiffReport) -> Vec<(&str, Vec<&Entry>)> {
    let mut groups: Vec<(&str, Vec<&Entry>)> = Vec::new();
    for e in &report.entries {
        match groups.last_mut() {
            Some((name, v)) if *name == e.check => v.push(e),
            _ => groups.push((e.check.as_str(), vec![e])),
        }
    }
    groups
}

/// `96 parameter sets of 13 queries: same 10, different 60, ...`.
pub fn counts_line(report: &DiffReport) -> String {
    let c = &report.counts;
    let mut parts = Vec::new();
    for (n, what) in [
        (c.same, "same"),
        (c.unchanged, "unchanged"),
        (c.different, "different"),
        (c.order_only, "same rows in another order"),
        (c.error, "errors"),
    ] {
        if n > 0 {
            parts.push(format!("{what} {n}"));
        }
    }
    let mut extra = Vec::new();
    if c.acknowledged > 0 {
        extra.push(plural(
            c.acknowledged,
            "expected difference",
            "expected differences",
        ));
    }
    if c.slower > 0 {
        extra.push(format!("{} slower than --max-slowdown", c.slower));
    }
    let mut s = format!(
        "{} of {}: {}",
        plural(report.entries.len(), "parameter set", "parameter sets"),
        plural(report.checks(), "query", "queries"),
        if parts.is_empty() {
            "nothing compared".to_string()
        } else {
            parts.join(", ")
        }
    );
    if !extra.is_empty() {
        s.push_str(&format!(" ({})", extra.join(", ")));
    }
    s
}

/// `1 query`, `2 queries`.
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
