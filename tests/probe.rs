//! `assay probe` against a reference API (tests/reference_api) over a real
//! fixture database (a PostgreSQL cluster seeded with `assay seed`): the API
//! as it should be passes; each defect fails on its own route, exit 1; a
//! header secret never shows; TLS with a CA of our own; an API that cannot
//! be reached exits 3 after its retries; every report format snapshotted.

mod common;
mod pg_cluster;
mod reference_api;

use common::{write_suite, Assay, Output};
use pg_cluster::Server;
use reference_api::{Behaviour, Defect, Style, Tls};
use regex::Regex;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A copy of the analytics suite (for check files changed by a test).
fn suite_copy() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("assay-test-probe-suite-")
        .tempdir()
        .unwrap();
    std::fs::copy(repo().join("assay.yaml"), dir.path().join("assay.yaml")).unwrap();
    std::fs::copy(repo().join("model.yaml"), dir.path().join("model.yaml")).unwrap();
    for d in ["checks", "sql", "fixtures"] {
        common::copy_dir(&repo().join(d), &dir.path().join(d));
    }
    dir
}

/// Adds lines under a check file's `api:` section (creating it).
fn add_api(suite: &Path, check_file: &str, lines: &[&str]) {
    let p = suite.join("checks/endpoints").join(check_file);
    let mut text = std::fs::read_to_string(&p).unwrap();
    let block: String = lines.iter().map(|l| format!("  {l}\n")).collect();
    match text.find("\napi:\n") {
        Some(i) => text.insert_str(i + "\napi:\n".len(), &block),
        None => text.push_str(&format!("\napi:\n{block}")),
    }
    std::fs::write(p, text).unwrap();
}

/// What one probe wrote: human on stdout, the other formats in files.
struct Reports {
    out: Output,
    json: Value,
    json_text: String,
    junit: String,
    markdown: String,
}

impl Reports {
    fn all_text(&self) -> String {
        format!(
            "{}\n{}\n{}\n{}\n{}",
            self.out.stdout, self.out.stderr, self.json_text, self.junit, self.markdown
        )
    }
    fn results(&self) -> &Vec<Value> {
        self.json["results"].as_array().expect("results")
    }
    /// Checks with a failing or erroring unit.
    fn failing_checks(&self) -> BTreeSet<String> {
        self.results()
            .iter()
            .filter(|r| matches!(r["verdict"].as_str(), Some("fail" | "error")))
            .map(|r| r["check"].as_str().unwrap().to_string())
            .collect()
    }
    fn units_of(&self, check: &str) -> Vec<&Value> {
        self.results()
            .iter()
            .filter(|r| r["check"] == check)
            .collect()
    }
}

fn outcome<'a>(unit: &'a Value, name: &str) -> &'a Value {
    unit["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == name)
        .unwrap_or_else(|| panic!("no outcome {name} in {unit:#}"))
}

fn probe(suite: &Path, api: &str, extra: &[&str]) -> Reports {
    probe_env(suite, api, extra, &[])
}

fn probe_env(suite: &Path, api: &str, extra: &[&str], env: &[(&str, &str)]) -> Reports {
    let tmp = tempfile::Builder::new()
        .prefix("assay-test-probe-")
        .tempdir()
        .unwrap();
    let p = |n: &str| tmp.path().join(n);
    let mut cmd = Assay::new(suite)
        .args([
            "probe",
            "--no-progress",
            "--api-url",
            api,
            "--format",
            "human",
        ])
        .args([
            format!("--format=json={}", p("r.json").display()),
            format!("--format=junit={}", p("junit.xml").display()),
            format!("--format=markdown={}", p("r.md").display()),
        ])
        .args(extra.iter().copied());
    for (k, v) in env {
        cmd = cmd.env(k, v);
    }
    let out = cmd.run();
    let read = |n: &str| {
        std::fs::read_to_string(p(n)).unwrap_or_else(|e| {
            panic!(
                "no {n}: {e}\n--- stdout\n{}\n--- stderr\n{}",
                out.stdout, out.stderr
            )
        })
    };
    let json_text = read("r.json");
    Reports {
        json: serde_json::from_str(&json_text).unwrap(),
        json_text,
        junit: read("junit.xml"),
        markdown: read("r.md"),
        out,
    }
}

