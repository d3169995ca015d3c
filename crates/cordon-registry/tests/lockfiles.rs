//! Every lockfile format, read from the small fixtures under
//! `tests/fixtures/`, and malformed ones.

use std::path::{Path, PathBuf};

use cordon_registry::lockfile::{self, Dependency, Kind, Lockfile};
use cordon_registry::{Algorithm, Ecosystem, LockfileError};

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(path)
}

fn read(path: &str) -> Lockfile {
    lockfile::read(&fixture(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `name@version` of every dependency, in order.
fn pinned(lock: &Lockfile) -> Vec<String> {
    lock.dependencies
        .iter()
        .map(|d| format!("{}@{}", d.name, d.version))
        .collect()
}

fn find<'a>(lock: &'a Lockfile, name: &str) -> &'a Dependency {
    lock.dependencies
        .iter()
        .find(|d| d.name == name)
        .unwrap_or_else(|| panic!("no {name} in {lock:?}"))
}

fn malformed(kind: Kind, name: &str, text: &str) -> LockfileError {
    lockfile::parse(kind, Path::new(name), text)
        .expect_err("malformed input must fail")
}

#[test]
fn package_lock_v1_nests_and_aliases() {
    let lock = read("npm-v1/package-lock.json");
    assert_eq!(
        pinned(&lock),
        ["left-pad@1.3.0", "express@4.18.2", "debug@2.6.9"]
    );
    assert_eq!(find(&lock, "debug").via, ["express"]);
    assert_eq!(find(&lock, "express").digests[0].algorithm, Algorithm::Sha512);
    assert_eq!(find(&lock, "left-pad").digests[0].algorithm, Algorithm::Sha1);
    assert_eq!(lock.skipped.len(), 1, "the git dependency");
    assert!(lock.dependencies.iter().all(|d| d.ecosystem == Ecosystem::Npm));
}

#[test]
fn package_lock_v3_reads_the_packages_map() {
    let lock = read("npm-v3/package-lock.json");
    assert_eq!(pinned(&lock), ["@babel/code-frame@7.22.13", "chalk@2.4.2"]);
    assert_eq!(find(&lock, "chalk").via, ["@babel/code-frame"]);
    assert_eq!(find(&lock, "chalk").spec().to_string(), "npm:chalk@2.4.2");
    assert!(lock.skipped.iter().any(|s| s.local), "the linked workspace");
}

#[test]
fn shrinkwrap_reads_like_a_package_lock() {
    let lock = read("shrinkwrap/npm-shrinkwrap.json");
    assert_eq!(pinned(&lock), ["ms@2.1.3"]);
    assert_eq!(find(&lock, "ms").digests.len(), 1);
}

#[test]
fn yarn_classic_is_parsed_by_hand() {
    let lock = read("yarn-classic/yarn.lock");
    assert_eq!(
        pinned(&lock),
        ["@babel/code-frame@7.22.13", "left-pad@1.3.0", "chalk@2.4.2"]
    );
    assert_eq!(
        find(&lock, "left-pad").digests[0].algorithm,
        Algorithm::Sha512
    );
    assert!(find(&lock, "chalk").digests.is_empty());
    assert_eq!(lock.skipped.len(), 1, "the git dependency");
}

#[test]
fn yarn_berry_is_yaml() {
    let lock = read("yarn-berry/yarn.lock");
    let mut names = pinned(&lock);
    names.sort();
    assert_eq!(names, ["@types/node@20.8.0", "left-pad@1.3.0"]);
    assert_eq!(lock.skipped.len(), 1, "the workspace itself");
}

#[test]
fn pnpm_keys_of_every_lockfile_version() {
    let v9 = read("pnpm-v9/pnpm-lock.yaml");
    assert_eq!(pinned(&v9), ["@babel/code-frame@7.22.13", "left-pad@1.3.0"]);
    assert_eq!(v9.skipped.len(), 1, "the tarball from git");
    let v6 = read("pnpm-v6/pnpm-lock.yaml");
    assert_eq!(pinned(&v6), ["react-dom@18.2.0", "react@18.2.0"]);
    let v5 = read("pnpm-v5/pnpm-lock.yaml");
    assert_eq!(pinned(&v5), ["@types/react@18.0.28", "scheduler@0.23.0"]);
}

#[test]
fn requirements_keep_pins_and_hashes_and_skip_the_rest() {
    let lock = read("requirements/requirements.txt");
    assert_eq!(
        pinned(&lock),
        ["certifi@2023.7.22", "requests@2.31.0", "six@1.16.0"]
    );
    assert_eq!(find(&lock, "certifi").digests.len(), 2);
    assert_eq!(find(&lock, "six").spec().to_string(), "pypi:six==1.16.0");
    let skipped: Vec<&str> =
        lock.skipped.iter().map(|s| s.entry.as_str()).collect();
    assert_eq!(skipped.len(), 5, "{skipped:?}");
    assert!(skipped.contains(&"flask>=2.0"), "{skipped:?}");
}

#[test]
fn poetry_lock_skips_git_sources() {
    let lock = read("poetry/poetry.lock");
    assert_eq!(pinned(&lock), ["certifi@2023.7.22", "requests@2.31.0"]);
    assert_eq!(find(&lock, "certifi").digests.len(), 2);
    assert_eq!(find(&lock, "certifi").via, ["requests"]);
    assert_eq!(lock.skipped.len(), 1);
}

#[test]
fn uv_lock_keeps_registry_packages() {
    let lock = read("uv/uv.lock");
    assert_eq!(pinned(&lock), ["six@1.16.0"]);
    assert_eq!(find(&lock, "six").digests.len(), 2);
    assert_eq!(find(&lock, "six").via, ["app"]);
    let local: Vec<bool> = lock.skipped.iter().map(|s| s.local).collect();
    assert_eq!(local, [true, false], "the project, then the git package");
}

#[test]
fn pipfile_lock_reads_both_groups() {
    let lock = read("pipfile/Pipfile.lock");
    assert_eq!(pinned(&lock), ["six@1.16.0", "pytest@7.4.0"]);
    assert_eq!(find(&lock, "pytest").via, ["Pipfile [develop]"]);
    assert_eq!(lock.skipped.len(), 1, "the editable path");
}

#[test]
fn cargo_lock_keeps_registry_crates() {
    let lock = read("cargo/Cargo.lock");
    assert_eq!(pinned(&lock), ["itoa@1.0.11", "serde@1.0.200"]);
    assert_eq!(find(&lock, "itoa").via, ["app"]);
    assert_eq!(find(&lock, "serde").digests[0].algorithm, Algorithm::Sha256);
    assert_eq!(find(&lock, "itoa").spec().to_string(), "crates:itoa@1.0.11");
    assert_eq!(lock.skipped.len(), 3, "two local crates and a git one");
}

#[test]
fn kinds_come_from_file_names() {
    assert_eq!(
        Kind::from_path(Path::new("a/npm-shrinkwrap.json")),
        Some(Kind::PackageLock)
    );
    assert_eq!(Kind::from_path(Path::new("Cargo.lock")), Some(Kind::Cargo));
    assert_eq!(Kind::from_path(Path::new("Cargo.toml")), None);
    let err = lockfile::read(Path::new("Cargo.toml")).unwrap_err();
    assert!(matches!(err, LockfileError::Unknown { .. }));
}

#[test]
fn malformed_lockfiles_name_the_file_and_line() {
    let cases = [
        (
            Kind::PackageLock,
            "package-lock.json",
            "{\n  \"packages\": {\n    oops\n}",
            3,
        ),
        (Kind::Pipfile, "Pipfile.lock", "{\n\"default\": [,]\n}", 2),
        (
            Kind::Cargo,
            "Cargo.lock",
            "version = 4\n\n[[package]]\nname = \n",
            4,
        ),
        (Kind::Poetry, "poetry.lock", "[[package]]\nname = \"x\"\n", 1),
        (Kind::Uv, "uv.lock", "version = 1\n[[package]\n", 2),
        (
            Kind::Pnpm,
            "pnpm-lock.yaml",
            "lockfileVersion: '9.0'\npackages:\n  a: [\n",
            3,
        ),
        (
            Kind::Yarn,
            "yarn.lock",
            "# yarn lockfile v1\n  version \"1.0.0\"\n",
            2,
        ),
        (Kind::Yarn, "yarn.lock", "left-pad@^1.3.0\n  version \"1.3.0\"\n", 1),
        (
            Kind::Requirements,
            "requirements.txt",
            "six==1.16.0\nbad!name==1.0\n",
            2,
        ),
        (
            Kind::Requirements,
            "requirements.txt",
            "six==1.16.0 --hash=sha256:zz\n",
            1,
        ),
    ];
    for (kind, name, text, line) in cases {
        let err = malformed(kind, name, text);
        let message = err.to_string();
        assert!(
            message.contains(name)
                && message.contains(&format!("line {line}")),
            "{name}: {message}"
        );
        assert!(
            matches!(err, LockfileError::Parse { line: Some(l), .. } if l == line)
        );
    }
}
