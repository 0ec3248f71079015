//! Databases assay runs against: where they come from, how to reach them, how
//! to load fixtures into them, and how rows become cells.

pub mod bind;
pub mod cancel;
pub mod decode;
pub mod docker;
pub mod embedded;
pub mod fixtures;
pub mod kept;
pub mod setup;
pub mod url;

use crate::suite::Environment;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use std::time::Duration;

/// Server settings for clusters assay creates and throws away: durability
/// buys nothing there, and start-up plus fixture loading get faster.
pub const THROWAWAY_SETTINGS: &[&str] = &[
    "fsync=off",
    "synchronous_commit=off",
    "full_page_writes=off",
];

/// Which kind of target a run uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetSpec {
    /// Start a throwaway cluster from local server binaries (the default).
    Embedded,
    /// Start a throwaway container through testcontainers.
    Docker(docker::DockerImage),
    /// An existing database; strictly read-only. An empty URL means the libpq
    /// environment (PGHOST, PGUSER, PGPASSWORD, PGSSLMODE, ~/.pgpass, ...).
    Url(String),
}

/// A target's label without what changes from run to run: throwaway
/// clusters get a new port (and container host) every run, so
/// `embedded PostgreSQL 15 on 127.0.0.1:41234` becomes
/// `embedded PostgreSQL 15`; databases named by URL keep their label. Runs
/// are compared across time by this key.
pub fn stable_label(label: &str) -> String {
    if label.starts_with("embedded ") || label.starts_with("docker ") {
        if let Some(i) = label.rfind(" on ") {
            return label[..i].to_string();
        }
    }
    label.to_string()
}

/// A connected database, plus whatever keeps it alive.
pub struct Database {
    pub pool: PgPool,
    /// Host, port and database; never credentials.
    pub label: String,
    pub environment: Environment,
    /// True for databases assay did not create: never seeded, never written.
    pub external: bool,
    /// Seconds the replica is behind its primary, when it is a standby.
    pub replica_lag_s: Option<f64>,
    cluster: Option<embedded::EmbeddedCluster>,
    container: Option<docker::DockerCluster>,
    /// Registered for cancellation on Ctrl-C/SIGTERM (url targets).
    cancel_key: Option<u64>,
}

impl Database {
    /// Starts or reaches the target. Errors are infrastructure errors.
    pub async fn open(
        spec: &TargetSpec,
        postgres_major: u32,
        pool_size: u32,
    ) -> Result<Database, String> {
        match spec {
            TargetSpec::Embedded => {
                let bins = embedded::find_binaries(postgres_major)?;
                Self::open_embedded(
                    &bins,
                    embedded::DataSource::Template,
                    embedded::Placement::Disk,
                    pool_size,
                )
                .await
            }
            TargetSpec::Docker(image) => {
                let container = docker::DockerCluster::start(image).await?;
                let opts = PgConnectOptions::new_without_pgpass()
                    .host(&container.host)
                    .port(container.port)
                    .username("postgres")
                    .password(docker::PASSWORD)
                    .database("postgres")
                    .ssl_mode(sqlx::postgres::PgSslMode::Disable);
                let pool = match pool(opts, pool_size).await {
                    Ok(p) => p,
                    Err(e) => {
                        container.stop().await;
                        return Err(e);
                    }
                };
                Ok(Database {
                    pool,
                    label: container.label(),
                    environment: Environment::Fixtures,
                    external: false,
                    replica_lag_s: None,
                    cluster: None,
                    container: Some(container),
                    cancel_key: None,
                })
            }
            TargetSpec::Url(u) => {
                let opts = url::options(u)?.application_name(&cancel::application_name());
                let label = url::label(&opts);
                let pool = pool_with_timeout(opts.clone(), pool_size, Duration::from_secs(4))
                    .await
                    .map_err(|e| url::redact(&format!("cannot connect to {label}: {e}")))?;
                let replica_lag_s = url::replica_lag(&pool)
                    .await
                    .map_err(|e| url::redact(&format!("cannot query {label}: {e}")))?;
                Ok(Database {
                    pool,
                    label,
                    environment: Environment::Production,
                    external: true,
                    replica_lag_s,
                    cluster: None,
                    container: None,
                    cancel_key: Some(cancel::register(&opts)),
                })
            }
        }
    }

    /// Starts a throwaway cluster from `source` (the empty template, or a
    /// cached data directory with fixtures loaded).
    pub async fn open_embedded(
        bins: &embedded::PgBinaries,
        source: embedded::DataSource,
        placement: embedded::Placement,
        pool_size: u32,
    ) -> Result<Database, String> {
        let cluster = embedded::EmbeddedCluster::start_from(bins, source, placement).await?;
        let pool = pool(embedded_options(&cluster), pool_size).await?;
        Ok(Database {
            pool,
            label: cluster.label(),
            environment: Environment::Fixtures,
            external: false,
            replica_lag_s: None,
            cluster: Some(cluster),
            container: None,
            cancel_key: None,
        })
    }

