//! `cordon install npm|pip|cargo ARGS...`: installs packages the way
//! the package manager would, but only after scanning what it is about
//! to install, and with the install itself sandboxed.
//!
//! Four steps, each visible in the combined report:
//!
//! 1. **Resolve.** The package manager works out what it would install,
//!    without installing it, inside the sandbox with only the registry's
//!    hosts reachable: npm writes a `package-lock.json` in a scratch copy
//!    of the project, pip writes a report (`--dry-run --report`) that
//!    becomes a requirements file pinning every file by SHA-256, cargo
//!    writes `Cargo.lock`. The real workspace is read-only here.
//! 2. **Scan.** `cordon scan` reads that lockfile: every package in it
//!    is fetched from the registry, its digest checked, and scanned.
//! 3. **Decide.** A `malicious` verdict (or, with `--refuse-on
//!    suspicious`, a suspicious one) refuses the install, unless
//!    `--force REASON` overrides it; the reason goes in the report.
//! 4. **Install.** The real install runs in the sandbox with the
//!    workspace writable and only the registry's hosts reachable, and
//!    installs exactly what was scanned: npm from the lockfile, which
//!    pins every tarball's integrity, pip from the pinned requirements
//!    with `--require-hashes`, cargo with `--locked`.
//!
//! The sandboxed steps run as `cordon run` in a child process: a
//! sandbox needs a single-threaded process, and the scan uses threads.

use std::ffi::{OsStr, OsString};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use serde_json::Value;

use crate::cli::GlobalArgs;
use crate::outputs::Output;
use crate::targets::RegistryArgs;

use self::pip::{Python, find_python, pin_requirements};
use self::verdict::{Decision, Outcome, SHOWN_CHARS, failed_json, print_scan};

mod pip;
mod verdict;

/// The files of an npm project that decide what `npm install` resolves.
const NPM_PROJECT_FILES: [&str; 4] =
    ["package.json", "package-lock.json", "npm-shrinkwrap.json", ".npmrc"];

/// The hosts a PyPI index on `pypi.org` serves its files from.
const PYPI_FILE_HOSTS: [&str; 1] = ["files.pythonhosted.org:443"];

/// The hosts cargo needs for crates.io besides the index and downloads.
const CRATES_HOSTS: [&str; 2] = ["crates.io:443", "index.crates.io:443"];

/// The exit code of a refused install.
const REFUSED: u8 = 1;

/// The exit code when the resolve or scan step itself failed.
const FAILED: u8 = 2;

/// What `cordon install --help` says about exit codes.
const EXIT_CODES: &str = "Exit codes: the package manager's own once the \
    install ran; 1 when the scan refused the install; 2 when resolving or \
    scanning failed; 125 when the sandbox could not start.";

/// Flags of `cordon install`. cordon's own flags come before the
/// package manager's name; everything after it goes to the manager.
#[derive(Debug, Args)]
#[command(after_help = EXIT_CODES)]
pub struct InstallArgs {
    /// Install even when the scan would refuse; REASON is recorded in
    /// the report and printed.
    #[arg(long, value_name = "REASON")]
    pub force: Option<String>,

    /// The verdict that refuses the install.
    #[arg(long, value_enum, default_value_t = RefuseOn::Malicious)]
    pub refuse_on: RefuseOn,

    /// The project directory (default: the current directory); the only
    /// place the install can write.
    #[arg(long, value_name = "DIR")]
    pub workspace: Option<PathBuf>,

    /// Write the whole install as JSON to FILE: what was resolved, the
    /// scan, the decision and the sandboxed run.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,

    /// Let the sandboxed steps reach HOST[:PORT] too, besides the
    /// registry's hosts (repeatable).
    #[arg(long = "allow-host", value_name = "HOST[:PORT]")]
    pub allow_host: Vec<String>,

    /// Pass this credential-like environment variable to the sandboxed
    /// steps (repeatable), e.g. the `NPM_TOKEN` a project's `.npmrc`
    /// names for a private registry.
    #[arg(long = "env", value_name = "NAME")]
    pub env_pass: Vec<String>,

