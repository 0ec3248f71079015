//! An API's JSON answer as rows ([`QueryOutput`]) under the query's column
//! names, and every way its shape departs from `expect.columns`: missing or
//! extra fields, JSON types that do not fit the SQL types (numbers are
//! numbers, dates are ISO dates), nulls where none may be. Pure.

use crate::output::{Cell, Column, QueryOutput};
use crate::suite::params::parse_timestamp;
use crate::suite::{ApiMapping, ColumnSpec};
use bigdecimal::BigDecimal;
use chrono::NaiveDate;
use serde_json::Value;
use std::collections::BTreeMap;
use std::str::FromStr;

/// The rows of an answer and what is wrong with its shape.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiRows {
    /// Columns named as in the query; types from the SQL output when known.
    pub output: QueryOutput,
    /// Shape problems, one line each (empty: the shape is the contract's).
    pub problems: Vec<String>,
}

/// What JSON a column of a SQL type must hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Integer,
    Numeric,
    Float,
    Text,
    Date,
    Timestamp,
    Timestamptz,
    Bool,
    Json,
    Array,
    Any,
}

fn kind_of(ty: Option<&str>) -> Kind {
    match ty {
        Some("int2" | "int4" | "int8") => Kind::Integer,
        Some("numeric") => Kind::Numeric,
        Some("float4" | "float8") => Kind::Float,
        Some("text" | "varchar" | "bpchar" | "name" | "citext") => Kind::Text,
        Some("date") => Kind::Date,
        Some("timestamp") => Kind::Timestamp,
        Some("timestamptz") => Kind::Timestamptz,
        Some("bool") => Kind::Bool,
        Some("json" | "jsonb") => Kind::Json,
        Some(t) if t.ends_with("[]") => Kind::Array,
        _ => Kind::Any,
    }
}

fn expected_json(kind: Kind, decimal_strings: bool) -> &'static str {
    match kind {
        Kind::Integer if decimal_strings => "an integer (or a string of one)",
        Kind::Integer => "an integer",
        Kind::Numeric | Kind::Float if decimal_strings => "a number (or a decimal string)",
        Kind::Numeric | Kind::Float => "a number",
        Kind::Text => "a string",
        Kind::Date => "an ISO date string (YYYY-MM-DD)",
        Kind::Timestamp => "an ISO date-time string",
        Kind::Timestamptz => "an ISO date-time string with an offset",
        Kind::Bool => "true or false",
        Kind::Array => "an array",
        Kind::Json | Kind::Any => "any JSON value",
    }
}

/// What a JSON value is, for messages.
fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A short rendering of a value for messages.
fn sample(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 40 {
        format!("{}…", s.chars().take(40).collect::<String>())
    } else {
        s
    }
}

fn number_cell(n: &serde_json::Number, kind: Kind) -> Cell {
    if let Some(i) = n.as_i64() {
        return match kind {
            Kind::Float => Cell::Float(i as f64),
            Kind::Numeric => Cell::Numeric(BigDecimal::from(i)),
            _ => Cell::Int(i),
        };
    }
    let text = n.to_string();
    match kind {
        Kind::Float => Cell::Float(n.as_f64().unwrap_or(f64::NAN)),
        Kind::Integer => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Cell::Int(f as i64),
            _ => BigDecimal::from_str(&text)
                .map(Cell::Numeric)
                .unwrap_or(Cell::Text(text)),
        },
        _ => BigDecimal::from_str(&text)
            .map(Cell::Numeric)
            .unwrap_or(Cell::Text(text)),
    }
}

/// A decimal string as a cell of `kind`, if it is one.
fn decimal_string_cell(s: &str, kind: Kind) -> Option<Cell> {
    let d = BigDecimal::from_str(s.trim()).ok()?;
    if s.trim().is_empty() || s.contains(['e', 'E']) && !matches!(kind, Kind::Float) {
        return None;
    }
    Some(match kind {
        Kind::Integer if d.is_integer() => d
            .to_string()
            .parse::<i64>()
            .map(Cell::Int)
            .unwrap_or(Cell::Numeric(d)),
        Kind::Float => Cell::Float(s.trim().parse::<f64>().ok()?),
        _ => Cell::Numeric(d),
    })
}

