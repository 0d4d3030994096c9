//! Scripted exchanges between resolver machines and an agent machine, wired
//! together directly (no network): register, refresh, query hit and miss,
//! negative reply, REFRESH, MA failover, replay, bad MAC, unknown Node ID,
//! NACKs, bounds, rate limits and the multihoming API. Expected values come
//! from the spec (`../shared/spec/lin6.md` §3), never from the code's output.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use core::net::{Ipv6Addr, SocketAddrV6};
use core::time::Duration;
use hmac::{KeyInit, Mac};
use lin6_proto::addr::{Lin6Id, Prefix};
use lin6_proto::agent::{self, Agent, AgentConfig, ServiceLevel};
use lin6_proto::io::{Datagram, Transmit, sock};
use lin6_proto::resolver::{
    self, ConnId, FailureSignal, RegState, Resolver, ResolverConfig, SendMode,
};
use lin6_proto::wire::{Body, Code, LOC_FLAG_UP, LocatorRecord, MsgType, Repr};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::SeedableRng;

const UNIX0: u64 = 1_700_000_000;
const KEY_A: &[u8] = b"key of node A, 32 bytes long...!";
const KEY_B: &[u8] = b"key of node B";
const KEY_X: &[u8] = b"key of node X (not in the DB)";

fn id_a() -> Lin6Id {
    Lin6Id([0x02, 0x01, 0x4a, 0, 0, 0, 0, 0x0a])
}
fn id_b() -> Lin6Id {
    Lin6Id([0x02, 0x01, 0x4a, 0, 0, 0, 0, 0x0b])
}
fn id_x() -> Lin6Id {
    Lin6Id([0x02, 0x01, 0x4a, 0, 0, 0, 0, 0x0c])
}
fn id_unregistered() -> Lin6Id {
    Lin6Id([0x02, 0x01, 0x4a, 0, 0, 0, 0, 0x0d])
}
fn pfx(n: u8) -> Prefix {
    Prefix([0x20, 0x01, 0x0d, 0xb8, 0, n, 0, 0])
}
fn loc(n: u8, pri: u8, weight: u8) -> LocatorRecord {
    LocatorRecord {
        prefix: pfx(n),
        priority: pri,
        weight,
        flags: LOC_FLAG_UP,
    }
}
fn ma1() -> SocketAddrV6 {
    sock("2001:db8:ffff::1".parse().unwrap(), 7360)
}
fn ma2() -> SocketAddrV6 {
    sock("2001:db8:ffff::2".parse().unwrap(), 7360)
}
fn s(secs: u64) -> Duration {
    Duration::from_secs(secs)
}
fn ms(m: u64) -> Duration {
    Duration::from_millis(m)
}

fn agent_cfg() -> AgentConfig {
    let mut c = AgentConfig::new();
    c.unix_time_at_epoch = UNIX0;
    c.nodes = vec![
        (id_a(), ServiceLevel::NORMAL),
        (id_b(), ServiceLevel::PREMIUM),
        (id_unregistered(), ServiceLevel::NORMAL),
    ];
    c.keys = vec![
        (id_a(), 1, KEY_A.to_vec()),
        (id_b(), 2, KEY_B.to_vec()),
        (id_x(), 3, KEY_X.to_vec()),
    ];
    c
}

fn node_cfg(id: Lin6Id, kid: u16, key: &[u8], locs: Vec<LocatorRecord>) -> ResolverConfig {
    let mut c = ResolverConfig::new(id, kid, key, vec![ma1(), ma2()], locs);
    c.unix_time_at_epoch = UNIX0;
    c
}

fn node(
    id: Lin6Id,
    kid: u16,
    key: &[u8],
    locs: Vec<LocatorRecord>,
    seed: u64,
) -> Resolver<ChaCha8Rng> {
    Resolver::new(
        node_cfg(id, kid, key, locs),
        ChaCha8Rng::seed_from_u64(seed),
        Duration::ZERO,
    )
    .unwrap()
}

fn node_addr(r: &Resolver<ChaCha8Rng>) -> SocketAddrV6 {
    let c = r.config();
    sock(
        c.addr.lin6_address(r.own_locator().unwrap(), c.node_id),
        7360,
    )
}

struct Drained<E> {
    tx: Vec<Transmit>,
    ev: Vec<E>,
    order: Vec<char>,
}

fn drain_r(r: &mut Resolver<ChaCha8Rng>) -> Drained<resolver::Event> {
    let mut d = Drained {
        tx: vec![],
        ev: vec![],
        order: vec![],
    };
    while let Some(o) = r.poll_output() {
        match o {
            resolver::Output::Transmit(t) => {
                d.tx.push(t);
                d.order.push('T')
            }
            resolver::Output::Event(e) => {
                d.ev.push(e);
                d.order.push('E')
            }
        }
    }
    d
}

fn drain_a(a: &mut Agent) -> Drained<agent::Event> {
    let mut d = Drained {
        tx: vec![],
        ev: vec![],
        order: vec![],
    };
    while let Some(o) = a.poll_output() {
        match o {
            agent::Output::Transmit(t) => {
                d.tx.push(t);
                d.order.push('T')
            }
            agent::Output::Event(e) => {
                d.ev.push(e);
                d.order.push('E')
            }
        }
    }
    d
}

/// Delivers `t` (sent by `from`) to the agent.
fn to_agent(a: &mut Agent, now: Duration, from: SocketAddrV6, t: &Transmit) {
    a.handle_datagram(
        now,
        &Datagram {
            src: from,
            dst: t.dst,
            payload: &t.payload,
        },
    );
}

/// Delivers an agent's answer to a node.
fn to_node(r: &mut Resolver<ChaCha8Rng>, now: Duration, from: SocketAddrV6, t: &Transmit) {
    let me = t.dst;
    r.handle_datagram(
        now,
        &Datagram {
            src: from,
            dst: me,
            payload: &t.payload,
        },
    );
}

