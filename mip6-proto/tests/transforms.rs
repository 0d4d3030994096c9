//! The data-plane transforms, checked against packets built independently:
//! the Scapy vectors with a Home Address option or a type 2 routing header
//! are exactly what the transforms must produce from the plain packet.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use core::net::Ipv6Addr;

use mip6_proto::transform::{self, TransformError, TunnelEnds};
use serde_json::Value;

const SCAPY: &str = include_str!("vectors/scapy-public.jsonl");

fn vector(name: &str) -> (Vec<u8>, Value) {
    for l in SCAPY.lines() {
        let v: Value = serde_json::from_str(l).unwrap();
        if v["name"] == name {
            return (
                hex::decode(v["hex"].as_str().unwrap()).unwrap(),
                v["fields"].clone(),
            );
        }
    }
    panic!("no vector {name}");
}

fn a(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

/// Removes the 24-octet extension header at offset 40 and fixes the fixed
/// header (next header from the removed header, payload length).
fn strip_first_ext(pkt: &[u8]) -> Vec<u8> {
    let mut out = pkt[..40].to_vec();
    out[6] = pkt[40];
    let pl = u16::from_be_bytes([pkt[4], pkt[5]]) - 24;
    out[4..6].copy_from_slice(&pl.to_be_bytes());
    out.extend_from_slice(&pkt[64..]);
    out
}

#[test]
fn mn_output_ro_produces_the_scapy_hao_packets() {
    for name in [
        "hao-echo",
        "hao-nonext",
        "hao-echo-1",
        "hao-nonext-1",
        "hao-echo-2",
        "hao-nonext-2",
    ] {
        let (want, f) = vector(name);
        let home = a(f["ext"][0]["home_address_option"].as_str().unwrap());
        let care_of = a(f["ipv6"]["src"].as_str().unwrap());
        // The packet as the MN's upper layer made it: source = home address, no HAO.
        let mut plain = strip_first_ext(&want);
        plain[8..24].copy_from_slice(&home.octets());
        let len = plain.len();
        plain.resize(len + 24, 0xee);
        let n = transform::mn_output_ro(&mut plain, len, care_of).unwrap();
        assert_eq!(n, want.len(), "{name}");
        assert_eq!(plain[..n], want[..], "{name}");
        // A second insertion is refused and leaves the buffer alone.
        plain.resize(n + 24, 0);
        let before = plain.clone();
        assert_eq!(
            transform::mn_output_ro(&mut plain, n, care_of),
            Err(TransformError::AlreadyHasHao)
        );
        assert_eq!(plain, before);
    }
}

#[test]
fn mn_output_ro_needs_room() {
    let (want, _) = vector("hao-echo");
    let mut plain = strip_first_ext(&want);
    let before = plain.clone();
    let len = plain.len();
    assert_eq!(
        transform::mn_output_ro(&mut plain, len, a("2001:db8::1")),
        Err(TransformError::NoRoom)
    );
    assert_eq!(plain, before);
    // len beyond the buffer
    assert_eq!(
        transform::mn_output_ro(&mut plain, len + 1, a("2001:db8::1")),
        Err(TransformError::NoRoom)
    );
}

#[test]
fn hao_goes_after_hop_by_hop() {
    // IPv6 | HbH (PadN 6) | no next header
    let mut p = vec![0u8; 48];
    p[0] = 0x60;
    p[5] = 8;
    p[6] = 0; // hop-by-hop
    p[7] = 64;
    p[8..24].copy_from_slice(&a("2001:db8:1::100").octets());
    p[24..40].copy_from_slice(&a("2001:db8:3::300").octets());
    p[40] = 59;
    p[41] = 0;
    p[42] = 1;
    p[43] = 4;
    p.resize(48 + 24, 0);
    let n = transform::mn_output_ro(&mut p, 48, a("2001:db8:2::200")).unwrap();
    assert_eq!(n, 72);
    assert_eq!(p[6], 0, "fixed header still points at hop-by-hop");
    assert_eq!(p[40], 60, "hop-by-hop now points at destination options");
    assert_eq!(&p[48..56], &[59, 2, 1, 2, 0, 0, 0xc9, 16]);
    assert_eq!(&p[56..72], &a("2001:db8:1::100").octets());
    assert_eq!(&p[8..24], &a("2001:db8:2::200").octets());
    assert_eq!(u16::from_be_bytes([p[4], p[5]]), 32);
}

#[test]
fn cn_input_ro_swaps_when_bound() {
    let (pkt, f) = vector("hao-echo");
    let home = a(f["ext"][0]["home_address_option"].as_str().unwrap());
    let care_of = a(f["ipv6"]["src"].as_str().unwrap());
    let mut buf = pkt.clone();
    // No binding and an ICMPv6 payload: refused, untouched (RFC 6275 §9.3.1).
    assert_eq!(
        transform::cn_input_ro(&mut buf, pkt.len(), |_, _| false),
        Err(TransformError::NoBinding)
    );
    assert_eq!(buf, pkt);
    // A binding for another care-of address does not count.
    let r =
        transform::cn_input_ro(&mut buf, pkt.len(), |h, c| *h == home && *c == care_of).unwrap();
    assert_eq!(
        (r.home_address, r.care_of, r.without_binding),
        (home, care_of, false)
    );
    assert_eq!(&buf[8..24], &home.octets());
    assert_eq!(&buf[48..64], &care_of.octets());
    assert_eq!(buf[64..], pkt[64..]);
}

#[test]
fn cn_input_ro_lets_a_binding_update_through_without_binding() {
    // A Binding Update carrying a HAO, to a CN that has no binding yet (seed 002 §4.9).
    let (pkt, f) = vector("bu-opt-acoa");
    let home = a(f["ext"][0]["home_address_option"].as_str().unwrap());
    let mut buf = pkt.clone();
    let r = transform::cn_input_ro(&mut buf, pkt.len(), |_, _| false).unwrap();
    assert!(r.without_binding);
    assert_eq!(&buf[8..24], &home.octets());
}

#[test]
fn cn_output_ro_produces_the_scapy_rh2_packets() {
    for name in [
        "rh2-echo",
        "rh2-nonext",
        "rh2-echo-1",
        "rh2-nonext-1",
        "rh2-echo-2",
        "rh2-nonext-2",
    ] {
        let (want, f) = vector(name);
        let home = a(f["ext"][0]["home_address"].as_str().unwrap());
        let care_of = a(f["ipv6"]["dst"].as_str().unwrap());
        let mut plain = strip_first_ext(&want);
        plain[24..40].copy_from_slice(&home.octets());
        let len = plain.len();
        plain.resize(len + 24, 0);
        let n = transform::cn_output_ro(&mut plain, len, care_of).unwrap();
        assert_eq!(plain[..n], want[..], "{name}");
        plain.resize(n + 24, 0);
        assert_eq!(
            transform::cn_output_ro(&mut plain, n, care_of),
            Err(TransformError::AlreadyRouted)
        );
    }
}

#[test]
fn mn_input_ro_processes_the_routing_header() {
    let (pkt, f) = vector("rh2-echo");
    let home = a(f["ext"][0]["home_address"].as_str().unwrap());
    let care_of = a(f["ipv6"]["dst"].as_str().unwrap());
    let mut buf = pkt.clone();
    assert_eq!(
        transform::mn_input_ro(&mut buf, pkt.len(), |_| false),
        Err(TransformError::NotOurHomeAddress)
    );
    assert_eq!(buf, pkt);
    assert_eq!(
        transform::mn_input_ro(&mut buf, pkt.len(), |h| *h == home),
        Ok(home)
    );
    assert_eq!(&buf[24..40], &home.octets());
    assert_eq!(buf[43], 0, "segments left");
    assert_eq!(&buf[48..64], &care_of.octets());
    // Processed once: segments left is 0 now, so it is refused.
    assert_eq!(
        transform::mn_input_ro(&mut buf, pkt.len(), |_| true),
        Err(TransformError::NotOurHomeAddress)
    );
    // No routing header at all.
    let (plain, _) = vector("hao-echo");
    let mut b = plain.clone();
    assert_eq!(
        transform::mn_input_ro(&mut b, plain.len(), |_| true),
        Err(TransformError::NoRh2)
    );
}

#[test]
fn tunnel_round_trip() {
    let (inner, _) = vector("hao-echo");
    let ends = TunnelEnds {
        src: a("2001:db8:ffff::1"),
        dst: a("2001:db8:2::200"),
        hop_limit: 64,
    };
    let mut buf = inner.clone();
    buf.resize(inner.len() + 40, 0);
    let n = transform::encapsulate(&mut buf, inner.len(), &ends).unwrap();
    assert_eq!(n, inner.len() + 40);
    // Outer header by hand (RFC 2473): version 6, traffic class copied (0), next header 41.
    let mut outer = vec![0x60, 0, 0, 0];
    outer.extend_from_slice(&(inner.len() as u16).to_be_bytes());
    outer.extend_from_slice(&[41, 64]);
    outer.extend_from_slice(&ends.src.octets());
    outer.extend_from_slice(&ends.dst.octets());
    assert_eq!(buf[..40], outer[..]);
    assert_eq!(buf[40..n], inner[..]);
    // Path 2: the MN accepts only from its home agent.
    let mut copy = buf.clone();
    assert_eq!(
        transform::mn_tunnel_input(&mut copy, n, a("2001:db8:ffff::2"), |_| true),
        Err(TransformError::TunnelRefused)
    );
    assert_eq!(copy, buf);
    let inner_dst = a("2001:db8:c943:9c3b:193d:4fed:bef2:face");
    let m = transform::mn_tunnel_input(&mut copy, n, ends.src, |d| *d == inner_dst).unwrap();
    assert_eq!(copy[..m], inner[..]);
    // Path 6: the HA checks the binding (inner source, outer source).
    let mut copy = buf.clone();
    let inner_src = a("2001:db8:ca1b:d4f3:4d1a:30c6:2220:64e4");
    let m =
        transform::ha_tunnel_input(&mut copy, n, |h, c| *h == inner_src && *c == ends.src).unwrap();
    assert_eq!(copy[..m], inner[..]);
    // Not a tunnel.
    let mut plain = inner.clone();
    assert_eq!(
        transform::decapsulate(&mut plain, inner.len(), |_, _| true),
        Err(TransformError::NotTunnelled)
    );
}

#[test]
fn transforms_refuse_malformed_packets() {
    let (pkt, _) = vector("hao-echo");
    for n in 0..pkt.len() {
        let mut b = pkt.clone();
        b.resize(pkt.len() + 64, 0);
        // Every truncation is refused (the payload length no longer matches).
        assert!(
            transform::mn_output_ro(&mut b, n, a("2001:db8::1")).is_err(),
            "{n}"
        );
        assert!(
            transform::cn_input_ro(&mut b, n, |_, _| true).is_err(),
            "{n}"
        );
        assert!(
            transform::cn_output_ro(&mut b, n, a("2001:db8::1")).is_err(),
            "{n}"
        );
        assert!(transform::mn_input_ro(&mut b, n, |_| true).is_err(), "{n}");
        assert!(
            transform::encapsulate(
                &mut b,
                n,
                &TunnelEnds {
                    src: a("::1"),
                    dst: a("::2"),
                    hop_limit: 1
                }
            )
            .is_err(),
            "{n}"
        );
    }
}

#[test]
fn front_variants_grow_into_headroom_and_match() {
    use mip6_proto::transform::Span;
    // Path 3: the HAO vectors, built from the plain packet placed after 24 octets of headroom.
    for name in ["hao-echo", "hao-nonext-1"] {
        let (want, f) = vector(name);
        let home = a(f["ext"][0]["home_address_option"].as_str().unwrap());
        let care_of = a(f["ipv6"]["src"].as_str().unwrap());
        let mut plain = strip_first_ext(&want);
        plain[8..24].copy_from_slice(&home.octets());
        let mut buf = vec![0xee; 24];
        buf.extend_from_slice(&plain);
        let span = Span {
            start: 24,
            len: plain.len(),
        };
        // Not enough headroom: refused, untouched.
        let mut short = buf[1..].to_vec();
        let before = short.clone();
        let s1 = Span {
            start: 23,
            len: plain.len(),
        };
        assert_eq!(
            transform::mn_output_ro_front(&mut short, s1, care_of),
            Err(TransformError::NoRoom)
        );
        assert_eq!(short, before);
        let out = transform::mn_output_ro_front(&mut buf, span, care_of).unwrap();
        assert_eq!(
            out,
            Span {
                start: 0,
                len: want.len()
            }
        );
        assert_eq!(buf, want, "{name}");
    }
    // Path 7 likewise.
    let (want, f) = vector("rh2-echo");
    let home = a(f["ext"][0]["home_address"].as_str().unwrap());
    let care_of = a(f["ipv6"]["dst"].as_str().unwrap());
    let mut plain = strip_first_ext(&want);
    plain[24..40].copy_from_slice(&home.octets());
    let mut buf = vec![0u8; 30];
    buf.extend_from_slice(&plain);
    let out = transform::cn_output_ro_front(
        &mut buf,
        Span {
            start: 30,
            len: plain.len(),
        },
        care_of,
    )
    .unwrap();
    assert_eq!(
        out,
        Span {
            start: 6,
            len: want.len()
        }
    );
    assert_eq!(buf[6..], want[..]);
    // Tunnels: encapsulation writes in front, decapsulation moves nothing.
    let ends = TunnelEnds {
        src: a("2001:db8:ffff::1"),
        dst: care_of,
        hop_limit: 9,
    };
    let mut back = want.clone();
    back.resize(want.len() + 40, 0);
    let n = transform::encapsulate(&mut back, want.len(), &ends).unwrap();
    let mut front = vec![0u8; 40];
    front.extend_from_slice(&want);
    let s = transform::encapsulate_front(
        &mut front,
        Span {
            start: 40,
            len: want.len(),
        },
        &ends,
    )
    .unwrap();
    assert_eq!(s, Span { start: 0, len: n });
    assert_eq!(front[..], back[..n]);
    let inner = transform::decapsulate_front(&mut front, s, |o, _| o.src == ends.src).unwrap();
    assert_eq!(
        inner,
        Span {
            start: 40,
            len: want.len()
        }
    );
    assert_eq!(inner.of(&front).unwrap(), &want[..]);
}
