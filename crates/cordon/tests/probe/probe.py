#!/usr/bin/env python3
"""An escape probe for `cordon run`: tries to get out, reports how it went.

Run it inside the sandbox:

    python3 probe.py [OPTIONS] [CHECK...]

It prints one JSON object, one entry per attempt:

    {"tcp_loopback": {"escaped": false, "detail": "ECONNREFUSED"}, ...}

`escaped` is true when the attempt got something the sandbox promises to
withhold, false when it was refused, and null when the probe itself
failed (a bug in the probe, with the traceback in `error`). Some entries
carry extra fields (`count`, `reached_mib`, `bit_held`...).

Every attempt is harmless even when it succeeds: files are created only
at paths the caller names, the only signals sent to a foreign process
are 0 and SIGCONT, sysrq gets `h` (help), files under /sys are opened
and closed without a write, and every loop, wait and allocation is
bounded. Standard library and ctypes only; x86_64 syscall numbers.

CHECK names a single attempt or a group: `escape` (the default: every
attempt below except the resource ones), `fork`, `memory`, `spin`.
"""

import argparse
import ctypes
import errno
import fcntl
import json
import os
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import termios
import time
import traceback

LIBC = ctypes.CDLL(None, use_errno=True)
LIBC.syscall.restype = ctypes.c_long

# x86_64 syscall numbers.
SYS_PERSONALITY = 135
SYS_PTRACE = 101
SYS_ADD_KEY = 248
SYS_KEYCTL = 250
SYS_UNSHARE = 272
SYS_PERF_EVENT_OPEN = 298
SYS_SETNS = 308
SYS_PROCESS_VM_READV = 310
SYS_BPF = 321
SYS_USERFAULTFD = 323
SYS_IO_URING_SETUP = 425
SYS_CLONE3 = 435
SYS_GETPID = 39
SYS_IOCTL = 16
SYS_CLONE = 56
X32_SYSCALL_BIT = 0x40000000

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
PTRACE_ATTACH = 16
PTRACE_DETACH = 17
READ_IMPLIES_EXEC = 0x0400000
UFFD_USER_MODE_ONLY = 1
SIGCHLD = 17
MNT_DETACH = 2

# Refusals that mean a policy (seccomp, capabilities, LSM) said no.
REFUSED = {errno.EPERM, errno.EACCES, errno.ENOSYS}


def result(escaped, detail, **extra):
    entry = {"escaped": escaped, "detail": detail}
    entry.update(extra)
    return entry


def err_name(code):
    return errno.errorcode.get(code, str(code))


def syscall(number, *args):
    """Calls a raw syscall; returns (value, errno name or None)."""
    ctypes.set_errno(0)
    value = LIBC.syscall(ctypes.c_long(number), *args)
    if value == -1:
        return value, err_name(ctypes.get_errno())
    return value, None


def policy_refused(name):
    return name in {err_name(e) for e in REFUSED}


def in_child(function, timeout=10.0):
    """Runs `function` in a forked child, so that whatever it changes
    (namespaces, personality, mounts) or whatever kills it stays there.
    Returns its result, or a not-escaped entry saying how it died."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        try:
            payload = json.dumps(function())
        except BaseException as error:  # noqa: BLE001 - reported
            payload = json.dumps(result(None, "probe error",
                                        error=repr(error)))
        os.write(write_end, payload.encode())
        os._exit(0)
    os.close(write_end)
    deadline = time.monotonic() + timeout
    status = None
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.01)
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(read_end)
        return result(None, "probe child did not finish")
    with os.fdopen(read_end, "rb") as pipe:
        data = pipe.read()
    if data:
        return json.loads(data)
    if os.WIFSIGNALED(status):
        sig = signal.Signals(os.WTERMSIG(status)).name
        return result(False, f"killed by {sig}")
    return result(False, f"exited {os.WEXITSTATUS(status)} silently")


# --- files ---------------------------------------------------------------


def try_write(path, canary=None, exclusive=True):
    """Creates `path` and reports whether that reached the host: the
    write succeeded and `canary`, a file the caller made beside it on
    the host, is visible (so this is the host's directory, not a private
    tmpfs over it). Through a symbolic link, `exclusive` must be off:
    O_EXCL refuses any link."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else 0)
    try:
        fd = os.open(path, flags, 0o644)
    except OSError as error:
        return result(False, err_name(error.errno))
    os.write(fd, b"written by the cordon escape probe\n")
    os.close(fd)
    if canary is None:
        return result(True, f"created {path}")
    if os.path.exists(canary):
        return result(True, f"created {path} beside the host's canary")
    return result(False, "created in a private view (host canary absent)")


