//! The vocabulary shared by the package reader, the scanner and the
//! renderers, and the serialisable scan report.
//!
//! The JSON form of [`ScanReport`] is a wire format: fields are added,
//! never renamed or removed, and [`SCAN_FORMAT_VERSION`] changes when a
//! change would break a reader.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The version of the JSON scan report, written as its `version` field.
pub const SCAN_FORMAT_VERSION: u32 = 1;

/// How serious a single finding is, from least to most.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing, never worth failing a build for.
    Info,
    /// Common in honest code; counts only alongside stronger evidence.
    Low,
    /// Unusual for the place it appears in.
    Medium,
    /// A behaviour typical of malicious packages.
    High,
    /// An attack pattern with hardly any honest use.
    Critical,
}

/// The judgement on a whole package.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Nothing that needs a person's attention.
    Clean,
    /// Behaviour that a person should look at before trusting it.
    Suspicious,
    /// Behaviour that amounts to an attack.
    Malicious,
}

/// The package registry a package belongs to.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Ecosystem {
    /// The npm registry (JavaScript, TypeScript).
    Npm,
    /// The Python Package Index.
    Pypi,
    /// crates.io (Rust).
    Crates,
    /// RubyGems.
    Rubygems,
}

/// When a file's code runs, which decides how much its findings weigh.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Runs when the package is installed or built: `setup.py`, npm
    /// lifecycle scripts and what they run, `build.rs`, `.pth` files.
    Install,
    /// Runs when the package is imported or required.
    Import,
    /// Runs only when the package's code is called.
    Other,
    /// Tests of the package itself.
    Test,
    /// Documentation, and the code inside it.
    Docs,
    /// Examples and demos.
    Example,
    /// The project's own development tooling, which neither an installer
    /// nor an importer runs: continuous-integration configuration,
    /// release and maintenance scripts, makefiles.
    Tooling,
}

/// The language a file is written in, as far as the reader could tell
/// from its name, its first line and its bytes.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// Python source.
    Python,
    /// JavaScript, including `.mjs` and `.cjs`.
    JavaScript,
    /// TypeScript, including `.tsx`.
    TypeScript,
    /// POSIX shell or bash.
    Shell,
    /// Rust source.
    Rust,
    /// Ruby source.
    Ruby,
    /// PowerShell scripts.
    PowerShell,
    /// Windows batch files.
    Batch,
    /// JSON documents, such as `package.json`.
    Json,
    /// TOML documents, such as `Cargo.toml`.
    Toml,
    /// YAML documents.
    Yaml,
    /// Markdown, reStructuredText and other prose.
    Markdown,
    /// Any other text.
    Text,
    /// Bytes that are not text.
    Binary,
}

/// One piece of evidence that a rule found in one file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The stable id of the rule that matched.
    pub rule: String,
    /// How serious the rule considers this match.
    pub severity: Severity,
    /// The file's path inside the package, `/`-separated.
    pub path: String,
    /// The 1-based line where the match starts.
    pub line: u32,
    /// The 1-based column, in characters, where the match starts.
    pub column: u32,
    /// What the rule saw, in one sentence.
    pub message: String,
    /// The source line or lines that show the match, starting at `line`.
    /// A long first line is cut to a window around the match, marked
    /// with `…`.
    pub snippet: String,
    /// The 1-based column, in characters, where the match starts in the
    /// first line of `snippet`: `column`, unless that line was cut to a
    /// window. 0 when there is no snippet.
    #[serde(default)]
    pub snippet_column: u32,
    /// When the file's code runs.
    pub role: Role,
}

/// The result of scanning one target.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PackageReport {
    /// The target exactly as the user gave it.
    pub target: String,
    /// The registry the package belongs to, when it could be told.
    pub ecosystem: Option<Ecosystem>,
    /// The package's name from its own metadata.
    pub name: Option<String>,
    /// The package's version from its own metadata.
    pub version: Option<String>,
    /// The judgement; `None` when the package could not be read.
    pub verdict: Option<Verdict>,
    /// The score behind the verdict, from 0 (nothing) upwards.
    pub score: u32,
    /// For a suspicious or malicious package, one sentence that says
    /// why: the file whose findings weigh most, when it runs, and its
    /// strongest findings.
    #[serde(default)]
    pub summary: Option<String>,
    /// The findings, ordered by path, then line.
    pub findings: Vec<Finding>,
    /// How many files were read and scanned.
    pub files: u64,
    /// How many findings the user's suppressions removed; they count
    /// neither in `findings` nor in the score.
    #[serde(default)]
    pub suppressed: u64,
    /// What went wrong when the package could not be read.
    pub error: Option<String>,
    /// Where the target came from when the user did not name it: the
    /// lockfile that pins it and, where the lockfile says, the packages
    /// that pull it in (`package-lock.json, via express`). `None` for a
    /// target given on the command line.
    #[serde(default)]
    pub source: Option<String>,
}

impl PackageReport {
    /// A report for a target that could not be read.
    pub fn failed(target: &str, error: String) -> PackageReport {
        PackageReport {
            target: target.to_string(),
            ecosystem: None,
            name: None,
            version: None,
            verdict: None,
            score: 0,
            summary: None,
            findings: Vec::new(),
            files: 0,
            suppressed: 0,
            error: Some(error),
            source: None,
        }
    }
}

/// The result of one `cordon scan`: one entry per target, in the order
/// the targets were given.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScanReport {
    /// Always [`SCAN_FORMAT_VERSION`] when written by this crate.
    pub version: u32,
    /// One report per target.
    pub packages: Vec<PackageReport>,
}

impl ScanReport {
    /// A report over the given packages, at the current format version.
    pub fn new(packages: Vec<PackageReport>) -> ScanReport {
        ScanReport { version: SCAN_FORMAT_VERSION, packages }
    }
}

/// What a renderer needs to know about a rule: SARIF lists the rules it
/// reports, and the terminal report explains them at `--debug`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RuleInfo {
    /// The stable id, such as `py-exec-decoded`.
    pub id: String,
    /// The severity of the rule's findings.
    pub severity: Severity,
    /// One line saying what the rule looks for.
    pub summary: String,
    /// Why it matters and what to do about it, a paragraph or two.
    pub help: String,
}

macro_rules! display_as_serde_name {
    ($($ty:ty),*) => {$(
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let value = serde_json::to_value(self).map_err(|_| fmt::Error)?;
                f.write_str(value.as_str().unwrap_or_default())
            }
        }
    )*};
}

display_as_serde_name!(Severity, Verdict, Ecosystem, Role, Language);
