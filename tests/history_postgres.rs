//! The PostgreSQL history store on a real primary and hot standby: schema
//! and migrations on first write, concurrent first writers, reports read
//! back (also from the standby), and the refusals: a standby, a read-only
//! database, and the database under test.

mod common;
mod pg_cluster;

use common::{suite, Assay};
use pg_cluster::Server;
use serde_json::Value;

const PASSWORD: &str = "H1story-pw-5521";

fn setup() -> (Server, String) {
    let primary = Server::primary();
    primary.psql(&format!("create role keeper login password '{PASSWORD}'"));
    primary.psql("create database results owner keeper");
    let url = primary.url("keeper", PASSWORD, "results");
    (primary, url)
}

fn run(history: &str, now: &str, extra: &[&str]) -> common::Output {
    Assay::new(suite("metrics"))
        .args(["run", "--no-progress", "--history", history])
        .args(extra.iter().copied())
        .env("ASSAY_NOW", now)
        .run()
}

fn report(history: &str) -> Value {
    let out = Assay::new(suite("metrics"))
        .args(["report", "--format", "json", "--history", history])
        .env("ASSAY_NOW", "2025-03-20T06:00:00Z")
        .run();
    out.expect_code(0);
    assert!(!out.stderr.contains(PASSWORD));
    serde_json::from_str(&out.stdout).unwrap()
}

