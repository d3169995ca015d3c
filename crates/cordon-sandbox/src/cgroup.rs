//! Memory and pid limits of the whole process tree through cgroups, v2
//! or v1, with rlimits standing in where no cgroup can be written.
//!
//! Each run gets its own cgroup, `cordon-<pid>`, made before the
//! sandbox starts and removed after it ends (also when setting up
//! fails, by [`Drop`]).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use cordon_report::run::{Enforcement, Layer, LayerKind, Limits};

use crate::error::{Error, os};
use crate::rlimit::Rlimits;

/// The root of the cgroup file systems.
const CGROUP_ROOT: &str = "/sys/fs/cgroup";

/// The cgroups of one run, and the limits cgroups could not take.
#[derive(Debug, Default)]
pub struct Cgroups {
    /// The directories made, each removed at the end.
    dirs: Vec<PathBuf>,
    /// The files to write the sandbox's pid into.
    procs: Vec<PathBuf>,
    /// What was applied, for the report.
    details: Vec<String>,
    /// Limits asked for that no cgroup holds, with why.
    missing: Vec<(String, String)>,
    /// Whether any limit was asked for.
    asked: bool,
}

impl Cgroups {
    /// Makes the cgroups for `limits` under the name `cordon-<id>`. What
    /// cannot be made is recorded, not an error: [`Cgroups::fallback`]
    /// says which rlimits stand in for it.
    pub fn create(limits: &Limits, id: u32) -> Cgroups {
        let mut cgroups = Cgroups::default();
        cgroups.asked = limits.memory_bytes.is_some() || limits.pids.is_some();
        if !cgroups.asked {
            return cgroups;
        }
        let name = format!("cordon-{id}");
        if Path::new(CGROUP_ROOT).join("cgroup.controllers").exists() {
            cgroups.create_v2(limits, &name);
        } else {
            for controller in ["memory", "pids"] {
                remove_stale(&Path::new(CGROUP_ROOT).join(controller));
            }
            cgroups.create_v1(limits, &name);
        }
        cgroups
    }

    /// cgroup v1: one directory per controller at its root.
    fn create_v1(&mut self, limits: &Limits, name: &str) {
        if let Some(bytes) = limits.memory_bytes {
            let dir = Path::new(CGROUP_ROOT).join("memory").join(name);
            let result = self.make_dir(&dir).and_then(|()| {
                write_limit(&dir, "memory.limit_in_bytes", bytes)?;
                let memsw = dir.join("memory.memsw.limit_in_bytes");
                if memsw.exists() {
                    write_limit(&dir, "memory.memsw.limit_in_bytes", bytes)?;
                }
                Ok(())
            });
            self.record(result, &dir, "memory", bytes);
        }

        if let Some(count) = limits.pids {
            let dir = Path::new(CGROUP_ROOT).join("pids").join(name);
            let result = self
                .make_dir(&dir)
                .and_then(|()| write_limit(&dir, "pids.max", count));
            self.record(result, &dir, "pids", count);
        }
    }

    /// cgroup v2: a child of our own cgroup, with the controllers
    /// enabled where the parent allows it.
    fn create_v2(&mut self, limits: &Limits, name: &str) {
        let parent = match own_v2_cgroup() {
            Ok(parent) => parent,
            Err(err) => {
                let why = format!("cannot find our cgroup: {err}");
                self.missing_all(limits, &why);
                return;
            }
        };
        remove_stale(&parent);
        let dir = parent.join(name);
        if let Err(err) = self.make_dir(&dir) {
            self.missing_all(limits, &err.to_string());
            return;
        }
        let _ =
            fs::write(parent.join("cgroup.subtree_control"), "+memory +pids");
        let controllers = fs::read_to_string(dir.join("cgroup.controllers"))
            .unwrap_or_default();

        if let Some(bytes) = limits.memory_bytes {
            let result =
                enabled(&controllers, "memory", &dir).and_then(|()| {
                    write_limit(&dir, "memory.max", bytes)?;
                    if dir.join("memory.swap.max").exists() {
                        write_limit(&dir, "memory.swap.max", 0)?;
                    }
                    Ok(())
                });
            self.record(result, &dir, "memory", bytes);
        }

        if let Some(count) = limits.pids {
            let result = enabled(&controllers, "pids", &dir)
                .and_then(|()| write_limit(&dir, "pids.max", count));
            self.record(result, &dir, "pids", count);
        }
    }

