//! Invalid input: every case exits 2 with a message naming the file and the
//! line (and the column, where YAML knows it) and saying how to fix it.

mod common;
mod pg_cluster;

use common::{outcome, run_json, write_suite, Assay, Output};

const CONFIG: &str = "name: bad\n";
const QUERY: &str = "select 1 as x\n";

/// A suite with one check file `checks/a.yaml` and one query `sql/endpoints/q.sql`.
fn one_check(check: &str, query: &str) -> tempfile::TempDir {
    write_suite(&[
        ("assay.yaml", CONFIG),
        ("checks/a.yaml", check),
        ("sql/endpoints/q.sql", query),
    ])
}

/// `assay validate` (no database) on the suite.
fn validate(dir: &tempfile::TempDir) -> Output {
    Assay::new(dir.path()).args(["validate"]).run()
}

#[track_caller]
fn assert_error(out: &Output, needles: &[&str]) {
    out.expect_code(2);
    for n in needles {
        assert!(
            out.stderr.contains(n),
            "stderr lacks {n:?}\n--- stderr\n{}",
            out.stderr
        );
    }
}

#[test]
fn malformed_yaml_names_file_line_and_column() {
    let dir = one_check(
        "name: a\nquery: q.sql\nexpect:\n  rows: [1, 2\n  not_null: [x]\n",
        QUERY,
    );
    let out = validate(&dir);
    assert_error(&out, &["error: checks/a.yaml:5:"]);
    // A tab indentation error elsewhere in the file: line 3, column 1.
    let dir = one_check("name: a\nquery: q.sql\n\tbad: 1\n", QUERY);
    assert_error(&validate(&dir), &["error: checks/a.yaml:3:1:"]);
}

#[test]
fn unknown_key_suggests_the_closest() {
    let dir = one_check(
        "name: a\nquery: q.sql\nexpect:\n  rows: {min: 1}\n  not_nul: [x]\n  snapshot: {enabled: false}\n",
        QUERY,
    );
    let out = validate(&dir);
    assert_error(
        &out,
        &[
            "error: checks/a.yaml:5:3:",
            "unknown field `not_nul`",
            "did you mean `not_null`?",
        ],
    );
    // At the top level of the file, too.
    let dir = one_check("name: a\nquerry: q.sql\n", QUERY);
    assert_error(
        &validate(&dir),
        &["checks/a.yaml:2:1:", "`querry`", "did you mean `query`?"],
    );
}

#[test]
fn missing_sql_file() {
    let dir = one_check("name: a\n# the query\nquery: nope.sql\n", QUERY);
    let out = validate(&dir);
    assert_error(
        &out,
        &[
            "error: checks/a.yaml:3: query file",
            "sql/endpoints/nope.sql",
            "not found",
        ],
    );
}

#[test]
fn parameter_without_a_value_names_the_sql_line() {
    let dir = one_check(
        "name: a\nquery: q.sql\n",
        "select 1 as x\nwhere 1 = 1\n  and :limit > 0\n",
    );
    let out = validate(&dir);
    assert_error(
        &out,
        &[
            "sql/endpoints/q.sql:3: parameter :limit has no value in set `default` of check `a`",
            "add `limit: <value>`",
            "checks/a.yaml",
        ],
    );
}

#[test]
fn unused_parameter_value() {
    let dir = one_check(
        "name: a\nquery: q.sql\nparams:\n  sets:\n    - name: s1\n      values: {limit: 3}\n",
        QUERY,
    );
    let out = validate(&dir);
    assert_error(
        &out,
        &[
            "error: checks/a.yaml:6: parameter `limit`",
            "not used by",
            "sql/endpoints/q.sql",
            "use :limit in the query",
        ],
    );
}

#[test]
fn value_of_the_wrong_type() {
    let dir = one_check(
        "name: a\nquery: q.sql\nparams:\n  types: {limit: integer}\n  sets:\n    - name: s1\n      values: {limit: abc}\n",
        "select :limit as x\n",
    );
    let out = validate(&dir);
    assert_error(
        &out,
        &[
            "checks/a.yaml:",
            "parameter `limit` in set `s1`",
            "expected a value of type integer, found text `abc`",
        ],
    );
}

