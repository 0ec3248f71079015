//! Reads `assay.yaml` and the check files, and validates them into a [`Suite`].
//!
//! The only IO here is reading files. Every problem becomes an [`InputError`]
//! naming the file, the line and the fix; a broken check file does not stop the
//! others from loading. One file per part of the documents:
//! `config` (assay.yaml), `check_file` (which kind of check a file holds and
//! the query check itself), `param_sets` (sets and matrices), `expect`
//! (a query check's expectations), `table_check`.

mod api;
mod check_file;
mod config;
mod diff;
mod expect;
mod metric_rules;
mod param_sets;
mod table_check;
pub(crate) use crate::input::text;

pub use config::load_config;

use super::locate::key_line;
use super::model::*;
use crate::error::InputError;
use check_file::{load_check_file, CheckFile};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const CONFIG_FILE: &str = "assay.yaml";

/// Options that change how files are read.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Read query files from this directory instead of `paths.endpoint_sql`.
    pub sql_dir: Option<PathBuf>,
}

/// A suite plus the problems found while loading it. Checks with problems are
/// left out of the suite; the rest can still run.
#[derive(Debug)]
pub struct Loaded {
    pub suite: Suite,
    pub errors: Vec<InputError>,
}

/// Where the query files are read from, and how that directory is shown.
pub(super) struct SqlDir {
    pub path: PathBuf,
    /// Relative to the suite root (or as given to --sql-dir).
    pub shown: PathBuf,
}

/// Reads a YAML file of the suite as text (see `text::read_text`) and
/// refuses nesting beyond reason before any parser sees it.
pub(super) fn read(path: &Path, shown: &Path) -> Result<String, InputError> {
    let text = text::read_text(path, shown, "file").map_err(|e| {
        if e.message.ends_with("not found") {
            e.help("check the path; paths in assay.yaml are relative to the suite root")
        } else {
            e
        }
    })?;
    text::check_yaml_depth(&text, shown)?;
    Ok(text)
}

/// Loads the suite rooted at `root`. Fails outright only when `assay.yaml`
/// itself cannot be used.
pub fn load_suite(root: &Path, opts: &LoadOptions) -> Result<Loaded, Vec<InputError>> {
    let config_path = root.join(CONFIG_FILE);
    if !config_path.exists() {
        return Err(vec![InputError::new(
            &config_path,
            "no assay.yaml here: this is not an assay suite",
        )
        .help("run from the suite's root or pass -C <suite dir>")]);
    }
    let config = load_config(root)?;
    let mut errors = Vec::new();

    let sql_dir = match &opts.sql_dir {
        Some(d) if d.is_absolute() => SqlDir {
            path: d.clone(),
            shown: d.clone(),
        },
        Some(d) => SqlDir {
            path: std::env::current_dir()
                .map(|c| c.join(d))
                .unwrap_or(d.clone()),
            shown: d.clone(),
        },
        None => SqlDir {
            path: root.join(&config.endpoint_sql_dir),
            shown: config.endpoint_sql_dir.clone(),
        },
    };
    if !sql_dir.path.is_dir() {
        return Err(vec![InputError::new(
            &sql_dir.shown,
            "the SQL directory does not exist",
        )
        .help(
            "pass an existing directory to --sql-dir or fix paths.endpoint_sql",
        )]);
    }

    let mut files = Vec::new();
    let checks_root = root.join(&config.checks_dir);
    if checks_root.is_dir() {
        for entry in walkdir::WalkDir::new(&checks_root).sort_by_file_name() {
            match entry {
                Ok(e) => {
                    let p = e.path();
                    // Symbolic links are read through (a dangling one is
                    // then an error, never silently skipped).
                    if (e.file_type().is_file() || e.file_type().is_symlink())
                        && matches!(p.extension().and_then(|x| x.to_str()), Some("yaml" | "yml"))
                    {
                        files.push(p.to_path_buf());
                    }
                }
                Err(e) => errors.push(InputError::new(&checks_root, e.to_string())),
            }
        }
    } else {
        errors.push(
            InputError::new(
                root.join(CONFIG_FILE),
                format!(
                    "the checks directory `{}` does not exist",
                    config.checks_dir.display()
                ),
            )
            .help("create it or set paths.checks in assay.yaml"),
        );
    }

    let mut query_checks: Vec<QueryCheck> = Vec::new();
    let mut table_checks: Vec<TableCheck> = Vec::new();
    let mut seen: BTreeMap<String, PathBuf> = BTreeMap::new();
    for path in files {
        let shown = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
        let text = match read(&path, &shown) {
            Ok(t) => t,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let loaded = load_check_file(&shown, &text, &config, &sql_dir);
        match loaded {
            Ok(CheckFile::Query(q)) => {
                if let Some(e) = duplicate(&mut seen, &q.name, &shown, &text) {
                    errors.push(e);
                } else {
                    query_checks.push(*q);
                }
            }
            Ok(CheckFile::Table(t)) => {
                if let Some(e) = duplicate(&mut seen, &t.name, &shown, &text) {
                    errors.push(e);
                } else {
                    table_checks.push(t);
                }
            }
            Err(mut es) => errors.append(&mut es),
        }
    }
    Ok(Loaded {
        suite: Suite {
            root: root.to_path_buf(),
            config,
            query_checks,
            table_checks,
        },
        errors,
    })
}

fn duplicate(
    seen: &mut BTreeMap<String, PathBuf>,
    name: &str,
    file: &Path,
    text: &str,
) -> Option<InputError> {
    if let Some(first) = seen.get(name) {
        return Some(
            InputError::new(file, format!("duplicate check name `{name}`"))
                .at(key_line(text, "name", 1), None)
                .help(format!(
                    "`{name}` is already defined in {}; check names must be unique",
                    first.display()
                )),
        );
    }
    seen.insert(name.to_string(), file.to_path_buf());
    None
}
