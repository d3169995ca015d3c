//! `package-lock.json` and `npm-shrinkwrap.json`: the `packages` map of
//! lockfile versions 2 and 3, or the nested `dependencies` of version 1.

use serde_json::{Map, Value};

use super::{Dependency, Failure, Lockfile};
use crate::{Digest, Ecosystem};

/// Parses a package-lock.
pub(super) fn parse(text: &str) -> Result<Lockfile, Failure> {
    let root: Value =
        serde_json::from_str(text).map_err(|e| Failure::json(&e))?;
    let mut lock = Lockfile::default();
    if let Some(packages) = root.get("packages").and_then(Value::as_object) {
        packages_map(packages, &mut lock);
    } else if let Some(deps) =
        root.get("dependencies").and_then(Value::as_object)
    {
        nested(deps, None, &mut lock);
    } else if !root.is_object() {
        return Err(Failure {
            line: Some(1),
            message: "expected an object".into(),
        });
    }
    Ok(lock)
}

/// Versions 2 and 3: `"node_modules/a/node_modules/b": {...}`.
fn packages_map(packages: &Map<String, Value>, lock: &mut Lockfile) {
    for (key, entry) in by_name(packages) {
        let Some(installed) = installed_name(key) else { continue };
        let name =
            entry.get("name").and_then(Value::as_str).unwrap_or(installed);
        let parent = key
            .rsplit_once("/node_modules/")
            .and_then(|(parent, _)| installed_name(parent));
        add(name, entry, parent, lock);
    }
}

/// The entries of a JSON object in the order of their keys, whether or
/// not this build of `serde_json` keeps the file's order (a feature
/// another crate may turn on), so that the packages come out the same.
fn by_name(map: &Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut entries: Vec<_> = map.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    entries
}

/// The package name a `node_modules/...` path installs; `None` for the
/// root project and workspace folders.
fn installed_name(key: &str) -> Option<&str> {
    let index = key.rfind("node_modules/")?;
    Some(&key[index + "node_modules/".len()..])
}

/// Version 1: `"dependencies": {"a": {"version", "dependencies": {...}}}`.
fn nested(
    deps: &Map<String, Value>,
    parent: Option<&str>,
    lock: &mut Lockfile,
) {
    for (name, entry) in by_name(deps) {
        add(name, entry, parent, lock);
        if let Some(inner) =
            entry.get("dependencies").and_then(Value::as_object)
        {
            nested(inner, Some(name), lock);
        }
    }
}

fn add(name: &str, entry: &Value, parent: Option<&str>, lock: &mut Lockfile) {
    let text = |key: &str| entry.get(key).and_then(Value::as_str);
    if entry.get("link").and_then(Value::as_bool) == Some(true) {
        lock.skip_local(name, "a link to a local folder");
        return;
    }
    let Some(version) = text("version") else {
        lock.skip(name, "no version");
        return;
    };
    let (name, version) = match version.strip_prefix("npm:") {
        Some(alias) => match alias.rsplit_once('@') {
            Some((real, version)) if !real.is_empty() => (real, version),
            _ => (name, version),
        },
        None => (name, version),
    };
    if !is_registry(version, text("resolved")) {
        lock.skip(format!("{name}@{version}"), "not from a registry");
        return;
    }
    lock.push(Dependency {
        ecosystem: Ecosystem::Npm,
        name: name.to_string(),
        version: version.to_string(),
        digests: text("integrity").map(Digest::from_sri).unwrap_or_default(),
        via: parent.map(str::to_string).into_iter().collect(),
    });
}

/// A registry package has a plain version and, if resolved, an HTTP(S)
/// tarball URL.
fn is_registry(version: &str, resolved: Option<&str>) -> bool {
    let plain = version.starts_with(|c: char| c.is_ascii_digit())
        && !version.contains(':')
        && !version.contains('/');
    let http = resolved.is_none_or(|url| {
        url.starts_with("https://") || url.starts_with("http://")
    });
    plain && http
}
