//! Replays the stored corpus of the `decode_any` fuzz target (the decoders
//! of `mobsim decode`); the protocol crates replay their own targets.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // test code

use std::path::Path;

#[test]
fn decode_any_corpus_replays() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/decode_any");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let data = std::fs::read(entry.unwrap().path()).unwrap();
        mobsim::decode::fuzz_decode(&data);
        n += 1;
    }
    assert!(n > 0, "empty corpus in {}", dir.display());
}
