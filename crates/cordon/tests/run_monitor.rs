//! The monitor records what a command tried: harmless scripts read a
//! planted SSH key, write outside the workspace, create files in it,
//! start programs and connect to a port the test listens on, and each
//! of these appears in `--report` and in `--events`.

#[path = "support/sandbox.rs"]
mod sandbox;

use std::fs;
use std::net::TcpListener;
use std::path::Path;
use std::time::Duration;

use sandbox::{Outcome, PYTHON, Sandbox, Scratch};
use serde_json::Value;

/// What the Python script does; `{port}` is the test's listener.
const SCRIPT: &str = r#"
import os, socket, subprocess
try:
    with open(os.path.expanduser("~/.ssh/id_rsa")) as f:
        print("key:", f.read().strip())
except OSError as e:
    print("key: failed", e.errno)
try:
    open("/etc/cordon-monitor-test", "w")
    print("etc: written")
except OSError as e:
    print("etc: failed", e.errno)
with open("made.txt", "w") as f:
    f.write("x" * 1234)
subprocess.run(["sh", "-c", "echo child"], check=True)
subprocess.run([TOOL, "--version"], stdout=subprocess.DEVNULL)
s = socket.socket()
try:
    s.connect(("127.0.0.1", PORT))
    print("connect: ok")
except OSError as e:
    print("connect: failed", e.errno)
"#;

/// A run of the script with `options`: the outcome, the report and the
/// events file's lines.
struct Monitored {
    outcome: Outcome,
    report: Value,
    lines: Vec<Value>,
}

fn plant_key(scratch: &Scratch) -> std::path::PathBuf {
    let ssh = scratch.home.join(".ssh");
    fs::create_dir_all(&ssh).unwrap();
    let key = ssh.join("id_rsa");
    fs::write(&key, "PLANTED-KEY\n").unwrap();
    sandbox::chmod(&key, 0o644);
    key
}

fn run_script(scratch: &Scratch, options: &[&str], port: u16) -> Monitored {
    let tool = if Path::new("/usr/bin/curl").exists() {
        "/usr/bin/curl"
    } else {
        "/bin/true"
    };
    let script = SCRIPT
        .replace("PORT", &port.to_string())
        .replace("TOOL", &format!("{tool:?}"));
    scratch.write("script.py", &script);
    let report = scratch.root.join(sandbox::unique("report"));
    let events = scratch.root.join(sandbox::unique("events"));
    let mut all = vec![
        "--report".to_owned(),
        report.display().to_string(),
        "--events".to_owned(),
        events.display().to_string(),
    ];
    all.extend(options.iter().map(|o| o.to_string()));
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    let outcome =
        Sandbox::new(scratch).options(&all).run(&[PYTHON, "script.py"]);
    assert_eq!(outcome.code, Some(0), "{outcome}");
    let report = sandbox::read_json(&report, &outcome);
    let lines = fs::read_to_string(&events)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("an event line is JSON"))
        .collect();
    Monitored { outcome, report, lines }
}

fn listener() -> TcpListener {
    let listener = TcpListener::bind("127.0.0.1:0").expect("listen");
    listener.set_nonblocking(true).expect("non-blocking listener");
    listener
}

/// The entry of `list` whose `field` is `value`.
fn find<'a>(list: &'a Value, field: &str, value: &str) -> Option<&'a Value> {
    list.as_array()?.iter().find(|e| e[field] == value)
}

fn skip_without_python() -> bool {
    if Path::new(PYTHON).exists() {
        return false;
    }
    sandbox::skip("monitor", "no /usr/bin/python3");
    true
}

