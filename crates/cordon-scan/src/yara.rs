//! The user's YARA rules, compiled with yara-x and matched against every
//! file of a package; each rule that matches a file is one finding.
//!
//! Every rule file is compiled into a namespace of its own, so a rule
//! may refer only to the rules of its own file; a rule name may still be
//! used only once over all files, since it is the finding's code,
//! `yara:<rule name>`. `include` is refused: what the rules are must be
//! the text of the files given, which is what the scan cache
//! fingerprints. Private rules give no findings.
//!
//! A rule's `meta` says how to report it:
//!
//! ```yara
//! rule planted_token {
//!     meta:
//!         severity = "high"           // info, low, medium (the default),
//!                                     // high or critical
//!         description = "plants the token"
//!     strings:
//!         $a = "token-1234"
//!     condition:
//!         $a
//! }
//! ```
//!
//! A finding points at the first match of the rule's first pattern
//! (in the order they are declared) that matched; a rule that matched
//! without a pattern (a condition on `filesize`, say) points at line 1.

use std::collections::HashMap;
use std::time::Duration;

use cordon_report::{Finding, RuleInfo, Severity};
use rayon::prelude::*;

use crate::engine::sort_findings;
use crate::location::TextIndex;
use crate::rule::RuleSource;
use crate::scan::ScanFile;

/// The prefix of the code of every YARA finding.
pub const YARA_PREFIX: &str = "yara:";

/// How long the YARA rules may spend on one file; a file that takes
/// longer gives no YARA findings, which is said at debug level.
pub const YARA_FILE_BUDGET: Duration = Duration::from_secs(5);

/// Why a set of YARA rule files could not be compiled.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum YaraError {
    /// yara-x refused the file: a syntax error, an unknown module or
    /// identifier, a rule name used twice in the file.
    #[error("invalid YARA rule file `{file}` at line {line}: {message}")]
    Compile {
        /// The name of the rule file.
        file: String,
        /// The 1-based line yara-x pointed at.
        line: u32,
        /// What yara-x said.
        message: String,
    },

    /// Two files define a rule of the same name.
    #[error(
        "duplicate YARA rule `{rule}` in `{file}`, first defined in \
         `{first_file}`"
    )]
    DuplicateRule {
        /// The file with the second definition.
        file: String,
        /// The rule name both use.
        rule: String,
        /// The file with the first definition.
        first_file: String,
    },

    /// A rule's `meta` holds a value cordon cannot use, such as an
    /// unknown severity.
    #[error("invalid YARA rule `{rule}` in `{file}` at line {line}: {reason}")]
    Meta {
        /// The name of the rule file.
        file: String,
        /// The rule's name.
        rule: String,
        /// The 1-based line of the rule's header, or 1 when it cannot
        /// be found.
        line: u32,
        /// What is wrong.
        reason: String,
    },
}

/// Compiled YARA rules, ready to scan files from any number of threads.
pub struct YaraRules {
    rules: yara_x::Rules,
    /// Each public rule's name, and where its info is in `infos`.
    reported: HashMap<String, usize>,
    infos: Vec<RuleInfo>,
}

impl YaraRules {
    /// Compiles `sources`, each the text of one `.yar` file and the
    /// name errors call it by.
    pub fn compile(sources: &[RuleSource]) -> Result<YaraRules, YaraError> {
        let mut compiler = yara_x::Compiler::new();
        compiler.enable_includes(false);
        for (index, source) in sources.iter().enumerate() {
            compiler.new_namespace(&namespace(index));
            let code = yara_x::SourceCode::from(source.text.as_str())
                .with_origin(source.name.as_str());
            compiler
                .add_source(code)
                .map_err(|err| compile_error(source, &err))?;
        }
        for warning in compiler.warnings() {
            tracing::debug!("yara: {warning}");
        }
        let rules = compiler.build();

        let mut reported: HashMap<String, usize> = HashMap::new();
        let mut files: HashMap<String, usize> = HashMap::new();
        let mut infos = Vec::new();
        for rule in rules.iter().filter(|r| !r.is_private()) {
            let file = file_index(rule.namespace(), sources.len());
            let source = &sources[file];
            let name = rule.identifier().to_string();
            if let Some(&first) = files.get(&name) {
                return Err(YaraError::DuplicateRule {
                    file: source.name.clone(),
                    rule: name,
                    first_file: sources[first].name.clone(),
                });
            }
            files.insert(name.clone(), file);
            reported.insert(name, infos.len());
            infos.push(rule_info(&rule, source)?);
        }
        tracing::debug!(rules = infos.len(), "yara rules compiled");
        Ok(YaraRules { rules, reported, infos })
    }

    /// What renderers need to know about every public rule, whose ids
    /// are `yara:<rule name>`.
    pub fn rule_infos(&self) -> &[RuleInfo] {
        &self.infos
    }

