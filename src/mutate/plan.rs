//! From candidates to mutants: splice, check the mutant still parses, give
//! it a stable id and location, order and de-duplicate; then choose which
//! to run (operators, a seeded sample, a hash partition).

use super::generate::{self, Context};
use super::model::{Mutant, Position};
use super::operator::Operator;
use super::source::{apply, Source};
use crate::engine::stable_hash;
use std::collections::BTreeSet;

/// The mutants of one query file.
#[derive(Debug, Clone)]
pub struct Generated {
    pub mutants: Vec<Mutant>,
    /// Candidates dropped because the spliced text no longer parsed (a
    /// mutant PostgreSQL could not even read is not worth running).
    pub dropped: usize,
}

/// Every mutant of `text` (the file at `file`, relative to the suite root),
/// in text order. Errors when the query does not parse.
pub fn mutants_of(file: &str, text: &str, ctx: &Context) -> Result<Generated, String> {
    let candidates = generate::candidates(text, ctx)?;
    let src = Source::new(text)?;
    let mut out: Vec<(usize, Operator, Mutant)> = Vec::new();
    let mut dropped = 0;
    for c in candidates {
        let Some(sql) = apply(text, &c.edits) else {
            continue;
        };
        if sql == text {
            continue;
        }
        if generate::parse(&sql).is_err() {
            dropped += 1;
            continue;
        }
        let start = c.edits.iter().map(|e| e.start).min().unwrap_or(0);
        let end = c.edits.iter().map(|e| e.end).max().unwrap_or(0);
        // Outside [start, end) both texts are the same.
        let tail = text.len() - end;
        let replacement = sql[start..sql.len() - tail].to_string();
        let original = text[start..end].to_string();
        let (sl, sc) = src.line_col(start);
        let (el, ec) = src.line_col(end);
        let id = format!(
            "{:012x}",
            stable_hash(&format!("{file}\0{start}\0{end}\0{replacement}")) & 0xffff_ffff_ffff
        );
        out.push((
            start,
            c.operator,
            Mutant {
                id,
                file: file.to_string(),
                operator: c.operator,
                family: c.operator.family(),
                start: Position {
                    line: sl,
                    column: sc,
                },
                end: Position {
                    line: el,
                    column: ec,
                },
                original,
                replacement,
                description: c.description,
                sql,
            },
        ));
    }
    out.sort_by(|a, b| {
        (a.0, a.1, &a.2.replacement, &a.2.description).cmp(&(
            b.0,
            b.1,
            &b.2.replacement,
            &b.2.description,
        ))
    });
    let mut seen = BTreeSet::new();
    let mutants = out
        .into_iter()
        .map(|(_, _, m)| m)
        .filter(|m| seen.insert(m.sql.clone()))
        .collect();
    Ok(Generated { mutants, dropped })
}

/// Which mutants a run takes.
#[derive(Debug, Clone, Default)]
pub struct Choice {
    /// Only these operators (empty: all).
    pub operators: Vec<Operator>,
    /// At most this many, chosen by a hash of the seed and the id.
    pub sample: Option<(usize, u64)>,
    /// `(k, n)`: the share k of n (1-based), by a hash of the id.
    pub partition: Option<(u64, u64)>,
}

/// The mutants a run plans (operators, sample) and, of those, the ones
/// this partition runs. Order is kept.
pub fn choose(all: Vec<Mutant>, choice: &Choice) -> (usize, Vec<Mutant>) {
    let mut planned: Vec<Mutant> = all
        .into_iter()
        .filter(|m| choice.operators.is_empty() || choice.operators.contains(&m.operator))
        .collect();
    if let Some((size, seed)) = choice.sample {
        if size < planned.len() {
            let mut ranked: Vec<(u64, usize)> = planned
                .iter()
                .enumerate()
                .map(|(i, m)| (stable_hash(&format!("{seed}:{}", m.id)), i))
                .collect();
            ranked.sort();
            let keep: BTreeSet<usize> = ranked.iter().take(size).map(|&(_, i)| i).collect();
            planned = planned
                .into_iter()
                .enumerate()
                .filter(|(i, _)| keep.contains(i))
                .map(|(_, m)| m)
                .collect();
        }
    }
    let total = planned.len();
    let mine = match choice.partition {
        Some((k, n)) => planned
            .into_iter()
            .filter(|m| in_partition(&m.id, k, n))
            .collect(),
        None => planned,
    };
    (total, mine)
}

/// True when the mutant `id` belongs to share `k` of `n`.
pub fn in_partition(id: &str, k: u64, n: u64) -> bool {
    stable_hash(id) % n == k - 1
}