#[test]
fn duplicate_check_names() {
    let dir = write_suite(&[
        ("assay.yaml", CONFIG),
        ("checks/a.yaml", "name: same\nquery: q.sql\n"),
        (
            "checks/b.yaml",
            "# the second one\nname: same\nquery: q.sql\n",
        ),
        ("sql/endpoints/q.sql", QUERY),
    ]);
    let out = validate(&dir);
    assert_error(
        &out,
        &[
            "error: checks/b.yaml:2: duplicate check name `same`",
            "already defined in checks/a.yaml",
        ],
    );
}

#[test]
fn budget_with_an_unknown_unit() {
    let dir = one_check("name: a\nquery: q.sql\nbudget: 2 parsecs\n", QUERY);
    let out = validate(&dir);
    assert_error(
        &out,
        &[
            "error: checks/a.yaml:3:9:",
            "invalid duration `2 parsecs`",
            "unknown unit `parsecs`",
        ],
    );
}

#[test]
fn budget_in_defaults_is_checked_too() {
    let dir = write_suite(&[
        ("assay.yaml", "name: bad\ndefaults:\n  budget: fast\n"),
        ("checks/a.yaml", "name: a\nquery: q.sql\n"),
        ("sql/endpoints/q.sql", QUERY),
    ]);
    assert_error(
        &validate(&dir),
        &["assay.yaml:3:", "invalid duration `fast`"],
    );
}

#[test]
fn missing_assay_yaml() {
    let dir = write_suite(&[("checks/a.yaml", "name: a\nquery: q.sql\n")]);
    for cmd in ["validate", "run", "list"] {
        let out = Assay::new(dir.path()).args([cmd]).run();
        assert_error(
            &out,
            &["assay.yaml: no assay.yaml here", "pass -C <suite dir>"],
        );
    }
}

#[test]
fn bad_format_value() {
    let out = Assay::new(common::suite("pass"))
        .args(["run", "--format", "xml"])
        .run();
    assert_error(
        &out,
        &["unknown format `xml`", "human, json, junit or markdown"],
    );
    // Two reports cannot share standard output.
    let out = Assay::new(common::suite("pass"))
        .args(["run", "--format", "json", "--format", "junit"])
        .run();
    assert_error(&out, &["only one report can go to standard output"]);
}

#[test]
fn unknown_flag_is_a_usage_error() {
    let out = Assay::new(common::suite("pass"))
        .args(["run", "--no-such-flag"])
        .run();
    out.expect_code(2);
    assert!(out.stderr.contains("--no-such-flag"), "{}", out.stderr);
}

#[test]
fn broken_check_next_to_a_good_one_still_runs_the_good_one() {
    let dir = write_suite(&[
        ("assay.yaml", CONFIG),
        (
            "checks/broken.yaml",
            "name: broken\nquery: q.sql\nexpect:\n  rowz: {min: 1}\n",
        ),
        (
            "checks/good.yaml",
            "name: good\nquery: q.sql\nexpect:\n  rows: {min: 1}\n  snapshot: {enabled: false}\n",
        ),
        ("sql/endpoints/q.sql", QUERY),
    ]);
    let (out, report) = run_json(dir.path(), &[]);
    out.expect_code(2);
    // Said once: in the human report on the terminal, not also on stderr.
    assert_eq!(
        out.stdout.matches("checks/broken.yaml:4:3:").count(),
        1,
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("did you mean `rows`?"),
        "{}",
        out.stdout
    );
    assert!(!out.stderr.contains("checks/broken.yaml"), "{}", out.stderr);
    assert_eq!(
        outcome(&report, "good", "default", "rows")["status"],
        "pass"
    );
    let results = report["results"].as_array().unwrap();
    assert!(results.iter().all(|r| r["check"] != "broken"));
    let load_errors = report["summary"]["load_errors"].as_array().unwrap();
    assert_eq!(load_errors.len(), 1, "{load_errors:?}");
    assert_eq!(load_errors[0]["file"], "checks/broken.yaml");
    assert_eq!(
        (
            load_errors[0]["line"].as_u64(),
            load_errors[0]["column"].as_u64()
        ),
        (Some(4), Some(3))
    );
    assert!(load_errors[0]["help"]
        .as_str()
        .unwrap()
        .contains("did you mean `rows`?"));
}

