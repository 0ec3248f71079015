//! Benchmarks of assay's own hot paths (no database): parameter rewriting,
//! snapshot rendering and comparison, output normalisation.
//!
//! `cargo bench --bench harness -- --save-baseline main` saves a baseline;
//! `cargo bench --bench harness -- --baseline main` compares against it.

use assay::output::{Cell, Column, QueryOutput};
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
}

criterion_group!(harness, benches);
criterion_main!(harness);
