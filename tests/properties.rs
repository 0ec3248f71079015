//! Property tests: the named-parameter rewriter, YAML loading, value
//! comparison, and bench baseline files.

use assay::output::{cells_match, compare_cells, Cell};
use assay::sql::{rewrite, scan};
use assay::suite::{load_suite, LoadOptions};
use bigdecimal::BigDecimal;
use proptest::prelude::*;
use std::cmp::Ordering;
use std::collections::BTreeMap;

// ---------------------------------------------------------------------------
// (a) the named-parameter rewriter

/// One piece of generated SQL.
#[derive(Debug, Clone)]
enum Frag {
    /// Text that is not a parameter (may contain `:name`-like text).
    Other(String),
    /// A real parameter `:name`, optionally followed by a cast (`::date`).
    Param { name: String, cast: &'static str },
}

fn param_name() -> impl Strategy<Value = String> {
    "[a-z_][a-z0-9_]{0,6}"
}

/// Text that looks like parameters but sits inside something that hides them.
fn decoy() -> impl Strategy<Value = String> {
    prop_oneof![
        param_name().prop_map(|n| format!(":{n}")),
        Just("x".to_string()),
        Just(" ".to_string()),
        Just("::int".to_string()),
        Just("a:b".to_string()),
        Just("\n".to_string()),
        Just("é:ñ".to_string()),
    ]
}

fn decoys() -> impl Strategy<Value = String> {
    prop::collection::vec(decoy(), 0..5).prop_map(|v| v.concat())
}

fn other() -> impl Strategy<Value = String> {
    prop_oneof![
        // plain SQL, casts, positional parameters, operators that are not parameters
        prop::sample::select(vec![
            "select",
            "a + b",
            "from t",
            "(1)",
            "42",
            "=",
            ",",
            "where",
            "x::date",
            "'1'::int",
            "col::text[]",
            "$1",
            "a := 1",
            "arr[1:2]",
            "t.\"c\"::numeric(12,2)",
        ])
        .prop_map(str::to_string),
        // '...' with '' and backslashes (standard strings keep backslashes)
        prop::collection::vec(
            prop_oneof![decoy(), Just("''".to_string()), Just("\\".to_string())],
            0..5
        )
        .prop_map(|v| format!("'{}'", v.concat())),
        // E'...' with backslash escapes, including an escaped quote
        prop::collection::vec(
            prop_oneof![
                decoy(),
                Just("\\'".to_string()),
                Just("\\\\".to_string()),
                Just("''".to_string())
            ],
            0..5
        )
        .prop_map(|v| format!("E'{}'", v.concat())),
        // "quoted identifiers" with "" escapes
        prop::collection::vec(prop_oneof![decoy(), Just("\"\"".to_string())], 0..5)
            .prop_map(|v| format!("\"{}\"", v.concat())),
        // dollar quotes, with and without a tag, holding quotes and comment markers
        (
            prop::sample::select(vec!["", "t", "body"]),
            prop::collection::vec(
                prop_oneof![
                    decoy(),
                    Just("'".to_string()),
                    Just("\"".to_string()),
                    Just("--".to_string()),
                    Just("/*".to_string())
                ],
                0..5
            )
        )
            .prop_map(|(tag, v)| format!("${tag}${}${tag}$", v.concat())),
        // -- line comments (they end at the newline)
        decoys().prop_map(|d| format!("-- {}\n", d.replace('\n', " "))),
        // /* block comments */, possibly nested
        (decoys(), prop::option::of(decoys()), decoys()).prop_map(|(a, inner, b)| {
            let a = a.replace("*", "");
            match inner {
                Some(i) => format!("/* {a} /* {i} */ {b} */"),
                None => format!("/* {a} {b} */"),
            }
        }),
    ]
}

fn frag() -> impl Strategy<Value = Frag> {
    prop_oneof![
        3 => other().prop_map(Frag::Other),
        2 => (param_name(), prop::sample::select(vec!["", "::date", "::text[]"]))
            .prop_map(|(name, cast)| Frag::Param { name, cast }),
    ]
}

fn separator() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![" ", "\n", " \n  ", "\t", "\r\n"])
}

