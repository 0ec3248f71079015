//! Walks one query's syntax tree and proposes mutants: each a set of edits
//! of the original text at the tokens of the node it mutates.

use super::operator::Operator;
use super::scope::{Catalog, Scopes};
use super::source::{Edit, Source};
use sqlparser::ast::{Expr, Query, Statement, Visit, Visitor};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;
use std::collections::BTreeMap;
use std::ops::ControlFlow;

/// What the mutator knows besides the text.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// The database's relations, for the `column` operator (empty: no
    /// column mutants).
    pub catalog: Catalog,
    /// A constant for each parameter (`date_from` -> `'2025-10-01'::date`),
    /// for the `parameter` operator.
    pub params: BTreeMap<String, String>,
}

/// One proposed mutant, before ids and locations are given.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub operator: Operator,
    pub edits: Vec<Edit>,
    /// What the mutant does, e.g. "replace >= with >".
    pub description: String,
}

pub(super) struct Finder<'s, 'a, 'c> {
    pub src: &'s Source<'a>,
    pub ctx: &'c Context,
    pub scopes: Scopes<'c>,
    pub out: Vec<Candidate>,
}

impl Finder<'_, '_, '_> {
    /// Keeps a candidate unless one of its edits would touch a comment.
    pub fn push(&mut self, operator: Operator, edits: Vec<Edit>, description: String) {
        // An insertion point inside a comment counts too (start == end).
        if edits.is_empty() || edits.iter().any(|e| self.src.has_comment(e.start, e.end)) {
            return;
        }
        self.out.push(Candidate {
            operator,
            edits,
            description,
        });
    }

    pub fn text(&self, (a, b): (usize, usize)) -> &str {
        self.src.slice(a, b)
    }
}

/// Text for a description: one line, at most 60 characters.
pub fn short(text: &str) -> String {
    let one: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() > 60 {
        let cut: String = one.chars().take(57).collect();
        format!("{cut}...")
    } else {
        one
    }
}

/// Parses the query (PostgreSQL dialect; `:name` parameters are
/// placeholders) and proposes every candidate, in no particular order.
pub fn candidates(text: &str, ctx: &Context) -> Result<Vec<Candidate>, String> {
    let statements = parse(text)?;
    let src = Source::new(text)?;
    let mut out = Vec::new();
    for stmt in &statements {
        let scopes = Scopes::build(&src, stmt, &ctx.catalog);
        let mut finder = Finder {
            src: &src,
            ctx,
            scopes,
            out: Vec::new(),
        };
        let _ = stmt.visit(&mut finder);
        out.extend(finder.out);
    }
    Ok(out)
}

/// The statements of `text`; a query file holds one.
pub fn parse(text: &str) -> Result<Vec<Statement>, String> {
    let statements = Parser::parse_sql(&PostgreSqlDialect {}, text).map_err(|e| e.to_string())?;
    if statements.len() != 1 {
        return Err(format!(
            "expected one statement, found {}",
            statements.len()
        ));
    }
    Ok(statements)
}

impl Visitor for Finder<'_, '_, '_> {
    type Break = ();

    fn pre_visit_query(&mut self, q: &Query) -> ControlFlow<()> {
        self.query(q);
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
        self.expr(e);
        ControlFlow::Continue(())
    }
}
