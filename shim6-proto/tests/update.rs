#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // test code
//! Locator list and preference updates (RFC 5533 §10; RFC 5535 §8.1).

mod common;

use std::net::Ipv6Addr;

use common::*;
use shim6_proto::endpoint::{ApiError, Dropped};
use shim6_proto::event::{Event, RxDatagram};
use shim6_proto::locators::{IdentityError, LocatorError};
use shim6_proto::wire::{
    ControlRepr, Locator, LocatorList, Locators, Message, MessageType as T, OptionRepr, OptionType,
    OptionValue, Options, Shim6Packet, VerificationMethod,
};

fn new_addr() -> Ipv6Addr {
    "2001:db8:a:99::7".parse().unwrap()
}

/// A (CGA-compatible HBA, 2 members) established with B (HBA, 2).
fn pair() -> (Pair, Ipv6Addr, Ipv6Addr) {
    let cfg = shim6_proto::endpoint::HostConfig {
        idle_timeout: None,
        ..exact()
    };
    let mut p = Pair::new(
        host(cfg.clone(), 1, cga_hba_identity(0xa, 2, RSA1024, 1)),
        host(cfg, 2, hba_identity(0xb, 2, 2)),
    );
    let ua = p.hosts[0].identities()[0].ulid();
    let ub = p.hosts[1].identities()[0].ulid();
    p.hosts[0].establish(p.now, ua, ub).unwrap();
    p.pump(&mut keep);
    p.wire.clear();
    p.events.clear();
    p.now = secs(10);
    (p, ua, ub)
}

fn with_new_cga(p: &Pair) -> Vec<Locator> {
    let mut l = p.hosts[0].identities()[0].locators().to_vec();
    l.push(Locator {
        method: VerificationMethod::CGA,
        addr: new_addr(),
    });
    l
}

fn tags(
    p: &Pair,
    ua: Ipv6Addr,
    ub: Ipv6Addr,
) -> (shim6_proto::wire::ContextTag, shim6_proto::wire::ContextTag) {
    (
        p.hosts[0].context_for(ua, ub, 0).unwrap().ct_local.unwrap(),
        p.hosts[1].context_for(ub, ua, 0).unwrap().ct_local.unwrap(),
    )
}

#[test]
fn update_adds_a_cga_signed_locator() {
    let (mut p, ua, ub) = pair();
    let (ct_a, ct_b) = tags(&p, ua, ub);
    assert_eq!(p.hosts[1].peer_locators(ct_b).unwrap().len(), 2);
    let l = with_new_cga(&p);
    assert_eq!(p.hosts[0].update_locators(p.now, ua, l).unwrap(), 1);
    assert!(p.hosts[0].update_pending(ct_a));
    p.pump(&mut keep);
    assert_eq!(p.types(), vec![(0, T::UPDATE_REQUEST), (1, T::UPDATE_ACK)]);
    // The request is addressed to CT(peer) and carries the new generation,
    // the PDS and the signature (§10.1).
    let gen_a = p.hosts[0].identities()[0].generation();
    assert_ne!(gen_a, 0);
    let v = Shim6Packet::new_checked(&p.wire[0].bytes[..]).unwrap();
    let r = ControlRepr::parse(&v).unwrap();
    match r.message {
        Message::UpdateRequest { context_tag, .. } => assert_eq!(context_tag, ct_b),
        m => panic!("{m:?}"),
    }
    match r.options.find(OptionType::LOCATOR_LIST).unwrap().value {
        OptionValue::LocatorList(l) => {
            assert_eq!(l.generation, gen_a);
            assert_eq!(l.locators.len(), 3);
        }
        o => panic!("{o:?}"),
    }
    assert!(r.options.find(OptionType::CGA_SIGNATURE).is_some());
    assert!(r.options.find(OptionType::ULID_PAIR).is_none());
    // B verified and recorded it, told its data plane, acknowledged.
    let ls = p.hosts[1].peer_locators(ct_b).unwrap();
    assert_eq!(ls.len(), 3);
    assert!(ls.contains(&new_addr()));
    assert!(
        p.events
            .iter()
            .any(|(h, e, n)| *h == 1 && matches!(e, Event::ContextUpdated(_)) && *n == 0)
    );
    assert!(!p.hosts[0].update_pending(ct_a));
    // No retransmission after the acknowledgement.
    p.run_until(secs(1000), &mut keep);
    assert_eq!(
        p.wire
            .iter()
            .filter(|s| s.msg_type() == T::UPDATE_REQUEST)
            .count(),
        1
    );
}

