//! What a comparison of two outputs says: plain data, serialisable, shown by
//! every reporter of every command that compares (reconcile, diff, probe,
//! mutate).

use serde::{Deserialize, Serialize};

/// How two outputs are compared.
#[derive(Debug, Clone, PartialEq)]
pub struct CompareOptions {
    /// Numbers within this absolute distance are equal.
    pub tolerance: f64,
    /// Key columns (names on the current side): rows with the same key are
    /// the same row, identical or modified. None: rows are a multiset.
    pub key: Option<Vec<String>>,
    /// The current side declares its order: row order is compared too.
    pub ordered: bool,
    /// Columns of the current side's ORDER BY, when known: rows tied on them
    /// may come in any order without it being a difference.
    pub order_keys: Option<Vec<String>>,
    /// Sample rows kept per class (added, removed, modified).
    pub samples: usize,
}

impl Default for CompareOptions {
    fn default() -> Self {
        CompareOptions {
            tolerance: 1e-6,
            key: None,
            ordered: false,
            order_keys: None,
            samples: 5,
        }
    }
}

/// A column on one side: name and Postgres type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnRef {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: String,
}

/// How the column lists differ. Renamed columns keep their position and type
/// (and are compared as the same column); a type change keeps the name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnDiff {
    pub added: Vec<ColumnRef>,
    pub removed: Vec<ColumnRef>,
    pub renamed: Vec<Renamed>,
    pub type_changed: Vec<TypeChange>,
    /// Same columns in another order (the names in the current order).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reordered: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Renamed {
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeChange {
    pub column: String,
    pub from: String,
    pub to: String,
}

impl ColumnDiff {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.removed.is_empty()
            && self.renamed.is_empty()
            && self.type_changed.is_empty()
            && self.reordered.is_none()
    }
}

/// A count and the first few rows of one class, each rendered `col=value ...`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowSample {
    pub count: usize,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub samples: Vec<String>,
}

impl RowSample {
    pub(crate) fn push(&mut self, limit: usize, render: impl FnOnce() -> String) {
        self.count += 1;
        if self.samples.len() < limit {
            self.samples.push(render());
        }
    }
}

/// One modified row: its key and what changed, `column: old -> new`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModifiedRow {
    pub key: String,
    pub changes: Vec<String>,
}

/// How the rows differ, on the columns both sides have.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum RowDiff {
    /// Rows matched by key columns.
    Key {
        key: Vec<String>,
        identical: usize,
        modified: usize,
        modified_samples: Vec<ModifiedRow>,
        /// Keys only the current side has.
        added: RowSample,
        /// Keys only the base side has.
        removed: RowSample,
        /// Rows whose key is not unique on a side: compared as a multiset.
        #[serde(default, skip_serializing_if = "is_zero")]
        duplicate_keys: usize,
    },
    /// Rows as a multiset (no key).
    Multiset {
        matched: usize,
        /// Rows only the current side returns.
        extra: RowSample,
        /// Rows only the base side returns.
        missing: RowSample,
    },
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl RowDiff {
    pub fn is_same(&self) -> bool {
        match self {
            RowDiff::Key {
                modified,
                added,
                removed,
                ..
            } => *modified == 0 && added.count == 0 && removed.count == 0,
            RowDiff::Multiset { extra, missing, .. } => extra.count == 0 && missing.count == 0,
        }
    }
}

/// Same rows, another order: where the order first differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderDiff {
    /// 1-based position of the first row that differs.
    pub first_position: usize,
    pub base: String,
    pub current: String,
    /// Ties under the ORDER BY were allowed (its columns were known).
    pub ties_allowed: bool,
}

/// The verdict of one comparison, worst first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sameness {
    /// Same columns, same rows (and same order when ordered).
    Same,
    /// Same rows in a different order.
    OrderOnly,
    /// Different columns or rows.
    Different,
}

/// Everything one comparison found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comparison {
    pub verdict: Sameness,
    pub base_rows: usize,
    pub current_rows: usize,
    pub columns: ColumnDiff,
    pub rows: RowDiff,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<OrderDiff>,
}

impl Comparison {
    pub fn is_same(&self) -> bool {
        self.verdict == Sameness::Same
    }

    /// One line: what differs, in counts.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        let c = &self.columns;
        if !c.added.is_empty() {
            parts.push(format!("columns added: {}", names(&c.added)));
        }
        if !c.removed.is_empty() {
            parts.push(format!("columns removed: {}", names(&c.removed)));
        }
        for r in &c.renamed {
            parts.push(format!("column renamed: {} -> {}", r.from, r.to));
        }
        for t in &c.type_changed {
            parts.push(format!("type of {}: {} -> {}", t.column, t.from, t.to));
        }
        if c.reordered.is_some() {
            parts.push("columns reordered".into());
        }
        match &self.rows {
            RowDiff::Key {
                identical,
                modified,
                added,
                removed,
                ..
            } => {
                if *modified + added.count + removed.count > 0 {
                    parts.push(format!(
                        "rows: {identical} identical, {modified} modified, {} added, {} removed",
                        added.count, removed.count
                    ));
                }
            }
            RowDiff::Multiset {
                matched,
                extra,
                missing,
            } => {
                if extra.count + missing.count > 0 {
                    parts.push(format!(
                        "rows: {matched} matched, {} only in current, {} only in base",
                        extra.count, missing.count
                    ));
                }
            }
        }
        if let Some(o) = &self.order {
            parts.push(format!(
                "same rows in another order from row {}",
                o.first_position
            ));
        }
        if parts.is_empty() {
            format!("same: {} rows", self.current_rows)
        } else {
            parts.join("; ")
        }
    }

    /// Indented detail lines: samples of every class.
    pub fn details(&self) -> Vec<String> {
        let mut d = Vec::new();
        match &self.rows {
            RowDiff::Key {
                modified_samples,
                added,
                removed,
                ..
            } => {
                for m in modified_samples {
                    d.push(format!("~ {}: {}", m.key, m.changes.join(", ")));
                }
                d.extend(added.samples.iter().map(|s| format!("+ {s}")));
                d.extend(removed.samples.iter().map(|s| format!("- {s}")));
            }
            RowDiff::Multiset { extra, missing, .. } => {
                d.extend(extra.samples.iter().map(|s| format!("+ {s}")));
                d.extend(missing.samples.iter().map(|s| format!("- {s}")));
            }
        }
        if let Some(o) = &self.order {
            d.push(format!("row {} base:    {}", o.first_position, o.base));
            d.push(format!("row {} current: {}", o.first_position, o.current));
        }
        d
    }
}

fn names(cols: &[ColumnRef]) -> String {
    cols.iter()
        .map(|c| c.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
