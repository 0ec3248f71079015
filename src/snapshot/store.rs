//! insta-compatible snapshot files: `<dir>/<check>/<set>.snap`, with pending
//! results written beside them as `.snap.new` for review.

use std::path::{Path, PathBuf};

/// What to do with a result that differs from (or lacks) its snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    /// Write `.snap.new` beside the snapshot (local default).
    Pending,
    /// Write nothing (the default when `CI` is set).
    Nothing,
    /// Overwrite `.snap` directly (`--accept-snapshots`); the check passes.
    Accept,
}

/// Outcome of comparing a rendered output with its stored snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Comparison {
    Match,
    /// No `.snap` yet.
    New {
        written: Option<PathBuf>,
    },
    Differs {
        old: String,
        written: Option<PathBuf>,
    },
    Accepted {
        path: PathBuf,
    },
}

pub fn snap_path(dir: &Path, check: &str, set_slug: &str) -> PathBuf {
    dir.join(check).join(format!("{set_slug}.snap"))
}

pub fn pending_path(snap: &Path) -> PathBuf {
    let mut s = snap.as_os_str().to_owned();
    s.push(".new");
    PathBuf::from(s)
}

/// The body of an insta snapshot file (everything after the header).
pub fn body(file_text: &str) -> &str {
    if let Some(rest) = file_text.strip_prefix("---\n") {
        if let Some(end) = rest.find("\n---\n") {
            return &rest[end + 5..];
        }
    }
    file_text
}

fn file_text(source: &str, expression: &str, content: &str) -> String {
    format!(
        "---\nsource: {}\nexpression: {}\n---\n{}",
        yaml_scalar(source),
        yaml_scalar(expression),
        content
    )
}

fn yaml_scalar(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

/// Writes via a temp file and rename, so a crash never leaves half a file.
fn write_atomic(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}

/// Compares `content` with the snapshot at `path` and writes according to `mode`.
pub fn compare(
    path: &Path,
    source: &str,
    expression: &str,
    content: &str,
    mode: WriteMode,
) -> std::io::Result<Comparison> {
    let pending = pending_path(path);
    let old = match std::fs::read_to_string(path) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    if let Some(old) = &old {
        if body(old).trim_end() == content.trim_end() {
            if pending.exists() {
                std::fs::remove_file(&pending)?;
            }
            return Ok(Comparison::Match);
        }
    }
    let text = file_text(source, expression, content);
    match mode {
        WriteMode::Accept => {
            write_atomic(path, &text)?;
            if pending.exists() {
                std::fs::remove_file(&pending)?;
            }
            Ok(Comparison::Accepted {
                path: path.to_path_buf(),
            })
        }
        WriteMode::Pending | WriteMode::Nothing => {
            let written = if mode == WriteMode::Pending {
                write_atomic(&pending, &text)?;
                Some(pending)
            } else {
                None
            };
            Ok(match old {
                None => Comparison::New { written },
                Some(o) => Comparison::Differs {
                    old: body(&o).to_string(),
                    written,
                },
            })
        }
    }
}

/// Every `.snap.new` under `dir`, sorted.
pub fn pending(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file() && e.path().to_string_lossy().ends_with(".snap.new"))
        .map(|e| e.into_path())
        .collect();
    v.sort();
    v
}

/// The `.snap` a pending file would replace.
pub fn target_of(pending: &Path) -> PathBuf {
    PathBuf::from(
        pending
            .to_string_lossy()
            .trim_end_matches(".new")
            .to_string(),
    )
}

/// A unified line diff, old to new, with a little context.
pub fn diff(old: &str, new: &str) -> Vec<String> {
    let d = similar::TextDiff::from_lines(old, new);
    let mut out = Vec::new();
    for group in d.grouped_ops(1) {
        for op in group {
            for change in d.iter_changes(&op) {
                let sign = match change.tag() {
                    similar::ChangeTag::Delete => "-",
                    similar::ChangeTag::Insert => "+",
                    similar::ChangeTag::Equal => " ",
                };
                out.push(format!("{sign} {}", change.value().trim_end_matches('\n')));
            }
        }
        out.push("  ...".into());
    }
    out.pop();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_skips_the_header() {
        let t = file_text("checks/a.yaml", "a [x]", "a | b\n");
        assert_eq!(body(&t), "a | b\n");
        assert!(t.starts_with("---\nsource: \"checks/a.yaml\"\n"));
    }

    #[test]
    fn pending_then_match_then_accept() {
        let dir = tempfile::tempdir().unwrap();
        let p = snap_path(dir.path(), "c", "s");
        assert!(matches!(
            compare(&p, "s", "e", "x\n", WriteMode::Pending).unwrap(),
            Comparison::New { written: Some(_) }
        ));
        assert!(pending_path(&p).exists());
        assert!(matches!(
            compare(&p, "s", "e", "x\n", WriteMode::Accept).unwrap(),
            Comparison::Accepted { .. }
        ));
        assert!(!pending_path(&p).exists());
        assert_eq!(
            compare(&p, "s", "e", "x\n", WriteMode::Nothing).unwrap(),
            Comparison::Match
        );
        match compare(&p, "s", "e", "y\n", WriteMode::Nothing).unwrap() {
            Comparison::Differs { old, written: None } => assert_eq!(old, "x\n"),
            other => panic!("{other:?}"),
        }
        assert_eq!(diff("a\nb\n", "a\nc\n"), vec!["  a", "- b", "+ c"]);
    }
}
