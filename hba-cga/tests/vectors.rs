//! The independent CGA and HBA vectors (tests/vectors/, see its README).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test helpers

use std::net::Ipv6Addr;

use hba_cga::cga::{self, Cga, CgaSearch, Hash2Search, Sec};
use hba_cga::hba::{self, HbaKey, HbaSearch, HbaSet, MultiPrefixExt};
use hba_cga::wire::{CgaParams, CgaParamsRepr};
use hba_cga::{HbaVerifyError, VerifyError};
use serde_json::Value;

fn load(name: &str) -> Value {
    let path = format!("{}/tests/vectors/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn h(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap()).unwrap()
}

fn arr<const N: usize>(v: &Value) -> [u8; N] {
    h(v).try_into().unwrap()
}

fn addr(v: &Value) -> Ipv6Addr {
    v.as_str().unwrap().parse().unwrap()
}

fn sec(v: &Value) -> Sec {
    Sec::new(u8::try_from(v.as_u64().unwrap()).unwrap()).unwrap()
}

fn cga_vectors() -> Vec<Value> {
    load("linshim6-cga.json")["cga"].as_array().unwrap().clone()
}

#[test]
fn cga_vectors_parse_field_for_field_and_reencode() {
    let vs = cga_vectors();
    assert_eq!(vs.len(), 6);
    for v in &vs {
        let bytes = h(&v["cga_params"]);
        let r = CgaParamsRepr::from_bytes(&bytes).unwrap();
        assert_eq!(r.modifier, arr::<16>(&v["modifier"]), "{}", v["id"]);
        assert_eq!(r.subnet_prefix, arr::<8>(&v["subnet_prefix"]));
        assert_eq!(
            u64::from(r.collision_count),
            v["collision_count"].as_u64().unwrap()
        );
        assert_eq!(r.public_key, h(&v["public_key_der"]));
        assert_eq!(r.extension_bytes().unwrap(), h(&v["extension_fields"]));
        assert_eq!(r.to_vec().unwrap(), bytes);
    }
}

#[test]
fn cga_vectors_verify_and_regenerate() {
    for v in cga_vectors() {
        let id = v["id"].as_str().unwrap();
        let bytes = h(&v["cga_params"]);
        let a = addr(&v["address"]);
        let s = sec(&v["sec"]);
        assert_eq!(cga::verify(&a, &bytes), Ok(s), "{id}");
        // Generation from the same modifier reproduces address and bytes.
        let r = CgaParamsRepr::from_bytes(&bytes).unwrap();
        let c = Cga::from_params(r.clone(), s).unwrap();
        assert_eq!(c.address(), a, "{id}");
        assert_eq!(c.params_bytes(), &bytes[..]);
        // Hash2 as the vector states it.
        if let Some(h2) = v.get("hash2_first14") {
            let view = CgaParams::new_checked(&bytes[..]).unwrap();
            assert_eq!(
                cga::hash2(&r.modifier, view.key_and_extensions()).to_vec(),
                h(h2),
                "{id}"
            );
        }
        // A search started at the vector's modifier stops there at once.
        let mut search =
            CgaSearch::new(r.subnet_prefix, s, &r.public_key, &[], r.modifier).unwrap();
        let mut found = search.step(1).unwrap();
        for _ in 0..r.collision_count {
            found.report_collision().unwrap();
        }
        assert_eq!(found.address(), a, "{id}");
    }
}

#[test]
fn cga_negative_cases_get_the_rfc_answer() {
    let d = load("linshim6-cga.json");
    let neg = d["negative"].as_array().unwrap();
    assert_eq!(neg.len(), 3);
    for v in neg {
        let id = v["id"].as_str().unwrap();
        let r = cga::verify(&addr(&v["address"]), &h(&v["cga_params"]));
        assert_eq!(
            r.is_ok(),
            v["expected_verify"].as_bool().unwrap(),
            "{id}: {r:?}"
        );
        match id {
            "neg-modifier-flip" => assert_eq!(r, Err(VerifyError::Hash1)),
            "neg-collision-3" => assert_eq!(r, Err(VerifyError::CollisionCount(3))),
            "neg-g-bit-set" => assert_eq!(r, Ok(Sec::ONE)), // 0x39: Sec 001, g = 1
            other => panic!("unexpected case {other}"),
        }
    }
}

#[test]
fn flipping_any_params_bit_fails() {
    for v in cga_vectors() {
        let bytes = h(&v["cga_params"]);
        let a = addr(&v["address"]);
        for bit in 0..bytes.len() * 8 {
            let mut b = bytes.clone();
            b[bit / 8] ^= 0x80 >> (bit % 8);
            assert!(cga::verify(&a, &b).is_err(), "{} bit {bit}", v["id"]);
        }
    }
}

#[test]
fn flipping_address_bits() {
    // Every bit of the address counts, except the ones RFC 3972 §5 step 4
    // ignores: the u and g bits (bits 70 and 71 of the address) are never
    // checked, and the Sec bits (64-66) only through step 7, so lowering
    // Sec (e.g. 1 -> 0) keeps a valid CGA valid.
    for v in cga_vectors() {
        let bytes = h(&v["cga_params"]);
        let a = addr(&v["address"]).octets();
        let view = CgaParams::new_checked(&bytes[..]).unwrap();
        let h2 = cga::hash2(&view.modifier(), view.key_and_extensions());
        for bit in 0..128 {
            let mut o = a;
            o[bit / 8] ^= 0x80 >> (bit % 8);
            let flipped = Ipv6Addr::from(o);
            let r = cga::verify(&flipped, &bytes);
            match bit {
                70 | 71 => assert!(r.is_ok()),
                64..=66 => {
                    let new_sec = Sec::of_address(&flipped);
                    assert_eq!(
                        r.is_ok(),
                        cga::hash2_satisfies(&h2, new_sec),
                        "{} bit {bit}",
                        v["id"]
                    );
                    if new_sec > sec(&v["sec"]) {
                        // None of these vectors has more zero bits than asked.
                        assert_eq!(r, Err(VerifyError::Hash2(new_sec.get())));
                    }
                }
                0..=63 => assert_eq!(r, Err(VerifyError::SubnetPrefix), "bit {bit}"),
                _ => assert_eq!(r, Err(VerifyError::Hash1), "bit {bit}"),
            }
        }
    }
}

#[test]
fn cga_vector_truncations_fail() {
    for v in cga_vectors() {
        let bytes = h(&v["cga_params"]);
        let a = addr(&v["address"]);
        for n in 0..bytes.len() {
            assert!(CgaParams::new_checked(&bytes[..n]).is_err());
            assert!(matches!(
                cga::verify(&a, &bytes[..n]),
                Err(VerifyError::Malformed(_))
            ));
        }
    }
}

fn hba_vectors() -> Vec<Value> {
    load("linshim6-hba.json")["hba"].as_array().unwrap().clone()
}

fn prefixes(v: &Value) -> Vec<[u8; 8]> {
    v["multi_prefix_ext"]["prefixes"]
        .as_array()
        .unwrap()
        .iter()
        .map(arr::<8>)
        .collect()
}

#[test]
fn hba_pseudo_key_sets_regenerate_byte_for_byte() {
    for v in hba_vectors()
        .iter()
        .filter(|v| v["pseudo_key"].as_bool().unwrap())
    {
        let id = v["id"].as_str().unwrap();
        let random: [u8; 48] = arr(&v["pseudo_key_random_384"]);
        assert_eq!(
            hba::pseudo_key_der(&random),
            h(&v["public_key_der"]),
            "{id}"
        );
        assert!(hba::is_pseudo_key(&h(&v["public_key_der"])));
        let set = HbaSet::from_modifier(
            arr(&v["modifier"]),
            &prefixes(v),
            sec(&v["sec"]),
            HbaKey::Pseudo(random),
        )
        .unwrap();
        assert!(!set.is_cga_compatible());
        let mut ext = Vec::new();
        set.extension().write(&mut ext).unwrap();
        assert_eq!(ext, h(&v["extension_fields"]), "{id}");
        let members = v["members"].as_array().unwrap();
        assert_eq!(set.members().len(), members.len());
        for (m, c) in members.iter().zip(set.members()) {
            assert_eq!(c.address(), addr(&m["address"]), "{id}");
            assert_eq!(c.params_bytes(), &h(&m["cga_params"])[..], "{id}");
        }
        let view = CgaParams::new_checked(set.members()[0].params_bytes()).unwrap();
        assert_eq!(
            cga::hash2(&set.modifier(), view.key_and_extensions()).to_vec(),
            h(&v["hash2_first14"])
        );
        let mp = MultiPrefixExt::find(&view).unwrap().unwrap();
        assert!(!mp.public_key);
        assert_eq!(mp.prefixes, prefixes(v));
    }
}

#[test]
fn hba_every_member_verifies_against_every_members_params() {
    for v in hba_vectors() {
        let id = v["id"].as_str().unwrap();
        let s = sec(&v["sec"]);
        let members = v["members"].as_array().unwrap();
        for m in members {
            let a = addr(&m["address"]);
            assert_eq!(cga::verify(&a, &h(&m["cga_params"])), Ok(s), "{id}");
            for other in members {
                assert_eq!(
                    hba::verify_membership(&a, &h(&other["cga_params"])),
                    Ok(s),
                    "{id}"
                );
            }
        }
        // A prefix outside the set fails step 1.
        let mut o = addr(&members[0]["address"]).octets();
        o[0] ^= 0x40;
        assert_eq!(
            hba::verify_membership(&Ipv6Addr::from(o), &h(&members[0]["cga_params"])),
            Err(HbaVerifyError::PrefixNotInSet)
        );
        // A member address with a changed interface identifier fails step 2.
        let mut o = addr(&members[0]["address"]).octets();
        o[15] ^= 1;
        assert_eq!(
            hba::verify_membership(&Ipv6Addr::from(o), &h(&members[1]["cga_params"])),
            Err(HbaVerifyError::Cga(VerifyError::Hash1))
        );
    }
}

#[test]
fn hba4_search_from_the_libcga_start_modifier() {
    let v = hba_vectors()
        .into_iter()
        .find(|v| v["id"] == "hba-4")
        .unwrap();
    let random: [u8; 48] = arr(&v["pseudo_key_random_384"]);
    let mut s = HbaSearch::new(
        &prefixes(&v),
        Sec::ONE,
        HbaKey::Pseudo(random),
        arr(&v["start_modifier"]),
    )
    .unwrap();
    let set = loop {
        if let Some(set) = s.step(1000) {
            break set;
        }
    };
    assert_eq!(set.modifier(), arr::<16>(&v["modifier"]));
    // start_modifier + 1: the first try fails, the second matches.
    assert_eq!(s.attempts(), 2);
    let expected: Vec<Ipv6Addr> = v["expected_by_libcga_hba_test"]
        .as_array()
        .unwrap()
        .iter()
        .map(addr)
        .collect();
    let got: Vec<Ipv6Addr> = set.members().iter().map(Cga::address).collect();
    assert_eq!(got, expected);
}

#[test]
fn hba3_cga_compatible_set_follows_the_rfc_not_the_peer() {
    let v = hba_vectors()
        .into_iter()
        .find(|v| v["id"] == "hba-3")
        .unwrap();
    let key = h(&v["public_key_der"]);
    let set = HbaSet::from_modifier(
        arr(&v["modifier"]),
        &prefixes(&v),
        Sec::ZERO,
        HbaKey::Public(&key),
    )
    .unwrap();
    assert!(set.is_cga_compatible());
    let rfc = &v["rfc_conformant_recompute"];
    let mut ext = Vec::new();
    set.extension().write(&mut ext).unwrap();
    assert_eq!(ext, h(&rfc["extension_fields"]));
    assert_eq!(&ext[4..8], &[0x80, 0, 0, 0]);
    for (m, c) in rfc["members"].as_array().unwrap().iter().zip(set.members()) {
        assert_eq!(c.address(), addr(&m["address"]));
        assert_eq!(
            hba::verify_membership(&c.address(), set.members()[0].params_bytes()),
            Ok(Sec::ZERO)
        );
    }
    // The peer's own parameters still verify (the hashes cover the bytes as
    // sent), but its flags word reads as P = 0 with a reserved bit set.
    let peer_params = h(&v["members"][0]["cga_params"]);
    let view = CgaParams::new_checked(&peer_params[..]).unwrap();
    assert!(!MultiPrefixExt::find(&view).unwrap().unwrap().public_key);
    for m in v["members"].as_array().unwrap() {
        assert_eq!(
            hba::verify_membership(&addr(&m["address"]), &peer_params),
            Ok(Sec::ZERO)
        );
    }
    // And the peer's addresses differ from the RFC-conformant ones.
    assert_ne!(
        addr(&v["members"][0]["address"]),
        set.members()[0].address()
    );
}

#[test]
fn plain_cga_is_not_an_hba_set() {
    let v = &cga_vectors()[0];
    assert_eq!(
        hba::verify_membership(&addr(&v["address"]), &h(&v["cga_params"])),
        Err(HbaVerifyError::NoMultiPrefix)
    );
}

#[test]
fn hash2_search_reaches_the_sec1_vectors_from_just_before() {
    // Start a few modifiers before a vector's modifier: the search must stop
    // exactly there unless an earlier one also satisfies Sec (checked).
    for v in cga_vectors().iter().filter(|v| v["sec"] == 1) {
        let bytes = h(&v["cga_params"]);
        let view = CgaParams::new_checked(&bytes[..]).unwrap();
        let m = u128::from_be_bytes(view.modifier());
        let start = m - 3;
        let mut s = Hash2Search::new(
            Sec::ONE,
            view.public_key(),
            view.extension_bytes(),
            start.to_be_bytes(),
        );
        let found = u128::from_be_bytes(s.step(10).unwrap());
        assert!(found <= m);
        let first_ok = (start..=m)
            .find(|x| {
                cga::hash2_satisfies(
                    &cga::hash2(&x.to_be_bytes(), view.key_and_extensions()),
                    Sec::ONE,
                )
            })
            .unwrap();
        assert_eq!(found, first_ok);
        assert_eq!(s.attempts(), u64::try_from(found - start + 1).unwrap());
    }
}
