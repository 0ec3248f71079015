//! PostgreSQL's binary wire formats, decoded into assay's cells: numbers as
//! numbers (NaN and infinities included), everything else as the text
//! PostgreSQL itself prints. Types are told apart by OID; user-defined types
//! (enums, domains, ranges, composites) by what the catalog says of them.
//! Pure: bytes in, cells out.

use super::calendar;
use crate::output::Cell;
use bigdecimal::BigDecimal;
use std::collections::HashMap;
use std::str::FromStr;

/// What a user-defined type is, as far as decoding cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeKind {
    /// Enum labels travel as text.
    Enum,
    /// A domain travels as its base type.
    Domain(u32),
    Array(u32),
    Range(u32),
    /// Fields travel with their own OIDs.
    Composite,
}

/// User-defined types seen in a result, by OID.
pub type Catalog = HashMap<u32, TypeKind>;

/// A value assay has no binary decoder for: read it as text instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undecodable {
    pub oid: u32,
}

type R<T> = Result<T, Undecodable>;

fn need<const N: usize>(b: &[u8], oid: u32) -> R<[u8; N]> {
    b.get(..N)
        .and_then(|s| s.try_into().ok())
        .ok_or(Undecodable { oid })
}

fn utf8(b: &[u8], oid: u32) -> R<String> {
    String::from_utf8(b.to_vec()).map_err(|_| Undecodable { oid })
}

/// The decimal text of a binary `numeric`, or its special value.
pub fn numeric(b: &[u8]) -> Option<Cell> {
    let h: [u8; 8] = b.get(..8)?.try_into().ok()?;
    let ndigits = i16::from_be_bytes([h[0], h[1]]) as usize;
    let weight = i16::from_be_bytes([h[2], h[3]]) as i64;
    let sign = u16::from_be_bytes([h[4], h[5]]);
    let dscale = u16::from_be_bytes([h[6], h[7]]) as usize;
    match sign {
        0xC000 => return Some(Cell::Float(f64::NAN)),
        0xD000 => return Some(Cell::Float(f64::INFINITY)),
        0xF000 => return Some(Cell::Float(f64::NEG_INFINITY)),
        0x0000 | 0x4000 => {}
        _ => return None,
    }
    let mut digits = Vec::with_capacity(ndigits);
    for i in 0..ndigits {
        let d = b.get(8 + 2 * i..10 + 2 * i)?;
        digits.push(u16::from_be_bytes([d[0], d[1]]));
    }
    // Group i has weight `weight - i` (a power of 10000); missing groups are 0.
    let group = |w: i64| -> u16 {
        let idx = weight - w;
        if idx >= 0 && (idx as usize) < digits.len() {
            digits[idx as usize]
        } else {
            0
        }
    };
    let mut int = String::new();
    for w in (0..=weight).rev() {
        if int.is_empty() {
            int = group(w).to_string();
        } else {
            int.push_str(&format!("{:04}", group(w)));
        }
    }
    if int.is_empty() {
        int.push('0');
    }
    let mut frac = String::new();
    let mut w = -1;
    while frac.len() < dscale {
        frac.push_str(&format!("{:04}", group(w)));
        w -= 1;
    }
    frac.truncate(dscale);
    let mut text = String::new();
    if sign == 0x4000 {
        text.push('-');
    }
    text.push_str(&int);
    if dscale > 0 {
        text.push('.');
        text.push_str(&frac);
    }
    BigDecimal::from_str(&text).ok().map(Cell::Numeric)
}

