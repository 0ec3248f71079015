//! The current query's top-level ORDER BY, read with sqlparser: whether the
//! query orders its rows at all, and which output columns it sorts on, so
//! that rows tied under it may come in any order without it being a
//! difference. Pure.
//!
//! An ORDER BY item names an output column when it is an ordinal (`2`), an
//! output name (`order by total`, Postgres resolves bare names against the
//! output first), or an expression written exactly as a select-list item
//! (`order by cal.day` with `select cal.day, ...`). Anything else (an input
//! column that is not in the output, `abs(a - b)`) is unknown: then no ties
//! are allowed, and the report says why.

use sqlparser::ast::{Expr, Query, SelectItem, SetExpr, Statement, Value};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

/// One ORDER BY item, as far as the text tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderItem {
    /// An output column of this name (checked against the real output).
    Column(String),
    /// The n-th output column (1-based).
    Position(usize),
    /// An expression that is not an output column, as written.
    Expression(String),
}

/// What the current query says about its row order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ordering {
    /// No top-level ORDER BY: rows are compared as a multiset only.
    Unordered,
    /// A top-level ORDER BY and its items (None: the query could not be
    /// parsed, so the sort columns are unknown).
    Ordered(Option<Vec<OrderItem>>),
}

/// Reads the ORDER BY of `sql` (one statement; `:name` parameters allowed).
/// `lexer_says_ordered` is the lexer's verdict, used when sqlparser cannot
/// parse the statement.
pub fn ordering(sql: &str, lexer_says_ordered: bool) -> Ordering {
    let parsed = Parser::parse_sql(&PostgreSqlDialect {}, sql);
    let query = match parsed.as_deref() {
        Ok([Statement::Query(q)]) => q,
        _ if lexer_says_ordered => return Ordering::Ordered(None),
        _ => return Ordering::Unordered,
    };
    match top_order(query) {
        None => Ordering::Unordered,
        Some((q, exprs)) => {
            let projection = leftmost_projection(&q.body);
            Ordering::Ordered(Some(exprs.iter().map(|e| item(e, projection)).collect()))
        }
    }
}

/// The query that carries the top-level ORDER BY (the statement itself, or
/// the one inside its parentheses) and its expressions.
fn top_order(q: &Query) -> Option<(&Query, Vec<&Expr>)> {
    use sqlparser::ast::OrderByKind;
    match &q.order_by {
        Some(ob) => match &ob.kind {
            OrderByKind::Expressions(items) => Some((q, items.iter().map(|i| &i.expr).collect())),
            // `ORDER BY ALL` is not PostgreSQL; treat its columns as unknown.
            OrderByKind::All(_) => Some((q, Vec::new())),
        },
        None => match q.body.as_ref() {
            SetExpr::Query(inner) => top_order(inner),
            _ => None,
        },
    }
}

/// The select list that names the output columns: a set operation takes
/// its names from its leftmost SELECT.
fn leftmost_projection(body: &SetExpr) -> Option<&[SelectItem]> {
    match body {
        SetExpr::Select(s) => Some(&s.projection),
        SetExpr::Query(q) => leftmost_projection(&q.body),
        SetExpr::SetOperation { left, .. } => leftmost_projection(left),
        _ => None,
    }
}

/// An identifier as PostgreSQL folds it: unquoted names are lower-cased.
fn folded(i: &sqlparser::ast::Ident) -> String {
    if i.quote_style.is_some() {
        i.value.clone()
    } else {
        i.value.to_lowercase()
    }
}

/// The name PostgreSQL gives a select-list item's column, when it is
/// predictable: its alias, a column reference's last part, a function's name,
/// a cast's inner name.
fn output_name(item: &SelectItem) -> Option<String> {
    match item {
        SelectItem::ExprWithAlias { alias, .. } => Some(folded(alias)),
        SelectItem::UnnamedExpr(e) => expr_name(e),
        _ => None,
    }
}

