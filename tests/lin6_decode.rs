//! `mobsim decode --lin6`: every MA protocol v1 message of the lin6 fuzz
//! corpus (encoded by an independent Python generator) decodes with the
//! spec's field names and values; damaged input reports a problem.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use mobsim::decode::{Input, decode};
use serde_json::{Value, json};

fn corpus(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/fuzz/corpus/lin6_wire/{name}.bin",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn check(name: &str, want: Value) {
    let got = decode(Input::Lin6, &corpus(name));
    assert_eq!(got["problems"], json!([]), "{name}: {got}");
    for (k, v) in want.as_object().unwrap() {
        assert_eq!(&got[k], v, "{name}.{k} in {got}");
    }
}

#[test]
fn every_message_type() {
    check(
        "register",
        json!({"version": 1, "type": 1, "type_name": "REGISTER", "code": 0, "flags": 1,
               "length": 84, "key_id": 1, "sequence": 7, "nonce": "0x1122334455667788",
               "lin6_id": "0201:4a00:0000:0002", "timestamp": 1_700_000_000u32, "lifetime": 600, "n": 2,
               "flag_bits": {"a": true, "m": false},
               "locators": [
                   {"network_prefix": "2001:db8:1::/64", "priority": 0, "weight": 10, "flags": 1, "r": true},
                   {"network_prefix": "2001:db8:2::/64", "priority": 1, "weight": 5, "flags": 1, "r": true}]}),
    );
    let reg = decode(Input::Lin6, &corpus("register"));
    assert_eq!(reg["auth"]["algorithm"], 1);
    assert_eq!(reg["auth"]["mac_length"], 16);
    assert_eq!(reg["auth"]["mac"].as_str().unwrap().len(), 32);
    check(
        "register_ack",
        json!({"type_name": "REGISTER_ACK", "code_name": "OK", "granted_lifetime": 600, "ma_timestamp": 1_700_000_000u32}),
    );
    check(
        "register_ack_auth_failed",
        json!({"code": 1, "code_name": "AUTH_FAILED", "key_id": 0}),
    );
    check(
        "query",
        json!({"type_name": "QUERY", "target_lin6_id": "0201:4a00:0000:0002", "length": 28}),
    );
    check(
        "query_cookie",
        json!({"cookie": "0x0000000000abcdef", "flag_bits": {"c": true}}),
    );
    check(
        "reply",
        json!({"type_name": "REPLY", "ttl": 300, "mapping_timestamp": 1_700_000_000u32, "n": 2}),
    );
    check(
        "reply_negative",
        json!({"code_name": "NO_MAPPING", "ttl": 60, "n": 0, "locators": []}),
    );
    check(
        "refresh",
        json!({"type_name": "REFRESH", "sender_lin6_id": "0201:4a00:0000:0002"}),
    );
    check(
        "nack",
        json!({"type_name": "NACK", "code_name": "MALFORMED", "offending_type": 1, "offending_type_name": "REGISTER"}),
    );
}

#[test]
fn damaged_input_reports_a_problem() {
    let mut b = corpus("register");
    b[5] = 83; // Length one short of the layout
    let got = decode(Input::Lin6, &b);
    assert_eq!(got["problems"].as_array().unwrap().len(), 1);
    assert_eq!(got["type_name"], "REGISTER");
    let got = decode(Input::Lin6, &corpus("bad_version"));
    assert!(got["problems"][0].as_str().unwrap().contains("version"));
}
