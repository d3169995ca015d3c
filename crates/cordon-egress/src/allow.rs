//! Which destinations may be reached: the allow list.
//!
//! An entry is `HOST[:PORT]`:
//!
//! - `HOST` is a DNS name (`registry.npmjs.org`), a wildcard
//!   (`*.example.org`: every name below `example.org` at any depth,
//!   `a.example.org` and `a.b.example.org`, but not `example.org`
//!   itself; list both to allow both), or an IP address (`10.0.0.7`,
//!   `[2001:db8::1]`). Names are compared without case and without a
//!   trailing dot.
//! - `PORT` is a number, or `*` for every port. Without a port the entry
//!   allows the web's ports, 443 and 80, and no other: a registry on
//!   another port must be named with it (`registry.test:8080`).
//!
//! A destination given as a raw IP address is allowed only by an entry
//! with that address: no name, and no wildcard, allows an address. A
//! name whose last label starts with a digit (`127.1`, `0x7f.1`,
//! `2130706433`) is refused as an address in disguise, because system
//! resolvers read such names as addresses.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use crate::error::Error;

/// A destination host: a name or an address.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Host {
    /// A DNS name, lowercase, without a trailing dot.
    Name(String),
    /// A raw IP address.
    Ip(IpAddr),
}

impl Host {
    /// Reads a host as a client gave it: a name or an address (IPv6 in
    /// brackets or bare).
    pub fn parse(text: &str) -> Result<Host, String> {
        let bare = text
            .strip_prefix('[')
            .and_then(|t| t.strip_suffix(']'))
            .unwrap_or(text);
        if let Ok(ip) = bare.parse::<IpAddr>() {
            return Ok(Host::Ip(ip));
        }
        let name = text.strip_suffix('.').unwrap_or(text).to_ascii_lowercase();
        check_name(&name)?;
        Ok(Host::Name(name))
    }

    /// The host as written in a URL or a policy (`[::1]` for IPv6).
    pub fn to_url_form(&self) -> String {
        match self {
            Host::Name(name) => name.clone(),
            Host::Ip(IpAddr::V6(ip)) => format!("[{ip}]"),
            Host::Ip(ip) => ip.to_string(),
        }
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_url_form())
    }
}

/// Checks a lowercase DNS name: labels of letters, digits, `-` and `_`,
/// at most 63 bytes each and 253 in all, the last starting with a
/// letter.
fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 253 {
        return Err(format!("`{name}` is not a host name"));
    }
    for label in name.split('.') {
        let valid = !label.is_empty()
            && label.len() <= 63
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !valid {
            return Err(format!("`{name}` is not a host name"));
        }
    }
    let last = name.rsplit('.').next().unwrap_or_default();
    if !last.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Err(format!("`{name}` reads as an ip address, not a name"));
    }
    Ok(())
}

/// The host part of an allow-list entry.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Pattern {
    /// One name.
    Exact(String),
    /// Every name ending in `.` and this suffix.
    Below(String),
    /// One address.
    Ip(IpAddr),
}

impl Pattern {
    fn matches(&self, host: &Host) -> bool {
        match (self, host) {
            (Pattern::Exact(want), Host::Name(name)) => want == name,
            (Pattern::Below(suffix), Host::Name(name)) => name
                .strip_suffix(suffix.as_str())
                .is_some_and(|rest| rest.len() > 1 && rest.ends_with('.')),
            (Pattern::Ip(want), Host::Ip(ip)) => want == ip,
            _ => false,
        }
    }
}

/// The ports of an allow-list entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ports {
    /// 443 and 80: no port was given.
    Web,
    /// Every port: `:*`.
    Any,
    /// One port.
    One(u16),
}

impl Ports {
    fn matches(self, port: u16) -> bool {
        match self {
            Ports::Web => port == 443 || port == 80,
            Ports::Any => true,
            Ports::One(want) => want == port,
        }
    }
}

/// One allow-list entry, `HOST[:PORT]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pattern: Pattern,
    ports: Ports,
}

impl Rule {
    /// Whether this entry allows `host` on `port`.
    pub fn allows(&self, host: &Host, port: u16) -> bool {
        self.pattern.matches(host) && self.ports.matches(port)
    }

    /// Whether this entry allows `host` on some port.
    pub fn allows_host(&self, host: &Host) -> bool {
        self.pattern.matches(host)
    }
}

