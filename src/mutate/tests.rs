//! Each operator family on small queries: the expected mutant, spliced
//! into the original text with its lines and comments kept.

use super::generate::Context;
use super::model::Mutant;
use super::operator::Operator;
use super::plan::{choose, mutants_of, Choice};
use super::scope::Catalog;

fn mutants(sql: &str, ctx: &Context) -> Vec<Mutant> {
    let g = mutants_of("q.sql", sql, ctx).unwrap();
    assert_eq!(g.dropped, 0, "spliced mutants that do not parse");
    for m in &g.mutants {
        assert_kept(sql, m);
    }
    g.mutants
}

/// Lines and comments of the original are all in the mutant.
fn assert_kept(sql: &str, m: &Mutant) {
    assert_eq!(
        sql.lines().count(),
        m.sql.lines().count(),
        "line count changed by {}:\n{}",
        m.description,
        m.sql
    );
    for line in sql.lines() {
        if let Some(i) = line.find("--") {
            assert!(
                m.sql.contains(&line[i..]),
                "comment `{}` lost by {}",
                &line[i..],
                m.description
            );
        }
    }
    let (mut rest, mut orig) = (m.sql.as_str(), sql);
    while let Some(i) = orig.find("/*") {
        let end = orig[i..].find("*/").unwrap() + i + 2;
        let block = &orig[i..end];
        let at = rest
            .find(block)
            .unwrap_or_else(|| panic!("{block} lost by {}", m.description));
        rest = &rest[at + block.len()..];
        orig = &orig[end..];
    }
}

/// The mutant of `op` whose text is `want`.
#[track_caller]
fn expect(ms: &[Mutant], op: Operator, want: &str) -> Mutant {
    match ms.iter().find(|m| m.operator == op && m.sql == want) {
        Some(m) => m.clone(),
        None => {
            let of_op: Vec<String> = ms
                .iter()
                .filter(|m| m.operator == op)
                .map(|m| format!("{}\n{}", m.description, m.sql))
                .collect();
            panic!("no {op} mutant\n{want}\namong\n{}", of_op.join("\n----\n"))
        }
    }
}

fn ctx() -> Context {
    Context::default()
}

const CLAUSES: &str = "\
-- totals per channel
select o.channel, -- the key
       sum(o.amount) as amount, count(distinct o.order_id) as orders
from shop.orders o
join shop.customers c on c.id = o.customer_id /* same id */
group by o.channel, c.name
union
select distinct 'x', 0, 0
order by amount desc, orders
limit 10";

#[test]
fn clauses_family() {
    let ms = mutants(CLAUSES, &ctx());
    let m = expect(
        &ms,
        Operator::Distinct,
        &CLAUSES.replacen("select o.channel", "select distinct o.channel", 1),
    );
    assert_eq!((m.start.line, m.start.column), (2, 7));
    expect(
        &ms,
        Operator::Distinct,
        &CLAUSES.replace("select distinct 'x'", "select 'x'"),
    );
    expect(
        &ms,
        Operator::Join,
        &CLAUSES.replace("\njoin shop", "\nleft join shop"),
    );
    expect(
        &ms,
        Operator::Join,
        &CLAUSES.replace("\njoin shop", "\nfull join shop"),
    );
    expect(
        &ms,
        Operator::GroupBy,
        &CLAUSES.replace("group by o.channel, c.name", "group by c.name"),
    );
    expect(
        &ms,
        Operator::GroupBy,
        &CLAUSES.replace("group by o.channel, c.name", "group by o.channel"),
    );
    for agg in ["avg", "min", "max"] {
        expect(
            &ms,
            Operator::Aggregate,
            &CLAUSES.replace("sum(o.amount)", &format!("{agg}(o.amount)")),
        );
    }
    expect(
        &ms,
        Operator::Aggregate,
        &CLAUSES.replace("count(distinct o.order_id)", "count(o.order_id)"),
    );
    expect(
        &ms,
        Operator::OrderBy,
        &CLAUSES.replace("amount desc, orders", "amount asc, orders"),
    );
    expect(
        &ms,
        Operator::OrderBy,
        &CLAUSES.replace("amount desc, orders", "amount desc, orders desc"),
    );
    expect(
        &ms,
        Operator::SortKey,
        &CLAUSES.replace("order by amount desc, orders", "order by orders"),
    );
    expect(
        &ms,
        Operator::SortKey,
        &CLAUSES.replace("order by amount desc, orders", "order by amount desc"),
    );
    expect(
        &ms,
        Operator::Union,
        &CLAUSES.replace("\nunion\n", "\nunion all\n"),
    );
    expect(
        &ms,
        Operator::Limit,
        &CLAUSES.replace("limit 10", "limit 11"),
    );
    expect(
        &ms,
        Operator::Limit,
        &CLAUSES.replace("limit 10", "limit 9"),
    );
}