#[test]
fn validate_accepts_the_example_suites() {
    for name in ["pass", "fail", "warn"] {
        let out = Assay::new(common::suite(name)).args(["validate"]).run();
        out.expect_code(0);
        assert!(out.stdout.starts_with("ok: "), "{}", out.stdout);
    }
}

// ---------------------------------------------------------------------------
// Every class of hostile input: crashes, wrong exit codes, missing
// locations, load-time checks, process hygiene.
// ---------------------------------------------------------------------------

/// A suite whose only check runs `query` with snapshots off.
fn query_suite(query: &str) -> tempfile::TempDir {
    one_check(
        "name: a\nquery: q.sql\nexpect:\n  rows: {min: 1}\n  snapshot: {enabled: false}\n",
        query,
    )
}

/// Every column type PostgreSQL can return, with the values that crash
/// naive decoders (infinity, dates past chrono's range, numeric NaN).
const ALL_TYPES: &str = "select 'infinity'::date as d_inf, '-infinity'::date as d_ninf, \
 '294276-12-31'::date as d_far, '0044-03-15 BC'::date as d_bc, 'infinity'::timestamp as ts_inf, \
 '-infinity'::timestamptz as tstz_ninf, 'NaN'::numeric as n_nan, 'Infinity'::numeric as n_inf, \
 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid as u, 'ab'::char(5) as c5, '\\xdeadbeef'::bytea as by, \
 '192.168.0.1/24'::inet as ip, '1 year 2 mons 3 days 04:05:06.5'::interval as iv, '12:34:56'::time as t, \
 12.34::money as m, array['{\"x\":1}'::jsonb, null] as jbarr, 'happy'::mood as e, 5::posint as dom, \
 '[1,5)'::int4range as r, 'a fat cat'::tsvector as tsv, 'pg_class'::regclass as rc, \
 '{[1,3), [5,7)}'::int4multirange as mr\n";

const TYPE_SETUP: &str = "create type mood as enum ('sad', 'happy');\n\
create domain posint as int check (value > 0);\n";

/// The values as PostgreSQL prints them (money as a number).
const ALL_TYPES_ROW: &str = "infinity | -infinity | 294276-12-31 | 0044-03-15 BC | infinity | \
-infinity | NaN | Infinity | a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11 | \"ab   \" | \\xdeadbeef | \
192.168.0.1/24 | 1 year 2 mons 3 days 04:05:06.5 | 12:34:56 | 12.34 | {\"{\\\"x\\\": 1}\",NULL} | \
happy | 5 | [1,5) | 'a' 'cat' 'fat' | pg_class | {[1,3),[5,7)}";

#[test]
fn every_column_type_is_read_and_snapshots_stay_the_same() {
    let dir = write_suite(&[
        ("assay.yaml", "name: types\nsetup:\n  - sql: setup.sql\n"),
        ("setup.sql", TYPE_SETUP),
        (
            "checks/a.yaml",
            "name: a\nquery: q.sql\nexpect:\n  rows: {min: 1}\n",
        ),
        ("sql/endpoints/q.sql", ALL_TYPES),
    ]);
    // First run writes the snapshot, the second compares with it.
    let first = Assay::new(dir.path())
        .args(["run", "--no-progress", "--accept-snapshots"])
        .run();
    first.expect_code(0);
    let snap = std::fs::read_to_string(dir.path().join("snapshots/a/default.snap")).unwrap();
    assert!(snap.contains(ALL_TYPES_ROW), "{snap}");
    let (second, report) = run_json(dir.path(), &[]);
    second.expect_code(0);
    assert_eq!(
        outcome(&report, "a", "default", "snapshot")["status"],
        "pass"
    );
    // The three types without a binary decoder were read again as text, and
    // the report says so.
    let reruns = &common::unit(&report, "a", "default")["reruns"];
    assert_eq!(reruns[0]["kind"], "text_output", "{reruns}");
    assert!(reruns[0]["why"]
        .as_str()
        .unwrap()
        .contains("tsv (tsvector)"));
}

