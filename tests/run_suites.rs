//! End-to-end runs of whole suites on the embedded target: a passing suite, a
//! suite in which every kind of expectation fails, and a warn-only suite.

mod common;

use common::{outcome, run_json, suite, unit, Assay};
use serde_json::Value;

fn status(o: &Value) -> &str {
    o["status"].as_str().unwrap()
}

#[test]
fn pass_suite_exits_zero() {
    let (out, report) = run_json(&suite("pass"), &[]);
    out.expect_code(0);
    assert_eq!(report["schema"], "assay.report/v2");
    let counts = &report["summary"]["counts"];
    assert_eq!(counts["passed"], 9, "{counts}");
    for key in ["failed", "warned", "errored", "skipped"] {
        assert_eq!(counts[key], 0, "{key}: {counts}");
    }
    for r in report["results"].as_array().unwrap() {
        assert_eq!(r["verdict"], "pass", "{r}");
        for o in r["outcomes"].as_array().unwrap() {
            assert_eq!(o["status"], "pass", "{o}");
        }
    }
    // Snapshots are compared (and found equal), not written, under CI.
    assert_eq!(
        outcome(&report, "share", "default", "snapshot")["message"],
        "matches"
    );
}

/// Every expectation of the fail suite, with the status it must end in.
const FAIL_EXPECTATIONS: &[(&str, &str, &str, &str)] = &[
    // (check, param set, outcome name, status)
    ("columns_name", "default", "columns", "fail"),
    ("columns_type", "default", "columns", "fail"),
    ("columns_nullable", "default", "columns", "fail"),
    ("shape_fails", "default", "rows", "fail"),
    ("shape_fails", "default", "not_null(channel)", "fail"),
    ("shape_fails", "default", "unique(day)", "fail"),
    ("shape_fails", "default", "accepted_values(channel)", "fail"),
    ("shape_fails", "default", "order_by", "fail"),
    ("shape_fails", "default", "amount_over_100", "fail"),
    (
        "shape_fails",
        "default",
        "amount_equals_amount_plus_one",
        "fail",
    ),
    ("shape_fails", "default", "total_over_1000", "fail"),
    ("shape_fails", "default", "first_id_is_999", "fail"),
    ("shape_fails", "default", "amounts_doubled", "fail"),
    ("shape_fails", "default", "budget", "pass"),
    (
        "relations_fail",
        "relations",
        "channels_partition_total",
        "fail",
    ),
    (
        "relations_fail",
        "relations",
        "filtered_rows_within_all",
        "fail",
    ),
    (
        "relations_fail",
        "relations",
        "narrower_window_never_more",
        "fail",
    ),
    ("snapshot_mismatch", "default", "snapshot", "fail"),
    ("slow", "default", "budget", "fail"),
    ("div_zero", "default", "query", "error"),
    ("syntax", "default", "query", "error"),
    ("bad_table", "", "row_count", "fail"),
    ("bad_table", "", "not_null(status)", "fail"),
    ("bad_table", "", "unique(id)", "fail"),
    ("bad_table", "", "valid_date(day_txt)", "fail"),
    ("bad_table", "", "pattern(code)", "fail"),
    ("bad_table", "", "accepted_values(status)", "fail"),
    ("bad_table", "", "non_negative(qty)", "fail"),
    ("bad_table", "", "freshness(day)", "fail"),
    ("bad_table", "", "avg_qty_large", "fail"),
    ("bad_table", "", "max_qty_warn", "fail"),
];