#[derive(Debug, Clone)]
struct Generated {
    sql: String,
    /// (name, byte offset of `:`, 1-based line)
    params: Vec<(String, usize, usize)>,
    frags: Vec<Frag>,
    seps: Vec<&'static str>,
}

fn build(frags: Vec<Frag>, seps: Vec<&'static str>) -> Generated {
    let mut sql = String::new();
    let mut params = Vec::new();
    for (i, f) in frags.iter().enumerate() {
        if i > 0 {
            sql.push_str(seps[(i - 1) % seps.len()]);
        }
        match f {
            Frag::Other(t) => sql.push_str(t),
            Frag::Param { name, cast } => {
                let line = sql.matches('\n').count() + 1;
                params.push((name.clone(), sql.len(), line));
                sql.push(':');
                sql.push_str(name);
                sql.push_str(cast);
            }
        }
    }
    Generated {
        sql,
        params,
        frags,
        seps,
    }
}

fn generated_sql() -> impl Strategy<Value = Generated> {
    (
        prop::collection::vec(frag(), 0..14),
        prop::collection::vec(separator(), 1..4),
    )
        .prop_map(|(f, s)| build(f, s))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn scan_finds_exactly_the_real_parameters(g in generated_sql()) {
        let s = scan(&g.sql);
        let found: Vec<(String, usize, usize)> =
            s.params.iter().map(|p| (p.name.clone(), p.offset, p.line)).collect();
        prop_assert_eq!(&found, &g.params, "sql: {:?}", g.sql);
        prop_assert_eq!(s.unterminated, None, "sql: {:?}", g.sql);
        prop_assert_eq!(s.extra_statements, 0);
    }

    #[test]
    fn rewrite_replaces_only_parameters(g in generated_sql(), typed in prop::collection::btree_map(param_name(), prop::sample::select(vec!["date", "int8", "numeric"]), 0..4)) {
        let types: BTreeMap<String, String> =
            typed.into_iter().map(|(k, v)| (k, v.to_string())).collect();
        let r = rewrite(&g.sql, &types);

        // The expected text: every other fragment byte for byte, each
        // parameter as `$n::type` with n by first occurrence.
        let mut order: Vec<String> = Vec::new();
        let mut want = String::new();
        for (i, f) in g.frags.iter().enumerate() {
            if i > 0 {
                want.push_str(g.seps[(i - 1) % g.seps.len()]);
            }
            match f {
                Frag::Other(t) => want.push_str(t),
                Frag::Param { name, cast } => {
                    let n = match order.iter().position(|o| o == name) {
                        Some(p) => p + 1,
                        None => { order.push(name.clone()); order.len() }
                    };
                    let ty = types.get(name).map(String::as_str).unwrap_or("text");
                    want.push_str(&format!("${n}::{ty}{cast}"));
                }
            }
        }
        prop_assert_eq!(&r.sql, &want);
        prop_assert_eq!(&r.order, &order);
        prop_assert_eq!(r.sql.matches('\n').count(), g.sql.matches('\n').count());
        prop_assert_eq!(r.sql.lines().count(), g.sql.lines().count());
        // The rewritten text has no named parameters left.
        prop_assert!(scan(&r.sql).params.is_empty(), "{:?}", r.sql);
    }

    #[test]
    fn scan_never_panics_on_arbitrary_text(s in "\\PC{0,80}|[:'\"$\\-/*\\\\a-z\n ]{0,40}") {
        let r = scan(&s);
        for p in &r.params {
            prop_assert!(s.is_char_boundary(p.offset));
            prop_assert_eq!(&s[p.offset..p.offset + 1], ":");
        }
        let _ = rewrite(&s, &BTreeMap::new());
    }
}

// ---------------------------------------------------------------------------
// (b) YAML loading

