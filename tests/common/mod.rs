//! Helpers shared by the integration tests: run the `assay` binary, copy
//! suites to scratch directories, and find the PostgreSQL processes and run
//! directories a run leaves behind.
#![allow(dead_code)]

use std::ffi::OsString;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The binary under test.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_assay"))
}

/// `tests/suites/<name>` in the source tree.
pub fn suite(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/suites")
        .join(name)
}

/// What one run of the binary produced.
#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// Panics with the whole output when the exit code is not `want`.
    #[track_caller]
    pub fn expect_code(&self, want: i32) -> &Self {
        assert_eq!(
            self.code, want,
            "unexpected exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// A command line for the binary: `CI=1` and `NO_COLOR=1` unless overridden.
pub struct Assay {
    cmd: Command,
}

impl Assay {
    pub fn new(cwd: impl AsRef<Path>) -> Self {
        let mut cmd = Command::new(bin());
        cmd.current_dir(cwd.as_ref())
            .env("CI", "1")
            .env("NO_COLOR", "1")
            .env_remove("ASSAY_PG_BINDIR")
            .stdin(Stdio::null());
        Assay { cmd }
    }
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        for a in args {
            self.cmd.arg(a.into());
        }
        self
    }
    pub fn env(mut self, k: &str, v: impl AsRef<std::ffi::OsStr>) -> Self {
        self.cmd.env(k, v);
        self
    }
    /// A private temporary directory for the run: `TMPDIR`, and
    /// `ASSAY_RUN_DIR` so that the run directory of its cluster is created
    /// there too (not in `/dev/shm`), where the test can watch it.
    pub fn tmpdir(self, dir: impl AsRef<std::ffi::OsStr>) -> Self {
        let dir = dir.as_ref().to_os_string();
        self.env("TMPDIR", &dir).env("ASSAY_RUN_DIR", &dir)
    }
    pub fn env_remove(mut self, k: &str) -> Self {
        self.cmd.env_remove(k);
        self
    }
    /// Runs to completion and captures everything.
    pub fn run(mut self) -> Output {
        let out = self
            .cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .expect("cannot run the assay binary");
        Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
    /// Starts the binary in the background (stdout and stderr piped).
    pub fn spawn(mut self) -> Child {
        self.cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot start the assay binary")
    }
}

/// Copies a directory tree (files and directories only).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// A scratch copy of `tests/suites/<name>`, for runs that write files.
pub fn suite_copy(name: &str) -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("assay-test-suite-")
        .tempdir()
        .unwrap();
    copy_dir(&suite(name), dir.path());
    dir
}

/// Writes `files` (relative path, contents) under a fresh scratch directory.
pub fn write_suite(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("assay-test-suite-")
        .tempdir()
        .unwrap();
    for (path, text) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir
}

/// A private temp directory for one run (pass it as `TMPDIR`), readable by
/// the `postgres` user so the server can reach its run directory inside.
/// Run directories of that run are then `<dir>/assay-pg-*` and cannot be
/// confused with those of runs in parallel tests.
pub fn private_tmp() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("assay-test-tmp-")
        .tempdir_in("/tmp")
        .unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// `assay-pg-*` run directories directly under `dir`.
pub fn run_dirs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("assay-pg-"))
        .map(|e| e.path())
        .collect();
    v.sort();
    v
}

/// The run directory (under `dir`) whose `owner.pid` is `pid`, if any.
pub fn run_dir_of(dir: &Path, pid: u32) -> Option<PathBuf> {
    run_dirs(dir).into_iter().find(|d| {
        std::fs::read_to_string(d.join("owner.pid"))
            .map(|s| s.trim() == pid.to_string())
            .unwrap_or(false)
    })
}

/// A process as seen in /proc.
#[derive(Debug, Clone)]
pub struct Proc {
    pub pid: i32,
    pub ppid: i32,
    pub argv: Vec<String>,
}

