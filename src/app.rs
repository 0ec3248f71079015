//! The commands: glue between the command line, the suite, the database, the
//! engine and the reporters. Returns exit codes; never prints errors itself.

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

fn reporters(args: &RunArgs) -> Result<Vec<Box<dyn Reporter>>, AppError> {
    let mut specs = Vec::new();
    for f in &args.formats {
        specs.push(cli::parse_format(f).map_err(AppError::Usage)?);
    }
    if specs.is_empty() {
        specs.push(cli::FormatSpec {
            format: Format::Human,
            path: None,
        });
    }
    if let Some(out) = &args.output {
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
        return Err(AppError::Usage(
            "only one report can go to standard output; give the others a file (--format junit=junit.xml)".into(),
        ));
    }
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let mut v = Vec::new();
    for s in specs {
        let to_terminal = s.path.is_none() && std::io::stdout().is_terminal();
        let color = to_terminal && !no_color;
        let progress =
            s.format == Format::Human && !args.no_progress && std::io::stderr().is_terminal();
        v.push(report::build(
            s.format,
            open_sink(&s.path)?,
            color,
            progress,
        ));
    }
    Ok(v)
}

async fn run(root: &Path, args: RunArgs) -> Result<i32, AppError> {
    let started = Instant::now();
    let loaded = load(root, args.sql_dir.clone())?;
    let suite: Suite = loaded.suite;
    let input_errors: Vec<String> = loaded.errors.iter().map(|e| e.to_string()).collect();
    for e in &loaded.errors {
        eprintln!("error: {e}");
    }
    let mut reps = reporters(&args)?;
    let jobs = args.jobs.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
    });
    if jobs == 0 {
        return Err(AppError::Usage("--jobs must be at least 1".into()));
    }
    let spec = match &args.database_url {
        Some(u) => TargetSpec::Url(u.clone()),
        None => TargetSpec::Embedded,
    };
    let database = Database::open(&spec, suite.config.postgres_version, jobs as u32 + 1)
        .await
        .map_err(AppError::Infrastructure)?;
    if !database.external {
        if let Err(e) = db::setup::apply(&database.pool, &suite).await {
            database.close().await;
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
            .unwrap_or(database.environment),
    };
    let selection = Selection {
        filter: args.select.filter.clone(),
        tags: args.select.tags.clone(),
    };
    let (summary, infra) = engine::run(
        &suite,
        &database,
        &opts,
        &selection,
        setup_ms,
        input_errors,
        &mut reps,
    )
    .await;
    database.close().await;
    for r in reps.iter_mut() {
        r.finish()
            .map_err(|e| AppError::Infrastructure(format!("cannot write report: {e}")))?;
    }
    if let Some(e) = infra {
        return Err(AppError::Infrastructure(format!(
            "the database went away during the run: {e}"
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
