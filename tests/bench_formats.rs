//! The three `assay bench` report formats (human, JSON, Markdown) rendered
//! from one fixed synthetic run and snapshotted with insta. The run is built
//! by the real pure pieces (`assemble`: fingerprint, baseline comparison with
//! slowdowns relative to the machine, verdict, forecast) from realistic
//! EXPLAIN JSON: two checks × two parameter sets × three scales, one query
//! growing linearly with a sequential scan (over budget at the largest
//! scale), one flat with index scans, one row each that changed plan, got
//! slower and failed, and two that were measured again.

#![recursion_limit = "256"]

use assay::bench::assemble::{assemble, Judge, Thresholds};
use assay::bench::baseline::{Baseline, BaselineEntry};
use assay::bench::fingerprint::{buffers, execution_ms, fingerprint};
use assay::bench::model::{BaselineStatus, BenchReport, Fingerprint, Measurement, ScaleInfo};
use assay::bench::report;
use serde_json::{json, Value};
use std::collections::BTreeMap;

const LEADS_PER_SCALE: f64 = 15_000.0;
const SCALES: [f64; 3] = [1.0, 10.0, 100.0];
const MAX_P95_RATIO: f64 = 1.5;
const MIN_P95_DELTA_MS: f64 = 5.0;

fn leads(scale: f64) -> u64 {
    (scale * LEADS_PER_SCALE) as u64
}

/// `kpi_cards`: a parallel hash join over a sequential scan of the lead fact
/// table; every node's time grows with the lead count.
fn kpi_plan(scale: f64, ms: f64) -> Value {
    let n = leads(scale);
    json!([{
        "Plan": {
            "Node Type": "Aggregate",
            "Strategy": "Plain",
            "Partial Mode": "Finalize",
            "Parallel Aware": false,
            "Startup Cost": 1520.3,
            "Total Cost": 1520.31,
            "Plan Rows": 1,
            "Actual Startup Time": ms - 0.4,
            "Actual Total Time": ms - 0.3,
            "Actual Rows": 1,
            "Actual Loops": 1,
            "Shared Hit Blocks": n / 60,
            "Shared Read Blocks": n / 300,
            "Plans": [{
                "Node Type": "Hash Join",
                "Parent Relationship": "Outer",
                "Parallel Aware": false,
                "Join Type": "Inner",
                "Actual Total Time": ms - 0.9,
                "Actual Rows": n,
                "Actual Loops": 1,
                "Hash Cond": "(l.campaign_id = c.campaign_id)",
                "Plans": [
                    {
                        "Node Type": "Seq Scan",
                        "Parent Relationship": "Outer",
                        "Parallel Aware": true,
                        "Relation Name": "fact_leads",
                        "Alias": "l",
                        "Actual Total Time": ms * 0.6,
                        "Actual Rows": n,
                        "Actual Loops": 3,
                        "Filter": "((created_date_txt)::date >= (CURRENT_DATE - 30))"
                    },
                    {
                        "Node Type": "Hash",
                        "Parent Relationship": "Inner",
                        "Parallel Aware": false,
                        "Actual Total Time": 0.21,
                        "Actual Rows": 120,
                        "Actual Loops": 3,
                        "Plans": [{
                            "Node Type": "Seq Scan",
                            "Parent Relationship": "Outer",
                            "Parallel Aware": false,
                            "Relation Name": "dim_campaign",
                            "Alias": "c",
                            "Actual Total Time": 0.12,
                            "Actual Rows": 120,
                            "Actual Loops": 3
                        }]
                    }
                ]
            }]
        },
        "Planning Time": 0.612,
        "Triggers": [],
        "Execution Time": ms - 0.2
    }])
}

