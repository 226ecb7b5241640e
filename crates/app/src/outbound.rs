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
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_global_v4(v4),
            None => is_global_v6(v6),
        },
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
        || first == 0x0064) // NAT64 and local-use translation prefixes
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
        ] {
            assert!(!is_global(private.parse().expect("ip")), "{private}");
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
        assert!(check_url("http://169.254.169.254/latest", &strict).is_err());
        assert!(check_url("http://127.0.0.1:9/x", &open).is_ok());
        assert!(check_url("ftp://example.com", &strict).is_err());
        assert!(check_url("https://user:pw@example.com", &strict).is_err());
        assert!(check_url("not a url", &strict).is_err());
    }
}
