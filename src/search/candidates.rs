//! The values a query cares about: its constants and the values of its
//! parameter sets, each with its neighbours (a threshold, one above, one
//! below; a window's first and last day and the days just outside). A
//! generated dataset is aimed at these boundaries. Pure.

use crate::suite::{ParamSet, ParamValue};
use chrono::NaiveDate;
use sqlparser::ast::{visit_expressions, Expr, Value};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;
use std::collections::BTreeSet;
use std::ops::ControlFlow;

/// Boundary values, by kind.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Candidates {
    pub integers: BTreeSet<i64>,
    /// Decimal numbers (as text, exact: `0.35`, `100.01`).
    pub decimals: BTreeSet<String>,
    pub dates: BTreeSet<NaiveDate>,
    pub texts: BTreeSet<String>,
}

fn date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    (s.len() >= 10)
        .then(|| NaiveDate::parse_from_str(&s[..10], "%Y-%m-%d").ok())
        .flatten()
}

impl Candidates {
    /// Adds every boundary of `other`.
    pub fn merge(&mut self, other: Candidates) {
        self.integers.extend(other.integers);
        self.decimals.extend(other.decimals);
        self.dates.extend(other.dates);
        self.texts.extend(other.texts);
    }

    fn integer(&mut self, i: i64) {
        for d in [-1, 0, 1] {
            if let Some(v) = i.checked_add(d) {
                self.integers.insert(v);
            }
        }
    }

    fn number(&mut self, text: &str) {
        if let Ok(i) = text.parse::<i64>() {
            self.integer(i);
        } else if let Ok(d) = text.parse::<bigdecimal::BigDecimal>() {
            let step = bigdecimal::BigDecimal::new(1.into(), d.fractional_digit_count().max(0));
            for v in [&d - &step, d.clone(), &d + &step] {
                self.decimals.insert(crate::output::normalize_decimal(&v));
            }
        }
    }

    fn day(&mut self, d: NaiveDate) {
        for delta in [-1, 0, 1] {
            if let Some(v) = d.checked_add_signed(chrono::Duration::days(delta)) {
                self.dates.insert(v);
            }
        }
    }

    fn text(&mut self, s: &str) {
        match date(s) {
            Some(d) => self.day(d),
            None => {
                self.texts.insert(s.to_string());
            }
        }
    }

    fn param(&mut self, v: &ParamValue) {
        match v {
            ParamValue::Null => {}
            ParamValue::Bool(_) => {}
            ParamValue::Integer(i) => self.integer(*i),
            ParamValue::Numeric(n) => self.number(&n.to_string()),
            ParamValue::Text(t) => self.text(t),
            ParamValue::Date(d) => self.day(*d),
            ParamValue::Timestamp(t) => self.day(t.date()),
            ParamValue::Timestamptz(t) => self.day(t.date_naive()),
            ParamValue::List(items) => items.iter().for_each(|i| self.param(i)),
        }
    }

    /// The constants of `sql` (numbers, strings, typed literals such as
    /// `date '2025-10-01'`) and the values of `sets`. A query sqlparser
    /// cannot read gives its parameter values only.
    pub fn of(sql: &str, sets: &[ParamSet]) -> Candidates {
        let mut c = Candidates::default();
        c.integer(0);
        // Parameters (:name) are not SQL the parser knows: stand NULL in.
        let mut text = String::with_capacity(sql.len());
        let mut last = 0;
        for p in crate::sql::scan(sql).params {
            text.push_str(&sql[last..p.offset]);
            text.push_str("NULL");
            last = p.offset + 1 + p.name.len();
        }
        text.push_str(&sql[last..]);
        if let Ok(statements) = Parser::parse_sql(&PostgreSqlDialect {}, &text) {
            let _ = visit_expressions(&statements, |e| {
                match e {
                    Expr::Value(v) => match &v.value {
                        Value::Number(n, _) => c.number(n),
                        Value::SingleQuotedString(s) | Value::EscapedStringLiteral(s) => c.text(s),
                        _ => {}
                    },
                    Expr::TypedString(t) => {
                        if let Value::SingleQuotedString(s) = &t.value.value {
                            c.text(s);
                        }
                    }
                    _ => {}
                }
                ControlFlow::<()>::Continue(())
            });
        }
        for set in sets {
            for v in set.values.values() {
                c.param(v);
            }
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn constants_and_parameters_with_their_neighbours() {
        let sets = vec![ParamSet {
            name: "w".into(),
            values: BTreeMap::from([
                (
                    "date_from".to_string(),
                    ParamValue::Date(NaiveDate::from_ymd_opt(2025, 10, 1).unwrap()),
                ),
                ("channel".to_string(), ParamValue::Text("web".into())),
            ]),
        }];
        let c = Candidates::of(
            "select * from t where amount > 100 and rate >= 0.35 and day < date '2025-09-30' \
             and kind = 'paid' and d >= :date_from",
            &sets,
        );
        for i in [99, 100, 101, -1, 0, 1] {
            assert!(c.integers.contains(&i), "{i}: {:?}", c.integers);
        }
        for d in ["0.34", "0.35", "0.36"] {
            assert!(c.decimals.contains(d), "{d}: {:?}", c.decimals);
        }
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        for d in ["2025-09-29", "2025-09-30", "2025-10-01", "2025-10-02"] {
            assert!(c.dates.contains(&day(d)), "{d}: {:?}", c.dates);
        }
        assert!(c.texts.contains("paid") && c.texts.contains("web"));
    }

    #[test]
    fn an_unreadable_query_still_gives_its_parameters() {
        let sets = vec![ParamSet {
            name: "s".into(),
            values: BTreeMap::from([("n".to_string(), ParamValue::Integer(7))]),
        }];
        let c = Candidates::of("select ((( broken", &sets);
        assert!(c.integers.contains(&7) && c.integers.contains(&8));
    }
}
