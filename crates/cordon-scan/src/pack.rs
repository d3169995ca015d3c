//! The built-in rule pack: the files of `rules/` at the root of the
//! repository, compiled into the binary.
//!
//! The list is explicit so that a rule file is reviewed into the pack,
//! not picked up by accident; a test checks that every file of `rules/`
//! is listed.

use crate::rule::RuleSource;

/// Each built-in rule file: its path in the repository and its text.
const BUILTIN: &[(&str, &str)] = &[
    ("rules/python.toml", include_str!("../../../rules/python.toml")),
    ("rules/javascript.toml", include_str!("../../../rules/javascript.toml")),
    ("rules/shell.toml", include_str!("../../../rules/shell.toml")),
    ("rules/rust.toml", include_str!("../../../rules/rust.toml")),
    ("rules/generic.toml", include_str!("../../../rules/generic.toml")),
    ("rules/package.toml", include_str!("../../../rules/package.toml")),
    ("rules/metadata.toml", include_str!("../../../rules/metadata.toml")),
];

/// The built-in rule files, in a fixed order.
pub fn builtin_sources() -> Vec<RuleSource> {
    BUILTIN.iter().map(|(name, text)| RuleSource::new(*name, *text)).collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::path::Path;

    use super::*;
    use crate::engine::Engine;

    fn engine() -> Engine {
        Engine::builtin().unwrap()
    }

    #[test]
    fn the_builtin_pack_compiles_with_unique_ids() {
        // Every query for every grammar, as `Engine::builtin` would
        // compile them one by one.
        let engine = Engine::new(&builtin_sources()).unwrap();
        let ids: HashSet<&str> =
            engine.rules().iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids.len(), engine.rules().len());
        assert!(engine.rules().len() >= 10);
    }

    #[test]
    fn every_builtin_rule_is_documented() {
        for rule in engine().rules() {
            assert!(
                !rule.summary.trim().is_empty(),
                "{} has no summary",
                rule.id
            );
            assert!(rule.help.len() >= 80, "{} explains too little", rule.id);
        }
    }

    #[test]
    fn every_builtin_file_rule_has_a_match_and_a_near_miss() {
        for rule in engine().rules() {
            if !rule.reads_files() {
                continue;
            }
            let positive = rule.tests.iter().any(|t| t.expect_match);
            let negative = rule.tests.iter().any(|t| !t.expect_match);
            assert!(
                positive && negative,
                "{} needs both kinds of sample",
                rule.id
            );
        }
    }

    #[test]
    fn every_builtin_sample_behaves() {
        let failures = engine().check_samples();
        let text: Vec<String> =
            failures.iter().map(ToString::to_string).collect();
        assert!(text.is_empty(), "{}", text.join("\n"));
    }

    #[test]
    fn every_builtin_file_rule_is_prefiltered() {
        let engine = engine();
        for (index, rule) in engine.rules().iter().enumerate() {
            let filtered = engine.compiled(index).literals.is_some();
            assert!(
                !rule.reads_files() || filtered,
                "{} runs on every file",
                rule.id
            );
        }
    }

    #[test]
    fn every_rule_file_is_in_the_pack() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules");
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".toml"))
            .map(|name| format!("rules/{name}"))
            .collect();
        on_disk.sort();
        let mut listed: Vec<String> =
            BUILTIN.iter().map(|(n, _)| n.to_string()).collect();
        listed.sort();
        assert_eq!(on_disk, listed);
    }
}
