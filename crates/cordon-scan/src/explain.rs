//! One sentence that says why a package got its verdict.
//!
//! The file whose findings weigh most is named, with when its code runs,
//! followed by the messages of its strongest findings from different
//! rules, strongest first: "setup.py, at install time: `exec` runs code
//! that is decoded first; install-time code calls `urlopen`". Several
//! behaviours in one file that runs at install or import time are what
//! make an attack chain, so that file speaks for the package.

use std::collections::HashMap;

use cordon_report::{Finding, Role};

use crate::score::severity_points;

/// How many findings of the heaviest file the sentence names.
const MAX_REASONS: usize = 3;

/// The sentence for `findings`, each weighing `weight(finding)` percent;
/// `None` when nothing weighs anything.
pub fn explain(
    findings: &[Finding],
    weight: impl Fn(&Finding) -> u32,
) -> Option<String> {
    let points = |f: &Finding| {
        u64::from(severity_points(f.severity)) * u64::from(weight(f))
    };

    let mut by_file: HashMap<&str, u64> = HashMap::new();
    for finding in findings {
        *by_file.entry(finding.path.as_str()).or_default() += points(finding);
    }
    let (path, total) =
        by_file.into_iter().max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))?;
    if total == 0 {
        return None;
    }

    let mut own: Vec<&Finding> =
        findings.iter().filter(|f| f.path == path).collect();
    own.sort_by_key(|f| std::cmp::Reverse(points(f)));
    let mut rules = Vec::new();
    let mut reasons = Vec::new();
    for finding in own {
        if reasons.len() == MAX_REASONS || points(finding) == 0 {
            break;
        }
        if !rules.contains(&finding.rule.as_str()) {
            rules.push(finding.rule.as_str());
            reasons.push(finding.message.as_str());
        }
    }
    let role = own_role(findings, path);
    Some(format!("{path}{}: {}", when(role), reasons.join("; ")))
}

/// The role of the file at `path`, from any of its findings.
fn own_role(findings: &[Finding], path: &str) -> Role {
    findings.iter().find(|f| f.path == path).map_or(Role::Other, |f| f.role)
}

/// When code of `role` runs, as words after the file's name.
fn when(role: Role) -> &'static str {
    match role {
        Role::Install => ", at install time",
        Role::Import => ", at import time",
        Role::Other => "",
        Role::Test => ", a test",
        Role::Docs => ", documentation",
        Role::Example => ", an example",
        Role::Tooling => ", the project's tooling",
    }
}

#[cfg(test)]
mod tests {
    use cordon_report::Severity;

    use super::*;

    fn finding(rule: &str, severity: Severity, path: &str) -> Finding {
        Finding {
            rule: rule.into(),
            severity,
            path: path.into(),
            line: 1,
            column: 1,
            message: format!("{rule} happens"),
            snippet: String::new(),
            snippet_column: 0,
            role: if path == "setup.py" { Role::Install } else { Role::Other },
        }
    }

    #[test]
    fn the_heaviest_file_speaks_with_its_strongest_findings() {
        let findings = [
            finding("a", Severity::Medium, "pkg/util.py"),
            finding("b", Severity::High, "setup.py"),
            finding("c", Severity::Critical, "setup.py"),
            finding("c", Severity::Critical, "setup.py"),
            finding("d", Severity::Low, "setup.py"),
        ];

        let text = explain(&findings, |_| 100).unwrap();

        assert_eq!(
            text,
            "setup.py, at install time: c happens; b happens; d happens"
        );
    }

    #[test]
    fn nothing_to_say_without_weight() {
        let findings = [finding("a", Severity::Info, "setup.py")];
        assert_eq!(explain(&findings, |_| 100), None);
        assert_eq!(explain(&[], |_| 100), None);
    }
}
