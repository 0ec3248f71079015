//! From model values to binary COPY fields, by the column's PostgreSQL type.
//! Pure: the types come from the catalog (see `schema`).

use super::copy_binary::CopyBuffer;
use super::value::{Kind, Value};
use chrono::NaiveTime;

/// How a column's values are written.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Enc {
    Int2,
    Int4,
    Int8,
    Float4,
    Float8,
    /// With the column's scale when it has one (`numeric(12,2)`).
    Numeric(Option<u16>),
    Text,
    Bool,
    Date,
    Timestamp,
}

impl Enc {
    /// The encoding of a catalog type (`pg_type.typname`, `atttypmod`), or
    /// None for a type the generator cannot write.
    pub fn of(typname: &str, typmod: i32) -> Option<Enc> {
        Some(match typname {
            "int2" => Enc::Int2,
            "int4" => Enc::Int4,
            "int8" => Enc::Int8,
            "float4" => Enc::Float4,
            "float8" => Enc::Float8,
            "numeric" => Enc::Numeric((typmod >= 4).then(|| ((typmod - 4) & 0xffff) as u16)),
            "text" | "varchar" | "bpchar" | "name" | "citext" => Enc::Text,
            "bool" => Enc::Bool,
            "date" => Enc::Date,
            "timestamp" | "timestamptz" => Enc::Timestamp,
            _ => return None,
        })
    }
    /// The value kinds a column of this type takes.
    pub fn accepts(self) -> Kind {
        let k = match self {
            Enc::Int2 | Enc::Int4 | Enc::Int8 => Kind::INT,
            Enc::Float4 | Enc::Float8 | Enc::Numeric(_) => Kind::NUMBER,
            Enc::Text => Kind::ANY,
            Enc::Bool => Kind::BOOL,
            Enc::Date => Kind::DATE,
            Enc::Timestamp => Kind::DATE.or(Kind::TIMESTAMP),
        };
        k.or(Kind::NULL)
    }
}

/// Writes one field; an error says what did not fit.
pub fn put(buf: &mut CopyBuffer, enc: Enc, v: &Value) -> Result<(), String> {
    match (enc, v) {
        (_, Value::Null) => buf.null(),
        (Enc::Int2, Value::Int(i)) => {
            buf.int2(i16::try_from(*i).map_err(|_| range(v, "smallint"))?)
        }
        (Enc::Int4, Value::Int(i)) => buf.int4(i32::try_from(*i).map_err(|_| range(v, "integer"))?),
        (Enc::Int8, Value::Int(i)) => buf.int8(*i),
        (Enc::Float4, _) if v.as_f64().is_some() => buf.float4(v.as_f64().unwrap_or(0.0) as f32),
        (Enc::Float8, _) if v.as_f64().is_some() => buf.float8(v.as_f64().unwrap_or(0.0)),
        (Enc::Numeric(scale), Value::Int(i)) => {
            let s = scale.unwrap_or(0);
            let units = (*i as i128)
                .checked_mul(10i128.pow(s as u32))
                .ok_or_else(|| range(v, "numeric"))?;
            buf.numeric(units, s)
        }
        (Enc::Numeric(scale), Value::Float(f)) => {
            let s = scale.unwrap_or(6).min(18);
            let units = (f * 10f64.powi(s as i32)).round();
            if !units.is_finite() || units.abs() > 1e36 {
                return Err(range(v, "numeric"));
            }
            let mut units = units as i128;
            let mut s = s;
            if scale.is_none() {
                // No declared scale: drop the trailing zeros (1.5, not 1.500000).
                while s > 0 && units % 10 == 0 {
                    units /= 10;
                    s -= 1;
                }
            }
            buf.numeric(units, s)
        }
        (Enc::Text, Value::Text(t)) => buf.text(t),
        (Enc::Text, other) => buf.text(&other.to_text()),
        (Enc::Bool, Value::Bool(b)) => buf.bool(*b),
        (Enc::Date, Value::Date(d)) => buf.date(*d),
        (Enc::Timestamp, Value::Timestamp(t)) => buf.timestamp(*t),
        (Enc::Timestamp, Value::Date(d)) => buf.timestamp(d.and_time(NaiveTime::MIN)),
        (enc, other) => {
            return Err(format!(
                "a {} value ({}) does not fit a {enc:?} column",
                other.kind().describe(),
                other.to_text()
            ))
        }
    }
    Ok(())
}

fn range(v: &Value, ty: &str) -> String {
    format!("{} is out of range for {ty}", v.to_text())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_map_to_encodings() {
        assert_eq!(
            Enc::of("numeric", (12 << 16) | (2 + 4)),
            Some(Enc::Numeric(Some(2)))
        );
        assert_eq!(Enc::of("numeric", -1), Some(Enc::Numeric(None)));
        assert_eq!(Enc::of("jsonb", -1), None);
        assert!(Kind::INT.within(Enc::Numeric(None).accepts()));
        assert!(!Kind::TEXT.within(Enc::Int4.accepts()));
    }

    #[test]
    fn values_encode_or_say_why_not() {
        let mut b = CopyBuffer::default();
        put(&mut b, Enc::Int4, &Value::Int(7)).unwrap();
        assert_eq!(b.as_bytes(), &[0, 0, 0, 4, 0, 0, 0, 7]);
        let e = put(&mut b, Enc::Int2, &Value::Int(70_000)).unwrap_err();
        assert!(e.contains("out of range for smallint"), "{e}");
        let e = put(&mut b, Enc::Int4, &Value::text("x")).unwrap_err();
        assert!(e.contains("text value"), "{e}");
        let mut n = CopyBuffer::default();
        put(&mut n, Enc::Numeric(Some(2)), &Value::Float(12.35)).unwrap();
        let mut c = CopyBuffer::default();
        c.numeric_cents(1235);
        assert_eq!(n.as_bytes(), c.as_bytes());
    }
}
