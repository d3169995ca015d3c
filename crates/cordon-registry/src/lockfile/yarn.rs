//! `yarn.lock`: yarn classic's own line format, parsed by hand, or
//! yarn berry's YAML (told by its `__metadata` key).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{Dependency, Failure, Lockfile};
use crate::{Digest, Ecosystem};

/// Parses a yarn.lock of either generation.
pub(super) fn parse(text: &str) -> Result<Lockfile, Failure> {
    if text.lines().any(|line| line.starts_with("__metadata:")) {
        berry(text)
    } else {
        classic(text)
    }
}

/// One block of a classic lockfile.
#[derive(Default)]
struct Block {
    keys: String,
    version: Option<String>,
    resolved: Option<String>,
    integrity: Option<String>,
}

fn classic(text: &str) -> Result<Lockfile, Failure> {
    let mut lock = Lockfile::default();
    let mut block: Option<Block> = None;
    for (index, raw) in text.lines().enumerate() {
        let number = index + 1;
        let line = raw.trim_end();
        if line.trim_start().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        if indent == 0 {
            finish(block.take(), &mut lock);
            block = Some(header(line, number)?);
            continue;
        }
        let current = block.as_mut().ok_or_else(|| {
            Failure::at(number, "an indented line before any entry")
        })?;
        if indent == 2 {
            field(current, line.trim_start(), number)?;
        }
    }
    finish(block, &mut lock);
    Ok(lock)
}

fn header(line: &str, number: usize) -> Result<Block, Failure> {
    let keys = line.strip_suffix(':').ok_or_else(|| {
        Failure::at(number, "an entry's header must end with `:`")
    })?;
    Ok(Block { keys: keys.to_string(), ..Block::default() })
}

fn field(block: &mut Block, line: &str, number: usize) -> Result<(), Failure> {
    if line.ends_with(':') {
        return Ok(());
    }
    let (key, value) = line.split_once(' ').ok_or_else(|| {
        Failure::at(number, format!("expected `key value`, found `{line}`"))
    })?;
    let value = unquote(value.trim()).to_string();
    match unquote(key) {
        "version" => block.version = Some(value),
        "resolved" => block.resolved = Some(value),
        "integrity" => block.integrity = Some(value),
        _ => {}
    }
    Ok(())
}

fn unquote(text: &str) -> &str {
    text.strip_prefix('"').and_then(|t| t.strip_suffix('"')).unwrap_or(text)
}

fn finish(block: Option<Block>, lock: &mut Lockfile) {
    let Some(block) = block else { return };
    let first = block.keys.split(", ").next().unwrap_or_default();
    let name = descriptor_name(unquote(first.trim()));
    let Some(version) = block.version else {
        lock.skip(block.keys, "no version");
        return;
    };
    let from_registry = block.resolved.as_deref().is_none_or(|url| {
        url.starts_with("https://") || url.starts_with("http://")
    });
    if !from_registry || name.is_empty() {
        lock.skip(block.keys, "not from a registry");
        return;
    }
    lock.push(Dependency {
        ecosystem: Ecosystem::Npm,
        name: name.to_string(),
        version,
        digests: block
            .integrity
            .as_deref()
            .map(Digest::from_sri)
            .unwrap_or_default(),
        via: Vec::new(),
    });
}

/// The package a descriptor (`name@range`, `@scope/name@range`,
/// `alias@npm:real@range`) resolves to.
fn descriptor_name(descriptor: &str) -> &str {
    let (name, range) = split_at_version(descriptor);
    match range.strip_prefix("npm:") {
        Some(aliased) if aliased.contains('@') => split_at_version(aliased).0,
        _ => name,
    }
}

/// Splits `name@rest` at the first `@` that is not a scope's.
fn split_at_version(text: &str) -> (&str, &str) {
    let from = usize::from(text.starts_with('@'));
    match text[from..].find('@') {
        Some(at) => (&text[..at + from], &text[at + from + 1..]),
        None => (text, ""),
    }
}

#[derive(Deserialize)]
struct BerryEntry {
    #[serde(default)]
    version: Option<serde_yaml_ng::Value>,
    #[serde(default)]
    resolution: Option<String>,
}

fn berry(text: &str) -> Result<Lockfile, Failure> {
    let entries: BTreeMap<String, serde_yaml_ng::Value> =
        serde_yaml_ng::from_str(text).map_err(|e| Failure::yaml(&e))?;
    let mut lock = Lockfile::default();
    for (key, value) in entries {
        if key == "__metadata" {
            continue;
        }
        let entry: BerryEntry =
            serde_yaml_ng::from_value(value).map_err(|e| Failure {
                line: None,
                message: format!("entry `{key}`: {e}"),
            })?;
        berry_entry(&key, entry, &mut lock);
    }
    Ok(lock)
}

/// A berry entry counts when it resolved to `name@npm:version`.
fn berry_entry(key: &str, entry: BerryEntry, lock: &mut Lockfile) {
    let resolution = entry.resolution.unwrap_or_default();
    let (name, rest) = split_at_version(&resolution);
    let Some(version) = rest.strip_prefix("npm:") else {
        lock.skip(key, "not from a registry");
        return;
    };
    let declared = entry.version.as_ref().and_then(yaml_text);
    lock.push(Dependency {
        ecosystem: Ecosystem::Npm,
        name: name.to_string(),
        version: declared.unwrap_or_else(|| version.to_string()),
        digests: Vec::new(),
        via: Vec::new(),
    });
}

fn yaml_text(value: &serde_yaml_ng::Value) -> Option<String> {
    match value {
        serde_yaml_ng::Value::String(s) => Some(s.clone()),
        serde_yaml_ng::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}
