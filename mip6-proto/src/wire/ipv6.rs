//! The fixed IPv6 header (RFC 8200 §3) and a bounded walk over the
//! extension header chain (RFC 8200 §4).
//!
//! The generic IPv6 parts are written here rather than taken from a crate:
//! the transforms of this crate rewrite headers in place and need the exact
//! offsets of the Home Address option and the type 2 routing header, which
//! the zero-copy slices of general-purpose crates do not expose for writing,
//! and the Mobility Header (135) must be seen as a header of the chain.

use core::net::Ipv6Addr;

use super::{Error, IpProtocol, Result, rd8, rd16, rd32, rdaddr, wr, wr8, wr16, wr32};

/// Length of the fixed header.
pub const HEADER_LEN: usize = 40;

/// Default bound on the number of extension headers [`ExtChain`] walks.
pub const DEFAULT_MAX_EXT_HEADERS: usize = 16;

/// A zero-copy view of an IPv6 packet.
#[derive(Debug, Clone)]
pub struct Ipv6Packet<T: AsRef<[u8]>> {
    buf: T,
}

impl<T: AsRef<[u8]>> Ipv6Packet<T> {
    /// Wraps without checks.
    pub const fn new_unchecked(buf: T) -> Self {
        Self { buf }
    }
    /// Wraps and checks: at least 40 octets, version 6, payload length within the buffer.
    ///
    /// # Errors
    /// [`Error::Truncated`], [`Error::BadValue`] (version), [`Error::BadLength`].
    pub fn new_checked(buf: T) -> Result<Self> {
        let p = Self { buf };
        p.check_len()?;
        Ok(p)
    }
    /// See [`new_checked`](Self::new_checked).
    ///
    /// # Errors
    /// As [`new_checked`](Self::new_checked).
    pub fn check_len(&self) -> Result<()> {
        let b = self.buf.as_ref();
        if b.len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        if self.version() != 6 {
            return Err(Error::BadValue);
        }
        if b.len() < HEADER_LEN.saturating_add(usize::from(self.payload_len())) {
            return Err(Error::Truncated);
        }
        Ok(())
    }
    /// Consumes the view.
    pub fn into_inner(self) -> T {
        self.buf
    }
    /// Version (6).
    pub fn version(&self) -> u8 {
        rd8(self.buf.as_ref(), 0) >> 4
    }
    /// Traffic class.
    pub fn traffic_class(&self) -> u8 {
        let w = rd16(self.buf.as_ref(), 0);
        ((w >> 4) & 0xff) as u8
    }
    /// Flow label (20 bits).
    pub fn flow_label(&self) -> u32 {
        rd32(self.buf.as_ref(), 0) & 0x000f_ffff
    }
    /// Payload length.
    pub fn payload_len(&self) -> u16 {
        rd16(self.buf.as_ref(), 4)
    }
    /// Next header.
    pub fn next_header(&self) -> IpProtocol {
        IpProtocol(rd8(self.buf.as_ref(), 6))
    }
    /// Hop limit.
    pub fn hop_limit(&self) -> u8 {
        rd8(self.buf.as_ref(), 7)
    }
    /// Source address.
    pub fn src_addr(&self) -> Ipv6Addr {
        rdaddr(self.buf.as_ref(), 8)
    }
    /// Destination address.
    pub fn dst_addr(&self) -> Ipv6Addr {
        rdaddr(self.buf.as_ref(), 24)
    }
    /// The packet up to the end of its payload (trailing octets cut).
    pub fn packet(&self) -> &[u8] {
        let end = HEADER_LEN.saturating_add(usize::from(self.payload_len()));
        let b = self.buf.as_ref();
        b.get(..end).unwrap_or(b)
    }
    /// Payload (after the fixed header).
    pub fn payload(&self) -> &[u8] {
        self.packet().get(HEADER_LEN..).unwrap_or(&[])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv6Packet<T> {
    /// Sets payload length.
    pub fn set_payload_len(&mut self, v: u16) {
        wr16(self.buf.as_mut(), 4, v);
    }
    /// Sets next header.
    pub fn set_next_header(&mut self, v: IpProtocol) {
        wr8(self.buf.as_mut(), 6, v.0);
    }
    /// Sets the source address.
    pub fn set_src_addr(&mut self, a: Ipv6Addr) {
        wr(self.buf.as_mut(), 8, &a.octets());
    }
    /// Sets the destination address.
    pub fn set_dst_addr(&mut self, a: Ipv6Addr) {
        wr(self.buf.as_mut(), 24, &a.octets());
    }
}

/// The fixed IPv6 header as plain data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Ipv6Repr {
    /// Source address.
    pub src: Ipv6Addr,
    /// Destination address.
    pub dst: Ipv6Addr,
    /// Next header.
    pub next_header: IpProtocol,
    /// Payload length.
    pub payload_len: u16,
    /// Hop limit.
    pub hop_limit: u8,
    /// Traffic class.
    pub traffic_class: u8,
    /// Flow label (20 bits; higher bits are dropped on emit).
    pub flow_label: u32,
}

impl Ipv6Repr {
    /// Parses the fixed header.
    ///
    /// # Errors
    /// As [`Ipv6Packet::check_len`].
    pub fn parse<T: AsRef<[u8]>>(p: &Ipv6Packet<T>) -> Result<Self> {
        p.check_len()?;
        Ok(Self {
            src: p.src_addr(),
            dst: p.dst_addr(),
            next_header: p.next_header(),
            payload_len: p.payload_len(),
            hop_limit: p.hop_limit(),
            traffic_class: p.traffic_class(),
            flow_label: p.flow_label(),
        })
    }
    /// 40.
    #[must_use]
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }
    /// Writes the fixed header into the first 40 octets of `buf`.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`].
    pub fn emit(&self, buf: &mut [u8]) -> Result<()> {
        if buf.len() < HEADER_LEN {
            return Err(Error::BufferTooSmall);
        }
        let w =
            (6u32 << 28) | (u32::from(self.traffic_class) << 20) | (self.flow_label & 0x000f_ffff);
        wr32(buf, 0, w);
        wr16(buf, 4, self.payload_len);
        wr8(buf, 6, self.next_header.0);
        wr8(buf, 7, self.hop_limit);
        wr(buf, 8, &self.src.octets());
        wr(buf, 24, &self.dst.octets());
        Ok(())
    }
}

