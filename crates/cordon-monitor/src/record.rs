//! Keeps what the monitor saw: every event as a line of `--events
//! FILE`, and the bounded summary that goes into the run report.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};

use cordon_report::events::{
    Access, CaptureEvent, DnsEvent, DnsQuery, Event, Events, ExecEvent,
    ExitEvent, FileAccess, FileEvent, NetworkAttempt, NetworkEvent, Outcome,
    Process, WorkspaceChanges,
};

/// How many distinct file accesses the summary lists.
const MAX_FILES: usize = 1000;

/// How many distinct network attempts the summary lists.
const MAX_NETWORK: usize = 1000;

/// How many processes the summary lists.
const MAX_PROCESSES: usize = 10_000;

/// How many distinct names looked up the summary lists.
const MAX_NAMES: usize = 1000;

/// How many sinkhole captures the summary lists.
const MAX_CAPTURES: usize = 1000;

/// A network attempt's identity, for counting repeats.
type NetworkKey = (String, String, String, Option<u16>);

/// The events of one run, as they come.
#[derive(Debug)]
pub struct Recorder {
    lines: Option<BufWriter<File>>,
    write_error: Option<String>,
    events: Events,
    files: HashMap<(String, Access), usize>,
    network: HashMap<NetworkKey, usize>,
    names: HashMap<(String, String), usize>,
}

impl Recorder {
    /// A recorder writing each event to `lines`, when given.
    pub fn new(lines: Option<File>) -> Recorder {
        Recorder {
            lines: lines.map(BufWriter::new),
            write_error: None,
            events: Events::default(),
            files: HashMap::new(),
            network: HashMap::new(),
            names: HashMap::new(),
        }
    }

    /// Records a file system call.
    pub fn file(&mut self, event: FileEvent) {
        let counts = &mut self.events.counts;
        counts.files += 1;
        if event.zone.is_sensitive() {
            counts.sensitive_files += 1;
        }
        let denied_write =
            event.access.writes() && event.outcome == Outcome::Denied;
        if denied_write {
            counts.denied_writes += 1;
        }
        if event.zone.is_sensitive() || denied_write {
            self.count_file(&event);
        }
        self.line(Event::File(event));
    }

    fn count_file(&mut self, event: &FileEvent) {
        let key = (event.path.clone(), event.access);
        if let Some(&at) = self.files.get(&key) {
            self.events.files[at].count += 1;
        } else if self.events.files.len() < MAX_FILES {
            self.files.insert(key, self.events.files.len());
            self.events.files.push(FileAccess {
                path: event.path.clone(),
                access: event.access,
                zone: event.zone,
                outcome: event.outcome,
                count: 1,
                pid: event.actor.pid,
                process: event.actor.process.clone(),
            });
        } else {
            self.events.dropped += 1;
        }
    }

    /// Records an exec; one that finds no program adds no process.
    pub fn exec(&mut self, event: ExecEvent) {
        if event.outcome != Outcome::Missing {
            self.events.counts.execs += 1;
            if self.events.processes.len() < MAX_PROCESSES {
                self.events.processes.push(Process {
                    pid: event.actor.pid,
                    ppid: event.ppid,
                    path: event.path.clone(),
                    argv: event.argv.clone(),
                    time_ms: event.actor.time_ms,
                    exit_code: None,
                    signal: None,
                });
            } else {
                self.events.dropped += 1;
            }
        }
        self.line(Event::Exec(event));
    }

    /// Records a network call.
    pub fn network(&mut self, event: NetworkEvent) {
        self.events.counts.network += 1;
        let key = (
            event.syscall.clone(),
            event.family.clone(),
            event.address.clone(),
            event.port,
        );
        if let Some(&at) = self.network.get(&key) {
            self.events.network[at].count += 1;
        } else if self.events.network.len() < MAX_NETWORK {
            self.network.insert(key, self.events.network.len());
            let attempt = NetworkAttempt { event: event.clone(), count: 1 };
            self.events.network.push(attempt);
        } else {
            self.events.dropped += 1;
        }
        self.line(Event::Network(event));
    }

