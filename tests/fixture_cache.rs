//! The cache of fixture databases: a second cold run copies the loaded
//! cluster instead of loading the fixtures again; changing a setup file
//! invalidates it; concurrent runs share it safely; old entries are evicted;
//! the sweep of orphaned run directories never touches it.

mod common;

use common::{private_tmp, run_dirs, write_suite, Assay};
use std::path::Path;

fn suite() -> tempfile::TempDir {
    write_suite(&[
        ("assay.yaml", "name: cached\nsetup:\n  - sql: schema.sql\n  - csv: rows.csv\n    table: t\n"),
        ("schema.sql", "create table t (id int primary key, v int);\n"),
        ("rows.csv", "id,v\n1,10\n2,20\n"),
        (
            "checks/a.yaml",
            "name: a\nquery: q.sql\nexpect:\n  rows: {min: 2, max: 2}\n  snapshot: {enabled: false}\n",
        ),
        ("sql/endpoints/q.sql", "select id, v from t\n"),
    ])
}

/// Runs the suite with its own cache directory; returns the fixture source
/// the JSON report names.
fn run(dir: &Path, cache: &Path, tmp: &Path) -> String {
    let report = dir.join(format!("r-{}.json", rand_suffix()));
    let out = Assay::new(dir)
        .env("ASSAY_CACHE_DIR", cache)
        .tmpdir(tmp)
        .args(["run", "--no-progress"])
        .args([format!("--format=json={}", report.display())])
        .run();
    out.expect_code(0);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    json["summary"]["fixtures"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

fn entries(cache: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(cache.join("fixtures"))
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| !n.starts_with('.'))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn a_second_run_uses_the_cache_and_an_edited_setup_file_does_not() {
    let dir = suite();
    let cache = tempfile::tempdir().unwrap();
    let tmp = private_tmp();
    assert_eq!(run(dir.path(), cache.path(), tmp.path()), "loaded");
    assert_eq!(entries(cache.path()).len(), 1);
    assert_eq!(run(dir.path(), cache.path(), tmp.path()), "cached");
    // The cached database holds the fixtures: the row count check passed.
    std::fs::write(dir.path().join("rows.csv"), "id,v\n1,10\n2,20\n").unwrap();
    assert_eq!(
        run(dir.path(), cache.path(), tmp.path()),
        "cached",
        "same bytes, same key"
    );
    std::fs::write(
        dir.path().join("schema.sql"),
        "create table t (id int primary key, v int);\n-- edited\n",
    )
    .unwrap();
    assert_eq!(run(dir.path(), cache.path(), tmp.path()), "loaded");
    assert_eq!(run(dir.path(), cache.path(), tmp.path()), "cached");
    assert_eq!(entries(cache.path()).len(), 2);
    // --no-fixture-cache neither reads nor writes it.
    let out = Assay::new(dir.path())
        .env("ASSAY_CACHE_DIR", cache.path())
        .tmpdir(tmp.path())
        .args(["run", "--no-progress", "--no-fixture-cache"])
        .run();
    out.expect_code(0);
    assert!(out.stdout.contains("fixtures loaded"), "{}", out.stdout);
    assert!(run_dirs(tmp.path()).is_empty());
}

#[test]
fn concurrent_runs_share_one_entry_and_old_entries_are_evicted() {
    let dir = suite();
    let cache = tempfile::tempdir().unwrap();
    let tmp = private_tmp();
    let children: Vec<_> = (0..3)
        .map(|_| {
            Assay::new(dir.path())
                .env("ASSAY_CACHE_DIR", cache.path())
                .tmpdir(tmp.path())
                .args(["run", "--no-progress"])
                .spawn()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(
        entries(cache.path()).len(),
        1,
        "{:?}",
        entries(cache.path())
    );
    assert_eq!(run(dir.path(), cache.path(), tmp.path()), "cached");
    // Five different setups: the three most recent stay.
    for i in 0..5 {
        std::fs::write(
            dir.path().join("schema.sql"),
            format!("create table t (id int primary key, v int);\n-- {i}\n"),
        )
        .unwrap();
        assert_eq!(run(dir.path(), cache.path(), tmp.path()), "loaded");
    }
    assert_eq!(
        entries(cache.path()).len(),
        3,
        "{:?}",
        entries(cache.path())
    );
    assert_eq!(
        run(dir.path(), cache.path(), tmp.path()),
        "cached",
        "the newest is kept"
    );
}

#[test]
fn the_orphan_sweep_leaves_the_cache_alone() {
    let dir = suite();
    let cache = tempfile::tempdir().unwrap();
    let tmp = private_tmp();
    assert_eq!(run(dir.path(), cache.path(), tmp.path()), "loaded");
    // A run directory of a process that no longer exists.
    let orphan = tmp.path().join("assay-pg-orphan");
    std::fs::create_dir_all(&orphan).unwrap();
    std::fs::write(orphan.join("owner.pid"), "999999999").unwrap();
    assert_eq!(run(dir.path(), cache.path(), tmp.path()), "cached");
    assert!(!orphan.exists(), "the orphan was swept");
    assert_eq!(entries(cache.path()).len(), 1);
}
