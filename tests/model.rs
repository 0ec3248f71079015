//! The data model (`scale.model`), driven through the real binary: `assay
//! validate` places every model error at its file and line; `gen` checks the
//! model against the schema the `before:` SQL created before writing a row;
//! generated data is the same however many connections write it; the
//! analytics v6 model keeps the distributions the suite relies on.

mod common;
mod pg_cluster;

use common::{write_suite, Assay};
use pg_cluster::Server;
use std::path::Path;

const SCHEMA: &str = "create schema app;
create table app.users (id integer primary key, name text not null, joined date, tier text);
create table app.events (id bigint, user_id integer references app.users, kind text, amount numeric(10,2), at timestamp);
";

const CONFIG: &str = "name: model-test
scale:
  model: model.yaml
  before: [schema.sql]
";

const MODEL: &str = "history: {end: 2025-01-31, days: 30}
tables:
  - name: app.users
    rows: 10 * scale
    columns:
      id: {seq: 1}
      name: {format: \"user_{id:03}\"}
      joined: {date: {}}
      tier: {choice: [[free, 80], [pro, 20]]}
  - name: app.events
    per: app.users
    count: poisson(3)
    columns:
      id: {seq: 1}
      user_id: {expr: users.id}
      kind: {choice: [[view, 80], [buy, 15], [null, 5]]}
      amount:
        when: kind == 'buy'
        decimal: {min: 5, max: 500, dist: lognormal, mean: 3, sd: 1}
      at: {timestamp: {}}
";

fn suite(model: &str) -> tempfile::TempDir {
    write_suite(&[
        ("assay.yaml", CONFIG),
        ("schema.sql", SCHEMA),
        ("model.yaml", model),
        ("checks/.keep", ""),
        ("sql/endpoints/.keep", ""),
    ])
}

/// The 1-based line of the first line of `text` containing `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).expect(needle) + 1
}

fn validate(model: &str) -> common::Output {
    let dir = suite(model);
    Assay::new(dir.path()).args(["validate"]).run()
}

#[test]
fn a_sound_model_validates_and_generates() {
    validate(MODEL).expect_code(0);
    let dir = suite(MODEL);
    let out = Assay::new(dir.path())
        .args(["gen", "--scale", "2", "--no-progress"])
        .run();
    out.expect_code(0);
    assert!(out.stdout.contains("app.users"), "{}", out.stdout);
    let users = out
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("app.users"))
        .unwrap();
    assert!(users.trim_end().ends_with(" 20"), "{users}");
}

#[test]
fn validate_places_model_errors_at_their_line() {
    let cases: Vec<(String, &str, &str)> = vec![
        (
            MODEL.replace(
                "    columns:\n      id: {seq: 1}\n      name",
                "    colums:\n      id: {seq: 1}\n      name",
            ),
            "colums:",
            "unknown field `colums`",
        ),
        (
            MODEL.replace("per: app.users", "per: app.orders"),
            "per: app.orders",
            "`app.orders` is not a table of the model",
        ),
        (
            MODEL.replace("min: 5, max: 500", "min: 500, max: 5"),
            "amount:",
            "min 500 is above max 5",
        ),
        (
            MODEL.replace("[pro, 20]", "[pro, 0]"),
            "tier:",
            "the weight of `pro` is 0; weights must be above 0",
        ),
        (
            MODEL.replace("{expr: users.id}", "{expr: user.id}"),
            "user_id:",
            "unknown name `user.id`",
        ),
    ];
    for (model, at, message) in cases {
        let out = validate(&model);
        out.expect_code(2);
        let want = format!("model.yaml:{}", line_of(&model, at));
        assert!(
            out.stderr.contains(&want) && out.stderr.contains(message),
            "want {want}: {message}\n{}",
            out.stderr
        );
    }
    // A table that refers to one generated later: the model is in load order.
    let (users, events) = MODEL.split_at(MODEL.find("  - name: app.events").unwrap());
    let swapped = format!(
        "history: {{end: 2025-01-31, days: 30}}\ntables:\n{events}{}",
        users.split_once("tables:\n").unwrap().1
    );
    let out = validate(&swapped);
    out.expect_code(2);
    let want = format!("model.yaml:{}", line_of(&swapped, "per: app.users"));
    assert!(
        out.stderr.contains(&want) && out.stderr.contains("is generated later than `app.events`"),
        "{}",
        out.stderr
    );
}

