//! Hot paths: per-packet mapping (out and in), mapping-cache lookup at 10^6
//! entries, REGISTER processing at the agent, and the v1 codec.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use core::time::Duration;
use criterion::{Criterion, criterion_group, criterion_main};
use lin6_proto::addr::{AddrConfig, Lin6Id, Prefix};
use lin6_proto::agent::{Agent, AgentConfig, ServiceLevel};
use lin6_proto::cache::{Entry, MappingCache};
use lin6_proto::dataplane::{map_inbound, map_outbound};
use lin6_proto::io::{Datagram, sock};
use lin6_proto::wire::{Auth, Body, Code, LOC_FLAG_UP, LocatorRecord, Locators, Repr};
use std::hint::black_box;
use std::time::Instant;

fn id(n: u64) -> Lin6Id {
    Lin6Id::from_u64(0x0201_4a00_0000_0000 | (n & 0xff_ffff_ffff))
}

fn loc(n: u8) -> LocatorRecord {
    LocatorRecord {
        prefix: Prefix([0x20, 1, 0xd, 0xb8, 0, n, 0, 0]),
        priority: n % 2,
        weight: 1,
        flags: LOC_FLAG_UP,
    }
}

fn cache_with(n: u64) -> MappingCache {
    let mut c = MappingCache::new(n as usize);
    let now = Duration::ZERO;
    for i in 0..n {
        let e = Entry::positive(&[loc(1), loc(2)], 0, now, Duration::from_secs(3600));
        c.insert(now, id(i.wrapping_mul(0x9e37_79b9) & 0xff_ffff_ffff), e)
            .unwrap();
    }
    c
}

fn packet(dst: Lin6Id) -> Vec<u8> {
    let cfg = AddrConfig::default();
    let mut p = vec![0x60, 0, 0, 0, 0, 12, 17, 64];
    p.extend_from_slice(&cfg.generalized_id(id(7)).octets());
    p.extend_from_slice(&cfg.generalized_id(dst).octets());
    p.extend_from_slice(&[0x1c, 0x20, 0x23, 0x28, 0, 12, 0, 0, 1, 2, 3, 4]);
    p
}

fn mapping(c: &mut Criterion) {
    let cfg = AddrConfig::default();
    let own = Prefix([0x20, 1, 0xd, 0xb8, 0, 9, 0, 0]);
    let now = Duration::from_secs(1);
    for n in [16u64, 1_000_000] {
        let cache = cache_with(n);
        let peer = id(5u64.wrapping_mul(0x9e37_79b9) & 0xff_ffff_ffff);
        let orig = packet(peer);
        let mut p = orig.clone();
        c.bench_function(&format!("map_out_and_in/cache_{n}"), |b| {
            b.iter(|| {
                let r = map_outbound(black_box(&mut p), &cfg, own, &cache, now).unwrap();
                let i = map_inbound(black_box(&mut p), &cfg).unwrap();
                black_box((r, i));
            })
        });
        assert_eq!(p, orig);
    }
    let cache = cache_with(16);
    let peer = id(5u64.wrapping_mul(0x9e37_79b9) & 0xff_ffff_ffff);
    let orig = packet(peer);
    let mut p = orig.clone();
    c.bench_function("map_outbound/cache_16", |b| {
        b.iter(|| {
            p[24..32].copy_from_slice(&cfg.lin6_prefix.0);
            black_box(map_outbound(black_box(&mut p), &cfg, own, &cache, now).unwrap())
        })
    });
    let mut q = orig.clone();
    map_outbound(&mut q, &cfg, own, &cache, now).unwrap();
    let wire = q.clone();
    c.bench_function("map_inbound", |b| {
        b.iter(|| {
            q[8..16].copy_from_slice(&wire[8..16]);
            q[24..32].copy_from_slice(&wire[24..32]);
            black_box(map_inbound(black_box(&mut q), &cfg).unwrap())
        })
    });
}

fn cache_lookup(c: &mut Criterion) {
    let n = 1_000_000u64;
    let cache = cache_with(n);
    let now = Duration::from_secs(1);
    let mut i = 0u64;
    c.bench_function("cache_best_locator/1e6_entries", |b| {
        b.iter(|| {
            i = (i + 7919) % n;
            let k = id(i.wrapping_mul(0x9e37_79b9) & 0xff_ffff_ffff);
            black_box(cache.best_locator(now, black_box(k)))
        })
    });
}

fn agent_register(c: &mut Criterion) {
    let mut cfg = AgentConfig::new();
    let node = id(1);
    let key = b"0123456789abcdef0123456789abcdef".to_vec();
    cfg.nodes.push((node, ServiceLevel::PREMIUM));
    cfg.keys.push((node, 1, key.clone()));
    cfg.rate_limit = u32::MAX;
    let mut agent = Agent::new(cfg, Duration::ZERO).unwrap();
    let src = sock("2001:db8:1:0:201:4a00:0:1".parse().unwrap(), 7360);
    let dst = sock("2001:db8:f::1".parse().unwrap(), 7360);
    let locs = Locators::from_slice(&[loc(1), loc(2)]).unwrap();
    let mut seq = 0u32;
    c.bench_function("agent_register/2_locators_signed", |b| {
        b.iter_custom(|iters| {
            let msgs: Vec<Vec<u8>> = (0..iters)
                .map(|_| {
                    seq = seq.wrapping_add(1);
                    Repr {
                        code: Code::OK,
                        flags: 1,
                        key_id: 1,
                        sequence: seq,
                        nonce: u64::from(seq),
                        body: Body::Register {
                            lin6_id: node,
                            timestamp: 0,
                            lifetime: 600,
                            locators: locs,
                        },
                        auth: Some(Auth::default()),
                    }
                    .to_bytes(Some(&key))
                })
                .collect();
            let start = Instant::now();
            for m in &msgs {
                agent.handle_datagram(
                    Duration::ZERO,
                    &Datagram {
                        src,
                        dst,
                        payload: m,
                    },
                );
                while let Some(o) = agent.poll_output() {
                    black_box(o);
                }
            }
            start.elapsed()
        })
    });
    assert!(agent.mapping(node).is_some());
}

fn codec(c: &mut Criterion) {
    let locs = Locators::from_slice(&[loc(1), loc(2), loc(3)]).unwrap();
    let r = Repr {
        code: Code::OK,
        flags: 0,
        key_id: 0,
        sequence: 1,
        nonce: 2,
        body: Body::Reply {
            lin6_id: id(1),
            mapping_timestamp: 3,
            ttl: 300,
            locators: locs,
        },
        auth: None,
    };
    let b = r.to_bytes(None);
    c.bench_function("wire_parse/reply_3_locators", |bn| {
        bn.iter(|| black_box(Repr::parse_bytes(black_box(&b)).unwrap()))
    });
}

criterion_group!(benches, mapping, cache_lookup, agent_register, codec);
criterion_main!(benches);
