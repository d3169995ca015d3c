//! The model of a `cordon run`: what the sandbox enforced and what the
//! command tried.
//!
//! The JSON form of [`RunReport`] is a wire format, like the scan report:
//! fields are added, never renamed or removed, and
//! [`RUN_FORMAT_VERSION`] changes when a change would break a reader.
//!
//! ```json
//! {
//!   "version": 1,
//!   "command": ["npm", "install"],
//!   "workspace": "/home/me/project",
//!   "network": "none",
//!   "layers": [
//!     {"layer": "landlock", "state": "partial", "missing": ["udp"]}
//!   ],
//!   "env_removed": ["NPM_TOKEN"],
//!   "exit": {"code": 0, "signal": null, "status": 0},
//!   "timed_out": false,
//!   "duration_ms": 812,
//!   "events": {
//!     "counts": {"files": 310, "sensitive_files": 1, "denied_writes": 0,
//!                "execs": 2, "network": 1, "dns": 2, "captures": 1},
//!     "files": [{"path": "/root/.ssh/id_rsa", "access": "read",
//!                "zone": "home", "outcome": "missing", "count": 1,
//!                "pid": 2, "process": "python3"}],
//!     "network": [{"time_ms": 40, "pid": 2, "process": "python3",
//!                  "syscall": "connect", "family": "inet",
//!                  "socket": "tcp", "address": "127.0.0.1",
//!                  "port": 8080, "outcome": "denied", "count": 1}],
//!     "dns": [{"name": "exfil.example.com", "qtype": "A",
//!              "answer": "127.77.0.1", "count": 1, "time_ms": 38}],
//!     "captures": [{"time_ms": 41, "name": "exfil.example.com",
//!                   "address": "127.77.0.1", "port": 80,
//!                   "protocol": "http", "method": "POST",
//!                   "host": "exfil.example.com", "path": "/collect",
//!                   "body_bytes": 321, "bytes": 450,
//!                   "prefix": "POST /collect HTTP/1.1\\x0d\\x0a..."}],
//!     "processes": [{"pid": 2, "ppid": 1, "path": "/usr/bin/python3",
//!                    "argv": ["python3", "x.py"], "time_ms": 3,
//!                    "exit_code": 0, "signal": null}],
//!     "workspace": {"created": 1, "modified": 0, "deleted": 0,
//!                   "changes": [{"path": "out.txt", "change": "created",
//!                                "size": 12, "kind": "file"}]},
//!     "dropped": 0
//!   }
//! }
//! ```
//!
//! `events` is there when the monitor ran (`--monitor on`, the default
//! of the command line): what the command tried, seen through seccomp
//! user notifications, and what changed in the workspace. Its fields
//! are documented on [`Events`]: `counts` of every event by kind;
//! `files`, the accesses outside the workspace and the read-only system
//! tree (under the real home, `--hide` paths and host secrets, another
//! process's `/proc`) and writes the policy refuses, one entry per path
//! and access, worst first; `network`, the `connect`, `bind`,
//! `sendto` and `sendmsg` calls with an address, one per call and
//! address; `dns`, the names looked up through cordon's resolver (with
//! a private network), one per name and type, with what it answered;
//! `captures`, what each connection to the sinkhole (`--dns-sinkhole`)
//! carried; the `processes` that executed a program, with their
//! parent, argv and, where known, how they ended;
//! the `workspace` changes, from a walk before and after the run; and
//! `failure` when the monitor failed and killed the sandbox. The
//! `outcome` of an attempt is inferred from the policy (`denied`,
//! `missing`, `allowed`) or is `attempted`. Each event on its own, one
//! JSON object per line with a `type`, is [`Event`]; `cordon run
//! --events FILE` writes them.

use std::fmt::{self, Write as _};

use serde::{Deserialize, Serialize};

pub use crate::events::{Event, Events};

/// The version of the JSON run report, written as its `version` field.
pub const RUN_FORMAT_VERSION: u32 = 1;

/// A whole run: the sandbox's layers, what was kept from the command, how
/// it ended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// Always [`RUN_FORMAT_VERSION`].
    pub version: u32,
    /// The command and its arguments, as given.
    pub command: Vec<String>,
    /// The directory the command could write to, at its host path.
    pub workspace: String,
    /// The root file system the command saw, when it was not the host's.
    pub rootfs: Option<String>,
    /// Which network the command had.
    pub network: NetworkMode,
    /// The limits asked for.
    pub limits: Limits,
    /// Each protective layer and how far it was enforced, in the order
    /// they were put in place.
    pub layers: Vec<Layer>,
    /// Names of environment variables that looked like credentials and
    /// were not passed to the command. Values are never recorded.
    pub env_removed: Vec<String>,
    /// Problems worth a person's attention that did not stop the run.
    pub warnings: Vec<String>,
    /// How the command ended.
    pub exit: Exit,
    /// Whether the wall-clock limit ended the run.
    pub timed_out: bool,
    /// Wall-clock time from the start of the sandbox to the end of the
    /// command, in milliseconds.
    pub duration_ms: u64,
    /// What the monitor saw the command try, when it ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<Events>,
}

