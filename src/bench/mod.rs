//! `assay bench`: every endpoint query and parameter set measured at one or
//! more data scales, judged against its budget and the committed plan/time
//! baseline, with a forecast of the volume at which it breaks its budget.

pub mod assemble;
pub mod baseline;
pub mod fingerprint;
pub mod forecast;
pub mod measure;
pub mod model;
pub mod report;
pub mod run;
pub mod verdict;