    /// Scans `files` in parallel and returns every finding, ordered by
    /// path, line, column and rule.
    pub fn scan_files(&self, files: &[ScanFile<'_>]) -> Vec<Finding> {
        let mut findings: Vec<Finding> = files
            .par_iter()
            .map_init(
                || self.scanner(),
                |scanner, file| self.scan(scanner, file),
            )
            .flatten_iter()
            .collect();
        sort_findings(&mut findings);
        findings
    }

    fn scanner(&self) -> yara_x::Scanner<'_> {
        let mut scanner = yara_x::Scanner::new(&self.rules);
        scanner.set_timeout(YARA_FILE_BUDGET);
        scanner
    }

    /// The findings of one file: one per rule that matched it.
    fn scan(
        &self,
        scanner: &mut yara_x::Scanner<'_>,
        file: &ScanFile<'_>,
    ) -> Vec<Finding> {
        let results = match scanner.scan(file.data) {
            Ok(results) => results,
            Err(err) => {
                tracing::debug!(path = file.path, "yara rules not run: {err}");
                return Vec::new();
            }
        };
        let index = TextIndex::new(file.data);
        results
            .matching_rules()
            .filter_map(|rule| {
                let info =
                    &self.infos[*self.reported.get(rule.identifier())?];
                let span = first_match(&rule);
                Some(finding(info, file, &index, span))
            })
            .collect()
    }
}

/// The namespace of the rule file at `index`.
fn namespace(index: usize) -> String {
    format!("file{index}")
}

/// The index of the rule file whose namespace is `namespace`.
fn file_index(namespace: &str, files: usize) -> usize {
    namespace
        .strip_prefix("file")
        .and_then(|n| n.parse::<usize>().ok())
        .filter(|&n| n < files)
        .unwrap_or(0)
}

/// A compile error of yara-x as one line naming the file and line.
fn compile_error(
    source: &RuleSource,
    err: &yara_x::errors::CompileError,
) -> YaraError {
    let label = err.labels().next();
    let line = label
        .as_ref()
        .map_or(1, |l| line_at(&source.text, l.span().0.start as usize));
    let mut message = err.title().to_string();
    if let Some(label) = label.filter(|l| !l.text().is_empty()) {
        message.push_str(": ");
        message.push_str(label.text());
    }
    YaraError::Compile { file: source.name.clone(), line, message }
}

/// The 1-based line of byte `offset` in `text`.
fn line_at(text: &str, offset: usize) -> u32 {
    let before = text.as_bytes().get(..offset).unwrap_or(text.as_bytes());
    let newlines = before.iter().filter(|&&b| b == b'\n').count();
    u32::try_from(newlines + 1).unwrap_or(u32::MAX)
}

/// The line of `rule NAME` in the text of its file; 1 when not found.
fn rule_line(text: &str, name: &str) -> u32 {
    let header = regex::Regex::new(&format!(
        r"(?m)^[ \t]*(?:(?:private|global)\s+)*rule\s+{}\b",
        regex::escape(name)
    ));
    match header.ok().and_then(|re| re.find(text)) {
        Some(m) => line_at(text, m.start() + m.as_str().len()),
        None => 1,
    }
}

/// How a public rule is reported, from its `meta`.
fn rule_info(
    rule: &yara_x::Rule<'_, '_>,
    source: &RuleSource,
) -> Result<RuleInfo, YaraError> {
    let name = rule.identifier();
    let invalid = |reason: String| YaraError::Meta {
        file: source.name.clone(),
        rule: name.to_string(),
        line: rule_line(&source.text, name),
        reason,
    };
    let mut severity = Severity::Medium;
    let mut description = None;
    for (key, value) in rule.metadata() {
        match (key, value) {
            ("severity", yara_x::MetaValue::String(text)) => {
                severity = parse_severity(text).ok_or_else(|| {
                    invalid(format!(
                        "unknown severity `{text}` (info, low, medium, \
                         high or critical)"
                    ))
                })?;
            }
            ("severity", _) => {
                return Err(invalid("`severity` must be a string".into()));
            }
            ("description", yara_x::MetaValue::String(text)) => {
                description = Some(text.to_string());
            }
            _ => {}
        }
    }
    let summary = description
        .filter(|d| !d.trim().is_empty())
        .unwrap_or_else(|| format!("matches the YARA rule `{name}`"));
    let help = format!(
        "A YARA rule of the user's, `{name}` in `{}`, matched this file. \
         What it means is for the rule's author to say; suppress it with \
         `--ignore {YARA_PREFIX}{name}` once it has been checked.",
        source.name
    );
    Ok(RuleInfo {
        id: format!("{YARA_PREFIX}{name}"),
        severity,
        summary,
        help,
    })
}

/// A severity by its name in rule files.
fn parse_severity(text: &str) -> Option<Severity> {
    [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ]
    .into_iter()
    .find(|s| s.to_string() == text.trim().to_ascii_lowercase())
}

/// The byte range of the first match of the first pattern that
/// matched; `None` when the rule matched without one.
fn first_match(rule: &yara_x::Rule<'_, '_>) -> Option<std::ops::Range<usize>> {
    rule.patterns().find_map(|pattern| {
        pattern.matches().map(|m| m.range()).min_by_key(|r| r.start)
    })
}

