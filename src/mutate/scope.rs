//! What a column reference refers to: the relations of the database (the
//! catalog, read by the command from the loaded cluster) and the FROM items
//! of every SELECT, so `o.amount` can be replaced by another column of the
//! same relation and type.

use super::extent::Range;
use super::source::Source;
use sqlparser::ast::{
    Ident, ObjectName, ObjectNamePart, Query, SetExpr, Spanned, Statement, TableFactor, Visit,
    Visitor,
};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::ControlFlow;

/// Columns (name, type) of every relation, in column order, by `schema.name`.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    relations: BTreeMap<String, Vec<(String, String)>>,
}

impl Catalog {
    pub fn add(&mut self, schema: &str, relation: &str, column: &str, ty: &str) {
        self.relations
            .entry(format!("{schema}.{relation}"))
            .or_default()
            .push((column.to_string(), ty.to_string()));
    }

    pub fn is_empty(&self) -> bool {
        self.relations.is_empty()
    }

    /// The columns of `name` (`schema.rel`, or `rel` when one schema has it).
    pub fn columns(&self, name: &ObjectName) -> Option<&[(String, String)]> {
        let parts: Vec<String> = name
            .0
            .iter()
            .map(|p| match p {
                ObjectNamePart::Identifier(id) => Some(ident_name(id)),
                _ => None,
            })
            .collect::<Option<_>>()?;
        match parts.as_slice() {
            [schema, rel] => self
                .relations
                .get(&format!("{schema}.{rel}"))
                .map(Vec::as_slice),
            [rel] => {
                let suffix = format!(".{rel}");
                let mut found = self.relations.iter().filter(|(k, _)| k.ends_with(&suffix));
                let first = found.next()?;
                found.next().is_none().then_some(first.1.as_slice())
            }
            _ => None,
        }
    }
}

/// An identifier as PostgreSQL folds it.
pub fn ident_name(id: &Ident) -> String {
    if id.quote_style.is_some() {
        id.value.clone()
    } else {
        id.value.to_lowercase()
    }
}

/// One FROM item: the name it is referred to by and, for catalog
/// relations, its columns.
struct FromItem<'c> {
    alias: String,
    columns: Option<&'c [(String, String)]>,
}

struct SelectScope<'c> {
    range: Range,
    items: Vec<FromItem<'c>>,
}

/// Every SELECT of a statement with its FROM items; ORDER BY ranges (whose
/// names may be output columns) are left alone.
pub struct Scopes<'c> {
    selects: Vec<SelectScope<'c>>,
    order_by: Vec<Range>,
}

/// What a column reference resolved to: its relation's columns and its name.
pub struct Resolved<'c> {
    pub columns: &'c [(String, String)],
    pub column: String,
}

