//! TLS through the proxy's tunnels: a rustls server with a certificate
//! made here for `registry.test`, a client that trusts only it, and the
//! proxy in between, which must pass the bytes through untouched and
//! check the server name.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, TcpListener, TcpStream};
use std::sync::mpsc::channel;
use std::sync::{Arc, Mutex, Once};
use std::thread;
use std::time::Duration;

use cordon_egress::{Access, Config, Decision, Proxy, StaticResolver};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

const LOCAL: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A certificate for `registry.test` and its key.
fn certificate() -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
    let made =
        rcgen::generate_simple_self_signed(vec!["registry.test".into()])
            .unwrap();
    let key =
        PrivateKeyDer::try_from(made.signing_key.serialize_der()).unwrap();
    (made.cert.der().clone(), key)
}

/// A TLS server answering each line it reads with `echo: LINE`.
fn tls_server(
    cert: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
) -> u16 {
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap();
    let config = Arc::new(config);
    let listener = TcpListener::bind((LOCAL, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let config = Arc::clone(&config);
            thread::spawn(move || {
                let conn = rustls::ServerConnection::new(config).unwrap();
                let mut tls = rustls::StreamOwned::new(conn, &mut stream);
                let mut buf = [0u8; 256];
                if let Ok(n) = tls.read(&mut buf) {
                    let mut answer = b"echo: ".to_vec();
                    answer.extend_from_slice(&buf[..n]);
                    let _ = tls.write_all(&answer);
                    tls.conn.send_close_notify();
                    let _ = tls.flush();
                }
            });
        }
    });
    port
}

/// Opens a tunnel to `target` and speaks TLS in it for `sni`, trusting
/// only `cert`; returns the server's answer or the error.
fn through_tunnel(
    proxy: u16,
    target: &str,
    sni: &str,
    cert: &CertificateDer<'static>,
) -> Result<String, String> {
    let mut stream = TcpStream::connect((LOCAL, proxy)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let connect =
        format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n");
    stream.write_all(connect.as_bytes()).unwrap();
    let mut answer = [0u8; 39];
    stream.read_exact(&mut answer).map_err(|e| e.to_string())?;
    if !answer.starts_with(b"HTTP/1.1 200") {
        return Err(String::from_utf8_lossy(&answer).into_owned());
    }

    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.clone()).unwrap();
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = ServerName::try_from(sni.to_string()).unwrap();
    let conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, stream);
    tls.write_all(b"hello through the tunnel").map_err(|e| e.to_string())?;
    let mut reply = Vec::new();
    match tls.read_to_end(&mut reply) {
        Ok(_) => Ok(String::from_utf8_lossy(&reply).into_owned()),
        Err(err) => Err(err.to_string()),
    }
}

fn proxy_for(
    entries: &[String],
) -> (u16, std::sync::mpsc::Receiver<cordon_egress::Record>) {
    let resolver = StaticResolver::new()
        .with("registry.test", LOCAL)
        .with("evil.test", LOCAL);
    let mut config = Config::new(Access::list(entries).unwrap());
    config.mapped = resolver;
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
    std::mem::forget(proxy.spawn(listener).unwrap());
    (port, records)
}

#[test]
fn tls_passes_through_untouched_to_an_allowed_host() {
    provider();
    let (cert, key) = certificate();
    let server = tls_server(cert.clone(), key);
    let (proxy, records) = proxy_for(&[format!("registry.test:{server}")]);

    let target = format!("registry.test:{server}");
    let reply = through_tunnel(proxy, &target, "registry.test", &cert);

    // The client verified the server's own certificate, which the proxy
    // cannot forge: the tunnel carried the TLS session as it was.
    assert_eq!(reply.unwrap(), "echo: hello through the tunnel");
    let record = records.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(record.decision, Decision::Allowed);
    assert_eq!(record.method, "CONNECT");
    assert_eq!(record.sni.as_deref(), Some("registry.test"));
    assert!(record.bytes_up > 100 && record.bytes_down > 100, "{record:?}");
}

#[test]
fn a_server_name_other_than_the_host_asked_for_is_refused() {
    provider();
    let (cert, key) = certificate();
    let server = tls_server(cert.clone(), key);
    let (proxy, records) = proxy_for(&[format!("registry.test:{server}")]);

    let target = format!("registry.test:{server}");
    let reply = through_tunnel(proxy, &target, "evil.test", &cert);

    assert!(reply.is_err(), "{reply:?}");
    let record = records.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(record.decision, Decision::Refused);
    assert_eq!(record.sni.as_deref(), Some("evil.test"));
    assert!(record.reason.contains("server name"), "{}", record.reason);
    assert_eq!(record.bytes_up, 0);
}
