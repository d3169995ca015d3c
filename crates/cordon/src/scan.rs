//! `cordon scan`: reads each target, scans it, and renders one report.
//!
//! Every target is read and scanned on its own: a target that cannot be
//! read becomes an entry with an error, and the others go on. Packages
//! are scanned in parallel; each finished one goes to the output (at
//! once, for JSON lines) and to the exit code's [`Tally`]. A package
//! scanned before, with the same rules, comes from the cache.

mod cache;
mod facts;
mod progress;
mod user;

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use anyhow::Context;
use clap::{Args, ValueEnum};
use cordon_package::{Limits, Package};
use cordon_registry::installed::{self, Installed, Places};
use cordon_registry::{Client, Digest, Spec};
use cordon_report::{
    Finding, PackageReport, Role, RuleInfo, ScanReport, Severity, Verdict,
};
use cordon_scan::{Engine, ScanAnomaly, ScanFile};
use rayon::prelude::*;

use crate::cli::{self, GlobalArgs};
use crate::ignore::{self, Ignore};
use crate::size::parse_size;
use crate::targets::{self, Job, RegistryArgs, Shard};

use self::cache::ScanCache;
use self::progress::Progress;
use self::user::{UserRules, Yara};

/// The fewest packages fetched and scanned at once when some come from
/// a registry and `--jobs` is not given: fetching waits on the network
/// more than on the CPU.
const REMOTE_JOBS: usize = 8;

/// From how many packages on a progress bar is drawn.
const PROGRESS_FROM: usize = 4;

/// Flags of `cordon scan`.
#[derive(Debug, Args)]
#[command(after_help = EXIT_CODES)]
pub struct ScanArgs {
    /// Directories, files or archives to scan (.tar, .tar.gz, .tgz,
    /// .tar.bz2, .tar.xz, .zip, .whl, .egg, .crate, .gem; the format is
    /// told from the bytes, not the name); registry packages
    /// (npm:NAME@VERSION, pypi:NAME==VERSION, crates:NAME@VERSION, the
    /// latest without a version); or lockfiles (package-lock.json,
    /// npm-shrinkwrap.json, yarn.lock, pnpm-lock.yaml, requirements.txt,
    /// poetry.lock, uv.lock, Pipfile.lock, Cargo.lock), whose every
    /// pinned registry package is fetched and scanned. Without a
    /// target, the lockfiles in the current directory.
    pub targets: Vec<PathBuf>,

    /// The report's format.
    #[arg(long, value_enum, default_value_t = FormatArg::Human)]
    pub format: FormatArg,

    /// Write the report to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Exit with 1 when any package's verdict is at least this bad.
    #[arg(long, value_enum, default_value_t = FailOn::Suspicious)]
    pub fail_on: FailOn,

    /// Leave findings below this severity out of the report; the verdict
    /// still counts them.
    #[arg(long, value_enum, default_value_t = SeverityArg::Info)]
    pub min_severity: SeverityArg,

    /// Stop reading a package after this many entries.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_entries)]
    pub max_entries: u64,

