//! `assay bench --versus-psql`: the harness against its floor. On one warm
//! database (the suite's fixtures in a throwaway cluster, a generated
//! `--scale`, or `--database-url`), `assay run` records every statement it
//! sends (`--log-statements`); psql then runs exactly those statements, and
//! the two are timed as whole processes, alternating, round after round.
//! Figures are medians of the per-round ratios (assay / psql), so a noisy
//! machine slows both sides of a pair alike.

use super::load;
use crate::cli::BenchArgs;
use crate::db::{fixtures, Database, TargetSpec};
use crate::error::{exit_code, AppError};
use crate::timing::percentile;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// One way of running assay that is compared with psql.
struct Variant {
    label: &'static str,
    args: Vec<String>,
    env: Vec<(&'static str, &'static str)>,
}

fn variants() -> Vec<Variant> {
    let v = |label, args: &[&str], env| Variant {
        label,
        args: args.iter().map(|s| s.to_string()).collect(),
        env,
    };
    vec![
        v("assay run --jobs 1 (defaults)", &["--jobs", "1"], vec![]),
        v(
            "assay run --jobs 2 (the default on 2 cores)",
            &["--jobs", "2"],
            vec![],
        ),
        v(
            "assay run --jobs 1 --timing-runs 3 (4 executions per query, the old default)",
            &["--jobs", "1", "--timing-runs", "3"],
            vec![],
        ),
        v(
            "assay run --jobs 1, generic plans allowed (plan_cache_mode auto)",
            &["--jobs", "1"],
            vec![("ASSAY_PLAN_CACHE_MODE", "auto")],
        ),
    ]
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    percentile(v, 0.5)
}

/// Runs `cmd` to completion and returns its wall time in seconds.
fn timed(cmd: &mut Command, what: &str) -> Result<f64, AppError> {
    let started = Instant::now();
    let out = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| AppError::infra(format!("cannot run {what}: {e}")))?;
    let secs = started.elapsed().as_secs_f64();
    // assay exits 1 when a check fails (scaled data does not match the
    // fixtures' snapshots): the timing still counts. 2 and 3 do not.
    match out.status.code() {
        Some(0) | Some(1) => Ok(secs),
        other => Err(AppError::infra(format!(
            "{what} failed ({other:?}): {}",
            crate::db::url::redact(&String::from_utf8_lossy(&out.stderr))
        ))),
    }
}

fn assay_run(root: &Path, url: &str, args: &BenchArgs, extra: &[String]) -> Command {
    let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("assay"));
    let mut cmd = Command::new(exe);
    cmd.arg("-C")
        .arg(root)
        .args([
            "run",
            "--no-progress",
            "--env",
            "fixtures",
            "--database-url",
            url,
        ])
        .args(extra)
        .env("CI", "1")
        .env("NO_COLOR", "1");
    if let Some(f) = &args.select.filter {
        cmd.args(["--filter", f]);
    }
    for t in &args.select.tags {
        cmd.args(["--tag", t]);
    }
    if let Some(d) = &args.sql_dir {
        cmd.arg("--sql-dir").arg(d);
    }
    cmd
}

pub(super) async fn versus_psql(root: &Path, args: BenchArgs) -> Result<i32, AppError> {
    let loaded = load(root, args.sql_dir.clone())?;
    if !loaded.errors.is_empty() {
        return Err(AppError::Input(loaded.errors));
    }
    let suite = loaded.suite;
    let rounds = args.rounds.unwrap_or(5).max(1);
    if args.scales.len() > 1 {
        return Err(AppError::Usage(
            "--versus-psql measures one database: give at most one --scale".into(),
        ));
    }
    // The database, warm: an existing one, or a throwaway cluster assay owns.
    let mut owned = None;
    let (url, what, psql_bin) = match (&args.database_url, args.scales.first()) {
        (Some(u), _) => {
            crate::db::url::options(u).map_err(AppError::Usage)?;
            (u.clone(), crate::db::url::redact(u), PathBuf::from("psql"))
        }
        (None, scale) => {
            crate::db::embedded::check_environment().map_err(AppError::Usage)?;
            let (db, what) = match scale {
                None => {
                    let (db, _) = fixtures::open(&TargetSpec::Embedded, &suite, 4, true)
                        .await
                        .map_err(|e| e.into_app_error())?;
                    (db, "the suite's fixtures".to_string())
                }
                Some(&s) => {
                    let db =
                        Database::open(&TargetSpec::Embedded, suite.config.postgres_version, 4)
                            .await
                            .map_err(AppError::Infrastructure)?;
                    match super::gen::generate_into(&db, &suite, s, args.seed).await {
                        Ok(what) => (db, what),
                        Err(e) => {
                            db.close().await;
                            return Err(e);
                        }
                    }
                }
            };
            let (psql, port) = db
                .embedded_psql()
                .ok_or_else(|| AppError::infra("no psql next to the server binaries"))?;
            owned = Some(db);
            (
                format!("postgres://postgres@127.0.0.1:{port}/postgres"),
                what,
                psql,
            )
        }
    };
    // A cold run (its own cluster, fixtures from the cache) only makes sense
    // against the suite's own fixtures.
    let cold = args.database_url.is_none() && args.scales.is_empty();
    let result = compare(root, &args, &url, rounds, &psql_bin, cold).await;
    if let Some(db) = owned {
        db.close().await;
    }
    let table = result?;
    crate::say!("assay versus psql on {what}, {rounds} rounds (whole processes, alternating)\n");
    crate::say!("{table}");
    Ok(exit_code::OK)
}

