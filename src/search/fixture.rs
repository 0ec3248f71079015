//! A dataset as a ready-to-paste fixture (pure): one INSERT per table that
//! has rows, in the model's load order (parents before the tables that
//! refer to them), one row per line.

use crate::gen::load::quote_name;
use crate::gen::plan::Dataset;
use crate::gen::value::Value;

/// A value as an SQL literal PostgreSQL casts to the column's type.
pub fn literal(v: &Value) -> String {
    match v {
        Value::Null => "NULL".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => {
            if f.is_finite() {
                format!("{f}")
            } else {
                format!("'{f}'")
            }
        }
        other => crate::sql::quote_literal(&other.to_text()),
    }
}

/// The INSERTs of `d`'s rows, or a comment when it has none.
pub fn inserts(d: &Dataset) -> String {
    let mut out = String::new();
    for t in d.tables.iter().filter(|t| !t.rows.is_empty()) {
        let cols: Vec<String> = t.columns.iter().map(|c| quote_name(c)).collect();
        out.push_str(&format!(
            "INSERT INTO {} ({}) VALUES\n",
            quote_name(&t.name),
            cols.join(", ")
        ));
        let rows: Vec<String> = t
            .rows
            .iter()
            .map(|r| {
                let vals: Vec<String> = r.iter().map(literal).collect();
                format!("  ({})", vals.join(", "))
            })
            .collect();
        out.push_str(&rows.join(",\n"));
        out.push_str(";\n");
    }
    if out.is_empty() {
        out.push_str("-- no rows: every table empty\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gen::plan::DatasetTable;

    #[test]
    fn parents_first_one_row_a_line_empty_tables_left_out() {
        let d = Dataset {
            tables: vec![
                DatasetTable {
                    name: "s.parents".into(),
                    columns: vec!["id".into(), "name".into()],
                    rows: vec![vec![Value::Int(1), Value::text("O'Brien")]],
                },
                DatasetTable {
                    name: "s.none".into(),
                    columns: vec!["x".into()],
                    rows: Vec::new(),
                },
                DatasetTable {
                    name: "s.children".into(),
                    columns: vec!["parent_id".into(), "day".into(), "amount".into()],
                    rows: vec![vec![
                        Value::Int(1),
                        Value::Date(chrono::NaiveDate::from_ymd_opt(2025, 10, 1).unwrap()),
                        Value::Null,
                    ]],
                },
            ],
        };
        assert_eq!(
            inserts(&d),
            "INSERT INTO s.parents (id, name) VALUES\n  (1, 'O''Brien');\n\
             INSERT INTO s.children (parent_id, day, amount) VALUES\n  (1, '2025-10-01', NULL);\n"
        );
    }
}
