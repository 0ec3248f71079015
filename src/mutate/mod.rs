//! Mutation testing of the endpoint SQL (pure: no database, no files).
//!
//! Each query is parsed with sqlparser (PostgreSQL dialect; `:name`
//! parameters are placeholders), the mutation sites are found in the syntax
//! tree, and each replacement is spliced into the ORIGINAL text at the
//! tokens of its node, so lines and comments stay as they were and a
//! mutant's diff is the one change. `assay mutate` (src/app/mutate.rs)
//! runs the mutants; `report/` renders what became of them.

mod clauses;
mod expressions;
pub mod extent;
pub mod generate;
pub mod model;
pub mod operator;
pub mod plan;
pub mod report;
pub mod scope;
pub mod source;

pub use generate::Context;
pub use model::{Counts, Mutant, Outcome, Report, Status};
pub use operator::{Family, Operator};
pub use plan::{choose, mutants_of, Choice, Generated};
pub use scope::Catalog;

#[cfg(test)]
mod tests;
