//! The Shim6 data plane (RFC 5533 §11, §12.1-12.2): per-packet locator
//! rewriting with the 8-octet payload extension header, in place,
//! allocation-free.
//!
//! A packet is `buf[start..end]`, starting with its IPv6 header; the octets
//! before `start` are headroom.
//!
//! - [`outbound`]: a packet between the ULIDs of an established context.
//!   When Lp(local), Lp(peer) are the ULIDs it is left alone (§11).
//!   Otherwise the source and destination become the locators and the
//!   payload extension header carrying CT(peer) is inserted after the
//!   routing sublayer headers (Hop-by-Hop, Routing, and a Destination
//!   Options header followed by a Routing header, §4.6, §11.1), taking the
//!   Next Header of the header before it; the IPv6 Payload Length grows
//!   by 8. The octets before the insertion point move 8 octets into the
//!   headroom, so the packet then starts at `start - 8`. ULP checksums
//!   are not touched (§11.1: they cover the ULIDs).
//! - [`find_tag`] and [`inbound`]: the receiver finds the payload
//!   extension header, looks the tag up (e.g.
//!   [`Shim6Host::context_by_tag`](crate::endpoint::Shim6Host::context_by_tag)),
//!   then restores the ULIDs and removes the header; the packet then
//!   starts at `start + 8`. No context for the tag: give the Shim6 header
//!   to [`Shim6Host::handle_datagram`](crate::endpoint::Shim6Host::handle_datagram),
//!   which answers with an R1bis (§12.2).
//! - [`quoted_tag`] and [`restore_quoted`]: the reverse mapping of §8 for
//!   the packet in error of an ICMPv6 error about a rewritten packet
//!   (possibly truncated): find the context by CT(peer) and locators
//!   ([`Shim6Host::context_by_peer_tag`](crate::endpoint::Shim6Host::context_by_peer_tag)),
//!   then give the quoted packet its ULIDs back and remove the header so
//!   that the ULP's ICMP handler recognises it.
//!
//! ```
//! use core::net::Ipv6Addr;
//! use shim6_proto::dataplane::{self, TxContext};
//! use shim6_proto::wire::ContextTag;
//!
//! let a: Ipv6Addr = "2001:db8:a::1".parse().unwrap();
//! let b: Ipv6Addr = "2001:db8:b::1".parse().unwrap();
//! let mut buf = [0u8; 8 + 40 + 4];
//! // IPv6 header at offset 8: version 6, payload length 4, next header 59.
//! buf[8] = 0x60;
//! buf[8 + 5] = 4;
//! buf[8 + 6] = 59;
//! buf[8 + 8..8 + 24].copy_from_slice(&a.octets());
//! buf[8 + 24..8 + 40].copy_from_slice(&b.octets());
//! let ctx = TxContext {
//!     local_ulid: a,
//!     peer_ulid: b,
//!     local_locator: "2001:db8:a:1::1".parse().unwrap(),
//!     peer_locator: "2001:db8:b:1::1".parse().unwrap(),
//!     ct_peer: ContextTag::new(0x1234).unwrap(),
//! };
//! let start = dataplane::outbound(&mut buf, 8, 52, &ctx).unwrap();
//! assert_eq!(start, 0);
//! assert_eq!(buf[6], 140); // IPv6 next header: Shim6
//! assert_eq!(buf[5], 12); // payload length 4 + 8
//! let (tag, _) = dataplane::find_tag(&buf, 0, 52).unwrap();
//! assert_eq!(tag, ctx.ct_peer);
//! let back = dataplane::inbound(&mut buf, 0, 52, b, a).unwrap();
//! assert_eq!(back, 8);
//! assert_eq!(&buf[8 + 8..8 + 24], &b.octets()); // seen from the peer: src is b
//! ```
#![deny(clippy::arithmetic_side_effects)]

use core::net::Ipv6Addr;

use crate::event::ContextInfo;
use crate::wire::{ContextTag, IP_PROTOCOL_SHIM6};