fn mac_ok(bytes: &[u8], key: &[u8]) -> bool {
    let n = bytes.len();
    let mut z = bytes.to_vec();
    z[n - 16..].fill(0);
    let mut m = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
    m.update(&z);
    let full = m.finalize().into_bytes();
    full[..16] == bytes[n - 16..]
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(b[at..at + 4].try_into().unwrap())
}

/// Registers `r` with `a` at `now`; returns the REGISTER bytes.
fn register(r: &mut Resolver<ChaCha8Rng>, a: &mut Agent, now: Duration) -> Vec<u8> {
    let out = drain_r(r);
    assert_eq!(out.tx.len(), 1, "one REGISTER");
    let reg = out.tx[0].clone();
    to_agent(a, now, node_addr(r), &reg);
    let ans = drain_a(a);
    let ack = ans.tx.last().unwrap().clone();
    to_node(r, now, reg.dst, &ack);
    reg.payload
}

#[test]
fn register_bytes_event_order_and_refresh_at_two_thirds() {
    let mut a = Agent::new(agent_cfg(), Duration::ZERO).unwrap();
    let mut r = node(id_b(), 2, KEY_B, vec![loc(1, 0, 10), loc(2, 1, 5)], 1);
    let out = drain_r(&mut r);
    assert_eq!(out.tx.len(), 1);
    let reg = &out.tx[0];
    assert_eq!(reg.dst, ma1());
    let b = &reg.payload;
    // Header and body per §3.
    assert_eq!(b.len(), 40 + 2 * 12 + 20);
    assert_eq!(&b[0..4], &[1, 0x01, 0, 0x01]); // version, REGISTER, code 0, flag A
    assert_eq!(u16::from_be_bytes([b[4], b[5]]) as usize, b.len());
    assert_eq!(&b[6..8], &[0, 2]); // Key ID
    assert_eq!(&b[20..28], &id_b().0);
    assert_eq!(be32(b, 28), UNIX0 as u32);
    assert_eq!(be32(b, 32), 600);
    assert_eq!(b[36], 2);
    assert_eq!(
        &b[40..52],
        &[0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 10, 1, 0]
    );
    assert_eq!(&b[64..68], &[1, 0, 0, 16]);
    assert!(mac_ok(b, KEY_B));

    let t = ms(40);
    to_agent(&mut a, t, node_addr(&r), reg);
    let ans = drain_a(&mut a);
    // Event (Node ID + level) before the ACK it permits.
    assert_eq!(ans.order, vec!['E', 'T']);
    match &ans.ev[0] {
        agent::Event::NodeRegistered {
            lin6_id,
            level,
            locators,
            lifetime,
        } => {
            assert_eq!(*lin6_id, id_b());
            assert_eq!(*level, ServiceLevel::PREMIUM);
            assert_eq!(locators.len(), 2);
            assert_eq!(*lifetime, s(600));
        }
        e => panic!("{e:?}"),
    }
    let ack = &ans.tx[0];
    assert_eq!(ack.dst, node_addr(&r));
    let ab = &ack.payload;
    assert_eq!(ab.len(), 36 + 20);
    assert_eq!(&ab[0..3], &[1, 0x02, 0]); // REGISTER_ACK, OK
    assert_eq!(&ab[8..20], &b[8..20]); // Sequence and Nonce echoed
    assert_eq!(be32(ab, 28), 600);
    assert!(mac_ok(ab, KEY_B));

    to_node(&mut r, t, ma1(), ack);
    let ev = drain_r(&mut r).ev;
    assert_eq!(
        ev,
        vec![resolver::Event::Registered {
            agent: ma1(),
            granted: s(600)
        }]
    );
    // Re-registration at 2/3 of 600 s.
    assert_eq!(r.poll_timeout(), Some(t + s(400)));
    r.handle_timeout(t + s(400) - ms(1));
    assert!(drain_r(&mut r).tx.is_empty());
    r.handle_timeout(t + s(400));
    let re = drain_r(&mut r);
    assert_eq!(re.tx.len(), 1);
    assert_eq!(re.tx[0].payload[1], 0x01);
    assert_eq!(
        be32(&re.tx[0].payload, 8),
        be32(b, 8).wrapping_add(1),
        "new request, sequence + 1"
    );
    to_agent(&mut a, t + s(400), node_addr(&r), &re.tx[0]);
    let ans = drain_a(&mut a);
    assert_eq!(ans.tx[0].payload[2], 0, "re-registration accepted");
}

#[test]
fn lifetime_clamped() {
    for (req, grant) in [(5000u64, 3600u32), (10, 30), (100, 100)] {
        let mut a = Agent::new(agent_cfg(), Duration::ZERO).unwrap();
        let mut c = node_cfg(id_a(), 1, KEY_A, vec![loc(1, 0, 1)]);
        c.requested_lifetime = s(req);
        let mut r = Resolver::new(c, ChaCha8Rng::seed_from_u64(2), Duration::ZERO).unwrap();
        let reg = drain_r(&mut r).tx.remove(0);
        to_agent(&mut a, s(0), node_addr(&r), &reg);
        let ack = drain_a(&mut a).tx.remove(0);
        assert_eq!(be32(&ack.payload, 28), grant);
        assert_eq!(a.poll_timeout(), Some(s(u64::from(grant))));
        a.handle_timeout(s(u64::from(grant)));
        assert_eq!(
            drain_a(&mut a).ev,
            vec![agent::Event::NodeExpired { lin6_id: id_a() }]
        );
        assert!(a.mapping(id_a()).is_none());
    }
}

