//! `assay bench`: generate each scale in a throwaway embedded cluster,
//! measure, compare with the committed baselines, forecast, report.

use super::gen::{default_connections, gen_error, scale_config};
use super::load;
use super::seed::schemas_created_by;
use crate::bench::assemble::{Judge, Thresholds};
use crate::bench::{self, baseline, model::BenchReport, run::BenchOptions};
use crate::cli::{self, BenchArgs};
use crate::db::{Database, TargetSpec};
use crate::engine::Selection;
use crate::error::{exit_code, AppError};
use crate::report::Format;
use crate::suite::Environment;
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

/// The reports asked for; bench has no JUnit report.
fn report_specs(
    formats: &[String],
    output: Option<&PathBuf>,
) -> Result<Vec<cli::FormatSpec>, AppError> {
    let specs = super::reports::report_specs(formats, output, "json=bench.json")?;
    if specs.iter().any(|s| s.format == Format::Junit) {
        return Err(AppError::Usage(
            "bench reports come as human, json or markdown (junit is for `assay run`)".into(),
        ));
    }
    Ok(specs)
}

fn scales(given: &[f64]) -> Result<Vec<f64>, AppError> {
    let mut v = Vec::new();
    for &s in given {
        crate::gen::plan::check_scale(s).map_err(|e| AppError::Usage(format!("--scale: {e}")))?;
        v.push(s);
    }
    v.sort_by(f64::total_cmp);
    v.dedup();
    if v.is_empty() {
        return Err(AppError::Usage(
            "--scale needs at least one scale, e.g. --scale 1,10,100".into(),
        ));
    }
    Ok(v)
}

pub async fn bench(root: &std::path::Path, args: BenchArgs) -> Result<i32, AppError> {
    if args.versus_psql {
        return super::versus_psql::versus_psql(root, args).await;
    }
    let loaded = load(root, args.sql_dir.clone())?;
    if !loaded.errors.is_empty() {
        // A bench of a partly loaded suite would silently measure less.
        return Err(AppError::Input(loaded.errors));
    }
    let suite = loaded.suite;
    // An existing database is measured as it is: no data model needed.
    let cfg = match &args.database_url {
        Some(_) => suite.config.scale.clone(),
        None => Some(scale_config(&suite)?),
    };
    if args.database_url.is_some() && !args.scales.is_empty() {
        return Err(AppError::Usage(
            "--scale generates data; with --database-url the database is measured as it is".into(),
        ));
    }
    if args.database_url.is_some() && args.save_baseline {
        return Err(AppError::Usage(
            "baselines are kept for generated scales; drop --save-baseline with --database-url"
                .into(),
        ));
    }
    let scales = if args.scales.is_empty() {
        vec![1.0, 10.0, 100.0]
    } else {
        scales(&args.scales)?
    };
    // An existing database is a production target: only the checks that
    // apply there; generated data is the fixtures' world.
    let environment = if args.database_url.is_some() {
        Environment::Production
    } else {
        Environment::Fixtures
    };
    let specs = report_specs(&args.formats, args.output.as_ref())?;
    let bench_cfg = &suite.config.bench;
    let max_slowdown = args.max_slowdown.unwrap_or(bench_cfg.max_slowdown);
    if !(max_slowdown.is_finite() && max_slowdown >= 1.0) {
        return Err(AppError::Usage(
            "--max-slowdown must be a number of at least 1".into(),
        ));
    }
    let timeout = match &args.timeout {
        None => None,
        Some(t) => Some(
            crate::suite::duration::parse_duration(t)
                .and_then(|d| crate::suite::duration::check_budget(d).map(|_| d))
                .map_err(|e| AppError::Usage(format!("--timeout: {e}")))?,
        ),
    };
    if args.database_url.is_none() {
        crate::db::embedded::check_environment().map_err(AppError::Usage)?;
    }
    let selection = Selection {
        filter: args.select.filter.clone(),
        tags: args.select.tags.clone(),
        partition: None,
    };
    let checks: Vec<_> = suite
        .query_checks
        .iter()
        .filter(|c| selection.matches(&c.name, &c.tags))
        .filter(|c| c.environments.contains(&environment))
        .collect();
    if checks.is_empty() {
        return Err(AppError::Usage(
            "no query check matches the selection (see `assay list`)".into(),
        ));
    }
    // Baselines are read before anything runs: a broken file is an input error.
    let baselines_dir = suite.root.join(&bench_cfg.baselines_dir);
    let mut baselines = BTreeMap::new();
    let mut errors = Vec::new();
    for c in &checks {
        match baseline::load(&baselines_dir, &c.name) {
            Ok(b) => {
                baselines.insert(c.name.clone(), b);
            }
            // The message names the file, line and column, and the fix.
            Err(m) => errors.push(m),
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Usage(errors.join("\n")));
    }

    let connections = default_connections();
    let progress = !args.no_progress && std::io::stderr().is_terminal();
    let opts = BenchOptions {
        scales,
        seed: args
            .seed
            .or(cfg.as_ref().map(|c| c.seed))
            .unwrap_or_default(),
        connections,
        warmup_runs: args.warmup.unwrap_or(bench_cfg.warmup_runs),
        timed_runs: args.runs.unwrap_or(bench_cfg.timed_runs).max(1),
        timeout,
        progress,
        schemas: cfg.as_ref().map_or_else(Vec::new, |c| {
            schemas_created_by(&suite.root, c.before.iter().map(|p| p.as_path()))
        }),
    };
    let judge = Judge {
        baselines: &baselines,
        thresholds: Thresholds {
            max_slowdown,
            min_slowdown_ms: bench_cfg.min_slowdown_ms,
            relative: args.relative_slowdown,
        },
        accepting: args.save_baseline,
    };
    let (scale_infos, measurements) = match &args.database_url {
        Some(url) => measure_existing(url, &suite, cfg.as_ref(), &checks, &opts, &judge).await?,
        None => {
            let cfg = cfg.as_ref().expect("required without --database-url");
            let db = Database::open(
                &TargetSpec::Embedded,
                suite.config.postgres_version,
                connections as u32 + 1,
            )
            .await
            .map_err(AppError::Infrastructure)?;
            let measured =
                bench::run::run(&db.pool, &suite, cfg, &checks, &opts, &judge, |e| match e {
                    bench::run::BenchEvent::Generated(info) => {
                        if progress {
                            crate::tell!(
                                "scale {}: {} rows in {} generated in {:.1} s",
                                info.scale,
                                info.volume,
                                cfg.volume,
                                info.generate_ms / 1e3
                            );
                        }
                    }
                })
                .await;
            db.close().await;
            measured.map_err(gen_error)?
        }
    };

    let volume_relation = cfg.as_ref().map_or(String::new(), |c| c.volume.clone());
    let volume_per_scale = volume_per_scale(cfg.as_ref(), &scale_infos);
    let report = bench::assemble::assemble(
        &suite.config.name,
        (&volume_relation, volume_per_scale),
        scale_infos,
        measurements,
        &judge,
    );
    write_reports(&report, &specs)?;
    if args.save_baseline {
        save_baselines(&report, &baselines_dir)?;
    }
    Ok(if report.failures() > 0 {
        exit_code::CHECK_FAILED
    } else {
        exit_code::OK
    })
}

