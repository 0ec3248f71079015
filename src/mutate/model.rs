//! Mutants and what became of them: plain data, serialisable, shared by
//! every report and by `assay merge`.

use super::operator::{Family, Operator};
use serde::{Deserialize, Serialize};

/// JSON schema name of `assay mutate --format json`.
pub const SCHEMA: &str = "assay.mutate/v1";

/// A 1-based line and character column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

/// One mutant of one query file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mutant {
    /// Stable for the same change of the same text (a hash).
    pub id: String,
    /// The query file, relative to the suite root.
    pub file: String,
    pub operator: Operator,
    pub family: Family,
    /// The changed region of the original (end exclusive).
    pub start: Position,
    pub end: Position,
    /// The region's text in the original and in the mutant.
    pub original: String,
    pub replacement: String,
    /// What the mutant does, e.g. `replace >= with >`.
    pub description: String,
    /// The whole mutated query, as it would be written in the file.
    pub sql: String,
}

impl Mutant {
    /// `file:line:column: description`, as cargo-mutants names mutants.
    pub fn name(&self) -> String {
        format!(
            "{}:{}:{}: {}",
            self.file, self.start.line, self.start.column, self.description
        )
    }

    /// A unified diff of the original query text and this mutant.
    pub fn diff(&self, original_sql: &str) -> String {
        similar::TextDiff::from_lines(original_sql, &self.sql)
            .unified_diff()
            .context_radius(3)
            .header(&self.file, &format!("{} ({})", self.file, self.description))
            .to_string()
    }
}

/// What the checks made of a mutant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Its output differs and an error-level check failed.
    Caught,
    /// Its output differs on the fixtures, yet every check passed.
    Missed,
    /// It ran past its statement_timeout.
    Timeout,
    /// PostgreSQL rejected it (it does not prepare).
    Unviable,
    /// Its output equals the original's on every parameter set: an
    /// equivalent mutant, or a gap in the fixtures.
    NoDifference,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Caught,
        Status::Missed,
        Status::Timeout,
        Status::Unviable,
        Status::NoDifference,
    ];
    pub fn label(&self) -> &'static str {
        match self {
            Status::Caught => "caught",
            Status::Missed => "missed",
            Status::Timeout => "timeout",
            Status::Unviable => "unviable",
            Status::NoDifference => "no difference on fixtures",
        }
    }
}

/// Where a mutant's output differs from the original's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Difference {
    pub check: String,
    pub param_set: String,
    /// `compare::Comparison::summary()`, or the error the mutant raised.
    pub summary: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub mutant: Mutant,
    pub status: Status,
    /// The checks that judged it (those of its query file).
    pub checks: Vec<String>,
    /// For caught mutants: `check [set]: outcome` of each failed error-level outcome.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub killed_by: Vec<String>,
    /// Parameter sets on which its output differs from the original's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub differences: Vec<Difference>,
    /// For unviable and timed-out mutants: PostgreSQL's message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// With `--generated N`, for a mutant with no difference on the
    /// fixtures: what the search on generated data found or tried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated: Option<Generated>,
    pub duration_ms: f64,
}

/// What the generated-data search made of a mutant that returned the same
/// rows as the original on the fixtures: a dataset telling them apart (a
/// gap in the fixtures; the mutant is then missed) or none in `datasets`
/// (likely equivalent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Generated {
    /// Datasets loaded and compared on.
    pub datasets: u64,
    /// Units (check × parameter set) compared on each: the written sets
    /// and the ones drawn from the declared types (`--param-draws`).
    pub param_sets: usize,
    pub seed: u64,
    /// The shrunk dataset that tells the mutant apart, as SQL INSERTs: the
    /// rows to add to the fixtures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixture: Option<String>,
    /// Replays that dataset alone (`--generated 1 --seed N`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay_seed: Option<u64>,
}

impl Generated {
    /// Told apart by a generated dataset: a gap in the fixtures.
    pub fn found(&self) -> bool {
        self.fixture.is_some()
    }
}

/// A query file that was mutated, with its original text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Query {
    pub file: String,
    pub checks: Vec<String>,
    pub sql: String,
}

/// A query file that could not be mutated, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    pub file: String,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sample {
    pub size: usize,
    pub seed: u64,
}