#[test]
fn prefix_change_reregisters_at_once_and_refreshes_peers() {
    let mut a = Agent::new(agent_cfg(), Duration::ZERO).unwrap();
    let mut ra = node(id_a(), 1, KEY_A, vec![loc(1, 0, 1)], 3);
    let mut rb = node(id_b(), 2, KEY_B, vec![loc(7, 0, 1)], 4);
    register(&mut ra, &mut a, s(0));
    register(&mut rb, &mut a, s(0));
    drain_r(&mut ra);
    drain_r(&mut rb);
    // A talks to B.
    let c = ra.open_connection(s(1), id_b()).unwrap();
    let q = drain_r(&mut ra).tx.remove(0);
    to_agent(&mut a, s(1), node_addr(&ra), &q);
    let rep = drain_a(&mut a).tx.remove(0);
    to_node(&mut ra, s(1), ma1(), &rep);
    drain_r(&mut ra);
    assert_eq!(ra.connection_locators(s(1), c), Some((pfx(1), pfx(7))));
    // A moves: new prefix 2. REGISTER leaves at once.
    ra.set_local_locators(s(10), vec![loc(2, 0, 1)]).unwrap();
    let out = drain_r(&mut ra);
    assert_eq!(out.tx.len(), 1);
    assert_eq!(out.tx[0].payload[1], 0x01);
    assert_eq!(&out.tx[0].payload[40..48], &pfx(2).0);
    to_agent(&mut a, s(10), node_addr(&ra), &out.tx[0]);
    let ack = drain_a(&mut a).tx.remove(0);
    to_node(&mut ra, s(10), ma1(), &ack);
    let out = drain_r(&mut ra);
    // Registered, then REFRESH to B's current locator.
    assert!(matches!(out.ev[0], resolver::Event::Registered { .. }));
    assert_eq!(out.tx.len(), 1);
    let rf = &out.tx[0];
    assert_eq!(
        rf.dst,
        sock("2001:db8:7:0:201:4a00:0:b".parse().unwrap(), 7360)
    );
    assert_eq!(rf.payload[1], 0x05);
    assert_eq!(&rf.payload[20..28], &id_a().0);
    assert_eq!(rf.payload.len(), 32);
    // B: knows A? Not yet (no connection, no cache) -> ignored.
    rb.handle_datagram(
        s(10),
        &Datagram {
            src: node_addr(&ra),
            dst: rf.dst,
            payload: &rf.payload,
        },
    );
    assert_eq!(rb.stats().refresh_ignored, 1);
    assert_eq!(
        a.mapping(id_a()).unwrap().locators.as_slice()[0].prefix,
        pfx(2)
    );
}

#[test]
fn query_hit_miss_negative_and_retries() {
    let mut a = Agent::new(agent_cfg(), Duration::ZERO).unwrap();
    let mut rb = node(id_b(), 2, KEY_B, vec![loc(1, 0, 1), loc(2, 0, 3)], 5);
    register(&mut rb, &mut a, s(0));
    let mut ra = node(id_a(), 1, KEY_A, vec![loc(9, 0, 1)], 6);
    register(&mut ra, &mut a, s(0));
    drain_r(&mut ra);

    // Hit: TTL = min(remaining 600 - 100, 300) = 300.
    assert!(ra.query(s(100), id_b()));
    let q = drain_r(&mut ra).tx.remove(0);
    assert_eq!(q.payload.len(), 28);
    assert_eq!(&q.payload[0..2], &[1, 0x03]);
    to_agent(&mut a, s(100), node_addr(&ra), &q);
    let rep = drain_a(&mut a).tx.remove(0);
    let p = &rep.payload;
    assert_eq!(&p[0..3], &[1, 0x04, 0]);
    assert_eq!(&p[8..20], &q.payload[8..20]);
    assert_eq!(be32(p, 32), 300);
    assert_eq!(p[36], 2);
    assert_eq!(p.len(), 40 + 24);
    to_node(&mut ra, s(100), ma1(), &rep);
    let ev = drain_r(&mut ra).ev;
    match &ev[0] {
        resolver::Event::MappingResolved { peer, locators } => {
            assert_eq!(*peer, id_b());
            // Equal priority: higher weight first.
            assert_eq!(
                locators.iter().map(|l| l.prefix).collect::<Vec<_>>(),
                vec![pfx(2), pfx(1)]
            );
        }
        e => panic!("{e:?}"),
    }
    assert_eq!(ra.cache().best_locator(s(100), id_b()), Some(pfx(2)));
    assert_eq!(ra.cache().best_locator(s(400), id_b()), None, "TTL 300 s");
    // A second query while cached sends nothing.
    assert!(!ra.query(s(101), id_b()));
    assert!(drain_r(&mut ra).tx.is_empty());

    assert_eq!(
        ra.peer_agent_query_name(id_b()),
        "b.0.0.0.0.0.0.0.0.0.a.4.1.0.2.0.9.9.9.1.0.3.8.1.1.0.5.0.e.f.f.3.ip6.arpa."
    );
    // Miss: a listed node that never registered -> NO_MAPPING, N = 0, TTL 60.
    ra.query(s(101), id_unregistered());
    let q = drain_r(&mut ra).tx.remove(0);
    to_agent(&mut a, s(101), node_addr(&ra), &q);
    let rep = drain_a(&mut a).tx.remove(0);
    assert_eq!(&rep.payload[1..3], &[0x04, 2]);
    assert_eq!(be32(&rep.payload, 32), 60);
    assert_eq!(rep.payload[36], 0);
    to_node(&mut ra, s(101), ma1(), &rep);
    assert_eq!(
        drain_r(&mut ra).ev,
        vec![resolver::Event::MappingNegative {
            peer: id_unregistered(),
            ttl: s(60)
        }]
    );
    assert!(
        !ra.query(s(150), id_unregistered()),
        "negative entry holds 60 s"
    );
    assert!(ra.query(s(161), id_unregistered()), "asks again after 60 s");
    assert_eq!(drain_r(&mut ra).tx[0].payload[1], 0x03);

    // Later: remaining lifetime 600 - 500 = 100 < 300.
    ra.query(s(500), id_b());
    let q = drain_r(&mut ra).tx.remove(0);
    to_agent(&mut a, s(500), node_addr(&ra), &q);
    assert_eq!(be32(&drain_a(&mut a).tx[0].payload, 32), 100);

    // Unanswered: 3 transmissions 1 s apart, then QueryFailed.
    let mut rc = node(id_a(), 1, KEY_A, vec![loc(9, 0, 1)], 7);
    drain_r(&mut rc);
    rc.query(s(0), id_b());
    let mut times = vec![];
    let mut now = s(0);
    loop {
        let out = drain_r(&mut rc);
        for t in &out.tx {
            if t.payload[1] == 0x03 {
                times.push(now);
            }
        }
        if out
            .ev
            .iter()
            .any(|e| matches!(e, resolver::Event::QueryFailed { .. }))
        {
            break;
        }
        now = rc.poll_timeout().unwrap();
        rc.handle_timeout(now);
        assert!(now < s(10));
    }
    assert_eq!(times, vec![s(0), s(1), s(2)]);
    assert_eq!(now, s(3));
    assert_eq!(rc.outstanding_queries(), 0);
}

