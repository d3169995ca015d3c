//! Thin wrappers over the system calls the sandbox makes: the only
//! module with `unsafe`. Each wrapper checks the return value and turns
//! `errno` into an [`io::Error`]; none of them allocates but
//! [`recv_fds`], which only cordon calls, outside the sandbox.

use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::ptr;
use std::time::Duration;

/// `AUDIT_ARCH_X86_64`, the architecture word seccomp sees on x86_64.
pub const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;

/// `si_code` of a signal sent by `kill(2)`.
pub const SI_USER: i32 = 0;

/// `PR_CAP_AMBIENT`, whose `PR_CAP_AMBIENT_CLEAR_ALL` clears the ambient
/// set.
const PR_CAP_AMBIENT: libc::c_int = 47;
const PR_CAP_AMBIENT_CLEAR_ALL: libc::c_ulong = 4;

/// The capability ABI version of `capset(2)` with 64-bit sets.
const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;

/// `landlock_create_ruleset` flag asking for the ABI version.
const LANDLOCK_CREATE_RULESET_VERSION: libc::c_uint = 1;

/// Turns a `-1` return into the thread's `errno`.
fn check(ret: libc::c_long) -> io::Result<libc::c_long> {
    if ret == -1 { Err(io::Error::last_os_error()) } else { Ok(ret) }
}

/// Turns a `-1` return of an `int` function into `errno`.
fn check_int(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret == -1 { Err(io::Error::last_os_error()) } else { Ok(ret) }
}

/// `clone(2)` without a new stack, so the child goes on from here like
/// after `fork(2)`: returns the child's pid in the parent and `None` in
/// the child. `flags` are `CLONE_NEW*` flags; the child sends `SIGCHLD`
/// when it ends.
pub fn clone_fork(flags: libc::c_int) -> io::Result<Option<libc::pid_t>> {
    let flags = (flags | libc::SIGCHLD) as libc::c_ulong;
    // SAFETY: with a null stack pointer, clone behaves like fork: the
    // child gets a copy of the address space and returns here with 0.
    // The callers are single-threaded, so no lock is held by a thread
    // that does not exist in the child.
    let ret = unsafe {
        libc::syscall(libc::SYS_clone, flags, 0usize, 0usize, 0usize, 0usize)
    };
    let pid = check(ret)?;
    Ok(if pid == 0 { None } else { Some(pid as libc::pid_t) })
}

/// `fork(2)`: the child's pid in the parent, `None` in the child.
pub fn fork() -> io::Result<Option<libc::pid_t>> {
    // SAFETY: fork has no memory-safety preconditions; the callers only
    // fork from single-threaded processes (or, in tests, only make
    // system calls in the child).
    let pid = check_int(unsafe { libc::fork() })?;
    Ok(if pid == 0 { None } else { Some(pid) })
}

/// `unshare(2)`.
pub fn unshare(flags: libc::c_int) -> io::Result<()> {
    // SAFETY: unshare takes a plain integer.
    check_int(unsafe { libc::unshare(flags) }).map(drop)
}

/// `mount(2)`.
pub fn mount(
    source: Option<&CStr>,
    target: &CStr,
    fstype: Option<&CStr>,
    flags: libc::c_ulong,
    data: Option<&CStr>,
) -> io::Result<()> {
    let ptr_of = |s: Option<&CStr>| s.map_or(ptr::null(), CStr::as_ptr);
    // SAFETY: every pointer is either null or a NUL-terminated string
    // that outlives the call.
    let ret = unsafe {
        libc::mount(
            ptr_of(source),
            target.as_ptr(),
            ptr_of(fstype),
            flags,
            ptr_of(data).cast(),
        )
    };
    check_int(ret).map(drop)
}

