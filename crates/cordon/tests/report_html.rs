//! The HTML reports of `cordon scan --format html` and `cordon run
//! --html FILE`, opened in a real headless browser (Debian's
//! `chromium`): the page renders, shows the verdicts, the finding codes,
//! the sandbox layers and the run's timeline, and shows a hostile
//! snippet as text, never as markup.
//!
//! `.ci/install-test-deps` installs chromium. Where it cannot be had,
//! `CORDON_SKIP_BROWSER_TESTS=1` makes these tests say they skipped
//! instead of failing.

#[path = "support/sandbox.rs"]
mod sandbox;
mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sandbox::{PYTHON, Sandbox, Scratch};
use support::cordon;

/// Markup that would run a script if a report let it through.
const HOSTILE: &str = "</script><img src=x onerror=alert(1)>";

/// The same, as the browser serialises it back when it is text.
const HOSTILE_AS_TEXT: &str =
    "&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;";

/// How long the browser may take to render one page.
const BROWSER_DEADLINE: Duration = Duration::from_secs(90);

/// The browser, or `None` when it is missing and the environment says
/// to skip; missing without that, the test fails and says what to do.
fn browser(test: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .flat_map(|dir| ["chromium", "chromium-browser"].map(|b| dir.join(b)))
        .find(|candidate| candidate.is_file());
    if found.is_some() {
        return found;
    }
    let skip = std::env::var("CORDON_SKIP_BROWSER_TESTS")
        .is_ok_and(|value| value == "1");
    assert!(
        skip,
        "{test}: chromium is not installed: run .ci/install-test-deps \
         (or `apt-get install -y chromium`), or set \
         CORDON_SKIP_BROWSER_TESTS=1 to skip the browser tests"
    );
    sandbox::skip(test, "chromium is not installed");
    None
}