    fn make_dir(&mut self, dir: &Path) -> Result<(), Error> {
        fs::create_dir(dir)
            .map_err(os(format!("create the cgroup {}", dir.display())))?;
        self.dirs.push(dir.to_path_buf());
        Ok(())
    }

    fn record(
        &mut self,
        result: Result<(), Error>,
        dir: &Path,
        what: &str,
        value: u64,
    ) {
        match result {
            Ok(()) => {
                let procs = dir.join("cgroup.procs");
                if !self.procs.contains(&procs) {
                    self.procs.push(procs);
                }
                self.details
                    .push(format!("{what} {value} in {}", dir.display()));
            }
            Err(err) => self.missing.push((what.to_owned(), err.to_string())),
        }
    }

    fn missing_all(&mut self, limits: &Limits, why: &str) {
        if limits.memory_bytes.is_some() {
            self.missing.push(("memory".into(), why.to_owned()));
        }
        if limits.pids.is_some() {
            self.missing.push(("pids".into(), why.to_owned()));
        }
    }

    /// Puts the process `pid` (and so all it will start) in the cgroups.
    pub fn add(&self, pid: libc::pid_t) -> Result<(), Error> {
        for procs in &self.procs {
            fs::write(procs, pid.to_string()).map_err(os(format!(
                "add the sandbox to {}",
                procs.display()
            )))?;
        }
        Ok(())
    }

    /// The rlimits that stand in for the limits no cgroup holds.
    pub fn fallback(&self, limits: &Limits) -> Rlimits {
        let missing = |what: &str| self.missing.iter().any(|(m, _)| m == what);
        Rlimits {
            address_space: limits.memory_bytes.filter(|_| missing("memory")),
            processes: limits.pids.filter(|_| missing("pids")),
        }
    }

    /// The cgroup layer for the report.
    pub fn layer(&self) -> Layer {
        let enforcement = if !self.asked {
            Enforcement::Unused { reason: "no --memory or --pids".into() }
        } else if self.missing.is_empty() {
            Enforcement::Full
        } else if self.details.is_empty() {
            Enforcement::None { reason: self.missing[0].1.clone() }
        } else {
            let missing =
                self.missing.iter().map(|(m, _)| m.clone()).collect();
            Enforcement::Partial { missing }
        };
        Layer {
            layer: LayerKind::Cgroup,
            enforcement,
            details: self.details.clone(),
        }
    }

    /// A warning for each limit no cgroup holds, saying what stands in.
    pub fn warnings(&self) -> Vec<String> {
        self.missing
            .iter()
            .map(|(what, why)| {
                let instead = match what.as_str() {
                    "memory" => {
                        "RLIMIT_AS limits each process instead, not the \
                         whole tree"
                    }
                    _ => {
                        "RLIMIT_NPROC counts the user's processes in the \
                         sandbox instead"
                    }
                };
                format!("no {what} cgroup ({why}); {instead}")
            })
            .collect()
    }

    /// Removes the cgroups; they may stay busy for a moment after the
    /// last process in them ended.
    pub fn remove(&mut self) {
        for dir in self.dirs.drain(..).rev() {
            remove_dir(&dir);
        }
    }
}

impl Drop for Cgroups {
    fn drop(&mut self) {
        self.remove();
    }
}

/// Removes one cgroup directory, retrying while it is busy for up to
/// [`REMOVE_WAIT`]. The sandbox's last processes take a moment to leave
/// it after they are reaped: the first retries come at once, later ones
/// back off.
fn remove_dir(dir: &Path) {
    let deadline = Instant::now() + REMOVE_WAIT;
    let mut pause = Duration::from_micros(50);
    loop {
        match fs::remove_dir(dir) {
            Err(err) if err.raw_os_error() == Some(libc::EBUSY) => {
                if Instant::now() >= deadline {
                    tracing::warn!(
                        "cannot remove the cgroup {}: still busy",
                        dir.display()
                    );
                    return;
                }
                thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(10));
            }
            Err(err) if err.kind() != io::ErrorKind::NotFound => {
                tracing::warn!(
                    "cannot remove the cgroup {}: {err}",
                    dir.display()
                );
                return;
            }
            _ => return,
        }
    }
}

