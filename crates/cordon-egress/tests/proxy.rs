//! The proxy against loopback servers standing in for registries: a
//! plain HTTP server and a TLS server with a certificate made here.
//! Names like `registry.test` reach 127.0.0.1 through the user's own
//! mappings; names the resolver sends to internal addresses are refused.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, TcpListener, TcpStream};
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use cordon_egress::{
    Access, Config, Decision, Handle, Proxy, Record, StaticResolver,
};

const LOCAL: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// A proxy on a loopback port, its records, and its handle.
struct Running {
    port: u16,
    records: Receiver<Record>,
    handle: Option<Handle>,
}

impl Running {
    fn start(access: Access) -> Running {
        let mapped = StaticResolver::new()
            .with("registry.test", LOCAL)
            .with("a.registry.test", LOCAL)
            .with("b.a.registry.test", LOCAL)
            .with("evil.test", LOCAL);
        let resolver = StaticResolver::new()
            .with("metadata.test", "169.254.169.254".parse().unwrap())
            .with("loopback.test", LOCAL)
            .with("mapped.test", "::ffff:127.0.0.1".parse().unwrap())
            .with("private.test", "10.0.0.7".parse().unwrap());
        let mut config = Config::new(access);
        config.resolver = Arc::new(resolver);
        config.mapped = mapped;
        config.head_timeout = Duration::from_secs(5);
        let (send, records) = channel();
        let send = Mutex::new(send);
        let proxy = Proxy::new(
            config,
            Box::new(move |r| {
                let _ = send.lock().unwrap().send(r);
            }),
        );
        let listener = TcpListener::bind((LOCAL, 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let handle = Some(proxy.spawn(listener).unwrap());
        Running { port, records, handle }
    }

    fn allow(entries: &[String]) -> Running {
        Running::start(Access::list(entries).unwrap())
    }

    fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect((LOCAL, self.port)).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        stream
    }

    fn record(&self) -> Record {
        self.records
            .recv_timeout(Duration::from_secs(10))
            .expect("the proxy recorded nothing")
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            handle.stop(Duration::from_secs(1));
        }
    }
}

/// An HTTP server: answers `body` to each request and keeps the
/// request heads it received (a connection that sends nothing is not
/// kept).
fn http_server(body: &'static str) -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind((LOCAL, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let keep = Arc::clone(&seen);
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let head = read_head(&mut stream);
            if head.is_empty() {
                continue;
            }
            keep.lock().unwrap().push(head);
            let answer = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    (port, seen)
}

fn read_head(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&head).into_owned()
}

fn get(proxy: &Running, url: &str, host: &str) -> String {
    let mut client = proxy.connect();
    let request = format!("GET {url} HTTP/1.1\r\nHost: {host}\r\n\r\n");
    client.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    let _ = client.read_to_string(&mut answer);
    answer
}

#[test]
fn plain_http_reaches_an_allowed_host_by_its_url() {
    let (port, seen) = http_server("hello");
    let proxy = Running::allow(&[format!("registry.test:{port}")]);

    let url = format!("http://registry.test:{port}/left-pad?x=1");
    let answer = get(&proxy, &url, &format!("registry.test:{port}"));

    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("hello"), "{answer}");
    let head = seen.lock().unwrap()[0].clone();
    assert!(head.starts_with("GET /left-pad?x=1 HTTP/1.1\r\n"), "{head}");
    assert!(head.contains("Connection: close\r\n"), "{head}");
    let record = proxy.record();
    assert_eq!(record.decision, Decision::Allowed);
    assert_eq!((record.host.as_str(), record.port), ("registry.test", port));
    assert_eq!(record.method, "GET");
    assert!(record.reason.contains(&format!("registry.test:{port}")));
    assert_eq!(record.bytes_down, answer.len() as u64);
    assert!(record.bytes_up >= head.len() as u64, "{record:?}");
}

#[test]
fn plain_http_to_another_host_is_refused_and_nothing_is_sent() {
    let (port, seen) = http_server("secret");
    let proxy = Running::allow(&[format!("registry.test:{port}")]);

    let url = format!("http://evil.test:{port}/");
    let answer = get(&proxy, &url, &format!("evil.test:{port}"));

    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    assert!(answer.contains("not in the allow list"), "{answer}");
    let record = proxy.record();
    assert_eq!(record.decision, Decision::Refused);
    assert_eq!(record.host, "evil.test");
    thread::sleep(Duration::from_millis(100));
    assert!(seen.lock().unwrap().is_empty());
}