#[test]
fn reply_must_match_request() {
    let mut a = Agent::new(agent_cfg(), Duration::ZERO).unwrap();
    let mut rb = node(id_b(), 2, KEY_B, vec![loc(1, 0, 1)], 8);
    register(&mut rb, &mut a, s(0));
    let mut ra = node(id_a(), 1, KEY_A, vec![loc(9, 0, 1)], 9);
    drain_r(&mut ra);
    ra.query(s(1), id_b());
    let q = drain_r(&mut ra).tx.remove(0);
    to_agent(&mut a, s(1), node_addr(&ra), &q);
    let rep = drain_a(&mut a).tx.remove(0);
    // Wrong source.
    to_node(&mut ra, s(1), ma2(), &rep);
    // Wrong nonce.
    let mut bad = rep.clone();
    bad.payload[19] ^= 1;
    to_node(&mut ra, s(1), ma1(), &bad);
    assert_eq!(ra.stats().drop_unmatched, 2);
    assert!(ra.cache().best_locator(s(1), id_b()).is_none());
    to_node(&mut ra, s(1), ma1(), &rep);
    assert_eq!(ra.cache().best_locator(s(1), id_b()), Some(pfx(1)));
    // A replay of the same reply matches nothing now.
    to_node(&mut ra, s(2), ma1(), &rep);
    assert_eq!(ra.stats().drop_unmatched, 3);
}

#[test]
fn refresh_requeries_with_rate_limit_and_window() {
    let mut a = Agent::new(agent_cfg(), Duration::ZERO).unwrap();
    let mut rb = node(id_b(), 2, KEY_B, vec![loc(1, 0, 1)], 10);
    register(&mut rb, &mut a, s(0));
    let mut ra = node(id_a(), 1, KEY_A, vec![loc(9, 0, 1)], 11);
    register(&mut ra, &mut a, s(0));
    drain_r(&mut ra);
    ra.query(s(1), id_b());
    let q = drain_r(&mut ra).tx.remove(0);
    to_agent(&mut a, s(1), node_addr(&ra), &q);
    let rep = drain_a(&mut a).tx.remove(0);
    to_node(&mut ra, s(1), ma1(), &rep);
    drain_r(&mut ra);

    let refresh = |ts: u32, seq: u32| {
        Repr {
            code: Code::OK,
            flags: 0,
            key_id: 0,
            sequence: seq,
            nonce: 77,
            body: Body::Refresh {
                lin6_id: id_b(),
                timestamp: ts,
            },
            auth: None,
        }
        .to_bytes(None)
    };
    let from = sock("2001:db8:1:0:201:4a00:0:b".parse().unwrap(), 7360);
    let me = node_addr(&ra);
    let now_ts = (UNIX0 + 10) as u32;
    ra.handle_datagram(
        s(10),
        &Datagram {
            src: from,
            dst: me,
            payload: &refresh(now_ts, 1),
        },
    );
    let out = drain_r(&mut ra);
    assert_eq!(out.tx.len(), 1, "re-query");
    assert_eq!(out.tx[0].dst, ma1());
    assert_eq!(&out.tx[0].payload[20..28], &id_b().0);
    // Within 3 s: rate limited.
    ra.handle_datagram(
        s(12),
        &Datagram {
            src: from,
            dst: me,
            payload: &refresh(now_ts + 2, 2),
        },
    );
    assert!(drain_r(&mut ra).tx.is_empty());
    assert_eq!(ra.stats().drop_rate_limited, 1);
    // Timestamp outside the 300 s window: replay.
    ra.handle_datagram(
        s(20),
        &Datagram {
            src: from,
            dst: me,
            payload: &refresh(now_ts - 301, 3),
        },
    );
    assert_eq!(ra.stats().drop_replay, 1);
    assert!(drain_r(&mut ra).tx.is_empty());
}

#[test]
fn ma_failover_after_five_tries() {
    let mut r = node(id_a(), 1, KEY_A, vec![loc(1, 0, 1)], 12);
    let mut sent = vec![];
    let mut now = Duration::ZERO;
    let mut events = vec![];
    for _ in 0..20 {
        let out = drain_r(&mut r);
        for t in out.tx {
            sent.push((now, t.dst, be32(&t.payload, 8)));
        }
        events.extend(out.ev);
        if sent.len() >= 7 {
            break;
        }
        now = r.poll_timeout().unwrap();
        r.handle_timeout(now);
    }
    // 1 s doubling: 0, 1, 3, 7, 15 to MA1 (same sequence), then MA2 at 31.
    let times: Vec<u64> = sent.iter().map(|(t, _, _)| t.as_secs()).collect();
    assert_eq!(times, vec![0, 1, 3, 7, 15, 31, 32]);
    assert!(
        sent[..5]
            .iter()
            .all(|(_, d, q)| *d == ma1() && *q == sent[0].2)
    );
    assert_eq!(sent[5].1, ma2());
    assert_ne!(sent[5].2, sent[0].2, "a new request for the new MA");
    assert_eq!(
        events,
        vec![resolver::Event::AgentFailover {
            from: ma1(),
            to: ma2()
        }]
    );
    assert_eq!(r.reg_state(), RegState::Registering { agent: 1 });
}

