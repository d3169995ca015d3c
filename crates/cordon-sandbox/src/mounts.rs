//! The file system the command sees, built in a private mount namespace
//! and entered with `pivot_root`.
//!
//! The host's root (or `--rootfs`) is bound recursively, read-only,
//! nosuid and nodev; over it go a fresh `/dev` with a few devices, a
//! fresh `/proc` with its dangerous files masked, an empty `/tmp`, an
//! empty home, and the workspace, `--rw`, `--ro` and `--hide` paths,
//! shallowest first.

use std::ffi::CString;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::symlink;
use std::path::{Component, Path, PathBuf};

use crate::error::{Error, os};
use crate::sys;

/// A tmpfs mounted over `/tmp` in the private mount namespace becomes
/// the root while the new root is assembled; the host's root is then
/// under [`OLD_ROOT`], the new one under [`NEW_ROOT`].
const STAGING: &str = "/tmp";
const OLD_ROOT: &str = "/oldroot";
const NEW_ROOT: &str = "/newroot";

/// Devices bound from the host into the fresh `/dev`.
const DEVICES: &[&str] = &["null", "zero", "full", "random", "urandom", "tty"];

/// Files in `/proc` covered by a read-only `/dev/null`.
const PROC_FILES: &[&str] = &[
    "sysrq-trigger",
    "kcore",
    "keys",
    "key-users",
    "timer_list",
    "sched_debug",
    "latency_stats",
    "kallsyms",
    "kmsg",
    "kpagecount",
    "kpageflags",
    "kpagecgroup",
    "config.gz",
];

/// Directories in `/proc` made read-only.
const PROC_DIRS: &[&str] =
    &["sys", "irq", "bus", "acpi", "scsi", "fs", "driver"];

/// Host files hidden by default: readable by root mapped to itself.
const SECRET_FILES: &[&str] =
    &["/etc/shadow", "/etc/gshadow", "/etc/shadow-", "/etc/gshadow-"];

/// How one path given by the user (or the workspace) is mounted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Bound read-write, nosuid, nodev.
    Writable,
    /// Bound read-only.
    ReadOnly,
    /// Covered: an empty read-only tmpfs over a directory, `/dev/null`
    /// over a file.
    Hidden,
    /// An empty, writable tmpfs (the home directory).
    Empty,
}

/// One mount over the new root, at the same path as on the host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserMount {
    /// The host path, canonical.
    pub path: PathBuf,
    /// How it is mounted.
    pub kind: Kind,
    /// What it is, for messages ("the workspace", "--ro path").
    pub what: &'static str,
}

/// Everything the init needs to build the file system.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The tree to bind as the root: `/` or `--rootfs`.
    pub root: PathBuf,
    /// The mounts over it, in the order they are made.
    pub mounts: Vec<UserMount>,
    /// The directory to start the command in.
    pub cwd: PathBuf,
    /// The host's terminal device on cordon's standard streams, shown
    /// as `/dev/console` so that the command can name its terminal.
    pub terminal: Option<PathBuf>,
    /// A `resolv.conf` put over the root's, read-only.
    pub resolv_conf: Option<ResolvConf>,
}

/// A generated `resolv.conf` and the file of the root it covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvConf {
    /// The file covered, as a path in the sandbox: `/etc/resolv.conf`,
    /// or where its links lead when it is a link.
    pub target: PathBuf,
    /// What the command reads there instead.
    pub content: String,
}

/// The most links followed from `/etc/resolv.conf`.
const MAX_LINKS: usize = 16;

/// The file `/etc/resolv.conf` stands for in the tree at `root`: the
/// path itself, or the end of its chain of links resolved inside
/// `root` (hosts often link it into `/run`). `None` when there is no
/// such file to cover.
pub fn resolv_target(root: &Path) -> Option<PathBuf> {
    let mut path = PathBuf::from("/etc/resolv.conf");
    for _ in 0..MAX_LINKS {
        let seen = inside(root, &path);
        let metadata = fs::symlink_metadata(&seen).ok()?;
        if metadata.is_file() {
            return Some(path);
        }
        if !metadata.file_type().is_symlink() {
            return None;
        }
        let link = fs::read_link(&seen).ok()?;
        let parent = path.parent().unwrap_or(Path::new("/"));
        path = lexical(&parent.join(link));
    }
    None
}

