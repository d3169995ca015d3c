//! The scan cache: finished package reports in an embedded SQLite
//! database, so that a package already scanned is not fetched, read or
//! scanned again.
//!
//! A report is stored under the digests of the package's content (the
//! SHA-256 of an archive's bytes, say, and its SHA-512 as well, so that
//! a lockfile that records either finds it) and a *ruleset*: a
//! fingerprint of everything besides the content that decides the
//! report (the rules, the scoring thresholds, suppressions, limits, the
//! scanner's own build). Changing any of them misses the old entries.
//!
//! Several processes may use one cache at once: the database runs in
//! WAL mode and waits for a lock rather than failing. A file that is not
//! a sound database is moved aside and a new one started; see
//! [`Cache::recovered`].
//!
//! ```no_run
//! use cordon_cache::Cache;
//!
//! let cache = Cache::open(&Cache::default_path().unwrap())?;
//! let keys = ["sha256:0a1b…".to_string()];
//! if cache.get(&keys, "ruleset")?.is_none() {
//!     cache.put(&keys, "ruleset", "{\"verdict\": \"clean\"}")?;
//! }
//! # Ok::<(), cordon_cache::Error>(())
//! ```

#![forbid(unsafe_code)]

mod error;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

pub use crate::error::Error;

/// The layout of the database; a file of another layout is emptied.
const SCHEMA_VERSION: i64 = 1;

/// How long to wait for another process's lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// The cache file's name inside its directory.
pub const FILE_NAME: &str = "scan.sqlite3";

/// An open cache, shareable between threads.
#[derive(Debug)]
pub struct Cache {
    path: PathBuf,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    conn: Connection,
    /// The file's inode when it was opened, to tell whether another
    /// process already replaced a corrupt file.
    inode: Option<u64>,
    /// Where a corrupt file was moved, if one was.
    recovered: Option<PathBuf>,
}

impl Cache {
    /// `$XDG_CACHE_HOME/cordon/scan.sqlite3`, or `~/.cache/cordon/…`
    /// when that is unset; `None` when neither tells a directory.
    pub fn default_path() -> Option<PathBuf> {
        let xdg = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .filter(|dir| dir.is_absolute());
        let home = || {
            std::env::var_os("HOME")
                .map(PathBuf::from)
                .filter(|dir| dir.is_absolute())
                .map(|home| home.join(".cache"))
        };
        Some(xdg.or_else(home)?.join("cordon").join(FILE_NAME))
    }

