//! Turns a seccomp notification into what the call asked for: the
//! paths, flags, argv and addresses it passes, read from the calling
//! process's memory.

use std::net::{Ipv4Addr, Ipv6Addr};

use cordon_report::events::Access;

use crate::sys::{self, Notification};

/// The longest path read, as the kernel's `PATH_MAX`.
const PATH_MAX: usize = 4096;

/// The most arguments of an exec recorded.
const MAX_ARGS: usize = 256;

/// The most bytes of argv recorded.
const MAX_ARGV_BYTES: usize = 64 * 1024;

/// The longest socket address read.
const MAX_SOCKADDR: usize = 128;

/// The system calls the monitor asks to hear about, on x86_64.
pub const WATCHED: &[(libc::c_long, &str)] = &[
    (libc::SYS_open, "open"),
    (libc::SYS_openat, "openat"),
    (libc::SYS_openat2, "openat2"),
    (libc::SYS_creat, "creat"),
    (libc::SYS_execve, "execve"),
    (libc::SYS_execveat, "execveat"),
    (libc::SYS_connect, "connect"),
    (libc::SYS_bind, "bind"),
    (libc::SYS_sendto, "sendto"),
    (libc::SYS_sendmsg, "sendmsg"),
    (libc::SYS_sendmmsg, "sendmmsg"),
    (libc::SYS_unlink, "unlink"),
    (libc::SYS_unlinkat, "unlinkat"),
    (libc::SYS_rmdir, "rmdir"),
    (libc::SYS_rename, "rename"),
    (libc::SYS_renameat, "renameat"),
    (libc::SYS_renameat2, "renameat2"),
    (libc::SYS_chmod, "chmod"),
    (libc::SYS_fchmodat, "fchmodat"),
    (libc::SYS_fchmodat2, "fchmodat2"),
    (libc::SYS_exit_group, "exit_group"),
    (libc::SYS_chdir, "chdir"),
    (libc::SYS_fchdir, "fchdir"),
];

/// The size of a `struct msghdr` on x86_64, and where its name and the
/// name's length lie.
const MSGHDR: usize = 56;
const MSG_NAMELEN_AT: usize = 8;

/// The name of system call `nr`, when watched.
pub fn name(nr: i64) -> Option<&'static str> {
    WATCHED.iter().find(|(n, _)| *n == nr).map(|(_, name)| *name)
}

/// What a watched call asked for, before its paths are resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Call {
    /// A call on one path.
    File {
        /// The directory fd the path is relative to.
        dirfd: i32,
        /// The path as passed.
        path: Vec<u8>,
        /// What the call does.
        access: Access,
    },
    /// A rename, from one path to another.
    Rename {
        /// The source's directory fd and path.
        from: (i32, Vec<u8>),
        /// The target's.
        to: (i32, Vec<u8>),
    },
    /// An exec.
    Exec {
        /// The directory fd the path is relative to.
        dirfd: i32,
        /// The program.
        path: Vec<u8>,
        /// The arguments.
        argv: Vec<String>,
    },
    /// A call with a socket address.
    Network {
        /// The socket's fd.
        fd: i32,
        /// The address.
        address: SocketAddress,
    },
    /// A process ends with this status (`exit_group`).
    Exit {
        /// The status passed.
        code: i32,
    },
    /// The thread changes its current directory: what the monitor
    /// remembers of it is stale.
    Chdir,
    /// Nothing worth recording (a `sendto` on a connected socket).
    Nothing,
}

/// A socket address, as the report shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SocketAddress {
    /// `inet`, `inet6`, `unix` or the family's number.
    pub family: String,
    /// The IP address or the socket file's path (`@name` when abstract).
    pub address: String,
    /// The port, for IP.
    pub port: Option<u16>,
}

/// The low 32 bits of an argument, as the kernel reads an `int`.
fn int(arg: u64) -> i32 {
    arg as u32 as i32
}

