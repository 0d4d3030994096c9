//! Two multihomed Shim6 hosts back to back through the mobsim network with
//! loss, duplication and reordering: establishment with HBA, CGA-1024 and
//! CGA-2048 identities of 2, 5 and 10 locators; a lost R2; a lost context
//! recovered with R1bis/I2bis; a locator update; a forked context; and the
//! capture's Shim6 headers as tshark reads them (checksum status and the
//! payload extension header only: its control message dissection is broken,
//! see `shim6-proto/tests/vectors/README.md`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // test code

use std::net::Ipv6Addr;
use std::time::Duration;

use hba_cga::cga::{Cga, Sec};
use hba_cga::hba::HbaSet;
use hba_cga::sig::{CgaSigner, RsaSigner};
use mobsim::drivers::shim6::{Shim6Node, Shim6World, Shim6WorldConfig, Via, site_prefix};
use mobsim::tshark;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use shim6_proto::context::ContextState;
use shim6_proto::endpoint::Establish;
use shim6_proto::event::Event;
use shim6_proto::locators::LocalIdentity;

const RSA1024: &str = include_str!("../shim6-proto/tests/vectors/rsa1024.pem");
const RSA2048: &str = include_str!("../shim6-proto/tests/vectors/rsa2048.pem");

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn hba(site: u16, n: u16, seed: u64) -> LocalIdentity<RsaSigner> {
    let prefixes: Vec<[u8; 8]> = (0..n).map(|i| site_prefix(site, i)).collect();
    let set = HbaSet::generate(
        &mut ChaCha20Rng::seed_from_u64(seed),
        &prefixes,
        Sec::ZERO,
        None,
    )
    .unwrap();
    LocalIdentity::from_hba(&set, 0).unwrap()
}

/// A CGA ULID on the site's first prefix (fixed key, Sec 0) and `n - 1`
/// plain addresses on its other prefixes, all signed with the CGA's key.
fn cga(site: u16, n: u16, pem: &str, seed: u64) -> LocalIdentity<RsaSigner> {
    let signer = RsaSigner::from_pem(pem).unwrap();
    let spki = signer.public_key_der().unwrap();
    let mut modifier = [0u8; 16];
    modifier[15] = seed as u8;
    let cga = Cga::from_modifier(modifier, site_prefix(site, 0), Sec::ZERO, &spki, &[]).unwrap();
    let extra: Vec<Ipv6Addr> = (1..n)
        .map(|i| {
            let mut o = [0u8; 16];
            o[..8].copy_from_slice(&site_prefix(site, i));
            o[15] = 0x42;
            Ipv6Addr::from(o)
        })
        .collect();
    LocalIdentity::from_cga(&mut ChaCha20Rng::seed_from_u64(seed), &cga, signer, &extra).unwrap()
}

fn lossy(seed: u64) -> Shim6WorldConfig {
    Shim6WorldConfig {
        seed,
        loss: 0.1,
        duplicate: 0.05,
        reorder: 0.1,
        ..Shim6WorldConfig::default()
    }
}

fn node(w: &Shim6World, i: usize) -> &Shim6Node {
    w.node(i)
}

/// Runs until both hosts have the context installed; checks the tags
/// agree and every locator list is the other side's.
fn established(w: &mut Shim6World, limit: Duration) {
    let (h0, h1) = (w.hosts[0], w.hosts[1]);
    let ok = w
        .sim
        .run_until_cond(limit, |s| {
            s.endpoint::<Shim6Node>(h0).unwrap().established() == 1
                && s.endpoint::<Shim6Node>(h1).unwrap().established() == 1
        })
        .unwrap();
    assert!(
        ok,
        "not established by {limit:?}: {:?} / {:?}",
        w.node(0).machine().stats(),
        w.node(1).machine().stats()
    );
    let (a, b) = (node(w, 0), node(w, 1));
    let ca = a.context(b.ulid()).unwrap();
    let cb = b.context(a.ulid()).unwrap();
    assert_eq!(ca.state, ContextState::Established);
    assert_eq!(cb.state, ContextState::Established);
    assert_eq!(ca.ct_peer, cb.ct_local);
    assert_eq!(cb.ct_peer, ca.ct_local);
    let tag_a = ca.ct_local.unwrap();
    let tag_b = cb.ct_local.unwrap();
    assert_eq!(a.machine().peer_locators(tag_a).unwrap(), b.locators());
    assert_eq!(b.machine().peer_locators(tag_b).unwrap(), a.locators());
}