#[test]
fn what_the_command_tried_is_in_the_report_and_the_events() {
    if skip_without_python() {
        return;
    }
    let scratch = Scratch::new();
    let key = plant_key(&scratch);
    let listener = listener();
    let port = listener.local_addr().unwrap().port();
    let run = run_script(&scratch, &["--net", "host"], port);
    let out = &run.outcome;
    assert!(out.stdout.contains("key: failed 2"), "{out}");
    assert!(out.stdout.contains("etc: failed"), "{out}");
    assert!(out.stdout.contains("connect: ok"), "{out}");

    let events = &run.report["events"];
    let files = &events["files"];
    let key_path = key.display().to_string();
    let read = find(files, "path", &key_path).expect("the key read");
    assert_eq!(read["zone"], "home", "{read}");
    assert_eq!(read["outcome"], "missing", "{read}");
    let etc = find(files, "path", "/etc/cordon-monitor-test").expect("etc");
    assert_eq!(etc["outcome"], "denied", "{etc}");
    assert_eq!(etc["access"], "create", "{etc}");

    let connect = events["network"]
        .as_array()
        .and_then(|all| all.iter().find(|n| n["port"] == port))
        .expect("the connect");
    assert_eq!(connect["address"], "127.0.0.1", "{connect}");
    assert_eq!(connect["socket"], "tcp", "{connect}");

    let processes = events["processes"].as_array().expect("processes");
    let argv0 = |p: &Value| p["argv"][0].as_str().unwrap_or("").to_owned();
    assert!(processes.iter().any(|p| argv0(p) == PYTHON), "{processes:?}");
    let sh = processes.iter().find(|p| argv0(p) == "sh").expect("sh");
    let python = processes.iter().find(|p| argv0(p) == PYTHON).unwrap();
    assert_eq!(sh["ppid"], python["pid"], "{processes:?}");
    assert!(processes.len() >= 3, "{processes:?}");

    let changes = &events["workspace"]["changes"];
    let made = find(changes, "path", "made.txt").expect("made.txt");
    assert_eq!(made["change"], "created");
    assert_eq!(made["size"], 1234);

    for kind in ["file", "exec", "network", "change"] {
        assert!(
            run.lines.iter().any(|l| l["type"] == kind),
            "no {kind} line in the events"
        );
    }
    let key_line = run.lines.iter().find(|l| l["path"] == key_path.as_str());
    assert_eq!(key_line.expect("a key line")["outcome"], "missing");
    assert!(out.stderr.contains("cordon: monitor:"), "{out}");
}

#[test]
fn a_key_shown_with_ro_is_read_and_recorded_as_allowed() {
    if skip_without_python() {
        return;
    }
    let scratch = Scratch::new();
    let key = plant_key(&scratch);
    let listener = listener();
    let port = listener.local_addr().unwrap().port();
    let key_arg = key.display().to_string();
    let run = run_script(&scratch, &["--ro", &key_arg], port);
    let out = &run.outcome;
    assert!(out.stdout.contains("key: PLANTED-KEY"), "{out}");
    // A private network: Landlock refuses the TCP connect.
    assert!(out.stdout.contains("connect: failed"), "{out}");

    let events = &run.report["events"];
    let read = find(&events["files"], "path", &key_arg).expect("key read");
    assert_eq!(read["outcome"], "allowed", "{read}");
    // Lookups reach cordon's resolver on 127.0.0.1 too: the test's
    // port tells its connect apart.
    let connect = events["network"]
        .as_array()
        .and_then(|all| all.iter().find(|n| n["port"] == port))
        .expect("the connect");
    assert_eq!(connect["address"], "127.0.0.1", "{connect}");
    assert_eq!(connect["outcome"], "denied", "{connect}");
}

#[test]
fn monitor_off_records_nothing() {
    let scratch = Scratch::new();
    let report = scratch.root.join("report.json");
    let report_arg = report.display().to_string();
    let outcome = Sandbox::new(&scratch)
        .options(&["--monitor", "off", "--report", &report_arg])
        .run(&["sh", "-c", "echo x > made.txt"]);
    assert_eq!(outcome.code, Some(0), "{outcome}");
    let report = sandbox::read_json(&report, &outcome);
    assert!(report.get("events").is_none(), "{report}");
    assert!(!outcome.stderr.contains("monitor"), "{outcome}");
}

#[test]
fn node_reading_the_key_is_recorded() {
    if !Path::new("/usr/bin/node").exists() {
        sandbox::skip("monitor node", "no /usr/bin/node");
        return;
    }
    let scratch = Scratch::new();
    let key = plant_key(&scratch);
    let script = "const fs = require('fs');\n\
        try { fs.readFileSync(process.env.HOME + '/.ssh/id_rsa'); }\n\
        catch (e) { console.log('node: ' + e.code); }\n";
    scratch.write("read.js", script);
    let report = scratch.root.join("report.json");
    let report_arg = report.display().to_string();
    let outcome = Sandbox::new(&scratch)
        .options(&["--report", &report_arg])
        .run(&["/usr/bin/node", "read.js"]);
    assert_eq!(outcome.code, Some(0), "{outcome}");
    assert!(outcome.stdout.contains("node: ENOENT"), "{outcome}");
    let report = sandbox::read_json(&report, &outcome);
    let files = &report["events"]["files"];
    let read = find(files, "path", &key.display().to_string());
    assert_eq!(read.expect("the key read")["access"], "read", "{files}");
}

