//! Property tests: round trips of every message in both codecs, every
//! truncation failing, and model tests of both machines over arbitrary
//! input sequences (no panic, bounded tables, deadlines in the future, a
//! mapping accepted only with a valid MAC, determinism per seed).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::large_enum_variant
)]

use core::net::SocketAddrV6;
use core::time::Duration;
use lin6_proto::addr::{Lin6Id, Prefix};
use lin6_proto::agent::{self, Agent, AgentConfig, ServiceLevel};
use lin6_proto::io::{Datagram, sock};
use lin6_proto::resolver::{self, FailureSignal, Resolver, ResolverConfig};
use lin6_proto::wire::draft::{DraftMessage, MappingRecord};
use lin6_proto::wire::{self, Auth, Body, Code, LocatorRecord, Locators, MsgType, Repr};
use proptest::prelude::*;
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::SeedableRng;

fn lin6_id() -> impl Strategy<Value = Lin6Id> {
    any::<[u8; 8]>().prop_map(Lin6Id)
}

fn record() -> impl Strategy<Value = LocatorRecord> {
    (any::<[u8; 8]>(), any::<u8>(), any::<u8>(), any::<u8>()).prop_map(
        |(p, priority, weight, flags)| LocatorRecord {
            prefix: Prefix(p),
            priority,
            weight,
            flags,
        },
    )
}

fn locators() -> impl Strategy<Value = Locators> {
    prop::collection::vec(record(), 0..=16).prop_map(|v| Locators::from_slice(&v).unwrap())
}

fn body() -> impl Strategy<Value = Body> {
    prop_oneof![
        (lin6_id(), any::<u32>(), any::<u32>(), locators()).prop_map(
            |(lin6_id, timestamp, lifetime, locators)| Body::Register {
                lin6_id,
                timestamp,
                lifetime,
                locators
            }
        ),
        (lin6_id(), any::<u32>(), any::<u32>()).prop_map(
            |(lin6_id, granted_lifetime, ma_timestamp)| Body::RegisterAck {
                lin6_id,
                granted_lifetime,
                ma_timestamp
            }
        ),
        (lin6_id(), any::<Option<u64>>())
            .prop_map(|(target, cookie)| Body::Query { target, cookie }),
        (lin6_id(), any::<u32>(), any::<u32>(), locators()).prop_map(
            |(lin6_id, mapping_timestamp, ttl, locators)| Body::Reply {
                lin6_id,
                mapping_timestamp,
                ttl,
                locators
            }
        ),
        (lin6_id(), any::<u32>())
            .prop_map(|(lin6_id, timestamp)| Body::Refresh { lin6_id, timestamp }),
        any::<u8>().prop_map(|t| Body::Nack {
            offending_type: MsgType(t)
        }),
    ]
}

fn repr() -> impl Strategy<Value = Repr> {
    (
        any::<u8>(),
        any::<u8>(),
        any::<u16>(),
        any::<u32>(),
        any::<u64>(),
        body(),
        any::<u8>(),
        any::<[u8; 16]>(),
    )
        .prop_map(
            |(code, flags, key_id, sequence, nonce, body, algorithm, mac)| {
                let flags = if matches!(body, Body::Query { .. }) {
                    flags & !wire::FLAG_COOKIE
                } else {
                    flags
                };
                Repr {
                    code: Code(code),
                    flags,
                    key_id,
                    sequence,
                    nonce,
                    body,
                    auth: (key_id != 0).then_some(Auth { algorithm, mac }),
                }
            },
        )
}

fn mapping_record() -> impl Strategy<Value = MappingRecord> {
    (
        any::<u8>(),
        any::<u16>(),
        any::<u32>(),
        any::<[u8; 8]>(),
        lin6_id(),
        any::<u32>(),
        any::<u32>(),
    )
        .prop_map(
            |(code, flags, sequence, p, lin6_id, timestamp, lifetime)| MappingRecord {
                code,
                flags,
                sequence,
                prefix: Prefix(p),
                lin6_id,
                timestamp,
                lifetime,
            },
        )
}

