//! What `cordon scan` is asked to scan, expanded: paths on disk,
//! registry specs (`npm:NAME@VERSION`, `pypi:NAME==VERSION`,
//! `crates:NAME@VERSION`) and lockfiles, which stand for every registry
//! package they pin. With no target, the lockfiles in the current
//! directory.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use cordon_registry::lockfile::{self, Dependency, Lockfile};
use cordon_registry::{ClientOptions, Digest, Registries, Spec};

/// Where registry targets are fetched from.
#[derive(Debug, Args)]
#[command(next_help_heading = "Registries")]
pub struct RegistryArgs {
    /// The npm registry that `npm:` targets and npm lockfiles are
    /// fetched from.
    #[arg(long, value_name = "URL", env = "CORDON_NPM_REGISTRY",
        default_value_t = Registries::default().npm)]
    pub npm_registry: String,

    /// The PyPI simple index (JSON, PEP 691) that `pypi:` targets and
    /// Python lockfiles are fetched from.
    #[arg(long, value_name = "URL", env = "CORDON_PYPI_INDEX",
        default_value_t = Registries::default().pypi)]
    pub pypi_index: String,

    /// The crates.io sparse index.
    #[arg(long, value_name = "URL", env = "CORDON_CRATES_INDEX",
        default_value_t = Registries::default().crates_index)]
    pub crates_index: String,

    /// Where `.crate` files are downloaded from.
    #[arg(long, value_name = "URL", env = "CORDON_CRATES_DOWNLOAD",
        default_value_t = Registries::default().crates_download)]
    pub crates_download: String,

    /// How many seconds one registry request may take; timeouts and
    /// server errors are tried 3 times.
    #[arg(
        long,
        value_name = "SECS",
        env = "CORDON_FETCH_TIMEOUT",
        default_value_t = 60
    )]
    pub fetch_timeout: u64,
}

impl RegistryArgs {
    /// The registry client's options.
    pub fn options(&self) -> ClientOptions {
        let timeout = Duration::from_secs(self.fetch_timeout.max(1));
        let defaults = ClientOptions::default();
        ClientOptions {
            registries: Registries {
                npm: self.npm_registry.clone(),
                pypi: self.pypi_index.clone(),
                crates_index: self.crates_index.clone(),
                crates_download: self.crates_download.clone(),
            },
            connect_timeout: defaults.connect_timeout.min(timeout),
            timeout,
            ..defaults
        }
    }
}

/// One package to scan.
#[derive(Debug)]
pub enum Job {
    /// A directory, file or archive on disk.
    Path(PathBuf),
    /// A package to fetch from its registry.
    Remote {
        /// The target as the report shows it.
        target: String,
        /// What to fetch.
        spec: Spec,
        /// Digests the download must match besides the registry's.
        digests: Vec<Digest>,
        /// Where it came from, for a lockfile's dependency.
        source: Option<String>,
        /// The lockfile that pins it, whose folder may hold an
        /// installed copy.
        lockfile: Option<PathBuf>,
    },
    /// A target that failed before anything could be fetched or read.
    Failed {
        /// The target as given.
        target: String,
        /// Why.
        error: String,
    },
}

impl Job {
    /// Whether the job goes to the network.
    pub fn is_remote(&self) -> bool {
        matches!(self, Job::Remote { .. })
    }

    /// The target as the report shows it.
    pub fn target(&self) -> String {
        match self {
            Job::Path(path) => path.display().to_string(),
            Job::Remote { target, .. } | Job::Failed { target, .. } => {
                target.clone()
            }
        }
    }
}

/// The targets named on the command line, then those of `--from FILE`
/// (`-` for standard input): one a line, blank lines and lines starting
/// with `#` left out.
pub fn gather(
    targets: &[PathBuf],
    from: Option<&Path>,
) -> anyhow::Result<Vec<PathBuf>> {
    let mut all = targets.to_vec();
    let Some(from) = from else { return Ok(all) };
    let text = if from == Path::new("-") {
        std::io::read_to_string(std::io::stdin())
            .context("cannot read targets from standard input")?
    } else {
        std::fs::read_to_string(from).with_context(|| {
            format!("cannot read targets from `{}`", from.display())
        })?
    };
    all.extend(
        text.lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .map(PathBuf::from),
    );
    Ok(all)
}

/// One part of a batch split `N` ways: `--shard K/N`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// Which part, from 1.
    pub index: u64,
    /// How many parts.
    pub count: u64,
}

impl Shard {
    /// Whether `target` belongs to this part: the 64-bit FNV-1a hash of
    /// its text, modulo the count, is the part's number less one. The
    /// same target always falls in the same part, on any machine.
    pub fn holds(&self, target: &str) -> bool {
        fnv1a(target.as_bytes()) % self.count == self.index - 1
    }
}

/// Parses `K/N` with 1 ≤ K ≤ N.
pub fn parse_shard(text: &str) -> Result<Shard, String> {
    let invalid = |why: &str| {
        format!("invalid shard `{text}`: {why} (expected K/N, e.g. 2/8)")
    };
    let (k, n) = text.split_once('/').ok_or_else(|| invalid("no `/`"))?;
    let index: u64 =
        k.trim().parse().map_err(|_| invalid("K is not a number"))?;
    let count: u64 =
        n.trim().parse().map_err(|_| invalid("N is not a number"))?;
    if count == 0 {
        return Err(invalid("N must be at least 1"));
    }
    if index == 0 || index > count {
        return Err(invalid("K must be between 1 and N"));
    }
    Ok(Shard { index, count })
}

