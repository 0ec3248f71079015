//! Plan fingerprints: the strategy of an `EXPLAIN (ANALYZE, BUFFERS, FORMAT
//! JSON)` plan reduced to which access methods touch which relation and which
//! joins combine them, its canonical one-line text, and the readable
//! differences between two fingerprints. Pure: no IO.

use super::model::Fingerprint;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// Node types that combine two inputs; they go into `Fingerprint::joins`.
const JOIN_NODES: [&str; 3] = ["Hash Join", "Merge Join", "Nested Loop"];

/// The fingerprint of an EXPLAIN JSON document (the array Postgres returns,
/// or its single object). Walks every node, InitPlans and SubPlans included.
pub fn fingerprint(explain: &Value) -> Fingerprint {
    let mut fp = Fingerprint::default();
    if let Some(plan) = root(explain).get("Plan") {
        walk(plan, &mut fp);
    }
    fp
}

/// `Execution Time` of the document, in ms.
pub fn execution_ms(explain: &Value) -> Option<f64> {
    root(explain).get("Execution Time").and_then(Value::as_f64)
}

/// Shared buffers hit plus read by the root plan node (they include the
/// children's). None when the plan reports neither (BUFFERS was off).
pub fn buffers(explain: &Value) -> Option<u64> {
    let plan = root(explain).get("Plan")?;
    let hit = plan.get("Shared Hit Blocks").and_then(Value::as_u64);
    let read = plan.get("Shared Read Blocks").and_then(Value::as_u64);
    match (hit, read) {
        (None, None) => None,
        (h, r) => Some(h.unwrap_or(0) + r.unwrap_or(0)),
    }
}

/// The object holding `Plan`: the first element of the array Postgres returns.
fn root(explain: &Value) -> &Value {
    explain.get(0).unwrap_or(explain)
}

fn children(node: &Value) -> &[Value] {
    node.get("Plans")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// The node type as Postgres prints it in text format: JSON reports parallel
/// nodes as `Seq Scan` plus `"Parallel Aware": true`, text as `Parallel Seq Scan`.
fn node_name(node: &Value) -> String {
    let kind = node.get("Node Type").and_then(Value::as_str).unwrap_or("?");
    let parallel = node.get("Parallel Aware").and_then(Value::as_bool) == Some(true);
    if parallel && !kind.starts_with("Parallel ") {
        format!("Parallel {kind}")
    } else {
        kind.to_string()
    }
}

fn walk(node: &Value, fp: &mut Fingerprint) {
    let kind = node.get("Node Type").and_then(Value::as_str).unwrap_or("");
    let name = node_name(node);
    if let Some(relation) = node.get("Relation Name").and_then(Value::as_str) {
        let index = if kind == "Bitmap Heap Scan" {
            let mut names = BTreeSet::new();
            for c in children(node) {
                bitmap_indexes(c, &mut names);
            }
            (!names.is_empty()).then(|| names.into_iter().collect::<Vec<_>>().join("+"))
        } else {
            node.get("Index Name")
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        let method = match index {
            Some(i) => format!("{name} using {i}"),
            None => name.clone(),
        };
        fp.relations
            .entry(relation.to_string())
            .or_default()
            .insert(method);
    }
    if JOIN_NODES.contains(&kind) {
        match node.get("Join Type").and_then(Value::as_str) {
            Some(j) => fp.joins.push(format!("{name} ({j})")),
            None => fp.joins.push(name),
        }
    }
    for c in children(node) {
        walk(c, fp);
    }
}

/// Index names of the Bitmap Index Scans under a Bitmap Heap Scan, through
/// BitmapAnd / BitmapOr.
fn bitmap_indexes(node: &Value, names: &mut BTreeSet<String>) {
    match node.get("Node Type").and_then(Value::as_str) {
        Some("Bitmap Index Scan") => {
            if let Some(i) = node.get("Index Name").and_then(Value::as_str) {
                names.insert(i.to_string());
            }
        }
        Some("BitmapAnd" | "BitmapOr") => {
            for c in children(node) {
                bitmap_indexes(c, names);
            }
        }
        _ => {}
    }
}

/// Canonical one-line text: relations and their methods sorted, joins in plan
/// order: `events: Seq Scan; dim_account: Index Scan using i | joins: Hash Join (Inner)`.
impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.relations.is_empty() {
            f.write_str("no relations")?;
        }
        for (i, (relation, methods)) in self.relations.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            let methods: Vec<&str> = methods.iter().map(String::as_str).collect();
            write!(f, "{relation}: {}", methods.join(", "))?;
        }
        if self.joins.is_empty() {
            f.write_str(" | joins: none")
        } else {
            write!(f, " | joins: {}", self.joins.join(", "))
        }
    }
}

