//! The YAML documents exactly as written: strict serde structs, no logic.
//!
//! Every struct denies unknown fields; `untagged`/`flatten` are avoided so that
//! serde's errors stay precise (they carry line and column).

use super::duration::HumanDuration;
use schemars::JsonSchema;
use serde::{de, Deserialize, Deserializer};
use serde_yaml_ng::{Mapping, Value as Yaml};
use std::collections::BTreeMap;
use std::fmt;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, JsonSchema, serde::Serialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warn,
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Warn => "warn",
            Severity::Error => "error",
        })
    }
}

/// Where a check applies: fixture databases or production (read-only) databases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Fixtures,
    Production,
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Environment::Fixtures => "fixtures",
            Environment::Production => "production",
        })
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub name: String,
    pub postgres_version: Option<u32>,
    pub paths: Option<RawPaths>,
    #[serde(default)]
    pub setup: Vec<RawSetupStep>,
    pub defaults: Option<RawDefaults>,
    pub docker: Option<RawDocker>,
    pub scale: Option<RawScale>,
    pub bench: Option<RawBench>,
}

/// `scale:` in assay.yaml: how `assay gen` / `assay bench` build data at N×.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawScale {
    /// The data model file (YAML): the tables to fill and how.
    pub model: String,
    /// The relation whose row count is the data volume (default: the
    /// model's largest table at scale 1).
    pub volume: Option<String>,
    pub seed: Option<u64>,
    /// SQL creating the schema.
    #[serde(default)]
    pub before: Vec<String>,
    /// SQL run once after a load: indexes, ANALYZE.
    #[serde(default)]
    pub after: Vec<String>,
    /// Light SQL run after every load (materialized view refresh).
    #[serde(default)]
    pub reload: Vec<String>,
    /// A psql script producing the same volume (`assay gen --versus-psql`).
    pub psql_equivalent: Option<String>,
    /// psql variables for that script, as model expressions (`days:
    /// history_days`, `orders: rows_orders`).
    #[serde(default)]
    pub psql_vars: std::collections::BTreeMap<String, String>,
}

/// `bench:` in assay.yaml: baselines and the thresholds of `assay bench`.
#[derive(Debug, Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct RawBench {
    pub baselines: Option<String>,
    #[serde(alias = "max_p95_ratio")]
    pub max_slowdown: Option<f64>,
    #[serde(alias = "min_p95_delta")]
    pub min_slowdown_delta: Option<HumanDuration>,
    pub warmup_runs: Option<u32>,
    pub timed_runs: Option<u32>,
}

