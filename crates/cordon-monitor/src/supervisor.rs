//! The supervisor: a thread in cordon that receives the listener of the
//! command's notifying seccomp filter, and for each notification reads
//! what the call asks for, records it and lets the kernel carry on.
//!
//! It never decides: every call is answered with
//! `SECCOMP_USER_NOTIF_FLAG_CONTINUE`, and enforcement stays with the
//! kernel's layers. If it fails, it closes the listener (calls still
//! waiting then fail with `ENOSYS`) and kills the sandbox.
//!
//! Beside it, the network services (see `services`) serve the sockets
//! made in the sandbox's network namespace, each on a thread of its
//! own, and record into the same [`Recorder`].

use std::fs::File;
use std::io::{self, PipeWriter};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use cordon_report::events::{
    Access, Actor, ExecEvent, ExitEvent, FileEvent, NetworkEvent, Outcome,
};

use crate::decode::{self, Call, SocketAddress};
use crate::error::{Error, os};
use crate::policy::{Policy, normalize};
use crate::proc::{self, Cache, Info};
use crate::record::Recorder;
use crate::services::{self, AnsweredNames, Service, Shared};
use crate::sys::{self, Notification};

/// How long a wait lasts before the thread looks whether it should stop,
/// in milliseconds.
const POLL_MS: i32 = 100;

/// A running supervisor, and the network services beside it.
#[derive(Debug)]
pub struct Supervisor {
    thread: JoinHandle<()>,
    services: Vec<JoinHandle<()>>,
    stop: Arc<AtomicBool>,
    /// Dropped to wake the services: they end when it hangs up.
    wake: PipeWriter,
    shared: Arc<Shared>,
}

/// What the supervisor needs besides its socket.
#[derive(Debug)]
pub struct Context {
    /// The sandbox's policy, to classify what is seen.
    pub policy: Policy,
    /// When the run started.
    pub start: Instant,
    /// Where to write each event, when asked.
    pub lines: Option<File>,
    /// The sandbox's init, killed if the supervisor fails.
    pub init: libc::pid_t,
    /// Sockets made in the sandbox's network namespace for the
    /// network services (see [`crate::service_sockets`]).
    pub sockets: Vec<(Service, OwnedFd)>,
    /// Whether the resolver gives names sinkhole addresses instead of
    /// answering `NXDOMAIN`.
    pub sinkhole: bool,
    /// Without the sinkhole, the names the resolver answers.
    pub answered: Option<AnsweredNames>,
}

impl Supervisor {
    /// Starts the thread, which receives the listener on `socket`, and
    /// the network services.
    pub fn spawn(socket: OwnedFd, context: Context) -> Result<Self, Error> {
        let Context {
            policy,
            start,
            lines,
            init,
            sockets,
            sinkhole,
            answered,
        } = context;
        let mut shared = Shared::new(Recorder::new(lines), start, sinkhole);
        shared.answered = answered;
        let shared = Arc::new(shared);
        let (wake_read, wake) =
            std::io::pipe().map_err(os("create the services' pipe"))?;
        let services =
            services::spawn(sockets, &shared, &Arc::new(wake_read))?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let state = Arc::clone(&shared);
        let watcher = Watcher { policy, start, cache: Cache::default() };
        let thread = std::thread::Builder::new()
            .name("cordon-monitor".into())
            .spawn(move || supervise(socket, watcher, init, &state, &flag))
            .map_err(os("start the monitor's thread"))?;
        Ok(Supervisor { thread, services, stop, wake, shared })
    }

    /// Waits for the threads once the sandbox has ended, and returns
    /// what they recorded.
    pub fn finish(self) -> Recorder {
        self.stop.store(true, Ordering::Relaxed);
        drop(self.wake);
        let panicked = match wait_for(self.thread) {
            Some(joined) => joined.is_err(),
            None => {
                tracing::warn!("the monitor's thread did not end; left");
                false
            }
        };
        let services_panicked =
            self.services.into_iter().any(|t| t.join().is_err());
        let mut recorder =
            self.shared.record(|r| std::mem::replace(r, Recorder::new(None)));
        if panicked {
            recorder.fail("the monitor's thread panicked".into());
        }
        if services_panicked {
            tracing::warn!("a network service's thread panicked");
        }
        recorder
    }
}

