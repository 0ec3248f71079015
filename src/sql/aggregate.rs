//! Does an expression aggregate? Aggregate checks are one boolean over the
//! whole output, so an expression without an aggregate function is refused
//! at load. Parsed with sqlparser (PostgreSQL dialect); an expression it
//! cannot parse is left for PostgreSQL to judge.

use sqlparser::ast::{visit_expressions, Expr};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;
use std::ops::ControlFlow;

/// PostgreSQL's built-in aggregate functions (and the common extensions).
const AGGREGATES: &[&str] = &[
    "count",
    "sum",
    "avg",
    "min",
    "max",
    "bool_and",
    "bool_or",
    "every",
    "array_agg",
    "string_agg",
    "json_agg",
    "jsonb_agg",
    "json_object_agg",
    "jsonb_object_agg",
    "stddev",
    "stddev_pop",
    "stddev_samp",
    "variance",
    "var_pop",
    "var_samp",
    "corr",
    "covar_pop",
    "covar_samp",
    "regr_avgx",
    "regr_avgy",
    "regr_count",
    "regr_intercept",
    "regr_r2",
    "regr_slope",
    "regr_sxx",
    "regr_sxy",
    "regr_syy",
    "percentile_cont",
    "percentile_disc",
    "mode",
    "bit_and",
    "bit_or",
    "bit_xor",
    "xmlagg",
    "range_agg",
    "range_intersect_agg",
    "any_value",
];

/// Some(true) when `expr` calls an aggregate function, Some(false) when it
/// calls none, None when it does not parse.
pub fn uses_aggregate(expr: &str) -> Option<bool> {
    // Parameters (:name) are not SQL the parser knows: stand a literal in.
    let mut text = String::with_capacity(expr.len());
    let mut last = 0;
    for p in super::scan(expr).params {
        text.push_str(&expr[last..p.offset]);
        text.push_str("NULL");
        last = p.offset + 1 + p.name.len();
    }
    text.push_str(&expr[last..]);
    let statements = Parser::parse_sql(&PostgreSqlDialect {}, &format!("SELECT {text}")).ok()?;
    let found =
        visit_expressions(&statements, |e| match e {
            Expr::Function(f)
                if f.name.0.last().and_then(|p| p.as_ident()).is_some_and(|i| {
                    AGGREGATES.contains(&i.value.to_ascii_lowercase().as_str())
                }) =>
            {
                ControlFlow::Break(())
            }
            _ => ControlFlow::Continue(()),
        });
    Some(found.is_break())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_aggregates_apart() {
        assert_eq!(
            uses_aggregate("abs(sum(pct_of_total) - 100) < 0.01"),
            Some(true)
        );
        assert_eq!(
            uses_aggregate("count(*) filter (where x > :limit) = 0"),
            Some(true)
        );
        assert_eq!(uses_aggregate("bool_and(orders >= 0)"), Some(true));
        assert_eq!(
            uses_aggregate("not exists (select 1 from out where orders < 0)"),
            Some(false)
        );
        assert_eq!(uses_aggregate("orders > 0"), Some(false));
        assert_eq!(uses_aggregate("((( nonsense"), None);
    }
}
