//! Existing databases reached by URL or libpq environment; credentials are
//! never shown.

use regex::Regex;
use sqlx::postgres::PgConnectOptions;
use std::sync::OnceLock;

/// Connection options from a URL (or, for an empty URL, the libpq environment).
pub fn options(url: &str) -> Result<PgConnectOptions, String> {
    if url.is_empty() {
        return Ok(PgConnectOptions::new());
    }
    url.parse::<PgConnectOptions>()
        .map_err(|e| redact(&format!("invalid database URL `{url}`: {e}")))
}

/// How far behind its primary a hot standby is (None on a primary): the age of
/// the last replayed transaction, or 0 when replay has caught up with receipt.
pub async fn replica_lag(pool: &sqlx::PgPool) -> Result<Option<f64>, sqlx::Error> {
    let row: (bool, Option<f64>) = sqlx::query_as(
        "select pg_is_in_recovery(), \
         case when pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() then 0::float8 \
              else extract(epoch from now() - pg_last_xact_replay_timestamp())::float8 end",
    )
    .fetch_one(pool)
    .await?;
    Ok(if row.0 {
        Some(row.1.unwrap_or(0.0).max(0.0))
    } else {
        None
    })
}

/// `host:port/database`, for reports.
pub fn label(opts: &PgConnectOptions) -> String {
    format!(
        "{}:{}/{}",
        opts.get_host(),
        opts.get_port(),
        opts.get_database().unwrap_or("(default)")
    )
}

/// Removes passwords from any text that may contain connection strings.
pub fn redact(text: &str) -> String {
    static URL: OnceLock<Regex> = OnceLock::new();
    static KV: OnceLock<Regex> = OnceLock::new();
    let url =
        URL.get_or_init(|| Regex::new(r"(?i)(postgres(?:ql)?://[^:/@\s]*):[^@\s]*@").unwrap());
    let kv = KV.get_or_init(|| Regex::new(r"(?i)(password\s*=\s*)('[^']*'|\S+)").unwrap());
    let t = url.replace_all(text, "$1:[redacted]@");
    kv.replace_all(&t, "$1[redacted]").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact("cannot reach postgres://bob:s3cr%40t@db:5432/x"),
            "cannot reach postgres://bob:[redacted]@db:5432/x"
        );
        assert_eq!(
            redact("host=a password='x y' user=b"),
            "host=a password=[redacted] user=b"
        );
        assert_eq!(redact("postgres://db/x"), "postgres://db/x");
    }
}
