//! Reading packages: directories, single files and archives, into memory,
//! under limits, without ever writing to disk.
//!
//! [`read_target`] takes a path on disk, [`read_bytes`] an archive
//! already in memory (as a registry client downloads it). Both return a
//! [`Package`]: every file with its path, [`Language`] and [`Role`] (when
//! its code runs), the package's identity from its own manifests, and
//! the [`Anomaly`]s met on the way (entry names that try to leave the
//! package, links, devices, entries left out).
//!
//! ```no_run
//! use cordon_package::{Limits, Role, read_target};
//!
//! let package = read_target("foo-1.0.tar.gz".as_ref(), &Limits::default())?;
//! for file in package.files.iter().filter(|f| f.role == Role::Install) {
//!     println!("{} runs at install time", file.path);
//! }
//! # Ok::<(), cordon_package::Error>(())
//! ```
//!
//! # Formats
//!
//! Formats are sniffed from the bytes, never taken from names: tar,
//! gzip-, bzip2- or xz-compressed tar (sdists, npm tarballs, `.crate`),
//! zip (`.whl`, `.egg`, `.jar`) and gems. A zip named `.tar.gz` is read
//! as a zip, and flagged. Anything else, a lone `.gz` of a non-tar
//! included, is a one-file package. Archives inside the package are
//! opened [`Limits::max_depth`] levels deep; their files appear under
//! the archive's path (`vendor/lib.zip/lib/x.py`).
//!
//! # Safety against hostile packages
//!
//! - Nothing is written to disk; entry names are only ever strings.
//! - `..` components and absolute names are normalised to stay inside
//!   the package, and flagged. Links, hard links and special files are
//!   recorded with their targets, never followed or opened.
//! - [`Limits`] are enforced on the bytes actually decompressed, never
//!   on sizes from headers; a bomb stops with [`Error::Limit`] and
//!   memory stays bounded.
//! - Broken input is an [`Error`] for that package only; nothing panics.
//!
//! # Limitations
//!
//! Roles come from manifests and conventions, not from following code:
//! a module that an install script imports is not itself marked as
//! install-time code. A lone compressed file (`payload.py.gz`) is kept
//! compressed, as a binary file.

#![forbid(unsafe_code)]

mod anomaly;
mod archive;
mod collect;
mod dir;
mod error;
mod gem;
mod language;
mod limits;
mod manifest;
mod metadata;
mod path;
mod role;
mod sniff;
mod tar;
mod zip;

use std::fs::File;
use std::io::Read;
use std::path::Path;

pub use cordon_report::{Ecosystem, Role};

pub use crate::anomaly::{Anomaly, AnomalyKind};
pub use crate::error::Error;
pub use crate::language::{Language, detect as detect_language};
pub use crate::limits::{Limit, Limits, RATIO_EXEMPT_BYTES};
pub use crate::metadata::{
    DirectDependency, INSTALL_SCRIPTS, Metadata, PREPARE_SCRIPTS,
};
pub use crate::sniff::Format;

use crate::collect::{Collector, RawFile};
use crate::error::Failure;
use crate::limits::Budget;

/// A package read into memory.
#[derive(Clone, Debug)]
pub struct Package {
    /// The registry it belongs to, as its manifests tell.
    pub ecosystem: Option<Ecosystem>,
    /// Its name, from its own metadata.
    pub name: Option<String>,
    /// Its version, from its own metadata.
    pub version: Option<String>,
    /// What it was read from.
    pub format: Format,
    /// Its files, in the order the archive holds them (sorted for a
    /// directory).
    pub files: Vec<PackageFile>,
    /// What was odd about how it is packed.
    pub anomalies: Vec<Anomaly>,
    /// What its manifests say beyond name and version.
    pub metadata: Metadata,
}

impl Package {
    /// The file at `path`, if any.
    pub fn file(&self, path: &str) -> Option<&PackageFile> {
        self.files.iter().find(|f| f.path == path)
    }
}

/// One file of a package.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackageFile {
    /// Its path relative to the archive or directory, `/`-separated,
    /// normalised and valid UTF-8.
    pub path: String,
    /// Its language.
    pub language: Language,
    /// When its code runs.
    pub role: Role,
    /// Its contents.
    pub data: Vec<u8>,
}

impl PackageFile {
    /// The contents as text, if they are UTF-8.
    pub fn text(&self) -> Option<&str> {
        std::str::from_utf8(&self.data).ok()
    }
}

