//! The embedded target: a throwaway PostgreSQL cluster made from the server
//! binaries installed on this machine.
//!
//! `initdb` runs once per major version into a cached template; each run copies
//! the template, starts `postgres` on a free loopback port with a private socket
//! directory and fsync off, and removes everything when the cluster is dropped
//! (normal exit, error, Ctrl-C). When assay runs as root the server runs as the
//! `postgres` user (or `ASSAY_PG_USER`), since Postgres refuses to run as root.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Located server binaries.
#[derive(Debug, Clone)]
pub struct PgBinaries {
    pub bindir: PathBuf,
    pub major: u32,
}

/// What `postgres --version` prints for the server in `bindir`, run once
/// per directory and process (a run asks for it when it looks for the
/// binaries and again for the fixture cache key; each costs a process).
pub fn version_text(bindir: &Path) -> Option<String> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static SEEN: OnceLock<Mutex<HashMap<PathBuf, Option<String>>>> = OnceLock::new();
    let seen = SEEN.get_or_init(Default::default);
    if let Some(known) = seen.lock().ok().and_then(|m| m.get(bindir).cloned()) {
        return known;
    }
    let text = Command::new(bindir.join("postgres"))
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
    if let Ok(mut m) = seen.lock() {
        m.insert(bindir.to_path_buf(), text.clone());
    }
    text
}

fn major_of(bindir: &Path) -> Option<u32> {
    let text = version_text(bindir)?;
    // "postgres (PostgreSQL) 15.18 (Debian ...)"
    let ver = text
        .split_whitespace()
        .find(|w| w.chars().next().is_some_and(|c| c.is_ascii_digit()))?;
    ver.split('.').next()?.parse().ok()
}

/// Checks the environment variables that choose the embedded server before
/// anything starts: `ASSAY_PG_BINDIR`, when set, must hold `postgres` and
/// `initdb` (never silently replaced by another server).
pub fn check_environment() -> Result<(), String> {
    if let Some(d) = std::env::var_os("ASSAY_PG_BINDIR") {
        let dir = PathBuf::from(&d);
        let missing: Vec<&str> = ["postgres", "initdb"]
            .into_iter()
            .filter(|b| !dir.join(b).is_file())
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "ASSAY_PG_BINDIR={} holds no PostgreSQL server binaries ({} missing); point it at \
                 a directory such as /usr/lib/postgresql/15/bin, or unset it to let assay search",
                dir.display(),
                missing.join(" and ")
            ));
        }
    }
    Ok(())
}

/// Finds PostgreSQL server binaries: `ASSAY_PG_BINDIR`, the wanted version under
/// `/usr/lib/postgresql`, `pg_config --bindir`, any version there, then `PATH`.
pub fn find_binaries(wanted: u32) -> Result<PgBinaries, String> {
    check_environment()?;
    if let Ok(d) = std::env::var("ASSAY_PG_BINDIR") {
        // Chosen explicitly: that server and no other.
        let dir = PathBuf::from(d);
        let major = major_of(&dir).ok_or_else(|| {
            format!(
                "ASSAY_PG_BINDIR={}: cannot run its postgres --version",
                dir.display()
            )
        })?;
        return Ok(PgBinaries { bindir: dir, major });
    }
    // Candidates in order of preference, each asked for its version only
    // when the ones before it did not give the wanted major version.
    let wanted_dir = PathBuf::from(format!("/usr/lib/postgresql/{wanted}/bin"));
    let pg_config = || -> Vec<PathBuf> {
        match Command::new("pg_config").arg("--bindir").output() {
            Ok(out) if out.status.success() => {
                vec![PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())]
            }
            _ => Vec::new(),
        }
    };
    let installed = || -> Vec<PathBuf> {
        let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .map(|entries| entries.flatten().map(|e| e.path().join("bin")).collect())
            .unwrap_or_default();
        versions.sort();
        versions.reverse();
        versions
    };
    let on_path = || -> Vec<PathBuf> {
        let Some(path) = std::env::var_os("PATH") else {
            return Vec::new();
        };
        std::env::split_paths(&path)
            .filter(|dir| dir.join("postgres").is_file())
            .map(|dir| {
                std::fs::canonicalize(dir.join("postgres"))
                    .ok()
                    .and_then(|p| p.parent().map(Path::to_path_buf))
                    .unwrap_or(dir)
            })
            .collect()
    };
    let sources: [&dyn Fn() -> Vec<PathBuf>; 4] = [
        &|| vec![wanted_dir.clone()],
        &pg_config,
        &installed,
        &on_path,
    ];
    let mut seen: Vec<PathBuf> = Vec::new();
    let mut first_usable: Option<PgBinaries> = None;
    for source in sources {
        for dir in source() {
            if seen.contains(&dir) {
                continue;
            }
            seen.push(dir.clone());
            if !(dir.join("postgres").is_file() && dir.join("initdb").is_file()) {
                continue;
            }
            let Some(major) = major_of(&dir) else {
                continue;
            };
            let found = PgBinaries { bindir: dir, major };
            if major == wanted {
                return Ok(found);
            }
            first_usable.get_or_insert(found);
        }
    }
    first_usable.ok_or_else(|| {
        "no PostgreSQL server binaries found (looked at ASSAY_PG_BINDIR, /usr/lib/postgresql/*/bin, \
         pg_config --bindir and PATH); install the server (e.g. `apt-get install postgresql`) \
         or use --database-url"
            .to_string()
    })
}