    /// Opens the cache at `path`, creating it and its directory as
    /// needed. A file that is not a sound database is moved aside and
    /// a new one created in its place.
    pub fn open(path: &Path) -> Result<Cache, Error> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir).map_err(|source| {
                Error::CreateDir { path: dir.to_path_buf(), source }
            })?;
        }
        let state = match connect(path) {
            Ok(conn) => State { conn, inode: inode(path), recovered: None },
            Err(err) if error::is_corrupt(&err) => fresh(path, None)?,
            Err(source) => {
                let path = path.to_path_buf();
                return Err(Error::Sqlite { path, action: "open", source });
            }
        };
        Ok(Cache { path: path.to_path_buf(), state: Mutex::new(state) })
    }

    /// The cache file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where a corrupt cache file was moved before a new one was
    /// started, if that happened since this cache was opened.
    pub fn recovered(&self) -> Option<PathBuf> {
        self.lock().recovered.clone()
    }

    /// The report stored under any of `digests` for `ruleset`.
    pub fn get(
        &self,
        digests: &[String],
        ruleset: &str,
    ) -> Result<Option<String>, Error> {
        let mut state = self.lock();
        match lookup(&state.conn, digests, ruleset) {
            Ok(found) => Ok(found),
            Err(err) if error::is_corrupt(&err) => {
                self.recover(&mut state)?;
                Ok(None)
            }
            Err(source) => Err(self.sqlite("read", source)),
        }
    }

    /// Stores `report` under every one of `digests` for `ruleset`,
    /// replacing what was there.
    pub fn put(
        &self,
        digests: &[String],
        ruleset: &str,
        report: &str,
    ) -> Result<(), Error> {
        let mut state = self.lock();
        match store(&mut state.conn, digests, ruleset, report) {
            Ok(()) => Ok(()),
            Err(err) if error::is_corrupt(&err) => self.recover(&mut state),
            Err(source) => Err(self.sqlite("write", source)),
        }
    }

    /// Removes the reports stored more than `max_age` ago, and those of
    /// any ruleset but `ruleset` stored more than `stale` ago (reports
    /// of an older cordon or of rules since changed, which this scanner
    /// never reads); returns how many were removed.
    pub fn prune(
        &self,
        ruleset: &str,
        stale: Duration,
        max_age: Duration,
    ) -> Result<u64, Error> {
        let now = now_secs();
        let before = |age: Duration| now.saturating_sub(secs(age));
        let state = self.lock();
        let removed = state
            .conn
            .execute(
                "DELETE FROM reports
                 WHERE stored < ?1 OR (ruleset != ?2 AND stored < ?3)",
                params![before(max_age), ruleset, before(stale)],
            )
            .map_err(|source| self.sqlite("write", source))?;
        Ok(removed as u64)
    }

    /// How many reports the cache holds, for every ruleset.
    pub fn len(&self) -> Result<u64, Error> {
        let state = self.lock();
        let count: i64 = state
            .conn
            .query_row("SELECT count(*) FROM reports", [], |row| row.get(0))
            .map_err(|source| self.sqlite("read", source))?;
        Ok(count.max(0) as u64)
    }

    /// Whether the cache holds no report.
    pub fn is_empty(&self) -> Result<bool, Error> {
        Ok(self.len()? == 0)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock leaves a connection that is
        // still usable: SQLite rolls back an unfinished transaction.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Replaces a file found corrupt while in use, unless another
    /// process already did.
    fn recover(&self, state: &mut State) -> Result<(), Error> {
        tracing::warn!(
            "the scan cache `{}` is corrupt; starting a new one",
            self.path.display()
        );
        let replaced = inode(&self.path) != state.inode;
        let fresh_state = if replaced {
            let conn = connect(&self.path)
                .map_err(|source| self.sqlite("open", source))?;
            State { conn, inode: inode(&self.path), recovered: None }
        } else {
            fresh(&self.path, state.inode)?
        };
        let previous = state.recovered.take();
        *state = fresh_state;
        state.recovered = state.recovered.take().or(previous);
        Ok(())
    }

    fn sqlite(&self, action: &'static str, source: rusqlite::Error) -> Error {
        Error::Sqlite { path: self.path.clone(), action, source }
    }
}

/// Moves the corrupt file at `path` aside, with its WAL files, and
/// opens a new database there. `expected` is the inode the caller saw,
/// when it had one: a file with another inode was already replaced by
/// someone else and is kept.
fn fresh(path: &Path, expected: Option<u64>) -> Result<State, Error> {
    let aside = aside_name(path);
    let ours = expected.is_none() || inode(path) == expected;
    let mut recovered = None;
    if ours && path.exists() {
        std::fs::rename(path, &aside).map_err(|source| Error::MoveAside {
            path: path.to_path_buf(),
            source,
        })?;
        for suffix in ["-wal", "-shm"] {
            let mut side = path.as_os_str().to_owned();
            side.push(suffix);
            let _ = std::fs::remove_file(PathBuf::from(side));
        }
        recovered = Some(aside);
    }
    let conn = connect(path).map_err(|source| Error::Sqlite {
        path: path.to_path_buf(),
        action: "open",
        source,
    })?;
    Ok(State { conn, inode: inode(path), recovered })
}

/// `scan.sqlite3.corrupt-SECONDS-PID` beside the file.
fn aside_name(path: &Path) -> PathBuf {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".corrupt-{seconds}-{}", std::process::id()));
    PathBuf::from(name)
}

#[cfg(unix)]
fn inode(path: &Path) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|meta| meta.ino())
}

#[cfg(not(unix))]
fn inode(_path: &Path) -> Option<u64> {
    None
}

/// Opens the database, sets it up for several processes at once and
/// makes sure its table is there and readable.
fn connect(path: &Path) -> Result<Connection, rusqlite::Error> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;

    let _mode: String =
        conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    schema(&conn)?;

    // Reading the table shows a damaged file now rather than mid-scan.
    conn.query_row(
        "SELECT count(*) FROM (SELECT 1 FROM reports LIMIT 1)",
        [],
        |_| Ok(()),
    )?;
    Ok(conn)
}

