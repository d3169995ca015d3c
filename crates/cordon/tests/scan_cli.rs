//! The command line of `cordon scan` and `cordon rules`: formats,
//! output files, thresholds, colour and exit codes, on the example
//! packages shipped in the repository.

mod support;

use std::path::{Path, PathBuf};

use support::cordon;

/// The repository's root, where `examples/` lives.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

const MALICIOUS: &str = "examples/packages/pypi-setup-exec";

/// A package the built-in rules have nothing to say about.
fn honest_package(dir: &Path) -> String {
    let package = dir.join("honest");
    std::fs::create_dir_all(package.join("honest")).unwrap();
    std::fs::write(
        package.join("setup.py"),
        "from setuptools import setup\nsetup(name='honest')\n",
    )
    .unwrap();
    std::fs::write(package.join("honest/__init__.py"), "VERSION = 1\n")
        .unwrap();
    package.display().to_string()
}

#[test]
fn exit_codes_follow_the_fail_on_threshold() {
    let dir = tempfile::tempdir().unwrap();
    let honest = honest_package(dir.path());

    let clean = cordon(&root(), &["scan", &honest]);
    assert_eq!(clean.code, Some(0), "{clean}");
    let bad = cordon(&root(), &["scan", MALICIOUS]);
    assert_eq!(bad.code, Some(1), "{bad}");
    let lenient =
        cordon(&root(), &["scan", "--fail-on", "malicious", &honest]);
    assert_eq!(lenient.code, Some(0), "{lenient}");
    let usage = cordon(&root(), &["scan", "--fail-on", "sometimes", &honest]);
    assert_eq!(usage.code, Some(2), "{usage}");
    assert!(usage.stderr.contains("sometimes"), "{usage}");
}

#[test]
fn the_human_report_shows_the_snippet_and_the_verdict() {
    let run = cordon(&root(), &["scan", "--color", "never", MALICIOUS]);

    assert!(run.stdout.contains("critical[py-exec-decoded]"), "{run}");
    assert!(run.stdout.contains("--> setup.py:6:1 (install)"), "{run}");
    assert!(run.stdout.contains("6 | exec(base64.b64decode("), "{run}");
    assert!(run.stdout.contains(": malicious, score "), "{run}");
    assert!(!run.stdout.contains('\u{1b}'), "coloured without asking");
}

#[test]
fn colour_is_asked_for_or_refused() {
    let always = cordon(&root(), &["scan", "--color", "always", MALICIOUS]);
    assert!(always.stdout.contains("\u{1b}["), "{always}");

    // Not a terminal, so `auto` means plain text here.
    let auto = cordon(&root(), &["scan", MALICIOUS]);
    assert!(!auto.stdout.contains('\u{1b}'), "{auto}");
}

#[test]
fn json_follows_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let honest = honest_package(dir.path());
    let run =
        cordon(&root(), &["scan", "--format", "json", MALICIOUS, &honest]);

    let report = run.json();
    assert_eq!(report["version"], 1);
    let packages = report["packages"].as_array().unwrap();
    assert_eq!(packages.len(), 2);
    let bad = &packages[0];
    assert_eq!(bad["target"], MALICIOUS);
    assert_eq!(bad["ecosystem"], "pypi");
    assert_eq!(bad["name"], "colorsys-extra");
    assert_eq!(bad["version"], "0.1.0");
    assert_eq!(bad["verdict"], "malicious");
    assert!(bad["score"].as_u64().unwrap() >= 20);
    assert!(bad["error"].is_null());
    let finding = &bad["findings"][0];
    for key in ["rule", "severity", "path", "line", "message"] {
        assert!(!finding[key].is_null(), "finding without {key}: {finding}");
    }
    assert_eq!(packages[1]["target"], honest.as_str());
    assert_eq!(packages[1]["verdict"], "clean");
}

#[test]
fn sarif_names_rules_and_locations() {
    let run = cordon(&root(), &["scan", "--format", "sarif", MALICIOUS]);

    let log = run.json();
    assert_eq!(log["version"], "2.1.0");
    let sarif_run = &log["runs"][0];
    let rules = sarif_run["tool"]["driver"]["rules"].as_array().unwrap();
    assert!(rules.iter().any(|r| r["id"] == "py-exec-decoded"));
    let result = &sarif_run["results"][0];
    assert_eq!(result["ruleId"], "py-exec-decoded");
    let location = &result["locations"][0]["physicalLocation"];
    assert!(
        location["artifactLocation"]["uri"]
            .as_str()
            .unwrap()
            .ends_with("setup.py"),
        "{location}"
    );
    assert_eq!(location["region"]["startLine"], 6);
}

#[test]
fn output_goes_to_the_file_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.json");
    let out_arg = out.display().to_string();
    let args = ["scan", "--format", "json", "-o", &out_arg, MALICIOUS];
    let run = cordon(&root(), &args);

    assert_eq!(run.code, Some(1), "{run}");
    assert!(run.stdout.is_empty(), "{run}");
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(written["packages"][0]["verdict"], "malicious");

    let nowhere = "/nonexistent-dir/report.json";
    let failed = cordon(&root(), &["scan", "-o", nowhere, MALICIOUS]);
    assert_eq!(failed.code, Some(2), "{failed}");
    assert!(failed.stderr.contains(nowhere), "{failed}");
}

