//! Runs base and current of every unit on the database at hand and compares
//! them: the one function a diff on fixtures, on a replica, at scale or on a
//! generated dataset calls ([`diff_units`]).
//!
//! Per unit, both sides run in one read-only `REPEATABLE READ` transaction
//! (one snapshot: a replica replaying between them cannot make a
//! difference), once each, then the plan of each side (plain EXPLAIN), up to
//! `jobs` units at once. When timing is asked, every unit is then timed on
//! its own, the sides alternated (A B A B ...) in one snapshot, and the
//! plans come from EXPLAIN ANALYZE.

use super::model::KeyUsed;
use super::order::{self, Ordering};
use super::pair::{base_binds, Unit};
use crate::bench::fingerprint;
use crate::bench::model::Fingerprint;
use crate::compare::{self, columns::align, CompareOptions, Comparison};
use crate::db::bind::Bind;
use crate::engine::query_unit::binds_for;
use crate::engine::session::{Session, StatementError};
use crate::engine::timing;
use crate::output::QueryOutput;
use crate::sql;
use futures::StreamExt;
use sqlx::postgres::PgPool;
use std::time::Duration;

/// How a set of units is run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Units compared at once.
    pub jobs: usize,
    /// A database assay does not own: tighter statement timeouts (twice the
    /// budget, as `run`).
    pub external: bool,
    /// Numbers within this distance are equal.
    pub tolerance: f64,
    /// Sample rows kept per class of difference.
    pub samples: usize,
    /// Fingerprint both sides' plans.
    pub plans: bool,
    /// Solo timed runs per side, sides alternated (0: the compared
    /// executions are the only timing).
    pub timing_runs: u32,
    /// Keep both outputs in [`Compared::outputs`] (for callers that show
    /// them, e.g. a shrunk counterexample).
    pub keep_outputs: bool,
}

/// One side of one unit.
#[derive(Debug, Clone, Default)]
pub struct SideRun {
    /// Rows of the compared execution.
    pub rows: Option<usize>,
    /// Why the side gave no output.
    pub error: Option<String>,
    /// Milliseconds: the compared execution, or the timed runs.
    pub samples_ms: Vec<f64>,
    pub plan: Option<Fingerprint>,
}

/// What one unit gave.
#[derive(Debug, Clone, Default)]
pub struct Compared {
    pub base: SideRun,
    pub current: SideRun,
    /// Both sides gave an output.
    pub comparison: Option<Comparison>,
    /// The key the rows were matched by (None: as a multiset).
    pub key: Option<KeyUsed>,
    /// The current ORDER BY's columns, when known (ties allowed on them).
    pub order_keys: Option<Vec<String>>,
    pub notes: Vec<String>,
    /// The timings come from solo runs with the sides alternated.
    pub timed: bool,
    /// The plans come from EXPLAIN ANALYZE.
    pub analyzed: bool,
    /// (base, current), with [`Options::keep_outputs`].
    pub outputs: Option<(QueryOutput, QueryOutput)>,
}

/// The database went away (or could not be reached): not the queries' fault.
pub type Infra = String;

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// The statement timeout of a unit, as `assay run` sets it.
fn timeout(u: &Unit, external: bool) -> Duration {
    let budget = u.pair.check.budget.0;
    if external {
        (budget * 2).max(Duration::from_secs(1))
    } else {
        (budget * 5).max(Duration::from_secs(10))
    }
}

/// `message (at file:line)`.
fn located(e: &StatementError, sql_text: &str, file: &str) -> String {
    match e.position {
        Some(p) => format!(
            "{} (at {file}:{})",
            e.message,
            sql::line_of_position(sql_text, p)
        ),
        None => format!("{} (in {file})", e.message),
    }
}