/// Both hosts move their context to their last locators; then the pings
/// and their replies go through the shim.
fn switch_to_last_locators(w: &mut Shim6World) {
    for i in 0..2 {
        let me = node(w, i);
        let peer = node(w, 1 - i);
        let tag = me.context(peer.ulid()).unwrap().ct_local.unwrap();
        let (local, remote) = (
            *me.locators().last().unwrap(),
            *peer.locators().last().unwrap(),
        );
        w.sim
            .with_endpoint::<Shim6Node, _>(w.hosts[i], |n, now| {
                n.command(now, |h, _| h.set_locator_pair(tag, local, remote))
            })
            .unwrap()
            .unwrap();
    }
}

fn shim_replies_after(w: &Shim6World, t: Duration) -> usize {
    node(w, 0)
        .replies()
        .iter()
        .filter(|r| r.at > t && r.via == Via::Shim)
        .count()
}

fn establish_and_exchange(ids: [LocalIdentity<RsaSigner>; 2], seed: u64) {
    let n = ids[0].locators().len();
    let mut w = Shim6World::new(&lossy(seed), ids).unwrap();
    // An establishment whose four I1s (or their R1s) are all lost ends in
    // E-FAILED (§7.8); the driver tries again after NO_R1_HOLDDOWN_TIME.
    established(&mut w, secs(300));
    switch_to_last_locators(&mut w);
    let t = w.sim.now();
    w.sim.run_for(secs(5)).unwrap();
    // 25 requests over lossy links: most come back through the shim.
    let got = shim_replies_after(&w, t);
    assert!(got > 10, "{n} locators: {got} replies through the shim");
    let (a, b) = (node(&w, 0), node(&w, 1));
    assert!(a.data_stats().sent_shim > 0 && b.data_stats().received_shim > 0);
    assert_eq!(a.data_stats().errors + b.data_stats().errors, 0);
}

#[test]
fn hba_with_2_5_10_locators() {
    for (n, seed) in [(2u16, 1u64), (5, 2), (10, 3)] {
        establish_and_exchange([hba(0xa, n, seed), hba(0xb, n, seed + 100)], seed);
    }
}

#[test]
fn cga_1024_with_2_5_10_locators() {
    for (n, seed) in [(2u16, 4u64), (5, 5), (10, 6)] {
        establish_and_exchange([cga(0xa, n, RSA1024, 1), cga(0xb, n, RSA1024, 2)], seed);
    }
}

#[test]
fn cga_2048_with_2_5_10_locators() {
    for (n, seed) in [(2u16, 7u64), (5, 8), (10, 9)] {
        establish_and_exchange([cga(0xa, n, RSA2048, 3), cga(0xb, n, RSA2048, 4)], seed);
    }
}

