//! `assay run --history DIR`: every run recorded (also those ending with
//! exit 2 or 3), partition jobs writing at once and grouped into one run,
//! retention, and per-run rules reading earlier runs.

mod common;

use common::{suite, suite_copy, Assay, Output};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn records(history: &Path) -> Vec<Value> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(history.join("runs"))
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "json"));
    files.sort();
    files
        .iter()
        .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
        .collect()
}

fn run_with_history(dir: &Path, history: &Path, now: &str, extra: &[&str]) -> Output {
    Assay::new(dir)
        .args(["run", "--no-progress", "--history"])
        .args([history.as_os_str()])
        .args(extra.iter().copied())
        .env("ASSAY_NOW", now)
        .run()
}

fn report_json(history: &Path, now: &str, extra: &[&str]) -> Value {
    let out = Assay::new(history.parent().unwrap())
        .args(["report", "--format", "json", "--history"])
        .args([history.as_os_str()])
        .args(extra.iter().copied())
        .env("ASSAY_NOW", now)
        .run();
    out.expect_code(0);
    serde_json::from_str(&out.stdout).unwrap()
}

#[test]
fn runs_that_break_are_recorded_with_their_exit_code() {
    let tmp = tempfile::tempdir().unwrap();
    let history = tmp.path().join("history");
    // exit 0
    run_with_history(&suite("pass"), &history, "2025-10-01T02:00:00Z", &[]).expect_code(0);
    // exit 2: a check file that does not parse (the rest still runs)
    let bad = suite_copy("pass");
    std::fs::write(
        bad.path().join("checks/broken.yaml"),
        "name: broken\ntable: x\nchecks: [{row_count: {mni: 1}}]\n",
    )
    .unwrap();
    run_with_history(bad.path(), &history, "2025-10-02T02:00:00Z", &[]).expect_code(2);
    // exit 3: the database cannot be reached (its password never shows)
    let out = run_with_history(
        &suite("pass"),
        &history,
        "2025-10-03T02:00:00Z",
        &[
            "--database-url",
            "postgres://assay:hunter2@127.0.0.1:9/nowhere",
        ],
    );
    out.expect_code(3);
    let recs = records(&history);
    assert_eq!(recs.len(), 3);
    assert_eq!(
        recs.iter()
            .map(|r| r["exit_code"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        [0, 2, 3]
    );
    assert!(recs[1]["input_errors"][0]
        .as_str()
        .unwrap()
        .contains("broken.yaml"));
    assert!(
        !recs[1]["units"].as_array().unwrap().is_empty(),
        "the rest of the suite ran"
    );
    let error = recs[2]["error"].as_str().unwrap();
    assert!(error.contains("127.0.0.1:9/nowhere"), "{error}");
    assert!(!error.contains("hunter2"), "{error}");
    assert!(recs[2]["units"].as_array().unwrap().is_empty());
    for r in &recs {
        assert_eq!(r["format"], "assay.history/v1");
        assert_eq!(r["suite"], "example-pass");
    }
    // The report says the latest run broke, and why.
    let d = report_json(&history, "2025-10-03T06:00:00Z", &[]);
    assert_eq!(d["runs"].as_array().unwrap().len(), 3);
    assert_eq!(d["runs"][2]["exit_code"], 3);
    assert!(
        d["changes"].is_null(),
        "no results to compare in a run that broke"
    );
    let html_dir = tempfile::tempdir().unwrap();
    let html = html_dir.path().join("r.html");
    Assay::new(html_dir.path())
        .args(["report", "--history"])
        .args([history.as_os_str()])
        .args([format!("--format=html={}", html.display())])
        .run()
        .expect_code(0);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains(r#"<span class="badge broke" id="verdict">BROKE</span>"#));
    assert!(page.contains(r#"<div class="broke-box" id="broke">The latest run ended with exit 3"#));
    assert!(!page.contains("hunter2"));
}

#[test]
fn partition_jobs_write_at_once_and_report_as_one_run() {
    let tmp = tempfile::tempdir().unwrap();
    let history = tmp.path().join("history");
    let dir = suite("pass");
    // Three jobs of one CI pipeline, at the same time, into one directory.
    let children: Vec<_> = (1..=3)
        .map(|k| {
            Assay::new(&dir)
                .args(["run", "--no-progress", "--history"])
                .args([history.as_os_str()])
                .args(["--partition", &format!("hash:{k}/3")])
                .env("ASSAY_NOW", "2025-10-01T02:00:00Z")
                .env("GITHUB_RUN_ID", "777")
                .env("GITHUB_RUN_ATTEMPT", "1")
                .spawn()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let recs = records(&history);
    assert_eq!(recs.len(), 3);
    assert!(recs.iter().all(|r| r["run_id"] == "github-777-1"));
    let whole = common::run_json(&dir, &[]).1;
    let d = report_json(&history, "2025-10-01T06:00:00Z", &[]);
    let runs = d["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1, "the three jobs are one run");
    assert_eq!(runs[0]["parts"].as_array().unwrap().len(), 3);
    assert!(runs[0].get("missing_parts").is_none());
    assert_eq!(
        runs[0]["counts"]["passed"], whole["summary"]["counts"]["passed"],
        "the jobs together ran the whole suite"
    );
    // A split run missing a job says so.
    run_with_history(
        &dir,
        &history,
        "2025-10-02T02:00:00Z",
        &["--partition", "hash:1/2", "--run-id", "nightly-2"],
    )
    .expect_code(0);
    let d = report_json(&history, "2025-10-02T06:00:00Z", &[]);
    assert_eq!(
        d["runs"][1]["missing_parts"],
        serde_json::json!(["hash:2/2"])
    );
}

#[test]
fn keep_removes_old_runs_and_since_limits_the_report() {
    let tmp = tempfile::tempdir().unwrap();
    let history = tmp.path().join("history");
    let dir = suite("pass");
    for day in ["2025-07-01", "2025-09-01", "2025-09-25"] {
        run_with_history(&dir, &history, &format!("{day}T02:00:00Z"), &[]).expect_code(0);
    }
    let d = report_json(&history, "2025-10-01T06:00:00Z", &["--since", "10d"]);
    assert_eq!(d["runs"].as_array().unwrap().len(), 1);
    assert_eq!(records(&history).len(), 3, "--since only reads");
    // A run with --keep 60d removes the July run.
    run_with_history(&dir, &history, "2025-10-01T02:00:00Z", &["--keep", "60d"]).expect_code(0);
    assert_eq!(records(&history).len(), 3);
    // The report can prune as well.
    let d = report_json(&history, "2025-10-01T06:00:00Z", &["--keep", "14d"]);
    assert_eq!(d["runs"].as_array().unwrap().len(), 2);
    assert_eq!(records(&history).len(), 2);
}

#[test]
fn bad_history_locations_and_flags_are_input_errors() {
    // A directory with other files is not taken for a history.
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("notes.txt"), "mine").unwrap();
    let out = run_with_history(&suite("pass"), tmp.path(), "2025-10-01T02:00:00Z", &[]);
    out.expect_code(2);
    assert!(
        out.stderr.contains("is not an assay history directory"),
        "{}",
        out.stderr
    );
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        1,
        "nothing written"
    );
    // A report of a history that does not exist.
    let out = Assay::new(tmp.path())
        .args(["report", "--history", "missing"])
        .run();
    out.expect_code(2);
    assert!(
        out.stderr.contains("no history at missing"),
        "{}",
        out.stderr
    );
    let out = Assay::new(suite("pass"))
        .args(["run", "--keep", "9d"])
        .run();
    out.expect_code(2);
    assert!(
        out.stderr.contains("--keep goes with --history"),
        "{}",
        out.stderr
    );
    let out = run_with_history(
        &suite("pass"),
        &tmp.path().join("h"),
        "2025-10-01T02:00:00Z",
        &["--keep", "soon"],
    );
    out.expect_code(2);
    assert!(
        out.stderr.contains("--keep: invalid duration `soon`"),
        "{}",
        out.stderr
    );
    let out = Assay::new(suite("pass"))
        .args(["run", "--history", "h"])
        .env("ASSAY_NOW", "yesterday")
        .run();
    out.expect_code(2);
    assert!(
        out.stderr
            .contains("ASSAY_NOW=`yesterday` is not an RFC 3339 time"),
        "{}",
        out.stderr
    );
    let out = Assay::new(tmp.path())
        .args(["report", "--history", "h", "--format", "pdf"])
        .run();
    out.expect_code(2);
    assert!(
        out.stderr.contains("writes html, markdown or json"),
        "{}",
        out.stderr
    );
}

#[test]
fn per_run_rules_read_the_previous_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let history = tmp.path().join("history");
    let dir = suite_copy("metrics");
    let json = tmp.path().join("r.json");
    let first = run_with_history(dir.path(), &history, "2025-03-13T02:00:00Z", &[]);
    first.expect_code(1);
    // The table loses two thirds of its rows before the next night.
    let schema = std::fs::read_to_string(dir.path().join("schema.sql")).unwrap();
    std::fs::write(
        dir.path().join("schema.sql"),
        format!("{schema}\ndelete from m.visits where day < date '2025-03-09';\n"),
    )
    .unwrap();
    let second = run_with_history(
        dir.path(),
        &history,
        "2025-03-14T02:00:00Z",
        &[&format!("--format=json={}", json.display())],
    );
    second.expect_code(1);
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let change = common::outcome(&report, "visits", "", "rows.change");
    assert_eq!(change["status"], "fail", "{change}");
    assert_eq!(change["severity"], "warn");
    assert_eq!(
        change["message"],
        "24 -> 8: -16 (-66.7 %), more than the allowed 50 % drop since the run of 2025-03-13 02:00"
    );
    let anomaly = common::outcome(&report, "visits", "", "rows.anomaly");
    assert_eq!(anomaly["status"], "skip");
    assert_eq!(
        anomaly["message"],
        "not judged: 0 earlier values in the training window, 7 needed"
    );
}
