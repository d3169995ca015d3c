//! What the monitor saw a command try: the events of one run, one at a
//! time (the lines of `--events FILE`) and summed up (the `events`
//! section of a [`crate::run::RunReport`]).
//!
//! Everything here came from the sandboxed command: paths, argv and
//! process names are the command's own words, and are escaped before
//! they reach a terminal.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::escape::inline;

/// How many lines of each kind the short terminal summary shows.
const SHORT_LINES: usize = 5;

/// How many lines of each kind `--debug` shows.
const LONG_LINES: usize = 200;

/// The widest a path or an argv is shown on a terminal, in characters.
const SHOWN_CHARS: usize = 160;

/// One thing the command tried, as written to `--events FILE`: a JSON
/// object per line whose `type` says which kind it is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A file was opened, created, removed, renamed or changed mode.
    File(FileEvent),
    /// A program was executed.
    Exec(ExecEvent),
    /// A socket was connected, bound or sent a datagram to an address.
    Network(NetworkEvent),
    /// A file of the workspace differs after the run.
    Change(Change),
    /// A name was looked up through the resolver cordon runs in the
    /// sandbox's private network.
    Dns(DnsEvent),
    /// A connection reached a sinkhole listener (`--dns-sinkhole`),
    /// which kept the first bytes the command sent.
    Capture(CaptureEvent),
    /// A process called `exit_group` with a status.
    Exit(ExitEvent),
}

/// Who did something, and when.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// Milliseconds from the start of the run.
    pub time_ms: u64,
    /// The process id inside the sandbox.
    pub pid: i32,
    /// The process name (`/proc/<pid>/comm`) when the call was made.
    pub process: String,
}

/// What a file system call asked for.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    /// Opened for reading only.
    Read,
    /// Opened for writing.
    Write,
    /// Opened with `O_CREAT`, or `creat`.
    Create,
    /// `unlink` and the like.
    Delete,
    /// `rename` and the like; the source.
    Rename,
    /// `chmod` and the like.
    Chmod,
}

impl Access {
    /// Whether the call changes the file system.
    pub fn writes(self) -> bool {
        self != Access::Read
    }

    /// The word used in reports.
    pub fn name(self) -> &'static str {
        match self {
            Access::Read => "read",
            Access::Write => "write",
            Access::Create => "create",
            Access::Delete => "delete",
            Access::Rename => "rename",
            Access::Chmod => "chmod",
        }
    }
}

/// Where a path lies, as the sandbox's policy sees it.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Zone {
    /// The workspace.
    Workspace,
    /// Another writable tree: `/tmp`, `--rw` paths.
    Writable,
    /// Devices under `/dev`, and `/proc` of the process itself.
    Device,
    /// The read-only system tree: the rest of the root.
    System,
    /// Under the real home, which the sandbox hides.
    Home,
    /// A `--hide` path, or a host secret (`/etc/shadow`, SSH host keys).
    Secret,
    /// The `/proc` files of another process.
    OtherProcess,
}

impl Zone {
    /// Whether an access here is worth singling out: outside the
    /// workspace and outside the read-only system tree.
    pub fn is_sensitive(self) -> bool {
        matches!(self, Zone::Home | Zone::Secret | Zone::OtherProcess)
    }

    /// The words used in reports.
    pub fn name(self) -> &'static str {
        match self {
            Zone::Workspace => "workspace",
            Zone::Writable => "writable",
            Zone::Device => "device",
            Zone::System => "system",
            Zone::Home => "home",
            Zone::Secret => "secret",
            Zone::OtherProcess => "other process",
        }
    }
}

/// What came of an attempt, as far as it is known cheaply.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The sandbox's policy refuses it (a write outside the writable
    /// trees, a TCP connect in a private network).
    Denied,
    /// The file does not exist in the sandbox's view, e.g. because the
    /// home is hidden.
    Missing,
    /// The policy lets it through and the file exists; the call may
    /// still fail for other reasons, such as permissions.
    Allowed,
    /// Seen, with no cheap way to tell how it ended.
    Attempted,
}

impl Outcome {
    /// The word used in reports.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Denied => "denied",
            Outcome::Missing => "missing",
            Outcome::Allowed => "allowed",
            Outcome::Attempted => "attempted",
        }
    }
}

