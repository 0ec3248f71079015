//! Row predicates, aggregate predicates and declared sort order, evaluated by
//! Postgres over the output that was already fetched (sent back as JSON), so
//! the query under test is never executed again and SQL semantics (NULLs,
//! collation, numeric types) are Postgres's own.

use super::{sample, Outcome};
use crate::output::QueryOutput;
use crate::sql::quote_ident;
use crate::suite::{Environment, Expect, Severity};

/// One predicate to evaluate; it contributes a violation count and sample rows.
#[derive(Debug, Clone)]
pub struct Item {
    pub kind: &'static str,
    pub name: String,
    pub severity: Severity,
    /// Two select-list expressions: violations (int8) and sample ordinals (int8[]).
    pub select: String,
    pub describe: String,
}

/// Types Postgres can read back from their text form in `jsonb_to_recordset`.
/// Not json/jsonb: a JSON string given for such a column stays a JSON string
/// (`'"{..}"'`), so they are read as text and cast back (see [`restored`]).
fn recordset_type(ty: &str) -> &str {
    match ty {
        "int2" | "int4" | "int8" | "float4" | "float8" | "numeric" | "text" | "varchar"
        | "bpchar" | "bool" | "date" | "timestamp" | "timestamptz" | "time" | "text[]"
        | "int4[]" | "int8[]" | "numeric[]" | "date[]" | "name" => ty,
        _ => "text",
    }
}

/// A column of `src` under its own name, with its type when it was read as text.
fn restored(name: &str, ty: &str) -> String {
    let q = quote_ident(name);
    match ty {
        "json" | "jsonb" => format!("{q}::{ty} as {q}"),
        _ => q,
    }
}

/// The items that apply in `env`, and the skipped ones as outcomes.
pub fn items(
    expect: &Expect,
    check_severity: Severity,
    env: Environment,
    sample_rows: usize,
) -> (Vec<Item>, Vec<Outcome>) {
    let mut items = Vec::new();
    let mut skipped = Vec::new();
    let n = sample_rows;
    for r in &expect.row_checks {
        let sev = r.scope.severity.unwrap_or(check_severity);
        if !r.scope.applies_to(env) {
            skipped.push(Outcome::skip(
                "row_check",
                &r.name,
                sev,
                format!("not run on {env}"),
            ));
            continue;
        }
        let p = &r.predicate;
        items.push(Item {
            kind: "row_check",
            name: r.name.clone(),
            severity: sev,
            select: format!(
                "(select count(*) from src where ({p}) is not true), \
                 (select coalesce(array_agg(o), '{{}}') from (select __assay_ord o from src where ({p}) is not true order by 1 limit {n}) s)"
            ),
            describe: format!("rows where `{p}` is not true"),
        });
    }
    for a in &expect.aggregate_checks {
        let sev = a.scope.severity.unwrap_or(check_severity);
        if !a.scope.applies_to(env) {
            skipped.push(Outcome::skip(
                "aggregate_check",
                &a.name,
                sev,
                format!("not run on {env}"),
            ));
            continue;
        }
        let p = &a.predicate;
        items.push(Item {
            kind: "aggregate_check",
            name: a.name.clone(),
            severity: sev,
            select: format!(
                "(select case when ({p}) then 0::int8 else 1::int8 end from out), '{{}}'::int8[]"
            ),
            describe: format!("`{p}` is not true over the output"),
        });
    }
    if let Some(order) = &expect.order_by {
        items.push(Item {
            kind: "order_by",
            name: "order_by".into(),
            severity: check_severity,
            select: format!(
                "(select count(*) from (select rnk, lag(rnk) over (order by __assay_ord) prev from \
                   (select __assay_ord, rank() over (order by {order}) rnk from src) r) x where prev > rnk), \
                 (select coalesce(array_agg(o), '{{}}') from (select o from (select __assay_ord o, rnk, lag(rnk) over (order by __assay_ord) prev from \
                   (select __assay_ord, rank() over (order by {order}) rnk from src) r) x where prev > rnk order by o limit {n}) s)"
            ),
            describe: format!("rows out of the declared order `{order}`"),
        });
    }
    (items, skipped)
}

