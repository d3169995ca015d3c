//! Batches: targets from a file or standard input, JSON lines streamed
//! per package, shards, `--jobs`, the progress bar, and registry
//! failures that stay with their package.

#[path = "../../cordon-registry/tests/support/mod.rs"]
mod fake;
mod registry_support;
mod support;

use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use fake::{FakeRegistry, Reply};
use registry_support::{entry, publish_npm, requests_for};
use serde_json::Value;
use support::{Run, cordon};

/// Writes `count` small honest files and returns their names.
fn packages(dir: &Path, count: usize) -> Vec<String> {
    (0..count)
        .map(|i| {
            let name = format!("p{i}.js");
            support::write(
                dir,
                &name,
                format!("exports.n = {i};\n").as_bytes(),
            );
            name
        })
        .collect()
}

fn lines(run: &Run) -> Vec<Value> {
    run.stdout
        .lines()
        .map(|line| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("not JSON ({e}): {line:?}\n{run}"))
        })
        .collect()
}

fn targets_of(values: &[Value]) -> BTreeSet<String> {
    values.iter().map(|v| v["target"].as_str().unwrap().to_string()).collect()
}

#[test]
fn targets_come_from_a_file_with_comments() {
    let dir = tempfile::tempdir().unwrap();
    let names = packages(dir.path(), 3);
    let list = format!(
        "# a feed\n\n{}\n  {}  \n# {}\n",
        names[0], names[1], names[2]
    );
    std::fs::write(dir.path().join("feed.txt"), list).unwrap();

    let run = cordon(
        dir.path(),
        &[
            "scan",
            "--no-cache",
            "--format",
            "json",
            "--from",
            "feed.txt",
            &names[2],
        ],
    );
    assert_eq!(run.code, Some(0), "{run}");
    let report = run.json();
    let listed: Vec<&str> = report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["target"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [&names[2], &names[0], &names[1]]);

    let missing = cordon(dir.path(), &["scan", "--from", "nope.txt"]);
    assert_eq!(missing.code, Some(2), "{missing}");
    assert!(missing.stderr.contains("nope.txt"), "{missing}");
}

#[test]
fn targets_come_from_standard_input() {
    let dir = tempfile::tempdir().unwrap();
    let names = packages(dir.path(), 2);
    let mut child = Command::new(env!("CARGO_BIN_EXE_cordon"))
        .args(["scan", "--no-cache", "--format", "jsonl", "--from", "-"])
        .current_dir(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{}\n# skipped\n{}\nmissing.tgz", names[0], names[1])
        .unwrap();
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let text = String::from_utf8(output.stdout).unwrap();
    let values: Vec<Value> =
        text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(values.len(), 3, "{text}");
    let missing =
        values.iter().find(|v| v["target"] == "missing.tgz").unwrap();
    assert!(missing["error"].as_str().unwrap().contains("missing.tgz"));
    assert!(missing["verdict"].is_null());
}

#[test]
fn json_lines_hold_one_package_each_and_a_bad_target_stays_alone() {
    let dir = tempfile::tempdir().unwrap();
    let mut names = packages(dir.path(), 5);
    support::write(
        dir.path(),
        "setup.py",
        b"import base64\nexec(base64.b64decode('cHJpbnQoMSk='))\n",
    );
    names.push("setup.py".to_string());
    names.push("npm:bad name".to_string());
    let mut args =
        vec!["scan", "--no-cache", "--format", "jsonl", "--jobs", "2"];
    args.extend(names.iter().map(String::as_str));

    let run = cordon(dir.path(), &args);
    assert_eq!(run.code, Some(1), "a flagged package outweighs an error");
    let values = lines(&run);
    assert_eq!(values.len(), names.len(), "{run}");
    assert_eq!(targets_of(&values), names.iter().cloned().collect());
    let bad = values.iter().find(|v| v["target"] == "npm:bad name").unwrap();
    assert!(bad["error"].as_str().unwrap().contains("invalid package spec"));
    let flagged = values.iter().find(|v| v["target"] == "setup.py").unwrap();
    assert_ne!(flagged["verdict"], "clean");
    assert!(values.iter().all(|v| v.get("findings").is_some()));

    let mut clean_and_bad = vec!["scan", "--no-cache", "--format", "jsonl"];
    clean_and_bad.extend([names[0].as_str(), "npm:bad name"]);
    let run = cordon(dir.path(), &clean_and_bad);
    assert_eq!(run.code, Some(2), "an error without a verdict: {run}");
    assert_eq!(lines(&run).len(), 2);
}

#[test]
fn shards_split_a_batch_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let names = packages(dir.path(), 20);
    let all: BTreeSet<String> = names.iter().cloned().collect();
    let mut seen = BTreeSet::new();
    let mut total = 0;
    for k in 1..=3 {
        let shard = format!("{k}/3");
        let mut args = vec!["scan", "--no-cache", "--format", "jsonl"];
        args.extend(["--shard", &shard]);
        args.extend(names.iter().map(String::as_str));
        let run = cordon(dir.path(), &args);
        assert_eq!(run.code, Some(0), "{run}");
        let part = targets_of(&lines(&run));
        total += part.len();
        assert!(part.len() < names.len(), "shard {shard} took everything");
        // The same shard again holds the same targets.
        assert_eq!(targets_of(&lines(&cordon(dir.path(), &args))), part);
        seen.extend(part);
    }
    assert_eq!(total, names.len(), "every target in exactly one shard");
    assert_eq!(seen, all);

    for bad in ["0/3", "4/3", "1/0", "a/b", "2"] {
        let run = cordon(dir.path(), &["scan", "--shard", bad, &names[0]]);
        assert_eq!(run.code, Some(2), "{run}");
        assert!(run.stderr.contains("K/N"), "{run}");
    }
    let run = cordon(dir.path(), &["scan", "--jobs", "0", &names[0]]);
    assert_eq!(run.code, Some(2), "{run}");
}

