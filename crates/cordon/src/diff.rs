//! `cordon diff OLD NEW`: what a new version of a package adds to the
//! old one.
//!
//! Both versions are read as `cordon scan` reads a target (a directory,
//! a file, an archive or a registry package) and scanned with the same
//! rules. Then they are compared, not line by line, but by what matters
//! in a compromised release: findings added and removed, install hooks
//! (npm lifecycle scripts, files that run at install time such as
//! `setup.py`, `build.rs` and `.pth` files, a `setup.py` with custom
//! commands, a proc-macro crate, a build backend, gem extensions),
//! dependencies, network destinations (the hosts of URLs in the code
//! and the findings) and binaries (ELF, PE and Mach-O files).
//!
//! A finding is the same in both versions when its rule, its path and
//! its snippet (with runs of white space made one) are: moving code
//! down a file does not make it new. Paths are taken relative to the
//! package's root directory (`package/` of an npm tarball,
//! `name-1.0/` of an sdist), so that an archive compares with a
//! directory. The exit code is 1 when the new version adds a finding
//! of high or critical severity.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, ValueEnum};
use cordon_package::{Limits, Package};
use cordon_registry::Client;
use cordon_report::{
    Ecosystem, Finding, Language, Role, Severity, Verdict, terminal_safe,
};
use cordon_scan::Engine;
use serde::Serialize;

use crate::cli::{self, GlobalArgs};
use crate::scan::{error_chain, package_findings};
use crate::targets::{Job, RegistryArgs};

/// The version of the JSON diff report, written as its `version` field.
pub const DIFF_FORMAT_VERSION: u32 = 1;

/// The widest a field from a package is shown on a terminal.
const SHOWN_CHARS: usize = 200;

/// Flags of `cordon diff`.
#[derive(Debug, Args)]
#[command(after_help = EXIT_CODES)]
pub struct DiffArgs {
    /// The old version: a directory, file or archive, or a registry
    /// package (npm:NAME@VERSION, pypi:NAME==VERSION,
    /// crates:NAME@VERSION).
    pub old: PathBuf,

    /// The new version, of any kind the old one can be.
    pub new: PathBuf,

    /// The report's format.
    #[arg(long, value_enum, default_value_t = DiffFormat::Human)]
    pub format: DiffFormat,

    /// Write the report to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Where registry packages come from.
    #[command(flatten)]
    pub registry: RegistryArgs,
}

const EXIT_CODES: &str = "\
Exit codes:
  0  the new version adds no finding of high or critical severity
  1  the new version adds at least one
  2  cordon failed, or a version could not be read";

/// The report formats of `cordon diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// A readable list of what was added and removed.
    Human,
    /// One JSON object, described in docs/json-format.md.
    Json,
}

/// One side of the comparison, as the JSON report names it.
#[derive(Debug, Serialize)]
pub struct Side {
    /// The target as given.
    pub target: String,
    /// The registry the package belongs to, when it could be told.
    pub ecosystem: Option<Ecosystem>,
    /// The package's name from its metadata.
    pub name: Option<String>,
    /// The package's version from its metadata.
    pub version: Option<String>,
    /// The verdict of a scan of this version alone.
    pub verdict: Verdict,
    /// The score behind it.
    pub score: u32,
}

/// A binary file of the new version that the old one lacks, or holds
/// with other bytes.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Binary {
    /// Its path relative to the package's root.
    pub path: String,
    /// `ELF`, `PE` or `Mach-O`.
    pub kind: &'static str,
    /// `added`, or `changed` when the old version has other bytes there.
    pub change: &'static str,
}

/// What the new version adds to the old one, and what it drops.
#[derive(Debug, Serialize)]
pub struct DiffReport {
    /// Always [`DIFF_FORMAT_VERSION`].
    pub version: u32,
    /// The old version.
    pub old: Side,
    /// The new version.
    pub new: Side,
    /// Findings of the new version that the old one lacks.
    pub findings_added: Vec<Finding>,
    /// Findings of the old version that the new one lacks.
    pub findings_removed: Vec<Finding>,
    /// How many added findings are of high or critical severity.
    pub high_severity_added: usize,
    /// Ways to run code at install time that are new.
    pub install_hooks_added: Vec<String>,
    /// Ways to run code at install time that are gone.
    pub install_hooks_removed: Vec<String>,
    /// Dependencies by name that are new.
    pub dependencies_added: Vec<String>,
    /// Dependencies by name that are gone.
    pub dependencies_removed: Vec<String>,
    /// Hosts named in URLs of the new version's code and findings that
    /// the old version's do not name.
    pub network_added: Vec<String>,
    /// Binaries that are new or changed.
    pub binaries_added: Vec<Binary>,
}

