//! The errors of fetching a package and of reading a lockfile.

use std::path::PathBuf;

/// Why a package could not be fetched. Every message names the package
/// and, once a request was made, the URL.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The target spec could not be understood.
    #[error("invalid package spec `{spec}`: {reason}")]
    Spec {
        /// The spec as given.
        spec: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The registry does not know the package (HTTP 404).
    #[error("no such package {package} at {url}")]
    NotFound {
        /// The package, as a spec.
        package: String,
        /// The URL that answered 404.
        url: String,
    },
    /// The registry knows the package but not the version asked for.
    #[error("no such version of {package} at {url}")]
    NoSuchVersion {
        /// The package, as a spec.
        package: String,
        /// The metadata URL.
        url: String,
    },
    /// The version exists but was yanked, and yanked versions were not
    /// asked for.
    #[error("{package} is yanked at {url}")]
    Yanked {
        /// The package, as a spec.
        package: String,
        /// The index URL.
        url: String,
    },
    /// The registry has no file of the version that cordon can read.
    #[error("no downloadable file of {package} at {url}")]
    NoFile {
        /// The package, as a spec.
        package: String,
        /// The metadata URL.
        url: String,
    },
    /// The registry answered with an unexpected HTTP status.
    #[error("cannot fetch {package}: {url} answered http status {status}")]
    Status {
        /// The package, as a spec.
        package: String,
        /// The URL.
        url: String,
        /// The HTTP status.
        status: u16,
    },
    /// The request failed: no connection, a timeout, a TLS error.
    #[error("cannot fetch {package} from {url}: {message}")]
    Http {
        /// The package, as a spec.
        package: String,
        /// The URL.
        url: String,
        /// What the HTTP client said.
        message: String,
        /// Whether the failure was a timeout.
        timeout: bool,
    },
    /// The response was larger than the client accepts.
    #[error("cannot fetch {package}: {url} sent more than {limit} bytes")]
    TooLarge {
        /// The package, as a spec.
        package: String,
        /// The URL.
        url: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// The registry's metadata could not be understood.
    #[error("invalid metadata for {package} from {url}: {reason}")]
    Metadata {
        /// The package, as a spec.
        package: String,
        /// The URL.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The registry gives no digest cordon can check the file against.
    #[error("refusing {package} from {url}: the registry gives no digest")]
    NoDigest {
        /// The package, as a spec.
        package: String,
        /// The download URL.
        url: String,
    },
    /// The downloaded bytes do not match the expected digest.
    #[error(
        "refusing {package} from {url}: digest mismatch \
         (expected {expected}, got {actual})"
    )]
    DigestMismatch {
        /// The package, as a spec.
        package: String,
        /// The download URL.
        url: String,
        /// The digest the registry or the lockfile promised.
        expected: String,
        /// The digest of the bytes received.
        actual: String,
    },
}

/// Why a lockfile could not be read. Messages name the file and, where
/// the format allows, the line.
#[derive(Debug, thiserror::Error)]
pub enum LockfileError {
    /// The file could not be read from disk.
    #[error("cannot read lockfile `{}`", path.display())]
    Io {
        /// The lockfile.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file name is not one of the known lockfile names.
    #[error("`{}` is not a known lockfile", path.display())]
    Unknown {
        /// The file.
        path: PathBuf,
    },
    /// The contents are malformed.
    #[error("invalid lockfile `{}`{}: {message}", path.display(), at(*line))]
    Parse {
        /// The lockfile.
        path: PathBuf,
        /// The 1-based line, when the format tells it.
        line: Option<usize>,
        /// What is wrong.
        message: String,
    },
}

fn at(line: Option<usize>) -> String {
    line.map(|line| format!(" line {line}")).unwrap_or_default()
}
