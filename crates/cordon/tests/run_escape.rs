//! The sandbox holds against a payload that tries to get out.
//!
//! The escape probe (`tests/probe/probe.py`) runs inside `cordon run`,
//! as root and as nobody, and tries every way out it knows: files
//! outside the workspace, a planted secret, symbolic links, the host's
//! loopback listeners and abstract socket, raw sockets, the host's
//! processes, mounts and namespaces, terminal injection, setuid, and the
//! syscalls on the deny-list. The test believes neither the probe nor
//! the sandbox alone: it also checks the host afterwards (no file
//! created, nothing received, the host process alive and running, the
//! secret never printed). Then each resource bomb runs against its
//! limit: forks against `--pids`, memory against `--memory`, a busy
//! loop against `--timeout`.

#[path = "support/sandbox.rs"]
mod sandbox;

use std::fs;
use std::io::{ErrorKind, Read};
use std::net::{TcpListener, UdpSocket};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::os::unix::net::{SocketAddr, UnixListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use sandbox::{Outcome, PYTHON, Sandbox, Scratch};

/// Every attempt of the probe's `escape` group: a probe that stops
/// reporting one fails the test rather than passing it quietly.
const ATTEMPTS: &[&str] = &[
    "write_host_tmp",
    "write_real_home",
    "write_host_shm",
    "write_etc",
    "read_secret",
    "read_home_ssh",
    "symlink_read",
    "symlink_write",
    "outside_file",
    "file_caps",
    "sysrq",
    "sys_write",
    "setuid_workspace",
    "no_new_privs",
    "capabilities",
    "setuid_exec",
    "tcp_loopback",
    "udp_loopback",
    "raw_socket",
    "packet_socket",
    "net_interfaces",
    "abstract_unix",
    "pathname_unix",
    "host_fifo",
    "kill_host",
    "ptrace",
    "process_vm",
    "mount",
    "unshare",
    "clone_newuser",
    "setns",
    "tiocsti",
    "io_uring",
    "keyctl",
    "add_key",
    "bpf",
    "perf_event",
    "userfaultfd",
    "clone3",
    "personality",
    "x32_syscall",
    "i386_syscall",
];

/// The content of a file outside the workspace that anyone may write.
const UNTOUCHED: &str = "untouched\n";

/// What the test sets up on the host for the probe to reach for, and
/// checks once the probe is done.
struct Host {
    tmp_file: PathBuf,
    tmp_canary: PathBuf,
    home_file: PathBuf,
    home_canary: Option<PathBuf>,
    shm: Option<(PathBuf, PathBuf)>,
    etc_file: PathBuf,
    secret: PathBuf,
    secret_marker: String,
    tcp: TcpListener,
    udp: UdpSocket,
    unix: UnixListener,
    abstract_name: String,
    socket_file: UnixListener,
    socket_path: PathBuf,
    fifo: fs::File,
    fifo_path: PathBuf,
    outside_file: PathBuf,
    sleeper: Child,
    sleeper_marker: String,
}

impl Host {
    fn new(scratch: &Scratch) -> Host {
        let tag = sandbox::unique("cordon-probe");
        let tmp_canary = PathBuf::from(format!("/tmp/{tag}-canary"));
        fs::write(&tmp_canary, "canary\n").expect("cannot write the canary");
        let real_home = std::env::var_os("HOME").unwrap_or("/root".into());
        let real_home = PathBuf::from(real_home);
        let home_canary = fs::read_dir(&real_home)
            .ok()
            .and_then(|mut entries| entries.next())
            .and_then(|entry| Some(entry.ok()?.path()));

        let (secret, secret_marker) = plant_secret(&scratch.home, &tag);
        let tcp = TcpListener::bind("127.0.0.1:0").expect("cannot listen");
        let udp = UdpSocket::bind("127.0.0.1:0").expect("cannot bind udp");
        tcp.set_nonblocking(true).expect("cannot set non-blocking");
        udp.set_nonblocking(true).expect("cannot set non-blocking");
        let abstract_name = tag.clone();
        let unix = bind_abstract(&abstract_name);
        // A socket file and a named pipe outside the workspace, open to
        // anyone on the host, so that only the sandbox stops nobody.
        let socket_path = scratch.root.join("host.sock");
        let socket_file = bind_socket_file(&socket_path);
        let fifo_path = scratch.root.join("host.fifo");
        let fifo = open_fifo(&fifo_path);
        let outside_file = scratch.root.join("outside.txt");
        fs::write(&outside_file, UNTOUCHED).expect("cannot write a file");
        sandbox::chmod(&outside_file, 0o666);
        let (sleeper, sleeper_marker) = start_sleeper(&tag);

        Host {
            tmp_file: PathBuf::from(format!("/tmp/{tag}")),
            tmp_canary,
            home_file: real_home.join(&tag),
            home_canary,
            shm: shm_paths(&tag),
            etc_file: PathBuf::from(format!("/etc/{tag}")),
            secret,
            secret_marker,
            tcp,
            udp,
            unix,
            abstract_name,
            socket_file,
            socket_path,
            fifo,
            fifo_path,
            outside_file,
            sleeper,
            sleeper_marker,
        }
    }

    /// The probe's options naming all of the above.
    fn probe_args(&self) -> Vec<String> {
        let mut args = vec![
            format!("--host-tmp={}", self.tmp_file.display()),
            format!("--host-tmp-canary={}", self.tmp_canary.display()),
            format!("--real-home-file={}", self.home_file.display()),
            format!("--etc-file={}", self.etc_file.display()),
            format!("--secret={}", self.secret.display()),
            format!("--tcp-port={}", port(self.tcp.local_addr())),
            format!("--udp-port={}", port(self.udp.local_addr())),
            format!("--abstract={}", self.abstract_name),
            format!("--host-pid={}", self.sleeper.id()),
            format!("--host-pid-marker={}", self.sleeper_marker),
            format!("--unix-path={}", self.socket_path.display()),
            format!("--fifo={}", self.fifo_path.display()),
            format!("--outside-file={}", self.outside_file.display()),
        ];
        if let Some((file, canary)) = &self.shm {
            args.push(format!("--host-shm={}", file.display()));
            args.push(format!("--host-shm-canary={}", canary.display()));
        }
        if let Some(canary) = &self.home_canary {
            args.push(format!("--real-home-canary={}", canary.display()));
        }
        args
    }

    /// What changed on the host, if anything: files created, packets or
    /// connections received, the host process gone or stopped, the
    /// secret in the output. Removes any file it finds.
    fn changes(&mut self, outcome: &Outcome) -> Vec<String> {
        let mut changes = Vec::new();
        let shm = self.shm.iter().map(|(file, _)| file.clone());
        for path in [
            self.tmp_file.clone(),
            link_target(&self.tmp_file),
            self.home_file.clone(),
            self.etc_file.clone(),
            link_target(&self.etc_file),
        ]
        .into_iter()
        .chain(shm)
        {
            if path.symlink_metadata().is_ok() {
                changes.push(format!("{} was created", path.display()));
                let _ = fs::remove_file(&path);
            }
        }
        let outside = fs::read_to_string(&self.outside_file);
        if outside.as_deref().ok() != Some(UNTOUCHED) {
            changes.push(format!("the outside file changed: {outside:?}"));
        }
        if !would_block(self.tcp.accept().map(|_| ())) {
            changes.push("the TCP listener got a connection".into());
        }
        let mut buffer = [0u8; 64];
        if !would_block(self.udp.recv_from(&mut buffer).map(|_| ())) {
            changes.push("the UDP socket got a datagram".into());
        }
        if !would_block(self.unix.accept().map(|_| ())) {
            changes.push("the abstract socket got a connection".into());
        }
        if !would_block(self.socket_file.accept().map(|_| ())) {
            changes.push("the socket file got a connection".into());
        }
        match self.fifo.read(&mut buffer) {
            Ok(0) => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            other => changes.push(format!("the named pipe got {other:?}")),
        }
        match self.sleeper.try_wait() {
            Ok(None) if is_stopped(self.sleeper.id()) => {
                changes.push("the host process was stopped".into());
            }
            Ok(None) => {}
            other => {
                changes.push(format!("the host process ended: {other:?}"))
            }
        }
        let output = format!("{}{}", outcome.stdout, outcome.stderr);
        if output.contains(&self.secret_marker) {
            changes.push("the secret's content was printed".into());
        }
        changes
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.sleeper.kill(); // the test's own child
        let _ = self.sleeper.wait();
        let _ = fs::remove_file(&self.tmp_canary);
        if let Some((_, canary)) = &self.shm {
            let _ = fs::remove_file(canary);
        }
    }
}

fn bind_abstract(name: &str) -> UnixListener {
    let address = SocketAddr::from_abstract_name(name.as_bytes())
        .expect("cannot name an abstract socket");
    let listener = UnixListener::bind_addr(&address)
        .expect("cannot bind an abstract socket");
    listener.set_nonblocking(true).expect("cannot set non-blocking");
    listener
}

fn bind_socket_file(path: &Path) -> UnixListener {
    let listener = UnixListener::bind(path).expect("cannot bind a socket");
    sandbox::chmod(path, 0o777);
    listener.set_nonblocking(true).expect("cannot set non-blocking");
    listener
}

/// A file to try in the host's `/dev/shm`, and a canary made beside it.
fn shm_paths(tag: &str) -> Option<(PathBuf, PathBuf)> {
    Path::new("/dev/shm").is_dir().then(|| {
        let canary = PathBuf::from(format!("/dev/shm/{tag}-canary"));
        fs::write(&canary, "canary\n").expect("cannot write to /dev/shm");
        (PathBuf::from(format!("/dev/shm/{tag}")), canary)
    })
}

/// A host process for the probe to look for, and its marker. `sleep`
/// takes a fraction: the digits make its command line unique, so the
/// probe can tell it from a process of its own.
fn start_sleeper(tag: &str) -> (Child, String) {
    let nanos = tag.rsplit('-').nth(1).expect("unique has a clock");
    let marker = format!("60.{}{nanos}", std::process::id());
    let child = Command::new("sleep")
        .arg(&marker)
        .spawn()
        .expect("cannot start sleep");
    (child, marker)
}

/// Makes a named pipe anyone may write and opens its reading end
/// without blocking, so that a writer would not block either.
fn open_fifo(path: &Path) -> fs::File {
    let made = Command::new("mkfifo")
        .args(["-m", "666"])
        .arg(path)
        .status()
        .expect("cannot run mkfifo");
    assert!(made.success(), "mkfifo {} failed", path.display());
    fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .expect("cannot open the named pipe")
}

/// A private key in `home/.ssh`, readable by anyone on the host, so that
/// only the sandbox keeps nobody from reading it.
fn plant_secret(home: &Path, tag: &str) -> (PathBuf, String) {
    let ssh = home.join(".ssh");
    fs::create_dir_all(&ssh).expect("cannot make .ssh");
    sandbox::chmod(&ssh, 0o755);
    let marker = format!("CORDON-SECRET-{tag}");
    let secret = ssh.join("id_rsa");
    fs::write(&secret, format!("-----BEGIN KEY-----\n{marker}\n"))
        .expect("cannot plant the secret");
    sandbox::chmod(&secret, 0o644);
    (secret, marker)
}

fn port(address: std::io::Result<std::net::SocketAddr>) -> u16 {
    address.expect("a bound socket has an address").port()
}

/// Where the probe's symbolic link writes for `path`.
fn link_target(path: &Path) -> PathBuf {
    PathBuf::from(format!("{}.link", path.display()))
}

fn would_block(result: std::io::Result<()>) -> bool {
    matches!(result, Err(e) if e.kind() == ErrorKind::WouldBlock)
}

/// Whether `pid` is stopped (or traced), from `/proc/PID/stat`.
fn is_stopped(pid: u32) -> bool {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat"));
    let stat = stat.unwrap_or_default();
    let state = stat.rsplit(") ").next().and_then(|s| s.chars().next());
    matches!(state, Some('T' | 't'))
}

/// Runs the probe's escape group in `sandbox` and checks the probe's
/// report and the host.
fn probe_finds_no_way_out(scratch: &Scratch, sandbox: Sandbox) {
    let mut host = Host::new(scratch);
    let probe = scratch.probe();
    let workspace = format!("--workspace={}", scratch.workspace.display());
    let mut command = vec![PYTHON, &probe, &workspace];
    let args = host.probe_args();
    command.extend(args.iter().map(String::as_str));
    command.push("escape");

    let outcome = sandbox.run(&command);

    let changes = host.changes(&outcome);
    assert_eq!(outcome.code, Some(0), "the probe did not finish\n{outcome}");
    let report = outcome.probe();
    let mut escapes = Vec::new();
    for name in ATTEMPTS {
        match report.get(*name) {
            None => escapes.push(format!("{name}: not reported")),
            Some(entry) if entry["escaped"] != false => {
                escapes.push(format!("{name}: {entry}"));
            }
            Some(_) => {}
        }
    }
    note_setuid_left_behind(scratch, &report);
    assert!(
        escapes.is_empty() && changes.is_empty(),
        "the sandbox leaked\nprobe: {escapes:#?}\nhost: {changes:#?}\n\
         {outcome}"
    );
}

/// A setuid bit that held on a file in the workspace is harmless inside
/// (nosuid, no_new_privs) but is still there on the host afterwards;
/// says so, since it is a hazard for whoever runs files from there.
fn note_setuid_left_behind(
    scratch: &Scratch,
    report: &serde_json::Map<String, serde_json::Value>,
) {
    let copy = scratch.workspace.join("probe-suid-id");
    let Ok(meta) = fs::metadata(&copy) else { return };
    if meta.mode() & 0o4000 != 0 {
        eprintln!(
            "note: the sandboxed command left a setuid file owned by uid {} \
             in the workspace ({})",
            meta.uid(),
            report["setuid_workspace"]["detail"]
        );
    }
}

#[test]
fn the_probe_finds_no_way_out_as_root() {
    if !sandbox::is_root() {
        sandbox::skip("as_root", "the test is not running as root");
        return;
    }
    let scratch = Scratch::new();
    probe_finds_no_way_out(&scratch, Sandbox::new(&scratch));
}

#[test]
fn the_probe_finds_no_way_out_as_nobody() {
    if let Some(why) = sandbox::nobody_unavailable() {
        sandbox::skip("as_nobody", &why);
        return;
    }
    let scratch = Scratch::new();
    probe_finds_no_way_out(&scratch, Sandbox::nobody(&scratch));
}

#[test]
fn terminal_injection_is_refused_on_a_real_terminal() {
    if !sandbox::has_tool("script") {
        sandbox::skip("terminal", "script (util-linux) is not installed");
        return;
    }
    let scratch = Scratch::new();
    let probe = scratch.probe();

    // `-q`: on a terminal cordon's own lines would mix with the JSON.
    let outcome = Sandbox::new(&scratch)
        .on_terminal()
        .options(&["-q"])
        .run(&[PYTHON, &probe, "tiocsti", "no_new_privs"]);

    assert_eq!(outcome.code, Some(0), "{outcome}");
    let report = outcome.probe();
    assert_eq!(report["tiocsti"]["escaped"], false, "{outcome}");
    assert_eq!(report["no_new_privs"]["escaped"], false, "{outcome}");
}

#[test]
fn a_fork_bomb_stops_at_the_pids_limit() {
    let scratch = Scratch::new();
    fork_bomb(&scratch, Sandbox::new(&scratch));
}

/// As nobody, cordon cannot make a cgroup here and falls back on
/// `RLIMIT_NPROC`.
#[test]
fn a_fork_bomb_stops_at_the_pids_limit_as_nobody() {
    if let Some(why) = sandbox::nobody_unavailable() {
        sandbox::skip("fork_bomb_as_nobody", &why);
        return;
    }
    let scratch = Scratch::new();
    fork_bomb(&scratch, Sandbox::nobody(&scratch));
}

fn fork_bomb(scratch: &Scratch, sandbox: Sandbox) {
    let probe = scratch.probe();
    let command = [PYTHON, &probe, "--pids-limit=32", "fork"];

    let outcome = sandbox.options(&["--pids", "32"]).run(&command);

    assert_eq!(outcome.code, Some(0), "{outcome}");
    let fork = &outcome.probe()["fork"];
    let count = fork["count"].as_u64().expect("the probe counts its forks");
    assert!(count < 32, "{count} forks under --pids 32\n{outcome}");
    assert_eq!(fork["escaped"], false, "{outcome}");
}

#[test]
fn a_memory_bomb_stops_at_the_memory_limit() {
    let scratch = Scratch::new();
    memory_bomb(&scratch, Sandbox::new(&scratch));
}

/// As nobody, cordon cannot make a cgroup here and falls back on
/// `RLIMIT_AS`.
#[test]
fn a_memory_bomb_stops_at_the_memory_limit_as_nobody() {
    if let Some(why) = sandbox::nobody_unavailable() {
        sandbox::skip("memory_bomb_as_nobody", &why);
        return;
    }
    let scratch = Scratch::new();
    memory_bomb(&scratch, Sandbox::nobody(&scratch));
}

fn memory_bomb(scratch: &Scratch, sandbox: Sandbox) {
    let probe = scratch.probe();
    let command = [PYTHON, &probe, "--memory-limit-mib=128", "memory"];

    let outcome = sandbox.options(&["--memory", "128M"]).run(&command);

    let progress = scratch.workspace.join("probe-memory-progress");
    let reached: u64 = fs::read_to_string(&progress)
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(0);
    assert!(reached < 128, "touched {reached} MiB under 128M\n{outcome}");
    match outcome.code {
        // The OOM killer ended it: 128 + SIGKILL.
        Some(137) => {}
        // Allocation failed first (an address-space limit).
        Some(0) => {
            let memory = &outcome.probe()["memory"];
            assert_eq!(memory["escaped"], false, "{outcome}");
        }
        _ => panic!("neither killed nor refused\n{outcome}"),
    }
}

#[test]
fn a_busy_loop_ends_at_the_timeout() {
    let scratch = Scratch::new();
    let probe = scratch.probe();

    let outcome = Sandbox::new(&scratch)
        .options(&["--timeout", "2s"])
        .deadline(Duration::from_secs(70))
        .run(&[PYTHON, &probe, "spin"]);

    assert_eq!(outcome.code, Some(124), "{outcome}");
    let elapsed = outcome.elapsed;
    assert!(elapsed >= Duration::from_millis(1900), "too soon\n{outcome}");
    assert!(elapsed < Duration::from_secs(10), "too late\n{outcome}");
    let until = Instant::now() + Duration::from_secs(2);
    while !sandbox::processes_with(&probe).is_empty() {
        assert!(Instant::now() < until, "the loop survived\n{outcome}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
