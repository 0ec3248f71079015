//! One endpoint under one parameter set: call it, judge the answer, read
//! the same parameter set through the SQL and compare (reading both again
//! once before calling a difference a difference), then time it.

use super::judge::{self, Reads};
use super::plan::Unit;
use super::Probe;
use crate::checks::Outcome;
use crate::compare::{compare, CompareOptions};
use crate::engine::query_unit::{binds_for, param_json};
use crate::engine::session::Session;
use crate::engine::{Rerun, UnitKind, UnitResult};
use crate::http::{rows_from_json, CallError};
use crate::output::QueryOutput;
use std::time::Duration;

/// A unit after its first call and comparison, before timing.
pub struct Judged {
    pub result: UnitResult,
    /// Milliseconds of the first call, when it got a 2xx JSON answer.
    pub first_ok_ms: Option<f64>,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub fn new_result(probe: &Probe<'_>, unit: &Unit<'_>) -> UnitResult {
    UnitResult {
        target: probe.api_label.clone(),
        file: unit.check.file.display().to_string(),
        endpoint: unit.check.endpoint.clone(),
        param_set: unit.set.name.clone(),
        params: unit
            .set
            .values
            .iter()
            .map(|(k, v)| (k.clone(), param_json(v)))
            .collect(),
        ..UnitResult::blank(UnitKind::Endpoint, &unit.check.name, unit.check.severity)
    }
}

/// The query under the unit's parameter set, read-only on the probe's
/// database; None without one. Err says why it could not be read (a
/// database that went away is also recorded on the probe: exit 3).
async fn read_sql(probe: &Probe<'_>, unit: &Unit<'_>) -> Option<Result<QueryOutput, String>> {
    let db = probe.db?;
    let check = unit.check;
    let timeout = (check.budget.0 * 2).max(Duration::from_secs(1));
    let binds = binds_for(&check.statement, unit.set, &check.types);
    let mut session = match Session::open(&db.pool, timeout).await {
        Ok(s) => s,
        Err(e) => {
            probe.database_failed(&e.message);
            return Some(Err(format!("cannot reach the database: {}", e.message)));
        }
    };
    let r = session.query(&check.statement.sql, &binds).await;
    session.close().await;
    Some(match r {
        Ok((out, _)) => Ok(out),
        Err(e) => {
            if e.transient {
                probe.database_failed(&e.message);
            }
            Err(format!(
                "the query failed: {} (in {})",
                e.message,
                check.query_path.display()
            ))
        }
    })
}

/// The first call and everything judged from it.
pub async fn judge(probe: &Probe<'_>, unit: &Unit<'_>) -> Judged {
    let mut result = new_result(probe, unit);
    let sev = unit.check.severity;
    if probe.api_down() {
        result.outcomes.push(Outcome::skip(
            "status",
            judge::STATUS,
            sev,
            "not called: the API became unreachable",
        ));
        return Judged {
            result,
            first_ok_ms: None,
        };
    }
    let timeout = probe.timeout(unit.check);
    let got = probe.client.get(&unit.request, timeout).await;
    if let Err(e @ CallError::Unreachable { .. }) = &got {
        probe.api_failed(e);
    }
    let (status, body) = judge::answer(&unit.request, &got, sev);
    result.outcomes.push(status);
    let (Some(body), Ok(first)) = (body, &got) else {
        for (kind, name) in [("shape", judge::SHAPE), ("compare", judge::ROWS)] {
            result.outcomes.push(judge::not_judged(
                kind,
                name,
                sev,
                "not judged: no 2xx JSON answer",
            ));
        }
        return Judged {
            result,
            first_ok_ms: None,
        };
    };
    let first_ok_ms = Some(ms(first.elapsed));

    let sql = read_sql(probe, unit).await;
    let sql_columns = match &sql {
        Some(Ok(out)) => Some(out.columns.as_slice()),
        _ => None,
    };
    let columns = unit.check.expect.columns.as_deref();
    let api = rows_from_json(&body, &unit.check.api, columns, sql_columns);
    result.rows = Some(api.output.rows.len());
    result.outcomes.push(judge::shape(
        &unit.request,
        &api.problems,
        columns.map(<[_]>::len),
        api.output.rows.len(),
        sev,
    ));
    let rows_outcome = match sql {
        None => judge::not_judged(
            "compare",
            judge::ROWS,
            sev,
            "not compared: no --database-url (status, shape and time only)",
        ),
        Some(Err(m)) => Outcome::error("compare", judge::ROWS, sev, m),
        Some(Ok(sql_out)) => {
            let (outcome, reread) = compare_reading_twice(probe, unit, &sql_out, &api.output).await;
            if reread {
                result.reruns.push(Rerun {
                    kind: "reread".into(),
                    count: 1,
                    why: "its rows differed from the SQL's, and data may move while a probe runs: the API and the SQL were read again".into(),
                });
            }
            outcome
        }
    };
    result.outcomes.push(rows_outcome);
    Judged {
        result,
        first_ok_ms,
    }
}

/// Compares; when API and SQL disagree, reads both again and judges by the
/// second reading (then the second value is true).
async fn compare_reading_twice(
    probe: &Probe<'_>,
    unit: &Unit<'_>,
    sql: &QueryOutput,
    api: &QueryOutput,
) -> (Outcome, bool) {
    let sev = unit.check.severity;
    let opts = judge::compare_options(
        unit.check,
        probe.options.tolerance,
        probe.options.sample_rows,
    );
    let first = compare(sql, api, &opts);
    if first.is_same() {
        return (judge::rows(&unit.request, &first, Reads::Once, sev), false);
    }
    (read_again(probe, unit, &opts).await, true)
}

/// The second reading of both sides, judged.
async fn read_again(probe: &Probe<'_>, unit: &Unit<'_>, opts: &CompareOptions) -> Outcome {
    let sev = unit.check.severity;
    let failed = |m: String| Outcome::error("compare", judge::ROWS, sev, m);
    let got = probe
        .client
        .get(&unit.request, probe.timeout(unit.check))
        .await;
    if let Err(e @ CallError::Unreachable { .. }) = &got {
        probe.api_failed(e);
    }
    let (status, body) = judge::answer(&unit.request, &got, sev);
    let Some(body) = body else {
        return failed(format!(
            "the rows differed and reading them again failed: {}",
            status.message
        ));
    };
    let sql_again = match read_sql(probe, unit).await {
        Some(Ok(out)) => out,
        Some(Err(m)) => {
            return failed(format!(
                "the rows differed and reading the SQL again failed: {m}"
            ))
        }
        None => return failed("no database to read the SQL from".into()),
    };
    let columns = unit.check.expect.columns.as_deref();
    let api_again = rows_from_json(&body, &unit.check.api, columns, Some(&sql_again.columns));
    let second = compare(&sql_again, &api_again.output, opts);
    let reads = if second.is_same() {
        Reads::AgreedOnSecond
    } else {
        Reads::DifferedTwice
    };
    judge::rows(&unit.request, &second, reads, sev)
}

/// The budget verdict: on the first call when the timing policy says it
/// decides, else on calls made now, one at a time with nothing else of the
/// probe running (every such call is listed with its reason). Then the
/// unit's verdict.
pub async fn time(probe: &Probe<'_>, unit: &Unit<'_>, judged: Judged) -> UnitResult {
    let mut result = judged.result;
    let sev = unit.check.severity;
    let budget = unit.check.budget;
    let Some(first_ms) = judged.first_ok_ms else {
        result.outcomes.push(judge::not_judged(
            "budget",
            judge::BUDGET,
            sev,
            "not timed: no 2xx JSON answer",
        ));
        result.settle();
        return result;
    };
    let first_solo = probe.options.jobs <= 1;
    let solo_runs = probe
        .options
        .timing
        .solo_runs(first_ms, budget.as_millis_f64());
    let mut samples = Vec::new();
    let mut solo = first_solo;
    let mut failed = None;
    let mut timed = Vec::new();
    for i in 0..solo_runs {
        if probe.api_down() {
            failed = Some(Outcome::skip(
                "budget",
                judge::BUDGET,
                sev,
                "not timed: the API became unreachable",
            ));
            break;
        }
        match probe
            .client
            .get(&unit.request, probe.timeout(unit.check))
            .await
        {
            Ok(a) if a.is_success() => timed.push(ms(a.elapsed)),
            Ok(a) => {
                failed = Some(Outcome::fail(
                    "budget",
                    judge::BUDGET,
                    sev,
                    format!(
                        "{}: timed call {} of {solo_runs} answered {}",
                        unit.request.shown(),
                        i + 1,
                        a.status_text
                    ),
                ));
                break;
            }
            Err(e) => {
                if let CallError::Unreachable { .. } = &e {
                    probe.api_failed(&e);
                }
                failed = Some(Outcome::fail(
                    "budget",
                    judge::BUDGET,
                    sev,
                    format!(
                        "{}: timed call {} of {solo_runs}: {e}",
                        unit.request.shown(),
                        i + 1
                    ),
                ));
                break;
            }
        }
    }
    if !timed.is_empty() {
        result.reruns.push(Rerun {
            kind: "timing".into(),
            count: timed.len(),
            why: probe.timing_reason("call", first_ms, budget),
        });
    }
    if let Some(o) = failed {
        result.outcomes.push(o);
        result.settle();
        return result;
    }
    if !timed.is_empty() {
        if first_solo {
            samples.push(first_ms);
        }
        samples.extend(timed);
        solo = true;
    } else {
        samples.push(first_ms);
    }
    let what = format!("{}: ", unit.request.shown());
    if let Some((o, t)) = judge::budget(&samples, solo, budget, &what, sev) {
        result.outcomes.push(o);
        result.timing = Some(t);
    }
    result.settle();
    result
}