/// The strategy a baseline holds a plan to: per relation, a sequential scan
/// or the indexes used (whether by index, index-only or bitmap scan), and how
/// many joins the plan has. Parallelism, the choice between index and bitmap
/// scans over the same index, the join method (hash, merge, nested loop),
/// which side of a join is outer (Left/Right) and join order move with small
/// changes in statistics (ANALYZE samples rows, concurrent loads lay rows out
/// differently); they are shown but never fail a bench on their own. (A hash
/// join over three calendar days became a nested loop between two CI runs
/// of the same data; what such a change costs, the slowdown gate judges.)
pub fn strategy(fp: &Fingerprint) -> Fingerprint {
    strategy_with(fp, false)
}

/// The strategy with join methods (hash, merge, nested loop, as a sorted
/// multiset) instead of the number of joins: for two plans made on the same
/// data and statistics (`assay diff`'s base and current), where another join
/// method is the query's doing, not ANALYZE's sampling.
pub fn strategy_on_same_data(fp: &Fingerprint) -> Fingerprint {
    strategy_with(fp, true)
}

fn strategy_with(fp: &Fingerprint, join_methods: bool) -> Fingerprint {
    let class = |method: &str| -> String {
        let m = method.strip_prefix("Parallel ").unwrap_or(method);
        for kind in [
            "Index Only Scan using ",
            "Index Scan using ",
            "Bitmap Heap Scan using ",
        ] {
            if let Some(index) = m.strip_prefix(kind) {
                return format!("index {index}");
            }
        }
        m.to_string()
    };
    let joins = if join_methods {
        let mut methods: Vec<String> = fp
            .joins
            .iter()
            .map(|j| {
                let j = j.strip_prefix("Parallel ").unwrap_or(j);
                j.split(" (").next().unwrap_or(j).to_string()
            })
            .collect();
        methods.sort();
        methods
    } else {
        vec!["join".to_string(); fp.joins.len()]
    };
    Fingerprint {
        relations: fp
            .relations
            .iter()
            .map(|(r, methods)| (r.clone(), methods.iter().map(|m| class(m)).collect()))
            .collect(),
        joins,
    }
}

/// Readable differences from `baseline` to `current`, one line per relation
/// that changed and one for the joins; empty exactly when they are equal.
pub fn changes(baseline: &Fingerprint, current: &Fingerprint) -> Vec<String> {
    let mut out = Vec::new();
    let relations: BTreeSet<&String> = baseline
        .relations
        .keys()
        .chain(current.relations.keys())
        .collect();
    let none = BTreeSet::new();
    for relation in relations {
        let before = baseline.relations.get(relation);
        let after = current.relations.get(relation);
        let removed = before.unwrap_or(&none).difference(after.unwrap_or(&none));
        let added = after.unwrap_or(&none).difference(before.unwrap_or(&none));
        let diff: Vec<String> = removed
            .map(|m| format!("- {m}"))
            .chain(added.map(|m| format!("+ {m}")))
            .collect();
        if diff.is_empty() {
            continue;
        }
        let label = match (before, after) {
            (None, Some(_)) => format!("{relation} (new)"),
            (Some(_), None) => format!("{relation} (no longer scanned)"),
            _ => relation.clone(),
        };
        out.push(format!("{label}: {}", diff.join(", ")));
    }
    if baseline.joins != current.joins {
        let before = counts(&baseline.joins);
        let after = counts(&current.joins);
        let mut diff = Vec::new();
        for (join, n) in &before {
            let left = after.get(join).copied().unwrap_or(0);
            diff.extend(std::iter::repeat_n(
                format!("- {join}"),
                n.saturating_sub(left),
            ));
        }
        for (join, n) in &after {
            let had = before.get(join).copied().unwrap_or(0);
            diff.extend(std::iter::repeat_n(
                format!("+ {join}"),
                n.saturating_sub(had),
            ));
        }
        if diff.is_empty() {
            // Same joins in a different order: still a different plan.
            out.push(format!(
                "joins: reordered {} → {}",
                baseline.joins.join(", "),
                current.joins.join(", ")
            ));
        } else {
            out.push(format!("joins: {}", diff.join(", ")));
        }
    }
    out
}

