//! `assay diff --generated` end to end: the real binary, its own embedded
//! cluster, the small suite `tests/suites/search` (parents and children,
//! fixtures that hit no boundary). A `>` vs `>=` at a threshold no fixture
//! hits and a LEFT vs INNER join that matters only for a parent without
//! children are found and shrunk to a row or two; an equivalent rewrite is
//! reported as such; a parameter value no written set has is drawn from
//! the declared type; the same seed gives the same counterexample.

mod common;

use common::{suite, Assay, Output};

fn diff_generated(base: &str, filter: &str, extra: &[&str]) -> Output {
    let dir = suite("search");
    let base = dir.join("base").join(base);
    let mut args = vec![
        "diff".to_string(),
        "--base-sql-dir".into(),
        base.display().to_string(),
        "--filter".into(),
        filter.into(),
        "--no-progress".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let tmp = common::private_tmp();
    Assay::new(&dir).tmpdir(tmp.path()).args(args).run()
}

/// The row count the report gives the printed fixture, checked against the
/// rows of its INSERTs.
fn fixture_rows(stdout: &str) -> usize {
    let line = stdout
        .lines()
        .find(|l| l.starts_with("fixture: "))
        .unwrap_or_else(|| panic!("no fixture in\n{stdout}"));
    let n: usize = line["fixture: ".len()..]
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let tuples = stdout
        .lines()
        .skip_while(|l| !l.starts_with("fixture: "))
        .filter(|l| l.starts_with("  ("))
        .count();
    assert_eq!(n, tuples, "{stdout}");
    n
}

#[test]
fn a_threshold_no_fixture_hits_is_found_and_shrunk_to_the_row_at_it() {
    // On the fixtures the two are the same (no amount is 100) ...
    let dir = suite("search");
    let tmp = common::private_tmp();
    let on_fixtures = Assay::new(&dir)
        .tmpdir(tmp.path())
        .args([
            "diff",
            "--base-sql-dir",
            &dir.join("base/ge").display().to_string(),
            "--filter",
            "over",
            "--format",
            "human",
            "--no-progress",
        ])
        .run();
    on_fixtures.expect_code(0);
    // ... generated data tells them apart.
    // (The written threshold only: a drawn one would find it elsewhere.)
    let out = diff_generated("ge", "over", &["--generated", "100", "--param-draws", "0"]);
    out.expect_code(1);
    assert!(out.stdout.contains("over [t100]:"), "{}", out.stdout);
    // The child at the threshold and the parent it needs.
    let rows = fixture_rows(&out.stdout);
    assert!(rows <= 2, "{}", out.stdout);
    assert!(
        out.stdout.contains(", 100)"),
        "the child with amount 100:\n{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("INSERT INTO s.parents"),
        "{}",
        out.stdout
    );
    // Parents come before the children that refer to them.
    let p = out.stdout.find("INSERT INTO s.parents").unwrap();
    let c = out.stdout.find("INSERT INTO s.children").unwrap();
    assert!(p < c);
    // Both outputs on it: base counts the row, current does not.
    assert!(out.stdout.contains("n=1"), "{}", out.stdout);
    assert!(out.stdout.contains("n=0"), "{}", out.stdout);
}

#[test]
fn a_parent_without_children_tells_left_from_inner_join() {
    let out = diff_generated("inner", "per_parent", &["--generated", "100"]);
    out.expect_code(1);
    assert!(out.stdout.contains("per_parent ["), "{}", out.stdout);
    // One parent and no child.
    assert_eq!(fixture_rows(&out.stdout), 1, "{}", out.stdout);
    assert!(
        !out.stdout.contains("INSERT INTO s.children"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("children=0"), "{}", out.stdout);
}

#[test]
fn an_equivalent_rewrite_is_reported_as_no_difference_in_n_datasets() {
    let out = diff_generated("same", "over", &["--generated", "40"]);
    out.expect_code(0);
    assert!(
        out.stdout
            .contains("no difference in 40 datasets × 4 parameter sets: evidence, not proof"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_parameter_value_no_set_has_is_drawn_from_the_declared_type() {
    // The base keeps a guard (`:threshold >= 0`) that matters only for a
    // negative threshold; the one written set has 100. The data cannot
    // tell the two apart ...
    let out = diff_generated(
        "guard",
        "over",
        &["--generated", "20", "--param-draws", "0"],
    );
    out.expect_code(0);
    assert!(
        out.stdout.contains("20 datasets × 1 parameter sets"),
        "{}",
        out.stdout
    );
    // ... an integer drawn next to the query's constant 0 does, and the
    // report names the drawn value so it can be written down as a set.
    let out = diff_generated(
        "guard",
        "over",
        &["--generated", "20", "--param-draws", "5"],
    );
    out.expect_code(1);
    assert!(
        out.stdout.contains("over [drawn ") && out.stdout.contains("threshold=-1]"),
        "{}",
        out.stdout
    );
    // At most 100 drawn sets per check, said before anything starts.
    let out = diff_generated(
        "guard",
        "over",
        &["--generated", "5", "--param-draws", "1000000"],
    );
    out.expect_code(2);
    assert!(
        out.stderr.contains("--param-draws") && out.stderr.contains("0..=100"),
        "{}",
        out.stderr
    );
    // --param-draws belongs to --generated.
    let out = diff_generated("guard", "over", &["--param-draws", "2"]);
    out.expect_code(2);
    assert!(out.stderr.contains("--generated"), "{}", out.stderr);
}

#[test]
fn the_same_seed_gives_the_same_counterexample() {
    let args = ["--generated", "100", "--seed", "42"];
    let a = diff_generated("ge", "over", &args);
    let b = diff_generated("ge", "over", &args);
    a.expect_code(1);
    assert_eq!(a.stdout, b.stdout);
    assert!(a.stdout.contains("(seed 42;"), "{}", a.stdout);
    // The printed replay seed finds it again as the first dataset.
    let replay: String = a
        .stdout
        .split("--generated 1 --seed ")
        .nth(1)
        .unwrap()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let r = diff_generated("ge", "over", &["--generated", "1", "--seed", &replay]);
    r.expect_code(1);
    assert!(r.stdout.contains("dataset 1 of 1"), "{}", r.stdout);
    let fixture = |s: &str| s[s.find("fixture: ").unwrap()..].to_string();
    assert_eq!(fixture(&a.stdout), fixture(&r.stdout));
}

#[test]
fn generated_needs_a_data_model_and_a_positive_count() {
    let out = diff_generated("ge", "over", &["--generated", "0"]);
    out.expect_code(2);
    assert!(
        out.stderr.contains("--generated must be at least 1"),
        "{}",
        out.stderr
    );
    let out = diff_generated("ge", "over", &["--generated", "5", "--scale", "1"]);
    out.expect_code(2);
    // Its report is the human one on standard output: a --format asked for
    // would be silently missing.
    let out = diff_generated(
        "ge",
        "over",
        &["--generated", "5", "--format", "json=d.json"],
    );
    out.expect_code(2);
    assert!(out.stderr.contains("--format"), "{}", out.stderr);
}

#[test]
fn mutate_generated_tells_gaps_in_the_fixtures_from_likely_equivalent_mutants() {
    let dir = common::suite_copy("search");
    let tmp = common::private_tmp();
    let json = tmp.path().join("mutate.json");
    let out = Assay::new(dir.path())
        .tmpdir(tmp.path())
        .args([
            "mutate",
            "--generated",
            "50",
            "--no-progress",
            "--out-dir",
            &tmp.path().display().to_string(),
            "--format",
            &format!("json={}", json.display()),
        ])
        .run();
    // The gaps count as missed: the score falls below 100.
    out.expect_code(1);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let outcomes = report["outcomes"].as_array().unwrap();
    let by = |description: &str| {
        outcomes
            .iter()
            .find(|o| o["mutant"]["description"] == description)
            .unwrap_or_else(|| panic!("no mutant `{description}` in\n{}", out.stdout))
    };
    // `>` -> `>=`: the same on the fixtures, a gap: the row at the threshold.
    let ge = by("replace > with >=");
    assert_eq!(ge["status"], "missed");
    // The child sits at the threshold of the parameter set it differs on
    // (the written 100 or a drawn one).
    let fixture = ge["generated"]["fixture"].as_str().unwrap();
    let set = ge["differences"][0]["param_set"].as_str().unwrap();
    let threshold = if set == "t100" {
        "100".to_string()
    } else {
        set.split("threshold=").nth(1).unwrap().to_string()
    };
    assert!(
        fixture.contains(&format!("(1, 1, {threshold})")),
        "{set}: {fixture}"
    );
    // LEFT -> INNER join: a parent without children.
    let inner = by("replace left join with join");
    assert_eq!(inner["status"], "missed");
    assert!(!inner["generated"]["fixture"]
        .as_str()
        .unwrap()
        .contains("s.children"));
    // :threshold -> its written value 100: the same on every dataset for
    // the one written set; a drawn threshold tells them apart.
    let parameter = by("replace :threshold with ('100'::int8)");
    assert_eq!(parameter["status"], "missed");
    assert!(
        parameter["differences"][0]["param_set"]
            .as_str()
            .unwrap()
            .starts_with("drawn "),
        "{parameter}"
    );
    // count(c.id) -> count(c.parent_id): parent_id is never NULL when a
    // child is there: likely equivalent, with what was tried.
    let column = by("replace c.id with c.parent_id");
    assert_eq!(column["status"], "no_difference");
    assert_eq!(column["generated"]["datasets"], 50);
    assert!(column["generated"].get("fixture").is_none());
    // Mutants the fixtures already tell apart are not searched.
    assert!(outcomes
        .iter()
        .filter(|o| o["status"] == "caught")
        .all(|o| o.get("generated").is_none()));
    assert!(
        out.stdout.contains("Missed on generated data (4)"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("Likely equivalent ("), "{}", out.stdout);
}

/// A `scale.reload` file that fails on the rows is named, with its line,
/// when the datasets could not be loaded: not reported as the schema
/// refusing them.
#[test]
fn a_reload_file_failing_on_the_rows_is_named_with_its_line() {
    let dir = common::suite_copy("search");
    std::fs::write(
        dir.path().join("analyze.sql"),
        "analyze s.parents, s.children;\nselect 1 / (count(*) - count(*)) from s.children;\n",
    )
    .unwrap();
    let base = dir.path().join("base/same");
    let tmp = common::private_tmp();
    let out = Assay::new(dir.path())
        .tmpdir(tmp.path())
        .args([
            "diff",
            "--base-sql-dir",
            &base.display().to_string(),
            "--filter",
            "over",
            "--no-progress",
            "--generated",
            "2",
        ])
        .run();
    // Nothing was compared: not a pass.
    out.expect_code(2);
    assert!(
        out.stderr
            .contains("no generated dataset could be loaded: every draw of 2 datasets was refused")
            && out.stderr.contains(
                "the last: the reload hook analyze.sql:2 failed on the rows: division by zero"
            ),
        "{}\n{}",
        out.stdout,
        out.stderr
    );
    assert!(!out.stdout.contains("no difference"), "{}", out.stdout);
}