#[test]
fn every_column_type_is_read_on_a_url_target() {
    let server = pg_cluster::Server::primary();
    server.psql("create role reader login password 'reader-pw' superuser");
    server.psql(TYPE_SETUP);
    let dir = query_suite(ALL_TYPES);
    let url = server.url("reader", "reader-pw", "postgres");
    let (out, report) = run_json(dir.path(), &["--database-url", &url]);
    out.expect_code(0);
    assert_eq!(common::unit(&report, "a", "default")["verdict"], "pass");
}

#[test]
fn a_nul_byte_is_bad_input_at_load_with_its_line() {
    let dir = query_suite("select 1 as x\n-- \0\n");
    assert_error(&validate(&dir), &["sql/endpoints/q.sql:2:", "NUL byte"]);
    let out = Assay::new(dir.path()).args(["run", "--no-progress"]).run();
    assert_error(&out, &["sql/endpoints/q.sql:2:", "NUL byte"]);
    let dir = one_check("name: a\nquery: q.sql\n# \0\n", QUERY);
    assert_error(&validate(&dir), &["checks/a.yaml:3:", "NUL byte"]);
}

#[test]
fn malformed_and_foreign_database_urls_are_refused_before_connecting() {
    let dir = query_suite(QUERY);
    for (url, needle) in [
        (
            "postgres://bob:hunter2@127.0.0.1:99999/x",
            "invalid database URL",
        ),
        (
            "mysql://bob:hunter2@127.0.0.1/x",
            "unsupported database URL scheme `mysql://`",
        ),
        ("host=127.0.0.1 port=x password=hunter2", "port `x`"),
        ("not-a-url", "neither a database URL"),
    ] {
        let out = Assay::new(dir.path())
            .args(["run", "--no-progress", "--database-url", url])
            .run();
        assert_error(&out, &[needle]);
        assert!(!out.stderr.contains("hunter2") && !out.stdout.contains("hunter2"));
    }
    // A libpq connection string is accepted: this one reaches nothing (exit 3).
    let out = Assay::new(dir.path())
        .args(["run", "--no-progress", "--database-url"])
        .args(["host=127.0.0.1 port=1 dbname=x user=bob password=hunter2"])
        .run();
    out.expect_code(3);
    assert!(!out.stderr.contains("hunter2"), "{}", out.stderr);
}

#[test]
fn an_enormous_budget_and_an_impossible_date_are_refused_at_load() {
    let dir = one_check("name: a\nquery: q.sql\nbudget: 1000d\n", QUERY);
    assert_error(
        &validate(&dir),
        &["checks/a.yaml:3:", "more than the largest allowed, 1d"],
    );
    let dir = one_check(
        "name: a\nquery: q.sql\nparams:\n  sets:\n    - name: s\n      values: {d: 2025-13-45}\n",
        "select :d as x\n",
    );
    assert_error(
        &validate(&dir),
        &["checks/a.yaml:6:", "`2025-13-45` is not a date"],
    );
}

