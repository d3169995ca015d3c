//! `cordon scan` on registry specs and lockfiles, against a fake
//! registry on loopback that serves packages the tests build.

#[path = "../../cordon-registry/tests/support/mod.rs"]
mod fake;
mod registry_support;
mod support;

use std::process::Command;

use cordon_registry::{Algorithm, Digest};
use fake::{FakeRegistry, Reply};
use registry_support::{
    entry, publish_crate, publish_npm, publish_pypi, scan,
};
use serde_json::{Value, json};

#[test]
fn registry_specs_are_fetched_and_scanned() {
    let registry = FakeRegistry::start();
    publish_npm(
        &registry,
        "@acme/pad",
        "1.0.0",
        &fake::npm_hostile("@acme/pad", "1.0.0"),
    );
    publish_npm(
        &registry,
        "honest",
        "2.0.0",
        &fake::npm_honest("honest", "2.0.0"),
    );
    publish_pypi(&registry, "evil", "1.0", &fake::sdist("evil", "1.0", true));
    publish_crate(&registry, "itoa", "1.0.11");
    let dir = tempfile::tempdir().unwrap();

    let targets = [
        "npm:@acme/pad@1.0.0",
        "npm:honest",
        "pypi:evil==1.0",
        "crates:itoa@1.0.11",
    ];
    let run = scan(dir.path(), &registry, &targets);
    assert_eq!(run.code, Some(1), "{run}");
    let report = run.json();
    let listed: Vec<&str> = report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["target"].as_str().unwrap())
        .collect();
    assert_eq!(listed, targets, "targets stay exactly as given");

    let npm = entry(&report, "npm:@acme/pad@1.0.0");
    assert_ne!(npm["verdict"], "clean", "{npm:#}");
    assert_eq!(npm["ecosystem"], "npm");
    assert!(npm["source"].is_null());
    assert_eq!(entry(&report, "npm:honest")["verdict"], "clean");
    assert_eq!(entry(&report, "npm:honest")["version"], "2.0.0");
    let pypi = entry(&report, "pypi:evil==1.0");
    assert_ne!(pypi["verdict"], "clean", "{pypi:#}");
    let rules: Vec<&str> = pypi["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["rule"].as_str())
        .collect();
    assert!(rules.contains(&"py-exec-decoded"), "{rules:?}");
    let crate_entry = entry(&report, "crates:itoa@1.0.11");
    assert_eq!(crate_entry["verdict"], "clean", "{crate_entry:#}");
    assert_eq!(crate_entry["name"], "itoa");
}

#[test]
fn a_failing_package_does_not_stop_the_batch() {
    let registry = FakeRegistry::start();
    publish_npm(
        &registry,
        "honest",
        "2.0.0",
        &fake::npm_honest("honest", "2.0.0"),
    );
    registry.route(
        "/tarballs/honest-2.0.0.tgz",
        vec![Reply::ok(b"tampered".to_vec())],
    );
    publish_npm(
        &registry,
        "fine",
        "1.0.0",
        &fake::npm_honest("fine", "1.0.0"),
    );
    let dir = tempfile::tempdir().unwrap();

    let run = scan(
        dir.path(),
        &registry,
        &[
            "npm:honest@2.0.0",
            "npm:missing@1.0.0",
            "npm:fine@1.0.0",
            "npm:bad name",
        ],
    );
    assert_eq!(run.code, Some(2), "{run}");
    let report = run.json();
    let tampered =
        entry(&report, "npm:honest@2.0.0")["error"].as_str().unwrap();
    assert!(tampered.contains("digest mismatch"), "{tampered}");
    let missing =
        entry(&report, "npm:missing@1.0.0")["error"].as_str().unwrap();
    assert!(
        missing.contains("no such package npm:missing@1.0.0"),
        "{missing}"
    );
    assert!(
        entry(&report, "npm:bad name")["error"]
            .as_str()
            .unwrap()
            .contains("invalid package spec")
    );
    assert_eq!(entry(&report, "npm:fine@1.0.0")["verdict"], "clean");
}

