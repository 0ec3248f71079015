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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::{date, everywhere, int, num, output, set, text, text_value};
    use crate::checks::Status;

    const ALL: ParamValue = ParamValue::Null;

    fn orders(values: &[i64]) -> QueryOutput {
        output(
            &[("orders", "int8")],
            values.iter().map(|&v| vec![int(v)]).collect(),
        )
    }

    fn orders_num(values: &[&str]) -> QueryOutput {
        output(
            &[("orders", "numeric")],
            values.iter().map(|v| vec![num(v)]).collect(),
        )
    }

    fn relation(kind: RelationKind, tolerance: f64) -> Relation {
        Relation {
            name: "rel".into(),
            kind,
            tolerance,
            scope: everywhere(),
        }
    }

    fn partition_kind(measures: &[&str], by: &[&str], complete: bool) -> RelationKind {
        RelationKind::Partition {
            param: "channel".into(),
            total: ALL,
            measures: measures.iter().map(|m| m.to_string()).collect(),
            by: by.iter().map(|b| b.to_string()).collect(),
            complete,
        }
    }

    fn subset_kind(columns: Option<&[&str]>) -> RelationKind {
        RelationKind::Subset {
            param: "channel".into(),
            total: ALL,
            columns: columns.map(|c| c.iter().map(|s| s.to_string()).collect()),
        }
    }

    fn narrower_kind(measures: &[&str]) -> RelationKind {
        RelationKind::Narrower {
            from: "date_from".into(),
            to: "date_to".into(),
            measures: measures.iter().map(|m| m.to_string()).collect(),
        }
    }

    fn run(rel: &Relation, results: &[(ParamSet, QueryOutput)]) -> Outcome {
        let refs: Vec<(&ParamSet, &QueryOutput)> = results.iter().map(|(s, o)| (s, o)).collect();
        evaluate(rel, Severity::Error, &refs)
    }

    fn channel(name: &str, value: ParamValue) -> ParamSet {
        set(name, &[("channel", value)])
    }

    fn channel_in(name: &str, value: ParamValue, window: &str) -> ParamSet {
        set(name, &[("channel", value), ("window", text_value(window))])
    }

    fn window(name: &str, from: &str, to: &str) -> ParamSet {
        set(name, &[("date_from", date(from)), ("date_to", date(to))])
    }

    fn sets(results: &[(ParamSet, QueryOutput)]) -> Vec<ParamSet> {
        results.iter().map(|(s, _)| s.clone()).collect()
    }

    // ---- partition ----

    #[test]
    fn partition_that_adds_up_passes() {
        let results = vec![
            (channel("all", ALL), orders(&[10, 20])),
            (channel("web", text_value("web")), orders(&[12])),
            (channel("store", text_value("store")), orders(&[18])),
        ];
        let o = run(
            &relation(partition_kind(&["orders"], &[], true), 0.0),
            &results,
        );
        assert_eq!(o.status, Status::Pass, "{o:?}");
        assert_eq!(o.kind, "relation");
        assert_eq!(o.name, "rel");
        assert_eq!(o.message, "holds over 1 comparisons");
        // One comparison per measure.
        let with_rows = run(
            &relation(partition_kind(&["orders", "rows"], &[], true), 0.0),
            &[
                (channel("all", ALL), orders(&[10, 20])),
                (channel("web", text_value("web")), orders(&[12])),
                (channel("store", text_value("store")), orders(&[18])),
            ],
        );
        assert_eq!(with_rows.status, Status::Pass, "{with_rows:?}");
        assert_eq!(with_rows.message, "holds over 2 comparisons");
    }

    #[test]
    fn partition_that_does_not_add_up_fails_naming_measure_sums_and_set() {
        let results = vec![
            (channel_in("all_w1", ALL, "w1"), orders(&[31])),
            (channel_in("web_w1", text_value("web"), "w1"), orders(&[12])),
            (
                channel_in("store_w1", text_value("store"), "w1"),
                orders(&[18]),
            ),
        ];
        let o = run(
            &relation(partition_kind(&["orders"], &[], true), 0.0),
            &results,
        );
        assert_eq!(o.status, Status::Fail);
        assert_eq!(o.severity, Severity::Error);
        assert_eq!(
            o.message,
            "sum of `orders` over channel in [web, store] is 30, but channel=null gives 31 \
             (they must be equal) [window=w1; set all_w1]"
        );
        assert!(o.details.is_empty());
    }

    #[test]
    fn partition_parts_above_the_total_fail_too() {
        let results = vec![
            (channel("all", ALL), orders(&[29])),
            (channel("web", text_value("web")), orders(&[12])),
            (channel("store", text_value("store")), orders(&[18])),
        ];
        let o = run(
            &relation(partition_kind(&["orders"], &[], true), 0.0),
            &results,
        );
        assert_eq!(o.status, Status::Fail);
        // Without other parameters there is no context to show.
        assert_eq!(
            o.message,
            "sum of `orders` over channel in [web, store] is 30, but channel=null gives 29 \
             (they must be equal)"
        );
    }

    #[test]
    fn incomplete_partition_allows_parts_below_the_total_but_not_above() {
        let kind = partition_kind(&["orders"], &[], false);
        let below = run(
            &relation(kind.clone(), 0.0),
            &[
                (channel("all", ALL), orders(&[40])),
                (channel("web", text_value("web")), orders(&[12])),
                (channel("store", text_value("store")), orders(&[18])),
            ],
        );
        assert_eq!(below.status, Status::Pass, "{below:?}");
        assert_eq!(below.message, "holds over 1 comparisons");

        let above = run(
            &relation(kind, 0.0),
            &[
                (channel("all", ALL), orders(&[29])),
                (channel("web", text_value("web")), orders(&[12])),
                (channel("store", text_value("store")), orders(&[18])),
            ],
        );
        assert_eq!(above.status, Status::Fail);
        assert_eq!(
            above.message,
            "sum of `orders` over channel in [web, store] is 30, but channel=null gives 29 \
             (parts must not exceed it)"
        );
    }

    fn by_day(rows: &[(&str, Option<i64>)]) -> QueryOutput {
        output(
            &[("ordered_on", "date"), ("orders", "int8")],
            rows.iter()
                .map(|(d, v)| vec![text(d), v.map(int).unwrap_or(Cell::Null)])
                .collect(),
        )
    }

    #[test]
    fn partition_by_keys_compares_each_key() {
        let total = by_day(&[("2025-10-01", Some(10)), ("2025-10-02", Some(20))]);
        let ok = run(
            &relation(partition_kind(&["orders"], &["ordered_on"], true), 0.0),
            &[
                (channel("all", ALL), total.clone()),
                (
                    channel("web", text_value("web")),
                    by_day(&[("2025-10-01", Some(4)), ("2025-10-02", Some(20))]),
                ),
                (
                    channel("store", text_value("store")),
                    // A NULL measure adds nothing.
                    by_day(&[("2025-10-01", Some(6)), ("2025-10-02", None)]),
                ),
            ],
        );
        assert_eq!(ok.status, Status::Pass, "{ok:?}");
        assert_eq!(ok.message, "holds over 2 comparisons");

        // Same overall sum (30), but the days do not add up; and a part has a
        // day the total lacks.
        let bad = run(
            &relation(partition_kind(&["orders"], &["ordered_on"], true), 0.0),
            &[
                (channel("all", ALL), total),
                (
                    channel("web", text_value("web")),
                    by_day(&[("2025-10-01", Some(10)), ("2025-10-02", Some(15))]),
                ),
                (
                    channel("store", text_value("store")),
                    by_day(&[("2025-10-03", Some(5))]),
                ),
            ],
        );
        assert_eq!(bad.status, Status::Fail);
        assert_eq!(
            bad.message,
            "ordered_on=2025-10-02: sum of `orders` over channel in [web, store] is 15, but \
             channel=null gives 20 (they must be equal)"
        );
        assert_eq!(
            bad.details,
            vec![
                "ordered_on=2025-10-03: sum of `orders` over channel in [web, store] is 5, but \
                 channel=null gives 0 (they must be equal)"
            ]
        );
    }

    #[test]
    fn partition_by_a_missing_or_non_numeric_column_fails() {
        let results = vec![
            (channel("all", ALL), by_day(&[("2025-10-01", Some(1))])),
            (
                channel("web", text_value("web")),
                by_day(&[("2025-10-01", Some(1))]),
            ),
        ];
        let o = run(
            &relation(partition_kind(&["orders"], &["day"], true), 0.0),
            &results,
        );
        assert_eq!(o.status, Status::Fail);
        assert_eq!(o.message, "no column `day` in the output");

        let o = run(
            &relation(partition_kind(&["ordered_on"], &["orders"], true), 0.0),
            &results,
        );
        assert_eq!(o.status, Status::Fail);
        assert_eq!(o.message, "`ordered_on` is not numeric");

        let o = run(
            &relation(partition_kind(&["amount"], &[], true), 0.0),
            &results,
        );
        assert_eq!(o.status, Status::Fail);
        assert_eq!(
            o.message,
            "no column `amount` in the output (ordered_on, orders)"
        );
    }

    #[test]
    fn partition_tolerance_is_inclusive_both_ways() {
        let parts = |total: &str, a: &str, b: &str| {
            vec![
                (channel("all", ALL), orders_num(&[total])),
                (channel("web", text_value("web")), orders_num(&[a])),
                (channel("store", text_value("store")), orders_num(&[b])),
            ]
        };
        let complete = relation(partition_kind(&["orders"], &[], true), 0.5);
        assert_eq!(
            run(&complete, &parts("10.5", "4", "6")).status,
            Status::Pass
        );
        assert_eq!(run(&complete, &parts("9.5", "4", "6")).status, Status::Pass);
        assert_eq!(
            run(&complete, &parts("10.51", "4", "6")).status,
            Status::Fail
        );
        assert_eq!(
            run(&complete, &parts("9.49", "4", "6")).status,
            Status::Fail
        );

        let partial = relation(partition_kind(&["orders"], &[], false), 0.5);
        assert_eq!(run(&partial, &parts("10", "4.5", "6")).status, Status::Pass);
        let over = run(&partial, &parts("10", "4.51", "6"));
        assert_eq!(over.status, Status::Fail);
        assert!(over.message.contains("is 10.51, but channel=null gives 10"));

        // Without tolerance the smallest difference counts.
        let exact = relation(partition_kind(&["orders"], &[], true), 0.0);
        assert_eq!(
            run(&exact, &parts("10.000001", "4", "6")).status,
            Status::Fail
        );
    }

    #[test]
    fn partition_groups_by_the_other_parameters() {
        // w1 adds up; w2 has no total; w3 has only the total: only w1 compares.
        let results = vec![
            (channel_in("all_w1", ALL, "w1"), orders(&[30])),
            (channel_in("web_w1", text_value("web"), "w1"), orders(&[30])),
            (channel_in("web_w2", text_value("web"), "w2"), orders(&[99])),
            (channel_in("all_w3", ALL, "w3"), orders(&[7])),
            // A set without the parameter takes no part.
            (
                set("other", &[("window", text_value("w1"))]),
                orders(&[1000]),
            ),
        ];
        let o = run(
            &relation(partition_kind(&["orders"], &[], true), 0.0),
            &results,
        );
        assert_eq!(o.status, Status::Pass, "{o:?}");
        assert_eq!(o.message, "holds over 1 comparisons");
        assert_eq!(
            possible_comparisons(&partition_kind(&["orders"], &[], true), &sets(&results)),
            1
        );
    }

    #[test]
    fn partition_without_total_or_parts_is_skipped() {
        let only_parts = vec![
            (channel("web", text_value("web")), orders(&[1])),
            (channel("store", text_value("store")), orders(&[2])),
        ];
        let o = run(
            &relation(partition_kind(&["orders"], &[], true), 0.0),
            &only_parts,
        );
        assert_eq!(o.status, Status::Skip);
        assert_eq!(o.message, "no parameter sets to compare");
        let only_total = vec![(channel("all", ALL), orders(&[1]))];
        let o = run(
            &relation(partition_kind(&["orders"], &[], true), 0.0),
            &only_total,
        );
        assert_eq!(o.status, Status::Skip);
    }

    #[test]
    fn possible_partition_comparisons() {
        let kind = partition_kind(&["orders"], &[], true);
        let two_windows = vec![
            channel_in("all_w1", ALL, "w1"),
            channel_in("web_w1", text_value("web"), "w1"),
            channel_in("store_w1", text_value("store"), "w1"),
            channel_in("all_w2", ALL, "w2"),
            channel_in("web_w2", text_value("web"), "w2"),
        ];
        assert_eq!(possible_comparisons(&kind, &two_windows), 2);
        // The total matches no set.
        let no_total = RelationKind::Partition {
            param: "channel".into(),
            total: text_value("all"),
            measures: vec!["orders".into()],
            by: vec![],
            complete: true,
        };
        assert_eq!(possible_comparisons(&no_total, &two_windows), 0);
        // A single-valued axis: the total alone, or one part alone.
        let total_only = vec![
            channel_in("all_w1", ALL, "w1"),
            channel_in("all_w2", ALL, "w2"),
        ];
        assert_eq!(possible_comparisons(&kind, &total_only), 0);
        let part_only = vec![channel("web", text_value("web"))];
        assert_eq!(possible_comparisons(&kind, &part_only), 0);
        // A parameter no set has.
        assert_eq!(
            possible_comparisons(&kind, &[window("w", "2025-10-01", "2025-10-02")]),
            0
        );
    }

    // ---- subset ----

    fn customers(rows: &[(&str, &str, i64)]) -> QueryOutput {
        output(
            &[
                ("channel", "text"),
                ("customer", "text"),
                ("orders", "int8"),
            ],
            rows.iter()
                .map(|(p, c, l)| vec![text(p), text(c), int(*l)])
                .collect(),
        )
    }

    fn all_customers() -> QueryOutput {
        customers(&[("web", "c1", 10), ("store", "c2", 5), ("web", "c3", 7)])
    }

    #[test]
    fn subset_rows_found_in_the_total_pass() {
        let results = vec![
            (channel("all", ALL), all_customers()),
            (
                channel("web", text_value("web")),
                customers(&[("web", "c3", 7), ("web", "c1", 10)]),
            ),
            (
                channel("store", text_value("store")),
                customers(&[("store", "c2", 5)]),
            ),
        ];
        let o = run(&relation(subset_kind(None), 0.0), &results);
        assert_eq!(o.status, Status::Pass, "{o:?}");
        // One comparison per subset row.
        assert_eq!(o.message, "holds over 3 comparisons");
    }

    #[test]
    fn subset_row_missing_from_the_total_fails() {
        let results = vec![
            (channel("all", ALL), all_customers()),
            (
                channel("web", text_value("web")),
                customers(&[("web", "c1", 10), ("web", "c1", 11)]),
            ),
        ];
        let o = run(&relation(subset_kind(None), 0.0), &results);
        assert_eq!(o.status, Status::Fail);
        assert_eq!(
            o.message,
            "set `web` has a row not in the channel=null result: channel=web customer=c1 orders=11"
        );
    }

    #[test]
    fn subset_counts_repeated_rows() {
        // The total has (web, c1, 10) once; the subset twice.
        let results = vec![
            (channel("all", ALL), all_customers()),
            (
                channel("web", text_value("web")),
                customers(&[("web", "c1", 10), ("web", "c1", 10)]),
            ),
        ];
        let o = run(&relation(subset_kind(None), 0.0), &results);
        assert_eq!(o.status, Status::Fail);
        assert_eq!(
            o.message,
            "set `web` has a row not in the channel=null result: channel=web customer=c1 orders=10"
        );
    }

    #[test]
    fn subset_compares_the_listed_columns_by_value() {
        // orders differ, but only channel and customer are compared.
        let results = vec![
            (channel("all", ALL), all_customers()),
            (
                channel("web", text_value("web")),
                customers(&[("web", "c1", 999)]),
            ),
        ];
        let o = run(
            &relation(subset_kind(Some(&["channel", "customer"])), 0.0),
            &results,
        );
        assert_eq!(o.status, Status::Pass, "{o:?}");
        // Numbers compare by value: 10.0 (numeric) is 10 (int8); NULL is NULL.
        let total = output(
            &[("customer", "text"), ("orders", "numeric")],
            vec![vec![text("c1"), num("10.0")], vec![text("c2"), Cell::Null]],
        );
        let part = output(
            &[("orders", "int8"), ("customer", "text")],
            vec![vec![int(10), text("c1")], vec![Cell::Null, text("c2")]],
        );
        let o = run(
            &relation(subset_kind(None), 0.0),
            &[
                (channel("all", ALL), total),
                (channel("web", text_value("web")), part),
            ],
        );
        assert_eq!(o.status, Status::Pass, "{o:?}");
        assert_eq!(o.message, "holds over 2 comparisons");
    }

    #[test]
    fn subset_column_missing_from_the_total_fails() {
        let results = vec![
            (
                channel("all", ALL),
                output(&[("customer", "text")], vec![vec![text("c1")]]),
            ),
            (
                channel("web", text_value("web")),
                customers(&[("web", "c1", 10)]),
            ),
        ];
        let o = run(&relation(subset_kind(None), 0.0), &results);
        assert_eq!(o.status, Status::Fail);
        assert_eq!(o.message, "no column `channel` in the output");
    }

    #[test]
    fn subset_compares_only_within_the_same_other_parameters() {
        // web_w2's total is missing: it is not compared with all_w1.
        let results = vec![
            (channel_in("all_w1", ALL, "w1"), all_customers()),
            (
                channel_in("web_w2", text_value("web"), "w2"),
                customers(&[("web", "zz", 1)]),
            ),
        ];
        let o = run(&relation(subset_kind(None), 0.0), &results);
        assert_eq!(o.status, Status::Skip, "{o:?}");
        assert_eq!(possible_comparisons(&subset_kind(None), &sets(&results)), 0);
    }

    #[test]
    fn relation_failure_shows_the_first_problem_and_at_most_twelve_more() {
        let many: Vec<(&str, &str, i64)> = (0..15).map(|_| ("web", "new", 1)).collect();
        let results = vec![
            (channel("all", ALL), all_customers()),
            (channel("web", text_value("web")), customers(&many)),
        ];
        let o = run(&relation(subset_kind(None), 0.0), &results);
        assert_eq!(o.status, Status::Fail);
        assert_eq!(
            o.message,
            "set `web` has a row not in the channel=null result: channel=web customer=new orders=1"
        );
        assert_eq!(o.details.len(), 12);
        assert!(o.details.iter().all(|d| d == &o.message));
    }

    #[test]
    fn possible_subset_comparisons() {
        let kind = subset_kind(None);
        let s = vec![
            channel("all", ALL),
            channel("web", text_value("web")),
            channel("store", text_value("store")),
        ];
        assert_eq!(possible_comparisons(&kind, &s), 2);
        let no_total = RelationKind::Subset {
            param: "channel".into(),
            total: text_value("any"),
            columns: None,
        };
        assert_eq!(possible_comparisons(&no_total, &s), 0);
        // A single-valued axis.
        assert_eq!(possible_comparisons(&kind, &[channel("all", ALL)]), 0);
    }

    // ---- narrower ----

    #[test]
    fn narrower_window_with_a_larger_measure_fails() {
        let results = vec![
            (window("short", "2025-10-01", "2025-10-03"), orders(&[12])),
            (window("long", "2025-09-01", "2025-10-05"), orders(&[4, 6])),
        ];
        let o = run(&relation(narrower_kind(&["orders"]), 0.0), &results);
        assert_eq!(o.status, Status::Fail);
        assert_eq!(
            o.message,
            "`orders` is 12 for 2025-10-01..2025-10-03 (set `short`) but only 10 for the wider \
             2025-09-01..2025-10-05 (set `long`)"
        );
    }

    #[test]
    fn narrower_window_with_a_smaller_or_equal_measure_passes() {
        let results = vec![
            (window("short", "2025-10-01", "2025-10-03"), orders(&[10])),
            (window("long", "2025-09-01", "2025-10-05"), orders(&[4, 6])),
            // Shares its start with `long`: still inside it.
            (window("start", "2025-09-01", "2025-09-30"), orders(&[3])),
        ];
        let o = run(&relation(narrower_kind(&["orders", "rows"]), 0.0), &results);
        assert_eq!(o.status, Status::Pass, "{o:?}");
        // (short in long) and (start in long), two measures each.
        assert_eq!(o.message, "holds over 4 comparisons");
        assert_eq!(
            possible_comparisons(&narrower_kind(&["orders"]), &sets(&results)),
            2
        );
    }

    #[test]
    fn narrower_rows_measure_counts_rows() {
        let results = vec![
            (
                window("short", "2025-10-01", "2025-10-03"),
                orders(&[1, 1, 1]),
            ),
            (
                window("long", "2025-09-01", "2025-10-05"),
                orders(&[100, 100]),
            ),
        ];
        let o = run(&relation(narrower_kind(&["rows"]), 0.0), &results);
        assert_eq!(o.status, Status::Fail);
        assert_eq!(
            o.message,
            "`rows` is 3 for 2025-10-01..2025-10-03 (set `short`) but only 2 for the wider \
             2025-09-01..2025-10-05 (set `long`)"
        );
    }

    #[test]
    fn equal_overlapping_and_unrelated_windows_are_not_compared() {
        let equal = vec![
            (window("a", "2025-10-01", "2025-10-03"), orders(&[100])),
            (window("b", "2025-10-01", "2025-10-03"), orders(&[1])),
        ];
        let o = run(&relation(narrower_kind(&["orders"]), 0.0), &equal);
        assert_eq!(o.status, Status::Skip, "{o:?}");
        assert_eq!(
            possible_comparisons(&narrower_kind(&["orders"]), &sets(&equal)),
            0
        );

        let overlapping = vec![
            (window("a", "2025-10-01", "2025-10-05"), orders(&[100])),
            (window("b", "2025-10-03", "2025-10-08"), orders(&[1])),
        ];
        let o = run(&relation(narrower_kind(&["orders"]), 0.0), &overlapping);
        assert_eq!(o.status, Status::Skip, "{o:?}");
        assert_eq!(
            possible_comparisons(&narrower_kind(&["orders"]), &sets(&overlapping)),
            0
        );

        // Inside, but another parameter differs.
        let other_channel = vec![
            (
                set(
                    "short",
                    &[
                        ("date_from", date("2025-10-01")),
                        ("date_to", date("2025-10-03")),
                        ("channel", text_value("web")),
                    ],
                ),
                orders(&[100]),
            ),
            (
                set(
                    "long",
                    &[
                        ("date_from", date("2025-09-01")),
                        ("date_to", date("2025-10-05")),
                        ("channel", text_value("store")),
                    ],
                ),
                orders(&[1]),
            ),
        ];
        let o = run(&relation(narrower_kind(&["orders"]), 0.0), &other_channel);
        assert_eq!(o.status, Status::Skip, "{o:?}");
        assert_eq!(
            possible_comparisons(&narrower_kind(&["orders"]), &sets(&other_channel)),
            0
        );
    }

    #[test]
    fn narrower_compares_integer_bounds_numerically_and_ignores_text_bounds() {
        let ints = |name: &str, from: i64, to: i64| {
            set(
                name,
                &[
                    ("date_from", ParamValue::Integer(from)),
                    ("date_to", ParamValue::Integer(to)),
                ],
            )
        };
        // 9..10 lies inside 2..100 (as text "9" > "100" would say otherwise).
        let results = vec![
            (ints("inner", 9, 10), orders(&[5])),
            (ints("outer", 2, 100), orders(&[4])),
        ];
        let o = run(&relation(narrower_kind(&["orders"]), 0.0), &results);
        assert_eq!(o.status, Status::Fail, "{o:?}");
        assert_eq!(
            o.message,
            "`orders` is 5 for 9..10 (set `inner`) but only 4 for the wider 2..100 (set `outer`)"
        );
        let texts = vec![
            set(
                "a",
                &[("date_from", text_value("b")), ("date_to", text_value("c"))],
            ),
            set(
                "b",
                &[("date_from", text_value("a")), ("date_to", text_value("d"))],
            ),
        ];
        assert_eq!(possible_comparisons(&narrower_kind(&["orders"]), &texts), 0);
    }

    #[test]
    fn narrower_tolerance_is_inclusive() {
        let results = |inner: &str| {
            vec![
                (
                    window("short", "2025-10-01", "2025-10-03"),
                    orders_num(&[inner]),
                ),
                (
                    window("long", "2025-09-01", "2025-10-05"),
                    orders_num(&["10"]),
                ),
            ]
        };
        let rel = relation(narrower_kind(&["orders"]), 0.5);
        assert_eq!(run(&rel, &results("10.5")).status, Status::Pass);
        let over = run(&rel, &results("10.51"));
        assert_eq!(over.status, Status::Fail);
        assert!(
            over.message.starts_with("`orders` is 10.51 for"),
            "{over:?}"
        );
    }

    #[test]
    fn narrower_measure_missing_fails() {
        let results = vec![
            (window("short", "2025-10-01", "2025-10-03"), orders(&[1])),
            (window("long", "2025-09-01", "2025-10-05"), orders(&[2])),
        ];
        let o = run(&relation(narrower_kind(&["amount"]), 0.0), &results);
        assert_eq!(o.status, Status::Fail);
        assert_eq!(o.message, "no column `amount` in the output (orders)");
    }

    #[test]
    fn relation_outcome_carries_the_given_severity() {
        let results = [(channel("all", ALL), orders(&[1]))];
        let refs: Vec<(&ParamSet, &QueryOutput)> = results.iter().map(|(s, o)| (s, o)).collect();
        let o = evaluate(
            &relation(partition_kind(&["orders"], &[], true), 0.0),
            Severity::Warn,
            &refs,
        );
        assert_eq!(o.severity, Severity::Warn);
        assert_eq!(o.status, Status::Skip);
    }
}
