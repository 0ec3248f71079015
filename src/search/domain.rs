//! What each loaded column of the data model may hold in a searched
//! dataset (pure): a serial number by row position, a link to a row of an
//! earlier table (a `ref:` or a `per:` parent's column), or values — those
//! the model gives it at volume (sampled from a generated dataset) and the
//! query's boundaries that fit the column's type.

use super::candidates::Candidates;
use crate::gen::encode::Enc;
use crate::gen::expr::Expr;
use crate::gen::model::Model;
use crate::gen::plan::Dataset;
use crate::gen::value::Value;
use chrono::NaiveDate;
use std::collections::BTreeMap;

/// Values kept per column from the dataset at volume.
const POOL: usize = 40;

/// What one column may hold.
#[derive(Debug, Clone, PartialEq)]
pub enum Domain {
    /// `start + row position × step` (a `seq:` key): unique however rows go.
    Serial { start: i64, step: i64 },
    /// The value of column `column` of a row of dataset table `table`
    /// (earlier in load order), chosen by index.
    Link {
        table: usize,
        column: usize,
        nullable: bool,
    },
    /// Values at volume and the query's boundaries.
    Values {
        pool: Vec<Value>,
        boundary: Vec<Value>,
        nullable: bool,
    },
}

impl Domain {
    pub fn nullable(&self) -> bool {
        match self {
            Domain::Serial { .. } => false,
            Domain::Link { nullable, .. } | Domain::Values { nullable, .. } => *nullable,
        }
    }
}

/// One loaded table of the model.
#[derive(Debug, Clone, PartialEq)]
pub struct TableDomain {
    pub name: String,
    pub columns: Vec<String>,
    pub domains: Vec<Domain>,
}

/// Every loaded table, in load order (the order of [`Dataset::tables`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Domains {
    pub tables: Vec<TableDomain>,
    /// Most rows a table gets in one dataset.
    pub max_rows: usize,
}

/// How a column is written and whether the database takes NULL in it, by
/// (table, column) — from the catalog.
#[derive(Debug, Clone, Default)]
pub struct ColumnTypes {
    pub columns: BTreeMap<(String, String), (Enc, bool)>,
}

/// The loaded table of `model` behind dataset table `name`, and the
/// position of model column `c` among its loaded columns.
fn loaded_position(model: &Model, table: usize, c: usize) -> Option<usize> {
    let t = &model.tables[table];
    if !t.load || t.columns[c].hidden {
        return None;
    }
    Some(t.columns[..c].iter().filter(|c| !c.hidden).count())
}

/// The earlier loaded (model table, column) a column's expression takes its
/// value from: a `ref:` anywhere in it, or exactly a `per:` parent's column.
fn link_of(model: &Model, table: usize, e: &Expr) -> Option<(usize, usize)> {
    fn find_ref(e: &Expr) -> Option<usize> {
        match e {
            Expr::Ref(id, _, _) => Some(*id),
            Expr::If(_, a, b) => find_ref(a).or_else(|| find_ref(b)),
            _ => None,
        }
    }
    if let Expr::Parent(p, c) = e {
        let pt = *model.tables[table].parents().get(*p)?;
        return Some((pt, loaded_position(model, pt, *c)?));
    }
    let r = &model.refs[find_ref(e)?];
    Some((r.table, loaded_position(model, r.table, r.column)?))
}

/// A value's sort key: kind first, then its text.
fn key(v: &Value) -> (u8, String) {
    let k = match v {
        Value::Null => 0,
        Value::Bool(_) => 1,
        Value::Int(_) | Value::Float(_) => 2,
        Value::Date(_) | Value::Timestamp(_) => 3,
        Value::Text(_) => 4,
    };
    let text = match v {
        Value::Int(i) => format!("{:020}", (*i as i128 + (1i128 << 64)) as u128),
        Value::Float(f) => format!("{:030.6}", f + 1e15),
        other => other.to_text(),
    };
    (k, text)
}

