//! What the `cordon run` tests share: a scratch directory holding a
//! workspace and a home, `cordon run` as the current user or as an
//! unprivileged one, always with a deadline, and the escape probe.
//!
//! Every run has a deadline: a sandbox that hangs fails its test
//! instead of hanging the suite, and the only process killed then is
//! the child the test spawned, by its pid.

#![allow(dead_code)]

use std::fmt;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The escape probe, written into each workspace that runs it.
pub const PROBE: &str = include_str!("../probe/probe.py");

/// The Python the sandbox runs: the system's, which `$HOME` does not
/// hide.
pub const PYTHON: &str = "/usr/bin/python3";

/// The user and group the unprivileged runs switch to.
pub const NOBODY: u32 = 65534;

/// The `PATH` every sandboxed command gets.
pub const PATH: &str = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";

/// How long a run may take unless a test says otherwise.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// The `cordon` binary under test.
pub fn cordon_bin() -> &'static str {
    env!("CARGO_BIN_EXE_cordon")
}

/// A word no other run of any test shares: `prefix`, the test
/// process's pid, the clock and a counter.
pub fn unique(prefix: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is before 1970")
        .subsec_nanos();
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}-{}-{nanos}-{n}", std::process::id())
}

/// A scratch directory under the target directory (not under `/tmp`,
/// which the sandbox replaces): a workspace anyone may write, a home
/// anyone may read, and room for the test's own files beside them.
pub struct Scratch {
    _dir: tempfile::TempDir,
    /// The scratch directory itself (mode 0755).
    pub root: PathBuf,
    /// The directory `cordon run` runs in and may write (mode 0777).
    pub workspace: PathBuf,
    /// The directory given to the sandbox as `HOME` (mode 0755).
    pub home: PathBuf,
}

impl Scratch {
    /// A fresh scratch directory.
    pub fn new() -> Scratch {
        let dir = tempfile::Builder::new()
            .prefix("cordon-run-")
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .expect("cannot make a scratch directory");
        let root = dir.path().to_path_buf();
        let workspace = root.join("workspace");
        let home = root.join("home");
        fs::create_dir(&workspace).expect("cannot make the workspace");
        fs::create_dir(&home).expect("cannot make the home");
        chmod(&root, 0o755);
        chmod(&workspace, 0o777);
        chmod(&home, 0o755);
        Scratch { _dir: dir, root, workspace, home }
    }

    /// Writes `data` to `relative` in the workspace, making its parent
    /// directories; returns the absolute path.
    pub fn write(&self, relative: &str, data: &str) -> PathBuf {
        let path = self.workspace.join(relative);
        let parent = path.parent().expect("a file has a parent");
        fs::create_dir_all(parent).expect("cannot make a fixture directory");
        fs::write(&path, data).expect("cannot write a fixture");
        chmod(&path, 0o644);
        path
    }

    /// Writes the probe into the workspace; returns its path.
    pub fn probe(&self) -> String {
        self.write("probe.py", PROBE).display().to_string()
    }
}

/// Sets the mode bits of `path`.
pub fn chmod(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("cannot chmod {}: {e}", path.display()));
}

/// `cordon run` being put together: who runs it, its options, the
/// environment it starts with.
pub struct Sandbox {
    prefix: Vec<String>,
    options: Vec<String>,
    env: Vec<(String, String)>,
    cwd: PathBuf,
    outputs: PathBuf,
    deadline: Duration,
    terminal: bool,
}

impl Sandbox {
    /// `cordon run` as the test's own user, in `scratch`'s workspace,
    /// with a small clean environment whose `HOME` is the scratch home.
    pub fn new(scratch: &Scratch) -> Sandbox {
        let home = scratch.home.display().to_string();
        Sandbox {
            prefix: Vec::new(),
            options: Vec::new(),
            env: vec![
                ("PATH".into(), PATH.into()),
                ("HOME".into(), home),
                ("LANG".into(), "C.UTF-8".into()),
            ],
            cwd: scratch.workspace.clone(),
            outputs: scratch.root.clone(),
            deadline: DEADLINE,
            terminal: false,
        }
    }

    /// The same, run through `setpriv` as nobody with no capabilities.
    pub fn nobody(scratch: &Scratch) -> Sandbox {
        let mut sandbox = Sandbox::new(scratch);
        sandbox.prefix = setpriv_nobody();
        sandbox
    }

    /// Sets `name` in the environment cordon starts with.
    pub fn env(mut self, name: &str, value: &str) -> Sandbox {
        self.env.retain(|(n, _)| n != name);
        self.env.push((name.into(), value.into()));
        self
    }