/// A suite with `checks/c.yaml` = `check` and `sql/endpoints/q.sql` = `query`.
fn temp_suite(check: &str, query: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::create_dir_all(p.join("checks")).unwrap();
    std::fs::create_dir_all(p.join("sql/endpoints")).unwrap();
    std::fs::write(p.join("assay.yaml"), "name: props\n").unwrap();
    std::fs::write(p.join("checks/c.yaml"), check).unwrap();
    std::fs::write(p.join("sql/endpoints/q.sql"), query).unwrap();
    dir
}

fn yamlish() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(vec![
        "name: a\n",
        "query: q.sql\n",
        "table: t\n",
        "expect:\n",
        "params:\n",
        "  matrix:\n",
        "  sets:\n",
        "    - name: s\n",
        "      values: {p: 1}\n",
        "  rows: {min: ",
        "1}\n",
        "  - ",
        "checks:\n",
        "  - row_count: {min: 1}\n",
        "budget: 2s\n",
        "budget: x\n",
        ": ",
        "[",
        "]",
        "{",
        "}",
        "- ",
        "&a ",
        "*a ",
        "!!binary ",
        "\t",
        "'",
        "\"",
        "\n",
        "  ",
        "null",
        "~",
        "1e999",
        "-",
        "?",
        "|\n",
        ">\n",
        "#",
        "%YAML 1.2\n",
        "---\n",
        "...\n",
        "types: {p: integer}\n",
        "environments: [fixtures]\n",
        "severity: loud\n",
    ]);
    prop::collection::vec(piece, 0..24).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn any_check_file_loads_or_fails_with_a_file_name(text in prop_oneof![yamlish(), "\\PC{0,200}"]) {
        let dir = temp_suite(&text, "select :p as x\n");
        let loaded = load_suite(dir.path(), &LoadOptions::default());
        match loaded {
            Ok(l) => {
                for e in &l.errors {
                    prop_assert!(!e.file.as_os_str().is_empty(), "{e}");
                    prop_assert!(e.to_string().starts_with(&e.file.display().to_string()));
                }
                let n = l.suite.query_checks.len() + l.suite.table_checks.len();
                prop_assert!(n + usize::from(!l.errors.is_empty()) >= 1,
                    "the file was neither loaded nor rejected: {text:?}");
            }
            Err(es) => {
                prop_assert!(!es.is_empty());
                for e in &es {
                    prop_assert!(!e.file.as_os_str().is_empty(), "{e}");
                }
            }
        }
    }
}

/// One matrix axis: a scalar axis of distinct integers, or a grouped axis of
/// two parameters.
#[derive(Debug, Clone)]
enum Axis {
    Scalar(usize),
    Grouped(usize),
}

