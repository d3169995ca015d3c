//! The network services cordon runs for a sandbox with a private
//! network: a DNS resolver and, with the sinkhole, listeners that keep
//! the first bytes of each connection.
//!
//! Their sockets are made inside the sandbox's network namespace, by
//! its init while it still holds its capabilities there, and passed to
//! cordon (see `cordon_sandbox::NetSocket`); a socket stays in the
//! namespace it was made in, so threads of cordon, outside the sandbox,
//! serve the command's loopback without any virtual link.
//!
//! - The resolver listens on `127.0.0.1:53`, UDP and TCP; the sandbox's
//!   `/etc/resolv.conf` names it. Every query is recorded with its name
//!   and type. Without the sinkhole every name is `NXDOMAIN`; with it,
//!   an `A` query gets an address of its own in `127.77.0.0/16` (the
//!   same one for the same name), other types get no data.
//! - The sinkhole listens on [`SINKHOLE_PORTS`] of every local address.
//!   A connection is read for up to a second or until a TLS ClientHello
//!   or an HTTP request (head and body) is whole, recorded (the name
//!   the address was given for, HTTP method, `Host`, path and body
//!   size, the TLS server name, the first bytes), and closed without a
//!   reply.

use std::collections::HashMap;
use std::io::{self, PipeReader, Read, Write};
use std::net::{
    IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket,
};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use cordon_report::events::{CaptureEvent, DnsEvent};

use crate::dns::{self, Answer};
use crate::error::{Error, os};
use crate::http::{self, Head};
use crate::record::Recorder;
use crate::sys;
use crate::tls::{self, Hello};

/// The resolver's address in the sandbox.
pub const RESOLVER: SocketAddr =
    SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 53);

/// The TCP ports the sinkhole listens on, on every local address.
pub const SINKHOLE_PORTS: &[u16] = &[80, 443, 8080, 8443];

/// The first address the sinkhole gives a name: `127.77.0.1`; the
/// following names get the next ones, up to `127.77.255.254`.
const SINKHOLE_FIRST: u32 = u32::from_be_bytes([127, 77, 0, 1]);

/// How many names get an address of their own; later ones share the
/// last.
const SINKHOLE_NAMES: u32 = 0xfffd;

/// How long a sinkhole connection is read.
const CAPTURE_TIME: Duration = Duration::from_secs(1);

/// The most bytes read from one sinkhole connection.
const CAPTURE_BYTES: usize = 64 * 1024;

/// How many bytes of a capture are kept as its prefix.
const PREFIX_BYTES: usize = 256;

/// How long a DNS-over-TCP connection may stay idle.
const TCP_IDLE: Duration = Duration::from_secs(2);

/// The most queries answered on one DNS-over-TCP connection.
const TCP_QUERIES: usize = 64;

/// What a socket made in the sandbox's network namespace is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    /// The resolver, over UDP.
    Dns,
    /// The resolver, over TCP.
    DnsTcp,
    /// A sinkhole listener.
    Sinkhole,
}

/// A socket's transport.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// A TCP listener (`SOCK_STREAM`, bound and listening).
    Tcp,
    /// A UDP socket (`SOCK_DGRAM`, bound).
    Udp,
}

/// One socket the services need, and where it is bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServiceSocket {
    /// What it is for.
    pub service: Service,
    /// TCP or UDP.
    pub transport: Transport,
    /// The address it is bound to, in the sandbox's network namespace.
    pub address: SocketAddr,
}

/// The sockets the resolver needs, and the sinkhole's when asked for.
pub fn sockets(sinkhole: bool) -> Vec<ServiceSocket> {
    let mut list = vec![
        ServiceSocket {
            service: Service::Dns,
            transport: Transport::Udp,
            address: RESOLVER,
        },
        ServiceSocket {
            service: Service::DnsTcp,
            transport: Transport::Tcp,
            address: RESOLVER,
        },
    ];
    if sinkhole {
        list.extend(SINKHOLE_PORTS.iter().map(|&port| ServiceSocket {
            service: Service::Sinkhole,
            transport: Transport::Tcp,
            address: SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port),
        }));
    }
    list
}

/// The sandbox's `/etc/resolv.conf`: cordon's resolver only, one try.
pub fn resolv_conf() -> String {
    format!(
        "# cordon: every lookup goes to cordon's resolver, which records \
         it\nnameserver {}\noptions attempts:1 timeout:2\n",
        RESOLVER.ip()
    )
}