/// The network a command had.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NetworkMode {
    /// A private network namespace with only loopback: nothing leaves.
    None,
    /// The host's network, shared: the command can reach whatever the
    /// host can.
    Host,
}

impl fmt::Display for NetworkMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NetworkMode::None => "none",
            NetworkMode::Host => "host",
        })
    }
}

/// Resource limits of a run; `None` where no limit was asked for.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Memory of the whole tree, in bytes.
    pub memory_bytes: Option<u64>,
    /// Number of processes and threads of the whole tree.
    pub pids: Option<u64>,
    /// Wall-clock time, in milliseconds.
    pub timeout_ms: Option<u64>,
}

/// The protective layers of the sandbox.
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
pub enum LayerKind {
    /// User, pid, ipc, uts and mount namespaces.
    Namespaces,
    /// The file system view: read-only root, fresh `/tmp`, `/dev` and
    /// `/proc`, hidden home, writable workspace.
    Filesystem,
    /// The private network namespace.
    Network,
    /// Memory and pid limits through cgroups.
    Cgroup,
    /// Per-process resource limits.
    Rlimits,
    /// All capabilities dropped, the bounding set too.
    Capabilities,
    /// `no_new_privs`: exec grants nothing.
    NoNewPrivs,
    /// Landlock, the second fence on files and network.
    Landlock,
    /// The static seccomp deny-list.
    Seccomp,
    /// Credential-like environment variables removed.
    Environment,
}

impl LayerKind {
    /// The name used in reports and in the terminal.
    pub fn name(self) -> &'static str {
        match self {
            LayerKind::Namespaces => "namespaces",
            LayerKind::Filesystem => "filesystem",
            LayerKind::Network => "network",
            LayerKind::Cgroup => "cgroup",
            LayerKind::Rlimits => "rlimits",
            LayerKind::Capabilities => "capabilities",
            LayerKind::NoNewPrivs => "no_new_privs",
            LayerKind::Landlock => "landlock",
            LayerKind::Seccomp => "seccomp",
            LayerKind::Environment => "environment",
        }
    }
}

/// How far one layer was enforced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum Enforcement {
    /// Everything the layer is meant to do is in force.
    Full,
    /// The layer is in force, but without the features listed.
    Partial {
        /// What could not be enforced, in a few words each.
        missing: Vec<String>,
    },
    /// The layer is not in force at all.
    None {
        /// Why not.
        reason: String,
    },
    /// The layer was not asked for (a limit that was not set), so there
    /// was nothing to enforce.
    Unused {
        /// What would have turned it on.
        reason: String,
    },
}

impl Enforcement {
    /// Whether the layer falls short of what it was asked to do; an
    /// unused layer does not.
    pub fn is_degraded(&self) -> bool {
        matches!(self, Enforcement::Partial { .. } | Enforcement::None { .. })
    }
}

/// One layer and its enforcement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layer {
    /// Which layer.
    pub layer: LayerKind,
    /// How far it was enforced.
    #[serde(flatten)]
    pub enforcement: Enforcement,
    /// What the layer did, for `--debug` and the JSON report.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<String>,
}

/// How the command ended.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exit {
    /// The command's exit code, when it exited.
    pub code: Option<i32>,
    /// The signal that ended the command, when one did.
    pub signal: Option<i32>,
    /// The status `cordon run` itself exits with: the command's code,
    /// 128 plus the signal, 124 after the timeout, or 125, 126 and 127
    /// when cordon failed, could not execute the command or did not find
    /// it.
    pub status: u8,
    /// Why cordon could not run the command, when it could not.
    pub error: Option<String>,
}

impl RunReport {
    /// The report of a run that cordon could not start or finish: no
    /// layer is claimed, and `exit` carries the status (125) and why.
    pub fn failed(
        command: Vec<String>,
        workspace: String,
        status: u8,
        error: String,
    ) -> RunReport {
        RunReport {
            version: RUN_FORMAT_VERSION,
            command,
            workspace,
            rootfs: None,
            network: NetworkMode::None,
            limits: Limits::default(),
            layers: Vec::new(),
            env_removed: Vec::new(),
            warnings: Vec::new(),
            exit: Exit { status, error: Some(error), ..Exit::default() },
            timed_out: false,
            duration_ms: 0,
            events: None,
        }
    }

    /// Whether every layer that was asked for is fully enforced.
    pub fn fully_enforced(&self) -> bool {
        !self.layers.iter().any(|l| l.enforcement.is_degraded())
    }