/// A cluster holding the analytics fixtures, and a read-only role's URL.
fn fixture_database() -> (Server, String) {
    const WRITER: &str = "Probe-Wr1ter-55";
    const READER: &str = "Probe-R3ader-77";
    let server = Server::primary();
    server.psql(&format!("create role writer login password '{WRITER}'"));
    server.psql(&format!("create role reader login password '{READER}'"));
    server.psql("create database analytics owner writer");
    Assay::new(repo())
        .args([
            "seed",
            "--database-url",
            &server.url("writer", WRITER, "analytics"),
        ])
        .run()
        .expect_code(0);
    server.psql_db(
        "analytics",
        "grant usage on schema dashboards to reader; grant select on all tables in schema dashboards to reader",
    );
    let url = server.url("reader", READER, "analytics");
    (server, url)
}

fn with_defect(route: &'static str, defect: Defect) -> Behaviour {
    Behaviour {
        defect: Some((route, defect)),
        ..Default::default()
    }
}

/// Replaces what differs between runs with placeholders.
fn redact(text: &str) -> String {
    let rules: &[(&str, &str)] = &[
        (r"127\.0\.0\.1:\d+", "127.0.0.1:[port]"),
        (r"\d+(\.\d+)? ms\b", "[t] ms"),
        (
            r"in \d+\.\d+ s \(setup \d+\.\d+ s\)",
            "in [t] s (setup [t] s)",
        ),
        (r#"time="[0-9.]+""#, r#"time="[t]""#),
        // markdown: the `slowest (ms)` column
        (
            r"(?m)\| \d+\.\d+ (\([^)]*\) )?\| (\S+) \|$",
            "| [t] $1| $2 |",
        ),
    ];
    let mut s = text.to_string();
    for (re, with) in rules {
        s = Regex::new(re).unwrap().replace_all(&s, *with).into_owned();
    }
    s
}

fn redact_json(text: &str) -> String {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(m) => {
                for (k, val) in m.iter_mut() {
                    match k.as_str() {
                        "duration_ms" | "setup_ms" | "p50_ms" | "p95_ms" | "max_ms" => {
                            assert!(val.is_number(), "{k} is not a number: {val}");
                            *val = Value::String("[t]".into());
                        }
                        _ => walk(val),
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(walk),
            _ => {}
        }
    }
    let mut v: Value = serde_json::from_str(text).unwrap();
    walk(&mut v);
    redact(&serde_json::to_string_pretty(&v).unwrap())
}

#[test]
fn the_reference_api_passes_and_every_defect_fails_on_its_own_route() {
    let (_db, db_url) = fixture_database();
    let suite = repo();
    let quick = ["--database-url", &db_url];

    // The API as the frontend expects it: every unit and the page pass.
    let api = reference_api::start(&db_url, Behaviour::default());
    let r = probe(suite, &api.url, &["--database-url", &db_url]);
    r.out.expect_code(0);
    let endpoints: Vec<&Value> = r
        .results()
        .iter()
        .filter(|u| u["kind"] == "endpoint")
        .collect();
    assert_eq!(endpoints.len(), 100, "one unit per check and parameter set");
    for u in &endpoints {
        assert_eq!(u["verdict"], "pass", "{u:#}");
        assert_eq!(outcome(u, "rows")["status"], "pass", "{u:#}");
        assert_eq!(outcome(u, "shape")["status"], "pass", "{u:#}");
        // Fast answers are judged on their first call (automatic timing).
        assert_eq!(u["timing"]["runs"], 1);
        assert_eq!(u["timing"]["judged"], "1 run");
        assert!(u.get("reruns").is_none(), "{u:#}");
    }
    let page = r.units_of("page");
    assert_eq!(page.len(), 1);
    assert_eq!(page[0]["kind"], "page");
    assert_eq!(page[0]["params"].as_object().unwrap().len(), 13);
    assert_eq!(
        page[0]["params"]["kpi_cards"],
        "platform=null window=2025-10-01..2025-10-03"
    );
    assert_eq!(page[0]["params"]["campaigns"], "default_top_20");
    assert_eq!(outcome(page[0], "page_load")["status"], "pass");
    assert!(r.json["summary"]["target"]
        .as_str()
        .unwrap()
        .contains("(rows compared with 127.0.0.1:"));

    // Without a database: status, shape and time only, and the report says so.
    let r = probe(suite, &api.url, &[]);
    r.out.expect_code(0);
    assert!(
        r.json["summary"]["target"]
            .as_str()
            .unwrap()
            .ends_with("(no --database-url: status, shape and time only)"),
        "{}",
        r.json["summary"]
    );
    assert!(r
        .out
        .stdout
        .contains("no --database-url: status, shape and time only"));
    for u in r.results().iter().filter(|u| u["kind"] == "endpoint") {
        let rows = outcome(u, "rows");
        assert_eq!(rows["status"], "skip");
        assert_eq!(
            rows["message"],
            "not compared: no --database-url (status, shape and time only)"
        );
    }
    drop(api);

    // (a) canned rows on one route: the mock-data detector.
    let api = reference_api::start(
        &db_url,
        with_defect(
            reference_api::PLATFORM_SHARE,
            Defect::MockRows(json!([
                {"platform": "meta", "leads": 120, "share_pct": 60.0},
                {"platform": "google", "leads": 80, "share_pct": 40.0},
            ])),
        ),
    );
    let r = probe(suite, &api.url, &quick);
    r.out.expect_code(1);
    assert_eq!(
        r.failing_checks(),
        BTreeSet::from(["platform_share".to_string()])
    );
    for u in r.units_of("platform_share") {
        let rows = outcome(u, "rows");
        assert_eq!(rows["status"], "fail");
        let m = rows["message"].as_str().unwrap();
        assert!(
            m.starts_with("GET /api/analytics/sales/v5/share/platforms?date_from=")
                && m.contains("does not return what the SQL returns (read twice)")
                && m.contains("only in the API"),
            "{m}"
        );
        assert!(rows["details"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d == "only in the API: platform=meta leads=120 share_pct=60"));
    }
    assert!(
        r.out.stdout.contains("FAIL platform_share [default]"),
        "{}",
        r.out.stdout
    );
    drop(api);

    // Data that moved between the API's answer and the SQL: read again, agreed.
    let api = reference_api::start(
        &db_url,
        with_defect(
            reference_api::PLATFORM_SHARE,
            Defect::MockRowsOnce(
                json!([{"platform": "meta", "leads": 1, "share_pct": 100.0}]),
                Default::default(),
            ),
        ),
    );
    let r = probe(
        suite,
        &api.url,
        &[
            "--filter",
            "platform_share",
            "-j",
            "1",
            "--database-url",
            &db_url,
        ],
    );
    r.out.expect_code(0);
    let first = r
        .units_of("platform_share")
        .into_iter()
        .find(|u| u["param_set"] == "default")
        .unwrap();
    assert!(
        outcome(first, "rows")["message"]
            .as_str()
            .unwrap()
            .ends_with(
                "as the SQL on the second read (the first read differed: the data moved meanwhile)"
            ),
        "{first:#}"
    );
    assert_eq!(first["reruns"][0]["kind"], "reread");
    drop(api);

    // (b) a route that ignores `platform`: the filtered sets fail.
    let api = reference_api::start(
        &db_url,
        with_defect(reference_api::KPI, Defect::IgnorePlatform),
    );
    let r = probe(suite, &api.url, &quick);
    r.out.expect_code(1);
    assert_eq!(
        r.failing_checks(),
        BTreeSet::from(["kpi_cards".to_string()])
    );
    for u in r.units_of("kpi_cards") {
        let filtered = !u["params"]["platform"].is_null();
        assert_eq!(u["verdict"] == "fail", filtered, "{u:#}");
        if filtered {
            let m = outcome(u, "rows")["message"].as_str().unwrap().to_string();
            assert!(m.starts_with("GET /api/analytics/dashboard/v5/kpi?"), "{m}");
            assert!(m.contains("platform="), "{m}");
        }
    }
    drop(api);

    // (c) HTTP 500 on one route: its units and the page fail.
    let api = reference_api::start(
        &db_url,
        with_defect(reference_api::CAMPAIGNS, Defect::Status500),
    );
    let r = probe(suite, &api.url, &quick);
    r.out.expect_code(1);
    assert_eq!(
        r.failing_checks(),
        BTreeSet::from(["campaigns".to_string(), "page".to_string()])
    );
    for u in r.units_of("campaigns") {
        let m = outcome(u, "status")["message"].as_str().unwrap();
        assert!(
            m.starts_with("GET /api/analytics/sales/v5/campaigns?")
                && m.contains("answered 500 Internal Server Error"),
            "{m}"
        );
    }
    let page = r.units_of("page")[0];
    let routes = outcome(page, "page_routes");
    assert_eq!(routes["status"], "fail");
    assert!(routes["message"]
        .as_str()
        .unwrap()
        .starts_with("not every chart loads: GET /api/analytics/sales/v5/campaigns?"));
    drop(api);

    // (d) a route seconds slower than a small budget (the sleep alone is
    // over the budget, whatever the machine's speed).
    let slow_suite = suite_copy();
    let wow = slow_suite.path().join("checks/endpoints/wow.yaml");
    let text = std::fs::read_to_string(&wow).unwrap();
    std::fs::write(
        &wow,
        text.replacen("query: wow.sql\n", "query: wow.sql\nbudget: 100ms\n", 1),
    )
    .unwrap();
    let api = reference_api::start(
        &db_url,
        with_defect(
            reference_api::WOW,
            Defect::Slow(Duration::from_millis(1500)),
        ),
    );
    let r = probe(
        slow_suite.path(),
        &api.url,
        &["--timing-runs", "0", "--database-url", &db_url],
    );
    r.out.expect_code(1);
    assert_eq!(
        r.failing_checks(),
        BTreeSet::from(["wow_campaigns".to_string()])
    );
    for u in r.units_of("wow_campaigns") {
        let b = outcome(u, "budget");
        assert_eq!(b["status"], "fail");
        let m = b["message"].as_str().unwrap();
        assert!(
            m.starts_with("GET /api/analytics/campaigns/v5/campaigns/wow?date_to=")
                && m.ends_with(" ms of 100ms budget (1 run)"),
            "{m}"
        );
        assert!(u["timing"]["max_ms"].as_f64().unwrap() >= 1500.0);
    }
    drop(api);

    // (e) numbers serialised as strings where the check does not allow it.
    let api = reference_api::start(
        &db_url,
        with_defect(reference_api::SCATTER, Defect::NumbersAsStrings),
    );
    let r = probe(suite, &api.url, &quick);
    r.out.expect_code(1);
    assert_eq!(
        r.failing_checks(),
        BTreeSet::from(["scatter_matrix".to_string()])
    );
    for u in r.units_of("scatter_matrix") {
        let s = outcome(u, "shape");
        assert_eq!(s["status"], "fail");
        let m = s["message"].as_str().unwrap();
        assert!(
            m.starts_with("GET /api/analytics/campaigns/v5/campaigns/scatter-matrix?")
                && m.contains("field `leads` is a string in")
                && m.contains("expected an integer for int8"),
            "{m}"
        );
        // The values are still the database's.
        assert_eq!(outcome(u, "rows")["status"], "pass", "{u:#}");
    }
    drop(api);

    // (f) a missing column.
    let api = reference_api::start(
        &db_url,
        with_defect(reference_api::INSIGHTS, Defect::MissingColumn("roas")),
    );
    let r = probe(suite, &api.url, &quick);
    r.out.expect_code(1);
    assert_eq!(
        r.failing_checks(),
        BTreeSet::from(["campaign_insights".to_string()])
    );
    for u in r.units_of("campaign_insights") {
        let s = outcome(u, "shape")["message"].as_str().unwrap().to_string();
        assert!(
            s.starts_with("GET /api/analytics/campaigns/v7/insights/campaign-performance?")
                && s.contains("field `roas` is missing in"),
            "{s}"
        );
        let rows = outcome(u, "rows")["message"].as_str().unwrap().to_string();
        assert!(
            rows.ends_with("(read twice): columns only in the SQL: roas"),
            "{rows}"
        );
    }
    drop(api);

    // A FastAPI-style backend: right once the check files declare how it
    // differs, wrong (on exactly those routes) before.
    let api = reference_api::start(
        &db_url,
        Behaviour {
            style: Style::FastApi,
            ..Default::default()
        },
    );
    let r = probe(suite, &api.url, &quick);
    r.out.expect_code(1);
    assert_eq!(
        r.failing_checks(),
        [
            "kpi_cards",
            "leads_trend",
            "spend_trend",
            "campaigns",
            "metrics_trend",
            "wow_campaigns",
            "page"
        ]
        .iter()
        .map(|s| s.to_string())
        .collect::<BTreeSet<_>>()
    );
    let mapped = suite_copy();
    let m = mapped.path();
    add_api(
        m,
        "kpi.yaml",
        &["decimal_strings: [revenue, spend, cpl, roas]"],
    );
    add_api(m, "leads_trend.yaml", &["rows: data"]);
    add_api(m, "spend_trend.yaml", &["rows: data"]);
    add_api(m, "campaigns.yaml", &["fields: {n_contracts: contracts}"]);
    add_api(
        m,
        "metrics_trend.yaml",
        &["params: {date_from: start, date_to: end}"],
    );
    add_api(m, "wow.yaml", &["params: {date_to: end_date}"]);
    let wow = m.join("checks/endpoints/wow.yaml");
    let text = std::fs::read_to_string(&wow).unwrap();
    std::fs::write(
        &wow,
        text.replace(
            "endpoint: GET /api/analytics/campaigns/v5/campaigns/wow\n",
            "endpoint: GET /api/analytics/campaigns/v5/campaigns/wow/{end_date}\n",
        ),
    )
    .unwrap();
    let r = probe(m, &api.url, &quick);
    r.out.expect_code(0);
    let wow_unit = &r.units_of("wow_campaigns")[0];
    assert!(outcome(wow_unit, "rows")["message"]
        .as_str()
        .unwrap()
        .ends_with("as the SQL"));
    drop(api);

    // A header secret: sent (the API refuses requests without it), never shown.
    const SECRET: &str = "tok-9f2e71c4-never-print-me";
    let api = reference_api::start(
        &db_url,
        Behaviour {
            require_header: Some(("authorization".into(), format!("Bearer {SECRET}"))),
            defect: Some((reference_api::UTM_SOURCES, Defect::Status500)),
            ..Default::default()
        },
    );
    let header = ["-H", "Authorization: Bearer ${ASSAY_TEST_API_TOKEN}"];
    let args: Vec<&str> = quick.iter().chain(header.iter()).copied().collect();
    let r = probe_env(suite, &api.url, &args, &[("ASSAY_TEST_API_TOKEN", SECRET)]);
    r.out.expect_code(1);
    assert_eq!(
        r.failing_checks(),
        BTreeSet::from(["utm_sources".to_string(), "page".to_string()])
    );
    assert!(!r.all_text().contains(SECRET), "the secret was printed");
    assert!(!r.all_text().contains("never-print-me"));
    // Without the header every call is refused.
    let r = probe(suite, &api.url, &quick);
    r.out.expect_code(1);
    let kpi = &r.units_of("kpi_cards")[0];
    assert!(outcome(kpi, "status")["message"]
        .as_str()
        .unwrap()
        .contains("answered 401 Unauthorized"));
    drop(api);

    // Every report format (one check, canned rows: a failing comparison).
    let api = reference_api::start(
        &db_url,
        with_defect(
            reference_api::PLATFORM_SHARE,
            Defect::MockRows(json!([
                {"platform": "meta", "leads": 120, "share_pct": 60.0},
                {"platform": "google", "leads": 80, "share_pct": 40.0},
            ])),
        ),
    );
    let r = probe(
        suite,
        &api.url,
        &[
            "--filter",
            "platform_share",
            "-j",
            "1",
            "--timing-runs",
            "2",
            "--database-url",
            &db_url,
        ],
    );
    r.out.expect_code(1);
    insta::assert_snapshot!("probe_human", redact(&r.out.stdout));
    insta::assert_snapshot!("probe_json", redact_json(&r.json_text));
    insta::assert_snapshot!("probe_junit", redact(&r.junit));
    insta::assert_snapshot!("probe_markdown", redact(&r.markdown));
}

/// A one-check suite answered by a fixed API (no database).
fn tiny_suite() -> tempfile::TempDir {
    write_suite(&[
        ("assay.yaml", "name: tiny\n"),
        ("sql/endpoints/one.sql", "select 1 as n, :day as day\n"),
        (
            "checks/one.yaml",
            "name: one\nendpoint: GET /api/one\nquery: one.sql\nparams:\n  sets:\n    - {name: default, values: {day: \"2025-10-01\"}}\nexpect:\n  columns:\n    - {name: n, type: int4, nullable: false}\n    - {name: day, type: date}\n",
        ),
    ])
}

fn tiny_answer() -> Value {
    json!([{"n": 1, "day": "2025-10-01"}])
}

#[test]
fn tls_with_a_ca_of_our_own() {
    let tls = Tls::new();
    let api = reference_api::fixed("/api/one", tiny_answer(), Some(&tls));
    assert!(api.url.starts_with("https://127.0.0.1:"));
    let suite = tiny_suite();
    let ca = tls.ca_pem();
    let r = probe(
        suite.path(),
        &api.url,
        &["--api-ca-cert", ca.to_str().unwrap()],
    );
    r.out.expect_code(0);
    assert_eq!(r.results().len(), 2, "the unit and the page");
    // The CA from the environment works as well.
    let r = probe_env(
        suite.path(),
        &api.url,
        &[],
        &[("ASSAY_API_CA_CERT", ca.to_str().unwrap())],
    );
    r.out.expect_code(0);
    // Without our CA the certificate is not trusted: unreachable, exit 3.
    let out = Assay::new(suite.path())
        .args(["probe", "--no-progress", "--api-url", &api.url])
        .env_remove("ASSAY_API_CA_CERT")
        .run();
    out.expect_code(3);
    assert!(
        out.stderr.contains("unreachable after 4 attempts") && out.stderr.contains("certificate"),
        "{}",
        out.stderr
    );
}

#[test]
fn an_api_that_cannot_be_reached_exits_3_after_its_retries() {
    let port = pg_cluster::free_port();
    let suite = tiny_suite();
    let tmp = tempfile::tempdir().unwrap();
    let json = tmp.path().join("r.json");
    let out = Assay::new(suite.path())
        .args([
            "probe",
            "--no-progress",
            "--api-url",
            &format!("http://127.0.0.1:{port}"),
        ])
        .args([format!("--format=json={}", json.display())])
        .run();
    out.expect_code(3);
    assert!(
        out.stderr.contains(&format!(
            "the API http://127.0.0.1:{port}: unreachable after 4 attempts"
        )) && out.stderr.contains("onnection refused"),
        "{}",
        out.stderr
    );
    // The report shows what happened.
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let unit = &report["results"][0];
    assert_eq!(unit["verdict"], "error");
    assert_eq!(outcome(unit, "status")["status"], "error");
    assert_eq!(
        outcome(&report["results"][1], "page_load")["status"],
        "skip"
    );
}

#[test]
fn a_database_that_cannot_be_reached_exits_3_and_keeps_its_password() {
    const PASSWORD: &str = "Db-pw-probe-31337";
    let suite = tiny_suite();
    let api = reference_api::fixed("/api/one", tiny_answer(), None);
    let tmp = tempfile::tempdir().unwrap();
    let json = tmp.path().join("r.json");
    let url = format!(
        "postgres://reader:{PASSWORD}@127.0.0.1:{}/analytics",
        pg_cluster::free_port()
    );
    let out = Assay::new(suite.path())
        .args([
            "probe",
            "--no-progress",
            "--api-url",
            &api.url,
            "--database-url",
            &url,
        ])
        .args([format!("--format=json={}", json.display())])
        .run();
    out.expect_code(3);
    let report = std::fs::read_to_string(&json).unwrap();
    for text in [&out.stdout, &out.stderr, &report] {
        assert!(!text.contains(PASSWORD), "the password was printed: {text}");
    }
    let report: Value = serde_json::from_str(&report).unwrap();
    assert!(
        report["summary"]["infrastructure_error"]
            .as_str()
            .unwrap()
            .contains("cannot connect to 127.0.0.1:"),
        "{}",
        report["summary"]
    );
}

#[test]
fn bad_input_exits_2_with_the_place_and_the_fix() {
    let suite = tiny_suite();
    let api = reference_api::fixed("/api/one", tiny_answer(), None);
    let run = |args: &[&str]| {
        Assay::new(suite.path())
            .args(["probe", "--no-progress", "--api-url", &api.url])
            .args(args.iter().copied())
            .env_remove("ASSAY_TEST_SURELY_UNSET")
            .run()
    };
    let out = run(&["-H", "no colon here"]);
    out.expect_code(2);
    assert!(
        out.stderr.contains("--header: a --header is `NAME: VALUE`"),
        "{}",
        out.stderr
    );
    let out = run(&["-H", "X-Token: ${ASSAY_TEST_SURELY_UNSET}"]);
    out.expect_code(2);
    assert!(
        out.stderr.contains(
            "header `X-Token`: the environment variable ASSAY_TEST_SURELY_UNSET is not set"
        ),
        "{}",
        out.stderr
    );
    let out = run(&["--timeout", "0s"]);
    out.expect_code(2);
    let out = run(&["--filter", "onw"]);
    out.expect_code(2);
    assert!(
        out.stderr.contains("did you mean `--filter one`?"),
        "{}",
        out.stderr
    );
    let out = Assay::new(suite.path())
        .args(["probe", "--api-url", "ftp://127.0.0.1/"])
        .run();
    out.expect_code(2);
    assert!(out.stderr.contains("only http and https"), "{}", out.stderr);

    // A route that is not a GET, and an `api:` section with a typo or an
    // unknown column: file, line and the fix.
    let bad = write_suite(&[
        ("assay.yaml", "name: bad\n"),
        ("sql/endpoints/one.sql", "select 1 as n\n"),
        (
            "checks/post.yaml",
            "name: post\nquery: one.sql\nendpoint: POST /api/one\n",
        ),
    ]);
    let out = Assay::new(bad.path())
        .args(["probe", "--api-url", &api.url])
        .run();
    out.expect_code(2);
    assert!(
        out.stderr.contains("checks/post.yaml:3: endpoint: `POST /api/one` is a POST route; assay probe calls only GET routes"),
        "{}",
        out.stderr
    );
    let bad = write_suite(&[
        ("assay.yaml", "name: bad\n"),
        ("sql/endpoints/one.sql", "select 1 as n\n"),
        (
            "checks/typo.yaml",
            "name: typo\nquery: one.sql\nendpoint: GET /api/one\napi:\n  feilds: {n: number}\n",
        ),
        (
            "checks/column.yaml",
            "name: column\nquery: one.sql\nendpoint: GET /api/one\nexpect:\n  columns:\n    - {name: n, type: int4}\napi:\n  decimal_strings: [m]\n  page_set: defualt\n",
        ),
    ]);
    let out = Assay::new(bad.path()).args(["validate"]).run();
    out.expect_code(2);
    assert!(
        out.stderr
            .contains("checks/typo.yaml:5:3: api: unknown field `feilds`")
            && out.stderr.contains("did you mean `fields`?"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(
            "checks/column.yaml:8: api.decimal_strings: `m` is not a column in expect.columns"
        ) && out
            .stderr
            .contains("checks/column.yaml:9: api.page_set: no parameter set is named `defualt`")
            && out.stderr.contains("did you mean `default`?"),
        "{}",
        out.stderr
    );
}
