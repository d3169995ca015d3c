//! Sockets made inside the sandbox's private network namespace and
//! handed to cordon, outside it.
//!
//! A socket belongs to the network namespace it was created in for
//! all its life, whoever holds it later. So cordon can serve the
//! sandbox's loopback — a DNS resolver, a sinkhole, an egress proxy —
//! from its own threads, with no virtual link, no routing and no
//! process left inside: the sandbox's init, while it still holds its
//! capabilities in the new user and network namespaces (so it may bind
//! ports below 1024), creates each [`NetSocket`] right after bringing
//! the loopback up, and sends the fds in one `SCM_RIGHTS` message over
//! a socket pair made for this; then it closes its copies, before the
//! command is forked. The command cannot reach them: it never holds
//! them, and the ports are taken.
//!
//! A caller asks for sockets with [`crate::SandboxConfig::sockets`] and
//! gets them, in the same order, in the callback of
//! [`crate::run_with_sockets`], which runs on cordon's side once they
//! have arrived and before the command starts; it typically hands them
//! to threads that serve them and end when the run does. The monitor's
//! own services (the resolver and the sinkhole) come this way too, ahead
//! of the caller's. Sockets need the private network (`--net none`).
//!
//! TCP sockets are bound and listening (backlog 128, `SO_REUSEADDR`),
//! UDP sockets bound; every fd is close-on-exec. Landlock refuses the
//! command TCP connects unless the port is opened with
//! [`NetSocket::connectable`].

use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};

pub use cordon_monitor::Transport;

use crate::error::{Error, os};
use crate::sys;

/// A socket to make in the sandbox's network namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NetSocket {
    /// A TCP listener or a UDP socket.
    pub transport: Transport,
    /// Where it is bound, inside the namespace (a loopback address, or
    /// the unspecified address for every local one).
    pub address: SocketAddr,
    /// Whether Landlock lets the command connect (TCP) or send (UDP) to
    /// this port; otherwise the private network's rule refusing TCP
    /// covers it too.
    pub connectable: bool,
}

/// The most sockets one run may ask for.
pub const MAX_SOCKETS: usize = sys::MAX_FDS;

/// Makes every socket of `list`, in the init, in the new namespace.
pub(crate) fn create(list: &[NetSocket]) -> Result<Vec<OwnedFd>, Error> {
    list.iter().map(create_one).collect()
}

fn create_one(socket: &NetSocket) -> Result<OwnedFd, Error> {
    let what = |kind: &str| {
        format!("bind a {kind} socket to {} in the sandbox", socket.address)
    };
    match socket.transport {
        Transport::Tcp => TcpListener::bind(socket.address)
            .map(OwnedFd::from)
            .map_err(os(what("tcp"))),
        Transport::Udp => UdpSocket::bind(socket.address)
            .map(OwnedFd::from)
            .map_err(os(what("udp"))),
    }
}

/// Sends `fds` to cordon over `channel`, in the init.
pub(crate) fn send(channel: RawFd, fds: &[OwnedFd]) -> Result<(), Error> {
    let raw: Vec<RawFd> = fds.iter().map(AsRawFd::as_raw_fd).collect();
    sys::send_fds(channel, &raw)
        .map_err(os("send the sandbox's sockets to cordon"))
}

/// Receives `expected` fds on `channel`, in cordon; `None` when the
/// init ended without sending them (it then reports why).
pub(crate) fn receive(
    channel: &OwnedFd,
    expected: usize,
) -> Result<Option<Vec<OwnedFd>>, Error> {
    let fds = sys::recv_fds(channel.as_fd())
        .map_err(os("receive the sandbox's sockets"))?;
    match fds {
        Some(fds) if fds.len() != expected => Err(Error::Setup(format!(
            "the sandbox's init sent {} sockets instead of {expected}",
            fds.len()
        ))),
        other => Ok(other),
    }
}

/// Checks a list of sockets before the run.
pub(crate) fn check(list: &[NetSocket]) -> Result<(), Error> {
    if list.len() > MAX_SOCKETS {
        return Err(Error::Config(format!(
            "at most {MAX_SOCKETS} sockets can be made in the sandbox, not {}",
            list.len()
        )));
    }
    Ok(())
}