/// The uid/gid to run the server as: ourselves, or the postgres user when root.
fn server_identity() -> Result<Option<(u32, u32)>, String> {
    if !nix::unistd::geteuid().is_root() {
        return Ok(None);
    }
    let name = std::env::var("ASSAY_PG_USER").unwrap_or_else(|_| "postgres".into());
    match nix::unistd::User::from_name(&name) {
        Ok(Some(u)) => Ok(Some((u.uid.as_raw(), u.gid.as_raw()))),
        _ => Err(format!(
            "running as root, and PostgreSQL refuses to run as root, but there is no `{name}` user \
             to run it as; create one (`useradd postgres`) or set ASSAY_PG_USER"
        )),
    }
}

fn chown_tree(path: &Path, ident: Option<(u32, u32)>) -> std::io::Result<()> {
    let Some((uid, gid)) = ident else {
        return Ok(());
    };
    for e in walkdir::WalkDir::new(path) {
        let e = e.map_err(std::io::Error::other)?;
        std::os::unix::fs::lchown(e.path(), Some(uid), Some(gid))?;
    }
    Ok(())
}

/// Copies the directory tree `from` to `to`: directories and symlinks
/// first, then the files on up to one thread per CPU (a cluster is about a
/// thousand files, and copying them is most of a cold run's setup).
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    let mut files: Vec<(PathBuf, PathBuf, u64)> = Vec::new();
    for e in walkdir::WalkDir::new(from) {
        let e = e.map_err(std::io::Error::other)?;
        let rel = e
            .path()
            .strip_prefix(from)
            .expect("walkdir yields children");
        let target = to.join(rel);
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&target)?;
            std::fs::set_permissions(&target, e.metadata()?.permissions())?;
        } else if e.file_type().is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(e.path())?, &target)?;
        } else {
            let len = e.metadata().map(|m| m.len()).unwrap_or(0);
            files.push((e.path().to_path_buf(), target, len));
        }
    }
    // Largest first, dealt round-robin: the threads get about equal bytes.
    files.sort_by_key(|f| std::cmp::Reverse(f.2));
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 4)
        .min(files.len().max(1));
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let files = &files;
                scope.spawn(move || -> std::io::Result<()> {
                    for (src, dst, _) in files.iter().skip(t).step_by(threads) {
                        std::fs::copy(src, dst)?;
                    }
                    Ok(())
                })
            })
            .collect();
        handles.into_iter().try_for_each(|h| {
            h.join()
                .unwrap_or_else(|_| Err(std::io::Error::other("a copying thread panicked")))
        })
    })
}

/// Where templates are cached: `ASSAY_CACHE_DIR`, `$XDG_CACHE_HOME/assay`, `~/.cache/assay`.
pub fn cache_dir() -> PathBuf {
    if let Ok(d) = std::env::var("ASSAY_CACHE_DIR") {
        return PathBuf::from(d);
    }
    if let Ok(d) = std::env::var("XDG_CACHE_HOME") {
        return PathBuf::from(d).join("assay");
    }
    match std::env::var("HOME") {
        Ok(h) => PathBuf::from(h).join(".cache").join("assay"),
        Err(_) => std::env::temp_dir().join("assay-cache"),
    }
}

fn run_as(cmd: &mut Command, ident: Option<(u32, u32)>) {
    if let Some((uid, gid)) = ident {
        cmd.uid(uid).gid(gid);
    }
}

