//! The static seccomp deny-list, as a classic BPF program built by hand.
//!
//! The program checks the architecture (anything but x86_64 kills the
//! process), refuses every x32 system call, refuses the system calls
//! that reach the kernel's riskiest surfaces (namespaces, mounts,
//! ptrace, keyrings, BPF, io_uring, modules, ...) with `EPERM`, looks at
//! the arguments of `clone`, `ioctl` and `personality`, answers
//! `clone3` with `ENOSYS` so the C library falls back to `clone`, and
//! allows everything else.
//!
//! It is installed last, right before `execve`. A second filter that
//! hands decisions to a monitor can later be stacked on it with
//! [`install`]'s `flags` (`SECCOMP_FILTER_FLAG_NEW_LISTENER`).

// Only x86_64 has a filter; elsewhere the builders go unused.
#![cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]

use std::io;

use libc::sock_filter;

/// Bit set in the number of every x32 system call.
const X32_SYSCALL_BIT: u32 = 0x4000_0000;

/// Offsets in `struct seccomp_data`.
const OFFSET_NR: u32 = 0;
const OFFSET_ARCH: u32 = 4;
const OFFSET_ARGS: u32 = 16;

/// `clone` flags that create namespaces. `CLONE_NEWTIME` is left out:
/// for `clone` its bit is part of the exit signal.
const CLONE_NAMESPACES: u32 = (libc::CLONE_NEWNS
    | libc::CLONE_NEWCGROUP
    | libc::CLONE_NEWUTS
    | libc::CLONE_NEWIPC
    | libc::CLONE_NEWUSER
    | libc::CLONE_NEWPID
    | libc::CLONE_NEWNET) as u32;

/// `personality` values allowed: `PER_LINUX`, `PER_LINUX32` and the
/// query `0xffffffff`. Every flag (`READ_IMPLIES_EXEC`,
/// `ADDR_NO_RANDOMIZE`, ...) is refused.
const PERSONALITY_ALLOWED: &[u32] = &[0, 0x0008, 0xffff_ffff];

/// The setuid and setgid bits: a file the command marks so in the
/// workspace would give its owner's rights to whoever runs it on the
/// host later.
const SET_ID_BITS: u32 = libc::S_ISUID | libc::S_ISGID;

/// `open` flags that create a file, and so use the mode argument.
const CREATING: u32 = (libc::O_CREAT | 0o20_000_000) as u32;

/// System calls that set a mode, with the argument holding it.
#[cfg(target_arch = "x86_64")]
const MODE_SETTING: &[(libc::c_long, u32)] = &[
    (libc::SYS_chmod, 1),
    (libc::SYS_fchmod, 1),
    (libc::SYS_fchmodat, 2),
    (libc::SYS_fchmodat2, 2),
    (libc::SYS_creat, 1),
    (libc::SYS_mknod, 1),
    (libc::SYS_mknodat, 2),
];

/// System calls that may create a file, with their flags and mode
/// arguments.
#[cfg(target_arch = "x86_64")]
const FILE_CREATING: &[(libc::c_long, u32, u32)] =
    &[(libc::SYS_open, 1, 2), (libc::SYS_openat, 2, 3)];

/// `TIOCSTI` and `TIOCLINUX`: both push input into a terminal.
const TTY_INJECTION: &[u32] = &[libc::TIOCSTI as u32, libc::TIOCLINUX as u32];

