//! `cordon run --allow-host`, `--resolve`, `--policy` and `--learn`:
//! the sandbox reaches a loopback server standing in for a registry
//! through cordon's egress proxy, and nothing else. The proxy refuses a
//! name that its resolver sends to an internal address, so the tests
//! map `localhost` to 127.0.0.1 with `--resolve`; every server is the
//! test's own, on 127.0.0.1.

#[path = "support/sandbox.rs"]
mod sandbox;

use std::collections::HashMap;
use std::fs;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use flate2::Compression;
use flate2::write::GzEncoder;
use sandbox::{Outcome, PYTHON, Sandbox, Scratch};
use serde_json::Value;

/// A loopback HTTP server answering fixed files by path (HTML for a
/// path ending in `/`, JSON or an archive otherwise), one request per
/// connection, and keeping the paths asked for.
struct Registry {
    port: u16,
    scheme: &'static str,
    seen: Arc<Mutex<Vec<String>>>,
    files: Arc<Mutex<HashMap<String, Vec<u8>>>>,
}

impl Registry {
    fn start() -> Registry {
        Registry::serve(None)
    }

    /// The same over HTTPS, with a certificate for `localhost` made
    /// here; returns it too, in PEM, for the client to trust.
    fn start_tls() -> (Registry, String) {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let made =
            rcgen::generate_simple_self_signed(vec!["localhost".into()])
                .unwrap();
        let key = rustls::pki_types::PrivateKeyDer::try_from(
            made.signing_key.serialize_der(),
        )
        .unwrap();
        let config = rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(vec![made.cert.der().clone()], key)
            .unwrap();
        (Registry::serve(Some(Arc::new(config))), made.cert.pem())
    }

    fn serve(tls: Option<Arc<rustls::ServerConfig>>) -> Registry {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let scheme = if tls.is_some() { "https" } else { "http" };
        let registry = Registry {
            port,
            scheme,
            seen: Arc::default(),
            files: Arc::default(),
        };
        let seen = Arc::clone(&registry.seen);
        let files = Arc::clone(&registry.files);
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let timeout = Some(Duration::from_secs(10));
                let _ = stream.set_read_timeout(timeout);
                let (seen, files) = (Arc::clone(&seen), Arc::clone(&files));
                let tls = tls.clone();
                thread::spawn(move || match tls {
                    None => answer(stream, &seen, &files),
                    Some(config) => {
                        let Ok(conn) = rustls::ServerConnection::new(config)
                        else {
                            return;
                        };
                        let mut tls = rustls::StreamOwned::new(conn, stream);
                        answer(&mut tls, &seen, &files);
                        tls.conn.send_close_notify();
                        let _ = tls.flush();
                    }
                });
            }
        });
        registry
    }

    fn add(&self, path: &str, body: Vec<u8>) {
        self.files.lock().unwrap().insert(path.into(), body);
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }

    fn url(&self) -> String {
        format!("{}://localhost:{}", self.scheme, self.port)
    }
}

fn answer(
    mut stream: impl Read + Write,
    seen: &Mutex<Vec<String>>,
    files: &Mutex<HashMap<String, Vec<u8>>>,
) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let head = String::from_utf8_lossy(&head);
    let path = head.split(' ').nth(1).unwrap_or("").to_string();
    let path = path.split('?').next().unwrap_or("").to_string();
    seen.lock().unwrap().push(path.clone());
    let body = files.lock().unwrap().get(&path).cloned();
    let (status, body) = match body {
        Some(body) => ("200 OK", body),
        None => ("404 Not Found", b"not found".to_vec()),
    };
    let kind = if path.ends_with('/') {
        "text/html"
    } else if path.ends_with("gz") {
        "application/octet-stream"
    } else {
        "application/json"
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&body);
}

/// A `.tar.gz` of `files`, each at its path.
fn tar_gz(files: &[(&str, &str)]) -> Vec<u8> {
    let mut tar =
        tar::Builder::new(GzEncoder::new(Vec::new(), Compression::default()));
    for (path, data) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, path, data.as_bytes()).unwrap();
    }
    tar.into_inner().unwrap().finish().unwrap()
}