def try_read_secret(path):
    """Reads `path`; never reports what it read, only how much."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(4096)
    except OSError as error:
        return result(False, err_name(error.errno))
    if data:
        return result(True, f"read {len(data)} bytes")
    return result(False, "empty file (a private view)")


def check_write_host_tmp(args):
    if not args.host_tmp:
        return result(False, "not asked (no --host-tmp)")
    return try_write(args.host_tmp, args.host_tmp_canary)


def check_write_real_home(args):
    if not args.real_home_file:
        return result(False, "not asked (no --real-home-file)")
    return try_write(args.real_home_file, args.real_home_canary)


def check_write_host_shm(args):
    if not args.host_shm:
        return result(False, "not asked (no --host-shm)")
    return try_write(args.host_shm, args.host_shm_canary)


def check_write_etc(args):
    if not args.etc_file:
        return result(False, "not asked (no --etc-file)")
    return try_write(args.etc_file)


def check_read_secret(args):
    if not args.secret:
        return result(False, "not asked (no --secret)")
    return try_read_secret(args.secret)


def check_read_home_ssh(_args):
    home = os.environ.get("HOME", "/")
    return try_read_secret(os.path.join(home, ".ssh", "id_rsa"))


def workspace(args):
    return args.workspace or os.getcwd()


def make_link(name, target, args):
    link = os.path.join(workspace(args), name)
    if os.path.lexists(link):
        os.unlink(link)
    os.symlink(target, link)
    return link


def check_symlink_read(args):
    if not args.secret:
        return result(False, "not asked (no --secret)")
    link = make_link("probe-link-secret", args.secret, args)
    return try_read_secret(link)


def check_symlink_write(args):
    entries = []
    if args.etc_file:
        target = args.etc_file + ".link"
        link = make_link("probe-link-etc", target, args)
        entries.append(("etc", try_write(link, exclusive=False)))
    if args.host_tmp:
        target = args.host_tmp + ".link"
        link = make_link("probe-link-tmp", target, args)
        written = try_write(link, args.host_tmp_canary, exclusive=False)
        entries.append(("tmp", written))
    if not entries:
        return result(False, "not asked (no --etc-file nor --host-tmp)")
    escaped = any(entry["escaped"] for _, entry in entries)
    detail = "; ".join(f"{name}: {e['detail']}" for name, e in entries)
    return result(escaped, detail)


def check_outside_file(args):
    """A regular file outside the workspace that anyone on the host may
    write: first directly, then through a hard link made in the
    workspace (which must not carry write access out of it)."""
    if not args.outside_file:
        return result(False, "not asked (no --outside-file)")
    try:
        with open(args.outside_file, "r+b") as handle:
            handle.write(b"written directly by the cordon probe\n")
        return result(True, "wrote the file directly")
    except OSError as error:
        direct = f"direct: {err_name(error.errno)}"
    link = os.path.join(workspace(args), "probe-hardlink")
    try:
        os.link(args.outside_file, link)
    except OSError as error:
        return result(False, f"{direct}; link: {err_name(error.errno)}")
    try:
        with open(link, "r+b") as handle:
            handle.write(b"written through a hard link\n")
        return result(True, f"{direct}; wrote through a hard link")
    except OSError as error:
        return result(False, f"{direct}; linked, write {error}")


def check_file_caps(args):
    """File capabilities on a file in the workspace (an empty,
    non-executable one): they need CAP_SETFCAP, which is gone."""
    path = os.path.join(workspace(args), "probe-file-caps")
    with open(path, "wb"):
        pass
    # VFS_CAP_REVISION_2, effective, CAP_SETUID permitted.
    blob = struct.pack("<IIIII", 0x02000001, 1 << 7, 0, 0, 0)
    try:
        os.setxattr(path, "security.capability", blob)
    except OSError as error:
        return result(False, err_name(error.errno))
    return result(True, "set security.capability")


def check_sysrq(_args):
    try:
        fd = os.open("/proc/sysrq-trigger", os.O_WRONLY)
    except OSError as error:
        return result(False, err_name(error.errno))
    try:
        os.write(fd, b"h")  # help: prints the key list to the kernel log
        return result(True, "opened /proc/sysrq-trigger and wrote h")
    except OSError as error:
        return result(True, f"opened for writing; write {error}")
    finally:
        os.close(fd)


SYS_FILES = [
    "/sys/kernel/mm/transparent_hugepage/enabled",
    "/sys/fs/cgroup/pids/cgroup.procs",
    "/sys/fs/cgroup/memory/cgroup.procs",
    "/sys/fs/cgroup/cgroup.procs",
    "/sys/fs/cgroup/unified/cgroup.procs",
]


def check_sys_write(_args):
    opened, refused = [], []
    for path in SYS_FILES:
        try:
            fd = os.open(path, os.O_WRONLY)
        except OSError as error:
            refused.append(f"{path}: {err_name(error.errno)}")
            continue
        os.close(fd)  # nothing written
        opened.append(path)
    if opened:
        return result(True, "opened for writing: " + ", ".join(opened))
    return result(False, "; ".join(refused))


def mount_flags(path):
    """The options of the mount that holds `path`, from mountinfo."""
    best, options = "", ""
    with open("/proc/self/mountinfo") as handle:
        for line in handle:
            fields = line.split()
            point = fields[4].replace("\\040", " ")
            inside = path == point or path.startswith(point.rstrip("/") + "/")
            if inside and len(point) >= len(best):
                best, options = point, fields[5]
    return options.split(",")


def check_setuid_workspace(args):
    copy = os.path.join(workspace(args), "probe-suid-id")
    try:
        if os.path.lexists(copy):
            os.unlink(copy)
        shutil.copy("/usr/bin/id", copy)
    except OSError as error:
        return result(False, f"cannot copy id: {err_name(error.errno)}")
    try:
        os.chmod(copy, 0o4755)
        chmod = "chmod 4755 allowed"
    except OSError as error:
        chmod = f"chmod 4755 {err_name(error.errno)}"
    held = bool(os.stat(copy).st_mode & stat.S_ISUID)
    nosuid = "nosuid" in mount_flags(os.path.realpath(workspace(args)))
    ran = subprocess.run([copy, "-u"], capture_output=True, timeout=10,
                         text=True, check=False)
    euid = int(ran.stdout.strip()) if ran.stdout.strip() else None
    escaped = euid is not None and euid != os.geteuid()
    detail = (f"{chmod}; bit held: {held}; workspace nosuid: {nosuid};"
              f" euid {os.geteuid()} -> {euid}")
    return result(escaped, detail, bit_held=held, nosuid=nosuid)


# --- privileges ----------------------------------------------------------


def status_fields():
    fields = {}
    with open("/proc/self/status") as handle:
        for line in handle:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


def check_no_new_privs(_args):
    value = status_fields().get("NoNewPrivs")
    return result(value != "1", f"NoNewPrivs: {value}")


def check_capabilities(_args):
    fields = status_fields()
    names = ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"]
    held = {n: fields.get(n) for n in names if int(fields.get(n, "0"), 16)}
    detail = ", ".join(f"{n}={fields.get(n)}" for n in names)
    return result(bool(held), detail)


def effective_uid(pid):
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("Uid:"):
                    return int(line.split()[2])
    except OSError:
        return None
    return None


def check_setuid_exec(_args):
    """Runs the setuid-root `passwd` (it waits for a password on a pipe
    that never sends one) and watches its effective uid."""
    if os.geteuid() == 0:
        return result(False, "already uid 0 in the sandbox: nothing to gain")
    binary = next((b for b in ("/usr/bin/passwd", "/usr/bin/su")
                   if os.path.exists(b)), None)
    if binary is None:
        return result(False, "no setuid binary to try")
    child = subprocess.Popen([binary], stdin=subprocess.PIPE,
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    seen = set()
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline and child.poll() is None:
        uid = effective_uid(child.pid)
        if uid is not None:
            seen.add(uid)
        time.sleep(0.005)
    child.kill()  # our own child
    child.wait()
    escaped = 0 in seen
    return result(escaped, f"{binary} ran with effective uids {sorted(seen)}")


# --- network -------------------------------------------------------------


def check_tcp_loopback(args):
    if not args.tcp_port:
        return result(False, "not asked (no --tcp-port)")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(2)
    try:
        sock.connect(("127.0.0.1", args.tcp_port))
        sock.sendall(b"cordon probe\n")
        return result(True, f"connected to 127.0.0.1:{args.tcp_port}")
    except OSError as error:
        return result(False, err_name(error.errno) if error.errno
                      else str(error))
    finally:
        sock.close()


def check_udp_loopback(args):
    """A datagram cannot say whether it arrived: the test checks its
    listener; here a reply would be the proof."""
    if not args.udp_port:
        return result(False, "not asked (no --udp-port)")
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(0.3)
    try:
        sock.sendto(b"cordon probe\n", ("127.0.0.1", args.udp_port))
        sock.recvfrom(64)
        return result(True, "the host listener answered")
    except OSError as error:
        name = err_name(error.errno) if error.errno else "no answer"
        return result(False, f"{name} (the test checks its listener)")
    finally:
        sock.close()


def check_raw_socket(_args):
    try:
        socket.socket(socket.AF_INET, socket.SOCK_RAW,
                      socket.IPPROTO_ICMP).close()
        return result(True, "AF_INET SOCK_RAW created")
    except OSError as error:
        return result(False, err_name(error.errno))


def check_packet_socket(_args):
    try:
        socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                      socket.htons(0x0003)).close()
        return result(True, "AF_PACKET created")
    except OSError as error:
        return result(False, err_name(error.errno))


def check_net_interfaces(_args):
    names = [name for _, name in socket.if_nameindex()]
    return result(names not in ([], ["lo"]), "interfaces: " + ",".join(names))


def unix_socket():
    """A unix stream socket; some sandboxes refuse to make one at all."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(2)
    return sock