#[test]
fn a_selection_of_nothing_fails_and_starts_no_database() {
    let dir = write_suite(&[
        ("assay.yaml", "name: sel\nsetup:\n  - sql: s.sql\n"),
        ("s.sql", "select 1;\n"),
        (
            "checks/kpi.yaml",
            "name: kpi_cards\nquery: q.sql\ntags: [dashboard]\n",
        ),
        ("sql/endpoints/q.sql", QUERY),
    ]);
    let tmp = common::private_tmp();
    let out = Assay::new(dir.path())
        .tmpdir(tmp.path())
        .args(["run", "--no-progress", "--filter", "kpi_card"])
        .run();
    // A substring still matches: that is not "nothing".
    out.expect_code(1);
    let out = Assay::new(dir.path())
        .tmpdir(tmp.path())
        .args(["run", "--no-progress", "--filter", "kpi_crads"])
        .run();
    assert_error(
        &out,
        &[
            "no check matches --filter kpi_crads",
            "did you mean `--filter kpi_cards`?",
        ],
    );
    let out = Assay::new(dir.path())
        .tmpdir(tmp.path())
        .args(["run", "--no-progress", "--tag", "dashbord"])
        .run();
    assert_error(
        &out,
        &["no check has tag `dashbord` (did you mean `dashboard`?)"],
    );
    assert!(
        common::run_dirs(tmp.path()).is_empty(),
        "a server was started"
    );
    let out = Assay::new(dir.path())
        .tmpdir(tmp.path())
        .args([
            "run",
            "--no-progress",
            "--filter",
            "nothing",
            "--allow-empty",
        ])
        .run();
    out.expect_code(0);
    assert!(out.stdout.contains("0 units"), "{}", out.stdout);
}

#[test]
fn a_bindir_that_holds_no_server_is_bad_input() {
    let dir = query_suite(QUERY);
    let out = Assay::new(dir.path())
        .env("ASSAY_PG_BINDIR", "/nonexistent/bin")
        .args(["run", "--no-progress"])
        .run();
    assert_error(
        &out,
        &["ASSAY_PG_BINDIR=/nonexistent/bin holds no PostgreSQL server binaries"],
    );
}

#[test]
fn a_dangling_symlink_and_an_empty_query_are_input_errors() {
    let dir = query_suite(QUERY);
    std::os::unix::fs::symlink("/nonexistent/b.yaml", dir.path().join("checks/b.yaml")).unwrap();
    assert_error(
        &validate(&dir),
        &["checks/b.yaml: file is a symbolic link to a file that does not exist"],
    );
    let dir = query_suite("-- nothing but a comment\n\n");
    assert_error(
        &validate(&dir),
        &["sql/endpoints/q.sql:1:", "holds no query"],
    );
}

