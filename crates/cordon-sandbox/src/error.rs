//! The errors of the sandbox: every failure names the object it was
//! about, in lowercase, and none of them is a panic.

use std::io;

/// Why the sandbox could not run a command.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A system call failed on the object named in `action`.
    #[error("cannot {action}: {}", describe(.errno))]
    Os {
        /// What cordon was doing, e.g. "bind-mount the workspace /x".
        action: String,
        /// The error the kernel returned.
        errno: io::Error,
    },
    /// The configuration asks for something that cannot be done.
    #[error("{0}")]
    Config(String),
    /// The part of cordon inside the sandbox failed while setting it up;
    /// the message is the error it reported.
    #[error("{0}")]
    Setup(String),
    /// `strict` was asked for and some layer would not be fully
    /// enforced; the command was not started.
    #[error("refusing to run: not fully enforced: {0}")]
    NotEnforced(String),
}

impl Error {
    /// The error for a failed system call while doing `action`.
    pub fn os(action: impl Into<String>, errno: io::Error) -> Error {
        Error::Os { action: action.into(), errno }
    }
}

/// A closure for `map_err` that turns an [`io::Error`] into
/// [`Error::Os`] for `action`.
pub(crate) fn os(
    action: impl Into<String>,
) -> impl FnOnce(io::Error) -> Error {
    move |errno| Error::os(action, errno)
}

/// "permission denied" for EACCES: the kernel's text in lowercase,
/// without the "(os error 13)" suffix.
pub fn describe(err: &io::Error) -> String {
    let text = err.to_string();
    let text = match text.find(" (os error") {
        Some(end) => &text[..end],
        None => &text,
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_lowercase_and_name_the_object() {
        let err = Error::os(
            "bind-mount the workspace /x",
            io::Error::from_raw_os_error(libc::EACCES),
        );
        assert_eq!(
            err.to_string(),
            "cannot bind-mount the workspace /x: permission denied"
        );
    }
}
