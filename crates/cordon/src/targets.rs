//! What `cordon scan` is asked to scan, expanded: paths on disk,
//! registry specs (`npm:NAME@VERSION`, `pypi:NAME==VERSION`,
//! `crates:NAME@VERSION`) and lockfiles, which stand for every registry
//! package they pin. With no target, the lockfiles in the current
//! directory.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

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
}

/// Expands the targets; with none, the lockfiles in the current
/// directory.
pub fn expand(targets: &[PathBuf]) -> anyhow::Result<Vec<Job>> {
    let found;
    let targets = if targets.is_empty() {
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
            },
            Err(err) => Job::Failed { target: text, error: err.to_string() },
        }];
    }
    if lockfile::Kind::from_path(target).is_some() && target.is_file() {
        return match lockfile::read(target) {
            Ok(lock) => dependencies(&text, lock),
            Err(err) => vec![Job::Failed {
                target: text,
                error: crate::scan::error_chain(&err),
            }],
        };
    }
    vec![Job::Path(target.to_path_buf())]
}

/// One job per pinned dependency of a lockfile.
fn dependencies(lockfile: &str, lock: Lockfile) -> Vec<Job> {
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
