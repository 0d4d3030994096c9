//! Benchmarks of the hot paths: Hash2 search (1 and 2 threads) next to
//! the raw SHA-1 block rate, Sec 1 generation, verification, RSA sign and
//! verify. Run with `cargo bench -p hba-cga --bench cga`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hba_cga::cga::{self, Hash2Engine, Hash2Search, Sec, parallel::ParallelSearch};
use hba_cga::sig::{self, CgaSigner, RsaKeyLimits, RsaSigner, SEND_TAG};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

fn signer(name: &str) -> RsaSigner {
    let pem = std::fs::read_to_string(format!(
        "{}/tests/vectors/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    RsaSigner::from_pem(&pem).unwrap()
}

const ATTEMPTS: u64 = 1 << 16;

fn hash2(c: &mut Criterion) {
    let spki = signer("rsa1024.pem").public_key_der().unwrap();
    let blocks = Hash2Engine::new(&spki).blocks_per_attempt();
    let seven = Sec::new(7).unwrap();
    let mut g = c.benchmark_group("hash2");
    // Raw SHA-1: the same number of blocks per call as one attempt.
    g.throughput(Throughput::Elements(ATTEMPTS * blocks as u64));
    let buf = vec![[0x5au8; 64]; blocks];
    g.bench_function(BenchmarkId::new("sha1_raw_blocks", blocks), |b| {
        b.iter(|| {
            let mut st = [
                0x6745_2301u32,
                0xEFCD_AB89,
                0x98BA_DCFE,
                0x1032_5476,
                0xC3D2_E1F0,
            ];
            for _ in 0..ATTEMPTS {
                sha1::block_api::compress(&mut st, black_box(&buf));
            }
            black_box(st)
        });
    });
    // Attempts, counted in blocks so the two rates compare directly.
    g.bench_function(BenchmarkId::new("search_blocks_1_thread", blocks), |b| {
        b.iter(|| {
            let mut s = Hash2Search::with_tail(seven, &spki, [1; 16], u128::from(ATTEMPTS));
            black_box(s.step(u64::MAX))
        });
    });
    // The same 2^18 attempts on 1 and 2 threads (counted in blocks).
    g.throughput(Throughput::Elements(4 * ATTEMPTS * blocks as u64));
    g.sample_size(40);
    for threads in [1usize, 2] {
        g.bench_function(BenchmarkId::new("parallel_search_blocks", threads), |b| {
            b.iter(|| {
                let p = ParallelSearch::new(seven, &spki, &[], [1; 16], threads)
                    .with_limit(u128::from(4 * ATTEMPTS));
                black_box(p.run())
            });
        });
    }
    g.finish();
}

fn generation(c: &mut Criterion) {
    let spki = signer("rsa1024.pem").public_key_der().unwrap();
    // Spread over seeds, printed once (criterion reports the mean per run).
    let mut times: Vec<Duration> = (0..64u64)
        .map(|seed| {
            let t = Instant::now();
            let mut rng = ChaCha20Rng::seed_from_u64(seed);
            black_box(
                cga::generate(
                    &mut rng,
                    [0x20, 1, 0xd, 0xb8, 0, 0, 0, 1],
                    Sec::ONE,
                    &spki,
                    &[],
                )
                .unwrap(),
            );
            t.elapsed()
        })
        .collect();
    times.sort();
    eprintln!(
        "sec1 generation over 64 seeds (1 thread): min {:?} p10 {:?} median {:?} p90 {:?} max {:?}",
        times[0], times[6], times[32], times[57], times[63]
    );
    let mut g = c.benchmark_group("generate");
    g.sample_size(30);
    let mut seed = 0u64;
    g.bench_function("sec1_1024bit_1_thread", |b| {
        b.iter(|| {
            seed += 1;
            let mut rng = ChaCha20Rng::seed_from_u64(seed);
            black_box(
                cga::generate(
                    &mut rng,
                    [0x20, 1, 0xd, 0xb8, 0, 0, 0, 1],
                    Sec::ONE,
                    &spki,
                    &[],
                )
                .unwrap(),
            )
        });
    });
    g.finish();
}

fn verification(c: &mut Criterion) {
    // linshim6-cga.json cga-8 (Sec 1, 1024-bit key) and cga-6 (Sec 1, 2048).
    let v: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(format!(
            "{}/tests/vectors/linshim6-cga.json",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap(),
    )
    .unwrap();
    let mut g = c.benchmark_group("verify");
    for id in ["cga-8", "cga-6"] {
        let x = v["cga"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["id"] == id)
            .unwrap();
        let params = hex::decode(x["cga_params"].as_str().unwrap()).unwrap();
        let addr: std::net::Ipv6Addr = x["address"].as_str().unwrap().parse().unwrap();
        assert!(cga::verify(&addr, &params).is_ok());
        g.bench_function(BenchmarkId::new("cga_sec1", id), |b| {
            b.iter(|| black_box(cga::verify(black_box(&addr), black_box(&params))));
        });
    }
    g.finish();
}

fn signatures(c: &mut Criterion) {
    let mut g = c.benchmark_group("rsa");
    let msg = [0x42u8; 200];
    for name in ["rsa1024.pem", "rsa2048.pem"] {
        let k = signer(name);
        let spki = k.public_key_der().unwrap();
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let s = k.sign(&mut rng, &SEND_TAG, &msg).unwrap();
        g.bench_function(BenchmarkId::new("sign", k.bits()), |b| {
            b.iter(|| black_box(k.sign(&mut rng, &SEND_TAG, black_box(&msg)).unwrap()));
        });
        g.bench_function(BenchmarkId::new("verify", k.bits()), |b| {
            b.iter(|| {
                black_box(sig::verify(
                    &spki,
                    &SEND_TAG,
                    black_box(&msg),
                    &s,
                    RsaKeyLimits::DEFAULT,
                ))
            });
        });
    }
    g.finish();
}

criterion_group!(benches, hash2, generation, verification, signatures);
criterion_main!(benches);