    /// Skip any single file larger than this (e.g. 64MiB).
    #[arg(long, value_name = "SIZE", value_parser = parse_size,
        default_value = "64MiB")]
    pub max_entry_size: u64,

    /// Stop reading a package whose files add up to more than this.
    #[arg(long, value_name = "SIZE", value_parser = parse_size,
        default_value = "1GiB")]
    pub max_total_size: u64,

    /// Stop reading an archive that expands more than this many times
    /// its own size.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_ratio)]
    pub max_ratio: u64,

    /// Suppress every finding of this rule (repeatable); the report
    /// counts what was suppressed.
    #[arg(long, value_name = "RULE")]
    pub ignore: Vec<String>,

    /// Read suppressions (`[[scan.ignore]]`, each with a rule, an optional
    /// path glob and a reason) from FILE [default: ./cordon.toml, when it
    /// exists].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Add the rules in PATH, written in cordon's rule format, to the
    /// built-in ones (repeatable); a directory adds its `*.toml` files.
    #[arg(long = "rules", value_name = "PATH", help_heading = "User rules")]
    pub rule_files: Vec<PathBuf>,

    /// Match the YARA rules in PATH too (repeatable); a directory adds
    /// its `*.yar` and `*.yara` files. A match is a finding with the code
    /// `yara:RULE` and the severity of the rule's `meta: severity`.
    #[arg(long, value_name = "PATH", help_heading = "User rules")]
    pub yara: Vec<PathBuf>,

    /// Read more targets from FILE, one a line (`-`: standard input);
    /// blank lines and lines starting with `#` are skipped.
    #[arg(long, value_name = "FILE", help_heading = "Batches")]
    pub from: Option<PathBuf>,

    /// How many packages to scan at once [default: the number of CPUs,
    /// at least 8 when packages are fetched from a registry].
    #[arg(long, value_name = "N", help_heading = "Batches",
        value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,

    /// Scan only part K of N of the packages: those whose target's
    /// 64-bit FNV-1a hash modulo N is K-1. Every target falls in
    /// exactly one part, on any machine.
    #[arg(long, value_name = "K/N", help_heading = "Batches",
        value_parser = targets::parse_shard)]
    pub shard: Option<Shard>,

    /// Keep the scan cache in DIR [default: $XDG_CACHE_HOME/cordon, or
    /// ~/.cache/cordon].
    #[arg(
        long,
        value_name = "DIR",
        help_heading = "Cache",
        env = "CORDON_CACHE_DIR"
    )]
    pub cache_dir: Option<PathBuf>,

    /// Neither read nor write the scan cache.
    #[arg(long, help_heading = "Cache")]
    pub no_cache: bool,

    /// Where registry packages come from.
    #[command(flatten)]
    pub registry: RegistryArgs,
}

const EXIT_CODES: &str = "\
Exit codes:
  0  no package reached the --fail-on verdict, and every target was read
  1  at least one package reached the --fail-on verdict
  2  cordon failed, or some target could not be read and none reached
     the --fail-on verdict";

/// The report formats of `cordon scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// A readable report with code snippets.
    Human,
    /// The versioned JSON wire format.
    Json,
    /// SARIF 2.1.0, for code-scanning dashboards.
    Sarif,
    /// One JSON object per package and line, each written as soon as
    /// its package is done.
    Jsonl,
    /// One self-contained HTML page, for a browser.
    Html,
}

/// The verdict at which `cordon scan` exits with 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Fail on suspicious or malicious packages.
    Suspicious,
    /// Fail on malicious packages only.
    Malicious,
}

/// The lowest severity of the findings to report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SeverityArg {
    /// Everything.
    Info,
    /// Low and above.
    Low,
    /// Medium and above.
    Medium,
    /// High and above.
    High,
    /// Critical only.
    Critical,
}

impl From<SeverityArg> for Severity {
    fn from(arg: SeverityArg) -> Severity {
        match arg {
            SeverityArg::Info => Severity::Info,
            SeverityArg::Low => Severity::Low,
            SeverityArg::Medium => Severity::Medium,
            SeverityArg::High => Severity::High,
            SeverityArg::Critical => Severity::Critical,
        }
    }
}

/// Runs `cordon scan` and returns its exit code.
pub fn main(global: &GlobalArgs, args: ScanArgs) -> anyhow::Result<u8> {
    let rules = load_rules(&args)?;
    let engine = &rules.engine;
    let ignores = ignore::load(
        engine,
        &rules.yara_ids(),
        &args.ignore,
        args.config.as_deref(),
    )?;
    let limits = limits(&args);
    let jobs = jobs(&args)?;
    let ruleset = cache::ruleset(engine, &rules.texts, &ignores, &limits);
    let cache =
        ScanCache::open(args.cache_dir.as_ref(), args.no_cache, ruleset);
    let scanner = Scanner {
        engine,
        yara: &rules.yara,
        limits: &limits,
        ignores: &ignores,
        client: Client::new(args.registry.options()),
        cache: &cache,
    };

    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads(&args, &jobs))
        .build()
        .context("cannot start the scanning threads")?;
    let mut sink = Sink::new(&args, jobs.len())?;
    let mut progress = Progress::new(jobs.len(), show_progress(global, &jobs));
    run_jobs(&pool, &scanner, &jobs, |index, report| {
        let flagged = report.verdict >= Some(Verdict::Suspicious);
        let failed = report.error.is_some();
        if sink.streams() {
            progress.clear();
        }
        let more = sink.add(index, report)?;
        progress.tick(flagged, failed);
        Ok(more)
    })?;
    drop(progress);
    cache.log_counts();

    sink.finish(global, &args, rules.rule_infos())
}

