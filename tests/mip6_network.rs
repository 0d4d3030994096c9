//! Mobile node, home agent and correspondent wired together through the
//! mobsim network with loss, duplication, jitter and reordering on the
//! visited links: every binding converges to BOUND, traffic moves from the
//! tunnel to route optimisation, returning home removes every binding, and
//! the captures dissect cleanly in tshark.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // test code

use std::collections::BTreeSet;
use std::time::Duration;

use mip6_proto::bul_fsm::PrimaryState;
use mip6_proto::cn::BcState;
use mip6_proto::event::FwdEvent;
use mip6_proto::movement::Movement;
use mobsim::drivers::mip6::{CnNode, HaNode, Mip6World, MnNode, Path, WorldConfig, addrs::*};
use mobsim::tshark;

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn lossy(seed: u64) -> WorldConfig {
    WorldConfig {
        seed,
        loss: 0.15,
        reorder: 0.2,
        jitter: Duration::from_millis(20),
        duplicate: 0.05,
        ping_interval: Duration::from_millis(250),
        ..WorldConfig::default()
    }
}

/// Runs until the mobile node has a usable home binding and a usable
/// route-optimised binding with the correspondent, both for `coa`.
fn converge_away(w: &mut Mip6World, coa: std::net::Ipv6Addr, limit: Duration) -> Duration {
    let start = w.sim.now();
    let (mn_id, cn_id) = (w.mn, w.cn);
    w.sim
        .run_until_cond(start + limit, |s| {
            let mn = s.endpoint::<MnNode>(mn_id).unwrap();
            let cn = s.endpoint::<CnNode>(cn_id).unwrap();
            // Without the A flag a lost BU goes unnoticed until the
            // correspondent answers route-optimised traffic with a Binding
            // Error (status 1), so the correspondent's side is waited for.
            mn.home_binding() == Some((HA, coa))
                && mn.route_optimised(CN) == Some(coa)
                && cn.machine().lookup(HOA, CN) == Some(coa)
        })
        .unwrap();
    w.sim.now() - start
}

fn check_bound_away(w: &Mip6World, coa: std::net::Ipv6Addr) {
    let mn = w.mn();
    let home = mn.machine().home_entry().unwrap();
    assert_eq!(home.peer, HA);
    assert_eq!(home.state, PrimaryState::Bound);
    assert_eq!(home.care_of, coa);
    let cn_entry = mn.machine().entry(CN).unwrap();
    assert_eq!(cn_entry.state, PrimaryState::Bound);
    assert_eq!(cn_entry.care_of, coa);
    assert_eq!(w.ha().machine().lookup(HOA), Some(coa));
    assert_eq!(w.cn().machine().lookup(HOA, CN), Some(coa));
    assert_eq!(
        w.cn().machine().binding_state(HOA, CN),
        Some(BcState::Bound)
    );
}

