//! Builders for the unit tests of the check logic: small hand-made outputs,
//! cells and parameter sets (no database).

use crate::output::{Cell, Column, QueryOutput};
use crate::suite::{ParamSet, ParamValue, Scope};
use bigdecimal::BigDecimal;
use chrono::NaiveDate;
use std::str::FromStr;

/// An output with `(name, type)` columns and the given rows.
pub fn output(columns: &[(&str, &str)], rows: Vec<Vec<Cell>>) -> QueryOutput {
    QueryOutput {
        columns: columns
            .iter()
            .map(|(name, ty)| Column {
                name: name.to_string(),
                ty: ty.to_string(),
            })
            .collect(),
        rows,
    }
}

pub fn int(i: i64) -> Cell {
    Cell::Int(i)
}

/// An exact decimal cell, e.g. `num("10.5")`.
pub fn num(s: &str) -> Cell {
    Cell::Numeric(decimal(s))
}

pub fn decimal(s: &str) -> BigDecimal {
    BigDecimal::from_str(s).expect("a decimal literal")
}

pub fn text(s: &str) -> Cell {
    Cell::Text(s.to_string())
}

/// A named parameter set.
pub fn set(name: &str, values: &[(&str, ParamValue)]) -> ParamSet {
    ParamSet {
        name: name.to_string(),
        values: values
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    }
}

/// A `date` parameter value from `YYYY-MM-DD`.
pub fn date(s: &str) -> ParamValue {
    ParamValue::Date(NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("a date literal"))
}

pub fn text_value(s: &str) -> ParamValue {
    ParamValue::Text(s.to_string())
}

/// No severity override, every environment.
pub fn everywhere() -> Scope {
    Scope {
        severity: None,
        environments: None,
    }
}