/// Both sides' statements and binds, or why a side cannot run.
struct Statements<'u> {
    base: Result<(&'u str, Vec<Bind>), String>,
    current: (&'u str, Vec<Bind>),
}

fn statements<'u>(u: &Unit<'u>) -> Statements<'u> {
    let check = u.pair.check;
    let base = match &u.pair.base {
        Err(why) => Err(why.clone()),
        Ok(st) => {
            base_binds(st, u.set, &check.types, &u.pair.base_file).map(|b| (st.sql.as_str(), b))
        }
    };
    Statements {
        base,
        current: (
            check.statement.sql.as_str(),
            binds_for(&check.statement, u.set, &check.types),
        ),
    }
}

/// Runs one side: its output, or its error; a transient failure is infrastructure.
async fn run_side(
    session: &mut Session,
    sql_text: &str,
    binds: &[Bind],
    file: &str,
) -> Result<Result<(QueryOutput, f64), String>, Infra> {
    match session.query(sql_text, binds).await {
        Ok((out, d)) => Ok(Ok((out, ms(d)))),
        Err(e) if e.transient => Err(e.message),
        Err(e) => Ok(Err(located(&e, sql_text, file))),
    }
}

/// The key and order options of a comparison, with notes on what could not
/// be used.
fn compare_options(
    u: &Unit,
    base: &QueryOutput,
    current: &QueryOutput,
    opts: &Options,
    notes: &mut Vec<String>,
) -> (CompareOptions, Option<KeyUsed>) {
    let aligned: Vec<String> = align(&base.columns, &current.columns)
        .pairs
        .iter()
        .map(|&(_, ci)| current.columns[ci].name.clone())
        .collect();
    let key = match &u.pair.key {
        Some(k) => match k.columns.iter().find(|c| !aligned.contains(c)) {
            None => Some(k.clone()),
            Some(missing) => {
                notes.push(format!(
                    "key column `{missing}` ({}) is not in both outputs: rows compared as a multiset",
                    k.from
                ));
                None
            }
        },
        None => None,
    };
    let names = current.column_names();
    let (ordered, order_keys) = match &u.pair.ordering {
        Ordering::Unordered => (false, None),
        Ordering::Ordered(items) => {
            let resolved = match items {
                Some(items) => order::sort_columns(items, &names),
                None => Err("sqlparser cannot read the current query".to_string()),
            };
            match resolved {
                Ok(cols) => (true, Some(cols)),
                Err(why) => {
                    notes.push(format!(
                        "row order compared strictly (no ties allowed): {why}"
                    ));
                    (true, None)
                }
            }
        }
    };
    (
        CompareOptions {
            tolerance: opts.tolerance,
            key: key.as_ref().map(|k| k.columns.clone()),
            ordered,
            order_keys,
            samples: opts.samples,
        },
        key,
    )
}

/// Plain EXPLAIN of one statement, fingerprinted; None when it fails.
async fn plan_of(
    session: &mut Session,
    sql_text: &str,
    binds: &[Bind],
    analyze: bool,
) -> Result<Option<Fingerprint>, Infra> {
    match timing::explain(session, sql_text, binds, analyze).await {
        Ok(p) => Ok(p.map(|p| fingerprint::fingerprint(&p))),
        Err(e) if e.transient => Err(e.message),
        Err(_) => Ok(None),
    }
}

/// Both sides once, in one snapshot, compared; their plans when asked.
async fn compare_unit(pool: &PgPool, u: &Unit<'_>, opts: &Options) -> Result<Compared, Infra> {
    let st = statements(u);
    let mut session = Session::open_snapshot(pool, timeout(u, opts.external))
        .await
        .map_err(|e| e.message)?;
    let check = u.pair.check;
    let current_file = check.query_path.display().to_string();
    let base = match &st.base {
        Err(why) => Err(why.clone()),
        Ok((text, binds)) => run_side(&mut session, text, binds, &u.pair.base_file).await?,
    };
    let current = run_side(&mut session, st.current.0, &st.current.1, &current_file).await?;
    let mut c = Compared::default();
    let explain_now = opts.plans && opts.timing_runs == 0;
    if let (true, Ok(_), Ok((text, binds))) = (explain_now, &base, &st.base) {
        c.base.plan = plan_of(&mut session, text, binds, false).await?;
    }
    if let (true, Ok(_)) = (explain_now, &current) {
        c.current.plan = plan_of(&mut session, st.current.0, &st.current.1, false).await?;
    }
    session.close().await;

    for (side, r) in [(&mut c.base, &base), (&mut c.current, &current)] {
        match r {
            Ok((out, t)) => {
                side.rows = Some(out.rows.len());
                side.samples_ms = vec![*t];
            }
            Err(e) => side.error = Some(e.clone()),
        }
    }
    if let (Ok((b, _)), Ok((cur, _))) = (base, current) {
        let mut notes = Vec::new();
        let (copts, key) = compare_options(u, &b, &cur, opts, &mut notes);
        c.comparison = Some(compare::compare(&b, &cur, &copts));
        c.key = key;
        c.order_keys = copts.order_keys;
        c.notes = notes;
        if opts.keep_outputs {
            c.outputs = Some((b, cur));
        }
    }
    Ok(c)
}