#[test]
fn the_monitor_works_for_an_unprivileged_user() {
    if let Some(why) = sandbox::nobody_unavailable() {
        sandbox::skip("monitor as nobody", &why);
        return;
    }
    let scratch = Scratch::new();
    let report = scratch.root.join("report.json");
    let report_arg = report.display().to_string();
    sandbox::chmod(&scratch.root, 0o777);
    let outcome = Sandbox::nobody(&scratch)
        .options(&["--report", &report_arg])
        .run(&["sh", "-c", "cat /etc/hostname >/dev/null; echo x > made"]);
    assert_eq!(outcome.code, Some(0), "{outcome}");
    let report = sandbox::read_json(&report, &outcome);
    let events = &report["events"];
    assert!(events.get("failure").is_none(), "{events}");
    assert!(events["counts"]["files"].as_u64() > Some(0), "{events}");
    assert!(
        find(&events["processes"], "path", "/usr/bin/cat").is_some()
            || find(&events["processes"], "path", "/bin/cat").is_some(),
        "{events}"
    );
    let changes = &events["workspace"]["changes"];
    assert!(find(changes, "path", "made").is_some(), "{events}");
}

#[test]
fn pip_install_reports_its_processes_and_changes() {
    if !sandbox::is_root() {
        sandbox::skip("monitor pip", "honest work runs as root");
        return;
    }
    if skip_without_python() {
        return;
    }
    let scratch = Scratch::new();
    scratch.write(
        "proj/setup.py",
        "from setuptools import setup\n\
         setup(name='cordon-mon', version='1.0', packages=['cordon_mon'])\n",
    );
    scratch.write("proj/cordon_mon/__init__.py", "X = 1\n");
    let script = "set -e\n\
        /usr/bin/python3 -m venv --system-site-packages venv\n\
        venv/bin/pip install --no-index --no-build-isolation \
        --disable-pip-version-check --quiet ./proj\n";
    let report = scratch.root.join("report.json");
    let report_arg = report.display().to_string();
    let outcome = Sandbox::new(&scratch)
        .options(&["--report", &report_arg])
        .deadline(Duration::from_secs(180))
        .run(&["sh", "-c", script]);
    if outcome.code != Some(0) {
        // As run_honest.rs: a machine whose pip cannot do this offline
        // is not a broken monitor.
        sandbox::skip("monitor pip", &format!("pip failed\n{outcome}"));
        return;
    }
    let report = sandbox::read_json(&report, &outcome);
    let events = &report["events"];
    let processes = events["processes"].as_array().expect("processes");
    let ran = |word: &str| {
        processes.iter().any(|p| {
            p["argv"].as_array().is_some_and(|argv| {
                argv.iter()
                    .any(|a| a.as_str().is_some_and(|a| a.contains(word)))
            })
        })
    };
    assert!(ran("venv"), "{processes:?}");
    assert!(ran("pip"), "{processes:?}");
    let workspace = &events["workspace"];
    assert!(workspace["created"].as_u64() > Some(10), "{workspace}");
    let changes = workspace["changes"].as_array().expect("changes");
    assert!(
        changes.iter().any(|c| c["path"].as_str().is_some_and(|p| p
            .starts_with("venv/")
            && p.contains("cordon_mon"))),
        "{workspace}"
    );
}