/// The rules of this run: the built-in pack, and the user's rule files
/// and YARA rules from the flags and the configuration file.
fn load_rules(args: &ScanArgs) -> anyhow::Result<UserRules> {
    let from_config = ignore::user_rules(args.config.as_deref())?;
    let mut rule_files = from_config.rules;
    rule_files.extend(args.rule_files.iter().cloned());
    let mut yara = from_config.yara;
    yara.extend(args.yara.iter().cloned());
    UserRules::load(&rule_files, &yara)
}

/// The jobs the targets stand for, in this shard.
fn jobs(args: &ScanArgs) -> anyhow::Result<Vec<Job>> {
    let listed = args.from.is_some();
    let targets = targets::gather(&args.targets, args.from.as_deref())?;
    let mut jobs = targets::expand(&targets, listed)?;
    if let Some(shard) = args.shard {
        let all = jobs.len();
        jobs.retain(|job| shard.holds(&job.target()));
        tracing::debug!(
            "shard {}/{}: {} of {all} packages",
            shard.index,
            shard.count,
            jobs.len()
        );
    }
    Ok(jobs)
}

/// `--jobs`, or the number of CPUs (at least [`REMOTE_JOBS`] when
/// something is fetched).
fn threads(args: &ScanArgs, jobs: &[Job]) -> usize {
    if let Some(jobs) = args.jobs {
        return usize::from(jobs);
    }
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    if jobs.iter().any(Job::is_remote) { cpus.max(REMOTE_JOBS) } else { cpus }
}

/// A bar on a terminal's stderr, for more than a few packages, unless
/// quiet or explaining decisions.
fn show_progress(global: &GlobalArgs, jobs: &[Job]) -> bool {
    jobs.len() >= PROGRESS_FROM
        && !global.quiet
        && !global.debug
        && io::stderr().is_terminal()
}

/// Scans every job on `pool` and hands each finished report, with its
/// job's index, to `each` on this thread, in the order they finish.
/// `each` returns whether to go on; jobs not yet started are then
/// dropped.
fn run_jobs(
    pool: &rayon::ThreadPool,
    scanner: &Scanner<'_>,
    jobs: &[Job],
    mut each: impl FnMut(usize, PackageReport) -> anyhow::Result<bool>,
) -> anyhow::Result<()> {
    let stop = AtomicBool::new(false);
    let (sender, receiver) = mpsc::channel();
    std::thread::scope(|scope| {
        let stop = &stop;
        scope.spawn(move || {
            pool.install(|| {
                jobs.par_iter().enumerate().for_each_with(
                    sender,
                    |sender, (index, job)| {
                        if !stop.load(Ordering::Relaxed) {
                            let _ = sender.send((index, scanner.job(job)));
                        }
                    },
                );
            });
        });
        for (index, report) in receiver {
            let more = each(index, report);
            if !matches!(more, Ok(true)) {
                stop.store(true, Ordering::Relaxed);
                return more.map(|_| ());
            }
        }
        Ok(())
    })
}

fn limits(args: &ScanArgs) -> Limits {
    Limits {
        max_entries: args.max_entries,
        max_entry_size: args.max_entry_size,
        max_total_size: args.max_total_size,
        max_ratio: args.max_ratio,
        ..Limits::default()
    }
}

