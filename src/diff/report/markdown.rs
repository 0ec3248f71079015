//! A pull-request comment: one row per endpoint with its verdict over the
//! parameter sets, the speed ratio and whether the plan changed, then the
//! differing rows of each endpoint folded under `<details>`.

use super::{by_check, counts_line, headline, measured, ratio};
use crate::diff::model::{DiffReport, Entry, Verdict};
use crate::timing::median;

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// `12 of 14 different, 2 errors (base)`, `same (14)`.
fn verdicts(entries: &[&Entry]) -> String {
    let n = entries.len();
    let count = |v: Verdict| entries.iter().filter(|e| e.verdict == v).count();
    let mut parts = Vec::new();
    for (v, what) in [
        (Verdict::Different, "different"),
        (Verdict::OrderOnly, "in another order"),
    ] {
        let k = count(v);
        if k > 0 {
            parts.push(format!("{k} of {n} {what}"));
        }
    }
    let errors: Vec<&&Entry> = entries
        .iter()
        .filter(|e| e.verdict == Verdict::Error)
        .collect();
    if !errors.is_empty() {
        let mut sides: Vec<&str> = errors
            .iter()
            .filter_map(|e| e.error.as_ref().map(|x| x.side.words()))
            .collect();
        sides.sort();
        sides.dedup();
        parts.push(format!(
            "{} of {n} errors ({})",
            errors.len(),
            sides.join(", ")
        ));
    }
    let mut text = if parts.is_empty() {
        if count(Verdict::Unchanged) == n {
            format!("unchanged ({n})")
        } else {
            format!("same ({n})")
        }
    } else {
        parts.join(", ")
    };
    if entries.iter().any(|e| !e.passes) {
        text = format!("**{text}**");
    } else if entries.iter().any(|e| e.acknowledged.is_some()) {
        text.push_str(" (expected)");
    }
    text
}

fn speed(entries: &[&Entry]) -> String {
    let ratios: Vec<f64> = entries
        .iter()
        .filter_map(|e| e.speed.as_ref().map(|s| s.ratio))
        .collect();
    let slower = entries
        .iter()
        .filter(|e| e.speed.as_ref().is_some_and(|s| s.slower))
        .count();
    let Some(mid) = median(ratios.clone()) else {
        return "-".into();
    };
    let lo = ratios.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut s = if ratios.len() > 1 {
        format!("{} ({}-{})", ratio(mid), ratio(lo), ratio(hi))
    } else {
        ratio(mid)
    };
    if slower > 0 {
        s = format!("**{s}, {slower} slower than allowed**");
    }
    s
}

fn plan(entries: &[&Entry]) -> String {
    let with_plan = entries.iter().filter(|e| e.plan.is_some()).count();
    if with_plan == 0 {
        return "-".into();
    }
    let changed = entries
        .iter()
        .filter(|e| e.plan.as_ref().is_some_and(|p| p.changed))
        .count();
    if changed == 0 {
        "same".into()
    } else {
        format!("changed in {changed} of {with_plan}")
    }
}

pub fn markdown(r: &DiffReport) -> String {
    let mut md = format!(
        "## assay diff: `{}` -> `{}` {}\n\n",
        r.base.describe(),
        r.current,
        if r.passes() { "passed" } else { "FAILED" }
    );
    md.push_str(&format!(
        "On {} ({}). {}.\n\n",
        cell(&r.target),
        cell(&r.data),
        counts_line(r)
    ));
    if let Some(e) = &r.infrastructure_error {
        md.push_str(&format!("- **infrastructure error**: {}\n\n", cell(e)));
    }
    md.push_str(
        "| endpoint | check | verdict | speed (current / base) | plan |\n|---|---|---|---|---|\n",
    );
    let groups = by_check(r);
    for (check, entries) in &groups {
        md.push_str(&format!(
            "| {} | `{check}` | {} | {} | {} |\n",
            entries[0]
                .endpoint
                .as_deref()
                .map(|e| format!("`{}`", cell(e)))
                .unwrap_or_else(|| "-".into()),
            verdicts(entries),
            speed(entries),
            plan(entries)
        ));
    }
    md.push('\n');
    if let Some(m) = measured(r) {
        md.push_str(&format!(
            "Speed: the median over the parameter sets (and range) of current p50 / base p50, {m}.\n\n"
        ));
    }
    for a in &r.added {
        md.push_str(&format!(
            "- added: `{}` ({}): not in the base\n",
            a.query,
            a.check.as_deref().unwrap_or("-")
        ));
    }
    for x in &r.removed {
        md.push_str(&format!("- removed: `{}`: in the base only\n", x.query));
    }
    for n in &r.not_run {
        md.push_str(&format!("- not run: `{}`: {}\n", n.check, cell(&n.reason)));
    }
    if !(r.added.is_empty() && r.removed.is_empty() && r.not_run.is_empty()) {
        md.push('\n');
    }
    for (check, entries) in &groups {
        let differing: Vec<&&Entry> = entries
            .iter()
            .filter(|e| !matches!(e.verdict, Verdict::Same | Verdict::Unchanged))
            .collect();
        if differing.is_empty() {
            continue;
        }
        md.push_str(&format!(
            "<details><summary><code>{check}</code>: {} of {} parameter sets differ</summary>\n\n```diff\n",
            differing.len(),
            entries.len()
        ));
        for e in differing.iter().take(10) {
            md.push_str(&format!("# [{}] {}\n", e.param_set, headline(e)));
            if let Some(why) = &e.acknowledged {
                md.push_str(&format!("# expected: {why}\n"));
            }
            if let Some(c) = &e.comparison {
                for d in c.details() {
                    md.push_str(&d);
                    md.push('\n');
                }
            }
        }
        if differing.len() > 10 {
            md.push_str(&format!(
                "# ... {} more parameter sets (see the JSON report)\n",
                differing.len() - 10
            ));
        }
        md.push_str("```\n\n</details>\n\n");
    }
    md
}
