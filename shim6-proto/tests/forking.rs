#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // test code
//! Forked contexts (RFC 5533 §4.2, §5.15.7), the ULID Pair option
//! (§5.15.6, §7.7, §7.9) and context confusion (§7.6, §7.15).

mod common;

use std::net::Ipv6Addr;

use common::*;
use shim6_proto::context::ContextState;
use shim6_proto::ctag::CtagConfig;
use shim6_proto::endpoint::{Dropped, Establish, HostConfig};
use shim6_proto::event::{Event, RxDatagram};
use shim6_proto::wire::{ControlRepr, MessageType as T, OptionType, OptionValue, Shim6Packet};

fn options_of(s: &Seen) -> Vec<OptionValue<'static>> {
    let bytes: &'static [u8] = Box::leak(s.bytes.clone().into_boxed_slice());
    let v = Shim6Packet::new_checked(bytes).unwrap();
    let r = ControlRepr::parse(&v).unwrap();
    r.options.iter().map(|o| o.value).collect()
}

#[test]
fn forked_context_beside_the_default_one() {
    let mut p = Pair::new(
        host(exact(), 1, hba_identity(0xa, 2, 1)),
        host(exact(), 2, hba_identity(0xb, 2, 2)),
    );
    let ua = p.hosts[0].identities()[0].ulid();
    let ub = p.hosts[1].identities()[0].ulid();
    let ct0 = p.hosts[0].establish(p.now, ua, ub).unwrap();
    p.pump(&mut keep);
    p.wire.clear();
    let ct7 = p.hosts[0]
        .establish_with(
            p.now,
            Establish {
                local_ulid: ua,
                peer_ulid: ub,
                fii: 7,
                locators: None,
            },
        )
        .unwrap();
    p.pump(&mut keep);
    assert_eq!(
        p.types(),
        vec![(0, T::I1), (1, T::R1), (0, T::I2), (1, T::R2)]
    );
    // I1 and I2 carry the Forked Instance Identifier (§7.7, §7.11); the
    // R2 does not (not valid there, §5.7).
    for (i, want) in [(0, true), (2, true), (3, false)] {
        let has = options_of(&p.wire[i]).contains(&OptionValue::ForkedInstanceId(7));
        assert_eq!(has, want, "message {i}");
    }
    assert_ne!(ct0, ct7);
    for (h, l, r) in [(0, ua, ub), (1, ub, ua)] {
        let c0 = p.hosts[h].context_for(l, r, 0).unwrap();
        let c7 = p.hosts[h].context_for(l, r, 7).unwrap();
        assert_eq!(c0.state, ContextState::Established);
        assert_eq!(c7.state, ContextState::Established);
        assert_eq!(c7.fii, 7);
        assert_ne!(c0.ct_local, c7.ct_local);
        assert_eq!(p.hosts[h].contexts(), 2);
    }
    // Each side maps the other's tag to the right instance.
    let b7 = p.hosts[1].context_for(ub, ua, 7).unwrap();
    assert_eq!(b7.ct_peer, Some(ct7));
    assert_eq!(p.hosts[0].context_by_tag(ct7).unwrap().ct_peer, b7.ct_local);
    assert_eq!(p.hosts[0].stats().confusions, 0);
}