/// Reads a directory, a single file or an archive from disk. The format
/// of a file is sniffed from its bytes; a symlink given as the target is
/// followed, links inside it are not.
pub fn read_target(path: &Path, limits: &Limits) -> Result<Package, Error> {
    let io_error = |source| Error::Io { path: path.to_path_buf(), source };
    let meta = std::fs::metadata(path).map_err(io_error)?;
    if meta.is_dir() {
        return read_directory(path, limits);
    }
    if !meta.is_file() {
        return Err(Error::NotAFile { path: path.to_path_buf() });
    }

    let name = path.display().to_string();
    let mut bytes = Vec::new();
    let max = limits.max_total_size;
    let file = File::open(path).map_err(io_error)?;
    file.take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io_error)?;
    if bytes.len() as u64 > max {
        let limit = Limit::TotalSize(max);
        return Err(Error::Limit { name, limit });
    }
    read_bytes(&name, &bytes, limits)
}

/// Reads a package from bytes in memory: an archive, or a single file
/// called `name`. `name` names the input in errors and anomalies.
pub fn read_bytes(
    name: &str,
    bytes: &[u8],
    limits: &Limits,
) -> Result<Package, Error> {
    let budget = Budget::new(limits);
    let mut format = sniff::sniff(bytes);
    let mut out = Collector::new(&budget);
    if format == Format::File {
        if let Some(reason) = sniff::broken_start(bytes) {
            return Err(Failure::Corrupt(reason).named(name));
        }
        single_file(name, bytes, &mut out);
        return Ok(assemble(format, out, None));
    }

    archive::read_into(format, bytes, &mut out).map_err(|f| f.named(name))?;
    let mut gemspec = None;
    if format == Format::Tar && gem::is_gem(&out.files) {
        let outer = std::mem::take(&mut out.files);
        gemspec = gem::unpack(&outer, &mut out).map_err(|f| f.named(name))?;
        format = Format::Gem;
    }
    mismatch(name, format, &mut out);
    tracing::debug!(name, %format, files = out.files.len(), "read archive");

    let files = std::mem::take(&mut out.files);
    out.files = archive::expand(files, &mut out.anomalies, &budget, 0)
        .map_err(|f: Failure| f.named(name))?;
    Ok(assemble(format, out, gemspec.as_deref()))
}

/// Reads a directory under the limits.
fn read_directory(path: &Path, limits: &Limits) -> Result<Package, Error> {
    let name = path.display().to_string();
    let budget = Budget::new(limits);
    let mut out = Collector::new(&budget);
    dir::read(path, &mut out).map_err(|failure| match failure {
        dir::DirFailure::Root(source) => {
            Error::Io { path: path.to_path_buf(), source }
        }
        dir::DirFailure::Failure(failure) => failure.named(&name),
    })?;

    let files = std::mem::take(&mut out.files);
    out.files = archive::expand(files, &mut out.anomalies, &budget, 0)
        .map_err(|f| f.named(&name))?;
    Ok(assemble(Format::Directory, out, None))
}

/// A one-file package, named after the last component of `name`.
fn single_file(name: &str, bytes: &[u8], out: &mut Collector<'_>) {
    let base =
        name.rsplit(['/', '\\']).find(|s| !s.is_empty()).unwrap_or("file");
    if bytes.len() as u64 > out.budget.limits().max_entry_size {
        out.too_large(base, Some(bytes.len() as u64));
        return;
    }
    out.file(base.to_string(), bytes.to_vec());
}

/// Flags an archive whose name promises another format.
fn mismatch(name: &str, format: Format, out: &mut Collector<'_>) {
    let Some(named) = Format::from_name(name) else { return };
    if named == format {
        return;
    }
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let detail =
        format!("named like a {named} archive but is a {format} archive");
    out.anomaly(AnomalyKind::FormatMismatch, base, detail);
}

/// Classifies the collected files and reads the manifests.
fn assemble(
    format: Format,
    out: Collector<'_>,
    gemspec: Option<&str>,
) -> Package {
    let facts = manifest::read(&out.files, format, gemspec);
    let files =
        out.files.into_iter().map(|raw| classify(raw, &facts)).collect();
    let identity = facts.identity.clone();
    Package {
        ecosystem: identity.as_ref().map(|i| i.ecosystem),
        name: identity.as_ref().and_then(|i| i.name.clone()),
        version: identity.and_then(|i| i.version),
        format,
        files,
        anomalies: out.anomalies,
        metadata: facts.metadata,
    }
}

/// Gives a file its language and role.
fn classify(raw: RawFile, facts: &metadata::Facts) -> PackageFile {
    PackageFile {
        language: language::detect(&raw.path, &raw.data),
        role: role::role(&raw.path, raw.depth, facts),
        path: raw.path,
        data: raw.data,
    }
}
