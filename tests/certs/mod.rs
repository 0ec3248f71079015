//! Test certificates made with openssl: a CA and a server certificate for
//! 127.0.0.1 signed by it, for the TLS tests of the database targets and of
//! the probe's HTTP client.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

/// Runs `openssl args` in `dir`, failing the test with its stderr.
pub fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Writes `ca.crt`/`ca.key` (a CA named `ca_name`) and `server.crt`/
/// `server.key` (PEM, for 127.0.0.1, signed by that CA) into `dir`.
pub fn ca_and_server(dir: &Path, ca_name: &str) {
    let subject = format!("/CN={ca_name}");
    openssl(
        dir,
        &[
            "req", "-new", "-x509", "-days", "2", "-nodes", "-subj", &subject, "-keyout", "ca.key",
            "-out", "ca.crt",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-nodes",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ],
    );
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "server.ext",
            "-out",
            "server.crt",
        ],
    );
}