#[test]
fn replay_rejected() {
    let mut a = Agent::new(agent_cfg(), Duration::ZERO).unwrap();
    let mut r = node(id_a(), 1, KEY_A, vec![loc(1, 0, 1)], 13);
    let reg = register(&mut r, &mut a, s(0));
    assert!(a.mapping(id_a()).is_some());
    // The node moves and registers again (a newer request) ...
    r.set_local_locators(s(3), vec![loc(2, 0, 1)]).unwrap();
    register(&mut r, &mut a, s(3));
    assert_eq!(
        a.mapping(id_a()).unwrap().locators.as_slice()[0].prefix,
        pfx(2)
    );
    // ... then an attacker replays the first REGISTER: sequence not newer.
    let from = node_addr(&r);
    a.handle_datagram(
        s(5),
        &Datagram {
            src: from,
            dst: ma1(),
            payload: &reg,
        },
    );
    let ans = drain_a(&mut a);
    assert!(ans.ev.is_empty(), "no state change");
    assert_eq!(
        a.mapping(id_a()).unwrap().locators.as_slice()[0].prefix,
        pfx(2)
    );
    assert_eq!(ans.tx[0].payload[2], Code::REPLAY.0);
    assert!(
        mac_ok(&ans.tx[0].payload, KEY_A),
        "REPLAY answer is authenticated"
    );
    // A newer sequence but a timestamp 301 s in the past.
    let mut old = Repr::parse_bytes(&reg).unwrap();
    old.sequence = old.sequence.wrapping_add(10);
    if let Body::Register { timestamp, .. } = &mut old.body {
        *timestamp = (UNIX0 - 301) as u32;
    }
    a.handle_datagram(
        s(5),
        &Datagram {
            src: from,
            dst: ma1(),
            payload: &old.to_bytes(Some(KEY_A)),
        },
    );
    assert_eq!(drain_a(&mut a).tx[0].payload[2], Code::REPLAY.0);
    assert_eq!(a.stats().replay, 2);
}

#[test]
fn bad_mac_rejected_and_advisory_at_node() {
    let mut a = Agent::new(agent_cfg(), Duration::ZERO).unwrap();
    let mut r = node(id_a(), 1, KEY_A, vec![loc(1, 0, 1)], 14);
    let mut reg = drain_r(&mut r).tx.remove(0);
    let n = reg.payload.len();
    reg.payload[n - 1] ^= 0x80;
    to_agent(&mut a, s(0), node_addr(&r), &reg);
    let ans = drain_a(&mut a);
    assert!(ans.ev.is_empty());
    assert!(a.mapping(id_a()).is_none(), "changes nothing");
    let ack = &ans.tx[0].payload;
    assert_eq!(&ack[1..3], &[0x02, Code::AUTH_FAILED.0]);
    assert_eq!(&ack[6..8], &[0, 0], "Key ID 0");
    assert_eq!(ack.len(), 36, "no trailer");
    // The node treats it as advisory: retransmission continues.
    to_node(&mut r, s(0), ma1(), &ans.tx[0]);
    let out = drain_r(&mut r);
    assert!(matches!(
        out.ev[0],
        resolver::Event::AuthFailedAdvisory { .. }
    ));
    assert_eq!(r.reg_state(), RegState::Registering { agent: 0 });
    assert_eq!(r.poll_timeout(), Some(s(1)));
    // A wrong key (valid MAC under another key) is refused too.
    let mut c = node_cfg(id_a(), 1, KEY_B, vec![loc(1, 0, 1)]);
    c.unix_time_at_epoch = UNIX0;
    let mut r2 = Resolver::new(c, ChaCha8Rng::seed_from_u64(15), Duration::ZERO).unwrap();
    let reg2 = drain_r(&mut r2).tx.remove(0);
    to_agent(&mut a, s(0), node_addr(&r2), &reg2);
    assert_eq!(drain_a(&mut a).tx[0].payload[2], Code::AUTH_FAILED.0);
    assert_eq!(a.stats().auth_failed, 2);
    // A forged ACK (bad MAC, OK code) is dropped by the node.
    let mut a2 = Agent::new(agent_cfg(), Duration::ZERO).unwrap();
    let mut r3 = node(id_a(), 1, KEY_A, vec![loc(1, 0, 1)], 16);
    let reg3 = drain_r(&mut r3).tx.remove(0);
    to_agent(&mut a2, s(0), node_addr(&r3), &reg3);
    let mut ack3 = drain_a(&mut a2).tx.remove(0);
    ack3.payload[40] ^= 1;
    to_node(&mut r3, s(0), ma1(), &ack3);
    assert_eq!(r3.stats().drop_bad_mac, 1);
    assert_eq!(r3.reg_state(), RegState::Registering { agent: 0 });
}

#[test]
fn unknown_node_refused() {
    let mut a = Agent::new(agent_cfg(), Duration::ZERO).unwrap();
    let mut r = node(id_x(), 3, KEY_X, vec![loc(1, 0, 1)], 17);
    let reg = drain_r(&mut r).tx.remove(0);
    to_agent(&mut a, s(0), node_addr(&r), &reg);
    let ans = drain_a(&mut a);
    assert!(ans.ev.is_empty());
    assert_eq!(&ans.tx[0].payload[1..3], &[0x02, Code::UNKNOWN_NODE.0]);
    assert!(mac_ok(&ans.tx[0].payload, KEY_X));
    to_node(&mut r, s(0), ma1(), &ans.tx[0]);
    assert_eq!(
        drain_r(&mut r).ev,
        vec![resolver::Event::RegistrationRefused {
            agent: ma1(),
            code: Code::UNKNOWN_NODE
        }]
    );
    assert_eq!(r.reg_state(), RegState::Refused(Code::UNKNOWN_NODE));
    assert_eq!(r.poll_timeout(), None);
    assert_eq!(a.mapping_count(), 0);
    // Queries for IDs outside the database: NOT_SERVED.
    let mut ra = node(id_a(), 1, KEY_A, vec![loc(9, 0, 1)], 18);
    drain_r(&mut ra);
    ra.query(s(1), id_x());
    let q = drain_r(&mut ra).tx.remove(0);
    to_agent(&mut a, s(1), node_addr(&ra), &q);
    assert_eq!(drain_a(&mut a).tx[0].payload[2], Code::NOT_SERVED.0);
}

