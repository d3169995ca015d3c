//! Limits on what reading one package may cost, and the budget that
//! enforces them while the bytes stream in.
//!
//! Sizes are never taken from headers: the [`Meter`] counts the bytes a
//! decompressor or a file actually produced, so an archive that lies
//! about its sizes is stopped all the same.

use std::cell::{Cell, RefCell};
use std::io::{self, Read};

/// Archives whose contents stay under this many bytes are never stopped
/// by [`Limits::max_ratio`]: a tiny file of repeated bytes compresses
/// very well and is no threat.
pub const RATIO_EXEMPT_BYTES: u64 = 1 << 20;

/// How much reading one package may cost.
///
/// A package that goes over [`max_entries`](Self::max_entries),
/// [`max_total_size`](Self::max_total_size) or
/// [`max_ratio`](Self::max_ratio) is not read at all: the reader stops
/// as soon as the limit is passed and returns [`Error::Limit`]. A single
/// file over [`max_entry_size`](Self::max_entry_size) is left out and
/// recorded as an [`AnomalyKind::EntrySkipped`] anomaly; the rest of the
/// package is read.
///
/// Memory stays below about the size of the input plus
/// `max_total_size`, whatever the input claims.
///
/// [`Error::Limit`]: crate::Error::Limit
/// [`AnomalyKind::EntrySkipped`]: crate::AnomalyKind::EntrySkipped
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Entries per package, counting files, directories, links and the
    /// entries of nested archives. Default: 100 000.
    pub max_entries: u64,
    /// Bytes of one file. Default: 64 MiB.
    pub max_entry_size: u64,
    /// Uncompressed bytes of the whole package, nested archives
    /// included; also the largest archive file that is read. Default:
    /// 1 GiB.
    pub max_total_size: u64,
    /// Uncompressed bytes per compressed byte of one archive, checked
    /// once its contents pass [`RATIO_EXEMPT_BYTES`]. Default: 250, far
    /// above source code (3 to 10) and far below a decompression bomb
    /// (about 1000 for gzip).
    pub max_ratio: u64,
    /// How deep archives inside the package are opened: at 1, an
    /// archive inside the package is read, an archive inside that one
    /// is not. Default: 1.
    pub max_depth: u32,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_entries: 100_000,
            max_entry_size: 64 << 20,
            max_total_size: 1 << 30,
            max_ratio: 250,
            max_depth: 1,
        }
    }
}

/// The limit a package went over.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Limit {
    /// More entries than [`Limits::max_entries`].
    #[error("more than {0} entries")]
    Entries(u64),
    /// More uncompressed bytes than [`Limits::max_total_size`].
    #[error("more than {0} bytes uncompressed")]
    TotalSize(u64),
    /// A compression ratio above [`Limits::max_ratio`].
    #[error("compression ratio above {0} to 1")]
    Ratio(u64),
}

/// What one package has used of its limits so far; shared by the
/// package and every archive nested in it.
pub(crate) struct Budget {
    limits: Limits,
    entries: Cell<u64>,
    total: Cell<u64>,
    breach: Cell<Option<Limit>>,
}

impl Budget {
    /// A budget with nothing used yet.
    pub(crate) fn new(limits: &Limits) -> Budget {
        Budget {
            limits: *limits,
            entries: Cell::new(0),
            total: Cell::new(0),
            breach: Cell::new(None),
        }
    }

    /// The limits this budget enforces.
    pub(crate) fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Counts one more entry.
    pub(crate) fn count_entry(&self) -> Result<(), Limit> {
        let entries = self.entries.get() + 1;
        self.entries.set(entries);
        if entries > self.limits.max_entries {
            return Err(self.fail(Limit::Entries(self.limits.max_entries)));
        }
        Ok(())
    }

    /// Counts bytes that were read or decompressed.
    pub(crate) fn count_bytes(&self, n: u64) -> Result<(), Limit> {
        let total = self.total.get().saturating_add(n);
        self.total.set(total);
        if total > self.limits.max_total_size {
            let max = self.limits.max_total_size;
            return Err(self.fail(Limit::TotalSize(max)));
        }
        Ok(())
    }

    /// The entries counted so far.
    pub(crate) fn entries(&self) -> u64 {
        self.entries.get()
    }

    /// The bytes counted so far.
    pub(crate) fn total(&self) -> u64 {
        self.total.get()
    }

    /// The package-wide limit that was passed, if any: readers that
    /// wrap errors still let the caller tell a limit from a broken
    /// archive.
    pub(crate) fn breach(&self) -> Option<Limit> {
        self.breach.get()
    }

    /// Records a package-wide breach once and returns it.
    pub(crate) fn fail(&self, limit: Limit) -> Limit {
        if self.breach.get().is_none() {
            self.breach.set(Some(limit));
        }
        limit
    }
}

/// Counts what one archive's decompressor produces, against the
/// package's budget and the archive's own compression ratio.
pub(crate) struct Meter<'b> {
    budget: &'b Budget,
    compressed: Option<u64>,
    produced: Cell<u64>,
    ratio_breach: Cell<Option<Limit>>,
    inner_error: RefCell<Option<io::Error>>,
}

