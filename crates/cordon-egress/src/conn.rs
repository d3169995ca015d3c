//! One client connection: its request head, the decision, and the
//! bytes relayed.

use std::io::{self, Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpStream};
use std::time::Duration;

use crate::address::internal;
use crate::allow::{Access, Host, split_host_port};
use crate::proxy::Shared;
use crate::record::{Decision, Record};
use crate::sni::{self, Hello};

/// The longest request head read.
const MAX_HEAD: usize = 16 * 1024;

/// Headers meant for the proxy, or for one connection, not passed on.
const HOP_HEADERS: [&str; 4] =
    ["connection", "keep-alive", "proxy-connection", "proxy-authorization"];

/// The most headers a request may have.
const MAX_HEADERS: usize = 100;

/// A request head, parsed.
struct Head {
    method: String,
    target: String,
    minor: u8,
    headers: Vec<(String, Vec<u8>)>,
}

impl Head {
    fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }
}

/// What a request asks for, before it is decided.
struct Ask {
    time_ms: u64,
    host: String,
    port: u16,
    method: String,
}

impl Ask {
    fn record(&self, decision: Decision, reason: String) -> Record {
        Record {
            time_ms: self.time_ms,
            host: self.host.clone(),
            port: self.port,
            method: self.method.clone(),
            decision,
            reason,
            sni: None,
            bytes_up: 0,
            bytes_down: 0,
        }
    }
}

/// Serves one client until it or its destination closes.
pub(crate) fn serve(shared: &Shared, id: u64, mut client: TcpStream) {
    let time_ms = shared.config.start.elapsed().as_millis() as u64;
    let _ = client.set_read_timeout(Some(shared.config.head_timeout));
    let (head, rest) = match read_head(&mut client) {
        Ok(read) => read,
        Err(reason) => {
            tracing::debug!("egress proxy: {reason}");
            respond(&mut client, 400, &reason);
            return;
        }
    };
    if head.method.eq_ignore_ascii_case("CONNECT") {
        tunnel(shared, id, client, &head, rest, time_ms);
    } else {
        forward(shared, id, client, &head, rest, time_ms);
    }
}

/// Answers 503 to a client over the connection limit.
pub(crate) fn refuse_busy(shared: &Shared, mut client: TcpStream) {
    let _ = client.set_write_timeout(Some(Duration::from_secs(1)));
    respond(&mut client, 503, "too many connections through the proxy");
    shared.record(Record {
        time_ms: shared.config.start.elapsed().as_millis() as u64,
        host: String::new(),
        port: 0,
        method: String::new(),
        decision: Decision::Refused,
        reason: "too many connections through the proxy".into(),
        sni: None,
        bytes_up: 0,
        bytes_down: 0,
    });
}

/// Reads up to the blank line that ends a request head; returns the
/// head and the bytes read past it.
fn read_head(client: &mut TcpStream) -> Result<(Head, Vec<u8>), String> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    loop {
        let n = client
            .read(&mut chunk)
            .map_err(|e| format!("cannot read the request: {e}"))?;
        if n == 0 {
            return Err("the client closed before a whole request".into());
        }
        buf.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(&buf) {
            Ok(httparse::Status::Complete(len)) => {
                let head = Head {
                    method: req.method.unwrap_or_default().to_string(),
                    target: req.path.unwrap_or_default().to_string(),
                    minor: req.version.unwrap_or(1),
                    headers: req
                        .headers
                        .iter()
                        .map(|h| (h.name.to_string(), h.value.to_vec()))
                        .collect(),
                };
                return Ok((head, buf[len..].to_vec()));
            }
            Ok(httparse::Status::Partial) if buf.len() < MAX_HEAD => {}
            Ok(httparse::Status::Partial) => {
                return Err("the request head is too long".into());
            }
            Err(err) => return Err(format!("malformed request: {err}")),
        }
    }
}