fn expr_name(e: &Expr) -> Option<String> {
    match e {
        Expr::Identifier(i) => Some(folded(i)),
        Expr::CompoundIdentifier(parts) => parts.last().map(folded),
        Expr::Function(f) => f.name.0.last().and_then(|p| p.as_ident()).map(folded),
        Expr::Cast { expr, .. } => expr_name(expr),
        Expr::Nested(inner) => expr_name(inner),
        _ => None,
    }
}

fn item_expr(item: &SelectItem) -> Option<&Expr> {
    match item {
        SelectItem::ExprWithAlias { expr, .. } | SelectItem::UnnamedExpr(expr) => Some(expr),
        _ => None,
    }
}

fn has_wildcard(projection: &[SelectItem]) -> bool {
    projection.iter().any(|i| {
        matches!(
            i,
            SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..)
        )
    })
}

fn same_text(a: &Expr, b: &Expr) -> bool {
    a.to_string().eq_ignore_ascii_case(&b.to_string())
}

fn item(e: &Expr, projection: Option<&[SelectItem]>) -> OrderItem {
    if let Expr::Value(v) = e {
        if let Value::Number(n, _) = &v.value {
            if let Ok(p) = n.to_string().parse::<usize>() {
                return OrderItem::Position(p);
            }
        }
    }
    let Some(projection) = projection else {
        return match e {
            Expr::Identifier(i) => OrderItem::Column(folded(i)),
            other => OrderItem::Expression(other.to_string()),
        };
    };
    // A bare name is an output name first (PostgreSQL's rule).
    if let Expr::Identifier(i) = e {
        let name = folded(i);
        if projection
            .iter()
            .any(|p| output_name(p).as_deref() == Some(name.as_str()))
            || has_wildcard(projection)
        {
            return OrderItem::Column(name);
        }
    }
    // The same expression as a select-list item: that item's column.
    for p in projection {
        if let (Some(pe), Some(name)) = (item_expr(p), output_name(p)) {
            if same_text(pe, e) {
                return OrderItem::Column(name);
            }
        }
    }
    OrderItem::Expression(e.to_string())
}

