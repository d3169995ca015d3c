//! Rules as the engine sees them once their file has been read and
//! checked: what they look for, where, and how much a finding weighs.
//!
//! The text format of rule files is described in `rules/README.md` and
//! read by [`crate::parse`]; the matchers a rule compiles into live in
//! [`crate::compile`].

use cordon_report::{Language, Role, RuleInfo, Severity};

use crate::glob::Glob;
use crate::score;

/// The text of one rule file and the name errors call it by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleSource {
    /// A path or other name for the file, used in error messages and
    /// kept in each rule's [`Origin`].
    pub name: String,
    /// The TOML text of the file.
    pub text: String,
}

impl RuleSource {
    /// A rule file named `name` holding `text`.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        RuleSource { name: name.into(), text: text.into() }
    }
}

/// Where a rule was defined.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    /// The name of the rule file.
    pub file: String,
    /// The 1-based line of the rule's `[[rule]]` header.
    pub line: u32,
}

/// One checked rule.
#[derive(Clone, Debug)]
pub struct Rule {
    /// The stable, kebab-case id, such as `py-exec-decoded`.
    pub id: String,
    /// The severity of every finding of this rule.
    pub severity: Severity,
    /// One line saying what the rule looks for.
    pub summary: String,
    /// Why it matters, a paragraph or two.
    pub help: String,
    /// The languages of the files the rule reads; `None` means any.
    pub languages: Option<Vec<Language>>,
    /// The roles of the files the rule reads; never empty.
    pub roles: Vec<Role>,
    /// Globs over the file's path in the package; empty means any path.
    pub paths: Vec<Glob>,
    /// How much a finding weighs per role of its file, in percent.
    pub weights: RoleWeights,
    /// The message template of findings; the summary when absent.
    pub message: Option<String>,
    /// What the rule matches.
    pub matcher: MatchSpec,
    /// The id of the query rule this text rule stands in for, in files
    /// that query rule could not read: the text rule stays quiet where
    /// the query rule ran on a clean syntax tree, or matched the same
    /// place.
    pub fallback_for: Option<String>,
    /// Samples that must and must not match, checked by the test suite.
    pub tests: Vec<RuleTest>,
    /// Where the rule was defined.
    pub origin: Origin,
}

impl Rule {
    /// Whether the rule reads a file of this language and role at this
    /// path. Anomaly and metadata rules read no file and always answer
    /// `false`.
    pub fn applies_to(
        &self,
        language: Language,
        role: Role,
        path: &str,
    ) -> bool {
        if !self.reads_files() {
            return false;
        }
        let language_ok = self
            .languages
            .as_ref()
            .is_none_or(|list| list.contains(&language));
        let path_ok = self.paths.is_empty()
            || self.paths.iter().any(|g| g.matches(path));
        language_ok && self.roles.contains(&role) && path_ok
    }

    /// Whether the rule reads files' text, rather than anomalies or
    /// metadata.
    pub fn reads_files(&self) -> bool {
        !matches!(
            self.matcher,
            MatchSpec::Anomaly { .. } | MatchSpec::Metadata { .. }
        )
    }

    /// What renderers need to know about the rule.
    pub fn info(&self) -> RuleInfo {
        RuleInfo {
            id: self.id.clone(),
            severity: self.severity,
            summary: self.summary.clone(),
            help: self.help.clone(),
        }
    }
}

/// Whether a rule with several patterns needs one of them or all.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// Each match of any pattern is a finding.
    #[default]
    Any,
    /// The file matches only when every pattern does; the finding is
    /// reported where the first pattern first matches.
    All,
}

/// What a rule looks for, as written in its rule file.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MatchSpec {
    /// Plain strings, found with the prefilter and confirmed in place.
    Literal {
        /// The strings.
        patterns: Vec<String>,
        /// Whether one or all of them must occur.
        mode: Mode,
        /// Whether ASCII letters match regardless of case.
        case_insensitive: bool,
    },
    /// Regular expressions over the file's bytes (`regex::bytes`
    /// syntax).
    Regex {
        /// The expressions.
        patterns: Vec<String>,
        /// Whether one or all of them must match.
        mode: Mode,
        /// Literals of which one must occur before the expressions run;
        /// derived from the expressions when absent.
        requires: Option<Vec<String>>,
    },
    /// A tree-sitter query, run on the file's syntax tree.
    Query {
        /// The query, with an `@match` capture marking the reported
        /// node.
        query: String,
        /// Literals of which one must occur before the file is parsed;
        /// when empty the query runs on every file it applies to.
        requires: Vec<String>,
    },
    /// An anomaly the package reader recorded, such as a symlink entry.
    Anomaly {
        /// The anomaly's kind, in kebab case (`path-traversal`).
        anomaly: String,
    },
    /// A weak signal from the package's metadata, such as a name one
    /// typo away from a popular package's.
    Metadata {
        /// The signal, one of [`crate::METADATA_SIGNALS`].
        signal: String,
    },
}

