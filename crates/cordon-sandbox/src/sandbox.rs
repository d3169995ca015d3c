//! The public entry point: a [`SandboxConfig`] in, a [`RunReport`] out.

use std::ffi::{CString, OsString};
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cordon_monitor::{
    AnsweredNames, Context, MAX_ENTRIES, Policy, Service, Snapshot,
    Supervisor, WATCHED,
};
use cordon_report::events::Events;
use cordon_report::run::{
    Enforcement, Exit, Layer, LayerKind, Limits, NetworkMode,
    RUN_FORMAT_VERSION, RunReport,
};

use crate::cgroup::Cgroups;
use crate::error::{Error, os};
use crate::mounts::{self, Kind, ResolvConf, UserMount};
use crate::netns::{self, NetSocket, Transport};
use crate::process::{self, Inside, Message, MonitorInside, SocketsInside};
use crate::sys::{self, SigSet};
use crate::{caps, env, landlock, namespaces, seccomp};

/// The `PATH` searched when the command's environment has none.
const DEFAULT_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// What to run and how to confine it.
#[derive(Clone, Debug)]
pub struct SandboxConfig {
    /// The command and its arguments; the command is looked up in the
    /// `PATH` of its environment, inside the sandbox.
    pub command: Vec<OsString>,
    /// The directory the command may write to, at its own path.
    pub workspace: PathBuf,
    /// The directory to start in: kept when inside the workspace,
    /// otherwise the workspace.
    pub cwd: PathBuf,
    /// Paths shown read-only, e.g. under the hidden home.
    pub ro: Vec<PathBuf>,
    /// More paths the command may write to.
    pub rw: Vec<PathBuf>,
    /// Paths covered: an empty directory or an empty file.
    pub hide: Vec<PathBuf>,
    /// A root tree to run on instead of the host's.
    pub rootfs: Option<PathBuf>,
    /// Which network the command gets.
    pub network: NetworkMode,
    /// Memory, process and time limits.
    pub limits: Limits,
    /// The environment to give the command, before credentials are
    /// removed.
    pub env: Vec<(OsString, OsString)>,
    /// Names of credential-like variables to pass anyway.
    pub env_pass: Vec<String>,
    /// Refuse to run unless every layer is fully enforced.
    pub strict: bool,
    /// Record what the command tries, when set; `None` runs the sandbox
    /// without the monitor.
    pub monitor: Option<MonitorConfig>,
    /// Sockets to make in the sandbox's private network namespace and
    /// hand to the callback of [`run_with_sockets`] (see `netns`); they
    /// need [`NetworkMode::None`].
    pub sockets: Vec<NetSocket>,
}

/// How the monitor records what the command tries.
#[derive(Clone, Debug, Default)]
pub struct MonitorConfig {
    /// Where to write each event, one JSON object per line.
    pub events: Option<PathBuf>,
    /// With a private network, whether cordon's resolver answers names
    /// with sinkhole addresses, where listeners record what the command
    /// sends, instead of `NXDOMAIN`.
    pub sinkhole: bool,
    /// Without the sinkhole, the names cordon's resolver answers with
    /// the sandbox's loopback address instead of `NXDOMAIN`.
    pub answered: Option<AnsweredNames>,
    /// Files the caller itself writes in the workspace (its reports and
    /// the events file), left out of the workspace changes: the command
    /// did not make them.
    pub untracked: Vec<PathBuf>,
}

impl SandboxConfig {
    /// A configuration running `command` with `workspace` writable, in
    /// the current directory and environment, with no network, no
    /// limit, and nothing else shown, hidden or passed.
    pub fn new(command: Vec<OsString>, workspace: PathBuf) -> SandboxConfig {
        SandboxConfig {
            command,
            cwd: std::env::current_dir().unwrap_or_else(|_| workspace.clone()),
            workspace,
            ro: Vec::new(),
            rw: Vec::new(),
            hide: Vec::new(),
            rootfs: None,
            network: NetworkMode::None,
            limits: Limits::default(),
            env: std::env::vars_os().collect(),
            env_pass: Vec::new(),
            strict: false,
            monitor: None,
            sockets: Vec::new(),
        }
    }
}

