//! PostgreSQL's date and time values as it prints them (DateStyle ISO),
//! over its whole range: `infinity`, years beyond 9999, BC dates. Pure.

/// Days from 0000-03-01-based civil date arithmetic (proleptic Gregorian);
/// returns (year, month, day) for a day count relative to 1970-01-01.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Days between 1970-01-01 and 2000-01-01 (PostgreSQL's epoch).
const PG_EPOCH_DAYS: i64 = 10_957;
const USECS_PER_DAY: i64 = 86_400_000_000;

/// `YYYY-MM-DD`, with ` BC` for years before 1 (year 0 is 1 BC).
fn ymd(days_since_pg_epoch: i64) -> (String, bool) {
    let (y, m, d) = civil_from_days(days_since_pg_epoch + PG_EPOCH_DAYS);
    if y <= 0 {
        (format!("{:04}-{m:02}-{d:02}", 1 - y), true)
    } else {
        (format!("{y:04}-{m:02}-{d:02}"), false)
    }
}

/// A `date` from its binary form (days since 2000-01-01).
pub fn date(days: i32) -> String {
    match days {
        i32::MAX => "infinity".into(),
        i32::MIN => "-infinity".into(),
        d => {
            let (text, bc) = ymd(d as i64);
            if bc {
                format!("{text} BC")
            } else {
                text
            }
        }
    }
}

/// `HH:MM:SS` plus the fraction without trailing zeros.
fn clock(usecs_of_day: i64) -> String {
    let secs = usecs_of_day / 1_000_000;
    let frac = usecs_of_day % 1_000_000;
    let mut s = format!(
        "{:02}:{:02}:{:02}",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    );
    if frac != 0 {
        let f = format!("{frac:06}");
        s.push('.');
        s.push_str(f.trim_end_matches('0'));
    }
    s
}

/// A `timestamp` from its binary form (microseconds since 2000-01-01);
/// `zone` is appended before a ` BC` (`+00` for timestamptz in UTC).
pub fn timestamp(usecs: i64, zone: &str) -> String {
    match usecs {
        i64::MAX => "infinity".into(),
        i64::MIN => "-infinity".into(),
        t => {
            let days = t.div_euclid(USECS_PER_DAY);
            let time = t.rem_euclid(USECS_PER_DAY);
            let (date, bc) = ymd(days);
            format!(
                "{date} {}{zone}{}",
                clock(time),
                if bc { " BC" } else { "" }
            )
        }
    }
}

/// A `time` from its binary form (microseconds since midnight).
pub fn time(usecs: i64) -> String {
    clock(usecs)
}

/// A `timetz`: microseconds since midnight and the zone's offset in
/// seconds *west* of UTC, as PostgreSQL stores it.
pub fn timetz(usecs: i64, west_secs: i32) -> String {
    format!("{}{}", clock(usecs), offset(-(west_secs as i64)))
}

/// `+02`, `-03:30`, `+05:45:10`.
fn offset(east_secs: i64) -> String {
    let sign = if east_secs < 0 { '-' } else { '+' };
    let a = east_secs.abs();
    let (h, m, s) = (a / 3600, (a / 60) % 60, a % 60);
    match (m, s) {
        (0, 0) => format!("{sign}{h:02}"),
        (_, 0) => format!("{sign}{h:02}:{m:02}"),
        _ => format!("{sign}{h:02}:{m:02}:{s:02}"),
    }
}

/// An `interval` (IntervalStyle postgres): `1 year 2 mons -3 days +04:05:06.5`.
pub fn interval(usecs: i64, days: i32, months: i32) -> String {
    let mut out = String::new();
    let mut is_zero = true;
    let mut is_before = false;
    let mut part = |value: i64, unit: &str| {
        if value == 0 {
            return;
        }
        out.push_str(&format!(
            "{}{}{value} {unit}{}",
            if is_zero { "" } else { " " },
            if is_before && value > 0 { "+" } else { "" },
            if value != 1 { "s" } else { "" }
        ));
        is_before = value < 0;
        is_zero = false;
    };
    part((months / 12) as i64, "year");
    part((months % 12) as i64, "mon");
    part(days as i64, "day");
    if is_zero || usecs != 0 {
        let minus = usecs < 0;
        let a = usecs.unsigned_abs();
        let hours = a / 3_600_000_000;
        let mins = (a / 60_000_000) % 60;
        let secs = (a / 1_000_000) % 60;
        let frac = a % 1_000_000;
        out.push_str(&format!(
            "{}{}{hours:02}:{mins:02}:{secs:02}",
            if is_zero { "" } else { " " },
            if minus {
                "-"
            } else if is_before {
                "+"
            } else {
                ""
            }
        ));
        if frac != 0 {
            let f = format!("{frac:06}");
            out.push('.');
            out.push_str(f.trim_end_matches('0'));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_over_the_whole_range() {
        assert_eq!(date(0), "2000-01-01");
        assert_eq!(date(9_409), "2025-10-05");
        assert_eq!(date(-1), "1999-12-31");
        assert_eq!(date(i32::MAX), "infinity");
        assert_eq!(date(i32::MIN), "-infinity");
        // '294276-12-31'::date - '2000-01-01'::date
        assert_eq!(date(106_751_982), "294276-12-31");
        // '0001-12-31 BC'::date (year 0)
        assert_eq!(date(-730_120), "0001-12-31 BC");
        assert_eq!(date(-730_119), "0001-01-01");
    }

    #[test]
    fn timestamps_and_times() {
        assert_eq!(timestamp(0, ""), "2000-01-01 00:00:00");
        assert_eq!(timestamp(1_500_000, "+00"), "2000-01-01 00:00:01.5+00");
        assert_eq!(timestamp(-1, ""), "1999-12-31 23:59:59.999999");
        assert_eq!(timestamp(i64::MAX, "+00"), "infinity");
        assert_eq!(time(45_296_000_001), "12:34:56.000001");
        assert_eq!(timetz(0, -7200), "00:00:00+02");
        assert_eq!(timetz(0, 12_600), "00:00:00-03:30");
    }

    #[test]
    fn intervals_as_postgres_prints_them() {
        assert_eq!(interval(0, 0, 0), "00:00:00");
        assert_eq!(interval(0, 1, 0), "1 day");
        assert_eq!(interval(0, 0, 14), "1 year 2 mons");
        assert_eq!(interval(3_723_500_000, 3, 0), "3 days 01:02:03.5");
        assert_eq!(interval(7_200_000_000, -1, 0), "-1 days +02:00:00");
        assert_eq!(interval(-60_000_000, 0, 0), "-00:01:00");
        assert_eq!(interval(0, 2, -1), "-1 mons +2 days");
    }
}
