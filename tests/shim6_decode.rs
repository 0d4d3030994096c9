//! `mobsim decode` for Shim6 and REAP against the hand-built vectors: for
//! every vector, `decode_shim6` on the octets after the IPv6 header gives
//! JSON containing every key and value of the vector's `fields.shim6`, with
//! a valid checksum and no problem; damaged copies report problems.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // test code

use mobsim::decode::shim6::decode_shim6;
use serde_json::{Value, json};

const VECTORS: &str = include_str!("../shim6-proto/tests/vectors/handmade.jsonl");

/// True when `want` is contained in `got`: objects by key (extra keys in
/// `got` allowed), arrays element-wise with equal lengths, scalars equal.
fn contains(got: &Value, want: &Value, path: &str, errs: &mut Vec<String>) {
    match (got, want) {
        (Value::Object(g), Value::Object(w)) => {
            for (k, wv) in w {
                match g.get(k) {
                    Some(gv) => contains(gv, wv, &format!("{path}.{k}"), errs),
                    None => errs.push(format!("{path}.{k}: missing")),
                }
            }
        }
        (Value::Array(g), Value::Array(w)) => {
            if g.len() != w.len() {
                errs.push(format!("{path}: {} elements, want {}", g.len(), w.len()));
            }
            for (i, (gv, wv)) in g.iter().zip(w).enumerate() {
                contains(gv, wv, &format!("{path}[{i}]"), errs);
            }
        }
        (g, w) => {
            if g != w {
                errs.push(format!("{path}: {g} != {w}"));
            }
        }
    }
}

fn vectors() -> Vec<Value> {
    VECTORS
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The octets from the Shim6 header on. The vectors have no extension
/// header before Shim6: the IPv6 next header is 140 itself.
fn shim6_part(v: &Value) -> Vec<u8> {
    let bytes = hex::decode(v["hex"].as_str().unwrap()).unwrap();
    assert_eq!(bytes[6], 140, "{}: next header", v["name"]);
    assert_eq!(v["fields"]["ipv6"]["next_header"], 140);
    bytes[40..].to_vec()
}

#[test]
fn decoder_output_contains_every_vector_field() {
    let vs = vectors();
    assert_eq!(vs.len(), 22);
    let mut failures = Vec::new();
    for v in &vs {
        let name = v["name"].as_str().unwrap();
        let out = decode_shim6(&shim6_part(v)).unwrap();
        let mut errs = Vec::new();
        contains(&out, &v["fields"]["shim6"], "shim6", &mut errs);
        if out["problems"] != json!([]) {
            errs.push(format!("problems: {}", out["problems"]));
        }
        if out["p"] == 0 && out["checksum_valid"] != json!(true) {
            errs.push("checksum_valid is not true".into());
        }
        if !errs.is_empty() {
            failures.push(format!("{name}: {errs:?}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn damaged_messages_report_problems() {
    for v in vectors() {
        let mut bytes = shim6_part(&v);
        let name = v["name"].as_str().unwrap();
        if bytes[2] & 0x80 != 0 {
            // Payload extension header: a non-zero Hdr Ext Len.
            bytes[1] = 1;
            bytes.resize(16, 0);
            let out = decode_shim6(&bytes).unwrap();
            assert_ne!(out["problems"], json!([]), "{name}");
            continue;
        }
        // Flip a bit of the last octet: the checksum fails, fields still shown.
        let last = bytes.len() - 1;
        bytes[last] ^= 0x10;
        let out = decode_shim6(&bytes).unwrap();
        assert_eq!(out["checksum_valid"], json!(false), "{name}");
        assert_eq!(out["problems"], json!(["bad checksum"]), "{name}");
        assert_eq!(out["type"], v["fields"]["shim6"]["type"], "{name}");
        // Cut short: the header is truncated.
        let out = decode_shim6(&bytes[..bytes.len() - 8]).unwrap();
        assert_ne!(out["problems"], json!([]), "{name}");
    }
}

#[test]
fn critical_unknown_option_and_unknown_type_are_reported() {
    // An I1 (context tag 0x010203040506, nonce 0x0a0b0c0d) with option type
    // 0x1234, C=1, 3 octets; checksum by hand: 3b02+0100+0102+0304+0506+0a0b
    // +0c0d+2469+0003+0102+0300 = 0x8394 (no carry), complement 0x7c6b.
    let i1 = hex::decode("3b0201007c6b0102030405060a0b0c0d246900030102030000000000").unwrap();
    let i1 = &i1[..24];
    let out = decode_shim6(i1).unwrap();
    assert_eq!(out["checksum_valid"], json!(true), "{out}");
    assert_eq!(out["options"][0]["name"], "unknown");
    assert_eq!(out["options"][0]["type"], 0x1234);
    assert_eq!(out["options"][0]["critical"], 1);
    assert_eq!(out["options"][0]["data"], "010203");
    assert_eq!(
        out["problems"],
        json!(["critical option not recognised at offset 16"])
    );

    // Unknown type 16, type-specific 5: 3b00+100a+dead = 0x129b7 -> 0x29b8, complement 0xd647.
    let unk = hex::decode("3b00100ad647dead").unwrap();
    let out = decode_shim6(&unk).unwrap();
    assert_eq!(out["checksum_valid"], json!(true), "{out}");
    assert_eq!(out["type_name"], "Unknown");
    assert_eq!(out["type_specific"], 5);
    assert_eq!(out["body"], "dead");
    assert_eq!(out["problems"], json!([]));
}

#[test]
fn every_truncation_and_bit_flip_decodes_without_panic() {
    for v in vectors() {
        let whole = hex::decode(v["hex"].as_str().unwrap()).unwrap();
        let body = shim6_part(&v);
        for n in 0..=body.len() {
            match decode_shim6(&body[..n]) {
                None => assert!(n < 8, "{}: None at {n}", v["name"]),
                Some(out) => {
                    assert!(out["problems"].is_array());
                    // Cut inside the header: a problem is reported.
                    if n < body.len() && out["p"] == 0 {
                        assert_ne!(out["problems"], json!([]), "{} at {n}", v["name"]);
                    }
                }
            }
            // The whole-packet decoder on the truncated packet.
            mobsim::decode::fuzz_decode(&whole[..40 + n]);
        }
        for i in 0..body.len() {
            for bit in 0..8 {
                let mut b = body.clone();
                b[i] ^= 1 << bit;
                let _ = decode_shim6(&b).unwrap().to_string();
            }
        }
    }
}
