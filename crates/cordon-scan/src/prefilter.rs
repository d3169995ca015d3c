//! The literal prefilter: one Aho-Corasick automaton over the literals of
//! every rule, run once per file.
//!
//! Each rule that can be prefiltered names literals of which at least one
//! must occur in a file for the rule to possibly match: the strings of a
//! literal rule, the `requires` of a regex or query rule, or literals
//! derived from a regex. One pass of the automaton over a file tells
//! which rules are worth running; regexes and tree-sitter queries run
//! only for those. The automaton ignores ASCII case, which makes a hit a
//! necessary condition for case-sensitive and case-insensitive rules
//! alike; the rules' own matchers then decide.
//!
//! Rules without literals are "unfiltered" and always run.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex_syntax::hir::literal::{ExtractKind, Extractor};

use crate::error::Error;

/// Derived literals shorter than this are not selective enough to be
/// worth a prefilter: the rule runs on every file instead.
const MIN_DERIVED_LEN: usize = 3;

/// Which rules passed the prefilter for one file, by rule index.
pub(crate) struct Passed(Vec<bool>);

impl Passed {
    /// Whether rule `index` may match the file.
    pub(crate) fn contains(&self, index: usize) -> bool {
        self.0.get(index).copied().unwrap_or(false)
    }
}

/// The automaton and the rules behind each of its patterns.
pub(crate) struct Prefilter {
    automaton: AhoCorasick,
    /// For each automaton pattern, the rules that listed it.
    rules_of_pattern: Vec<Vec<usize>>,
    /// For each rule, whether it runs without a literal hit.
    unfiltered: Vec<bool>,
}

impl Prefilter {
    /// Builds the prefilter; `literals[i]` are the literals of rule `i`,
    /// `None` for a rule that is not prefiltered.
    pub(crate) fn new(
        literals: &[Option<Vec<Vec<u8>>>],
    ) -> Result<Prefilter, Error> {
        let mut index: HashMap<Vec<u8>, usize> = HashMap::new();
        let mut patterns: Vec<Vec<u8>> = Vec::new();
        let mut rules_of_pattern: Vec<Vec<usize>> = Vec::new();
        for (rule, list) in literals.iter().enumerate() {
            for literal in list.iter().flatten() {
                let key = literal.to_ascii_lowercase();
                let id = *index.entry(key.clone()).or_insert_with(|| {
                    patterns.push(key);
                    rules_of_pattern.push(Vec::new());
                    patterns.len() - 1
                });
                rules_of_pattern[id].push(rule);
            }
        }

        let automaton = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(&patterns)
            .map_err(|source| Error::Prefilter {
                literals: patterns.len(),
                source,
            })?;
        let unfiltered = literals.iter().map(Option::is_none).collect();
        Ok(Prefilter { automaton, rules_of_pattern, unfiltered })
    }

    /// How many distinct literals the automaton looks for.
    pub(crate) fn literal_count(&self) -> usize {
        self.rules_of_pattern.len()
    }

    /// Reads `data` once and says which rules may match it.
    pub(crate) fn run(&self, data: &[u8]) -> Passed {
        let mut passed = self.unfiltered.clone();
        if self.rules_of_pattern.is_empty() {
            return Passed(passed);
        }
        let mut seen = vec![false; self.rules_of_pattern.len()];
        // Overlapping search, so that a literal inside a longer one
        // (`open` in `urlopen`) is seen too.
        for hit in self.automaton.find_overlapping_iter(data) {
            let id = hit.pattern().as_usize();
            if std::mem::replace(&mut seen[id], true) {
                continue;
            }
            for &rule in &self.rules_of_pattern[id] {
                passed[rule] = true;
            }
        }
        Passed(passed)
    }
}

/// Literals one of which must occur wherever one of `patterns` matches,
/// or `None` when the patterns do not have selective enough ones.
///
/// With `all` set every pattern must match, so the literals of any one
/// pattern will do; we take the first pattern that has some.
pub(crate) fn derive_literals(
    patterns: &[String],
    all: bool,
) -> Option<Vec<Vec<u8>>> {
    let per_pattern: Vec<Option<Vec<Vec<u8>>>> =
        patterns.iter().map(|p| derive_one(p)).collect();
    if all {
        return per_pattern.into_iter().flatten().next();
    }
    let mut union = Vec::new();
    for literals in per_pattern {
        union.extend(literals?);
    }
    union.sort();
    union.dedup();
    Some(union)
}

fn derive_one(pattern: &str) -> Option<Vec<Vec<u8>>> {
    let hir = regex_syntax::ParserBuilder::new()
        .utf8(false)
        .build()
        .parse(pattern)
        .ok()?;
    let mut extractor = Extractor::new();
    extractor.kind(ExtractKind::Prefix).limit_total(64);
    let seq = extractor.extract(&hir);
    let literals = seq.literals()?;
    let mut out: Vec<Vec<u8>> =
        literals.iter().map(|l| l.as_bytes().to_ascii_lowercase()).collect();
    if out.is_empty() || out.iter().any(|l| l.len() < MIN_DERIVED_LEN) {
        return None;
    }
    out.sort();
    out.dedup();
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lits(list: &[&str]) -> Option<Vec<Vec<u8>>> {
        Some(list.iter().map(|s| s.as_bytes().to_vec()).collect())
    }

    #[test]
    fn rules_pass_only_when_one_of_their_literals_occurs() {
        let pre = Prefilter::new(&[lits(&["exec"]), lits(&["urlopen"]), None])
            .unwrap();
        let passed = pre.run(b"x = EXEC(1)");
        assert!(passed.contains(0));
        assert!(!passed.contains(1));
        assert!(passed.contains(2), "unfiltered rules always pass");
    }

    #[test]
    fn overlapping_literals_are_all_seen() {
        let pre =
            Prefilter::new(&[lits(&["urlopen"]), lits(&["open"])]).unwrap();
        let passed = pre.run(b"urllib.request.urlopen(u)");
        assert!(passed.contains(0) && passed.contains(1));
    }

    #[test]
    fn shared_literals_serve_every_rule_that_lists_them() {
        let pre = Prefilter::new(&[lits(&["Exec"]), lits(&["exec"])]).unwrap();
        assert_eq!(pre.literal_count(), 1);
        let passed = pre.run(b"exec");
        assert!(passed.contains(0) && passed.contains(1));
    }

    #[test]
    fn literals_are_derived_from_regex_prefixes() {
        let derived = derive_literals(
            &[r"(?i)discord(app)?\.com/api/webhooks".into()],
            false,
        )
        .unwrap();
        // Unicode case folding (`s` also matches `ſ`) makes a few
        // variants; all are prefixes of the word.
        assert!(derived.iter().all(|l| l.starts_with(b"di")), "{derived:?}");
        assert!(derived.contains(&b"disco".to_vec()), "{derived:?}");
        let derived =
            derive_literals(&[r"(curl|wget)\s+\S+".into()], false).unwrap();
        assert_eq!(derived, vec![b"curl".to_vec(), b"wget".to_vec()]);
    }

    #[test]
    fn unselective_regexes_are_not_prefiltered() {
        assert_eq!(derive_literals(&[r"\w+\(".into()], false), None);
        assert_eq!(derive_literals(&[r"ab.*".into()], false), None);
        assert_eq!(
            derive_literals(&["abcd".into(), r".*".into()], false),
            None
        );
    }

    #[test]
    fn all_mode_needs_the_literals_of_only_one_pattern() {
        let derived = derive_literals(&[r".*".into(), "abcd".into()], true);
        assert_eq!(derived, lits(&["abcd"]));
    }
}
