//! Which addresses belong to the host's own networks rather than the
//! internet: where a name must not lead unless the user said so.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why an address is internal: the kind of network it belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Internal {
    /// `0.0.0.0/8` or `::`: "this host", which reaches the machine
    /// itself.
    Unspecified,
    /// `127.0.0.0/8` or `::1`: the machine itself.
    Loopback,
    /// `10.0.0.0/8`, `172.16.0.0/12`, `192.168.0.0/16`, the unique local
    /// `fc00::/7` and the old site-local `fec0::/10`.
    Private,
    /// `169.254.0.0/16` or `fe80::/10`, where clouds serve instance
    /// metadata and credentials.
    LinkLocal,
    /// `100.64.0.0/10`, the shared address space of carrier-grade NAT,
    /// also used inside clouds and VPNs.
    Shared,
    /// `224.0.0.0/4` or `ff00::/8`.
    Multicast,
    /// `255.255.255.255`.
    Broadcast,
}

impl Internal {
    /// The kind's name, as reasons say it: `loopback`, `private`, ...
    pub fn name(self) -> &'static str {
        match self {
            Internal::Unspecified => "unspecified",
            Internal::Loopback => "loopback",
            Internal::Private => "private",
            Internal::LinkLocal => "link-local",
            Internal::Shared => "shared (carrier-grade nat)",
            Internal::Multicast => "multicast",
            Internal::Broadcast => "broadcast",
        }
    }
}

impl fmt::Display for Internal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The kind of internal network `ip` belongs to, or `None` for an
/// address of the internet. An IPv6 address that carries an IPv4 one
/// (`::ffff:127.0.0.1`, or NAT64's `64:ff9b::/96`) is judged by the
/// IPv4 address it leads to.
pub fn internal(ip: IpAddr) -> Option<Internal> {
    match ip {
        IpAddr::V4(v4) => internal_v4(v4),
        IpAddr::V6(v6) => internal_v6(v6),
    }
}

fn internal_v4(ip: Ipv4Addr) -> Option<Internal> {
    let [a, b, ..] = ip.octets();
    if a == 0 {
        Some(Internal::Unspecified)
    } else if ip.is_loopback() {
        Some(Internal::Loopback)
    } else if ip.is_private() {
        Some(Internal::Private)
    } else if ip.is_link_local() {
        Some(Internal::LinkLocal)
    } else if a == 100 && (b & 0xc0) == 64 {
        Some(Internal::Shared)
    } else if ip.is_multicast() {
        Some(Internal::Multicast)
    } else if ip.is_broadcast() {
        Some(Internal::Broadcast)
    } else {
        None
    }
}

fn internal_v6(ip: Ipv6Addr) -> Option<Internal> {
    if let Some(v4) = embedded_v4(ip) {
        return internal_v4(v4);
    }
    let first = ip.segments()[0];
    if ip.is_unspecified() {
        Some(Internal::Unspecified)
    } else if ip.is_loopback() {
        Some(Internal::Loopback)
    } else if (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfec0 {
        Some(Internal::Private)
    } else if (first & 0xffc0) == 0xfe80 {
        Some(Internal::LinkLocal)
    } else if ip.is_multicast() {
        Some(Internal::Multicast)
    } else {
        None
    }
}

/// The IPv4 address an IPv6 one leads to: IPv4-mapped
/// (`::ffff:a.b.c.d`) or NAT64's well-known prefix (`64:ff9b::a.b.c.d`).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    let s = ip.segments();
    let nat64 = s[..6] == [0x64, 0xff9b, 0, 0, 0, 0];
    nat64.then(|| {
        let [hi, lo] = [s[6], s[7]];
        Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(text: &str) -> Option<Internal> {
        internal(text.parse().unwrap())
    }

    #[test]
    fn the_hosts_own_networks_are_internal() {
        for (address, want) in [
            ("0.0.0.0", Internal::Unspecified),
            ("0.1.2.3", Internal::Unspecified),
            ("::", Internal::Unspecified),
            ("127.0.0.1", Internal::Loopback),
            ("127.255.255.254", Internal::Loopback),
            ("::1", Internal::Loopback),
            ("10.0.0.1", Internal::Private),
            ("172.16.0.1", Internal::Private),
            ("172.31.255.255", Internal::Private),
            ("192.168.1.1", Internal::Private),
            ("fc00::1", Internal::Private),
            ("fd12:3456::1", Internal::Private),
            ("fec0::1", Internal::Private),
            ("169.254.169.254", Internal::LinkLocal),
            ("fe80::1", Internal::LinkLocal),
            ("febf::1", Internal::LinkLocal),
            ("100.64.0.1", Internal::Shared),
            ("100.127.255.255", Internal::Shared),
            ("224.0.0.1", Internal::Multicast),
            ("239.255.255.250", Internal::Multicast),
            ("ff02::1", Internal::Multicast),
            ("255.255.255.255", Internal::Broadcast),
            ("::ffff:127.0.0.1", Internal::Loopback),
            ("::ffff:10.1.2.3", Internal::Private),
            ("::ffff:169.254.169.254", Internal::LinkLocal),
            ("::ffff:0.0.0.0", Internal::Unspecified),
            ("64:ff9b::a9fe:a9fe", Internal::LinkLocal),
            ("64:ff9b::7f00:1", Internal::Loopback),
        ] {
            assert_eq!(kind(address), Some(want), "{address}");
        }
    }

    #[test]
    fn addresses_of_the_internet_are_not() {
        for address in [
            "8.8.8.8",
            "1.1.1.1",
            "9.255.255.255",
            "11.0.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.167.255.255",
            "192.169.0.0",
            "169.253.255.255",
            "169.255.0.0",
            "100.63.255.255",
            "100.128.0.0",
            "126.255.255.255",
            "128.0.0.0",
            "223.255.255.255",
            "2001:4860:4860::8888",
            "2606:4700::1111",
            "fbff::1",
            "fe7f::1",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "::2",
        ] {
            assert_eq!(kind(address), None, "{address}");
        }
    }

    #[test]
    fn kinds_are_named_for_reasons() {
        assert_eq!(Internal::Loopback.to_string(), "loopback");
        assert_eq!(Internal::LinkLocal.name(), "link-local");
    }
}