/// Runs `cordon diff` and returns its exit code.
pub fn main(_global: &GlobalArgs, args: DiffArgs) -> anyhow::Result<u8> {
    let engine =
        Engine::builtin().context("cannot load the built-in rules")?;
    let client = Client::new(args.registry.options());
    let limits = Limits::default();
    let old = Version::read(&engine, &client, &limits, &args.old)?;
    let new = Version::read(&engine, &client, &limits, &args.new)?;

    let report = compare(&old, &new);
    write(&args, &report)?;
    Ok(if report.high_severity_added > 0 { 1 } else { 0 })
}

/// One version, read and scanned, with what the comparison looks at.
struct Version {
    side: Side,
    findings: Vec<Finding>,
    hooks: BTreeSet<String>,
    dependencies: BTreeSet<String>,
    hosts: BTreeSet<String>,
    /// Binary files by path: their kind and bytes.
    binaries: BTreeMap<String, (&'static str, Vec<u8>)>,
}

impl Version {
    /// Reads and scans `target`; anything that stops it is an error
    /// that names the target.
    fn read(
        engine: &Engine,
        client: &Client,
        limits: &Limits,
        target: &Path,
    ) -> anyhow::Result<Version> {
        let text = target.display().to_string();
        let package = read_package(client, limits, target)
            .with_context(|| format!("cannot read `{text}`"))?;
        let root = package.metadata.root.clone();

        let mut findings = package_findings(engine, &package);
        for finding in &mut findings {
            finding.path = relative(&root, &finding.path).to_string();
        }
        let (score, verdict) = engine.score(&findings);
        let mut hosts = BTreeSet::new();
        for finding in &findings {
            url_hosts(&finding.snippet, &mut hosts);
        }
        for file in package.files.iter().filter(|f| is_running_code(f)) {
            url_hosts(&String::from_utf8_lossy(&file.data), &mut hosts);
        }

        Ok(Version {
            side: Side {
                target: text,
                ecosystem: package.ecosystem,
                name: package.name.clone(),
                version: package.version.clone(),
                verdict,
                score,
            },
            findings,
            hooks: install_hooks(&package),
            dependencies: package
                .metadata
                .dependencies
                .iter()
                .cloned()
                .collect(),
            hosts,
            binaries: binaries(&package),
        })
    }
}

/// Reads one target that stands for a single package: a path, or a
/// registry spec, fetched and verified.
fn read_package(
    client: &Client,
    limits: &Limits,
    target: &Path,
) -> anyhow::Result<Package> {
    let mut jobs = crate::targets::expand(&[target.to_path_buf()], false)?;
    if jobs.len() != 1 || jobs.iter().any(is_lockfile_entry) {
        anyhow::bail!(
            "a lockfile stands for many packages; diff compares two \
             versions of one package"
        );
    }
    match jobs.remove(0) {
        Job::Path(path) => cordon_package::read_target(&path, limits)
            .map_err(|err| anyhow::anyhow!(error_chain(&err))),
        Job::Remote { spec, digests, .. } => {
            let fetched = client
                .fetch(&spec, &digests)
                .map_err(|err| anyhow::anyhow!(error_chain(&err)))?;
            cordon_package::read_bytes(
                &fetched.file_name,
                &fetched.bytes,
                limits,
            )
            .map_err(|err| anyhow::anyhow!(error_chain(&err)))
        }
        Job::Failed { error, .. } => Err(anyhow::anyhow!(error)),
    }
}

fn is_lockfile_entry(job: &Job) -> bool {
    matches!(job, Job::Remote { source: Some(_), .. })
}

/// `path` without the package's root directory.
fn relative<'a>(root: &str, path: &'a str) -> &'a str {
    path.strip_prefix(root).unwrap_or(path)
}

