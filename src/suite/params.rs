//! Typed parameter values, their types, and the expansion of sets and matrices.

use bigdecimal::BigDecimal;
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime};
use serde_yaml_ng::Value as Yaml;
use std::collections::BTreeMap;
use std::fmt;

/// The SQL type a parameter is cast to (`:x` becomes `$n::<type>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    Date,
    Text,
    Integer,
    Numeric,
    Bool,
    Timestamp,
    Timestamptz,
    TextList,
    DateList,
    IntegerList,
    NumericList,
}

pub const TYPE_NAMES: &[&str] = &[
    "date",
    "text",
    "integer",
    "numeric",
    "bool",
    "timestamp",
    "timestamptz",
    "text[]",
    "date[]",
    "integer[]",
    "numeric[]",
];

impl ParamType {
    pub fn parse(s: &str) -> Option<ParamType> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "date" => ParamType::Date,
            "text" | "varchar" | "string" => ParamType::Text,
            "integer" | "int" | "int8" | "bigint" => ParamType::Integer,
            "numeric" | "decimal" => ParamType::Numeric,
            "bool" | "boolean" => ParamType::Bool,
            "timestamp" => ParamType::Timestamp,
            "timestamptz" => ParamType::Timestamptz,
            "text[]" => ParamType::TextList,
            "date[]" => ParamType::DateList,
            "integer[]" | "int8[]" | "bigint[]" => ParamType::IntegerList,
            "numeric[]" => ParamType::NumericList,
            _ => return None,
        })
    }
    /// The SQL spelling used in the rewritten cast.
    pub fn sql(&self) -> &'static str {
        match self {
            ParamType::Date => "date",
            ParamType::Text => "text",
            ParamType::Integer => "int8",
            ParamType::Numeric => "numeric",
            ParamType::Bool => "bool",
            ParamType::Timestamp => "timestamp",
            ParamType::Timestamptz => "timestamptz",
            ParamType::TextList => "text[]",
            ParamType::DateList => "date[]",
            ParamType::IntegerList => "int8[]",
            ParamType::NumericList => "numeric[]",
        }
    }
    /// The element type of a list type (None for a scalar).
    pub fn element(&self) -> Option<ParamType> {
        match self {
            ParamType::TextList => Some(ParamType::Text),
            ParamType::DateList => Some(ParamType::Date),
            ParamType::IntegerList => Some(ParamType::Integer),
            ParamType::NumericList => Some(ParamType::Numeric),
            _ => None,
        }
    }
    fn list_of(t: ParamType) -> Option<ParamType> {
        match t {
            ParamType::Text => Some(ParamType::TextList),
            ParamType::Date => Some(ParamType::DateList),
            ParamType::Integer => Some(ParamType::IntegerList),
            ParamType::Numeric => Some(ParamType::NumericList),
            _ => None,
        }
    }
}

/// A parameter value as written in YAML, parsed and checked against its
/// type at load: it is bound to the statement with that type (a `date` as a
/// date, never as text cast in SQL).
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    Null,
    Bool(bool),
    Integer(i64),
    Numeric(BigDecimal),
    Text(String),
    Date(NaiveDate),
    Timestamp(NaiveDateTime),
    Timestamptz(DateTime<FixedOffset>),
    List(Vec<ParamValue>),
}

impl ParamValue {
    /// PostgreSQL's text form of the value (None for NULL), e.g. for SQL
    /// literals in messages; arrays as `{a,"b c",NULL}`.
    pub fn to_sql_text(&self) -> Option<String> {
        match self {
            ParamValue::Null => None,
            ParamValue::List(items) => {
                let parts: Vec<String> = items
                    .iter()
                    .map(|v| match v.to_sql_text() {
                        None => "NULL".to_string(),
                        Some(t) => format!("\"{}\"", t.replace('\\', "\\\\").replace('"', "\\\"")),
                    })
                    .collect();
                Some(format!("{{{}}}", parts.join(",")))
            }
            other => Some(other.to_string()),
        }
    }
    pub fn is_null(&self) -> bool {
        matches!(self, ParamValue::Null)
    }
}