const IPV6_HEADER_LEN: usize = 40;
const HOP_BY_HOP: u8 = 0;
const ROUTING: u8 = 43;
const DEST_OPTS: u8 = 60;
/// At most this many extension headers are walked before the Shim6 header.
const MAX_WALK: usize = 8;

/// Why a packet was not transformed (the buffer is unchanged).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DataplaneError {
    /// `start..end` is not inside the buffer or shorter than its headers.
    #[error("truncated packet")]
    Truncated,
    /// Not an IPv6 header, or a Payload Length that does not match
    /// `end - start - 40` (jumbograms are not supported).
    #[error("not a well-formed IPv6 packet")]
    NotIpv6,
    /// Fewer than 8 octets of headroom before `start`.
    #[error("no headroom for the payload extension header")]
    NoHeadroom,
    /// The packet's addresses are not the context's ULIDs.
    #[error("the packet is not between the context's ULIDs")]
    NotTheUlids,
    /// The Payload Length would exceed 65535.
    #[error("packet too long")]
    TooLong,
    /// No Shim6 header where one was expected.
    #[error("no Shim6 payload extension header")]
    NoShimHeader,
    /// A Shim6 control message, not a payload extension header: give it to
    /// the control plane.
    #[error("Shim6 control message")]
    ControlMessage,
    /// More extension headers than this data plane walks.
    #[error("too many extension headers")]
    TooManyHeaders,
}

/// What the sender needs of an established context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxContext {
    /// ULID(local).
    pub local_ulid: Ipv6Addr,
    /// ULID(peer).
    pub peer_ulid: Ipv6Addr,
    /// Lp(local).
    pub local_locator: Ipv6Addr,
    /// Lp(peer).
    pub peer_locator: Ipv6Addr,
    /// CT(peer).
    pub ct_peer: ContextTag,
}

impl TxContext {
    /// The sending view of a context, when it has CT(peer) (ESTABLISHED or
    /// I2BIS-SENT, §11).
    #[must_use]
    pub fn from_info(c: &ContextInfo) -> Option<Self> {
        use crate::context::ContextState as S;
        if !matches!(c.state, S::Established | S::I2bisSent) {
            return None;
        }
        Some(Self {
            local_ulid: c.local_ulid,
            peer_ulid: c.peer_ulid,
            local_locator: c.local_locator,
            peer_locator: c.peer_locator,
            ct_peer: c.ct_peer?,
        })
    }

    /// Whether packets go out unmodified (the ULIDs are the locators).
    #[must_use]
    pub fn is_identity(&self) -> bool {
        self.local_locator == self.local_ulid && self.peer_locator == self.peer_ulid
    }
}

fn addr_at(b: &[u8], at: usize) -> Option<Ipv6Addr> {
    let o: [u8; 16] = *b.get(at..)?.first_chunk::<16>()?;
    Some(Ipv6Addr::from(o))
}

fn put_addr(b: &mut [u8], at: usize, a: Ipv6Addr) {
    if let Some(d) = at.checked_add(16).and_then(|e| b.get_mut(at..e)) {
        d.copy_from_slice(&a.octets());
    }
}

/// Checks the IPv6 header of `buf[start..end]` and returns its Payload
/// Length.
fn check_ipv6(buf: &[u8], start: usize, end: usize) -> Result<u16, DataplaneError> {
    let pkt = buf.get(start..end).ok_or(DataplaneError::Truncated)?;
    let h = pkt
        .first_chunk::<IPV6_HEADER_LEN>()
        .ok_or(DataplaneError::Truncated)?;
    let [v, _, _, _, l0, l1, ..] = *h;
    if v >> 4 != 6 {
        return Err(DataplaneError::NotIpv6);
    }
    let plen = u16::from_be_bytes([l0, l1]);
    if usize::from(plen) != pkt.len().saturating_sub(IPV6_HEADER_LEN) {
        return Err(DataplaneError::NotIpv6);
    }
    Ok(plen)
}

