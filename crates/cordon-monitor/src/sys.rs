//! Thin wrappers over the system calls the monitor makes: the only
//! module with `unsafe`. Each checks its return value and turns `errno`
//! into an [`io::Error`].

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// The size of a page, for reading another process's memory a page at a
/// time.
const PAGE: usize = 4096;

/// Turns a `-1` return into the thread's `errno`.
fn check(ret: libc::c_long) -> io::Result<libc::c_long> {
    if ret == -1 { Err(io::Error::last_os_error()) } else { Ok(ret) }
}

/// One seccomp notification: its id, the process (in cordon's pid
/// namespace) and the system call.
#[derive(Clone, Copy, Debug)]
pub struct Notification {
    /// The notification's id, to answer it.
    pub id: u64,
    /// The calling thread's id, as cordon sees it.
    pub pid: u32,
    /// The system call's number.
    pub nr: i64,
    /// Its six arguments.
    pub args: [u64; 6],
}

/// Receives one fd sent with `SCM_RIGHTS` on `socket`; `None` when the
/// other end closed without sending one.
pub fn recv_fd(socket: BorrowedFd<'_>) -> io::Result<Option<OwnedFd>> {
    let mut byte = [0u8; 1];
    let mut iov =
        libc::iovec { iov_base: byte.as_mut_ptr().cast(), iov_len: 1 };
    // Room for one control message holding one int, well aligned.
    let mut control = [0u64; 8];
    // SAFETY: msghdr is plain old data; all zeroes is a valid value.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = size_of_val(&control);
    loop {
        // SAFETY: `msg` points at the iovec and control buffer above,
        // which outlive the call.
        let ret = unsafe {
            libc::recvmsg(socket.as_raw_fd(), &mut msg, libc::MSG_CMSG_CLOEXEC)
        };
        match check(ret as libc::c_long) {
            Ok(_) => break,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
    // SAFETY: the kernel filled `msg`; CMSG_FIRSTHDR and CMSG_DATA stay
    // within the control buffer it describes, and an SCM_RIGHTS message
    // of that length holds at least one int.
    unsafe {
        let header = libc::CMSG_FIRSTHDR(&msg);
        if header.is_null()
            || (*header).cmsg_level != libc::SOL_SOCKET
            || (*header).cmsg_type != libc::SCM_RIGHTS
            || (*header).cmsg_len < libc::CMSG_LEN(4) as usize
        {
            return Ok(None);
        }
        let fd = std::ptr::read_unaligned(
            libc::CMSG_DATA(header).cast::<libc::c_int>(),
        );
        Ok(Some(OwnedFd::from_raw_fd(fd)))
    }
}

/// Sends `fd` over the Unix socket `socket` with `SCM_RIGHTS`, along
/// with one byte.
pub fn send_fd(socket: RawFd, fd: RawFd) -> io::Result<()> {
    let mut byte = [0u8; 1];
    let mut iov =
        libc::iovec { iov_base: byte.as_mut_ptr().cast(), iov_len: 1 };
    let mut control = [0u64; 8];
    // SAFETY: msghdr is plain old data; all zeroes is a valid value.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    // SAFETY: CMSG_SPACE only computes a size.
    msg.msg_controllen = unsafe { libc::CMSG_SPACE(4) } as usize;
    // SAFETY: the control buffer is larger than CMSG_SPACE(4) and
    // aligned; CMSG_FIRSTHDR and CMSG_DATA stay within it.
    unsafe {
        let header = libc::CMSG_FIRSTHDR(&msg);
        (*header).cmsg_level = libc::SOL_SOCKET;
        (*header).cmsg_type = libc::SCM_RIGHTS;
        (*header).cmsg_len = libc::CMSG_LEN(4) as usize;
        std::ptr::write_unaligned(libc::CMSG_DATA(header).cast(), fd);
    }
    // SAFETY: `msg` points at the iovec and control buffer above, which
    // outlive the call.
    let ret = unsafe { libc::sendmsg(socket, &msg, libc::MSG_NOSIGNAL) };
    check(ret as libc::c_long).map(drop)
}

/// Waits up to `timeout_ms` for `fd` to be readable: `Ok(true)` when it
/// is, `Ok(false)` on timeout, and an error of kind `BrokenPipe` when
/// the other side is gone (`POLLHUP`).
pub fn poll_readable(fd: BorrowedFd<'_>, timeout_ms: i32) -> io::Result<bool> {
    let mut pfd =
        libc::pollfd { fd: fd.as_raw_fd(), events: libc::POLLIN, revents: 0 };
    // SAFETY: one valid pollfd that outlives the call.
    let ret = unsafe { libc::poll(&mut pfd, 1, timeout_ms) };
    match check(ret as libc::c_long) {
        Ok(0) => Ok(false),
        Ok(_) if pfd.revents & libc::POLLIN != 0 => Ok(true),
        Ok(_) => Err(io::Error::from(io::ErrorKind::BrokenPipe)),
        Err(err) if err.kind() == io::ErrorKind::Interrupted => Ok(false),
        Err(err) => Err(err),
    }
}

/// Waits up to `timeout_ms` for `fd` to be readable or `wake` to be
/// readable or hung up: whether each is.
pub fn poll_two(
    fd: BorrowedFd<'_>,
    wake: BorrowedFd<'_>,
    timeout_ms: i32,
) -> io::Result<(bool, bool)> {
    let pollfd = |fd: BorrowedFd<'_>| libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    let mut fds = [pollfd(fd), pollfd(wake)];
    // SAFETY: two valid pollfds that outlive the call.
    let ret = unsafe { libc::poll(fds.as_mut_ptr(), 2, timeout_ms) };
    match check(ret as libc::c_long) {
        Ok(_) => Ok((fds[0].revents != 0, fds[1].revents != 0)),
        Err(err) if err.kind() == io::ErrorKind::Interrupted => {
            Ok((false, false))
        }
        Err(err) => Err(err),
    }
}

/// `SECCOMP_IOCTL_NOTIF_RECV`: the next notification of `listener`.
pub fn notif_recv(listener: BorrowedFd<'_>) -> io::Result<Notification> {
    // SAFETY: seccomp_notif is plain old data, and the kernel wants it
    // zeroed.
    let mut notif: libc::seccomp_notif = unsafe { std::mem::zeroed() };
    // SAFETY: `notif` is a valid, zeroed seccomp_notif the ioctl fills.
    let ret = unsafe {
        libc::ioctl(
            listener.as_raw_fd(),
            libc::SECCOMP_IOCTL_NOTIF_RECV,
            &mut notif as *mut libc::seccomp_notif,
        )
    };
    check(ret as libc::c_long)?;
    Ok(Notification {
        id: notif.id,
        pid: notif.pid,
        nr: i64::from(notif.data.nr),
        args: notif.data.args,
    })
}

/// `SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP` (Linux 6.6): the kernel hands
/// the CPU straight from the caller to the supervisor and back.
const SYNC_WAKE_UP: u64 = 1;

/// Asks for synchronous wake-ups on `listener`, which halve the cost of
/// a notification where the kernel has them; an older kernel refuses,
/// and the monitor works the same, only slower.
pub fn notif_sync_wake_up(listener: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: the ioctl takes its flags by value.
    let ret = unsafe {
        libc::ioctl(
            listener.as_raw_fd(),
            libc::SECCOMP_IOCTL_NOTIF_SET_FLAGS,
            SYNC_WAKE_UP,
        )
    };
    check(ret as libc::c_long).map(drop)
}

/// `SECCOMP_IOCTL_NOTIF_ID_VALID`: whether the notification `id` is
/// still pending, so that what was read for it belongs to it.
pub fn notif_id_valid(listener: BorrowedFd<'_>, id: u64) -> bool {
    // SAFETY: the ioctl reads one u64 that outlives the call.
    let ret = unsafe {
        libc::ioctl(
            listener.as_raw_fd(),
            libc::SECCOMP_IOCTL_NOTIF_ID_VALID,
            &id as *const u64,
        )
    };
    ret == 0
}

/// Answers the notification `id` with `SECCOMP_USER_NOTIF_FLAG_CONTINUE`:
/// the kernel carries on with the call as if there were no filter.
pub fn notif_continue(listener: BorrowedFd<'_>, id: u64) -> io::Result<()> {
    let mut resp = libc::seccomp_notif_resp {
        id,
        val: 0,
        error: 0,
        flags: libc::SECCOMP_USER_NOTIF_FLAG_CONTINUE as u32,
    };
    // SAFETY: `resp` is a valid seccomp_notif_resp that outlives the
    // call.
    let ret = unsafe {
        libc::ioctl(
            listener.as_raw_fd(),
            libc::SECCOMP_IOCTL_NOTIF_SEND,
            &mut resp as *mut libc::seccomp_notif_resp,
        )
    };
    check(ret as libc::c_long).map(drop)
}

/// Reads up to `buf.len()` bytes at `address` in process `pid`; returns
/// how many were read (fewer at an unmapped page).
pub fn read_memory(
    pid: u32,
    address: u64,
    buf: &mut [u8],
) -> io::Result<usize> {
    let local =
        libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: buf.len() };
    let remote = libc::iovec {
        iov_base: address as usize as *mut libc::c_void,
        iov_len: buf.len(),
    };
    // SAFETY: the local iovec describes `buf`, which outlives the call;
    // the remote one is only read by the kernel, in the other process,
    // with its own checks.
    let ret = unsafe {
        libc::process_vm_readv(pid as libc::pid_t, &local, 1, &remote, 1, 0)
    };
    check(ret as libc::c_long).map(|n| n as usize)
}

/// Reads a NUL-terminated string of at most `max` bytes at `address` in
/// process `pid`, a page at a time so that a string ending near an
/// unmapped page is still read; without the NUL.
pub fn read_c_string(
    pid: u32,
    address: u64,
    max: usize,
) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut at = address;
    let mut page = [0u8; PAGE];
    while out.len() < max {
        let room = PAGE - (at as usize % PAGE);
        let chunk = &mut page[..room.min(max - out.len())];
        let n = read_memory(pid, at, chunk)?;
        if n == 0 {
            break;
        }
        if let Some(end) = chunk[..n].iter().position(|&b| b == 0) {
            out.extend_from_slice(&chunk[..end]);
            return Ok(out);
        }
        out.extend_from_slice(&chunk[..n]);
        at += n as u64;
    }
    Ok(out)
}

