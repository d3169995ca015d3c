//! Reading tar archives, plain or compressed, as one stream.
//!
//! Every byte that comes out of the decompressor passes a [`Meter`], so
//! the entry and size limits and the compression ratio hold whatever the
//! headers say, and even while an oversized entry is being skipped.

use std::io::{self, Read};

use tar::EntryType;

use crate::anomaly::AnomalyKind;
use crate::collect::Collector;
use crate::error::Failure;
use crate::limits::{Meter, read_at_most};
use crate::path::quoted;
use crate::sniff::{Compression, decoder};

/// Reads the tar inside `bytes`, decompressing it first.
pub(crate) fn read(
    compression: Compression,
    bytes: &[u8],
    out: &mut Collector<'_>,
) -> Result<(), Failure> {
    let compressed = match compression {
        Compression::None => None,
        _ => Some(bytes.len() as u64),
    };
    let meter = Meter::new(out.budget, compressed);
    let result = read_entries(meter.reader(decoder(compression, bytes)), out);
    result.map_err(|error| failure(compression, &meter, error))
}

/// Reads every entry of a tar stream, then the rest of the stream.
///
/// A tar ends at its first zero block, so a compressed archive cut short
/// after one still yields every entry; reading on to the end of the
/// compressed stream is what tells it was truncated. The rest is read
/// through the meter like everything else.
fn read_entries<R: Read>(
    source: R,
    out: &mut Collector<'_>,
) -> io::Result<()> {
    let mut archive = tar::Archive::new(source);
    for entry in archive.entries()? {
        let mut entry = entry?;
        out.budget.count_entry().map_err(io::Error::other)?;
        read_entry(&mut entry, out)?;
    }
    io::copy(&mut archive.into_inner(), &mut io::sink())?;
    Ok(())
}

/// Reads one entry: a file's contents, or an anomaly for what is not a
/// plain file. Directories only count towards the entry limit.
fn read_entry<R: Read>(
    entry: &mut tar::Entry<'_, R>,
    out: &mut Collector<'_>,
) -> io::Result<()> {
    let kind = entry.header().entry_type();
    if matches!(kind, EntryType::XGlobalHeader | EntryType::Directory) {
        return Ok(());
    }
    let raw = entry.path_bytes().into_owned();
    let Some(path) = out.name(&raw, false) else { return Ok(()) };

    match kind {
        EntryType::Symlink | EntryType::Link => {
            let target = entry.link_name_bytes().unwrap_or_default();
            let target = String::from_utf8_lossy(&target);
            let detail = format!("points to {}", quoted(&target));
            let kind = match entry.header().entry_type() {
                EntryType::Symlink => AnomalyKind::Symlink,
                _ => AnomalyKind::Hardlink,
            };
            out.anomaly(kind, &path, detail);
        }
        EntryType::Char | EntryType::Block | EntryType::Fifo => {
            let detail = format!("a {kind:?} entry").to_lowercase();
            out.anomaly(AnomalyKind::Device, &path, detail);
        }
        EntryType::GNUSparse => {
            let detail = "a sparse file".to_string();
            out.anomaly(AnomalyKind::EntrySkipped, &path, detail);
        }
        // Regular files, and types tar tools extract as regular files.
        _ => read_file(entry, path, out)?,
    }
    Ok(())
}

/// Reads a regular file's contents, unless the header says it is too
/// large: then the archive skips its data (still metered).
fn read_file<R: Read>(
    entry: &mut tar::Entry<'_, R>,
    path: String,
    out: &mut Collector<'_>,
) -> io::Result<()> {
    let max = out.budget.limits().max_entry_size;
    let size = entry.size();
    if size > max {
        out.too_large(&path, Some(size));
        return Ok(());
    }
    match read_at_most(entry, size, max)? {
        Some(data) => out.file(path, data),
        None => out.too_large(&path, None),
    }
    Ok(())
}

/// Turns an error from the tar stream into the reason reading stopped:
/// a limit, a broken compressed stream, or a broken tar.
fn failure(
    compression: Compression,
    meter: &Meter<'_>,
    error: io::Error,
) -> Failure {
    if let Some(limit) = meter.breach() {
        return Failure::Limit(limit);
    }
    let (layer, error) = match meter.take_inner_error() {
        Some(inner) => (compression.name(), inner),
        None => ("tar", error),
    };
    Failure::Corrupt(match error.kind() {
        io::ErrorKind::UnexpectedEof => format!("truncated {layer} stream"),
        _ => format!("corrupt {layer} stream: {error}"),
    })
}
