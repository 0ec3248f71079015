//! One table check: one statement computes every rule; failing rules fetch a
//! few offending rows.

use super::events::{UnitKind, UnitResult, Verdict};
use super::query_unit::Context;
use super::session::Session;
use crate::checks::{table, Outcome, Status};
use crate::db::decode;
use crate::suite::TableCheck;
use sqlx::Row;
use std::collections::BTreeMap;
use std::time::Duration;

pub struct TableUnitDone {
    pub result: UnitResult,
    pub infrastructure: Option<String>,
}

fn new_result(ctx: &Context, check: &TableCheck) -> UnitResult {
    UnitResult {
        check: check.name.clone(),
        target: ctx.target.clone(),
        kind: UnitKind::Table,
        file: check.file.display().to_string(),
        endpoint: None,
        param_set: String::new(),
        params: BTreeMap::new(),
        severity: check.severity,
        verdict: Verdict::Pass,
        rows: None,
        timing: None,
        plan: None,
        reruns: Vec::new(),
        outcomes: Vec::new(),
    }
}

/// A table check that does not apply to this run's environment.
pub fn skipped(ctx: &Context, check: &TableCheck) -> UnitResult {
    let mut result = new_result(ctx, check);
    result.outcomes.push(Outcome::skip(
        "table",
        "table",
        check.severity,
        format!("not run on {}", ctx.environment),
    ));
    result.settle();
    result
}

/// A table check not run because its database became unreachable.
pub fn unavailable(ctx: &Context, check: &TableCheck) -> TableUnitDone {
    let mut result = new_result(ctx, check);
    result.outcomes.push(Outcome::skip(
        "table",
        "table",
        check.severity,
        "not run: the database became unreachable",
    ));
    result.settle();
    TableUnitDone {
        result,
        infrastructure: None,
    }
}

pub async fn run(ctx: &Context, check: &TableCheck) -> TableUnitDone {
    let mut result = new_result(ctx, check);
    let finish = |mut result: UnitResult, infra| {
        result.settle();
        TableUnitDone {
            result,
            infrastructure: infra,
        }
    };
    let mut session = match Session::open(&ctx.pool, Duration::from_secs(300)).await {
        Ok(s) => s,
        Err(e) => {
            result.outcomes.push(Outcome::error(
                "table",
                "table",
                check.severity,
                e.message.clone(),
            ));
            return finish(result, Some(e.message));
        }
    };
    let rules: Vec<_> = check.rules.iter().collect();
    let stmt = table::statement(check, &rules);
    let answers: Vec<Option<String>> = match session.rows(&stmt, None, &[]).await {
        Ok(rows) => match rows.first() {
            Some(r) => (0..rules.len())
                .map(|i| r.try_get::<Option<String>, _>(i).ok().flatten())
                .collect(),
            None => vec![None; rules.len()],
        },
        Err(e) => {
            result.outcomes.push(Outcome::error(
                "table",
                "table",
                check.severity,
                format!(
                    "{}{} (table check `{}` in {})",
                    e.message,
                    if ctx.empty_database
                        && e.code.as_deref() == Some(super::query_unit::UNDEFINED_TABLE)
                    {
                        super::query_unit::EMPTY_DATABASE_HINT
                    } else {
                        ""
                    },
                    check.name,
                    check.file.display()
                ),
            ));
            session.close().await;
            return finish(result, e.transient.then_some(e.message));
        }
    };
    for (rule, answer) in rules.iter().zip(answers) {
        let mut o = table::judge(rule, answer.as_deref());
        if o.status == Status::Fail {
            if let Some(sample_sql) = table::sample_statement(check, rule, ctx.sample_rows) {
                if let Ok(rows) = session.rows(&sample_sql, None, &[]).await {
                    if let Some(first) = rows.first() {
                        let cols = decode::columns(first.columns());
                        if let Ok(out) = decode::decode(cols, first.columns(), &rows, &[]) {
                            let idx: Vec<usize> = (0..out.rows.len()).collect();
                            o.details = crate::checks::sample::rows(&out, &idx);
                        }
                    }
                }
            }
        }
        result.outcomes.push(o);
    }
    session.close().await;
    finish(result, None)
}
