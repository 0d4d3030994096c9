#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // test code
//! Property tests of the host machine over arbitrary input sequences: no
//! panic, tables within their bounds, no responder context without a valid
//! I2/I2bis, and no deadline in the past after `handle_timeout`.

mod common;

use std::collections::VecDeque;
use std::net::Ipv6Addr;
use std::sync::OnceLock;
use std::time::Duration;

use common::*;
use hba_cga::sig::RsaSigner;
use proptest::prelude::*;
use shim6_proto::ctag::CtagConfig;
use shim6_proto::endpoint::{Establish, HostConfig};
use shim6_proto::event::{Output, RxDatagram};
use shim6_proto::locators::LocalIdentity;
use shim6_proto::wire::{ContextTag, PayloadRepr, Shim6Packet};

#[derive(Debug, Clone)]
enum Op {
    Establish(u8, u8),
    AtoB(Option<(u16, u8)>),
    BtoA(Option<(u16, u8)>),
    LoseA,
    LoseB,
    Raw(bool, u8, u8, Vec<u8>),
    Payload(bool, u8, u64),
    Advance(u32),
    Teardown(bool),
    Prefs(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => (any::<u8>(), 0u8..3).prop_map(|(p, f)| Op::Establish(p, f)),
        10 => proptest::option::weighted(0.15, (any::<u16>(), any::<u8>())).prop_map(Op::AtoB),
        10 => proptest::option::weighted(0.15, (any::<u16>(), any::<u8>())).prop_map(Op::BtoA),
        1 => Just(Op::LoseA),
        1 => Just(Op::LoseB),
        2 => (any::<bool>(), any::<u8>(), any::<u8>(), proptest::collection::vec(any::<u8>(), 0..80))
            .prop_map(|(t, s, d, b)| Op::Raw(t, s, d, b)),
        2 => (any::<bool>(), any::<u8>(), 0u64..16).prop_map(|(t, s, g)| Op::Payload(t, s, g)),
        3 => (0u32..150_000).prop_map(Op::Advance),
        1 => any::<bool>().prop_map(Op::Teardown),
        1 => any::<u8>().prop_map(Op::Prefs),
    ]
}

fn identities() -> &'static (LocalIdentity<RsaSigner>, LocalIdentity<RsaSigner>) {
    static IDS: OnceLock<(LocalIdentity<RsaSigner>, LocalIdentity<RsaSigner>)> = OnceLock::new();
    IDS.get_or_init(|| (hba_identity(0xa, 2, 1), hba_identity(0xb, 2, 2)))
}

type Msg = (Ipv6Addr, Ipv6Addr, Vec<u8>);

fn drain(h: &mut Host, q: &mut VecDeque<Msg>) {
    let mut buf = vec![];
    while let Some(o) = h.poll_output(&mut buf) {
        if let Output::Transmit(t) = o {
            q.push_back((t.src, t.dst, buf[buf.len() - t.len..].to_vec()));
            buf.clear();
        }
    }
    while q.len() > 32 {
        q.pop_front();
    }
}

fn mutate(bytes: &mut [u8], m: Option<(u16, u8)>) {
    if let Some((at, mask)) = m {
        let n = bytes.len();
        bytes[at as usize % n] ^= mask | 1;
        let mut p = Shim6Packet::new_unchecked(bytes);
        if !p.p_bit() {
            p.fill_checksum();
        }
    }
}

