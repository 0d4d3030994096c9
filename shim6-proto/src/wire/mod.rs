//! Zero-copy views and representations of every Shim6 and REAP wire format.
//!
//! The layout follows smoltcp: the view [`Shim6Packet`] checks lengths once in
//! [`Shim6Packet::new_checked`], after which no accessor panics; each
//! representation (`*Repr`) has `parse`, `buffer_len` and `emit`. Parsing
//! never allocates: variable parts (options, locators, probe reports) stay
//! borrowed from the buffer and are iterated lazily.
//!
//! | module | what |
//! |---|---|
//! | [`header`] | the Shim6 header (next header 140): common part, payload extension header, [`Shim6Repr`] |
//! | [`control`] | control messages I1, R1, I2, R2, R1bis, I2bis, Update Request/Acknowledgement, Error (RFC 5533 §5.3-5.14) |
//! | [`reap`] | REAP Keepalive and Probe fields (RFC 5534 §5.1-5.2) |
//! | [`options`] | Shim6 options and the critical bit (RFC 5533 §5.15, RFC 5534 §5.3) |
//!
//! Checksums (RFC 5533 §5.3: one's complement over the Shim6 header only, no
//! pseudo-header) are computed by `emit` and verified by `parse`.
#![deny(clippy::arithmetic_side_effects)]

pub mod control;
pub mod header;
pub mod options;
pub mod reap;

pub use control::{ControlRepr, ErrorCode, Message, MessageType};
pub use header::{PayloadRepr, Shim6Packet, Shim6Repr};
pub use options::{
    Locator, LocatorList, LocatorPreferences, Locators, OptionRepr, OptionType, OptionValue,
    Options, PreferenceFlags, VerificationMethod,
};
pub use reap::{ProbeReport, ProbeReports, ReapState};

use core::net::Ipv6Addr;

/// The IP protocol number of Shim6 (RFC 5533 §5).
pub const IP_PROTOCOL_SHIM6: u8 = 140;
/// IPv6 "No Next Header" (59), the next header of every control message.
pub const NO_NEXT_HEADER: u8 = 59;

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
    /// The checksum does not verify (RFC 5533 §12.3: drop silently).
    #[error("bad checksum")]
    BadChecksum,
    /// A field holds a value the RFC forbids.
    #[error("bad value")]
    BadValue,
    /// The S bit is set: a HIP message, not Shim6 (RFC 5533 §5.3).
    #[error("S bit set: not a Shim6 message")]
    NotShim6,
    /// A control message was expected and this is a payload extension
    /// header, or the other way round (the P bit).
    #[error("wrong kind of Shim6 header (P bit)")]
    WrongKind,
    /// An option with C=1 that this host does not recognise or that is not
    /// valid in this message type (RFC 5533 §5.15): the rest of the message
    /// MUST NOT be processed, and the host SHOULD answer with a Shim6 Error
    /// message with Error Code 1 and this Pointer.
    #[error("critical option not recognised at offset {pointer}")]
    UnrecognizedCriticalOption {
        /// Offset of the first octet of the Option Type field from the
        /// start of the Shim6 header (the Error message's Pointer).
        pointer: u16,
    },
    /// The representation cannot be encoded (too many items, or the message
    /// would exceed the 2048 octets that Hdr Ext Len can describe).
    #[error("too long to encode")]
    TooLong,
    /// The output buffer is too small for the emitted structure.
    #[error("buffer too small")]
    BufferTooSmall,
}

/// Result over [`Error`].
pub type Result<T> = core::result::Result<T, Error>;

/// A 47-bit Shim6 context tag (RFC 5533 §4.1). The constructor keeps the
/// value below 2^47, so every `ContextTag` is encodable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ContextTag(u64);

impl ContextTag {
    /// Number of bits of a context tag.
    pub const BITS: u32 = 47;
    /// The largest context tag, 2^47 - 1.
    pub const MAX: Self = Self((1 << 47) - 1);

    /// The tag `v`, or `None` when `v` does not fit in 47 bits.
    #[must_use]
    pub const fn new(v: u64) -> Option<Self> {
        if v <= Self::MAX.0 {
            Some(Self(v))
        } else {
            None
        }
    }

    /// The low 47 bits of `v`.
    #[must_use]
    pub const fn from_bits_truncate(v: u64) -> Self {
        Self(v & Self::MAX.0)
    }

