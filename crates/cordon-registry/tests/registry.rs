//! Fetching from a fake registry on loopback: the three registries,
//! digest checks, 404, retries and timeouts.

mod support;

use std::time::Duration;

use cordon_registry::{
    Algorithm, Client, ClientOptions, Digest, Error, Registries, Spec,
};
use data_encoding::{BASE64, HEXLOWER};
use support::{FakeRegistry, Reply};

fn client(registry: &FakeRegistry) -> Client {
    Client::new(options(&registry.base))
}

fn options(base: &str) -> ClientOptions {
    ClientOptions {
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
    }
}

fn sri(bytes: &[u8]) -> String {
    let digest = Digest::of(Algorithm::Sha512, bytes);
    format!("sha512-{}", BASE64.encode(&digest.bytes))
}

fn sha256_hex(bytes: &[u8]) -> String {
    HEXLOWER.encode(&Digest::of(Algorithm::Sha256, bytes).bytes)
}

/// Serves an npm document for `name` with one version whose integrity
/// is `integrity`.
fn npm_document(
    registry: &FakeRegistry,
    name: &str,
    tarball: &[u8],
    integrity: &str,
) {
    let encoded = name.replacen('/', "%2f", 1);
    let base = name.rsplit('/').next().unwrap_or(name);
    let file = format!("/files/{base}-1.0.0.tgz");
    let document = serde_json::json!({
        "name": name,
        "dist-tags": {"latest": "1.0.0"},
        "maintainers": [{"name": "a"}, {"name": "b"}],
        "time": {"1.0.0": "2026-01-02T03:04:05.000Z"},
        "versions": {"1.0.0": {
            "name": name,
            "version": "1.0.0",
            "scripts": {"postinstall": "node scripts/setup.js", "test": "x"},
            "dist": {"tarball": registry.url(&file), "integrity": integrity},
        }},
    });
    registry.route(
        &format!("/npm/{encoded}"),
        vec![Reply::ok(document.to_string())],
    );
    registry.route(&file, vec![Reply::ok(tarball.to_vec())]);
}

#[test]
fn npm_scoped_package_is_fetched_and_verified() {
    let registry = FakeRegistry::start();
    let tarball = support::npm_hostile("@acme/pad", "1.0.0");
    npm_document(&registry, "@acme/pad", &tarball, &sri(&tarball));

    let spec = Spec::parse("npm:@acme/pad").unwrap();
    let fetched = client(&registry).fetch(&spec, &[]).unwrap();
    assert_eq!(fetched.version, "1.0.0");
    assert_eq!(fetched.bytes, tarball);
    assert_eq!(fetched.file_name, "pad-1.0.0.tgz");
    assert_eq!(fetched.meta.maintainers, Some(2));
    assert_eq!(
        fetched.meta.install_scripts,
        vec!["postinstall: node scripts/setup.js"]
    );
    assert_eq!(
        fetched.meta.published.as_deref(),
        Some("2026-01-02T03:04:05.000Z")
    );
    assert!(
        registry.requests().iter().any(|(path, _)| path == "/npm/@acme%2fpad")
    );
}

#[test]
fn npm_shasum_is_enough_when_there_is_no_integrity() {
    let registry = FakeRegistry::start();
    let tarball = support::npm_honest("old", "1.0.0");
    let sha1 = HEXLOWER.encode(&Digest::of(Algorithm::Sha1, &tarball).bytes);
    let document = serde_json::json!({
        "versions": {"1.0.0": {"dist": {
            "tarball": registry.url("/old.tgz"), "shasum": sha1}}},
    });
    registry.route("/npm/old", vec![Reply::ok(document.to_string())]);
    registry.route("/old.tgz", vec![Reply::ok(tarball)]);
    let spec = Spec::parse("npm:old@1.0.0").unwrap();
    let fetched = client(&registry).fetch(&spec, &[]).unwrap();
    assert_eq!(fetched.digest.algorithm, Algorithm::Sha1);
}

#[test]
fn a_digest_mismatch_is_refused() {
    let registry = FakeRegistry::start();
    let tarball = support::npm_honest("pad", "1.0.0");
    npm_document(&registry, "pad", &tarball, &sri(b"something else"));

    let spec = Spec::parse("npm:pad@1.0.0").unwrap();
    let err = client(&registry).fetch(&spec, &[]).unwrap_err();
    assert!(matches!(err, Error::DigestMismatch { .. }), "{err}");
    let message = err.to_string();
    assert!(
        message.contains("npm:pad@1.0.0")
            && message.contains("/files/pad-1.0.0.tgz"),
        "{message}"
    );
}

#[test]
fn a_lockfile_digest_must_match_too() {
    let registry = FakeRegistry::start();
    let tarball = support::npm_honest("pad", "1.0.0");
    npm_document(&registry, "pad", &tarball, &sri(&tarball));
    let spec = Spec::parse("npm:pad@1.0.0").unwrap();
    let wrong = Digest::of(Algorithm::Sha512, b"not it");
    let err = client(&registry).fetch(&spec, &[wrong]).unwrap_err();
    assert!(matches!(err, Error::DigestMismatch { .. }), "{err}");
}

