//! One unit's conversation with the database: every statement runs inside
//! `BEGIN READ ONLY` with a local `statement_timeout`; a failed statement rolls
//! the transaction back and the next one starts a fresh transaction.

use crate::db::bind::{bind_all, Bind};
use crate::db::decode;
use crate::db::kept::KeptConnections;
use crate::output::QueryOutput;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgColumn, PgPool, PgRow};
use sqlx::{Executor, Postgres, Row, Statement};
use std::time::{Duration, Instant};

pub struct Session {
    conn: PoolConnection<Postgres>,
    timeout_ms: u64,
    in_tx: bool,
    text_reread: Vec<String>,
    /// `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`: every statement
    /// of a transaction reads the same snapshot.
    repeatable_read: bool,
    /// Where the connection goes back to when the session closes cleanly
    /// (else it returns to the pool when dropped).
    home: Option<KeptConnections>,
    /// The connection failed below the SQL level (IO, protocol) or the
    /// server is going away: it is dropped, never kept.
    broken: bool,
}

/// `sql` with the columns at `as_text` cast to text, every column renamed
/// by position so that duplicate or odd names cannot clash; row order is
/// the inner statement's.
fn text_cast(sql: &str, columns: &[crate::output::Column], as_text: &[usize]) -> String {
    let names: Vec<String> = (1..=columns.len())
        .map(|i| format!("__assay_c{i}"))
        .collect();
    let select: Vec<String> = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            if as_text.contains(&i) {
                format!("{n}::text")
            } else {
                n.clone()
            }
        })
        .collect();
    format!(
        "SELECT {} FROM (\n{sql}\n) AS __assay_q({})",
        select.join(", "),
        names.join(", ")
    )
}

/// A failed statement: Postgres's message and position, and whether the
/// failure is transient (the connection went away, a conflict with recovery):
/// infrastructure, not the query.
#[derive(Debug)]
pub struct StatementError {
    pub message: String,
    pub position: Option<usize>,
    pub transient: bool,
    /// The SQLSTATE, when the server sent one.
    pub code: Option<String>,
}

impl From<sqlx::Error> for StatementError {
    fn from(e: sqlx::Error) -> Self {
        let (message, position) = crate::db::describe_error(&e);
        StatementError {
            message,
            position,
            transient: crate::db::is_transient(&e),
            code: match &e {
                sqlx::Error::Database(db) => db.code().map(|c| c.to_string()),
                _ => None,
            },
        }
    }
}

/// `ASSAY_PLAN_CACHE_MODE=auto` lets PostgreSQL switch prepared statements
/// to generic plans (its default), for `assay bench --versus-psql` to
/// measure what forcing custom plans is worth.
fn generic_plans_allowed() -> bool {
    static AUTO: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *AUTO.get_or_init(|| std::env::var("ASSAY_PLAN_CACHE_MODE").is_ok_and(|v| v == "auto"))
}

impl Session {
    fn on(
        conn: PoolConnection<Postgres>,
        timeout: Duration,
        home: Option<KeptConnections>,
    ) -> Session {
        Session {
            conn,
            timeout_ms: timeout.as_millis().max(1) as u64,
            in_tx: false,
            text_reread: Vec::new(),
            repeatable_read: false,
            home,
            broken: false,
        }
    }

    pub async fn open(pool: &PgPool, timeout: Duration) -> Result<Session, StatementError> {
        Ok(Session::on(pool.acquire().await?, timeout, None))
    }

    /// A session on a connection the run keeps between its units (one
    /// whose statement cache is warm, when there is one).
    pub async fn open_kept(
        kept: &KeptConnections,
        timeout: Duration,
    ) -> Result<Session, StatementError> {
        Ok(Session::on(
            kept.acquire().await?,
            timeout,
            Some(kept.clone()),
        ))
    }

    /// The statement error of `e`; an error below the SQL level, or one
    /// that says the server is going away, marks the connection as not to
    /// be kept.
    fn failed(&mut self, e: sqlx::Error) -> StatementError {
        if !matches!(e, sqlx::Error::Database(_)) || crate::db::is_connection_error(&e) {
            self.broken = true;
        }
        e.into()
    }

    /// A session whose statements read one snapshot (`REPEATABLE READ READ
    /// ONLY`) until one fails or the session closes: two queries compared
    /// on a replica that keeps replaying see the same data.
    pub async fn open_snapshot(
        pool: &PgPool,
        timeout: Duration,
    ) -> Result<Session, StatementError> {
        let mut s = Session::open(pool, timeout).await?;
        s.repeatable_read = true;
        Ok(s)
    }

    async fn begin(&mut self) -> Result<(), StatementError> {
        if !self.in_tx {
            // sqlx caches prepared statements per connection; after five runs
            // PostgreSQL may switch one to a generic plan, in which
            // `:channel is null or ...` is no longer folded for the value at
            // hand. Every parameter set is planned for its own values, as on
            // a fresh connection (PostgreSQL 12+; older servers keep the
            // default).
            let custom_plans = if self.conn.server_version_num().unwrap_or(0) >= 120_000
                && !generic_plans_allowed()
            {
                "; SET LOCAL plan_cache_mode = force_custom_plan"
            } else {
                ""
            };
            let isolation = if self.repeatable_read {
                " ISOLATION LEVEL REPEATABLE READ"
            } else {
                ""
            };
            let sql = format!(
                "BEGIN{isolation} READ ONLY; SET LOCAL statement_timeout = {}{custom_plans}",
                self.timeout_ms
            );
            sqlx::raw_sql(&sql)
                .execute(&mut *self.conn)
                .await
                .map_err(|e| self.failed(e))?;
            self.in_tx = true;
        }
        Ok(())
    }