/// `mount_setattr(2)` on `path`: sets `set`, clears `clear`, on the
/// whole tree below it when `recursive`.
pub fn mount_setattr(
    path: &CStr,
    recursive: bool,
    set: u64,
    clear: u64,
) -> io::Result<()> {
    let mut attr = libc::mount_attr {
        attr_set: set,
        attr_clr: clear,
        propagation: 0,
        userns_fd: 0,
    };
    let flags = if recursive { libc::AT_RECURSIVE } else { 0 };
    // SAFETY: the path is NUL-terminated and the attribute structure
    // lives across the call, whose size is passed with it.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            libc::AT_FDCWD,
            path.as_ptr(),
            flags as libc::c_uint,
            &mut attr as *mut libc::mount_attr,
            size_of::<libc::mount_attr>(),
        )
    };
    check(ret).map(drop)
}

/// `pivot_root(2)`.
pub fn pivot_root(new_root: &CStr, put_old: &CStr) -> io::Result<()> {
    // SAFETY: both paths are NUL-terminated strings.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_pivot_root,
            new_root.as_ptr(),
            put_old.as_ptr(),
        )
    };
    check(ret).map(drop)
}

/// `umount2(path, MNT_DETACH)`.
pub fn umount_detach(path: &CStr) -> io::Result<()> {
    // SAFETY: the path is a NUL-terminated string.
    check_int(unsafe { libc::umount2(path.as_ptr(), libc::MNT_DETACH) })
        .map(drop)
}

/// `sethostname(2)`.
pub fn sethostname(name: &str) -> io::Result<()> {
    // SAFETY: the pointer and length describe `name`'s bytes.
    let ret = unsafe { libc::sethostname(name.as_ptr().cast(), name.len()) };
    check_int(ret).map(drop)
}

/// Sets the `IFF_UP` flag of the loopback interface `lo`.
pub fn loopback_up() -> io::Result<()> {
    // SAFETY: socket takes plain integers.
    let fd = check_int(unsafe {
        libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0)
    })?;
    // SAFETY: ifreq is plain old data; all zeroes is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in req.ifr_name.iter_mut().zip(b"lo\0") {
        *dst = *src as libc::c_char;
    }
    // SAFETY: `req` is a valid ifreq for SIOCGIFFLAGS/SIOCSIFFLAGS, which
    // read and write its flags member; `fd` is the socket opened above.
    let result = unsafe {
        check_int(libc::ioctl(fd, libc::SIOCGIFFLAGS, &mut req)).and_then(
            |_| {
                req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
                check_int(libc::ioctl(fd, libc::SIOCSIFFLAGS, &mut req))
            },
        )
    };
    // SAFETY: `fd` was opened above and is closed once.
    unsafe { libc::close(fd) };
    result.map(drop)
}

/// `prctl(2)` with one argument.
pub fn prctl(option: libc::c_int, arg: libc::c_ulong) -> io::Result<i32> {
    // SAFETY: the options used take integer arguments only.
    check_int(unsafe { libc::prctl(option, arg, 0, 0, 0) })
}

/// Empties the bounding set up to `last_cap`, the ambient set, and the
/// effective, permitted and inheritable sets.
pub fn drop_all_capabilities(last_cap: u32) -> io::Result<()> {
    for cap in 0..=last_cap {
        match prctl(libc::PR_CAPBSET_DROP, cap.into()) {
            Err(err) if err.raw_os_error() == Some(libc::EINVAL) => {}
            other => other.map(drop)?,
        }
    }
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)?;

    let header = CapHeader { version: LINUX_CAPABILITY_VERSION_3, pid: 0 };
    let data = [CapData::default(); 2];
    // SAFETY: the header and the two data words are the layout capset
    // expects for version 3, and live across the call.
    let ret =
        unsafe { libc::syscall(libc::SYS_capset, &header, data.as_ptr()) };
    check(ret).map(drop)
}

