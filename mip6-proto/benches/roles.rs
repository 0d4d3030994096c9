//! Role machine benchmarks: correspondent Binding Update processing (with
//! the authenticator check), the home agent's binding cache at 10^6
//! entries (bytes per entry, lookup, registration), the home agent with
//! two BIDs per home address (RFC 5648) and Binding Acknowledgement
//! processing at the mobile node.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // bench code

use std::alloc::System;
use std::hint::black_box;
use std::net::Ipv6Addr;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use mip6_proto::cn::{CnConfig, Correspondent};
use mip6_proto::crypto;
use mip6_proto::event::{Output, RxDatagram};
use mip6_proto::ha::{HaConfig, HomeAgent};
use mip6_proto::mn::{MnConfig, MobileNode};
use mip6_proto::movement::Movement;
use mip6_proto::wire::mh::{BaFlags, BaStatus, BuFlags, Message, MhPacket, MhRepr};
use mip6_proto::wire::options::{MobilityOption, Options};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

fn a(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

fn drain<F: FnMut(&mut Vec<u8>) -> Option<Output>>(mut f: F, buf: &mut Vec<u8>) {
    loop {
        buf.clear();
        if f(buf).is_none() {
            return;
        }
    }
}

fn cn_bu(c: &mut Criterion) {
    let cn_addr = a("2001:db8:9::9");
    let hoa = a("2001:db8:1::100");
    let coa = a("2001:db8:2::200");
    let mut cn = Correspondent::new(
        CnConfig::default(),
        ChaCha20Rng::seed_from_u64(1),
        Duration::ZERO,
    )
    .unwrap();
    // Return routability once, by hand.
    let mut buf = Vec::new();
    let emit = |m: Message<'_>, s: Ipv6Addr| {
        let r = MhRepr::new(m);
        let mut b = vec![0u8; r.buffer_len()];
        r.emit(&mut MhPacket::new_unchecked(&mut b[..]), &s, &cn_addr)
            .unwrap();
        b
    };
    let hoti = emit(Message::HomeTestInit { cookie: [1; 8] }, hoa);
    let coti = emit(Message::CareOfTestInit { cookie: [2; 8] }, coa);
    let rx =
        |src, hao, p: &[u8]| -> (Ipv6Addr, Option<Ipv6Addr>, Vec<u8>) { (src, hao, p.to_vec()) };
    let _ = rx;
    cn.handle_datagram(
        Duration::ZERO,
        &RxDatagram {
            src: hoa,
            dst: cn_addr,
            hao: None,
            rh2: None,
            tunnelled: false,
            next_header: 135,
            payload: &hoti,
        },
    )
    .unwrap();
    cn.handle_datagram(
        Duration::ZERO,
        &RxDatagram {
            src: coa,
            dst: cn_addr,
            hao: None,
            rh2: None,
            tunnelled: false,
            next_header: 135,
            payload: &coti,
        },
    )
    .unwrap();
    let mut toks = Vec::new();
    loop {
        buf.clear();
        match cn.poll_output(&mut buf) {
            Some(Output::Transmit(_)) => {
                let r =
                    MhRepr::parse_unverified(&MhPacket::new_checked(&buf[..]).unwrap()).unwrap();
                match r.message {
                    Message::HomeTest {
                        nonce_index, token, ..
                    }
                    | Message::CareOfTest {
                        nonce_index, token, ..
                    } => toks.push((nonce_index, token)),
                    _ => {}
                }
            }
            Some(_) => {}
            None => break,
        }
    }
    let k = crypto::kbm(&toks[0].1, Some(&toks[1].1));
    let bus: Vec<Vec<u8>> = (1..=60_000u16)
        .map(|seq| {
            let zero = [0u8; 12];
            let opts = [
                MobilityOption::NonceIndices {
                    home: toks[0].0,
                    care_of: toks[1].0,
                },
                MobilityOption::BindingAuthorizationData(&zero),
            ];
            let r = MhRepr {
                payload_proto: 59,
                message: Message::BindingUpdate {
                    sequence: seq,
                    flags: BuFlags::A,
                    lifetime: 100,
                },
                options: Options::List(&opts),
            };
            let mut b = vec![0u8; r.buffer_len()];
            r.emit_unchecksummed(&mut MhPacket::new_unchecked(&mut b[..]))
                .unwrap();
            assert!(crypto::sign_mh(&mut b, &k, &coa, &cn_addr));
            MhPacket::new_unchecked(&mut b[..]).fill_checksum(&hoa, &cn_addr);
            b
        })
        .collect();
    let mut i = 0usize;
    c.bench_function("cn_binding_update_with_authenticator", |bch| {
        bch.iter(|| {
            let b = &bus[i % bus.len()];
            i += 1;
            if i.is_multiple_of(bus.len()) {
                // Start over with a fresh cache so sequence numbers grow again.
                cn = Correspondent::new(
                    CnConfig::default(),
                    ChaCha20Rng::seed_from_u64(1),
                    Duration::ZERO,
                )
                .unwrap();
            }
            let _ = black_box(cn.handle_datagram(
                Duration::ZERO,
                &RxDatagram {
                    src: coa,
                    dst: cn_addr,
                    hao: Some(hoa),
                    rh2: None,
                    tunnelled: false,
                    next_header: 135,
                    payload: b,
                },
            ));
            drain(|x| cn.poll_output(x), &mut buf);
        })
    });
}

