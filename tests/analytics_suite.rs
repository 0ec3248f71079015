//! The repository's own suite: the analytics v6 endpoints pass on the
//! corrected SQL and the plan's SQL fails the same gate.

mod common;

use common::Assay;
use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn corrected_endpoints_pass_and_the_plan_fails() {
    let dir = tempfile::tempdir().unwrap();
    let ok_json = dir.path().join("ok.json");
    let ok = Assay::new(root())
        .args(["run", "--timing-runs", "1", "--format"])
        .args([format!("json={}", ok_json.display())])
        .run();
    ok.expect_code(0);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&ok_json).unwrap()).unwrap();
    let results = report["results"].as_array().unwrap();
    let checks: std::collections::BTreeSet<&str> = results
        .iter()
        .map(|r| r["check"].as_str().unwrap())
        .collect();
    for endpoint in [
        "kpi_cards",
        "leads_trend",
        "spend_trend",
        "campaigns",
        "platform_share",
        "utm_sources",
        "wow_campaigns",
        "budget_recommendations",
        "scatter_matrix",
        "anomalies",
        "paid_split",
        "campaign_insights",
        "metrics_trend",
    ] {
        assert!(
            checks.contains(endpoint),
            "{endpoint} missing from {checks:?}"
        );
    }
    // Every snapshot was compared and matched (CI: nothing written).
    let snapshots = results
        .iter()
        .flat_map(|r| r["outcomes"].as_array().unwrap())
        .filter(|o| o["name"] == "snapshot")
        .count();
    assert!(snapshots >= 80, "only {snapshots} snapshot comparisons");

    let plan_json = dir.path().join("plan.json");
    let plan = Assay::new(root())
        .args([
            "run",
            "--timing-runs",
            "0",
            "--sql-dir",
            "sql/plan",
            "--format",
        ])
        .args([format!("json={}", plan_json.display())])
        .run();
    plan.expect_code(1);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&plan_json).unwrap()).unwrap();
    // Every one of the 13 endpoint checks catches the plan's version.
    let failing: std::collections::BTreeSet<&str> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] == "query" && matches!(r["verdict"].as_str(), Some("fail" | "error")))
        .map(|r| r["check"].as_str().unwrap())
        .collect();
    assert_eq!(failing.len(), 13, "{failing:?}");
    // The KPI query ignores the platform filter for spend (FINDINGS F2).
    let kpi_spend = report["results"].as_array().unwrap().iter().any(|r| {
        r["check"] == "kpi_cards"
            && r["outcomes"].as_array().unwrap().iter().any(|o| {
                o["name"] == "spend_matches_roi_daily_for_the_platform" && o["status"] == "fail"
            })
    });
    assert!(kpi_spend);
}
