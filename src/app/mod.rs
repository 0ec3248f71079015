//! The commands: glue between the command line, the suite, the database, the
//! engine and the reporters. Returns exit codes; never prints errors itself.

mod bench;
mod gen;

use crate::cli::{self, Cli, Command, RunArgs, SnapshotArgs};
use crate::db::{self, Database, TargetSpec};
use crate::engine::{self, Reporter, Selection};
use crate::error::{exit_code, AppError, InputError};
use crate::report::{self, Format};
use crate::snapshot::{self, WriteMode};
use crate::suite::{self, LoadOptions, Suite};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

pub async fn main(cli: Cli) -> Result<i32, AppError> {
    let root = match &cli.directory {
        Some(d) => d.clone(),
        None => PathBuf::from("."),
    };
    match cli.command.unwrap_or(Command::Run(RunArgs::default())) {
        Command::Run(args) => run(&root, args).await,
        Command::List(sel) => list(&root, sel),
        Command::Validate(v) => validate(&root, v),
        Command::Review(a) => review(&root, a),
        Command::Accept(a) => settle(&root, a, true),
        Command::Reject(a) => settle(&root, a, false),
        Command::Seed(a) => seed(&root, a).await,
        Command::Merge(a) => merge(a),
        Command::Gen(a) => gen::gen(&root, a).await,
        Command::Bench(a) => bench::bench(&root, a).await,
    }
}

fn load(root: &Path, sql_dir: Option<PathBuf>) -> Result<suite::Loaded, AppError> {
    suite::load_suite(root, &LoadOptions { sql_dir }).map_err(AppError::Input)
}

fn validate(root: &Path, v: cli::ValidateArgs) -> Result<i32, AppError> {
    let loaded = load(root, v.sql_dir)?;
    if !loaded.errors.is_empty() {
        return Err(AppError::Input(loaded.errors));
    }
    let s = &loaded.suite;
    let sets: usize = s.query_checks.iter().map(|c| c.sets.len()).sum();
    println!(
        "ok: {} query checks ({} parameter sets), {} table checks in `{}`",
        s.query_checks.len(),
        sets,
        s.table_checks.len(),
        s.config.name
    );
    Ok(exit_code::OK)
}

fn list(root: &Path, sel: cli::SelectArgs) -> Result<i32, AppError> {
    let loaded = load(root, None)?;
    let selection = Selection {
        filter: sel.filter,
        tags: sel.tags,
        partition: None,
    };
    let (queries, tables) = engine::select_checks(&loaded.suite, &selection);
    for c in queries {
        println!(
            "{}  {}  {}  [{}]",
            c.name,
            c.endpoint.as_deref().unwrap_or("-"),
            c.query.display(),
            c.tags.join(", ")
        );
        for s in &c.sets {
            println!("    {}", s.name);
        }
    }
    for t in tables {
        println!(
            "{}  table {}  {} rules  [{}]",
            t.name,
            t.table,
            t.rules.len(),
            t.tags.join(", ")
        );
    }
    for e in &loaded.errors {
        eprintln!("error: {e}");
    }
    Ok(if loaded.errors.is_empty() {
        exit_code::OK
    } else {
        exit_code::INVALID_INPUT
    })
}

fn open_sink(path: &Option<PathBuf>) -> Result<report::Sink, AppError> {
    match path {
        None => Ok(Box::new(std::io::stdout())),
        Some(p) => {
            if let Some(parent) = p.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(|e| {
                    AppError::Usage(format!("cannot create {}: {e}", parent.display()))
                })?;
            }
            let f = std::fs::File::create(p)
                .map_err(|e| AppError::Usage(format!("cannot write {}: {e}", p.display())))?;
            Ok(Box::new(std::io::BufWriter::new(f)))
        }
    }
}

