//! `assay gen` and `assay bench`, driven through the real binary against real
//! PostgreSQL: generated data is deterministic and consistent across
//! relations; bench measures every query and parameter set, fingerprints
//! plans, keeps baselines, fails on a broken budget or baseline, and reveals
//! the plan KPI query's full scan.

mod common;
mod pg_cluster;

use common::{copy_dir, write_suite, Assay};
use pg_cluster::Server;
use serde_json::Value;
use std::path::Path;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A scratch copy of the repository's analytics suite (for runs that write
/// baselines or edit the configuration).
fn analytics_copy() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("assay-test-suite-")
        .tempdir()
        .unwrap();
    for d in ["checks", "sql", "fixtures", "snapshots"] {
        copy_dir(&repo().join(d), &dir.path().join(d));
    }
    std::fs::copy(repo().join("assay.yaml"), dir.path().join("assay.yaml")).unwrap();
    std::fs::copy(repo().join("model.yaml"), dir.path().join("model.yaml")).unwrap();
    dir
}

fn read_json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn results(report: &Value) -> &Vec<Value> {
    report["results"].as_array().expect("results array")
}

/// A running server with an empty database `gen` owned by `app`, who logs in
/// with `password`; and the URL to reach it as `app`.
fn writable_database(password: &str) -> (Server, String) {
    let server = Server::primary();
    server.psql(&format!(
        "create role app login password '{password}' superuser"
    ));
    server.psql("create database gen owner app");
    let url = server.url("app", password, "gen");
    (server, url)
}

/// A fingerprint of every generated relation's content, in a stable order.
fn checksum(server: &Server) -> String {
    server.psql_db(
        "gen",
        "select md5(string_agg(t, '|' order by t)) from (\
           select 'l' || md5(string_agg(l::text, ',' order by sk_lead)) t from dashboards.fact_leads l \
           union all select 's' || md5(string_agg(s::text, ',' order by date, campaign_id)) from dashboards.ad_stats_daily s \
           union all select 'c' || md5(string_agg(c::text, ',' order by campaign_id)) from dashboards.campaigns c \
           union all select 'r' || md5(string_agg(r::text, ',' order by date, campaign_id)) from dashboards.v6_campaign_roi_daily r) x",
    )
}

#[test]
fn gen_loads_a_deterministic_consistent_dataset_into_a_database() {
    let (server, url) = writable_database("gen-pw-1");
    let gen = |extra: &[&str]| {
        Assay::new(repo())
            .args([
                "gen",
                "--scale",
                "2",
                "--no-progress",
                "--database-url",
                &url,
            ])
            .args(extra)
            .run()
    };
    let out = gen(&[]);
    out.expect_code(0);
    assert!(out.stdout.contains("binary COPY"), "{}", out.stdout);
    assert!(
        !out.stdout.contains("gen-pw-1"),
        "password leaked: {}",
        out.stdout
    );

    // Volume: twice the fixture volume (70 days of ~430 leads).
    let leads: u64 = server
        .psql_db("gen", "select count(*) from dashboards.fact_leads")
        .parse()
        .unwrap();
    assert!((25_000..35_000).contains(&leads), "{leads} leads");
    assert!(out.stdout.contains(&leads.to_string()), "{}", out.stdout);
    // Consistency: every text date is a date, leads are unique, paid leads
    // point at campaigns of their own platform, the views agree with the facts.
    let bad = server.psql_db(
        "gen",
        "select (select count(*) from dashboards.fact_leads l \
                 left join dashboards.calendar_days d on d.txt = l.created_date_txt where d.date is null) \
              + (select count(*) - count(distinct sk_lead) from dashboards.fact_leads) \
              + (select count(*) from dashboards.fact_leads l join dashboards.campaigns c using (campaign_id) \
                 where lower(l.dominant_platform) <> c.platform) \
              + (select count(*) from dashboards.fact_leads where campaign_id is not null \
                 and campaign_id not in (select campaign_id from dashboards.campaigns))",
    );
    assert_eq!(bad, "0");
    let view_leads = server.psql_db(
        "gen",
        "select (select sum(leads) from dashboards.v6_campaign_roi_daily) = \
                (select count(*) from dashboards.fact_leads where campaign_id is not null)",
    );
    assert_eq!(view_leads, "t");
    // Numerics survive binary COPY exactly: amounts are cents in 800..5000 or 0.
    let amounts = server.psql_db(
        "gen",
        "select count(*) filter (where contract_amount <> round(contract_amount, 2) \
                                   or not (contract_amount = 0 or contract_amount between 800 and 5000)) \
                || '/' || count(contract_amount) from dashboards.fact_leads",
    );
    let (wrong, total) = amounts.split_once('/').unwrap();
    assert_eq!(wrong, "0");
    assert!(total.parse::<u64>().unwrap() > 500, "{amounts}");
    let spend = server.psql_db(
        "gen",
        "select min(spend) = 0 and max(spend) between 100 and 700 from dashboards.ad_stats_daily",
    );
    assert_eq!(spend, "t");

    // The schema is there now: a second load must be asked for.
    let again = gen(&[]);
    again.expect_code(2);
    assert!(again.stderr.contains("--replace"), "{}", again.stderr);

    // Same seed, same rows; another seed, other rows.
    let first = checksum(&server);
    gen(&["--replace"]).expect_code(0);
    assert_eq!(checksum(&server), first);
    gen(&["--replace", "--seed", "7"]).expect_code(0);
    assert_ne!(checksum(&server), first);
}