/// Writes a short plain-text answer and closes.
fn respond(client: &mut TcpStream, status: u16, message: &str) {
    let text = match status {
        400 => "Bad Request",
        403 => "Forbidden",
        502 => "Bad Gateway",
        _ => "Service Unavailable",
    };
    let body = format!("cordon: {message}\n");
    let answer = format!(
        "HTTP/1.1 {status} {text}\r\nContent-Type: text/plain\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = client.write_all(answer.as_bytes());
    let _ = client.shutdown(Shutdown::Both);
}

/// Reads `host:port` of a `CONNECT` or a URL authority.
fn destination(
    authority: &str,
    default_port: Option<u16>,
) -> Result<(Host, u16), String> {
    let (host, port) = split_host_port(authority)
        .ok_or_else(|| format!("`{authority}` is not HOST:PORT"))?;
    let port = match (port, default_port) {
        (Some(port), _) => port
            .parse::<u16>()
            .ok()
            .filter(|&p| p > 0)
            .ok_or_else(|| format!("`{port}` is not a port"))?,
        (None, Some(port)) => port,
        (None, None) => return Err(format!("`{authority}` has no port")),
    };
    Ok((Host::parse(host)?, port))
}

/// An allowed destination, connected.
struct Opened {
    host: Host,
    allowed: String,
    upstream: TcpStream,
}

/// Reads the destination of `authority`, runs `check` on it, decides,
/// and connects; answers and records the refusal or failure otherwise.
fn open(
    shared: &Shared,
    id: u64,
    client: &mut TcpStream,
    ask: &mut Ask,
    (authority, default_port): (&str, Option<u16>),
    check: impl FnOnce(&Host, u16) -> Result<(), String>,
) -> Option<Opened> {
    let (host, port) = match destination(authority, default_port) {
        Ok(dest) => dest,
        Err(reason) => return refuse(shared, client, ask, 400, reason),
    };
    ask.host = host.to_url_form();
    ask.port = port;
    let decided = check(&host, port)
        .and_then(|()| shared.config.access.check(&host, port));
    let allowed = match decided {
        Ok(why) => why,
        Err(reason) => return refuse(shared, client, ask, 403, reason),
    };
    let upstream = match connect(shared, &host, port) {
        Ok(stream) => stream,
        Err(Unreached::Refused(reason)) => {
            return refuse(shared, client, ask, 403, reason);
        }
        Err(Unreached::Failed(reason)) => {
            return fail(shared, client, ask, 502, reason);
        }
    };
    shared.track(id, &upstream);
    Some(Opened { host, allowed, upstream })
}

/// Serves `CONNECT host:port`: decides, connects, answers 200, checks
/// the ClientHello's server name and relays.
fn tunnel(
    shared: &Shared,
    id: u64,
    mut client: TcpStream,
    head: &Head,
    rest: Vec<u8>,
    time_ms: u64,
) {
    let mut ask = Ask {
        time_ms,
        host: head.target.to_ascii_lowercase(),
        port: 0,
        method: "CONNECT".into(),
    };
    let target = (head.target.as_str(), None);
    let no_check = |_: &Host, _| Ok(());
    let Some(opened) =
        open(shared, id, &mut client, &mut ask, target, no_check)
    else {
        return;
    };
    let established = b"HTTP/1.1 200 Connection Established\r\n\r\n";
    if client.write_all(established).is_ok() {
        pass_tls(shared, client, opened, rest, &ask);
    }
}

/// Lets a tunnel's TLS through when its ClientHello names the host
/// asked for.
fn pass_tls(
    shared: &Shared,
    mut client: TcpStream,
    opened: Opened,
    rest: Vec<u8>,
    ask: &Ask,
) {
    let (hello, sni) = match read_hello(&mut client, rest) {
        Ok(hello) => hello,
        Err(reason) => {
            refuse::<()>(shared, &mut client, ask, 0, reason);
            return;
        }
    };
    let sni = match check_sni(&opened.host, sni) {
        Ok(sni) => sni,
        Err((sni, reason)) => {
            let _ = client.shutdown(Shutdown::Both);
            let mut record = ask.record(Decision::Refused, reason);
            record.sni = sni;
            return shared.record(record);
        }
    };
    let _ = client.set_read_timeout(None);
    let mut upstream = opened.upstream;
    if let Err(err) = upstream.write_all(&hello) {
        fail::<()>(shared, &mut client, ask, 0, err.to_string());
        return;
    }
    let (up, down) = relay(client, upstream);
    let mut record = ask.record(Decision::Allowed, opened.allowed);
    record.sni = sni;
    record.bytes_up = hello.len() as u64 + up;
    record.bytes_down = down;
    shared.record(record);
}

/// Reads the whole ClientHello; returns its bytes and server name.
fn read_hello(
    client: &mut TcpStream,
    mut buf: Vec<u8>,
) -> Result<(Vec<u8>, Option<String>), String> {
    let mut chunk = [0u8; 4096];
    loop {
        match sni::parse(&buf) {
            Hello::Complete(name) => return Ok((buf, name)),
            Hello::NotTls => {
                return Err("the tunnel does not start with tls".into());
            }
            Hello::Incomplete if buf.len() >= sni::MAX_HELLO => {
                return Err("the tls client hello is too long".into());
            }
            Hello::Incomplete => {}
        }
        match client.read(&mut chunk) {
            Ok(0) => return Err("the client closed before tls began".into()),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(err) => {
                return Err(format!(
                    "cannot read the tls client hello: {err}"
                ));
            }
        }
    }
}

/// Checks that the server name is the host of the `CONNECT`; a tunnel
/// to an address may have none.
fn check_sni(
    host: &Host,
    sni: Option<String>,
) -> Result<Option<String>, (Option<String>, String)> {
    match (host, sni) {
        (Host::Ip(_), None) => Ok(None),
        (Host::Name(_), None) => {
            Err((None, "the tls client hello names no server (sni)".into()))
        }
        (_, Some(name)) => match Host::parse(&name) {
            Ok(Host::Name(got)) if matches!(host, Host::Ip(_)) => {
                Ok(Some(got))
            }
            Ok(got) if &got == host => Ok(Some(name)),
            _ => {
                let reason = format!(
                    "the tls server name `{name}` is not the host asked for"
                );
                Err((Some(name), reason))
            }
        },
    }
}

/// Serves a plain HTTP request (absolute-form, or origin-form with a
/// `Host` header): decides by the URL's host, sends the request on with
/// `Connection: close`, and relays.
fn forward(
    shared: &Shared,
    id: u64,
    mut client: TcpStream,
    head: &Head,
    rest: Vec<u8>,
    time_ms: u64,
) {
    let mut ask = Ask {
        time_ms,
        host: String::new(),
        port: 0,
        method: head.method.clone(),
    };
    let (authority, path) = match target(head) {
        Ok(target) => target,
        Err(reason) => {
            refuse::<()>(shared, &mut client, &ask, 400, reason);
            return;
        }
    };
    ask.host = authority.to_ascii_lowercase();
    let agrees = |host: &Host, port| check_host_header(head, host, port);
    let target = (authority.as_str(), Some(80));
    let Some(opened) = open(shared, id, &mut client, &mut ask, target, agrees)
    else {
        return;
    };

    let mut first = rewrite(head, &authority, &path);
    first.extend_from_slice(&rest);
    let _ = client.set_read_timeout(None);
    let mut upstream = opened.upstream;
    if let Err(err) = upstream.write_all(&first) {
        fail::<()>(shared, &mut client, &ask, 502, err.to_string());
        return;
    }
    let (up, down) = relay(client, upstream);
    let mut record = ask.record(Decision::Allowed, opened.allowed);
    record.bytes_up = first.len() as u64 + up;
    record.bytes_down = down;
    shared.record(record);
}

/// The authority and the origin-form path of a plain request.
fn target(head: &Head) -> Result<(String, String), String> {
    let url = &head.target;
    if let Some(after) = strip_prefix_ignore_case(url, "http://") {
        let (authority, path) = match after.find(['/', '?', '#']) {
            Some(at) => (&after[..at], &after[at..]),
            None => (after, "/"),
        };
        let path = if path.starts_with('/') {
            path.to_string()
        } else {
            format!("/{path}")
        };
        if authority.contains('@') {
            return Err("credentials in the url are not passed on".into());
        }
        return Ok((authority.to_string(), path));
    }
    if url.starts_with('/') {
        let host = head
            .header("host")
            .and_then(|h| std::str::from_utf8(h).ok())
            .ok_or("a request without an absolute url needs a host header")?;
        return Ok((host.trim().to_string(), url.clone()));
    }
    Err(format!("`{url}` is not an http url"))
}

fn strip_prefix_ignore_case<'a>(
    text: &'a str,
    prefix: &str,
) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &text[prefix.len()..])
}

