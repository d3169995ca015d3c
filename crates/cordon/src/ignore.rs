//! Suppressions: findings the user has read and decided to live with.
//!
//! They come from `--ignore RULE` on the command line (the rule
//! everywhere) and from `[[scan.ignore]]` tables in `cordon.toml`, each
//! with the rule, an optional path glob and the reason, which is
//! required so that the next reader knows why:
//!
//! ```toml
//! [[scan.ignore]]
//! rule = "generic-exfil-service"
//! path = "**/hf_api.py"
//! reason = "webhook.site is the example address of the webhooks API"
//! ```
//!
//! A suppressed finding leaves the report and does not count in the
//! score; each package says how many of its findings were suppressed.
//! The glob matches the file's path in the package as the report shows
//! it; without `/` it matches the file name alone.
//!
//! `[scan]` may also name rule files to add, as `--rules` and `--yara`
//! do, relative to the directory of the configuration file:
//!
//! ```toml
//! [scan]
//! rules = ["policy/rules"]
//! yara = ["policy/yara/packages.yar"]
//! ```
//!
//! `cordon.toml` may hold other sections (`[run]` is read by `cordon
//! run`); unknown keys inside `[scan]` are errors, so that a misspelt
//! key cannot silently suppress nothing.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::policy::line_of;
use cordon_report::Finding;
use cordon_scan::{Engine, Glob};
use serde::Deserialize;

/// The file read when `--config` is not given, if it exists in the
/// current directory.
pub const DEFAULT_CONFIG: &str = "cordon.toml";

/// One suppression.
#[derive(Debug)]
pub struct Ignore {
    rule: String,
    path: Option<Glob>,
}

impl Ignore {
    fn matches(&self, finding: &Finding) -> bool {
        finding.rule == self.rule
            && self.path.as_ref().is_none_or(|g| g.matches(&finding.path))
    }
}

#[derive(Deserialize)]
struct RawConfig {
    #[serde(default)]
    scan: RawScan,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScan {
    #[serde(default)]
    ignore: Vec<RawIgnore>,
    #[serde(default)]
    rules: Vec<PathBuf>,
    #[serde(default)]
    yara: Vec<PathBuf>,
}

/// The rule files a configuration file adds: `rules` and `yara` of
/// `[scan]`, each path relative to the file's directory.
#[derive(Debug, Default)]
pub struct UserRulePaths {
    /// Rule files or directories in cordon's format.
    pub rules: Vec<PathBuf>,
    /// YARA rule files or directories.
    pub yara: Vec<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIgnore {
    rule: toml::Spanned<String>,
    path: Option<toml::Spanned<String>>,
    reason: String,
}

/// The suppressions of `--ignore` and of the configuration file: the
/// one given, or `cordon.toml` in the current directory when it exists.
/// They may name the rules of `engine` and the ids in `more` (those of
/// YARA rules).
pub fn load(
    engine: &Engine,
    more: &[String],
    rules: &[String],
    config: Option<&Path>,
) -> anyhow::Result<Vec<Ignore>> {
    let mut known: HashSet<&str> =
        engine.rules().iter().map(|r| r.id.as_str()).collect();
    known.extend(more.iter().map(String::as_str));
    let mut ignores = Vec::new();
    for rule in rules {
        if !known.contains(rule.as_str()) {
            bail!("--ignore {rule}: no rule has this id");
        }
        ignores.push(Ignore { rule: rule.clone(), path: None });
    }

    let Some(path) = config_path(config) else { return Ok(ignores) };
    let text = crate::policy::read_file(&path)?;
    ignores.extend(parse(&text, &known).with_context(|| {
        format!("invalid configuration {}", path.display())
    })?);
    Ok(ignores)
}

/// The rule files named in `[scan]` of the configuration file: the one
/// given, or `cordon.toml` in the current directory when it exists.
pub fn user_rules(config: Option<&Path>) -> anyhow::Result<UserRulePaths> {
    let Some(path) = config_path(config) else {
        return Ok(UserRulePaths::default());
    };
    let text = crate::policy::read_file(&path)?;
    let raw: RawConfig = toml::from_str(&text).with_context(|| {
        format!("invalid configuration {}", path.display())
    })?;
    let base = path.parent().unwrap_or(Path::new(""));
    let resolve =
        |paths: Vec<PathBuf>| paths.iter().map(|p| base.join(p)).collect();
    Ok(UserRulePaths {
        rules: resolve(raw.scan.rules),
        yara: resolve(raw.scan.yara),
    })
}

/// The configuration file given, or `cordon.toml` in the current
/// directory when it exists.
fn config_path(config: Option<&Path>) -> Option<PathBuf> {
    match config {
        Some(path) => Some(path.to_path_buf()),
        None if Path::new(DEFAULT_CONFIG).is_file() => {
            Some(PathBuf::from(DEFAULT_CONFIG))
        }
        None => None,
    }
}

/// The `[[scan.ignore]]` tables of a configuration file's text.
fn parse(text: &str, known: &HashSet<&str>) -> anyhow::Result<Vec<Ignore>> {
    let raw: RawConfig = toml::from_str(text)?;
    raw.scan
        .ignore
        .into_iter()
        .map(|raw| {
            let line = line_of(text, raw.rule.span().start);
            let rule = raw.rule.into_inner();
            if !known.contains(rule.as_str()) {
                bail!("line {line}: no rule has the id `{rule}`");
            }
            if raw.reason.trim().is_empty() {
                bail!(
                    "line {line}: the suppression of `{rule}` needs a reason"
                );
            }
            let path = match raw.path {
                Some(glob) => {
                    let line = line_of(text, glob.span().start);
                    let glob = Glob::new(glob.get_ref())
                        .map_err(|e| anyhow::anyhow!("line {line}: {e}"))?;
                    Some(glob)
                }
                None => None,
            };
            Ok(Ignore { rule, path })
        })
        .collect()
}

/// Removes the findings that a suppression matches and returns how many
/// it removed.
pub fn apply(ignores: &[Ignore], findings: &mut Vec<Finding>) -> u64 {
    let before = findings.len();
    findings.retain(|f| !ignores.iter().any(|i| i.matches(f)));
    (before - findings.len()) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> HashSet<&'static str> {
        ["py-shell-command", "generic-exfil-service"].into_iter().collect()
    }

