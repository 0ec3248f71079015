//! Targets other than the embedded default, tested for real: a streaming
//! replica reached with a password, read-only proof on a writable primary, a
//! primary that dies mid-run, the docker target, and split/merged runs.

mod common;
mod pg_cluster;

use common::{suite, write_suite, Assay};
use pg_cluster::Server;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read_json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// (check, parameter set) -> verdict, for comparing runs.
fn verdicts(report: &Value) -> BTreeMap<(String, String), String> {
    report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                (
                    r["check"].as_str().unwrap().to_string(),
                    r["param_set"].as_str().unwrap().to_string(),
                ),
                r["verdict"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn analytics_suite_on_a_hot_standby_with_a_password() {
    const WRITER_PASSWORD: &str = "Wr1ter-pw-7731";
    const READER_PASSWORD: &str = "R3plica-Secret-4242";
    let primary = Server::primary();
    primary.psql(&format!(
        "create role writer login password '{WRITER_PASSWORD}'"
    ));
    primary.psql(&format!(
        "create role reader login password '{READER_PASSWORD}'"
    ));
    primary.psql("create database analytics owner writer");
    let standby = Server::standby_of(&primary);

    // Seed the primary through assay; a second seed must refuse, --replace reloads.
    let writer_url = primary.url("writer", WRITER_PASSWORD, "analytics");
    let seed = Assay::new(repo())
        .args(["seed", "--database-url", &writer_url])
        .run();
    seed.expect_code(0);
    assert!(!seed.stdout.contains(WRITER_PASSWORD) && !seed.stderr.contains(WRITER_PASSWORD));
    let again = Assay::new(repo())
        .args(["seed", "--database-url", &writer_url])
        .run();
    again.expect_code(2);
    assert!(
        again
            .stderr
            .contains("already holds the suite's schema (dashboards)"),
        "{}",
        again.stderr
    );
    assert!(!again.stderr.contains(WRITER_PASSWORD), "{}", again.stderr);
    Assay::new(repo())
        .args(["seed", "--replace", "--database-url", &writer_url])
        .run()
        .expect_code(0);
    primary.psql_db(
        "analytics",
        "grant usage on schema dashboards to reader; grant select on all tables in schema dashboards to reader",
    );
    standby.wait_for_replay(&primary);
    assert_eq!(standby.psql("select pg_is_in_recovery()"), "t");

    let out_dir = tempfile::tempdir().unwrap();
    let json = out_dir.path().join("r.json");
    let junit = out_dir.path().join("junit.xml");
    let md = out_dir.path().join("summary.md");
    let reader_url = standby.url("reader", READER_PASSWORD, "analytics");
    let run = Assay::new(repo())
        .args([
            "run",
            "--no-progress",
            "--timing-runs",
            "1",
            "--max-lag",
            "60s",
            "--database-url",
            &reader_url,
        ])
        .args([
            format!("--format=json={}", json.display()),
            format!("--format=junit={}", junit.display()),
            format!("--format=markdown={}", md.display()),
            "--format=human".to_string(),
        ])
        .run();

    // The password appears nowhere: not in output, not in any report.
    for (name, text) in [
        ("stdout", run.stdout.clone()),
        ("stderr", run.stderr.clone()),
        ("json", std::fs::read_to_string(&json).unwrap()),
        ("junit", std::fs::read_to_string(&junit).unwrap()),
        ("markdown", std::fs::read_to_string(&md).unwrap()),
    ] {
        assert!(!text.contains(READER_PASSWORD), "password in {name}");
        if name != "stderr" {
            assert!(
                text.contains(&format!("127.0.0.1:{}/analytics", standby.port)),
                "target label missing in {name}"
            );
        }
    }

    let report = read_json(&json);
    assert_eq!(report["summary"]["environment"], "production");
    let lag = &report["summary"]["replica_lag"];
    assert_eq!(
        lag.as_array().map(|a| a.len()),
        Some(1),
        "replica lag not measured: {lag}"
    );
    let results = report["results"].as_array().unwrap();
    // Fixtures-only expectations are skipped, never passed.
    let outcomes: Vec<&Value> = results
        .iter()
        .flat_map(|r| r["outcomes"].as_array().unwrap())
        .collect();
    let snapshots: Vec<&&Value> = outcomes
        .iter()
        .filter(|o| o["name"] == "snapshot")
        .collect();
    assert!(snapshots.len() >= 80);
    assert!(
        snapshots.iter().all(|o| o["status"] == "skip"),
        "a snapshot ran on production"
    );
    assert!(outcomes
        .iter()
        .any(|o| o["kind"] == "reconcile" && o["status"] == "skip"));
    assert!(results
        .iter()
        .any(|r| r["check"] == "roi_daily_freshness_fixtures" && r["verdict"] == "skip"));
    // Everything else that applies to production passes, except what the data
    // makes true: the fixtures end in 2025, so production freshness fails.
    let failing: Vec<String> = results
        .iter()
        .filter(|r| matches!(r["verdict"].as_str(), Some("fail" | "error")))
        .map(|r| {
            format!(
                "{} [{}]",
                r["check"].as_str().unwrap(),
                r["param_set"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        failing,
        vec!["roi_daily_freshness_production []".to_string()],
        "{}",
        run.stdout
    );
    run.expect_code(1);
    let endpoints_passed = results
        .iter()
        .filter(|r| r["kind"] == "query" && r["verdict"] == "pass")
        .count();
    assert!(endpoints_passed >= 80, "{endpoints_passed}");

    // --max-lag refuses a standby that is behind: stop replay, write, measure.
    standby.psql("select pg_wal_replay_pause()");
    primary.psql_db(
        "analytics",
        "create table public.lag_marker as select 1 as x",
    );
    std::thread::sleep(Duration::from_millis(1500));
    let lagging = Assay::new(repo())
        .args([
            "run",
            "--no-progress",
            "--max-lag",
            "1s",
            "--database-url",
            &reader_url,
        ])
        .run();
    lagging.expect_code(3);
    assert!(
        lagging.stderr.contains("behind its primary"),
        "{}",
        lagging.stderr
    );
    standby.psql("select pg_wal_replay_resume()");
}

#[test]
fn url_target_never_writes() {
    let primary = Server::primary();
    primary.psql("create role app login password 'app-pw-93' superuser");
    primary.psql("create database rw owner app");
    primary.psql_db(
        "rw",
        "create table public.t(id int primary key, v text); \
         insert into public.t select g, md5(g::text) from generate_series(1, 100) g; \
         create function public.bump() returns int language sql as \
           $$ insert into public.t values (1000, 'x') returning id $$;",
    );
    let fingerprint = || {
        primary.psql_db(
            "rw",
            "select count(*) || ':' || md5(string_agg(t::text, ',' order by id)) from public.t",
        )
    };
    let before = fingerprint();
    let s = write_suite(&[
        ("assay.yaml", "name: writes\n"),
        (
            "sql/endpoints/delete.sql",
            "with d as (delete from public.t returning *) select count(*) as n from d\n",
        ),
        ("sql/endpoints/bump.sql", "select public.bump() as id\n"),
        (
            "sql/endpoints/fine.sql",
            "select count(*) as n from public.t\n",
        ),
        (
            "checks/delete.yaml",
            "name: delete_cte\nquery: delete.sql\n",
        ),
        ("checks/bump.yaml", "name: side_effect\nquery: bump.sql\n"),
        (
            "checks/fine.yaml",
            "name: fine\nquery: fine.sql\nexpect:\n  rows: {min: 1, max: 1}\n",
        ),
    ]);
    let json = s.path().join("r.json");
    let run = Assay::new(s.path())
        .args([
            "run",
            "--no-progress",
            "--database-url",
            &primary.url("app", "app-pw-93", "rw"),
        ])
        .args([format!("--format=json={}", json.display())])
        .run();
    run.expect_code(1);
    assert_eq!(fingerprint(), before, "the table changed");
    let report = read_json(&json);
    for check in ["delete_cte", "side_effect"] {
        let unit = report["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["check"] == check)
            .unwrap();
        assert_eq!(unit["verdict"], "error", "{unit}");
        let msg = unit["outcomes"][0]["message"].as_str().unwrap();
        assert!(msg.contains("read-only transaction"), "{msg}");
    }
    let fine = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["check"] == "fine")
        .unwrap();
    assert_eq!(fine["verdict"], "pass", "{fine}");
    assert!(!run.stdout.contains("app-pw-93") && !run.stderr.contains("app-pw-93"));

    // DATABASE_URL with --target url, and the libpq environment without it.
    Assay::new(s.path())
        .args([
            "run",
            "--no-progress",
            "--filter",
            "fine",
            "--target",
            "url",
        ])
        .env("DATABASE_URL", primary.url("app", "app-pw-93", "rw"))
        .run()
        .expect_code(0);
    Assay::new(s.path())
        .args([
            "run",
            "--no-progress",
            "--filter",
            "fine",
            "--target",
            "url",
        ])
        .env_remove("DATABASE_URL")
        .env("PGHOST", "127.0.0.1")
        .env("PGPORT", primary.port.to_string())
        .env("PGUSER", "app")
        .env("PGPASSWORD", "app-pw-93")
        .env("PGDATABASE", "rw")
        .run()
        .expect_code(0);

    // Several databases in one invocation: one report, results labelled by target.
    primary.psql("create database rw2 owner app");
    primary.psql_db(
        "rw2",
        "create table public.t(id int primary key, v text); insert into public.t values (1, 'a')",
    );
    let both = s.path().join("both.json");
    let run = Assay::new(s.path())
        .args(["run", "--no-progress", "--filter", "fine"])
        .args(["--database-url", &primary.url("app", "app-pw-93", "rw")])
        .args(["--database-url", &primary.url("app", "app-pw-93", "rw2")])
        .args([
            format!("--format=json={}", both.display()),
            "--format=human".to_string(),
        ])
        .run();
    run.expect_code(0);
    let report = read_json(&both);
    let targets: std::collections::BTreeSet<&str> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["target"].as_str().unwrap())
        .collect();
    assert_eq!(targets.len(), 2, "{targets:?}");
    assert!(
        targets
            .iter()
            .all(|t| t.ends_with("/rw") || t.ends_with("/rw2")),
        "{targets:?}"
    );
    assert!(
        run.stdout
            .contains(&format!("fine [default] @ 127.0.0.1:{}/rw2", primary.port)),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("app-pw-93"));
}

#[test]
fn tls_require_and_verify_full() {
    let server = Server::primary_with_tls();
    server.psql("create role app login password 'tls-pw-5' superuser");
    let s = write_suite(&[
        ("assay.yaml", "name: tls\n"),
        ("sql/endpoints/ssl.sql", "select ssl from pg_stat_ssl where pid = pg_backend_pid()\n"),
        (
            "checks/ssl.yaml",
            "name: ssl\nquery: ssl.sql\nexpect:\n  rows: {min: 1, max: 1}\n  row_checks:\n    - {name: encrypted, sql: ssl}\n",
        ),
    ]);
    let base = server.url("app", "tls-pw-5", "postgres");
    let crt = server.dir.path().join("ca.crt");
    for params in [
        "sslmode=require".to_string(),
        format!("sslmode=verify-full&sslrootcert={}", crt.display()),
    ] {
        let out = Assay::new(s.path())
            .args([
                "run",
                "--no-progress",
                "--database-url",
                &format!("{base}?{params}"),
            ])
            .run();
        out.expect_code(0);
        assert!(!out.stdout.contains("tls-pw-5") && !out.stderr.contains("tls-pw-5"));
    }
    // Without TLS the same check fails: it really tests the connection.
    Assay::new(s.path())
        .args([
            "run",
            "--no-progress",
            "--database-url",
            &format!("{base}?sslmode=disable"),
        ])
        .run()
        .expect_code(1);
    // verify-full against a certificate it cannot verify is refused (exit 3).
    let out = Assay::new(s.path())
        .args([
            "run",
            "--no-progress",
            "--database-url",
            &format!("{base}?sslmode=verify-full"),
        ])
        .run();
    out.expect_code(3);
    assert!(!out.stderr.contains("tls-pw-5"), "{}", out.stderr);
}

#[test]
fn a_primary_that_dies_mid_run_is_an_infrastructure_error() {
    let mut primary = Server::primary();
    primary.psql("create role app login password 'pw-x' superuser");
    let s = write_suite(&[
        ("assay.yaml", "name: dies\ndefaults:\n  budget: 10s\n  timing_runs: 0\n"),
        ("sql/endpoints/slow.sql", "select :n::int as n, pg_sleep(0.4) is null as slept\n"),
        (
            "checks/slow.yaml",
            "name: slow\nquery: slow.sql\nparams:\n  matrix:\n    n: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]\n",
        ),
    ]);
    let json = s.path().join("r.json");
    let child = Assay::new(s.path())
        .args([
            "run",
            "--no-progress",
            "-j",
            "1",
            "--database-url",
            &primary.url("app", "pw-x", "postgres"),
        ])
        .args([format!("--format=json={}", json.display())])
        .spawn();
    std::thread::sleep(Duration::from_millis(1500));
    primary.kill();
    let started = std::time::Instant::now();
    let out = child.wait_with_output().unwrap();
    assert!(started.elapsed() < Duration::from_secs(90), "the run hung");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("unreachable"), "{stderr}");
    let report = read_json(&json);
    let v = verdicts(&report);
    assert_eq!(v.len(), 12, "every unit is reported: {v:?}");
    assert!(
        v.values().any(|x| x == "pass"),
        "what ran before the crash is reported: {v:?}"
    );
    assert!(v.values().any(|x| x == "skip" || x == "error"), "{v:?}");
}

#[test]
fn docker_target_runs_the_analytics_suite_like_embedded() {
    // The image is built locally when missing (no registry is reachable);
    // the script is a no-op when it is cached.
    let build = std::process::Command::new("bash")
        .arg(repo().join("docker/build-postgres-image.sh"))
        .arg("15")
        .output()
        .unwrap();
    assert!(
        build.status.success(),
        "docker/build-postgres-image.sh failed: {}",
        String::from_utf8_lossy(&build.stderr)
    );
    let dir = tempfile::tempdir().unwrap();
    let (docker_json, embedded_json) = (dir.path().join("d.json"), dir.path().join("e.json"));
    let docker = Assay::new(repo())
        .args([
            "run",
            "--no-progress",
            "--timing-runs",
            "0",
            "--target",
            "docker",
        ])
        .args([format!("--format=json={}", docker_json.display())])
        .run();
    docker.expect_code(0);
    let embedded = Assay::new(repo())
        .args(["run", "--no-progress", "--timing-runs", "0"])
        .args([format!("--format=json={}", embedded_json.display())])
        .run();
    embedded.expect_code(0);
    let (d, e) = (read_json(&docker_json), read_json(&embedded_json));
    assert!(
        d["summary"]["target"]
            .as_str()
            .unwrap()
            .starts_with("docker postgres:15"),
        "{}",
        d["summary"]
    );
    assert_eq!(verdicts(&d), verdicts(&e));
    // No container is left behind.
    let ps = std::process::Command::new("docker")
        .args(["ps", "-aq", "--filter", "ancestor=postgres:15"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&ps.stdout).trim(),
        "",
        "container left running"
    );
}

#[test]
fn docker_target_without_docker_is_an_infrastructure_error() {
    let out = Assay::new(suite("pass"))
        .args(["run", "--no-progress", "--target", "docker"])
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .run();
    out.expect_code(3);
    assert!(out.stderr.contains("docker"), "{}", out.stderr);
}

/// assay's own connections to an embedded cluster go through its Unix-domain
/// socket (`inet_server_addr()` is NULL there), not TCP on the loopback.
#[test]
fn embedded_target_connects_through_the_unix_socket() {
    let s = write_suite(&[
        ("assay.yaml", "name: socket\n"),
        (
            "sql/endpoints/addr.sql",
            "select inet_server_addr() is null as over_socket\n",
        ),
        (
            "checks/socket.yaml",
            "name: over_socket\nquery: addr.sql\nexpect:\n  row_checks:\n    - {name: socket, sql: over_socket}\n  snapshot: {enabled: false}\n",
        ),
        (
            "checks/tcp.yaml",
            "name: over_tcp\nquery: addr.sql\nexpect:\n  row_checks:\n    - {name: tcp, sql: not over_socket}\n  snapshot: {enabled: false}\n",
        ),
    ]);
    let json = s.path().join("r.json");
    Assay::new(s.path())
        .args(["run", "--no-progress"])
        .args([format!("--format=json={}", json.display())])
        .run()
        .expect_code(1);
    let v = verdicts(&read_json(&json));
    assert_eq!(
        v[&("over_socket".into(), "default".into())],
        "pass",
        "{v:?}"
    );
    assert_eq!(v[&("over_tcp".into(), "default".into())], "fail", "{v:?}");
}

#[test]
fn partitioned_runs_merge_into_the_whole() {
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("whole.json");
    Assay::new(suite("pass"))
        .args(["run", "--no-progress", "--timing-runs", "0"])
        .args([format!("--format=json={}", whole.display())])
        .run()
        .expect_code(0);
    let mut parts = Vec::new();
    for k in 1..=2 {
        let p = dir.path().join(format!("part{k}.json"));
        Assay::new(suite("pass"))
            .args([
                "run",
                "--no-progress",
                "--timing-runs",
                "0",
                "--partition",
                &format!("hash:{k}/2"),
            ])
            .args([format!("--format=json={}", p.display())])
            .run()
            .expect_code(0);
        parts.push(p);
    }
    let (a, b) = (
        verdicts(&read_json(&parts[0])),
        verdicts(&read_json(&parts[1])),
    );
    assert!(
        a.keys().all(|k| !b.contains_key(k)),
        "a check ran in both partitions"
    );
    let merged = dir.path().join("merged.json");
    let out = Assay::new(dir.path())
        .args(["merge"])
        .args(parts.iter().map(|p| p.display().to_string()))
        .args([
            format!("--format=json={}", merged.display()),
            "--format=markdown".to_string(),
        ])
        .run();
    out.expect_code(0);
    assert!(
        out.stdout.contains("## assay: example-pass passed"),
        "{}",
        out.stdout
    );
    assert_eq!(verdicts(&read_json(&merged)), verdicts(&read_json(&whole)));
    let bad = Assay::new(dir.path())
        .args(["run", "--partition", "hash:3/2"])
        .run();
    bad.expect_code(2);
    let not_json = Assay::new(dir.path())
        .args(["merge", "/etc/hostname"])
        .run();
    not_json.expect_code(2);
}

/// A connection terminated while a unit's verification query runs is the
/// database going away, not the check failing: the unit runs again, and
/// passes.
#[test]
fn a_connection_terminated_during_a_verification_query_retries_the_unit() {
    let primary = Server::primary();
    primary.psql("create role app login password 'pw-t' superuser");
    let s = write_suite(&[
        ("assay.yaml", "name: terminated\ndefaults:\n  timing_runs: 0\n"),
        ("sql/endpoints/one.sql", "select 1 as n\n"),
        (
            "checks/one.yaml",
            "name: one\nquery: one.sql\nexpect:\n  reconcile:\n    - name: slow_verification\n      \
             sql: select n from (select 1 as n, pg_sleep(1) is null as marker_slow_verification) v\n      \
             compare: scalar\n      column: n\n      tolerance: 0\n  snapshot: {enabled: false}\n",
        ),
    ]);
    let json = s.path().join("r.json");
    let child = Assay::new(s.path())
        .args([
            "run",
            "--no-progress",
            "--env",
            "fixtures",
            "--database-url",
        ])
        .args([primary.url("app", "pw-t", "postgres")])
        .args([format!("--format=json={}", json.display())])
        .spawn();
    // Terminate the verification query's backend once, while it sleeps.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let mut terminated = 0;
    while terminated == 0 && std::time::Instant::now() < deadline {
        terminated = primary
            .psql(
                "select count(pg_terminate_backend(pid)) from pg_stat_activity \
                 where query like '%marker_slow_verification%' and pid <> pg_backend_pid()",
            )
            .parse()
            .unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(terminated, 1, "the verification query never ran");
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let v = verdicts(&read_json(&json));
    assert_eq!(v[&("one".into(), "default".into())], "pass", "{v:?}");
}
