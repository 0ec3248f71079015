//! The suite: YAML model, strict parsing, validation and error locations.

pub mod duration;
pub mod load;
pub use crate::input::locate;
pub mod model;
pub mod params;
pub mod raw;
pub mod schema;

pub use load::{load_config, load_suite, LoadOptions, Loaded, CONFIG_FILE};
pub use model::*;
pub use params::{ParamSet, ParamType, ParamValue};
