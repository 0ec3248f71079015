//! One query check under one parameter set: execute once, time, then judge.

use super::events::{Timing, UnitKind, UnitResult, Verdict};
use super::session::{Session, StatementError};
use crate::checks::{predicates, reconcile, relations, shape, Outcome, Status};
use crate::db::bind::Bind;
use crate::output::QueryOutput;
use crate::snapshot::{self, Comparison, WriteMode};
use crate::sql;
use crate::suite::{Environment, ParamSet, ParamType, ParamValue, QueryCheck, Severity};
use sqlx::postgres::PgPool;
use sqlx::Row;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// What every unit of a run shares.
pub struct Context {
    pub pool: PgPool,
    /// Label of the database (host:port/db), stamped on every result.
    pub target: String,
    /// A database assay did not create: tighter statement timeouts.
    pub external: bool,
    /// Set once the database stayed unreachable after retries: units not yet
    /// started are reported as not run instead of waiting on it.
    pub unavailable: std::cell::Cell<bool>,
    pub environment: Environment,
    pub timing_runs: u32,
    pub sample_rows: usize,
    pub snapshots_dir: PathBuf,
    pub write_mode: WriteMode,
}

pub fn param_json(v: &ParamValue) -> serde_json::Value {
    match v {
        ParamValue::Null => serde_json::Value::Null,
        ParamValue::Bool(b) => (*b).into(),
        ParamValue::Integer(i) => (*i).into(),
        ParamValue::List(items) => serde_json::Value::Array(items.iter().map(param_json).collect()),
        other => other.to_string().into(),
    }
}

pub fn new_result(
    ctx: &Context,
    check: &QueryCheck,
    kind: UnitKind,
    set_name: &str,
    params: BTreeMap<String, serde_json::Value>,
) -> UnitResult {
    UnitResult {
        check: check.name.clone(),
        target: ctx.target.clone(),
        kind,
        file: check.file.display().to_string(),
        endpoint: check.endpoint.clone(),
        param_set: set_name.to_string(),
        params,
        severity: check.severity,
        verdict: Verdict::Pass,
        rows: None,
        timing: None,
        plan: None,
        outcomes: Vec::new(),
    }
}

/// The `p`-quantile of sorted samples (nearest rank).
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Where a statement error points: `file:line` of the query file.
fn located(check_sql: &str, file: &std::path::Path, e: &StatementError) -> String {
    match e.position {
        Some(p) => format!(
            "{} (at {}:{})",
            e.message,
            file.display(),
            sql::line_of_position(check_sql, p)
        ),
        None => format!("{} (in {})", e.message, file.display()),
    }
}

/// The values of `set` in the `$n` order of `statement`, each with its type
/// (`types`: the check's declared or inferred parameter types).
pub fn binds_for(
    statement: &sql::Rewritten,
    set: &ParamSet,
    types: &BTreeMap<String, ParamType>,
) -> Vec<Bind> {
    statement
        .order
        .iter()
        .map(|n| {
            Bind::new(
                types.get(n).copied().unwrap_or(ParamType::Text),
                set.values.get(n).cloned().unwrap_or(ParamValue::Null),
            )
        })
        .collect()
}

/// A unit not run because its database became unreachable.
pub fn unavailable(ctx: &Context, check: &QueryCheck, set: &ParamSet) -> QueryUnitDone {
    let mut result = set_result(ctx, check, set);
    result.outcomes.push(Outcome::skip(
        "query",
        "query",
        check.severity,
        "not run: the database became unreachable",
    ));
    result.settle();
    QueryUnitDone {
        result,
        output: None,
        infrastructure: None,
    }
}

/// The finished unit, its output (for relations), and whether the database went away.
pub struct QueryUnitDone {
    pub result: UnitResult,
    pub output: Option<QueryOutput>,
    pub infrastructure: Option<String>,
}

/// An empty result for `check` under `set`.
fn set_result(ctx: &Context, check: &QueryCheck, set: &ParamSet) -> UnitResult {
    let params = set
        .values
        .iter()
        .map(|(k, v)| (k.clone(), param_json(v)))
        .collect();
    new_result(ctx, check, UnitKind::Query, &set.name, params)
}

