//! Compares an endpoint's output with the answer of a verification query.

use super::Outcome;
use crate::output::{cells_match, Cell, QueryOutput};
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

fn project(o: &QueryOutput, cols: &[String]) -> Result<Vec<Vec<Cell>>, String> {
    let idx: Vec<usize> = cols
        .iter()
        .map(|c| {
            o.column_index(c).ok_or_else(|| {
                format!("no column `{c}` (columns: {})", o.column_names().join(", "))
            })
        })
        .collect::<Result<_, _>>()?;
    let mut rows: Vec<Vec<Cell>> = o
        .rows
        .iter()
        .map(|r| idx.iter().map(|&i| r[i].clone()).collect())
        .collect();
    rows.sort_by(|a, b| {
        a.iter()
            .zip(b)
            .map(|(x, y)| crate::output::compare_cells(x, y))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    Ok(rows)
}

fn render(row: &[Cell], cols: &[String]) -> String {
    cols.iter()
        .zip(row)
        .map(|(c, v)| format!("{c}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn rows(r: &Reconcile, sev: Severity, out: &QueryOutput, ver: &QueryOutput) -> Outcome {
    let (a, b) = match (project(out, &r.columns), project(ver, &r.columns)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) => return Outcome::fail("reconcile", &r.name, sev, format!("output: {e}")),
        (_, Err(e)) => {
            return Outcome::fail("reconcile", &r.name, sev, format!("verification: {e}"))
        }
    };
    let mut details = Vec::new();
    if a.len() != b.len() {
        details.push(format!(
            "output has {} rows, verification {}",
            a.len(),
            b.len()
        ));
    }
    for (x, y) in a.iter().zip(&b) {
        if !x.iter().zip(y).all(|(p, q)| cells_match(p, q, r.tolerance)) {
            details.push(format!("output       {}", render(x, &r.columns)));
            details.push(format!("verification {}", render(y, &r.columns)));
            if details.len() >= 10 {
                break;
            }
        }
    }
    if details.is_empty() {
        Outcome::pass(
            "reconcile",
            &r.name,
            sev,
            format!("{} rows match on {}", a.len(), r.columns.join(", ")),
        )
    } else {
        Outcome::fail(
            "reconcile",
            &r.name,
            sev,
            format!(
                "rows differ from the verification query on {}",
                r.columns.join(", ")
            ),
        )
        .with_details(details)
    }
}