/// Runs the command of `config` in the sandbox and reports how it went.
///
/// The command's own failures are in the report (`exit.status` 126 when
/// it cannot be executed, 127 when it is not found, 124 after the
/// timeout); an `Err` means cordon could not set the sandbox up, or
/// `strict` refused to start.
pub fn run(config: &SandboxConfig) -> Result<RunReport, Error> {
    run_with_sockets(config, |_| {})
}

/// Runs the command of `config` like [`run`], and hands the sockets of
/// [`SandboxConfig::sockets`], made in the sandbox's network namespace,
/// to `on_sockets`, in the order asked for, before the command starts.
///
/// `on_sockets` runs on cordon's side (after the fork, so it may start
/// threads); it is not called when there are no sockets, or when the
/// sandbox failed before making them.
pub fn run_with_sockets(
    config: &SandboxConfig,
    on_sockets: impl FnOnce(Vec<OwnedFd>),
) -> Result<RunReport, Error> {
    let start = Instant::now();
    // Blocked from before the cgroups are made until after they are
    // removed, so that a signal cannot leave them behind.
    let old_mask = sys::block_signals(&process::blocked())
        .map_err(os("block signals"))?;
    let result = prepare(config).and_then(|prepared| {
        if config.strict {
            check_strict(&prepared.layers)?;
        }
        run_blocked(config, prepared, old_mask, start, on_sockets)
    });
    let _ = sys::set_signal_mask(&old_mask);
    result
}

/// Everything computed before the sandbox starts.
struct Prepared {
    inside: Inside,
    layers: Vec<Layer>,
    env_removed: Vec<String>,
    warnings: Vec<String>,
    cgroups: Cgroups,
    workspace: PathBuf,
    monitor: Option<MonitorPlan>,
    /// Every socket to make in the network namespace: the monitor's
    /// services first, then the caller's.
    sockets: Vec<NetSocket>,
}

/// The monitor, ready to start.
struct MonitorPlan {
    watched: Vec<libc::c_long>,
    policy: Policy,
    events: Option<PathBuf>,
    /// The network services, one per socket, in the order made.
    services: Vec<Service>,
    sinkhole: bool,
    answered: Option<AnsweredNames>,
    /// [`MonitorConfig::untracked`], relative to the workspace.
    untracked: Vec<PathBuf>,
}

fn prepare(config: &SandboxConfig) -> Result<Prepared, Error> {
    if config.command.is_empty() {
        return Err(Error::Config("no command to run".into()));
    }
    let workspace = canonical(&config.workspace, "the workspace")?;
    if !workspace.is_dir() || workspace == Path::new("/") {
        return Err(Error::Config(format!(
            "the workspace {} must be a directory other than /",
            workspace.display()
        )));
    }
    let rootfs = match &config.rootfs {
        Some(dir) => Some(canonical(dir, "the root file system")?),
        None => None,
    };

    let scrubbed = env::scrub(config.env.iter().cloned(), &config.env_pass);
    let home = home_to_hide(&scrubbed.kept, &workspace, rootfs.as_deref());
    let abi = sys::landlock_abi();
    let monitor = monitor_plan(config, &workspace, home.as_deref(), abi)?;
    let sockets = socket_list(config, monitor.as_ref())?;
    let mut mounts =
        plan_mounts(config, &workspace, home.as_deref(), rootfs.as_deref())?;
    let mut warnings = Vec::new();
    if monitor.as_ref().is_some_and(|m| !m.services.is_empty()) {
        match mounts::resolv_target(&mounts.root) {
            Some(target) => {
                let content = cordon_monitor::resolv_conf();
                mounts.resolv_conf = Some(ResolvConf { target, content });
            }
            None => warnings.push(
                "no /etc/resolv.conf to point at cordon's resolver: \
                 names looked up through it are not recorded"
                    .into(),
            ),
        }
    }
    let landlock =
        landlock_plan(config, &workspace, home.as_deref(), &sockets)?;
    let deny_unix = !landlock::confines_unix_sockets(abi);
    let cgroups = Cgroups::create(&config.limits, sys::getpid() as u32);
    let rlimits = cgroups.fallback(&config.limits);

    let mut layers = vec![
        layer(LayerKind::Namespaces, namespaces::describe(config.network)),
        layer(LayerKind::Filesystem, mounts.describe()),
        network_layer(config.network),
        cgroups.layer(),
        layer(LayerKind::Rlimits, rlimits.describe()),
        layer(
            LayerKind::Capabilities,
            vec!["all sets and the bounding set emptied".into()],
        ),
        layer(LayerKind::NoNewPrivs, Vec::new()),
        landlock::layer(abi, &landlock),
        seccomp_layer(deny_unix),
        layer(
            LayerKind::Environment,
            vec![format!("{} variables removed", scrubbed.removed.len())],
        ),
    ];

    if monitor.is_some()
        && let Some(seccomp) =
            layers.iter_mut().find(|l| l.layer == LayerKind::Seccomp)
    {
        seccomp.details.push(format!(
            "monitor: a second filter reports {} calls to cordon",
            WATCHED.len()
        ));
    }
    let inside = Inside {
        mounts,
        network: config.network,
        last_cap: caps::last_cap(),
        rlimits,
        landlock,
        landlock_abi: abi,
        strict: config.strict,
        seccomp: seccomp_program(deny_unix),
        argv: argv(&config.command)?,
        path: path_dirs(&scrubbed.kept),
        env: env_strings(&scrubbed.kept),
        foreground: process::in_foreground(),
        old_mask: SigSet::of(&[]),
        monitor: None,
        sockets: None,
    };
    warnings.extend(cgroups.warnings());
    Ok(Prepared {
        inside,
        layers,
        env_removed: scrubbed.removed,
        warnings,
        cgroups,
        workspace,
        monitor,
        sockets,
    })
}

