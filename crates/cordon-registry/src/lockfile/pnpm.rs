//! `pnpm-lock.yaml`: the `packages` map, whose keys name the package and
//! its version (`/name/1.0.0` in version 5, `/name@1.0.0` in 6,
//! `name@1.0.0` in 9, each perhaps followed by peer suffixes), and
//! `snapshots` (version 9) for who depends on whom.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{Dependency, Failure, Lockfile};
use crate::{Digest, Ecosystem};

#[derive(Deserialize)]
struct Document {
    #[serde(default, rename = "lockfileVersion")]
    lockfile_version: Option<serde_yaml_ng::Value>,
    #[serde(default)]
    packages: BTreeMap<String, Package>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Package {
    resolution: Resolution,
    version: Option<String>,
    name: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Resolution {
    integrity: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

/// Parses a pnpm lockfile.
pub(super) fn parse(text: &str) -> Result<Lockfile, Failure> {
    let document: Document =
        serde_yaml_ng::from_str(text).map_err(|e| Failure::yaml(&e))?;
    let v5 = document
        .lockfile_version
        .as_ref()
        .and_then(|v| match v {
            serde_yaml_ng::Value::Number(n) => n.as_f64(),
            serde_yaml_ng::Value::String(s) => s.parse().ok(),
            _ => None,
        })
        .is_some_and(|version| version < 6.0);

    let mut lock = Lockfile::default();
    for (key, package) in &document.packages {
        add(key, package, v5, &mut lock);
    }
    Ok(lock)
}

fn add(key: &str, package: &Package, v5: bool, lock: &mut Lockfile) {
    let resolution = &package.resolution;
    if resolution.kind.is_some() || resolution.integrity.is_none() {
        lock.skip(key, "not from a registry");
        return;
    }
    let Some((name, version)) = split_key(key, v5) else {
        lock.skip(key, "cannot tell name and version apart");
        return;
    };
    let name = package.name.as_deref().unwrap_or(name);
    let version = package.version.as_deref().unwrap_or(version);
    if !version.starts_with(|c: char| c.is_ascii_digit()) {
        lock.skip(key, "not from a registry");
        return;
    }
    lock.push(Dependency {
        ecosystem: Ecosystem::Npm,
        name: name.to_string(),
        version: version.to_string(),
        digests: resolution
            .integrity
            .as_deref()
            .map(Digest::from_sri)
            .unwrap_or_default(),
        via: Vec::new(),
    });
}

/// `name` and `version` of a packages key, peer suffixes removed.
fn split_key(key: &str, v5: bool) -> Option<(&str, &str)> {
    let key = key.strip_prefix('/').unwrap_or(key);
    let key = key.split('(').next()?;
    if v5 {
        let key = key.split('_').next()?;
        return key.rsplit_once('/');
    }
    let from = usize::from(key.starts_with('@'));
    let at = key[from..].find('@')? + from;
    Some((&key[..at], &key[at + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_of_every_version() {
        assert_eq!(
            split_key("/@a/b/1.0.0_c@2", true),
            Some(("@a/b", "1.0.0"))
        );
        assert_eq!(
            split_key("/@a/b@1.0.0(c@2)", false),
            Some(("@a/b", "1.0.0"))
        );
        assert_eq!(
            split_key("left-pad@1.3.0", false),
            Some(("left-pad", "1.3.0"))
        );
    }
}
