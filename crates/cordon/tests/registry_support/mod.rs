//! What the registry tests share: pointing cordon at a fake registry
//! on loopback, and publishing the packages the tests build into it.

#![allow(dead_code)]

use std::path::Path;

use cordon_registry::{Algorithm, Digest};
use serde_json::{Value, json};

use crate::fake::{self, FakeRegistry, Reply};
use crate::support::{Run, cordon};

/// The flags that point cordon at `registry`.
pub fn registry_flags(registry: &FakeRegistry) -> Vec<String> {
    let flag =
        |name: &str, path: &str| [format!("--{name}"), registry.url(path)];
    [
        flag("npm-registry", "/npm"),
        flag("pypi-index", "/simple"),
        flag("crates-index", "/index"),
        flag("crates-download", "/crates"),
    ]
    .concat()
}

/// Runs `cordon scan --format json` against `registry`.
pub fn scan(dir: &Path, registry: &FakeRegistry, targets: &[&str]) -> Run {
    let flags = registry_flags(registry);
    let mut args = vec!["scan", "--format", "json", "--fetch-timeout", "5"];
    args.extend(flags.iter().map(String::as_str));
    args.extend(targets);
    cordon(dir, &args)
}

/// Publishes an npm package with one version.
pub fn publish_npm(
    registry: &FakeRegistry,
    name: &str,
    version: &str,
    tarball: &[u8],
) {
    let file = format!("/tarballs/{name}-{version}.tgz");
    let integrity = Digest::of(Algorithm::Sha512, tarball).to_sri();
    let document = json!({
        "name": name,
        "dist-tags": {"latest": version},
        "versions": {version: {
            "name": name,
            "version": version,
            "dist": {"tarball": registry.url(&file), "integrity": integrity},
        }},
    });
    let path = format!("/npm/{}", name.replacen('/', "%2f", 1));
    registry.route(&path, vec![Reply::ok(document.to_string())]);
    registry.route(&file, vec![Reply::ok(tarball.to_vec())]);
}

/// Publishes a PyPI sdist.
pub fn publish_pypi(
    registry: &FakeRegistry,
    name: &str,
    version: &str,
    sdist: &[u8],
) {
    let filename = format!("{name}-{version}.tar.gz");
    let sha256 = Digest::of(Algorithm::Sha256, sdist).hex();
    let page = json!({
        "meta": {"api-version": "1.0"},
        "name": name,
        "files": [{"filename": filename, "url": format!("../../files/{filename}"),
                   "hashes": {"sha256": sha256}}],
    });
    registry
        .route(&format!("/simple/{name}/"), vec![Reply::ok(page.to_string())]);
    registry
        .route(&format!("/files/{filename}"), vec![Reply::ok(sdist.to_vec())]);
}

/// Publishes a crate whose name has four letters or more.
pub fn publish_crate(registry: &FakeRegistry, name: &str, version: &str) {
    let bytes = fake::crate_file(name, version);
    let line = json!({"name": name, "vers": version, "deps": [], "features": {},
                      "cksum": Digest::of(Algorithm::Sha256, &bytes).hex()});
    let index = format!("/index/{}/{}/{name}", &name[..2], &name[2..4]);
    registry.route(&index, vec![Reply::ok(format!("{line}\n"))]);
    let file = format!("/crates/{name}/{name}-{version}.crate");
    registry.route(&file, vec![Reply::ok(bytes)]);
}

pub fn entry<'a>(report: &'a Value, target: &str) -> &'a Value {
    report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["target"] == target)
        .unwrap_or_else(|| panic!("no entry for {target} in {report:#}"))
}

/// Runs `cordon scan --format json` against `registry` with `extra`
/// flags before the targets.
pub fn scan_with(
    dir: &Path,
    registry: &FakeRegistry,
    extra: &[&str],
    targets: &[&str],
) -> Run {
    let flags = registry_flags(registry);
    let mut args = vec!["scan", "--fetch-timeout", "5"];
    args.extend(flags.iter().map(String::as_str));
    args.extend(extra);
    if !extra.contains(&"--format") {
        args.extend(["--format", "json"]);
    }
    args.extend(targets);
    cordon(dir, &args)
}

/// How many requests `registry` got for `path`.
pub fn requests_for(registry: &FakeRegistry, path: &str) -> usize {
    registry.requests().iter().filter(|(p, _)| p == path).count()
}