/// Starts the sandbox and waits for it; signals are blocked.
fn run_blocked(
    config: &SandboxConfig,
    mut prepared: Prepared,
    old_mask: SigSet,
    start: Instant,
    on_sockets: impl FnOnce(Vec<OwnedFd>),
) -> Result<RunReport, Error> {
    prepared.inside.old_mask = old_mask;
    let monitor = prepared.monitor.take().map(Watch::prepare).transpose()?;
    if let Some(watch) = &monitor {
        prepared.inside.monitor = watch.inside();
    }
    let channel = socket_channel(&mut prepared)?;
    let (sync_read, mut sync_write) =
        std::io::pipe().map_err(os("create a pipe"))?;
    let (mut report_read, report_write) =
        std::io::pipe().map_err(os("create a pipe"))?;

    let flags = namespaces::clone_flags(config.network);
    let init = match sys::clone_fork(flags)
        .map_err(os("create the sandbox's namespaces"))?
    {
        Some(pid) => pid,
        None => {
            drop(sync_write);
            drop(report_read);
            process::init(&prepared.inside, sync_read, report_write)
        }
    };
    drop(sync_read);
    drop(report_write);
    let channel = channel.map(|(theirs, ours)| {
        drop(ours);
        theirs
    });
    // The init is let go before the supervisor's thread starts, so that
    // the two get ready side by side; what the command sends the
    // supervisor waits in their socket until it reads it. The sockets
    // made in the network namespace come first: the services serve them.
    let supervisor = start_init(init, &prepared.cgroups, &mut sync_write)
        .and_then(|()| {
            let fds = match &channel {
                Some(channel) => {
                    netns::receive(channel, prepared.sockets.len())?
                }
                None => None,
            };
            start_services(monitor, fds, init, start, on_sockets)
        })
        .inspect_err(|_| {
            let _ = sys::kill(init, libc::SIGKILL);
            let _ = sys::waitpid(init, false);
        })?;
    drop(channel);

    let deadline =
        config.limits.timeout_ms.map(|ms| start + Duration::from_millis(ms));
    drop(sync_write);
    let background = sys::isatty(0) && !prepared.inside.foreground;
    let ended =
        process::supervise(init, deadline, background).inspect_err(|_| {
            let _ = sys::kill(init, libc::SIGKILL);
            let _ = sys::waitpid(init, false);
        });
    // Joined whatever happened: no thread of cordon outlives the run.
    let watched = supervisor.map(|s| s.finish(&prepared.workspace));
    let ended = ended?;

    let mut bytes = Vec::new();
    let _ = report_read.read_to_end(&mut bytes);
    restore_terminal();
    prepared.cgroups.remove();

    let mut warnings = prepared.warnings;
    let messages = Message::decode_all(&bytes);
    let mut events = watched.map(|(events, error)| {
        warnings.extend(error);
        events
    });
    if let Some(events) = &mut events
        && let Some(raw) = command_status(&messages)
    {
        let exit = status_exit(raw);
        events.command_ended(exit.code, exit.signal);
    }
    let failed = events.as_ref().and_then(|e| e.failure.clone());
    let exit = match failed {
        Some(why) => Exit {
            status: 125,
            error: Some(format!("the monitor failed: {why}")),
            ..Exit::default()
        },
        None => exit_of(&messages, ended, &config.command)?,
    };
    Ok(RunReport {
        version: RUN_FORMAT_VERSION,
        command: config
            .command
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect(),
        workspace: prepared.workspace.display().to_string(),
        rootfs: config.rootfs.as_ref().map(|p| p.display().to_string()),
        network: config.network,
        limits: config.limits.clone(),
        layers: prepared.layers,
        env_removed: prepared.env_removed,
        warnings,
        exit,
        timed_out: ended.timed_out,
        duration_ms: start.elapsed().as_millis() as u64,
        events,
    })
}