fn hdr(ty: u8, len: u16, version: u8) -> Vec<u8> {
    let mut v = vec![version, ty, 0, 0];
    v.extend_from_slice(&len.to_be_bytes());
    v.extend_from_slice(&[0, 0, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8]);
    v
}

#[test]
fn nacks() {
    let mut a = Agent::new(agent_cfg(), Duration::ZERO).unwrap();
    let from = sock("2001:db8::99".parse().unwrap(), 7360);
    let mut check = |bytes: Vec<u8>, off: u8, code: Code| {
        a.handle_datagram(
            s(0),
            &Datagram {
                src: from,
                dst: ma1(),
                payload: &bytes,
            },
        );
        let t = drain_a(&mut a).tx;
        assert_eq!(t.len(), 1, "{code:?}");
        let p = &t[0].payload;
        assert_eq!(p.len(), 24);
        assert_eq!(&p[0..3], &[1, 0x06, code.0]);
        assert_eq!(&p[8..20], &bytes[8..20], "Sequence and Nonce echoed");
        assert_eq!(p[20], off);
    };
    check(hdr(0x03, 20, 2), 0x03, Code::BAD_VERSION);
    check(hdr(0x42, 20, 1), 0x42, Code::UNKNOWN_TYPE);
    check(hdr(0x03, 20, 1), 0x03, Code::MALFORMED); // QUERY without a target
    let mut reg = hdr(0x01, 40, 1);
    reg.extend_from_slice(&[
        2, 1, 0x4a, 0, 0, 0, 0, 0x0a, 0, 0, 0, 0, 0, 0, 2, 0x58, 17, 0, 0, 0,
    ]);
    check(reg, 0x01, Code::TOO_MANY_LOCATORS);
    // Runts and answers are dropped silently.
    a.handle_datagram(
        s(0),
        &Datagram {
            src: from,
            dst: ma1(),
            payload: &[1, 2, 3],
        },
    );
    a.handle_datagram(
        s(0),
        &Datagram {
            src: from,
            dst: ma1(),
            payload: &hdr(0x04, 20, 1),
        },
    );
    assert!(drain_a(&mut a).tx.is_empty());
    assert_eq!(a.stats().drop_runt, 1);
    assert_eq!(a.stats().nacks[Code::MALFORMED.0 as usize], 1);
}

#[test]
fn rate_limit_and_table_bound() {
    let mut cfg = agent_cfg();
    cfg.rate_limit = 3;
    cfg.max_mappings = 1;
    let mut a = Agent::new(cfg, Duration::ZERO).unwrap();
    let from = sock("2001:db8::99".parse().unwrap(), 7360);
    let q = Repr {
        code: Code::OK,
        flags: 0,
        key_id: 0,
        sequence: 1,
        nonce: 1,
        body: Body::Query {
            target: id_b(),
            cookie: Some(5),
        },
        auth: None,
    }
    .to_bytes(None);
    let mut codes = vec![];
    for _ in 0..6 {
        a.handle_datagram(
            s(0),
            &Datagram {
                src: from,
                dst: ma1(),
                payload: &q,
            },
        );
        for t in drain_a(&mut a).tx {
            codes.push((t.payload[1], t.payload[2]));
        }
    }
    assert_eq!(
        codes,
        vec![(4, 2), (4, 2), (4, 2), (6, Code::RATE_LIMITED.0)]
    );
    assert_eq!(a.stats().rate_limited, 3);
    a.handle_datagram(
        s(1),
        &Datagram {
            src: from,
            dst: ma1(),
            payload: &q,
        },
    );
    assert_eq!(drain_a(&mut a).tx.len(), 1, "new window");

    let mut ra = node(id_a(), 1, KEY_A, vec![loc(1, 0, 1)], 19);
    register(&mut ra, &mut a, s(2));
    let mut rb = node(id_b(), 2, KEY_B, vec![loc(2, 0, 1)], 20);
    let reg = drain_r(&mut rb).tx.remove(0);
    to_agent(&mut a, s(2), node_addr(&rb), &reg);
    let ans = drain_a(&mut a);
    assert_eq!(ans.tx[0].payload[2], Code::NOT_SERVED.0);
    assert_eq!(a.mapping_count(), 1);
    assert_eq!(a.stats().table_full, 1);
    to_node(&mut rb, s(2), ma1(), &ans.tx[0]);
    assert_eq!(
        drain_r(&mut rb).ev,
        vec![resolver::Event::ReResolveAgent { agent: ma1() }]
    );
}

