#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // test code
//! Forged and flooded messages create no responder state (RFC 5533 §7.10,
//! §7.13, §7.2; RFC 5535 §7.2; RFC 3972 §6).

mod common;

use std::net::Ipv6Addr;

use common::*;
use shim6_proto::endpoint::{Dropped, HostConfig};
use shim6_proto::event::RxDatagram;
use shim6_proto::locators::LocatorError;
use shim6_proto::wire::{
    ContextTag, ControlRepr, Locator, LocatorList, Locators, Message, MessageType as T, OptionRepr,
    OptionValue, Options, Shim6Packet, VerificationMethod,
};

/// Runs I1/R1 between A and B and returns A's genuine I2 (not delivered).
fn genuine_i2(a: Host, b: Host) -> (Pair, Seen) {
    let mut p = Pair::new(a, b);
    let ua = p.hosts[0].identities()[0].ulid();
    let ub = p.hosts[1].identities()[0].ulid();
    p.hosts[0].establish(p.now, ua, ub).unwrap();
    p.pump(&mut |s: &Seen| s.msg_type() == T::I2);
    let i2 = p.dropped.pop().unwrap();
    assert_eq!(i2.msg_type(), T::I2);
    (p, i2)
}

/// The I2 with its options passed through `f`, re-encoded (checksum fixed).
fn rewrite(i2: &Seen, f: &dyn Fn(OptionRepr<'_>) -> Option<OptionRepr<'static>>) -> Vec<u8> {
    let v = Shim6Packet::new_checked(&i2.bytes[..]).unwrap();
    let r = ControlRepr::parse(&v).unwrap();
    let opts: Vec<OptionRepr<'static>> = r.options.iter().filter_map(f).collect();
    let out = ControlRepr {
        next_header: r.next_header,
        message: r.message.clone(),
        options: Options::Owned(opts),
    };
    let mut buf = vec![0u8; out.buffer_len()];
    out.emit(&mut Shim6Packet::new_unchecked(&mut buf[..]))
        .unwrap();
    buf
}

/// An owned copy of an option.
fn owned(o: OptionRepr<'_>) -> OptionRepr<'static> {
    let leak = |b: &[u8]| -> &'static [u8] { Box::leak(b.to_vec().into_boxed_slice()) };
    let value = match o.value {
        OptionValue::ResponderValidator(v) => OptionValue::ResponderValidator(leak(v)),
        OptionValue::CgaParameters(v) => OptionValue::CgaParameters(leak(v)),
        OptionValue::CgaSignature(v) => OptionValue::CgaSignature(leak(v)),
        OptionValue::LocatorList(l) => OptionValue::LocatorList(LocatorList {
            generation: l.generation,
            locators: Locators::Owned(l.locators.iter().collect()),
        }),
        OptionValue::UlidPair { sender, receiver } => OptionValue::UlidPair { sender, receiver },
        OptionValue::ForkedInstanceId(f) => OptionValue::ForkedInstanceId(f),
        v => panic!("unexpected {v:?}"),
    };
    OptionRepr {
        critical: o.critical,
        value,
    }
}

fn deliver(p: &mut Pair, i2: &Seen, bytes: &[u8]) -> Result<(), Dropped> {
    p.hosts[1].handle_datagram(
        p.now,
        &RxDatagram {
            src: i2.src,
            dst: i2.dst,
            payload: bytes,
        },
    )
}

fn flip(b: &[u8], at: usize) -> &'static [u8] {
    let mut v = b.to_vec();
    v[at] ^= 0x01;
    Box::leak(v.into_boxed_slice())
}

#[test]
fn bad_validator_creates_no_context() {
    let (mut p, i2) = genuine_i2(
        host(exact(), 1, hba_identity(0xa, 3, 1)),
        host(exact(), 2, hba_identity(0xb, 3, 2)),
    );
    let forged = rewrite(&i2, &|o| match o.value {
        OptionValue::ResponderValidator(v) => {
            Some(OptionRepr::new(OptionValue::ResponderValidator(flip(v, 7))))
        }
        _ => Some(owned(o)),
    });
    assert_eq!(deliver(&mut p, &i2, &forged), Err(Dropped::BadValidator));
    // From another source locator, the genuine validator does not verify
    // either (§7.10.1: it covers the I1's locators).
    let other = Seen {
        src: "2001:db8:a:1::99".parse().unwrap(),
        ..i2.clone()
    };
    assert_eq!(
        deliver(&mut p, &other, &i2.bytes),
        Err(Dropped::BadValidator)
    );
    // Nor with the Responder Nonce changed.
    let mut bad_nonce = i2.bytes.clone();
    if let Message::I2 { .. } = i2.message() {
        bad_nonce[19] ^= 1; // low octet of the Responder Nonce
    }
    let forged_nonce = {
        let v = Shim6Packet::new_checked(&bad_nonce[..]).unwrap();
        assert!(ControlRepr::parse(&v).is_err(), "checksum catches it");
        let r = ControlRepr::parse(&Shim6Packet::new_checked(&i2.bytes[..]).unwrap()).unwrap();
        let Message::I2 {
            context_tag,
            initiator_nonce,
            responder_nonce,
        } = r.message
        else {
            panic!()
        };
        let opts: Vec<_> = r.options.iter().map(owned).collect();
        let m = ControlRepr {
            next_header: 59,
            message: Message::I2 {
                context_tag,
                initiator_nonce,
                responder_nonce: responder_nonce.wrapping_add(1),
            },
            options: Options::Owned(opts),
        };
        let mut b = vec![0; m.buffer_len()];
        m.emit(&mut Shim6Packet::new_unchecked(&mut b[..])).unwrap();
        b
    };
    assert_eq!(
        deliver(&mut p, &i2, &forged_nonce),
        Err(Dropped::BadValidator)
    );
    assert_eq!(p.hosts[1].contexts(), 0);
    assert_eq!(p.hosts[1].live_tags(), 0);
    assert_eq!(p.hosts[1].stats().dropped_verification, 3);
    // The genuine I2 still works.
    deliver(&mut p, &i2, &i2.bytes).unwrap();
    assert_eq!(p.hosts[1].contexts(), 1);
}

#[test]
fn stale_validator_refused_after_two_rotations() {
    let (mut p, i2) = genuine_i2(
        host(exact(), 1, hba_identity(0xa, 2, 1)),
        host(exact(), 2, hba_identity(0xb, 2, 2)),
    );
    // VALIDATOR_MIN_LIFETIME = 30 s: valid during the next lifetime,
    // refused once the secret rotated twice.
    p.now = secs(60);
    assert_eq!(deliver(&mut p, &i2, &i2.bytes), Err(Dropped::BadValidator));
    assert_eq!(p.hosts[1].contexts(), 0);
}

#[test]
fn validator_still_good_after_one_rotation() {
    let (mut p, i2) = genuine_i2(
        host(exact(), 1, hba_identity(0xa, 2, 1)),
        host(exact(), 2, hba_identity(0xb, 2, 2)),
    );
    p.now = secs(45);
    deliver(&mut p, &i2, &i2.bytes).unwrap();
    assert_eq!(p.hosts[1].contexts(), 1);
}

#[test]
fn bad_cga_signature_creates_no_context() {
    let (mut p, i2) = genuine_i2(
        host(exact(), 1, cga_identity(0xa, 3, RSA1024, 1)),
        host(exact(), 2, hba_identity(0xb, 2, 2)),
    );
    let forged = rewrite(&i2, &|o| match o.value {
        OptionValue::CgaSignature(s) => {
            Some(OptionRepr::new(OptionValue::CgaSignature(flip(s, 60))))
        }
        _ => Some(owned(o)),
    });
    assert_eq!(
        deliver(&mut p, &i2, &forged),
        Err(Dropped::BadLocators(LocatorError::BadSignature))
    );
    // A locator added to the signed list breaks the signature too.
    let added = rewrite(&i2, &|o| match o.value {
        OptionValue::LocatorList(l) => {
            let mut v: Vec<Locator> = l.locators.iter().collect();
            v.push(Locator {
                method: VerificationMethod::CGA,
                addr: "2001:db8:666::1".parse().unwrap(),
            });
            Some(OptionRepr::new(OptionValue::LocatorList(LocatorList {
                generation: l.generation,
                locators: Locators::Owned(v),
            })))
        }
        _ => Some(owned(o)),
    });
    assert_eq!(
        deliver(&mut p, &i2, &added),
        Err(Dropped::BadLocators(LocatorError::BadSignature))
    );
    // No signature at all.
    let unsigned = rewrite(&i2, &|o| match o.value {
        OptionValue::CgaSignature(_) => None,
        _ => Some(owned(o)),
    });
    assert_eq!(
        deliver(&mut p, &i2, &unsigned),
        Err(Dropped::BadLocators(LocatorError::MissingSignature))
    );
    assert_eq!(p.hosts[1].contexts(), 0);
    assert_eq!(p.hosts[1].live_tags(), 0);
    deliver(&mut p, &i2, &i2.bytes).unwrap();
    assert_eq!(p.hosts[1].contexts(), 1);
}

#[test]
fn locator_outside_the_hba_set_creates_no_context() {
    let (mut p, i2) = genuine_i2(
        host(exact(), 1, hba_identity(0xa, 3, 1)),
        host(exact(), 2, hba_identity(0xb, 2, 2)),
    );
    let foreign = hba_identity(0xc, 1, 7).ulid();
    let forged = rewrite(&i2, &|o| match o.value {
        OptionValue::LocatorList(l) => {
            let mut v: Vec<Locator> = l.locators.iter().collect();
            v.push(Locator {
                method: VerificationMethod::HBA,
                addr: foreign,
            });
            Some(OptionRepr::new(OptionValue::LocatorList(LocatorList {
                generation: l.generation,
                locators: Locators::Owned(v),
            })))
        }
        _ => Some(owned(o)),
    });
    assert_eq!(
        deliver(&mut p, &i2, &forged),
        Err(Dropped::BadLocators(LocatorError::NotInHbaSet { index: 3 }))
    );
    // The same locator claimed as CGA: an HBA-only set has no key to sign.
    let as_cga = rewrite(&i2, &|o| match o.value {
        OptionValue::LocatorList(l) => {
            let mut v: Vec<Locator> = l.locators.iter().collect();
            v.push(Locator {
                method: VerificationMethod::CGA,
                addr: foreign,
            });
            Some(OptionRepr::new(OptionValue::LocatorList(LocatorList {
                generation: l.generation,
                locators: Locators::Owned(v),
            })))
        }
        _ => Some(owned(o)),
    });
    assert_eq!(
        deliver(&mut p, &i2, &as_cga),
        Err(Dropped::BadLocators(LocatorError::MissingSignature))
    );
    // Another host's PDS for this ULID.
    let other_pds = hba_identity(0xa, 3, 8).pds().to_vec();
    let swapped = rewrite(&i2, &|o| match o.value {
        OptionValue::CgaParameters(_) => Some(OptionRepr::new(OptionValue::CgaParameters(
            Box::leak(other_pds.clone().into_boxed_slice()),
        ))),
        _ => Some(owned(o)),
    });
    assert_eq!(
        deliver(&mut p, &i2, &swapped),
        Err(Dropped::BadLocators(LocatorError::PdsNotForUlid))
    );
    assert_eq!(p.hosts[1].contexts(), 0);
    assert_eq!(p.hosts[1].live_tags(), 0);
    assert_eq!(p.hosts[1].stats().dropped_verification, 3);
}

fn i1_bytes(tag: u64, nonce: u32) -> Vec<u8> {
    let m = ControlRepr {
        next_header: 59,
        message: Message::I1 {
            context_tag: ContextTag::from_bits_truncate(tag),
            initiator_nonce: nonce,
        },
        options: Options::EMPTY,
    };
    let mut b = vec![0; m.buffer_len()];
    m.emit(&mut Shim6Packet::new_unchecked(&mut b[..])).unwrap();
    b
}

#[test]
fn ten_thousand_i1s_allocate_no_responder_state() {
    let cfg = HostConfig {
        max_contexts: 64,
        ..HostConfig::default()
    };
    let mut b = host(cfg, 2, hba_identity(0xb, 2, 2));
    let ub = b.identities()[0].ulid();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut buf = vec![];
    let mut r1s = 0;
    let mut i2s = Vec::new();
    for i in 0..10_000u64 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let src =
            Ipv6Addr::from((0x2001_0db8u128 << 96) | (u128::from(x) << 16) | u128::from(i as u16));
        let bytes = i1_bytes(x, i as u32);
        let now = std::time::Duration::from_millis(i);
        b.handle_datagram(
            now,
            &RxDatagram {
                src,
                dst: ub,
                payload: &bytes,
            },
        )
        .unwrap();
        while let Some(o) = b.poll_output(&mut buf) {
            if let shim6_proto::event::Output::Transmit(t) = o {
                assert_eq!(t.dst, src);
                r1s += 1;
            }
        }
        // Every 100th flooder also answers with an I2 carrying a guessed
        // validator.
        if i % 100 == 0 {
            i2s.push((src, x));
        }
    }
    assert_eq!(r1s, 10_000);
    assert_eq!(b.stats().received.i1, 10_000);
    assert_eq!(b.stats().sent.r1, 10_000);
    assert_eq!(b.contexts(), 0);
    assert_eq!(b.live_tags(), 0);
    assert_eq!(b.poll_timeout(), None);
    for (src, x) in &i2s {
        let v = x.to_be_bytes().repeat(3)[..20].to_vec();
        let opts = [OptionRepr::new(OptionValue::ResponderValidator(&v))];
        let m = ControlRepr {
            next_header: 59,
            message: Message::I2 {
                context_tag: ContextTag::from_bits_truncate(*x),
                initiator_nonce: 1,
                responder_nonce: b.stats().sent.r1 as u32,
            },
            options: Options::List(&opts),
        };
        let mut bytes = vec![0; m.buffer_len()];
        m.emit(&mut Shim6Packet::new_unchecked(&mut bytes[..]))
            .unwrap();
        assert_eq!(
            b.handle_datagram(
                secs(10),
                &RxDatagram {
                    src: *src,
                    dst: ub,
                    payload: &bytes
                }
            ),
            Err(Dropped::BadValidator)
        );
    }
    assert_eq!(b.contexts(), 0);
    assert_eq!(b.stats().dropped_verification, 100);
    assert_eq!(b.pending_outputs(), 0);
}

