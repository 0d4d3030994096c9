#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // test code
//! Rows of RFC 5533 Appendix B exercised through the host, with real
//! messages: what each state does with duplicates and stragglers.

mod common;

use common::*;
use shim6_proto::context::ContextState as S;
use shim6_proto::endpoint::Dropped;
use shim6_proto::event::RxDatagram;
use shim6_proto::wire::{MessageType as T, PayloadRepr, Shim6Packet};

fn deliver(h: &mut Host, s: &Seen, now: std::time::Duration) -> Result<(), Dropped> {
    h.handle_datagram(
        now,
        &RxDatagram {
            src: s.src,
            dst: s.dst,
            payload: &s.bytes,
        },
    )
}

fn fresh() -> Pair {
    Pair::new(
        host(exact(), 1, hba_identity(0xa, 2, 1)),
        host(exact(), 2, hba_identity(0xb, 2, 2)),
    )
}

fn ulids(p: &Pair) -> (std::net::Ipv6Addr, std::net::Ipv6Addr) {
    (
        p.hosts[0].identities()[0].ulid(),
        p.hosts[1].identities()[0].ulid(),
    )
}

#[test]
fn i2_sent_discards_a_second_r1_and_resends_i2_on_payload() {
    let mut p = fresh();
    let (ua, ub) = ulids(&p);
    p.hosts[0].establish(p.now, ua, ub).unwrap();
    // Lose the I2: A stays in I2-SENT.
    p.pump(&mut |s: &Seen| s.msg_type() == T::I2);
    assert_eq!(p.hosts[0].state(ua, ub, 0), S::I2Sent);
    let r1 = p.wire[1].clone();
    assert_eq!(r1.msg_type(), T::R1);
    // "I2-SENT | receive R1 | discard".
    assert_eq!(
        deliver(&mut p.hosts[0], &r1, p.now),
        Err(Dropped::Discarded(S::I2Sent))
    );
    assert_eq!(p.hosts[0].pending_outputs(), 0);
    // "I2-SENT | payload | accept and send I2": a payload with CT(local)
    // (as if B had established and its R2 was lost).
    let ct_a = p.hosts[0].context_for(ua, ub, 0).unwrap().ct_local.unwrap();
    let mut pl = vec![0u8; 8];
    PayloadRepr {
        next_header: 59,
        context_tag: ct_a,
    }
    .emit(&mut Shim6Packet::new_unchecked(&mut pl[..]))
    .unwrap();
    p.hosts[0]
        .handle_datagram(
            p.now,
            &RxDatagram {
                src: ub,
                dst: ua,
                payload: &pl,
            },
        )
        .unwrap();
    p.wire.clear();
    p.pump(&mut keep);
    assert_eq!(p.types(), vec![(0, T::I2), (1, T::R2)]);
    assert_eq!(p.hosts[0].state(ua, ub, 0), S::Established);
}

#[test]
fn i1_sent_discards_payload_and_established_discards_r1_r2() {
    let mut p = fresh();
    let (ua, ub) = ulids(&p);
    let ct_a = p.hosts[0].establish(p.now, ua, ub).unwrap();
    let mut pl = vec![0u8; 8];
    PayloadRepr {
        next_header: 59,
        context_tag: ct_a,
    }
    .emit(&mut Shim6Packet::new_unchecked(&mut pl[..]))
    .unwrap();
    // "I1-SENT | payload | discard".
    assert_eq!(
        p.hosts[0].handle_datagram(
            p.now,
            &RxDatagram {
                src: ub,
                dst: ua,
                payload: &pl
            }
        ),
        Err(Dropped::Discarded(S::I1Sent))
    );
    p.pump(&mut keep);
    let (r1, r2) = (p.wire[1].clone(), p.wire[3].clone());
    assert_eq!((r1.msg_type(), r2.msg_type()), (T::R1, T::R2));
    // "ESTABLISHED | receive R1 / R2 | discard".
    assert_eq!(
        deliver(&mut p.hosts[0], &r1, p.now),
        Err(Dropped::Discarded(S::Established))
    );
    assert_eq!(
        deliver(&mut p.hosts[0], &r2, p.now),
        Err(Dropped::Discarded(S::Established))
    );
    assert_eq!(p.hosts[0].pending_outputs(), 0);
    // A retransmitted I2 at the established responder: R2 again, same
    // context (§7.13).
    let i2 = p.wire[2].clone();
    deliver(&mut p.hosts[1], &i2, p.now).unwrap();
    assert_eq!(p.hosts[1].contexts(), 1);
    assert_eq!(p.hosts[1].stats().sent.r2, 2);
}