fn draft() -> impl Strategy<Value = DraftMessage> {
    prop_oneof![
        mapping_record().prop_map(DraftMessage::UpdateRequest),
        mapping_record().prop_map(DraftMessage::Query),
        mapping_record().prop_map(DraftMessage::Reply),
        (any::<u8>(), any::<u16>(), any::<u32>()).prop_map(|(code, flags, sequence)| {
            DraftMessage::UpdateReply {
                code,
                flags,
                sequence,
            }
        }),
        (lin6_id(), any::<u32>())
            .prop_map(|(lin6_id, timestamp)| DraftMessage::Refresh { lin6_id, timestamp }),
    ]
}

proptest! {
    #[test]
    fn v1_round_trip_and_truncations(r in repr()) {
        let b = r.to_bytes(None);
        prop_assert_eq!(b.len(), r.buffer_len());
        prop_assert!(b.len() <= wire::MAX_MESSAGE_LEN);
        prop_assert_eq!(usize::from(u16::from_be_bytes([b[4], b[5]])), b.len());
        prop_assert_eq!(Repr::parse_bytes(&b), Ok(r));
        for n in 0..b.len() {
            prop_assert!(Repr::parse_bytes(&b[..n]).is_err());
        }
    }

    #[test]
    fn v1_signed_verifies_only_under_its_key(r in repr(), key in prop::collection::vec(any::<u8>(), 1..80), flip in any::<prop::sample::Index>()) {
        let mut r = r;
        if r.key_id == 0 { r.key_id = 1; }
        r.auth = Some(Auth::default());
        let b = r.to_bytes(Some(&key));
        prop_assert!(wire::verify(&b, &key));
        let mut other = key.clone();
        other.push(1);
        prop_assert!(!wire::verify(&b, &other));
        let mut t = b.clone();
        let i = flip.index(t.len());
        t[i] ^= 0x01;
        prop_assert!(!wire::verify(&t, &key));
    }

    #[test]
    fn draft_round_trip_and_truncations(m in draft()) {
        let b = m.to_bytes();
        prop_assert_eq!(b.len(), m.buffer_len());
        prop_assert_eq!(DraftMessage::parse(m.port(), &b), Ok(m));
        for n in 0..b.len() {
            prop_assert!(DraftMessage::parse(m.port(), &b[..n]).is_err());
        }
    }

    #[test]
    fn v1_parse_never_panics(b in prop::collection::vec(any::<u8>(), 0..300)) {
        if let Ok(r) = Repr::parse_bytes(&b) {
            prop_assert_eq!(Repr::parse_bytes(&r.to_bytes(None)), Ok(r));
        }
    }
}

const UNIX0: u64 = 1_000_000;

fn nid(n: u8) -> Lin6Id {
    Lin6Id([0x02, 0x01, 0x4a, 0, 0, 0, 0, n % 4])
}

#[derive(Debug, Clone)]
enum AIn {
    Raw(u8, Vec<u8>),
    Register {
        node: u8,
        good_key: bool,
        seq: u32,
        ts_off: i16,
        lifetime: u32,
        flags: u8,
        locs: Locators,
    },
    Query(u8),
    Advance(u16),
}

fn a_in() -> impl Strategy<Value = AIn> {
    prop_oneof![
        (any::<u8>(), prop::collection::vec(any::<u8>(), 0..80)).prop_map(|(s, b)| AIn::Raw(s, b)),
        (
            any::<u8>(),
            any::<bool>(),
            any::<u32>(),
            -400i16..400,
            0u32..5000,
            any::<u8>(),
            locators()
        )
            .prop_map(|(node, good_key, seq, ts_off, lifetime, flags, locs)| {
                AIn::Register {
                    node,
                    good_key,
                    seq,
                    ts_off,
                    lifetime,
                    flags,
                    locs,
                }
            }),
        any::<u8>().prop_map(AIn::Query),
        any::<u16>().prop_map(AIn::Advance),
    ]
}

