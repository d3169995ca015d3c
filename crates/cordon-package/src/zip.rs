//! Reading zip archives (`.zip`, `.whl`, `.egg`, `.jar`) from memory.
//!
//! The central directory decides which entries exist; each entry's
//! decompressed bytes are metered like a tar stream's, so a lying size
//! field or overlapping entries cannot get past the limits. Unlike a
//! tar, one broken entry does not hide the others: it is reported and
//! the rest are read.

use std::io::{Cursor, Read};

use zip::ZipArchive;

use crate::anomaly::AnomalyKind;
use crate::collect::Collector;
use crate::error::Failure;
use crate::limits::{Limit, Meter, claim_within_ratio, read_at_most};
use crate::path::quoted;

/// The file type bits of a unix mode.
const TYPE_MASK: u32 = 0o170_000;
const TYPE_DIR: u32 = 0o040_000;
const TYPE_SYMLINK: u32 = 0o120_000;
const TYPE_REGULAR: u32 = 0o100_000;

/// How much of a symlink entry is read to show its target.
const MAX_LINK_TARGET: u64 = 4096;

type Archive<'a> = ZipArchive<Cursor<&'a [u8]>>;

/// Reads every entry of the zip archive in `bytes`.
pub(crate) fn read(
    bytes: &[u8],
    out: &mut Collector<'_>,
) -> Result<(), Failure> {
    let mut archive = ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| Failure::Corrupt(format!("invalid zip archive: {e}")))?;
    let limits = *out.budget.limits();
    if archive.len() as u64 > limits.max_entries {
        let limit = Limit::Entries(limits.max_entries);
        return Err(out.budget.fail(limit).into());
    }
    let claimed = claimed_size(&archive, limits.max_entry_size);
    if !claim_within_ratio(&limits, claimed, bytes.len() as u64) {
        return Err(Failure::Limit(Limit::Ratio(limits.max_ratio)));
    }

    let meter = Meter::new(out.budget, Some(bytes.len() as u64));
    for index in 0..archive.len() {
        out.budget.count_entry()?;
        read_entry(&mut archive, index, &meter, out)?;
    }
    Ok(())
}

/// How many entries a zip archive holds and how many bytes the ones
/// that would be read claim to hold, from its central directory alone.
pub(crate) fn census(bytes: &[u8], max_entry_size: u64) -> Option<(u64, u64)> {
    let archive = ZipArchive::new(Cursor::new(bytes)).ok()?;
    Some((archive.len() as u64, claimed_size(&archive, max_entry_size)))
}

/// The sizes claimed by entries no larger than `max_entry_size` (larger
/// ones are skipped unread), added up.
fn claimed_size(archive: &Archive<'_>, max_entry_size: u64) -> u64 {
    (0..archive.len())
        .filter_map(|index| archive.by_index_data(index).ok())
        .map(|entry| entry.size())
        .filter(|&size| size <= max_entry_size)
        .fold(0, u64::saturating_add)
}

/// What the central directory says about one entry.
struct Info {
    raw_name: Vec<u8>,
    mode: u32,
    size: u64,
    encrypted: bool,
    is_dir: bool,
}

/// Reads one entry, or records why it was not read.
fn read_entry(
    archive: &mut Archive<'_>,
    index: usize,
    meter: &Meter<'_>,
    out: &mut Collector<'_>,
) -> Result<(), Failure> {
    let info = match archive.by_index_data(index) {
        Ok(entry) => Info {
            raw_name: entry.name_raw().to_vec(),
            mode: entry.unix_mode().unwrap_or(0),
            size: entry.size(),
            encrypted: entry.encrypted(),
            is_dir: entry.is_dir(),
        },
        Err(e) => {
            return Err(Failure::Corrupt(format!("invalid zip entry: {e}")));
        }
    };
    let Some(path) = out.name(&info.raw_name, true) else { return Ok(()) };

    match info.mode & TYPE_MASK {
        TYPE_DIR => return Ok(()),
        TYPE_SYMLINK => return symlink(archive, index, &path, meter, out),
        0 | TYPE_REGULAR if info.is_dir => return Ok(()),
        0 | TYPE_REGULAR => {}
        other => {
            let detail = format!("unix file type {other:o}");
            out.anomaly(AnomalyKind::Device, &path, detail);
            return Ok(());
        }
    }
    if info.encrypted {
        let detail = "an encrypted entry".to_string();
        out.anomaly(AnomalyKind::EntrySkipped, &path, detail);
        return Ok(());
    }
    read_file(archive, index, info.size, path, meter, out)
}

/// Reads a regular file's contents under the entry size limit.
fn read_file(
    archive: &mut Archive<'_>,
    index: usize,
    claimed: u64,
    path: String,
    meter: &Meter<'_>,
    out: &mut Collector<'_>,
) -> Result<(), Failure> {
    let max = out.budget.limits().max_entry_size;
    if claimed > max {
        out.too_large(&path, Some(claimed));
        return Ok(());
    }
    let file = match archive.by_index(index) {
        Ok(file) => file,
        Err(e) => {
            out.anomaly(AnomalyKind::EntryUnreadable, &path, e.to_string());
            return Ok(());
        }
    };

    match read_at_most(meter.reader(file), claimed, max) {
        Ok(Some(data)) => out.file(path, data),
        Ok(None) => out.too_large(&path, None),
        Err(e) => match meter.breach() {
            Some(limit) => return Err(Failure::Limit(limit)),
            None => {
                let detail = e.to_string();
                out.anomaly(AnomalyKind::EntryUnreadable, &path, detail);
            }
        },
    }
    Ok(())
}

/// Records a symlink entry with its target, read but never followed.
fn symlink(
    archive: &mut Archive<'_>,
    index: usize,
    path: &str,
    meter: &Meter<'_>,
    out: &mut Collector<'_>,
) -> Result<(), Failure> {
    let mut target = Vec::new();
    if let Ok(file) = archive.by_index(index) {
        // A target that cannot be read is still a symlink worth noting.
        let mut reader = meter.reader(file).take(MAX_LINK_TARGET);
        let _ = reader.read_to_end(&mut target);
    }
    if let Some(limit) = meter.breach() {
        return Err(Failure::Limit(limit));
    }
    let target = String::from_utf8_lossy(&target);
    let detail = format!("points to {}", quoted(&target));
    out.anomaly(AnomalyKind::Symlink, path, detail);
    Ok(())
}
