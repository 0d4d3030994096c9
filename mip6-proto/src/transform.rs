//! Data-plane transforms: pure functions over packet buffers, one per packet
//! path of SHISA (seed 002 §4.8), allocating nothing.
//!
//! Two buffer layouts are offered. In the simple one a packet occupies
//! `buf[..len]`; transforms that grow it need room after it (24 octets for a
//! Home Address option or a type 2 routing header, 40 for tunnel
//! encapsulation) and move the tail. The `_front` variants take a [`Span`]
//! inside the buffer and grow into the headroom before it: they move only
//! the headers in front of the insertion point (or nothing at all, for
//! encapsulation and decapsulation) and return the new span. Each transform
//! returns a [`TransformError`] and leaves the buffer untouched when it must
//! not handle the packet.
//!
//! | path | who | function |
//! |---|---|---|
//! | 1 | MN sends through the bi-directional tunnel | [`encapsulate`] / [`encapsulate_front`] (care-of → home agent) |
//! | 2 | MN receives from the tunnel | [`mn_tunnel_input`] ([`decapsulate`] / [`decapsulate_front`], outer source = HA) |
//! | 3 | MN sends route-optimised | [`mn_output_ro`] / [`mn_output_ro_front`] |
//! | 4 | MN receives route-optimised | [`mn_input_ro`] |
//! | 5 | HA intercepts and tunnels to the MN | [`encapsulate`] / [`encapsulate_front`] (home agent → care-of) |
//! | 6 | HA receives tunnelled packets from the MN | [`ha_tunnel_input`] (binding checked) |
//! | 7 | CN sends route-optimised | [`cn_output_ro`] / [`cn_output_ro_front`] |
//! | 8 | CN receives route-optimised | [`cn_input_ro`] |
#![deny(clippy::arithmetic_side_effects)]

use core::net::Ipv6Addr;

use crate::wire::hao::{HAO_HEADER_LEN, HaoHeaderRepr};
use crate::wire::ipv6::{self, DEFAULT_MAX_EXT_HEADERS, HEADER_LEN, Ipv6Packet, Ipv6Repr};
use crate::wire::rh2::{RH2_LEN, Rh2Repr};
use crate::wire::{self, IpProtocol, rd8, rdaddr, wr, wr8};

/// Why a transform refused a packet. The buffer is unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransformError {
    /// The packet does not parse.
    #[error("malformed packet: {0}")]
    Malformed(wire::Error),
    /// `len` exceeds the buffer, or the buffer has no room to grow.
    #[error("no room in the buffer")]
    NoRoom,
    /// The packet would exceed 65535 octets of payload.
    #[error("packet too big")]
    TooBig,
    /// The packet already carries a Home Address option.
    #[error("packet already has a home address option")]
    AlreadyHasHao,
    /// The packet already carries a routing header.
    #[error("packet already has a routing header")]
    AlreadyRouted,
    /// The packet has no Home Address option.
    #[error("no home address option")]
    NoHao,
    /// The packet has no type 2 routing header.
    #[error("no type 2 routing header")]
    NoRh2,
    /// No binding covers this home address / care-of pair: answer with a
    /// Binding Error, status 1 (RFC 6275 §9.3.1).
    #[error("no binding for the home address")]
    NoBinding,
    /// The type 2 routing header's home address is not one of ours, or its
    /// segments left is not 1 (RFC 6275 §6.4).
    #[error("type 2 routing header not for us")]
    NotOurHomeAddress,
    /// Not an IPv6-in-IPv6 packet (next header 41 after the fixed header).
    #[error("not a tunnelled packet")]
    NotTunnelled,
    /// The tunnel's endpoints or the inner addresses are not acceptable.
    #[error("tunnel packet refused")]
    TunnelRefused,
}

impl From<wire::Error> for TransformError {
    fn from(e: wire::Error) -> Self {
        Self::Malformed(e)
    }
}

/// Result over [`TransformError`].
pub type Result<T> = core::result::Result<T, TransformError>;

fn checked(buf: &[u8], len: usize) -> Result<(&[u8], Ipv6Repr)> {
    let pkt = buf.get(..len).ok_or(TransformError::NoRoom)?;
    let p = Ipv6Packet::new_checked(pkt)?;
    if usize::from(p.payload_len()).saturating_add(HEADER_LEN) != len {
        return Err(TransformError::Malformed(wire::Error::BadLength));
    }
    Ok((pkt, Ipv6Repr::parse(&p)?))
}