#[test]
fn a_lockfile_is_expanded_into_its_packages() {
    let registry = FakeRegistry::start();
    let hostile = fake::npm_hostile("evil-pad", "1.0.3");
    publish_npm(&registry, "evil-pad", "1.0.3", &hostile);
    publish_npm(
        &registry,
        "honest",
        "2.0.0",
        &fake::npm_honest("honest", "2.0.0"),
    );
    let dir = tempfile::tempdir().unwrap();
    let lock = json!({
        "name": "app", "lockfileVersion": 3,
        "packages": {
            "": {"name": "app"},
            "node_modules/honest": {"version": "2.0.0",
                "integrity": Digest::of(Algorithm::Sha512, b"another file").to_sri()},
            "node_modules/honest/node_modules/evil-pad": {"version": "1.0.3",
                "integrity": Digest::of(Algorithm::Sha512, &hostile).to_sri()},
            "node_modules/gone": {"version": "0.1.0"},
            "node_modules/local": {"link": true, "resolved": "packages/local"},
        },
    });
    std::fs::write(dir.path().join("package-lock.json"), lock.to_string())
        .unwrap();

    let run = scan(dir.path(), &registry, &["package-lock.json"]);
    assert_eq!(run.code, Some(1), "{run}");
    let report = run.json();
    assert_eq!(report["packages"].as_array().unwrap().len(), 3, "{report:#}");
    let evil = entry(&report, "npm:evil-pad@1.0.3");
    assert_ne!(evil["verdict"], "clean");
    assert_eq!(evil["source"], "package-lock.json, via honest");
    let honest = entry(&report, "npm:honest@2.0.0");
    assert!(
        honest["error"].as_str().unwrap().contains("digest mismatch"),
        "{honest:#}"
    );
    assert_eq!(honest["source"], "package-lock.json");
    assert!(
        entry(&report, "npm:gone@0.1.0")["error"]
            .as_str()
            .unwrap()
            .contains("no such package")
    );
}

#[test]
fn without_targets_the_project_lockfiles_are_scanned() {
    let registry = FakeRegistry::start();
    publish_pypi(&registry, "evil", "1.0", &fake::sdist("evil", "1.0", true));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("requirements.txt"),
        "evil==1.0\nflask>=2\n",
    )
    .unwrap();

    let run = scan(dir.path(), &registry, &[]);
    assert_eq!(run.code, Some(1), "{run}");
    let report = run.json();
    let evil = entry(&report, "pypi:evil==1.0");
    assert_eq!(evil["source"], "requirements.txt");
    assert!(run.stderr.contains("skipped 1"), "{run}");

    let empty = tempfile::tempdir().unwrap();
    let run = scan(empty.path(), &registry, &[]);
    assert_eq!(run.code, Some(2), "{run}");
    assert!(
        run.stderr.contains("no lockfile in the current directory"),
        "{run}"
    );
}

#[test]
fn a_malformed_lockfile_is_an_entry_naming_its_line() {
    let registry = FakeRegistry::start();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Cargo.lock"),
        "version = 3\n\n[[package]]\nname = \n",
    )
    .unwrap();
    let run = scan(dir.path(), &registry, &["Cargo.lock"]);
    assert_eq!(run.code, Some(2), "{run}");
    let error = entry(&run.json(), "Cargo.lock")["error"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        error.contains("Cargo.lock") && error.contains("line 4"),
        "{error}"
    );
}

#[test]
fn registries_can_be_set_in_the_environment() {
    let registry = FakeRegistry::start();
    publish_npm(
        &registry,
        "honest",
        "2.0.0",
        &fake::npm_honest("honest", "2.0.0"),
    );
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_cordon"))
        .args(["scan", "--format", "json", "npm:honest@2.0.0"])
        .current_dir(dir.path())
        .env("XDG_CACHE_HOME", support::test_cache_home())
        .env("CORDON_NPM_REGISTRY", registry.url("/npm"))
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["packages"][0]["verdict"], "clean", "{report:#}");
    assert_eq!(output.status.code(), Some(0));
}