#[test]
fn unverifiable_locators_are_refused_before_sending() {
    let mut a = host(exact(), 1, hba_identity(0xa, 2, 1));
    let ua = a.identities()[0].ulid();
    let mut l = a.identities()[0].locators().to_vec();
    let foreign = hba_identity(0xc, 1, 3).ulid();
    l.push(Locator {
        method: VerificationMethod::HBA,
        addr: foreign,
    });
    assert_eq!(
        a.update_locators(secs(0), ua, l.clone()),
        Err(ApiError::Locators(IdentityError::NotInHbaSet(foreign)))
    );
    // An HBA-only set has no key to sign a CGA locator with.
    l.last_mut().unwrap().method = VerificationMethod::CGA;
    assert_eq!(
        a.update_locators(secs(0), ua, l),
        Err(ApiError::Locators(IdentityError::NeedsSigner))
    );
    assert_eq!(a.identities()[0].locators().len(), 2);
    assert_eq!(a.identities()[0].generation(), 0);
    assert_eq!(a.pending_outputs(), 0);
}

#[test]
fn forged_update_is_refused_by_the_peer() {
    let (mut p, ua, ub) = pair();
    let (_, ct_b) = tags(&p, ua, ub);
    let l = with_new_cga(&p);
    p.hosts[0].update_locators(p.now, ua, l).unwrap();
    // Capture the request instead of delivering it.
    p.pump(&mut |s: &Seen| s.msg_type() == T::UPDATE_REQUEST);
    let req = p.dropped.pop().unwrap();
    let v = Shim6Packet::new_checked(&req.bytes[..]).unwrap();
    let r = ControlRepr::parse(&v).unwrap();
    let foreign = hba_identity(0xc, 1, 3).ulid();
    // A locator slipped into the signed list: the signature breaks.
    let opts: Vec<OptionRepr<'_>> = r
        .options
        .iter()
        .map(|o| match o.value {
            OptionValue::LocatorList(l) => {
                let mut v: Vec<Locator> = l.locators.iter().collect();
                v.push(Locator {
                    method: VerificationMethod::CGA,
                    addr: foreign,
                });
                OptionRepr::new(OptionValue::LocatorList(LocatorList {
                    generation: l.generation,
                    locators: Locators::Owned(v),
                }))
            }
            _ => o,
        })
        .collect();
    let forged = ControlRepr {
        next_header: 59,
        message: r.message.clone(),
        options: Options::Owned(opts),
    };
    let mut bytes = vec![0u8; forged.buffer_len()];
    forged
        .emit(&mut Shim6Packet::new_unchecked(&mut bytes[..]))
        .unwrap();
    let res = p.hosts[1].handle_datagram(
        p.now,
        &RxDatagram {
            src: req.src,
            dst: req.dst,
            payload: &bytes,
        },
    );
    assert_eq!(res, Err(Dropped::BadLocators(LocatorError::BadSignature)));
    assert_eq!(p.hosts[1].peer_locators(ct_b).unwrap().len(), 2);
    // No acknowledgement, but an Error with Code 2 (§10.4) pointing at the
    // first Verification Method octet: the Locator List is the first
    // option, right after the 16 fixed octets; method octets start 9
    // octets into it (option header 4, generation 4, Num Locators 1).
    assert_eq!(p.hosts[1].pending_outputs(), 1);
    let mut ebuf = vec![];
    p.hosts[1].poll_output(&mut ebuf).unwrap();
    let e = ControlRepr::parse(&Shim6Packet::new_checked(&ebuf[..]).unwrap()).unwrap();
    match e.message {
        Message::Error {
            code,
            pointer,
            packet_in_error,
        } => {
            assert_eq!(code, shim6_proto::wire::ErrorCode(2));
            assert_eq!(pointer, 25);
            assert_eq!(&packet_in_error[..bytes.len()], &bytes[..]);
        }
        m => panic!("{m:?}"),
    }
    // The same request from an address outside Ls(peer): a stale context,
    // answered with an R1bis (§10.4).
    let res = p.hosts[1].handle_datagram(
        p.now,
        &RxDatagram {
            src: foreign,
            dst: req.dst,
            payload: &req.bytes,
        },
    );
    assert_eq!(res, Err(Dropped::NotInContextLocators));
    let mut buf = vec![];
    p.hosts[1].poll_output(&mut buf).unwrap();
    let m = ControlRepr::parse(&Shim6Packet::new_checked(&buf[..]).unwrap()).unwrap();
    assert_eq!(m.message.msg_type(), T::R1BIS);
    assert_eq!(p.hosts[1].peer_locators(ct_b).unwrap().len(), 2);
}

