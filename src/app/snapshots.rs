//! `assay review`, `accept` and `reject`: pending snapshots.

use crate::cli::SnapshotArgs;
use crate::error::{exit_code, AppError};
use crate::snapshot;
use crate::suite;
use std::path::{Path, PathBuf};

fn snapshots_dir(root: &Path) -> Result<PathBuf, AppError> {
    let config = suite::load_config(root).map_err(AppError::Input)?;
    Ok(root.join(config.snapshots_dir))
}

fn pending_matching(root: &Path, a: &SnapshotArgs) -> Result<Vec<PathBuf>, AppError> {
    let dir = snapshots_dir(root)?;
    Ok(snapshot::pending(&dir)
        .into_iter()
        .filter(|p| {
            a.filter
                .as_ref()
                .is_none_or(|f| p.to_string_lossy().contains(f.as_str()))
        })
        .collect())
}

pub(super) fn review(root: &Path, a: SnapshotArgs) -> Result<i32, AppError> {
    let pending = pending_matching(root, &a)?;
    if pending.is_empty() {
        crate::say!("no pending snapshots");
        return Ok(exit_code::OK);
    }
    for p in &pending {
        let target = snapshot::target_of(p);
        let new =
            std::fs::read_to_string(p).map_err(|e| AppError::Infrastructure(e.to_string()))?;
        let old = std::fs::read_to_string(&target).unwrap_or_default();
        let state = if target.exists() { "changed" } else { "new" };
        crate::say!("{} ({state})", target.display());
        for l in snapshot::diff(snapshot::store::body(&old), snapshot::store::body(&new)) {
            crate::say!("    {l}");
        }
    }
    crate::say!(
        "\n{} pending: `assay accept` keeps them, `assay reject` discards them",
        pending.len()
    );
    Ok(exit_code::OK)
}

pub(super) fn settle(root: &Path, a: SnapshotArgs, keep: bool) -> Result<i32, AppError> {
    let pending = pending_matching(root, &a)?;
    for p in &pending {
        let r = if keep {
            std::fs::rename(p, snapshot::target_of(p))
        } else {
            std::fs::remove_file(p)
        };
        r.map_err(|e| AppError::Infrastructure(format!("{}: {e}", p.display())))?;
    }
    crate::say!(
        "{} {} snapshot(s)",
        if keep { "accepted" } else { "rejected" },
        pending.len()
    );
    Ok(exit_code::OK)
}
