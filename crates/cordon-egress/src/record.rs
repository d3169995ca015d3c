//! What the proxy records of each destination asked for.

use std::fmt;

/// How the proxy answered a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Decision {
    /// Let through: bytes went both ways.
    Allowed,
    /// Refused by the allow list or a check (server name, address).
    Refused,
    /// Allowed, but the destination could not be reached.
    Failed,
}

impl Decision {
    /// The name used in reports: `allowed`, `refused` or `failed`.
    pub fn name(self) -> &'static str {
        match self {
            Decision::Allowed => "allowed",
            Decision::Refused => "refused",
            Decision::Failed => "failed",
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One request to the proxy, reported once it ended (at once when
/// refused, when the connection closed when allowed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// Milliseconds from the proxy's start to the request.
    pub time_ms: u64,
    /// The host asked for, as the client wrote it (lowercase names;
    /// IPv6 addresses in brackets).
    pub host: String,
    /// The port asked for.
    pub port: u16,
    /// `CONNECT` for a tunnel, else the HTTP method of a plain request.
    pub method: String,
    /// What the proxy did.
    pub decision: Decision,
    /// Why: the allow-list entry that matched, or the refusal.
    pub reason: String,
    /// The server name of the TLS ClientHello, for a tunnel.
    pub sni: Option<String>,
    /// Bytes from the client to the destination.
    pub bytes_up: u64,
    /// Bytes from the destination to the client.
    pub bytes_down: u64,
}
