//! `requirements.txt`: `name==version` lines with their `--hash`
//! options; anything not pinned exactly is skipped, not an error.

use super::{Dependency, Failure, Lockfile};
use crate::{Digest, Ecosystem};

/// Parses a requirements file.
pub(super) fn parse(text: &str) -> Result<Lockfile, Failure> {
    let mut lock = Lockfile::default();
    for (number, line) in logical_lines(text) {
        let line = strip_comment(&line);
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if line.starts_with('-') {
            lock.skip(line, "an option, not a requirement");
            continue;
        }
        requirement(line, number, &mut lock)?;
    }
    Ok(lock)
}

/// Lines joined across trailing backslashes, each with the number of
/// its first line.
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out: Vec<(usize, String)> = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (index, line) in text.lines().enumerate() {
        let (start, mut joined) =
            pending.take().unwrap_or((index + 1, String::new()));
        match line.strip_suffix('\\') {
            Some(part) => {
                joined.push_str(part);
                joined.push(' ');
                pending = Some((start, joined));
            }
            None => {
                joined.push_str(line);
                out.push((start, joined));
            }
        }
    }
    out.extend(pending);
    out
}

/// A `#` at the start or after whitespace starts a comment.
fn strip_comment(line: &str) -> String {
    let mut previous = ' ';
    for (index, c) in line.char_indices() {
        if c == '#' && previous.is_whitespace() {
            return line[..index].to_string();
        }
        previous = c;
    }
    line.to_string()
}

fn requirement(
    line: &str,
    number: usize,
    lock: &mut Lockfile,
) -> Result<(), Failure> {
    let mut words = line.split_whitespace();
    let spec = words.next().unwrap_or_default();
    let rest: Vec<&str> = words.collect();
    let (spec, digests) = hashes(spec, &rest, number)?;

    let spec = spec.split(';').next().unwrap_or(&spec).trim().to_string();
    let Some((name, version)) = spec.split_once("==") else {
        lock.skip(line, "not pinned with ==");
        return Ok(());
    };
    let name = name.split('[').next().unwrap_or(name).trim();
    let version = version.trim();
    let valid_name = !name.is_empty()
        && name.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
        });
    if !valid_name {
        return Err(Failure::at(
            number,
            format!("invalid requirement `{spec}`"),
        ));
    }
    if version.is_empty() || version.contains('*') || version.starts_with('=')
    {
        lock.skip(line, "not pinned to one version");
        return Ok(());
    }
    lock.push(Dependency {
        ecosystem: Ecosystem::Pypi,
        name: name.to_string(),
        version: version.to_string(),
        digests,
        via: Vec::new(),
    });
    Ok(())
}

/// The requirement text without its options, and the `--hash` digests.
fn hashes(
    spec: &str,
    rest: &[&str],
    number: usize,
) -> Result<(String, Vec<Digest>), Failure> {
    let mut text = spec.to_string();
    let mut digests = Vec::new();
    let mut words = rest.iter();
    while let Some(word) = words.next() {
        let value = match word.strip_prefix("--hash") {
            Some("") => words.next().copied().unwrap_or_default(),
            Some(value) => value.trim_start_matches('='),
            None if word.starts_with("--") => continue,
            None => {
                text.push_str(word);
                continue;
            }
        };
        let digest = Digest::from_prefixed_hex(value).ok_or_else(|| {
            Failure::at(number, format!("invalid hash `{value}`"))
        })?;
        digests.push(digest);
    }
    Ok((text, digests))
}
