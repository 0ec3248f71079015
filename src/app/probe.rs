//! `assay probe`: the suite's endpoints called on a running API, judged, and
//! compared with the SQL on the database the API reads.
//!
//! Every flag is checked before anything is called; report files are
//! written atomically at the end, and say why when the API or the database
//! could not be reached.

use super::load;
use super::reports::reporters;
use crate::cli::ProbeArgs;
use crate::db::{Database, TargetSpec};
use crate::engine::{self, Counts, LoadError, RunSummary, Selection};
use crate::error::{exit_code, AppError, InputError};
use crate::http::{parse_header, ApiClient, ClientOptions, Template};
use crate::probe::{self, Probe, ProbeOptions, TimingPolicy};
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

    // Flags first: nothing is called with a bad one.
    let jobs = super::jobs(args.jobs, false)?;
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
    let timing = match args.timing_runs.or(suite.config.defaults.timing_runs) {
        Some(n) => TimingPolicy::Runs(n),
        // Not our server: spare it, as on a url target.
        None => TimingPolicy::Auto { solo_runs: 2 },
    };

    // What to call.
    let selection = Selection {
        filter: args.select.filter.clone(),
        tags: args.select.tags.clone(),
        partition: None,
    };
    let (queries, tables) = engine::select_checks(suite, &selection);
    if queries.is_empty() {
        if !loaded.errors.is_empty() {
            return Err(AppError::Input(loaded.errors));
        }
        if !tables.is_empty() {
            return Err(AppError::Usage(
                "the selected checks are table checks; probe calls the endpoints of query checks"
                    .into(),
            ));
        }
        return Err(AppError::Usage(super::nothing_selected(
            suite,
            &args.select,
        )));
    }
    let (plan, plan_errors) = probe::plan(suite, &selection);
    let mut errors = loaded.errors.clone();
    errors.extend(locate(root, plan_errors));
    if plan.units.is_empty() {
        if !errors.is_empty() {
            return Err(AppError::Input(errors));
        }
        return Err(AppError::Usage(format!(
            "no selected query check names an endpoint ({}): nothing to probe",
            plan.without_endpoint.join(", ")
        )));
    }
    let mut reports = reporters(&args.formats, args.output.as_ref(), args.no_progress)?;
    if !reports.human_on_terminal {
        // No human report shows them: say them once on standard error.
        for e in &errors {
            crate::tell!("error: {e}");
        }
    }
    if !plan.without_endpoint.is_empty() {
        crate::tell!(
            "note: not probed (no endpoint): {}",
            plan.without_endpoint.join(", ")
        );
    }
    let load_errors: Vec<LoadError> = errors.iter().map(LoadError::from).collect();

    // The database the API reads, when rows are compared.
    let database = match &args.database_url {
        None => None,
        Some(url) => match Database::open(
            &TargetSpec::Url(url.clone()),
            suite.config.postgres_version,
            jobs as u32 + 1,
        )
        .await
        {
            Ok(db) => Some(db),
            Err(e) => {
                let summary = RunSummary {
                    suite: suite.config.name.clone(),
                    target: client.shown().to_string(),
                    environment: "probe".into(),
                    counts: Counts::default(),
                    duration_ms: 0.0,
                    setup_ms: 0.0,
                    replica_lag: Vec::new(),
                    load_errors,
                    partition: None,
                    infrastructure_error: Some(e.clone()),
                    fixtures: None,
                };
                reports.finish_empty(&summary)?;
                return Err(AppError::Infrastructure(e));
            }
        },
    };
    let options = ProbeOptions {
        jobs,
        timing,
        sample_rows: args
            .sample_rows
            .unwrap_or(suite.config.defaults.sample_rows),
        tolerance: suite.config.defaults.tolerance,
        timeout,
        page_budget,
    };
    let prober = Probe::new(&client, database.as_ref(), options);
    let (summary, infra) = probe::run(
        &prober,
        &plan,
        &suite.config.name,
        load_errors,
        &mut reports.reporters,
    )
    .await;
    drop(prober);
    if let Some(db) = database {
        db.close().await;
    }
    reports.finish()?;
    if let Some(e) = infra {
        return Err(AppError::Infrastructure(format!(
            "{e} (the report shows what did run)"
        )));
    }
    Ok(if !summary.load_errors.is_empty() {
        exit_code::INVALID_INPUT
    } else if summary.counts.failed + summary.counts.errored > 0 {
        exit_code::CHECK_FAILED
    } else {
        exit_code::OK
    })
}
