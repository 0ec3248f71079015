//! `assay gen`: the suite's data model (`scale.model`) at a scale, generated
//! in Rust and streamed with binary COPY over several connections.
//!
//! One job per module: `model` parses and validates the model file (pure),
//! `expr` and `value` are its expression language (pure), `draw` the
//! deterministic randomness (pure), `plan` decides the rows (pure),
//! `encode` and `copy_binary` write them in COPY's binary format (pure),
//! `schema` checks the model against the database, `load` streams the rows
//! (IO), `foreign_keys` checks the loaded tables' foreign keys once per load
//! rather than once per row (IO). This module runs the suite's `scale.before` SQL, checks, loads,
//! runs `scale.after` (indexes, ANALYZE) and `scale.reload` (view refresh)
//! and counts what is there.

pub mod config;
pub mod copy_binary;
pub mod draw;
pub mod encode;
pub mod expr;
pub mod foreign_keys;
pub mod load;
pub mod model;
pub mod plan;
pub mod schema;
pub mod value;
pub mod versus_psql;

use crate::db::setup::{self, SetupError};
use crate::error::InputError;
pub use config::ScaleConfig;
use indicatif::{ProgressBar, ProgressStyle};
use plan::Plan;
use sqlx::postgres::PgPool;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

#[derive(Debug, Clone)]
pub struct GenOptions {
    pub scale: f64,
    pub seed: u64,
    /// Connections loading at once.
    pub connections: usize,
    pub progress: bool,
}

/// What a generation produced, and how long it took.
#[derive(Debug, Clone)]
pub struct GenStats {
    pub scale: f64,
    pub seed: u64,
    /// Rows written into the model's tables.
    pub rows: u64,
    /// Rows per relation after `scale.after`/`reload` (the model's tables
    /// and the materialized views in their schemas).
    pub relation_rows: BTreeMap<String, u64>,
    /// Generating and loading the rows (no `before`/`after` SQL), foreign
    /// keys checked.
    pub rows_ms: f64,
    /// How the loaded tables' foreign keys were kept.
    pub key_checks: foreign_keys::KeyChecks,
    /// Everything: before SQL, rows, after SQL.
    pub total_ms: f64,
}

#[derive(Debug)]
pub enum GenError {
    /// A `scale.before`/`scale.after` SQL file failed (invalid input).
    Setup(SetupError),
    /// The model does not fit the database (file and line).
    Model(Vec<InputError>),
    /// The scale is not usable.
    Usage(String),
    /// The database failed while loading.
    Database(String),
}

fn db_err(e: sqlx::Error) -> GenError {
    GenError::Database(crate::db::describe_error(&e).0)
}

async fn run_files(
    pool: &PgPool,
    root: &Path,
    files: &[std::path::PathBuf],
) -> Result<(), GenError> {
    for f in files {
        setup::run_sql_file(pool, root, f)
            .await
            .map_err(GenError::Setup)?;
    }
    Ok(())
}

/// Checks the model against the schema in `pool`: how each table is written.
pub async fn targets(pool: &PgPool, model: &model::Model) -> Result<schema::Targets, GenError> {
    let cat = schema::catalog(pool, model).await.map_err(db_err)?;
    schema::check(model, &cat).map_err(GenError::Model)
}

/// Generates the suite's dataset into `pool` (which must not hold it yet).
pub async fn generate(
    pool: &PgPool,
    root: &Path,
    cfg: &ScaleConfig,
    opts: &GenOptions,
) -> Result<GenStats, GenError> {
    let started = Instant::now();
    let plan =
        Arc::new(Plan::new(cfg.model.clone(), opts.scale, opts.seed).map_err(GenError::Usage)?);
    run_files(pool, root, &cfg.before).await?;
    let targets = Arc::new(targets(pool, &cfg.model).await?);
    let rows_started = Instant::now();
    let key_checks = foreign_keys::plan_checks(pool, &cfg.model).await?;
    let deferred = matches!(key_checks, foreign_keys::KeyChecks::Deferred(_));
    let bar = progress_bar(opts.progress, &plan);
    let rows = load::load(
        pool,
        plan.clone(),
        targets,
        opts.connections.max(1),
        deferred,
        &bar,
    )
    .await;
    bar.finish_and_clear();
    let rows = rows?;
    if let foreign_keys::KeyChecks::Deferred(keys) = &key_checks {
        foreign_keys::verify(pool, &cfg.model, keys).await?;
    }
    let rows_ms = rows_started.elapsed().as_secs_f64() * 1e3;
    run_files(pool, root, &cfg.after).await?;
    run_files(pool, root, &cfg.reload).await?;
    let total_ms = started.elapsed().as_secs_f64() * 1e3;
    let relation_rows = count_relations(pool, &cfg.model).await.map_err(db_err)?;
    Ok(GenStats {
        scale: opts.scale,
        seed: opts.seed,
        rows,
        relation_rows,
        rows_ms,
        total_ms,
        key_checks,
    })
}

fn progress_bar(show: bool, plan: &Plan) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let total: u64 = (0..plan.model.tables.len())
        .filter(|&t| plan.model.tables[t].load)
        .map(|t| plan.expected_rows(t))
        .sum();
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template(
            "generating {bar:30} {human_pos}/{human_len} rows  {per_sec}  eta {eta}",
        )
        .expect("static template"),
    );
    bar
}

/// The model's loaded tables, by name.
pub fn loaded_tables(model: &model::Model) -> Vec<String> {
    model
        .tables
        .iter()
        .filter(|t| t.load)
        .map(|t| t.name.clone())
        .collect()
}

/// Row counts of the model's tables and of every populated materialized
/// view in their schemas.
pub async fn count_relations(
    pool: &PgPool,
    model: &model::Model,
) -> Result<BTreeMap<String, u64>, sqlx::Error> {
    let mut names = loaded_tables(model);
    let schemas: Vec<String> = names
        .iter()
        .filter_map(|n| n.split_once('.').map(|(s, _)| s.to_string()))
        .collect();
    let views: Vec<String> = sqlx::query_scalar(
        "select schemaname || '.' || matviewname from pg_matviews \
         where schemaname = any($1) and ispopulated order by 1",
    )
    .bind(&schemas)
    .fetch_all(pool)
    .await?;
    names.extend(views);
    let mut out = BTreeMap::new();
    for n in names {
        let count: i64 =
            sqlx::query_scalar(&format!("select count(*) from {}", load::quote_name(&n)))
                .fetch_one(pool)
                .await?;
        out.insert(n, count as u64);
    }
    Ok(out)
}
