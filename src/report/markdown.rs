//! Markdown for a CI step summary: the verdict, what failed and why, and a
//! per-check table with the slowest time.

use super::Sink;
use crate::checks::Status;
use crate::engine::{Event, Reporter, RunSummary, UnitResult, Verdict};
use std::collections::BTreeMap;
use std::io::Write;

pub struct MarkdownReporter {
    out: Sink,
    results: Vec<UnitResult>,
    summary: Option<RunSummary>,
}

impl MarkdownReporter {
    pub fn new(out: Sink) -> Self {
        MarkdownReporter {
            out,
            results: Vec::new(),
            summary: None,
        }
    }
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

impl Reporter for MarkdownReporter {
    fn on_event(&mut self, event: &Event<'_>) {
        match event {
            Event::UnitFinished(r) => self.results.push((*r).clone()),
            Event::RunFinished(s) => self.summary = Some((*s).clone()),
            Event::RunStarted { .. } => {}
        }
    }
    fn finish(&mut self) -> std::io::Result<()> {
        let Some(s) = &self.summary else {
            return Ok(());
        };
        let c = &s.counts;
        let ok = c.failed + c.errored == 0
            && s.load_errors.is_empty()
            && s.infrastructure_error.is_none();
        let mut md = String::new();
        md.push_str(&format!(
            "## assay: {} {}\n\n",
            s.suite,
            if ok { "passed" } else { "FAILED" }
        ));
        md.push_str(&format!(
            "Target: {} ({}). {} units: **{} passed**, **{} failed**, {} errors, {} warnings, {} skipped.\n\n",
            s.target, s.environment, c.total(), c.passed, c.failed, c.errored, c.warned, c.skipped
        ));
        if let Some(e) = &s.infrastructure_error {
            md.push_str(&format!("- **infrastructure error**: {}\n", cell(e)));
        }
        for e in &s.load_errors {
            md.push_str(&format!("- input error: `{}`", cell(&e.located())));
            if let Some(h) = &e.help {
                md.push_str(&format!(" — {}", cell(h)));
            }
            md.push('\n');
        }
        let sorted = super::sorted(&self.results);
        let problems: Vec<&&UnitResult> = sorted
            .iter()
            .filter(|r| !matches!(r.verdict, Verdict::Pass | Verdict::Skip))
            .collect();
        if !problems.is_empty() {
            md.push_str("### Problems\n\n| verdict | check | parameter set | expectation | message |\n|---|---|---|---|---|\n");
            for r in problems {
                for o in r
                    .outcomes
                    .iter()
                    .filter(|o| matches!(o.status, Status::Fail | Status::Error))
                {
                    md.push_str(&format!(
                        "| {} | `{}` | {} | {} | {} |\n",
                        r.verdict.label(),
                        r.check,
                        cell(&r.param_set),
                        cell(&o.name),
                        cell(&o.message)
                    ));
                }
            }
            md.push('\n');
        }
        let measured: Vec<&&UnitResult> = sorted.iter().filter(|r| !r.metrics.is_empty()).collect();
        if !measured.is_empty() {
            md.push_str("### Metrics\n\n| check | metric | day | value | expected | verdict |\n|---|---|---|---|---|---|\n");
            for r in measured {
                for m in r.metrics.iter().filter(|m| m.judged) {
                    let anomalous = m.anomaly.as_ref().is_some_and(|e| e.anomalous);
                    let broke = |name: &str| {
                        r.outcomes.iter().any(|o| {
                            o.name == name && matches!(o.status, Status::Fail | Status::Error)
                        })
                    };
                    let breaks = m.min.is_some_and(|lo| m.value < lo)
                        || m.max.is_some_and(|hi| m.value > hi)
                        || (m.day.is_none() && broke(&m.name));
                    let changed = m.day.is_none() && broke(&format!("{}.change", m.name));
                    md.push_str(&format!(
                        "| `{}` | {} | {} | {} | {} | {} |\n",
                        r.check,
                        cell(&m.label()),
                        m.day
                            .map(|d| d.to_string())
                            .unwrap_or_else(|| "this run".into()),
                        super::metrics::value_text(m.value, m.unit.as_deref()),
                        cell(&super::metrics::judgement_text(m).unwrap_or_else(|| "-".into())),
                        if anomalous {
                            "anomaly"
                        } else if breaks {
                            "threshold"
                        } else if changed {
                            "change"
                        } else {
                            "ok"
                        }
                    ));
                }
            }
            md.push('\n');
        }
        md.push_str("### Checks\n\n| check | units | verdict | slowest (ms) | budget (ms) |\n|---|---|---|---|---|\n");
        let mut by_check: BTreeMap<&str, Vec<&UnitResult>> = BTreeMap::new();
        for r in &sorted {
            by_check.entry(r.check.as_str()).or_default().push(r);
        }
        for (name, rs) in by_check {
            let worst = rs.iter().map(|r| r.verdict).max().unwrap_or(Verdict::Pass);
            let slowest = rs
                .iter()
                .filter_map(|r| r.timing.as_ref())
                .max_by(|a, b| a.judged_ms().total_cmp(&b.judged_ms()));
            let budget = rs
                .iter()
                .filter_map(|r| r.timing.as_ref())
                .map(|t| t.budget_ms)
                .next();
            md.push_str(&format!(
                "| `{name}` | {} | {} | {} | {} |\n",
                rs.len(),
                worst.label(),
                slowest
                    .map(|t| format!("{:.1} ({})", t.judged_ms(), t.judged))
                    .unwrap_or_else(|| "-".into()),
                budget
                    .map(|b| format!("{b:.0}"))
                    .unwrap_or_else(|| "-".into())
            ));
        }
        self.out.write_all(md.as_bytes())?;
        self.out.flush()
    }
}
