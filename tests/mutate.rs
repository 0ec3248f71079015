//! `assay mutate` end to end: the real binary, its own embedded cluster.
//! A weak check misses the mutant a snapshot catches; unviable, timeout
//! and no-difference mutants are told apart; mutants.out/ and the Stryker
//! JSON are validated; partitions merge into one report; every format is
//! snapshotted.

mod common;

use common::{write_suite, Assay, Output};
use regex::Regex;
use serde_json::Value;
use std::path::Path;

const CONFIG: &str = "\
name: mutate-small
setup:
  - sql: schema.sql
defaults:
  budget: 2s
  timing_runs: 0
";

const SCHEMA: &str = "\
create schema shop;
create table shop.orders (id int primary key, day date not null, amount numeric not null, channel text);
insert into shop.orders values
  (1, '2025-10-01', 5, 'web'),
  (2, '2025-10-01', 10, 'store'),
  (3, '2025-10-02', 20, null),
  (4, '2025-10-03', 7, 'web');
";

const BIG_SQL: &str = "\
-- days with orders of at least :min_amount
select day, count(*) as orders
from shop.orders
where amount >= :min_amount   /* the threshold */
group by day
order by day
";

fn big_check(snapshot: bool) -> String {
    format!(
        "\
name: big_orders
query: big.sql
params:
  sets:
    - name: ten
      values: {{min_amount: 10}}
expect:
  rows: {{min: 1}}
  snapshot:
    enabled: {snapshot}
"
    )
}

fn suite(files: &[(&str, &str)]) -> tempfile::TempDir {
    let mut all = vec![("assay.yaml", CONFIG), ("schema.sql", SCHEMA)];
    all.extend_from_slice(files);
    write_suite(&all)
}

fn json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn outcome<'a>(report: &'a Value, description: &str) -> &'a Value {
    report["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["mutant"]["description"] == description)
        .unwrap_or_else(|| panic!("no mutant `{description}` in {report:#}"))
}

#[test]
fn a_weak_check_misses_the_mutant_a_snapshot_catches() {
    let weak_check = big_check(false);
    let dir = suite(&[
        ("sql/endpoints/big.sql", BIG_SQL),
        ("checks/big.yaml", &weak_check),
    ]);
    let out = Assay::new(dir.path())
        .args(["mutate", "--operators", "relational", "-j", "1"])
        .args(["--format", "human", "--format", "json=r.json"])
        .run();
    out.expect_code(1);
    let report = json(&dir.path().join("r.json"));
    let m = outcome(&report, "replace >= with >");
    assert_eq!(m["status"], "missed", "{m:#}");
    assert_eq!(m["differences"][0]["check"], "big_orders");
    assert_eq!(m["differences"][0]["param_set"], "ten");
    // The human report lists it with its diff: one line changed, the
    // comments kept.
    assert!(out.stdout.contains("Missed (2)"), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("-where amount >= :min_amount   /* the threshold */"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("+where amount > :min_amount   /* the threshold */"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("score 0.0%"), "{}", out.stdout);
    insta::assert_snapshot!("mutate_human_missed", out.stdout);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("mutants.out/missed.txt")).unwrap(),
        "sql/endpoints/big.sql:4:14: replace >= with =\nsql/endpoints/big.sql:4:14: replace >= with >\n"
    );
    // A lower bar passes.
    Assay::new(dir.path())
        .args(["mutate", "--operators", "relational", "--min-score", "0"])
        .run()
        .expect_code(0);

    // With a snapshot, the same mutant is caught.
    std::fs::write(dir.path().join("checks/big.yaml"), big_check(true)).unwrap();
    Assay::new(dir.path())
        .args(["run", "--accept-snapshots"])
        .run()
        .expect_code(0);
    let out = Assay::new(dir.path())
        .args([
            "mutate",
            "--operators",
            "relational",
            "--format",
            "json=r.json",
        ])
        .run();
    out.expect_code(0);
    let report = json(&dir.path().join("r.json"));
    let m = outcome(&report, "replace >= with >");
    assert_eq!(m["status"], "caught", "{m:#}");
    assert_eq!(m["killed_by"][0], "big_orders [ten]: snapshot");
    // Nothing was written beside the snapshot.
    let pending: Vec<_> = walk(&dir.path().join("snapshots"))
        .into_iter()
        .filter(|p| !p.ends_with(".snap"))
        .collect();
    assert!(pending.is_empty(), "{pending:?}");
}

fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p.display().to_string());
        }
    }
    out
}

const DATES_SQL: &str = "\
-- the day before each order
select id, day - 1 as before
from shop.orders
order by id
";

const SLEEPY_SQL: &str = "\
select 1 as one from (select pg_sleep(0.05)) s -- slow when the constant grows
";

const DATES_CHECK: &str = "\
name: dates
query: dates.sql
expect:
  rows: {min: 1}
";

const SLEEPY_CHECK: &str = "\
name: sleepy
query: sleepy.sql
expect:
  rows: {min: 1, max: 1}
";

/// The classification suite with its snapshots accepted.
fn classification_suite() -> tempfile::TempDir {
    let dir = suite(&[
        ("sql/endpoints/dates.sql", DATES_SQL),
        ("sql/endpoints/sleepy.sql", SLEEPY_SQL),
        ("checks/dates.yaml", DATES_CHECK),
        ("checks/sleepy.yaml", SLEEPY_CHECK),
    ]);
    Assay::new(dir.path())
        .args(["run", "--accept-snapshots"])
        .run()
        .expect_code(0);
    dir
}

/// The mutate command of the classification tests, with every format.
fn classify(dir: &Path, extra: &[&str]) -> Output {
    Assay::new(dir)
        .args([
            "mutate",
            "--operators",
            "arithmetic,constant",
            "--timeout",
            "400ms",
            "-j",
            "2",
        ])
        .args(extra)
        .args([
            "--format",
            "human",
            "--format",
            "json=r.json",
            "--format",
            "markdown=r.md",
            "--format",
            "stryker=stryker.json",
        ])
        .run()
}