impl Proc {
    pub fn cmdline(&self) -> String {
        self.argv.join(" ")
    }
}

/// Every process we can read from /proc (except this test process).
pub fn processes() -> Vec<Proc> {
    let me = std::process::id() as i32;
    let mut v = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return v;
    };
    for e in entries.flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        if pid == me {
            continue;
        }
        let Ok(raw) = std::fs::read(e.path().join("cmdline")) else {
            continue;
        };
        let argv: Vec<String> = raw
            .split(|&b| b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        // The ppid is the 4th field of /proc/PID/stat, after the `(comm)`.
        let ppid = std::fs::read_to_string(e.path().join("stat"))
            .ok()
            .and_then(|s| {
                let rest = &s[s.rfind(')')? + 2..];
                rest.split_whitespace().nth(1)?.parse().ok()
            })
            .unwrap_or(0);
        v.push(Proc { pid, ppid, argv });
    }
    v
}

fn is_postgres(p: &Proc) -> bool {
    p.argv
        .first()
        .is_some_and(|a| a == "postgres" || a.ends_with("/postgres") || a.starts_with("postgres:"))
}

/// Postgres servers whose data directory lies under `prefix` (matched on the
/// command line), plus every process they started (backends, background workers).
pub fn postgres_under(prefix: &str) -> Vec<Proc> {
    let all = processes();
    let mut found: Vec<Proc> = all
        .iter()
        .filter(|p| is_postgres(p) && p.argv.iter().any(|a| a.contains(prefix)))
        .cloned()
        .collect();
    let mut i = 0;
    while i < found.len() {
        let parent = found[i].pid;
        for p in &all {
            if p.ppid == parent && !found.iter().any(|f| f.pid == p.pid) {
                found.push(p.clone());
            }
        }
        i += 1;
    }
    found
}

/// How many postgres processes run on a data directory under
/// `/tmp/assay-pg-*` or `/dev/shm/assay-pg-*` (any run, including runs of
/// other tests).
pub fn count_assay_postgres() -> usize {
    postgres_under("/tmp/assay-pg-").len() + postgres_under("/dev/shm/assay-pg-").len()
}

/// Polls `f` every 20 ms until it returns true or `timeout` passes.
pub fn wait_for(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if f() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs `assay run` on `dir` with a JSON report and returns the output and the parsed report.
pub fn run_json(dir: &Path, extra: &[&str]) -> (Output, serde_json::Value) {
    let report = tempfile::Builder::new()
        .prefix("assay-test-report-")
        .tempdir()
        .unwrap();
    let path = report.path().join("r.json");
    let out = Assay::new(dir)
        .args(["run", "--no-progress"])
        .args([format!("--format=json={}", path.display())])
        .args(extra.iter().copied())
        .run();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "no JSON report at {} ({e})\n--- stdout\n{}\n--- stderr\n{}",
            path.display(),
            out.stdout,
            out.stderr
        )
    });
    let json: serde_json::Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("the JSON report does not parse: {e}\n{text}"));
    (out, json)
}

/// The outcome named `name` of the unit `check [param_set]` in a JSON report.
#[track_caller]
pub fn outcome<'a>(
    report: &'a serde_json::Value,
    check: &str,
    param_set: &str,
    name: &str,
) -> &'a serde_json::Value {
    let unit = unit(report, check, param_set);
    unit["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == name)
        .unwrap_or_else(|| {
            panic!(
                "no outcome `{name}` in {check} [{param_set}]: {}",
                serde_json::to_string_pretty(unit).unwrap()
            )
        })
}

/// The unit `check [param_set]` in a JSON report.
#[track_caller]
pub fn unit<'a>(
    report: &'a serde_json::Value,
    check: &str,
    param_set: &str,
) -> &'a serde_json::Value {
    report["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["check"] == check && r["param_set"] == param_set)
        .unwrap_or_else(|| panic!("no unit {check} [{param_set}] in the report"))
}
