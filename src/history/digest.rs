//! What a series of runs says (pure): the latest run, what changed since
//! the run before it, a status timeline per check, flaky checks, every
//! metric's series with its expected band, query time per endpoint against
//! its budget, and the failing samples of the latest run. The HTML and
//! Markdown reports and the alerts are renderings of a `Digest`.

use super::record::RunRecord;
use crate::checks::Outcome;
use crate::db::stable_label;
use crate::engine::{Counts, UnitKind, UnitResult, Verdict};
use crate::metrics::{anomaly, AnomalyRule, At, Direction};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

pub const FORMAT: &str = "assay.digest/v1";
/// Runs shown in the status timeline (the newest).
pub const TIMELINE_RUNS: usize = 90;
/// Runs looked at for flaky checks, and how many flips make a check flaky.
pub const FLAKY_RUNS: usize = 30;
pub const FLAKY_FLIPS: usize = 3;

/// The anomaly rule for query time per endpoint: only slowdowns count, and
/// timings are noisy, so the deviation is at least 10 % of the expected time
/// and 1 % of the budget (20 ms for a 2 s budget; at least 1 ms): a 2 ms
/// query taking 5 ms on a busy runner is not news, one taking 80 ms is.
pub fn query_time_rule(budget_ms: f64) -> AnomalyRule {
    AnomalyRule {
        direction: Direction::Up,
        min_deviation_relative: 0.10,
        min_deviation_absolute: (0.01 * budget_ms).max(1.0),
        ..AnomalyRule::default()
    }
}

/// One run: the records of its partition jobs merged.
#[derive(Debug, Clone, Serialize)]
pub struct Run {
    pub run_id: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub suite: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sql_fingerprint: Option<String>,
    pub targets: Vec<String>,
    pub environment: String,
    /// Partitions recorded (`hash:1/3`, ...), and those of the same split missing.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing_parts: Vec<String>,
    pub exit_code: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub counts: Counts,
    pub duration_ms: f64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub input_errors: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notify_errors: Vec<String>,
    #[serde(skip)]
    pub units: Vec<UnitResult>,
}

impl Run {
    /// Exit 2 or 3: the run did not get through.
    pub fn broke(&self) -> bool {
        self.exit_code >= 2
    }
}

/// A unit named in a list of changes.
#[derive(Debug, Clone, Serialize)]
pub struct UnitRef {
    pub check: String,
    pub label: String,
    pub verdict: Verdict,
    /// The first failing expectation and its message.
    pub message: String,
    /// For still-failing units: the first run of the current streak.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<DateTime<Utc>>,
}

