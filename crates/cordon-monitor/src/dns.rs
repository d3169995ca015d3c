//! DNS messages, as far as cordon's resolver needs them: the question
//! of a query, read with every length checked, and the answer built
//! for it (NXDOMAIN, no data, or one `A` record).
//!
//! The bytes come from the sandboxed command: nothing here trusts a
//! length or a count, and a message that does not parse gets no answer
//! or a `FORMERR`.

use std::net::Ipv4Addr;

/// The size of a DNS header.
const HEADER: usize = 12;

/// The longest name, in bytes on the wire (RFC 1035).
const MAX_NAME: usize = 255;

/// How many compression pointers a name may follow.
const MAX_JUMPS: usize = 16;

/// `QR`: the message is a response.
const FLAG_QR: u16 = 0x8000;

/// `RD` and `RA`: recursion desired, and available.
const FLAG_RD: u16 = 0x0100;
const FLAG_RA: u16 = 0x0080;

/// Response codes.
const FORMERR: u16 = 1;
const NXDOMAIN: u16 = 3;
const NOTIMP: u16 = 4;

/// The record types cordon answers about.
pub const TYPE_A: u16 = 1;

/// How long a sinkhole answer may be cached, in seconds.
const TTL: u32 = 60;

/// The question of a query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Question {
    /// The message id, echoed in the answer.
    pub id: u16,
    /// The flags of the query.
    pub flags: u16,
    /// The name, lowercase, without the final dot; bytes other than
    /// letters, digits, `-` and `_` written `\xNN`.
    pub name: String,
    /// The record type.
    pub qtype: u16,
    /// The question as it was on the wire, to echo.
    raw: Vec<u8>,
}

/// Why a message got no ordinary answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Too short to have a header: no answer at all.
    Drop,
    /// A response, not a query: no answer.
    NotQuery,
    /// Not a standard query: `NOTIMP`, with this id and these flags.
    NotImplemented(u16, u16),
    /// A header with a broken question: `FORMERR`.
    Malformed(u16, u16),
}

/// What cordon answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// The name does not exist.
    NxDomain,
    /// The name exists, with no record of this type.
    NoData,
    /// One `A` record.
    A(Ipv4Addr),
}

impl Answer {
    /// The word the events use.
    pub fn describe(self) -> String {
        match self {
            Answer::NxDomain => "nxdomain".into(),
            Answer::NoData => "nodata".into(),
            Answer::A(ip) => ip.to_string(),
        }
    }
}

/// Reads the first question of `message`.
pub fn parse(message: &[u8]) -> Result<Question, Refusal> {
    let Some(header) = message.get(..HEADER) else {
        return Err(Refusal::Drop);
    };
    let id = u16::from_be_bytes([header[0], header[1]]);
    let flags = u16::from_be_bytes([header[2], header[3]]);
    let questions = u16::from_be_bytes([header[4], header[5]]);
    if flags & FLAG_QR != 0 {
        return Err(Refusal::NotQuery);
    }
    if (flags >> 11) & 0xf != 0 {
        return Err(Refusal::NotImplemented(id, flags));
    }
    if questions == 0 {
        return Err(Refusal::Malformed(id, flags));
    }
    let (name, end) =
        read_name(message, HEADER).ok_or(Refusal::Malformed(id, flags))?;
    let fixed =
        message.get(end..end + 4).ok_or(Refusal::Malformed(id, flags))?;
    let qtype = u16::from_be_bytes([fixed[0], fixed[1]]);
    let raw = message[HEADER..end + 4].to_vec();
    Ok(Question { id, flags, name, qtype, raw })
}

/// Reads the name at `at`: the name as text and where the bytes after
/// it start (after the first pointer, when compressed).
fn read_name(message: &[u8], mut at: usize) -> Option<(String, usize)> {
    let mut name = String::new();
    let mut wire = 0usize;
    let mut jumps = 0;
    let mut end = None;
    loop {
        let len = usize::from(*message.get(at)?);
        match len & 0xc0 {
            0x00 if len == 0 => {
                return Some((name, end.unwrap_or(at + 1)));
            }
            0x00 => {
                let label = message.get(at + 1..at + 1 + len)?;
                wire += len + 1;
                if wire > MAX_NAME {
                    return None;
                }
                if !name.is_empty() {
                    name.push('.');
                }
                push_label(&mut name, label);
                at += 1 + len;
            }
            0xc0 => {
                let low = usize::from(*message.get(at + 1)?);
                jumps += 1;
                if jumps > MAX_JUMPS {
                    return None;
                }
                end.get_or_insert(at + 2);
                at = ((len & 0x3f) << 8) | low;
            }
            _ => return None,
        }
    }
}

/// Appends a label, lowercase, escaping what is not a hostname byte.
fn push_label(name: &mut String, label: &[u8]) {
    for &byte in label {
        let b = byte.to_ascii_lowercase();
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
            name.push(char::from(b));
        } else {
            name.push_str(&format!("\\x{b:02x}"));
        }
    }
}

/// The name of record type `qtype`, or its number.
pub fn type_name(qtype: u16) -> String {
    let name = match qtype {
        1 => "A",
        2 => "NS",
        5 => "CNAME",
        6 => "SOA",
        12 => "PTR",
        15 => "MX",
        16 => "TXT",
        28 => "AAAA",
        33 => "SRV",
        64 => "SVCB",
        65 => "HTTPS",
        255 => "ANY",
        other => return other.to_string(),
    };
    name.to_owned()
}

