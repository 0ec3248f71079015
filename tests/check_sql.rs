//! The SQL assay writes for checks (predicates over the fetched output,
//! table-check rules), run by a real Postgres: cases whose meaning depends on
//! Postgres semantics and cannot be settled by the unit tests of `checks`.

mod common;

use common::{outcome, run_json, write_suite};

const CONFIG: &str = "\
name: check-sql
setup:
  - sql: schema.sql
defaults:
  budget: 5s
  timing_runs: 1
";

const SCHEMA: &str = "\
create schema t;
create table t.pairs (a int, b int);
insert into t.pairs values (1, null), (1, null), (null, null), (null, null), (2, 2), (3, 3);
create table t.dups (a int, b int);
insert into t.dups values (1, null), (1, null), (2, 2), (2, 2), (2, 2), (3, 3);
create table t.codes (c text);
insert into t.codes values ('x'), (null), ('y');
";

/// A composite key with a NULL in it repeats nothing (as a one-column key
/// and as the sample rows say).
const PAIRS: &str = "\
name: pairs
table: t.pairs
checks:
  - unique: [[a, b]]
";

/// An empty list of accepted values accepts no value: with `allow_null`
/// only NULL passes.
const CODES: &str = "\
name: codes
table: t.codes
checks:
  - name: only_null
    accepted_values: {column: c, values: [], allow_null: true}
  - name: nothing
    accepted_values: {column: c, values: [], allow_null: false}
  - name: listed
    accepted_values: {column: c, values: [x, y], allow_null: true}
";

const DUPS: &str = "\
name: dups
table: t.dups
checks:
  - unique: [[a, b]]
";

/// Row checks see json and jsonb output columns as JSON values (objects,
/// arrays), not as JSON strings holding their text.
const PAYLOADS: &str = "\
name: payloads
query: payloads.sql
expect:
  row_checks:
    - name: jsonb_object
      sql: \"payload->>'status' = 'ok' and jsonb_typeof(payload) = 'object'\"
    - name: json_array
      sql: \"json_array_length(list) = 2\"
    - name: jsonb_null_stays_null
      sql: \"missing is null\"
  snapshot: {enabled: false}
";

const PAYLOADS_SQL: &str = "\
select '{\"status\": \"ok\", \"n\": 2}'::jsonb as payload, '[1, 2]'::json as list,
       null::jsonb as missing
";

#[test]
fn check_sql_follows_postgres_semantics() {
    let dir = write_suite(&[
        ("assay.yaml", CONFIG),
        ("schema.sql", SCHEMA),
        ("checks/payloads.yaml", PAYLOADS),
        ("checks/pairs.yaml", PAIRS),
        ("checks/dups.yaml", DUPS),
        ("checks/codes.yaml", CODES),
        ("sql/endpoints/payloads.sql", PAYLOADS_SQL),
    ]);
    let (out, report) = run_json(dir.path(), &[]);
    let status = |check: &str, set: &str, name: &str| {
        let o = outcome(&report, check, set, name);
        (
            o["status"].as_str().unwrap().to_string(),
            o["message"].as_str().unwrap().to_string(),
        )
    };
    for name in ["jsonb_object", "json_array", "jsonb_null_stays_null"] {
        assert_eq!(
            status("payloads", "default", name),
            ("pass".to_string(), "holds".to_string()),
            "{name}\n{}",
            out.stdout
        );
    }
    assert_eq!(
        status("pairs", "", "unique(a, b)"),
        ("pass".to_string(), "no duplicate rows".to_string()),
        "{}",
        out.stdout
    );
    assert_eq!(
        status("dups", "", "unique(a, b)"),
        ("fail".to_string(), "2 duplicate rows".to_string()),
        "{}",
        out.stdout
    );
    assert_eq!(
        outcome(&report, "dups", "", "unique(a, b)")["details"],
        serde_json::json!(["row 1: a=2 b=2 copies=3"])
    );
    assert_eq!(
        status("codes", "", "only_null"),
        (
            "fail".to_string(),
            "2 values outside the accepted set".to_string()
        ),
        "{}",
        out.stdout
    );
    assert_eq!(
        outcome(&report, "codes", "", "only_null")["details"],
        serde_json::json!(["row 1: c=x", "row 2: c=y"])
    );
    assert_eq!(
        status("codes", "", "nothing"),
        (
            "fail".to_string(),
            "3 values outside the accepted set".to_string()
        )
    );
    assert_eq!(
        status("codes", "", "listed"),
        (
            "pass".to_string(),
            "no values outside the accepted set".to_string()
        )
    );
    out.expect_code(1);
}