impl MatchSpec {
    /// The name of the matcher kind, as written in rule files.
    pub fn kind(&self) -> &'static str {
        match self {
            MatchSpec::Literal { .. } => "literal",
            MatchSpec::Regex { .. } => "regex",
            MatchSpec::Query { .. } => "query",
            MatchSpec::Anomaly { .. } => "anomaly",
            MatchSpec::Metadata { .. } => "metadata",
        }
    }
}

/// How much a finding of a rule weighs in the score, per role of the file
/// it was found in, in percent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RoleWeights {
    percent: [u32; 7],
}

impl RoleWeights {
    /// The weight of findings in files of this role, in percent.
    pub fn percent(&self, role: Role) -> u32 {
        self.percent[role_index(role)]
    }

    /// The same weights with the one for `role` replaced.
    pub fn with(mut self, role: Role, percent: u32) -> Self {
        self.percent[role_index(role)] = percent;
        self
    }
}

impl Default for RoleWeights {
    /// The weights of [`score::role_weight`].
    fn default() -> Self {
        let mut percent = [0; 7];
        for role in ALL_ROLES {
            percent[role_index(role)] = score::role_weight(role);
        }
        RoleWeights { percent }
    }
}

/// Every role, in the order of the enum.
pub const ALL_ROLES: [Role; 7] = [
    Role::Install,
    Role::Import,
    Role::Other,
    Role::Test,
    Role::Docs,
    Role::Example,
    Role::Tooling,
];

fn role_index(role: Role) -> usize {
    match role {
        Role::Install => 0,
        Role::Import => 1,
        Role::Other => 2,
        Role::Test => 3,
        Role::Docs => 4,
        Role::Example => 5,
        Role::Tooling => 6,
    }
}

/// A sample a rule must, or must not, find something in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleTest {
    /// Whether the rule must report at least one finding (`true`) or
    /// none at all (`false`).
    pub expect_match: bool,
    /// The path the sample is scanned under.
    pub path: String,
    /// The language the sample is scanned as.
    pub language: Language,
    /// The role the sample is scanned with.
    pub role: Role,
    /// The sample's text.
    pub code: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(matcher: MatchSpec) -> Rule {
        Rule {
            id: "x-rule".into(),
            severity: Severity::Low,
            summary: "s".into(),
            help: "h".into(),
            languages: Some(vec![Language::Python]),
            roles: vec![Role::Install],
            paths: vec![Glob::new("*.py").unwrap()],
            weights: RoleWeights::default(),
            message: None,
            matcher,
            fallback_for: None,
            tests: Vec::new(),
            origin: Origin { file: "f".into(), line: 1 },
        }
    }

    #[test]
    fn applies_only_to_its_language_role_and_paths() {
        let spec = MatchSpec::Query { query: String::new(), requires: vec![] };
        let r = rule(spec);
        assert!(r.applies_to(Language::Python, Role::Install, "a/setup.py"));
        assert!(!r.applies_to(Language::Python, Role::Test, "a/setup.py"));
        assert!(!r.applies_to(Language::Shell, Role::Install, "a/setup.py"));
        assert!(!r.applies_to(Language::Python, Role::Install, "a/setup.cfg"));
    }

    #[test]
    fn anomaly_rules_read_no_file() {
        let r = rule(MatchSpec::Anomaly { anomaly: "symlink".into() });
        assert!(!r.applies_to(Language::Python, Role::Install, "setup.py"));
    }

    #[test]
    fn weights_can_be_overridden_per_role() {
        let w = RoleWeights::default().with(Role::Test, 70);
        assert_eq!(w.percent(Role::Test), 70);
        assert_eq!(
            w.percent(Role::Install),
            score::role_weight(Role::Install)
        );
    }
}
