//! Metrics in table checks: values and their explanations in every report
//! format (insta snapshots), and properties of the anomaly score.

mod common;

use common::{suite, Assay};
use regex::Regex;

/// Replaces what differs between runs with placeholders.
fn redact(text: &str) -> String {
    let rules: &[(&str, &str)] = &[
        (r"127\.0\.0\.1:\d+", "127.0.0.1:[port]"),
        (r"\d+(\.\d+)? ms\b", "[t] ms"),
        (r"in \d+\.\d+ s \(setup \d+\.\d+ s", "in [t] s (setup [t] s"),
        (r#"time="[0-9.]+""#, r#"time="[t]""#),
        (r#""(duration_ms|setup_ms)": [0-9.]+"#, r#""$1": "[t]""#),
    ];
    let mut s = text.to_string();
    for (re, with) in rules {
        s = Regex::new(re).unwrap().replace_all(&s, *with).into_owned();
    }
    s
}

#[test]
fn metric_values_in_every_format() {
    let tmp = tempfile::tempdir().unwrap();
    let p = |n: &str| tmp.path().join(n);
    let out = Assay::new(suite("metrics"))
        .args(["run", "--no-progress", "-j", "1", "--format", "human"])
        // Whether fixtures come from the cache depends on earlier runs.
        .args(["--no-fixture-cache"])
        .args([
            format!("--format=json={}", p("r.json").display()),
            format!("--format=junit={}", p("junit.xml").display()),
            format!("--format=markdown={}", p("r.md").display()),
        ])
        .run();
    out.expect_code(1);
    let read = |n: &str| redact(&std::fs::read_to_string(p(n)).unwrap());
    insta::assert_snapshot!("metrics_human", redact(&out.stdout));
    insta::assert_snapshot!("metrics_json", read("r.json"));
    insta::assert_snapshot!("metrics_junit", read("junit.xml"));
    insta::assert_snapshot!("metrics_markdown", read("r.md"));
}

mod scores {
    use assay::metrics::anomaly::{explain, explain_series};
    use assay::metrics::{AnomalyRule, At, Direction};
    use chrono::{Duration, NaiveDate};
    use proptest::prelude::*;

    fn days(values: &[f64]) -> Vec<(At, f64)> {
        let d0 = NaiveDate::from_ymd_opt(2025, 9, 1).unwrap();
        values
            .iter()
            .enumerate()
            .map(|(i, v)| (At::Day(d0 + Duration::days(i as i64)), *v))
            .collect()
    }

    fn at(i: i64) -> At {
        At::Day(NaiveDate::from_ymd_opt(2025, 10, 1).unwrap() + Duration::days(i))
    }

    proptest! {
        /// The expected band holds the expected value, and the score's sign
        /// is the side the value lies on.
        #[test]
        fn band_and_score_agree(training in prop::collection::vec(-1e6f64..1e6, 7..40), value in -1e6f64..1e6) {
            let t = days(&training);
            let e = explain(&AnomalyRule::default(), at(0), value, &t);
            let (x, lo, hi, z) = (e.expected.unwrap(), e.low.unwrap(), e.high.unwrap(), e.score.unwrap());
            prop_assert!(lo <= x * (1.0 + 1e-6) + 1e-6 && x <= hi * (1.0 + 1e-6) + 1e-6);
            if (value - x).abs() > 1e-6 * x.abs().max(1.0) {
                prop_assert_eq!(z > 0.0, value > x);
            }
            prop_assert_eq!(e.anomalous, z.abs() > 3.0);
        }

        /// A constant series that moves alerts once it moves more than
        /// sensitivity × the floor, and not before (no blind spot at zero spread).
        #[test]
        fn constant_series_alert_past_the_floor(level in 1.0f64..1e5, n in 7usize..30, factor in 0.0f64..3.0) {
            let rule = AnomalyRule::default();
            let t = days(&vec![level; n]);
            let floor = (rule.min_deviation_relative * level).max(rule.min_deviation_absolute);
            let moved = level - factor * rule.sensitivity * floor;
            let e = explain(&rule, at(0), moved, &t);
            // Away from the edge of the band (rounding of the statistics).
            prop_assume!((factor - 1.0).abs() > 1e-3);
            prop_assert_eq!(e.anomalous, factor > 1.0, "{}", e.why);
        }

        /// Without a relative floor, adding a constant changes nothing; with
        /// only a relative floor, scaling changes nothing.
        #[test]
        fn shift_and_scale_invariance(training in prop::collection::vec(0.0f64..1000.0, 7..30), value in 0.0f64..1000.0, shift in -1e4f64..1e4, scale in 0.01f64..100.0) {
            let shifted = AnomalyRule { min_deviation_relative: 0.0, ..Default::default() };
            let t = days(&training);
            let a = explain(&shifted, at(0), value, &t);
            let ts = days(&training.iter().map(|v| v + shift).collect::<Vec<_>>());
            let b = explain(&shifted, at(0), value + shift, &ts);
            prop_assert!((a.score.unwrap() - b.score.unwrap()).abs() < 1e-3 * a.score.unwrap().abs().max(1.0));
            let scaled = AnomalyRule { min_deviation_absolute: 0.0, ..Default::default() };
            let a = explain(&scaled, at(0), value, &t);
            let tk = days(&training.iter().map(|v| v * scale).collect::<Vec<_>>());
            let b = explain(&scaled, at(0), value * scale, &tk);
            if let (Some(za), Some(zb)) = (a.score, b.score) {
                prop_assert!((za - zb).abs() < 1e-3 * za.abs().max(1.0), "{za} vs {zb}");
            }
        }

        /// Moving a value further from the expectation never clears it, and
        /// a one-sided rule never flags the other side.
        #[test]
        fn further_is_never_better(training in prop::collection::vec(0.0f64..100.0, 7..30), d1 in 0.0f64..500.0, extra in 0.0f64..500.0) {
            let rule = AnomalyRule::default();
            let t = days(&training);
            let x = explain(&rule, at(0), 0.0, &t).expected.unwrap();
            let near = explain(&rule, at(0), x - d1, &t);
            let far = explain(&rule, at(0), x - d1 - extra, &t);
            prop_assert!(!near.anomalous || far.anomalous);
            let up = AnomalyRule { direction: Direction::Up, ..Default::default() };
            prop_assert!(!explain(&up, at(0), x - d1 - extra, &t).anomalous);
        }

        /// Every point of any series gets an explanation, and none panics.
        #[test]
        fn every_point_is_explained(values in prop::collection::vec(-1e3f64..1e3, 0..80)) {
            let e = explain_series(&AnomalyRule::default(), &days(&values));
            prop_assert_eq!(e.len(), values.len());
            prop_assert!(e.iter().all(|x| !x.why.is_empty()));
        }
    }
}

#[test]
fn bad_metric_keys_name_the_file_line_and_fix() {
    let cases: &[(&str, &str)] = &[
        (
            "  - metric: {sql: \"count(*)\", op: \">=\"}\n",
            "checks/t.yaml:5: `op` and `value` go together",
        ),
        (
            "  - metric: {sql: \"count(*)\", min: 5, max: 1}\n",
            "checks/t.yaml:5: `min` 5 is above `max` 1",
        ),
        (
            "  - metric: {sql: \"count(*)\", by: day}\n",
            "checks/t.yaml:5: `by` belongs to a series over days",
        ),
        (
            "  - metric: {sql: \"count(*)\", per_day: day, days: 10}\n    anomaly: {}\n",
            "checks/t.yaml:5: `days: 10` is shorter than the anomaly rule's training (14) plus detection (2)",
        ),
        (
            "  - row_count: {min: 1}\n    change: {direction: up}\n",
            "checks/t.yaml:6: `change` needs a limit",
        ),
        (
            "  - not_null: [day]\n    anomaly: {}\n",
            "checks/t.yaml:6: `anomaly` needs an entry that measures a value",
        ),
        (
            "  - row_count: {min: 1}\n    anomaly: {sensitivity: 0}\n",
            "checks/t.yaml:6: anomaly: `sensitivity: 0` must be a positive number",
        ),
        (
            "  - row_count: {min: 1}\n    anomaly: {training: 5, min_training: 9}\n",
            "checks/t.yaml:6: anomaly: `min_training: 9` is more than `training: 5`",
        ),
        (
            "  - row_count: {min: 1}\n    anomaly: {seasonality: weekly}\n",
            "checks/t.yaml:6:",
        ),
    ];
    for (entry, want) in cases {
        let dir = common::write_suite(&[
            (
                "assay.yaml",
                "name: t\npostgres_version: 15\npaths: {checks: checks, endpoint_sql: checks}\n",
            ),
            (
                "checks/t.yaml",
                &format!("name: t\ntable: m.visits\nchecks:\n  - row_count: {{min: 1}}\n{entry}"),
            ),
        ]);
        let out = Assay::new(dir.path()).args(["validate"]).run();
        out.expect_code(2);
        assert!(
            out.stderr.contains(want),
            "want `{want}` for\n{entry}\ngot:\n{}",
            out.stderr
        );
        assert!(
            out.stderr.contains("help:") || want.ends_with(':'),
            "{}",
            out.stderr
        );
    }
}