/// One extension header of the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtHeader<'a> {
    /// What this header is (0, 43, 44, 51, 60).
    pub kind: IpProtocol,
    /// Offset of the header from the start of the packet.
    pub offset: usize,
    /// The whole header.
    pub bytes: &'a [u8],
}

impl<'a> ExtHeader<'a> {
    /// Its Next Header field.
    #[must_use]
    pub fn next_header(&self) -> IpProtocol {
        IpProtocol(rd8(self.bytes, 0))
    }
    /// The options area of a hop-by-hop or destination options header.
    #[must_use]
    pub fn options(&self) -> &'a [u8] {
        self.bytes.get(2..).unwrap_or(&[])
    }
}

/// True for the headers the walk steps over (RFC 8200 §4 plus AH).
#[must_use]
pub fn is_extension(p: IpProtocol) -> bool {
    matches!(
        p,
        IpProtocol::HOP_BY_HOP
            | IpProtocol::ROUTING
            | IpProtocol::FRAGMENT
            | IpProtocol::DEST_OPTIONS
            | IpProtocol::AH
    )
}

/// A bounded walk over the extension headers of a packet. Stops at the first
/// header that is not an extension header (the Mobility Header, ICMPv6,
/// Shim6, a transport, ESP, an unknown value) or at a non-first fragment,
/// which [`upper_layer`](Self::upper_layer) then reports.
#[derive(Debug, Clone)]
pub struct ExtChain<'a> {
    pkt: &'a [u8],
    next: IpProtocol,
    off: usize,
    count: usize,
    max: usize,
    done: bool,
    fragmented: bool,
}

impl<'a> ExtChain<'a> {
    /// Walks the packet `pkt` (starting with the fixed header, already checked
    /// with [`Ipv6Packet::new_checked`]) visiting at most `max` extension headers.
    #[must_use]
    pub fn new(pkt: &'a [u8], max: usize) -> Self {
        let p = Ipv6Packet::new_unchecked(pkt);
        let end = HEADER_LEN.saturating_add(usize::from(p.payload_len()));
        Self {
            pkt: pkt.get(..end).unwrap_or(pkt),
            next: p.next_header(),
            off: HEADER_LEN,
            count: 0,
            max,
            done: false,
            fragmented: false,
        }
    }

    /// After the iteration ended without error: the protocol and offset of the
    /// upper-layer header (or of the header where the walk stopped).
    #[must_use]
    pub fn upper_layer(&self) -> (IpProtocol, usize) {
        (self.next, self.off)
    }

    /// True when a fragment header with a non-zero offset stopped the walk.
    #[must_use]
    pub fn is_non_first_fragment(&self) -> bool {
        self.fragmented
    }
}

