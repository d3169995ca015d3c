//! Python lockfiles: `poetry.lock` and `uv.lock` (TOML) and
//! `Pipfile.lock` (JSON).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{Dependency, Failure, Lockfile};
use crate::{Digest, Ecosystem};

#[derive(Deserialize)]
struct PoetryLock {
    #[serde(default)]
    package: Vec<PoetryPackage>,
    #[serde(default)]
    metadata: Option<PoetryMetadata>,
}

#[derive(Deserialize)]
struct PoetryPackage {
    name: String,
    version: String,
    #[serde(default)]
    files: Vec<PoetryFile>,
    #[serde(default)]
    source: Option<Source>,
    #[serde(default)]
    dependencies: BTreeMap<String, toml::Value>,
}

#[derive(Deserialize)]
struct PoetryMetadata {
    #[serde(default)]
    files: BTreeMap<String, Vec<PoetryFile>>,
}

#[derive(Deserialize)]
struct PoetryFile {
    hash: String,
}

#[derive(Deserialize, Default)]
struct Source {
    #[serde(default, rename = "type")]
    kind: Option<String>,
}

/// Parses a poetry.lock: packages whose source is PyPI or another
/// index (`legacy`); git, path and URL sources are skipped.
pub(super) fn parse_poetry(text: &str) -> Result<Lockfile, Failure> {
    let document: PoetryLock =
        toml::from_str(text).map_err(|e| Failure::toml(text, &e))?;
    let old_files = document.metadata.map(|m| m.files).unwrap_or_default();
    let parents = inverse(document.package.iter().map(|p| {
        (p.name.as_str(), p.dependencies.keys().map(String::as_str))
    }));

    let mut lock = Lockfile::default();
    for package in &document.package {
        let kind = package.source.as_ref().and_then(|s| s.kind.as_deref());
        if kind.is_some_and(|kind| kind != "legacy") {
            lock.skip(
                format!("{}=={}", package.name, package.version),
                "not from an index",
            );
            continue;
        }
        let files = old_files.get(&package.name).unwrap_or(&package.files);
        let files =
            if package.files.is_empty() { files } else { &package.files };
        lock.push(Dependency {
            ecosystem: Ecosystem::Pypi,
            name: package.name.clone(),
            version: package.version.clone(),
            digests: files
                .iter()
                .filter_map(|f| Digest::from_prefixed_hex(&f.hash))
                .collect(),
            via: parents
                .get(&normalize(&package.name))
                .cloned()
                .unwrap_or_default(),
        });
    }
    Ok(lock)
}

#[derive(Deserialize)]
struct UvLock {
    #[serde(default)]
    package: Vec<UvPackage>,
}

#[derive(Deserialize)]
struct UvPackage {
    name: String,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    source: BTreeMap<String, toml::Value>,
    #[serde(default)]
    sdist: Option<UvFile>,
    #[serde(default)]
    wheels: Vec<UvFile>,
    #[serde(default)]
    dependencies: Vec<UvDependency>,
}

#[derive(Deserialize)]
struct UvFile {
    #[serde(default)]
    hash: Option<String>,
}

#[derive(Deserialize)]
struct UvDependency {
    name: String,
}

/// Parses a uv.lock: packages whose source is a `registry`; the project
/// itself (`editable`, `virtual`) and git, path and URL sources are
/// skipped.
pub(super) fn parse_uv(text: &str) -> Result<Lockfile, Failure> {
    let document: UvLock =
        toml::from_str(text).map_err(|e| Failure::toml(text, &e))?;
    let parents = inverse(document.package.iter().map(|p| {
        (p.name.as_str(), p.dependencies.iter().map(|d| d.name.as_str()))
    }));

    let mut lock = Lockfile::default();
    for package in &document.package {
        let version = package.version.as_deref().unwrap_or_default();
        let entry = format!("{}=={version}", package.name);
        let local = ["editable", "virtual", "directory", "path"];
        if local.iter().any(|key| package.source.contains_key(*key)) {
            lock.skip_local(entry, "the project's own or a local package");
            continue;
        }
        if !package.source.contains_key("registry") || version.is_empty() {
            lock.skip(entry, "not from an index");
            continue;
        }
        let files = package.sdist.iter().chain(&package.wheels);
        lock.push(Dependency {
            ecosystem: Ecosystem::Pypi,
            name: package.name.clone(),
            version: version.to_string(),
            digests: files
                .filter_map(|f| {
                    f.hash.as_deref().and_then(Digest::from_prefixed_hex)
                })
                .collect(),
            via: parents
                .get(&normalize(&package.name))
                .cloned()
                .unwrap_or_default(),
        });
    }
    Ok(lock)
}

#[derive(Deserialize)]
struct PipfileEntry {
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    hashes: Vec<String>,
}

/// Parses a Pipfile.lock: the `default` and `develop` groups; entries
/// without an `==` version (git, paths, editables) are skipped.
pub(super) fn parse_pipfile(text: &str) -> Result<Lockfile, Failure> {
    let document: BTreeMap<String, serde_json::Value> =
        serde_json::from_str(text).map_err(|e| Failure::json(&e))?;
    let mut lock = Lockfile::default();
    for group in ["default", "develop"] {
        let Some(entries) = document.get(group) else { continue };
        let entries: BTreeMap<String, PipfileEntry> =
            serde_json::from_value(entries.clone()).map_err(|e| Failure {
                line: None,
                message: format!("`{group}`: {e}"),
            })?;
        for (name, entry) in entries {
            pipfile_entry(group, name, entry, &mut lock);
        }
    }
    Ok(lock)
}

fn pipfile_entry(
    group: &str,
    name: String,
    entry: PipfileEntry,
    lock: &mut Lockfile,
) {
    let Some(version) =
        entry.version.as_deref().and_then(|v| v.strip_prefix("=="))
    else {
        lock.skip(name, "not pinned with ==");
        return;
    };
    lock.push(Dependency {
        ecosystem: Ecosystem::Pypi,
        version: version.to_string(),
        digests: entry
            .hashes
            .iter()
            .filter_map(|h| Digest::from_prefixed_hex(h))
            .collect(),
        via: vec![format!("Pipfile [{group}]")],
        name,
    });
}

/// Who depends on each package (by normalised name), from forward
/// edges.
fn inverse<'a, D>(
    edges: impl Iterator<Item = (&'a str, D)>,
) -> BTreeMap<String, Vec<String>>
where
    D: Iterator<Item = &'a str>,
{
    let mut parents: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (parent, children) in edges {
        for child in children {
            let list = parents.entry(normalize(child)).or_default();
            if !list.iter().any(|p| p == parent) {
                list.push(parent.to_string());
            }
        }
    }
    parents
}

fn normalize(name: &str) -> String {
    crate::pypi::normalize(name)
}