#[test]
fn gen_checks_the_model_against_the_schema_before_writing() {
    let cases = [
        (
            MODEL.replace("name: app.events", "name: app.event"),
            "name: app.event",
            "table `app.event` does not exist in the database",
        ),
        (
            MODEL.replace("      tier:", "      level:"),
            "level:",
            "`app.users` has no column `level` in the database",
        ),
        (
            MODEL.replace("joined: {date: {}}", "joined: {expr: \"'soon'\"}"),
            "joined:",
            "column `joined` of `app.users` is date but its generator yields text",
        ),
    ];
    for (model, at, message) in cases {
        validate(&model).expect_code(0);
        let dir = suite(&model);
        let out = Assay::new(dir.path())
            .args(["gen", "--scale", "1", "--no-progress"])
            .run();
        out.expect_code(2);
        let want = format!("model.yaml:{}", line_of(&model, at));
        assert!(
            out.stderr.contains(&want) && out.stderr.contains(message),
            "want {want}: {message}\n{}",
            out.stderr
        );
        assert!(!out.stdout.contains("generated scale"), "{}", out.stdout);
    }
}

/// Foreign keys hold after every load, whichever way it ran: checked once
/// after the load (superuser, no trigger of the suite's own: the fast path)
/// or row by row (a trigger on the table, or a deferrable constraint, keeps
/// every trigger on). Rows that
/// break one are an error naming the constraint and the key, and none of
/// them stays in the database.
#[test]
fn gen_keeps_foreign_keys_whichever_way_it_loads() {
    let (server, _) = writable_database();
    let broken = MODEL.replace("{expr: users.id}", "{expr: users.id * 100}");
    let audited = "create function app.noop() returns trigger language plpgsql as \
                   'begin return new; end'; \
                   create trigger audit before insert on app.events \
                   for each row execute function app.noop();";
    let deferrable = "alter table app.users add unique (name) deferrable initially deferred;";
    let once = "1 foreign key checked once after the load, not row by row";
    let per_row = |table: &str| {
        format!(
            "foreign keys checked row by row: {table} has triggers of its own (or a \
             deferrable constraint's), which must fire"
        )
    };
    for (db, model, extra, says) in [
        ("fk_once", MODEL, "", once.to_string()),
        ("fk_per_row", MODEL, audited, per_row("app.events")),
        ("fk_deferrable", MODEL, deferrable, per_row("app.users")),
        ("fk_once_broken", broken.as_str(), "", String::new()),
        ("fk_per_row_broken", broken.as_str(), audited, String::new()),
    ] {
        server.psql(&format!("create database {db} owner app"));
        let url = server.url("app", "model-pw", db);
        let dir = suite(model);
        if !extra.is_empty() {
            // The schema already there, with the trigger or constraint;
            // `before:` adds nothing.
            server.psql_db(db, &format!("set role app; {SCHEMA} {extra}"));
            std::fs::write(dir.path().join("schema.sql"), "select 1;").unwrap();
        }
        let out = Assay::new(dir.path())
            .args([
                "gen",
                "--scale",
                "2",
                "--no-progress",
                "--database-url",
                &url,
            ])
            .run();
        if says.is_empty() {
            out.expect_code(3);
            assert!(
                out.stderr
                    .contains("violates foreign key constraint \"events_user_id_fkey\"")
                    && out.stderr.contains("(user_id)=("),
                "{db}: {}",
                out.stderr
            );
        } else {
            out.expect_code(0);
            assert!(out.stdout.contains(&says), "{db}: {}", out.stdout);
        }
        let state = server.psql_db(
            db,
            "select (select count(*) > 0 from app.events) || ' ' || \
             (select count(*) from app.events e where not exists \
              (select 1 from app.users u where u.id = e.user_id))",
        );
        let want = if says.is_empty() { "false 0" } else { "true 0" };
        assert_eq!(state, want, "{db}: events loaded, rows breaking the key");
    }
}

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A server with an empty database `gen` that `app` owns; its URL.
fn writable_database() -> (Server, String) {
    let server = Server::primary();
    server.psql("create role app login password 'model-pw' superuser");
    server.psql("create database gen owner app");
    let url = server.url("app", "model-pw", "gen");
    (server, url)
}

