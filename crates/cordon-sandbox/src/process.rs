//! The processes of a run: cordon outside, the init that is pid 1 of
//! the sandbox, and the command.
//!
//! cordon clones the init into new user, pid, ipc, uts (and network)
//! namespaces, maps its ids, and then waits: it forwards signals, keeps
//! the wall clock, and reads what the inside reports through a pipe.
//! The init builds the file system, drops every capability and forks
//! the command; then it forwards signals to it, reaps every zombie and
//! reports the command's status. When the init ends, the kernel kills
//! whatever is left in the pid namespace.

use std::ffi::{CString, OsStr};
use std::io::{PipeReader, PipeWriter, Read, Write};
use std::os::fd::RawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use cordon_report::run::NetworkMode;

use crate::error::{Error, os};
use crate::netns::{self, NetSocket};
use crate::rlimit::Rlimits;
use crate::sys::{self, SigSet};
use crate::{caps, landlock, mounts, namespaces, rlimit, seccomp};

/// Signals cordon and the init pass on to the command's process group.
/// `SIGCONT` goes along so that a shell's `fg` resumes the command too.
pub const FORWARDED: &[libc::c_int] =
    &[libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT, libc::SIGCONT];

/// What cordon sends the init when it has been brought to the
/// terminal's foreground and the command should be there instead.
const TAKE_TERMINAL: libc::c_int = libc::SIGUSR2;

/// How often cordon, started in the background of a terminal, looks
/// whether it has been brought to the foreground.
const TERMINAL_POLL: Duration = Duration::from_millis(200);

/// Exit status of the init or the command when cordon itself failed.
const SETUP_FAILED: i32 = 125;

/// What the inside tells cordon, through the report pipe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// Setting up failed; the text names what.
    Error(String),
    /// `execve` failed with this errno.
    Exec(i32),
    /// The command ended with this raw wait status.
    Status(i32),
}

impl Message {
    /// The bytes sent: a tag, a length, the payload.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let (tag, payload) = match self {
            Message::Error(text) => (b'E', text.as_bytes().to_vec()),
            Message::Exec(errno) => (b'X', errno.to_ne_bytes().to_vec()),
            Message::Status(raw) => (b'S', raw.to_ne_bytes().to_vec()),
        };
        let mut out = vec![tag];
        let len = payload.len().min(3000) as u32;
        out.extend(len.to_ne_bytes());
        out.extend(&payload[..len as usize]);
        out
    }

    /// Every whole message in `bytes`; a cut-off tail is dropped.
    pub fn decode_all(mut bytes: &[u8]) -> Vec<Message> {
        let mut messages = Vec::new();
        while bytes.len() >= 5 {
            let tag = bytes[0];
            let len =
                u32::from_ne_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]);
            let Some(payload) = bytes.get(5..5 + len as usize) else {
                break;
            };
            let int = || payload.try_into().ok().map(i32::from_ne_bytes);
            let message = match tag {
                b'E' => Some(Message::Error(
                    String::from_utf8_lossy(payload).into_owned(),
                )),
                b'X' => int().map(Message::Exec),
                b'S' => int().map(Message::Status),
                _ => None,
            };
            messages.extend(message);
            bytes = &bytes[5 + len as usize..];
        }
        messages
    }

    /// Sends the message; a write to a pipe this small is atomic.
    pub fn send(&self, pipe: &mut PipeWriter) {
        let _ = pipe.write_all(&self.encode());
    }
}

/// Everything the inside needs, prepared before cloning.
#[derive(Debug)]
pub struct Inside {
    /// The file system to build.
    pub mounts: mounts::Plan,
    /// Which network.
    pub network: NetworkMode,
    /// The highest capability number.
    pub last_cap: u32,
    /// rlimits for the command.
    pub rlimits: Rlimits,
    /// The Landlock rules.
    pub landlock: landlock::Plan,
    /// The kernel's Landlock ABI.
    pub landlock_abi: i32,
    /// Whether a partial Landlock is a failure.
    pub strict: bool,
    /// The seccomp filter, where one exists for this architecture.
    pub seccomp: Option<seccomp::Program>,
    /// The command and its arguments.
    pub argv: Vec<CString>,
    /// The command's environment, `NAME=value`.
    pub env: Vec<CString>,
    /// The directories of `PATH`, to find the command in.
    pub path: Vec<PathBuf>,
    /// Whether the command takes over the terminal's foreground.
    pub foreground: bool,
    /// The signal mask to restore before exec.
    pub old_mask: SigSet,
    /// The monitor's filter and socket pair, when it runs.
    pub monitor: Option<MonitorInside>,
    /// Sockets to make in the network namespace, when asked for.
    pub sockets: Option<SocketsInside>,
}

