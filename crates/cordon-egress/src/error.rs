//! The errors of the egress proxy.

/// What can go wrong when building an allow list.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An allow-list entry that is not `HOST[:PORT]`.
    #[error("invalid allowed host `{entry}`: {reason}")]
    InvalidRule {
        /// The entry as given.
        entry: String,
        /// What is wrong with it.
        reason: String,
    },
}