/// The name (and version) of the cached `initdb` template: a change to how
/// it is made changes the name, so old templates are never reused.
pub const TEMPLATE: &str = "template-w1";

/// Makes (once) and returns the template data directory for these binaries.
fn template(bins: &PgBinaries, ident: Option<(u32, u32)>) -> Result<PathBuf, String> {
    let dir = cache_dir().join(format!("pg{}-{TEMPLATE}", bins.major));
    let data = dir.join("data");
    if data.join("PG_VERSION").is_file() {
        return Ok(data);
    }
    std::fs::create_dir_all(cache_dir()).map_err(|e| format!("cannot create cache dir: {e}"))?;
    // initdb into a temp dir the server user can write, then move into the cache.
    let work = tempfile::Builder::new()
        .prefix("assay-initdb-")
        .tempdir()
        .map_err(|e| format!("cannot create temp dir: {e}"))?;
    chown_tree(work.path(), ident).map_err(|e| format!("cannot chown temp dir: {e}"))?;
    let work_data = work.path().join("data");
    let mut cmd = Command::new(bins.bindir.join("initdb"));
    cmd.args(["-D"])
        .arg(&work_data)
        .args([
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
            // 1 MB WAL segments: a run copies the cluster, and a 16 MB
            // segment was 40 % of what it copied.
            "--wal-segsize=1",
        ])
        .current_dir(work.path())
        .stdin(Stdio::null());
    run_as(&mut cmd, ident);
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run initdb: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "initdb failed: {}{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        ));
    }
    let staging = cache_dir().join(format!(
        "pg{}-{TEMPLATE}.{}",
        bins.major,
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&staging);
    copy_tree(work.path(), &staging).map_err(|e| format!("cannot fill template cache: {e}"))?;
    // Another process may have won the race; theirs is as good as ours.
    if std::fs::rename(&staging, &dir).is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    // Templates made the earlier way are never used again.
    let _ = std::fs::remove_dir_all(cache_dir().join(format!("pg{}-template", bins.major)));
    if data.join("PG_VERSION").is_file() {
        Ok(data)
    } else {
        Err(format!("template cluster missing at {}", data.display()))
    }
}

fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("cannot find a free port: {e}"))
}

/// Where a cluster's run directory lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// In memory (`/dev/shm`) when the machine has it: copying a cached
    /// fixture cluster there takes a tenth of the time it takes on disk. For
    /// runs of a suite's fixtures.
    Memory,
    /// On disk (the temporary directory): for generated data at volume.
    Disk,
}

/// Free bytes needed on `/dev/shm` before a cluster is placed there.
const MEMORY_HEADROOM: u64 = 1 << 30;

/// The directory run directories are created in: `ASSAY_RUN_DIR` when set,
/// else `/dev/shm` for [`Placement::Memory`] when it is a writable tmpfs
/// with room, else the temporary directory.
pub fn run_base(placement: Placement) -> PathBuf {
    if let Some(d) = std::env::var_os("ASSAY_RUN_DIR") {
        return PathBuf::from(d);
    }
    if placement == Placement::Memory {
        let shm = Path::new("/dev/shm");
        let roomy = nix::sys::statvfs::statvfs(shm)
            .map(|v| v.blocks_available() * v.fragment_size() > MEMORY_HEADROOM)
            .unwrap_or(false);
        let writable = nix::unistd::access(shm, nix::unistd::AccessFlags::W_OK).is_ok();
        if roomy && writable {
            return shm.to_path_buf();
        }
    }
    std::env::temp_dir()
}

/// Where a new cluster's data directory comes from.
#[derive(Debug, Clone)]
pub enum DataSource {
    /// The cached `initdb` template: an empty cluster.
    Template,
    /// A cached data directory with the suite's fixtures already loaded.
    Cached(PathBuf),
}

/// A running throwaway cluster. Dropping it stops the server and deletes its files.
pub struct EmbeddedCluster {
    pub port: u16,
    pub major: u32,
    /// The server binaries' directory (psql lives there too).
    pub bindir: PathBuf,
    ident: Option<(u32, u32)>,
    run_dir: Option<tempfile::TempDir>,
    child: Option<Child>,
}

