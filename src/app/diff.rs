//! `assay diff`: the base and the current version of every selected query,
//! side by side on the same database under every parameter set.
//!
//! Order of work: flags, suite, base (a directory or a git revision), pairs
//! (a query on one side only is reported as added or removed; the same text
//! on both sides is not run), then — only when something is left to run —
//! the database (fixtures, a url target as it is, or data generated at
//! `--scale`), `diff::diff_units`, verdicts and reports.

use super::load;
use super::reports::report_specs;
use super::targets::target_specs;
use crate::cli::{self, DiffArgs, RunArgs};
use crate::db::fixtures::{self, FixtureSource};
use crate::db::{Database, TargetSpec};
use crate::diff::base::Base;
use crate::diff::judge::{self, SpeedRule};
use crate::diff::model::{DiffReport, NotRun, OneSided, SCHEMA};
use crate::diff::{self, Pair};
use crate::engine::{self, Selection};
use crate::error::{exit_code, AppError};
use crate::report::Format;
use crate::suite::{Environment, QueryCheck, Suite};
use std::collections::BTreeSet;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::Instant;

/// Timed runs per side when `--max-slowdown` is given without `--timing-runs`.
const RUNS_FOR_A_SLOWDOWN_VERDICT: u32 = 5;

struct Flags {
    jobs: usize,
    timing_runs: u32,
    max_slowdown: Option<f64>,
    specs: Vec<TargetSpec>,
    formats: Vec<cli::FormatSpec>,
}

fn flags(args: &DiffArgs, suite: &Suite) -> Result<Flags, AppError> {
    let jobs = super::jobs(args.jobs, false)?;
    if let Some(r) = args.max_slowdown {
        if !(r.is_finite() && r >= 1.0) {
            return Err(AppError::Usage(
                "--max-slowdown must be a number of at least 1 (e.g. 1.2: at most 20 % slower)"
                    .into(),
            ));
        }
    }
    let timing_runs = args.timing_runs.unwrap_or(if args.max_slowdown.is_some() {
        RUNS_FOR_A_SLOWDOWN_VERDICT
    } else {
        0
    });
    if args.max_slowdown.is_some() && timing_runs == 0 {
        return Err(AppError::Usage(
            "--max-slowdown needs timed runs; drop --timing-runs 0 or give N > 0".into(),
        ));
    }
    if args.seed.is_some() && args.scale.is_none() && args.generated.is_none() {
        return Err(AppError::Usage(
            "--seed chooses generated data; give --scale N or --generated N too".into(),
        ));
    }
    if args.generated == Some(0) {
        return Err(AppError::Usage(
            "--generated must be at least 1 (datasets to search)".into(),
        ));
    }
    if args.generated.is_some() {
        super::gen::scale_config(suite)?;
    }
    if let Some(s) = args.scale {
        if args.database_url.is_some() || args.target == Some(cli::TargetArg::Url) {
            return Err(AppError::Usage(
                "--scale generates data into a database assay owns; with --database-url the data is compared as it is"
                    .into(),
            ));
        }
        crate::gen::plan::check_scale(s).map_err(|e| AppError::Usage(format!("--scale: {e}")))?;
        super::gen::scale_config(suite)?;
    }
    let run_args = RunArgs {
        target: args.target,
        database_urls: args.database_url.iter().cloned().collect(),
        ..Default::default()
    };
    let specs = target_specs(&run_args, suite)?;
    let formats = report_specs(&args.formats, args.output.as_ref(), "json=diff.json")?;
    Ok(Flags {
        jobs,
        timing_runs,
        max_slowdown: args.max_slowdown,
        specs,
        formats,
    })
}