/// PostgreSQL's array text (`{a,"b c",NULL}`) of a JSON array of scalars,
/// as `db::decode` renders array columns.
fn array_text(items: &[Value]) -> Option<String> {
    let mut parts = Vec::new();
    for v in items {
        let s = match v {
            Value::Null => {
                parts.push("NULL".to_string());
                continue;
            }
            Value::String(s) => s.clone(),
            Value::Number(n) => match BigDecimal::from_str(&n.to_string()) {
                Ok(d) => crate::output::normalize_decimal(&d),
                Err(_) => n.to_string(),
            },
            Value::Bool(b) => if *b { "t" } else { "f" }.to_string(),
            _ => return None,
        };
        if s.is_empty()
            || s.contains([',', '"', '{', '}', ' ', '\\'])
            || s.eq_ignore_ascii_case("null")
        {
            parts.push(format!(
                "\"{}\"",
                s.replace('\\', "\\\\").replace('"', "\\\"")
            ));
        } else {
            parts.push(s);
        }
    }
    Some(format!("{{{}}}", parts.join(",")))
}

/// A value as a cell of `kind`: Ok when the JSON type fits, Err(cell) when it
/// does not (the cell is still the value's best reading, so that rows are
/// compared on values and the shape check alone reports the type).
fn cell(v: &Value, kind: Kind, decimal_strings: bool) -> Result<Cell, Cell> {
    let loose = || loose_cell(v);
    match (kind, v) {
        (_, Value::Null) => Ok(Cell::Null),
        (Kind::Integer, Value::Number(n)) => {
            let c = number_cell(n, Kind::Integer);
            if matches!(c, Cell::Int(_)) && (n.is_i64() || n.is_u64()) {
                Ok(c)
            } else {
                Err(c)
            }
        }
        (Kind::Numeric | Kind::Float, Value::Number(n)) => Ok(number_cell(n, kind)),
        (Kind::Integer | Kind::Numeric | Kind::Float, Value::String(s)) => {
            match decimal_string_cell(s, kind) {
                Some(c) if decimal_strings => Ok(c),
                Some(c) => Err(c),
                None => Err(loose()),
            }
        }
        (Kind::Text, Value::String(s)) => Ok(Cell::Text(s.clone())),
        (Kind::Date, Value::String(s)) => match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            Ok(d) if s.len() == 10 => Ok(Cell::Text(d.format("%Y-%m-%d").to_string())),
            _ => Err(loose()),
        },
        (Kind::Timestamp, Value::String(s)) => match parse_timestamp(s) {
            Some(t) if s.len() > 10 => Ok(Cell::Text(t.format("%Y-%m-%d %H:%M:%S%.f").to_string())),
            _ => Err(loose()),
        },
        (Kind::Timestamptz, Value::String(s)) => match chrono::DateTime::parse_from_rfc3339(s)
            .or_else(|_| chrono::DateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f%#z"))
        {
            Ok(t) => Ok(Cell::Text(
                t.with_timezone(&chrono::Utc)
                    .format("%Y-%m-%d %H:%M:%S%.f+00")
                    .to_string(),
            )),
            Err(_) => Err(loose()),
        },
        (Kind::Bool, Value::Bool(b)) => Ok(Cell::Bool(*b)),
        (Kind::Array, Value::Array(items)) => match array_text(items) {
            Some(t) => Ok(Cell::Text(t)),
            None => Err(Cell::Text(v.to_string())),
        },
        (Kind::Json, _) => Ok(Cell::Text(v.to_string())),
        (Kind::Any, _) => Ok(loose()),
        _ => Err(loose()),
    }
}

