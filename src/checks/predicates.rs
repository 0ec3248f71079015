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
fn recordset_type(ty: &str) -> &str {
    match ty {
        "int2" | "int4" | "int8" | "float4" | "float8" | "numeric" | "text" | "varchar"
        | "bpchar" | "bool" | "date" | "timestamp" | "timestamptz" | "time" | "json" | "jsonb"
        | "text[]" | "int4[]" | "int8[]" | "numeric[]" | "date[]" | "name" => ty,
        _ => "text",
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
    let cols: Vec<String> = out.columns.iter().map(|c| quote_ident(&c.name)).collect();
    let select: Vec<String> = items.iter().map(|i| i.select.clone()).collect();
    format!(
        "with src as (select * from jsonb_to_recordset($1::jsonb) as t({})),\n out as (select {} from src)\nselect {}",
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