/// Whether a file holds code that installing, importing or calling the
/// package may run; tests, docs, examples and tooling do not count.
fn is_running_code(file: &cordon_package::PackageFile) -> bool {
    let code = matches!(
        file.language,
        Language::Python
            | Language::JavaScript
            | Language::TypeScript
            | Language::Shell
            | Language::Rust
            | Language::Ruby
            | Language::PowerShell
            | Language::Batch
    );
    let runs = matches!(file.role, Role::Install | Role::Import | Role::Other);
    code && runs
}

/// Every way the package runs code when it is installed or built, one
/// line each.
fn install_hooks(package: &Package) -> BTreeSet<String> {
    let root = &package.metadata.root;
    let mut hooks = BTreeSet::new();
    for (hook, command) in package.metadata.install_scripts() {
        hooks.insert(format!("npm {hook} script: {command}"));
    }
    for file in package.files.iter().filter(|f| f.role == Role::Install) {
        // The manifest that names npm's scripts is itself install-time
        // text; the scripts above say what it runs.
        let path = relative(root, &file.path);
        if path != "package.json" {
            hooks.insert(format!("{}: {path}", hook_kind(path)));
        }
    }
    let setup = package.file(&format!("{root}setup.py"));
    if setup.and_then(|f| f.text()).is_some_and(|t| t.contains("cmdclass")) {
        hooks.insert("setup.py cmdclass: custom install commands".into());
    }
    if package.metadata.proc_macro {
        hooks.insert("proc-macro crate: runs inside the compiler".into());
    }
    if let Some(backend) = &package.metadata.build_backend {
        hooks.insert(format!("build backend: {backend}"));
    }
    for extension in &package.metadata.extensions {
        hooks.insert(format!("gem extension: {extension}"));
    }
    hooks
}

/// What kind of install-time file `path` is.
fn hook_kind(path: &str) -> &'static str {
    let name = path.rsplit('/').next().unwrap_or(path);
    match name {
        "build.rs" => "build script",
        "setup.py" => "setup script",
        "extconf.rb" => "gem extension",
        _ if name.ends_with(".pth") => "path configuration file",
        _ => "install-time file",
    }
}

/// The package's binary files by path relative to its root.
fn binaries(package: &Package) -> BTreeMap<String, (&'static str, Vec<u8>)> {
    let root = &package.metadata.root;
    package
        .files
        .iter()
        .filter_map(|file| {
            let kind = binary_kind(&file.data)?;
            let path = relative(root, &file.path).to_string();
            Some((path, (kind, file.data.clone())))
        })
        .collect()
}

/// `ELF`, `PE` or `Mach-O` when `data` is an executable of that kind.
fn binary_kind(data: &[u8]) -> Option<&'static str> {
    const MACH_O: [[u8; 4]; 4] = [
        [0xfe, 0xed, 0xfa, 0xce],
        [0xfe, 0xed, 0xfa, 0xcf],
        [0xce, 0xfa, 0xed, 0xfe],
        [0xcf, 0xfa, 0xed, 0xfe],
    ];
    if data.starts_with(b"\x7fELF") {
        return Some("ELF");
    }
    if data.len() >= 4 && MACH_O.iter().any(|magic| data[..4] == *magic) {
        return Some("Mach-O");
    }
    if !data.starts_with(b"MZ") || data.len() < 0x40 {
        return None;
    }
    // A DOS header points at the PE header from offset 0x3c.
    let at =
        u32::from_le_bytes([data[0x3c], data[0x3d], data[0x3e], data[0x3f]]);
    let at = usize::try_from(at).ok()?;
    let signature = data.get(at..at.checked_add(4)?)?;
    (signature == b"PE\0\0").then_some("PE")
}

/// Adds the host of every `http`, `https`, `ws`, `wss` and `ftp` URL in
/// `text` to `hosts`, lowercase, without user or port.
fn url_hosts(text: &str, hosts: &mut BTreeSet<String>) {
    const SCHEMES: [&str; 5] = ["https", "http", "wss", "ws", "ftp"];
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let before = rest[..at].to_ascii_lowercase();
        let after = &rest[at + 3..];
        rest = after;
        if !SCHEMES.iter().any(|scheme| before.ends_with(scheme)) {
            continue;
        }
        let end =
            after.find(|c: char| !is_authority_char(c)).unwrap_or(after.len());
        let authority = &after[..end];
        let host = authority.rsplit('@').next().unwrap_or(authority);
        let host = strip_port(host).trim_end_matches('.').to_ascii_lowercase();
        let valid = host.contains('.') || host == "localhost";
        if valid && !host.starts_with('.') && !host.ends_with('.') {
            hosts.insert(host);
        }
    }
}

