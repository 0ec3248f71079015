//! Compares an endpoint's output with the answer of a verification query.

use super::Outcome;
use crate::compare::{self, CompareOptions};
use crate::output::{cells_match, QueryOutput};
use crate::suite::{CompareKind, Reconcile, Severity};

pub fn compare(
    r: &Reconcile,
    severity: Severity,
    out: &QueryOutput,
    verification: &QueryOutput,
) -> Outcome {
    match r.compare {
        CompareKind::Scalar => scalar(r, severity, out, verification),
        CompareKind::Rows => rows(r, severity, out, verification),
    }
}

fn scalar(r: &Reconcile, sev: Severity, out: &QueryOutput, ver: &QueryOutput) -> Outcome {
    let column = r.column.as_deref().unwrap_or_default();
    let Some(i) = out.column_index(column) else {
        return Outcome::fail(
            "reconcile",
            &r.name,
            sev,
            format!(
                "no column `{column}` in the output (columns: {})",
                out.column_names().join(", ")
            ),
        );
    };
    if out.rows.is_empty() {
        return Outcome::fail(
            "reconcile",
            &r.name,
            sev,
            "the output has no rows to compare",
        );
    }
    if ver.rows.len() != 1 || ver.columns.len() != 1 {
        return Outcome::fail(
            "reconcile",
            &r.name,
            sev,
            format!(
                "the verification query must return one value; it returned {} rows x {} columns",
                ver.rows.len(),
                ver.columns.len()
            ),
        );
    }
    let got = &out.rows[0][i];
    let want = &ver.rows[0][0];
    if cells_match(got, want, r.tolerance) {
        Outcome::pass("reconcile", &r.name, sev, format!("{column} = {got}"))
    } else {
        Outcome::fail(
            "reconcile",
            &r.name,
            sev,
            format!(
                "{column} = {got}, verification says {want} (tolerance {})",
                r.tolerance
            ),
        )
    }
}

