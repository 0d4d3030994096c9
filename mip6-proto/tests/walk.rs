//! The bounded extension header walk (RFC 8200 §4).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use mip6_proto::wire::ipv6::{self, ExtChain, Ipv6Packet};
use mip6_proto::wire::{Error, IpProtocol};

/// A packet whose fixed header is followed by `hdrs` (each: kind, bytes with
/// its own next-header octet fixed up here) and then `upper`.
fn packet(hdrs: &[(u8, Vec<u8>)], upper: u8, payload: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    for (i, (_, b)) in hdrs.iter().enumerate() {
        let mut b = b.clone();
        b[0] = hdrs.get(i + 1).map_or(upper, |h| h.0);
        body.extend_from_slice(&b);
    }
    body.extend_from_slice(payload);
    let mut p = vec![0x60, 0, 0, 0];
    p.extend_from_slice(&(body.len() as u16).to_be_bytes());
    p.push(hdrs.first().map_or(upper, |h| h.0));
    p.push(64);
    p.extend_from_slice(&[0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    p.extend_from_slice(&[0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
    p.extend_from_slice(&body);
    p
}

fn opts8() -> Vec<u8> {
    vec![0, 0, 1, 4, 0, 0, 0, 0]
}

#[test]
fn walks_every_kind_and_stops_at_the_upper_layer() {
    let frag = vec![0, 0, 0, 0, 0, 0, 0, 7]; // offset 0: first fragment
    let ah = vec![0, 1, 0, 0, 0, 0, 0, 9, 0, 0, 0, 1]; // payload len 1 -> (1+2)*4 = 12 octets
    let p = packet(
        &[(0, opts8()), (60, opts8()), (44, frag), (51, ah)],
        135,
        &[59, 0, 0, 0, 0, 0, 0, 0],
    );
    let mut c = ExtChain::new(&p, 16);
    let kinds: Vec<_> = c
        .by_ref()
        .map(|h| {
            let h = h.unwrap();
            (h.kind.0, h.offset, h.bytes.len())
        })
        .collect();
    assert_eq!(kinds, [(0, 40, 8), (60, 48, 8), (44, 56, 8), (51, 64, 12)]);
    assert_eq!(c.upper_layer(), (IpProtocol::MOBILITY, 76));
    assert!(!c.is_non_first_fragment());
}

#[test]
fn bounded_chain_length() {
    let hdrs: Vec<_> = (0..20).map(|_| (60u8, opts8())).collect();
    let p = packet(&hdrs, 59, &[]);
    Ipv6Packet::new_checked(&p[..]).unwrap();
    let r: Result<Vec<_>, _> = ExtChain::new(&p, ipv6::DEFAULT_MAX_EXT_HEADERS).collect();
    assert_eq!(r.err(), Some(Error::ChainTooLong));
    let r: Result<Vec<_>, _> = ExtChain::new(&p, 20).collect();
    assert_eq!(r.unwrap().len(), 20);
    assert_eq!(ipv6::mobility_info(&p, 16).err(), Some(Error::ChainTooLong));
}

#[test]
fn non_first_fragment_stops_the_walk() {
    let frag = vec![0, 0, 0, 8, 0, 0, 0, 7]; // offset 1 (8 octets)
    let p = packet(&[(44, frag)], 135, &[1, 2, 3, 4, 5, 6, 7, 8]);
    let mut c = ExtChain::new(&p, 16);
    assert_eq!(c.by_ref().count(), 1);
    assert!(c.is_non_first_fragment());
}

#[test]
fn truncated_and_overlong_headers_are_errors() {
    let p = packet(&[(60, opts8())], 59, &[]);
    // A header length pointing past the payload.
    let mut q = p.clone();
    q[41] = 3;
    let r: Result<Vec<_>, _> = ExtChain::new(&q, 16).collect();
    assert_eq!(r.err(), Some(Error::Truncated));
    // Every truncation of the packet fails the fixed-header check.
    for n in 0..p.len() {
        assert!(Ipv6Packet::new_checked(&p[..n]).is_err(), "{n}");
    }
    // Version other than 6.
    let mut q = p.clone();
    q[0] = 0x40;
    assert_eq!(Ipv6Packet::new_checked(&q[..]).err(), Some(Error::BadValue));
    // A malformed Home Address option (length 15) is an error of the walk.
    let q = packet(
        &[(
            60,
            vec![
                0, 2, 0xc9, 15, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0,
            ],
        )],
        59,
        &[],
    );
    assert_eq!(ipv6::mobility_info(&q, 16).err(), Some(Error::BadLength));
}

#[test]
fn hop_by_hop_must_come_first() {
    let p = packet(&[(60, opts8()), (0, opts8())], 59, &[]);
    let r: Result<Vec<_>, _> = ExtChain::new(&p, 16).collect();
    assert_eq!(r.err(), Some(Error::BadValue));
}

#[test]
fn transforms_keep_the_result_within_the_chain_bound() {
    // 16 destination options headers: walkable, but one more would not be.
    let hdrs: Vec<_> = (0..16).map(|_| (60u8, opts8())).collect();
    let mut p = packet(&hdrs, 59, &[]);
    let n = p.len();
    p.resize(n + 24, 0);
    let err = Err(mip6_proto::transform::TransformError::Malformed(
        Error::ChainTooLong,
    ));
    let coa = "2001:db8::9".parse().unwrap();
    assert_eq!(mip6_proto::transform::mn_output_ro(&mut p, n, coa), err);
    assert_eq!(mip6_proto::transform::cn_output_ro(&mut p, n, coa), err);
    // With 15 it works and the result walks.
    let hdrs: Vec<_> = (0..15).map(|_| (60u8, opts8())).collect();
    let mut p = packet(&hdrs, 59, &[]);
    let n = p.len();
    p.resize(n + 24, 0);
    let m = mip6_proto::transform::cn_output_ro(&mut p, n, coa).unwrap();
    assert_eq!(ExtChain::new(&p[..m], 16).filter(Result::is_ok).count(), 16);
}
