//! Renderers of a `BenchReport`: the terminal table (`human`), the
//! machine-readable `json` (schema `assay.bench/v1`) and a GitHub `markdown`
//! summary. Pure: each returns the text, the caller writes it.
//!
//! `human.rs`, `json.rs` and `markdown.rs` each render one format; this
//! module holds what they share (cells, forecast wording, number formats).

mod human;
mod json;
mod markdown;

pub use human::human;
pub use json::{json, JSON_SCHEMA};
pub use markdown::markdown;

use super::fingerprint::fingerprint;
use super::model::{BaselineStatus, BenchReport, BenchRow, BenchVerdict, Fingerprint, Forecast};
use crate::report::plan::summarize;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// Scales closer than this are the same scale.
const SCALE_TOLERANCE: f64 = 1e-9;

const RESULT_HEADERS: [&str; 11] = [
    "check",
    "set",
    "scale",
    "p50 ms",
    "time ms",
    "max ms",
    "server ms",
    "budget ms",
    "headroom",
    "verdict",
    "baseline",
];
/// Which result columns hold numbers (right-aligned).
const RESULT_NUMERIC: [bool; 11] = [
    false, false, true, true, true, true, true, true, true, false, false,
];
const VERDICT_COLUMN: usize = 9;

/// What counts as slower, and what is measured again, in words.
fn slower_rule(r: &BenchReport) -> String {
    let baseline = if r.relative_slowdown {
        "the baseline's times this machine's factor (the scale's median ratio of medians to baselines)"
    } else {
        "the baseline's"
    };
    format!(
        "A measurement is slower than its baseline when its median (p50 of the timed runs) exceeds {}× {baseline} by more than {} ms; one over budget or slower is measured again, up to {} times in all, and the lowest median kept",
        r.max_slowdown,
        r.min_slowdown_ms,
        super::run::MAX_ATTEMPTS
    )
}

/// The scale table's header: the machine factor's column only when
/// slowdowns are relative to it.
fn scale_headers(r: &BenchReport) -> Vec<String> {
    let mut h = vec![
        "scale".to_string(),
        format!("volume ({})", r.volume_relation),
        "generated in".into(),
    ];
    if r.relative_slowdown {
        h.push("machine factor".into());
    }
    h
}

fn scale_cells(r: &BenchReport, s: &super::model::ScaleInfo) -> Vec<String> {
    let mut cells = vec![
        fmt_scale(s.scale),
        fmt_count(s.volume),
        fmt_duration(s.generate_ms),
    ];
    if r.relative_slowdown {
        cells.push(
            s.machine_factor
                .map_or("none (under 3 baselines)".into(), |f| format!("{f:.2}×")),
        );
    }
    cells
}

/// The verdict cell: the verdict's words, and how often it was measured
/// when more than once.
fn verdict_text(row: &BenchRow, label: &str) -> String {
    match row.measurement.attempts {
        0 | 1 => label.to_string(),
        n => format!("{label} (measured {n}×)"),
    }
}

/// The result columns of a row, with `verdict` as the verdict cell.
fn result_cells(row: &BenchRow, verdict: &str) -> Vec<String> {
    let m = &row.measurement;
    let ok = m.error.is_none();
    let timing = |x: f64| if ok { fmt_ms(x) } else { "-".into() };
    vec![
        m.check.clone(),
        m.param_set.clone(),
        fmt_scale(m.scale),
        timing(m.p50_ms),
        timing(m.judged_ms),
        timing(m.max_ms),
        m.server_ms.filter(|_| ok).map_or("-".into(), fmt_ms),
        format!("{}", m.budget_ms),
        row.headroom.map_or("-".into(), fmt_headroom),
        verdict.to_string(),
        // A failed query was not compared with its baseline.
        if ok {
            baseline_label(&row.baseline)
        } else {
            "-".into()
        },
    ]
}

fn baseline_label(b: &BaselineStatus) -> String {
    match b {
        BaselineStatus::New => "new".into(),
        BaselineStatus::Same { .. } => "same".into(),
        BaselineStatus::PlanChanged { .. } => "plan changed".into(),
        BaselineStatus::Slower { ratio, .. } => format!("slower ×{ratio:.1}"),
    }
}

/// How far past the largest measured scale a budget crossing is still worth
/// a number: further out, the line is extrapolated beyond meaning.
const FORECAST_HORIZON: f64 = 100.0;