#[test]
fn unviable_timeout_and_no_difference_are_told_apart_and_every_output_is_valid() {
    let dir = classification_suite();
    let out = classify(dir.path(), &[]);
    out.expect_code(0);
    let report = json(&dir.path().join("r.json"));
    // date * integer does not exist: PostgreSQL rejects the mutant.
    let m = outcome(&report, "replace - with *");
    assert_eq!(m["status"], "unviable", "{m:#}");
    assert!(
        m["reason"]
            .as_str()
            .unwrap()
            .contains("operator does not exist"),
        "{m:#}"
    );
    assert_eq!(outcome(&report, "replace - with +")["status"], "caught");
    // pg_sleep(1.05) and pg_sleep(0.5) run past the 400ms statement_timeout.
    assert_eq!(
        outcome(&report, "replace 0.05 with 1.05")["status"],
        "timeout"
    );
    assert_eq!(
        outcome(&report, "replace 0.05 with 0.5")["status"],
        "timeout"
    );
    // pg_sleep(0) changes nothing the checks could see.
    assert_eq!(
        outcome(&report, "replace 0.05 with 0.0")["status"],
        "no_difference"
    );
    assert_eq!(outcome(&report, "replace 1 with 2")["status"], "caught");

    validate_mutants_out(&dir.path().join("mutants.out"), &report);
    validate_stryker(&json(&dir.path().join("stryker.json")), &report);

    // Snapshots of every format.
    let red = |s: &str| redact(s);
    insta::assert_snapshot!("mutate_human", red(&out.stdout));
    insta::assert_snapshot!("mutate_json", red(&read(dir.path(), "r.json")));
    insta::assert_snapshot!("mutate_markdown", red(&read(dir.path(), "r.md")));
    insta::assert_snapshot!("mutate_stryker", red(&read(dir.path(), "stryker.json")));
    insta::assert_snapshot!(
        "mutate_outcomes_json",
        red(&read(dir.path(), "mutants.out/outcomes.json"))
    );
    let lists: String = ["caught", "missed", "timeout", "unviable", "no-difference"]
        .iter()
        .map(|f| {
            format!(
                "== {f}.txt\n{}",
                read(dir.path(), &format!("mutants.out/{f}.txt"))
            )
        })
        .collect();
    insta::assert_snapshot!("mutate_lists", lists);

    // A second run keeps the first as mutants.out.old.
    let first = read(dir.path(), "mutants.out/outcomes.json");
    classify(dir.path(), &["--sample", "3", "--seed", "1"]).expect_code(0);
    assert_eq!(read(dir.path(), "mutants.out.old/outcomes.json"), first);
    let second = json(&dir.path().join("mutants.out/outcomes.json"));
    assert_eq!(second["total_mutants"], 3);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

fn read(dir: &Path, rel: &str) -> String {
    std::fs::read_to_string(dir.join(rel)).unwrap_or_else(|e| panic!("cannot read {rel}: {e}"))
}

/// Replaces run-to-run numbers (durations) with placeholders.
fn redact(text: &str) -> String {
    let rules = [(r#""(duration_ms|duration)": [0-9.e+-]+"#, r#""$1": "[t]""#)];
    let mut out = text.to_string();
    for (re, with) in rules {
        out = Regex::new(re).unwrap().replace_all(&out, with).into_owned();
    }
    out
}

/// mutants.out/ in cargo-mutants' layout, consistent with the JSON report.
fn validate_mutants_out(dir: &Path, report: &Value) {
    let outcomes = report["outcomes"].as_array().unwrap();
    let doc = json(&dir.join("outcomes.json"));
    assert_eq!(doc["total_mutants"], outcomes.len());
    assert_eq!(doc["outcomes"][0]["scenario"], "Baseline");
    assert_eq!(
        doc["outcomes"].as_array().unwrap().len(),
        outcomes.len() + 1
    );
    for (file, status, summary) in [
        ("caught.txt", "caught", "CaughtMutant"),
        ("missed.txt", "missed", "MissedMutant"),
        ("timeout.txt", "timeout", "Timeout"),
        ("unviable.txt", "unviable", "Unviable"),
        ("no-difference.txt", "no_difference", "NoDifference"),
    ] {
        let listed: Vec<String> = read(dir, file).lines().map(str::to_string).collect();
        let want: Vec<String> = outcomes
            .iter()
            .filter(|o| o["status"] == status)
            .map(|o| {
                let m = &o["mutant"];
                format!(
                    "{}:{}:{}: {}",
                    m["file"].as_str().unwrap(),
                    m["start"]["line"],
                    m["start"]["column"],
                    m["description"].as_str().unwrap()
                )
            })
            .collect();
        assert_eq!(listed, want, "{file}");
        let counted = doc["outcomes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| o["summary"] == summary)
            .count();
        assert_eq!(counted, want.len(), "{summary}");
        let key = file.trim_end_matches(".txt").replace('-', "_");
        assert_eq!(doc[key.as_str()], want.len(), "{key}");
    }
    // A diff per mutant: the original's line out, the mutant's line in.
    for o in doc["outcomes"].as_array().unwrap().iter().skip(1) {
        let diff = read(dir, o["diff_path"].as_str().unwrap());
        let m = &o["scenario"]["Mutant"];
        assert!(diff.starts_with("--- sql/endpoints/"), "{diff}");
        assert_eq!(diff, m["diff"].as_str().unwrap());
        assert_eq!(
            diff.lines()
                .filter(|l| l.starts_with("-") && !l.starts_with("---"))
                .count(),
            1,
            "{diff}"
        );
    }
    assert!(dir.join("mutants.json").exists());
}

/// The Stryker report against the required shape of its schema, and
/// consistent with the JSON report.
fn validate_stryker(doc: &Value, report: &Value) {
    let schema: Value =
        serde_json::from_str(include_str!("mutate/stryker-report.required.json")).unwrap();
    let mut errors = Vec::new();
    check_schema(doc, &schema, &schema, "$", &mut errors);
    assert!(errors.is_empty(), "{errors:#?}");
    let status = |s: &str| match s {
        "caught" => "Killed",
        "missed" => "Survived",
        "timeout" => "Timeout",
        "unviable" => "CompileError",
        _ => "Ignored",
    };
    for o in report["outcomes"].as_array().unwrap() {
        let m = &o["mutant"];
        let file = &doc["files"][m["file"].as_str().unwrap()];
        let s = file["mutants"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == m["id"])
            .unwrap();
        assert_eq!(s["status"], status(o["status"].as_str().unwrap()));
        assert_eq!(s["location"]["start"]["line"], m["start"]["line"]);
        // The location's text in the source is what the mutant replaces.
        let source = file["source"].as_str().unwrap();
        let line = source
            .lines()
            .nth(m["start"]["line"].as_u64().unwrap() as usize - 1)
            .unwrap();
        let col = m["start"]["column"].as_u64().unwrap() as usize - 1;
        assert!(
            line.chars()
                .skip(col)
                .collect::<String>()
                .starts_with(m["original"].as_str().unwrap()),
            "{line} / {m:#}"
        );
    }
}

/// A small draft-07 validator for what the required shape uses.
fn check_schema(v: &Value, s: &Value, root: &Value, at: &str, errors: &mut Vec<String>) {
    if let Some(r) = s.get("$ref").and_then(Value::as_str) {
        let name = r.trim_start_matches("#/definitions/");
        return check_schema(v, &root["definitions"][name], root, at, errors);
    }
    if let Some(t) = s.get("type").and_then(Value::as_str) {
        let ok = match t {
            "object" => v.is_object(),
            "array" => v.is_array(),
            "string" => v.is_string(),
            "integer" => v.is_i64() || v.is_u64(),
            "number" => v.is_number(),
            "boolean" => v.is_boolean(),
            _ => true,
        };
        if !ok {
            errors.push(format!("{at}: not a {t}: {v}"));
            return;
        }
    }
    if let Some(e) = s.get("enum").and_then(Value::as_array) {
        if !e.contains(v) {
            errors.push(format!("{at}: {v} not one of {e:?}"));
        }
    }
    if let Some(p) = s.get("pattern").and_then(Value::as_str) {
        if !Regex::new(p)
            .unwrap()
            .is_match(v.as_str().unwrap_or_default())
        {
            errors.push(format!("{at}: {v} does not match {p}"));
        }
    }
    if let (Some(min), Some(n)) = (s.get("minimum").and_then(Value::as_f64), v.as_f64()) {
        if n < min {
            errors.push(format!("{at}: {n} < {min}"));
        }
    }
    if let (Some(max), Some(n)) = (s.get("maximum").and_then(Value::as_f64), v.as_f64()) {
        if n > max {
            errors.push(format!("{at}: {n} > {max}"));
        }
    }
    if let Some(obj) = v.as_object() {
        for r in s
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if !obj.contains_key(r.as_str().unwrap()) {
                errors.push(format!("{at}: missing required `{r}`"));
            }
        }
        let props = s.get("properties").and_then(Value::as_object);
        for (k, val) in obj {
            let sub = props
                .and_then(|p| p.get(k))
                .or(s.get("additionalProperties"));
            if let Some(sub) = sub.filter(|x| x.is_object()) {
                check_schema(val, sub, root, &format!("{at}.{k}"), errors);
            }
        }
    }
    if let (Some(items), Some(arr)) = (s.get("items"), v.as_array()) {
        for (i, x) in arr.iter().enumerate() {
            check_schema(x, items, root, &format!("{at}[{i}]"), errors);
        }
    }
}

#[test]
fn the_validator_rejects_what_the_schema_forbids() {
    let schema: Value =
        serde_json::from_str(include_str!("mutate/stryker-report.required.json")).unwrap();
    let bad: Value = serde_json::json!({
        "schemaVersion": "x",
        "thresholds": {"high": 101},
        "files": {"a.sql": {"language": "sql", "source": "", "mutants": [
            {"id": "1", "mutatorName": "m", "status": "Dead", "location": {"start": {"line": 0, "column": 1}}}
        ]}}
    });
    let mut errors = Vec::new();
    check_schema(&bad, &schema, &schema, "$", &mut errors);
    let all = errors.join("\n");
    for want in [
        "does not match",
        "missing required `\"low\"`",
        "> 100",
        "not one of",
        "< 1",
        "missing required `\"end\"`",
    ] {
        assert!(all.contains(want), "{want} not in\n{all}");
    }
}

#[test]
fn partitions_merge_into_the_whole_report() {
    let dir = classification_suite();
    let p = dir.path();
    let base = [
        "mutate",
        "--operators",
        "arithmetic,constant",
        "--timeout",
        "400ms",
        "-j",
        "2",
    ];
    Assay::new(p)
        .args(base)
        .args(["--format", "json=whole.json", "--out-dir", "whole"])
        .run()
        .expect_code(0);
    for k in 1..=2 {
        Assay::new(p)
            .args(base)
            .args(["--partition".to_string(), format!("hash:{k}/2")])
            .args(["--format".to_string(), format!("json=part{k}.json")])
            .run()
            .expect_code(0);
    }
    let out = Assay::new(p)
        .args([
            "merge",
            "part2.json",
            "part1.json",
            "--format",
            "json=merged.json",
            "--out-dir",
            "merged",
        ])
        .run();
    out.expect_code(0);
    assert!(out.stdout.contains("partition 1+2 of 2"), "{}", out.stdout);
    let ids = |v: &Value| -> Vec<(String, String)> {
        v["outcomes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| {
                (
                    o["mutant"]["id"].as_str().unwrap().to_string(),
                    o["status"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let whole = json(&p.join("whole.json"));
    let merged = json(&p.join("merged.json"));
    assert_eq!(ids(&merged), ids(&whole));
    assert!(ids(&json(&p.join("part1.json"))).len() < ids(&whole).len());
    for f in [
        "caught.txt",
        "timeout.txt",
        "unviable.txt",
        "no-difference.txt",
    ] {
        assert_eq!(
            read(p, &format!("merged/mutants.out/{f}")),
            read(p, &format!("whole/mutants.out/{f}")),
            "{f}"
        );
    }
    // A missing or duplicated partition is refused.
    let missing = Assay::new(p).args(["merge", "part1.json"]).run();
    missing.expect_code(2);
    assert!(
        missing.stderr.contains("partition 2/2 missing"),
        "{}",
        missing.stderr
    );
    let twice = Assay::new(p)
        .args(["merge", "part1.json", "part1.json", "part2.json"])
        .run();
    twice.expect_code(2);
    assert!(
        twice.stderr.contains("partition 1/2 appears twice"),
        "{}",
        twice.stderr
    );
}

#[test]
fn bad_flags_exit_2_before_anything_starts() {
    let dir = suite(&[
        ("sql/endpoints/big.sql", BIG_SQL),
        ("checks/big.yaml", &big_check(false)),
    ]);
    for (args, want) in [
        (
            vec!["--operators", "relationl"],
            "did you mean `relational`",
        ),
        (vec!["--partition", "hash:3/2"], "invalid partition"),
        (vec!["--min-score", "120"], "between 0 and 100"),
        (vec!["--seed", "3"], "--sample"),
        (vec!["--format", "junit"], "unknown format"),
    ] {
        let out = Assay::new(dir.path()).args(["mutate"]).args(&args).run();
        out.expect_code(2);
        assert!(out.stderr.contains(want), "{args:?}: {}", out.stderr);
    }
    // A cluster that cannot start is infrastructure (as root: no such user
    // to run the server as), and nothing is written.
    if nix::unistd::geteuid().is_root() {
        let out = Assay::new(dir.path())
            .env("ASSAY_PG_USER", "no-such-user-assay")
            .args(["mutate"])
            .run();
        out.expect_code(3);
        assert!(!dir.path().join("mutants.out").exists());
    }
}