/// `path` made absolute without `.` and `..`, resolved lexically.
fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(name) => out.push(name),
            _ => {}
        }
    }
    out
}

impl Plan {
    /// Orders `mounts` so that a path is mounted after every path that
    /// contains it, keeping the given order between equals.
    pub fn new(
        root: PathBuf,
        mut mounts: Vec<UserMount>,
        cwd: PathBuf,
    ) -> Plan {
        mounts.sort_by_key(|m| depth(&m.path));
        Plan { root, mounts, cwd, terminal: None, resolv_conf: None }
    }

    /// The mounts that hide host secrets readable by root, for a host
    /// root: the password hashes and the SSH host keys.
    pub fn secret_files() -> Vec<UserMount> {
        let ssh_keys = fs::read_dir("/etc/ssh")
            .into_iter()
            .flatten()
            .flatten()
            .map(|entry| entry.path())
            .filter(|path| is_ssh_host_key(path));
        SECRET_FILES
            .iter()
            .map(PathBuf::from)
            .chain(ssh_keys)
            .filter(|p| p.is_file())
            .map(|path| UserMount {
                path,
                kind: Kind::Hidden,
                what: "the host secret",
            })
            .collect()
    }

    /// One line per mount, for `--debug`.
    pub fn describe(&self) -> Vec<String> {
        let mut lines = vec![
            format!("root {} read-only, nosuid, nodev", self.root.display()),
            "fresh /dev, /dev/pts, /dev/shm, /proc (masked), /tmp".to_owned(),
        ];
        if let Some(resolv) = &self.resolv_conf {
            lines.push(format!(
                "{} replaced: lookups go to cordon's resolver",
                resolv.target.display()
            ));
        }
        for mount in &self.mounts {
            let how = match mount.kind {
                Kind::Writable => "read-write",
                Kind::ReadOnly => "read-only",
                Kind::Hidden => "hidden",
                Kind::Empty => "empty tmpfs",
            };
            lines.push(format!(
                "{} {how}: {}",
                mount.what,
                mount.path.display()
            ));
        }
        lines
    }

    /// Builds the new root and enters it. Runs in the init, in a fresh
    /// mount namespace, as root of its user namespace.
    pub fn apply(&self) -> Result<(), Error> {
        let old = Path::new(OLD_ROOT);
        let root = Path::new(NEW_ROOT);
        enter_staging()?;

        bind(&inside(old, &self.root), root, "the root")?;
        let attrs = libc::MOUNT_ATTR_RDONLY
            | libc::MOUNT_ATTR_NOSUID
            | libc::MOUNT_ATTR_NODEV;
        setattr(root, true, attrs, 0, "the root")?;

        build_dev(root, old, self.terminal.as_deref())?;
        build_proc(root, old)?;
        tmpfs(&root.join("tmp"), 0o1777, 0, "/tmp")?;
        for mount in &self.mounts {
            user_mount(root, old, mount)?;
        }
        if let Some(resolv) = &self.resolv_conf {
            cover_resolv_conf(root, resolv)?;
        }
        enter(root, &self.cwd)
    }
}

/// Makes a tmpfs the root, with the host's root under [`OLD_ROOT`] and
/// an empty [`NEW_ROOT`] to build in.
fn enter_staging() -> Result<(), Error> {
    let flags = libc::MS_REC | libc::MS_PRIVATE;
    mount(None, "/", None, flags, None, "make / private")?;
    let staging = Path::new(STAGING);
    tmpfs(staging, 0o755, 0, "the staging directory")?;
    mkdir(&staging.join("oldroot"))?;
    mkdir(&staging.join("newroot"))?;

    std::env::set_current_dir(staging)
        .map_err(os(format!("change to {STAGING}")))?;
    sys::pivot_root(c".", c"oldroot")
        .map_err(os("pivot_root into the staging directory"))?;
    std::env::set_current_dir("/").map_err(os("change to /"))
}