/// The selected query checks, or why none is.
fn selected<'s>(suite: &'s Suite, args: &DiffArgs) -> Result<Vec<&'s QueryCheck>, AppError> {
    let selection = Selection {
        filter: args.select.filter.clone(),
        tags: args.select.tags.clone(),
        partition: None,
    };
    let (queries, _) = engine::select_checks(suite, &selection);
    if queries.is_empty() {
        let msg = super::nothing_selected(suite, &args.select);
        let msg = msg
            .split(" — pass --allow-empty")
            .next()
            .unwrap_or(&msg)
            .to_string();
        return Err(AppError::Usage(format!(
            "{msg} (assay diff compares query checks)"
        )));
    }
    let names: Vec<String> = queries.iter().map(|c| c.name.clone()).collect();
    for n in &args.expect_different {
        if !names.contains(n) {
            let hint = crate::suite::locate::closest(n, &names)
                .map(|c| format!("; did you mean `{c}`?"))
                .unwrap_or_default();
            return Err(AppError::Usage(format!(
                "--expect-different {n}: no selected query check has that name{hint}"
            )));
        }
    }
    Ok(queries)
}

/// The one place `assay diff` generates data: the suite's dataset at
/// `scale` into `db`, settled as bench settles it. Returns how to describe
/// the data.
async fn generate_at_scale(
    db: &Database,
    suite: &Suite,
    scale: f64,
    seed: Option<u64>,
    progress: bool,
) -> Result<String, AppError> {
    let cfg = super::gen::scale_config(suite)?;
    let seed = seed.unwrap_or(cfg.seed);
    let stats = crate::gen::generate(
        &db.pool,
        &suite.root,
        &cfg,
        &crate::gen::GenOptions {
            scale,
            seed,
            connections: super::gen::default_connections(),
            progress,
        },
    )
    .await
    .map_err(super::gen::gen_error)?;
    sqlx::raw_sql("VACUUM (ANALYZE)")
        .execute(&db.pool)
        .await
        .map_err(|e| {
            AppError::Infrastructure(format!(
                "after generating: {}",
                crate::db::describe_error(&e).0
            ))
        })?;
    let volume = stats.relation_rows.get(&cfg.volume).copied().unwrap_or(0);
    Ok(format!(
        "scale {scale}: {volume} rows in {} generated with seed {seed}",
        cfg.volume
    ))
}

/// The database to compare on and how to describe its data.
async fn open(
    spec: &TargetSpec,
    suite: &Suite,
    args: &DiffArgs,
    jobs: usize,
) -> Result<(Database, String), AppError> {
    let pool_size = jobs as u32 + 1;
    if let Some(scale) = args.scale {
        let db = Database::open(spec, suite.config.postgres_version, pool_size)
            .await
            .map_err(AppError::Infrastructure)?;
        let progress = !args.no_progress && std::io::stderr().is_terminal();
        return match generate_at_scale(&db, suite, scale, args.seed, progress).await {
            Ok(data) => Ok((db, data)),
            Err(e) => {
                db.close().await;
                Err(e)
            }
        };
    }
    let (db, source) = fixtures::open(spec, suite, pool_size, !args.no_fixture_cache)
        .await
        .map_err(|e| e.into_app_error())?;
    let data = match source {
        FixtureSource::External => "the database as it is, one snapshot per parameter set",
        FixtureSource::Cached => "fixtures, from the cache",
        FixtureSource::Loaded => "fixtures",
    };
    Ok((db, data.to_string()))
}

fn progress_bar(n: u64, no_progress: bool) -> indicatif::ProgressBar {
    if no_progress || n < 2 || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(n);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("diff {bar:30} {pos}/{len} {elapsed}")
    {
        bar.set_style(style);
    }
    bar
}

/// Query files the base has that no check of the current suite runs and the
/// current SQL directory no longer holds.
fn removed(base: &Base, suite: &Suite) -> Vec<OneSided> {
    let referenced: BTreeSet<String> = suite
        .query_checks
        .iter()
        .map(|c| c.query.display().to_string().replace('\\', "/"))
        .collect();
    let current_dir = suite.root.join(&suite.config.endpoint_sql_dir);
    base.sql_files()
        .into_iter()
        .filter(|f| !referenced.contains(f) && !current_dir.join(f).exists())
        .map(|f| OneSided {
            check: None,
            endpoint: None,
            query: f,
        })
        .collect()
}

