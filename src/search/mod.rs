//! Counterexamples from generated data (`assay diff --generated`, `assay
//! mutate --generated`): small datasets drawn from the suite's data model,
//! aimed at the boundaries of the queries compared, loaded one after
//! another into the throwaway cluster until the two versions of a query
//! differ on one; that dataset is then shrunk to the few rows that matter
//! and printed as a fixture.
//!
//! One job per module: `candidates` reads a query's boundaries (pure),
//! `domain` decides what each column may hold (pure), `sample` draws a
//! dataset as flat rows with links by index and realises it (pure), `tree`
//! shrinks it (pure, proptest's `ValueTree`), `fixture` prints it as INSERTs
//! (pure), `params` draws parameter sets from a check's declared types
//! (pure), `catalog` reads the column types (IO), `run` loads, compares
//! through `crate::diff` and drives proptest (IO).

pub mod candidates;
pub mod catalog;
pub mod domain;
pub mod fixture;
pub mod params;
pub mod report;
pub mod run;
pub mod sample;
pub mod tree;

pub use candidates::Candidates;
pub use domain::{ColumnTypes, Domains};
pub use run::{Found, Lab, Outcome, Tried};
