//! pip's side of `cordon install`: which Python runs pip, and pip's
//! own resolution (`pip install --dry-run --report`) turned into a
//! requirements file that pins every file by SHA-256.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde_json::Value;

use super::InstallArgs;

/// The interpreter of a pip install.
pub(super) struct Python {
    /// The interpreter.
    pub(super) program: PathBuf,
    /// The virtual environment, when outside the workspace: read-only
    /// while resolving, writable while installing.
    pub(super) outside: Option<PathBuf>,
    /// The installation the virtual environment was made from, when it
    /// lies in the home directory that the sandbox hides (pyenv does
    /// that): read-only in the sandbox.
    pub(super) base: Option<PathBuf>,
}

/// The interpreter for pip: `--python`, `$VIRTUAL_ENV`, or `.venv` in
/// the workspace.
pub(super) fn find_python(
    args: &InstallArgs,
    workspace: &Path,
) -> anyhow::Result<Python> {
    let program = match (&args.python, std::env::var_os("VIRTUAL_ENV")) {
        (Some(python), _) => python.clone(),
        (None, Some(venv)) => Path::new(&venv).join("bin/python"),
        (None, None) => workspace.join(".venv/bin/python"),
    };
    if !program.exists() {
        bail!(
            "no Python for pip at `{}`: make a virtual environment in the \
             workspace (`python3 -m venv .venv`), activate one, or pass \
             --python",
            program.display()
        );
    }
    let program = std::path::absolute(&program).with_context(|| {
        format!("cannot use the Python `{}`", program.display())
    })?;
    let venv = venv_of(&program);
    let base = venv.as_deref().and_then(base_in_home);
    let outside = venv.filter(|venv| !venv.starts_with(workspace));
    Ok(Python { program, outside, base })
}

/// The prefix of the Python a virtual environment was made from (the
/// parent of `home` in its `pyvenv.cfg`), when it is inside `$HOME`.
fn base_in_home(venv: &Path) -> Option<PathBuf> {
    let config = std::fs::read_to_string(venv.join("pyvenv.cfg")).ok()?;
    let bin = config.lines().find_map(|line| {
        let (key, value) = line.split_once('=')?;
        (key.trim() == "home").then(|| PathBuf::from(value.trim()))
    })?;
    let prefix = bin.parent()?.canonicalize().ok()?;
    let home = PathBuf::from(std::env::var_os("HOME")?).canonicalize().ok()?;
    prefix.starts_with(home).then_some(prefix)
}

/// The virtual environment `python` belongs to: the directory above
/// its `bin` that holds a `pyvenv.cfg`.
fn venv_of(python: &Path) -> Option<PathBuf> {
    let venv = python.parent()?.parent()?;
    let venv = venv.canonicalize().ok()?;
    venv.join("pyvenv.cfg").is_file().then_some(venv)
}

/// A pip report turned into a requirements file.
pub(super) struct Pinned {
    /// `name==version --hash=sha256:...` lines.
    pub(super) text: String,
    /// Local directories or files pip would install.
    pub(super) local: Vec<PathBuf>,
    /// Remote items without a digest.
    pub(super) unpinned: Vec<String>,
}

/// Reads the `install` list of a `pip install --report` file.
pub(super) fn pin_requirements(report: &str) -> anyhow::Result<Pinned> {
    let report: Value =
        serde_json::from_str(report).context("cannot read pip's report")?;
    let items = report["install"]
        .as_array()
        .context("pip's report has no install list")?;
    let mut pinned = Pinned {
        text: String::new(),
        local: Vec::new(),
        unpinned: Vec::new(),
    };
    for item in items {
        let name = item["metadata"]["name"].as_str().unwrap_or_default();
        let version = item["metadata"]["version"].as_str().unwrap_or_default();
        let info = &item["download_info"];
        let url = info["url"].as_str().unwrap_or_default();
        if let Some(path) = url.strip_prefix("file://") {
            pinned.local.push(PathBuf::from(percent_decode(path)));
            continue;
        }
        match sha256_of(info) {
            Some(hex) if !name.is_empty() && !version.is_empty() => {
                let _ = writeln!(
                    pinned.text,
                    "{name}=={version} --hash=sha256:{hex}"
                );
            }
            _ => pinned.unpinned.push(format!("{name} from {url}")),
        }
    }
    Ok(pinned)
}

/// The SHA-256 in a pip report's `download_info`: `archive_info.hashes`
/// (newer pip) or `archive_info.hash` (`sha256=...`).
fn sha256_of(info: &Value) -> Option<String> {
    let archive = &info["archive_info"];
    let hex = archive["hashes"]["sha256"]
        .as_str()
        .map(str::to_string)
        .or_else(|| {
            let hash = archive["hash"].as_str()?;
            hash.strip_prefix("sha256=").map(str::to_string)
        })?;
    let valid = hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit());
    valid.then_some(hex)
}

/// `%XX` escapes of a `file://` URL's path decoded.
fn percent_decode(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex =
            bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const SHA: &str =
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn a_pip_report_becomes_pinned_requirements() {
        let report = json!({"install": [
            {"metadata": {"name": "six", "version": "1.17.0"},
             "download_info": {"url": "https://f/six.whl",
                               "archive_info": {"hash": format!("sha256={SHA}")}}},
            {"metadata": {"name": "idna", "version": "3.0"},
             "download_info": {"url": "https://f/idna.whl",
                               "archive_info": {"hashes": {"sha256": SHA}}}},
            {"metadata": {"name": "mine", "version": "0.1"},
             "download_info": {"url": "file:///src/my%20pkg",
                               "dir_info": {}}},
            {"metadata": {"name": "vcs", "version": "1"},
             "download_info": {"url": "https://git/x", "vcs_info": {}}},
        ]});

        let pinned = pin_requirements(&report.to_string()).unwrap();

        assert_eq!(
            pinned.text,
            format!(
                "six==1.17.0 --hash=sha256:{SHA}\n\
                 idna==3.0 --hash=sha256:{SHA}\n"
            )
        );
        assert_eq!(pinned.local, [PathBuf::from("/src/my pkg")]);
        assert_eq!(pinned.unpinned, ["vcs from https://git/x"]);
        assert!(pin_requirements("{}").is_err());
    }
}
