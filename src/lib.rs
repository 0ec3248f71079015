//! assay: a data-quality and regression-testing harness for the SQL behind an
//! analytics API. See ARCHITECTURE.md for the map.

pub mod app;
pub mod bench;
pub mod checks;
pub mod cli;
pub mod compare;
pub mod db;
pub mod engine;
pub mod error;
pub mod gen;
pub mod output;
pub mod report;
pub mod snapshot;
pub mod sql;
pub mod suite;