fn src(n: u8) -> SocketAddrV6 {
    let mut o = [
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0x02, 0x01, 0x4a, 0, 0, 0, 0, 0,
    ];
    o[15] = n % 5;
    sock(o.into(), 7360)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn agent_model(inputs in prop::collection::vec(a_in(), 0..60)) {
        let keys: [&[u8]; 4] = [b"k0", b"k1", b"k2", b"k3"];
        let mut cfg = AgentConfig::new();
        cfg.unix_time_at_epoch = UNIX0;
        cfg.max_mappings = 2;
        cfg.rate_table_capacity = 3;
        cfg.rate_limit = 8;
        for i in 0..4u8 {
            cfg.keys.push((nid(i), 1, keys[usize::from(i)].to_vec()));
            if i < 3 { cfg.nodes.push((nid(i), ServiceLevel(i))); }
        }
        let mut a = Agent::new(cfg, Duration::ZERO).unwrap();
        let ma = sock("2001:db8:ffff::1".parse().unwrap(), 7360);
        let mut now = Duration::ZERO;
        for input in inputs {
            let mut valid_for: Option<Lin6Id> = None;
            match input {
                AIn::Raw(s, b) => a.handle_datagram(now, &Datagram { src: src(s), dst: ma, payload: &b }),
                AIn::Register { node, good_key, seq, ts_off, lifetime, flags, locs } => {
                    let id = nid(node);
                    let ts = (UNIX0 as i64 + now.as_secs() as i64 + i64::from(ts_off)) as u32;
                    let r = Repr {
                        code: Code::OK, flags, key_id: 1, sequence: seq, nonce: 3,
                        body: Body::Register { lin6_id: id, timestamp: ts, lifetime, locators: locs },
                        auth: Some(Auth::default()),
                    };
                    let key: &[u8] = if good_key { keys[usize::from(node % 4)] } else { b"bad" };
                    if good_key { valid_for = Some(id); }
                    a.handle_datagram(now, &Datagram { src: src(node), dst: ma, payload: &r.to_bytes(Some(key)) });
                }
                AIn::Query(n) => {
                    let r = Repr { code: Code::OK, flags: 0, key_id: 0, sequence: 1, nonce: 1,
                        body: Body::Query { target: nid(n), cookie: None }, auth: None };
                    a.handle_datagram(now, &Datagram { src: src(n), dst: ma, payload: &r.to_bytes(None) });
                }
                AIn::Advance(ms) => {
                    now += Duration::from_millis(u64::from(ms) * 50);
                    a.handle_timeout(now);
                    if let Some(t) = a.poll_timeout() { prop_assert!(t > now); }
                }
            }
            while let Some(o) = a.poll_output() {
                match o {
                    agent::Output::Event(agent::Event::NodeRegistered { lin6_id, level, lifetime, .. }) => {
                        prop_assert_eq!(Some(lin6_id), valid_for, "mapping accepted only with a valid MAC");
                        prop_assert!(lin6_id != nid(3), "never for an ID outside the database");
                        prop_assert_eq!(level, ServiceLevel(lin6_id.0[7]));
                        prop_assert!(lifetime >= Duration::from_secs(30) && lifetime <= Duration::from_secs(3600));
                    }
                    agent::Output::Transmit(t) => {
                        let r = Repr::parse_bytes(&t.payload);
                        prop_assert!(r.is_ok());
                        prop_assert!(t.payload.len() <= wire::MAX_MESSAGE_LEN);
                    }
                    _ => {}
                }
            }
            prop_assert!(a.mapping_count() <= 2);
            prop_assert!(a.rate_table_len() <= 3);
        }
    }
}

#[derive(Debug, Clone)]
enum RIn {
    Raw(u8, Vec<u8>),
    Answer(Repr),
    Advance(u16),
    Query(u8),
    Open(u8),
    Fail(u8),
    Move(u8),
}

fn r_in() -> impl Strategy<Value = RIn> {
    prop_oneof![
        (any::<u8>(), prop::collection::vec(any::<u8>(), 0..80)).prop_map(|(s, b)| RIn::Raw(s, b)),
        repr().prop_map(RIn::Answer),
        any::<u16>().prop_map(RIn::Advance),
        any::<u8>().prop_map(RIn::Query),
        any::<u8>().prop_map(RIn::Open),
        any::<u8>().prop_map(RIn::Fail),
        any::<u8>().prop_map(RIn::Move),
    ]
}