    /// The Python that runs pip (default: `$VIRTUAL_ENV/bin/python`,
    /// else `.venv/bin/python` in the workspace).
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,

    /// Kill each sandboxed step after this much wall-clock time.
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub timeout: Option<String>,

    /// Keep the scan cache in DIR instead of the default place.
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,

    /// Neither read nor write the scan cache.
    #[arg(long)]
    pub no_cache: bool,

    #[command(flatten)]
    pub registry: RegistryArgs,

    /// The package manager.
    #[arg(value_enum)]
    pub manager: Manager,

    /// The package manager's arguments, as `MANAGER install` takes them
    /// (`cargo build` for cargo).
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "ARGS"
    )]
    pub args: Vec<OsString>,
}

/// A package manager `cordon install` drives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Manager {
    /// `npm install`.
    Npm,
    /// `pip install`, in a virtual environment.
    Pip,
    /// `cargo build` of the project, whose dependencies are its install.
    Cargo,
}

/// The verdict from which an install is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RefuseOn {
    /// Refuse malicious packages; warn about suspicious ones.
    Malicious,
    /// Refuse suspicious and malicious packages.
    Suspicious,
}

/// Checks a `--timeout` and keeps its text for the child `cordon run`.
fn duration(text: &str) -> Result<String, String> {
    cordon_sandbox::parse_duration(text).map(|_| text.to_string())
}

impl Manager {
    fn name(self) -> &'static str {
        match self {
            Manager::Npm => "npm",
            Manager::Pip => "pip",
            Manager::Cargo => "cargo",
        }
    }
}

/// Runs `cordon install` and returns its exit code.
pub fn main(global: &GlobalArgs, args: InstallArgs) -> anyhow::Result<u8> {
    let plan = Plan::new(&args)?;
    say(global, &format!("resolving with {}", args.manager.name()));
    let resolved = match plan.resolve(global)? {
        Ok(resolved) => resolved,
        Err(failure) => {
            eprintln!("cordon: {failure}");
            plan.write_report(&failed_json(&args, &failure))?;
            return Ok(FAILED);
        }
    };

    say(global, &format!("scanning {}", resolved.describe()));
    let scan = plan.scan(global, &resolved)?;
    let decision = Decision::new(&args, &scan, &resolved.unpinned);
    print_scan(&scan, &decision);
    if decision.refused && args.force.is_none() {
        eprintln!(
            "cordon: install refused; read the findings above, and pass \
             --force REASON to install anyway"
        );
        let outcome = Outcome { resolved, scan, decision, run: None };
        plan.write_report(&outcome.to_json(&args))?;
        return Ok(REFUSED);
    }
    if let (true, Some(reason)) = (decision.refused, &args.force) {
        eprintln!("cordon: installing anyway (--force: {reason})");
    }

    say(global, "installing in the sandbox");
    let (code, run) = plan.install(global, &resolved)?;
    let outcome = Outcome { resolved, scan, decision, run: Some(run) };
    plan.write_report(&outcome.to_json(&args))?;
    Ok(code)
}

/// A progress line on stderr, unless `--quiet`.
fn say(global: &GlobalArgs, what: &str) {
    if !global.quiet {
        eprintln!("cordon: {what}");
    }
}

/// Everything the steps share: where they work and what they may reach.
struct Plan<'a> {
    args: &'a InstallArgs,
    /// The project, canonical.
    workspace: PathBuf,
    /// A private directory for the lockfile, the reports and the
    /// scratch project; removed at the end.
    scratch: tempfile::TempDir,
    /// `HOST:PORT` the sandboxed steps may reach.
    hosts: Vec<String>,
    /// The Python that runs pip, and its environment when that lies
    /// outside the workspace.
    python: Option<Python>,
    /// The Rust toolchain's sysroot that runs cargo.
    toolchain: Option<PathBuf>,
    /// `--report`, opened before anything runs (see [`crate::outputs`]).
    report: Option<Output>,
}

