//! Charts as inline SVG, drawn by hand: a metric's values with the expected
//! band, thresholds, budget and anomalies; the status timeline. Every mark
//! carries a `<title>` (the browser's own tooltip, no JavaScript).

use super::esc;
use crate::engine::Verdict;
use crate::history::digest::{Axis, Chart, Timeline};
use std::fmt::Write;

const W: f64 = 640.0;
const H: f64 = 190.0;
const LEFT: f64 = 60.0;
const RIGHT: f64 = 14.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 30.0;
/// Up to this many points each get a marker with a tooltip; beyond, only
/// anomalies and judged points do (a year of runs stays small).
const MARKERS: usize = 120;

fn value_text(v: f64, unit: Option<&str>) -> String {
    crate::report::metrics::value_text(v, unit)
}

/// Round tick values covering [lo, hi].
fn ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let span = (hi - lo).abs().max(1e-12);
    let raw = span / n as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| span / s <= n as f64)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).ceil() * step;
    let mut v = Vec::new();
    let mut t = first;
    while t <= hi + step * 1e-9 && v.len() < 20 {
        v.push(if t.abs() < step * 1e-9 { 0.0 } else { t });
        t += step;
    }
    v
}

struct Scale {
    x0: f64,
    x1: f64,
    y0: f64,
    y1: f64,
}

impl Scale {
    fn x(&self, x: f64) -> f64 {
        if self.x1 == self.x0 {
            LEFT + (W - LEFT - RIGHT) / 2.0
        } else {
            LEFT + (x - self.x0) / (self.x1 - self.x0) * (W - LEFT - RIGHT)
        }
    }
    fn y(&self, y: f64) -> f64 {
        H - BOTTOM - (y - self.y0) / (self.y1 - self.y0) * (H - TOP - BOTTOM)
    }
}

fn x_label(axis: Axis, x: i64) -> String {
    match axis {
        Axis::Days => chrono::NaiveDate::from_num_days_from_ce_opt(
            (x + 719_163) as i32, // days from 0001-01-01 to 1970-01-01
        )
        .map(|d| d.format("%m-%d").to_string())
        .unwrap_or_default(),
        Axis::Runs => chrono::DateTime::from_timestamp(x, 0)
            .map(|t| t.format("%m-%d").to_string())
            .unwrap_or_default(),
    }
}

/// Seconds (freshness lags) are drawn in hours or days so ticks are round.
fn display_unit(c: &Chart) -> (f64, Option<&str>) {
    if c.unit.as_deref() != Some("s") {
        return (1.0, c.unit.as_deref());
    }
    let max = c.points.iter().map(|p| p.value.abs()).fold(0.0, f64::max);
    if max >= 2.0 * 86400.0 || c.max.is_some_and(|m| m >= 86400.0) {
        (86400.0, Some("d"))
    } else if max >= 2.0 * 3600.0 {
        (3600.0, Some("h"))
    } else {
        (1.0, Some("s"))
    }
}