/// System calls refused with `EPERM` whatever their arguments.
#[cfg(target_arch = "x86_64")]
const DENIED: &[(libc::c_long, &str)] = &[
    (libc::SYS_ptrace, "ptrace"),
    (libc::SYS_process_vm_readv, "process_vm_readv"),
    (libc::SYS_process_vm_writev, "process_vm_writev"),
    (libc::SYS_pidfd_getfd, "pidfd_getfd"),
    (libc::SYS_mount, "mount"),
    (libc::SYS_umount2, "umount2"),
    (libc::SYS_pivot_root, "pivot_root"),
    (libc::SYS_chroot, "chroot"),
    (libc::SYS_unshare, "unshare"),
    (libc::SYS_setns, "setns"),
    (libc::SYS_fsopen, "fsopen"),
    (libc::SYS_fsconfig, "fsconfig"),
    (libc::SYS_fsmount, "fsmount"),
    (libc::SYS_fspick, "fspick"),
    (libc::SYS_move_mount, "move_mount"),
    (libc::SYS_open_tree, "open_tree"),
    (libc::SYS_mount_setattr, "mount_setattr"),
    (libc::SYS_keyctl, "keyctl"),
    (libc::SYS_add_key, "add_key"),
    (libc::SYS_request_key, "request_key"),
    (libc::SYS_bpf, "bpf"),
    (libc::SYS_perf_event_open, "perf_event_open"),
    (libc::SYS_userfaultfd, "userfaultfd"),
    (libc::SYS_io_uring_setup, "io_uring_setup"),
    (libc::SYS_io_uring_enter, "io_uring_enter"),
    (libc::SYS_io_uring_register, "io_uring_register"),
    (libc::SYS_kexec_load, "kexec_load"),
    (libc::SYS_kexec_file_load, "kexec_file_load"),
    (libc::SYS_init_module, "init_module"),
    (libc::SYS_finit_module, "finit_module"),
    (libc::SYS_delete_module, "delete_module"),
    (libc::SYS_open_by_handle_at, "open_by_handle_at"),
    (libc::SYS_name_to_handle_at, "name_to_handle_at"),
    (libc::SYS_acct, "acct"),
    (libc::SYS_swapon, "swapon"),
    (libc::SYS_swapoff, "swapoff"),
    (libc::SYS_reboot, "reboot"),
    (libc::SYS_syslog, "syslog"),
    (libc::SYS_quotactl, "quotactl"),
    (libc::SYS_settimeofday, "settimeofday"),
    (libc::SYS_clock_settime, "clock_settime"),
    (libc::SYS_clock_adjtime, "clock_adjtime"),
    (libc::SYS_adjtimex, "adjtimex"),
    (libc::SYS_iopl, "iopl"),
    (libc::SYS_ioperm, "ioperm"),
    (libc::SYS_uselib, "uselib"),
    (libc::SYS_vhangup, "vhangup"),
    (libc::SYS_lookup_dcookie, "lookup_dcookie"),
];

/// A seccomp filter program, ready to install.
#[derive(Clone, Debug)]
pub struct Program {
    filter: Vec<sock_filter>,
}

impl Program {
    /// The instructions.
    #[cfg(test)]
    pub fn instructions(&self) -> &[sock_filter] {
        &self.filter
    }

    /// One line per refused system call, for `--debug`.
    pub fn describe(deny_unix_sockets: bool) -> Vec<String> {
        let mut lines = vec![
            "non-x86_64 system calls kill the process".to_owned(),
            "x32 system calls: EPERM".to_owned(),
            "clone with CLONE_NEW* flags: EPERM".to_owned(),
            "clone3, openat2: ENOSYS".to_owned(),
            "setuid or setgid bits in chmod, open, creat, mknod: EPERM"
                .to_owned(),
            "ioctl TIOCSTI, TIOCLINUX: EPERM".to_owned(),
            "personality other than PER_LINUX(32): EPERM".to_owned(),
        ];
        if deny_unix_sockets {
            lines.push(
                "socket(AF_UNIX): EPERM, since landlock cannot confine \
                 connects to the host's socket files on this kernel"
                    .to_owned(),
            );
        }
        #[cfg(target_arch = "x86_64")]
        {
            let names: Vec<&str> = DENIED.iter().map(|(_, n)| *n).collect();
            lines.push(format!("EPERM: {}", names.join(", ")));
        }
        lines
    }
}

/// `BPF_STMT`.
fn stmt(code: u32, k: u32) -> sock_filter {
    sock_filter { code: code as u16, jt: 0, jf: 0, k }
}

/// `BPF_JUMP`.
fn jump(code: u32, k: u32, jt: u8, jf: u8) -> sock_filter {
    sock_filter { code: code as u16, jt, jf, k }
}

fn load(offset: u32) -> sock_filter {
    stmt(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS, offset)
}

fn ret(action: u32) -> sock_filter {
    stmt(libc::BPF_RET | libc::BPF_K, action)
}

fn errno(code: i32) -> u32 {
    libc::SECCOMP_RET_ERRNO | (code as u32 & libc::SECCOMP_RET_DATA)
}

fn jeq(k: u32, jt: u8, jf: u8) -> sock_filter {
    jump(libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K, k, jt, jf)
}

/// The offset of the low 32 bits of argument `index`.
fn arg_low(index: u32) -> u32 {
    OFFSET_ARGS + 8 * index
}

