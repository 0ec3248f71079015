//! The one comparison of two query outputs (base and current): columns
//! aligned, rows as a multiset or by key with numeric tolerance and NULL =
//! NULL, order when the current side orders. Pure; its verdicts and samples
//! are what reconcile, diff, probe and mutate report.

pub mod columns;
pub mod model;
pub mod rows;

pub use model::{
    ColumnDiff, CompareOptions, Comparison, ModifiedRow, OrderDiff, RowDiff, RowSample, Sameness,
};
pub use rows::{compare, render_row};