/// Up to `POOL` distinct non-NULL values, evenly spread over their order
/// (the smallest and largest kept).
fn pool(values: impl Iterator<Item = Value>) -> Vec<Value> {
    let mut all: BTreeMap<(u8, String), Value> = BTreeMap::new();
    for v in values.filter(|v| !v.is_null()) {
        all.entry(key(&v)).or_insert(v);
    }
    let all: Vec<Value> = all.into_values().collect();
    if all.len() <= POOL {
        return all;
    }
    (0..POOL)
        .map(|i| all[i * (all.len() - 1) / (POOL - 1)].clone())
        .collect()
}

fn looks_like_dates(pool: &[Value]) -> bool {
    !pool.is_empty()
        && pool.iter().all(|v| match v {
            Value::Text(t) => NaiveDate::parse_from_str(t, "%Y-%m-%d").is_ok(),
            _ => false,
        })
}

/// A number's value, None for any other kind.
fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        _ => None,
    }
}

/// Whether the model gave a column only numbers >= 0 at volume: a negative
/// boundary is then outside its domain (the `-1` next to a threshold `0`
/// in an amount or a count the model never makes negative). False when
/// the column held no number.
fn never_negative(pool: &[Value]) -> bool {
    let mut numbers = pool.iter().filter_map(number).peekable();
    numbers.peek().is_some() && numbers.all(|n| n >= 0.0)
}

/// The query's boundaries that a column written as `enc` can hold; no
/// negative number in a column the model never makes negative.
fn boundary(c: &Candidates, enc: Enc, pool: &[Value]) -> Vec<Value> {
    let non_negative = never_negative(pool);
    let inside = |v: &Value| !(non_negative && number(v).is_some_and(|n| n < 0.0));
    let ints = || c.integers.iter().map(|&i| Value::Int(i));
    match enc {
        Enc::Int2 | Enc::Int4 | Enc::Int8 => ints().filter(inside).collect(),
        Enc::Float4 | Enc::Float8 | Enc::Numeric(_) => ints()
            .chain(
                c.decimals
                    .iter()
                    .filter_map(|d| d.parse::<f64>().ok())
                    .map(Value::Float),
            )
            .filter(inside)
            .collect(),
        Enc::Date => c.dates.iter().map(|&d| Value::Date(d)).collect(),
        Enc::Timestamp => c
            .dates
            .iter()
            .flat_map(|d| {
                [(0, 0, 0), (23, 59, 59)]
                    .into_iter()
                    .filter_map(|(h, m, s)| d.and_hms_opt(h, m, s).map(Value::Timestamp))
            })
            .collect(),
        Enc::Text => {
            let mut out = vec![Value::text("")];
            if looks_like_dates(pool) {
                out.extend(c.dates.iter().map(|d| Value::text(&d.to_string())));
            } else {
                out.extend(c.texts.iter().map(|t| Value::text(t)));
            }
            out
        }
        Enc::Bool => vec![Value::Bool(false), Value::Bool(true)],
    }
}

/// Most rows a table gets when the model has `tables` loaded tables: about
/// 200 rows over all of them.
pub fn max_rows(tables: usize) -> usize {
    (200 / tables.max(1)).clamp(4, 60)
}

