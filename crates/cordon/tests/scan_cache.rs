//! The scan cache through the binary: a second scan of a lockfile needs
//! no network, rules that change miss, a corrupt file is rebuilt, and
//! several processes share one cache.

#[path = "../../cordon-registry/tests/support/mod.rs"]
mod fake;
mod registry_support;
mod support;

use std::path::Path;
use std::process::{Command, Stdio};

use cordon_registry::{Algorithm, Digest};
use fake::FakeRegistry;
use registry_support::{
    entry, publish_crate, publish_npm, publish_pypi, requests_for, scan_with,
};
use serde_json::{Value, json};
use support::cordon;

/// A project pinning one package of each registry, with the digests
/// its lockfiles record; returns the registry serving them.
fn project(dir: &Path) -> FakeRegistry {
    let registry = FakeRegistry::start();
    let hostile = fake::npm_hostile("evil-pad", "1.0.3");
    publish_npm(&registry, "evil-pad", "1.0.3", &hostile);
    let honest = fake::npm_honest("honest", "2.0.0");
    publish_npm(&registry, "honest", "2.0.0", &honest);
    let sdist = fake::sdist("evil", "1.0", true);
    publish_pypi(&registry, "evil", "1.0", &sdist);
    publish_crate(&registry, "itoa", "1.0.11");

    let lock = json!({
        "name": "app", "lockfileVersion": 3,
        "packages": {
            "": {"name": "app"},
            "node_modules/honest": {"version": "2.0.0",
                "integrity": Digest::of(Algorithm::Sha512, &honest).to_sri()},
            "node_modules/evil-pad": {"version": "1.0.3",
                "integrity": Digest::of(Algorithm::Sha512, &hostile).to_sri()},
        },
    });
    std::fs::write(dir.join("package-lock.json"), lock.to_string()).unwrap();
    let sha = Digest::of(Algorithm::Sha256, &sdist).hex();
    std::fs::write(
        dir.join("requirements.txt"),
        format!("evil==1.0 --hash=sha256:{sha}\n"),
    )
    .unwrap();
    let crate_sha =
        Digest::of(Algorithm::Sha256, &fake::crate_file("itoa", "1.0.11"))
            .hex();
    std::fs::write(
        dir.join("Cargo.lock"),
        format!(
            "version = 3\n\n[[package]]\nname = \"itoa\"\n\
             version = \"1.0.11\"\n\
             source = \"registry+https://github.com/rust-lang/crates.io-index\"\n\
             checksum = \"{crate_sha}\"\n"
        ),
    )
    .unwrap();
    registry
}

fn cache_flag(dir: &Path) -> String {
    dir.join("cache").display().to_string()
}

#[test]
fn a_second_scan_of_a_lockfile_needs_no_network() {
    let dir = tempfile::tempdir().unwrap();
    let registry = project(dir.path());
    let cache = cache_flag(dir.path());
    let flags = ["--cache-dir", &cache, "--debug"];

    let cold = scan_with(dir.path(), &registry, &flags, &[]);
    assert_eq!(cold.code, Some(1), "{cold}");
    assert!(cold.stderr.contains("scan cache: 0 hits, 4 stored"), "{cold}");
    let asked = registry.requests().len();
    assert!(asked >= 8, "{:?}", registry.requests());

    let warm = scan_with(dir.path(), &registry, &flags, &[]);
    assert_eq!(warm.code, Some(1), "{warm}");
    assert!(warm.stderr.contains("scan cache: 4 hits, 0 stored"), "{warm}");
    assert_eq!(registry.requests().len(), asked, "the warm scan went out");
    assert_eq!(warm.json(), cold.json(), "the cached report is the same");
    let evil = entry(&warm.json(), "npm:evil-pad@1.0.3").clone();
    assert_eq!(evil["source"], "package-lock.json");
    assert_ne!(evil["verdict"], "clean");
}

#[test]
fn a_registry_spec_is_found_by_the_registry_digest() {
    let dir = tempfile::tempdir().unwrap();
    let registry = FakeRegistry::start();
    let honest = fake::npm_honest("honest", "2.0.0");
    publish_npm(&registry, "honest", "2.0.0", &honest);
    let cache = cache_flag(dir.path());
    let flags = ["--cache-dir", &cache, "--debug"];

    for _ in 0..2 {
        let run = scan_with(dir.path(), &registry, &flags, &["npm:honest"]);
        assert_eq!(run.code, Some(0), "{run}");
        assert_eq!(entry(&run.json(), "npm:honest")["verdict"], "clean");
    }
    // The document is read each time (the latest version may change);
    // the tarball only once.
    assert_eq!(requests_for(&registry, "/npm/honest"), 2);
    assert_eq!(requests_for(&registry, "/tarballs/honest-2.0.0.tgz"), 1);
}

