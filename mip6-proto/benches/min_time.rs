//! Minimum-of-batches timing of the same operations as `wire.rs`, robust to
//! other processes sharing the cores: each operation runs in 200 batches of
//! 20 000 iterations and the fastest batch is reported, in nanoseconds and
//! in cycles at the clock rate read from `/proc/cpuinfo` (`cpu MHz`).
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::cast_precision_loss
)]

use core::net::Ipv6Addr;
use std::hint::black_box;
use std::time::Instant;

use mip6_proto::crypto;
use mip6_proto::transform::{self, Span, TunnelEnds};
use mip6_proto::wire::IpProtocol;
use mip6_proto::wire::ipv6::Ipv6Repr;
use mip6_proto::wire::mh::{BuFlags, Message, MhPacket, MhRepr};
use mip6_proto::wire::options::{MobilityOption, Options};

const BATCHES: usize = 200;
const ITERS: usize = 20_000;

fn mhz() -> f64 {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("cpu MHz"))
                .and_then(|l| l.split(':').nth(1))
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or(0.0)
}

fn min_ns(mut f: impl FnMut()) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..BATCHES {
        let t = Instant::now();
        for _ in 0..ITERS {
            f();
        }
        best = best.min(t.elapsed().as_nanos() as f64 / ITERS as f64);
    }
    best
}

