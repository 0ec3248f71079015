//! A query's output as assay holds it: named, typed columns and rows of cells.
//! Pure data; no database types leak past `db::decode`.

use bigdecimal::BigDecimal;
use serde::Serialize;
use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Column {
    pub name: String,
    /// Postgres type name in lower case (`int8`, `numeric`, `text`, `date`, ...).
    #[serde(rename = "type")]
    pub ty: String,
}

/// One value. Exact numbers stay exact; dates and times are kept as the
/// canonical text Postgres prints for them.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Bool(bool),
    Int(i64),
    Numeric(BigDecimal),
    Float(f64),
    Text(String),
}

impl Cell {
    pub fn is_null(&self) -> bool {
        matches!(self, Cell::Null)
    }

    /// The value as an exact decimal, when it is a number.
    pub fn as_decimal(&self) -> Option<BigDecimal> {
        match self {
            Cell::Int(i) => Some(BigDecimal::from(*i)),
            Cell::Numeric(n) => Some(n.clone()),
            Cell::Float(f) if f.is_finite() => BigDecimal::from_str(&format!("{f}")).ok(),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Cell::Int(i) => Some(*i as f64),
            Cell::Numeric(n) => n.to_string().parse().ok(),
            Cell::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// Text as Postgres would accept it back (`None` for NULL).
    pub fn to_sql_text(&self) -> Option<String> {
        match self {
            Cell::Null => None,
            Cell::Bool(b) => Some(b.to_string()),
            Cell::Int(i) => Some(i.to_string()),
            Cell::Numeric(n) => Some(n.normalized().to_plain_string()),
            Cell::Float(f) => Some(format_float(*f)),
            Cell::Text(t) => Some(t.clone()),
        }
    }

    /// A canonical text key: equal values (1.50 and 1.5) give equal keys.
    pub fn canonical(&self) -> String {
        match self {
            Cell::Null => "\u{0}NULL".into(),
            Cell::Numeric(n) => normalize_decimal(n),
            Cell::Float(f) => match BigDecimal::from_str(&format!("{f}")) {
                Ok(d) if f.is_finite() => normalize_decimal(&d),
                _ => format_float(*f),
            },
            Cell::Int(i) => i.to_string(),
            other => other.to_sql_text().unwrap_or_default(),
        }
    }

    /// Rounds numbers to `places` decimal places (for snapshots).
    pub fn rounded(&self, places: u32) -> Cell {
        match self {
            Cell::Numeric(n) => Cell::Numeric(n.round(places as i64)),
            Cell::Float(f) => match BigDecimal::from_str(&format!("{f}")) {
                Ok(d) if f.is_finite() => Cell::Numeric(d.round(places as i64)),
                _ => self.clone(),
            },
            other => other.clone(),
        }
    }
}

/// Decimal text without trailing zeros and without exponent: `1.500` -> `1.5`.
pub fn normalize_decimal(d: &BigDecimal) -> String {
    let s = d.normalized().to_plain_string();
    if s == "-0" {
        "0".into()
    } else {
        s
    }
}

fn format_float(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        }
    } else {
        format!("{f}")
    }
}

impl fmt::Display for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cell::Null => f.write_str("NULL"),
            Cell::Numeric(n) => f.write_str(&normalize_decimal(n)),
            other => f.write_str(&other.to_sql_text().unwrap_or_default()),
        }
    }
}

fn float_key(c: &Cell) -> Option<f64> {
    match c {
        Cell::Float(f) => Some(*f),
        _ => None,
    }
}

fn is_number(c: &Cell) -> bool {
    matches!(c, Cell::Int(_) | Cell::Numeric(_) | Cell::Float(_))
}

/// Orders two cells: numbers numerically (-Infinity first, +Infinity and NaN
/// last among numbers), numbers before other values, others by canonical
/// text; NULL last. A total order.
pub fn compare_cells(a: &Cell, b: &Cell) -> Ordering {
    match (a, b) {
        (Cell::Null, Cell::Null) => Ordering::Equal,
        (Cell::Null, _) => Ordering::Greater,
        (_, Cell::Null) => Ordering::Less,
        _ if is_number(a) && is_number(b) => match (a.as_decimal(), b.as_decimal()) {
            (Some(x), Some(y)) => x.cmp(&y),
            // At least one is a non-finite float.
            _ => {
                let rank = |c: &Cell| match float_key(c) {
                    Some(f) if f == f64::NEG_INFINITY => 0,
                    Some(f) if f == f64::INFINITY => 2,
                    Some(f) if f.is_nan() => 3,
                    _ => 1,
                };
                rank(a).cmp(&rank(b))
            }
        },
        _ if is_number(a) => Ordering::Less,
        _ if is_number(b) => Ordering::Greater,
        _ => a.canonical().cmp(&b.canonical()),
    }
}

/// True when two cells are equal within `tolerance` (numbers) or exactly (others).
pub fn cells_match(a: &Cell, b: &Cell, tolerance: f64) -> bool {
    match (a, b) {
        (Cell::Null, Cell::Null) => true,
        (Cell::Null, _) | (_, Cell::Null) => false,
        _ => match (a.as_decimal(), b.as_decimal()) {
            (Some(x), Some(y)) => {
                let diff = (x - y).abs();
                let tol = BigDecimal::from_str(&format!("{tolerance}")).unwrap_or_default();
                diff <= tol
            }
            _ => a.canonical() == b.canonical(),
        },
    }
}

/// Everything one execution of a query returned.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct QueryOutput {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
}

impl QueryOutput {
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    pub fn column_names(&self) -> Vec<String> {
        self.columns.iter().map(|c| c.name.clone()).collect()
    }

    /// Sum of a numeric column over all rows (NULLs skipped), or the row count for `rows`.
    pub fn sum(&self, column: &str) -> Result<BigDecimal, String> {
        if column == "rows" && self.column_index("rows").is_none() {
            return Ok(BigDecimal::from(self.rows.len() as i64));
        }
        let i = self.column_index(column).ok_or_else(|| {
            format!(
                "no column `{column}` in the output ({})",
                self.column_names().join(", ")
            )
        })?;
        let mut total = BigDecimal::from(0);
        for r in &self.rows {
            match &r[i] {
                Cell::Null => {}
                c => {
                    total += c
                        .as_decimal()
                        .ok_or_else(|| format!("column `{column}` is not numeric (value `{c}`)"))?
                }
            }
        }
        Ok(total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_numbers() {
        let a = Cell::Numeric(BigDecimal::from_str("1.500").unwrap());
        let b = Cell::Float(1.5);
        assert_eq!(a.canonical(), "1.5");
        assert_eq!(a.canonical(), b.canonical());
        assert!(cells_match(&a, &Cell::Int(2), 0.5));
        assert!(!cells_match(&a, &Cell::Int(2), 0.4));
        assert_eq!(
            Cell::Numeric(BigDecimal::from_str("2.345678").unwrap())
                .rounded(2)
                .to_string(),
            "2.35"
        );
    }
}
