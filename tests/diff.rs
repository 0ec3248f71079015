//! `assay diff` end to end: the real binary against real PostgreSQL (its own
//! embedded cluster, a server of our own for `--database-url`, a git
//! repository for `--base-ref`). Equivalent rewrites are the same; one row,
//! a key's classes, an order, a column are told apart; expected differences
//! pass; every format is snapshotted.

mod common;
mod pg_cluster;

use common::{write_suite, Assay, Output};
use regex::Regex;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

const CONFIG: &str = "\
name: diff-small
setup:
  - sql: schema.sql
defaults:
  budget: 2s
  sample_rows: 3
";

const SCHEMA: &str = "\
create schema shop;
create table shop.customers (id int primary key, name text not null, region text);
create table shop.orders (id int primary key, customer_id int not null references shop.customers,
                          day date not null, amount numeric, channel text);
insert into shop.customers values (1, 'ada', 'north'), (2, 'bob', 'south'), (3, 'cy', null), (4, 'dee', 'north');
insert into shop.orders values
  (1, 1, '2025-10-01', 10, 'web'),
  (2, 1, '2025-10-01', null, 'store'),
  (3, 2, '2025-10-02', 20, null),
  (4, 3, '2025-10-02', 5, 'web'),
  (5, 2, '2025-10-03', 7, 'store'),
  (6, 4, '2025-10-03', 20, 'web');
";

const WINDOW_SETS: &str = "\
params:
  types: {date_from: date, date_to: date}
  sets:
    - name: october
      values: {date_from: 2025-10-01, date_to: 2025-10-31}
    - name: first_day
      values: {date_from: 2025-10-01, date_to: 2025-10-01}
";

/// The current query: a CTE, `case`, customers joined second.
const TOTALS_CURRENT: &str = "\
with o as (
  select customer_id, case when amount is null then 0 else amount end as amount
  from shop.orders
  where day between :date_from and :date_to
)
select c.name as customer, sum(o.amount) as total, count(*) as orders
from o
join shop.customers c on c.id = o.customer_id
group by c.name
order by total desc, customer
";

/// The same result written another way: a subquery, `coalesce`, customers first.
const TOTALS_BASE: &str = "\
select c.name as customer, sum(coalesce(x.amount, 0)) as total, count(*) as orders
from shop.customers c
join (select customer_id, amount from shop.orders
      where day between :date_from and :date_to) x on x.customer_id = c.id
group by c.name
order by total desc, customer;
";

fn totals_check() -> String {
    format!(
        "name: totals\nendpoint: GET /api/customers/totals\nquery: totals.sql\n{WINDOW_SETS}expect:\n  unique: [[customer]]\n"
    )
}

/// The small suite: current queries in sql/endpoints, base ones in base/.
fn suite(extra: &[(&str, &str)]) -> tempfile::TempDir {
    let totals = totals_check();
    let mut files: Vec<(&str, &str)> = vec![
        ("assay.yaml", CONFIG),
        ("schema.sql", SCHEMA),
        ("checks/totals.yaml", &totals),
        ("sql/endpoints/totals.sql", TOTALS_CURRENT),
        ("base/totals.sql", TOTALS_BASE),
    ];
    files.extend_from_slice(extra);
    write_suite(&files)
}