fn home(i: u32) -> Ipv6Addr {
    Ipv6Addr::from(u128::from(a("2001:db8:1::")) | (u128::from(i) + 0x1000))
}

fn ha_bu(seq: u16, hoa: Ipv6Addr, ha: Ipv6Addr) -> Vec<u8> {
    let opts = [MobilityOption::AlternateCareOfAddress(a("2001:db8:2::200"))];
    let r = MhRepr {
        payload_proto: 59,
        message: Message::BindingUpdate {
            sequence: seq,
            flags: BuFlags::A | BuFlags::H,
            lifetime: 900,
        },
        options: Options::List(&opts),
    };
    let mut b = vec![0u8; r.buffer_len()];
    r.emit(&mut MhPacket::new_unchecked(&mut b[..]), &hoa, &ha)
        .unwrap();
    b
}

fn ha_cache(c: &mut Criterion) {
    const N: u32 = 1_000_000;
    let ha_addr = a("2001:db8:1::1");
    let mut cfg = HaConfig::new(ha_addr, a("2001:db8:1::"), 64);
    cfg.dad = false;
    cfg.max_bindings = N as usize + 10;
    let coa = a("2001:db8:2::200");
    let mut buf = Vec::new();
    let region = Region::new(GLOBAL);
    let mut ha = HomeAgent::new(cfg, ChaCha20Rng::seed_from_u64(2), Duration::ZERO).unwrap();
    for i in 0..N {
        let h = home(i);
        let b = ha_bu(1, h, ha_addr);
        ha.handle_datagram(
            Duration::ZERO,
            &RxDatagram {
                src: coa,
                dst: ha_addr,
                hao: Some(h),
                rh2: None,
                tunnelled: false,
                next_header: 135,
                payload: &b,
            },
        )
        .unwrap();
        drain(|x| ha.poll_output(x), &mut buf);
    }
    let st = region.change();
    let live = st.bytes_allocated as i64 - st.bytes_deallocated as i64;
    println!(
        "ha binding cache: {} entries, {} bytes live, {:.1} bytes per entry",
        ha.bindings(),
        live,
        live as f64 / f64::from(N)
    );
    let mut x: u32 = 12345;
    c.bench_function("ha_lookup_1e6", |bch| {
        bch.iter(|| {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            black_box(ha.lookup(home(x % N)))
        })
    });
    // Baselines from the same run: what a lookup at 10^6 entries costs on
    // this machine without the home agent around it. A bare hashbrown map
    // of home address -> care-of address (the least a binding cache can
    // hold), and one dependent random load from 256 MB (the memory
    // latency every lookup in a table that size pays at least once).
    {
        let mut bare: hashbrown::HashMap<Ipv6Addr, Ipv6Addr, foldhash::fast::FixedState> =
            hashbrown::HashMap::with_hasher(foldhash::fast::FixedState::with_seed(7));
        for i in 0..N {
            bare.insert(home(i), coa);
        }
        let mut x: u32 = 12345;
        c.bench_function("baseline_hashbrown_lookup_1e6", |bch| {
            bch.iter(|| {
                x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                black_box(bare.get(&home(x % N)).copied())
            })
        });
    }
    {
        // A random cycle through 256 MB (Sattolo's algorithm): each load's
        // address is the previous load's value, so loads cannot overlap
        // and one iteration costs one full memory latency.
        const WORDS: usize = 32 << 20;
        let mut mem: Vec<u64> = (0..WORDS as u64).collect();
        let mut r: u64 = 0x9e37_79b9_7f4a_7c15;
        for i in (1..WORDS).rev() {
            r ^= r << 13;
            r ^= r >> 7;
            r ^= r << 17;
            let j = (r % i as u64) as usize;
            mem.swap(i, j);
        }
        let mut at = 0usize;
        c.bench_function("baseline_dependent_load_256mb", |bch| {
            bch.iter(|| {
                at = mem[at] as usize;
                black_box(at)
            })
        });
    }
    let refresh: Vec<Vec<u8>> = (0..4096u32)
        .map(|i| ha_bu(2, home(i * 97 % N), ha_addr))
        .collect();
    let mut j = 0usize;
    let mut seq_round = 2u16;
    c.bench_function("ha_registration_refresh_1e6", |bch| {
        bch.iter(|| {
            if j.is_multiple_of(refresh.len()) && j > 0 {
                seq_round = seq_round.wrapping_add(1);
            }
            let i = (j % refresh.len()) as u32;
            j += 1;
            let h = home(i * 97 % N);
            let mut b = refresh[i as usize].clone();
            b[6..8].copy_from_slice(&seq_round.to_be_bytes());
            MhPacket::new_unchecked(&mut b[..]).fill_checksum(&h, &ha_addr);
            let _ = black_box(ha.handle_datagram(
                Duration::ZERO,
                &RxDatagram {
                    src: coa,
                    dst: ha_addr,
                    hao: Some(h),
                    rh2: None,
                    tunnelled: false,
                    next_header: 135,
                    payload: &b,
                },
            ));
            drain(|x| ha.poll_output(x), &mut buf);
        })
    });
}