/// Times both sides of a unit alone on the server, alternated, in one
/// snapshot; then their plans from EXPLAIN ANALYZE when plans are asked.
async fn time_unit(
    pool: &PgPool,
    u: &Unit<'_>,
    opts: &Options,
    c: &mut Compared,
) -> Result<(), Infra> {
    let st = statements(u);
    let Ok((base_sql, base_b)) = &st.base else {
        return Ok(());
    };
    let (cur_sql, cur_b) = (st.current.0, &st.current.1);
    let mut session = Session::open_snapshot(pool, timeout(u, opts.external))
        .await
        .map_err(|e| e.message)?;
    let (mut a, mut b) = (Vec::new(), Vec::new());
    let mut failed = None;
    for _ in 0..opts.timing_runs {
        match session.time(base_sql, base_b).await {
            Ok(d) => a.push(ms(d)),
            Err(e) if e.transient => return Err(e.message),
            Err(e) => {
                failed = Some(format!("base: {}", e.message));
                break;
            }
        }
        match session.time(cur_sql, cur_b).await {
            Ok(d) => b.push(ms(d)),
            Err(e) if e.transient => return Err(e.message),
            Err(e) => {
                failed = Some(format!("current: {}", e.message));
                break;
            }
        }
    }
    match failed {
        Some(why) => c.notes.push(format!(
            "timing stopped ({why}): the speed shown is of the compared executions"
        )),
        None => {
            c.base.samples_ms = a;
            c.current.samples_ms = b;
            c.timed = true;
        }
    }
    if opts.plans {
        c.base.plan = plan_of(&mut session, base_sql, base_b, true).await?;
        c.current.plan = plan_of(&mut session, cur_sql, cur_b, true).await?;
        c.analyzed = true;
    }
    session.close().await;
    Ok(())
}

/// Runs base and current of every unit on the database `pool` holds now and
/// compares them: up to `opts.jobs` units at once, then (with
/// `opts.timing_runs`) each unit timed alone. `done` is called as each
/// unit's comparison lands (for a progress bar). Results come in the order
/// of `units`; an error means the database went away.
pub async fn diff_units(
    pool: &PgPool,
    units: &[Unit<'_>],
    opts: &Options,
    done: &(dyn Fn() + Sync),
) -> Result<Vec<Compared>, Infra> {
    let mut results: Vec<Option<Compared>> = vec![None; units.len()];
    let mut stream = futures::stream::iter(units.iter().enumerate().map(|(i, u)| async move {
        let r = compare_unit(pool, u, opts).await;
        done();
        (i, r)
    }))
    .buffer_unordered(opts.jobs.max(1));
    while let Some((i, r)) = stream.next().await {
        results[i] = Some(r?);
    }
    drop(stream);
    let mut results: Vec<Compared> = results.into_iter().map(Option::unwrap_or_default).collect();
    if opts.timing_runs > 0 {
        for (u, c) in units.iter().zip(results.iter_mut()) {
            if c.comparison.is_some() {
                time_unit(pool, u, opts, c).await?;
            }
        }
    }
    Ok(results)
}