/// Share `k` of `n`, as every command records it.
pub use crate::engine::Partition;

/// One run of `assay mutate` (or several merged).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub schema: String,
    pub suite: String,
    pub operators: Vec<Operator>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample: Option<Sample>,
    /// The parts this report holds: one for a partitioned run, all of them
    /// after `assay merge`, none for a whole run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub partitions: Vec<Partition>,
    /// The partition count the run was split into (when partitioned).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition_count: Option<u64>,
    /// Mutants planned across all partitions (after operators and sample).
    pub planned: usize,
    pub min_score: f64,
    pub queries: Vec<Query>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<Skipped>,
    /// Checks whose original query already fails: their mutants are not run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub baseline_failures: Vec<String>,
    pub outcomes: Vec<Outcome>,
    pub duration_ms: f64,
}

/// Mutants by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub mutants: usize,
    pub caught: usize,
    pub missed: usize,
    pub timeout: usize,
    pub unviable: usize,
    pub no_difference: usize,
}

impl Counts {
    pub fn add(&mut self, s: Status) {
        self.mutants += 1;
        match s {
            Status::Caught => self.caught += 1,
            Status::Missed => self.missed += 1,
            Status::Timeout => self.timeout += 1,
            Status::Unviable => self.unviable += 1,
            Status::NoDifference => self.no_difference += 1,
        }
    }

    pub fn of<'a>(outcomes: impl IntoIterator<Item = &'a Outcome>) -> Counts {
        let mut c = Counts::default();
        for o in outcomes {
            c.add(o.status);
        }
        c
    }

    /// (caught + timeout) / (caught + timeout + missed), in percent; None
    /// when no mutant's output differed (nothing to score).
    pub fn score(&self) -> Option<f64> {
        let detected = self.caught + self.timeout;
        let scored = detected + self.missed;
        (scored > 0).then(|| 100.0 * detected as f64 / scored as f64)
    }

    pub fn get(&self, s: Status) -> usize {
        match s {
            Status::Caught => self.caught,
            Status::Missed => self.missed,
            Status::Timeout => self.timeout,
            Status::Unviable => self.unviable,
            Status::NoDifference => self.no_difference,
        }
    }
}

/// A score as shown: `87.5%`, or `n/a` when nothing was scored.
pub fn score_text(score: Option<f64>) -> String {
    match score {
        Some(100.0) => "100%".to_string(),
        Some(s) => format!("{:.1}%", (s * 10.0).floor() / 10.0),
        None => "n/a".to_string(),
    }
}

impl Report {
    pub fn counts(&self) -> Counts {
        Counts::of(&self.outcomes)
    }

    /// Counts per query file, in the order of `queries`.
    pub fn per_query(&self) -> Vec<(&Query, Counts)> {
        self.queries
            .iter()
            .map(|q| {
                (
                    q,
                    Counts::of(self.outcomes.iter().filter(|o| o.mutant.file == q.file)),
                )
            })
            .collect()
    }

    /// Counts per operator family and operator, in operator order.
    pub fn per_operator(&self) -> Vec<(Operator, Counts)> {
        Operator::ALL
            .iter()
            .map(|op| {
                (
                    *op,
                    Counts::of(self.outcomes.iter().filter(|o| o.mutant.operator == *op)),
                )
            })
            .filter(|(_, c)| c.mutants > 0)
            .collect()
    }

    pub fn original_sql(&self, file: &str) -> &str {
        self.queries
            .iter()
            .find(|q| q.file == file)
            .map(|q| q.sql.as_str())
            .unwrap_or("")
    }

    /// The score reaches `min_score` (a run with nothing scored passes).
    pub fn passes(&self) -> bool {
        self.counts()
            .score()
            .is_none_or(|s| s + 1e-9 >= self.min_score)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_counts_timeouts_as_detected_and_leaves_the_rest_apart() {
        let mut c = Counts::default();
        for s in [
            Status::Caught,
            Status::Caught,
            Status::Timeout,
            Status::Missed,
            Status::Unviable,
            Status::NoDifference,
        ] {
            c.add(s);
        }
        assert_eq!(c.score(), Some(75.0));
        assert_eq!(score_text(c.score()), "75.0%");
        assert_eq!(Counts::default().score(), None);
        assert_eq!(score_text(Some(99.99)), "99.9%");
    }
}
