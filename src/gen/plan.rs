//! The row plan of a model at a scale and seed: the vars evaluated, the
//! tables other tables need held in memory, every table's row count per
//! parent combination, and the rows themselves on demand, for any range of
//! parent combinations (one per loading connection). Pure.
//!
//! Every value is a hash of (seed, table, column, row key), where a row's key
//! is its position among its table's candidate rows; so the same seed, scale
//! and model give the same rows however the work is split.

use super::draw::{mix, name_hash};
use super::expr::{eval, key_hash, Ctx, Expr, RefIndex};
use super::model::{Model, Rows};
use super::value::Value;
use std::ops::Range;
use std::sync::Arc;

/// One generated row: every column of its table, hidden ones included.
pub type Row = Vec<Value>;

#[derive(Debug)]
pub struct TablePlan {
    /// Parent combinations (or rows, for a table with `rows:`).
    pub combos: u64,
    /// Sizes of the parent tables (outermost first), for combination indexes.
    parent_sizes: Vec<u64>,
    /// Start key of each combination's rows (len combos + 1), when a
    /// `count:` decides them; else combination c holds key c alone.
    offsets: Option<Vec<u64>>,
    /// Rows before `where:` (keys 0..candidates).
    pub candidates: u64,
    /// All rows, when another table needs them (after `where:`).
    pub rows: Option<Arc<Vec<Row>>>,
    sites: Vec<u64>,
    keep_site: u64,
}

#[derive(Debug)]
pub struct Plan {
    pub model: Arc<Model>,
    pub scale: f64,
    pub seed: u64,
    pub vars: Vec<Value>,
    pub tables: Vec<TablePlan>,
    pub refs: Vec<RefIndex>,
}

/// Scales a model is generated at.
pub fn check_scale(scale: f64) -> Result<(), String> {
    if scale.is_finite() && scale > 0.0 && scale <= 10_000.0 {
        Ok(())
    } else {
        Err(format!(
            "scale must be a number above 0 and at most 10000, not {scale}"
        ))
    }
}

/// A guard against a model that asks for more than a machine can hold.
const MAX_ROWS: u64 = 5_000_000_000;
const MAX_IN_MEMORY: u64 = 20_000_000;

fn site(seed: u64, what: &str) -> u64 {
    mix(seed ^ name_hash(what))
}

