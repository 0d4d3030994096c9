//! The measures of seed 003 (LinShim6) Figs 7 and 10, for this machine
//! - `negotiation/{hba,cga1024,cga2048}/{2,5,10}`: a whole context
//!   establishment, I1 to R2, both hosts' processing (Fig 7);
//! - `i2/{hba,cga1024}/{1e3,1e5,1e6}`: the responder's processing of one
//!   I2 (validator, locator verification, context creation, R2) with that
//!   many live contexts (Fig 10);
//! - `rewrite/{outbound,inbound}`: the per-packet data plane.
//!
//! Set `SHIM6_BENCH_MAX_CONTEXTS` to bound the largest context count (the
//! 10^6 population takes about a gigabyte and a minute to build).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // bench code

use std::hint::black_box;
use std::net::Ipv6Addr;
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use hba_cga::cga::{Cga, Sec};
use hba_cga::hba::HbaSet;
use hba_cga::sig::{CgaSigner, RsaSigner};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use shim6_proto::dataplane::{self, TxContext};
use shim6_proto::endpoint::{Establish, HostConfig, Shim6Host};
use shim6_proto::event::{Event, Output, RxDatagram};
use shim6_proto::locators::LocalIdentity;
use shim6_proto::wire::ContextTag;

type Host = Shim6Host<ChaCha20Rng, RsaSigner>;

const RSA1024: &str = include_str!("../tests/vectors/rsa1024.pem");
const RSA2048: &str = include_str!("../tests/vectors/rsa2048.pem");

fn prefix(site: u32, i: u16) -> [u8; 8] {
    let s = site.to_be_bytes();
    let [c, d] = i.to_be_bytes();
    [0x20, 0x01, s[0] | 0x0d, s[1], s[2], s[3], c, d]
}

fn hba(site: u32, n: u16, seed: u64) -> LocalIdentity<RsaSigner> {
    let prefixes: Vec<[u8; 8]> = (0..n).map(|i| prefix(site, i)).collect();
    let set = HbaSet::generate(
        &mut ChaCha20Rng::seed_from_u64(seed),
        &prefixes,
        Sec::ZERO,
        None,
    )
    .unwrap();
    LocalIdentity::from_hba(&set, 0).unwrap()
}

fn cga(site: u32, n: u16, pem: &str, seed: u64) -> LocalIdentity<RsaSigner> {
    let signer = RsaSigner::from_pem(pem).unwrap();
    let spki = signer.public_key_der().unwrap();
    let mut modifier = [0u8; 16];
    modifier[8..].copy_from_slice(&seed.to_be_bytes());
    let cga = Cga::from_modifier(modifier, prefix(site, 0), Sec::ZERO, &spki, &[]).unwrap();
    let extra: Vec<Ipv6Addr> = (1..n)
        .map(|i| {
            let mut o = [0u8; 16];
            o[..8].copy_from_slice(&prefix(site, i));
            o[15] = 1;
            Ipv6Addr::from(o)
        })
        .collect();
    LocalIdentity::from_cga(&mut ChaCha20Rng::seed_from_u64(seed), &cga, signer, &extra).unwrap()
}

fn host(id: LocalIdentity<RsaSigner>, seed: u64, max: usize) -> Host {
    let cfg = HostConfig {
        max_contexts: max,
        idle_timeout: None,
        ..HostConfig::default()
    };
    Shim6Host::new(
        cfg,
        ChaCha20Rng::seed_from_u64(seed),
        Duration::ZERO,
        vec![id],
    )
    .unwrap()
}

/// Moves every queued message between the two hosts until both are quiet.
fn pump(a: &mut Host, b: &mut Host) {
    let mut buf = Vec::new();
    loop {
        let mut moved = false;
        for dir in 0..2 {
            let (from, to) = if dir == 0 {
                (&mut *a, &mut *b)
            } else {
                (&mut *b, &mut *a)
            };
            while let Some(o) = from.poll_output(&mut buf) {
                if let Output::Transmit(t) = o {
                    let bytes = &buf[buf.len() - t.len..];
                    let _ = to.handle_datagram(
                        Duration::ZERO,
                        &RxDatagram {
                            src: t.src,
                            dst: t.dst,
                            payload: bytes,
                        },
                    );
                    moved = true;
                }
                buf.clear();
            }
        }
        if !moved {
            return;
        }
    }
}