fn set_payload_len(buf: &mut [u8], new_len: usize) -> Result<()> {
    let pl =
        u16::try_from(new_len.saturating_sub(HEADER_LEN)).map_err(|_| TransformError::TooBig)?;
    Ipv6Packet::new_unchecked(buf).set_payload_len(pl);
    Ok(())
}

/// The result must stay walkable within the chain bound.
fn room_for_one_more_header(info: &ipv6::MobilityInfo) -> Result<()> {
    if info.ext_count >= DEFAULT_MAX_EXT_HEADERS {
        return Err(TransformError::Malformed(wire::Error::ChainTooLong));
    }
    Ok(())
}

/// Where a packet lies in a buffer: `buf[start..start + len]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Span {
    /// Offset of the fixed header.
    pub start: usize,
    /// Length of the packet.
    pub len: usize,
}

impl Span {
    /// The packet's octets in `buf`, if the span fits.
    #[must_use]
    pub fn of<'b>(&self, buf: &'b [u8]) -> Option<&'b [u8]> {
        buf.get(self.start..self.start.checked_add(self.len)?)
    }
}

/// Opens a gap of `n` octets at offset `at` of the packet `span`, moving the
/// tail right (`front == false`) or the head left into the headroom.
fn open_gap(buf: &mut [u8], span: Span, at: usize, n: usize, front: bool) -> Result<Span> {
    let end = span
        .start
        .checked_add(span.len)
        .ok_or(TransformError::NoRoom)?;
    let new_len = span.len.checked_add(n).ok_or(TransformError::NoRoom)?;
    let split = span.start.checked_add(at).ok_or(TransformError::NoRoom)?;
    if at > span.len || end > buf.len() {
        return Err(TransformError::NoRoom);
    }
    if front {
        let new_start = span.start.checked_sub(n).ok_or(TransformError::NoRoom)?;
        buf.copy_within(span.start..split, new_start);
        Ok(Span {
            start: new_start,
            len: new_len,
        })
    } else {
        let new_end = end.checked_add(n).ok_or(TransformError::NoRoom)?;
        if new_end > buf.len() {
            return Err(TransformError::NoRoom);
        }
        let dst = split.checked_add(n).ok_or(TransformError::NoRoom)?;
        buf.copy_within(split..end, dst);
        Ok(Span {
            start: span.start,
            len: new_len,
        })
    }
}

fn span_mut(buf: &mut [u8], span: Span) -> Result<&mut [u8]> {
    let end = span
        .start
        .checked_add(span.len)
        .ok_or(TransformError::NoRoom)?;
    buf.get_mut(span.start..end).ok_or(TransformError::NoRoom)
}

fn check_room(buf: &[u8], span: Span, n: usize, front: bool) -> Result<()> {
    let end = span
        .start
        .checked_add(span.len)
        .ok_or(TransformError::NoRoom)?;
    let ok = if front {
        span.start >= n && end <= buf.len()
    } else {
        end.checked_add(n).is_some_and(|e| e <= buf.len())
    };
    if !ok {
        return Err(TransformError::NoRoom);
    }
    if span.len.saturating_add(n).saturating_sub(HEADER_LEN) > usize::from(u16::MAX) {
        return Err(TransformError::TooBig);
    }
    Ok(())
}

/// Path 3, MN sends route-optimised: inserts a Destination Options header
/// holding a Home Address option with the packet's source (the home
/// address) after any hop-by-hop and routing headers (RFC 6275 §6.3), and
/// makes `care_of` the source. Upper-layer checksums stay valid: they were
/// computed over the home address, which the receiver restores.
///
/// # Errors
/// [`TransformError::AlreadyHasHao`], [`TransformError::NoRoom`],
/// [`TransformError::Malformed`], [`TransformError::TooBig`].
pub fn mn_output_ro(buf: &mut [u8], len: usize, care_of: Ipv6Addr) -> Result<usize> {
    mn_output_ro_span(buf, Span { start: 0, len }, care_of, false).map(|s| s.len)
}

/// [`mn_output_ro`] growing into the headroom before `span` (at least 24
/// octets): only the fixed header and any hop-by-hop and routing headers move.
///
/// # Errors
/// As [`mn_output_ro`].
pub fn mn_output_ro_front(buf: &mut [u8], span: Span, care_of: Ipv6Addr) -> Result<Span> {
    mn_output_ro_span(buf, span, care_of, true)
}

