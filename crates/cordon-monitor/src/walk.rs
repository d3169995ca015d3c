//! What changed in the workspace: a walk before the run and one after,
//! never following a link.
//!
//! A file counts as modified when its size, inode, modification time or
//! change time moved. The change time is the one a command cannot set:
//! a file rewritten and given back its old modification time (`touch
//! -d`, `utimensat`) still shows, and so does a `chmod`.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use cordon_report::events::{Change, ChangeKind, WorkspaceChanges};

/// How many entries a walk reads before it stops.
pub const MAX_ENTRIES: usize = 200_000;

/// How many changes the report lists; the counts go on.
const MAX_LISTED: usize = 10_000;

/// What a walk knows of one entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Entry {
    size: u64,
    inode: u64,
    mtime_ns: i128,
    ctime_ns: i128,
    kind: Kind,
}

impl Entry {
    fn of(meta: &fs::Metadata, kind: Kind) -> Entry {
        Entry {
            size: meta.len(),
            inode: meta.ino(),
            mtime_ns: nanoseconds(meta.mtime(), meta.mtime_nsec()),
            ctime_ns: nanoseconds(meta.ctime(), meta.ctime_nsec()),
            kind,
        }
    }
}

fn nanoseconds(seconds: i64, nanos: i64) -> i128 {
    i128::from(seconds) * 1_000_000_000 + i128::from(nanos)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    File,
    Dir,
    Symlink,
    Other,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::File => "file",
            Kind::Dir => "dir",
            Kind::Symlink => "symlink",
            Kind::Other => "other",
        }
    }
}

/// The entries of a tree at one moment, by path relative to its root.
#[derive(Debug, Default)]
pub struct Snapshot {
    entries: HashMap<PathBuf, Entry>,
    /// Paths left out of every comparison: see [`Snapshot::forget`].
    forgotten: Vec<PathBuf>,
    /// Why the walk stopped short, when it did.
    incomplete: Option<String>,
}

impl Snapshot {
    /// Walks `root`, up to `limit` entries.
    pub fn take(root: &Path, limit: usize) -> Snapshot {
        let mut snapshot = Snapshot::default();
        let complete = walk(root, limit, |path, entry| {
            snapshot.entries.insert(path.to_path_buf(), entry);
        });
        if !complete {
            snapshot.incomplete = Some(too_many(limit));
        }
        snapshot
    }

    /// Leaves `paths` (relative to the root) out of the snapshot and of
    /// the comparison, so that no change lists them: files the caller
    /// writes itself.
    pub fn forget(&mut self, paths: &[PathBuf]) {
        for path in paths {
            self.entries.remove(path);
        }
        self.forgotten.extend_from_slice(paths);
    }

    /// Walks `root` again and returns what changed since the snapshot
    /// was taken, sorted by path. Each entry met is ticked off the
    /// snapshot, so one walk and one table do: what is left at the end
    /// was deleted. When either walk stopped short, deletions are not
    /// listed (the entries not met may still be there), and the
    /// changes say the comparison is incomplete.
    pub fn changes(mut self, root: &Path, limit: usize) -> WorkspaceChanges {
        let mut found = BTreeMap::new();
        let complete = walk(root, limit, |path, new| {
            if self.forgotten.iter().any(|f| f == path) {
                return;
            }
            match self.entries.remove(path) {
                None => {
                    let change = (ChangeKind::Created, new);
                    found.insert(path.to_path_buf(), change);
                }
                Some(old) if changed(&old, &new) => {
                    let change = (ChangeKind::Modified, new);
                    found.insert(path.to_path_buf(), change);
                }
                Some(_) => {}
            }
        });
        let incomplete =
            self.incomplete.or_else(|| (!complete).then(|| too_many(limit)));
        if incomplete.is_none() {
            for (path, old) in self.entries {
                found.insert(path, (ChangeKind::Deleted, old));
            }
        }
        summarize(found, incomplete)
    }
}

/// Calls `visit` with each entry under `root`, by path relative to it,
/// never following a link; false when it stopped at `limit` entries.
fn walk(
    root: &Path,
    limit: usize,
    mut visit: impl FnMut(&Path, Entry),
) -> bool {
    let mut seen = 0;
    let mut pending = vec![PathBuf::new()];
    while let Some(relative) = pending.pop() {
        let Ok(dir) = fs::read_dir(root.join(&relative)) else {
            continue;
        };
        // One buffer per folder, each name pushed and popped in turn.
        let mut path = relative;
        for entry in dir.flatten() {
            if seen >= limit {
                return false;
            }
            let Ok(meta) = entry.metadata() else { continue };
            seen += 1;
            let kind = kind_of(&meta);
            path.push(entry.file_name());
            visit(&path, Entry::of(&meta, kind));
            if kind == Kind::Dir {
                pending.push(path.clone());
            }
            path.pop();
        }
    }
    true
}

