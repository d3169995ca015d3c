//! cordon's monitor: what a sandboxed command tried, recorded without
//! slowing it much, and what it changed in the workspace.
//!
//! The command installs, after the sandbox's static seccomp deny-list, a
//! second filter that sends the calls in [`WATCHED`] to a listener, and
//! passes the listener to cordon over a socket pair. A [`Supervisor`]
//! thread in cordon receives each notification, reads the call's paths,
//! argv or socket address from the process's memory, resolves relative
//! paths through `/proc/<pid>/cwd` and `/proc/<pid>/fd`, checks that
//! the notification is still pending, records an event and lets the
//! kernel carry on. Nothing is decided here: the kernel's layers enforce
//! the policy, and the monitor infers from the same [`Policy`] how an
//! attempt ends where it can.
//!
//! With a private network, a resolver and (with the sinkhole) TCP
//! listeners run on sockets the sandbox makes in its network namespace
//! and hands to cordon ([`service_sockets`], [`Context::sockets`]):
//! every name looked up is recorded, and with the sinkhole what the
//! command tried to send to it.
//!
//! A [`Snapshot`] of the workspace before and after the run says what
//! changed. The events are [`cordon_report::events`] types: written one
//! per line as they come, and summed up for the run report.

mod decode;
mod dns;
mod error;
mod http;
mod policy;
mod proc;
mod record;
mod services;
mod supervisor;
#[allow(unsafe_code)]
mod sys;
mod tls;
mod walk;

pub use decode::WATCHED;
pub use error::Error;
pub use policy::Policy;
pub use record::Recorder;
pub use services::{
    AnsweredNames, RESOLVER, SINKHOLE_PORTS, Service, ServiceSocket,
    Transport, resolv_conf, sockets as service_sockets,
};
pub use supervisor::{Context, Supervisor};
pub use walk::{MAX_ENTRIES, Snapshot};

/// Sends the seccomp listener `fd` to cordon over the Unix socket
/// `socket` (`SCM_RIGHTS`); what the command does right after
/// installing the monitor's filter. Makes one system call and
/// allocates nothing, so it is safe between `fork` and `exec`.
pub fn send_listener(
    socket: std::os::fd::RawFd,
    fd: std::os::fd::RawFd,
) -> std::io::Result<()> {
    sys::send_fd(socket, fd)
}
