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
use serde_json::{Value, json};

use crate::cli::GlobalArgs;
use crate::outputs::Output;
use crate::targets::RegistryArgs;

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

/// Flags of `cordon install`. cordon's own flags come before the
/// package manager's name; everything after it goes to the manager.
#[derive(Debug, Args)]
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
    let outcome = Outcome { resolved, scan, decision, run };
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
    manager: Manager,
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

/// The interpreter of a pip install.
struct Python {
    program: PathBuf,
    /// The virtual environment, when outside the workspace: read-only
    /// while resolving, writable while installing.
    outside: Option<PathBuf>,
    /// The installation the virtual environment was made from, when it
    /// lies in the home directory that the sandbox hides (pyenv does
    /// that): read-only in the sandbox.
    base: Option<PathBuf>,
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
        Ok(Plan {
            args,
            manager: args.manager,
            workspace,
            scratch,
            hosts,
            python,
            toolchain,
            report,
        })
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
        match self.manager {
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
        let mut command: Vec<OsString> = [
            "npm",
            "install",
            "--package-lock-only",
            "--ignore-scripts",
            "--no-audit",
            "--no-fund",
            "--registry",
        ]
        .map(OsString::from)
        .to_vec();
        command.push(self.args.registry.npm_registry.clone().into());
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
        let python = self.python.as_ref().context("no python for pip")?;
        let pip_report = self.scratch("pip-report.json");
        let mut command = vec![
            OsString::from("env"),
            "-C".into(),
            self.workspace.clone().into(),
            python.program.clone().into(),
        ];
        command.extend(
            [
                "-m",
                "pip",
                "install",
                "--dry-run",
                "--ignore-installed",
                "--quiet",
                "--disable-pip-version-check",
                "--report",
            ]
            .map(OsString::from),
        );
        command.push(pip_report.clone().into());
        command.extend(["--index-url".into(), self.pypi_index().into()]);
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
        let command = ["cargo", "generate-lockfile"].map(OsString::from);
        let sandbox = self.sandbox(&self.workspace, "resolve.json");
        let ran = sandbox.capture(global, &command)?;
        if ran.code != 0 || !lockfile.is_file() {
            return Ok(Err(ran.failure("cargo could not write Cargo.lock")));
        }
        Ok(Ok(Resolved::new(lockfile, ran.report)))
    }

    /// The index pip is pointed at.
    fn pypi_index(&self) -> String {
        self.args.registry.pypi_index.clone()
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
    ) -> anyhow::Result<(u8, Option<Value>)> {
        let command = match self.manager {
            Manager::Npm => self.npm_install(resolved)?,
            Manager::Pip => self.pip_install(resolved),
            Manager::Cargo => self.cargo_build(),
        };
        let mut sandbox =
            self.sandbox(&self.workspace, "run.json").ro(self.scratch.path());
        if let Some(venv) =
            self.python.as_ref().and_then(|p| p.outside.as_ref())
        {
            sandbox = sandbox.rw(venv);
        }
        let (code, report) = sandbox.inherit(global, &command)?;
        Ok((code, Some(report)))
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
        let mut command: Vec<OsString> =
            ["npm", "install", "--no-audit", "--no-fund", "--registry"]
                .map(OsString::from)
                .to_vec();
        command.push(self.args.registry.npm_registry.clone().into());
        Ok(command)
    }

    /// pip installs the pinned requirements with `--require-hashes`
    /// when every package came from the index with a digest; else the
    /// user's arguments as given.
    fn pip_install(&self, resolved: &Resolved) -> Vec<OsString> {
        let python = self.python.as_ref().map(|p| p.program.clone());
        let mut command = vec![
            OsString::from("env"),
            "-C".into(),
            self.workspace.clone().into(),
            python.unwrap_or_else(|| "python3".into()).into(),
        ];
        command.extend(
            ["-m", "pip", "install", "--disable-pip-version-check"]
                .map(OsString::from),
        );
        command.extend(["--index-url".into(), self.pypi_index().into()]);
        if resolved.unpinned.is_empty() && resolved.local.is_empty() {
            command.extend(
                ["--no-deps", "--require-hashes", "-r"].map(OsString::from),
            );
            command.push(resolved.lockfile.clone().into());
        } else {
            command.extend(self.args.args.iter().cloned());
        }
        command
    }