/// A fresh `/dev`: a few host devices, a new devpts instance, `/dev/shm`
/// and the usual links; the tmpfs itself read-only.
fn build_dev(
    root: &Path,
    old: &Path,
    terminal: Option<&Path>,
) -> Result<(), Error> {
    let dev = root.join("dev");
    tmpfs(&dev, 0o755, libc::MS_NOEXEC, "/dev")?;
    for name in DEVICES {
        let host = old.join("dev").join(name);
        if host.exists() {
            bind_device(&host, &dev.join(name))?;
        }
    }
    if let Some(terminal) = terminal {
        bind_device(&inside(old, terminal), &dev.join("console"))?;
    }

    let pts = dev.join("pts");
    mkdir(&pts)?;
    let data = "newinstance,ptmxmode=0666,mode=0620";
    let flags = libc::MS_NOSUID | libc::MS_NOEXEC;
    let devpts = Some(Path::new("devpts"));
    mount(devpts, &pts, Some("devpts"), flags, Some(data), "mount /dev/pts")?;

    let shm = dev.join("shm");
    mkdir(&shm)?;
    tmpfs(&shm, 0o1777, 0, "/dev/shm")?;

    dev_links(&dev)?;
    setattr(&dev, false, libc::MOUNT_ATTR_RDONLY, 0, "/dev")
}

/// Binds the host device `host` at `target`, a new empty file.
fn bind_device(host: &Path, target: &Path) -> Result<(), Error> {
    let what = format!("bind-mount the device {}", host.display());
    fs::write(target, b"")
        .map_err(os(format!("create {}", target.display())))?;
    mount(Some(host), target, None, libc::MS_BIND, None, &what)
}

/// `/dev/ptmx`, `/dev/fd` and the standard streams.
fn dev_links(dev: &Path) -> Result<(), Error> {
    link("pts/ptmx", &dev.join("ptmx"))?;
    link("/proc/self/fd", &dev.join("fd"))?;
    for (i, name) in ["stdin", "stdout", "stderr"].iter().enumerate() {
        link(&format!("/proc/self/fd/{i}"), &dev.join(name))?;
    }
    Ok(())
}

/// Mounts a fresh `/proc` for the new pid namespace and masks what
/// could reach the host kernel.
fn build_proc(root: &Path, old: &Path) -> Result<(), Error> {
    let proc = root.join("proc");
    let flags = libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC;
    mount(
        Some(Path::new("proc")),
        &proc,
        Some("proc"),
        flags,
        None,
        "mount /proc",
    )?;

    for name in PROC_FILES {
        let path = proc.join(name);
        if path.exists() {
            hide_file(&path, old)?;
        }
    }
    for name in PROC_DIRS {
        let path = proc.join(name);
        if path.is_dir() {
            bind(&path, &path, "a /proc directory")?;
            setattr(
                &path,
                true,
                libc::MOUNT_ATTR_RDONLY,
                0,
                "a /proc directory",
            )?;
        }
    }
    Ok(())
}

/// Mounts one workspace, `--rw`, `--ro`, `--hide` or home path.
fn user_mount(
    root: &Path,
    old: &Path,
    mount: &UserMount,
) -> Result<(), Error> {
    let target = inside(root, &mount.path);
    let source = inside(old, &mount.path);
    let what = format!("{} {}", mount.what, mount.path.display());
    let is_dir = source.is_dir();
    ensure_mount_point(&target, is_dir || mount.kind == Kind::Empty, &what)?;

    let nosuid_nodev = libc::MOUNT_ATTR_NOSUID | libc::MOUNT_ATTR_NODEV;
    match mount.kind {
        Kind::Writable => {
            bind(&source, &target, &what)?;
            let clear = libc::MOUNT_ATTR_RDONLY;
            setattr(&target, true, nosuid_nodev, clear, &what).or_else(|_| {
                setattr(&target, false, nosuid_nodev, clear, &what)
            })
        }
        Kind::ReadOnly => {
            bind(&source, &target, &what)?;
            let set = nosuid_nodev | libc::MOUNT_ATTR_RDONLY;
            setattr(&target, true, set, 0, &what)
        }
        Kind::Hidden if is_dir => {
            tmpfs(&target, 0o755, libc::MS_RDONLY, &what)
        }
        Kind::Hidden => hide_file(&target, old),
        Kind::Empty => tmpfs(&target, 0o755, 0, &what),
    }
}

