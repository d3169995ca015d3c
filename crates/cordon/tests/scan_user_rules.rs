//! The user's own rules through the binary: YARA rules (`--yara`) and
//! rule files in cordon's format (`--rules`), from flags and from
//! `cordon.toml`, their findings, suppressions, errors, and the scan
//! cache's fingerprint of them.
//!
//! Every package here is built by the test in its own directory.

mod support;

use std::path::Path;

use serde_json::Value;
use support::{Run, cordon};

/// A string planted in the fixture package, on line 3 of its module.
const MARKER: &str = "cordon-user-rule-marker-7f3a";

/// The module holding the marker.
fn module(marker: &str) -> String {
    format!("import os\n\nTOKEN = \"{marker}\"\n\ndef f():\n    return 1\n")
}

/// A small honest package with the marker in `pkg/helper.py`, written
/// under `dir/name`; returns the directory's name.
fn package_dir(dir: &Path, name: &str, marker: &str) -> String {
    let root = dir.join(name);
    std::fs::create_dir_all(root.join("pkg")).unwrap();
    std::fs::write(
        root.join("setup.py"),
        "from setuptools import setup\nsetup(name='p', version='1.0')\n",
    )
    .unwrap();
    std::fs::write(root.join("pkg/__init__.py"), "").unwrap();
    std::fs::write(root.join("pkg/helper.py"), module(marker)).unwrap();
    name.to_string()
}

/// A scratch directory holding the marked package `p`, and the rule
/// files a test writes beside it.
struct Fixture {
    dir: tempfile::TempDir,
    /// The package's name in the directory, the scan target.
    target: String,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let target = package_dir(dir.path(), "p", MARKER);
        Fixture { dir, target }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `data` to `name` in the directory, making its parents.
    fn write(&self, name: &str, data: impl AsRef<[u8]>) {
        let path = self.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, data).unwrap();
    }
}

/// A YARA rule that looks for `needle`.
fn yara_rule(name: &str, severity: &str, needle: &str) -> String {
    format!(
        "rule {name} {{\n    meta:\n        severity = \"{severity}\"\n        \
         description = \"plants the test marker\"\n    strings:\n        \
         $m = \"{needle}\"\n    condition:\n        $m\n}}\n"
    )
}

/// A rule in cordon's format, with id `id`, that looks for `needle`.
fn toml_rule(id: &str, needle: &str) -> String {
    format!(
        "[[rule]]\nid = \"{id}\"\nseverity = \"high\"\n\
         summary = \"the test marker\"\nhelp = \"A rule of the test.\"\n\
         languages = \"any\"\n\n[rule.match]\nkind = \"literal\"\n\
         patterns = [\"{needle}\"]\n"
    )
}

/// `cordon scan --format json --no-cache` with `flags`, in `dir`.
fn scan(dir: &Path, flags: &[&str]) -> Run {
    let mut args = vec!["scan", "--format", "json", "--no-cache"];
    args.extend_from_slice(flags);
    cordon(dir, &args)
}

/// The findings of the only package of a JSON report.
fn findings(run: &Run) -> Vec<Value> {
    let report = run.json();
    let package = &report["packages"][0];
    assert!(package["error"].is_null(), "{run}");
    package["findings"].as_array().cloned().unwrap_or_default()
}

/// The findings of rule `code`.
fn of_rule(run: &Run, code: &str) -> Vec<Value> {
    findings(run).into_iter().filter(|f| f["rule"] == code).collect()
}

#[cfg(feature = "yara")]
mod yara {
    use support::{Entry, gzip, tar};

    use super::*;

    /// The same package as a `.tar.gz` under `dir`; returns its name.
    fn package_tgz(dir: &Path) -> String {
        let setup = b"from setuptools import setup\nsetup(name='p')\n";
        let helper = module(MARKER);
        let archive = gzip(&tar(&[
            Entry::File(b"p-1.0/setup.py", setup),
            Entry::File(b"p-1.0/pkg/helper.py", helper.as_bytes()),
        ]));
        std::fs::write(dir.join("p-1.0.tar.gz"), archive).unwrap();
        "p-1.0.tar.gz".to_string()
    }

