//! Honest work still works in the sandbox.
//!
//! A real `pip install` of a local project into a venv, a real offline
//! `npm install` of a local tarball and an offline `cargo build` of a
//! crate without dependencies each run once outside and once inside
//! `cordon run`, and must end the same way. Nothing leaves the machine:
//! pip runs with `--no-index`, npm and cargo with `--offline`.
//!
//! When the tool is missing, or the work fails even outside the sandbox,
//! the test says why and skips: that is a broken machine, not a broken
//! sandbox.

#[path = "support/sandbox.rs"]
mod sandbox;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sandbox::{Outcome, PATH, Sandbox, Scratch};

/// Honest work is slower than the probe: a venv, a build.
const DEADLINE: Duration = Duration::from_secs(180);

/// One piece of honest work: files to write into the workspace, a
/// shell script to run there, extra environment (where `{ws}` stands
/// for the workspace) and extra `cordon run` options.
struct Work<'a> {
    name: &'a str,
    files: &'a [(&'a str, &'a str)],
    script: &'a str,
    env: Vec<(&'a str, String)>,
    options: Vec<String>,
    /// What the script prints when it worked.
    expect: &'a str,
}

impl Work<'_> {
    fn env_for(&self, workspace: &Path) -> Vec<(String, String)> {
        let ws = workspace.display().to_string();
        self.env
            .iter()
            .map(|(n, v)| (n.to_string(), v.replace("{ws}", &ws)))
            .collect()
    }

    fn prepare(&self) -> Scratch {
        let scratch = Scratch::new();
        for (path, data) in self.files {
            scratch.write(path, data);
        }
        scratch
    }

    /// Runs the work outside the sandbox, then inside; skips when it
    /// fails outside, fails the test when it fails only inside.
    fn check(&self) {
        if !sandbox::is_root() {
            sandbox::skip(self.name, "honest work runs as root, as CI does");
            return;
        }
        if let Err(why) = self.outside() {
            sandbox::skip(self.name, &format!("fails outside too: {why}"));
            return;
        }
        let scratch = self.prepare();
        let options: Vec<&str> =
            self.options.iter().map(String::as_str).collect();
        let mut run =
            Sandbox::new(&scratch).options(&options).deadline(DEADLINE);
        for (name, value) in self.env_for(&scratch.workspace) {
            run = run.env(&name, &value);
        }

        let outcome = run.run(&["sh", "-c", self.script]);

        self.assert_worked(&outcome);
    }

    fn assert_worked(&self, outcome: &Outcome) {
        assert_eq!(outcome.code, Some(0), "{} failed\n{outcome}", self.name);
        assert!(outcome.stdout.contains(self.expect), "{outcome}");
    }

    /// The same work with no sandbox, in a scratch of its own.
    fn outside(&self) -> Result<(), String> {
        let scratch = self.prepare();
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(self.script)
            .current_dir(&scratch.workspace)
            .env_clear()
            .env("PATH", PATH)
            .env("HOME", &scratch.home)
            .envs(self.env_for(&scratch.workspace))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().map_err(|e| format!("sh: {e}"))?;
        let until = Instant::now() + DEADLINE;
        if sandbox::wait_until(&mut child, until).is_none() {
            let _ = child.kill(); // the test's own child
        }
        let output = child.wait_with_output().map_err(|e| e.to_string())?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        if output.status.success() && stdout.contains(self.expect) {
            return Ok(());
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        Err(format!("{}: {stdout}{stderr}", output.status))
    }
}

const SETUP_PY: &str = "from setuptools import setup\n\
    setup(name='cordon-honest', version='1.0', packages=['cordon_honest'])\n";

#[test]
fn pip_installs_a_local_project_into_a_venv() {
    if !Path::new(sandbox::PYTHON).exists() {
        sandbox::skip("pip", "no /usr/bin/python3");
        return;
    }
    Work {
        name: "pip",
        files: &[
            ("proj/setup.py", SETUP_PY),
            ("proj/cordon_honest/__init__.py", "GREETING = 'honest pip ok'\n"),
        ],
        script: "set -e\n\
            /usr/bin/python3 -m venv --system-site-packages venv\n\
            venv/bin/pip install --no-index --no-build-isolation \
            --disable-pip-version-check --quiet ./proj\n\
            venv/bin/python -c \
            'import cordon_honest; print(cordon_honest.GREETING)'\n",
        env: vec![],
        options: vec![],
        expect: "honest pip ok",
    }
    .check();
}

const PACKAGE_JSON: &str =
    r#"{"name": "cordon-honest", "version": "1.0.0", "main": "index.js"}"#;

#[test]
fn npm_installs_a_local_tarball_offline() {
    if !sandbox::has_tool("npm") || !sandbox::has_tool("node") {
        sandbox::skip("npm", "npm or node is not installed");
        return;
    }
    Work {
        name: "npm",
        files: &[
            ("pkg/package.json", PACKAGE_JSON),
            ("pkg/index.js", "exports.greeting = 'honest npm ok';\n"),
            ("app/package.json", r#"{"name": "app", "version": "1.0.0"}"#),
        ],
        script: "set -e\n\
            cd pkg\n\
            npm pack --silent --pack-destination .. >/dev/null\n\
            cd ../app\n\
            npm install --offline --no-audit --no-fund --silent \
            ../cordon-honest-1.0.0.tgz\n\
            node -e 'console.log(require(\"cordon-honest\").greeting)'\n",
        env: vec![
            ("npm_config_cache", "{ws}/.npm-cache".into()),
            ("npm_config_update_notifier", "false".into()),
        ],
        options: vec![],
        expect: "honest npm ok",
    }
    .check();
}

const CARGO_TOML: &str = "[package]\nname = \"cordon-honest\"\n\
    version = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n\n\
    # Not part of the repository's workspace above the scratch directory.\n\
    [workspace]\n";

#[test]
fn cargo_builds_a_crate_offline() {
    let Some(sysroot) = sysroot() else {
        sandbox::skip("cargo", "no Rust toolchain (rustc --print sysroot)");
        return;
    };
    let bin = format!("{sysroot}/bin");
    Work {
        name: "cargo",
        files: &[
            ("crate/Cargo.toml", CARGO_TOML),
            (
                "crate/src/main.rs",
                "fn main() {\n    println!(\"honest cargo ok\");\n}\n",
            ),
        ],
        script: "set -e\n\
            cd crate\n\
            cargo build --offline --quiet\n\
            \"$CARGO_TARGET_DIR/debug/cordon-honest\"\n",
        env: vec![
            ("PATH", format!("{bin}:{PATH}")),
            ("RUSTC", format!("{bin}/rustc")),
            ("CARGO_HOME", "{ws}/.cargo-home".into()),
            ("CARGO_TARGET_DIR", "{ws}/target".into()),
        ],
        // The toolchain may live under the real home, which the sandbox
        // hides only when it is `$HOME`; this keeps it visible either way.
        options: vec!["--ro".into(), sysroot.clone()],
        expect: "honest cargo ok",
    }
    .check();
}

/// The toolchain the tests were built with: its cargo and rustc run
/// directly, without rustup's proxies.
fn sysroot() -> Option<String> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let output =
        Command::new(rustc).args(["--print", "sysroot"]).output().ok()?;
    let sysroot = String::from_utf8(output.stdout).ok()?.trim().to_string();
    let cargo = Path::new(&sysroot).join("bin/cargo");
    (output.status.success() && cargo.exists()).then_some(sysroot)
}
