//! Where an expression really starts and ends in the text.
//!
//! sqlparser 0.59's spans are anchors, not extents: a function's span stops
//! before its `)`, a `::type` cast covers only the operand, `x IS NULL` only
//! `x`, an interval only its string, nested parentheses are left out. The
//! extent is rebuilt here from the children's extents and the tokens around
//! them; None when the text does not look as expected (the site is then not
//! mutated rather than mutated in the wrong place).

use super::source::Source;
use sqlparser::ast::{
    CastKind, Expr, Function, FunctionArguments, ObjectNamePart, Query, Spanned, UnaryOperator,
};
use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::Token;

pub type Range = (usize, usize);

fn union(a: Range, b: Range) -> Range {
    (a.0.min(b.0), a.1.max(b.1))
}

/// The byte range of `e` in `src`.
pub fn extent(src: &Source, e: &Expr) -> Option<Range> {
    match e {
        Expr::Identifier(id) => src.range(id.span),
        Expr::CompoundIdentifier(ids) => {
            let first = src.range(ids.first()?.span)?;
            let last = src.range(ids.last()?.span)?;
            Some(union(first, last))
        }
        Expr::Value(v) => src.range(v.span),
        Expr::BinaryOp { left, right, .. } => Some(union(extent(src, left)?, extent(src, right)?)),
        Expr::Nested(inner) => parenthesised(src, extent(src, inner)?),
        Expr::UnaryOp { op, expr } => {
            let (a, b) = extent(src, expr)?;
            let i = src.last_ending_by(a)?;
            let ok = match op {
                UnaryOperator::Not => src.is_keyword(i, Keyword::NOT),
                UnaryOperator::Minus => src.is(i, &Token::Minus),
                UnaryOperator::Plus => src.is(i, &Token::Plus),
                _ => false,
            };
            ok.then(|| (src.tokens[i].start, b))
        }
        Expr::IsNull(x)
        | Expr::IsNotNull(x)
        | Expr::IsTrue(x)
        | Expr::IsNotTrue(x)
        | Expr::IsFalse(x)
        | Expr::IsNotFalse(x)
        | Expr::IsUnknown(x)
        | Expr::IsNotUnknown(x) => {
            let (a, b) = extent(src, x)?;
            let mut j = src.first_at_or_after(b);
            if !src.is_keyword(j, Keyword::IS) {
                return None;
            }
            j += 1;
            if src.is_keyword(j, Keyword::NOT) {
                j += 1;
            }
            let last = [
                Keyword::NULL,
                Keyword::TRUE,
                Keyword::FALSE,
                Keyword::UNKNOWN,
            ]
            .iter()
            .any(|k| src.is_keyword(j, *k));
            last.then(|| (a, src.tokens[j].end))
        }
        Expr::IsDistinctFrom(x, y) | Expr::IsNotDistinctFrom(x, y) => {
            Some(union(extent(src, x)?, extent(src, y)?))
        }
        Expr::Between { expr, high, .. } => Some(union(extent(src, expr)?, extent(src, high)?)),
        Expr::Like {
            expr,
            pattern,
            escape_char,
            ..
        }
        | Expr::ILike {
            expr,
            pattern,
            escape_char,
            ..
        } => {
            if escape_char.is_some() {
                return None;
            }
            Some(union(extent(src, expr)?, extent(src, pattern)?))
        }
        Expr::InList { expr, list, .. } => {
            let (a, _) = extent(src, expr)?;
            let (_, b) = extent(src, list.last()?)?;
            let j = src.first_at_or_after(b);
            src.is(j, &Token::RParen).then(|| (a, src.tokens[j].end))
        }
        Expr::InSubquery { expr, subquery, .. } => {
            let (a, _) = extent(src, expr)?;
            let (_, b) = query_in_parens(src, subquery)?;
            Some((a, b))
        }
        Expr::Subquery(q) => query_in_parens(src, q),
        Expr::Exists { subquery, negated } => {
            let (a, b) = query_in_parens(src, subquery)?;
            let mut i = src.last_ending_by(a)?;
            if !src.is_keyword(i, Keyword::EXISTS) {
                return None;
            }
            if *negated {
                i = i.checked_sub(1)?;
                if !src.is_keyword(i, Keyword::NOT) {
                    return None;
                }
            }
            Some((src.tokens[i].start, b))
        }
        Expr::Cast {
            kind: CastKind::DoubleColon,
            expr,
            data_type,
            format: None,
        } => {
            let (a, b) = extent(src, expr)?;
            let j = src.first_at_or_after(b);
            if !src.is(j, &Token::DoubleColon) {
                return None;
            }
            let end = type_end(src, j + 1, &data_type.to_string())?;
            Some((a, end))
        }
        Expr::Cast {
            kind: CastKind::Cast,
            expr,
            format: None,
            ..
        } => {
            let (a, _) = extent(src, expr)?;
            let open = src.last_ending_by(a)?;
            if !src.is(open, &Token::LParen) || !src.is_keyword(open.checked_sub(1)?, Keyword::CAST)
            {
                return None;
            }
            let close = src.matching_close(open)?;
            Some((src.tokens[open - 1].start, src.tokens[close].end))
        }
        Expr::Function(f) => function_extent(src, f),
        Expr::Case { .. } => {
            let (a, b) = src.range(e.span())?;
            let last = src.last_ending_by(b)?;
            (src.tokens[last].end == b && src.is_keyword(last, Keyword::END)).then_some((a, b))
        }
        Expr::Interval(iv) => {
            if iv.leading_field.is_some()
                || iv.last_field.is_some()
                || iv.leading_precision.is_some()
                || iv.fractional_seconds_precision.is_some()
            {
                return None;
            }
            let (a, b) = extent(src, &iv.value)?;
            let i = src.last_ending_by(a)?;
            src.is_keyword(i, Keyword::INTERVAL)
                .then(|| (src.tokens[i].start, b))
        }
        Expr::AnyOp { left, .. } | Expr::AllOp { left, .. } => {
            let (a, lb) = extent(src, left)?;
            // left, the comparison operator, ANY/ALL/SOME, then a parenthesised operand.
            let j = src.first_at_or_after(lb);
            let kw = (j + 1..j + 3).find(|&k| {
                src.is_keyword(k, Keyword::ANY)
                    || src.is_keyword(k, Keyword::ALL)
                    || src.is_keyword(k, Keyword::SOME)
            })?;
            if !src.is(kw + 1, &Token::LParen) {
                return None;
            }
            let close = src.matching_close(kw + 1)?;
            Some((a, src.tokens[close].end))
        }
        _ => balanced(src, src.range(e.span())?),
    }
}

