//! The search (IO): datasets drawn one after another, each loaded into the
//! database (TRUNCATE, COPY, the suite's `scale.reload`, on one connection), both sides of
//! every unit run and compared by the diff machinery; at the first
//! difference proptest shrinks the dataset, which is then run once more to
//! show both outputs.
//!
//! Dataset `i` of a search with seed `S` is drawn from its own RNG seeded
//! with `S + i`: `--generated 1 --seed S+i` replays it alone. The proptest
//! runner is synchronous: it runs on this worker thread taken out of the
//! async pool (`block_in_place`), each property call blocking on the
//! database work.

use super::domain::Domains;
use super::sample::{Datasets, Sample};
use crate::compare::Sameness;
use crate::diff::{self, Compared, Unit};
use crate::gen::model::Model;
use crate::gen::plan::Dataset;
use crate::gen::schema::Targets;
use crate::output::QueryOutput;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use sqlx::postgres::PgPool;
use std::cell::{Cell, RefCell};
use std::sync::Arc;

/// Loading attempts per dataset before it counts as rejected (every draw
/// was refused: the schema's constraints, a key taken twice, a NULL where
/// none may go, or a `scale.reload` file failing on the rows).
const LOAD_ATTEMPTS: u32 = 50;
/// Most shrinking steps (each a load and a run of every unit).
const SHRINK_STEPS: u32 = 2000;

/// Where and how the datasets are loaded and compared.
pub struct Lab<'a> {
    pub pool: &'a PgPool,
    pub model: Arc<Model>,
    pub targets: Arc<Targets>,
    /// The `scale.reload` files, read once.
    pub reload: Vec<crate::db::setup::SqlScript>,
    pub diff: diff::Options,
}

/// A unit whose two sides differ on the shrunk dataset.
#[derive(Debug, Clone)]
pub struct Difference {
    pub check: String,
    pub param_set: String,
    /// What differs, in one line (or the error of the side that failed).
    pub summary: String,
    pub details: Vec<String>,
    /// (base, current) outputs, or a side's error.
    pub base: Result<QueryOutput, String>,
    pub current: Result<QueryOutput, String>,
}

/// A dataset that tells the two sides apart, shrunk.
#[derive(Debug, Clone)]
pub struct Found {
    /// Which dataset of the search (0-based).
    pub case: u64,
    /// The seed that replays it alone (`--generated 1 --seed N`).
    pub replay_seed: u64,
    /// Rows of the dataset as drawn, before shrinking.
    pub drawn_rows: usize,
    pub dataset: Dataset,
    pub differences: Vec<Difference>,
}

/// What a search tried.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tried {
    /// Datasets loaded and compared on.
    pub datasets: u64,
    /// Datasets not loaded because every draw was refused (not counted in
    /// `datasets`).
    pub rejected: u64,
    /// Why the last refused draw was refused: the database's error from the
    /// COPY, or the `scale.reload` file and line that failed on the rows.
    pub last_refusal: Option<String>,
    /// Units (check × parameter set) compared on each.
    pub units: usize,
    pub seed: u64,
}

impl Tried {
    /// When no dataset could be loaded at all, why (a search that compared
    /// nothing must not read as "no difference").
    pub fn nothing_loaded(&self) -> Option<String> {
        (self.datasets == 0 && self.rejected > 0).then(|| {
            format!(
                "no generated dataset could be loaded: every draw of {} datasets was refused \
                 ({LOAD_ATTEMPTS} tries each; the last: {}); fix the data model (scale.model) \
                 or the scale.reload files",
                self.rejected,
                self.last_refusal.as_deref().unwrap_or("no reason given")
            )
        })
    }
}

#[derive(Debug, Clone)]
pub struct Outcome {
    pub tried: Tried,
    pub found: Option<Found>,
}

/// 32 bytes of ChaCha seed from a number.
fn seed_bytes(seed: u64) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (i, chunk) in out.chunks_mut(8).enumerate() {
        let v = crate::gen::draw::mix(seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        chunk.copy_from_slice(&v.to_le_bytes());
    }
    out
}

fn config() -> Config {
    Config {
        cases: 1,
        max_global_rejects: LOAD_ATTEMPTS,
        max_local_rejects: LOAD_ATTEMPTS,
        failure_persistence: None,
        source_file: None,
        fork: false,
        timeout: 0,
        max_shrink_time: 0,
        max_shrink_iters: SHRINK_STEPS,
        verbose: 0,
        ..Config::default()
    }
}

/// Why a unit's two sides differ, if they do: rows, columns or order, or
/// an error on one side only. Both sides failing is no difference.
pub fn differs(c: &Compared) -> Option<(String, Vec<String>)> {
    match (&c.base.error, &c.current.error) {
        (Some(e), None) => return Some((format!("base fails: {e}"), Vec::new())),
        (None, Some(e)) => return Some((format!("current fails: {e}"), Vec::new())),
        (Some(_), Some(_)) => return None,
        (None, None) => {}
    }
    let cmp = c.comparison.as_ref()?;
    (cmp.verdict != Sameness::Same).then(|| {
        let mut details = cmp.details();
        details.truncate(6);
        (cmp.summary(), details)
    })
}