/// What scanning one package needs.
struct Scanner<'a> {
    engine: &'a Engine,
    yara: &'a Yara,
    limits: &'a Limits,
    ignores: &'a [Ignore],
    client: Client,
    cache: &'a ScanCache,
}

impl Scanner<'_> {
    /// Reads or fetches one package and scans it; one that cannot be read
    /// becomes an entry that says why.
    fn job(&self, job: &Job) -> PackageReport {
        let target = job.target();
        let mut report = match job {
            Job::Path(path) => self.path(&target, path),
            Job::Remote { spec, digests, source, lockfile, .. } => {
                let (mut report, on_disk) =
                    self.remote(&target, spec, digests, lockfile.as_deref());
                report.source = with_disk_note(source.clone(), on_disk);
                report
            }
            Job::Failed { target, error } => {
                PackageReport::failed(target, error.clone())
            }
        };
        report.target = target;
        report
    }

    /// A file is looked up by its bytes before it is read; a directory
    /// is read first and looked up by its files.
    fn path(&self, name: &str, target: &Path) -> PackageReport {
        let small_file = std::fs::metadata(target).is_ok_and(|meta| {
            meta.is_file() && meta.len() <= self.limits.max_total_size
        });
        let bytes = small_file.then(|| std::fs::read(target).ok()).flatten();
        let read = match &bytes {
            Some(bytes) => {
                let keys = vec![cache::file_key(name, bytes)];
                if let Some(hit) = self.cache.get(&keys) {
                    return hit;
                }
                cordon_package::read_bytes(name, bytes, self.limits)
                    .map(|package| (keys, package))
            }
            None => cordon_package::read_target(target, self.limits)
                .map(|package| (vec![cache::tree_key(&package)], package)),
        };
        match read {
            Ok((keys, package)) => self.scan_cached(name, &keys, &package),
            Err(err) => {
                tracing::debug!(target = %name, "cannot read: {err}");
                PackageReport::failed(name, error_chain(&err))
            }
        }
    }

    /// Scans a package unless the cache has it under `keys`, and
    /// stores the report.
    fn scan_cached(
        &self,
        target: &str,
        keys: &[String],
        package: &Package,
    ) -> PackageReport {
        if let Some(hit) = self.cache.get(keys) {
            return hit;
        }
        let report = self.scan(target, package);
        self.cache.put(keys, &report);
        report
    }

    /// A registry package: its installed copy beside the lockfile when
    /// that matches, else the cache under the lockfile's digest, else
    /// the cache under the registry's digest, else a download. Returns
    /// where on disk it was read from, if it was.
    fn remote(
        &self,
        target: &str,
        spec: &Spec,
        digests: &[Digest],
        lockfile: Option<&Path>,
    ) -> (PackageReport, Option<PathBuf>) {
        if let Some(lockfile) = lockfile
            && let Some((report, path)) =
                self.installed(spec, digests, lockfile)
        {
            return (report, Some(path));
        }
        if let Some(hit) = self.cache.get(&cache::digest_keys(digests)) {
            return (hit, None);
        }
        (self.fetch(target, spec, digests), None)
    }

    /// Fetches a registry package and scans it; what its own manifests
    /// do not say about it comes from the registry.
    fn fetch(
        &self,
        target: &str,
        spec: &Spec,
        digests: &[Digest],
    ) -> PackageReport {
        let fetched =
            self.client.resolve_matching(spec, digests).and_then(|resolved| {
                match self.cache.get(&cache::digest_keys(&resolved.digests)) {
                    Some(hit) => Ok(Err(hit)),
                    None => self
                        .client
                        .download_resolved(resolved, digests)
                        .map(Ok),
                }
            });
        let fetched = match fetched {
            Ok(Ok(fetched)) => fetched,
            Ok(Err(hit)) => return hit,
            Err(err) => {
                tracing::debug!(target, "cannot fetch: {err}");
                return PackageReport::failed(target, error_chain(&err));
            }
        };
        tracing::debug!(target, url = %fetched.url, digest = %fetched.digest,
            "fetched");

        let name = &fetched.file_name;
        let package = match cordon_package::read_bytes(
            name,
            &fetched.bytes,
            self.limits,
        ) {
            Ok(package) => package,
            Err(err) => {
                return PackageReport::failed(target, error_chain(&err));
            }
        };
        let mut report = self.scan(target, &package);
        let (engine, ignores) = (self.engine, self.ignores);
        let meta = &fetched.meta;
        facts::add_registry_findings(
            engine,
            ignores,
            &mut report,
            &package,
            meta,
        );
        report.ecosystem = report.ecosystem.or(Some(fetched.ecosystem));
        report.name = report.name.or(Some(fetched.name));
        report.version = report.version.or(Some(fetched.version));
        self.cache.put(&cache::archive_keys(&fetched.bytes), &report);
        report
    }

    /// The installed copy of a lockfile's package, read and scanned (or
    /// found in the cache), with where it lies; `None` when there is
    /// none that matches or it cannot be read.
    fn installed(
        &self,
        spec: &Spec,
        digests: &[Digest],
        lockfile: &Path,
    ) -> Option<(PackageReport, PathBuf)> {
        let project = lockfile.parent().unwrap_or(Path::new(""));
        let project = if project.as_os_str().is_empty() {
            Path::new(".")
        } else {
            project
        };
        let places = Places::for_project(project, self.limits.max_total_size);
        let found = installed::find(spec, digests, &places)?;
        let path = found.path().to_path_buf();
        let name = path.display().to_string();
        let read = match &found {
            Installed::Archive { bytes, .. } => {
                let keys = cache::archive_keys(bytes);
                if let Some(hit) = self.cache.get(&keys) {
                    return Some((hit, path));
                }
                cordon_package::read_bytes(&name, bytes, self.limits)
                    .map(|package| (keys, package))
            }
            Installed::Directory { path } => {
                cordon_package::read_target(path, self.limits)
                    .map(|package| (vec![cache::tree_key(&package)], package))
            }
            Installed::Files { tar, .. } => {
                cordon_package::read_bytes(&name, tar, self.limits)
                    .map(|package| (vec![cache::tree_key(&package)], package))
            }
        };
        let (keys, package) = match read {
            Ok(read) => read,
            Err(err) => {
                tracing::debug!(path = %name, "installed copy not used: {err}");
                return None;
            }
        };
        tracing::debug!(package = %spec, path = %name, "read from disk");
        let mut report = self.scan_cached(&name, &keys, &package);
        report.ecosystem = report.ecosystem.or(Some(spec.ecosystem));
        report.name = report.name.or_else(|| Some(spec.name.clone()));
        report.version = report.version.or_else(|| spec.version.clone());
        Some((report, path))
    }

    /// Scans a package that was read.
    fn scan(&self, target: &str, package: &Package) -> PackageReport {
        let engine = self.engine;
        let mut findings = package_findings(engine, package);
        findings.extend(self.yara.scan(package));
        sort_by_place(&mut findings);
        let suppressed = ignore::apply(self.ignores, &mut findings);
        let (score, verdict) = engine.score(&findings);
        let summary = match verdict {
            Verdict::Clean => None,
            _ => engine.explain(&findings),
        };
        PackageReport {
            target: target.to_string(),
            ecosystem: package.ecosystem,
            name: package.name.clone(),
            version: package.version.clone(),
            verdict: Some(verdict),
            score,
            summary,
            findings,
            files: package.files.len() as u64,
            suppressed,
            error: None,
            source: None,
        }
    }
}

