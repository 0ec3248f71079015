//! Reading the files a user writes (suite, check and model files): text
//! checks before parsing (encoding, size, nesting) and where a key or value
//! sits in a file, for errors that name the line. Shared by `suite` and
//! `gen`, which depend on it and not on each other's loaders.

pub mod locate;
pub mod text;