    #[test]
    fn a_yara_match_in_a_directory_is_a_finding() {
        let fx = Fixture::new();
        let (dir, target) = (fx.path(), fx.target.clone());
        fx.write("m.yar", yara_rule("planted", "high", MARKER));

        let run = scan(dir, &["--yara", "m.yar", &target]);

        let found = of_rule(&run, "yara:planted");
        assert_eq!(found.len(), 1, "{run}");
        let f = &found[0];
        assert_eq!(f["severity"], "high", "{run}");
        assert!(
            f["path"].as_str().unwrap().ends_with("pkg/helper.py"),
            "{run}"
        );
        assert_eq!(f["line"], 3, "{run}");
        assert_eq!(f["message"], "plants the test marker", "{run}");
        assert!(f["snippet"].as_str().unwrap().contains(MARKER), "{run}");
    }

    #[test]
    fn a_yara_match_inside_an_archive_is_a_finding() {
        let fx = Fixture::new();
        let dir = fx.path();
        let target = package_tgz(dir);
        fx.write("m.yar", yara_rule("planted", "low", MARKER));

        let run = scan(dir, &["--yara", "m.yar", &target]);

        let found = of_rule(&run, "yara:planted");
        assert_eq!(found.len(), 1, "{run}");
        assert_eq!(found[0]["path"], "p-1.0/pkg/helper.py", "{run}");
        assert_eq!(found[0]["line"], 3, "{run}");
        assert_eq!(found[0]["severity"], "low", "{run}");
    }

    #[test]
    fn a_near_miss_gives_no_finding() {
        let fx = Fixture::new();
        let dir = fx.path();
        let near = MARKER.replace("7f3a", "7f3b");
        let target = package_dir(dir, "near", &near);
        fx.write("m.yar", yara_rule("planted", "high", MARKER));

        let run = scan(dir, &["--yara", "m.yar", &target]);

        assert_eq!(run.code, Some(0), "{run}");
        let yara: Vec<_> = findings(&run)
            .into_iter()
            .filter(|f| f["rule"].as_str().unwrap().starts_with("yara:"))
            .collect();
        assert!(yara.is_empty(), "{run}");
    }

    #[test]
    fn a_yara_finding_counts_toward_the_verdict() {
        let fx = Fixture::new();
        let (dir, target) = (fx.path(), fx.target.clone());
        fx.write("m.yar", yara_rule("planted", "critical", "setup(name="));

        let plain = scan(dir, &[&target]);
        let with = scan(dir, &["--yara", "m.yar", &target]);

        assert_eq!(plain.code, Some(0), "{plain}");
        assert_eq!(plain.json()["packages"][0]["verdict"], "clean");
        assert_eq!(with.code, Some(1), "{with}");
        assert_eq!(with.json()["packages"][0]["verdict"], "malicious");
    }

    #[test]
    fn a_syntax_error_names_the_file_and_line_before_scanning() {
        let fx = Fixture::new();
        let (dir, target) = (fx.path(), fx.target.clone());
        let broken = "rule ok { condition: true }\n\nrule bad {\n    \
            strings:\n        $a = \"x\"\n    condition:\n        $a and\n}\n";
        fx.write("broken.yar", broken);

        let run = scan(dir, &["--yara", "broken.yar", &target]);

        assert_eq!(run.code, Some(2), "{run}");
        assert!(run.stdout.is_empty(), "{run}");
        assert!(run.stderr.contains("broken.yar"), "{run}");
        assert!(run.stderr.contains("at line 8"), "{run}");
    }

    #[test]
    fn a_bad_severity_names_the_rule() {
        let fx = Fixture::new();
        let (dir, target) = (fx.path(), fx.target.clone());
        fx.write("m.yar", yara_rule("planted", "dire", MARKER));

        let run = scan(dir, &["--yara", "m.yar", &target]);

        assert_eq!(run.code, Some(2), "{run}");
        assert!(run.stderr.contains("planted"), "{run}");
        assert!(run.stderr.contains("dire"), "{run}");
        assert!(run.stderr.contains("m.yar"), "{run}");
    }

