//! Clause operators: DISTINCT, join type, GROUP BY columns, ORDER BY
//! direction, sort keys and NULLS order, UNION / UNION ALL, LIMIT.

use super::extent::{extent, Range};
use super::generate::{short, Finder};
use super::operator::Operator;
use super::source::{styled, Edit};
use sqlparser::ast::{
    Distinct, Expr, GroupByExpr, Join, JoinConstraint, JoinOperator, LimitClause, OrderBy,
    OrderByExpr, OrderByKind, Query, Select, SetExpr, SetOperator, SetQuantifier, Spanned, Value,
    ValueWithSpan,
};
use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::Token;

/// One ORDER BY item located in the text.
struct SortItem {
    /// The whole item: expression, direction, NULLS clause.
    range: Range,
    expr: Range,
    /// Token index of ASC/DESC.
    direction: Option<usize>,
    /// Token index of FIRST/LAST.
    nulls: Option<usize>,
    descending: bool,
}

impl Finder<'_, '_, '_> {
    pub fn query(&mut self, q: &Query) {
        if let Some(OrderBy {
            kind: OrderByKind::Expressions(items),
            ..
        }) = &q.order_by
        {
            self.order_items(items);
        }
        if let Some(LimitClause::LimitOffset { limit: Some(e), .. }) = &q.limit_clause {
            self.limit(e);
        }
        self.set_expr(&q.body);
    }

    /// A keyword in the case the query is written in.
    pub fn kw(&self, keyword: &str) -> String {
        let sample = self
            .src
            .tokens
            .iter()
            .find_map(|t| match &t.token {
                Token::Word(w) if w.keyword != Keyword::NoKeyword && w.quote_style.is_none() => {
                    Some(self.src.slice(t.start, t.end))
                }
                _ => None,
            })
            .unwrap_or("x");
        styled(keyword, sample)
    }

    fn tok_text(&self, i: usize) -> &str {
        let t = &self.src.tokens[i];
        self.src.slice(t.start, t.end)
    }

    fn set_expr(&mut self, s: &SetExpr) {
        match s {
            SetExpr::Select(sel) => self.select(sel),
            SetExpr::SetOperation {
                op,
                set_quantifier,
                left,
                right,
            } => {
                if *op == SetOperator::Union {
                    self.union(set_quantifier, right);
                }
                self.set_expr(left);
                self.set_expr(right);
            }
            _ => {}
        }
    }

    fn select(&mut self, sel: &Select) {
        self.distinct(sel);
        for twj in &sel.from {
            for j in &twj.joins {
                self.join(j);
            }
        }
        if let GroupByExpr::Expressions(exprs, modifiers) = &sel.group_by {
            if modifiers.is_empty() && exprs.len() >= 2 {
                let ranges: Option<Vec<Range>> =
                    exprs.iter().map(|e| extent(self.src, e)).collect();
                if let Some(ranges) = ranges {
                    for i in 0..ranges.len() {
                        if let Some(edit) = self.remove_item(&ranges, i) {
                            let d =
                                format!("delete GROUP BY column {}", short(self.text(ranges[i])));
                            self.push(Operator::GroupBy, vec![edit], d);
                        }
                    }
                }
            }
        }
    }

    /// Deletes item `i` of a comma-separated list and one comma next to it.
    pub fn remove_item(&self, items: &[Range], i: usize) -> Option<Edit> {
        let (gap, delete) = if i + 1 < items.len() {
            ((items[i].1, items[i + 1].0), (items[i].0, items[i + 1].0))
        } else {
            let prev = items.get(i.checked_sub(1)?)?;
            ((prev.1, items[i].0), (prev.1, items[i].1))
        };
        let between = self.src.tokens_in(gap.0, gap.1);
        (between.len() == 1 && between[0].token == Token::Comma)
            .then(|| Edit::delete(delete.0, delete.1))
    }

    fn distinct(&mut self, sel: &Select) {
        let Some((a, _)) = self.src.range(sel.select_token.0.span) else {
            return;
        };
        let Some(k) = self.src.token_starting(a) else {
            return;
        };
        if !self.src.is_keyword(k, Keyword::SELECT) {
            return;
        }
        let select_kw = self.tok_text(k).to_string();
        match &sel.distinct {
            None => {
                let at = self.src.tokens[k].end;
                let text = format!(" {}", styled("distinct", &select_kw));
                self.push(
                    Operator::Distinct,
                    vec![Edit::insert(at, text)],
                    "insert DISTINCT".into(),
                );
            }
            Some(Distinct::Distinct) => {
                if self.src.is_keyword(k + 1, Keyword::DISTINCT) {
                    let start = self.src.tokens[k + 1].start;
                    let end = self.src.end_with_spaces(k + 1);
                    self.push(
                        Operator::Distinct,
                        vec![Edit::delete(start, end)],
                        "delete DISTINCT".into(),
                    );
                }
            }
            Some(Distinct::On(_)) => {
                if self.src.is_keyword(k + 1, Keyword::DISTINCT)
                    && self.src.is_keyword(k + 2, Keyword::ON)
                    && self.src.is(k + 3, &Token::LParen)
                {
                    if let Some(close) = self.src.matching_close(k + 3) {
                        let start = self.src.tokens[k + 1].start;
                        let end = self.src.end_with_spaces(close);
                        let what = short(self.src.slice(start, self.src.tokens[close].end));
                        self.push(
                            Operator::Distinct,
                            vec![Edit::delete(start, end)],
                            format!("delete {what}"),
                        );
                    }
                }
            }
        }
    }

    fn join(&mut self, j: &Join) {
        let (current, constraint) = match &j.join_operator {
            JoinOperator::Join(c) | JoinOperator::Inner(c) => ("join", c),
            JoinOperator::Left(c) | JoinOperator::LeftOuter(c) => ("left join", c),
            JoinOperator::Right(c) | JoinOperator::RightOuter(c) => ("right join", c),
            JoinOperator::FullOuter(c) => ("full join", c),
            _ => return,
        };
        if !matches!(constraint, JoinConstraint::On(_) | JoinConstraint::Using(_)) {
            return;
        }
        let Some((ra, _)) = self.src.range(j.relation.span()) else {
            return;
        };
        let Some(mut i) = self.src.last_ending_by(ra) else {
            return;
        };
        while self.src.is(i, &Token::LParen) || self.src.is_keyword(i, Keyword::LATERAL) {
            let Some(prev) = i.checked_sub(1) else {
                return;
            };
            i = prev;
        }
        if !self.src.is_keyword(i, Keyword::JOIN) {
            return;
        }
        let join_tok = i;
        let end = self.src.tokens[i].end;
        if i > 0 && self.src.is_keyword(i - 1, Keyword::OUTER) {
            i -= 1;
        }
        if i > 0
            && [Keyword::LEFT, Keyword::RIGHT, Keyword::FULL, Keyword::INNER]
                .iter()
                .any(|k| self.src.is_keyword(i - 1, *k))
        {
            i -= 1;
        }
        let start = self.src.tokens[i].start;
        let original = self.src.slice(start, end).to_string();
        let like = self.tok_text(join_tok).to_string();
        for alt in ["join", "left join", "right join", "full join"] {
            if alt == current {
                continue;
            }
            let new = styled(alt, &like);
            self.push(
                Operator::Join,
                vec![Edit::replace(start, end, new.clone())],
                format!("replace {} with {new}", short(&original)),
            );
        }
    }

    /// The items of an ORDER BY (of a query, a window or an aggregate).
    pub fn order_items(&mut self, items: &[OrderByExpr]) {
        let located: Vec<Option<SortItem>> = items.iter().map(|i| self.sort_item(i)).collect();
        for item in located.iter().flatten() {
            let expr_text = short(self.text(item.expr));
            // Direction.
            match item.direction {
                Some(d) => {
                    let orig = self.tok_text(d).to_string();
                    let new = styled(if item.descending { "asc" } else { "desc" }, &orig);
                    let t = &self.src.tokens[d];
                    let edit = Edit::replace(t.start, t.end, new.clone());
                    self.push(
                        Operator::OrderBy,
                        vec![edit],
                        format!("replace {expr_text} {orig} with {expr_text} {new}"),
                    );
                }
                None => {
                    let new = self.kw("desc");
                    self.push(
                        Operator::OrderBy,
                        vec![Edit::insert(item.expr.1, format!(" {new}"))],
                        format!("replace ORDER BY {expr_text} with {expr_text} {new}"),
                    );
                }
            }
            // NULLS FIRST / LAST.
            match item.nulls {
                Some(k) => {
                    let orig = self.tok_text(k).to_string();
                    let first = self.src.is_keyword(k, Keyword::FIRST);
                    let new = styled(if first { "last" } else { "first" }, &orig);
                    let t = &self.src.tokens[k];
                    let edit = Edit::replace(t.start, t.end, new.clone());
                    self.push(
                        Operator::NullsOrder,
                        vec![edit],
                        format!("replace NULLS {orig} with NULLS {new} on {expr_text}"),
                    );
                }
                None => {
                    // PostgreSQL sorts NULLs last ascending, first descending.
                    let clause = if item.descending {
                        self.kw("nulls last")
                    } else {
                        self.kw("nulls first")
                    };
                    let at = item
                        .direction
                        .map(|d| self.src.tokens[d].end)
                        .unwrap_or(item.expr.1);
                    self.push(
                        Operator::NullsOrder,
                        vec![Edit::insert(at, format!(" {clause}"))],
                        format!("insert {clause} after {expr_text}"),
                    );
                }
            }
        }
        // A sort key removed (when another remains).
        if items.len() >= 2 {
            if let Some(all) = located
                .iter()
                .map(|i| i.as_ref().map(|i| i.range))
                .collect::<Option<Vec<Range>>>()
            {
                for i in 0..all.len() {
                    if let Some(edit) = self.remove_item(&all, i) {
                        let d = format!("delete sort key {}", short(self.text(all[i])));
                        self.push(Operator::SortKey, vec![edit], d);
                    }
                }
            }
        }
    }

    fn sort_item(&self, item: &OrderByExpr) -> Option<SortItem> {
        if item.with_fill.is_some() {
            return None;
        }
        let expr = extent(self.src, &item.expr)?;
        let mut j = self.src.first_at_or_after(expr.1);
        let mut end = expr.1;
        let direction = match item.options.asc {
            Some(asc) => {
                let kw = if asc { Keyword::ASC } else { Keyword::DESC };
                if !self.src.is_keyword(j, kw) {
                    return None;
                }
                end = self.src.tokens[j].end;
                j += 1;
                Some(j - 1)
            }
            None => None,
        };
        let nulls = match item.options.nulls_first {
            Some(first) => {
                let kw = if first { Keyword::FIRST } else { Keyword::LAST };
                if !self.src.is_keyword(j, Keyword::NULLS) || !self.src.is_keyword(j + 1, kw) {
                    return None;
                }
                end = self.src.tokens[j + 1].end;
                Some(j + 1)
            }
            None => None,
        };
        Some(SortItem {
            range: (expr.0, end),
            expr,
            direction,
            nulls,
            descending: item.options.asc == Some(false),
        })
    }

    fn union(&mut self, quantifier: &SetQuantifier, right: &SetExpr) {
        let SetExpr::Select(sel) = right else {
            return;
        };
        let Some((a, _)) = self.src.range(sel.select_token.0.span) else {
            return;
        };
        let Some(mut k) = self.src.token_starting(a) else {
            return;
        };
        loop {
            let Some(prev) = k.checked_sub(1) else {
                return;
            };
            k = prev;
            if !self.src.is(k, &Token::LParen) {
                break;
            }
        }
        let written_quantifier =
            if self.src.is_keyword(k, Keyword::ALL) || self.src.is_keyword(k, Keyword::DISTINCT) {
                let q = k;
                let Some(prev) = k.checked_sub(1) else {
                    return;
                };
                k = prev;
                Some(q)
            } else {
                None
            };
        if !self.src.is_keyword(k, Keyword::UNION) {
            return;
        }
        let union_kw = self.tok_text(k).to_string();
        let union_end = self.src.tokens[k].end;
        match (quantifier, written_quantifier) {
            (SetQuantifier::All, Some(q)) => {
                let end = self.src.tokens[q].end;
                self.push(
                    Operator::Union,
                    vec![Edit::delete(union_end, end)],
                    format!(
                        "replace {} with {union_kw}",
                        self.src.slice(self.src.tokens[k].start, end)
                    ),
                );
            }
            (SetQuantifier::Distinct, Some(q)) => {
                let t = &self.src.tokens[q];
                let all = styled("all", &union_kw);
                self.push(
                    Operator::Union,
                    vec![Edit::replace(t.start, t.end, all.clone())],
                    format!("replace {union_kw} DISTINCT with {union_kw} {all}"),
                );
            }
            (SetQuantifier::None, None) => {
                let all = styled("all", &union_kw);
                self.push(
                    Operator::Union,
                    vec![Edit::insert(union_end, format!(" {all}"))],
                    format!("replace {union_kw} with {union_kw} {all}"),
                );
            }
            _ => {}
        }
    }

    fn limit(&mut self, e: &Expr) {
        let Some(r) = extent(self.src, e) else {
            return;
        };
        let text = self.text(r).to_string();
        let mut alternatives = Vec::new();
        if let Expr::Value(ValueWithSpan {
            value: Value::Number(n, _),
            ..
        }) = e
        {
            if let Ok(v) = n.parse::<u64>() {
                alternatives.push((v + 1).to_string());
                if v >= 1 {
                    alternatives.push((v - 1).to_string());
                }
            }
        } else {
            alternatives.push(format!("({text} + 1)"));
            alternatives.push(format!("({text} - 1)"));
        }
        for alt in alternatives {
            self.push(
                Operator::Limit,
                vec![Edit::replace(r.0, r.1, alt.clone())],
                format!("replace LIMIT {text} with LIMIT {alt}"),
            );
        }
    }
}
