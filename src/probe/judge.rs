//! The verdicts of a probe, as outcomes: the answer (status and JSON), its
//! shape against `expect.columns`, its time against the budget, its rows
//! against the SQL's, and the page. Pure: every function turns what was
//! observed into an [`Outcome`].

use crate::checks::Outcome;
use crate::compare::{CompareOptions, Comparison, RowDiff};
use crate::engine::Timing;
use crate::http::{Answer, CallError, Request};
use crate::suite::duration::HumanDuration;
use crate::suite::{QueryCheck, Severity};
use crate::timing::TimingStats;
use serde_json::Value;

pub const STATUS: &str = "status";
pub const SHAPE: &str = "shape";
pub const BUDGET: &str = "budget";
pub const ROWS: &str = "rows";
pub const PAGE_LOAD: &str = "page_load";
pub const PAGE_ROUTES: &str = "page_routes";

fn size(n: usize) -> String {
    if n < 1024 {
        format!("{n} B")
    } else {
        format!("{:.1} kB", n as f64 / 1024.0)
    }
}

/// The answer itself: a 2xx status and a JSON body. Returns the outcome and
/// the parsed body when there is one to judge further.
pub fn answer(
    request: &Request,
    got: &Result<Answer, CallError>,
    sev: Severity,
) -> (Outcome, Option<Value>) {
    let shown = request.shown();
    let a = match got {
        Ok(a) => a,
        Err(e @ CallError::Unreachable { .. }) | Err(e @ CallError::Failed(_)) => {
            return (
                Outcome::error("status", STATUS, sev, format!("{shown}: {e}")),
                None,
            )
        }
        Err(e @ CallError::Timeout { .. }) => {
            return (
                Outcome::fail("status", STATUS, sev, format!("{shown}: {e}")),
                None,
            )
        }
    };
    if !a.is_success() {
        let excerpt = a.body_excerpt();
        let mut msg = format!("{shown} answered {}", a.status_text);
        if !excerpt.is_empty() {
            msg.push_str(&format!(": {excerpt}"));
        }
        return (Outcome::fail("status", STATUS, sev, msg), None);
    }
    let ct = a.content_type.as_deref().unwrap_or("no content-type");
    match serde_json::from_slice::<Value>(&a.body) {
        Ok(v) => (
            Outcome::pass(
                "status",
                STATUS,
                sev,
                format!("{} ({ct}, {})", a.status_text, size(a.body.len())),
            ),
            Some(v),
        ),
        Err(e) => (
            Outcome::fail(
                "status",
                STATUS,
                sev,
                format!(
                    "{shown} answered {} but the body is not JSON ({ct}; {e}): {}",
                    a.status_text,
                    a.body_excerpt()
                ),
            ),
            None,
        ),
    }
}

/// The shape against `expect.columns`.
pub fn shape(
    request: &Request,
    problems: &[String],
    contract_columns: Option<usize>,
    rows: usize,
    sev: Severity,
) -> Outcome {
    let Some(n) = contract_columns else {
        return Outcome::skip(
            "shape",
            SHAPE,
            sev,
            "no expect.columns in the check: the shape is not checked",
        );
    };
    match problems.split_first() {
        None => Outcome::pass(
            "shape",
            SHAPE,
            sev,
            format!("{rows} rows with the {n} fields of expect.columns"),
        ),
        Some((first, rest)) => {
            Outcome::fail("shape", SHAPE, sev, format!("{}: {first}", request.shown()))
                .with_details(rest.to_vec())
        }
    }
}

/// Shown when a unit cannot be judged further.
pub fn not_judged(kind: &str, name: &str, sev: Severity, why: &str) -> Outcome {
    Outcome::skip(kind, name, sev, why)
}

/// End-to-end time against the budget: the verdict, on the p95 with 20
/// samples or more, else on the slowest (named for what it is), and the
/// figures. `what` starts the message; `solo`: every sample was taken with
/// nothing else of the probe running. None without samples.
pub fn budget(
    samples_ms: &[f64],
    solo: bool,
    budget: HumanDuration,
    what: &str,
    sev: Severity,
) -> Option<(Outcome, Timing)> {
    let stats = TimingStats::of(samples_ms)?;
    let judged = if solo {
        stats.judged_label_solo()
    } else {
        stats.judged_label()
    };
    let p50 = if stats.runs > 1 {
        format!("; p50 {:.1} ms", stats.p50_ms)
    } else {
        String::new()
    };
    let msg = format!(
        "{what}{:.1} ms of {budget} budget ({judged}{p50})",
        stats.judged_ms()
    );
    let budget_ms = budget.as_millis_f64();
    let outcome = if stats.judged_ms() <= budget_ms {
        Outcome::pass("budget", BUDGET, sev, msg)
    } else {
        Outcome::fail("budget", BUDGET, sev, msg)
    };
    Some((
        outcome,
        Timing {
            runs: stats.runs,
            p50_ms: stats.p50_ms,
            max_ms: stats.max_ms,
            p95_ms: stats.p95_ms,
            budget_ms,
            solo,
            judged,
        },
    ))
}

