//! The nightly report as one static HTML file: inline CSS and SVG, no
//! script, no network. Sections: the latest run, what changed since the run
//! before, anomalies, the status timeline, flaky checks, every metric's
//! chart with its expected band, query time per endpoint against its
//! budget, and the failing checks with their sample rows.

mod svg;

use crate::history::digest::{Axis, Chart, Digest, UnitRef};
use crate::metrics::num;
use crate::report::metrics::value_text;
use std::fmt::Write;

const CSS: &str = include_str!("page.css");

/// Escapes text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

fn when(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn verdict_badge(exit_code: i32, warned: usize) -> (&'static str, &'static str) {
    match exit_code {
        0 if warned > 0 => ("warn", "PASSED WITH WARNINGS"),
        0 => ("pass", "PASSED"),
        1 => ("fail", "FAILED"),
        _ => ("broke", "BROKE"),
    }
}

fn header(d: &Digest, out: &mut String) {
    out.push_str(r#"<header class="top"><div>"#);
    let Some(run) = d.latest() else {
        let _ = write!(
            out,
            r#"<h1>{} <span class="badge skip">NO RUNS</span></h1><p class="meta">No runs are recorded in {} yet: record one with <code>assay run --history LOCATION</code>.</p></div></header>"#,
            esc(if d.suite.is_empty() {
                "assay"
            } else {
                &d.suite
            }),
            esc(&d.location)
        );
        return;
    };
    let (cls, label) = verdict_badge(run.exit_code, run.counts.warned);
    let _ = write!(
        out,
        r#"<h1>{} <span class="badge {cls}" id="verdict">{label}</span></h1>"#,
        esc(&run.suite)
    );
    let first = d
        .runs
        .first()
        .map(|r| r.started_at)
        .unwrap_or(run.started_at);
    let _ = write!(
        out,
        r#"<p class="meta">Latest run {} on {} · {}{} units in {:.1} s · {} runs since {}</p>"#,
        when(run.started_at),
        esc(&if run.targets.is_empty() {
            "no database".to_string()
        } else {
            run.targets
                .iter()
                .map(|t| crate::db::stable_label(t))
                .collect::<Vec<_>>()
                .join(", ")
        }),
        run.version
            .as_deref()
            .map(|v| format!("version {} · ", esc(v)))
            .unwrap_or_default(),
        run.counts.total(),
        run.duration_ms / 1000.0,
        d.runs.len(),
        first.format("%Y-%m-%d")
    );
    let c = &run.counts;
    let _ = write!(
        out,
        r#"<p class="counts"><span>{} passed</span><span>{} failed</span><span>{} errors</span><span>{} warnings</span><span>{} skipped</span></p>"#,
        c.passed, c.failed, c.errored, c.warned, c.skipped
    );
    if run.broke() || run.error.is_some() {
        let _ = write!(
            out,
            r#"<div class="broke-box" id="broke">The latest run ended with exit {}{}</div>"#,
            run.exit_code,
            run.error
                .as_deref()
                .map(|e| format!(": {}", esc(e)))
                .unwrap_or_default()
        );
    }
    if !run.missing_parts.is_empty() {
        let _ = write!(
            out,
            r#"<div class="broke-box">Partitions missing from the latest run: {}</div>"#,
            esc(&run.missing_parts.join(", "))
        );
    }
    for e in run.input_errors.iter().chain(&run.notify_errors) {
        let _ = write!(out, r#"<div class="broke-box">{}</div>"#, esc(e));
    }
    out.push_str(r##"<nav><a href="#changes">Changes</a><a href="#anomalies">Anomalies</a><a href="#timeline">Timeline</a><a href="#flaky">Flaky</a><a href="#metrics">Metrics</a><a href="#query-time">Query time</a><a href="#failing">Failing</a></nav>"##);
    out.push_str("</div></header>");
}

fn change_table(title: &str, cls: &str, items: &[UnitRef], out: &mut String) {
    let _ = write!(out, "<h3>{title} ({})</h3>", items.len());
    if items.is_empty() {
        out.push_str(r#"<p class="note">None.</p>"#);
        return;
    }
    out.push_str(
        "<table><tr><th>check</th><th>verdict</th><th>first problem</th><th>since</th></tr>",
    );
    for u in items {
        let _ = write!(
            out,
            r#"<tr class="change {cls}"><td>{}</td><td><span class="badge {}">{}</span></td><td>{}</td><td class="num">{}</td></tr>"#,
            esc(&u.label),
            u.verdict.label().to_ascii_lowercase(),
            u.verdict.label(),
            esc(&u.message),
            u.since.map(when).unwrap_or_default()
        );
    }
    out.push_str("</table>");
}

fn changes(d: &Digest, out: &mut String) {
    let c = d.changes.clone().unwrap_or_default();
    let _ = write!(
        out,
        r#"<section id="changes" data-new="{}" data-still="{}" data-fixed="{}"><h2>Since the previous run</h2>"#,
        c.new_failures.len(),
        c.still_failing.len(),
        c.fixed.len()
    );
    match (&d.changes, d.latest()) {
        (None, Some(_)) => out.push_str(r#"<p class="note">The latest run has no results to compare (it ended before running checks).</p>"#),
        (Some(c), _) if c.previous.is_none() => out.push_str(r#"<p class="note">The first run with results in this history: every problem is new.</p>"#),
        (Some(c), _) => {
            let _ = write!(out, r#"<p class="note">Compared with the run of {}.</p>"#, c.previous.map(when).unwrap_or_default());
        }
        _ => {}
    }
    change_table("New failures", "new", &c.new_failures, out);
    change_table("Still failing", "still", &c.still_failing, out);
    change_table("Fixed", "fixed", &c.fixed, out);
    change_table("New warnings", "warning", &c.new_warnings, out);
    out.push_str("</section>");
}

fn anomalies(d: &Digest, out: &mut String) {
    let _ = write!(
        out,
        r#"<section id="anomalies" data-count="{}"><h2>Anomalies in the latest run ({})</h2>"#,
        d.anomalies.len(),
        d.anomalies.len()
    );
    if d.anomalies.is_empty() {
        out.push_str(
            r#"<p class="note">No judged value is outside its expected band.</p></section>"#,
        );
        return;
    }
    out.push_str("<table><tr><th>check</th><th>metric</th><th>day</th><th>value</th><th>expected band</th><th>score</th><th>why</th></tr>");
    for a in &d.anomalies {
        let _ = write!(
            out,
            r#"<tr class="anomaly"><td>{}</td><td>{}</td><td>{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="why">{}</td></tr>"#,
            esc(&a.check),
            esc(&match &a.dimension {
                Some(x) => format!("{} [{x}]", a.metric),
                None => a.metric.clone(),
            }),
            a.day
                .map(|d| d.to_string())
                .unwrap_or_else(|| "this run".into()),
            esc(&value_text(a.value, a.unit.as_deref())),
            match (a.low, a.high) {
                (Some(l), Some(h)) => format!("{}..{}", num(l), num(h)),
                _ => "-".into(),
            },
            a.score
                .map(|s| format!("{s:.2}"))
                .unwrap_or_else(|| "-".into()),
            esc(&a.why)
        );
    }
    out.push_str("</table></section>");
}

fn timeline(d: &Digest, out: &mut String) {
    let _ = write!(
        out,
        r#"<section id="timeline"><h2>Status timeline</h2><p class="note">One column per run (the newest {} at most, newest on the right), one row per check: the worst verdict of its units. Hover a cell for the run.</p>"#,
        crate::history::digest::TIMELINE_RUNS
    );
    out.push_str(r#"<p class="legend"><span><i style="background:var(--pass)"></i>pass</span><span><i style="background:var(--warn)"></i>warn</span><span><i style="background:var(--fail)"></i>fail</span><span><i style="background:var(--error)"></i>error / run broke</span><span><i style="background:var(--skip)"></i>skip</span><span><i style="background:#7048c4"></i>SQL or checks changed</span></p>"#);
    if d.timeline.runs.is_empty() {
        out.push_str(r#"<p class="note">No runs.</p></section>"#);
        return;
    }
    let _ = write!(
        out,
        r#"<div class="timeline-wrap">{}</div></section>"#,
        svg::timeline(&d.timeline)
    );
}

fn flaky(d: &Digest, out: &mut String) {
    let _ = write!(
        out,
        r#"<section id="flaky" data-count="{}"><h2>Flaky checks ({})</h2><p class="note">Checks that changed between passing and failing at least {} times in the last {} runs.</p>"#,
        d.flaky.len(),
        d.flaky.len(),
        crate::history::digest::FLAKY_FLIPS,
        crate::history::digest::FLAKY_RUNS
    );
    if !d.flaky.is_empty() {
        out.push_str("<table><tr><th>check</th><th>flips</th><th>runs</th><th>latest</th></tr>");
        for f in &d.flaky {
            let _ = write!(
                out,
                r#"<tr class="flaky"><td>{}</td><td class="num">{}</td><td class="num">{}</td><td>{}</td></tr>"#,
                esc(&f.check),
                f.flips,
                f.runs,
                f.latest.label()
            );
        }
        out.push_str("</table>");
    }
    out.push_str("</section>");
}

fn figure(c: &Chart, out: &mut String) {
    let latest = c.points.last();
    let anomalies = c.points.iter().filter(|p| p.anomalous).count();
    let _ = write!(
        out,
        r#"<figure class="metric" data-check="{}" data-title="{}" data-anomalies="{anomalies}"><figcaption>{} <span class="sub">{}</span></figcaption>"#,
        esc(&c.check),
        esc(&c.title),
        esc(&c.title),
        esc(&match latest {
            Some(p) => format!(
                "latest {} ({}){}",
                value_text(p.value, c.unit.as_deref()),
                p.label,
                match c.axis {
                    Axis::Days => format!(", {} days", c.points.len()),
                    Axis::Runs => format!(", {} runs", c.points.len()),
                }
            ),
            None => "no values".into(),
        })
    );
    out.push_str(&svg::chart(c));
    // Why the judged values are or are not anomalous.
    let judged: Vec<_> = match c.axis {
        Axis::Days => c
            .points
            .iter()
            .filter(|p| p.judged || p.anomalous)
            .collect(),
        Axis::Runs => c
            .points
            .iter()
            .rev()
            .take(1)
            .chain(c.points.iter().filter(|p| p.anomalous))
            .collect(),
    };
    let mut seen = std::collections::BTreeSet::new();
    let rows: Vec<_> = judged
        .into_iter()
        .filter(|p| seen.insert(p.x) && p.why.is_some())
        .collect();
    if !rows.is_empty() {
        out.push_str("<table class=\"judged\"><tr><th>at</th><th>value</th><th>why</th></tr>");
        for p in rows {
            let _ = write!(
                out,
                r#"<tr class="{}"><td>{}</td><td class="num">{}</td><td class="why">{}</td></tr>"#,
                if p.anomalous { "is-anomaly" } else { "ok" },
                esc(&p.label),
                esc(&value_text(p.value, c.unit.as_deref())),
                esc(p.why.as_deref().unwrap_or(""))
            );
        }
        out.push_str("</table>");
    }
    out.push_str("</figure>");
}

fn charts(id: &str, title: &str, note: &str, charts: &[Chart], out: &mut String) {
    let _ = write!(
        out,
        r#"<section id="{id}" data-charts="{}"><h2>{title} ({})</h2><p class="note">{note}</p>"#,
        charts.len(),
        charts.len()
    );
    let mut check = "";
    for c in charts {
        if c.check != check {
            if !check.is_empty() {
                out.push_str("</div>");
            }
            check = &c.check;
            let _ = write!(out, r#"<h3>{}</h3><div class="grid-2">"#, esc(check));
        }
        figure(c, out);
    }
    if !check.is_empty() {
        out.push_str("</div>");
    }
    out.push_str("</section>");
}

fn failing(d: &Digest, out: &mut String) {
    let _ = write!(
        out,
        r#"<section id="failing" data-count="{}"><h2>Problems in the latest run ({})</h2>"#,
        d.failing.len(),
        d.failing.len()
    );
    if d.failing.is_empty() {
        out.push_str(r#"<p class="note">Every check passed.</p>"#);
    }
    for f in &d.failing {
        let _ = write!(
            out,
            r#"<details class="failing" open><summary><span class="badge {}">{}</span> {}</summary>"#,
            f.verdict.label().to_ascii_lowercase(),
            f.verdict.label(),
            esc(&f.label)
        );
        for o in &f.outcomes {
            let _ = write!(
                out,
                r#"<p><b>{}</b> ({} {}): {}</p>"#,
                esc(&o.name),
                o.status.label(),
                o.severity,
                esc(&o.message)
            );
            if !o.details.is_empty() {
                let _ = write!(out, "<pre>{}</pre>", esc(&o.details.join("\n")));
            }
        }
        out.push_str("</details>");
    }
    out.push_str("</section>");
}

/// The whole page.
pub fn render(d: &Digest) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let _ = write!(
        out,
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="generator" content="assay {}"><title>{} · assay nightly report</title><style>{CSS}</style></head><body>"#,
        env!("CARGO_PKG_VERSION"),
        esc(if d.suite.is_empty() {
            "assay"
        } else {
            &d.suite
        })
    );
    header(d, &mut out);
    out.push_str("<main>");
    if !d.runs.is_empty() {
        changes(d, &mut out);
        anomalies(d, &mut out);
        timeline(d, &mut out);
        flaky(d, &mut out);
        charts(
            "metrics",
            "Metrics",
            "Series over the data's days come from the latest run that measured them; values measured once per run are read across runs. The shaded band is the expected range (mean ± sensitivity × deviation of the training window); dashed lines are thresholds; red points are anomalies. Hover a point for why.",
            &d.metrics,
            &mut out,
        );
        charts(
            "query-time",
            "Query time per endpoint",
            "Per run, the median of the slowest parameter set, with the budget (dashed) and slowdowns judged against earlier runs (deviation at least 10 % of the expected time and 1 % of the budget).",
            &d.query_times,
            &mut out,
        );
        failing(d, &mut out);
    }
    let _ = write!(
        out,
        r#"<footer>From the history at {} · {} runs · format {}"#,
        esc(&d.location),
        d.runs.len(),
        d.format
    );
    for p in &d.problems {
        let _ = write!(out, "<br>{}", esc(p));
    }
    out.push_str("</footer></main></body></html>\n");
    out
}