/// The reports asked for by `--format` (repeatable) and `--output`: human on
/// standard output by default, and always one on the terminal when every
/// other report goes to a file. `example` is the `--format` suggested when
/// two reports would share standard output.
fn report_specs(
    formats: &[String],
    output: Option<&PathBuf>,
    example: &str,
) -> Result<Vec<cli::FormatSpec>, AppError> {
    let mut specs = Vec::new();
    for f in formats {
        specs.push(cli::parse_format(f).map_err(AppError::Usage)?);
    }
    if specs.is_empty() {
        specs.push(cli::FormatSpec {
            format: Format::Human,
            path: None,
        });
    }
    if let Some(out) = output {
        if specs.len() != 1 || specs[0].path.is_some() {
            return Err(AppError::Usage(
                "--output goes with exactly one --format; with several, write --format json=FILE"
                    .into(),
            ));
        }
        specs[0].path = Some(out.clone());
    }
    // Reports that all go to files still leave the terminal a human report.
    if specs.iter().all(|s| s.path.is_some()) {
        specs.push(cli::FormatSpec {
            format: Format::Human,
            path: None,
        });
    }
    if specs.iter().filter(|s| s.path.is_none()).count() > 1 {
        return Err(AppError::Usage(format!(
            "only one report can go to standard output; give the others a file (--format {example})"
        )));
    }
    Ok(specs)
}

fn reporters(
    formats: &[String],
    output: Option<&PathBuf>,
    no_progress: bool,
) -> Result<Vec<Box<dyn Reporter>>, AppError> {
    let specs = report_specs(formats, output, "junit=junit.xml")?;
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let mut v = Vec::new();
    for s in specs {
        let to_terminal = s.path.is_none() && std::io::stdout().is_terminal();
        let color = to_terminal && !no_color;
        let progress = s.format == Format::Human && !no_progress && std::io::stderr().is_terminal();
        v.push(report::build(
            s.format,
            open_sink(&s.path)?,
            color,
            progress,
        ));
    }
    Ok(v)
}

/// The databases `run` uses, from the flags (and DATABASE_URL for `--target url`).
fn target_specs(args: &RunArgs, suite: &Suite) -> Result<Vec<TargetSpec>, AppError> {
    let target = match (args.target, args.database_urls.is_empty()) {
        (Some(t), true) => t,
        (None | Some(cli::TargetArg::Url), false) => cli::TargetArg::Url,
        (Some(_), false) => {
            return Err(AppError::Usage(
                "--database-url goes with --target url (or no --target)".into(),
            ))
        }
        (None, true) => cli::TargetArg::Embedded,
    };
    if target != cli::TargetArg::Docker
        && (args.docker_image.is_some() || args.docker_tag.is_some())
    {
        return Err(AppError::Usage(
            "--docker-image/--docker-tag go with --target docker".into(),
        ));
    }
    Ok(match target {
        cli::TargetArg::Embedded => vec![TargetSpec::Embedded],
        cli::TargetArg::Docker => vec![TargetSpec::Docker(db::docker::DockerImage {
            name: args
                .docker_image
                .clone()
                .unwrap_or_else(|| suite.config.docker_image.clone()),
            tag: args
                .docker_tag
                .clone()
                .unwrap_or_else(|| suite.config.docker_tag.clone()),
        })],
        cli::TargetArg::Url if !args.database_urls.is_empty() => args
            .database_urls
            .iter()
            .map(|u| TargetSpec::Url(u.clone()))
            .collect(),
        cli::TargetArg::Url => vec![TargetSpec::Url(
            std::env::var("DATABASE_URL").unwrap_or_default(),
        )],
    })
}

async fn close_all(dbs: Vec<Database>) {
    for d in dbs {
        d.close().await;
    }
}