#[test]
fn union_all_and_a_parameter_limit() {
    let sql = "SELECT a FROM t UNION ALL SELECT b FROM u LIMIT :n";
    let ms = mutants(sql, &ctx());
    expect(
        &ms,
        Operator::Union,
        "SELECT a FROM t UNION SELECT b FROM u LIMIT :n",
    );
    expect(
        &ms,
        Operator::Limit,
        "SELECT a FROM t UNION ALL SELECT b FROM u LIMIT (:n + 1)",
    );
    // Keywords follow the query's case.
    expect(
        &ms,
        Operator::Distinct,
        "SELECT DISTINCT a FROM t UNION ALL SELECT b FROM u LIMIT :n",
    );
}

const OPERATORS: &str = "\
select a + b * 2 as x
from t
where a >= 1 and b <> 2 -- filters
  and d between :date_from and :date_to::date
  and name like 'x%'
  or c = any(array[1, 2])";

#[test]
fn operators_family() {
    let ms = mutants(OPERATORS, &ctx());
    expect(
        &ms,
        Operator::Relational,
        &OPERATORS.replace("a >= 1", "a > 1"),
    );
    expect(
        &ms,
        Operator::Relational,
        &OPERATORS.replace("a >= 1", "a = 1"),
    );
    expect(
        &ms,
        Operator::Relational,
        &OPERATORS.replace("b <> 2", "b < 2"),
    );
    expect(
        &ms,
        Operator::Relational,
        &OPERATORS.replace("c = any", "c <= any"),
    );
    expect(
        &ms,
        Operator::Logical,
        &OPERATORS.replace("a >= 1 and b", "a >= 1 or b"),
    );
    expect(
        &ms,
        Operator::Logical,
        &OPERATORS.replace("\n  or c", "\n  and c"),
    );
    expect(
        &ms,
        Operator::Arithmetic,
        &OPERATORS.replace("a + b", "a - b"),
    );
    expect(
        &ms,
        Operator::Arithmetic,
        &OPERATORS.replace("b * 2", "b / 2"),
    );
    expect(
        &ms,
        Operator::Between,
        &OPERATORS.replace(
            "d between :date_from and :date_to::date",
            "(d > :date_from and d <= :date_to::date)",
        ),
    );
    expect(
        &ms,
        Operator::Between,
        &OPERATORS.replace(
            "d between :date_from and :date_to::date",
            "(d >= :date_from and d < :date_to::date)",
        ),
    );
    expect(
        &ms,
        Operator::Between,
        &OPERATORS.replace("d between", "d not between"),
    );
    expect(
        &ms,
        Operator::Like,
        &OPERATORS.replace("name like", "name ilike"),
    );
}

const NULLS: &str = "\
select coalesce(sum(x), 0) as s, /* guarded */ y / nullif(z, 0) as r
from t
where a is null and b is not distinct from c -- compare
order by s nulls last, r desc";

