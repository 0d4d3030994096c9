//! Bodies of the fuzz targets in `fuzz/fuzz_targets/mip6_*.rs`, kept in the
//! crate (feature `fuzzing`) so that they compile with it and the stored
//! corpora replay under `cargo test` (`tests/fuzz_corpus.rs`).
//!
//! Each body takes arbitrary bytes, must never panic on its own, and asserts
//! the invariants of what it exercises: a failed assertion is a bug found.

pub mod roles;
pub use roles::{role_cn, role_ha, role_mn};

use alloc::vec;
use alloc::vec::Vec;

use crate::transform::{self, TunnelEnds};
use crate::wire::icmpv6::MipIcmpRepr;
use crate::wire::ipv6::{self, ExtChain, Ipv6Packet};
use crate::wire::mh::{MhPacket, MhRepr};
use crate::wire::{IpProtocol, rdaddr};

/// Room the transform targets leave after the packet.
const ROOM: usize = 64;

/// `mip6_packet_walk`: a whole IPv6 packet walked header by header, the
/// Mobility Header or ICMPv6 message at its end parsed.
pub fn packet_walk(data: &[u8]) {
    let Ok(p) = Ipv6Packet::new_checked(data) else {
        return;
    };
    let total = p.packet().len();
    let mut chain = ExtChain::new(data, ipv6::DEFAULT_MAX_EXT_HEADERS);
    let mut n = 0usize;
    let mut ok = true;
    for h in chain.by_ref() {
        match h {
            Ok(h) => {
                assert!(h.offset.saturating_add(h.bytes.len()) <= total);
                n = n.saturating_add(1);
            }
            Err(_) => ok = false,
        }
    }
    assert!(n <= ipv6::DEFAULT_MAX_EXT_HEADERS);
    if !ok || chain.is_non_first_fragment() {
        return;
    }
    let (upper, off) = chain.upper_layer();
    assert!(off <= total);
    let body = p.packet().get(off..).unwrap_or(&[]);
    if let Ok(info) = ipv6::mobility_info(data, ipv6::DEFAULT_MAX_EXT_HEADERS) {
        assert_eq!((info.upper, info.upper_offset), (upper, off));
        if let Some(at) = info.hao_offset {
            assert!(at.saturating_add(16) <= total);
        }
    }
    match upper {
        IpProtocol::MOBILITY => mh_roundtrip(body),
        IpProtocol::ICMPV6 => {
            if let Ok(r) = MipIcmpRepr::parse_unverified(body) {
                let mut out = vec![0u8; r.buffer_len()];
                let (s, d) = (p.src_addr(), p.dst_addr());
                assert!(r.emit(&mut out, &s, &d).is_ok());
                assert_eq!(MipIcmpRepr::parse(&out, &s, &d).ok(), Some(r));
            }
        }
        _ => {}
    }
}

/// `mip6_mh_roundtrip`: parse → emit → parse is stable, and emitting the
/// re-parsed message gives the same bytes.
pub fn mh_roundtrip(data: &[u8]) {
    let Ok(p) = MhPacket::new_checked(data) else {
        return;
    };
    let Ok(r) = MhRepr::parse_unverified(&p) else {
        return;
    };
    let mut out = vec![0u8; r.buffer_len()];
    if r.emit_unchecksummed(&mut MhPacket::new_unchecked(&mut out[..]))
        .is_err()
    {
        return;
    }
    assert_eq!(out.len() % 8, 0);
    let p2 = MhPacket::new_checked(&out[..]);
    assert!(p2.is_ok());
    let Ok(p2) = p2 else { return };
    let r2 = MhRepr::parse_unverified(&p2);
    assert_eq!(r2.as_ref().ok(), Some(&r));
    if let Ok(r2) = r2 {
        let mut again = vec![0u8; r2.buffer_len()];
        assert!(
            r2.emit_unchecksummed(&mut MhPacket::new_unchecked(&mut again[..]))
                .is_ok()
        );
        assert_eq!(again, out);
    }
}

/// Runs a `_front` transform on `data` placed after `ROOM` octets of
/// headroom; returns the resulting packet, or the error with the buffer
/// checked untouched.
fn front_result(
    data: &[u8],
    f: impl FnOnce(&mut [u8], transform::Span) -> transform::Result<transform::Span>,
) -> transform::Result<Vec<u8>> {
    let mut buf = vec![0u8; ROOM];
    buf.extend_from_slice(data);
    let before = buf.clone();
    let span = transform::Span {
        start: ROOM,
        len: data.len(),
    };
    match f(&mut buf, span) {
        Ok(s) => Ok(s.of(&buf).map(<[u8]>::to_vec).unwrap_or_default()),
        Err(e) => {
            assert_eq!(buf, before);
            Err(e)
        }
    }
}

fn with_room(data: &[u8]) -> Vec<u8> {
    let mut b = data.to_vec();
    b.resize(data.len().saturating_add(ROOM), 0);
    b
}

