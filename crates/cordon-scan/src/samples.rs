//! Checking rules against their own samples.
//!
//! Every rule file can carry `[[rule.test]]` samples: code the rule must
//! find something in, and near misses it must stay quiet on. The test
//! suite runs the built-in pack's samples, and `cordon` can run a user's.

use std::fmt;

use crate::engine::Engine;
use crate::rule::Rule;
use crate::scan::ScanFile;

/// A sample that did not behave as its rule says it should.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SampleFailure {
    /// The rule's id.
    pub rule: String,
    /// The 0-based index of the sample among the rule's samples.
    pub sample: usize,
    /// Whether the sample should have matched.
    pub expect_match: bool,
    /// How many findings of the rule the sample produced.
    pub findings: usize,
}

impl fmt::Display for SampleFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let expected = if self.expect_match { "a finding" } else { "none" };
        write!(
            f,
            "sample {} of rule `{}` expected {expected} but got {} finding(s)",
            self.sample + 1,
            self.rule,
            self.findings
        )
    }
}

impl Engine {
    /// Scans every rule's samples and returns those that did not behave:
    /// a `match` sample without a finding of its rule, or a `clean`
    /// sample with one.
    pub fn check_samples(&self) -> Vec<SampleFailure> {
        self.rules().iter().flat_map(|rule| self.check_rule(rule)).collect()
    }

    fn check_rule(&self, rule: &Rule) -> Vec<SampleFailure> {
        let mut failures = Vec::new();
        for (index, sample) in rule.tests.iter().enumerate() {
            let file = ScanFile {
                path: &sample.path,
                language: sample.language,
                role: sample.role,
                data: sample.code.as_bytes(),
            };
            let findings = self.scan_files(&[file]);
            let count = findings.iter().filter(|f| f.rule == rule.id).count();
            if (count > 0) != sample.expect_match {
                failures.push(SampleFailure {
                    rule: rule.id.clone(),
                    sample: index,
                    expect_match: sample.expect_match,
                    findings: count,
                });
            }
        }
        failures
    }
}

#[cfg(test)]
mod tests {
    use crate::rule::RuleSource;

    use super::*;

    const RULE: &str = r#"
[[rule]]
id = "t-literal"
severity = "low"
summary = "s"
help = "h"
languages = "any"
[rule.match]
kind = "literal"
patterns = ["needle"]
[[rule.test]]
expect = "match"
code = "a needle"
[[rule.test]]
expect = "match"
code = "no neeedle"
[[rule.test]]
expect = "clean"
code = "a needle again"
"#;

    #[test]
    fn misbehaving_samples_are_reported() {
        let engine = Engine::new(&[RuleSource::new("t.toml", RULE)]).unwrap();
        let failures = engine.check_samples();
        let indices: Vec<usize> = failures.iter().map(|f| f.sample).collect();
        assert_eq!(indices, vec![1, 2]);
        let text = failures[0].to_string();
        assert!(text.contains("sample 2 of rule `t-literal`"), "{text}");
    }
}
