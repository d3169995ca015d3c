//! The server name (SNI) of a TLS ClientHello, read from the first
//! bytes of a connection with every length checked.

/// A TLS record carrying a handshake message.
const HANDSHAKE: u8 = 22;

/// The handshake message type of a ClientHello.
const CLIENT_HELLO: u8 = 1;

/// The `server_name` extension.
const SERVER_NAME: u16 = 0;

/// What the first bytes of a connection say about TLS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Hello {
    /// Not a TLS handshake.
    NotTls,
    /// A handshake, not whole yet: more bytes are needed.
    Partial,
    /// A whole ClientHello, with its server name when it has one.
    Complete(Option<String>),
}

/// Whether `bytes` start like a TLS handshake record.
pub fn looks_like_tls(bytes: &[u8]) -> bool {
    matches!(bytes, [HANDSHAKE, 3, 0..=4, ..] | [HANDSHAKE] | [HANDSHAKE, 3])
}

/// Reads the ClientHello at the start of `bytes`, which may span
/// several records.
pub fn client_hello(bytes: &[u8]) -> Hello {
    if !looks_like_tls(bytes) {
        return Hello::NotTls;
    }
    let mut message = Vec::new();
    let mut at = 0;
    while let Some(head) = bytes.get(at..at + 5) {
        if head[0] != HANDSHAKE {
            return Hello::NotTls;
        }
        let len = usize::from(u16::from_be_bytes([head[3], head[4]]));
        let Some(payload) = bytes.get(at + 5..at + 5 + len) else {
            break;
        };
        message.extend_from_slice(payload);
        at += 5 + len;
        if let Some(whole) = whole_message(&message) {
            return match whole {
                Some(body) => Hello::Complete(server_name(body)),
                None => Hello::NotTls,
            };
        }
    }
    Hello::Partial
}

/// The body of the first handshake message once all of it is there:
/// `Some(Some(body))` for a ClientHello, `Some(None)` for another
/// message, `None` while bytes are missing.
fn whole_message(message: &[u8]) -> Option<Option<&[u8]>> {
    let head = message.get(..4)?;
    let len = usize::from(head[1]) << 16
        | usize::from(head[2]) << 8
        | usize::from(head[3]);
    let body = message.get(4..4 + len)?;
    Some((head[0] == CLIENT_HELLO).then_some(body))
}

/// A cursor over bytes whose every read is checked.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.bytes.split_at_checked(n)?;
        self.bytes = rest;
        Some(head)
    }

    fn u8(&mut self) -> Option<usize> {
        self.take(1).map(|b| usize::from(b[0]))
    }

    fn u16(&mut self) -> Option<usize> {
        self.take(2).map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
    }

    /// A vector whose length is `width` bytes wide.
    fn vector(&mut self, width: usize) -> Option<&'a [u8]> {
        let len = if width == 1 { self.u8()? } else { self.u16()? };
        self.take(len)
    }
}

/// The host name of the `server_name` extension of a ClientHello body.
fn server_name(body: &[u8]) -> Option<String> {
    let mut r = Reader { bytes: body };
    r.take(2 + 32)?; // version, random
    r.vector(1)?; // session id
    r.vector(2)?; // cipher suites
    r.vector(1)?; // compression methods
    let mut extensions = Reader { bytes: r.vector(2)? };
    while !extensions.bytes.is_empty() {
        let kind = extensions.u16()?;
        let data = extensions.vector(2)?;
        if kind == usize::from(SERVER_NAME) {
            return host_name(data);
        }
    }
    None
}

/// The first `host_name` entry of a `server_name` extension.
fn host_name(data: &[u8]) -> Option<String> {
    let mut list = Reader { bytes: Reader { bytes: data }.vector(2)? };
    while !list.bytes.is_empty() {
        let kind = list.u8()?;
        let name = list.vector(2)?;
        if kind == 0 {
            return Some(printable(name));
        }
    }
    None
}

/// A name as text: printable ASCII kept, other bytes `\xNN`.
fn printable(name: &[u8]) -> String {
    let mut out = String::with_capacity(name.len());
    for &b in name {
        if b.is_ascii_graphic() {
            out.push(char::from(b.to_ascii_lowercase()));
        } else {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A minimal ClientHello record for `name`, as a client sends it.
    pub(crate) fn hello(name: Option<&str>) -> Vec<u8> {
        let mut body = vec![3, 3];
        body.extend([7u8; 32]);
        body.push(0); // session id
        body.extend([0, 2, 0x13, 0x01]); // one cipher suite
        body.extend([1, 0]); // null compression
        let mut extensions = Vec::new();
        // An extension before the name, to be skipped.
        extensions.extend([0, 10, 0, 4, 0, 2, 0, 29]);
        if let Some(name) = name {
            let n = name.len() as u16;
            extensions.extend(SERVER_NAME.to_be_bytes());
            extensions.extend((n + 5).to_be_bytes());
            extensions.extend((n + 3).to_be_bytes());
            extensions.push(0);
            extensions.extend(n.to_be_bytes());
            extensions.extend(name.as_bytes());
        }
        body.extend((extensions.len() as u16).to_be_bytes());
        body.extend(extensions);
        let mut message = vec![CLIENT_HELLO, 0];
        message.extend((body.len() as u16).to_be_bytes());
        message.extend(body);
        let mut record = vec![HANDSHAKE, 3, 1];
        record.extend((message.len() as u16).to_be_bytes());
        record.extend(message);
        record
    }

    #[test]
    fn the_server_name_is_read() {
        let got = client_hello(&hello(Some("Evil.Example.com")));
        assert_eq!(got, Hello::Complete(Some("evil.example.com".into())));
        assert_eq!(client_hello(&hello(None)), Hello::Complete(None));
    }

    #[test]
    fn a_hello_split_over_two_records_is_read() {
        let one = hello(Some("split.example.com"));
        let message = &one[5..];
        let (a, b) = message.split_at(20);
        let mut two = Vec::new();
        for part in [a, b] {
            two.extend([HANDSHAKE, 3, 1]);
            two.extend((part.len() as u16).to_be_bytes());
            two.extend(part);
        }
        let got = client_hello(&two);
        assert_eq!(got, Hello::Complete(Some("split.example.com".into())));
    }

    #[test]
    fn cut_or_broken_hellos_never_panic() {
        let full = hello(Some("evil.example.com"));
        for cut in 0..full.len() {
            let got = client_hello(&full[..cut]);
            assert!(matches!(got, Hello::Partial | Hello::NotTls), "{cut}");
        }
        for i in 0..full.len() {
            for value in [0u8, 1, 0x7f, 0xff] {
                let mut bytes = full.clone();
                bytes[i] = value;
                let _ = client_hello(&bytes);
            }
        }
        assert_eq!(client_hello(b"GET / HTTP/1.1\r\n"), Hello::NotTls);
        assert_eq!(client_hello(&[]), Hello::NotTls);
    }

    #[test]
    fn a_name_with_odd_bytes_is_escaped() {
        let got = client_hello(&hello(Some("a\u{1b}b")));
        assert_eq!(got, Hello::Complete(Some("a\\x1bb".into())));
    }
}
