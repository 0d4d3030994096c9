//! LIN6 addressing: LIN6 ID (Node ID), generalized ID, LIN6 address,
//! stationary addresses, and the DNS helpers used to find a Mapping Agent.
//!
//! `../shared/spec/lin6.md` §1 (8+8 split, OUI 00-01-4A with the
//! universal/local bit inverted in the interface identifier) and §2 (finding
//! the MA through a TXT record at the ip6.arpa name of the generalized ID).
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::arithmetic_side_effects
)]

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::net::Ipv6Addr;

/// The default LIN6 prefix `3ffe:501:1830:1999::/64` (seed 000).
pub const DEFAULT_LIN6_PREFIX: Prefix = Prefix([0x3f, 0xfe, 0x05, 0x01, 0x18, 0x30, 0x19, 0x99]);
/// The default LIN6 OUI 00-01-4A (seed 000). The multi6 draft used 00-0C-21.
pub const DEFAULT_OUI: Oui = Oui([0x00, 0x01, 0x4a]);
/// The universal/local bit of the first byte of an EUI-64 interface identifier.
pub const UL_BIT: u8 = 0x02;

/// The upper 64 bits of an IPv6 address: a locator (routable network
/// prefix) or the LIN6 prefix.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Prefix(pub [u8; 8]);

impl Prefix {
    /// The prefix of `addr` (its upper 64 bits).
    pub fn of(addr: &Ipv6Addr) -> Self {
        let o = addr.octets();
        let mut p = [0u8; 8];
        if let Some(head) = o.first_chunk::<8>() {
            p = *head;
        }
        Prefix(p)
    }
}

impl fmt::Debug for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Prefix {
    /// `3ffe:501:1830:1999::/64`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut o = [0u8; 16];
        if let Some(head) = o.first_chunk_mut::<8>() {
            *head = self.0;
        }
        write!(f, "{}/64", Ipv6Addr::from(o))
    }
}

/// An IEEE Organizationally Unique Identifier (3 bytes, as IEEE writes it,
/// i.e. with the universal/local bit clear).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Oui(pub [u8; 3]);

/// A LIN6 ID (Node ID): the 64-bit EUI-64-format interface identifier, as
/// it appears in the lower half of an IPv6 address (u/l bit inverted).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Lin6Id(pub [u8; 8]);

impl Lin6Id {
    /// The lower 64 bits of `addr`.
    pub fn of(addr: &Ipv6Addr) -> Self {
        let o = addr.octets();
        let mut id = [0u8; 8];
        if let Some(tail) = o.last_chunk::<8>() {
            id = *tail;
        }
        Lin6Id(id)
    }

    /// The ID as a big-endian integer.
    pub fn to_u64(self) -> u64 {
        u64::from_be_bytes(self.0)
    }

    /// The ID from a big-endian integer.
    pub fn from_u64(v: u64) -> Self {
        Lin6Id(v.to_be_bytes())
    }

    /// The interface identifier's first three bytes.
    fn head(self) -> [u8; 3] {
        let [a, b, c, ..] = self.0;
        [a, b, c]
    }
}

impl fmt::Debug for Lin6Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Lin6Id {
    /// `0201:4a00:0000:0002`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        for (i, pair) in b.chunks_exact(2).enumerate() {
            if i != 0 {
                f.write_str(":")?;
            }
            if let [x, y] = pair {
                write!(f, "{x:02x}{y:02x}")?;
            }
        }
        Ok(())
    }
}

/// Why an address or identifier is not what the caller asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AddrError {
    /// The identifier does not carry the configured OUI (with either u/l value).
    #[error("the identifier does not carry the LIN6 OUI")]
    WrongOui,
    /// The identifier carries the OUI with u/l bit clear: a stationary node's ID.
    #[error("the identifier is a stationary node's ID, which is never mapped")]
    Stationary,
    /// The upper 64 bits are not the LIN6 prefix.
    #[error("the address is not under the LIN6 prefix")]
    NotLin6Prefix,
    /// The address is the LIN6 prefix with a mobile ID, i.e. a generalized ID,
    /// where a routable LIN6 address was required.
    #[error("a generalized ID is not a routable LIN6 address")]
    NotRoutable,
}

/// The addressing parameters: LIN6 prefix and OUI. Defaults are seed 000's.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct AddrConfig {
    /// The LIN6 prefix (non-routable; applications see it).
    pub lin6_prefix: Prefix,
    /// The LIN6 OUI (as IEEE writes it; u/l bit clear).
    pub oui: Oui,
}

