//! Snapshots: rendering outputs deterministically, and the insta-compatible
//! files that hold them (`.snap`, pending `.snap.new`).

pub mod render;
pub mod store;

pub use render::render;
pub use store::{
    compare, diff, pending, pending_path, snap_path, target_of, Comparison, WriteMode,
};
