//! A default run executes each endpoint query exactly once per parameter
//! set: counted by the server itself (pg_stat_statements) on a database
//! seeded with this repository's fixtures, reached as a url target.

mod common;
mod pg_cluster;

use common::Assay;
use pg_cluster::Server;
use std::collections::BTreeMap;
use std::path::Path;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A server with a database `fixtures` seeded with this repository's
/// fixtures, and the URL assay reaches it by (a url target).
fn seeded_server() -> (Server, String) {
    let server = Server::primary();
    server.psql("create role app login password 'app-pw' superuser");
    server.psql("create database fixtures owner app");
    let url = server.url("app", "app-pw", "fixtures");
    Assay::new(repo())
        .args(["seed", "--database-url", &url])
        .run()
        .expect_code(0);
    (server, url)
}

#[test]
fn each_query_runs_once_per_parameter_set() {
    let (server, url) = seeded_server();
    server.psql_db("fixtures", "create extension pg_stat_statements");
    server.psql_db("fixtures", "select pg_stat_statements_reset()");

    // Every check, as on fixtures (snapshots and exact reconciliations too).
    let report = tempfile::tempdir().unwrap();
    let json_path = report.path().join("r.json");
    let out = Assay::new(repo())
        .args([
            "run",
            "--no-progress",
            "--env",
            "fixtures",
            "--database-url",
            &url,
        ])
        .args([format!("--format=json={}", json_path.display())])
        .run();
    out.expect_code(0);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    for r in json["results"].as_array().unwrap() {
        assert!(
            r["reruns"].is_null(),
            "a default run executed {} again: {r}",
            r["check"]
        );
    }

    // Sets per check, from the suite as assay lists it.
    let list = Assay::new(repo()).args(["list"]).run();
    let mut sets: BTreeMap<String, usize> = BTreeMap::new();
    let mut current = String::new();
    for line in list.stdout.lines() {
        if let Some(set) = line.strip_prefix("    ") {
            assert!(!set.is_empty());
            *sets.get_mut(&current).unwrap() += 1;
        } else if line.contains("  GET ") {
            current = line.split_whitespace().next().unwrap().to_string();
            sets.insert(current.clone(), 0);
        }
    }
    assert_eq!(sets.len(), 13, "{}", list.stdout);

    // The server's count of each endpoint statement, identified by the
    // query file's first line (its route, as a comment: statements keep
    // their comments, and no other statement carries one).
    let calls = |check_query: &str| -> i64 {
        let text = std::fs::read_to_string(repo().join("sql/endpoints").join(check_query)).unwrap();
        let marker = text.lines().next().unwrap().replace('\'', "''");
        assert!(
            marker.starts_with("-- GET /api/"),
            "{check_query}: {marker}"
        );
        server
            .psql_db(
                "fixtures",
                &format!(
                    "select coalesce(sum(calls), 0) from pg_stat_statements \
                     where query like '%{marker}%' and query not like '%jsonb_to_recordset%' \
                     and query not ilike 'explain%'"
                ),
            )
            .parse()
            .unwrap()
    };
    let files: BTreeMap<&str, &str> = [
        ("anomalies", "anomalies.sql"),
        ("budget_recommendations", "budget_recommendations.sql"),
        ("campaign_insights", "campaign_insights.sql"),
        ("campaigns", "campaigns.sql"),
        ("kpi_cards", "kpi.sql"),
        ("leads_trend", "leads_trend.sql"),
        ("metrics_trend", "metrics_trend.sql"),
        ("paid_split", "paid_split.sql"),
        ("platform_share", "platform_share.sql"),
        ("scatter_matrix", "scatter_matrix.sql"),
        ("spend_trend", "spend_trend.sql"),
        ("utm_sources", "utm_sources.sql"),
        ("wow_campaigns", "wow.sql"),
    ]
    .into_iter()
    .collect();
    for (check, n) in &sets {
        let file = files
            .get(check.as_str())
            .unwrap_or_else(|| panic!("no file for {check}"));
        assert_eq!(
            calls(file),
            *n as i64,
            "{check}: executions vs parameter sets"
        );
    }

    // The count is the server's and it counts repetitions: with
    // --timing-runs 2 every set of kpi_cards runs three times.
    server.psql_db("fixtures", "select pg_stat_statements_reset()");
    Assay::new(repo())
        .args([
            "run",
            "--no-progress",
            "--env",
            "fixtures",
            "--database-url",
            &url,
        ])
        .args(["--filter", "kpi_cards", "--timing-runs", "2"])
        .run()
        .expect_code(0);
    assert_eq!(calls("kpi.sql"), 3 * sets["kpi_cards"] as i64);
}

/// With one job the run keeps one connection for all its units: the
/// endpoint statement is parsed once for all its parameter sets, and every
/// unit's transaction runs in the same server session. (Handed back to the
/// pool after each unit, the connection was still away when the next unit
/// started, so units alternated between two connections and each parsed
/// the statement again.)
#[test]
fn one_job_keeps_one_connection_and_parses_each_statement_once() {
    let (server, url) = seeded_server();
    // Every parse, bind and execute in the log, with the session it ran in.
    server.psql("alter system set log_min_duration_statement = 0");
    server.psql("alter system set log_line_prefix = 'session=%c '");
    server.psql("select pg_reload_conf()");

    let run = |jobs: &str| {
        let before = server.log().len();
        Assay::new(repo())
            .args(["run", "--no-progress", "--env", "fixtures"])
            .args(["--database-url", &url, "--filter", "kpi_cards"])
            .args(["--jobs", jobs])
            .run()
            .expect_code(0);
        server.log()[before..].to_string()
    };
    let sets = Assay::new(repo())
        .args(["list", "--filter", "kpi_cards"])
        .run()
        .stdout
        .lines()
        .filter(|l| l.starts_with("    "))
        .count();
    assert!(sets >= 4, "kpi_cards has {sets} parameter sets");

    let log = run("1");
    let session_of = |line: &str| {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix("session="))
            .map(str::to_string)
    };
    let kpi = |step: &str| {
        log.lines()
            .filter(|l| {
                l.contains(&format!("  {step} "))
                    && l.contains("-- GET /api/analytics/dashboard/v5/kpi")
            })
            .count()
    };
    assert_eq!(kpi("execute"), sets, "one execution per set:\n{log}");
    assert_eq!(kpi("parse"), 1, "parsed once for {sets} sets:\n{log}");
    let unit_sessions: std::collections::BTreeSet<String> = log
        .lines()
        .filter(|l| l.contains("BEGIN READ ONLY"))
        .filter_map(session_of)
        .collect();
    assert_eq!(
        log.lines()
            .filter(|l| l.contains("BEGIN READ ONLY"))
            .count(),
        sets,
        "one transaction per unit:\n{log}"
    );
    assert_eq!(
        unit_sessions.len(),
        1,
        "units in sessions {unit_sessions:?}"
    );

    // Two jobs: two kept connections at most, so at most two parses.
    let log = run("2");
    let parses = log
        .lines()
        .filter(|l| l.contains("  parse ") && l.contains("-- GET /api/analytics/dashboard/v5/kpi"))
        .count();
    assert!(
        (1..=2).contains(&parses),
        "{parses} parses with two jobs:\n{log}"
    );
}
