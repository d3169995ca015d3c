//! How a `cordon run` starts and ends, and what it says about itself.
//!
//! Exit statuses follow the contract (the command's own, 128 plus a
//! signal, 124, 126, 127, and 125 when `--strict` refuses); the JSON
//! report lists every layer, names the credentials it removed and never
//! their values; SIGINT and SIGTERM to cordon end the whole tree and
//! leave no process, mount or cgroup behind; `--rootfs` shows the
//! command that tree and none of the host's files.
//!
//! The tests here take one lock, so that the cgroups one run leaves
//! behind are not confused with another's still running.

#[path = "support/sandbox.rs"]
mod sandbox;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use sandbox::{Sandbox, Scratch};

static SERIAL: Mutex<()> = Mutex::new(());

/// One test at a time in this file; a failed one does not poison it.
fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

const LAYERS: &[&str] = &[
    "namespaces",
    "filesystem",
    "network",
    "cgroup",
    "rlimits",
    "capabilities",
    "no_new_privs",
    "landlock",
    "seccomp",
    "environment",
];

#[test]
fn exit_statuses_follow_the_contract() {
    let _serial = serial();
    let scratch = Scratch::new();
    let script = scratch.write("not-executable.sh", "#!/bin/sh\nexit 0\n");
    let script = script.display().to_string();
    let cases: &[(&[&str], i32)] = &[
        (&["sh", "-c", "exit 7"], 7),
        (&["sh", "-c", "exit 0"], 0),
        (&["sh", "-c", "kill -KILL $$"], 128 + 9),
        (&["/nonexistent/command"], 127),
        (&["no-such-command-anywhere"], 127),
        (&[&script], 126),
    ];
    for (command, status) in cases {
        let outcome = Sandbox::new(&scratch).run(command);
        assert_eq!(outcome.code, Some(*status), "{outcome}");
    }
}

#[test]
fn the_report_records_the_run_and_a_failure_to_start() {
    let _serial = serial();
    let scratch = Scratch::new();
    let path = scratch.root.join("report.json");
    let report = path.display().to_string();

    let outcome = Sandbox::new(&scratch)
        .options(&["--report", &report])
        .run(&["sh", "-c", "exit 3"]);

    assert_eq!(outcome.code, Some(3), "{outcome}");
    let json = sandbox::read_json(&path, &outcome);
    assert_eq!(json["version"], 1, "{json}");
    assert_eq!(json["command"], serde_json::json!(["sh", "-c", "exit 3"]));
    let workspace = scratch.workspace.display().to_string();
    assert_eq!(json["workspace"], workspace.as_str(), "{json}");
    assert!(json["rootfs"].is_null(), "{json}");
    assert_eq!(json["network"], "none", "{json}");
    for limit in ["memory_bytes", "pids", "timeout_ms"] {
        assert!(json["limits"].get(limit).is_some(), "no {limit}: {json}");
    }
    assert_layers(&json);
    assert_eq!(json["exit"]["code"], 3, "{json}");
    assert!(json["exit"]["signal"].is_null(), "{json}");
    assert_eq!(json["exit"]["status"], 3, "{json}");
    assert!(json["exit"]["error"].is_null(), "{json}");
    assert_eq!(json["timed_out"], false, "{json}");
    assert!(json["duration_ms"].is_u64(), "{json}");

    let missing = Sandbox::new(&scratch)
        .options(&["--report", &report])
        .run(&["/nonexistent/command"]);
    assert_eq!(missing.code, Some(127), "{missing}");
    let json = sandbox::read_json(&path, &missing);
    assert_eq!(json["exit"]["status"], 127, "{json}");
    assert!(json["exit"]["error"].is_string(), "{json}");

    let gone = scratch.root.join("no-such-workspace").display().to_string();
    let broken = Sandbox::new(&scratch)
        .options(&["--report", &report, "--workspace", &gone])
        .run(&["true"]);
    assert_eq!(broken.code, Some(125), "{broken}");
    let json = sandbox::read_json(&path, &broken);
    assert_eq!(json["exit"]["status"], 125, "{json}");
    let error = json["exit"]["error"].as_str().unwrap_or_default();
    assert!(error.contains("no-such-workspace"), "{json}");
    assert_eq!(json["layers"], serde_json::json!([]), "{json}");
}

