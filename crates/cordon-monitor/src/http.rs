//! The head of an HTTP/1 request, read from the first bytes of a
//! connection: method, target, `Host` and the body's length.

/// The longest method accepted.
const MAX_METHOD: usize = 16;

/// What the first bytes of a connection say about HTTP.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Head {
    /// Not an HTTP/1 request.
    NotHttp,
    /// The start of a request whose head is not whole yet.
    Partial,
    /// A whole request head.
    Complete(Request),
}

/// A request head.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Request {
    /// The method, e.g. `POST`.
    pub method: String,
    /// The request target, e.g. `/upload?x=1`.
    pub path: String,
    /// The `Host` header.
    pub host: Option<String>,
    /// The `Content-Length` header, when valid.
    pub content_length: Option<u64>,
    /// Whether the body is chunked.
    pub chunked: bool,
    /// Where the body starts in the bytes.
    pub body_start: usize,
}

/// Reads the request head at the start of `bytes`.
pub fn parse(bytes: &[u8]) -> Head {
    let method_end = bytes.iter().position(|&b| b == b' ');
    let method = &bytes[..method_end.unwrap_or(bytes.len())];
    let plausible = !method.is_empty()
        && method.len() <= MAX_METHOD
        && method.iter().all(|b| b.is_ascii_uppercase() || *b == b'-');
    if !plausible {
        return Head::NotHttp;
    }
    let Some(end) = find(bytes, b"\r\n\r\n") else {
        return Head::Partial;
    };
    let mut lines = bytes[..end].split(|&b| b == b'\n');
    let first = trim(lines.next().unwrap_or_default());
    let mut words = first.split(|&b| b == b' ');
    let (Some(_), Some(target), Some(version)) =
        (words.next(), words.next(), words.next())
    else {
        return Head::NotHttp;
    };
    if !version.starts_with(b"HTTP/1.") {
        return Head::NotHttp;
    }
    let mut request = Request {
        method: text(method),
        path: text(target),
        body_start: end + 4,
        ..Request::default()
    };
    for line in lines {
        header(&mut request, trim(line));
    }
    Head::Complete(request)
}

/// Takes what the request needs from one header line.
fn header(request: &mut Request, line: &[u8]) {
    let Some(colon) = line.iter().position(|&b| b == b':') else {
        return;
    };
    let name = &line[..colon];
    let value = trim_spaces(&line[colon + 1..]);
    if name.eq_ignore_ascii_case(b"host") {
        request.host.get_or_insert_with(|| text(value));
    } else if name.eq_ignore_ascii_case(b"content-length") {
        request.content_length =
            std::str::from_utf8(value).ok().and_then(|v| v.parse().ok());
    } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
        request.chunked = value
            .split(|&b| b == b',')
            .any(|v| trim_spaces(v).eq_ignore_ascii_case(b"chunked"));
    }
}

/// Where `needle` first occurs in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// `line` without its final `\r`.
fn trim(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn trim_spaces(value: &[u8]) -> &[u8] {
    value.trim_ascii()
}

/// Bytes as text: printable ASCII kept, the rest `\xNN`.
pub fn text(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii_graphic() || b == b' ' {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_post_head_is_read() {
        let bytes = b"POST /upload?a=1 HTTP/1.1\r\nHost: exfil.example.com\r\n\
            Content-Type: text/plain\r\ncontent-length:  12\r\n\r\nhello world!";
        let Head::Complete(request) = parse(bytes) else { panic!() };
        assert_eq!(request.method, "POST");
        assert_eq!(request.path, "/upload?a=1");
        assert_eq!(request.host.as_deref(), Some("exfil.example.com"));
        assert_eq!(request.content_length, Some(12));
        assert_eq!(&bytes[request.body_start..], b"hello world!");
    }

    #[test]
    fn partial_and_foreign_bytes_are_told_apart() {
        assert_eq!(parse(b"GET / HTTP/1.1\r\nHost: x\r\n"), Head::Partial);
        assert_eq!(parse(b"GET"), Head::Partial);
        assert_eq!(parse(b"\x16\x03\x01\x00"), Head::NotHttp);
        assert_eq!(parse(b"SSH-2.0-OpenSSH\r\n"), Head::NotHttp);
        assert_eq!(parse(b""), Head::NotHttp);
        assert_eq!(parse(b"GET /\r\n\r\n"), Head::NotHttp);
        assert_eq!(parse(b"GET / SPDY/3\r\n\r\n"), Head::NotHttp);
    }

    #[test]
    fn odd_headers_are_survived() {
        let bytes = b"PUT /x HTTP/1.0\r\nContent-Length: lots\r\n\
            Transfer-Encoding: gzip, chunked\r\nno colon\r\n\
            Host: \x1b[2J\r\n\r\n";
        let Head::Complete(request) = parse(bytes) else { panic!() };
        assert_eq!(request.content_length, None);
        assert!(request.chunked);
        assert_eq!(request.host.as_deref(), Some("\\x1b[2J"));
        for cut in 0..bytes.len() {
            let _ = parse(&bytes[..cut]);
        }
    }
}