    /// The value (always below 2^47).
    #[must_use]
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl From<ContextTag> for u64 {
    fn from(t: ContextTag) -> u64 {
        t.0
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for ContextTag {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(Self::from_bits_truncate(u.arbitrary()?))
    }
}

// ---- the Shim6 checksum (RFC 5533 §5.3) ----

/// The Shim6 checksum of `header` (the whole Shim6 header as given by Hdr
/// Ext Len, checksum field zeroed): the 16-bit one's complement of the one's
/// complement sum, with no pseudo-header.
#[must_use]
pub fn checksum(header: &[u8]) -> u16 {
    let mut acc: u32 = 0;
    let mut chunks = header.chunks_exact(2);
    for c in &mut chunks {
        if let Some(w) = c.first_chunk::<2>() {
            acc = fold(acc.wrapping_add(u32::from(u16::from_be_bytes(*w))));
        }
    }
    if let Some(&last) = chunks.remainder().first() {
        acc = fold(acc.wrapping_add(u32::from(last) << 8));
    }
    while acc > 0xffff {
        acc = fold(acc);
    }
    !u16::try_from(acc).unwrap_or(0xffff)
}

/// True when `header`, with its checksum field in place, verifies.
#[must_use]
pub fn checksum_ok(header: &[u8]) -> bool {
    checksum(header) == 0
}

#[inline]
fn fold(acc: u32) -> u32 {
    (acc & 0xffff).wrapping_add(acc >> 16)
}

// ---- small, panic-free byte helpers shared by the wire modules ----

#[inline]
pub(crate) fn rd8(b: &[u8], at: usize) -> u8 {
    b.get(at).copied().unwrap_or(0)
}

#[inline]
pub(crate) fn rdn<const N: usize>(b: &[u8], at: usize) -> [u8; N] {
    match b.get(at..).and_then(|s| s.first_chunk::<N>()) {
        Some(c) => *c,
        None => [0; N],
    }
}

#[inline]
pub(crate) fn rd16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes(rdn::<2>(b, at))
}

#[inline]
pub(crate) fn rd32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(rdn::<4>(b, at))
}

/// Reads 48 bits big-endian at `at`.
#[inline]
pub(crate) fn rd48(b: &[u8], at: usize) -> u64 {
    let [a, b1, c, d, e, f] = rdn::<6>(b, at);
    u64::from_be_bytes([0, 0, a, b1, c, d, e, f])
}

/// Reads the 47-bit context tag that follows a 1-bit field at `at`.
#[inline]
pub(crate) fn rdtag(b: &[u8], at: usize) -> ContextTag {
    ContextTag::from_bits_truncate(rd48(b, at))
}

#[inline]
pub(crate) fn rdaddr(b: &[u8], at: usize) -> Ipv6Addr {
    Ipv6Addr::from(rdn::<16>(b, at))
}

/// Writes `src` at `at`; does nothing when out of range (callers size buffers first).
#[inline]
pub(crate) fn wr(b: &mut [u8], at: usize, src: &[u8]) {
    if let Some(d) = at.checked_add(src.len()).and_then(|end| b.get_mut(at..end)) {
        d.copy_from_slice(src);
    }
}

#[inline]
pub(crate) fn wr8(b: &mut [u8], at: usize, v: u8) {
    if let Some(d) = b.get_mut(at) {
        *d = v;
    }
}

#[inline]
pub(crate) fn wr16(b: &mut [u8], at: usize, v: u16) {
    wr(b, at, &v.to_be_bytes());
}

#[inline]
pub(crate) fn wr32(b: &mut [u8], at: usize, v: u32) {
    wr(b, at, &v.to_be_bytes());
}

/// Writes a 1-bit zero (the R bit) and the 47-bit `tag` at `at`.
#[inline]
pub(crate) fn wrtag(b: &mut [u8], at: usize, tag: ContextTag) {
    let [_, _, rest @ ..] = tag.get().to_be_bytes();
    wr(b, at, &rest);
}

#[inline]
pub(crate) fn zero(b: &mut [u8], at: usize, len: usize) {
    if let Some(d) = at.checked_add(len).and_then(|end| b.get_mut(at..end)) {
        d.fill(0);
    }
}

/// `n` rounded up to a multiple of 8, saturating.
#[inline]
pub(crate) fn align8(n: usize) -> usize {
    n.saturating_add(7) & !7
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_tag_bounds() {
        assert_eq!(ContextTag::new(1 << 47), None);
        assert_eq!(ContextTag::new((1 << 47) - 1), Some(ContextTag::MAX));
        assert_eq!(
            ContextTag::from_bits_truncate(u64::MAX).get(),
            0x7fff_ffff_ffff
        );
    }

    #[test]
    fn checksum_rfc1071_example() {
        // RFC 1071 §3 example: words 0001 f203 f4f5 f6f7 sum to ddf2 (folded), checksum 220d.
        assert_eq!(
            checksum(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]),
            0x220d
        );
        assert!(checksum_ok(&[
            0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7, 0x22, 0x0d
        ]));
    }

    #[test]
    fn tag_write_read() {
        let mut b = [0xffu8; 6];
        wrtag(&mut b, 0, ContextTag::MAX);
        assert_eq!(b, [0x7f, 0xff, 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(rdtag(&[0xff; 6], 0), ContextTag::MAX);
    }
}
