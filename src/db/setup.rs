//! Applies a suite's `setup:` steps (schema SQL, fixture CSVs) to a fresh database.

use crate::suite::{SetupStep, Suite};
use sqlx::postgres::PgPool;
use std::path::Path;

/// A setup step that failed, with the file and (when Postgres says) the line.
#[derive(Debug)]
pub struct SetupError {
    pub file: std::path::PathBuf,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

/// Runs every setup step in order; stops at the first failure.
pub async fn apply(pool: &PgPool, suite: &Suite) -> Result<(), SetupError> {
    for step in &suite.config.setup {
        match step {
            SetupStep::Sql(file) => run_sql_file(pool, &suite.root, file).await?,
            SetupStep::Csv { file, table } => copy_csv(pool, &suite.root, file, table).await?,
        }
    }
    Ok(())
}

pub async fn run_sql_file(pool: &PgPool, root: &Path, file: &Path) -> Result<(), SetupError> {
    let text = std::fs::read_to_string(root.join(file)).map_err(|e| SetupError {
        file: file.to_path_buf(),
        line: None,
        column: None,
        message: format!("cannot read: {e}"),
    })?;
    sqlx::raw_sql(&text).execute(pool).await.map_err(|e| {
        let (message, position) = crate::db::describe_error(&e);
        SetupError {
            file: file.to_path_buf(),
            line: position.map(|p| crate::sql::line_of_position(&text, p)),
            column: None,
            message,
        }
    })?;
    Ok(())
}

async fn copy_csv(pool: &PgPool, root: &Path, file: &Path, table: &str) -> Result<(), SetupError> {
    let fail = |message: String| SetupError {
        file: file.to_path_buf(),
        line: None,
        column: None,
        message,
    };
    let bytes = std::fs::read(root.join(file)).map_err(|e| fail(format!("cannot read: {e}")))?;
    let mut conn = pool
        .acquire()
        .await
        .map_err(|e| fail(crate::db::describe_error(&e).0))?;
    let statement = format!("COPY {table} FROM STDIN (FORMAT csv, HEADER true)");
    let mut copy = conn
        .copy_in_raw(&statement)
        .await
        .map_err(|e| fail(crate::db::describe_error(&e).0))?;
    copy.send(bytes.as_slice())
        .await
        .map_err(|e| fail(crate::db::describe_error(&e).0))?;
    copy.finish()
        .await
        .map_err(|e| fail(crate::db::describe_error(&e).0))?;
    Ok(())
}
