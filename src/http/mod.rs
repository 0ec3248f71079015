//! The probe's HTTP side: the client (GET only, headers, TLS, timeouts,
//! retries), routes and the requests a parameter set makes of them,
//! `${NAME}` templates for secrets, and JSON answers read as rows.

pub mod client;
pub mod headers;
pub mod route;
pub mod rows;
pub mod template;

pub use client::{Answer, ApiClient, CallError, ClientOptions};
pub use headers::{parse_header, HeaderSpec};
pub use route::{Request, Route};
pub use rows::{rows_from_json, ApiRows};
pub use template::Template;