/// The monitor between `prepare` and the clone: the workspace as it was,
/// the socket pair and the events file.
struct Watch {
    plan: MonitorPlan,
    before: Snapshot,
    ours: OwnedFd,
    theirs: OwnedFd,
    lines: Option<File>,
}

/// The monitor while the sandbox runs.
struct Watching {
    supervisor: Supervisor,
    /// The workspace before the run, its untracked files forgotten.
    before: Snapshot,
}

impl Watch {
    /// Walks the workspace, makes the socket pair and opens the events
    /// file. Single-threaded still: the clone comes after.
    fn prepare(plan: MonitorPlan) -> Result<Watch, Error> {
        let lines = match &plan.events {
            Some(path) => Some(File::create(path).map_err(os(format!(
                "create the events file {}",
                path.display()
            )))?),
            None => None,
        };
        let before = Snapshot::take(&plan.policy.workspace, MAX_ENTRIES);
        let (theirs, ours) = sys::socketpair()
            .map_err(os("create the monitor's socket pair"))?;
        Ok(Watch { plan, before, ours, theirs, lines })
    }

    /// What the init and the command need: the filter lets the
    /// command's `sendmsg` on its end of the pair through, since that
    /// carries the listener.
    fn inside(&self) -> Option<MonitorInside> {
        let ours = self.ours.as_raw_fd();
        Some(MonitorInside {
            program: notify_program(&self.plan.watched, ours)?,
            ours,
            theirs: self.theirs.as_raw_fd(),
        })
    }

    /// Starts the supervisor's thread and the network services on
    /// `sockets`, after the clone.
    fn start(
        self,
        init: libc::pid_t,
        start: Instant,
        sockets: Vec<OwnedFd>,
    ) -> Result<Watching, Error> {
        drop(self.ours);
        let services = self.plan.services.iter().copied();
        let context = Context {
            policy: self.plan.policy,
            start,
            lines: self.lines,
            init,
            sockets: services.zip(sockets).collect(),
            sinkhole: self.plan.sinkhole,
            answered: self.plan.answered.clone(),
        };
        let supervisor = Supervisor::spawn(self.theirs, context)
            .map_err(|err| Error::Setup(err.to_string()))?;
        let mut before = self.before;
        before.forget(&self.plan.untracked);
        Ok(Watching { supervisor, before })
    }
}

impl Watching {
    /// The events, once the sandbox has ended, with what changed in the
    /// workspace; and why the events file stopped, if it did.
    fn finish(self, workspace: &Path) -> (Events, Option<String>) {
        let recorder = self.supervisor.finish();
        let changes = self.before.changes(workspace, MAX_ENTRIES);
        let (events, error) = recorder.finish(changes);
        let error = error.map(|e| format!("cannot write the events: {e}"));
        (events, error)
    }
}

