//! PyPI through the simple API in its JSON form (PEP 691):
//! `{index}/{normalized-name}/`. The version's sdist is preferred, a
//! wheel taken otherwise; each is checked against `hashes.sha256`.

use serde::Deserialize;

use crate::{
    Algorithm, Client, Digest, Ecosystem, Error, RegistryMeta, Resolved, Spec,
    version,
};

/// The media type of the JSON simple API.
const ACCEPT: &str = "application/vnd.pypi.simple.v1+json";

#[derive(Deserialize)]
struct Page {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    files: Vec<File>,
}

#[derive(Deserialize)]
struct File {
    filename: String,
    url: String,
    #[serde(default)]
    hashes: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    yanked: serde_json::Value,
    #[serde(default, rename = "upload-time")]
    upload_time: Option<String>,
}

impl File {
    fn yanked(&self) -> bool {
        match &self.yanked {
            serde_json::Value::Bool(yanked) => *yanked,
            serde_json::Value::String(_) => true,
            _ => false,
        }
    }
}

/// A file of a release, as its name tells.
struct Candidate<'a> {
    file: &'a File,
    version: String,
    sdist: bool,
}

/// Finds a PyPI release's file on its simple page.
pub(crate) fn resolve(
    client: &Client,
    spec: &Spec,
    expected: &[Digest],
) -> Result<Resolved, Error> {
    let name = normalize(&spec.name);
    let url =
        crate::join(&client.options.registries.pypi, &format!("{name}/"));
    let bytes = client.get(spec, &url, Some(ACCEPT))?;
    let page: Page =
        serde_json::from_slice(&bytes).map_err(|err| Error::Metadata {
            package: spec.to_string(),
            url: url.clone(),
            reason: err.to_string(),
        })?;

    let candidates: Vec<Candidate<'_>> =
        page.files.iter().filter_map(|file| candidate(&name, file)).collect();
    let chosen = choose(spec, &url, &candidates, expected)?;
    let file_url = resolve_url(&url, &chosen.file.url);
    let digests: Vec<Digest> = chosen
        .file
        .hashes
        .get("sha256")
        .and_then(|hex| Digest::from_hex(Algorithm::Sha256, hex))
        .into_iter()
        .collect();

    Ok(Resolved {
        spec: spec.clone(),
        ecosystem: Ecosystem::Pypi,
        name: page.name.unwrap_or(name),
        version: chosen.version.clone(),
        file_name: chosen.file.filename.clone(),
        url: file_url,
        digests,
        meta: RegistryMeta {
            published: chosen.file.upload_time.clone(),
            yanked: chosen.file.yanked(),
            versions: Some(version_count(&candidates)),
            ..RegistryMeta::default()
        },
    })
}

/// How many distinct versions the page's files are of.
fn version_count(candidates: &[Candidate<'_>]) -> usize {
    let versions: std::collections::HashSet<&str> =
        candidates.iter().map(|c| c.version.as_str()).collect();
    versions.len()
}

/// PEP 503 normalisation: lowercase, runs of `-_.` become one `-`.
pub(crate) fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// The file's version when it is an sdist or a wheel of `name`.
fn candidate<'a>(name: &str, file: &'a File) -> Option<Candidate<'a>> {
    let filename = file.filename.as_str();
    if let Some(stem) = filename.strip_suffix(".whl") {
        let mut parts = stem.split('-');
        let (dist, version) = (parts.next()?, parts.next()?);
        return (normalize(dist) == name).then(|| Candidate {
            file,
            version: version.to_string(),
            sdist: false,
        });
    }
    let stem = [".tar.gz", ".zip", ".tar.bz2", ".tgz"]
        .iter()
        .find_map(|ext| filename.strip_suffix(ext))?;
    let (dist, version) = stem.rsplit_once('-')?;
    (normalize(dist) == name).then(|| Candidate {
        file,
        version: version.to_string(),
        sdist: true,
    })
}

