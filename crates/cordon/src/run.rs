//! `cordon run`: the sandbox's command line.
//!
//! The flags become a [`SandboxConfig`]; the library runs the command
//! and returns a report, which is shown on stderr after the run and
//! written to `--report FILE` as JSON. The exit code is the command's,
//! or one of the codes `docker run` uses for its own failures.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use cordon_report::run::{Limits, NetworkMode, RunReport};
use cordon_sandbox::{MonitorConfig, SandboxConfig, parse_duration};

use crate::cli::GlobalArgs;
use crate::outputs::Output;
use crate::size::parse_size;

/// Flags of `cordon run`.
#[derive(Debug, Args)]
#[command(after_help = EXIT_CODES)]
pub struct RunArgs {
    /// The directory the command may write to, at its own path
    /// [default: the current directory].
    #[arg(long, value_name = "DIR")]
    pub workspace: Option<PathBuf>,

    /// Show PATH read-only, e.g. a file under the hidden home
    /// (repeatable).
    #[arg(long, value_name = "PATH")]
    pub ro: Vec<PathBuf>,

    /// Let the command write to PATH too (repeatable).
    #[arg(long, value_name = "PATH")]
    pub rw: Vec<PathBuf>,

    /// Cover PATH: an empty directory, or an empty file (repeatable).
    #[arg(long, value_name = "PATH")]
    pub hide: Vec<PathBuf>,

    /// Run on this root tree instead of the host's; it must hold the
    /// workspace's path.
    #[arg(long, value_name = "DIR")]
    pub rootfs: Option<PathBuf>,

    /// The network the command gets [default: none, or proxy with
    /// --allow-host or --learn].
    #[arg(long, value_enum)]
    pub net: Option<NetArg>,

    /// Limit the memory of the whole process tree (e.g. 512MiB).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub memory: Option<u64>,

    /// Limit the number of processes and threads of the whole tree.
    #[arg(long, value_name = "N")]
    pub pids: Option<u64>,

    /// Kill the whole tree after this much wall-clock time (30s, 500ms,
    /// 2m, or plain seconds); cordon then exits with 124.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Option<std::time::Duration>,

    /// Pass this credential-like environment variable to the command
    /// instead of removing it (repeatable).
    #[arg(long = "env", value_name = "NAME")]
    pub env_pass: Vec<String>,

    /// Refuse to run (exit 125) unless every layer is fully enforced.
    #[arg(long)]
    pub strict: bool,

    /// Write the run report to FILE as JSON.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,

    /// Write the run report to FILE as one self-contained HTML page:
    /// the layers and a timeline of what the command tried.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,

    /// Record what the command tries (files outside the workspace,
    /// programs, network, workspace changes) through seccomp user
    /// notifications; `off` runs the sandbox alone.
    #[arg(long, value_enum, default_value_t = MonitorArg::On)]
    pub monitor: MonitorArg,

    /// Write every event the monitor records to FILE, one JSON object
    /// per line with a `type`.
    #[arg(long, value_name = "FILE")]
    pub events: Option<PathBuf>,

    /// Answer the command's DNS lookups with local sinkhole addresses
    /// where cordon records what it sends (HTTP request, TLS server
    /// name) and closes, instead of NXDOMAIN; nothing leaves the
    /// machine. Needs --net none and the monitor.
    #[arg(long)]
    pub dns_sinkhole: bool,

    /// Egress by host name, policy files and learning.
    #[command(flatten)]
    pub egress: crate::egress::EgressArgs,

    /// The command to run, and its arguments.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<OsString>,
}

const EXIT_CODES: &str = "\
Exit codes:
  N    the command's own exit code
  124  the command ran past --timeout and was killed
  125  cordon itself failed, or --strict refused to run
  126  the command could not be executed
  127  the command was not found
  128+N  the command was killed by signal N";

