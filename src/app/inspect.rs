//! `assay validate` and `assay list`: the suite as loaded, no database.

use super::load;
use crate::cli;
use crate::engine::{self, Selection};
use crate::error::{exit_code, AppError};
use std::path::Path;

pub(super) fn validate(root: &Path, v: cli::ValidateArgs) -> Result<i32, AppError> {
    let loaded = load(root, v.sql_dir)?;
    if !loaded.errors.is_empty() {
        return Err(AppError::Input(loaded.errors));
    }
    let s = &loaded.suite;
    let sets: usize = s.query_checks.iter().map(|c| c.sets.len()).sum();
    crate::say!(
        "ok: {} query checks ({} parameter sets), {} table checks in `{}`",
        s.query_checks.len(),
        sets,
        s.table_checks.len(),
        s.config.name
    );
    Ok(exit_code::OK)
}

pub(super) fn list(root: &Path, sel: cli::SelectArgs) -> Result<i32, AppError> {
    let loaded = load(root, None)?;
    let selection = Selection {
        filter: sel.filter,
        tags: sel.tags,
        partition: None,
    };
    let (queries, tables) = engine::select_checks(&loaded.suite, &selection);
    for c in queries {
        crate::say!(
            "{}  {}  {}  [{}]",
            c.name,
            c.endpoint.as_deref().unwrap_or("-"),
            c.query.display(),
            c.tags.join(", ")
        );
        for s in &c.sets {
            crate::say!("    {}", s.name);
        }
    }
    for t in tables {
        crate::say!(
            "{}  table {}  {} rules  [{}]",
            t.name,
            t.table,
            t.rules.len(),
            t.tags.join(", ")
        );
    }
    for e in &loaded.errors {
        crate::tell!("error: {e}");
    }
    Ok(if loaded.errors.is_empty() {
        exit_code::OK
    } else {
        exit_code::INVALID_INPUT
    })
}