/// growth, fit and budget crossing of one check × set. A crossing further
/// than `FORECAST_HORIZON` × `largest` is reported as beyond that horizon,
/// and a fit with R² under 0.5 is called weak.
fn forecast_cells(f: Option<&Forecast>, budget_ms: f64, largest: f64) -> Vec<String> {
    let Some(f) = f else {
        return vec![
            "no forecast".into(),
            "needs 2 scales without error".into(),
            String::new(),
        ];
    };
    let growth = f
        .growth_exponent
        .map_or("growth n/a".into(), |g| format!("n^{g:.2}"));
    let fit = match f.r2 {
        Some(r2) => format!("R² {r2:.3} over {} scales", f.points),
        None => format!("{} scales, R² n/a", f.points),
    };
    let horizon = FORECAST_HORIZON * largest;
    let crossing = match (f.volume_at_budget, f.scale_at_budget) {
        (None, _) => "does not grow with volume".into(),
        (Some(l), _) if l <= 0.0 => format!("over {budget_ms} ms at any volume"),
        (Some(_), Some(s)) if s > horizon => format!(
            "not before scale {} ({}× the largest measured)",
            fmt_approx(horizon),
            FORECAST_HORIZON
        ),
        (Some(l), Some(s)) => format!(
            "reaches {budget_ms} ms at scale ≈ {} (≈ {} rows)",
            fmt_approx(s),
            fmt_short(l)
        ),
        (Some(l), None) => format!("reaches {budget_ms} ms at ≈ {} rows", fmt_short(l)),
    };
    let crossing = match f.r2 {
        Some(r2) if r2 < 0.5 && f.volume_at_budget.is_some() => format!("{crossing} (weak fit)"),
        _ => crossing,
    };
    vec![growth, fit, crossing]
}

/// Distinct (check, parameter set) pairs in row order, with the budget.
fn check_sets(r: &BenchReport) -> Vec<(&str, &str, f64)> {
    let mut seen = BTreeMap::new();
    for row in &r.rows {
        let m = &row.measurement;
        seen.entry((m.check.as_str(), m.param_set.as_str()))
            .or_insert(m.budget_ms);
    }
    seen.into_iter().map(|((c, s), b)| (c, s, b)).collect()
}

fn largest_scale(r: &BenchReport) -> Option<f64> {
    r.scales
        .iter()
        .map(|s| s.scale)
        .chain(r.rows.iter().map(|row| row.measurement.scale))
        .max_by(f64::total_cmp)
}

/// Per check, the row with the highest time at `scale` among those with a plan.
fn slowest_at(r: &BenchReport, scale: f64) -> Vec<&BenchRow> {
    let mut slowest: BTreeMap<&str, &BenchRow> = BTreeMap::new();
    for row in &r.rows {
        let m = &row.measurement;
        if m.error.is_some() || m.plan.is_none() || (m.scale - scale).abs() > SCALE_TOLERANCE {
            continue;
        }
        let best = slowest.entry(m.check.as_str()).or_insert(row);
        if m.judged_ms > best.measurement.judged_ms {
            *best = row;
        }
    }
    slowest.into_values().collect()
}

fn current_fingerprint(row: &BenchRow) -> Option<Fingerprint> {
    let m = &row.measurement;
    m.fingerprint
        .clone()
        .or_else(|| m.plan.as_ref().map(fingerprint))
}

/// The fingerprint line, then the plan summary.
fn plan_lines(row: &BenchRow) -> Vec<String> {
    let mut lines: Vec<String> = current_fingerprint(row)
        .map(|f| f.to_string())
        .into_iter()
        .collect();
    if let Some(p) = &row.measurement.plan {
        lines.extend(summarize(p));
    }
    lines
}

fn plan_changes(r: &BenchReport) -> Vec<(&BenchRow, &Fingerprint, &[String])> {
    r.rows
        .iter()
        .filter_map(|row| match &row.baseline {
            BaselineStatus::PlanChanged { baseline, changes } => {
                Some((row, baseline, changes.as_slice()))
            }
            _ => None,
        })
        .collect()
}

fn errors(r: &BenchReport) -> Vec<(&BenchRow, &str)> {
    r.rows
        .iter()
        .filter_map(|row| Some((row, row.measurement.error.as_deref()?)))
        .collect()
}

fn row_label(row: &BenchRow) -> String {
    let m = &row.measurement;
    format!(
        "{} · {} at scale {}",
        m.check,
        m.param_set,
        fmt_scale(m.scale)
    )
}

