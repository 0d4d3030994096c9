//! The type 2 routing header (RFC 6275 §6.4).
//!
//! ```text
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  Next Header  | Hdr Ext Len=2 | Routing Type=2|Segments Left=1|
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                            Reserved                           |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                          Home Address                         |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use core::net::Ipv6Addr;

use super::{Error, IpProtocol, Result, rd8, rd32, rdaddr, wr, wr8, wr32};

/// Length of a type 2 routing header.
pub const RH2_LEN: usize = 24;

/// A type 2 routing header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Rh2Repr {
    /// Next header.
    pub next_header: IpProtocol,
    /// Segments left (1 when sent, 0 once processed).
    pub segments_left: u8,
    /// Reserved field (kept).
    pub reserved: u32,
    /// The home address.
    pub home_address: Ipv6Addr,
}

impl Rh2Repr {
    /// Parses a routing header of type 2.
    ///
    /// # Errors
    /// [`Error::Truncated`]; [`Error::Unsupported`] for another routing type;
    /// [`Error::BadLength`] when Hdr Ext Len is not 2 (§6.4: "MUST be 2");
    /// [`Error::BadValue`] when Segments Left is above 1.
    pub fn parse(hdr: &[u8]) -> Result<Self> {
        if hdr.len() < 8 {
            return Err(Error::Truncated);
        }
        if rd8(hdr, 2) != 2 {
            return Err(Error::Unsupported(rd8(hdr, 2)));
        }
        //= https://www.rfc-editor.org/rfc/rfc6275#section-6.4
        //# For a type 2 routing header, the Hdr Ext Len MUST be 2.
        if rd8(hdr, 1) != 2 {
            return Err(Error::BadLength);
        }
        if hdr.len() < RH2_LEN {
            return Err(Error::Truncated);
        }
        if rd8(hdr, 3) > 1 {
            return Err(Error::BadValue);
        }
        Ok(Self {
            next_header: IpProtocol(rd8(hdr, 0)),
            segments_left: rd8(hdr, 3),
            reserved: rd32(hdr, 4),
            home_address: rdaddr(hdr, 8),
        })
    }
    /// 24.
    #[must_use]
    pub const fn buffer_len(&self) -> usize {
        RH2_LEN
    }
    /// Emits the header.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`].
    pub fn emit(&self, buf: &mut [u8]) -> Result<()> {
        let b = buf.get_mut(..RH2_LEN).ok_or(Error::BufferTooSmall)?;
        wr8(b, 0, self.next_header.0);
        wr8(b, 1, 2);
        wr8(b, 2, 2);
        wr8(b, 3, self.segments_left);
        wr32(b, 4, self.reserved);
        wr(b, 8, &self.home_address.octets());
        Ok(())
    }
}
