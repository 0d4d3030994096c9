#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // test code
//! Context establishment between two hosts back to back (RFC 5533 §7):
//! HBA and CGA identities, lost messages with exact retransmission times,
//! failures and hold-downs, concurrent establishment, table bounds.

mod common;

use std::net::Ipv6Addr;

use common::*;
use shim6_proto::context::ContextState;
use shim6_proto::endpoint::{ApiError, Dropped, HostConfig};
use shim6_proto::event::{Event, RxDatagram};
use shim6_proto::locators::LocalIdentity;
use shim6_proto::wire::{ControlRepr, MessageType as T, OptionType, OptionValue, Shim6Packet};

fn ulid(h: &Host) -> Ipv6Addr {
    h.identities()[0].ulid()
}

/// Establishes A -> B and checks everything both sides learnt.
fn establish_and_check(
    a: LocalIdentity<hba_cga::sig::RsaSigner>,
    b: LocalIdentity<hba_cga::sig::RsaSigner>,
) {
    let a_locs: Vec<Ipv6Addr> = a.locators().iter().map(|l| l.addr).collect();
    let b_locs: Vec<Ipv6Addr> = b.locators().iter().map(|l| l.addr).collect();
    let mut p = Pair::new(host(exact(), 1, a), host(exact(), 2, b));
    let (ua, ub) = (ulid(&p.hosts[0]), ulid(&p.hosts[1]));
    let ct_a = p.hosts[0].establish(p.now, ua, ub).unwrap();
    p.pump(&mut keep);

    // I1, R1, I2, R2 and nothing else (§7.3, Figure 3).
    assert_eq!(
        p.types(),
        vec![(0, T::I1), (1, T::R1), (0, T::I2), (1, T::R2)]
    );
    let ca = p.hosts[0].context_for(ua, ub, 0).unwrap();
    let cb = p.hosts[1].context_for(ub, ua, 0).unwrap();
    assert_eq!(ca.state, ContextState::Established);
    assert_eq!(cb.state, ContextState::Established);
    assert_eq!(ca.ct_local, Some(ct_a));
    assert_eq!(ca.ct_peer, cb.ct_local);
    assert_eq!(cb.ct_peer, Some(ct_a));
    assert_ne!(cb.ct_local, None);
    // The exchange ran between the ULIDs.
    assert_eq!((ca.local_locator, ca.peer_locator), (ua, ub));
    assert_eq!((cb.local_locator, cb.peer_locator), (ub, ua));
    // Each side holds the other's whole verified locator set.
    let mut got_a = p.hosts[0].peer_locators(ct_a).unwrap().to_vec();
    let mut got_b = p.hosts[1]
        .peer_locators(cb.ct_local.unwrap())
        .unwrap()
        .to_vec();
    got_a.sort();
    got_b.sort();
    let (mut want_a, mut want_b) = (b_locs, a_locs);
    want_a.sort();
    want_b.sort();
    assert_eq!(got_a, want_a);
    assert_eq!(got_b, want_b);
    // One forwarding event each; B's comes before its R2 (B had sent only
    // the R1 when it was emitted).
    let est: Vec<_> = p
        .events
        .iter()
        .filter(|(_, e, _)| matches!(e, Event::ContextEstablished(_)))
        .collect();
    assert_eq!(est.len(), 2);
    let b_ev = est.iter().find(|(h, _, _)| *h == 1).unwrap();
    assert_eq!(b_ev.2, 1, "ContextEstablished before the R2");
    assert_eq!(p.hosts[0].stats().established, 1);
    assert_eq!(p.hosts[1].stats().established, 1);
    assert_eq!(p.hosts[1].stats().dropped, 0);
}

#[test]
fn hba_2_5_10_locators() {
    for n in [2u16, 5, 10] {
        establish_and_check(
            hba_identity(0xa, n, u64::from(n)),
            hba_identity(0xb, n, 100 + u64::from(n)),
        );
    }
}

#[test]
fn cga_1024_2_5_10_locators() {
    for n in [2u16, 5, 10] {
        establish_and_check(
            cga_identity(0xa, n, RSA1024, 1),
            cga_identity(0xb, n, RSA1024, 2),
        );
    }
}

