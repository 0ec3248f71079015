//! One query check under one parameter set: execute once, time, then judge.

use super::events::{Rerun, Timing, UnitKind, UnitResult};
use super::session::{Session, StatementError};
use super::timing::{self, TimingPolicy};
use crate::checks::{predicates, reconcile, relations, shape, Outcome, Status};
use crate::db::bind::Bind;
use crate::db::kept::KeptConnections;
use crate::output::QueryOutput;
use crate::snapshot::{self, Comparison, WriteMode};
use crate::sql;
use crate::suite::{Environment, ParamSet, ParamType, ParamValue, QueryCheck, Severity};
use crate::timing::TimingStats;
use sqlx::Row;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// What every unit of a run shares.
pub struct Context {
    /// The target's pool, and the connections this run keeps from it
    /// between units (one per job at most).
    pub connections: KeptConnections,
    /// Label of the database (host:port/db), stamped on every result.
    pub target: String,
    /// A database assay did not create: tighter statement timeouts.
    pub external: bool,
    /// Set once the database stayed unreachable after retries: units not yet
    /// started are reported as not run instead of waiting on it.
    pub unavailable: std::cell::Cell<bool>,
    pub environment: Environment,
    /// When the query is timed again (alone on its server) for its budget verdict.
    pub timing: TimingPolicy,
    /// Units run at once on this target: with 1, every execution is solo.
    pub concurrency: usize,
    /// Plans of slow queries come from EXPLAIN ANALYZE (executes the query
    /// again); otherwise from a plain EXPLAIN. Off by default on url targets.
    pub explain_analyze: bool,
    /// The suite has no `setup:` and assay started this database: it is
    /// empty, and a missing relation says so.
    pub empty_database: bool,
    pub sample_rows: usize,
    pub snapshots_dir: PathBuf,
    pub write_mode: WriteMode,
    /// The time this run is recorded at (metric values across runs).
    pub now: chrono::DateTime<chrono::Utc>,
    /// Earlier runs' metric values, when the run has a history.
    pub prior: Option<std::sync::Arc<crate::metrics::PriorRuns>>,
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
        target: ctx.target.clone(),
        file: check.file.display().to_string(),
        endpoint: check.endpoint.clone(),
        param_set: set_name.to_string(),
        params,
        ..UnitResult::blank(kind, &check.name, check.severity)
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// SQLSTATE of "relation does not exist".
pub const UNDEFINED_TABLE: &str = "42P01";
/// Said when a relation is missing from a database assay started for a
/// suite without `setup:`.
pub const EMPTY_DATABASE_HINT: &str = "; this suite has no `setup:`, so the database assay \
     started for it is empty: run it against a database that holds the data (--database-url URL), \
     or list schema and fixture files under `setup:` in assay.yaml";

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
        pending: None,
    }
}

/// The unit after its checked execution and checks, its output (for
/// relations), and whether the database went away. With `pending`, its
/// budget verdict waits for solo timing (see [`finish_timing`]).
pub struct QueryUnitDone {
    pub result: UnitResult,
    pub output: Option<QueryOutput>,
    pub infrastructure: Option<String>,
    pub pending: Option<PendingTiming>,
}