fn run_resolver(seed: u64, inputs: &[RIn]) -> Result<Vec<String>, TestCaseError> {
    let ma = sock("2001:db8:ffff::1".parse().unwrap(), 7360);
    let me = sock("2001:db8:1:0:201:4a00:0:1".parse().unwrap(), 7360);
    let loc = |n: u8| LocatorRecord {
        prefix: Prefix([0x20, 1, 0xd, 0xb8, 0, n, 0, 0]),
        priority: n % 3,
        weight: 1,
        flags: wire::LOC_FLAG_UP,
    };
    let mut cfg = ResolverConfig::new(nid(1), 1, b"key", vec![ma], vec![loc(1)]);
    cfg.unix_time_at_epoch = UNIX0;
    cfg.cache_capacity = 3;
    cfg.max_queries = 2;
    cfg.max_connections = 3;
    cfg.refresh_table_capacity = 2;
    let mut r = Resolver::new(cfg, ChaCha8Rng::seed_from_u64(seed), Duration::ZERO).unwrap();
    let mut now = Duration::ZERO;
    let mut trace = vec![];
    let mut last = (0u32, 0u64);
    let mut conns = vec![];
    for input in inputs {
        match input {
            RIn::Raw(s, b) => r.handle_datagram(
                now,
                &Datagram {
                    src: if s % 2 == 0 { ma } else { me },
                    dst: me,
                    payload: b,
                },
            ),
            RIn::Answer(rep) => {
                let mut rep = *rep;
                rep.sequence = last.0;
                rep.nonce = last.1;
                if let Body::Reply { lin6_id, .. } = &mut rep.body {
                    *lin6_id = nid(lin6_id.0[7]);
                }
                r.handle_datagram(
                    now,
                    &Datagram {
                        src: ma,
                        dst: me,
                        payload: &rep.to_bytes(Some(b"key")),
                    },
                );
            }
            RIn::Advance(ms) => {
                now += Duration::from_millis(u64::from(*ms));
                r.handle_timeout(now);
                if let Some(t) = r.poll_timeout() {
                    prop_assert!(t > now);
                }
            }
            RIn::Query(n) => {
                r.query(now, nid(*n));
            }
            RIn::Open(n) => {
                if let Ok(c) = r.open_connection(now, nid(*n)) {
                    conns.push(c);
                }
            }
            RIn::Fail(i) => {
                if !conns.is_empty() {
                    let c = conns[usize::from(*i) % conns.len()];
                    let _ = r.locator_failure(now, c, FailureSignal::Timeout);
                }
            }
            RIn::Move(n) => {
                let _ = r.set_local_locators(now, vec![loc(*n % 4 + 1)]);
            }
        }
        while let Some(o) = r.poll_output() {
            if let resolver::Output::Transmit(t) = &o {
                let p = wire::Packet::new_checked(&t.payload[..]).unwrap();
                last = (p.sequence(), p.nonce());
                prop_assert!(Repr::parse_bytes(&t.payload).is_ok());
            }
            trace.push(format!("{now:?} {o:?}"));
        }
        prop_assert!(r.cache().len() <= 3);
        prop_assert!(r.outstanding_queries() <= 2);
        prop_assert!(r.connections() <= 3);
    }
    Ok(trace)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn resolver_model(seed in any::<u64>(), inputs in prop::collection::vec(r_in(), 0..60)) {
        let a = run_resolver(seed, &inputs)?;
        let b = run_resolver(seed, &inputs)?;
        prop_assert_eq!(a, b, "same seed, same trace");
    }
}

#[derive(Debug, Clone)]
enum CIn {
    Insert(u8, Vec<LocatorRecord>, u8),
    Negative(u8, u8),
    Remove(u8),
    Down(u8, u8),
    Advance(u8),
}