#[test]
fn update_retransmitted_with_backoff_up_to_max_update_timeout() {
    let (mut p, ua, ub) = pair();
    let (ct_a, ct_b) = tags(&p, ua, ub);
    let l = with_new_cga(&p);
    p.hosts[0].update_locators(p.now, ua, l).unwrap();
    let mut drop = |s: &Seen| s.msg_type() == T::UPDATE_REQUEST && s.at < secs(300);
    p.run_until(secs(400), &mut drop);
    // UPDATE_TIMEOUT = 4 s doubling to MAX_UPDATE_TIMEOUT = 120 s (§10.2,
    // §14): 10, +4, +8, +16, +32, +64, +120, +120.
    let times: Vec<_> = p
        .dropped
        .iter()
        .chain(p.wire.iter())
        .filter(|s| s.msg_type() == T::UPDATE_REQUEST)
        .map(|s| s.at)
        .collect();
    assert_eq!(
        times,
        [10, 14, 22, 38, 70, 134, 254, 374].map(secs).to_vec()
    );
    // The one at 374 s got through and was acknowledged.
    assert!(!p.hosts[0].update_pending(ct_a));
    assert_eq!(p.hosts[1].peer_locators(ct_b).unwrap().len(), 3);
    // Every retransmission kept the Request Nonce (§10.1).
    let nonces: Vec<u32> = p
        .dropped
        .iter()
        .chain(p.wire.iter())
        .filter_map(|s| match s.message() {
            Message::UpdateRequest { request_nonce, .. } => Some(request_nonce),
            _ => None,
        })
        .collect();
    assert!(nonces.windows(2).all(|w| w[0] == w[1]));
}

#[test]
fn newer_information_abandons_the_outstanding_request() {
    let (mut p, ua, ub) = pair();
    let (ct_a, ct_b) = tags(&p, ua, ub);
    let l = with_new_cga(&p);
    p.hosts[0].update_locators(p.now, ua, l.clone()).unwrap();
    p.pump(&mut |s: &Seen| s.msg_type() == T::UPDATE_REQUEST);
    let first = p.dropped.pop().unwrap();
    // Newer information: a preference change, with a new nonce (§10.3).
    p.hosts[0]
        .update_preferences(p.now, ua, 1, vec![0, 0, 0x01])
        .unwrap();
    p.pump(&mut |s: &Seen| s.msg_type() == T::UPDATE_REQUEST);
    let second = p.dropped.pop().unwrap();
    let nonce = |s: &Seen| match s.message() {
        Message::UpdateRequest { request_nonce, .. } => request_nonce,
        m => panic!("{m:?}"),
    };
    assert_ne!(nonce(&first), nonce(&second));
    // B acknowledges the first; A ignores that acknowledgement.
    p.hosts[1]
        .handle_datagram(
            p.now,
            &RxDatagram {
                src: first.src,
                dst: first.dst,
                payload: &first.bytes,
            },
        )
        .unwrap();
    let mut buf = vec![];
    let ack = match p.hosts[1].poll_output(&mut buf) {
        Some(shim6_proto::event::Output::Event(_)) => {
            buf.clear();
            p.hosts[1].poll_output(&mut buf).unwrap()
        }
        Some(o) => o,
        None => panic!("no ack"),
    };
    let ack = match ack {
        shim6_proto::event::Output::Transmit(t) => t,
        o => panic!("{o:?}"),
    };
    let r = p.hosts[0].handle_datagram(
        p.now,
        &RxDatagram {
            src: ack.src,
            dst: ack.dst,
            payload: &buf,
        },
    );
    assert_eq!(r, Err(Dropped::StaleAck));
    assert!(p.hosts[0].update_pending(ct_a));
    // The second request completes the update, preferences included.
    p.hosts[1]
        .handle_datagram(
            p.now,
            &RxDatagram {
                src: second.src,
                dst: second.dst,
                payload: &second.bytes,
            },
        )
        .unwrap();
    p.pump(&mut keep);
    assert!(!p.hosts[0].update_pending(ct_a));
    let gen_a = p.hosts[0].identities()[0].generation();
    assert_eq!(
        p.hosts[1].peer_preferences(ct_b),
        Some((gen_a, 1, &[0u8, 0, 1][..]))
    );
}

