#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // test code
//! Context recovery (RFC 5533 §7.5, §7.17-7.20): a host that lost its
//! context answers the peer's payload with R1bis, the peer sends I2bis and
//! gets a fresh context in the R2.

mod common;

use std::net::Ipv6Addr;

use common::*;
use shim6_proto::context::ContextState;
use shim6_proto::endpoint::Dropped;
use shim6_proto::event::{Event, RxDatagram};
use shim6_proto::wire::{ContextTag, Message, MessageType as T, PayloadRepr, Shim6Packet};

fn payload(tag: ContextTag) -> Vec<u8> {
    let mut b = vec![0u8; 8];
    PayloadRepr {
        next_header: 59,
        context_tag: tag,
    }
    .emit(&mut Shim6Packet::new_unchecked(&mut b[..]))
    .unwrap();
    b
}

fn established_pair() -> (Pair, Ipv6Addr, Ipv6Addr) {
    let mut p = Pair::new(
        host(exact(), 1, hba_identity(0xa, 3, 1)),
        host(exact(), 2, hba_identity(0xb, 3, 2)),
    );
    let ua = p.hosts[0].identities()[0].ulid();
    let ub = p.hosts[1].identities()[0].ulid();
    p.hosts[0].establish(p.now, ua, ub).unwrap();
    p.pump(&mut keep);
    assert_eq!(p.hosts[0].state(ua, ub, 0), ContextState::Established);
    p.wire.clear();
    p.events.clear();
    (p, ua, ub)
}

/// A sends a payload packet of its context to B, as its data plane would.
fn a_sends_payload(p: &mut Pair, ua: Ipv6Addr, ub: Ipv6Addr) -> Result<(), Dropped> {
    let ca = p.hosts[0].context_for(ua, ub, 0).unwrap();
    let bytes = payload(ca.ct_peer.unwrap());
    p.hosts[1].handle_datagram(
        p.now,
        &RxDatagram {
            src: ca.local_locator,
            dst: ca.peer_locator,
            payload: &bytes,
        },
    )
}

#[test]
fn lost_context_recovered_with_r1bis_i2bis_r2() {
    let (mut p, ua, ub) = established_pair();
    let old_ct_b = p.hosts[1].context_for(ub, ua, 0).unwrap().ct_local.unwrap();
    let ct_a = p.hosts[0].context_for(ua, ub, 0).unwrap().ct_local.unwrap();
    // B drops the context (garbage collection, §9).
    p.hosts[1].teardown(p.now, old_ct_b).unwrap();
    p.pump(&mut keep);
    p.events.clear();
    assert_eq!(p.hosts[1].contexts(), 0);
    p.now = secs(3);
    a_sends_payload(&mut p, ua, ub).unwrap();
    // B answers statelessly.
    assert_eq!(p.hosts[1].contexts(), 0);
    p.pump(&mut keep);
    assert_eq!(p.types(), vec![(1, T::R1BIS), (0, T::I2BIS), (1, T::R2)]);
    match p.wire[0].message() {
        Message::R1bis {
            packet_context_tag, ..
        } => assert_eq!(packet_context_tag, old_ct_b),
        m => panic!("{m:?}"),
    }
    match p.wire[1].message() {
        Message::I2bis {
            context_tag,
            packet_context_tag,
            ..
        } => {
            // CT(local) of A unchanged; the packet tag echoed (§7.18).
            assert_eq!(context_tag, ct_a);
            assert_eq!(packet_context_tag, old_ct_b);
        }
        m => panic!("{m:?}"),
    }
    let ca = p.hosts[0].context_for(ua, ub, 0).unwrap();
    let cb = p.hosts[1].context_for(ub, ua, 0).unwrap();
    assert_eq!(ca.state, ContextState::Established);
    assert_eq!(cb.state, ContextState::Established);
    // B picked a new tag (§7.20: SHOULD NOT reuse the Packet Context Tag;
    // the old one is quarantined) and A learnt it.
    assert_ne!(cb.ct_local, Some(old_ct_b));
    assert_eq!(ca.ct_peer, cb.ct_local);
    assert_eq!(cb.ct_peer, Some(ct_a));
    assert_eq!(
        p.hosts[1]
            .peer_locators(cb.ct_local.unwrap())
            .unwrap()
            .len(),
        3
    );
    // A's data plane hears of the new CT(peer); B installs the context.
    assert!(
        p.events.iter().any(|(h, e, _)| *h == 0
            && matches!(e, Event::ContextUpdated(i) if i.ct_peer == cb.ct_local))
    );
    assert!(
        p.events
            .iter()
            .any(|(h, e, _)| *h == 1 && matches!(e, Event::ContextEstablished(_)))
    );
    // Payload flows again without R1bis.
    p.wire.clear();
    a_sends_payload(&mut p, ua, ub).unwrap();
    p.pump(&mut keep);
    assert!(p.wire.is_empty());
}