/// Every kind of verdict in one suite.
fn full_suite() -> tempfile::TempDir {
    suite(&[
        // one extra row in the current output (no key: a multiset)
        (
            "checks/orders_list.yaml",
            "name: orders_list\nquery: orders_list.sql\nparams:\n  sets:\n    - {name: all, values: {}}\n",
        ),
        (
            "sql/endpoints/orders_list.sql",
            "select id, day, amount from shop.orders order by id\n",
        ),
        (
            "base/orders_list.sql",
            "select id, day, amount from shop.orders where channel is not null order by id\n",
        ),
        // rows by `diff.key`: identical, modified, added, removed
        (
            "checks/channel_totals.yaml",
            "name: channel_totals\nendpoint: GET /api/channels\nquery: channel_totals.sql\ndiff:\n  key: [channel]\n",
        ),
        (
            "sql/endpoints/channel_totals.sql",
            "select coalesce(channel, 'none') as channel, sum(coalesce(amount, 0)) as amount\nfrom shop.orders group by 1 order by 1\n",
        ),
        (
            "base/channel_totals.sql",
            "select coalesce(channel, 'unknown') as channel, sum(amount) filter (where id <> 6) as amount\nfrom shop.orders group by 1 order by 1\n",
        ),
        // same rows, another order
        (
            "checks/ranking.yaml",
            "name: ranking\nquery: ranking.sql\n",
        ),
        (
            "sql/endpoints/ranking.sql",
            "select name, region from shop.customers order by name desc\n",
        ),
        (
            "base/ranking.sql",
            "select name, region from shop.customers order by name\n",
        ),
        // a column added
        (
            "checks/widened.yaml",
            "name: widened\nquery: widened.sql\n",
        ),
        (
            "sql/endpoints/widened.sql",
            "select id, name, region from shop.customers order by id\n",
        ),
        ("base/widened.sql", "select id, name from shop.customers order by id\n"),
        // the base fails
        (
            "checks/broken_base.yaml",
            "name: broken_base\nquery: broken_base.sql\n",
        ),
        (
            "sql/endpoints/broken_base.sql",
            "select count(*) as n from shop.orders\n",
        ),
        (
            "base/broken_base.sql",
            "select count(*) / (count(*) - count(*)) as n\nfrom shop.orders\n",
        ),
        // an intended change, acknowledged in the check file
        (
            "checks/fixed.yaml",
            "name: fixed\nquery: fixed.sql\ndiff:\n  expect_different: orders without an amount are no longer counted\n",
        ),
        (
            "sql/endpoints/fixed.sql",
            "select count(*) as n from shop.orders where amount is not null\n",
        ),
        ("base/fixed.sql", "select count(*) as n from shop.orders\n"),
        // a query only the current side has, and one only the base has
        (
            "checks/brand_new.yaml",
            "name: brand_new\nquery: brand_new.sql\n",
        ),
        ("sql/endpoints/brand_new.sql", "select 1 as one\n"),
        ("base/old_report.sql", "select 2 as two\n"),
    ])
}

/// `assay diff` in `dir` with a JSON report; returns the output and the report.
fn diff_json(dir: &Path, args: &[&str]) -> (Output, Value) {
    let reports = tempfile::Builder::new()
        .prefix("assay-test-diff-report-")
        .tempdir()
        .unwrap();
    let json = reports.path().join("diff.json");
    let out = Assay::new(dir)
        .args(["diff", "--no-progress", "--no-fixture-cache"])
        .args(args.iter().copied())
        .args([format!("--format=json={}", json.display())])
        .run();
    let text = std::fs::read_to_string(&json).unwrap_or_else(|e| {
        panic!(
            "no JSON report ({e})\n--- stdout\n{}\n--- stderr\n{}",
            out.stdout, out.stderr
        )
    });
    (out, serde_json::from_str(&text).unwrap())
}

fn entries<'a>(report: &'a Value, check: &str) -> Vec<&'a Value> {
    report["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["check"] == check)
        .collect()
}

