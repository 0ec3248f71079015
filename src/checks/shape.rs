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
                vec![Cell::Text("web".into()), Cell::Int(1)],
                vec![Cell::Text("web".into()), Cell::Null],
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
        assert_eq!(v[2].details, vec!["row 2: p=web n=NULL"]);
    }

    fn spec(name: &str, ty: Option<&str>, nullable: Option<bool>) -> ColumnSpec {
        ColumnSpec {
            name: name.into(),
            ty: ty.map(str::to_string),
            nullable,
        }
    }

    fn one(expect: &Expect, o: &QueryOutput) -> Outcome {
        let mut v = evaluate(expect, o, Severity::Error, 5);
        assert_eq!(v.len(), 1, "{v:#?}");
        v.remove(0)
    }

    #[test]
    fn matching_columns_pass() {
        let expect = Expect {
            columns: Some(vec![
                spec("p", Some("text"), Some(true)),
                spec("n", None, None),
            ]),
            ..Default::default()
        };
        let o = one(&expect, &out());
        assert_eq!(o.status, Status::Pass);
        assert_eq!(o.name, "columns");
        assert_eq!(o.message, "2 columns as expected");
    }

    #[test]
    fn column_problems_first_in_the_message_then_in_details() {
        let expect = Expect {
            columns: Some(vec![
                spec("n", Some("numeric"), Some(false)),
                spec("p", Some("text"), None),
                spec("gone", Some("text"), None),
            ]),
            ..Default::default()
        };
        let o = one(&expect, &out());
        assert_eq!(o.status, Status::Fail);
        assert_eq!(o.message, "columns are [p, n]; expected [n, p, gone]");
        assert_eq!(
            o.details,
            vec![
                "`n` has type int8; expected numeric",
                "`n` is NULL in 1 rows; expected never NULL",
            ]
        );
    }

    #[test]
    fn row_bounds_are_inclusive_and_worded_by_which_are_given() {
        let with = |min, max| Expect {
            row_bounds: Some((min, max)),
            ..Default::default()
        };
        // out() has 2 rows.
        let o = one(&with(Some(2), Some(2)), &out());
        assert_eq!(o.status, Status::Pass);
        assert_eq!(o.message, "2 rows; expected between 2 and 2 rows");
        let o = one(&with(Some(3), None), &out());
        assert_eq!(o.status, Status::Fail);
        assert_eq!(o.message, "2 rows; expected at least 3 rows");
        let o = one(&with(None, Some(1)), &out());
        assert_eq!(o.status, Status::Fail);
        assert_eq!(o.message, "2 rows; expected at most 1 rows");
        let o = one(&with(None, None), &out());
        assert_eq!(o.status, Status::Pass);
        assert_eq!(o.message, "2 rows; expected any number of rows");
    }

    #[test]
    fn not_null_passes_limits_samples_and_reports_a_missing_column() {
        let expect = Expect {
            not_null: vec!["p".into()],
            ..Default::default()
        };
        let o = one(&expect, &out());
        assert_eq!(o.status, Status::Pass);
        assert_eq!(o.name, "not_null(p)");
        assert_eq!(o.message, "2 rows ok");

        let nulls = QueryOutput {
            columns: out().columns,
            rows: (0..4).map(|i| vec![Cell::Null, Cell::Int(i)]).collect(),
        };
        let v = evaluate(&expect, &nulls, Severity::Warn, 2);
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(v[0].severity, Severity::Warn);
        assert_eq!(v[0].message, "4 rows have NULL in `p`");
        assert_eq!(v[0].details, vec!["row 1: p=NULL n=0", "row 2: p=NULL n=1"]);

        let missing = Expect {
            not_null: vec!["x".into()],
            ..Default::default()
        };
        let o = one(&missing, &out());
        assert_eq!(o.status, Status::Fail);
        assert_eq!(o.message, "no column `x` in the output (columns: p, n)");
    }

    #[test]
    fn unique_keys_compare_by_value_and_null_repeats_null() {
        use bigdecimal::BigDecimal;
        use std::str::FromStr;
        let o = QueryOutput {
            columns: out().columns,
            rows: vec![
                vec![Cell::Text("a".into()), Cell::Int(1)],
                vec![
                    Cell::Text("a".into()),
                    Cell::Numeric(BigDecimal::from_str("1.0").unwrap()),
                ],
                vec![Cell::Text("b".into()), Cell::Null],
                vec![Cell::Text("c".into()), Cell::Null],
            ],
        };
        let by_n = Expect {
            unique: vec![vec!["n".into()]],
            ..Default::default()
        };
        let v = one(&by_n, &o);
        assert_eq!(v.status, Status::Fail);
        assert_eq!(v.name, "unique(n)");
        assert_eq!(v.message, "2 rows repeat a key (n) seen earlier");
        assert_eq!(v.details, vec!["row 2: p=a n=1", "row 4: p=c n=NULL"]);

        let by_both = Expect {
            unique: vec![vec!["p".into(), "n".into()]],
            ..Default::default()
        };
        let v = one(&by_both, &o);
        assert_eq!(v.status, Status::Fail);
        assert_eq!(v.message, "1 rows repeat a key (p, n) seen earlier");

        let by_p_and_missing = Expect {
            unique: vec![vec!["p".into(), "x".into()]],
            ..Default::default()
        };
        let v = one(&by_p_and_missing, &o);
        assert_eq!(v.status, Status::Fail);
        assert_eq!(v.message, "no column `p, x` in the output (columns: p, n)");

        let distinct = QueryOutput {
            columns: out().columns,
            rows: vec![
                vec![Cell::Text("a".into()), Cell::Int(1)],
                vec![Cell::Text("a".into()), Cell::Int(2)],
            ],
        };
        let v = one(&by_both, &distinct);
        assert_eq!(v.status, Status::Pass);
        assert_eq!(v.message, "2 rows ok");
    }

    fn accepted(values: &[&str], allow_null: bool, severity: Option<Severity>) -> Expect {
        Expect {
            accepted_values: vec![crate::suite::AcceptedValues {
                column: "v".into(),
                values: values.iter().map(|v| v.to_string()).collect(),
                allow_null,
                severity,
            }],
            ..Default::default()
        }
    }

    fn values(cells: Vec<Cell>) -> QueryOutput {
        QueryOutput {
            columns: vec![Column {
                name: "v".into(),
                ty: "text".into(),
            }],
            rows: cells.into_iter().map(|c| vec![c]).collect(),
        }
    }

    #[test]
    fn accepted_values_by_text_or_value_with_nulls_as_configured() {
        use bigdecimal::BigDecimal;
        use std::str::FromStr;
        let cells = vec![
            Cell::Text("web".into()),
            Cell::Bool(true),
            Cell::Numeric(BigDecimal::from_str("1.50").unwrap()),
            Cell::Null,
        ];
        let o = one(
            &accepted(&["web", "true", "1.5"], true, None),
            &values(cells.clone()),
        );
        assert_eq!(o.status, Status::Pass, "{o:?}");
        assert_eq!(o.name, "accepted_values(v)");

        let o = one(
            &accepted(&["web", "true", "1.5"], false, Some(Severity::Warn)),
            &values(cells.clone()),
        );
        assert_eq!(o.status, Status::Fail);
        assert_eq!(o.severity, Severity::Warn);
        assert_eq!(
            o.message,
            "1 rows have a `v` outside [web, true, 1.5] (NULL not allowed)"
        );
        assert_eq!(o.details, vec!["row 4: v=NULL"]);

        let o = one(&accepted(&["web"], true, None), &values(cells));
        assert_eq!(o.status, Status::Fail);
        assert_eq!(o.message, "2 rows have a `v` outside [web]");
        assert_eq!(o.details, vec!["row 2: v=true", "row 3: v=1.5"]);

        let o = one(&accepted(&["web"], true, None), &out());
        assert_eq!(o.status, Status::Fail);
        assert_eq!(o.message, "no column `v` in the output (columns: p, n)");
    }
}