impl Plan {
    pub fn new(model: Arc<Model>, scale: f64, seed: u64) -> Result<Plan, String> {
        check_scale(scale)?;
        let mut vars = vec![Value::Float(scale)];
        for (name, e) in model.vars.iter().skip(1) {
            let e = e.as_ref().expect("only `scale` has no expression");
            let v = eval(e, &ctx(&vars, &[], &[], 0, 0, site(seed, name), seed, &[]));
            vars.push(v);
        }
        let in_memory = model.needed_in_memory();
        let mut plan = Plan {
            model: model.clone(),
            scale,
            seed,
            vars,
            tables: Vec::new(),
            refs: vec![RefIndex::default(); model.refs.len()],
        };
        for (ti, t) in model.tables.iter().enumerate() {
            let sites = t
                .columns
                .iter()
                .map(|c| site(seed, &format!("{}.{}", t.name, c.name)))
                .collect();
            let keep_site = site(seed, &format!("{}#where", t.name));
            let count_site = site(seed, &format!("{}#rows", t.name));
            let (combos, parent_sizes, offsets) = match &t.rows {
                Rows::Fixed(e) => {
                    let n = eval(e, &ctx(&plan.vars, &[], &[], 0, 0, count_site, seed, &[]));
                    let n = n.as_f64().unwrap_or(0.0).round().max(0.0);
                    (n as u64, Vec::new(), None)
                }
                Rows::Per { parents, count } => {
                    let sizes: Vec<u64> = parents
                        .iter()
                        .map(|&p| plan.tables[p].rows.as_ref().map_or(0, |r| r.len() as u64))
                        .collect();
                    let combos = sizes.iter().product::<u64>();
                    let offsets = match count {
                        None => None,
                        Some(e) => {
                            if combos > MAX_IN_MEMORY {
                                return Err(format!(
                                    "`{}` fans out from {combos} parent combinations; at most {MAX_IN_MEMORY}",
                                    t.name
                                ));
                            }
                            let mut off = Vec::with_capacity(combos as usize + 1);
                            let mut acc = 0u64;
                            off.push(0);
                            for c in 0..combos {
                                let prow = plan.parent_rows(parents, &sizes, c);
                                let n = eval(
                                    e,
                                    &ctx(
                                        &plan.vars,
                                        &[],
                                        &prow,
                                        c,
                                        0,
                                        count_site,
                                        seed,
                                        &plan.refs,
                                    ),
                                );
                                acc += n.as_f64().unwrap_or(0.0).round().max(0.0) as u64;
                                off.push(acc);
                            }
                            Some(off)
                        }
                    };
                    (combos, sizes, offsets)
                }
            };
            let candidates = offsets.as_ref().map_or(combos, |o| *o.last().unwrap_or(&0));
            if candidates > MAX_ROWS {
                return Err(format!(
                    "`{}` would get {candidates} rows at scale {scale}; at most {MAX_ROWS}",
                    t.name
                ));
            }
            plan.tables.push(TablePlan {
                combos,
                parent_sizes,
                offsets,
                candidates,
                rows: None,
                sites,
                keep_site,
            });
            if in_memory[ti] {
                if candidates > MAX_IN_MEMORY {
                    return Err(format!(
                        "`{}` has {candidates} rows at scale {scale}, too many to keep in memory for the \
                         tables that fan out from or refer to it (at most {MAX_IN_MEMORY})",
                        t.name
                    ));
                }
                let mut rows = Vec::new();
                plan.generate(ti, 0..combos, |r| {
                    rows.push(r.to_vec());
                    Ok::<(), String>(())
                })?;
                plan.tables[ti].rows = Some(Arc::new(rows));
                plan.index_refs(ti);
            }
        }
        Ok(plan)
    }

    fn index_refs(&mut self, ti: usize) {
        let Some(rows) = self.tables[ti].rows.clone() else {
            return;
        };
        for (i, r) in self.model.refs.iter().enumerate() {
            if r.table != ti {
                continue;
            }
            let idx = &mut self.refs[i];
            for row in rows.iter() {
                let h = key_hash(r.match_columns.iter().map(|&c| row[c].clone()));
                idx.by_key.entry(h).or_default().push(row[r.column].clone());
            }
        }
    }

    fn parent_rows(&self, parents: &[usize], sizes: &[u64], combo: u64) -> Vec<&[Value]> {
        let mut out = vec![&[][..]; parents.len()];
        let mut c = combo;
        for i in (0..parents.len()).rev() {
            let idx = (c % sizes[i]) as usize;
            c /= sizes[i];
            let rows = self.tables[parents[i]]
                .rows
                .as_ref()
                .expect("parents are in memory");
            out[i] = &rows[idx][..];
        }
        out
    }

    /// Rows of table `ti` a loader will write (exact without `where:`).
    pub fn expected_rows(&self, ti: usize) -> u64 {
        let t = &self.tables[ti];
        t.rows.as_ref().map_or(t.candidates, |r| r.len() as u64)
    }

