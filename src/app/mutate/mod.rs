//! `assay mutate`: mutants of the endpoint SQL, run in this process against
//! one throwaway cluster loaded once, reported as cargo-mutants' mutants.out/,
//! Stryker's JSON, and human/json/markdown summaries.
//!
//! Order of work: flags, suite, cluster + fixtures, catalog, mutants
//! (pure: `crate::mutate`), the original's outputs and checks (baseline),
//! then every mutant (`execute::Lab::evaluate`) up to `--jobs` at once.

mod execute;
mod generated;
mod merge;
mod outputs;
mod versus_spawn;

pub(super) use merge::merge_if_mutate;

use super::load;
use crate::cli::{MutateArgs, SelectArgs};
use crate::db::{self, Database, TargetSpec};
use crate::engine::{self, Selection};
use crate::error::{exit_code, AppError, InputError};
use crate::mutate::model::{self, Partition, Query, Report, Sample, Skipped};
use crate::mutate::{self as mutation, Catalog, Choice, Context, Mutant, Operator};
use crate::suite::{Environment, ParamType, ParamValue, Suite};
use execute::{Group, Lab};
use futures::StreamExt;
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The flags, checked before anything starts.
pub(super) struct Options {
    pub jobs: usize,
    pub choice: Choice,
    pub min_score: f64,
    pub timeout: Option<Duration>,
    pub outputs: Vec<outputs::Spec>,
}

fn options(args: &MutateArgs) -> Result<Options, AppError> {
    let jobs = args.jobs.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
    });
    if jobs == 0 {
        return Err(AppError::Usage("--jobs must be at least 1".into()));
    }
    let operators = match &args.operators {
        Some(list) => mutation::operator::parse_list(list)
            .map_err(|e| AppError::Usage(format!("--operators: {e}")))?,
        None => Operator::ALL.to_vec(),
    };
    if args.seed.is_some() && args.sample.is_none() && args.generated.is_none() {
        return Err(AppError::Usage(
            "--seed chooses the --sample and the --generated datasets; give --sample N or --generated N too"
                .into(),
        ));
    }
    if args.generated == Some(0) {
        return Err(AppError::Usage(
            "--generated must be at least 1 (datasets to search per mutant)".into(),
        ));
    }
    let sample = args.sample.map(|n| (n, args.seed.unwrap_or(0)));
    if sample.is_some_and(|(n, _)| n == 0) {
        return Err(AppError::Usage("--sample must be at least 1".into()));
    }
    let partition = match &args.partition {
        Some(p) => Some(engine::parse_partition(p).map_err(AppError::Usage)?),
        None => None,
    };
    let min_score = match &args.min_score {
        Some(s) => parse_score(s).map_err(AppError::Usage)?,
        None => 100.0,
    };
    let timeout = match &args.timeout {
        Some(t) => Some(
            crate::suite::duration::parse_duration(t)
                .map_err(|e| AppError::Usage(format!("--timeout: {e}")))?,
        ),
        None => None,
    };
    Ok(Options {
        jobs,
        choice: Choice {
            operators,
            sample,
            partition,
        },
        min_score,
        timeout,
        outputs: outputs::specs(&args.formats)?,
    })
}

/// `95`, `95%` or `99.5` -> percent.
pub(super) fn parse_score(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .trim_end_matches('%')
        .parse()
        .map_err(|_| format!("--min-score `{s}`: write a percentage, e.g. 100 or 90%"))?;
    if !(0.0..=100.0).contains(&v) {
        return Err(format!("--min-score `{s}`: must be between 0 and 100"));
    }
    Ok(v)
}

/// The query checks of the selection that run on fixtures, by query file.
fn groups<'s>(suite: &'s Suite, select: &SelectArgs) -> Vec<Group<'s>> {
    let selection = Selection {
        filter: select.filter.clone(),
        tags: select.tags.clone(),
        partition: None,
    };
    let (checks, _) = engine::select_checks(suite, &selection);
    let mut by_file: BTreeMap<String, Vec<_>> = BTreeMap::new();
    for c in checks {
        if !c.applies_to(Environment::Fixtures) {
            continue;
        }
        let rel = c
            .query_path
            .strip_prefix(&suite.root)
            .unwrap_or(&c.query_path)
            .display()
            .to_string();
        by_file.entry(rel).or_default().push(c);
    }
    by_file
        .into_iter()
        .map(|(file, checks)| Group { file, checks })
        .collect()
}