#[test]
fn i1_to_a_foreign_ulid_is_dropped() {
    let mut b = host(exact(), 2, hba_identity(0xb, 2, 2));
    let bytes = i1_bytes(5, 5);
    let r = b.handle_datagram(
        secs(0),
        &RxDatagram {
            src: "2001:db8:a::1".parse().unwrap(),
            dst: "2001:db8:c::1".parse().unwrap(),
            payload: &bytes,
        },
    );
    assert_eq!(r, Err(Dropped::NotOurUlid));
    assert_eq!(b.pending_outputs(), 0);
    // Multicast sources are never answered.
    let ub = b.identities()[0].ulid();
    let r = b.handle_datagram(
        secs(0),
        &RxDatagram {
            src: "ff02::1".parse().unwrap(),
            dst: ub,
            payload: &bytes,
        },
    );
    assert_eq!(r, Err(Dropped::NotUnicast));
    assert_eq!(b.pending_outputs(), 0);
}

#[test]
fn unknown_type_and_critical_option_get_error_messages() {
    use shim6_proto::wire::ErrorCode;
    let mut b = host(exact(), 2, hba_identity(0xb, 2, 2));
    let ub = b.identities()[0].ulid();
    let src: Ipv6Addr = "2001:db8:a::1".parse().unwrap();
    // Type 100, unknown: 16 octets, checksum filled.
    let mut unk = vec![59u8, 1, 100, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    Shim6Packet::new_unchecked(&mut unk[..]).fill_checksum();
    let r = b.handle_datagram(
        secs(0),
        &RxDatagram {
            src,
            dst: ub,
            payload: &unk,
        },
    );
    assert_eq!(r, Err(Dropped::Unsupported(T(100))));
    let mut buf = vec![];
    let t = match b.poll_output(&mut buf).unwrap() {
        shim6_proto::event::Output::Transmit(t) => t,
        o => panic!("{o:?}"),
    };
    assert_eq!((t.src, t.dst), (ub, src));
    let e = ControlRepr::parse(&Shim6Packet::new_checked(&buf[..]).unwrap()).unwrap();
    // Code 0, Pointer at the Type octet (§12.3), the message echoed.
    match e.message {
        Message::Error {
            code,
            pointer,
            packet_in_error,
        } => {
            assert_eq!(code, ErrorCode::UNKNOWN_MESSAGE_TYPE);
            assert_eq!(pointer, 2);
            assert_eq!(packet_in_error, &unk[..]);
        }
        m => panic!("{m:?}"),
    }
    // An I1 with an unknown option whose C bit is set: Code 1, Pointer at
    // its Type field (offset 16, right after the I1's fixed part).
    let mut i1 = vec![
        59u8, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 9, // I1
        0x00, 0x33, 0, 4, 1, 2, 3, 4, // type 25, C=1, length 4
    ];
    Shim6Packet::new_unchecked(&mut i1[..]).fill_checksum();
    let r = b.handle_datagram(
        secs(1),
        &RxDatagram {
            src,
            dst: ub,
            payload: &i1,
        },
    );
    assert!(matches!(r, Err(Dropped::Malformed(_))));
    buf.clear();
    b.poll_output(&mut buf).unwrap();
    let e = ControlRepr::parse(&Shim6Packet::new_checked(&buf[..]).unwrap()).unwrap();
    match e.message {
        Message::Error { code, pointer, .. } => {
            assert_eq!(code, ErrorCode::CRITICAL_OPTION);
            assert_eq!(pointer, 16);
        }
        m => panic!("{m:?}"),
    }
    // A second error within 100 ms is not sent, but counted.
    let r = b.handle_datagram(
        secs(1) + std::time::Duration::from_millis(50),
        &RxDatagram {
            src,
            dst: ub,
            payload: &unk,
        },
    );
    assert!(r.is_err());
    assert_eq!(b.pending_outputs(), 0);
    assert_eq!(b.stats().errors_suppressed, 1);
    assert_eq!(b.stats().sent.error, 2);
    // An Error is never answered with an Error.
    b.handle_datagram(
        secs(5),
        &RxDatagram {
            src,
            dst: ub,
            payload: &buf,
        },
    )
    .unwrap_err();
    assert_eq!(b.pending_outputs(), 0);
    assert_eq!(b.contexts(), 0);
}

#[test]
fn an_unpolled_queue_stays_bounded() {
    let cfg = HostConfig {
        max_pending_outputs: 100,
        ..HostConfig::default()
    };
    let mut b = host(cfg, 2, hba_identity(0xb, 2, 2));
    let ub = b.identities()[0].ulid();
    for i in 0..1000u32 {
        let src = Ipv6Addr::from((0x2001_0db8_00aa_u128 << 80) | u128::from(i));
        let bytes = i1_bytes(u64::from(i), i);
        b.handle_datagram(
            secs(0),
            &RxDatagram {
                src,
                dst: ub,
                payload: &bytes,
            },
        )
        .unwrap();
    }
    assert_eq!(b.pending_outputs(), 100);
    assert_eq!(b.stats().outputs_dropped, 900);
    assert_eq!(b.stats().sent.r1, 100);
}

fn ctrl(message: Message<'_>, opts: &[OptionRepr<'_>]) -> Vec<u8> {
    let m = ControlRepr {
        next_header: 59,
        message,
        options: Options::List(opts),
    };
    let mut b = vec![0; m.buffer_len()];
    m.emit(&mut Shim6Packet::new_unchecked(&mut b[..])).unwrap();
    b
}

