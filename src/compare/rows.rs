//! Two outputs compared: columns aligned, rows matched by key or as a
//! multiset (numbers within a tolerance, NULL equal to NULL), then row order
//! when the current side declares one. Pure.

use super::columns::{align, Alignment};
use super::model::*;
use crate::output::{cells_match, Cell, QueryOutput};
use std::collections::BTreeMap;

/// Rows whose tolerant pairing is skipped beyond this many candidate pairs
/// (exact matches are still found; near-equal numbers then count as different).
const MAX_TOLERANT_PAIRS: usize = 4_000_000;

/// Compares `current` with `base`.
pub fn compare(base: &QueryOutput, current: &QueryOutput, opts: &CompareOptions) -> Comparison {
    let alignment = align(&base.columns, &current.columns);
    let names: Vec<String> = alignment
        .pairs
        .iter()
        .map(|&(_, ci)| current.columns[ci].name.clone())
        .collect();
    let b = project(base, &alignment, true);
    let c = project(current, &alignment, false);
    let key_idx: Option<Vec<usize>> = opts.key.as_ref().and_then(|k| {
        k.iter()
            .map(|name| names.iter().position(|n| n == name))
            .collect()
    });
    let rows = match key_idx {
        Some(idx) if !idx.is_empty() => keyed(&b, &c, &names, &idx, opts),
        _ => multiset(&b, &c, &names, opts),
    };
    let order = if opts.ordered && rows.is_same() {
        order_diff(&b, &c, &names, opts)
    } else {
        None
    };
    let verdict = if !alignment.diff.is_empty() || !rows.is_same() {
        Sameness::Different
    } else if order.is_some() {
        Sameness::OrderOnly
    } else {
        Sameness::Same
    };
    Comparison {
        verdict,
        base_rows: base.rows.len(),
        current_rows: current.rows.len(),
        columns: alignment.diff,
        rows,
        order,
    }
}

/// The rows of one side restricted to the aligned columns, in the current order.
fn project(o: &QueryOutput, a: &Alignment, base: bool) -> Vec<Vec<Cell>> {
    o.rows
        .iter()
        .map(|r| {
            a.pairs
                .iter()
                .map(|&(bi, ci)| r[if base { bi } else { ci }].clone())
                .collect()
        })
        .collect()
}

/// `col=value col=value`.
pub fn render_row(names: &[String], row: &[Cell]) -> String {
    names
        .iter()
        .zip(row)
        .map(|(n, v)| format!("{n}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn canonical(row: &[Cell]) -> String {
    row.iter()
        .map(Cell::canonical)
        .collect::<Vec<_>>()
        .join("\u{1f}")
}

fn rows_match(a: &[Cell], b: &[Cell], tolerance: f64) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| cells_match(x, y, tolerance))
}

/// Pairs rows of `base` and `current` (indices into them): exact matches
/// first, then rows equal within the tolerance. Returns the unmatched
/// indices of each side.
fn pair_up(
    base: &[&Vec<Cell>],
    current: &[&Vec<Cell>],
    tolerance: f64,
) -> (usize, Vec<usize>, Vec<usize>) {
    let mut by_key: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, r) in base.iter().enumerate() {
        by_key.entry(canonical(r)).or_default().push(i);
    }
    let mut matched = 0;
    let mut current_left = Vec::new();
    for (i, r) in current.iter().enumerate() {
        match by_key.get_mut(&canonical(r)).and_then(|v| v.pop()) {
            Some(_) => matched += 1,
            None => current_left.push(i),
        }
    }
    let mut base_left: Vec<usize> = by_key.into_values().flatten().collect();
    base_left.sort_unstable();
    if tolerance > 0.0
        && !base_left.is_empty()
        && !current_left.is_empty()
        && base_left.len().saturating_mul(current_left.len()) <= MAX_TOLERANT_PAIRS
    {
        let mut still = Vec::new();
        for ci in current_left {
            match base_left
                .iter()
                .position(|&bi| rows_match(base[bi], current[ci], tolerance))
            {
                Some(p) => {
                    base_left.remove(p);
                    matched += 1;
                }
                None => still.push(ci),
            }
        }
        current_left = still;
    }
    (matched, base_left, current_left)
}

fn multiset(
    base: &[Vec<Cell>],
    current: &[Vec<Cell>],
    names: &[String],
    opts: &CompareOptions,
) -> RowDiff {
    let b: Vec<&Vec<Cell>> = base.iter().collect();
    let c: Vec<&Vec<Cell>> = current.iter().collect();
    let (matched, base_left, current_left) = pair_up(&b, &c, opts.tolerance);
    let mut extra = RowSample::default();
    for i in current_left {
        extra.push(opts.samples, || render_row(names, &current[i]));
    }
    let mut missing = RowSample::default();
    for i in base_left {
        missing.push(opts.samples, || render_row(names, &base[i]));
    }
    RowDiff::Multiset {
        matched,
        extra,
        missing,
    }
}

