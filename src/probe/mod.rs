//! `assay probe`: the dashboard's HTTP endpoints checked against their SQL.
//! Plans a call per query check with an endpoint and parameter set
//! (`plan`), judges each answer (`judge`, pure) after calling it and reading
//! the same parameter set through the SQL (`unit`), loads the page with all
//! its calls at once (`page`), and emits engine events to the usual
//! reporters (`run`).

pub mod judge;
pub mod page;
pub mod plan;
pub mod run;
pub mod unit;

pub use plan::{plan, Plan, Unit};
pub use run::run;

use crate::db::Database;
pub use crate::engine::timing::TimingPolicy;
use crate::http::{ApiClient, CallError};
use crate::suite::duration::HumanDuration;
use crate::suite::QueryCheck;
use std::cell::RefCell;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct ProbeOptions {
    /// Units judged at once (the page always makes all its calls at once).
    pub jobs: usize,
    /// When calls are timed again alone (as `run` times queries).
    pub timing: TimingPolicy,
    pub sample_rows: usize,
    /// Numbers within this distance are equal.
    pub tolerance: f64,
    /// Per-call timeout; default 10 x the check's budget, at least 30 s.
    pub timeout: Option<Duration>,
    /// The time every call of the page may take together.
    pub page_budget: HumanDuration,
}

/// What every unit of a probe shares.
pub struct Probe<'a> {
    pub client: &'a ApiClient,
    /// The database the API reads, when rows are compared.
    pub db: Option<&'a Database>,
    /// The API as shown in reports.
    pub api_label: String,
    pub options: ProbeOptions,
    api_down: RefCell<Option<String>>,
    db_down: RefCell<Option<String>>,
}

impl<'a> Probe<'a> {
    pub fn new(client: &'a ApiClient, db: Option<&'a Database>, options: ProbeOptions) -> Self {
        Probe {
            client,
            db,
            api_label: client.shown().to_string(),
            options,
            api_down: RefCell::new(None),
            db_down: RefCell::new(None),
        }
    }
    /// The API stayed unreachable through a call's retries: the calls not
    /// yet made are not made.
    pub fn api_down(&self) -> bool {
        self.api_down.borrow().is_some()
    }
    pub fn api_failed(&self, e: &CallError) {
        self.api_down
            .borrow_mut()
            .get_or_insert_with(|| e.to_string());
    }
    pub fn database_failed(&self, message: &str) {
        self.db_down
            .borrow_mut()
            .get_or_insert_with(|| message.to_string());
    }
    /// Why the probe could not finish, when the API or the database went away.
    pub fn infrastructure_failure(&self) -> Option<String> {
        if let Some(m) = self.api_down.borrow().as_ref() {
            return Some(format!("the API {}: {m}", self.api_label));
        }
        let db = self.db.map(|d| d.label.clone()).unwrap_or_default();
        self.db_down
            .borrow()
            .as_ref()
            .map(|m| format!("the database {db} was unreachable: {m}"))
    }
    /// Why calls (or page loads: `what` is `call` or `load`) were timed
    /// again: `timing_runs: N`, or the first being above half the budget.
    pub fn timing_reason(&self, what: &str, first_ms: f64, budget: HumanDuration) -> String {
        match self.options.timing {
            TimingPolicy::Runs(n) => format!("timing_runs: {n}"),
            TimingPolicy::Auto { .. } => format!(
                "its first {what} took {first_ms:.1} ms, more than half its {budget} budget"
            ),
        }
    }
    /// How long one call may take.
    pub fn timeout(&self, check: &QueryCheck) -> Duration {
        self.options
            .timeout
            .unwrap_or_else(|| (check.budget.0 * 10).max(Duration::from_secs(30)))
    }
}