/// Whether this process holds no capability at all, in any set,
/// including the bounding set up to `last_cap`.
pub fn has_no_capabilities(last_cap: u32) -> io::Result<bool> {
    let header = CapHeader { version: LINUX_CAPABILITY_VERSION_3, pid: 0 };
    let mut data = [CapData::default(); 2];
    // SAFETY: the header and two data words have the layout capget
    // writes for version 3, and live across the call.
    let ret =
        unsafe { libc::syscall(libc::SYS_capget, &header, data.as_mut_ptr()) };
    check(ret)?;
    let sets_empty = data
        .iter()
        .all(|d| d.effective == 0 && d.permitted == 0 && d.inheritable == 0);
    let mut bounding_empty = true;
    for cap in 0..=last_cap {
        if prctl(libc::PR_CAPBSET_READ, cap.into())? == 1 {
            bounding_empty = false;
        }
    }
    Ok(sets_empty && bounding_empty)
}

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// Installs a classic BPF seccomp filter with `seccomp(2)`; returns the
/// call's result (a listener fd with `SECCOMP_FILTER_FLAG_NEW_LISTENER`).
pub fn install_seccomp(
    filter: &[libc::sock_filter],
    flags: libc::c_ulong,
) -> io::Result<i32> {
    let len = u16::try_from(filter.len())
        .map_err(|_| io::Error::from_raw_os_error(libc::E2BIG))?;
    let prog = libc::sock_fprog { len, filter: filter.as_ptr().cast_mut() };
    // SAFETY: `prog` points at `len` instructions that outlive the call;
    // the kernel copies the program.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            flags,
            &prog as *const libc::sock_fprog,
        )
    };
    check(ret).map(|fd| fd as i32)
}

/// `socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC)`: two connected
/// sockets.
pub fn socketpair() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as libc::c_int; 2];
    let kind = libc::SOCK_STREAM | libc::SOCK_CLOEXEC;
    // SAFETY: `fds` has room for the two fds the call writes.
    let ret =
        unsafe { libc::socketpair(libc::AF_UNIX, kind, 0, fds.as_mut_ptr()) };
    check_int(ret)?;
    // SAFETY: the call returned two new fds that nothing else owns.
    unsafe { Ok((OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1]))) }
}

/// The most fds one message of [`send_fds`] carries.
pub const MAX_FDS: usize = 16;

/// Room for a control message of [`MAX_FDS`] ints, well aligned.
type Control = [u64; 16];

