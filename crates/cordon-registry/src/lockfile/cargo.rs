//! `Cargo.lock`: packages whose `source` is a registry; path and git
//! dependencies (and the workspace's own crates) are skipped.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{Dependency, Failure, Lockfile};
use crate::{Algorithm, Digest, Ecosystem};

#[derive(Deserialize)]
struct CargoLock {
    #[serde(default)]
    package: Vec<Package>,
    #[serde(default)]
    metadata: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct Package {
    name: String,
    version: String,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    checksum: Option<String>,
    #[serde(default)]
    dependencies: Vec<String>,
}

/// Parses a Cargo.lock of any version (version 1 keeps its checksums in
/// `[metadata]`).
pub(super) fn parse(text: &str) -> Result<Lockfile, Failure> {
    let document: CargoLock =
        toml::from_str(text).map_err(|e| Failure::toml(text, &e))?;
    let mut parents: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for package in &document.package {
        for dependency in &package.dependencies {
            let name = dependency.split(' ').next().unwrap_or(dependency);
            parents.entry(name).or_default().push(package.name.clone());
        }
    }

    let mut lock = Lockfile::default();
    for package in &document.package {
        let entry = format!("{}@{}", package.name, package.version);
        let Some(source) = package.source.as_deref() else {
            lock.skip_local(entry, "a local crate");
            continue;
        };
        if !(source.starts_with("registry+") || source.starts_with("sparse+"))
        {
            lock.skip(entry, "not from a registry");
            continue;
        }
        let old_key = format!(
            "checksum {} {} ({source})",
            package.name, package.version
        );
        let checksum = package
            .checksum
            .as_ref()
            .or_else(|| document.metadata.get(&old_key));
        lock.push(Dependency {
            ecosystem: Ecosystem::Crates,
            name: package.name.clone(),
            version: package.version.clone(),
            digests: checksum
                .and_then(|c| Digest::from_hex(Algorithm::Sha256, c))
                .into_iter()
                .collect(),
            via: parents
                .get(package.name.as_str())
                .cloned()
                .unwrap_or_default(),
        });
    }
    Ok(lock)
}
