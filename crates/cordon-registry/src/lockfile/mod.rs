//! Lockfiles: the packages they pin, each with its version, the digests
//! the lockfile records and, where the format says, who pulled it in.
//!
//! Read: `package-lock.json` (v1–v3) and `npm-shrinkwrap.json`,
//! `yarn.lock` (classic and berry), `pnpm-lock.yaml`, `requirements.txt`
//! (pinned `==` lines and their `--hash` options), `poetry.lock`,
//! `uv.lock`, `Pipfile.lock` and `Cargo.lock`. Packages that do not come
//! from a registry (paths, git, workspaces, links) and unpinned
//! requirements are listed in [`Lockfile::skipped`], not treated as
//! errors.

mod cargo;
mod npm;
mod pnpm;
mod python;
mod requirements;
mod yarn;

use std::path::Path;

use cordon_report::Ecosystem;

use crate::{Digest, LockfileError, Spec};

/// The lockfile formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `package-lock.json` or `npm-shrinkwrap.json`.
    PackageLock,
    /// `yarn.lock`, classic or berry.
    Yarn,
    /// `pnpm-lock.yaml`.
    Pnpm,
    /// `requirements.txt`.
    Requirements,
    /// `poetry.lock`.
    Poetry,
    /// `uv.lock`.
    Uv,
    /// `Pipfile.lock`.
    Pipfile,
    /// `Cargo.lock`.
    Cargo,
}

/// The file names cordon reads as lockfiles, in the order a project
/// directory is searched.
pub const FILE_NAMES: [&str; 9] = [
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "requirements.txt",
    "poetry.lock",
    "uv.lock",
    "Pipfile.lock",
    "Cargo.lock",
];

impl Kind {
    /// The format of a file, from its name alone.
    pub fn from_path(path: &Path) -> Option<Kind> {
        let name = path.file_name()?.to_str()?;
        let kind = match name {
            "package-lock.json" | "npm-shrinkwrap.json" => Kind::PackageLock,
            "yarn.lock" => Kind::Yarn,
            "pnpm-lock.yaml" => Kind::Pnpm,
            "requirements.txt" => Kind::Requirements,
            "poetry.lock" => Kind::Poetry,
            "uv.lock" => Kind::Uv,
            "Pipfile.lock" => Kind::Pipfile,
            "Cargo.lock" => Kind::Cargo,
            _ => return None,
        };
        Some(kind)
    }
}

/// One pinned package.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dependency {
    /// Its registry.
    pub ecosystem: Ecosystem,
    /// Its name.
    pub name: String,
    /// The exact version pinned.
    pub version: String,
    /// The digests the lockfile records; the download must match one of
    /// them (for PyPI, of any of the release's files).
    pub digests: Vec<Digest>,
    /// The packages that depend on it, where the format says.
    pub via: Vec<String>,
}

impl Dependency {
    /// The spec that fetches it.
    pub fn spec(&self) -> Spec {
        Spec::exact(self.ecosystem, &self.name, &self.version)
    }
}

/// An entry that was not turned into a dependency, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    /// The entry as the lockfile names it.
    pub entry: String,
    /// Why it was left out.
    pub reason: String,
    /// Whether it is the project's own code or a local folder: nothing
    /// anyone would fetch, and nothing worth a warning.
    pub local: bool,
}

/// What a lockfile pins.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lockfile {
    /// The pinned registry packages, each once: in the file's order,
    /// or by name for the JSON formats.
    pub dependencies: Vec<Dependency>,
    /// The entries left out.
    pub skipped: Vec<Skipped>,
}

impl Lockfile {
    fn push(&mut self, dependency: Dependency) {
        let same = self.dependencies.iter_mut().find(|d| {
            d.ecosystem == dependency.ecosystem
                && d.name == dependency.name
                && d.version == dependency.version
        });
        match same {
            Some(same) => {
                merge(&mut same.via, dependency.via);
                merge(&mut same.digests, dependency.digests);
            }
            None => self.dependencies.push(dependency),
        }
    }

    fn skip(&mut self, entry: impl Into<String>, reason: impl Into<String>) {
        let entry = entry.into();
        let reason = reason.into();
        self.skipped.push(Skipped { entry, reason, local: false });
    }

    fn skip_local(&mut self, entry: impl Into<String>, reason: &str) {
        let entry = entry.into();
        let reason = reason.to_string();
        self.skipped.push(Skipped { entry, reason, local: true });
    }
}

fn merge<T: PartialEq>(into: &mut Vec<T>, from: Vec<T>) {
    for item in from {
        if !into.contains(&item) {
            into.push(item);
        }
    }
}

/// Reads the lockfile at `path`; its format comes from its file name.
pub fn read(path: &Path) -> Result<Lockfile, LockfileError> {
    let kind = Kind::from_path(path)
        .ok_or_else(|| LockfileError::Unknown { path: path.to_path_buf() })?;
    let text = std::fs::read_to_string(path).map_err(|source| {
        LockfileError::Io { path: path.to_path_buf(), source }
    })?;
    parse(kind, path, &text)
}

/// Parses a lockfile's text; `path` names it in errors.
pub fn parse(
    kind: Kind,
    path: &Path,
    text: &str,
) -> Result<Lockfile, LockfileError> {
    let fail = |line: Option<usize>, message: String| LockfileError::Parse {
        path: path.to_path_buf(),
        line,
        message,
    };
    let result = match kind {
        Kind::PackageLock => npm::parse(text),
        Kind::Yarn => yarn::parse(text),
        Kind::Pnpm => pnpm::parse(text),
        Kind::Requirements => requirements::parse(text),
        Kind::Poetry => python::parse_poetry(text),
        Kind::Uv => python::parse_uv(text),
        Kind::Pipfile => python::parse_pipfile(text),
        Kind::Cargo => cargo::parse(text),
    };
    result.map_err(|Failure { line, message }| fail(line, message))
}

/// A parse failure before it is given the file's path.
#[derive(Debug)]
struct Failure {
    line: Option<usize>,
    message: String,
}

impl Failure {
    fn at(line: usize, message: impl Into<String>) -> Failure {
        Failure { line: Some(line), message: message.into() }
    }

    fn json(err: &serde_json::Error) -> Failure {
        Failure { line: Some(err.line()), message: err.to_string() }
    }

    fn toml(text: &str, err: &toml::de::Error) -> Failure {
        let line = err.span().map(|span| line_of(text, span.start));
        Failure { line, message: err.message().to_string() }
    }

    fn yaml(err: &serde_yaml_ng::Error) -> Failure {
        let line = err.location().map(|l| l.line());
        Failure { line, message: err.to_string() }
    }
}

/// The 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end].iter().filter(|&&b| b == b'\n').count() + 1
}
