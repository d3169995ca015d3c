//! Runs real commands through the sandbox on the running kernel.
//!
//! Each test skips, saying why, where the kernel does not allow user
//! namespaces; the cgroup test also needs root. Tests are serialised
//! from their first line: the sandbox clones without the C library's
//! fork handlers, so no other test may be allocating meanwhile.

use std::ffi::OsString;
use std::fs;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use cordon_sandbox::{Error, Limits, RunReport, SandboxConfig};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A configuration running `sh -c script` in `workspace`, with a small
/// known environment.
fn shell(workspace: &Path, script: &str) -> SandboxConfig {
    let command = ["/bin/sh", "-c", script].map(OsString::from).to_vec();
    let mut config = SandboxConfig::new(command, workspace.to_path_buf());
    config.cwd = workspace.to_path_buf();
    config.env = vec![
        ("PATH".into(), "/usr/local/bin:/usr/bin:/bin".into()),
        ("HOME".into(), "/root".into()),
    ];
    config
}

/// Runs `config`; `None` (after saying why) where this machine cannot
/// create the sandbox's namespaces.
fn run(config: &SandboxConfig) -> Option<RunReport> {
    match cordon_sandbox::run(config) {
        Ok(report) => Some(report),
        Err(err @ Error::Os { .. })
            if err.to_string().contains("namespaces") =>
        {
            eprintln!("skipped: user namespaces unavailable: {err}");
            None
        }
        Err(err) => panic!("sandbox failed: {err}"),
    }
}

fn workspace() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("cordon-test-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("create a workspace")
}

fn read(dir: &Path, name: &str) -> String {
    fs::read_to_string(dir.join(name)).unwrap_or_default()
}

#[test]
fn exit_status_passes_through() {
    let _serial = serial();
    let dir = workspace();
    let Some(report) = run(&shell(dir.path(), "exit 7")) else { return };
    assert_eq!((report.exit.code, report.exit.status), (Some(7), 7));

    let killed = shell(dir.path(), "kill -9 $$");
    let Some(report) = run(&killed) else { return };
    assert_eq!((report.exit.signal, report.exit.status), (Some(9), 137));
}

#[test]
fn a_missing_command_is_127() {
    let _serial = serial();
    let dir = workspace();
    let mut config = shell(dir.path(), "");
    config.command = vec!["cordon-no-such-command".into()];
    let Some(report) = run(&config) else { return };
    assert_eq!(report.exit.status, 127);
    assert!(report.exit.error.unwrap().contains("not found"));
}

#[test]
fn the_root_is_read_only_and_the_workspace_writable() {
    let _serial = serial();
    let dir = workspace();
    let script = "touch /etc/cordon-probe; echo $? > etc; \
                  echo hi > created";
    let Some(report) = run(&shell(dir.path(), script)) else { return };
    assert_eq!(report.exit.status, 0);
    assert_ne!(read(dir.path(), "etc").trim(), "0");
    assert!(!Path::new("/etc/cordon-probe").exists());
    assert_eq!(read(dir.path(), "created"), "hi\n");
}

#[test]
fn home_is_empty_and_tmp_is_fresh() {
    let _serial = serial();
    let dir = workspace();
    let home = tempfile::tempdir().expect("create a home");
    fs::write(home.path().join("secret.txt"), "s").expect("write");
    let marker = tempfile::NamedTempFile::new().expect("create in /tmp");

    let script = format!(
        "ls -A \"$HOME\" > home; test -e {} && echo seen > tmp; \
         echo $HOME > home_var",
        marker.path().display()
    );
    let mut config = shell(dir.path(), &script);
    config.env.retain(|(name, _)| name != "HOME");
    config.env.push(("HOME".into(), home.path().into()));
    let Some(report) = run(&config) else { return };
    assert_eq!(report.exit.status, 0);
    assert_eq!(read(dir.path(), "home"), "");
    assert_eq!(read(dir.path(), "tmp"), "");
    let home_var = read(dir.path(), "home_var");
    assert_eq!(home_var.trim(), home.path().to_str().unwrap());
}

#[test]
fn the_network_has_only_loopback() {
    let _serial = serial();
    let dir = workspace();
    let script = "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' > net";
    let Some(report) = run(&shell(dir.path(), script)) else { return };
    assert_eq!(report.exit.status, 0);
    assert_eq!(read(dir.path(), "net"), "lo\n");
}