/// A file system call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEvent {
    /// Who and when.
    #[serde(flatten)]
    pub actor: Actor,
    /// The system call, e.g. `openat`.
    pub syscall: String,
    /// The absolute path as the sandbox sees it.
    pub path: String,
    /// The new path, for a rename.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// What the call asked for.
    pub access: Access,
    /// Where the path lies.
    pub zone: Zone,
    /// What came of it.
    pub outcome: Outcome,
}

/// An `execve` or `execveat`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecEvent {
    /// Who and when.
    #[serde(flatten)]
    pub actor: Actor,
    /// The parent's process id inside the sandbox (0 for the init).
    pub ppid: i32,
    /// The program, as an absolute path in the sandbox.
    pub path: String,
    /// The arguments, the program's name first.
    pub argv: Vec<String>,
    /// `missing` when the program does not exist (a `PATH` search
    /// trying each directory), `attempted` otherwise.
    pub outcome: Outcome,
}

/// A `connect`, `bind` or `sendto` with an address.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkEvent {
    /// Who and when.
    #[serde(flatten)]
    pub actor: Actor,
    /// The system call.
    pub syscall: String,
    /// `inet`, `inet6`, `unix`, or the family's number.
    pub family: String,
    /// `tcp`, `udp` or another socket type, when it could be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub socket: Option<String>,
    /// The address: an IP address, or a socket file's path.
    pub address: String,
    /// The port, for `inet` and `inet6`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// What came of it.
    pub outcome: Outcome,
}

/// A DNS query that reached cordon's resolver.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsEvent {
    /// Milliseconds from the start of the run.
    pub time_ms: u64,
    /// The name asked for, lowercase, without the final dot; bytes
    /// that are not printable are written `\xNN`.
    pub name: String,
    /// The record type: `A`, `AAAA`, `TXT`, ... or its number.
    pub qtype: String,
    /// `udp` or `tcp`.
    pub transport: String,
    /// What cordon answered: `nxdomain`, `nodata` (no record of this
    /// type), or the sinkhole address given for the name.
    pub answer: String,
}

/// The first bytes a connection to a sinkhole listener carried: what
/// the command tried to send to a name it had looked up.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaptureEvent {
    /// Milliseconds from the start of the run.
    pub time_ms: u64,
    /// The name the resolver had given this address for, when one had.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The address connected to.
    pub address: String,
    /// The port connected to.
    pub port: u16,
    /// `http`, `tls` or `unknown`: what the first bytes looked like.
    pub protocol: String,
    /// The HTTP method, for `http`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// The HTTP `Host` header, for `http`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// The HTTP request target, for `http`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The body's size as the request announced it (`Content-Length`),
    /// or as far as it was read, for `http`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_bytes: Option<u64>,
    /// The server name of a TLS ClientHello (SNI), for `tls`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sni: Option<String>,
    /// How many bytes were read before the connection was closed.
    pub bytes: u64,
    /// The first bytes, as text: printable ASCII kept, the rest
    /// written `\xNN`.
    pub prefix: String,
}

impl CaptureEvent {
    /// The host the command meant: the TLS server name, the HTTP
    /// `Host` (without a port), the name looked up, or the address.
    pub fn target(&self) -> &str {
        let host = self.host.as_deref().map(strip_port);
        self.sni
            .as_deref()
            .or(host)
            .or(self.name.as_deref())
            .unwrap_or(&self.address)
    }
}

/// `host` of a `Host` header without its `:port`; an IPv6 literal in
/// brackets keeps its colons.
fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.split(']').next().map_or(host, |h| &h[1..]);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

/// A process that ended by calling `exit_group`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExitEvent {
    /// Who and when.
    #[serde(flatten)]
    pub actor: Actor,
    /// The exit code (the low 8 bits of the status passed).
    pub code: i32,
}

/// How a file of the workspace changed.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// It did not exist before the run.
    Created,
    /// Its size, inode, modification time or change time differ.
    Modified,
    /// It is gone.
    Deleted,
}

/// A file of the workspace that differs after the run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// The path relative to the workspace.
    pub path: String,
    /// Created, modified or deleted.
    pub change: ChangeKind,
    /// The size after the run (before it, when deleted), in bytes.
    pub size: u64,
    /// `file`, `dir`, `symlink` or `other`.
    pub kind: String,
}

/// One file access outside the workspace and the system tree, counted
/// once per path and access.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileAccess {
    /// The path as the sandbox saw it.
    pub path: String,
    /// What was asked.
    pub access: Access,
    /// Where the path lies.
    pub zone: Zone,
    /// What came of it (of the first attempt).
    pub outcome: Outcome,
    /// How many times.
    pub count: u64,
    /// The first process that tried.
    pub pid: i32,
    /// Its name.
    pub process: String,
}