#[test]
fn cga_2048_2_5_10_locators_and_mixed() {
    for n in [2u16, 5, 10] {
        establish_and_check(
            cga_identity(0xa, n, RSA2048, 3),
            cga_identity(0xb, n, RSA2048, 4),
        );
    }
    // An HBA host with a CGA-2048 host, and a CGA-compatible HBA set.
    establish_and_check(hba_identity(0xa, 3, 5), cga_identity(0xb, 10, RSA2048, 6));
    establish_and_check(
        cga_hba_identity(0xa, 4, RSA2048, 7),
        hba_identity(0xb, 2, 8),
    );
}

#[test]
fn i2_carries_validator_locators_pds_and_signature() {
    let a = cga_identity(0xa, 3, RSA1024, 1);
    let sig = a.signature().unwrap().to_vec();
    let mut p = Pair::new(
        host(exact(), 1, a),
        host(exact(), 2, hba_identity(0xb, 2, 9)),
    );
    let (ua, ub) = (ulid(&p.hosts[0]), ulid(&p.hosts[1]));
    p.hosts[0].establish(p.now, ua, ub).unwrap();
    p.pump(&mut keep);
    let r1 = &p.wire[1];
    let i2 = &p.wire[2];
    let r1v = Shim6Packet::new_checked(&r1.bytes[..]).unwrap();
    let r1r = ControlRepr::parse(&r1v).unwrap();
    let v = Shim6Packet::new_checked(&i2.bytes[..]).unwrap();
    let r = ControlRepr::parse(&v).unwrap();
    // The validator is echoed verbatim (§7.11).
    assert_eq!(
        r.options.find(OptionType::RESPONDER_VALIDATOR),
        r1r.options.find(OptionType::RESPONDER_VALIDATOR)
    );
    match r.options.find(OptionType::LOCATOR_LIST).unwrap().value {
        OptionValue::LocatorList(l) => {
            assert_eq!(l.generation, 0);
            assert_eq!(l.locators.len(), 3);
        }
        o => panic!("{o:?}"),
    }
    assert!(r.options.find(OptionType::CGA_PARAMETERS).is_some());
    match r.options.find(OptionType::CGA_SIGNATURE).unwrap().value {
        OptionValue::CgaSignature(s) => {
            assert_eq!(s, &sig[..]);
            assert_eq!(s.len(), 128); // RSA-1024
        }
        o => panic!("{o:?}"),
    }
    // No ULID Pair option: the I2 went between the ULIDs.
    assert!(r.options.find(OptionType::ULID_PAIR).is_none());
}

#[test]
fn responder_keeps_no_state_after_r1() {
    let mut p = Pair::new(
        host(exact(), 1, hba_identity(0xa, 2, 1)),
        host(exact(), 2, hba_identity(0xb, 2, 2)),
    );
    let (ua, ub) = (ulid(&p.hosts[0]), ulid(&p.hosts[1]));
    p.hosts[0].establish(p.now, ua, ub).unwrap();
    // Lose every I2: B only ever sees I1s.
    p.pump(&mut |s: &Seen| s.msg_type() == T::I2);
    assert_eq!(p.types(), vec![(0, T::I1), (1, T::R1)]);
    assert_eq!(p.hosts[1].contexts(), 0);
    assert_eq!(p.hosts[1].live_tags(), 0);
    assert_eq!(p.hosts[1].poll_timeout(), None);
}

#[test]
fn lost_i1s_retransmitted_at_4_then_8_seconds() {
    let mut p = Pair::new(
        host(exact(), 1, hba_identity(0xa, 2, 1)),
        host(exact(), 2, hba_identity(0xb, 2, 2)),
    );
    let (ua, ub) = (ulid(&p.hosts[0]), ulid(&p.hosts[1]));
    p.hosts[0].establish(p.now, ua, ub).unwrap();
    let mut lost = 0;
    let mut drop = |s: &Seen| {
        if s.msg_type() == T::I1 && lost < 2 {
            lost += 1;
            true
        } else {
            false
        }
    };
    p.run_until(secs(20), &mut drop);
    // I1 at 0 (lost), 4 s later (lost), 8 s after that: 12 s (§7.8, §14:
    // binary backoff from I1_TIMEOUT = 4 s).
    let i1_times: Vec<_> = p
        .dropped
        .iter()
        .chain(p.wire.iter())
        .filter(|s| s.msg_type() == T::I1)
        .map(|s| s.at)
        .collect();
    assert_eq!(i1_times, vec![secs(0), secs(4), secs(12)]);
    assert_eq!(p.hosts[0].state(ua, ub, 0), ContextState::Established);
    // Every I1 carried the same context tag and nonce.
    let firsts: Vec<_> = p
        .dropped
        .iter()
        .chain(p.wire.iter())
        .filter(|s| s.msg_type() == T::I1)
        .map(|s| format!("{:?}", s.message()))
        .collect();
    assert!(firsts.windows(2).all(|w| w[0] == w[1]));
}

