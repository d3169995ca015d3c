//! What the binary's tests share: running `cordon` in a scratch
//! directory, and building the archives they scan.
//!
//! Every archive is made by the test that uses it, in memory or in its
//! own temporary directory; nothing here reads a real package.

#![allow(dead_code)]

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use flate2::Compression;
use flate2::write::GzEncoder;

/// The result of one run of `cordon`, with what a failing assertion
/// needs to explain itself.
pub struct Run {
    /// The command line, for messages.
    pub command: String,
    /// The exit code; `None` when a signal ended the process.
    pub code: Option<i32>,
    /// Standard output, lossily decoded.
    pub stdout: String,
    /// Standard error, lossily decoded.
    pub stderr: String,
}

impl Run {
    /// The standard output parsed as JSON; panics with the whole run
    /// when it is not.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{self}"))
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "$ {}\nexit: {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.command, self.code, self.stdout, self.stderr
        )
    }
}

/// Runs the `cordon` binary with `args` in `cwd`, with a clean
/// environment for colour, logging and `cordon install`'s choice of
/// Python (an activated virtual environment would win over the test's).
pub fn cordon(cwd: &Path, args: &[&str]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cordon"));
    command
        .args(args)
        .current_dir(cwd)
        .env_remove("NO_COLOR")
        .env_remove("CORDON_LOG")
        .env_remove("CORDON_CACHE_DIR")
        .env_remove("VIRTUAL_ENV")
        .env("XDG_CACHE_HOME", test_cache_home());
    finish(command, args)
}

/// Where the scan cache of this test process lives, unless a test
/// names its own: under cargo's scratch folder, never the user's home.
pub fn test_cache_home() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("cache-home")
        .join(std::process::id().to_string())
}

/// Runs `cordon` under a shell that first caps its address space at
/// `kib` KiB, so that a test sees an allocation beyond it as a crash.
pub fn cordon_capped(cwd: &Path, kib: u64, args: &[&str]) -> Run {
    let script = format!("ulimit -v {kib} && exec \"$0\" \"$@\"");
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_cordon"))
        .args(args)
        .current_dir(cwd)
        .env_remove("NO_COLOR")
        .env_remove("CORDON_LOG");
    finish(command, args)
}

fn finish(mut command: Command, args: &[&str]) -> Run {
    let output: Output = command.output().expect("cannot start cordon");
    Run {
        command: format!("cordon {}", args.join(" ")),
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// One entry of a tar archive the tests build.
pub enum Entry<'a> {
    /// A regular file.
    File(&'a [u8], &'a [u8]),
    /// A regular file of `size` zero bytes, produced as it is written.
    Zeros(&'a [u8], u64),
    /// A symbolic link: name, target.
    Symlink(&'a [u8], &'a [u8]),
    /// A hard link: name, target.
    Hardlink(&'a [u8], &'a [u8]),
    /// A character device.
    CharDevice(&'a [u8]),
}

/// A tar archive of `entries`, with names written raw into the
/// headers (the `tar` crate's own path checks would refuse the hostile
/// ones).
pub fn tar(entries: &[Entry<'_>]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for entry in entries {
        append(&mut builder, entry).expect("cannot build tar");
    }
    builder.into_inner().expect("cannot finish tar")
}

fn append<W: Write>(
    builder: &mut tar::Builder<W>,
    entry: &Entry<'_>,
) -> io::Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_mode(0o644);
    let (name, kind, size, link): (&[u8], _, u64, Option<&[u8]>) = match *entry
    {
        Entry::File(name, data) => {
            (name, tar::EntryType::Regular, data.len() as u64, None)
        }
        Entry::Zeros(name, size) => {
            (name, tar::EntryType::Regular, size, None)
        }
        Entry::Symlink(name, target) => {
            (name, tar::EntryType::Symlink, 0, Some(target))
        }
        Entry::Hardlink(name, target) => {
            (name, tar::EntryType::Link, 0, Some(target))
        }
        Entry::CharDevice(name) => (name, tar::EntryType::Char, 0, None),
    };
    header.set_entry_type(kind);
    header.set_size(size);
    raw_name(&mut header, name);
    if let Some(link) = link {
        header.as_old_mut().linkname[..link.len()].copy_from_slice(link);
    }
    header.set_cksum();

    match *entry {
        Entry::File(_, data) => builder.append(&header, data),
        Entry::Zeros(_, size) => {
            builder.append(&header, io::repeat(0).take(size))
        }
        _ => builder.append(&header, io::empty()),
    }
}

/// Writes `name` into the header's name field as it is, bytes and all.
fn raw_name(header: &mut tar::Header, name: &[u8]) {
    let field = &mut header.as_old_mut().name;
    assert!(name.len() < field.len(), "test names fit the field");
    field[..name.len()].copy_from_slice(name);
}

/// `data` compressed with gzip, quickly.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(data).expect("cannot gzip");
    encoder.finish().expect("cannot gzip")
}

/// A gzipped tar holding one file of `size` zero bytes, built without
/// ever holding the uncompressed tar in memory. At the default level
/// zeros shrink about a thousandfold (the fast level manages only 230).
pub fn gzip_bomb(size: u64) -> Vec<u8> {
    let encoder = GzEncoder::new(Vec::new(), Compression::default());
    let mut builder = tar::Builder::new(encoder);
    append(&mut builder, &Entry::Zeros(b"pkg/zeros.bin", size))
        .expect("cannot build bomb");
    let encoder = builder.into_inner().expect("cannot finish bomb");
    encoder.finish().expect("cannot finish bomb")
}

/// A zip archive of `(name, data)` files.
pub fn zip(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in files {
        writer.start_file(*name, options).expect("cannot start zip entry");
        writer.write_all(data).expect("cannot write zip entry");
    }
    writer.finish().expect("cannot finish zip").into_inner()
}

/// Writes `data` to `dir/name` and returns the name, as a target.
pub fn write(dir: &Path, name: &str, data: &[u8]) -> String {
    std::fs::write(dir.join(name), data).expect("cannot write fixture");
    name.to_string()
}

/// Every path under `dir`, relative and sorted, to tell that a run
/// wrote nothing.
pub fn listing(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(&next).expect("cannot list") {
            let path = entry.expect("cannot list").path();
            if path.is_dir() && !path.is_symlink() {
                pending.push(path.clone());
            }
            found.push(path.strip_prefix(dir).unwrap().to_path_buf());
        }
    }
    found.sort();
    found
}