/// The pairs of a diff: what runs, and what is only reported.
struct Planned<'s> {
    /// Queries on both sides (unchanged ones included: they are reported).
    pairs: Vec<Pair<'s>>,
    added: Vec<OneSided>,
    removed: Vec<OneSided>,
    not_run: Vec<NotRun>,
}

impl Planned<'_> {
    /// The units to run: every parameter set of every pair whose two
    /// files differ.
    fn units(&self) -> Vec<diff::Unit<'_>> {
        self.pairs
            .iter()
            .filter(|p| !p.unchanged)
            .flat_map(|p| p.units())
            .collect()
    }
}

/// Pairs every selected check that runs in `environment` with its base; a
/// query on one side only is reported as added or removed, not run.
fn plan<'s>(
    suite: &'s Suite,
    checks: &[&'s QueryCheck],
    base: &Base,
    args: &DiffArgs,
    environment: Environment,
) -> Result<Planned<'s>, AppError> {
    let mut planned = Planned {
        pairs: Vec::new(),
        added: Vec::new(),
        removed: Vec::new(),
        not_run: Vec::new(),
    };
    for c in checks {
        if !c.applies_to(environment) {
            planned.not_run.push(NotRun {
                check: c.name.clone(),
                reason: format!("the check does not run on {environment} (environments:)"),
            });
            continue;
        }
        match base.read(&c.query).map_err(|e| AppError::Usage(e.0))? {
            Some(text) => planned.pairs.push(diff::pair(
                c,
                &text,
                base.shown(&c.query),
                args.expect_different.contains(&c.name),
            )),
            None => planned.added.push(OneSided {
                check: Some(c.name.clone()),
                endpoint: c.endpoint.clone(),
                query: c.query.display().to_string(),
            }),
        }
    }
    // Base files belong to no check: only an unfiltered diff lists them.
    if args.select.filter.is_none() && args.select.tags.is_empty() {
        planned.removed = removed(base, suite);
    }
    Ok(planned)
}

/// What running the units on one database gave.
struct Ran {
    target: String,
    data: String,
    setup_ms: f64,
    compared: Vec<diff::Compared>,
}