#[test]
fn missing_packages_and_versions_are_named() {
    let registry = FakeRegistry::start();
    let tarball = support::npm_honest("pad", "1.0.0");
    npm_document(&registry, "pad", &tarball, &sri(&tarball));
    let client = client(&registry);

    let err = client
        .fetch(&Spec::parse("npm:nope@1.0.0").unwrap(), &[])
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("no such package npm:nope@1.0.0 at http://127.0.0.1"),
        "{err}"
    );
    let err =
        client.fetch(&Spec::parse("npm:pad@9.9.9").unwrap(), &[]).unwrap_err();
    assert!(matches!(err, Error::NoSuchVersion { .. }), "{err}");
}

#[test]
fn server_errors_are_retried() {
    let registry = FakeRegistry::start();
    let tarball = support::npm_honest("pad", "1.0.0");
    npm_document(&registry, "pad", &tarball, &sri(&tarball));
    registry.route(
        "/files/pad-1.0.0.tgz",
        vec![Reply::status(500), Reply::status(503), Reply::ok(tarball)],
    );

    let spec = Spec::parse("npm:pad@1.0.0").unwrap();
    client(&registry).fetch(&spec, &[]).unwrap();
    let tries = registry
        .requests()
        .iter()
        .filter(|(p, _)| p == "/files/pad-1.0.0.tgz")
        .count();
    assert_eq!(tries, 3);
}

#[test]
fn server_errors_give_up_after_the_last_try() {
    let registry = FakeRegistry::start();
    registry.route("/npm/pad", vec![Reply::status(502)]);
    let err = client(&registry)
        .fetch(&Spec::parse("npm:pad").unwrap(), &[])
        .unwrap_err();
    assert!(matches!(err, Error::Status { status: 502, .. }), "{err}");
    assert_eq!(registry.requests().len(), 3);
}

#[test]
fn a_silent_registry_times_out() {
    let base = support::silent_server();
    let options = ClientOptions {
        timeout: Duration::from_secs(1),
        tries: 2,
        ..options(&base)
    };
    let started = std::time::Instant::now();
    let err = Client::new(options)
        .fetch(&Spec::parse("npm:pad").unwrap(), &[])
        .unwrap_err();
    assert!(matches!(err, Error::Http { timeout: true, .. }), "{err}");
    assert!(started.elapsed() < Duration::from_secs(8));
}

#[test]
fn responses_are_capped() {
    let registry = FakeRegistry::start();
    registry.route("/npm/big", vec![Reply::ok(vec![b' '; 4096])]);
    let options =
        ClientOptions { max_response_size: 1024, ..options(&registry.base) };
    let err = Client::new(options)
        .fetch(&Spec::parse("npm:big").unwrap(), &[])
        .unwrap_err();
    assert!(matches!(err, Error::TooLarge { .. }), "{err}");
}

/// Serves a PEP 691 page for `name` with the given files (file name,
/// bytes, relative or absolute URL).
fn pypi_page(
    registry: &FakeRegistry,
    name: &str,
    files: &[(&str, &[u8], &str)],
) {
    let files: Vec<serde_json::Value> = files
        .iter()
        .map(|(filename, bytes, url)| {
            registry.route(
                &format!("/files/{filename}"),
                vec![Reply::ok(bytes.to_vec())],
            );
            serde_json::json!({
                "filename": filename,
                "url": url,
                "hashes": {"sha256": sha256_hex(bytes)},
                "upload-time": "2026-01-01T00:00:00Z",
            })
        })
        .collect();
    let page = serde_json::json!({"meta": {"api-version": "1.1"}, "name": name, "files": files});
    registry
        .route(&format!("/simple/{name}/"), vec![Reply::ok(page.to_string())]);
}

#[test]
fn pypi_prefers_the_sdist_and_asks_for_json() {
    let registry = FakeRegistry::start();
    let sdist = support::sdist("six", "1.16.0", false);
    let wheel = support::zip(&[("six.py", "x = 1\n")]);
    let old = support::sdist("six", "1.15.0", false);
    pypi_page(
        &registry,
        "six",
        &[
            (
                "six-1.16.0-py2.py3-none-any.whl",
                &wheel,
                "../../files/six-1.16.0-py2.py3-none-any.whl",
            ),
            (
                "six-1.16.0.tar.gz",
                &sdist,
                &registry.url("/files/six-1.16.0.tar.gz"),
            ),
            ("six-1.15.0.tar.gz", &old, "/files/six-1.15.0.tar.gz"),
        ],
    );

    let client = client(&registry);
    let fetched =
        client.fetch(&Spec::parse("pypi:Six").unwrap(), &[]).unwrap();
    assert_eq!(
        (fetched.version.as_str(), fetched.file_name.as_str()),
        ("1.16.0", "six-1.16.0.tar.gz")
    );
    assert_eq!(fetched.bytes, sdist);
    let accept = &registry.requests()[0];
    assert_eq!(accept.0, "/simple/six/");
    assert_eq!(accept.1, "application/vnd.pypi.simple.v1+json");

    let fetched =
        client.fetch(&Spec::parse("pypi:six==1.15.0").unwrap(), &[]).unwrap();
    assert_eq!(fetched.bytes, old);
}

