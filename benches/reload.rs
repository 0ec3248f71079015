//! How fast a small generated dataset replaces the previous one in the
//! throwaway cluster: TRUNCATE the model's tables, COPY a new dataset (a new
//! seed each time, planned and generated inside the timing) and run the
//! suite's light `scale.reload` hook (view refresh) on the same connection,
//! as the search's `Lab::load` does. This is the step a property search
//! over generated data repeats for every dataset it tries.
//!
//! ```sh
//! cargo bench --bench reload                                   # the analytics suite, ~200 rows
//! ASSAY_RELOAD_SUITE=examples/shop cargo bench --bench reload  # another suite
//! ASSAY_RELOAD_SCALE=0.05 cargo bench --bench reload           # a bigger dataset
//! ```

use assay::db::{setup, Database, TargetSpec};
use assay::gen::{self, load, plan::Plan};
use assay::suite::{load_suite, LoadOptions};
use criterion::Criterion;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::runtime::Runtime;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(std::env::var("ASSAY_RELOAD_SUITE").unwrap_or_else(|_| ".".into()));
    let scale: f64 = std::env::var("ASSAY_RELOAD_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0.01);
    let suite = load_suite(&root, &LoadOptions { sql_dir: None })
        .unwrap_or_else(|errors| {
            for e in errors {
                eprintln!("{e}");
            }
            std::process::exit(2)
        })
        .suite;
    let cfg = suite.config.scale.clone().unwrap_or_else(|| {
        eprintln!("{}: no `scale:` section", root.display());
        std::process::exit(2)
    });
    let rt = Runtime::new().expect("tokio runtime");
    let db = rt
        .block_on(Database::open(
            &TargetSpec::Embedded,
            suite.config.postgres_version,
            2,
        ))
        .unwrap_or_else(|e| {
            eprintln!("cannot start the embedded cluster: {e}");
            std::process::exit(3)
        });
    let mut c = Criterion::default()
        .measurement_time(Duration::from_secs(5))
        .configure_from_args();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // The pooled connection goes back to its pool on drop: inside the runtime.
        let _runtime = rt.enter();
        rt.block_on(async {
            for f in &cfg.before {
                setup::run_sql_file(&db.pool, &suite.root, f).await.unwrap();
            }
        });
        let targets = rt
            .block_on(gen::targets(&db.pool, &cfg.model))
            .unwrap_or_else(|e| panic!("{e:?}"));
        let mut conn = rt.block_on(db.pool.acquire()).unwrap();
        let rows = Plan::new(cfg.model.clone(), scale, 1)
            .unwrap()
            .dataset()
            .rows();
        eprintln!(
            "{}: a dataset of about {rows} rows over {} tables (scale {scale})",
            suite.config.name,
            gen::loaded_tables(&cfg.model).len()
        );
        // Read once, as the search reads them.
        let hook: Vec<setup::SqlScript> = cfg
            .reload
            .iter()
            .map(|f| setup::SqlScript::read(&suite.root, f).unwrap())
            .collect();
        let seed = AtomicU64::new(1);
        let model = Arc::clone(&cfg.model);
        c.bench_function(&format!("reload/{}/{rows}_rows", suite.config.name), |b| {
            b.iter(|| {
                let plan =
                    Plan::new(model.clone(), scale, seed.fetch_add(1, Ordering::Relaxed)).unwrap();
                rt.block_on(async {
                    load::replace(&mut conn, &plan, &targets).await.unwrap();
                    for f in &hook {
                        f.run_on(&mut conn).await.unwrap();
                    }
                });
            })
        });
        // The same with the hook on another pooled connection (as the
        // search did before): the second backend costs the difference.
        c.bench_function(
            &format!("reload/{}/hook_on_another_connection", suite.config.name),
            |b| {
                b.iter(|| {
                    let plan =
                        Plan::new(model.clone(), scale, seed.fetch_add(1, Ordering::Relaxed))
                            .unwrap();
                    rt.block_on(async {
                        load::replace(&mut conn, &plan, &targets).await.unwrap();
                        for f in &cfg.reload {
                            setup::run_sql_file(&db.pool, &suite.root, f).await.unwrap();
                        }
                    });
                })
            },
        );
        // The parts: the rows alone, and the reload hook alone.
        c.bench_function(&format!("reload/{}/rows_only", suite.config.name), |b| {
            b.iter(|| {
                let plan =
                    Plan::new(model.clone(), scale, seed.fetch_add(1, Ordering::Relaxed)).unwrap();
                rt.block_on(load::replace(&mut conn, &plan, &targets))
                    .unwrap();
            })
        });
        c.bench_function(&format!("reload/{}/hook_only", suite.config.name), |b| {
            b.iter(|| {
                rt.block_on(async {
                    for f in &hook {
                        f.run_on(&mut conn).await.unwrap();
                    }
                })
            })
        });
    }));
    rt.block_on(db.close());
    match outcome {
        Ok(()) => c.final_summary(),
        Err(_) => std::process::exit(101),
    }
}