/// Writes the generated `resolv.conf` in the staging tmpfs and binds
/// it, read-only, over the file the root's `/etc/resolv.conf` stands
/// for. The bind outlives the staging tmpfs once that is detached.
fn cover_resolv_conf(root: &Path, resolv: &ResolvConf) -> Result<(), Error> {
    let staged = Path::new("/resolv.conf");
    fs::write(staged, &resolv.content)
        .map_err(os("write the sandbox's resolv.conf"))?;
    let target = inside(root, &resolv.target);
    let what = format!("cover {} with cordon's", resolv.target.display());
    mount(Some(staged), &target, None, libc::MS_BIND, None, &what)?;
    setattr(&target, false, libc::MOUNT_ATTR_RDONLY, 0, &what)
}

/// Covers a file with a read-only `/dev/null` of the host.
fn hide_file(path: &Path, old: &Path) -> Result<(), Error> {
    let what = format!("hide {}", path.display());
    let null = old.join("dev/null");
    mount(Some(&null), path, None, libc::MS_BIND, None, &what)?;
    setattr(path, false, libc::MOUNT_ATTR_RDONLY, 0, &what)
}

/// Makes `root` the root of the mount namespace, detaches the old one
/// and changes to `cwd`.
fn enter(root: &Path, cwd: &Path) -> Result<(), Error> {
    std::env::set_current_dir(root)
        .map_err(os(format!("change to the new root {}", root.display())))?;
    let dot = c".";
    sys::pivot_root(dot, dot).map_err(os("pivot_root into the new root"))?;
    sys::umount_detach(dot).map_err(os("detach the host's root"))?;
    std::env::set_current_dir("/").map_err(os("change to /"))?;
    std::env::set_current_dir(cwd)
        .map_err(os(format!("change to the directory {}", cwd.display())))
}

/// Creates a missing mount point for `what`: a directory or an empty
/// file. Only possible where the parent is writable, as in the empty
/// home.
fn ensure_mount_point(
    target: &Path,
    dir: bool,
    what: &str,
) -> Result<(), Error> {
    if target.symlink_metadata().is_ok() {
        return Ok(());
    }
    let made = if dir {
        fs::create_dir_all(target)
    } else {
        let parent = target.parent().unwrap_or(Path::new("/"));
        fs::create_dir_all(parent).and_then(|()| fs::write(target, b""))
    };
    made.map_err(os(format!("create the mount point for {what}")))
}

/// Whether `path` names an SSH host private key, `ssh_host_*_key`.
fn is_ssh_host_key(path: &Path) -> bool {
    path.file_name().and_then(|name| name.to_str()).is_some_and(|name| {
        name.starts_with("ssh_host_") && name.ends_with("_key")
    })
}

/// `path` (absolute, on the host) under `root`.
pub fn inside(root: &Path, path: &Path) -> PathBuf {
    let relative: PathBuf = path
        .components()
        .filter(|c| matches!(c, Component::Normal(_)))
        .collect();
    root.join(relative)
}

/// How many components `path` has: a parent sorts before its children.
fn depth(path: &Path) -> usize {
    path.components().count()
}

fn mkdir(path: &Path) -> Result<(), Error> {
    fs::create_dir(path).map_err(os(format!("create {}", path.display())))
}

fn link(to: &str, at: &Path) -> Result<(), Error> {
    symlink(to, at).map_err(os(format!("create the link {}", at.display())))
}

fn tmpfs(
    target: &Path,
    mode: u32,
    flags: libc::c_ulong,
    what: &str,
) -> Result<(), Error> {
    let data = format!("mode={mode:o}");
    let flags = flags | libc::MS_NOSUID | libc::MS_NODEV;
    let what = format!("mount a tmpfs over {what}");
    mount(
        Some(Path::new("tmpfs")),
        target,
        Some("tmpfs"),
        flags,
        Some(&data),
        &what,
    )
}