/// The networks of `--net`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NetArg {
    /// A private network with only loopback: nothing leaves.
    None,
    /// The host's network, shared.
    Host,
    /// The private network, whose only way out is cordon's egress
    /// proxy, to the hosts --allow-host names.
    Proxy,
}

/// The choices of `--monitor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MonitorArg {
    /// Record what the command tries.
    On,
    /// Run the sandbox without the monitor.
    Off,
}

/// A failure of cordon itself while setting up or running the sandbox,
/// carrying the exit status `docker run` would use.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct RunFailure {
    message: String,
    code: u8,
}

impl RunFailure {
    /// The exit status for this failure: 125, 126 or 127.
    pub fn exit_code(&self) -> u8 {
        self.code
    }
}

/// Runs `cordon run` and returns the command's exit status.
pub fn main(global: &GlobalArgs, mut args: RunArgs) -> anyhow::Result<u8> {
    let egress = crate::egress::prepare(&mut args).map_err(failed)?;
    let mut config = config(&args)?;
    if let Some(egress) = &egress {
        egress.configure(&mut config);
    }
    let outputs = RunOutputs::open(&args).map_err(failed)?;
    if let Some(monitor) = config.monitor.as_mut() {
        monitor.untracked = outputs.paths();
    }
    let mut proxy = None;
    let ran = cordon_sandbox::run_with_sockets(&config, |fds| {
        proxy = egress.as_ref().and_then(|e| e.start(fds));
    });
    let traffic = egress.as_ref().map(|e| e.finish(proxy));
    let report = match ran {
        Ok(report) => report,
        Err(err) => {
            let failure = RunFailure { message: err.to_string(), code: 125 };
            write_failure(&outputs, &config, &failure);
            return Err(failure.into());
        }
    };

    if !global.quiet {
        eprint!("{}", report.render_terminal(global.debug));
    }
    let section = egress.as_ref().zip(traffic.as_ref());
    if let Some((egress, traffic)) = section {
        finish_egress(global, &outputs, &report, egress, traffic)?;
    }
    if let Some(out) = &outputs.report {
        let json = crate::egress::with_section(
            &report,
            section.map(|(e, t)| e.report_section(t)),
        );
        write_report(out, &json).map_err(failed)?;
    }
    if let Some(out) = &outputs.html {
        write_html(out, &report).map_err(failed)?;
    }
    Ok(report.exit.status)
}

/// cordon's own failure (125) for an error before or after the run.
fn failed(err: anyhow::Error) -> RunFailure {
    RunFailure { message: format!("{err:#}"), code: 125 }
}

/// The output files of a run, opened before it starts (see
/// [`crate::outputs`]): the events file to append the egress lines to,
/// and the report, the HTML page and the learned policy.
struct RunOutputs {
    events: Option<Output>,
    report: Option<Output>,
    html: Option<Output>,
    learn: Option<Output>,
}

impl RunOutputs {
    fn open(args: &RunArgs) -> anyhow::Result<RunOutputs> {
        let create = |path: &Option<PathBuf>, what| {
            path.as_deref().map(|p| Output::create(p, what)).transpose()
        };
        let events = args.events.as_deref();
        Ok(RunOutputs {
            events: events
                .map(|p| Output::append(p, "the events file"))
                .transpose()?,
            report: create(&args.report, "the report")?,
            html: create(&args.html, "the HTML report")?,
            learn: create(&args.egress.learn, "the learned policy")?,
        })
    }

    /// Every output file's path, which the workspace changes leave out.
    fn paths(&self) -> Vec<PathBuf> {
        [&self.events, &self.report, &self.html, &self.learn]
            .into_iter()
            .flatten()
            .map(|out| out.path().to_path_buf())
            .collect()
    }
}

