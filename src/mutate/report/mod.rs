//! Renderings of a mutation report, one file per format. Pure: each
//! returns text (or, for `mutants.out/`, the files to write).

pub mod human;
pub mod markdown;
pub mod mutants_out;
pub mod stryker;

use super::model::{Counts, Report, Status};

/// The formats `assay mutate` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    Markdown,
    /// Stryker's mutation-testing-report-schema JSON.
    Stryker,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "human" => Ok(Format::Human),
            "json" => Ok(Format::Json),
            "markdown" | "md" => Ok(Format::Markdown),
            "stryker" => Ok(Format::Stryker),
            other => Err(format!(
                "unknown format `{other}`; mutate writes human, json, markdown or stryker"
            )),
        }
    }
}

/// The report in `format` (human without colour).
pub fn render(report: &Report, format: Format) -> String {
    match format {
        Format::Human => human::render(report),
        Format::Json => json(report),
        Format::Markdown => markdown::render(report),
        Format::Stryker => stryker::render(report),
    }
}

pub fn json(report: &Report) -> String {
    let mut s = serde_json::to_string_pretty(report).unwrap_or_default();
    s.push('\n');
    s
}

/// Parses a report written by `--format json`.
pub fn parse_json(text: &str) -> Result<Report, String> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    match v.get("schema").and_then(|s| s.as_str()) {
        Some(super::model::SCHEMA) => serde_json::from_value(v).map_err(|e| e.to_string()),
        Some(other) => Err(format!("schema `{other}`, not `{}`", super::model::SCHEMA)),
        None => Err("no `schema` field".into()),
    }
}

/// The column headers and cells of a counts row, shared by human and markdown.
pub(crate) const COUNT_HEADERS: [&str; 7] = [
    "mutants", "caught", "missed", "timeout", "unviable", "no diff", "score",
];

pub(crate) fn count_cells(c: &Counts) -> [String; 7] {
    [
        c.mutants.to_string(),
        c.get(Status::Caught).to_string(),
        c.get(Status::Missed).to_string(),
        c.get(Status::Timeout).to_string(),
        c.get(Status::Unviable).to_string(),
        c.get(Status::NoDifference).to_string(),
        super::model::score_text(c.score()),
    ]
}

/// What the run covered: sample, partitions, operators.
pub(crate) fn scope_line(r: &Report) -> String {
    let mut parts = vec![format!("{} mutants", r.counts().mutants)];
    if let Some(s) = r.sample {
        parts.push(format!("sample of {} (seed {})", s.size, s.seed));
    }
    if let Some(n) = r.partition_count {
        let ks: Vec<String> = r.partitions.iter().map(|p| p.k.to_string()).collect();
        parts.push(format!("partition {} of {n}", ks.join("+")));
    }
    if r.operators.len() < super::operator::Operator::ALL.len() {
        let ops: Vec<&str> = r.operators.iter().map(|o| o.name()).collect();
        parts.push(format!("operators {}", ops.join(",")));
    }
    parts.join(", ")
}