/// The names cordon's resolver answers, when the sandbox has a way out
/// for them (the egress proxy): each gets the sandbox's own loopback
/// address, where nothing but what cordon serves listens, so that a
/// program that looks a name up before using the proxy goes on while
/// one that ignores the proxy still reaches nothing. Every other name
/// stays `NXDOMAIN`.
#[derive(Clone)]
pub struct AnsweredNames(Arc<dyn Fn(&str) -> bool + Send + Sync>);

impl AnsweredNames {
    /// Answers the names for which `allows` says yes.
    pub fn new(allows: impl Fn(&str) -> bool + Send + Sync + 'static) -> Self {
        AnsweredNames(Arc::new(allows))
    }

    fn allows(&self, name: &str) -> bool {
        (self.0)(name)
    }
}

impl std::fmt::Debug for AnsweredNames {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AnsweredNames(..)")
    }
}

/// What the services share with each other and the supervisor.
#[derive(Debug)]
pub(crate) struct Shared {
    /// Where events go.
    pub recorder: Mutex<Recorder>,
    /// When the run started.
    pub start: Instant,
    /// Whether names get sinkhole addresses.
    pub sinkhole: bool,
    /// The names answered without the sinkhole.
    pub answered: Option<AnsweredNames>,
    /// The sinkhole addresses given so far.
    names: Mutex<Names>,
}

impl Shared {
    /// The shared state of one run.
    pub fn new(recorder: Recorder, start: Instant, sinkhole: bool) -> Self {
        Shared {
            recorder: Mutex::new(recorder),
            start,
            sinkhole,
            answered: None,
            names: Mutex::new(Names::default()),
        }
    }

    /// Runs `f` on the recorder; a thread that panicked holding it
    /// leaves it usable.
    pub fn record<T>(&self, f: impl FnOnce(&mut Recorder) -> T) -> T {
        let mut recorder =
            self.recorder.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut recorder)
    }

    fn elapsed_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    fn names(&self) -> std::sync::MutexGuard<'_, Names> {
        self.names.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The sinkhole addresses given to names, both ways.
#[derive(Debug, Default)]
struct Names {
    by_name: HashMap<String, Ipv4Addr>,
    by_address: HashMap<Ipv4Addr, String>,
}

impl Names {
    /// The address of `name`, given now if it has none.
    fn address(&mut self, name: &str) -> Ipv4Addr {
        if let Some(&ip) = self.by_name.get(name) {
            return ip;
        }
        let n = (self.by_name.len() as u32).min(SINKHOLE_NAMES);
        let ip = Ipv4Addr::from(SINKHOLE_FIRST + n);
        if n < SINKHOLE_NAMES {
            self.by_name.insert(name.to_owned(), ip);
            self.by_address.insert(ip, name.to_owned());
        }
        ip
    }
}

/// Starts one thread per socket; each ends when `wake` is readable or
/// hung up.
pub(crate) fn spawn(
    sockets: Vec<(Service, OwnedFd)>,
    shared: &Arc<Shared>,
    wake: &Arc<PipeReader>,
) -> Result<Vec<JoinHandle<()>>, Error> {
    let mut threads = Vec::new();
    for (service, fd) in sockets {
        let shared = Arc::clone(shared);
        let wake = Arc::clone(wake);
        let thread = std::thread::Builder::new()
            .name(format!("cordon-{service:?}").to_lowercase())
            .spawn(move || serve(service, fd, &shared, wake.as_fd()))
            .map_err(os("start a network service's thread"))?;
        threads.push(thread);
    }
    Ok(threads)
}

/// Serves one socket until woken; errors end the service, not the run.
fn serve(service: Service, fd: OwnedFd, shared: &Shared, wake: BorrowedFd) {
    let result = match service {
        Service::Dns => serve_udp(UdpSocket::from(fd), shared, wake),
        Service::DnsTcp => {
            serve_tcp(TcpListener::from(fd), shared, wake, dns_over_tcp)
        }
        Service::Sinkhole => {
            serve_tcp(TcpListener::from(fd), shared, wake, sinkhole)
        }
    };
    if let Err(err) = result {
        tracing::warn!("the {service:?} service stopped: {err}");
    }
}

/// Waits until `socket` is readable; `false` once woken.
fn wait(socket: BorrowedFd, wake: BorrowedFd) -> io::Result<bool> {
    loop {
        let (readable, woken) = sys::poll_two(socket, wake, 1000)?;
        if woken {
            return Ok(false);
        }
        if readable {
            return Ok(true);
        }
    }
}