/// Sends `fds` over the Unix socket `socket` in one message
/// (`SCM_RIGHTS`), with one byte.
pub fn send_fds(socket: RawFd, fds: &[RawFd]) -> io::Result<()> {
    if fds.is_empty() || fds.len() > MAX_FDS {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    let bytes = size_of_val(fds) as u32;
    let mut byte = [0u8; 1];
    let mut iov =
        libc::iovec { iov_base: byte.as_mut_ptr().cast(), iov_len: 1 };
    let mut control: Control = [0; 16];
    // SAFETY: msghdr is plain old data; all zeroes is a valid value.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    // SAFETY: CMSG_SPACE only computes a size.
    msg.msg_controllen = unsafe { libc::CMSG_SPACE(bytes) } as usize;
    // SAFETY: the control buffer (128 bytes) is larger than
    // CMSG_SPACE of MAX_FDS ints and aligned; CMSG_FIRSTHDR and
    // CMSG_DATA stay within it, and `fds` fits after the header.
    unsafe {
        let header = libc::CMSG_FIRSTHDR(&msg);
        (*header).cmsg_level = libc::SOL_SOCKET;
        (*header).cmsg_type = libc::SCM_RIGHTS;
        (*header).cmsg_len = libc::CMSG_LEN(bytes) as usize;
        let data = libc::CMSG_DATA(header).cast::<libc::c_int>();
        for (i, fd) in fds.iter().enumerate() {
            std::ptr::write_unaligned(data.add(i), *fd);
        }
    }
    // SAFETY: `msg` points at the iovec and control buffer above, which
    // outlive the call.
    let ret = unsafe { libc::sendmsg(socket, &msg, libc::MSG_NOSIGNAL) };
    check(ret as libc::c_long).map(drop)
}

/// Receives the fds of one message sent by [`send_fds`] on `socket`;
/// `None` when the other end closed without sending any.
pub fn recv_fds(socket: BorrowedFd<'_>) -> io::Result<Option<Vec<OwnedFd>>> {
    let mut byte = [0u8; 1];
    let mut iov =
        libc::iovec { iov_base: byte.as_mut_ptr().cast(), iov_len: 1 };
    let mut control: Control = [0; 16];
    // SAFETY: msghdr is plain old data; all zeroes is a valid value.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = size_of::<Control>();
    let received = loop {
        // SAFETY: `msg` points at the iovec and control buffer above,
        // which outlive the call.
        let ret = unsafe {
            libc::recvmsg(socket.as_raw_fd(), &mut msg, libc::MSG_CMSG_CLOEXEC)
        };
        match check(ret as libc::c_long) {
            Ok(n) => break n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    };
    if received == 0 {
        return Ok(None);
    }
    let mut fds = Vec::new();
    // SAFETY: the kernel filled `msg`; CMSG_FIRSTHDR and CMSG_DATA stay
    // within the control buffer it describes, and the ints read lie
    // within the message's length. Each fd received is new and owned
    // by nothing else.
    unsafe {
        let header = libc::CMSG_FIRSTHDR(&msg);
        if header.is_null()
            || (*header).cmsg_level != libc::SOL_SOCKET
            || (*header).cmsg_type != libc::SCM_RIGHTS
        {
            return Ok(Some(fds));
        }
        let data_len =
            (*header).cmsg_len.saturating_sub(libc::CMSG_LEN(0) as usize);
        let count = data_len / size_of::<libc::c_int>();
        let data = libc::CMSG_DATA(header).cast::<libc::c_int>();
        for i in 0..count.min(MAX_FDS) {
            let fd = std::ptr::read_unaligned(data.add(i));
            fds.push(OwnedFd::from_raw_fd(fd));
        }
    }
    Ok(Some(fds))
}

/// `close(2)`, for fds held as raw numbers across `fork`.
pub fn close(fd: RawFd) {
    // SAFETY: the callers own `fd` and use it no more.
    unsafe { libc::close(fd) };
}

/// `setrlimit(2)` with the same soft and hard value.
pub fn setrlimit(
    resource: libc::__rlimit_resource_t,
    value: u64,
) -> io::Result<()> {
    let limit = libc::rlimit { rlim_cur: value, rlim_max: value };
    // SAFETY: `limit` is a valid rlimit that outlives the call.
    check_int(unsafe { libc::setrlimit(resource, &limit) }).map(drop)
}

/// A set of signals.
#[derive(Clone, Copy)]
pub struct SigSet(libc::sigset_t);

impl std::fmt::Debug for SigSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigSet")
    }
}

impl SigSet {
    /// The set of the given signals.
    pub fn of(signals: &[libc::c_int]) -> SigSet {
        // SAFETY: sigemptyset initialises the set before sigaddset uses
        // it; the signal numbers are valid.
        unsafe {
            let mut set = std::mem::zeroed::<libc::sigset_t>();
            libc::sigemptyset(&mut set);
            for &signal in signals {
                libc::sigaddset(&mut set, signal);
            }
            SigSet(set)
        }
    }
}

/// Blocks `set` and returns the mask that was in force.
pub fn block_signals(set: &SigSet) -> io::Result<SigSet> {
    let mut old = SigSet::of(&[]);
    // SAFETY: both sets are valid, initialised sigset_t values.
    let ret =
        unsafe { libc::sigprocmask(libc::SIG_BLOCK, &set.0, &mut old.0) };
    check_int(ret)?;
    Ok(old)
}

