//! JSON Schemas (draft-07, what YAML editors read) of `assay.yaml` and of
//! check files, generated from the serde structs in `raw.rs`, so that the
//! schema an editor validates against is the parser's own definition.
//! `assay schema config|check|model` prints them; `docs/schema/` holds the
//! committed copies (a test fails when they differ).

use super::raw::{RawConfig, RawQueryCheck, RawTableCheck};
use schemars::generate::SchemaSettings;
use schemars::JsonSchema;

// Used only to describe the files; the loader tells the two kinds apart by
// the `table` key.
/// An assay check file: a query check (`query:`) or a table check
/// (`table:`). Reference: docs/check-files.md.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum CheckFile {
    Query(Box<RawQueryCheck>),
    Table(Box<RawTableCheck>),
}

/// Which document a schema describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SchemaKind {
    /// `assay.yaml`
    Config,
    /// A file under `checks/`
    Check,
    /// The data model (`scale.model`, e.g. `model.yaml`)
    Model,
}

/// The schema as pretty JSON text (with a trailing newline).
pub fn schema_text(kind: SchemaKind) -> String {
    let generator = SchemaSettings::draft07().into_generator();
    let mut schema = match kind {
        SchemaKind::Config => generator.into_root_schema_for::<RawConfig>(),
        SchemaKind::Check => generator.into_root_schema_for::<CheckFile>(),
        SchemaKind::Model => generator.into_root_schema_for::<crate::gen::model::RawModel>(),
    };
    let (title, id) = match kind {
        SchemaKind::Config => ("assay.yaml", "assay.schema.json"),
        SchemaKind::Check => ("assay check file", "check.schema.json"),
        SchemaKind::Model => ("assay data model", "model.schema.json"),
    };
    schema.insert("title".into(), title.into());
    schema.insert("$id".into(), id.into());
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}