impl<'a> Plan<'a> {
    fn new(args: &'a InstallArgs) -> anyhow::Result<Plan<'a>> {
        let workspace = match &args.workspace {
            Some(dir) => dir.clone(),
            None => std::env::current_dir()
                .context("cannot read the current directory")?,
        };
        let workspace = workspace.canonicalize().with_context(|| {
            format!("cannot use the workspace `{}`", workspace.display())
        })?;
        let scratch = tempfile::Builder::new()
            .prefix("cordon-install-")
            .tempdir()
            .context("cannot make a scratch directory")?;
        let python = match args.manager {
            Manager::Pip => Some(find_python(args, &workspace)?),
            _ => None,
        };
        let toolchain = match args.manager {
            Manager::Cargo => Some(find_toolchain()?),
            _ => None,
        };
        let mut hosts = registry_hosts(args.manager, &args.registry)?;
        hosts.extend(args.allow_host.iter().cloned());
        let report = args.report.as_deref();
        let report =
            report.map(|p| Output::create(p, "the report")).transpose()?;
        Ok(Plan { args, workspace, scratch, hosts, python, toolchain, report })
    }

    fn scratch(&self, name: &str) -> PathBuf {
        self.scratch.path().join(name)
    }

    /// Step 1: the lockfile of what the manager would install, or why
    /// it could not say.
    fn resolve(
        &self,
        global: &GlobalArgs,
    ) -> anyhow::Result<Result<Resolved, String>> {
        match self.args.manager {
            Manager::Npm => self.resolve_npm(global),
            Manager::Pip => self.resolve_pip(global),
            Manager::Cargo => self.resolve_cargo(global),
        }
    }

    fn resolve_npm(
        &self,
        global: &GlobalArgs,
    ) -> anyhow::Result<Result<Resolved, String>> {
        let project = self.scratch("npm");
        std::fs::create_dir(&project)
            .context("cannot make the scratch project")?;
        for name in NPM_PROJECT_FILES {
            copy_if_present(&self.workspace.join(name), &project.join(name))?;
        }
        let mut command = self
            .npm_install_argv(&["--package-lock-only", "--ignore-scripts"]);
        command.extend(self.args.args.iter().cloned());

        let sandbox =
            self.sandbox(&project, "resolve.json").ro(&self.workspace);
        let ran = sandbox.capture(global, &command)?;
        if ran.code != 0 {
            return Ok(Err(ran.failure("npm could not resolve")));
        }
        let lockfile = project.join("package-lock.json");
        if !lockfile.is_file() {
            return Ok(Err("npm wrote no package-lock.json".to_string()));
        }
        Ok(Ok(Resolved::new(lockfile, ran.report)))
    }

    fn resolve_pip(
        &self,
        global: &GlobalArgs,
    ) -> anyhow::Result<Result<Resolved, String>> {
        let python = self.python()?;
        let pip_report = self.scratch("pip-report.json");
        let flags = ["--dry-run", "--ignore-installed", "--quiet"];
        let mut command = self.pip_install_argv(python, &flags);
        command.extend(["--report".into(), pip_report.clone().into()]);
        command.extend(self.args.args.iter().cloned());

        let mut sandbox = self
            .sandbox(self.scratch.path(), "resolve.json")
            .ro(&self.workspace);
        if let Some(venv) = &python.outside {
            sandbox = sandbox.ro(venv);
        }
        let ran = sandbox.capture(global, &command)?;
        if ran.code != 0 {
            return Ok(Err(ran.failure("pip could not resolve")));
        }
        let text = std::fs::read_to_string(&pip_report)
            .context("pip wrote no report")?;
        let pinned = pin_requirements(&text)?;
        let lockfile = self.scratch("requirements.txt");
        std::fs::write(&lockfile, &pinned.text)
            .context("cannot write the pinned requirements")?;
        let mut resolved = Resolved::new(lockfile, ran.report);
        resolved.unpinned = pinned.unpinned;
        resolved.local = pinned.local;
        Ok(Ok(resolved))
    }

    fn resolve_cargo(
        &self,
        global: &GlobalArgs,
    ) -> anyhow::Result<Result<Resolved, String>> {
        let lockfile = self.workspace.join("Cargo.lock");
        if lockfile.is_file() {
            return Ok(Ok(Resolved::new(lockfile, Value::Null)));
        }
        let command = argv(&["cargo", "generate-lockfile"]);
        let sandbox = self.sandbox(&self.workspace, "resolve.json");
        let ran = sandbox.capture(global, &command)?;
        if ran.code != 0 || !lockfile.is_file() {
            return Ok(Err(ran.failure("cargo could not write Cargo.lock")));
        }
        Ok(Ok(Resolved::new(lockfile, ran.report)))
    }

    /// The Python that runs pip, found when the plan was made.
    fn python(&self) -> anyhow::Result<&Python> {
        self.python.as_ref().context("no python for pip")
    }

    /// `npm install` pointed at the registry, with `flags`.
    fn npm_install_argv(&self, flags: &[&str]) -> Vec<OsString> {
        let mut command = argv(&["npm", "install", "--no-audit", "--no-fund"]);
        command.extend(argv(flags));
        command.push("--registry".into());
        command.push(self.args.registry.npm_registry.clone().into());
        command
    }

    /// `pip install` run by `python` in the workspace, with `flags`,
    /// pointed at the index; what follows is the caller's.
    fn pip_install_argv(
        &self,
        python: &Python,
        flags: &[&str],
    ) -> Vec<OsString> {
        let mut command: Vec<OsString> = vec![
            "env".into(),
            "-C".into(),
            self.workspace.clone().into(),
            python.program.clone().into(),
        ];
        let pip = ["-m", "pip", "install", "--disable-pip-version-check"];
        command.extend(argv(&pip));
        command.extend(argv(flags));
        command.push("--index-url".into());
        command.push(self.args.registry.pypi_index.clone().into());
        command
    }

    /// Step 2: `cordon scan` of the lockfile, as JSON.
    fn scan(
        &self,
        global: &GlobalArgs,
        resolved: &Resolved,
    ) -> anyhow::Result<Value> {
        let output = self.scratch("scan.json");
        let mut command = Command::new(current_exe()?);
        command.arg("scan").args(["--format", "json"]);
        command.arg("-o").arg(&output);
        command.args(self.registry_flags());
        if let Some(dir) = &self.args.cache_dir {
            command.arg("--cache-dir").arg(dir);
        }
        if self.args.no_cache {
            command.arg("--no-cache");
        }
        if global.debug {
            command.arg("--debug");
        }
        command.arg(&resolved.lockfile).args(&resolved.local);
        command.current_dir(&self.workspace);

        // 0: nothing flagged, 1: something flagged; both wrote a report.
        let status = command.status().context("cannot start cordon scan")?;
        if !matches!(status.code(), Some(0 | 1)) {
            bail!("cordon scan failed ({status})");
        }
        let text = std::fs::read_to_string(&output)
            .context("cordon scan wrote no report")?;
        serde_json::from_str(&text).context("cannot read the scan report")
    }

    fn registry_flags(&self) -> Vec<OsString> {
        let registry = &self.args.registry;
        let pairs = [
            ("--npm-registry", &registry.npm_registry),
            ("--pypi-index", &registry.pypi_index),
            ("--crates-index", &registry.crates_index),
            ("--crates-download", &registry.crates_download),
        ];
        let mut flags: Vec<OsString> = Vec::new();
        for (flag, value) in pairs {
            flags.extend([flag.into(), value.into()]);
        }
        flags.push("--fetch-timeout".into());
        flags.push(registry.fetch_timeout.to_string().into());
        flags
    }

    /// Step 4: the real install, in the sandbox; its exit status and
    /// run report.
    fn install(
        &self,
        global: &GlobalArgs,
        resolved: &Resolved,
    ) -> anyhow::Result<(u8, Value)> {
        let command = match self.args.manager {
            Manager::Npm => self.npm_install(resolved)?,
            Manager::Pip => self.pip_install(resolved)?,
            Manager::Cargo => self.cargo_build(),
        };
        let mut sandbox =
            self.sandbox(&self.workspace, "run.json").ro(self.scratch.path());
        if let Some(venv) =
            self.python.as_ref().and_then(|p| p.outside.as_ref())
        {
            sandbox = sandbox.rw(venv);
        }
        sandbox.inherit(global, &command)
    }

    /// Puts the resolved `package.json` and lockfile in the workspace and
    /// installs exactly that lockfile.
    fn npm_install(
        &self,
        resolved: &Resolved,
    ) -> anyhow::Result<Vec<OsString>> {
        let project = resolved.lockfile.parent().context("no npm project")?;
        for name in ["package.json", "package-lock.json"] {
            copy_if_present(&project.join(name), &self.workspace.join(name))?;
        }
        Ok(self.npm_install_argv(&[]))
    }

    /// pip installs the pinned requirements with `--require-hashes`
    /// when every package came from the index with a digest; else the
    /// user's arguments as given.
    fn pip_install(
        &self,
        resolved: &Resolved,
    ) -> anyhow::Result<Vec<OsString>> {
        let python = self.python()?;
        if !resolved.unpinned.is_empty() || !resolved.local.is_empty() {
            let mut command = self.pip_install_argv(python, &[]);
            command.extend(self.args.args.iter().cloned());
            return Ok(command);
        }
        let pinned = ["--no-deps", "--require-hashes"];
        let mut command = self.pip_install_argv(python, &pinned);
        command.extend(["-r".into(), resolved.lockfile.clone().into()]);
        Ok(command)
    }

    fn cargo_build(&self) -> Vec<OsString> {
        let mut command = argv(&["cargo", "build", "--locked"]);
        command.extend(self.args.args.iter().cloned());
        command
    }

    /// A sandboxed step with `workspace` writable, its run report
    /// written to `report` in the scratch directory.
    fn sandbox(&self, workspace: &Path, report: &str) -> Sandbox {
        let mut flags: Vec<OsString> = vec![
            "--workspace".into(),
            workspace.into(),
            "--report".into(),
            self.scratch(report).into(),
        ];
        for host in &self.hosts {
            flags.extend(["--allow-host".into(), host.into()]);
        }
        if let Some(timeout) = &self.args.timeout {
            flags.extend(["--timeout".into(), timeout.into()]);
        }
        for name in &self.args.env_pass {
            flags.extend(["--env".into(), name.into()]);
        }
        let mut env = Vec::new();
        if let Some(sysroot) = &self.toolchain {
            flags.extend(["--ro".into(), sysroot.into()]);
            env = toolchain_env(sysroot);
        }
        if let Some(base) = self.python.as_ref().and_then(|p| p.base.as_ref())
        {
            flags.extend(["--ro".into(), base.into()]);
        }
        Sandbox { flags, report: self.scratch(report), env }
    }

    /// Writes `--report`, if asked.
    fn write_report(&self, json: &Value) -> anyhow::Result<()> {
        let Some(out) = &self.report else { return Ok(()) };
        out.write_with("the report", |w| {
            serde_json::to_writer_pretty(&mut *w, json)?;
            writeln!(w)
        })
    }
}

/// The sysroot of the Rust toolchain the user's `rustc` runs: cargo and
/// rustc are run from there directly, since rustup's proxies and
/// settings live in the home the sandbox hides.
fn find_toolchain() -> anyhow::Result<PathBuf> {
    let output =
        Command::new("rustc")
            .args(["--print", "sysroot"])
            .output()
            .context("cannot run `rustc --print sysroot` to find cargo")?;
    let sysroot = String::from_utf8_lossy(&output.stdout).trim().to_string();
    let sysroot = PathBuf::from(sysroot);
    if !output.status.success() || !sysroot.join("bin/cargo").is_file() {
        bail!("no cargo beside the toolchain `rustc --print sysroot` names");
    }
    Ok(sysroot)
}

/// `PATH` and `RUSTC` that point the sandboxed cargo at `sysroot`.
fn toolchain_env(sysroot: &Path) -> Vec<(OsString, OsString)> {
    let bin = sysroot.join("bin");
    let mut path = OsString::from(&bin);
    if let Some(rest) = std::env::var_os("PATH") {
        path.push(":");
        path.push(rest);
    }
    vec![("PATH".into(), path), ("RUSTC".into(), bin.join("rustc").into())]
}

/// The `HOST:PORT` of each registry `manager` talks to.
fn registry_hosts(
    manager: Manager,
    registry: &RegistryArgs,
) -> anyhow::Result<Vec<String>> {
    let urls: Vec<&str> = match manager {
        Manager::Npm => vec![&registry.npm_registry],
        Manager::Pip => vec![&registry.pypi_index],
        Manager::Cargo => {
            vec![&registry.crates_index, &registry.crates_download]
        }
    };
    let mut hosts = Vec::new();
    for url in urls {
        let host = host_port(url).with_context(|| {
            format!("cannot read the registry URL `{url}`")
        })?;
        if manager == Manager::Pip && host == "pypi.org:443" {
            hosts.extend(PYPI_FILE_HOSTS.map(String::from));
        }
        if manager == Manager::Cargo && host.ends_with("crates.io:443") {
            hosts.extend(CRATES_HOSTS.map(String::from));
        }
        hosts.push(host);
    }
    hosts.sort();
    hosts.dedup();
    Ok(hosts)
}

/// `HOST:PORT` of an `http` or `https` URL, the port filled in from
/// the scheme.
fn host_port(url: &str) -> anyhow::Result<String> {
    let (scheme, rest) = url.split_once("://").context("no scheme")?;
    let default = match scheme.to_ascii_lowercase().as_str() {
        "https" => 443,
        "http" => 80,
        other => bail!("the scheme `{other}` is neither http nor https"),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let authority = authority.rsplit('@').next().unwrap_or_default();
    if authority.is_empty() {
        bail!("no host");
    }
    let has_port = match authority.rsplit_once(':') {
        Some((_, port)) => !port.contains(']'),
        None => false,
    };
    Ok(match has_port {
        true => authority.to_string(),
        false => format!("{authority}:{default}"),
    })
}

/// Command-line words as the arguments of a child process.
fn argv(words: &[&str]) -> Vec<OsString> {
    words.iter().map(OsString::from).collect()
}

/// Copies `from` to `to` when `from` exists.
fn copy_if_present(from: &Path, to: &Path) -> anyhow::Result<()> {
    if !from.is_file() {
        return Ok(());
    }
    std::fs::copy(from, to).with_context(|| {
        format!("cannot copy `{}` to `{}`", from.display(), to.display())
    })?;
    Ok(())
}

fn current_exe() -> anyhow::Result<PathBuf> {
    std::env::current_exe().context("cannot find cordon's own executable")
}

/// A `cordon run` of one step.
struct Sandbox {
    flags: Vec<OsString>,
    report: PathBuf,
    /// Variables set for the step.
    env: Vec<(OsString, OsString)>,
}

/// What a step whose output was captured did.
struct Captured {
    code: i32,
    output: String,
    report: Value,
}

impl Captured {
    /// Why the step failed, with the end of its output.
    fn failure(&self, what: &str) -> String {
        let lines: Vec<&str> = self.output.lines().collect();
        let tail = &lines[lines.len().saturating_sub(20)..];
        let mut text = format!("{what} (exit status {})", self.code);
        for line in tail {
            let line = cordon_report::terminal_safe(line, SHOWN_CHARS);
            let _ = write!(text, "\n  {line}");
        }
        text
    }
}

impl Sandbox {
    fn ro(mut self, path: &Path) -> Sandbox {
        self.flags.extend(["--ro".into(), path.into()]);
        self
    }

    fn rw(mut self, path: &Path) -> Sandbox {
        self.flags.extend(["--rw".into(), path.into()]);
        self
    }

    fn command(
        &self,
        global: &GlobalArgs,
        quiet: bool,
        argv: &[OsString],
    ) -> anyhow::Result<Command> {
        let mut command = Command::new(current_exe()?);
        if quiet {
            command.arg("--quiet");
        }
        if global.debug {
            command.arg("--debug");
        }
        command.arg("run").args(&self.flags).arg("--").args(argv);
        command.envs(self.env.iter().map(|(k, v)| (k, v)));
        Ok(command)
    }

    /// Runs the step with its output captured, shown only on failure.
    fn capture(
        &self,
        global: &GlobalArgs,
        argv: &[OsString],
    ) -> anyhow::Result<Captured> {
        let output = self
            .command(global, true, argv)?
            .stdin(Stdio::null())
            .output()
            .context("cannot start cordon run")?;
        let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&output.stderr));
        Ok(Captured {
            code: output.status.code().unwrap_or(125),
            output: text,
            report: self.read_report(),
        })
    }