#[test]
fn a_lost_r2_is_recovered_by_the_i2_retransmission() {
    let cfg = Shim6WorldConfig::default(); // no loss: only the R2 is lost
    let mut w = Shim6World::new(&cfg, [hba(0xa, 2, 11), hba(0xb, 2, 12)]).unwrap();
    // I1 leaves at 0.5 s; each hop is 10 ms, so the R1 is back at 0.54 s, the
    // I2 reaches host 1 at 0.56 s and its R2 reaches host 0's first link at
    // 0.58 s: that link is down from 0.565 s to 0.6 s.
    let l = w.links[0][0];
    w.sim
        .schedule(Duration::from_millis(565), move |s| s.set_link_up(l, false));
    w.sim
        .schedule(Duration::from_millis(600), move |s| s.set_link_up(l, true));
    established(&mut w, secs(30));
    let at = |i: usize| {
        node(&w, i)
            .events()
            .iter()
            .find(|(_, e)| matches!(e, Event::ContextEstablished(_)))
            .unwrap()
            .0
    };
    assert_eq!(at(1), Duration::from_millis(560));
    // I2_TIMEOUT is 4 s, randomised over 0.5-1.5 (RFC 5533 §14).
    let t0 = at(0);
    assert!(
        t0 >= Duration::from_millis(540 + 2000) && t0 <= Duration::from_millis(540 + 6000 + 40),
        "{t0:?}"
    );
    assert_eq!(node(&w, 1).machine().stats().received.i2, 2);
    assert_eq!(node(&w, 1).machine().stats().sent.r2, 2);
}

#[test]
fn a_lost_context_is_recovered_with_r1bis_and_i2bis() {
    let mut w = Shim6World::new(&lossy(13), [hba(0xa, 3, 13), hba(0xb, 3, 14)]).unwrap();
    established(&mut w, secs(60));
    switch_to_last_locators(&mut w);
    w.sim.run_for(secs(2)).unwrap();
    // Host 1 loses its state.
    w.sim
        .with_endpoint::<Shim6Node, _>(w.hosts[1], |n, now| n.reboot(now, 99))
        .unwrap();
    assert_eq!(node(&w, 1).established(), 0);
    let t = w.sim.now();
    let (h0, h1) = (w.hosts[0], w.hosts[1]);
    let ok = w
        .sim
        .run_until_cond(t + secs(60), |s| {
            s.endpoint::<Shim6Node>(h1).unwrap().established() == 1
                && s.endpoint::<Shim6Node>(h0)
                    .unwrap()
                    .replies()
                    .iter()
                    .any(|r| r.at > t && r.via == Via::Shim)
        })
        .unwrap();
    assert!(ok, "no recovery");
    let (a, b) = (node(&w, 0), node(&w, 1));
    assert!(b.machine().stats().sent.r1bis >= 1);
    assert!(a.machine().stats().sent.i2bis >= 1);
    assert!(b.data_stats().unknown_tag >= 1);
    // The recovered context keeps host 0's tag for host 1 (§7.17: CT(peer)
    // of the initiator is unchanged).
    let ca = a.context(b.ulid()).unwrap();
    let cb = b.context(a.ulid()).unwrap();
    assert_eq!(ca.ct_peer, cb.ct_local);
    assert_eq!(cb.ct_peer, ca.ct_local);
}

#[test]
fn a_locator_update_reaches_the_peer() {
    let mut w = Shim6World::new(&lossy(15), [hba(0xa, 3, 15), hba(0xb, 3, 16)]).unwrap();
    established(&mut w, secs(60));
    let gone = node(&w, 1).locators()[2];
    let new_list = w.locators_without(1, gone);
    assert_eq!(new_list.len(), 2);
    let started = w
        .sim
        .with_endpoint::<Shim6Node, _>(w.hosts[1], |n, now| {
            let ulid = n.ulid();
            n.command(now, |h, now| h.update_locators(now, ulid, new_list))
        })
        .unwrap()
        .unwrap();
    assert_eq!(started, 1);
    let (h0, b_ulid) = (w.hosts[0], node(&w, 1).ulid());
    let ok = w
        .sim
        .run_until_cond(w.sim.now() + secs(60), |s| {
            let a = s.endpoint::<Shim6Node>(h0).unwrap();
            let tag = a.context(b_ulid).unwrap().ct_local.unwrap();
            a.machine()
                .peer_locators(tag)
                .is_some_and(|l| l.len() == 2 && !l.contains(&gone))
        })
        .unwrap();
    assert!(ok, "the update did not arrive");
    // The acknowledgement comes back (Update Requests are retransmitted
    // until one is acknowledged, §10.3).
    let (h1, a_ulid) = (w.hosts[1], node(&w, 0).ulid());
    let acked = w
        .sim
        .run_until_cond(w.sim.now() + secs(60), |s| {
            let b = s.endpoint::<Shim6Node>(h1).unwrap();
            let tag = b.context(a_ulid).unwrap().ct_local.unwrap();
            !b.machine().update_pending(tag)
        })
        .unwrap();
    assert!(acked, "the update was never acknowledged");
    let a = node(&w, 0);
    assert!(a.machine().stats().received.update_request >= 1);
    assert!(
        node(&w, 1).machine().stats().received.update_ack >= 1,
        "{:?} / {:?}",
        a.machine().stats(),
        node(&w, 1).machine().stats()
    );
    assert!(
        a.events()
            .iter()
            .any(|(_, e)| matches!(e, Event::ContextUpdated(_)))
    );
}

