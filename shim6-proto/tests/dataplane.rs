#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // test code
//! The data plane driven by two established hosts: A switches to another
//! locator pair, its packets carry the payload extension header, B maps
//! them back to the ULIDs (RFC 5533 §11.1, §12.2).

mod common;

use std::net::Ipv6Addr;

use common::*;
use shim6_proto::dataplane::{self, DataplaneError, TxContext};
use shim6_proto::endpoint::ApiError;
use shim6_proto::event::{Event, RxDatagram};

fn udp_packet(headroom: usize, src: Ipv6Addr, dst: Ipv6Addr) -> Vec<u8> {
    let mut p = vec![0u8; headroom];
    p.extend_from_slice(&[0x60, 0, 0, 0, 0, 12, 17, 64]);
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    // UDP 1000 -> 2000, length 12, checksum 0x1234 (left alone), 4 octets.
    p.extend_from_slice(&[0x03, 0xe8, 0x07, 0xd0, 0, 12, 0x12, 0x34, 1, 2, 3, 4]);
    p
}

#[test]
fn switched_locators_round_trip_through_both_hosts() {
    let mut p = Pair::new(
        host(exact(), 1, hba_identity(0xa, 3, 1)),
        host(exact(), 2, hba_identity(0xb, 3, 2)),
    );
    let ua = p.hosts[0].identities()[0].ulid();
    let ub = p.hosts[1].identities()[0].ulid();
    let ct_a = p.hosts[0].establish(p.now, ua, ub).unwrap();
    p.pump(&mut keep);
    let la = p.hosts[0].identities()[0].locators()[2].addr;
    let lb = p.hosts[1].identities()[0].locators()[1].addr;
    // Only verified locators can be chosen.
    assert_eq!(
        p.hosts[0].set_locator_pair(ct_a, la, "2001:db8:bad::1".parse().unwrap()),
        Err(ApiError::NotALocator)
    );
    p.hosts[0].set_locator_pair(ct_a, la, lb).unwrap();
    p.pump(&mut keep);
    let info = match p.events.last().unwrap() {
        (0, Event::ContextUpdated(i), _) => *i,
        e => panic!("{e:?}"),
    };
    assert_eq!((info.local_locator, info.peer_locator), (la, lb));

    let tx = TxContext::from_info(&info).unwrap();
    let original = udp_packet(0, ua, ub);
    let mut buf = udp_packet(8, ua, ub);
    let end = buf.len();
    let start = dataplane::outbound(&mut buf, 8, end, &tx).unwrap();
    assert_eq!(start, 0);
    assert_eq!(&buf[8..24], &la.octets());
    assert_eq!(&buf[24..40], &lb.octets());
    // B: the tag names its context, which restores the ULIDs.
    let (tag, _) = dataplane::find_tag(&buf, start, end).unwrap();
    let cb = p.hosts[1].context_by_tag(tag).unwrap();
    assert_eq!((cb.local_ulid, cb.peer_ulid), (ub, ua));
    let s = dataplane::inbound(&mut buf, start, end, cb.peer_ulid, cb.local_ulid).unwrap();
    assert_eq!(&buf[s..], &original[..]);

    // An ICMPv6 error quoting A's rewritten packet (say, the first 48
    // octets) maps back to A's context and to the packet the ULP sent (§8).
    let mut sent = udp_packet(8, ua, ub);
    let e = sent.len();
    let s = dataplane::outbound(&mut sent, 8, e, &tx).unwrap();
    let mut quoted = sent[s..s + 48].to_vec();
    let (qtag, qsrc, qdst) = dataplane::quoted_tag(&quoted, 0, 48).unwrap();
    let ctx = p.hosts[0].context_by_peer_tag(qtag, qsrc, qdst).unwrap();
    assert_eq!((ctx.local_ulid, ctx.peer_ulid), (ua, ub));
    assert!(p.hosts[0].context_by_peer_tag(qtag, qdst, qsrc).is_none());
    let q = dataplane::restore_quoted(&mut quoted, 0, 48, ctx.local_ulid, ctx.peer_ulid).unwrap();
    assert_eq!(&quoted[q..], &original[..40]);

    // A packet between other addresses is refused unchanged.
    let mut other = udp_packet(8, ub, ua);
    let copy = other.clone();
    assert_eq!(
        dataplane::outbound(&mut other, 8, copy.len(), &tx),
        Err(DataplaneError::NotTheUlids)
    );
    assert_eq!(other, copy);

    // A tag B does not know: the Shim6 header goes to the control plane,
    // which answers with an R1bis.
    let mut stale = udp_packet(8, ua, ub);
    let mut tx2 = tx;
    tx2.ct_peer = shim6_proto::wire::ContextTag::new(tx.ct_peer.get() ^ 1).unwrap();
    let e = stale.len();
    let s = dataplane::outbound(&mut stale, 8, e, &tx2).unwrap();
    let (tag, at) = dataplane::find_tag(&stale, s, e).unwrap();
    assert!(p.hosts[1].context_by_tag(tag).is_none());
    p.hosts[1]
        .handle_datagram(
            p.now,
            &RxDatagram {
                src: la,
                dst: lb,
                payload: &stale[at..e],
            },
        )
        .unwrap();
    assert_eq!(p.hosts[1].stats().sent.r1bis, 1);
}