#[test]
fn jittered_i1_retransmission_within_half_and_one_and_a_half() {
    for seed in 0..20 {
        let mut a = host(HostConfig::default(), seed, hba_identity(0xa, 1, 1));
        let ub: Ipv6Addr = "2001:db8:b::1".parse().unwrap();
        a.establish(secs(0), ulid(&a), ub).unwrap();
        let t = a.poll_timeout().unwrap();
        assert!(t >= secs(2) && t <= secs(6), "{t:?}");
        a.handle_timeout(t);
        let t2 = a.poll_timeout().unwrap() - t;
        assert!(t2 >= secs(4) && t2 <= secs(12), "{t2:?}");
    }
}

#[test]
fn lost_r2_recovered_by_i2_retransmission() {
    let mut p = Pair::new(
        host(exact(), 1, hba_identity(0xa, 3, 1)),
        host(exact(), 2, hba_identity(0xb, 3, 2)),
    );
    let (ua, ub) = (ulid(&p.hosts[0]), ulid(&p.hosts[1]));
    p.hosts[0].establish(p.now, ua, ub).unwrap();
    let mut lost = false;
    let mut drop = |s: &Seen| {
        if s.msg_type() == T::R2 && !lost {
            lost = true;
            true
        } else {
            false
        }
    };
    p.pump(&mut drop);
    assert_eq!(p.hosts[0].state(ua, ub, 0), ContextState::I2Sent);
    assert_eq!(p.hosts[1].state(ub, ua, 0), ContextState::Established);
    let ct_b = p.hosts[1].context_for(ub, ua, 0).unwrap().ct_local;
    // I2_TIMEOUT = 4 s (§7.12, §14).
    assert_eq!(p.hosts[0].poll_timeout(), Some(secs(4)));
    p.run_until(secs(5), &mut drop);
    let i2_times: Vec<_> = p
        .wire
        .iter()
        .filter(|s| s.msg_type() == T::I2)
        .map(|s| s.at)
        .collect();
    assert_eq!(i2_times, vec![secs(0), secs(4)]);
    assert_eq!(p.hosts[0].state(ua, ub, 0), ContextState::Established);
    // B answered from the context it had: same tag, still one context.
    assert_eq!(p.hosts[1].contexts(), 1);
    let cb = p.hosts[1].context_for(ub, ua, 0).unwrap();
    assert_eq!(cb.ct_local, ct_b);
    assert_eq!(p.hosts[0].context_for(ua, ub, 0).unwrap().ct_peer, ct_b);
}

#[test]
fn lost_i2s_fall_back_to_i1() {
    let mut p = Pair::new(
        host(exact(), 1, hba_identity(0xa, 2, 1)),
        host(exact(), 2, hba_identity(0xb, 2, 2)),
    );
    let (ua, ub) = (ulid(&p.hosts[0]), ulid(&p.hosts[1]));
    p.hosts[0].establish(p.now, ua, ub).unwrap();
    let mut drop = |s: &Seen| s.msg_type() == T::I2;
    p.run_until(secs(29), &mut drop);
    // I2 at 0, 4, 12 (I2_RETRIES_MAX = 2 retransmissions), then at 28 the
    // counter exceeds it and an I1 goes out (§7.12).
    let sent: Vec<_> = p
        .dropped
        .iter()
        .chain(p.wire.iter().filter(|s| s.from == 0))
        .map(|s| (s.at, s.msg_type()))
        .collect();
    let mut sorted = sent.clone();
    sorted.sort_by_key(|x| (x.0, x.1.0));
    assert_eq!(
        sorted,
        vec![
            (secs(0), T::I1),
            (secs(0), T::I2),
            (secs(4), T::I2),
            (secs(12), T::I2),
            (secs(28), T::I1),
            (secs(28), T::I2),
        ]
    );
    assert_eq!(p.hosts[0].state(ua, ub, 0), ContextState::I2Sent);
}