/// Where the Next Header octet of the header at `at` is, and the length of
/// that extension header.
fn ext_len(buf: &[u8], at: usize, end: usize) -> Result<usize, DataplaneError> {
    let hel = buf
        .get(at.checked_add(1).ok_or(DataplaneError::Truncated)?)
        .copied()
        .ok_or(DataplaneError::Truncated)?;
    let len = usize::from(hel).saturating_add(1).saturating_mul(8);
    if at.saturating_add(len) > end {
        return Err(DataplaneError::Truncated);
    }
    Ok(len)
}

/// Walks the routing sublayer headers (§11.1): returns (offset of the
/// Next Header octet pointing past them, offset of the first header after
/// them, its protocol).
fn routing_sublayer_end(
    buf: &[u8],
    start: usize,
    end: usize,
) -> Result<(usize, usize, u8), DataplaneError> {
    let mut nh_at = start.saturating_add(6);
    let mut at = start.saturating_add(IPV6_HEADER_LEN);
    let mut nh = buf.get(nh_at).copied().ok_or(DataplaneError::Truncated)?;
    for _ in 0..MAX_WALK {
        let skip = match nh {
            HOP_BY_HOP | ROUTING => true,
            // A Destination Options header that precedes a Routing header.
            DEST_OPTS => buf.get(at).copied() == Some(ROUTING) && at < end,
            _ => false,
        };
        if !skip {
            return Ok((nh_at, at, nh));
        }
        let len = ext_len(buf, at, end)?;
        nh_at = at;
        nh = buf.get(at).copied().ok_or(DataplaneError::Truncated)?;
        at = at.saturating_add(len);
    }
    Err(DataplaneError::TooManyHeaders)
}

/// Rewrites an outgoing packet `buf[start..end]` for `ctx` (§11.1; see the
/// [module docs](self)). Returns the packet's new start (`start` when
/// the locators are the ULIDs, `start - 8` otherwise).
///
/// # Errors
/// A [`DataplaneError`]; the buffer is then unchanged.
pub fn outbound(
    buf: &mut [u8],
    start: usize,
    end: usize,
    ctx: &TxContext,
) -> Result<usize, DataplaneError> {
    let plen = check_ipv6(buf, start, end)?;
    let src = addr_at(buf, start.saturating_add(8)).ok_or(DataplaneError::Truncated)?;
    let dst = addr_at(buf, start.saturating_add(24)).ok_or(DataplaneError::Truncated)?;
    if src != ctx.local_ulid || dst != ctx.peer_ulid {
        return Err(DataplaneError::NotTheUlids);
    }
    if ctx.is_identity() {
        return Ok(start);
    }
    let new_start = start.checked_sub(8).ok_or(DataplaneError::NoHeadroom)?;
    let new_plen = plen.checked_add(8).ok_or(DataplaneError::TooLong)?;
    let (nh_at, ins, nh) = routing_sublayer_end(buf, start, end)?;
    // Every check passed: transform.
    buf.copy_within(start..ins, new_start);
    let (nh_at, ins) = (nh_at.saturating_sub(8), ins.saturating_sub(8));
    if let Some(h) = ins.checked_add(8).and_then(|e| buf.get_mut(ins..e)) {
        let [_, _, t0, t1, t2, t3, t4, t5] = ctx.ct_peer.get().to_be_bytes();
        // Next Header, Hdr Ext Len 0, P = 1 and the 47-bit tag (§5.2).
        h.copy_from_slice(&[nh, 0, t0 | 0x80, t1, t2, t3, t4, t5]);
    }
    if let Some(b) = buf.get_mut(nh_at) {
        *b = IP_PROTOCOL_SHIM6;
    }
    if let Some(l) = buf.get_mut(new_start.saturating_add(4)..new_start.saturating_add(6)) {
        l.copy_from_slice(&new_plen.to_be_bytes());
    }
    put_addr(buf, new_start.saturating_add(8), ctx.local_locator);
    put_addr(buf, new_start.saturating_add(24), ctx.peer_locator);
    Ok(new_start)
}