fn too_many(limit: usize) -> String {
    format!(
        "the workspace has more than {limit} entries; \
         the rest were not compared"
    )
}

/// Whether an entry changed: a directory only when it became something
/// else (its times change with every file made in it).
fn changed(old: &Entry, new: &Entry) -> bool {
    if old.kind != new.kind {
        return true;
    }
    new.kind != Kind::Dir
        && (old.size != new.size
            || old.inode != new.inode
            || old.mtime_ns != new.mtime_ns
            || old.ctime_ns != new.ctime_ns)
}

fn summarize(
    found: BTreeMap<PathBuf, (ChangeKind, Entry)>,
    incomplete: Option<String>,
) -> WorkspaceChanges {
    let mut changes = WorkspaceChanges { incomplete, ..Default::default() };
    for (path, (change, entry)) in found {
        match change {
            ChangeKind::Created => changes.created += 1,
            ChangeKind::Modified => changes.modified += 1,
            ChangeKind::Deleted => changes.deleted += 1,
        }
        if changes.changes.len() < MAX_LISTED {
            changes.changes.push(Change {
                path: path.to_string_lossy().into_owned(),
                change,
                size: entry.size,
                kind: entry.kind.name().to_owned(),
            });
        }
    }
    changes
}

fn kind_of(meta: &fs::Metadata) -> Kind {
    let kind = meta.file_type();
    if kind.is_symlink() {
        Kind::Symlink
    } else if kind.is_dir() {
        Kind::Dir
    } else if kind.is_file() {
        Kind::File
    } else {
        Kind::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_modified_and_deleted_files_are_told_apart() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir(root.join("sub")).unwrap();
        fs::write(root.join("sub/kept"), "same").unwrap();
        fs::write(root.join("changed"), "old").unwrap();
        fs::write(root.join("gone"), "x").unwrap();
        let before = Snapshot::take(root, MAX_ENTRIES);
        fs::write(root.join("changed"), "longer").unwrap();
        fs::remove_file(root.join("gone")).unwrap();
        fs::write(root.join("sub/new"), "12345").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", root.join("link")).unwrap();

        let diff = before.changes(root, MAX_ENTRIES);
        let listed: Vec<(&str, ChangeKind, u64)> = diff
            .changes
            .iter()
            .map(|c| (c.path.as_str(), c.change, c.size))
            .collect();
        assert_eq!(
            listed,
            [
                ("changed", ChangeKind::Modified, 6),
                ("gone", ChangeKind::Deleted, 1),
                ("link", ChangeKind::Created, 11),
                ("sub/new", ChangeKind::Created, 5),
            ]
        );
        assert_eq!((diff.created, diff.modified, diff.deleted), (2, 1, 1));
        assert!(diff.incomplete.is_none());
    }

    #[test]
    fn a_rewrite_behind_its_old_modification_time_still_shows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("setup.cfg");
        fs::write(&path, "honest").unwrap();
        let old = fs::metadata(&path).unwrap().modified().unwrap();
        let before = Snapshot::take(dir.path(), MAX_ENTRIES);
        // The change time has a clock tick to move on.
        std::thread::sleep(std::time::Duration::from_millis(20));
        fs::write(&path, "hostil").unwrap();
        let file = fs::File::options().write(true).open(&path).unwrap();
        file.set_modified(old).unwrap();
        drop(file);
        assert_eq!(fs::metadata(&path).unwrap().modified().unwrap(), old);

        let diff = before.changes(dir.path(), MAX_ENTRIES);
        assert_eq!(diff.modified, 1);
        assert_eq!(diff.changes[0].path, "setup.cfg");
    }

    #[test]
    fn a_walk_stops_at_its_limit_and_says_so() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..5 {
            fs::write(dir.path().join(i.to_string()), "").unwrap();
        }
        let snapshot = Snapshot::take(dir.path(), 3);
        assert_eq!(snapshot.entries.len(), 3);
        assert!(snapshot.incomplete.is_some());
    }

    #[test]
    fn forgotten_paths_are_never_listed() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::write(root.join("report.json"), "old").unwrap();
        let mut before = Snapshot::take(root, MAX_ENTRIES);
        before.forget(&[PathBuf::from("report.json")]);
        fs::write(root.join("report.json"), "rewritten by cordon").unwrap();
        fs::write(root.join("dropped"), "by the command").unwrap();

        let diff = before.changes(root, MAX_ENTRIES);
        let paths: Vec<&str> =
            diff.changes.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(paths, ["dropped"]);
    }

    #[test]
    fn a_short_second_walk_lists_no_deletions() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..5 {
            fs::write(dir.path().join(i.to_string()), "").unwrap();
        }
        let before = Snapshot::take(dir.path(), MAX_ENTRIES);
        let diff = before.changes(dir.path(), 2);
        assert_eq!(diff.deleted, 0);
        assert!(diff.incomplete.is_some());
    }
}