async fn compare(
    root: &Path,
    args: &BenchArgs,
    url: &str,
    rounds: u32,
    psql: &Path,
    cold: bool,
) -> Result<String, AppError> {
    let work = tempfile::Builder::new()
        .prefix("assay-versus-psql-")
        .tempdir()
        .map_err(|e| AppError::infra(e.to_string()))?;
    let script = work.path().join("statements.sql");
    // Capture what assay sends (this run also warms the server's caches).
    let capture = ["--jobs", "1", "--log-statements"]
        .iter()
        .map(|s| s.to_string())
        .chain([script.display().to_string()])
        .collect::<Vec<_>>();
    timed(&mut assay_run(root, url, args, &capture), "assay run")?;
    let statements = std::fs::read_to_string(&script)
        .map(|t| t.matches("\n;\n").count())
        .unwrap_or(0);
    let psql_cmd = || {
        let mut c = Command::new(psql);
        c.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-o", "/dev/null", "-f"])
            .arg(&script)
            .arg(url);
        c
    };
    timed(&mut psql_cmd(), "psql")?;
    let variants = variants();
    let cold_cmd = || {
        let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("assay"));
        let mut c = Command::new(exe);
        c.arg("-C")
            .arg(root)
            .args(["run", "--no-progress"])
            .env("CI", "1")
            .env("NO_COLOR", "1");
        c
    };
    if cold {
        // Fill the fixture cache, so that the rounds measure cold runs with it.
        timed(&mut cold_cmd(), "assay run (cold)")?;
    }
    let mut cold_times = Vec::new();
    let mut cold_ratios = Vec::new();
    let mut psql_times = Vec::new();
    let mut ratios: Vec<Vec<f64>> = vec![Vec::new(); variants.len()];
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); variants.len()];
    for _ in 0..rounds {
        for (i, v) in variants.iter().enumerate() {
            let p = timed(&mut psql_cmd(), "psql")?;
            let mut cmd = assay_run(root, url, args, &v.args);
            for (k, val) in &v.env {
                cmd.env(k, val);
            }
            let a = timed(&mut cmd, v.label)?;
            psql_times.push(p);
            times[i].push(a);
            ratios[i].push(a / p);
        }
        if cold {
            let p = timed(&mut psql_cmd(), "psql")?;
            let a = timed(&mut cold_cmd(), "assay run (cold)")?;
            psql_times.push(p);
            cold_times.push(a);
            cold_ratios.push(a / p);
        }
    }
    let mut out = format!(
        "{:<78} {:>10} {:>14}\n",
        "", "median s", "× psql (median of pairs)"
    );
    out.push_str(&format!(
        "{:<78} {:>10.3} {:>14}\n",
        format!("psql -f (the {statements} statements assay sends)"),
        median(&mut psql_times),
        "1.00×"
    ));
    for (i, v) in variants.iter().enumerate() {
        out.push_str(&format!(
            "{:<78} {:>10.3} {:>13.2}×\n",
            v.label,
            median(&mut times[i]),
            median(&mut ratios[i])
        ));
    }
    if cold {
        out.push_str(&format!(
            "{:<78} {:>10.3} {:>13.2}×\n",
            "assay run, cold (its own embedded cluster, fixtures from the cache, whole suite)",
            median(&mut cold_times),
            median(&mut cold_ratios)
        ));
    }
    Ok(out)
}
