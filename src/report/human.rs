//! The terminal report: a line per unit, failures with their rows and diffs
//! inline, a progress bar on a TTY, colour unless NO_COLOR.

use super::Sink;
use crate::checks::Status;
use crate::engine::{Event, Reporter, UnitResult, Verdict};
use console::Style;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::Write;

pub struct HumanReporter {
    out: Sink,
    color: bool,
    progress_enabled: bool,
    bar: Option<ProgressBar>,
    several_targets: bool,
}

impl HumanReporter {
    pub fn new(out: Sink, color: bool, progress: bool) -> Self {
        HumanReporter {
            out,
            color,
            progress_enabled: progress,
            bar: None,
            several_targets: false,
        }
    }

    fn style(&self, v: Verdict) -> Style {
        if !self.color {
            return Style::new();
        }
        match v {
            Verdict::Pass => Style::new().green(),
            Verdict::Skip => Style::new().dim(),
            Verdict::Warn => Style::new().yellow(),
            Verdict::Fail | Verdict::Error => Style::new().red().bold(),
        }
    }

    fn write(&mut self, text: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| {
                let _ = self.out.write_all(text.as_bytes());
                let _ = self.out.flush();
            }),
            None => {
                let _ = self.out.write_all(text.as_bytes());
            }
        }
    }

    fn unit(&self, r: &UnitResult) -> String {
        let mut s = String::new();
        let label = format!("{:>5}", r.verdict.label());
        let timing = r
            .timing
            .as_ref()
            .map(|t| format!("  {:.1} ms ({})", t.judged_ms(), t.judged))
            .unwrap_or_default();
        let rows = r.rows.map(|n| format!("  {n} rows")).unwrap_or_default();
        s.push_str(&format!(
            "{} {}{}{}\n",
            self.style(r.verdict).apply_to(label),
            r.label_on_target(self.several_targets),
            rows,
            timing
        ));
        for (name, values) in super::metrics::judged_by_metric(&r.metrics) {
            s.push_str(&format!(
                "        metric {}\n",
                super::metrics::metric_line(name, &values)
            ));
        }
        if matches!(r.verdict, Verdict::Pass | Verdict::Skip) {
            return s;
        }
        for o in r
            .outcomes
            .iter()
            .filter(|o| matches!(o.status, Status::Fail | Status::Error))
        {
            let tag = format!("{} {}", o.status.label(), o.severity);
            s.push_str(&format!("        {} {}: {}\n", tag, o.name, o.message));
            for d in &o.details {
                s.push_str(&format!("            {d}\n"));
            }
        }
        for x in &r.reruns {
            s.push_str(&format!(
                "        executed again: {} × {} ({})\n",
                x.count, x.kind, x.why
            ));
        }
        if let Some(plan) = &r.plan {
            s.push_str("        plan (query above half its budget):\n");
            for l in super::plan::summarize(plan) {
                s.push_str(&format!("            {l}\n"));
            }
        }
        s
    }
}

impl Reporter for HumanReporter {
    fn on_event(&mut self, event: &Event<'_>) {
        match event {
            Event::RunStarted {
                suite,
                target,
                units,
                several_targets,
            } => {
                self.several_targets = *several_targets;
                let text = format!("assay: suite `{suite}` on {target}: {units} units\n");
                self.write(&text);
                if self.progress_enabled && *units > 1 {
                    let bar = ProgressBar::new(*units as u64);
                    bar.set_style(
                        ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} {msg}")
                            .unwrap_or_else(|_| ProgressStyle::default_bar())
                            .progress_chars("=> "),
                    );
                    self.bar = Some(bar);
                }
            }
            Event::UnitFinished(r) => {
                let text = self.unit(r);
                self.write(&text);
                if let Some(bar) = &self.bar {
                    bar.set_message(r.check.clone());
                    bar.inc(1);
                }
            }
            Event::RunFinished(s) => {
                if let Some(bar) = self.bar.take() {
                    bar.finish_and_clear();
                }
                let c = &s.counts;
                let mut text = String::new();
                for l in &s.replica_lag {
                    text.push_str(&format!(
                        "replica lag: {} was {:.1} s behind its primary\n",
                        l.target, l.seconds
                    ));
                }
                for e in &s.load_errors {
                    text.push_str(&format!("error: {}\n", e.located()));
                    if let Some(h) = &e.help {
                        text.push_str(&format!("  help: {h}\n"));
                    }
                }
                if let Some(e) = &s.infrastructure_error {
                    text.push_str(&format!("error: {e}\n"));
                }
                let verdict = if c.failed + c.errored > 0
                    || !s.load_errors.is_empty()
                    || s.infrastructure_error.is_some()
                {
                    self.style(Verdict::Fail).apply_to("FAILED")
                } else {
                    self.style(Verdict::Pass).apply_to("OK")
                };
                let fixtures = match s.fixtures {
                    Some(crate::db::fixtures::FixtureSource::Cached) => ": fixtures from the cache",
                    Some(crate::db::fixtures::FixtureSource::Loaded) => ": fixtures loaded",
                    _ => "",
                };
                text.push_str(&format!(
                    "\n{verdict}: {} units in {:.2} s (setup {:.2} s{fixtures}) — passed {}, failed {}, errors {}, warnings {}, skipped {}\n",
                    c.total(),
                    s.duration_ms / 1000.0,
                    s.setup_ms / 1000.0,
                    c.passed,
                    c.failed,
                    c.errored,
                    c.warned,
                    c.skipped
                ));
                self.write(&text);
            }
        }
    }

    fn finish(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}