fn negotiation(c: &mut Criterion) {
    let mut g = c.benchmark_group("negotiation");
    g.sample_size(20);
    for kind in ["hba", "cga1024", "cga2048"] {
        for n in [2u16, 5, 10] {
            let (ia, ib) = match kind {
                "hba" => (hba(0xa, n, 1), hba(0xb, n, 2)),
                "cga1024" => (cga(0xa, n, RSA1024, 1), cga(0xb, n, RSA1024, 2)),
                _ => (cga(0xa, n, RSA2048, 1), cga(0xb, n, RSA2048, 2)),
            };
            let (ua, ub) = (ia.ulid(), ib.ulid());
            g.bench_function(format!("{kind}/{n}"), |bch| {
                bch.iter_batched(
                    || (host(ia.clone(), 1, 16), host(ib.clone(), 2, 16)),
                    |(mut a, mut b)| {
                        a.establish(Duration::ZERO, ua, ub).unwrap();
                        pump(&mut a, &mut b);
                        assert_eq!(a.contexts(), 1);
                        (a, b)
                    },
                    BatchSize::SmallInput,
                )
            });
        }
    }
    g.finish();
}

/// Gives host `b` (the responder) established contexts with the distinct
/// HBA peers number `from..to`.
fn populate(b: &mut Host, ub: Ipv6Addr, from: usize, to: usize) {
    for k in from..to {
        let id = hba(0x10_0000 + k as u32, 2, k as u64);
        let ua = id.ulid();
        let mut a = host(id, k as u64, 4);
        a.establish(Duration::ZERO, ua, ub).unwrap();
        pump(&mut a, b);
    }
}

/// `m` ready I2s for `b`, as (src, dst, bytes): a fresh initiator with
/// identity `id` starts `m` forked contexts (FII 1..=m, RFC 5533 §5.15.4)
/// and gets the responder's R1 for each. The identity's signature is made
/// once, so building them is cheap; the responder still verifies the
/// locators of each I2 in full.
fn ready_i2s(
    b: &mut Host,
    id: &LocalIdentity<RsaSigner>,
    ub: Ipv6Addr,
    m: usize,
) -> Vec<(Ipv6Addr, Ipv6Addr, Vec<u8>)> {
    let ua = id.ulid();
    let mut a = host(id.clone(), m as u64, m + 16);
    let mut out = Vec::with_capacity(m);
    let mut buf = Vec::new();
    let next = |h: &mut Host, buf: &mut Vec<u8>| {
        let Some(Output::Transmit(t)) = h.poll_output(buf) else {
            panic!("no message")
        };
        let bytes = buf[buf.len() - t.len..].to_vec();
        buf.clear();
        (t.src, t.dst, bytes)
    };
    for k in 1..=m {
        a.establish_with(
            Duration::ZERO,
            Establish {
                local_ulid: ua,
                peer_ulid: ub,
                fii: k as u32,
                locators: None,
            },
        )
        .unwrap();
        let (src, dst, i1) = next(&mut a, &mut buf);
        b.handle_datagram(
            Duration::ZERO,
            &RxDatagram {
                src,
                dst,
                payload: &i1,
            },
        )
        .unwrap();
        let (src, dst, r1) = next(b, &mut buf);
        a.handle_datagram(
            Duration::ZERO,
            &RxDatagram {
                src,
                dst,
                payload: &r1,
            },
        )
        .unwrap();
        out.push(next(&mut a, &mut buf));
    }
    out
}

