//! `assay probe`: the suite's endpoints called on a running API, judged, and
//! compared with the SQL on the database the API reads.

use super::load;
use super::reports::reporters;
use crate::cli::ProbeArgs;
use crate::db::{Database, TargetSpec};
use crate::engine::Selection;
use crate::error::{exit_code, AppError, InputError};
use crate::http::{parse_header, ApiClient, ClientOptions, Template};
use crate::probe::{self, Probe, ProbeOptions};
use crate::suite::duration::{parse_duration, HumanDuration};
use crate::suite::locate::key_line;
use std::path::Path;
use std::time::Duration;

fn duration_flag(flag: &str, value: &Option<String>) -> Result<Option<Duration>, AppError> {
    match value {
        None => Ok(None),
        Some(v) => match parse_duration(v) {
            Ok(d) if !d.is_zero() => Ok(Some(d)),
            Ok(_) => Err(AppError::Usage(format!("{flag} must be more than 0"))),
            Err(e) => Err(AppError::Usage(format!("{flag}: {e}"))),
        },
    }
}

/// Puts the `endpoint:` line on plan errors.
fn locate(root: &Path, mut errors: Vec<InputError>) -> Vec<InputError> {
    for e in &mut errors {
        if e.line.is_none() {
            if let Ok(text) = std::fs::read_to_string(root.join(&e.file)) {
                e.line = key_line(&text, "endpoint", 1);
            }
        }
    }
    errors
}

pub(super) async fn probe(root: &Path, args: ProbeArgs) -> Result<i32, AppError> {
    let loaded = load(root, None)?;
    let suite = &loaded.suite;

    let jobs = args.jobs.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
    });
    if jobs == 0 {
        return Err(AppError::Usage("--jobs must be at least 1".into()));
    }
    let timeout = duration_flag("--timeout", &args.timeout)?;
    let page_budget = duration_flag("--page-budget", &args.page_budget)?
        .map(HumanDuration)
        .unwrap_or(suite.config.defaults.budget);
    let headers = args
        .headers
        .iter()
        .map(|h| parse_header(h).map_err(|e| AppError::Usage(format!("--header: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let base_url =
        Template::parse(&args.api_url).map_err(|e| AppError::Usage(format!("--api-url: {e}")))?;
    let client = ApiClient::new(&ClientOptions {
        base_url,
        headers,
        ca_cert: args.api_ca_cert.clone(),
        connect_timeout: Duration::from_secs(5),
    })
    .map_err(AppError::Usage)?;

    let selection = Selection {
        filter: args.select.filter.clone(),
        tags: args.select.tags.clone(),
        partition: None,
    };
    let (plan, plan_errors) = probe::plan(suite, &selection);
    let mut errors = loaded.errors.clone();
    errors.extend(locate(root, plan_errors));
    for e in &errors {
        eprintln!("error: {e}");
    }
    if plan.units.is_empty() {
        if !errors.is_empty() {
            // Printed above.
            return Ok(exit_code::INVALID_INPUT);
        }
        return Err(AppError::Usage(
            "no selected query check names an endpoint: nothing to probe".into(),
        ));
    }
    if !plan.without_endpoint.is_empty() {
        eprintln!(
            "note: not probed (no endpoint): {}",
            plan.without_endpoint.join(", ")
        );
    }

    let mut reps = reporters(&args.formats, args.output.as_ref(), args.no_progress)?;
    let database = match &args.database_url {
        None => None,
        Some(url) => Some(
            Database::open(
                &TargetSpec::Url(url.clone()),
                suite.config.postgres_version,
                jobs as u32 + 1,
            )
            .await
            .map_err(AppError::Infrastructure)?,
        ),
    };
    let options = ProbeOptions {
        jobs,
        timing_runs: args
            .timing_runs
            .unwrap_or(suite.config.defaults.timing_runs),
        sample_rows: args
            .sample_rows
            .unwrap_or(suite.config.defaults.sample_rows),
        tolerance: suite.config.defaults.tolerance,
        timeout,
        page_budget,
    };
    let prober = Probe::new(&client, database.as_ref(), options);
    let input_errors: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    let (summary, infra) =
        probe::run(&prober, &plan, &suite.config.name, input_errors, &mut reps).await;
    drop(prober);
    if let Some(db) = database {
        db.close().await;
    }
    for r in reps.iter_mut() {
        r.finish()
            .map_err(|e| AppError::Infrastructure(format!("cannot write report: {e}")))?;
    }
    if let Some(e) = infra {
        return Err(AppError::Infrastructure(format!(
            "{e} (the report shows what did run)"
        )));
    }
    if !errors.is_empty() {
        return Ok(exit_code::INVALID_INPUT);
    }
    Ok(if summary.counts.failed + summary.counts.errored > 0 {
        exit_code::CHECK_FAILED
    } else {
        exit_code::OK
    })
}