#[test]
fn mn_ha_cn_converge_over_lossy_links_and_return_home() {
    for seed in [1, 2, 3, 4] {
        let mut w = Mip6World::new(&lossy(seed));
        w.sim.run_until(secs(2)).unwrap();
        // At home: babymdd says so, nothing is registered, replies come
        // straight back.
        assert!(
            w.mn()
                .movements()
                .iter()
                .any(|(_, m)| matches!(m, Movement::ReturnedHome { home, .. } if *home == HOA))
                || w.mn().movements().is_empty(),
            "seed {seed}: {:?}",
            w.mn().movements()
        );
        assert!(w.mn().home_binding().is_none());
        assert!(w.mn().replies().iter().any(|r| r.path == Path::Home));
        assert_eq!(w.ha().machine().bindings(), 0);

        // Visited link A.
        w.move_mn(1);
        let took = converge_away(&mut w, COA_A, secs(90));
        assert!(
            took < secs(90),
            "seed {seed}: no convergence on link A in 90 s"
        );
        check_bound_away(&w, COA_A);
        // Babymdd reported exactly one movement to link A's address.
        let moved: Vec<_> = w
            .mn()
            .movements()
            .iter()
            .filter(|(_, m)| matches!(m, Movement::Moved { .. }))
            .collect();
        assert_eq!(moved.len(), 1, "seed {seed}: {moved:?}");
        assert!(matches!(moved[0].1, Movement::Moved { care_of, .. } if care_of == COA_A));

        // Traffic settles on route optimisation.
        let before = w.mn().replies().len();
        w.sim.run_for(secs(5)).unwrap();
        let late = &w.mn().replies()[before..];
        assert!(!late.is_empty(), "seed {seed}: no replies once bound");
        assert!(
            late.iter()
                .filter(|r| r.path == Path::RouteOptimised)
                .count()
                * 2
                > late.len(),
            "seed {seed}: {late:?}"
        );
        assert!(w.ha().stats().tunnelled_out > 0 || w.mn().requests().tunnelled > 0);
        assert!(w.cn().answered().1 > 0);

        // Visited link B: the bindings follow.
        w.move_mn(2);
        let took = converge_away(&mut w, COA_B, secs(90));
        assert!(
            took < secs(90),
            "seed {seed}: no convergence on link B in 90 s"
        );
        check_bound_away(&w, COA_B);

        // Home again: every binding is removed.
        w.move_mn(0);
        let start = w.sim.now();
        let (mn_id, ha_id, cn_id) = (w.mn, w.ha, w.cn);
        w.sim
            .run_until_cond(start + secs(90), |s| {
                let mn = s.endpoint::<MnNode>(mn_id).unwrap();
                let ha = s.endpoint::<HaNode>(ha_id).unwrap();
                let cn = s.endpoint::<CnNode>(cn_id).unwrap();
                mn.home_binding().is_none()
                    && ha.machine().bindings() == 0
                    && cn.machine().bindings() == 0
            })
            .unwrap();
        assert!(
            w.sim.now() - start < secs(90),
            "seed {seed}: deregistration"
        );
        assert!(w.ha().events().iter().any(|(_, e)| matches!(
            e,
            FwdEvent::HomeBindingRemoved { home, .. } if *home == HOA
        )));
        assert!(w.cn().events().iter().any(|(_, e)| matches!(
            e,
            FwdEvent::BindingRemoved { home, .. } if *home == HOA
        )));
        let before = w.mn().replies().len();
        w.sim.run_for(secs(3)).unwrap();
        let late = &w.mn().replies()[before..];
        assert!(
            !late.is_empty() && late.iter().all(|r| r.path == Path::Home),
            "seed {seed}: {late:?}"
        );
    }
}

#[test]
fn the_same_seed_gives_the_same_capture() {
    let run = |seed| {
        let mut w = Mip6World::new(&lossy(seed));
        w.sim.run_until(secs(1)).unwrap();
        w.move_mn(1);
        w.sim.run_until(secs(20)).unwrap();
        w.sim.pcapng(&w.links)
    };
    let a = run(9);
    assert_eq!(a, run(9));
    assert_ne!(a, run(10));
}

#[test]
fn without_route_optimisation_traffic_stays_on_the_tunnel() {
    let mut w = Mip6World::new(&WorldConfig {
        route_optimisation: false,
        ..lossy(5)
    });
    w.sim.run_until(secs(1)).unwrap();
    w.move_mn(1);
    w.sim.run_until(secs(30)).unwrap();
    let mn = w.mn();
    assert_eq!(mn.home_binding(), Some((HA, COA_A)));
    assert_eq!(mn.route_optimised(CN), None);
    assert!(mn.machine().entry(CN).is_none());
    assert_eq!(w.cn().machine().bindings(), 0);
    let away: Vec<_> = mn
        .replies()
        .iter()
        .filter(|r| r.path != Path::Home)
        .collect();
    assert!(!away.is_empty());
    assert!(away.iter().all(|r| r.path == Path::Tunnelled));
    assert!(w.ha().stats().tunnelled_in > 0);
}

fn strings(v: &serde_json::Value, key: &str) -> Vec<String> {
    tshark::find_all(v, key)
        .into_iter()
        .filter_map(|x| x.as_str().map(str::to_owned))
        .collect()
}

