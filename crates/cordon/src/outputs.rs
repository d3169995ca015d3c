//! The files cordon itself writes about a sandboxed run, opened before
//! the command starts.
//!
//! A report inside the workspace is written after the run, by cordon,
//! outside the sandbox. Were it opened by name only then, the command
//! could have put a symbolic link there, and cordon would write through
//! it wherever the link points. Opening every output file before the
//! command starts, and writing through that handle, puts the bytes in
//! the file the user named, whatever the command did to the name.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;

/// One output file, open.
pub struct Output {
    path: PathBuf,
    file: File,
}

impl Output {
    /// Creates `path`, or empties it, for writing; `what` names it in
    /// errors ("the report").
    pub fn create(path: &Path, what: &str) -> anyhow::Result<Output> {
        let file = File::create(path).with_context(|| {
            format!("cannot create {what} {}", path.display())
        })?;
        Ok(Output { path: path.to_path_buf(), file })
    }

    /// Opens `path` for appending, creating it if needed, without
    /// emptying it.
    pub fn append(path: &Path, what: &str) -> anyhow::Result<Output> {
        let file = OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .with_context(|| {
                format!("cannot open {what} {}", path.display())
            })?;
        Ok(Output { path: path.to_path_buf(), file })
    }

    /// The path the user gave.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes what `write` produces, buffered, from the start of the
    /// file (or at its end, for one opened to append); `what` names the
    /// file in errors.
    pub fn write_with(
        &self,
        what: &str,
        write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
    ) -> anyhow::Result<()> {
        let mut out = BufWriter::new(&self.file);
        write(&mut out).and_then(|()| out.flush()).with_context(|| {
            format!("cannot write {what} {}", self.path.display())
        })
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::symlink;

    use super::*;

    #[test]
    fn a_link_planted_after_opening_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let report = dir.path().join("report.json");
        let elsewhere = dir.path().join("elsewhere");
        std::fs::write(&elsewhere, "untouched").unwrap();

        let output = Output::create(&report, "the report").unwrap();
        std::fs::remove_file(&report).unwrap();
        symlink(&elsewhere, &report).unwrap();
        output.write_with("the report", |out| out.write_all(b"{}")).unwrap();

        assert_eq!(std::fs::read_to_string(&elsewhere).unwrap(), "untouched");
    }

    #[test]
    fn appending_keeps_what_is_there() {
        let dir = tempfile::tempdir().unwrap();
        let events = dir.path().join("events.jsonl");
        std::fs::write(&events, "one\n").unwrap();

        let output = Output::append(&events, "the events").unwrap();
        output
            .write_with("the events", |out| out.write_all(b"two\n"))
            .unwrap();

        assert_eq!(std::fs::read_to_string(&events).unwrap(), "one\ntwo\n");
    }
}