/// The monitor's filter and policy, when it was asked for.
fn monitor_plan(
    config: &SandboxConfig,
    workspace: &Path,
    home: Option<&Path>,
    abi: i32,
) -> Result<Option<MonitorPlan>, Error> {
    let Some(monitor) = &config.monitor else { return Ok(None) };
    let private = config.network == NetworkMode::None;
    if monitor.sinkhole && !private {
        return Err(Error::Config(
            "the dns sinkhole needs the private network (--net none)".into(),
        ));
    }
    let Some(watched) = notify_watched() else { return Ok(None) };
    let services = if private {
        cordon_monitor::service_sockets(monitor.sinkhole)
    } else {
        Vec::new()
    };
    // Landlock lets the command connect to the monitor's services and to
    // the caller's sockets that say so (the egress proxy, for one).
    let caller = config
        .sockets
        .iter()
        .filter(|s| s.connectable)
        .map(|s| (s.transport, s.address.port()));
    let tcp_open_ports = services
        .iter()
        .map(|s| (s.transport, s.address.port()))
        .chain(caller)
        .filter(|(transport, _)| *transport == Transport::Tcp)
        .map(|(_, port)| port)
        .collect();
    let canonical_all = |paths: &[PathBuf], what| {
        paths.iter().map(|p| canonical(p, what)).collect::<Result<_, _>>()
    };
    let mut hidden: Vec<PathBuf> =
        canonical_all(&config.hide, "the --hide path")?;
    if config.rootfs.is_none() {
        hidden
            .extend(mounts::Plan::secret_files().into_iter().map(|m| m.path));
    }
    let mut writable = vec![PathBuf::from("/tmp")];
    writable.extend(home.map(Path::to_path_buf));
    writable.extend(canonical_all(&config.rw, "the --rw path")?);
    let policy = Policy {
        workspace: workspace.to_path_buf(),
        writable,
        home: home.map(Path::to_path_buf),
        hidden,
        shown: canonical_all(&config.ro, "the --ro path")?,
        tcp_denied: private
            && landlock::missing(abi, true).iter().all(|m| m != "tcp"),
        tcp_open_ports,
    };
    Ok(Some(MonitorPlan {
        watched,
        policy,
        events: monitor.events.clone(),
        services: services.iter().map(|s| s.service).collect(),
        sinkhole: monitor.sinkhole,
        answered: monitor.answered.clone(),
        untracked: untracked(&monitor.untracked, workspace),
    }))
}

/// The paths among `files` that lie in `workspace`, relative to it.
/// A file that does not exist yet counts by its directory's canonical
/// path.
fn untracked(files: &[PathBuf], workspace: &Path) -> Vec<PathBuf> {
    let canonical = |path: &Path| -> Option<PathBuf> {
        if let Ok(path) = path.canonicalize() {
            return Some(path);
        }
        let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
        let parent = parent.unwrap_or(Path::new("."));
        Some(parent.canonicalize().ok()?.join(path.file_name()?))
    };
    files
        .iter()
        .filter_map(|file| canonical(file))
        .filter_map(|file| Some(file.strip_prefix(workspace).ok()?.into()))
        .filter(|relative: &PathBuf| !relative.as_os_str().is_empty())
        .collect()
}

/// Every socket to make in the network namespace: the monitor's
/// services first, then the caller's.
fn socket_list(
    config: &SandboxConfig,
    monitor: Option<&MonitorPlan>,
) -> Result<Vec<NetSocket>, Error> {
    if !config.sockets.is_empty() && config.network != NetworkMode::None {
        return Err(Error::Config(
            "sockets in the sandbox's network need the private network".into(),
        ));
    }
    let services = match monitor {
        Some(plan) if !plan.services.is_empty() => {
            cordon_monitor::service_sockets(plan.sinkhole)
        }
        _ => Vec::new(),
    };
    let mut list: Vec<NetSocket> = services
        .into_iter()
        .map(|s| NetSocket {
            transport: s.transport,
            address: s.address,
            connectable: true,
        })
        .collect();
    list.extend(config.sockets.iter().copied());
    netns::check(&list)?;
    Ok(list)
}

/// The socket pair the init sends the sockets over, when there are
/// any: cordon's end, then the init's, which `prepared.inside` names.
fn socket_channel(
    prepared: &mut Prepared,
) -> Result<Option<(OwnedFd, OwnedFd)>, Error> {
    if prepared.sockets.is_empty() {
        return Ok(None);
    }
    let (theirs, ours) =
        sys::socketpair().map_err(os("create the sockets' socket pair"))?;
    prepared.inside.sockets = Some(SocketsInside {
        list: prepared.sockets.clone(),
        ours: ours.as_raw_fd(),
        theirs: theirs.as_raw_fd(),
    });
    Ok(Some((theirs, ours)))
}

