//! What a registry's metadata says about a package beyond its file: how
//! many versions it has and whether it names a repository, read from a
//! fake registry on loopback.

mod support;

use std::time::Duration;

use cordon_registry::{Client, ClientOptions, Registries, Spec};
use support::{FakeRegistry, Reply};

fn client(registry: &FakeRegistry) -> Client {
    let base = &registry.base;
    Client::new(ClientOptions {
        registries: Registries {
            npm: format!("{base}/npm"),
            pypi: format!("{base}/simple"),
            crates_index: format!("{base}/index"),
            crates_download: format!("{base}/crates"),
        },
        connect_timeout: Duration::from_secs(2),
        timeout: Duration::from_secs(5),
        backoff: Duration::from_millis(10),
        ..ClientOptions::default()
    })
}

fn npm_version(
    name: &str,
    version: &str,
    repository: bool,
) -> serde_json::Value {
    let mut value = serde_json::json!({
        "name": name,
        "version": version,
        "dist": {"tarball": format!("http://127.0.0.1:9/{name}-{version}.tgz")},
    });
    if repository {
        value["repository"] = serde_json::json!({"type": "git", "url": "git+https://h.example/r"});
    }
    value
}

#[test]
fn npm_counts_versions_and_sees_the_repository() {
    let registry = FakeRegistry::start();
    let document = serde_json::json!({
        "name": "pad",
        "dist-tags": {"latest": "1.1.0"},
        "versions": {
            "1.0.0": npm_version("pad", "1.0.0", false),
            "1.1.0": npm_version("pad", "1.1.0", true),
        },
    });
    registry.route("/npm/pad", vec![Reply::ok(document.to_string())]);

    let spec = Spec::parse("npm:pad").unwrap();
    let resolved = client(&registry).resolve(&spec).unwrap();
    assert_eq!(resolved.meta.versions, Some(2));
    assert_eq!(resolved.meta.repository, Some(true));

    let spec = Spec::parse("npm:pad@1.0.0").unwrap();
    let resolved = client(&registry).resolve(&spec).unwrap();
    assert_eq!(resolved.meta.repository, Some(false));
}

#[test]
fn pypi_counts_the_versions_of_its_files() {
    let registry = FakeRegistry::start();
    let file = |name: &str| {
        serde_json::json!({
            "filename": name,
            "url": format!("/files/{name}"),
            "hashes": {"sha256": "00"},
        })
    };
    let page = serde_json::json!({"meta": {"api-version": "1.1"},
    "name": "six", "files": [
        file("six-1.15.0.tar.gz"),
        file("six-1.16.0.tar.gz"),
        file("six-1.16.0-py2.py3-none-any.whl"),
    ]});
    registry.route("/simple/six/", vec![Reply::ok(page.to_string())]);

    let spec = Spec::parse("pypi:six").unwrap();
    let resolved = client(&registry).resolve(&spec).unwrap();
    assert_eq!(resolved.meta.versions, Some(2));
    assert_eq!(resolved.meta.repository, None);
}

#[test]
fn crates_count_the_lines_of_the_index() {
    let registry = FakeRegistry::start();
    let line = |version: &str| {
        serde_json::json!({"name": "itoa", "vers": version, "deps": [],
            "features": {}, "cksum": "00", "yanked": false})
        .to_string()
    };
    let index =
        format!("{}\n{}\n{}\n", line("1.0.0"), line("1.0.1"), line("1.0.2"));
    registry.route("/index/it/oa/itoa", vec![Reply::ok(index)]);

    let spec = Spec::parse("crates:itoa").unwrap();
    let resolved = client(&registry).resolve(&spec).unwrap();
    assert_eq!(resolved.meta.versions, Some(3));
}