#[test]
fn gen_versus_psql_reports_the_ratio_at_the_same_volume() {
    let out = Assay::new(repo())
        .args(["gen", "--scale", "1", "--versus-psql", "--no-progress"])
        .run();
    out.expect_code(0);
    assert!(out.stdout.contains("throwaway"), "{}", out.stdout);
    let ratio_line = out
        .stdout
        .lines()
        .find(|l| l.starts_with("ratio: psql / assay = "))
        .unwrap_or_else(|| panic!("no ratio line: {}", out.stdout));
    let ratio: f64 = ratio_line["ratio: psql / assay = ".len()..]
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(ratio > 0.0, "{ratio_line}");
}

#[test]
fn gen_and_bench_reject_bad_input_naming_the_fix() {
    let bad_scale = Assay::new(repo()).args(["gen", "--scale", "0"]).run();
    bad_scale.expect_code(2);
    assert!(
        bad_scale.stderr.contains("scale must be"),
        "{}",
        bad_scale.stderr
    );

    let bench_scale = Assay::new(repo()).args(["bench", "--scale", "1,-3"]).run();
    bench_scale.expect_code(2);
    assert!(
        bench_scale.stderr.contains("--scale"),
        "{}",
        bench_scale.stderr
    );

    // Relative slowdowns need baselines to compare with.
    for other in [
        &["--save-baseline"][..],
        &["--database-url", "postgres://127.0.0.1:1/x"],
    ] {
        let out = Assay::new(repo())
            .args(["bench", "--scale", "1", "--relative-slowdown"])
            .args(other)
            .run();
        out.expect_code(2);
        assert!(
            out.stderr
                .contains("'--relative-slowdown' cannot be used with")
                && out.stderr.contains(other[0]),
            "{}",
            out.stderr
        );
    }

    let junit = Assay::new(repo())
        .args(["bench", "--scale", "1", "--format", "junit"])
        .run();
    junit.expect_code(2);
    assert!(
        junit.stderr.contains("human, json or markdown"),
        "{}",
        junit.stderr
    );

    let no_scale = write_suite(&[
        ("assay.yaml", "name: tiny\n"),
        ("checks/q.yaml", "name: q\nquery: q.sql\n"),
        ("sql/endpoints/q.sql", "select 1 as one\n"),
    ]);
    let out = Assay::new(no_scale.path())
        .args(["gen", "--scale", "1"])
        .run();
    out.expect_code(2);
    assert!(out.stderr.contains("no `scale:` section"), "{}", out.stderr);

    let typo = write_suite(&[
        ("assay.yaml", "name: tiny\nscale:\n  model: modle.yaml\n"),
        ("model.yaml", "tables: []\n"),
        ("checks/q.yaml", "name: q\nquery: q.sql\n"),
        ("sql/endpoints/q.sql", "select 1 as one\n"),
    ]);
    let out = Assay::new(typo.path()).args(["validate"]).run();
    out.expect_code(2);
    assert!(out.stderr.contains("assay.yaml:3"), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("scale file `modle.yaml` does not exist"),
        "{}",
        out.stderr
    );
    // The generator of old is a data model now: the key says so.
    let old = write_suite(&[
        (
            "assay.yaml",
            "name: tiny\nscale:\n  generator: analytics-v6\n",
        ),
        ("checks/q.yaml", "name: q\nquery: q.sql\n"),
        ("sql/endpoints/q.sql", "select 1 as one\n"),
    ]);
    let out = Assay::new(old.path()).args(["validate"]).run();
    out.expect_code(2);
    assert!(
        out.stderr.contains("assay.yaml:3") && out.stderr.contains("model"),
        "{}",
        out.stderr
    );

    let suite = analytics_copy();
    std::fs::create_dir_all(suite.path().join("benchmarks")).unwrap();
    std::fs::write(
        suite.path().join("benchmarks/kpi_cards.yaml"),
        "check: kpi_cards\nentries: 7\n",
    )
    .unwrap();
    let out = Assay::new(suite.path())
        .args(["bench", "--scale", "1", "--filter", "kpi_cards"])
        .run();
    out.expect_code(2);
    assert!(
        out.stderr.contains("benchmarks/kpi_cards.yaml"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--save-baseline"), "{}", out.stderr);
}

#[test]
fn bench_measures_every_set_and_judges_against_its_baseline() {
    let suite = analytics_copy();
    let report = suite.path().join("bench.json");
    let bench = |extra: &[&str]| {
        Assay::new(suite.path())
            .args([
                "bench",
                "--scale",
                "1,2",
                "--runs",
                "2",
                "--filter",
                "spend_trend",
                "--no-progress",
            ])
            .args([
                "--format",
                &format!("json={}", report.display()),
                "--format",
                "markdown",
            ])
            .args(extra)
            .run()
    };
    // First run: no baseline, so every row is new; the budget holds: exit 0.
    let first = bench(&[]);
    first.expect_code(0);
    assert!(
        first.stdout.contains("| `spend_trend` |"),
        "markdown on stdout: {}",
        first.stdout
    );
    let json = read_json(&report);
    assert_eq!(json["schema"], "assay.bench/v3");
    let sets = Assay::new(suite.path())
        .args(["list", "--filter", "spend_trend"])
        .run();
    let n_sets = sets
        .stdout
        .lines()
        .filter(|l| l.starts_with("    "))
        .count();
    let rows = results(&json);
    assert!(n_sets >= 10, "{}", sets.stdout);
    assert_eq!(rows.len(), 2 * n_sets, "every set at both scales");
    for r in rows {
        for key in [
            "name",
            "params",
            "scale",
            "p50_ms",
            "judged_ms",
            "budget_ms",
            "plan_fingerprint",
            "forecast_scale_at_budget",
        ] {
            assert!(r.get(key).is_some(), "{key} missing in {r}");
        }
        assert_eq!(r["name"], "spend_trend");
        assert_eq!(r["verdict"], "pass");
        assert_eq!(r["baseline"]["status"], "new");
        assert!(r["judged_ms"].as_f64().unwrap() >= r["p50_ms"].as_f64().unwrap());
        assert!(
            r["plan_fingerprint"]
                .as_str()
                .unwrap()
                .contains("v6_campaign_roi_daily"),
            "{r}"
        );
    }

    // Save the baseline: one reviewable file per check.
    bench(&["--save-baseline"]).expect_code(0);
    let file = suite.path().join("benchmarks/spend_trend.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("check: spend_trend"), "{text}");
    assert!(text.contains("plan:"), "{text}");

    // Unchanged: same plans, and p95 within the ratio. Tests share two
    // cores, so the noise floor is lifted well above any scheduling spike;
    // the slower verdict is tested below with the floor at zero.
    let yaml = std::fs::read_to_string(suite.path().join("assay.yaml")).unwrap();
    assert!(yaml.contains("min_slowdown_delta: 25ms"));
    std::fs::write(
        suite.path().join("assay.yaml"),
        yaml.replace("min_slowdown_delta: 25ms", "min_slowdown_delta: 10s"),
    )
    .unwrap();
    bench(&[]).expect_code(0);
    assert!(results(&read_json(&report))
        .iter()
        .all(|r| r["baseline"]["status"] == "same"));

    // A baseline whose plan differs fails the bench with plan_changed.
    let doctored = text.replace("v6_campaign_roi_daily:", "some_other_relation:");
    assert_ne!(doctored, text);
    std::fs::write(&file, &doctored).unwrap();
    let changed = bench(&[]);
    changed.expect_code(1);
    let json = read_json(&report);
    assert!(
        results(&json)
            .iter()
            .all(|r| r["verdict"] == "plan_changed"),
        "{json}"
    );
    assert!(
        changed.stdout.contains("plan changed") || changed.stdout.contains("❌"),
        "{}",
        changed.stdout
    );

    // A baseline median far below today's fails with slower once the noise
    // floor is lifted.
    std::fs::write(&file, &text).unwrap();
    std::fs::write(
        suite.path().join("assay.yaml"),
        yaml.replace("min_slowdown_delta: 25ms", "min_slowdown_delta: 0ms"),
    )
    .unwrap();
    let tiny = with_baseline_times(&text, "0.0001");
    std::fs::write(&file, tiny).unwrap();
    bench(&[]).expect_code(1);
    let json = read_json(&report);
    assert!(
        results(&json).iter().all(|r| r["verdict"] == "slower"),
        "{json}"
    );
    // Each was measured again before it failed, up to three times in all.
    assert!(results(&json).iter().all(|r| r["attempts"] == 3), "{json}");
    assert_eq!(json["relative_slowdown"], false);

    // Baselines saved on a machine ten times as fast: every query is slower
    // against them as they are, none against them times this machine's
    // factor (the noise floor back at 2 ms for timings this short).
    std::fs::write(&file, scaled_baseline_times(&text, 0.1)).unwrap();
    bench(&[]).expect_code(1);
    assert!(results(&read_json(&report))
        .iter()
        .all(|r| r["verdict"] == "slower"));
    std::fs::write(
        suite.path().join("assay.yaml"),
        yaml.replace("min_slowdown_delta: 25ms", "min_slowdown_delta: 2ms"),
    )
    .unwrap();
    let relative = bench(&["--relative-slowdown"]);
    relative.expect_code(0);
    let json = read_json(&report);
    assert_eq!(json["relative_slowdown"], true);
    for s in json["scales"].as_array().unwrap() {
        let f = s["machine_factor"].as_f64().unwrap();
        assert!((3.0..30.0).contains(&f), "{s}");
    }
    assert!(
        results(&json).iter().all(|r| r["verdict"] == "pass"),
        "{json}"
    );
    assert!(
        relative.stdout.contains("machine factor"),
        "{}",
        relative.stdout
    );
}

/// The baseline with every judged time and median multiplied by `factor`.
fn scaled_baseline_times(text: &str, factor: f64) -> String {
    text.lines()
        .map(|l| {
            for key in ["judged_ms:", "p50_ms:"] {
                if let Some(i) = l.find(key) {
                    let ms: f64 = l[i + key.len()..].trim().parse().unwrap();
                    return format!("{}{key} {}", &l[..i], ms * factor);
                }
            }
            l.to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The baseline with every judged time and median set to `value`.
fn with_baseline_times(text: &str, value: &str) -> String {
    text.lines()
        .map(|l| {
            for key in ["judged_ms:", "p50_ms:"] {
                if let Some(i) = l.find(key) {
                    return format!("{}{key} {value}", &l[..i]);
                }
            }
            l.to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn bench_fails_a_query_over_its_budget_and_refuses_a_broken_check() {
    let suite = analytics_copy();
    let check = suite.path().join("checks/endpoints/kpi.yaml");
    let text = std::fs::read_to_string(&check).unwrap();
    assert!(!text.contains("budget:"));
    // The plan's KPI query scans every lead: far above 1 ms at scale 2.
    std::fs::write(
        &check,
        text.replacen("name: kpi_cards\n", "name: kpi_cards\nbudget: 1ms\n", 1),
    )
    .unwrap();
    let out = Assay::new(suite.path())
        .args([
            "bench",
            "--scale",
            "2",
            "--runs",
            "1",
            "--filter",
            "kpi_cards",
            "--sql-dir",
            "sql/plan",
        ])
        .args(["--no-progress", "--format", "json"])
        .run();
    out.expect_code(1);
    let json: Value = serde_json::from_str(&out.stdout).unwrap();
    assert!(
        results(&json).iter().all(|r| r["verdict"] == "over_budget"),
        "{json}"
    );
    assert_eq!(
        json["summary"]["over_budget"].as_u64().unwrap() as usize,
        results(&json).len()
    );

    // A check file that does not load stops the bench before anything runs.
    std::fs::write(
        &check,
        text.replacen("name: kpi_cards\n", "name: kpi_cards\nbudget: soon\n", 1),
    )
    .unwrap();
    let out = Assay::new(suite.path())
        .args(["bench", "--scale", "1", "--filter", "kpi_cards"])
        .run();
    out.expect_code(2);
    assert!(
        out.stderr.contains("checks/endpoints/kpi.yaml:3"),
        "{}",
        out.stderr
    );
}

#[test]
fn bench_reveals_the_plan_kpi_full_scan_and_its_growth() {
    // The plan's KPI query casts created_date_txt per row and reads every
    // lead; the corrected one reads the window's days through the index.
    let run = |sql_dir: Option<&str>| {
        let out_file = tempfile::NamedTempFile::new().unwrap();
        let mut a = Assay::new(repo()).args([
            "bench",
            "--scale",
            "2,8",
            "--runs",
            "2",
            "--filter",
            "kpi_cards",
            "--no-progress",
            "--format",
            &format!("json={}", out_file.path().display()),
            "--format",
            "human",
        ]);
        if let Some(d) = sql_dir {
            a = a.args(["--sql-dir", d]);
        }
        let out = a.run();
        out.expect_code(0);
        (out, read_json(out_file.path()))
    };
    let (plan_out, plan) = run(Some("sql/plan"));
    let default_window = |r: &&Value| {
        r["params"]["date_from"] == "2025-10-01" && r["params"]["date_to"] == "2025-10-03"
    };
    let at_8: Vec<&Value> = results(&plan)
        .iter()
        .filter(|r| r["scale"] == 8.0)
        .filter(default_window)
        .collect();
    assert!(!at_8.is_empty());
    for r in &at_8 {
        let fp = r["plan_fingerprint"].as_str().unwrap();
        assert!(
            fp.contains("fact_leads: Seq Scan") || fp.contains("fact_leads: Parallel Seq Scan"),
            "{fp}"
        );
        // The plan reads every lead whatever the window: buffers grow with the table.
    }
    assert!(
        plan_out.stdout.contains("fact_leads"),
        "{}",
        plan_out.stdout
    );
    assert!(plan_out.stdout.contains("forecast"), "{}", plan_out.stdout);

    let (_, fixed) = run(None);
    let fixed_8: Vec<&Value> = results(&fixed)
        .iter()
        .filter(|r| r["scale"] == 8.0)
        .filter(default_window)
        .collect();
    for r in &fixed_8 {
        let fp = r["plan_fingerprint"].as_str().unwrap();
        assert!(fp.contains("fact_leads_created_date_txt_idx"), "{fp}");
    }
    // Work done, not time: the plan touches far more buffers than the fix.
    let buffers =
        |rows: &[&Value]| -> u64 { rows.iter().map(|r| r["buffers"].as_u64().unwrap()).sum() };
    assert!(
        buffers(&at_8) > 5 * buffers(&fixed_8),
        "plan {} vs fixed {}",
        buffers(&at_8),
        buffers(&fixed_8)
    );
}

#[test]
fn bench_measures_an_existing_database_as_it_is_read_only() {
    let (server, url) = writable_database("bench-pw-2");
    Assay::new(repo())
        .args([
            "gen",
            "--scale",
            "3",
            "--no-progress",
            "--database-url",
            &url,
        ])
        .run()
        .expect_code(0);
    let before = checksum(&server);
    let leads: f64 = server
        .psql_db("gen", "select count(*) from dashboards.fact_leads")
        .parse()
        .unwrap();

    let out = Assay::new(repo())
        .args([
            "bench",
            "--database-url",
            &url,
            "--filter",
            "kpi_cards",
            "--runs",
            "2",
        ])
        .args(["--no-progress", "--format", "json"])
        .run();
    out.expect_code(0);
    assert!(!out.stdout.contains("bench-pw-2") && !out.stderr.contains("bench-pw-2"));
    let json: Value = serde_json::from_str(&out.stdout).unwrap();
    let scales = json["scales"].as_array().unwrap();
    assert_eq!(scales.len(), 1, "one dataset: the database as it is");
    assert_eq!(scales[0]["volume"].as_f64().unwrap(), leads);
    let scale = scales[0]["scale"].as_f64().unwrap();
    assert!((2.7..3.3).contains(&scale), "{scale}");
    for r in results(&json) {
        assert_eq!(r["verdict"], "pass", "{r}");
        assert!(
            r["plan_fingerprint"]
                .as_str()
                .unwrap()
                .contains("fact_leads"),
            "{r}"
        );
    }
    assert_eq!(checksum(&server), before, "the bench wrote to the database");

    // An existing database needs no data model: a suite without `scale:`
    // measures it the same way, with no volume to place it on.
    let bare = analytics_copy();
    let config = std::fs::read_to_string(bare.path().join("assay.yaml")).unwrap();
    let start = config.find("\nscale:").unwrap();
    let end = config.find("\nbench:").unwrap();
    std::fs::write(
        bare.path().join("assay.yaml"),
        format!("{}{}", &config[..start], &config[end..]),
    )
    .unwrap();
    std::fs::remove_file(bare.path().join("model.yaml")).unwrap();
    let out = Assay::new(bare.path())
        .args(["bench", "--database-url", &url, "--filter", "kpi_cards"])
        .args(["--runs", "2", "--no-progress", "--format", "json"])
        .run();
    out.expect_code(0);
    let json: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(json["scales"].as_array().unwrap().len(), 1, "{json}");
    assert!(!results(&json).is_empty());
    for r in results(&json) {
        assert_eq!(r["verdict"], "pass", "{r}");
    }
    assert_eq!(checksum(&server), before, "the bench wrote to the database");
    // Generated scales do need one, and say where it goes.
    let out = Assay::new(bare.path())
        .args(["bench", "--scale", "1", "--no-progress"])
        .run();
    out.expect_code(2);
    assert!(out.stderr.contains("scale"), "{}", out.stderr);

    // Generating and saving baselines make no sense there.
    let out = Assay::new(repo())
        .args(["bench", "--database-url", &url, "--scale", "1"])
        .run();
    out.expect_code(2);
    assert!(out.stderr.contains("measured as it is"), "{}", out.stderr);
}