#[test]
fn no_r1_gives_e_failed_and_holddown() {
    let mut a = host(exact(), 1, hba_identity(0xa, 2, 1));
    let ua = ulid(&a);
    let ub: Ipv6Addr = "2001:db8:b::1".parse().unwrap();
    a.establish(secs(0), ua, ub).unwrap();
    let mut sent = vec![];
    let mut buf = vec![];
    let mut events = vec![];
    let mut now = secs(0);
    loop {
        while let Some(o) = a.poll_output(&mut buf) {
            match o {
                shim6_proto::event::Output::Transmit(_) => sent.push(now),
                shim6_proto::event::Output::Event(e) => events.push((now, e)),
            }
        }
        let Some(t) = a.poll_timeout() else { break };
        if t > secs(1000) {
            break;
        }
        now = t;
        a.handle_timeout(now);
    }
    // I1 at 0 and I1_RETRIES_MAX = 4 retransmissions after 4, 8, 16, 32 s;
    // the next timeout (64 s later, at 124 s) gives up (§7.8).
    assert_eq!(sent, vec![secs(0), secs(4), secs(12), secs(28), secs(60)]);
    assert_eq!(events.len(), 1);
    match events[0] {
        (t, Event::EstablishmentFailed { state, until, .. }) => {
            assert_eq!(t, secs(124));
            assert_eq!(state, ContextState::EFailed);
            assert_eq!(until, secs(184)); // NO_R1_HOLDDOWN_TIME = 60 s
        }
        ref e => panic!("{e:?}"),
    }
    // The negative cache ended at 184 s: the entry is gone.
    assert_eq!(now, secs(184));
    assert_eq!(a.contexts(), 0);
    assert_eq!(a.live_tags(), 0);
    assert_eq!(a.stats().failed_no_r1, 1);
    a.establish(now, ua, ub).unwrap();
}

#[test]
fn held_down_pair_is_not_tried_again() {
    let mut a = host(exact(), 1, hba_identity(0xa, 2, 1));
    let ua = ulid(&a);
    let ub: Ipv6Addr = "2001:db8:b::1".parse().unwrap();
    a.establish(secs(0), ua, ub).unwrap();
    for t in [4, 12, 28, 60, 124] {
        a.handle_timeout(secs(t));
    }
    assert_eq!(a.state(ua, ub, 0), ContextState::EFailed);
    assert_eq!(
        a.establish(secs(130), ua, ub),
        Err(ApiError::HeldDown(ContextState::EFailed))
    );
    // The CT(local) was released while holding down.
    assert_eq!(a.live_tags(), 0);
    assert_eq!(a.poll_timeout(), Some(secs(184)));
}

#[test]
fn icmp_unrecognized_next_header_gives_no_support() {
    let mut a = host(exact(), 1, hba_identity(0xa, 2, 1));
    let ua = ulid(&a);
    let ub: Ipv6Addr = "2001:db8:b::1".parse().unwrap();
    a.establish(secs(0), ua, ub).unwrap();
    let mut buf = vec![];
    let tx = match a.poll_output(&mut buf).unwrap() {
        shim6_proto::event::Output::Transmit(t) => t,
        o => panic!("{o:?}"),
    };
    // An ICMP error quoting another packet changes nothing.
    let mut other = buf.clone();
    other[15] ^= 1; // the nonce
    let other_ok = ControlRepr::parse(&Shim6Packet::new_checked(&other[..]).unwrap()).is_ok();
    assert!(!other_ok, "checksum broken: not our I1");
    assert!(
        a.handle_icmp_unrecognized_next_header(
            secs(1),
            &RxDatagram {
                src: tx.src,
                dst: tx.dst,
                payload: &other
            }
        )
        .is_err()
    );
    assert_eq!(a.state(ua, ub, 0), ContextState::I1Sent);
    a.handle_icmp_unrecognized_next_header(
        secs(1),
        &RxDatagram {
            src: tx.src,
            dst: tx.dst,
            payload: &buf,
        },
    )
    .unwrap();
    assert_eq!(a.state(ua, ub, 0), ContextState::NoSupport);
    // ICMP_HOLDDOWN_TIME = 10 minutes (§14).
    assert_eq!(a.poll_timeout(), Some(secs(601)));
    assert_eq!(
        a.establish(secs(2), ua, ub),
        Err(ApiError::HeldDown(ContextState::NoSupport))
    );
    a.handle_timeout(secs(601));
    assert_eq!(a.state(ua, ub, 0), ContextState::Idle);
    assert_eq!(a.stats().failed_no_support, 1);
}

