//! SQL text helpers: named-parameter rewriting and statement inspection.

pub mod aggregate;
pub mod named_params;

pub use named_params::{
    first_code_offset, inline_positional, line_of_position, rewrite, rewrite_after, scan,
    split_statements, strip_trailing_semicolon, ParamRef, Rewritten, Scan,
};

/// Quotes an identifier for Postgres (`"na""me"`).
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Quotes a string literal for Postgres (`'it''s'`).
pub fn quote_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}