impl EmbeddedCluster {
    /// Copies the template and starts the server; returns once it accepts connections.
    pub async fn start(wanted_major: u32) -> Result<EmbeddedCluster, String> {
        Self::start_from(
            &find_binaries(wanted_major)?,
            DataSource::Template,
            Placement::Disk,
        )
        .await
    }

    /// Copies `source` into a fresh run directory and starts the server.
    pub async fn start_from(
        bins: &PgBinaries,
        source: DataSource,
        placement: Placement,
    ) -> Result<EmbeddedCluster, String> {
        sweep_orphans();
        let ident = server_identity()?;
        let from = match &source {
            DataSource::Template => template(bins, ident)?,
            DataSource::Cached(p) => p.clone(),
        };
        let base = run_base(placement);
        let run_dir = tempfile::Builder::new()
            .prefix("assay-pg-")
            .tempdir_in(&base)
            .map_err(|e| format!("cannot create a run dir in {}: {e}", base.display()))?;
        std::fs::write(
            run_dir.path().join("owner.pid"),
            std::process::id().to_string(),
        )
        .map_err(|e| format!("cannot write run dir: {e}"))?;
        let data = run_dir.path().join("data");
        copy_tree(&from, &data).map_err(|e| format!("cannot copy {}: {e}", from.display()))?;
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| format!("cannot set permissions: {e}"))?;
        chown_tree(run_dir.path(), ident).map_err(|e| format!("cannot chown run dir: {e}"))?;
        let mut cluster = EmbeddedCluster {
            port: 0,
            major: bins.major,
            bindir: bins.bindir.clone(),
            ident,
            run_dir: Some(run_dir),
            child: None,
        };
        cluster.spawn_server().await?;
        Ok(cluster)
    }

    /// The directory of the server's Unix-domain socket (`-k`): assay's own
    /// connections use it rather than TCP on the loopback.
    pub fn socket_dir(&self) -> Option<&Path> {
        self.run_dir.as_ref().map(|d| d.path())
    }

    fn data_dir(&self) -> Option<PathBuf> {
        self.run_dir.as_ref().map(|d| d.path().join("data"))
    }

    /// Starts `postgres` on the run directory's data (on a free port,
    /// trying again when another process takes the port first).
    async fn spawn_server(&mut self) -> Result<(), String> {
        let run_dir = self
            .run_dir
            .as_ref()
            .map(|d| d.path().to_path_buf())
            .ok_or("the cluster's run directory is gone")?;
        let data = run_dir.join("data");
        let mut last_err = String::new();
        for _attempt in 0..3 {
            let port = free_port()?;
            let log_path = run_dir.join("postgres.log");
            let log =
                std::fs::File::create(&log_path).map_err(|e| format!("cannot create log: {e}"))?;
            let log2 = log.try_clone().map_err(|e| e.to_string())?;
            let mut cmd = Command::new(self.bindir.join("postgres"));
            cmd.arg("-D")
                .arg(&data)
                .args(["-p", &port.to_string(), "-k"])
                .arg(&run_dir)
                .args([
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-c",
                    "max_connections=64",
                ])
                .args(["-c", "max_wal_size=1GB", "-c", "min_wal_size=2MB"])
                .args(["-c", "logging_collector=off"])
                .args(super::THROWAWAY_SETTINGS.iter().flat_map(|s| ["-c", s]))
                .current_dir(&run_dir)
                .stdin(Stdio::null())
                .stdout(log)
                .stderr(log2)
                .process_group(0);
            run_as(&mut cmd, self.ident);
            // SAFETY: prctl is async-signal-safe; the closure allocates nothing.
            unsafe {
                cmd.pre_exec(|| {
                    // If assay dies without cleaning up, the server stops too.
                    nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGINT)
                        .map_err(std::io::Error::from)
                });
            }
            let child = cmd
                .spawn()
                .map_err(|e| format!("cannot start postgres: {e}"))?;
            self.port = port;
            self.child = Some(child);
            match self.wait_ready(&log_path).await {
                Ok(()) => return Ok(()),
                Err(e) => {
                    self.stop_server();
                    last_err = e;
                    if !last_err.contains("could not bind") && !last_err.contains("already in use")
                    {
                        break;
                    }
                }
            }
        }
        Err(last_err)
    }

    /// Stops the server cleanly, copies its data directory to `dest` (a
    /// directory that must not exist) and starts it again. Clients must
    /// reconnect: the port may change.
    pub async fn snapshot_data(&mut self, dest: &Path) -> Result<(), String> {
        self.stop_server();
        let data = self
            .data_dir()
            .ok_or("the cluster's run directory is gone")?;
        let copied =
            copy_tree(&data, dest).map_err(|e| format!("cannot copy the data directory: {e}"));
        for stale in ["postmaster.pid", "postmaster.opts"] {
            let _ = std::fs::remove_file(dest.join(stale));
        }
        self.spawn_server().await?;
        copied
    }

    async fn wait_ready(&mut self, log_path: &Path) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    let log = std::fs::read_to_string(log_path).unwrap_or_default();
                    return Err(format!(
                        "postgres exited during start-up ({status}):\n{}",
                        tail(&log, 15)
                    ));
                }
            }
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                let log = std::fs::read_to_string(log_path).unwrap_or_default();
                if log.contains("ready to accept connections") {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                let log = std::fs::read_to_string(log_path).unwrap_or_default();
                return Err(format!(
                    "postgres did not become ready within 60 s:\n{}",
                    tail(&log, 15)
                ));
            }
            // Start-up takes tens of milliseconds: a finer poll is time
            // every cold run gains.
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// Stops the server (immediate shutdown, then kill) and removes its
    /// files: nothing of them is kept, so the shutdown checkpoint a fast
    /// shutdown would write is skipped.
    pub fn stop_blocking(&mut self) {
        self.signal_server(nix::sys::signal::Signal::SIGQUIT);
        let dir = self.run_dir.take();
        if let Some(dir) = &dir {
            // Immediate shutdown, and the files go anyway: they are removed
            // while the server's processes exit (an open file stays readable
            // after its unlink; an immediate shutdown writes nothing), and
            // whatever is left once the server is gone after that.
            let _ = std::fs::remove_dir_all(dir.path().join("data"));
        }
        self.wait_for_server();
        if let Some(dir) = dir {
            let _ = dir.close();
        }
    }

    /// Stops the server (fast shutdown, then kill), keeping its files
    /// consistent on disk.
    fn stop_server(&mut self) {
        self.signal_server(nix::sys::signal::Signal::SIGINT);
        self.wait_for_server();
    }

    /// SIGINT: fast shutdown; SIGQUIT: immediate.
    fn signal_server(&self, signal: nix::sys::signal::Signal) {
        if let Some(child) = &self.child {
            let pid = nix::unistd::Pid::from_raw(child.id() as i32);
            let _ = nix::sys::signal::kill(pid, signal);
        }
    }

    /// Waits for the signalled server to exit; kills it after 10 s.
    fn wait_for_server(&mut self) {
        if let Some(mut child) = self.child.take() {
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                match child.try_wait() {
                    Ok(Some(_)) | Err(_) => break,
                    Ok(None) if Instant::now() > deadline => {
                        let _ = child.kill();
                        let _ = child.wait();
                        break;
                    }
                    Ok(None) => std::thread::sleep(Duration::from_millis(1)),
                }
            }
        }
    }

    pub fn label(&self) -> String {
        format!(
            "embedded PostgreSQL {} on 127.0.0.1:{}",
            self.major, self.port
        )
    }
}

