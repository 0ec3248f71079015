//! The default store: a directory with one JSON file per run (per partition
//! job), named by the time the run started, so concurrent writers never
//! touch the same file and retention needs no index.
//!
//! ```text
//! history/
//!   assay-history.json                          marker: this directory is a history
//!   runs/20251006T020000.123Z_<run-id>_<unique>.json
//! ```
//!
//! A record is written to a temporary name in `runs/` and then linked to its
//! final name (a hard link fails instead of overwriting), so a reader never
//! sees half a file and two writers never clobber each other.

use super::record::RunRecord;
use super::{HistoryError, Loaded, Store};
use chrono::{DateTime, NaiveDateTime, Utc};
use futures::future::LocalBoxFuture;
use futures::FutureExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

const MARKER: &str = "assay-history.json";
const MARKER_TEXT: &str =
    "{\"format\": \"assay.history/v1\", \"layout\": \"one JSON file per run under runs/\"}\n";
const STAMP: &str = "%Y%m%dT%H%M%S%.3fZ";

pub struct DirStore {
    root: PathBuf,
}

fn io(path: &Path, what: &str, e: std::io::Error) -> HistoryError {
    HistoryError::Infrastructure(format!("history {}: cannot {what}: {e}", path.display()))
}

impl DirStore {
    /// Opens (and for writing, creates) a history directory. A directory
    /// that holds other files and no marker is refused: `--history .` by
    /// mistake must not scatter run files over a project.
    pub fn open(root: &Path, create: bool) -> Result<DirStore, HistoryError> {
        let marker = root.join(MARKER);
        if marker.is_file() {
            return Ok(DirStore {
                root: root.to_path_buf(),
            });
        }
        // Only what a history holds (another writer may be creating it right
        // now): the marker, `runs/`, temporary files (the marker's own while
        // it is being written).
        let foreign = match std::fs::read_dir(root) {
            Ok(entries) => entries.flatten().any(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                !(name == "runs"
                    || name == MARKER
                    || name.starts_with(".tmp-")
                    || name.starts_with(&format!(".{MARKER}.")))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
            Err(e) => return Err(io(root, "read the directory", e)),
        };
        if foreign {
            return Err(HistoryError::Input(format!(
                "{} is not an assay history directory (it has files but no {MARKER}); name an empty or new directory",
                root.display()
            )));
        }
        if !create {
            return Err(HistoryError::Input(format!(
                "no history at {}: nothing was recorded there (runs record into it with `assay run --history {}`)",
                root.display(),
                root.display()
            )));
        }
        std::fs::create_dir_all(root).map_err(|e| io(root, "create the directory", e))?;
        crate::report::sink::write_atomic(&marker, MARKER_TEXT.as_bytes())
            .map_err(|e| io(root, "write the marker", e))?;
        std::fs::create_dir_all(root.join("runs"))
            .map_err(|e| io(root, "create the directory", e))?;
        Ok(DirStore {
            root: root.to_path_buf(),
        })
    }

    fn runs(&self) -> PathBuf {
        self.root.join("runs")
    }

    /// Record files with the time in their names, oldest first.
    fn files(&self) -> Result<Vec<(DateTime<Utc>, PathBuf)>, HistoryError> {
        let dir = self.runs();
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io(&dir, "read the directory", e)),
        };
        let mut files = Vec::new();
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || !name.ends_with(".json") {
                continue;
            }
            if let Some(t) = time_of(&name) {
                files.push((t, e.path()));
            }
        }
        files.sort();
        Ok(files)
    }
}

/// The start time encoded at the front of a record's file name.
fn time_of(name: &str) -> Option<DateTime<Utc>> {
    let stamp = name.split('_').next()?;
    let naive = NaiveDateTime::parse_from_str(stamp, STAMP).ok()?;
    Some(naive.and_utc())
}

fn sanitize(id: &str) -> String {
    let s: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .take(48)
        .collect();
    if s.is_empty() {
        "run".into()
    } else {
        s
    }
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn unique() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{}-{nanos:09}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

impl Store for DirStore {
    fn location(&self) -> String {
        self.root.display().to_string()
    }

    fn append<'a>(&'a self, record: &'a RunRecord) -> LocalBoxFuture<'a, Result<(), HistoryError>> {
        async move {
            let dir = self.runs();
            std::fs::create_dir_all(&dir).map_err(|e| io(&dir, "create the directory", e))?;
            let bytes = serde_json::to_vec(record)
                .map_err(|e| HistoryError::Infrastructure(format!("cannot encode the run: {e}")))?;
            let tmp = dir.join(format!(".tmp-{}", unique()));
            std::fs::write(&tmp, &bytes).map_err(|e| io(&tmp, "write", e))?;
            if let Ok(f) = std::fs::File::open(&tmp) {
                let _ = f.sync_all();
            }
            // A hard link never replaces an existing file: on the (unlikely)
            // clash of two writers' names, pick another name.
            let mut result = Ok(());
            for _ in 0..5 {
                let name = format!(
                    "{}_{}_{}.json",
                    record.started_at.format(STAMP),
                    sanitize(&record.run_id),
                    unique()
                );
                match std::fs::hard_link(&tmp, dir.join(&name)) {
                    Ok(()) => {
                        result = Ok(());
                        break;
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                    Err(e) => {
                        result = Err(io(&dir, "store the run", e));
                        break;
                    }
                }
            }
            let _ = std::fs::remove_file(&tmp);
            result
        }
        .boxed_local()
    }

    fn load<'a>(
        &'a self,
        since: Option<DateTime<Utc>>,
    ) -> LocalBoxFuture<'a, Result<Loaded, HistoryError>> {
        async move {
            let mut loaded = Loaded::default();
            for (t, path) in self.files()? {
                if since.is_some_and(|s| t < s) {
                    continue;
                }
                let text = match std::fs::read(&path) {
                    Ok(b) => b,
                    // Removed by a concurrent `--keep` since the listing.
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(io(&path, "read", e)),
                };
                match serde_json::from_slice::<RunRecord>(&text) {
                    Ok(r) => loaded.records.push(r),
                    Err(e) => loaded.problems.push(format!(
                        "{}: not a run record ({e}); left out",
                        path.display()
                    )),
                }
            }
            Ok(loaded)
        }
        .boxed_local()
    }

    fn prune<'a>(
        &'a self,
        before: DateTime<Utc>,
    ) -> LocalBoxFuture<'a, Result<usize, HistoryError>> {
        async move {
            let mut removed = 0;
            for (t, path) in self.files()? {
                if t >= before {
                    break;
                }
                match std::fs::remove_file(&path) {
                    Ok(()) => removed += 1,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(io(&path, "remove", e)),
                }
            }
            Ok(removed)
        }
        .boxed_local()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_carry_the_start_time() {
        let t = DateTime::parse_from_rfc3339("2025-10-06T02:00:00.123Z")
            .unwrap()
            .with_timezone(&Utc);
        let name = format!("{}_{}_x.json", t.format(STAMP), sanitize("github 1/2"));
        assert_eq!(name, "20251006T020000.123Z_github-1-2_x.json");
        assert_eq!(time_of(&name), Some(t));
        assert_eq!(time_of("notes.json"), None);
    }
}
