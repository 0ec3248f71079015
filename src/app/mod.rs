//! The commands: glue between the command line, the suite, the database, the
//! engine and the reporters. Returns exit codes; never prints errors itself.
//! One file per command (or family of commands); `reports` and `targets`
//! hold what several commands share.

mod bench;
mod gen;
mod inspect;
mod merge;
mod reports;
mod run;
mod seed;
mod snapshots;
mod targets;

use crate::cli::{Cli, Command, RunArgs};
use crate::error::AppError;
use crate::suite::{self, LoadOptions};
use std::path::{Path, PathBuf};

pub async fn main(cli: Cli) -> Result<i32, AppError> {
    let root = match &cli.directory {
        Some(d) => d.clone(),
        None => PathBuf::from("."),
    };
    match cli.command.unwrap_or(Command::Run(RunArgs::default())) {
        Command::Run(args) => run::run(&root, args).await,
        Command::List(sel) => inspect::list(&root, sel),
        Command::Validate(v) => inspect::validate(&root, v),
        Command::Review(a) => snapshots::review(&root, a),
        Command::Accept(a) => snapshots::settle(&root, a, true),
        Command::Reject(a) => snapshots::settle(&root, a, false),
        Command::Seed(a) => seed::seed(&root, a).await,
        Command::Merge(a) => merge::merge(a),
        Command::Gen(a) => gen::gen(&root, a).await,
        Command::Bench(a) => bench::bench(&root, a).await,
    }
}

fn load(root: &Path, sql_dir: Option<PathBuf>) -> Result<suite::Loaded, AppError> {
    suite::load_suite(root, &LoadOptions { sql_dir }).map_err(AppError::Input)
}
