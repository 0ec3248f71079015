//! Table checks: all rules of one relation become one aggregate statement, so
//! the relation is scanned once inside Postgres and never fetched.

use super::Outcome;
use crate::sql::{quote_ident, quote_literal};
use crate::suite::{TableCheck, TableRule, TableRuleKind};

/// A SQL boolean that is true when text `col` is a real `YYYY-MM-DD` date.
/// Written without casts that could raise, so it never aborts the scan.
pub fn valid_date_sql(col: &str) -> String {
    let y = format!("substr({col}, 1, 4)::int");
    let m = format!("substr({col}, 6, 2)::int");
    let d = format!("substr({col}, 9, 2)::int");
    format!(
        "(case when {col} ~ '^[0-9]{{4}}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$' and substr({col}, 1, 4) <> '0000' \
         then {d} <= case when {m} = 2 then case when ({y} % 4 = 0 and {y} % 100 <> 0) or {y} % 400 = 0 then 29 else 28 end \
         when {m} in (4, 6, 9, 11) then 30 else 31 end else false end)"
    )
}

/// The predicate a violating row satisfies, for rules that have rows to show.
pub fn violation(rule: &TableRule) -> Option<String> {
    Some(match &rule.kind {
        TableRuleKind::NotNull(c) => format!("{} is null", quote_ident(c)),
        TableRuleKind::ValidDate(c) => {
            let q = quote_ident(c);
            format!("{q} is not null and not {}", valid_date_sql(&q))
        }
        TableRuleKind::Pattern { column, regex } => {
            let q = quote_ident(column);
            format!("{q} is not null and {q}::text !~ {}", quote_literal(regex))
        }
        TableRuleKind::AcceptedValues {
            column,
            values,
            allow_null,
        } => {
            let q = quote_ident(column);
            let list = if values.is_empty() {
                "null".to_string()
            } else {
                values
                    .iter()
                    .map(|v| quote_literal(v))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            format!("coalesce({q}::text in ({list}), {allow_null}) = false")
        }
        TableRuleKind::NonNegative(c) => format!("{} < 0", quote_ident(c)),
        _ => return None,
    })
}

/// The select-list expression (as text) for one rule in the one-pass statement.
fn measure(rule: &TableRule, table: &str) -> String {
    match &rule.kind {
        TableRuleKind::RowCount { .. } => "count(*)::text".into(),
        TableRuleKind::Unique(cols) => {
            let row = cols.iter().map(|c| quote_ident(c)).collect::<Vec<_>>().join(", ");
            if cols.len() == 1 {
                format!("(count({row}) - count(distinct {row}))::text")
            } else {
                format!("(count(*) - count(distinct row({row})))::text")
            }
        }
        TableRuleKind::Freshness { column, as_of, .. } => format!(
            "coalesce(extract(epoch from (({as_of})::timestamptz - max({})::timestamptz))::text, 'empty') || '|' || coalesce(max({})::text, '')",
            quote_ident(column),
            quote_ident(column)
        ),
        TableRuleKind::Metric { sql, filter: None, .. } => format!("({sql})::text"),
        TableRuleKind::Metric { sql, filter: Some(f), .. } => format!("(select ({sql}) from {table} where {f})::text"),
        _ => format!("(count(*) filter (where {}))::text", violation(rule).expect("row rules have a violation")),
    }
}

/// One statement computing every rule of the check.
pub fn statement(check: &TableCheck, rules: &[&TableRule]) -> String {
    let cols: Vec<String> = rules.iter().map(|r| measure(r, &check.table)).collect();
    format!("select {} from {}", cols.join(",\n       "), check.table)
}

/// Rows showing a rule's violations (or, for uniqueness, the repeated keys).
pub fn sample_statement(check: &TableCheck, rule: &TableRule, n: usize) -> Option<String> {
    if let TableRuleKind::Unique(cols) = &rule.kind {
        let key = cols
            .iter()
            .map(|c| quote_ident(c))
            .collect::<Vec<_>>()
            .join(", ");
        let present = cols
            .iter()
            .map(|c| format!("{} is not null", quote_ident(c)))
            .collect::<Vec<_>>()
            .join(" and ");
        return Some(format!(
            "select {key}, count(*) as copies from {} where {present} group by {key} having count(*) > 1 order by count(*) desc limit {n}",
            check.table
        ));
    }
    violation(rule).map(|v| format!("select * from {} where {v} limit {n}", check.table))
}

/// Interprets the text answer for one rule.
pub fn judge(rule: &TableRule, answer: Option<&str>) -> Outcome {
    let kind = "table";
    let sev = rule.severity;
    let name = &rule.name;
    let Some(answer) = answer else {
        return Outcome::fail(
            kind,
            name,
            sev,
            "no value (the relation is empty or the expression is NULL)",
        );
    };
    let count = || answer.parse::<i64>().unwrap_or(-1);
    match &rule.kind {
        TableRuleKind::RowCount { min, max } => {
            let n = count() as u64;
            let ok = min.is_none_or(|m| n >= m) && max.is_none_or(|m| n <= m);
            let msg = format!(
                "{n} rows (expected {}{})",
                min.map(|m| format!(">= {m}")).unwrap_or_default(),
                max.map(|m| format!("{}<= {m}", if min.is_some() { ", " } else { "" }))
                    .unwrap_or_default()
            );
            if ok {
                Outcome::pass(kind, name, sev, msg)
            } else {
                Outcome::fail(kind, name, sev, msg)
            }
        }
        TableRuleKind::Freshness { max_age, .. } => {
            let (age, latest) = answer.split_once('|').unwrap_or((answer, ""));
            match age.parse::<f64>() {
                Ok(secs) if secs <= max_age.0.as_secs_f64() => Outcome::pass(
                    kind,
                    name,
                    sev,
                    format!("latest {latest}, {} old", human_age(secs)),
                ),
                Ok(secs) => Outcome::fail(
                    kind,
                    name,
                    sev,
                    format!(
                        "latest {latest} is {} old; allowed {max_age}",
                        human_age(secs)
                    ),
                ),
                Err(_) => Outcome::fail(kind, name, sev, "the relation has no rows"),
            }
        }
        TableRuleKind::Metric { sql, op, value, .. } => match answer.parse::<f64>() {
            Ok(v) if op.holds(v, *value) => Outcome::pass(
                kind,
                name,
                sev,
                format!("{sql} = {v} ({} {value})", op.symbol()),
            ),
            Ok(v) => Outcome::fail(
                kind,
                name,
                sev,
                format!("{sql} = {v}; expected {} {value}", op.symbol()),
            ),
            Err(_) => Outcome::fail(kind, name, sev, format!("{sql} is not a number: {answer}")),
        },
        _ => {
            let n = count();
            let what = match &rule.kind {
                TableRuleKind::Unique(_) => "duplicate rows",
                TableRuleKind::NotNull(_) => "rows with NULL",
                TableRuleKind::ValidDate(_) => "values that are not a YYYY-MM-DD date",
                TableRuleKind::Pattern { .. } => "values not matching the pattern",
                TableRuleKind::AcceptedValues { .. } => "values outside the accepted set",
                TableRuleKind::NonNegative(_) => "negative values",
                _ => "violations",
            };
            if n == 0 {
                Outcome::pass(kind, name, sev, format!("no {what}"))
            } else {
                Outcome::fail(kind, name, sev, format!("{n} {what}"))
            }
        }
    }
}

fn human_age(secs: f64) -> String {
    if secs.abs() >= 86400.0 {
        format!("{:.1}d", secs / 86400.0)
    } else if secs.abs() >= 3600.0 {
        format!("{:.1}h", secs / 3600.0)
    } else {
        format!("{secs:.0}s")
    }
}
