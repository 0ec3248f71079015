//! The `scale:` section of a suite's assay.yaml, loaded: what `gen`,
//! `bench` and the generated-data search need to make a dataset.

use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct ScaleConfig {
    /// The data model file (relative to the suite root) and its content.
    pub model_file: PathBuf,
    pub model: std::sync::Arc<super::model::Model>,
    /// The relation whose row count is the volume (the bench forecast's x
    /// axis): `scale.volume`, else the model's largest table at scale 1.
    pub volume: String,
    pub seed: u64,
    /// SQL run before the rows are loaded (the schema).
    pub before: Vec<PathBuf>,
    /// SQL run after (indexes, ANALYZE).
    pub after: Vec<PathBuf>,
    /// Light SQL run after every load, `after`'s included (materialized view
    /// refresh): what makes a replaced dataset ready to query.
    pub reload: Vec<PathBuf>,
    /// A psql script producing the same volume with generate_series
    /// (`assay gen --versus-psql`), and the psql variables it needs, as
    /// model expressions (`rows_<table>` is a table's row count).
    pub psql_equivalent: Option<PathBuf>,
    pub psql_vars: Vec<(String, String)>,
}