/// `(range)` when the tokens just around `range` are `(` and `)`.
fn parenthesised(src: &Source, (a, b): Range) -> Option<Range> {
    let open = src.last_ending_by(a)?;
    let close = src.first_at_or_after(b);
    (src.is(open, &Token::LParen)
        && src.is(close, &Token::RParen)
        && src.matching_close(open) == Some(close))
    .then(|| (src.tokens[open].start, src.tokens[close].end))
}

/// A subquery and the parentheses around it.
fn query_in_parens(src: &Source, q: &Query) -> Option<Range> {
    let (a, _) = src.range(q.span())?;
    let open = src.last_ending_by(a)?;
    if !src.is(open, &Token::LParen) {
        return None;
    }
    let close = src.matching_close(open)?;
    Some((src.tokens[open].start, src.tokens[close].end))
}

/// The end of a function call: name, argument list, then WITHIN GROUP,
/// FILTER and OVER clauses.
pub fn function_extent(src: &Source, f: &Function) -> Option<Range> {
    let first = match f.name.0.first()? {
        ObjectNamePart::Identifier(id) => src.range(id.span)?,
        _ => return None,
    };
    let last = match f.name.0.last()? {
        ObjectNamePart::Identifier(id) => src.range(id.span)?,
        _ => return None,
    };
    let mut end = last.1;
    if !matches!(f.args, FunctionArguments::None) {
        let open = src.first_at_or_after(end);
        if !src.is(open, &Token::LParen) {
            return None;
        }
        end = src.tokens[src.matching_close(open)?].end;
    }
    loop {
        let j = src.first_at_or_after(end);
        let paren_after = |k: usize| -> Option<usize> {
            if src.is(k, &Token::LParen) {
                Some(src.tokens[src.matching_close(k)?].end)
            } else {
                None
            }
        };
        if src.is_keyword(j, Keyword::WITHIN) && src.is_keyword(j + 1, Keyword::GROUP) {
            end = paren_after(j + 2)?;
        } else if src.is_keyword(j, Keyword::FILTER) {
            end = paren_after(j + 1)?;
        } else if src.is_keyword(j, Keyword::OVER) {
            end = match paren_after(j + 1) {
                Some(e) => e,
                None => match src.tok(j + 1) {
                    Some(t) if matches!(t.token, Token::Word(_)) => t.end,
                    _ => return None,
                },
            };
        } else {
            break;
        }
    }
    Some((first.0, end))
}

