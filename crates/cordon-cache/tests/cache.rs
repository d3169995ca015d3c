//! The cache on a real file: round trips, rulesets, several writers at
//! once and a corrupt file.

use std::path::Path;
use std::sync::Barrier;

use cordon_cache::Cache;

fn keys(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn a_report_is_found_under_any_of_its_digests() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/dir/scan.sqlite3");
    let cache = Cache::open(&path).unwrap();
    assert!(cache.is_empty().unwrap());
    assert_eq!(cache.get(&keys(&["sha256:aa"]), "r1").unwrap(), None);

    cache.put(&keys(&["sha256:aa", "sha512:bb"]), "r1", "{}").unwrap();
    assert_eq!(
        cache.get(&keys(&["sha512:bb"]), "r1").unwrap(),
        Some("{}".into())
    );
    assert_eq!(
        cache.get(&keys(&["sha1:zz", "sha256:aa"]), "r1").unwrap(),
        Some("{}".into())
    );
    assert_eq!(cache.get(&keys(&["sha256:aa"]), "r2").unwrap(), None);
    assert_eq!(cache.recovered(), None);
    drop(cache);

    let again = Cache::open(&path).unwrap();
    assert_eq!(again.len().unwrap(), 2);
    again.put(&keys(&["sha256:aa"]), "r1", "{\"new\": 1}").unwrap();
    assert_eq!(
        again.get(&keys(&["sha256:aa"]), "r1").unwrap(),
        Some("{\"new\": 1}".into())
    );
}

#[test]
fn several_writers_share_one_file() {
    const WRITERS: usize = 4;
    const EACH: usize = 150;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scan.sqlite3");
    let barrier = Barrier::new(WRITERS);

    // Each thread opens its own connection, as a separate process
    // would; they all create the file and its table at the same moment.
    std::thread::scope(|scope| {
        for writer in 0..WRITERS {
            let (path, barrier) = (&path, &barrier);
            scope.spawn(move || {
                barrier.wait();
                let cache = Cache::open(path).unwrap();
                for i in 0..EACH {
                    let key = vec![format!("sha256:{writer}-{i}")];
                    cache.put(&key, "r", &format!("{writer}/{i}")).unwrap();
                    assert!(cache.get(&key, "r").unwrap().is_some());
                }
            });
        }
    });

    let cache = Cache::open(&path).unwrap();
    assert_eq!(cache.len().unwrap(), (WRITERS * EACH) as u64);
    let found = cache.get(&keys(&["sha256:3-149"]), "r").unwrap();
    assert_eq!(found.as_deref(), Some("3/149"));
}

#[test]
fn a_corrupt_file_is_moved_aside_and_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scan.sqlite3");
    let garbage = b"this is not a database, just garbage bytes ".repeat(200);
    std::fs::write(&path, &garbage).unwrap();

    let cache = Cache::open(&path).unwrap();
    let aside = cache.recovered().expect("the corrupt file was moved");
    assert_eq!(std::fs::read(&aside).unwrap(), garbage);
    assert!(aside.parent() == Some(dir.path()), "{}", aside.display());
    assert!(cache.is_empty().unwrap());
    cache.put(&keys(&["sha256:aa"]), "r", "{}").unwrap();
    drop(cache);

    let reopened = Cache::open(&path).unwrap();
    assert_eq!(reopened.recovered(), None);
    assert_eq!(reopened.len().unwrap(), 1);
}

#[test]
fn a_database_of_another_layout_is_emptied() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scan.sqlite3");
    old_layout(&path);
    let cache = Cache::open(&path).unwrap();
    assert!(cache.is_empty().unwrap());
}

/// Leaves a cache of another layout behind: one with a report whose
/// layout number (SQLite's `user_version`) is not ours.
fn old_layout(path: &Path) {
    let cache = Cache::open(path).unwrap();
    cache.put(&keys(&["sha256:aa"]), "r", "{}").unwrap();
    drop(cache);
    let mut bytes = std::fs::read(path).unwrap();
    // The header's user_version field, big-endian at offset 60.
    bytes[60..64].copy_from_slice(&7u32.to_be_bytes());
    std::fs::write(path, bytes).unwrap();
}