/// The plain column names of an `order_by` expectation (`a, b desc`), when
/// every term is one.
pub fn order_columns(order_by: Option<&str>) -> Option<Vec<String>> {
    let mut cols = Vec::new();
    for term in order_by?.split(',') {
        let mut words: Vec<String> = term
            .split_whitespace()
            .map(|w| w.to_ascii_lowercase())
            .collect();
        for suffix in [["nulls", "first"], ["nulls", "last"]] {
            if words.len() > 2 && words[words.len() - 2..] == suffix {
                words.truncate(words.len() - 2);
            }
        }
        if words.len() == 2 && (words[1] == "asc" || words[1] == "desc") {
            words.pop();
        }
        let [col] = words.as_slice() else { return None };
        let ident = col.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && col.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !ident {
            return None;
        }
        cols.push(col.clone());
    }
    Some(cols)
}

/// How the API's rows are compared with the SQL's: as a multiset with the
/// suite's tolerance, in order when the query orders (ties allowed on the
/// `order_by` columns when they are known).
pub fn compare_options(check: &QueryCheck, tolerance: f64, samples: usize) -> CompareOptions {
    CompareOptions {
        tolerance,
        key: None,
        ordered: check.declares_order,
        order_keys: order_columns(check.expect.order_by.as_deref()),
        samples,
    }
}

