//! The generated-data search as the commands use it: `assay diff
//! --generated N` (a cluster holding the suite's schema only, datasets
//! loaded one after another) and the pieces `assay mutate --generated N`
//! shares (the lab on a cluster, the domains aimed at a pair of queries).

use super::gen::{gen_error, scale_config};
use crate::db::{Database, TargetSpec};
use crate::diff::{self, Unit};
use crate::error::{exit_code, AppError};
use crate::gen::plan::Dataset;
use crate::search::{self, Candidates, ColumnTypes, Domains, Lab};
use crate::suite::{ParamSet, ScaleConfig, Suite};
use std::io::{IsTerminal, Write};
use std::sync::Arc;

/// The model's values at volume: its dataset at scale 1 (the fixture
/// volume), from which each column's pool is sampled.
pub(super) fn volume(cfg: &ScaleConfig) -> Result<Dataset, AppError> {
    Dataset::generate(cfg.model.clone(), 1.0, cfg.seed).map_err(AppError::Usage)
}

/// What the search knows of a database before drawing: how each column is
/// written, and the model's values at volume.
pub(super) struct Ground {
    pub cfg: ScaleConfig,
    pub targets: Arc<crate::gen::schema::Targets>,
    pub types: ColumnTypes,
    pub volume: Dataset,
}

impl Ground {
    pub async fn read(suite: &Suite, db: &Database) -> Result<Ground, AppError> {
        let cfg = scale_config(suite)?;
        let (targets, types) = search::catalog::column_types(&db.pool, &cfg.model)
            .await
            .map_err(|e| {
                AppError::Usage(format!(
                    "{}: the data model does not fit the schema: {e}",
                    cfg.model_file.display()
                ))
            })?;
        let volume = volume(&cfg)?;
        Ok(Ground {
            cfg,
            targets: Arc::new(targets),
            types,
            volume,
        })
    }

    /// The lab on `db`, with the `scale.reload` files read (once, for
    /// every dataset of the search).
    pub fn lab<'a>(
        &self,
        suite: &'a Suite,
        db: &'a Database,
        jobs: usize,
    ) -> Result<Lab<'a>, AppError> {
        let reload = self
            .cfg
            .reload
            .iter()
            .map(|f| crate::db::setup::SqlScript::read(&suite.root, f))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| gen_error(crate::gen::GenError::Setup(e)))?;
        Ok(Lab {
            pool: &db.pool,
            model: self.cfg.model.clone(),
            targets: self.targets.clone(),
            reload,
            diff: diff::Options {
                jobs,
                external: false,
                tolerance: suite.config.defaults.tolerance,
                samples: suite.config.defaults.sample_rows,
                plans: false,
                timing_runs: 0,
                keep_outputs: false,
            },
        })
    }

    /// Domains aimed at the boundaries of `texts` and `sets`.
    pub fn domains<'t>(
        &self,
        texts: impl IntoIterator<Item = &'t str>,
        sets: &[ParamSet],
    ) -> Arc<Domains> {
        let mut c = Candidates::default();
        for t in texts {
            c.merge(Candidates::of(t, sets));
        }
        Arc::new(search::domain::domains(
            &self.cfg.model,
            &self.volume,
            &self.types,
            &c,
        ))
    }
}

/// The parameter sets drawn for one pair of a search.
pub(super) struct Drawn<'a> {
    pub pair: &'a diff::Pair<'a>,
    pub sets: Vec<ParamSet>,
}

/// `k` parameter sets drawn for each pair of `units` from its check's
/// declared types, its written sets and both texts' constants; seeded by
/// `seed` and the check's name (every mutant of a query gets the same).
pub(super) fn draw_params<'a>(units: &[Unit<'a>], k: usize, seed: u64) -> Vec<Drawn<'a>> {
    let mut out: Vec<Drawn<'a>> = Vec::new();
    for u in units {
        if out.iter().any(|d| std::ptr::eq(d.pair, u.pair)) {
            continue;
        }
        let written: Vec<ParamSet> = units
            .iter()
            .filter(|v| std::ptr::eq(v.pair, u.pair))
            .map(|v| v.set.clone())
            .collect();
        let check = u.pair.check;
        let mut c = Candidates::of(&check.sql, &written);
        if let Ok(b) = &u.pair.base {
            c.merge(Candidates::of(&b.sql, &written));
        }
        let seed = seed ^ crate::gen::draw::name_hash(&check.name);
        let sets = search::params::drawn_sets(&check.types, &written, &c, k, seed);
        out.push(Drawn { pair: u.pair, sets });
    }
    out
}

