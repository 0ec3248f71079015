//! The harness-overhead benchmark: how much longer `assay run` takes than
//! psql executing the same SQL.
//!
//! A throwaway embedded cluster is started through the library and the
//! suite's dataset is generated into its `postgres` database at
//! `ASSAY_OVERHEAD_SCALE` times the fixture volume (default 100). Then two
//! things are timed against that one database (vacuumed after the load, so
//! autovacuum stays out of the way), alternately, K = 3 rounds each after one
//! warm-up run of the script (who goes first alternates between rounds), and
//! their medians are compared:
//!
//! - **psql**: a script of exactly the statements `assay run --timing-runs 0`
//!   executes for the suite's work: for every query check (of the `fixtures`
//!   environment) × parameter set, the endpoint statement and each reconcile
//!   statement that applies, with the `$n` placeholders replaced by SQL
//!   literals of the same text binds assay sends (the `::type` casts stay as
//!   written); and for every table check, its one-pass aggregate statement,
//!   built as `engine::table_unit` builds it. `psql -X -q -o /dev/null -f`.
//! - **assay**: the release binary, `assay -C <repo> run --database-url ...
//!   --env fixtures --timing-runs 0 -j 1 --no-progress --format json=<tmp>`,
//!   with `CI=true` so that no snapshot file is written. It exits 1 at scale
//!   100 (the snapshots are of the fixtures, not of this data): that still
//!   counts as a run; the number of units in its JSON report is printed to
//!   show it did the work.
//!
//! Why it is fair: both sides run the same statements with the same values
//! on the same warm database, one statement at a time (`-j 1`, no timing
//! repetitions, no EXPLAIN unless a query is slower than half its budget),
//! and both pay their own process start and connection. What remains in
//! assay's time is what the harness adds: loading and validating the suite,
//! the `BEGIN READ ONLY` / `statement_timeout` wrapper, decoding rows, the
//! predicate statements over the fetched output, offending-row samples of
//! failing table rules, snapshot rendering and comparison, the reports, and
//! the way it sends statements: prepared, with text binds (`$1::date`), so
//! Postgres may switch a statement to a generic plan after its fifth
//! execution on a connection, where psql's literals always get a custom one.
//!
//! ```sh
//! cargo bench --bench overhead                              # scale 100
//! ASSAY_OVERHEAD_SCALE=10 cargo bench --bench overhead      # a smaller dataset
//! ASSAY_OVERHEAD_KEEP=/tmp/ovh cargo bench --bench overhead # keep the psql
//!                             # script, the extras script and assay's last report
//! ```
//!
//! It prints a report and exits 0 whether or not the ≤ 10 % target is met (a
//! measurement, not an assertion); non-zero only when something could not run.
//! After the verdict it prints where the difference goes:
//!
//! - each side's wall time split into the server's time executing its
//!   statements (`pg_stat_database.active_time`), the client process's CPU
//!   time, and the rest (round trips, waiting, process start);
//! - psql's per-statement times by kind (`\timing`), and the statements
//!   assay ran beyond the script as far as its report shows them (`EXPLAIN
//!   ANALYZE` of units slower than half their budget, offending-row samples
//!   of failing table rules) timed the same way; assay's wall time split by
//!   its report's clock (suite load + connect, engine, the rest);
//! - the script's statements run from Rust on one fresh connection twice:
//!   with inlined literals (simple protocol, as psql) and with text binds
//!   (prepared, as assay), by kind and the largest differences: this shows
//!   plan differences between the two ways of sending the same statement.
//!
//! The machine's noise matters: the min–max of each side's runs is printed
//! next to its median; an overhead within that spread is not a finding.

use assay::checks::table;
use assay::db::{Database, TargetSpec};
use assay::engine::query_unit::binds_for;
use assay::gen::{self, GenOptions};
use assay::sql::Rewritten;
use assay::suite::{load_suite, Environment, LoadOptions, ParamSet, Suite};
use regex::{Captures, Regex};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Instant;

