//! Reporters: one consumer of run events per output format. They see only
//! events, never the suite or the database.

pub mod digest_markdown;
pub mod html;
pub mod human;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod metrics;
pub mod plan;
pub mod sink;

use crate::engine::UnitResult;
use std::io::Write;

/// The output formats of `assay run`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
    Junit,
    Markdown,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "human" => Ok(Format::Human),
            "json" => Ok(Format::Json),
            "junit" => Ok(Format::Junit),
            "markdown" | "md" => Ok(Format::Markdown),
            other => Err(format!(
                "unknown format `{other}`; use human, json, junit or markdown"
            )),
        }
    }
}

/// Whether NO_COLOR asks for no colour (any non-empty value).
pub fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

/// Where a report goes.
pub type Sink = Box<dyn Write + Send>;

/// Sorts results into a stable order for file reports (units finish in any order).
pub fn sorted(results: &[UnitResult]) -> Vec<&UnitResult> {
    let mut v: Vec<&UnitResult> = results.iter().collect();
    v.sort_by(|a, b| {
        (a.kind as u8, &a.check, &a.param_set).cmp(&(b.kind as u8, &b.check, &b.param_set))
    });
    v
}

pub fn build(
    format: Format,
    sink: Sink,
    color: bool,
    progress: bool,
) -> Box<dyn crate::engine::Reporter> {
    match format {
        Format::Human => Box::new(human::HumanReporter::new(sink, color, progress)),
        Format::Json => Box::new(json::JsonReporter::new(sink)),
        Format::Junit => Box::new(junit::JunitReporter::new(sink)),
        Format::Markdown => Box::new(markdown::MarkdownReporter::new(sink)),
    }
}