/// Maps `localhost` to the registries' address for the proxy: without
/// it, the proxy refuses a name that leads to loopback.
const MAP_LOCALHOST: [&str; 2] = ["--resolve", "localhost=127.0.0.1"];

/// Whether the sandbox tests can run here; says why not.
fn can_run(test: &str) -> bool {
    if !sandbox::is_root() {
        sandbox::skip(test, "the sandbox tests run as root, as CI does");
        return false;
    }
    if !Path::new(PYTHON).exists() {
        sandbox::skip(test, "no /usr/bin/python3");
        return false;
    }
    true
}

/// Fetches each URL through the proxy variables with urllib, printing
/// `URL -> STATUS` or `URL -> error`.
const FETCH: &str = r#"
import sys, urllib.request, urllib.error
for url in sys.argv[1:]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            print(url, "->", r.status, r.read().decode())
    except urllib.error.HTTPError as e:
        print(url, "->", e.code, e.read().decode().strip())
    except Exception as e:
        print(url, "-> error", type(e).__name__)
"#;

fn report(scratch: &Scratch, outcome: &Outcome) -> Value {
    sandbox::read_json(&scratch.root.join("report.json"), outcome)
}

fn destinations(report: &Value) -> Vec<(String, String)> {
    report["egress"]["destinations"]
        .as_array()
        .unwrap_or_else(|| panic!("no egress destinations: {report}"))
        .iter()
        .map(|d| {
            let host =
                format!("{}:{}", d["host"].as_str().unwrap(), d["port"]);
            (host, d["decision"].as_str().unwrap().to_string())
        })
        .collect()
}

#[test]
fn a_proxy_aware_client_reaches_only_allowed_hosts() {
    if !can_run("allowed hosts") {
        return;
    }
    let registry = Registry::start();
    registry.add("/pkg", b"package metadata".to_vec());
    let scratch = Scratch::new();
    scratch.write("fetch.py", FETCH);
    let allowed = format!("localhost:{}", registry.port);
    let report_path = scratch.root.join("report.json");
    let events = scratch.root.join("events.jsonl");

    let outcome = Sandbox::new(&scratch)
        .options(&[
            "--allow-host",
            &allowed,
            "--report",
            report_path.to_str().unwrap(),
            "--events",
            events.to_str().unwrap(),
        ])
        .options(&MAP_LOCALHOST)
        .run(&[
            PYTHON,
            "fetch.py",
            &format!("{}/pkg", registry.url()),
            &format!("http://other.test:{}/pkg", registry.port),
        ]);

    assert_eq!(outcome.code, Some(0), "{outcome}");
    assert!(
        outcome.stdout.contains("/pkg -> 200 package metadata"),
        "{outcome}"
    );
    assert!(outcome.stdout.contains("other.test"), "{outcome}");
    assert!(outcome.stdout.contains("-> 403 cordon:"), "{outcome}");
    assert_eq!(registry.seen(), ["/pkg"]);
    let report = report(&scratch, &outcome);
    let list = destinations(&report);
    assert!(list.contains(&(allowed.clone(), "allowed".into())), "{list:?}");
    let other = format!("other.test:{}", registry.port);
    assert!(list.contains(&(other.clone(), "refused".into())), "{list:?}");
    assert_eq!(report["egress"]["add_to_policy"], serde_json::json!([other]));
    let lines = fs::read_to_string(&events).unwrap();
    let egress: Vec<Value> = lines
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["type"] == "egress")
        .collect();
    assert_eq!(egress.len(), 2, "{lines}");
    assert!(outcome.stderr.contains(&format!("allow_hosts = [\"{other}\"]")));
}

/// Connects straight to the registry's port, ignoring the proxy.
const DIRECT: &str = r#"
import socket, sys
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
    print("direct: connected")
except OSError as e:
    print("direct: failed", type(e).__name__)
"#;

