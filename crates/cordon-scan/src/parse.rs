//! Reading rule files: TOML text into checked [`Rule`]s.
//!
//! This module checks everything that can be checked without compiling
//! a matcher (ids, names of languages and roles, globs, weights, the
//! samples); [`crate::compile`] then checks the regexes and queries.
//! Unknown keys are errors, so that a misspelt key cannot silently turn
//! a rule off.

use cordon_report::{Language, Role, Severity};
use serde::Deserialize;
use serde::de::IntoDeserializer;
use serde::de::value::Error as ValueError;
use toml::Spanned;

use crate::error::Error;
use crate::glob::Glob;
use crate::rule::{
    ALL_ROLES, MatchSpec, Mode, Origin, RoleWeights, Rule, RuleSource,
    RuleTest,
};

/// The highest weight a rule may give a role, as a factor.
const MAX_WEIGHT: f64 = 4.0;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    rule: Vec<Spanned<RawRule>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: String,
    severity: Severity,
    summary: String,
    help: String,
    languages: toml::Value,
    roles: Option<Vec<Role>>,
    #[serde(default)]
    paths: Vec<String>,
    weights: Option<RawWeights>,
    message: Option<String>,
    #[serde(rename = "match")]
    matcher: RawMatch,
    fallback_for: Option<String>,
    #[serde(default)]
    test: Vec<RawTest>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWeights {
    install: Option<f64>,
    import: Option<f64>,
    other: Option<f64>,
    test: Option<f64>,
    docs: Option<f64>,
    example: Option<f64>,
    tooling: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMatch {
    kind: String,
    patterns: Option<Vec<String>>,
    mode: Option<String>,
    case_insensitive: Option<bool>,
    requires: Option<Vec<String>>,
    query: Option<String>,
    anomaly: Option<String>,
    signal: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTest {
    expect: String,
    code: String,
    path: Option<String>,
    role: Option<Role>,
    language: Option<Language>,
}

/// Reads every rule of one rule file.
pub(crate) fn parse_source(source: &RuleSource) -> Result<Vec<Rule>, Error> {
    let raw: RawFile = toml::from_str(&source.text).map_err(|e| {
        Error::Parse { file: source.name.clone(), message: one_line(&e) }
    })?;
    raw.rule
        .into_iter()
        .map(|spanned| {
            let line = line_of(&source.text, spanned.span().start);
            let origin = Origin { file: source.name.clone(), line };
            check_rule(spanned.into_inner(), origin)
        })
        .collect()
}

/// The 1-based line of a byte offset in `text`.
pub(crate) fn line_of(text: &str, offset: usize) -> u32 {
    let before = text.as_bytes().get(..offset).unwrap_or(text.as_bytes());
    let newlines = before.iter().filter(|&&b| b == b'\n').count();
    u32::try_from(newlines + 1).unwrap_or(u32::MAX)
}

fn one_line(error: &toml::de::Error) -> String {
    let text = error.to_string();
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let head = lines.next().unwrap_or_default().trim().to_string();
    let last = lines.next_back().unwrap_or_default().trim().to_string();
    if last.is_empty() { head } else { format!("{head}: {last}") }
}

fn check_rule(raw: RawRule, origin: Origin) -> Result<Rule, Error> {
    let invalid = |reason: String| Error::InvalidRule {
        file: origin.file.clone(),
        id: raw.id.clone(),
        line: origin.line,
        reason,
    };
    check_text(&raw).map_err(invalid)?;
    let languages = languages(&raw.languages).map_err(invalid)?;
    let roles = raw.roles.clone().unwrap_or_else(|| ALL_ROLES.to_vec());
    if roles.is_empty() {
        return Err(invalid("`roles` cannot be empty".into()));
    }
    let paths = raw
        .paths
        .iter()
        .map(|p| Glob::new(p))
        .collect::<Result<Vec<_>, _>>()
        .map_err(invalid)?;
    let weights = weights(raw.weights.as_ref()).map_err(invalid)?;
    let matcher = matcher(&raw.matcher).map_err(invalid)?;
    check_fallback(raw.fallback_for.as_deref(), &matcher).map_err(invalid)?;
    let tests = raw
        .test
        .iter()
        .map(|t| sample(t, languages.as_deref(), &roles))
        .collect::<Result<Vec<_>, _>>()
        .map_err(invalid)?;
    Ok(Rule {
        id: raw.id,
        severity: raw.severity,
        summary: raw.summary,
        help: raw.help.trim().to_string(),
        languages,
        roles,
        paths,
        weights,
        message: raw.message,
        matcher,
        fallback_for: raw.fallback_for,
        tests,
        origin,
    })
}

/// Only a text rule can stand in for another rule, named by a valid id;
/// the engine checks that the other rule exists and is a query rule.
fn check_fallback(
    target: Option<&str>,
    matcher: &MatchSpec,
) -> Result<(), String> {
    let Some(target) = target else { return Ok(()) };
    if !matches!(matcher, MatchSpec::Literal { .. } | MatchSpec::Regex { .. })
    {
        return Err("only literal and regex rules take `fallback_for`".into());
    }
    if !is_kebab_case(target) {
        return Err(format!("`fallback_for` names no rule id: `{target}`"));
    }
    Ok(())
}

fn check_text(raw: &RawRule) -> Result<(), String> {
    if !is_kebab_case(&raw.id) {
        return Err("the id must be kebab-case: lowercase ASCII letters, \
                    digits and single dashes"
            .into());
    }
    if raw.summary.trim().is_empty() || raw.summary.contains('\n') {
        return Err("`summary` must be one non-empty line".into());
    }
    if raw.help.trim().is_empty() {
        return Err("`help` cannot be empty".into());
    }
    Ok(())
}

fn is_kebab_case(id: &str) -> bool {
    let ok_chars = id
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    ok_chars
        && !id.is_empty()
        && !id.starts_with('-')
        && !id.ends_with('-')
        && !id.contains("--")
}

fn languages(value: &toml::Value) -> Result<Option<Vec<Language>>, String> {
    const HINT: &str = "`languages` must be \"any\" or a list of languages";
    match value {
        toml::Value::String(s) if s == "any" => Ok(None),
        toml::Value::Array(items) if !items.is_empty() => items
            .iter()
            .map(|item| match item {
                toml::Value::String(name) => language_named(name).map(Some),
                _ => Err(HINT.to_string()),
            })
            .collect::<Result<Option<Vec<_>>, _>>(),
        _ => Err(HINT.to_string()),
    }
}

fn language_named(name: &str) -> Result<Language, String> {
    let de: serde::de::value::StrDeserializer<'_, ValueError> =
        name.into_deserializer();
    Language::deserialize(de).map_err(|_| format!("unknown language `{name}`"))
}

fn weights(raw: Option<&RawWeights>) -> Result<RoleWeights, String> {
    let mut weights = RoleWeights::default();
    let Some(raw) = raw else { return Ok(weights) };
    let given = [
        (Role::Install, raw.install),
        (Role::Import, raw.import),
        (Role::Other, raw.other),
        (Role::Test, raw.test),
        (Role::Docs, raw.docs),
        (Role::Example, raw.example),
        (Role::Tooling, raw.tooling),
    ];
    for (role, factor) in given {
        let Some(factor) = factor else { continue };
        if !(0.0..=MAX_WEIGHT).contains(&factor) {
            return Err(format!(
                "the weight for `{role}` must be between 0 and {MAX_WEIGHT}"
            ));
        }
        // In range, so the cast neither truncates nor wraps.
        let percent = (factor * 100.0).round() as u32;
        weights = weights.with(role, percent);
    }
    Ok(weights)
}

fn matcher(raw: &RawMatch) -> Result<MatchSpec, String> {
    let spec = match raw.kind.as_str() {
        "literal" => MatchSpec::Literal {
            patterns: patterns(raw)?,
            mode: mode(raw.mode.as_deref())?,
            case_insensitive: raw.case_insensitive.unwrap_or(false),
        },
        "regex" => MatchSpec::Regex {
            patterns: patterns(raw)?,
            mode: mode(raw.mode.as_deref())?,
            requires: raw.requires.clone(),
        },
        "query" => MatchSpec::Query {
            query: raw.query.clone().ok_or("a query rule needs `query`")?,
            requires: raw.requires.clone().unwrap_or_default(),
        },
        "anomaly" => MatchSpec::Anomaly {
            anomaly: raw
                .anomaly
                .clone()
                .ok_or("an anomaly rule needs `anomaly`")?,
        },
        "metadata" => MatchSpec::Metadata {
            signal: raw
                .signal
                .clone()
                .ok_or("a metadata rule needs `signal`")?,
        },
        other => {
            return Err(format!(
                "unknown match kind `{other}` (expected literal, regex, \
                 query, anomaly or metadata)"
            ));
        }
    };
    check_keys(raw, &spec)?;
    Ok(spec)
}

/// Refuses keys that the match kind does not read, which are mistakes.
fn check_keys(raw: &RawMatch, spec: &MatchSpec) -> Result<(), String> {
    let allowed: &[&str] = match spec {
        MatchSpec::Literal { .. } => &["patterns", "mode", "case_insensitive"],
        MatchSpec::Regex { .. } => &["patterns", "mode", "requires"],
        MatchSpec::Query { .. } => &["query", "requires"],
        MatchSpec::Anomaly { .. } => &["anomaly"],
        MatchSpec::Metadata { .. } => &["signal"],
    };
    let present = [
        ("patterns", raw.patterns.is_some()),
        ("mode", raw.mode.is_some()),
        ("case_insensitive", raw.case_insensitive.is_some()),
        ("requires", raw.requires.is_some()),
        ("query", raw.query.is_some()),
        ("anomaly", raw.anomaly.is_some()),
        ("signal", raw.signal.is_some()),
    ];
    for (key, is_present) in present {
        if is_present && !allowed.contains(&key) {
            let kind = spec.kind();
            return Err(format!("a {kind} match does not take `{key}`"));
        }
    }
    let empty_literal = raw.requires.iter().flatten().any(|l| l.is_empty());
    if empty_literal {
        return Err("`requires` cannot hold an empty string".into());
    }
    Ok(())
}

fn patterns(raw: &RawMatch) -> Result<Vec<String>, String> {
    match &raw.patterns {
        Some(list)
            if !list.is_empty() && list.iter().all(|p| !p.is_empty()) =>
        {
            Ok(list.clone())
        }
        _ => {
            Err("`patterns` must be a non-empty list of non-empty strings"
                .into())
        }
    }
}

fn mode(raw: Option<&str>) -> Result<Mode, String> {
    match raw {
        None | Some("any") => Ok(Mode::Any),
        Some("all") => Ok(Mode::All),
        Some(other) => {
            Err(format!("unknown mode `{other}` (expected any or all)"))
        }
    }
}

fn sample(
    raw: &RawTest,
    languages: Option<&[Language]>,
    roles: &[Role],
) -> Result<RuleTest, String> {
    let expect_match = match raw.expect.as_str() {
        "match" => true,
        "clean" => false,
        other => {
            return Err(format!(
                "unknown test expectation `{other}` (expected match or clean)"
            ));
        }
    };
    let first_language = languages.and_then(|l| l.first().copied());
    let language = raw.language.or(first_language).unwrap_or(Language::Text);
    let role = raw.role.unwrap_or(roles[0]);
    let path = raw.path.clone().unwrap_or_else(|| default_path(language));
    Ok(RuleTest { expect_match, path, language, role, code: raw.code.clone() })
}

fn default_path(language: Language) -> String {
    let name = match language {
        Language::Python => "pkg/module.py",
        Language::JavaScript => "package/index.js",
        Language::TypeScript => "package/index.ts",
        Language::Shell => "install.sh",
        Language::Rust => "build.rs",
        Language::Ruby => "lib/gem.rb",
        Language::PowerShell => "install.ps1",
        Language::Batch => "install.bat",
        Language::Json => "package/package.json",
        Language::Toml => "Cargo.toml",
        Language::Yaml => "config.yaml",
        Language::Markdown => "README.md",
        Language::Text | Language::Binary => "data.txt",
    };
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
# a comment first, so that the rule is not on line 1

[[rule]]
id = "x-literal"
severity = "low"
summary = "a literal"
help = "because"
languages = "any"
[rule.match]
kind = "literal"
patterns = ["abc"]
"#;

    fn parse(text: &str) -> Result<Vec<Rule>, Error> {
        parse_source(&RuleSource::new("test.toml", text))
    }

    fn reason(text: &str) -> String {
        match parse(text) {
            Err(Error::InvalidRule { reason, .. }) => reason,
            other => panic!("expected an invalid rule, got {other:?}"),
        }
    }

    #[test]
    fn a_minimal_rule_gets_defaults() {
        let rules = parse(MINIMAL).unwrap();
        let rule = &rules[0];
        assert_eq!(rule.id, "x-literal");
        assert_eq!(rule.languages, None);
        assert_eq!(rule.roles, ALL_ROLES.to_vec());
        assert_eq!(rule.origin.line, 4);
        assert_eq!(rule.weights, RoleWeights::default());
    }

    #[test]
    fn errors_name_the_file_rule_and_line() {
        let text = MINIMAL.replace("x-literal", "X_Literal");
        let err = parse(&text).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("test.toml"), "{message}");
        assert!(message.contains("X_Literal"), "{message}");
        assert!(message.contains("line 4"), "{message}");
    }

    #[test]
    fn unknown_keys_are_refused() {
        let text = MINIMAL.replace("help =", "halp = \"x\"\nhelp =");
        let err = parse(&text).unwrap_err();
        assert!(matches!(err, Error::Parse { .. }), "{err}");
        assert!(err.to_string().contains("halp"), "{err}");
    }

    #[test]
    fn keys_of_another_match_kind_are_refused() {
        let text = MINIMAL.replace(
            "kind = \"literal\"",
            "kind = \"literal\"\nquery = \"x\"",
        );
        assert!(reason(&text).contains("does not take `query`"));
    }

    #[test]
    fn languages_roles_and_weights_are_checked() {
        let text =
            MINIMAL.replace("languages = \"any\"", "languages = [\"cobol\"]");
        assert!(reason(&text).contains("unknown language `cobol`"));
        let text =
            MINIMAL.replace("languages = \"any\"", "languages = \"all\"");
        assert!(reason(&text).contains("languages"));
        let text = MINIMAL.replace("[rule.match]", "roles = []\n[rule.match]");
        assert!(reason(&text).contains("roles"));
        let text = MINIMAL
            .replace("[rule.match]", "weights = { test = 9.0 }\n[rule.match]");
        assert!(reason(&text).contains("weight"));
    }

    #[test]
    fn weights_are_read_as_factors() {
        let text = MINIMAL.replace(
            "[rule.match]",
            "weights = { test = 0.75 }\n[rule.match]",
        );
        let rules = parse(&text).unwrap();
        assert_eq!(rules[0].weights.percent(Role::Test), 75);
    }

    #[test]
    fn samples_default_to_the_rules_language_and_role() {
        let text = format!(
            "{}\n[[rule.test]]\nexpect = \"match\"\ncode = \"abc\"\n",
            MINIMAL.replace("languages = \"any\"", "languages = [\"python\"]")
        );
        let rules = parse(&text).unwrap();
        let sample = &rules[0].tests[0];
        assert!(sample.expect_match);
        assert_eq!(sample.language, Language::Python);
        assert_eq!(sample.role, Role::Install);
        assert_eq!(sample.path, "pkg/module.py");
    }

    #[test]
    fn only_text_rules_can_be_fallbacks() {
        let text = MINIMAL
            .replace("[rule.match]", "fallback_for = \"x-q\"\n[rule.match]");
        assert_eq!(
            parse(&text).unwrap()[0].fallback_for.as_deref(),
            Some("x-q")
        );
        let query = text
            .replace("kind = \"literal\"", "kind = \"query\"")
            .replace("patterns = [\"abc\"]", "query = \"(x) @match\"");
        assert!(reason(&query).contains("only literal and regex rules"));
        let bad = text.replace("\"x-q\"", "\"X Q\"");
        assert!(reason(&bad).contains("names no rule id"));
    }

    #[test]
    fn ids_must_be_kebab_case() {
        assert!(is_kebab_case("py-exec-decoded"));
        assert!(is_kebab_case("rule2"));
        assert!(!is_kebab_case("py--exec"));
        assert!(!is_kebab_case("-py"));
        assert!(!is_kebab_case("Py-exec"));
        assert!(!is_kebab_case(""));
    }

    #[test]
    fn line_of_counts_from_one() {
        assert_eq!(line_of("a\nb\nc", 0), 1);
        assert_eq!(line_of("a\nb\nc", 2), 2);
        assert_eq!(line_of("a\nb\nc", 99), 3);
    }
}