/// Decodes one value of type `oid`.
pub fn cell(oid: u32, b: &[u8], catalog: &Catalog) -> R<Cell> {
    let err = Undecodable { oid };
    Ok(match oid {
        16 => Cell::Bool(need::<1>(b, oid)?[0] != 0),
        21 => Cell::Int(i16::from_be_bytes(need(b, oid)?) as i64),
        23 => Cell::Int(i32::from_be_bytes(need(b, oid)?) as i64),
        20 => Cell::Int(i64::from_be_bytes(need(b, oid)?)),
        // oid, xid, cid
        26 | 28 | 29 => Cell::Int(u32::from_be_bytes(need(b, oid)?) as i64),
        700 => Cell::Float(f32::from_be_bytes(need(b, oid)?) as f64),
        701 => Cell::Float(f64::from_be_bytes(need(b, oid)?)),
        1700 => numeric(b).ok_or(err)?,
        // money: cents (lc_monetary C: two decimals)
        790 => Cell::Numeric(BigDecimal::new(i64::from_be_bytes(need(b, oid)?).into(), 2)),
        _ => Cell::Text(text(oid, b, catalog)?),
    })
}

/// The text PostgreSQL prints for one value of type `oid`.
pub fn text(oid: u32, b: &[u8], catalog: &Catalog) -> R<String> {
    let err = || Undecodable { oid };
    Ok(match oid {
        // bool, int2, int4, int8, oid, xid, cid, float4, float8, numeric, money
        16 | 21 | 23 | 20 | 26 | 28 | 29 | 700 | 701 | 1700 | 790 => match cell(oid, b, catalog)? {
            Cell::Bool(true) => "t".into(),
            Cell::Bool(false) => "f".into(),
            other => other.to_string(),
        },
        // text, varchar, bpchar, name, "char", unknown, json, xml, citext-like
        25 | 1043 | 1042 | 19 | 18 | 705 | 114 | 142 | 4072 => utf8(b, oid)?,
        // jsonb and jsonpath: a version byte, then the text
        3802 => utf8(b.get(1..).ok_or_else(err)?, oid)?,
        17 => {
            let mut s = String::with_capacity(2 + 2 * b.len());
            s.push_str("\\x");
            for byte in b {
                s.push_str(&format!("{byte:02x}"));
            }
            s
        }
        1082 => calendar::date(i32::from_be_bytes(need(b, oid)?)),
        1114 => calendar::timestamp(i64::from_be_bytes(need(b, oid)?), ""),
        1184 => calendar::timestamp(i64::from_be_bytes(need(b, oid)?), "+00"),
        1083 => calendar::time(i64::from_be_bytes(need(b, oid)?)),
        1266 => {
            let x: [u8; 12] = need(b, oid)?;
            calendar::timetz(
                i64::from_be_bytes(x[..8].try_into().map_err(|_| err())?),
                i32::from_be_bytes(x[8..].try_into().map_err(|_| err())?),
            )
        }
        1186 => {
            let x: [u8; 16] = need(b, oid)?;
            calendar::interval(
                i64::from_be_bytes(x[..8].try_into().map_err(|_| err())?),
                i32::from_be_bytes(x[8..12].try_into().map_err(|_| err())?),
                i32::from_be_bytes(x[12..].try_into().map_err(|_| err())?),
            )
        }
        2950 => {
            let u: [u8; 16] = need(b, oid)?;
            let h: String = u.iter().map(|x| format!("{x:02x}")).collect();
            format!(
                "{}-{}-{}-{}-{}",
                &h[..8],
                &h[8..12],
                &h[12..16],
                &h[16..20],
                &h[20..]
            )
        }
        869 | 650 => inet(b, oid == 650).ok_or_else(err)?,
        829 | 774 => b
            .iter()
            .map(|x| format!("{x:02x}"))
            .collect::<Vec<_>>()
            .join(":"),
        1560 | 1562 => {
            let len = i32::from_be_bytes(need(b, oid)?) as usize;
            let bits = b.get(4..).ok_or_else(err)?;
            (0..len)
                .map(|i| {
                    let byte = bits.get(i / 8).copied().unwrap_or(0);
                    if byte & (0x80 >> (i % 8)) != 0 {
                        '1'
                    } else {
                        '0'
                    }
                })
                .collect()
        }
        3220 => {
            let v = u64::from_be_bytes(need(b, oid)?);
            format!("{:X}/{:X}", v >> 32, v & 0xffff_ffff)
        }
        600 => {
            let x: [u8; 16] = need(b, oid)?;
            let f = |r: &[u8]| f64::from_be_bytes(r.try_into().unwrap_or([0; 8]));
            format!("({},{})", f(&x[..8]), f(&x[8..]))
        }
        2278 => String::new(),
        // record
        2249 => composite(b, catalog).ok_or_else(err)?,
        3904 => range(b, 23, catalog)?,
        3926 => range(b, 20, catalog)?,
        3906 => range(b, 1700, catalog)?,
        3908 => range(b, 1114, catalog)?,
        3910 => range(b, 1184, catalog)?,
        3912 => range(b, 1082, catalog)?,
        _ => match catalog.get(&oid) {
            Some(TypeKind::Enum) => utf8(b, oid)?,
            Some(TypeKind::Domain(base)) => text(*base, b, catalog)?,
            Some(TypeKind::Range(elem)) => range(b, *elem, catalog)?,
            Some(TypeKind::Composite) => composite(b, catalog).ok_or_else(err)?,
            Some(TypeKind::Array(_)) => array(b, catalog)?,
            // Built-in arrays carry their element type in the value.
            None if is_builtin_array(oid) => array(b, catalog)?,
            None => return Err(err()),
        },
    })
}