/// What the init needs to make sockets in the sandbox's network
/// namespace and hand them to cordon (see `netns`).
#[derive(Debug)]
pub struct SocketsInside {
    /// The sockets, in the order cordon expects them.
    pub list: Vec<NetSocket>,
    /// The init's end of the socket pair (close-on-exec).
    pub ours: RawFd,
    /// cordon's end, closed at once by the init.
    pub theirs: RawFd,
}

/// What the inside needs for the monitor: the filter that notifies it,
/// and the socket pair that carries the filter's listener to cordon.
#[derive(Debug)]
pub struct MonitorInside {
    /// The notifying filter.
    pub program: seccomp::Program,
    /// The command's end of the pair (close-on-exec).
    pub ours: RawFd,
    /// cordon's end, closed at once by the init.
    pub theirs: RawFd,
}

/// The signals cordon and the init wait for.
pub fn waited() -> SigSet {
    let mut signals = FORWARDED.to_vec();
    signals.push(libc::SIGCHLD);
    SigSet::of(&signals)
}

/// The signals blocked while the sandbox runs: the waited ones, the one
/// that hands the terminal over, and `SIGTTOU` so that the terminal can
/// be handed over and back.
pub fn blocked() -> SigSet {
    let mut signals = FORWARDED.to_vec();
    signals.extend([libc::SIGCHLD, libc::SIGTTOU, TAKE_TERMINAL]);
    SigSet::of(&signals)
}

/// The signals the init waits for.
fn init_waited() -> SigSet {
    let mut signals = FORWARDED.to_vec();
    signals.extend([libc::SIGCHLD, TAKE_TERMINAL]);
    SigSet::of(&signals)
}

/// The init: pid 1 of the sandbox. Never returns.
pub fn init(
    inside: &Inside,
    mut sync: PipeReader,
    mut report: PipeWriter,
) -> ! {
    // If cordon dies, so does the sandbox; the sync read below catches
    // a cordon that died before this was set.
    let _ = sys::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong);
    let mut byte = [0u8];
    if !matches!(sync.read(&mut byte), Ok(1)) {
        sys::exit_now(SETUP_FAILED);
    }
    drop(sync);
    if let Some(monitor) = &inside.monitor {
        sys::close(monitor.theirs);
    }
    if let Some(sockets) = &inside.sockets {
        sys::close(sockets.theirs);
    }
    // Not dumpable: the command, same user and no more capabilities,
    // must not reach the init through /proc/1/mem or ptrace. Only now:
    // a process that is not dumpable has its /proc files owned by root,
    // and an unprivileged cordon could not have written its uid and gid
    // maps, which it does before the byte above.
    if sys::prctl(libc::PR_SET_DUMPABLE, 0).is_err() {
        sys::exit_now(SETUP_FAILED);
    }

    let command = match set_up(inside, &mut report) {
        Ok(pid) => pid,
        Err(err) => {
            Message::Error(err.to_string()).send(&mut report);
            sys::exit_now(SETUP_FAILED);
        }
    };
    let status = reap_until(command);
    Message::Status(status).send(&mut report);
    sys::exit_now(0)
}

/// Builds the sandbox around the init and forks the command.
fn set_up(
    inside: &Inside,
    report: &mut PipeWriter,
) -> Result<libc::pid_t, Error> {
    namespaces::set_up_inside(inside.network)?;
    if let Some(sockets) = &inside.sockets {
        hand_sockets_out(sockets)?;
    }
    sys::unshare(libc::CLONE_NEWNS)
        .map_err(os("create the mount namespace"))?;
    inside.mounts.apply()?;
    caps::drop_all(inside.last_cap)?;

    match sys::fork().map_err(os("fork the command"))? {
        Some(pid) => {
            // Also done by the command itself: whichever runs first.
            let _ = sys::set_process_group(pid);
            if let Some(monitor) = &inside.monitor {
                sys::close(monitor.ours);
            }
            Ok(pid)
        }
        None => command(inside, report),
    }
}

