//! Replays every stored fuzz corpus file (`../fuzz/corpus/<target>/`)
//! through its target body, as a regression test.
#![cfg(feature = "fuzzing")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test helpers

use std::path::PathBuf;

fn replay(target: &str, f: fn(&[u8])) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            f(&std::fs::read(&path).unwrap());
            n += 1;
        }
    }
    assert!(n >= 1, "empty corpus {}", dir.display());
}

#[test]
fn cga_params_corpus() {
    replay("cga_params", hba_cga::fuzzing::cga_params);
}

#[test]
fn cga_verify_corpus() {
    replay("cga_verify", hba_cga::fuzzing::cga_verify);
}

#[test]
fn hba_verify_corpus() {
    replay("hba_verify", hba_cga::fuzzing::hba_verify);
}

#[test]
fn corpus_inputs_exercise_the_success_paths() {
    // The seeds are real vectors: all but the negative ones verify, so the
    // targets' post-success invariants do run.
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/hba_verify");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let data = std::fs::read(entry.unwrap().path()).unwrap();
        let addr = std::net::Ipv6Addr::from(<[u8; 16]>::try_from(&data[..16]).unwrap());
        assert!(hba_cga::hba::verify_membership(&addr, &data[16..]).is_ok());
    }
}
