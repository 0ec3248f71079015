//! Parameter sets drawn from a check's declared types (pure): besides the
//! sets written in the check, a search runs both versions of a query with
//! values it draws itself, each typed as the check declares it and aimed at
//! the same boundaries as the data (the query's constants and the written
//! values, with their neighbours).
//!
//! Two date (or timestamp, number) parameters that every written set keeps
//! in one order (`date_from <= date_to`) are drawn in that order too, so a
//! drawn window is a window. NULL is drawn only for a parameter that some
//! written set leaves NULL. A drawn set is named after its values, so a
//! difference found on it can be written down as a new set.

use super::candidates::Candidates;
use crate::gen::draw::{mix, name_hash};
use crate::suite::{ParamSet, ParamType, ParamValue};
use chrono::NaiveTime;
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// Draws per wanted set before giving up on finding a new one (the
/// domains may be too small for `count` distinct sets).
const ATTEMPTS_PER_SET: usize = 20;

/// The values a parameter of `ty` may be drawn from, without NULL: what
/// the written sets give it (for a list, its elements), then the
/// boundaries of its kind (for a list, of its element type).
fn pool(ty: ParamType, name: &str, written: &[ParamSet], c: &Candidates) -> Vec<ParamValue> {
    let mut out: Vec<ParamValue> = Vec::new();
    let mut add = |v: &ParamValue| {
        if !matches!(v, ParamValue::Null) && !out.contains(v) {
            out.push(v.clone());
        }
    };
    for v in written.iter().filter_map(|s| s.values.get(name)) {
        match (ty.element(), v) {
            (Some(_), ParamValue::List(items)) => items.iter().for_each(&mut add),
            (None, v) => add(v),
            _ => {}
        }
    }
    for v in boundaries(ty.element().unwrap_or(ty), c) {
        add(&v);
    }
    out
}

/// The candidates of the query that a parameter of `ty` can take.
fn boundaries(ty: ParamType, c: &Candidates) -> Vec<ParamValue> {
    let midnight = NaiveTime::MIN;
    match ty {
        ParamType::Date => c.dates.iter().map(|d| ParamValue::Date(*d)).collect(),
        ParamType::Timestamp => c
            .dates
            .iter()
            .map(|d| ParamValue::Timestamp(d.and_time(midnight)))
            .collect(),
        ParamType::Timestamptz => c
            .dates
            .iter()
            .filter_map(|d| {
                let utc = chrono::FixedOffset::east_opt(0)?;
                d.and_time(midnight)
                    .and_local_timezone(utc)
                    .single()
                    .map(ParamValue::Timestamptz)
            })
            .collect(),
        ParamType::Integer => c.integers.iter().map(|i| ParamValue::Integer(*i)).collect(),
        ParamType::Numeric => c
            .integers
            .iter()
            .map(|i| i.to_string())
            .chain(c.decimals.iter().cloned())
            .filter_map(|t| t.parse().ok().map(ParamValue::Numeric))
            .collect(),
        ParamType::Text => c
            .texts
            .iter()
            .map(|t| ParamValue::Text(t.clone()))
            .collect(),
        ParamType::Bool => vec![ParamValue::Bool(false), ParamValue::Bool(true)],
        ParamType::TextList
        | ParamType::DateList
        | ParamType::IntegerList
        | ParamType::NumericList => Vec::new(),
    }
}

/// The order of two values of one kind, None across kinds or for lists.
fn compare(a: &ParamValue, b: &ParamValue) -> Option<Ordering> {
    use ParamValue::*;
    match (a, b) {
        (Date(x), Date(y)) => Some(x.cmp(y)),
        (Timestamp(x), Timestamp(y)) => Some(x.cmp(y)),
        (Timestamptz(x), Timestamptz(y)) => Some(x.cmp(y)),
        (Integer(x), Integer(y)) => Some(x.cmp(y)),
        (Numeric(x), Numeric(y)) => x.partial_cmp(y),
        _ => None,
    }
}

