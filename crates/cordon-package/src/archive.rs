//! Archives of every format, and the archives nested inside them.

use crate::anomaly::{Anomaly, AnomalyKind};
use crate::collect::{Collector, RawFile};
use crate::error::Failure;
use crate::limits::Budget;
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
/// below [`Limits::max_depth`](crate::Limits::max_depth). Deeper
/// archives, and nested archives that cannot be read, stay as they are
/// and are reported. Limits are shared with the outer package: passing
/// one inside a nested archive fails the whole package.
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
        if depth >= budget.limits().max_depth {
            let detail =
                format!("a {format} archive nested {} deep", depth + 1);
            anomalies.push(anomaly(
                AnomalyKind::NestedTooDeep,
                &file.path,
                detail,
            ));
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
            Err(failure) => return Err(failure),
        }
    }
    Ok(expanded)
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