fn rx_from(coa: Ipv6Addr, ha: Ipv6Addr, h: Ipv6Addr, b: &[u8]) -> RxDatagram<'_> {
    RxDatagram {
        src: coa,
        dst: ha,
        hao: Some(h),
        rh2: None,
        tunnelled: false,
        next_header: 135,
        payload: b,
    }
}

fn mcoa_bu(seq: u16, hoa: Ipv6Addr, ha: Ipv6Addr, with_coa: bool) -> Vec<u8> {
    let c1 = a("2001:db8:2::200");
    let c2 = a("2001:db8:3::300");
    let opts = [
        MobilityOption::BindingIdentifier {
            bid: 1,
            status: 0,
            h: false,
            care_of: with_coa.then_some(std::net::IpAddr::V6(c1)),
        },
        MobilityOption::BindingIdentifier {
            bid: 2,
            status: 0,
            h: false,
            care_of: with_coa.then_some(std::net::IpAddr::V6(c2)),
        },
    ];
    let r = MhRepr {
        payload_proto: 59,
        message: Message::BindingUpdate {
            sequence: seq,
            flags: BuFlags::A | BuFlags::H | BuFlags::O,
            lifetime: 900,
        },
        options: Options::List(&opts),
    };
    let mut b = vec![0u8; r.buffer_len()];
    r.emit(&mut MhPacket::new_unchecked(&mut b[..]), &hoa, &ha)
        .unwrap();
    b
}

