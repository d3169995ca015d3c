//! Anomaly rules: findings about how a package is packed rather than
//! about what its files say.
//!
//! The package reader records anomalies (an entry named `../../x`, a
//! symlink, a device) under stable ids such as `archive-symlink`. A rule
//! with `kind = "anomaly"` names one of those ids; the engine turns each
//! recorded anomaly of that kind into a finding of the rule, at the
//! entry's path, with line and column 0 because the finding is about the
//! entry, not a place in its text.

use cordon_report::{Finding, Role};

use crate::compile::Matcher;
use crate::engine::Engine;

/// One anomaly the package reader recorded, borrowed from wherever the
/// caller keeps it.
#[derive(Clone, Copy, Debug)]
pub struct ScanAnomaly<'a> {
    /// The anomaly's id, one of [`ANOMALY_KINDS`].
    pub kind: &'a str,
    /// The entry's path in the package.
    pub path: &'a str,
    /// What was seen: the raw name, a link's target.
    pub detail: &'a str,
    /// The role a file at that path has; `Other` when there is none.
    pub role: Role,
}

impl Engine {
    /// The findings of the anomaly rules for `anomalies`, ordered like
    /// those of [`Engine::scan_files`]. Anomalies no rule names are
    /// left out.
    pub fn anomaly_findings(
        &self,
        anomalies: &[ScanAnomaly<'_>],
    ) -> Vec<Finding> {
        let mut findings = Vec::new();
        for (index, rule) in self.rules().iter().enumerate() {
            let compiled = self.compiled(index);
            let Matcher::Anomaly(kind) = &compiled.matcher else { continue };
            let applies = |a: &&ScanAnomaly<'_>| {
                a.kind == kind && rule.roles.contains(&a.role)
            };
            for anomaly in anomalies.iter().filter(applies) {
                let detail = anomaly.detail.as_bytes();
                let message = match &compiled.template {
                    Some(template) => template.render(|_| Some(detail)),
                    None => rule.summary.clone(),
                };
                findings.push(Finding {
                    rule: rule.id.clone(),
                    severity: rule.severity,
                    path: anomaly.path.to_string(),
                    line: 0,
                    column: 0,
                    message,
                    snippet: String::new(),
                    snippet_column: 0,
                    role: anomaly.role,
                });
            }
        }
        crate::engine::sort_findings(&mut findings);
        findings
    }
}

/// The anomaly ids the package reader records.
pub const ANOMALY_KINDS: [&str; 12] = [
    "archive-path-traversal",
    "archive-absolute-path",
    "archive-symlink",
    "archive-hardlink",
    "archive-special-file",
    "archive-non-utf8-name",
    "archive-nested-too-deep",
    "archive-nested-unreadable",
    "archive-entry-skipped",
    "archive-entry-unreadable",
    "archive-duplicate-path",
    "archive-format-mismatch",
];

/// Refuses an anomaly id the package reader never records, which would
/// make a rule that can never fire.
pub(crate) fn check_kind(kind: &str) -> Result<(), String> {
    if ANOMALY_KINDS.contains(&kind) {
        return Ok(());
    }
    Err(format!(
        "unknown anomaly `{kind}` (expected one of {})",
        ANOMALY_KINDS.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anomalies_become_findings_of_their_rules() {
        let engine = Engine::builtin().unwrap();
        let anomalies = [
            ScanAnomaly {
                kind: "archive-path-traversal",
                path: "etc/cron.d/x",
                detail: "../../etc/cron.d/x",
                role: Role::Other,
            },
            ScanAnomaly {
                kind: "archive-symlink",
                path: "pkg/link",
                detail: "/etc/passwd",
                role: Role::Import,
            },
        ];
        let findings = engine.anomaly_findings(&anomalies);
        let rules: Vec<&str> =
            findings.iter().map(|f| f.rule.as_str()).collect();
        assert_eq!(rules, vec!["archive-path-traversal", "archive-symlink"]);
        assert_eq!(
            findings[0].message,
            "entry name leaves the package: ../../etc/cron.d/x"
        );
        assert_eq!((findings[1].line, findings[1].column), (0, 0));
        assert_eq!(findings[1].role, Role::Import);
    }

    #[test]
    fn every_anomaly_kind_has_a_builtin_rule() {
        let engine = Engine::builtin().unwrap();
        for kind in ANOMALY_KINDS {
            assert!(engine.rule(kind).is_some(), "no rule for {kind}");
        }
    }

    #[test]
    fn only_known_anomalies_are_accepted() {
        assert!(check_kind("archive-symlink").is_ok());
        let err = check_kind("archive-simlink").unwrap_err();
        assert!(err.contains("archive-symlink"), "{err}");
    }
}
