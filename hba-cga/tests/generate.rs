//! Generation then verification round trips (RFC 3972 §4 then §5).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test helpers

#[cfg(feature = "std")]
use hba_cga::cga::parallel;
use hba_cga::cga::{self, CgaSearch, Sec};
use hba_cga::sig::{CgaSigner, RsaSigner};
use hba_cga::{Error, VerifyError};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

fn spki(name: &str) -> Vec<u8> {
    let pem = std::fs::read_to_string(format!(
        "{}/tests/vectors/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    RsaSigner::from_pem(&pem).unwrap().public_key_der().unwrap()
}

const PREFIX: [u8; 8] = [0x20, 0x01, 0x0d, 0xb8, 0xca, 0xfe, 0, 1];

#[test]
fn sec0_and_sec1_with_1024_and_2048_bit_keys() {
    for name in ["rsa1024.pem", "rsa2048.pem"] {
        let key = spki(name);
        for s in [Sec::ZERO, Sec::ONE] {
            for seed in 0..3u64 {
                let mut rng = ChaCha20Rng::seed_from_u64(seed);
                let c = cga::generate(&mut rng, PREFIX, s, &key, &[]).unwrap();
                let a = c.address();
                assert_eq!(cga::verify(&a, c.params_bytes()), Ok(s), "{name} sec {s:?}");
                assert_eq!(cga::prefix_of(&a), PREFIX);
                assert_eq!(Sec::of_address(&a), s);
                assert_eq!(a.octets()[8] & 0x03, 0, "u and g bits are zero");
                assert_eq!(c.params().public_key, key);
                // Sec 1 really has 16 zero bits of Hash2.
                let h2 = cga::hash2(&c.params().modifier, &key);
                assert!(cga::hash2_satisfies(&h2, s));
                if s == Sec::ZERO {
                    assert_eq!(c.params().modifier, {
                        let mut r = ChaCha20Rng::seed_from_u64(seed);
                        let mut m = [0u8; 16];
                        rand_core::Rng::fill_bytes(&mut r, &mut m);
                        m
                    });
                }
            }
        }
    }
}

#[test]
fn same_seed_same_cga() {
    let key = spki("rsa1024.pem");
    let a = cga::generate(
        &mut ChaCha20Rng::seed_from_u64(9),
        PREFIX,
        Sec::ONE,
        &key,
        &[],
    )
    .unwrap();
    let b = cga::generate(
        &mut ChaCha20Rng::seed_from_u64(9),
        PREFIX,
        Sec::ONE,
        &key,
        &[],
    )
    .unwrap();
    assert_eq!(a, b);
}

#[test]
fn collisions_walk_through_counts_0_1_2_then_stop() {
    let key = spki("rsa1024.pem");
    let mut c = cga::generate(
        &mut ChaCha20Rng::seed_from_u64(1),
        PREFIX,
        Sec::ZERO,
        &key,
        &[],
    )
    .unwrap();
    let mut seen = vec![c.address()];
    for expect in 1..=2u8 {
        c.report_collision().unwrap();
        assert_eq!(c.params().collision_count, expect);
        assert!(!seen.contains(&c.address()));
        seen.push(c.address());
        assert_eq!(cga::verify(&c.address(), c.params_bytes()), Ok(Sec::ZERO));
        // The old address no longer verifies with the new parameters.
        assert_eq!(
            cga::verify(&seen[0], c.params_bytes()),
            Err(VerifyError::Hash1)
        );
    }
    let before = c.clone();
    assert_eq!(c.report_collision(), Err(Error::TooManyCollisions));
    assert_eq!(c, before);
}

#[test]
fn extensions_are_hashed_and_kept() {
    let key = spki("rsa1024.pem");
    let ext = [0xff, 0xfd, 0x00, 0x02, 0xab, 0xcd];
    let mut s = CgaSearch::new(PREFIX, Sec::ONE, &key, &ext, [1; 16]).unwrap();
    let c = loop {
        if let Some(c) = s.step(5000) {
            break c;
        }
    };
    assert!(c.params_bytes().ends_with(&ext));
    assert_eq!(cga::verify(&c.address(), c.params_bytes()), Ok(Sec::ONE));
    // Dropping the unknown extension changes both hashes.
    let without = &c.params_bytes()[..c.params_bytes().len() - ext.len()];
    assert!(cga::verify(&c.address(), without).is_err());
    assert_eq!(
        CgaSearch::new(PREFIX, Sec::ONE, &key, &ext[..5], [1; 16]).err(),
        Some(Error::BadExtension)
    );
    assert!(CgaSearch::new(PREFIX, Sec::ONE, &key[..10], &[], [1; 16]).is_err());
}

#[cfg(feature = "std")]
#[test]
fn parallel_search_two_threads() {
    let key = spki("rsa2048.pem");
    let c = parallel::generate(
        &mut ChaCha20Rng::seed_from_u64(4),
        PREFIX,
        Sec::ONE,
        &key,
        &[],
        2,
    )
    .unwrap();
    assert_eq!(cga::verify(&c.address(), c.params_bytes()), Ok(Sec::ONE));
}

#[test]
fn sec_2_to_7_verify_from_a_known_modifier() {
    // No search needed to test the verifier on high Sec values: Sec 2+
    // fails on step 7 for a modifier that only satisfies Sec 1.
    let key = spki("rsa1024.pem");
    let c = cga::generate(
        &mut ChaCha20Rng::seed_from_u64(2),
        PREFIX,
        Sec::ONE,
        &key,
        &[],
    )
    .unwrap();
    let h2 = cga::hash2(&c.params().modifier, &key);
    for v in 2..=7u8 {
        let s = Sec::new(v).unwrap();
        let mut o = c.address().octets();
        o[8] = (o[8] & 0x1f) | (v << 5);
        let r = cga::verify(&o.into(), c.params_bytes());
        if cga::hash2_satisfies(&h2, s) {
            assert_eq!(r, Ok(s));
        } else {
            assert_eq!(r, Err(VerifyError::Hash2(v)));
        }
    }
}

/// Sec 2 generation (about 2^32 attempts: minutes). Opt-in: runs only with
/// `HBA_CGA_LONG=1` in the environment (for example
/// `HBA_CGA_LONG=1 cargo test --release -p hba-cga --test generate sec2`),
/// and returns at once otherwise.
#[cfg(feature = "std")]
#[test]
fn sec2_long_run_opt_in() {
    if std::env::var("HBA_CGA_LONG").as_deref() != Ok("1") {
        return;
    }
    let key = spki("rsa1024.pem");
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let c = parallel::generate(
        &mut ChaCha20Rng::seed_from_u64(22),
        PREFIX,
        Sec::TWO,
        &key,
        &[],
        threads,
    )
    .unwrap();
    assert_eq!(cga::verify(&c.address(), c.params_bytes()), Ok(Sec::TWO));
    assert_eq!(&cga::hash2(&c.params().modifier, &key)[..4], &[0, 0, 0, 0]);
}