#[test]
fn rebooted_peer_recovers_the_context() {
    let (mut p, ua, ub) = established_pair();
    // B reboots: a new host, same identity, different secrets.
    let id = p.hosts[1].identities()[0].clone();
    p.hosts[1] = host(exact(), 99, id);
    p.now = secs(1);
    a_sends_payload(&mut p, ua, ub).unwrap();
    p.pump(&mut keep);
    assert_eq!(p.types(), vec![(1, T::R1BIS), (0, T::I2BIS), (1, T::R2)]);
    let ca = p.hosts[0].context_for(ua, ub, 0).unwrap();
    let cb = p.hosts[1].context_for(ub, ua, 0).unwrap();
    assert_eq!(ca.ct_peer, cb.ct_local);
    assert_eq!(cb.state, ContextState::Established);
}

#[test]
fn lost_i2bis_retransmitted_then_i1() {
    let (mut p, ua, ub) = established_pair();
    let old_ct_b = p.hosts[1].context_for(ub, ua, 0).unwrap().ct_local.unwrap();
    p.hosts[1].teardown(p.now, old_ct_b).unwrap();
    p.pump(&mut keep);
    p.wire.clear();
    p.now = secs(100);
    a_sends_payload(&mut p, ua, ub).unwrap();
    let mut drop = |s: &Seen| s.msg_type() == T::I2BIS;
    p.run_until(secs(130), &mut drop);
    // I2bis at 100, then I2bis_TIMEOUT = 4 s with backoff: 104, 112; the
    // third timeout (128) exceeds I2bis_RETRIES_MAX = 2 and falls back to
    // I1 (§7.19), which completes the ordinary way.
    let i2bis: Vec<_> = p
        .dropped
        .iter()
        .filter(|s| s.msg_type() == T::I2BIS)
        .map(|s| s.at)
        .collect();
    assert_eq!(i2bis, vec![secs(100), secs(104), secs(112)]);
    let after: Vec<_> = p
        .wire
        .iter()
        .filter(|s| s.at == secs(128))
        .map(|s| (s.from, s.msg_type()))
        .collect();
    assert_eq!(after, vec![(0, T::I1), (1, T::R1), (0, T::I2), (1, T::R2)]);
    let ca = p.hosts[0].context_for(ua, ub, 0).unwrap();
    let cb = p.hosts[1].context_for(ub, ua, 0).unwrap();
    assert_eq!(ca.state, ContextState::Established);
    assert_eq!(ca.ct_peer, cb.ct_local);
}

#[test]
fn r1bis_needs_a_matching_context() {
    let (mut p, ua, ub) = established_pair();
    let ct_b = p.hosts[1].context_for(ub, ua, 0).unwrap().ct_local.unwrap();
    p.hosts[1].teardown(p.now, ct_b).unwrap();
    p.pump(&mut keep);
    a_sends_payload(&mut p, ua, ub).unwrap();
    let mut buf = vec![];
    let mut tx = None;
    while let Some(o) = p.hosts[1].poll_output(&mut buf) {
        if let shim6_proto::event::Output::Transmit(t) = o {
            tx = Some(t);
        }
    }
    let tx = tx.unwrap();
    // From another locator pair: no context matches (§7.18).
    let other: Ipv6Addr = "2001:db8:ff::1".parse().unwrap();
    let r = p.hosts[0].handle_datagram(
        p.now,
        &RxDatagram {
            src: other,
            dst: tx.dst,
            payload: &buf,
        },
    );
    assert_eq!(r, Err(Dropped::NoContext));
    assert_eq!(p.hosts[0].state(ua, ub, 0), ContextState::Established);
    // The genuine one moves A to I2BIS-SENT.
    p.hosts[0]
        .handle_datagram(
            p.now,
            &RxDatagram {
                src: tx.src,
                dst: tx.dst,
                payload: &buf,
            },
        )
        .unwrap();
    assert_eq!(p.hosts[0].state(ua, ub, 0), ContextState::I2bisSent);
    // A second R1bis is not delivered in I2BIS-SENT (Appendix B).
    let r = p.hosts[0].handle_datagram(
        p.now,
        &RxDatagram {
            src: tx.src,
            dst: tx.dst,
            payload: &buf,
        },
    );
    assert_eq!(r, Err(Dropped::NotDelivered(ContextState::I2bisSent)));
}

#[test]
fn unknown_tags_get_stateless_r1bis() {
    let mut b = host(exact(), 2, hba_identity(0xb, 2, 2));
    let ub = b.identities()[0].ulid();
    let mut x: u64 = 0x1234_5678;
    for i in 0..2000u32 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let src = Ipv6Addr::from(0x2001_0db8_0000_0000_0000_0000_0000_0000u128 | u128::from(x));
        let bytes = payload(ContextTag::from_bits_truncate(x ^ u64::from(i)));
        b.handle_datagram(
            secs(u64::from(i) / 100),
            &RxDatagram {
                src,
                dst: ub,
                payload: &bytes,
            },
        )
        .unwrap();
    }
    let mut buf = vec![];
    let mut n = 0;
    while b.poll_output(&mut buf).is_some() {
        n += 1;
    }
    assert_eq!(n, 2000);
    assert_eq!(b.stats().sent.r1bis, 2000);
    assert_eq!(b.contexts(), 0);
    assert_eq!(b.live_tags(), 0);
    assert_eq!(b.poll_timeout(), None);
}