/// Dissects the capture of `links` with tshark, asserts that no packet has
/// a problem (malformed, expert warning or error), and returns the packets.
fn dissect_clean(w: &Mip6World, links: &[mobsim::net::LinkId]) -> Vec<serde_json::Value> {
    let packets = tshark::dissect(&w.sim.pcapng(links), &[])
        .expect("tshark runs (install it: apt-get install tshark)");
    let total: usize = links.iter().map(|l| w.sim.captured(*l).len()).sum();
    assert_eq!(packets.len(), total);
    let errs: Vec<String> = packets
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let probs = tshark::problems(p);
            (!probs.is_empty()).then(|| format!("packet {i}: {probs:?}"))
        })
        .collect();
    assert!(errs.is_empty(), "{}", errs.join("\n"));
    packets
}

/// Every value of `key` in `packets`.
fn all(packets: &[serde_json::Value], key: &str) -> BTreeSet<String> {
    packets.iter().flat_map(|p| strings(p, key)).collect()
}

#[test]
fn the_capture_dissects_cleanly_in_tshark() {
    let mut w = Mip6World::new(&lossy(7));
    w.sim.run_until(secs(1)).unwrap();
    w.move_mn(1);
    w.sim.run_until(secs(25)).unwrap();
    w.move_mn(0);
    w.sim.run_until(secs(40)).unwrap();
    let packets = dissect_clean(&w, &w.links);
    let types = all(&packets, "mip6.mhtype");
    // HoTI, CoTI, HoT, CoT, BU, BA (RFC 6275 §6.1.3-6.1.8).
    for t in 1..=6u8 {
        assert!(
            types.contains(&t.to_string()),
            "no mobility header type {t}: {types:?}"
        );
    }
    // The home address option and the type 2 routing header as tshark
    // reads them carry the home address.
    let hao = all(&packets, "ipv6.opt.mipv6.home_address");
    assert!(hao.contains(&HOA.to_string()), "{hao:?}");
    let rh2 = all(&packets, "ipv6.routing.mipv6.home_address");
    assert!(rh2.contains(&HOA.to_string()), "{rh2:?}");
}

#[test]
fn a_correspondent_without_mobile_ipv6_keeps_traffic_on_the_tunnel() {
    let mut w = Mip6World::new(&WorldConfig {
        correspondent_mobile_ipv6: false,
        ..lossy(6)
    });
    w.sim.run_until(secs(1)).unwrap();
    w.move_mn(1);
    w.sim.run_until(secs(40)).unwrap();
    let mn = w.mn();
    assert_eq!(mn.home_binding(), Some((HA, COA_A)));
    // The HoTI/CoTI drew Parameter Problems; the entry is disabled and no
    // route optimisation is attempted again (RFC 6275 §11.3.5).
    assert!(w.cn().parameter_problems() > 0);
    let e = mn.machine().entry(CN).unwrap();
    assert!(e.disabled, "{e:?}");
    assert_eq!(mn.route_optimised(CN), None);
    let test_inits = mn.machine().stats().test_init_sent;
    let away: Vec<_> = mn
        .replies()
        .iter()
        .filter(|r| r.path != Path::Home)
        .collect();
    assert!(away.len() > 20, "{}", away.len());
    assert!(away.iter().all(|r| r.path == Path::Tunnelled));
    w.sim.run_for(secs(20)).unwrap();
    assert_eq!(w.mn().machine().stats().test_init_sent, test_inits);
}

#[test]
fn the_home_agent_is_discovered_with_dhaad() {
    let mut w = Mip6World::new(&WorldConfig {
        home_agent_known: false,
        ..lossy(8)
    });
    w.sim.run_until(secs(1)).unwrap();
    w.move_mn(1);
    let took = converge_away(&mut w, COA_A, secs(120));
    assert!(took < secs(120));
    check_bound_away(&w, COA_A);
    assert!(w.mn().machine().stats().dhaad_sent >= 1);
    assert!(w.ha().machine().stats().dhaad_replies >= 1);
}

