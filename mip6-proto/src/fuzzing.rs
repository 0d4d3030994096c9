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

/// A tiny deterministic generator for the role targets (never for
/// production: production callers inject a real CSPRNG).
#[derive(Clone, Debug)]
pub struct SplitMix(pub u64);

impl rand_core::TryRng for SplitMix {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok((self.try_next_u64()? >> 32) as u32)
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        Ok(z ^ (z >> 31))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for chunk in dst.chunks_mut(8) {
            let v = self.try_next_u64()?.to_le_bytes();
            chunk.copy_from_slice(v.get(..chunk.len()).unwrap_or(&[]));
        }
        Ok(())
    }
}

impl rand_core::TryCryptoRng for SplitMix {}

/// `mip6_roles_mcoa_auth`: a mobile node and a home agent with multiple
/// care-of addresses (RFC 5648) and RFC 4285 authentication, and a
/// correspondent, fed arbitrary Mobility Headers (every message and
/// option, Binding Identifier and authentication options included, with a
/// valid checksum), raw bytes, BID attachments and losses, returns home and
/// time steps. Asserts: tables within their bounds, no past deadline after
/// `handle_timeout`, output queues drain, and nothing bound for the
/// protected home address without a valid authenticator.
pub fn roles_mcoa_auth(data: &[u8]) {
    use crate::cn::{CnConfig, Correspondent};
    use crate::event::{FwdEvent, Output, RxDatagram};
    use crate::ha::{HaConfig, HomeAgent, MnHaSecurityAssociation};
    use crate::mn::{McoaConfig, MnAuthConfig, MnConfig, MobileNode};
    use crate::movement::Movement;
    use arbitrary::{Arbitrary, Unstructured};
    use core::net::Ipv6Addr;
    use core::time::Duration;

    let mut u = Unstructured::new(data);
    let addrs: [Ipv6Addr; 6] = [
        Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0x100),
        Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 1),
        Ipv6Addr::new(0x2001, 0xdb8, 2, 0, 0, 0, 0, 0x200),
        Ipv6Addr::new(0x2001, 0xdb8, 3, 0, 0, 0, 0, 0x300),
        Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 7),
        Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1),
    ];
    let pick = |u: &mut Unstructured<'_>| -> Ipv6Addr {
        let i = u.int_in_range(0..=5usize).unwrap_or(0);
        addrs.get(i).copied().unwrap_or(Ipv6Addr::UNSPECIFIED)
    };
    let (hoa, ha_addr) = (addrs[0], addrs[1]);
    let key = vec![7u8; 16];
    let tod = Duration::from_secs(3_900_000_000);
    let seed = u.arbitrary::<u64>().unwrap_or(0);
    let mut mn_cfg = MnConfig::new(hoa, 64, Some(ha_addr));
    mn_cfg.mcoa = Some(McoaConfig {
        max_bids: 4,
        bulk: u.arbitrary().unwrap_or(true),
        priorities: vec![(2, 1)],
    });
    mn_cfg.auth = Some(MnAuthConfig {
        spi: 0x1000,
        key: key.clone(),
        nai: Some(b"mn@example.com".to_vec()),
        timestamps: u.arbitrary().unwrap_or(true),
        time_of_day_at_epoch: tod,
        aaa_key: u
            .arbitrary::<bool>()
            .unwrap_or(false)
            .then(|| vec![5u8; 16]),
    });
    let Ok(mut mn) = MobileNode::new(mn_cfg, SplitMix(seed), Duration::ZERO) else {
        return;
    };
    let mut ha_cfg = HaConfig::new(ha_addr, Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0), 64);
    ha_cfg.max_bindings = 4;
    ha_cfg.dad = u.arbitrary().unwrap_or(false);
    ha_cfg.mcoa.max_bids = 3;
    ha_cfg.mcoa.bulk = u.arbitrary().unwrap_or(true);
    ha_cfg.mcoa.enabled = u.arbitrary().unwrap_or(true);
    ha_cfg.security_associations = vec![MnHaSecurityAssociation::new(0x1000, hoa, key)];
    ha_cfg.time_of_day_at_epoch = tod;
    let Ok(mut ha) = HomeAgent::new(ha_cfg, SplitMix(seed ^ 1), Duration::ZERO) else {
        return;
    };
    let cn_cfg = CnConfig {
        max_bindings: 4,
        ..CnConfig::default()
    };
    let Ok(mut cn) = Correspondent::new(cn_cfg, SplitMix(seed ^ 2), Duration::ZERO) else {
        return;
    };
    let mut now = Duration::ZERO;
    let moved = |bid: u16, care_of: Ipv6Addr| Movement::Moved {
        home: hoa,
        care_of,
        iface: u32::from(bid),
        bid: Some(bid),
    };
    for _ in 0..64 {
        let Ok(op) = u.int_in_range(0..=7u8) else {
            break;
        };
        match op {
            0 | 1 => {
                let (src, dst) = (pick(&mut u), pick(&mut u));
                let hao = u.arbitrary::<bool>().unwrap_or(false).then_some(hoa);
                let rh2 = u.arbitrary::<bool>().unwrap_or(false).then_some(hoa);
                let bytes = if op == 0 {
                    let Ok(repr) = MhRepr::arbitrary(&mut u) else {
                        break;
                    };
                    let mut b = vec![0u8; repr.buffer_len()];
                    let ck_src = hao.unwrap_or(src);
                    let ck_dst = rh2.unwrap_or(dst);
                    if repr
                        .emit(&mut MhPacket::new_unchecked(&mut b[..]), &ck_src, &ck_dst)
                        .is_err()
                    {
                        continue;
                    }
                    b
                } else {
                    u.arbitrary::<Vec<u8>>().unwrap_or_default()
                };
                let rx = RxDatagram {
                    src,
                    dst,
                    hao,
                    rh2,
                    tunnelled: false,
                    next_header: 135,
                    payload: &bytes,
                };
                let _ = mn.handle_datagram(now, &rx);
                let _ = ha.handle_datagram(now, &rx);
                let _ = cn.handle_datagram(now, &rx);
            }
            2 => {
                let bid = u.int_in_range(0..=5u16).unwrap_or(1);
                let c = pick(&mut u);
                mn.handle_movement(now, moved(bid, c));
            }
            3 => {
                let n = u.int_in_range(0..=3usize).unwrap_or(0);
                let mut ms = Vec::new();
                for _ in 0..n {
                    let bid = u.int_in_range(0..=5u16).unwrap_or(1);
                    ms.push(moved(bid, pick(&mut u)));
                }
                mn.handle_bulk_movement(now, &ms);
            }
            4 => {
                let bid = u.int_in_range(0..=5u16).unwrap_or(1);
                let _ = mn.handle_bid_lost(now, bid);
            }
            5 => mn.handle_movement(
                now,
                Movement::ReturnedHome {
                    home: hoa,
                    iface: 1,
                },
            ),
            6 => {
                let ok = u.arbitrary().unwrap_or(true);
                ha.dad_result(now, pick(&mut u), ok);
            }
            _ => {
                let ms = u.int_in_range(0..=5000u64).unwrap_or(0);
                now = now.saturating_add(Duration::from_millis(ms));
                mn.handle_timeout(now);
                ha.handle_timeout(now);
                cn.handle_timeout(now);
                for t in [mn.poll_timeout(), ha.poll_timeout(), cn.poll_timeout()]
                    .into_iter()
                    .flatten()
                {
                    assert!(t > now, "a past deadline after handle_timeout");
                }
            }
        }
        let mut buf = Vec::new();
        let mut n = 0usize;
        while let Some(o) = ha.poll_output(&mut buf) {
            n = n.saturating_add(1);
            assert!(n < 10_000, "the home agent's queue does not drain");
            if let Output::Fwd(FwdEvent::HomeBindingAdded { home, .. }) = o {
                assert_ne!(home, hoa, "bound without the MN-HA authenticator");
            }
        }
        while let Some(o) = mn.poll_output(&mut buf) {
            n = n.saturating_add(1);
            assert!(n < 20_000, "the mobile node's queue does not drain");
            assert!(
                !matches!(o, Output::Fwd(FwdEvent::McoaBulAdded { .. })),
                "bound from an unauthenticated Binding Acknowledgement"
            );
        }
        while cn.poll_output(&mut buf).is_some() {
            n = n.saturating_add(1);
            assert!(n < 30_000, "the correspondent's queue does not drain");
        }
        assert!(ha.bindings() <= 4);
        assert!(ha.bid_bindings() <= 4 * 3);
        for h in addrs {
            assert!(ha.bids(h).count() <= 3);
        }
        assert!(mn.bids().count() <= 4);
        assert!(cn.bindings().saturating_add(cn.bid_bindings()) <= 4);
    }
}
