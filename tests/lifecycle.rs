//! The embedded server never outlives a run: after a pass, a failure, an input
//! error and an interrupt there is no postgres process and no run directory left.
//!
//! Each run gets a private TMPDIR, so its run directory (`$TMPDIR/assay-pg-*`)
//! and its server (whose data directory lies inside) are told apart from
//! those of tests running in parallel.

mod common;

use common::{
    postgres_under, private_tmp, run_dir_of, run_dirs, suite, wait_for, write_suite, Assay,
};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::path::Path;
use std::time::Duration;

/// Nothing of a run under `tmp` remains (allowing a few seconds for exit).
#[track_caller]
fn assert_clean(tmp: &Path) {
    let prefix = tmp.to_string_lossy().into_owned();
    let gone = wait_for(Duration::from_secs(10), || {
        postgres_under(&prefix).is_empty() && run_dirs(tmp).is_empty()
    });
    assert!(
        gone,
        "left behind: processes {:?}, run dirs {:?}",
        postgres_under(&prefix)
            .iter()
            .map(|p| p.cmdline())
            .collect::<Vec<_>>(),
        run_dirs(tmp)
    );
}

#[test]
fn nothing_left_after_a_passing_run() {
    let tmp = private_tmp();
    let out = Assay::new(suite("warn"))
        .tmpdir(tmp.path())
        .args(["run", "--no-progress"])
        .run();
    out.expect_code(0);
    assert_clean(tmp.path());
}

#[test]
fn nothing_left_after_a_failing_run() {
    let tmp = private_tmp();
    let out = Assay::new(suite("fail"))
        .tmpdir(tmp.path())
        .args(["run", "--no-progress", "--filter", "s*"])
        .run();
    out.expect_code(1);
    assert_clean(tmp.path());
}

#[test]
fn nothing_started_for_an_input_error() {
    let tmp = private_tmp();
    let dir = write_suite(&[("assay.yaml", "name: [unclosed\n")]);
    let out = Assay::new(dir.path())
        .tmpdir(tmp.path())
        .args(["run"])
        .run();
    out.expect_code(2);
    assert!(out.stderr.contains("assay.yaml:"), "{}", out.stderr);
    assert_clean(tmp.path());
}

#[test]
fn nothing_left_after_a_setup_failure() {
    let tmp = private_tmp();
    let dir = write_suite(&[
        ("assay.yaml", "name: s\nsetup:\n  - sql: schema.sql\n"),
        (
            "schema.sql",
            "create table t (id int);\ncreate tabel oops (id int);\n",
        ),
        ("checks/a.yaml", "name: a\nquery: q.sql\n"),
        ("sql/endpoints/q.sql", "select 1 as x\n"),
    ]);
    let out = Assay::new(dir.path())
        .tmpdir(tmp.path())
        .args(["run", "--no-progress"])
        .run();
    out.expect_code(2);
    assert!(
        out.stderr.contains("schema.sql") && out.stderr.contains("setup failed"),
        "{}",
        out.stderr
    );
    assert_clean(tmp.path());
}

/// A suite whose only query sleeps for 5 s (budget 10 s).
fn slow_suite() -> tempfile::TempDir {
    write_suite(&[
        ("assay.yaml", "name: slow\ndefaults:\n  timing_runs: 1\n"),
        (
            "checks/a.yaml",
            "name: a\nquery: q.sql\nbudget: 10s\nexpect:\n  snapshot: {enabled: false}\n",
        ),
        ("sql/endpoints/q.sql", "select 1 as x from pg_sleep(5)\n"),
    ])
}

/// Starts a run of the slow suite, waits until its query is running, sends
/// `signal` and checks the exit code and that everything is cleaned up.
fn interrupt_mid_run(signal: Signal, want_code: i32) {
    let dir = slow_suite();
    interrupt(
        dir.path(),
        &["run", "--no-progress"],
        &["SELECT"],
        signal,
        want_code,
    );
}

/// Starts `assay <args>` in `dir`, waits until one of its backends is busy
/// with one of `busy` (the title of a postgres backend, e.g. `SELECT`,
/// `COPY`), sends `signal` and checks the exit code and that everything is
/// cleaned up.
fn interrupt(dir: &Path, args: &[&str], busy: &[&str], signal: Signal, want_code: i32) {
    let tmp = private_tmp();
    let mut child = Assay::new(dir).tmpdir(tmp.path()).args(args).spawn();
    let pid = child.id();

    // Its run directory (owner.pid = the assay pid) and its server.
    let mut run_dir = None;
    let started = wait_for(Duration::from_secs(30), || {
        run_dir = run_dir_of(tmp.path(), pid);
        run_dir
            .as_ref()
            .is_some_and(|d| !postgres_under(&d.to_string_lossy()).is_empty())
    });
    if !started {
        let _ = child.kill();
        let out = child.wait_with_output().unwrap();
        panic!(
            "no server appeared for assay pid {pid}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let run_dir = run_dir.unwrap();
    let prefix = run_dir.to_string_lossy().into_owned();
    // Wait for the work itself (a backend titled `... SELECT`), so the
    // signal lands mid-run rather than during start-up; go ahead regardless
    // after a while.
    wait_for(Duration::from_secs(10), || {
        postgres_under(&prefix)
            .iter()
            .any(|p| busy.iter().any(|b| p.cmdline().contains(b)))
    });

    kill(Pid::from_raw(pid as i32), signal).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = match rx.recv_timeout(Duration::from_secs(15)) {
        Ok(r) => r.unwrap(),
        Err(_) => {
            let _ = kill(Pid::from_raw(pid as i32), Signal::SIGKILL);
            panic!("assay did not exit within 15 s of {signal}");
        }
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(want_code), "{stderr}");
    assert!(
        wait_for(Duration::from_secs(10), || postgres_under(&prefix)
            .is_empty()),
        "postgres still running: {:?}",
        postgres_under(&prefix)
            .iter()
            .map(|p| p.cmdline())
            .collect::<Vec<_>>()
    );
    assert!(
        wait_for(Duration::from_secs(10), || !run_dir.exists()),
        "{} still exists",
        run_dir.display()
    );
    assert_clean(tmp.path());
}

#[test]
fn sigint_mid_run_exits_130_and_cleans_up() {
    interrupt_mid_run(Signal::SIGINT, 130);
}

#[test]
fn sigterm_mid_run_exits_143_and_cleans_up() {
    interrupt_mid_run(Signal::SIGTERM, 143);
}

#[test]
fn sigint_while_bench_generates_data_exits_130_and_cleans_up() {
    // Scale 200: about 3M leads, several seconds of binary COPY.
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    interrupt(
        repo,
        &[
            "bench",
            "--scale",
            "200",
            "--filter",
            "kpi_cards",
            "--no-progress",
        ],
        &["COPY"],
        Signal::SIGINT,
        130,
    );
}