fn axis() -> impl Strategy<Value = Axis> {
    prop_oneof![
        (1usize..4).prop_map(Axis::Scalar),
        (1usize..4).prop_map(Axis::Grouped)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn matrices_expand_to_the_product_of_axis_sizes(
        axes in prop::collection::vec(axis(), 1..4),
        named_sets in 0usize..3,
        fixed in any::<bool>(),
    ) {
        let mut yaml = String::from("name: m\nquery: q.sql\nparams:\n");
        let mut params: Vec<String> = Vec::new();
        yaml.push_str("  matrix:\n");
        for (i, a) in axes.iter().enumerate() {
            match a {
                Axis::Scalar(n) => {
                    let p = format!("s{i}");
                    let vals: Vec<String> = (0..*n).map(|v| (v * 10 + i).to_string()).collect();
                    yaml.push_str(&format!("    {p}: [{}]\n", vals.join(", ")));
                    params.push(p);
                }
                Axis::Grouped(n) => {
                    yaml.push_str(&format!("    g{i}:\n"));
                    for v in 0..*n {
                        yaml.push_str(&format!("      - {{lo{i}: {v}, hi{i}: {}}}\n", v + 100));
                    }
                    params.push(format!("lo{i}"));
                    params.push(format!("hi{i}"));
                }
            }
        }
        if fixed {
            yaml.push_str("  fixed: {f: 7}\n");
            params.push("f".into());
        }
        if named_sets > 0 {
            yaml.push_str("  sets:\n");
            for k in 0..named_sets {
                let values: Vec<String> = params.iter().map(|p| format!("{p}: {k}")).collect();
                yaml.push_str(&format!("    - name: named{k}\n      values: {{{}}}\n", values.join(", ")));
            }
        }
        let query = format!(
            "select {}\n",
            params.iter().map(|p| format!(":{p} as {p}")).collect::<Vec<_>>().join(", ")
        );
        let dir = temp_suite(&yaml, &query);
        let loaded = load_suite(dir.path(), &LoadOptions::default()).expect("config loads");
        prop_assert!(loaded.errors.is_empty(), "{:?}\n{yaml}", loaded.errors);
        let check = &loaded.suite.query_checks[0];
        let product: usize = axes.iter().map(|a| match a { Axis::Scalar(n) | Axis::Grouped(n) => *n }).product();
        prop_assert_eq!(check.sets.len(), product + named_sets, "{}", yaml);
        // Every set has a value for every parameter, and names are unique.
        let mut names = std::collections::BTreeSet::new();
        for s in &check.sets {
            prop_assert!(names.insert(s.name.clone()), "duplicate set name {}", s.name);
            for p in &params {
                prop_assert!(s.values.contains_key(p), "set {} lacks {p}", s.name);
            }
        }
    }
}

// ---------------------------------------------------------------------------
// (c) value comparison

/// A decimal m / 10^s with at most 15 significant digits (exact as f64 text).
fn small_decimal() -> impl Strategy<Value = (i64, i64)> {
    (-999_999_999_999i64..999_999_999_999, 0i64..4)
}

/// The same value as Numeric, as Float, and (when integral) as Int.
fn representations(m: i64, s: i64) -> Vec<Cell> {
    let d = BigDecimal::new(m.into(), s);
    let f = m as f64 / 10f64.powi(s as i32);
    let mut v = vec![
        Cell::Numeric(d.clone()),
        // the same number with trailing zeros: 1.5 vs 1.500
        Cell::Numeric(BigDecimal::new((m * 100).into(), s + 2)),
        Cell::Float(f),
    ];
    if d.is_integer() {
        v.push(Cell::Int(m / 10i64.pow(s as u32)));
    }
    v
}

fn numeric_cell() -> impl Strategy<Value = Cell> {
    prop_oneof![
        any::<i64>().prop_map(Cell::Int),
        (-1000i64..1000).prop_map(Cell::Int),
        small_decimal().prop_map(|(m, s)| Cell::Numeric(BigDecimal::new(m.into(), s))),
        (-100i64..100, 0i64..3).prop_map(|(m, s)| Cell::Numeric(BigDecimal::new(m.into(), s))),
        small_decimal().prop_map(|(m, s)| Cell::Float(m as f64 / 10f64.powi(s as i32))),
        (-1e12f64..1e12).prop_map(Cell::Float),
        Just(Cell::Null),
    ]
}

fn any_cell() -> impl Strategy<Value = Cell> {
    prop_oneof![
        4 => numeric_cell(),
        1 => any::<bool>().prop_map(Cell::Bool),
        1 => "[a-z0-9.-]{0,6}".prop_map(Cell::Text),
        1 => prop::sample::select(vec![f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0]).prop_map(Cell::Float),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn one_value_in_every_representation_matches((m, s) in small_decimal()) {
        let reps = representations(m, s);
        for a in &reps {
            for b in &reps {
                prop_assert!(cells_match(a, b, 0.0), "{a:?} vs {b:?}");
                prop_assert_eq!(compare_cells(a, b), Ordering::Equal, "{:?} vs {:?}", a, b);
                prop_assert_eq!(a.canonical(), b.canonical());
            }
        }
    }

    #[test]
    fn cells_match_is_symmetric(a in any_cell(), b in any_cell(), t in prop::sample::select(vec![0.0, 1e-6, 0.5, 1.0, 1000.0])) {
        prop_assert_eq!(cells_match(&a, &b, t), cells_match(&b, &a, t), "{:?} {:?} {}", a, b, t);
        prop_assert!(cells_match(&a, &a, t) || matches!(a, Cell::Float(f) if f.is_nan()) , "{a:?} does not match itself");
    }

    #[test]
    fn compare_cells_is_a_total_order_on_numbers(a in numeric_cell(), b in numeric_cell(), c in numeric_cell()) {
        let ab = compare_cells(&a, &b);
        // antisymmetric
        prop_assert_eq!(ab, compare_cells(&b, &a).reverse(), "{:?} {:?}", a, b);
        // reflexive
        prop_assert_eq!(compare_cells(&a, &a), Ordering::Equal);
        // transitive
        let bc = compare_cells(&b, &c);
        if ab != Ordering::Greater && bc != Ordering::Greater {
            prop_assert_ne!(compare_cells(&a, &c), Ordering::Greater, "{:?} <= {:?} <= {:?}", a, b, c);
        }
        if ab == Ordering::Equal && bc == Ordering::Equal {
            prop_assert_eq!(compare_cells(&a, &c), Ordering::Equal);
        }
        // consistent with exact matching
        prop_assert_eq!(ab == Ordering::Equal, cells_match(&a, &b, 0.0), "{:?} {:?}", a, b);
        // NULL sorts last
        if matches!(a, Cell::Null) {
            prop_assert_ne!(compare_cells(&a, &b), Ordering::Less);
        }
    }

    #[test]
    fn compare_cells_orders_numbers_numerically(a in numeric_cell(), b in numeric_cell()) {
        if let (Some(x), Some(y)) = (a.as_decimal(), b.as_decimal()) {
            prop_assert_eq!(compare_cells(&a, &b), x.cmp(&y));
        }
    }

    #[test]
    fn rounding_is_idempotent(c in any_cell(), places in 0u32..8) {
        let once = c.rounded(places);
        let twice = once.rounded(places);
        prop_assert_eq!(once.canonical(), twice.canonical(), "{:?}", c);
        // rounding never moves a number by more than half a unit in the last place
        if let (Some(x), Some(y)) = (c.as_decimal(), once.as_decimal()) {
            let half = BigDecimal::new(5.into(), i64::from(places) + 1);
            prop_assert!((x - y).abs() <= half, "{:?} -> {:?}", c, once);
        }
    }
}

#[test]
fn tolerance_is_inclusive() {
    let a = Cell::Numeric("1.5".parse().unwrap());
    assert!(cells_match(&a, &Cell::Int(2), 0.5));
    assert!(!cells_match(&a, &Cell::Int(2), 0.49));
    assert!(!cells_match(&Cell::Null, &Cell::Int(0), 1.0));
    assert!(cells_match(&Cell::Null, &Cell::Null, 0.0));
}

// ---------------------------------------------------------------------------
// (d) bench baseline files: whatever the parameter set names and plans, a
// saved baseline loads back with the same entries (YAML quoting included).

fn baseline_measurement(
    set: String,
    scale: f64,
    p95: f64,
    relations: BTreeMap<String, Vec<String>>,
    joins: Vec<String>,
) -> assay::bench::model::Measurement {
    assay::bench::model::Measurement {
        check: "kpi_cards".into(),
        param_set: set,
        params: BTreeMap::new(),
        scale,
        volume: 1000,
        budget_ms: 2000.0,
        runs: 5,
        p50_ms: p95 / 2.0,
        p95_ms: None,
        judged_ms: p95,
        judged: "max of 5 runs".into(),
        max_ms: p95,
        server_ms: None,
        buffers: None,
        rows: 1,
        plan: None,
        fingerprint: Some(assay::bench::model::Fingerprint {
            relations: relations
                .into_iter()
                .map(|(r, m)| (r, m.into_iter().collect()))
                .collect(),
            joins,
        }),
        error: None,
        attempts: 1,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn baselines_round_trip_through_their_yaml_file(
        sets in prop::collection::btree_set("[ -~]{1,30}", 1..4),
        scales in prop::collection::btree_set(1u32..2000, 1..3),
        p95 in 0.001f64..100_000.0,
        relations in prop::collection::btree_map("[a-z_.\"': #-]{1,12}", prop::collection::vec("[A-Za-z +_:#'\"-]{1,20}", 1..3), 0..3),
        joins in prop::collection::vec(prop::sample::select(vec!["Hash Join (Inner)", "Nested Loop (Left)", "Merge Join (Right)"]).prop_map(String::from), 0..3),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let scales: Vec<f64> = scales.into_iter().map(|s| s as f64 / 10.0).collect();
        let measurements: Vec<_> = sets
            .iter()
            .flat_map(|set| scales.iter().map(move |&s| (set.clone(), s)))
            .map(|(set, s)| baseline_measurement(set, s, p95, relations.clone(), joins.clone()))
            .collect();
        let refs: Vec<_> = measurements.iter().collect();
        assay::bench::baseline::save(dir.path(), "kpi_cards", &refs).unwrap();
        let loaded = assay::bench::baseline::load(dir.path(), "kpi_cards").unwrap().unwrap();
        prop_assert_eq!(loaded.entries.len(), measurements.len());
        for m in &measurements {
            let e = loaded.entry(&m.param_set, m.scale).expect("entry for every set and scale");
            prop_assert_eq!(&e.fingerprint, m.fingerprint.as_ref().unwrap());
            prop_assert!((e.judged_ms - m.judged_ms).abs() <= 0.0005 + 1e-9 * m.judged_ms);
            // And it compares as the same plan at the same speed.
            let status = assay::bench::baseline::compare(Some(e), m, 1.5, 0.0);
            let same = matches!(status, assay::bench::model::BaselineStatus::Same { .. });
            prop_assert!(same, "{:?}", status);
        }
    }
}

// (e) bench slowdowns relative to the machine: a machine uniformly slower or
// faster than the baselines' (each query within ±10 % of that) fails nothing,
// and one query twice as slow on top of it is the one that fails.
proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn relative_slowdowns_see_the_query_not_the_machine(
        medians in prop::collection::vec(0.05f64..5_000.0, 3..12),
        machine in 0.1f64..20.0,
        noise in prop::collection::vec(0.9f64..1.1, 12),
        slowed in any::<prop::sample::Index>(),
    ) {
        use assay::bench::assemble::{Judge, Thresholds};
        use assay::bench::baseline::{Baseline, BaselineEntry};
        let relations = BTreeMap::from([("t".to_string(), vec!["Seq Scan".to_string()])]);
        let fp = baseline_measurement("x".into(), 1.0, 1.0, relations.clone(), vec![])
            .fingerprint
            .unwrap();
        let entries = medians
            .iter()
            .enumerate()
            .map(|(i, &p50)| BaselineEntry {
                param_set: format!("s{i}"),
                scale: 1.0,
                judged_ms: p50,
                p50_ms: Some(p50),
                plan: fp.to_string(),
                fingerprint: fp.clone(),
            })
            .collect();
        let baselines = BTreeMap::from([(
            "kpi_cards".to_string(),
            Some(Baseline { check: "kpi_cards".into(), entries }),
        )]);
        let judge = Judge {
            baselines: &baselines,
            thresholds: Thresholds { max_slowdown: 1.5, min_slowdown_ms: 0.0, relative: true },
            accepting: false,
        };
        let mut now: Vec<_> = medians
            .iter()
            .enumerate()
            .map(|(i, &p50)| {
                let mut m = baseline_measurement(format!("s{i}"), 1.0, 1.0, relations.clone(), vec![]);
                m.p50_ms = p50 * machine * noise[i];
                m.judged_ms = m.p50_ms;
                // Far from any budget: only slowdowns are judged here.
                m.budget_ms = 1e9;
                m
            })
            .collect();
        let factor = judge.machine_factor(&now).unwrap();
        prop_assert!(factor >= machine * 0.9 - 1e-9 && factor <= machine * 1.1 + 1e-9);
        prop_assert_eq!(judge.to_confirm(&now), Vec::<usize>::new());
        let i = slowed.index(now.len());
        now[i].p50_ms *= 2.0;
        now[i].judged_ms = now[i].p50_ms;
        prop_assert_eq!(judge.to_confirm(&now), vec![i]);
    }
}
