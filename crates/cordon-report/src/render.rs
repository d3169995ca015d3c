//! The one entry point of the renderers: a format, a few options, a
//! report in, text out.

use std::io::{self, Write};

use crate::model::{RuleInfo, ScanReport};
use crate::{human, json, sarif};

/// The formats a scan report is rendered in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// For a person at a terminal: findings with numbered snippets in
    /// the manner of rustc's diagnostics, and a summary line.
    Human,
    /// The versioned JSON wire format described in [`json`].
    Json,
    /// SARIF 2.1.0 for code-scanning dashboards, described in [`sarif`].
    Sarif,
}

/// What the renderers need besides the report. The default is plain
/// text, no explanations and no tool version.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RenderOptions {
    /// Colour the terminal report with ANSI escapes. The caller decides,
    /// from `--color` and whether output is a terminal; JSON and SARIF
    /// are never coloured.
    pub color: bool,
    /// Explain each rule that matched, once, with its summary and help,
    /// in the terminal report.
    pub debug: bool,
    /// cordon's version, written as `tool.driver.version` in SARIF.
    pub tool_version: String,
}

/// Writes `report` to `out` in `format`.
///
/// `rules` describes the rules: the terminal report explains them at
/// `debug`, and SARIF lists them all, whether or not they matched.
/// Renderers show what they are given: leaving out findings below a
/// severity is the caller's business, done before.
///
/// # Errors
///
/// Only those of writing to `out`.
pub fn render_scan(
    format: Format,
    report: &ScanReport,
    rules: &[RuleInfo],
    opts: &RenderOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Human => human::render(report, rules, opts, out),
        Format::Json => json::render(report, out),
        Format::Sarif => sarif::render(report, rules, &opts.tool_version, out),
    }
}