/// Measures an existing database (read-only sessions, like `run` on a url
/// target) at the volume it holds.
async fn measure_existing(
    url: &str,
    suite: &crate::suite::Suite,
    cfg: Option<&crate::suite::ScaleConfig>,
    checks: &[&crate::suite::QueryCheck],
    opts: &BenchOptions,
    judge: &Judge<'_>,
) -> Result<(Vec<bench::model::ScaleInfo>, Vec<bench::model::Measurement>), AppError> {
    let db = Database::open(
        &TargetSpec::Url(url.to_string()),
        suite.config.postgres_version,
        1,
    )
    .await
    .map_err(AppError::Infrastructure)?;
    let result = async {
        let relations = cfg.map_or_else(Vec::new, |c| crate::gen::loaded_tables(&c.model));
        let volume = cfg.map(|c| c.volume.as_str());
        let per_scale = volume_per_scale(cfg, &[]);
        let info = bench::run::existing_volume(&db.pool, &relations, volume, per_scale)
            .await
            .map_err(|m| AppError::Infrastructure(format!("{}: {m}", db.label)))?;
        let units = bench::run::units(checks);
        let measurements = bench::run::measure_all(&db.pool, &units, &info, opts, judge).await;
        Ok((vec![info], measurements))
    }
    .await;
    db.close().await;
    result
}

/// Rows of the volume relation per unit of scale: from the smallest
/// generated scale, else from the model's plan at scale 1 (when the volume
/// relation is one of its tables), else unknown (0).
fn volume_per_scale(
    cfg: Option<&crate::suite::ScaleConfig>,
    scales: &[bench::model::ScaleInfo],
) -> f64 {
    if let Some(s) = scales.iter().find(|s| s.scale > 0.0 && s.volume > 0) {
        return s.volume as f64 / s.scale;
    }
    let Some(cfg) = cfg else { return 0.0 };
    let Some(t) = cfg.model.table(&cfg.volume) else {
        return 0.0;
    };
    crate::gen::plan::Plan::new(cfg.model.clone(), 1.0, cfg.seed)
        .map_or(0.0, |p| p.expected_rows(t) as f64)
}

fn write_reports(report: &BenchReport, specs: &[cli::FormatSpec]) -> Result<(), AppError> {
    let no_color = crate::report::no_color();
    for s in specs {
        let text = match s.format {
            Format::Human => {
                let color = s.path.is_none() && std::io::stdout().is_terminal() && !no_color;
                bench::report::human(report, color)
            }
            Format::Json => bench::report::json(report),
            Format::Markdown => bench::report::markdown(report),
            Format::Junit => unreachable!("rejected by report_specs"),
        };
        match &s.path {
            None => {
                let mut out = crate::report::sink::Stdout;
                out.write_all(text.as_bytes())
                    .and_then(|_| out.flush())
                    .map_err(|e| AppError::Infrastructure(format!("cannot write report: {e}")))?;
            }
            Some(p) => crate::report::sink::write_atomic(p, text.as_bytes()).map_err(|e| {
                AppError::Infrastructure(format!("cannot write {}: {e}", p.display()))
            })?,
        }
    }
    Ok(())
}

fn save_baselines(report: &BenchReport, dir: &std::path::Path) -> Result<(), AppError> {
    let mut by_check: BTreeMap<&str, Vec<&bench::model::Measurement>> = BTreeMap::new();
    for r in &report.rows {
        by_check
            .entry(&r.measurement.check)
            .or_default()
            .push(&r.measurement);
    }
    for (check, ms) in by_check {
        let path = baseline::save(dir, check, &ms).map_err(AppError::Usage)?;
        crate::tell!("baseline saved: {}", path.display());
    }
    Ok(())
}