fn mn_output_ro_span(buf: &mut [u8], span: Span, care_of: Ipv6Addr, front: bool) -> Result<Span> {
    let whole = span.of(buf).ok_or(TransformError::NoRoom)?;
    let (pkt, ip) = checked(whole, span.len)?;
    let info = ipv6::mobility_info(pkt, DEFAULT_MAX_EXT_HEADERS)?;
    if info.hao_offset.is_some() {
        return Err(TransformError::AlreadyHasHao);
    }
    room_for_one_more_header(&info)?;
    let at = info.hao_insert_at;
    let slot = info.hao_insert_slot;
    let prev_next = rd8(pkt, slot);
    check_room(buf, span, HAO_HEADER_LEN, front)?;
    let new = open_gap(buf, span, at, HAO_HEADER_LEN, front)?;
    let p = span_mut(buf, new)?;
    let hdr = HaoHeaderRepr {
        next_header: IpProtocol(prev_next),
        home_address: ip.src,
    };
    hdr.emit(p.get_mut(at..).ok_or(TransformError::NoRoom)?)?;
    wr8(p, slot, IpProtocol::DEST_OPTIONS.0);
    wr(p, 8, &care_of.octets());
    set_payload_len(p, new.len)?;
    Ok(new)
}

/// What [`cn_input_ro`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HaoSwap {
    /// The home address, now the source.
    pub home_address: Ipv6Addr,
    /// The care-of address, now in the Home Address option.
    pub care_of: Ipv6Addr,
    /// True when no binding was needed because the packet is signalling
    /// (next header 50, 51 or 135, RFC 6275 §9.3.1; seed 002 §4.9's Binding Update case).
    pub without_binding: bool,
}

/// Path 8, CN receives route-optimised: verifies the Home Address option
/// against `has_binding(home, care_of)` (the caller's binding cache), then
/// swaps the home address into the source and the care-of address into the
/// option, as SHISA's `dest6_swap_hao` does. A packet whose header after the
/// option is ESP, AH or a Mobility Header passes without a binding (RFC 6275
/// §9.3.1): the Binding Update that creates the binding is verified by return
/// routability (or IPsec) afterwards (seed 002 §4.9).
///
/// # Errors
/// [`TransformError::NoHao`], [`TransformError::NoBinding`] (send a Binding
/// Error, status 1), [`TransformError::Malformed`] (also for a home address that
/// is not unicast, which §9.3.1 drops).
pub fn cn_input_ro(
    buf: &mut [u8],
    len: usize,
    mut has_binding: impl FnMut(&Ipv6Addr, &Ipv6Addr) -> bool,
) -> Result<HaoSwap> {
    let (pkt, ip) = checked(buf, len)?;
    let info = ipv6::mobility_info(pkt, DEFAULT_MAX_EXT_HEADERS)?;
    let at = info.hao_offset.ok_or(TransformError::NoHao)?;
    let home = rdaddr(pkt, at);
    //= https://www.rfc-editor.org/rfc/rfc6275#section-9.3.1
    //# Packets containing a Home Address option MUST be dropped if the given
    //# home address is not a unicast routable address.
    if home.is_multicast() || home.is_unspecified() || home.is_loopback() {
        return Err(TransformError::Malformed(wire::Error::BadValue));
    }
    let care_of = ip.src;
    let signalling = matches!(
        info.hao_next_header,
        Some(IpProtocol::ESP | IpProtocol::AH | IpProtocol::MOBILITY)
    );
    //= https://www.rfc-editor.org/rfc/rfc6275#section-9.3.1
    //# If the Next Header
    //# value of the Destination Option is one of the following: {50 (ESP),
    //# 51 (AH), 135 (Mobility Header)}, the packet SHOULD be processed
    //# normally.  Otherwise, the packet MUST be dropped if there is no
    //# corresponding Binding Cache entry.
    let bound = has_binding(&home, &care_of);
    if !bound && !signalling {
        return Err(TransformError::NoBinding);
    }
    wr(buf, 8, &home.octets());
    wr(buf, at, &care_of.octets());
    Ok(HaoSwap {
        home_address: home,
        care_of,
        without_binding: !bound,
    })
}

