//! JUnit XML: a test suite per query check, a test case per parameter set.
//! A difference is a failure, an error on a side is an error; expected
//! differences pass with what differed in system-out.

use super::{by_check, headline, ratio};
use crate::diff::model::{DiffReport, Entry, Verdict};
use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};
use std::time::Duration;

fn text(e: &Entry) -> String {
    let mut s = format!("{}\n", headline(e));
    if let Some(c) = &e.comparison {
        for d in c.details() {
            s.push_str(&format!("    {d}\n"));
        }
    }
    if let Some(sp) = &e.speed {
        s.push_str(&format!(
            "speed: {} (p50 {:.3} ms -> {:.3} ms, {})\n",
            ratio(sp.ratio),
            sp.base.p50_ms,
            sp.current.p50_ms,
            sp.measured
        ));
    }
    if let Some(p) = e.plan.as_ref().filter(|p| p.changed) {
        for c in &p.changes {
            s.push_str(&format!("plan: {c}\n"));
        }
    }
    for n in &e.notes {
        s.push_str(&format!("note: {n}\n"));
    }
    s
}

fn case(e: &Entry) -> TestCase {
    let status = if e.passes {
        TestCaseStatus::success()
    } else {
        let kind = if e.verdict == Verdict::Error {
            NonSuccessKind::Error
        } else {
            NonSuccessKind::Failure
        };
        let mut s = TestCaseStatus::non_success(kind);
        let slower = e.speed.as_ref().is_some_and(|s| s.slower);
        let message = if slower && matches!(e.verdict, Verdict::Same | Verdict::Unchanged) {
            format!(
                "slower than --max-slowdown: {}",
                e.speed.as_ref().map(|s| ratio(s.ratio)).unwrap_or_default()
            )
        } else {
            format!("{}: {}", e.verdict.words(), headline(e))
        };
        s.set_message(message);
        s.set_type(format!("{:?}", e.verdict).to_lowercase());
        s.set_description(text(e));
        s
    };
    let mut tc = TestCase::new(e.param_set.clone(), status);
    tc.set_classname(e.check.clone());
    if let Some(s) = &e.speed {
        tc.set_time(Duration::from_secs_f64(s.current.p50_ms / 1000.0));
    }
    if e.passes && e.verdict != Verdict::Same && e.verdict != Verdict::Unchanged {
        let why = e.acknowledged.as_deref().unwrap_or("-");
        tc.set_system_out(format!("expected difference ({why}):\n{}", text(e)));
    }
    tc
}

pub fn junit(r: &DiffReport) -> String {
    let mut report = Report::new(format!("assay diff: {}", r.suite));
    if let Some(e) = &r.infrastructure_error {
        let mut ts = TestSuite::new("assay.infrastructure");
        let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
        s.set_message(e.clone());
        s.set_type("infrastructure");
        let mut tc = TestCase::new("database", s);
        tc.set_classname("assay.infrastructure");
        ts.add_test_case(tc);
        report.add_test_suite(ts);
    }
    for (check, entries) in by_check(r) {
        let mut ts = TestSuite::new(format!("diff.{check}"));
        ts.add_property(Property::new("base", r.base.describe()));
        ts.add_property(Property::new("target", r.target.clone()));
        for e in entries {
            ts.add_test_case(case(e));
        }
        report.add_test_suite(ts);
    }
    let mut xml = report
        .to_string()
        .unwrap_or_else(|e| format!("<!-- cannot render JUnit: {e} -->"));
    xml.push('\n');
    xml
}