def check_abstract_unix(args):
    if not args.abstract:
        return result(False, "not asked (no --abstract)")
    try:
        sock = unix_socket()
    except OSError as error:
        return result(False, f"socket(AF_UNIX): {err_name(error.errno)}")
    try:
        sock.connect("\0" + args.abstract)
        return result(True, f"connected to @{args.abstract}")
    except OSError as error:
        return result(False, err_name(error.errno) if error.errno
                      else str(error))
    finally:
        sock.close()


def check_pathname_unix(args):
    """A socket file outside the workspace: neither the network
    namespace nor a read-only mount stops a connect to it."""
    if not args.unix_path:
        return result(False, "not asked (no --unix-path)")
    try:
        sock = unix_socket()
    except OSError as error:
        return result(False, f"socket(AF_UNIX): {err_name(error.errno)}")
    try:
        sock.connect(args.unix_path)
        return result(True, f"connected to {args.unix_path}")
    except OSError as error:
        return result(False, err_name(error.errno) if error.errno
                      else str(error))
    finally:
        sock.close()


def check_host_fifo(args):
    """A named pipe outside the workspace, with the test at the reading
    end: a read-only mount does not stop opening a FIFO for writing."""
    if not args.fifo:
        return result(False, "not asked (no --fifo)")
    try:
        fd = os.open(args.fifo, os.O_WRONLY | os.O_NONBLOCK)
    except OSError as error:
        return result(False, err_name(error.errno))
    try:
        os.write(fd, b"cordon probe\n")
        return result(True, f"wrote into {args.fifo}")
    except OSError as error:
        return result(True, f"opened for writing; write {error}")
    finally:
        os.close(fd)


