//! A query check's `expect:` section.

use super::check_file::{prepare, scalar_text};
use crate::error::InputError;
use crate::sql;
use crate::suite::locate::{closest, line_containing};
use crate::suite::model::*;
use crate::suite::params::{self, ParamSet, ParamType, ParamValue};
use crate::suite::raw::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

#[allow(clippy::too_many_arguments)]
pub(super) fn expectations(
    file: &Path,
    text: &str,
    e: RawExpect,
    sets: &[ParamSet],
    types: &BTreeMap<String, ParamType>,
    default_tolerance: f64,
    errors: &mut Vec<InputError>,
) -> Expect {
    let err = |key: &str, m: String| InputError::new(file, m).at(line_containing(text, key), None);
    let scope = |severity: Option<Severity>, environments: Option<Vec<Environment>>| Scope {
        severity,
        environments,
    };
    let tol = |t: Option<f64>, key: &str, errors: &mut Vec<InputError>| match t {
        Some(t) if !(t >= 0.0 && t.is_finite()) => {
            errors.push(err(
                key,
                format!("tolerance of `{key}` must be a non-negative number"),
            ));
            default_tolerance
        }
        Some(t) => t,
        None => default_tolerance,
    };
    let mut names = BTreeSet::new();
    let mut unique_name = |n: &str, errors: &mut Vec<InputError>| {
        if !names.insert(n.to_string()) {
            errors.push(
                err(
                    &format!("name: {n}"),
                    format!("two expectations are both named `{n}`"),
                )
                .help("give each a unique name"),
            );
        }
    };

    let columns = e.columns.map(|cols| {
        cols.into_iter()
            .map(|c| ColumnSpec {
                name: c.name,
                ty: c.ty.map(|t| normalize_type_name(&t)),
                nullable: c.nullable,
            })
            .collect()
    });
    if let Some(b) = e.rows {
        if let (Some(lo), Some(hi)) = (b.min, b.max) {
            if lo > hi {
                errors.push(err(
                    "rows:",
                    format!("rows.min ({lo}) is greater than rows.max ({hi})"),
                ));
            }
        }
    }

    let mut row_checks = Vec::new();
    for r in e.row_checks {
        unique_name(&r.name, errors);
        let predicate = match (r.sql, r.left, r.right) {
            (Some(sql), None, None) => {
                if r.tolerance.is_some() {
                    errors.push(err(
                        &format!("name: {}", r.name),
                        format!(
                            "row check `{}`: `tolerance` needs `left` and `right`",
                            r.name
                        ),
                    ));
                }
                sql
            }
            (None, Some(l), Some(rt)) => {
                let t = tol(r.tolerance, &r.name, errors);
                format!("((({l}) is null and ({rt}) is null) or abs(({l}) - ({rt})) <= {t})")
            }
            _ => {
                errors.push(
                    err(
                        &format!("name: {}", r.name),
                        format!(
                            "row check `{}` needs either `sql` or both `left` and `right`",
                            r.name
                        ),
                    )
                    .help("write `sql: \"a = b\"` or `left: a` + `right: b` (+ `tolerance`)"),
                );
                continue;
            }
        };
        check_params(
            &format!("row check `{}`", r.name),
            &format!("name: {}", r.name),
            &predicate,
            sets,
            &err,
            errors,
        );
        row_checks.push(RowCheck {
            name: r.name,
            predicate,
            scope: scope(r.severity, r.environments),
        });
    }
    let mut aggregate_checks = Vec::new();
    for a in e.aggregate_checks {
        unique_name(&a.name, errors);
        check_params(
            &format!("aggregate check `{}`", a.name),
            &format!("name: {}", a.name),
            &a.sql,
            sets,
            &err,
            errors,
        );
        if sql::aggregate::uses_aggregate(&a.sql) == Some(false) {
            errors.push(
                err(
                    &format!("name: {}", a.name),
                    format!(
                        "aggregate check `{}` calls no aggregate function: `{}`",
                        a.name, a.sql
                    ),
                )
                .help(
                    "an aggregate check is one boolean over the whole output (`out`): write it \
                     over aggregates, e.g. `sum(pct_of_total) between 99.99 and 100.01` or \
                     `count(*) filter (where amount < 0) = 0`; a condition on each row is a row check",
                ),
            );
        }
        aggregate_checks.push(AggregateCheck {
            name: a.name,
            predicate: a.sql,
            scope: scope(a.severity, a.environments),
        });
    }
    let mut reconcile = Vec::new();
    for r in e.reconcile {
        unique_name(&r.name, errors);
        let scanned = sql::scan(&r.sql);
        check_params(
            &format!("reconcile `{}`", r.name),
            &format!("name: {}", r.name),
            &r.sql,
            sets,
            &err,
            errors,
        );
        if scanned.extra_statements > 0 {
            errors.push(err(
                &format!("name: {}", r.name),
                format!("reconcile `{}` must be one statement", r.name),
            ));
        }
        let columns = r.columns.clone().unwrap_or_default();
        match r.compare {
            CompareKind::Scalar if r.column.is_none() => errors.push(
                err(
                    &format!("name: {}", r.name),
                    format!(
                        "reconcile `{}` compares a scalar but names no `column`",
                        r.name
                    ),
                )
                .help("add `column: <output column>`"),
            ),
            CompareKind::Rows if columns.is_empty() => errors.push(
                err(
                    &format!("name: {}", r.name),
                    format!(
                        "reconcile `{}` compares rows but lists no `columns`",
                        r.name
                    ),
                )
                .help("add `columns: [a, b]`"),
            ),
            _ => {}
        }
        let t = tol(r.tolerance, &r.name, errors);
        reconcile.push(Reconcile {
            name: r.name,
            statement: prepare(&r.sql, types),
            sql: r.sql,
            compare: r.compare,
            column: r.column,
            columns,
            tolerance: t,
            exact: r.exact,
            scope: scope(r.severity, r.environments),
        });
    }
    let mut relations = Vec::new();
    for r in e.relations {
        unique_name(&r.name, errors);
        let here = format!("name: {}", r.name);
        let param_known = |p: &str| sets.iter().any(|s| s.values.contains_key(p));
        let total = |param: &str, errors: &mut Vec<InputError>| -> ParamValue {
            let ty = types.get(param).copied().unwrap_or(ParamType::Text);
            params::convert(&r.total, ty).unwrap_or_else(|m| {
                errors.push(err(&here, format!("relation `{}`: total: {m}", r.name)));
                ParamValue::Null
            })
        };
        let kind = match (&r.partition, &r.subset, &r.narrower) {
            (Some(p), None, None) => {
                if r.measures.is_empty() {
                    errors.push(
                        err(&here, format!("relation `{}` needs `measures`", r.name))
                            .help("list the columns to sum, e.g. `measures: [amount]`"),
                    );
                }
                RelationKind::Partition {
                    param: p.clone(),
                    total: total(p, errors),
                    measures: r.measures.clone(),
                    by: r.by.clone(),
                    complete: r.complete.unwrap_or(true),
                }
            }
            (None, Some(p), None) => RelationKind::Subset {
                param: p.clone(),
                total: total(p, errors),
                columns: r.columns.clone(),
            },
            (None, None, Some(pair)) => {
                if pair.len() != 2 {
                    errors.push(err(
                        &here,
                        format!(
                            "relation `{}`: `narrower` takes two parameters [from, to]",
                            r.name
                        ),
                    ));
                    continue;
                }
                for p in pair {
                    if types.get(p).is_some_and(|t| {
                        *t != ParamType::Date
                            && *t != ParamType::Integer
                            && *t != ParamType::Numeric
                    }) {
                        errors.push(err(
                            &here,
                            format!("relation `{}`: `{p}` must be a date or a number", r.name),
                        ));
                    }
                }
                let measures = if r.measures.is_empty() {
                    vec!["rows".to_string()]
                } else {
                    r.measures.clone()
                };
                RelationKind::Narrower {
                    from: pair[0].clone(),
                    to: pair[1].clone(),
                    measures,
                }
            }
            _ => {
                errors.push(
                    err(
                        &here,
                        format!(
                            "relation `{}` needs exactly one of `partition`, `subset`, `narrower`",
                            r.name
                        ),
                    )
                    .help("see docs/check-files.md, section relations"),
                );
                continue;
            }
        };
        let used: Vec<&String> = match &kind {
            RelationKind::Partition { param, .. } | RelationKind::Subset { param, .. } => {
                vec![param]
            }
            RelationKind::Narrower { from, to, .. } => vec![from, to],
        };
        for p in used {
            if !param_known(p) {
                let known: Vec<String> = types.keys().cloned().collect();
                let mut e = err(
                    &here,
                    format!(
                        "relation `{}` refers to parameter `{p}`, which no set has",
                        r.name
                    ),
                );
                if let Some(c) = closest(p, &known) {
                    e = e.help(format!("did you mean `{c}`?"));
                }
                errors.push(e);
            }
        }
        if crate::checks::relations::possible_comparisons(&kind, sets) == 0 {
            let why = match &kind {
                RelationKind::Partition { param, total, .. } => format!(
                    "it needs a set with {param} = {total} (the total) and, beside it, sets that \
                     differ only in {param} (the parts)"
                ),
                RelationKind::Subset { param, total, .. } => format!(
                    "it needs a set with {param} = {total} and sets that differ from it only in {param}"
                ),
                RelationKind::Narrower { from, to, .. } => format!(
                    "it needs two sets that differ only in [{from}, {to}], one window inside the other"
                ),
            };
            errors.push(
                err(
                    &here,
                    format!(
                        "relation `{}` can never compare anything with these parameter sets",
                        r.name
                    ),
                )
                .help(format!("{why}; add such sets or remove the relation")),
            );
        }
        relations.push(Relation {
            name: r.name,
            kind,
            tolerance: tol(r.tolerance, "relations", errors),
            scope: scope(r.severity, r.environments),
        });
    }
    let snap = e.snapshot.unwrap_or_default();
    if let Some(p) = snap.precision {
        if p > 30 {
            errors.push(err(
                "precision",
                "snapshot precision must be at most 30 decimal places".into(),
            ));
        }
    }
    Expect {
        columns,
        row_bounds: e.rows.map(|b| (b.min, b.max)),
        not_null: e.not_null,
        unique: e.unique.into_iter().map(|k| k.0).collect(),
        accepted_values: e
            .accepted_values
            .into_iter()
            .map(|a| AcceptedValues {
                column: a.column,
                values: a.values.iter().filter_map(scalar_text).collect(),
                allow_null: a.allow_null,
                severity: a.severity,
            })
            .collect(),
        order_by: e.order_by,
        row_checks,
        aggregate_checks,
        reconcile,
        relations,
        snapshot: SnapshotSpec {
            enabled: snap.enabled.unwrap_or(true),
            precision: snap.precision,
            redact: snap.redact,
        },
    }
}

