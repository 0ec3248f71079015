//! A searched dataset before it is realised (pure): flat rows of cells per
//! loaded table, a child's link to its parent held as an index into the
//! parent's rows, so that any row of any table can go without the others
//! breaking. Drawn from [`Domains`] by a seeded RNG; realised into the
//! [`Dataset`] the loader writes.

use super::domain::{Domain, Domains};
use crate::gen::plan::{Dataset, DatasetTable};
use crate::gen::value::Value;
use proptest::prelude::Rng;
use std::sync::Arc;

/// One cell of a sampled row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// A value as it is written.
    Value(Value),
    /// The linked column of this row (modulo the rows there) of the table
    /// the column links to; NULL when that table has no rows.
    Link(usize),
    /// Decided by the row's position (a serial key).
    Serial,
}

/// Rows of cells per loaded table, in load order.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub tables: Vec<Vec<Vec<Cell>>>,
}

impl Sample {
    pub fn rows(&self) -> usize {
        self.tables.iter().map(Vec::len).sum()
    }

    /// Removes rows `range` of table `t`, every link into `t` kept on the
    /// row it pointed at (a link to a removed row moves to another).
    pub fn remove_rows(&mut self, t: usize, range: std::ops::Range<usize>, d: &Domains) {
        let before = self.tables[t].len();
        let range = range.start.min(before)..range.end.min(before);
        if range.is_empty() {
            return;
        }
        for (ct, td) in d.tables.iter().enumerate() {
            for (ci, dom) in td.domains.iter().enumerate() {
                if !matches!(dom, Domain::Link { table, .. } if *table == t) {
                    continue;
                }
                for row in &mut self.tables[ct] {
                    if let Cell::Link(i) = &mut row[ci] {
                        let j = *i % before;
                        *i = if j >= range.end { j - range.len() } else { j };
                    }
                }
            }
        }
        self.tables[t].drain(range);
    }

    /// The dataset the loader writes: serial keys numbered by position,
    /// links resolved to the (realised) rows they point at.
    pub fn realize(&self, d: &Domains) -> Dataset {
        let mut out: Vec<DatasetTable> = Vec::with_capacity(d.tables.len());
        for (ti, td) in d.tables.iter().enumerate() {
            let mut rows = Vec::with_capacity(self.tables[ti].len());
            for (ri, row) in self.tables[ti].iter().enumerate() {
                let realised = row
                    .iter()
                    .zip(&td.domains)
                    .map(|(cell, dom)| match (cell, dom) {
                        (Cell::Value(v), _) => v.clone(),
                        (Cell::Serial, Domain::Serial { start, step }) => {
                            Value::Int(start + step * ri as i64)
                        }
                        (Cell::Link(i), Domain::Link { table, column, .. }) => {
                            let parent = &out[*table].rows;
                            if parent.is_empty() {
                                Value::Null
                            } else {
                                parent[i % parent.len()][*column].clone()
                            }
                        }
                        _ => Value::Null,
                    })
                    .collect();
                rows.push(realised);
            }
            out.push(DatasetTable {
                name: td.name.clone(),
                columns: td.columns.clone(),
                rows,
            });
        }
        Dataset { tables: out }
    }
}

/// A number in `0..n` (n > 0).
fn below(rng: &mut dyn Rng, n: usize) -> usize {
    (rng.next_u64() % n as u64) as usize
}

fn chance(rng: &mut dyn Rng, p: f64) -> bool {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
}

/// Share of values drawn from the query's boundaries (else at volume).
const BOUNDARY: f64 = 0.4;
/// Share of NULLs in a column that takes them.
const NULLS: f64 = 0.1;

fn draw_cell(rng: &mut dyn Rng, dom: &Domain, max_rows: usize) -> Cell {
    match dom {
        Domain::Serial { .. } => Cell::Serial,
        Domain::Link { nullable, .. } => {
            if *nullable && chance(rng, NULLS) {
                Cell::Value(Value::Null)
            } else {
                Cell::Link(below(rng, max_rows))
            }
        }
        Domain::Values {
            pool,
            boundary,
            nullable,
        } => {
            if *nullable && chance(rng, NULLS) {
                return Cell::Value(Value::Null);
            }
            let from = if boundary.is_empty() || (!pool.is_empty() && !chance(rng, BOUNDARY)) {
                pool
            } else {
                boundary
            };
            if from.is_empty() {
                Cell::Value(Value::Null)
            } else {
                Cell::Value(from[below(rng, from.len())].clone())
            }
        }
    }
}