    /// Adds options of `cordon run`, before the `--`.
    pub fn options(mut self, options: &[&str]) -> Sandbox {
        self.options.extend(options.iter().map(|o| o.to_string()));
        self
    }

    /// Runs cordon from `dir` instead of the workspace.
    pub fn cwd(mut self, dir: &Path) -> Sandbox {
        self.cwd = dir.to_path_buf();
        self
    }

    /// How long the run may take before the test kills it and fails.
    pub fn deadline(mut self, deadline: Duration) -> Sandbox {
        self.deadline = deadline;
        self
    }

    /// Runs cordon on a pseudo-terminal of its own, through `script`
    /// (util-linux), as from an interactive shell: the terminal is then
    /// cordon's controlling terminal. Output comes back with `\r\n`.
    pub fn on_terminal(mut self) -> Sandbox {
        self.terminal = true;
        self
    }

    /// Runs `command` in the sandbox and waits for it, within the
    /// deadline.
    pub fn run(self, command: &[&str]) -> Outcome {
        let deadline = self.deadline;
        self.spawn(command).wait(deadline)
    }

    /// Starts `command` in the sandbox without waiting.
    pub fn spawn(self, command: &[&str]) -> Running {
        let mut argv: Vec<String> = self.prefix.clone();
        argv.push(cordon_bin().into());
        argv.push("run".into());
        argv.extend(self.options.iter().cloned());
        argv.push("--".into());
        argv.extend(command.iter().map(|c| c.to_string()));
        if self.terminal {
            let line: Vec<String> = argv.iter().map(|a| quote(a)).collect();
            let line = line.join(" ");
            argv =
                vec!["script".into(), "-qec".into(), line, "/dev/null".into()];
        }

        let name = unique("out");
        let stdout = self.outputs.join(format!("{name}.stdout"));
        let stderr = self.outputs.join(format!("{name}.stderr"));
        let mut process = Command::new(&argv[0]);
        process
            .args(&argv[1..])
            .current_dir(&self.cwd)
            .env_clear()
            .envs(self.env.iter().map(|(n, v)| (n, v)))
            .stdin(Stdio::null())
            .stdout(create(&stdout))
            .stderr(create(&stderr));
        let shown = shell_words(&self.env, &argv);
        let child = process
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {shown}: {e}"));
        Running { child, shown, started: Instant::now(), stdout, stderr }
    }
}

/// `word` quoted for `sh`.
fn quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', "'\\''"))
}

fn create(path: &Path) -> fs::File {
    fs::File::create(path)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()))
}

/// The command line as a person would type it, for messages.
fn shell_words(env: &[(String, String)], argv: &[String]) -> String {
    let vars = env.iter().filter(|(n, _)| n != "PATH" && n != "LANG");
    let vars = vars.map(|(n, v)| format!("{n}={v}"));
    vars.chain(argv.iter().cloned()).collect::<Vec<_>>().join(" ")
}

/// The `setpriv` prefix that runs a command as nobody, with no groups
/// and no capabilities.
pub fn setpriv_nobody() -> Vec<String> {
    vec![
        "setpriv".into(),
        format!("--reuid={NOBODY}"),
        format!("--regid={NOBODY}"),
        "--clear-groups".into(),
        "--inh-caps=-all".into(),
    ]
}

/// A sandbox that was started and not yet waited for.
pub struct Running {
    child: Child,
    shown: String,
    started: Instant,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl Running {
    /// The pid of the process the test started (cordon, or setpriv that
    /// became cordon).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends `signal` (a name such as `INT`) to cordon, by its pid.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.pid().to_string())
            .status()
            .expect("cannot run kill");
        assert!(status.success(), "kill -{signal} {} failed", self.pid());
    }

    /// Whether cordon is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Waits for cordon to end; past `deadline` from its start, kills it
    /// (the child the test spawned, by its pid) and fails the test.
    pub fn wait(mut self, deadline: Duration) -> Outcome {
        let status = wait_until(&mut self.child, self.started + deadline);
        let elapsed = self.started.elapsed();
        let Some(status) = status else {
            let _ = self.child.kill();
            let _ = self.child.wait();
            let partial = self.outcome(None, elapsed);
            panic!("still running after {deadline:?}; killed it\n{partial}");
        };
        self.outcome(Some(status), elapsed)
    }

