//! `cordon scan`: reads each target, scans it, and renders one report.
//!
//! Every target is read and scanned on its own: a target that cannot be
//! read becomes an entry with an error, and the others go on. The exit
//! code is decided once, from the finished report, by [`exit_code`].

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, ValueEnum};
use cordon_package::{Limits, Package};
use cordon_registry::{Client, Digest, Spec};
use cordon_report::{
    Finding, PackageReport, Role, ScanReport, Severity, Verdict,
};
use cordon_scan::{Engine, ScanAnomaly, ScanFile};
use rayon::prelude::*;

use crate::cli::{self, GlobalArgs};
use crate::ignore::{self, Ignore};
use crate::size::parse_size;
use crate::targets::{Job, RegistryArgs};

/// How many packages are fetched and scanned at once when some come
/// from a registry: fetching waits on the network more than the CPU.
const REMOTE_JOBS: usize = 8;

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
    let engine =
        Engine::builtin().context("cannot load the built-in rules")?;
    let ignores = ignore::load(&engine, &args.ignore, args.config.as_deref())?;
    let limits = limits(&args);
    let jobs = crate::targets::expand(&args.targets)?;
    let scanner = Scanner {
        engine: &engine,
        limits: &limits,
        ignores: &ignores,
        client: Client::new(args.registry.options()),
    };

    let threads =
        if jobs.iter().any(Job::is_remote) { REMOTE_JOBS } else { 0 };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .context("cannot start the scanning threads")?;
    let packages: Vec<PackageReport> =
        pool.install(|| jobs.par_iter().map(|job| scanner.job(job)).collect());
    let mut report = ScanReport::new(packages);
    filter_findings(&mut report, args.min_severity.into());

    write_report(global, &args, &engine, &report)?;
    Ok(exit_code(&report, args.fail_on))
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
    limits: &'a Limits,
    ignores: &'a [Ignore],
    client: Client,
}

impl Scanner<'_> {
    /// Reads or fetches one package and scans it; one that cannot be read
    /// becomes an entry that says why.
    fn job(&self, job: &Job) -> PackageReport {
        match job {
            Job::Path(path) => self.path(path),
            Job::Remote { target, spec, digests, source } => {
                let mut report = self.remote(target, spec, digests);
                report.source = source.clone();
                report
            }
            Job::Failed { target, error } => {
                PackageReport::failed(target, error.clone())
            }
        }
    }

    fn path(&self, target: &Path) -> PackageReport {
        let name = target.display().to_string();
        match cordon_package::read_target(target, self.limits) {
            Ok(package) => self.scan(&name, &package),
            Err(err) => {
                tracing::debug!(target = %name, "cannot read: {err}");
                PackageReport::failed(&name, error_chain(&err))
            }
        }
    }

    /// Fetches a registry package and scans it; what its own manifests
    /// do not say about it comes from the registry.
    fn remote(
        &self,
        target: &str,
        spec: &Spec,
        digests: &[Digest],
    ) -> PackageReport {
        let fetched = match self.client.fetch(spec, digests) {
            Ok(fetched) => fetched,
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
        report.ecosystem = report.ecosystem.or(Some(fetched.ecosystem));
        report.name = report.name.or(Some(fetched.name));
        report.version = report.version.or(Some(fetched.version));
        report
    }

    /// Scans a package that was read.
    fn scan(&self, target: &str, package: &Package) -> PackageReport {
        let engine = self.engine;
        let mut findings = package_findings(engine, package);
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
fn package_findings(engine: &Engine, package: &Package) -> Vec<Finding> {
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
    findings.sort_by(|a, b| {
        (&a.path, a.line, a.column, &a.rule)
            .cmp(&(&b.path, b.line, b.column, &b.rule))
    });
    findings
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
    engine: &Engine,
    report: &ScanReport,
) -> anyhow::Result<()> {
    let rules = engine.rule_infos();
    let mut out: Box<dyn Write> = match &args.output {
        Some(path) => {
            Box::new(io::BufWriter::new(File::create(path).with_context(
                || format!("cannot create `{}`", path.display()),
            )?))
        }
        None => Box::new(io::BufWriter::new(io::stdout().lock())),
    };
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
    };

    let written =
        cordon_report::render_scan(format, report, &rules, &options, &mut out)
            .and_then(|()| out.flush());
    cli::ignore_broken_pipe(written).context("cannot write the report")
}

/// 1 when a package reached the failure threshold, else 2 when a target
/// could not be read, else 0.
fn exit_code(report: &ScanReport, fail_on: FailOn) -> u8 {
    let threshold = match fail_on {
        FailOn::Suspicious => Verdict::Suspicious,
        FailOn::Malicious => Verdict::Malicious,
    };
    let failed = report.packages.iter().any(|p| p.verdict >= Some(threshold));
    if failed {
        1
    } else if report.packages.iter().any(|p| p.error.is_some()) {
        2
    } else {
        0
    }
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
