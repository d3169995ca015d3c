//! cordon's egress proxy: a sandbox's only way out when hosts are
//! allowed by name.
//!
//! The sandbox has a private network with only loopback. cordon makes a
//! listening socket inside it and serves it from outside with a
//! [`Proxy`]: the command's package manager, told by `HTTPS_PROXY` and
//! its kind, asks the proxy for a host by name, and the proxy decides.
//!
//! - `CONNECT host:port` (TLS): the host and port must be allowed; after
//!   answering 200 the proxy reads the TLS ClientHello, which travels in
//!   clear, and lets the tunnel through only when its server name (SNI)
//!   is the host asked for, so a client cannot ask for an allowed name
//!   and talk to another site behind the same address. Nothing is
//!   decrypted: the bytes pass through as they are. A tunnel must carry
//!   TLS; one to an allowed IP address may lack the server name.
//! - Plain HTTP (`GET http://host/path`, or `GET /path` with a `Host`
//!   header): decided by the URL's host, whose `Host` header must agree;
//!   the request goes on in origin form with `Connection: close`, so
//!   each connection carries one request to one host.
//! - Raw IP destinations are refused unless an entry names the address.
//!
//! Allowed names are resolved outside the sandbox, by the system's
//! resolver or a [`Resolve`] of the caller's. Such a name never leads
//! to an [`internal`] address: loopback, unspecified, private,
//! link-local (where clouds serve instance credentials), shared
//! (carrier-grade NAT), multicast or broadcast, IPv4-mapped forms
//! included. Otherwise a name the command controls, or one whose DNS
//! changed hands, would reach the host's own services and network. The
//! request is refused, and recorded with the address and its kind. Only
//! the user's consent reaches such an address: an entry naming the
//! address itself, or the user's mapping of the name to it
//! ([`Config::mapped`], `--resolve NAME=IP`). [`Access::allows_name`]
//! tells an in-sandbox resolver which names to answer: since every
//! connection goes through the proxy, it can answer an allowed name with
//! any placeholder address. The allow list's syntax is in [`allow`].
//!
//! Every request, allowed or refused, becomes a [`Record`] (host, port,
//! method, decision, reason, server name, bytes each way) handed to the
//! caller's sink: at once when refused, when the connection ends when
//! allowed.

mod address;
pub mod allow;
mod conn;
mod error;
mod proxy;
mod record;
mod resolve;
mod sni;
#[allow(unsafe_code)]
mod sys;

pub use address::{Internal, internal};
pub use allow::{Access, Host, Rule};
pub use error::Error;
pub use proxy::{Config, Handle, MAX_CONNECTIONS, Proxy, Sink};
pub use record::{Decision, Record};
pub use resolve::{Resolve, StaticResolver, SystemResolver};
pub use sni::{Hello, MAX_HELLO, parse as parse_client_hello};
