//! Expression operators: relational, logical and arithmetic operators,
//! BETWEEN bounds, LIKE/ILIKE, NULL tests, aggregates, COALESCE and NULLIF,
//! columns, constants, intervals and parameters.

use super::extent::{extent, Range};
use super::generate::{short, Finder};
use super::operator::Operator;
use super::scope;
use super::source::{styled, Edit};
use bigdecimal::BigDecimal;
use sqlparser::ast::{
    BinaryOperator, CastKind, DuplicateTreatment, Expr, Function, FunctionArg, FunctionArgExpr,
    FunctionArgumentClause, FunctionArguments, Ident, ObjectNamePart, Value, ValueWithSpan,
    WindowType,
};
use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::Token;
use std::str::FromStr;

impl Finder<'_, '_, '_> {
    pub fn expr(&mut self, e: &Expr) {
        match e {
            Expr::BinaryOp { left, op, right } => self.binary(left, op, right),
            Expr::AnyOp {
                left, compare_op, ..
            }
            | Expr::AllOp {
                left, compare_op, ..
            } => self.any_all(left, compare_op),
            Expr::Between {
                expr,
                negated,
                low,
                high,
            } => self.between(expr, *negated, low, high),
            Expr::Like {
                any: false,
                expr,
                pattern,
                escape_char: None,
                ..
            } => self.like(expr, pattern, "ilike"),
            Expr::ILike {
                any: false,
                expr,
                pattern,
                escape_char: None,
                ..
            } => self.like(expr, pattern, "like"),
            Expr::IsNull(x)
            | Expr::IsNotNull(x)
            | Expr::IsTrue(x)
            | Expr::IsNotTrue(x)
            | Expr::IsFalse(x)
            | Expr::IsNotFalse(x)
            | Expr::IsUnknown(x)
            | Expr::IsNotUnknown(x) => self.is_test(x),
            Expr::IsDistinctFrom(a, b) | Expr::IsNotDistinctFrom(a, b) => self.is_distinct(a, b),
            Expr::Function(f) => self.function(f),
            Expr::Interval(_) => self.interval(e),
            Expr::Cast {
                kind: CastKind::DoubleColon,
                expr,
                data_type,
                ..
            } if data_type.to_string().eq_ignore_ascii_case("interval")
                && matches!(
                    **expr,
                    Expr::Value(ValueWithSpan {
                        value: Value::SingleQuotedString(_),
                        ..
                    })
                ) =>
            {
                self.interval(e)
            }
            Expr::Value(v) => self.value(v),
            Expr::Identifier(id) => self.column(&[id]),
            Expr::CompoundIdentifier(ids) => {
                let parts: Vec<&Ident> = ids.iter().collect();
                self.column(&parts)
            }
            _ => {}
        }
    }

    /// The single token between two ranges, if that is all there is.
    fn only_token_between(&self, a: Range, b: Range) -> Option<usize> {
        let toks = self.src.tokens_in(a.1, b.0);
        if toks.len() != 1 {
            return None;
        }
        self.src.token_starting(toks[0].start)
    }

    fn binary(&mut self, left: &Expr, op: &BinaryOperator, right: &Expr) {
        let (Some(l), Some(r)) = (extent(self.src, left), extent(self.src, right)) else {
            return;
        };
        let Some(i) = self.only_token_between(l, r) else {
            return;
        };
        self.operator_token(i, op);
    }

    fn any_all(&mut self, left: &Expr, op: &BinaryOperator) {
        let Some(l) = extent(self.src, left) else {
            return;
        };
        let i = self.src.first_at_or_after(l.1);
        self.operator_token(i, op);
    }

    /// Mutants replacing the operator token `i` (checked to spell `op`).
    fn operator_token(&mut self, i: usize, op: &BinaryOperator) {
        use BinaryOperator as B;
        let (operator, token, alternatives): (Operator, Option<Token>, &[&str]) = match op {
            B::Lt => (Operator::Relational, Some(Token::Lt), &["<=", "<>"]),
            B::Gt => (Operator::Relational, Some(Token::Gt), &[">=", "<>"]),
            B::LtEq => (Operator::Relational, Some(Token::LtEq), &["<", "="]),
            B::GtEq => (Operator::Relational, Some(Token::GtEq), &[">", "="]),
            B::Eq => (Operator::Relational, Some(Token::Eq), &["<=", ">="]),
            B::NotEq => (Operator::Relational, Some(Token::Neq), &["<", ">"]),
            B::And => (Operator::Logical, None, &["or"]),
            B::Or => (Operator::Logical, None, &["and"]),
            B::Plus => (Operator::Arithmetic, Some(Token::Plus), &["-", "*", "/"]),
            B::Minus => (Operator::Arithmetic, Some(Token::Minus), &["+", "*", "/"]),
            B::Multiply => (Operator::Arithmetic, Some(Token::Mul), &["+", "-", "/"]),
            B::Divide => (Operator::Arithmetic, Some(Token::Div), &["+", "-", "*"]),
            _ => return,
        };
        let spelled = match (&token, op) {
            (Some(t), _) => self.src.is(i, t),
            (None, B::And) => self.src.is_keyword(i, Keyword::AND),
            (None, B::Or) => self.src.is_keyword(i, Keyword::OR),
            _ => false,
        };
        if !spelled {
            return;
        }
        let t = self.src.tokens[i].clone();
        let orig = self.src.slice(t.start, t.end).to_string();
        for alt in alternatives {
            let new = if operator == Operator::Logical {
                styled(alt, &orig)
            } else {
                alt.to_string()
            };
            self.push(
                operator,
                vec![Edit::replace(t.start, t.end, new.clone())],
                format!("replace {orig} with {new}"),
            );
        }
    }

    fn between(&mut self, expr: &Expr, negated: bool, low: &Expr, high: &Expr) {
        let (Some(x), Some(lo), Some(hi)) = (
            extent(self.src, expr),
            extent(self.src, low),
            extent(self.src, high),
        ) else {
            return;
        };
        // x [NOT] BETWEEN lo AND hi
        let words = self.src.tokens_in(x.1, lo.0);
        let Some(between) = words.last().and_then(|t| self.src.token_starting(t.start)) else {
            return;
        };
        if !self.src.is_keyword(between, Keyword::BETWEEN)
            || words.len() != if negated { 2 } else { 1 }
        {
            return;
        }
        let kw = self.src.tokens[between].clone();
        let like = self.src.slice(kw.start, kw.end).to_string();
        let whole = (x.0, hi.1);
        let (xt, lt, ht) = (self.text(x), self.text(lo), self.text(hi));
        let and = styled("and", &like);
        let or = styled("or", &like);
        let bounds: [(String, &str); 2] = if negated {
            [
                (format!("({xt} <= {lt} {or} {xt} > {ht})"), "lower bound"),
                (format!("({xt} < {lt} {or} {xt} >= {ht})"), "upper bound"),
            ]
        } else {
            [
                (format!("({xt} > {lt} {and} {xt} <= {ht})"), "lower bound"),
                (format!("({xt} >= {lt} {and} {xt} < {ht})"), "upper bound"),
            ]
        };
        let whole_text = short(self.text(whole));
        for (new, which) in bounds {
            let what = if negated { "included" } else { "excluded" };
            self.push(
                Operator::Between,
                vec![Edit::replace(whole.0, whole.1, new.clone())],
                format!("{which} {what}: replace {whole_text} with {}", short(&new)),
            );
        }
        if negated {
            let not = self.src.tokens[between - 1].clone();
            self.push(
                Operator::Between,
                vec![Edit::delete(not.start, kw.start)],
                format!("replace NOT BETWEEN with BETWEEN in {whole_text}"),
            );
        } else {
            let not = styled("not", &like);
            self.push(
                Operator::Between,
                vec![Edit::insert(kw.start, format!("{not} "))],
                format!("replace BETWEEN with NOT BETWEEN in {whole_text}"),
            );
        }
    }

    fn like(&mut self, expr: &Expr, pattern: &Expr, to: &str) {
        let (Some(x), Some(p)) = (extent(self.src, expr), extent(self.src, pattern)) else {
            return;
        };
        let Some(last) = self.src.tokens_in(x.1, p.0).last().cloned() else {
            return;
        };
        let Some(i) = self.src.token_starting(last.start) else {
            return;
        };
        if !(self.src.is_keyword(i, Keyword::LIKE) || self.src.is_keyword(i, Keyword::ILIKE)) {
            return;
        }
        let orig = self.src.slice(last.start, last.end).to_string();
        let new = styled(to, &orig);
        self.push(
            Operator::Like,
            vec![Edit::replace(last.start, last.end, new.clone())],
            format!("replace {orig} with {new}"),
        );
    }

    /// `x IS [NOT] NULL/TRUE/FALSE/UNKNOWN`: the NOT toggled.
    fn is_test(&mut self, x: &Expr) {
        let Some(r) = extent(self.src, x) else {
            return;
        };
        let is = self.src.first_at_or_after(r.1);
        if !self.src.is_keyword(is, Keyword::IS) {
            return;
        }
        self.toggle_not_after(is, 1);
    }

    fn is_distinct(&mut self, a: &Expr, b: &Expr) {
        let (Some(ra), Some(rb)) = (extent(self.src, a), extent(self.src, b)) else {
            return;
        };
        let between = self.src.tokens_in(ra.1, rb.0);
        let Some(is) = between
            .first()
            .and_then(|t| self.src.token_starting(t.start))
        else {
            return;
        };
        if !self.src.is_keyword(is, Keyword::IS) {
            return;
        }
        self.toggle_not_after(is, 2);
    }

    /// Adds or removes the NOT after the IS token `is`; `rest` words follow.
    fn toggle_not_after(&mut self, is: usize, rest: usize) {
        let has_not = self.src.is_keyword(is + 1, Keyword::NOT);
        let last = is + rest + usize::from(has_not);
        let (Some(first), Some(end)) = (self.src.tok(is), self.src.tok(last)) else {
            return;
        };
        let orig = self.src.slice(first.start, end.end).to_string();
        let is_text = self.src.slice(first.start, first.end).to_string();
        if has_not {
            let not = self.src.tokens[is + 1].clone();
            let new_text = format!(
                "{}{}",
                self.src.slice(first.start, first.end),
                self.src.slice(not.end, end.end)
            );
            self.push(
                Operator::IsNull,
                vec![Edit::delete(first.end, not.end)],
                format!("replace {} with {}", short(&orig), short(&new_text)),
            );
        } else {
            let not = styled("not", &is_text);
            let new_text = format!("{is_text} {not}{}", self.src.slice(first.end, end.end));
            self.push(
                Operator::IsNull,
                vec![Edit::insert(first.end, format!(" {not}"))],
                format!("replace {} with {}", short(&orig), short(&new_text)),
            );
        }
    }

    fn function(&mut self, f: &Function) {
        if let Some(WindowType::WindowSpec(spec)) = &f.over {
            self.order_items(&spec.order_by);
        }
        let FunctionArguments::List(list) = &f.args else {
            return;
        };
        for c in &list.clauses {
            if let FunctionArgumentClause::OrderBy(items) = c {
                self.order_items(items);
            }
        }
        let [ObjectNamePart::Identifier(name_id)] = f.name.0.as_slice() else {
            return;
        };
        if name_id.quote_style.is_some() {
            return;
        }
        let Some(name) = self.src.range(name_id.span) else {
            return;
        };
        let open = self.src.first_at_or_after(name.1);
        if !self.src.is(open, &Token::LParen) {
            return;
        }
        let Some(close) = self.src.matching_close(open) else {
            return;
        };
        let orig_name = self.text(name).to_string();
        let args: Option<Vec<&Expr>> = list
            .args
            .iter()
            .map(|a| match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e),
                _ => None,
            })
            .collect();
        match name_id.value.to_lowercase().as_str() {
            lower @ ("sum" | "avg" | "min" | "max") => {
                for alt in ["sum", "avg", "min", "max"] {
                    if alt == lower {
                        continue;
                    }
                    let new = styled(alt, &orig_name);
                    self.push(
                        Operator::Aggregate,
                        vec![Edit::replace(name.0, name.1, new.clone())],
                        format!("replace {orig_name}() with {new}()"),
                    );
                }
            }
            "count" => {
                if list.duplicate_treatment == Some(DuplicateTreatment::Distinct) {
                    if self.src.is_keyword(open + 1, Keyword::DISTINCT) {
                        let d = self.src.tokens[open + 1].clone();
                        let end = self.src.end_with_spaces(open + 1);
                        let kw = self.src.slice(d.start, d.end);
                        self.push(
                            Operator::Aggregate,
                            vec![Edit::delete(d.start, end)],
                            format!("replace {orig_name}({kw} ...) with {orig_name}(...)"),
                        );
                    }
                } else if f.over.is_none()
                    && list.duplicate_treatment.is_none()
                    && args.as_ref().is_some_and(|a| a.len() == 1)
                {
                    let kw = styled("distinct", &orig_name);
                    self.push(
                        Operator::Aggregate,
                        vec![Edit::insert(self.src.tokens[open].end, format!("{kw} "))],
                        format!("replace {orig_name}(...) with {orig_name}({kw} ...)"),
                    );
                }
            }
            "coalesce" => {
                if let Some(args) = args.filter(|a| a.len() >= 2) {
                    self.unwrap_call(Operator::Coalesce, name, open, close, args[0]);
                    if let Some((r, new)) = self.literal_change(args[args.len() - 1]) {
                        let call = short(self.src.slice(name.0, self.src.tokens[close].end));
                        self.push(
                            Operator::Coalesce,
                            vec![Edit::replace(r.0, r.1, new.clone())],
                            format!("default {} -> {new} in {call}", self.text(r)),
                        );
                    }
                }
            }
            "nullif" => {
                if let Some(args) = args.filter(|a| a.len() == 2) {
                    self.unwrap_call(Operator::Nullif, name, open, close, args[0]);
                    if let Some((r, new)) = self.literal_change(args[1]) {
                        let call = short(self.src.slice(name.0, self.src.tokens[close].end));
                        self.push(
                            Operator::Nullif,
                            vec![Edit::replace(r.0, r.1, new.clone())],
                            format!("value {} -> {new} in {call}", self.text(r)),
                        );
                    }
                }
            }
            _ => {}
        }
    }

    /// `f(a, ...)` -> `(a)`: the call removed, its first argument kept.
    fn unwrap_call(&mut self, op: Operator, name: Range, open: usize, close: usize, first: &Expr) {
        let Some(a) = extent(self.src, first) else {
            return;
        };
        let (o, c) = (
            self.src.tokens[open].clone(),
            self.src.tokens[close].clone(),
        );
        let call = short(self.src.slice(name.0, c.end));
        let kept = short(self.text(a));
        self.push(
            op,
            vec![
                Edit::replace(name.0, o.end, "("),
                Edit::delete(a.1, c.start),
            ],
            format!("replace {call} with ({kept})"),
        );
    }

    /// A literal's neighbour: a number +1, a string emptied (or made
    /// non-empty), a boolean negated.
    fn literal_change(&self, e: &Expr) -> Option<(Range, String)> {
        match e {
            Expr::Value(v) => {
                let r = self.src.range(v.span)?;
                let new = match &v.value {
                    Value::Number(n, _) => {
                        let d = BigDecimal::from_str(n).ok()?;
                        number_text(n, &(d + 1))
                    }
                    Value::SingleQuotedString(s) if s.is_empty() => "'-'".to_string(),
                    Value::SingleQuotedString(_) => "''".to_string(),
                    Value::Boolean(b) => (!b).to_string(),
                    _ => return None,
                };
                Some((r, new))
            }
            Expr::Cast {
                kind: CastKind::DoubleColon,
                expr,
                ..
            } => self.literal_change(expr),
            _ => None,
        }
    }

    fn interval(&mut self, e: &Expr) {
        let Some(r) = extent(self.src, e) else {
            return;
        };
        let text = short(self.text(r));
        let day = format!("{} '1 day'", self.kw("interval"));
        for sign in ["+", "-"] {
            let new = format!("({text} {sign} {day})");
            self.push(
                Operator::Interval,
                vec![
                    Edit::insert(r.0, "("),
                    Edit::insert(r.1, format!(" {sign} {day})")),
                ],
                format!("replace {text} with {new}"),
            );
        }
    }

    fn value(&mut self, v: &ValueWithSpan) {
        let Some(r) = self.src.range(v.span) else {
            return;
        };
        match &v.value {
            Value::Number(n, _) => {
                let Ok(d) = BigDecimal::from_str(n) else {
                    return;
                };
                if n.contains(['e', 'E']) {
                    return;
                }
                let mut seen = vec![n.clone()];
                for alt in [
                    &d + 1,
                    &d - 1,
                    &d * BigDecimal::from(10),
                    BigDecimal::from(0),
                ] {
                    let text = number_text(n, &alt);
                    if seen.contains(&text) || alt == d {
                        continue;
                    }
                    seen.push(text.clone());
                    self.push(
                        Operator::Constant,
                        vec![Edit::replace(r.0, r.1, text.clone())],
                        format!("replace {n} with {text}"),
                    );
                }
            }
            Value::Placeholder(p) => {
                let Some(name) = p.strip_prefix(':') else {
                    return;
                };
                if let Some(literal) = self.ctx.params.get(name) {
                    let new = format!("({literal})");
                    self.push(
                        Operator::Parameter,
                        vec![Edit::replace(r.0, r.1, new.clone())],
                        format!("replace {p} with {new}"),
                    );
                }
            }
            _ => {}
        }
    }

    fn column(&mut self, parts: &[&Ident]) {
        let (Some(first), Some(last)) = (parts.first(), parts.last()) else {
            return;
        };
        let (Some(a), Some(b)) = (self.src.range(first.span), self.src.range(last.span)) else {
            return;
        };
        let Some(resolved) = self.scopes.resolve(a.0, parts) else {
            return;
        };
        let Some(new) = scope::replacement(&resolved) else {
            return;
        };
        let orig = self.text((a.0, b.1)).to_string();
        let new_text = format!("{}{new}", self.src.slice(a.0, b.0));
        self.push(
            Operator::Column,
            vec![Edit::replace(b.0, b.1, new)],
            format!("replace {orig} with {new_text}"),
        );
    }
}

/// A number written like the original: a decimal stays a decimal (so
/// integer division does not appear), a negative one is parenthesised.
fn number_text(original: &str, value: &BigDecimal) -> String {
    let mut text = value.normalized().to_plain_string();
    if original.contains('.') && !text.contains('.') {
        text.push_str(".0");
    }
    if text.starts_with('-') {
        text = format!("({text})");
    }
    text
}
