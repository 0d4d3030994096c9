//! Hot paths of the wire layer, the return-routability authenticator and
//! each data-plane transform on a 1400-octet packet.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use core::net::Ipv6Addr;
use std::hint::black_box;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use mip6_proto::crypto;
use mip6_proto::transform::{self, TunnelEnds};
use mip6_proto::wire::IpProtocol;
use mip6_proto::wire::ipv6::Ipv6Repr;
use mip6_proto::wire::mh::{BuFlags, Message, MhPacket, MhRepr};
use mip6_proto::wire::options::{MobilityOption, Options};

fn a(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

const OPTS: [MobilityOption<'static>; 3] = [
    MobilityOption::NonceIndices {
        home: 17,
        care_of: 18,
    },
    MobilityOption::AlternateCareOfAddress(Ipv6Addr::new(0x2001, 0xdb8, 2, 0, 0, 0, 0, 0x200)),
    MobilityOption::BindingAuthorizationData(&[0xab; 12]),
];

fn bu() -> MhRepr<'static> {
    MhRepr {
        payload_proto: 59,
        message: Message::BindingUpdate {
            sequence: 42,
            flags: BuFlags::A,
            lifetime: 105,
        },
        options: Options::List(&OPTS),
    }
}

fn packet(len: usize, nh: u8, src: Ipv6Addr, dst: Ipv6Addr) -> Vec<u8> {
    let ip = Ipv6Repr {
        src,
        dst,
        next_header: IpProtocol(nh),
        payload_len: (len - 40) as u16,
        hop_limit: 64,
        traffic_class: 0,
        flow_label: 0,
    };
    let mut p = vec![0x5a; len];
    ip.emit(&mut p).unwrap();
    p
}

fn wire(c: &mut Criterion) {
    let (hoa, cn) = (a("2001:db8:1::100"), a("2001:db8:3::300"));
    let repr = bu();
    let mut buf = vec![0u8; repr.buffer_len()];
    repr.emit(&mut MhPacket::new_unchecked(&mut buf[..]), &hoa, &cn)
        .unwrap();

    c.bench_function("bu3_parse_unverified_and_iterate", |b| {
        b.iter(|| {
            let p = MhPacket::new_checked(black_box(&buf[..])).unwrap();
            let r = MhRepr::parse_unverified(&p).unwrap();
            black_box(r.options.iter().count())
        })
    });
    c.bench_function("bu3_parse_with_checksum", |b| {
        b.iter(|| {
            let p = MhPacket::new_checked(black_box(&buf[..])).unwrap();
            black_box(MhRepr::parse(&p, &hoa, &cn).unwrap())
        })
    });
    let mut out = vec![0u8; repr.buffer_len()];
    c.bench_function("bu3_emit_with_checksum", |b| {
        b.iter(|| {
            black_box(&repr)
                .emit(&mut MhPacket::new_unchecked(&mut out[..]), &hoa, &cn)
                .unwrap();
            black_box(&out);
        })
    });
    let kbm = [7u8; 20];
    let coa = a("2001:db8:2::200");
    c.bench_function("bu_authenticator", |b| {
        b.iter(|| {
            black_box(crypto::authenticator(
                &kbm,
                &coa,
                &cn,
                black_box(&buf[..buf.len() - 12]),
            ))
        })
    });
}

fn transforms(c: &mut Criterion) {
    let (hoa, coa, cn, ha) = (
        a("2001:db8:1::100"),
        a("2001:db8:2::200"),
        a("2001:db8:3::300"),
        a("2001:db8:1::1"),
    );
    const LEN: usize = 1400;
    // The unavoidable memmove, measured alone for reference.
    c.bench_function("memmove_1400_by_24", |b| {
        let mut p = vec![0u8; LEN + 64];
        b.iter(|| {
            p.copy_within(40..LEN, 64);
            black_box(&p);
        })
    });
    c.bench_function("copy_1400_setup_reference", |b| {
        let src = packet(LEN, 17, hoa, cn);
        let mut p = vec![0u8; LEN + 64];
        b.iter(|| {
            p[..LEN].copy_from_slice(black_box(&src));
            black_box(&p);
        })
    });
    // Path 3. Each iteration restores the 1400-octet original with one copy
    // (measured above as copy_1400_setup_reference) and inserts the option.
    let plain = packet(LEN, 17, hoa, cn);
    c.bench_function("path3_mn_output_ro_1400", |b| {
        let mut p = vec![0u8; LEN + 64];
        b.iter(|| {
            p[..LEN].copy_from_slice(&plain);
            black_box(transform::mn_output_ro(&mut p, LEN, coa).unwrap())
        })
    });
    // Path 8: swap in place; swapping again restores, so no copy is needed.
    let mut with_hao = vec![0u8; LEN + 64];
    with_hao[..LEN].copy_from_slice(&packet(LEN, 17, hoa, cn));
    let n = transform::mn_output_ro(&mut with_hao, LEN, coa).unwrap();
    c.bench_function("path8_cn_input_ro_1424", |b| {
        b.iter(|| black_box(transform::cn_input_ro(&mut with_hao, n, |_, _| true).unwrap()))
    });
    // Path 7 (copy + insert) and path 4 (batched: it consumes Segments Left).
    let to_home = packet(LEN, 17, cn, hoa);
    c.bench_function("path7_cn_output_ro_1400", |b| {
        let mut p = vec![0u8; LEN + 64];
        b.iter(|| {
            p[..LEN].copy_from_slice(&to_home);
            black_box(transform::cn_output_ro(&mut p, LEN, coa).unwrap())
        })
    });
    let mut routed = vec![0u8; LEN + 64];
    routed[..LEN].copy_from_slice(&to_home);
    let rn = transform::cn_output_ro(&mut routed, LEN, coa).unwrap();
    c.bench_function("path4_mn_input_ro_1424", |b| {
        b.iter_batched_ref(
            || routed.clone(),
            |p| black_box(transform::mn_input_ro(p, rn, |h| *h == hoa).unwrap()),
            BatchSize::SmallInput,
        )
    });
    // Paths 1/5 and 2/6: encapsulate then decapsulate the same buffer (round trip).
    let ends = TunnelEnds {
        src: ha,
        dst: coa,
        hop_limit: 64,
    };
    c.bench_function("path5_encap_plus_path2_decap_1400", |b| {
        let mut p = vec![0u8; LEN + 64];
        p[..LEN].copy_from_slice(&plain);
        b.iter(|| {
            let n = transform::encapsulate(&mut p, LEN, &ends).unwrap();
            black_box(transform::mn_tunnel_input(&mut p, n, ha, |_| true).unwrap())
        })
    });
    c.bench_function("path1_encap_plus_path6_decap_1400", |b| {
        let mut p = vec![0u8; LEN + 64];
        p[..LEN].copy_from_slice(&plain);
        let ends = TunnelEnds {
            src: coa,
            dst: ha,
            hop_limit: 64,
        };
        b.iter(|| {
            let n = transform::encapsulate(&mut p, LEN, &ends).unwrap();
            black_box(transform::ha_tunnel_input(&mut p, n, |h, c| *h == hoa && *c == coa).unwrap())
        })
    });
    c.bench_function("memmove_1400_by_40_twice_reference", |b| {
        let mut p = vec![0u8; LEN + 64];
        b.iter(|| {
            p.copy_within(0..LEN, 40);
            p.copy_within(40..LEN + 40, 0);
            black_box(&p);
        })
    });
}

criterion_group!(benches, wire, transforms);
criterion_main!(benches);
