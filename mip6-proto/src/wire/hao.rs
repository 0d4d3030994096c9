//! The Home Address destination option (RFC 6275 §6.3).
//!
//! ```text
//!                                 +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//!                                 |  Option Type  | Option Length |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                          Home Address                         |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//! Option type 201 (0xC9), length 16, alignment 8n+6.

use core::net::Ipv6Addr;

use super::{Error, IpProtocol, Result, rd8, rdaddr, wr, wr8};

/// Option type of the Home Address option.
pub const HAO_TYPE: u8 = 0xc9;
/// Length of a Destination Options header holding only a Home Address option
/// (PadN of 4 octets, then the option): 24 octets.
pub const HAO_HEADER_LEN: usize = 24;

/// An IPv6 TLV option inside a hop-by-hop or destination options header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6Option<'a> {
    /// Offset of the type octet from the start of the options area.
    pub offset: usize,
    /// Type.
    pub option_type: u8,
    /// Data (empty for Pad1).
    pub data: &'a [u8],
}

/// Iterates the TLV options of a hop-by-hop or destination options header's
/// options area; yields `Err(Truncated)` once on an overrun.
#[derive(Debug, Clone)]
pub struct Ipv6Options<'a> {
    buf: &'a [u8],
    pos: usize,
    done: bool,
}

impl<'a> Ipv6Options<'a> {
    /// Over the options area `buf` (the header minus its first two octets).
    #[must_use]
    pub fn new(buf: &'a [u8]) -> Self {
        Self {
            buf,
            pos: 0,
            done: false,
        }
    }
}

impl<'a> Iterator for Ipv6Options<'a> {
    type Item = Result<Ipv6Option<'a>>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let rest = self.buf.get(self.pos..)?;
        let (&t, after) = rest.split_first()?;
        let offset = self.pos;
        if t == 0 {
            self.pos = self.pos.saturating_add(1);
            return Some(Ok(Ipv6Option {
                offset,
                option_type: 0,
                data: &[],
            }));
        }
        let data = after
            .split_first()
            .and_then(|(&l, body)| body.get(..usize::from(l)));
        let Some(data) = data else {
            self.done = true;
            return Some(Err(Error::Truncated));
        };
        self.pos = self.pos.saturating_add(2).saturating_add(data.len());
        Some(Ok(Ipv6Option {
            offset,
            option_type: t,
            data,
        }))
    }
}

/// Finds the first Home Address option in an options area: returns the offset
/// of the address (from the start of the area).
///
/// # Errors
/// [`Error::Truncated`] on an overrun; [`Error::BadLength`] for a Home Address
/// option whose length is not 16.
pub fn find_hao(area: &[u8]) -> Result<Option<usize>> {
    for o in Ipv6Options::new(area) {
        let o = o?;
        if o.option_type == HAO_TYPE {
            if o.data.len() != 16 {
                return Err(Error::BadLength);
            }
            return Ok(Some(o.offset.saturating_add(2)));
        }
    }
    Ok(None)
}

/// A Destination Options header that carries exactly one Home Address option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct HaoHeaderRepr {
    /// Next header after this one.
    pub next_header: IpProtocol,
    /// The home address.
    pub home_address: Ipv6Addr,
}

impl HaoHeaderRepr {
    /// Parses a whole Destination Options header (next header, length, options),
    /// finding its Home Address option.
    ///
    /// # Errors
    /// [`Error::Truncated`], [`Error::BadLength`]; [`Error::BadValue`] when no
    /// Home Address option is present.
    pub fn parse(hdr: &[u8]) -> Result<Self> {
        if hdr.len() < 8 {
            return Err(Error::Truncated);
        }
        let len = (usize::from(rd8(hdr, 1)).saturating_add(1)).saturating_mul(8);
        let hdr = hdr.get(..len).ok_or(Error::Truncated)?;
        let area = hdr.get(2..).unwrap_or(&[]);
        let at = find_hao(area)?.ok_or(Error::BadValue)?;
        Ok(Self {
            next_header: IpProtocol(rd8(hdr, 0)),
            home_address: rdaddr(area, at),
        })
    }
    /// 24.
    #[must_use]
    pub const fn buffer_len(&self) -> usize {
        HAO_HEADER_LEN
    }
    /// Emits `Next Header, 2, PadN(4), 0xC9, 16, home address` (alignment 8n+6).
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`].
    pub fn emit(&self, buf: &mut [u8]) -> Result<()> {
        let b = buf.get_mut(..HAO_HEADER_LEN).ok_or(Error::BufferTooSmall)?;
        b.copy_from_slice(&[0; HAO_HEADER_LEN]);
        wr8(b, 0, self.next_header.0);
        wr8(b, 1, 2);
        wr8(b, 2, 1);
        wr8(b, 3, 2);
        wr8(b, 6, HAO_TYPE);
        wr8(b, 7, 16);
        wr(b, 8, &self.home_address.octets());
        Ok(())
    }
}