#[test]
fn r1bis_for_a_context_still_in_i1_sent_is_not_delivered() {
    let mut p = fresh();
    let (ua, ub) = ulids(&p);
    p.hosts[0].establish(p.now, ua, ub).unwrap();
    p.pump(&mut keep);
    // B forgets, A sends payload, B answers R1bis; meanwhile A restarted
    // the context... simulated by A tearing down and establishing again
    // before the R1bis arrives: the new context has no CT(peer) yet.
    let ct_b = p.hosts[1].context_for(ub, ua, 0).unwrap().ct_local.unwrap();
    p.hosts[1].teardown(p.now, ct_b).unwrap();
    let ca = p.hosts[0].context_for(ua, ub, 0).unwrap();
    let mut pl = vec![0u8; 8];
    PayloadRepr {
        next_header: 59,
        context_tag: ca.ct_peer.unwrap(),
    }
    .emit(&mut Shim6Packet::new_unchecked(&mut pl[..]))
    .unwrap();
    p.hosts[1]
        .handle_datagram(
            p.now,
            &RxDatagram {
                src: ua,
                dst: ub,
                payload: &pl,
            },
        )
        .unwrap();
    p.wire.clear();
    p.pump(&mut |s: &Seen| s.msg_type() == T::R1BIS);
    let r1bis = p.dropped.pop().unwrap();
    p.hosts[0].teardown(p.now, ca.ct_local.unwrap()).unwrap();
    p.hosts[0].establish(p.now, ua, ub).unwrap();
    assert_eq!(
        deliver(&mut p.hosts[0], &r1bis, p.now),
        Err(Dropped::NoContext)
    );
    assert_eq!(p.hosts[0].state(ua, ub, 0), S::I1Sent);
}

#[test]
fn e_failed_pair_still_answers_as_idle() {
    // "E-FAILED | any packet | as in IDLE": a valid exchange started by
    // the peer establishes the context although A gave up on it.
    let mut p = fresh();
    let (ua, ub) = ulids(&p);
    p.hosts[0].establish(p.now, ua, ub).unwrap();
    // Every I1 is lost until A is in E-FAILED (124 s, see establish.rs).
    p.run_until(secs(130), &mut |s: &Seen| s.msg_type() == T::I1);
    assert_eq!(p.hosts[0].state(ua, ub, 0), S::EFailed);
    p.hosts[1].establish(p.now, ub, ua).unwrap();
    p.pump(&mut keep);
    assert_eq!(p.hosts[0].state(ua, ub, 0), S::Established);
    assert_eq!(p.hosts[1].state(ub, ua, 0), S::Established);
    let ca = p.hosts[0].context_for(ua, ub, 0).unwrap();
    assert!(ca.ct_local.is_some());
    assert_eq!(
        ca.ct_peer,
        p.hosts[1].context_for(ub, ua, 0).unwrap().ct_local
    );
    // The hold-down timer no longer applies.
    p.run_until(secs(200), &mut keep);
    assert_eq!(p.hosts[0].state(ua, ub, 0), S::Established);
}

#[test]
fn payload_triggered_i2bis_is_rate_limited() {
    let mut p = fresh();
    let (ua, ub) = ulids(&p);
    p.hosts[0].establish(p.now, ua, ub).unwrap();
    p.pump(&mut keep);
    let ct_b = p.hosts[1].context_for(ub, ua, 0).unwrap().ct_local.unwrap();
    p.hosts[1].teardown(p.now, ct_b).unwrap();
    let ca = p.hosts[0].context_for(ua, ub, 0).unwrap();
    let mut pl = vec![0u8; 8];
    PayloadRepr {
        next_header: 59,
        context_tag: ca.ct_peer.unwrap(),
    }
    .emit(&mut Shim6Packet::new_unchecked(&mut pl[..]))
    .unwrap();
    // B answers the payload with R1bis; the I2bis is lost, A is in
    // I2BIS-SENT.
    p.hosts[1]
        .handle_datagram(
            p.now,
            &RxDatagram {
                src: ua,
                dst: ub,
                payload: &pl,
            },
        )
        .unwrap();
    p.wire.clear();
    p.pump(&mut |s: &Seen| s.msg_type() == T::I2BIS);
    assert_eq!(p.hosts[0].state(ua, ub, 0), S::I2bisSent);
    let sent0 = p.hosts[0].stats().sent.i2bis;
    // Ten payload packets from B (its new data plane has nothing, but a
    // stale peer could send them) within half a second: one I2bis.
    let mut own = vec![0u8; 8];
    PayloadRepr {
        next_header: 59,
        context_tag: ca.ct_local.unwrap(),
    }
    .emit(&mut Shim6Packet::new_unchecked(&mut own[..]))
    .unwrap();
    for i in 0..10u64 {
        p.hosts[0]
            .handle_datagram(
                p.now + std::time::Duration::from_millis(50 * i),
                &RxDatagram {
                    src: ub,
                    dst: ua,
                    payload: &own,
                },
            )
            .unwrap();
    }
    assert_eq!(p.hosts[0].stats().sent.i2bis, sent0 + 1);
    assert_eq!(p.hosts[0].stats().resends_suppressed, 9);
}

#[test]
fn retransmitted_i2_announces_nothing_new() {
    let mut p = fresh();
    let (ua, ub) = ulids(&p);
    p.hosts[0].establish(p.now, ua, ub).unwrap();
    p.pump(&mut keep);
    let i2 = p.wire[2].clone();
    p.events.clear();
    deliver(&mut p.hosts[1], &i2, p.now).unwrap();
    p.pump(&mut keep);
    // The R2 again, but no forwarding-plane event: nothing changed.
    assert_eq!(p.hosts[1].stats().sent.r2, 2);
    assert!(p.events.is_empty(), "{:?}", p.events);
    // (A changed CT(peer) is announced: recovery.rs checks
    // ContextUpdated after an I2bis exchange.)
}