    /// Runs the step at the user's terminal; its exit code and report.
    fn inherit(
        &self,
        global: &GlobalArgs,
        argv: &[OsString],
    ) -> anyhow::Result<(u8, Value)> {
        let status = self
            .command(global, global.quiet, argv)?
            .status()
            .context("cannot start cordon run")?;
        let code =
            status.code().map_or(125, |c| u8::try_from(c).unwrap_or(125));
        Ok((code, self.read_report()))
    }

    fn read_report(&self) -> Value {
        std::fs::read_to_string(&self.report)
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or(Value::Null)
    }
}

/// What the resolve step found.
struct Resolved {
    /// The lockfile the scan reads.
    lockfile: PathBuf,
    /// Local paths among what pip would install (`pip install .`),
    /// scanned as directories.
    local: Vec<PathBuf>,
    /// What pip would install from somewhere other than the index and
    /// without a digest (a VCS URL): not scanned.
    unpinned: Vec<String>,
    /// The report of the sandboxed resolve step.
    run: Value,
}

impl Resolved {
    fn new(lockfile: PathBuf, run: Value) -> Resolved {
        Resolved { lockfile, local: Vec::new(), unpinned: Vec::new(), run }
    }

    fn describe(&self) -> String {
        let name = self.lockfile.file_name().unwrap_or(OsStr::new("lockfile"));
        format!("what {} pins", name.to_string_lossy())
    }
}
#[cfg(test)]
pub(super) mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: InstallArgs,
    }

    /// `cordon install` flags, after the subcommand's name.
    pub(super) fn parse<'a>(
        argv: impl IntoIterator<Item = &'a str>,
    ) -> InstallArgs {
        let argv = std::iter::once("install").chain(argv);
        Cli::try_parse_from(argv).unwrap().args
    }

    #[test]
    fn registry_urls_give_host_and_port() {
        let got = |url| host_port(url).map_err(|e| e.to_string());
        assert_eq!(
            got("https://registry.npmjs.org").unwrap(),
            "registry.npmjs.org:443"
        );
        assert_eq!(
            got("http://127.0.0.1:8080/npm/").unwrap(),
            "127.0.0.1:8080"
        );
        assert_eq!(got("http://u:p@host/simple").unwrap(), "host:80");
        assert_eq!(got("http://[::1]/x").unwrap(), "[::1]:80");
        assert_eq!(got("http://[::1]:81/x").unwrap(), "[::1]:81");
        assert!(got("ftp://host/x").is_err());
        assert!(got("registry.npmjs.org").is_err());
        assert!(got("https:///x").is_err());
    }

    #[test]
    fn pypi_org_brings_its_file_host() {
        let args = parse(["pip", "six"]);
        let hosts = registry_hosts(Manager::Pip, &args.registry).unwrap();
        assert_eq!(hosts, ["files.pythonhosted.org:443", "pypi.org:443"]);
        let args =
            parse(["--pypi-index", "http://127.0.0.1:9/simple", "pip", "six"]);
        let hosts = registry_hosts(Manager::Pip, &args.registry).unwrap();
        assert_eq!(hosts, ["127.0.0.1:9"]);
    }

    #[test]
    fn the_manager_takes_every_argument_after_its_name() {
        let args =
            parse(["--force", "why", "npm", "--save-dev", "a", "--force"]);
        assert_eq!(args.manager, Manager::Npm);
        assert_eq!(args.force.as_deref(), Some("why"));
        assert_eq!(args.args, ["--save-dev", "a", "--force"]);
    }
}