#[test]
fn an_equivalent_rewrite_is_the_same_with_a_speed_ratio() {
    let s = suite(&[]);
    let (out, report) = diff_json(
        s.path(),
        &[
            "--base-sql-dir",
            "base",
            "--timing-runs",
            "3",
            "--format",
            "human",
        ],
    );
    out.expect_code(0);
    let totals = entries(&report, "totals");
    assert_eq!(totals.len(), 2);
    for e in totals {
        assert_eq!(e["verdict"], "same", "{e}");
        assert_eq!(e["passes"], true);
        assert_eq!(e["key"]["from"], "expect.unique");
        assert_eq!(e["order_keys"], serde_json::json!(["total", "customer"]));
        let speed = &e["speed"];
        assert!(speed["ratio"].as_f64().unwrap() > 0.0, "{speed}");
        assert_eq!(speed["base"]["runs"], 3);
        assert_eq!(speed["current"]["runs"], 3);
        assert!(speed["base"].get("p95_ms").is_none(), "no p95 from 3 runs");
        assert_eq!(speed["measured"], "3 solo runs each, sides alternated");
        assert_eq!(e["plan"]["from"], "explain_analyze");
    }
    assert_eq!(report["schema"], "assay.diff/v1");
    assert_eq!(report["counts"]["same"], 2);
    assert!(
        Regex::new(r"SAME october +4 rows  [0-9.]+ ms -> [0-9.]+ ms \([0-9.]+x\)")
            .unwrap()
            .is_match(&out.stdout),
        "{}",
        out.stdout
    );
    assert!(out
        .stdout
        .contains("\nSAME: 2 parameter sets of 1 query: same 2"));
}