/// Where the type of a `::type` cast ends: the tokens from `from` that spell
/// `display` (sqlparser's rendering of the type), ignoring case and spaces.
fn type_end(src: &Source, from: usize, display: &str) -> Option<usize> {
    let want: String = display
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_uppercase();
    let mut have = String::new();
    for t in src.tokens.iter().skip(from) {
        have.push_str(&src.slice(t.start, t.end).to_uppercase());
        have.retain(|c| !c.is_whitespace());
        if have == want {
            return Some(t.end);
        }
        if !want.starts_with(&have) {
            return None;
        }
    }
    None
}

/// A range grown until its parentheses balance (for nodes without a rule).
fn balanced(src: &Source, (mut a, mut b): Range) -> Option<Range> {
    for _ in 0..16 {
        let first = src.first_at_or_after(a);
        let mut depth: i64 = 0;
        let mut unmatched_close = None;
        let mut last_open: Option<usize> = None;
        let mut i = first;
        while let Some(t) = src.tok(i) {
            if t.start >= b {
                break;
            }
            match t.token {
                Token::LParen => {
                    depth += 1;
                    last_open.get_or_insert(i);
                }
                Token::RParen => {
                    depth -= 1;
                    if depth < 0 && unmatched_close.is_none() {
                        unmatched_close = Some(i);
                        depth = 0;
                    }
                }
                _ => {}
            }
            i += 1;
        }
        if let Some(c) = unmatched_close {
            a = src.tokens[src.matching_open(c)?].start;
        } else if depth > 0 {
            // Close the outermost open parenthesis still open at the end.
            let mut open = None;
            let mut d = 0i64;
            let mut k = first;
            while let Some(t) = src.tok(k) {
                if t.start >= b {
                    break;
                }
                match t.token {
                    Token::LParen => {
                        if d == 0 {
                            open = Some(k);
                        }
                        d += 1;
                    }
                    Token::RParen => d -= 1,
                    _ => {}
                }
                k += 1;
            }
            b = src.tokens[src.matching_close(open?)?].end;
        } else {
            return Some((a, b));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlparser::ast::{visit_expressions, Statement};
    use sqlparser::dialect::PostgreSqlDialect;
    use sqlparser::parser::Parser;
    use std::ops::ControlFlow;

    /// Every expression of `sql` with the text of its extent.
    fn extents(sql: &str) -> Vec<String> {
        let stmts: Vec<Statement> = Parser::parse_sql(&PostgreSqlDialect {}, sql).unwrap();
        let src = Source::new(sql).unwrap();
        let mut out = Vec::new();
        let _ = visit_expressions(&stmts, |e| {
            out.push(match extent(&src, e) {
                Some((a, b)) => sql[a..b].to_string(),
                None => format!("NONE {e}"),
            });
            ControlFlow::<()>::Continue(())
        });
        out
    }

    #[test]
    fn extents_cover_what_spans_leave_out() {
        let got = extents(
            "select (a + b) * c, count(*), sum(x) over (order by y), coalesce(a, 'é'), \
             a::numeric(12,2), interval '1 day', x is not null, a between 1 and :hi::int, \
             z = any(array[1,2]), exists (select 1), cast(a as int), -3, not x \
             from t",
        );
        for want in [
            "(a + b) * c",
            "(a + b)",
            "count(*)",
            "sum(x) over (order by y)",
            "coalesce(a, 'é')",
            "a::numeric(12,2)",
            "interval '1 day'",
            "x is not null",
            "a between 1 and :hi::int",
            ":hi::int",
            "z = any(array[1,2])",
            "exists (select 1)",
            "cast(a as int)",
            "-3",
            "not x",
        ] {
            assert!(
                got.iter().any(|g| g == want),
                "no extent `{want}` in {got:#?}"
            );
        }
        assert!(!got.iter().any(|g| g.starts_with("NONE")), "{got:#?}");
    }

    #[test]
    fn a_cast_does_not_swallow_the_next_keyword() {
        let got = extents("select 1 from t where d::date and e");
        assert!(got.contains(&"d::date".to_string()), "{got:#?}");
        assert!(got.contains(&"d::date and e".to_string()), "{got:#?}");
    }
}
