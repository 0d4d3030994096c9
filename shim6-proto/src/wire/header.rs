//! The Shim6 header (IP protocol 140, RFC 5533 §5.1-5.3).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  Next Header  |  Hdr Ext Len  |1|                             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                             |   payload
//! |                      Receiver Context Tag                     |   extension
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+   header (§5.2)
//!
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  Next Header  |  Hdr Ext Len  |0|     Type    |Type-specific|S|   control
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+   header (§5.3)
//! |            Checksum           |                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               |
//! |                    Type-specific format                       |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! [`Shim6Packet`] is the view over both; [`PayloadRepr`] and
//! [`ControlRepr`] are their representations and [`Shim6Repr`] is either.

use super::control::{ControlRepr, MessageType};
use super::{ContextTag, Error, Result, checksum, rd8, rd16, rdtag, wr8, wr16, wrtag};

mod field {
    pub const NEXT_HEADER: usize = 0;
    pub const HDR_EXT_LEN: usize = 1;
    /// P bit (top bit) and, for control messages, the 7-bit Type.
    pub const P_TYPE: usize = 2;
    /// Type-specific (7 bits) and the S bit (low bit).
    pub const TYPE_SPECIFIC_S: usize = 3;
    pub const CHECKSUM: usize = 4;
    /// The payload extension header's 47-bit context tag follows the P bit.
    pub const PAYLOAD_TAG: usize = 2;
}

/// Length of the smallest Shim6 header (8 octets).
pub const MIN_HEADER_LEN: usize = 8;
/// Length of the largest Shim6 header: Hdr Ext Len 255 gives 2048 octets.
pub const MAX_HEADER_LEN: usize = 2048;

/// A view over a Shim6 header and what follows it.
///
/// After [`Shim6Packet::new_checked`] succeeds, the buffer holds at least
/// [`Shim6Packet::header_len`] octets and no accessor panics (no accessor
/// panics in any case: out-of-range reads return zero).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shim6Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Shim6Packet<T> {
    /// Wraps `buffer` without checking it (for emitting).
    pub const fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    /// Wraps `buffer` and checks that it holds the whole Shim6 header.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Checks that the buffer holds at least 8 octets and the whole header
    /// that Hdr Ext Len announces (RFC 5533 §12.3: a message may not claim
    /// to end past the end of the packet).
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < MIN_HEADER_LEN || len < self.header_len() {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }

    /// Consumes the view and returns the buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The Next Header field.
    pub fn next_header(&self) -> u8 {
        rd8(self.buffer.as_ref(), field::NEXT_HEADER)
    }

    /// The Hdr Ext Len field (8-octet units, not counting the first 8).
    pub fn hdr_ext_len(&self) -> u8 {
        rd8(self.buffer.as_ref(), field::HDR_EXT_LEN)
    }

    /// The header length in octets, `(Hdr Ext Len + 1) * 8`.
    pub fn header_len(&self) -> usize {
        (usize::from(self.hdr_ext_len()) << 3).saturating_add(8)
    }

    /// The P bit: true for a payload extension header, false for a control message.
    pub fn p_bit(&self) -> bool {
        rd8(self.buffer.as_ref(), field::P_TYPE) & 0x80 != 0
    }

    /// The 7-bit message Type of a control message.
    pub fn msg_type(&self) -> MessageType {
        MessageType(rd8(self.buffer.as_ref(), field::P_TYPE) & 0x7f)
    }

    /// The 7-bit Type-specific field of a control message (Reserved1 or the Error Code).
    pub fn type_specific(&self) -> u8 {
        rd8(self.buffer.as_ref(), field::TYPE_SPECIFIC_S) >> 1
    }

    /// The S bit of a control message (zero for Shim6, one for HIP).
    pub fn s_bit(&self) -> bool {
        rd8(self.buffer.as_ref(), field::TYPE_SPECIFIC_S) & 1 != 0
    }

    /// The Checksum field of a control message.
    pub fn checksum(&self) -> u16 {
        rd16(self.buffer.as_ref(), field::CHECKSUM)
    }

    /// The Receiver Context Tag of a payload extension header.
    pub fn payload_context_tag(&self) -> ContextTag {
        rdtag(self.buffer.as_ref(), field::PAYLOAD_TAG)
    }

    /// The header octets (`header_len` of them, fewer if the buffer is short).
    pub fn header(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        b.get(..self.header_len()).unwrap_or(b)
    }

    /// What follows the header (the upper-layer payload of a payload
    /// extension header; normally empty after a control message).
    pub fn payload(&self) -> &[u8] {
        self.buffer.as_ref().get(self.header_len()..).unwrap_or(&[])
    }

    /// True when the control message checksum verifies over the header.
    pub fn verify_checksum(&self) -> bool {
        super::checksum_ok(self.header())
    }
}