    #[test]
    fn a_directory_of_yara_rules_loads_each_file() {
        let fx = Fixture::new();
        let (dir, target) = (fx.path(), fx.target.clone());
        let rules = dir.join("rules");
        std::fs::create_dir(&rules).unwrap();
        std::fs::write(rules.join("a.yar"), yara_rule("one", "low", MARKER))
            .unwrap();
        std::fs::write(
            rules.join("b.yara"),
            yara_rule("two", "info", "import os"),
        )
        .unwrap();
        std::fs::write(rules.join("notes.txt"), "not a rule {").unwrap();

        let run = scan(dir, &["--yara", "rules", &target]);

        assert_eq!(of_rule(&run, "yara:one").len(), 1, "{run}");
        let two = of_rule(&run, "yara:two");
        assert_eq!(two.len(), 1, "{run}");
        assert_eq!(two[0]["line"], 1, "{run}");
    }

    #[test]
    fn the_same_rule_name_in_two_files_is_an_error() {
        let fx = Fixture::new();
        let (dir, target) = (fx.path(), fx.target.clone());
        fx.write("a.yar", yara_rule("x", "low", "a"));
        fx.write("b.yar", yara_rule("x", "low", "b"));

        let run = scan(dir, &["--yara", "a.yar", "--yara", "b.yar", &target]);

        assert_eq!(run.code, Some(2), "{run}");
        assert!(
            run.stderr.contains("a.yar") && run.stderr.contains("b.yar"),
            "{run}"
        );
    }

    #[test]
    fn ignore_suppresses_yara_findings() {
        let fx = Fixture::new();
        let (dir, target) = (fx.path(), fx.target.clone());
        fx.write("m.yar", yara_rule("planted", "critical", MARKER));

        let flag = scan(
            dir,
            &["--yara", "m.yar", "--ignore", "yara:planted", &target],
        );

        assert_eq!(flag.code, Some(0), "{flag}");
        assert!(of_rule(&flag, "yara:planted").is_empty(), "{flag}");
        assert_eq!(flag.json()["packages"][0]["suppressed"], 1, "{flag}");

        fx.write(
            "cordon.toml",
            "[[scan.ignore]]\nrule = \"yara:planted\"\n\
             path = \"**/helper.py\"\nreason = \"the test's own marker\"\n",
        );
        let config = scan(dir, &["--yara", "m.yar", &target]);
        assert_eq!(config.code, Some(0), "{config}");
        assert!(of_rule(&config, "yara:planted").is_empty(), "{config}");
    }

    #[test]
    fn ignoring_an_unknown_yara_rule_is_an_error() {
        let fx = Fixture::new();
        let (dir, target) = (fx.path(), fx.target.clone());
        fx.write("m.yar", yara_rule("planted", "high", MARKER));

        let run =
            scan(dir, &["--yara", "m.yar", "--ignore", "yara:nope", &target]);

        assert_eq!(run.code, Some(2), "{run}");
        assert!(run.stderr.contains("yara:nope"), "{run}");
    }

    #[test]
    fn cordon_toml_can_name_yara_rules() {
        let fx = Fixture::new();
        let (dir, target) = (fx.path(), fx.target.clone());
        std::fs::create_dir(dir.join("policy")).unwrap();
        fx.write("policy/m.yar", yara_rule("planted", "high", MARKER));
        fx.write("policy/cordon.toml", "[scan]\nyara = [\"m.yar\"]\n");

        let run = scan(dir, &["--config", "policy/cordon.toml", &target]);

        assert_eq!(of_rule(&run, "yara:planted").len(), 1, "{run}");
    }

    #[test]
    fn a_changed_yara_file_is_never_served_from_the_cache() {
        let fx = Fixture::new();
        let (dir, target) = (fx.path(), fx.target.clone());
        let rule = dir.join("m.yar");
        let cache = dir.join("cache").display().to_string();
        let run = || {
            let args = [
                "scan",
                "--format",
                "json",
                "--debug",
                "--cache-dir",
                &cache,
                "--yara",
                "m.yar",
                &target,
            ];
            cordon(dir, &args)
        };

        std::fs::write(&rule, yara_rule("planted", "high", MARKER)).unwrap();
        let first = run();
        let again = run();
        std::fs::write(&rule, yara_rule("planted", "high", "no-such-text"))
            .unwrap();
        let changed = run();

        assert_eq!(of_rule(&first, "yara:planted").len(), 1, "{first}");
        assert!(again.stderr.contains("1 hits"), "{again}");
        assert_eq!(of_rule(&again, "yara:planted").len(), 1, "{again}");
        assert!(changed.stderr.contains("0 hits"), "{changed}");
        assert!(of_rule(&changed, "yara:planted").is_empty(), "{changed}");
    }
}