impl Default for AddrConfig {
    fn default() -> Self {
        AddrConfig {
            lin6_prefix: DEFAULT_LIN6_PREFIX,
            oui: DEFAULT_OUI,
        }
    }
}

/// What an IPv6 address is, under an [`AddrConfig`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum AddrKind {
    /// LIN6 prefix ‖ mobile LIN6 ID: what applications see.
    GeneralizedId(Lin6Id),
    /// Network prefix ‖ mobile LIN6 ID: a mapped (on-the-wire) LIN6 address.
    Lin6Address {
        /// The locator.
        locator: Prefix,
        /// The LIN6 ID.
        id: Lin6Id,
    },
    /// Own prefix ‖ stationary ID (OUI with u/l bit clear): never mapped.
    Stationary {
        /// The node's own current prefix.
        prefix: Prefix,
        /// The stationary Node ID.
        id: Lin6Id,
    },
    /// Anything else: not LIN6.
    Other,
}

impl AddrConfig {
    /// The first three bytes of a mobile LIN6 ID (OUI with u/l bit set).
    pub fn mobile_head(&self) -> [u8; 3] {
        let [a, b, c] = self.oui.0;
        [a ^ UL_BIT, b, c]
    }

    /// Whether `id` is a mobile LIN6 ID (the OUI with the u/l bit inverted).
    #[inline]
    pub fn is_mobile_id(&self, id: Lin6Id) -> bool {
        id.head() == self.mobile_head()
    }

    /// Whether `id` is a stationary ID (the OUI as is).
    #[inline]
    pub fn is_stationary_id(&self, id: Lin6Id) -> bool {
        id.head() == self.oui.0
    }

    /// Validates a Node ID handed out by an administrator: it must be a mobile
    /// LIN6 ID under the configured OUI.
    pub fn validate_id(&self, id: Lin6Id) -> Result<Lin6Id, AddrError> {
        if self.is_mobile_id(id) {
            Ok(id)
        } else if self.is_stationary_id(id) {
            Err(AddrError::Stationary)
        } else {
            Err(AddrError::WrongOui)
        }
    }

    /// LIN6 prefix ‖ `id`.
    pub fn generalized_id(&self, id: Lin6Id) -> Ipv6Addr {
        join(self.lin6_prefix, id)
    }

    /// `locator` ‖ `id`: the LIN6 address on the wire.
    pub fn lin6_address(&self, locator: Prefix, id: Lin6Id) -> Ipv6Addr {
        join(locator, id)
    }

    /// Classifies `addr`.
    pub fn classify(&self, addr: &Ipv6Addr) -> AddrKind {
        let prefix = Prefix::of(addr);
        let id = Lin6Id::of(addr);
        if self.is_mobile_id(id) {
            if prefix == self.lin6_prefix {
                AddrKind::GeneralizedId(id)
            } else {
                AddrKind::Lin6Address {
                    locator: prefix,
                    id,
                }
            }
        } else if self.is_stationary_id(id) {
            AddrKind::Stationary { prefix, id }
        } else {
            AddrKind::Other
        }
    }

    /// The LIN6 ID of a generalized ID, or why `addr` is not one.
    pub fn id_of_generalized(&self, addr: &Ipv6Addr) -> Result<Lin6Id, AddrError> {
        let id = self.validate_id(Lin6Id::of(addr))?;
        if Prefix::of(addr) == self.lin6_prefix {
            Ok(id)
        } else {
            Err(AddrError::NotLin6Prefix)
        }
    }

    /// The generalized ID of an on-the-wire LIN6 address (the inbound mapping).
    pub fn to_generalized(&self, addr: &Ipv6Addr) -> Result<Ipv6Addr, AddrError> {
        let id = self.validate_id(Lin6Id::of(addr))?;
        Ok(self.generalized_id(id))
    }

    /// Splits a routable LIN6 address into locator and ID.
    pub fn split_lin6_address(&self, addr: &Ipv6Addr) -> Result<(Prefix, Lin6Id), AddrError> {
        match self.classify(addr) {
            AddrKind::Lin6Address { locator, id } => Ok((locator, id)),
            AddrKind::GeneralizedId(_) => Err(AddrError::NotRoutable),
            AddrKind::Stationary { .. } => Err(AddrError::Stationary),
            AddrKind::Other => Err(AddrError::WrongOui),
        }
    }
}

