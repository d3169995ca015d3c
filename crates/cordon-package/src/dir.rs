//! Packages given as directories, walked with the standard library.
//!
//! Every file is read, dotfiles and git-ignored files included: a
//! package can hide its payload there. Links are recorded, never
//! followed; fifos, sockets and devices are never opened. `.git`, `.hg`
//! and `.svn` (history, not the package) and `node_modules` (the
//! package's dependencies, each a package of its own) are skipped.

use std::fs::{self, File, Metadata};
use std::io;
use std::path::{Path, PathBuf};

use crate::anomaly::AnomalyKind;
use crate::collect::Collector;
use crate::error::Failure;
use crate::limits::read_at_most;
use crate::path::quoted;

/// Directory names whose contents are not part of the package.
const SKIPPED_DIRS: [&str; 4] = [".git", ".hg", ".svn", "node_modules"];

/// Why a directory could not be read.
pub(crate) enum DirFailure {
    /// The directory itself could not be listed.
    Root(io::Error),
    /// A limit was passed.
    Failure(Failure),
}

impl From<Failure> for DirFailure {
    fn from(failure: Failure) -> DirFailure {
        DirFailure::Failure(failure)
    }
}

/// Reads every file under `root` into `out`, in sorted order.
pub(crate) fn read(
    root: &Path,
    out: &mut Collector<'_>,
) -> Result<(), DirFailure> {
    let mut pending = vec![(root.to_path_buf(), String::new())];
    let mut first = true;
    while let Some((dir, rel)) = pending.pop() {
        let entries = match list(&dir) {
            Ok(entries) => entries,
            Err(error) if first => return Err(DirFailure::Root(error)),
            Err(error) => {
                let kind = AnomalyKind::EntryUnreadable;
                out.anomaly(kind, &rel, error.to_string());
                continue;
            }
        };
        first = false;

        let mut children = Vec::new();
        for entry in entries {
            out.budget.count_entry().map_err(Failure::from)?;
            children.extend(visit(entry, &rel, out)?);
        }
        // Pushed in reverse so that the walk pops them in sorted order.
        pending.extend(children.into_iter().rev());
    }
    Ok(())
}

/// The entries of a directory, sorted by name.
fn list(dir: &Path) -> io::Result<Vec<fs::DirEntry>> {
    let mut entries = fs::read_dir(dir)?.collect::<io::Result<Vec<_>>>()?;
    entries.sort_by_key(|entry| entry.file_name());
    Ok(entries)
}

/// Reads or records one entry; returns a subdirectory to walk.
fn visit(
    entry: fs::DirEntry,
    rel: &str,
    out: &mut Collector<'_>,
) -> Result<Option<(PathBuf, String)>, Failure> {
    let path = join(rel, &entry.file_name(), out);
    let file_type = match entry.file_type() {
        Ok(file_type) => file_type,
        Err(error) => {
            out.anomaly(
                AnomalyKind::EntryUnreadable,
                &path,
                error.to_string(),
            );
            return Ok(None);
        }
    };

    if file_type.is_dir() {
        return Ok(descend(entry.path(), path));
    }
    if file_type.is_symlink() {
        let target = fs::read_link(entry.path()).unwrap_or_default();
        let target = target.to_string_lossy();
        let detail = format!("points to {}", quoted(&target));
        out.anomaly(AnomalyKind::Symlink, &path, detail);
        return Ok(None);
    }
    if !file_type.is_file() {
        let detail = "a fifo, socket or device".to_string();
        out.anomaly(AnomalyKind::Device, &path, detail);
        return Ok(None);
    }
    read_file(&entry.path(), path, out)
}

/// The walk's next directory, unless it is one that is skipped.
fn descend(dir: PathBuf, path: String) -> Option<(PathBuf, String)> {
    let name = path.rsplit('/').next().unwrap_or_default();
    if SKIPPED_DIRS.contains(&name) {
        tracing::debug!(path, "skipped: not part of the package");
        return None;
    }
    Some((dir, path))
}

/// The path of a child, flagging a name that is not UTF-8.
fn join(rel: &str, name: &std::ffi::OsStr, out: &mut Collector<'_>) -> String {
    let lossy = name.to_string_lossy();
    let path = match rel.is_empty() {
        true => lossy.to_string(),
        false => format!("{rel}/{lossy}"),
    };
    if name.to_str().is_none() {
        out.anomaly(AnomalyKind::NonUtf8Name, &path, quoted(&path));
    }
    path
}

/// Reads one regular file under the entry size limit.
fn read_file(
    disk: &Path,
    path: String,
    out: &mut Collector<'_>,
) -> Result<Option<(PathBuf, String)>, Failure> {
    let max = out.budget.limits().max_entry_size;
    let read = open(disk).and_then(|(file, meta)| {
        if meta.len() > max {
            return Ok(Err(meta.len()));
        }
        Ok(read_at_most(file, meta.len(), max)?.ok_or(meta.len()))
    });

    match read {
        Ok(Ok(data)) => {
            out.budget.count_bytes(data.len() as u64)?;
            out.file(path, data);
        }
        Ok(Err(size)) => out.too_large(&path, Some(size)),
        Err(error) => {
            out.anomaly(
                AnomalyKind::EntryUnreadable,
                &path,
                error.to_string(),
            );
        }
    }
    Ok(None)
}

/// Opens a file without following a link and without blocking on a
/// fifo swapped in since the directory was listed; checks that what was
/// opened is a regular file.
fn open(disk: &Path) -> io::Result<(File, Metadata)> {
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let file = options.open(disk)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::other("no longer a regular file"));
    }
    Ok((file, meta))
}
