//! Where a mutation report goes: `--format FORMAT[=FILE]` (human on standard
//! output by default) and `mutants.out/`, each written to a temporary name
//! and renamed, so nothing is ever half-written.

use crate::error::AppError;
use crate::mutate::model::Report;
use crate::mutate::report::{self, mutants_out, Format};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    pub format: Format,
    pub path: Option<PathBuf>,
}

/// Parses `--format` values; one report may go to standard output, and
/// there is always one there (human) when the others go to files.
pub fn specs(formats: &[String]) -> Result<Vec<Spec>, AppError> {
    let mut specs = Vec::new();
    for f in formats {
        let (name, path) = match f.split_once('=') {
            Some((n, p)) if !p.is_empty() => (n, Some(PathBuf::from(p))),
            Some((n, _)) => (n, None),
            None => (f.as_str(), None),
        };
        let format: Format = name.parse().map_err(AppError::Usage)?;
        specs.push(Spec { format, path });
    }
    if specs.iter().all(|s| s.path.is_some()) {
        specs.push(Spec {
            format: Format::Human,
            path: None,
        });
    }
    if specs.iter().filter(|s| s.path.is_none()).count() > 1 {
        return Err(AppError::Usage(
            "only one report can go to standard output; give the others a file (--format stryker=mutation.json)"
                .into(),
        ));
    }
    Ok(specs)
}

/// Writes `text` to `path` through a temporary file in the same directory.
pub fn write_atomic(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let written = std::fs::write(&tmp, text).and_then(|_| std::fs::rename(&tmp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

pub fn write_reports(specs: &[Spec], report: &Report) -> Result<(), AppError> {
    for s in specs {
        let mut text = report::render(report, s.format);
        match &s.path {
            Some(p) => write_atomic(p, &text).map_err(|e| {
                AppError::Infrastructure(format!("cannot write {}: {e}", p.display()))
            })?,
            None => {
                if s.format == Format::Human && color() {
                    text = colorize(&text);
                }
                let mut out = std::io::stdout().lock();
                out.write_all(text.as_bytes())
                    .and_then(|_| out.flush())
                    .map_err(|e| {
                        AppError::Infrastructure(format!("cannot write the report: {e}"))
                    })?;
            }
        }
    }
    Ok(())
}

fn color() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// The verdict words in colour.
fn colorize(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.starts_with("Missed") || (l.starts_with("score ") && l.ends_with(": FAIL")) {
                console::style(l).red().bold().to_string()
            } else if l.starts_with("score ") {
                console::style(l).green().bold().to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// Writes `<dir>/mutants.out/`: the new one is built beside it, the old
/// one becomes `mutants.out.old` (replacing an older one), then the new
/// one is renamed into place.
pub fn write_mutants_out(dir: &Path, report: &Report) -> Result<(), AppError> {
    let io = |what: &str, p: &Path, e: std::io::Error| {
        AppError::Infrastructure(format!("cannot {what} {}: {e}", p.display()))
    };
    let target = dir.join("mutants.out");
    let old = dir.join("mutants.out.old");
    let tmp = dir.join(format!("mutants.out.tmp{}", std::process::id()));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(|e| io("remove", &tmp, e))?;
    }
    let built = (|| -> std::io::Result<()> {
        for (rel, text) in mutants_out::files(report) {
            let p = tmp.join(rel);
            if let Some(parent) = p.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(p, text)?;
        }
        Ok(())
    })();
    if let Err(e) = built {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(io("write", &tmp, e));
    }
    if target.exists() {
        if old.exists() {
            std::fs::remove_dir_all(&old).map_err(|e| io("remove", &old, e))?;
        }
        std::fs::rename(&target, &old).map_err(|e| io("rename", &target, e))?;
    }
    std::fs::rename(&tmp, &target).map_err(|e| io("rename", &tmp, e))
}