/// `campaign_roi`: a nested loop of index scans; flat with volume.
fn roi_plan(scale: f64, ms: f64) -> Value {
    json!([{
        "Plan": {
            "Node Type": "Limit",
            "Parallel Aware": false,
            "Actual Total Time": ms - 0.1,
            "Actual Rows": 50,
            "Actual Loops": 1,
            "Shared Hit Blocks": 40 + (scale as u64),
            "Shared Read Blocks": 2,
            "Plans": [{
                "Node Type": "Nested Loop",
                "Parent Relationship": "Outer",
                "Parallel Aware": false,
                "Join Type": "Inner",
                "Actual Total Time": ms - 0.15,
                "Actual Rows": 50,
                "Actual Loops": 1,
                "Plans": [
                    {
                        "Node Type": "Index Scan",
                        "Parent Relationship": "Outer",
                        "Parallel Aware": false,
                        "Scan Direction": "Backward",
                        "Index Name": "v6_campaign_roi_daily_platform_date_idx",
                        "Relation Name": "v6_campaign_roi_daily",
                        "Alias": "r",
                        "Actual Total Time": ms * 0.5,
                        "Actual Rows": 50,
                        "Actual Loops": 1,
                        "Index Cond": "((platform = $1) AND (day >= $2))"
                    },
                    {
                        "Node Type": "Index Scan",
                        "Parent Relationship": "Inner",
                        "Parallel Aware": false,
                        "Index Name": "dim_campaign_pkey",
                        "Relation Name": "dim_campaign",
                        "Alias": "c",
                        "Actual Total Time": 0.004,
                        "Actual Rows": 1,
                        "Actual Loops": 50,
                        "Index Cond": "(campaign_id = r.campaign_id)"
                    }
                ]
            }]
        },
        "Planning Time": 0.288,
        "Triggers": [],
        "Execution Time": ms - 0.05
    }])
}

/// A measured run of one check × parameter set at one scale.
fn measured(check: &str, set: &str, scale: f64, p95: f64, plan: Value) -> Measurement {
    let params: BTreeMap<String, Value> = set
        .split(',')
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            let v = v.parse::<i64>().map_or(json!(v), |n| json!(n));
            (k.to_string(), v)
        })
        .collect();
    Measurement {
        check: check.into(),
        param_set: set.into(),
        params,
        scale,
        volume: leads(scale),
        budget_ms: if check == "kpi_cards" { 2000.0 } else { 250.0 },
        runs: 20,
        p50_ms: p95 * 0.82,
        judged_ms: p95,
        p95_ms: Some(p95),
        judged: "p95 of 20 runs".into(),
        max_ms: p95 * 1.16,
        server_ms: execution_ms(&plan),
        buffers: buffers(&plan),
        rows: if check == "kpi_cards" { 1 } else { 50 },
        fingerprint: Some(fingerprint(&plan)),
        plan: Some(plan),
        error: None,
        attempts: 1,
    }
}

fn baseline_entry(m: &Measurement, judged_ms: f64, fp: Fingerprint) -> BaselineEntry {
    BaselineEntry {
        param_set: m.param_set.clone(),
        scale: m.scale,
        judged_ms,
        p50_ms: None,
        plan: fp.to_string(),
        fingerprint: fp,
    }
}

/// The committed plan of `campaign_roi` before its index changed: a bitmap
/// scan over two single-column indexes.
fn old_roi_fingerprint() -> Fingerprint {
    let old = json!([{"Plan": {
        "Node Type": "Limit",
        "Plans": [{
            "Node Type": "Nested Loop",
            "Join Type": "Inner",
            "Plans": [
                {
                    "Node Type": "Bitmap Heap Scan",
                    "Relation Name": "v6_campaign_roi_daily",
                    "Plans": [{"Node Type": "BitmapAnd", "Plans": [
                        {"Node Type": "Bitmap Index Scan", "Index Name": "v6_campaign_roi_daily_platform_idx"},
                        {"Node Type": "Bitmap Index Scan", "Index Name": "v6_campaign_roi_daily_day_idx"}
                    ]}]
                },
                {"Node Type": "Index Scan", "Relation Name": "dim_campaign", "Index Name": "dim_campaign_pkey"}
            ]
        }]
    }}]);
    fingerprint(&old)
}