/// Every finding in a package: its files' and its anomalies', ordered
/// by path, line, column and rule.
pub(crate) fn package_findings(
    engine: &Engine,
    package: &Package,
) -> Vec<Finding> {
    let files: Vec<ScanFile<'_>> = package
        .files
        .iter()
        .map(|file| ScanFile {
            path: &file.path,
            language: file.language,
            role: file.role,
            data: &file.data,
        })
        .collect();
    // Anomalies take the role a file at their path has; a map, since a
    // hostile archive can hold a great many of both.
    let roles: HashMap<&str, Role> =
        package.files.iter().map(|f| (f.path.as_str(), f.role)).collect();
    let anomalies: Vec<ScanAnomaly<'_>> = package
        .anomalies
        .iter()
        .map(|anomaly| ScanAnomaly {
            kind: anomaly.kind.id(),
            path: &anomaly.path,
            detail: &anomaly.detail,
            role: roles
                .get(anomaly.path.as_str())
                .copied()
                .unwrap_or(Role::Other),
        })
        .collect();

    let mut findings = engine.scan_files(&files);
    findings.extend(engine.anomaly_findings(&anomalies));
    findings.extend(engine.metadata_findings(&facts::package_facts(package)));
    sort_by_place(&mut findings);
    findings
}

/// Orders findings by path, line, column and rule.
fn sort_by_place(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        (&a.path, a.line, a.column, &a.rule)
            .cmp(&(&b.path, b.line, b.column, &b.rule))
    });
}