#[test]
fn fail_suite_fails_every_kind_of_check() {
    let (out, report) = run_json(&suite("fail"), &[]);
    out.expect_code(1);
    let mut wrong = Vec::new();
    for (check, set, name, want) in FAIL_EXPECTATIONS {
        let o = outcome(&report, check, set, name);
        if status(o) != *want {
            wrong.push(format!("{check} [{set}] {name}: {} (want {want})", o));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));

    // Messages say what is wrong.
    let msg = |c, s, n| {
        outcome(&report, c, s, n)["message"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(msg("columns_name", "default", "columns").contains("expected [n, title]"));
    assert!(msg("columns_type", "default", "columns").contains("`n` has type int8; expected int4"));
    assert!(msg("columns_nullable", "default", "columns").contains("`channel` is NULL in 1 rows"));
    assert_eq!(
        msg("shape_fails", "default", "rows"),
        "6 rows; expected between 1 and 2 rows"
    );
    assert!(msg("shape_fails", "default", "first_id_is_999").contains("verification says 999"));
    assert!(msg("slow", "default", "budget").contains("of 1ms budget"));
    assert!(msg("snapshot_mismatch", "default", "snapshot").contains("output differs from"));
    assert!(msg("bad_table", "", "freshness(day)").contains("latest 2025-01-03"));

    // Failing rows are sampled: row 4 is the one with a NULL channel.
    let nn = outcome(&report, "shape_fails", "default", "not_null(channel)");
    assert_eq!(
        nn["details"][0],
        "row 4: id=4 day=2025-10-02 channel=NULL amount=7.25"
    );
    // The snapshot diff shows the stored and the actual line.
    let details =
        outcome(&report, "snapshot_mismatch", "default", "snapshot")["details"].to_string();
    assert!(
        details.contains("- 2 | deliberately wrong") && details.contains("+ 1 | x"),
        "{details}"
    );

    // A runtime error and a syntax error name the query file; the syntax
    // error points at line 4 of the file (line 1 is a comment).
    let div = msg("div_zero", "default", "query");
    assert!(
        div.contains("division by zero") && div.contains("sql/endpoints/div_zero.sql"),
        "{div}"
    );
    let syn = msg("syntax", "default", "query");
    assert!(syn.contains("syntax error"), "{syn}");
    assert!(syn.contains("sql/endpoints/syntax.sql:4)"), "{syn}");

    // Severity: the warn metric fails at warn severity; the unit's verdict is
    // still `fail` because of its error-severity rules.
    let warn = outcome(&report, "bad_table", "", "max_qty_warn");
    assert_eq!(warn["severity"], "warn");
    assert_eq!(
        outcome(&report, "bad_table", "", "avg_qty_large")["severity"],
        "error"
    );

    // Verdicts per unit and the counts.
    for (check, set, verdict) in [
        ("div_zero", "default", "error"),
        ("syntax", "default", "error"),
        ("shape_fails", "default", "fail"),
        ("relations_fail", "relations", "fail"),
        ("bad_table", "", "fail"),
    ] {
        assert_eq!(unit(&report, check, set)["verdict"], verdict, "{check}");
    }
    // The parameter sets of relations_fail pass on their own.
    assert_eq!(
        unit(
            &report,
            "relations_fail",
            "channel=web window=2025-10-01..2025-10-02"
        )["verdict"],
        "pass"
    );
    let counts = &report["summary"]["counts"];
    assert_eq!(counts["errored"], 2, "{counts}");
    assert_eq!(counts["failed"], 8, "{counts}");
    assert_eq!(counts["passed"], 6, "{counts}");

    // The terminal still gets the human summary.
    assert!(out.stdout.contains("FAILED:"), "{}", out.stdout);
}

#[test]
fn warn_only_suite_exits_zero_with_warn_verdicts() {
    let (out, report) = run_json(&suite("warn"), &[]);
    out.expect_code(0);
    for (check, set) in [("totals", "default"), ("sales_soft", "")] {
        let u = unit(&report, check, set);
        assert_eq!(u["verdict"], "warn", "{u}");
    }
    assert_eq!(
        outcome(&report, "totals", "default", "many_orders")["status"],
        "fail"
    );
    assert_eq!(
        outcome(&report, "totals", "default", "many_orders")["severity"],
        "warn"
    );
    assert_eq!(
        outcome(&report, "sales_soft", "", "avg_amount_high")["status"],
        "fail"
    );
    assert_eq!(
        outcome(&report, "sales_soft", "", "non_negative(amount)")["status"],
        "pass"
    );
    assert_eq!(
        outcome(&report, "sales_soft", "", "row_count")["status"],
        "pass"
    );
    let counts = &report["summary"]["counts"];
    assert_eq!(counts["warned"], 2, "{counts}");
    assert_eq!(counts["failed"], 0, "{counts}");
}

#[test]
fn failing_snapshot_is_written_as_pending_outside_ci_and_accept_keeps_it() {
    let dir = common::suite_copy("fail");
    let snap = dir.path().join("snapshots/snapshot_mismatch/default.snap");
    let pending = dir
        .path()
        .join("snapshots/snapshot_mismatch/default.snap.new");
    let out = Assay::new(dir.path())
        .env_remove("CI")
        .args(["run", "--no-progress", "--filter", "snapshot_mismatch"])
        .run();
    out.expect_code(1);
    assert!(pending.is_file(), "no pending snapshot\n{}", out.stdout);
    assert!(std::fs::read_to_string(&pending).unwrap().contains("1 | x"));

    let out = Assay::new(dir.path()).args(["accept"]).run();
    out.expect_code(0);
    assert!(!pending.exists());
    assert!(std::fs::read_to_string(&snap).unwrap().contains("1 | x"));

    let (out, report) = run_json(dir.path(), &["--filter", "snapshot_mismatch"]);
    out.expect_code(0);
    assert_eq!(
        outcome(&report, "snapshot_mismatch", "default", "snapshot")["status"],
        "pass"
    );
}

#[test]
fn ci_never_writes_snapshot_files() {
    let dir = common::suite_copy("fail");
    let out = Assay::new(dir.path())
        .args(["run", "--no-progress", "--filter", "snapshot_mismatch"])
        .run();
    out.expect_code(1);
    assert!(!dir
        .path()
        .join("snapshots/snapshot_mismatch/default.snap.new")
        .exists());
}