/// Sets the signal mask to `set`.
pub fn set_signal_mask(set: &SigSet) -> io::Result<()> {
    // SAFETY: `set` is a valid, initialised sigset_t.
    let ret = unsafe {
        libc::sigprocmask(libc::SIG_SETMASK, &set.0, ptr::null_mut())
    };
    check_int(ret).map(drop)
}

/// Resets the disposition of `signal` to the default.
pub fn default_signal(signal: libc::c_int) -> io::Result<()> {
    // SAFETY: SIG_DFL is a valid disposition for any catchable signal.
    let old = unsafe { libc::signal(signal, libc::SIG_DFL) };
    if old == libc::SIG_ERR { Err(io::Error::last_os_error()) } else { Ok(()) }
}

/// Ignores `signal`; the disposition stays ignored across exec.
pub fn ignore_signal(signal: libc::c_int) -> io::Result<()> {
    // SAFETY: SIG_IGN is a valid disposition for any catchable signal.
    let old = unsafe { libc::signal(signal, libc::SIG_IGN) };
    if old == libc::SIG_ERR { Err(io::Error::last_os_error()) } else { Ok(()) }
}

/// A signal taken from the pending set: its number and `si_code`.
#[derive(Clone, Copy, Debug)]
pub struct Received {
    /// The signal number.
    pub signal: libc::c_int,
    /// How it was sent: [`SI_USER`] for `kill(2)`.
    pub code: libc::c_int,
}

/// Waits for one of the blocked signals in `set`, for at most `timeout`
/// when given; `None` when the time ran out or a stop interrupted.
pub fn wait_signal(
    set: &SigSet,
    timeout: Option<Duration>,
) -> io::Result<Option<Received>> {
    // SAFETY: siginfo_t is plain old data; all zeroes is valid.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    let ret = match timeout {
        Some(timeout) => {
            let ts = libc::timespec {
                tv_sec: timeout.as_secs().min(i64::MAX as u64) as i64,
                tv_nsec: timeout.subsec_nanos().into(),
            };
            // SAFETY: the set, the siginfo and the timespec are valid
            // and outlive the call.
            unsafe { libc::sigtimedwait(&set.0, &mut info, &ts) }
        }
        // SAFETY: the set and the siginfo are valid and outlive the call.
        None => unsafe { libc::sigwaitinfo(&set.0, &mut info) },
    };
    match check_int(ret) {
        Ok(signal) => Ok(Some(Received { signal, code: info.si_code })),
        Err(err)
            if matches!(
                err.raw_os_error(),
                Some(libc::EAGAIN | libc::EINTR)
            ) =>
        {
            Ok(None)
        }
        Err(err) => Err(err),
    }
}

/// `waitpid(2)`: the pid and raw status of a child that ended, or `None`
/// when `nohang` and none has.
pub fn waitpid(
    pid: libc::pid_t,
    nohang: bool,
) -> io::Result<Option<(libc::pid_t, i32)>> {
    let flags = if nohang { libc::WNOHANG } else { 0 };
    waitpid_flags(pid, flags)
}

/// `waitpid(2)` with `flags`.
pub fn waitpid_flags(
    pid: libc::pid_t,
    flags: libc::c_int,
) -> io::Result<Option<(libc::pid_t, i32)>> {
    let mut status = 0;
    loop {
        // SAFETY: `status` is a valid int the call writes to.
        let ret = unsafe { libc::waitpid(pid, &mut status, flags) };
        match check_int(ret) {
            Ok(0) => return Ok(None),
            Ok(pid) => return Ok(Some((pid, status))),
            Err(err) if err.raw_os_error() == Some(libc::EINTR) => {}
            Err(err) => return Err(err),
        }
    }
}

/// `kill(2)`.
pub fn kill(pid: libc::pid_t, signal: libc::c_int) -> io::Result<()> {
    // SAFETY: kill takes plain integers.
    check_int(unsafe { libc::kill(pid, signal) }).map(drop)
}