    /// Splits the table's parent combinations into at most `parts` ranges
    /// holding about the same number of rows.
    pub fn split(&self, ti: usize, parts: usize) -> Vec<Range<u64>> {
        let t = &self.tables[ti];
        let parts = parts.max(1) as u64;
        if t.combos == 0 {
            return std::iter::once(0..0).collect();
        }
        let per = t.candidates.div_ceil(parts).max(1);
        let mut out = Vec::new();
        let mut start = 0;
        let key_at = |c: u64| t.offsets.as_ref().map_or(c, |o| o[c as usize]);
        for p in 1..parts {
            // The first combination starting at or after p × per rows.
            let target = p * per;
            let (mut lo, mut hi) = (start, t.combos);
            while lo < hi {
                let mid = (lo + hi) / 2;
                if key_at(mid) < target {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            if lo > start && lo < t.combos {
                out.push(start..lo);
                start = lo;
            }
        }
        out.push(start..t.combos);
        out
    }

    /// Generates the rows of table `ti` for parent combinations `combos`,
    /// handing each (kept) row to `emit`; returns how many were kept.
    pub fn generate<E>(
        &self,
        ti: usize,
        combos: Range<u64>,
        mut emit: impl FnMut(&[Value]) -> Result<(), E>,
    ) -> Result<u64, E> {
        let t = &self.model.tables[ti];
        let tp = &self.tables[ti];
        let parents = t.parents();
        let mut row: Row = Vec::with_capacity(t.columns.len());
        let mut kept = 0;
        // Parent rows only change when the combination does.
        for c in combos {
            let prow = if parents.is_empty() {
                Vec::new()
            } else {
                self.parent_rows(parents, &tp.parent_sizes, c)
            };
            let keys = match &tp.offsets {
                Some(o) => o[c as usize]..o[c as usize + 1],
                None => c..c + 1,
            };
            let first = keys.start;
            for key in keys {
                let pos = key - first;
                if let Some(w) = &t.keep {
                    let cx = ctx(
                        &self.vars,
                        &[],
                        &prow,
                        key,
                        pos,
                        tp.keep_site,
                        self.seed,
                        &self.refs,
                    );
                    if !eval(w, &cx).truthy() {
                        continue;
                    }
                }
                row.clear();
                for (i, col) in t.columns.iter().enumerate() {
                    let v = eval(
                        &col.expr,
                        &ctx(
                            &self.vars,
                            &row,
                            &prow,
                            key,
                            pos,
                            tp.sites[i],
                            self.seed,
                            &self.refs,
                        ),
                    );
                    row.push(v);
                }
                emit(&row)?;
                kept += 1;
            }
        }
        Ok(kept)
    }
}

#[allow(clippy::too_many_arguments)]
fn ctx<'a>(
    vars: &'a [Value],
    row: &'a [Value],
    parents: &'a [&'a [Value]],
    key: u64,
    pos: u64,
    site: u64,
    seed: u64,
    refs: &'a [RefIndex],
) -> Ctx<'a> {
    Ctx {
        vars,
        row,
        parents,
        key,
        pos,
        site,
        seed,
        refs,
    }
}

/// A whole generated dataset in memory: the loaded tables in load order,
/// with their loaded columns. For small scales (property tests, quick
/// reloads); `assay gen` streams instead.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    pub tables: Vec<DatasetTable>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DatasetTable {
    pub name: String,
    pub columns: Vec<String>,
    pub rows: Vec<Row>,
}

impl Dataset {
    pub fn generate(model: Arc<Model>, scale: f64, seed: u64) -> Result<Dataset, String> {
        let plan = Plan::new(model, scale, seed)?;
        Ok(plan.dataset())
    }
    pub fn rows(&self) -> usize {
        self.tables.iter().map(|t| t.rows.len()).sum()
    }
}

impl Plan {
    pub fn dataset(&self) -> Dataset {
        let mut tables = Vec::new();
        for (ti, t) in self.model.tables.iter().enumerate() {
            if !t.load {
                continue;
            }
            let cols: Vec<usize> = t.loaded_columns().map(|(i, _)| i).collect();
            let mut rows = Vec::new();
            let _ = self.generate(ti, 0..self.tables[ti].combos, |r| {
                rows.push(cols.iter().map(|&i| r[i].clone()).collect());
                Ok::<(), ()>(())
            });
            tables.push(DatasetTable {
                name: t.name.clone(),
                columns: t.loaded_columns().map(|(_, c)| c.name.clone()).collect(),
                rows,
            });
        }
        Dataset { tables }
    }
}

/// Expressions are shared read-only between loading tasks.
pub fn _assert_send_sync() {
    fn is<T: Send + Sync>() {}
    is::<Plan>();
    is::<Expr>();
}

