//! Real PostgreSQL servers for the target tests: a primary and a hot standby
//! (`pg_basebackup -R`) on loopback, password-authenticated over TCP.
#![allow(dead_code)]

// Shared with the other server helper; a test may include both.
#[allow(clippy::duplicate_mod)]
#[path = "../certs/mod.rs"]
mod certs;

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn bindir() -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL server binaries under /usr/lib/postgresql")
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("postgres").is_file())
        .collect();
    found.sort();
    found
        .pop()
        .expect("a PostgreSQL version with server binaries")
}

fn identity() -> Option<(u32, u32)> {
    if !nix::unistd::geteuid().is_root() {
        return None;
    }
    let u = nix::unistd::User::from_name("postgres")
        .unwrap()
        .expect("a postgres user");
    Some((u.uid.as_raw(), u.gid.as_raw()))
}

fn as_server_user(cmd: &mut Command) -> &mut Command {
    if let Some((uid, gid)) = identity() {
        cmd.uid(uid).gid(gid);
    }
    cmd
}

fn chown(path: &Path) {
    if let Some((uid, gid)) = identity() {
        std::os::unix::fs::chown(path, Some(uid), Some(gid)).unwrap();
    }
}

/// A test CA (`<dir>/ca.crt`), a server certificate for 127.0.0.1 signed by
/// it, and `ssl = on`.
fn enable_tls(dir: &Path) {
    let (crt, key) = (dir.join("server.crt"), dir.join("server.key"));
    certs::ca_and_server(dir, "assay-test-ca");
    std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    chown(&key);
    chown(&crt);
    let conf = dir.join("data/postgresql.auto.conf");
    let mut text = std::fs::read_to_string(&conf).unwrap_or_default();
    text.push_str(&format!(
        "ssl = on\nssl_cert_file = '{}'\nssl_key_file = '{}'\n",
        crt.display(),
        key.display()
    ));
    std::fs::write(&conf, text).unwrap();
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One running server. Dropping it stops the server.
pub struct Server {
    pub dir: tempfile::TempDir,
    pub port: u16,
    child: Option<Child>,
}

impl Server {
    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// initdb: local connections trusted, TCP with scram-sha-256 passwords.
    pub fn primary() -> Server {
        Self::primary_with(false)
    }

    /// A primary that also accepts TLS, with a self-signed certificate for
    /// 127.0.0.1 at `<dir>/server.crt`.
    pub fn primary_with_tls() -> Server {
        Self::primary_with(true)
    }

    fn primary_with(tls: bool) -> Server {
        let dir = tempfile::Builder::new()
            .prefix("assay-test-primary-")
            .tempdir_in("/tmp")
            .unwrap();
        chown(dir.path());
        let out = as_server_user(&mut Command::new(bindir().join("initdb")))
            .arg("-D")
            .arg(dir.path().join("data"))
            .args([
                "-U",
                "postgres",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "--no-sync",
            ])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        if tls {
            enable_tls(dir.path());
        }
        let mut s = Server {
            dir,
            port: free_port(),
            child: None,
        };
        s.start();
        s
    }

    /// A hot standby streaming from `primary`.
    pub fn standby_of(primary: &Server) -> Server {
        let dir = tempfile::Builder::new()
            .prefix("assay-test-standby-")
            .tempdir_in("/tmp")
            .unwrap();
        chown(dir.path());
        let out = as_server_user(&mut Command::new(bindir().join("pg_basebackup")))
            .arg("-h")
            .arg(primary.dir.path())
            .args([
                "-p",
                &primary.port.to_string(),
                "-U",
                "postgres",
                "-R",
                "-X",
                "stream",
                "--checkpoint=fast",
                "-D",
            ])
            .arg(dir.path().join("data"))
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pg_basebackup: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut s = Server {
            dir,
            port: free_port(),
            child: None,
        };
        s.start();
        s
    }

    fn start(&mut self) {
        let log = std::fs::File::create(self.dir.path().join("log")).unwrap();
        let child = as_server_user(&mut Command::new(bindir().join("postgres")))
            .arg("-D")
            .arg(self.data())
            .args(["-p", &self.port.to_string(), "-k"])
            .arg(self.dir.path())
            .args([
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
                "-c",
                "wal_level=replica",
                "-c",
                "hot_standby=on",
                "-c",
                "max_wal_senders=5",
                // Counting statement executions (tests/executions.rs).
                "-c",
                "shared_preload_libraries=pg_stat_statements",
            ])
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .process_group(0)
            .spawn()
            .unwrap();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if self.try_psql("select 1").is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "server did not start: {}",
            std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
        );
    }

    fn try_psql(&self, sql: &str) -> Result<String, String> {
        self.try_psql_db("postgres", sql)
    }

    fn try_psql_db(&self, db: &str, sql: &str) -> Result<String, String> {
        let out = Command::new("psql")
            .arg("-h")
            .arg(self.dir.path())
            .args(["-p", &self.port.to_string(), "-U", "postgres", "-d", db])
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql])
            .output()
            .map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    /// What the server has written to its log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
    }

    /// Runs SQL as the superuser over the Unix socket.
    #[track_caller]
    pub fn psql(&self, sql: &str) -> String {
        self.try_psql(sql)
            .unwrap_or_else(|e| panic!("psql `{sql}`: {e}"))
    }

    #[track_caller]
    pub fn psql_db(&self, db: &str, sql: &str) -> String {
        self.try_psql_db(db, sql)
            .unwrap_or_else(|e| panic!("psql `{sql}`: {e}"))
    }

    /// Waits until a standby has replayed everything the primary has written.
    pub fn wait_for_replay(&self, primary: &Server) {
        let target = primary.psql("select pg_current_wal_lsn()");
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            let caught_up = self.psql(&format!(
                "select pg_last_wal_replay_lsn() >= '{target}'::pg_lsn"
            ));
            if caught_up == "t" {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("standby did not replay up to {target}");
    }

    /// For a server kept in a `static`, which is never dropped: a watcher
    /// stops it (fast shutdown) and removes its directory once this test
    /// process has exited, so no server outlives the test binary.
    pub fn stop_when_this_process_exits(&self) {
        let Some(child) = &self.child else { return };
        // The watcher runs in the background of a shell that exits at once
        // (waited for here), so it is nobody's child but init's.
        let script = format!(
            "(while kill -0 {me} 2>/dev/null; do sleep 0.5; done; \
             kill -INT {pg} 2>/dev/null; \
             while kill -0 {pg} 2>/dev/null; do sleep 0.2; done; \
             rm -rf '{dir}') &",
            me = std::process::id(),
            pg = child.id(),
            dir = self.dir.path().display(),
        );
        Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("sh for the server's watcher");
    }

    /// Immediate shutdown (as a crash or a failover would look to clients).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(c.id() as i32),
                nix::sys::signal::Signal::SIGQUIT,
            );
            let _ = c.wait();
        }
    }

    pub fn url(&self, user: &str, password: &str, db: &str) -> String {
        format!("postgres://{user}:{password}@127.0.0.1:{}/{db}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(c.id() as i32),
                nix::sys::signal::Signal::SIGINT,
            );
            let _ = c.wait();
        }
    }
}
