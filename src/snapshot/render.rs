//! Deterministic text for a query output: the body of a `.snap` file.
//!
//! ```text
//! channel | orders | pct_of_total
//! text | int8 | numeric
//! ---
//! store | 120 | 33.333333
//! ```
//! Values are separated by ` | `; text that could be misread (empty, `NULL`,
//! containing `|`, a newline or edge spaces) is written as a JSON string.

use crate::output::{Cell, QueryOutput};
use crate::suite::SnapshotSpec;

fn text_value(s: &str) -> String {
    let needs_quotes = s.is_empty()
        || s == "NULL"
        || s.starts_with('"')
        || s.contains('|')
        || s.contains('\n')
        || s.contains('\r')
        || s.trim() != s;
    if needs_quotes {
        serde_json::to_string(s).unwrap_or_default()
    } else {
        s.to_string()
    }
}

fn cell(c: &Cell, precision: Option<u32>) -> String {
    let c = match precision {
        Some(p) => c.rounded(p),
        None => c.clone(),
    };
    match &c {
        Cell::Null => "NULL".into(),
        Cell::Text(t) => text_value(t),
        other => other.to_string(),
    }
}

/// Renders `out`. When `sort` is set (the query declares no order), rows are
/// sorted so that the snapshot does not depend on Postgres's plan.
pub fn render(out: &QueryOutput, spec: &SnapshotSpec, sort: bool) -> String {
    let mut s = String::new();
    s.push_str(
        &out.columns
            .iter()
            .map(|c| text_value(&c.name))
            .collect::<Vec<_>>()
            .join(" | "),
    );
    s.push('\n');
    s.push_str(
        &out.columns
            .iter()
            .map(|c| c.ty.as_str())
            .collect::<Vec<_>>()
            .join(" | "),
    );
    s.push_str("\n---\n");
    let redact: Vec<bool> = out
        .columns
        .iter()
        .map(|c| spec.redact.contains(&c.name))
        .collect();
    let mut lines: Vec<String> = out
        .rows
        .iter()
        .map(|r| {
            r.iter()
                .zip(&redact)
                .map(|(v, red)| {
                    if *red {
                        "[redacted]".to_string()
                    } else {
                        cell(v, spec.precision)
                    }
                })
                .collect::<Vec<_>>()
                .join(" | ")
        })
        .collect();
    if sort {
        lines.sort();
    }
    for l in lines {
        s.push_str(&l);
        s.push('\n');
    }
    s.push_str(&format!("({} rows)\n", out.rows.len()));
    s
}