/// Pairs (a, b) of parameters that every written set holding both keeps
/// as a <= b (and at least one set holds both).
fn kept_orders(names: &[&String], written: &[ParamSet]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for a in names {
        for b in names {
            if a == b {
                continue;
            }
            let mut seen = false;
            let kept = written
                .iter()
                .all(|s| match (s.values.get(*a), s.values.get(*b)) {
                    (Some(x), Some(y)) => match compare(x, y) {
                        Some(o) => {
                            seen = true;
                            o != Ordering::Greater
                        }
                        None => true,
                    },
                    _ => true,
                });
            // Equal in every set is no order (a == b both ways): keep one.
            if seen && kept && !out.contains(&(b.to_string(), a.to_string())) {
                out.push((a.to_string(), b.to_string()));
            }
        }
    }
    out
}

/// A deterministic stream of numbers.
struct Stream {
    state: u64,
}

impl Stream {
    fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.state)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn show(v: &ParamValue) -> String {
    match v {
        ParamValue::Null => "NULL".to_string(),
        ParamValue::Text(t) => format!("'{t}'"),
        other => other.to_sql_text().unwrap_or_else(|| "NULL".to_string()),
    }
}

/// `count` parameter sets for a check with parameter `types` and the
/// written sets `written`, drawn with `seed` from its values and the
/// boundaries in `candidates`; none equal to a written set or to another.
/// Fewer when the values allow fewer; none for a check without parameters.
pub fn drawn_sets(
    types: &BTreeMap<String, ParamType>,
    written: &[ParamSet],
    candidates: &Candidates,
    count: usize,
    seed: u64,
) -> Vec<ParamSet> {
    if types.is_empty() || count == 0 {
        return Vec::new();
    }
    let names: Vec<&String> = types.keys().collect();
    let pools: BTreeMap<&String, Vec<ParamValue>> = names
        .iter()
        .map(|n| (*n, pool(types[*n], n, written, candidates)))
        .collect();
    let nullable: Vec<&String> = names
        .iter()
        .filter(|n| {
            written
                .iter()
                .any(|s| matches!(s.values.get(**n), Some(ParamValue::Null)))
        })
        .copied()
        .collect();
    let orders = kept_orders(&names, written);
    let mut stream = Stream {
        state: mix(seed ^ name_hash("drawn parameter sets")),
    };
    let mut out: Vec<ParamSet> = Vec::new();
    for _ in 0..count * ATTEMPTS_PER_SET {
        if out.len() == count {
            break;
        }
        let mut values: BTreeMap<String, ParamValue> = BTreeMap::new();
        for n in &names {
            let p = &pools[*n];
            let v = if nullable.contains(n) && stream.below(4) == 0 {
                ParamValue::Null
            } else if types[*n].element().is_some() {
                let len = stream.below(4);
                let len = if p.is_empty() { 0 } else { len };
                ParamValue::List((0..len).map(|_| p[stream.below(p.len())].clone()).collect())
            } else if p.is_empty() {
                ParamValue::Null
            } else {
                p[stream.below(p.len())].clone()
            };
            values.insert(n.to_string(), v);
        }
        for (a, b) in &orders {
            let swap = matches!(compare(&values[a], &values[b]), Some(Ordering::Greater));
            if swap {
                let va = values[a].clone();
                let vb = values[b].clone();
                values.insert(a.clone(), vb);
                values.insert(b.clone(), va);
            }
        }
        let taken = written.iter().chain(&out).any(|s| s.values == values);
        if taken {
            continue;
        }
        let shown: Vec<String> = values
            .iter()
            .map(|(k, v)| format!("{k}={}", show(v)))
            .collect();
        out.push(ParamSet {
            name: format!("drawn {}: {}", out.len() + 1, shown.join(" ")),
            values,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use proptest::prelude::*;

    fn day(s: &str) -> ParamValue {
        ParamValue::Date(NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap())
    }

    fn window_sets() -> (BTreeMap<String, ParamType>, Vec<ParamSet>) {
        let types = BTreeMap::from([
            ("date_from".to_string(), ParamType::Date),
            ("date_to".to_string(), ParamType::Date),
            ("kind".to_string(), ParamType::Text),
            ("top".to_string(), ParamType::Integer),
        ]);
        let written = vec![
            ParamSet {
                name: "a".into(),
                values: BTreeMap::from([
                    ("date_from".to_string(), day("2025-10-01")),
                    ("date_to".to_string(), day("2025-10-05")),
                    ("kind".to_string(), ParamValue::Text("paid".into())),
                    ("top".to_string(), ParamValue::Integer(20)),
                ]),
            },
            ParamSet {
                name: "b".into(),
                values: BTreeMap::from([
                    ("date_from".to_string(), day("2025-09-01")),
                    ("date_to".to_string(), day("2025-09-01")),
                    ("kind".to_string(), ParamValue::Null),
                    ("top".to_string(), ParamValue::Integer(5)),
                ]),
            },
        ];
        (types, written)
    }

    fn candidates(written: &[ParamSet]) -> Candidates {
        Candidates::of(
            "select * from t where d between :date_from and :date_to and k = :kind and n > 3 limit :top",
            written,
        )
    }

    #[test]
    fn drawn_values_have_the_declared_types_and_keep_the_written_order() {
        let (types, written) = window_sets();
        let c = candidates(&written);
        let sets = drawn_sets(&types, &written, &c, 8, 1);
        assert_eq!(sets.len(), 8);
        let mut null_kind = false;
        let mut other_day = false;
        for s in &sets {
            assert_eq!(s.values.len(), 4, "{s:?}");
            assert!(s.name.starts_with("drawn "), "{}", s.name);
            let (ParamValue::Date(from), ParamValue::Date(to)) =
                (&s.values["date_from"], &s.values["date_to"])
            else {
                panic!("dates drawn as dates: {s:?}");
            };
            assert!(from <= to, "a drawn window is a window: {s:?}");
            other_day |= !matches!(from.to_string().as_str(), "2025-10-01" | "2025-09-01");
            assert!(matches!(s.values["top"], ParamValue::Integer(_)), "{s:?}");
            match &s.values["kind"] {
                ParamValue::Null => null_kind = true,
                ParamValue::Text(_) => {}
                other => panic!("kind drawn as {other:?}"),
            }
            assert!(!written.iter().any(|w| w.values == s.values));
        }
        assert!(other_day, "boundaries beyond the written values: {sets:?}");
        assert!(
            null_kind,
            "a parameter written NULL is sometimes drawn NULL"
        );
    }

    #[test]
    fn never_null_when_no_written_set_is_null() {
        let (types, mut written) = window_sets();
        written.truncate(1);
        let c = candidates(&written);
        for seed in 0..20 {
            for s in drawn_sets(&types, &written, &c, 4, seed) {
                assert!(
                    !s.values.values().any(|v| matches!(v, ParamValue::Null)),
                    "{s:?}"
                );
            }
        }
    }

    #[test]
    fn no_parameters_no_drawn_sets() {
        let c = Candidates::default();
        assert!(drawn_sets(&BTreeMap::new(), &[], &c, 4, 1).is_empty());
    }

    #[test]
    fn lists_are_drawn_from_their_elements() {
        let types = BTreeMap::from([("ids".to_string(), ParamType::IntegerList)]);
        let written = vec![ParamSet {
            name: "w".into(),
            values: BTreeMap::from([(
                "ids".to_string(),
                ParamValue::List(vec![ParamValue::Integer(7)]),
            )]),
        }];
        let c = Candidates::of("select 1 where x = any(:ids)", &written);
        let sets = drawn_sets(&types, &written, &c, 3, 9);
        assert!(!sets.is_empty());
        for s in sets {
            let ParamValue::List(items) = &s.values["ids"] else {
                panic!("{s:?}");
            };
            assert!(items.iter().all(|i| matches!(i, ParamValue::Integer(_))));
        }
    }

    proptest! {
        #[test]
        fn the_same_seed_draws_the_same_sets(seed in any::<u64>(), count in 0usize..6) {
            let (types, written) = window_sets();
            let c = candidates(&written);
            let a = drawn_sets(&types, &written, &c, count, seed);
            let b = drawn_sets(&types, &written, &c, count, seed);
            prop_assert_eq!(&a, &b);
            prop_assert!(a.len() <= count);
            let mut names: Vec<&String> = a.iter().map(|s| &s.name).collect();
            names.dedup();
            prop_assert_eq!(names.len(), a.len());
        }
    }
}