/// How long [`Supervisor::finish`] waits for the monitor's thread once
/// the sandbox has ended.
const FINISH_WAIT: Duration = Duration::from_secs(2);

/// Joins `thread` if it ends within [`FINISH_WAIT`]; `None` leaves it
/// (a receive that a kernel did not end), and cordon exits without it.
fn wait_for<T>(thread: JoinHandle<T>) -> Option<std::thread::Result<T>> {
    let until = Instant::now() + FINISH_WAIT;
    while !thread.is_finished() {
        if Instant::now() > until {
            return None;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    Some(thread.join())
}

/// The thread's body: never panics out, and kills the sandbox when it
/// fails.
fn supervise(
    socket: OwnedFd,
    mut watcher: Watcher,
    init: libc::pid_t,
    shared: &Shared,
    stop: &AtomicBool,
) {
    let result =
        catch_unwind(AssertUnwindSafe(|| watcher.run(socket, shared, stop)));
    // The listener is closed by now: it belonged to `run`.
    let failure = match result {
        Ok(Ok(())) => None,
        Ok(Err(err)) => Some(err.to_string()),
        Err(_) => {
            Some(Error::Panicked("while reading a call".into()).to_string())
        }
    };
    if let Some(why) = failure {
        tracing::error!("monitor failed, killing the sandbox: {why}");
        let _ = sys::kill(init, libc::SIGKILL);
        shared.record(|r| r.fail(why));
    }
}

/// An event, before it is known to belong to its call.
enum Seen {
    File(FileEvent),
    Exec(ExecEvent),
    Network(NetworkEvent),
    Exit(ExitEvent),
}

/// Reads notifications and turns them into events.
struct Watcher {
    policy: Policy,
    start: Instant,
    cache: Cache,
}

impl Watcher {
    fn run(
        &mut self,
        socket: OwnedFd,
        shared: &Shared,
        stop: &AtomicBool,
    ) -> Result<(), Error> {
        let Some(listener) = receive_listener(&socket, stop)? else {
            return Ok(());
        };
        drop(socket);
        let fd = listener.as_fd();
        // Kernels with synchronous wake-ups (6.6) also end a waiting
        // receive once no process uses the filter: the thread can wait
        // in the receive itself, one system call fewer per
        // notification. Older kernels need `poll` to see the end.
        let blocking = match sys::notif_sync_wake_up(fd) {
            Ok(()) => true,
            Err(err) => {
                tracing::debug!("no synchronous wake-ups: {err}");
                false
            }
        };
        loop {
            if !blocking {
                match sys::poll_readable(fd, POLL_MS) {
                    Ok(true) => {}
                    Ok(false) if stop.load(Ordering::Relaxed) => {
                        return Ok(());
                    }
                    Ok(false) => continue,
                    Err(err) if err.kind() == io::ErrorKind::BrokenPipe => {
                        return Ok(());
                    }
                    Err(err) => {
                        return Err(os("wait for a notification")(err));
                    }
                }
            }
            let notification = match sys::notif_recv(fd) {
                Ok(n) => n,
                Err(err) if gone(&err) && blocking && hung_up(fd) => {
                    return Ok(());
                }
                Err(err) if gone(&err) => continue,
                Err(err) => return Err(os("receive a notification")(err)),
            };
            self.handle(fd, &notification, shared);
            match sys::notif_continue(fd, notification.id) {
                Err(err) if !gone(&err) => {
                    return Err(os("answer a notification")(err));
                }
                _ => {}
            }
        }
    }

    /// Records what the call asks for, if it can still be read and, once
    /// everything was read, still belongs to the call.
    fn handle(
        &mut self,
        listener: BorrowedFd<'_>,
        n: &Notification,
        shared: &Shared,
    ) {
        let Some(syscall) = decode::name(n.nr) else { return };
        if n.nr == libc::SYS_chdir || n.nr == libc::SYS_fchdir {
            // Decided before reading anything: the thread is gone
            // or not, its directory is to be read again either way.
            if let Some(info) = self.cache.get(n.pid) {
                self.cache.forget_cwd(info.host_tgid);
            }
            return;
        }
        let Ok(call) = decode::decode(n) else { return };
        let Some(info) = self.cache.get(n.pid) else { return };
        if matches!(call, Call::Exec { .. } | Call::Exit { .. }) {
            self.cache.forget(n.pid);
        }
        let actor = Actor {
            time_ms: self.start.elapsed().as_millis() as u64,
            pid: info.pid,
            process: info.name.clone(),
        };
        let event = self.event(n.pid, &info, actor, syscall.to_owned(), call);
        // The pid may have been reused, or the call interrupted, while
        // the monitor read: then what it read says nothing of this call.
        if !sys::notif_id_valid(listener, n.id) {
            return;
        }
        let Some(event) = event else { return };
        shared.record(|recorder| match event {
            Seen::File(event) => recorder.file(event),
            Seen::Exec(event) => recorder.exec(event),
            Seen::Network(event) => recorder.network(event),
            Seen::Exit(event) => recorder.exit(event),
        });
    }

    /// The event for a decoded call.
    fn event(
        &mut self,
        tid: u32,
        info: &Info,
        actor: Actor,
        syscall: String,
        call: Call,
    ) -> Option<Seen> {
        Some(match call {
            Call::File { dirfd, path, access } => Seen::File(self.file(
                (tid, info),
                actor,
                syscall,
                (dirfd, &path),
                access,
            )),
            Call::Rename { from, to } => {
                let (dirfd, path) = from;
                let rename = Access::Rename;
                let mut event = self.file(
                    (tid, info),
                    actor,
                    syscall,
                    (dirfd, &path),
                    rename,
                );
                let cwd = self.cwd(tid, info, to.0, &to.1);
                event.target = proc::resolve(tid, to.0, &to.1, cwd)
                    .map(|p| normalize(&p).to_string_lossy().into_owned());
                Seen::File(event)
            }
            Call::Exec { dirfd, path, argv } => {
                let cwd = self.cwd(tid, info, dirfd, &path);
                Seen::Exec(exec(tid, actor, info, (dirfd, cwd), &path, argv))
            }
            Call::Network { fd, address } => {
                Seen::Network(self.network(tid, actor, syscall, fd, address))
            }
            Call::Exit { code } => Seen::Exit(ExitEvent { actor, code }),
            Call::Chdir | Call::Nothing => return None,
        })
    }

    /// The current directory of thread `tid` when `path` needs it.
    fn cwd(
        &mut self,
        tid: u32,
        info: &Info,
        dirfd: i32,
        path: &[u8],
    ) -> Option<PathBuf> {
        let relative = path.first() != Some(&b'/');
        if dirfd != proc::AT_FDCWD || !relative {
            return None;
        }
        self.cache.cwd(tid, info.host_tgid)
    }

    fn file(
        &mut self,
        (tid, info): (u32, &Info),
        actor: Actor,
        syscall: String,
        (dirfd, path): (i32, &[u8]),
        access: Access,
    ) -> FileEvent {
        let cwd = self.cwd(tid, info, dirfd, path);
        let resolved =
            proc::resolve(tid, dirfd, path, cwd).map(|p| normalize(&p));
        let Some(resolved) = resolved else {
            return FileEvent {
                path: String::from_utf8_lossy(path).into_owned(),
                zone: cordon_report::events::Zone::System,
                outcome: Outcome::Attempted,
                target: None,
                actor,
                syscall,
                access,
            };
        };
        let zone = self.policy.zone(&resolved, actor.pid);
        let outcome = self
            .policy
            .outcome(&resolved, zone, access)
            .unwrap_or_else(|| seen_outcome(tid, &resolved));
        FileEvent {
            path: resolved.to_string_lossy().into_owned(),
            target: None,
            actor,
            syscall,
            access,
            zone,
            outcome,
        }
    }

    fn network(
        &self,
        tid: u32,
        actor: Actor,
        syscall: String,
        fd: i32,
        address: SocketAddress,
    ) -> NetworkEvent {
        let ip = matches!(address.family.as_str(), "inet" | "inet6");
        let kind = if ip { sys::socket_type(tid, fd).ok() } else { None };
        let socket = kind.map(|k| match k {
            libc::SOCK_STREAM => "tcp".to_owned(),
            libc::SOCK_DGRAM => "udp".to_owned(),
            other => other.to_string(),
        });
        let tcp_call = syscall == "connect" || syscall == "bind";
        let denied = tcp_call
            && kind == Some(libc::SOCK_STREAM)
            && self.policy.tcp_refused(syscall == "connect", address.port);
        NetworkEvent {
            actor,
            syscall,
            family: address.family,
            socket,
            address: address.address,
            port: address.port,
            outcome: if denied { Outcome::Denied } else { Outcome::Attempted },
        }
    }
}

/// An exec event: the program, resolved, and whether it exists.
fn exec(
    tid: u32,
    actor: Actor,
    info: &Info,
    (dirfd, cwd): (i32, Option<PathBuf>),
    path: &[u8],
    argv: Vec<String>,
) -> ExecEvent {
    let resolved = proc::resolve(tid, dirfd, path, cwd).map(|p| normalize(&p));
    let outcome = match &resolved {
        Some(p) if !proc::exists_inside(tid, p) => Outcome::Missing,
        _ => Outcome::Attempted,
    };
    let path = resolved.map_or_else(
        || String::from_utf8_lossy(path).into_owned(),
        |p| p.to_string_lossy().into_owned(),
    );
    ExecEvent {
        ppid: proc::inner_pid(info.host_ppid),
        actor,
        path,
        argv,
        outcome,
    }
}

/// The outcome of a read the policy alone cannot tell: whether the file
/// is there in the sandbox's view.
fn seen_outcome(tid: u32, path: &Path) -> Outcome {
    if proc::exists_inside(tid, path) {
        Outcome::Allowed
    } else {
        Outcome::Missing
    }
}

/// Waits for the listener on `socket`; `None` when the command ended
/// (or the run did) before sending one.
fn receive_listener(
    socket: &OwnedFd,
    stop: &AtomicBool,
) -> Result<Option<OwnedFd>, Error> {
    loop {
        match sys::poll_readable(socket.as_fd(), POLL_MS) {
            Ok(true) => break,
            Ok(false) if stop.load(Ordering::Relaxed) => return Ok(None),
            Ok(false) => {}
            Err(err) if err.kind() == io::ErrorKind::BrokenPipe => {
                return Ok(None);
            }
            Err(err) => return Err(os("wait for the seccomp listener")(err)),
        }
    }
    sys::recv_fd(socket.as_fd()).map_err(os("receive the seccomp listener"))
}

/// Whether no process uses the filter of `listener` any more.
fn hung_up(listener: BorrowedFd<'_>) -> bool {
    matches!(
        sys::poll_readable(listener, 0),
        Err(err) if err.kind() == io::ErrorKind::BrokenPipe
    )
}

/// Whether a notification failed only because its process is gone or
/// its call was interrupted.
fn gone(err: &io::Error) -> bool {
    matches!(err.raw_os_error(), Some(libc::ENOENT | libc::EINTR))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;
    use std::os::unix::process::ExitStatusExt;
    use std::time::Duration;

    use cordon_report::events::WorkspaceChanges;

    /// A "listener" that is a pipe fails at the first notification: the
    /// supervisor must kill the sandbox (here a `sleep` the test
    /// started) and say why.
    #[test]
    fn a_failing_supervisor_kills_the_sandbox_and_says_why() {
        let (ours, theirs) = UnixStream::pair().expect("socket pair");
        let (reader, mut writer) = std::io::pipe().expect("pipe");
        writer.write_all(b"x").expect("fill the pipe");
        let mut sandbox = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .expect("start sleep");
        sys::send_fd(ours.as_raw_fd(), reader.as_raw_fd()).expect("send");
        let context = Context {
            policy: Policy::default(),
            start: Instant::now(),
            lines: None,
            init: sandbox.id() as libc::pid_t,
            sockets: Vec::new(),
            sinkhole: false,
            answered: None,
        };
        let supervisor =
            Supervisor::spawn(OwnedFd::from(theirs), context).expect("spawn");

        let until = Instant::now() + Duration::from_secs(10);
        let status = loop {
            if let Some(status) = sandbox.try_wait().expect("wait") {
                break Some(status);
            }
            if Instant::now() > until {
                let _ = sandbox.kill();
                break None;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        assert_eq!(status.and_then(|s| s.signal()), Some(libc::SIGKILL));
        let (events, _) =
            supervisor.finish().finish(WorkspaceChanges::default());
        let failure = events.failure.expect("a failure");
        assert!(failure.contains("receive a notification"), "{failure}");
    }
}
