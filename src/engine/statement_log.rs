//! What the engine sends to the database, when asked: every statement the
//! checks run (queries, verification queries, predicate evaluations, table
//! checks, timings), with its parameter values, in the order they were
//! sent. Transaction control around them is not included. `assay run
//! --log-statements FILE` writes it as a psql script; `assay bench
//! --versus-psql` runs that script as the floor assay is compared with.

use crate::db::bind::Bind;
use crate::suite::{ParamType, ParamValue};
use std::sync::Mutex;

/// One statement as sent.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub sql: String,
    /// The fetched output sent back as `$1` (predicate evaluations).
    pub json: Option<serde_json::Value>,
    /// The parameters after `json` (or from `$1` without it).
    pub binds: Vec<Bind>,
}

static LOG: Mutex<Option<Vec<Recorded>>> = Mutex::new(None);

/// Starts recording (clearing anything recorded before).
pub fn start() {
    if let Ok(mut l) = LOG.lock() {
        *l = Some(Vec::new());
    }
}

/// Stops recording and returns what was recorded.
pub fn take() -> Vec<Recorded> {
    LOG.lock()
        .ok()
        .and_then(|mut l| l.take())
        .unwrap_or_default()
}

pub(crate) fn record(sql: &str, json: Option<&serde_json::Value>, binds: &[Bind]) {
    if let Ok(mut l) = LOG.lock() {
        if let Some(log) = l.as_mut() {
            log.push(Recorded {
                sql: sql.to_string(),
                json: json.cloned(),
                binds: binds.to_vec(),
            });
        }
    }
}

/// A value as a SQL literal of its type (`'2025-10-01'::date`, `NULL::int8`).
pub fn literal(b: &Bind) -> String {
    let ty = b.ty.sql();
    match (&b.value, b.ty) {
        (ParamValue::Null, _) => format!("NULL::{ty}"),
        (ParamValue::Integer(i), ParamType::Integer) => format!("{i}::int8"),
        (ParamValue::Bool(v), ParamType::Bool) => v.to_string(),
        (v, _) => format!(
            "{}::{ty}",
            crate::sql::quote_literal(&v.to_sql_text().unwrap_or_default())
        ),
    }
}

/// The statements as a psql script: parameters written as literals of
/// their types, one statement per line group, each ending with `;`.
pub fn psql_script(statements: &[Recorded]) -> String {
    let mut out = String::from("\\set ON_ERROR_STOP 1\n");
    for r in statements {
        let offset = usize::from(r.json.is_some());
        let text = crate::sql::inline_positional(&r.sql, |n| {
            if offset == 1 && n == 1 {
                let json = r.json.as_ref().map(|j| j.to_string()).unwrap_or_default();
                crate::sql::quote_literal(&json)
            } else {
                r.binds
                    .get(n - 1 - offset)
                    .map(literal)
                    .unwrap_or_else(|| format!("${n}"))
            }
        });
        // On its own line: a statement may end in a `--` comment.
        out.push_str(text.trim_end());
        out.push_str("\n;\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_become_a_psql_script_with_typed_literals() {
        let d = chrono::NaiveDate::from_ymd_opt(2025, 10, 1).unwrap();
        let script = psql_script(&[
            Recorded {
                sql: "select $1::date, $2::text, $3::int8 -- $1".into(),
                json: None,
                binds: vec![
                    Bind::new(ParamType::Date, ParamValue::Date(d)),
                    Bind::new(ParamType::Text, ParamValue::Null),
                    Bind::new(ParamType::Integer, ParamValue::Integer(7)),
                ],
            },
            Recorded {
                sql: "select count(*) from jsonb_to_recordset($1::jsonb) as t(a int) where a > $2::int8".into(),
                json: Some(serde_json::json!([{"a": "1"}, {"a": "it's"}])),
                binds: vec![Bind::new(ParamType::Integer, ParamValue::Integer(0))],
            },
        ]);
        let want = r#"\set ON_ERROR_STOP 1
select '2025-10-01'::date::date, NULL::text::text, 7::int8::int8 -- $1
;
select count(*) from jsonb_to_recordset('[{"a":"1"},{"a":"it''s"}]'::jsonb) as t(a int) where a > 0::int8::int8
;
"#;
        assert_eq!(script, want);
    }
}
