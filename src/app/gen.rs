//! `assay gen`: the suite's dataset at a scale, into a throwaway embedded
//! cluster (to measure generation) or a writable database you name.

use super::load;
use super::seed::{clear_schemas, schemas_created_by, writable_pool};
use crate::cli::GenArgs;
use crate::db::{Database, TargetSpec};
use crate::error::{exit_code, AppError, InputError};
use crate::gen::{self, plan::Plan, versus_psql, GenError, GenOptions, GenStats};
use crate::suite::{ScaleConfig, Suite};
use std::io::IsTerminal;
use std::path::Path;

/// The suite's `scale:` section, or a usage error saying how to add one.
pub(super) fn scale_config(suite: &Suite) -> Result<ScaleConfig, AppError> {
    suite.config.scale.clone().ok_or_else(|| {
        AppError::Usage(
            "assay.yaml has no `scale:` section; add one naming a data model, e.g.\n  \
             scale: {model: model.yaml, before: [sql/schema.sql], after: [sql/indexes.sql]}\n\
             (see docs/check-files.md, \"Scale and bench\")"
                .into(),
        )
    })
}

pub(super) fn gen_error(e: GenError) -> AppError {
    match e {
        GenError::Setup(e) => AppError::Input(vec![InputError::new(
            &e.file,
            format!("scale SQL failed: {}", e.message),
        )
        .at(e.line, None)]),
        GenError::Model(errors) => AppError::Input(errors),
        GenError::Usage(m) => AppError::Usage(m),
        GenError::Database(m) => AppError::Infrastructure(format!("generation failed: {m}")),
    }
}

pub(super) fn default_connections() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .max(2)
}

pub async fn gen(root: &Path, args: GenArgs) -> Result<i32, AppError> {
    if args.database_url.is_none() {
        crate::db::embedded::check_environment().map_err(AppError::Usage)?;
    }
    let suite = load(root, None)?.suite;
    let cfg = scale_config(&suite)?;
    let seed = args.seed.unwrap_or(cfg.seed);
    let plan = Plan::new(cfg.model.clone(), args.scale, seed).map_err(AppError::Usage)?;
    if args.versus_psql {
        if args.database_url.is_some() {
            return Err(AppError::Usage(
                "--versus-psql runs in a throwaway embedded cluster; drop --database-url".into(),
            ));
        }
        if cfg.psql_equivalent.is_none() {
            return Err(AppError::Usage(
                "--versus-psql needs `scale.psql_equivalent` in assay.yaml (a psql script \
                 producing the same volume with generate_series)"
                    .into(),
            ));
        }
    }
    let connections = args.connections.unwrap_or_else(default_connections).max(1);
    let opts = GenOptions {
        scale: args.scale,
        seed,
        connections,
        progress: !args.no_progress && std::io::stderr().is_terminal(),
    };
    let schemas = schemas_created_by(&suite.root, cfg.before.iter().map(|p| p.as_path()));

    match args.database_url.clone() {
        Some(url) => {
            let (pool, label) = writable_pool(Some(url), connections as u32 + 1).await?;
            let result = async {
                clear_schemas(&pool, &label, &schemas, args.replace).await?;
                gen::generate(&pool, &suite.root, &cfg, &opts)
                    .await
                    .map_err(gen_error)
            }
            .await;
            pool.close().await;
            print_stats(&result?, &label, connections, false);
            Ok(exit_code::OK)
        }
        None => {
            let db = Database::open(
                &TargetSpec::Embedded,
                suite.config.postgres_version,
                connections as u32 + 1,
            )
            .await
            .map_err(AppError::Infrastructure)?;
            let result = async {
                let stats = gen::generate(&db.pool, &suite.root, &cfg, &opts)
                    .await
                    .map_err(gen_error)?;
                let versus = match (&cfg.psql_equivalent, args.versus_psql) {
                    (Some(script), true) => {
                        let (psql, port) = db.embedded_psql().ok_or_else(|| {
                            AppError::Infrastructure("no embedded cluster for psql".into())
                        })?;
                        let target = versus_psql::PsqlTarget { psql: &psql, port };
                        Some(
                            versus_psql::run(&target, &suite.root, &cfg, script, &plan)
                                .await
                                .map_err(AppError::Infrastructure)?,
                        )
                    }
                    _ => None,
                };
                Ok::<_, AppError>((stats, versus))
            }
            .await;
            let label = db.label.clone();
            db.close().await;
            let (stats, versus) = result?;
            print_stats(&stats, &label, connections, true);
            if let Some(v) = versus {
                print_versus(&stats, &v);
            }
            Ok(exit_code::OK)
        }
    }
}

/// Generates the suite's dataset at `scale` into `db` (which must not hold
/// it yet) and settles it (VACUUM ANALYZE); returns what was generated, in
/// words, for reports.
pub(super) async fn generate_into(
    db: &Database,
    suite: &Suite,
    scale: f64,
    seed: Option<u64>,
) -> Result<String, AppError> {
    let cfg = scale_config(suite)?;
    let opts = GenOptions {
        scale,
        seed: seed.unwrap_or(cfg.seed),
        connections: default_connections(),
        progress: false,
    };
    let stats = gen::generate(&db.pool, &suite.root, &cfg, &opts)
        .await
        .map_err(gen_error)?;
    sqlx::raw_sql("VACUUM (ANALYZE)")
        .execute(&db.pool)
        .await
        .map_err(|e| AppError::infra(crate::db::describe_error(&e).0))?;
    let rows: u64 = stats.relation_rows.values().sum();
    Ok(format!("data generated at scale {scale} ({rows} rows)"))
}

fn print_stats(s: &GenStats, label: &str, connections: usize, throwaway: bool) {
    let where_ = if throwaway {
        format!("{label} (throwaway: removed on exit)")
    } else {
        label.to_string()
    };
    crate::say!(
        "generated scale {} (seed {}) into {where_}",
        s.scale,
        s.seed
    );
    let width = s.relation_rows.keys().map(String::len).max().unwrap_or(0);
    for (rel, n) in &s.relation_rows {
        crate::say!("  {rel:<width$}  {n:>12}");
    }
    let rows = s.rows;
    crate::say!(
        "rows: {rows} in {:.2} s ({:.0} rows/s), binary COPY over {connections} connections; \
         with schema, indexes, view refresh and ANALYZE: {:.2} s",
        s.rows_ms / 1e3,
        rows as f64 / (s.rows_ms / 1e3).max(1e-9),
        s.total_ms / 1e3
    );
    crate::say!("{}", s.key_checks.describe());
}

fn print_versus(s: &GenStats, v: &versus_psql::PsqlRun) {
    let psql_rows: u64 = v.relation_rows.values().sum();
    crate::say!(
        "psql + generate_series (scale.psql_equivalent), same volume: {psql_rows} rows in {:.2} s ({:.0} rows/s)",
        v.rows_ms / 1e3,
        psql_rows as f64 / (v.rows_ms / 1e3).max(1e-9)
    );
    crate::say!(
        "ratio: psql / assay = {:.2} (assay is {:.1}x {})",
        v.rows_ms / s.rows_ms,
        (v.rows_ms / s.rows_ms).max(s.rows_ms / v.rows_ms),
        if v.rows_ms >= s.rows_ms {
            "faster"
        } else {
            "SLOWER"
        }
    );
}