/// RFC 5648 at the home agent: bytes per home address with two BIDs, and
/// a bulk refresh of two BIDs.
fn ha_mcoa(c: &mut Criterion) {
    const N: u32 = 100_000;
    let ha_addr = a("2001:db8:1::1");
    let mut cfg = HaConfig::new(ha_addr, a("2001:db8:1::"), 64);
    cfg.dad = false;
    cfg.max_bindings = N as usize + 10;
    let coa = a("2001:db8:2::200");
    let mut buf = Vec::new();
    let region = Region::new(GLOBAL);
    let mut ha = HomeAgent::new(cfg, ChaCha20Rng::seed_from_u64(2), Duration::ZERO).unwrap();
    for i in 0..N {
        let h = home(i);
        let b = mcoa_bu(1, h, ha_addr, true);
        ha.handle_datagram(Duration::ZERO, &rx_from(coa, ha_addr, h, &b))
            .unwrap();
        drain(|x| ha.poll_output(x), &mut buf);
    }
    let st = region.change();
    let live = st.bytes_allocated as i64 - st.bytes_deallocated as i64;
    println!(
        "ha mcoa: {} home addresses, {} BID bindings, {:.1} bytes per home address",
        ha.bindings(),
        ha.bid_bindings(),
        live as f64 / f64::from(N)
    );
    let mut seq = 2u16;
    let mut j = 0u32;
    c.bench_function("ha_mcoa_bulk_refresh_2_bids", |bch| {
        bch.iter(|| {
            let h = home(j % N);
            j = j.wrapping_add(1);
            if j.is_multiple_of(N) {
                seq = seq.wrapping_add(1);
            }
            let b = mcoa_bu(seq, h, ha_addr, false);
            let _ = black_box(ha.handle_datagram(Duration::ZERO, &rx_from(coa, ha_addr, h, &b)));
            drain(|x| ha.poll_output(x), &mut buf);
        })
    });
}

fn mn_ba(c: &mut Criterion) {
    let hoa = a("2001:db8:1::100");
    let ha = a("2001:db8:1::1");
    let mut buf = Vec::new();
    c.bench_function("mn_binding_ack_processing", |bch| {
        bch.iter_batched(
            || {
                let mut mn = MobileNode::new(
                    MnConfig::new(hoa, 64, Some(ha)),
                    ChaCha20Rng::seed_from_u64(3),
                    Duration::ZERO,
                )
                .unwrap();
                mn.handle_movement(
                    Duration::ZERO,
                    Movement::Moved {
                        home: hoa,
                        care_of: a("2001:db8:2::200"),
                        iface: 1,
                        bid: None,
                    },
                );
                let mut b = Vec::new();
                while mn.poll_output(&mut b).is_some() {}
                let seq = mn.home_entry().unwrap().seq;
                let r = MhRepr::new(Message::BindingAck {
                    status: BaStatus::ACCEPTED,
                    flags: BaFlags(0),
                    sequence: seq,
                    lifetime: 10,
                });
                let mut ba = vec![0u8; r.buffer_len()];
                r.emit(&mut MhPacket::new_unchecked(&mut ba[..]), &ha, &hoa)
                    .unwrap();
                (mn, ba)
            },
            |(mut mn, ba)| {
                mn.handle_datagram(
                    Duration::ZERO,
                    &RxDatagram {
                        src: ha,
                        dst: hoa,
                        hao: None,
                        rh2: Some(hoa),
                        tunnelled: false,
                        next_header: 135,
                        payload: &ba,
                    },
                )
                .unwrap();
                drain(|x| mn.poll_output(x), &mut buf);
                mn
            },
            BatchSize::SmallInput,
        )
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = cn_bu, ha_cache, ha_mcoa, mn_ba
}
criterion_main!(benches);