/// One metric (or query time) chart.
pub fn chart(c: &Chart) -> String {
    let (div, unit) = display_unit(c);
    let owned;
    let c = if div != 1.0 {
        let mut scaled = c.clone();
        for p in &mut scaled.points {
            p.value /= div;
            p.low = p.low.map(|v| v / div);
            p.high = p.high.map(|v| v / div);
            p.expected = p.expected.map(|v| v / div);
        }
        scaled.min = c.min.map(|v| v / div);
        scaled.max = c.max.map(|v| v / div);
        owned = scaled;
        &owned
    } else {
        c
    };
    let mut ys: Vec<f64> = Vec::new();
    for p in &c.points {
        ys.push(p.value);
        ys.extend(p.low);
        ys.extend(p.high);
    }
    ys.extend(c.min);
    ys.extend(c.max);
    let data_max = c.points.iter().map(|p| p.value).fold(f64::MIN, f64::max);
    let budget_shown = c
        .budget
        .filter(|b| data_max > 0.0 && *b <= data_max * 3.0 || data_max <= 0.0 && *b <= 1.0);
    ys.extend(budget_shown);
    let (mut lo, mut hi) = ys
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(*v), b.max(*v)));
    let non_negative = c.points.iter().all(|p| p.value >= 0.0);
    if ys.is_empty() || lo > hi {
        lo = 0.0;
        hi = 1.0;
    }
    if hi - lo < 1e-9 {
        let pad = if hi.abs() > 0.0 { hi.abs() * 0.1 } else { 1.0 };
        lo -= pad;
        hi += pad;
    } else {
        let pad = (hi - lo) * 0.06;
        lo -= pad;
        hi += pad;
    }
    if non_negative && lo < 0.0 {
        lo = 0.0; // a band reaching below zero says nothing for a count or share
    }
    let xs: Vec<i64> = c.points.iter().map(|p| p.x).collect();
    let s = Scale {
        x0: xs.iter().copied().min().unwrap_or(0) as f64,
        x1: xs.iter().copied().max().unwrap_or(0) as f64,
        y0: lo,
        y1: hi,
    };
    let anomalies = c.points.iter().filter(|p| p.anomalous).count();
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg class="chart" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" data-points="{}" data-anomalies="{anomalies}" aria-label="{}">"#,
        c.points.len(),
        esc(&c.title)
    );
    // Axes and grid.
    for t in ticks(lo, hi, 4) {
        let y = s.y(t);
        let _ = write!(
            out,
            r#"<line class="grid" x1="{LEFT}" x2="{}" y1="{y:.1}" y2="{y:.1}"/><text class="tick" x="{}" y="{:.1}" text-anchor="end">{}</text>"#,
            W - RIGHT,
            LEFT - 6.0,
            y + 3.5,
            esc(&value_text(t, unit))
        );
    }
    let _ = write!(
        out,
        r#"<line class="axis" x1="{LEFT}" x2="{}" y1="{}" y2="{}"/>"#,
        W - RIGHT,
        H - BOTTOM,
        H - BOTTOM
    );
    if !xs.is_empty() {
        let n = xs.len();
        let picks: Vec<usize> = if n <= 6 {
            (0..n).collect()
        } else {
            (0..6).map(|i| i * (n - 1) / 5).collect()
        };
        let mut last_x = f64::MIN;
        for i in picks {
            let x = s.x(xs[i] as f64);
            if x - last_x < 40.0 {
                continue;
            }
            last_x = x;
            let _ = write!(
                out,
                r#"<text class="tick" x="{x:.1}" y="{}" text-anchor="middle">{}</text>"#,
                H - BOTTOM + 16.0,
                esc(&x_label(c.axis, xs[i]))
            );
        }
    }
    // The expected band, in runs of consecutive points that have one.
    let mut run: Vec<(f64, f64, f64)> = Vec::new();
    let mut bands: Vec<Vec<(f64, f64, f64)>> = Vec::new();
    for p in &c.points {
        match (p.low, p.high) {
            (Some(l), Some(h)) => run.push((s.x(p.x as f64), s.y(h.min(s.y1)), s.y(l.max(s.y0)))),
            _ => {
                if !run.is_empty() {
                    bands.push(std::mem::take(&mut run));
                }
            }
        }
    }
    if !run.is_empty() {
        bands.push(run);
    }
    for b in bands {
        let mut pts: Vec<String> = b.iter().map(|(x, h, _)| format!("{x:.1},{h:.1}")).collect();
        if b.len() == 1 {
            let (x, h, l) = b[0];
            pts = vec![
                format!("{:.1},{h:.1}", x - 3.0),
                format!("{:.1},{h:.1}", x + 3.0),
                format!("{:.1},{l:.1}", x + 3.0),
                format!("{:.1},{l:.1}", x - 3.0),
            ];
        } else {
            pts.extend(b.iter().rev().map(|(x, _, l)| format!("{x:.1},{l:.1}")));
        }
        let _ = write!(
            out,
            r#"<polygon class="band" points="{}"><title>expected band</title></polygon>"#,
            pts.join(" ")
        );
    }
    // Thresholds and budget.
    for (cls, v, label) in [
        ("threshold", c.min, "minimum"),
        ("threshold", c.max, "maximum"),
        ("budget", budget_shown, "budget"),
    ] {
        if let Some(v) = v {
            let y = s.y(v);
            let _ = write!(
                out,
                r#"<line class="{cls}" x1="{LEFT}" x2="{}" y1="{y:.1}" y2="{y:.1}"><title>{label} {}</title></line><text class="{cls}-label" x="{}" y="{:.1}" text-anchor="end">{label} {}</text>"#,
                W - RIGHT,
                esc(&value_text(v, unit)),
                W - RIGHT - 2.0,
                y - 3.0,
                esc(&value_text(v, unit))
            );
        }
    }
    // The values.
    if c.points.len() > 1 {
        let pts: Vec<String> = c
            .points
            .iter()
            .map(|p| format!("{:.1},{:.1}", s.x(p.x as f64), s.y(p.value)))
            .collect();
        let _ = write!(
            out,
            r#"<polyline class="line" points="{}"/>"#,
            pts.join(" ")
        );
    }
    let markers_for_all = c.points.len() <= MARKERS;
    for p in &c.points {
        if !(markers_for_all || p.anomalous || p.judged && c.axis == Axis::Days) {
            continue;
        }
        let cls = if p.anomalous {
            "point anomaly"
        } else if p.judged && c.axis == Axis::Days {
            "point judged"
        } else {
            "point"
        };
        let r = if p.anomalous { 4.5 } else { 2.5 };
        let why = p
            .why
            .as_deref()
            .map(|w| format!(" — {w}"))
            .unwrap_or_default();
        let _ = write!(
            out,
            r#"<circle class="{cls}" data-x="{}" cx="{:.1}" cy="{:.1}" r="{r}"><title>{}: {}{}</title></circle>"#,
            esc(&p.label),
            s.x(p.x as f64),
            s.y(p.value),
            esc(&p.label),
            esc(&value_text(p.value, unit)),
            esc(&why)
        );
    }
    if let (Some(b), None) = (c.budget, budget_shown) {
        let _ = write!(
            out,
            r#"<text class="budget-label" x="{}" y="{}" text-anchor="end">budget {} (far above)</text>"#,
            W - RIGHT - 2.0,
            TOP + 10.0,
            esc(&value_text(b, unit))
        );
    }
    out.push_str("</svg>");
    out
}