/// A block that, when the accumulator holds `nr`, decides from the low
/// 32 bits of argument `arg`: with `allow_only`, `values` are the only
/// ones allowed; otherwise they are the ones refused. Refusals are
/// `EPERM`.
fn arg_values(
    nr: u32,
    arg: u32,
    values: &[u32],
    allow_only: bool,
) -> Vec<sock_filter> {
    let count = values.len();
    let mut block = vec![load(arg_low(arg))];
    for (i, &value) in values.iter().enumerate() {
        // A hit jumps over the remaining tests and the first return to
        // the second one.
        block.push(jeq(value, (count - i) as u8, 0));
    }
    let (miss, hit) = if allow_only {
        (errno(libc::EPERM), libc::SECCOMP_RET_ALLOW)
    } else {
        (libc::SECCOMP_RET_ALLOW, errno(libc::EPERM))
    };
    block.push(ret(miss));
    block.push(ret(hit));
    guarded(nr, block)
}

/// Prefixes `block` with a test that skips it unless the accumulator
/// holds `nr`.
fn guarded(nr: u32, block: Vec<sock_filter>) -> Vec<sock_filter> {
    let mut out = vec![jeq(nr, 0, block.len() as u8)];
    out.extend(block);
    out
}

/// A block refusing a mode with the setuid or setgid bit in argument
/// `mode`; with `flags`, only when that argument asks to create a file.
fn set_id_block(nr: u32, flags: Option<u32>, mode: u32) -> Vec<sock_filter> {
    let jset = libc::BPF_JMP | libc::BPF_JSET | libc::BPF_K;
    let mut block = Vec::new();
    if let Some(flags) = flags {
        block.push(load(arg_low(flags)));
        block.push(jump(jset, CREATING, 0, 3));
    }
    block.extend([
        load(arg_low(mode)),
        jump(jset, SET_ID_BITS, 0, 1),
        ret(errno(libc::EPERM)),
        ret(libc::SECCOMP_RET_ALLOW),
    ]);
    guarded(nr, block)
}

/// A block refusing `clone` with any namespace flag.
fn clone_block(nr: u32) -> Vec<sock_filter> {
    let jset = libc::BPF_JMP | libc::BPF_JSET | libc::BPF_K;
    guarded(
        nr,
        vec![
            load(arg_low(0)),
            jump(jset, CLONE_NAMESPACES, 0, 1),
            ret(errno(libc::EPERM)),
            ret(libc::SECCOMP_RET_ALLOW),
        ],
    )
}

/// Builds the deny-list for x86_64. With `deny_unix_sockets`,
/// `socket(AF_UNIX, ...)` is refused too (`socketpair` stays allowed):
/// the way to keep the command from connecting to the host's socket
/// files (a container engine's, a session bus) where Landlock cannot.
#[cfg(target_arch = "x86_64")]
pub fn build(deny_unix_sockets: bool) -> Program {
    let jge = libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K;
    let mut filter = vec![
        load(OFFSET_ARCH),
        jeq(crate::sys::AUDIT_ARCH_X86_64, 1, 0),
        ret(libc::SECCOMP_RET_KILL_PROCESS),
        load(OFFSET_NR),
        jump(jge, X32_SYSCALL_BIT, 0, 1),
        ret(errno(libc::EPERM)),
    ];
    for &(nr, _) in DENIED {
        filter.push(jeq(nr as u32, 0, 1));
        filter.push(ret(errno(libc::EPERM)));
    }
    // clone3 and openat2 pass their arguments in a structure the filter
    // cannot read: ENOSYS makes the C library use clone and openat.
    for nr in [libc::SYS_clone3, libc::SYS_openat2] {
        filter.push(jeq(nr as u32, 0, 1));
        filter.push(ret(errno(libc::ENOSYS)));
    }
    for &(nr, mode) in MODE_SETTING {
        filter.extend(set_id_block(nr as u32, None, mode));
    }
    for &(nr, flags, mode) in FILE_CREATING {
        filter.extend(set_id_block(nr as u32, Some(flags), mode));
    }
    filter.extend(clone_block(libc::SYS_clone as u32));
    filter.extend(arg_values(libc::SYS_ioctl as u32, 1, TTY_INJECTION, false));
    if deny_unix_sockets {
        let unix = [libc::AF_UNIX as u32];
        filter.extend(arg_values(libc::SYS_socket as u32, 0, &unix, false));
    }
    filter.extend(arg_values(
        libc::SYS_personality as u32,
        0,
        PERSONALITY_ALLOWED,
        true,
    ));
    filter.push(ret(libc::SECCOMP_RET_ALLOW));
    Program { filter }
}

