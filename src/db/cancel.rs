//! Cancelling what assay runs on databases it does not own when it is
//! interrupted. Every connection to a url target carries an
//! `application_name` unique to this process; on Ctrl-C or SIGTERM a fresh
//! connection of the same role cancels that name's active queries with
//! `pg_cancel_backend` (sqlx has no protocol-level cancel), so nothing
//! keeps running on a replica until its statement_timeout.

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::Connection;
use std::sync::Mutex;
use std::time::Duration;

static TARGETS: Mutex<Vec<(u64, PgConnectOptions)>> = Mutex::new(Vec::new());

/// The application_name of this process's connections to url targets.
pub fn application_name() -> String {
    static NAME: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    NAME.get_or_init(|| {
        let nonce = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        format!("assay {} {nonce:08x}", std::process::id())
    })
    .clone()
}

/// Remembers a target so that [`cancel_all`] can reach it; returns the key
/// to [`forget`] it with once its connections are closed.
pub fn register(opts: &PgConnectOptions) -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let key = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    if let Ok(mut t) = TARGETS.lock() {
        t.push((key, opts.clone()));
    }
    key
}

pub fn forget(key: u64) {
    if let Ok(mut t) = TARGETS.lock() {
        t.retain(|(k, _)| *k != key);
    }
}

/// Cancels the active queries of this process on every registered target,
/// giving up on a target after `timeout`. Returns how many were cancelled.
pub async fn cancel_all(timeout: Duration) -> usize {
    let targets: Vec<PgConnectOptions> = TARGETS
        .lock()
        .map(|t| t.iter().map(|(_, o)| o.clone()).collect())
        .unwrap_or_default();
    let name = application_name();
    let mut cancelled = 0;
    for opts in targets {
        let attempt = async {
            let mut conn =
                PgConnection::connect_with(&opts.application_name("assay cancel")).await?;
            let n: i64 = sqlx::query_scalar(
                "select count(*) filter (where pg_cancel_backend(pid)) from pg_stat_activity \
                 where application_name = $1 and pid <> pg_backend_pid() and state <> 'idle'",
            )
            .bind(&name)
            .fetch_one(&mut conn)
            .await?;
            let _ = conn.close().await;
            Ok::<i64, sqlx::Error>(n)
        };
        if let Ok(Ok(n)) = tokio::time::timeout(timeout, attempt).await {
            cancelled += n.max(0) as usize;
        }
    }
    cancelled
}