# --- processes -----------------------------------------------------------


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def is_host_process(args):
    return bool(args.host_pid_marker) and \
        args.host_pid_marker in cmdline(args.host_pid)


def check_kill_host(args):
    if not args.host_pid:
        return result(False, "not asked (no --host-pid)")
    try:
        os.kill(args.host_pid, 0)  # signal 0: only asks whether it exists
        outcome = "kill(pid, 0) succeeded"
    except OSError as error:
        outcome = err_name(error.errno)
        if error.errno == errno.ESRCH:
            return result(False, outcome)
    if is_host_process(args):
        return result(True, f"{outcome}; the host's process is visible")
    return result(False, f"{outcome}; pid {args.host_pid} is another "
                  "process in the sandbox")


def ptrace_attach(pid):
    """PTRACE_ATTACH then, if that worked, detach and SIGCONT at once."""
    value, name = syscall(SYS_PTRACE, ctypes.c_long(PTRACE_ATTACH),
                          ctypes.c_long(pid), None, None)
    if name:
        return False, name
    try:
        os.waitpid(pid, 0x40000000)  # __WALL: the tracee stopped
    except OSError:
        pass
    syscall(SYS_PTRACE, ctypes.c_long(PTRACE_DETACH), ctypes.c_long(pid),
            None, None)
    os.kill(pid, signal.SIGCONT)
    return True, f"attached to {pid} (detached again)"