#[test]
fn merge_flag_updates_listed_locators_only() {
    let mut a = Agent::new(agent_cfg(), Duration::ZERO).unwrap();
    let mut r = node(id_a(), 1, KEY_A, vec![loc(1, 0, 1), loc(2, 0, 1)], 21);
    let reg = register(&mut r, &mut a, s(0));
    let mut m = Repr::parse_bytes(&reg).unwrap();
    m.flags |= lin6_proto::wire::FLAG_MERGE;
    m.sequence = m.sequence.wrapping_add(5);
    m.body = Body::Register {
        lin6_id: id_a(),
        timestamp: UNIX0 as u32,
        lifetime: 600,
        locators: lin6_proto::wire::Locators::from_slice(&[loc(2, 9, 9), loc(3, 0, 1)]).unwrap(),
    };
    a.handle_datagram(
        s(1),
        &Datagram {
            src: node_addr(&r),
            dst: ma1(),
            payload: &m.to_bytes(Some(KEY_A)),
        },
    );
    drain_a(&mut a);
    let got: Vec<(u8, u8)> = a
        .mapping(id_a())
        .unwrap()
        .locators
        .as_slice()
        .iter()
        .map(|l| (l.prefix.0[5], l.priority))
        .collect();
    assert_eq!(got, vec![(1, 0), (2, 9), (3, 0)]);
    // Deregistration: lifetime 0.
    m.flags &= !lin6_proto::wire::FLAG_MERGE;
    m.sequence = m.sequence.wrapping_add(1);
    if let Body::Register { lifetime, .. } = &mut m.body {
        *lifetime = 0;
    }
    a.handle_datagram(
        s(2),
        &Datagram {
            src: node_addr(&r),
            dst: ma1(),
            payload: &m.to_bytes(Some(KEY_A)),
        },
    );
    let ans = drain_a(&mut a);
    assert_eq!(
        ans.ev,
        vec![agent::Event::NodeDeregistered { lin6_id: id_a() }]
    );
    assert_eq!(be32(&ans.tx[0].payload, 28), 0);
    assert!(a.mapping(id_a()).is_none());
}

#[test]
fn multihoming_failover_all_mode_and_foreign_locator() {
    let mut a = Agent::new(agent_cfg(), Duration::ZERO).unwrap();
    // B has three locators: pri 0 (w 5), pri 0 (w 9), pri 1.
    let mut rb = node(
        id_b(),
        2,
        KEY_B,
        vec![loc(1, 0, 5), loc(2, 0, 9), loc(3, 1, 50)],
        22,
    );
    register(&mut rb, &mut a, s(0));
    let mut ra = node(id_a(), 1, KEY_A, vec![loc(8, 1, 1), loc(9, 0, 1)], 23);
    register(&mut ra, &mut a, s(0));
    drain_r(&mut ra);
    let c: ConnId = ra.open_connection(s(1), id_b()).unwrap();
    assert_eq!(ra.connection_locators(s(1), c), None, "mapping unknown yet");
    let q = drain_r(&mut ra).tx.remove(0);
    to_agent(&mut a, s(1), node_addr(&ra), &q);
    let rep = drain_a(&mut a).tx.remove(0);
    to_node(&mut ra, s(1), ma1(), &rep);
    drain_r(&mut ra);
    // getaddrinfo2: all three, best first.
    let all: Vec<Prefix> = ra
        .peer_locators(s(1), id_b())
        .unwrap()
        .iter()
        .map(|l| l.prefix)
        .collect();
    assert_eq!(all, vec![pfx(2), pfx(1), pfx(3)]);
    // Source: own best (pri 0 -> prefix 9); destination: pri 0, weight 9.
    assert_eq!(ra.connection_locators(s(1), c), Some((pfx(9), pfx(2))));
    // Failure: next by priority then weight.
    assert_eq!(
        ra.locator_failure(s(2), c, FailureSignal::Timeout).unwrap(),
        Some(pfx(1))
    );
    assert_eq!(
        drain_r(&mut ra).ev,
        vec![resolver::Event::LocatorSwitched {
            conn: c,
            peer: id_b(),
            from: pfx(2),
            to: pfx(1),
            reason: FailureSignal::Timeout
        }]
    );
    // ICMPv6 unreachable for the current locator.
    ra.icmp_unreachable(
        s(3),
        "2001:db8:1:0:201:4a00:0:b".parse::<Ipv6Addr>().unwrap(),
    );
    assert_eq!(ra.connection_locators(s(3), c), Some((pfx(9), pfx(3))));
    assert!(matches!(
        drain_r(&mut ra).ev[0],
        resolver::Event::LocatorSwitched {
            reason: FailureSignal::IcmpUnreachable,
            ..
        }
    ));
    // All failed: event, marks cleared, mapping re-queried.
    assert_eq!(
        ra.locator_failure(s(4), c, FailureSignal::Explicit)
            .unwrap(),
        None
    );
    let out = drain_r(&mut ra);
    assert_eq!(
        out.ev,
        vec![resolver::Event::AllLocatorsFailed {
            conn: c,
            peer: id_b()
        }]
    );
    assert_eq!(out.tx.len(), 1);
    assert_eq!(out.tx[0].payload[1], 0x03);
    to_agent(&mut a, s(4), node_addr(&ra), &out.tx[0]);
    let rep = drain_a(&mut a).tx.remove(0);
    to_node(&mut ra, s(4), ma1(), &rep);
    drain_r(&mut ra);
    assert_eq!(ra.connection_locators(s(4), c), Some((pfx(9), pfx(2))));
    // FOREIGNLOCATOR and a forced source.
    ra.force_foreign_locator(c, pfx(3)).unwrap();
    ra.force_local_locator(c, pfx(8)).unwrap();
    assert_eq!(ra.connection_locators(s(4), c), Some((pfx(8), pfx(3))));
    assert!(ra.force_local_locator(c, pfx(5)).is_err());
    // Send to all locators.
    ra.set_send_mode(c, SendMode::All).unwrap();
    assert_eq!(ra.destinations(s(4), c), vec![pfx(2), pfx(1), pfx(3)]);
    ra.set_send_mode(c, SendMode::One).unwrap();
    assert_eq!(ra.destinations(s(4), c), vec![pfx(3)]);
}

#[test]
fn agent_answers_only_requests() {
    let mut a = Agent::new(agent_cfg(), Duration::ZERO).unwrap();
    let from = sock("2001:db8::99".parse().unwrap(), 7360);
    for body in [
        Body::Refresh {
            lin6_id: id_a(),
            timestamp: 0,
        },
        Body::Nack {
            offending_type: MsgType::QUERY,
        },
        Body::RegisterAck {
            lin6_id: id_a(),
            granted_lifetime: 1,
            ma_timestamp: 1,
        },
    ] {
        let b = Repr {
            code: Code::OK,
            flags: 0,
            key_id: 0,
            sequence: 1,
            nonce: 1,
            body,
            auth: None,
        }
        .to_bytes(None);
        a.handle_datagram(
            s(0),
            &Datagram {
                src: from,
                dst: ma1(),
                payload: &b,
            },
        );
    }
    assert!(drain_a(&mut a).tx.is_empty());
    assert_eq!(a.stats().drop_unexpected, 3);
}