/// An error and its causes in one line, as the report shows it.
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn filter_findings(report: &mut ScanReport, min: Severity) {
    for package in &mut report.packages {
        package.findings.retain(|finding| finding.severity >= min);
    }
}

fn write_report(
    global: &GlobalArgs,
    args: &ScanArgs,
    rules: &[RuleInfo],
    report: &ScanReport,
) -> anyhow::Result<()> {
    let mut out = open_output(args)?;
    let to_terminal = args.output.is_none() && io::stdout().is_terminal();
    let options = cordon_report::RenderOptions {
        color: cli::use_color(global.color, to_terminal),
        debug: global.debug,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
    };
    let format = match args.format {
        FormatArg::Human => cordon_report::Format::Human,
        FormatArg::Json => cordon_report::Format::Json,
        FormatArg::Sarif => cordon_report::Format::Sarif,
        FormatArg::Jsonl => {
            let written = report
                .packages
                .iter()
                .try_for_each(|package| write_line(&mut out, package));
            return cli::ignore_broken_pipe(written)
                .context("cannot write the report");
        }
        FormatArg::Html => {
            let version = &options.tool_version;
            let written = cordon_report::html::render_scan(
                report, rules, version, &mut out,
            )
            .and_then(|()| out.flush());
            return cli::ignore_broken_pipe(written)
                .context("cannot write the report");
        }
    };

    let written =
        cordon_report::render_scan(format, report, rules, &options, &mut out)
            .and_then(|()| out.flush());
    cli::ignore_broken_pipe(written).context("cannot write the report")
}

/// `-o FILE`, or standard output.
fn open_output(args: &ScanArgs) -> anyhow::Result<Box<dyn Write>> {
    Ok(match &args.output {
        Some(path) => {
            Box::new(io::BufWriter::new(File::create(path).with_context(
                || format!("cannot create `{}`", path.display()),
            )?))
        }
        None => Box::new(io::BufWriter::new(io::stdout().lock())),
    })
}

/// One package as one line of JSON, flushed at once.
fn write_line(out: &mut dyn Write, package: &PackageReport) -> io::Result<()> {
    serde_json::to_writer(&mut *out, package)?;
    out.write_all(b"\n")?;
    out.flush()
}

/// Where finished packages go.
enum Sink {
    /// JSON lines, each written as soon as its package is done.
    Lines {
        out: Box<dyn Write>,
        to_stdout: bool,
        min: Severity,
        fail_on: FailOn,
        tally: Tally,
    },
    /// Every package in its target's place, for one report at the end.
    Report { slots: Vec<Option<PackageReport>> },
}

impl Sink {
    fn new(args: &ScanArgs, total: usize) -> anyhow::Result<Sink> {
        if args.format != FormatArg::Jsonl {
            return Ok(Sink::Report { slots: vec![None; total] });
        }
        Ok(Sink::Lines {
            out: open_output(args)?,
            to_stdout: args.output.is_none(),
            min: args.min_severity.into(),
            fail_on: args.fail_on,
            tally: Tally::default(),
        })
    }