/// Makes the sockets cordon asked for in the new network namespace,
/// sends them and closes the init's copies: the command never holds
/// them.
fn hand_sockets_out(sockets: &SocketsInside) -> Result<(), Error> {
    let fds = netns::create(&sockets.list)?;
    let sent = netns::send(sockets.ours, &fds);
    drop(fds);
    sys::close(sockets.ours);
    sent
}

/// Forwards signals to the command and reaps every child until the
/// command ends; returns its raw wait status.
fn reap_until(command: libc::pid_t) -> i32 {
    let signals = init_waited();
    loop {
        match sys::wait_signal(&signals, None) {
            // Only what cordon sent: when the terminal signals the init,
            // cordon got the same signal and passes it on.
            Ok(Some(received))
                if received.signal != libc::SIGCHLD
                    && received.code == sys::SI_USER =>
            {
                pass_on(command, received.signal);
            }
            Ok(_) => {}
            Err(_) => return SETUP_FAILED << 8,
        }
        while let Ok(Some((pid, status))) = sys::waitpid(-1, true) {
            if pid == command {
                return status;
            }
        }
    }
}

/// Acts on a signal from cordon: hands the terminal over, or forwards
/// it.
fn pass_on(command: libc::pid_t, signal: libc::c_int) {
    if signal == TAKE_TERMINAL {
        let _ = sys::tcsetpgrp(0, command);
        forward(command, libc::SIGCONT);
    } else {
        forward(command, signal);
    }
}

/// Sends `signal` to the command's process group, as a terminal does,
/// or to the command alone if its group does not exist yet.
fn forward(command: libc::pid_t, signal: libc::c_int) {
    if sys::kill(-command, signal).is_err() {
        let _ = sys::kill(command, signal);
    }
}

/// The command's process, from fork to exec. Never returns.
fn command(inside: &Inside, report: &mut PipeWriter) -> ! {
    if let Err(err) = confine(inside) {
        Message::Error(err.to_string()).send(report);
        sys::exit_now(SETUP_FAILED);
    }
    let err = exec(inside);
    let errno = err.raw_os_error().unwrap_or(libc::ENOENT);
    Message::Exec(errno).send(report);
    sys::exit_now(if errno == libc::ENOENT { 127 } else { 126 })
}

/// The last steps before exec, in order: terminal, rlimits, Landlock,
/// seccomp, signal mask.
fn confine(inside: &Inside) -> Result<(), Error> {
    sys::new_process_group().map_err(os("create a process group"))?;
    if inside.foreground {
        sys::tcsetpgrp(0, sys::getpid())
            .map_err(os("give the terminal to the command"))?;
    }
    if sys::isatty(0) {
        // A command stopped in the foreground would hold the terminal
        // with nobody to resume it: Ctrl-Z does nothing instead.
        sys::ignore_signal(libc::SIGTSTP).map_err(os("ignore SIGTSTP"))?;
    }
    rlimit::apply(&inside.rlimits)?;
    sys::default_signal(libc::SIGPIPE).map_err(os("reset SIGPIPE"))?;

    let abi = inside.landlock_abi;
    let full = landlock::apply(&inside.landlock, abi)?;
    let deny_network = inside.landlock.deny_network;
    let short = !full && !landlock::uncovered(abi, deny_network).is_empty();
    if inside.strict && short {
        return Err(Error::NotEnforced("landlock".into()));
    }
    if let Some(program) = &inside.seccomp {
        seccomp::install(program, 0)
            .map_err(os("install the seccomp filter"))?;
    }
    if let Some(monitor) = &inside.monitor {
        start_monitor(monitor)?;
    }
    sys::set_signal_mask(&inside.old_mask)
        .map_err(os("restore the signal mask"))
}

