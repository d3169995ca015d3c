//! Metadata rules: weak signals from what a package says about itself
//! and what its registry says about it, rather than from its code.
//!
//! A rule with `kind = "metadata"` names one of [`METADATA_SIGNALS`]; the
//! engine turns each signal seen in a package's [`PackageFacts`] into a
//! finding of that rule, at the manifest's path, line 0. The signals:
//!
//! - `typosquat`: the name is one typo away from a popular package of
//!   its ecosystem (see [`crate::popular`]) and is not popular itself;
//! - `direct-dependency`: a dependency comes from a URL or git rather
//!   than the registry;
//! - `odd-version`: a version such as `0.0.0`, `99.99.99` or a huge major
//!   number, which squatters use to win version resolution;
//! - `registry-new-package`: the registry says this is the package's
//!   first and only version, published in the last
//!   [`NEW_PACKAGE_DAYS`] days;
//! - `registry-single-maintainer`, `registry-no-repository`,
//!   `registry-install-scripts`: what the registry says about who
//!   publishes the package, whether it links its source, and whether it
//!   runs scripts when installed.
//!
//! None is evidence alone. The built-in rules give them low severities,
//! and a test keeps every signal together below the `suspicious` score.

use cordon_report::{Ecosystem, Finding, Role};

use crate::compile::Matcher;
use crate::engine::Engine;
use crate::popular;

/// The signals metadata rules can name.
pub const METADATA_SIGNALS: [&str; 7] = [
    "typosquat",
    "direct-dependency",
    "odd-version",
    "registry-new-package",
    "registry-single-maintainer",
    "registry-no-repository",
    "registry-install-scripts",
];

/// How recent a first and only version must be to count as new.
pub const NEW_PACKAGE_DAYS: u64 = 7;

/// The lowest major version that is odd for a package: honest packages
/// rarely pass a few dozen majors, while squatters publish `99.0.0` or
/// `1000.0.0` to win version resolution over the real package.
const ODD_MAJOR: u64 = 99;

/// What cordon knows about a package beyond its files.
#[derive(Clone, Debug, Default)]
pub struct PackageFacts<'a> {
    /// The registry the package belongs to, when known.
    pub ecosystem: Option<Ecosystem>,
    /// The package's name, when known.
    pub name: Option<&'a str>,
    /// The package's version, when known.
    pub version: Option<&'a str>,
    /// The path findings about the whole package point at: its main
    /// manifest, or empty.
    pub manifest: &'a str,
    /// Dependencies fetched from a URL or git rather than a registry.
    pub direct_dependencies: Vec<DirectSource<'a>>,
    /// What the registry said about the package, when it came from one.
    pub registry: Option<RegistryFacts>,
}

/// A dependency fetched from a URL or git.
#[derive(Clone, Copy, Debug)]
pub struct DirectSource<'a> {
    /// The dependency's name; may be empty.
    pub name: &'a str,
    /// The URL, git remote or shorthand it comes from.
    pub source: &'a str,
    /// The manifest that names it.
    pub manifest: &'a str,
}

/// What a registry's metadata says about a package; `None` where the
/// registry did not say.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RegistryFacts {
    /// Days since the scanned version was published.
    pub age_days: Option<u64>,
    /// How many versions the package has.
    pub versions: Option<usize>,
    /// How many people may publish it.
    pub maintainers: Option<usize>,
    /// Whether it names a source repository.
    pub repository: Option<bool>,
    /// Whether the registry says it runs scripts when installed.
    pub install_scripts: bool,
}

/// One signal seen in a package.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signal {
    /// One of [`METADATA_SIGNALS`].
    pub kind: &'static str,
    /// The path the finding points at.
    pub path: String,
    /// What was seen, for the finding's message.
    pub detail: String,
}

/// Every signal in `facts`.
pub fn signals(facts: &PackageFacts<'_>) -> Vec<Signal> {
    let signal = |kind, path: &str, detail: String| Signal {
        kind,
        path: path.to_string(),
        detail,
    };
    let mut out = Vec::new();
    if let Some(detail) = typosquat(facts) {
        out.push(signal("typosquat", facts.manifest, detail));
    }
    for dependency in &facts.direct_dependencies {
        let detail = match dependency.name {
            "" => format!("`{}`", dependency.source),
            name => format!("`{name}` from `{}`", dependency.source),
        };
        out.push(signal("direct-dependency", dependency.manifest, detail));
    }
    if let Some(detail) = facts.version.and_then(odd_version) {
        out.push(signal("odd-version", facts.manifest, detail));
    }
    if let Some(registry) = &facts.registry {
        for (kind, detail) in registry_signals(registry) {
            out.push(signal(kind, facts.manifest, detail));
        }
    }
    out
}