/// The domains of every loaded table of `model`: `volume` is a dataset the
/// model generated (values at volume), `types` says how each column is
/// written, `c` the query's boundaries.
pub fn domains(model: &Model, volume: &Dataset, types: &ColumnTypes, c: &Candidates) -> Domains {
    let loaded: Vec<usize> = (0..model.tables.len())
        .filter(|&t| model.tables[t].load)
        .collect();
    let position = |ti: usize| loaded.iter().position(|&l| l == ti);
    let mut tables = Vec::new();
    for (di, &ti) in loaded.iter().enumerate() {
        let t = &model.tables[ti];
        let rows = volume.tables.get(di).map_or(&[][..], |d| &d.rows[..]);
        let mut domains = Vec::new();
        let mut columns = Vec::new();
        for (ci, (_, col)) in t.loaded_columns().enumerate() {
            columns.push(col.name.clone());
            let (enc, nullable) = types
                .columns
                .get(&(t.name.clone(), col.name.clone()))
                .copied()
                .unwrap_or((Enc::Text, true));
            let seen = || rows.iter().map(|r| r[ci].clone());
            let has_null = seen().any(|v| v.is_null());
            if let Some((lt, lc)) = link_of(model, ti, &col.expr) {
                if let Some(table) = position(lt).filter(|&p| p < di) {
                    domains.push(Domain::Link {
                        table,
                        column: lc,
                        nullable: nullable && has_null,
                    });
                    continue;
                }
            }
            let ints: Vec<i64> = seen()
                .filter_map(|v| match v {
                    Value::Int(i) => Some(i),
                    _ => None,
                })
                .collect();
            let distinct: std::collections::BTreeSet<i64> = ints.iter().copied().collect();
            if ints.len() >= 2 && ints.len() == rows.len() && distinct.len() == ints.len() {
                let step = ints[1] - ints[0];
                if step != 0 && ints.windows(2).all(|w| w[1] - w[0] == step) {
                    domains.push(Domain::Serial {
                        start: ints[0],
                        step,
                    });
                    continue;
                }
            }
            let pool = pool(seen());
            let boundary = boundary(c, enc, &pool);
            domains.push(Domain::Values {
                pool,
                boundary,
                nullable,
            });
        }
        tables.push(TableDomain {
            name: t.name.clone(),
            columns,
            domains,
        });
    }
    let max_rows = max_rows(tables.len());
    Domains { tables, max_rows }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    const MODEL: &str = "tables:
  - name: s.parents
    rows: 6
    columns:
      id: {seq: 1}
      kind: {choice: [[a, 1], [b, 1]]}
  - name: s.children
    per: s.parents
    count: 2
    columns:
      id: {seq: 10, step: 10}
      parent_id: {expr: parents.id}
      amount: {int: {min: 0, max: 50}}
      day: {date: {from: 2025-01-01, to: 2025-01-31}}
";

    #[test]
    fn keys_are_serial_parents_are_links_and_values_meet_the_boundaries() {
        let model = Arc::new(
            crate::gen::model::parse(MODEL, std::path::Path::new("m.yaml")).expect("model"),
        );
        let volume = Dataset::generate(model.clone(), 1.0, 1).unwrap();
        let mut types = ColumnTypes::default();
        for (t, c, enc, null) in [
            ("s.parents", "id", Enc::Int4, false),
            ("s.parents", "kind", Enc::Text, true),
            ("s.children", "id", Enc::Int4, false),
            ("s.children", "parent_id", Enc::Int4, false),
            ("s.children", "amount", Enc::Int4, true),
            ("s.children", "day", Enc::Date, true),
        ] {
            types.columns.insert((t.into(), c.into()), (enc, null));
        }
        let c = Candidates::of(
            "select * from s.children where amount > 100 and day >= date '2025-02-01'",
            &[],
        );
        let d = domains(&model, &volume, &types, &c);
        assert_eq!(d.tables.len(), 2);
        assert_eq!(d.tables[0].domains[0], Domain::Serial { start: 1, step: 1 });
        assert_eq!(
            d.tables[1].domains[0],
            Domain::Serial {
                start: 10,
                step: 10
            }
        );
        assert_eq!(
            d.tables[1].domains[1],
            Domain::Link {
                table: 0,
                column: 0,
                nullable: false
            }
        );
        let Domain::Values { pool, boundary, .. } = &d.tables[1].domains[2] else {
            panic!("{:?}", d.tables[1].domains[2]);
        };
        assert!(pool.iter().all(|v| matches!(v, Value::Int(0..=50))));
        for b in [99, 100, 101, 0, 1] {
            assert!(boundary.contains(&Value::Int(b)), "{b}: {boundary:?}");
        }
        assert!(
            !boundary.contains(&Value::Int(-1)),
            "no negative amount where the model makes none: {boundary:?}"
        );
        let Domain::Values { boundary, .. } = &d.tables[1].domains[3] else {
            panic!()
        };
        let day = NaiveDate::from_ymd_opt(2025, 1, 31).unwrap();
        assert!(boundary.contains(&Value::Date(day)), "{boundary:?}");
    }
}