#[test]
fn concurrent_establishment() {
    let mut p = Pair::new(
        host(exact(), 1, hba_identity(0xa, 2, 1)),
        host(exact(), 2, hba_identity(0xb, 2, 2)),
    );
    let (ua, ub) = (ulid(&p.hosts[0]), ulid(&p.hosts[1]));
    let ct_a = p.hosts[0].establish(p.now, ua, ub).unwrap();
    let ct_b = p.hosts[1].establish(p.now, ub, ua).unwrap();
    p.pump(&mut keep);
    // Each I1 meets a context in I1-SENT and gets an R2 (§7.4, §7.9).
    let ca = p.hosts[0].context_for(ua, ub, 0).unwrap();
    let cb = p.hosts[1].context_for(ub, ua, 0).unwrap();
    assert_eq!(ca.state, ContextState::Established);
    assert_eq!(cb.state, ContextState::Established);
    assert_eq!(ca.ct_peer, Some(ct_b));
    assert_eq!(cb.ct_peer, Some(ct_a));
    // Each side sent exactly an I1 and an R2 (no R1, I2).
    let mut types = p.types();
    types.sort_by_key(|(h, t)| (*h, t.0));
    assert_eq!(types, vec![(0, T::I1), (0, T::R2), (1, T::I1), (1, T::R2)]);
}

#[test]
fn table_full_refuses_new_contexts() {
    let cfg = HostConfig {
        max_contexts: 1,
        jitter: false,
        ..HostConfig::default()
    };
    let b = host(cfg, 2, hba_identity(0xb, 2, 2));
    let mut a = host(exact(), 1, hba_identity(0xa, 2, 1));
    a.add_identity(hba_identity(0xc, 2, 3)).unwrap();
    let mut p = Pair::new(a, b);
    let ub = ulid(&p.hosts[1]);
    let ua1 = p.hosts[0].identities()[0].ulid();
    let ua2 = p.hosts[0].identities()[1].ulid();
    p.hosts[0].establish(p.now, ua1, ub).unwrap();
    p.pump(&mut keep);
    p.hosts[0].establish(p.now, ua2, ub).unwrap();
    p.pump(&mut keep);
    assert_eq!(p.hosts[1].contexts(), 1);
    assert_eq!(p.hosts[1].stats().refused_full, 1);
    assert_eq!(p.hosts[0].state(ua1, ub, 0), ContextState::Established);
    assert_eq!(p.hosts[0].state(ua2, ub, 0), ContextState::I2Sent);
    // The same host cannot go past its own bound either.
    let cfg1 = HostConfig {
        max_contexts: 1,
        ..HostConfig::default()
    };
    let mut c = host(cfg1, 4, hba_identity(0xd, 1, 4));
    let uc = ulid(&c);
    c.establish(secs(0), uc, ub).unwrap();
    assert_eq!(
        c.establish(secs(0), uc, "2001:db8:e::1".parse().unwrap()),
        Err(ApiError::TableFull)
    );
    assert_eq!(c.establish(secs(0), ub, uc), Err(ApiError::UnknownUlid));
    assert_eq!(
        c.establish(secs(0), uc, ub),
        Err(ApiError::Exists(ContextState::I1Sent))
    );
}

#[test]
fn idle_context_removed() {
    let cfg = HostConfig {
        idle_timeout: Some(secs(10)),
        jitter: false,
        ..HostConfig::default()
    };
    let mut p = Pair::new(
        host(cfg.clone(), 1, hba_identity(0xa, 2, 1)),
        host(cfg, 2, hba_identity(0xb, 2, 2)),
    );
    let (ua, ub) = (ulid(&p.hosts[0]), ulid(&p.hosts[1]));
    let ct_a = p.hosts[0].establish(p.now, ua, ub).unwrap();
    p.pump(&mut keep);
    // A keeps using its context at 6 s; B does not.
    p.run_until(secs(6), &mut keep);
    p.hosts[0].note_traffic(secs(6), ct_a);
    p.run_until(secs(10), &mut keep);
    assert_eq!(p.hosts[1].contexts(), 0, "B idle for 10 s");
    assert_eq!(p.hosts[0].contexts(), 1);
    p.run_until(secs(16), &mut keep);
    assert_eq!(p.hosts[0].contexts(), 0, "A idle since 6 s");
    let removed: Vec<_> = p
        .events
        .iter()
        .filter(|(_, e, _)| matches!(e, Event::ContextRemoved { .. }))
        .map(|(h, _, _)| *h)
        .collect();
    assert_eq!(removed, vec![1, 0]);
    assert_eq!(p.hosts[0].stats().removed_idle, 1);
    assert_eq!(p.hosts[0].live_tags(), 0);
}