async fn run(root: &Path, args: RunArgs) -> Result<i32, AppError> {
    let started = Instant::now();
    let loaded = load(root, args.sql_dir.clone())?;
    let suite: Suite = loaded.suite;
    let input_errors: Vec<String> = loaded.errors.iter().map(|e| e.to_string()).collect();
    for e in &loaded.errors {
        eprintln!("error: {e}");
    }
    let mut reps = reporters(&args.formats, args.output.as_ref(), args.no_progress)?;
    let jobs = args.jobs.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
    });
    if jobs == 0 {
        return Err(AppError::Usage("--jobs must be at least 1".into()));
    }
    let partition = match &args.partition {
        Some(p) => Some(engine::parse_partition(p).map_err(AppError::Usage)?),
        None => None,
    };
    let max_lag = match &args.max_lag {
        Some(t) => Some(
            suite::duration::parse_duration(t)
                .map_err(|e| AppError::Usage(format!("--max-lag: {e}")))?,
        ),
        None => None,
    };
    let specs = target_specs(&args, &suite)?;
    let opened = futures::future::join_all(
        specs
            .iter()
            .map(|s| Database::open(s, suite.config.postgres_version, jobs as u32 + 1)),
    )
    .await;
    let mut databases = Vec::new();
    let mut failure = None;
    for o in opened {
        match o {
            Ok(d) => databases.push(d),
            Err(e) => failure = failure.or(Some(e)),
        }
    }
    if let Some(e) = failure {
        close_all(databases).await;
        return Err(AppError::Infrastructure(e));
    }
    if let Some(limit) = max_lag {
        if let Some(d) = databases
            .iter()
            .find(|d| d.replica_lag_s.is_some_and(|l| l > limit.as_secs_f64()))
        {
            let msg = format!(
                "{} is {:.1} s behind its primary, more than --max-lag {}; not running checks against it",
                d.label,
                d.replica_lag_s.unwrap_or_default(),
                args.max_lag.as_deref().unwrap_or_default()
            );
            close_all(databases).await;
            return Err(AppError::Infrastructure(msg));
        }
    }
    for d in &databases {
        if d.external {
            continue;
        }
        if let Err(e) = db::setup::apply(&d.pool, &suite).await {
            close_all(databases).await;
            return Err(AppError::Input(vec![InputError::new(
                &e.file,
                format!("setup failed: {}", e.message),
            )
            .at(e.line, None)
            .help(
                "fix the schema or fixture file; setup runs in the order of `setup:` in assay.yaml",
            )]));
        }
    }
    let setup_ms = started.elapsed().as_secs_f64() * 1000.0;
    let in_ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false" && v != "0");
    let write_mode = if args.accept_snapshots {
        WriteMode::Accept
    } else if in_ci && !args.write_pending {
        WriteMode::Nothing
    } else {
        WriteMode::Pending
    };
    let opts = engine::RunOptions {
        jobs,
        timing_runs: args.timing_runs,
        sample_rows: args.sample_rows,
        write_mode,
        environment: args
            .environment
            .map(Into::into)
            .unwrap_or(databases[0].environment),
    };
    let selection = Selection {
        filter: args.select.filter.clone(),
        tags: args.select.tags.clone(),
        partition,
    };
    let targets: Vec<&Database> = databases.iter().collect();
    let (summary, infra) = engine::run(
        &suite,
        &targets,
        &opts,
        &selection,
        setup_ms,
        input_errors,
        &mut reps,
    )
    .await;
    close_all(databases).await;
    for r in reps.iter_mut() {
        r.finish()
            .map_err(|e| AppError::Infrastructure(format!("cannot write report: {e}")))?;
    }
    if let Some(e) = infra {
        return Err(AppError::Infrastructure(format!(
            "the database was unreachable during the run (the report shows what did run): {e}"
        )));
    }
    if !loaded.errors.is_empty() {
        return Ok(exit_code::INVALID_INPUT);
    }
    Ok(if summary.counts.failed + summary.counts.errored > 0 {
        exit_code::CHECK_FAILED
    } else {
        exit_code::OK
    })
}

