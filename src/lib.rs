//! assay: a data-quality and regression-testing harness for the SQL behind an
//! analytics API. See ARCHITECTURE.md for the map.

/// Prints a line on standard output; a closed pipe (`assay list | head`)
/// is not an error and never a panic.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::report::sink::say(&format!($($arg)*))
    };
}

/// Prints a line on standard error; a closed stream is not a panic.
#[macro_export]
macro_rules! tell {
    ($($arg:tt)*) => {
        $crate::report::sink::tell(&format!($($arg)*))
    };
}

pub mod app;
pub mod bench;
pub mod checks;
pub mod cli;
pub mod compare;
pub mod db;
pub mod diff;
pub mod engine;
pub mod error;
pub mod gen;
pub mod history;
pub mod http;
pub mod input;
pub mod metrics;
pub mod mutate;
pub mod notify;
pub mod output;
pub mod probe;
pub mod report;
pub mod search;
pub mod snapshot;
pub mod sql;
pub mod suite;
pub mod timing;
