//! Fetching packages from their registries, verified by digest, and
//! reading lockfiles into the list of packages they pin.
//!
//! [`Client::fetch`] takes a [`Spec`] (`npm:left-pad@1.3.0`,
//! `pypi:six==1.16.0`, `crates:itoa@1.0.11`; without a version, the
//! latest), finds the file in the registry's metadata, downloads it into
//! memory and checks it against the digest the registry publishes (and
//! any the caller already knows, from a lockfile). A file that does not
//! match is refused. [`Client::resolve`] and [`Client::download_resolved`]
//! are the two halves of a fetch, for a caller that wants to look the
//! registry's digest up (in a cache) before downloading.
//! [`lockfile::read`] turns a lockfile into pinned
//! [`lockfile::Dependency`]s, and [`installed::find`] finds a copy of one
//! already on disk.
//!
//! ```no_run
//! use cordon_registry::{Client, ClientOptions, Spec};
//!
//! let client = Client::new(ClientOptions::default());
//! let spec = Spec::parse("npm:left-pad@1.3.0")?;
//! let fetched = client.fetch(&spec, &[])?;
//! println!("{} bytes from {}", fetched.bytes.len(), fetched.url);
//! # Ok::<(), cordon_registry::Error>(())
//! ```
//!
//! # Registries
//!
//! Only the APIs that corporate mirrors commonly serve are used: the npm
//! registry's package documents, PyPI's simple API in its JSON form
//! (PEP 691) and crates.io's sparse index with its static download host.
//! Every base URL is configurable in [`Registries`].

#![forbid(unsafe_code)]

mod crates;
mod digest;
mod error;
mod http;
pub mod installed;
pub mod lockfile;
mod npm;
pub(crate) mod pypi;
mod spec;
mod version;

use std::time::Duration;

pub use cordon_report::Ecosystem;

pub use crate::digest::{Algorithm, Digest};
pub use crate::error::{Error, LockfileError};
pub use crate::spec::Spec;

use crate::http::Http;

/// The base URLs of the registries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registries {
    /// The npm registry, e.g. `https://registry.npmjs.org`.
    pub npm: String,
    /// A PyPI simple index, e.g. `https://pypi.org/simple`.
    pub pypi: String,
    /// crates.io's sparse index, e.g. `https://index.crates.io`.
    pub crates_index: String,
    /// Where `.crate` files are downloaded from, e.g.
    /// `https://static.crates.io/crates`.
    pub crates_download: String,
}

impl Default for Registries {
    fn default() -> Registries {
        Registries {
            npm: "https://registry.npmjs.org".to_string(),
            pypi: "https://pypi.org/simple".to_string(),
            crates_index: "https://index.crates.io".to_string(),
            crates_download: "https://static.crates.io/crates".to_string(),
        }
    }
}

/// How the client talks to registries.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// The registries' base URLs.
    pub registries: Registries,
    /// How long to wait for a connection (10 s).
    pub connect_timeout: Duration,
    /// How long one whole request may take (60 s).
    pub timeout: Duration,
    /// How many times to try a request that timed out, failed to
    /// connect or got a 5xx answer (3).
    pub tries: u32,
    /// The wait before the first retry; it doubles for each next one
    /// (500 ms).
    pub backoff: Duration,
    /// The largest response accepted, metadata or file (256 MiB).
    pub max_response_size: u64,
    /// Whether a yanked crate version may be fetched (no).
    pub allow_yanked: bool,
}

impl Default for ClientOptions {
    fn default() -> ClientOptions {
        ClientOptions {
            registries: Registries::default(),
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(60),
            tries: 3,
            backoff: Duration::from_millis(500),
            max_response_size: 256 * 1024 * 1024,
            allow_yanked: false,
        }
    }
}

/// What a registry says about a version beyond its file, for rules to
/// weigh later.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RegistryMeta {
    /// When the version (or the chosen file) was published, as the
    /// registry writes it (RFC 3339).
    pub published: Option<String>,
    /// How many maintainers the package has, where the registry says.
    pub maintainers: Option<usize>,
    /// Install-time scripts the registry's metadata declares, as
    /// `name: command`.
    pub install_scripts: Vec<String>,
    /// Whether the version is yanked.
    pub yanked: bool,
    /// How many versions the package has, where the registry says.
    pub versions: Option<usize>,
    /// Whether the version names a source repository, where the
    /// registry's metadata would say.
    pub repository: Option<bool>,
}

/// A package file downloaded and verified.
#[derive(Clone, Debug)]
pub struct Fetched {
    /// The registry.
    pub ecosystem: Ecosystem,
    /// The package's name as the registry spells it.
    pub name: String,
    /// The version fetched.
    pub version: String,
    /// The file's name (`six-1.16.0.tar.gz`).
    pub file_name: String,
    /// Where it was downloaded from.
    pub url: String,
    /// Its bytes, verified.
    pub bytes: Vec<u8>,
    /// The digest it was verified against.
    pub digest: Digest,
    /// What the registry says about the version.
    pub meta: RegistryMeta,
}