#[test]
fn other_rules_or_no_cache_do_not_reuse_reports() {
    let dir = tempfile::tempdir().unwrap();
    let registry = project(dir.path());
    let cache = cache_flag(dir.path());
    let flags = ["--cache-dir", &cache, "--debug"];
    let targets = ["Cargo.lock"];
    let first = scan_with(dir.path(), &registry, &flags, &targets);
    assert!(first.stderr.contains("1 stored"), "{first}");

    let ignoring =
        ["--cache-dir", &cache, "--debug", "--ignore", "py-exec-decoded"];
    let other = scan_with(dir.path(), &registry, &ignoring, &targets);
    assert!(other.stderr.contains("scan cache: 0 hits, 1 stored"), "{other}");

    let off = ["--cache-dir", &cache, "--debug", "--no-cache"];
    let run = scan_with(dir.path(), &registry, &off, &targets);
    assert!(run.stderr.contains("scan cache: off"), "{run}");
    assert_eq!(entry(&run.json(), "crates:itoa@1.0.11")["verdict"], "clean");

    let elsewhere = dir.path().join("unused");
    let off = [
        "--cache-dir",
        elsewhere.to_str().unwrap(),
        "--no-cache",
        "--format",
        "json",
    ];
    scan_with(dir.path(), &registry, &off, &targets);
    assert!(!elsewhere.exists(), "--no-cache wrote a cache");
}

#[test]
fn a_corrupt_cache_is_moved_aside_and_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    std::fs::create_dir(&cache).unwrap();
    let file = cache.join("scan.sqlite3");
    std::fs::write(&file, b"garbage, not a database ".repeat(100)).unwrap();
    let package = dir.path().join("pkg");
    std::fs::create_dir(&package).unwrap();
    support::write(
        &package,
        "setup.py",
        b"import base64\nexec(base64.b64decode('cHJpbnQoMSk='))\n",
    );
    let cache_dir = cache.to_str().unwrap();
    let args = ["scan", "--format", "json", "--cache-dir", cache_dir, "pkg"];

    let run = cordon(dir.path(), &args);
    assert_eq!(run.code, Some(1), "{run}");
    assert!(run.stderr.contains("was corrupt: moved it to"), "{run}");
    assert_ne!(entry(&run.json(), "pkg")["verdict"], "clean");
    let aside: Vec<_> = std::fs::read_dir(&cache)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".corrupt-"))
        .collect();
    assert_eq!(aside.len(), 1, "the corrupt file is kept for a look");

    let mut debug = args.to_vec();
    debug.push("--debug");
    let again = cordon(dir.path(), &debug);
    assert!(!again.stderr.contains("corrupt"), "{again}");
    assert!(again.stderr.contains("scan cache: 1 hits"), "{again}");
    assert_eq!(again.json()["packages"], run.json()["packages"]);
}

#[test]
fn two_processes_fill_one_cache_at_once() {
    const EACH: usize = 12;
    let dir = tempfile::tempdir().unwrap();
    let cache = cache_flag(dir.path());
    let mut names = [Vec::new(), Vec::new()];
    for i in 0..2 * EACH {
        let name = format!("pkg{i}.js");
        let body = format!("module.exports = {i};\n");
        support::write(dir.path(), &name, body.as_bytes());
        names[i % 2].push(name);
    }

    let spawn = |names: &[String]| {
        Command::new(env!("CARGO_BIN_EXE_cordon"))
            .args(["scan", "--format", "jsonl", "--jobs", "3"])
            .args(["--cache-dir", &cache])
            .args(names)
            .current_dir(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let children = [spawn(&names[0]), spawn(&names[1])];
    for child in children {
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{stderr}");
        assert!(stderr.is_empty(), "{stderr}");
        let lines = String::from_utf8(output.stdout).unwrap();
        assert_eq!(lines.lines().count(), EACH, "{lines}");
    }

    let all: Vec<&str> = names.iter().flatten().map(String::as_str).collect();
    let mut args = vec!["scan", "--format", "jsonl", "--debug"];
    args.extend(["--cache-dir", &cache]);
    args.extend(&all);
    let run = cordon(dir.path(), &args);
    let wanted = format!("scan cache: {} hits, 0 stored", 2 * EACH);
    assert!(run.stderr.contains(&wanted), "{run}");
    let verdicts: Vec<Value> = run
        .stdout
        .lines()
        .map(|line| {
            serde_json::from_str::<Value>(line).unwrap()["verdict"].clone()
        })
        .collect();
    assert_eq!(verdicts, vec![Value::from("clean"); 2 * EACH]);
}
