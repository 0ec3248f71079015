//! `assay mutate --versus-spawn`: the same mutants again the way
//! scripts/mutate.py ran them (one `assay run --sql-dir <copy>` process per
//! mutant and check, each starting and loading its own cluster), with the
//! same parallelism; prints both wall times, the ratio, and whether the two
//! ways agree on every mutant.

use super::MutateArgs;
use crate::error::AppError;
use crate::mutate::model::{Report, Status};
use crate::suite::Suite;
use futures::StreamExt;
use std::path::Path;
use std::time::Instant;

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let target = to.join(e.file_name());
        if e.file_type()?.is_dir() {
            copy_tree(&e.path(), &target)?;
        } else {
            std::fs::copy(e.path(), &target)?;
        }
    }
    Ok(())
}

/// A `--filter` glob that matches exactly `name`.
fn exact_glob(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) => format!("[{c}]{}", chars.as_str()),
        None => String::new(),
    }
}

pub async fn compare(
    root: &Path,
    args: &MutateArgs,
    suite: &Suite,
    report: &Report,
    jobs: usize,
) -> Result<(), AppError> {
    let exe = std::env::current_exe()
        .map_err(|e| AppError::Infrastructure(format!("cannot find the assay binary: {e}")))?;
    let sql_dir = super::sql_dir(root, args, suite);
    let started = Instant::now();
    let runs = report.outcomes.iter().map(|o| {
        let exe = exe.clone();
        let sql_dir = sql_dir.clone();
        async move {
            let tmp = tempfile::Builder::new()
                .prefix("assay-versus-spawn-")
                .tempdir()
                .map_err(|e| e.to_string())?;
            let copy = tmp.path().join("sql");
            copy_tree(&sql_dir, &copy).map_err(|e| e.to_string())?;
            let mut codes = Vec::new();
            for name in &o.checks {
                let check = suite
                    .query_checks
                    .iter()
                    .find(|c| &c.name == name)
                    .ok_or_else(|| format!("no check {name}"))?;
                std::fs::write(copy.join(&check.query), &o.mutant.sql)
                    .map_err(|e| e.to_string())?;
                let status = tokio::process::Command::new(&exe)
                    .arg("-C")
                    .arg(root)
                    .args(["run", "--no-progress", "--jobs", "1", "--timing-runs", "0"])
                    .arg("--sql-dir")
                    .arg(&copy)
                    .args(["--filter", &exact_glob(name), "--format"])
                    .arg(format!("json={}", tmp.path().join("r.json").display()))
                    .env("CI", "1")
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .stdin(std::process::Stdio::null())
                    .kill_on_drop(true)
                    .status()
                    .await
                    .map_err(|e| e.to_string())?;
                codes.push(status.code().unwrap_or(-1));
            }
            Ok::<_, String>((o, codes))
        }
    });
    let results: Vec<_> = futures::stream::iter(runs)
        .buffer_unordered(jobs)
        .collect()
        .await;
    let spawn_s = started.elapsed().as_secs_f64();
    let mut agree = 0;
    let mut disagree = Vec::new();
    let mut not_runnable = 0;
    for r in results {
        let (o, codes) = r.map_err(AppError::Infrastructure)?;
        if codes.contains(&2) {
            // `assay run` refuses the whole suite, e.g. a parameter the
            // mutant no longer uses; in process it simply runs.
            not_runnable += 1;
            continue;
        }
        let caught_by_spawn = codes.contains(&1);
        let caught_here = matches!(
            o.status,
            Status::Caught | Status::Timeout | Status::Unviable
        );
        if caught_by_spawn == caught_here {
            agree += 1;
        } else {
            disagree.push(format!("{} ({})", o.mutant.name(), o.status.label()));
        }
    }
    let n = report.outcomes.len().max(1) as f64;
    let here_s = report.duration_ms / 1000.0;
    eprintln!(
        "versus spawn: {} mutants, --jobs {jobs}\n  in process (this command, cluster and setup included): {:.1} s ({:.0} ms per mutant)\n  one `assay run` per mutant:                            {:.1} s ({:.0} ms per mutant)\n  ratio: {:.1}x faster in process",
        report.outcomes.len(),
        here_s,
        1000.0 * here_s / n,
        spawn_s,
        1000.0 * spawn_s / n,
        spawn_s / here_s.max(1e-9),
    );
    eprintln!(
        "  verdicts agree on {agree}; `assay run` cannot run {not_runnable} (exit 2, e.g. a parameter left unused); disagree on {}",
        disagree.len()
    );
    for d in disagree {
        eprintln!("    {d}");
    }
    Ok(())
}
