//! The one system call the proxy needs that `std` does not offer.

use std::net::TcpListener;
use std::os::fd::AsRawFd;

/// Shuts a listening socket down, so that a thread blocked in
/// `accept` on it returns with an error.
pub fn shutdown_listener(listener: &TcpListener) {
    // SAFETY: `shutdown` takes a descriptor that `listener` owns and
    // keeps open for the call; it touches no memory of ours. Its result
    // is ignored: a listener already shut down is what we want.
    unsafe {
        libc::shutdown(listener.as_raw_fd(), libc::SHUT_RDWR);
    }
}