#[test]
fn pypi_falls_back_to_a_wheel_and_checks_it() {
    let registry = FakeRegistry::start();
    let wheel = support::zip(&[("only/__init__.py", "x = 1\n")]);
    pypi_page(
        &registry,
        "only-wheel",
        &[(
            "only_wheel-2.0-py3-none-any.whl",
            &wheel,
            "../../files/only_wheel-2.0-py3-none-any.whl",
        )],
    );
    let fetched = client(&registry)
        .fetch(&Spec::parse("pypi:only_wheel==2.0").unwrap(), &[])
        .unwrap();
    assert_eq!(fetched.bytes, wheel);

    registry.route(
        "/files/only_wheel-2.0-py3-none-any.whl",
        vec![Reply::ok(b"tampered".to_vec())],
    );
    let err = client(&registry)
        .fetch(&Spec::parse("pypi:only_wheel==2.0").unwrap(), &[])
        .unwrap_err();
    assert!(matches!(err, Error::DigestMismatch { .. }), "{err}");
}

/// Serves a crate's index file and its `.crate` files.
fn crates_index(
    registry: &FakeRegistry,
    name: &str,
    versions: &[(&str, &[u8], bool)],
) {
    let mut lines = String::new();
    for (version, bytes, yanked) in versions {
        let line = serde_json::json!({
            "name": name, "vers": version, "deps": [], "features": {},
            "cksum": sha256_hex(bytes), "yanked": yanked,
        });
        lines.push_str(&format!("{line}\n"));
        let file = format!("/crates/{name}/{name}-{version}.crate");
        registry.route(&file, vec![Reply::ok(bytes.to_vec())]);
    }
    let path = match name.len() {
        1 | 2 => format!("/index/{}/{name}", name.len()),
        3 => format!("/index/3/{}/{name}", &name[..1]),
        _ => format!("/index/{}/{}/{name}", &name[..2], &name[2..4]),
    };
    registry.route(&path, vec![Reply::ok(lines)]);
}

#[test]
fn crates_come_from_the_sparse_index() {
    let registry = FakeRegistry::start();
    let one = support::crate_file("itoa", "1.0.11");
    let two = support::crate_file("itoa", "1.0.12");
    let pre = support::crate_file("itoa", "2.0.0-rc.1");
    crates_index(
        &registry,
        "itoa",
        &[
            ("1.0.11", &one, false),
            ("1.0.12", &two, true),
            ("2.0.0-rc.1", &pre, false),
        ],
    );
    let client = client(&registry);

    let fetched =
        client.fetch(&Spec::parse("crates:itoa").unwrap(), &[]).unwrap();
    assert_eq!(
        fetched.version, "1.0.11",
        "the latest release that is not yanked"
    );
    assert_eq!(fetched.bytes, one);
    let err = client
        .fetch(&Spec::parse("crates:itoa@1.0.12").unwrap(), &[])
        .unwrap_err();
    assert!(matches!(err, Error::Yanked { .. }), "{err}");

    let yanked_ok =
        ClientOptions { allow_yanked: true, ..options(&registry.base) };
    let fetched = Client::new(yanked_ok)
        .fetch(&Spec::parse("crates:itoa@1.0.12").unwrap(), &[])
        .unwrap();
    assert!(fetched.meta.yanked);
}

#[test]
fn short_crate_names_use_their_prefix_folders() {
    let registry = FakeRegistry::start();
    for name in ["a", "ab", "abc"] {
        let bytes = support::crate_file(name, "0.1.0");
        crates_index(&registry, name, &[("0.1.0", &bytes, false)]);
        let spec = Spec::parse(&format!("crates:{name}@0.1.0")).unwrap();
        client(&registry).fetch(&spec, &[]).unwrap();
    }
}

#[test]
fn a_tampered_crate_is_refused() {
    let registry = FakeRegistry::start();
    let bytes = support::crate_file("serde", "1.0.0");
    crates_index(&registry, "serde", &[("1.0.0", &bytes, false)]);
    registry.route(
        "/crates/serde/serde-1.0.0.crate",
        vec![Reply::ok(support::crate_file("serde", "6.6.6"))],
    );
    let err = client(&registry)
        .fetch(&Spec::parse("crates:serde@1.0.0").unwrap(), &[])
        .unwrap_err();
    assert!(matches!(err, Error::DigestMismatch { .. }), "{err}");
}