#[test]
fn runs_go_to_a_schema_of_their_own_and_come_back_in_the_report() {
    let (primary, url) = setup();
    // Two first writers at once: the advisory lock lets one create the schema.
    let children: Vec<_> = ["2025-03-13T02:00:00Z", "2025-03-13T02:00:01Z"]
        .iter()
        .map(|now| {
            Assay::new(suite("metrics"))
                .args(["run", "--no-progress", "--history", &url])
                .env("ASSAY_NOW", now)
                .spawn()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!String::from_utf8_lossy(&out.stdout).contains(PASSWORD));
        assert!(!String::from_utf8_lossy(&out.stderr).contains(PASSWORD));
    }
    run(&url, "2025-03-14T02:00:00Z", &[]).expect_code(1);
    assert_eq!(
        primary.psql_db("results", "select string_agg(version::text || ' ' || name, '; ' order by version) from assay_history.migrations"),
        "1 runs: one row per run record, the record itself as jsonb; 2 metric_values: every measured value as a row, for SQL and dashboards"
    );
    assert_eq!(
        primary.psql_db("results", "select count(*) from assay_history.runs"),
        "3"
    );
    assert_eq!(
        primary.psql_db("results", "select count(*) from assay_history.runs where exit_code = 1 and suite = 'example-metrics'"),
        "3"
    );
    // Every measured value is a row too, for SQL and dashboards.
    assert_eq!(
        primary.psql_db(
            "results",
            "select count(*) from assay_history.metric_values where check_name = 'visits' and metric = 'ad_share_pct' and day = '2025-03-12'"
        ),
        "3"
    );
    let d = report(&url);
    assert_eq!(d["runs"].as_array().unwrap().len(), 3);
    assert!(d["location"]
        .as_str()
        .unwrap()
        .starts_with("postgres 127.0.0.1:"));
    // The previous runs feed the per-run rules (the two earlier runs, less
    // the one just before: detection 2).
    let rec = primary.psql_db(
        "results",
        "select record->'units'->0->'unit'->'outcomes' from assay_history.runs order by started_at desc limit 1",
    );
    assert!(
        rec.contains(r#""name": "rows.anomaly", "status": "skip", "message": "not judged: 1 earlier values in the training window, 7 needed""#),
        "{rec}"
    );
    // Retention.
    Assay::new(suite("metrics"))
        .args([
            "report",
            "--format",
            "json",
            "--history",
            &url,
            "--keep",
            "7d",
        ])
        .env("ASSAY_NOW", "2025-03-20T06:00:00Z")
        .run()
        .expect_code(0);
    assert_eq!(
        primary.psql_db("results", "select count(*) from assay_history.runs"),
        "1"
    );
    assert_eq!(
        primary.psql_db(
            "results",
            "select count(distinct run) from assay_history.metric_values"
        ),
        "1",
        "values go with their run"
    );
}

#[test]
fn migrations_move_an_older_schema_forward() {
    let (primary, url) = setup();
    // A history written by an assay that knew only migration 1.
    let (_, _, first) = assay::history::postgres::MIGRATIONS[0];
    primary.psql_db(
        "results",
        &format!(
            "set role keeper; create schema assay_history;
             create table assay_history.migrations (version integer primary key, name text not null, applied_at timestamptz not null default now());
             {first}
             insert into assay_history.migrations (version, name) values (1, 'runs');"
        ),
    );
    run(&url, "2025-03-13T02:00:00Z", &[]).expect_code(1);
    let record = primary.psql_db("results", "select record::text from assay_history.runs");
    primary.psql_db("results", "delete from assay_history.metric_values");
    primary.psql_db("results", "delete from assay_history.runs; delete from assay_history.migrations where version = 2; drop table assay_history.metric_values");
    primary.psql_db(
        "results",
        &format!(
            "insert into assay_history.runs (run_id, started_at, finished_at, suite, exit_code, record)
             values ('old', '2025-03-12T02:00:00Z', '2025-03-12T02:00:01Z', 'example-metrics', 1, $json${record}$json$::jsonb)"
        ),
    );
    // The next run applies migration 2, which fills metric_values from the
    // records already there.
    run(&url, "2025-03-14T02:00:00Z", &[]).expect_code(1);
    assert_eq!(
        primary.psql_db(
            "results",
            "select max(version) from assay_history.migrations"
        ),
        "2"
    );
    assert_eq!(
        primary.psql_db(
            "results",
            "select count(distinct run) from assay_history.metric_values"
        ),
        "2"
    );
    // A schema newer than this assay is refused, not misread.
    primary.psql_db(
        "results",
        "insert into assay_history.migrations (version, name) values (99, 'future')",
    );
    let out = run(&url, "2025-03-15T02:00:00Z", &[]);
    out.expect_code(2);
    assert!(
        out.stderr
            .contains("its schema is at version 99, this assay knows up to 2; upgrade assay"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_standby_a_read_only_database_and_the_database_under_test_are_refused() {
    let (primary, url) = setup();
    run(&url, "2025-03-13T02:00:00Z", &[]).expect_code(1);
    let standby = Server::standby_of(&primary);
    standby.wait_for_replay(&primary);
    let standby_url = standby.url("keeper", PASSWORD, "results");

    // A standby cannot hold new runs ...
    let out = run(&standby_url, "2025-03-14T02:00:00Z", &[]);
    out.expect_code(2);
    assert!(
        out.stderr
            .contains("is a standby (in recovery) and cannot be written; give the primary's URL"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains(PASSWORD));
    // ... but the report reads from it.
    assert_eq!(report(&standby_url)["runs"].as_array().unwrap().len(), 1);

    // A role whose transactions are read-only.
    primary.psql(&format!(
        "create role auditor login password '{PASSWORD}' in role keeper"
    ));
    primary.psql("alter role auditor set default_transaction_read_only = on");
    let ro_url = primary.url("auditor", PASSWORD, "results");
    let out = run(&ro_url, "2025-03-14T02:00:00Z", &[]);
    out.expect_code(2);
    assert!(
        out.stderr.contains(
            "is read-only (default_transaction_read_only = on for this role or database)"
        ),
        "{}",
        out.stderr
    );

    // The database under test: the same URL ...
    let out = run(&url, "2025-03-14T02:00:00Z", &["--database-url", &url]);
    out.expect_code(2);
    assert!(
        out.stderr
            .contains("which is also a --database-url under test"),
        "{}",
        out.stderr
    );
    // ... or another spelling of it (localhost instead of 127.0.0.1),
    // found by the cluster's identity once both are connected ...
    let other = url.replace("127.0.0.1", "localhost");
    let out = run(&other, "2025-03-14T02:00:00Z", &["--database-url", &url]);
    out.expect_code(2);
    assert!(
        out.stderr
            .contains("a database under test (or its primary)"),
        "{}",
        out.stderr
    );
    // ... or its primary, while the standby is tested.
    let out = run(
        &url,
        "2025-03-14T02:00:00Z",
        &["--database-url", &standby_url],
    );
    out.expect_code(2);
    assert!(
        out.stderr
            .contains("a database under test (or its primary)"),
        "{}",
        out.stderr
    );
    assert_eq!(
        primary.psql_db("results", "select count(*) from assay_history.runs"),
        "1",
        "nothing was recorded by the refused runs"
    );
}
