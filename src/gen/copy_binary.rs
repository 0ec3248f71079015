//! PostgreSQL's binary COPY format (`COPY ... FROM STDIN (FORMAT binary)`):
//! a header, tuples of length-prefixed fields in network byte order, a
//! trailer. Only the types data models write.

use chrono::{NaiveDate, NaiveDateTime};

const SIGNATURE: &[u8] = b"PGCOPY\n\xff\r\n\0";

/// Days between 0001-01-01 (CE day 1) and 2000-01-01, PostgreSQL's date epoch.
const PG_EPOCH_CE_DAYS: i32 = 730_120;

/// An output buffer of binary COPY data.
#[derive(Debug, Default)]
pub struct CopyBuffer {
    bytes: Vec<u8>,
}

impl CopyBuffer {
    pub fn with_capacity(n: usize) -> CopyBuffer {
        CopyBuffer {
            bytes: Vec::with_capacity(n),
        }
    }
    /// The stream header: signature, flags (no OIDs), no header extension.
    pub fn header(&mut self) {
        self.bytes.extend_from_slice(SIGNATURE);
        self.bytes.extend_from_slice(&0i32.to_be_bytes());
        self.bytes.extend_from_slice(&0i32.to_be_bytes());
    }
    /// The stream trailer (a tuple with field count -1).
    pub fn trailer(&mut self) {
        self.bytes.extend_from_slice(&(-1i16).to_be_bytes());
    }
    /// Starts a tuple of `fields` fields.
    pub fn row(&mut self, fields: i16) {
        self.bytes.extend_from_slice(&fields.to_be_bytes());
    }
    pub fn null(&mut self) {
        self.bytes.extend_from_slice(&(-1i32).to_be_bytes());
    }
    pub fn int2(&mut self, v: i16) {
        self.bytes.extend_from_slice(&2i32.to_be_bytes());
        self.bytes.extend_from_slice(&v.to_be_bytes());
    }
    pub fn float4(&mut self, v: f32) {
        self.bytes.extend_from_slice(&4i32.to_be_bytes());
        self.bytes.extend_from_slice(&v.to_be_bytes());
    }
    pub fn float8(&mut self, v: f64) {
        self.bytes.extend_from_slice(&8i32.to_be_bytes());
        self.bytes.extend_from_slice(&v.to_be_bytes());
    }
    /// A `timestamp` (or `timestamptz` read as UTC): microseconds since 2000-01-01.
    pub fn timestamp(&mut self, t: NaiveDateTime) {
        let epoch = NaiveDate::from_ymd_opt(2000, 1, 1)
            .expect("valid date")
            .and_hms_opt(0, 0, 0)
            .expect("valid time");
        let micros = (t - epoch).num_microseconds().unwrap_or(i64::MAX);
        self.int8(micros);
    }
    pub fn int4(&mut self, v: i32) {
        self.bytes.extend_from_slice(&4i32.to_be_bytes());
        self.bytes.extend_from_slice(&v.to_be_bytes());
    }
    pub fn int8(&mut self, v: i64) {
        self.bytes.extend_from_slice(&8i32.to_be_bytes());
        self.bytes.extend_from_slice(&v.to_be_bytes());
    }
    pub fn bool(&mut self, v: bool) {
        self.bytes.extend_from_slice(&1i32.to_be_bytes());
        self.bytes.push(v as u8);
    }
    pub fn text(&mut self, v: &str) {
        self.bytes
            .extend_from_slice(&(v.len() as i32).to_be_bytes());
        self.bytes.extend_from_slice(v.as_bytes());
    }
    pub fn date(&mut self, d: NaiveDate) {
        use chrono::Datelike;
        self.int4(d.num_days_from_ce() - PG_EPOCH_CE_DAYS);
    }
    /// A `numeric` with two decimal places, given in hundredths (cents).
    pub fn numeric_cents(&mut self, cents: i64) {
        self.numeric(cents as i128, 2);
    }
    /// A `numeric` of `units` × 10^-`dscale` (e.g. 12345, 2 → 123.45).
    pub fn numeric(&mut self, units: i128, dscale: u16) {
        let mut digits = [0i16; MAX_DIGITS];
        let (n, weight) = base10000_into(units.unsigned_abs(), dscale, &mut digits);
        let digits = &digits[..n];
        let len = 8 + 2 * digits.len();
        self.bytes.extend_from_slice(&(len as i32).to_be_bytes());
        self.bytes
            .extend_from_slice(&(digits.len() as i16).to_be_bytes());
        self.bytes.extend_from_slice(&weight.to_be_bytes());
        let sign: u16 = if units < 0 { 0x4000 } else { 0 };
        self.bytes.extend_from_slice(&sign.to_be_bytes());
        self.bytes.extend_from_slice(&dscale.to_be_bytes());
        for d in digits {
            self.bytes.extend_from_slice(&d.to_be_bytes());
        }
    }
    pub fn len(&self) -> usize {
        self.bytes.len()
    }
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
    /// Hands the bytes over and leaves the buffer empty (capacity kept).
    pub fn take(&mut self) -> Vec<u8> {
        let cap = self.bytes.capacity();
        std::mem::replace(&mut self.bytes, Vec::with_capacity(cap))
    }
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// Base-10000 digits (most significant first, no leading or trailing zero
/// digits) and the weight of the first digit, for `cents / 100`.
#[cfg(test)]
fn base10000_cents(cents: u64) -> (Vec<i16>, i16) {
    base10000(cents as u128, 2)
}

/// Base-10000 digits a `u128` can need (39 decimal digits, and up to 3 more
/// to align the fraction).
const MAX_DIGITS: usize = 11;

/// Base-10000 digits (most significant first, no leading or trailing zero
/// digits) and the weight of the first digit, for `units × 10^-dscale`.
#[cfg(test)]
fn base10000(units: u128, dscale: u16) -> (Vec<i16>, i16) {
    let mut digits = [0i16; MAX_DIGITS];
    let (n, weight) = base10000_into(units, dscale, &mut digits);
    (digits[..n].to_vec(), weight)
}

/// [`base10000`] into `out` without allocating (a value per row): the
/// number of digits written and the weight.
fn base10000_into(units: u128, dscale: u16, out: &mut [i16; MAX_DIGITS]) -> (usize, i16) {
    if units == 0 {
        return (0, 0);
    }
    // Align the fraction to whole base-10000 digits.
    let pad = (4 - dscale % 4) % 4;
    let frac_digits = ((dscale + pad) / 4) as i16;
    let mut n = units.saturating_mul(10u128.pow(pad as u32));
    // Least significant first, from the end of `out`.
    let mut start = MAX_DIGITS;
    while n > 0 {
        start -= 1;
        out[start] = (n % 10_000) as i16;
        n /= 10_000;
    }
    let len = MAX_DIGITS - start;
    out.copy_within(start.., 0);
    let weight = len as i16 - 1 - frac_digits;
    let mut end = len;
    while end > 0 && out[end - 1] == 0 {
        end -= 1;
    }
    (end, weight)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_digits_follow_postgres_layout() {
        assert_eq!(base10000_cents(0), (vec![], 0));
        assert_eq!(base10000_cents(5), (vec![500], -1)); // 0.05
        assert_eq!(base10000_cents(123_456), (vec![1234, 5600], 0)); // 1234.56
        assert_eq!(base10000_cents(1_234_500), (vec![1, 2345], 1)); // 12345.00
        assert_eq!(base10000_cents(2_000_000), (vec![2], 1)); // 20000.00
        assert_eq!(base10000_cents(100), (vec![1], 0)); // 1.00
    }

    #[test]
    fn fields_are_length_prefixed_big_endian() {
        let mut b = CopyBuffer::default();
        b.row(2);
        b.int4(7);
        b.null();
        assert_eq!(
            b.as_bytes(),
            &[0, 2, 0, 0, 0, 4, 0, 0, 0, 7, 0xff, 0xff, 0xff, 0xff]
        );
        let mut d = CopyBuffer::default();
        d.date(NaiveDate::from_ymd_opt(2000, 1, 2).unwrap());
        assert_eq!(d.as_bytes(), &[0, 0, 0, 4, 0, 0, 0, 1]);
    }

    proptest::proptest! {
        /// The digits and weight always spell the value back, in PostgreSQL's
        /// normal form (every digit < 10000, no leading or trailing zero digit).
        #[test]
        fn numeric_digits_spell_the_value(cents in 0u64..1_000_000_000_000_000) {
            let (digits, weight) = base10000_cents(cents);
            let mut value: i128 = 0; // in units of 10000^-1 (two more decimals than cents)
            for (i, d) in digits.iter().enumerate() {
                proptest::prop_assert!((0..10_000).contains(d));
                let power = weight as i32 - i as i32 + 1; // relative to 10000^-1
                proptest::prop_assert!(power >= 0);
                value += *d as i128 * 10_000i128.pow(power as u32);
            }
            proptest::prop_assert_eq!(value, cents as i128 * 100);
            proptest::prop_assert_ne!(digits.first(), Some(&0));
            proptest::prop_assert_ne!(digits.last(), Some(&0));
        }
    }

    #[test]
    fn numeric_of_any_scale() {
        assert_eq!(base10000(5, 0), (vec![5], 0)); // 5
        assert_eq!(base10000(123_456_789, 4), (vec![1, 2345, 6789], 1)); // 12345.6789
        assert_eq!(base10000(15, 1), (vec![1, 5000], 0)); // 1.5
        assert_eq!(base10000(1, 6), (vec![100], -2)); // 0.000001 = 100 × 10000^-2
    }

    #[test]
    fn header_and_trailer() {
        let mut b = CopyBuffer::default();
        b.header();
        b.trailer();
        assert_eq!(b.len(), 11 + 8 + 2);
        assert!(b.as_bytes().starts_with(b"PGCOPY\n\xff\r\n\0"));
        assert!(b.as_bytes().ends_with(&[0xff, 0xff]));
    }
}