/// Creates the table, or empties a database of another layout.
fn schema(conn: &Connection) -> Result<(), rusqlite::Error> {
    let version = |conn: &Connection| -> Result<i64, rusqlite::Error> {
        conn.query_row("PRAGMA user_version", [], |row| row.get(0))
    };
    if version(conn)? == SCHEMA_VERSION {
        return Ok(());
    }

    conn.execute_batch("BEGIN IMMEDIATE")?;
    let result = (|| {
        if version(conn)? == SCHEMA_VERSION {
            return Ok(());
        }
        conn.execute_batch(
            "DROP TABLE IF EXISTS reports;
             CREATE TABLE reports (
                 digest TEXT NOT NULL,
                 ruleset TEXT NOT NULL,
                 report TEXT NOT NULL,
                 stored INTEGER NOT NULL,
                 PRIMARY KEY (digest, ruleset)
             ) WITHOUT ROWID;",
        )?;
        conn.pragma_update(None, "user_version", SCHEMA_VERSION)
    })();
    match result {
        Ok(()) => conn.execute_batch("COMMIT"),
        Err(err) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(err)
        }
    }
}

fn lookup(
    conn: &Connection,
    digests: &[String],
    ruleset: &str,
) -> Result<Option<String>, rusqlite::Error> {
    let mut statement = conn.prepare_cached(
        "SELECT report FROM reports WHERE digest = ?1 AND ruleset = ?2",
    )?;
    for digest in digests {
        let found = statement
            .query_row(params![digest, ruleset], |row| row.get(0))
            .optional()?;
        if found.is_some() {
            return Ok(found);
        }
    }
    Ok(None)
}

fn store(
    conn: &mut Connection,
    digests: &[String],
    ruleset: &str,
    report: &str,
) -> Result<(), rusqlite::Error> {
    let now = now_secs();
    let transaction = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    {
        let mut statement = transaction.prepare_cached(
            "INSERT OR REPLACE INTO reports (digest, ruleset, report, stored)
             VALUES (?1, ?2, ?3, ?4)",
        )?;
        for digest in digests {
            statement.execute(params![digest, ruleset, report, now])?;
        }
    }
    transaction.commit()
}

/// Seconds since the epoch, as the `stored` column keeps them.
fn now_secs() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, secs)
}

/// A duration in whole seconds, saturated to fit the column.
fn secs(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: Duration = Duration::from_secs(86_400);

    /// Makes the report under `digest` look `days` days old.
    fn age(cache: &Cache, digest: &str, days: i64) {
        let stored = now_secs() - days * 86_400;
        let state = cache.lock();
        state
            .conn
            .execute(
                "UPDATE reports SET stored = ?1 WHERE digest = ?2",
                params![stored, digest],
            )
            .unwrap();
    }

    #[test]
    fn pruning_drops_old_reports_and_stale_rulesets_only() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(&dir.path().join("scan.sqlite3")).unwrap();
        let put = |digest: &str, ruleset: &str, days: i64| {
            cache.put(&[digest.to_string()], ruleset, "{}").unwrap();
            age(&cache, digest, days);
        };
        put("fresh-current", "now", 1);
        put("old-current", "now", 100);
        put("fresh-other", "before", 1);
        put("stale-other", "before", 10);

        let removed = cache.prune("now", 7 * DAY, 90 * DAY).unwrap();

        assert_eq!(removed, 2);
        let kept = |digest: &str, ruleset: &str| {
            cache.get(&[digest.to_string()], ruleset).unwrap().is_some()
        };
        assert!(kept("fresh-current", "now"));
        assert!(kept("fresh-other", "before"));
        assert!(!kept("old-current", "now"));
        assert!(!kept("stale-other", "before"));
    }

    #[test]
    fn aside_names_stay_beside_the_file() {
        let aside = aside_name(Path::new("/c/scan.sqlite3"));
        let text = aside.display().to_string();
        assert!(text.starts_with("/c/scan.sqlite3.corrupt-"), "{text}");
    }
}