fn is_authority_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '@')
}

/// `host:port` without the port.
fn strip_port(host: &str) -> &str {
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

/// Compares two versions.
fn compare(old: &Version, new: &Version) -> DiffReport {
    let added = only_in(&new.findings, &old.findings);
    let high = added.iter().filter(|f| f.severity >= Severity::High).count();
    DiffReport {
        version: DIFF_FORMAT_VERSION,
        old: clone_side(&old.side),
        new: clone_side(&new.side),
        findings_removed: only_in(&old.findings, &new.findings),
        findings_added: added,
        high_severity_added: high,
        install_hooks_added: new
            .hooks
            .difference(&old.hooks)
            .cloned()
            .collect(),
        install_hooks_removed: old
            .hooks
            .difference(&new.hooks)
            .cloned()
            .collect(),
        dependencies_added: new
            .dependencies
            .difference(&old.dependencies)
            .cloned()
            .collect(),
        dependencies_removed: old
            .dependencies
            .difference(&new.dependencies)
            .cloned()
            .collect(),
        network_added: new.hosts.difference(&old.hosts).cloned().collect(),
        binaries_added: new_binaries(old, new),
    }
}

fn clone_side(side: &Side) -> Side {
    Side {
        target: side.target.clone(),
        ecosystem: side.ecosystem,
        name: side.name.clone(),
        version: side.version.clone(),
        verdict: side.verdict,
        score: side.score,
    }
}

/// What identifies a finding across versions: its rule, its path and
/// its snippet with white space evened out; never its line.
fn key(finding: &Finding) -> (&str, &str, String) {
    let snippet: Vec<&str> = finding.snippet.split_whitespace().collect();
    (&finding.rule, &finding.path, snippet.join(" "))
}

/// The findings of `these` that `those` lacks, each counted: a second
/// copy of a finding the old version had once is new.
fn only_in(these: &[Finding], those: &[Finding]) -> Vec<Finding> {
    let mut left: HashMap<(&str, &str, String), usize> = HashMap::new();
    for finding in those {
        *left.entry(key(finding)).or_default() += 1;
    }
    these
        .iter()
        .filter(|finding| match left.get_mut(&key(finding)) {
            Some(count) if *count > 0 => {
                *count -= 1;
                false
            }
            _ => true,
        })
        .cloned()
        .collect()
}

fn new_binaries(old: &Version, new: &Version) -> Vec<Binary> {
    new.binaries
        .iter()
        .filter_map(|(path, (kind, data))| {
            let change = match old.binaries.get(path) {
                None => "added",
                Some((_, before)) if before != data => "changed",
                Some(_) => return None,
            };
            Some(Binary { path: path.clone(), kind, change })
        })
        .collect()
}

/// Writes the report where and how the flags say.
fn write(args: &DiffArgs, report: &DiffReport) -> anyhow::Result<()> {
    let text = match args.format {
        DiffFormat::Human => human(report),
        DiffFormat::Json => {
            let mut json = serde_json::to_string_pretty(report)?;
            json.push('\n');
            json
        }
    };
    match &args.output {
        Some(path) => File::create(path)
            .and_then(|mut file| file.write_all(text.as_bytes()))
            .with_context(|| format!("cannot write `{}`", path.display())),
        None => cli::ignore_broken_pipe(
            io::stdout().lock().write_all(text.as_bytes()),
        )
        .context("cannot write to stdout"),
    }
}

/// The terminal report.
fn human(report: &DiffReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "cordon diff: {} -> {}",
        safe(&report.old.target),
        safe(&report.new.target)
    );
    side_line(&mut out, "old", &report.old);
    side_line(&mut out, "new", &report.new);

    list(&mut out, "install hooks added", '+', &report.install_hooks_added);
    list(
        &mut out,
        "install hooks removed",
        '-',
        &report.install_hooks_removed,
    );
    list(&mut out, "dependencies added", '+', &report.dependencies_added);
    list(&mut out, "dependencies removed", '-', &report.dependencies_removed);
    list(&mut out, "network destinations added", '+', &report.network_added);
    let binaries: Vec<String> = report
        .binaries_added
        .iter()
        .map(|b| format!("{} ({}, {})", b.path, b.kind, b.change))
        .collect();
    list(&mut out, "binaries added or changed", '+', &binaries);
    findings(&mut out, "findings added", '+', &report.findings_added);
    findings(&mut out, "findings removed", '-', &report.findings_removed);

    let high = report.high_severity_added;
    let _ = writeln!(out);
    let _ = match high {
        0 => writeln!(out, "result: no high-severity behaviour added"),
        1 => writeln!(out, "result: 1 high-severity behaviour added"),
        n => writeln!(out, "result: {n} high-severity behaviours added"),
    };
    out
}