impl<'a> Shim6Packet<&'a [u8]> {
    /// The header octets, with the buffer's lifetime.
    pub fn header_bytes(&self) -> &'a [u8] {
        let b: &'a [u8] = self.buffer;
        b.get(..self.header_len()).unwrap_or(b)
    }

    /// What follows the header, with the buffer's lifetime.
    pub fn payload_bytes(&self) -> &'a [u8] {
        let b: &'a [u8] = self.buffer;
        b.get(self.header_len()..).unwrap_or(&[])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Shim6Packet<T> {
    /// Sets the Next Header field.
    pub fn set_next_header(&mut self, v: u8) {
        wr8(self.buffer.as_mut(), field::NEXT_HEADER, v);
    }

    /// Sets the Hdr Ext Len field.
    pub fn set_hdr_ext_len(&mut self, v: u8) {
        wr8(self.buffer.as_mut(), field::HDR_EXT_LEN, v);
    }

    /// Sets P = 0 and the 7-bit Type of a control message.
    pub fn set_msg_type(&mut self, t: MessageType) {
        wr8(self.buffer.as_mut(), field::P_TYPE, t.0 & 0x7f);
    }

    /// Sets the 7-bit Type-specific field and S = 0.
    pub fn set_type_specific(&mut self, v: u8) {
        wr8(
            self.buffer.as_mut(),
            field::TYPE_SPECIFIC_S,
            (v & 0x7f) << 1,
        );
    }

    /// Sets the Checksum field.
    pub fn set_checksum(&mut self, v: u16) {
        wr16(self.buffer.as_mut(), field::CHECKSUM, v);
    }

    /// Computes and stores the checksum over the header.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let c = checksum(self.header());
        self.set_checksum(c);
    }

    /// Sets P = 1 and the Receiver Context Tag of a payload extension header.
    pub fn set_payload_context_tag(&mut self, tag: ContextTag) {
        let b = self.buffer.as_mut();
        wrtag(b, field::PAYLOAD_TAG, tag);
        if let Some(x) = b.get_mut(field::PAYLOAD_TAG) {
            *x |= 0x80;
        }
    }

    /// The whole buffer, mutable.
    pub fn buffer_mut(&mut self) -> &mut [u8] {
        self.buffer.as_mut()
    }
}

/// The Shim6 payload extension header (RFC 5533 §5.2): carries a ULP packet
/// whose addresses the receiver replaces with the context's ULIDs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct PayloadRepr {
    /// The protocol of the payload that follows.
    pub next_header: u8,
    /// The context tag allocated by the receiver.
    pub context_tag: ContextTag,
}

impl PayloadRepr {
    /// Length of the header: always 8 octets.
    pub const LEN: usize = 8;