    /// A few lines for the terminal, then how the command ended. When
    /// `verbose`, one line per layer with its details; otherwise one line
    /// that counts the layers in force, and a line for each that falls
    /// short.
    pub fn render_terminal(&self, verbose: bool) -> String {
        let mut out = String::new();
        if verbose {
            let _ = writeln!(out, "cordon: sandbox layers:");
            for layer in &self.layers {
                render_layer(&mut out, layer, verbose);
            }
        } else {
            self.render_layer_summary(&mut out);
        }
        if !self.env_removed.is_empty() {
            let names = self.env_removed.join(", ");
            let _ = writeln!(out, "cordon: environment removed: {names}");
        }
        for warning in &self.warnings {
            let _ = writeln!(out, "cordon: warning: {warning}");
        }
        if let Some(events) = &self.events {
            events.render_terminal(&mut out, verbose);
        }
        let _ = writeln!(out, "cordon: {}", self.exit_summary());
        out
    }

    /// "sandbox: 9 layers full, 1 unused (cgroup)", then a line for each
    /// layer that falls short.
    fn render_layer_summary(&self, out: &mut String) {
        let full =
            self.layers.iter().filter(|l| l.enforcement == Enforcement::Full);
        let unused: Vec<&str> = self
            .layers
            .iter()
            .filter(|l| matches!(l.enforcement, Enforcement::Unused { .. }))
            .map(|l| l.layer.name())
            .collect();
        let mut line =
            format!("cordon: sandbox: {} layers full", full.count());
        if !unused.is_empty() {
            let _ = write!(
                line,
                ", {} unused ({})",
                unused.len(),
                unused.join(", ")
            );
        }
        let _ = writeln!(out, "{line}");
        for layer in self.layers.iter().filter(|l| l.enforcement.is_degraded())
        {
            let _ = write!(out, "cordon: layer");
            render_layer(out, layer, false);
        }
    }

    /// "exited with 0 after 812 ms" and the like.
    fn exit_summary(&self) -> String {
        let ms = self.duration_ms;
        if self.timed_out {
            return format!("timed out and was killed after {ms} ms");
        }
        if let Some(error) = &self.exit.error {
            return format!("could not run the command: {error}");
        }
        match (self.exit.code, self.exit.signal) {
            (_, Some(signal)) => {
                format!("killed by signal {signal} after {ms} ms")
            }
            (Some(code), _) => format!("exited with {code} after {ms} ms"),
            _ => format!("ended with status {}", self.exit.status),
        }
    }
}

/// One layer's line, and its details when `verbose`.
fn render_layer(out: &mut String, layer: &Layer, verbose: bool) {
    let name = layer.layer.name();
    let state = match &layer.enforcement {
        Enforcement::Full => "full".to_owned(),
        Enforcement::Partial { missing } => {
            format!("partial (missing: {})", missing.join(", "))
        }
        Enforcement::None { reason } => format!("NONE ({reason})"),
        Enforcement::Unused { reason } => format!("unused ({reason})"),
    };
    let _ = writeln!(out, "  {name:<13} {state}");
    if verbose {
        for detail in &layer.details {
            let _ = writeln!(out, "  {:<13}   {detail}", "");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> RunReport {
        RunReport {
            version: RUN_FORMAT_VERSION,
            command: vec!["true".into()],
            workspace: "/w".into(),
            rootfs: None,
            network: NetworkMode::None,
            limits: Limits::default(),
            layers: vec![
                Layer {
                    layer: LayerKind::Landlock,
                    enforcement: Enforcement::Partial {
                        missing: vec!["udp".into()],
                    },
                    details: vec![],
                },
                Layer {
                    layer: LayerKind::Cgroup,
                    enforcement: Enforcement::Unused {
                        reason: "no limit".into(),
                    },
                    details: vec![],
                },
            ],
            env_removed: vec!["NPM_TOKEN".into()],
            warnings: vec![],
            exit: Exit { code: Some(0), status: 0, ..Exit::default() },
            timed_out: false,
            duration_ms: 3,
            events: None,
        }
    }

    #[test]
    fn layer_state_is_a_flat_tagged_object_in_json() {
        let json = serde_json::to_value(report()).unwrap();
        let layer = &json["layers"][0];
        assert_eq!(layer["layer"], "landlock");
        assert_eq!(layer["state"], "partial");
        assert_eq!(layer["missing"][0], "udp");
        let back: RunReport = serde_json::from_value(json).unwrap();
        assert_eq!(back, report());
    }

    #[test]
    fn partial_layer_is_degraded_but_unused_is_not() {
        let mut report = report();
        assert!(!report.fully_enforced());
        report.layers.remove(0);
        assert!(report.fully_enforced());
    }

    #[test]
    fn terminal_lists_layers_and_removed_names() {
        let text = report().render_terminal(true);
        assert!(text.contains("landlock      partial (missing: udp)"));
        assert!(text.contains("cgroup        unused (no limit)"));
        assert!(text.contains("environment removed: NPM_TOKEN"));
        assert!(text.contains("exited with 0"));
    }

    #[test]
    fn the_short_form_names_only_layers_that_fall_short() {
        let text = report().render_terminal(false);
        assert!(text.starts_with(
            "cordon: sandbox: 0 layers full, 1 unused (cgroup)\n"
        ));
        assert!(
            text.contains(
                "cordon: layer  landlock      partial (missing: udp)"
            )
        );
        assert!(!text.contains("cgroup        unused"));
    }
}