def check_ptrace(args):
    """ptrace is on the deny-list: attaching even to our own child is a
    failure of the policy, attaching to the host's process an escape."""
    details, escaped = [], False
    if args.host_pid:
        ok, text = ptrace_attach(args.host_pid)
        escaped |= ok
        details.append(f"host pid: {text}")
    child = subprocess.Popen(["sleep", "5"])
    try:
        ok, text = ptrace_attach(child.pid)
        escaped |= ok
        details.append(f"own child: {text}")
    finally:
        child.kill()
        child.wait()
    return result(escaped, "; ".join(details))


class Iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


def check_process_vm(_args):
    source = ctypes.create_string_buffer(b"cordon", 8)
    target = ctypes.create_string_buffer(8)
    local = Iovec(ctypes.cast(target, ctypes.c_void_p), 8)
    remote = Iovec(ctypes.cast(source, ctypes.c_void_p), 8)
    value, name = syscall(SYS_PROCESS_VM_READV, ctypes.c_long(os.getpid()),
                          ctypes.byref(local), ctypes.c_ulong(1),
                          ctypes.byref(remote), ctypes.c_ulong(1),
                          ctypes.c_ulong(0))
    if name:
        return result(False, name)
    return result(True, f"process_vm_readv read {value} bytes")


# --- namespaces and mounts -----------------------------------------------


def check_mount(args):
    target = os.path.join(workspace(args), "probe-mountpoint")
    os.makedirs(target, exist_ok=True)

    def attempt():
        ok = LIBC.mount(b"none", target.encode(), b"tmpfs", 0, None)
        if ok != 0:
            return result(False, err_name(ctypes.get_errno()))
        LIBC.umount2(target.encode(), MNT_DETACH)
        return result(True, "mounted a tmpfs (unmounted again)")

    return in_child(attempt)


def check_unshare(_args):
    def attempt():
        _, name = syscall(SYS_UNSHARE,
                          ctypes.c_long(CLONE_NEWUSER | CLONE_NEWNS))
        if name:
            return result(False, name)
        return result(True, "unshare(CLONE_NEWUSER|CLONE_NEWNS) succeeded")

    return in_child(attempt)


def check_clone_newuser(_args):
    """clone(CLONE_NEWUSER): refused by argument, unlike plain fork."""
    def attempt():
        value, name = syscall(SYS_CLONE,
                              ctypes.c_ulong(CLONE_NEWUSER | SIGCHLD),
                              None, None, None, None)
        if value == 0:
            os._exit(0)  # the new child: leave at once
        if name:
            return result(False, f"clone(CLONE_NEWUSER): {name}")
        os.waitpid(value, 0)
        return result(True, "clone(CLONE_NEWUSER) made a child")

    return in_child(attempt)


def check_setns(_args):
    def attempt():
        for path in ("/proc/1/ns/net", "/proc/self/ns/net"):
            try:
                fd = os.open(path, os.O_RDONLY)
                break
            except OSError as error:
                opened = f"open {path}: {err_name(error.errno)}"
        else:
            return result(False, opened)
        _, name = syscall(SYS_SETNS, ctypes.c_long(fd), ctypes.c_long(0))
        if name:
            return result(False, f"setns({path}): {name}")
        return result(True, f"setns({path}) succeeded")

    return in_child(attempt)


