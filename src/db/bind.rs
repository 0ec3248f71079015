//! Binding parameter values to statements with their own types: a `date`
//! parameter travels as a date, an `int8` as an integer, NULLs typed.
//! PostgreSQL then plans with constants of the right type instead of
//! re-evaluating a text cast per row.

use crate::suite::{ParamType, ParamValue};
use bigdecimal::BigDecimal;
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime};
use sqlx::postgres::{PgArguments, Postgres};
use sqlx::query::Query;

/// One parameter value and the type it is bound as.
#[derive(Debug, Clone, PartialEq)]
pub struct Bind {
    pub ty: ParamType,
    pub value: ParamValue,
}

impl Bind {
    pub fn new(ty: ParamType, value: ParamValue) -> Self {
        Bind { ty, value }
    }
    pub fn text(value: impl Into<String>) -> Self {
        Bind::new(ParamType::Text, ParamValue::Text(value.into()))
    }
}

type PgQuery<'q> = Query<'q, Postgres, PgArguments>;

fn scalar<T>(v: &ParamValue, get: impl Fn(&ParamValue) -> Option<T>) -> Option<T> {
    match v {
        ParamValue::Null => None,
        other => get(other),
    }
}

fn list<T>(v: &ParamValue, get: impl Fn(&ParamValue) -> Option<T>) -> Option<Vec<Option<T>>> {
    match v {
        ParamValue::List(items) => Some(items.iter().map(|i| scalar(i, &get)).collect()),
        _ => None,
    }
}

fn text(v: &ParamValue) -> Option<String> {
    match v {
        ParamValue::Text(t) => Some(t.clone()),
        other => other.to_sql_text(),
    }
}
fn int(v: &ParamValue) -> Option<i64> {
    match v {
        ParamValue::Integer(i) => Some(*i),
        _ => None,
    }
}
fn numeric(v: &ParamValue) -> Option<BigDecimal> {
    match v {
        ParamValue::Numeric(n) => Some(n.clone()),
        ParamValue::Integer(i) => Some(BigDecimal::from(*i)),
        _ => None,
    }
}
fn date(v: &ParamValue) -> Option<NaiveDate> {
    match v {
        ParamValue::Date(d) => Some(*d),
        _ => None,
    }
}
fn timestamp(v: &ParamValue) -> Option<NaiveDateTime> {
    match v {
        ParamValue::Timestamp(t) => Some(*t),
        ParamValue::Date(d) => d.and_hms_opt(0, 0, 0),
        _ => None,
    }
}
fn timestamptz(v: &ParamValue) -> Option<DateTime<FixedOffset>> {
    match v {
        ParamValue::Timestamptz(t) => Some(*t),
        _ => None,
    }
}
fn boolean(v: &ParamValue) -> Option<bool> {
    match v {
        ParamValue::Bool(b) => Some(*b),
        _ => None,
    }
}

/// Adds `b` as the next parameter of `q`, encoded as its type.
pub fn bind<'q>(q: PgQuery<'q>, b: &Bind) -> PgQuery<'q> {
    let v = &b.value;
    match b.ty {
        ParamType::Text => q.bind(scalar(v, text)),
        ParamType::Integer => q.bind(scalar(v, int)),
        ParamType::Numeric => q.bind(scalar(v, numeric)),
        ParamType::Bool => q.bind(scalar(v, boolean)),
        ParamType::Date => q.bind(scalar(v, date)),
        ParamType::Timestamp => q.bind(scalar(v, timestamp)),
        ParamType::Timestamptz => q.bind(scalar(v, timestamptz)),
        ParamType::TextList => q.bind(list(v, text)),
        ParamType::DateList => q.bind(list(v, date)),
        ParamType::IntegerList => q.bind(list(v, int)),
        ParamType::NumericList => q.bind(list(v, numeric)),
    }
}

/// Binds every value in order.
pub fn bind_all<'q>(mut q: PgQuery<'q>, binds: &[Bind]) -> PgQuery<'q> {
    for b in binds {
        q = bind(q, b);
    }
    q
}
