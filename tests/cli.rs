//! The `mobsim` command line: exit codes and outputs of the subcommands the
//! workspace itself provides (tour, scenario, decode's argument handling).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // test code

use std::process::Command;

fn mobsim(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mobsim"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn tour_runs_every_scenario_and_succeeds() {
    let (code, out, _) = mobsim(&["tour", "--seed", "3"]);
    assert_eq!(code, 0, "{out}");
    for sc in mobsim::scenario::all() {
        assert!(out.contains(&format!("== scenario {}", sc.name)), "{out}");
    }
    assert!(!out.contains("NOT REACHED"), "{out}");
}

#[test]
fn scenario_list_and_unknown_names() {
    let (code, out, _) = mobsim(&["scenario", "--list"]);
    assert_eq!(code, 0);
    assert!(out.contains("net-handover"));
    let (code, _, err) = mobsim(&["scenario", "no-such-scenario"]);
    assert_eq!(code, 2);
    assert!(err.contains("no scenario named"));
}

#[test]
fn scenario_writes_a_capture_tshark_reads_cleanly() {
    let dir = std::env::temp_dir().join(format!("mobsim-cli-{}", std::process::id()));
    let (code, out, err) = mobsim(&[
        "scenario",
        "net-handover",
        "--pcap-dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let pcap = std::fs::read(dir.join("net-handover.pcapng")).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let packets = mobsim::tshark::dissect(&pcap, &["udp.check_checksum:TRUE"]).unwrap();
    assert!(packets.len() > 100, "{} packets", packets.len());
    for p in &packets {
        assert!(
            mobsim::tshark::problems(p).is_empty(),
            "{:?}",
            mobsim::tshark::problems(p)
        );
        assert_eq!(mobsim::tshark::field(p, "udp.checksum.status"), Some("1"));
    }
    // Four links, one pcapng interface each.
    let ifaces: std::collections::BTreeSet<&str> = packets
        .iter()
        .filter_map(|p| mobsim::tshark::field(p, "frame.interface_name"))
        .collect();
    assert_eq!(ifaces.len(), 4, "{ifaces:?}");
}

#[test]
fn decode_rejects_bad_hex_with_status_2() {
    let (code, _, err) = mobsim(&["decode", "zz"]);
    assert_eq!(code, 2);
    assert!(err.contains("not valid hex"), "{err}");
}

#[test]
fn same_seed_same_tour() {
    let (_, a, _) = mobsim(&["tour", "--seed", "9"]);
    let (_, b, _) = mobsim(&["tour", "--seed", "9"]);
    assert_eq!(a, b);
}