/// The 64-bit FNV-1a hash.
fn fnv1a(bytes: &[u8]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.iter().fold(OFFSET, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(PRIME)
    })
}

/// Expands the targets; with none, the lockfiles in the current
/// directory, unless `listed` says the targets came from a list (which
/// may be empty).
pub fn expand(targets: &[PathBuf], listed: bool) -> anyhow::Result<Vec<Job>> {
    let found;
    let targets = if targets.is_empty() && !listed {
        found = project_lockfiles(Path::new("."));
        if found.is_empty() {
            anyhow::bail!(
                "no targets given, and no lockfile in the current directory \
                 (looked for {})",
                lockfile::FILE_NAMES.join(", ")
            );
        }
        &found
    } else {
        targets
    };

    let mut jobs = Vec::new();
    let mut seen = HashSet::new();
    for target in targets {
        for job in expand_one(target) {
            let key = match &job {
                Job::Remote { target, source: Some(_), .. } => {
                    Some(target.clone())
                }
                _ => None,
            };
            if key.is_none_or(|key| seen.insert(key)) {
                jobs.push(job);
            }
        }
    }
    Ok(jobs)
}

/// The lockfiles of the project in `dir`, in [`lockfile::FILE_NAMES`]
/// order.
fn project_lockfiles(dir: &Path) -> Vec<PathBuf> {
    lockfile::FILE_NAMES
        .iter()
        .map(|name| dir.join(name))
        .filter(|path| path.is_file())
        .map(|path| {
            path.strip_prefix(".").map(Path::to_path_buf).unwrap_or(path)
        })
        .collect()
}

fn expand_one(target: &Path) -> Vec<Job> {
    let text = target.display().to_string();
    if let Some(spec) = target.to_str().filter(|t| Spec::looks_like_spec(t)) {
        return vec![match Spec::parse(spec) {
            Ok(spec) => Job::Remote {
                target: text,
                spec,
                digests: Vec::new(),
                source: None,
                lockfile: None,
            },
            Err(err) => Job::Failed { target: text, error: err.to_string() },
        }];
    }
    if lockfile::Kind::from_path(target).is_some() && target.is_file() {
        return match lockfile::read(target) {
            Ok(lock) => dependencies(target, lock),
            Err(err) => vec![Job::Failed {
                target: text,
                error: crate::scan::error_chain(&err),
            }],
        };
    }
    vec![Job::Path(target.to_path_buf())]
}

/// One job per pinned dependency of a lockfile.
fn dependencies(path: &Path, lock: Lockfile) -> Vec<Job> {
    let lockfile = &path.display().to_string();
    report_skipped(lockfile, &lock);
    if lock.dependencies.is_empty() {
        tracing::warn!("{lockfile}: no registry packages to scan");
    }
    lock.dependencies
        .into_iter()
        .map(|dependency| {
            let source = Some(source(lockfile, &dependency));
            Job::Remote {
                target: dependency.spec().to_string(),
                spec: dependency.spec(),
                digests: dependency.digests,
                source,
                lockfile: Some(path.to_path_buf()),
            }
        })
        .collect()
}

/// `lockfile, via a, b, c and 2 more`.
fn source(lockfile: &str, dependency: &Dependency) -> String {
    const SHOWN: usize = 3;
    let mut text = lockfile.to_string();
    if dependency.via.is_empty() {
        return text;
    }
    let shown: Vec<&str> =
        dependency.via.iter().take(SHOWN).map(String::as_str).collect();
    text.push_str(", via ");
    text.push_str(&shown.join(", "));
    if dependency.via.len() > SHOWN {
        text.push_str(&format!(" and {} more", dependency.via.len() - SHOWN));
    }
    text
}

/// Entries left out of a lockfile: each at `--debug`, and a count as a
/// warning when any was left out for a reason other than being the
/// project's own.
fn report_skipped(lockfile: &str, lock: &Lockfile) {
    let mut notable = 0;
    for skipped in &lock.skipped {
        tracing::debug!(
            "{lockfile}: skipped `{}`: {}",
            skipped.entry,
            skipped.reason
        );
        if !skipped.local {
            notable += 1;
        }
    }
    if notable > 0 {
        tracing::warn!(
            "{lockfile}: skipped {notable} entries that are not pinned or not \
             from a registry (--debug lists them)"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_are_checked() {
        assert_eq!(parse_shard("2/8"), Ok(Shard { index: 2, count: 8 }));
        assert_eq!(parse_shard("1/1"), Ok(Shard { index: 1, count: 1 }));
        for bad in ["0/4", "5/4", "1/0", "x/4", "3", "1/y"] {
            let err = parse_shard(bad).unwrap_err();
            assert!(err.contains(bad) && err.contains("K/N"), "{err}");
        }
    }

    #[test]
    fn every_target_falls_in_exactly_one_shard() {
        // FNV-1a of the empty string is its offset basis.
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        for target in ["npm:left-pad@1.3.0", "pypi:six==1.16.0", "x"] {
            let owners = (1..=5)
                .filter(|k| Shard { index: *k, count: 5 }.holds(target))
                .count();
            assert_eq!(owners, 1, "{target}");
        }
    }
}
