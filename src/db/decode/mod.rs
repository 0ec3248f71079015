//! Turns Postgres rows into assay's [`Cell`]s. Values arrive in PostgreSQL's
//! binary format and are decoded here by type (`binary`), dates and times
//! printed as PostgreSQL prints them over their whole range (`calendar`:
//! `infinity`, BC, years past 9999). A column of a type without a decoder is
//! reported as [`Unreadable`] so that the caller can read it as text instead;
//! no column type ever fails a query.

pub mod binary;
pub mod calendar;

use crate::output::{Cell, Column, QueryOutput};
use binary::{Catalog, TypeKind};
use sqlx::postgres::{PgColumn, PgRow, PgTypeInfo, PgTypeKind, PgValueFormat};
use sqlx::{Column as _, Row, TypeInfo, ValueRef};

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

/// Columns whose values have no binary decoder (by index).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    pub columns: Vec<usize>,
}

fn oid_of(t: &PgTypeInfo) -> u32 {
    t.oid().map(|o| o.0).unwrap_or(0)
}

/// What the catalog said of a column's user-defined types (and of the types
/// inside them).
fn catalog_of(t: &PgTypeInfo, out: &mut Catalog) {
    let oid = oid_of(t);
    match t.kind() {
        PgTypeKind::Enum(_) => {
            out.insert(oid, TypeKind::Enum);
        }
        PgTypeKind::Domain(base) => {
            out.insert(oid, TypeKind::Domain(oid_of(base)));
            catalog_of(base, out);
        }
        PgTypeKind::Array(elem) => {
            out.insert(oid, TypeKind::Array(oid_of(elem)));
            catalog_of(elem, out);
        }
        PgTypeKind::Range(elem) => {
            out.insert(oid, TypeKind::Range(oid_of(elem)));
            catalog_of(elem, out);
        }
        PgTypeKind::Composite(fields) => {
            out.insert(oid, TypeKind::Composite);
            for (_, f) in fields.iter() {
                catalog_of(f, out);
            }
        }
        PgTypeKind::Simple | PgTypeKind::Pseudo => {}
    }
}

/// A value in text format (the simple protocol): numbers parsed, the rest as is.
fn from_text(oid: u32, text: &str) -> Cell {
    match oid {
        16 => Cell::Bool(text == "t"),
        20 | 21 | 23 | 26 => text
            .parse()
            .map(Cell::Int)
            .unwrap_or(Cell::Text(text.into())),
        700 | 701 => text
            .parse()
            .map(Cell::Float)
            .unwrap_or(Cell::Text(text.into())),
        1700 => match text {
            "NaN" => Cell::Float(f64::NAN),
            "Infinity" => Cell::Float(f64::INFINITY),
            "-Infinity" => Cell::Float(f64::NEG_INFINITY),
            t => t.parse().map(Cell::Numeric).unwrap_or(Cell::Text(t.into())),
        },
        _ => Cell::Text(text.into()),
    }
}

/// Decodes all rows. Columns listed in `as_text` hold PostgreSQL's text
/// output of their values (a re-read after [`Unreadable`]).
pub fn decode(
    columns: Vec<Column>,
    pg_columns: &[PgColumn],
    rows: &[PgRow],
    as_text: &[usize],
) -> Result<QueryOutput, Unreadable> {
    let mut catalog = Catalog::new();
    for c in pg_columns {
        catalog_of(c.type_info(), &mut catalog);
    }
    let oids: Vec<u32> = pg_columns.iter().map(|c| oid_of(c.type_info())).collect();
    let mut unreadable: Vec<usize> = Vec::new();
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let mut cells = Vec::with_capacity(columns.len());
        for (i, &column_oid) in oids.iter().enumerate().take(columns.len()) {
            let cell = match row.try_get_raw(i) {
                Err(_) => Cell::Null,
                Ok(v) if v.is_null() => Cell::Null,
                Ok(v) => {
                    let oid = if as_text.contains(&i) { 25 } else { column_oid };
                    match v.format() {
                        PgValueFormat::Text => match v.as_str() {
                            Ok(t) => from_text(oid, t),
                            Err(_) => Cell::Null,
                        },
                        PgValueFormat::Binary => {
                            let bytes = v.as_bytes().unwrap_or_default();
                            match binary::cell(oid, bytes, &catalog) {
                                Ok(c) => c,
                                Err(_) => {
                                    if !unreadable.contains(&i) {
                                        unreadable.push(i);
                                    }
                                    Cell::Null
                                }
                            }
                        }
                    }
                }
            };
            cells.push(cell);
        }
        out.push(cells);
    }
    if unreadable.is_empty() {
        Ok(QueryOutput { columns, rows: out })
    } else {
        unreadable.sort_unstable();
        Err(Unreadable {
            columns: unreadable,
        })
    }
}
