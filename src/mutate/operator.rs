//! The mutation operators, grouped in the families of SQL mutation testing
//! (Tuya et al., SQLMutation): clauses, operators, NULL handling, and
//! identifiers and constants.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Family {
    Clauses,
    Operators,
    Null,
    Identifiers,
}

impl Family {
    pub const ALL: [Family; 4] = [
        Family::Clauses,
        Family::Operators,
        Family::Null,
        Family::Identifiers,
    ];
    pub fn name(&self) -> &'static str {
        match self {
            Family::Clauses => "clauses",
            Family::Operators => "operators",
            Family::Null => "null",
            Family::Identifiers => "identifiers",
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One mutation operator. The order here is the order of mutants at one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Operator {
    /// SELECT DISTINCT added or removed.
    Distinct,
    /// Join type: JOIN, LEFT, RIGHT, FULL.
    Join,
    /// One GROUP BY column removed.
    GroupBy,
    /// SUM/AVG/MIN/MAX swapped; COUNT <-> COUNT(DISTINCT).
    Aggregate,
    /// ORDER BY direction reversed.
    OrderBy,
    /// One sort key of an ORDER BY removed.
    SortKey,
    /// UNION <-> UNION ALL.
    Union,
    /// LIMIT +1 / -1.
    Limit,
    /// < <= > >= = <> replaced.
    Relational,
    /// AND <-> OR.
    Logical,
    /// + - * / replaced.
    Arithmetic,
    /// A BETWEEN bound made exclusive, or the BETWEEN negated.
    Between,
    /// LIKE <-> ILIKE.
    Like,
    /// IS NULL <-> IS NOT NULL (and IS [NOT] TRUE/FALSE/DISTINCT FROM).
    IsNull,
    /// COALESCE removed, or its default changed.
    Coalesce,
    /// NULLIF removed, or its value changed.
    Nullif,
    /// NULLS FIRST <-> NULLS LAST.
    NullsOrder,
    /// A column replaced by another of the same type in scope.
    Column,
    /// A number changed: +1, -1, x10, 0.
    Constant,
    /// An interval +1 day / -1 day.
    Interval,
    /// A parameter replaced by a constant.
    Parameter,
}

impl Operator {
    pub const ALL: [Operator; 21] = [
        Operator::Distinct,
        Operator::Join,
        Operator::GroupBy,
        Operator::Aggregate,
        Operator::OrderBy,
        Operator::SortKey,
        Operator::Union,
        Operator::Limit,
        Operator::Relational,
        Operator::Logical,
        Operator::Arithmetic,
        Operator::Between,
        Operator::Like,
        Operator::IsNull,
        Operator::Coalesce,
        Operator::Nullif,
        Operator::NullsOrder,
        Operator::Column,
        Operator::Constant,
        Operator::Interval,
        Operator::Parameter,
    ];

    pub fn name(&self) -> &'static str {
        match self {
            Operator::Distinct => "distinct",
            Operator::Join => "join",
            Operator::GroupBy => "group-by",
            Operator::Aggregate => "aggregate",
            Operator::OrderBy => "order-by",
            Operator::SortKey => "sort-key",
            Operator::Union => "union",
            Operator::Limit => "limit",
            Operator::Relational => "relational",
            Operator::Logical => "logical",
            Operator::Arithmetic => "arithmetic",
            Operator::Between => "between",
            Operator::Like => "like",
            Operator::IsNull => "is-null",
            Operator::Coalesce => "coalesce",
            Operator::Nullif => "nullif",
            Operator::NullsOrder => "nulls-order",
            Operator::Column => "column",
            Operator::Constant => "constant",
            Operator::Interval => "interval",
            Operator::Parameter => "parameter",
        }
    }

    pub fn family(&self) -> Family {
        use Operator::*;
        match self {
            Distinct | Join | GroupBy | Aggregate | OrderBy | SortKey | Union | Limit => {
                Family::Clauses
            }
            Relational | Logical | Arithmetic | Between | Like => Family::Operators,
            IsNull | Coalesce | Nullif | NullsOrder => Family::Null,
            Column | Constant | Interval | Parameter => Family::Identifiers,
        }
    }

    pub fn parse(name: &str) -> Option<Operator> {
        Operator::ALL.into_iter().find(|o| o.name() == name)
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Parses `--operators`: comma-separated operator or family names. Empty
/// means every operator.
pub fn parse_list(list: &str) -> Result<Vec<Operator>, String> {
    let mut chosen: Vec<Operator> = Vec::new();
    for raw in list.split(',') {
        let name = raw.trim().to_ascii_lowercase();
        if name.is_empty() {
            continue;
        }
        if let Some(fam) = Family::ALL.iter().find(|f| f.name() == name) {
            chosen.extend(Operator::ALL.iter().filter(|o| o.family() == *fam));
        } else if let Some(op) = Operator::parse(&name) {
            chosen.push(op);
        } else {
            let names: Vec<String> = Family::ALL
                .iter()
                .map(|f| f.name().to_string())
                .chain(Operator::ALL.iter().map(|o| o.name().to_string()))
                .collect();
            let hint = crate::suite::locate::closest(&name, &names)
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            return Err(format!(
                "unknown mutation operator `{name}`{hint}; families: clauses, operators, null, identifiers; operators: {}",
                Operator::ALL.iter().map(|o| o.name()).collect::<Vec<_>>().join(", ")
            ));
        }
    }
    chosen.sort();
    chosen.dedup();
    if chosen.is_empty() {
        return Err("--operators names no operator".into());
    }
    Ok(chosen)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_and_names_parse() {
        let ops = parse_list("null, relational").unwrap();
        assert_eq!(
            ops,
            vec![
                Operator::Relational,
                Operator::IsNull,
                Operator::Coalesce,
                Operator::Nullif,
                Operator::NullsOrder
            ]
        );
        let err = parse_list("relationl").unwrap_err();
        assert!(err.contains("did you mean `relational`"), "{err}");
        for o in Operator::ALL {
            assert_eq!(Operator::parse(o.name()), Some(o));
        }
    }

    proptest::proptest! {
        /// Any list of operator names, in any order, with spaces and repeats,
        /// parses to exactly those operators; a list with an unknown name never does.
        #[test]
        fn lists_parse_to_their_operators(picks in proptest::collection::vec(0..Operator::ALL.len(), 1..8), junk in "[a-z]{1,8}") {
            let names: Vec<String> = picks.iter().map(|&i| format!(" {} ", Operator::ALL[i].name().to_uppercase())).collect();
            let mut want: Vec<Operator> = picks.iter().map(|&i| Operator::ALL[i]).collect();
            want.sort();
            want.dedup();
            proptest::prop_assert_eq!(parse_list(&names.join(",")).unwrap(), want);
            let known = Operator::parse(&junk).is_some() || Family::ALL.iter().any(|f| f.name() == junk);
            proptest::prop_assert_eq!(parse_list(&format!("{},{junk}", names.join(","))).is_ok(), known);
        }
    }
}