fn c_in() -> impl Strategy<Value = CIn> {
    let rec = (0u8..4, 0u8..3, any::<u8>(), any::<bool>()).prop_map(|(p, priority, weight, up)| {
        LocatorRecord {
            prefix: Prefix([0x20, 1, 0xd, 0xb8, 0, p, 0, 0]),
            priority: if priority == 2 { 255 } else { priority },
            weight,
            flags: u8::from(up),
        }
    });
    prop_oneof![
        (0u8..6, prop::collection::vec(rec, 0..5), 1u8..20)
            .prop_map(|(i, r, t)| CIn::Insert(i, r, t)),
        (0u8..6, 1u8..20).prop_map(|(i, t)| CIn::Negative(i, t)),
        (0u8..6).prop_map(CIn::Remove),
        (0u8..6, 0u8..4).prop_map(|(i, p)| CIn::Down(i, p)),
        (0u8..10).prop_map(CIn::Advance),
    ]
}

proptest! {
    /// The cache against a naive model: bound, expiry, negative entries and
    /// the best locator by priority then weight.
    #[test]
    fn cache_matches_model(ops in prop::collection::vec(c_in(), 0..80)) {
        use lin6_proto::cache::{Entry, Lookup, MappingCache};
        use std::collections::BTreeMap;
        const CAP: usize = 3;
        let mut c = MappingCache::new(CAP);
        let mut model: BTreeMap<u8, (Vec<LocatorRecord>, Duration)> = BTreeMap::new();
        let mut now = Duration::ZERO;
        for op in ops {
            match op {
                CIn::Insert(i, recs, ttl) => {
                    let exp = now + Duration::from_secs(u64::from(ttl));
                    let live_n = model.iter().filter(|(k, (_, e))| **k != i && *e > now).count();
                    let full = live_n >= CAP;
                    let r = c.insert(now, cid(i), Entry::positive(&recs, 0, now, Duration::from_secs(u64::from(ttl))));
                    prop_assert_eq!(r.is_err(), full);
                    if !full { model.insert(i, (recs, exp)); }
                }
                CIn::Negative(i, ttl) => {
                    let exp = now + Duration::from_secs(u64::from(ttl));
                    let live_n = model.iter().filter(|(k, (_, e))| **k != i && *e > now).count();
                    let full = live_n >= CAP;
                    prop_assert_eq!(c.insert(now, cid(i), Entry::Negative { expires: exp }).is_err(), full);
                    if !full { model.insert(i, (vec![], exp)); }
                }
                CIn::Remove(i) => { c.remove(cid(i)); model.remove(&i); }
                CIn::Down(i, p) => {
                    let pre = Prefix([0x20, 1, 0xd, 0xb8, 0, p, 0, 0]);
                    let found = c.set_locator_up(cid(i), pre, false);
                    let mut mfound = false;
                    let live = model.get(&i).is_some_and(|(_, e)| *e > now);
                    if let Some((recs, _)) = model.get_mut(&i) {
                        for r in recs.iter_mut() {
                            if r.prefix == pre { r.flags &= !1; mfound = true; }
                        }
                    }
                    if live {
                        prop_assert_eq!(found, mfound);
                    }
                }
                CIn::Advance(s) => now += Duration::from_secs(u64::from(s)),
            }
            prop_assert!(c.len() <= CAP);
            for i in 0..6u8 {
                let live = model.get(&i).filter(|(_, e)| *e > now);
                let want = live.and_then(|(recs, _)| {
                    recs.iter()
                        .filter(|r| r.flags & 1 == 1 && r.priority != 255)
                        .min_by_key(|r| (r.priority, std::cmp::Reverse(r.weight)))
                        .map(|r| r.prefix)
                });
                prop_assert_eq!(c.best_locator(now, cid(i)), want);
                match c.peek(now, cid(i)) {
                    Lookup::Miss => prop_assert!(live.is_none()),
                    Lookup::Negative | Lookup::Hit(_) => prop_assert!(live.is_some()),
                }
            }
        }
    }
}

fn cid(i: u8) -> Lin6Id {
    Lin6Id([0x02, 0x01, 0x4a, 0, 0, 0, 1, i])
}
