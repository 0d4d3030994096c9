//! Replays every stored corpus file of the shim6 fuzz targets through the
//! target bodies (`shim6_proto::fuzzing`), so the corpora are regression tests.
#![cfg(feature = "fuzzing")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // test code

use std::path::PathBuf;

fn replay(target: &str, f: fn(&[u8])) -> usize {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_file() {
            let data = std::fs::read(&path).unwrap();
            f(&data);
            n += 1;
        }
    }
    assert!(n > 0, "corpus {target} is empty");
    n
}

#[test]
fn shim6_ctrl() {
    // 22 vectors plus the hand-made edge cases.
    assert!(replay("shim6_ctrl", shim6_proto::fuzzing::shim6_ctrl) >= 22);
}

#[test]
fn shim6_host() {
    assert!(replay("shim6_host", shim6_proto::fuzzing::shim6_host) > 0);
}