fn i2_processing(c: &mut Criterion) {
    let max: usize = std::env::var("SHIM6_BENCH_MAX_CONTEXTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let idb = hba(0xb, 2, 2);
    let ub = idb.ulid();
    let mut b = host(idb, 2, max + 10_000);
    let initiators = [
        ("hba", hba(0xa, 2, 1)),
        ("cga1024", cga(0xa, 2, RSA1024, 1)),
    ];
    let mut g = c.benchmark_group("i2");
    g.sample_size(30);
    g.measurement_time(Duration::from_secs(3));
    g.warm_up_time(Duration::from_secs(1));
    let mut live = 0usize;
    for target in [1_000usize, 100_000, 1_000_000] {
        if target > max {
            break;
        }
        populate(&mut b, ub, live, target);
        live = target;
        assert_eq!(b.contexts(), live);
        for (kind, id) in &initiators {
            g.bench_function(format!("{kind}/{}", label(target)), |bch| {
                bch.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    let mut left = iters as usize;
                    let mut buf = Vec::new();
                    let mut made = Vec::new();
                    while left > 0 {
                        let n = left.min(500);
                        let i2s = ready_i2s(&mut b, id, ub, n);
                        let t = Instant::now();
                        for (src, dst, bytes) in &i2s {
                            let r = b.handle_datagram(
                                Duration::ZERO,
                                &RxDatagram {
                                    src: *src,
                                    dst: *dst,
                                    payload: bytes,
                                },
                            );
                            black_box(r).unwrap();
                            while let Some(o) = b.poll_output(&mut buf) {
                                if let Output::Event(Event::ContextEstablished(info)) = o {
                                    made.push(info.ct_local);
                                }
                                buf.clear();
                            }
                        }
                        total += t.elapsed();
                        // Back to `target` live contexts.
                        assert_eq!(made.len(), n, "every I2 makes a context");
                        for tag in made.drain(..).flatten() {
                            b.teardown(Duration::ZERO, tag).unwrap();
                        }
                        while b.poll_output(&mut buf).is_some() {
                            buf.clear();
                        }
                        assert_eq!(b.contexts(), live);
                        left -= n;
                    }
                    total
                })
            });
        }
    }
    g.finish();
}

fn label(n: usize) -> &'static str {
    match n {
        1_000 => "1e3",
        100_000 => "1e5",
        _ => "1e6",
    }
}

fn rewrite(c: &mut Criterion) {
    let a: Ipv6Addr = "2001:db8:a::1".parse().unwrap();
    let b: Ipv6Addr = "2001:db8:b::1".parse().unwrap();
    let ctx = TxContext {
        local_ulid: a,
        peer_ulid: b,
        local_locator: "2001:db8:a:1::1".parse().unwrap(),
        peer_locator: "2001:db8:b:1::1".parse().unwrap(),
        ct_peer: ContextTag::new(0x1234_5678).unwrap(),
    };
    // A 100-octet UDP packet between the ULIDs, with 8 octets of headroom.
    let mut pkt = vec![0u8; 8 + 40 + 60];
    pkt[8] = 0x60;
    pkt[8 + 5] = 60;
    pkt[8 + 6] = 17;
    pkt[8 + 7] = 64;
    pkt[8 + 8..8 + 24].copy_from_slice(&a.octets());
    pkt[8 + 24..8 + 40].copy_from_slice(&b.octets());
    let end = pkt.len();
    let mut g = c.benchmark_group("rewrite");
    g.bench_function("outbound", |bch| {
        let mut buf = pkt.clone();
        bch.iter(|| {
            buf.copy_from_slice(&pkt);
            black_box(dataplane::outbound(black_box(&mut buf), 8, end, &ctx).unwrap())
        })
    });
    let mut shimmed = pkt.clone();
    let start = dataplane::outbound(&mut shimmed, 8, end, &ctx).unwrap();
    assert_eq!(start, 0);
    g.bench_function("inbound", |bch| {
        let mut buf = shimmed.clone();
        bch.iter(|| {
            buf.copy_from_slice(&shimmed);
            let (tag, _) = dataplane::find_tag(&buf, 0, end).unwrap();
            black_box(tag);
            black_box(dataplane::inbound(black_box(&mut buf), 0, end, b, a).unwrap())
        })
    });
    g.bench_function("copy_only", |bch| {
        let mut buf = pkt.clone();
        bch.iter(|| {
            buf.copy_from_slice(black_box(&pkt));
            black_box(&buf);
        })
    });
    g.finish();
}

criterion_group!(benches, rewrite, negotiation, i2_processing);
criterion_main!(benches);
