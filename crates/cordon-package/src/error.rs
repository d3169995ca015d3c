//! Why a package could not be read.

use std::io;
use std::path::PathBuf;

use crate::limits::Limit;

/// A package that could not be read. Each error names its input; a
/// hostile or broken archive is an error for that package only.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The target could not be opened or read from disk.
    #[error("cannot read `{path}`")]
    Io {
        /// The target.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: io::Error,
    },
    /// The target is neither a directory nor a regular file.
    #[error("cannot read `{path}`: not a file or directory")]
    NotAFile {
        /// The target.
        path: PathBuf,
    },
    /// The archive is broken: truncated, corrupt or not what it claims.
    #[error("cannot read archive `{name}`: {reason}")]
    Corrupt {
        /// The archive, as given.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The package is larger than the [`Limits`](crate::Limits) allow.
    #[error("cannot read `{name}`: {limit}")]
    Limit {
        /// The package, as given.
        name: String,
        /// The limit it went over.
        limit: Limit,
    },
}

/// Why reading stopped, before the input's name is attached.
#[derive(Debug)]
pub(crate) enum Failure {
    /// A limit was passed.
    Limit(Limit),
    /// The archive is broken; the reason.
    Corrupt(String),
}

impl Failure {
    /// Attaches the input's name.
    pub(crate) fn named(self, name: &str) -> Error {
        let name = name.to_string();
        match self {
            Failure::Limit(limit) => Error::Limit { name, limit },
            Failure::Corrupt(reason) => Error::Corrupt { name, reason },
        }
    }
}

impl From<Limit> for Failure {
    fn from(limit: Limit) -> Failure {
        Failure::Limit(limit)
    }
}
