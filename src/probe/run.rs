//! A whole probe: the units judged with bounded concurrency, then timed one
//! at a time (budget verdicts rest on solo timings), then the page; results
//! go to the reporters as engine events.

use super::judge;
use super::plan::Plan;
use super::unit::{self, Judged};
use super::{page, Probe};
use crate::checks::Outcome;
use crate::engine::{Counts, Event, LoadError, Reporter, Rerun, RunSummary, UnitKind, UnitResult};
use crate::suite::Severity;
use futures::StreamExt;
use std::time::Instant;

/// Runs the plan; returns the summary and, when the API or the database
/// became unreachable, why.
pub async fn run(
    probe: &Probe<'_>,
    plan: &Plan<'_>,
    suite: &str,
    load_errors: Vec<LoadError>,
    reporters: &mut [Box<dyn Reporter>],
) -> (RunSummary, Option<String>) {
    let start = Instant::now();
    let target = match probe.db {
        Some(db) => format!("{} (rows compared with {})", probe.api_label, db.label),
        None => format!(
            "{} (no --database-url: status, shape and time only)",
            probe.api_label
        ),
    };
    let with_page = !plan.page.is_empty();
    for r in reporters.iter_mut() {
        r.on_event(&Event::RunStarted {
            suite,
            target: &target,
            units: plan.units.len() + usize::from(with_page),
            several_targets: false,
        });
    }
    let mut counts = Counts::default();
    let mut emit = |r: &UnitResult, reporters: &mut [Box<dyn Reporter>]| {
        counts.add(r.verdict);
        for rep in reporters.iter_mut() {
            rep.on_event(&Event::UnitFinished(r));
        }
    };

    // 1. Call, judge and compare, several units at once.
    let jobs = probe.options.jobs.max(1);
    let mut judged: Vec<Option<Judged>> = plan.units.iter().map(|_| None).collect();
    let mut stream = futures::stream::iter(
        plan.units
            .iter()
            .enumerate()
            .map(|(i, u)| async move { (i, unit::judge(probe, u).await) }),
    )
    .buffer_unordered(jobs);
    while let Some((i, j)) = stream.next().await {
        judged[i] = Some(j);
    }
    drop(stream);

    // 2. Time each unit alone, in plan order.
    for (u, j) in plan.units.iter().zip(judged) {
        let j = j.expect("every unit was judged");
        let r = unit::time(probe, u, j).await;
        emit(&r, reporters);
    }

    // 3. The page.
    if with_page {
        let calls: Vec<_> = plan.page.iter().map(|&i| &plan.units[i]).collect();
        let mut result = UnitResult {
            target: probe.api_label.clone(),
            param_set: match calls.len() {
                1 => "1 call".to_string(),
                n => format!("{n} calls at once"),
            },
            params: calls
                .iter()
                .map(|u| (u.check.name.clone(), u.set.name.clone().into()))
                .collect(),
            ..UnitResult::blank(UnitKind::Page, "page", Severity::Error)
        };
        if probe.api_down() {
            result.outcomes.push(Outcome::skip(
                "page",
                judge::PAGE_LOAD,
                Severity::Error,
                "not loaded: the API became unreachable",
            ));
        } else {
            // The first load; more, one after another, when the timing
            // policy asks for them.
            let mut loads = vec![page::load(probe, &calls).await];
            let budget = probe.options.page_budget;
            let first_ms = loads[0].elapsed_ms;
            let more = probe
                .options
                .timing
                .solo_runs(first_ms, budget.as_millis_f64());
            for _ in 0..more {
                if probe.api_down() {
                    break;
                }
                loads.push(page::load(probe, &calls).await);
            }
            if loads.len() > 1 {
                result.reruns.push(Rerun {
                    kind: "timing".into(),
                    count: loads.len() - 1,
                    why: probe.timing_reason("load", first_ms, budget),
                });
            }
            let (outcomes, timing) = judge::page(&loads, calls.len(), budget);
            result.outcomes = outcomes;
            result.timing = timing;
        }
        result.settle();
        emit(&result, reporters);
    }

    let summary = RunSummary {
        suite: suite.to_string(),
        target,
        environment: "probe".into(),
        counts,
        duration_ms: start.elapsed().as_secs_f64() * 1000.0,
        setup_ms: 0.0,
        replica_lag: probe
            .db
            .and_then(|d| {
                d.replica_lag_s.map(|s| crate::engine::events::ReplicaLag {
                    target: d.label.clone(),
                    seconds: s,
                })
            })
            .into_iter()
            .collect(),
        load_errors,
        partition: None,
        infrastructure_error: probe.infrastructure_failure(),
        fixtures: None,
    };
    for r in reporters.iter_mut() {
        r.on_event(&Event::RunFinished(&summary));
    }
    (summary, probe.infrastructure_failure())
}
