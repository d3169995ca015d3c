//! What the sandbox lets a command do, as far as the monitor needs it
//! to tell where a path lies and how an attempt ends without asking
//! the kernel.

use std::path::{Component, Path, PathBuf};

use cordon_report::events::{Access, Outcome, Zone};

/// The sandbox's policy on files and the network.
#[derive(Clone, Debug, Default)]
pub struct Policy {
    /// The workspace, writable, at its host path.
    pub workspace: PathBuf,
    /// The other writable trees: `/tmp`, the empty home, `--rw` paths.
    pub writable: Vec<PathBuf>,
    /// The real home, covered by an empty tmpfs.
    pub home: Option<PathBuf>,
    /// `--hide` paths and host secrets, covered.
    pub hidden: Vec<PathBuf>,
    /// `--ro` paths: shown read-only even under a hidden tree.
    pub shown: Vec<PathBuf>,
    /// Whether TCP connect and bind are refused (a private network with
    /// Landlock's TCP rules).
    pub tcp_denied: bool,
    /// The TCP ports a connect may still reach then: cordon's own
    /// listeners in the sandbox's network namespace.
    pub tcp_open_ports: Vec<u16>,
}

impl Policy {
    /// Where `path` (absolute, normalised) lies, for a call made by the
    /// process whose id in the sandbox is `own_pid`.
    pub fn zone(&self, path: &Path, own_pid: i32) -> Zone {
        if path.starts_with(&self.workspace) {
            return Zone::Workspace;
        }
        if self.hidden.iter().any(|h| path.starts_with(h)) {
            return Zone::Secret;
        }
        // Under the home, not the home itself: the empty directory the
        // command sees there is nothing to single out.
        if self.home.as_ref().is_some_and(|h| path != h && path.starts_with(h))
        {
            return Zone::Home;
        }
        if self.writable.iter().any(|w| path.starts_with(w)) {
            return Zone::Writable;
        }
        if path.starts_with("/dev") {
            return Zone::Device;
        }
        proc_zone(path, own_pid).unwrap_or(Zone::System)
    }

    /// What comes of `access` to `path` in `zone`, from the policy
    /// alone; `None` when only a look at the file can tell.
    pub fn outcome(
        &self,
        path: &Path,
        zone: Zone,
        access: Access,
    ) -> Option<Outcome> {
        if !access.writes() {
            return (!zone.is_sensitive()).then_some(Outcome::Attempted);
        }
        let shown = self.shown.iter().any(|s| path.starts_with(s));
        let writable = match zone {
            Zone::Workspace | Zone::Device => true,
            Zone::Writable | Zone::Home => !shown,
            Zone::System | Zone::Secret | Zone::OtherProcess => false,
        };
        Some(if writable { Outcome::Attempted } else { Outcome::Denied })
    }
}

impl Policy {
    /// Whether a TCP `connect` or `bind` (`connect` says which) to
    /// `port` is refused.
    pub fn tcp_refused(&self, connect: bool, port: Option<u16>) -> bool {
        let open =
            connect && port.is_some_and(|p| self.tcp_open_ports.contains(&p));
        self.tcp_denied && !open
    }
}

/// The zone of a path under `/proc`: the caller's own files are like a
/// device, another process's are singled out.
fn proc_zone(path: &Path, own_pid: i32) -> Option<Zone> {
    let rest = path.strip_prefix("/proc").ok()?;
    let first = rest.components().next()?;
    let name = first.as_os_str().to_str()?;
    if matches!(name, "self" | "thread-self") {
        return Some(Zone::Device);
    }
    let pid: i32 = name.parse().ok()?;
    Some(if pid == own_pid { Zone::Device } else { Zone::OtherProcess })
}

/// `path` without `.`, `..` and repeated slashes, resolved lexically
/// (links are not followed): what the monitor can afford.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(name) => out.push(name),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        Policy {
            workspace: "/w".into(),
            writable: vec!["/tmp".into(), "/home/me".into()],
            home: Some("/home/me".into()),
            hidden: vec!["/etc/shadow".into()],
            shown: vec!["/home/me/.ssh/known_hosts".into()],
            tcp_denied: true,
            tcp_open_ports: vec![53],
        }
    }

    #[test]
    fn paths_fall_in_zones() {
        let p = policy();
        let zone = |path: &str| p.zone(Path::new(path), 7);
        assert_eq!(zone("/w/a"), Zone::Workspace);
        assert_eq!(zone("/home/me/.ssh/id_rsa"), Zone::Home);
        assert_eq!(zone("/home/me"), Zone::Writable);
        assert_eq!(zone("/etc/shadow"), Zone::Secret);
        assert_eq!(zone("/tmp/x"), Zone::Writable);
        assert_eq!(zone("/usr/lib/libc.so.6"), Zone::System);
        assert_eq!(zone("/proc/7/maps"), Zone::Device);
        assert_eq!(zone("/proc/self/fd"), Zone::Device);
        assert_eq!(zone("/proc/1/environ"), Zone::OtherProcess);
        assert_eq!(zone("/proc/meminfo"), Zone::System);
        assert_eq!(zone("/dev/null"), Zone::Device);
    }

    #[test]
    fn writes_outside_writable_trees_are_denied() {
        let p = policy();
        let outcome = |path: &str, access| {
            let path = Path::new(path);
            p.outcome(path, p.zone(path, 1), access)
        };
        assert_eq!(outcome("/etc/x", Access::Create), Some(Outcome::Denied));
        assert_eq!(outcome("/w/x", Access::Write), Some(Outcome::Attempted));
        assert_eq!(
            outcome("/home/me/.ssh/known_hosts", Access::Write),
            Some(Outcome::Denied)
        );
        assert_eq!(outcome("/home/me/.ssh/id_rsa", Access::Read), None);
        assert_eq!(outcome("/usr/x", Access::Read), Some(Outcome::Attempted));
    }

    #[test]
    fn tcp_is_refused_but_to_cordons_listeners() {
        let p = policy();
        assert!(p.tcp_refused(true, Some(80)));
        assert!(!p.tcp_refused(true, Some(53)));
        assert!(p.tcp_refused(false, Some(53)));
        assert!(!Policy::default().tcp_refused(true, Some(80)));
    }

    #[test]
    fn normalizing_is_lexical() {
        assert_eq!(
            normalize(Path::new("/a/./b/../c//d")),
            Path::new("/a/c/d")
        );
        assert_eq!(normalize(Path::new("/../x")), Path::new("/x"));
    }
}