#[test]
fn a_program_that_ignores_the_proxy_cannot_get_out() {
    if !can_run("ignores the proxy") {
        return;
    }
    let registry = Registry::start();
    let scratch = Scratch::new();
    scratch.write("direct.py", DIRECT);
    let allowed = format!("localhost:{}", registry.port);

    let outcome = Sandbox::new(&scratch)
        .options(&["--allow-host", &allowed])
        .run(&[PYTHON, "direct.py", &registry.port.to_string()]);

    assert_eq!(outcome.code, Some(0), "{outcome}");
    assert!(outcome.stdout.contains("direct: failed"), "{outcome}");
    assert!(registry.seen().is_empty());
}

/// The egress of a run: its destinations with their decision and
/// reason, and its `egress` event lines.
fn egress_of(report: &Value, events: &Path) -> (Vec<Value>, Vec<Value>) {
    let list = report["egress"]["destinations"]
        .as_array()
        .unwrap_or_else(|| panic!("no egress destinations: {report}"))
        .clone();
    let lines = fs::read_to_string(events)
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["type"] == "egress")
        .collect();
    (list, lines)
}

#[test]
fn a_name_resolved_to_loopback_is_refused_unless_mapped() {
    if !can_run("names resolved to loopback") {
        return;
    }
    let registry = Registry::start();
    registry.add("/pkg", b"package metadata".to_vec());
    let scratch = Scratch::new();
    scratch.write("fetch.py", FETCH);
    let allowed = format!("localhost:{}", registry.port);
    let url = format!("{}/pkg", registry.url());
    let report_path = scratch.root.join("report.json");
    let events = scratch.root.join("events.jsonl");
    let outputs = [
        "--allow-host",
        &allowed,
        "--report",
        report_path.to_str().unwrap(),
        "--events",
        events.to_str().unwrap(),
    ];

    let refused = Sandbox::new(&scratch)
        .options(&outputs)
        .run(&[PYTHON, "fetch.py", &url]);

    assert_eq!(refused.code, Some(0), "{refused}");
    assert!(refused.stdout.contains(&format!("{url} -> 403")), "{refused}");
    assert!(registry.seen().is_empty(), "{:?}", registry.seen());
    let first = report(&scratch, &refused);
    let (list, lines) = egress_of(&first, &events);
    for said in list.iter().chain(&lines) {
        assert_eq!(said["host"], "localhost", "{said}");
        assert_eq!(said["decision"], "refused", "{said}");
        let reason = said["reason"].as_str().unwrap();
        assert!(reason.contains("loopback address"), "{reason}");
        assert!(reason.contains("--resolve localhost="), "{reason}");
    }
    assert!(!list.is_empty() && !lines.is_empty(), "{first}");
    assert_eq!(first["egress"]["add_to_policy"], serde_json::json!([]));
    assert!(refused.stderr.contains("loopback address"), "{refused}");

    let mapped = Sandbox::new(&scratch)
        .options(&outputs)
        .options(&MAP_LOCALHOST)
        .run(&[PYTHON, "fetch.py", &url]);

    assert_eq!(mapped.code, Some(0), "{mapped}");
    assert!(mapped.stdout.contains("/pkg -> 200 package"), "{mapped}");
    assert_eq!(registry.seen(), ["/pkg"]);
    let second = report(&scratch, &mapped);
    let (list, _) = egress_of(&second, &events);
    assert_eq!(list.len(), 1, "{second}");
    assert_eq!(list[0]["decision"], "allowed", "{second}");
}

/// Looks each name up with the system resolver, printing `NAME ADDRESS`
/// or `NAME none`.
const LOOKUP: &str = r#"
import socket, sys
for name in sys.argv[1:]:
    try:
        print(name, socket.gethostbyname(name))
    except OSError:
        print(name, "none")
"#;

