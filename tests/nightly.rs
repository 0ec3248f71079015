//! A month of nightly runs: tests/suites/nightly replayed for the 30 nights
//! of September 2025 with `--history`, the data growing by a day each night
//! (a weekly Sunday dip in attribution coverage, a drop on Thursday
//! 2025-09-18, a batch check that fails on three nights). Then the report:
//! its digest (timeline, the anomaly on the right day, nothing flagged on
//! normal days), the HTML page in headless Chromium (rendered, the expected
//! charts and rows, its structure in an insta snapshot), and the same page
//! for one run and for a year of runs.

mod browser;
mod common;

use common::Assay;
use regex::Regex;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const LATE_NIGHTS: [u32; 3] = [10, 12, 14];

/// Where the month and its report live. They are shared by every test of
/// this file through statics, which are never dropped: a `TempDir` there
/// would outlive the process. So they live in one directory per test
/// process under cargo's tmp dir for tests; a later process removes the
/// directories of processes that are gone.
fn shared_scratch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let base = Path::new(env!("CARGO_TARGET_TMPDIR")).join("nightly-shared");
        std::fs::create_dir_all(&base).unwrap();
        for entry in std::fs::read_dir(&base).unwrap().flatten() {
            let alive = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
                .is_some_and(|pid| Path::new(&format!("/proc/{pid}")).exists());
            if !alive {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
        let dir = base.join(std::process::id().to_string());
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    })
}

struct Month {
    dir: PathBuf,
}

impl Month {
    fn history(&self) -> PathBuf {
        self.dir.join("history")
    }
}

fn night(n: u32) -> String {
    format!("2025-09-{n:02}")
}

/// The 30 nightly runs, once for all tests of this file.
fn month() -> &'static Month {
    static MONTH: OnceLock<Month> = OnceLock::new();
    MONTH.get_or_init(|| {
        let suite = shared_scratch().join("suite");
        common::copy_dir(&common::suite("nightly"), &suite);
        let dir = shared_scratch().join("month");
        let history = dir.join("history");
        for n in 1..=30 {
            std::fs::write(
                suite.join("clock.sql"),
                format!(
                    "create table shop.clock as select date '{}' as today;\n",
                    night(n)
                ),
            )
            .unwrap();
            // The data changes every night: nothing to gain from the fixture cache.
            let out = Assay::new(&suite)
                .args([
                    "run",
                    "--no-progress",
                    "--no-fixture-cache",
                    "--format",
                    "human",
                    "--history",
                ])
                .arg_path(&history)
                .env("ASSAY_NOW", format!("{}T02:00:00Z", night(n)))
                .run();
            // The late batch fails its check (exit 1); every other night passes.
            out.expect_code(if LATE_NIGHTS.contains(&n) { 1 } else { 0 });
        }
        Month { dir }
    })
}

trait ArgPath {
    fn arg_path(self, p: &Path) -> Self;
}

impl ArgPath for Assay {
    fn arg_path(self, p: &Path) -> Self {
        self.args([p.as_os_str()])
    }
}

/// `assay report` over `history` into `out_dir`: report.json, .html, .md.
fn report(history: &Path, out_dir: &Path, now: &str) -> Value {
    let out = Assay::new(out_dir)
        .args(["report", "--history"])
        .arg_path(history)
        .args([
            "--format",
            "json=report.json",
            "--format",
            "html=report.html",
            "--format",
            "markdown=report.md",
        ])
        .env("ASSAY_NOW", now)
        .run();
    out.expect_code(0);
    serde_json::from_str(&std::fs::read_to_string(out_dir.join("report.json")).unwrap()).unwrap()
}

fn month_report() -> &'static (PathBuf, Value) {
    static R: OnceLock<(PathBuf, Value)> = OnceLock::new();
    R.get_or_init(|| {
        let m = month();
        let out = shared_scratch().join("report");
        std::fs::create_dir_all(&out).unwrap();
        let json = report(&m.history(), &out, "2025-09-30T06:00:00Z");
        (out, json)
    })
}

fn row<'a>(d: &'a Value, check: &str) -> &'a Value {
    d["timeline"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["check"] == check)
        .unwrap_or_else(|| panic!("no timeline row {check}"))
}