fn checksum(server: &Server) -> String {
    server.psql_db(
        "gen",
        "select md5(string_agg(t, '|' order by t)) from (\
           select md5(string_agg(l::text, ',' order by sk_lead)) t from dashboards.fact_leads l \
           union all select md5(string_agg(s::text, ',' order by date, campaign_id)) from dashboards.ad_stats_daily s \
           union all select md5(string_agg(c::text, ',' order by campaign_id)) from dashboards.campaigns c) x",
    )
}

#[test]
fn the_analytics_model_is_deterministic_and_keeps_its_distributions() {
    let (server, url) = writable_database();
    let gen = |extra: &[&str]| {
        Assay::new(repo())
            .args([
                "gen",
                "--scale",
                "10",
                "--no-progress",
                "--database-url",
                &url,
            ])
            .args(extra)
            .run()
            .expect_code(0);
    };
    gen(&["--connections", "1"]);
    let one = checksum(&server);
    gen(&["--connections", "3", "--replace"]);
    assert_eq!(
        checksum(&server),
        one,
        "rows depend on the connection count"
    );

    // Platform mix, in percent of leads: within a point of the model's weights.
    let mix = server.psql_db(
        "gen",
        "select string_agg(coalesce(p, 'null') || '=' || round(100.0 * n / total, 2), ' ' order by p) \
         from (select dominant_platform p, count(*) n, sum(count(*)) over () total \
               from dashboards.fact_leads group by 1) x",
    );
    let share = |name: &str| -> f64 {
        mix.split(' ')
            .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("no {name} in {mix}"))
            .parse()
            .unwrap()
    };
    for (p, want) in [
        ("meta", 55.0),
        ("google", 29.0),
        ("direct", 11.0),
        ("null", 3.0),
        ("Meta", 1.0),
        ("GOOGLE", 1.0),
    ] {
        assert!(
            (share(p) - want).abs() < 1.0,
            "{p}: {} (want {want}) in {mix}",
            share(p)
        );
    }
    // Contracts: 3.5% of leads sign; of those 8% with amount 0, 6% with none.
    let contracts = server.psql_db(
        "gen",
        "select round(100.0 * count(contract_id) / count(*), 2) || ' ' || \
                round(100.0 * count(*) filter (where contract_amount = 0) / count(contract_id), 2) || ' ' || \
                round(100.0 * count(*) filter (where contract_id is not null and contract_amount is null) / count(contract_id), 2) \
         from dashboards.fact_leads",
    );
    let c: Vec<f64> = contracts.split(' ').map(|x| x.parse().unwrap()).collect();
    assert!((c[0] - 3.5).abs() < 0.5, "signed {contracts}");
    assert!((c[1] - 8.0).abs() < 2.5, "amount 0 {contracts}");
    assert!((c[2] - 6.0).abs() < 2.5, "no amount {contracts}");
    // Paused days (spend 0): 4% of campaign-days; some days have no export at all;
    // paid leads point at campaigns of their own platform.
    let stats = server.psql_db(
        "gen",
        "select round(100.0 * count(*) filter (where spend = 0) / count(*), 2) || ' ' || \
                ((select count(*) from generate_series(date '2025-10-05' - 349, date '2025-10-05', '1 day') d \
                  where not exists (select 1 from dashboards.ad_stats_daily s where s.date = d::date))) || ' ' || \
                ((select count(*) from dashboards.fact_leads l join dashboards.campaigns c using (campaign_id) \
                  where lower(l.dominant_platform) <> c.platform)) \
         from dashboards.ad_stats_daily",
    );
    let s: Vec<f64> = stats.split(' ').map(|x| x.parse().unwrap()).collect();
    assert!((s[0] - 4.0).abs() < 1.0, "paused {stats}");
    assert!(s[1] >= 1.0 && s[1] <= 12.0, "days without export {stats}");
    assert_eq!(s[2], 0.0, "{stats}");
    // History: 350 days at scale 10, ending on the fixed date.
    let window = server.psql_db(
        "gen",
        "select min(d) || ' ' || max(d) from (select date d from dashboards.ad_stats_daily \
         union all select created_date_txt::date from dashboards.fact_leads) x",
    );
    assert_eq!(window, "2024-10-21 2025-10-05");
}