#[test]
fn the_resolver_answers_only_the_allowed_names() {
    if !can_run("resolver and allowed names") {
        return;
    }
    let scratch = Scratch::new();
    scratch.write("lookup.py", LOOKUP);

    let outcome = Sandbox::new(&scratch)
        .options(&[
            "--allow-host",
            "registry.test",
            "--allow-host",
            "*.cdn.test",
        ])
        .run(&[
            PYTHON,
            "lookup.py",
            "registry.test",
            "a.cdn.test",
            "evil.test",
        ]);

    assert_eq!(outcome.code, Some(0), "{outcome}");
    assert!(outcome.stdout.contains("registry.test 127.0.0.1"), "{outcome}");
    assert!(outcome.stdout.contains("a.cdn.test 127.0.0.1"), "{outcome}");
    assert!(outcome.stdout.contains("evil.test none"), "{outcome}");
}

#[test]
fn learning_writes_a_policy_that_the_next_run_passes() {
    if !can_run("learning") {
        return;
    }
    let registry = Registry::start();
    registry.add("/index", b"index".to_vec());
    let scratch = Scratch::new();
    scratch.write("fetch.py", FETCH);
    let policy = scratch.root.join("learned.toml");
    let url = format!("{}/index", registry.url());

    let learn = Sandbox::new(&scratch)
        .options(&["--learn", policy.to_str().unwrap()])
        .options(&MAP_LOCALHOST)
        .options(&["--resolve", "unused.test=127.0.0.2"])
        .run(&[PYTHON, "fetch.py", &url]);
    assert_eq!(learn.code, Some(0), "{learn}");
    assert!(learn.stdout.contains("-> 200 index"), "{learn}");
    let text = fs::read_to_string(&policy).unwrap();
    let entry = format!("allow_hosts = [\"localhost:{}\"]", registry.port);
    assert!(text.contains(&entry), "{text}");
    // The mapping the learned host was reached through, and no other.
    assert!(text.contains("resolve = [\"localhost=127.0.0.1\"]"), "{text}");

    let again = Sandbox::new(&scratch)
        .options(&["--policy", policy.to_str().unwrap()])
        .run(&[PYTHON, "fetch.py", &url]);
    assert_eq!(again.code, Some(0), "{again}");
    assert!(again.stdout.contains("-> 200 index"), "{again}");

    let more = format!("http://127.0.0.1:{}/index", registry.port);
    let refused = Sandbox::new(&scratch)
        .options(&["--policy", policy.to_str().unwrap()])
        .run(&[PYTHON, "fetch.py", &url, &more]);
    assert!(refused.stdout.contains(&format!("{more} -> 403")), "{refused}");
    let rule = format!("allow_hosts = [\"127.0.0.1:{}\"]", registry.port);
    assert!(refused.stderr.contains(&rule), "{refused}");
    assert_eq!(registry.seen(), ["/index", "/index", "/index"]);
}

#[test]
fn learning_allows_the_directories_of_refused_writes() {
    if !can_run("learning writes") {
        return;
    }
    let scratch = Scratch::new();
    let outside = scratch.root.join("outside");
    fs::create_dir(&outside).unwrap();
    let policy = scratch.root.join("learned.toml");
    let target = outside.join("state");
    let script = format!("echo kept > {}", target.display());

    let learn = Sandbox::new(&scratch)
        .options(&["--learn", policy.to_str().unwrap()])
        .run(&["sh", "-c", &script]);
    assert_ne!(learn.code, Some(0), "{learn}");
    assert!(!target.exists());
    let text = fs::read_to_string(&policy).unwrap();
    let rw = format!("rw = [\"{}\"]", outside.display());
    assert!(text.contains(&rw), "{text}");

    let again = Sandbox::new(&scratch)
        .options(&["--policy", policy.to_str().unwrap()])
        .run(&["sh", "-c", &script]);
    assert_eq!(again.code, Some(0), "{again}");
    assert_eq!(fs::read_to_string(&target).unwrap(), "kept\n");
}

#[test]
fn a_policy_with_a_mistake_names_the_file_line_and_key() {
    let scratch = Scratch::new();
    let policy = scratch.write(
        "cordon.toml",
        "[run]\nnetwork = \"proxy\"\n\nallow_host = [\"a.test\"]\n",
    );

    let outcome = Sandbox::new(&scratch)
        .options(&["--policy", policy.to_str().unwrap()])
        .run(&["true"]);

    assert_eq!(outcome.code, Some(125), "{outcome}");
    let place = format!("{}:4: key `allow_host`", policy.display());
    assert!(outcome.stderr.contains(&place), "{outcome}");
    assert!(outcome.stderr.contains("unknown field"), "{outcome}");
}

