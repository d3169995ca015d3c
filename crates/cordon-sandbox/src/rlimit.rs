//! Per-process resource limits: no core dumps ever, and memory and
//! process limits when no cgroup could hold them.

use crate::error::{Error, os};
use crate::sys;

/// The rlimits to set on the command.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rlimits {
    /// `RLIMIT_AS`, in bytes: stands in for a memory cgroup.
    pub address_space: Option<u64>,
    /// `RLIMIT_NPROC`: stands in for a pids cgroup. It counts the
    /// processes of the user in the sandbox's user namespace.
    pub processes: Option<u64>,
}

impl Rlimits {
    /// One line per limit set, for the report.
    pub fn describe(&self) -> Vec<String> {
        let mut lines = vec!["RLIMIT_CORE=0".to_owned()];
        if let Some(bytes) = self.address_space {
            lines.push(format!("RLIMIT_AS={bytes}"));
        }
        if let Some(count) = self.processes {
            lines.push(format!("RLIMIT_NPROC={count}"));
        }
        lines
    }
}

/// Sets `RLIMIT_CORE` to 0 and the fallback limits in `limits`.
pub fn apply(limits: &Rlimits) -> Result<(), Error> {
    sys::setrlimit(libc::RLIMIT_CORE, 0)
        .map_err(os("set the core dump limit RLIMIT_CORE"))?;

    if let Some(bytes) = limits.address_space {
        sys::setrlimit(libc::RLIMIT_AS, bytes)
            .map_err(os("set the memory limit RLIMIT_AS"))?;
    }

    if let Some(count) = limits.processes {
        sys::setrlimit(libc::RLIMIT_NPROC, count)
            .map_err(os("set the process limit RLIMIT_NPROC"))?;
    }
    Ok(())
}
