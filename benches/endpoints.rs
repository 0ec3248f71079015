//! Benchmarks of the suite's endpoint SQL itself, against a real PostgreSQL.
//!
//! One throwaway embedded cluster is started through the library
//! (`Database::open(&TargetSpec::Embedded, ..)`), the suite at the repository
//! root is loaded and its fixtures are applied with `db::setup::apply`. For
//! every query check, the statement of its **first parameter set** is executed
//! as assay executes it (text binds, `$n::type` casts, all rows fetched) and
//! measured as `fixtures/<check>`. Then the `dashboards` schema is dropped, the
//! suite's dataset is generated at `ASSAY_BENCH_SCALE` times the fixture
//! volume (default 10; `0` skips this part) with `gen::generate`, and the same
//! statements are measured again as `scale<N>/<check>`. The cluster is stopped
//! at the end.
//!
//! What is timed is the round trip of one statement on a warm connection of a
//! pool (prepare is cached by sqlx after the first run): the query's own cost
//! plus fetching its rows, nothing of assay's checks.
//!
//! ```sh
//! cargo bench --bench endpoints                                # everything
//! ASSAY_BENCH_SCALE=100 cargo bench --bench endpoints          # a bigger dataset
//! cargo bench --bench endpoints -- --quick                     # a fast sanity pass
//! cargo bench --bench endpoints -- 'fixtures/kpi'              # a filter (regex)
//! ```
//!
//! Baselines: `cargo bench --bench endpoints -- --save-baseline main` saves the
//! current numbers under the name `main`; after a change,
//! `cargo bench --bench endpoints -- --baseline main` compares against it and
//! reports every query that got faster or slower (criterion keeps baselines in
//! `$CARGO_TARGET_DIR/criterion`). Compare at the same `ASSAY_BENCH_SCALE`:
//! the scale is part of the benchmark names.

use assay::db::{setup, Database, TargetSpec};
use assay::engine::query_unit::binds_for;
use assay::gen::{self, GenOptions};
use assay::suite::{load_suite, LoadOptions, Suite};
use criterion::{black_box, Criterion};
use sqlx::postgres::PgPool;
use std::path::Path;
use std::time::Duration;
use tokio::runtime::Runtime;

/// Connections loading `fact_leads` in parallel while generating (2 cores).
const GEN_CONNECTIONS: usize = 2;

/// One benchmark per query check: its first parameter set, as `group/<check>`.
struct Statement {
    check: String,
    sql: String,
    binds: Vec<assay::db::bind::Bind>,
}

fn statements(suite: &Suite) -> Vec<Statement> {
    suite
        .query_checks
        .iter()
        .filter_map(|check| {
            let set = check.sets.first()?;
            Some(Statement {
                check: check.name.clone(),
                sql: check.statement.sql.clone(),
                binds: binds_for(&check.statement, set, &check.types),
            })
        })
        .collect()
}

async fn execute(pool: &PgPool, s: &Statement) -> usize {
    let q = assay::db::bind::bind_all(sqlx::query(&s.sql), &s.binds);
    match q.fetch_all(pool).await {
        Ok(rows) => rows.len(),
        Err(e) => panic!("{} failed: {}", s.check, assay::db::describe_error(&e).0),
    }
}

fn bench_group(c: &mut Criterion, rt: &Runtime, pool: &PgPool, group: &str, list: &[Statement]) {
    let mut g = c.benchmark_group(group);
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    for s in list {
        // One run outside the measurement: fails loudly on a broken query
        // and warms the statement cache before criterion's own warm-up.
        rt.block_on(execute(pool, s));
        g.bench_function(s.check.as_str(), |b| {
            b.to_async(rt)
                .iter(|| async { black_box(execute(pool, s).await) })
        });
    }
    g.finish();
}

fn scale_from_env() -> f64 {
    match std::env::var("ASSAY_BENCH_SCALE") {
        Ok(v) => v.trim().parse().unwrap_or_else(|_| {
            eprintln!("ASSAY_BENCH_SCALE must be a number, not `{v}`");
            std::process::exit(2)
        }),
        Err(_) => 10.0,
    }
}

fn main() {
    let scale = scale_from_env();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let loaded = load_suite(root, &LoadOptions { sql_dir: None }).unwrap_or_else(|errors| {
        for e in errors {
            eprintln!("{e}");
        }
        std::process::exit(2)
    });
    for e in &loaded.errors {
        eprintln!("warning: {e}");
    }
    let suite = loaded.suite;
    let list = statements(&suite);
    let mut c = Criterion::default().configure_from_args();

    let rt = Runtime::new().expect("tokio runtime");
    let db = rt
        .block_on(Database::open(
            &TargetSpec::Embedded,
            suite.config.postgres_version,
            GEN_CONNECTIONS as u32 + 1,
        ))
        .unwrap_or_else(|e| {
            eprintln!("cannot start the embedded cluster: {e}");
            std::process::exit(3)
        });
    // From here on every failure must still stop the cluster: run the
    // benchmarks under catch_unwind and close the database either way.
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        run(&mut c, &rt, &db.pool, &suite, &list, scale)
    }));
    rt.block_on(db.close());
    match outcome {
        Ok(Ok(())) => c.final_summary(),
        Ok(Err(e)) => {
            eprintln!("{e}");
            std::process::exit(1)
        }
        Err(_) => std::process::exit(101),
    }
}

fn run(
    c: &mut Criterion,
    rt: &Runtime,
    pool: &PgPool,
    suite: &Suite,
    list: &[Statement],
    scale: f64,
) -> Result<(), String> {
    rt.block_on(setup::apply(pool, suite)).map_err(|e| {
        format!(
            "fixtures failed: {}{}: {}",
            e.file.display(),
            e.line.map(|l| format!(":{l}")).unwrap_or_default(),
            e.message
        )
    })?;
    bench_group(c, rt, pool, "fixtures", list);

    if scale <= 0.0 {
        return Ok(());
    }
    let cfg = suite
        .config
        .scale
        .clone()
        .ok_or("assay.yaml has no `scale:` section: cannot generate a dataset")?;
    let stats = rt.block_on(async {
        sqlx::raw_sql("DROP SCHEMA IF EXISTS dashboards CASCADE")
            .execute(pool)
            .await
            .map_err(|e| format!("cannot drop the fixtures: {e}"))?;
        let opts = GenOptions {
            scale,
            seed: cfg.seed,
            connections: GEN_CONNECTIONS,
            progress: false,
        };
        gen::generate(pool, &suite.root, &cfg, &opts)
            .await
            .map_err(|e| format!("generating scale {scale} failed: {e:?}"))
    })?;
    eprintln!(
        "generated scale {scale}: {} rows in {:.1} s",
        stats.rows,
        stats.total_ms / 1e3
    );
    bench_group(c, rt, pool, &format!("scale{scale}"), list);
    Ok(())
}