#[test]
fn relative_paths_follow_the_current_directory() {
    if skip_without_python() {
        return;
    }
    let scratch = Scratch::new();
    scratch.write("sub/inner.txt", "x");
    let script = "import os\n\
        open('sub/inner.txt').close()\n\
        os.chdir('sub')\n\
        open('inner.txt').close()\n\
        os.chdir('/etc')\n\
        open('hostname').close()\n\
        fd = os.open('/usr', os.O_RDONLY)\n\
        os.fchdir(fd)\n\
        try:\n    open('cordon-missing')\nexcept OSError:\n    pass\n";
    scratch.write("cd.py", script);
    let events = scratch.root.join("events");
    let events_arg = events.display().to_string();
    let outcome = Sandbox::new(&scratch)
        .options(&["--events", &events_arg])
        .run(&[PYTHON, "cd.py"]);
    assert_eq!(outcome.code, Some(0), "{outcome}");
    let text = fs::read_to_string(&events).expect("the events");
    let opened: Vec<String> = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("JSON"))
        .filter(|l| l["type"] == "file" && l["process"] == "python3")
        .filter_map(|l| l["path"].as_str().map(str::to_owned))
        .collect();
    let inner = scratch.workspace.join("sub/inner.txt");
    let inner = inner.display().to_string();
    let count = opened.iter().filter(|p| **p == inner).count();
    assert_eq!(count, 2, "{opened:?}");
    assert!(opened.iter().any(|p| p == "/etc/hostname"), "{opened:?}");
    assert!(opened.iter().any(|p| p == "/usr/cordon-missing"), "{opened:?}");
}

/// `--events` and `--report` inside the workspace are cordon's own
/// writes: left out of the workspace's changes, in the report and in
/// the events file, while the files the command made are listed.
#[test]
fn cordons_own_output_files_are_not_workspace_changes() {
    let scratch = Scratch::new();
    fs::create_dir(scratch.workspace.join("out")).unwrap();
    let events = scratch.workspace.join("out/events.jsonl");
    let report = scratch.workspace.join("report.json");
    // Enough events that the events file has grown on disk before the
    // walk after the run.
    let script = "echo made > made.txt; echo also > out/also.txt; \
                  echo mine > report.json; \
                  for i in $(seq 100); do cat made.txt >/dev/null; done";

    let outcome = Sandbox::new(&scratch)
        .options(&[
            "--events",
            "./out/../out/events.jsonl",
            "--report",
            "report.json",
        ])
        .run(&["sh", "-c", script]);

    assert_eq!(outcome.code, Some(0), "{outcome}");
    let report = sandbox::read_json(&report, &outcome);
    let workspace = &report["events"]["workspace"];
    let listed: Vec<&str> = workspace["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter_map(|c| c["path"].as_str())
        .collect();
    assert!(listed.contains(&"made.txt"), "{workspace}");
    assert!(listed.contains(&"out/also.txt"), "{workspace}");
    assert!(!listed.contains(&"out/events.jsonl"), "{workspace}");
    assert!(!listed.contains(&"report.json"), "{workspace}");
    assert_eq!(workspace["created"], 2, "{workspace}");
    assert_eq!(workspace["modified"], 0, "{workspace}");
    let text = fs::read_to_string(&events).expect("the events");
    let changed: Vec<String> = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("JSON"))
        .filter(|l| l["type"] == "change")
        .filter_map(|l| l["path"].as_str().map(str::to_owned))
        .collect();
    assert!(changed.iter().any(|p| p == "made.txt"), "{text}");
    assert!(!changed.iter().any(|p| p == "out/events.jsonl"), "{text}");
    assert!(!changed.iter().any(|p| p == "report.json"), "{text}");
}

/// A command that swaps cordon's output files in the workspace for
/// links to a file outside it gets nothing written there: cordon opened
/// its outputs before the command started and writes through those.
#[test]
fn output_files_swapped_for_links_write_nothing_outside() {
    let scratch = Scratch::new();
    let outside = scratch.root.join("outside.txt");
    fs::write(&outside, "untouched\n").unwrap();
    let script = format!(
        "for f in report.json run.html events.jsonl; do \
           rm -f $f; ln -s {} $f; done",
        outside.display()
    );

    let outcome = Sandbox::new(&scratch)
        .options(&[
            "--report",
            "report.json",
            "--html",
            "run.html",
            "--events",
            "events.jsonl",
        ])
        .run(&["sh", "-c", &script]);

    assert_eq!(outcome.code, Some(0), "{outcome}");
    let link = fs::symlink_metadata(scratch.workspace.join("report.json"));
    assert!(link.unwrap().file_type().is_symlink(), "{outcome}");
    assert_eq!(fs::read_to_string(&outside).unwrap(), "untouched\n");
}