#[test]
fn min_severity_hides_findings_but_not_their_weight() {
    let args = ["scan", "--format", "json", "--min-severity", "critical"];
    let target = "examples/packages/npm-postinstall-exfil";
    let all = cordon(&root(), &["scan", "--format", "json", target]).json();
    let some = cordon(&root(), &[&args[..], &[target]].concat()).json();

    let all = &all["packages"][0];
    let some = &some["packages"][0];
    assert!(!all["findings"].as_array().unwrap().is_empty());
    let kept = some["findings"].as_array().unwrap();
    assert!(kept.iter().all(|f| f["severity"] == "critical"), "{some}");
    assert!(kept.len() < all["findings"].as_array().unwrap().len());
    assert_eq!(some["score"], all["score"]);
    assert_eq!(some["verdict"], all["verdict"]);
}

#[test]
fn help_documents_the_exit_codes() {
    let run = cordon(&root(), &["scan", "--help"]);
    assert_eq!(run.code, Some(0));
    assert!(run.stdout.contains("Exit codes:"), "{run}");
    assert!(run.stdout.contains("--fail-on"), "{run}");
}

#[test]
fn rules_are_listed_and_explained() {
    let list = cordon(&root(), &["rules", "list"]);
    assert_eq!(list.code, Some(0), "{list}");
    let line = list
        .stdout
        .lines()
        .find(|l| l.starts_with("py-exec-decoded "))
        .unwrap_or_else(|| panic!("rule not listed\n{list}"));
    assert!(line.contains("critical"), "{line}");

    let explain = cordon(&root(), &["rules", "explain", "py-exec-decoded"]);
    assert_eq!(explain.code, Some(0), "{explain}");
    assert!(explain.stdout.contains("Honest code has no reason"), "{explain}");

    let unknown = cordon(&root(), &["rules", "explain", "no-such-rule"]);
    assert_eq!(unknown.code, Some(2), "{unknown}");
    assert!(unknown.stderr.contains("no-such-rule"), "{unknown}");
}

#[test]
fn a_match_far_along_a_long_line_is_shown_under_its_caret() {
    let dir = tempfile::tempdir().unwrap();
    let line = format!(
        "{}exec(base64.b64decode('aGk=')){}\n",
        "x = 1; ".repeat(120),
        "; y = 2".repeat(50)
    );
    std::fs::write(dir.path().join("setup.py"), line).unwrap();

    let run = cordon(dir.path(), &["scan", "--color", "never", "."]);

    let lines: Vec<&str> = run.stdout.lines().collect();
    let code = lines.iter().position(|l| l.starts_with("1 | ")).unwrap();
    let carets = lines[code + 1];
    let at = carets.chars().position(|c| c == '^');
    let at = at.unwrap_or_else(|| panic!("no caret\n{run}"));
    let above: String = lines[code].chars().skip(at).take(5).collect();
    assert_eq!(above, "exec(", "{run}");
}

#[test]
fn suppressions_remove_findings_from_the_report_and_the_score() {
    let dir = tempfile::tempdir().unwrap();
    let package = root().join(MALICIOUS).display().to_string();
    let scan = |args: &[&str]| {
        let mut all = vec!["scan", "--format", "json"];
        all.extend_from_slice(args);
        all.push(&package);
        let run = cordon(dir.path(), &all);
        run.json()["packages"][0].clone()
    };
    let plain = scan(&[]);
    let rules = |p: &serde_json::Value| -> Vec<String> {
        let findings = p["findings"].as_array().unwrap();
        findings.iter().map(|f| f["rule"].as_str().unwrap().into()).collect()
    };
    assert!(rules(&plain).contains(&"py-exec-decoded".to_string()));

    let ignored = scan(&["--ignore", "py-exec-decoded"]);
    assert!(!rules(&ignored).contains(&"py-exec-decoded".to_string()));
    assert!(ignored["suppressed"].as_u64().unwrap() >= 1);
    assert!(ignored["score"].as_u64() < plain["score"].as_u64());

    std::fs::write(
        dir.path().join("cordon.toml"),
        "[[scan.ignore]]\nrule = \"py-exec-decoded\"\npath = \"setup.py\"\n\
         reason = \"the example package shows this on purpose\"\n",
    )
    .unwrap();
    let configured = scan(&[]);
    assert_eq!(rules(&configured), rules(&ignored));
    assert_eq!(configured["suppressed"], ignored["suppressed"]);
}

#[test]
fn a_broken_configuration_is_an_error_naming_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let honest = honest_package(dir.path());
    let config = dir.path().join("cordon.toml");
    std::fs::write(
        &config,
        "\n[[scan.ignore]]\nrule = \"no-such\"\nreason = \"x\"\n",
    )
    .unwrap();

    let run = cordon(dir.path(), &["scan", &honest]);

    assert_eq!(run.code, Some(2), "{run}");
    assert!(run.stderr.contains("cordon.toml"), "{run}");
    assert!(run.stderr.contains("line 3"), "{run}");
    let flag = cordon(&root(), &["scan", "--ignore", "no-such", &honest]);
    assert_eq!(flag.code, Some(2), "{flag}");
    assert!(flag.stderr.contains("no-such"), "{flag}");
}
