//! The store for teams: a PostgreSQL database of its own (never the one
//! under test). Its schema `assay_history` is created on first write and
//! moved forward by numbered migrations, one transaction under an advisory
//! lock, so concurrent first writers do not race. A standby or a read-only
//! database is refused for writing with a clear error (reading a report
//! from a replica is fine).

use super::record::RunRecord;
use super::{HistoryError, Loaded, Store};
use crate::db::url;
use chrono::{DateTime, Utc};
use futures::future::LocalBoxFuture;
use futures::FutureExt;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::Row;
use std::time::Duration;

pub const SCHEMA: &str = "assay_history";

/// The schema's migrations, in order. Never edit one that has shipped: add
/// the next number.
pub const MIGRATIONS: &[(i32, &str, &str)] = &[
    (
        1,
        "runs: one row per run record, the record itself as jsonb",
        "create table assay_history.runs (
             id          bigserial primary key,
             run_id      text not null,
             started_at  timestamptz not null,
             finished_at timestamptz not null,
             suite       text not null,
             version     text,
             partition   text,
             exit_code   integer not null,
             record      jsonb not null
         );
         create index runs_started_at_idx on assay_history.runs (started_at);
         create index runs_run_id_idx on assay_history.runs (run_id);",
    ),
    (
        2,
        "metric_values: every measured value as a row, for SQL and dashboards",
        "create table assay_history.metric_values (
             run        bigint not null references assay_history.runs (id) on delete cascade,
             check_name text not null,
             metric     text not null,
             day        date,
             dimension  text,
             value      double precision not null
         );
         create index metric_values_lookup_idx on assay_history.metric_values (check_name, metric, day);
         create index metric_values_run_idx on assay_history.metric_values (run);
         insert into assay_history.metric_values (run, check_name, metric, day, dimension, value)
         select r.id, u->'unit'->>'check', m->>'name', (m->>'day')::date, m->>'dimension', (m->>'value')::float8
         from assay_history.runs r,
              jsonb_array_elements(r.record->'units') u,
              jsonb_array_elements(coalesce(u->'unit'->'metrics', '[]'::jsonb)) m;",
    ),
];

/// Who the database is: compared with the targets of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub label: String,
    pub database: String,
    /// The cluster's system identifier, when the role may read it.
    pub system_id: Option<String>,
    pub port: i32,
}

impl Identity {
    /// Whether two identities name the same database (a standby shares its
    /// primary's system identifier: it is the same data).
    pub fn same_database(&self, other: &Identity) -> bool {
        match (&self.system_id, &other.system_id) {
            (Some(a), Some(b)) => a == b && self.database == other.database,
            _ => self.label == other.label,
        }
    }
}

pub struct PgStore {
    pool: PgPool,
    label: String,
    migrated: tokio::sync::Mutex<bool>,
    identity: Identity,
}

fn infra(label: &str, e: &sqlx::Error) -> HistoryError {
    HistoryError::Infrastructure(url::redact(&format!(
        "history {label}: {}",
        crate::db::describe_error(e).0
    )))
}

/// Identity of whatever `pool` is connected to.
pub async fn identity(pool: &PgPool, label: &str) -> Result<Identity, sqlx::Error> {
    let row = sqlx::query("select current_database()::text, coalesce(inet_server_port(), 0)")
        .fetch_one(pool)
        .await?;
    let system_id =
        sqlx::query_scalar::<_, String>("select system_identifier::text from pg_control_system()")
            .fetch_one(pool)
            .await
            .ok();
    Ok(Identity {
        label: label.to_string(),
        database: row.get(0),
        port: row.get(1),
        system_id,
    })
}