/// Starts the monitor with the first sockets, and hands the rest to
/// the caller.
fn start_services(
    monitor: Option<Watch>,
    fds: Option<Vec<OwnedFd>>,
    init: libc::pid_t,
    start: Instant,
    on_sockets: impl FnOnce(Vec<OwnedFd>),
) -> Result<Option<Watching>, Error> {
    let mut fds = fds.unwrap_or_default();
    let count = monitor.as_ref().map_or(0, |w| w.plan.services.len());
    let theirs = fds.split_off(count.min(fds.len()));
    if !theirs.is_empty() {
        on_sockets(theirs);
    }
    monitor.map(|watch| watch.start(init, start, fds)).transpose()
}

#[cfg(target_arch = "x86_64")]
fn notify_watched() -> Option<Vec<libc::c_long>> {
    Some(WATCHED.iter().map(|(nr, _)| *nr).collect())
}

#[cfg(not(target_arch = "x86_64"))]
fn notify_watched() -> Option<Vec<libc::c_long>> {
    None
}

#[cfg(target_arch = "x86_64")]
fn notify_program(
    watched: &[libc::c_long],
    quiet_fd: i32,
) -> Option<seccomp::Program> {
    Some(seccomp::build_notify(watched, quiet_fd))
}

#[cfg(not(target_arch = "x86_64"))]
fn notify_program(_: &[libc::c_long], _: i32) -> Option<seccomp::Program> {
    None
}

/// Maps the init's ids, puts it in the cgroups and lets it go on.
fn start_init(
    init: libc::pid_t,
    cgroups: &Cgroups,
    sync: &mut std::io::PipeWriter,
) -> Result<(), Error> {
    let (uid, gid) = sys::ids();
    namespaces::write_id_maps(init, uid, gid)?;
    cgroups.add(init)?;
    sync.write_all(&[1]).map_err(os("start the sandbox's init"))
}

/// How the command ended, from what the inside reported.
fn exit_of(
    messages: &[Message],
    ended: process::Ended,
    command: &[OsString],
) -> Result<Exit, Error> {
    if ended.timed_out {
        return Ok(Exit { status: 124, ..Exit::default() });
    }
    let name =
        command.first().map(|c| c.to_string_lossy()).unwrap_or_default();
    for message in messages {
        if let Message::Error(text) = message {
            return Err(Error::Setup(text.clone()));
        }
    }
    for message in messages {
        if let Message::Exec(errno) = message {
            let (status, error) = if *errno == libc::ENOENT {
                (127, format!("command not found: {name}"))
            } else {
                let why = crate::error::describe(
                    &std::io::Error::from_raw_os_error(*errno),
                );
                (126, format!("cannot execute {name}: {why}"))
            };
            return Ok(Exit { status, error: Some(error), ..Exit::default() });
        }
    }
    for message in messages {
        if let Message::Status(raw) = message {
            return Ok(status_exit(*raw));
        }
    }
    if ended.killed {
        // cordon killed the sandbox after a second SIGINT or SIGTERM.
        return Ok(status_exit(libc::SIGKILL));
    }
    Err(Error::Setup(
        "the sandbox ended without reporting how the command ended".into(),
    ))
}

/// The command's raw wait status, as the init reported it.
fn command_status(messages: &[Message]) -> Option<i32> {
    messages.iter().find_map(|m| match m {
        Message::Status(raw) => Some(*raw),
        _ => None,
    })
}

/// The exit of a raw wait status: the code, or 128 plus the signal.
fn status_exit(raw: i32) -> Exit {
    if libc::WIFSIGNALED(raw) {
        let signal = libc::WTERMSIG(raw);
        Exit {
            signal: Some(signal),
            status: (128 + signal).clamp(0, 255) as u8,
            ..Exit::default()
        }
    } else {
        let code = libc::WEXITSTATUS(raw);
        Exit { code: Some(code), status: code as u8, ..Exit::default() }
    }
}

/// Refuses to run when some layer falls short.
fn check_strict(layers: &[Layer]) -> Result<(), Error> {
    let short: Vec<String> = layers
        .iter()
        .filter(|l| l.enforcement.is_degraded())
        .map(|l| match &l.enforcement {
            Enforcement::Partial { missing } => {
                format!("{} (missing: {})", l.layer.name(), missing.join(", "))
            }
            Enforcement::None { reason } => {
                format!("{} ({reason})", l.layer.name())
            }
            _ => l.layer.name().to_owned(),
        })
        .collect();
    if short.is_empty() {
        Ok(())
    } else {
        Err(Error::NotEnforced(short.join("; ")))
    }
}

