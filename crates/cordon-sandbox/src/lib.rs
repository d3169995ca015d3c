//! The sandbox that `cordon run` puts a command in, built directly on
//! kernel facilities, one module per facility.
//!
//! [`run`] takes a [`SandboxConfig`] and runs its command with:
//!
//! - new user, pid, mount, ipc, uts and (by default) network
//!   namespaces, with an init as pid 1 that forwards signals and reaps
//!   zombies (`namespaces`, `process`);
//! - a read-only view of the host's root (or `--rootfs`), fresh `/dev`,
//!   `/proc` and `/tmp`, an empty home and a writable workspace
//!   (`mounts`);
//! - memory and pid limits through cgroups, or rlimits where no cgroup
//!   can be written, and a wall-clock timeout (`cgroup`, `rlimit`);
//! - every capability dropped and `no_new_privs` (`caps`);
//! - Landlock as a second fence on files and TCP (`landlock`);
//! - a static seccomp deny-list, put in place right before exec
//!   (`seccomp`);
//! - credential-like environment variables removed (`env`);
//! - with [`SandboxConfig::monitor`], a second seccomp filter whose
//!   listener goes to a supervisor thread of `cordon-monitor`, which
//!   records what the command tries and what it changed in the
//!   workspace, in [`RunReport::events`]; with the private network,
//!   a resolver (and, when asked, a sinkhole) of cordon's answers the
//!   command's lookups and records them;
//! - sockets made inside the private network namespace and handed to
//!   cordon ([`SandboxConfig::sockets`], [`run_with_sockets`], `netns`),
//!   which is how the resolver is reached without any virtual link.
//!
//! It returns a [`RunReport`] saying how far each layer was enforced
//! and how the command ended. No daemon and no setuid helper are
//! involved: it works for root and for an unprivileged user where the
//! kernel allows unprivileged user namespaces.
//!
//! [`run`] forks; call it while the process has a single thread, since
//! the kernel refuses to put a multi-threaded process in a new user
//! namespace.

mod caps;
mod cgroup;
mod duration;
pub mod env;
mod error;
mod landlock;
mod mounts;
mod namespaces;
pub mod netns;
mod process;
mod rlimit;
mod sandbox;
mod seccomp;
#[allow(unsafe_code)]
mod sys;

pub use cordon_monitor::AnsweredNames;
pub use cordon_report::run::{Limits, NetworkMode, RunReport};
pub use duration::parse_duration;
pub use error::Error;
pub use netns::{NetSocket, Transport};
pub use sandbox::{MonitorConfig, SandboxConfig, run, run_with_sockets};
