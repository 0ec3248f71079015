//! The engine: plans the units of a run, executes them with bounded
//! concurrency, and emits events for reporters.

pub mod events;
pub mod query_unit;
mod run;
pub mod session;
pub mod statement_log;
mod table_unit;
pub mod timing;

pub use events::{
    Counts, Event, LoadError, Partition, Reporter, Rerun, RunSummary, Timing, UnitKind, UnitResult,
    Verdict,
};
pub use run::{parse_partition, run, select_checks, stable_hash, RunOptions, Selection};