/// A value read without a declared type.
fn loose_cell(v: &Value) -> Cell {
    match v {
        Value::Null => Cell::Null,
        Value::Bool(b) => Cell::Bool(*b),
        Value::Number(n) => number_cell(n, Kind::Numeric),
        Value::String(s) => Cell::Text(s.clone()),
        other => Cell::Text(other.to_string()),
    }
}

/// Where the rows are: the value at `path`, or why it is not there.
fn locate<'a>(body: &'a Value, path: &[String]) -> Result<&'a Value, String> {
    let mut here = body;
    let mut walked: Vec<&str> = Vec::new();
    for key in path {
        let at = if walked.is_empty() {
            "the top level".to_string()
        } else {
            format!("`{}`", walked.join("."))
        };
        match here {
            Value::Object(m) => {
                match m.get(key) {
                    Some(v) => here = v,
                    None => {
                        let keys: Vec<&str> = m.keys().map(String::as_str).collect();
                        return Err(format!(
                        "no field `{key}` at {at} of the answer (api.rows: {}); fields there: {}",
                        path.join("."),
                        if keys.is_empty() { "none".into() } else { keys.join(", ") }
                    ));
                    }
                }
            }
            other => {
                return Err(format!(
                    "{at} of the answer is {}, not an object with field `{key}` (api.rows: {})",
                    json_type(other),
                    path.join(".")
                ))
            }
        }
        walked.push(key);
    }
    Ok(here)
}

/// A hint when the top level is an object wrapping a list of rows.
fn wrapper_hint(body: &Value, api: &ApiMapping) -> Option<String> {
    if !api.rows.is_empty() {
        return None;
    }
    let Value::Object(m) = body else { return None };
    m.iter()
        .find(|(_, v)| matches!(v, Value::Array(a) if a.iter().all(Value::is_object)))
        .map(|(k, _)| format!("the answer wraps a list in `{k}`: if those are the rows, declare `api: {{rows: {k}}}`"))
}

