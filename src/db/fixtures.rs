//! The fixture database of a run: the suite's `setup:` applied to a
//! database assay owns. Databases it does not own are never touched.

use super::setup::SetupError;
use super::Database;
use crate::error::{AppError, InputError};
use crate::suite::Suite;

/// A setup step that failed: invalid input (exit 2), with file and line.
#[derive(Debug)]
pub struct FixtureError(pub SetupError);

impl FixtureError {
    pub fn into_app_error(self) -> AppError {
        let e = self.0;
        AppError::Input(vec![InputError::new(
            &e.file,
            format!("setup failed: {}", e.message),
        )
        .at(e.line, e.column)
        .help(
            "fix the schema or fixture file; setup runs in the order of `setup:` in assay.yaml",
        )])
    }
}

/// Loads the suite's schema and fixtures into `db` when assay owns it.
pub async fn prepare(db: &mut Database, suite: &Suite) -> Result<(), FixtureError> {
    if db.external {
        return Ok(());
    }
    super::setup::apply(&db.pool, suite)
        .await
        .map_err(FixtureError)
}