#[test]
fn parameter_problems_and_dhaad_dissect_cleanly_in_tshark() {
    let mut w = Mip6World::new(&WorldConfig {
        correspondent_mobile_ipv6: false,
        home_agent_known: false,
        ..lossy(12)
    });
    w.sim.run_until(secs(1)).unwrap();
    w.move_mn(1);
    w.sim.run_until(secs(40)).unwrap();
    let packets = dissect_clean(&w, &w.links);
    let icmp_types = all(&packets, "icmpv6.type");
    // Parameter Problem (RFC 4443), DHAAD request and reply (RFC 6275 §6.5-6.6).
    for t in [4u8, 144, 145] {
        assert!(
            icmp_types.contains(&t.to_string()),
            "no ICMPv6 type {t}: {icmp_types:?}"
        );
    }
}

#[test]
fn a_mobile_router_carries_its_mobile_network_through_the_tunnel() {
    use mobsim::net::toy::UdpPinger;
    let mut w = Mip6World::new(&WorldConfig {
        mobile_router: true,
        ..lossy(21)
    });
    let (net, host) = w.mobile_network.unwrap();
    w.sim.run_until(secs(1)).unwrap();
    w.move_mn(1);
    let start = w.sim.now();
    let mn_id = w.mn;
    w.sim
        .run_until_cond(start + secs(90), |s| {
            s.endpoint::<MnNode>(mn_id)
                .unwrap()
                .home_binding()
                .is_some()
        })
        .unwrap();
    assert_eq!(w.mn().home_binding(), Some((HA, COA_A)));
    // RFC 3963 §6.2: the home agent routes the registered prefix to the
    // mobile router's care-of address.
    assert!(w.ha().events().iter().any(|(_, e)| matches!(
        e,
        FwdEvent::PrefixRouteAdded { prefix, len: 64, home, care_of }
            if *prefix == MNP && *home == HOA && *care_of == COA_A
    )));
    let replies_before = w.sim.endpoint::<UdpPinger>(host).unwrap().replies();
    w.sim.run_for(secs(10)).unwrap();
    let replies_after = w.sim.endpoint::<UdpPinger>(host).unwrap().replies();
    // 40 requests in 10 s over two lossy hops each way: most come back.
    assert!(
        replies_after - replies_before > 10,
        "{replies_before} -> {replies_after}"
    );
    let f = w.mn().forwarded();
    assert!(f.outbound > 0 && f.inbound > 0, "{f:?}");
    assert!(w.ha().stats().tunnelled_in > 0 && w.ha().stats().tunnelled_out > 0);
    // The capture of every link, mobile network included, dissects cleanly
    // and shows the Mobile Network Prefix option in the Binding Update.
    let mut links = w.links.to_vec();
    links.push(net);
    let packets = dissect_clean(&w, &links);
    let prefixes = all(&packets, "mip6.nemo.mnp.mnp");
    assert!(prefixes.contains(&MNP.to_string()), "{prefixes:?}");
}

