//! The scan cache as `cordon scan` uses it: which keys a package is
//! stored under, the fingerprint of everything besides the content that
//! decides a report, and the hit count for `--debug`.
//!
//! A package is stored under digests of its content: an archive under
//! the SHA-256 and SHA-512 of its bytes (so that a lockfile's
//! `integrity` or `checksum`, or a registry's published digest, finds it
//! before anything is downloaded), a directory under a digest of its
//! files' paths and contents. Only finished reports are stored; a
//! package that could not be fetched or read is tried again next time.
//!
//! Each scan prunes the cache as it opens it: reports of other rulesets
//! (an older cordon, rules since changed) after [`STALE_AFTER`], and
//! every report after [`KEPT_FOR`], so that the file does not grow with
//! every upgrade.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use cordon_cache::Cache;
use cordon_package::{Limits, Package};
use cordon_registry::{Algorithm, Digest};
use cordon_report::{PackageReport, Role, Severity};
use cordon_scan::score;
use cordon_scan::{Engine, Rule};

use crate::ignore::Ignore;

/// How long reports of another ruleset than this run's are kept.
pub const STALE_AFTER: Duration = Duration::from_secs(7 * 86_400);

/// How long any report is kept.
pub const KEPT_FOR: Duration = Duration::from_secs(90 * 86_400);

/// The cache, or none, with the counts of one run.
pub struct ScanCache {
    cache: Option<Cache>,
    ruleset: String,
    hits: AtomicU64,
    stored: AtomicU64,
    broken: AtomicBool,
}

impl ScanCache {
    /// Opens the cache at `dir` (or the default place), unless
    /// `disabled`. A cache that cannot be opened is a warning: the scan
    /// goes on without it.
    pub fn open(
        dir: Option<&PathBuf>,
        disabled: bool,
        ruleset: String,
    ) -> ScanCache {
        let cache = if disabled { None } else { open(dir) };
        if let Some(cache) = &cache {
            prune(cache, &ruleset);
        }
        ScanCache {
            cache,
            ruleset,
            hits: AtomicU64::new(0),
            stored: AtomicU64::new(0),
            broken: AtomicBool::new(false),
        }
    }

    /// The report stored under any of `keys`; counted when found.
    pub fn get(&self, keys: &[String]) -> Option<PackageReport> {
        let cache = self.usable()?;
        if keys.is_empty() {
            return None;
        }
        let found = match cache.get(keys, &self.ruleset) {
            Ok(found) => found,
            Err(err) => {
                self.give_up(&err);
                None
            }
        };
        let report: Option<PackageReport> =
            found.and_then(|text| serde_json::from_str(&text).ok());
        if report.is_some() {
            self.hits.fetch_add(1, Ordering::Relaxed);
        }
        report
    }

    /// Stores a finished report under `keys`; one without a verdict is
    /// not stored.
    pub fn put(&self, keys: &[String], report: &PackageReport) {
        let Some(cache) = self.usable() else { return };
        if report.verdict.is_none() || keys.is_empty() {
            return;
        }
        let Ok(text) = serde_json::to_string(report) else { return };
        match cache.put(keys, &self.ruleset, &text) {
            Ok(()) => {
                self.stored.fetch_add(1, Ordering::Relaxed);
            }
            Err(err) => self.give_up(&err),
        }
    }

    /// Says at `--debug` how many packages came from the cache and how
    /// many were scanned and stored.
    pub fn log_counts(&self) {
        let Some(cache) = &self.cache else {
            tracing::debug!("scan cache: off");
            return;
        };
        let hits = self.hits.load(Ordering::Relaxed);
        let stored = self.stored.load(Ordering::Relaxed);
        tracing::debug!(
            path = %cache.path().display(),
            "scan cache: {hits} hits, {stored} stored"
        );
    }

    fn usable(&self) -> Option<&Cache> {
        if self.broken.load(Ordering::Relaxed) {
            return None;
        }
        self.cache.as_ref()
    }

    /// Stops using a cache that failed, with one warning.
    fn give_up(&self, err: &cordon_cache::Error) {
        if !self.broken.swap(true, Ordering::Relaxed) {
            let err = crate::scan::error_chain(err);
            tracing::warn!(
                "not using the scan cache for the rest of this run: {err}"
            );
        }
    }
}

fn open(dir: Option<&PathBuf>) -> Option<Cache> {
    let path = match dir {
        Some(dir) => dir.join(cordon_cache::FILE_NAME),
        None => Cache::default_path().or_else(|| {
            tracing::warn!(
                "no scan cache: neither XDG_CACHE_HOME nor HOME is set \
                 (use --cache-dir)"
            );
            None
        })?,
    };
    let cache = match Cache::open(&path) {
        Ok(cache) => cache,
        Err(err) => {
            let err = crate::scan::error_chain(&err);
            tracing::warn!("scanning without the cache: {err}");
            return None;
        }
    };
    if let Some(aside) = cache.recovered() {
        tracing::warn!(
            "the scan cache `{}` was corrupt: moved it to `{}` and started \
             a new one",
            path.display(),
            aside.display()
        );
    }
    Some(cache)
}

/// Drops old and stale reports; a failure is said at debug level, since
/// the scan needs none of them.
fn prune(cache: &Cache, ruleset: &str) {
    match cache.prune(ruleset, STALE_AFTER, KEPT_FOR) {
        Ok(0) => {}
        Ok(removed) => tracing::debug!("scan cache: pruned {removed}"),
        Err(err) => tracing::debug!("scan cache: cannot prune: {err}"),
    }
}