/// OIDs of the built-in array types assay reads (their element OID is in
/// the value itself).
fn is_builtin_array(oid: u32) -> bool {
    matches!(
        oid,
        199 | 651 | 791 | 775 | 1000
            ..=1028
                | 1040
                | 1041
                | 1115
                | 1182
                | 1183
                | 1185
                | 1187
                | 1231
                | 1270
                | 1561
                | 1563
                | 2287
                | 2951
                | 3807
                | 3905
                | 3907
                | 3909
                | 3911
                | 3913
                | 3927
    )
}

/// `inet`/`cidr`: family, bits, is_cidr, length, address.
fn inet(b: &[u8], cidr: bool) -> Option<String> {
    let (family, bits, nb) = (*b.first()?, *b.get(1)?, *b.get(3)? as usize);
    let addr = b.get(4..4 + nb)?;
    let (text, max) = match family {
        2 => {
            let a: [u8; 4] = addr.try_into().ok()?;
            (std::net::Ipv4Addr::from(a).to_string(), 32)
        }
        3 => {
            let a: [u8; 16] = addr.try_into().ok()?;
            (std::net::Ipv6Addr::from(a).to_string(), 128)
        }
        _ => return None,
    };
    Some(if cidr || bits != max {
        format!("{text}/{bits}")
    } else {
        text
    })
}

/// Reads a length-prefixed value: None for SQL NULL (length -1).
fn field<'a>(b: &'a [u8], at: &mut usize) -> Option<Option<&'a [u8]>> {
    let len = i32::from_be_bytes(b.get(*at..*at + 4)?.try_into().ok()?);
    *at += 4;
    if len < 0 {
        return Some(None);
    }
    let v = b.get(*at..*at + len as usize)?;
    *at += len as usize;
    Some(Some(v))
}

fn read_u32(b: &[u8], at: &mut usize) -> Option<u32> {
    let v = u32::from_be_bytes(b.get(*at..*at + 4)?.try_into().ok()?);
    *at += 4;
    Some(v)
}

/// Array elements quoted as PostgreSQL quotes them.
fn quote_array_element(s: &str) -> String {
    let needs = s.is_empty()
        || s.eq_ignore_ascii_case("NULL")
        || s.chars()
            .any(|c| matches!(c, '{' | '}' | ',' | '"' | '\\') || c.is_whitespace());
    if needs {
        format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        s.to_string()
    }
}

