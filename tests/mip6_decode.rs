//! `mobsim decode` against the Scapy vectors: for every vector, the decoder's
//! JSON contains every key and value of the vector's `fields`, and reports no
//! problem; a damaged copy reports one.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use serde_json::Value;

const SCAPY: &str = include_str!("../mip6-proto/tests/vectors/scapy-public.jsonl");

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
    SCAPY
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn decoder_output_contains_every_vector_field() {
    let vs = vectors();
    assert_eq!(vs.len(), 199);
    let mut failures = Vec::new();
    for v in &vs {
        let name = v["name"].as_str().unwrap();
        let bytes = hex::decode(v["hex"].as_str().unwrap()).unwrap();
        let out = mobsim::decode::packet::decode_packet(&bytes);
        let mut errs = Vec::new();
        contains(&out, &v["fields"], "", &mut errs);
        if out["problems"] != serde_json::json!([]) {
            errs.push(format!("problems: {}", out["problems"]));
        }
        // The random option combinations of three vectors put the Binding
        // Authorization Data option before others, which RFC 6275 §6.2 forbids.
        let bad_not_last = v["fields"]["mh"]["options"].as_array().is_some_and(|o| {
            o.iter()
                .position(|x| x["type"] == 5)
                .is_some_and(|i| i + 1 != o.len())
        });
        if bad_not_last != out["mh"].get("warnings").is_some() {
            errs.push(format!("warnings: {:?}", out["mh"].get("warnings")));
        }
        // Checksums verify (the pseudo-header rules of RFC 6275 §6.1.1 and RFC 8200 §8.1).
        for k in ["mh", "icmpv6"] {
            if let Some(x) = out.get(k)
                && x["checksum_valid"] != Value::Bool(true)
            {
                errs.push(format!("{k}: checksum_valid is {}", x["checksum_valid"]));
            }
        }
        if !errs.is_empty() {
            failures.push(format!("{name}: {}", errs.join("; ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn bare_mh_decoding_matches_the_vectors() {
    for v in vectors() {
        let Some(mh) = v["fields"].get("mh") else {
            continue;
        };
        let bytes = hex::decode(v["layer_hex"].as_str().unwrap()).unwrap();
        let out = mobsim::decode::mip6::decode_mh(&bytes);
        let mut errs = Vec::new();
        contains(&out, mh, "mh", &mut errs);
        assert!(errs.is_empty(), "{}: {errs:?}", v["name"]);
        assert_eq!(out["problems"], serde_json::json!([]), "{}", v["name"]);
    }
}

#[test]
fn damaged_packets_report_problems() {
    let v = &vectors()[5]; // binding_update-bare
    assert_eq!(v["name"], "binding_update-bare");
    let mut bytes = hex::decode(v["hex"].as_str().unwrap()).unwrap();
    // Flip a bit of the sequence number: the checksum no longer verifies.
    bytes[40 + 7] ^= 1;
    let out = mobsim::decode::packet::decode_packet(&bytes);
    assert_eq!(out["mh"]["checksum_valid"], Value::Bool(false));
    assert!(
        out["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p.as_str().unwrap().contains("checksum"))
    );
    // Every truncation decodes without panicking and reports a problem.
    let good = hex::decode(v["hex"].as_str().unwrap()).unwrap();
    for n in 0..good.len() {
        let out = mobsim::decode::packet::decode_packet(&good[..n]);
        assert!(
            !out["problems"].as_array().unwrap().is_empty(),
            "truncated to {n}"
        );
    }
}

#[test]
fn the_binary_prints_one_object_per_argument() {
    let vs = vectors();
    let a = vs[0]["hex"].as_str().unwrap();
    let b = vs[1]["layer_hex"].as_str().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mobsim"))
        .args(["decode", a, a])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let objs: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(objs.len(), 2);
    assert_eq!(objs[0]["mh"]["type_name"], "binding_refresh_request");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mobsim"))
        .args(["decode", "--mh", b])
        .output()
        .unwrap();
    assert!(out.status.success());
    let obj: Value = serde_json::from_str(String::from_utf8(out.stdout).unwrap().trim()).unwrap();
    assert_eq!(obj["type_name"], "home_test_init");
    assert_eq!(obj["init_cookie"], "8860da135bf96ae4");
}

#[test]
fn decoder_shows_the_extension_options_and_tunnels() {
    use mip6_proto::wire::mh::{Message, MhPacket, MhRepr};
    use mip6_proto::wire::options::{MobilityOption, Options};
    use std::net::{IpAddr, Ipv4Addr};
    let opts = [
        MobilityOption::Ipv4HomeAddress {
            prefix_len: 24,
            p: true,
            address: Ipv4Addr::new(192, 0, 2, 7),
        },
        MobilityOption::NatDetection {
            f: true,
            refresh_time: 110,
        },
        MobilityOption::BindingIdentifier {
            bid: 7,
            status: 0,
            h: false,
            care_of: Some(IpAddr::V6("2001:db8:2::207".parse().unwrap())),
        },
        MobilityOption::Experimental(&[1, 2, 3]),
        MobilityOption::Unknown {
            option_type: 200,
            data: &[9],
        },
    ];
    let repr = MhRepr {
        payload_proto: 59,
        message: Message::BindingUpdate {
            sequence: 1,
            flags: Default::default(),
            lifetime: 1,
        },
        options: Options::List(&opts),
    };
    let mut b = vec![0u8; repr.buffer_len()];
    repr.emit_unchecksummed(&mut MhPacket::new_unchecked(&mut b[..]))
        .unwrap();
    let out = mobsim::decode::mip6::decode_mh(&b);
    let o = &out["options"];
    assert_eq!(o[0]["name"], "ipv4_home_address");
    assert_eq!(o[0]["address"], "192.0.2.7");
    assert_eq!(o[0]["flag_p"], 1);
    assert_eq!(o[1]["refresh_time"], 110);
    assert_eq!(o[2]["care_of_address"], "2001:db8:2::207");
    assert_eq!(o[3]["data"], "010203");
    assert_eq!(o[4]["name"], "unknown");
    assert_eq!(out["problems"], serde_json::json!([]));

    // An unknown MH type is a problem that calls for a Binding Error.
    let out = mobsim::decode::mip6::decode_mh(&[59, 0, 42, 0, 0, 0, 0, 0]);
    assert_eq!(out["type_name"], "unknown");
    assert!(
        out["problems"][0]
            .as_str()
            .unwrap()
            .contains("Binding Error status 2")
    );

    // A tunnelled packet: the inner packet is decoded under "inner".
    let inner = hex::decode(vectors()[0]["hex"].as_str().unwrap()).unwrap();
    let mut outer = vec![0x60, 0, 0, 0];
    outer.extend_from_slice(&(inner.len() as u16).to_be_bytes());
    outer.extend_from_slice(&[41, 64]);
    outer.extend_from_slice(&[0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    outer.extend_from_slice(&[0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
    outer.extend_from_slice(&inner);
    let out = mobsim::decode::packet::decode_packet(&outer);
    assert_eq!(out["ipv6"]["next_header"], 41);
    assert_eq!(out["inner"]["mh"]["type_name"], "binding_refresh_request");
    assert_eq!(out["inner"]["mh"]["checksum_valid"], true);
    assert_eq!(out["problems"], serde_json::json!([]));
}

/// The whole-packet decoder hands next header 140 to the Shim6 decoder: every
/// Shim6 vector's `fields` (fixed header, `shim6`, `upper_hex`) are found too.
#[test]
fn whole_packets_cover_the_shim6_vectors() {
    const SHIM6: &str = include_str!("../shim6-proto/tests/vectors/handmade.jsonl");
    let mut n = 0;
    for l in SHIM6.lines() {
        let v: Value = serde_json::from_str(l).unwrap();
        let bytes = hex::decode(v["hex"].as_str().unwrap()).unwrap();
        let out = mobsim::decode::packet::decode_packet(&bytes);
        let mut errs = Vec::new();
        contains(&out, &v["fields"], "", &mut errs);
        assert!(errs.is_empty(), "{}: {errs:?}", v["name"]);
        assert_eq!(out["problems"], serde_json::json!([]), "{}", v["name"]);
        n += 1;
    }
    assert!(n > 0);
}