/// A package file found in its registry's metadata, not yet
/// downloaded.
#[derive(Clone, Debug)]
pub struct Resolved {
    /// The spec it was resolved from.
    pub spec: Spec,
    /// The registry.
    pub ecosystem: Ecosystem,
    /// The package's name as the registry spells it.
    pub name: String,
    /// The version chosen.
    pub version: String,
    /// The file's name (`six-1.16.0.tar.gz`).
    pub file_name: String,
    /// Where it is downloaded from.
    pub url: String,
    /// The digests the registry publishes for the file; the download
    /// must match them.
    pub digests: Vec<Digest>,
    /// What the registry says about the version.
    pub meta: RegistryMeta,
}

/// A registry client.
#[derive(Debug)]
pub struct Client {
    http: Http,
    options: ClientOptions,
}

impl Client {
    /// A client with these options.
    pub fn new(options: ClientOptions) -> Client {
        Client { http: Http::new(&options), options }
    }

    /// Finds, downloads and verifies the package `spec` names. `expected`
    /// are digests the caller already trusts (from a lockfile): the file
    /// must match them as well as the registry's own.
    pub fn fetch(
        &self,
        spec: &Spec,
        expected: &[Digest],
    ) -> Result<Fetched, Error> {
        let resolved = self.resolve_matching(spec, expected)?;
        self.download_resolved(resolved, expected)
    }

    /// Finds the file `spec` names in the registry's metadata, with the
    /// digests the registry publishes for it, without downloading it.
    pub fn resolve(&self, spec: &Spec) -> Result<Resolved, Error> {
        self.resolve_matching(spec, &[])
    }

    /// Like [`Client::resolve`], but where a release has several files
    /// (a PyPI sdist and wheels), takes the one matching `expected`.
    pub fn resolve_matching(
        &self,
        spec: &Spec,
        expected: &[Digest],
    ) -> Result<Resolved, Error> {
        match spec.ecosystem {
            Ecosystem::Npm => npm::resolve(self, spec),
            Ecosystem::Pypi => pypi::resolve(self, spec, expected),
            Ecosystem::Crates => crates::resolve(self, spec),
            Ecosystem::Rubygems => Err(Error::Spec {
                spec: spec.to_string(),
                reason: "rubygems is not supported yet".to_string(),
            }),
        }
    }

    /// Downloads a resolved file and checks it against the registry's
    /// digests and `expected` (from a lockfile).
    pub fn download_resolved(
        &self,
        resolved: Resolved,
        expected: &[Digest],
    ) -> Result<Fetched, Error> {
        let Resolved { spec, url, digests, .. } = &resolved;
        let (bytes, digest) = self.download(spec, url, digests, expected)?;
        Ok(Fetched {
            ecosystem: resolved.ecosystem,
            name: resolved.name,
            version: resolved.version,
            file_name: resolved.file_name,
            url: resolved.url,
            bytes,
            digest,
            meta: resolved.meta,
        })
    }

    fn get(
        &self,
        spec: &Spec,
        url: &str,
        accept: Option<&str>,
    ) -> Result<Vec<u8>, Error> {
        self.http.get(&spec.to_string(), url, accept)
    }

    /// Downloads `url` and checks it against the registry's digests and
    /// the caller's.
    fn download(
        &self,
        spec: &Spec,
        url: &str,
        registry: &[Digest],
        expected: &[Digest],
    ) -> Result<(Vec<u8>, Digest), Error> {
        let package = spec.to_string();
        let Some(strongest) = registry.iter().max_by_key(|d| d.algorithm)
        else {
            return Err(Error::NoDigest { package, url: url.to_string() });
        };
        if self.downgrades(spec, url) {
            return Err(Error::Metadata {
                package,
                url: url.to_string(),
                reason: "an https registry points to a plain http download"
                    .to_string(),
            });
        }
        let bytes = self.http.get(&package, url, None)?;
        for set in [registry, expected] {
            digest::verify(&bytes, set).map_err(|(expected, actual)| {
                Error::DigestMismatch {
                    package: package.clone(),
                    url: url.to_string(),
                    expected,
                    actual,
                }
            })?;
        }
        Ok((bytes, strongest.clone()))
    }
}

impl Client {
    /// Whether `url` is plain HTTP although the registry it came from
    /// was reached over HTTPS.
    fn downgrades(&self, spec: &Spec, url: &str) -> bool {
        let registries = &self.options.registries;
        let base = match spec.ecosystem {
            Ecosystem::Npm => &registries.npm,
            Ecosystem::Pypi => &registries.pypi,
            _ => &registries.crates_index,
        };
        base.starts_with("https://") && !url.starts_with("https://")
    }
}

/// `base` and `path` joined by exactly one `/`.
fn join(base: &str, path: &str) -> String {
    format!("{}/{}", base.trim_end_matches('/'), path.trim_start_matches('/'))
}
