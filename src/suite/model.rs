//! The validated suite: what the engine runs. Built by `load` from the raw YAML.

use super::duration::HumanDuration;
use super::params::{ParamSet, ParamType, ParamValue};
pub use super::raw::{CompareKind, Environment, Severity};
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct Suite {
    /// Directory holding `assay.yaml`; every relative path is relative to it.
    pub root: PathBuf,
    pub config: Config,
    pub query_checks: Vec<QueryCheck>,
    pub table_checks: Vec<TableCheck>,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub name: String,
    pub postgres_version: u32,
    pub checks_dir: PathBuf,
    pub endpoint_sql_dir: PathBuf,
    pub snapshots_dir: PathBuf,
    pub setup: Vec<SetupStep>,
    pub defaults: Defaults,
    /// Image for the docker target (default `postgres`).
    pub docker_image: String,
    /// Tag for the docker target (default: the major version).
    pub docker_tag: String,
    /// How to generate the dataset at scale (`assay gen`, `assay bench`).
    pub scale: Option<ScaleConfig>,
    pub bench: BenchConfig,
}

pub use crate::gen::config::ScaleConfig;

#[derive(Debug, Clone)]
pub struct BenchConfig {
    /// Where plan/time baselines live (one YAML file per check).
    pub baselines_dir: PathBuf,
    /// A judged time above baseline × this ratio fails (`slower`)...
    pub max_slowdown: f64,
    /// ...unless it grew by less than this many milliseconds (noise floor).
    pub min_slowdown_ms: f64,
    pub warmup_runs: u32,
    pub timed_runs: u32,
}

#[derive(Debug, Clone)]
pub struct Defaults {
    pub budget: HumanDuration,
    pub severity: Severity,
    /// Solo timed runs for every query; None: automatic (only when the
    /// checked execution took more than half the budget).
    pub timing_runs: Option<u32>,
    pub tolerance: f64,
    pub sample_rows: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetupStep {
    /// A SQL script, run as one multi-statement simple query.
    Sql(PathBuf),
    /// A CSV file with a header row, loaded with COPY into `table`.
    Csv { file: PathBuf, table: String },
}

/// One endpoint query, its parameter sets and what its output must satisfy.
#[derive(Debug, Clone)]
pub struct QueryCheck {
    pub name: String,
    pub description: Option<String>,
    pub endpoint: Option<String>,
    /// The check file, relative to the suite root.
    pub file: PathBuf,
    /// The query file as written in the check (relative to the SQL directory).
    pub query: PathBuf,
    /// The query file actually read (SQL directory applied).
    pub query_path: PathBuf,
    /// The query text as written, named parameters and all.
    pub sql: String,
    /// The query as sent to Postgres (`$n::type`), rewritten once at load.
    pub statement: crate::sql::Rewritten,
    /// The query has a top-level ORDER BY or an `order_by` expectation, so
    /// its snapshot keeps the row order.
    pub declares_order: bool,
    pub severity: Severity,
    pub tags: Vec<String>,
    pub budget: HumanDuration,
    pub environments: Vec<Environment>,
    pub types: BTreeMap<String, ParamType>,
    pub sets: Vec<ParamSet>,
    pub expect: Expect,
    /// How the endpoint's request and answer map onto the query (`assay probe`).
    pub api: ApiMapping,
    /// How `assay diff` compares the query's versions.
    pub diff: DiffSpec,
}

/// A query check's `diff:` section, validated: the row key `assay diff`
/// matches rows by, and an acknowledged change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiffSpec {
    /// `diff.key`: the columns that identify a row (None: the first
    /// `expect.unique` key, if any).
    pub key: Option<Vec<String>>,
    /// `diff.expect_different`: why this query's output is meant to differ
    /// from the base; its differences then pass.
    pub expect_different: Option<String>,
}