/// Verdict counts.
struct Counts {
    measurements: usize,
    /// Measured more than once (a first measurement failed on its time).
    measured_again: usize,
    failures: usize,
    over_budget: usize,
    plan_changed: usize,
    slower: usize,
    error: usize,
}

impl Counts {
    fn of(r: &BenchReport) -> Counts {
        let n = |v: BenchVerdict| r.rows.iter().filter(|row| row.verdict == v).count();
        Counts {
            measurements: r.rows.len(),
            measured_again: r
                .rows
                .iter()
                .filter(|row| row.measurement.attempts > 1)
                .count(),
            failures: r.failures(),
            over_budget: n(BenchVerdict::OverBudget),
            plan_changed: n(BenchVerdict::PlanChanged),
            slower: n(BenchVerdict::Slower),
            error: n(BenchVerdict::Error),
        }
    }

    fn summary(&self) -> String {
        let again = match self.measured_again {
            0 => String::new(),
            n => format!("; {n} measured again after a first measurement over budget or slower"),
        };
        format!(
            "{} measurements, {} failed (over budget {}, plan changed {}, slower {}, error {}){again}",
            self.measurements,
            self.failures,
            self.over_budget,
            self.plan_changed,
            self.slower,
            self.error
        )
    }
}

/// Cells padded to their column's widest; `right[i]` right-aligns column i.
fn align(rows: &[Vec<String>], right: &[bool]) -> Vec<Vec<String>> {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    rows.iter()
        .map(|r| {
            r.iter()
                .enumerate()
                .map(|(c, s)| {
                    let w = widths[c];
                    if right.get(c).copied().unwrap_or(false) {
                        format!("{s:>w$}")
                    } else {
                        format!("{s:<w$}")
                    }
                })
                .collect()
        })
        .collect()
}

/// ms with two decimals under 10, one above.
fn fmt_ms(x: f64) -> String {
    if x < 10.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.1}")
    }
}

/// A scale as given: `1`, `10`, `0.5`.
fn fmt_scale(x: f64) -> String {
    format!("{x}")
}

fn fmt_duration(ms: f64) -> String {
    if ms >= 1000.0 {
        format!("{:.1} s", ms / 1000.0)
    } else {
        format!("{ms:.0} ms")
    }
}

fn fmt_headroom(h: f64) -> String {
    if h >= 10.0 {
        format!("{h:.0}×")
    } else if h >= 1.0 {
        format!("{h:.1}×")
    } else {
        format!("{h:.2}×")
    }
}