fn counts(joins: &[String]) -> BTreeMap<&str, usize> {
    let mut m = BTreeMap::new();
    for j in joins {
        *m.entry(j.as_str()).or_insert(0) += 1;
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A realistic plan: a hash join of a parallel seq scan with a bitmap heap
    /// scan over a BitmapOr, a nested loop with an index scan, an InitPlan and
    /// nodes that must not appear (Sort, Aggregate, CTE Scan, Function Scan).
    fn plan() -> Value {
        serde_json::from_str(
            r#"[{
            "Plan": {
                "Node Type": "Aggregate",
                "Shared Hit Blocks": 120,
                "Shared Read Blocks": 30,
                "Plans": [
                    {
                        "Node Type": "Result",
                        "Parent Relationship": "InitPlan",
                        "Plans": [{
                            "Node Type": "Index Only Scan",
                            "Parent Relationship": "Outer",
                            "Relation Name": "dim_date",
                            "Index Name": "dim_date_pkey"
                        }]
                    },
                    {
                        "Node Type": "Sort",
                        "Parent Relationship": "Outer",
                        "Plans": [{
                            "Node Type": "Hash Join",
                            "Join Type": "Inner",
                            "Parent Relationship": "Outer",
                            "Plans": [
                                {
                                    "Node Type": "Seq Scan",
                                    "Parallel Aware": true,
                                    "Parent Relationship": "Outer",
                                    "Relation Name": "events",
                                    "Actual Rows": 15000
                                },
                                {
                                    "Node Type": "Hash",
                                    "Parent Relationship": "Inner",
                                    "Plans": [{
                                        "Node Type": "Nested Loop",
                                        "Join Type": "Left",
                                        "Parent Relationship": "Outer",
                                        "Plans": [
                                            {
                                                "Node Type": "Bitmap Heap Scan",
                                                "Relation Name": "daily_rollup",
                                                "Parent Relationship": "Outer",
                                                "Plans": [{
                                                    "Node Type": "BitmapOr",
                                                    "Parent Relationship": "Outer",
                                                    "Plans": [
                                                        {"Node Type": "Bitmap Index Scan", "Index Name": "rollup_region_idx"},
                                                        {"Node Type": "Bitmap Index Scan", "Index Name": "rollup_day_idx"}
                                                    ]
                                                }]
                                            },
                                            {
                                                "Node Type": "Index Scan",
                                                "Parent Relationship": "Inner",
                                                "Relation Name": "dim_account",
                                                "Index Name": "dim_account_pkey"
                                            }
                                        ]
                                    }]
                                }
                            ]
                        }]
                    },
                    {
                        "Node Type": "CTE Scan",
                        "CTE Name": "totals",
                        "Parent Relationship": "SubPlan"
                    },
                    {
                        "Node Type": "Function Scan",
                        "Function Name": "generate_series",
                        "Parent Relationship": "Inner"
                    }
                ]
            },
            "Planning Time": 0.4,
            "Execution Time": 12.75
        }]"#,
        )
        .unwrap()
    }

    #[test]
    fn walks_every_node_and_keeps_only_the_strategy() {
        let fp = fingerprint(&plan());
        let rel = |r: &str| -> Vec<&str> {
            fp.relations[r]
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
        };
        assert_eq!(fp.relations.len(), 4, "{fp:?}");
        assert_eq!(rel("events"), ["Parallel Seq Scan"]);
        assert_eq!(rel("dim_date"), ["Index Only Scan using dim_date_pkey"]);
        assert_eq!(
            rel("daily_rollup"),
            ["Bitmap Heap Scan using rollup_day_idx+rollup_region_idx"]
        );
        assert_eq!(rel("dim_account"), ["Index Scan using dim_account_pkey"]);
        assert_eq!(fp.joins, ["Hash Join (Inner)", "Nested Loop (Left)"]);
    }

    #[test]
    fn display_is_canonical() {
        let fp = fingerprint(&plan());
        assert_eq!(
            fp.to_string(),
            "daily_rollup: Bitmap Heap Scan using rollup_day_idx+rollup_region_idx; \
             dim_account: Index Scan using dim_account_pkey; \
             dim_date: Index Only Scan using dim_date_pkey; \
             events: Parallel Seq Scan \
             | joins: Hash Join (Inner), Nested Loop (Left)"
        );
        let mut two = Fingerprint::default();
        for m in ["Seq Scan", "Index Scan using b", "Bitmap Heap Scan using a"] {
            two.relations
                .entry("t".into())
                .or_default()
                .insert(m.into());
        }
        assert_eq!(
            two.to_string(),
            "t: Bitmap Heap Scan using a, Index Scan using b, Seq Scan | joins: none"
        );
        assert_eq!(
            Fingerprint::default().to_string(),
            "no relations | joins: none"
        );
    }

    #[test]
    fn bitmap_and_collects_indexes_and_the_object_form_is_accepted() {
        let doc = json!({"Plan": {
            "Node Type": "Bitmap Heap Scan",
            "Relation Name": "events",
            "Plans": [{"Node Type": "BitmapAnd", "Plans": [
                {"Node Type": "Bitmap Index Scan", "Index Name": "b_idx"},
                {"Node Type": "Bitmap Index Scan", "Index Name": "a_idx"}
            ]}]
        }});
        assert_eq!(
            fingerprint(&doc).to_string(),
            "events: Bitmap Heap Scan using a_idx+b_idx | joins: none"
        );
    }

    #[test]
    fn timings_and_buffers() {
        assert_eq!(execution_ms(&plan()), Some(12.75));
        assert_eq!(buffers(&plan()), Some(150));
        let no_buffers = json!([{"Plan": {"Node Type": "Result"}}]);
        assert_eq!(buffers(&no_buffers), None);
        assert_eq!(execution_ms(&no_buffers), None);
        let only_hit = json!([{"Plan": {"Node Type": "Result", "Shared Hit Blocks": 7}}]);
        assert_eq!(buffers(&only_hit), Some(7));
        assert_eq!(fingerprint(&json!(null)), Fingerprint::default());
    }

    fn fp(relations: &[(&str, &[&str])], joins: &[&str]) -> Fingerprint {
        Fingerprint {
            relations: relations
                .iter()
                .map(|(r, ms)| (r.to_string(), ms.iter().map(|m| m.to_string()).collect()))
                .collect(),
            joins: joins.iter().map(|j| j.to_string()).collect(),
        }
    }

    #[test]
    fn changes_name_what_differs() {
        let a = fp(
            &[
                ("events", &["Index Scan using x"]),
                ("dim_date", &["Seq Scan"]),
            ],
            &["Hash Join (Inner)", "Hash Join (Inner)"],
        );
        let b = fp(
            &[("events", &["Seq Scan"]), ("fact_spend", &["Seq Scan"])],
            &["Hash Join (Inner)", "Nested Loop (Inner)"],
        );
        assert_eq!(
            changes(&a, &b),
            [
                "dim_date (no longer scanned): - Seq Scan",
                "events: - Index Scan using x, + Seq Scan",
                "fact_spend (new): + Seq Scan",
                "joins: - Hash Join (Inner), + Nested Loop (Inner)",
            ]
        );
        assert!(changes(&a, &a).is_empty());
        assert!(changes(&Fingerprint::default(), &Fingerprint::default()).is_empty());
    }

    #[test]
    fn strategy_ignores_parallelism_scan_kind_over_one_index_and_join_methods() {
        let a = fp(
            &[
                ("events", &["Index Scan using i"]),
                ("v", &["Parallel Seq Scan"]),
            ],
            &["Hash Join (Inner)", "Nested Loop (Left)"],
        );
        let b = fp(
            &[
                ("events", &["Bitmap Heap Scan using i"]),
                ("v", &["Seq Scan"]),
            ],
            &["Nested Loop (Right)", "Parallel Hash Join (Inner)"],
        );
        assert_ne!(a, b);
        assert_eq!(strategy(&a), strategy(&b));
        // An index scan that became a sequential scan is a change of strategy,
        // and so is another index or another number of joins.
        let seq = fp(
            &[("events", &["Seq Scan"]), ("v", &["Seq Scan"])],
            &["Hash Join (Inner)", "Nested Loop (Left)"],
        );
        assert_ne!(strategy(&a), strategy(&seq));
        let other_index = fp(
            &[("events", &["Index Scan using j"]), ("v", &["Seq Scan"])],
            &["Hash Join (Inner)", "Nested Loop (Left)"],
        );
        assert_ne!(strategy(&a), strategy(&other_index));
        let merge = fp(
            &[("events", &["Index Scan using i"]), ("v", &["Seq Scan"])],
            &["Merge Join (Inner)", "Nested Loop (Left)"],
        );
        assert_eq!(strategy(&a), strategy(&merge));
        // On the same data (diff's two sides) the join method counts.
        assert_ne!(strategy_on_same_data(&a), strategy_on_same_data(&merge));
        assert_eq!(strategy_on_same_data(&a), strategy_on_same_data(&b));
        let one_join_more = fp(
            &[("events", &["Index Scan using i"]), ("v", &["Seq Scan"])],
            &[
                "Hash Join (Inner)",
                "Nested Loop (Left)",
                "Hash Join (Inner)",
            ],
        );
        assert_ne!(strategy(&a), strategy(&one_join_more));
        assert_eq!(
            changes(&strategy(&a), &strategy(&one_join_more)),
            vec!["joins: + join".to_string()]
        );
        assert_eq!(
            changes(&strategy(&a), &strategy(&seq)),
            vec!["events: - index i, + Seq Scan".to_string()]
        );
    }

    #[test]
    fn reordered_joins_are_a_change() {
        let a = fp(&[], &["Hash Join (Inner)", "Nested Loop (Left)"]);
        let b = fp(&[], &["Nested Loop (Left)", "Hash Join (Inner)"]);
        assert_ne!(a, b);
        assert_eq!(
            changes(&a, &b),
            ["joins: reordered Hash Join (Inner), Nested Loop (Left) → Nested Loop (Left), Hash Join (Inner)"]
        );
    }
}