/// The finding of a rule that matched `file` at `span`.
fn finding(
    info: &RuleInfo,
    file: &ScanFile<'_>,
    index: &TextIndex<'_>,
    span: Option<std::ops::Range<usize>>,
) -> Finding {
    let (line, column, snippet, snippet_column) = match span {
        Some(span) => {
            let (line, column) = index.position(span.start);
            let (snippet, at) = index.snippet(span.start, span.end);
            (line, column, snippet, at)
        }
        None => (1, 1, String::new(), 0),
    };
    Finding {
        rule: info.id.clone(),
        severity: info.severity,
        path: file.path.to_string(),
        line,
        column,
        message: info.summary.clone(),
        snippet,
        snippet_column,
        role: file.role,
    }
}

#[cfg(test)]
mod tests {
    use cordon_report::{Language, Role};

    use super::*;

    const RULES: &str = r#"
rule planted_token {
    meta:
        severity = "high"
        description = "plants the token"
    strings:
        $a = "token-1234"
        $b = "other-token"
    condition:
        any of them
}

private rule helper {
    strings:
        $h = "never-reported"
    condition:
        $h
}

rule uses_helper {
    condition:
        helper
}
"#;

    fn rules(text: &str) -> Result<YaraRules, YaraError> {
        YaraRules::compile(&[RuleSource::new("user.yar", text)])
    }

    fn scan(rules: &YaraRules, path: &str, data: &[u8]) -> Vec<Finding> {
        let file = ScanFile {
            path,
            language: Language::Python,
            role: Role::Install,
            data,
        };
        rules.scan_files(&[file])
    }

    #[test]
    fn a_match_is_a_finding_at_the_first_pattern() {
        let rules = rules(RULES).unwrap();
        let data = b"x = 1\ny = 'other-token'\nz = 'token-1234'\n";

        let findings = scan(&rules, "setup.py", data);

        assert_eq!(findings.len(), 1, "{findings:?}");
        let f = &findings[0];
        assert_eq!(f.rule, "yara:planted_token");
        assert_eq!(f.severity, Severity::High);
        assert_eq!((f.line, f.column), (3, 6));
        assert_eq!(f.snippet, "z = 'token-1234'");
        assert_eq!(f.message, "plants the token");
        assert_eq!(f.role, Role::Install);
    }

    #[test]
    fn a_near_miss_gives_nothing() {
        let rules = rules(RULES).unwrap();
        assert!(scan(&rules, "a.py", b"token-123 4 other_token").is_empty());
    }

    #[test]
    fn private_rules_report_through_public_ones_only() {
        let rules = rules(RULES).unwrap();
        let findings = scan(&rules, "a.py", b"\n\nnever-reported\n");
        let codes: Vec<_> = findings.iter().map(|f| f.rule.as_str()).collect();
        assert_eq!(codes, ["yara:uses_helper"]);
        assert_eq!((findings[0].line, findings[0].snippet.as_str()), (1, ""));
        assert_eq!(findings[0].severity, Severity::Medium);
        let ids: Vec<_> =
            rules.rule_infos().iter().map(|i| i.id.as_str()).collect();
        assert_eq!(ids, ["yara:planted_token", "yara:uses_helper"]);
    }

    #[test]
    fn syntax_errors_name_the_file_and_line() {
        let broken = "rule ok { condition: true }\n\nrule bad {\n  \
            condition:\n    $nope and\n}\n";
        let err = rules(broken).err().unwrap().to_string();
        assert!(err.contains("`user.yar`"), "{err}");
        assert!(
            err.contains("at line 5") || err.contains("at line 6"),
            "{err}"
        );
    }

    #[test]
    fn a_bad_severity_names_the_rule_and_line() {
        let text = RULES.replace("\"high\"", "\"severe\"");
        let err = rules(&text).err().unwrap().to_string();
        assert!(err.contains("planted_token"), "{err}");
        assert!(err.contains("at line 2"), "{err}");
        assert!(err.contains("severe"), "{err}");
    }

    #[test]
    fn a_name_used_in_two_files_is_refused() {
        let sources = [
            RuleSource::new("a.yar", "rule same { condition: true }"),
            RuleSource::new("b.yar", "rule same { condition: false }"),
        ];
        let err = YaraRules::compile(&sources).err().unwrap().to_string();
        assert!(
            err.contains("`same`")
                && err.contains("`b.yar`")
                && err.contains("`a.yar`"),
            "{err}"
        );
    }

    #[test]
    fn includes_are_refused() {
        let err = rules("include \"/etc/passwd\"\nrule a { condition: true }")
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("user.yar") && err.contains("line 1"), "{err}");
    }

    #[test]
    fn the_line_of_a_rule_header_is_found() {
        let text = "// rule x\nprivate rule x\n{ condition: true }\n";
        assert_eq!(rule_line(text, "x"), 2);
        assert_eq!(rule_line(text, "y"), 1);
    }
}
