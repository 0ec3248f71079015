//! The nightly report as Markdown (a CI step summary, a chat post): the
//! latest run, changes, anomalies, flaky checks, the latest value of every
//! metric and the query time per endpoint.

use crate::history::digest::{Digest, UnitRef};
use crate::metrics::num;
use crate::report::metrics::value_text;
use std::fmt::Write;

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn list(title: &str, items: &[UnitRef], out: &mut String) {
    if items.is_empty() {
        let _ = writeln!(out, "**{title}:** none.\n");
        return;
    }
    let _ = writeln!(out, "**{title} ({})**\n", items.len());
    for u in items.iter().take(50) {
        let since = u
            .since
            .map(|s| format!(" (since {})", s.format("%Y-%m-%d %H:%M")))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "- `{}` {}{since}: {}",
            u.label,
            u.verdict.label(),
            cell(&u.message)
        );
    }
    if items.len() > 50 {
        let _ = writeln!(out, "- … and {} more", items.len() - 50);
    }
    out.push('\n');
}

pub fn render(d: &Digest) -> String {
    let mut out = String::new();
    let Some(run) = d.latest() else {
        let _ = writeln!(
            out,
            "## assay nightly: no runs recorded in {} yet",
            d.location
        );
        return out;
    };
    let verdict = match run.exit_code {
        0 => "passed",
        1 => "FAILED",
        _ => "BROKE",
    };
    let _ = writeln!(out, "## assay nightly: {} {verdict}\n", run.suite);
    let c = &run.counts;
    let _ = writeln!(
        out,
        "Latest run {} UTC (exit {}{}): {} passed, {} failed, {} errors, {} warnings, {} skipped. {} runs in the history since {}.\n",
        run.started_at.format("%Y-%m-%d %H:%M"),
        run.exit_code,
        run.version.as_deref().map(|v| format!(", version {v}")).unwrap_or_default(),
        c.passed,
        c.failed,
        c.errored,
        c.warned,
        c.skipped,
        d.runs.len(),
        d.runs[0].started_at.format("%Y-%m-%d")
    );
    if let Some(e) = &run.error {
        let _ = writeln!(out, "> The run broke: {}\n", cell(e));
    }
    match &d.changes {
        Some(ch) => {
            let _ = writeln!(
                out,
                "### Since the previous run{}\n",
                ch.previous
                    .map(|p| format!(" ({} UTC)", p.format("%Y-%m-%d %H:%M")))
                    .unwrap_or_else(|| " (none: the first run with results)".into())
            );
            list("New failures", &ch.new_failures, &mut out);
            list("Still failing", &ch.still_failing, &mut out);
            list("Fixed", &ch.fixed, &mut out);
            list("New warnings", &ch.new_warnings, &mut out);
        }
        None => out.push_str("The latest run has no results to compare.\n\n"),
    }
    let _ = writeln!(out, "### Anomalies ({})\n", d.anomalies.len());
    if !d.anomalies.is_empty() {
        out.push_str(
            "| check | metric | day | value | expected band | score |\n|---|---|---|---|---|---|\n",
        );
        for a in &d.anomalies {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} | {} | {} |",
                a.check,
                cell(&match &a.dimension {
                    Some(x) => format!("{} [{x}]", a.metric),
                    None => a.metric.clone(),
                }),
                a.day
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "this run".into()),
                value_text(a.value, a.unit.as_deref()),
                match (a.low, a.high) {
                    (Some(l), Some(h)) => format!("{}..{}", num(l), num(h)),
                    _ => "-".into(),
                },
                a.score
                    .map(|s| format!("{s:.2}"))
                    .unwrap_or_else(|| "-".into())
            );
        }
        out.push('\n');
    }
    if !d.flaky.is_empty() {
        let _ = writeln!(out, "### Flaky checks ({})\n", d.flaky.len());
        for f in &d.flaky {
            let _ = writeln!(
                out,
                "- `{}`: {} flips in {} runs, latest {}",
                f.check,
                f.flips,
                f.runs,
                f.latest.label()
            );
        }
        out.push('\n');
    }
    if !d.metrics.is_empty() {
        out.push_str("### Metrics\n\n| check | metric | latest | value | expected band | anomalies in the chart |\n|---|---|---|---|---|---|\n");
        for m in &d.metrics {
            let Some(p) = m.points.last() else { continue };
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} | {} | {} |",
                m.check,
                cell(&m.title),
                p.label,
                value_text(p.value, m.unit.as_deref()),
                match (p.low, p.high) {
                    (Some(l), Some(h)) => format!("{}..{}", num(l), num(h)),
                    _ => "-".into(),
                },
                m.points.iter().filter(|p| p.anomalous).count()
            );
        }
        out.push('\n');
    }
    if !d.query_times.is_empty() {
        out.push_str("### Query time per endpoint (p50 of the slowest parameter set)\n\n| check | latest ms | budget ms | runs | slowdowns flagged |\n|---|---|---|---|---|\n");
        for q in &d.query_times {
            let Some(p) = q.points.last() else { continue };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                cell(&q.title),
                num(p.value),
                q.budget.map(num).unwrap_or_else(|| "-".into()),
                q.points.len(),
                q.points.iter().filter(|p| p.anomalous).count()
            );
        }
        out.push('\n');
    }
    out
}
