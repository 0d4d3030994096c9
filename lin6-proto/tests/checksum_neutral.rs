//! Proof that LIN6 mapping is checksum-neutral: a UDP and a TCP packet built
//! between generalized IDs, mapped out at the sender and back at the
//! receiver, verify their transport checksums against the generalized IDs.
//! The checksum code here is an independent RFC 1071 / RFC 8200 §8.1
//! implementation, not the crate's.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use core::net::Ipv6Addr;
use core::time::Duration;
use lin6_proto::addr::{AddrConfig, Lin6Id, Prefix};
use lin6_proto::cache::{Entry, MappingCache};
use lin6_proto::dataplane::{Outbound, map_inbound, map_outbound};
use lin6_proto::wire::{LOC_FLAG_UP, LocatorRecord};

fn sum16(data: &[u8], mut acc: u32) -> u32 {
    let mut i = 0;
    while i + 1 < data.len() {
        acc += u32::from(u16::from_be_bytes([data[i], data[i + 1]]));
        i += 2;
    }
    if data.len() % 2 == 1 {
        acc += u32::from(data[data.len() - 1]) << 8;
    }
    acc
}

fn fold(mut acc: u32) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

/// Sum over the RFC 8200 §8.1 pseudo-header plus the upper-layer packet.
fn pseudo_sum(src: Ipv6Addr, dst: Ipv6Addr, next: u8, upper: &[u8]) -> u16 {
    let mut acc = sum16(&src.octets(), 0);
    acc = sum16(&dst.octets(), acc);
    acc += (upper.len() as u32) >> 16;
    acc += (upper.len() as u32) & 0xffff;
    acc += u32::from(next);
    fold(sum16(upper, acc))
}

fn ipv6(src: Ipv6Addr, dst: Ipv6Addr, next: u8, upper: &[u8]) -> Vec<u8> {
    let mut p = vec![0x60, 0, 0, 0];
    p.extend_from_slice(&(upper.len() as u16).to_be_bytes());
    p.push(next);
    p.push(64);
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    p.extend_from_slice(upper);
    p
}

fn addrs(p: &[u8]) -> (Ipv6Addr, Ipv6Addr) {
    let s: [u8; 16] = p[8..24].try_into().unwrap();
    let d: [u8; 16] = p[24..40].try_into().unwrap();
    (s.into(), d.into())
}

fn udp(src: Ipv6Addr, dst: Ipv6Addr) -> Vec<u8> {
    let payload = b"LIN6 checksum neutrality, odd len";
    let len = 8 + payload.len();
    let mut u = vec![0x1c, 0x20, 0x00, 0x35];
    u.extend_from_slice(&(len as u16).to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend_from_slice(payload);
    let c = !pseudo_sum(src, dst, 17, &u);
    u[6..8].copy_from_slice(&c.to_be_bytes());
    ipv6(src, dst, 17, &u)
}

fn tcp(src: Ipv6Addr, dst: Ipv6Addr) -> Vec<u8> {
    let mut t = vec![
        0xc0, 0x01, 0x00, 0x50, // ports 49153 -> 80
        0, 0, 0, 1, 0, 0, 0, 0, // seq, ack
        0x50, 0x02, 0xff, 0xff, // data offset 5, SYN, window
        0, 0, 0, 0, // checksum, urgent
    ];
    t.extend_from_slice(b"hello");
    let c = !pseudo_sum(src, dst, 6, &t);
    t[16..18].copy_from_slice(&c.to_be_bytes());
    ipv6(src, dst, 6, &t)
}

fn run(build: fn(Ipv6Addr, Ipv6Addr) -> Vec<u8>, next: u8) {
    let cfg = AddrConfig::default();
    let a_id = Lin6Id([0x02, 0x01, 0x4a, 0, 0, 0, 0, 1]);
    let b_id = Lin6Id([0x02, 0x01, 0x4a, 0, 0, 0, 0, 2]);
    let a_gid: Ipv6Addr = "3ffe:501:1830:1999:201:4a00::1".parse().unwrap();
    let b_gid: Ipv6Addr = "3ffe:501:1830:1999:201:4a00::2".parse().unwrap();
    let pa = Prefix([0x20, 0x01, 0x0d, 0xb8, 0, 0xa, 0, 0]);
    let pb = Prefix([0x20, 0x01, 0x0d, 0xb8, 0, 0xb, 0, 0]);
    let now = Duration::from_secs(5);
    let mut cache = MappingCache::new(8);
    let rec = LocatorRecord {
        prefix: pb,
        priority: 0,
        weight: 1,
        flags: LOC_FLAG_UP,
    };
    cache
        .insert(
            now,
            b_id,
            Entry::positive(&[rec], 0, now, Duration::from_secs(60)),
        )
        .unwrap();

    let orig = build(a_gid, b_gid);
    let upper = orig[40..].to_vec();
    assert_eq!(
        pseudo_sum(a_gid, b_gid, next, &upper),
        0xffff,
        "built valid"
    );

    let mut p = orig.clone();
    assert_eq!(
        map_outbound(&mut p, &cfg, pa, &cache, now).unwrap(),
        Outbound::Mapped {
            peer: b_id,
            locator: pb
        }
    );
    let (ws, wd) = addrs(&p);
    assert_eq!(ws, "2001:db8:a:0:201:4a00::1".parse::<Ipv6Addr>().unwrap());
    assert_eq!(wd, "2001:db8:b:0:201:4a00::2".parse::<Ipv6Addr>().unwrap());
    assert_eq!(&p[40..], &upper[..], "transport bytes untouched");
    assert_ne!(
        pseudo_sum(ws, wd, next, &p[40..]),
        0xffff,
        "wire addresses differ from the checksummed ones"
    );
    let _ = a_id;

    let r = map_inbound(&mut p, &cfg).unwrap();
    assert!(r.src_mapped && r.dst_mapped);
    let (rs, rd) = addrs(&p);
    assert_eq!((rs, rd), (a_gid, b_gid));
    assert_eq!(
        pseudo_sum(rs, rd, next, &p[40..]),
        0xffff,
        "verifies against generalized IDs"
    );
    assert_eq!(p, orig);
}

#[test]
fn udp_checksum_neutral() {
    run(udp, 17);
}

#[test]
fn tcp_checksum_neutral() {
    run(tcp, 6);
}

#[test]
fn miss_leaves_packet_and_stationary_never_mapped() {
    let cfg = AddrConfig::default();
    let cache = MappingCache::new(1);
    let a: Ipv6Addr = "3ffe:501:1830:1999:201:4a00::1".parse().unwrap();
    let b: Ipv6Addr = "3ffe:501:1830:1999:201:4a00::2".parse().unwrap();
    let mut p = udp(a, b);
    let orig = p.clone();
    let pa = Prefix([0x20, 1, 0xd, 0xb8, 0, 0, 0, 0]);
    assert_eq!(
        map_outbound(&mut p, &cfg, pa, &cache, Duration::ZERO).unwrap(),
        Outbound::NeedMapping {
            peer: Lin6Id([2, 1, 0x4a, 0, 0, 0, 0, 2])
        }
    );
    assert_eq!(p, orig);
    let s: Ipv6Addr = "3ffe:501:808:4001:1:4a00::1".parse().unwrap();
    let mut q = udp(s, s);
    let qo = q.clone();
    assert_eq!(map_inbound(&mut q, &cfg).unwrap(), Default::default());
    assert_eq!(
        map_outbound(&mut q, &cfg, pa, &cache, Duration::ZERO).unwrap(),
        Outbound::NotLin6
    );
    assert_eq!(q, qo);
}