/// Timed rounds of each side.
const ROUNDS: usize = 3;
/// Connections loading `fact_leads` in parallel while generating (2 cores).
const GEN_CONNECTIONS: usize = 2;
/// The overhead assay should stay under.
const TARGET_PCT: f64 = 10.0;

/// One statement of a psql script, and what it stands for in assay's run.
struct Stmt {
    kind: &'static str,
    /// check, set and reconcile name, for the breakdown.
    label: String,
    /// The SQL with its values inlined, as psql runs it.
    sql: String,
    /// The SQL with `$n` placeholders and the text binds, as assay sends it.
    bound: String,
    binds: Vec<Option<String>>,
}

impl Stmt {
    fn with_binds(
        kind: &'static str,
        label: String,
        statement: &Rewritten,
        set: &ParamSet,
    ) -> Stmt {
        Stmt {
            kind,
            label,
            sql: inline(statement, set),
            bound: statement.sql.clone(),
            binds: binds_for(statement, set),
        }
    }

    fn plain(kind: &'static str, label: String, sql: String) -> Stmt {
        Stmt {
            kind,
            label,
            bound: sql.clone(),
            sql,
            binds: Vec::new(),
        }
    }
}

/// `statement` with every `$n` replaced by the literal of its bind value.
fn inline(statement: &Rewritten, set: &ParamSet) -> String {
    static PLACEHOLDER: OnceLock<Regex> = OnceLock::new();
    let placeholder = PLACEHOLDER.get_or_init(|| Regex::new(r"\$(\d+)").expect("static regex"));
    let binds = binds_for(statement, set);
    placeholder
        .replace_all(&statement.sql, |c: &Captures| {
            let n: usize = c[1].parse().expect("digits");
            match binds.get(n - 1) {
                Some(Some(text)) => assay::sql::quote_literal(text),
                Some(None) => "NULL".to_string(),
                None => panic!("${n} has no bind in {}", statement.sql),
            }
        })
        .into_owned()
}

/// The text of a psql script: each statement terminated so that psql sends
/// it on its own even when the SQL ends with a line comment.
fn render(statements: &[Stmt]) -> String {
    let mut out = String::new();
    for s in statements {
        let sql = s.sql.trim_end();
        out.push_str(sql);
        if !sql.ends_with(';') {
            out.push_str("\n;");
        }
        out.push('\n');
    }
    out
}

/// The units `assay run --env fixtures` reports: one per query check ×
/// parameter set, one per table check, one per check with relations, one per
/// check skipped in this environment.
fn expected_units(suite: &Suite) -> usize {
    let env = Environment::Fixtures;
    let queries: usize = suite
        .query_checks
        .iter()
        .map(|c| {
            if c.applies_to(env) {
                c.sets.len() + usize::from(!c.expect.relations.is_empty())
            } else {
                1
            }
        })
        .sum();
    queries + suite.table_checks.len()
}

/// The statements `assay run --env fixtures --timing-runs 0` executes for the
/// suite's checks.
fn script(suite: &Suite) -> Vec<Stmt> {
    let env = Environment::Fixtures;
    let mut out = Vec::new();
    for check in suite.query_checks.iter().filter(|c| c.applies_to(env)) {
        for set in &check.sets {
            out.push(Stmt::with_binds(
                "endpoint",
                format!("{} [{}]", check.name, set.name),
                &check.statement,
                set,
            ));
            // exact reconciliations run on fixtures, so `applies_to` is all.
            for r in check
                .expect
                .reconcile
                .iter()
                .filter(|r| r.scope.applies_to(env))
            {
                out.push(Stmt::with_binds(
                    "reconcile",
                    format!("{} [{}] {}", check.name, set.name, r.name),
                    &r.statement,
                    set,
                ));
            }
        }
    }
    for check in suite.table_checks.iter().filter(|c| c.applies_to(env)) {
        let rules: Vec<_> = check.rules.iter().collect();
        out.push(Stmt::plain(
            "table check",
            check.name.clone(),
            table::statement(check, &rules),
        ));
    }
    out
}

