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

/// Runs a SQL script one statement at a time, so that a failure names the
/// line of the statement that failed (and of the position in it, when
/// PostgreSQL reports one).
pub async fn run_sql_file(pool: &PgPool, root: &Path, file: &Path) -> Result<(), SetupError> {
    let script = SqlScript::read(root, file)?;
    let mut conn = pool.acquire().await.map_err(|e| SetupError {
        file: file.to_path_buf(),
        line: None,
        column: None,
        message: crate::db::describe_error(&e).0,
    })?;
    script.run_on(&mut conn).await
}

/// A SQL file read once, to be run many times (a search's `scale.reload`
/// after every dataset).
#[derive(Debug, Clone)]
pub struct SqlScript {
    /// As written in the configuration (relative to the suite root).
    pub file: std::path::PathBuf,
    text: String,
}

impl SqlScript {
    pub fn read(root: &Path, file: &Path) -> Result<SqlScript, SetupError> {
        let text = std::fs::read_to_string(root.join(file)).map_err(|e| SetupError {
            file: file.to_path_buf(),
            line: None,
            column: None,
            message: format!("cannot read: {e}"),
        })?;
        Ok(SqlScript {
            file: file.to_path_buf(),
            text,
        })
    }

    /// Runs the statements one by one on `conn`; the first failure names
    /// the file and the line of the statement (or of the position in it).
    pub async fn run_on(&self, conn: &mut sqlx::PgConnection) -> Result<(), SetupError> {
        let text = &self.text;
        for (start, statement) in crate::sql::split_statements(text) {
            if let Err(e) = sqlx::raw_sql(statement).execute(&mut *conn).await {
                let (message, position) = crate::db::describe_error(&e);
                // The statement's first line that holds code, or the position's line.
                let first_code = crate::sql::first_code_offset(statement);
                let at = match position {
                    Some(p) => start + char_offset(statement, p.saturating_sub(1)),
                    None => start + first_code,
                };
                return Err(SetupError {
                    file: self.file.clone(),
                    line: Some(text[..at.min(text.len())].matches('\n').count() + 1),
                    column: None,
                    message,
                });
            }
        }
        Ok(())
    }
}

/// The byte offset of the `chars`-th character of `s`.
fn char_offset(s: &str, chars: usize) -> usize {
    s.char_indices()
        .nth(chars)
        .map(|(i, _)| i)
        .unwrap_or(s.len())
}

/// The line COPY names in its error context (`COPY t, line 3, column v`).
fn copy_line(e: &sqlx::Error) -> Option<usize> {
    let sqlx::Error::Database(db) = e else {
        return None;
    };
    let pg = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>()?;
    let context = pg.r#where()?;
    let at = context.find(", line ")? + ", line ".len();
    context[at..]
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

async fn copy_csv(pool: &PgPool, root: &Path, file: &Path, table: &str) -> Result<(), SetupError> {
    let fail = |e: sqlx::Error| SetupError {
        file: file.to_path_buf(),
        line: copy_line(&e),
        column: None,
        message: crate::db::describe_error(&e).0,
    };
    let bytes = std::fs::read(root.join(file)).map_err(|e| SetupError {
        file: file.to_path_buf(),
        line: None,
        column: None,
        message: format!("cannot read: {e}"),
    })?;
    let mut conn = pool.acquire().await.map_err(fail)?;
    let statement = format!("COPY {table} FROM STDIN (FORMAT csv, HEADER true)");
    let mut copy = conn.copy_in_raw(&statement).await.map_err(fail)?;
    copy.send(bytes.as_slice()).await.map_err(fail)?;
    copy.finish().await.map_err(fail)?;
    Ok(())
}

/// Drops each schema (and everything in it) if it exists.
pub async fn drop_schemas(pool: &PgPool, schemas: &[String]) -> Result<(), sqlx::Error> {
    for s in schemas {
        let drop = format!(
            "drop schema if exists {} cascade",
            crate::sql::quote_ident(s)
        );
        sqlx::raw_sql(&drop).execute(pool).await?;
    }
    Ok(())
}