#[test]
fn one_extra_row_fails_and_shows_the_row() {
    let s = full_suite();
    let out = Assay::new(s.path())
        .args(["diff", "--no-progress", "--no-fixture-cache"])
        .args(["--base-sql-dir", "base", "--filter", "orders_list"])
        .run();
    out.expect_code(1);
    assert!(
        out.stdout
            .contains("rows: 5 matched, 1 only in current, 0 only in base"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("+ id=3 day=2025-10-02 amount=20"),
        "{}",
        out.stdout
    );
    assert!(out
        .stdout
        .contains("\nDIFFERENT: 1 parameter set of 1 query: different 1"));
    // Acknowledged on the command line, the same difference passes.
    let (ok, report) = diff_json(
        s.path(),
        &[
            "--base-sql-dir",
            "base",
            "--filter",
            "orders_list",
            "--expect-different",
            "orders_list",
        ],
    );
    ok.expect_code(0);
    let e = entries(&report, "orders_list")[0];
    assert_eq!(
        (&e["verdict"], &e["passes"], &e["acknowledged"]),
        (
            &Value::from("different"),
            &Value::from(true),
            &Value::from("--expect-different")
        )
    );
    assert_eq!(report["counts"]["acknowledged"], 1);
}

#[test]
fn rows_are_classified_by_key_and_orders_and_columns_are_told_apart() {
    let s = full_suite();
    let (out, report) = diff_json(s.path(), &["--base-sql-dir", "base"]);
    out.expect_code(1);

    // diff.key: store identical, web modified, none added, unknown removed.
    let e = entries(&report, "channel_totals")[0];
    assert_eq!(e["verdict"], "different");
    assert_eq!(
        e["key"],
        serde_json::json!({"columns": ["channel"], "from": "diff.key"})
    );
    let rows = &e["comparison"]["rows"];
    assert_eq!(rows["by"], "key");
    assert_eq!(
        (&rows["identical"], &rows["modified"]),
        (&Value::from(1), &Value::from(1))
    );
    assert_eq!(
        rows["modified_samples"],
        serde_json::json!([{"key": "channel=web", "changes": ["amount: 15 -> 35"]}])
    );
    assert_eq!(
        rows["added"],
        serde_json::json!({"count": 1, "samples": ["channel=none amount=20"]})
    );
    assert_eq!(
        rows["removed"],
        serde_json::json!({"count": 1, "samples": ["channel=unknown amount=20"]})
    );

    // Same rows in another order: its own verdict, with the first position.
    let e = entries(&report, "ranking")[0];
    assert_eq!(e["verdict"], "order_only");
    assert_eq!(e["comparison"]["order"]["first_position"], 1);
    assert_eq!(e["comparison"]["order"]["base"], "name=ada region=north");
    assert_eq!(e["comparison"]["order"]["current"], "name=dee region=north");
    assert_eq!(e["order_keys"], serde_json::json!(["name"]));
    assert!(
        out.stdout
            .contains("ORDER default  same rows in another order from row 1"),
        "{}",
        out.stdout
    );

    // A column added.
    let e = entries(&report, "widened")[0];
    assert_eq!(e["verdict"], "different");
    assert_eq!(
        e["comparison"]["columns"]["added"],
        serde_json::json!([{"name": "region", "type": "text"}])
    );
    assert!(e["comparison"]["rows"]["missing"]["count"] == 0);

    // The base fails: an error on the base side, located in its file.
    let e = entries(&report, "broken_base")[0];
    assert_eq!(e["verdict"], "error");
    assert_eq!(e["error"]["side"], "base");
    let msg = e["error"]["base"].as_str().unwrap();
    assert!(
        msg.contains("division by zero") && msg.contains("base/broken_base.sql"),
        "{msg}"
    );

    // Acknowledged in the check file: reported, passes.
    let e = entries(&report, "fixed")[0];
    assert_eq!(
        (&e["verdict"], &e["passes"]),
        (&Value::from("different"), &Value::from(true))
    );
    assert_eq!(
        e["acknowledged"],
        "orders without an amount are no longer counted"
    );

    // One side only: reported, not run.
    assert_eq!(
        report["added"],
        serde_json::json!([{"check": "brand_new", "query": "brand_new.sql"}])
    );
    assert_eq!(
        report["removed"],
        serde_json::json!([{"query": "old_report.sql"}])
    );
    assert!(entries(&report, "brand_new").is_empty());
    let c = &report["counts"];
    assert_eq!(
        (
            &c["same"],
            &c["different"],
            &c["order_only"],
            &c["error"],
            &c["failing"]
        ),
        (
            &Value::from(2),
            &Value::from(4),
            &Value::from(1),
            &Value::from(1),
            &Value::from(5)
        )
    );
}

#[test]
fn an_order_by_expression_allows_no_ties_and_says_so() {
    let s = suite(&[
        ("checks/by_len.yaml", "name: by_len\nquery: by_len.sql\n"),
        (
            "sql/endpoints/by_len.sql",
            "select name from shop.customers order by length(name), name\n",
        ),
        (
            "base/by_len.sql",
            "select name from shop.customers order by length(name), name desc\n",
        ),
    ]);
    let (out, report) = diff_json(s.path(), &["--base-sql-dir", "base", "--filter", "by_len"]);
    out.expect_code(1);
    let e = entries(&report, "by_len")[0];
    assert_eq!(e["verdict"], "order_only");
    assert!(e.get("order_keys").is_none());
    assert_eq!(e["comparison"]["order"]["ties_allowed"], false);
    let note = e["notes"][0].as_str().unwrap();
    assert!(
        note.contains("no ties allowed") && note.contains("length(name)"),
        "{note}"
    );
}

#[test]
fn a_slowdown_fails_only_past_an_explicit_max_slowdown() {
    let s = suite(&[
        ("checks/sleepy.yaml", "name: sleepy\nquery: sleepy.sql\n"),
        (
            "sql/endpoints/sleepy.sql",
            "select 1 as x from pg_sleep(0.2)\n",
        ),
        ("base/sleepy.sql", "select 1 as x\n"),
    ]);
    let (out, report) = diff_json(s.path(), &["--base-sql-dir", "base", "--filter", "sleepy"]);
    out.expect_code(0);
    let e = entries(&report, "sleepy")[0];
    assert_eq!(e["verdict"], "same");
    assert_eq!(e["speed"]["slower"], false);
    // 200 ms of sleep against a query of well under a millisecond, a ratio of
    // 1.5 and a noise floor of 25 ms: the verdict does not hang on the noise.
    let (out, report) = diff_json(
        s.path(),
        &[
            "--base-sql-dir",
            "base",
            "--filter",
            "sleepy",
            "--max-slowdown",
            "1.5",
        ],
    );
    out.expect_code(1);
    let e = entries(&report, "sleepy")[0];
    assert_eq!(
        (&e["verdict"], &e["passes"]),
        (&Value::from("same"), &Value::from(false))
    );
    assert_eq!(e["speed"]["slower"], true);
    assert_eq!(
        e["speed"]["base"]["runs"], 5,
        "5 timed runs by default with --max-slowdown"
    );
    assert_eq!(report["counts"]["slower"], 1);
}

#[test]
fn unchanged_queries_are_not_run_and_need_no_database() {
    let s = suite(&[]);
    std::fs::write(s.path().join("base/totals.sql"), TOTALS_CURRENT).unwrap();
    let (out, report) = diff_json(s.path(), &["--base-sql-dir", "base"]);
    out.expect_code(0);
    assert_eq!(report["counts"]["unchanged"], 2);
    assert_eq!(report["target"], "no database (nothing to run)");
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=assay",
            "-c",
            "user.email=assay@example.com",
        ])
        .args(args)
        .output()
        .expect("git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn base_ref_reads_the_queries_at_a_git_revision() {
    let repo = tempfile::Builder::new()
        .prefix("assay-test-git-")
        .tempdir()
        .unwrap();
    // The suite lives in a subdirectory of the repository.
    let s = suite(&[]);
    let suite_dir = repo.path().join("analytics");
    common::copy_dir(s.path(), &suite_dir);
    std::fs::remove_dir_all(suite_dir.join("base")).unwrap();
    std::fs::write(suite_dir.join("sql/endpoints/gone.sql"), "select 1 as x\n").unwrap();
    git(repo.path(), &["init", "-q", "-b", "main"]);
    git(repo.path(), &["add", "."]);
    git(repo.path(), &["commit", "-q", "-m", "first"]);
    // The working tree: totals rewritten (equivalent), gone.sql deleted, a
    // new check added.
    std::fs::write(suite_dir.join("sql/endpoints/totals.sql"), TOTALS_BASE).unwrap();
    std::fs::remove_file(suite_dir.join("sql/endpoints/gone.sql")).unwrap();
    std::fs::write(
        suite_dir.join("checks/fresh.yaml"),
        "name: fresh\nquery: fresh.sql\n",
    )
    .unwrap();
    std::fs::write(suite_dir.join("sql/endpoints/fresh.sql"), "select 1 as x\n").unwrap();
    let (out, report) = diff_json(&suite_dir, &["--base-ref", "HEAD"]);
    out.expect_code(0);
    assert_eq!(report["base"]["kind"], "git_ref");
    assert_eq!(report["base"]["source"], "HEAD");
    let head = git(repo.path(), &["rev-parse", "HEAD"]);
    assert_eq!(report["base"]["commit"], head.trim());
    assert_eq!(report["counts"]["same"], 2);
    assert_eq!(report["added"][0]["check"], "fresh");
    assert_eq!(report["removed"][0]["query"], "gone.sql");

    // A difference against the commit, and the base file shown as REV:path.
    std::fs::write(
        suite_dir.join("sql/endpoints/totals.sql"),
        TOTALS_CURRENT.replace("then 0", "then 100"),
    )
    .unwrap();
    let out = Assay::new(&suite_dir)
        .args([
            "diff",
            "--no-progress",
            "--no-fixture-cache",
            "--base-ref",
            "main",
        ])
        .run();
    out.expect_code(1);
    assert!(out.stdout.contains("base main ("), "{}", out.stdout);
    assert!(
        out.stdout.contains("~ customer=ada: total: 10 -> 110"),
        "{}",
        out.stdout
    );

    // A revision that does not exist.
    let missing = Assay::new(&suite_dir)
        .args(["diff", "--no-progress", "--base-ref", "origin/nope"])
        .run();
    missing.expect_code(2);
    assert!(
        missing
            .stderr
            .contains("revision `origin/nope` is not in the repository"),
        "{}",
        missing.stderr
    );

    // A shallow clone holds only the newest commit: the base must be fetched.
    git(repo.path(), &["commit", "-q", "-a", "-m", "second"]);
    let clones = tempfile::tempdir().unwrap();
    let shallow = clones.path().join("shallow");
    let url = format!("file://{}", repo.path().display());
    let out = Command::new("git")
        .args(["clone", "-q", "--depth", "1", &url])
        .arg(&shallow)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let refused = Assay::new(shallow.join("analytics"))
        .args(["diff", "--no-progress", "--base-ref", "HEAD~1"])
        .run();
    refused.expect_code(2);
    assert!(
        refused.stderr.contains("a shallow clone"),
        "{}",
        refused.stderr
    );
    assert!(refused.stderr.contains("git fetch"), "{}", refused.stderr);

    // Outside a repository.
    let plain = Assay::new(s.path())
        .args(["diff", "--no-progress", "--base-ref", "HEAD"])
        .run();
    plain.expect_code(2);
    assert!(
        plain.stderr.contains("not in a git repository"),
        "{}",
        plain.stderr
    );
}