/// One name looked up, counted once per name and record type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsQuery {
    /// The name.
    pub name: String,
    /// The record type.
    pub qtype: String,
    /// What cordon answered the first time.
    pub answer: String,
    /// How many times.
    pub count: u64,
    /// When first, in milliseconds from the start of the run.
    pub time_ms: u64,
}

/// One network attempt, counted once per call, address and port.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkAttempt {
    /// The first attempt.
    #[serde(flatten)]
    pub event: NetworkEvent,
    /// How many times.
    pub count: u64,
}

/// A process that executed a program.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Process {
    /// The process id inside the sandbox.
    pub pid: i32,
    /// The parent's.
    pub ppid: i32,
    /// The program.
    pub path: String,
    /// Its arguments.
    pub argv: Vec<String>,
    /// Milliseconds from the start of the run.
    pub time_ms: u64,
    /// The exit code, when the process called `exit_group` (or, for
    /// the command itself, as its parent saw it).
    #[serde(default)]
    pub exit_code: Option<i32>,
    /// The signal that killed the process, known for the command
    /// itself only.
    #[serde(default)]
    pub signal: Option<i32>,
}

/// What changed in the workspace, from a walk before and after the run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspaceChanges {
    /// Files that appeared.
    pub created: u64,
    /// Files whose size, inode, modification time or change time changed.
    pub modified: u64,
    /// Files that disappeared.
    pub deleted: u64,
    /// The changes, up to a bound.
    pub changes: Vec<Change>,
    /// Why the walk stopped short, when it did (too many entries).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incomplete: Option<String>,
}

/// How many events of each kind the monitor saw.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// File system calls.
    pub files: u64,
    /// Of which outside the workspace and the system tree.
    pub sensitive_files: u64,
    /// Writes the policy refuses.
    pub denied_writes: u64,
    /// Program executions.
    pub execs: u64,
    /// Network calls.
    pub network: u64,
    /// DNS queries to cordon's resolver.
    #[serde(default)]
    pub dns: u64,
    /// Connections a sinkhole listener captured.
    #[serde(default)]
    pub captures: u64,
}

/// The `events` section of a run report.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Events {
    /// Why the monitor stopped before the command ended, when it did;
    /// the sandbox was then killed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// How many events of each kind.
    pub counts: Counts,
    /// File accesses outside the workspace and the system tree, and
    /// refused writes, worst first.
    pub files: Vec<FileAccess>,
    /// Network attempts.
    pub network: Vec<NetworkAttempt>,
    /// Names looked up through cordon's resolver, in order.
    #[serde(default)]
    pub dns: Vec<DnsQuery>,
    /// What connections to the sinkhole carried, in order.
    #[serde(default)]
    pub captures: Vec<CaptureEvent>,
    /// Processes that executed a program, in order.
    pub processes: Vec<Process>,
    /// What changed in the workspace.
    pub workspace: WorkspaceChanges,
    /// Events left out of the lists above because they were full.
    pub dropped: u64,
}

impl FileAccess {
    /// Orders worst first: sensitive zones, then refused writes.
    pub fn rank(&self) -> (u8, u8) {
        let zone = match self.zone {
            Zone::Secret | Zone::Home => 0,
            Zone::OtherProcess => 1,
            _ => 2,
        };
        let outcome = match self.outcome {
            Outcome::Allowed => 0,
            Outcome::Attempted => 1,
            Outcome::Denied => 2,
            Outcome::Missing => 3,
        };
        (zone, outcome)
    }
}

impl Events {
    /// Notes how the command itself ended, as its parent saw it: on the
    /// process the sandbox's init started (the first with parent 1), in
    /// the last program it executed.
    pub fn command_ended(&mut self, code: Option<i32>, signal: Option<i32>) {
        let processes = &mut self.processes;
        let Some(pid) = processes.iter().find(|p| p.ppid == 1).map(|p| p.pid)
        else {
            return;
        };
        if let Some(process) =
            processes.iter_mut().rev().find(|p| p.pid == pid)
        {
            process.exit_code = if signal.is_some() { None } else { code };
            process.signal = signal;
        }
    }

