//! Ruby gems: a plain tar holding `data.tar.gz` (the package's files)
//! and `metadata.gz` (the gemspec, as gzipped YAML).

use crate::archive;
use crate::collect::{Collector, RawFile};
use crate::error::Failure;
use crate::limits::{Meter, read_at_most};
use crate::sniff::{Compression, decoder, sniff};

const DATA: &str = "data.tar.gz";
const METADATA: &str = "metadata.gz";

/// Whether the entries of a tar are those of a gem.
pub(crate) fn is_gem(files: &[RawFile]) -> bool {
    let has = |name: &str| files.iter().any(|f| f.path == name);
    has(DATA) && has(METADATA)
}

/// Reads a gem's `data.tar.gz` into `out` as the package's files, and
/// returns the gemspec YAML when `metadata.gz` could be read.
pub(crate) fn unpack(
    outer: &[RawFile],
    out: &mut Collector<'_>,
) -> Result<Option<String>, Failure> {
    let data = outer.iter().find(|f| f.path == DATA);
    let data = data.map(|f| f.data.as_slice()).unwrap_or_default();
    let format = sniff(data);
    if format.compression().is_none() {
        let reason = format!("gem `{DATA}` is not a tar archive");
        return Err(Failure::Corrupt(reason));
    }
    archive::read_into(format, data, out)?;

    let metadata = outer.iter().find(|f| f.path == METADATA);
    let metadata = metadata.map(|f| f.data.as_slice()).unwrap_or_default();
    gemspec(metadata, out)
}

/// Decompresses the gemspec under the package's limits.
fn gemspec(
    compressed: &[u8],
    out: &mut Collector<'_>,
) -> Result<Option<String>, Failure> {
    let meter = Meter::new(out.budget, Some(compressed.len() as u64));
    let reader = meter.reader(decoder(Compression::Gzip, compressed));
    let max = out.budget.limits().max_entry_size;
    let yaml = read_at_most(reader, 0, max);
    if let Some(limit) = meter.breach() {
        return Err(Failure::Limit(limit));
    }
    match yaml {
        Ok(Some(yaml)) => {
            Ok(Some(String::from_utf8_lossy(&yaml).into_owned()))
        }
        Ok(None) => {
            out.too_large(METADATA, None);
            Ok(None)
        }
        Err(e) => {
            let kind = crate::AnomalyKind::EntryUnreadable;
            out.anomaly(kind, METADATA, format!("corrupt gzip stream: {e}"));
            Ok(None)
        }
    }
}