/// Refuses a `Host` header that names another host than the URL.
fn check_host_header(
    head: &Head,
    host: &Host,
    port: u16,
) -> Result<(), String> {
    let Some(value) = head.header("host") else {
        return Ok(());
    };
    let value = String::from_utf8_lossy(value).trim().to_string();
    match destination(&value, Some(port)) {
        Ok((named, _)) if &named == host => Ok(()),
        _ => Err(format!(
            "the host header `{value}` is not the url's host `{host}`"
        )),
    }
}

/// The request head as sent to the destination: origin-form, without
/// the proxy's own headers, with `Connection: close`.
fn rewrite(head: &Head, authority: &str, path: &str) -> Vec<u8> {
    let mut out =
        format!("{} {} HTTP/1.{}\r\n", head.method, path, head.minor)
            .into_bytes();
    if head.header("host").is_none() {
        out.extend_from_slice(format!("Host: {authority}\r\n").as_bytes());
    }
    for (name, value) in &head.headers {
        let hop = HOP_HEADERS.iter().any(|h| name.eq_ignore_ascii_case(h));
        if hop {
            continue;
        }
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"Connection: close\r\n\r\n");
    out
}

/// Why an allowed destination was not reached.
enum Unreached {
    /// Every address was one the destination may not lead to.
    Refused(String),
    /// The name had no address, or no address answered.
    Failed(String),
}