fn layer(kind: LayerKind, details: Vec<String>) -> Layer {
    Layer { layer: kind, enforcement: Enforcement::Full, details }
}

fn network_layer(network: NetworkMode) -> Layer {
    match network {
        NetworkMode::None => layer(
            LayerKind::Network,
            vec!["private namespace, loopback only".into()],
        ),
        NetworkMode::Host => Layer {
            layer: LayerKind::Network,
            enforcement: Enforcement::Unused {
                reason: "--net host: the host's network is shared".into(),
            },
            details: Vec::new(),
        },
    }
}

#[cfg(target_arch = "x86_64")]
fn seccomp_program(deny_unix: bool) -> Option<seccomp::Program> {
    Some(seccomp::build(deny_unix))
}

#[cfg(not(target_arch = "x86_64"))]
fn seccomp_program(_deny_unix: bool) -> Option<seccomp::Program> {
    None
}

fn seccomp_layer(deny_unix: bool) -> Layer {
    if cfg!(target_arch = "x86_64") {
        layer(LayerKind::Seccomp, seccomp::Program::describe(deny_unix))
    } else {
        Layer {
            layer: LayerKind::Seccomp,
            enforcement: Enforcement::None {
                reason: "not enforced on this architecture".into(),
            },
            details: Vec::new(),
        }
    }
}

/// The mounts over the root, with every host path made canonical.
fn plan_mounts(
    config: &SandboxConfig,
    workspace: &Path,
    home: Option<&Path>,
    rootfs: Option<&Path>,
) -> Result<mounts::Plan, Error> {
    let mut list = Vec::new();
    if rootfs.is_none() {
        list.extend(mounts::Plan::secret_files());
    }
    if let Some(home) = home {
        list.push(UserMount {
            path: home.to_path_buf(),
            kind: Kind::Empty,
            what: "the home",
        });
    }
    list.push(UserMount {
        path: workspace.to_path_buf(),
        kind: Kind::Writable,
        what: "the workspace",
    });
    let groups = [
        (&config.rw, Kind::Writable, "the --rw path"),
        (&config.ro, Kind::ReadOnly, "the --ro path"),
        (&config.hide, Kind::Hidden, "the --hide path"),
    ];
    for (paths, kind, what) in groups {
        for path in paths {
            list.push(UserMount { path: canonical(path, what)?, kind, what });
        }
    }

    let cwd = canonical(&config.cwd, "the current directory")
        .ok()
        .filter(|cwd| cwd.starts_with(workspace))
        .unwrap_or_else(|| workspace.to_path_buf());
    let root = rootfs.map_or_else(|| PathBuf::from("/"), Path::to_path_buf);
    let mut plan = mounts::Plan::new(root, list, cwd);
    plan.terminal = terminal_device();
    Ok(plan)
}

/// The home directory to cover with an empty tmpfs: `$HOME`, unless it
/// is the workspace or inside it.
fn home_to_hide(
    env: &[(OsString, OsString)],
    workspace: &Path,
    rootfs: Option<&Path>,
) -> Option<PathBuf> {
    let home = env.iter().find(|(name, _)| name == "HOME").map(|(_, v)| v)?;
    let home = std::fs::canonicalize(home).ok()?;
    if home == Path::new("/") || home.starts_with(workspace) {
        return None;
    }
    let seen =
        rootfs.map_or_else(|| home.clone(), |r| mounts::inside(r, &home));
    seen.is_dir().then_some(home)
}

/// Landlock's writable trees: the workspace, `/tmp`, the empty home and
/// the `--rw` paths.
fn landlock_plan(
    config: &SandboxConfig,
    workspace: &Path,
    home: Option<&Path>,
    sockets: &[NetSocket],
) -> Result<landlock::Plan, Error> {
    let ports = |transport| {
        let open = sockets
            .iter()
            .filter(move |s| s.connectable && s.transport == transport);
        let mut ports: Vec<u16> = open.map(|s| s.address.port()).collect();
        ports.sort_unstable();
        ports.dedup();
        ports
    };
    let mut writable = vec![workspace.to_path_buf(), PathBuf::from("/tmp")];
    writable.extend(home.map(Path::to_path_buf));
    for path in &config.rw {
        writable.push(canonical(path, "the --rw path")?);
    }
    Ok(landlock::Plan {
        writable,
        deny_network: config.network == NetworkMode::None,
        tcp_ports: ports(Transport::Tcp),
        udp_ports: ports(Transport::Udp),
    })
}