#[derive(Debug, Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct RawDocker {
    pub image: Option<String>,
    pub tag: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct RawPaths {
    pub checks: Option<String>,
    pub endpoint_sql: Option<String>,
    pub snapshots: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSetupStep {
    pub sql: Option<String>,
    pub csv: Option<String>,
    pub table: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct RawDefaults {
    pub budget: Option<HumanDuration>,
    pub severity: Option<Severity>,
    pub timing_runs: Option<TimingRuns>,
    pub tolerance: Option<f64>,
    pub sample_rows: Option<usize>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawQueryCheck {
    pub name: String,
    pub description: Option<String>,
    pub endpoint: Option<String>,
    pub query: String,
    pub severity: Option<Severity>,
    #[serde(default)]
    pub tags: Vec<String>,
    pub budget: Option<HumanDuration>,
    pub environments: Option<Vec<Environment>>,
    pub params: Option<RawParams>,
    pub expect: Option<RawExpect>,
    /// How the check's endpoint answers, where it differs from the SQL (`assay probe`).
    pub api: Option<RawApi>,
    /// How `assay diff` compares this query's old and new versions.
    pub diff: Option<RawDiff>,
}

#[derive(Debug, Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct RawParams {
    pub types: Option<BTreeMap<String, String>>,
    pub sets: Option<Vec<RawParamSet>>,
    #[schemars(with = "Option<BTreeMap<String, serde_json::Value>>")]
    pub matrix: Option<Mapping>,
    #[schemars(with = "Option<BTreeMap<String, serde_json::Value>>")]
    pub fixed: Option<Mapping>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawParamSet {
    pub name: String,
    #[schemars(with = "BTreeMap<String, serde_json::Value>")]
    pub values: Mapping,
}

#[derive(Debug, Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct RawExpect {
    pub columns: Option<Vec<RawColumn>>,
    pub rows: Option<RawBounds>,
    #[serde(default)]
    pub not_null: Vec<String>,
    #[serde(default)]
    pub unique: Vec<KeySpec>,
    #[serde(default)]
    pub accepted_values: Vec<RawAccepted>,
    pub order_by: Option<String>,
    #[serde(default)]
    pub row_checks: Vec<RawRowCheck>,
    #[serde(default)]
    pub aggregate_checks: Vec<RawAggregateCheck>,
    #[serde(default)]
    pub reconcile: Vec<RawReconcile>,
    #[serde(default)]
    pub relations: Vec<RawRelation>,
    pub snapshot: Option<RawSnapshot>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawColumn {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: Option<String>,
    pub nullable: Option<bool>,
}

#[derive(Debug, Deserialize, JsonSchema, Clone, Copy)]
#[serde(deny_unknown_fields)]
pub struct RawBounds {
    pub min: Option<u64>,
    pub max: Option<u64>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawAccepted {
    pub column: String,
    #[schemars(with = "Vec<serde_json::Value>")]
    pub values: Vec<Yaml>,
    #[serde(default)]
    pub allow_null: bool,
    pub severity: Option<Severity>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRowCheck {
    pub name: String,
    pub sql: Option<String>,
    pub left: Option<String>,
    pub right: Option<String>,
    pub tolerance: Option<f64>,
    pub severity: Option<Severity>,
    pub environments: Option<Vec<Environment>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawAggregateCheck {
    pub name: String,
    pub sql: String,
    pub severity: Option<Severity>,
    pub environments: Option<Vec<Environment>>,
}

#[derive(Debug, Deserialize, JsonSchema, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum CompareKind {
    Scalar,
    Rows,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawReconcile {
    pub name: String,
    pub sql: String,
    pub compare: CompareKind,
    pub column: Option<String>,
    pub columns: Option<Vec<String>>,
    pub tolerance: Option<f64>,
    #[serde(default)]
    pub exact: bool,
    pub severity: Option<Severity>,
    pub environments: Option<Vec<Environment>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRelation {
    pub name: String,
    pub partition: Option<String>,
    pub subset: Option<String>,
    pub narrower: Option<Vec<String>>,
    #[serde(default)]
    #[schemars(with = "serde_json::Value")]
    pub total: Yaml,
    #[serde(default)]
    pub measures: Vec<String>,
    #[serde(default)]
    pub by: Vec<String>,
    pub columns: Option<Vec<String>>,
    pub complete: Option<bool>,
    pub tolerance: Option<f64>,
    pub severity: Option<Severity>,
    pub environments: Option<Vec<Environment>>,
}

#[derive(Debug, Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct RawSnapshot {
    pub enabled: Option<bool>,
    pub precision: Option<u32>,
    #[serde(default)]
    pub redact: Vec<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawTableCheck {
    pub name: String,
    pub description: Option<String>,
    pub table: String,
    pub severity: Option<Severity>,
    #[serde(default)]
    pub tags: Vec<String>,
    pub environments: Option<Vec<Environment>>,
    pub checks: Vec<RawTableRule>,
}

/// One entry of a table check; exactly one rule key must be present.
#[derive(Debug, Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct RawTableRule {
    pub name: Option<String>,
    pub severity: Option<Severity>,
    pub row_count: Option<RawBounds>,
    pub not_null: Option<Vec<String>>,
    pub unique: Option<Vec<KeySpec>>,
    pub valid_date: Option<String>,
    pub pattern: Option<RawPattern>,
    pub accepted_values: Option<RawTableAccepted>,
    pub non_negative: Option<Vec<String>>,
    pub freshness: Option<RawFreshness>,
    pub metric: Option<RawMetric>,
    /// Rules on how the entry's number moves (metric, row_count, freshness).
    pub change: Option<RawChange>,
    #[serde(default, deserialize_with = "empty_means_defaults")]
    pub anomaly: Option<RawAnomaly>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawPattern {
    pub column: String,
    pub regex: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawTableAccepted {
    pub column: String,
    #[schemars(with = "Vec<serde_json::Value>")]
    pub values: Vec<Yaml>,
    #[serde(default)]
    pub allow_null: bool,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawFreshness {
    pub column: String,
    pub max_age: HumanDuration,
    pub as_of: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawMetric {
    pub name: Option<String>,
    /// An aggregate over the relation (per day and split value with `per_day`).
    pub sql: String,
    #[serde(rename = "where")]
    pub filter: Option<String>,
    pub op: Option<String>,
    pub value: Option<f64>,
    pub severity: Option<Severity>,
    /// Smallest allowed value (at the metric's severity).
    pub min: Option<f64>,
    /// Largest allowed value.
    pub max: Option<f64>,
    /// Shown with the value: `%`, `rows`, `EUR`, `s` (shown as hours or days).
    pub unit: Option<String>,
    /// A series over the data's own time: SQL giving each row's day.
    pub per_day: Option<String>,
    /// Split the series by this SQL expression (e.g. the channel).
    pub by: Option<String>,
    /// Days read back from the latest day in the data (default 35, or more
    /// when the anomaly rule needs it).
    pub days: Option<u32>,
    /// The value of a day without rows (default: a gap).
    pub fill: Option<f64>,
}

/// `change:` on a table check entry.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawChange {
    /// Largest allowed change in percent of the previous value.
    pub max_pct: Option<f64>,
    /// Largest allowed change in the metric's unit.
    pub max: Option<f64>,
    /// Which moves count (default both).
    pub direction: Option<crate::metrics::Direction>,
    /// Default warn.
    pub severity: Option<Severity>,
}

/// `anomaly:` on a table check entry (`anomaly: {}` or just `anomaly:` for the defaults).
#[derive(Debug, Deserialize, Default, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawAnomaly {
    /// Deviations from the expected value that make an anomaly (default 3).
    pub sensitivity: Option<f64>,
    /// Values the expectation is computed from (default 14, 28 with seasonality).
    pub training: Option<usize>,
    /// Fewer values: not judged (default 7, 14 with seasonality).
    pub min_training: Option<usize>,
    /// Newest days judged by a run; the detection − 1 values before a point
    /// stay out of its training (default 2).
    pub detection: Option<usize>,
    /// Which moves count (default both).
    pub direction: Option<crate::metrics::Direction>,
    /// `day_of_week`: compare a day with earlier days of its weekday.
    pub seasonality: Option<crate::metrics::Seasonality>,
    /// The floor under the deviation (default relative 0.01, absolute 0.001).
    pub min_deviation: Option<RawMinDeviation>,
    /// Default warn.
    pub severity: Option<Severity>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawMinDeviation {
    /// A fraction of |expected|.
    pub relative: Option<f64>,
    /// In the metric's unit.
    pub absolute: Option<f64>,
}

/// A present key without a value (`anomaly:`) means "all defaults".
fn empty_means_defaults<'de, D: Deserializer<'de>, T: Deserialize<'de> + Default>(
    d: D,
) -> Result<Option<T>, D::Error> {
    Ok(Some(Option::<T>::deserialize(d)?.unwrap_or_default()))
}

/// `timing_runs:` — `auto` (time again only when the verdict needs it) or a
/// number of solo timed runs for every query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimingRuns {
    Auto,
    Runs(u32),
}

impl<'de> Deserialize<'de> for TimingRuns {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = TimingRuns;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("`auto` or a number of timed runs (0 to 1000)")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<TimingRuns, E> {
                match v {
                    "auto" => Ok(TimingRuns::Auto),
                    other => Err(E::custom(format!(
                        "timing_runs is `auto` or a number, not `{other}`"
                    ))),
                }
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<TimingRuns, E> {
                if v > 1000 {
                    return Err(E::custom("timing_runs is at most 1000"));
                }
                Ok(TimingRuns::Runs(v as u32))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<TimingRuns, E> {
                if v < 0 {
                    return Err(E::custom("timing_runs cannot be negative"));
                }
                self.visit_u64(v as u64)
            }
        }
        d.deserialize_any(V)
    }
}

/// A key: one column (`order_id`) or several (`[region, sku]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySpec(pub Vec<String>);

impl<'de> Deserialize<'de> for KeySpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> de::Visitor<'de> for V {
            type Value = KeySpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a column name or a list of column names")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<KeySpec, E> {
                Ok(KeySpec(vec![v.to_string()]))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<KeySpec, A::Error> {
                let mut cols = Vec::new();
                while let Some(c) = seq.next_element::<String>()? {
                    cols.push(c);
                }
                if cols.is_empty() {
                    return Err(de::Error::custom("a key needs at least one column"));
                }
                Ok(KeySpec(cols))
            }
        }
        d.deserialize_any(V)
    }
}

/// `api:` in a query check: how its endpoint's request and answer differ from
/// the query's parameters and columns (read by `assay probe`).
#[derive(Debug, Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct RawApi {
    /// Query parameter -> the API's name for it (query string or `{route}` parameter).
    pub params: Option<BTreeMap<String, String>>,
    /// Where the rows are in the JSON answer: a field path such as `data` or
    /// `result.items`; absent: the top level.
    pub rows: Option<String>,
    /// Output column -> the API's field name.
    pub fields: Option<BTreeMap<String, String>>,
    /// Columns the API may send as strings of decimals (`"12.50"`).
    #[serde(default)]
    pub decimal_strings: Vec<String>,
    /// The parameter set the dashboard page loads with (default: a set named
    /// `default`, else the first set).
    pub page_set: Option<String>,
}

/// `diff:` in a query check: how `assay diff` compares the base and the
/// current version of its query.
#[derive(Debug, Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct RawDiff {
    /// Output columns that identify a row: rows with the same key are the
    /// same row (identical or modified). Default: the first `expect.unique` key.
    pub key: Option<KeySpec>,
    /// The output is meant to differ from the base (say why): its
    /// differences are reported but do not fail the diff.
    pub expect_different: Option<String>,
}

impl JsonSchema for TimingRuns {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "TimingRuns".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "`auto` (time a query again only when its first execution is above half its budget) or a number of solo timed runs for every query",
            "oneOf": [
                {"type": "string", "enum": ["auto"]},
                {"type": "integer", "minimum": 0, "maximum": 1000}
            ]
        })
    }
}

impl JsonSchema for KeySpec {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Key".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "one column, or a list of columns",
            "oneOf": [
                {"type": "string"},
                {"type": "array", "items": {"type": "string"}, "minItems": 1}
            ]
        })
    }
}

#[cfg(test)]
mod metric_key_tests {
    use super::*;

    #[test]
    fn anomaly_key_absent_empty_or_mapping() {
        let r: RawTableRule = serde_yaml_ng::from_str("row_count: {min: 1}").unwrap();
        assert!(r.anomaly.is_none());
        let r: RawTableRule = serde_yaml_ng::from_str("row_count: {min: 1}\nanomaly:").unwrap();
        assert!(r.anomaly.is_some());
        let r: RawTableRule =
            serde_yaml_ng::from_str("row_count: {min: 1}\nanomaly: {training: 7}").unwrap();
        assert_eq!(r.anomaly.unwrap().training, Some(7));
    }
}
