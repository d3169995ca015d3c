//! The one report model that every part of cordon produces, and the
//! renderers that turn it into something a person or a program reads.
//!
//! The scanner fills [`ScanReport`]; the sandbox and its monitor fill the
//! types in [`run`]. Renderers never compute anything: whatever a report
//! says was decided before it reached this crate.
//!
//! A scan report is rendered by [`render_scan`] in one of three
//! [`Format`]s: the terminal report, the JSON wire format documented in
//! [`json`], and SARIF 2.1.0 documented in [`sarif`].
//! [`html`] renders a scan or a run as one self-contained HTML page.
//!
//! ```
//! use cordon_report::{Format, PackageReport, RenderOptions, ScanReport};
//!
//! let report = ScanReport::new(vec![PackageReport::failed(
//!     "broken.zip",
//!     "truncated archive".to_string(),
//! )]);
//! let mut out = Vec::new();
//! let opts = RenderOptions::default();
//! cordon_report::render_scan(Format::Human, &report, &[], &opts, &mut out)?;
//! let text = String::from_utf8_lossy(&out);
//! assert!(text.contains("error: truncated archive"));
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! The terminal report escapes every control, bidirectional and
//! invisible character that came from a package, so a hostile package
//! cannot act on the terminal of the person reading about it.

#![forbid(unsafe_code)]

mod escape;
pub mod events;
pub mod html;
mod human;
pub mod json;
pub mod model;
mod render;
pub mod run;
pub mod sarif;
mod style;

pub use model::{
    Ecosystem, Finding, Language, PackageReport, Role, RuleInfo,
    SCAN_FORMAT_VERSION, ScanReport, Severity, Verdict,
};
pub use render::{Format, RenderOptions, render_scan};

/// `text` made safe to print on one line of a terminal, as the terminal
/// report prints what came from a package: line breaks, controls,
/// bidirectional and invisible characters written as visible escapes,
/// and text longer than `max_chars` characters cut with an ellipsis.
pub fn terminal_safe(text: &str, max_chars: usize) -> String {
    escape::inline(text, max_chars)
}