#[test]
fn preferences_for_another_generation_are_refused() {
    let (mut p, ua, ub) = pair();
    let (_, ct_b) = tags(&p, ua, ub);
    p.hosts[0]
        .update_preferences(p.now, ua, 1, vec![0, 1])
        .unwrap();
    p.pump(&mut |s: &Seen| s.msg_type() == T::UPDATE_REQUEST);
    let req = p.dropped.pop().unwrap();
    let v = Shim6Packet::new_checked(&req.bytes[..]).unwrap();
    let r = ControlRepr::parse(&v).unwrap();
    let rebuild = |f: &dyn Fn(
        shim6_proto::wire::LocatorPreferences<'static>,
    ) -> shim6_proto::wire::LocatorPreferences<'static>| {
        let opts: Vec<OptionRepr<'static>> = r
            .options
            .iter()
            .filter_map(|o| match o.value {
                OptionValue::LocatorPreferences(lp) => {
                    let e: &'static [u8] = Box::leak(lp.elements.to_vec().into_boxed_slice());
                    Some(OptionRepr::new(OptionValue::LocatorPreferences(f(
                        shim6_proto::wire::LocatorPreferences {
                            generation: lp.generation,
                            element_len: lp.element_len,
                            elements: e,
                        },
                    ))))
                }
                // Preferences only: no list in this request.
                OptionValue::LocatorList(_)
                | OptionValue::CgaParameters(_)
                | OptionValue::CgaSignature(_) => None,
                _ => None,
            })
            .collect();
        let m = ControlRepr {
            next_header: 59,
            message: r.message.clone(),
            options: Options::Owned(opts),
        };
        let mut b = vec![0u8; m.buffer_len()];
        m.emit(&mut Shim6Packet::new_unchecked(&mut b[..])).unwrap();
        b
    };
    let wrong_gen = rebuild(&|mut lp| {
        lp.generation = lp.generation.wrapping_add(1);
        lp
    });
    let rx = |b: &[u8]| RxDatagram {
        src: req.src,
        dst: req.dst,
        payload: Box::leak(b.to_vec().into_boxed_slice()),
    };
    assert_eq!(
        p.hosts[1].handle_datagram(p.now, &rx(&wrong_gen)),
        Err(Dropped::GenerationMismatch)
    );
    // Error Code 3 pointing at the option's generation: the preferences
    // are the only option, at offset 16; the generation 4 octets in.
    let mut ebuf = vec![];
    p.hosts[1].poll_output(&mut ebuf).unwrap();
    let e = ControlRepr::parse(&Shim6Packet::new_checked(&ebuf[..]).unwrap()).unwrap();
    assert!(matches!(
        e.message,
        Message::Error {
            code: shim6_proto::wire::ErrorCode(3),
            pointer: 20,
            ..
        }
    ));
    let wrong_count = rebuild(&|mut lp| {
        lp.elements = &[0, 1, 0];
        lp
    });
    assert_eq!(
        p.hosts[1].handle_datagram(p.now, &rx(&wrong_count)),
        Err(Dropped::LocatorCount)
    );
    assert_eq!(p.hosts[1].peer_preferences(ct_b), None);
    // Preferences alone, for the current generation, are accepted.
    let alone = rebuild(&|lp| lp);
    p.hosts[1].handle_datagram(p.now, &rx(&alone)).unwrap();
    assert_eq!(
        p.hosts[1].peer_preferences(ct_b),
        Some((0, 1, &[0u8, 1][..]))
    );
}

#[test]
fn locators_changed_during_establishment_are_sent_once_established() {
    let cfg = shim6_proto::endpoint::HostConfig {
        idle_timeout: None,
        ..exact()
    };
    let mut p = Pair::new(
        host(cfg.clone(), 1, cga_hba_identity(0xa, 2, RSA1024, 1)),
        host(cfg, 2, hba_identity(0xb, 2, 2)),
    );
    let ua = p.hosts[0].identities()[0].ulid();
    let ub = p.hosts[1].identities()[0].ulid();
    p.hosts[0].establish(p.now, ua, ub).unwrap();
    // Stop after the I2 is sent (hold the R2).
    p.pump(&mut |s: &Seen| s.msg_type() == T::R2);
    let r2 = p.dropped.pop().unwrap();
    // The locators change while A waits in I2-SENT: no Update yet (no
    // CT(peer)).
    let l = with_new_cga(&p);
    assert_eq!(p.hosts[0].update_locators(p.now, ua, l).unwrap(), 0);
    p.hosts[0]
        .handle_datagram(
            p.now,
            &RxDatagram {
                src: r2.src,
                dst: r2.dst,
                payload: &r2.bytes,
            },
        )
        .unwrap();
    p.wire.clear();
    p.pump(&mut keep);
    // Established, then the Update Request with the new list.
    assert_eq!(p.types(), vec![(0, T::UPDATE_REQUEST), (1, T::UPDATE_ACK)]);
    let (_, ct_b) = tags(&p, ua, ub);
    assert!(
        p.hosts[1]
            .peer_locators(ct_b)
            .unwrap()
            .contains(&new_addr())
    );
}