/// The fixed run every format is rendered from.
fn synthetic_report() -> BenchReport {
    let kpi_all = [14.2, 136.8, 1361.5];
    let kpi_meta = [21.0, 215.3, 2140.8];
    let roi_google = [2.31, 2.27, 2.24];
    let roi_meta = [3.1, 3.3];

    let mut measurements = Vec::new();
    for (i, &scale) in SCALES.iter().enumerate() {
        for (set, p95) in [
            ("platform=all,window=30", kpi_all[i]),
            ("platform=meta,window=7", kpi_meta[i]),
        ] {
            measurements.push(measured("kpi_cards", set, scale, p95, kpi_plan(scale, p95)));
        }
        let set = "platform=google,window=7";
        let p95 = roi_google[i];
        measurements.push(measured(
            "campaign_roi",
            set,
            scale,
            p95,
            roi_plan(scale, p95),
        ));
        let set = "platform=meta,window=90";
        match roi_meta.get(i) {
            Some(&p95) => measurements.push(measured(
                "campaign_roi",
                set,
                scale,
                p95,
                roi_plan(scale, p95),
            )),
            None => {
                let mut m = measured("campaign_roi", set, scale, 0.0, json!(null));
                m.runs = 0;
                m.p50_ms = 0.0;
                m.max_ms = 0.0;
                m.server_ms = None;
                m.buffers = None;
                m.rows = 0;
                m.plan = None;
                m.fingerprint = None;
                m.error = Some(
                    "canceling statement due to statement timeout\nCONTEXT: query `campaign_roi`"
                        .into(),
                );
                measurements.push(m);
            }
        }
    }
    measurements.sort_by(|a, b| {
        (&a.check, &a.param_set)
            .cmp(&(&b.check, &b.param_set))
            .then(a.scale.total_cmp(&b.scale))
    });

    // Measured again after a first measurement over its budget (still over
    // it), and after one that was slower (then passing).
    for m in &mut measurements {
        match (m.check.as_str(), m.param_set.as_str(), m.scale as u64) {
            ("kpi_cards", "platform=meta,window=7", 100) => m.attempts = 3,
            ("campaign_roi", "platform=google,window=7", 1) => m.attempts = 2,
            _ => {}
        }
    }

    // Committed baselines: `kpi_cards` all-platform at every scale (slower at
    // 100), `campaign_roi` google at scale 10 with the old bitmap plan, the
    // rest at the same p95 and plan; `kpi_cards` meta has none yet.
    let mut baselines: BTreeMap<String, Option<Baseline>> = BTreeMap::new();
    for m in &measurements {
        let current = m.fingerprint.clone().unwrap_or_default();
        let entry = match (m.check.as_str(), m.param_set.as_str(), m.scale as u64) {
            ("kpi_cards", "platform=meta,window=7", _) => None,
            ("kpi_cards", _, 100) => Some(baseline_entry(m, 702.4, current)),
            ("campaign_roi", "platform=google,window=7", 10) => {
                Some(baseline_entry(m, 2.4, old_roi_fingerprint()))
            }
            _ => Some(baseline_entry(m, m.judged_ms * 0.97, current)),
        };
        let file = baselines
            .entry(m.check.clone())
            .or_insert_with(|| {
                Some(Baseline {
                    check: m.check.clone(),
                    entries: Vec::new(),
                })
            })
            .as_mut()
            .unwrap();
        file.entries.extend(entry);
    }

    let scales = SCALES
        .iter()
        .map(|&scale| ScaleInfo {
            scale,
            volume: leads(scale),
            relation_rows: BTreeMap::from([
                ("dim_campaign".to_string(), 120),
                ("fact_leads".to_string(), leads(scale)),
                (
                    "v6_campaign_roi_daily".to_string(),
                    (scale * 3_600.0) as u64,
                ),
            ]),
            generate_ms: 850.0 * scale + 312.25,
            machine_factor: None,
        })
        .collect();

    // Slowdowns relative to the machine: scale 1 has three same-plan
    // baselines (a factor), 10 and 100 two (none).
    assemble(
        "analytics_v6",
        ("dashboards.fact_leads", LEADS_PER_SCALE),
        scales,
        measurements,
        &Judge {
            baselines: &baselines,
            thresholds: Thresholds {
                max_slowdown: MAX_P95_RATIO,
                min_slowdown_ms: MIN_P95_DELTA_MS,
                relative: true,
            },
            accepting: false,
        },
    )
}

