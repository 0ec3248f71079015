//! What the history keeps of one run (or of one partition of it): verdicts,
//! timings, metric values, the problems with their sample rows, the suite's
//! version and how the run ended.

use crate::checks::Status;
use crate::engine::{Counts, Event, Reporter, RunSummary, UnitResult};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};

/// The format of a stored record.
pub const FORMAT: &str = "assay.history/v1";

/// Detail lines kept per outcome (sample rows, diffs), and characters per line.
const MAX_DETAILS: usize = 20;
const MAX_LINE: usize = 400;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunRecord {
    pub format: String,
    /// Shared by the partitioned jobs of one run (`--run-id`, or the CI's
    /// pipeline id when `--partition` is given), else unique.
    pub run_id: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub suite: String,
    /// `git describe --always --dirty` of the suite, when it is a git checkout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Changes whenever an endpoint query or a check definition changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql_fingerprint: Option<String>,
    /// The databases, as labelled in reports (never credentials).
    #[serde(default)]
    pub targets: Vec<String>,
    #[serde(default)]
    pub environment: String,
    /// `hash:K/N` when this record is one partition of the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<String>,
    /// 0 pass, 1 a check failed, 2 invalid input, 3 infrastructure.
    pub exit_code: i32,
    /// Why the run ended early (exit 2 or 3), if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default)]
    pub counts: Counts,
    #[serde(default)]
    pub duration_ms: f64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub input_errors: Vec<String>,
    #[serde(default)]
    pub units: Vec<UnitRecord>,
    /// Alerts that could not be delivered.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notify_errors: Vec<String>,
}

/// One unit as kept: passing outcomes are counted, not stored; plans are
/// dropped; long details are cut.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UnitRecord {
    pub unit: UnitResult,
    #[serde(default)]
    pub passed_outcomes: usize,
}

impl UnitRecord {
    pub fn from_result(r: &UnitResult) -> UnitRecord {
        let mut unit = r.clone();
        unit.plan = None;
        let before = unit.outcomes.len();
        unit.outcomes.retain(|o| o.status != Status::Pass);
        let passed = before - unit.outcomes.len();
        // Context days of a series keep their numbers, not their sentence:
        // only the newest run's series is ever drawn, and the judged days
        // keep theirs.
        for m in &mut unit.metrics {
            if m.day.is_some() && !m.judged {
                if let Some(e) = &mut m.anomaly {
                    e.why.clear();
                }
            }
        }
        for o in &mut unit.outcomes {
            if o.details.len() > MAX_DETAILS {
                let more = o.details.len() - MAX_DETAILS;
                o.details.truncate(MAX_DETAILS);
                o.details.push(format!("... {more} more lines"));
            }
            for d in &mut o.details {
                if d.len() > MAX_LINE {
                    let mut cut = MAX_LINE;
                    while !d.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    d.truncate(cut);
                    d.push_str(" ...");
                }
            }
        }
        UnitRecord {
            unit,
            passed_outcomes: passed,
        }
    }
}

/// A reporter that keeps what the history needs while the run goes on.
#[derive(Clone, Default)]
pub struct Collector {
    inner: Arc<Mutex<Collected>>,
}

#[derive(Default)]
pub struct Collected {
    pub units: Vec<UnitRecord>,
    pub summary: Option<RunSummary>,
}

impl Collector {
    pub fn take(&self) -> Collected {
        std::mem::take(&mut *self.inner.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl Reporter for Collector {
    fn on_event(&mut self, event: &Event<'_>) {
        let mut c = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        match event {
            Event::UnitFinished(r) => c.units.push(UnitRecord::from_result(r)),
            Event::RunFinished(s) => c.summary = Some((*s).clone()),
            Event::RunStarted { .. } => {}
        }
    }
}

/// The run id: `--run-id`, else (for a partitioned run) the CI's id of the
/// pipeline so its jobs group into one run, else unique to this process.
pub fn run_id(explicit: Option<&str>, partitioned: bool, started: DateTime<Utc>) -> String {
    if let Some(id) = explicit.filter(|s| !s.trim().is_empty()) {
        return id.trim().to_string();
    }
    if partitioned {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        if let Some(id) = env("GITHUB_RUN_ID") {
            return match env("GITHUB_RUN_ATTEMPT") {
                Some(a) => format!("github-{id}-{a}"),
                None => format!("github-{id}"),
            };
        }
        for (var, prefix) in [
            ("CI_PIPELINE_ID", "gitlab"),
            ("BUILDKITE_BUILD_ID", "buildkite"),
            ("CIRCLE_WORKFLOW_ID", "circleci"),
            ("BUILD_TAG", "jenkins"),
        ] {
            if let Some(id) = env(var) {
                return format!("{prefix}-{id}");
            }
        }
    }
    format!(
        "{}-{}",
        started.format("%Y%m%dT%H%M%S%.3fZ"),
        std::process::id()
    )
}

/// `git describe --always --dirty` in `dir`, if it is a git checkout.
pub fn git_version(dir: &std::path::Path) -> Option<String> {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["describe", "--always", "--dirty", "--abbrev=12"])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let v = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (!v.is_empty()).then_some(v)
}

/// A fingerprint of the endpoint SQL and the check definitions.
pub fn sql_fingerprint(suite: &crate::suite::Suite) -> String {
    let mut text = String::new();
    for q in &suite.query_checks {
        text.push_str(&q.name);
        text.push('\n');
        text.push_str(&q.sql);
        text.push('\n');
    }
    for t in &suite.table_checks {
        text.push_str(&format!("{}\n{}\n{:?}\n", t.name, t.table, t.rules));
    }
    format!("{:016x}", crate::engine::stable_hash(&text))
}

impl RunRecord {
    /// A record with nothing measured yet (runs that end before any check).
    pub fn new(run_id: String, started_at: DateTime<Utc>, suite: String) -> RunRecord {
        RunRecord {
            format: FORMAT.to_string(),
            run_id,
            started_at,
            finished_at: started_at,
            suite,
            version: None,
            sql_fingerprint: None,
            targets: Vec::new(),
            environment: String::new(),
            partition: None,
            exit_code: 0,
            error: None,
            counts: Counts::default(),
            duration_ms: 0.0,
            input_errors: Vec::new(),
            units: Vec::new(),
            notify_errors: Vec::new(),
        }
    }

    /// Fills in what the engine reported.
    pub fn absorb(&mut self, collected: Collected) {
        self.units = collected.units;
        if let Some(s) = collected.summary {
            self.counts = s.counts;
            self.duration_ms = s.duration_ms;
            self.environment = s.environment;
            self.input_errors = s.load_errors.iter().map(|e| e.located()).collect();
            if self.error.is_none() {
                self.error = s.infrastructure_error;
            }
            if self.targets.is_empty() {
                self.targets = s
                    .target
                    .split(", ")
                    .filter(|t| !t.is_empty())
                    .map(str::to_string)
                    .collect();
            }
        } else {
            let mut c = Counts::default();
            for u in &self.units {
                c.add(u.unit.verdict);
            }
            self.counts = c;
        }
    }
}
