//! One table check: one statement computes every rule; failing rules fetch a
//! few offending rows.

use super::events::{UnitKind, UnitResult};
use super::query_unit::Context;
use super::session::Session;
use crate::checks::{table, Outcome, Status};
use crate::db::decode;
use crate::metrics::{self, MetricSpec, Thresholds};
use crate::suite::{TableCheck, TableRule, TableRuleKind};
use sqlx::Row;
use std::time::Duration;

pub struct TableUnitDone {
    pub result: UnitResult,
    pub infrastructure: Option<String>,
}

fn new_result(ctx: &Context, check: &TableCheck) -> UnitResult {
    UnitResult {
        target: ctx.target.clone(),
        file: check.file.display().to_string(),
        ..UnitResult::blank(UnitKind::Table, &check.name, check.severity)
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

/// A metric measured per day: its own statement, not part of the one-pass scan.
fn is_series(rule: &TableRule) -> bool {
    matches!(
        &rule.kind,
        TableRuleKind::Metric {
            series: Some(_),
            ..
        }
    )
}

/// The bounds of a per-run value, for charts: a metric's thresholds, a row
/// count's bounds, a freshness rule's maximum age (seconds).
fn run_thresholds(rule: &TableRule) -> Thresholds {
    match &rule.kind {
        TableRuleKind::Metric { thresholds, .. } => thresholds.clone(),
        TableRuleKind::RowCount { min, max } => Thresholds {
            min: min.map(|m| m as f64),
            max: max.map(|m| m as f64),
            op: None,
        },
        TableRuleKind::Freshness { max_age, .. } => Thresholds {
            max: Some(max_age.0.as_secs_f64()),
            ..Default::default()
        },
        _ => Thresholds::default(),
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
    let mut session = match Session::open_kept(&ctx.connections, Duration::from_secs(300)).await {
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
    let (series_rules, rules): (Vec<&TableRule>, Vec<&TableRule>) =
        check.rules.iter().partition(|r| is_series(r));
    let answers: Vec<Option<String>> = if rules.is_empty() {
        Vec::new()
    } else {
        let stmt = table::statement(check, &rules);
        match session.rows(&stmt, None, &[]).await {
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
        if let Some((value, unit)) = table::measured_value(rule, answer.as_deref()) {
            let thresholds = run_thresholds(rule);
            let spec = MetricSpec {
                name: &rule.name,
                unit,
                thresholds: &thresholds,
                severity: rule.severity,
                watch: &rule.watch,
            };
            let prior = ctx.prior.as_ref().map(|p| {
                p.get(
                    &crate::db::stable_label(&ctx.target),
                    &check.name,
                    &rule.name,
                )
            });
            let (outcomes, measured) = metrics::judge_run(&spec, value, ctx.now, prior);
            result.outcomes.extend(outcomes);
            result.metrics.push(measured);
        }
    }
    for rule in series_rules {
        let TableRuleKind::Metric {
            sql,
            filter,
            thresholds,
            unit,
            series: Some(series),
        } = &rule.kind
        else {
            continue;
        };
        let stmt = table::series_statement(check, sql, filter.as_deref(), series);
        let rows = match session.rows(&stmt, None, &[]).await {
            Ok(rows) => rows,
            Err(e) => {
                result.outcomes.push(Outcome::error(
                    "metric",
                    &rule.name,
                    rule.severity,
                    format!(
                        "{} (metric `{}` of table check `{}` in {})",
                        e.message,
                        rule.name,
                        check.name,
                        check.file.display()
                    ),
                ));
                if e.transient {
                    session.close().await;
                    return finish(result, Some(e.message));
                }
                continue;
            }
        };
        let text =
            |r: &sqlx::postgres::PgRow, i: usize| r.try_get::<Option<String>, _>(i).ok().flatten();
        let triples: Vec<_> = rows
            .iter()
            .map(|r| (text(r, 0), text(r, 1), text(r, 2)))
            .collect();
        match table::series_values(&triples, series.by.is_some(), series.fill) {
            Ok(days) => {
                let spec = MetricSpec {
                    name: &rule.name,
                    unit: unit.as_deref(),
                    thresholds,
                    severity: rule.severity,
                    watch: &rule.watch,
                };
                let (outcomes, values) = metrics::judge_days(&spec, &days);
                result.outcomes.extend(outcomes);
                result.metrics.extend(values);
            }
            Err(e) => result.outcomes.push(Outcome::error(
                "metric",
                &rule.name,
                rule.severity,
                format!("metric `{}`: {e}", rule.name),
            )),
        }
    }
    session.close().await;
    finish(result, None)
}