    /// Copies an embedded cluster's data directory to `dest` (stopping the
    /// server cleanly for a consistent copy, then starting it again and
    /// reconnecting). Errors for other targets.
    pub async fn snapshot_data(&mut self, dest: &std::path::Path) -> Result<(), String> {
        let Some(cluster) = self.cluster.as_mut() else {
            return Err("only an embedded cluster's data can be copied".into());
        };
        let size = self.pool.options().get_max_connections();
        self.pool.close().await;
        let copied = cluster.snapshot_data(dest).await;
        self.pool = pool(embedded_options(cluster), size).await?;
        self.label = cluster.label();
        copied
    }

    /// The embedded cluster's psql binary and port (None for other targets).
    pub fn embedded_psql(&self) -> Option<(std::path::PathBuf, u16)> {
        self.cluster
            .as_ref()
            .map(|c| (c.bindir.join("psql"), c.port))
    }

    /// Closes connections and stops an embedded server.
    pub async fn close(mut self) {
        self.pool.close().await;
        if let Some(k) = self.cancel_key.take() {
            cancel::forget(k);
        }
        if let Some(mut c) = self.cluster.take() {
            c.stop_blocking();
        }
        if let Some(c) = self.container.take() {
            c.stop().await;
        }
    }
}

/// Connections to a cluster assay started: through its Unix-domain socket
/// (a round trip on the loopback TCP stack costs both sides kernel time on
/// every statement), TCP only if the run directory is gone.
fn embedded_options(cluster: &embedded::EmbeddedCluster) -> PgConnectOptions {
    let opts = PgConnectOptions::new()
        .port(cluster.port)
        .username("postgres")
        .database("postgres");
    match cluster.socket_dir() {
        Some(dir) => opts.socket(dir),
        None => opts.host("127.0.0.1"),
    }
}

/// A pooled connection idle for longer than this is pinged before use.
const PING_IDLE_AFTER: Duration = Duration::from_secs(1);

async fn pool(opts: PgConnectOptions, size: u32) -> Result<PgPool, String> {
    pool_with_timeout(opts, size, Duration::from_secs(30)).await
}

/// A pool whose `acquire` gives up after `timeout` (connection refused keeps
/// sqlx retrying until then).
async fn pool_with_timeout(
    opts: PgConnectOptions,
    size: u32,
    timeout: Duration,
) -> Result<PgPool, String> {
    PgPoolOptions::new()
        .max_connections(size.max(1))
        .acquire_timeout(timeout)
        // A connection handed back a moment ago is alive: pinging it on
        // every acquire costs a round trip per unit. One idle for longer
        // (a server or pooler may have closed it) is pinged, and replaced
        // when it does not answer.
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for < PING_IDLE_AFTER {
                    return Ok(true);
                }
                Ok(sqlx::Connection::ping(conn).await.is_ok())
            })
        })
        .connect_with(opts)
        .await
        .map_err(|e| describe_error(&e).0)
}

/// A readable message for a sqlx error, and the 1-based character position
/// Postgres gave for it, if any.
pub fn describe_error(e: &sqlx::Error) -> (String, Option<usize>) {
    match e {
        sqlx::Error::Database(db) => {
            let pg = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>();
            let mut msg = db.message().to_string();
            let mut pos = None;
            if let Some(pg) = pg {
                if let Some(d) = pg.detail() {
                    msg.push_str(&format!(" ({d})"));
                }
                if let Some(h) = pg.hint() {
                    msg.push_str(&format!("; hint: {h}"));
                }
                if let Some(sqlx::postgres::PgErrorPosition::Original(p)) = pg.position() {
                    pos = Some(p);
                }
                msg = format!("{msg} [SQLSTATE {}]", pg.code());
            }
            (msg, pos)
        }
        other => (url::redact(&other.to_string()), None),
    }
}

/// True for failures worth retrying and, if they persist, reporting as
/// infrastructure: the connection went away, or a standby cancelled the
/// statement because of a conflict with recovery.
pub fn is_transient(e: &sqlx::Error) -> bool {
    if is_connection_error(e) {
        return true;
    }
    match e {
        sqlx::Error::Database(db) => db.message().contains("conflict with recovery"),
        _ => false,
    }
}

/// True for errors that mean the database went away rather than the query being wrong.
pub fn is_connection_error(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Protocol(_) | sqlx::Error::Tls(_) => true,
        sqlx::Error::Database(db) => {
            let code = db.code().map(|c| c.to_string()).unwrap_or_default();
            // admin shutdown, crash shutdown, cannot connect now, connection failures
            code.starts_with("08") || code == "57P01" || code == "57P02" || code == "57P03"
        }
        _ => false,
    }
}