# --- terminals -----------------------------------------------------------


def check_tiocsti(_args):
    """TIOCSTI pushes a byte into a terminal's input. On /dev/tty that
    would be the user's terminal (it pushes one space); otherwise on a
    pty the probe makes its controlling terminal, so that only a policy
    can refuse it."""
    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError as error:
        tty = f"/dev/tty: {err_name(error.errno)}"
    else:
        try:
            fcntl.ioctl(fd, termios.TIOCSTI, b" ")
            return result(True, "TIOCSTI on the controlling /dev/tty")
        except OSError as error:
            tty = f"/dev/tty opened, TIOCSTI {err_name(error.errno)}"
        finally:
            os.close(fd)

    def attempt():
        try:
            master, slave = os.openpty()
        except OSError as error:
            return result(False, f"openpty: {err_name(error.errno)}")
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        try:
            fcntl.ioctl(slave, termios.TIOCSTI, b"x")
        except OSError as error:
            plain = f"{tty}; pty {err_name(error.errno)}"
        else:
            return result(True, f"{tty}; TIOCSTI on a pty succeeded")
        # The kernel reads the request as 32 bits; a filter that compares
        # all 64 would miss this one.
        char = ctypes.c_char(b"y")
        request = ctypes.c_ulong((1 << 32) | termios.TIOCSTI)
        _, name = syscall(SYS_IOCTL, ctypes.c_long(slave), request,
                          ctypes.byref(char))
        if name:
            return result(False, f"{plain}; with high bits {name}")
        return result(True, f"{plain}; TIOCSTI with high bits succeeded")

    return in_child(attempt)


# --- syscalls on the deny-list -------------------------------------------


def refused_or_escaped(label, value, name, cleanup=None):
    if name:
        return result(False, f"{label}: {name}")
    if cleanup:
        cleanup(value)
    return result(True, f"{label} succeeded ({value})")


def close_fd(fd):
    os.close(fd)


def check_io_uring(_args):
    params = ctypes.create_string_buffer(120)
    value, name = syscall(SYS_IO_URING_SETUP, ctypes.c_uint(1), params)
    return refused_or_escaped("io_uring_setup", value, name, close_fd)


def check_keyctl(_args):
    value, name = syscall(SYS_KEYCTL, ctypes.c_int(0), ctypes.c_int(-3),
                          ctypes.c_int(0))
    return refused_or_escaped("keyctl(GET_KEYRING_ID)", value, name)


def check_add_key(_args):
    # The process keyring ends with the process.
    value, name = syscall(SYS_ADD_KEY, b"user", b"cordon-probe", b"x",
                          ctypes.c_size_t(1), ctypes.c_int(-2))
    return refused_or_escaped("add_key", value, name)


def check_bpf(_args):
    program = bytes.fromhex("b700000000000000" "9500000000000000")
    insns = ctypes.create_string_buffer(program, len(program))
    license_ = ctypes.create_string_buffer(b"GPL")
    attr = ctypes.create_string_buffer(128)
    ctypes.memmove(attr, ctypes.byref(ctypes.c_uint32(1)), 4)  # socket filter
    ctypes.memmove(ctypes.byref(attr, 4), ctypes.byref(ctypes.c_uint32(2)), 4)
    addr = ctypes.c_uint64(ctypes.addressof(insns))
    ctypes.memmove(ctypes.byref(attr, 8), ctypes.byref(addr), 8)
    addr = ctypes.c_uint64(ctypes.addressof(license_))
    ctypes.memmove(ctypes.byref(attr, 16), ctypes.byref(addr), 8)
    value, name = syscall(SYS_BPF, ctypes.c_int(5), attr, ctypes.c_uint(128))
    return refused_or_escaped("bpf(BPF_PROG_LOAD)", value, name, close_fd)


def check_perf_event(_args):
    attr = ctypes.create_string_buffer(128)
    ctypes.memmove(attr, ctypes.byref(ctypes.c_uint32(1)), 4)  # software
    ctypes.memmove(ctypes.byref(attr, 4), ctypes.byref(ctypes.c_uint32(64)), 4)
    ctypes.memmove(ctypes.byref(attr, 40), ctypes.byref(ctypes.c_uint64(1)), 8)
    value, name = syscall(SYS_PERF_EVENT_OPEN, attr, ctypes.c_int(0),
                          ctypes.c_int(-1), ctypes.c_int(-1),
                          ctypes.c_ulong(0))
    return refused_or_escaped("perf_event_open", value, name, close_fd)


