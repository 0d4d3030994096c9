//! Replays every stored corpus of the `mip6_*` fuzz targets through the
//! matching body of `mip6_proto::fuzzing`.
#![cfg(feature = "fuzzing")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;

fn replay(target: &str, body: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let data = std::fs::read(entry.unwrap().path()).unwrap();
        body(&data);
        n += 1;
    }
    assert!(n > 0, "empty corpus in {}", dir.display());
}

#[test]
fn packet_walk() {
    replay("mip6_packet_walk", mip6_proto::fuzzing::packet_walk);
}

#[test]
fn mh_roundtrip() {
    replay("mip6_mh_roundtrip", mip6_proto::fuzzing::mh_roundtrip);
}

#[test]
fn transform_mn_output_ro() {
    replay(
        "mip6_transform_mn_output_ro",
        mip6_proto::fuzzing::transform_mn_output_ro,
    );
}

#[test]
fn transform_cn_input_ro() {
    replay(
        "mip6_transform_cn_input_ro",
        mip6_proto::fuzzing::transform_cn_input_ro,
    );
}

#[test]
fn transform_cn_output_ro() {
    replay(
        "mip6_transform_cn_output_ro",
        mip6_proto::fuzzing::transform_cn_output_ro,
    );
}

#[test]
fn transform_mn_input_ro() {
    replay(
        "mip6_transform_mn_input_ro",
        mip6_proto::fuzzing::transform_mn_input_ro,
    );
}

#[test]
fn transform_tunnel() {
    replay(
        "mip6_transform_tunnel",
        mip6_proto::fuzzing::transform_tunnel,
    );
}

#[test]
fn roles_mcoa_auth() {
    replay("mip6_roles_mcoa_auth", mip6_proto::fuzzing::roles_mcoa_auth);
}

#[test]
fn role_mn() {
    replay("mip6_role_mn", mip6_proto::fuzzing::role_mn);
}

#[test]
fn role_ha() {
    replay("mip6_role_ha", mip6_proto::fuzzing::role_ha);
}

#[test]
fn role_cn() {
    replay("mip6_role_cn", mip6_proto::fuzzing::role_cn);
}

/// Every target file in `fuzz/fuzz_targets/mip6_*.rs` has a corpus and a replay here.
#[test]
fn every_target_is_replayed() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/fuzz_targets");
    let src = include_str!("fuzz_corpus.rs");
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let name = e.unwrap().file_name().into_string().unwrap();
        if let Some(t) = name
            .strip_prefix("mip6_")
            .and_then(|s| s.strip_suffix(".rs"))
        {
            assert!(
                src.contains(&format!("\"mip6_{t}\"")),
                "{t} is not replayed"
            );
            n += 1;
        }
    }
    assert_eq!(n, 11);
}
