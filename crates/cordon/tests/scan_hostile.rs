//! `cordon scan` on hostile and broken archives that the tests build:
//! each is an error or a finding for its own package, the batch goes
//! on, the limits hold, and nothing is written anywhere.

mod support;

use serde_json::Value;
use support::{Entry, cordon, cordon_capped, gzip, gzip_bomb, tar, write};

/// The entry for `target` in a JSON report.
fn entry<'a>(report: &'a Value, target: &str) -> &'a Value {
    report["packages"]
        .as_array()
        .expect("packages is a list")
        .iter()
        .find(|p| p["target"] == target)
        .unwrap_or_else(|| panic!("no entry for {target} in {report:#}"))
}

/// The rule ids of an entry's findings.
fn rules(entry: &Value) -> Vec<String> {
    let findings = entry["findings"].as_array().expect("findings is a list");
    findings.iter().map(|f| f["rule"].as_str().unwrap().to_string()).collect()
}

fn error(entry: &Value) -> &str {
    entry["error"].as_str().unwrap_or_else(|| panic!("no error: {entry:#}"))
}

#[test]
fn a_hostile_batch_gives_one_entry_per_target_and_writes_nothing() {
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path().join("work");
    std::fs::create_dir(&dir).unwrap();
    let honest = tar(&[Entry::File(b"pkg/setup.py", b"setup(name='a')\n")]);
    let traversal = tar(&[
        Entry::File(b"../../escaped.txt", b"x"),
        Entry::File(b"/tmp/absolute.txt", b"x"),
        Entry::File(b"pkg/../../../../etc/cron.d/job", b"* * * * * x"),
    ]);
    let links = tar(&[
        Entry::Symlink(b"pkg/passwd", b"/etc/passwd"),
        Entry::Hardlink(b"pkg/shadow", b"/etc/shadow"),
        Entry::CharDevice(b"pkg/null"),
    ]);
    let mut truncated = gzip(&honest);
    truncated.truncate(truncated.len() / 2);
    let targets = [
        write(&dir, "traversal.tar", &traversal),
        write(&dir, "truncated.tar.gz", &truncated),
        write(&dir, "links.tar.gz", &gzip(&links)),
        "missing.tar.gz".to_string(),
        write(&dir, "honest.tgz", &gzip(&honest)),
    ];
    let before = support::listing(scratch.path());

    let args: Vec<&str> = ["scan", "--format", "json"]
        .into_iter()
        .chain(targets.iter().map(String::as_str))
        .collect();
    let run = cordon(&dir, &args);

    assert_eq!(run.code, Some(1), "a suspicious package fails the run\n{run}");
    let report = run.json();
    assert_eq!(report["version"], 1);
    let order: Vec<&str> = report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["target"].as_str().unwrap())
        .collect();
    assert_eq!(order, targets.iter().map(String::as_str).collect::<Vec<_>>());

    let escaped = entry(&report, "traversal.tar");
    let found = rules(escaped);
    assert!(found.contains(&"archive-path-traversal".into()), "{found:?}");
    assert!(found.contains(&"archive-absolute-path".into()), "{found:?}");
    let paths: Vec<&str> = escaped["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert!(paths.iter().all(|p| !p.contains("..") && !p.starts_with('/')));

    let linked = rules(entry(&report, "links.tar.gz"));
    for rule in ["archive-symlink", "archive-hardlink", "archive-special-file"]
    {
        assert!(linked.contains(&rule.to_string()), "{rule}: {linked:?}");
    }

    let broken = entry(&report, "truncated.tar.gz");
    assert!(broken["verdict"].is_null());
    assert!(error(broken).contains("truncated.tar.gz"), "{broken:#}");
    assert!(error(broken).contains("truncated gzip"), "{broken:#}");
    assert!(error(entry(&report, "missing.tar.gz")).contains("missing"));
    assert_eq!(entry(&report, "honest.tgz")["verdict"], "clean");

    assert_eq!(support::listing(scratch.path()), before, "cordon wrote files");
    assert!(!std::path::Path::new("/tmp/absolute.txt").exists());
}

#[test]
fn a_decompression_bomb_is_stopped_with_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    // 1 GiB of zeros in about a megabyte: the ratio limit stops it long
    // before the size limit would.
    let bomb = write(dir.path(), "bomb.tar.gz", &gzip_bomb(1 << 30));
    // Eight files of 32 MiB each, every one under the entry limit.
    let zeros = vec![0u8; 32 << 20];
    let names: Vec<String> = (0..8).map(|i| format!("pkg/{i}.bin")).collect();
    let files: Vec<(&str, &[u8])> =
        names.iter().map(|n| (n.as_str(), &zeros[..])).collect();
    let zip_bomb = support::zip(&files);
    drop(zeros);
    let zip_bomb = write(dir.path(), "bomb.whl", &zip_bomb);
    let honest = tar(&[Entry::File(b"pkg/index.js", b"module.exports = 1\n")]);
    let honest = write(dir.path(), "honest.tar.gz", &gzip(&honest));

    // 512 MiB of address space: far less than the bombs would need.
    let args = ["scan", "--format", "json", &bomb, &zip_bomb, &honest];
    let run = cordon_capped(dir.path(), 512 << 10, &args);

    assert_eq!(run.code, Some(2), "{run}");
    let report = run.json();
    for bomb in ["bomb.tar.gz", "bomb.whl"] {
        let text = error(entry(&report, bomb));
        assert!(text.contains("compression ratio above 250"), "{run}");
    }
    assert_eq!(entry(&report, "honest.tar.gz")["verdict"], "clean");
}