impl Lab<'_> {
    /// Loads `d` and runs the scale.reload files on the same connection: Err
    /// says why the rows were refused (the schema's error from the COPY, or
    /// the reload file and line that failed on them).
    async fn load(&self, d: &Dataset) -> Result<(), String> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(|e| crate::db::describe_error(&e).0)?;
        let r = crate::gen::load::replace_dataset(&mut conn, &self.model, &self.targets, d).await;
        if let Err(e) = r {
            // A failed COPY can leave the connection in any state.
            conn.close_on_drop();
            return Err(match e {
                crate::gen::GenError::Database(m) | crate::gen::GenError::Usage(m) => {
                    format!("the schema refused the rows: {m}")
                }
                other => format!("the schema refused the rows: {other:?}"),
            });
        }
        // The hook on the connection that loaded the rows (one connection
        // per dataset).
        for f in &self.reload {
            f.run_on(&mut conn).await.map_err(|e| {
                let line = e.line.map(|l| format!(":{l}")).unwrap_or_default();
                format!(
                    "the reload hook {}{line} failed on the rows: {}",
                    e.file.display(),
                    e.message
                )
            })?;
        }
        Ok(())
    }

    /// Loads `sample` and compares every unit on it: Ok(Err(why)) when the
    /// rows were refused, Err when the database went away.
    async fn try_sample(
        &self,
        domains: &Domains,
        sample: &Sample,
        units: &[Unit<'_>],
        keep_outputs: bool,
    ) -> Result<Result<Vec<Compared>, String>, String> {
        if let Err(why) = self.load(&sample.realize(domains)).await {
            return Ok(Err(why));
        }
        let opts = diff::Options {
            keep_outputs,
            ..self.diff.clone()
        };
        diff::diff_units(self.pool, units, &opts, &|| {})
            .await
            .map(Ok)
    }

    /// Up to `n` datasets from `domains`, stopping at the first on which a
    /// unit's sides differ, which is shrunk. `progress` is called with the
    /// number of datasets done. Must run on a multi-threaded runtime. Err:
    /// the database went away.
    pub async fn search(
        &self,
        domains: Arc<Domains>,
        units: &[Unit<'_>],
        n: u64,
        seed: u64,
        progress: &dyn Fn(u64),
    ) -> Result<Outcome, String> {
        let handle = tokio::runtime::Handle::current();
        let strategy = Datasets(domains.clone());
        let mut tried = Tried {
            units: units.len(),
            seed,
            ..Tried::default()
        };
        let infra: RefCell<Option<String>> = RefCell::new(None);
        let first_rows: Cell<Option<usize>> = Cell::new(None);
        let last_refusal: RefCell<Option<String>> = RefCell::new(None);
        let property = |sample: Sample| -> Result<(), TestCaseError> {
            if infra.borrow().is_some() {
                return Err(TestCaseError::reject("the database went away"));
            }
            match handle.block_on(self.try_sample(&domains, &sample, units, false)) {
                Err(e) => {
                    *infra.borrow_mut() = Some(e);
                    Err(TestCaseError::reject("the database went away"))
                }
                Ok(Err(why)) => {
                    *last_refusal.borrow_mut() = Some(why);
                    Err(TestCaseError::reject("the rows were refused"))
                }
                Ok(Ok(compared)) => {
                    if first_rows.get().is_none() {
                        first_rows.set(Some(sample.rows()));
                    }
                    match compared.iter().find_map(differs) {
                        Some((why, _)) => Err(TestCaseError::fail(why)),
                        None => Ok(()),
                    }
                }
            }
        };
        let mut found = None;
        tokio::task::block_in_place(|| {
            for case in 0..n {
                let case_seed = seed.wrapping_add(case);
                let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes(case_seed));
                let mut runner = TestRunner::new_with_rng(config(), rng);
                first_rows.set(None);
                let result = runner.run(&strategy, property);
                if infra.borrow().is_some() {
                    return;
                }
                match result {
                    Ok(()) => tried.datasets += 1,
                    Err(TestError::Abort(_)) => tried.rejected += 1,
                    Err(TestError::Fail(_, sample)) => {
                        tried.datasets += 1;
                        found = Some((case, case_seed, sample));
                        return;
                    }
                }
                progress(case + 1);
            }
        });
        if let Some(e) = infra.into_inner() {
            return Err(e);
        }
        if tried.rejected > 0 {
            tried.last_refusal = last_refusal.into_inner();
        }
        let Some((case, replay_seed, sample)) = found else {
            return Ok(Outcome { tried, found: None });
        };
        let drawn_rows = first_rows.get().unwrap_or_default();
        let compared = self
            .try_sample(&domains, &sample, units, true)
            .await?
            .unwrap_or_default();
        let differences = units
            .iter()
            .zip(compared)
            .filter_map(|(u, c)| {
                let (summary, details) = differs(&c)?;
                let outputs = c.outputs.clone();
                let side = |err: &Option<String>, out: Option<QueryOutput>| match (err, out) {
                    (Some(e), _) => Err(e.clone()),
                    (None, Some(o)) => Ok(o),
                    (None, None) => Err("no output".to_string()),
                };
                let (b, cur) = match outputs {
                    Some((b, cur)) => (Some(b), Some(cur)),
                    None => (None, None),
                };
                Some(Difference {
                    check: u.pair.check.name.clone(),
                    param_set: u.set.name.clone(),
                    summary,
                    details,
                    base: side(&c.base.error, b),
                    current: side(&c.current.error, cur),
                })
            })
            .collect();
        Ok(Outcome {
            tried,
            found: Some(Found {
                case,
                replay_seed,
                drawn_rows,
                dataset: sample.realize(&domains),
                differences,
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_dataset_has_its_own_seed_and_the_same_seed_draws_the_same() {
        assert_ne!(seed_bytes(1), seed_bytes(2));
        assert_eq!(seed_bytes(7), seed_bytes(7));
    }
}