#[test]
fn a_rerun_resumes_from_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let names = packages(dir.path(), 6);
    let cache = dir.path().join("cache");
    let cache = cache.to_str().unwrap();
    let first: Vec<&str> = names[..4].iter().map(String::as_str).collect();
    let mut args = vec!["scan", "--format", "jsonl", "--debug"];
    args.extend(["--cache-dir", cache]);
    let mut partial = args.clone();
    partial.extend(&first);
    let run = cordon(dir.path(), &partial);
    assert!(run.stderr.contains("0 hits, 4 stored"), "{run}");

    args.extend(names.iter().map(String::as_str));
    let run = cordon(dir.path(), &args);
    assert!(run.stderr.contains("4 hits, 2 stored"), "{run}");
    assert_eq!(lines(&run).len(), 6);
}

#[test]
fn registry_failures_are_retried_then_stay_with_their_package() {
    let registry = FakeRegistry::start();
    publish_npm(
        &registry,
        "fine",
        "1.0.0",
        &fake::npm_honest("fine", "1.0.0"),
    );
    registry.route("/npm/flaky", vec![Reply::status(500)]);
    let silent = fake::silent_server();
    let dir = tempfile::tempdir().unwrap();

    let npm = registry.url("/npm");
    let run = cordon(
        dir.path(),
        &[
            "scan",
            "--no-cache",
            "--format",
            "json",
            "--npm-registry",
            &npm,
            "--pypi-index",
            &silent,
            "--fetch-timeout",
            "1",
            "npm:fine@1.0.0",
            "npm:flaky@1.0.0",
            "npm:gone@1.0.0",
            "pypi:slow==1.0",
        ],
    );
    assert_eq!(run.code, Some(2), "{run}");
    let report = run.json();
    assert_eq!(entry(&report, "npm:fine@1.0.0")["verdict"], "clean");
    let flaky = entry(&report, "npm:flaky@1.0.0")["error"].as_str().unwrap();
    assert!(flaky.contains("status 500"), "{flaky}");
    assert_eq!(requests_for(&registry, "/npm/flaky"), 3, "tried three times");
    let gone = entry(&report, "npm:gone@1.0.0")["error"].as_str().unwrap();
    assert!(gone.contains("no such package"), "{gone}");
    assert_eq!(requests_for(&registry, "/npm/gone"), 1, "404 is not retried");
    let slow = entry(&report, "pypi:slow==1.0")["error"].as_str().unwrap();
    assert!(slow.contains("timed out"), "{slow}");
}

#[test]
fn the_progress_bar_shows_on_a_terminal_only() {
    let dir = tempfile::tempdir().unwrap();
    let names = packages(dir.path(), 6);
    let cordon_bin = env!("CARGO_BIN_EXE_cordon");
    let scan = format!(
        "{cordon_bin} scan --no-cache --format jsonl {}",
        names.join(" ")
    );

    // Not a terminal: no bar.
    let run = cordon(
        dir.path(),
        &[
            "scan",
            "--no-cache",
            "--format",
            "jsonl",
            &names[0],
            &names[1],
            &names[2],
            &names[3],
        ],
    );
    assert!(!run.stderr.contains("packages"), "{run}");

    // `script` gives the command a terminal for stdout and stderr.
    let Some(screen) = under_terminal(dir.path(), &scan) else {
        eprintln!("skipped: `script` is not installed");
        return;
    };
    assert!(screen.contains("6/6 packages"), "{screen:?}");
    // Every JSON line starts on a clean line: the bar was cleared first.
    let json: Vec<&str> =
        screen.split("\r\n").filter(|l| l.contains("\"target\"")).collect();
    assert_eq!(json.len(), 6, "{screen:?}");
    for line in json {
        // What a terminal shows: the bar, then erased by the line.
        let line = line.rsplit("\r\x1b[2K").next().unwrap();
        serde_json::from_str::<Value>(line)
            .unwrap_or_else(|e| panic!("garbled ({e}): {line:?}"));
    }

    let quiet =
        under_terminal(dir.path(), &format!("{scan} --quiet")).unwrap();
    assert!(!quiet.contains("packages"), "{quiet:?}");
}

/// What `command` writes to a terminal, run by `script`; `None` without
/// `script`.
fn under_terminal(dir: &Path, command: &str) -> Option<String> {
    let output = Command::new("script")
        .args(["-qec", command, "/dev/null"])
        .current_dir(dir)
        .env("XDG_CACHE_HOME", support::test_cache_home())
        .stdin(Stdio::null())
        .output()
        .ok()?;
    Some(String::from_utf8_lossy(&output.stdout).into_owned())
}