#[test]
fn credentials_are_removed_from_the_environment() {
    let _serial = serial();
    let dir = workspace();
    let mut config =
        shell(dir.path(), "echo \"$NPM_TOKEN|$PLAIN|$GH_TOKEN\" > env");
    config.env.push(("NPM_TOKEN".into(), "npm-secret".into()));
    config.env.push(("GH_TOKEN".into(), "passed".into()));
    config.env.push(("PLAIN".into(), "plain".into()));
    config.env_pass = vec!["GH_TOKEN".into()];
    let Some(report) = run(&config) else { return };
    assert_eq!(read(dir.path(), "env"), "|plain|passed\n");
    assert_eq!(report.env_removed, ["NPM_TOKEN"]);
    let json = format!("{report:?}");
    assert!(!json.contains("npm-secret"));
}

#[test]
fn the_timeout_kills_the_whole_tree() {
    let _serial = serial();
    let dir = workspace();
    let mut config = shell(dir.path(), "sleep 100");
    config.limits.timeout_ms = Some(300);
    let started = Instant::now();
    let Some(report) = run(&config) else { return };
    assert!(report.timed_out);
    assert_eq!(report.exit.status, 124);
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn background_processes_die_with_the_command() {
    let _serial = serial();
    let dir = workspace();
    let config = shell(dir.path(), "(sleep 1; touch late) & exit 0");
    let Some(report) = run(&config) else { return };
    assert_eq!(report.exit.status, 0);
    std::thread::sleep(Duration::from_millis(1500));
    assert!(!dir.path().join("late").exists());
}

#[test]
fn capabilities_are_gone_and_tcp_is_refused() {
    let _serial = serial();
    let dir = workspace();
    let script = "grep -E '^Cap(Eff|Prm|Bnd|Amb)' /proc/self/status \
                  | awk '{print $2}' | sort -u > caps";
    let Some(report) = run(&shell(dir.path(), script)) else { return };
    assert_eq!(report.exit.status, 0);
    assert_eq!(read(dir.path(), "caps"), "0000000000000000\n");

    if !Path::new("/bin/bash").exists() {
        eprintln!("skipped the tcp check: no /bin/bash");
        return;
    }
    let mut config = shell(dir.path(), "");
    let connect = "{ exec 3<>/dev/tcp/127.0.0.1/9; } 2> tcp";
    config.command = ["/bin/bash", "-c", connect].map(OsString::from).to_vec();
    let Some(report) = run(&config) else { return };
    assert_ne!(report.exit.status, 0);
    let landlock = report.layers.iter().find(|l| l.layer.name() == "landlock");
    if landlock.is_some_and(|l| !l.details.iter().any(|d| d.contains("abi 0")))
    {
        assert!(read(dir.path(), "tcp").contains("Permission denied"));
    }
}

#[test]
fn no_cgroup_is_left_behind() {
    let _serial = serial();
    if !is_root() {
        eprintln!("skipped: creating cgroups needs root");
        return;
    }
    let dir = workspace();
    let mut config = shell(dir.path(), "cat /proc/self/cgroup > cgroups");
    config.limits = Limits {
        memory_bytes: Some(256 << 20),
        pids: Some(64),
        timeout_ms: None,
    };
    let Some(report) = run(&config) else { return };
    assert_eq!(report.exit.status, 0);
    let cgroups = read(dir.path(), "cgroups");
    assert!(cgroups.contains("cordon-"), "not in a cgroup: {cgroups}");

    for controller in ["memory", "pids"] {
        let root = Path::new("/sys/fs/cgroup").join(controller);
        let Ok(entries) = fs::read_dir(&root) else { continue };
        let name = format!("cordon-{}", std::process::id());
        for entry in entries.flatten() {
            assert_ne!(entry.file_name().to_string_lossy(), name);
        }
    }
}

fn is_root() -> bool {
    fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|line| line.starts_with("Uid:"))
        .is_some_and(|line| line.split_whitespace().nth(2) == Some("0"))
}

