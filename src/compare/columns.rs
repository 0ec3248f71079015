//! Aligning the columns of two outputs: matched by name, then a base-only
//! and a current-only column in the same position with the same type are
//! taken for a rename.

use super::model::{ColumnDiff, ColumnRef, Renamed, TypeChange};
use crate::output::Column;

/// Which base column each compared column comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alignment {
    /// (base index, current index) of every column both sides have, in the
    /// current side's order.
    pub pairs: Vec<(usize, usize)>,
    pub diff: ColumnDiff,
}

fn col(c: &Column) -> ColumnRef {
    ColumnRef {
        name: c.name.clone(),
        ty: c.ty.clone(),
    }
}

/// Aligns `base` with `current`.
pub fn align(base: &[Column], current: &[Column]) -> Alignment {
    let mut diff = ColumnDiff::default();
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    let mut base_used = vec![false; base.len()];
    let mut current_used = vec![false; current.len()];
    for (ci, c) in current.iter().enumerate() {
        if let Some(bi) = base
            .iter()
            .enumerate()
            .position(|(bi, b)| !base_used[bi] && b.name == c.name)
        {
            base_used[bi] = true;
            current_used[ci] = true;
            pairs.push((bi, ci));
            if base[bi].ty != c.ty {
                diff.type_changed.push(TypeChange {
                    column: c.name.clone(),
                    from: base[bi].ty.clone(),
                    to: c.ty.clone(),
                });
            }
        }
    }
    // A rename keeps the position and the type.
    for (ci, c) in current.iter().enumerate() {
        if current_used[ci] {
            continue;
        }
        if let Some(b) = base.get(ci) {
            if !base_used[ci] && b.ty == c.ty {
                base_used[ci] = true;
                current_used[ci] = true;
                pairs.push((ci, ci));
                diff.renamed.push(Renamed {
                    from: b.name.clone(),
                    to: c.name.clone(),
                });
            }
        }
    }
    pairs.sort_by_key(|&(_, ci)| ci);
    diff.added = current
        .iter()
        .enumerate()
        .filter(|(i, _)| !current_used[*i])
        .map(|(_, c)| col(c))
        .collect();
    diff.removed = base
        .iter()
        .enumerate()
        .filter(|(i, _)| !base_used[*i])
        .map(|(_, c)| col(c))
        .collect();
    let in_order = pairs.windows(2).all(|w| w[0].0 < w[1].0);
    if !in_order && diff.added.is_empty() && diff.removed.is_empty() {
        diff.reordered = Some(current.iter().map(|c| c.name.clone()).collect());
    }
    Alignment { pairs, diff }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols(spec: &[(&str, &str)]) -> Vec<Column> {
        spec.iter()
            .map(|(n, t)| Column {
                name: n.to_string(),
                ty: t.to_string(),
            })
            .collect()
    }

    #[test]
    fn same_columns_align_one_to_one() {
        let c = cols(&[("a", "int8"), ("b", "text")]);
        let a = align(&c, &c);
        assert_eq!(a.pairs, vec![(0, 0), (1, 1)]);
        assert!(a.diff.is_empty());
    }

    #[test]
    fn added_removed_renamed_retyped_reordered() {
        let base = cols(&[("a", "int8"), ("b", "text"), ("c", "numeric")]);
        let cur = cols(&[("a", "numeric"), ("bee", "text"), ("d", "date")]);
        let a = align(&base, &cur);
        assert_eq!(a.diff.type_changed[0].column, "a");
        assert_eq!(
            a.diff.renamed,
            vec![Renamed {
                from: "b".into(),
                to: "bee".into()
            }]
        );
        assert_eq!(a.diff.added[0].name, "d");
        assert_eq!(a.diff.removed[0].name, "c");
        assert_eq!(a.pairs, vec![(0, 0), (1, 1)]);

        let swapped = cols(&[("b", "text"), ("a", "int8")]);
        let a = align(&cols(&[("a", "int8"), ("b", "text")]), &swapped);
        assert_eq!(a.diff.reordered, Some(vec!["b".into(), "a".into()]));
        assert_eq!(a.pairs, vec![(1, 0), (0, 1)]);
    }
}