    fn finding(rule: &str, path: &str) -> Finding {
        Finding {
            rule: rule.into(),
            severity: cordon_report::Severity::High,
            path: path.into(),
            line: 1,
            column: 1,
            message: String::new(),
            snippet: String::new(),
            snippet_column: 0,
            role: cordon_report::Role::Other,
        }
    }

    #[test]
    fn a_suppression_matches_its_rule_and_path() {
        let text = "[run]\nnet = \"none\"\n\n[[scan.ignore]]\n\
            rule = \"generic-exfil-service\"\npath = \"**/hf_api.py\"\n\
            reason = \"documented example address\"\n";
        let ignores = parse(text, &known()).unwrap();
        let mut findings = vec![
            finding("generic-exfil-service", "p-1.0/src/p/hf_api.py"),
            finding("generic-exfil-service", "p-1.0/src/p/other.py"),
            finding("py-shell-command", "p-1.0/src/p/hf_api.py"),
        ];

        assert_eq!(apply(&ignores, &mut findings), 1);

        let left: Vec<_> = findings.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(left, ["p-1.0/src/p/other.py", "p-1.0/src/p/hf_api.py"]);
    }

    #[test]
    fn mistakes_name_the_line() {
        let unknown =
            "\n[[scan.ignore]]\nrule = \"no-such-rule\"\nreason = \"x\"\n";
        let err = parse(unknown, &known()).unwrap_err().to_string();
        assert!(
            err.contains("line 3") && err.contains("no-such-rule"),
            "{err}"
        );

        let no_reason = "[[scan.ignore]]\nrule = \"py-shell-command\"\n";
        let err = format!("{:#}", parse(no_reason, &known()).unwrap_err());
        assert!(err.contains("reason"), "{err}");

        let empty =
            "[[scan.ignore]]\nrule = \"py-shell-command\"\nreason = \" \"\n";
        let err = parse(empty, &known()).unwrap_err().to_string();
        assert!(
            err.contains("line 2") && err.contains("needs a reason"),
            "{err}"
        );

        let typo = "[[scan.ignore]]\nrule = \"py-shell-command\"\nreason = \"x\"\npaht = \"a\"\n";
        let err = format!("{:#}", parse(typo, &known()).unwrap_err());
        assert!(err.contains("paht"), "{err}");
    }
}
