//! Archives of every format, and the archives nested inside them.

use crate::anomaly::{Anomaly, AnomalyKind};
use crate::collect::{Collector, RawFile};
use crate::error::Failure;
use crate::limits::{Budget, Limit, claim_within_ratio};
use crate::sniff::{Format, sniff};
use crate::{tar, zip};

/// Reads the archive in `bytes`, of a format [`sniff`] found, into
/// `out`. A [`Format::File`] holds nothing to read.
pub(crate) fn read_into(
    format: Format,
    bytes: &[u8],
    out: &mut Collector<'_>,
) -> Result<(), Failure> {
    if format == Format::Zip {
        return zip::read(bytes, out);
    }
    match format.compression() {
        Some(compression) => tar::read(compression, bytes, out),
        None => Ok(()),
    }
}

/// Replaces each archive among `files` by its entries, which appear
/// under the archive's path (`lib/x.zip/inner.py`), while `depth` is
/// below [`Limits::max_depth`](crate::Limits::max_depth).
///
/// Nested archives are data as often as code (numpy's `.npz` files are
/// zips of arrays that compress a thousandfold), so one that cannot be
/// read, that goes over the compression ratio, or whose own directory
/// says it would not fit in what is left of the package's limits, stays
/// unopened and is reported. Going over the entry or size limit while
/// reading one (it lied about its contents) fails the whole package.
pub(crate) fn expand(
    files: Vec<RawFile>,
    anomalies: &mut Vec<Anomaly>,
    budget: &Budget,
    depth: u32,
) -> Result<Vec<RawFile>, Failure> {
    let mut expanded = Vec::with_capacity(files.len());
    for file in files {
        let format = sniff(&file.data);
        if !format.is_archive() {
            expanded.push(file);
            continue;
        }
        let refusal = match depth >= budget.limits().max_depth {
            true => {
                Some((AnomalyKind::NestedTooDeep, too_deep(format, depth)))
            }
            false => refuse(&file.data, format, budget)
                .map(|reason| (AnomalyKind::NestedUnreadable, reason)),
        };
        if let Some((kind, detail)) = refusal {
            anomalies.push(anomaly(kind, &file.path, detail));
            expanded.push(file);
            continue;
        }

        match open(&file, format, budget, depth) {
            Ok((files, found)) => {
                tracing::debug!(path = file.path, %format, "opened nested archive");
                expanded.extend(files);
                anomalies.extend(found);
            }
            Err(Failure::Corrupt(reason)) => {
                let kind = AnomalyKind::NestedUnreadable;
                anomalies.push(anomaly(kind, &file.path, reason));
                expanded.push(file);
            }
            Err(Failure::Limit(limit @ Limit::Ratio(_))) => {
                let kind = AnomalyKind::NestedUnreadable;
                anomalies.push(anomaly(kind, &file.path, limit.to_string()));
                expanded.push(file);
            }
            Err(failure) => return Err(failure),
        }
    }
    Ok(expanded)
}

fn too_deep(format: Format, depth: u32) -> String {
    format!("a {format} archive nested {} deep", depth + 1)
}

/// Why a nested archive is better left unopened, judging by what it
/// claims to hold: a zip's central directory, a gzip stream's trailer.
fn refuse(bytes: &[u8], format: Format, budget: &Budget) -> Option<String> {
    let limits = budget.limits();
    let (entries, size) = match format {
        Format::Zip => zip::census(bytes, limits.max_entry_size)?,
        Format::TarGz => (0, gzip_size(bytes)?),
        _ => return None,
    };
    if !claim_within_ratio(limits, size, bytes.len() as u64) {
        return Some(Limit::Ratio(limits.max_ratio).to_string());
    }
    let left = limits.max_total_size.saturating_sub(budget.total());
    let entries_left = limits.max_entries.saturating_sub(budget.entries());
    if size > left || entries > entries_left {
        let detail = format!(
            "holds {entries} entries of {size} bytes, more than the \
             package's limits leave room for"
        );
        return Some(detail);
    }
    None
}

/// The uncompressed size a gzip stream's trailer states (modulo 4 GiB,
/// and only for its last member).
fn gzip_size(bytes: &[u8]) -> Option<u64> {
    let tail =
        bytes.len().checked_sub(4).and_then(|start| bytes.get(start..))?;
    let tail: [u8; 4] = tail.try_into().ok()?;
    Some(u64::from(u32::from_le_bytes(tail)))
}

/// Reads one nested archive and what is nested in it, with paths under
/// the archive's own.
fn open(
    file: &RawFile,
    format: Format,
    budget: &Budget,
    depth: u32,
) -> Result<(Vec<RawFile>, Vec<Anomaly>), Failure> {
    let mut inner = Collector::new(budget);
    read_into(format, &file.data, &mut inner)?;
    let mut anomalies = inner.anomalies;
    let files = expand(inner.files, &mut anomalies, budget, depth + 1)?;

    let prefix = |path: &str| match path.is_empty() {
        true => file.path.clone(),
        false => format!("{}/{}", file.path, path),
    };
    let files = files
        .into_iter()
        .map(|f| RawFile { path: prefix(&f.path), depth: f.depth + 1, ..f })
        .collect();
    for anomaly in &mut anomalies {
        anomaly.path = prefix(&anomaly.path);
    }
    Ok((files, anomalies))
}

fn anomaly(kind: AnomalyKind, path: &str, detail: String) -> Anomaly {
    tracing::debug!(kind = kind.id(), path, %detail, "anomaly");
    Anomaly { kind, path: path.to_string(), detail }
}