#[test]
fn setup_and_fixture_failures_name_their_line() {
    let dir = write_suite(&[
        (
            "assay.yaml",
            "name: s\nsetup:\n  - sql: s.sql\n  - csv: d.csv\n    table: t\n",
        ),
        (
            "s.sql",
            "create table t (id int, v int);\n\n-- then\nselect 1/0;\n",
        ),
        ("d.csv", "id,v\n1,2\n"),
        ("checks/a.yaml", "name: a\nquery: q.sql\n"),
        ("sql/endpoints/q.sql", QUERY),
    ]);
    let out = Assay::new(dir.path()).args(["run", "--no-progress"]).run();
    assert_error(&out, &["error: s.sql:4: setup failed: division by zero"]);
    std::fs::write(
        dir.path().join("s.sql"),
        "create table t (id int, v int);\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("d.csv"), "id,v\n1,2\n3,x\n").unwrap();
    let out = Assay::new(dir.path()).args(["run", "--no-progress"]).run();
    assert_error(
        &out,
        &["error: d.csv:3: setup failed: invalid input syntax for type integer"],
    );
}

#[test]
fn lexer_errors_have_a_line_and_a_suite_relative_path() {
    let cases = [
        (
            "select 1 as x;\n\nselect 2 as y\n",
            "sql/endpoints/q.sql:3:",
            "exactly one statement",
        ),
        (
            "select\n'abc as x\n",
            "sql/endpoints/q.sql:2:",
            "unterminated string literal",
        ),
        (
            "select 1 as x,\n$f$ open\n",
            "sql/endpoints/q.sql:2:",
            "unterminated dollar-quoted string",
        ),
    ];
    for (query, at, what) in cases {
        let dir = query_suite(query);
        // -C with an absolute path: messages still say sql/endpoints/q.sql.
        let out = Assay::new("/")
            .args(["-C".as_ref(), dir.path().as_os_str(), "validate".as_ref()])
            .run();
        assert_error(&out, &[&format!("error: {at}"), what]);
        assert!(
            !out.stderr.contains(&*dir.path().to_string_lossy()),
            "{}",
            out.stderr
        );
    }
}

#[test]
fn invalid_utf8_is_located_in_check_and_query_files() {
    let dir = write_suite(&[("assay.yaml", CONFIG), ("sql/endpoints/q.sql", QUERY)]);
    std::fs::create_dir_all(dir.path().join("checks")).unwrap();
    std::fs::write(
        dir.path().join("checks/a.yaml"),
        b"name: a\nquery: q.sql\n# caf\xe9\n",
    )
    .unwrap();
    assert_error(&validate(&dir), &["checks/a.yaml:3:", "not valid UTF-8"]);
    std::fs::write(dir.path().join("checks/a.yaml"), b"name: a\nquery: q.sql\n").unwrap();
    std::fs::write(
        dir.path().join("sql/endpoints/q.sql"),
        b"select\n'caf\xe9' as x\n",
    )
    .unwrap();
    let out = validate(&dir);
    assert_error(&out, &["sql/endpoints/q.sql:2:", "not valid UTF-8"]);
    assert!(!out.stderr.contains("not found"), "{}", out.stderr);
}

#[test]
fn yaml_details_duplicate_keys_bom_and_flow_mappings() {
    let dir = one_check(
        "name: a\nquery: q.sql\nbudget: 1s\nexpect:\n  rows: {min: 1}\nbudget: 2s\n",
        QUERY,
    );
    assert_error(
        &validate(&dir),
        &["checks/a.yaml:6:1:", "`budget` is given twice"],
    );
    let dir = one_check("\u{feff}name: a\nquery: q.sql\n", QUERY);
    validate(&dir).expect_code(0);
    let dir = one_check("name: a\nquery: q.sql\nexpect:\n  rows: {minn: 1}\n", QUERY);
    assert_error(
        &validate(&dir),
        &[
            "checks/a.yaml:4:",
            "did you mean `min`? valid keys here: min, max",
        ],
    );
}

#[test]
fn parameters_work_in_row_and_aggregate_checks() {
    let query = "select d::date as dt, 1 as n from generate_series(:date_from::date, :date_to::date, '1 day') d\n";
    let check = |row: &str| {
        format!(
            "name: a\nquery: q.sql\nparams:\n  sets:\n    - name: w\n      values: {{date_from: 2025-10-01, date_to: 2025-10-03}}\n\
             expect:\n  snapshot: {{enabled: false}}\n  row_checks:\n    - name: in_window\n      sql: \"{row}\"\n\
             \x20 aggregate_checks:\n    - name: days\n      sql: \"count(*) = :date_to - :date_from + 1\"\n"
        )
    };
    let dir = one_check(&check("dt between :date_from and :date_to"), query);
    let (out, report) = run_json(dir.path(), &[]);
    out.expect_code(0);
    assert_eq!(outcome(&report, "a", "w", "in_window")["status"], "pass");
    assert_eq!(outcome(&report, "a", "w", "days")["status"], "pass");
    // The parameter is really bound: a window one day off fails.
    let dir = one_check(&check("dt between :date_from + 1 and :date_to"), query);
    let (out, report) = run_json(dir.path(), &[]);
    out.expect_code(1);
    assert_eq!(outcome(&report, "a", "w", "in_window")["status"], "fail");
}

#[test]
fn checks_that_cannot_work_are_refused_at_load() {
    // An aggregate check without an aggregate.
    let dir = one_check(
        "name: a\nquery: q.sql\nexpect:\n  aggregate_checks:\n    - name: no_neg\n      sql: \"not exists (select 1 from out where x < 0)\"\n",
        QUERY,
    );
    assert_error(
        &validate(&dir),
        &["checks/a.yaml:5:", "calls no aggregate function"],
    );
    // A relation whose total matches no set, and a partition axis with one value.
    let rel = |values: &str, total: &str| {
        format!(
            "name: a\nquery: q.sql\nparams:\n  matrix:\n    p: [{values}]\nexpect:\n  relations:\n    - name: parts\n      partition: p\n      total: {total}\n      measures: [x]\n"
        )
    };
    let q = "select 1 as x where :p::text is not null or true\n";
    assert_error(
        &validate(&one_check(&rel("a, b", "c"), q)),
        &["checks/a.yaml:8:", "can never compare anything"],
    );
    assert_error(
        &validate(&one_check(&rel("null", "null"), q)),
        &["can never compare anything"],
    );
    validate(&one_check(&rel("null, a, b", "null"), q)).expect_code(0);
    // psql variables.
    let dir = one_check(
        "name: a\nquery: q.sql\nparams:\n  sets:\n    - name: s\n      values: {d: 2025-10-01}\n",
        "select :d as x\nwhere :'d' is not null\n",
    );
    assert_error(
        &validate(&dir),
        &["sql/endpoints/q.sql:2:", "assay parameters are written :d"],
    );
}

#[test]
fn a_suite_without_setup_says_it_needs_a_database() {
    let dir = query_suite("select n from dashboards.fact_leads\n");
    let (out, report) = run_json(dir.path(), &[]);
    out.expect_code(1);
    let msg = outcome(&report, "a", "default", "query")["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        msg.contains("has no `setup:`") && msg.contains("--database-url"),
        "{msg}"
    );
}

#[test]
fn huge_matrices_and_deep_nesting_are_refused_before_the_work() {
    let axis: Vec<String> = (0..100).map(|i| i.to_string()).collect();
    let axis = axis.join(", ");
    let dir = one_check(
        &format!("name: a\nquery: q.sql\nparams:\n  matrix:\n    a: [{axis}]\n    b: [{axis}]\n    c: [{axis}]\n"),
        "select :a + :b + :c as x\n",
    );
    let started = std::time::Instant::now();
    assert_error(
        &validate(&dir),
        &[
            "checks/a.yaml:4:",
            "1000000 parameter sets (100 × 100 × 100)",
            "at most 10000",
        ],
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    let deep = format!(
        "name: a\nquery: q.sql\nx: {}{}\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    assert_error(
        &validate(&one_check(&deep, QUERY)),
        &["checks/a.yaml:3:", "nests more than 200 levels"],
    );
}

#[test]
fn a_closed_stdout_does_not_kill_the_run() {
    let dir = query_suite(QUERY);
    let tmp = common::private_tmp();
    let report = dir.path().join("r.json");
    let script = format!(
        "{} run --no-progress --format human --format json={} | head -c 1; echo \" rc=${{PIPESTATUS[0]}}\"",
        common::bin().display(),
        report.display()
    );
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(dir.path())
        .env("TMPDIR", tmp.path())
        .env("ASSAY_RUN_DIR", tmp.path())
        .env("CI", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.ends_with(" rc=0\n"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(json["summary"]["counts"]["passed"], 1);
    assert!(common::wait_for(std::time::Duration::from_secs(5), || {
        common::run_dirs(tmp.path()).is_empty()
    }));
}

#[test]
fn an_unreachable_database_still_writes_reports_saying_so() {
    let dir = query_suite(QUERY);
    let out_dir = tempfile::tempdir().unwrap();
    let junit = out_dir.path().join("junit.xml");
    let json = out_dir.path().join("r.json");
    let out = Assay::new(dir.path())
        .args([
            "run",
            "--no-progress",
            "--database-url",
            "postgres://x:pw@127.0.0.1:1/db",
        ])
        .args([
            format!("--format=junit={}", junit.display()),
            format!("--format=json={}", json.display()),
        ])
        .run();
    out.expect_code(3);
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains("assay.infrastructure") && xml.contains("cannot connect"),
        "{xml}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert!(report["summary"]["infrastructure_error"]
        .as_str()
        .unwrap()
        .contains("cannot connect"));
    let names: Vec<String> = std::fs::read_dir(out_dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "temporary files left: {names:?}");
}

#[test]
fn load_errors_are_failed_junit_cases() {
    let dir = write_suite(&[
        ("assay.yaml", CONFIG),
        (
            "checks/broken.yaml",
            "name: broken\nquery: q.sql\nexpect:\n  rowz: {min: 1}\n",
        ),
        (
            "checks/good.yaml",
            "name: good\nquery: q.sql\nexpect:\n  snapshot: {enabled: false}\n",
        ),
        ("sql/endpoints/q.sql", QUERY),
    ]);
    let junit = dir.path().join("junit.xml");
    let out = Assay::new(dir.path())
        .args(["run", "--no-progress", "--format", "human"])
        .args([format!("--format=junit={}", junit.display())])
        .run();
    out.expect_code(2);
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains("classname=\"assay.load\"") && xml.contains("checks/broken.yaml:4:3"),
        "{xml}"
    );
    assert_eq!(
        format!("{}{}", out.stdout, out.stderr)
            .matches("unknown field `rowz`")
            .count(),
        1,
        "said once\n{}{}",
        out.stdout,
        out.stderr
    );
}

#[test]
fn merge_refuses_a_missing_or_duplicated_partition() {
    let dir = query_suite(QUERY);
    let part = |k: u32| {
        let p = dir.path().join(format!("p{k}.json"));
        Assay::new(dir.path())
            .args([
                "run",
                "--no-progress",
                "--allow-empty",
                "--partition",
                &format!("hash:{k}/3"),
            ])
            .args([format!("--format=json={}", p.display())])
            .run();
        p
    };
    let (p1, p2, p3) = (part(1), part(2), part(3));
    let merge = |files: &[&std::path::PathBuf]| Assay::new(dir.path()).arg_merge(files);
    merge(&[&p1, &p2, &p3]).expect_code(0);
    assert_error(&merge(&[&p1, &p3]), &["part hash:2/3 is missing"]);
    assert_error(
        &merge(&[&p1, &p2, &p2, &p3]),
        &["part hash:2/3 is given 2 times"],
    );
}

trait MergeArgs {
    fn arg_merge(self, files: &[&std::path::PathBuf]) -> Output;
}

impl MergeArgs for Assay {
    fn arg_merge(self, files: &[&std::path::PathBuf]) -> Output {
        self.args(["merge"])
            .args(files.iter().map(|f| f.as_os_str().to_owned()))
            .run()
    }
}

#[test]
fn sigterm_cancels_the_query_running_on_a_url_target() {
    let server = pg_cluster::Server::primary();
    server.psql("create role reader login password 'reader-pw' superuser");
    let dir = one_check(
        "name: a\nquery: q.sql\nbudget: 60s\nexpect:\n  snapshot: {enabled: false}\n",
        "select 1 as x from pg_sleep(60)\n",
    );
    let url = server.url("reader", "reader-pw", "postgres");
    let child = Assay::new(dir.path())
        .args(["run", "--no-progress", "--database-url", &url])
        .spawn();
    let running = || {
        server.psql(
            "select count(*) from pg_stat_activity where query like '%pg_sleep(60)%' \
             and state = 'active' and pid <> pg_backend_pid()",
        ) == "1"
    };
    assert!(
        common::wait_for(std::time::Duration::from_secs(20), running),
        "the query never ran"
    );
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(143),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Gone at once, not after its 120 s statement_timeout.
    assert!(
        common::wait_for(std::time::Duration::from_secs(3), || !running()),
        "the query still runs on the server"
    );
}

#[test]
fn a_missing_docker_image_says_how_to_build_one() {
    let dir = query_suite(QUERY);
    let out = Assay::new(dir.path())
        .args(["run", "--no-progress", "--target", "docker"])
        .args(["--docker-image", "assay-no-such-image", "--docker-tag", "0"])
        .run();
    out.expect_code(3);
    assert!(
        out.stderr
            .contains("assay-no-such-image:0 is not on this machine")
            && out.stderr.contains("docker/build-postgres-image.sh"),
        "{}",
        out.stderr
    );
}
