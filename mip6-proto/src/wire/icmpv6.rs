//! ICMPv6 messages of Mobile IPv6 (RFC 6275 §6.5-6.8): Dynamic Home Agent
//! Address Discovery request/reply (144/145, with RFC 3963's R flag) and
//! Mobile Prefix Solicitation/Advertisement (146/147) with the prefix
//! information options (RFC 4861 §4.6.2, RFC 6275 §7.2) they carry.

use core::net::Ipv6Addr;

use super::{Error, Result, checksum, rd8, rd16, rd32, rdaddr, wr, wr8, wr16, wr32, zero};

/// ICMPv6 type numbers used here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Icmpv6Type(pub u8);

impl Icmpv6Type {
    /// Home Agent Address Discovery Request.
    pub const DHAAD_REQUEST: Self = Self(144);
    /// Home Agent Address Discovery Reply.
    pub const DHAAD_REPLY: Self = Self(145);
    /// Mobile Prefix Solicitation.
    pub const MOBILE_PREFIX_SOLICITATION: Self = Self(146);
    /// Mobile Prefix Advertisement.
    pub const MOBILE_PREFIX_ADVERTISEMENT: Self = Self(147);
}

/// A Prefix Information option (RFC 4861 §4.6.2 with RFC 6275's R flag).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct PrefixInfo {
    /// Prefix length.
    pub prefix_len: u8,
    /// L flag (on-link).
    pub l: bool,
    /// A flag (autonomous).
    pub a: bool,
    /// R flag (router address, RFC 6275 §7.2).
    pub r: bool,
    /// Valid lifetime, seconds.
    pub valid_lifetime: u32,
    /// Preferred lifetime, seconds.
    pub preferred_lifetime: u32,
    /// Prefix (or the router's address when R is set).
    pub prefix: Ipv6Addr,
}

/// ND option type of the prefix information option.
pub const ND_OPT_PREFIX_INFO: u8 = 3;

impl PrefixInfo {
    /// Parses a whole prefix information option (type 3, length 4).
    ///
    /// # Errors
    /// [`Error::BadLength`] unless 32 octets with length field 4.
    pub fn parse(opt: &[u8]) -> Result<Self> {
        if opt.len() != 32 || rd8(opt, 1) != 4 {
            return Err(Error::BadLength);
        }
        let f = rd8(opt, 3);
        Ok(Self {
            prefix_len: rd8(opt, 2),
            l: f & 0x80 != 0,
            a: f & 0x40 != 0,
            r: f & 0x20 != 0,
            valid_lifetime: rd32(opt, 4),
            preferred_lifetime: rd32(opt, 8),
            prefix: rdaddr(opt, 16),
        })
    }
    /// Writes the 32-octet option.
    pub fn emit(&self, b: &mut [u8]) {
        zero(b, 0, 32);
        wr8(b, 0, ND_OPT_PREFIX_INFO);
        wr8(b, 1, 4);
        wr8(b, 2, self.prefix_len);
        let f = (if self.l { 0x80 } else { 0 })
            | (if self.a { 0x40 } else { 0 })
            | (if self.r { 0x20 } else { 0 });
        wr8(b, 3, f);
        wr32(b, 4, self.valid_lifetime);
        wr32(b, 8, self.preferred_lifetime);
        wr(b, 16, &self.prefix.octets());
    }
}

/// Iterates ND options (type, length in 8-octet units); yields the whole option.
#[derive(Debug, Clone)]
pub struct NdOptions<'a> {
    buf: &'a [u8],
    done: bool,
}

impl<'a> NdOptions<'a> {
    /// Over an options area.
    #[must_use]
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, done: false }
    }
}

impl<'a> Iterator for NdOptions<'a> {
    /// `(type, whole option)`.
    type Item = Result<(u8, &'a [u8])>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.buf.is_empty() {
            return None;
        }
        let len = usize::from(rd8(self.buf, 1)).saturating_mul(8);
        // RFC 4861 §4.6: a length of 0 is invalid.
        let Some(opt) = (if len == 0 { None } else { self.buf.get(..len) }) else {
            self.done = true;
            return Some(Err(Error::BadLength));
        };
        self.buf = self.buf.get(len..).unwrap_or(&[]);
        Some(Ok((rd8(opt, 0), opt)))
    }
}