/// Every layer is listed once, with a known state and what that state
/// carries.
fn assert_layers(json: &serde_json::Value) {
    let layers = json["layers"].as_array().expect("layers is an array");
    let names: Vec<&str> =
        layers.iter().filter_map(|l| l["layer"].as_str()).collect();
    for name in LAYERS {
        let count = names.iter().filter(|n| *n == name).count();
        assert_eq!(count, 1, "layer {name} listed {count} times: {json}");
    }
    for layer in layers {
        match layer["state"].as_str() {
            Some("full") => {}
            Some("partial") => {
                assert!(layer["missing"].is_array(), "{layer}");
            }
            Some("none" | "unused") => {
                assert!(layer["reason"].is_string(), "{layer}");
            }
            _ => panic!("unknown state: {layer}"),
        }
    }
}

#[test]
fn credentials_are_removed_unless_passed_by_name() {
    let _serial = serial();
    let scratch = Scratch::new();
    let token = sandbox::unique("npm-secretvalue");
    let key = sandbox::unique("api-key-value");
    let path = scratch.root.join("report.json");
    let report = path.display().to_string();
    let with_env = |extra: &[&str]| {
        Sandbox::new(&scratch)
            .env("NPM_TOKEN", &token)
            .env("MY_API_KEY", &key)
            .env("HARMLESS_SETTING", "kept")
            .options(&["--report", &report])
            .options(extra)
    };

    let outcome = with_env(&[]).run(&["env"]);

    assert_eq!(outcome.code, Some(0), "{outcome}");
    assert!(outcome.stdout.contains("HARMLESS_SETTING=kept"), "{outcome}");
    for value in [&token, &key] {
        assert!(!outcome.stdout.contains(value.as_str()), "{outcome}");
        assert!(!outcome.stderr.contains(value.as_str()), "{outcome}");
    }
    let text = fs::read_to_string(&path).expect("no report");
    assert!(!text.contains(&token) && !text.contains(&key), "{text}");
    let json = sandbox::read_json(&path, &outcome);
    let removed = json["env_removed"].as_array().expect("env_removed");
    assert!(removed.iter().any(|n| n == "NPM_TOKEN"), "{json}");
    assert!(removed.iter().any(|n| n == "MY_API_KEY"), "{json}");

    let passed = with_env(&["--env", "NPM_TOKEN"]).run(&["env"]);

    assert_eq!(passed.code, Some(0), "{passed}");
    let wanted = format!("NPM_TOKEN={token}");
    assert!(passed.stdout.lines().any(|l| l == wanted), "{passed}");
    assert!(!passed.stdout.contains(&key), "{passed}");
    let json = sandbox::read_json(&path, &passed);
    let removed = json["env_removed"].as_array().expect("env_removed");
    assert!(!removed.iter().any(|n| n == "NPM_TOKEN"), "{json}");
    assert!(removed.iter().any(|n| n == "MY_API_KEY"), "{json}");
    let text = fs::read_to_string(&path).expect("no report");
    assert!(!text.contains(&token), "the passed value in the report");
}

#[test]
fn strict_refuses_exactly_when_a_layer_falls_short() {
    let _serial = serial();
    let scratch = Scratch::new();
    let path = scratch.root.join("report.json");
    let report = path.display().to_string();
    let ran = scratch.workspace.join("ran");
    let touch = format!("touch {}", ran.display());

    let lenient = Sandbox::new(&scratch)
        .options(&["--report", &report])
        .run(&["sh", "-c", "exit 0"]);
    assert_eq!(lenient.code, Some(0), "{lenient}");
    let json = sandbox::read_json(&path, &lenient);
    let degraded: Vec<&serde_json::Value> = json["layers"]
        .as_array()
        .expect("layers")
        .iter()
        .filter(|l| matches!(l["state"].as_str(), Some("partial" | "none")))
        .collect();
    fs::remove_file(&path).expect("cannot remove the report");

    let strict = Sandbox::new(&scratch)
        .options(&["--strict", "--report", &report])
        .run(&["sh", "-c", &touch]);

    if degraded.is_empty() {
        assert_eq!(strict.code, Some(0), "all layers full\n{strict}");
        assert!(ran.exists(), "the command did not run\n{strict}");
    } else {
        assert_eq!(strict.code, Some(125), "{degraded:?}\n{strict}");
        assert!(!ran.exists(), "ran despite --strict\n{strict}");
        eprintln!("note: --strict refuses here because of {degraded:?}");
    }
    if path.exists() {
        let json = sandbox::read_json(&path, &strict);
        let status = strict.code.expect("cordon exited");
        assert_eq!(json["exit"]["status"], status, "{json}");
    }
}

