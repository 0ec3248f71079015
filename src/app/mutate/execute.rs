//! Runs mutants in this process against one loaded cluster: is the mutant
//! accepted by PostgreSQL, does its output differ from the original's on
//! the fixtures (THE comparison, `compare::compare`), and do the checks of
//! its query notice (the engine, with nothing written).

use crate::checks::Status as CheckStatus;
use crate::compare::{self, CompareOptions};
use crate::db::{self, Database};
use crate::engine::query_unit::binds_for;
use crate::engine::session::Session;
use crate::engine::{self, Event, Reporter, RunOptions, Selection, UnitResult, Verdict};
use crate::mutate::model::{Difference, Outcome, Status};
use crate::mutate::Mutant;
use crate::output::QueryOutput;
use crate::snapshot::WriteMode;
use crate::sql::{self, Rewritten};
use crate::suite::{Environment, ParamSet, ParamType, QueryCheck, Severity, Suite};
use sqlx::Executor;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The checks of one query file.
pub struct Group<'s> {
    /// The file, relative to the suite root.
    pub file: String,
    pub checks: Vec<&'s QueryCheck>,
}

/// The original query's output, per check, per parameter set.
pub type Outputs = Vec<Vec<QueryOutput>>;

/// What one execution of a statement gave.
enum Ran {
    Output(QueryOutput),
    Failed(String),
    TimedOut(String),
}

/// An infrastructure failure (the database went away): the run stops.
pub type Infra = String;

/// The statement sent to Postgres for `text` with `types`.
pub fn prepare(text: &str, types: &BTreeMap<String, ParamType>) -> Rewritten {
    let casts: BTreeMap<String, String> = types
        .iter()
        .map(|(k, t)| (k.clone(), t.sql().to_string()))
        .collect();
    sql::rewrite(sql::strip_trailing_semicolon(text), &casts)
}

pub struct Lab<'s> {
    pub suite: &'s Suite,
    pub db: &'s Database,
    /// statement_timeout for every mutant (None: as `assay run` on fixtures).
    pub timeout: Option<Duration>,
}

/// Hands every finished unit to a shared list.
struct Collect(Arc<Mutex<Vec<UnitResult>>>);

impl Reporter for Collect {
    fn on_event(&mut self, event: &Event<'_>) {
        if let Event::UnitFinished(u) = event {
            if let Ok(mut v) = self.0.lock() {
                v.push((*u).clone());
            }
        }
    }
}

