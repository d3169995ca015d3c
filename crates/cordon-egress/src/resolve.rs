//! How the proxy finds the addresses of an allowed host: the system's
//! resolver outside the sandbox, or a fixed table in tests.

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
/// found. Tests use it to send `registry.test` to a loopback server.
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
}

impl Resolve for StaticResolver {
    fn resolve(&self, host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
        match self.names.get(&host.to_ascii_lowercase()) {
            Some(ip) => Ok(vec![SocketAddr::new(*ip, port)]),
            None => Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("no address for {host}"),
            )),
        }
    }
}