/// Opens the database of the diff, runs every unit on it, closes it.
async fn run_units(
    suite: &Suite,
    args: &DiffArgs,
    f: &Flags,
    units: &[diff::Unit<'_>],
    started: Instant,
) -> Result<Ran, AppError> {
    let (db, data) = open(&f.specs[0], suite, args, f.jobs).await?;
    let target = db.label.clone();
    let setup_ms = started.elapsed().as_secs_f64() * 1e3;
    let opts = diff::Options {
        jobs: f.jobs,
        external: db.external,
        tolerance: suite.config.defaults.tolerance,
        samples: suite.config.defaults.sample_rows,
        plans: true,
        timing_runs: f.timing_runs,
        keep_outputs: false,
    };
    let bar = progress_bar(units.len() as u64, args.no_progress);
    let ran = diff::diff_units(&db.pool, units, &opts, &|| bar.inc(1)).await;
    bar.finish_and_clear();
    db.close().await;
    let compared = ran.map_err(|e| {
        AppError::Infrastructure(format!("the database was unreachable during the diff: {e}"))
    })?;
    Ok(Ran {
        target,
        data,
        setup_ms,
        compared,
    })
}

pub(super) async fn diff(root: &Path, args: DiffArgs) -> Result<i32, AppError> {
    let started = Instant::now();
    let loaded = load(root, None)?;
    if !loaded.errors.is_empty() {
        // Comparing a partly loaded suite would silently compare less.
        return Err(AppError::Input(loaded.errors));
    }
    let suite = loaded.suite;
    let f = flags(&args, &suite)?;
    let checks = selected(&suite, &args)?;
    let sql_dir = suite.root.join(&suite.config.endpoint_sql_dir);
    let base = match (&args.base_sql_dir, &args.base_ref) {
        (Some(d), _) => Base::dir(d),
        (None, Some(r)) => Base::git_ref(&sql_dir, r),
        (None, None) => unreachable!("clap requires one of --base-sql-dir and --base-ref"),
    }
    .map_err(|e| AppError::Usage(e.0))?;
    let environment = if f.specs.iter().all(|s| matches!(s, TargetSpec::Url(_))) {
        Environment::Production
    } else {
        Environment::Fixtures
    };
    let planned = plan(&suite, &checks, &base, &args, environment)?;
    let units = planned.units();
    if let Some(n) = args.generated {
        return super::search::diff_generated(
            &suite,
            &units,
            n,
            args.seed,
            args.param_draws,
            f.jobs,
            args.no_progress,
        )
        .await;
    }
    // The database only when something is to run. When it cannot be
    // reached, the reports still say so (and what needed no database).
    let mut infrastructure_error = None;
    let ran = if units.is_empty() {
        Ran {
            target: "no database (nothing to run)".into(),
            data: "-".into(),
            setup_ms: 0.0,
            compared: Vec::new(),
        }
    } else {
        match run_units(&suite, &args, &f, &units, started).await {
            Ok(ran) => ran,
            Err(AppError::Infrastructure(e)) => {
                infrastructure_error = Some(e);
                Ran {
                    target: super::run::target_label(&f.specs),
                    data: "-".into(),
                    setup_ms: 0.0,
                    compared: Vec::new(),
                }
            }
            Err(other) => return Err(other),
        }
    };
    let did_run = infrastructure_error.is_none();

    let rule = SpeedRule {
        max_slowdown: f.max_slowdown,
        min_slowdown_ms: suite.config.bench.min_slowdown_ms,
        concurrent: f.jobs > 1,
    };
    let mut compared = ran.compared.into_iter();
    let mut entries = Vec::new();
    for p in &planned.pairs {
        for u in p.units() {
            if p.unchanged {
                entries.push(judge::unchanged(&u));
            } else if did_run {
                entries.push(judge::entry(&u, compared.next().unwrap_or_default(), &rule));
            }
        }
    }
    let counts = judge::counts(&entries);
    let report = DiffReport {
        schema: SCHEMA.to_string(),
        suite: suite.config.name.clone(),
        base: base.info(),
        current: suite.config.endpoint_sql_dir.display().to_string(),
        target: ran.target,
        data: ran.data,
        timing_runs: f.timing_runs,
        max_slowdown: f.max_slowdown,
        min_slowdown_ms: suite.config.bench.min_slowdown_ms,
        expected_but_same: judge::expected_but_same(&args.expect_different, &entries),
        entries,
        added: planned.added,
        removed: planned.removed,
        not_run: planned.not_run,
        counts,
        setup_ms: ran.setup_ms,
        duration_ms: started.elapsed().as_secs_f64() * 1e3,
        infrastructure_error,
    };
    write_reports(&report, &f.formats)?;
    if let Some(e) = report.infrastructure_error {
        return Err(AppError::Infrastructure(e));
    }
    Ok(if report.passes() {
        exit_code::OK
    } else {
        exit_code::CHECK_FAILED
    })
}

fn write_reports(report: &DiffReport, specs: &[cli::FormatSpec]) -> Result<(), AppError> {
    let no_color = crate::report::no_color();
    for s in specs {
        let color = s.format == Format::Human
            && s.path.is_none()
            && std::io::stdout().is_terminal()
            && !no_color;
        let text = diff::report::render(report, s.format, color);
        match &s.path {
            None => {
                let mut out = crate::report::sink::Stdout;
                out.write_all(text.as_bytes())
                    .and_then(|_| out.flush())
                    .map_err(|e| AppError::Infrastructure(format!("cannot write report: {e}")))?;
            }
            Some(p) => crate::report::sink::write_atomic(p, text.as_bytes()).map_err(|e| {
                AppError::Infrastructure(format!("cannot write {}: {e}", p.display()))
            })?,
        }
    }
    Ok(())
}
