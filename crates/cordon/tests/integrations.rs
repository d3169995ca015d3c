//! What cordon offers besides its commands: shell completions and the
//! man page generated from the command-line definition, the version
//! line that names the rule pack, and the GitHub Action and pre-commit
//! hook definitions at the root of the repository.

mod support;

use std::fs;
use std::path::{Path, PathBuf};

use serde_yaml_ng::Value;
use support::cordon;

/// The repository's root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn bash_completion_offers_the_subcommands_and_their_flags() {
    let run = cordon(&root(), &["completions", "bash"]);
    assert_eq!(run.code, Some(0), "{run}");
    for word in ["scan", "run", "diff", "rules", "--format", "--fail-on"] {
        assert!(run.stdout.contains(word), "no {word} in:\n{run}");
    }
    assert!(run.stdout.contains("complete -F"), "not a bash script");
}

#[test]
fn every_shell_gets_a_script() {
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let run = cordon(&root(), &["completions", shell]);
        assert_eq!(run.code, Some(0), "{run}");
        assert!(run.stdout.contains("cordon"), "{run}");
    }
    let run = cordon(&root(), &["completions", "tcsh"]);
    assert_eq!(run.code, Some(2), "an unknown shell is a usage error");
}

#[test]
fn the_man_page_covers_every_subcommand_and_its_options() {
    let run = cordon(&root(), &["manpage"]);
    assert_eq!(run.code, Some(0), "{run}");
    let page = &run.stdout;
    assert!(page.starts_with(".ie") || page.contains(".TH cordon"), "{run}");
    // roff writes a dash as `\-`.
    for expected in [
        ".SH \"CORDON SCAN\"",
        ".SH \"CORDON RUN\"",
        ".SH \"CORDON DIFF\"",
        "\\-\\-format",
        "\\-\\-fail\\-on",
        "\\-\\-memory",
        "\\-\\-html",
        "\\-\\-debug",
        "Exit codes:",
    ] {
        assert!(page.contains(expected), "no {expected} in the page");
    }
}

#[test]
fn the_man_pages_can_be_written_one_per_command() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let run = cordon(&root(), &["manpage", "--dir", out]);
    assert_eq!(run.code, Some(0), "{run}");
    for name in ["cordon.1", "cordon-scan.1", "cordon-run.1", "cordon-diff.1"]
    {
        let page = fs::read_to_string(dir.path().join(name))
            .unwrap_or_else(|e| panic!("no {name}: {e}"));
        assert!(page.contains(".TH"), "{name} has no title");
    }
    let scan = fs::read_to_string(dir.path().join("cordon-scan.1")).unwrap();
    assert!(scan.contains("\\-\\-min\\-severity"), "{scan}");
}

#[test]
fn the_version_names_the_rule_pack() {
    let run = cordon(&root(), &["--version"]);
    assert_eq!(run.code, Some(0), "{run}");
    let line = run.stdout.trim();
    let version = env!("CARGO_PKG_VERSION");
    let rest = line
        .strip_prefix(&format!("cordon {version} (rule pack "))
        .unwrap_or_else(|| panic!("unexpected version line: {line}"));
    let (digest, count) = rest.split_once(", ").expect("digest, count");
    assert_eq!(digest.len(), 12, "{line}");
    assert!(digest.bytes().all(|b| b.is_ascii_hexdigit()), "{line}");
    let count: usize = count
        .strip_suffix(" rules)")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no rule count: {line}"));

    // The count is that of the rules `cordon rules list` shows.
    let list = cordon(&root(), &["rules", "list"]);
    assert_eq!(count, list.stdout.lines().count(), "{line}\n{list}");

    let sub = cordon(&root(), &["scan", "--version"]);
    assert_eq!(sub.stdout.trim(), line.replace("cordon", "cordon-scan"));
}

fn yaml(path: &str) -> Value {
    let text = fs::read_to_string(root().join(path))
        .unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    serde_yaml_ng::from_str(&text)
        .unwrap_or_else(|e| panic!("{path} is not YAML: {e}"))
}

/// The lockfile pattern names every lockfile cordon reads.
fn covers_every_lockfile(pattern: &str) {
    for name in cordon_registry::lockfile::FILE_NAMES {
        let escaped = name.replace('.', "\\.");
        assert!(pattern.contains(&escaped), "{name} missing in {pattern}");
    }
}

#[test]
fn the_github_action_scans_lockfiles_and_uploads_sarif() {
    let action = yaml("action.yml");
    assert!(action["name"].is_string());
    assert!(action["description"].is_string());
    assert_eq!(action["runs"]["using"], "composite");
    let steps = action["runs"]["steps"].as_sequence().expect("steps");

    let scripts: Vec<&str> =
        steps.iter().filter_map(|s| s["run"].as_str()).collect();
    for step in steps.iter().filter(|s| s["run"].is_string()) {
        assert!(step["shell"].is_string(), "a composite step needs a shell");
    }
    assert!(
        scripts.iter().any(|s| s.contains("cordon scan --format sarif")),
        "no step runs cordon scan --format sarif"
    );
    let upload = steps
        .iter()
        .find(|s| {
            s["uses"].as_str().is_some_and(|u| {
                u.starts_with("github/codeql-action/upload-sarif@")
            })
        })
        .expect("no upload-sarif step");
    assert!(upload["with"]["sarif_file"].is_string());
    let finder = scripts.iter().find(|s| s.contains("git diff")).unwrap();
    covers_every_lockfile(finder);

    // Inputs go through the environment: a `${{ inputs.* }}` inside a
    // script would let a crafted value run as shell code.
    for script in &scripts {
        assert!(!script.contains("${{"), "expression in a script: {script}");
    }
}

#[test]
fn the_pre_commit_hook_runs_cordon_scan_on_lockfiles() {
    let hooks = yaml(".pre-commit-hooks.yaml");
    let hooks = hooks.as_sequence().expect("a list of hooks");
    let hook = hooks
        .iter()
        .find(|h| h["id"] == "cordon-scan")
        .expect("no cordon-scan hook");
    for key in ["name", "entry", "language", "files"] {
        assert!(hook[key].is_string(), "the hook has no {key}");
    }
    assert_eq!(hook["entry"], "cordon scan");
    assert_eq!(hook["pass_filenames"], true);
    covers_every_lockfile(hook["files"].as_str().unwrap());
}