/// The version asked for (or the latest not yanked): the file whose
/// SHA-256 is among `expected` (a lockfile or an installer chose that
/// very file), else its sdist if it has one, else a pure-Python wheel,
/// else any wheel.
fn choose<'c, 'a>(
    spec: &Spec,
    url: &str,
    candidates: &'c [Candidate<'a>],
    expected: &[Digest],
) -> Result<&'c Candidate<'a>, Error> {
    let live = || candidates.iter().filter(|c| !c.file.yanked());
    let version = match &spec.version {
        Some(version) => Some(version.as_str()),
        None => version::latest(live().map(|c| c.version.as_str())),
    };
    let of_version: Vec<&Candidate<'_>> = candidates
        .iter()
        .filter(|c| Some(c.version.as_str()) == version)
        .collect();
    if of_version.is_empty() {
        let package = spec.to_string();
        return Err(Error::NoSuchVersion { package, url: url.to_string() });
    }
    let pure =
        |c: &&&Candidate<'_>| c.file.filename.ends_with("-none-any.whl");
    let pinned = |c: &&&Candidate<'_>| {
        let hex = c.file.hashes.get("sha256");
        let digest =
            hex.and_then(|hex| Digest::from_hex(Algorithm::Sha256, hex));
        digest.is_some_and(|digest| expected.contains(&digest))
    };
    of_version
        .iter()
        .find(pinned)
        .or_else(|| of_version.iter().find(|c| c.sdist))
        .or_else(|| of_version.iter().find(pure))
        .or_else(|| of_version.first())
        .copied()
        .ok_or_else(|| Error::NoFile {
            package: spec.to_string(),
            url: url.to_string(),
        })
}

/// A file URL from the page, made absolute against the page's URL.
fn resolve_url(page: &str, href: &str) -> String {
    if href.starts_with("http://") || href.starts_with("https://") {
        return href.to_string();
    }
    let scheme_end = page.find("://").map_or(0, |i| i + 3);
    let host_end =
        page[scheme_end..].find('/').map_or(page.len(), |i| i + scheme_end);
    if href.starts_with('/') {
        return format!("{}{href}", &page[..host_end]);
    }
    let mut segments: Vec<&str> = page[host_end..].split('/').collect();
    segments.pop();
    for part in href.split('/') {
        match part {
            ".." => {
                if segments.len() > 1 {
                    segments.pop();
                }
            }
            "." => {}
            _ => segments.push(part),
        }
    }
    format!("{}{}", &page[..host_end], segments.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_names() {
        assert_eq!(normalize("Foo.Bar__baz"), "foo-bar-baz");
    }

    #[test]
    fn resolves_relative_file_urls() {
        let page = "http://h:1/simple/six/";
        assert_eq!(
            resolve_url(page, "six.tgz"),
            "http://h:1/simple/six/six.tgz"
        );
        assert_eq!(
            resolve_url(page, "../../f/six.tgz"),
            "http://h:1/f/six.tgz"
        );
        assert_eq!(resolve_url(page, "/f/x"), "http://h:1/f/x");
        assert_eq!(resolve_url(page, "https://o/x"), "https://o/x");
    }

    fn file(filename: &str, sha256: &str) -> File {
        File {
            filename: filename.to_string(),
            url: filename.to_string(),
            hashes: [("sha256".to_string(), sha256.to_string())].into(),
            yanked: serde_json::Value::Null,
            upload_time: None,
        }
    }

    #[test]
    fn prefers_the_file_an_installer_pinned() {
        let (a, b) = ("aa".repeat(32), "bb".repeat(32));
        let files =
            [file("six-1.0-py3-none-any.whl", &a), file("six-1.0.tar.gz", &b)];
        let candidates: Vec<Candidate<'_>> =
            files.iter().filter_map(|f| candidate("six", f)).collect();
        let spec = Spec::parse("pypi:six==1.0").unwrap();
        let chosen = |expected: &[Digest]| {
            choose(&spec, "u", &candidates, expected)
                .unwrap()
                .file
                .filename
                .clone()
        };

        assert_eq!(chosen(&[]), "six-1.0.tar.gz");
        let wheel = Digest::from_hex(Algorithm::Sha256, &a).unwrap();
        assert_eq!(chosen(&[wheel]), "six-1.0-py3-none-any.whl");
        let other = Digest::from_hex(Algorithm::Sha256, &"cc".repeat(32));
        assert_eq!(chosen(&[other.unwrap()]), "six-1.0.tar.gz");
    }
}