fn typosquat(facts: &PackageFacts<'_>) -> Option<String> {
    let (ecosystem, name) = (facts.ecosystem?, facts.name?);
    let found = popular::lookalike(ecosystem, name)?;
    Some(format!("`{name}` {} `{}`", found.how, found.target))
}

/// Why a version string is odd, if it is.
pub fn odd_version(version: &str) -> Option<String> {
    let numbers = release_numbers(version);
    let major = *numbers.first()?;
    if numbers.iter().all(|&n| n == 0) {
        return Some(format!("version {version} is all zeros"));
    }
    let calendar = (1990..=2100).contains(&major)
        || (19_900_101..=21_001_231).contains(&major);
    if major >= ODD_MAJOR && !calendar {
        return Some(format!("version {version} has a huge major number"));
    }
    None
}

/// The leading numbers of a version (`[0, 66]` for `0.66b2`), up to
/// the first part that does not start with a digit.
fn release_numbers(version: &str) -> Vec<u64> {
    let mut numbers = Vec::new();
    let parts = version.trim().trim_start_matches(['v', 'V']).split('.');
    for part in parts {
        let digits: String =
            part.chars().take_while(char::is_ascii_digit).collect();
        let Ok(number) = digits.parse() else { break };
        numbers.push(number);
        if digits.len() < part.len() {
            break;
        }
    }
    numbers
}

fn registry_signals(registry: &RegistryFacts) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let only = registry.versions == Some(1);
    if let (true, Some(days)) = (only, registry.age_days)
        && days <= NEW_PACKAGE_DAYS
    {
        let detail = format!("first and only version, {days} day(s) old");
        out.push(("registry-new-package", detail));
    }
    if registry.maintainers == Some(1) {
        out.push(("registry-single-maintainer", "one maintainer".into()));
    }
    if registry.repository == Some(false) {
        out.push(("registry-no-repository", "no repository".into()));
    }
    if registry.install_scripts {
        let detail = "the registry lists install scripts".to_string();
        out.push(("registry-install-scripts", detail));
    }
    out
}

impl Engine {
    /// The findings of the metadata rules for `facts`, at install-time
    /// weight: metadata decides what gets installed.
    pub fn metadata_findings(&self, facts: &PackageFacts<'_>) -> Vec<Finding> {
        let signals = signals(facts);
        let mut findings = Vec::new();
        for (index, rule) in self.rules().iter().enumerate() {
            let compiled = self.compiled(index);
            let Matcher::Metadata(kind) = &compiled.matcher else { continue };
            if !rule.roles.contains(&Role::Install) {
                continue;
            }
            for signal in signals.iter().filter(|s| s.kind == kind) {
                let detail = signal.detail.as_bytes();
                let message = match &compiled.template {
                    Some(template) => template.render(|_| Some(detail)),
                    None => rule.summary.clone(),
                };
                findings.push(Finding {
                    rule: rule.id.clone(),
                    severity: rule.severity,
                    path: signal.path.clone(),
                    line: 0,
                    column: 0,
                    message,
                    snippet: String::new(),
                    snippet_column: 0,
                    role: Role::Install,
                });
            }
        }
        crate::engine::sort_findings(&mut findings);
        findings
    }
}

