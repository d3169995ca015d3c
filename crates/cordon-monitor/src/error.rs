//! The monitor's errors: each names the object it was about, in
//! lowercase.

use std::io;

/// Why the monitor could not start or went on no longer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A system call failed on the object named in `action`.
    #[error("cannot {action}: {errno}")]
    Os {
        /// What the monitor was doing, e.g. "receive a notification".
        action: String,
        /// The error the kernel returned.
        errno: io::Error,
    },
    /// The monitor's thread panicked; the message says where.
    #[error("the monitor's thread failed: {0}")]
    Panicked(String),
}

/// A closure for `map_err` that turns an [`io::Error`] into
/// [`Error::Os`] for `action`.
pub(crate) fn os(
    action: impl Into<String>,
) -> impl FnOnce(io::Error) -> Error {
    move |errno| Error::Os { action: action.into(), errno }
}