    /// The monitor's lines of the terminal report: a count per kind,
    /// then the worst of each kind (all of them, up to a bound, when
    /// `verbose`).
    pub fn render_terminal(&self, out: &mut String, verbose: bool) {
        let most = if verbose { LONG_LINES } else { SHORT_LINES };
        if let Some(failure) = &self.failure {
            let _ = writeln!(
                out,
                "cordon: monitor FAILED, the sandbox was killed: {}",
                inline(failure, SHOWN_CHARS)
            );
        }
        let ws = &self.workspace;
        let _ = writeln!(
            out,
            "cordon: monitor: {} outside file accesses, {} network \
             attempts, {} DNS names, {} processes, {} workspace changes",
            self.files.iter().map(|f| f.count).sum::<u64>(),
            self.counts.network + self.counts.captures,
            self.dns.len(),
            self.counts.execs,
            ws.created + ws.modified + ws.deleted,
        );
        self.render_files(out, most);
        self.render_captures(out, most);
        self.render_network(out, most);
        self.render_dns(out, most);
        self.render_processes(out, most);
        render_changes(out, ws, most);
        if self.dropped > 0 {
            let _ = writeln!(
                out,
                "cordon:   ({} events left out of the lists)",
                self.dropped
            );
        }
    }

    fn render_files(&self, out: &mut String, most: usize) {
        for file in self.files.iter().take(most) {
            let _ = writeln!(
                out,
                "cordon:   file {} {} ({}, {}) x{} by {} [{}]",
                file.access.name(),
                inline(&file.path, SHOWN_CHARS),
                file.zone.name(),
                file.outcome.name(),
                file.count,
                inline(&file.process, 16),
                file.pid,
            );
        }
        more(out, self.files.len(), most, "file accesses");
    }

    fn render_network(&self, out: &mut String, most: usize) {
        for net in self.network.iter().take(most) {
            let event = &net.event;
            let port = event.port.map(|p| format!(":{p}")).unwrap_or_default();
            let _ = writeln!(
                out,
                "cordon:   network {} {} {}{} ({}) x{} by {} [{}]",
                event.syscall,
                event.socket.as_deref().unwrap_or(&event.family),
                inline(&event.address, SHOWN_CHARS),
                port,
                event.outcome.name(),
                net.count,
                inline(&event.actor.process, 16),
                event.actor.pid,
            );
        }
        more(out, self.network.len(), most, "network attempts");
    }

    fn render_captures(&self, out: &mut String, most: usize) {
        for capture in self.captures.iter().take(most) {
            let what = match (&capture.method, &capture.sni) {
                (Some(method), _) => format!(
                    "{} {} {}, {} bytes of body",
                    capture.protocol,
                    method,
                    inline(capture.path.as_deref().unwrap_or(""), 80),
                    capture.body_bytes.unwrap_or(0),
                ),
                (None, Some(_)) => {
                    format!("{}, server name", capture.protocol)
                }
                (None, None) => {
                    format!("{}, {} bytes", capture.protocol, capture.bytes)
                }
            };
            let _ = writeln!(
                out,
                "cordon:   network tried to reach {}:{} ({what}; \
                 sinkholed at {})",
                inline(capture.target(), SHOWN_CHARS),
                capture.port,
                capture.address,
            );
        }
        more(out, self.captures.len(), most, "sinkhole captures");
    }

    fn render_dns(&self, out: &mut String, most: usize) {
        for query in self.dns.iter().take(most) {
            let _ = writeln!(
                out,
                "cordon:   dns {} {} -> {} x{}",
                inline(&query.name, SHOWN_CHARS),
                query.qtype,
                query.answer,
                query.count,
            );
        }
        more(out, self.dns.len(), most, "DNS names");
    }

    fn render_processes(&self, out: &mut String, most: usize) {
        for process in self.processes.iter().take(most) {
            let ended = match (process.exit_code, process.signal) {
                (_, Some(signal)) => format!(" (killed by signal {signal})"),
                (Some(code), None) => format!(" (exit {code})"),
                (None, None) => String::new(),
            };
            let _ = writeln!(
                out,
                "cordon:   exec [{}<-{}] {}{ended}",
                process.pid,
                process.ppid,
                inline(&process.argv.join(" "), SHOWN_CHARS),
            );
        }
        more(out, self.processes.len(), most, "processes");
    }
}

fn render_changes(out: &mut String, ws: &WorkspaceChanges, most: usize) {
    for change in ws.changes.iter().take(most) {
        let what = match change.change {
            ChangeKind::Created => "created",
            ChangeKind::Modified => "modified",
            ChangeKind::Deleted => "deleted",
        };
        let _ = writeln!(
            out,
            "cordon:   workspace {what} {} ({} bytes)",
            inline(&change.path, SHOWN_CHARS),
            change.size,
        );
    }
    more(out, ws.changes.len(), most, "workspace changes");
    if let Some(why) = &ws.incomplete {
        let _ = writeln!(out, "cordon:   workspace walk incomplete: {why}");
    }
}