/// `  new: npm tiny 1.0.1: suspicious, score 11`.
fn side_line(out: &mut String, label: &str, side: &Side) {
    let mut who = String::new();
    if let Some(ecosystem) = side.ecosystem {
        who.push_str(&format!("{ecosystem} "));
    }
    who.push_str(side.name.as_deref().unwrap_or("(unnamed)"));
    if let Some(version) = &side.version {
        who.push_str(&format!(" {version}"));
    }
    let _ = writeln!(
        out,
        "  {label}: {}: {}, score {}",
        safe(&who),
        side.verdict,
        side.score
    );
}

fn list(out: &mut String, title: &str, mark: char, items: &[String]) {
    if items.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n{title}:");
    for item in items {
        let _ = writeln!(out, "  {mark} {}", safe(item));
    }
}

fn findings(out: &mut String, title: &str, mark: char, items: &[Finding]) {
    if items.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n{title} ({}):", items.len());
    for f in items {
        let _ = writeln!(
            out,
            "  {mark} {}[{}] {}:{} ({}): {}",
            f.severity,
            safe(&f.rule),
            safe(&f.path),
            f.line,
            f.role,
            safe(&f.message),
        );
        if let Some(first) = f.snippet.lines().next() {
            let _ = writeln!(out, "      {}", safe(first.trim()));
        }
    }
}

/// Text from a package, made safe for a terminal.
fn safe(text: &str) -> String {
    terminal_safe(text, SHOWN_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(rule: &str, line: u32, snippet: &str) -> Finding {
        Finding {
            rule: rule.into(),
            severity: Severity::High,
            path: "a.js".into(),
            line,
            column: 1,
            message: String::new(),
            snippet: snippet.into(),
            snippet_column: 1,
            role: Role::Install,
        }
    }

    #[test]
    fn a_finding_moved_down_is_not_new_but_a_second_copy_is() {
        let old = [finding("r", 3, "exec(x)")];
        let new = [finding("r", 9, "  exec(x)"), finding("r", 12, "exec(x)")];
        let added = only_in(&new, &old);
        assert_eq!(added.len(), 1);
        assert_eq!(added[0].line, 12);
        assert!(only_in(&old, &new).is_empty());
    }

    #[test]
    fn hosts_come_from_urls_without_user_or_port() {
        let mut hosts = BTreeSet::new();
        url_hosts(
            "get('https://u:p@Evil.Example:8443/x') ws://10.0.0.1/ \
             file:///etc/passwd http://${host}/ see https://docs.rs.",
            &mut hosts,
        );
        let hosts: Vec<&str> = hosts.iter().map(String::as_str).collect();
        assert_eq!(hosts, ["10.0.0.1", "docs.rs", "evil.example"]);
    }

    #[test]
    fn executables_are_told_from_their_headers() {
        assert_eq!(binary_kind(b"\x7fELF\x02\x01"), Some("ELF"));
        let mut pe = vec![0u8; 0x80];
        pe[..2].copy_from_slice(b"MZ");
        pe[0x3c] = 0x40;
        pe[0x40..0x44].copy_from_slice(b"PE\0\0");
        assert_eq!(binary_kind(&pe), Some("PE"));
        pe[0x3c] = 0xff;
        assert_eq!(binary_kind(&pe), None);
        assert_eq!(binary_kind(b"MZ is a text file"), None);
    }
}