impl Lab<'_> {
    fn timeout_for(&self, c: &QueryCheck) -> Duration {
        self.timeout
            .unwrap_or_else(|| (c.budget.0 * 5).max(Duration::from_secs(10)))
    }

    async fn execute(
        &self,
        c: &QueryCheck,
        statement: &Rewritten,
        set: &ParamSet,
    ) -> Result<Ran, Infra> {
        let mut session = Session::open(&self.db.pool, self.timeout_for(c))
            .await
            .map_err(|e| e.message)?;
        let r = session
            .query(&statement.sql, &binds_for(statement, set, &c.types))
            .await;
        session.close().await;
        match r {
            Ok((out, _)) => Ok(Ran::Output(out)),
            Err(e) if e.transient => Err(e.message),
            // query_canceled: here, the statement_timeout.
            Err(e) if e.message.contains("SQLSTATE 57014") => Ok(Ran::TimedOut(e.message)),
            Err(e) => Ok(Ran::Failed(e.message)),
        }
    }

    /// PostgreSQL's message when it will not prepare the statement.
    async fn rejection(&self, statement: &Rewritten) -> Result<Option<String>, Infra> {
        let mut conn = self
            .db
            .pool
            .acquire()
            .await
            .map_err(|e| db::describe_error(&e).0)?;
        match (&mut *conn).describe(statement.sql.as_str()).await {
            Ok(_) => Ok(None),
            Err(e) if db::is_transient(&e) => Err(db::describe_error(&e).0),
            Err(e) => Ok(Some(db::describe_error(&e).0)),
        }
    }

    /// The original's outputs for every check and set of `g`, or which
    /// check fails and why.
    pub async fn originals(
        &self,
        g: &Group<'_>,
    ) -> Result<Result<Outputs, (String, String)>, Infra> {
        let mut all = Vec::new();
        for c in &g.checks {
            let mut per_set = Vec::new();
            for set in &c.sets {
                match self.execute(c, &c.statement, set).await? {
                    Ran::Output(o) => per_set.push(o),
                    Ran::Failed(m) | Ran::TimedOut(m) => {
                        return Ok(Err((
                            c.name.clone(),
                            format!("{} [{}]: the query fails: {m}", c.name, set.name),
                        )))
                    }
                }
            }
            all.push(per_set);
        }
        Ok(Ok(all))
    }

    /// The checks of `checks` through the engine: units in any order.
    async fn judge(&self, checks: Vec<QueryCheck>) -> Result<Vec<UnitResult>, Infra> {
        let suite = Suite {
            root: self.suite.root.clone(),
            config: self.suite.config.clone(),
            query_checks: checks,
            table_checks: Vec::new(),
        };
        let opts = RunOptions {
            jobs: 1,
            timing_runs: Some(0),
            explain_analyze: false,
            sample_rows: None,
            write_mode: WriteMode::Nothing,
            environment: Environment::Fixtures,
            fixtures: None,
            now: None,
            prior: None,
        };
        let results = Arc::new(Mutex::new(Vec::new()));
        let mut reporters: Vec<Box<dyn Reporter>> = vec![Box::new(Collect(results.clone()))];
        let (_, infra) = engine::run(
            &suite,
            &[self.db],
            &opts,
            &Selection::default(),
            0.0,
            Vec::new(),
            &mut reporters,
        )
        .await;
        drop(reporters);
        if let Some(e) = infra {
            return Err(e);
        }
        let v = results.lock().map(|v| v.clone()).unwrap_or_default();
        Ok(v)
    }

    /// The checks whose original query fails an error-level expectation:
    /// (check, `check [set]: outcome: message`).
    pub async fn baseline(&self, groups: &[Group<'_>]) -> Result<Vec<(String, String)>, Infra> {
        let checks: Vec<QueryCheck> = groups
            .iter()
            .flat_map(|g| g.checks.iter().map(|c| (*c).clone()))
            .collect();
        Ok(failures(&self.judge(checks).await?)
            .into_iter()
            .map(|(check, label, message)| (check, format!("{label}: {message}")))
            .collect())
    }

    /// Runs one mutant of group `g` (whose original outputs are `originals`).
    pub async fn evaluate(
        &self,
        g: &Group<'_>,
        originals: &Outputs,
        m: &Mutant,
    ) -> Result<Outcome, Infra> {
        let started = Instant::now();
        let mutated: Vec<QueryCheck> = g
            .checks
            .iter()
            .map(|c| {
                let mut c = (*c).clone();
                c.statement = prepare(&m.sql, &c.types);
                c.sql = m.sql.clone();
                c
            })
            .collect();
        let outcome = |status, differences, killed_by, reason| Outcome {
            mutant: m.clone(),
            status,
            checks: g.checks.iter().map(|c| c.name.clone()).collect(),
            killed_by,
            differences,
            reason,
            generated: None,
            duration_ms: started.elapsed().as_secs_f64() * 1000.0,
        };
        if let Some(msg) = self.rejection(&mutated[0].statement).await? {
            return Ok(outcome(Status::Unviable, Vec::new(), Vec::new(), Some(msg)));
        }
        let mut differences = Vec::new();
        for (c, base) in mutated.iter().zip(originals) {
            for (set, base) in c.sets.iter().zip(base) {
                let summary = match self.execute(c, &c.statement, set).await? {
                    Ran::TimedOut(msg) => {
                        return Ok(outcome(Status::Timeout, Vec::new(), Vec::new(), Some(msg)))
                    }
                    Ran::Failed(msg) => Some((format!("the mutant fails: {msg}"), Vec::new())),
                    Ran::Output(out) => {
                        let cmp = compare::compare(base, &out, &compare_options(self.suite, c));
                        (!cmp.is_same()).then(|| {
                            let mut details = cmp.details();
                            details.truncate(6);
                            (cmp.summary(), details)
                        })
                    }
                };
                if let Some((summary, details)) = summary {
                    differences.push(Difference {
                        check: c.name.clone(),
                        param_set: set.name.clone(),
                        summary,
                        details,
                    });
                }
            }
        }
        if differences.is_empty() {
            return Ok(outcome(Status::NoDifference, differences, Vec::new(), None));
        }
        let killed_by: Vec<String> = failures(&self.judge(mutated).await?)
            .into_iter()
            .map(|(_, label, _)| label)
            .collect();
        let status = if killed_by.is_empty() {
            Status::Missed
        } else {
            Status::Caught
        };
        Ok(outcome(status, differences, killed_by, None))
    }
}

/// How a mutant's output is compared with the original's: as the suite
/// compares (its tolerance), in order when the query declares one.
fn compare_options(suite: &Suite, c: &QueryCheck) -> CompareOptions {
    CompareOptions {
        tolerance: suite.config.defaults.tolerance,
        key: None,
        ordered: c.declares_order,
        order_keys: None,
        samples: 3,
    }
}

/// Failed or errored error-level outcomes, as (check, `check [set]: outcome`,
/// message), sorted.
fn failures(results: &[UnitResult]) -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String)> = results
        .iter()
        .filter(|u| matches!(u.verdict, Verdict::Fail | Verdict::Error))
        .flat_map(|u| {
            u.outcomes
                .iter()
                .filter(|o| {
                    matches!(o.status, CheckStatus::Fail | CheckStatus::Error)
                        && o.severity == Severity::Error
                })
                .map(move |o| {
                    (
                        u.check.clone(),
                        format!("{}: {}", u.label(), o.name),
                        o.message.clone(),
                    )
                })
        })
        .collect();
    out.sort();
    out.dedup();
    out
}