impl FromStr for Rule {
    type Err = Error;

    fn from_str(entry: &str) -> Result<Rule, Error> {
        let invalid = |reason: String| Error::InvalidRule {
            entry: entry.to_string(),
            reason,
        };
        let (host, port) = split_host_port(entry.trim())
            .ok_or_else(|| invalid("expected HOST[:PORT]".into()))?;
        let ports = match port {
            None => Ports::Web,
            Some("*") => Ports::Any,
            Some(port) => match port.parse::<u16>() {
                Ok(port) if port > 0 => Ports::One(port),
                _ => return Err(invalid(format!("`{port}` is not a port"))),
            },
        };
        let pattern = match host.strip_prefix("*.") {
            Some(suffix) => match Host::parse(suffix).map_err(invalid)? {
                Host::Name(name) => Pattern::Below(name),
                Host::Ip(_) => {
                    return Err(invalid("a wildcard needs a name".into()));
                }
            },
            None if host.contains('*') => {
                return Err(invalid(
                    "a wildcard is only allowed as `*.` before a name".into(),
                ));
            }
            None => match Host::parse(host).map_err(invalid)? {
                Host::Name(name) => Pattern::Exact(name),
                Host::Ip(ip) => Pattern::Ip(ip),
            },
        };
        Ok(Rule { pattern, ports })
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.pattern {
            Pattern::Exact(name) => f.write_str(name)?,
            Pattern::Below(suffix) => write!(f, "*.{suffix}")?,
            Pattern::Ip(ip) => f.write_str(&Host::Ip(*ip).to_url_form())?,
        }
        match self.ports {
            Ports::Web => Ok(()),
            Ports::Any => f.write_str(":*"),
            Ports::One(port) => write!(f, ":{port}"),
        }
    }
}

/// Splits `host:port`, `host`, `[v6]:port`, `[v6]` or a bare IPv6
/// address; `None` when the text is empty or the brackets do not close.
pub fn split_host_port(text: &str) -> Option<(&str, Option<&str>)> {
    if text.is_empty() {
        return None;
    }
    if text.starts_with('[') {
        let end = text.find(']')?;
        let (host, rest) = text.split_at(end + 1);
        return match rest {
            "" => Some((host, None)),
            _ => Some((host, Some(rest.strip_prefix(':')?))),
        };
    }
    if text.parse::<IpAddr>().is_ok() {
        return Some((text, None));
    }
    match text.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() => Some((host, Some(port))),
        Some(_) => None,
        None => Some((text, None)),
    }
}

/// What the proxy lets through.
#[derive(Clone, Debug)]
pub enum Access {
    /// Only what an entry of the list allows.
    List(Vec<Rule>),
    /// Every destination, each recorded: for learning what a command
    /// needs.
    Everything,
}

impl Access {
    /// An allow list from entries as written (`HOST[:PORT]`).
    pub fn list<S: AsRef<str>>(entries: &[S]) -> Result<Access, Error> {
        let rules = entries
            .iter()
            .map(|entry| entry.as_ref().parse())
            .collect::<Result<_, _>>()?;
        Ok(Access::List(rules))
    }

    /// Decides on `host` at `port`: `Ok` with why it is allowed, or
    /// `Err` with why not.
    pub fn check(&self, host: &Host, port: u16) -> Result<String, String> {
        let rules = match self {
            Access::Everything => return Ok("learning: all allowed".into()),
            Access::List(rules) => rules,
        };
        if let Some(rule) = rules.iter().find(|r| r.allows(host, port)) {
            return Ok(format!("allowed by `{rule}`"));
        }
        match host {
            Host::Ip(_) => Err("a raw ip address that no entry allows".into()),
            Host::Name(_) if rules.iter().any(|r| r.allows_host(host)) => {
                Err(format!("port {port} is not allowed for this host"))
            }
            Host::Name(_) => Err("not in the allow list".into()),
        }
    }

