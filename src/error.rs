//! The one error type at the top of the program and its exit codes.

use std::fmt;
use std::path::PathBuf;

/// A precise complaint about user input: which file, where, what is wrong, how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
    pub help: Option<String>,
}

impl InputError {
    pub fn new(file: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        InputError {
            file: file.into(),
            line: None,
            column: None,
            message: message.into(),
            help: None,
        }
    }
    pub fn at(mut self, line: Option<usize>, column: Option<usize>) -> Self {
        self.line = line;
        self.column = column;
        self
    }
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
    /// `file:line:column` as editors understand it.
    pub fn location(&self) -> String {
        let mut s = self.file.display().to_string();
        if let Some(l) = self.line {
            s.push_str(&format!(":{l}"));
            if let Some(c) = self.column {
                s.push_str(&format!(":{c}"));
            }
        }
        s
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location(), self.message)?;
        if let Some(h) = &self.help {
            write!(f, "\n  help: {h}")?;
        }
        Ok(())
    }
}

/// Everything that ends the program early, mapped to semantic exit codes.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Invalid input: YAML, missing files, parameters, flags. Exit code 2.
    #[error("{}", render_input_errors(.0))]
    Input(Vec<InputError>),
    /// A usage problem not tied to a file (bad flag combination). Exit code 2.
    #[error("{0}")]
    Usage(String),
    /// Postgres could not be started or reached, or the disk failed us. Exit code 3.
    #[error("{0}")]
    Infrastructure(String),
}

fn render_input_errors(errors: &[InputError]) -> String {
    errors
        .iter()
        .map(|e| format!("error: {e}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The exit codes documented in README.md.
pub mod exit_code {
    pub const OK: i32 = 0;
    pub const CHECK_FAILED: i32 = 1;
    pub const INVALID_INPUT: i32 = 2;
    pub const INFRASTRUCTURE: i32 = 3;
}

impl AppError {
    pub fn exit_code(&self) -> i32 {
        match self {
            AppError::Input(_) | AppError::Usage(_) => exit_code::INVALID_INPUT,
            AppError::Infrastructure(_) => exit_code::INFRASTRUCTURE,
        }
    }
    pub fn infra(msg: impl Into<String>) -> Self {
        AppError::Infrastructure(msg.into())
    }
}

impl From<InputError> for AppError {
    fn from(e: InputError) -> Self {
        AppError::Input(vec![e])
    }
}