/// Schemas that SQL files create (`create schema [if not exists] x`).
fn schemas_created_by<'a>(root: &Path, files: impl IntoIterator<Item = &'a Path>) -> Vec<String> {
    let re = regex::Regex::new(
        r#"(?i)create\s+schema\s+(?:if\s+not\s+exists\s+)?"?([A-Za-z_][A-Za-z0-9_$]*)"?"#,
    )
    .expect("static regex");
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(root.join(f)).unwrap_or_default();
        for c in re.captures_iter(&text) {
            if !out.contains(&c[1].to_string()) {
                out.push(c[1].to_string());
            }
        }
    }
    out
}

/// Schemas the suite's setup SQL creates.
fn suite_schemas(suite: &Suite) -> Vec<String> {
    let files = suite.config.setup.iter().filter_map(|step| match step {
        suite::SetupStep::Sql(f) => Some(f.as_path()),
        suite::SetupStep::Csv { .. } => None,
    });
    schemas_created_by(&suite.root, files)
}

/// Drops `schemas` where they exist (only with `replace`; otherwise an
/// existing schema is a usage error naming the way out).
async fn clear_schemas(
    pool: &sqlx::PgPool,
    label: &str,
    schemas: &[String],
    replace: bool,
) -> Result<(), AppError> {
    let existing: Vec<String> =
        sqlx::query_scalar("select nspname::text from pg_namespace where nspname = any($1)")
            .bind(schemas)
            .fetch_all(pool)
            .await
            .map_err(|e| AppError::Infrastructure(db::describe_error(&e).0))?;
    if !existing.is_empty() && !replace {
        return Err(AppError::Usage(format!(
            "{label} already holds the suite's schema ({}); pass --replace to drop and reload it",
            existing.join(", ")
        )));
    }
    for s in &existing {
        let drop = format!("drop schema {} cascade", crate::sql::quote_ident(s));
        sqlx::raw_sql(&drop)
            .execute(pool)
            .await
            .map_err(|e| AppError::Infrastructure(db::describe_error(&e).0))?;
    }
    Ok(())
}

/// A writable database by URL (else DATABASE_URL, else the libpq environment).
async fn writable_pool(
    url: Option<String>,
    connections: u32,
) -> Result<(sqlx::PgPool, String), AppError> {
    let url = url
        .or_else(|| std::env::var("DATABASE_URL").ok())
        .unwrap_or_default();
    let opts = db::url::options(&url).map_err(AppError::Usage)?;
    let label = db::url::label(&opts);
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(connections.max(1))
        .connect_with(opts)
        .await
        .map_err(|e| {
            AppError::Infrastructure(db::url::redact(&format!("cannot connect to {label}: {e}")))
        })?;
    Ok((pool, label))
}