/// Shows what went through the egress proxy, appends it to the
/// events, and writes the learned policy.
fn finish_egress(
    global: &GlobalArgs,
    outputs: &RunOutputs,
    report: &RunReport,
    egress: &crate::egress::Egress,
    traffic: &crate::egress::Traffic,
) -> Result<(), RunFailure> {
    if !global.quiet {
        eprint!("{}", egress.render_terminal(traffic));
    }
    if let Some(out) = &outputs.events {
        egress.write_events(out, traffic).map_err(failed)?;
    }
    let learned = outputs.learn.as_ref();
    if let Some(said) =
        egress.write_learned(learned, report, traffic).map_err(failed)?
        && !global.quiet
    {
        eprintln!("{said}");
    }
    Ok(())
}

/// The library's configuration from the flags.
fn config(args: &RunArgs) -> Result<SandboxConfig, RunFailure> {
    let workspace = match &args.workspace {
        Some(dir) => dir.clone(),
        None => std::env::current_dir().map_err(|err| RunFailure {
            message: format!("cannot read the current directory: {err}"),
            code: 125,
        })?,
    };
    let mut config = SandboxConfig::new(args.command.clone(), workspace);
    config.ro = args.ro.clone();
    config.rw = args.rw.clone();
    config.hide = args.hide.clone();
    config.rootfs = args.rootfs.clone();
    config.network = match args.net {
        None | Some(NetArg::None | NetArg::Proxy) => NetworkMode::None,
        Some(NetArg::Host) => NetworkMode::Host,
    };
    config.limits = Limits {
        memory_bytes: args.memory,
        pids: args.pids,
        timeout_ms: args.timeout.map(|t| t.as_millis() as u64),
    };
    config.env_pass = args.env_pass.clone();
    config.strict = args.strict;
    if args.dns_sinkhole
        && (args.monitor == MonitorArg::Off || args.net == Some(NetArg::Host))
    {
        return Err(RunFailure {
            message: "--dns-sinkhole needs the monitor and --net none".into(),
            code: 125,
        });
    }
    config.monitor = match (args.monitor, &args.events) {
        (MonitorArg::On, events) => Some(MonitorConfig {
            events: events.clone(),
            sinkhole: args.dns_sinkhole,
            answered: None,
            untracked: Vec::new(),
        }),
        (MonitorArg::Off, Some(_)) => {
            return Err(RunFailure {
                message: "--events needs the monitor; drop --monitor off"
                    .into(),
                code: 125,
            });
        }
        (MonitorArg::Off, None) => None,
    };
    Ok(config)
}

/// Writes the report of a run cordon could not carry out, when one was
/// asked for, so that a CI job finds the reason where it looks; a report
/// that cannot be written is said, but the run's own error stays the one
/// that counts.
fn write_failure(
    outputs: &RunOutputs,
    config: &SandboxConfig,
    failure: &RunFailure,
) {
    if outputs.report.is_none() && outputs.html.is_none() {
        return;
    }
    let command = config
        .command
        .iter()
        .map(|arg| arg.to_string_lossy().into_owned())
        .collect();
    let workspace = config.workspace.display().to_string();
    let report = RunReport::failed(
        command,
        workspace,
        failure.code,
        failure.message.clone(),
    );
    if let Some(out) = &outputs.report
        && let Err(err) = write_report(out, &report)
    {
        tracing::warn!("{err:#}");
    }
    if let Some(out) = &outputs.html
        && let Err(err) = write_html(out, &report)
    {
        tracing::warn!("{err:#}");
    }
}

fn write_report(
    out: &Output,
    report: &impl serde::Serialize,
) -> anyhow::Result<()> {
    out.write_with("the report", |w| {
        serde_json::to_writer_pretty(&mut *w, report)?;
        writeln!(w)
    })
}

/// Writes the run report as an HTML page.
fn write_html(out: &Output, report: &RunReport) -> anyhow::Result<()> {
    let version = env!("CARGO_PKG_VERSION");
    out.write_with("the HTML report", |w| {
        cordon_report::html::render_run(report, version, w)
    })
}