fn verdict_class(v: Option<Verdict>) -> &'static str {
    match v {
        None => "none",
        Some(Verdict::Pass) => "pass",
        Some(Verdict::Skip) => "skip",
        Some(Verdict::Warn) => "warn",
        Some(Verdict::Fail) => "fail",
        Some(Verdict::Error) => "error",
    }
}

const CELL_W: f64 = 10.0;
const CELL_H: f64 = 14.0;
const LABEL_W: f64 = 230.0;
const HEAD: f64 = 22.0;

/// The status timeline: a row per check, a column per run (newest right),
/// a top row for how each run ended.
pub fn timeline(t: &Timeline) -> String {
    let cols = t.runs.len();
    let width = LABEL_W + CELL_W * cols as f64 + 8.0;
    let height = HEAD + CELL_H * (t.rows.len() + 1) as f64 + 4.0;
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg class="timeline" viewBox="0 0 {width} {height}" width="{width}" height="{height}" data-runs="{cols}" data-rows="{}" role="img" aria-label="status timeline">"#,
        t.rows.len()
    );
    // SQL-changed markers and the run row.
    let _ = write!(
        out,
        r#"<text class="rowlabel" x="{}" y="{}" text-anchor="end">run (exit code)</text>"#,
        LABEL_W - 6.0,
        HEAD + CELL_H - 3.0
    );
    for (i, r) in t.runs.iter().enumerate() {
        let x = LABEL_W + CELL_W * i as f64;
        if r.sql_changed {
            let _ = write!(
                out,
                r#"<path class="sqlchange" d="M{:.1},{} l4,-7 l4,7 z"><title>SQL or checks changed in this run</title></path>"#,
                x + 1.0,
                HEAD - 4.0
            );
        }
        let cls = match r.exit_code {
            0 => "pass",
            1 => "fail",
            _ => "broke",
        };
        let _ = write!(
            out,
            r#"<rect class="cell {cls}" x="{x:.1}" y="{HEAD}" width="{}" height="{}"><title>{} UTC: exit {}{}</title></rect>"#,
            CELL_W - 1.0,
            CELL_H - 1.0,
            r.started_at.format("%Y-%m-%d %H:%M"),
            r.exit_code,
            r.version
                .as_deref()
                .map(|v| format!(", version {}", esc(v)))
                .unwrap_or_default()
        );
    }
    for (j, row) in t.rows.iter().enumerate() {
        let y = HEAD + CELL_H * (j + 1) as f64;
        let _ = write!(
            out,
            r#"<g class="timeline-row" data-check="{}"><text class="rowlabel" x="{}" y="{:.1}" text-anchor="end">{}</text>"#,
            esc(&row.check),
            LABEL_W - 6.0,
            y + CELL_H - 3.0,
            esc(&row.check)
        );
        for (i, v) in row.cells.iter().enumerate() {
            if v.is_none() {
                continue;
            }
            let x = LABEL_W + CELL_W * i as f64;
            let _ = write!(
                out,
                r#"<rect class="cell {}" x="{x:.1}" y="{y:.1}" width="{}" height="{}"><title>{} — {}: {}</title></rect>"#,
                verdict_class(*v),
                CELL_W - 1.0,
                CELL_H - 1.0,
                esc(&row.check),
                t.runs[i].started_at.format("%Y-%m-%d %H:%M"),
                v.map(|v| v.label()).unwrap_or("not run")
            );
        }
        out.push_str("</g>");
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        assert_eq!(ticks(0.0, 100.0, 4), vec![0.0, 25.0, 50.0, 75.0, 100.0]);
        assert_eq!(ticks(61.3, 93.9, 4), vec![70.0, 80.0, 90.0]);
        assert!(ticks(0.001, 0.002, 4).len() >= 2);
    }

    #[test]
    fn day_labels() {
        let d = chrono::NaiveDate::from_ymd_opt(2025, 10, 4).unwrap();
        let x = (d - chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()).num_days();
        assert_eq!(x_label(Axis::Days, x), "10-04");
    }
}