impl<'b> Meter<'b> {
    /// A meter for an archive of `compressed` bytes, or for bytes that
    /// are not compressed (no ratio to check) when `None`.
    pub(crate) fn new(budget: &'b Budget, compressed: Option<u64>) -> Self {
        Meter {
            budget,
            compressed,
            produced: Cell::new(0),
            ratio_breach: Cell::new(None),
            inner_error: RefCell::new(None),
        }
    }

    /// Counts `n` more bytes.
    pub(crate) fn add(&self, n: u64) -> Result<(), Limit> {
        self.budget.count_bytes(n)?;
        let produced = self.produced.get().saturating_add(n);
        self.produced.set(produced);
        let Some(compressed) = self.compressed else { return Ok(()) };
        let max_ratio = self.budget.limits.max_ratio;
        let allowed = compressed.max(1).saturating_mul(max_ratio);
        if produced > RATIO_EXEMPT_BYTES && produced > allowed {
            let limit = Limit::Ratio(max_ratio);
            self.ratio_breach.set(Some(limit));
            return Err(limit);
        }
        Ok(())
    }

    /// The limit this stream passed, if any. A ratio belongs to one
    /// archive: a nested archive over it spoils only itself, while the
    /// package's own entry and size limits are shared.
    pub(crate) fn breach(&self) -> Option<Limit> {
        self.budget.breach().or(self.ratio_breach.get())
    }

    /// Takes the error the metered reader's source returned, if any:
    /// it tells a corrupt compressed stream from a corrupt archive.
    pub(crate) fn take_inner_error(&self) -> Option<io::Error> {
        self.inner_error.borrow_mut().take()
    }

    /// Wraps a reader so that everything read through it is counted.
    pub(crate) fn reader<R: Read>(&self, inner: R) -> Metered<'_, 'b, R> {
        Metered { inner, meter: self }
    }
}

/// Whether an archive of `compressed` bytes that claims to hold
/// `claimed` bytes would pass the ratio limit; lets a zip bomb that
/// tells the truth about its sizes be refused before it is inflated.
pub(crate) fn claim_within_ratio(
    limits: &Limits,
    claimed: u64,
    compressed: u64,
) -> bool {
    let allowed = compressed.max(1).saturating_mul(limits.max_ratio);
    claimed <= RATIO_EXEMPT_BYTES || claimed <= allowed
}

/// A reader whose bytes are counted by a [`Meter`]; passing a limit
/// turns into an I/O error carrying the [`Limit`].
pub(crate) struct Metered<'m, 'b, R> {
    inner: R,
    meter: &'m Meter<'b>,
}

impl<R: Read> Read for Metered<'_, '_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = match self.inner.read(buf) {
            Ok(n) => n,
            Err(error) => {
                let copy = io::Error::new(error.kind(), error.to_string());
                *self.meter.inner_error.borrow_mut() = Some(copy);
                return Err(error);
            }
        };
        self.meter.add(n as u64).map_err(io::Error::other)?;
        Ok(n)
    }
}

/// Reads at most `max` bytes; `None` when the source holds more.
///
/// The buffer starts at most 1 MiB large whatever `hint` claims, so a
/// lying header cannot make it allocate.
pub(crate) fn read_at_most<R: Read>(
    source: R,
    hint: u64,
    max: u64,
) -> io::Result<Option<Vec<u8>>> {
    let capacity = hint.min(max).min(1 << 20);
    let mut data = Vec::with_capacity(usize::try_from(capacity).unwrap_or(0));
    source.take(max.saturating_add(1)).read_to_end(&mut data)?;
    if data.len() as u64 > max {
        return Ok(None);
    }
    Ok(Some(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_at_the_limit_pass_and_one_more_fails() {
        let limits = Limits { max_entries: 2, ..Limits::default() };
        let budget = Budget::new(&limits);

        assert!(budget.count_entry().is_ok());
        assert!(budget.count_entry().is_ok());
        assert_eq!(budget.count_entry(), Err(Limit::Entries(2)));
        assert_eq!(budget.breach(), Some(Limit::Entries(2)));
    }

    #[test]
    fn ratio_is_checked_only_past_the_exemption() {
        let budget = Budget::new(&Limits::default());
        let meter = Meter::new(&budget, Some(10));

        assert!(meter.add(RATIO_EXEMPT_BYTES).is_ok());
        assert_eq!(meter.add(1), Err(Limit::Ratio(250)));
        assert_eq!(meter.breach(), Some(Limit::Ratio(250)));
        assert_eq!(budget.breach(), None);
    }

    #[test]
    fn metered_reader_stops_at_the_total() {
        let limits = Limits { max_total_size: 10, ..Limits::default() };
        let budget = Budget::new(&limits);
        let meter = Meter::new(&budget, None);
        let mut sink = Vec::new();

        let result = meter.reader(&[0u8; 64][..]).read_to_end(&mut sink);

        assert!(result.is_err());
        assert_eq!(budget.breach(), Some(Limit::TotalSize(10)));
    }

    #[test]
    fn read_at_most_refuses_one_byte_more() {
        let exact = read_at_most(&b"abcd"[..], u64::MAX, 4).unwrap();
        let over = read_at_most(&b"abcde"[..], 0, 4).unwrap();

        assert_eq!(exact.as_deref(), Some(&b"abcd"[..]));
        assert_eq!(over, None);
    }
}
