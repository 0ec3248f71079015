//! The values a data model produces, and the kinds a generator can yield
//! (checked against column types before a row is written). Pure.

use chrono::{NaiveDate, NaiveDateTime};
use std::sync::Arc;

/// Text: the model's constants are `'static` (interned once per distinct
/// string and kept for the process), computed text is shared. Constants are
/// cloned for most rows by every loading task at once: a reference count on
/// them would be one cache line that all cores fight over.
#[derive(Debug, Clone)]
pub enum Str {
    Static(&'static str),
    Shared(Arc<str>),
}

impl std::ops::Deref for Str {
    type Target = str;
    fn deref(&self) -> &str {
        match self {
            Str::Static(s) => s,
            Str::Shared(s) => s,
        }
    }
}

impl PartialEq for Str {
    fn eq(&self, o: &Str) -> bool {
        **self == **o
    }
}

/// Interns a constant of a model: the same text gives the same `'static`
/// string, so parsing models again and again (a property search) does not
/// grow memory without bound.
pub fn intern(s: &str) -> &'static str {
    use std::collections::HashSet;
    use std::sync::{Mutex, OnceLock};
    static STRINGS: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let mut set = STRINGS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(k) = set.get(s) {
        return k;
    }
    let k: &'static str = Box::leak(s.to_string().into_boxed_str());
    set.insert(k);
    k
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(Str),
    Date(NaiveDate),
    Timestamp(NaiveDateTime),
}

impl Value {
    /// A constant of the model (interned).
    pub fn text(s: &str) -> Value {
        Value::Text(Str::Static(intern(s)))
    }
    /// Text computed for a row.
    pub fn owned(s: String) -> Value {
        Value::Text(Str::Shared(Arc::from(s)))
    }
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
    /// Conditions: only `true` is true (NULL and everything else is not).
    pub fn truthy(&self) -> bool {
        matches!(self, Value::Bool(true))
    }
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }
    pub fn kind(&self) -> Kind {
        match self {
            Value::Null => Kind::NULL,
            Value::Bool(_) => Kind::BOOL,
            Value::Int(_) => Kind::INT,
            Value::Float(_) => Kind::FLOAT,
            Value::Text(_) => Kind::TEXT,
            Value::Date(_) => Kind::DATE,
            Value::Timestamp(_) => Kind::TIMESTAMP,
        }
    }
    /// The value as text (`format:`, `text()`, text columns): dates as
    /// YYYY-MM-DD, NULL as the empty string.
    pub fn write_text(&self, out: &mut String) {
        use std::fmt::Write;
        match self {
            Value::Null => {}
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Value::Float(f) => {
                let _ = write!(out, "{f}");
            }
            Value::Text(s) => out.push_str(s),
            Value::Date(d) => {
                let _ = write!(out, "{}", d.format("%Y-%m-%d"));
            }
            Value::Timestamp(t) => {
                let _ = write!(out, "{}", t.format("%Y-%m-%d %H:%M:%S"));
            }
        }
    }
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        self.write_text(&mut s);
        s
    }
    /// A stable hash (for `uniform_of` and reference look-ups): equal
    /// numbers hash alike whether integer or not.
    pub fn hash(&self) -> u64 {
        use super::draw::{mix, name_hash};
        match self {
            Value::Null => 0x5EED,
            Value::Bool(b) => mix(*b as u64 + 1),
            Value::Int(i) => mix((*i as f64).to_bits()),
            Value::Float(f) => mix(f.to_bits()),
            Value::Text(s) => name_hash(s),
            Value::Date(d) => {
                use chrono::Datelike;
                mix(d.num_days_from_ce() as u64 ^ 0xDA7E)
            }
            Value::Timestamp(t) => mix(t.and_utc().timestamp_micros() as u64 ^ 0x7153),
        }
    }
}

/// A set of value kinds (a bit each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind(pub u8);

impl Kind {
    pub const NONE: Kind = Kind(0);
    pub const NULL: Kind = Kind(1);
    pub const BOOL: Kind = Kind(2);
    pub const INT: Kind = Kind(4);
    pub const FLOAT: Kind = Kind(8);
    pub const TEXT: Kind = Kind(16);
    pub const DATE: Kind = Kind(32);
    pub const TIMESTAMP: Kind = Kind(64);
    pub const NUMBER: Kind = Kind(4 | 8);
    pub const ANY: Kind = Kind(127);

    pub fn or(self, o: Kind) -> Kind {
        Kind(self.0 | o.0)
    }
    pub fn has(self, o: Kind) -> bool {
        self.0 & o.0 != 0
    }
    pub fn within(self, o: Kind) -> bool {
        self.0 & !o.0 == 0
    }
    pub fn without_null(self) -> Kind {
        Kind(self.0 & !1)
    }
    /// `integer or text`, for messages.
    pub fn describe(self) -> String {
        let names = [
            (Kind::NULL, "null"),
            (Kind::BOOL, "boolean"),
            (Kind::INT, "integer"),
            (Kind::FLOAT, "decimal"),
            (Kind::TEXT, "text"),
            (Kind::DATE, "date"),
            (Kind::TIMESTAMP, "timestamp"),
        ];
        let v: Vec<&str> = names
            .iter()
            .filter(|(k, _)| self.has(*k))
            .map(|(_, n)| *n)
            .collect();
        if v.is_empty() {
            "nothing".into()
        } else {
            v.join(" or ")
        }
    }
}
