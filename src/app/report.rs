//! `assay report --history LOCATION --format html=report.html [--format
//! markdown[=FILE]] [--format json[=FILE]] [--since 30d] [--keep 90d]`: the
//! nightly report, read from the history only.

use crate::cli::ReportArgs;
use crate::error::AppError;
use crate::history::{self, digest};
use crate::report::{digest_markdown, html};
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Html,
    Markdown,
    Json,
}

fn parse(spec: &str) -> Result<(Format, Option<PathBuf>), AppError> {
    let (f, p) = match spec.split_once('=') {
        Some((f, p)) if !p.is_empty() => (f, Some(PathBuf::from(p))),
        Some((f, _)) => (f, None),
        None => (spec, None),
    };
    let format = match f {
        "html" => Format::Html,
        "markdown" | "md" => Format::Markdown,
        "json" => Format::Json,
        other => {
            return Err(AppError::Usage(format!(
                "unknown report format `{other}`; `assay report` writes html, markdown or json (e.g. --format html=report.html)"
            )))
        }
    };
    Ok((format, p))
}

pub(super) async fn report(args: ReportArgs) -> Result<i32, AppError> {
    let now = history::now()?;
    let mut specs = Vec::new();
    for f in &args.formats {
        specs.push(parse(f)?);
    }
    if specs.is_empty() {
        specs.push((Format::Markdown, None));
    }
    if specs.iter().filter(|(_, p)| p.is_none()).count() > 1 {
        return Err(AppError::Usage(
            "only one report can go to standard output; give the others a file (--format html=report.html)".into(),
        ));
    }
    let keep = args
        .keep
        .as_deref()
        .map(|k| history::cutoff("--keep", k, now))
        .transpose()?;
    let since = args
        .since
        .as_deref()
        .map(|s| history::cutoff("--since", s, now))
        .transpose()?;
    // Pruning writes: a database must then be a writable primary (a report
    // alone may read a standby); a directory is never created by a report.
    let prune_db = keep.is_some() && history::is_database_url(&args.history);
    let store = history::open(&args.history, prune_db).await?;
    if let Some(before) = keep {
        let removed = store.prune(before).await?;
        if removed > 0 {
            crate::tell!(
                "removed {removed} runs older than {}",
                before.format("%Y-%m-%d %H:%M UTC")
            );
        }
    }
    let loaded = store.load(since).await?;
    let location = store.location();
    store.close().await;
    let mut problems = loaded.problems;
    // One history per suite: runs of other suites are left out.
    let mut records = loaded.records;
    records.sort_by_key(|r| r.started_at);
    if let Some(suite) = records.last().map(|r| r.suite.clone()) {
        let others: std::collections::BTreeSet<String> = records
            .iter()
            .filter(|r| r.suite != suite)
            .map(|r| r.suite.clone())
            .collect();
        for o in others {
            problems.push(format!(
                "runs of suite `{o}` are in this history too and were left out (keep one history per suite)"
            ));
        }
        records.retain(|r| r.suite == suite);
    }
    for p in &problems {
        crate::tell!("warning: {p}");
    }
    let d = digest::digest(records, &location, problems);
    if d.runs.is_empty() {
        crate::tell!(
            "warning: no runs recorded in {location}{}",
            if since.is_some() {
                " in that period"
            } else {
                ""
            }
        );
    }
    for (format, path) in specs {
        let text = match format {
            Format::Html => html::render(&d),
            Format::Markdown => digest_markdown::render(&d),
            Format::Json => {
                let mut t = serde_json::to_string_pretty(&d).map_err(|e| {
                    AppError::Infrastructure(format!("cannot encode the report: {e}"))
                })?;
                t.push('\n');
                t
            }
        };
        match path {
            Some(p) => {
                crate::report::sink::write_atomic(&p, text.as_bytes())
                    .map_err(|e| AppError::Usage(format!("cannot write {}: {e}", p.display())))?;
                crate::tell!(
                    "wrote {} ({} runs, {} KB)",
                    p.display(),
                    d.runs.len(),
                    text.len() / 1024
                );
            }
            None => {
                let mut out = std::io::stdout().lock();
                out.write_all(text.as_bytes())
                    .and_then(|_| out.flush())
                    .map_err(|e| {
                        AppError::Infrastructure(format!("cannot write the report: {e}"))
                    })?;
            }
        }
    }
    Ok(crate::error::exit_code::OK)
}