#[test]
fn sigint_ends_the_whole_tree() {
    let _serial = serial();
    signal_ends_the_whole_tree("INT", 2);
}

#[test]
fn sigterm_ends_the_whole_tree() {
    let _serial = serial();
    signal_ends_the_whole_tree("TERM", 15);
}

/// Sends `signal` to cordon while the sandbox runs two sleeps, one in
/// the background; afterwards nothing of the run may be left.
fn signal_ends_the_whole_tree(signal: &str, number: i32) {
    let scratch = Scratch::new();
    let before = cgroups_named_cordon();
    // `sleep` takes a fraction: the digits mark this run's processes.
    let tag = sandbox::unique("x");
    let digits: String = tag.chars().filter(char::is_ascii_digit).collect();
    let marker = format!("100.{digits}");
    let script = format!("sleep {marker} & sleep {marker}");

    let mut running = Sandbox::new(&scratch)
        .options(&["--memory", "256M", "--pids", "64"])
        .spawn(&["sh", "-c", &script]);
    let until = Instant::now() + Duration::from_secs(15);
    while sleeps(&marker) < 2 {
        if !running.is_running() || Instant::now() > until {
            let outcome = running.wait(Duration::from_secs(1));
            panic!("the sleeps never started\n{outcome}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let own_cgroup = format!("cordon-{}", running.pid());
    running.signal(signal);
    let outcome = running.wait(Duration::from_secs(30));

    let status = outcome.code.expect("cordon itself was not killed");
    assert!(
        status == 128 + number || status == 128 + 9,
        "expected 128 + {number} (or + 9)\n{outcome}"
    );
    let survivors = survivors(&marker);
    assert!(survivors.is_empty(), "left running: {survivors:?}\n{outcome}");
    let mounts = mounts_of(&scratch.workspace);
    assert!(mounts.is_empty(), "mounts left: {mounts:#?}\n{outcome}");
    let after = cgroups_named_cordon();
    let leaked: Vec<_> = after
        .iter()
        .filter(|p| !before.contains(*p) || p.ends_with(&own_cgroup))
        .collect();
    assert!(leaked.is_empty(), "cgroups left: {leaked:#?}\n{outcome}");
}

/// How many `sleep` processes carry `marker`.
fn sleeps(marker: &str) -> usize {
    let pids = sandbox::processes_with(marker);
    let is_sleep = |pid: &u32| {
        let comm = fs::read_to_string(format!("/proc/{pid}/comm"));
        comm.is_ok_and(|c| c.trim() == "sleep")
    };
    pids.iter().filter(|pid| is_sleep(pid)).count()
}

/// The processes carrying `marker` still there after a grace second;
/// kills them (they are the test's own sandboxed ones) so that a failure
/// leaves nothing behind either.
fn survivors(marker: &str) -> Vec<String> {
    let until = Instant::now() + Duration::from_secs(1);
    let mut pids = sandbox::processes_with(marker);
    while !pids.is_empty() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(50));
        pids = sandbox::processes_with(marker);
    }
    let described = pids.iter().map(|pid| describe(*pid)).collect();
    for pid in pids {
        let _ =
            Command::new("kill").arg("-KILL").arg(pid.to_string()).status();
    }
    described
}

fn describe(pid: u32) -> String {
    let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
    format!("{pid}: {cmdline}")
}

/// Lines of the test's own mountinfo that mention `dir`.
fn mounts_of(dir: &Path) -> Vec<String> {
    let mountinfo = fs::read_to_string("/proc/self/mountinfo")
        .expect("cannot read mountinfo");
    let dir = dir.display().to_string();
    mountinfo.lines().filter(|l| l.contains(&dir)).map(String::from).collect()
}

/// Directories whose name starts with `cordon` in the cgroup
/// hierarchies (v1 memory and pids, v2 at the root or under `unified`),
/// down to a few levels.
fn cgroups_named_cordon() -> BTreeSet<PathBuf> {
    let roots = [
        "/sys/fs/cgroup/memory",
        "/sys/fs/cgroup/pids",
        "/sys/fs/cgroup/unified",
        "/sys/fs/cgroup",
    ];
    let mut found = BTreeSet::new();
    let mut pending: Vec<(PathBuf, usize)> =
        roots.iter().map(|r| (PathBuf::from(r), 0)).collect();
    while let Some((dir, depth)) = pending.pop() {
        let Ok(entries) = fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if !entry.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            let name = entry.file_name();
            if name.to_string_lossy().starts_with("cordon") {
                found.insert(path.clone());
            }
            if depth < 4 {
                pending.push((path, depth + 1));
            }
        }
    }
    found
}