impl PgStore {
    pub async fn open(location: &str, for_writing: bool) -> Result<PgStore, HistoryError> {
        let opts = url::options(location).map_err(HistoryError::Input)?;
        let label = url::label(&opts);
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(opts)
            .await
            .map_err(|e| infra(&label, &e))?;
        if for_writing {
            let row = sqlx::query(
                "select pg_is_in_recovery(), current_setting('transaction_read_only'), \
                        current_setting('default_transaction_read_only')",
            )
            .fetch_one(&pool)
            .await
            .map_err(|e| infra(&label, &e))?;
            let (recovery, ro, default_ro): (bool, String, String) =
                (row.get(0), row.get(1), row.get(2));
            if recovery {
                pool.close().await;
                return Err(HistoryError::Input(format!(
                    "history {label} is a standby (in recovery) and cannot be written; \
                     give the primary's URL, or a directory (--history DIR)"
                )));
            }
            if ro == "on" || default_ro == "on" {
                pool.close().await;
                return Err(HistoryError::Input(format!(
                    "history {label} is read-only (default_transaction_read_only = on for this role or database); \
                     give a database and role that may write, or a directory (--history DIR)"
                )));
            }
        }
        if for_writing {
            // A schema written by a newer assay is refused before the run.
            let exists: bool = sqlx::query_scalar(&format!(
                "select to_regclass('{SCHEMA}.migrations') is not null"
            ))
            .fetch_one(&pool)
            .await
            .map_err(|e| infra(&label, &e))?;
            let version: Option<i32> = if exists {
                sqlx::query_scalar(&format!("select max(version) from {SCHEMA}.migrations"))
                    .fetch_one(&pool)
                    .await
                    .map_err(|e| infra(&label, &e))?
            } else {
                None
            };
            let known = MIGRATIONS.last().map(|m| m.0).unwrap_or(0);
            if let Some(v) = version.filter(|v| *v > known) {
                pool.close().await;
                return Err(HistoryError::Input(format!(
                    "history {label}: its schema is at version {v}, this assay knows up to {known}; upgrade assay"
                )));
            }
        }
        let identity = identity(&pool, &label)
            .await
            .map_err(|e| infra(&label, &e))?;
        Ok(PgStore {
            pool,
            label,
            migrated: tokio::sync::Mutex::new(false),
            identity,
        })
    }

    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// Creates the schema and applies missing migrations (once per process).
    async fn migrate(&self) -> Result<(), HistoryError> {
        let mut done = self.migrated.lock().await;
        if *done {
            return Ok(());
        }
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(|e| infra(&self.label, &e))?;
        let conn: &mut sqlx::PgConnection = &mut tx;
        // Serialises concurrent first writers; released at commit.
        let setup = [
            "select pg_advisory_xact_lock(7242525107436830001)".to_string(),
            format!("create schema if not exists {SCHEMA}"),
            format!(
                "create table if not exists {SCHEMA}.migrations (
                     version    integer primary key,
                     name       text not null,
                     applied_at timestamptz not null default now())"
            ),
        ];
        for sql in &setup {
            sqlx::query(sql)
                .execute(&mut *conn)
                .await
                .map_err(|e| self.schema_error(&e))?;
        }
        let current: i32 = sqlx::query_scalar(&format!(
            "select coalesce(max(version), 0) from {SCHEMA}.migrations"
        ))
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| self.schema_error(&e))?;
        let known = MIGRATIONS.last().map(|m| m.0).unwrap_or(0);
        if current > known {
            return Err(HistoryError::Input(format!(
                "history {}: its schema is at version {current}, this assay knows up to {known}; upgrade assay",
                self.label
            )));
        }
        for (version, name, sql) in MIGRATIONS.iter().filter(|m| m.0 > current) {
            sqlx::raw_sql(sql)
                .execute(&mut *conn)
                .await
                .map_err(|e| self.schema_error(&e))?;
            sqlx::query(&format!(
                "insert into {SCHEMA}.migrations (version, name) values ($1, $2)"
            ))
            .bind(version)
            .bind(name)
            .execute(&mut *conn)
            .await
            .map_err(|e| self.schema_error(&e))?;
        }
        tx.commit().await.map_err(|e| infra(&self.label, &e))?;
        *done = true;
        Ok(())
    }

    /// Permission problems are the user's to fix (exit 2); the rest is infrastructure.
    fn schema_error(&self, e: &sqlx::Error) -> HistoryError {
        let (msg, _) = crate::db::describe_error(e);
        if msg.contains("permission denied") || msg.contains("read-only") {
            HistoryError::Input(url::redact(&format!(
                "history {}: cannot create or update the schema {SCHEMA}: {msg}; \
                 the role needs CREATE on the database (or run the migrations once as its owner)",
                self.label
            )))
        } else {
            infra(&self.label, e)
        }
    }
}