#[test]
fn ro_rw_and_hide_paths_are_honoured() {
    let _serial = serial();
    let dir = workspace();
    let extra = workspace();
    let shown = extra.path().join("shown");
    let writable = extra.path().join("writable");
    let hidden = extra.path().join("hidden");
    for sub in [&shown, &writable, &hidden] {
        fs::create_dir(sub).expect("create a directory");
        fs::write(sub.join("file"), "host").expect("write");
    }
    let script = format!(
        "cat {s}/file > shown; echo x > {s}/file; echo $? > ro_status; \
         echo sandbox > {w}/file; ls -A {h} > hidden",
        s = shown.display(),
        w = writable.display(),
        h = hidden.display()
    );
    let mut config = shell(dir.path(), &script);
    config.ro = vec![shown.clone()];
    config.rw = vec![writable.clone()];
    config.hide = vec![hidden.clone()];
    let Some(report) = run(&config) else { return };
    assert_eq!(report.exit.status, 0);
    assert_eq!(read(dir.path(), "shown"), "host");
    assert_ne!(read(dir.path(), "ro_status").trim(), "0");
    assert_eq!(read(&shown, "file"), "host");
    assert_eq!(read(&writable, "file"), "sandbox\n");
    assert_eq!(read(dir.path(), "hidden"), "");
}

#[test]
fn setuid_bits_and_host_socket_files_are_refused() {
    let _serial = serial();
    let dir = workspace();
    let script = "touch f; chmod 4755 f; echo $? > chmod; chmod 755 f; \
                  echo $? > plain";
    let Some(report) = run(&shell(dir.path(), script)) else { return };
    assert_eq!(report.exit.status, 0);
    assert_ne!(read(dir.path(), "chmod").trim(), "0");
    assert_eq!(read(dir.path(), "plain").trim(), "0");
    let mode = fs::metadata(dir.path().join("f")).map(|m| {
        use std::os::unix::fs::PermissionsExt;
        m.permissions().mode()
    });
    assert_eq!(mode.ok().map(|m| m & 0o6000), Some(0));

    // A socket file of the host, outside the workspace.
    let python = "/usr/bin/python3";
    if !Path::new(python).exists() {
        eprintln!("skipped the unix socket check: no {python}");
        return;
    }
    let host = tempfile::tempdir().expect("create a directory");
    let path = host.path().join("host.sock");
    let _listener =
        std::os::unix::net::UnixListener::bind(&path).expect("bind");
    let connect = format!(
        "import socket\n\
         try:\n    socket.socket(socket.AF_UNIX).connect({path:?})\n\
         \x20   print('connected')\n\
         except OSError as error:\n    print('refused', error.errno)"
    );
    let mut config = shell(dir.path(), "");
    let script = format!("{python} -c \"$1\" > socket");
    config.command = ["/bin/sh", "-c", &script, "sh", &connect]
        .map(OsString::from)
        .to_vec();
    let Some(report) = run(&config) else { return };
    assert_eq!(report.exit.status, 0);
    assert!(read(dir.path(), "socket").starts_with("refused"));
}

#[test]
fn strict_refuses_before_the_command_starts() {
    let _serial = serial();
    let dir = workspace();
    let mut config = shell(dir.path(), "touch started");
    config.strict = true;
    let result = {
        match cordon_sandbox::run(&config) {
            Err(Error::Os { .. }) => return,
            other => other,
        }
    };
    match result {
        Ok(report) => assert!(report.fully_enforced()),
        Err(Error::NotEnforced(why)) => {
            assert!(!why.is_empty());
            assert!(!dir.path().join("started").exists());
        }
        Err(err) => panic!("unexpected error: {err}"),
    }
}

#[test]
fn the_monitor_records_execs_files_and_changes() {
    let _serial = serial();
    let dir = workspace();
    let script = "cat /etc/hostname >/dev/null; echo hello > made; \
                  touch /etc/cordon-monitor-probe 2>/dev/null; true";
    let mut config = shell(dir.path(), script);
    config.monitor = Some(cordon_sandbox::MonitorConfig::default());
    let Some(report) = run(&config) else { return };
    assert_eq!(report.exit.status, 0);
    let events = report.events.expect("the monitor's events");
    assert!(events.failure.is_none(), "{:?}", events.failure);
    let paths: Vec<&str> =
        events.processes.iter().map(|p| p.path.as_str()).collect();
    assert!(paths.iter().any(|p| p.ends_with("/cat")), "{paths:?}");
    assert!(paths.iter().any(|p| p.ends_with("/touch")), "{paths:?}");
    let denied = events
        .files
        .iter()
        .find(|f| f.path == "/etc/cordon-monitor-probe")
        .expect("the refused write");
    assert_eq!(denied.outcome.name(), "denied");
    let made = events.workspace.changes.iter().find(|c| c.path == "made");
    assert_eq!(made.expect("the created file").size, 6);

    config.monitor = None;
    let Some(report) = run(&config) else { return };
    assert!(report.events.is_none());
}