/// How long [`remove_dir`] retries a busy cgroup.
const REMOVE_WAIT: Duration = Duration::from_secs(1);

fn write_limit(dir: &Path, file: &str, value: u64) -> Result<(), Error> {
    let path = dir.join(file);
    fs::write(&path, value.to_string())
        .map_err(os(format!("write {}", path.display())))
}

fn enabled(controllers: &str, name: &str, dir: &Path) -> Result<(), Error> {
    if controllers.split_whitespace().any(|c| c == name) {
        Ok(())
    } else {
        Err(Error::Config(format!(
            "the {name} controller is not enabled in {}",
            dir.display()
        )))
    }
}

/// Our own cgroup v2 directory, from `/proc/self/cgroup`.
fn own_v2_cgroup() -> Result<PathBuf, Error> {
    let text = fs::read_to_string("/proc/self/cgroup")
        .map_err(os("read /proc/self/cgroup"))?;
    v2_cgroup_of(&text).ok_or_else(|| {
        Error::Config("no cgroup v2 entry in /proc/self/cgroup".into())
    })
}

/// The cgroup v2 directory named in the text of `/proc/<pid>/cgroup`.
fn v2_cgroup_of(text: &str) -> Option<PathBuf> {
    let path = text.lines().find_map(|line| line.strip_prefix("0::"))?;
    Some(Path::new(CGROUP_ROOT).join(path.trim_start_matches('/')))
}

/// Removes the empty `cordon-<pid>` cgroups under `parent` left by a
/// cordon that was killed (SIGKILL gives it no chance to clean up)
/// and whose pid is gone.
fn remove_stale(parent: &Path) {
    let Ok(entries) = fs::read_dir(parent) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = stale_pid(&name.to_string_lossy()) else {
            continue;
        };
        let alive = Path::new("/proc").join(pid.to_string()).exists();
        let procs = fs::read_to_string(entry.path().join("cgroup.procs"));
        if !alive && procs.is_ok_and(|p| p.trim().is_empty()) {
            let _ = fs::remove_dir(entry.path());
        }
    }
}

/// The pid in a cgroup name `cordon-<pid>`.
fn stale_pid(name: &str) -> Option<u32> {
    name.strip_prefix("cordon-")?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_v2_cgroup_and_stale_names_are_parsed() {
        let text = "0::/user.slice/session-1.scope\n";
        let dir = v2_cgroup_of(text).unwrap();
        assert_eq!(
            dir,
            Path::new("/sys/fs/cgroup/user.slice/session-1.scope")
        );
        assert_eq!(v2_cgroup_of("4:memory:/x\n"), None);
        assert_eq!(stale_pid("cordon-4417"), Some(4417));
        assert_eq!(stale_pid("cordon-x"), None);
        assert_eq!(stale_pid("system.slice"), None);
    }

    #[test]
    fn no_limit_means_unused_and_no_directory() {
        let cgroups = Cgroups::create(&Limits::default(), 1);
        assert!(cgroups.dirs.is_empty());
        assert!(matches!(
            cgroups.layer().enforcement,
            Enforcement::Unused { .. }
        ));
        assert_eq!(cgroups.fallback(&Limits::default()), Rlimits::default());
    }

    #[test]
    fn missing_limits_fall_back_to_rlimits() {
        let limits = Limits {
            memory_bytes: Some(1 << 20),
            pids: Some(10),
            timeout_ms: None,
        };
        let mut cgroups = Cgroups::default();
        cgroups.missing = vec![("pids".into(), "permission denied".into())];
        cgroups.details = vec!["memory".into()];
        cgroups.asked = true;
        let fallback = cgroups.fallback(&limits);
        assert_eq!(fallback.processes, Some(10));
        assert_eq!(fallback.address_space, None);
        assert!(matches!(
            cgroups.layer().enforcement,
            Enforcement::Partial { .. }
        ));
        assert!(cgroups.warnings()[0].contains("RLIMIT_NPROC"));
    }
}