/// A list of IPv6 addresses: the wire form of a parsed DHAAD reply or a list for emission.
#[derive(Debug, Clone, Copy)]
pub enum AddrList<'a> {
    /// Concatenated addresses (length a multiple of 16).
    Wire(&'a [u8]),
    /// A list.
    List(&'a [Ipv6Addr]),
}

impl AddrList<'_> {
    /// The addresses.
    pub fn iter(&self) -> impl Iterator<Item = Ipv6Addr> + '_ {
        let (w, l): (&[u8], &[Ipv6Addr]) = match self {
            Self::Wire(w) => (w, &[]),
            Self::List(l) => (&[], l),
        };
        w.chunks_exact(16)
            .map(|c| rdaddr(c, 0))
            .chain(l.iter().copied())
    }
    /// Number of addresses.
    #[must_use]
    pub fn len(&self) -> usize {
        match self {
            Self::Wire(w) => w.len() / 16,
            Self::List(l) => l.len(),
        }
    }
    /// True when empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for AddrList<'a> {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        let n: usize = u.int_in_range(0..=8)?;
        Ok(Self::Wire(u.bytes(n.saturating_mul(16))?))
    }
}

impl PartialEq for AddrList<'_> {
    fn eq(&self, o: &Self) -> bool {
        self.iter().eq(o.iter())
    }
}
impl Eq for AddrList<'_> {}

/// A list of prefix information options: the options area of a parsed
/// advertisement (other ND options are skipped) or a list for emission.
#[derive(Debug, Clone, Copy)]
pub enum PrefixList<'a> {
    /// A validated ND options area.
    Wire(&'a [u8]),
    /// A list.
    List(&'a [PrefixInfo]),
}

impl PrefixList<'_> {
    /// The prefix information options.
    pub fn iter(&self) -> impl Iterator<Item = PrefixInfo> + '_ {
        let (w, l): (&[u8], &[PrefixInfo]) = match self {
            Self::Wire(w) => (w, &[]),
            Self::List(l) => (&[], l),
        };
        NdOptions::new(w)
            .flatten()
            .filter(|(t, _)| *t == ND_OPT_PREFIX_INFO)
            .filter_map(|(_, o)| PrefixInfo::parse(o).ok())
            .chain(l.iter().copied())
    }
    fn wire_len(&self) -> usize {
        self.iter().count().saturating_mul(32)
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for PrefixList<'a> {
    /// Whole prefix information options (type 3, length 4) with arbitrary contents.
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        let n: usize = u.int_in_range(0..=4)?;
        let b = u.bytes(n.saturating_mul(32))?;
        let ok = b
            .chunks_exact(32)
            .all(|c| rd8(c, 0) == ND_OPT_PREFIX_INFO && rd8(c, 1) == 4);
        Ok(Self::Wire(if ok { b } else { &[] }))
    }
}

impl PartialEq for PrefixList<'_> {
    fn eq(&self, o: &Self) -> bool {
        self.iter().eq(o.iter())
    }
}
impl Eq for PrefixList<'_> {}

/// One Mobile IPv6 ICMPv6 message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[non_exhaustive]
pub enum MipIcmpRepr<'a> {
    /// DHAAD request (144).
    DhaadRequest {
        /// Identifier.
        identifier: u16,
        /// R: mobile router support requested (RFC 3963 §7.1).
        r: bool,
    },
    /// DHAAD reply (145).
    DhaadReply {
        /// Identifier.
        identifier: u16,
        /// R: the listed agents support mobile routers (RFC 3963 §7.2).
        r: bool,
        /// Home agent addresses, by preference.
        addresses: AddrList<'a>,
    },
    /// Mobile Prefix Solicitation (146).
    MobilePrefixSolicitation {
        /// Identifier.
        identifier: u16,
    },
    /// Mobile Prefix Advertisement (147).
    MobilePrefixAdvertisement {
        /// Identifier.
        identifier: u16,
        /// M flag (managed address configuration).
        m: bool,
        /// O flag (other stateful configuration).
        o: bool,
        /// Prefix information options.
        prefixes: PrefixList<'a>,
    },
}