    /// Records a query to cordon's resolver.
    pub fn dns(&mut self, event: DnsEvent) {
        self.events.counts.dns += 1;
        let key = (event.name.clone(), event.qtype.clone());
        if let Some(&at) = self.names.get(&key) {
            self.events.dns[at].count += 1;
        } else if self.events.dns.len() < MAX_NAMES {
            self.names.insert(key, self.events.dns.len());
            self.events.dns.push(DnsQuery {
                name: event.name.clone(),
                qtype: event.qtype.clone(),
                answer: event.answer.clone(),
                count: 1,
                time_ms: event.time_ms,
            });
        } else {
            self.events.dropped += 1;
        }
        self.line(Event::Dns(event));
    }

    /// Records what a connection to the sinkhole carried.
    pub fn capture(&mut self, event: CaptureEvent) {
        self.events.counts.captures += 1;
        if self.events.captures.len() < MAX_CAPTURES {
            self.events.captures.push(event.clone());
        } else {
            self.events.dropped += 1;
        }
        self.line(Event::Capture(event));
    }

    /// Records a process's `exit_group`: the exit code goes to the last
    /// program the process executed.
    pub fn exit(&mut self, event: ExitEvent) {
        let pid = event.actor.pid;
        let process =
            self.events.processes.iter_mut().rev().find(|p| p.pid == pid);
        if let Some(process) = process {
            process.exit_code = Some(event.code);
        }
        self.line(Event::Exit(event));
    }

    /// Notes that the monitor failed, and why.
    pub fn fail(&mut self, why: String) {
        self.events.failure.get_or_insert(why);
    }

    /// The summary, with the workspace's changes, once the run is over;
    /// and the error that stopped the events file, if one did.
    pub fn finish(
        mut self,
        workspace: WorkspaceChanges,
    ) -> (Events, Option<String>) {
        for change in &workspace.changes {
            self.line(Event::Change(change.clone()));
        }
        if let Some(lines) = &mut self.lines
            && let Err(err) = lines.flush()
        {
            self.write_error.get_or_insert(err.to_string());
        }
        self.events.workspace = workspace;
        self.events.files.sort_by_key(FileAccess::rank);
        (self.events, self.write_error)
    }

    /// Writes `event` as one line; after a failure, writes no more.
    fn line(&mut self, event: Event) {
        let Some(lines) = &mut self.lines else { return };
        let written = serde_json::to_writer(&mut *lines, &event)
            .map_err(std::io::Error::from)
            .and_then(|()| lines.write_all(b"\n"));
        if let Err(err) = written {
            self.write_error = Some(err.to_string());
            self.lines = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cordon_report::events::{Actor, Zone};

    fn read(path: &str, zone: Zone, outcome: Outcome) -> FileEvent {
        FileEvent {
            actor: Actor::default(),
            syscall: "openat".into(),
            path: path.into(),
            target: None,
            access: Access::Read,
            zone,
            outcome,
        }
    }

    #[test]
    fn sensitive_accesses_are_counted_once_per_path_worst_first() {
        let dir = tempfile::tempdir().unwrap();
        let lines = dir.path().join("events");
        let mut recorder = Recorder::new(File::create(&lines).ok());
        recorder.file(read("/usr/lib/x", Zone::System, Outcome::Attempted));
        recorder.file(read(
            "/proc/1/environ",
            Zone::OtherProcess,
            Outcome::Allowed,
        ));
        recorder.file(read("/h/.ssh/id_rsa", Zone::Home, Outcome::Allowed));
        recorder.file(read("/h/.ssh/id_rsa", Zone::Home, Outcome::Allowed));
        let (events, error) = recorder.finish(WorkspaceChanges::default());
        assert!(error.is_none());
        assert_eq!(events.counts.files, 4);
        assert_eq!(events.counts.sensitive_files, 3);
        let paths: Vec<(&str, u64)> =
            events.files.iter().map(|f| (f.path.as_str(), f.count)).collect();
        assert_eq!(paths, [("/h/.ssh/id_rsa", 2), ("/proc/1/environ", 1)]);
        let text = std::fs::read_to_string(lines).unwrap();
        assert_eq!(text.lines().count(), 4);
        assert!(text.lines().all(|l| l.starts_with("{\"type\":\"file\"")));
    }
}
