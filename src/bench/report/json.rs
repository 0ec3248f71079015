//! The JSON report (schema `assay.bench/v3`): flat results, rounded numbers.
//! `attempts` (times a query was measured), `relative_slowdown` and each
//! scale's `machine_factor` were added to v3 without changing any field's meaning.
//! v3 is schema-agnostic: `volume` (rows of `volume_relation`) instead of a count named after one suite's table.
//! v2 names timing figures for what they are: `judged_ms` (what budgets and
//! baselines judge) with `judged` saying what it is (`max of 5 runs`);
//! `p95_ms` only from 20 runs.

use super::*;

/// The JSON report's schema tag; bump it when a field changes meaning.
pub const JSON_SCHEMA: &str = "assay.bench/v3";

/// The JSON report: flat results with rounded numbers, so diffs stay small.
pub fn json(r: &BenchReport) -> String {
    let counts = Counts::of(r);
    let scales: Vec<Value> = r
        .scales
        .iter()
        .map(|s| {
            let mut o = json!({
                "scale": s.scale,
                "volume": s.volume,
                "generate_ms": round(s.generate_ms, 3),
                "relation_rows": s.relation_rows,
            });
            if r.relative_slowdown {
                o["machine_factor"] = s.machine_factor.map_or(Value::Null, |f| round(f, 3));
            }
            o
        })
        .collect();
    let results: Vec<Value> = r.rows.iter().map(|row| json_result(r, row)).collect();
    let doc = json!({
        "schema": JSON_SCHEMA,
        "suite": r.suite,
        "volume_relation": r.volume_relation,
        "volume_per_scale": r.volume_per_scale,
        "max_slowdown": r.max_slowdown,
        "min_slowdown_ms": r.min_slowdown_ms,
        "relative_slowdown": r.relative_slowdown,
        "scales": scales,
        "results": results,
        "summary": {
            "measurements": counts.measurements,
            "failures": counts.failures,
            "over_budget": counts.over_budget,
            "plan_changed": counts.plan_changed,
            "slower": counts.slower,
            "error": counts.error,
        },
    });
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    text
}

fn json_result(r: &BenchReport, row: &BenchRow) -> Value {
    let m = &row.measurement;
    let ok = m.error.is_none();
    let timing = |x: f64| if ok { round(x, 3) } else { Value::Null };
    let fp = current_fingerprint(row);
    let forecast = r.forecast(&m.check, &m.param_set);
    let from_forecast = |pick: fn(&Forecast) -> Option<f64>, decimals: i32| {
        forecast
            .and_then(pick)
            .map_or(Value::Null, |x| round(x, decimals))
    };
    let mut o = Map::new();
    o.insert("name".into(), json!(m.check));
    o.insert("param_set".into(), json!(m.param_set));
    o.insert("params".into(), json!(m.params));
    o.insert("scale".into(), json!(m.scale));
    o.insert("volume".into(), json!(m.volume));
    o.insert("runs".into(), json!(m.runs));
    o.insert("attempts".into(), json!(m.attempts));
    o.insert("p50_ms".into(), timing(m.p50_ms));
    o.insert("max_ms".into(), timing(m.max_ms));
    if let Some(p95) = m.p95_ms.filter(|_| ok) {
        o.insert("p95_ms".into(), round(p95, 3));
    }
    o.insert("judged_ms".into(), timing(m.judged_ms));
    o.insert("judged".into(), json!(m.judged));
    o.insert(
        "server_ms".into(),
        m.server_ms.map_or(Value::Null, |x| round(x, 3)),
    );
    o.insert("buffers".into(), json!(m.buffers));
    o.insert("rows".into(), json!(m.rows));
    o.insert("budget_ms".into(), round(m.budget_ms, 3));
    o.insert(
        "headroom".into(),
        row.headroom.map_or(Value::Null, |h| round(h, 3)),
    );
    o.insert("verdict".into(), json!(row.verdict));
    o.insert(
        "plan_fingerprint".into(),
        fp.as_ref().map_or(Value::Null, |f| json!(f.to_string())),
    );
    o.insert("fingerprint".into(), json!(fp));
    o.insert(
        "plan".into(),
        m.plan.as_ref().map_or(Value::Null, |p| json!(summarize(p))),
    );
    o.insert(
        "baseline".into(),
        round_all(serde_json::to_value(&row.baseline).unwrap_or(Value::Null)),
    );
    o.insert(
        "forecast_scale_at_budget".into(),
        from_forecast(|f| f.scale_at_budget, 3),
    );
    o.insert(
        "forecast_volume_at_budget".into(),
        from_forecast(|f| f.volume_at_budget, 0),
    );
    o.insert("forecast_r2".into(), from_forecast(|f| f.r2, 4));
    o.insert(
        "growth_exponent".into(),
        from_forecast(|f| f.growth_exponent, 3),
    );
    o.insert("error".into(), json!(m.error));
    Value::Object(o)
}

/// `x` rounded to `decimals` (an integer when 0); null when not finite.
pub(super) fn round(x: f64, decimals: i32) -> Value {
    if !x.is_finite() {
        return Value::Null;
    }
    if decimals == 0 && x.abs() < 9e15 {
        return json!(x.round() as i64);
    }
    let f = 10f64.powi(decimals);
    json!((x * f).round() / f)
}

/// Every non-integer number in `v` rounded to 3 decimals.
fn round_all(v: Value) -> Value {
    match v {
        Value::Number(n) if n.is_f64() => n.as_f64().map_or(Value::Null, |x| round(x, 3)),
        Value::Array(a) => Value::Array(a.into_iter().map(round_all).collect()),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (k, round_all(v))).collect()),
        other => other,
    }
}