#[test]
fn null_family() {
    let ms = mutants(NULLS, &ctx());
    expect(
        &ms,
        Operator::IsNull,
        &NULLS.replace("a is null", "a is not null"),
    );
    expect(
        &ms,
        Operator::IsNull,
        &NULLS.replace("is not distinct from", "is distinct from"),
    );
    expect(
        &ms,
        Operator::Coalesce,
        &NULLS.replace("coalesce(sum(x), 0)", "(sum(x))"),
    );
    expect(
        &ms,
        Operator::Coalesce,
        &NULLS.replace("coalesce(sum(x), 0)", "coalesce(sum(x), 1)"),
    );
    expect(&ms, Operator::Nullif, &NULLS.replace("nullif(z, 0)", "(z)"));
    expect(
        &ms,
        Operator::Nullif,
        &NULLS.replace("nullif(z, 0)", "nullif(z, 1)"),
    );
    expect(
        &ms,
        Operator::NullsOrder,
        &NULLS.replace("s nulls last", "s nulls first"),
    );
    expect(
        &ms,
        Operator::NullsOrder,
        &NULLS.replace("r desc", "r desc nulls last"),
    );
}

const IDENTIFIERS: &str = "\
with w as (select 1 as k)
select o.amount * 1.5 as s, quantity, w.k
from shop.orders o, w -- the window
where o.day >= :date_from::date - interval '7 days'
  and o.day < :date_from + '1 day'::interval";

fn orders_catalog() -> Catalog {
    let mut c = Catalog::default();
    for (col, ty) in [
        ("day", "date"),
        ("amount", "numeric"),
        ("quantity", "bigint"),
        ("discount", "numeric"),
        ("shipped_on", "date"),
    ] {
        c.add("shop", "orders", col, ty);
    }
    c
}

#[test]
fn identifiers_family() {
    let mut ctx = Context {
        catalog: orders_catalog(),
        ..Default::default()
    };
    ctx.params
        .insert("date_from".into(), "'2025-10-01'::date".into());
    let ms = mutants(IDENTIFIERS, &ctx);
    // A column replaced by the next column of the same type.
    expect(
        &ms,
        Operator::Column,
        &IDENTIFIERS.replace("o.amount", "o.discount"),
    );
    expect(
        &ms,
        Operator::Column,
        &IDENTIFIERS.replace("where o.day >=", "where o.shipped_on >="),
    );
    // `quantity` is unqualified next to the CTE `w`, which could hold it too.
    assert!(!ms
        .iter()
        .any(|m| m.operator == Operator::Column && m.original == "quantity"));
    // `w.k` is a CTE column: no catalog type.
    assert!(!ms
        .iter()
        .any(|m| m.operator == Operator::Column && m.original == "k"));
    for (from, to) in [
        ("1.5", "2.5"),
        ("1.5", "0.5"),
        ("1.5", "15.0"),
        ("1.5", "0.0"),
    ] {
        expect(
            &ms,
            Operator::Constant,
            &IDENTIFIERS.replace(&format!("* {from}"), &format!("* {to}")),
        );
    }
    expect(
        &ms,
        Operator::Interval,
        &IDENTIFIERS.replace(
            "interval '7 days'",
            "(interval '7 days' + interval '1 day')",
        ),
    );
    expect(
        &ms,
        Operator::Interval,
        &IDENTIFIERS.replace(
            "'1 day'::interval",
            "('1 day'::interval - interval '1 day')",
        ),
    );
    expect(
        &ms,
        Operator::Parameter,
        &IDENTIFIERS.replacen(":date_from::date", "('2025-10-01'::date)::date", 1),
    );
}

#[test]
fn negative_constants_are_parenthesised() {
    let ms = mutants("select a - 0 from t", &ctx());
    expect(&ms, Operator::Constant, "select a - (-1) from t");
    expect(&ms, Operator::Constant, "select a - 1 from t");
}

#[test]
fn comments_are_never_edited() {
    // The `and` inside the comment, the number in the block comment, and a
    // group-by removal that would swallow a comment are all left alone.
    let sql = "select a, count(*) -- a and b\nfrom t /* 42 */\ngroup by a, /* keep */ b";
    let ms = mutants(sql, &ctx());
    assert!(!ms.iter().any(|m| m.operator == Operator::Logical));
    assert!(!ms.iter().any(|m| m.original.contains("42")));
    assert!(!ms.iter().any(|m| m.operator == Operator::GroupBy));
}