/// "... and 12 more file accesses (--debug shows them)".
fn more(out: &mut String, total: usize, shown: usize, what: &str) {
    if total > shown {
        let _ = writeln!(
            out,
            "cordon:   ... and {} more {what} (--debug or --report \
             shows them)",
            total - shown
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor() -> Actor {
        Actor { time_ms: 5, pid: 3, process: "python3".into() }
    }

    #[test]
    fn an_event_line_is_a_flat_object_with_a_type() {
        let event = Event::File(FileEvent {
            actor: actor(),
            syscall: "openat".into(),
            path: "/root/.ssh/id_rsa".into(),
            target: None,
            access: Access::Read,
            zone: Zone::Home,
            outcome: Outcome::Missing,
        });
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["type"], "file");
        assert_eq!(json["pid"], 3);
        assert_eq!(json["zone"], "home");
        assert_eq!(json["outcome"], "missing");
        let back: Event = serde_json::from_value(json).unwrap();
        assert_eq!(back, event);
    }

    #[test]
    fn names_captures_and_exits_are_summed_up() {
        let mut events = Events {
            dns: vec![DnsQuery {
                name: "exfil.example.com".into(),
                qtype: "A".into(),
                answer: "nxdomain".into(),
                count: 2,
                time_ms: 4,
            }],
            captures: vec![CaptureEvent {
                address: "127.77.0.1".into(),
                port: 443,
                protocol: "tls".into(),
                sni: Some("evil.example.com".into()),
                ..CaptureEvent::default()
            }],
            processes: vec![
                Process {
                    pid: 2,
                    ppid: 1,
                    path: "/bin/sh".into(),
                    argv: vec!["sh".into()],
                    time_ms: 1,
                    exit_code: None,
                    signal: None,
                },
                Process {
                    pid: 3,
                    ppid: 2,
                    path: "/bin/true".into(),
                    argv: vec!["true".into()],
                    time_ms: 2,
                    exit_code: Some(0),
                    signal: None,
                },
            ],
            counts: Counts { captures: 1, ..Counts::default() },
            ..Events::default()
        };
        events.command_ended(None, Some(9));
        assert_eq!(events.processes[0].signal, Some(9));
        let mut out = String::new();
        events.render_terminal(&mut out, false);
        assert!(out.contains("1 network attempts, 1 DNS names"), "{out}");
        assert!(
            out.contains("tried to reach evil.example.com:443 (tls"),
            "{out}"
        );
        assert!(out.contains("dns exfil.example.com A -> nxdomain x2"));
        assert!(out.contains("sh (killed by signal 9)"), "{out}");
        assert!(out.contains("true (exit 0)"), "{out}");
    }

    #[test]
    fn a_capture_names_its_target_from_the_best_source() {
        let mut capture = CaptureEvent {
            address: "127.77.0.2".into(),
            ..CaptureEvent::default()
        };
        assert_eq!(capture.target(), "127.77.0.2");
        capture.name = Some("looked.up".into());
        assert_eq!(capture.target(), "looked.up");
        capture.host = Some("[::1]:8080".into());
        assert_eq!(capture.target(), "::1");
        capture.host = Some("host.example:80".into());
        assert_eq!(capture.target(), "host.example");
        capture.sni = Some("sni.example".into());
        assert_eq!(capture.target(), "sni.example");
        let line = serde_json::to_value(Event::Capture(capture)).unwrap();
        assert_eq!(line["type"], "capture");
        assert_eq!(line["sni"], "sni.example");
    }

    #[test]
    fn the_summary_escapes_what_the_command_chose() {
        let events = Events {
            files: vec![FileAccess {
                path: "/root/\u{1b}[2J".into(),
                access: Access::Read,
                zone: Zone::Home,
                outcome: Outcome::Allowed,
                count: 2,
                pid: 3,
                process: "sh".into(),
            }],
            ..Events::default()
        };
        let mut out = String::new();
        events.render_terminal(&mut out, false);
        assert!(out.contains("2 outside file accesses"), "{out}");
        assert!(out.contains("/root/\\u{1b}[2J (home, allowed) x2"), "{out}");
        assert!(!out.contains('\u{1b}'));
    }
}