/// A dataset drawn from `d`: each table gets 0..=max_rows rows (fewer more
/// often: the size itself is drawn from a drawn bound), each cell its domain.
pub fn draw(rng: &mut dyn Rng, d: &Domains) -> Sample {
    let tables = d
        .tables
        .iter()
        .map(|t| {
            let bound = 1 + below(rng, d.max_rows);
            let n = below(rng, bound + 1);
            (0..n)
                .map(|_| {
                    t.domains
                        .iter()
                        .map(|dom| draw_cell(rng, dom, d.max_rows))
                        .collect()
                })
                .collect()
        })
        .collect();
    Sample { tables }
}

/// Simpler cells to try in place of `c`, simplest first: NULL where the
/// column takes it, then zero, the empty text, false, the first parent row.
pub fn simpler(c: &Cell, dom: &Domain) -> Vec<Cell> {
    let mut out = Vec::new();
    let null = Cell::Value(Value::Null);
    if dom.nullable() && *c != null {
        out.push(null);
    }
    let plain = match c {
        Cell::Value(Value::Int(i)) if *i != 0 => Some(Value::Int(0)),
        Cell::Value(Value::Float(f)) if *f != 0.0 => Some(Value::Float(0.0)),
        Cell::Value(Value::Text(t)) if !t.is_empty() => Some(Value::text("")),
        Cell::Value(Value::Bool(true)) => Some(Value::Bool(false)),
        Cell::Link(i) if *i != 0 => {
            out.push(Cell::Link(0));
            None
        }
        _ => None,
    };
    out.extend(plain.map(Cell::Value));
    out
}

/// The proptest strategy: samples of `domains`, shrunk by [`super::tree`].
#[derive(Debug, Clone)]
pub struct Datasets(pub Arc<Domains>);

impl proptest::strategy::Strategy for Datasets {
    type Tree = super::tree::SampleTree;
    type Value = Sample;

    fn new_tree(
        &self,
        runner: &mut proptest::test_runner::TestRunner,
    ) -> proptest::strategy::NewTree<Self> {
        let sample = draw(runner.rng(), &self.0);
        Ok(super::tree::SampleTree::new(sample, self.0.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::domain::TableDomain;

    #[test]
    fn removing_parents_keeps_children_on_the_parents_they_had() {
        let d = Domains {
            tables: vec![
                TableDomain {
                    name: "p".into(),
                    columns: vec!["id".into()],
                    domains: vec![Domain::Serial { start: 1, step: 1 }],
                },
                TableDomain {
                    name: "c".into(),
                    columns: vec!["parent".into()],
                    domains: vec![Domain::Link {
                        table: 0,
                        column: 0,
                        nullable: false,
                    }],
                },
            ],
            max_rows: 10,
        };
        let mut s = Sample {
            tables: vec![
                vec![vec![Cell::Serial]; 5],
                vec![
                    vec![Cell::Link(4)],
                    vec![Cell::Link(8)],
                    vec![Cell::Link(1)],
                ],
            ],
        };
        let parent_of = |s: &Sample, d: &Domains| {
            let r = s.realize(d);
            r.tables[1]
                .rows
                .iter()
                .map(|row| row[0].clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            parent_of(&s, &d),
            vec![Value::Int(5), Value::Int(4), Value::Int(2)]
        );
        // Parents 2 and 3 (indexes 1..3) go: 5 and 4 keep their children,
        // renumbered 3 and 2 (keys are by position).
        s.remove_rows(0, 1..3, &d);
        assert_eq!(s.tables[0].len(), 3);
        assert_eq!(s.tables[1][0], vec![Cell::Link(2)]);
        assert_eq!(s.tables[1][1], vec![Cell::Link(1)]);
    }
}
