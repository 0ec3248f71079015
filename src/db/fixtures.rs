//! The fixture database of a run: the suite's `setup:` applied to a
//! database assay owns, and a cache of it.
//!
//! An embedded cluster with the fixtures loaded is kept under
//! `<cache>/fixtures/<key>/data`, the key a hash of everything that decides
//! its contents: assay's version, the server's version and settings, the
//! setup steps and the bytes of every setup file. A cold run with a cached
//! entry copies that directory and starts the server on it: no schema, no
//! COPY, no refresh. A miss loads the fixtures, then stops the server once
//! to copy its data into the cache (written beside it and renamed, so
//! concurrent runs never see half an entry) and starts it again. The newest
//! [`KEEP`] entries are kept. Databases assay does not own are never touched.

use super::embedded::{self, DataSource, PgBinaries, Placement};
use super::setup::SetupError;
use super::{Database, TargetSpec};
use crate::error::{AppError, InputError};
use crate::suite::{SetupStep, Suite};
use std::path::{Path, PathBuf};

/// Cached fixture databases kept (the most recently used).
pub const KEEP: usize = 3;

/// How a run's database got its fixtures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FixtureSource {
    /// A database assay does not own: nothing loaded.
    External,
    /// Copied from the cache.
    Cached,
    /// Loaded from the setup files (and then cached when the cache is on).
    Loaded,
}

/// Why a database could not be prepared.
#[derive(Debug)]
pub enum PrepareError {
    /// A setup step failed: invalid input (exit 2), with file and line.
    Setup(SetupError),
    /// The database could not be started or reached (exit 3).
    Infrastructure(String),
}

impl PrepareError {
    pub fn into_app_error(self) -> AppError {
        match self {
            PrepareError::Setup(e) => AppError::Input(vec![InputError::new(
                &e.file,
                format!("setup failed: {}", e.message),
            )
            .at(e.line, e.column)
            .help(
                "fix the schema or fixture file; setup runs in the order of `setup:` in assay.yaml",
            )]),
            PrepareError::Infrastructure(m) => AppError::Infrastructure(m),
        }
    }
}

/// FNV-1a over a sequence of byte strings (each length-prefixed).
fn fnv(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for p in parts {
        for b in (p.len() as u64).to_le_bytes().iter().chain(p.iter()) {
            h ^= *b as u64;
            h = h.wrapping_mul(0x100000001b3);
        }
    }
    h
}

/// The cache key of a suite's fixture database on these server binaries,
/// or None when a setup file cannot be read (then nothing is cached and the
/// setup itself reports the problem).
pub fn cache_key(suite: &Suite, bins: &PgBinaries) -> Option<String> {
    let server = embedded::version_text(&bins.bindir)?;
    let mut steps = Vec::new();
    for step in &suite.config.setup {
        let (kind, file, table) = match step {
            SetupStep::Sql(f) => ("sql", f, ""),
            SetupStep::Csv { file, table } => ("csv", file, table.as_str()),
        };
        steps.push((
            format!("{kind}:{}:{table}", file.display()),
            std::fs::read(suite.root.join(file)).ok()?,
        ));
    }
    Some(key_of(
        env!("CARGO_PKG_VERSION"),
        &server,
        &format!(
            "{} {}",
            embedded::TEMPLATE,
            super::THROWAWAY_SETTINGS.join(",")
        ),
        &steps,
    ))
}

/// The key of a fixture database: every input that decides its contents.
pub fn key_of(
    assay_version: &str,
    server: &str,
    settings: &str,
    steps: &[(String, Vec<u8>)],
) -> String {
    let mut parts: Vec<&[u8]> = vec![
        assay_version.as_bytes(),
        server.as_bytes(),
        settings.as_bytes(),
    ];
    for (label, bytes) in steps {
        parts.push(label.as_bytes());
        parts.push(bytes);
    }
    format!("{:016x}", fnv(&parts))
}

fn cache_root() -> PathBuf {
    embedded::cache_dir().join("fixtures")
}

/// The cached data directory of `key`, if a complete entry exists (its
/// use is recorded so that eviction keeps it).
fn lookup(key: &str) -> Option<PathBuf> {
    let entry = cache_root().join(key);
    let data = entry.join("data");
    if data.join("PG_VERSION").is_file() {
        let _ = std::fs::write(entry.join("last_used"), std::process::id().to_string());
        Some(data)
    } else {
        None
    }
}

/// Stores `db`'s data as the entry for `key`, then evicts old entries.
async fn store(db: &mut Database, key: &str) -> Result<(), String> {
    let root = cache_root();
    std::fs::create_dir_all(&root).map_err(|e| format!("cannot create {}: {e}", root.display()))?;
    let staging = root.join(format!(".{key}.{}.tmp", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).map_err(|e| e.to_string())?;
    let copied = db.snapshot_data(&staging.join("data")).await;
    if let Err(e) = copied {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(e);
    }
    let _ = std::fs::write(staging.join("last_used"), std::process::id().to_string());
    // Another run may have stored the same key first: theirs is as good.
    if std::fs::rename(&staging, root.join(key)).is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    evict(&root);
    Ok(())
}

/// Removes all but the [`KEEP`] most recently used entries (and staging
/// directories of runs that died).
fn evict(root: &Path) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    let mut complete: Vec<(std::time::SystemTime, PathBuf)> = Vec::new();
    for e in entries.flatten() {
        let path = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') && name.ends_with(".tmp") {
            let pid = name.rsplit('.').nth(1).and_then(|p| p.parse::<i32>().ok());
            let alive = pid.is_some_and(|p| {
                nix::sys::signal::kill(nix::unistd::Pid::from_raw(p), None).is_ok()
            });
            if !alive {
                let _ = std::fs::remove_dir_all(&path);
            }
            continue;
        }
        let used = std::fs::metadata(path.join("last_used"))
            .and_then(|m| m.modified())
            .unwrap_or(std::time::SystemTime::UNIX_EPOCH);
        complete.push((used, path));
    }
    complete.sort_by_key(|e| std::cmp::Reverse(e.0));
    for (_, old) in complete.into_iter().skip(KEEP) {
        let _ = std::fs::remove_dir_all(old);
    }
}