#[test]
fn forged_r1_and_r2_change_nothing_at_the_initiator() {
    use shim6_proto::context::ContextState;
    let mut a = host(exact(), 1, hba_identity(0xa, 2, 1));
    let ua = a.identities()[0].ulid();
    let ub: Ipv6Addr = "2001:db8:b::1".parse().unwrap();
    a.establish(secs(0), ua, ub).unwrap();
    let mut buf = vec![];
    a.poll_output(&mut buf).unwrap();
    let nonce = match ControlRepr::parse(&Shim6Packet::new_checked(&buf[..]).unwrap())
        .unwrap()
        .message
    {
        Message::I1 {
            initiator_nonce, ..
        } => initiator_nonce,
        m => panic!("{m:?}"),
    };
    let rx = |payload: &[u8], src: Ipv6Addr| {
        let p: &'static [u8] = Box::leak(payload.to_vec().into_boxed_slice());
        RxDatagram {
            src,
            dst: ua,
            payload: p,
        }
    };
    // An R1 without a validator.
    let r1 = ctrl(
        Message::R1 {
            initiator_nonce: nonce,
            responder_nonce: 1,
        },
        &[],
    );
    assert_eq!(
        a.handle_datagram(secs(1), &rx(&r1, ub)),
        Err(Dropped::MissingValidator)
    );
    // An R1 or R2 with another nonce, or from another address (§7.11,
    // §7.16: the nonce and the locator pair must match).
    let v = [0u8; 20];
    let opts = [OptionRepr::new(OptionValue::ResponderValidator(&v))];
    let r1_bad = ctrl(
        Message::R1 {
            initiator_nonce: nonce ^ 1,
            responder_nonce: 1,
        },
        &opts,
    );
    assert_eq!(
        a.handle_datagram(secs(1), &rx(&r1_bad, ub)),
        Err(Dropped::NoContext)
    );
    let r2 = ctrl(
        Message::R2 {
            context_tag: ContextTag::new(5).unwrap(),
            initiator_nonce: nonce,
        },
        &[],
    );
    let elsewhere: Ipv6Addr = "2001:db8:e::1".parse().unwrap();
    assert_eq!(
        a.handle_datagram(secs(1), &rx(&r2, elsewhere)),
        Err(Dropped::NoContext)
    );
    assert_eq!(a.state(ua, ub, 0), ContextState::I1Sent);
    assert_eq!(a.pending_outputs(), 0);
    // An R2 whose PDS is not the peer ULID's.
    let other = hba_identity(0xc, 2, 3);
    let r2_pds = ctrl(
        Message::R2 {
            context_tag: ContextTag::new(5).unwrap(),
            initiator_nonce: nonce,
        },
        &[OptionRepr::new(OptionValue::CgaParameters(other.pds()))],
    );
    assert_eq!(
        a.handle_datagram(secs(1), &rx(&r2_pds, ub)),
        Err(Dropped::BadLocators(LocatorError::PdsNotForUlid))
    );
    assert_eq!(a.state(ua, ub, 0), ContextState::I1Sent);
    // The genuine shape: an R2 with the right nonce from the peer ULID
    // and no locators establishes with Ls(peer) = {ULID(peer)}.
    a.handle_datagram(secs(1), &rx(&r2, ub)).unwrap();
    assert_eq!(a.state(ua, ub, 0), ContextState::Established);
    let ct = a.context_for(ua, ub, 0).unwrap().ct_local.unwrap();
    assert_eq!(a.peer_locators(ct).unwrap(), &[ub]);
}