/// Opens `page` in headless chromium with a throwaway profile and no
/// background traffic, with `mode` (`--dump-dom`, `--screenshot=...`);
/// returns its standard output.
fn open(chromium: &Path, page: &Path, mode: &str) -> String {
    let profile = tempfile::tempdir().unwrap();
    let url = format!("file://{}", page.display());
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1100,1400",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(mode)
        .arg(&url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot start chromium");

    let until = Instant::now() + BROWSER_DEADLINE;
    let status = sandbox::wait_until(&mut child, until);
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
        panic!("chromium did not render {url} within {BROWSER_DEADLINE:?}");
    }
    let output = child.wait_with_output().expect("chromium's output");
    assert!(
        output.status.success(),
        "chromium failed on {url}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A package whose install script runs a decoded payload, with the
/// hostile markup on the matching line and in the package's own name.
fn hostile_package(dir: &Path) -> PathBuf {
    let package = dir.join("pkg-<img src=x onerror=alert(3)>");
    fs::create_dir_all(&package).unwrap();
    fs::write(
        package.join("setup.py"),
        format!(
            "import base64\n\
             exec(base64.b64decode(\"cHJpbnQoMSk=\"))  # {HOSTILE}\n"
        ),
    )
    .unwrap();
    package
}

#[test]
fn a_scan_page_shows_verdict_findings_and_hostile_text_as_text() {
    let Some(chromium) = browser("scan html") else { return };
    let dir = tempfile::tempdir().unwrap();
    let package = hostile_package(dir.path());
    let page = dir.path().join("report.html");
    let run = cordon(
        dir.path(),
        &[
            "scan",
            "--format",
            "html",
            "-o",
            page.to_str().unwrap(),
            package.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, Some(1), "{run}");

    let html = fs::read_to_string(&page).unwrap();
    assert!(!html.contains("<img"), "markup got into the page:\n{html}");
    assert!(!html.contains("src=\"http"), "the page links outside itself");

    let dom = open(&chromium, &page, "--dump-dom");
    assert!(dom.contains("<title>cordon scan report</title>"), "{dom}");
    assert!(
        dom.contains("data-verdict=\"malicious\""),
        "no malicious package section:\n{dom}"
    );
    assert!(
        dom.contains("<span class=\"verdict v-malicious\">malicious</span>"),
        "{dom}"
    );
    assert!(
        dom.contains("<code class=\"rule\">py-exec-decoded</code>"),
        "the finding's code is not shown:\n{dom}"
    );
    assert!(dom.contains("setup.py:2:1"), "no location:\n{dom}");
    assert!(
        dom.contains(HOSTILE_AS_TEXT),
        "the hostile snippet is not shown as text:\n{dom}"
    );
    assert!(
        !dom.contains("<img"),
        "the hostile snippet became an element:\n{dom}"
    );
    assert!(!dom.contains("<script"), "a script got into the page:\n{dom}");
}

#[test]
fn a_scan_page_renders_to_a_screenshot() {
    let Some(chromium) = browser("scan html screenshot") else { return };
    let dir = tempfile::tempdir().unwrap();
    let package = hostile_package(dir.path());
    let page = dir.path().join("report.html");
    let target = package.to_str().unwrap();
    let args = ["scan", "--format", "html", "-o", page.to_str().unwrap()];
    let run = cordon(dir.path(), &[&args[..], &[target]].concat());
    assert_eq!(run.code, Some(1), "{run}");

    let shot = dir.path().join("shot.png");
    open(&chromium, &page, &format!("--screenshot={}", shot.display()));
    let png = fs::read(&shot).expect("chromium wrote no screenshot");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    // A blank page compresses to a few hundred bytes; one with the
    // report's text and colours is far larger.
    assert!(png.len() > 10_000, "the page looks empty: {} bytes", png.len());
}

/// What the sandboxed script does: reads a key under the hidden home,
/// connects to a closed port on its own loopback, and runs a program
/// whose argument is hostile markup.
const SCRIPT: &str = r#"
import os, socket, subprocess, sys
try:
    open(os.path.expanduser("~/.ssh/id_rsa")).read()
except OSError:
    pass
s = socket.socket()
s.settimeout(2)
try:
    s.connect(("127.0.0.1", 9))
except OSError:
    pass
subprocess.run(["/bin/true", sys.argv[1]])
"#;

#[test]
fn a_run_page_shows_layers_and_a_timeline() {
    let Some(chromium) = browser("run html") else { return };
    if !Path::new(PYTHON).exists() {
        sandbox::skip("run html", "no /usr/bin/python3");
        return;
    }
    let scratch = Scratch::new();
    scratch.write("script.py", SCRIPT);
    let page = scratch.root.join("run.html");
    let outcome = Sandbox::new(&scratch)
        .options(&["--html", page.to_str().unwrap()])
        .run(&[PYTHON, "script.py", HOSTILE]);
    assert_eq!(outcome.code, Some(0), "{outcome}");

    let dom = open(&chromium, &page, "--dump-dom");
    assert!(dom.contains("<title>cordon run report</title>"), "{dom}");
    assert!(dom.contains("exited with 0"), "no exit:\n{dom}");
    assert!(
        dom.contains("<tr class=\"layer l-full\"><td>namespaces</td>"),
        "the layers are not shown:\n{dom}"
    );
    assert!(dom.contains("<ol class=\"timeline\">"), "no timeline:\n{dom}");
    assert!(
        dom.contains("<span class=\"kind k-exec\""),
        "no process in the timeline:\n{dom}"
    );
    assert!(
        dom.contains("<code>127.0.0.1:9</code>"),
        "no network attempt in the timeline:\n{dom}"
    );
    assert!(dom.contains(".ssh/id_rsa</code>"), "no file access:\n{dom}");
    assert!(
        dom.contains(HOSTILE_AS_TEXT),
        "the hostile argv is not shown as text:\n{dom}"
    );
    assert!(!dom.contains("<img"), "the argv became an element:\n{dom}");
}