/// Finds the Shim6 payload extension header of a received packet (after
/// any Hop-by-Hop, Routing and Destination Options headers): its context
/// tag and its offset.
///
/// # Errors
/// [`DataplaneError::NoShimHeader`] when the packet has none (it may still
/// belong to a context between the ULIDs, §12.1);
/// [`DataplaneError::ControlMessage`] for a control message.
pub fn find_tag(
    buf: &[u8],
    start: usize,
    end: usize,
) -> Result<(ContextTag, usize), DataplaneError> {
    check_ipv6(buf, start, end)?;
    let (_, at) = find_shim(buf, start, end)?;
    Ok((shim_tag(buf, at, end)?, at))
}

/// (offset of the Next Header octet that says 140, offset of the Shim6 header)
fn find_shim(buf: &[u8], start: usize, end: usize) -> Result<(usize, usize), DataplaneError> {
    let mut nh_at = start.saturating_add(6);
    let mut at = start.saturating_add(IPV6_HEADER_LEN);
    for _ in 0..MAX_WALK {
        let nh = buf.get(nh_at).copied().ok_or(DataplaneError::Truncated)?;
        match nh {
            IP_PROTOCOL_SHIM6 => return Ok((nh_at, at)),
            HOP_BY_HOP | ROUTING | DEST_OPTS => {
                let len = ext_len(buf, at, end)?;
                nh_at = at;
                at = at.saturating_add(len);
            }
            _ => return Err(DataplaneError::NoShimHeader),
        }
    }
    Err(DataplaneError::TooManyHeaders)
}

/// Restores a received packet `buf[start..end]` whose payload extension
/// header names a context with these ULIDs (§12.2): the source becomes
/// `peer_ulid`, the destination `local_ulid`, the header is removed.
/// Returns the packet's new start, `start + 8`.
///
/// # Errors
/// A [`DataplaneError`]; the buffer is then unchanged.
pub fn inbound(
    buf: &mut [u8],
    start: usize,
    end: usize,
    peer_ulid: Ipv6Addr,
    local_ulid: Ipv6Addr,
) -> Result<usize, DataplaneError> {
    let plen = check_ipv6(buf, start, end)?;
    let (nh_at, at) = find_shim(buf, start, end)?;
    shim_tag(buf, at, end)?;
    let new_plen = plen.checked_sub(8).ok_or(DataplaneError::Truncated)?;
    strip(buf, start, nh_at, at, new_plen, peer_ulid, local_ulid)
}

/// The quoted packet of an ICMPv6 error (RFC 5533 §8): at least its IPv6
/// header, possibly truncated, so the Payload Length is not checked.
fn check_quoted(buf: &[u8], start: usize, end: usize) -> Result<u16, DataplaneError> {
    let pkt = buf.get(start..end).ok_or(DataplaneError::Truncated)?;
    let h = pkt
        .first_chunk::<IPV6_HEADER_LEN>()
        .ok_or(DataplaneError::Truncated)?;
    let [v, _, _, _, l0, l1, ..] = *h;
    if v >> 4 != 6 {
        return Err(DataplaneError::NotIpv6);
    }
    Ok(u16::from_be_bytes([l0, l1]))
}

/// The packet in error of an ICMPv6 error about a packet this host sent
/// with the payload extension header (§8, Figure 9): its CT(peer) and its
/// locator pair (source, destination), to find the context with
/// [`Shim6Host::context_by_peer_tag`](crate::endpoint::Shim6Host::context_by_peer_tag).
/// `buf[start..end]` is the quoted packet, possibly truncated.
///
/// # Errors
/// [`DataplaneError::NoShimHeader`] when the quoted packet has none (it
/// can go to the ULP unmodified, Figure 8).
pub fn quoted_tag(
    buf: &[u8],
    start: usize,
    end: usize,
) -> Result<(ContextTag, Ipv6Addr, Ipv6Addr), DataplaneError> {
    check_quoted(buf, start, end)?;
    let (_, at) = find_shim(buf, start, end)?;
    let tag = shim_tag(buf, at, end)?;
    let src = addr_at(buf, start.saturating_add(8)).ok_or(DataplaneError::Truncated)?;
    let dst = addr_at(buf, start.saturating_add(24)).ok_or(DataplaneError::Truncated)?;
    Ok((tag, src, dst))
}

