//! `mobsim cga` end to end: runs the built binary.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test helpers

use std::process::{Command, Output};

fn mobsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mobsim"))
        .arg("cga")
        .args(args)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn field<'a>(out: &'a str, name: &str) -> Vec<&'a str> {
    out.lines()
        .filter_map(|l| l.strip_prefix(name))
        .map(str::trim)
        .collect()
}

fn key(name: &str) -> String {
    format!(
        "{}/hba-cga/tests/vectors/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// RFC 3972 Appendix A.
const APPENDIX_A_PARAMS: &str = "89a8a8b2e858d8b8f2633f44d2d4ce9bfe8000000000000000305c300d06092a864886f70d0101010500034b003048024100c2c2f137305454f10bd9cea36844b530e9211a4b262b16467cb7dfba1f595c0194f275be5a4d386f2c3c2382508773c7867f9b3b9e63a09c7bc48f7a54ebefaf0203010001";

#[test]
fn verify_the_rfc_example_and_report_the_failed_step() {
    let ok = mobsim(&[
        "verify",
        "--address",
        "fe80::3c4a:5bf6:ffb4:ca6c",
        "--params",
        APPENDIX_A_PARAMS,
    ]);
    assert_eq!(ok.status.code(), Some(0), "{ok:?}");
    assert!(stdout(&ok).contains("Sec 1"));
    let bad = mobsim(&[
        "verify",
        "--address",
        "fe80::3c4a:5bf6:ffb4:ca6d",
        "--params",
        APPENDIX_A_PARAMS,
    ]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(stdout(&bad).contains("step 4"), "{}", stdout(&bad));
    let wrong_prefix = mobsim(&[
        "verify",
        "--address",
        "fe81::3c4a:5bf6:ffb4:ca6c",
        "--params",
        APPENDIX_A_PARAMS,
    ]);
    assert_eq!(wrong_prefix.status.code(), Some(1));
    assert!(stdout(&wrong_prefix).contains("step 2"));
    let garbage = mobsim(&["verify", "--address", "fe80::1", "--params", "zz"]);
    assert_eq!(garbage.status.code(), Some(2));
    let truncated = mobsim(&[
        "verify",
        "--address",
        "fe80::1",
        "--params",
        &APPENDIX_A_PARAMS[..60],
    ]);
    assert_eq!(truncated.status.code(), Some(1));
}

#[test]
fn gen_then_verify_with_key_files() {
    let dir = std::env::temp_dir().join(format!("mobsim-cga-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let params_file = dir.join("p.bin");
    for (k, sec) in [("rsa1024.pem", "1"), ("rsa2048-pkcs1.der", "0")] {
        let g = mobsim(&[
            "gen",
            "--prefix",
            "2001:db8:1:2::/64",
            "--sec",
            sec,
            "--key",
            &key(k),
            "--threads",
            "1",
            "--seed",
            "7",
            "--params-out",
            params_file.to_str().unwrap(),
        ]);
        assert_eq!(g.status.code(), Some(0), "{g:?}");
        let out = stdout(&g);
        let addr = field(&out, "address")[0].to_string();
        let params = field(&out, "params")[0].to_string();
        assert!(addr.starts_with("2001:db8:1:2:"));
        assert_eq!(
            std::fs::read(&params_file).unwrap(),
            hex::decode(&params).unwrap()
        );
        let v = mobsim(&["verify", "--address", &addr, "--params", &params]);
        assert_eq!(v.status.code(), Some(0), "{v:?}");
        let v = mobsim(&[
            "verify",
            "--address",
            &addr,
            "--params",
            &format!("@{}", params_file.display()),
        ]);
        assert_eq!(v.status.code(), Some(0));
        // The library agrees.
        let a: std::net::Ipv6Addr = addr.parse().unwrap();
        assert!(hba_cga::cga::verify(&a, &hex::decode(&params).unwrap()).is_ok());
    }
    let bad = mobsim(&[
        "gen",
        "--prefix",
        "2001:db8::/48",
        "--sec",
        "0",
        "--key",
        &key("rsa1024.pem"),
    ]);
    assert_eq!(bad.status.code(), Some(2));
    let bad = mobsim(&[
        "gen",
        "--prefix",
        "2001:db8::",
        "--sec",
        "0",
        "--key",
        &key("README.md"),
    ]);
    assert_eq!(bad.status.code(), Some(2));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn hba_gen_then_hba_verify_every_member() {
    let g = mobsim(&[
        "hba-gen",
        "--prefix",
        "2001:db8:a::",
        "--prefix",
        "2001:db8:b::",
        "--prefix",
        "2001:db8:c::",
        "--sec",
        "1",
        "--key",
        &key("rsa1024.pem"),
        "--seed",
        "2",
    ]);
    assert_eq!(g.status.code(), Some(0), "{g:?}");
    let out = stdout(&g);
    assert!(out.contains("CGA-compatible"));
    let addrs = field(&out, "address");
    let params = field(&out, "params");
    assert_eq!(addrs.len(), 3);
    for a in &addrs {
        let v = mobsim(&["hba-verify", "--address", a, "--params", params[0]]);
        assert_eq!(v.status.code(), Some(0), "{v:?}");
    }
    let v = mobsim(&[
        "hba-verify",
        "--address",
        "2001:db8:d::1",
        "--params",
        params[0],
    ]);
    assert_eq!(v.status.code(), Some(1));
    assert!(stdout(&v).contains("step 1"));
    // HBA-only, no key.
    let g = mobsim(&[
        "hba-gen",
        "--prefix",
        "2001:db8:a::",
        "--prefix",
        "2001:db8:b::",
        "--seed",
        "2",
    ]);
    assert!(stdout(&g).contains("HBA-only"));
}

#[test]
fn hba_verify_the_libcga_vector() {
    // linshim6-hba.json, hba-4: member 2's address against member 0's parameters.
    let p0 = "89a8a8b2e858d8b8f2633f44d2d7c362fe80000000000000003042300d06092a864886f70d0101010500033100a36844b530e9211a4b262b16467cb7dfba1f595c0194f275be5a4d386f2c3c2382508773c7867f9b3b9e63a09c7bc48f0012001c00000000fe80000000000000200106881f9900012001066073010001";
    let v = mobsim(&[
        "hba-verify",
        "--address",
        "2001:660:7301:1:3cd1:7773:6f00:f11b",
        "--params",
        p0,
    ]);
    assert_eq!(v.status.code(), Some(0), "{v:?}");
    let v = mobsim(&[
        "hba-verify",
        "--address",
        "2001:660:7301:1:3cd1:7773:6f00:f11c",
        "--params",
        p0,
    ]);
    assert_eq!(v.status.code(), Some(1));
    assert!(stdout(&v).contains("step 2"));
}

#[test]
fn bench_json_fields() {
    let b = mobsim(&["bench", "--json", "--seconds", "0.05", "--max-threads", "2"]);
    assert_eq!(b.status.code(), Some(0), "{b:?}");
    let v: serde_json::Value = serde_json::from_slice(&b.stdout).unwrap();
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r["threads"].as_u64(), Some(i as u64 + 1));
        assert!(r["attempts_per_s"].as_f64().unwrap() > 0.0);
        assert!(r["sha1_blocks_per_s"].as_f64().unwrap() > 0.0);
        // 25 + 162-octet key = 187 octets + padding: 4 blocks.
        assert_eq!(r["blocks_per_attempt"].as_u64(), Some(4));
        // Contention-independent rates: numbers on Linux, null elsewhere.
        assert!(r["attempts_per_cpu_s"].is_number() || r["attempts_per_cpu_s"].is_null());
        assert!(r["sha1_blocks_per_cpu_s"].is_number() || r["sha1_blocks_per_cpu_s"].is_null());
    }
}
