//! The collector every reader fills: files with safe paths, and the
//! anomalies met on the way.

use std::collections::HashSet;

use crate::anomaly::{Anomaly, AnomalyKind};
use crate::limits::Budget;
use crate::path;

/// A file read from the package, before it is classified.
#[derive(Debug)]
pub(crate) struct RawFile {
    /// The normalised path in the package.
    pub path: String,
    /// The contents.
    pub data: Vec<u8>,
    /// How many archives deep it was found: 0 for the package itself.
    pub depth: u32,
}

/// Files and anomalies of one archive or directory being read.
pub(crate) struct Collector<'b> {
    /// The package's budget, shared with nested archives.
    pub budget: &'b Budget,
    /// The files read so far, in the order met.
    pub files: Vec<RawFile>,
    /// The anomalies met so far.
    pub anomalies: Vec<Anomaly>,
    seen: HashSet<String>,
}

impl<'b> Collector<'b> {
    /// An empty collector spending from `budget`.
    pub(crate) fn new(budget: &'b Budget) -> Self {
        Collector {
            budget,
            files: Vec::new(),
            anomalies: Vec::new(),
            seen: HashSet::new(),
        }
    }

    /// Normalises a raw entry name and records what was wrong with it;
    /// `None`, with an anomaly, when nothing of the name is left.
    pub(crate) fn name(
        &mut self,
        raw: &[u8],
        backslashes: bool,
    ) -> Option<String> {
        let name = path::normalise(raw, backslashes);
        for (kind, detail) in name.issues {
            self.anomaly(kind, &name.path, detail);
        }
        if name.path.is_empty() {
            let lossy = String::from_utf8_lossy(raw);
            let detail = format!("{} names no file", path::quoted(&lossy));
            self.anomaly(AnomalyKind::EntrySkipped, "", detail);
            return None;
        }
        Some(name.path)
    }

    /// Records an anomaly.
    pub(crate) fn anomaly(
        &mut self,
        kind: AnomalyKind,
        path: &str,
        detail: String,
    ) {
        tracing::debug!(kind = kind.id(), path, %detail, "anomaly");
        self.anomalies.push(Anomaly { kind, path: path.to_string(), detail });
    }

    /// Records a file left out because it is larger than allowed.
    pub(crate) fn too_large(&mut self, path: &str, size: Option<u64>) {
        let max = self.budget.limits().max_entry_size;
        let detail = match size {
            Some(size) => format!("{size} bytes, over the limit of {max}"),
            None => format!("over the limit of {max} bytes"),
        };
        self.anomaly(AnomalyKind::EntrySkipped, path, detail);
    }

    /// Adds a file; a second file at the same path is kept too, and
    /// flagged, since either could be the one a tool extracts.
    pub(crate) fn file(&mut self, path: String, data: Vec<u8>) {
        if !self.seen.insert(path.clone()) {
            let detail = "a second entry with this path".to_string();
            self.anomaly(AnomalyKind::DuplicatePath, &path, detail);
        }
        self.files.push(RawFile { path, data, depth: 0 });
    }
}