/// The output columns the ORDER BY sorts on, by name, or why they are not
/// known (then no ties are allowed).
pub fn sort_columns(items: &[OrderItem], columns: &[String]) -> Result<Vec<String>, String> {
    if items.is_empty() {
        return Err("its ORDER BY columns could not be read".into());
    }
    items
        .iter()
        .map(|i| match i {
            OrderItem::Column(name) if columns.contains(name) => Ok(name.clone()),
            OrderItem::Column(name) => Err(format!("ORDER BY `{name}` is not an output column")),
            OrderItem::Position(p) => columns
                .get(p.wrapping_sub(1))
                .cloned()
                .ok_or_else(|| format!("ORDER BY {p} is past the last output column")),
            OrderItem::Expression(text) => {
                Err(format!("ORDER BY `{text}` is not an output column"))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(sql: &str) -> Vec<OrderItem> {
        match ordering(sql, false) {
            Ordering::Ordered(Some(i)) => i,
            other => panic!("{other:?}"),
        }
    }

    fn cols(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn names_aliases_ordinals_and_select_list_expressions() {
        let i = items(
            "select cal.day, sum(o.n) as Orders, t.channel from cal join o on true \
             group by 1, 3 order by cal.day, orders desc, 3, Channel",
        );
        assert_eq!(
            sort_columns(&i, &cols(&["day", "orders", "channel"])),
            Ok(cols(&["day", "orders", "channel", "channel"]))
        );
    }

    #[test]
    fn an_expression_outside_the_output_is_unknown() {
        let i = items("select a, b from t order by abs(a - b) desc, a");
        let e = sort_columns(&i, &cols(&["a", "b"])).unwrap_err();
        assert!(e.contains("abs(a - b)"), "{e}");
        let i = items("select a from t order by priority, a");
        assert!(sort_columns(&i, &cols(&["a"]))
            .unwrap_err()
            .contains("priority"));
    }

    #[test]
    fn ctes_parameters_unions_and_parentheses() {
        let i = items(
            "with x as (select 1 as k order by k) select k, v from x where v > :min order by k limit :limit",
        );
        assert_eq!(i, vec![OrderItem::Column("k".into())]);
        let i = items("select a as k from t union all select b from u order by k");
        assert_eq!(i, vec![OrderItem::Column("k".into())]);
        let i = items("(select a from t order by a)");
        assert_eq!(i, vec![OrderItem::Column("a".into())]);
        assert_eq!(
            ordering("select a from (select a from t order by a) s", false),
            Ordering::Unordered
        );
    }

    #[test]
    fn a_wildcard_defers_bare_names_to_the_real_output() {
        let i = items("select * from t order by created_at");
        assert_eq!(
            sort_columns(&i, &cols(&["id", "created_at"])),
            Ok(cols(&["created_at"]))
        );
        assert!(sort_columns(&i, &cols(&["id"])).is_err());
    }

    #[test]
    fn what_sqlparser_cannot_read_is_ordered_with_unknown_columns() {
        let sql = "select a from t order by a using <";
        assert_eq!(ordering(sql, true), Ordering::Ordered(None));
        assert_eq!(ordering("select from where", false), Ordering::Unordered);
        assert!(sort_columns(&[], &cols(&["a"])).is_err());
        assert!(sort_columns(&[OrderItem::Position(3)], &cols(&["a"])).is_err());
        assert!(sort_columns(&[OrderItem::Position(0)], &cols(&["a"])).is_err());
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        /// A select-list item: a column, maybe table-qualified, maybe aliased.
        #[derive(Debug, Clone)]
        struct Item {
            qualified: bool,
            alias: bool,
        }

        /// How an ORDER BY item refers to a select-list item.
        #[derive(Debug, Clone, Copy)]
        enum Ref {
            Ordinal,
            Name,
            SameExpression,
        }

        fn items() -> impl Strategy<Value = Vec<Item>> {
            prop::collection::vec(
                (any::<bool>(), any::<bool>())
                    .prop_map(|(qualified, alias)| Item { qualified, alias }),
                1..6,
            )
        }

        proptest! {
            #[test]
            fn order_by_items_resolve_to_the_output_columns_they_name(
                projection in items(),
                picks in prop::collection::vec((any::<prop::sample::Index>(), 0u8..3, any::<bool>()), 1..5),
            ) {
                let expr = |i: usize, it: &Item| if it.qualified { format!("t.c{i}") } else { format!("c{i}") };
                let name = |i: usize, it: &Item| if it.alias { format!("out_{i}") } else { format!("c{i}") };
                let select: Vec<String> = projection.iter().enumerate().map(|(i, it)| {
                    if it.alias { format!("{} AS OUT_{i}", expr(i, it)) } else { expr(i, it) }
                }).collect();
                let columns: Vec<String> = projection.iter().enumerate().map(|(i, it)| name(i, it)).collect();
                let mut order = Vec::new();
                let mut expected = Vec::new();
                for (idx, how, desc) in &picks {
                    let i = idx.index(projection.len());
                    let it = &projection[i];
                    let how = match how { 0 => Ref::Ordinal, 1 => Ref::Name, _ => Ref::SameExpression };
                    let text = match how {
                        Ref::Ordinal => (i + 1).to_string(),
                        Ref::Name => name(i, it),
                        Ref::SameExpression => expr(i, it),
                    };
                    order.push(format!("{text}{}", if *desc { " DESC" } else { "" }));
                    expected.push(name(i, it));
                }
                let sql = format!(
                    "select {} from shop.t as t where t.day >= :from order by {} limit :n",
                    select.join(", "),
                    order.join(", ")
                );
                let Ordering::Ordered(Some(found)) = ordering(&sql, true) else {
                    panic!("not read as ordered: {sql}");
                };
                prop_assert_eq!(sort_columns(&found, &columns), Ok(expected), "{}", sql);
            }

            #[test]
            fn any_text_is_read_without_panicking(text in "\\PC{0,80}", ordered in any::<bool>()) {
                let _ = ordering(&text, ordered);
            }
        }
    }
}
