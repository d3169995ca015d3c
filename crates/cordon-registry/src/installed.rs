//! Copies of pinned packages that are already on disk, read instead of
//! downloaded when they match what the lockfile pins:
//!
//! - npm: the package's folder under `node_modules/` beside the
//!   lockfile, when its `package.json` names the same package and
//!   version (an installed package keeps no archive to compare);
//! - PyPI: the distribution's files in the `site-packages` of a `.venv`
//!   or `venv` beside the lockfile, found through its `.dist-info`
//!   folder (same name and version), each file checked against the
//!   SHA-256 its `RECORD` lists;
//! - crates.io: the `.crate` file in cargo's download cache
//!   (`$CARGO_HOME/registry/cache/*/NAME-VERSION.crate`), whose SHA-256
//!   must be the lockfile's checksum.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use data_encoding::BASE64URL_NOPAD;
use sha2::{Digest as _, Sha256};

use crate::{Algorithm, Digest, Ecosystem, Spec, pypi};

/// Where installed copies are looked for.
#[derive(Clone, Debug)]
pub struct Places {
    /// The folder of the lockfile.
    pub project: PathBuf,
    /// Cargo's home (`$CARGO_HOME`, or `~/.cargo`), if known.
    pub cargo_home: Option<PathBuf>,
    /// The largest size, in bytes, of an installed Python
    /// distribution's files read into memory; a larger one is fetched.
    pub max_size: u64,
}

impl Places {
    /// The places for a lockfile in `project`, with cargo's home from
    /// the environment.
    pub fn for_project(project: &Path, max_size: u64) -> Places {
        let cargo_home = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("HOME")
                    .map(|h| PathBuf::from(h).join(".cargo"))
            })
            .filter(|dir| dir.is_absolute());
        Places { project: project.to_path_buf(), cargo_home, max_size }
    }
}

/// A copy of a package found on disk.
#[derive(Clone, Debug)]
pub enum Installed {
    /// An archive whose digest matches the lockfile's (a `.crate`).
    Archive {
        /// The file.
        path: PathBuf,
        /// Its bytes.
        bytes: Vec<u8>,
    },
    /// An installed npm package's folder.
    Directory {
        /// The folder.
        path: PathBuf,
    },
    /// An installed Python distribution's files, laid out as in its
    /// wheel and packed as an uncompressed tar in memory.
    Files {
        /// Its `.dist-info` folder.
        path: PathBuf,
        /// The tar.
        tar: Vec<u8>,
    },
}

impl Installed {
    /// The file or folder it was read from.
    pub fn path(&self) -> &Path {
        match self {
            Installed::Archive { path, .. }
            | Installed::Directory { path }
            | Installed::Files { path, .. } => path,
        }
    }
}

/// The installed copy of the package `spec` pins, if there is one that
/// matches; `digests` are the lockfile's. Anything that does not match
/// or cannot be read is passed over (and said at debug level): the
/// package is then fetched as usual.
pub fn find(
    spec: &Spec,
    digests: &[Digest],
    places: &Places,
) -> Option<Installed> {
    let version = spec.version.as_deref()?;
    match spec.ecosystem {
        Ecosystem::Npm => node_module(&places.project, &spec.name, version),
        Ecosystem::Pypi => site_packages(places, &spec.name, version),
        Ecosystem::Crates => {
            cargo_cache(places.cargo_home.as_deref()?, spec, version, digests)
        }
        Ecosystem::Rubygems => None,
    }
}

/// `node_modules/NAME` when its `package.json` has the same name and
/// version.
fn node_module(
    project: &Path,
    name: &str,
    version: &str,
) -> Option<Installed> {
    let dir = project.join("node_modules").join(name);
    let text = std::fs::read_to_string(dir.join("package.json")).ok()?;
    let manifest: serde_json::Value = serde_json::from_str(&text).ok()?;
    let same = manifest["name"].as_str() == Some(name)
        && manifest["version"].as_str() == Some(version);
    if !same {
        tracing::debug!(
            path = %dir.display(),
            "installed copy is another package or version"
        );
        return None;
    }
    Some(Installed::Directory { path: dir })
}

/// `$CARGO_HOME/registry/cache/*/NAME-VERSION.crate` whose SHA-256 is
/// the lockfile's checksum.
fn cargo_cache(
    home: &Path,
    spec: &Spec,
    version: &str,
    digests: &[Digest],
) -> Option<Installed> {
    let wanted: Vec<&Digest> =
        digests.iter().filter(|d| d.algorithm == Algorithm::Sha256).collect();
    if wanted.is_empty() {
        return None;
    }
    let file_name = format!("{}-{version}.crate", spec.name);
    let registries = std::fs::read_dir(home.join("registry/cache")).ok()?;
    for registry in registries.flatten() {
        let path = registry.path().join(&file_name);
        let Ok(bytes) = std::fs::read(&path) else { continue };
        let actual = Digest::of(Algorithm::Sha256, &bytes);
        if wanted.contains(&&actual) {
            return Some(Installed::Archive { path, bytes });
        }
        tracing::debug!(path = %path.display(), "cached crate has another checksum");
    }
    None
}