#[test]
fn i1_for_established_context_gets_r2_or_r1() {
    let mut p = Pair::new(
        host(exact(), 1, hba_identity(0xa, 2, 1)),
        host(exact(), 2, hba_identity(0xb, 2, 2)),
    );
    let (ua, ub) = (ulid(&p.hosts[0]), ulid(&p.hosts[1]));
    p.hosts[0].establish(p.now, ua, ub).unwrap();
    p.pump(&mut keep);
    // Replay A's I1 at B: CT(peer) matches, the R2 was probably lost (§7.9).
    let i1 = p.wire[0].clone();
    p.hosts[1]
        .handle_datagram(
            p.now,
            &RxDatagram {
                src: i1.src,
                dst: i1.dst,
                payload: &i1.bytes,
            },
        )
        .unwrap();
    let mut buf = vec![];
    let o = p.hosts[1].poll_output(&mut buf).unwrap();
    assert!(matches!(o, shim6_proto::event::Output::Transmit(_)));
    let m = ControlRepr::parse(&Shim6Packet::new_checked(&buf[..]).unwrap()).unwrap();
    assert_eq!(m.message.msg_type(), T::R2);
    assert_eq!(p.hosts[1].stats().dropped, 0);
    let _ = Dropped::TableFull;
}

#[test]
fn trigger_heuristic_starts_establishment_after_2kb() {
    use shim6_proto::heuristic::{LinShim6Trigger, Never, TriggerConfig};
    let mut p = Pair::new(
        host(exact(), 1, hba_identity(0xa, 2, 1)),
        host(exact(), 2, hba_identity(0xb, 2, 2)),
    );
    let (ua, ub) = (ulid(&p.hosts[0]), ulid(&p.hosts[1]));
    let mut trig = LinShim6Trigger::new(TriggerConfig::default());
    // The server never initiates, whatever the traffic.
    assert_eq!(
        p.hosts[1].offer_traffic(p.now, ub, ua, 1 << 20, &mut Never),
        Ok(None)
    );
    for _ in 0..3 {
        assert_eq!(
            p.hosts[0].offer_traffic(p.now, ua, ub, 600, &mut trig),
            Ok(None)
        );
    }
    assert_eq!(p.hosts[0].pending_outputs(), 0);
    // 2400 bytes >= 2 KB: I1.
    let ct = p.hosts[0]
        .offer_traffic(p.now, ua, ub, 600, &mut trig)
        .unwrap()
        .unwrap();
    p.pump(&mut keep);
    assert_eq!(p.hosts[0].state(ua, ub, 0), ContextState::Established);
    assert_eq!(
        p.hosts[0].context_for(ua, ub, 0).unwrap().ct_local,
        Some(ct)
    );
    // Further traffic only keeps the context alive.
    assert_eq!(
        p.hosts[0].offer_traffic(secs(1), ua, ub, 1 << 20, &mut trig),
        Ok(None)
    );
    assert_eq!(trig.stats().triggered, 1);
    assert_eq!(trig.flows(), 0);
}

#[test]
fn configuration_errors() {
    use shim6_proto::endpoint::Shim6Host;
    use shim6_proto::error::ConfigError;
    let id = hba_identity(0xa, 1, 1);
    let mk = |cfg: HostConfig, ids: Vec<_>| Shim6Host::new(cfg, rng(1), secs(0), ids).map(|_| ());
    assert_eq!(
        mk(
            HostConfig {
                max_contexts: 0,
                ..HostConfig::default()
            },
            vec![]
        ),
        Err(ConfigError::ZeroBound)
    );
    assert_eq!(
        mk(
            HostConfig {
                max_identities: 1,
                ..HostConfig::default()
            },
            vec![id.clone(), hba_identity(0xb, 1, 2)]
        ),
        Err(ConfigError::Identities)
    );
    assert_eq!(
        mk(HostConfig::default(), vec![id.clone(), id.clone()]),
        Err(ConfigError::Identities)
    );
    assert_eq!(
        mk(
            HostConfig {
                validator_lifetime: secs(29),
                ..HostConfig::default()
            },
            vec![]
        ),
        Err(ConfigError::ValidatorLifetime)
    );
    let mut h = host(exact(), 1, id.clone());
    assert_eq!(h.add_identity(id), Err(ApiError::Identity));
}