fn serve_udp(
    socket: UdpSocket,
    shared: &Shared,
    wake: BorrowedFd,
) -> io::Result<()> {
    socket.set_nonblocking(true)?;
    let mut buf = [0u8; 4096];
    while wait(socket.as_fd(), wake)? {
        let (n, from) = match socket.recv_from(&mut buf) {
            Ok(got) => got,
            Err(err) if passing(&err) => continue,
            Err(err) => return Err(err),
        };
        if let Some(reply) = answer(&buf[..n], "udp", shared) {
            let _ = socket.send_to(&reply, from);
        }
    }
    Ok(())
}

/// Whether an error of a receive says nothing about the socket: no
/// datagram after all, or a peer that went away.
fn passing(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::WouldBlock
            | io::ErrorKind::Interrupted
            | io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionReset
    )
}

fn serve_tcp(
    listener: TcpListener,
    shared: &Shared,
    wake: BorrowedFd,
    handle: fn(TcpStream, &Shared),
) -> io::Result<()> {
    listener.set_nonblocking(true)?;
    while wait(listener.as_fd(), wake)? {
        match listener.accept() {
            Ok((stream, _)) => {
                if stream.set_nonblocking(false).is_ok() {
                    handle(stream, shared);
                }
            }
            Err(err) if passing(&err) => {}
            Err(err) if err.kind() == io::ErrorKind::ConnectionAborted => {}
            Err(err) => return Err(err),
        }
    }
    Ok(())
}

/// Reads the query in `message`, records it and builds the reply.
fn answer(
    message: &[u8],
    transport: &str,
    shared: &Shared,
) -> Option<Vec<u8>> {
    let question = match dns::parse(message) {
        Ok(question) => question,
        Err(refusal) => return dns::refuse(refusal),
    };
    let answered =
        shared.answered.as_ref().is_some_and(|a| a.allows(&question.name));
    let answer = match (shared.sinkhole, answered, question.qtype) {
        (true, _, dns::TYPE_A) => {
            Answer::A(shared.names().address(&question.name))
        }
        (false, true, dns::TYPE_A) => Answer::A(Ipv4Addr::LOCALHOST),
        (true, _, _) | (false, true, _) => Answer::NoData,
        (false, false, _) => Answer::NxDomain,
    };
    let event = DnsEvent {
        time_ms: shared.elapsed_ms(),
        name: question.name.clone(),
        qtype: dns::type_name(question.qtype),
        transport: transport.to_owned(),
        answer: answer.describe(),
    };
    shared.record(|r| r.dns(event));
    Some(dns::respond(&question, answer))
}

/// Answers the queries of one DNS-over-TCP connection: each message
/// comes after its length, in two bytes.
fn dns_over_tcp(mut stream: TcpStream, shared: &Shared) {
    let _ = stream.set_read_timeout(Some(TCP_IDLE));
    for _ in 0..TCP_QUERIES {
        let mut len = [0u8; 2];
        if stream.read_exact(&mut len).is_err() {
            return;
        }
        let mut message = vec![0u8; usize::from(u16::from_be_bytes(len))];
        if stream.read_exact(&mut message).is_err() {
            return;
        }
        let Some(reply) = answer(&message, "tcp", shared) else { return };
        let mut out = (reply.len() as u16).to_be_bytes().to_vec();
        out.extend(reply);
        if stream.write_all(&out).is_err() {
            return;
        }
    }
}

/// Reads what a connection to the sinkhole carries, records it and
/// closes the connection.
fn sinkhole(mut stream: TcpStream, shared: &Shared) {
    let local = stream.local_addr().ok();
    let bytes = read_capture(&mut stream);
    drop(stream);
    let Some(local) = local else { return };
    let name = match local.ip() {
        IpAddr::V4(ip) => shared.names().by_address.get(&ip).cloned(),
        IpAddr::V6(_) => None,
    };
    let mut event = describe(&bytes);
    event.time_ms = shared.elapsed_ms();
    event.name = name;
    event.address = local.ip().to_string();
    event.port = local.port();
    shared.record(|r| r.capture(event));
}

/// Reads until the first bytes say enough, the time is up, the peer
/// stops sending or [`CAPTURE_BYTES`] are in.
fn read_capture(stream: &mut TcpStream) -> Vec<u8> {
    let until = Instant::now() + CAPTURE_TIME;
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 8192];
    while bytes.len() < CAPTURE_BYTES && !enough(&bytes) {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            break;
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let room = CAPTURE_BYTES - bytes.len();
                bytes.extend_from_slice(&chunk[..n.min(room)]);
            }
        }
    }
    bytes
}