/// The latest run compared with the run before it (the latest that has results).
#[derive(Debug, Clone, Serialize, Default)]
pub struct Changes {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<DateTime<Utc>>,
    pub new_failures: Vec<UnitRef>,
    pub still_failing: Vec<UnitRef>,
    pub fixed: Vec<UnitRef>,
    pub new_warnings: Vec<UnitRef>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TimelineRun {
    pub started_at: DateTime<Utc>,
    pub exit_code: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The endpoint SQL or a check definition differs from the run before.
    pub sql_changed: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct TimelineRow {
    pub check: String,
    pub kind: UnitKind,
    /// The worst verdict of the check's units in each run (None: not run).
    pub cells: Vec<Option<Verdict>>,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct Timeline {
    pub runs: Vec<TimelineRun>,
    pub rows: Vec<TimelineRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Flaky {
    pub check: String,
    /// Changes between passing and failing over the runs looked at.
    pub flips: usize,
    pub runs: usize,
    pub latest: Verdict,
}

/// An anomalous value of the latest run.
#[derive(Debug, Clone, Serialize)]
pub struct Anomaly {
    pub check: String,
    pub metric: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dimension: Option<String>,
    /// The day of the data (series over days) or none (this run's value).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub day: Option<NaiveDate>,
    pub value: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub low: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub high: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    pub why: String,
}

impl Anomaly {
    pub fn label(&self) -> String {
        let mut s = format!("{} {}", self.check, self.metric);
        if let Some(d) = &self.dimension {
            s.push_str(&format!(" [{d}]"));
        }
        if let Some(d) = self.day {
            s.push_str(&format!(" {d}"));
        }
        s
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Axis {
    /// x is a day of the data.
    Days,
    /// x is the time of a run.
    Runs,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChartPoint {
    /// Days since 1970-01-01 (days axis) or seconds since then (runs axis).
    pub x: i64,
    pub label: String,
    pub value: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub low: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub high: Option<f64>,
    pub anomalous: bool,
    /// Judged by the run that measured it (the newest days of a series).
    pub judged: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Chart {
    pub check: String,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    pub axis: Axis,
    pub points: Vec<ChartPoint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// Query times: the check's budget in ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget: Option<f64>,
}

/// A unit of the latest run with problems, and what they are.
#[derive(Debug, Clone, Serialize)]
pub struct Failing {
    pub check: String,
    pub label: String,
    pub verdict: Verdict,
    pub outcomes: Vec<Outcome>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Digest {
    pub format: &'static str,
    pub suite: String,
    pub location: String,
    pub runs: Vec<Run>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changes: Option<Changes>,
    pub timeline: Timeline,
    pub flaky: Vec<Flaky>,
    pub anomalies: Vec<Anomaly>,
    pub metrics: Vec<Chart>,
    pub query_times: Vec<Chart>,
    pub failing: Vec<Failing>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

impl Digest {
    pub fn latest(&self) -> Option<&Run> {
        self.runs.last()
    }
    /// Several databases across the runs: labels carry the target.
    pub fn several_targets(&self) -> bool {
        let mut seen: Vec<String> = Vec::new();
        for r in &self.runs {
            for t in &r.targets {
                let t = stable_label(t);
                if !seen.contains(&t) {
                    seen.push(t);
                }
            }
        }
        seen.len() > 1
    }
}

fn unit_key(u: &UnitResult) -> String {
    format!(
        "{}\u{1f}{:?}\u{1f}{}\u{1f}{}",
        u.check,
        u.kind,
        u.param_set,
        stable_label(&u.target)
    )
}

fn failing(v: Verdict) -> bool {
    matches!(v, Verdict::Fail | Verdict::Error)
}

fn first_problem(u: &UnitResult) -> String {
    u.outcomes
        .iter()
        .find(|o| {
            matches!(
                o.status,
                crate::checks::Status::Fail | crate::checks::Status::Error
            )
        })
        .map(|o| format!("{}: {}", o.name, o.message))
        .unwrap_or_default()
}

/// Merges the records of each run (same suite and run id), oldest first.
pub fn merge_runs(records: Vec<RunRecord>) -> Vec<Run> {
    let mut order: Vec<(String, String)> = Vec::new();
    let mut groups: BTreeMap<(String, String), Vec<RunRecord>> = BTreeMap::new();
    for r in records {
        let k = (r.suite.clone(), r.run_id.clone());
        if !groups.contains_key(&k) {
            order.push(k.clone());
        }
        groups.entry(k).or_default().push(r);
    }
    let mut runs: Vec<Run> = order
        .into_iter()
        .filter_map(|k| groups.remove(&k))
        .map(|mut parts| {
            parts.sort_by_key(|p| p.started_at);
            let first = &parts[0];
            let mut run = Run {
                run_id: first.run_id.clone(),
                started_at: first.started_at,
                finished_at: first.finished_at,
                suite: first.suite.clone(),
                version: first.version.clone(),
                sql_fingerprint: first.sql_fingerprint.clone(),
                targets: Vec::new(),
                environment: first.environment.clone(),
                parts: Vec::new(),
                missing_parts: Vec::new(),
                exit_code: 0,
                error: None,
                counts: Counts::default(),
                duration_ms: 0.0,
                input_errors: Vec::new(),
                notify_errors: Vec::new(),
                units: Vec::new(),
            };
            let mut by_key: BTreeMap<String, usize> = BTreeMap::new();
            let mut split: Option<u64> = None;
            for p in parts {
                run.finished_at = run.finished_at.max(p.finished_at);
                run.exit_code = run.exit_code.max(p.exit_code);
                run.duration_ms = run.duration_ms.max(p.duration_ms);
                if run.error.is_none() {
                    run.error = p.error.clone();
                }
                for t in &p.targets {
                    if !run.targets.contains(t) {
                        run.targets.push(t.clone());
                    }
                }
                if let Some(part) = &p.partition {
                    run.parts.push(part.clone());
                    if let Ok((_, n)) = crate::engine::parse_partition(part) {
                        split = Some(n);
                    }
                }
                run.input_errors.extend(p.input_errors);
                run.notify_errors.extend(p.notify_errors);
                for u in p.units {
                    let k = unit_key(&u.unit);
                    match by_key.get(&k) {
                        Some(&i) => run.units[i] = u.unit,
                        None => {
                            by_key.insert(k, run.units.len());
                            run.units.push(u.unit);
                        }
                    }
                }
            }
            if let Some(n) = split {
                for k in 1..=n {
                    let name = format!("hash:{k}/{n}");
                    if !run.parts.contains(&name) {
                        run.missing_parts.push(name);
                    }
                }
            }
            let mut c = Counts::default();
            for u in &run.units {
                c.add(u.verdict);
            }
            run.counts = c;
            run
        })
        .collect();
    runs.sort_by_key(|r| r.started_at);
    runs
}

fn unit_label(u: &UnitResult, several: bool) -> String {
    u.label_on_target(several)
}

fn changes(runs: &[Run], several: bool) -> Option<Changes> {
    let with_units: Vec<&Run> = runs.iter().filter(|r| !r.units.is_empty()).collect();
    let latest = *with_units.last()?;
    if !std::ptr::eq(latest, runs.last()?) {
        // The newest run has no results (it broke early): nothing to compare.
        return None;
    }
    let previous = with_units.len().checked_sub(2).map(|i| with_units[i]);
    let before: BTreeMap<String, &UnitResult> = previous
        .map(|p| p.units.iter().map(|u| (unit_key(u), u)).collect())
        .unwrap_or_default();
    let mut c = Changes {
        previous: previous.map(|p| p.started_at),
        ..Default::default()
    };
    let r = |u: &UnitResult, since| UnitRef {
        check: u.check.clone(),
        label: unit_label(u, several),
        verdict: u.verdict,
        message: first_problem(u),
        since,
    };
    for u in &latest.units {
        let k = unit_key(u);
        let was = before.get(&k).map(|p| p.verdict);
        if failing(u.verdict) {
            if was.is_some_and(failing) {
                // First run of the current streak.
                let mut since = latest.started_at;
                for run in with_units.iter().rev().skip(1) {
                    match run.units.iter().find(|x| unit_key(x) == k) {
                        Some(x) if failing(x.verdict) => since = run.started_at,
                        _ => break,
                    }
                }
                c.still_failing.push(r(u, Some(since)));
            } else {
                c.new_failures.push(r(u, None));
            }
        } else if was.is_some_and(failing) {
            c.fixed.push(r(u, None));
        } else if u.verdict == Verdict::Warn && was != Some(Verdict::Warn) {
            c.new_warnings.push(r(u, None));
        }
    }
    for list in [
        &mut c.new_failures,
        &mut c.still_failing,
        &mut c.fixed,
        &mut c.new_warnings,
    ] {
        list.sort_by(|a, b| a.label.cmp(&b.label));
    }
    Some(c)
}

fn worst(units: &[&UnitResult]) -> Option<Verdict> {
    // Skips rank below passes for a check's row.
    units.iter().map(|u| u.verdict).max_by_key(|v| match v {
        Verdict::Skip => 0,
        Verdict::Pass => 1,
        Verdict::Warn => 2,
        Verdict::Fail => 3,
        Verdict::Error => 4,
    })
}

fn per_check(run: &Run) -> BTreeMap<(u8, String), Vec<&UnitResult>> {
    let mut m: BTreeMap<(u8, String), Vec<&UnitResult>> = BTreeMap::new();
    for u in &run.units {
        let kind = match u.kind {
            UnitKind::Table => 1,
            _ => 0,
        };
        m.entry((kind, u.check.clone())).or_default().push(u);
    }
    m
}

fn timeline(runs: &[Run]) -> Timeline {
    let start = runs.len().saturating_sub(TIMELINE_RUNS);
    let shown = &runs[start..];
    let mut t = Timeline::default();
    let mut rows: BTreeMap<(u8, String), Vec<Option<Verdict>>> = BTreeMap::new();
    for (i, run) in shown.iter().enumerate() {
        let prev = if start + i > 0 {
            Some(&runs[start + i - 1])
        } else {
            None
        };
        t.runs.push(TimelineRun {
            started_at: run.started_at,
            exit_code: run.exit_code,
            version: run.version.clone(),
            sql_changed: prev.is_some_and(|p| {
                p.sql_fingerprint.is_some()
                    && run.sql_fingerprint.is_some()
                    && p.sql_fingerprint != run.sql_fingerprint
            }),
        });
        for (key, units) in per_check(run) {
            let cells = rows.entry(key).or_insert_with(|| vec![None; shown.len()]);
            cells[i] = worst(&units);
        }
    }
    t.rows = rows
        .into_iter()
        .map(|((kind, check), cells)| TimelineRow {
            check,
            kind: if kind == 1 {
                UnitKind::Table
            } else {
                UnitKind::Query
            },
            cells,
        })
        .collect();
    t
}

fn flaky(runs: &[Run]) -> Vec<Flaky> {
    let with_units: Vec<&Run> = runs.iter().filter(|r| !r.units.is_empty()).collect();
    let recent = &with_units[with_units.len().saturating_sub(FLAKY_RUNS)..];
    let mut states: BTreeMap<String, Vec<Verdict>> = BTreeMap::new();
    for run in recent {
        for ((_, check), units) in per_check(run) {
            if let Some(v) = worst(&units) {
                if v != Verdict::Skip {
                    states.entry(check).or_default().push(v);
                }
            }
        }
    }
    let mut out: Vec<Flaky> = states
        .into_iter()
        .filter_map(|(check, vs)| {
            let flips = vs
                .windows(2)
                .filter(|w| failing(w[0]) != failing(w[1]))
                .count();
            (flips >= FLAKY_FLIPS).then(|| Flaky {
                check,
                flips,
                runs: vs.len(),
                latest: *vs.last().unwrap_or(&Verdict::Pass),
            })
        })
        .collect();
    out.sort_by(|a, b| b.flips.cmp(&a.flips).then(a.check.cmp(&b.check)));
    out
}

/// The explanation's sentence, or (where the history kept only numbers)
/// the numbers.
fn why_of(e: &crate::metrics::Explanation) -> String {
    if !e.why.is_empty() {
        return e.why.clone();
    }
    match (e.expected, e.low, e.high, e.score) {
        (Some(x), Some(l), Some(h), Some(z)) => format!(
            "expected {} (band {}..{}), score {z:.2}{}",
            crate::metrics::num(x),
            crate::metrics::num(l),
            crate::metrics::num(h),
            if e.anomalous { ": anomalous" } else { "" }
        ),
        _ => format!("not judged ({} training values)", e.training),
    }
}

fn day_x(d: NaiveDate) -> i64 {
    (d - NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")).num_days()
}

/// Metric charts: a series over days from the newest run that measured it;
/// values measured once per run across all runs.
fn metric_charts(runs: &[Run], several: bool) -> Vec<Chart> {
    type Key = (String, String, Option<String>, String);
    let mut day_series: BTreeMap<Key, Chart> = BTreeMap::new();
    for run in runs.iter().rev() {
        let mut seen_here: Vec<Key> = Vec::new();
        for u in &run.units {
            for m in u.metrics.iter().filter(|m| m.day.is_some()) {
                let key = (
                    u.check.clone(),
                    m.name.clone(),
                    m.dimension.clone(),
                    String::new(),
                );
                if day_series.contains_key(&key) && !seen_here.contains(&key) {
                    continue;
                }
                if !seen_here.contains(&key) {
                    seen_here.push(key.clone());
                }
                let chart = day_series.entry(key).or_insert_with(|| Chart {
                    check: u.check.clone(),
                    title: m.label(),
                    unit: m.unit.clone(),
                    axis: Axis::Days,
                    points: Vec::new(),
                    min: m.min,
                    max: m.max,
                    budget: None,
                });
                let day = m.day.expect("filtered");
                let e = m.anomaly.as_ref();
                chart.points.push(ChartPoint {
                    x: day_x(day),
                    label: day.to_string(),
                    value: m.value,
                    expected: e.and_then(|e| e.expected),
                    low: e.and_then(|e| e.low),
                    high: e.and_then(|e| e.high),
                    anomalous: e.is_some_and(|e| e.anomalous),
                    judged: m.judged,
                    why: e.map(why_of),
                });
            }
        }
    }
    let mut per_run: BTreeMap<Key, Chart> = BTreeMap::new();
    for run in runs {
        for u in &run.units {
            for m in u.metrics.iter().filter(|m| m.day.is_none()) {
                let target = stable_label(&u.target);
                let key = (
                    u.check.clone(),
                    m.name.clone(),
                    m.dimension.clone(),
                    target.clone(),
                );
                let chart = per_run.entry(key).or_insert_with(|| Chart {
                    check: u.check.clone(),
                    title: if several {
                        format!("{} @ {target}", m.label())
                    } else {
                        m.label()
                    },
                    unit: m.unit.clone(),
                    axis: Axis::Runs,
                    points: Vec::new(),
                    min: m.min,
                    max: m.max,
                    budget: None,
                });
                chart.min = m.min;
                chart.max = m.max;
                let e = m.anomaly.as_ref();
                chart.points.push(ChartPoint {
                    x: run.started_at.timestamp(),
                    label: run.started_at.format("%Y-%m-%d %H:%M").to_string(),
                    value: m.value,
                    expected: e.and_then(|e| e.expected),
                    low: e.and_then(|e| e.low),
                    high: e.and_then(|e| e.high),
                    anomalous: e.is_some_and(|e| e.anomalous),
                    judged: true,
                    why: e.map(why_of),
                });
            }
        }
    }
    let mut charts: Vec<Chart> = day_series.into_values().collect();
    for c in &mut charts {
        c.points.sort_by_key(|p| p.x);
    }
    charts.extend(per_run.into_values());
    charts.sort_by(|a, b| (&a.check, &a.title).cmp(&(&b.check, &b.title)));
    charts
}

/// Query time per endpoint check: per run, the slowest parameter set's
/// median, judged against earlier runs with `query_time_rule`.
fn query_time_charts(runs: &[Run], several: bool) -> Vec<Chart> {
    let mut by_check: BTreeMap<(String, String), Chart> = BTreeMap::new();
    for run in runs {
        let mut worst_here: BTreeMap<(String, String), (f64, f64)> = BTreeMap::new();
        for u in &run.units {
            let (Some(t), Some(_)) = (&u.timing, &u.endpoint) else {
                continue;
            };
            if u.kind != UnitKind::Query || t.runs == 0 {
                continue;
            }
            let target = stable_label(&u.target);
            let e = worst_here
                .entry((u.check.clone(), target))
                .or_insert((0.0, t.budget_ms));
            e.0 = e.0.max(t.p50_ms);
        }
        for ((check, target), (p50, budget)) in worst_here {
            let endpoint = run
                .units
                .iter()
                .find(|u| u.check == check)
                .and_then(|u| u.endpoint.clone())
                .unwrap_or_default();
            let chart = by_check
                .entry((check.clone(), target.clone()))
                .or_insert_with(|| Chart {
                    check: check.clone(),
                    title: if several {
                        format!("{check} ({endpoint}) @ {target}")
                    } else {
                        format!("{check} ({endpoint})")
                    },
                    unit: Some("ms".into()),
                    axis: Axis::Runs,
                    points: Vec::new(),
                    min: None,
                    max: None,
                    budget: Some(budget),
                });
            chart.budget = Some(budget);
            chart.points.push(ChartPoint {
                x: run.started_at.timestamp(),
                label: run.started_at.format("%Y-%m-%d %H:%M").to_string(),
                value: p50,
                expected: None,
                low: None,
                high: None,
                anomalous: false,
                judged: true,
                why: None,
            });
        }
    }
    let mut charts: Vec<Chart> = by_check.into_values().collect();
    for c in &mut charts {
        let rule = query_time_rule(c.budget.unwrap_or(0.0));
        let series: Vec<(At, f64)> = c
            .points
            .iter()
            .map(|p| {
                (
                    At::Run(DateTime::from_timestamp(p.x, 0).unwrap_or_default()),
                    p.value,
                )
            })
            .collect();
        for (p, e) in c
            .points
            .iter_mut()
            .zip(anomaly::explain_series(&rule, &series))
        {
            p.expected = e.expected;
            p.low = e.low;
            p.high = e.high;
            p.anomalous = e.anomalous;
            p.why = Some(e.why);
        }
    }
    charts
}

fn anomalies(latest: &Run, query_times: &[Chart]) -> Vec<Anomaly> {
    let mut out = Vec::new();
    for u in &latest.units {
        for m in u.metrics.iter().filter(|m| m.judged) {
            let Some(e) = m.anomaly.as_ref().filter(|e| e.anomalous) else {
                continue;
            };
            out.push(Anomaly {
                check: u.check.clone(),
                metric: m.name.clone(),
                dimension: m.dimension.clone(),
                day: m.day,
                value: m.value,
                unit: m.unit.clone(),
                expected: e.expected,
                low: e.low,
                high: e.high,
                score: e.score,
                why: e.why.clone(),
            });
        }
    }
    let x = latest.started_at.timestamp();
    for c in query_times {
        if let Some(p) = c.points.last().filter(|p| p.x == x && p.anomalous) {
            out.push(Anomaly {
                check: c.check.clone(),
                metric: "query time (p50, slowest parameter set)".into(),
                dimension: None,
                day: None,
                value: p.value,
                unit: Some("ms".into()),
                expected: p.expected,
                low: p.low,
                high: p.high,
                score: None,
                why: p.why.clone().unwrap_or_default(),
            });
        }
    }
    out
}

fn failing_units(latest: &Run, several: bool) -> Vec<Failing> {
    let mut v: Vec<&UnitResult> = latest
        .units
        .iter()
        .filter(|u| matches!(u.verdict, Verdict::Fail | Verdict::Error | Verdict::Warn))
        .collect();
    v.sort_by(|a, b| (b.verdict, &a.check, &a.param_set).cmp(&(a.verdict, &b.check, &b.param_set)));
    v.into_iter()
        .map(|u| Failing {
            check: u.check.clone(),
            label: unit_label(u, several),
            verdict: u.verdict,
            outcomes: u
                .outcomes
                .iter()
                .filter(|o| {
                    matches!(
                        o.status,
                        crate::checks::Status::Fail | crate::checks::Status::Error
                    )
                })
                .cloned()
                .collect(),
        })
        .collect()
}

/// Builds the digest of `records` (any order) read from `location`.
pub fn digest(records: Vec<RunRecord>, location: &str, problems: Vec<String>) -> Digest {
    let runs = merge_runs(records);
    let mut d = Digest {
        format: FORMAT,
        suite: runs.last().map(|r| r.suite.clone()).unwrap_or_default(),
        location: location.to_string(),
        runs: Vec::new(),
        changes: None,
        timeline: Timeline::default(),
        flaky: Vec::new(),
        anomalies: Vec::new(),
        metrics: Vec::new(),
        query_times: Vec::new(),
        failing: Vec::new(),
        problems,
    };
    d.runs = runs;
    let several = d.several_targets();
    d.changes = changes(&d.runs, several);
    d.timeline = timeline(&d.runs);
    d.flaky = flaky(&d.runs);
    d.metrics = metric_charts(&d.runs, several);
    d.query_times = query_time_charts(&d.runs, several);
    if let Some(latest) = d.runs.last() {
        d.anomalies = anomalies(latest, &d.query_times);
        d.failing = failing_units(latest, several);
    }
    d
}