/// Refuses a signal no metadata rule can see.
pub(crate) fn check_signal(signal: &str) -> Result<(), String> {
    if METADATA_SIGNALS.contains(&signal) {
        return Ok(());
    }
    Err(format!(
        "unknown metadata signal `{signal}` (expected one of {})",
        METADATA_SIGNALS.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use cordon_report::Verdict;

    use super::*;

    fn facts<'a>(
        ecosystem: Ecosystem,
        name: &'a str,
        version: &'a str,
    ) -> PackageFacts<'a> {
        PackageFacts {
            ecosystem: Some(ecosystem),
            name: Some(name),
            version: Some(version),
            manifest: "p/PKG-INFO",
            ..PackageFacts::default()
        }
    }

    fn rules(facts: &PackageFacts<'_>) -> Vec<String> {
        let engine = Engine::builtin().unwrap();
        let findings = engine.metadata_findings(facts);
        findings.into_iter().map(|f| f.rule).collect()
    }

    #[test]
    fn a_typosquat_is_a_finding_and_its_target_is_not() {
        let squat = facts(Ecosystem::Pypi, "reqeusts", "2.31.0");
        assert_eq!(rules(&squat), ["meta-typosquat"]);
        let engine = Engine::builtin().unwrap();
        let message = &engine.metadata_findings(&squat)[0].message;
        assert!(message.contains("`requests`"), "{message}");

        let real = facts(Ecosystem::Pypi, "requests", "2.31.0");
        assert!(rules(&real).is_empty());
        let unrelated = facts(Ecosystem::Npm, "zz-cordon-widget", "1.0.0");
        assert!(rules(&unrelated).is_empty());
    }

    #[test]
    fn direct_dependencies_point_at_their_manifest() {
        let mut with = facts(Ecosystem::Npm, "zz-cordon-widget", "1.0.0");
        with.direct_dependencies.push(DirectSource {
            name: "x",
            source: "git+https://h.example/x.git",
            manifest: "package/package.json",
        });
        let engine = Engine::builtin().unwrap();
        let findings = engine.metadata_findings(&with);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].rule, "meta-direct-dependency");
        assert_eq!(findings[0].path, "package/package.json");

        let without = facts(Ecosystem::Npm, "zz-cordon-widget", "1.0.0");
        assert!(rules(&without).is_empty());
    }

    #[test]
    fn odd_versions_and_honest_ones() {
        for odd in ["0.0.0", "99.99.99", "v1000.0.0", "0.0"] {
            assert!(odd_version(odd).is_some(), "{odd}");
        }
        let honest = [
            "0.0.1",
            "1.2.3",
            "2024.10.1",
            "20240101.1",
            "0.66b2",
            "0.0.3-rc1",
        ];
        for honest in honest {
            assert_eq!(odd_version(honest), None, "{honest}");
        }
        assert_eq!(odd_version("dev"), None);
        let odd = facts(Ecosystem::Pypi, "zz-cordon-widget", "99.0.0");
        assert_eq!(rules(&odd), ["meta-odd-version"]);
    }

    #[test]
    fn registry_signals_and_their_near_misses() {
        let mut new = facts(Ecosystem::Npm, "zz-cordon-widget", "1.0.0");
        new.registry = Some(RegistryFacts {
            age_days: Some(2),
            versions: Some(1),
            maintainers: Some(1),
            repository: Some(false),
            install_scripts: true,
        });
        let mut found = rules(&new);
        found.sort();
        assert_eq!(
            found,
            [
                "meta-install-scripts",
                "meta-new-package",
                "meta-no-repository",
                "meta-single-maintainer",
            ]
        );

        let mut old = facts(Ecosystem::Npm, "zz-cordon-widget", "1.0.0");
        old.registry = Some(RegistryFacts {
            age_days: Some(2),
            versions: Some(12),
            maintainers: Some(3),
            repository: Some(true),
            install_scripts: false,
        });
        assert!(rules(&old).is_empty());
        let mut unknown = old.clone();
        unknown.registry = Some(RegistryFacts::default());
        assert!(rules(&unknown).is_empty());
    }

    #[test]
    fn every_signal_together_stays_below_suspicious() {
        let mut all = facts(Ecosystem::Pypi, "reqeusts", "99.0.0");
        let dependency = DirectSource {
            name: "x",
            source: "https://h.example/x.tgz",
            manifest: "p/setup.py",
        };
        all.direct_dependencies = vec![dependency; 3];
        all.registry = Some(RegistryFacts {
            age_days: Some(0),
            versions: Some(1),
            maintainers: Some(1),
            repository: Some(false),
            install_scripts: true,
        });
        let engine = Engine::builtin().unwrap();
        let findings = engine.metadata_findings(&all);
        assert_eq!(findings.len(), 9, "{findings:?}");
        assert_eq!(engine.score(&findings).1, Verdict::Clean);
    }

    #[test]
    fn every_signal_has_a_builtin_rule_and_unknown_ones_are_refused() {
        let engine = Engine::builtin().unwrap();
        for signal in METADATA_SIGNALS {
            let named = engine.rules().iter().any(|r| {
                matches!(&r.matcher,
                    crate::rule::MatchSpec::Metadata { signal: s } if s == signal)
            });
            assert!(named, "no rule for {signal}");
        }
        assert!(check_signal("typosquat").is_ok());
        assert!(check_signal("typo").unwrap_err().contains("typosquat"));
    }
}
