//! A real browser for the HTML report: headless Chromium (Debian package
//! `chromium`, installed by .ci/run) renders a page to PNG and dumps its DOM.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub fn chromium() -> PathBuf {
    for c in ["chromium", "chromium-browser", "google-chrome"] {
        if let Ok(out) = Command::new("which").arg(c).output() {
            if out.status.success() {
                return PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
            }
        }
    }
    panic!("headless Chromium is needed for this test: apt-get install -y chromium (.ci/run installs it)");
}

/// Runs Chromium on `file` with `args`, killing it if it hangs. Its output
/// goes to files (a full pipe would block it).
fn run(file: &Path, args: &[String]) -> std::process::Output {
    let profile = tempfile::Builder::new()
        .prefix("assay-test-chromium-")
        .tempdir()
        .unwrap();
    let stdout = profile.path().join("stdout");
    let stderr = profile.path().join("stderr");
    let mut child = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--no-first-run",
            "--disable-extensions",
            "--disable-background-networking",
        ])
        .arg(format!(
            "--user-data-dir={}",
            profile.path().join("profile").display()
        ))
        .args(args)
        .arg(format!("file://{}", file.display()))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout).unwrap())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .expect("start chromium");
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within 120 s on {}", file.display());
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    std::process::Output {
        status,
        stdout: std::fs::read(&stdout).unwrap_or_default(),
        stderr: std::fs::read(&stderr).unwrap_or_default(),
    }
}

/// The page's DOM after loading (no network is reachable: `--dump-dom`
/// serialises what the page itself holds).
pub fn dump_dom(file: &Path) -> String {
    let out = run(file, &["--dump-dom".to_string()]);
    let dom = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        dom.contains("</html>"),
        "chromium dumped no DOM: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    dom
}

/// A decoded screenshot.
pub struct Screenshot {
    pub width: u32,
    pub height: u32,
    /// RGB(A) pixels.
    pub pixels: Vec<[u8; 3]>,
}

impl Screenshot {
    /// Share of pixels that are neither white nor the page's background
    /// (#f7f8fa): text, charts, cells.
    pub fn ink(&self) -> f64 {
        let near = |p: &[u8; 3], q: [u8; 3]| (0..3).all(|i| p[i].abs_diff(q[i]) <= 12);
        let inked = self
            .pixels
            .iter()
            .filter(|p| !near(p, [255, 255, 255]) && !near(p, [0xf7, 0xf8, 0xfa]))
            .count();
        inked as f64 / self.pixels.len().max(1) as f64
    }
    /// Distinct colours (coarsely quantised).
    pub fn colours(&self) -> usize {
        let mut set = std::collections::BTreeSet::new();
        for p in &self.pixels {
            set.insert((p[0] / 16, p[1] / 16, p[2] / 16));
        }
        set.len()
    }
    /// Pixels close to `rgb`.
    pub fn count_near(&self, rgb: [u8; 3], tolerance: u8) -> usize {
        self.pixels
            .iter()
            .filter(|p| (0..3).all(|i| p[i].abs_diff(rgb[i]) <= tolerance))
            .count()
    }
}

/// Renders `file` at `width` × `height` CSS pixels and decodes the PNG.
pub fn screenshot(file: &Path, width: u32, height: u32) -> Screenshot {
    let dir = tempfile::tempdir().unwrap();
    let png_path = dir.path().join("shot.png");
    let out = run(
        file,
        &[
            format!("--screenshot={}", png_path.display()),
            format!("--window-size={width},{height}"),
        ],
    );
    let bytes = std::fs::read(&png_path).unwrap_or_else(|e| {
        panic!(
            "no screenshot ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let pixels = buf[..info.buffer_size()]
        .chunks(channels)
        .map(|c| [c[0], c[1.min(channels - 1)], c[2.min(channels - 1)]])
        .collect();
    Screenshot {
        width: info.width,
        height: info.height,
        pixels,
    }
}