/// Path 7, CN sends route-optimised: the packet is addressed to the home
/// address; inserts a type 2 routing header carrying it right after any
/// hop-by-hop header and makes `care_of` the destination (RFC 6275 §6.4, §9.3.2).
///
/// # Errors
/// [`TransformError::AlreadyRouted`], [`TransformError::NoRoom`],
/// [`TransformError::Malformed`], [`TransformError::TooBig`].
pub fn cn_output_ro(buf: &mut [u8], len: usize, care_of: Ipv6Addr) -> Result<usize> {
    cn_output_ro_span(buf, Span { start: 0, len }, care_of, false).map(|s| s.len)
}

/// [`cn_output_ro`] growing into the headroom before `span` (at least 24
/// octets): only the fixed header and any hop-by-hop header move.
///
/// # Errors
/// As [`cn_output_ro`].
pub fn cn_output_ro_front(buf: &mut [u8], span: Span, care_of: Ipv6Addr) -> Result<Span> {
    cn_output_ro_span(buf, span, care_of, true)
}

fn cn_output_ro_span(buf: &mut [u8], span: Span, care_of: Ipv6Addr, front: bool) -> Result<Span> {
    let whole = span.of(buf).ok_or(TransformError::NoRoom)?;
    let (pkt, ip) = checked(whole, span.len)?;
    let info = ipv6::mobility_info(pkt, DEFAULT_MAX_EXT_HEADERS)?;
    if info.routing_offset.is_some() {
        return Err(TransformError::AlreadyRouted);
    }
    room_for_one_more_header(&info)?;
    let at = info.after_hbh;
    let slot = info.after_hbh_slot;
    let prev_next = rd8(pkt, slot);
    check_room(buf, span, RH2_LEN, front)?;
    let new = open_gap(buf, span, at, RH2_LEN, front)?;
    let p = span_mut(buf, new)?;
    let rh = Rh2Repr {
        next_header: IpProtocol(prev_next),
        segments_left: 1,
        reserved: 0,
        home_address: ip.dst,
    };
    rh.emit(p.get_mut(at..).ok_or(TransformError::NoRoom)?)?;
    wr8(p, slot, IpProtocol::ROUTING.0);
    wr(p, 24, &care_of.octets());
    set_payload_len(p, new.len)?;
    Ok(new)
}

/// Path 4, MN receives route-optimised: processes the type 2 routing header
/// when `is_our_home(home)` accepts its address: swaps it with the
/// destination (the care-of address) and sets Segments Left to 0 (RFC 6275
/// §6.4, RFC 8200 §4.4). Returns the home address.
///
/// # Errors
/// [`TransformError::NoRh2`], [`TransformError::NotOurHomeAddress`],
/// [`TransformError::Malformed`].
pub fn mn_input_ro(
    buf: &mut [u8],
    len: usize,
    mut is_our_home: impl FnMut(&Ipv6Addr) -> bool,
) -> Result<Ipv6Addr> {
    let (pkt, ip) = checked(buf, len)?;
    let info = ipv6::mobility_info(pkt, DEFAULT_MAX_EXT_HEADERS)?;
    let at = info.rh2_offset.ok_or(TransformError::NoRh2)?;
    let rh = Rh2Repr::parse(pkt.get(at..).unwrap_or(&[]))?;
    //= https://www.rfc-editor.org/rfc/rfc6275#section-11.3.3
    //# Once the above checks have been performed, the node swaps the IPv6
    //# destination field with the Home Address field in the routing header,
    //# decrements segments left by one from the value it had on the wire,
    //# and resubmits the packet to IP for processing the next header.
    if rh.segments_left != 1 || !is_our_home(&rh.home_address) {
        return Err(TransformError::NotOurHomeAddress);
    }
    wr(buf, 24, &rh.home_address.octets());
    wr(buf, at.saturating_add(8), &ip.dst.octets());
    wr8(buf, at.saturating_add(3), 0);
    Ok(rh.home_address)
}

/// Outer header of a tunnel (RFC 2473).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TunnelEnds {
    /// Tunnel entry point (outer source).
    pub src: Ipv6Addr,
    /// Tunnel exit point (outer destination).
    pub dst: Ipv6Addr,
    /// Outer hop limit.
    pub hop_limit: u8,
}

/// Paths 1 and 5: IPv6-in-IPv6 encapsulation (RFC 2473 §3): prepends an
/// outer header with next header 41, copying the inner traffic class; the
/// flow label is 0.
///
/// # Errors
/// [`TransformError::NoRoom`], [`TransformError::TooBig`], [`TransformError::Malformed`].
pub fn encapsulate(buf: &mut [u8], len: usize, ends: &TunnelEnds) -> Result<usize> {
    encapsulate_span(buf, Span { start: 0, len }, ends, false).map(|s| s.len)
}

