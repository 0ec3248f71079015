//! Human durations in check files: `250ms`, `2s`, `1.5s`, `3m`, `6h`, `2d`.

use serde::{de, Deserialize, Deserializer};
use std::fmt;
use std::time::Duration;

/// A duration written by a person in a check file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct HumanDuration(pub Duration);

const UNITS: &[(&str, f64)] = &[
    ("ms", 0.001),
    ("s", 1.0),
    ("m", 60.0),
    ("h", 3600.0),
    ("d", 86400.0),
];

/// Parses `<number><unit>` (spaces allowed between) into a duration.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let unit = unit.trim();
    let help = "write a number followed by one of ms, s, m, h, d (e.g. `2s`, `250ms`)";
    if num.is_empty() {
        return Err(format!("invalid duration `{text}`: {help}"));
    }
    let value: f64 = num
        .parse()
        .map_err(|_| format!("invalid duration `{text}`: {help}"))?;
    let factor = UNITS
        .iter()
        .find(|(u, _)| *u == unit)
        .map(|(_, f)| *f)
        .ok_or_else(|| format!("invalid duration `{text}`: unknown unit `{unit}`; {help}"))?;
    let secs = value * factor;
    if !secs.is_finite() || secs > 1e9 {
        return Err(format!("invalid duration `{text}`: too large"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// The largest budget a query may have: its statement_timeout (five times
/// the budget on databases assay owns) must stay within PostgreSQL's limit
/// of 2^31 - 1 milliseconds, and no endpoint query has a day.
pub const MAX_BUDGET: Duration = Duration::from_secs(24 * 3600);

/// Checks a budget: above zero, at most [`MAX_BUDGET`].
pub fn check_budget(d: Duration) -> Result<(), String> {
    if d.is_zero() {
        return Err("a budget must be more than 0 (e.g. `2s`)".into());
    }
    if d > MAX_BUDGET {
        return Err(format!(
            "a budget of {} is more than the largest allowed, {}",
            HumanDuration(d),
            HumanDuration(MAX_BUDGET)
        ));
    }
    Ok(())
}

impl HumanDuration {
    pub fn as_millis_f64(&self) -> f64 {
        self.0.as_secs_f64() * 1000.0
    }
}

impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_millis();
        if ms > 0 && ms.is_multiple_of(86_400_000) {
            write!(f, "{}d", ms / 86_400_000)
        } else if ms > 0 && ms.is_multiple_of(3_600_000) {
            write!(f, "{}h", ms / 3_600_000)
        } else if ms > 0 && ms.is_multiple_of(60_000) {
            write!(f, "{}m", ms / 60_000)
        } else if ms.is_multiple_of(1000) {
            write!(f, "{}s", ms / 1000)
        } else {
            write!(f, "{ms}ms")
        }
    }
}

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = HumanDuration;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration such as `2s` or `250ms`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<HumanDuration, E> {
                parse_duration(v).map(HumanDuration).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<HumanDuration, E> {
                Err(E::custom(format!(
                    "invalid duration `{v}`: a unit is required, e.g. `{v}s` or `{v}ms`"
                )))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<HumanDuration, E> {
                self.visit_u64(v.unsigned_abs())
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<HumanDuration, E> {
                Err(E::custom(format!(
                    "invalid duration `{v}`: a unit is required, e.g. `{v}s`"
                )))
            }
        }
        d.deserialize_any(V)
    }
}

impl schemars::JsonSchema for HumanDuration {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "a number followed by ms, s, m, h or d, e.g. `2s`, `250ms`",
            "type": "string",
            "pattern": "^\\s*[0-9]+(\\.[0-9]+)?\\s*(ms|s|m|h|d)\\s*$"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units() {
        assert_eq!(parse_duration("2s").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(
            parse_duration("1.5 s").unwrap(),
            Duration::from_millis(1500)
        );
        assert_eq!(parse_duration("2d").unwrap(), Duration::from_secs(172800));
    }

    #[test]
    fn rejects_nonsense() {
        let e = parse_duration("2 parsecs").unwrap_err();
        assert!(e.contains("unknown unit `parsecs`"), "{e}");
        assert!(parse_duration("s").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("1.2.3s").is_err());
    }
}