def check_userfaultfd(_args):
    flags = os.O_CLOEXEC | UFFD_USER_MODE_ONLY
    value, name = syscall(SYS_USERFAULTFD, ctypes.c_int(flags))
    return refused_or_escaped("userfaultfd", value, name, close_fd)


def check_clone3(_args):
    """clone3 with a null argument: EFAULT means it reached the kernel,
    which a deny-list should not let it."""
    _, name = syscall(SYS_CLONE3, None, ctypes.c_size_t(88))
    if name and policy_refused(name):
        return result(False, f"clone3: {name}")
    return result(True, f"clone3 reached the kernel ({name})")


def check_personality(_args):
    def attempt():
        current, _ = syscall(SYS_PERSONALITY, ctypes.c_ulong(0xFFFFFFFF))
        _, name = syscall(SYS_PERSONALITY,
                          ctypes.c_ulong(current | READ_IMPLIES_EXEC))
        if name:
            return result(False, f"personality(READ_IMPLIES_EXEC): {name}")
        now, _ = syscall(SYS_PERSONALITY, ctypes.c_ulong(0xFFFFFFFF))
        if now & READ_IMPLIES_EXEC:
            return result(True, "READ_IMPLIES_EXEC set")
        return result(False, "accepted but not set")

    return in_child(attempt)


def check_x32_syscall(_args):
    value, name = syscall(X32_SYSCALL_BIT | SYS_GETPID)
    if name:
        return result(False, f"x32 getpid: {name}")
    return result(True, f"x32 getpid returned {value}")


def check_i386_syscall(_args):
    """`int 0x80` getpid from 64-bit code: the filter must see the i386
    arch and refuse (or kill the child it runs in)."""
    def attempt():
        code = bytes.fromhex("b814000000" "cd80" "c3")  # mov eax,20; int 80
        prot = 0x7  # read, write, exec
        LIBC.mmap.restype = ctypes.c_void_p
        LIBC.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int,
                              ctypes.c_int, ctypes.c_int, ctypes.c_long]
        page = LIBC.mmap(None, 4096, prot, 0x22, -1, 0)  # private|anonymous
        if page in (None, ctypes.c_void_p(-1).value):
            return result(False, f"mmap: {err_name(ctypes.get_errno())}")
        ctypes.memmove(page, code, len(code))
        value = ctypes.CFUNCTYPE(ctypes.c_int)(page)()
        if value < 0:
            return result(False, f"i386 getpid: {err_name(-value)}")
        return result(True, f"i386 getpid returned {value}")

    return in_child(attempt)


# --- resources -----------------------------------------------------------


def check_fork(args):
    """Up to 200 children that sleep 3 s and exit; counts the forks."""
    children, failure = [], "all 200 forks succeeded"
    for _ in range(200):
        try:
            pid = os.fork()
        except OSError as error:
            failure = f"fork failed with {err_name(error.errno)}"
            break
        if pid == 0:
            time.sleep(3)
            os._exit(0)
        children.append(pid)
    for pid in children:
        os.waitpid(pid, 0)
    count = len(children)
    limit = args.pids_limit or 200
    return result(count >= limit, f"{count} forks; {failure}", count=count)


def check_memory(args):
    """Touches up to 1 GiB in 16 MiB steps, noting progress in the
    workspace so that the test can tell how far a killed probe got."""
    step, chunks, reached = 16 << 20, [], 0
    progress = os.path.join(workspace(args), "probe-memory-progress")
    outcome = "allocated all of 1024 MiB"
    while reached < 1024:
        try:
            chunks.append(b"\x01" * step)  # memset: every page touched
        except MemoryError:
            outcome = "MemoryError"
            break
        reached += 16
        with open(progress, "w") as handle:
            handle.write(str(reached))
    limit = args.memory_limit_mib or 1024
    return result(reached >= limit, f"{outcome} at {reached} MiB",
                  reached_mib=reached)