/// Builds the monitor's filter for x86_64: the system calls `watched`
/// go to the listener (`SECCOMP_RET_USER_NOTIF`), and `sendto` only
/// with an address (argument 4), so that sending on a connected socket
/// costs nothing. Everything else is allowed here; the deny-list,
/// installed before, still refuses what it refuses, and its `EPERM`
/// takes precedence over a notification.
///
/// `sendmsg` on fd `quiet_fd` is let through: that is how the command
/// sends the listener to cordon right after installing the filter, when
/// nobody could answer a notification yet. The fd is closed at once, so
/// only a later socket that gets the same number escapes the record.
#[cfg(target_arch = "x86_64")]
pub fn build_notify(watched: &[libc::c_long], quiet_fd: i32) -> Program {
    let notify = libc::SECCOMP_RET_USER_NOTIF;
    let mut filter = vec![
        load(OFFSET_ARCH),
        jeq(crate::sys::AUDIT_ARCH_X86_64, 1, 0),
        ret(libc::SECCOMP_RET_ALLOW),
        load(OFFSET_NR),
    ];
    if watched.contains(&libc::SYS_sendto) {
        filter.extend(guarded(
            libc::SYS_sendto as u32,
            vec![
                load(arg_low(4)),
                jeq(0, 0, 3),
                load(arg_low(4) + 4),
                jeq(0, 0, 1),
                ret(libc::SECCOMP_RET_ALLOW),
                ret(notify),
            ],
        ));
    }
    if watched.contains(&libc::SYS_sendmsg) {
        filter.extend(guarded(
            libc::SYS_sendmsg as u32,
            vec![
                load(arg_low(0)),
                jeq(quiet_fd as u32, 0, 1),
                ret(libc::SECCOMP_RET_ALLOW),
                ret(notify),
            ],
        ));
    }
    let plain = |nr: &&libc::c_long| {
        **nr != libc::SYS_sendto && **nr != libc::SYS_sendmsg
    };
    for &nr in watched.iter().filter(plain) {
        filter.push(jeq(nr as u32, 0, 1));
        filter.push(ret(notify));
    }
    filter.push(ret(libc::SECCOMP_RET_ALLOW));
    Program { filter }
}