impl Store for PgStore {
    fn location(&self) -> String {
        format!("postgres {}", self.label)
    }

    fn database(&self) -> Option<&Identity> {
        Some(&self.identity)
    }

    fn append<'a>(&'a self, record: &'a RunRecord) -> LocalBoxFuture<'a, Result<(), HistoryError>> {
        async move {
            self.migrate().await?;
            let json = serde_json::to_value(record)
                .map_err(|e| HistoryError::Infrastructure(format!("cannot encode the run: {e}")))?;
            let mut tx = self.pool.begin().await.map_err(|e| infra(&self.label, &e))?;
            let conn: &mut sqlx::PgConnection = &mut tx;
            let id: i64 = sqlx::query_scalar(&format!(
                "insert into {SCHEMA}.runs (run_id, started_at, finished_at, suite, version, partition, exit_code, record)
                 values ($1, $2, $3, $4, $5, $6, $7, $8) returning id"
            ))
            .bind(&record.run_id)
            .bind(record.started_at)
            .bind(record.finished_at)
            .bind(&record.suite)
            .bind(&record.version)
            .bind(&record.partition)
            .bind(record.exit_code)
            .bind(json)
            .fetch_one(&mut *conn)
            .await
            .map_err(|e| self.schema_error(&e))?;
            let (mut checks, mut names, mut days, mut dims, mut values) =
                (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for u in &record.units {
                for m in &u.unit.metrics {
                    checks.push(u.unit.check.clone());
                    names.push(m.name.clone());
                    days.push(m.day);
                    dims.push(m.dimension.clone());
                    values.push(m.value);
                }
            }
            if !values.is_empty() {
                sqlx::query(&format!(
                    "insert into {SCHEMA}.metric_values (run, check_name, metric, day, dimension, value)
                     select $1, * from unnest($2::text[], $3::text[], $4::date[], $5::text[], $6::float8[])"
                ))
                .bind(id)
                .bind(&checks)
                .bind(&names)
                .bind(&days)
                .bind(&dims)
                .bind(&values)
                .execute(&mut *conn)
                .await
                .map_err(|e| self.schema_error(&e))?;
            }
            tx.commit().await.map_err(|e| infra(&self.label, &e))
        }
        .boxed_local()
    }

    fn load<'a>(
        &'a self,
        since: Option<DateTime<Utc>>,
    ) -> LocalBoxFuture<'a, Result<Loaded, HistoryError>> {
        async move {
            let exists: bool =
                sqlx::query_scalar(&format!("select to_regclass('{SCHEMA}.runs') is not null"))
                    .fetch_one(&self.pool)
                    .await
                    .map_err(|e| infra(&self.label, &e))?;
            let mut loaded = Loaded::default();
            if !exists {
                return Ok(loaded);
            }
            let rows = sqlx::query(&format!(
                "select id, record::text from {SCHEMA}.runs
                 where started_at >= coalesce($1, '-infinity'::timestamptz)
                 order by started_at, id"
            ))
            .bind(since)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| infra(&self.label, &e))?;
            for row in rows {
                let id: i64 = row.get(0);
                let text: String = row.get(1);
                match serde_json::from_str::<RunRecord>(&text) {
                    Ok(r) => loaded.records.push(r),
                    Err(e) => loaded.problems.push(format!(
                        "{SCHEMA}.runs id {id}: not a run record ({e}); left out"
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
            self.migrate().await?;
            let done = sqlx::query(&format!("delete from {SCHEMA}.runs where started_at < $1"))
                .bind(before)
                .execute(&self.pool)
                .await
                .map_err(|e| self.schema_error(&e))?;
            Ok(done.rows_affected() as usize)
        }
        .boxed_local()
    }

    fn close(&self) -> LocalBoxFuture<'_, ()> {
        async move { self.pool.close().await }.boxed_local()
    }
}