/// A typed SQL literal for a parameter value (`'2025-10-01'::date`, `null::text`).
fn literal(ty: ParamType, v: &ParamValue) -> String {
    match v.to_sql_text() {
        None => format!("null::{}", ty.sql()),
        Some(t) => format!("{}::{}", crate::sql::quote_literal(&t), ty.sql()),
    }
}

/// Each parameter's value in the first set of the group's first check.
fn parameter_constants(g: &Group) -> BTreeMap<String, String> {
    let c = g.checks[0];
    c.sets
        .first()
        .map(|set| {
            set.values
                .iter()
                .map(|(name, v)| {
                    let ty = c.types.get(name).copied().unwrap_or(ParamType::Text);
                    (name.clone(), literal(ty, v))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Columns and types of every relation of the loaded database.
async fn catalog(db: &Database) -> Result<Catalog, String> {
    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "select n.nspname::text, c.relname::text, a.attname::text, a.atttypid::regtype::text
         from pg_attribute a
         join pg_class c on c.oid = a.attrelid
         join pg_namespace n on n.oid = c.relnamespace
         where c.relkind in ('r', 'v', 'm', 'p', 'f') and a.attnum > 0 and not a.attisdropped
           and n.nspname not in ('pg_catalog', 'information_schema')
           and n.nspname not like 'pg_toast%'
         order by 1, 2, a.attnum",
    )
    .fetch_all(&db.pool)
    .await
    .map_err(|e| db::describe_error(&e).0)?;
    let mut c = Catalog::default();
    for (schema, rel, col, ty) in rows {
        c.add(&schema, &rel, &col, &ty);
    }
    Ok(c)
}

/// Every mutant of every group, and the files that could not be parsed.
fn plan(groups: &[Group], catalog: &Catalog) -> (Vec<Mutant>, Vec<Skipped>) {
    let mut all = Vec::new();
    let mut skipped = Vec::new();
    for g in groups {
        let ctx = Context {
            catalog: catalog.clone(),
            params: parameter_constants(g),
        };
        match mutation::mutants_of(&g.file, &g.checks[0].sql, &ctx) {
            Ok(gen) => all.extend(gen.mutants),
            Err(e) => skipped.push(Skipped {
                file: g.file.clone(),
                reason: format!("sqlparser (PostgreSQL dialect) cannot parse it: {e}"),
            }),
        }
    }
    (all, skipped)
}

pub(super) async fn mutate(root: &Path, args: MutateArgs) -> Result<i32, AppError> {
    let started = Instant::now();
    let opts = options(&args)?;
    let loaded = load(root, args.sql_dir.clone())?;
    if !loaded.errors.is_empty() {
        // Mutating a partly loaded suite would silently measure less.
        return Err(AppError::Input(loaded.errors));
    }
    let suite = loaded.suite;
    if args.generated.is_some() {
        super::gen::scale_config(&suite)?;
    }
    let groups = groups(&suite, &args.select);
    if groups.is_empty() {
        return Err(AppError::Usage(
            "no query check selected runs on fixtures: nothing to mutate (check --filter/--tag)"
                .into(),
        ));
    }
    let db = Database::open(
        &TargetSpec::Embedded,
        suite.config.postgres_version,
        opts.jobs as u32 + 1,
    )
    .await
    .map_err(AppError::Infrastructure)?;
    let result = with_database(&suite, &db, &groups, &opts, &args, started).await;
    db.close().await;
    let Some(report) = result? else {
        return Ok(exit_code::OK);
    };
    let out_dir = args.out_dir.clone().unwrap_or_else(|| root.to_path_buf());
    outputs::write_mutants_out(&out_dir, &report)?;
    outputs::write_reports(&opts.outputs, &report)?;
    if args.versus_spawn {
        versus_spawn::compare(root, &args, &suite, &report, opts.jobs).await?;
    }
    Ok(exit_for(&report))
}

/// 2 when a query could not be mutated, 1 when an original fails its
/// checks or the score is below the minimum, else 0.
pub(super) fn exit_for(report: &Report) -> i32 {
    if !report.skipped.is_empty() {
        exit_code::INVALID_INPUT
    } else if !report.baseline_failures.is_empty() || !report.passes() {
        exit_code::CHECK_FAILED
    } else {
        exit_code::OK
    }
}

/// Everything that needs the cluster. None for `--list`.
async fn with_database(
    suite: &Suite,
    db: &Database,
    groups: &[Group<'_>],
    opts: &Options,
    args: &MutateArgs,
    started: Instant,
) -> Result<Option<Report>, AppError> {
    if let Err(e) = db::setup::apply(&db.pool, suite).await {
        return Err(AppError::Input(vec![InputError::new(
            &e.file,
            format!("setup failed: {}", e.message),
        )
        .at(e.line, None)
        .help(
            "fix the schema or fixture file; setup runs in the order of `setup:` in assay.yaml",
        )]));
    }
    let catalog = catalog(db).await.map_err(AppError::Infrastructure)?;
    let (all, skipped) = plan(groups, &catalog);
    let (planned, mine) = mutation::choose(all, &opts.choice);
    if args.list {
        for m in &mine {
            println!("{} [{}]", m.name(), m.operator);
        }
        println!("{} mutants", mine.len());
        for s in &skipped {
            eprintln!("not mutated: {}: {}", s.file, s.reason);
        }
        return Ok(None);
    }
    let lab = Lab {
        suite,
        db,
        timeout: opts.timeout,
    };
    // The originals: their outputs, and their checks must pass.
    let mut baseline = lab.baseline(groups).await.map_err(infra)?;
    let mut originals = BTreeMap::new();
    for g in groups {
        match lab.originals(g).await.map_err(infra)? {
            Ok(o) => {
                originals.insert(g.file.clone(), o);
            }
            Err(why) => baseline.push(why),
        }
    }
    let failing_checks: Vec<&str> = baseline.iter().map(|(c, _)| c.as_str()).collect();
    let runnable: Vec<(usize, &Group, &Mutant)> = mine
        .iter()
        .enumerate()
        .filter_map(|(i, m)| {
            let g = groups.iter().find(|g| g.file == m.file)?;
            let ok = originals.contains_key(&g.file)
                && !g
                    .checks
                    .iter()
                    .any(|c| failing_checks.contains(&c.name.as_str()));
            ok.then_some((i, g, m))
        })
        .collect();
    let progress = progress_bar(runnable.len() as u64, args.no_progress);
    let lab_ref = &lab;
    let originals_ref = &originals;
    let progress_ref = &progress;
    let mut stream = futures::stream::iter(runnable.into_iter().map(|(i, g, m)| async move {
        let r = lab_ref.evaluate(g, &originals_ref[&g.file], m).await;
        progress_ref.inc(1);
        (i, r)
    }))
    .buffer_unordered(opts.jobs);
    let mut outcomes = Vec::new();
    while let Some((i, r)) = stream.next().await {
        outcomes.push((i, r.map_err(infra)?));
    }
    progress.finish_and_clear();
    outcomes.sort_by_key(|(i, _)| *i);
    let mut outcomes: Vec<_> = outcomes.into_iter().map(|(_, o)| o).collect();
    if let Some(n) = args.generated {
        generated::search(
            suite,
            db,
            groups,
            &mut outcomes,
            n,
            args.seed,
            args.param_draws,
            opts.jobs,
            args.no_progress,
        )
        .await?;
    }
    let (k_n, count) = match opts.choice.partition {
        Some((k, n)) => (vec![Partition { k, n }], Some(n)),
        None => (Vec::new(), None),
    };
    Ok(Some(Report {
        schema: model::SCHEMA.to_string(),
        suite: suite.config.name.clone(),
        operators: opts.choice.operators.clone(),
        sample: opts.choice.sample.map(|(size, seed)| Sample { size, seed }),
        partitions: k_n,
        partition_count: count,
        planned,
        min_score: opts.min_score,
        queries: groups
            .iter()
            .map(|g| Query {
                file: g.file.clone(),
                checks: g.checks.iter().map(|c| c.name.clone()).collect(),
                sql: g.checks[0].sql.clone(),
            })
            .collect(),
        skipped,
        baseline_failures: baseline.iter().map(|(_, f)| f.clone()).collect(),
        outcomes,
        duration_ms: started.elapsed().as_secs_f64() * 1000.0,
    }))
}

fn infra(e: String) -> AppError {
    AppError::Infrastructure(format!(
        "the database was unreachable during the mutation run: {e}"
    ))
}

fn progress_bar(n: u64, no_progress: bool) -> indicatif::ProgressBar {
    if no_progress || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(n);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("mutants {bar:30} {pos}/{len} {elapsed}")
    {
        bar.set_style(style);
    }
    bar
}

/// The suite-relative SQL directory the mutants' files live in.
pub(super) fn sql_dir(root: &Path, args: &MutateArgs, suite: &Suite) -> PathBuf {
    match &args.sql_dir {
        Some(d) => root.join(d),
        None => suite.root.join(&suite.config.endpoint_sql_dir),
    }
}
