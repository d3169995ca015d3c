//! The errors of loading rules into an engine.
//!
//! Scanning itself never fails: a file that cannot be parsed is scanned
//! with the matchers that do not need a syntax tree, and the decision is
//! logged at debug level. Only building an [`Engine`](crate::Engine) from
//! rule files can go wrong, and every error names the rule file, and the
//! rule and line when there is one.

/// Why a set of rule files could not be turned into an engine.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A rule file is not valid TOML or does not have the rule format's
    /// shape (unknown keys, wrong types, missing fields).
    #[error("cannot parse rule file `{file}`: {message}")]
    Parse {
        /// The name of the rule file.
        file: String,
        /// What the TOML reader said, with its line and column.
        message: String,
    },

    /// A rule is well-formed TOML but makes no sense: a bad id, an
    /// invalid regex or query, an unknown language.
    #[error("invalid rule `{id}` in `{file}` at line {line}: {reason}")]
    InvalidRule {
        /// The name of the rule file.
        file: String,
        /// The id of the rule, as written.
        id: String,
        /// The 1-based line of the line the problem is on, or of the
        /// rule's header when it cannot be told more precisely.
        line: u32,
        /// What is wrong.
        reason: String,
    },

    /// Two rules share an id.
    #[error(
        "duplicate rule `{id}` in `{file}` at line {line}, first defined \
         in `{first_file}` at line {first_line}"
    )]
    DuplicateRule {
        /// The name of the rule file with the second definition.
        file: String,
        /// The id both rules use.
        id: String,
        /// The line of the second definition.
        line: u32,
        /// The name of the rule file with the first definition.
        first_file: String,
        /// The line of the first definition.
        first_line: u32,
    },

    /// The literal prefilter over all rules could not be built, which
    /// happens only when the rules hold an enormous number of literals.
    #[error("cannot build the literal prefilter over {literals} literals")]
    Prefilter {
        /// How many distinct literals the rules asked for.
        literals: usize,
        /// Why the automaton could not be built.
        #[source]
        source: aho_corasick::BuildError,
    },
}