impl Drop for EmbeddedCluster {
    fn drop(&mut self) {
        self.stop_blocking();
    }
}

fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Removes run directories left by an assay process that no longer exists
/// (killed with SIGKILL, say), stopping any server still running in them.
fn sweep_orphans() {
    let mut bases = vec![run_base(Placement::Disk), run_base(Placement::Memory)];
    bases.dedup();
    for base in bases {
        sweep_orphans_in(&base);
    }
}

fn sweep_orphans_in(base: &Path) {
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        if !name.to_string_lossy().starts_with("assay-pg-") {
            continue;
        }
        let dir = e.path();
        let owner = std::fs::read_to_string(dir.join("owner.pid"))
            .ok()
            .and_then(|s| s.trim().parse::<i32>().ok());
        let Some(owner) = owner else { continue };
        if pid_alive(owner) {
            continue;
        }
        if let Some(pm) = std::fs::read_to_string(dir.join("data/postmaster.pid"))
            .ok()
            .and_then(|s| s.lines().next().and_then(|l| l.trim().parse::<i32>().ok()))
        {
            if pid_alive(pm) {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pm),
                    nix::sys::signal::Signal::SIGQUIT,
                );
                std::thread::sleep(Duration::from_millis(200));
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

fn pid_alive(pid: i32) -> bool {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok()
}