fn run(ops: Vec<Op>) {
    let (ia, ib) = identities().clone();
    let (ua, ub) = (ia.ulid(), ib.ulid());
    let mut pool: Vec<Ipv6Addr> = ia
        .locators()
        .iter()
        .chain(ib.locators())
        .map(|l| l.addr)
        .collect();
    pool.push("2001:db8:c::1".parse().unwrap());
    let pick = |i: u8| pool[i as usize % pool.len()];
    let cfg = HostConfig {
        max_contexts: 3,
        idle_timeout: Some(secs(20)),
        ctag: CtagConfig {
            bits: 2,
            max_live: 3,
            quarantine: 1,
        },
        ..HostConfig::default()
    };
    let mut a = host(cfg.clone(), 11, ia);
    let mut b = host(cfg, 12, ib);
    let (mut qa, mut qb): (VecDeque<Msg>, VecDeque<Msg>) = (VecDeque::new(), VecDeque::new());
    let mut now = Duration::ZERO;
    for op in ops {
        match op {
            Op::Establish(p, fii) => {
                let peer = if p % 2 == 0 { ub } else { pick(p) };
                let _ = a.establish_with(
                    now,
                    Establish {
                        local_ulid: ua,
                        peer_ulid: peer,
                        fii: u32::from(fii),
                        locators: None,
                    },
                );
            }
            Op::AtoB(m) => {
                if let Some((s, d, mut bytes)) = qa.pop_front() {
                    mutate(&mut bytes, m);
                    let _ = b.handle_datagram(
                        now,
                        &RxDatagram {
                            src: s,
                            dst: d,
                            payload: &bytes,
                        },
                    );
                }
            }
            Op::BtoA(m) => {
                if let Some((s, d, mut bytes)) = qb.pop_front() {
                    mutate(&mut bytes, m);
                    let _ = a.handle_datagram(
                        now,
                        &RxDatagram {
                            src: s,
                            dst: d,
                            payload: &bytes,
                        },
                    );
                }
            }
            Op::LoseA => {
                qa.pop_front();
            }
            Op::LoseB => {
                qb.pop_front();
            }
            Op::Raw(to_b, s, d, bytes) => {
                let rx = RxDatagram {
                    src: pick(s),
                    dst: pick(d),
                    payload: &bytes,
                };
                let h = if to_b { &mut b } else { &mut a };
                let before = (h.contexts(), h.stats().established);
                let r = h.handle_datagram(now, &rx);
                // Random octets are dropped or answered; they never
                // establish anything.
                if r.is_err() {
                    assert_eq!((h.contexts(), h.stats().established), before);
                }
            }
            Op::Payload(to_b, s, tag) => {
                let mut bytes = vec![0u8; 8];
                PayloadRepr {
                    next_header: 59,
                    context_tag: ContextTag::from_bits_truncate(tag),
                }
                .emit(&mut Shim6Packet::new_unchecked(&mut bytes[..]))
                .unwrap();
                let (h, dst) = if to_b { (&mut b, ub) } else { (&mut a, ua) };
                let before = h.contexts();
                let _ = h.handle_datagram(
                    now,
                    &RxDatagram {
                        src: pick(s),
                        dst,
                        payload: &bytes,
                    },
                );
                assert_eq!(h.contexts(), before, "a payload never creates a context");
            }
            Op::Advance(ms) => {
                now += Duration::from_millis(u64::from(ms));
                a.handle_timeout(now);
                b.handle_timeout(now);
                for t in [a.poll_timeout(), b.poll_timeout()].into_iter().flatten() {
                    assert!(t > now, "deadline {t:?} not after {now:?}");
                }
            }
            Op::Teardown(to_b) => {
                let h = if to_b { &mut b } else { &mut a };
                let first = h.iter_contexts().find_map(|c| c.ct_local);
                if let Some(t) = first {
                    let _ = h.teardown(now, t);
                }
            }
            Op::Prefs(f) => {
                let _ = a.update_preferences(now, ua, 1, vec![0, f]);
            }
        }
        drain(&mut a, &mut qa);
        drain(&mut b, &mut qb);
        for h in [&a, &b] {
            assert!(h.contexts() <= 3);
            assert!(h.live_tags() <= h.contexts());
        }
        // The responder: contexts only with A's ULID, and never more
        // establishments than I2/I2bis it received.
        for c in b.iter_contexts() {
            assert_eq!((c.local_ulid, c.peer_ulid), (ub, ua));
        }
        let s = b.stats();
        assert!(s.established <= s.received.i2 + s.received.i2bis);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_sequences_keep_the_invariants(ops in proptest::collection::vec(op(), 0..80)) {
        run(ops);
    }
}

/// A sequence that certainly establishes (so the properties above are not
/// vacuous): I1, R1, I2, R2 delivered in order.
#[test]
fn the_op_language_reaches_established() {
    run(vec![
        Op::Establish(0, 0),
        Op::AtoB(None),
        Op::BtoA(None),
        Op::AtoB(None),
        Op::BtoA(None),
    ]);
    let (ia, ib) = identities().clone();
    let mut p = Pair::new(host(exact(), 11, ia), host(exact(), 12, ib));
    let ua = p.hosts[0].identities()[0].ulid();
    let ub = p.hosts[1].identities()[0].ulid();
    p.hosts[0].establish(p.now, ua, ub).unwrap();
    p.pump(&mut keep);
    assert_eq!(p.hosts[1].contexts(), 1);
}

#[cfg(feature = "fuzzing")]
proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// The fuzz body never panics on arbitrary octets.
    #[test]
    fn fuzz_body_on_random_octets(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
        shim6_proto::fuzzing::shim6_host(&data);
    }
}