/// Installs `program` on the calling thread. `no_new_privs` must be set.
/// `flags` are `SECCOMP_FILTER_FLAG_*`; the return value is the
/// listener's fd with `SECCOMP_FILTER_FLAG_NEW_LISTENER`, 0 otherwise.
pub fn install(program: &Program, flags: libc::c_ulong) -> io::Result<i32> {
    crate::sys::install_seccomp(&program.filter, flags)
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;

    /// What the filter returns for a system call, computed by a tiny
    /// interpreter of the instructions [`build`] uses.
    fn evaluate(program: &Program, arch: u32, nr: u32, args: [u64; 6]) -> u32 {
        let mut data = [0u8; 64];
        data[0..4].copy_from_slice(&nr.to_ne_bytes());
        data[4..8].copy_from_slice(&arch.to_ne_bytes());
        for (i, arg) in args.iter().enumerate() {
            let at = 16 + 8 * i;
            data[at..at + 8].copy_from_slice(&arg.to_ne_bytes());
        }
        let filter = program.instructions();
        let (mut pc, mut acc) = (0usize, 0u32);
        loop {
            let insn = filter[pc];
            let code = u32::from(insn.code);
            pc += 1;
            if code == libc::BPF_LD | libc::BPF_W | libc::BPF_ABS {
                let at = insn.k as usize;
                let word: [u8; 4] = data[at..at + 4].try_into().unwrap();
                acc = u32::from_ne_bytes(word);
            } else if code == libc::BPF_RET | libc::BPF_K {
                return insn.k;
            } else {
                let hit = match code & 0xf0 {
                    libc::BPF_JEQ => acc == insn.k,
                    libc::BPF_JGE => acc >= insn.k,
                    libc::BPF_JSET => acc & insn.k != 0,
                    other => panic!("unexpected jump {other:#x}"),
                };
                pc += usize::from(if hit { insn.jt } else { insn.jf });
            }
        }
    }

    fn verdict(nr: libc::c_long, args: [u64; 6]) -> u32 {
        evaluate(&build(true), crate::sys::AUDIT_ARCH_X86_64, nr as u32, args)
    }

    const EPERM: u32 = libc::SECCOMP_RET_ERRNO | libc::EPERM as u32;
    const ALLOW: u32 = libc::SECCOMP_RET_ALLOW;

    #[test]
    fn other_architectures_are_killed() {
        let program = build(true);
        let aarch64 = 0xc000_00b7;
        let got = evaluate(&program, aarch64, 0, [0; 6]);
        assert_eq!(got, libc::SECCOMP_RET_KILL_PROCESS);
    }

    #[test]
    fn x32_and_denied_calls_get_eperm() {
        assert_eq!(verdict(libc::SYS_getpid | 0x4000_0000, [0; 6]), EPERM);
        assert_eq!(verdict(libc::SYS_ptrace, [0; 6]), EPERM);
        assert_eq!(verdict(libc::SYS_mount_setattr, [0; 6]), EPERM);
        assert_eq!(verdict(libc::SYS_lookup_dcookie, [0; 6]), EPERM);
        assert_eq!(verdict(libc::SYS_getpid, [0; 6]), ALLOW);
        assert_eq!(verdict(libc::SYS_read, [0; 6]), ALLOW);
    }

    #[test]
    fn clone_is_refused_only_with_namespace_flags() {
        let fork_like = libc::SIGCHLD as u64;
        let thread = (libc::CLONE_VM | libc::CLONE_THREAD) as u64;
        let newuser = libc::CLONE_NEWUSER as u64 | fork_like;
        let high = (1u64 << 32) | libc::CLONE_NEWNET as u64;
        assert_eq!(
            verdict(libc::SYS_clone, [fork_like, 0, 0, 0, 0, 0]),
            ALLOW
        );
        assert_eq!(verdict(libc::SYS_clone, [thread, 0, 0, 0, 0, 0]), ALLOW);
        assert_eq!(verdict(libc::SYS_clone, [newuser, 0, 0, 0, 0, 0]), EPERM);
        assert_eq!(verdict(libc::SYS_clone, [high, 0, 0, 0, 0, 0]), EPERM);
        let enosys = libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32;
        assert_eq!(verdict(libc::SYS_clone3, [0; 6]), enosys);
    }

    #[test]
    fn terminal_injection_ioctls_are_refused() {
        let sti = libc::TIOCSTI;
        let high_bits = sti | 0xdead_0000_0000_0000;
        let tcgets = libc::TCGETS;
        assert_eq!(verdict(libc::SYS_ioctl, [0, sti, 0, 0, 0, 0]), EPERM);
        assert_eq!(
            verdict(libc::SYS_ioctl, [0, high_bits, 0, 0, 0, 0]),
            EPERM
        );
        let linux = libc::TIOCLINUX;
        assert_eq!(verdict(libc::SYS_ioctl, [0, linux, 0, 0, 0, 0]), EPERM);
        assert_eq!(verdict(libc::SYS_ioctl, [0, tcgets, 0, 0, 0, 0]), ALLOW);
    }

    #[test]
    fn unix_sockets_are_refused_only_when_asked() {
        let unix = [libc::AF_UNIX as u64, 1, 0, 0, 0, 0];
        let inet = [libc::AF_INET as u64, 1, 0, 0, 0, 0];
        assert_eq!(verdict(libc::SYS_socket, unix), EPERM);
        assert_eq!(verdict(libc::SYS_socket, inet), ALLOW);
        assert_eq!(verdict(libc::SYS_socketpair, unix), ALLOW);
        let lenient = build(false);
        let arch = crate::sys::AUDIT_ARCH_X86_64;
        let nr = libc::SYS_socket as u32;
        assert_eq!(evaluate(&lenient, arch, nr, unix), ALLOW);
    }

    #[test]
    fn setuid_and_setgid_modes_are_refused() {
        let chmod = libc::SYS_chmod;
        assert_eq!(verdict(chmod, [0, 0o4755, 0, 0, 0, 0]), EPERM);
        assert_eq!(verdict(chmod, [0, 0o2755, 0, 0, 0, 0]), EPERM);
        assert_eq!(verdict(chmod, [0, 0o1777, 0, 0, 0, 0]), ALLOW);
        let fchmodat = libc::SYS_fchmodat;
        assert_eq!(verdict(fchmodat, [0, 0, 0o4700, 0, 0, 0]), EPERM);
        let creat = libc::O_CREAT as u64;
        let openat = libc::SYS_openat;
        assert_eq!(verdict(openat, [0, 0, creat, 0o4755, 0, 0]), EPERM);
        assert_eq!(verdict(openat, [0, 0, creat, 0o644, 0, 0]), ALLOW);
        // Without O_CREAT the mode argument is ignored, garbage or not.
        assert_eq!(verdict(openat, [0, 0, 0, 0o4755, 0, 0]), ALLOW);
        let enosys = libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32;
        assert_eq!(verdict(libc::SYS_openat2, [0; 6]), enosys);
    }

    #[test]
    fn only_plain_personalities_are_allowed() {
        let nr = libc::SYS_personality;
        assert_eq!(verdict(nr, [0, 0, 0, 0, 0, 0]), ALLOW);
        assert_eq!(verdict(nr, [0xffff_ffff, 0, 0, 0, 0, 0]), ALLOW);
        assert_eq!(verdict(nr, [8, 0, 0, 0, 0, 0]), ALLOW);
        assert_eq!(verdict(nr, [0x0400_0000, 0, 0, 0, 0, 0]), EPERM);
        assert_eq!(verdict(nr, [0x0004_0000, 0, 0, 0, 0, 0]), EPERM);
    }

    #[test]
    fn the_notify_filter_asks_only_about_watched_calls() {
        let watched = [libc::SYS_openat, libc::SYS_sendto, libc::SYS_sendmsg];
        let program = build_notify(&watched, 7);
        let arch = crate::sys::AUDIT_ARCH_X86_64;
        let notify = libc::SECCOMP_RET_USER_NOTIF;
        let at =
            |nr: libc::c_long, args| evaluate(&program, arch, nr as u32, args);
        assert_eq!(at(libc::SYS_openat, [0; 6]), notify);
        assert_eq!(at(libc::SYS_read, [0; 6]), ALLOW);
        assert_eq!(at(libc::SYS_sendto, [3, 0, 0, 0, 0, 0]), ALLOW);
        assert_eq!(at(libc::SYS_sendto, [3, 0, 0, 0, 0x10, 16]), notify);
        assert_eq!(at(libc::SYS_sendto, [3, 0, 0, 0, 1 << 40, 16]), notify);
        assert_eq!(at(libc::SYS_sendmsg, [7, 0x10, 0, 0, 0, 0]), ALLOW);
        assert_eq!(at(libc::SYS_sendmsg, [3, 0x10, 0, 0, 0, 0]), notify);
        let aarch64 = 0xc000_00b7;
        assert_eq!(evaluate(&program, aarch64, 56, [0; 6]), ALLOW);
    }

    /// Installs the filter in a forked child and checks what the kernel
    /// really answers.
    #[test]
    fn installed_filter_refuses_in_a_real_process() {
        let program = build(true);
        let checks: [(libc::c_long, [u64; 3], i32); 6] = [
            (
                libc::SYS_ptrace,
                [libc::PTRACE_TRACEME as u64, 0, 0],
                libc::EPERM,
            ),
            (
                libc::SYS_unshare,
                [libc::CLONE_NEWUSER as u64, 0, 0],
                libc::EPERM,
            ),
            (libc::SYS_ioctl, [0, libc::TIOCSTI, 0], libc::EPERM),
            (libc::SYS_clone3, [0, 0, 0], libc::ENOSYS),
            (libc::SYS_keyctl, [0, 0, 0], libc::EPERM),
            (libc::SYS_personality, [0x0040_0000, 0, 0], libc::EPERM),
        ];
        let child = crate::sys::fork().expect("fork");
        let Some(pid) = child else {
            // Only system calls from here: this test process has threads.
            let mut code = 0;
            if crate::sys::prctl(libc::PR_SET_NO_NEW_PRIVS, 1).is_err()
                || install(&program, 0).is_err()
            {
                crate::sys::exit_now(100);
            }
            for (i, (nr, args, expected)) in checks.iter().enumerate() {
                if crate::sys::raw_syscall(*nr, *args) != Err(*expected) {
                    code |= 1 << i;
                }
            }
            if crate::sys::raw_syscall(libc::SYS_getpid, [0; 3]).is_err() {
                code |= 1 << 6;
            }
            crate::sys::exit_now(code);
        };
        let (_, status) = crate::sys::waitpid(pid, false).unwrap().unwrap();
        assert!(libc::WIFEXITED(status), "child status {status:#x}");
        assert_eq!(libc::WEXITSTATUS(status), 0, "bitmask of failed checks");
    }
}