/// A binary array: dimensions, then elements of the element OID it names.
fn array(b: &[u8], catalog: &Catalog) -> R<String> {
    let bad = Undecodable { oid: 0 };
    let mut at = 0;
    let ndim = read_u32(b, &mut at).ok_or(bad.clone())? as usize;
    let _flags = read_u32(b, &mut at).ok_or(bad.clone())?;
    let elem = read_u32(b, &mut at).ok_or(bad.clone())?;
    if ndim == 0 {
        return Ok("{}".into());
    }
    let mut dims = Vec::with_capacity(ndim);
    let mut lower = Vec::with_capacity(ndim);
    for _ in 0..ndim {
        dims.push(read_u32(b, &mut at).ok_or(bad.clone())? as usize);
        lower.push(read_u32(b, &mut at).ok_or(bad.clone())? as i32);
    }
    let total: usize = dims.iter().product();
    let mut items = Vec::with_capacity(total);
    for _ in 0..total {
        items.push(match field(b, &mut at).ok_or(bad.clone())? {
            None => "NULL".to_string(),
            Some(v) => quote_array_element(&text(elem, v, catalog)?),
        });
    }
    fn nest(items: &[String], dims: &[usize]) -> String {
        if dims.len() == 1 {
            return format!("{{{}}}", items.join(","));
        }
        let step = items.len() / dims[0].max(1);
        let parts: Vec<String> = items
            .chunks(step.max(1))
            .map(|c| nest(c, &dims[1..]))
            .collect();
        format!("{{{}}}", parts.join(","))
    }
    let body = nest(&items, &dims);
    if lower.iter().any(|&l| l != 1) {
        let bounds: String = dims
            .iter()
            .zip(&lower)
            .map(|(d, l)| format!("[{l}:{}]", l + *d as i32 - 1))
            .collect();
        Ok(format!("{bounds}={body}"))
    } else {
        Ok(body)
    }
}

/// A range of `elem` values: `empty`, `[1,5)`, `(,"2025-01-01")`.
fn range(b: &[u8], elem: u32, catalog: &Catalog) -> R<String> {
    let bad = Undecodable { oid: elem };
    let flags = *b.first().ok_or(bad.clone())?;
    if flags & 0x01 != 0 {
        return Ok("empty".into());
    }
    let mut at = 1;
    let mut bound = |present: bool| -> R<String> {
        if !present {
            return Ok(String::new());
        }
        match field(b, &mut at).ok_or(bad.clone())? {
            None => Ok(String::new()),
            Some(v) => {
                let t = text(elem, v, catalog)?;
                let quote = t.is_empty()
                    || t.chars().any(|c| {
                        matches!(c, '"' | '\\' | '(' | ')' | '[' | ']' | ',') || c.is_whitespace()
                    });
                Ok(if quote {
                    format!("\"{}\"", t.replace('\\', "\\\\").replace('"', "\\\""))
                } else {
                    t
                })
            }
        }
    };
    let lower = bound(flags & 0x08 == 0)?;
    let upper = bound(flags & 0x10 == 0)?;
    Ok(format!(
        "{}{lower},{upper}{}",
        if flags & 0x02 != 0 { '[' } else { '(' },
        if flags & 0x04 != 0 { ']' } else { ')' }
    ))
}

