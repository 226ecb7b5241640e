//! Which destinations outbound HTTP may reach (webhook endpoints, later partner post URLs),
//! against server-side request forgery: a private, loopback, link-local, multicast or otherwise
//! non-global address is refused unless an `outbound.allow_cidrs` entry allows it. This module
//! checks a URL's text when it is configured; the delivery client in `vouch_jobs` applies the
//! same policy to every address a name resolves to at connect time.

use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboundPolicy {
    /// Networks allowed even though they are not public (e.g. `127.0.0.0/8` in tests).
    pub allow: Vec<IpNet>,
}

impl OutboundPolicy {
    /// Parses `127.0.0.0/8, ::1/128` (comma or whitespace separated).
    pub fn parse(cidrs: &str) -> Result<Self, String> {
        let allow = cidrs
            .split([',', ' ', '\n'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<IpNet>()
                    .map_err(|_| format!("`{s}` is not a network such as 10.0.0.0/8 or ::1/128"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { allow })
    }

    pub fn permits(&self, ip: IpAddr) -> bool {
        is_global(ip) || self.allow.iter().any(|net| net.contains(&ip))
    }
}

/// Whether an address is reachable on the public internet (what `IpAddr::is_global` will say
/// once it is stable).
pub fn is_global(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_global_v4(v4),
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Some(v4) => is_global_v4(v4),
            None => is_global_v6(v6),
        },
    }
}

/// The IPv4 address an IPv6 address stands for, where a router or the operating system would
/// reach that IPv4 address: IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`,
/// deprecated but still routed by some stacks), NAT64's well-known prefix (`64:ff9b::/96`) and
/// 6to4 (`2002:aabb:ccdd::/48`). `[::127.0.0.1]` is loopback, whatever its spelling.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let v4 = |high: u16, low: u16| {
        let [a, b] = high.to_be_bytes();
        let [c, d] = low.to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    };
    if let Some(mapped) = ip.to_ipv4_mapped() {
        Some(mapped)
    } else if s[..6] == [0; 6] || s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        Some(v4(s[6], s[7]))
    } else if s[0] == 0x2002 {
        Some(v4(s[1], s[2]))
    } else {
        None
    }
}

fn is_global_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_unspecified()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || a >= 240) // reserved
}

fn is_global_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique local
        || (first & 0xffc0) == 0xfe80 // link-local
        || (first == 0x2001 && ip.segments()[1] == 0x0db8) // documentation
        || (first == 0x2001 && ip.segments()[1] == 0) // Teredo: the IPv4 inside is obscured
        || first == 0x0064) // local-use translation prefix (the well-known one is read above)
}

/// Checks a URL's text: http(s), a host, and — when the host is a literal address — the policy.
pub fn check_url(url: &str, policy: &OutboundPolicy) -> Result<url::Url, String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("is not a valid URL ({e})"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err("must start with https:// or http://".into());
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("must not contain a user name or password".into());
    }
    match parsed.host() {
        None => return Err("must name a host".into()),
        Some(url::Host::Ipv4(ip)) if !policy.permits(IpAddr::V4(ip)) => {
            return Err(format!("points to {ip}, which is not a public address"));
        }
        Some(url::Host::Ipv6(ip)) if !policy.permits(IpAddr::V6(ip)) => {
            return Err(format!("points to {ip}, which is not a public address"));
        }
        Some(_) => {}
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_addresses() {
        for public in ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"] {
            assert!(is_global(public.parse().expect("ip")), "{public}");
        }
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "ff02::1",
            "::",
            // IPv4 inside IPv6, by the IPv4 address it carries.
            "::127.0.0.1",
            "0:0:0:0:0:0:7f00:1",
            "::10.0.0.1",
            "64:ff9b::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::1",
            "2002:7f00:1::",
            "2002:c0a8:101::1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
        ] {
            assert!(!is_global(private.parse().expect("ip")), "{private}");
        }
        for public in ["::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1"] {
            assert!(is_global(public.parse().expect("ip")), "{public}");
        }
    }

    #[test]
    fn policy_and_urls() {
        let open = OutboundPolicy::parse("127.0.0.0/8, ::1/128").expect("policy");
        assert!(open.permits("127.0.0.1".parse().expect("ip")));
        assert!(!open.permits("10.0.0.1".parse().expect("ip")));
        assert!(OutboundPolicy::parse("nonsense").is_err());
        let strict = OutboundPolicy::default();
        assert!(check_url("https://hooks.example.com/x", &strict).is_ok());
        assert!(check_url("http://127.0.0.1:9/x", &strict).is_err());
        assert!(check_url("http://[::1]/x", &strict).is_err());
        for disguised in [
            "http://[::127.0.0.1]/",
            "http://[0:0:0:0:0:0:7f00:1]/",
            "http://[2002:7f00:1::]/",
            "http://[::ffff:169.254.169.254]/",
        ] {
            assert!(check_url(disguised, &strict).is_err(), "{disguised}");
        }
        assert!(check_url("http://169.254.169.254/latest", &strict).is_err());
        assert!(check_url("http://127.0.0.1:9/x", &open).is_ok());
        assert!(check_url("ftp://example.com", &strict).is_err());
        assert!(check_url("https://user:pw@example.com", &strict).is_err());
        assert!(check_url("not a url", &strict).is_err());
    }
}