/// What the budget verdict of a unit still needs: more timed runs alone on
/// its server, or the plan of a slow query.
#[derive(Debug, Clone)]
pub struct PendingTiming {
    /// The checked execution's time.
    pub first_ms: f64,
    /// Whether the checked execution ran alone on its server.
    pub first_solo: bool,
    pub solo_runs: u32,
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

/// The statement_timeout of a query unit: generous on databases assay owns,
/// twice the budget on others.
pub fn statement_timeout(ctx: &Context, check: &QueryCheck) -> Duration {
    if ctx.external {
        (check.budget.0 * 2).max(Duration::from_secs(1))
    } else {
        (check.budget.0 * 5).max(Duration::from_secs(10))
    }
}

pub async fn run(ctx: &Context, check: &QueryCheck, set: &ParamSet) -> QueryUnitDone {
    let mut result = set_result(ctx, check, set);
    let sev = check.severity;
    let rewritten = &check.statement;
    let binds = binds_for(rewritten, set, &check.types);
    let done = |mut result: UnitResult, output, infra, pending| {
        result.settle();
        QueryUnitDone {
            result,
            output,
            infrastructure: infra,
            pending,
        }
    };

    let mut session =
        match Session::open_kept(&ctx.connections, statement_timeout(ctx, check)).await {
            Ok(s) => s,
            Err(e) => {
                result
                    .outcomes
                    .push(Outcome::error("query", "query", sev, e.message.clone()));
                return done(result, None, Some(e.message), None);
            }
        };

    // 1. Execute once: this output is what every check judges, and its time
    //    is the first timing sample.
    let (out, first) = match session.query(&rewritten.sql, &binds).await {
        Ok(r) => r,
        Err(e) => {
            let mut msg = located(&rewritten.sql, &check.query_path, &e);
            if ctx.empty_database && e.code.as_deref() == Some(UNDEFINED_TABLE) {
                msg.push_str(EMPTY_DATABASE_HINT);
            }
            result
                .outcomes
                .push(Outcome::error("query", "query", sev, msg.clone()));
            session.close().await;
            return done(result, None, e.transient.then_some(msg), None);
        }
    };
    result.rows = Some(out.rows.len());
    if !session.text_reread().is_empty() {
        result.reruns.push(Rerun {
            kind: "text_output".into(),
            count: 1,
            why: format!(
                "column(s) {} have no binary decoder in assay: read as PostgreSQL's text output",
                session.text_reread().join(", ")
            ),
        });
    }

    // 2. Does the budget verdict need more than this execution?
    let first_ms = ms(first);
    let budget_ms = check.budget.as_millis_f64();
    let first_solo = ctx.concurrency <= 1;
    let solo_runs = ctx.timing.solo_runs(first_ms, budget_ms);
    let pending = PendingTiming {
        first_ms,
        first_solo,
        solo_runs,
    };
    let pending = if solo_runs == 0 && first_ms <= budget_ms / 2.0 {
        // The checked execution decides, and the query needs no plan.
        judge_budget(&mut result, check, &[first_ms], first_solo);
        None
    } else {
        Some(pending)
    };

    // 3. Shape: columns, row bounds, not-null, unique, accepted values.
    result
        .outcomes
        .extend(shape::evaluate(&check.expect, &out, sev, ctx.sample_rows));

    // 4. Predicates and order, evaluated by Postgres over the fetched output.
    let (items, skipped) = predicates::items(&check.expect, sev, ctx.environment, ctx.sample_rows);
    result.outcomes.extend(skipped);
    if !items.is_empty() {
        let json = predicates::output_json(&out);
        let answers = match evaluate_items(&mut session, check, set, &out, &items, &json).await {
            Ok(answers) => answers,
            Err(e) => {
                // The connection went away, not the checks: the unit runs
                // again (engine::run retries it).
                let msg = format!("cannot evaluate: {}", e.message);
                for item in &items {
                    result.outcomes.push(Outcome::error(
                        item.kind,
                        &item.name,
                        item.severity,
                        msg.clone(),
                    ));
                }
                session.close().await;
                return done(result, None, Some(msg), None);
            }
        };
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

    // 4b. Reconciliation with verification queries.
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
            Err(e) => {
                let msg = format!(
                    "verification query failed: {} (in {}, reconcile `{}`)",
                    e.message,
                    check.file.display(),
                    r.name
                );
                result
                    .outcomes
                    .push(Outcome::error("reconcile", &r.name, rsev, msg.clone()));
                if e.transient {
                    // The connection went away, not the check: the unit
                    // runs again (engine::run retries it).
                    session.close().await;
                    return done(result, None, Some(msg), None);
                }
            }
        }
    }
    session.close().await;

    // 5. Snapshot.
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
    done(result, Some(out), None, pending)
}

/// Adds the budget outcome and the timing figures from `samples_ms`.
fn judge_budget(result: &mut UnitResult, check: &QueryCheck, samples_ms: &[f64], solo: bool) {
    let Some(stats) = TimingStats::of(samples_ms) else {
        return;
    };
    let budget_ms = check.budget.as_millis_f64();
    let judged = if solo {
        stats.judged_label_solo()
    } else {
        stats.judged_label()
    };
    let msg = format!(
        "{:.1} ms of {} budget ({judged}{})",
        stats.judged_ms(),
        check.budget,
        if stats.runs > 1 {
            format!("; p50 {:.1} ms", stats.p50_ms)
        } else {
            String::new()
        }
    );
    let ok = stats.judged_ms() <= budget_ms;
    result.outcomes.push(if ok {
        Outcome::pass("budget", "budget", check.severity, msg)
    } else {
        Outcome::fail("budget", "budget", check.severity, msg)
    });
    result.timing = Some(Timing {
        runs: stats.runs,
        p50_ms: stats.p50_ms,
        max_ms: stats.max_ms,
        p95_ms: stats.p95_ms,
        budget_ms,
        solo,
        judged,
    });
}