/// The reverse mapping of §8 on a packet in error: the quoted packet gets
/// the ULIDs back (`local_ulid` as source, `peer_ulid` as destination) and
/// loses its payload extension header, so the ULP's ICMP handler sees the
/// packet it sent. Returns the quoted packet's new start, `start + 8`
/// (its Payload Length drops by 8 too).
///
/// # Errors
/// A [`DataplaneError`]; the buffer is then unchanged.
pub fn restore_quoted(
    buf: &mut [u8],
    start: usize,
    end: usize,
    local_ulid: Ipv6Addr,
    peer_ulid: Ipv6Addr,
) -> Result<usize, DataplaneError> {
    let plen = check_quoted(buf, start, end)?;
    let (nh_at, at) = find_shim(buf, start, end)?;
    shim_tag(buf, at, end)?;
    strip(
        buf,
        start,
        nh_at,
        at,
        plen.saturating_sub(8),
        local_ulid,
        peer_ulid,
    )
}

/// The tag of the payload extension header at `at`.
fn shim_tag(buf: &[u8], at: usize, end: usize) -> Result<ContextTag, DataplaneError> {
    let h: [u8; 8] = *buf
        .get(at..end)
        .and_then(|s| s.first_chunk::<8>())
        .ok_or(DataplaneError::Truncated)?;
    let [_, hel, p, t1, t2, t3, t4, t5] = h;
    if p & 0x80 == 0 {
        return Err(DataplaneError::ControlMessage);
    }
    if hel != 0 {
        return Err(DataplaneError::Truncated);
    }
    let tag = u64::from_be_bytes([0, 0, p & 0x7f, t1, t2, t3, t4, t5]);
    Ok(ContextTag::from_bits_truncate(tag))
}

/// Removes the 8-octet header at `at` (the Next Header octet at `nh_at`
/// points to it), sets the Payload Length and the addresses.
fn strip(
    buf: &mut [u8],
    start: usize,
    nh_at: usize,
    at: usize,
    new_plen: u16,
    src: Ipv6Addr,
    dst: Ipv6Addr,
) -> Result<usize, DataplaneError> {
    let inner = buf.get(at).copied().ok_or(DataplaneError::Truncated)?;
    if let Some(b) = buf.get_mut(nh_at) {
        *b = inner;
    }
    buf.copy_within(start..at, start.saturating_add(8));
    let new_start = start.saturating_add(8);
    if let Some(l) = buf.get_mut(new_start.saturating_add(4)..new_start.saturating_add(6)) {
        l.copy_from_slice(&new_plen.to_be_bytes());
    }
    put_addr(buf, new_start.saturating_add(8), src);
    put_addr(buf, new_start.saturating_add(24), dst);
    Ok(new_start)
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)]
mod tests {
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;