/// The response to `question`.
pub fn respond(question: &Question, answer: Answer) -> Vec<u8> {
    let (rcode, record) = match answer {
        Answer::NxDomain => (NXDOMAIN, None),
        Answer::NoData => (0, None),
        Answer::A(ip) => (0, Some(ip)),
    };
    let mut out = header(question.id, question.flags, rcode);
    out[5] = 1;
    out[7] = u8::from(record.is_some());
    out.extend(&question.raw);
    if let Some(ip) = record {
        // The name as a pointer to the question's, at offset 12.
        out.extend([0xc0, 0x0c]);
        out.extend(TYPE_A.to_be_bytes());
        out.extend(1u16.to_be_bytes());
        out.extend(TTL.to_be_bytes());
        out.extend(4u16.to_be_bytes());
        out.extend(ip.octets());
    }
    out
}

/// The response to a message refused with `refusal`, if it gets one.
pub fn refuse(refusal: Refusal) -> Option<Vec<u8>> {
    match refusal {
        Refusal::Drop | Refusal::NotQuery => None,
        Refusal::NotImplemented(id, flags) => Some(header(id, flags, NOTIMP)),
        Refusal::Malformed(id, flags) => Some(header(id, flags, FORMERR)),
    }
}

/// A response header with no record: the query's opcode and `RD`.
fn header(id: u16, query_flags: u16, rcode: u16) -> Vec<u8> {
    let opcode = query_flags & 0x7800;
    let flags = FLAG_QR | opcode | (query_flags & FLAG_RD) | FLAG_RA | rcode;
    let mut out = Vec::with_capacity(64);
    out.extend(id.to_be_bytes());
    out.extend(flags.to_be_bytes());
    out.extend([0u8; 8]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A query for `name` of type `qtype`, as a resolver sends it.
    fn query(name: &str, qtype: u16) -> Vec<u8> {
        let mut out = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        for label in name.split('.') {
            out.push(label.len() as u8);
            out.extend(label.as_bytes());
        }
        out.push(0);
        out.extend(qtype.to_be_bytes());
        out.extend(1u16.to_be_bytes());
        out
    }

    #[test]
    fn a_query_is_read_and_answered_nxdomain() {
        let q = parse(&query("Exfil.Example.COM", 28)).unwrap();
        assert_eq!((q.id, q.qtype), (0x1234, 28));
        assert_eq!(q.name, "exfil.example.com");
        assert_eq!(type_name(q.qtype), "AAAA");
        let answer = respond(&q, Answer::NxDomain);
        assert_eq!(&answer[..2], &[0x12, 0x34]);
        assert_eq!(answer[3] & 0x0f, 3, "rcode");
        assert_eq!(answer[2] & 0x81, 0x81, "QR and RD");
        assert_eq!((answer[5], answer[7]), (1, 0));
        assert_eq!(&answer[12..], &query("Exfil.Example.COM", 28)[12..]);
    }

    #[test]
    fn a_sinkhole_answer_holds_one_a_record() {
        let q = parse(&query("evil.example.com", 1)).unwrap();
        let answer = respond(&q, Answer::A(Ipv4Addr::new(127, 77, 0, 1)));
        assert_eq!(answer[3] & 0x0f, 0);
        assert_eq!(answer[7], 1);
        assert_eq!(&answer[answer.len() - 4..], &[127, 77, 0, 1]);
        let record = &answer[answer.len() - 16..];
        assert_eq!(&record[..4], &[0xc0, 0x0c, 0, 1]);
    }

    #[test]
    fn odd_bytes_in_names_are_escaped() {
        let mut q = query("a.b", 16);
        q[13] = b'\n';
        assert_eq!(parse(&q).unwrap().name, "\\x0a.b");
    }

    #[test]
    fn malformed_messages_are_refused_without_panic() {
        assert_eq!(parse(&[]), Err(Refusal::Drop));
        assert_eq!(parse(&[0; 11]), Err(Refusal::Drop));
        let full = query("exfil.example.com", 1);
        for cut in HEADER..full.len() {
            let got = parse(&full[..cut]);
            assert!(
                matches!(got, Err(Refusal::Malformed(0x1234, _))),
                "{cut}"
            );
        }
        // A label longer than the message.
        let mut long = full.clone();
        long[12] = 63;
        long.truncate(20);
        assert!(parse(&long).is_err());
        // No question.
        let mut empty = full.clone();
        empty[5] = 0;
        assert!(matches!(parse(&empty), Err(Refusal::Malformed(..))));
        // A response is not answered.
        let mut response = full.clone();
        response[2] |= 0x80;
        assert_eq!(parse(&response), Err(Refusal::NotQuery));
        // An inverse query is not implemented.
        let mut inverse = full.clone();
        inverse[2] |= 0x08;
        let refusal = parse(&inverse).unwrap_err();
        let answer = refuse(refusal).unwrap();
        assert_eq!(answer[3] & 0x0f, 4);
    }

    #[test]
    fn compression_loops_and_long_names_are_refused() {
        let mut looped = vec![0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        looped.extend([0xc0, 12, 0, 1, 0, 1]);
        assert!(matches!(parse(&looped), Err(Refusal::Malformed(..))));
        let name = vec!["a".repeat(63); 5].join(".");
        assert!(parse(&query(&name, 1)).is_err());
        let fine = vec!["a".repeat(63); 3].join(".");
        assert!(parse(&query(&fine, 1)).is_ok());
        // Reserved label bits.
        let mut reserved = query("a.b", 1);
        reserved[12] = 0x41;
        assert!(parse(&reserved).is_err());
    }

    #[test]
    fn every_prefix_and_flip_of_a_query_parses_or_is_refused() {
        let full = query("www.exfil.example.com", 1);
        for i in 0..full.len() {
            for value in [0u8, 0x3f, 0x40, 0xc0, 0xff] {
                let mut bytes = full.clone();
                bytes[i] = value;
                if let Ok(q) = parse(&bytes) {
                    let _ = respond(&q, Answer::NxDomain);
                }
            }
        }
    }
}
