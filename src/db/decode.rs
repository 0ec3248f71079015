//! Turns Postgres rows into assay's [`Cell`]s, column by column, by type.

use crate::output::{Cell, Column, QueryOutput};
use sqlx::postgres::{PgColumn, PgRow};
use sqlx::{Column as _, Row, TypeInfo};

/// The lower-case type name assay uses for a column (`int8`, `text[]`, ...).
pub fn type_name(col: &PgColumn) -> String {
    col.type_info().name().to_ascii_lowercase()
}

pub fn columns(cols: &[PgColumn]) -> Vec<Column> {
    cols.iter()
        .map(|c| Column {
            name: c.name().to_string(),
            ty: type_name(c),
        })
        .collect()
}

/// Decodes all rows; fails with a message naming the first column it cannot read.
pub fn decode(columns: Vec<Column>, rows: &[PgRow]) -> Result<QueryOutput, String> {
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let mut cells = Vec::with_capacity(columns.len());
        for (i, col) in columns.iter().enumerate() {
            cells.push(decode_cell(row, i, col)?);
        }
        out.push(cells);
    }
    Ok(QueryOutput { columns, rows: out })
}

fn array_text<T: ToString>(items: Vec<Option<T>>) -> String {
    let parts: Vec<String> = items
        .into_iter()
        .map(|v| match v {
            None => "NULL".to_string(),
            Some(v) => {
                let s = v.to_string();
                if s.is_empty()
                    || s.contains([',', '"', '{', '}', ' ', '\\'])
                    || s.eq_ignore_ascii_case("null")
                {
                    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
                } else {
                    s
                }
            }
        })
        .collect();
    format!("{{{}}}", parts.join(","))
}

fn decode_cell(row: &PgRow, i: usize, col: &Column) -> Result<Cell, String> {
    macro_rules! get {
        ($t:ty) => {
            row.try_get::<Option<$t>, _>(i)
                .map_err(|e| format!("cannot read column `{}` ({}): {e}", col.name, col.ty))?
        };
    }
    let cell = match col.ty.as_str() {
        "bool" => get!(bool).map(Cell::Bool),
        "int2" => get!(i16).map(|v| Cell::Int(v as i64)),
        "int4" => get!(i32).map(|v| Cell::Int(v as i64)),
        "int8" => get!(i64).map(Cell::Int),
        "float4" => get!(f32).map(|v| Cell::Float(v as f64)),
        "float8" => get!(f64).map(Cell::Float),
        "numeric" => get!(bigdecimal::BigDecimal).map(Cell::Numeric),
        "text" | "varchar" | "bpchar" | "name" | "citext" | "unknown" => get!(String).map(Cell::Text),
        "date" => get!(chrono::NaiveDate).map(|d| Cell::Text(d.format("%Y-%m-%d").to_string())),
        "timestamp" => {
            get!(chrono::NaiveDateTime).map(|d| Cell::Text(d.format("%Y-%m-%d %H:%M:%S%.f").to_string()))
        }
        "timestamptz" => get!(chrono::DateTime<chrono::Utc>)
            .map(|d| Cell::Text(d.format("%Y-%m-%d %H:%M:%S%.f+00").to_string())),
        "time" => get!(chrono::NaiveTime).map(|d| Cell::Text(d.format("%H:%M:%S%.f").to_string())),
        "json" | "jsonb" => get!(serde_json::Value).map(|v| Cell::Text(v.to_string())),
        "text[]" | "varchar[]" => get!(Vec<Option<String>>).map(|v| Cell::Text(array_text(v))),
        "int4[]" => get!(Vec<Option<i32>>).map(|v| Cell::Text(array_text(v))),
        "int8[]" => get!(Vec<Option<i64>>).map(|v| Cell::Text(array_text(v))),
        "numeric[]" => get!(Vec<Option<bigdecimal::BigDecimal>>).map(|v| Cell::Text(array_text(v))),
        "date[]" => get!(Vec<Option<chrono::NaiveDate>>).map(|v| Cell::Text(array_text(v))),
        "interval" => get!(sqlx::postgres::types::PgInterval).map(|v| {
            Cell::Text(format!("{} mons {} days {} us", v.months, v.days, v.microseconds))
        }),
        other => {
            return Err(format!(
                "column `{}` has type `{other}`, which assay cannot read; cast it in the query (`{}::text`)",
                col.name, col.name
            ))
        }
    };
    Ok(cell.unwrap_or(Cell::Null))
}
