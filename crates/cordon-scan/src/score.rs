//! The score of a package and the verdict it leads to.
//!
//! Each finding is worth the points of its severity times the weight of
//! its file's role:
//!
//! | severity | points |   | role                  | weight |
//! |----------|-------:|---|-----------------------|-------:|
//! | info     |      0 |   | install               |    1.0 |
//! | low      |      1 |   | import                |    0.8 |
//! | medium   |      3 |   | other                 |    0.5 |
//! | high     |      8 |   | test, docs, example   |    0.1 |
//! | critical |     20 |   |                       |        |
//!
//! A rule may set its own weight per role (see `rules/README.md`). A
//! rule counts at most twice per package: its strongest finding in full,
//! its second strongest at half, the rest not at all, so that one
//! behaviour repeated in fifty files does not outweigh two different
//! ones. The sum, rounded to the nearest whole point, is the score.
//!
//! The verdict is `malicious` from [`MALICIOUS_SCORE`] (20) points,
//! `suspicious` from [`SUSPICIOUS_SCORE`] (8), `clean` below. So one
//! critical finding in install-time code is enough to call a package
//! malicious, one high finding there makes it suspicious, and the same
//! high finding in a test file counts for less than a point.
//!
//! Points and weights are kept in whole hundredths, so the score is the
//! same on every machine.

use std::collections::HashMap;

use cordon_report::{Finding, Role, Severity, Verdict};

/// The score from which a package is `suspicious`.
pub const SUSPICIOUS_SCORE: u32 = 8;

/// The score from which a package is `malicious`.
pub const MALICIOUS_SCORE: u32 = 20;

/// The points a finding of this severity is worth before weighting.
pub const fn severity_points(severity: Severity) -> u32 {
    match severity {
        Severity::Info => 0,
        Severity::Low => 1,
        Severity::Medium => 3,
        Severity::High => 8,
        Severity::Critical => 20,
    }
}

/// The default weight of a finding in a file of this role, in percent.
pub const fn role_weight(role: Role) -> u32 {
    match role {
        Role::Install => 100,
        Role::Import => 80,
        Role::Other => 50,
        Role::Test | Role::Docs | Role::Example | Role::Tooling => 10,
    }
}

/// The verdict a score leads to.
pub const fn verdict_for(score: u32) -> Verdict {
    if score >= MALICIOUS_SCORE {
        Verdict::Malicious
    } else if score >= SUSPICIOUS_SCORE {
        Verdict::Suspicious
    } else {
        Verdict::Clean
    }
}

/// The score and verdict of a package's findings, with the default role
/// weights.
pub fn score(findings: &[Finding]) -> (u32, Verdict) {
    score_with(findings, |f| role_weight(f.role))
}

/// The score and verdict of a package's findings, with `weight` giving
/// each finding's weight in percent.
pub fn score_with(
    findings: &[Finding],
    weight: impl Fn(&Finding) -> u32,
) -> (u32, Verdict) {
    // Hundredths of points per rule, strongest first.
    let mut per_rule: HashMap<&str, Vec<u64>> = HashMap::new();
    for finding in findings {
        let points = u64::from(severity_points(finding.severity));
        let value = points * u64::from(weight(finding));
        per_rule.entry(finding.rule.as_str()).or_default().push(value);
    }

    let mut total: u64 = 0;
    for values in per_rule.values_mut() {
        values.sort_unstable_by(|a, b| b.cmp(a));
        total += values.first().copied().unwrap_or(0);
        total += values.get(1).copied().unwrap_or(0) / 2;
    }

    let score = u32::try_from((total + 50) / 100).unwrap_or(u32::MAX);
    (score, verdict_for(score))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(rule: &str, severity: Severity, role: Role) -> Finding {
        Finding {
            rule: rule.into(),
            severity,
            path: "setup.py".into(),
            line: 1,
            column: 1,
            message: String::new(),
            snippet: String::new(),
            snippet_column: 0,
            role,
        }
    }

    #[test]
    fn no_findings_is_clean() {
        assert_eq!(score(&[]), (0, Verdict::Clean));
    }

    #[test]
    fn one_critical_finding_at_install_time_is_malicious() {
        let f = [finding("a", Severity::Critical, Role::Install)];
        assert_eq!(score(&f), (20, Verdict::Malicious));
    }

    #[test]
    fn one_high_finding_at_install_time_is_suspicious() {
        let f = [finding("a", Severity::High, Role::Install)];
        assert_eq!(score(&f), (8, Verdict::Suspicious));
    }

    #[test]
    fn tests_and_docs_weigh_little() {
        let f = [
            finding("a", Severity::Critical, Role::Test),
            finding("b", Severity::High, Role::Docs),
            finding("c", Severity::High, Role::Example),
        ];
        assert_eq!(score(&f), (4, Verdict::Clean));
    }

    #[test]
    fn a_rule_counts_at_most_twice() {
        let once = [finding("a", Severity::High, Role::Install)];
        let many: Vec<Finding> = (0..50).map(|_| once[0].clone()).collect();
        assert_eq!(score(&many), (12, Verdict::Suspicious));
    }

    #[test]
    fn the_strongest_findings_of_a_rule_count() {
        let f = [
            finding("a", Severity::High, Role::Test),
            finding("a", Severity::High, Role::Install),
            finding("a", Severity::High, Role::Import),
        ];
        // 8 + 6.4 / 2 = 11.2
        assert_eq!(score(&f).0, 11);
    }

    #[test]
    fn different_rules_add_up() {
        let f = [
            finding("a", Severity::High, Role::Install),
            finding("b", Severity::High, Role::Import),
            finding("c", Severity::Medium, Role::Other),
        ];
        // 8 + 6.4 + 1.5 = 15.9
        assert_eq!(score(&f), (16, Verdict::Suspicious));
    }

    #[test]
    fn custom_weights_replace_the_defaults() {
        let f = [finding("a", Severity::High, Role::Test)];
        assert_eq!(score_with(&f, |_| 100), (8, Verdict::Suspicious));
    }

    #[test]
    fn thresholds_are_inclusive() {
        assert_eq!(verdict_for(SUSPICIOUS_SCORE - 1), Verdict::Clean);
        assert_eq!(verdict_for(SUSPICIOUS_SCORE), Verdict::Suspicious);
        assert_eq!(verdict_for(MALICIOUS_SCORE), Verdict::Malicious);
    }
}
