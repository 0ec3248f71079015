//! Checks that need only the output itself: columns and types, row-count
//! bounds, not-null, unique keys, accepted values.

use super::{sample, Outcome, Status};
use crate::output::{Cell, QueryOutput};
use crate::suite::{Expect, Severity};
use std::collections::BTreeMap;

pub fn evaluate(
    expect: &Expect,
    out: &QueryOutput,
    severity: Severity,
    sample_rows: usize,
) -> Vec<Outcome> {
    let mut v = Vec::new();
    if let Some(cols) = &expect.columns {
        v.push(columns(cols, out, severity));
    }
    if let Some((min, max)) = expect.row_bounds {
        let n = out.rows.len() as u64;
        let ok = min.is_none_or(|m| n >= m) && max.is_none_or(|m| n <= m);
        let want = match (min, max) {
            (Some(a), Some(b)) => format!("between {a} and {b}"),
            (Some(a), None) => format!("at least {a}"),
            (None, Some(b)) => format!("at most {b}"),
            (None, None) => "any number of".into(),
        };
        let msg = format!("{n} rows; expected {want} rows");
        v.push(if ok {
            Outcome::pass("rows", "rows", severity, msg)
        } else {
            Outcome::fail("rows", "rows", severity, msg)
        });
    }
    for col in &expect.not_null {
        v.push(match out.column_index(col) {
            None => missing("not_null", col, out, severity),
            Some(i) => {
                let bad: Vec<usize> = (0..out.rows.len())
                    .filter(|&r| out.rows[r][i].is_null())
                    .collect();
                verdict(
                    "not_null",
                    &format!("not_null({col})"),
                    severity,
                    out,
                    &bad,
                    sample_rows,
                    |n| format!("{n} rows have NULL in `{col}`"),
                )
            }
        });
    }
    for key in &expect.unique {
        let name = format!("unique({})", key.join(", "));
        let idx: Option<Vec<usize>> = key.iter().map(|c| out.column_index(c)).collect();
        v.push(match idx {
            None => missing("unique", &key.join(", "), out, severity),
            Some(idx) => {
                let mut seen: BTreeMap<Vec<String>, usize> = BTreeMap::new();
                let mut bad = Vec::new();
                for (r, row) in out.rows.iter().enumerate() {
                    let k: Vec<String> = idx.iter().map(|&i| row[i].canonical()).collect();
                    if seen.insert(k, r).is_some() {
                        bad.push(r);
                    }
                }
                verdict("unique", &name, severity, out, &bad, sample_rows, |n| {
                    format!("{n} rows repeat a key ({}) seen earlier", key.join(", "))
                })
            }
        });
    }
    for a in &expect.accepted_values {
        let sev = a.severity.unwrap_or(severity);
        let name = format!("accepted_values({})", a.column);
        v.push(match out.column_index(&a.column) {
            None => missing("accepted_values", &a.column, out, sev),
            Some(i) => {
                let bad: Vec<usize> = (0..out.rows.len())
                    .filter(|&r| match &out.rows[r][i] {
                        Cell::Null => !a.allow_null,
                        c => !a
                            .values
                            .iter()
                            .any(|v| *v == c.canonical() || Some(v.clone()) == c.to_sql_text()),
                    })
                    .collect();
                verdict("accepted_values", &name, sev, out, &bad, sample_rows, |n| {
                    format!(
                        "{n} rows have a `{}` outside [{}]{}",
                        a.column,
                        a.values.join(", "),
                        if a.allow_null {
                            ""
                        } else {
                            " (NULL not allowed)"
                        }
                    )
                })
            }
        });
    }
    v
}

fn missing(kind: &str, col: &str, out: &QueryOutput, severity: Severity) -> Outcome {
    Outcome::fail(
        kind,
        kind,
        severity,
        format!(
            "no column `{col}` in the output (columns: {})",
            out.column_names().join(", ")
        ),
    )
}

fn verdict(
    kind: &str,
    name: &str,
    severity: Severity,
    out: &QueryOutput,
    bad: &[usize],
    sample_rows: usize,
    describe: impl Fn(usize) -> String,
) -> Outcome {
    if bad.is_empty() {
        Outcome::pass(kind, name, severity, format!("{} rows ok", out.rows.len()))
    } else {
        let shown: Vec<usize> = bad.iter().take(sample_rows).copied().collect();
        Outcome::fail(kind, name, severity, describe(bad.len()))
            .with_details(sample::rows(out, &shown))
    }
}

fn columns(spec: &[crate::suite::ColumnSpec], out: &QueryOutput, severity: Severity) -> Outcome {
    let mut problems = Vec::new();
    let got: Vec<&str> = out.columns.iter().map(|c| c.name.as_str()).collect();
    let want: Vec<&str> = spec.iter().map(|c| c.name.as_str()).collect();
    if got != want {
        problems.push(format!(
            "columns are [{}]; expected [{}]",
            got.join(", "),
            want.join(", ")
        ));
    }
    for s in spec {
        let Some(i) = out.column_index(&s.name) else {
            continue;
        };
        if let Some(t) = &s.ty {
            if &out.columns[i].ty != t {
                problems.push(format!(
                    "`{}` has type {}; expected {}",
                    s.name, out.columns[i].ty, t
                ));
            }
        }
        if s.nullable == Some(false) {
            let nulls = out.rows.iter().filter(|r| r[i].is_null()).count();
            if nulls > 0 {
                problems.push(format!(
                    "`{}` is NULL in {nulls} rows; expected never NULL",
                    s.name
                ));
            }
        }
    }
    if problems.is_empty() {
        Outcome::pass(
            "columns",
            "columns",
            severity,
            format!("{} columns as expected", spec.len()),
        )
    } else {
        let mut o = Outcome::new(
            "columns",
            "columns",
            severity,
            Status::Fail,
            problems[0].clone(),
        );
        o.details = problems[1..].to_vec();
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::Column;
    use crate::suite::ColumnSpec;

    fn out() -> QueryOutput {
        QueryOutput {
            columns: vec![
                Column {
                    name: "p".into(),
                    ty: "text".into(),
                },
                Column {
                    name: "n".into(),
                    ty: "int8".into(),
                },
            ],
            rows: vec![
                vec![Cell::Text("meta".into()), Cell::Int(1)],
                vec![Cell::Text("meta".into()), Cell::Null],
            ],
        }
    }

    #[test]
    fn each_shape_check_can_fail() {
        let expect = Expect {
            columns: Some(vec![
                ColumnSpec {
                    name: "p".into(),
                    ty: Some("text".into()),
                    nullable: None,
                },
                ColumnSpec {
                    name: "n".into(),
                    ty: Some("int8".into()),
                    nullable: Some(false),
                },
            ]),
            row_bounds: Some((Some(3), None)),
            not_null: vec!["n".into()],
            unique: vec![vec!["p".into()]],
            ..Default::default()
        };
        let v = evaluate(&expect, &out(), Severity::Error, 5);
        assert_eq!(v.len(), 4);
        assert!(v.iter().all(|o| o.status == Status::Fail), "{v:#?}");
        assert_eq!(v[2].details, vec!["row 2: p=meta n=NULL"]);
    }
}
