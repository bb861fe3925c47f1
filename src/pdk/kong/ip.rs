//! `kong.ip`: `is_trusted(address)`, as Kong's `kong/pdk/ip.lua`.
//!
//! Kong trusts the addresses and CIDR blocks of its `trusted_ips` setting, empty by
//! default. On Kong the setting is read from the `kong.configuration.trusted_ips`
//! property (a JSON array, or a comma-separated list); other hosts have no such setting,
//! so nothing is trusted, as with Kong's default. Invalid entries are skipped, as Kong's
//! `is_valid_ip_or_cidr` filter does.

use std::net::IpAddr;

use piccolo::{CallbackReturn, Context, Error, Execution, Stack, Table, Value};

use crate::pdk::{set_function, Pdk};
use crate::properties::Need;

/// Builds the `kong.ip` table.
pub fn table<'gc>(ctx: Context<'gc>, pdk: &Pdk) -> Table<'gc> {
    let t = Table::new(&ctx);
    set_function(ctx, t, "is_trusted", pdk, is_trusted);
    t
}

/// `kong.ip.is_trusted(address)`: whether the IPv4 or IPv6 address is in `trusted_ips`;
/// `false` for anything that is not an address.
fn is_trusted<'gc>(pdk: &Pdk, ctx: Context<'gc>, _exec: Execution<'gc, '_>, mut stack: Stack<'gc, '_>) -> Result<CallbackReturn<'gc>, Error<'gc>> {
    let address = match stack.get(0) {
        Value::String(s) => Some(s.to_str_lossy().into_owned()),
        _ => None,
    };
    let trusted = address.map(|a| trusted(pdk, &a)).unwrap_or(false);
    stack.replace(ctx, trusted);
    Ok(CallbackReturn::Return)
}

/// Whether `address` is trusted on this host (see the module docs).
pub fn trusted(pdk: &Pdk, address: &str) -> bool {
    let setting = {
        let scope = pdk.scope();
        Need::TrustedIps.read_text(scope.host.as_ref(), scope.host_kind)
    };
    let Some(setting) = setting else { return false };
    let Ok(ip) = address.trim().parse::<IpAddr>() else { return false };
    trusted_list(&setting).iter().any(|block| block.contains(ip))
}

/// A CIDR block: network address and prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parses `10.0.0.0/8`, `::1/128`, or a bare address (a /32 or /128 block); `None`
    /// for anything else.
    pub fn parse(text: &str) -> Option<Cidr> {
        let text = text.trim();
        let (address, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let network: IpAddr = address.parse().ok()?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => p.parse::<u8>().ok().filter(|p| *p <= max)?,
            Some(_) => return None,
            None => max,
        };
        Some(Cidr { network, prefix })
    }

    /// Whether `ip` is in the block (an IPv4 address never matches an IPv6 block, nor
    /// the reverse).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = if self.prefix == 0 { 0 } else { u32::MAX << (32 - self.prefix) };
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = if self.prefix == 0 { 0 } else { u128::MAX << (128 - self.prefix) };
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// The valid blocks of a `trusted_ips` value: a JSON array of strings, or a
/// comma-separated list.
pub fn trusted_list(setting: &str) -> Vec<Cidr> {
    let entries: Vec<String> = match serde_json::from_str::<serde_json::Value>(setting) {
        Ok(serde_json::Value::Array(items)) => items.iter().filter_map(|i| i.as_str().map(str::to_owned)).collect(),
        Ok(serde_json::Value::String(s)) => s.split(',').map(str::to_owned).collect(),
        _ => setting.split(',').map(str::to_owned).collect(),
    };
    entries.iter().filter_map(|e| Cidr::parse(e)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn cidr_blocks_match_their_addresses_only() {
        let block = Cidr::parse("10.1.0.0/16").unwrap();
        assert!(block.contains(ip("10.1.255.3")));
        assert!(!block.contains(ip("10.2.0.1")));
        assert!(!block.contains(ip("::ffff:10.1.0.1")));
        let v6 = Cidr::parse("2001:db8::/32").unwrap();
        assert!(v6.contains(ip("2001:db8:1::7")));
        assert!(!v6.contains(ip("2001:db9::1")));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains(ip("203.0.113.9")));
        assert!(Cidr::parse("::/0").unwrap().contains(ip("::1")));
        assert!(Cidr::parse("192.0.2.7").unwrap().contains(ip("192.0.2.7")));
        assert!(!Cidr::parse("192.0.2.7").unwrap().contains(ip("192.0.2.8")));
    }

    #[test]
    fn invalid_entries_are_skipped() {
        for bad in ["10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0/8", "unix:", "10.0.0.0/-1", ""] {
            assert_eq!(Cidr::parse(bad), None, "{bad}");
        }
        assert_eq!(trusted_list(r#"["10.0.0.0/8", "nope", "::1"]"#).len(), 2);
        assert_eq!(trusted_list("10.0.0.0/8, 192.168.0.0/16").len(), 2);
    }
}
