//! The one report model that every part of cordon produces, and the
//! renderers that turn it into something a person or a program reads.
//!
//! The scanner fills [`ScanReport`]; the sandbox and its monitor fill the
//! types in [`run`]. Renderers never compute anything: whatever a report
//! says was decided before it reached this crate.

#![forbid(unsafe_code)]

pub mod model;
pub mod run;

pub use model::{
    Ecosystem, Finding, Language, PackageReport, Role, RuleInfo,
    SCAN_FORMAT_VERSION, ScanReport, Severity, Verdict,
};