fn names(cols: &[crate::compare::model::ColumnRef]) -> String {
    cols.iter()
        .map(|c| c.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// What differs, in the API's and the SQL's words (the SQL is the base, the
/// API the current side), and the sample rows.
pub fn describe(c: &Comparison) -> (String, Vec<String>) {
    let mut parts = Vec::new();
    let mut details = Vec::new();
    let cols = &c.columns;
    if !cols.added.is_empty() {
        parts.push(format!("columns only in the API: {}", names(&cols.added)));
    }
    if !cols.removed.is_empty() {
        parts.push(format!("columns only in the SQL: {}", names(&cols.removed)));
    }
    for r in &cols.renamed {
        parts.push(format!(
            "the API has `{}` where the SQL has `{}` (map it with `api: {{fields: {{{}: {}}}}}`)",
            r.to, r.from, r.from, r.to
        ));
    }
    for t in &cols.type_changed {
        parts.push(format!(
            "`{}` is {} in the SQL, {} in the API",
            t.column, t.from, t.to
        ));
    }
    if cols.reordered.is_some() {
        parts.push("columns in another order".into());
    }
    match &c.rows {
        RowDiff::Multiset {
            matched,
            extra,
            missing,
        } => {
            if extra.count + missing.count > 0 {
                parts.push(format!(
                    "{} rows only in the API, {} only in the SQL, {matched} alike",
                    extra.count, missing.count
                ));
            }
            details.extend(
                extra
                    .samples
                    .iter()
                    .map(|s| format!("only in the API: {s}")),
            );
            details.extend(
                missing
                    .samples
                    .iter()
                    .map(|s| format!("only in the SQL: {s}")),
            );
        }
        RowDiff::Key {
            identical,
            modified,
            modified_samples,
            added,
            removed,
            ..
        } => {
            if modified + added.count + removed.count > 0 {
                parts.push(format!(
                    "{modified} rows differ, {} only in the API, {} only in the SQL, {identical} alike",
                    added.count, removed.count
                ));
            }
            for m in modified_samples {
                details.push(format!(
                    "differs at {}: {} (SQL -> API)",
                    m.key,
                    m.changes.join(", ")
                ));
            }
            details.extend(
                added
                    .samples
                    .iter()
                    .map(|s| format!("only in the API: {s}")),
            );
            details.extend(
                removed
                    .samples
                    .iter()
                    .map(|s| format!("only in the SQL: {s}")),
            );
        }
    }
    if let Some(o) = &c.order {
        parts.push(format!(
            "the same rows in another order from row {}",
            o.first_position
        ));
        details.push(format!("row {} in the SQL: {}", o.first_position, o.base));
        details.push(format!(
            "row {} in the API: {}",
            o.first_position, o.current
        ));
    }
    if parts.is_empty() {
        parts.push(format!("the same {} rows", c.current_rows));
    }
    (parts.join("; "), details)
}

/// How the comparison went over the reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reads {
    /// The first read of both agreed.
    Once,
    /// The first reads differed, the second agreed (data moved meanwhile).
    AgreedOnSecond,
    /// Both reads differed.
    DifferedTwice,
}

/// The API's rows against the SQL's.
pub fn rows(request: &Request, c: &Comparison, reads: Reads, sev: Severity) -> Outcome {
    let (what, details) = describe(c);
    match reads {
        Reads::Once => Outcome::pass("compare", ROWS, sev, format!("{what} as the SQL")),
        Reads::AgreedOnSecond => Outcome::pass(
            "compare",
            ROWS,
            sev,
            format!("{what} as the SQL on the second read (the first read differed: the data moved meanwhile)"),
        ),
        Reads::DifferedTwice => Outcome::fail(
            "compare",
            ROWS,
            sev,
            format!(
                "{} does not return what the SQL returns (read twice): {what}",
                request.shown()
            ),
        )
        .with_details(details),
    }
}

/// One load of the page: how long until the last answer, what failed.
#[derive(Debug, Clone, PartialEq)]
pub struct PageLoad {
    pub elapsed_ms: f64,
    /// The slowest call and its time.
    pub slowest: Option<(String, f64)>,
    /// `GET ...: answered 500 ...`, one per failed call.
    pub failures: Vec<String>,
}

/// The page: every load's time until the last answer against the page
/// budget (loads are solo: nothing else of the probe runs meanwhile), and
/// every call answered.
pub fn page(
    loads: &[PageLoad],
    calls: usize,
    page_budget: HumanDuration,
) -> (Vec<Outcome>, Option<Timing>) {
    let sev = Severity::Error;
    let samples: Vec<f64> = loads.iter().map(|l| l.elapsed_ms).collect();
    let what = match calls {
        1 => "1 call, its answer after ".to_string(),
        n => format!("{n} calls at once, the last answer after "),
    };
    let mut outcomes = Vec::new();
    let mut timing = None;
    if let Some((mut time, t)) = budget(&samples, true, page_budget, &what, sev) {
        time.name = PAGE_LOAD.into();
        time.kind = "page".into();
        if let Some((call, ms)) = loads
            .iter()
            .filter_map(|l| l.slowest.as_ref())
            .max_by(|a, b| a.1.total_cmp(&b.1))
        {
            time.details
                .push(format!("slowest call: {call} ({ms:.1} ms)"));
        }
        outcomes.push(time);
        timing = Some(t);
    }
    let mut failures: Vec<String> = Vec::new();
    for f in loads.iter().flat_map(|l| l.failures.iter()) {
        if !failures.contains(f) {
            failures.push(f.clone());
        }
    }
    outcomes.push(match failures.split_first() {
        None => Outcome::pass(
            "page",
            PAGE_ROUTES,
            sev,
            match loads.len() {
                1 => "every call answered 2xx with JSON".to_string(),
                n => format!("every call answered 2xx with JSON in {n} loads"),
            },
        ),
        Some((first, rest)) => Outcome::fail(
            "page",
            PAGE_ROUTES,
            sev,
            format!("not every chart loads: {first}"),
        )
        .with_details(rest.to_vec()),
    });
    (outcomes, timing)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Status;
    use crate::compare::compare;
    use crate::output::{Cell, Column, QueryOutput};
    use std::time::Duration;

    fn req() -> Request {
        Request {
            path: "/api/x".into(),
            query: vec![("d".into(), "2025-10-01".into())],
        }
    }

    fn answer_of(status: u16, body: &str) -> Result<Answer, CallError> {
        Ok(Answer {
            status,
            status_text: format!("{status} X"),
            content_type: Some("application/json".into()),
            body: body.as_bytes().to_vec(),
            elapsed: Duration::from_millis(5),
        })
    }

    #[test]
    fn status_and_json() {
        let (o, v) = answer(&req(), &answer_of(200, "[1]"), Severity::Error);
        assert_eq!((o.status, v.is_some()), (Status::Pass, true));
        let (o, v) = answer(
            &req(),
            &answer_of(500, "{\"detail\": \"boom\"}"),
            Severity::Error,
        );
        assert_eq!(o.status, Status::Fail);
        assert!(v.is_none());
        assert_eq!(
            o.message,
            "GET /api/x?d=2025-10-01 answered 500 X: {\"detail\": \"boom\"}"
        );
        let (o, _) = answer(&req(), &answer_of(200, "<html>"), Severity::Error);
        assert!(o.message.contains("the body is not JSON"), "{}", o.message);
        let (o, _) = answer(
            &req(),
            &Err(CallError::Timeout {
                after: Duration::from_secs(3),
            }),
            Severity::Error,
        );
        assert_eq!(o.message, "GET /api/x?d=2025-10-01: no answer within 3.0 s");
        assert_eq!(o.status, Status::Fail);
    }

    #[test]
    fn figures_are_named_for_what_they_are() {
        let b = HumanDuration(Duration::from_millis(100));
        let (o, t) = budget(&[10.0, 30.0, 20.0], true, b, "GET /x: ", Severity::Error).unwrap();
        assert_eq!(
            o.message,
            "GET /x: 30.0 ms of 100ms budget (max of 3 solo runs; p50 20.0 ms)"
        );
        assert_eq!(o.status, Status::Pass);
        assert_eq!((t.p95_ms, t.max_ms, t.solo), (None, 30.0, true));
        let (o, _) = budget(&[150.0], false, b, "", Severity::Error).unwrap();
        assert_eq!(o.message, "150.0 ms of 100ms budget (1 run)");
        assert_eq!(o.status, Status::Fail);
        let many: Vec<f64> = (1..=40).map(|i| i as f64 * 5.0).collect();
        let (o, t) = budget(&many, true, b, "", Severity::Error).unwrap();
        assert!(
            o.message
                .starts_with("190.0 ms of 100ms budget (p95 of 40 solo runs"),
            "{}",
            o.message
        );
        assert_eq!(t.p95_ms, Some(190.0));
        assert!(budget(&[], true, b, "", Severity::Error).is_none());
    }

    #[test]
    fn order_columns_only_when_plain() {
        assert_eq!(
            order_columns(Some("priority, amount desc, channel NULLS LAST")),
            Some(vec!["priority".into(), "amount".into(), "channel".into()])
        );
        assert_eq!(order_columns(Some("abs(x) desc")), None);
        assert_eq!(order_columns(None), None);
    }

    #[test]
    fn differences_are_told_in_api_and_sql_words() {
        let out = |rows: &[(i64, &str)]| QueryOutput {
            columns: vec![
                Column {
                    name: "n".into(),
                    ty: "int8".into(),
                },
                Column {
                    name: "p".into(),
                    ty: "text".into(),
                },
            ],
            rows: rows
                .iter()
                .map(|(n, p)| vec![Cell::Int(*n), Cell::Text(p.to_string())])
                .collect(),
        };
        let sql = out(&[(1, "web"), (2, "store")]);
        let api = out(&[(1, "web"), (5, "mock")]);
        let c = compare(&sql, &api, &CompareOptions::default());
        let o = rows(&req(), &c, Reads::DifferedTwice, Severity::Error);
        assert_eq!(
            o.message,
            "GET /api/x?d=2025-10-01 does not return what the SQL returns (read twice): 1 rows only in the API, 1 only in the SQL, 1 alike"
        );
        assert_eq!(
            o.details,
            vec![
                "only in the API: n=5 p=mock",
                "only in the SQL: n=2 p=store"
            ]
        );
        let same = compare(&sql, &sql, &CompareOptions::default());
        let o = rows(&req(), &same, Reads::AgreedOnSecond, Severity::Error);
        assert_eq!(o.status, Status::Pass);
        assert!(o
            .message
            .starts_with("the same 2 rows as the SQL on the second read"));
    }

    #[test]
    fn the_page_fails_on_time_or_on_any_failed_call() {
        let b = HumanDuration(Duration::from_secs(2));
        let ok = PageLoad {
            elapsed_ms: 150.0,
            slowest: Some(("GET /a".into(), 140.0)),
            failures: vec![],
        };
        let (o, _) = page(&[ok.clone(), ok.clone()], 13, b);
        assert!(o.iter().all(|o| o.status == Status::Pass), "{o:?}");
        assert_eq!(
            o[0].message,
            "13 calls at once, the last answer after 150.0 ms of 2s budget (max of 2 solo runs; p50 150.0 ms)"
        );
        let slow = PageLoad {
            elapsed_ms: 2500.0,
            ..ok.clone()
        };
        let (o, _) = page(&[ok.clone(), slow], 13, b);
        assert_eq!(o[0].status, Status::Fail);
        let broken = PageLoad {
            failures: vec!["GET /b answered 500".into()],
            ..ok
        };
        let (o, _) = page(&[broken.clone(), broken], 13, b);
        assert_eq!(o[1].status, Status::Fail);
        assert_eq!(o[1].message, "not every chart loads: GET /b answered 500");
    }
}
