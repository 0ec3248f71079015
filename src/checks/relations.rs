//! Relations between the outputs of one query under different parameter sets:
//! partitions add up, filtered results stay within the unfiltered one, and a
//! narrower window never returns more.

use super::Outcome;
use crate::output::{cells_match, compare_cells, Cell, QueryOutput};
use crate::suite::{ParamSet, ParamValue, Relation, RelationKind, Severity};
use bigdecimal::BigDecimal;
use std::collections::BTreeMap;
use std::str::FromStr;

/// The output of each parameter set that ran successfully.
pub type Results<'a> = [(&'a ParamSet, &'a QueryOutput)];

fn context(set: &ParamSet, except: &[&str]) -> String {
    set.values
        .iter()
        .filter(|(k, _)| !except.contains(&k.as_str()))
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn tol(t: f64) -> BigDecimal {
    BigDecimal::from_str(&format!("{t}")).unwrap_or_default()
}

/// How many comparisons a relation can make over these parameter sets,
/// from their values alone (before any query runs). Zero means the relation
/// can never say anything: a configuration error.
pub fn possible_comparisons(kind: &RelationKind, sets: &[ParamSet]) -> usize {
    match kind {
        RelationKind::Partition { param, total, .. } => {
            let mut groups: BTreeMap<String, (bool, usize)> = BTreeMap::new();
            for s in sets.iter().filter(|s| s.values.contains_key(param)) {
                let g = groups.entry(context(s, &[param])).or_default();
                if s.values.get(param) == Some(total) {
                    g.0 = true;
                } else {
                    g.1 += 1;
                }
            }
            groups
                .values()
                .filter(|(t, parts)| *t && *parts > 0)
                .count()
        }
        RelationKind::Subset { param, total, .. } => sets
            .iter()
            .filter(|s| s.values.get(param).is_some_and(|v| v != total))
            .filter(|s| {
                let ctx = context(s, &[param]);
                sets.iter()
                    .any(|t| t.values.get(param) == Some(total) && context(t, &[param]) == ctx)
            })
            .count(),
        RelationKind::Narrower { from, to, .. } => {
            let bounds = |s: &ParamSet| -> Option<(Cell, Cell)> {
                Some((
                    as_order_key(s.values.get(from)?)?,
                    as_order_key(s.values.get(to)?)?,
                ))
            };
            let mut n = 0;
            for a in sets {
                for b in sets {
                    if a.name == b.name || context(a, &[from, to]) != context(b, &[from, to]) {
                        continue;
                    }
                    if let (Some((af, at)), Some((bf, bt))) = (bounds(a), bounds(b)) {
                        let inside =
                            compare_cells(&af, &bf).is_ge() && compare_cells(&at, &bt).is_le();
                        let same = cells_match(&af, &bf, 0.0) && cells_match(&at, &bt, 0.0);
                        if inside && !same {
                            n += 1;
                        }
                    }
                }
            }
            n
        }
    }
}

pub fn evaluate(rel: &Relation, severity: Severity, results: &Results) -> Outcome {
    let r = match &rel.kind {
        RelationKind::Partition {
            param,
            total,
            measures,
            by,
            complete,
        } => partition(
            param,
            total,
            measures,
            by,
            *complete,
            rel.tolerance,
            results,
        ),
        RelationKind::Subset {
            param,
            total,
            columns,
        } => subset(param, total, columns.as_deref(), results),
        RelationKind::Narrower { from, to, measures } => {
            narrower(from, to, measures, rel.tolerance, results)
        }
    };
    match r {
        Ok((0, 0)) => Outcome::skip(
            "relation",
            &rel.name,
            severity,
            "no parameter sets to compare",
        ),
        Ok((0, checked)) => Outcome::pass(
            "relation",
            &rel.name,
            severity,
            format!("holds over {checked} comparisons"),
        ),
        Ok((_, _)) => unreachable!("violations are reported as Err"),
        Err(details) => {
            let head = details.first().cloned().unwrap_or_default();
            Outcome::fail("relation", &rel.name, severity, head)
                .with_details(details.into_iter().skip(1).take(12).collect())
        }
    }
}

type Verdict = Result<(usize, usize), Vec<String>>;

/// Sum of `measure` per `by` key (one key `""` when `by` is empty).
fn sums(
    out: &QueryOutput,
    measure: &str,
    by: &[String],
) -> Result<BTreeMap<String, BigDecimal>, String> {
    if by.is_empty() {
        let mut m = BTreeMap::new();
        m.insert(String::new(), out.sum(measure)?);
        return Ok(m);
    }
    let mi = out
        .column_index(measure)
        .ok_or_else(|| format!("no column `{measure}` in the output"))?;
    let bi: Vec<usize> = by
        .iter()
        .map(|b| {
            out.column_index(b)
                .ok_or_else(|| format!("no column `{b}` in the output"))
        })
        .collect::<Result<_, _>>()?;
    let mut m: BTreeMap<String, BigDecimal> = BTreeMap::new();
    for row in &out.rows {
        let key = bi
            .iter()
            .map(|&i| format!("{}={}", out.columns[i].name, row[i]))
            .collect::<Vec<_>>()
            .join(" ");
        let v = match &row[mi] {
            Cell::Null => BigDecimal::from(0),
            c => c
                .as_decimal()
                .ok_or_else(|| format!("`{measure}` is not numeric"))?,
        };
        *m.entry(key).or_default() += v;
    }
    Ok(m)
}

fn partition(
    param: &str,
    total: &ParamValue,
    measures: &[String],
    by: &[String],
    complete: bool,
    tolerance: f64,
    results: &Results,
) -> Verdict {
    let mut groups: BTreeMap<String, Vec<(&ParamSet, &QueryOutput)>> = BTreeMap::new();
    for (s, o) in results {
        if s.values.contains_key(param) {
            groups.entry(context(s, &[param])).or_default().push((s, o));
        }
    }
    let mut checked = 0;
    let mut problems = Vec::new();
    for (ctx, members) in groups {
        let Some((total_set, total_out)) = members
            .iter()
            .find(|(s, _)| s.values.get(param) == Some(total))
        else {
            continue;
        };
        let parts: Vec<_> = members
            .iter()
            .filter(|(s, _)| s.values.get(param) != Some(total))
            .collect();
        if parts.is_empty() {
            continue;
        }
        for m in measures {
            let whole = sums(total_out, m, by).map_err(|e| vec![e])?;
            let mut added: BTreeMap<String, BigDecimal> = BTreeMap::new();
            for (_, o) in &parts {
                for (k, v) in sums(o, m, by).map_err(|e| vec![e])? {
                    *added.entry(k).or_default() += v;
                }
            }
            let keys: std::collections::BTreeSet<&String> =
                whole.keys().chain(added.keys()).collect();
            for k in keys {
                checked += 1;
                let w = whole.get(k).cloned().unwrap_or_default();
                let a = added.get(k).cloned().unwrap_or_default();
                let ok = if complete {
                    (&w - &a).abs() <= tol(tolerance)
                } else {
                    a <= &w + tol(tolerance)
                };
                if !ok {
                    let names: Vec<String> = parts
                        .iter()
                        .map(|(s, _)| format!("{}", s.values[param]))
                        .collect();
                    problems.push(format!(
                        "{}sum of `{m}` over {param} in [{}] is {}, but {param}={} gives {} {}{}",
                        if k.is_empty() {
                            String::new()
                        } else {
                            format!("{k}: ")
                        },
                        names.join(", "),
                        crate::output::normalize_decimal(&a),
                        total,
                        crate::output::normalize_decimal(&w),
                        if complete {
                            "(they must be equal)"
                        } else {
                            "(parts must not exceed it)"
                        },
                        if ctx.is_empty() {
                            String::new()
                        } else {
                            format!(" [{ctx}; set {}]", total_set.name)
                        },
                    ));
                }
            }
        }
    }
    if problems.is_empty() {
        Ok((0, checked))
    } else {
        Err(problems)
    }
}

fn subset(
    param: &str,
    total: &ParamValue,
    columns: Option<&[String]>,
    results: &Results,
) -> Verdict {
    let mut checked = 0;
    let mut problems = Vec::new();
    for (s, o) in results {
        let Some(v) = s.values.get(param) else {
            continue;
        };
        if v == total {
            continue;
        }
        let ctx = context(s, &[param]);
        let Some((_, all)) = results
            .iter()
            .find(|(t, _)| t.values.get(param) == Some(total) && context(t, &[param]) == ctx)
        else {
            continue;
        };
        let cols: Vec<String> = columns
            .map(|c| c.to_vec())
            .unwrap_or_else(|| o.column_names());
        let key = |out: &QueryOutput| -> Result<Vec<String>, String> {
            let idx: Vec<usize> = cols
                .iter()
                .map(|c| {
                    out.column_index(c)
                        .ok_or_else(|| format!("no column `{c}` in the output"))
                })
                .collect::<Result<_, _>>()?;
            Ok(out
                .rows
                .iter()
                .map(|r| {
                    cols.iter()
                        .zip(&idx)
                        .map(|(c, &i)| format!("{c}={}", r[i].canonical()))
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .collect())
        };
        let mut pool: BTreeMap<String, usize> = BTreeMap::new();
        for k in key(all).map_err(|e| vec![e])? {
            *pool.entry(k).or_default() += 1;
        }
        for k in key(o).map_err(|e| vec![e])? {
            checked += 1;
            match pool.get_mut(&k) {
                Some(n) if *n > 0 => *n -= 1,
                _ => problems.push(format!(
                    "set `{}` has a row not in the {param}={total} result: {k}",
                    s.name
                )),
            }
        }
    }
    if problems.is_empty() {
        Ok((0, checked))
    } else {
        Err(problems)
    }
}

fn as_order_key(v: &ParamValue) -> Option<Cell> {
    match v {
        ParamValue::Date(d) => Some(Cell::Text(d.format("%Y-%m-%d").to_string())),
        ParamValue::Integer(i) => Some(Cell::Int(*i)),
        ParamValue::Numeric(n) => Some(Cell::Numeric(n.clone())),
        ParamValue::Timestamp(_) => Some(Cell::Text(v.to_string())),
        ParamValue::Timestamptz(t) => Some(Cell::Text(
            t.to_utc().format("%Y-%m-%d %H:%M:%S%.f").to_string(),
        )),
        _ => None,
    }
}

fn narrower(
    from: &str,
    to: &str,
    measures: &[String],
    tolerance: f64,
    results: &Results,
) -> Verdict {
    let mut checked = 0;
    let mut problems = Vec::new();
    for (a, ao) in results {
        for (b, bo) in results {
            if a.name == b.name || context(a, &[from, to]) != context(b, &[from, to]) {
                continue;
            }
            let bounds = |s: &ParamSet| -> Option<(Cell, Cell)> {
                Some((
                    as_order_key(s.values.get(from)?)?,
                    as_order_key(s.values.get(to)?)?,
                ))
            };
            let (Some((af, at)), Some((bf, bt))) = (bounds(a), bounds(b)) else {
                continue;
            };
            let inside = compare_cells(&af, &bf).is_ge() && compare_cells(&at, &bt).is_le();
            let same = cells_match(&af, &bf, 0.0) && cells_match(&at, &bt, 0.0);
            if !inside || same {
                continue;
            }
            for m in measures {
                checked += 1;
                let x = ao.sum(m).map_err(|e| vec![e])?;
                let y = bo.sum(m).map_err(|e| vec![e])?;
                if x > &y + tol(tolerance) {
                    problems.push(format!(
                        "`{m}` is {} for {}..{} (set `{}`) but only {} for the wider {}..{} (set `{}`)",
                        crate::output::normalize_decimal(&x), af, at, a.name,
                        crate::output::normalize_decimal(&y), bf, bt, b.name
                    ));
                }
            }
        }
    }
    if problems.is_empty() {
        Ok((0, checked))
    } else {
        Err(problems)
    }
}
