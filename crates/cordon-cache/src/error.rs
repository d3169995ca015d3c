//! The errors of the scan cache.

use std::path::PathBuf;

/// Why the cache could not be opened, read or written. Every message
/// names the cache file.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The cache's directory could not be created.
    #[error("cannot create the cache directory `{}`", path.display())]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A corrupt cache file could not be moved aside.
    #[error("cannot move the corrupt cache `{}` aside", path.display())]
    MoveAside {
        /// The cache file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// SQLite refused an operation on the cache.
    #[error("cache `{}`: {action}", path.display())]
    Sqlite {
        /// The cache file.
        path: PathBuf,
        /// What was being done: `open`, `read`, `write`.
        action: &'static str,
        /// The cause.
        #[source]
        source: rusqlite::Error,
    },
}

impl Error {
    /// Whether the error says the file is not a sound database, so that
    /// moving it aside and starting afresh is the cure.
    pub fn is_corrupt(&self) -> bool {
        match self {
            Error::Sqlite { source, .. } => is_corrupt(source),
            _ => false,
        }
    }
}

/// Whether SQLite says the file is damaged or not a database at all.
pub(crate) fn is_corrupt(err: &rusqlite::Error) -> bool {
    use rusqlite::ErrorCode::{DatabaseCorrupt, NotADatabase};
    matches!(err.sqlite_error_code(), Some(DatabaseCorrupt | NotADatabase))
}