/// Statements assay ran beyond the script, as far as its JSON report tells:
/// `EXPLAIN ANALYZE` of queries slower than half their budget (the units
/// carrying a `plan`), and the offending-row samples of failing table rules.
/// (The predicate statements over fetched output cannot be rebuilt here.)
fn extras(suite: &Suite, report: &serde_json::Value) -> Vec<Stmt> {
    let mut out = Vec::new();
    let empty = Vec::new();
    for r in report["results"].as_array().unwrap_or(&empty) {
        let name = r["check"].as_str().unwrap_or_default();
        match r["kind"].as_str() {
            Some("query") if !r["plan"].is_null() => {
                let set_name = r["param_set"].as_str().unwrap_or_default();
                let found = suite
                    .query_checks
                    .iter()
                    .find(|c| c.name == name)
                    .and_then(|c| c.sets.iter().find(|s| s.name == set_name).map(|s| (c, s)));
                if let Some((check, set)) = found {
                    let explain = Rewritten {
                        sql: format!(
                            "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {}",
                            check.statement.sql
                        ),
                        order: check.statement.order.clone(),
                    };
                    out.push(Stmt::with_binds(
                        "explain analyze",
                        format!("{name} [{set_name}]"),
                        &explain,
                        set,
                    ));
                }
            }
            Some("table") => {
                let Some(check) = suite.table_checks.iter().find(|c| c.name == name) else {
                    continue;
                };
                for o in r["outcomes"].as_array().unwrap_or(&empty) {
                    if o["status"] != "fail" {
                        continue;
                    }
                    let rule = check.rules.iter().find(|x| o["name"] == x.name.as_str());
                    let sample = rule.and_then(|rule| {
                        table::sample_statement(check, rule, suite.config.defaults.sample_rows)
                    });
                    if let Some(sql) = sample {
                        out.push(Stmt::plain(
                            "table sample",
                            format!("{name} {}", o["name"]),
                            sql,
                        ));
                    }
                }
            }
            _ => {}
        }
    }
    out
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

fn fail(msg: impl std::fmt::Display) -> ! {
    eprintln!("overhead: {msg}");
    std::process::exit(3)
}

struct Setup {
    psql: PathBuf,
    port: u16,
    leads: u64,
}

/// Runs `script` with psql; `timing` adds `\timing on` and returns the
/// milliseconds psql printed for each statement.
fn run_psql(s: &Setup, script: &Path, timing: bool) -> Result<(f64, Vec<f64>), String> {
    let mut cmd = Command::new(&s.psql);
    cmd.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-o", "/dev/null"])
        .args(["-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-p"])
        .arg(s.port.to_string())
        .env_remove("PGPASSWORD");
    if timing {
        cmd.args(["-c", "\\timing on"]);
    }
    cmd.arg("-f").arg(script);
    let started = Instant::now();
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {}: {e}", s.psql.display()))?;
    let secs = started.elapsed().as_secs_f64();
    if !out.status.success() {
        return Err(format!(
            "psql failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    // `Time: 1234.567 ms (00:01.235)`
    let times = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("Time: "))
        .filter_map(|l| l.split_whitespace().next()?.parse().ok())
        .collect();
    Ok((secs, times))
}

/// What one run cost: wall time, the server's time executing its statements
/// (`pg_stat_database.active_time`, which counts client backends only), and
/// the client process's own CPU time (user + system), all in seconds.
#[derive(Clone, Copy)]
struct Cost {
    wall: f64,
    server: f64,
    cpu: f64,
}

/// CPU seconds of this process's waited-for children (`cutime + cstime` of
/// /proc/self/stat, in USER_HZ = 100 ticks); NaN where there is no /proc.
fn children_cpu_s() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<f64> = stat
        .rsplit_once(')')
        .map(|(_, rest)| {
            rest.split_whitespace()
                .filter_map(|f| f.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    // After the `(comm)`, field 3 (state, not a number) is dropped by the
    // parse; fields 4.. follow, so cutime (16) and cstime (17) are at 12, 13.
    match (fields.get(12), fields.get(13)) {
        (Some(u), Some(s)) => (u + s) / 100.0,
        _ => f64::NAN,
    }
}

/// Milliseconds the database's client backends spent executing statements.
async fn active_ms(port: u16) -> Result<f64, String> {
    use sqlx::Connection;
    let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
    let mut conn = sqlx::PgConnection::connect(&url)
        .await
        .map_err(|e| format!("cannot connect: {e}"))?;
    let ms: f64 = sqlx::query_scalar(
        "select active_time from pg_stat_database where datname = current_database()",
    )
    .fetch_one(&mut conn)
    .await
    .map_err(|e| format!("cannot read pg_stat_database: {e}"))?;
    let _ = conn.close().await;
    Ok(ms)
}

/// Runs `f` (which returns its wall time) and measures what it cost.
fn costed<T>(
    rt: &tokio::runtime::Runtime,
    port: u16,
    f: impl FnOnce() -> Result<(f64, T), String>,
) -> Result<(Cost, T), String> {
    let server_before = rt.block_on(active_ms(port))?;
    let cpu_before = children_cpu_s();
    let (wall, t) = f()?;
    let cpu = children_cpu_s() - cpu_before;
    // The client's backend reports its session statistics as it exits,
    // a moment after the client did.
    std::thread::sleep(std::time::Duration::from_millis(300));
    let server = (rt.block_on(active_ms(port))? - server_before) / 1e3;
    Ok((Cost { wall, server, cpu }, t))
}

/// One `assay run`: its wall time and its JSON report.
struct AssayRun {
    secs: f64,
    report: serde_json::Value,
}

fn run_assay(s: &Setup, root: &Path, report: &Path) -> Result<AssayRun, String> {
    let url = format!("postgres://postgres@127.0.0.1:{}/postgres", s.port);
    let format = format!("json={}", report.display());
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_assay"))
        .arg("-C")
        .arg(root)
        .args(["run", "--database-url", &url, "--env", "fixtures"])
        .args(["--timing-runs", "0", "-j", "1", "--no-progress"])
        .args(["--format", &format])
        .env("CI", "true")
        .env_remove("DATABASE_URL")
        .output()
        .map_err(|e| format!("cannot run assay: {e}"))?;
    let secs = started.elapsed().as_secs_f64();
    match out.status.code() {
        Some(0 | 1) => {}
        _ => {
            return Err(format!(
                "assay run failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    }
    let text = std::fs::read_to_string(report)
        .map_err(|e| format!("cannot read {}: {e}", report.display()))?;
    let report: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("the JSON report does not parse: {e}"))?;
    if !report["results"].is_array() {
        return Err("the JSON report has no `results` array".into());
    }
    Ok(AssayRun { secs, report })
}

fn scale_from_env() -> f64 {
    match std::env::var("ASSAY_OVERHEAD_SCALE") {
        Ok(v) => v
            .trim()
            .parse()
            .unwrap_or_else(|_| fail(format!("ASSAY_OVERHEAD_SCALE must be a number, not `{v}`"))),
        Err(_) => 100.0,
    }
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not, and
    // this one is far too heavy to run as a test.
    if !std::env::args().skip(1).any(|a| a == "--bench") {
        eprintln!("overhead: not run (use `cargo bench --bench overhead`, or pass --bench)");
        return;
    }
    let scale = scale_from_env();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let loaded = load_suite(root, &LoadOptions { sql_dir: None }).unwrap_or_else(|errors| {
        for e in &errors {
            eprintln!("{e}");
        }
        fail("the suite does not load")
    });
    if !loaded.errors.is_empty() {
        for e in &loaded.errors {
            eprintln!("{e}");
        }
        fail("the suite has invalid check files: assay would exit 2");
    }
    let suite = loaded.suite;
    let cfg = suite
        .config
        .scale
        .clone()
        .unwrap_or_else(|| fail("assay.yaml has no `scale:` section"));
    let dir = tempfile::tempdir().unwrap_or_else(|e| fail(format!("no temporary directory: {e}")));

    let rt = tokio::runtime::Runtime::new().unwrap_or_else(|e| fail(e));
    let db = rt
        .block_on(Database::open(
            &TargetSpec::Embedded,
            suite.config.postgres_version,
            GEN_CONNECTIONS as u32 + 1,
        ))
        .unwrap_or_else(|e| fail(format!("cannot start the embedded cluster: {e}")));
    eprintln!("generating scale {scale} ...");
    let generated = rt.block_on(gen::generate(
        &db.pool,
        &suite,
        &cfg,
        &GenOptions {
            scale,
            seed: cfg.seed,
            connections: GEN_CONNECTIONS,
            progress: false,
        },
    ));
    // A bulk load leaves work for autovacuum (and hint bits for the first
    // readers): do it now, so that it does not run during one side's turn.
    let generated = generated.map_err(|e| format!("generating scale {scale} failed: {e:?}"));
    let generated = generated.and_then(|stats| {
        rt.block_on(sqlx::raw_sql("VACUUM").execute(&db.pool))
            .map(|_| stats)
            .map_err(|e| format!("VACUUM failed: {e}"))
    });
    // assay connects on its own; the library's pool only holds the cluster.
    rt.block_on(db.pool.close());
    let result = match (generated, db.embedded_psql()) {
        (Ok(stats), Some((psql, port))) => {
            let setup = Setup {
                psql,
                port,
                leads: stats.leads,
            };
            measure(&rt, &setup, &suite, root, dir.path(), scale)
        }
        (Err(e), _) => Err(e),
        (_, None) => Err("the embedded cluster has no psql".into()),
    };
    rt.block_on(db.close());
    if let Err(e) = result {
        fail(e)
    }
}

/// Sums of psql's per-statement times by kind, in seconds, in first-seen order.
fn by_kind(statements: &[Stmt], ms: &[f64]) -> Vec<(&'static str, usize, f64)> {
    let mut sums: Vec<(&'static str, usize, f64)> = Vec::new();
    for (s, t) in statements.iter().zip(ms) {
        match sums.iter_mut().find(|(k, _, _)| *k == s.kind) {
            Some(e) => {
                e.1 += 1;
                e.2 += t / 1e3;
            }
            None => sums.push((s.kind, 1, t / 1e3)),
        }
    }
    sums
}

/// Each statement on one fresh connection, in the script's order, timed in
/// milliseconds: as psql sends it (`bound` false: simple protocol, values
/// inlined) or as assay does (`bound` true: extended protocol, text binds,
/// sqlx's per-connection prepared-statement cache).
async fn client_pass(port: u16, statements: &[Stmt], bound: bool) -> Result<Vec<f64>, String> {
    use sqlx::Connection;
    let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
    let mut conn = sqlx::PgConnection::connect(&url)
        .await
        .map_err(|e| format!("cannot connect: {e}"))?;
    let mut ms = Vec::with_capacity(statements.len());
    for s in statements {
        let started = Instant::now();
        let r = if bound {
            let mut q = sqlx::query(&s.bound);
            for b in &s.binds {
                q = q.bind(b.clone());
            }
            q.fetch_all(&mut conn).await.map(|_| ())
        } else {
            sqlx::raw_sql(&s.sql).fetch_all(&mut conn).await.map(|_| ())
        };
        r.map_err(|e| format!("{} failed: {e}", s.label))?;
        ms.push(started.elapsed().as_secs_f64() * 1e3);
    }
    let _ = conn.close().await;
    Ok(ms)
}

fn measure(
    rt: &tokio::runtime::Runtime,
    s: &Setup,
    suite: &Suite,
    root: &Path,
    dir: &Path,
    scale: f64,
) -> Result<(), String> {
    let statements = script(suite);
    let script_path = dir.join("statements.sql");
    let report_path = dir.join("report.json");
    std::fs::write(&script_path, render(&statements))
        .map_err(|e| format!("cannot write the script: {e}"))?;

    eprintln!("warm-up: psql -f script ...");
    let (warm, _) = run_psql(s, &script_path, false)?;
    eprintln!("  {warm:.3} s");
    let mut psql: Vec<Cost> = Vec::new();
    let mut assay: Vec<Cost> = Vec::new();
    let mut last = None;
    let port = s.port;
    for round in 1..=ROUNDS {
        let time_psql = || {
            costed(rt, port, || {
                run_psql(s, &script_path, false).map(|(secs, _)| (secs, ()))
            })
        };
        let time_assay = || {
            costed(rt, port, || {
                run_assay(s, root, &report_path).map(|r| (r.secs, r))
            })
        };
        // Alternate who goes first, so that neither side always runs on the
        // slightly warmer database.
        let ((p, ()), (a, run)) = if round % 2 == 1 {
            let p = time_psql()?;
            (p, time_assay()?)
        } else {
            let a = time_assay()?;
            (time_psql()?, a)
        };
        eprintln!(
            "round {round}/{ROUNDS}: psql {:.3} s, assay {:.3} s",
            p.wall, a.wall
        );
        psql.push(p);
        assay.push(a);
        last = Some(run);
    }
    let last = last.expect("ROUNDS > 0");
    let units = last.report["results"].as_array().map_or(0, Vec::len);
    let med = |v: &[Cost], f: fn(&Cost) -> f64| median(v.iter().map(f).collect());
    let p = med(&psql, |c| c.wall);
    let a = med(&assay, |c| c.wall);
    let overhead = (a - p) / p * 100.0;
    println!("harness overhead: assay run vs psql, same statements, same warm database");
    println!("  scale                 {scale}");
    println!("  leads                 {}", s.leads);
    println!("  statements in script  {}", statements.len());
    println!(
        "  units assay reported  {units} (the suite has {})",
        expected_units(suite)
    );
    let spread = |v: &[Cost]| {
        let w: Vec<f64> = v.iter().map(|c| c.wall).collect();
        let lo = w.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = w.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        format!("{ROUNDS} runs, {lo:.3}–{hi:.3} s")
    };
    println!("  psql median           {p:.3} s  ({})", spread(&psql));
    println!("  assay median          {a:.3} s  ({})", spread(&assay));
    println!("  ratio assay/psql      {:.3}", a / p);
    println!("  overhead              {overhead:+.1} %");
    println!(
        "  target: overhead ≤ {TARGET_PCT:.0}% — {}",
        if overhead <= TARGET_PCT {
            "met"
        } else {
            "NOT met"
        }
    );

    // Where the difference goes: one more psql pass with per-statement
    // timing, the statements assay ran beyond the script (rebuilt from its
    // last report) timed the same way, and the report's own clock.
    let (_, ms) = run_psql(s, &script_path, true)?;
    let extra = extras(suite, &last.report);
    let extra_path = dir.join("extras.sql");
    std::fs::write(&extra_path, render(&extra))
        .map_err(|e| format!("cannot write the extras script: {e}"))?;
    let extra_ms = if extra.is_empty() {
        Vec::new()
    } else {
        run_psql(s, &extra_path, true)?.1
    };
    println!("where the time goes (medians of the {ROUNDS} rounds):");
    for (name, v) in [("psql", &psql), ("assay", &assay)] {
        let wall = med(v, |c| c.wall);
        let server = med(v, |c| c.server);
        let cpu = med(v, |c| c.cpu);
        println!(
            "  {name:<5} wall {wall:7.3} s = server executing statements {server:7.3} s \
             + client CPU {cpu:6.3} s + the rest (round trips, waiting, start) {:6.3} s",
            wall - server - cpu
        );
    }
    println!("breakdown (one more psql pass with \\timing; assay's last round):");
    if ms.len() == statements.len() {
        for (kind, n, secs) in by_kind(&statements, &ms) {
            println!("  psql  {kind:<16} {n:>4} statements  {secs:8.3} s");
        }
    } else {
        println!(
            "  (psql printed {} timings for {} statements: per-kind sums skipped)",
            ms.len(),
            statements.len()
        );
    }
    if extra.is_empty() {
        println!("  assay ran no EXPLAIN ANALYZE and fetched no offending-row samples");
    } else if extra_ms.len() == extra.len() {
        for (kind, n, secs) in by_kind(&extra, &extra_ms) {
            println!(
                "  extra {kind:<16} {n:>4} statements  {secs:8.3} s  \
                 (run by assay, not in the script)"
            );
        }
    }
    // `duration_ms` runs from the start of `run` (suite load, connect:
    // `setup_ms`) to the end of the engine; the report is written after it.
    let summary = &last.report["summary"];
    let total_s = summary["duration_ms"].as_f64().unwrap_or(f64::NAN) / 1e3;
    let setup_s = summary["setup_ms"].as_f64().unwrap_or(0.0) / 1e3;
    let query_s: f64 = last.report["results"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["timing"]["max_ms"].as_f64())
        .sum::<f64>()
        / 1e3;
    println!(
        "  assay wall {:.3} s: suite load + connect {setup_s:.3} s, engine {:.3} s, \
         outside (process start/exit, report) {:.3} s",
        last.secs,
        total_s - setup_s,
        last.secs - total_s
    );
    println!(
        "  assay endpoint executions (sum of unit timings, incl. fetch + decode) {query_s:.3} s"
    );

    // The same statements from Rust on one fresh connection, as psql sends
    // them and as assay sends them: the difference is the protocol and the
    // plans Postgres picks for prepared statements with parameters.
    let literal = rt.block_on(client_pass(s.port, &statements, false))?;
    let bound = rt.block_on(client_pass(s.port, &statements, true))?;
    println!(
        "same statements, one connection, literals (simple protocol) vs text binds (prepared):"
    );
    let lit = by_kind(&statements, &literal);
    for ((kind, n, l), (_, _, b)) in lit.iter().zip(by_kind(&statements, &bound)) {
        println!(
            "  {kind:<16} {n:>4} statements  literals {l:8.3} s  binds {b:8.3} s  ({:+.3} s)",
            b - l
        );
    }
    let mut worst: Vec<(f64, &Stmt, f64, f64)> = statements
        .iter()
        .zip(literal.iter().zip(&bound))
        .map(|(st, (l, b))| (b - l, st, *l, *b))
        .collect();
    worst.sort_by(|a, b| b.0.total_cmp(&a.0));
    println!("  largest differences (binds − literals):");
    for (d, st, l, b) in worst.iter().take(5) {
        println!(
            "    {d:+9.1} ms  {:<16} {}  ({l:.1} ms → {b:.1} ms)",
            st.kind, st.label
        );
    }
    if let Ok(keep) = std::env::var("ASSAY_OVERHEAD_KEEP") {
        let keep = Path::new(&keep);
        std::fs::create_dir_all(keep)
            .map_err(|e| format!("cannot create {}: {e}", keep.display()))?;
        for f in ["statements.sql", "extras.sql", "report.json"] {
            std::fs::copy(dir.join(f), keep.join(f))
                .map_err(|e| format!("cannot keep {f} in {}: {e}", keep.display()))?;
        }
        println!(
            "kept statements.sql, extras.sql and report.json in {}",
            keep.display()
        );
    }
    Ok(())
}
