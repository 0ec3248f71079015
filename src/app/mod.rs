//! The commands: glue between the command line, the suite, the database, the
//! engine and the reporters. Returns exit codes; never prints errors itself.
//! One file per command (or family of commands); `reports` and `targets`
//! hold what several commands share.

mod bench;
mod diff;
mod gen;
mod inspect;
mod merge;
mod mutate;
mod probe;
mod record;
mod report;
mod reports;
mod run;
mod search;
mod seed;
mod snapshots;
mod targets;
mod versus_psql;

use crate::cli::{Cli, Command, RunArgs};
use crate::error::AppError;
use crate::suite::{self, LoadOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

pub async fn main(cli: Cli) -> Result<i32, AppError> {
    let root = match &cli.directory {
        Some(d) => d.clone(),
        None => PathBuf::from("."),
    };
    match cli.command.unwrap_or(Command::Run(RunArgs::default())) {
        Command::Run(args) => record::run(&root, args).await,
        Command::List(sel) => inspect::list(&root, sel),
        Command::Validate(v) => inspect::validate(&root, v),
        Command::Schema(a) => {
            crate::report::sink::Stdout
                .write_all(crate::suite::schema::schema_text(a.kind).as_bytes())
                .map_err(|e| AppError::infra(e.to_string()))?;
            Ok(crate::error::exit_code::OK)
        }
        Command::Review(a) => snapshots::review(&root, a),
        Command::Accept(a) => snapshots::settle(&root, a, true),
        Command::Reject(a) => snapshots::settle(&root, a, false),
        Command::Seed(a) => seed::seed(&root, a).await,
        Command::Merge(a) => merge::merge(a),
        Command::Gen(a) => gen::gen(&root, a).await,
        Command::Bench(a) => bench::bench(&root, a).await,
        Command::Probe(a) => probe::probe(&root, a).await,
        Command::Mutate(a) => mutate::mutate(&root, a).await,
        Command::Report(a) => report::report(a).await,
        Command::Diff(a) => diff::diff(&root, a).await,
    }
}

/// `--jobs N`, at least 1. The default is the number of CPUs, plus one when
/// the server is one assay starts on this machine (`own_server`): while a
/// unit's answer travels or assay reads it, the extra unit keeps the
/// server's cores busy (the whole suite cold on 2 cores: 0.50-0.56 s with
/// 2 jobs, 0.47-0.49 s with 3). A database of someone else's (a replica)
/// gets no more than one unit per CPU of this machine.
fn jobs(given: Option<usize>, own_server: bool) -> Result<usize, AppError> {
    let jobs = given.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
            + usize::from(own_server)
    });
    if jobs == 0 {
        return Err(AppError::Usage("--jobs must be at least 1".into()));
    }
    Ok(jobs)
}

/// Why a selection matched no check, with the closest check name or tag.
fn nothing_selected(suite: &suite::Suite, select: &crate::cli::SelectArgs) -> String {
    let names: Vec<String> = suite
        .query_checks
        .iter()
        .map(|c| c.name.clone())
        .chain(suite.table_checks.iter().map(|c| c.name.clone()))
        .collect();
    let mut tags: Vec<String> = suite
        .query_checks
        .iter()
        .flat_map(|c| c.tags.clone())
        .chain(suite.table_checks.iter().flat_map(|c| c.tags.clone()))
        .collect();
    tags.sort();
    tags.dedup();
    let mut what = Vec::new();
    if let Some(f) = &select.filter {
        what.push(format!("--filter {f}"));
    }
    for t in &select.tags {
        what.push(format!("--tag {t}"));
    }
    let mut msg = if what.is_empty() {
        "the suite has no checks".to_string()
    } else {
        format!("no check matches {}", what.join(" "))
    };
    if let Some(f) = select
        .filter
        .as_deref()
        .filter(|f| !f.contains(['*', '?', '[']))
    {
        if let Some(c) = suite::locate::closest(f, &names) {
            msg.push_str(&format!("; did you mean `--filter {c}`?"));
        }
    }
    for t in &select.tags {
        if !tags.contains(t) {
            match suite::locate::closest(t, &tags) {
                Some(c) => msg.push_str(&format!("; no check has tag `{t}` (did you mean `{c}`?)")),
                None => msg.push_str(&format!("; no check has tag `{t}`")),
            }
        }
    }
    msg.push_str(" — pass --allow-empty if an empty selection is expected");
    msg
}

fn load(root: &Path, sql_dir: Option<PathBuf>) -> Result<suite::Loaded, AppError> {
    suite::load_suite(root, &LoadOptions { sql_dir }).map_err(AppError::Input)
}