    /// Whether the in-sandbox resolver should answer `name`: some entry
    /// allows it on some port. Addresses in disguise and invalid names
    /// are never answered.
    pub fn allows_name(&self, name: &str) -> bool {
        match Host::parse(name) {
            Ok(host @ Host::Name(_)) => match self {
                Access::Everything => true,
                Access::List(rules) => {
                    rules.iter().any(|rule| rule.allows_host(&host))
                }
            },
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(text: &str) -> Host {
        Host::parse(text).unwrap()
    }

    #[test]
    fn entries_read_and_print_back() {
        for entry in [
            "registry.npmjs.org",
            "registry.test:8080",
            "*.example.org",
            "*.example.org:*",
            "10.0.0.7:443",
            "[2001:db8::1]:443",
            "[::1]",
        ] {
            let rule: Rule = entry.parse().unwrap();
            assert_eq!(rule.to_string(), entry);
        }
        let rule: Rule = "Registry.Test.:8080".parse().unwrap();
        assert_eq!(rule.to_string(), "registry.test:8080");
    }

    #[test]
    fn bad_entries_say_why() {
        for (entry, why) in [
            ("", "HOST[:PORT]"),
            ("*", "wildcard"),
            ("a.*.org", "wildcard"),
            ("*.10.0.0.1", "wildcard needs a name"),
            ("host:http", "not a port"),
            ("host:0", "not a port"),
            ("host:70000", "not a port"),
            ("127.1", "ip address"),
            ("bad host", "not a host name"),
            ("[::1", "HOST[:PORT]"),
        ] {
            let err = entry.parse::<Rule>().unwrap_err().to_string();
            assert!(err.contains(why), "{entry}: {err}");
            assert!(err.contains(&format!("`{entry}`")), "{err}");
        }
    }

    #[test]
    fn a_wildcard_matches_subdomains_not_the_apex() {
        let access = Access::list(&["*.example.org"]).unwrap();
        assert!(access.check(&host("a.example.org"), 443).is_ok());
        assert!(access.check(&host("a.b.example.org"), 80).is_ok());
        assert!(access.check(&host("example.org"), 443).is_err());
        assert!(access.check(&host("badexample.org"), 443).is_err());
        assert!(access.check(&host("example.org.evil.test"), 443).is_err());
    }

    #[test]
    fn an_entry_without_port_allows_the_web_ports_only() {
        let access = Access::list(&["registry.test"]).unwrap();
        assert!(access.check(&host("registry.test"), 443).is_ok());
        assert!(access.check(&host("REGISTRY.test."), 80).is_ok());
        let err = access.check(&host("registry.test"), 22).unwrap_err();
        assert!(err.contains("port 22"), "{err}");

        let any = Access::list(&["registry.test:*"]).unwrap();
        assert!(any.check(&host("registry.test"), 22).is_ok());
        let one = Access::list(&["registry.test:8080"]).unwrap();
        assert!(one.check(&host("registry.test"), 8080).is_ok());
        assert!(one.check(&host("registry.test"), 443).is_err());
    }

    #[test]
    fn raw_addresses_need_their_own_entry() {
        let access = Access::list(&["*.example.org", "10.0.0.7"]).unwrap();
        assert!(access.check(&host("10.0.0.7"), 443).is_ok());
        let err = access.check(&host("10.0.0.8"), 443).unwrap_err();
        assert!(err.contains("raw ip"), "{err}");
        assert!(Host::parse("0x7f.1").is_err());
        assert!(Host::parse("2130706433").is_err());
        assert_eq!(host("[::1]"), Host::Ip("::1".parse().unwrap()));
    }

    #[test]
    fn the_resolver_answers_allowed_names_only() {
        let access =
            Access::list(&["registry.test:8080", "*.example.org"]).unwrap();
        assert!(access.allows_name("registry.test"));
        assert!(access.allows_name("cdn.example.org."));
        assert!(!access.allows_name("example.org"));
        assert!(!access.allows_name("evil.test"));
        assert!(!access.allows_name("127.0.0.1"));
        assert!(Access::Everything.allows_name("anything.test"));
        assert!(!Access::Everything.allows_name("1.2.3.4"));
    }

    #[test]
    fn host_and_port_split() {
        assert_eq!(
            split_host_port("a.test:443"),
            Some(("a.test", Some("443")))
        );
        assert_eq!(split_host_port("a.test"), Some(("a.test", None)));
        assert_eq!(split_host_port("[::1]:80"), Some(("[::1]", Some("80"))));
        assert_eq!(split_host_port("::1"), Some(("::1", None)));
        assert_eq!(split_host_port(":80"), None);
    }
}
