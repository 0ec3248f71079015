//! The JSON Schemas editors use: the committed files are exactly what
//! `assay schema` prints, every YAML file of this repository's suites
//! validates against them, they refuse what the parser refuses, and this
//! suite's files point editors at them.

mod common;

use common::Assay;
use std::path::{Path, PathBuf};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn printed(kind: &str) -> String {
    let out = Assay::new(repo()).args(["schema", kind]).run();
    out.expect_code(0);
    out.stdout
}

fn committed(kind: &str) -> (PathBuf, String) {
    let file = match kind {
        "config" => "assay.schema.json",
        "model" => "model.schema.json",
        _ => "check.schema.json",
    };
    let path = repo().join("docs/schema").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    (path, text)
}

#[test]
fn committed_schemas_are_what_assay_schema_prints() {
    for kind in ["config", "check", "model"] {
        let (path, text) = committed(kind);
        assert!(
            text == printed(kind),
            "{} is out of date: regenerate it with `cargo run -- schema {kind} > {}`",
            path.display(),
            path.display()
        );
    }
}

fn validator(kind: &str) -> jsonschema::Validator {
    let schema: serde_json::Value = serde_json::from_str(&committed(kind).1).unwrap();
    jsonschema::draft7::new(&schema).unwrap()
}

fn yaml_as_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap();
    serde_yaml_ng::from_str(&text).unwrap()
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(yaml_files(&p));
        } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
            out.push(p);
        }
    }
    out.sort();
    out
}

#[test]
fn every_suite_file_validates() {
    let config = validator("config");
    let check = validator("check");
    let mut roots = vec![repo().to_path_buf(), repo().join("examples/shop")];
    for e in std::fs::read_dir(repo().join("tests/suites")).unwrap() {
        roots.push(e.unwrap().path());
    }
    let model = validator("model");
    let mut checked = 0;
    for root in roots {
        let m = root.join("model.yaml");
        if m.is_file() {
            if let Err(e) = model.validate(&yaml_as_json(&m)) {
                panic!("{}: {e}", m.display());
            }
        }
        let cfg = root.join("assay.yaml");
        if let Err(e) = config.validate(&yaml_as_json(&cfg)) {
            panic!("{}: {e}", cfg.display());
        }
        for f in yaml_files(&root.join("checks")) {
            if let Err(e) = check.validate(&yaml_as_json(&f)) {
                panic!("{}: {e}", f.display());
            }
            checked += 1;
        }
    }
    assert!(checked > 20, "only {checked} check files found");
}

#[test]
fn the_schemas_refuse_what_the_parser_refuses() {
    let check = validator("check");
    let bad = [
        "name: a\nquery: q.sql\nseverty: warn\n",
        "name: a\nquery: q.sql\nexpect:\n  rows: {minn: 1}\n",
        "name: a\nquery: q.sql\nbudget: fast\n",
        "name: a\ntable: t\nchecks:\n  - not_nul: [x]\n",
    ];
    for text in bad {
        let doc: serde_json::Value = serde_yaml_ng::from_str(text).unwrap();
        assert!(!check.is_valid(&doc), "the schema accepts {text:?}");
    }
    let good: serde_json::Value =
        serde_yaml_ng::from_str("name: a\nquery: q.sql\nbudget: 250ms\ndefaults_ok: null\n")
            .unwrap();
    assert!(!check.is_valid(&good), "unknown keys are refused");
    let good: serde_json::Value = serde_yaml_ng::from_str(
        "name: a\nquery: q.sql\nbudget: 250ms\nexpect:\n  unique: [a, [b, c]]\n",
    )
    .unwrap();
    assert!(check.is_valid(&good));
    let config = validator("config");
    let doc: serde_json::Value =
        serde_yaml_ng::from_str("name: s\ndefaults:\n  timing_runs: auto\n").unwrap();
    assert!(config.is_valid(&doc));
    let doc: serde_json::Value =
        serde_yaml_ng::from_str("name: s\ndefaults:\n  timing_runs: sometimes\n").unwrap();
    assert!(!config.is_valid(&doc));
}

#[test]
fn this_suites_files_name_their_schema() {
    let mut files = vec![repo().join("assay.yaml"), repo().join("model.yaml")];
    files.extend(yaml_files(&repo().join("checks")));
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let first = text.lines().next().unwrap_or_default();
        let target = first
            .strip_prefix("# yaml-language-server: $schema=")
            .unwrap_or_else(|| {
                panic!(
                    "{} does not start with a yaml-language-server line",
                    f.display()
                )
            });
        let schema = f.parent().unwrap().join(target);
        assert!(
            schema.is_file(),
            "{}: {} does not exist",
            f.display(),
            schema.display()
        );
        let expected = if f.ends_with("assay.yaml") {
            "assay.schema.json"
        } else if f.ends_with("model.yaml") {
            "model.schema.json"
        } else {
            "check.schema.json"
        };
        assert!(
            target.ends_with(expected),
            "{}: points at {target}",
            f.display()
        );
    }
}