/// `prefix` ‖ `id`.
pub fn join(prefix: Prefix, id: Lin6Id) -> Ipv6Addr {
    let mut o = [0u8; 16];
    let (hi, lo) = o.split_at_mut(8);
    hi.copy_from_slice(&prefix.0);
    lo.copy_from_slice(&id.0);
    Ipv6Addr::from(o)
}

/// The ip6.arpa nibble name of `addr` (for the TXT query that finds the MA),
/// with a trailing dot: `2.0.0.0.0.0.0.0.0.0.a.4.1.0.2.0.9.9.9.1.0.3.8.1.1.0.5.0.e.f.f.3.ip6.arpa.`
pub fn ip6_arpa_name(addr: &Ipv6Addr) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(73);
    for b in addr.octets().iter().rev() {
        for nib in [b & 0x0f, b >> 4] {
            if let Some(c) = HEX.get(usize::from(nib)) {
                s.push(char::from(*c));
                s.push('.');
            }
        }
    }
    s.push_str("ip6.arpa.");
    s
}

/// Which TXT key a record uses.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum TxtKind {
    /// `lin6-ma=`: a Mapping Agent.
    MappingAgent,
    /// `lin6-ls=`: a Load Sharing server (same syntax).
    LoadSharing,
}

/// A parsed `lin6-ma=<IPv6>[;port=<u16>][;pri=<u8>]` (or `lin6-ls=`) string.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct TxtServer {
    /// Which key the string used.
    pub kind: TxtKind,
    /// The server's address.
    pub addr: Ipv6Addr,
    /// The UDP port (default [`crate::wire::DEFAULT_PORT`]).
    pub port: u16,
    /// Preference, lower first (default 0).
    pub pri: u8,
}

/// Why a TXT string is not a server record.
#[derive(Clone, Copy, PartialEq, Eq, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TxtError {
    /// The string starts with neither `lin6-ma=` nor `lin6-ls=`.
    #[error("not a lin6-ma= or lin6-ls= record")]
    UnknownKey,
    /// The address is not an IPv6 address.
    #[error("bad IPv6 address")]
    BadAddress,
    /// `port=` is not a u16.
    #[error("bad port")]
    BadPort,
    /// `pri=` is not a u8.
    #[error("bad priority")]
    BadPriority,
    /// An attribute other than `port` and `pri`, or a repeated one.
    #[error("unknown or repeated attribute")]
    BadAttribute,
}

/// Parses one TXT string.
pub fn parse_txt(s: &str) -> Result<TxtServer, TxtError> {
    let s = s.trim();
    let (kind, rest) = if let Some(r) = s.strip_prefix("lin6-ma=") {
        (TxtKind::MappingAgent, r)
    } else if let Some(r) = s.strip_prefix("lin6-ls=") {
        (TxtKind::LoadSharing, r)
    } else {
        return Err(TxtError::UnknownKey);
    };
    let mut parts = rest.split(';');
    let addr: Ipv6Addr = parts
        .next()
        .unwrap_or("")
        .trim()
        .parse()
        .map_err(|_| TxtError::BadAddress)?;
    let (mut port, mut pri) = (None, None);
    for p in parts {
        let p = p.trim();
        if let Some(v) = p.strip_prefix("port=") {
            if port.is_some() {
                return Err(TxtError::BadAttribute);
            }
            port = Some(v.parse::<u16>().map_err(|_| TxtError::BadPort)?);
        } else if let Some(v) = p.strip_prefix("pri=") {
            if pri.is_some() {
                return Err(TxtError::BadAttribute);
            }
            pri = Some(v.parse::<u8>().map_err(|_| TxtError::BadPriority)?);
        } else {
            return Err(TxtError::BadAttribute);
        }
    }
    Ok(TxtServer {
        kind,
        addr,
        port: port.unwrap_or(crate::wire::DEFAULT_PORT),
        pri: pri.unwrap_or(0),
    })
}