pub async fn run(ctx: &Context, check: &QueryCheck, set: &ParamSet) -> QueryUnitDone {
    let mut result = set_result(ctx, check, set);
    let sev = check.severity;
    let rewritten = &check.statement;
    let binds = binds_for(rewritten, set, &check.types);
    // Production: a statement may not run much past its budget. Fixtures: generous.
    let timeout = if ctx.external {
        (check.budget.0 * 2).max(Duration::from_secs(1))
    } else {
        (check.budget.0 * 5).max(Duration::from_secs(10))
    };
    let done = |mut result: UnitResult, output, infra| {
        result.settle();
        QueryUnitDone {
            result,
            output,
            infrastructure: infra,
        }
    };

    let mut session = match Session::open(&ctx.pool, timeout).await {
        Ok(s) => s,
        Err(e) => {
            result
                .outcomes
                .push(Outcome::error("query", "query", sev, e.message.clone()));
            return done(result, None, Some(e.message));
        }
    };

    // 1. Execute once: this output is what every check judges.
    let (out, first) = match session.query(&rewritten.sql, &binds).await {
        Ok(r) => r,
        Err(e) => {
            let msg = located(&rewritten.sql, &check.query_path, &e);
            result
                .outcomes
                .push(Outcome::error("query", "query", sev, msg.clone()));
            session.close().await;
            return done(result, None, e.transient.then_some(msg));
        }
    };
    result.rows = Some(out.rows.len());

    // 2. Time it: N more runs (the first one was the warm-up).
    let mut samples = Vec::new();
    for _ in 0..ctx.timing_runs {
        match session.time(&rewritten.sql, &binds).await {
            Ok(d) => samples.push(ms(d)),
            Err(e) => {
                let msg = located(&rewritten.sql, &check.query_path, &e);
                result
                    .outcomes
                    .push(Outcome::error("budget", "budget", sev, msg.clone()));
                session.close().await;
                return done(result, Some(out), e.transient.then_some(msg));
            }
        }
    }
    if samples.is_empty() {
        samples.push(ms(first));
    }
    samples.sort_by(|a, b| a.total_cmp(b));
    let budget_ms = check.budget.as_millis_f64();
    let timing = Timing {
        runs: samples.len(),
        p50_ms: percentile(&samples, 0.50),
        p95_ms: percentile(&samples, 0.95),
        max_ms: *samples.last().unwrap_or(&0.0),
        budget_ms,
    };
    let budget_msg = format!(
        "p95 {:.1} ms of {} budget (p50 {:.1} ms, max {:.1} ms, {} runs)",
        timing.p95_ms, check.budget, timing.p50_ms, timing.max_ms, timing.runs
    );
    result.outcomes.push(if timing.p95_ms <= budget_ms {
        Outcome::pass("budget", "budget", sev, budget_msg)
    } else {
        Outcome::fail("budget", "budget", sev, budget_msg)
    });
    if timing.p95_ms > budget_ms / 2.0 {
        let explain = format!("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {}", rewritten.sql);
        if let Ok((plan, _)) = session.query(&explain, &binds).await {
            if let Some(crate::output::Cell::Text(t)) = plan.rows.first().and_then(|r| r.first()) {
                result.plan = serde_json::from_str(t).ok();
            }
        }
    }
    result.timing = Some(timing);

    // 3. Shape: columns, row bounds, not-null, unique, accepted values.
    result
        .outcomes
        .extend(shape::evaluate(&check.expect, &out, sev, ctx.sample_rows));

    // 4. Predicates and order, evaluated by Postgres over the fetched output.
    let (items, skipped) = predicates::items(&check.expect, sev, ctx.environment, ctx.sample_rows);
    result.outcomes.extend(skipped);
    if !items.is_empty() {
        let json = predicates::output_json(&out);
        let answers = evaluate_items(&mut session, &out, &items, &json).await;
        for (item, answer) in items.iter().zip(answers) {
            match answer {
                Ok(a) => result.outcomes.extend(predicates::interpret(
                    &out,
                    std::slice::from_ref(item),
                    &[a],
                )),
                Err(m) => {
                    result
                        .outcomes
                        .push(Outcome::error(item.kind, &item.name, item.severity, m))
                }
            }
        }
    }

    // 5. Reconciliation with verification queries.
    for r in &check.expect.reconcile {
        let rsev = r.scope.severity.unwrap_or(sev);
        if !r.scope.applies_to(ctx.environment)
            || (r.exact && ctx.environment != Environment::Fixtures)
        {
            let why = if r.exact {
                "exact reconciliation runs on fixtures only"
            } else {
                "not run here"
            };
            result.outcomes.push(Outcome::skip(
                "reconcile",
                &r.name,
                rsev,
                format!("{why} ({})", ctx.environment),
            ));
            continue;
        }
        match session
            .query(
                &r.statement.sql,
                &binds_for(&r.statement, set, &check.types),
            )
            .await
        {
            Ok((ver, _)) => result
                .outcomes
                .push(reconcile::compare(r, rsev, &out, &ver)),
            Err(e) => result.outcomes.push(Outcome::error(
                "reconcile",
                &r.name,
                rsev,
                format!(
                    "verification query failed: {} (in {}, reconcile `{}`)",
                    e.message,
                    check.file.display(),
                    r.name
                ),
            )),
        }
    }
    session.close().await;

    // 6. Snapshot.
    let snap = &check.expect.snapshot;
    if snap.enabled {
        if ctx.environment != Environment::Fixtures {
            result.outcomes.push(Outcome::skip(
                "snapshot",
                "snapshot",
                sev,
                format!("snapshots run on fixtures only ({})", ctx.environment),
            ));
        } else {
            result
                .outcomes
                .push(snapshot_outcome(ctx, check, set, &out, sev));
        }
    }
    done(result, Some(out), None)
}

