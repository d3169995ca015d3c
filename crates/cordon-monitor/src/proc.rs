//! What the monitor reads about a sandboxed process under `/proc`: its
//! ids and name, its current directory and open files, and whether a
//! path exists in its view of the file system.
//!
//! Pids here are cordon's (the host's) unless said otherwise; the
//! reports use the ids inside the sandbox.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// `AT_FDCWD` as the low 32 bits of a system call argument.
pub const AT_FDCWD: i32 = libc::AT_FDCWD;

/// A process as the reports show it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Info {
    /// The process (thread group) id inside the sandbox.
    pub pid: i32,
    /// The parent's id as cordon sees it.
    pub host_ppid: i32,
    /// The thread group's id as cordon sees it.
    pub host_tgid: u32,
    /// The name, `/proc/<pid>/comm`.
    pub name: String,
}

/// Reads `/proc/<tid>/status`: the ids and the name.
pub fn info(tid: u32) -> Option<Info> {
    let text = std::fs::read_to_string(format!("/proc/{tid}/status")).ok()?;
    let mut info = Info::default();
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("Name:") {
            info.name = name.trim().to_owned();
        } else if let Some(ids) = line.strip_prefix("NStgid:") {
            // The last id is the one in the innermost namespace.
            info.pid = ids.split_whitespace().last()?.parse().ok()?;
        } else if let Some(ppid) = line.strip_prefix("PPid:") {
            info.host_ppid = ppid.trim().parse().ok()?;
        } else if let Some(tgid) = line.strip_prefix("Tgid:") {
            info.host_tgid = tgid.trim().parse().ok()?;
        }
    }
    Some(info)
}

/// The process id inside the sandbox of the process cordon calls
/// `host_pid`; 0 when it is outside the sandbox or gone.
pub fn inner_pid(host_pid: i32) -> i32 {
    u32::try_from(host_pid).ok().and_then(info).map_or(0, |i| i.pid)
}

/// Remembers what was read per thread, until the thread executes a
/// program (its name changes); and each thread's current directory,
/// until a thread of its group changes directory (`chdir` and `fchdir`
/// are watched for this). A thread's call racing another thread's
/// `chdir` may still be resolved against the old directory.
#[derive(Debug, Default)]
pub struct Cache {
    known: HashMap<u32, Info>,
    cwds: HashMap<u32, (u32, PathBuf)>,
}

impl Cache {
    /// What is known of thread `tid`, read once.
    pub fn get(&mut self, tid: u32) -> Option<Info> {
        if let Some(info) = self.known.get(&tid) {
            return Some(info.clone());
        }
        let info = info(tid)?;
        if self.known.len() > 4096 {
            self.known.clear();
        }
        self.known.insert(tid, info.clone());
        Some(info)
    }

    /// Forgets thread `tid`, which is about to become another program
    /// or to end.
    pub fn forget(&mut self, tid: u32) {
        self.known.remove(&tid);
        self.cwds.remove(&tid);
    }

    /// The current directory of thread `tid`, of group `tgid`, read
    /// once.
    pub fn cwd(&mut self, tid: u32, tgid: u32) -> Option<PathBuf> {
        if let Some((_, cwd)) = self.cwds.get(&tid) {
            return Some(cwd.clone());
        }
        let cwd = std::fs::read_link(format!("/proc/{tid}/cwd")).ok()?;
        if self.cwds.len() > 4096 {
            self.cwds.clear();
        }
        self.cwds.insert(tid, (tgid, cwd.clone()));
        Some(cwd)
    }

    /// Forgets the current directory of every thread of group `tgid`,
    /// one of which is changing it.
    pub fn forget_cwd(&mut self, tgid: u32) {
        self.cwds.retain(|_, (group, _)| *group != tgid);
    }
}

/// The absolute path of `path` for thread `tid`: as it is when
/// absolute, against its current directory `cwd` (when known, else
/// read) for `AT_FDCWD`, against the directory open as `dirfd`
/// otherwise. `None` when the base cannot be read.
pub fn resolve(
    tid: u32,
    dirfd: i32,
    path: &[u8],
    cwd: Option<PathBuf>,
) -> Option<PathBuf> {
    let path = Path::new(OsStr::from_bytes(path));
    if path.is_absolute() {
        return Some(path.to_path_buf());
    }
    let base = if dirfd == AT_FDCWD {
        match cwd {
            Some(cwd) => cwd,
            None => std::fs::read_link(format!("/proc/{tid}/cwd")).ok()?,
        }
    } else {
        std::fs::read_link(format!("/proc/{tid}/fd/{dirfd}")).ok()?
    };
    if path.as_os_str().is_empty() {
        return Some(base);
    }
    Some(base.join(path))
}

/// Whether `path` exists in the file system thread `tid` sees, looked up
/// through `/proc/<tid>/root` without following a final link.
pub fn exists_inside(tid: u32, path: &Path) -> bool {
    let relative = path.strip_prefix("/").unwrap_or(path);
    let seen = PathBuf::from(format!("/proc/{tid}/root")).join(relative);
    std::fs::symlink_metadata(seen).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_reads_as_itself() {
        let me = std::process::id();
        let info = info(me).expect("read /proc/self/status");
        assert!(info.pid > 0);
        assert!(!info.name.is_empty());
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(resolve(me, AT_FDCWD, b"x", None), Some(cwd.join("x")));
        let given = Some(PathBuf::from("/given"));
        let got = resolve(me, AT_FDCWD, b"x", given);
        assert_eq!(got, Some(PathBuf::from("/given/x")));
        let abs = resolve(me, 5, b"/abs", None);
        assert_eq!(abs, Some(PathBuf::from("/abs")));
        assert_eq!(info.host_tgid, me);
        let mut cache = Cache::default();
        assert_eq!(cache.cwd(me, me), Some(cwd.clone()));
        cache.cwds.insert(me, (me, PathBuf::from("/stale")));
        assert_eq!(cache.cwd(me, me), Some(PathBuf::from("/stale")));
        cache.forget_cwd(me);
        assert_eq!(cache.cwd(me, me), Some(cwd));
        assert!(exists_inside(me, Path::new("/proc")));
        assert!(!exists_inside(me, Path::new("/no/such/cordon/path")));
    }
}