/// Reads what notification `n` asks for from the calling thread's
/// memory.
pub fn decode(n: &Notification) -> std::io::Result<Call> {
    let a = n.args;
    let path = |arg: u64| sys::read_c_string(n.pid, arg, PATH_MAX);
    let at = libc::AT_FDCWD;
    let file = |dirfd: i32, arg: u64, access| -> std::io::Result<Call> {
        Ok(Call::File { dirfd, path: path(arg)?, access })
    };
    match n.nr {
        libc::SYS_open => file(at, a[0], open_access(a[1])),
        libc::SYS_openat => file(int(a[0]), a[1], open_access(a[2])),
        libc::SYS_openat2 => {
            let mut how = [0u8; 8];
            sys::read_memory(n.pid, a[2], &mut how)?;
            file(int(a[0]), a[1], open_access(u64::from_ne_bytes(how)))
        }
        libc::SYS_creat => file(at, a[0], Access::Create),
        libc::SYS_unlink | libc::SYS_rmdir => file(at, a[0], Access::Delete),
        libc::SYS_unlinkat => file(int(a[0]), a[1], Access::Delete),
        libc::SYS_chmod => file(at, a[0], Access::Chmod),
        libc::SYS_fchmodat | libc::SYS_fchmodat2 => {
            file(int(a[0]), a[1], Access::Chmod)
        }
        libc::SYS_rename => {
            Ok(Call::Rename { from: (at, path(a[0])?), to: (at, path(a[1])?) })
        }
        libc::SYS_renameat | libc::SYS_renameat2 => Ok(Call::Rename {
            from: (int(a[0]), path(a[1])?),
            to: (int(a[2]), path(a[3])?),
        }),
        libc::SYS_execve => exec(n.pid, at, a[0], a[1]),
        libc::SYS_execveat => exec(n.pid, int(a[0]), a[1], a[2]),
        libc::SYS_connect | libc::SYS_bind => network(n.pid, a[0], a[1], a[2]),
        libc::SYS_sendto if a[4] != 0 => network(n.pid, a[0], a[4], a[5]),
        // The first message of a sendmmsg: its header leads the vector.
        libc::SYS_sendmsg | libc::SYS_sendmmsg => message(n.pid, a[0], a[1]),
        libc::SYS_exit_group => Ok(Call::Exit { code: int(a[0]) & 0xff }),
        libc::SYS_chdir | libc::SYS_fchdir => Ok(Call::Chdir),
        _ => Ok(Call::Nothing),
    }
}

/// What `open` flags ask for.
pub fn open_access(flags: u64) -> Access {
    let flags = flags as u32 as i32;
    // O_TMPFILE includes O_DIRECTORY's bit: all of its bits must be set.
    let tmpfile = flags & libc::O_TMPFILE == libc::O_TMPFILE;
    if tmpfile || flags & libc::O_CREAT != 0 {
        Access::Create
    } else if flags & (libc::O_WRONLY | libc::O_RDWR | libc::O_TRUNC) != 0 {
        Access::Write
    } else {
        Access::Read
    }
}

fn exec(pid: u32, dirfd: i32, path: u64, argv: u64) -> std::io::Result<Call> {
    let path = sys::read_c_string(pid, path, PATH_MAX)?;
    let argv = read_argv(pid, argv).unwrap_or_default();
    Ok(Call::Exec { dirfd, path, argv })
}

/// The strings of a NULL-terminated pointer array, within bounds.
fn read_argv(pid: u32, mut at: u64) -> std::io::Result<Vec<String>> {
    let mut argv = Vec::new();
    let mut total = 0;
    while at != 0 && argv.len() < MAX_ARGS && total < MAX_ARGV_BYTES {
        let mut word = [0u8; 8];
        if sys::read_memory(pid, at, &mut word)? < 8 {
            break;
        }
        let pointer = u64::from_ne_bytes(word);
        if pointer == 0 {
            break;
        }
        let arg = sys::read_c_string(pid, pointer, PATH_MAX)?;
        total += arg.len();
        argv.push(String::from_utf8_lossy(&arg).into_owned());
        at += 8;
    }
    Ok(argv)
}

fn network(pid: u32, fd: u64, addr: u64, len: u64) -> std::io::Result<Call> {
    if addr == 0 {
        return Ok(Call::Nothing);
    }
    let len = usize::try_from(len).unwrap_or(0).min(MAX_SOCKADDR);
    let mut bytes = vec![0u8; len];
    let n = sys::read_memory(pid, addr, &mut bytes)?;
    bytes.truncate(n);
    match socket_address(&bytes) {
        Some(address) => Ok(Call::Network { fd: int(fd), address }),
        None => Ok(Call::Nothing),
    }
}

/// The address of a `sendmsg`: the name of the `struct msghdr` at
/// `header`, when it has one.
fn message(pid: u32, fd: u64, header: u64) -> std::io::Result<Call> {
    let mut bytes = [0u8; MSGHDR];
    if sys::read_memory(pid, header, &mut bytes)? < MSGHDR {
        return Ok(Call::Nothing);
    }
    let (name, len) = message_name(&bytes);
    network(pid, fd, name, len)
}

/// The name pointer and its length in a `struct msghdr`.
pub fn message_name(header: &[u8; MSGHDR]) -> (u64, u64) {
    let word = |at: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&header[at..at + 8]);
        u64::from_ne_bytes(w)
    };
    let len = word(MSG_NAMELEN_AT) & 0xffff_ffff;
    (word(0), len)
}