#[test]
fn lost_ack_retransmission_is_acked_again() {
    let mut a = Agent::new(agent_cfg(), Duration::ZERO).unwrap();
    let mut r = node(id_a(), 1, KEY_A, vec![loc(1, 0, 1)], 24);
    let first = drain_r(&mut r).tx.remove(0);
    to_agent(&mut a, s(0), node_addr(&r), &first);
    let ans = drain_a(&mut a);
    assert_eq!(ans.ev.len(), 1);
    // The ACK is lost; the node retransmits after 1 s (same Sequence and Nonce).
    r.handle_timeout(s(1));
    let again = drain_r(&mut r).tx.remove(0);
    assert_eq!(&again.payload[8..20], &first.payload[8..20]);
    to_agent(&mut a, s(1), node_addr(&r), &again);
    let ans = drain_a(&mut a);
    assert!(ans.ev.is_empty(), "no second registration event");
    assert_eq!(ans.tx[0].payload[2], Code::OK.0);
    assert_eq!(be32(&ans.tx[0].payload, 28), 600);
    assert_eq!(a.stats().retransmissions, 1);
    to_node(&mut r, s(1), ma1(), &ans.tx[0]);
    assert!(matches!(
        drain_r(&mut r).ev[0],
        resolver::Event::Registered { .. }
    ));
}

#[test]
fn deregistration() {
    let mut a = Agent::new(agent_cfg(), Duration::ZERO).unwrap();
    let mut r = node(id_a(), 1, KEY_A, vec![loc(1, 0, 1)], 25);
    register(&mut r, &mut a, s(0));
    drain_r(&mut r);
    r.deregister(s(10));
    let reg = drain_r(&mut r).tx.remove(0);
    assert_eq!(be32(&reg.payload, 32), 0, "lifetime 0");
    to_agent(&mut a, s(10), node_addr(&r), &reg);
    let ans = drain_a(&mut a);
    assert_eq!(
        ans.ev,
        vec![agent::Event::NodeDeregistered { lin6_id: id_a() }]
    );
    assert!(a.mapping(id_a()).is_none());
    to_node(&mut r, s(10), ma1(), &ans.tx[0]);
    assert_eq!(
        drain_r(&mut r).ev,
        vec![resolver::Event::Deregistered { agent: ma1() }]
    );
    assert_eq!(r.reg_state(), RegState::Deregistered);
    assert_eq!(r.poll_timeout(), None);
}

#[test]
fn restarted_node_resyncs_its_sequence_after_replay() {
    let mut a = Agent::new(agent_cfg(), Duration::ZERO).unwrap();
    let mut first = node(id_a(), 1, KEY_A, vec![loc(1, 0, 1)], 26);
    let reg = register(&mut first, &mut a, s(0));
    let last = be32(&reg, 8);
    // The node restarts and its first request carries a Sequence the MA
    // sees as older (last - 5).
    let mut c = node_cfg(id_a(), 1, KEY_A, vec![loc(2, 0, 1)]);
    c.initial_sequence = Some(last.wrapping_sub(6));
    let mut r = Resolver::new(c, ChaCha8Rng::seed_from_u64(27), s(1)).unwrap();
    let mut codes = vec![];
    let mut now = s(1);
    for _ in 0..5 {
        let out = drain_r(&mut r);
        let Some(t) = out.tx.first() else { break };
        to_agent(&mut a, now, node_addr(&r), t);
        let ans = drain_a(&mut a).tx.remove(0);
        codes.push(ans.payload[2]);
        to_node(&mut r, now, ma1(), &ans);
        now += ms(10);
    }
    assert_eq!(codes.first(), Some(&Code::REPLAY.0));
    assert_eq!(codes.last(), Some(&Code::OK.0), "{codes:?}");
    assert_eq!(r.stats().replay_resyncs as usize, codes.len() - 1);
    assert!(matches!(r.reg_state(), RegState::Registered { .. }));
    assert_eq!(
        a.mapping(id_a()).unwrap().locators.as_slice()[0].prefix,
        pfx(2)
    );
}

#[test]
fn authenticated_query() {
    let mut a = Agent::new(agent_cfg(), Duration::ZERO).unwrap();
    let mut rb = node(id_b(), 2, KEY_B, vec![loc(1, 0, 1)], 28);
    register(&mut rb, &mut a, s(0));
    let from = sock("2001:db8:9:0:201:4a00:0:a".parse().unwrap(), 7360); // node A
    let q = Repr {
        code: Code::OK,
        flags: 0,
        key_id: 1,
        sequence: 5,
        nonce: 6,
        body: Body::Query {
            target: id_b(),
            cookie: None,
        },
        auth: Some(lin6_proto::wire::Auth::default()),
    };
    let good = q.to_bytes(Some(KEY_A));
    a.handle_datagram(
        s(1),
        &Datagram {
            src: from,
            dst: ma1(),
            payload: &good,
        },
    );
    let rep = drain_a(&mut a).tx.remove(0);
    assert_eq!(&rep.payload[0..3], &[1, 0x04, 0]);
    assert_eq!(&rep.payload[6..8], &[0, 1]);
    assert!(
        mac_ok(&rep.payload, KEY_A),
        "REPLY signed with the querier's key"
    );
    let bad = q.to_bytes(Some(KEY_B));
    a.handle_datagram(
        s(1),
        &Datagram {
            src: from,
            dst: ma1(),
            payload: &bad,
        },
    );
    let nack = drain_a(&mut a).tx.remove(0);
    assert_eq!(&nack.payload[0..3], &[1, 0x06, Code::AUTH_FAILED.0]);
    assert_eq!(nack.payload[20], 0x03);
}
