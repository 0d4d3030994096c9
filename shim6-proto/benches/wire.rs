//! Parse and emit throughput of the Shim6 wire layer over the vector
//! messages (`tests/vectors/handmade.jsonl`).
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)] // bench code

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use shim6_proto::wire::{ControlRepr, Shim6Packet, Shim6Repr};

fn layers() -> Vec<(String, Vec<u8>)> {
    include_str!("../tests/vectors/handmade.jsonl")
        .lines()
        .map(|l| {
            let j: serde_json::Value = serde_json::from_str(l).unwrap();
            let name = j["name"].as_str().unwrap().to_owned();
            (name, hex::decode(j["layer_hex"].as_str().unwrap()).unwrap())
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let all = layers();
    for name in [
        "shim6-i1-0",
        "shim6-i2-1",
        "reap-probe-3",
        "shim6-payload-0",
    ] {
        let (_, bytes) = all.iter().find(|(n, _)| n == name).unwrap();
        c.bench_function(&format!("parse {name}"), |b| {
            b.iter(|| {
                let v = Shim6Packet::new_checked(black_box(&bytes[..])).unwrap();
                let r = Shim6Repr::parse(&v).unwrap();
                // Walk the options, as a receiver does.
                if let Shim6Repr::Control(c) = &r {
                    black_box(c.options.iter().count());
                }
                black_box(r)
            })
        });
        let repr = Shim6Repr::parse(&Shim6Packet::new_checked(&bytes[..]).unwrap()).unwrap();
        let mut out = vec![0u8; repr.buffer_len()];
        c.bench_function(&format!("emit {name}"), |b| {
            b.iter(|| {
                black_box(&repr)
                    .emit(&mut Shim6Packet::new_unchecked(&mut out[..]))
                    .unwrap();
                black_box(&out);
            })
        });
    }
    let (_, i2) = all.iter().find(|(n, _)| n == "shim6-i2-1").unwrap();
    c.bench_function("checksum+options validate shim6-i2-1", |b| {
        b.iter(|| ControlRepr::parse(&Shim6Packet::new_unchecked(black_box(&i2[..]))).is_ok())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