/// A recursive bind mount: a plain one is refused over locked mounts.
fn bind(source: &Path, target: &Path, what: &str) -> Result<(), Error> {
    let flags = libc::MS_BIND | libc::MS_REC;
    let what = format!("bind-mount {what}");
    mount(Some(source), target, None, flags, None, &what)
}

fn setattr(
    path: &Path,
    recursive: bool,
    set: u64,
    clear: u64,
    what: &str,
) -> Result<(), Error> {
    let c_path = cstring(path)?;
    sys::mount_setattr(&c_path, recursive, set, clear)
        .map_err(os(format!("set the mount attributes of {what}")))
}

fn mount(
    source: Option<&Path>,
    target: impl AsRef<Path>,
    fstype: Option<&str>,
    flags: libc::c_ulong,
    data: Option<&str>,
    what: &str,
) -> Result<(), Error> {
    let source = source.map(cstring).transpose()?;
    let target = cstring(target.as_ref())?;
    let fstype = fstype.map(|s| cstring(Path::new(s))).transpose()?;
    let data = data.map(|s| cstring(Path::new(s))).transpose()?;
    sys::mount(
        source.as_deref(),
        &target,
        fstype.as_deref(),
        flags,
        data.as_deref(),
    )
    .map_err(os(what.to_owned()))
}

/// A path as a C string; a NUL byte in it is an error.
pub fn cstring(path: &Path) -> Result<CString, Error> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| {
        Error::Config(format!(
            "the path {} contains a NUL byte",
            path.display()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(path: &str, kind: Kind) -> UserMount {
        UserMount { path: path.into(), kind, what: "test" }
    }

    #[test]
    fn parents_are_mounted_before_children() {
        let plan = Plan::new(
            "/".into(),
            vec![
                user("/home/me/project/secret", Kind::Hidden),
                user("/home/me/project", Kind::Writable),
                user("/home/me", Kind::Empty),
                user("/opt", Kind::ReadOnly),
            ],
            "/".into(),
        );
        let order: Vec<_> =
            plan.mounts.iter().map(|m| m.path.to_str().unwrap()).collect();
        assert_eq!(
            order,
            [
                "/opt",
                "/home/me",
                "/home/me/project",
                "/home/me/project/secret"
            ]
        );
    }

    #[test]
    fn ssh_host_private_keys_are_recognised() {
        assert!(is_ssh_host_key(Path::new("/etc/ssh/ssh_host_ed25519_key")));
        assert!(!is_ssh_host_key(Path::new("/etc/ssh/ssh_host_rsa_key.pub")));
        assert!(!is_ssh_host_key(Path::new("/etc/ssh/sshd_config")));
    }

    #[test]
    fn resolv_conf_links_are_followed_inside_the_root() {
        let root = tempfile::tempdir().unwrap();
        let at = |p: &str| root.path().join(p);
        fs::create_dir_all(at("etc")).unwrap();
        assert_eq!(resolv_target(root.path()), None);
        fs::create_dir_all(at("run/resolve")).unwrap();
        symlink("../run/resolve/stub.conf", at("etc/resolv.conf")).unwrap();
        assert_eq!(resolv_target(root.path()), None, "a dangling link");
        symlink("/run/resolve/real.conf", at("run/resolve/stub.conf"))
            .unwrap();
        fs::write(at("run/resolve/real.conf"), "nameserver 1.1.1.1\n")
            .unwrap();
        assert_eq!(
            resolv_target(root.path()),
            Some(PathBuf::from("/run/resolve/real.conf"))
        );
        fs::remove_file(at("run/resolve/real.conf")).unwrap();
        symlink("stub.conf", at("run/resolve/real.conf")).unwrap();
        assert_eq!(resolv_target(root.path()), None, "a loop");
    }

    #[test]
    fn paths_are_placed_under_the_new_root() {
        let got = inside(Path::new("/tmp/root"), Path::new("/home/me/x"));
        assert_eq!(got, Path::new("/tmp/root/home/me/x"));
    }
}