async fn evaluate_items(
    session: &mut Session,
    out: &QueryOutput,
    items: &[predicates::Item],
    json: &serde_json::Value,
) -> Vec<Result<(i64, Vec<i64>), String>> {
    let read = |row: &sqlx::postgres::PgRow, i: usize| -> Result<(i64, Vec<i64>), String> {
        let n: Option<i64> = row.try_get(2 * i).map_err(|e| e.to_string())?;
        let s: Option<Vec<i64>> = row.try_get(2 * i + 1).map_err(|e| e.to_string())?;
        Ok((n.unwrap_or(1), s.unwrap_or_default()))
    };
    let all = predicates::statement(out, items);
    if let Ok(rows) = session.rows(&all, Some(json), &[]).await {
        if let Some(row) = rows.first() {
            return (0..items.len()).map(|i| read(row, i)).collect();
        }
    }
    // Something in the batch failed: evaluate one by one to say which.
    let mut answers = Vec::new();
    for item in items {
        let one = predicates::statement(out, std::slice::from_ref(item));
        answers.push(match session.rows(&one, Some(json), &[]).await {
            Ok(rows) => rows
                .first()
                .map(|r| read(r, 0))
                .unwrap_or(Err("no answer".into())),
            Err(e) => Err(format!("cannot evaluate: {}", e.message)),
        });
    }
    answers
}

fn snapshot_outcome(
    ctx: &Context,
    check: &QueryCheck,
    set: &ParamSet,
    out: &QueryOutput,
    sev: Severity,
) -> Outcome {
    let content = snapshot::render(out, &check.expect.snapshot, !check.declares_order);
    let path = snapshot::snap_path(&ctx.snapshots_dir, &check.name, &set.slug());
    let expression = format!("{} [{}]", check.name, set.name);
    let shown = path.display().to_string();
    match snapshot::compare(
        &path,
        &check.file.display().to_string(),
        &expression,
        &content,
        ctx.write_mode,
    ) {
        Ok(Comparison::Match) => Outcome::pass("snapshot", "snapshot", sev, "matches"),
        Ok(Comparison::Accepted { .. }) => {
            Outcome::pass("snapshot", "snapshot", sev, format!("written to {shown}"))
        }
        Ok(Comparison::New { written }) => {
            let how = match written {
                Some(p) => format!("new snapshot written to {}; review with `assay review`, keep with `assay accept`", p.display()),
                None => "no snapshot stored; run `assay run --accept-snapshots` locally and commit it".to_string(),
            };
            let details: Vec<String> = content.lines().take(12).map(|l| format!("+ {l}")).collect();
            Outcome::fail("snapshot", "snapshot", sev, how).with_details(details)
        }
        Ok(Comparison::Differs { old, written }) => {
            let how = match written {
                Some(p) => format!("output differs from {shown}; new result in {}", p.display()),
                None => format!("output differs from {shown}"),
            };
            let mut d = snapshot::diff(&old, &content);
            if d.len() > 40 {
                let more = d.len() - 40;
                d.truncate(40);
                d.push(format!("  ... {more} more diff lines"));
            }
            Outcome::fail("snapshot", "snapshot", sev, how).with_details(d)
        }
        Err(e) => Outcome::new(
            "snapshot",
            "snapshot",
            sev,
            Status::Error,
            format!("cannot use {shown}: {e}"),
        ),
    }
}

/// Relations across the sets of one check, once all of its sets have run.
pub fn relations_unit(
    ctx: &Context,
    check: &QueryCheck,
    results: &[(&ParamSet, Option<&QueryOutput>)],
    env: Environment,
) -> Option<UnitResult> {
    if check.expect.relations.is_empty() {
        return None;
    }
    let mut result = new_result(
        ctx,
        check,
        UnitKind::Relations,
        "relations",
        BTreeMap::new(),
    );
    let failed: Vec<&str> = results
        .iter()
        .filter(|(_, o)| o.is_none())
        .map(|(s, _)| s.name.as_str())
        .collect();
    let ok: Vec<(&ParamSet, &QueryOutput)> = results
        .iter()
        .filter_map(|(s, o)| o.map(|o| (*s, o)))
        .collect();
    for rel in &check.expect.relations {
        let sev = rel.scope.severity.unwrap_or(check.severity);
        if !rel.scope.applies_to(env) {
            result.outcomes.push(Outcome::skip(
                "relation",
                &rel.name,
                sev,
                format!("not run on {env}"),
            ));
        } else if !failed.is_empty() {
            result.outcomes.push(Outcome::skip(
                "relation",
                &rel.name,
                sev,
                format!(
                    "not evaluated: set(s) {} did not produce output",
                    failed.join(", ")
                ),
            ));
        } else {
            result.outcomes.push(relations::evaluate(rel, sev, &ok));
        }
    }
    result.settle();
    Some(result)
}