/// Completes a unit whose budget verdict needed more: times the query
/// alone on its server (nothing else of this run executes there now) and,
/// when it takes more than half its budget, fetches its plan. Every extra
/// execution is recorded in `result.reruns` with its reason.
pub async fn finish_timing(
    ctx: &Context,
    check: &QueryCheck,
    set: &ParamSet,
    mut done: QueryUnitDone,
) -> QueryUnitDone {
    let Some(p) = done.pending.take() else {
        return done;
    };
    let result = &mut done.result;
    let budget_ms = check.budget.as_millis_f64();
    let binds = binds_for(&check.statement, set, &check.types);
    let sql = &check.statement.sql;
    let mut samples: Vec<f64> = Vec::new();
    let mut solo = p.first_solo;
    let session = Session::open_kept(&ctx.connections, statement_timeout(ctx, check)).await;
    let mut session = match session {
        Ok(s) => Some(s),
        Err(e) => {
            result.outcomes.push(Outcome::error(
                "budget",
                "budget",
                check.severity,
                format!("cannot time the query: {}", e.message),
            ));
            None
        }
    };
    if let (Some(s), true) = (session.as_mut(), p.solo_runs > 0) {
        match timing::time_runs(s, sql, &binds, p.solo_runs).await {
            Ok(t) => {
                let why = match ctx.timing {
                    TimingPolicy::Runs(n) => format!("timing_runs: {n}"),
                    TimingPolicy::Auto { .. } => format!(
                        "its checked execution took {:.1} ms, more than half its {} budget",
                        p.first_ms, check.budget
                    ),
                };
                result.reruns.push(Rerun {
                    kind: "timing".into(),
                    count: t.len(),
                    why,
                });
                if p.first_solo {
                    samples.push(p.first_ms);
                }
                samples.extend(t);
                solo = true;
            }
            Err(e) => result.outcomes.push(Outcome::error(
                "budget",
                "budget",
                check.severity,
                located(sql, &check.query_path, &e),
            )),
        }
    }
    if samples.is_empty() {
        samples.push(p.first_ms);
        solo = p.first_solo;
    }
    judge_budget(result, check, &samples, solo);
    let judged = result.timing.as_ref().map(|t| t.judged_ms()).unwrap_or(0.0);
    if let (Some(s), true) = (session.as_mut(), judged > budget_ms / 2.0) {
        if let Ok(plan) = timing::explain(s, sql, &binds, ctx.explain_analyze).await {
            result.plan = plan;
            if ctx.explain_analyze {
                result.reruns.push(Rerun {
                    kind: "explain_analyze".into(),
                    count: 1,
                    why: format!(
                        "its time ({judged:.1} ms) is above half its {} budget: the plan shows where it goes",
                        check.budget
                    ),
                });
            }
        }
    }
    if let Some(s) = session {
        s.close().await;
    }
    result.settle();
    done
}

/// Runs predicate statements over the fetched output (`$1`); parameters in
/// the predicates (`:date_from`) are bound after it with their types.
async fn evaluate_items(
    session: &mut Session,
    check: &QueryCheck,
    set: &ParamSet,
    out: &QueryOutput,
    items: &[predicates::Item],
    json: &serde_json::Value,
) -> Result<Vec<Result<(i64, Vec<i64>), String>>, StatementError> {
    let casts: BTreeMap<String, String> = check
        .types
        .iter()
        .map(|(k, t)| (k.clone(), t.sql().to_string()))
        .collect();
    let prepare = |sql: String| {
        let r = sql::rewrite_after(&sql, &casts, 1);
        let binds = binds_for(&r, set, &check.types);
        (r.sql, binds)
    };
    let read = |row: &sqlx::postgres::PgRow, i: usize| -> Result<(i64, Vec<i64>), String> {
        let n: Option<i64> = row.try_get(2 * i).map_err(|e| e.to_string())?;
        let s: Option<Vec<i64>> = row.try_get(2 * i + 1).map_err(|e| e.to_string())?;
        Ok((n.unwrap_or(1), s.unwrap_or_default()))
    };
    let (all, binds) = prepare(predicates::statement(out, items));
    match session.rows(&all, Some(json), &binds).await {
        Ok(rows) => {
            if let Some(row) = rows.first() {
                return Ok((0..items.len()).map(|i| read(row, i)).collect());
            }
        }
        // The connection went away: nothing to learn one by one.
        Err(e) if e.transient => return Err(e),
        Err(_) => {}
    }
    // Something in the batch failed: evaluate one by one to say which.
    let mut answers = Vec::new();
    for item in items {
        let (one, binds) = prepare(predicates::statement(out, std::slice::from_ref(item)));
        answers.push(match session.rows(&one, Some(json), &binds).await {
            Err(e) if e.transient => return Err(e),
            Ok(rows) => rows
                .first()
                .map(|r| read(r, 0))
                .unwrap_or(Err("no answer".into())),
            Err(e) if item.kind == "aggregate_check" && e.code.as_deref() == Some("21000") => Err(format!(
                "cannot evaluate: {} — an aggregate check is one boolean over the whole output: \
                 write it over aggregates (e.g. `sum(pct_of_total) between 99.99 and 100.01`), or make \
                 it a row check",
                e.message
            )),
            Err(e) => Err(format!("cannot evaluate: {}", e.message)),
        });
    }
    Ok(answers)
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
