//! Benchmarks of assay's own hot paths (no database): parameter rewriting,
//! snapshot rendering and comparison, output normalisation, and rendering a
//! suite-sized run (113 units) in every report format, and the data model's
//! row generation (rows of `model.yaml` generated and binary-encoded, the
//! per-row work of `assay gen`).
//!
//! `cargo bench --bench harness -- --save-baseline main` saves a baseline;
//! `cargo bench --bench harness -- --baseline main` compares against it.

use assay::checks::Outcome;
use assay::engine::{Event, RunSummary, Timing, UnitKind, UnitResult, Verdict};
use assay::output::{Cell, Column, QueryOutput};
use assay::report::Format;
use assay::suite::Severity;
use assay::suite::SnapshotSpec;
use bigdecimal::BigDecimal;
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use std::collections::BTreeMap;
use std::str::FromStr;

const ANOMALIES_SQL: &str = r#"
WITH baseline AS (
  SELECT platform, campaign_name,
    AVG(spend / NULLIF(leads, 0)) as baseline_cpl, -- :not_a_param in a comment
    STDDEV(spend / NULLIF(leads, 0)) as cpl_stddev, AVG(leads) as avg_leads
  FROM dashboards.v6_campaign_roi_daily
  WHERE date BETWEEN :date_from - INTERVAL '30 days' AND :date_from - INTERVAL '1 day' AND leads > 0
  GROUP BY platform, campaign_name
), current AS (
  SELECT platform, campaign_name, SUM(leads) as leads, SUM(spend) as spend,
    SUM(spend) / NULLIF(SUM(leads), 0) as current_cpl
  FROM dashboards.v6_campaign_roi_daily
  WHERE date BETWEEN :date_from AND :date_to and note <> ':x' and created::date > $$:y$$::date
  GROUP BY platform, campaign_name
)
SELECT * FROM current c JOIN baseline b USING (platform, campaign_name) ORDER BY c.spend DESC LIMIT 20
"#;

fn output(rows: usize) -> QueryOutput {
    QueryOutput {
        columns: vec![
            Column {
                name: "platform".into(),
                ty: "text".into(),
            },
            Column {
                name: "leads".into(),
                ty: "int8".into(),
            },
            Column {
                name: "cpl".into(),
                ty: "numeric".into(),
            },
            Column {
                name: "ctr".into(),
                ty: "float8".into(),
            },
        ],
        rows: (0..rows)
            .map(|i| {
                vec![
                    Cell::Text(["meta", "google", "direct"][i % 3].into()),
                    Cell::Int(i as i64 * 7),
                    Cell::Numeric(BigDecimal::from_str(&format!("{}.{:04}", i, i % 9999)).unwrap()),
                    Cell::Float(i as f64 / 3.0),
                ]
            })
            .collect(),
    }
}

/// `n` finished query units, each with a handful of outcomes, as a run of the
/// analytics suite produces them.
fn unit_results(n: usize) -> Vec<UnitResult> {
    (0..n)
        .map(|i| {
            let mut r = UnitResult {
                check: format!("check_{:02}", i % 13),
                target: "embedded PostgreSQL 15 on 127.0.0.1:5432".into(),
                kind: UnitKind::Query,
                file: format!("checks/endpoints/check_{:02}.yaml", i % 13),
                endpoint: Some("GET /api/analytics/dashboard/v5/kpi".into()),
                param_set: format!("platform=meta window=2025-10-01..2025-10-0{}", i % 9),
                params: BTreeMap::new(),
                severity: Severity::Error,
                verdict: Verdict::Pass,
                rows: Some(35),
                timing: Some(Timing {
                    runs: 3,
                    p50_ms: 1.2,
                    max_ms: 2.4,
                    p95_ms: None,
                    budget_ms: 2000.0,
                    solo: true,
                    judged: "max of 3 solo runs".into(),
                }),
                plan: None,
                reruns: Vec::new(),
                outcomes: vec![
                    Outcome::pass(
                        "budget",
                        "budget",
                        Severity::Error,
                        "2.4 ms of 2s budget (max of 3 solo runs)",
                    ),
                    Outcome::pass("shape", "columns", Severity::Error, "6 columns as declared"),
                    Outcome::pass(
                        "row_check",
                        "roas_is_revenue_over_spend",
                        Severity::Error,
                        "35 rows",
                    ),
                    Outcome::pass(
                        "reconcile",
                        "leads_match_fact_leads",
                        Severity::Error,
                        "equal",
                    ),
                ],
                metrics: Vec::new(),
            };
            if i % 10 == 0 {
                r.outcomes.push(Outcome::fail(
                    "snapshot",
                    "snapshot",
                    Severity::Error,
                    "differs from snapshots/check/set.snap:\n-a | 1\n+a | 2",
                ));
            }
            r.settle();
            r
        })
        .collect()
}

fn render_run(format: Format, results: &[UnitResult], summary: &RunSummary) {
    let mut reporter = assay::report::build(format, Box::new(std::io::sink()), false, false);
    reporter.on_event(&Event::RunStarted {
        suite: "analytics-v6",
        target: "embedded",
        units: results.len(),
        several_targets: false,
    });
    for r in results {
        reporter.on_event(&Event::UnitFinished(r));
    }
    reporter.on_event(&Event::RunFinished(summary));
    reporter.finish().expect("sink never fails");
}