fn canonical(path: &Path, what: &str) -> Result<PathBuf, Error> {
    std::fs::canonicalize(path)
        .map_err(os(format!("resolve {what} {}", path.display())))
}

fn argv(command: &[OsString]) -> Result<Vec<CString>, Error> {
    command
        .iter()
        .map(|arg| {
            CString::new(arg.as_bytes()).map_err(|_| {
                Error::Config(format!(
                    "the argument {} contains a NUL byte",
                    arg.to_string_lossy()
                ))
            })
        })
        .collect()
}

/// `NAME=value` strings; a variable that cannot be one is dropped.
fn env_strings(vars: &[(OsString, OsString)]) -> Vec<CString> {
    vars.iter()
        .filter(|(name, _)| !name.as_bytes().contains(&b'='))
        .filter_map(|(name, value)| {
            let mut bytes = name.as_bytes().to_vec();
            bytes.push(b'=');
            bytes.extend(value.as_bytes());
            CString::new(bytes).ok()
        })
        .collect()
}

/// The directories of the command's `PATH`.
fn path_dirs(vars: &[(OsString, OsString)]) -> Vec<PathBuf> {
    let path = vars
        .iter()
        .find(|(name, _)| name == "PATH")
        .map_or_else(|| OsString::from(DEFAULT_PATH), |(_, v)| v.clone());
    std::env::split_paths(&path)
        .map(
            |dir| {
                if dir.as_os_str().is_empty() {
                    PathBuf::from(".")
                } else {
                    dir
                }
            },
        )
        .collect()
}

/// The terminal device on cordon's standard streams, if any.
fn terminal_device() -> Option<PathBuf> {
    (0..=2)
        .filter(|&fd| sys::isatty(fd))
        .filter_map(|fd| {
            std::fs::read_link(format!("/proc/self/fd/{fd}")).ok()
        })
        .find(|path| path.starts_with("/dev/") && path.exists())
}

/// Takes the terminal back when its foreground group was the command's
/// and is gone with the sandbox.
fn restore_terminal() {
    if !sys::isatty(0) {
        return;
    }
    let Ok(pgrp) = sys::tcgetpgrp(0) else { return };
    let gone = sys::kill(-pgrp, 0)
        .is_err_and(|err| err.raw_os_error() == Some(libc::ESRCH));
    if pgrp != sys::getpgrp() && gone {
        let _ = sys::tcsetpgrp(0, sys::getpgrp());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_docker_run() {
        let cmd = [OsString::from("x")];
        let ran = process::Ended::default();
        let exit = |messages: &[Message]| exit_of(messages, ran, &cmd);

        let exited = exit(&[Message::Status(3 << 8)]).unwrap();
        assert_eq!((exited.code, exited.status), (Some(3), 3));
        let killed = exit(&[Message::Status(libc::SIGKILL)]).unwrap();
        assert_eq!((killed.signal, killed.status), (Some(9), 137));
        let missing = [Message::Exec(libc::ENOENT), Message::Status(127 << 8)];
        assert_eq!(exit(&missing).unwrap().status, 127);
        assert_eq!(exit(&[Message::Exec(libc::EACCES)]).unwrap().status, 126);
        assert!(exit(&[Message::Error("x".into())]).is_err());
        assert!(exit(&[]).is_err());

        let timed_out = process::Ended { timed_out: true, killed: true };
        assert_eq!(exit_of(&[], timed_out, &cmd).unwrap().status, 124);
        let killed = process::Ended { timed_out: false, killed: true };
        assert_eq!(exit_of(&[], killed, &cmd).unwrap().status, 137);
    }

    #[test]
    fn messages_survive_the_pipe_encoding() {
        let sent = [
            Message::Error("cannot mount /proc: permission denied".into()),
            Message::Exec(libc::EACCES),
            Message::Status(0x0100),
        ];
        let bytes: Vec<u8> = sent.iter().flat_map(Message::encode).collect();
        assert_eq!(Message::decode_all(&bytes), sent);
        assert_eq!(Message::decode_all(&bytes[..bytes.len() - 1]).len(), 2);
    }
}