#[test]
fn database_url_reads_one_snapshot_and_never_writes() {
    let server = pg_cluster::Server::primary();
    server.psql("create role app login password 'diff-pw-41' superuser");
    server.psql("create database shopdb owner app");
    server.psql_db("shopdb", SCHEMA);
    let checksum = || {
        server.psql_db(
            "shopdb",
            "select count(*) || ':' || md5(string_agg(o::text, ',' order by id)) from shop.orders o",
        )
    };
    let before = checksum();
    let s = suite(&[
        // Both sides in one REPEATABLE READ READ ONLY transaction: the
        // current side reads the settings, the base states what they must be.
        ("checks/snapshot.yaml", "name: snapshot\nquery: snapshot.sql\n"),
        (
            "sql/endpoints/snapshot.sql",
            "select current_setting('transaction_isolation') as isolation,\n       current_setting('transaction_read_only') as read_only, now() as started\n",
        ),
        (
            "base/snapshot.sql",
            "select 'repeatable read'::text as isolation, 'on'::text as read_only,\n       transaction_timestamp() as started\n",
        ),
        // A base that tries to write.
        ("checks/writer.yaml", "name: writer\nquery: writer.sql\n"),
        (
            "sql/endpoints/writer.sql",
            "select count(*) as n from shop.orders where false\n",
        ),
        (
            "base/writer.sql",
            "with d as (delete from shop.orders returning id) select count(*) as n from d\n",
        ),
    ]);
    let url = server.url("app", "diff-pw-41", "shopdb");
    let (out, report) = diff_json(
        s.path(),
        &["--base-sql-dir", "base", "--database-url", &url],
    );
    out.expect_code(1);
    assert_eq!(checksum(), before, "the table changed");
    assert_eq!(
        entries(&report, "snapshot")[0]["verdict"],
        "same",
        "{report:#}"
    );
    assert_eq!(entries(&report, "totals")[0]["verdict"], "same");
    let w = entries(&report, "writer")[0];
    assert_eq!(
        (&w["verdict"], &w["error"]["side"]),
        (&Value::from("error"), &Value::from("base"))
    );
    let msg = w["error"]["base"].as_str().unwrap();
    assert!(msg.contains("read-only transaction"), "{msg}");
    assert!(report["data"].as_str().unwrap().contains("one snapshot"));
    assert!(!report["target"].as_str().unwrap().contains("diff-pw-41"));
    assert!(!out.stdout.contains("diff-pw-41") && !out.stderr.contains("diff-pw-41"));
}

