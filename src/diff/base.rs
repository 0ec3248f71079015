//! Where the base queries come from: a directory holding the same relative
//! file names (`--base-sql-dir`), or the suite's SQL directory at a git
//! revision (`--base-ref`, read with `git show REV:path`). Only query files
//! come from the base; check files, parameter sets and keys are the current
//! tree's.

use super::model::BaseInfo;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Why a base cannot be used (bad input: exit 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseError(pub String);

pub enum Base {
    Dir {
        path: PathBuf,
        /// As given on the command line.
        shown: PathBuf,
    },
    Git {
        /// The repository's top level.
        toplevel: PathBuf,
        /// The revision as given.
        rev: String,
        commit: String,
        /// The SQL directory relative to the top level (`/`-separated, no
        /// trailing slash; empty at the top level).
        prefix: String,
        /// Files under the SQL directory at that commit, relative to it.
        files: BTreeSet<String>,
    },
}

fn git(dir: &Path, args: &[&str]) -> Result<std::process::Output, BaseError> {
    Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .map_err(|e| {
            BaseError(format!(
                "--base-ref needs git, which cannot be started ({e}); install git or use --base-sql-dir"
            ))
        })
}

fn stdout_of(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

/// `path` relative to `base`, `/`-separated.
fn relative(path: &Path, base: &Path) -> Option<String> {
    let rel = path.strip_prefix(base).ok()?;
    Some(
        rel.components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/"),
    )
}

impl Base {
    /// `--base-sql-dir DIR`, relative to the working directory (as `--sql-dir`).
    pub fn dir(given: &Path) -> Result<Base, BaseError> {
        let path = if given.is_absolute() {
            given.to_path_buf()
        } else {
            std::env::current_dir()
                .map(|c| c.join(given))
                .unwrap_or_else(|_| given.to_path_buf())
        };
        if !path.is_dir() {
            return Err(BaseError(format!(
                "--base-sql-dir {}: no such directory (it holds the base version of the query files, same relative names)",
                given.display()
            )));
        }
        Ok(Base::Dir {
            path,
            shown: given.to_path_buf(),
        })
    }

    /// `--base-ref REV`: the suite's SQL directory `sql_dir` at revision `rev`
    /// of the repository holding it.
    pub fn git_ref(sql_dir: &Path, rev: &str) -> Result<Base, BaseError> {
        if rev.starts_with('-') || rev.trim().is_empty() {
            return Err(BaseError(format!(
                "--base-ref `{rev}` is not a revision; give a branch, tag or commit, e.g. origin/main"
            )));
        }
        let top = git(sql_dir, &["rev-parse", "--show-toplevel"])?;
        if !top.status.success() {
            return Err(BaseError(format!(
                "--base-ref: {} is not in a git repository ({}); use --base-sql-dir DIR instead",
                sql_dir.display(),
                String::from_utf8_lossy(&top.stderr).trim()
            )));
        }
        let toplevel = PathBuf::from(stdout_of(&top));
        let commit = git(
            &toplevel,
            &[
                "rev-parse",
                "--verify",
                "--quiet",
                &format!("{rev}^{{commit}}"),
            ],
        )?;
        if !commit.status.success() {
            let shallow = git(&toplevel, &["rev-parse", "--is-shallow-repository"])
                .map(|o| stdout_of(&o) == "true")
                .unwrap_or(false);
            return Err(BaseError(if shallow {
                format!(
                    "--base-ref: revision `{rev}` is not in this repository, a shallow clone ({}) that holds only the newest commits; \
                     fetch the base first (e.g. `git fetch --depth=1 origin main`, or actions/checkout with `fetch-depth: 0`)",
                    toplevel.display()
                )
            } else {
                format!(
                    "--base-ref: revision `{rev}` is not in the repository at {}; check its name (`git branch -a`, `git log --oneline`) or fetch it",
                    toplevel.display()
                )
            }));
        }
        let commit = stdout_of(&commit);
        let canonical = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
        let prefix = relative(&canonical(sql_dir), &canonical(&toplevel)).ok_or_else(|| {
            BaseError(format!(
                "--base-ref: the SQL directory {} is outside the repository at {}",
                sql_dir.display(),
                toplevel.display()
            ))
        })?;
        let mut args = vec!["ls-tree", "-r", "-z", "--name-only", commit.as_str()];
        if !prefix.is_empty() {
            args.extend(["--", prefix.as_str()]);
        }
        let listed = git(&toplevel, &args)?;
        if !listed.status.success() {
            return Err(BaseError(format!(
                "--base-ref: cannot list {prefix} at {rev}: {}",
                String::from_utf8_lossy(&listed.stderr).trim()
            )));
        }
        let files = listed
            .stdout
            .split(|&b| b == 0)
            .filter(|p| !p.is_empty())
            .filter_map(|p| {
                let p = String::from_utf8_lossy(p).into_owned();
                if prefix.is_empty() {
                    Some(p)
                } else {
                    p.strip_prefix(&format!("{prefix}/")).map(str::to_string)
                }
            })
            .collect();
        Ok(Base::Git {
            toplevel,
            rev: rev.to_string(),
            commit,
            prefix,
            files,
        })
    }

    /// How the base file of `rel` (relative to the SQL directory) is shown.
    pub fn shown(&self, rel: &Path) -> String {
        match self {
            Base::Dir { shown, .. } => shown.join(rel).display().to_string(),
            Base::Git { rev, prefix, .. } => format!("{rev}:{}", join(prefix, rel)),
        }
    }

    /// The text of the base file of `rel`; None when the base has no such file.
    pub fn read(&self, rel: &Path) -> Result<Option<String>, BaseError> {
        match self {
            Base::Dir { path, .. } => {
                let p = path.join(rel);
                if !p.is_file() {
                    return Ok(None);
                }
                let bytes = std::fs::read(&p)
                    .map_err(|e| BaseError(format!("cannot read {}: {e}", self.shown(rel))))?;
                String::from_utf8(bytes)
                    .map(Some)
                    .map_err(|_| BaseError(format!("{} is not UTF-8 text", self.shown(rel))))
            }
            Base::Git {
                toplevel,
                commit,
                prefix,
                files,
                ..
            } => {
                let rel_text = join("", rel);
                if !files.contains(&rel_text) {
                    return Ok(None);
                }
                let o = git(
                    toplevel,
                    &["show", &format!("{commit}:{}", join(prefix, rel))],
                )?;
                if !o.status.success() {
                    return Err(BaseError(format!(
                        "cannot read {}: {}",
                        self.shown(rel),
                        String::from_utf8_lossy(&o.stderr).trim()
                    )));
                }
                String::from_utf8(o.stdout)
                    .map(Some)
                    .map_err(|_| BaseError(format!("{} is not UTF-8 text", self.shown(rel))))
            }
        }
    }

    /// Every `.sql` file of the base, relative to its SQL directory.
    pub fn sql_files(&self) -> Vec<String> {
        match self {
            Base::Dir { path, .. } => walkdir::WalkDir::new(path)
                .sort_by_file_name()
                .into_iter()
                .flatten()
                .filter(|e| e.file_type().is_file())
                .filter(|e| e.path().extension().is_some_and(|x| x == "sql"))
                .filter_map(|e| relative(e.path(), path))
                .collect(),
            Base::Git { files, .. } => files
                .iter()
                .filter(|f| f.ends_with(".sql"))
                .cloned()
                .collect(),
        }
    }

    pub fn info(&self) -> BaseInfo {
        match self {
            Base::Dir { shown, .. } => BaseInfo {
                kind: "sql_dir".into(),
                source: shown.display().to_string(),
                commit: None,
            },
            Base::Git { rev, commit, .. } => BaseInfo {
                kind: "git_ref".into(),
                source: rev.clone(),
                commit: Some(commit.clone()),
            },
        }
    }
}

/// `prefix/rel`, `/`-separated.
fn join(prefix: &str, rel: &Path) -> String {
    let rel: Vec<String> = rel
        .components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let rel = rel.join("/");
    if prefix.is_empty() {
        rel
    } else {
        format!("{prefix}/{rel}")
    }
}
