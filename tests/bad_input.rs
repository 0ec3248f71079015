//! Invalid input: every case exits 2 with a message naming the file and the
//! line (and the column, where YAML knows it) and saying how to fix it.

mod common;

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