/// Parses every string of a TXT answer, keeps those of `kind` that parse,
/// and sorts them lower `pri` first (stable: equal priorities keep DNS order).
pub fn parse_txt_records<'a, I: IntoIterator<Item = &'a str>>(
    strings: I,
    kind: TxtKind,
) -> Vec<TxtServer> {
    let mut v: Vec<TxtServer> = strings
        .into_iter()
        .filter_map(|s| parse_txt(s).ok())
        .filter(|r| r.kind == kind)
        .collect();
    v.sort_by_key(|r| r.pri);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_examples_classify() {
        let c = AddrConfig::default();
        let mobile: Ipv6Addr = "3ffe:501:1830:1999:201:4a00::2".parse().unwrap();
        let stationary: Ipv6Addr = "3ffe:501:808:4001:1:4a00::1".parse().unwrap();
        assert_eq!(
            c.classify(&mobile),
            AddrKind::GeneralizedId(Lin6Id([0x02, 0x01, 0x4a, 0, 0, 0, 0, 2]))
        );
        assert_eq!(
            c.classify(&stationary),
            AddrKind::Stationary {
                prefix: Prefix([0x3f, 0xfe, 0x05, 0x01, 0x08, 0x08, 0x40, 0x01]),
                id: Lin6Id([0x00, 0x01, 0x4a, 0, 0, 0, 0, 1]),
            }
        );
        assert_eq!(c.id_of_generalized(&stationary), Err(AddrError::Stationary));
        let other: Ipv6Addr = "2001:db8::1".parse().unwrap();
        assert_eq!(c.classify(&other), AddrKind::Other);
        assert_eq!(c.validate_id(Lin6Id::of(&other)), Err(AddrError::WrongOui));
    }

    #[test]
    fn mapped_and_back() {
        let c = AddrConfig::default();
        let id = Lin6Id([0x02, 0x01, 0x4a, 0, 0, 0, 0, 2]);
        let loc = Prefix([0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0]);
        let a = c.lin6_address(loc, id);
        assert_eq!(a, "2001:db8:1:0:201:4a00::2".parse::<Ipv6Addr>().unwrap());
        assert_eq!(c.split_lin6_address(&a), Ok((loc, id)));
        assert_eq!(
            c.to_generalized(&a).unwrap(),
            "3ffe:501:1830:1999:201:4a00::2"
                .parse::<Ipv6Addr>()
                .unwrap()
        );
        assert_eq!(
            c.split_lin6_address(&c.generalized_id(id)),
            Err(AddrError::NotRoutable)
        );
    }

    #[test]
    fn configurable_oui() {
        let c = AddrConfig {
            oui: Oui([0x00, 0x0c, 0x21]),
            ..AddrConfig::default()
        };
        let id = Lin6Id([0x02, 0x0c, 0x21, 0, 0, 0, 0, 7]);
        assert!(c.is_mobile_id(id));
        assert!(!AddrConfig::default().is_mobile_id(id));
    }

    #[test]
    fn arpa_name() {
        let a: Ipv6Addr = "3ffe:501:1830:1999:201:4a00::2".parse().unwrap();
        assert_eq!(
            ip6_arpa_name(&a),
            "2.0.0.0.0.0.0.0.0.0.a.4.1.0.2.0.9.9.9.1.0.3.8.1.1.0.5.0.e.f.f.3.ip6.arpa."
        );
    }

    #[test]
    fn txt_strings() {
        let r = parse_txt("lin6-ma=2001:db8::53;port=7000;pri=3").unwrap();
        assert_eq!(r.addr, "2001:db8::53".parse::<Ipv6Addr>().unwrap());
        assert_eq!((r.port, r.pri, r.kind), (7000, 3, TxtKind::MappingAgent));
        let d = parse_txt("lin6-ls=2001:db8::1").unwrap();
        assert_eq!((d.port, d.pri, d.kind), (7360, 0, TxtKind::LoadSharing));
        assert_eq!(parse_txt("v=spf1"), Err(TxtError::UnknownKey));
        assert_eq!(parse_txt("lin6-ma=zz"), Err(TxtError::BadAddress));
        assert_eq!(parse_txt("lin6-ma=::1;port=70000"), Err(TxtError::BadPort));
        assert_eq!(parse_txt("lin6-ma=::1;pri=256"), Err(TxtError::BadPriority));
        assert_eq!(parse_txt("lin6-ma=::1;x=1"), Err(TxtError::BadAttribute));
        let v = parse_txt_records(
            [
                "lin6-ma=::2;pri=5",
                "junk",
                "lin6-ls=::9",
                "lin6-ma=::1;pri=1",
            ],
            TxtKind::MappingAgent,
        );
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].addr, "::1".parse::<Ipv6Addr>().unwrap());
    }
}