/// `execve(2)`; returns only on failure.
pub fn execve(
    path: &CStr,
    argv: &[*const libc::c_char],
    envp: &[*const libc::c_char],
) -> io::Error {
    // SAFETY: `argv` and `envp` are NULL-terminated arrays of pointers
    // to NUL-terminated strings that outlive the call (the caller keeps
    // the CStrings alive).
    unsafe { libc::execve(path.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
    io::Error::last_os_error()
}

/// Pointers to `strings` followed by a NULL, for `execve(2)`.
pub fn pointer_array(strings: &[CString]) -> Vec<*const libc::c_char> {
    strings.iter().map(|s| s.as_ptr()).chain([ptr::null()]).collect()
}

/// `_exit(2)`: ends the process at once, running no destructor.
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit has no preconditions.
    unsafe { libc::_exit(code) }
}

/// Whether `fd` is a terminal.
pub fn isatty(fd: RawFd) -> bool {
    // SAFETY: isatty takes a plain integer.
    unsafe { libc::isatty(fd) == 1 }
}

/// `tcgetpgrp(3)`.
pub fn tcgetpgrp(fd: RawFd) -> io::Result<libc::pid_t> {
    // SAFETY: tcgetpgrp takes a plain integer.
    check_int(unsafe { libc::tcgetpgrp(fd) })
}

/// `tcsetpgrp(3)`.
pub fn tcsetpgrp(fd: RawFd, pgrp: libc::pid_t) -> io::Result<()> {
    // SAFETY: tcsetpgrp takes plain integers.
    check_int(unsafe { libc::tcsetpgrp(fd, pgrp) }).map(drop)
}

/// `getpgrp(2)`.
pub fn getpgrp() -> libc::pid_t {
    // SAFETY: getpgrp cannot fail.
    unsafe { libc::getpgrp() }
}

/// `setpgid(0, 0)`: this process leads a new process group.
pub fn new_process_group() -> io::Result<()> {
    // SAFETY: setpgid takes plain integers.
    check_int(unsafe { libc::setpgid(0, 0) }).map(drop)
}

/// `setpgid(pid, pid)`: the child `pid` leads a new process group.
pub fn set_process_group(pid: libc::pid_t) -> io::Result<()> {
    // SAFETY: setpgid takes plain integers.
    check_int(unsafe { libc::setpgid(pid, pid) }).map(drop)
}

/// `getpid(2)`.
pub fn getpid() -> libc::pid_t {
    // SAFETY: getpid cannot fail.
    unsafe { libc::getpid() }
}

/// The real user and group ids.
pub fn ids() -> (u32, u32) {
    // SAFETY: getuid and getgid cannot fail.
    unsafe { (libc::getuid(), libc::getgid()) }
}

/// The Landlock ABI version of the running kernel, 0 when Landlock is
/// missing or disabled.
pub fn landlock_abi() -> i32 {
    // SAFETY: a null attribute with size 0 and the VERSION flag only
    // asks for the version.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            ptr::null::<libc::c_void>(),
            0usize,
            LANDLOCK_CREATE_RULESET_VERSION,
        )
    };
    if ret < 0 { 0 } else { ret as i32 }
}

/// Makes a raw system call with up to three arguments, for tests that
/// check what the seccomp filter lets through: `Ok(return value)` or
/// `Err(errno)`.
#[cfg(test)]
pub fn raw_syscall(nr: libc::c_long, args: [u64; 3]) -> Result<i64, i32> {
    // SAFETY: the tests only pass calls that either fail or have no
    // effect on memory this process relies on.
    let ret = unsafe { libc::syscall(nr, args[0], args[1], args[2]) };
    if ret == -1 {
        Err(io::Error::last_os_error().raw_os_error().unwrap_or(0))
    } else {
        Ok(ret)
    }
}