    fn cargo_build(&self) -> Vec<OsString> {
        let mut command: Vec<OsString> =
            ["cargo", "build", "--locked"].map(OsString::from).to_vec();
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

/// The interpreter for pip: `--python`, `$VIRTUAL_ENV`, or `.venv` in
/// the workspace.
fn find_python(
    args: &InstallArgs,
    workspace: &Path,
) -> anyhow::Result<Python> {
    let program = match (&args.python, std::env::var_os("VIRTUAL_ENV")) {
        (Some(python), _) => python.clone(),
        (None, Some(venv)) => Path::new(&venv).join("bin/python"),
        (None, None) => workspace.join(".venv/bin/python"),
    };
    if !program.exists() {
        bail!(
            "no Python for pip at `{}`: make a virtual environment in the \
             workspace (`python3 -m venv .venv`), activate one, or pass \
             --python",
            program.display()
        );
    }
    let program = std::path::absolute(&program).with_context(|| {
        format!("cannot use the Python `{}`", program.display())
    })?;
    let venv = venv_of(&program);
    let base = venv.as_deref().and_then(base_in_home);
    let outside = venv.filter(|venv| !venv.starts_with(workspace));
    Ok(Python { program, outside, base })
}

/// The prefix of the Python a virtual environment was made from (the
/// parent of `home` in its `pyvenv.cfg`), when it is inside `$HOME`.
fn base_in_home(venv: &Path) -> Option<PathBuf> {
    let config = std::fs::read_to_string(venv.join("pyvenv.cfg")).ok()?;
    let bin = config.lines().find_map(|line| {
        let (key, value) = line.split_once('=')?;
        (key.trim() == "home").then(|| PathBuf::from(value.trim()))
    })?;
    let prefix = bin.parent()?.canonicalize().ok()?;
    let home = PathBuf::from(std::env::var_os("HOME")?).canonicalize().ok()?;
    prefix.starts_with(home).then_some(prefix)
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

/// The virtual environment `python` belongs to: the directory above
/// its `bin` that holds a `pyvenv.cfg`.
fn venv_of(python: &Path) -> Option<PathBuf> {
    let venv = python.parent()?.parent()?;
    let venv = venv.canonicalize().ok()?;
    venv.join("pyvenv.cfg").is_file().then_some(venv)
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

/// A pip report turned into a requirements file.
struct Pinned {
    /// `name==version --hash=sha256:...` lines.
    text: String,
    /// Local directories or files pip would install.
    local: Vec<PathBuf>,
    /// Remote items without a digest.
    unpinned: Vec<String>,
}

/// Reads the `install` list of a `pip install --report` file.
fn pin_requirements(report: &str) -> anyhow::Result<Pinned> {
    let report: Value =
        serde_json::from_str(report).context("cannot read pip's report")?;
    let items = report["install"]
        .as_array()
        .context("pip's report has no install list")?;
    let mut pinned = Pinned {
        text: String::new(),
        local: Vec::new(),
        unpinned: Vec::new(),
    };
    for item in items {
        let name = item["metadata"]["name"].as_str().unwrap_or_default();
        let version = item["metadata"]["version"].as_str().unwrap_or_default();
        let info = &item["download_info"];
        let url = info["url"].as_str().unwrap_or_default();
        if let Some(path) = url.strip_prefix("file://") {
            pinned.local.push(PathBuf::from(percent_decode(path)));
            continue;
        }
        match sha256_of(info) {
            Some(hex) if !name.is_empty() && !version.is_empty() => {
                let _ = writeln!(
                    pinned.text,
                    "{name}=={version} --hash=sha256:{hex}"
                );
            }
            _ => pinned.unpinned.push(format!("{name} from {url}")),
        }
    }
    Ok(pinned)
}

/// The SHA-256 in a pip report's `download_info`: `archive_info.hashes`
/// (newer pip) or `archive_info.hash` (`sha256=...`).
fn sha256_of(info: &Value) -> Option<String> {
    let archive = &info["archive_info"];
    let hex = archive["hashes"]["sha256"]
        .as_str()
        .map(str::to_string)
        .or_else(|| {
            let hash = archive["hash"].as_str()?;
            hash.strip_prefix("sha256=").map(str::to_string)
        })?;
    let valid = hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit());
    valid.then_some(hex)
}

/// `%XX` escapes of a `file://` URL's path decoded.
fn percent_decode(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex =
            bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What the scan means for the install.
struct Decision {
    refused: bool,
    /// Targets refused, with their verdicts.
    blocking: Vec<String>,
    /// Targets that could not be scanned.
    unreadable: Vec<String>,
}

impl Decision {
    /// The decision on `scan`; `unpinned` (what the scan could not
    /// fetch) refuses like a package that could not be read.
    fn new(args: &InstallArgs, scan: &Value, unpinned: &[String]) -> Decision {
        let mut decision = Decision {
            refused: false,
            blocking: Vec::new(),
            unreadable: Vec::new(),
        };
        for package in packages(scan) {
            let target = package["target"].as_str().unwrap_or("?").to_string();
            match package["verdict"].as_str() {
                Some("malicious") => decision.blocking.push(target),
                Some("suspicious")
                    if args.refuse_on == RefuseOn::Suspicious =>
                {
                    decision.blocking.push(target);
                }
                None => decision.unreadable.push(target),
                _ => {}
            }
        }
        decision.unreadable.extend(unpinned.iter().cloned());
        decision.refused =
            !decision.blocking.is_empty() || !decision.unreadable.is_empty();
        decision
    }
}

fn packages(scan: &Value) -> &[Value] {
    scan["packages"].as_array().map_or(&[], Vec::as_slice)
}

/// Prints the verdict of every package that is not clean, with its
/// findings, then a one-line tally.
fn print_scan(scan: &Value, decision: &Decision) {
    let all = packages(scan);
    let mut clean = 0;
    for package in all {
        match package["verdict"].as_str() {
            Some("clean") => clean += 1,
            _ => eprint!("{}", describe_package(package)),
        }
    }
    eprintln!("cordon: {} packages scanned, {clean} clean", all.len());
    for target in &decision.unreadable {
        let target = cordon_report::terminal_safe(target, SHOWN_CHARS);
        eprintln!("cordon: {target} could not be scanned, so it is refused");
    }
}

/// How many characters of one line of a package's text are shown.
const SHOWN_CHARS: usize = 200;

/// A string field of a scan report entry, made safe for a terminal:
/// targets, paths, messages and snippets are a package's own text.
fn field(value: &Value, key: &str) -> String {
    let text = value[key].as_str().unwrap_or("?");
    cordon_report::terminal_safe(text, SHOWN_CHARS)
}

/// A flagged package and its findings, in the report's order.
fn describe_package(package: &Value) -> String {
    let target = field(package, "target");
    let mut text = match package["verdict"].as_str() {
        Some(_) => {
            let (verdict, score) =
                (field(package, "verdict"), &package["score"]);
            format!("{target}: {verdict} (score {score})\n")
        }
        None => {
            format!("{target}: not scanned: {}\n", field(package, "error"))
        }
    };
    if package["summary"].is_string() {
        let _ = writeln!(text, "  {}", field(package, "summary"));
    }
    let findings =
        package["findings"].as_array().map_or(&[][..], Vec::as_slice);
    for finding in findings {
        let _ = writeln!(
            text,
            "  {} {} {}:{} {}",
            field(finding, "severity"),
            field(finding, "rule"),
            field(finding, "path"),
            finding["line"],
            field(finding, "message"),
        );
        let snippet = finding["snippet"].as_str().unwrap_or_default();
        for line in snippet.lines() {
            let line = cordon_report::terminal_safe(line, SHOWN_CHARS);
            let _ = writeln!(text, "      {line}");
        }
    }
    text
}

/// Everything the combined report holds.
struct Outcome {
    resolved: Resolved,
    scan: Value,
    decision: Decision,
    run: Option<Value>,
}

impl Outcome {
    fn to_json(&self, args: &InstallArgs) -> Value {
        let refused = self.decision.refused && args.force.is_none();
        json!({
            "version": 1,
            "install": {
                "manager": args.manager.name(),
                "args": args_json(args),
                "lockfile": self.resolved.lockfile.file_name().map(|n| n.to_string_lossy()),
                "unpinned": self.resolved.unpinned,
                "refused": refused,
                "blocking": self.decision.blocking,
                "unreadable": self.decision.unreadable,
                "forced": args.force.as_ref().filter(|_| self.decision.refused),
                "error": null,
            },
            "resolve": self.resolved.run,
            "scan": self.scan,
            "run": self.run,
        })
    }
}

/// The report of an install whose resolve step failed: nothing was
/// scanned or installed.
fn failed_json(args: &InstallArgs, why: &str) -> Value {
    json!({
        "version": 1,
        "install": {
            "manager": args.manager.name(),
            "args": args_json(args),
            "lockfile": null,
            "unpinned": [],
            "refused": false,
            "blocking": [],
            "unreadable": [],
            "forced": null,
            "error": why,
        },
        "resolve": null,
        "scan": null,
        "run": null,
    })
}

/// The manager's arguments as JSON strings.
fn args_json(args: &InstallArgs) -> Vec<String> {
    args.args.iter().map(|a| a.to_string_lossy().into_owned()).collect()
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: InstallArgs,
    }

    /// `cordon install` flags, after the subcommand's name.
    fn parse<'a>(argv: impl IntoIterator<Item = &'a str>) -> InstallArgs {
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

    const SHA: &str =
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn a_pip_report_becomes_pinned_requirements() {
        let report = json!({"install": [
            {"metadata": {"name": "six", "version": "1.17.0"},
             "download_info": {"url": "https://f/six.whl",
                               "archive_info": {"hash": format!("sha256={SHA}")}}},
            {"metadata": {"name": "idna", "version": "3.0"},
             "download_info": {"url": "https://f/idna.whl",
                               "archive_info": {"hashes": {"sha256": SHA}}}},
            {"metadata": {"name": "mine", "version": "0.1"},
             "download_info": {"url": "file:///src/my%20pkg",
                               "dir_info": {}}},
            {"metadata": {"name": "vcs", "version": "1"},
             "download_info": {"url": "https://git/x", "vcs_info": {}}},
        ]});

        let pinned = pin_requirements(&report.to_string()).unwrap();

        assert_eq!(
            pinned.text,
            format!(
                "six==1.17.0 --hash=sha256:{SHA}\n\
                 idna==3.0 --hash=sha256:{SHA}\n"
            )
        );
        assert_eq!(pinned.local, [PathBuf::from("/src/my pkg")]);
        assert_eq!(pinned.unpinned, ["vcs from https://git/x"]);
        assert!(pin_requirements("{}").is_err());
    }

    #[test]
    fn malicious_refuses_and_suspicious_only_when_asked() {
        let scan = json!({"packages": [
            {"target": "a", "verdict": "clean"},
            {"target": "b", "verdict": "suspicious"},
            {"target": "c", "verdict": null, "error": "truncated"},
        ]});
        let args = |extra: &[&str]| {
            let mut argv = extra.to_vec();
            argv.extend(["npm", "a"]);
            parse(argv)
        };

        let default = Decision::new(&args(&[]), &scan, &[]);
        let strict =
            Decision::new(&args(&["--refuse-on", "suspicious"]), &scan, &[]);
        let vcs = Decision::new(&args(&[]), &clean_scan(), &["x".into()]);

        assert!(default.refused);
        assert!(default.blocking.is_empty());
        assert_eq!(default.unreadable, ["c"]);
        assert_eq!(strict.blocking, ["b"]);
        assert!(!Decision::new(&args(&[]), &clean_scan(), &[]).refused);
        assert!(vcs.refused && vcs.unreadable == ["x"]);
    }

    fn clean_scan() -> Value {
        json!({"packages": [{"target": "a", "verdict": "clean"}]})
    }

    #[test]
    fn a_package_cannot_write_escapes_to_the_terminal() {
        let package = json!({
            "target": "npm:x@1", "verdict": "malicious", "score": 30,
            "summary": "bad\u{1b}[2J",
            "findings": [{"severity": "high", "rule": "r", "path": "a\u{202e}b",
                          "line": 3, "message": "m",
                          "snippet": "one\u{1b}]0;title\u{7}\ntwo"}],
        });

        let text = describe_package(&package);

        assert!(!text.contains('\u{1b}'), "{text:?}");
        assert!(!text.contains('\u{202e}'), "{text:?}");
        assert!(text.contains("npm:x@1: malicious (score 30)"), "{text}");
        assert!(text.contains("      two\n"), "{text}");
    }
}