#[test]
fn ulid_pair_option_when_the_locators_are_not_the_ulids() {
    let mut p = Pair::new(
        host(exact(), 1, hba_identity(0xa, 3, 1)),
        host(exact(), 2, hba_identity(0xb, 3, 2)),
    );
    let ua = p.hosts[0].identities()[0].ulid();
    let ub = p.hosts[1].identities()[0].ulid();
    let la = p.hosts[0].identities()[0].locators()[1].addr;
    let lb = p.hosts[1].identities()[0].locators()[2].addr;
    p.hosts[0]
        .establish_with(
            p.now,
            Establish {
                local_ulid: ua,
                peer_ulid: ub,
                fii: 0,
                locators: Some((la, lb)),
            },
        )
        .unwrap();
    p.pump(&mut keep);
    assert_eq!(
        p.types(),
        vec![(0, T::I1), (1, T::R1), (0, T::I2), (1, T::R2)]
    );
    // Every message went between the locators; I1 and I2 name the ULIDs.
    for s in &p.wire {
        let (src, dst) = if s.from == 0 { (la, lb) } else { (lb, la) };
        assert_eq!((s.src, s.dst), (src, dst));
    }
    let ulid_opt = OptionValue::UlidPair {
        sender: ua,
        receiver: ub,
    };
    assert!(options_of(&p.wire[0]).contains(&ulid_opt));
    assert!(options_of(&p.wire[2]).contains(&ulid_opt));
    let cb = p.hosts[1].context_for(ub, ua, 0).unwrap();
    assert_eq!(cb.state, ContextState::Established);
    assert_eq!((cb.local_locator, cb.peer_locator), (lb, la));
    let ca = p.hosts[0].context_for(ua, ub, 0).unwrap();
    assert_eq!((ca.local_locator, ca.peer_locator), (la, lb));

    // An I1 naming our ULID but sent to an address that is not one of its
    // locators is not ours to answer.
    let i1 = &p.wire[0];
    let r = p.hosts[1].handle_datagram(
        p.now,
        &RxDatagram {
            src: i1.src,
            dst: "2001:db8:b:77::1".parse().unwrap(),
            payload: &i1.bytes,
        },
    );
    assert_eq!(r, Err(Dropped::NotOurUlid));
    // The same I1 from a locator outside Ls(peer) meets the established
    // context: the peer may have lost it, so R1 (§7.9), no state change.
    let r = p.hosts[1].handle_datagram(
        p.now,
        &RxDatagram {
            src: "2001:db8:a:77::1".parse().unwrap(),
            dst: i1.dst,
            payload: &i1.bytes,
        },
    );
    assert_eq!(r, Ok(()));
    let mut buf = vec![];
    p.hosts[1].poll_output(&mut buf).unwrap();
    let m = ControlRepr::parse(&Shim6Packet::new_checked(&buf[..]).unwrap()).unwrap();
    assert_eq!(m.message.msg_type(), T::R1);
    assert_eq!(p.hosts[1].context_for(ub, ua, 0).unwrap(), cb);
    let _ = OptionType::ULID_PAIR;
}

#[test]
fn context_confusion_removes_the_old_context() {
    // A holds two CGA identities that share their extra locators, and a
    // one-bit tag space, so that its second context reuses the tag of the
    // first after it dropped it (§7.6).
    let cfg = HostConfig {
        ctag: CtagConfig {
            bits: 1,
            max_live: 2,
            quarantine: 0,
        },
        jitter: false,
        ..HostConfig::default()
    };
    let a1 = cga_identity(0xa, 3, RSA1024, 1);
    let a2 = cga_identity(0xa, 3, RSA1024, 2);
    assert_ne!(a1.ulid(), a2.ulid());
    assert_eq!(a1.locators()[1..], a2.locators()[1..]);
    let mut a = host(cfg, 1, a1);
    a.add_identity(a2).unwrap();
    let mut p = Pair::new(a, host(exact(), 2, hba_identity(0xb, 2, 2)));
    let ua1 = p.hosts[0].identities()[0].ulid();
    let ua2 = p.hosts[0].identities()[1].ulid();
    let ub = p.hosts[1].identities()[0].ulid();
    let x = p.hosts[0].establish(p.now, ua1, ub).unwrap();
    p.pump(&mut keep);
    // Occupy the other tag, then drop the first context at A only.
    let dummy: Ipv6Addr = "2001:db8:d::1".parse().unwrap();
    let y = p.hosts[0].establish(p.now, ua1, dummy).unwrap();
    assert_ne!(x, y);
    p.hosts[0].teardown(p.now, x).unwrap();
    p.pump(&mut |s: &Seen| s.dst == dummy);
    let x2 = p.hosts[0].establish(p.now, ua2, ub).unwrap();
    assert_eq!(x2, x, "the only free tag");
    p.events.clear();
    p.pump(&mut |s: &Seen| s.dst == dummy);
    // B now has the new context; the old one with the same CT(peer) and
    // overlapping locators is gone (§7.15), announced before the R2.
    assert_eq!(p.hosts[1].state(ub, ua2, 0), ContextState::Established);
    assert_eq!(p.hosts[1].state(ub, ua1, 0), ContextState::Idle);
    assert_eq!(p.hosts[1].contexts(), 1);
    assert_eq!(p.hosts[1].stats().confusions, 1);
    let b_events: Vec<_> = p
        .events
        .iter()
        .filter(|(h, _, _)| *h == 1)
        .map(|(_, e, _)| *e)
        .collect();
    assert!(matches!(
        b_events[0],
        Event::ContextRemoved { peer_ulid, .. } if peer_ulid == ua1
    ));
    assert!(matches!(b_events[1], Event::ContextEstablished(i) if i.peer_ulid == ua2));
}
