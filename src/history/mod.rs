//! The history: every run appended to a store (a directory by default, a
//! PostgreSQL database for teams), read back by `assay report`, by the
//! anomaly rules of per-run metrics and by alerts ("new since the last run").

pub mod digest;
pub mod dir;
pub mod postgres;
pub mod record;

pub use digest::Digest;
pub use record::{Collector, RunRecord, UnitRecord};

use crate::error::AppError;
use chrono::{DateTime, Utc};
use futures::future::LocalBoxFuture;
use futures::FutureExt;

/// What went wrong with a store: the user's to fix (exit 2) or the
/// infrastructure's (exit 3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HistoryError {
    Input(String),
    Infrastructure(String),
}

impl From<HistoryError> for AppError {
    fn from(e: HistoryError) -> Self {
        match e {
            HistoryError::Input(m) => AppError::Usage(m),
            HistoryError::Infrastructure(m) => AppError::Infrastructure(m),
        }
    }
}

/// Records read from a store, and what could not be read.
#[derive(Debug, Default)]
pub struct Loaded {
    pub records: Vec<RunRecord>,
    pub problems: Vec<String>,
}

/// Where runs are kept. Implementations must let several processes append
/// at once (partitioned CI jobs) and never expose half-written records.
pub trait Store: Send + Sync {
    /// Where the store is, for messages (never credentials).
    fn location(&self) -> String;
    fn append<'a>(&'a self, record: &'a RunRecord) -> LocalBoxFuture<'a, Result<(), HistoryError>>;
    /// Records of runs started at or after `since`, oldest first.
    fn load<'a>(
        &'a self,
        since: Option<DateTime<Utc>>,
    ) -> LocalBoxFuture<'a, Result<Loaded, HistoryError>>;
    /// Removes runs started before `before`; returns how many went.
    fn prune<'a>(
        &'a self,
        before: DateTime<Utc>,
    ) -> LocalBoxFuture<'a, Result<usize, HistoryError>>;
    /// The database behind the store, if it is one (it must not be a target).
    fn database(&self) -> Option<&postgres::Identity> {
        None
    }
    fn close(&self) -> LocalBoxFuture<'_, ()> {
        async {}.boxed_local()
    }
}

/// True when LOCATION names a PostgreSQL database rather than a directory.
pub fn is_database_url(location: &str) -> bool {
    location.starts_with("postgres://") || location.starts_with("postgresql://")
}

/// Opens the store at LOCATION: a `postgres://` URL or a directory. For
/// writing, a directory is created and a database must be a writable primary.
pub async fn open(location: &str, for_writing: bool) -> Result<Box<dyn Store>, HistoryError> {
    if location.trim().is_empty() {
        return Err(HistoryError::Input(
            "--history needs a directory or a postgres:// URL".into(),
        ));
    }
    if is_database_url(location) {
        Ok(Box::new(
            postgres::PgStore::open(location, for_writing).await?,
        ))
    } else {
        Ok(Box::new(dir::DirStore::open(
            std::path::Path::new(location),
            for_writing,
        )?))
    }
}

/// The current time as the history sees it: `ASSAY_NOW` (RFC 3339) when set
/// (replaying or backfilling runs), else the clock.
pub fn now() -> Result<DateTime<Utc>, AppError> {
    match std::env::var("ASSAY_NOW") {
        Ok(v) if !v.trim().is_empty() => DateTime::parse_from_rfc3339(v.trim())
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| {
                AppError::Usage(format!(
                    "ASSAY_NOW=`{v}` is not an RFC 3339 time ({e}); write e.g. 2025-10-06T02:00:00Z"
                ))
            }),
        _ => Ok(Utc::now()),
    }
}

/// `--keep 90d` / `--since 30d` → the cutoff before `now`.
pub fn cutoff(flag: &str, text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, AppError> {
    let d = crate::suite::duration::parse_duration(text)
        .map_err(|e| AppError::Usage(format!("{flag}: {e}")))?;
    let d = chrono::Duration::from_std(d)
        .map_err(|_| AppError::Usage(format!("{flag} {text}: too large")))?;
    Ok(now - d)
}
