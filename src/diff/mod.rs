//! `assay diff`: the base and the current version of every query, run side
//! by side on the same database under every parameter set and compared with
//! THE comparison (`crate::compare`): columns, rows (by key when one is
//! known), order, speed and plan.
//!
//! `pair` (pure) puts a check's two queries side by side; `order` (pure)
//! reads the current query's ORDER BY; `execute` runs units on a database
//! ([`execute::diff_units`]: the one entry point for fixtures, replicas,
//! data at scale and generated datasets); `judge` (pure) turns runs into
//! verdicts; `base` reads the base queries from a directory or a git
//! revision; `report` renders the result in every format.

pub mod base;
pub mod execute;
pub mod judge;
pub mod model;
pub mod order;
pub mod pair;
pub mod report;

pub use execute::{diff_units, Compared, Options};
pub use model::{DiffReport, Entry, Verdict, SCHEMA};
pub use pair::{pair, Pair, Unit};