/// The keys of an archive's bytes: its SHA-256, the content hash, and
/// its SHA-512, which npm lockfiles record.
pub fn archive_keys(bytes: &[u8]) -> Vec<String> {
    [Algorithm::Sha256, Algorithm::Sha512]
        .into_iter()
        .map(|algorithm| Digest::of(algorithm, bytes).to_string())
        .collect()
}

/// The keys of digests a lockfile or registry gives: the SHA-256 and
/// SHA-512 ones. SHA-1 is too weak to stand for the content.
pub fn digest_keys(digests: &[Digest]) -> Vec<String> {
    digests
        .iter()
        .filter(|d| d.algorithm != Algorithm::Sha1)
        .map(Digest::to_string)
        .collect()
}

/// The key of a file on disk: its SHA-256 and its name, which decides
/// how a single file is read and whether its extension lies.
pub fn file_key(name: &str, bytes: &[u8]) -> String {
    let base =
        name.rsplit(['/', '\\']).find(|s| !s.is_empty()).unwrap_or(name);
    format!("file:{base}:{}", Digest::of(Algorithm::Sha256, bytes))
}

/// The key of a package read from a directory: a SHA-256 over its
/// files' paths and contents and its anomalies.
pub fn tree_key(package: &Package) -> String {
    let mut listing = String::new();
    for file in &package.files {
        let digest = Digest::of(Algorithm::Sha256, &file.data);
        listing.push_str(&format!("f {:?} {}\n", file.path, digest.hex()));
    }
    for anomaly in &package.anomalies {
        listing.push_str(&format!(
            "a {} {:?} {:?}\n",
            anomaly.kind.id(),
            anomaly.path,
            anomaly.detail
        ));
    }
    format!("tree:{}", Digest::of(Algorithm::Sha256, listing.as_bytes()))
}

/// A fingerprint of what decides a report besides the package: the
/// rules loaded (built-in and the user's, by what they say rather than
/// the name of their file), the text of the user's rule files (`user`:
/// their YARA rules too), the scoring thresholds and weights, the
/// suppressions, the reading limits and this build of cordon. Any change
/// gives another fingerprint, so old reports miss.
pub fn ruleset(
    engine: &Engine,
    user: &[String],
    ignores: &[Ignore],
    limits: &Limits,
) -> String {
    let severities = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];
    let roles = [
        Role::Install,
        Role::Import,
        Role::Other,
        Role::Test,
        Role::Docs,
        Role::Example,
        Role::Tooling,
    ];
    let points: Vec<u32> =
        severities.iter().map(|s| score::severity_points(*s)).collect();
    let weights: Vec<u32> =
        roles.iter().map(|r| score::role_weight(*r)).collect();
    let rules: Vec<Rule> = engine
        .rules()
        .iter()
        .map(|rule| {
            let mut rule = rule.clone();
            rule.origin.file.clear();
            rule
        })
        .collect();
    let user: Vec<String> = user
        .iter()
        .map(|text| Digest::of(Algorithm::Sha256, text.as_bytes()).hex())
        .collect();
    let text = format!(
        "cordon {}\nbuild {}\nthresholds {} {}\npoints {points:?}\n\
         weights {weights:?}\nlimits {limits:?}\nignores {ignores:?}\n\
         rules {rules:?}\nuser files {user:?}\n",
        env!("CARGO_PKG_VERSION"),
        build_id(),
        score::SUSPICIOUS_SCORE,
        score::MALICIOUS_SCORE,
    );
    Digest::of(Algorithm::Sha256, text.as_bytes()).hex()
}

/// This executable's size and modification time: a rebuilt scanner
/// may read packages differently, so its old reports are not reused.
fn build_id() -> String {
    let meta = std::env::current_exe().and_then(std::fs::metadata);
    match meta {
        Ok(meta) => {
            let modified = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            format!("{} {modified}", meta.len())
        }
        Err(_) => "unknown".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fingerprint_follows_the_text_of_user_rule_files() {
        let engine = Engine::builtin().unwrap();
        let limits = Limits::default();
        let print = |texts: &[&str]| {
            let texts: Vec<String> =
                texts.iter().map(|t| t.to_string()).collect();
            ruleset(&engine, &texts, &[], &limits)
        };

        let base = print(&[]);
        let one = print(&["rule a { condition: true }"]);

        assert_ne!(base, one);
        assert_eq!(one, print(&["rule a { condition: true }"]));
        assert_ne!(one, print(&["rule a { condition: false }"]));
    }

    #[test]
    fn the_fingerprint_ignores_the_names_of_rule_files() {
        let text = "[[rule]]\nid = \"u-x\"\nseverity = \"low\"\n\
            summary = \"s\"\nhelp = \"h\"\nlanguages = \"any\"\n\
            [rule.match]\nkind = \"literal\"\npatterns = [\"zz\"]\n";
        let limits = Limits::default();
        let print = |name: &str| {
            let source = cordon_scan::RuleSource::new(name, text);
            let engine = Engine::from_sources(&[source]).unwrap();
            ruleset(&engine, &[text.to_string()], &[], &limits)
        };

        assert_eq!(print("a/mine.toml"), print("/elsewhere/mine.toml"));
    }
}