#[test]
fn locations_count_characters() {
    let sql = "select 'é' as x, a + 1 from t";
    let ms = mutants(sql, &ctx());
    let m = expect(&ms, Operator::Arithmetic, "select 'é' as x, a - 1 from t");
    assert_eq!((m.start.line, m.start.column), (1, 20));
    assert_eq!((m.end.line, m.end.column), (1, 21));
    assert_eq!((m.original.as_str(), m.replacement.as_str()), ("+", "-"));
}

#[test]
fn ids_are_stable_and_choices_deterministic() {
    let a = mutants(CLAUSES, &ctx());
    let b = mutants(CLAUSES, &ctx());
    assert_eq!(a, b);
    let ids: std::collections::BTreeSet<&str> = a.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids.len(), a.len(), "ids are unique");
    let sample = Choice {
        sample: Some((5, 7)),
        ..Default::default()
    };
    let (planned, one) = choose(a.clone(), &sample);
    let (_, again) = choose(a.clone(), &sample);
    assert_eq!((planned, one.len()), (5, 5));
    assert_eq!(one, again);
    let other_seed = choose(
        a.clone(),
        &Choice {
            sample: Some((5, 8)),
            ..Default::default()
        },
    )
    .1;
    assert_ne!(one, other_seed);
    // Partitions cover the plan exactly once.
    let mut seen = Vec::new();
    for k in 1..=3 {
        let part = choose(
            a.clone(),
            &Choice {
                partition: Some((k, 3)),
                ..Default::default()
            },
        );
        assert_eq!(part.0, a.len());
        seen.extend(part.1.into_iter().map(|m| m.id));
    }
    seen.sort();
    let mut all: Vec<String> = a.iter().map(|m| m.id.clone()).collect();
    all.sort();
    assert_eq!(seen, all);
    let only = choose(
        a,
        &Choice {
            operators: vec![Operator::Limit],
            ..Default::default()
        },
    );
    assert_eq!(only.0, 2);
}

/// Every query of this repository's suite parses, and every mutant of it
/// keeps its lines and comments and still parses.
#[test]
fn the_suites_queries_mutate_cleanly() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sql/endpoints");
    let mut total = 0;
    let mut ops = std::collections::BTreeSet::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        let sql = std::fs::read_to_string(&path).unwrap();
        let ms = mutants(&sql, &ctx());
        assert!(!ms.is_empty(), "{}", path.display());
        total += ms.len();
        ops.extend(ms.iter().map(|m| m.operator));
    }
    assert!(total > 300, "{total}");
    for op in [
        Operator::Distinct,
        Operator::Join,
        Operator::Aggregate,
        Operator::OrderBy,
        Operator::Relational,
        Operator::Logical,
        Operator::Arithmetic,
        Operator::IsNull,
        Operator::Coalesce,
        Operator::Nullif,
        Operator::Constant,
        Operator::Interval,
    ] {
        assert!(ops.contains(&op), "no {op} mutant in the suite");
    }
}

mod props {
    use super::super::source::Source;
    use proptest::prelude::*;
    use sqlparser::tokenizer::Location;

    proptest! {
        /// Every token's byte range round-trips through line/column.
        #[test]
        fn token_offsets_round_trip(words in proptest::collection::vec("[a-zé€ ]{0,6}|'[^'\\n]{0,5}'|--[^\\n]{0,5}\n|\n", 1..20)) {
            let text: String = words.concat();
            if let Ok(src) = Source::new(&text) {
                for t in &src.tokens {
                    let (l, c) = src.line_col(t.start);
                    prop_assert_eq!(src.offset(Location::new(l as u64, c as u64)), Some(t.start));
                    prop_assert!(text.is_char_boundary(t.start) && text.is_char_boundary(t.end));
                }
            }
        }
    }
}