/// Reads the rows of `body` under the query's column names.
///
/// `expected`: the check's `expect.columns` (the contract), if declared.
/// `sql_columns`: the SQL output's columns, when the query was run: their
/// types type the API's columns, so both outputs compare column by column.
pub fn rows_from_json(
    body: &Value,
    api: &ApiMapping,
    expected: Option<&[ColumnSpec]>,
    sql_columns: Option<&[Column]>,
) -> ApiRows {
    let mut problems = Vec::new();
    let located = match locate(body, &api.rows) {
        Ok(v) => v,
        Err(e) => {
            return ApiRows {
                output: QueryOutput::default(),
                problems: vec![e],
            }
        }
    };
    let items: Vec<&Value> = match located {
        Value::Array(a) => a.iter().collect(),
        Value::Object(_) => vec![located],
        other => {
            return ApiRows {
                output: QueryOutput::default(),
                problems: vec![format!(
                    "the rows are {}; expected an array of objects (or one object)",
                    json_type(other)
                )],
            }
        }
    };
    let mut objects = Vec::new();
    let mut not_objects = Vec::new();
    for (i, v) in items.iter().enumerate() {
        match v {
            Value::Object(m) => objects.push(m),
            other => not_objects.push(format!("row {} is {}", i + 1, json_type(other))),
        }
    }
    if !not_objects.is_empty() {
        problems.push(format!(
            "{} of {} rows are not objects ({})",
            not_objects.len(),
            items.len(),
            not_objects
                .into_iter()
                .take(3)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }

    // The columns: the contract's, else every field seen (API name mapped back).
    let column_of_field: BTreeMap<&str, &str> = api
        .fields
        .iter()
        .map(|(c, f)| (f.as_str(), c.as_str()))
        .collect();
    let sql_type = |name: &str| {
        sql_columns.and_then(|cs| cs.iter().find(|c| c.name == name).map(|c| c.ty.clone()))
    };
    struct Col {
        name: String,
        field: String,
        ty: Option<String>,
        nullable: Option<bool>,
    }
    let cols: Vec<Col> = match expected {
        Some(spec) => spec
            .iter()
            .map(|s| Col {
                name: s.name.clone(),
                field: api.field_name(&s.name).to_string(),
                ty: sql_type(&s.name).or_else(|| s.ty.clone()),
                nullable: s.nullable,
            })
            .collect(),
        None => {
            let mut seen: Vec<String> = Vec::new();
            for m in &objects {
                for k in m.keys() {
                    if !seen.contains(k) {
                        seen.push(k.clone());
                    }
                }
            }
            seen.into_iter()
                .map(|field| {
                    let name = column_of_field
                        .get(field.as_str())
                        .map(|c| c.to_string())
                        .unwrap_or_else(|| field.clone());
                    Col {
                        ty: sql_type(&name),
                        name,
                        field,
                        nullable: None,
                    }
                })
                .collect()
        }
    };

    let mut rows: Vec<Vec<Cell>> = vec![Vec::with_capacity(cols.len()); objects.len()];
    // Columns no row has are left out of the rows: the comparison then
    // reports the column, not every row.
    let mut absent: Vec<bool> = Vec::with_capacity(cols.len());
    for c in &cols {
        let kind = kind_of(c.ty.as_deref());
        let decimal_strings = api.decimal_strings.contains(&c.name);
        let mut missing = 0;
        let mut mistyped: Vec<(usize, &Value)> = Vec::new();
        let mut nulls = 0;
        for (r, m) in objects.iter().enumerate() {
            let cell = match m.get(&c.field) {
                None => {
                    missing += 1;
                    Cell::Null
                }
                Some(v) => {
                    if v.is_null() {
                        nulls += 1;
                    }
                    cell(v, kind, decimal_strings).unwrap_or_else(|loose| {
                        mistyped.push((r, v));
                        loose
                    })
                }
            };
            rows[r].push(cell);
        }
        let shown = if c.field == c.name {
            format!("`{}`", c.name)
        } else {
            format!("`{}` (column {})", c.field, c.name)
        };
        absent.push(!objects.is_empty() && missing == objects.len());
        if missing > 0 {
            problems.push(format!(
                "field {shown} is missing in {missing} of {} rows",
                objects.len()
            ));
        }
        if let Some((r, v)) = mistyped.first() {
            let mut p = format!(
                "field {shown} is {} in {} of {} rows (row {}: {}); expected {}{}",
                json_type(v),
                mistyped.len(),
                objects.len(),
                r + 1,
                sample(v),
                expected_json(kind, decimal_strings),
                c.ty.as_deref()
                    .map(|t| format!(" for {t}"))
                    .unwrap_or_default()
            );
            let decimal_text =
                matches!(v, Value::String(s) if decimal_string_cell(s, kind).is_some());
            if decimal_text && !decimal_strings {
                p.push_str(&format!(
                    "; if the API sends decimals as strings, declare `api: {{decimal_strings: [{}]}}`",
                    c.name
                ));
            }
            problems.push(p);
        }
        if c.nullable == Some(false) && nulls > 0 {
            problems.push(format!(
                "field {shown} is null in {nulls} of {} rows; expected never null",
                objects.len()
            ));
        }
    }
    if expected.is_some() {
        let wanted: Vec<&str> = cols.iter().map(|c| c.field.as_str()).collect();
        let mut extra: Vec<(String, usize)> = Vec::new();
        for m in &objects {
            for k in m.keys() {
                if !wanted.contains(&k.as_str()) {
                    match extra.iter_mut().find(|(e, _)| e == k) {
                        Some((_, n)) => *n += 1,
                        None => extra.push((k.clone(), 1)),
                    }
                }
            }
        }
        for (k, n) in extra {
            problems.push(format!(
                "field `{k}` is not in expect.columns (in {n} of {} rows)",
                objects.len()
            ));
        }
    }
    if !problems.is_empty() {
        if let Some(h) = wrapper_hint(body, api) {
            problems.push(h);
        }
    }
    let keep = |i: usize| !absent[i];
    ApiRows {
        output: QueryOutput {
            columns: cols
                .iter()
                .enumerate()
                .filter(|(i, _)| keep(*i))
                .map(|(_, c)| Column {
                    name: c.name.clone(),
                    ty: c.ty.clone().unwrap_or_else(|| "json".into()),
                })
                .collect(),
            rows: rows
                .into_iter()
                .map(|r| {
                    r.into_iter()
                        .enumerate()
                        .filter(|(i, _)| keep(*i))
                        .map(|(_, c)| c)
                        .collect()
                })
                .collect(),
        },
        problems,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(cols: &[(&str, &str, Option<bool>)]) -> Vec<ColumnSpec> {
        cols.iter()
            .map(|(n, t, null)| ColumnSpec {
                name: n.to_string(),
                ty: Some(t.to_string()),
                nullable: *null,
            })
            .collect()
    }

    fn contract() -> Vec<ColumnSpec> {
        spec(&[
            ("ordered_on", "date", Some(false)),
            ("orders", "int8", Some(false)),
            ("amount", "numeric", Some(false)),
            ("avg_amount", "numeric", Some(true)),
        ])
    }

    #[test]
    fn an_array_of_objects_in_the_contract_shape_reads_cleanly() {
        let body = json!([
            {"ordered_on": "2025-10-01", "orders": 3, "amount": 12.5, "avg_amount": 4.1666},
            {"orders": 0, "ordered_on": "2025-10-02", "amount": 0, "avg_amount": null},
        ]);
        let r = rows_from_json(&body, &ApiMapping::default(), Some(&contract()), None);
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        assert_eq!(
            r.output.column_names(),
            vec!["ordered_on", "orders", "amount", "avg_amount"]
        );
        assert_eq!(r.output.rows[1][0], Cell::Text("2025-10-02".into()));
        assert_eq!(r.output.rows[0][1], Cell::Int(3));
        assert_eq!(
            r.output.rows[0][2],
            Cell::Numeric(BigDecimal::from_str("12.5").unwrap())
        );
        assert_eq!(r.output.rows[1][3], Cell::Null);
    }

    #[test]
    fn numbers_as_strings_fail_unless_declared() {
        let body = json!([{"ordered_on": "2025-10-01", "orders": 3, "amount": "12.50", "avg_amount": "4.1"}]);
        let r = rows_from_json(&body, &ApiMapping::default(), Some(&contract()), None);
        assert_eq!(r.problems.len(), 2, "{:?}", r.problems);
        assert!(
            r.problems[0].starts_with("field `amount` is a string in 1 of 1 rows (row 1: \"12.50\"); expected a number for numeric"),
            "{}",
            r.problems[0]
        );
        assert!(r.problems[0].contains("decimal_strings: [amount]"));
        // The values still compare.
        assert_eq!(
            r.output.rows[0][2],
            Cell::Numeric(BigDecimal::from_str("12.50").unwrap())
        );
        let api = ApiMapping {
            decimal_strings: vec!["amount".into(), "avg_amount".into()],
            ..Default::default()
        };
        let r = rows_from_json(&body, &api, Some(&contract()), None);
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        // A string that is no number fails even where strings are allowed.
        let body =
            json!([{"ordered_on": "2025-10-01", "orders": 3, "amount": "n/a", "avg_amount": null}]);
        assert_eq!(
            rows_from_json(&body, &api, Some(&contract()), None)
                .problems
                .len(),
            1
        );
    }

    #[test]
    fn missing_extra_null_and_badly_typed_fields() {
        let body = json!([
            {"ordered_on": "01.10.2025", "orders": 2.5, "amount": null, "extra": 1},
            {"ordered_on": "2025-10-02T00:00:00", "orders": "3", "amount": 1, "extra": 2},
        ]);
        let r = rows_from_json(&body, &ApiMapping::default(), Some(&contract()), None);
        let p = r.problems.join("\n");
        assert!(p.contains("field `ordered_on` is a string in 2 of 2 rows (row 1: \"01.10.2025\"); expected an ISO date string"), "{p}");
        assert!(
            p.contains("field `orders` is a number in 2 of 2 rows"),
            "{p}"
        );
        assert!(
            p.contains("field `amount` is null in 1 of 2 rows; expected never null"),
            "{p}"
        );
        assert!(
            p.contains("field `avg_amount` is missing in 2 of 2 rows"),
            "{p}"
        );
        assert_eq!(
            r.output.column_names(),
            vec!["ordered_on", "orders", "amount"]
        );
        assert!(
            p.contains("field `extra` is not in expect.columns (in 2 of 2 rows)"),
            "{p}"
        );
    }

    #[test]
    fn rows_in_a_field_renamed_fields_and_a_single_object() {
        let api = ApiMapping {
            rows: vec!["result".into(), "items".into()],
            fields: [("ordered_on".to_string(), "date".to_string())]
                .into_iter()
                .collect(),
            ..Default::default()
        };
        let body = json!({"result": {"items": [{"date": "2025-10-01", "orders": 1, "amount": 2, "avg_amount": 2}]}});
        let r = rows_from_json(&body, &api, Some(&contract()), None);
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        assert_eq!(r.output.rows.len(), 1);
        let r = rows_from_json(&json!({"result": []}), &api, Some(&contract()), None);
        assert!(
            r.problems[0].starts_with("`result` of the answer is an array"),
            "{:?}",
            r.problems
        );
        // One object at the top level is one row (a KPI card).
        let kpi = json!({"ordered_on": "2025-10-01", "orders": 1, "amount": 2, "avg_amount": null});
        let r = rows_from_json(&kpi, &ApiMapping::default(), Some(&contract()), None);
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        assert_eq!(r.output.rows.len(), 1);
        // A wrapper without `api.rows` is named in a hint.
        let wrapped = json!({"data": [{"ordered_on": "2025-10-01", "orders": 1, "amount": 2, "avg_amount": null}]});
        let r = rows_from_json(&wrapped, &ApiMapping::default(), Some(&contract()), None);
        assert!(
            r.problems
                .last()
                .unwrap()
                .contains("declare `api: {rows: data}`"),
            "{:?}",
            r.problems
        );
    }

    #[test]
    fn sql_types_type_the_columns_and_unknown_columns_are_read_loosely() {
        let sql = vec![
            Column {
                name: "n".into(),
                ty: "int4".into(),
            },
            Column {
                name: "x".into(),
                ty: "float8".into(),
            },
        ];
        let body = json!([{"n": 1, "x": 2, "s": "a"}]);
        let r = rows_from_json(&body, &ApiMapping::default(), None, Some(&sql));
        assert!(r.problems.is_empty());
        assert_eq!(r.output.columns[0].ty, "int4");
        assert_eq!(
            r.output.rows[0],
            vec![Cell::Int(1), Cell::Float(2.0), Cell::Text("a".into())]
        );
        assert_eq!(r.output.columns[2].ty, "json");
    }

    #[test]
    fn times_and_arrays_read_as_postgres_prints_them() {
        let cols = spec(&[
            ("t", "timestamp", None),
            ("tz", "timestamptz", None),
            ("a", "text[]", None),
            ("b", "bool", None),
        ]);
        let body = json!([{"t": "2025-10-01T12:30:00", "tz": "2025-10-01T12:30:00+02:00", "a": ["x", "y z", null], "b": true}]);
        let r = rows_from_json(&body, &ApiMapping::default(), Some(&cols), None);
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        assert_eq!(
            r.output.rows[0],
            vec![
                Cell::Text("2025-10-01 12:30:00".into()),
                Cell::Text("2025-10-01 10:30:00+00".into()),
                Cell::Text("{x,\"y z\",NULL}".into()),
                Cell::Bool(true),
            ]
        );
    }

    mod properties {
        use super::*;
        use crate::output::cells_match;
        use proptest::prelude::*;

        fn row() -> impl Strategy<Value = (String, u32, i64, i64, Option<i64>)> {
            (
                "[a-z]{1,8}",
                0u32..365,
                -1_000_000i64..1_000_000,
                -100_000_000i64..100_000_000,
                proptest::option::of(0i64..10_000_000),
            )
        }

        fn contract() -> Vec<ColumnSpec> {
            spec(&[
                ("channel", "text", Some(false)),
                ("ordered_on", "date", Some(false)),
                ("orders", "int8", Some(false)),
                ("amount", "numeric", Some(false)),
                ("avg_amount", "numeric", None),
            ])
        }

        proptest! {
            /// Rows in the contract's shape read back as the values they
            /// hold, whether decimals come as numbers or (where allowed) as
            /// strings, with no shape problem.
            #[test]
            fn contract_rows_read_back(rows in proptest::collection::vec(row(), 0..20), as_strings: bool) {
                let day0 = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
                let cents = |c: i64| format!("{}{}.{:02}", if c < 0 { "-" } else { "" }, c.abs() / 100, c.abs() % 100);
                let body: Vec<Value> = rows.iter().map(|(p, d, l, s, c)| {
                    let dec = |c: i64| if as_strings {
                        Value::String(cents(c))
                    } else {
                        serde_json::from_str::<Value>(&cents(c)).unwrap()
                    };
                    json!({
                        "channel": p,
                        "ordered_on": (day0 + chrono::Days::new(*d as u64)).format("%Y-%m-%d").to_string(),
                        "orders": l,
                        "amount": dec(*s),
                        "avg_amount": c.map(dec).unwrap_or(Value::Null),
                    })
                }).collect();
                let api = ApiMapping {
                    decimal_strings: if as_strings { vec!["amount".into(), "avg_amount".into()] } else { vec![] },
                    ..Default::default()
                };
                let r = rows_from_json(&Value::Array(body), &api, Some(&contract()), None);
                prop_assert!(r.problems.is_empty(), "{:?}", r.problems);
                prop_assert_eq!(r.output.rows.len(), rows.len());
                for (got, (p, d, l, s, c)) in r.output.rows.iter().zip(&rows) {
                    prop_assert_eq!(&got[0], &Cell::Text(p.clone()));
                    prop_assert_eq!(&got[1], &Cell::Text((day0 + chrono::Days::new(*d as u64)).format("%Y-%m-%d").to_string()));
                    prop_assert_eq!(&got[2], &Cell::Int(*l));
                    let want = Cell::Numeric(BigDecimal::from_str(&cents(*s)).unwrap());
                    prop_assert!(cells_match(&got[3], &want, 1e-9), "{:?} vs {:?}", got[3], want);
                    match c {
                        None => prop_assert_eq!(&got[4], &Cell::Null),
                        Some(c) => {
                            let want = Cell::Numeric(BigDecimal::from_str(&cents(*c)).unwrap());
                            prop_assert!(cells_match(&got[4], &want, 1e-9));
                        }
                    }
                }
            }

            /// Whatever the JSON, reading it never panics.
            #[test]
            fn any_json_is_read_without_panicking(text in "[\\[\\]{}:,\"a-z0-9. -]{0,60}") {
                if let Ok(v) = serde_json::from_str::<Value>(&text) {
                    let _ = rows_from_json(&v, &ApiMapping::default(), Some(&contract()), None);
                    let _ = rows_from_json(&v, &ApiMapping::default(), None, None);
                }
            }
        }
    }
}