#[test]
fn rootfs_shows_that_tree_and_none_of_the_host() {
    let _serial = serial();
    if !sandbox::has_tool("ldd") {
        sandbox::skip("rootfs", "ldd is missing, so no tree can be built");
        return;
    }
    let scratch = Scratch::new();
    let rootfs = scratch.root.join("rootfs");
    for program in ["/bin/sh", "/bin/ls", "/bin/cat"] {
        copy_with_libraries(program, &rootfs);
    }
    let marker = sandbox::unique("CORDON-ROOTFS");
    fs::write(rootfs.join("marker"), format!("{marker}\n"))
        .expect("cannot write the marker");
    for dir in ["proc", "dev", "tmp"] {
        fs::create_dir_all(rootfs.join(dir)).expect("cannot make a dir");
    }
    // Mount points for the workspace and the home, at their own paths.
    for dir in [&scratch.workspace, &scratch.home] {
        let relative = dir.strip_prefix("/").expect("an absolute path");
        fs::create_dir_all(rootfs.join(relative))
            .expect("cannot make a mount point");
    }
    let script = "ls /; cat /marker; \
                  for f in /etc/hostname /etc/passwd /usr/bin/python3; do \
                  test -e $f && echo host file $f; done; echo done";
    let root_arg = rootfs.display().to_string();

    let outcome = Sandbox::new(&scratch)
        .options(&["--rootfs", &root_arg])
        .run(&["/bin/sh", "-c", script]);

    assert_eq!(outcome.code, Some(0), "{outcome}");
    assert!(outcome.stdout.contains(&marker), "{outcome}");
    assert!(outcome.stdout.contains("done"), "{outcome}");
    assert!(!outcome.stdout.contains("host file"), "{outcome}");
}

/// Copies `program` into `rootfs` at the same path, with the libraries
/// `ldd` lists (the files, not the links).
fn copy_with_libraries(program: &str, rootfs: &Path) {
    copy_into(Path::new(program), rootfs);
    let ldd = Command::new("ldd").arg(program).output().expect("ldd");
    let listing = String::from_utf8_lossy(&ldd.stdout);
    for line in listing.lines() {
        let path = line.split_whitespace().find(|w| w.starts_with('/'));
        if let Some(path) = path {
            copy_into(Path::new(path), rootfs);
        }
    }
}

fn copy_into(path: &Path, rootfs: &Path) {
    let relative = path.strip_prefix("/").expect("an absolute path");
    let target = rootfs.join(relative);
    let parent = target.parent().expect("a file has a parent");
    fs::create_dir_all(parent).expect("cannot make a rootfs dir");
    fs::copy(path, &target).unwrap_or_else(|e| {
        panic!("cannot copy {} into the rootfs: {e}", path.display())
    });
}
