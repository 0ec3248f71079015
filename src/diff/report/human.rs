//! The terminal report: a block per query, a line per parameter set with its
//! verdict, speed ratio and plan, and the differing rows under it
//! (`+` only in the current output, `-` only in the base, `~` modified).

use super::{counts_line, duration, headline, measured, ratio};
use crate::diff::model::{DiffReport, Entry, Verdict};
use console::Style;

struct Paint {
    color: bool,
}

impl Paint {
    fn style(&self, s: Style) -> Style {
        if self.color {
            s
        } else {
            Style::new()
        }
    }
    fn verdict(&self, e: &Entry) -> String {
        let label = format!("{:>9}", e.verdict.label());
        let s = match (e.verdict, e.passes) {
            (Verdict::Same, _) => Style::new().green(),
            (Verdict::Unchanged, _) => Style::new().dim(),
            (_, true) => Style::new().yellow(),
            (Verdict::OrderOnly, false) => Style::new().yellow().bold(),
            (_, false) => Style::new().red().bold(),
        };
        self.style(s).apply_to(label).to_string()
    }
    fn detail(&self, line: &str) -> String {
        let s = match line.chars().next() {
            Some('+') => Style::new().green(),
            Some('-') => Style::new().red(),
            Some('~') => Style::new().yellow(),
            _ => Style::new(),
        };
        self.style(s).apply_to(line).to_string()
    }
    fn bold(&self, text: &str) -> String {
        self.style(Style::new().bold()).apply_to(text).to_string()
    }
}

fn speed_text(e: &Entry) -> String {
    match &e.speed {
        Some(s) => {
            let mut t = format!(
                "{} -> {} ({})",
                duration(s.base.p50_ms),
                duration(s.current.p50_ms),
                ratio(s.ratio)
            );
            if s.slower {
                t.push_str(" SLOWER");
            }
            t
        }
        None => String::new(),
    }
}

fn entry(p: &Paint, e: &Entry, width: usize, out: &mut String) {
    let speed = speed_text(e);
    let plan = match &e.plan {
        Some(pl) if pl.changed => "  plan changed",
        _ => "",
    };
    out.push_str(&format!(
        "{} {:width$}  {}{}{}\n",
        p.verdict(e),
        e.param_set,
        headline(e),
        if speed.is_empty() {
            String::new()
        } else {
            format!("  {speed}")
        },
        plan,
    ));
    let pad = " ".repeat(12);
    if let Some(why) = &e.acknowledged {
        out.push_str(&format!("{pad}expected to differ: {why}\n"));
    }
    if let Some(c) = &e.comparison {
        if e.verdict != Verdict::Same {
            for d in c.details() {
                out.push_str(&format!("{pad}{}\n", p.detail(&d)));
            }
        }
    }
    if let Some(pl) = &e.plan {
        if pl.changed {
            for ch in &pl.changes {
                out.push_str(&format!("{pad}plan: {ch}\n"));
            }
        }
    }
    if let Some(s) = &e.speed {
        if s.slower {
            out.push_str(&format!(
                "{pad}slower: {} of the base's time, past --max-slowdown\n",
                ratio(s.ratio)
            ));
        }
    }
    if e.verdict != Verdict::Same {
        for n in &e.notes {
            out.push_str(&format!("{pad}note: {n}\n"));
        }
    }
}

pub fn human(r: &DiffReport, color: bool) -> String {
    let p = Paint { color };
    let mut out = String::new();
    out.push_str(&format!(
        "assay diff: suite `{}`, base {} -> current {}\n",
        r.suite,
        r.base.describe(),
        r.current
    ));
    let timing = match measured(r) {
        Some(m) => format!("speed: p50 of each side, {m}"),
        None => "speed: nothing timed".into(),
    };
    out.push_str(&format!("on {} ({}); {timing}\n", r.target, r.data));
    for (check, entries) in super::by_check(r) {
        let first = entries[0];
        out.push('\n');
        let mut head = format!("{check} ({}", first.query);
        if let Some(ep) = &first.endpoint {
            head.push_str(&format!(", {ep}"));
        }
        if let Some(k) = entries.iter().find_map(|e| e.key.as_ref()) {
            head.push_str(&format!(
                "; rows by key {} ({})",
                k.columns.join(", "),
                k.from
            ));
        }
        head.push(')');
        out.push_str(&p.bold(&head));
        out.push('\n');
        let width = entries.iter().map(|e| e.param_set.len()).max().unwrap_or(0);
        for e in entries {
            entry(&p, e, width, &mut out);
        }
    }
    if !r.added.is_empty() || !r.removed.is_empty() || !r.not_run.is_empty() {
        out.push('\n');
    }
    for a in &r.added {
        out.push_str(&format!(
            "    ADDED {} ({}): the base has no such query file; nothing to compare\n",
            a.check.as_deref().unwrap_or("-"),
            a.query
        ));
    }
    for x in &r.removed {
        out.push_str(&format!(
            "  REMOVED {}: in the base only; no current check runs it\n",
            x.query
        ));
    }
    for n in &r.not_run {
        out.push_str(&format!("  not run {}: {}\n", n.check, n.reason));
    }
    for name in &r.expected_but_same {
        out.push_str(&format!(
            "note: --expect-different {name}, but every parameter set is the same\n"
        ));
    }
    if let Some(e) = &r.infrastructure_error {
        out.push_str(&format!("\nerror: {e}\n"));
    }
    let verdict = if r.passes() {
        p.style(Style::new().green().bold()).apply_to("SAME")
    } else {
        p.style(Style::new().red().bold()).apply_to("DIFFERENT")
    };
    let verdict = if r.passes() && (r.counts.different + r.counts.order_only + r.counts.error) > 0 {
        p.style(Style::new().yellow().bold())
            .apply_to("EXPECTED DIFFERENCES")
    } else {
        verdict
    };
    out.push_str(&format!(
        "\n{verdict}: {} in {:.2} s (setup {:.2} s)\n",
        counts_line(r),
        r.duration_ms / 1000.0,
        r.setup_ms / 1000.0
    ));
    out
}
