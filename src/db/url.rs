//! Existing databases reached by URL or libpq environment; credentials are
//! never shown.

use regex::Regex;
use sqlx::postgres::PgConnectOptions;
use std::sync::OnceLock;

/// Connection options from a URL (`postgres://` or `postgresql://`), a libpq
/// conninfo string (`host=db port=5432 dbname=x`), or, when empty, the libpq
/// environment. A malformed or foreign value is refused at once, its
/// password never repeated.
pub fn options(url: &str) -> Result<PgConnectOptions, String> {
    let url = url.trim();
    if url.is_empty() {
        return Ok(PgConnectOptions::new());
    }
    let shown = redact(url);
    if let Some((scheme, _)) = url.split_once("://") {
        if !matches!(
            scheme.to_ascii_lowercase().as_str(),
            "postgres" | "postgresql"
        ) {
            return Err(format!(
                "unsupported database URL scheme `{scheme}://` in `{shown}`: assay reads PostgreSQL \
                 (postgres://user@host:5432/database)"
            ));
        }
        return url
            .parse::<PgConnectOptions>()
            .map_err(|e| redact(&format!("invalid database URL `{shown}`: {e}")));
    }
    if url.contains('=') {
        return conninfo(url).map_err(|e| format!("invalid connection string `{shown}`: {e}"));
    }
    Err(format!(
        "`{shown}` is neither a database URL (postgres://user@host:5432/database) nor a \
         connection string (host=... dbname=...)"
    ))
}

/// Splits a libpq conninfo string into key/value pairs (values may be
/// single-quoted, with `\'` and `\\` escapes).
fn conninfo_pairs(s: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            return Ok(out);
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c.is_whitespace() {
                break;
            }
            key.push(c);
            chars.next();
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.next() != Some('=') {
            return Err(format!("`{key}` has no `=value`"));
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        if chars.peek() == Some(&'\'') {
            chars.next();
            let mut closed = false;
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '\'' => {
                        closed = true;
                        break;
                    }
                    c => value.push(c),
                }
            }
            if !closed {
                return Err(format!("the quoted value of `{key}` is not closed"));
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                if c == '\\' {
                    chars.next();
                    value.extend(chars.next());
                } else {
                    value.push(c);
                    chars.next();
                }
            }
        }
        out.push((key, value));
    }
}

/// Connection options from a libpq conninfo string (the keys assay uses;
/// others are refused by name rather than silently ignored).
fn conninfo(s: &str) -> Result<PgConnectOptions, String> {
    let mut o = PgConnectOptions::new();
    for (k, v) in conninfo_pairs(s)? {
        o = match k.as_str() {
            "host" | "hostaddr" if v.starts_with('/') => o.socket(&v),
            "host" | "hostaddr" => o.host(&v),
            "port" => o.port(
                v.parse()
                    .map_err(|_| format!("port `{v}` is not a number from 1 to 65535"))?,
            ),
            "dbname" => o.database(&v),
            "user" => o.username(&v),
            "password" => o.password(&v),
            "sslmode" => o.ssl_mode(
                v.parse()
                    .map_err(|_| format!("sslmode `{v}` is not one of disable, allow, prefer, require, verify-ca, verify-full"))?,
            ),
            "sslrootcert" => o.ssl_root_cert(&v),
            "sslcert" => o.ssl_client_cert(&v),
            "sslkey" => o.ssl_client_key(&v),
            "application_name" => o.application_name(&v),
            "connect_timeout" => o,
            other => {
                return Err(format!(
                    "assay does not support the connection parameter `{other}` (supported: host, \
                     hostaddr, port, dbname, user, password, sslmode, sslrootcert, sslcert, sslkey, \
                     application_name, connect_timeout)"
                ))
            }
        };
    }
    Ok(o)
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
        URL.get_or_init(|| Regex::new(r"(?i)([a-z][a-z0-9+.-]*://[^:/@\s]*):[^@\s]*@").unwrap());
    let kv = KV.get_or_init(|| Regex::new(r"(?i)(password\s*=\s*)('[^']*'|\S+)").unwrap());
    let t = url.replace_all(text, "$1:[redacted]@");
    kv.replace_all(&t, "$1[redacted]").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_connection_strings_are_checked_before_connecting() {
        let e = options("mysql://root:hunter2@db/x").unwrap_err();
        assert!(
            e.contains("unsupported database URL scheme `mysql://`"),
            "{e}"
        );
        assert!(!e.contains("hunter2"), "{e}");
        let e = options("postgres://bob:hunter2@db:99999/x").unwrap_err();
        assert!(e.contains("invalid database URL"), "{e}");
        assert!(!e.contains("hunter2"), "{e}");
        let o =
            options("host=db.example port=6543 dbname='my db' user=bob password='p w'").unwrap();
        assert_eq!(
            (o.get_host(), o.get_port(), o.get_database()),
            ("db.example", 6543, Some("my db"))
        );
        let e = options("host=db port=x password=hunter2").unwrap_err();
        assert!(e.contains("port `x`") && !e.contains("hunter2"), "{e}");
        assert!(options("host=db frobnicate=1")
            .unwrap_err()
            .contains("frobnicate"));
        assert!(options("just-a-word").is_err());
        assert!(options("").is_ok());
    }

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