fn chart<'a>(charts: &'a Value, check: &str, title: &str) -> &'a Value {
    charts
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == check && c["title"] == title)
        .unwrap_or_else(|| panic!("no chart {check} {title}"))
}

fn is_sunday(day: &str) -> bool {
    use chrono::Datelike;
    chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .unwrap()
        .weekday()
        == chrono::Weekday::Sun
}

#[test]
fn a_month_of_nightly_runs_flags_the_drop_on_its_day_and_nothing_else() {
    let (_, d) = month_report();
    assert_eq!(d["format"], "assay.digest/v1");
    assert_eq!(d["runs"].as_array().unwrap().len(), 30);

    // The timeline: a column per night; the coverage check warns exactly on
    // the two nights whose detection period holds 2025-09-18.
    let runs = d["timeline"]["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 30);
    for (i, r) in runs.iter().enumerate() {
        let n = i as u32 + 1;
        assert!(r["started_at"].as_str().unwrap().starts_with(&night(n)));
        assert_eq!(r["exit_code"], if LATE_NIGHTS.contains(&n) { 1 } else { 0 });
    }
    let cells = |check: &str| -> Vec<String> {
        row(d, check)["cells"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap_or("none").to_string())
            .collect()
    };
    let coverage = cells("nightly_coverage");
    for (i, v) in coverage.iter().enumerate() {
        let n = i as u32 + 1;
        let want = if n == 19 || n == 20 { "warn" } else { "pass" };
        assert_eq!(v, want, "nightly_coverage on {}", night(n));
    }
    let batch = cells("nightly_batch");
    for (i, v) in batch.iter().enumerate() {
        let n = i as u32 + 1;
        let want = if LATE_NIGHTS.contains(&n) {
            "fail"
        } else {
            "pass"
        };
        assert_eq!(v, want, "nightly_batch on {}", night(n));
    }
    assert!(cells("nightly_volume").iter().all(|v| v == "pass"));
    assert!(cells("daily_leads").iter().all(|v| v == "pass"));

    // The coverage series of the latest run: the drop is the only anomaly,
    // and the Sunday dips are within their bands.
    let cov = chart(&d["metrics"], "nightly_coverage", "coverage_pct");
    assert_eq!(cov["axis"], "days");
    let points = cov["points"].as_array().unwrap();
    assert_eq!(points.len(), 35, "35 days back from 2025-09-29");
    let flagged: Vec<&str> = points
        .iter()
        .filter(|p| p["anomalous"] == true)
        .map(|p| p["label"].as_str().unwrap())
        .collect();
    assert_eq!(flagged, ["2025-09-18"]);
    let sundays: Vec<&Value> = points
        .iter()
        .filter(|p| is_sunday(p["label"].as_str().unwrap()))
        .collect();
    assert_eq!(sundays.len(), 5);
    let weekday_mean = {
        let v: Vec<f64> = points
            .iter()
            .filter(|p| !is_sunday(p["label"].as_str().unwrap()) && p["anomalous"] == false)
            .map(|p| p["value"].as_f64().unwrap())
            .collect();
        v.iter().sum::<f64>() / v.len() as f64
    };
    for s in &sundays {
        // a real dip ...
        assert!(
            s["value"].as_f64().unwrap() < weekday_mean - 8.0,
            "{s} vs weekdays {weekday_mean}"
        );
        // ... that is normal for a Sunday
        if s["expected"].is_number() {
            assert_eq!(s["anomalous"], false, "{s}");
            // compared with Sundays: the expectation sits near the dip
            assert!(s["expected"].as_f64().unwrap() < weekday_mean - 8.0, "{s}");
        }
    }
    let drop = points.iter().find(|p| p["label"] == "2025-09-18").unwrap();
    assert!(drop["value"].as_f64().unwrap() < drop["low"].as_f64().unwrap());
    let judged: Vec<&str> = points
        .iter()
        .filter(|p| p["judged"] == true)
        .map(|p| p["label"].as_str().unwrap())
        .collect();
    assert_eq!(judged, ["2025-09-28", "2025-09-29"]);

    // The share per platform: `unknown` jumps on the drop day only.
    let unknown = chart(
        &d["metrics"],
        "nightly_coverage",
        "platform_share_pct [unknown]",
    );
    let flagged: Vec<&str> = unknown["points"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["anomalous"] == true)
        .map(|p| p["label"].as_str().unwrap())
        .collect();
    assert_eq!(flagged, ["2025-09-18"]);

    // The latest run: nothing anomalous in the data (query times are
    // measured on a shared machine and judged in their own test), nothing
    // new, the batch flaky.
    let data_anomalies: Vec<&Value> = d["anomalies"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| !a["metric"].as_str().unwrap().starts_with("query time"))
        .collect();
    assert!(data_anomalies.is_empty(), "{data_anomalies:?}");
    let ch = &d["changes"];
    assert!(ch["previous"].as_str().unwrap().starts_with("2025-09-29"));
    for k in ["new_failures", "still_failing", "fixed"] {
        assert_eq!(ch[k].as_array().unwrap().len(), 0, "{k}");
    }
    let flaky = d["flaky"].as_array().unwrap();
    assert_eq!(flaky.len(), 1, "{flaky:?}");
    assert_eq!(flaky[0]["check"], "nightly_batch");
    assert_eq!(flaky[0]["flips"], 6);

    // Per-run values read across the history: the table grows every night,
    // never anomalously; the lag stays a day.
    let total = chart(&d["metrics"], "nightly_volume", "leads_total");
    assert_eq!(total["axis"], "runs");
    let tp = total["points"].as_array().unwrap();
    assert_eq!(tp.len(), 30);
    assert!(tp
        .windows(2)
        .all(|w| w[1]["value"].as_f64() > w[0]["value"].as_f64()));
    assert!(tp.iter().all(|p| p["anomalous"] == false));
    // Judged from the 9th night on: 7 earlier runs are needed, and the run
    // just before is left out (detection 2).
    assert!(tp[7]["expected"].is_null() && tp[8]["expected"].is_number());
    let lag = chart(&d["metrics"], "nightly_volume", "freshness(created_on)");
    assert!(lag["points"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["value"] == 86400.0));

    // Query time per endpoint: one series of 30 runs against the budget.
    let qt = d["query_times"].as_array().unwrap();
    assert_eq!(qt.len(), 1);
    assert_eq!(qt[0]["title"], "daily_leads (GET /api/leads/daily)");
    assert_eq!(qt[0]["budget"], 30000.0);
    assert_eq!(qt[0]["points"].as_array().unwrap().len(), 30);
}

#[test]
fn the_run_of_the_drop_says_why_in_its_record_and_its_report() {
    // The night after the drop: the record (what --format json carries
    // too) explains both judged days.
    let m = month();
    let files: Vec<PathBuf> = std::fs::read_dir(m.history().join("runs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("20250919")
        })
        .collect();
    assert_eq!(files.len(), 1);
    let rec: Value = serde_json::from_str(&std::fs::read_to_string(&files[0]).unwrap()).unwrap();
    assert_eq!(rec["format"], "assay.history/v1");
    assert_eq!(rec["exit_code"], 0);
    let unit = rec["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| &u["unit"])
        .find(|u| u["check"] == "nightly_coverage")
        .unwrap();
    assert_eq!(unit["verdict"], "warn");
    let anomaly = unit["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "coverage_pct.anomaly")
        .unwrap();
    assert_eq!(anomaly["status"], "fail");
    assert_eq!(anomaly["severity"], "warn");
    let msg = anomaly["message"].as_str().unwrap();
    assert!(
        msg.starts_with("1 of 2 judged values: 2025-09-18: ")
            && msg.contains("below the expected band"),
        "{msg}"
    );
    let details: Vec<&str> = anomaly["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    assert_eq!(details.len(), 2);
    assert!(details[1].starts_with("2025-09-18: ") || details[0].starts_with("2025-09-18: "));
    assert!(details
        .iter()
        .any(|d| d.starts_with("2025-09-17: ") && d.contains("within the expected band")));
    // Values are numbers, with their explanation.
    let v = unit["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "coverage_pct" && v["day"] == "2025-09-18")
        .unwrap();
    assert!(v["value"].is_f64());
    assert_eq!(v["judged"], true);
    assert_eq!(v["anomaly"]["anomalous"], true);
    assert!(v["anomaly"]["score"].as_f64().unwrap() < -3.0);
}

/// What the DOM holds, as an outline that does not change between runs.
fn outline(dom: &str) -> String {
    let mut lines = Vec::new();
    let tag = Regex::new(
        r#"<(h1|h2|h3)[^>]*>(.*?)</(?:h1|h2|h3)>|<section id="([^"]+)"([^>]*)>|<figure class="metric" data-check="([^"]+)" data-title="([^"]+)" data-anomalies="(\d+)">|<svg class="chart"[^>]*data-points="(\d+)" data-anomalies="(\d+)"|<svg class="timeline"[^>]*data-runs="(\d+)" data-rows="(\d+)"|<tr class="(change [a-z]+|anomaly|flaky)">|<details class="failing"|<circle class="point anomaly" data-x="([^"]+)""#,
    )
    .unwrap();
    let strip = Regex::new(r"<[^>]+>").unwrap();
    // Query times are measured, so their anomalies vary between runs.
    let mut timed = false;
    for c in tag.captures_iter(dom) {
        if let Some(h) = c.get(1) {
            let text = strip.replace_all(&c[2], "").to_string();
            // The header's verdict badge is part of the h1 text.
            lines.push(format!("{}: {}", h.as_str(), text.trim()));
        } else if let Some(id) = c.get(3) {
            timed = id.as_str() == "query-time";
            lines.push(format!("section #{} {}", id.as_str(), c[4].trim()));
        } else if let Some(check) = c.get(5) {
            let anomalies = if timed { "[timed]" } else { &c[7] };
            lines.push(format!(
                "  figure {} / {} (anomalies {anomalies})",
                check.as_str(),
                &c[6]
            ));
        } else if let Some(p) = c.get(8) {
            let anomalies = if timed { "[timed]" } else { &c[9] };
            lines.push(format!(
                "    chart points={} anomalies={anomalies}",
                p.as_str()
            ));
        } else if let Some(r) = c.get(10) {
            lines.push(format!("  timeline runs={} rows={}", r.as_str(), &c[11]));
        } else if let Some(tr) = c.get(12) {
            lines.push(format!("    row {}", tr.as_str()));
        } else if let Some(x) = c.get(13) {
            if !timed {
                lines.push(format!("      anomaly at {}", x.as_str()));
            }
        } else {
            lines.push("  details failing".into());
        }
    }
    lines.join("\n")
}

#[test]
fn the_html_report_renders_in_chromium() {
    let (out, d) = month_report();
    let html = out.join("report.html");
    let text = std::fs::read_to_string(&html).unwrap();
    // Self-contained: no script, nothing fetched.
    for needle in ["<script", "src=\"http", "href=\"http", "@import", "url("] {
        assert!(!text.contains(needle), "the page holds `{needle}`");
    }
    let dom = browser::dump_dom(&html);
    let count = |needle: &str| dom.matches(needle).count();
    let charts =
        d["metrics"].as_array().unwrap().len() + d["query_times"].as_array().unwrap().len();
    assert_eq!(count(r#"<svg class="chart""#), charts);
    assert_eq!(count(r#"<figure class="metric""#), charts);
    assert_eq!(
        count(r#"<g class="timeline-row""#),
        d["timeline"]["rows"].as_array().unwrap().len()
    );
    assert_eq!(count(r#"<tr class="flaky">"#), 1);
    assert_eq!(
        count(r#"<tr class="anomaly">"#),
        d["anomalies"].as_array().unwrap().len()
    );
    assert!(dom.contains(r#"<svg class="timeline" viewBox"#));
    assert!(dom.contains(r#"data-runs="30""#));
    insta::assert_snapshot!("month_outline", outline(&dom));

    // Rendered: not blank, the charts' red anomaly marks and the timeline's
    // colours on screen.
    let shot = browser::screenshot(&html, 1280, 4000);
    assert_eq!((shot.width, shot.height), (1280, 4000));
    assert!(
        shot.ink() > 0.05,
        "the page looks blank: {:.3} inked",
        shot.ink()
    );
    assert!(shot.colours() > 20, "only {} colours", shot.colours());
    assert!(
        shot.count_near([0x2e, 0x9d, 0x4f], 12) > 500,
        "no green timeline cells"
    );
    assert!(shot.count_near([0xd2, 0x3b, 0x3b], 12) > 50, "no red marks");
}

#[test]
fn the_markdown_report() {
    let (out, _) = month_report();
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    // Measured times vary from run to run.
    // Measured times (and so the slowdowns among them) vary from run to run.
    let md = Regex::new(r"(?m)^\| (daily_leads[^|]*)\| [0-9.]+ \|")
        .unwrap()
        .replace_all(&md, "| $1| [ms] |");
    insta::assert_snapshot!("month_markdown", md);
}

/// Copies of the month's records spread over `n` nights from 2024-10-01.
fn synthetic_history(n: usize, into: &Path) {
    use assay::history::{dir::DirStore, RunRecord, Store};
    let m = month();
    let mut records: Vec<RunRecord> = std::fs::read_dir(m.history().join("runs"))
        .unwrap()
        .map(|e| {
            serde_json::from_str(&std::fs::read_to_string(e.unwrap().path()).unwrap()).unwrap()
        })
        .collect();
    records.sort_by_key(|r| r.started_at);
    let store = DirStore::open(into, true).unwrap();
    let start = chrono::DateTime::parse_from_rfc3339("2024-10-01T02:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    for i in 0..n {
        let mut r = records[i % records.len()].clone();
        r.started_at = start + chrono::Duration::days(i as i64);
        r.finished_at = r.started_at + chrono::Duration::seconds(3);
        r.run_id = format!("night-{i}");
        rt.block_on(store.append(&r)).unwrap();
    }
}

#[test]
fn a_year_of_runs_stays_a_few_megabytes_and_renders() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history");
    synthetic_history(365, &history);
    let d = report(&history, dir.path(), "2025-10-01T06:00:00Z");
    assert_eq!(d["runs"].as_array().unwrap().len(), 365);
    // The timeline keeps the newest 90 runs; per-run charts keep every run.
    assert_eq!(d["timeline"]["runs"].as_array().unwrap().len(), 90);
    let total = chart(&d["metrics"], "nightly_volume", "leads_total");
    assert_eq!(total["points"].as_array().unwrap().len(), 365);
    let html = dir.path().join("report.html");
    let size = std::fs::metadata(&html).unwrap().len();
    eprintln!("a year of nightly runs: report.html is {} KB", size / 1024);
    assert!(size < 3 * 1024 * 1024, "report.html is {size} bytes");
    let dom = browser::dump_dom(&html);
    assert!(dom.contains(r#"data-runs="90""#));
    assert_eq!(
        dom.matches(r#"<svg class="chart""#).count(),
        d["metrics"].as_array().unwrap().len() + d["query_times"].as_array().unwrap().len()
    );
    let shot = browser::screenshot(&html, 1280, 2000);
    assert!(
        shot.ink() > 0.05,
        "the page looks blank: {:.3} inked",
        shot.ink()
    );
    // --since keeps the last 30 days of that year.
    let since = Assay::new(dir.path())
        .args(["report", "--history"])
        .arg_path(&history)
        .args(["--since", "30d", "--format", "json"])
        .env("ASSAY_NOW", "2025-09-30T06:00:00Z")
        .run();
    since.expect_code(0);
    let d: Value = serde_json::from_str(&since.stdout).unwrap();
    assert_eq!(d["runs"].as_array().unwrap().len(), 30);
}

#[test]
fn a_single_run_renders() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history");
    synthetic_history(1, &history);
    let d = report(&history, dir.path(), "2024-10-02T06:00:00Z");
    assert_eq!(d["runs"].as_array().unwrap().len(), 1);
    assert!(d["changes"]["previous"].is_null());
    let html = dir.path().join("report.html");
    let dom = browser::dump_dom(&html);
    assert!(dom.contains(r#"data-runs="1""#));
    assert!(dom.contains("The first run with results in this history"));
    let shot = browser::screenshot(&html, 1280, 1600);
    assert!(
        shot.ink() > 0.03,
        "the page looks blank: {:.3} inked",
        shot.ink()
    );
}