    /// Parses a payload extension header. Errors: [`Error::WrongKind`] for a
    /// control message, [`Error::BadLength`] when Hdr Ext Len is not 0.
    pub fn parse<T: AsRef<[u8]>>(p: &Shim6Packet<T>) -> Result<Self> {
        p.check_len()?;
        if !p.p_bit() {
            return Err(Error::WrongKind);
        }
        if p.hdr_ext_len() != 0 {
            return Err(Error::BadLength);
        }
        Ok(Self {
            next_header: p.next_header(),
            context_tag: p.payload_context_tag(),
        })
    }

    /// Octets needed by [`PayloadRepr::emit`].
    pub const fn buffer_len(&self) -> usize {
        Self::LEN
    }

    /// Writes the header into the first 8 octets of `p`.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, p: &mut Shim6Packet<T>) -> Result<()> {
        if p.buffer.as_ref().len() < Self::LEN {
            return Err(Error::BufferTooSmall);
        }
        p.set_next_header(self.next_header);
        p.set_hdr_ext_len(0);
        p.set_payload_context_tag(self.context_tag);
        Ok(())
    }
}

/// Any Shim6 header: a payload extension header or a control message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Shim6Repr<'a> {
    /// P = 1 (RFC 5533 §5.2).
    Payload(PayloadRepr),
    /// P = 0 (RFC 5533 §5.3).
    Control(ControlRepr<'a>),
}

impl<'a> Shim6Repr<'a> {
    /// Parses either kind, dispatching on the P bit.
    pub fn parse(p: &Shim6Packet<&'a [u8]>) -> Result<Self> {
        p.check_len()?;
        if p.p_bit() {
            PayloadRepr::parse(p).map(Self::Payload)
        } else {
            ControlRepr::parse(p).map(Self::Control)
        }
    }

    /// Octets needed by [`Shim6Repr::emit`].
    pub fn buffer_len(&self) -> usize {
        match self {
            Self::Payload(r) => r.buffer_len(),
            Self::Control(r) => r.buffer_len(),
        }
    }

    /// Writes the header (and checksum for a control message).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, p: &mut Shim6Packet<T>) -> Result<()> {
        match self {
            Self::Payload(r) => r.emit(p),
            Self::Control(r) => r.emit(p),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // shim6-payload-0 of the vectors: 3b00b6f209e98196.
    const PAYLOAD: [u8; 8] = [0x3b, 0x00, 0xb6, 0xf2, 0x09, 0xe9, 0x81, 0x96];

    #[test]
    fn payload_header_fields() {
        let p = Shim6Packet::new_checked(&PAYLOAD[..]).unwrap();
        assert!(p.p_bit());
        let r = PayloadRepr::parse(&p).unwrap();
        assert_eq!(r.next_header, 59);
        // 0x36f209e98196 by hand: the top bit of 0xb6 is P.
        assert_eq!(r.context_tag.get(), 0x36f2_09e9_8196);
        let mut out = [0u8; 8];
        r.emit(&mut Shim6Packet::new_unchecked(&mut out[..]))
            .unwrap();
        assert_eq!(out, PAYLOAD);
    }

    #[test]
    fn payload_header_truncated_and_bad_len() {
        for n in 0..PAYLOAD.len() {
            assert_eq!(
                Shim6Packet::new_checked(&PAYLOAD[..n]).unwrap_err(),
                Error::Truncated
            );
        }
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&PAYLOAD);
        b[1] = 1;
        let p = Shim6Packet::new_checked(&b[..]).unwrap();
        assert_eq!(PayloadRepr::parse(&p), Err(Error::BadLength));
        b[1] = 2;
        assert_eq!(
            Shim6Packet::new_checked(&b[..]).unwrap_err(),
            Error::Truncated
        );
    }

    #[test]
    fn payload_emit_small_buffer() {
        let r = PayloadRepr {
            next_header: 6,
            context_tag: ContextTag::MAX,
        };
        let mut out = [0u8; 7];
        assert_eq!(
            r.emit(&mut Shim6Packet::new_unchecked(&mut out[..])),
            Err(Error::BufferTooSmall)
        );
    }
}