/// `o` restricted to `cols`, in that order.
fn project(o: &QueryOutput, cols: &[String]) -> Result<QueryOutput, String> {
    let idx: Vec<usize> = cols
        .iter()
        .map(|c| {
            o.column_index(c).ok_or_else(|| {
                format!("no column `{c}` (columns: {})", o.column_names().join(", "))
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(QueryOutput {
        columns: idx.iter().map(|&i| o.columns[i].clone()).collect(),
        rows: o
            .rows
            .iter()
            .map(|r| idx.iter().map(|&i| r[i].clone()).collect())
            .collect(),
    })
}

/// The output's rows against the verification query's, as a multiset on
/// `columns` (the one comparison every command shares; column types may
/// differ, values are compared by value).
fn rows(r: &Reconcile, sev: Severity, out: &QueryOutput, ver: &QueryOutput) -> Outcome {
    let (a, mut b) = match (project(out, &r.columns), project(ver, &r.columns)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) => return Outcome::fail("reconcile", &r.name, sev, format!("output: {e}")),
        (_, Err(e)) => {
            return Outcome::fail("reconcile", &r.name, sev, format!("verification: {e}"))
        }
    };
    b.columns = a.columns.clone();
    let opts = CompareOptions {
        tolerance: r.tolerance,
        samples: 5,
        ..Default::default()
    };
    // Base: the verification query; current: the endpoint's output.
    let cmp = compare::compare(&b, &a, &opts);
    if cmp.is_same() {
        Outcome::pass(
            "reconcile",
            &r.name,
            sev,
            format!("{} rows match on {}", a.rows.len(), r.columns.join(", ")),
        )
    } else {
        let mut details = Vec::new();
        let mut counts = String::new();
        if let compare::RowDiff::Multiset {
            matched,
            extra,
            missing,
        } = &cmp.rows
        {
            counts = format!(
                " ({matched} rows match, {} only in the output, {} only in the verification)",
                extra.count, missing.count
            );
            details.extend(
                extra
                    .samples
                    .iter()
                    .map(|s| format!("output only       {s}")),
            );
            details.extend(
                missing
                    .samples
                    .iter()
                    .map(|s| format!("verification only {s}")),
            );
        }
        Outcome::fail(
            "reconcile",
            &r.name,
            sev,
            format!(
                "rows differ from the verification query on {}{counts}",
                r.columns.join(", ")
            ),
        )
        .with_details(details)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::{everywhere, int, num, output, text};
    use crate::checks::Status;
    use crate::output::Cell;
    use crate::sql::Rewritten;

    fn reconcile(
        compare: CompareKind,
        column: Option<&str>,
        columns: &[&str],
        tol: f64,
    ) -> Reconcile {
        Reconcile {
            name: "matches".into(),
            sql: "select 1".into(),
            statement: Rewritten {
                sql: "select 1".into(),
                order: vec![],
            },
            compare,
            column: column.map(str::to_string),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            tolerance: tol,
            exact: false,
            scope: everywhere(),
        }
    }

    fn scalar_rule(tol: f64) -> Reconcile {
        reconcile(CompareKind::Scalar, Some("orders"), &[], tol)
    }

    fn kpi(orders: Cell) -> QueryOutput {
        output(
            &[("amount", "numeric"), ("orders", "int8")],
            vec![vec![num("1.5"), orders]],
        )
    }

    fn one_value(v: Cell) -> QueryOutput {
        output(&[("count", "int8")], vec![vec![v]])
    }

    #[test]
    fn scalar_match_passes() {
        let o = compare(
            &scalar_rule(0.0),
            Severity::Warn,
            &kpi(int(42)),
            &one_value(int(42)),
        );
        assert_eq!(o.status, Status::Pass);
        assert_eq!(o.kind, "reconcile");
        assert_eq!(o.name, "matches");
        assert_eq!(o.severity, Severity::Warn);
        assert_eq!(o.message, "orders = 42");
        // Types may differ: 42 (int8) is 42.000 (numeric); NULL is NULL.
        let o = compare(
            &scalar_rule(0.0),
            Severity::Error,
            &kpi(int(42)),
            &one_value(num("42.000")),
        );
        assert_eq!(o.status, Status::Pass);
        let o = compare(
            &scalar_rule(0.0),
            Severity::Error,
            &kpi(Cell::Null),
            &one_value(Cell::Null),
        );
        assert_eq!(o.status, Status::Pass);
        assert_eq!(o.message, "orders = NULL");
    }

    #[test]
    fn scalar_mismatch_names_both_values_and_the_tolerance() {
        let o = compare(
            &scalar_rule(0.5),
            Severity::Error,
            &kpi(int(42)),
            &one_value(int(40)),
        );
        assert_eq!(o.status, Status::Fail);
        assert_eq!(
            o.message,
            "orders = 42, verification says 40 (tolerance 0.5)"
        );
        let o = compare(
            &scalar_rule(0.0),
            Severity::Error,
            &kpi(Cell::Null),
            &one_value(int(0)),
        );
        assert_eq!(o.status, Status::Fail);
        assert_eq!(
            o.message,
            "orders = NULL, verification says 0 (tolerance 0)"
        );
    }

    #[test]
    fn scalar_tolerance_is_inclusive() {
        let rule = scalar_rule(0.5);
        let at = compare(
            &rule,
            Severity::Error,
            &kpi(num("42.5")),
            &one_value(int(42)),
        );
        assert_eq!(at.status, Status::Pass, "{at:?}");
        let below = compare(
            &rule,
            Severity::Error,
            &kpi(num("41.5")),
            &one_value(int(42)),
        );
        assert_eq!(below.status, Status::Pass, "{below:?}");
        let past = compare(
            &rule,
            Severity::Error,
            &kpi(num("42.51")),
            &one_value(int(42)),
        );
        assert_eq!(past.status, Status::Fail);
    }

    #[test]
    fn scalar_compares_the_first_row_only() {
        let out = output(&[("orders", "int8")], vec![vec![int(7)], vec![int(8)]]);
        let o = compare(&scalar_rule(0.0), Severity::Error, &out, &one_value(int(7)));
        assert_eq!(o.status, Status::Pass);
        let o = compare(&scalar_rule(0.0), Severity::Error, &out, &one_value(int(8)));
        assert_eq!(o.status, Status::Fail);
    }

    #[test]
    fn scalar_missing_column_fails_listing_the_columns() {
        let rule = reconcile(CompareKind::Scalar, Some("order"), &[], 0.0);
        let o = compare(&rule, Severity::Error, &kpi(int(1)), &one_value(int(1)));
        assert_eq!(o.status, Status::Fail);
        assert_eq!(
            o.message,
            "no column `order` in the output (columns: amount, orders)"
        );
    }

    #[test]
    fn scalar_empty_output_fails() {
        let empty = output(&[("amount", "numeric"), ("orders", "int8")], vec![]);
        let o = compare(
            &scalar_rule(0.0),
            Severity::Error,
            &empty,
            &one_value(int(1)),
        );
        assert_eq!(o.status, Status::Fail);
        assert_eq!(o.message, "the output has no rows to compare");
    }

    #[test]
    fn scalar_verification_must_return_exactly_one_value() {
        let rule = scalar_rule(0.0);
        let two_rows = output(&[("count", "int8")], vec![vec![int(1)], vec![int(1)]]);
        let o = compare(&rule, Severity::Error, &kpi(int(1)), &two_rows);
        assert_eq!(o.status, Status::Fail);
        assert_eq!(
            o.message,
            "the verification query must return one value; it returned 2 rows x 1 columns"
        );
        let no_rows = output(&[("count", "int8")], vec![]);
        let o = compare(&rule, Severity::Error, &kpi(int(1)), &no_rows);
        assert_eq!(
            o.message,
            "the verification query must return one value; it returned 0 rows x 1 columns"
        );
        let two_columns = output(&[("a", "int8"), ("b", "int8")], vec![vec![int(1), int(1)]]);
        let o = compare(&rule, Severity::Error, &kpi(int(1)), &two_columns);
        assert_eq!(o.status, Status::Fail);
        assert_eq!(
            o.message,
            "the verification query must return one value; it returned 1 rows x 2 columns"
        );
    }

    fn customers(rows: &[(&str, Cell)]) -> QueryOutput {
        output(
            &[("customer", "text"), ("orders", "int8"), ("note", "text")],
            rows.iter()
                .map(|(c, l)| vec![text(c), l.clone(), text("ignored")])
                .collect(),
        )
    }

    fn verification(rows: &[(&str, Cell)]) -> QueryOutput {
        // Other column order and types than the output.
        output(
            &[("orders", "numeric"), ("customer", "varchar")],
            rows.iter().map(|(c, l)| vec![l.clone(), text(c)]).collect(),
        )
    }

    fn rows_rule(tol: f64) -> Reconcile {
        reconcile(CompareKind::Rows, None, &["customer", "orders"], tol)
    }

    #[test]
    fn rows_match_as_a_multiset_in_any_order() {
        let out = customers(&[("c1", int(10)), ("c2", Cell::Null), ("c1", int(10))]);
        let ver = verification(&[("c2", Cell::Null), ("c1", num("10.0")), ("c1", int(10))]);
        let o = compare(&rows_rule(0.0), Severity::Error, &out, &ver);
        assert_eq!(o.status, Status::Pass, "{o:?}");
        assert_eq!(o.message, "3 rows match on customer, orders");
    }

    #[test]
    fn rows_within_tolerance_match() {
        let out = customers(&[("c1", num("10.5"))]);
        let ver = verification(&[("c1", int(10))]);
        assert_eq!(
            compare(&rows_rule(0.5), Severity::Error, &out, &ver).status,
            Status::Pass
        );
        assert_eq!(
            compare(&rows_rule(0.4), Severity::Error, &out, &ver).status,
            Status::Fail
        );
    }

    #[test]
    fn rows_that_differ_fail_with_counts_and_samples() {
        // c1 twice in the output, once in the verification; c3 only in the verification.
        let out = customers(&[("c1", int(10)), ("c2", int(5)), ("c1", int(10))]);
        let ver = verification(&[("c2", int(5)), ("c1", int(10)), ("c3", int(1))]);
        let o = compare(&rows_rule(0.0), Severity::Error, &out, &ver);
        assert_eq!(o.status, Status::Fail);
        assert_eq!(
            o.message,
            "rows differ from the verification query on customer, orders \
             (2 rows match, 1 only in the output, 1 only in the verification)"
        );
        assert_eq!(
            o.details,
            vec![
                "output only       customer=c1 orders=10",
                "verification only customer=c3 orders=1",
            ]
        );
    }

    #[test]
    fn rows_samples_are_capped_at_five_but_counted_in_full() {
        let extra: Vec<(String, Cell)> = (0..7).map(|i| (format!("x{i}"), int(i))).collect();
        let extra: Vec<(&str, Cell)> = extra.iter().map(|(c, l)| (c.as_str(), l.clone())).collect();
        let o = compare(
            &rows_rule(0.0),
            Severity::Error,
            &customers(&extra),
            &verification(&[]),
        );
        assert_eq!(o.status, Status::Fail);
        assert!(
            o.message
                .ends_with("(0 rows match, 7 only in the output, 0 only in the verification)"),
            "{}",
            o.message
        );
        assert_eq!(o.details.len(), 5);
        assert_eq!(o.details[0], "output only       customer=x0 orders=0");
    }

    #[test]
    fn rows_missing_column_names_the_side() {
        let rule = reconcile(CompareKind::Rows, None, &["customer", "amount"], 0.0);
        let out = customers(&[("c1", int(1))]);
        let o = compare(
            &rule,
            Severity::Error,
            &out,
            &verification(&[("c1", int(1))]),
        );
        assert_eq!(o.status, Status::Fail);
        assert_eq!(
            o.message,
            "output: no column `amount` (columns: customer, orders, note)"
        );
        let rule = reconcile(CompareKind::Rows, None, &["customer", "note"], 0.0);
        let o = compare(
            &rule,
            Severity::Error,
            &out,
            &verification(&[("c1", int(1))]),
        );
        assert_eq!(o.status, Status::Fail);
        assert_eq!(
            o.message,
            "verification: no column `note` (columns: orders, customer)"
        );
    }
}
