//! Check logic: pure functions over query outputs. Nothing here touches the
//! database; where SQL semantics are needed (predicates, table checks) this
//! module writes the SQL and interprets the answer, and the engine runs it.

pub mod outcome;
pub mod predicates;
pub mod reconcile;
pub mod relations;
pub mod sample;
pub mod shape;
pub mod table;
#[cfg(test)]
mod testing;

pub use outcome::{Outcome, Status};