/// The type of socket `fd` of process `pid` (`SOCK_STREAM`, ...), read
/// through a copy of the fd taken with `pidfd_getfd`.
pub fn socket_type(pid: u32, fd: i32) -> io::Result<i32> {
    // SAFETY: pidfd_open takes plain integers.
    let pidfd = check(unsafe {
        libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0)
    })?;
    // SAFETY: pidfd_open returned a new fd that nothing else owns.
    let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd as i32) };
    // SAFETY: pidfd_getfd takes plain integers.
    let copy = check(unsafe {
        libc::syscall(libc::SYS_pidfd_getfd, pidfd.as_raw_fd(), fd, 0)
    })?;
    // SAFETY: pidfd_getfd returned a new fd that nothing else owns.
    let copy = unsafe { OwnedFd::from_raw_fd(copy as i32) };
    let mut kind: libc::c_int = 0;
    let mut len = size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `kind` and `len` are valid for the option's size.
    let ret = unsafe {
        libc::getsockopt(
            copy.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_TYPE,
            (&mut kind as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    check(ret as libc::c_long)?;
    Ok(kind)
}

/// `kill(2)`.
pub fn kill(pid: libc::pid_t, signal: libc::c_int) -> io::Result<()> {
    // SAFETY: kill takes plain integers.
    check(unsafe { libc::kill(pid, signal) } as libc::c_long).map(drop)
}