#[test]
fn bad_input_exits_2_naming_the_file_line_and_fix() {
    let s = suite(&[(
        "checks/keyed.yaml",
        "name: keyed\nquery: keyed.sql\nexpect:\n  columns:\n    - {name: customer, type: text}\ndiff:\n  key: [custmer]\n",
    ), ("sql/endpoints/keyed.sql", "select name as customer from shop.customers\n")]);
    let out = Assay::new(s.path())
        .args(["diff", "--base-sql-dir", "base"])
        .run();
    out.expect_code(2);
    assert!(
        out.stderr
            .contains("checks/keyed.yaml:7: diff.key: `custmer` is not a column of expect.columns"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("did you mean `customer`?"),
        "{}",
        out.stderr
    );

    let s = suite(&[(
        "checks/typo.yaml",
        "name: typo\nquery: totals.sql\ndiff:\n  keys: [customer]\n",
    )]);
    let out = Assay::new(s.path())
        .args(["diff", "--base-sql-dir", "base"])
        .run();
    out.expect_code(2);
    assert!(out.stderr.contains("checks/typo.yaml:4"), "{}", out.stderr);
    assert!(out.stderr.contains("did you mean `key`?"), "{}", out.stderr);

    let s = suite(&[]);
    for (args, says) in [
        (vec!["diff"], "--base-sql-dir"),
        (
            vec!["diff", "--base-sql-dir", "base", "--base-ref", "HEAD"],
            "cannot be used with",
        ),
        (
            vec!["diff", "--base-sql-dir", "nowhere"],
            "no such directory",
        ),
        (
            vec![
                "diff",
                "--base-sql-dir",
                "base",
                "--expect-different",
                "totls",
            ],
            "did you mean `totals`?",
        ),
        (
            vec!["diff", "--base-sql-dir", "base", "--filter", "nothing"],
            "no check matches",
        ),
        (
            vec!["diff", "--base-sql-dir", "base", "--max-slowdown", "0.5"],
            "at least 1",
        ),
        (
            vec![
                "diff",
                "--base-sql-dir",
                "base",
                "--scale",
                "2",
                "--database-url",
                "postgres://h/db",
            ],
            "--scale generates data",
        ),
    ] {
        let out = Assay::new(s.path()).args(args.clone()).run();
        out.expect_code(2);
        assert!(out.stderr.contains(says), "{args:?}: {}", out.stderr);
    }
}

#[test]
fn an_unreachable_database_is_an_infrastructure_error() {
    let s = suite(&[]);
    let port = pg_cluster::free_port();
    let out = Assay::new(s.path())
        .args(["diff", "--no-progress", "--base-sql-dir", "base"])
        .args([
            "--database-url",
            &format!("postgres://app:secret-77@127.0.0.1:{port}/db"),
        ])
        .run();
    out.expect_code(3);
    assert!(out.stderr.contains("cannot connect"), "{}", out.stderr);
    assert!(!out.stderr.contains("secret-77"), "{}", out.stderr);
    // The reports are still written, and say why nothing was compared.
    let reports = tempfile::tempdir().unwrap();
    let (json, xml) = (reports.path().join("d.json"), reports.path().join("d.xml"));
    let out = Assay::new(s.path())
        .args(["diff", "--no-progress", "--base-sql-dir", "base"])
        .args([
            "--database-url",
            &format!("postgres://app:secret-77@127.0.0.1:{port}/db"),
        ])
        .args([
            format!("--format=json={}", json.display()),
            format!("--format=junit={}", xml.display()),
        ])
        .run();
    out.expect_code(3);
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let e = report["infrastructure_error"].as_str().unwrap();
    assert!(
        e.contains("cannot connect") && !e.contains("secret-77"),
        "{e}"
    );
    assert_eq!(report["target"], format!("127.0.0.1:{port}/db"));
    assert!(report["entries"].as_array().unwrap().is_empty());
    let xml = std::fs::read_to_string(&xml).unwrap();
    assert!(
        xml.contains("assay.infrastructure") && !xml.contains("secret-77"),
        "{xml}"
    );
}

/// Replaces what differs between runs with placeholders.
fn redact(text: &str) -> String {
    let rules: &[(&str, &str)] = &[
        (r"127\.0\.0\.1:\d+", "127.0.0.1:[port]"),
        (r"\d+(\.\d+)? (ms|s)\b", "[t] $2"),
        (r"\d+(\.\d+)?x\b", "[r]x"),
        (r#"time="[0-9.]+""#, r#"time="[t]""#),
        (r"/tmp/[A-Za-z0-9._-]+", "[tmp]"),
    ];
    let mut s = text.to_string();
    for (re, with) in rules {
        s = Regex::new(re).unwrap().replace_all(&s, *with).into_owned();
    }
    s
}

/// The JSON report with measured values replaced, pretty-printed.
fn redact_json(text: &str) -> String {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(m) => {
                for (k, x) in m.iter_mut() {
                    if k.ends_with("_ms") || k == "ratio" {
                        *x = Value::from("[t]");
                    } else {
                        walk(x);
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
fn every_format_is_snapshotted() {
    let s = full_suite();
    let p = |n: &str| s.path().join(n);
    let out = Assay::new(s.path())
        .args(["diff", "--no-progress", "--no-fixture-cache", "-j", "1"])
        .args(["--base-sql-dir", "base", "--format", "human"])
        .args([
            format!("--format=json={}", p("d.json").display()),
            format!("--format=markdown={}", p("d.md").display()),
            format!("--format=junit={}", p("d.xml").display()),
        ])
        .run();
    out.expect_code(1);
    let read = |n: &str| std::fs::read_to_string(p(n)).unwrap();
    insta::assert_snapshot!("diff_human", redact(&out.stdout));
    insta::assert_snapshot!("diff_json", redact_json(&read("d.json")));
    insta::assert_snapshot!("diff_markdown", redact(&read("d.md")));
    insta::assert_snapshot!("diff_junit", redact(&read("d.xml")));
}

#[test]
fn the_plan_differs_from_the_corrected_queries_endpoint_by_endpoint() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (out, report) = diff_json(root, &["--base-sql-dir", "sql/plan"]);
    out.expect_code(1);
    assert_eq!(report["entries"].as_array().unwrap().len(), 100);
    // F1: the plan's casts die on a text date in every unfiltered set.
    for check in ["platform_share", "utm_sources", "paid_split"] {
        for e in entries(&report, check) {
            assert_eq!(
                (&e["verdict"], &e["error"]["side"]),
                (&Value::from("error"), &Value::from("base"))
            );
        }
    }
    // F2: with a platform filter the plan's spend is every platform's.
    let meta = entries(&report, "kpi_cards")
        .into_iter()
        .find(|e| e["param_set"] == "platform=meta window=2025-10-01..2025-10-03")
        .unwrap();
    let rows = &meta["comparison"]["rows"];
    assert!(
        rows["missing"]["samples"][0]
            .as_str()
            .unwrap()
            .contains("spend=66926.67"),
        "{rows}"
    );
    assert!(
        rows["extra"]["samples"][0]
            .as_str()
            .unwrap()
            .contains("spend=41863.27"),
        "{rows}"
    );
    // F13: campaign_insights differs only in its tie order.
    let insights: Vec<&Value> = entries(&report, "campaign_insights");
    assert!(insights
        .iter()
        .all(|e| e["verdict"] == "same" || e["verdict"] == "order_only"));
    assert!(insights.iter().any(|e| e["verdict"] == "order_only"));
}

#[test]
fn scale_generates_the_data_first() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (out, report) = diff_json(
        root,
        &[
            "--base-sql-dir",
            "sql/plan",
            "--filter",
            "kpi_cards",
            "--scale",
            "0.1",
            "--seed",
            "7",
        ],
    );
    out.expect_code(1);
    let data = report["data"].as_str().unwrap();
    assert!(
        Regex::new(r"^scale 0\.1: \d+ rows in dashboards\.fact_leads generated with seed 7$")
            .unwrap()
            .is_match(data),
        "{data}"
    );
    assert_eq!(entries(&report, "kpi_cards").len(), 14);
    // Generated data has no malformed date: the plan's KPI query runs, and
    // differs (F3: no cpl/roas columns).
    for e in entries(&report, "kpi_cards") {
        assert_eq!(e["verdict"], "different", "{e}");
        let added = e["comparison"]["columns"]["added"].as_array().unwrap();
        assert_eq!(added.len(), 2, "{e}");
    }
}