    fn a(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    fn ctx() -> TxContext {
        TxContext {
            local_ulid: a("2001:db8:a::1"),
            peer_ulid: a("2001:db8:b::1"),
            local_locator: a("2001:db8:a:1::1"),
            peer_locator: a("2001:db8:b:2::1"),
            ct_peer: ContextTag::new(0x7fed_cba9_8765).unwrap(),
        }
    }

    /// An IPv6 packet with `ext` (already chained) and a 4-octet payload,
    /// `headroom` zero octets before it.
    fn packet(headroom: usize, first_nh: u8, ext: &[u8], src: Ipv6Addr, dst: Ipv6Addr) -> Vec<u8> {
        let mut p = vec![0u8; headroom];
        let plen = (ext.len() + 4) as u16;
        p.extend_from_slice(&[0x60, 0, 0, 0]);
        p.extend_from_slice(&plen.to_be_bytes());
        p.extend_from_slice(&[first_nh, 64]);
        p.extend_from_slice(&src.octets());
        p.extend_from_slice(&dst.octets());
        p.extend_from_slice(ext);
        p.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
        p
    }

    #[test]
    fn outbound_inserts_after_ipv6_header() {
        let c = ctx();
        let mut buf = packet(8, 17, &[], c.local_ulid, c.peer_ulid);
        let end = buf.len();
        let s = outbound(&mut buf, 8, end, &c).unwrap();
        assert_eq!(s, 0);
        // Expected, by hand: IPv6 header with next header 140, payload
        // length 12, locators; then 17, 0, 0x80|0x7f, ed cb a9 87 65; payload.
        let mut want = packet(
            0,
            IP_PROTOCOL_SHIM6,
            &[17, 0, 0xff, 0xed, 0xcb, 0xa9, 0x87, 0x65],
            c.local_locator,
            c.peer_locator,
        );
        want[5] = 12;
        assert_eq!(buf, want);
        // And back at the receiver.
        let (tag, at) = find_tag(&buf, 0, end).unwrap();
        assert_eq!(tag, c.ct_peer);
        assert_eq!(at, 40);
        let s = inbound(&mut buf, 0, end, c.local_ulid, c.peer_ulid).unwrap();
        assert_eq!(s, 8);
        assert_eq!(
            &buf[8..],
            &packet(0, 17, &[], c.local_ulid, c.peer_ulid)[..]
        );
    }

    #[test]
    fn outbound_skips_hop_by_hop_and_routing_but_not_endpoint_headers() {
        let c = ctx();
        // Hop-by-Hop (8 octets, next: Destination Options), Destination
        // Options before a Routing header (8, next: Routing), Routing (8,
        // next: Destination Options), Destination Options (8, next: UDP).
        let hbh = [60u8, 0, 1, 4, 0, 0, 0, 0];
        let dst1 = [43u8, 0, 1, 4, 0, 0, 0, 0];
        let rh = [60u8, 0, 0, 0, 0, 0, 0, 0];
        let dst2 = [17u8, 0, 1, 4, 0, 0, 0, 0];
        let ext: Vec<u8> = [hbh, dst1, rh, dst2].concat();
        let mut buf = packet(16, 0, &ext, c.local_ulid, c.peer_ulid);
        let end = buf.len();
        let s = outbound(&mut buf, 16, end, &c).unwrap();
        assert_eq!(s, 8);
        let shim = [60u8, 0, 0xff, 0xed, 0xcb, 0xa9, 0x87, 0x65];
        let mut rh2 = rh;
        rh2[0] = 140;
        let want_ext: Vec<u8> = [hbh, dst1, rh2, shim, dst2].concat();
        let want = packet(0, 0, &want_ext, c.local_locator, c.peer_locator);
        assert_eq!(&buf[8..], &want[..]);
        // Round trip.
        let s2 = inbound(&mut buf, 8, end, c.local_ulid, c.peer_ulid).unwrap();
        assert_eq!(s2, 16);
        assert_eq!(
            &buf[16..],
            &packet(0, 0, &ext, c.local_ulid, c.peer_ulid)[..]
        );
    }

    #[test]
    fn identity_pair_is_untouched_and_errors_change_nothing() {
        let mut c = ctx();
        c.local_locator = c.local_ulid;
        c.peer_locator = c.peer_ulid;
        let mut buf = packet(0, 17, &[], c.local_ulid, c.peer_ulid);
        let before = buf.clone();
        let end = buf.len();
        assert_eq!(outbound(&mut buf, 0, end, &c), Ok(0));
        assert_eq!(buf, before);
        let c = ctx();
        assert_eq!(
            outbound(&mut buf, 0, end, &c),
            Err(DataplaneError::NoHeadroom)
        );
        assert_eq!(buf, before);
        let mut other = packet(8, 17, &[], c.peer_ulid, c.local_ulid);
        let o2 = other.clone();
        let e2 = other.len();
        assert_eq!(
            outbound(&mut other, 8, e2, &c),
            Err(DataplaneError::NotTheUlids)
        );
        assert_eq!(other, o2);
        // A wrong payload length.
        let mut bad = packet(8, 17, &[], c.local_ulid, c.peer_ulid);
        bad[8 + 5] = 5;
        let e3 = bad.len();
        assert_eq!(outbound(&mut bad, 8, e3, &c), Err(DataplaneError::NotIpv6));
        // Truncated ranges.
        assert_eq!(
            outbound(&mut bad, 8, 20, &c),
            Err(DataplaneError::Truncated)
        );
        assert_eq!(
            outbound(&mut bad, 8, 9999, &c),
            Err(DataplaneError::Truncated)
        );
        // An extension header running past the end.
        let mut trunc = packet(8, 0, &[17, 9, 0, 0], c.local_ulid, c.peer_ulid);
        let e4 = trunc.len();
        assert_eq!(
            outbound(&mut trunc, 8, e4, &c),
            Err(DataplaneError::Truncated)
        );
    }

    #[test]
    fn inbound_refuses_control_messages_and_plain_packets() {
        let c = ctx();
        let mut plain = packet(0, 17, &[], c.peer_locator, c.local_locator);
        let end = plain.len();
        assert_eq!(find_tag(&plain, 0, end), Err(DataplaneError::NoShimHeader));
        assert_eq!(
            inbound(&mut plain, 0, end, c.peer_ulid, c.local_ulid),
            Err(DataplaneError::NoShimHeader)
        );
        // P = 0: a control message (an 8-octet stub is enough to see it).
        let ctrl = packet(
            0,
            140,
            &[59, 0, 1, 0, 0, 0, 0, 0],
            c.peer_locator,
            c.local_locator,
        );
        let end = ctrl.len();
        assert_eq!(find_tag(&ctrl, 0, end), Err(DataplaneError::ControlMessage));
        // The chain is walked at most MAX_WALK headers.
        let ext: Vec<u8> = (0..9).flat_map(|_| [0u8, 0, 0, 0, 0, 0, 0, 0]).collect();
        let long = packet(0, 0, &ext, c.peer_locator, c.local_locator);
        let end = long.len();
        assert_eq!(find_tag(&long, 0, end), Err(DataplaneError::TooManyHeaders));
    }

    #[test]
    fn icmp_packet_in_error_is_mapped_back() {
        let c = ctx();
        // What the host sent: rewritten, with the extension header.
        let mut sent = packet(8, 17, &[], c.local_ulid, c.peer_ulid);
        let end = sent.len();
        let s = outbound(&mut sent, 8, end, &c).unwrap();
        // A router quotes it truncated to the IPv6 header, the Shim6
        // header and 2 octets of the payload.
        let mut quoted = sent[s..s + 50].to_vec();
        let qend = quoted.len();
        let (tag, src, dst) = quoted_tag(&quoted, 0, qend).unwrap();
        assert_eq!(
            (tag, src, dst),
            (c.ct_peer, c.local_locator, c.peer_locator)
        );
        let q = restore_quoted(&mut quoted, 0, qend, c.local_ulid, c.peer_ulid).unwrap();
        assert_eq!(q, 8);
        // The packet the ULP sent, as far as it was quoted (payload length
        // as the ULP set it: 4).
        let original = packet(0, 17, &[], c.local_ulid, c.peer_ulid);
        assert_eq!(&quoted[8..], &original[..42]);
        // A quote without the Shim6 header goes up unmodified.
        let plain = packet(0, 17, &[], c.local_ulid, c.peer_ulid);
        assert_eq!(quoted_tag(&plain, 0, 30), Err(DataplaneError::Truncated));
        assert_eq!(quoted_tag(&plain, 0, 44), Err(DataplaneError::NoShimHeader));
    }
}