/// Parses a `struct sockaddr` of any family.
pub fn socket_address(bytes: &[u8]) -> Option<SocketAddress> {
    let head: [u8; 2] = bytes.get(..2)?.try_into().ok()?;
    let family = i32::from(u16::from_ne_bytes(head));
    let port = || bytes.get(2..4).map(|p| u16::from_be_bytes([p[0], p[1]]));
    let (name, address, port) = match family {
        libc::AF_INET => {
            let ip: [u8; 4] = bytes.get(4..8)?.try_into().ok()?;
            ("inet".to_owned(), Ipv4Addr::from(ip).to_string(), port())
        }
        libc::AF_INET6 => {
            let ip: [u8; 16] = bytes.get(8..24)?.try_into().ok()?;
            ("inet6".to_owned(), Ipv6Addr::from(ip).to_string(), port())
        }
        libc::AF_UNIX => ("unix".to_owned(), unix_path(&bytes[2..]), None),
        other => (other.to_string(), String::new(), None),
    };
    Some(SocketAddress { family: name, address, port })
}

/// A Unix socket's path; `@name` for an abstract one.
fn unix_path(path: &[u8]) -> String {
    match path.split_first() {
        Some((0, name)) => {
            let name = name.split(|&b| b == 0).next().unwrap_or_default();
            format!("@{}", String::from_utf8_lossy(name))
        }
        _ => {
            let end = path.iter().position(|&b| b == 0).unwrap_or(path.len());
            String::from_utf8_lossy(&path[..end]).into_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_flags_tell_the_access() {
        assert_eq!(open_access(libc::O_RDONLY as u64), Access::Read);
        assert_eq!(open_access(libc::O_WRONLY as u64), Access::Write);
        let create = (libc::O_WRONLY | libc::O_CREAT) as u64;
        assert_eq!(open_access(create), Access::Create);
        assert_eq!(open_access(libc::O_TRUNC as u64), Access::Write);
        let dir = libc::O_DIRECTORY as u64;
        assert_eq!(open_access(dir), Access::Read);
        let tmp = (libc::O_TMPFILE | libc::O_RDWR) as u64;
        assert_eq!(open_access(tmp), Access::Create);
    }

    #[test]
    fn addresses_of_each_family_are_read() {
        let mut v4 = vec![0u8; 16];
        v4[..2].copy_from_slice(&(libc::AF_INET as u16).to_ne_bytes());
        v4[2..4].copy_from_slice(&8080u16.to_be_bytes());
        v4[4..8].copy_from_slice(&[127, 0, 0, 1]);
        let got = socket_address(&v4).unwrap();
        assert_eq!(
            (got.family.as_str(), got.address.as_str(), got.port),
            ("inet", "127.0.0.1", Some(8080))
        );
        let mut v6 = vec![0u8; 28];
        v6[..2].copy_from_slice(&(libc::AF_INET6 as u16).to_ne_bytes());
        v6[2..4].copy_from_slice(&53u16.to_be_bytes());
        v6[23] = 1;
        let got = socket_address(&v6).unwrap();
        assert_eq!((got.address.as_str(), got.port), ("::1", Some(53)));
        let mut unix = (libc::AF_UNIX as u16).to_ne_bytes().to_vec();
        unix.extend(b"\0bus\0");
        assert_eq!(socket_address(&unix).unwrap().address, "@bus");
        assert!(socket_address(&[]).is_none());
    }

    #[test]
    fn a_message_header_gives_its_name() {
        // A real msghdr of this process, read as a command's is.
        let mut address = [0u8; 16];
        let header = libc::msghdr {
            msg_name: address.as_mut_ptr().cast(),
            msg_namelen: 16,
            msg_iov: std::ptr::null_mut(),
            msg_iovlen: 0,
            msg_control: std::ptr::null_mut(),
            msg_controllen: 0,
            msg_flags: 0,
        };
        assert_eq!(size_of::<libc::msghdr>(), MSGHDR);
        let pointer = std::ptr::from_ref(&header).cast::<u8>();
        let pid = std::process::id();
        let mut bytes = [0u8; MSGHDR];
        sys::read_memory(pid, pointer as u64, &mut bytes).unwrap();
        let (name, len) = message_name(&bytes);
        assert_eq!((name, len), (address.as_ptr() as u64, 16));
    }

    #[test]
    fn only_watched_calls_have_names() {
        assert_eq!(name(libc::SYS_openat), Some("openat"));
        assert_eq!(name(libc::SYS_read), None);
    }
}
