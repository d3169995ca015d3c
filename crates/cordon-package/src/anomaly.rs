//! Things about a package's container worth reporting: entry names that
//! try to leave the package, links, devices, entries left out.

use std::fmt;

use serde::Serialize;

/// One thing worth reporting about how the package is packed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Anomaly {
    /// What kind of thing.
    pub kind: AnomalyKind,
    /// The entry's normalised path in the package (what a file at that
    /// place would be called), or the archive's file name for anomalies
    /// of the archive as a whole.
    pub path: String,
    /// What was seen, in a few words: the raw name, a link's target.
    pub detail: String,
}

/// The kinds of [`Anomaly`], each with a stable id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum AnomalyKind {
    /// An entry name with `..` components; they were resolved or
    /// dropped so that the path stays inside the package.
    PathTraversal,
    /// An absolute entry name; the leading `/` or drive was dropped.
    AbsolutePath,
    /// A symbolic link; never followed.
    Symlink,
    /// A hard link entry; never followed.
    Hardlink,
    /// A device, fifo or socket; never opened.
    Device,
    /// An entry name that is not UTF-8; converted lossily.
    NonUtf8Name,
    /// An archive nested deeper than the limit allows; kept unopened.
    NestedTooDeep,
    /// A nested archive that could not be read; kept unopened.
    NestedUnreadable,
    /// A file left out: over the size limit, encrypted, sparse, or with
    /// an empty name.
    EntrySkipped,
    /// A file whose contents could not be read or decompressed, while
    /// the rest of the archive could.
    EntryUnreadable,
    /// A second entry with the same path; both were kept.
    DuplicatePath,
    /// The archive's name says one format and its bytes another, such
    /// as a zip named `.tar.gz`.
    FormatMismatch,
}

impl AnomalyKind {
    /// Every kind, for catalogues and tests.
    pub const ALL: [AnomalyKind; 12] = [
        AnomalyKind::PathTraversal,
        AnomalyKind::AbsolutePath,
        AnomalyKind::Symlink,
        AnomalyKind::Hardlink,
        AnomalyKind::Device,
        AnomalyKind::NonUtf8Name,
        AnomalyKind::NestedTooDeep,
        AnomalyKind::NestedUnreadable,
        AnomalyKind::EntrySkipped,
        AnomalyKind::EntryUnreadable,
        AnomalyKind::DuplicatePath,
        AnomalyKind::FormatMismatch,
    ];

    /// The stable id, used in reports and to silence the anomaly. The
    /// same ids serve packages given as directories.
    pub fn id(&self) -> &'static str {
        match self {
            AnomalyKind::PathTraversal => "archive-path-traversal",
            AnomalyKind::AbsolutePath => "archive-absolute-path",
            AnomalyKind::Symlink => "archive-symlink",
            AnomalyKind::Hardlink => "archive-hardlink",
            AnomalyKind::Device => "archive-special-file",
            AnomalyKind::NonUtf8Name => "archive-non-utf8-name",
            AnomalyKind::NestedTooDeep => "archive-nested-too-deep",
            AnomalyKind::NestedUnreadable => "archive-nested-unreadable",
            AnomalyKind::EntrySkipped => "archive-entry-skipped",
            AnomalyKind::EntryUnreadable => "archive-entry-unreadable",
            AnomalyKind::DuplicatePath => "archive-duplicate-path",
            AnomalyKind::FormatMismatch => "archive-format-mismatch",
        }
    }
}

impl fmt::Display for AnomalyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl Serialize for AnomalyKind {
    fn serialize<S: serde::Serializer>(
        &self,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn ids_are_unique_and_prefixed() {
        let ids: HashSet<_> =
            AnomalyKind::ALL.iter().map(|k| k.id()).collect();

        assert_eq!(ids.len(), AnomalyKind::ALL.len());
        assert!(ids.iter().all(|id| id.starts_with("archive-")));
    }
}