fn keyed(
    base: &[Vec<Cell>],
    current: &[Vec<Cell>],
    names: &[String],
    key: &[usize],
    opts: &CompareOptions,
) -> RowDiff {
    let key_of = |r: &[Cell]| -> String {
        key.iter()
            .map(|&i| r[i].canonical())
            .collect::<Vec<_>>()
            .join("\u{1f}")
    };
    let render_key = |r: &[Cell]| -> String {
        key.iter()
            .map(|&i| format!("{}={}", names[i], r[i]))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut groups: BTreeMap<String, (Vec<usize>, Vec<usize>)> = BTreeMap::new();
    for (i, r) in base.iter().enumerate() {
        groups.entry(key_of(r)).or_default().0.push(i);
    }
    for (i, r) in current.iter().enumerate() {
        groups.entry(key_of(r)).or_default().1.push(i);
    }
    let mut identical = 0;
    let mut modified = 0;
    let mut modified_samples = Vec::new();
    let mut added = RowSample::default();
    let mut removed = RowSample::default();
    let mut duplicate_keys = 0;
    // Keys in the order the current side returns them, then base-only keys.
    let mut order: Vec<&String> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for r in current.iter().chain(base) {
        let k = key_of(r);
        if seen.insert(k.clone()) {
            order.push(groups.get_key_value(&k).map(|(k, _)| k).expect("grouped"));
        }
    }
    for k in order {
        let (bs, cs) = &groups[k];
        match (bs.as_slice(), cs.as_slice()) {
            ([], cs) => {
                for &ci in cs {
                    added.push(opts.samples, || render_row(names, &current[ci]));
                }
            }
            (bs, []) => {
                for &bi in bs {
                    removed.push(opts.samples, || render_row(names, &base[bi]));
                }
            }
            ([bi], [ci]) => {
                let (b, c) = (&base[*bi], &current[*ci]);
                let changes: Vec<String> = (0..names.len())
                    .filter(|&i| !cells_match(&b[i], &c[i], opts.tolerance))
                    .map(|i| format!("{}: {} -> {}", names[i], b[i], c[i]))
                    .collect();
                if changes.is_empty() {
                    identical += 1;
                } else {
                    modified += 1;
                    if modified_samples.len() < opts.samples {
                        modified_samples.push(ModifiedRow {
                            key: render_key(c),
                            changes,
                        });
                    }
                }
            }
            (bs, cs) => {
                // The key is not unique here: the rows are a multiset.
                duplicate_keys += 1;
                let b: Vec<&Vec<Cell>> = bs.iter().map(|&i| &base[i]).collect();
                let c: Vec<&Vec<Cell>> = cs.iter().map(|&i| &current[i]).collect();
                let (matched, base_left, current_left) = pair_up(&b, &c, opts.tolerance);
                identical += matched;
                for i in current_left {
                    added.push(opts.samples, || render_row(names, c[i]));
                }
                for i in base_left {
                    removed.push(opts.samples, || render_row(names, b[i]));
                }
            }
        }
    }
    RowDiff::Key {
        key: key.iter().map(|&i| names[i].clone()).collect(),
        identical,
        modified,
        modified_samples,
        added,
        removed,
        duplicate_keys,
    }
}

/// Where the order first differs (rows are already known to be the same
/// multiset). With the ORDER BY's columns known, rows tied on them may
/// come in any order.
fn order_diff(
    base: &[Vec<Cell>],
    current: &[Vec<Cell>],
    names: &[String],
    opts: &CompareOptions,
) -> Option<OrderDiff> {
    let keys: Option<Vec<usize>> = opts.order_keys.as_ref().and_then(|k| {
        k.iter()
            .map(|name| names.iter().position(|n| n == name))
            .collect()
    });
    let first_difference = |from: usize, to: usize| -> Option<usize> {
        (from..to).find(|&i| !rows_match(&base[i], &current[i], opts.tolerance))
    };
    let position = match &keys {
        None => first_difference(0, current.len()),
        Some(k) => {
            let tie_key = |r: &[Cell]| -> String {
                k.iter()
                    .map(|&i| r[i].canonical())
                    .collect::<Vec<_>>()
                    .join("\u{1f}")
            };
            let mut start = 0;
            let mut found = None;
            while start < current.len() {
                let key = tie_key(&current[start]);
                let mut end = start + 1;
                while end < current.len() && tie_key(&current[end]) == key {
                    end += 1;
                }
                let b: Vec<&Vec<Cell>> = base[start..end].iter().collect();
                let c: Vec<&Vec<Cell>> = current[start..end].iter().collect();
                let (_, bl, cl) = pair_up(&b, &c, opts.tolerance);
                if !bl.is_empty() || !cl.is_empty() {
                    found = first_difference(start, end).or(Some(start));
                    break;
                }
                start = end;
            }
            found
        }
    }?;
    Some(OrderDiff {
        first_position: position + 1,
        base: render_row(names, &base[position]),
        current: render_row(names, &current[position]),
        ties_allowed: keys.is_some(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::Column;

    fn out(cols: &[&str], rows: &[&[i64]]) -> QueryOutput {
        QueryOutput {
            columns: cols
                .iter()
                .map(|c| Column {
                    name: c.to_string(),
                    ty: "int8".into(),
                })
                .collect(),
            rows: rows
                .iter()
                .map(|r| r.iter().map(|v| Cell::Int(*v)).collect())
                .collect(),
        }
    }

    #[test]
    fn identical_outputs_are_the_same_in_any_order_unless_ordered() {
        let a = out(&["k", "v"], &[&[1, 10], &[2, 20]]);
        let b = out(&["k", "v"], &[&[2, 20], &[1, 10]]);
        let c = compare(&a, &b, &CompareOptions::default());
        assert!(c.is_same(), "{}", c.summary());
        let ordered = CompareOptions {
            ordered: true,
            ..Default::default()
        };
        let c = compare(&a, &b, &ordered);
        assert_eq!(c.verdict, Sameness::OrderOnly);
        assert_eq!(c.order.as_ref().unwrap().first_position, 1);
    }

    #[test]
    fn ties_under_the_order_by_are_not_a_difference() {
        let a = out(&["k", "v"], &[&[1, 10], &[1, 20], &[2, 5]]);
        let b = out(&["k", "v"], &[&[1, 20], &[1, 10], &[2, 5]]);
        let opts = CompareOptions {
            ordered: true,
            order_keys: Some(vec!["k".into()]),
            ..Default::default()
        };
        assert!(compare(&a, &b, &opts).is_same());
        let c = out(&["k", "v"], &[&[2, 5], &[1, 20], &[1, 10]]);
        let cmp = compare(&a, &c, &opts);
        assert_eq!(cmp.verdict, Sameness::OrderOnly);
        assert_eq!(cmp.order.unwrap().first_position, 1);
    }

    #[test]
    fn multiset_counts_extra_and_missing_rows() {
        let a = out(&["v"], &[&[1], &[1], &[2]]);
        let b = out(&["v"], &[&[1], &[2], &[3]]);
        let c = compare(&a, &b, &CompareOptions::default());
        assert_eq!(c.verdict, Sameness::Different);
        match c.rows {
            RowDiff::Multiset {
                matched,
                extra,
                missing,
            } => {
                assert_eq!(matched, 2);
                assert_eq!(extra.count, 1);
                assert_eq!(extra.samples, vec!["v=3"]);
                assert_eq!(missing.samples, vec!["v=1"]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn key_classifies_identical_modified_added_removed() {
        let a = out(&["k", "v"], &[&[1, 10], &[2, 20], &[3, 30]]);
        let b = out(&["k", "v"], &[&[1, 10], &[2, 21], &[4, 40]]);
        let opts = CompareOptions {
            key: Some(vec!["k".into()]),
            ..Default::default()
        };
        let c = compare(&a, &b, &opts);
        match &c.rows {
            RowDiff::Key {
                identical,
                modified,
                modified_samples,
                added,
                removed,
                ..
            } => {
                assert_eq!((*identical, *modified), (1, 1));
                assert_eq!(modified_samples[0].key, "k=2");
                assert_eq!(modified_samples[0].changes, vec!["v: 20 -> 21"]);
                assert_eq!(added.samples, vec!["k=4 v=40"]);
                assert_eq!(removed.samples, vec!["k=3 v=30"]);
            }
            other => panic!("{other:?}"),
        }
        assert!(c.summary().contains("1 modified"), "{}", c.summary());
    }

    #[test]
    fn tolerance_and_nulls() {
        let mut a = out(&["v"], &[&[1]]);
        let mut b = a.clone();
        a.rows[0][0] = Cell::Float(1.0);
        b.rows[0][0] = Cell::Float(1.0000001);
        assert!(compare(&a, &b, &CompareOptions::default()).is_same());
        let strict = CompareOptions {
            tolerance: 0.0,
            ..Default::default()
        };
        assert!(!compare(&a, &b, &strict).is_same());
        a.rows[0][0] = Cell::Null;
        b.rows[0][0] = Cell::Null;
        assert!(compare(&a, &b, &strict).is_same());
    }

    #[test]
    fn a_new_column_is_a_difference_even_when_shared_columns_match() {
        let a = out(&["k"], &[&[1]]);
        let b = out(&["k", "extra"], &[&[1, 5]]);
        let c = compare(&a, &b, &CompareOptions::default());
        assert_eq!(c.verdict, Sameness::Different);
        assert!(c.rows.is_same());
        assert_eq!(c.columns.added[0].name, "extra");
    }
}