#[test]
fn a_host_header_that_disagrees_with_the_url_is_refused() {
    let (port, seen) = http_server("x");
    let proxy = Running::allow(&[format!("registry.test:{port}")]);

    let url = format!("http://registry.test:{port}/");
    let answer = get(&proxy, &url, "evil.test");

    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    let record = proxy.record();
    assert_eq!(record.decision, Decision::Refused);
    assert!(record.reason.contains("host header"), "{}", record.reason);
    assert!(seen.lock().unwrap().is_empty());
}

#[test]
fn an_origin_form_request_is_decided_by_its_host_header() {
    let (port, seen) = http_server("by host");
    let proxy = Running::allow(&[format!("registry.test:{port}")]);

    let ok = get(&proxy, "/index", &format!("registry.test:{port}"));
    let refused = get(&proxy, "/index", &format!("evil.test:{port}"));

    assert!(ok.ends_with("by host"), "{ok}");
    assert!(refused.starts_with("HTTP/1.1 403"), "{refused}");
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[test]
fn a_wildcard_allows_subdomains_but_not_the_apex() {
    let (port, _seen) = http_server("w");
    let proxy = Running::allow(&[format!("*.registry.test:{port}")]);

    for (host, allowed) in [
        ("a.registry.test", true),
        ("b.a.registry.test", true),
        ("registry.test", false),
    ] {
        let url = format!("http://{host}:{port}/");
        let answer = get(&proxy, &url, &format!("{host}:{port}"));
        assert_eq!(answer.starts_with("HTTP/1.1 200"), allowed, "{answer}");
        let record = proxy.record();
        assert_eq!(record.host, host);
        assert_eq!(record.decision == Decision::Allowed, allowed);
    }
}

#[test]
fn raw_addresses_are_refused_unless_listed() {
    let (port, seen) = http_server("raw");
    let by_name = Running::allow(&[format!("registry.test:{port}")]);
    let url = format!("http://127.0.0.1:{port}/");

    let answer = get(&by_name, &url, &format!("127.0.0.1:{port}"));
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    assert!(by_name.record().reason.contains("raw ip"));
    for disguised in ["2130706433", "0x7f.1", "127.1"] {
        let url = format!("http://{disguised}:{port}/");
        let answer = get(&by_name, &url, &format!("{disguised}:{port}"));
        assert!(answer.starts_with("HTTP/1.1 400"), "{disguised}: {answer}");
        assert_eq!(by_name.record().decision, Decision::Refused);
    }
    assert!(seen.lock().unwrap().is_empty());

    let by_ip = Running::allow(&[format!("127.0.0.1:{port}")]);
    let answer = get(&by_ip, &url, &format!("127.0.0.1:{port}"));
    assert!(answer.ends_with("raw"), "{answer}");
}

#[test]
fn a_refused_connect_gets_403() {
    let proxy = Running::allow(&["registry.test".to_string()]);
    let mut client = proxy.connect();

    client.write_all(b"CONNECT evil.test:443 HTTP/1.1\r\n\r\n").unwrap();
    let mut answer = String::new();
    let _ = client.read_to_string(&mut answer);

    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    let record = proxy.record();
    assert_eq!(record.method, "CONNECT");
    assert_eq!((record.host.as_str(), record.port), ("evil.test", 443));
    assert_eq!(record.decision, Decision::Refused);
}

#[test]
fn a_tunnel_must_carry_tls() {
    let (port, seen) = http_server("x");
    let proxy = Running::allow(&[format!("registry.test:{port}")]);
    let mut client = proxy.connect();

    let connect = format!("CONNECT registry.test:{port} HTTP/1.1\r\n\r\n");
    client.write_all(connect.as_bytes()).unwrap();
    client.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut answer = String::new();
    let _ = client.read_to_string(&mut answer);

    assert_eq!(answer, "HTTP/1.1 200 Connection Established\r\n\r\n");
    let record = proxy.record();
    assert_eq!(record.decision, Decision::Refused);
    assert!(record.reason.contains("tls"), "{}", record.reason);
    assert!(seen.lock().unwrap().is_empty());
}

#[test]
fn everything_is_allowed_and_recorded_when_learning() {
    let (port, _seen) = http_server("learn");
    let proxy = Running::start(Access::Everything);

    let url = format!("http://evil.test:{port}/");
    let answer = get(&proxy, &url, &format!("evil.test:{port}"));

    assert!(answer.ends_with("learn"), "{answer}");
    let record = proxy.record();
    assert_eq!(record.decision, Decision::Allowed);
    assert_eq!((record.host.as_str(), record.port), ("evil.test", port));
}

#[test]
fn an_allowed_host_that_does_not_answer_fails() {
    let closed = TcpListener::bind((LOCAL, 0)).unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let proxy = Running::allow(&[format!("registry.test:{port}")]);

    let url = format!("http://registry.test:{port}/");
    let answer = get(&proxy, &url, &format!("registry.test:{port}"));

    assert!(answer.starts_with("HTTP/1.1 502"), "{answer}");
    assert_eq!(proxy.record().decision, Decision::Failed);
}

#[test]
fn stop_ends_open_connections() {
    let proxy = Running::allow(&["registry.test".to_string()]);
    let mut idle = proxy.connect();
    idle.write_all(b"GET http://registry.test/ HTTP/1.1\r\n").unwrap();

    let mut proxy = proxy;
    let started = std::time::Instant::now();
    proxy.handle.take().unwrap().stop(Duration::from_millis(100));

    assert!(started.elapsed() < Duration::from_secs(5));
    let mut rest = Vec::new();
    let read = idle.read_to_end(&mut rest);
    assert!(read.is_err() || rest.is_empty() || rest.starts_with(b"HTTP"));
}

#[test]
fn a_name_never_leads_to_a_link_local_address() {
    let proxy = Running::start(Access::Everything);

    let answer = get(&proxy, "http://metadata.test/latest/", "metadata.test");

    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    let record = proxy.record();
    assert_eq!(record.decision, Decision::Refused);
    assert!(record.reason.contains("link-local"), "{}", record.reason);
    assert!(record.reason.contains("169.254.169.254"), "{}", record.reason);
}

#[test]
fn a_resolved_name_never_leads_to_an_internal_address() {
    let (port, seen) = http_server("internal");
    let proxy = Running::start(Access::Everything);

    for (name, kind) in [
        ("loopback.test", "loopback address 127.0.0.1"),
        ("mapped.test", "loopback address ::ffff:127.0.0.1"),
        ("private.test", "private address 10.0.0.7"),
    ] {
        let url = format!("http://{name}:{port}/");
        let answer = get(&proxy, &url, &format!("{name}:{port}"));

        assert!(answer.starts_with("HTTP/1.1 403"), "{name}: {answer}");
        let record = proxy.record();
        assert_eq!(record.decision, Decision::Refused, "{name}");
        assert!(record.reason.contains(kind), "{}", record.reason);
        assert!(record.reason.contains("--resolve"), "{}", record.reason);
    }
    assert!(seen.lock().unwrap().is_empty());
}

#[test]
fn learning_does_not_reach_an_internal_address_given_as_such() {
    let (port, seen) = http_server("internal");
    let proxy = Running::start(Access::Everything);

    let url = format!("http://127.0.0.1:{port}/");
    let answer = get(&proxy, &url, &format!("127.0.0.1:{port}"));

    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    let record = proxy.record();
    assert_eq!(record.decision, Decision::Refused);
    assert!(record.reason.contains("loopback address"), "{}", record.reason);
    assert!(seen.lock().unwrap().is_empty());
}

#[test]
fn a_tunnel_to_a_name_resolved_to_loopback_is_refused_before_200() {
    let (port, seen) = http_server("internal");
    let proxy = Running::allow(&[format!("loopback.test:{port}")]);
    let mut client = proxy.connect();

    let connect = format!("CONNECT loopback.test:{port} HTTP/1.1\r\n\r\n");
    client.write_all(connect.as_bytes()).unwrap();
    let mut answer = String::new();
    let _ = client.read_to_string(&mut answer);

    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    let record = proxy.record();
    assert_eq!(record.decision, Decision::Refused);
    assert!(record.reason.contains("loopback"), "{}", record.reason);
    assert!(seen.lock().unwrap().is_empty());
}

#[test]
fn a_name_the_user_mapped_reaches_its_internal_address() {
    let (port, seen) = http_server("mapped");
    let proxy = Running::allow(&[format!("registry.test:{port}")]);

    let url = format!("http://registry.test:{port}/");
    let answer = get(&proxy, &url, &format!("registry.test:{port}"));

    assert!(answer.ends_with("mapped"), "{answer}");
    assert_eq!(proxy.record().decision, Decision::Allowed);
    assert_eq!(seen.lock().unwrap().len(), 1);
}
