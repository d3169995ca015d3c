//! The server name (SNI) of a TLS ClientHello, read without decrypting
//! anything: the ClientHello is the one message of a TLS connection
//! that travels in clear, and it names the host the client means.

/// The most bytes of handshake the proxy reads to find the ClientHello.
pub const MAX_HELLO: usize = 64 * 1024;

/// What the bytes read so far show.
#[derive(Debug, PartialEq, Eq)]
pub enum Hello {
    /// Not complete yet: read more.
    Incomplete,
    /// Not a TLS ClientHello.
    NotTls,
    /// A whole ClientHello, with its server name if it has one.
    Complete(Option<String>),
}

/// Reads the ClientHello at the start of `buf`, which may span several
/// TLS records.
pub fn parse(buf: &[u8]) -> Hello {
    let mut handshake = Vec::new();
    let mut rest = buf;
    loop {
        if rest.len() < 5 {
            return Hello::Incomplete;
        }
        if rest[0] != 22 || rest[1] != 3 {
            return Hello::NotTls;
        }
        let len = usize::from(u16::from_be_bytes([rest[3], rest[4]]));
        if rest.len() < 5 + len {
            return Hello::Incomplete;
        }
        handshake.extend_from_slice(&rest[5..5 + len]);
        rest = &rest[5 + len..];
        if handshake.len() < 4 {
            continue;
        }
        if handshake[0] != 1 {
            return Hello::NotTls;
        }
        let body_len = u24(&handshake[1..4]);
        if handshake.len() >= 4 + body_len {
            let body = &handshake[4..4 + body_len];
            return match server_name(body) {
                Some(name) => Hello::Complete(name),
                None => Hello::NotTls,
            };
        }
    }
}

fn u24(b: &[u8]) -> usize {
    (usize::from(b[0]) << 16) | (usize::from(b[1]) << 8) | usize::from(b[2])
}

/// A cursor over a ClientHello's body.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }

    fn u8_len(&mut self) -> Option<&'a [u8]> {
        let n = usize::from(self.take(1)?[0]);
        self.take(n)
    }

    fn u16(&mut self) -> Option<u16> {
        let b = self.take(2)?;
        Some(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u16_len(&mut self) -> Option<&'a [u8]> {
        let n = usize::from(self.u16()?);
        self.take(n)
    }
}

/// The server name of a ClientHello body: `Some(None)` when it has
/// none, `None` when the body is malformed.
fn server_name(body: &[u8]) -> Option<Option<String>> {
    let mut r = Reader(body);
    r.take(2 + 32)?; // version, random
    r.u8_len()?; // session id
    r.u16_len()?; // cipher suites
    r.u8_len()?; // compression methods
    if r.0.is_empty() {
        return Some(None);
    }
    let mut extensions = Reader(r.u16_len()?);
    while !extensions.0.is_empty() {
        let kind = extensions.u16()?;
        let data = extensions.u16_len()?;
        if kind == 0 {
            return host_name(data).map(Some);
        }
    }
    Some(None)
}

/// The `host_name` entry of a `server_name` extension.
fn host_name(data: &[u8]) -> Option<String> {
    let mut list = Reader(Reader(data).u16_len()?);
    while !list.0.is_empty() {
        let kind = list.take(1)?[0];
        let name = list.u16_len()?;
        if kind == 0 {
            return std::str::from_utf8(name).ok().map(str::to_string);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal ClientHello with `name` as its SNI, split into records
    /// of at most `chunk` bytes of handshake.
    fn hello(name: Option<&str>, chunk: usize) -> Vec<u8> {
        let mut ext = Vec::new();
        if let Some(name) = name {
            let entry_len = 3 + name.len();
            ext.extend_from_slice(&0u16.to_be_bytes());
            ext.extend_from_slice(&((entry_len + 2) as u16).to_be_bytes());
            ext.extend_from_slice(&(entry_len as u16).to_be_bytes());
            ext.push(0);
            ext.extend_from_slice(&(name.len() as u16).to_be_bytes());
            ext.extend_from_slice(name.as_bytes());
        }
        let mut body = vec![3, 3];
        body.extend_from_slice(&[7; 32]);
        body.push(0);
        body.extend_from_slice(&[0, 2, 0x13, 0x01]);
        body.extend_from_slice(&[1, 0]);
        body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
        body.extend_from_slice(&ext);
        let mut handshake = vec![1];
        handshake.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        handshake.extend_from_slice(&body);
        let mut out = Vec::new();
        for part in handshake.chunks(chunk) {
            out.extend_from_slice(&[22, 3, 1]);
            out.extend_from_slice(&(part.len() as u16).to_be_bytes());
            out.extend_from_slice(part);
        }
        out
    }

    #[test]
    fn reads_the_server_name() {
        let bytes = hello(Some("registry.test"), 4096);
        assert_eq!(
            parse(&bytes),
            Hello::Complete(Some("registry.test".into()))
        );
        assert_eq!(parse(&hello(None, 4096)), Hello::Complete(None));
    }

    #[test]
    fn reassembles_a_hello_split_over_records() {
        let bytes = hello(Some("a.example.org"), 10);
        assert_eq!(
            parse(&bytes),
            Hello::Complete(Some("a.example.org".into()))
        );
        for cut in 0..bytes.len() {
            assert_eq!(parse(&bytes[..cut]), Hello::Incomplete, "cut {cut}");
        }
    }

    #[test]
    fn other_bytes_are_not_tls() {
        assert_eq!(parse(b"GET / HTTP/1.1\r\n\r\n"), Hello::NotTls);
        assert_eq!(parse(b"SSH-2.0-OpenSSH_9.6\r\n"), Hello::NotTls);
        let mut bad = hello(Some("x.test"), 4096);
        bad[5] = 2; // a ServerHello
        assert_eq!(parse(&bad), Hello::NotTls);
    }
}