/// The distribution's files in the `site-packages` of `.venv` or
/// `venv`, when every file its `RECORD` lists with a hash still has it.
fn site_packages(
    places: &Places,
    name: &str,
    version: &str,
) -> Option<Installed> {
    for root in site_package_dirs(&places.project) {
        let Some(info) = dist_info(&root, name, version) else { continue };
        match record_files(&root, &info, places.max_size) {
            Ok(tar) => return Some(Installed::Files { path: info, tar }),
            Err(reason) => {
                tracing::debug!(path = %info.display(), "not used: {reason}");
            }
        }
    }
    None
}

/// `{.venv,venv}/lib/python*/site-packages` (and `Lib/site-packages`).
fn site_package_dirs(project: &Path) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    for venv in [".venv", "venv"] {
        let venv = project.join(venv);
        dirs.push(venv.join("Lib/site-packages"));
        let Ok(lib) = std::fs::read_dir(venv.join("lib")) else { continue };
        let mut found: Vec<PathBuf> = lib
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("python"))
            .map(|e| e.path().join("site-packages"))
            .collect();
        found.sort();
        dirs.extend(found);
    }
    dirs.retain(|dir| dir.is_dir());
    dirs
}

/// The `NAME-VERSION.dist-info` folder of the distribution.
fn dist_info(root: &Path, name: &str, version: &str) -> Option<PathBuf> {
    let wanted = pypi::normalize(name);
    std::fs::read_dir(root).ok()?.flatten().find_map(|entry| {
        let file_name = entry.file_name();
        let stem = file_name.to_str()?.strip_suffix(".dist-info")?;
        let (dist, found) = stem.split_once('-')?;
        let same = pypi::normalize(dist) == wanted && found == version;
        same.then(|| entry.path())
    })
}

/// The files `RECORD` lists inside `root`, checked against their hashes
/// and packed into a tar; `Err` says why the copy is not used.
fn record_files(
    root: &Path,
    info: &Path,
    max_size: u64,
) -> Result<Vec<u8>, String> {
    let record = std::fs::read_to_string(info.join("RECORD"))
        .map_err(|err| format!("cannot read RECORD: {err}"))?;
    let mut files = BTreeMap::new();
    let mut total = 0u64;
    for line in record.lines().filter(|l| !l.trim().is_empty()) {
        let Some((path, hash)) = record_line(line) else { continue };
        if !inside(&path) || path.ends_with(".pyc") {
            continue;
        }
        let data = std::fs::read(root.join(&path))
            .map_err(|err| format!("cannot read {path}: {err}"))?;
        total += data.len() as u64;
        if total > max_size {
            return Err(format!("larger than {max_size} bytes"));
        }
        check_hash(&path, hash.as_deref(), &data)?;
        files.insert(path, data);
    }
    if files.is_empty() {
        return Err("RECORD lists no files".to_string());
    }
    pack(&files).map_err(|err| format!("cannot pack the files: {err}"))
}

/// `path,sha256=HASH,size`, with a path that may be quoted.
fn record_line(line: &str) -> Option<(String, Option<String>)> {
    let (path, rest) = match line.strip_prefix('"') {
        Some(quoted) => {
            let end = quoted.find("\",")?;
            (quoted[..end].replace("\"\"", "\""), &quoted[end + 2..])
        }
        None => {
            let (path, rest) = line.split_once(',')?;
            (path.to_string(), rest)
        }
    };
    let hash = rest.split(',').next().filter(|h| !h.is_empty());
    Some((path, hash.map(str::to_string)))
}

/// Whether a RECORD path stays inside `site-packages`.
fn inside(path: &str) -> bool {
    !path.starts_with('/')
        && !path.contains('\\')
        && path.split('/').all(|part| !part.is_empty() && part != "..")
}

fn check_hash(
    path: &str,
    hash: Option<&str>,
    data: &[u8],
) -> Result<(), String> {
    let Some(hash) = hash else { return Ok(()) };
    let Some(expected) = hash.strip_prefix("sha256=") else {
        return Err(format!("{path}: RECORD hash `{hash}` is not sha256"));
    };
    let actual = BASE64URL_NOPAD.encode(&Sha256::digest(data));
    if actual == expected {
        Ok(())
    } else {
        Err(format!("{path} differs from its RECORD hash"))
    }
}

/// An uncompressed tar of `files`, with fixed times and modes so that
/// the same files always give the same bytes.
fn pack(files: &BTreeMap<String, Vec<u8>>) -> std::io::Result<Vec<u8>> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, data) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_entry_type(tar::EntryType::Regular);
        builder.append_data(&mut header, path, data.as_slice())?;
    }
    builder.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_lines_and_paths() {
        let line = "pkg/__init__.py,sha256=abc,12";
        assert_eq!(
            record_line(line),
            Some(("pkg/__init__.py".into(), Some("sha256=abc".into())))
        );
        let quoted = "\"a,b.py\",,";
        assert_eq!(record_line(quoted), Some(("a,b.py".into(), None)));
        assert!(inside("pkg/mod.py"));
        assert!(!inside("../../../bin/tool"));
        assert!(!inside("/etc/passwd"));
    }

    #[test]
    fn hashes_are_checked() {
        let data = b"VALUE = 1\n";
        let good = format!(
            "sha256={}",
            BASE64URL_NOPAD.encode(&Sha256::digest(data))
        );
        assert!(check_hash("m.py", Some(&good), data).is_ok());
        assert!(check_hash("m.py", Some(&good), b"other").is_err());
        assert!(check_hash("m.py", Some("md5=x"), data).is_err());
        assert!(check_hash("m.py", None, data).is_ok());
    }
}