/// The shop example: a suite of another shape runs, generates and benches
/// against its committed plan baselines (as CI does).
#[test]
fn the_shop_example_runs_generates_and_benches() {
    let shop = repo().join("examples/shop");
    Assay::new(&shop)
        .args(["run", "--no-progress"])
        .run()
        .expect_code(0);
    let out = Assay::new(&shop)
        .args(["gen", "--scale", "10", "--no-progress"])
        .run();
    out.expect_code(0);
    for t in [
        "shop.customers",
        "shop.products",
        "shop.orders",
        "shop.order_items",
        "shop.order_totals",
    ] {
        assert!(out.stdout.contains(t), "{t}: {}", out.stdout);
    }
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("bench.json");
    let out = Assay::new(&shop)
        .args([
            "bench",
            "--scale",
            "1,10",
            "--max-slowdown",
            "1000", // plans and budgets are judged, not times (tests share the cores)
            "--no-progress",
            "--format",
        ])
        .args([format!("json={}", json.display())])
        .run();
    out.expect_code(0);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["schema"], "assay.bench/v3");
    assert_eq!(report["volume_relation"], "shop.order_items");
    let scales = report["scales"].as_array().unwrap();
    assert_eq!(scales.len(), 2);
    let rows = |i: usize| scales[i]["volume"].as_u64().unwrap();
    assert!(rows(0) > 500 && rows(1) > 8 * rows(0), "{scales:?}");
    assert_eq!(
        scales[1]["relation_rows"]["shop.order_items"].as_u64(),
        Some(rows(1))
    );
}

fn analytics_model() -> std::sync::Arc<assay::gen::model::Model> {
    std::sync::Arc::new(assay::gen::model::load(repo(), Path::new("model.yaml")).unwrap())
}

/// Three years of history at scale 1000, then volume per day; scale 1 is the
/// fixture volume (no database: the plan alone).
#[test]
fn the_analytics_model_grows_history_then_daily_volume() {
    use assay::gen::plan::Plan;
    use assay::gen::value::Value;
    let var = |plan: &Plan, name: &str| {
        let i = plan.model.vars.iter().position(|(n, _)| n == name).unwrap();
        plan.vars[i].clone()
    };
    let one = Plan::new(analytics_model(), 1.0, 7).unwrap();
    assert_eq!(var(&one, "history_days"), Value::Int(35));
    let leads = one.model.table("dashboards.fact_leads").unwrap();
    let at_one = one.expected_rows(leads) as f64;
    assert!((14_000.0..16_000.0).contains(&at_one), "{at_one}");
    let big = Plan::new(analytics_model(), 1000.0, 7).unwrap();
    assert_eq!(var(&big, "history_days"), Value::Int(1095));
    let end = chrono::NaiveDate::from_ymd_opt(2025, 10, 5).unwrap();
    assert_eq!(var(&big, "history_end"), Value::Date(end));
    let ratio = big.expected_rows(leads) as f64 / at_one;
    assert!((ratio / 1000.0 - 1.0).abs() < 0.05, "{ratio}");
    // A small dataset in memory: the loaded tables in load order, loaded columns only.
    let d = assay::gen::plan::Dataset::generate(analytics_model(), 0.01, 1).unwrap();
    let names: Vec<&str> = d.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "dashboards.campaigns",
            "dashboards.ad_stats_daily",
            "dashboards.fact_leads"
        ]
    );
    assert!(d.rows() > 0 && d.rows() < 400, "{}", d.rows());
    assert_eq!(d.tables[2].columns.len(), 13, "hidden columns stay out");
}