/// Whether the bytes read so far say all the capture needs.
fn enough(bytes: &[u8]) -> bool {
    if bytes.is_empty() {
        return false;
    }
    match tls::client_hello(bytes) {
        Hello::Complete(_) => return true,
        Hello::Partial => return false,
        Hello::NotTls => {}
    }
    match http::parse(bytes) {
        Head::Complete(request) => {
            let body = bytes.len() - request.body_start.min(bytes.len());
            if request.chunked {
                bytes.ends_with(b"0\r\n\r\n")
            } else {
                body as u64 >= request.content_length.unwrap_or(0)
            }
        }
        Head::Partial => false,
        Head::NotHttp => bytes.len() >= PREFIX_BYTES,
    }
}

/// What the bytes of a capture say: the protocol and its details.
fn describe(bytes: &[u8]) -> CaptureEvent {
    let mut event = CaptureEvent {
        bytes: bytes.len() as u64,
        prefix: http::text(&bytes[..bytes.len().min(PREFIX_BYTES)]),
        protocol: "unknown".into(),
        ..CaptureEvent::default()
    };
    if let Hello::Complete(sni) = tls::client_hello(bytes) {
        event.protocol = "tls".into();
        event.sni = sni;
    } else if let Head::Complete(request) = http::parse(bytes) {
        let read = bytes.len().saturating_sub(request.body_start);
        event.protocol = "http".into();
        event.body_bytes = Some(request.content_length.unwrap_or(read as u64));
        event.method = Some(request.method);
        event.path = Some(request.path);
        event.host = request.host;
    }
    event
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_get_addresses_of_their_own_and_keep_them() {
        let mut names = Names::default();
        let a = names.address("a.example");
        let b = names.address("b.example");
        assert_eq!(a, Ipv4Addr::new(127, 77, 0, 1));
        assert_eq!(b, Ipv4Addr::new(127, 77, 0, 2));
        assert_eq!(names.address("a.example"), a);
        assert_eq!(names.by_address[&b], "b.example");
    }

    #[test]
    fn captures_tell_http_tls_and_the_rest_apart() {
        let post = b"POST /x HTTP/1.1\r\nHost: h.example:8080\r\n\
            Content-Length: 5\r\n\r\nhello";
        assert!(enough(post));
        assert!(!enough(&post[..post.len() - 1]));
        let event = describe(post);
        assert_eq!(event.protocol, "http");
        assert_eq!(event.method.as_deref(), Some("POST"));
        assert_eq!(event.body_bytes, Some(5));
        assert_eq!(event.target(), "h.example");

        let hello = crate::tls::tests::hello(Some("evil.example.com"));
        assert!(enough(&hello));
        let event = describe(&hello);
        assert_eq!(event.sni.as_deref(), Some("evil.example.com"));

        let event = describe(b"SSH-2.0-x\r\n\x00");
        assert_eq!(event.protocol, "unknown");
        assert_eq!(event.prefix, "SSH-2.0-x\\x0d\\x0a\\x00");
        assert!(!enough(b"SSH-2.0-x\r\n"));
    }

    #[test]
    fn the_resolver_answers_and_records() {
        let shared = Shared::new(Recorder::new(None), Instant::now(), true);
        let mut query = vec![0, 7, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        query.extend(b"\x04evil\x07example\x00\x00\x01\x00\x01");
        let reply = answer(&query, "udp", &shared).expect("a reply");
        assert_eq!(&reply[reply.len() - 4..], &[127, 77, 0, 1]);
        assert!(answer(&[1, 2, 3], "udp", &shared).is_none());
        let recorder = shared.recorder.into_inner().unwrap();
        let (events, _) = recorder.finish(Default::default());
        assert_eq!(events.dns.len(), 1);
        assert_eq!(events.dns[0].name, "evil.example");
        assert_eq!(events.dns[0].answer, "127.77.0.1");
    }

    #[test]
    fn only_the_answered_names_get_an_address_without_the_sinkhole() {
        let mut shared =
            Shared::new(Recorder::new(None), Instant::now(), false);
        shared.answered =
            Some(AnsweredNames::new(|name| name == "registry.test"));
        let query = |name: &[u8]| {
            let mut query = vec![0, 7, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
            query.extend(name);
            query.extend(b"\x00\x00\x01\x00\x01");
            answer(&query, "udp", &shared).expect("a reply")
        };
        let allowed = query(b"\x08registry\x04test");
        assert_eq!(&allowed[allowed.len() - 4..], &[127, 0, 0, 1]);
        assert_eq!(allowed[3] & 0x0f, 0, "no error for an answered name");
        let refused = query(b"\x04evil\x04test");
        assert_eq!(refused[3] & 0x0f, 3, "NXDOMAIN for any other name");
    }
}
