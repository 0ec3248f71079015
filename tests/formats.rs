//! Every report format for the pass and the fail suite, snapshotted with
//! insta after redacting what changes from run to run (ports, timings, plans).

mod common;

use common::{suite, Assay, Output};
use regex::Regex;
use serde_json::Value;
use std::path::Path;

/// The four reports of one run: human on stdout, the others in files.
struct Reports {
    out: Output,
    human: String,
    json: String,
    junit: String,
    markdown: String,
}

fn run_all_formats(dir: &Path) -> Reports {
    let tmp = tempfile::Builder::new()
        .prefix("assay-test-formats-")
        .tempdir()
        .unwrap();
    let p = |name: &str| tmp.path().join(name);
    // One job: units finish (and the human report prints them) in plan order.
    let out = Assay::new(dir)
        .args(["run", "--no-progress", "-j", "1", "--format", "human"])
        // Whether fixtures come from the cache depends on earlier runs.
        .args(["--no-fixture-cache"])
        .args([
            format!("--format=json={}", p("r.json").display()),
            format!("--format=junit={}", p("junit.xml").display()),
            format!("--format=markdown={}", p("r.md").display()),
        ])
        .run();
    let read = |n: &str| {
        std::fs::read_to_string(p(n)).unwrap_or_else(|e| {
            panic!(
                "no {n}: {e}\n--- stdout\n{}\n--- stderr\n{}",
                out.stdout, out.stderr
            )
        })
    };
    Reports {
        human: out.stdout.clone(),
        json: read("r.json"),
        junit: read("junit.xml"),
        markdown: read("r.md"),
        out,
    }
}

/// Replaces what differs between runs with placeholders.
fn redact(text: &str) -> String {
    let rules: &[(&str, &str)] = &[
        (r"127\.0\.0\.1:\d+", "127.0.0.1:[port]"),
        (r"\d+(\.\d+)? ms\b", "[t] ms"),
        (r"in \d+\.\d+ s \(setup \d+\.\d+ s", "in [t] s (setup [t] s"),
        (r#"time="[0-9.]+""#, r#"time="[t]""#),
        // markdown: the `slowest (ms)` column
        (
            r"(?m)\| \d+\.\d+ (\([^)]*\) )?\| (\S+) \|$",
            "| [t] $1| $2 |",
        ),
        (r"/tmp/[A-Za-z0-9._-]+", "[tmp]"),
    ];
    let mut s = text.to_string();
    for (re, with) in rules {
        s = Regex::new(re).unwrap().replace_all(&s, *with).into_owned();
    }
    s
}

/// The JSON report with measured values replaced, then pretty-printed and redacted.
fn redact_json(text: &str) -> String {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(m) => {
                for (k, val) in m.iter_mut() {
                    match k.as_str() {
                        "duration_ms" | "setup_ms" | "p50_ms" | "p95_ms" | "max_ms" => {
                            assert!(val.is_number(), "{k} is not a number: {val}");
                            *val = Value::String("[t]".into());
                        }
                        "plan" => {
                            assert!(val.is_array() || val.is_object(), "plan: {val}");
                            *val = Value::String("[plan]".into());
                        }
                        _ => walk(val),
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(walk),
            _ => {}
        }
    }
    let mut v: Value = serde_json::from_str(text).expect("the JSON report parses");
    walk(&mut v);
    redact(&serde_json::to_string_pretty(&v).unwrap())
}

/// Minimal well-formedness of the JUnit XML: the declaration, balanced tags,
/// and one `<testcase` per unit.
fn check_junit(xml: &str, units: usize) {
    assert!(xml.starts_with("<?xml"), "{xml}");
    let count = |s: &str| xml.matches(s).count();
    let cases = count("<testcase ");
    assert_eq!(cases, units, "one <testcase per unit\n{xml}");
    let self_closed = Regex::new(r"<testcase [^>]*/>")
        .unwrap()
        .find_iter(xml)
        .count();
    assert_eq!(cases - self_closed, count("</testcase>"), "{xml}");
    assert_eq!(count("<testsuite "), count("</testsuite>"), "{xml}");
    assert_eq!(count("<testsuites "), 1);
    assert_eq!(count("</testsuites>"), 1);
    // Every failure and error element is closed.
    for tag in ["failure", "error"] {
        let open = Regex::new(&format!(r"<{tag}[ >]"))
            .unwrap()
            .find_iter(xml)
            .count();
        let selfc = Regex::new(&format!(r"<{tag} [^>]*/>"))
            .unwrap()
            .find_iter(xml)
            .count();
        assert_eq!(open - selfc, count(&format!("</{tag}>")), "<{tag}>\n{xml}");
    }
}

fn units(json: &str) -> usize {
    let v: Value = serde_json::from_str(json).unwrap();
    v["results"].as_array().unwrap().len()
}

#[test]
fn pass_suite_in_every_format() {
    let r = run_all_formats(&suite("pass"));
    r.out.expect_code(0);
    assert_eq!(units(&r.json), 9);
    check_junit(&r.junit, 9);
    assert!(r.junit.contains(r#"failures="0" errors="0""#));
    insta::assert_snapshot!("pass_human", redact(&r.human));
    insta::assert_snapshot!("pass_json", redact_json(&r.json));
    insta::assert_snapshot!("pass_junit", redact(&r.junit));
    insta::assert_snapshot!("pass_markdown", redact(&r.markdown));
}

#[test]
fn fail_suite_in_every_format() {
    let r = run_all_formats(&suite("fail"));
    r.out.expect_code(1);
    assert_eq!(units(&r.json), 16);
    check_junit(&r.junit, 16);
    assert!(
        r.junit.contains(r#"tests="16" failures="8" errors="2""#),
        "{}",
        r.junit
    );
    assert!(r.markdown.starts_with("## assay: example-fail FAILED"));
    insta::assert_snapshot!("fail_human", redact(&r.human));
    insta::assert_snapshot!("fail_json", redact_json(&r.json));
    insta::assert_snapshot!("fail_junit", redact(&r.junit));
    insta::assert_snapshot!("fail_markdown", redact(&r.markdown));
}

#[test]
fn a_single_format_goes_to_stdout_and_output_writes_a_file() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("nested/dir/report.md");
    let out = Assay::new(suite("warn"))
        .args(["run", "--no-progress", "--format", "markdown", "-o"])
        .args([file.as_os_str()])
        .run();
    out.expect_code(0);
    let md = std::fs::read_to_string(&file).unwrap();
    assert!(md.starts_with("## assay: example-warn"), "{md}");
    assert!(md.contains("0 failed"), "{md}");
    let out = Assay::new(suite("warn"))
        .args(["run", "--no-progress", "--format", "junit"])
        .run();
    out.expect_code(0);
    check_junit(&out.stdout, 2);
}

#[test]
fn redaction_rules_do_what_they_say() {
    assert_eq!(
        redact("on 127.0.0.1:41685: p95 10.4 ms of 1ms budget, 3 ms"),
        "on 127.0.0.1:[port]: p95 [t] ms of 1ms budget, [t] ms"
    );
    assert_eq!(
        redact("| `slow` | 1 | FAIL | 10.4 | 1 |\n| `x` | 1 | PASS | - | - |"),
        "| `slow` | 1 | FAIL | [t] | 1 |\n| `x` | 1 | PASS | - | - |"
    );
}
