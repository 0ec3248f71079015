//! `assay seed` and the writable-database helpers it shares with `gen`:
//! which schemas a suite creates, dropping them on `--replace`.

use super::load;
use crate::cli;
use crate::db;
use crate::error::{exit_code, AppError, InputError};
use crate::suite::{self, Suite};
use std::path::Path;
use std::time::Instant;

/// Schemas that SQL files create (`create schema [if not exists] x`).
pub(super) fn schemas_created_by<'a>(
    root: &Path,
    files: impl IntoIterator<Item = &'a Path>,
) -> Vec<String> {
    let re = regex::Regex::new(
        r#"(?i)create\s+schema\s+(?:if\s+not\s+exists\s+)?"?([A-Za-z_][A-Za-z0-9_$]*)"?"#,
    )
    .expect("static regex");
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(root.join(f)).unwrap_or_default();
        for c in re.captures_iter(&text) {
            if !out.contains(&c[1].to_string()) {
                out.push(c[1].to_string());
            }
        }
    }
    out
}

/// Schemas the suite's setup SQL creates.
fn suite_schemas(suite: &Suite) -> Vec<String> {
    let files = suite.config.setup.iter().filter_map(|step| match step {
        suite::SetupStep::Sql(f) => Some(f.as_path()),
        suite::SetupStep::Csv { .. } => None,
    });
    schemas_created_by(&suite.root, files)
}

/// Drops `schemas` where they exist (only with `replace`; otherwise an
/// existing schema is a usage error naming the way out).
pub(super) async fn clear_schemas(
    pool: &sqlx::PgPool,
    label: &str,
    schemas: &[String],
    replace: bool,
) -> Result<(), AppError> {
    let existing: Vec<String> =
        sqlx::query_scalar("select nspname::text from pg_namespace where nspname = any($1)")
            .bind(schemas)
            .fetch_all(pool)
            .await
            .map_err(|e| AppError::Infrastructure(db::describe_error(&e).0))?;
    if !existing.is_empty() && !replace {
        return Err(AppError::Usage(format!(
            "{label} already holds the suite's schema ({}); pass --replace to drop and reload it",
            existing.join(", ")
        )));
    }
    db::setup::drop_schemas(pool, &existing)
        .await
        .map_err(|e| AppError::Infrastructure(db::describe_error(&e).0))
}

/// A writable database by URL (else DATABASE_URL, else the libpq environment).
pub(super) async fn writable_pool(
    url: Option<String>,
    connections: u32,
) -> Result<(sqlx::PgPool, String), AppError> {
    let url = url
        .or_else(|| std::env::var("DATABASE_URL").ok())
        .unwrap_or_default();
    let opts = db::url::options(&url).map_err(AppError::Usage)?;
    let label = db::url::label(&opts);
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(connections.max(1))
        .connect_with(opts)
        .await
        .map_err(|e| {
            AppError::Infrastructure(db::url::redact(&format!("cannot connect to {label}: {e}")))
        })?;
    Ok((pool, label))
}

pub(super) async fn seed(root: &Path, args: cli::SeedArgs) -> Result<i32, AppError> {
    let loaded = load(root, None)?;
    let suite = loaded.suite;
    let (pool, label) = writable_pool(args.database_url.clone(), 2).await?;
    if let Err(e) = clear_schemas(&pool, &label, &suite_schemas(&suite), args.replace).await {
        pool.close().await;
        return Err(e);
    }
    let started = Instant::now();
    if let Err(e) = db::setup::apply(&pool, &suite).await {
        pool.close().await;
        return Err(AppError::Input(vec![InputError::new(
            &e.file,
            format!("setup failed: {}", e.message),
        )
        .at(e.line, None)]));
    }
    pool.close().await;
    crate::say!(
        "seeded {label} with `{}` ({} setup steps, {:.2} s)",
        suite.config.name,
        suite.config.setup.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(exit_code::OK)
}