/// A record: each field travels with its own OID.
fn composite(b: &[u8], catalog: &Catalog) -> Option<String> {
    let mut at = 0;
    let n = read_u32(b, &mut at)? as usize;
    let mut parts = Vec::with_capacity(n);
    for _ in 0..n {
        let oid = read_u32(b, &mut at)?;
        parts.push(match field(b, &mut at)? {
            None => String::new(),
            Some(v) => {
                let t = text(oid, v, catalog).ok()?;
                let quote = t.is_empty()
                    || t.chars()
                        .any(|c| matches!(c, '"' | '\\' | '(' | ')' | ',') || c.is_whitespace());
                if quote {
                    format!("\"{}\"", t.replace('\\', "\\\\").replace('"', "\"\""))
                } else {
                    t
                }
            }
        });
    }
    Some(format!("({})", parts.join(",")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(ndigits: i16, weight: i16, sign: u16, dscale: u16, digits: &[u16]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend(ndigits.to_be_bytes());
        v.extend(weight.to_be_bytes());
        v.extend(sign.to_be_bytes());
        v.extend(dscale.to_be_bytes());
        for d in digits {
            v.extend(d.to_be_bytes());
        }
        v
    }

    #[test]
    fn numerics_and_their_special_values() {
        let t = |b: Vec<u8>| numeric(&b).unwrap().to_string();
        // 12345.678 = [1, 2345, 6780], weight 1, dscale 3
        assert_eq!(t(num(3, 1, 0, 3, &[1, 2345, 6780])), "12345.678");
        // -0.0012 = [12], weight -1, dscale 4
        assert_eq!(t(num(1, -1, 0x4000, 4, &[12])), "-0.0012");
        // 20000 = [2], weight 1, dscale 0
        assert_eq!(t(num(1, 1, 0, 0, &[2])), "20000");
        assert_eq!(t(num(0, 0, 0, 2, &[])), "0");
        assert_eq!(t(num(0, 0, 0xC000, 0, &[])), "NaN");
        assert_eq!(t(num(0, 0, 0xD000, 0, &[])), "Infinity");
        assert_eq!(t(num(0, 0, 0xF000, 0, &[])), "-Infinity");
    }

    #[test]
    fn text_forms_of_common_types() {
        let c = Catalog::new();
        let uuid: Vec<u8> = (0u8..16).collect();
        assert_eq!(
            text(2950, &uuid, &c).unwrap(),
            "00010203-0405-0607-0809-0a0b0c0d0e0f"
        );
        assert_eq!(text(17, &[0xde, 0xad], &c).unwrap(), "\\xdead");
        assert_eq!(
            text(869, &[2, 32, 0, 4, 10, 0, 0, 1], &c).unwrap(),
            "10.0.0.1"
        );
        assert_eq!(
            text(650, &[2, 24, 1, 4, 10, 0, 0, 0], &c).unwrap(),
            "10.0.0.0/24"
        );
        assert_eq!(text(16, &[1], &c).unwrap(), "t");
        assert_eq!(text(3802, b"\x01{\"a\": 1}", &c).unwrap(), "{\"a\": 1}");
        assert!(text(3614, b"x", &c).is_err(), "tsvector has no decoder");
    }

    #[test]
    fn arrays_ranges_and_enums() {
        let c: Catalog = [(90_000, TypeKind::Enum)].into_iter().collect();
        // text[] {a,"b c",NULL}
        let mut v = Vec::new();
        for x in [1u32, 1, 25, 3, 1] {
            v.extend(x.to_be_bytes());
        }
        v.extend(1i32.to_be_bytes());
        v.extend(b"a");
        v.extend(3i32.to_be_bytes());
        v.extend(b"b c");
        v.extend((-1i32).to_be_bytes());
        assert_eq!(text(1009, &v, &c).unwrap(), "{a,\"b c\",NULL}");
        // int4range [1,5)
        let mut r = vec![0x02u8];
        r.extend(4i32.to_be_bytes());
        r.extend(1i32.to_be_bytes());
        r.extend(4i32.to_be_bytes());
        r.extend(5i32.to_be_bytes());
        assert_eq!(text(3904, &r, &c).unwrap(), "[1,5)");
        assert_eq!(text(3904, &[0x01], &c).unwrap(), "empty");
        // unbounded above: [1,)
        let mut r = vec![0x02u8 | 0x10];
        r.extend(4i32.to_be_bytes());
        r.extend(1i32.to_be_bytes());
        assert_eq!(text(3904, &r, &c).unwrap(), "[1,)");
        assert_eq!(text(90_000, b"happy", &c).unwrap(), "happy");
    }
}