/// Every `:name` in a check's own SQL (predicates, verification queries)
/// has a value in every parameter set; psql variables are refused. `err`
/// places an error on the line holding a text (the parameter, or `anchor`).
fn check_params(
    what: &str,
    anchor: &str,
    sql_text: &str,
    sets: &[ParamSet],
    err: &dyn Fn(&str, String) -> InputError,
    errors: &mut Vec<InputError>,
) {
    let scanned = sql::scan(sql_text);
    let mut reported = BTreeSet::new();
    for p in &scanned.params {
        for s in sets {
            if !s.values.contains_key(&p.name) && reported.insert(p.name.clone()) {
                errors.push(
                    err(
                        &format!(":{}", p.name),
                        format!(
                            "{what} uses :{} which has no value in set `{}`",
                            p.name, s.name
                        ),
                    )
                    .help(format!(
                        "{what} may use only the check's parameters; give `{}` a value in every set or remove it",
                        p.name
                    )),
                );
            }
        }
    }
    for v in &scanned.psql_variables {
        errors.push(
            err(
                anchor,
                format!(
                    "{what} writes `{}` as a psql variable (:'{}'), which assay does not expand",
                    v.name, v.name
                ),
            )
            .help(format!(
                "assay parameters are written :{} (no quotes)",
                v.name
            )),
        );
    }
}
