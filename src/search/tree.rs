//! Shrinking a sampled dataset on which two queries differ, as a proptest
//! `ValueTree`: first whole rows go (children before parents, halves before
//! single rows, pass after pass while rows still go), then values become
//! simpler (NULL, zero, the empty text). Every step keeps the rows flat, so
//! a failing dataset shrinks to the few rows that matter. A step whose
//! dataset cannot even be loaded (a NOT NULL column set to NULL, a foreign
//! key left dangling) counts as "no difference" and is undone.

use super::domain::Domains;
use super::sample::{simpler, Sample};
use proptest::strategy::ValueTree;
use std::sync::Arc;

/// Where the search for the next simpler dataset stands.
#[derive(Debug, Clone, PartialEq)]
enum Cursor {
    /// Removing `chunk` rows at `pos` of table `order[t]`.
    Rows {
        t: usize,
        chunk: usize,
        pos: usize,
        /// Whether this pass over the tables removed anything.
        progress: bool,
    },
    /// Trying candidate `cand` for cell (`order[t]`, `row`, `col`).
    Cells {
        t: usize,
        row: usize,
        col: usize,
        cand: usize,
    },
    Done,
}

/// A generated dataset and the way down to a minimal one.
#[derive(Debug, Clone)]
pub struct SampleTree {
    current: Sample,
    /// The last dataset known to show the difference.
    failing: Sample,
    /// Tables in the order rows are removed: children first.
    order: Vec<usize>,
    cursor: Cursor,
    /// A step has been applied and not yet judged.
    pending: bool,
    domains: Arc<Domains>,
}

impl SampleTree {
    pub fn new(sample: Sample, domains: Arc<Domains>) -> SampleTree {
        let order: Vec<usize> = (0..sample.tables.len()).rev().collect();
        SampleTree {
            domains,
            failing: sample.clone(),
            current: sample,
            order,
            cursor: Cursor::Rows {
                t: 0,
                chunk: 0,
                pos: 0,
                progress: false,
            },
            pending: false,
        }
    }

    fn rows_of(&self, t: usize) -> usize {
        self.failing.tables[self.order[t]].len()
    }

    fn cols_of(&self, t: usize) -> usize {
        self.domains.tables[self.order[t]].domains.len()
    }

    /// Moves the cursor past the step just judged: `kept` when the dataset
    /// still showed the difference.
    fn advance(&mut self, kept: bool) {
        self.cursor = match self.cursor.clone() {
            Cursor::Rows {
                t,
                chunk,
                pos,
                progress,
            } => {
                if kept {
                    // The rows after `pos` moved up: try the same place again.
                    Cursor::Rows {
                        t,
                        chunk,
                        pos,
                        progress: true,
                    }
                } else {
                    Cursor::Rows {
                        t,
                        chunk,
                        pos: pos + chunk,
                        progress,
                    }
                }
            }
            Cursor::Cells { t, row, col, cand } => {
                if kept {
                    Cursor::Cells {
                        t,
                        row,
                        col: col + 1,
                        cand: 0,
                    }
                } else {
                    Cursor::Cells {
                        t,
                        row,
                        col,
                        cand: cand + 1,
                    }
                }
            }
            Cursor::Done => Cursor::Done,
        };
    }

    /// Finds the next step from the cursor and applies it to a copy of the
    /// last failing dataset; false when there is none left.
    fn next(&mut self) -> bool {
        loop {
            match self.cursor.clone() {
                Cursor::Rows {
                    t,
                    chunk,
                    pos,
                    progress,
                } => {
                    if t >= self.order.len() {
                        self.cursor = if progress {
                            Cursor::Rows {
                                t: 0,
                                chunk: 0,
                                pos: 0,
                                progress: false,
                            }
                        } else {
                            Cursor::Cells {
                                t: 0,
                                row: 0,
                                col: 0,
                                cand: 0,
                            }
                        };
                        continue;
                    }
                    let len = self.rows_of(t);
                    let chunk = if chunk == 0 { len.div_ceil(2) } else { chunk };
                    if len == 0 || chunk == 0 {
                        self.cursor = Cursor::Rows {
                            t: t + 1,
                            chunk: 0,
                            pos: 0,
                            progress,
                        };
                        continue;
                    }
                    if pos >= len {
                        self.cursor = if chunk > 1 {
                            Cursor::Rows {
                                t,
                                chunk: chunk / 2,
                                pos: 0,
                                progress,
                            }
                        } else {
                            Cursor::Rows {
                                t: t + 1,
                                chunk: 0,
                                pos: 0,
                                progress,
                            }
                        };
                        continue;
                    }
                    self.cursor = Cursor::Rows {
                        t,
                        chunk,
                        pos,
                        progress,
                    };
                    let mut d = self.failing.clone();
                    d.remove_rows(self.order[t], pos..(pos + chunk).min(len), &self.domains);
                    self.current = d;
                    return true;
                }
                Cursor::Cells { t, row, col, cand } => {
                    if t >= self.order.len() {
                        self.cursor = Cursor::Done;
                        continue;
                    }
                    if row >= self.rows_of(t) {
                        self.cursor = Cursor::Cells {
                            t: t + 1,
                            row: 0,
                            col: 0,
                            cand: 0,
                        };
                        continue;
                    }
                    if col >= self.cols_of(t) {
                        self.cursor = Cursor::Cells {
                            t,
                            row: row + 1,
                            col: 0,
                            cand: 0,
                        };
                        continue;
                    }
                    let tt = self.order[t];
                    let options = simpler(
                        &self.failing.tables[tt][row][col],
                        &self.domains.tables[tt].domains[col],
                    );
                    if cand >= options.len() {
                        self.cursor = Cursor::Cells {
                            t,
                            row,
                            col: col + 1,
                            cand: 0,
                        };
                        continue;
                    }
                    let mut d = self.failing.clone();
                    d.tables[tt][row][col] = options[cand].clone();
                    self.current = d;
                    return true;
                }
                Cursor::Done => return false,
            }
        }
    }
}