async fn seed(root: &Path, args: cli::SeedArgs) -> Result<i32, AppError> {
    let loaded = load(root, None)?;
    let suite = loaded.suite;
    let (pool, label) = writable_pool(args.database_url.clone(), 2).await?;
    if let Err(e) = clear_schemas(&pool, &label, &suite_schemas(&suite), args.replace).await {
        pool.close().await;
        return Err(e);
    }
    let started = Instant::now();
    if let Err(e) = db::setup::apply(&pool, &suite).await {
        pool.close().await;
        return Err(AppError::Input(vec![InputError::new(
            &e.file,
            format!("setup failed: {}", e.message),
        )
        .at(e.line, None)]));
    }
    pool.close().await;
    println!(
        "seeded {label} with `{}` ({} setup steps, {:.2} s)",
        suite.config.name,
        suite.config.setup.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(exit_code::OK)
}

fn merge(args: cli::MergeArgs) -> Result<i32, AppError> {
    let mut results: Vec<engine::UnitResult> = Vec::new();
    let mut summaries: Vec<engine::RunSummary> = Vec::new();
    let mut errors = Vec::new();
    for path in &args.reports {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                errors.push(InputError::new(path, format!("cannot read: {e}")));
                continue;
            }
        };
        match report::json::parse(&text) {
            Ok((s, r)) => {
                summaries.push(s);
                results.extend(r);
            }
            Err(e) => errors.push(
                InputError::new(path, format!("not an assay JSON report: {e}"))
                    .help("merge reads files written by `assay run --format json=FILE`"),
            ),
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Input(errors));
    }
    let mut reps = reporters(&args.formats, None, true)?;
    let mut counts = engine::Counts::default();
    for r in &results {
        counts.add(r.verdict);
    }
    let mut targets: Vec<String> = Vec::new();
    for s in &summaries {
        if !targets.contains(&s.target) {
            targets.push(s.target.clone());
        }
    }
    let summary = engine::RunSummary {
        suite: summaries
            .first()
            .map(|s| s.suite.clone())
            .unwrap_or_default(),
        target: targets.join(", "),
        environment: summaries
            .first()
            .map(|s| s.environment.clone())
            .unwrap_or_default(),
        counts,
        duration_ms: summaries.iter().map(|s| s.duration_ms).fold(0.0, f64::max),
        setup_ms: summaries.iter().map(|s| s.setup_ms).fold(0.0, f64::max),
        replica_lag: summaries
            .iter()
            .flat_map(|s| s.replica_lag.clone())
            .collect(),
        input_errors: summaries
            .iter()
            .flat_map(|s| s.input_errors.clone())
            .collect(),
    };
    for r in reps.iter_mut() {
        r.on_event(&engine::Event::RunStarted {
            suite: &summary.suite,
            target: &summary.target,
            units: results.len(),
            several_targets: targets.len() > 1,
        });
        for u in &results {
            r.on_event(&engine::Event::UnitFinished(u));
        }
        r.on_event(&engine::Event::RunFinished(&summary));
        r.finish()
            .map_err(|e| AppError::Infrastructure(format!("cannot write report: {e}")))?;
    }
    Ok(if !summary.input_errors.is_empty() {
        exit_code::INVALID_INPUT
    } else if summary.counts.failed + summary.counts.errored > 0 {
        exit_code::CHECK_FAILED
    } else {
        exit_code::OK
    })
}

fn snapshots_dir(root: &Path) -> Result<PathBuf, AppError> {
    let config = suite::load_config(root).map_err(AppError::from)?;
    Ok(root.join(config.snapshots_dir))
}

fn pending_matching(root: &Path, a: &SnapshotArgs) -> Result<Vec<PathBuf>, AppError> {
    let dir = snapshots_dir(root)?;
    Ok(snapshot::pending(&dir)
        .into_iter()
        .filter(|p| {
            a.filter
                .as_ref()
                .is_none_or(|f| p.to_string_lossy().contains(f.as_str()))
        })
        .collect())
}

fn review(root: &Path, a: SnapshotArgs) -> Result<i32, AppError> {
    let pending = pending_matching(root, &a)?;
    if pending.is_empty() {
        println!("no pending snapshots");
        return Ok(exit_code::OK);
    }
    for p in &pending {
        let target = snapshot::target_of(p);
        let new =
            std::fs::read_to_string(p).map_err(|e| AppError::Infrastructure(e.to_string()))?;
        let old = std::fs::read_to_string(&target).unwrap_or_default();
        let state = if target.exists() { "changed" } else { "new" };
        println!("{} ({state})", target.display());
        for l in snapshot::diff(snapshot::store::body(&old), snapshot::store::body(&new)) {
            println!("    {l}");
        }
    }
    println!(
        "\n{} pending: `assay accept` keeps them, `assay reject` discards them",
        pending.len()
    );
    Ok(exit_code::OK)
}

fn settle(root: &Path, a: SnapshotArgs, keep: bool) -> Result<i32, AppError> {
    let pending = pending_matching(root, &a)?;
    for p in &pending {
        let r = if keep {
            std::fs::rename(p, snapshot::target_of(p))
        } else {
            std::fs::remove_file(p)
        };
        r.map_err(|e| AppError::Infrastructure(format!("{}: {e}", p.display())))?;
    }
    println!(
        "{} {} snapshot(s)",
        if keep { "accepted" } else { "rejected" },
        pending.len()
    );
    Ok(exit_code::OK)
}