/// Installs the monitor's filter and sends its listener to cordon; from
/// here on, the watched calls wait for cordon's answer. `sendmsg` and
/// `close` are not watched, so this cannot wait for itself.
fn start_monitor(monitor: &MonitorInside) -> Result<(), Error> {
    let flags = libc::SECCOMP_FILTER_FLAG_NEW_LISTENER;
    let listener = seccomp::install(&monitor.program, flags)
        .map_err(os("install the monitor's seccomp filter"))?;
    let sent = cordon_monitor::send_listener(monitor.ours, listener);
    sys::close(listener);
    sys::close(monitor.ours);
    sent.map_err(os("send the seccomp listener to cordon"))
}

/// Executes the command, searching `PATH` inside the sandbox when its
/// name has no slash; returns the error that stopped it.
fn exec(inside: &Inside) -> std::io::Error {
    let Some(name) = inside.argv.first() else {
        return std::io::Error::from_raw_os_error(libc::ENOENT);
    };
    let argv = sys::pointer_array(&inside.argv);
    let envp = sys::pointer_array(&inside.env);
    if name.as_bytes().contains(&b'/') {
        return sys::execve(name, &argv, &envp);
    }

    let mut denied = None;
    for dir in &inside.path {
        let candidate = dir.join(OsStr::from_bytes(name.as_bytes()));
        let Ok(candidate) = CString::new(candidate.as_os_str().as_bytes())
        else {
            continue;
        };
        let err = sys::execve(&candidate, &argv, &envp);
        match err.raw_os_error() {
            Some(libc::ENOENT | libc::ENOTDIR) => {}
            Some(libc::EACCES) => denied = Some(err),
            _ => return err,
        }
    }
    denied.unwrap_or_else(|| std::io::Error::from_raw_os_error(libc::ENOENT))
}

/// Whether cordon's process group holds the foreground of the terminal
/// on standard input.
pub fn in_foreground() -> bool {
    sys::isatty(0)
        && sys::tcgetpgrp(0).is_ok_and(|pgrp| pgrp == sys::getpgrp())
}

/// How the init ended, seen from cordon.
#[derive(Clone, Copy, Debug, Default)]
pub struct Ended {
    /// Whether cordon killed it at the timeout.
    pub timed_out: bool,
    /// Whether cordon killed it after a second SIGINT or SIGTERM.
    pub killed: bool,
}

/// Waits for the init: forwards the signals cordon receives, kills the
/// sandbox at `deadline`, and on a second SIGINT or SIGTERM.
///
/// When cordon started in the background of a terminal (`background`),
/// it looks now and then whether it has been brought to the foreground,
/// and then has the init hand the terminal to the command.
pub fn supervise(
    init: libc::pid_t,
    deadline: Option<Instant>,
    background: bool,
) -> Result<Ended, Error> {
    let signals = waited();
    let mut terminations = 0;
    let mut watch_terminal = background;
    loop {
        let now = Instant::now();
        let remaining = deadline.map(|d| d.saturating_duration_since(now));
        if remaining == Some(Duration::ZERO) {
            let _ = sys::kill(init, libc::SIGKILL);
            sys::waitpid(init, false).map_err(os("wait for the sandbox"))?;
            return Ok(Ended { timed_out: true, killed: true });
        }
        if watch_terminal && in_foreground() {
            let _ = sys::kill(init, TAKE_TERMINAL);
            watch_terminal = false;
        }

        let poll = watch_terminal.then_some(TERMINAL_POLL);
        let timeout = match (remaining, poll) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let received = sys::wait_signal(&signals, timeout)
            .map_err(os("wait for signals"))?;
        // Everything is passed on: the terminal's signals reach cordon
        // only when the command is not in the terminal's foreground.
        if let Some(received) = received
            && received.signal != libc::SIGCHLD
        {
            if matches!(received.signal, libc::SIGINT | libc::SIGTERM) {
                terminations += 1;
            }
            let signal =
                if terminations > 1 { libc::SIGKILL } else { received.signal };
            let _ = sys::kill(init, signal);
        }
        if sys::waitpid(init, true)
            .map_err(os("wait for the sandbox"))?
            .is_some()
        {
            return Ok(Ended { timed_out: false, killed: terminations > 1 });
        }
    }
}