impl ValueTree for SampleTree {
    type Value = Sample;

    fn current(&self) -> Sample {
        self.current.clone()
    }

    /// The current dataset shows the difference: keep it, try a smaller one.
    fn simplify(&mut self) -> bool {
        if self.pending {
            self.advance(true);
        }
        self.failing = self.current.clone();
        self.pending = self.next();
        if !self.pending {
            self.current = self.failing.clone();
        }
        self.pending
    }

    /// The current dataset lost the difference: back to the last one that
    /// showed it, and on to the next step.
    fn complicate(&mut self) -> bool {
        self.current = self.failing.clone();
        if self.pending {
            self.advance(false);
        }
        self.pending = self.next();
        if !self.pending {
            self.current = self.failing.clone();
        }
        self.pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gen::value::Value;
    use crate::search::domain::{Domain, TableDomain};
    use crate::search::sample::Cell;

    fn int(i: i64) -> Cell {
        Cell::Value(Value::Int(i))
    }

    fn domains() -> Arc<Domains> {
        let values = Domain::Values {
            pool: Vec::new(),
            boundary: Vec::new(),
            nullable: true,
        };
        Arc::new(Domains {
            tables: vec![
                TableDomain {
                    name: "parent".into(),
                    columns: vec!["id".into()],
                    domains: vec![Domain::Serial { start: 1, step: 1 }],
                },
                TableDomain {
                    name: "child".into(),
                    columns: vec!["parent".into(), "amount".into()],
                    domains: vec![
                        Domain::Link {
                            table: 0,
                            column: 0,
                            nullable: false,
                        },
                        values,
                    ],
                },
            ],
            max_rows: 100,
        })
    }

    /// Shrinks with proptest's own protocol: `fails` says whether a sample
    /// still shows the difference.
    fn shrink(s: Sample, fails: impl Fn(&Sample) -> bool) -> (Sample, usize) {
        let mut tree = SampleTree::new(s, domains());
        let mut tests = 0;
        if tree.simplify() {
            loop {
                tests += 1;
                if fails(&tree.current()) {
                    if !tree.simplify() {
                        break;
                    }
                } else if !tree.complicate() {
                    break;
                }
            }
        }
        (tree.current(), tests)
    }

    fn sample() -> Sample {
        Sample {
            tables: vec![
                (0..20).map(|_| vec![Cell::Serial]).collect(),
                (0..100)
                    .map(|i| vec![Cell::Link(i % 20), int(i as i64 * 7 % 150)])
                    .collect(),
            ],
        }
    }

    #[test]
    fn shrinks_to_the_one_row_that_matters() {
        // "Differs" when a child has amount exactly 98.
        let fails = |s: &Sample| s.tables[1].iter().any(|r| r[1] == int(98));
        assert!(fails(&sample()));
        let (min, tests) = shrink(sample(), fails);
        assert_eq!(min.tables[0].len(), 0, "no parent is needed");
        assert_eq!(min.tables[1].len(), 1);
        assert_eq!(
            min.tables[1][0],
            vec![Cell::Link(0), int(98)],
            "the link simplified"
        );
        assert!(tests < 300, "{tests} tests");
    }

    #[test]
    fn keeps_a_parent_without_children_when_that_is_the_difference() {
        // "Differs" when some parent has no child (a LEFT vs INNER join).
        let d = domains();
        let fails = |s: &Sample| {
            let ds = s.realize(&d);
            ds.tables[0]
                .rows
                .iter()
                .any(|p| !ds.tables[1].rows.iter().any(|c| c[0] == p[0]))
        };
        let mut s = sample();
        s.tables[1].retain(|r| r[0] != Cell::Link(7));
        assert!(fails(&s));
        let (min, _) = shrink(s, fails);
        assert_eq!(min.tables[1].len(), 0);
        assert_eq!(min.tables[0].len(), 1);
    }
}