/// 1234567 → `1,234,567`.
fn fmt_count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// About two significant digits: 342.7 → `340`, 41.3 → `41`, 5.12 → `5.1`.
fn fmt_approx(x: f64) -> String {
    if x >= 100.0 {
        let unit = 10f64.powi(x.log10().floor() as i32 - 1);
        format!("{:.0}", (x / unit).round() * unit)
    } else if x >= 10.0 {
        format!("{x:.0}")
    } else if x >= 1.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

/// A large count in short form: 5_120_000 → `5.1M`.
fn fmt_short(x: f64) -> String {
    for (unit, suffix) in [(1e9, "B"), (1e6, "M"), (1e3, "k")] {
        if x >= unit {
            return format!("{}{suffix}", fmt_approx(x / unit));
        }
    }
    fmt_approx(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::model::{Measurement, ScaleInfo};
    use serde_json::json;

    fn row(check: &str, set: &str, scale: f64, p95: f64, verdict: BenchVerdict) -> BenchRow {
        BenchRow {
            measurement: Measurement {
                check: check.into(),
                param_set: set.into(),
                params: BTreeMap::from([("channel".to_string(), json!("web"))]),
                scale,
                volume: (scale * 1000.0) as u64,
                budget_ms: 100.0,
                runs: 5,
                p50_ms: p95 / 2.0,
                judged_ms: p95,
                p95_ms: None,
                judged: "max of 5 runs".into(),
                max_ms: p95 * 2.0,
                server_ms: Some(p95 - 0.5),
                buffers: Some(42),
                rows: 3,
                plan: Some(
                    json!([{"Plan": {"Node Type": "Seq Scan", "Relation Name": "t"}, "Execution Time": 1.0}]),
                ),
                fingerprint: None,
                error: None,
                attempts: 1,
            },
            baseline: BaselineStatus::New,
            verdict,
            headroom: Some(100.0 / p95),
        }
    }

    fn report(rows: Vec<BenchRow>) -> BenchReport {
        BenchReport {
            suite: "s".into(),
            volume_relation: "app.events".into(),
            volume_per_scale: 1000.0,
            scales: vec![ScaleInfo {
                scale: 1.0,
                volume: 1000,
                relation_rows: BTreeMap::new(),
                generate_ms: 1234.5,
                machine_factor: None,
            }],
            rows,
            forecasts: BTreeMap::new(),
            max_slowdown: 1.5,
            min_slowdown_ms: 5.0,
            relative_slowdown: false,
        }
    }

    #[test]
    fn number_formats() {
        assert_eq!(fmt_count(0), "0");
        assert_eq!(fmt_count(999), "999");
        assert_eq!(fmt_count(1000), "1,000");
        assert_eq!(fmt_count(1_500_000), "1,500,000");
        assert_eq!(fmt_approx(342.7), "340");
        assert_eq!(fmt_approx(1332.0), "1300");
        assert_eq!(fmt_approx(41.3), "41");
        assert_eq!(fmt_approx(5.12), "5.1");
        assert_eq!(fmt_approx(0.123), "0.12");
        assert_eq!(fmt_short(5_120_000.0), "5.1M");
        assert_eq!(fmt_short(19_980_000.0), "20M");
        assert_eq!(fmt_short(15_000.0), "15k");
        assert_eq!(fmt_short(2.5e9), "2.5B");
        assert_eq!(fmt_short(640.0), "640");
        assert_eq!(fmt_headroom(153.8), "154×");
        assert_eq!(fmt_headroom(1.84), "1.8×");
        assert_eq!(fmt_headroom(0.456), "0.46×");
        assert_eq!(fmt_ms(4.5), "4.50");
        assert_eq!(fmt_ms(1530.25), "1530.2");
        assert_eq!(fmt_scale(10.0), "10");
        assert_eq!(fmt_scale(0.5), "0.5");
        assert_eq!(fmt_duration(1234.5), "1.2 s");
        assert_eq!(fmt_duration(80.4), "80 ms");
    }

    #[test]
    fn forecast_wording() {
        let f = Forecast {
            points: 3,
            intercept_ms: 2.0,
            ms_per_million_rows: 100.0,
            r2: Some(0.99912),
            growth_exponent: Some(0.984),
            volume_at_budget: Some(5_120_000.0),
            scale_at_budget: Some(341.3),
        };
        assert_eq!(
            forecast_cells(Some(&f), 2000.0, 100.0),
            [
                "n^0.98",
                "R² 0.999 over 3 scales",
                "reaches 2000 ms at scale ≈ 340 (≈ 5.1M rows)"
            ]
        );
        let flat = Forecast {
            points: 2,
            r2: None,
            volume_at_budget: None,
            scale_at_budget: None,
            ..f.clone()
        };
        assert_eq!(
            forecast_cells(Some(&flat), 2000.0, 100.0),
            ["n^0.98", "2 scales, R² n/a", "does not grow with volume"]
        );
        let over = Forecast {
            volume_at_budget: Some(0.0),
            scale_at_budget: Some(0.0),
            ..f.clone()
        };
        assert_eq!(
            forecast_cells(Some(&over), 250.0, 100.0)[2],
            "over 250 ms at any volume"
        );
        assert_eq!(forecast_cells(None, 1.0, 100.0)[0], "no forecast");
        // Past 100x the largest measured scale the line means nothing.
        assert_eq!(
            forecast_cells(Some(&f), 2000.0, 2.0)[2],
            "not before scale 200 (100× the largest measured)"
        );
        let weak = Forecast {
            r2: Some(0.2),
            ..f.clone()
        };
        assert_eq!(
            forecast_cells(Some(&weak), 2000.0, 100.0)[2],
            "reaches 2000 ms at scale ≈ 340 (≈ 5.1M rows) (weak fit)"
        );
    }

    #[test]
    fn slowest_plan_per_check_at_the_largest_scale() {
        let mut errored = row("a", "z", 10.0, 500.0, BenchVerdict::Error);
        errored.measurement.error = Some("boom".into());
        let r = report(vec![
            row("a", "x", 1.0, 90.0, BenchVerdict::Pass),
            row("a", "x", 10.0, 20.0, BenchVerdict::Pass),
            row("a", "y", 10.0, 30.0, BenchVerdict::Pass),
            errored,
            row("b", "x", 10.0, 5.0, BenchVerdict::Pass),
        ]);
        assert_eq!(largest_scale(&r), Some(10.0));
        let picked: Vec<(&str, &str)> = slowest_at(&r, 10.0)
            .iter()
            .map(|row| {
                (
                    row.measurement.check.as_str(),
                    row.measurement.param_set.as_str(),
                )
            })
            .collect();
        assert_eq!(picked, [("a", "y"), ("b", "x")]);
    }

    #[test]
    fn color_only_when_asked() {
        let mut failing = row("a", "x", 1.0, 150.0, BenchVerdict::OverBudget);
        failing.headroom = Some(100.0 / 150.0);
        let r = report(vec![row("a", "y", 1.0, 1.0, BenchVerdict::Pass), failing]);
        let plain = human(&r, false);
        assert!(!plain.contains('\u{1b}'), "{plain}");
        let colored = human(&r, true);
        assert!(colored.contains("\u{1b}[31mover budget"), "{colored}");
        assert!(colored.contains("\u{1b}[32mpass"), "{colored}");
        assert!(plain.contains(
            "2 measurements, 1 failed (over budget 1, plan changed 0, slower 0, error 0)"
        ));
    }

    #[test]
    fn table_columns_line_up() {
        let r = report(vec![
            row("a_long_check", "x", 1.0, 1.0, BenchVerdict::Pass),
            row("b", "channel=web,window=1", 1.0, 12.5, BenchVerdict::Pass),
        ]);
        let text = human(&r, false);
        // Columns are aligned in characters (`×` is two bytes).
        let at = |line: &str, word: &str| line[..line.find(word).unwrap()].chars().count();
        let header = text.lines().find(|l| l.starts_with("check")).unwrap();
        let rows: Vec<&str> = text.lines().filter(|l| l.ends_with("  new")).collect();
        assert_eq!(rows.len(), 2, "{text}");
        for word in ["verdict", "baseline"] {
            let expected = at(header, word);
            let value = if word == "verdict" { "pass" } else { "new" };
            for row in &rows {
                assert_eq!(at(row, value), expected, "{word}\n{text}");
            }
        }
        // Numbers are right-aligned: the p95 column ends where its header does.
        let p95_end = at(header, "time ms") + "time ms".len();
        for (row, p95) in rows.iter().zip(["1.00", "12.5"]) {
            assert_eq!(at(row, &format!("{p95}  ")) + p95.len(), p95_end, "{text}");
        }
    }

    #[test]
    fn json_rounds_and_nulls_errors() {
        let mut ok = row("a", "x", 1.0, 12.34567, BenchVerdict::Pass);
        ok.baseline = BaselineStatus::Slower {
            baseline_ms: 6.0,
            ratio: 12.34567 / 6.0,
        };
        let mut failed = row("a", "y", 1.0, 3.0, BenchVerdict::Error);
        failed.measurement.error = Some("timeout".into());
        failed.measurement.plan = None;
        failed.headroom = None;
        let v: Value = serde_json::from_str(&json(&report(vec![ok, failed]))).unwrap();
        let a = &v["results"][0];
        assert_eq!(a["judged_ms"], json!(12.346));
        assert_eq!(
            a["baseline"],
            json!({"status": "slower", "baseline_ms": 6.0, "ratio": 2.058})
        );
        assert_eq!(a["plan_fingerprint"], json!("t: Seq Scan | joins: none"));
        assert_eq!(a["plan"], json!(["execution 1.0 ms", "Seq Scan on t"]));
        assert_eq!(a["forecast_r2"], Value::Null);
        let b = &v["results"][1];
        assert_eq!(b["verdict"], json!("error"));
        assert_eq!(b["judged_ms"], Value::Null);
        assert_eq!(b["headroom"], Value::Null);
        assert_eq!(b["plan"], Value::Null);
        assert_eq!(b["error"], json!("timeout"));
        assert_eq!(v["summary"]["failures"], json!(1));
        assert_eq!(v["scales"][0]["generate_ms"], json!(1234.5));
        assert_eq!(json::round(f64::INFINITY, 3), Value::Null);
        assert_eq!(json::round(19_980_000.4, 0), json!(19_980_000));
    }

    #[test]
    fn markdown_escapes_cells() {
        let r = report(vec![row("a", "x=a|b", 1.0, 1.0, BenchVerdict::Pass)]);
        let md = markdown(&r);
        assert!(md.contains("| `a` | `x=a\\|b` |"), "{md}");
        assert!(md.contains("✅ pass"), "{md}");
        assert!(md.contains("<code>x=a|b</code>"), "{md}");
    }
}
