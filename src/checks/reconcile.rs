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
