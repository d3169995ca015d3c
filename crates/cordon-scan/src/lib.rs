//! The rule engine of `cordon scan`: rules as data, matched against every
//! file of a package in one pass, combined into a score and a verdict.
//!
//! # Overview
//!
//! Rules live in TOML files (the built-in pack is `rules/` at the root of
//! the repository, compiled in; users may add files in the same format,
//! documented in `rules/README.md`). Each rule has a stable id, a
//! severity, a summary and help text, the languages, roles and paths it
//! applies to, and one matcher:
//!
//! - `literal` and `regex`: byte patterns (`regex::bytes`, so files need
//!   not be UTF-8);
//! - `query`: a tree-sitter query for Python, JavaScript, TypeScript,
//!   shell or Rust, which tells `exec(...)` in code from the word in a
//!   comment or a string;
//! - `anomaly`: something the package reader noticed about the archive
//!   itself, such as a symlink entry;
//! - `metadata`: a weak signal from the package's metadata, such as a
//!   name one typo away from a popular package's
//!   ([`Engine::metadata_findings`]).
//!
//! [`Engine::builtin`] or [`Engine::from_sources`] compile the rules once:
//! regexes, queries per grammar, and one Aho-Corasick automaton over the
//! literals of all rules. [`Engine::scan_files`] then scans files in
//! parallel. Each file is read once by the automaton, which says which
//! rules can possibly match; only those run their regexes, and the file
//! is parsed (once, with its language's grammar) only when a query rule
//! is among them.
//!
//! ```
//! use cordon_report::{Language, Role, Verdict};
//! use cordon_scan::{Engine, ScanFile};
//!
//! let engine = Engine::builtin()?;
//! let setup = ScanFile {
//!     path: "setup.py",
//!     language: Language::Python,
//!     role: Role::Install,
//!     data: b"import base64\nexec(base64.b64decode('cHJpbnQoMSk='))\n",
//! };
//! let findings = engine.scan_files(&[setup]);
//! assert_eq!(findings[0].rule, "py-exec-decoded");
//! assert_eq!(engine.score(&findings).1, Verdict::Malicious);
//! # Ok::<(), cordon_scan::Error>(())
//! ```
//!
//! # Scoring
//!
//! Severity points times the weight of the file's role, each rule
//! counted at most twice per package; see [`score`](mod@score) for the
//! formula and thresholds.
//!
//! # Limits
//!
//! Files over [`MAX_PARSE_BYTES`], and large files whose lines are very
//! long (minified bundles), are not parsed; their regex and literal rules
//! still run. Parsing and querying one file stops after
//! [`FILE_QUERY_BUDGET`]. One rule reports at most
//! [`MAX_FINDINGS_PER_RULE`] findings per file. Regexes are compiled
//! with a size limit, so a user's rule cannot make an enormous
//! automaton.
//!
//! # YARA
//!
//! With the `yara` feature, `YaraRules` compiles the user's YARA rules
//! with yara-x and scans the same files; each rule that matches a file
//! is a finding with the code `yara:<rule name>`.

#![forbid(unsafe_code)]

mod alias;
mod anomaly;
mod compile;
mod engine;
mod error;
mod explain;
mod glob;
mod grammar;
mod location;
mod metadata;
mod pack;
mod parse;
pub mod popular;
mod prefilter;
mod query;
mod rule;
mod samples;
mod scan;
pub mod score;
mod template;
#[cfg(feature = "yara")]
mod yara;

pub use anomaly::{ANOMALY_KINDS, ScanAnomaly};
pub use engine::Engine;
pub use error::Error;
pub use glob::Glob;
pub use metadata::{
    DirectSource, METADATA_SIGNALS, NEW_PACKAGE_DAYS, PackageFacts,
    RegistryFacts, Signal, odd_version, signals,
};
pub use pack::builtin_sources;
pub use rule::{
    MatchSpec, Mode, Origin, RoleWeights, Rule, RuleSource, RuleTest,
};
pub use samples::SampleFailure;
pub use scan::{
    FILE_QUERY_BUDGET, MAX_FINDINGS_PER_RULE, MAX_PARSE_BYTES,
    MINIFIED_LINE_BYTES, MINIFIED_MIN_BYTES, ScanFile,
};
pub use score::score;
#[cfg(feature = "yara")]
pub use yara::{YARA_FILE_BUDGET, YARA_PREFIX, YaraError, YaraRules};