#[test]
fn a_forked_context_is_established_beside_the_default_one() {
    let mut w = Shim6World::new(&lossy(17), [hba(0xa, 2, 17), hba(0xb, 2, 18)]).unwrap();
    established(&mut w, secs(60));
    let peer = node(&w, 1).ulid();
    w.sim
        .with_endpoint::<Shim6Node, _>(w.hosts[0], |n, now| {
            let local = n.ulid();
            n.command(now, |h, now| {
                h.establish_with(
                    now,
                    Establish {
                        local_ulid: local,
                        peer_ulid: peer,
                        fii: 1,
                        locators: None,
                    },
                )
            })
        })
        .unwrap()
        .unwrap();
    let (h0, h1) = (w.hosts[0], w.hosts[1]);
    let ok = w
        .sim
        .run_until_cond(w.sim.now() + secs(60), |s| {
            [h0, h1].iter().all(|h| {
                s.endpoint::<Shim6Node>(*h)
                    .unwrap()
                    .machine()
                    .iter_contexts()
                    .filter(|c| c.state == ContextState::Established)
                    .count()
                    == 2
            })
        })
        .unwrap();
    assert!(ok, "no forked context");
    let a = node(&w, 0);
    let local = a.ulid();
    assert_eq!(a.machine().state(local, peer, 1), ContextState::Established);
    assert_eq!(a.machine().state(local, peer, 0), ContextState::Established);
    assert_eq!(
        node(&w, 1).machine().state(peer, local, 1),
        ContextState::Established
    );
}

#[test]
fn the_capture_has_good_checksums_and_payload_headers_in_tshark() {
    let mut w = Shim6World::new(&lossy(19), [hba(0xa, 3, 19), hba(0xb, 3, 20)]).unwrap();
    established(&mut w, secs(60));
    switch_to_last_locators(&mut w);
    w.sim.run_for(secs(3)).unwrap();
    let capture = w.sim.pcapng(&w.all_links());
    let out = tshark::run(
        &capture,
        &[
            "-T",
            "fields",
            "-E",
            "occurrence=f",
            "-e",
            "shim6.p",
            "-e",
            "shim6.nxt",
            "-e",
            "shim6.checksum.status",
        ],
    )
    .expect("tshark runs (install it: apt-get install tshark)");
    let (mut controls, mut payloads) = (0, 0);
    for (i, line) in out.lines().enumerate() {
        let f: Vec<&str> = line.split('\t').collect();
        match f.first().copied() {
            // Control message: Wireshark's checksum status 1 is "Good".
            Some("0") => {
                controls += 1;
                assert_eq!(f[2], "1", "frame {i}: checksum status");
            }
            // Payload extension header: the UDP datagram follows.
            Some("1") => {
                payloads += 1;
                assert_eq!(f[1], "17", "frame {i}: next header");
            }
            _ => {}
        }
    }
    // I1, R1, I2, R2 at least, and the pings after the switch.
    assert!(controls >= 4, "{controls}");
    assert!(payloads > 10, "{payloads}");
}