fn a(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

fn packet(len: usize, src: Ipv6Addr, dst: Ipv6Addr) -> Vec<u8> {
    let ip = Ipv6Repr {
        src,
        dst,
        next_header: IpProtocol(17),
        payload_len: (len - 40) as u16,
        hop_limit: 64,
        traffic_class: 0,
        flow_label: 0,
    };
    let mut p = vec![0x5a; len];
    ip.emit(&mut p).unwrap();
    p
}

fn main() {
    let mhz = mhz();
    let report = |name: &str, ns: f64| {
        println!("{name:40} {ns:8.1} ns {:8.0} cycles", ns * mhz / 1000.0);
    };
    println!("clock: {mhz} MHz (/proc/cpuinfo), min of {BATCHES} batches x {ITERS}");
    let (hoa, coa, cn, ha) = (
        a("2001:db8:1::100"),
        a("2001:db8:2::200"),
        a("2001:db8:3::300"),
        a("2001:db8:1::1"),
    );
    let opts = [
        MobilityOption::NonceIndices {
            home: 17,
            care_of: 18,
        },
        MobilityOption::AlternateCareOfAddress(coa),
        MobilityOption::BindingAuthorizationData(&[0xab; 12]),
    ];
    let repr = MhRepr {
        payload_proto: 59,
        message: Message::BindingUpdate {
            sequence: 42,
            flags: BuFlags::A,
            lifetime: 105,
        },
        options: Options::List(&opts),
    };
    let mut buf = vec![0u8; repr.buffer_len()];
    repr.emit(&mut MhPacket::new_unchecked(&mut buf[..]), &hoa, &cn)
        .unwrap();
    report(
        "bu3 parse_unverified + iterate options",
        min_ns(|| {
            let p = MhPacket::new_checked(black_box(&buf[..])).unwrap();
            let r = MhRepr::parse_unverified(&p).unwrap();
            black_box(r.options.iter().count());
        }),
    );
    report(
        "bu3 parse with checksum",
        min_ns(|| {
            let p = MhPacket::new_checked(black_box(&buf[..])).unwrap();
            black_box(MhRepr::parse(&p, &hoa, &cn).unwrap());
        }),
    );
    let mut out = vec![0u8; repr.buffer_len()];
    report(
        "bu3 emit with checksum",
        min_ns(|| {
            black_box(&repr)
                .emit(&mut MhPacket::new_unchecked(&mut out[..]), &hoa, &cn)
                .unwrap();
            black_box(&out);
        }),
    );
    let kbm = [7u8; 20];
    report(
        "bu authenticator (HMAC-SHA1)",
        min_ns(|| {
            black_box(crypto::authenticator(
                &kbm,
                &coa,
                &cn,
                black_box(&buf[..buf.len() - 12]),
            ));
        }),
    );

    const LEN: usize = 1400;
    let plain = packet(LEN, hoa, cn);
    let mut p = vec![0u8; LEN + 64];
    let copy = min_ns(|| {
        p[..LEN].copy_from_slice(black_box(&plain));
        black_box(&p);
    });
    report("reference: copy 1400 (restore)", copy);
    let mv24 = min_ns(|| {
        p.copy_within(40..LEN, 64);
        black_box(&p);
    });
    report("reference: memmove 1360 by 24", mv24);
    let t = min_ns(|| {
        p[..LEN].copy_from_slice(&plain);
        black_box(transform::mn_output_ro(&mut p, LEN, coa).unwrap());
    });
    report("path 3 mn_output_ro (incl. restore+move)", t);
    report("  path 3 excluding restore and memmove", t - copy - mv24);

    // Headroom variant: the packet sits after 64 octets; only the 40-octet
    // fixed header moves. Restoring it each time costs one 1400-octet copy.
    let mut fb = vec![0u8; LEN + 64];
    let t = min_ns(|| {
        fb[64..].copy_from_slice(&plain);
        black_box(
            transform::mn_output_ro_front(
                &mut fb,
                Span {
                    start: 64,
                    len: LEN,
                },
                coa,
            )
            .unwrap(),
        );
    });
    report("path 3 mn_output_ro_front (incl. restore)", t);
    report("  path 3 front excluding restore", t - copy);

    let mut with_hao = vec![0u8; LEN + 64];
    with_hao[..LEN].copy_from_slice(&plain);
    let n = transform::mn_output_ro(&mut with_hao, LEN, coa).unwrap();
    report(
        "path 8 cn_input_ro (in place)",
        min_ns(|| {
            black_box(transform::cn_input_ro(&mut with_hao, n, |_, _| true).unwrap());
        }),
    );

    let to_home = packet(LEN, cn, hoa);
    let t = min_ns(|| {
        p[..LEN].copy_from_slice(&to_home);
        black_box(transform::cn_output_ro(&mut p, LEN, coa).unwrap());
    });
    report("path 7 cn_output_ro (incl. restore+move)", t);
    report("  path 7 excluding restore and memmove", t - copy - mv24);

    let mut routed = vec![0u8; LEN + 64];
    routed[..LEN].copy_from_slice(&to_home);
    let rn = transform::cn_output_ro(&mut routed, LEN, coa).unwrap();
    // Path 4 consumes Segments Left: set it back to 1 and swap back each time
    // (two 16-octet writes and one octet, negligible).
    report(
        "path 4 mn_input_ro (in place)",
        min_ns(|| {
            let h = transform::mn_input_ro(&mut routed, rn, |h| *h == hoa).unwrap();
            routed[43] = 1;
            routed.copy_within(48..64, 24);
            routed[48..64].copy_from_slice(&h.octets());
            black_box(&routed);
        }),
    );

    let mv40x2 = min_ns(|| {
        p.copy_within(0..LEN, 40);
        p.copy_within(40..LEN + 40, 0);
        black_box(&p);
    });
    report("reference: memmove 1400 by 40, twice", mv40x2);
    p[..LEN].copy_from_slice(&plain);
    let ends = TunnelEnds {
        src: ha,
        dst: coa,
        hop_limit: 64,
    };
    let t = min_ns(|| {
        let n = transform::encapsulate(&mut p, LEN, &ends).unwrap();
        black_box(transform::mn_tunnel_input(&mut p, n, ha, |_| true).unwrap());
    });
    report("paths 5+2 encapsulate+decapsulate", t);
    report("  paths 5+2 excluding the two memmoves", t - mv40x2);
    let mut fb = vec![0u8; LEN + 64];
    fb[64..].copy_from_slice(&plain);
    report(
        "paths 5+2 front variants (nothing moves)",
        min_ns(|| {
            let s = transform::encapsulate_front(
                &mut fb,
                Span {
                    start: 64,
                    len: LEN,
                },
                &ends,
            )
            .unwrap();
            black_box(transform::decapsulate_front(&mut fb, s, |o, _| o.src == ha).unwrap());
        }),
    );
    let ends = TunnelEnds {
        src: coa,
        dst: ha,
        hop_limit: 64,
    };
    let t = min_ns(|| {
        let n = transform::encapsulate(&mut p, LEN, &ends).unwrap();
        black_box(transform::ha_tunnel_input(&mut p, n, |h, c| *h == hoa && *c == coa).unwrap());
    });
    report("paths 1+6 encapsulate+decapsulate", t);
    report("  paths 1+6 excluding the two memmoves", t - mv40x2);
}