impl fmt::Display for ParamValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamValue::Null => f.write_str("null"),
            ParamValue::Bool(b) => write!(f, "{b}"),
            ParamValue::Integer(i) => write!(f, "{i}"),
            ParamValue::Numeric(n) => f.write_str(&n.to_plain_string()),
            ParamValue::Text(t) => f.write_str(t),
            ParamValue::Date(d) => f.write_str(&pg_date(d)),
            ParamValue::Timestamp(t) => {
                let (date, bc) = split_bc(pg_date(&t.date()));
                write!(f, "{date} {}{bc}", t.format("%H:%M:%S%.f"))
            }
            ParamValue::Timestamptz(t) => {
                let (date, bc) = split_bc(pg_date(&t.date_naive()));
                write!(f, "{date} {}{bc}", t.format("%H:%M:%S%.f%:z"))
            }
            ParamValue::List(items) => {
                f.write_str("[")?;
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
        }
    }
}

/// A date as PostgreSQL reads it back: `YYYY-MM-DD`, more digits after
/// year 9999 (never chrono's `+10008`), ` BC` before year 1.
pub fn pg_date(d: &NaiveDate) -> String {
    use chrono::Datelike;
    let (y, m, day) = (d.year(), d.month(), d.day());
    if y <= 0 {
        format!("{:04}-{m:02}-{day:02} BC", 1 - y)
    } else {
        format!("{y:04}-{m:02}-{day:02}")
    }
}

/// (`YYYY-MM-DD`, ` BC` or ``): PostgreSQL wants the era after the time.
fn split_bc(date: String) -> (String, &'static str) {
    match date.strip_suffix(" BC") {
        Some(d) => (d.to_string(), " BC"),
        None => (date, ""),
    }
}

/// `YYYY-MM-DD` in shape (digits and dashes), whether or not it is a real date.
pub fn date_shaped(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        })
}

/// Parses a timestamp without time zone: `2025-10-01 12:30:00[.123]`, with a
/// `T` instead of the space, or a bare date (midnight).
pub fn parse_timestamp(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    for f in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Some(t);
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
}

/// Parses a timestamp with time zone: RFC 3339 or `2025-10-01 12:30:00+02`
/// / `+02:00`; without an offset it is taken as UTC.
pub fn parse_timestamptz(s: &str) -> Option<DateTime<FixedOffset>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t);
    }
    for f in ["%Y-%m-%d %H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M:%S%.f%#z"] {
        if let Ok(t) = DateTime::parse_from_str(s, f) {
            return Some(t);
        }
    }
    let utc = FixedOffset::east_opt(0)?;
    parse_timestamp(s).map(|t| t.and_utc().with_timezone(&utc))
}

/// The type a value has when none is declared.
pub fn infer_type(v: &Yaml) -> Option<ParamType> {
    match v {
        Yaml::Null => None,
        Yaml::Bool(_) => Some(ParamType::Bool),
        Yaml::Number(n) if n.is_i64() || n.is_u64() => Some(ParamType::Integer),
        Yaml::Number(_) => Some(ParamType::Numeric),
        Yaml::String(s) if date_shaped(s) => Some(ParamType::Date),
        Yaml::String(_) => Some(ParamType::Text),
        Yaml::Sequence(items) => items
            .iter()
            .find_map(infer_type)
            .and_then(ParamType::list_of)
            .or(Some(ParamType::TextList)),
        _ => None,
    }
}