fn benches(c: &mut Criterion) {
    let mut types = BTreeMap::new();
    types.insert("date_from".to_string(), "date".to_string());
    types.insert("date_to".to_string(), "date".to_string());
    c.bench_function("rewrite_named_params", |b| {
        b.iter(|| assay::sql::rewrite(black_box(ANOMALIES_SQL), &types))
    });
    let out = output(1000);
    let spec = SnapshotSpec {
        enabled: true,
        precision: Some(6),
        redact: vec![],
    };
    c.bench_function("snapshot_render_1000_rows", |b| {
        b.iter(|| assay::snapshot::render(black_box(&out), &spec, true))
    });
    let a = assay::snapshot::render(&out, &spec, false);
    let mut changed = output(1000);
    changed.rows[500][1] = Cell::Int(-1);
    let b2 = assay::snapshot::render(&changed, &spec, false);
    c.bench_function("snapshot_diff_1000_rows", |b| {
        b.iter(|| assay::snapshot::diff(black_box(&a), black_box(&b2)))
    });
    c.bench_function("output_json_1000_rows", |b| {
        b.iter(|| assay::checks::predicates::output_json(black_box(&out)))
    });
    c.bench_function("canonical_cells_1000_rows", |b| {
        b.iter(|| {
            out.rows
                .iter()
                .flat_map(|r| r.iter().map(Cell::canonical))
                .count()
        })
    });
    let results = unit_results(113);
    let summary = RunSummary {
        suite: "analytics-v6".into(),
        target: "embedded".into(),
        environment: "fixtures".into(),
        counts: Default::default(),
        duration_ms: 2480.0,
        setup_ms: 880.0,
        replica_lag: Vec::new(),
        load_errors: Vec::new(),
        partition: None,
        infrastructure_error: None,
        fixtures: None,
    };
    for (name, format) in [
        ("report_human_113_units", Format::Human),
        ("report_json_113_units", Format::Json),
        ("report_junit_113_units", Format::Junit),
        ("report_markdown_113_units", Format::Markdown),
    ] {
        c.bench_function(name, |b| {
            b.iter(|| render_run(format, black_box(&results), &summary))
        });
    }
}

/// The analytics model's plan at `scale` (seed of assay.yaml).
fn analytics_plan(scale: f64) -> assay::gen::plan::Plan {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let model = assay::gen::model::load(root, std::path::Path::new("model.yaml"))
        .unwrap_or_else(|e| panic!("{e:?}"));
    assay::gen::plan::Plan::new(std::sync::Arc::new(model), scale, 20251005).unwrap()
}

/// Generates and encodes the rows of table `ti` for `combos` (the work of a
/// loading task, without the server): an encoding per column from the kind
/// of value it yields (a numeric(12,2) for decimals, as the schema has).
fn encode_rows(
    plan: &assay::gen::plan::Plan,
    ti: usize,
    combos: std::ops::Range<u64>,
    buf: &mut assay::gen::copy_binary::CopyBuffer,
) -> u64 {
    use assay::gen::encode::{put, Enc};
    use assay::gen::value::Kind;
    let t = &plan.model.tables[ti];
    let cols: Vec<(usize, Enc)> = t
        .loaded_columns()
        .map(|(i, c)| {
            let k = c.kind.without_null();
            let enc = if k.within(Kind::INT) {
                Enc::Int8
            } else if k.within(Kind::NUMBER) {
                Enc::Numeric(Some(2))
            } else if k.within(Kind::BOOL) {
                Enc::Bool
            } else if k.within(Kind::DATE) {
                Enc::Date
            } else {
                Enc::Text
            };
            (i, enc)
        })
        .collect();
    plan.generate(ti, combos, |row| {
        buf.row(cols.len() as i16);
        for &(i, enc) in &cols {
            put(buf, enc, &row[i])?;
        }
        Ok::<(), String>(())
    })
    .unwrap()
}

fn gen_benches(c: &mut Criterion) {
    // Scale 10: 150k leads over a year; a checksum of every loaded table's
    // encoded rows shows that a change to the interpreter kept the values.
    let plan = analytics_plan(10.0);
    let mut sum = 0xcbf2_9ce4_8422_2325u64;
    for (ti, t) in plan.model.tables.iter().enumerate().filter(|(_, t)| t.load) {
        let mut buf = assay::gen::copy_binary::CopyBuffer::default();
        let n = encode_rows(&plan, ti, 0..plan.tables[ti].combos, &mut buf);
        for &b in buf.as_bytes() {
            sum = (sum ^ b as u64).wrapping_mul(0x0100_0000_01b3);
        }
        eprintln!("{}: {n} rows, {} bytes", t.name, buf.len());
    }
    eprintln!("checksum of the encoded rows at scale 10: {sum:016x}");
    let leads = plan.model.table("dashboards.fact_leads").unwrap();
    let ads = plan.model.table("dashboards.ad_stats_daily").unwrap();
    // The loader's buffer: 1 MB chunks in a buffer of 3 MB.
    let new_buf = || assay::gen::copy_binary::CopyBuffer::with_capacity(3 << 20);
    // About 10k leads (24 days) and 10k campaign-days (the first 720 combinations).
    c.bench_function("gen_fact_leads_24_days", |b| {
        b.iter(|| {
            let mut buf = new_buf();
            encode_rows(&plan, leads, 0..24, &mut buf)
        })
    });
    c.bench_function("gen_ad_stats_720_combos", |b| {
        b.iter(|| {
            let mut buf = new_buf();
            encode_rows(&plan, ads, 0..720, &mut buf)
        })
    });
}

criterion_group!(harness, benches, gen_benches);
criterion_main!(harness);