    fn outcome(
        &self,
        status: Option<ExitStatus>,
        elapsed: Duration,
    ) -> Outcome {
        Outcome {
            command: self.shown.clone(),
            code: status.and_then(|s| s.code()),
            signal: status.and_then(|s| s.signal()),
            stdout: read_lossy(&self.stdout),
            stderr: read_lossy(&self.stderr),
            elapsed,
        }
    }
}

/// Polls `child` until it exits or `until` passes.
pub fn wait_until(child: &mut Child, until: Instant) -> Option<ExitStatus> {
    loop {
        match child.try_wait().expect("cannot wait for a child") {
            Some(status) => return Some(status),
            None if Instant::now() >= until => return None,
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

fn read_lossy(path: &Path) -> String {
    String::from_utf8_lossy(&fs::read(path).unwrap_or_default()).into_owned()
}

/// How one `cordon run` ended, with what a failing assertion needs to
/// explain itself.
pub struct Outcome {
    /// The command line, for messages.
    pub command: String,
    /// cordon's exit code; `None` when a signal ended it.
    pub code: Option<i32>,
    /// The signal that ended cordon itself, if one did.
    pub signal: Option<i32>,
    /// Standard output, lossily decoded.
    pub stdout: String,
    /// Standard error, lossily decoded.
    pub stderr: String,
    /// Wall-clock time from start to end.
    pub elapsed: Duration,
}

impl Outcome {
    /// The probe's report: its standard output as a JSON object.
    pub fn probe(&self) -> serde_json::Map<String, serde_json::Value> {
        match serde_json::from_str(&self.stdout) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => panic!("the probe printed no JSON object\n{self}"),
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "$ {}\nexit: {:?}, signal: {:?}, after {:?}\n--- stdout\n{}\n\
             --- stderr\n{}",
            self.command,
            self.code,
            self.signal,
            self.elapsed,
            self.stdout,
            self.stderr
        )
    }
}

/// Reads a JSON file cordon wrote, failing with `outcome` when it is
/// missing or broken.
pub fn read_json(path: &Path, outcome: &Outcome) -> serde_json::Value {
    let text = fs::read_to_string(path).unwrap_or_else(|e| {
        panic!("no report at {}: {e}\n{outcome}", path.display())
    });
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("report is not JSON ({e}): {text}"))
}

/// Whether the test runs with effective uid 0.
pub fn is_root() -> bool {
    let status = fs::read_to_string("/proc/self/status")
        .expect("cannot read /proc/self/status");
    let uid = status.lines().find_map(|l| l.strip_prefix("Uid:"));
    let effective = uid.and_then(|u| u.split_whitespace().nth(1));
    effective == Some("0")
}

/// Whether `program` is on the test's `PATH`.
pub fn has_tool(program: &str) -> bool {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path).any(|dir| dir.join(program).is_file())
}

/// Says why a test does nothing here; the suite still passes.
pub fn skip(test: &str, why: &str) {
    eprintln!("{test}: SKIPPED: {why}");
}

/// Why the tests cannot run the sandbox as nobody here, if they cannot:
/// not root (so no `setpriv` to another user), no `setpriv`, the binary
/// out of nobody's reach, or a kernel that refuses unprivileged user
/// namespaces.
pub fn nobody_unavailable() -> Option<String> {
    if !is_root() {
        return Some("switching to nobody needs root".into());
    }
    if !has_tool("setpriv") {
        return Some("setpriv (util-linux) is not installed".into());
    }
    if !as_nobody(&["test", "-x", cordon_bin()]) {
        return Some(format!("nobody cannot execute {}", cordon_bin()));
    }
    if !as_nobody(&["unshare", "--user", "--map-root-user", "true"]) {
        return Some("the kernel refuses unprivileged user namespaces".into());
    }
    None
}

fn as_nobody(command: &[&str]) -> bool {
    let prefix = setpriv_nobody();
    Command::new(&prefix[0])
        .args(&prefix[1..])
        .args(command)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The pids of processes whose command line contains `marker`, the
/// test's own excepted.
pub fn processes_with(marker: &str) -> Vec<u32> {
    let me = std::process::id();
    let Ok(entries) = fs::read_dir("/proc") else { return Vec::new() };
    let pids =
        entries.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok());
    pids.filter(|&pid: &u32| pid != me)
        .filter(|pid| {
            let cmdline = fs::read(format!("/proc/{pid}/cmdline"));
            let cmdline =
                String::from_utf8_lossy(&cmdline.unwrap_or_default())
                    .replace('\0', " ");
            cmdline.contains(marker)
        })
        .collect()
}
