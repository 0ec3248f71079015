//! A check's two queries side by side (pure): the base text prepared with the
//! current check's parameter types, the row key, the current query's order,
//! and whether a difference is acknowledged. A [`Unit`] is a pair under one
//! parameter set: what [`super::execute`] runs.

use super::model::KeyUsed;
use super::order::{self, Ordering};
use crate::db::bind::Bind;
use crate::engine::query_unit::binds_for;
use crate::sql::{self, Rewritten};
use crate::suite::{ParamSet, ParamType, QueryCheck};
use std::collections::BTreeMap;

/// A check's base query next to its current one.
#[derive(Debug, Clone)]
pub struct Pair<'a> {
    pub check: &'a QueryCheck,
    /// The base query file as shown in messages (`sql/plan/kpi.sql`,
    /// `origin/main:sql/endpoints/kpi.sql`).
    pub base_file: String,
    /// The base query as sent to PostgreSQL, or why it cannot be sent.
    pub base: Result<Rewritten, String>,
    /// Both files hold the same text: there is nothing to run.
    pub unchanged: bool,
    /// The key rows are matched by.
    pub key: Option<KeyUsed>,
    /// The current query's top-level ORDER BY.
    pub ordering: Ordering,
    /// Why a difference is expected, if it is.
    pub acknowledged: Option<String>,
}

/// A pair under one parameter set.
#[derive(Debug, Clone, Copy)]
pub struct Unit<'a> {
    pub pair: &'a Pair<'a>,
    pub set: &'a ParamSet,
}

/// The statement sent to PostgreSQL for `text`: trailing `;` dropped,
/// `:name` -> `$n::type` with the check's types.
pub fn prepare(text: &str, types: &BTreeMap<String, ParamType>) -> Rewritten {
    let casts: BTreeMap<String, String> = types
        .iter()
        .map(|(k, t)| (k.clone(), t.sql().to_string()))
        .collect();
    sql::rewrite(sql::strip_trailing_semicolon(text), &casts)
}

/// Why a base query file cannot be run as one statement, if it cannot.
fn unusable(text: &str, shown: &str) -> Option<String> {
    let s = sql::scan(text);
    if !s.has_code {
        return Some(format!("{shown} holds no query"));
    }
    if let Some((what, line)) = s.unterminated {
        return Some(format!("{shown}:{line}: unterminated {what}"));
    }
    if s.extra_statements > 0 {
        return Some(format!(
            "{shown}:{}: a query file must hold exactly one statement",
            s.extra_statement_line.unwrap_or(1)
        ));
    }
    if let Some(v) = s.psql_variables.first() {
        return Some(format!(
            "{shown}:{}: `{}` is written as a psql variable; assay parameters are written :{}",
            v.line, v.name, v.name
        ));
    }
    None
}

/// The key of a check: `diff.key`, else its first `expect.unique` key.
pub fn key_of(check: &QueryCheck) -> Option<KeyUsed> {
    if let Some(k) = &check.diff.key {
        return Some(KeyUsed {
            columns: k.clone(),
            from: "diff.key".into(),
        });
    }
    check.expect.unique.first().map(|k| KeyUsed {
        columns: k.clone(),
        from: "expect.unique".into(),
    })
}

/// Pairs `check` with its base text. `acknowledged_by_flag`: the check was
/// named by `--expect-different`.
pub fn pair<'a>(
    check: &'a QueryCheck,
    base_text: &str,
    base_file: String,
    acknowledged_by_flag: bool,
) -> Pair<'a> {
    let base = match unusable(base_text, &base_file) {
        Some(why) => Err(why),
        None => Ok(prepare(base_text, &check.types)),
    };
    let acknowledged = if acknowledged_by_flag {
        Some("--expect-different".to_string())
    } else {
        check.diff.expect_different.clone()
    };
    let lexer_ordered = sql::scan(&check.sql).top_level_order_by;
    Pair {
        check,
        unchanged: base_text == check.sql,
        base,
        base_file,
        key: key_of(check),
        ordering: order::ordering(sql::strip_trailing_semicolon(&check.sql), lexer_ordered),
        acknowledged,
    }
}

impl Pair<'_> {
    /// Every parameter set of the check, as units.
    pub fn units(&self) -> Vec<Unit<'_>> {
        self.check
            .sets
            .iter()
            .map(|set| Unit { pair: self, set })
            .collect()
    }
}

/// The typed binds of the base statement under `set`, or which parameter
/// the set does not give (the base may use parameters the current one
/// dropped).
pub fn base_binds(
    statement: &Rewritten,
    set: &ParamSet,
    types: &BTreeMap<String, ParamType>,
    base_file: &str,
) -> Result<Vec<Bind>, String> {
    if let Some(missing) = statement
        .order
        .iter()
        .find(|n| !set.values.contains_key(*n))
    {
        return Err(format!(
            "{base_file} uses :{missing}, which parameter set `{}` does not give",
            set.name
        ));
    }
    Ok(binds_for(statement, set, types))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::ParamValue;

    #[test]
    fn a_base_that_is_not_one_statement_is_refused_with_its_line() {
        assert!(unusable("-- nothing\n", "b.sql")
            .unwrap()
            .contains("holds no query"));
        assert_eq!(
            unusable("select 1;\nselect 2", "b.sql").unwrap(),
            "b.sql:2: a query file must hold exactly one statement"
        );
        assert!(unusable("select 'x", "b.sql")
            .unwrap()
            .contains("unterminated"));
        assert!(unusable("select :'p'", "b.sql")
            .unwrap()
            .contains("psql variable"));
        assert_eq!(unusable("select 1;", "b.sql"), None);
    }

    #[test]
    fn base_parameters_need_values_in_the_set() {
        let types = BTreeMap::from([("d".to_string(), ParamType::Date)]);
        let st = prepare("select :d, :gone", &types);
        let set = ParamSet {
            name: "s".into(),
            values: BTreeMap::from([("d".to_string(), ParamValue::Null)]),
        };
        let e = base_binds(&st, &set, &types, "old/q.sql").unwrap_err();
        assert_eq!(
            e,
            "old/q.sql uses :gone, which parameter set `s` does not give"
        );
        let st = prepare("select :d::date", &types);
        assert_eq!(base_binds(&st, &set, &types, "q").unwrap().len(), 1);
    }
}