impl<'a> Iterator for ExtChain<'a> {
    type Item = Result<ExtHeader<'a>>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.done || !is_extension(self.next) {
            return None;
        }
        if self.count >= self.max {
            self.done = true;
            return Some(Err(Error::ChainTooLong));
        }
        if self.next == IpProtocol::HOP_BY_HOP && self.off != HEADER_LEN {
            //= https://www.rfc-editor.org/rfc/rfc8200#section-4.3
            //# The Hop-by-Hop Options header, when present, must immediately
            //# follow the IPv6 header.
            self.done = true;
            return Some(Err(Error::BadValue));
        }
        let rest = self.pkt.get(self.off..).unwrap_or(&[]);
        if rest.len() < 8 {
            self.done = true;
            return Some(Err(Error::Truncated));
        }
        let len = match self.next {
            IpProtocol::FRAGMENT => 8,
            IpProtocol::AH => (usize::from(rd8(rest, 1)).saturating_add(2)).saturating_mul(4),
            _ => (usize::from(rd8(rest, 1)).saturating_add(1)).saturating_mul(8),
        };
        let Some(bytes) = rest.get(..len) else {
            self.done = true;
            return Some(Err(Error::Truncated));
        };
        let h = ExtHeader {
            kind: self.next,
            offset: self.off,
            bytes,
        };
        self.count = self.count.saturating_add(1);
        self.off = self.off.saturating_add(len);
        self.next = h.next_header();
        if h.kind == IpProtocol::FRAGMENT && rd16(bytes, 2) & 0xfff8 != 0 {
            // Not the first fragment: what follows is not a header.
            self.fragmented = true;
            self.done = true;
        }
        Some(Ok(h))
    }
}

/// What a walk found that matters to Mobile IPv6.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MobilityInfo {
    /// Offset of the Home Address in the first Home Address option, if any.
    pub hao_offset: Option<usize>,
    /// Offset of the first type 2 routing header, if any.
    pub rh2_offset: Option<usize>,
    /// Offset of the first routing header of any type, if any.
    pub routing_offset: Option<usize>,
    /// Offset after the hop-by-hop header (where a routing header goes).
    pub after_hbh: usize,
    /// Offset of the Next Header field that precedes `after_hbh`.
    pub after_hbh_slot: usize,
    /// Offset where a Home Address destination options header goes: after
    /// hop-by-hop and routing headers, before fragment/AH/ESP and the upper layer.
    pub hao_insert_at: usize,
    /// Offset of the Next Header field that precedes `hao_insert_at`.
    pub hao_insert_slot: usize,
    /// Next Header of the destination options header holding the first Home Address option.
    pub hao_next_header: Option<IpProtocol>,
    /// Number of extension headers walked.
    pub ext_count: usize,
    /// Upper-layer protocol (where the walk stopped).
    pub upper: IpProtocol,
    /// Offset of the upper-layer header.
    pub upper_offset: usize,
}

/// Walks `pkt` (checked) and collects [`MobilityInfo`].
///
/// # Errors
/// Any error of the walk or of the options of a destination options header.
pub fn mobility_info(pkt: &[u8], max: usize) -> Result<MobilityInfo> {
    let mut chain = ExtChain::new(pkt, max);
    let mut info = MobilityInfo {
        hao_offset: None,
        rh2_offset: None,
        routing_offset: None,
        after_hbh: HEADER_LEN,
        after_hbh_slot: 6,
        hao_insert_at: HEADER_LEN,
        hao_insert_slot: 6,
        hao_next_header: None,
        ext_count: 0,
        upper: IpProtocol::NONE,
        upper_offset: HEADER_LEN,
    };
    let mut placing = true;
    for h in chain.by_ref() {
        let h = h?;
        info.ext_count = info.ext_count.saturating_add(1);
        let end = h.offset.saturating_add(h.bytes.len());
        match h.kind {
            IpProtocol::HOP_BY_HOP => {
                info.after_hbh = end;
                info.after_hbh_slot = h.offset;
                if placing {
                    info.hao_insert_at = end;
                    info.hao_insert_slot = h.offset;
                }
            }
            IpProtocol::ROUTING => {
                if info.routing_offset.is_none() {
                    info.routing_offset = Some(h.offset);
                }
                if rd8(h.bytes, 2) == 2 && info.rh2_offset.is_none() {
                    info.rh2_offset = Some(h.offset);
                }
                if placing {
                    info.hao_insert_at = end;
                    info.hao_insert_slot = h.offset;
                }
            }
            IpProtocol::DEST_OPTIONS => {
                if let Some(at) = super::hao::find_hao(h.options())?
                    && info.hao_offset.is_none()
                {
                    info.hao_offset = Some(h.offset.saturating_add(2).saturating_add(at));
                    info.hao_next_header = Some(h.next_header());
                }
            }
            _ => placing = false,
        }
    }
    let (upper, upper_offset) = chain.upper_layer();
    info.upper = upper;
    info.upper_offset = upper_offset;
    Ok(info)
}
