//! How the proxy finds the addresses of an allowed host: the system's
//! resolver outside the sandbox, or a fixed table (the user's own
//! mappings, `--resolve NAME=IP`, and tests).

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};

/// Finds the addresses of a host name, outside the sandbox.
pub trait Resolve: Send + Sync {
    /// The addresses of `host` (a DNS name) at `port`, best first.
    fn resolve(&self, host: &str, port: u16) -> io::Result<Vec<SocketAddr>>;
}

/// The system's resolver (`getaddrinfo`).
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemResolver;

impl Resolve for SystemResolver {
    fn resolve(&self, host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
        Ok((host, port).to_socket_addrs()?.collect())
    }
}

/// A fixed table of names and addresses; a name not in it is not
/// found. As [`Config::mapped`](crate::Config::mapped) it holds the
/// user's own mappings; tests use it to send `registry.test` to a
/// loopback server.
#[derive(Clone, Debug, Default)]
pub struct StaticResolver {
    names: HashMap<String, IpAddr>,
}

impl StaticResolver {
    /// An empty table.
    pub fn new() -> StaticResolver {
        StaticResolver::default()
    }

    /// Adds `name` (compared without case) at `address`.
    pub fn with(mut self, name: &str, address: IpAddr) -> StaticResolver {
        self.names.insert(name.to_ascii_lowercase(), address);
        self
    }

    /// The address of `name` (compared without case and without a
    /// trailing dot), if the table has it.
    pub fn address(&self, name: &str) -> Option<IpAddr> {
        let name = name.strip_suffix('.').unwrap_or(name);
        self.names.get(&name.to_ascii_lowercase()).copied()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

impl Resolve for StaticResolver {
    fn resolve(&self, host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
        match self.address(host) {
            Some(ip) => Ok(vec![SocketAddr::new(ip, port)]),
            None => Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("no address for {host}"),
            )),
        }
    }
}
