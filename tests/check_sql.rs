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
    out.expect_code(0);
}