#[test]
fn the_total_size_limit_holds_whatever_the_ratio() {
    let dir = tempfile::tempdir().unwrap();
    let bomb = write(dir.path(), "big.tar.gz", &gzip_bomb(64 << 20));
    let args = [
        "scan",
        "--format",
        "json",
        "--max-ratio",
        "1000000",
        "--max-total-size",
        "16MiB",
        &bomb,
    ];
    let run = cordon(dir.path(), &args);

    assert_eq!(run.code, Some(2), "{run}");
    let text = error(entry(&run.json(), "big.tar.gz")).to_string();
    assert!(text.contains(&format!("more than {} bytes", 16 << 20)), "{text}");
}

#[test]
fn a_file_over_the_entry_limit_is_skipped_and_the_rest_read() {
    let dir = tempfile::tempdir().unwrap();
    let package = tar(&[
        Entry::Zeros(b"pkg/blob.bin", 3 << 20),
        Entry::File(b"pkg/setup.py", b"setup()\n"),
    ]);
    let target = write(dir.path(), "pkg.tar.gz", &gzip(&package));
    let args = ["scan", "--format", "json", "--max-entry-size", "1MiB"];
    let run = cordon(dir.path(), &[&args[..], &[target.as_str()]].concat());

    let report = run.json();
    let package = entry(&report, "pkg.tar.gz");
    assert_eq!(package["files"], 1, "{run}");
    assert!(rules(package).contains(&"archive-entry-skipped".to_string()));
}

#[test]
fn the_entry_limit_allows_exactly_its_count() {
    let dir = tempfile::tempdir().unwrap();
    let names: Vec<Vec<u8>> =
        (0..100_001).map(|i| format!("p/{i}").into_bytes()).collect();
    let entries: Vec<Entry<'_>> =
        names.iter().map(|n| Entry::File(n, b"x")).collect();
    let at_limit = write(dir.path(), "at.tgz", &gzip(&tar(&entries[1..])));
    let over = write(dir.path(), "over.tgz", &gzip(&tar(&entries)));

    let run =
        cordon(dir.path(), &["scan", "--format", "json", &at_limit, &over]);

    let report = run.json();
    let read = entry(&report, "at.tgz");
    assert_eq!(read["files"], 100_000, "{read:#}");
    assert_eq!(read["verdict"], "clean");
    assert!(error(entry(&report, "over.tgz")).contains("more than 100000"));
}

#[test]
fn a_zip_named_like_a_tarball_is_read_as_a_zip_and_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let data = support::zip(&[("pkg/setup.py", b"setup()\n")]);
    let target = write(dir.path(), "disguised-1.0.tar.gz", &data);

    let run = cordon(dir.path(), &["scan", "--format", "json", &target]);

    let report = run.json();
    let package = entry(&report, &target);
    assert!(package["error"].is_null(), "{run}");
    assert_eq!(package["files"], 1);
    let found = rules(package);
    assert!(found.contains(&"archive-format-mismatch".into()), "{found:?}");
}

#[test]
fn non_utf8_names_are_read_and_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let package = tar(&[Entry::File(b"pkg/caf\xe9/\xff.py", b"x = 1\n")]);
    let target = write(dir.path(), "latin1.tar", &package);

    let run = cordon(dir.path(), &["scan", "--format", "json", &target]);

    let report = run.json();
    let package = entry(&report, "latin1.tar");
    assert_eq!(package["files"], 1, "{run}");
    let finding = package["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "archive-non-utf8-name")
        .unwrap_or_else(|| panic!("not flagged: {run}"));
    assert!(finding["path"].as_str().unwrap().contains('\u{fffd}'));
}

#[test]
fn a_directory_with_links_out_is_read_without_following_them() {
    let dir = tempfile::tempdir().unwrap();
    let package = dir.path().join("pkg");
    std::fs::create_dir(&package).unwrap();
    std::fs::write(package.join("setup.py"), "setup()\n").unwrap();
    let secret = dir.path().join("secret.py");
    std::fs::write(&secret, "exec(base64.b64decode(x))\n").unwrap();
    std::os::unix::fs::symlink(&secret, package.join("link.py")).unwrap();
    std::os::unix::fs::symlink("/", package.join("root")).unwrap();

    let run = cordon(dir.path(), &["scan", "--format", "json", "pkg"]);

    let report = run.json();
    let package = entry(&report, "pkg");
    assert_eq!(package["files"], 1, "{run}");
    assert_eq!(package["verdict"], "clean", "the link's target was read");
    let found = rules(package);
    assert_eq!(found.iter().filter(|r| *r == "archive-symlink").count(), 2);
}