#[test]
fn the_synthetic_run_has_every_kind_of_row() {
    let r = synthetic_report();
    let verdicts: Vec<&str> = r.rows.iter().map(|row| row.verdict.label()).collect();
    assert_eq!(r.rows.len(), 12);
    for v in ["pass", "over budget", "plan changed", "slower", "error"] {
        assert!(verdicts.contains(&v), "no `{v}` row: {verdicts:?}");
    }
    assert_eq!(r.failures(), 4, "{verdicts:?}");
    assert!(r
        .rows
        .iter()
        .any(|row| matches!(row.baseline, BaselineStatus::New)));

    let grows = r.forecast("kpi_cards", "platform=all,window=30").unwrap();
    let scale = grows.scale_at_budget.unwrap();
    assert!(scale > 100.0 && scale < 200.0, "{grows:?}");
    assert!(grows.r2.unwrap() > 0.999, "{grows:?}");
    let flat = r
        .forecast("campaign_roi", "platform=google,window=7")
        .unwrap();
    assert_eq!(flat.volume_at_budget, None, "{flat:?}");
    let two = r
        .forecast("campaign_roi", "platform=meta,window=90")
        .unwrap();
    assert_eq!((two.points, two.r2), (2, None));
}

#[test]
fn human_report() {
    let text = report::human(&synthetic_report(), false);
    assert!(!text.contains('\u{1b}'));
    insta::assert_snapshot!("human", text);
}

#[test]
fn human_report_in_colour_only_paints() {
    let r = synthetic_report();
    let colored = report::human(&r, true);
    assert!(colored.contains('\u{1b}'));
    let stripped = console::strip_ansi_codes(&colored);
    assert_eq!(stripped, report::human(&r, false));
}

#[test]
fn markdown_report() {
    insta::assert_snapshot!("markdown", report::markdown(&synthetic_report()));
}

#[test]
fn json_report() {
    insta::assert_snapshot!("json", report::json(&synthetic_report()));
}

#[test]
fn json_report_has_every_key() {
    let r = synthetic_report();
    let v: Value = serde_json::from_str(&report::json(&r)).expect("the JSON report parses");
    for key in [
        "schema",
        "suite",
        "volume_relation",
        "volume_per_scale",
        "max_slowdown",
        "min_slowdown_ms",
        "scales",
        "results",
        "summary",
    ] {
        assert!(v.get(key).is_some(), "no top-level `{key}`");
    }
    assert_eq!(v["schema"], json!("assay.bench/v3"));
    assert_eq!(v["scales"].as_array().unwrap().len(), 3);
    assert_eq!(
        v["summary"],
        json!({"measurements": 12, "failures": 4, "over_budget": 1, "plan_changed": 1, "slower": 1, "error": 1})
    );
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), r.rows.len());
    let required = [
        "name",
        "param_set",
        "params",
        "scale",
        "volume",
        "runs",
        "p50_ms",
        "judged_ms",
        "max_ms",
        "server_ms",
        "buffers",
        "rows",
        "budget_ms",
        "headroom",
        "verdict",
        "plan_fingerprint",
        "fingerprint",
        "plan",
        "baseline",
        "forecast_scale_at_budget",
        "forecast_volume_at_budget",
        "forecast_r2",
        "growth_exponent",
        "error",
    ];
    for (result, row) in results.iter().zip(&r.rows) {
        let o = result.as_object().unwrap();
        for key in required {
            assert!(o.contains_key(key), "no `{key}` in {result}");
        }
        assert_eq!(o["name"], json!(row.measurement.check));
        assert_eq!(o["verdict"], serde_json::to_value(row.verdict).unwrap());
        assert!(o["baseline"]["status"].is_string(), "{result}");
        // The raw EXPLAIN document never appears, only its summary lines.
        assert!(o["plan"].is_null() || o["plan"].as_array().unwrap().iter().all(Value::is_string));
        if row.measurement.error.is_some() {
            assert!(
                o["judged_ms"].is_null() && o["headroom"].is_null(),
                "{result}"
            );
        } else {
            assert!(
                o["judged_ms"].is_number() && o["plan_fingerprint"].is_string(),
                "{result}"
            );
        }
    }
}