    async fn abort(&mut self) {
        // A broken connection is dropped, not kept: no ROLLBACK is sent
        // down it (the server ends the transaction with the session).
        if self.in_tx && !self.broken {
            match sqlx::raw_sql("ROLLBACK").execute(&mut *self.conn).await {
                Ok(_) => self.in_tx = false,
                Err(e) => {
                    self.failed(e);
                }
            }
        }
    }

    /// Runs `sql` with typed parameters; returns the decoded output and the wall time.
    pub async fn query(
        &mut self,
        sql: &str,
        binds: &[Bind],
    ) -> Result<(QueryOutput, Duration), StatementError> {
        self.begin().await?;
        super::statement_log::record(sql, None, binds);
        let r = self.query_inner(sql, binds).await;
        if r.is_err() {
            self.abort().await;
        }
        r
    }

    async fn query_inner(
        &mut self,
        sql: &str,
        binds: &[Bind],
    ) -> Result<(QueryOutput, Duration), StatementError> {
        self.text_reread.clear();
        let start = Instant::now();
        let q = bind_all(sqlx::query(sql), binds);
        let rows: Vec<PgRow> = q
            .fetch_all(&mut *self.conn)
            .await
            .map_err(|e| self.failed(e))?;
        let elapsed = start.elapsed();
        let pg_columns: Vec<PgColumn> = match rows.first() {
            Some(r) => r.columns().to_vec(),
            // No rows, no row metadata: the statement's description (names
            // and types; sqlx's `describe` would also plan it again to infer
            // nullability, which nothing here reads).
            None => (&mut *self.conn)
                .prepare(sql)
                .await
                .map_err(|e| self.failed(e))?
                .columns()
                .to_vec(),
        };
        let columns = decode::columns(&pg_columns);
        match decode::decode(columns.clone(), &pg_columns, &rows, &[]) {
            Ok(out) => Ok((out, elapsed)),
            Err(unreadable) => {
                // Some column has a type without a binary decoder: read the
                // same statement once more with those columns cast to text
                // (PostgreSQL's own output for them).
                let wrapped = text_cast(sql, &columns, &unreadable.columns);
                let q = bind_all(sqlx::query(&wrapped), binds);
                let rows: Vec<PgRow> = q
                    .fetch_all(&mut *self.conn)
                    .await
                    .map_err(|e| self.failed(e))?;
                self.text_reread = unreadable
                    .columns
                    .iter()
                    .map(|&i| format!("{} ({})", columns[i].name, columns[i].ty))
                    .collect();
                let out = decode::decode(columns, &pg_columns, &rows, &unreadable.columns)
                    .map_err(|u| StatementError {
                        message: format!("cannot read columns {:?} even as text", u.columns),
                        position: None,
                        transient: false,
                        code: None,
                    })?;
                Ok((out, elapsed))
            }
        }
    }

    /// Columns of the last `query` that were read a second time as text
    /// (`name (type)`), empty when every column decoded natively.
    pub fn text_reread(&self) -> &[String] {
        &self.text_reread
    }

    /// Runs `sql` again only to time it; rows are fetched and dropped.
    pub async fn time(&mut self, sql: &str, binds: &[Bind]) -> Result<Duration, StatementError> {
        self.begin().await?;
        super::statement_log::record(sql, None, binds);
        let start = Instant::now();
        let q = bind_all(sqlx::query(sql), binds);
        let r = q.fetch_all(&mut *self.conn).await;
        let elapsed = start.elapsed();
        match r {
            Ok(_) => Ok(elapsed),
            Err(e) => {
                let e = self.failed(e);
                self.abort().await;
                Err(e)
            }
        }
    }

    /// Fetches every row of a statement whose columns are all readable;
    /// `json` (if any) is `$1`, the binds follow.
    pub async fn rows(
        &mut self,
        sql: &str,
        json: Option<&serde_json::Value>,
        binds: &[Bind],
    ) -> Result<Vec<PgRow>, StatementError> {
        self.begin().await?;
        super::statement_log::record(sql, json, binds);
        let mut q = sqlx::query(sql);
        if let Some(j) = json {
            q = q.bind(j.clone());
        }
        let q = bind_all(q, binds);
        match q.fetch_all(&mut *self.conn).await {
            Ok(r) => Ok(r),
            Err(e) => {
                let e = self.failed(e);
                self.abort().await;
                Err(e)
            }
        }
    }

    /// Ends the unit's transaction (it was read-only: nothing to commit)
    /// and keeps the connection for the run's next unit when it came from
    /// kept connections and is sound.
    pub async fn close(mut self) {
        self.abort().await;
        if let Some(home) = self.home.take() {
            if !self.broken && !self.in_tx {
                home.keep(self.conn);
            }
        }
    }
}