#[test]
fn multiple_care_of_addresses_over_two_interfaces() {
    let mut w = Mip6World::new(&WorldConfig {
        mcoa: true,
        ..lossy(23)
    });
    w.sim.run_until(secs(1)).unwrap();
    w.move_mn(1); // interface 0 (BID 1) to visited link A
    w.move_mn_second(Some(2)); // interface 1 (BID 2) to visited link B
    let (mn_id, ha_id) = (w.mn, w.ha);
    let both = w
        .sim
        .run_until_cond(secs(90), |s| {
            let mn = s.endpoint::<MnNode>(mn_id).unwrap();
            let ha = s.endpoint::<HaNode>(ha_id).unwrap();
            mn.bid_bindings().len() == 2 && ha.machine().bids(HOA).count() == 2
        })
        .unwrap();
    assert!(both, "{:?}", w.mn().bid_bindings());
    // RFC 5648: one binding per BID at the home agent.
    let at_ha: Vec<(u16, std::net::Ipv6Addr)> = w
        .ha()
        .machine()
        .bids(HOA)
        .map(|b| (b.bid, b.care_of))
        .collect();
    assert_eq!(at_ha, [(1, COA_A), (2, COA_B)]);
    assert_eq!(
        w.mn().bid_bindings().values().copied().collect::<Vec<_>>(),
        [(HA, COA_A), (HA, COA_B)]
    );
    // Traffic goes through the tunnel of the preferred binding.
    assert_eq!(w.ha().tunnel_end(HOA), Some(COA_A));
    let t = w.sim.now();
    w.sim.run_for(secs(5)).unwrap();
    let n = w
        .mn()
        .replies()
        .iter()
        .filter(|r| r.at > t && r.path == Path::Tunnelled)
        .count();
    assert!(n > 5, "{n} tunnelled replies");

    // Interface 0 leaves: only BID 1 goes; the home agent keeps the home
    // address and tunnels to the care-of address of BID 2.
    let mn = w.mn;
    w.sim.move_iface(mn, mobsim::net::IfaceId(0), None);
    let one = w
        .sim
        .run_until_cond(w.sim.now() + secs(60), |s| {
            s.endpoint::<HaNode>(ha_id)
                .unwrap()
                .machine()
                .bids(HOA)
                .count()
                == 1
        })
        .unwrap();
    assert!(one);
    assert_eq!(
        w.ha()
            .machine()
            .bids(HOA)
            .map(|b| b.bid)
            .collect::<Vec<_>>(),
        [2]
    );
    assert_eq!(w.ha().tunnel_end(HOA), Some(COA_B));
    let t = w.sim.now();
    w.sim.run_for(secs(5)).unwrap();
    let n = w
        .mn()
        .replies()
        .iter()
        .filter(|r| r.at > t && r.path == Path::Tunnelled)
        .count();
    assert!(n > 5, "{n} tunnelled replies after losing BID 1");
    assert!(w.ha().events().iter().any(|(_, e)| matches!(
        e,
        FwdEvent::HomeBindingRemoved { home, bid: Some(1), .. } if *home == HOA
    )));
    assert!(
        !w.ha()
            .events()
            .iter()
            .any(|(_, e)| matches!(e, FwdEvent::HomeBindingRemoved { bid: Some(2), .. }))
    );
    // The Binding Updates with Binding Identifier options dissect cleanly.
    let packets = dissect_clean(&w, &w.links);
    let bus: usize = packets
        .iter()
        .map(|p| {
            strings(p, "mip6.mhtype")
                .iter()
                .filter(|t| *t == "5")
                .count()
        })
        .sum();
    assert!(bus >= 2, "{bus} binding updates");
}

/// Heavier weather, many seeds: 25 % loss, 30 % reordering, 10 %
/// duplication and 40 ms jitter on the visited links. Every seed converges
/// on link A and then on link B (retransmission, DHAAD fall-back and return
/// routability recover every loss).
#[test]
fn converges_on_every_seed_under_heavy_loss() {
    for seed in 1..=24 {
        let mut w = Mip6World::new(&WorldConfig {
            seed,
            loss: 0.25,
            reorder: 0.3,
            jitter: Duration::from_millis(40),
            duplicate: 0.1,
            ..WorldConfig::default()
        });
        w.sim.run_until(secs(1)).unwrap();
        w.move_mn(1);
        let took = converge_away(&mut w, COA_A, secs(150));
        assert!(took < secs(150), "seed {seed}: link A");
        // Usable at all three (a refresh may be in flight: WAITAR).
        assert_eq!(w.ha().machine().lookup(HOA), Some(COA_A));
        assert_eq!(w.cn().machine().lookup(HOA, CN), Some(COA_A));
        let st = w.mn().machine().home_entry().unwrap().state;
        assert!(
            matches!(st, PrimaryState::Bound | PrimaryState::WaitAr),
            "{st:?}"
        );
        w.move_mn(2);
        let took = converge_away(&mut w, COA_B, secs(150));
        assert!(took < secs(150), "seed {seed}: link B");
        // Usable at all three (a refresh may be in flight: WAITAR).
        assert_eq!(w.ha().machine().lookup(HOA), Some(COA_B));
        assert_eq!(w.cn().machine().lookup(HOA, CN), Some(COA_B));
        let st = w.mn().machine().home_entry().unwrap().state;
        assert!(
            matches!(st, PrimaryState::Bound | PrimaryState::WaitAr),
            "{st:?}"
        );
    }
}