/// Converts a YAML value to a parameter value of type `ty`, or explains why not.
pub fn convert(v: &Yaml, ty: ParamType) -> Result<ParamValue, String> {
    if let Yaml::Null = v {
        return Ok(ParamValue::Null);
    }
    if let Some(elem) = ty.element() {
        let Yaml::Sequence(items) = v else {
            return Err(format!(
                "expected a list for type {}, found {}",
                ty.sql(),
                describe(v)
            ));
        };
        return items
            .iter()
            .map(|i| convert(i, elem))
            .collect::<Result<Vec<_>, _>>()
            .map(ParamValue::List);
    }
    let wrong = || {
        format!(
            "expected a value of type {}, found {}",
            type_label(ty),
            describe(v)
        )
    };
    match ty {
        ParamType::Date => match v {
            Yaml::String(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(ParamValue::Date)
                .map_err(|_| {
                    format!(
                        "`{s}` is not a date; write YYYY-MM-DD, e.g. 2025-10-01 \
                         (declare the parameter `text` under params.types if it is text)"
                    )
                }),
            _ => Err(wrong()),
        },
        ParamType::Text => match v {
            Yaml::String(s) => Ok(ParamValue::Text(s.clone())),
            Yaml::Number(n) => Ok(ParamValue::Text(n.to_string())),
            Yaml::Bool(b) => Ok(ParamValue::Text(b.to_string())),
            _ => Err(wrong()),
        },
        ParamType::Integer => match v {
            Yaml::Number(n) => n.as_i64().map(ParamValue::Integer).ok_or_else(wrong),
            Yaml::String(s) => s
                .trim()
                .parse::<i64>()
                .map(ParamValue::Integer)
                .map_err(|_| wrong()),
            _ => Err(wrong()),
        },
        ParamType::Numeric => {
            let text = match v {
                Yaml::Number(n) => n.to_string(),
                Yaml::String(s) => s.trim().to_string(),
                _ => return Err(wrong()),
            };
            text.parse::<BigDecimal>()
                .map(ParamValue::Numeric)
                .map_err(|_| wrong())
        }
        ParamType::Bool => match v {
            Yaml::Bool(b) => Ok(ParamValue::Bool(*b)),
            _ => Err(wrong()),
        },
        ParamType::Timestamp => match v {
            Yaml::String(s) => parse_timestamp(s).map(ParamValue::Timestamp).ok_or_else(|| {
                format!("`{s}` is not a timestamp; write YYYY-MM-DD HH:MM:SS, e.g. 2025-10-01 08:30:00")
            }),
            _ => Err(wrong()),
        },
        ParamType::Timestamptz => match v {
            Yaml::String(s) => parse_timestamptz(s).map(ParamValue::Timestamptz).ok_or_else(|| {
                format!(
                    "`{s}` is not a timestamp with time zone; write e.g. 2025-10-01 08:30:00+02 \
                     (without an offset it is UTC)"
                )
            }),
            _ => Err(wrong()),
        },
        _ => Err(wrong()),
    }
}

pub fn type_label(t: ParamType) -> &'static str {
    match t {
        ParamType::Integer => "integer",
        other => other.sql(),
    }
}

fn describe(v: &Yaml) -> String {
    match v {
        Yaml::Null => "null".into(),
        Yaml::Bool(b) => format!("boolean `{b}`"),
        Yaml::Number(n) => format!("number `{n}`"),
        Yaml::String(s) => format!("text `{s}`"),
        Yaml::Sequence(_) => "a list".into(),
        Yaml::Mapping(_) => "a mapping".into(),
        Yaml::Tagged(_) => "a tagged value".into(),
    }
}

/// One set of parameter values, named.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamSet {
    pub name: String,
    pub values: BTreeMap<String, ParamValue>,
}

impl ParamSet {
    /// A file-system-safe form of the name, used for snapshot files.
    pub fn slug(&self) -> String {
        slugify(&self.name)
    }
}

pub fn slugify(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '_' | '-' | '.' => out.push(c),
            '=' => out.push('-'),
            ' ' | ',' => out.push('.'),
            _ => out.push('_'),
        }
    }
    if out.is_empty() {
        out.push('_');
    }
    out
}

/// Renders a value as it appears in a generated set name.
pub fn name_part(v: &ParamValue) -> String {
    match v {
        ParamValue::List(items) => items.iter().map(name_part).collect::<Vec<_>>().join("+"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn y(s: &str) -> Yaml {
        serde_yaml_ng::from_str(s).unwrap()
    }

    #[test]
    fn infers_types() {
        assert_eq!(infer_type(&y("2025-10-01")), Some(ParamType::Date));
        assert_eq!(infer_type(&y("web")), Some(ParamType::Text));
        assert_eq!(infer_type(&y("20")), Some(ParamType::Integer));
        assert_eq!(infer_type(&y("1.5")), Some(ParamType::Numeric));
        assert_eq!(infer_type(&y("[a, b]")), Some(ParamType::TextList));
        assert_eq!(infer_type(&y("null")), None);
    }

    #[test]
    fn converts_and_rejects() {
        assert_eq!(
            convert(&y("2025-10-01"), ParamType::Date)
                .unwrap()
                .to_sql_text()
                .unwrap(),
            "2025-10-01"
        );
        assert!(convert(&y("2025-13-01"), ParamType::Date).is_err());
        assert!(convert(&y("abc"), ParamType::Integer).is_err());
        assert_eq!(
            convert(&y("[a, 'b\"c', null]"), ParamType::TextList)
                .unwrap()
                .to_sql_text()
                .unwrap(),
            r#"{"a","b\"c",NULL}"#
        );
    }
}