/// How a query check's endpoint differs from its query: parameter and field
/// names, where the rows are, which columns may come as decimal strings.
/// Validated at load; empty when the check has no `api:` section.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiMapping {
    /// Query parameter -> the API's parameter name (only where they differ).
    pub params: BTreeMap<String, String>,
    /// Field path to the rows in the JSON answer; empty: the top level.
    pub rows: Vec<String>,
    /// Output column -> the API's field name (only where they differ).
    pub fields: BTreeMap<String, String>,
    /// Columns that may come as strings of decimals.
    pub decimal_strings: Vec<String>,
    /// The parameter set the dashboard page loads with.
    pub page_set: Option<String>,
}

impl ApiMapping {
    /// The API's name for query parameter `param`.
    pub fn param_name<'a>(&'a self, param: &'a str) -> &'a str {
        self.params.get(param).map(String::as_str).unwrap_or(param)
    }
    /// The API's field name for output column `column`.
    pub fn field_name<'a>(&'a self, column: &'a str) -> &'a str {
        self.fields
            .get(column)
            .map(String::as_str)
            .unwrap_or(column)
    }
}

#[derive(Debug, Clone, Default)]
pub struct Expect {
    pub columns: Option<Vec<ColumnSpec>>,
    pub row_bounds: Option<(Option<u64>, Option<u64>)>,
    pub not_null: Vec<String>,
    pub unique: Vec<Vec<String>>,
    pub accepted_values: Vec<AcceptedValues>,
    pub order_by: Option<String>,
    pub row_checks: Vec<RowCheck>,
    pub aggregate_checks: Vec<AggregateCheck>,
    pub reconcile: Vec<Reconcile>,
    pub relations: Vec<Relation>,
    pub snapshot: SnapshotSpec,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnSpec {
    pub name: String,
    /// Normalised Postgres type name (`int8`, `numeric`, `text`, ...).
    pub ty: Option<String>,
    pub nullable: Option<bool>,
}

#[derive(Debug, Clone)]
pub struct AcceptedValues {
    pub column: String,
    pub values: Vec<String>,
    pub allow_null: bool,
    pub severity: Option<Severity>,
}

/// Applicability shared by every named expectation.
#[derive(Debug, Clone)]
pub struct Scope {
    pub severity: Option<Severity>,
    pub environments: Option<Vec<Environment>>,
}

#[derive(Debug, Clone)]
pub struct RowCheck {
    pub name: String,
    /// A boolean SQL expression over one output row.
    pub predicate: String,
    pub scope: Scope,
}

#[derive(Debug, Clone)]
pub struct AggregateCheck {
    pub name: String,
    pub predicate: String,
    pub scope: Scope,
}

#[derive(Debug, Clone)]
pub struct Reconcile {
    pub name: String,
    pub sql: String,
    /// The verification query as sent to Postgres, rewritten once at load.
    pub statement: crate::sql::Rewritten,
    pub compare: CompareKind,
    pub column: Option<String>,
    pub columns: Vec<String>,
    pub tolerance: f64,
    pub exact: bool,
    pub scope: Scope,
}

#[derive(Debug, Clone)]
pub enum RelationKind {
    /// Sets differing only in `param`: parts add up to the set where it equals `total`.
    Partition {
        param: String,
        total: ParamValue,
        measures: Vec<String>,
        by: Vec<String>,
        complete: bool,
    },
    /// Rows of a filtered set appear among the rows of the `total` set.
    Subset {
        param: String,
        total: ParamValue,
        columns: Option<Vec<String>>,
    },
    /// A set whose [from, to] lies inside another's never has larger measures.
    Narrower {
        from: String,
        to: String,
        measures: Vec<String>,
    },
}

#[derive(Debug, Clone)]
pub struct Relation {
    pub name: String,
    pub kind: RelationKind,
    pub tolerance: f64,
    pub scope: Scope,
}

#[derive(Debug, Clone)]
pub struct SnapshotSpec {
    pub enabled: bool,
    pub precision: Option<u32>,
    pub redact: Vec<String>,
}

impl Default for SnapshotSpec {
    fn default() -> Self {
        SnapshotSpec {
            enabled: true,
            precision: None,
            redact: Vec::new(),
        }
    }
}

/// Data-quality checks on one relation, computed in one statement.
#[derive(Debug, Clone)]
pub struct TableCheck {
    pub name: String,
    pub description: Option<String>,
    pub file: PathBuf,
    pub table: String,
    pub severity: Severity,
    pub tags: Vec<String>,
    pub environments: Vec<Environment>,
    pub rules: Vec<TableRule>,
}

#[derive(Debug, Clone)]
pub struct TableRule {
    pub name: String,
    pub severity: Severity,
    pub kind: TableRuleKind,
    /// Change and anomaly rules on the number the rule measures (metric,
    /// row_count, freshness); empty for the others.
    pub watch: crate::metrics::Watch,
}

/// A metric measured per day of the data instead of once per run.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesSpec {
    /// SQL giving a row's day (a date, timestamp or `YYYY-MM-DD` text).
    pub day: String,
    /// SQL splitting the series (one series per value).
    pub by: Option<String>,
    /// Days read back from the latest day in the data.
    pub days: u32,
    /// The value of a day without rows; None leaves a gap.
    pub fill: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TableRuleKind {
    RowCount {
        min: Option<u64>,
        max: Option<u64>,
    },
    NotNull(String),
    Unique(Vec<String>),
    ValidDate(String),
    Pattern {
        column: String,
        regex: String,
    },
    AcceptedValues {
        column: String,
        values: Vec<String>,
        allow_null: bool,
    },
    NonNegative(String),
    Freshness {
        column: String,
        max_age: HumanDuration,
        as_of: String,
    },
    Metric {
        sql: String,
        filter: Option<String>,
        thresholds: crate::metrics::Thresholds,
        unit: Option<String>,
        series: Option<SeriesSpec>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Lt,
    Le,
    Eq,
    Ge,
    Gt,
    Ne,
}

impl CompareOp {
    pub fn parse(s: &str) -> Option<CompareOp> {
        Some(match s.trim() {
            "<" => CompareOp::Lt,
            "<=" => CompareOp::Le,
            "=" | "==" => CompareOp::Eq,
            ">=" => CompareOp::Ge,
            ">" => CompareOp::Gt,
            "!=" | "<>" => CompareOp::Ne,
            _ => return None,
        })
    }
    pub fn symbol(&self) -> &'static str {
        match self {
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            CompareOp::Eq => "=",
            CompareOp::Ge => ">=",
            CompareOp::Gt => ">",
            CompareOp::Ne => "!=",
        }
    }
    pub fn holds(&self, left: f64, right: f64) -> bool {
        match self {
            CompareOp::Lt => left < right,
            CompareOp::Le => left <= right,
            CompareOp::Eq => left == right,
            CompareOp::Ge => left >= right,
            CompareOp::Gt => left > right,
            CompareOp::Ne => left != right,
        }
    }
}

impl Scope {
    pub fn applies_to(&self, env: Environment) -> bool {
        self.environments
            .as_ref()
            .map(|e| e.contains(&env))
            .unwrap_or(true)
    }
}

impl QueryCheck {
    pub fn applies_to(&self, env: Environment) -> bool {
        self.environments.contains(&env)
    }
}

impl TableCheck {
    pub fn applies_to(&self, env: Environment) -> bool {
        self.environments.contains(&env)
    }
}

/// Normalises a user-written column type to the name Postgres reports.
pub fn normalize_type_name(t: &str) -> String {
    let t = t.trim().to_ascii_lowercase();
    let mapped = match t.as_str() {
        "bigint" | "int8" => "int8",
        "integer" | "int" | "int4" => "int4",
        "smallint" | "int2" => "int2",
        "double precision" | "float8" | "double" => "float8",
        "real" | "float4" => "float4",
        "boolean" | "bool" => "bool",
        "character varying" | "varchar" => "varchar",
        "decimal" | "numeric" => "numeric",
        "timestamp without time zone" | "timestamp" => "timestamp",
        "timestamp with time zone" | "timestamptz" => "timestamptz",
        "character" | "char" | "bpchar" => "bpchar",
        other => other,
    };
    mapped.to_string()
}