/// [`encapsulate`] writing the outer header into the 40 octets of headroom
/// before `span`: nothing moves.
///
/// # Errors
/// As [`encapsulate`].
pub fn encapsulate_front(buf: &mut [u8], span: Span, ends: &TunnelEnds) -> Result<Span> {
    encapsulate_span(buf, span, ends, true)
}

fn encapsulate_span(buf: &mut [u8], span: Span, ends: &TunnelEnds, front: bool) -> Result<Span> {
    let whole = span.of(buf).ok_or(TransformError::NoRoom)?;
    let (_, inner) = checked(whole, span.len)?;
    let payload_len = u16::try_from(span.len).map_err(|_| TransformError::TooBig)?;
    check_room(buf, span, HEADER_LEN, front)?;
    let new = open_gap(buf, span, 0, HEADER_LEN, front)?;
    let outer = Ipv6Repr {
        src: ends.src,
        dst: ends.dst,
        next_header: IpProtocol::IPV6,
        payload_len,
        hop_limit: ends.hop_limit,
        traffic_class: inner.traffic_class,
        flow_label: 0,
    };
    outer.emit(span_mut(buf, new)?)?;
    Ok(new)
}

/// Paths 2 and 6: decapsulation. `accept(outer, inner)` decides (for the HA:
/// the inner source is a home address bound to the outer source, RFC 6275
/// §10.4.5; for the MN: the outer source is its home agent). The inner
/// packet moves to the front of `buf`; returns its length.
///
/// # Errors
/// [`TransformError::NotTunnelled`], [`TransformError::TunnelRefused`], [`TransformError::Malformed`].
pub fn decapsulate(
    buf: &mut [u8],
    len: usize,
    accept: impl FnMut(&Ipv6Repr, &Ipv6Repr) -> bool,
) -> Result<usize> {
    let inner = decapsulate_front(buf, Span { start: 0, len }, accept)?;
    let end = inner.start.saturating_add(inner.len);
    buf.copy_within(inner.start..end, 0);
    Ok(inner.len)
}

/// [`decapsulate`] without moving anything: returns where the inner packet
/// lies (40 octets further), leaving the outer header as headroom.
///
/// # Errors
/// As [`decapsulate`].
pub fn decapsulate_front(
    buf: &mut [u8],
    span: Span,
    mut accept: impl FnMut(&Ipv6Repr, &Ipv6Repr) -> bool,
) -> Result<Span> {
    let whole = span.of(buf).ok_or(TransformError::NoRoom)?;
    let (pkt, outer) = checked(whole, span.len)?;
    if outer.next_header != IpProtocol::IPV6 {
        return Err(TransformError::NotTunnelled);
    }
    let inner_bytes = pkt.get(HEADER_LEN..).unwrap_or(&[]);
    let ip = Ipv6Packet::new_checked(inner_bytes)?;
    let inner = Ipv6Repr::parse(&ip)?;
    let inner_len = HEADER_LEN.saturating_add(usize::from(inner.payload_len));
    if !accept(&outer, &inner) {
        return Err(TransformError::TunnelRefused);
    }
    Ok(Span {
        start: span.start.saturating_add(HEADER_LEN),
        len: inner_len,
    })
}

/// Path 2 for a mobile node: decapsulates when the outer source is `home_agent`
/// and the inner destination satisfies `is_ours` (a home address, or for a
/// mobile router an address of its mobile network prefixes).
///
/// # Errors
/// As [`decapsulate`].
pub fn mn_tunnel_input(
    buf: &mut [u8],
    len: usize,
    home_agent: Ipv6Addr,
    mut is_ours: impl FnMut(&Ipv6Addr) -> bool,
) -> Result<usize> {
    decapsulate(buf, len, |o, i| o.src == home_agent && is_ours(&i.dst))
}

/// Path 6 for a home agent: decapsulates when `bound(inner source, outer
/// source)` says the inner source is a home address (or mobile network
/// address) bound to the outer source as care-of address.
///
/// # Errors
/// As [`decapsulate`].
pub fn ha_tunnel_input(
    buf: &mut [u8],
    len: usize,
    mut bound: impl FnMut(&Ipv6Addr, &Ipv6Addr) -> bool,
) -> Result<usize> {
    decapsulate(buf, len, |o, i| bound(&i.src, &o.src))
}
