//! Hot paths of the host machine and the data plane: the stateless R1
//! answer to an I1, the verification of an I2 (HBA and CGA locators) with
//! its R2, and the per-packet locator rewriting in both directions.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)] // bench code

use std::hint::black_box;
use std::net::Ipv6Addr;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use hba_cga::cga::{Cga, Sec};
use hba_cga::hba::HbaSet;
use hba_cga::sig::{CgaSigner, RsaSigner};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use shim6_proto::dataplane::{self, TxContext};
use shim6_proto::endpoint::{HostConfig, Shim6Host};
use shim6_proto::event::{Output, RxDatagram};
use shim6_proto::locators::LocalIdentity;
use shim6_proto::wire::{ContextTag, ControlRepr, Message, Options, Shim6Packet};

type Host = Shim6Host<ChaCha20Rng, RsaSigner>;

fn hba(site: u8, n: u8) -> LocalIdentity<RsaSigner> {
    let prefixes: Vec<[u8; 8]> = (0..n)
        .map(|i| [0x20, 1, 0xd, 0xb8, 0, site, 0, i])
        .collect();
    let set = HbaSet::generate(
        &mut ChaCha20Rng::seed_from_u64(u64::from(site)),
        &prefixes,
        Sec::ZERO,
        None,
    )
    .unwrap();
    LocalIdentity::from_hba(&set, 0).unwrap()
}

fn cga(site: u8, n: u8) -> LocalIdentity<RsaSigner> {
    let signer = RsaSigner::from_pem(include_str!("../tests/vectors/rsa1024.pem")).unwrap();
    let spki = signer.public_key_der().unwrap();
    let c = Cga::from_modifier(
        [site; 16],
        [0x20, 1, 0xd, 0xb8, 0, site, 0, 0],
        Sec::ZERO,
        &spki,
        &[],
    )
    .unwrap();
    let extra: Vec<Ipv6Addr> = (1..n)
        .map(|i| Ipv6Addr::new(0x2001, 0xdb8, u16::from(site), u16::from(i), 0, 0, 0, 1))
        .collect();
    LocalIdentity::from_cga(&mut ChaCha20Rng::seed_from_u64(1), &c, signer, &extra).unwrap()
}

fn host(seed: u64, id: LocalIdentity<RsaSigner>) -> Host {
    Shim6Host::new(
        HostConfig::default(),
        ChaCha20Rng::seed_from_u64(seed),
        Duration::ZERO,
        vec![id],
    )
    .unwrap()
}

/// Runs I1, R1 and I2 between fresh hosts and returns B and A's I2.
fn i2_for(a_id: LocalIdentity<RsaSigner>) -> (Host, Ipv6Addr, Ipv6Addr, Vec<u8>) {
    let mut a = host(1, a_id);
    let mut b = host(2, hba(0xb, 2));
    let (ua, ub) = (a.identities()[0].ulid(), b.identities()[0].ulid());
    a.establish(Duration::ZERO, ua, ub).unwrap();
    // Moves one message and returns its octets.
    let step = |from: &mut Host, to: &mut Host| -> Vec<u8> {
        let mut buf = vec![];
        loop {
            if let Output::Transmit(t) = from.poll_output(&mut buf).unwrap() {
                let bytes = buf[buf.len() - t.len..].to_vec();
                to.handle_datagram(
                    Duration::ZERO,
                    &RxDatagram {
                        src: t.src,
                        dst: t.dst,
                        payload: &bytes,
                    },
                )
                .unwrap();
                return bytes;
            }
        }
    };
    step(&mut a, &mut b); // I1 -> B
    step(&mut b, &mut a); // R1 -> A
    let i2 = step(&mut a, &mut b); // I2 -> B (establishes)
    (b, ua, ub, i2)
}

fn bench(c: &mut Criterion) {
    let mut b = host(2, hba(0xb, 2));
    let ub = b.identities()[0].ulid();
    let i1 = {
        let m = ControlRepr {
            next_header: 59,
            message: Message::I1 {
                context_tag: ContextTag::new(7).unwrap(),
                initiator_nonce: 9,
            },
            options: Options::EMPTY,
        };
        let mut v = vec![0u8; m.buffer_len()];
        m.emit(&mut Shim6Packet::new_unchecked(&mut v[..])).unwrap();
        v
    };
    let src: Ipv6Addr = "2001:db8:a::1".parse().unwrap();
    let mut out = Vec::with_capacity(256);
    c.bench_function("I1 -> stateless R1", |bn| {
        bn.iter(|| {
            b.handle_datagram(
                Duration::ZERO,
                &RxDatagram {
                    src,
                    dst: ub,
                    payload: black_box(&i1),
                },
            )
            .unwrap();
            out.clear();
            black_box(b.poll_output(&mut out));
        });
    });

    for (name, id) in [
        ("HBA 5 locators", hba(0xa, 5)),
        ("CGA-1024 5 locators", cga(0xa, 5)),
    ] {
        let (mut b, ua, ub, i2) = i2_for(id);
        let mut out = Vec::with_capacity(2048);
        c.bench_function(&format!("I2 ({name}) verified -> R2"), |bn| {
            bn.iter(|| {
                b.handle_datagram(
                    Duration::ZERO,
                    &RxDatagram {
                        src: ua,
                        dst: ub,
                        payload: black_box(&i2),
                    },
                )
                .unwrap();
                out.clear();
                while b.poll_output(&mut out).is_some() {}
            });
        });
    }

    let ctx = TxContext {
        local_ulid: "2001:db8:a::1".parse().unwrap(),
        peer_ulid: "2001:db8:b::1".parse().unwrap(),
        local_locator: "2001:db8:a:1::1".parse().unwrap(),
        peer_locator: "2001:db8:b:1::1".parse().unwrap(),
        ct_peer: ContextTag::new(0x1234_5678).unwrap(),
    };
    let mut pkt = vec![0u8; 8 + 40 + 1200];
    pkt[8] = 0x60;
    pkt[8 + 4..8 + 6].copy_from_slice(&1200u16.to_be_bytes());
    pkt[8 + 6] = 17;
    pkt[8 + 8..8 + 24].copy_from_slice(&ctx.local_ulid.octets());
    pkt[8 + 24..8 + 40].copy_from_slice(&ctx.peer_ulid.octets());
    let end = pkt.len();
    c.bench_function("data plane outbound + inbound, 1200-octet payload", |bn| {
        bn.iter(|| {
            let s = dataplane::outbound(black_box(&mut pkt), 8, end, &ctx).unwrap();
            let (tag, _) = dataplane::find_tag(&pkt, s, end).unwrap();
            black_box(tag);
            dataplane::inbound(&mut pkt, s, end, ctx.local_ulid, ctx.peer_ulid).unwrap();
        });
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