#[test]
fn npm_install_fetches_from_a_loopback_registry_through_the_proxy() {
    if !can_run("npm via proxy") {
        return;
    }
    if !sandbox::has_tool("npm") || !sandbox::has_tool("node") {
        sandbox::skip("npm via proxy", "npm or node is not installed");
        return;
    }
    let registry = Registry::start();
    let tarball = tar_gz(&[
        (
            "package/package.json",
            r#"{"name": "cordon-fake", "version": "1.0.0", "main": "index.js"}"#,
        ),
        ("package/index.js", "exports.greeting = 'fetched by npm';\n"),
    ]);
    let tgz =
        format!("{}/cordon-fake/-/cordon-fake-1.0.0.tgz", registry.url());
    let metadata = serde_json::json!({
        "name": "cordon-fake",
        "dist-tags": {"latest": "1.0.0"},
        "versions": {"1.0.0": {
            "name": "cordon-fake", "version": "1.0.0", "main": "index.js",
            "dist": {"tarball": tgz}
        }}
    });
    registry.add("/cordon-fake", metadata.to_string().into_bytes());
    registry.add("/cordon-fake/-/cordon-fake-1.0.0.tgz", tarball);
    let scratch = Scratch::new();
    scratch
        .write("app/package.json", r#"{"name": "app", "version": "1.0.0"}"#);
    let ws = scratch.workspace.display().to_string();
    let script = format!(
        "set -e\ncd app\n\
         npm install --no-audit --no-fund --registry {}/ cordon-fake\n\
         node -e 'console.log(require(\"cordon-fake\").greeting)'\n",
        registry.url()
    );

    let outcome = Sandbox::new(&scratch)
        .env("npm_config_cache", &format!("{ws}/.npm-cache"))
        .env("npm_config_update_notifier", "false")
        .options(&["--allow-host", &format!("localhost:{}", registry.port)])
        .options(&MAP_LOCALHOST)
        .deadline(Duration::from_secs(180))
        .run(&["sh", "-c", &script]);

    assert_eq!(outcome.code, Some(0), "{outcome}");
    assert!(outcome.stdout.contains("fetched by npm"), "{outcome}");
    let seen = registry.seen();
    assert!(seen.contains(&"/cordon-fake".to_string()), "{seen:?}");
    assert!(seen.iter().any(|p| p.ends_with(".tgz")), "{seen:?}");
}

/// Serves a PyPI simple index with one sdist, `cordon-fake`.
fn pypi(registry: &Registry) {
    let sdist = tar_gz(&[
        (
            "cordon_fake-1.0/setup.py",
            "from setuptools import setup\n\
             setup(name='cordon-fake', version='1.0', \
             packages=['cordon_fake'])\n",
        ),
        (
            "cordon_fake-1.0/PKG-INFO",
            "Metadata-Version: 2.1\nName: cordon-fake\nVersion: 1.0\n",
        ),
        (
            "cordon_fake-1.0/cordon_fake/__init__.py",
            "GREETING = 'fetched by pip'\n",
        ),
    ]);
    let index = "<!DOCTYPE html><html><body>\
        <a href=\"/packages/cordon_fake-1.0.tar.gz\">cordon_fake-1.0.tar.gz</a>\
        </body></html>";
    registry.add("/simple/cordon-fake/", index.as_bytes().to_vec());
    registry.add("/packages/cordon_fake-1.0.tar.gz", sdist);
}

/// `pip install cordon-fake` from `registry` in a venv, with `trust`
/// (pip's options to trust the index) and only the registry allowed.
fn pip_install(
    registry: &Registry,
    scratch: &Scratch,
    trust: &str,
) -> Outcome {
    let host = format!("localhost:{}", registry.port);
    let script = format!(
        "set -e\n\
         {PYTHON} -m venv --system-site-packages venv\n\
         venv/bin/pip install --no-build-isolation \
         --disable-pip-version-check --quiet \
         --index-url {}/simple/ {trust} cordon-fake\n\
         venv/bin/python -c \
         'import cordon_fake; print(cordon_fake.GREETING)'\n",
        registry.url()
    );
    let report = scratch.root.join("report.json");
    Sandbox::new(scratch)
        .options(&[
            "--allow-host",
            &host,
            "--report",
            report.to_str().unwrap(),
        ])
        .options(&MAP_LOCALHOST)
        .deadline(Duration::from_secs(180))
        .run(&["sh", "-c", &script])
}

#[test]
fn pip_install_fetches_from_a_loopback_index_through_the_proxy() {
    if !can_run("pip via proxy") {
        return;
    }
    let registry = Registry::start();
    pypi(&registry);
    let scratch = Scratch::new();
    let trust = format!("--trusted-host localhost:{}", registry.port);

    let outcome = pip_install(&registry, &scratch, &trust);

    assert_eq!(outcome.code, Some(0), "{outcome}");
    assert!(outcome.stdout.contains("fetched by pip"), "{outcome}");
    let seen = registry.seen();
    assert!(seen.contains(&"/simple/cordon-fake/".to_string()), "{seen:?}");
    assert!(seen.iter().any(|p| p.ends_with(".tar.gz")), "{seen:?}");
}

#[test]
fn pip_install_over_https_passes_tls_through_the_proxy() {
    if !can_run("pip via proxy, https") {
        return;
    }
    let (registry, cert) = Registry::start_tls();
    pypi(&registry);
    let scratch = Scratch::new();
    let ca = scratch.write("registry-ca.pem", &cert);
    let trust = format!("--cert {}", ca.display());

    let outcome = pip_install(&registry, &scratch, &trust);

    assert_eq!(outcome.code, Some(0), "{outcome}");
    assert!(outcome.stdout.contains("fetched by pip"), "{outcome}");
    // The registry decrypted the requests itself: the proxy passed the
    // TLS sessions through, checking their server name.
    assert!(registry.seen().contains(&"/simple/cordon-fake/".to_string()));
    let report = report(&scratch, &outcome);
    let tunnels: Vec<&Value> = report["egress"]["destinations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["method"] == "CONNECT")
        .collect();
    assert!(!tunnels.is_empty(), "{report}");
    for tunnel in tunnels {
        assert_eq!(tunnel["decision"], "allowed", "{tunnel}");
        assert_eq!(tunnel["sni"], "localhost", "{tunnel}");
    }
}

#[test]
fn allowed_hosts_need_the_private_network() {
    let scratch = Scratch::new();
    for (options, says) in [
        (&["--net", "host", "--allow-host", "a.test"][..], "--net proxy"),
        (&["--net", "none", "--learn", "x.toml"][..], "--net proxy"),
        (&["--allow-host", "a.test", "--dns-sinkhole"][..], "sinkhole"),
        (&["--allow-host", "bad host"][..], "`bad host`"),
        (&["--resolve", "a.test=10.0.0.7"][..], "--resolve needs"),
        (&["--allow-host", "a.test", "--resolve", "a.test"][..], "NAME=IP"),
        (
            &["--allow-host", "a.test", "--resolve", "a.test=nowhere"][..],
            "not an ip address",
        ),
        (
            &["--allow-host", "a.test", "--resolve", "127.1=127.0.0.1"][..],
            "not a host name",
        ),
        (
            &[
                "--allow-host",
                "a.test",
                "--resolve",
                "a.test=10.0.0.7",
                "--resolve",
                "A.test=10.0.0.8",
            ][..],
            "mapped to 10.0.0.7 and 10.0.0.8",
        ),
    ] {
        let outcome = Sandbox::new(&scratch).options(options).run(&["true"]);

        assert_eq!(outcome.code, Some(125), "{outcome}");
        assert!(outcome.stderr.contains(says), "{outcome}");
    }
    assert!(!scratch.workspace.join("x.toml").exists());
}
