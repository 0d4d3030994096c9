//! Zero-copy views and owned representations of every Mobile IPv6 wire format.
//!
//! The layout follows smoltcp: a view `Foo<T: AsRef<[u8]>>` checks lengths once
//! in `new_checked`, after which no accessor panics; a representation
//! `FooRepr` has `parse`, `buffer_len` and `emit`. Parsing never allocates;
//! options are iterated lazily from the view.
//!
//! | module | what |
//! |---|---|
//! | [`mh`] | the Mobility Header (next header 135) and its messages |
//! | [`options`] | mobility options, their iterator and their alignment |
//! | [`ipv6`] | the fixed IPv6 header and the extension header walk |
//! | [`hao`] | the Home Address destination option |
//! | [`rh2`] | the type 2 routing header |
//! | [`icmpv6`] | ICMPv6 messages 144-147 (DHAAD, mobile prefix discovery) |
#![deny(clippy::arithmetic_side_effects)]

pub mod checksum;
pub mod hao;
pub mod icmpv6;
pub mod ipv6;
pub mod mh;
pub mod options;
pub mod rh2;

use core::net::Ipv6Addr;

/// Errors of the wire layer. `Copy`, allocation-free.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The buffer is shorter than the structure it must hold.
    #[error("truncated")]
    Truncated,
    /// A length field is inconsistent with the buffer or with the RFC.
    #[error("bad length")]
    BadLength,
    /// The checksum does not verify.
    #[error("bad checksum")]
    BadChecksum,
    /// A field holds a value the RFC forbids.
    #[error("bad value")]
    BadValue,
    /// A type this operation cannot handle (the raw value).
    #[error("unsupported type {0}")]
    Unsupported(u8),
    /// The extension header chain is longer than the configured bound.
    #[error("extension header chain too long")]
    ChainTooLong,
    /// The output buffer is too small for the emitted structure.
    #[error("buffer too small")]
    BufferTooSmall,
}

/// Result over [`Error`].
pub type Result<T> = core::result::Result<T, Error>;

/// IP protocol numbers used by this crate (IANA "Assigned Internet Protocol Numbers").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct IpProtocol(pub u8);

impl IpProtocol {
    /// IPv6 Hop-by-Hop Options (RFC 8200).
    pub const HOP_BY_HOP: Self = Self(0);
    /// IPv4 encapsulation.
    pub const IPV4: Self = Self(4);
    /// TCP.
    pub const TCP: Self = Self(6);
    /// UDP.
    pub const UDP: Self = Self(17);
    /// IPv6 encapsulation (RFC 2473).
    pub const IPV6: Self = Self(41);
    /// Routing header (RFC 8200).
    pub const ROUTING: Self = Self(43);
    /// Fragment header (RFC 8200).
    pub const FRAGMENT: Self = Self(44);
    /// Encapsulating Security Payload.
    pub const ESP: Self = Self(50);
    /// Authentication Header.
    pub const AH: Self = Self(51);
    /// ICMPv6 (RFC 4443).
    pub const ICMPV6: Self = Self(58);
    /// No next header (RFC 8200).
    pub const NONE: Self = Self(59);
    /// Destination Options (RFC 8200).
    pub const DEST_OPTIONS: Self = Self(60);
    /// Mobility Header (RFC 6275).
    pub const MOBILITY: Self = Self(135);
    /// Shim6 (RFC 5533).
    pub const SHIM6: Self = Self(140);
}

impl From<u8> for IpProtocol {
    fn from(v: u8) -> Self {
        Self(v)
    }
}
impl From<IpProtocol> for u8 {
    fn from(v: IpProtocol) -> Self {
        v.0
    }
}

// ---- small, panic-free byte helpers shared by the wire modules ----

/// Reads a big-endian `u16` at `at`, or 0 when out of range (callers check lengths first).
#[inline]
pub(crate) fn rd16(b: &[u8], at: usize) -> u16 {
    match b.get(at..).and_then(|s| s.first_chunk::<2>()) {
        Some(c) => u16::from_be_bytes(*c),
        None => 0,
    }
}

/// Reads a big-endian `u32` at `at`, or 0 when out of range.
#[inline]
pub(crate) fn rd32(b: &[u8], at: usize) -> u32 {
    match b.get(at..).and_then(|s| s.first_chunk::<4>()) {
        Some(c) => u32::from_be_bytes(*c),
        None => 0,
    }
}

/// Reads a big-endian `u64` at `at`, or 0 when out of range.
#[inline]
pub(crate) fn rd64(b: &[u8], at: usize) -> u64 {
    match b.get(at..).and_then(|s| s.first_chunk::<8>()) {
        Some(c) => u64::from_be_bytes(*c),
        None => 0,
    }
}

/// Reads one octet at `at`, or 0 when out of range.
#[inline]
pub(crate) fn rd8(b: &[u8], at: usize) -> u8 {
    b.get(at).copied().unwrap_or(0)
}

/// Reads `N` octets at `at`, or zeros when out of range.
#[inline]
pub(crate) fn rdn<const N: usize>(b: &[u8], at: usize) -> [u8; N] {
    match b.get(at..).and_then(|s| s.first_chunk::<N>()) {
        Some(c) => *c,
        None => [0; N],
    }
}

/// Reads an IPv6 address at `at`, or `::` when out of range.
#[inline]
pub(crate) fn rdaddr(b: &[u8], at: usize) -> Ipv6Addr {
    Ipv6Addr::from(rdn::<16>(b, at))
}

/// Writes `src` at `at`; silently does nothing when out of range (callers size buffers first).
#[inline]
pub(crate) fn wr(b: &mut [u8], at: usize, src: &[u8]) {
    if let Some(d) = at.checked_add(src.len()).and_then(|end| b.get_mut(at..end)) {
        d.copy_from_slice(src);
    }
}

/// Writes one octet at `at`.
#[inline]
pub(crate) fn wr8(b: &mut [u8], at: usize, v: u8) {
    if let Some(d) = b.get_mut(at) {
        *d = v;
    }
}

/// Writes a big-endian `u16` at `at`.
#[inline]
pub(crate) fn wr16(b: &mut [u8], at: usize, v: u16) {
    wr(b, at, &v.to_be_bytes());
}

/// Writes a big-endian `u32` at `at`.
#[inline]
pub(crate) fn wr32(b: &mut [u8], at: usize, v: u32) {
    wr(b, at, &v.to_be_bytes());
}

/// Fills `len` octets at `at` with zeros.
#[inline]
pub(crate) fn zero(b: &mut [u8], at: usize, len: usize) {
    if let Some(d) = at.checked_add(len).and_then(|end| b.get_mut(at..end)) {
        d.fill(0);
    }
}
