//! `assay gen`: the suite's dataset at N times the fixture volume, generated
//! in Rust and streamed with binary COPY over several connections.
//!
//! `analytics_v6` decides the rows (pure), `copy_binary` encodes them, this
//! module runs the suite's `scale.before` SQL, loads the rows, runs
//! `scale.after` (indexes, view refresh, ANALYZE) and counts what is there.

pub mod analytics_v6;
pub mod copy_binary;
pub mod versus_psql;

use crate::db::setup::{self, SetupError};
use crate::suite::{ScaleConfig, Suite};
use copy_binary::CopyBuffer;
use indicatif::{ProgressBar, ProgressStyle};
use sqlx::postgres::PgPool;
use std::collections::BTreeMap;
use std::time::Instant;

pub use crate::suite::GENERATORS;

/// Bytes encoded before they are sent to the server.
const CHUNK: usize = 1 << 20;

#[derive(Debug, Clone)]
pub struct GenOptions {
    pub scale: f64,
    pub seed: u64,
    /// Connections loading `fact_leads` at once.
    pub connections: usize,
    pub progress: bool,
}

/// What a generation produced, and how long it took.
#[derive(Debug, Clone)]
pub struct GenStats {
    pub scale: f64,
    pub seed: u64,
    pub leads: u64,
    /// Rows per relation after `scale.after` (tables and materialized views).
    pub relation_rows: BTreeMap<String, u64>,
    /// Generating and loading the rows (no `before`/`after` SQL).
    pub rows_ms: f64,
    /// Everything: before SQL, rows, after SQL.
    pub total_ms: f64,
}

#[derive(Debug)]
pub enum GenError {
    /// A `scale.before`/`scale.after` SQL file failed (invalid input).
    Setup(SetupError),
    /// The scale or generator is not usable.
    Usage(String),
    /// The database failed while loading.
    Database(String),
}

fn db_err(e: sqlx::Error) -> GenError {
    GenError::Database(crate::db::describe_error(&e).0)
}

/// Generates the suite's dataset into `pool` (which must not hold it yet).
pub async fn generate(
    pool: &PgPool,
    suite: &Suite,
    cfg: &ScaleConfig,
    opts: &GenOptions,
) -> Result<GenStats, GenError> {
    if !GENERATORS.contains(&cfg.generator.as_str()) {
        return Err(GenError::Usage(format!(
            "unknown generator `{}`",
            cfg.generator
        )));
    }
    let started = Instant::now();
    let plan = analytics_v6::Plan::new(opts.scale, opts.seed).map_err(GenError::Usage)?;
    for f in &cfg.before {
        setup::run_sql_file(pool, &suite.root, f)
            .await
            .map_err(GenError::Setup)?;
    }
    let rows_started = Instant::now();
    load_rows(pool, &plan, opts).await?;
    let rows_ms = rows_started.elapsed().as_secs_f64() * 1e3;
    for f in &cfg.after {
        setup::run_sql_file(pool, &suite.root, f)
            .await
            .map_err(GenError::Setup)?;
    }
    let total_ms = started.elapsed().as_secs_f64() * 1e3;
    let relation_rows = count_relations(pool).await.map_err(db_err)?;
    Ok(GenStats {
        scale: opts.scale,
        seed: opts.seed,
        leads: plan.leads,
        relation_rows,
        rows_ms,
        total_ms,
    })
}

fn progress_bar(show: bool, plan: &analytics_v6::Plan) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(plan.leads);
    bar.set_style(
        ProgressStyle::with_template(
            "generating {bar:30} {human_pos}/{human_len} leads  {per_sec}  eta {eta}",
        )
        .expect("static template"),
    );
    bar
}

async fn load_rows(
    pool: &PgPool,
    plan: &analytics_v6::Plan,
    opts: &GenOptions,
) -> Result<(), GenError> {
    let bar = progress_bar(opts.progress, plan);
    // Campaigns first (the other tables reference them), then the daily ad
    // statistics on one connection while the leads, split by day, load over
    // the others.
    copy_days(
        pool,
        "dashboards.campaigns",
        0..1,
        |_, buf| plan.write_campaigns(buf),
        |_| (),
    )
    .await?;
    let stats = copy_days(
        pool,
        "dashboards.ad_stats_daily",
        0..plan.days,
        |d, buf| plan.write_ad_stats(d, buf),
        |_| (),
    );
    let leads = plan
        .split_days(opts.connections.max(1))
        .into_iter()
        .map(|days| {
            copy_days(
                pool,
                "dashboards.fact_leads",
                days,
                |d, buf| plan.write_leads(d, buf),
                |n| bar.inc(n),
            )
        });
    let (stats, leads) = futures::join!(stats, futures::future::try_join_all(leads));
    bar.finish_and_clear();
    stats?;
    leads?;
    Ok(())
}

/// One binary COPY into `table` on its own connection: `write` encodes the
/// rows of each day in `days`, sent in chunks of about `CHUNK` bytes;
/// `sent` hears how many rows each chunk carried.
async fn copy_days(
    pool: &PgPool,
    table: &str,
    days: std::ops::Range<u32>,
    write: impl Fn(u32, &mut CopyBuffer) -> u64,
    sent: impl Fn(u64),
) -> Result<(), GenError> {
    let mut conn = pool.acquire().await.map_err(db_err)?;
    let mut sink = conn
        .copy_in_raw(&format!("COPY {table} FROM STDIN (FORMAT binary)"))
        .await
        .map_err(db_err)?;
    let mut buf = CopyBuffer::with_capacity(CHUNK + (2 << 20));
    buf.header();
    let mut pending = 0;
    for d in days {
        pending += write(d, &mut buf);
        if buf.len() >= CHUNK {
            sink.send(buf.take()).await.map_err(db_err)?;
            sent(pending);
            pending = 0;
        }
    }
    buf.trailer();
    sink.send(buf.take()).await.map_err(db_err)?;
    sink.finish().await.map_err(db_err)?;
    sent(pending);
    Ok(())
}

/// Row counts of the generated tables and of every materialized view in
/// their schemas.
pub async fn count_relations(pool: &PgPool) -> Result<BTreeMap<String, u64>, sqlx::Error> {
    let mut names: Vec<String> = analytics_v6::TABLES.iter().map(|s| s.to_string()).collect();
    let views: Vec<String> = sqlx::query_scalar(
        "select schemaname || '.' || matviewname from pg_matviews \
         where schemaname = 'dashboards' and ispopulated order by 1",
    )
    .fetch_all(pool)
    .await?;
    names.extend(views);
    let mut out = BTreeMap::new();
    for n in names {
        let count: i64 = sqlx::query_scalar(&format!("select count(*) from {n}"))
            .fetch_one(pool)
            .await?;
        out.insert(n, count as u64);
    }
    Ok(out)
}