/// Opens the database of `spec` with the suite's fixtures in it: a url
/// target as it is; an embedded cluster from the cache when `use_cache`
/// and an entry exists, else loaded (and cached); a docker container loaded.
pub async fn open(
    spec: &TargetSpec,
    suite: &Suite,
    pool_size: u32,
    use_cache: bool,
) -> Result<(Database, FixtureSource), PrepareError> {
    let major = suite.config.postgres_version;
    match spec {
        TargetSpec::Url(_) => Database::open(spec, major, pool_size)
            .await
            .map(|d| (d, FixtureSource::External))
            .map_err(PrepareError::Infrastructure),
        TargetSpec::Docker(_) => {
            let db = Database::open(spec, major, pool_size)
                .await
                .map_err(PrepareError::Infrastructure)?;
            Ok((load(db, suite).await?, FixtureSource::Loaded))
        }
        TargetSpec::Embedded => {
            let bins = embedded::find_binaries(major).map_err(PrepareError::Infrastructure)?;
            let key = if use_cache && !suite.config.setup.is_empty() {
                cache_key(suite, &bins)
            } else {
                None
            };
            if let Some(data) = key.as_deref().and_then(lookup) {
                // A cache entry evicted by another run while we copy it is a miss.
                if let Ok(db) = Database::open_embedded(
                    &bins,
                    DataSource::Cached(data),
                    Placement::Memory,
                    pool_size,
                )
                .await
                {
                    return Ok((db, FixtureSource::Cached));
                }
            }
            let db =
                Database::open_embedded(&bins, DataSource::Template, Placement::Memory, pool_size)
                    .await
                    .map_err(PrepareError::Infrastructure)?;
            let mut db = load(db, suite).await?;
            if let Some(k) = key {
                // A failure to cache costs the next run its head start, nothing more.
                let _ = store(&mut db, &k).await;
            }
            Ok((db, FixtureSource::Loaded))
        }
    }
}

/// Applies the setup steps; on failure the database is closed (and an
/// embedded cluster removed) before the error is returned.
async fn load(db: Database, suite: &Suite) -> Result<Database, PrepareError> {
    if let Err(e) = super::setup::apply(&db.pool, suite).await {
        db.close().await;
        return Err(PrepareError::Setup(e));
    }
    Ok(db)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_input_of_the_fixture_database_changes_its_key() {
        let steps = vec![("sql:a.sql:".to_string(), b"create table t ();".to_vec())];
        let base = key_of("0.1.0", "postgres (PostgreSQL) 15.18", "fsync=off", &steps);
        assert_eq!(
            base,
            key_of("0.1.0", "postgres (PostgreSQL) 15.18", "fsync=off", &steps)
        );
        assert_ne!(
            base,
            key_of("0.1.1", "postgres (PostgreSQL) 15.18", "fsync=off", &steps)
        );
        assert_ne!(
            base,
            key_of("0.1.0", "postgres (PostgreSQL) 15.19", "fsync=off", &steps)
        );
        assert_ne!(
            base,
            key_of("0.1.0", "postgres (PostgreSQL) 15.18", "fsync=on", &steps)
        );
        let edited = vec![(
            "sql:a.sql:".to_string(),
            b"create table t (x int);".to_vec(),
        )];
        assert_ne!(
            base,
            key_of("0.1.0", "postgres (PostgreSQL) 15.18", "fsync=off", &edited)
        );
        let moved = vec![("sql:b.sql:".to_string(), b"create table t ();".to_vec())];
        assert_ne!(
            base,
            key_of("0.1.0", "postgres (PostgreSQL) 15.18", "fsync=off", &moved)
        );
        // Length prefixes: the split between label and content matters.
        let shifted = vec![("sql:a.sql:c".to_string(), b"reate table t ();".to_vec())];
        assert_ne!(
            base,
            key_of(
                "0.1.0",
                "postgres (PostgreSQL) 15.18",
                "fsync=off",
                &shifted
            )
        );
    }

    #[test]
    fn eviction_keeps_the_newest_entries_and_live_staging() {
        let dir = tempfile::tempdir().unwrap();
        for (i, name) in ["a", "b", "c", "d", "e"].iter().enumerate() {
            let e = dir.path().join(name);
            std::fs::create_dir_all(&e).unwrap();
            std::fs::write(e.join("last_used"), "1").unwrap();
            let t =
                std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1000 + i as u64);
            std::fs::File::options()
                .write(true)
                .open(e.join("last_used"))
                .unwrap()
                .set_modified(t)
                .unwrap();
        }
        let mine = dir.path().join(format!(".k.{}.tmp", std::process::id()));
        let dead = dir.path().join(".k.999999999.tmp");
        std::fs::create_dir_all(&mine).unwrap();
        std::fs::create_dir_all(&dead).unwrap();
        evict(dir.path());
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            vec![
                mine.file_name().unwrap().to_string_lossy().into_owned(),
                "c".into(),
                "d".into(),
                "e".into()
            ]
        );
    }
}