/// The addresses of a destination, and whether the user vouched for
/// them: an address an allow-list entry names, or a name the user
/// mapped. An address asked for while learning, which no entry names,
/// is not vouched for.
fn addresses(
    shared: &Shared,
    host: &Host,
    port: u16,
) -> Result<(Vec<SocketAddr>, bool), Unreached> {
    let name = match host {
        Host::Ip(ip) => {
            let listed = matches!(shared.config.access, Access::List(_));
            return Ok((vec![SocketAddr::new(*ip, port)], listed));
        }
        Host::Name(name) => name,
    };
    if let Some(ip) = shared.config.mapped.address(name) {
        return Ok((vec![SocketAddr::new(ip, port)], true));
    }
    let resolved =
        shared.config.resolver.resolve(name, port).map_err(|e| {
            Unreached::Failed(format!("cannot resolve {name}: {e}"))
        })?;
    Ok((resolved, false))
}

/// Why `host` may not lead to `ip`, when it is internal.
fn internal_reason(host: &Host, ip: IpAddr) -> Option<String> {
    let kind = internal(ip)?;
    Some(match host {
        Host::Ip(_) => format!(
            "{ip} is a {kind} address, which only an allow-list entry \
             naming it reaches, not learning"
        ),
        Host::Name(_) => format!(
            "{host} resolves to the {kind} address {ip}, which a name \
             reaches only when mapped to it (--resolve {host}={ip}); an \
             entry naming the address allows it too"
        ),
    })
}

/// Connects to an allowed destination, resolving a name outside the
/// sandbox. A name resolved there never leads to an internal address
/// (loopback, private, link-local, ...): a name the command controls
/// could otherwise point at the host's own services or at the cloud's
/// metadata service. Nor does learning, which allows every destination,
/// reach an internal address given as such. Addresses the user named
/// or mapped are reached.
fn connect(
    shared: &Shared,
    host: &Host,
    port: u16,
) -> Result<TcpStream, Unreached> {
    let (addresses, vouched) = addresses(shared, host, port)?;

    let mut refused = None;
    let mut failed = None;
    for address in addresses {
        let reason =
            (!vouched).then(|| internal_reason(host, address.ip())).flatten();
        if let Some(reason) = reason {
            refused.get_or_insert(reason);
            continue;
        }
        let timeout = shared.config.connect_timeout;
        match TcpStream::connect_timeout(&address, timeout) {
            Ok(stream) => return Ok(stream),
            Err(err) => {
                failed = Some(format!("cannot connect to {address}: {err}"));
            }
        }
    }

    Err(match (failed, refused) {
        (Some(failed), Some(refused)) => {
            Unreached::Failed(format!("{failed}; {refused}"))
        }
        (Some(failed), None) => Unreached::Failed(failed),
        (None, Some(refused)) => Unreached::Refused(refused),
        (None, None) => Unreached::Failed(format!("{host} has no address")),
    })
}

/// Refuses a request: answers `status` (none inside a tunnel, where
/// the client expects TLS) and records why.
fn refuse<T>(
    shared: &Shared,
    client: &mut TcpStream,
    ask: &Ask,
    status: u16,
    reason: String,
) -> Option<T> {
    let what = format!("{}:{} is refused: {reason}", ask.host, ask.port);
    close(client, status, &what);
    shared.record(ask.record(Decision::Refused, reason));
    None
}

/// Answers `status` (none inside a tunnel) for an allowed destination
/// that could not be reached, and records it.
fn fail<T>(
    shared: &Shared,
    client: &mut TcpStream,
    ask: &Ask,
    status: u16,
    reason: String,
) -> Option<T> {
    close(client, status, &reason);
    shared.record(ask.record(Decision::Failed, reason));
    None
}

/// Answers `status` with `message`, or, for 0, just closes.
fn close(client: &mut TcpStream, status: u16, message: &str) {
    match status {
        0 => {
            let _ = client.shutdown(Shutdown::Both);
        }
        _ => respond(client, status, message),
    }
}

/// Copies both ways until each side has closed; returns the bytes sent
/// up (client to destination) and down.
fn relay(client: TcpStream, upstream: TcpStream) -> (u64, u64) {
    let down = match (upstream.try_clone(), client.try_clone()) {
        (Ok(from), Ok(to)) => std::thread::Builder::new()
            .name("cordon-egress-down".into())
            .spawn(move || copy(from, to))
            .ok(),
        _ => None,
    };
    let up = copy(client, upstream);
    let down = down.and_then(|t| t.join().ok()).unwrap_or(0);
    (up, down)
}

/// Copies `from` to `to` until the end or an error, then closes `to`
/// for writing; returns the bytes copied.
fn copy(mut from: TcpStream, mut to: TcpStream) -> u64 {
    let mut buf = vec![0u8; 32 * 1024];
    let mut total = 0u64;
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        if to.write_all(&buf[..n]).is_err() {
            let _ = from.shutdown(Shutdown::Read);
            break;
        }
        total += n as u64;
    }
    let _ = to.shutdown(Shutdown::Write);
    total
}