impl<'c> Scopes<'c> {
    pub fn build(src: &Source, stmt: &Statement, catalog: &'c Catalog) -> Scopes<'c> {
        struct Collect<'s, 'a, 'c> {
            src: &'s Source<'a>,
            catalog: &'c Catalog,
            ctes: BTreeSet<String>,
            out: Scopes<'c>,
        }
        impl<'c> Collect<'_, '_, 'c> {
            fn set_expr(&mut self, s: &SetExpr) {
                match s {
                    SetExpr::Select(sel) => {
                        let Some(range) = self.src.range(sel.span()) else {
                            return;
                        };
                        let mut items = Vec::new();
                        for twj in &sel.from {
                            self.item(&twj.relation, &mut items);
                            for j in &twj.joins {
                                self.item(&j.relation, &mut items);
                            }
                        }
                        self.out.selects.push(SelectScope { range, items });
                    }
                    SetExpr::SetOperation { left, right, .. } => {
                        self.set_expr(left);
                        self.set_expr(right);
                    }
                    _ => {}
                }
            }
            fn item(&self, t: &TableFactor, items: &mut Vec<FromItem<'c>>) {
                match t {
                    TableFactor::Table {
                        name, alias, args, ..
                    } => {
                        let last = name.0.last().and_then(|p| match p {
                            ObjectNamePart::Identifier(id) => Some(ident_name(id)),
                            _ => None,
                        });
                        let is_cte = name.0.len() == 1
                            && last.as_ref().is_some_and(|n| self.ctes.contains(n));
                        let columns = if args.is_none() && !is_cte {
                            self.catalog.columns(name)
                        } else {
                            None
                        };
                        let alias = alias
                            .as_ref()
                            .map(|a| ident_name(&a.name))
                            .or(last)
                            .unwrap_or_default();
                        items.push(FromItem { alias, columns });
                    }
                    TableFactor::NestedJoin {
                        table_with_joins, ..
                    } => {
                        self.item(&table_with_joins.relation, items);
                        for j in &table_with_joins.joins {
                            self.item(&j.relation, items);
                        }
                    }
                    other => {
                        let alias = match other {
                            TableFactor::Derived { alias, .. }
                            | TableFactor::Function { alias, .. }
                            | TableFactor::UNNEST { alias, .. }
                            | TableFactor::TableFunction { alias, .. } => alias.as_ref(),
                            _ => None,
                        };
                        items.push(FromItem {
                            alias: alias.map(|a| ident_name(&a.name)).unwrap_or_default(),
                            columns: None,
                        });
                    }
                }
            }
        }
        impl Visitor for Collect<'_, '_, '_> {
            type Break = ();
            fn pre_visit_query(&mut self, q: &Query) -> ControlFlow<()> {
                if let Some(w) = &q.with {
                    for c in &w.cte_tables {
                        self.ctes.insert(ident_name(&c.alias.name));
                    }
                }
                self.set_expr(&q.body);
                if let Some(ob) = &q.order_by {
                    if let Some(r) = self.src.range(ob.span()) {
                        self.out.order_by.push(r);
                    }
                }
                ControlFlow::Continue(())
            }
        }
        // CTE names first, so a FROM item naming a CTE is never taken for a table.
        let mut ctes = BTreeSet::new();
        let _ = sqlparser::ast::visit_statements(stmt, |s| {
            if let Statement::Query(q) = s {
                if let Some(w) = &q.with {
                    for c in &w.cte_tables {
                        ctes.insert(ident_name(&c.alias.name));
                    }
                }
            }
            ControlFlow::<()>::Continue(())
        });
        let mut c = Collect {
            src,
            catalog,
            ctes,
            out: Scopes {
                selects: Vec::new(),
                order_by: Vec::new(),
            },
        };
        let _ = stmt.visit(&mut c);
        c.out.selects.sort_by_key(|s| s.range.1 - s.range.0);
        c.out
    }

    /// Resolves a column reference (`col` or `alias.col`) at `at`.
    pub fn resolve(&self, at: usize, parts: &[&Ident]) -> Option<Resolved<'c>> {
        if self.order_by.iter().any(|&(a, b)| a <= at && at < b) {
            return None;
        }
        let column = ident_name(parts.last()?);
        // Innermost SELECT first, then the ones around it (correlation).
        for scope in self
            .selects
            .iter()
            .filter(|s| s.range.0 <= at && at < s.range.1)
        {
            match parts {
                [q, _] => {
                    let q = ident_name(q);
                    if let Some(item) = scope.items.iter().find(|i| i.alias == q) {
                        let cols = item.columns?;
                        return cols.iter().any(|(n, _)| *n == column).then_some(Resolved {
                            columns: cols,
                            column,
                        });
                    }
                }
                [_] => {
                    if scope.items.iter().any(|i| i.columns.is_none()) {
                        // A CTE or subquery could hold this name too.
                        return None;
                    }
                    let mut holders = scope
                        .items
                        .iter()
                        .filter_map(|i| i.columns)
                        .filter(|cols| cols.iter().any(|(n, _)| *n == column));
                    if let Some(cols) = holders.next() {
                        return holders.next().is_none().then_some(Resolved {
                            columns: cols,
                            column,
                        });
                    }
                }
                _ => return None,
            }
        }
        None
    }
}

/// The column that replaces `r.column`: the next column of the same type
/// in the relation's column order (wrapping around), if there is another.
pub fn replacement(r: &Resolved) -> Option<String> {
    let ty = &r.columns.iter().find(|(n, _)| *n == r.column)?.1;
    let pos = r.columns.iter().position(|(n, _)| *n == r.column)?;
    let n = r.columns.len();
    (1..n)
        .map(|k| &r.columns[(pos + k) % n])
        .find(|(name, t)| t == ty && *name != r.column)
        .map(|(name, _)| quote_if_needed(name))
}

fn quote_if_needed(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        name.to_string()
    } else {
        crate::sql::quote_ident(name)
    }
}