/// The statement evaluating `items` over the output bound as `$1` (JSON).
pub fn statement(out: &QueryOutput, items: &[Item]) -> String {
    let mut defs: Vec<String> = out
        .columns
        .iter()
        .map(|c| format!("{} {}", quote_ident(&c.name), recordset_type(&c.ty)))
        .collect();
    defs.push("__assay_ord int8".into());
    let mut src: Vec<String> = out
        .columns
        .iter()
        .map(|c| restored(&c.name, &c.ty))
        .collect();
    src.push("__assay_ord".into());
    let cols: Vec<String> = out.columns.iter().map(|c| quote_ident(&c.name)).collect();
    let select: Vec<String> = items.iter().map(|i| i.select.clone()).collect();
    format!(
        "with src as (select {} from jsonb_to_recordset($1::jsonb) as t({})),\n out as (select {} from src)\nselect {}",
        src.join(", "),
        defs.join(", "),
        if cols.is_empty() { "1 as __assay_empty".to_string() } else { cols.join(", ") },
        select.join(",\n ")
    )
}

/// The output as a JSON array of objects (values as Postgres text), with ordinals.
pub fn output_json(out: &QueryOutput) -> serde_json::Value {
    let rows: Vec<serde_json::Value> = out
        .rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut m = serde_json::Map::new();
            for (c, v) in out.columns.iter().zip(r) {
                m.insert(
                    c.name.clone(),
                    v.to_sql_text()
                        .map(serde_json::Value::String)
                        .unwrap_or(serde_json::Value::Null),
                );
            }
            m.insert("__assay_ord".into(), serde_json::Value::from(i as i64));
            serde_json::Value::Object(m)
        })
        .collect();
    serde_json::Value::Array(rows)
}

