//! What a package's manifests say: who it is, and which of its files
//! run at install or import time.
//!
//! The parsers live in [`crate::manifest`]; this module holds what they
//! found. Every manifest at the package's root is read, whatever the
//! ecosystem turns out to be: a Python sdist built with Rust carries a
//! `build.rs` that runs at `pip install` all the same.

use std::collections::{BTreeMap, HashSet};

use cordon_report::Ecosystem;
use serde::Serialize;

/// The npm lifecycle scripts that run when a package is installed from
/// a registry tarball.
pub const INSTALL_SCRIPTS: [&str; 3] =
    ["preinstall", "install", "postinstall"];

/// The npm lifecycle scripts that also run when a package is installed
/// from a directory or a git repository (never from a registry tarball,
/// where they ran before it was published).
pub const PREPARE_SCRIPTS: [&str; 3] =
    ["preprepare", "prepare", "postprepare"];

/// What the manifests say beyond name and version.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Metadata {
    /// The directory every file of the package sits in, with a final
    /// `/` (`foo-1.0/` in an sdist, `package/` in an npm tarball), or
    /// empty. Role rules look at paths below it.
    pub root: String,
    /// The manifests that were read, by path.
    pub manifests: Vec<String>,
    /// The npm `scripts` map of `package.json`.
    pub scripts: BTreeMap<String, String>,
    /// The npm lifecycle scripts of [`scripts`](Self::scripts) that run
    /// when this package is installed, in the order npm runs them.
    pub install_hooks: Vec<String>,
    /// The Python build backend named in `pyproject.toml`.
    pub build_backend: Option<String>,
    /// Whether the Rust crate is a procedural macro, whose code runs
    /// inside the compiler.
    pub proc_macro: bool,
    /// The gem's native extensions (`ext/foo/extconf.rb`), which run
    /// when it is installed.
    pub extensions: Vec<String>,
    /// The names of the packages it depends on, as the manifests list
    /// them, without versions.
    pub dependencies: Vec<String>,
    /// The dependencies fetched from a URL or a git repository rather
    /// than a registry.
    pub direct_dependencies: Vec<DirectDependency>,
}

/// A dependency fetched from a URL or a git repository rather than a
/// registry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DirectDependency {
    /// The dependency's name, as the manifest gives it; may be empty
    /// when only a URL is given.
    pub name: String,
    /// Where it comes from: the URL, git remote or shorthand.
    pub source: String,
    /// The path of the manifest that names it.
    pub manifest: String,
}

impl Metadata {
    /// The npm scripts that run at install time, with their commands.
    pub fn install_scripts(&self) -> impl Iterator<Item = (&str, &str)> {
        self.install_hooks.iter().filter_map(|hook| {
            let command = self.scripts.get(hook)?;
            Some((hook.as_str(), command.as_str()))
        })
    }
}

/// The package's identity, as one manifest tells it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Identity {
    /// The ecosystem the manifest belongs to.
    pub ecosystem: Ecosystem,
    /// The name, when the manifest states it.
    pub name: Option<String>,
    /// The version, when the manifest states it.
    pub version: Option<String>,
    /// How sure the manifest makes us: lower wins. Built metadata
    /// (gemspec, `PKG-INFO`) beats a source manifest.
    pub rank: u8,
}

/// Everything the manifests told: identity, metadata, and the files
/// they name as running at install or import time.
#[derive(Debug, Default)]
pub(crate) struct Facts {
    /// The most certain identity found.
    pub identity: Option<Identity>,
    /// The metadata for the package.
    pub metadata: Metadata,
    /// Full paths of files that run at install time.
    pub install: HashSet<String>,
    /// Full paths of files that run at import time.
    pub import: HashSet<String>,
}

impl Facts {
    /// Keeps `identity` if it is more certain than the one so far.
    pub(crate) fn identify(&mut self, identity: Identity) {
        let better = match &self.identity {
            Some(current) => identity.rank < current.rank,
            None => true,
        };
        if better {
            self.identity = Some(identity);
        }
    }

    /// Records that a manifest was read.
    pub(crate) fn manifest(&mut self, path: String) {
        self.metadata.manifests.push(path);
    }
}
