//! The npm registry: the package document at `{registry}/{name}`, the
//! version's `dist.tarball`, checked against `dist.integrity` (SRI) or
//! the legacy `dist.shasum` (SHA-1).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::IgnoredAny;

use crate::{Client, Digest, Ecosystem, Error, RegistryMeta, Resolved, Spec};

/// The lifecycle scripts npm runs on install.
const INSTALL_SCRIPTS: [&str; 3] = ["preinstall", "install", "postinstall"];

#[derive(Deserialize)]
struct Document {
    #[serde(default, rename = "dist-tags")]
    dist_tags: BTreeMap<String, String>,
    #[serde(default)]
    versions: BTreeMap<String, Version>,
    #[serde(default)]
    time: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    maintainers: Option<Vec<IgnoredAny>>,
}

#[derive(Deserialize)]
struct Version {
    #[serde(default)]
    name: Option<String>,
    dist: Dist,
    #[serde(default)]
    scripts: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    repository: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct Dist {
    tarball: String,
    #[serde(default)]
    integrity: Option<String>,
    #[serde(default)]
    shasum: Option<String>,
}

/// Finds an npm package's tarball in its package document.
pub(crate) fn resolve(
    client: &Client,
    spec: &Spec,
) -> Result<Resolved, Error> {
    let url = document_url(&client.options.registries.npm, &spec.name);
    let bytes = client.get(spec, &url, Some("application/json"))?;
    let mut document: Document =
        serde_json::from_slice(&bytes).map_err(|err| Error::Metadata {
            package: spec.to_string(),
            url: url.clone(),
            reason: err.to_string(),
        })?;

    let version = pick_version(spec, &url, &document)?;
    let version_count = document.versions.len();
    let Some(chosen) = document.versions.remove(&version) else {
        let package = spec.to_string();
        return Err(Error::NoSuchVersion { package, url });
    };
    let digests = dist_digests(&chosen.dist);
    let tarball = chosen.dist.tarball.clone();

    let meta = RegistryMeta {
        published: document
            .time
            .get(&version)
            .and_then(|t| t.as_str())
            .map(str::to_string),
        maintainers: document.maintainers.as_ref().map(Vec::len),
        install_scripts: install_scripts(&chosen.scripts),
        yanked: false,
        versions: Some(version_count),
        repository: Some(chosen.repository.is_some()),
    };
    Ok(Resolved {
        spec: spec.clone(),
        ecosystem: Ecosystem::Npm,
        name: chosen.name.unwrap_or_else(|| spec.name.clone()),
        file_name: file_name(&tarball),
        version,
        url: tarball,
        digests,
        meta,
    })
}

/// `{registry}/{name}`, with a scoped name's `/` written `%2f`.
fn document_url(registry: &str, name: &str) -> String {
    crate::join(registry, &name.replacen('/', "%2f", 1))
}

fn pick_version(
    spec: &Spec,
    url: &str,
    document: &Document,
) -> Result<String, Error> {
    let version = match &spec.version {
        Some(version) => Some(version.clone()),
        None => document.dist_tags.get("latest").cloned(),
    };
    match version {
        Some(version) if document.versions.contains_key(&version) => {
            Ok(version)
        }
        _ => Err(Error::NoSuchVersion {
            package: spec.to_string(),
            url: url.to_string(),
        }),
    }
}

/// The digests `dist` gives: the SRI ones, or else the SHA-1 `shasum`.
fn dist_digests(dist: &Dist) -> Vec<Digest> {
    let sri =
        dist.integrity.as_deref().map(Digest::from_sri).unwrap_or_default();
    if !sri.is_empty() {
        return sri;
    }
    dist.shasum
        .as_deref()
        .and_then(|hex| Digest::from_hex(crate::Algorithm::Sha1, hex))
        .into_iter()
        .collect()
}

fn install_scripts(
    scripts: &BTreeMap<String, serde_json::Value>,
) -> Vec<String> {
    INSTALL_SCRIPTS
        .iter()
        .filter_map(|name| {
            let command = scripts.get(*name)?.as_str()?;
            Some(format!("{name}: {command}"))
        })
        .collect()
}

fn file_name(url: &str) -> String {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    path.rsplit('/').next().unwrap_or(path).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scoped_names_encode_their_slash() {
        let url = document_url("http://r/", "@scope/name");
        assert_eq!(url, "http://r/@scope%2fname");
    }
}
