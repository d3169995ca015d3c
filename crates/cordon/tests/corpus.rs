//! `cordon scan --format json` over the evaluation corpora beside the
//! checkout: every archive gets its entry, none crashes the scanner, and
//! the packages' own metadata is read.
//!
//! The malware corpus (`../shared/corpus/pypi-malware-dev`) is only ever
//! read as bytes, here as by cordon itself. The benign corpus is
//! downloaded by `../shared/corpus/fetch-benign.sh` (CI's
//! `.ci/install-test-deps` does it) into `$CORDON_BENIGN_CORPUS`, or
//! `~/.cache/cordon-corpus` by default. A corpus that is not there is
//! skipped with a message saying so.
//!
//! How well the verdicts separate the two corpora is measured by the
//! evaluation script, not asserted here.

mod support;

use std::path::{Path, PathBuf};

use serde_json::Value;
use support::cordon;

fn shared_corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus")
}

fn benign_corpus() -> PathBuf {
    match std::env::var_os("CORDON_BENIGN_CORPUS") {
        Some(dir) => PathBuf::from(dir),
        None => {
            let home = std::env::var_os("HOME").unwrap_or_default();
            PathBuf::from(home).join(".cache/cordon-corpus")
        }
    }
}

/// The rows of a tab-separated file without its header.
fn rows(path: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).unwrap();
    let rows = text.lines().skip(1).filter(|l| !l.trim().is_empty());
    rows.map(|l| l.split('\t').map(str::to_string).collect()).collect()
}

/// Scans `targets` from `dir` in one run and checks the report has one
/// entry per target, in order, as given.
fn scan_all(dir: &Path, targets: &[String]) -> Vec<Value> {
    let mut args = vec!["scan", "--format", "json"];
    args.extend(targets.iter().map(String::as_str));
    let run = cordon(dir, &args);

    assert!(matches!(run.code, Some(0..=2)), "cordon crashed\n{run}");
    let report = run.json();
    let packages = report["packages"].as_array().unwrap().clone();
    let given: Vec<&str> =
        packages.iter().map(|p| p["target"].as_str().unwrap()).collect();
    assert_eq!(given, targets.iter().map(String::as_str).collect::<Vec<_>>());
    packages
}

/// Package names as registries compare them.
fn normalise(name: &str) -> String {
    name.to_lowercase().replace(['_', '.'], "-")
}

#[test]
fn every_malware_archive_gets_an_entry_without_a_crash() {
    let dir = shared_corpus().join("pypi-malware-dev");
    let manifest = dir.join("MANIFEST.tsv");
    if !manifest.exists() {
        eprintln!("skipped: no malware corpus at {}", dir.display());
        return;
    }
    let targets: Vec<String> =
        rows(&manifest).into_iter().map(|row| row[2].clone()).collect();
    assert_eq!(targets.len(), 600);

    let packages = scan_all(&dir, &targets);

    let unread: Vec<&Value> =
        packages.iter().filter(|p| !p["error"].is_null()).collect();
    assert!(unread.is_empty(), "unreadable: {unread:#?}");
    let unnamed = packages.iter().filter(|p| p["name"].is_null()).count();
    assert!(unnamed <= 6, "{unnamed} packages without a name");
    assert!(packages.iter().all(|p| p["verdict"].is_string()));
}

#[test]
fn every_benign_package_is_read_with_its_identity() {
    let dir = benign_corpus();
    let list = shared_corpus().join("benign-dev.tsv");
    if !dir.join("pypi").is_dir() || !list.exists() {
        eprintln!(
            "skipped: no benign corpus at {} (fetch it with \
             ../shared/corpus/fetch-benign.sh)",
            dir.display()
        );
        return;
    }
    let mut targets: Vec<String> = Vec::new();
    for ecosystem in ["pypi", "npm", "crates"] {
        let mut names: Vec<String> = std::fs::read_dir(dir.join(ecosystem))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| !name.ends_with(".part"))
            .map(|name| format!("{ecosystem}/{name}"))
            .collect();
        names.sort();
        targets.extend(names);
    }
    assert_eq!(targets.len(), rows(&list).len(), "the corpus is incomplete");

    let packages = scan_all(&dir, &targets);

    let expected: Vec<(String, String)> = rows(&list)
        .into_iter()
        .map(|row| (row[0].clone(), normalise(&row[1])))
        .collect();
    for package in &packages {
        assert!(package["error"].is_null(), "{package:#}");
        assert!(package["version"].is_string(), "{package:#}");
        let ecosystem = package["ecosystem"].as_str().unwrap_or_default();
        let name = normalise(package["name"].as_str().unwrap_or_default());
        let known = (ecosystem.to_string(), name);
        assert!(expected.contains(&known), "unexpected identity {package:#}");
    }
}