    /// Whether packages are written to standard output as they finish.
    fn streams(&self) -> bool {
        matches!(self, Sink::Lines { to_stdout: true, .. })
    }

    /// Takes one finished package; `false` when no more are wanted (the
    /// reader of standard output has gone).
    fn add(
        &mut self,
        index: usize,
        mut package: PackageReport,
    ) -> anyhow::Result<bool> {
        match self {
            Sink::Report { slots } => {
                slots[index] = Some(package);
                Ok(true)
            }
            Sink::Lines { out, min, fail_on, tally, .. } => {
                tally.add(&package, *fail_on);
                package.findings.retain(|finding| finding.severity >= *min);
                match write_line(out, &package) {
                    Ok(()) => Ok(true),
                    Err(err) if err.kind() == io::ErrorKind::BrokenPipe => {
                        Ok(false)
                    }
                    Err(err) => Err(err).context("cannot write the report"),
                }
            }
        }
    }

    /// Writes what is left to write and returns the exit code.
    fn finish(
        self,
        global: &GlobalArgs,
        args: &ScanArgs,
        rules: Vec<RuleInfo>,
    ) -> anyhow::Result<u8> {
        match self {
            Sink::Lines { tally, .. } => Ok(tally.code()),
            Sink::Report { slots } => {
                let packages = slots.into_iter().flatten().collect();
                let mut report = ScanReport::new(packages);
                let code = exit_code(&report, args.fail_on);
                filter_findings(&mut report, args.min_severity.into());
                write_report(global, args, &rules, &report)?;
                Ok(code)
            }
        }
    }
}

/// What decides the exit code, counted package by package.
#[derive(Debug, Default)]
struct Tally {
    reached: bool,
    unread: bool,
}

impl Tally {
    fn add(&mut self, package: &PackageReport, fail_on: FailOn) {
        let threshold = match fail_on {
            FailOn::Suspicious => Verdict::Suspicious,
            FailOn::Malicious => Verdict::Malicious,
        };
        self.reached |= package.verdict >= Some(threshold);
        self.unread |= package.error.is_some();
    }

    /// 1 when a package reached the failure threshold, else 2 when a
    /// target could not be read, else 0.
    fn code(&self) -> u8 {
        if self.reached {
            1
        } else if self.unread {
            2
        } else {
            0
        }
    }
}

/// The exit code of a whole report; see [`Tally::code`].
fn exit_code(report: &ScanReport, fail_on: FailOn) -> u8 {
    let mut tally = Tally::default();
    for package in &report.packages {
        tally.add(package, fail_on);
    }
    tally.code()
}

/// A lockfile package's source, and where on disk it was read from.
fn with_disk_note(
    source: Option<String>,
    on_disk: Option<PathBuf>,
) -> Option<String> {
    let Some(path) = on_disk else { return source };
    let note = format!("read from disk at {}", path.display());
    Some(match source {
        Some(source) => format!("{source}; {note}"),
        None => note,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn package(verdict: Option<Verdict>) -> PackageReport {
        let mut report = PackageReport::failed("t", "e".into());
        report.verdict = verdict;
        report.error = if verdict.is_none() { Some("e".into()) } else { None };
        report
    }

    #[test]
    fn exit_code_follows_the_threshold() {
        let report = ScanReport::new(vec![package(Some(Verdict::Suspicious))]);
        assert_eq!(exit_code(&report, FailOn::Suspicious), 1);
        assert_eq!(exit_code(&report, FailOn::Malicious), 0);
    }

    #[test]
    fn unreadable_target_fails_unless_a_verdict_already_does() {
        let report = ScanReport::new(vec![
            package(Some(Verdict::Clean)),
            package(None),
        ]);
        assert_eq!(exit_code(&report, FailOn::Suspicious), 2);
        let report = ScanReport::new(vec![
            package(Some(Verdict::Malicious)),
            package(None),
        ]);
        assert_eq!(exit_code(&report, FailOn::Malicious), 1);
    }
}