/// `units` followed by a unit for every drawn set.
pub(super) fn with_drawn<'b>(units: &[Unit<'b>], drawn: &'b [Drawn<'b>]) -> Vec<Unit<'b>> {
    let mut all = units.to_vec();
    for d in drawn {
        all.extend(d.sets.iter().map(|set| Unit { pair: d.pair, set }));
    }
    all
}

/// A progress bar over `n` datasets on standard error (hidden when it is
/// not a terminal or with --no-progress).
pub(super) fn progress_bar(n: u64, no_progress: bool, what: &str) -> indicatif::ProgressBar {
    if no_progress || n < 2 || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(n);
    if let Ok(style) = indicatif::ProgressStyle::with_template(&format!(
        "{what} {{bar:30}} {{pos}}/{{len}} datasets {{per_sec}} {{elapsed}}"
    )) {
        bar.set_style(style);
    }
    bar
}

/// A cluster holding the suite's schema and nothing else: `scale.before`
/// then `scale.after`.
async fn schema_only(suite: &Suite, jobs: usize) -> Result<Database, AppError> {
    let cfg = scale_config(suite)?;
    let db = Database::open(
        &TargetSpec::Embedded,
        suite.config.postgres_version,
        jobs as u32 + 1,
    )
    .await
    .map_err(AppError::Infrastructure)?;
    for f in cfg.before.iter().chain(&cfg.after) {
        if let Err(e) = crate::db::setup::run_sql_file(&db.pool, &suite.root, f).await {
            db.close().await;
            return Err(gen_error(crate::gen::GenError::Setup(e)));
        }
    }
    Ok(db)
}

/// `assay diff --generated N`: the units searched on N datasets; exit 1
/// with the shrunk counterexample when one differs.
pub(super) async fn diff_generated(
    suite: &Suite,
    units: &[Unit<'_>],
    n: u64,
    seed: Option<u64>,
    param_draws: usize,
    jobs: usize,
    no_progress: bool,
) -> Result<i32, AppError> {
    let mut out = crate::report::sink::Stdout;
    let say = |out: &mut crate::report::sink::Stdout, text: &str| {
        out.write_all(text.as_bytes())
            .and_then(|_| out.flush())
            .map_err(|e| AppError::Infrastructure(format!("cannot write the report: {e}")))
    };
    if units.is_empty() {
        say(
            &mut out,
            "nothing to search: every selected query is the same text in base and current\n",
        )?;
        return Ok(exit_code::OK);
    }
    let db = schema_only(suite, jobs).await?;
    let result = async {
        let ground = Ground::read(suite, &db).await?;
        let seed = seed.unwrap_or(ground.cfg.seed);
        let drawn = draw_params(units, param_draws, seed);
        let units = with_drawn(units, &drawn);
        let mut texts: Vec<&str> = Vec::new();
        let mut sets: Vec<ParamSet> = Vec::new();
        for u in &units {
            texts.push(&u.pair.check.sql);
            if let Ok(b) = &u.pair.base {
                texts.push(&b.sql);
            }
            sets.push(u.set.clone());
        }
        let domains = ground.domains(texts, &sets);
        let lab = ground.lab(suite, &db, jobs)?;
        let bar = progress_bar(n, no_progress, "search");
        let outcome = lab
            .search(domains, &units, n, seed, &|done| bar.set_position(done))
            .await;
        bar.finish_and_clear();
        outcome.map_err(|e| {
            AppError::Infrastructure(format!(
                "the database was unreachable during the search: {e}"
            ))
        })
    }
    .await;
    db.close().await;
    let outcome = result?;
    if let Some(why) = outcome.tried.nothing_loaded() {
        return Err(AppError::Usage(why));
    }
    say(&mut out, &search::report::human(&outcome, n))?;
    Ok(if outcome.found.is_some() {
        exit_code::CHECK_FAILED
    } else {
        exit_code::OK
    })
}