#[cfg(test)]
mod tests {
    use super::*;

    const MODEL: &str = "history: {end: 2025-06-30, days: \"min(round(30 * scale), 365)\"}
tables:
  - name: days
    load: false
    rows: history_days
    columns:
      day: {seq: 0}
      date: {expr: history_start + day}
      busy: {expr: \"poisson(20 * scale * 30 / history_days)\"}
  - name: app.accounts
    rows: max(2, round(10 * scale))
    columns:
      account_id: {seq: 1}
      tier: {choice: [[free, 3], [pro, 1]]}
  - name: app.events
    per: days
    count: days.busy
    columns:
      event_id: {seq: 1}
      at: {expr: days.date}
      tier: {choice: [[free, 1], [pro, 1]]}
      account_id: {ref: {table: app.accounts, column: account_id, match: {tier: tier}}}
      n: {expr: position}
  - name: app.daily
    per: [days, app.accounts]
    where: chance(0.5)
    columns:
      date: {expr: days.date}
      account_id: {expr: accounts.account_id}
";

    fn model() -> Arc<Model> {
        Arc::new(super::super::model::parse(MODEL, std::path::Path::new("m.yaml")).unwrap())
    }

    #[test]
    fn volume_grows_in_history_then_per_day() {
        let one = Plan::new(model(), 1.0, 7).unwrap();
        assert_eq!(one.vars[2], Value::Int(30)); // history_days
        let events = one.model.table("app.events").unwrap();
        let at_one = one.expected_rows(events) as f64;
        assert!((500.0..700.0).contains(&at_one), "{at_one}");
        let big = Plan::new(model(), 100.0, 7).unwrap();
        assert_eq!(big.vars[2], Value::Int(365));
        let ratio = big.expected_rows(events) as f64 / at_one;
        assert!((ratio / 100.0 - 1.0).abs() < 0.05, "{ratio}");
        assert!(check_scale(0.0).is_err() && check_scale(f64::NAN).is_err());
    }

    #[test]
    fn rows_do_not_depend_on_how_the_work_is_split() {
        let plan = Plan::new(model(), 3.0, 11).unwrap();
        for ti in 0..plan.model.tables.len() {
            let all = |parts: usize| {
                let mut rows = Vec::new();
                for r in plan.split(ti, parts) {
                    plan.generate(ti, r, |row| {
                        rows.push(row.to_vec());
                        Ok::<(), ()>(())
                    })
                    .unwrap();
                }
                rows
            };
            let one = all(1);
            assert!(!one.is_empty());
            assert_eq!(one, all(3));
            assert_eq!(one, all(7));
        }
        let other = Plan::new(model(), 3.0, 12).unwrap().dataset();
        assert_ne!(plan.dataset(), other);
        assert_eq!(
            plan.dataset(),
            Plan::new(model(), 3.0, 11).unwrap().dataset()
        );
    }

    #[test]
    fn references_positions_and_filters() {
        let d = Dataset::generate(model(), 1.0, 5).unwrap();
        let names: Vec<&str> = d.tables.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["app.accounts", "app.events", "app.daily"]);
        let tier_of: std::collections::HashMap<i64, Value> = d.tables[0]
            .rows
            .iter()
            .map(|r| match &r[0] {
                Value::Int(id) => (*id, r[1].clone()),
                other => panic!("{other:?}"),
            })
            .collect();
        for e in &d.tables[1].rows {
            // A referenced account has the event's tier (or none exists).
            if let Value::Int(a) = e[3] {
                assert_eq!(tier_of[&a], e[2]);
            }
        }
        // Positions restart at 0 under each parent row.
        let zeros = d.tables[1]
            .rows
            .iter()
            .filter(|r| r[4] == Value::Int(0))
            .count();
        assert!(zeros > 20 && zeros <= 30, "{zeros}");
        let daily = d.tables[2].rows.len() as f64;
        assert!((0.35..0.65).contains(&(daily / (30.0 * 10.0))), "{daily}");
    }
}
