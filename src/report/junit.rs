//! JUnit XML: a test suite per check, a test case per parameter set.
//! Warnings pass (with the warning in system-out), as they never fail a run.

use super::Sink;
use crate::checks::Status;
use crate::engine::{Event, Reporter, RunSummary, UnitResult, Verdict};
use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};
use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

pub struct JunitReporter {
    out: Sink,
    results: Vec<UnitResult>,
    summary: Option<RunSummary>,
}

impl JunitReporter {
    pub fn new(out: Sink) -> Self {
        JunitReporter {
            out,
            results: Vec::new(),
            summary: None,
        }
    }
}

fn failure_text(r: &UnitResult) -> String {
    let mut s = String::new();
    for o in r
        .outcomes
        .iter()
        .filter(|o| matches!(o.status, Status::Fail | Status::Error))
    {
        s.push_str(&format!(
            "{} {} {}: {}\n",
            o.status.label(),
            o.severity,
            o.name,
            o.message
        ));
        for d in &o.details {
            s.push_str(&format!("    {d}\n"));
        }
    }
    s
}

fn case(r: &UnitResult, several_targets: bool) -> TestCase {
    let first_bad = r
        .outcomes
        .iter()
        .find(|o| matches!(o.status, Status::Fail | Status::Error));
    let status = match r.verdict {
        Verdict::Pass | Verdict::Warn => TestCaseStatus::success(),
        Verdict::Skip => {
            let mut s = TestCaseStatus::skipped();
            if let Some(o) = r.outcomes.first() {
                s.set_message(o.message.clone());
            }
            s
        }
        Verdict::Fail | Verdict::Error => {
            let kind = if r.verdict == Verdict::Fail {
                NonSuccessKind::Failure
            } else {
                NonSuccessKind::Error
            };
            let mut s = TestCaseStatus::non_success(kind);
            if let Some(o) = first_bad {
                s.set_message(format!("{}: {}", o.name, o.message));
                s.set_type(o.kind.clone());
            }
            s.set_description(failure_text(r));
            s
        }
    };
    let mut name = if r.param_set.is_empty() {
        r.check.clone()
    } else {
        r.param_set.clone()
    };
    if several_targets {
        name = format!("{name} @ {}", r.target);
    }
    let mut tc = TestCase::new(name, status);
    tc.set_classname(r.check.clone());
    if let Some(t) = &r.timing {
        tc.set_time(Duration::from_secs_f64(t.p50_ms / 1000.0));
    }
    if r.verdict == Verdict::Warn {
        tc.set_system_out(format!("warning:\n{}", failure_text(r)));
    }
    // Measured values as properties: `metric:shipped_pct [web]@2025-10-05`.
    for m in r.metrics.iter().filter(|m| m.judged) {
        let at = m.day.map(|d| format!("@{d}")).unwrap_or_default();
        tc.add_property(Property::new(
            format!("metric:{}{at}", m.label()),
            crate::metrics::num(m.value),
        ));
    }
    tc
}

impl Reporter for JunitReporter {
    fn on_event(&mut self, event: &Event<'_>) {
        match event {
            Event::UnitFinished(r) => self.results.push((*r).clone()),
            Event::RunFinished(s) => self.summary = Some((*s).clone()),
            Event::RunStarted { .. } => {}
        }
    }
    fn finish(&mut self) -> std::io::Result<()> {
        let Some(summary) = &self.summary else {
            return Ok(());
        };
        let mut report = Report::new(format!("assay: {}", summary.suite));
        // Load errors and an infrastructure failure are failed test cases
        // too, so CI test lists show a broken check file.
        if !summary.load_errors.is_empty() || summary.infrastructure_error.is_some() {
            let mut ts = TestSuite::new("assay.load");
            for e in &summary.load_errors {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
                s.set_message(e.message.clone());
                s.set_type("load");
                let mut text = e.located();
                if let Some(h) = &e.help {
                    text.push_str(&format!("\nhelp: {h}"));
                }
                s.set_description(text);
                let mut tc = TestCase::new(e.file.clone(), s);
                tc.set_classname("assay.load");
                ts.add_test_case(tc);
            }
            if let Some(e) = &summary.infrastructure_error {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
                s.set_message(e.clone());
                s.set_type("infrastructure");
                let mut tc = TestCase::new("database", s);
                tc.set_classname("assay.infrastructure");
                ts.add_test_case(tc);
            }
            report.add_test_suite(ts);
        }
        let mut suites: BTreeMap<&str, Vec<&UnitResult>> = BTreeMap::new();
        for r in super::sorted(&self.results) {
            suites.entry(r.check.as_str()).or_default().push(r);
        }
        for (name, results) in suites {
            let mut ts = TestSuite::new(name);
            ts.add_property(Property::new("target", summary.target.clone()));
            let several = results.iter().any(|r| r.target != results[0].target);
            for r in results {
                ts.add_test_case(case(r, several));
            }
            report.add_test_suite(ts);
        }
        let xml = report.to_string().map_err(std::io::Error::other)?;
        self.out.write_all(xml.as_bytes())?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }
}