#[cfg(not(feature = "yara"))]
#[test]
fn yara_without_the_feature_is_a_clear_error() {
    let fx = Fixture::new();
    let (dir, target) = (fx.path(), fx.target.clone());
    fx.write("m.yar", yara_rule("p", "high", MARKER));

    let run = scan(dir, &["--yara", "m.yar", &target]);

    assert_eq!(run.code, Some(2), "{run}");
    assert!(run.stderr.contains("no YARA support"), "{run}");
}

#[test]
fn a_rule_file_in_cordons_format_adds_rules() {
    let fx = Fixture::new();
    let (dir, target) = (fx.path(), fx.target.clone());
    fx.write("mine.toml", toml_rule("user-marker", MARKER));

    let run = scan(dir, &["--rules", "mine.toml", &target]);

    let found = of_rule(&run, "user-marker");
    assert_eq!(found.len(), 1, "{run}");
    assert_eq!(found[0]["severity"], "high", "{run}");
    assert_eq!(found[0]["line"], 3, "{run}");
    let near = scan(dir, &[&target]);
    assert!(of_rule(&near, "user-marker").is_empty(), "{near}");
}

#[test]
fn a_directory_of_rule_files_and_ignore_work_together() {
    let fx = Fixture::new();
    let (dir, target) = (fx.path(), fx.target.clone());
    let rules = dir.join("rules");
    std::fs::create_dir(&rules).unwrap();
    std::fs::write(rules.join("a.toml"), toml_rule("user-a", MARKER)).unwrap();
    std::fs::write(rules.join("b.toml"), toml_rule("user-b", "import os"))
        .unwrap();

    let run = scan(dir, &["--rules", "rules", "--ignore", "user-b", &target]);

    assert_eq!(of_rule(&run, "user-a").len(), 1, "{run}");
    assert!(of_rule(&run, "user-b").is_empty(), "{run}");
    assert_eq!(run.json()["packages"][0]["suppressed"], 1, "{run}");
}

#[test]
fn a_rule_id_of_the_builtin_pack_is_refused() {
    let fx = Fixture::new();
    let (dir, target) = (fx.path(), fx.target.clone());
    fx.write("mine.toml", toml_rule("py-exec-decoded", MARKER));

    let run = scan(dir, &["--rules", "mine.toml", &target]);

    assert_eq!(run.code, Some(2), "{run}");
    assert!(run.stdout.is_empty(), "{run}");
    assert!(run.stderr.contains("mine.toml"), "{run}");
    assert!(run.stderr.contains("py-exec-decoded"), "{run}");
}

#[test]
fn a_broken_rule_file_names_the_file() {
    let fx = Fixture::new();
    let (dir, target) = (fx.path(), fx.target.clone());
    let broken = toml_rule("user-x", MARKER).replace("literal", "nonsense");
    fx.write("broken.toml", broken);

    let run = scan(dir, &["--rules", "broken.toml", &target]);

    assert_eq!(run.code, Some(2), "{run}");
    assert!(run.stderr.contains("broken.toml"), "{run}");
}

#[test]
fn a_changed_rule_file_is_never_served_from_the_cache() {
    let fx = Fixture::new();
    let (dir, target) = (fx.path(), fx.target.clone());
    let rule = dir.join("mine.toml");
    let cache = dir.join("cache").display().to_string();
    let run = || {
        let args = [
            "scan",
            "--format",
            "json",
            "--debug",
            "--cache-dir",
            &cache,
            "--rules",
            "mine.toml",
            &target,
        ];
        cordon(dir, &args)
    };

    std::fs::write(&rule, toml_rule("user-marker", MARKER)).unwrap();
    let first = run();
    let again = run();
    std::fs::write(&rule, toml_rule("user-marker", "no-such-text")).unwrap();
    let changed = run();

    assert_eq!(of_rule(&first, "user-marker").len(), 1, "{first}");
    assert!(again.stderr.contains("1 hits"), "{again}");
    assert!(changed.stderr.contains("0 hits"), "{changed}");
    assert!(of_rule(&changed, "user-marker").is_empty(), "{changed}");
}