/// `mip6_transform_mn_output_ro` (path 3): after inserting the Home Address
/// option the packet walks, carries the old source in the option and the
/// care-of address as source; on refusal the buffer is untouched.
pub fn transform_mn_output_ro(data: &[u8]) {
    let coa = core::net::Ipv6Addr::from([0x20, 1, 0xd, 0xb8, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0]);
    let mut b = with_room(data);
    let before = b.clone();
    let front = front_result(data, |buf, span| {
        transform::mn_output_ro_front(buf, span, coa)
    });
    let res = transform::mn_output_ro(&mut b, data.len(), coa);
    assert_eq!(front.is_ok(), res.is_ok());
    match res {
        Ok(n) => {
            // The headroom variant builds the same packet.
            assert_eq!(front.as_deref().ok(), b.get(..n));
            assert_eq!(n, data.len().saturating_add(24));
            let pkt = b.get(..n).unwrap_or(&[]);
            let info = ipv6::mobility_info(pkt, ipv6::DEFAULT_MAX_EXT_HEADERS);
            assert!(info.is_ok());
            let at = info.ok().and_then(|i| i.hao_offset);
            assert!(at.is_some());
            assert_eq!(rdaddr(pkt, at.unwrap_or(0)), rdaddr(data, 8));
            assert_eq!(rdaddr(pkt, 8), coa);
        }
        Err(_) => assert_eq!(b, before),
    }
}

/// `mip6_transform_cn_input_ro` (path 8): the swap is an involution on the
/// addresses; refusal leaves the buffer untouched.
pub fn transform_cn_input_ro(data: &[u8]) {
    let mut b = data.to_vec();
    let before = b.clone();
    let bound = data.first().is_some_and(|x| x & 1 == 1);
    match transform::cn_input_ro(&mut b, data.len(), |_, _| bound) {
        Ok(s) => {
            assert_eq!(rdaddr(&b, 8), s.home_address);
            assert_eq!(rdaddr(data, 8), s.care_of);
            assert_eq!(b.len(), data.len());
        }
        Err(_) => assert_eq!(b, before),
    }
}

/// `mip6_transform_cn_output_ro` (path 7), followed by path 4 at the mobile
/// node: the destination comes back.
pub fn transform_cn_output_ro(data: &[u8]) {
    let coa = core::net::Ipv6Addr::from([0x20, 1, 0xd, 0xb8, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0]);
    let mut b = with_room(data);
    let before = b.clone();
    let front = front_result(data, |buf, span| {
        transform::cn_output_ro_front(buf, span, coa)
    });
    let res = transform::cn_output_ro(&mut b, data.len(), coa);
    assert_eq!(front.is_ok(), res.is_ok());
    match res {
        Ok(n) => {
            assert_eq!(front.as_deref().ok(), b.get(..n));
            assert_eq!(rdaddr(&b, 24), coa);
            let home = transform::mn_input_ro(&mut b, n, |_| true);
            assert_eq!(home.ok(), Some(rdaddr(data, 24)));
            assert_eq!(rdaddr(&b, 24), rdaddr(data, 24));
        }
        Err(_) => assert_eq!(b, before),
    }
}

/// `mip6_transform_mn_input_ro` (path 4): refusal leaves the buffer untouched;
/// success zeroes Segments Left, so a second pass is refused.
pub fn transform_mn_input_ro(data: &[u8]) {
    let mut b = data.to_vec();
    let before = b.clone();
    match transform::mn_input_ro(&mut b, data.len(), |_| true) {
        Ok(home) => {
            assert_eq!(rdaddr(&b, 24), home);
            assert!(transform::mn_input_ro(&mut b, data.len(), |_| true).is_err());
        }
        Err(_) => assert_eq!(b, before),
    }
}

/// `mip6_transform_tunnel` (paths 1, 2, 5, 6): decapsulating an encapsulated
/// packet gives it back; decapsulating the input directly never panics.
pub fn transform_tunnel(data: &[u8]) {
    let ends = TunnelEnds {
        src: core::net::Ipv6Addr::LOCALHOST,
        dst: core::net::Ipv6Addr::UNSPECIFIED,
        hop_limit: 64,
    };
    let mut b = with_room(data);
    let front = front_result(data, |buf, span| {
        transform::encapsulate_front(buf, span, &ends)
    });
    if let Ok(n) = transform::encapsulate(&mut b, data.len(), &ends) {
        assert_eq!(front.as_deref().ok(), b.get(..n));
        let m = transform::decapsulate(&mut b, n, |o, _| o.src == ends.src);
        assert_eq!(m.ok(), Some(data.len()));
        assert_eq!(b.get(..data.len()), Some(data));
    }
    let mut c = data.to_vec();
    let before = c.clone();
    if transform::decapsulate(&mut c, data.len(), |_, _| true).is_err() {
        assert_eq!(c, before);
    }
}