/// Turns (violations, sample ordinals) per item into outcomes.
pub fn interpret(out: &QueryOutput, items: &[Item], answers: &[(i64, Vec<i64>)]) -> Vec<Outcome> {
    items
        .iter()
        .zip(answers)
        .map(|(item, (violations, ords))| {
            if *violations == 0 {
                Outcome::pass(item.kind, &item.name, item.severity, "holds")
            } else {
                let idx: Vec<usize> = ords.iter().map(|&o| o as usize).collect();
                let msg = if item.kind == "aggregate_check" {
                    item.describe.clone()
                } else {
                    format!("{violations} {}", item.describe)
                };
                Outcome::fail(item.kind, &item.name, item.severity, msg)
                    .with_details(sample::rows(out, &idx))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::{int, num, output, text};
    use crate::checks::Status;
    use crate::output::Cell;
    use crate::suite::{AggregateCheck, RowCheck, Scope};

    fn scope(severity: Option<Severity>, envs: Option<Vec<Environment>>) -> Scope {
        Scope {
            severity,
            environments: envs,
        }
    }

    fn expect() -> Expect {
        Expect {
            row_checks: vec![
                RowCheck {
                    name: "positive".into(),
                    predicate: "orders > 0".into(),
                    scope: scope(None, None),
                },
                RowCheck {
                    name: "prod_only".into(),
                    predicate: "amount >= 0".into(),
                    scope: scope(None, Some(vec![Environment::Production])),
                },
            ],
            aggregate_checks: vec![
                AggregateCheck {
                    name: "some_rows".into(),
                    predicate: "count(*) > 0".into(),
                    scope: scope(Some(Severity::Warn), None),
                },
                AggregateCheck {
                    name: "fixtures_only".into(),
                    predicate: "sum(orders) = 3".into(),
                    scope: scope(Some(Severity::Warn), Some(vec![Environment::Fixtures])),
                },
            ],
            order_by: Some("orders desc".into()),
            ..Default::default()
        }
    }

    #[test]
    fn items_in_their_environment_others_skipped() {
        let (items, skipped) = super::items(&expect(), Severity::Error, Environment::Fixtures, 3);
        let names: Vec<(&str, &str, Severity)> = items
            .iter()
            .map(|i| (i.kind, i.name.as_str(), i.severity))
            .collect();
        assert_eq!(
            names,
            vec![
                ("row_check", "positive", Severity::Error),
                ("aggregate_check", "some_rows", Severity::Warn),
                ("aggregate_check", "fixtures_only", Severity::Warn),
                ("order_by", "order_by", Severity::Error),
            ]
        );
        assert_eq!(skipped.len(), 1);
        assert_eq!(skipped[0].status, Status::Skip);
        assert_eq!(skipped[0].kind, "row_check");
        assert_eq!(skipped[0].name, "prod_only");
        assert_eq!(skipped[0].message, "not run on fixtures");

        let (items, skipped) = super::items(&expect(), Severity::Error, Environment::Production, 3);
        let names: Vec<&str> = items.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(
            names,
            vec!["positive", "prod_only", "some_rows", "order_by"]
        );
        assert_eq!(skipped.len(), 1);
        assert_eq!(skipped[0].kind, "aggregate_check");
        assert_eq!(skipped[0].name, "fixtures_only");
        // A skipped item keeps its own severity.
        assert_eq!(skipped[0].severity, Severity::Warn);
        assert_eq!(skipped[0].message, "not run on production");
    }

    #[test]
    fn item_sql_counts_violations_and_limits_samples() {
        let (items, _) = super::items(&expect(), Severity::Error, Environment::Fixtures, 3);
        let row = &items[0];
        // NULL is a violation (`is not true`); samples are ordinals, at most 3.
        assert_eq!(
            row.select,
            "(select count(*) from src where (orders > 0) is not true), \
             (select coalesce(array_agg(o), '{}') from (select __assay_ord o from src where (orders > 0) is not true order by 1 limit 3) s)"
        );
        assert_eq!(row.describe, "rows where `orders > 0` is not true");
        let agg = &items[1];
        // NULL is not true: `case when NULL` takes the else branch.
        assert_eq!(
            agg.select,
            "(select case when (count(*) > 0) then 0::int8 else 1::int8 end from out), '{}'::int8[]"
        );
        assert_eq!(agg.describe, "`count(*) > 0` is not true over the output");
        let order = &items[3];
        assert!(
            order
                .select
                .contains("rank() over (order by orders desc) rnk"),
            "{}",
            order.select
        );
        assert!(
            order.select.contains("where prev > rnk"),
            "{}",
            order.select
        );
        assert!(
            order.select.ends_with("order by o limit 3) s)"),
            "{}",
            order.select
        );
        assert_eq!(
            order.describe,
            "rows out of the declared order `orders desc`"
        );
    }

    #[test]
    fn no_expectations_no_items() {
        let (items, skipped) = super::items(
            &Expect::default(),
            Severity::Error,
            Environment::Fixtures,
            5,
        );
        assert!(items.is_empty());
        assert!(skipped.is_empty());
    }

    fn typed(types: &[&str]) -> QueryOutput {
        let cols: Vec<(String, &str)> = types
            .iter()
            .enumerate()
            .map(|(i, t)| (format!("c{i}"), *t))
            .collect();
        let cols: Vec<(&str, &str)> = cols.iter().map(|(n, t)| (n.as_str(), *t)).collect();
        output(&cols, vec![])
    }

    #[test]
    fn statement_declares_every_column_with_a_readable_type() {
        let readable = [
            "int2",
            "int4",
            "int8",
            "float4",
            "float8",
            "numeric",
            "text",
            "varchar",
            "bpchar",
            "bool",
            "date",
            "timestamp",
            "timestamptz",
            "time",
            "text[]",
            "int4[]",
            "int8[]",
            "numeric[]",
            "date[]",
            "name",
        ];
        let sql = statement(&typed(&readable), &[]);
        for (i, t) in readable.iter().enumerate() {
            assert!(sql.contains(&format!("\"c{i}\" {t},")), "c{i} {t}: {sql}");
        }
        // Anything else travels as text; json and jsonb are cast back in
        // `src` (given as JSON strings they would stay strings).
        let sql = statement(&typed(&["json", "jsonb", "int8"]), &[]);
        assert!(
            sql.starts_with(
                "with src as (select \"c0\"::json as \"c0\", \"c1\"::jsonb as \"c1\", \"c2\", __assay_ord \
                 from jsonb_to_recordset($1::jsonb) as t(\"c0\" text, \"c1\" text, \"c2\" int8, __assay_ord int8)),"
            ),
            "{sql}"
        );
        let other = [
            "uuid",
            "interval",
            "inet",
            "bytea",
            "money",
            "timetz",
            "mood",
            "int4range",
        ];
        let sql = statement(&typed(&other), &[]);
        let defs: Vec<String> = (0..other.len()).map(|i| format!("\"c{i}\" text")).collect();
        assert!(
            sql.contains(&format!("as t({}, __assay_ord int8))", defs.join(", "))),
            "{sql}"
        );
    }

    #[test]
    fn statement_shape_quotes_names_and_selects_each_item() {
        let out = output(
            &[("orders", "int8"), ("we\"ird Name", "text")],
            vec![vec![int(1), text("a")]],
        );
        let (items, _) = super::items(&expect(), Severity::Error, Environment::Production, 2);
        let sql = statement(&out, &items[..2]);
        assert_eq!(
            sql,
            format!(
                "with src as (select \"orders\", \"we\"\"ird Name\", __assay_ord from jsonb_to_recordset($1::jsonb) as t(\"orders\" int8, \"we\"\"ird Name\" text, __assay_ord int8)),\n \
                 out as (select \"orders\", \"we\"\"ird Name\" from src)\nselect {},\n {}",
                items[0].select, items[1].select
            )
        );
        // An output without columns still has a relation `out`.
        let sql = statement(&QueryOutput::default(), &items[..1]);
        assert!(
            sql.starts_with(
                "with src as (select __assay_ord from jsonb_to_recordset($1::jsonb) as t(__assay_ord int8)),\n \
                 out as (select 1 as __assay_empty from src)"
            ),
            "{sql}"
        );
    }

    #[test]
    fn output_json_sends_postgres_text_and_ordinals() {
        let out = output(
            &[
                ("n", "int8"),
                ("x", "numeric"),
                ("b", "bool"),
                ("t", "text"),
            ],
            vec![
                vec![int(1), num("1.500"), Cell::Bool(true), text("a")],
                vec![
                    Cell::Null,
                    Cell::Float(f64::NAN),
                    Cell::Bool(false),
                    Cell::Null,
                ],
            ],
        );
        assert_eq!(
            output_json(&out),
            serde_json::json!([
                {"n": "1", "x": "1.5", "b": "true", "t": "a", "__assay_ord": 0},
                {"n": null, "x": "NaN", "b": "false", "t": null, "__assay_ord": 1},
            ])
        );
    }

    fn sample_output() -> QueryOutput {
        output(
            &[("customer", "text"), ("orders", "int8")],
            vec![
                vec![text("a"), int(1)],
                vec![text("b"), int(0)],
                vec![text("c"), Cell::Null],
            ],
        )
    }

    #[test]
    fn interpret_turns_counts_into_outcomes_with_sample_rows() {
        let (items, _) = super::items(&expect(), Severity::Error, Environment::Fixtures, 5);
        let answers = vec![
            (2, vec![1, 2]), // row_check: rows 2 and 3 fail
            (0, vec![]),     // aggregate holds
            (1, vec![]),     // aggregate fails
            (1, vec![0]),    // order: row 1 out of order
        ];
        let v = interpret(&sample_output(), &items, &answers);
        assert_eq!(v.len(), 4);

        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(v[0].kind, "row_check");
        assert_eq!(v[0].name, "positive");
        assert_eq!(v[0].message, "2 rows where `orders > 0` is not true");
        assert_eq!(
            v[0].details,
            vec![
                "row 2: customer=b orders=0",
                "row 3: customer=c orders=NULL"
            ]
        );

        assert_eq!(v[1].status, Status::Pass);
        assert_eq!(v[1].message, "holds");
        assert_eq!(v[1].severity, Severity::Warn);
        assert!(v[1].details.is_empty());

        // An aggregate has no count to show: the description alone.
        assert_eq!(v[2].status, Status::Fail);
        assert_eq!(
            v[2].message,
            "`sum(orders) = 3` is not true over the output"
        );
        assert!(v[2].details.is_empty());

        assert_eq!(v[3].status, Status::Fail);
        assert_eq!(v[3].kind, "order_by");
        assert_eq!(
            v[3].message,
            "1 rows out of the declared order `orders desc`"
        );
        assert_eq!(v[3].details, vec!["row 1: customer=a orders=1"]);
    }

    #[test]
    fn interpret_ignores_sample_ordinals_outside_the_output() {
        let (items, _) = super::items(&expect(), Severity::Error, Environment::Fixtures, 5);
        let v = interpret(&sample_output(), &items[..1], &[(4, vec![0, 7])]);
        assert_eq!(v[0].message, "4 rows where `orders > 0` is not true");
        assert_eq!(v[0].details, vec!["row 1: customer=a orders=1"]);
    }
}