impl<'a> MipIcmpRepr<'a> {
    /// Parses a message (starting at the ICMPv6 type) and verifies its checksum.
    ///
    /// # Errors
    /// [`Error::Truncated`], [`Error::BadLength`], [`Error::BadChecksum`],
    /// [`Error::Unsupported`] for another ICMPv6 type, [`Error::BadValue`] for a non-zero code.
    pub fn parse(msg: &'a [u8], src: &Ipv6Addr, dst: &Ipv6Addr) -> Result<Self> {
        let r = Self::parse_unverified(msg)?;
        if !checksum::verify(src, dst, 58, msg) {
            return Err(Error::BadChecksum);
        }
        Ok(r)
    }

    /// Parses without verifying the checksum.
    ///
    /// # Errors
    /// As [`parse`](Self::parse), without the checksum.
    pub fn parse_unverified(msg: &'a [u8]) -> Result<Self> {
        if msg.len() < 8 {
            return Err(Error::Truncated);
        }
        if rd8(msg, 1) != 0 {
            return Err(Error::BadValue);
        }
        let identifier = rd16(msg, 4);
        let flags = rd16(msg, 6);
        let rest: &'a [u8] = msg.get(8..).unwrap_or(&[]);
        Ok(match Icmpv6Type(rd8(msg, 0)) {
            Icmpv6Type::DHAAD_REQUEST => Self::DhaadRequest {
                identifier,
                r: flags & 0x8000 != 0,
            },
            Icmpv6Type::DHAAD_REPLY => {
                if !rest.len().is_multiple_of(16) {
                    return Err(Error::BadLength);
                }
                Self::DhaadReply {
                    identifier,
                    r: flags & 0x8000 != 0,
                    addresses: AddrList::Wire(rest),
                }
            }
            Icmpv6Type::MOBILE_PREFIX_SOLICITATION => Self::MobilePrefixSolicitation { identifier },
            Icmpv6Type::MOBILE_PREFIX_ADVERTISEMENT => {
                for o in NdOptions::new(rest) {
                    let (t, o) = o?;
                    if t == ND_OPT_PREFIX_INFO {
                        PrefixInfo::parse(o)?;
                    }
                }
                Self::MobilePrefixAdvertisement {
                    identifier,
                    m: flags & 0x8000 != 0,
                    o: flags & 0x4000 != 0,
                    prefixes: PrefixList::Wire(rest),
                }
            }
            Icmpv6Type(t) => return Err(Error::Unsupported(t)),
        })
    }

    /// Octets `emit` writes.
    #[must_use]
    pub fn buffer_len(&self) -> usize {
        let extra = match self {
            Self::DhaadReply { addresses, .. } => addresses.len().saturating_mul(16),
            Self::MobilePrefixAdvertisement { prefixes, .. } => prefixes.wire_len(),
            _ => 0,
        };
        extra.saturating_add(8)
    }

    /// Emits the message and its checksum.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`].
    pub fn emit(&self, buf: &mut [u8], src: &Ipv6Addr, dst: &Ipv6Addr) -> Result<()> {
        let len = self.buffer_len();
        let b = buf.get_mut(..len).ok_or(Error::BufferTooSmall)?;
        zero(b, 0, len);
        let (ty, id, flags) = match *self {
            Self::DhaadRequest { identifier, r } => (144, identifier, if r { 0x8000 } else { 0 }),
            Self::DhaadReply {
                identifier,
                r,
                addresses,
            } => {
                for (i, a) in addresses.iter().enumerate() {
                    wr(b, i.saturating_mul(16).saturating_add(8), &a.octets());
                }
                (145, identifier, if r { 0x8000 } else { 0 })
            }
            Self::MobilePrefixSolicitation { identifier } => (146, identifier, 0),
            Self::MobilePrefixAdvertisement {
                identifier,
                m,
                o,
                prefixes,
            } => {
                for (i, p) in prefixes.iter().enumerate() {
                    if let Some(d) = b.get_mut(i.saturating_mul(32).saturating_add(8)..) {
                        p.emit(d);
                    }
                }
                let f = (if m { 0x8000 } else { 0 }) | (if o { 0x4000 } else { 0 });
                (147, identifier, f)
            }
        };
        wr8(b, 0, ty);
        wr16(b, 4, id);
        wr16(b, 6, flags);
        let c = checksum::compute(src, dst, 58, b);
        wr16(b, 2, c);
        Ok(())
    }
}
