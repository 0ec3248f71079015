//! Where reports go: standard output that survives a closed pipe, and files
//! written atomically (a temporary file renamed into place only when the
//! report is complete, so a failed run never leaves a truncated report).

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// True once a write to standard output found the pipe closed
/// (`assay run | head -n 1`): the run goes on, output is dropped.
pub fn stdout_closed() -> bool {
    STDOUT_CLOSED.load(Ordering::Relaxed)
}

/// Standard output that turns a closed pipe into silence instead of an error
/// (the process ignores SIGPIPE; see main.rs).
pub struct Stdout;

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if stdout_closed() {
            return Ok(buf.len());
        }
        match io::stdout().write(buf) {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                STDOUT_CLOSED.store(true, Ordering::Relaxed);
                Ok(buf.len())
            }
            other => other,
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        if stdout_closed() {
            return Ok(());
        }
        match io::stdout().flush() {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                STDOUT_CLOSED.store(true, Ordering::Relaxed);
                Ok(())
            }
            other => other,
        }
    }
}

/// Prints a line on standard output; a closed pipe is not an error.
pub fn say(text: &str) {
    let mut out = Stdout;
    let _ = out.write_all(text.as_bytes());
    let _ = out.write_all(b"\n");
    let _ = out.flush();
}

/// Prints a line on standard error, ignoring a closed stream.
pub fn tell(text: &str) {
    let mut err = io::stderr();
    let _ = err.write_all(text.as_bytes());
    let _ = err.write_all(b"\n");
}

/// A report file being written: the bytes go to a temporary file beside
/// the destination; [`PendingFile::commit`] renames it into place, and
/// dropping an uncommitted one removes the temporary file.
pub struct PendingFile {
    temp: PathBuf,
    dest: PathBuf,
    committed: bool,
}

impl PendingFile {
    /// Creates the temporary file (and the destination's directory).
    pub fn create(dest: &Path) -> io::Result<(PendingFile, std::fs::File)> {
        if let Some(parent) = dest.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "report".into());
        let temp = dest.with_file_name(format!(".{name}.assay-{}.tmp", std::process::id()));
        let file = std::fs::File::create(&temp)?;
        Ok((
            PendingFile {
                temp,
                dest: dest.to_path_buf(),
                committed: false,
            },
            file,
        ))
    }

    pub fn dest(&self) -> &Path {
        &self.dest
    }

    /// Moves the finished file into place.
    pub fn commit(mut self) -> io::Result<()> {
        std::fs::rename(&self.temp, &self.dest)?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

/// Writes `bytes` to `dest` atomically (temporary file, then rename).
pub fn write_atomic(dest: &Path, bytes: &[u8]) -> io::Result<()> {
    let (pending, mut file) = PendingFile::create(dest)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    pending.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_uncommitted_file_leaves_nothing_and_a_committed_one_appears_whole() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("sub/report.json");
        {
            let (_pending, mut f) = PendingFile::create(&dest).unwrap();
            f.write_all(b"half").unwrap();
        }
        assert!(!dest.exists());
        assert_eq!(
            std::fs::read_dir(dir.path().join("sub")).unwrap().count(),
            0
        );
        write_atomic(&dest, b"whole").unwrap();
        assert_eq!(std::fs::read_to_string(&dest).unwrap(), "whole");
        assert_eq!(
            std::fs::read_dir(dir.path().join("sub")).unwrap().count(),
            1
        );
    }
}