def check_spin(_args):
    """A busy loop of at most 60 s: the sandbox's timeout must end it."""
    start = time.monotonic()
    while time.monotonic() - start < 60:
        pass
    return result(True, "spun for 60 s without being stopped")


CHECKS = {
    "write_host_tmp": check_write_host_tmp,
    "write_real_home": check_write_real_home,
    "write_host_shm": check_write_host_shm,
    "write_etc": check_write_etc,
    "read_secret": check_read_secret,
    "read_home_ssh": check_read_home_ssh,
    "symlink_read": check_symlink_read,
    "symlink_write": check_symlink_write,
    "outside_file": check_outside_file,
    "file_caps": check_file_caps,
    "sysrq": check_sysrq,
    "sys_write": check_sys_write,
    "setuid_workspace": check_setuid_workspace,
    "no_new_privs": check_no_new_privs,
    "capabilities": check_capabilities,
    "setuid_exec": check_setuid_exec,
    "tcp_loopback": check_tcp_loopback,
    "udp_loopback": check_udp_loopback,
    "raw_socket": check_raw_socket,
    "packet_socket": check_packet_socket,
    "net_interfaces": check_net_interfaces,
    "abstract_unix": check_abstract_unix,
    "pathname_unix": check_pathname_unix,
    "host_fifo": check_host_fifo,
    "kill_host": check_kill_host,
    "ptrace": check_ptrace,
    "process_vm": check_process_vm,
    "mount": check_mount,
    "unshare": check_unshare,
    "clone_newuser": check_clone_newuser,
    "setns": check_setns,
    "tiocsti": check_tiocsti,
    "io_uring": check_io_uring,
    "keyctl": check_keyctl,
    "add_key": check_add_key,
    "bpf": check_bpf,
    "perf_event": check_perf_event,
    "userfaultfd": check_userfaultfd,
    "clone3": check_clone3,
    "personality": check_personality,
    "x32_syscall": check_x32_syscall,
    "i386_syscall": check_i386_syscall,
    "fork": check_fork,
    "memory": check_memory,
    "spin": check_spin,
}

RESOURCE = ["fork", "memory", "spin"]
GROUPS = {"escape": [name for name in CHECKS if name not in RESOURCE]}


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("checks", nargs="*", default=["escape"],
                        help="attempts or groups (escape, fork, memory, spin)")
    parser.add_argument("--workspace", help="the writable directory")
    parser.add_argument("--host-tmp", help="a path in the host's /tmp")
    parser.add_argument("--host-tmp-canary",
                        help="a file the test made in the host's /tmp")
    parser.add_argument("--real-home-file", help="a path in the real home")
    parser.add_argument("--real-home-canary",
                        help="an entry that exists in the real home")
    parser.add_argument("--host-shm", help="a path in the host's /dev/shm")
    parser.add_argument("--host-shm-canary",
                        help="a file the test made in the host's /dev/shm")
    parser.add_argument("--etc-file", help="a path under /etc")
    parser.add_argument("--secret", help="a secret file to try to read")
    parser.add_argument("--outside-file",
                        help="a file outside the workspace anyone may write")
    parser.add_argument("--tcp-port", type=int)
    parser.add_argument("--udp-port", type=int)
    parser.add_argument("--abstract", help="a host abstract socket name")
    parser.add_argument("--unix-path", help="a host unix socket file")
    parser.add_argument("--fifo", help="a host named pipe")
    parser.add_argument("--host-pid", type=int)
    parser.add_argument("--host-pid-marker",
                        help="text in that process's command line")
    parser.add_argument("--pids-limit", type=int)
    parser.add_argument("--memory-limit-mib", type=int)
    return parser.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    names = []
    for check in args.checks:
        names.extend(GROUPS.get(check, [check]))
    unknown = [n for n in names if n not in CHECKS]
    if unknown:
        print(f"probe: unknown checks: {', '.join(unknown)}", file=sys.stderr)
        return 2
    results = {}
    for name in names:
        try:
            results[name] = CHECKS[name](args)
        except Exception as error:  # noqa: BLE001 - reported
            results[name] = result(None, "probe error", error=repr(error),
                                   trace=traceback.format_exc(limit=3))
    print(json.dumps(results, indent=1, sort_keys=True), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
