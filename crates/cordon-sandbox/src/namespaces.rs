//! Namespaces: the flags the sandbox is cloned with, the identity
//! mapping of the user namespace, and what is set up inside the new
//! network and uts namespaces.

use std::fs;

use cordon_report::run::NetworkMode;

use crate::error::{Error, os};
use crate::sys;

/// The hostname inside the sandbox.
pub const HOSTNAME: &str = "cordon";

/// The namespaces the sandbox's init is cloned into. The mount
/// namespace is made later by the init itself, once it is root in its
/// user namespace.
pub fn clone_flags(network: NetworkMode) -> libc::c_int {
    let mut flags = libc::CLONE_NEWUSER
        | libc::CLONE_NEWPID
        | libc::CLONE_NEWIPC
        | libc::CLONE_NEWUTS;
    if network == NetworkMode::None {
        flags |= libc::CLONE_NEWNET;
    }
    flags
}

/// The namespaces, by name, for the report.
pub fn describe(network: NetworkMode) -> Vec<String> {
    let mut names = vec!["user", "pid", "mount", "ipc", "uts"];
    if network == NetworkMode::None {
        names.push("net");
    }
    vec![format!("new namespaces: {}", names.join(", "))]
}

/// Maps the caller's user and group to the same ids inside the user
/// namespace of `pid`; `setgroups` is denied first, as the kernel
/// requires of an unprivileged caller.
pub fn write_id_maps(
    pid: libc::pid_t,
    uid: u32,
    gid: u32,
) -> Result<(), Error> {
    let proc = format!("/proc/{pid}");
    let write = |file: &str, text: String| {
        let path = format!("{proc}/{file}");
        fs::write(&path, text).map_err(os(format!("write {path}")))
    };
    write("setgroups", "deny".into())?;
    write("uid_map", format!("{uid} {uid} 1\n"))?;
    write("gid_map", format!("{gid} {gid} 1\n"))
}

/// Sets the hostname and, in a private network namespace, brings the
/// loopback interface up.
pub fn set_up_inside(network: NetworkMode) -> Result<(), Error> {
    sys::sethostname(HOSTNAME)
        .map_err(os(format!("set the hostname to {HOSTNAME}")))?;
    if network == NetworkMode::None {
        sys::loopback_up()
            .map_err(os("bring up the loopback interface lo"))?;
    }
    Ok(())
}
