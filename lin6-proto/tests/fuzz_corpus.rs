//! Replays every stored corpus file of the lin6 fuzz targets through the
//! target bodies (`lin6_proto::fuzzing`), so the corpora are regression tests.
#![cfg(feature = "fuzzing")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::PathBuf;

fn replay(target: &str, f: fn(&[u8])) {
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
}

#[test]
fn lin6_wire() {
    replay("lin6_wire", lin6_proto::fuzzing::lin6_wire);
}

#[test]
fn lin6_draft() {
    replay("lin6_draft", lin6_proto::fuzzing::lin6_draft);
}

#[test]
fn lin6_dataplane() {
    replay("lin6_dataplane", lin6_proto::fuzzing::lin6_dataplane);
}

#[test]
fn lin6_resolver() {
    replay("lin6_resolver", lin6_proto::fuzzing::lin6_resolver);
}

#[test]
fn lin6_agent() {
    replay("lin6_agent", lin6_proto::fuzzing::lin6_agent);
}

/// The wire corpus holds every message type, each parsing (the seeds are
/// real encodings, not noise).
#[test]
fn wire_corpus_parses() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/lin6_wire");
    let mut types = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        if let Ok(r) = lin6_proto::wire::Repr::parse_bytes(&data) {
            types.insert(r.msg_type().0);
        }
    }
    assert_eq!(
        types.into_iter().collect::<Vec<_>>(),
        vec![1, 2, 3, 4, 5, 6]
    );
}

/// The corpus REGISTER was signed by Python's `hmac` module (an independent
/// HMAC-SHA-256 implementation) with key `k1`; the crate verifies it.
#[test]
fn python_signed_register_verifies() {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/lin6_wire/register.bin");
    let data = std::fs::read(path).unwrap();
    assert!(lin6_proto::wire::verify(&data, b"k1"));
    assert!(!lin6_proto::wire::verify(&data, b"k2"));
    let ack = std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/lin6_wire/register_ack.bin"),
    )
    .unwrap();
    assert!(lin6_proto::wire::verify(&ack, b"k1"));
}
