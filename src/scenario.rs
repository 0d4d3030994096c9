//! Scenarios run by `mobsim tour` and `mobsim scenario`.
//!
//! A scenario builds a network on [`crate::net::Sim`], runs it and reports a
//! timeline, a summary table and the links it captured. `mobsim tour` runs
//! every scenario in order; the protocol scenarios join the list as their
//! crates gain their state machines.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use crate::net::toy::{UdpEcho, UdpPinger};
use crate::net::{IfaceId, LinkConfig, LinkId, Router, Sim, SimError};

/// What a scenario run produced.
pub struct Report {
    /// The simulator after the run (timeline, captures, counters).
    pub sim: Sim,
    /// Summary rows: (what, value).
    pub summary: Vec<(String, String)>,
    /// The links that were captured.
    pub captured: Vec<LinkId>,
    /// Whether the scenario reached what it set out to show.
    pub ok: bool,
}

/// A named scenario.
pub struct Scenario {
    /// Name given to `mobsim scenario`.
    pub name: &'static str,
    /// One line on what it shows.
    pub about: &'static str,
    /// Runs it with a seed.
    pub run: fn(u64) -> Result<Report, SimError>,
}

/// Every scenario, in tour order.
pub fn all() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "net-handover",
            about: "the network core: a UDP pinger behind two routers, a lossy access link, and a move to another link",
            run: net_handover,
        },
        Scenario {
            name: "mip6-handover",
            about: "Mobile IPv6: a mobile node leaves home, moves between two lossy visited links and returns, with its home agent and a route-optimising correspondent",
            run: mip6_handover,
        },
        Scenario {
            name: "shim6-multihoming",
            about: "Shim6: two multihomed hosts with HBA addresses establish a context over lossy links, move traffic to other locators, and survive a link failure with a locator update",
            run: shim6_multihoming,
        },
    ]
}

fn addr(s: &str) -> std::net::Ipv6Addr {
    s.parse().unwrap_or(std::net::Ipv6Addr::UNSPECIFIED)
}

/// A pinger on a lossy access link reaches an echo server two routers
/// away, then moves to a second access link and takes a new address there.
pub fn net_handover(seed: u64) -> Result<Report, SimError> {
    let ms = Duration::from_millis;
    let mut sim = Sim::new(seed);
    let access1 = sim.add_link(
        LinkConfig::new("access1")
            .delay(ms(5))
            .jitter(ms(2))
            .loss(0.1)
            .prefix(addr("2001:db8:1::"), 64),
    );
    let access2 = sim.add_link(
        LinkConfig::new("access2")
            .delay(ms(3))
            .prefix(addr("2001:db8:2::"), 64),
    );
    let core = sim.add_link(LinkConfig::new("core").delay(ms(20)).bandwidth(10_000_000));
    let server_lan = sim.add_link(
        LinkConfig::new("server-lan")
            .delay(ms(1))
            .prefix(addr("2001:db8:9::"), 64),
    );

    let edge = sim.add_node(
        "edge-router",
        Router::new()
            .route(addr("2001:db8:1::"), 64, IfaceId(0), None)
            .route(addr("2001:db8:2::"), 64, IfaceId(1), None)
            .route(addr("::"), 0, IfaceId(2), Some(addr("2001:db8:ff::2"))),
    );
    sim.add_router_iface(edge, Some(access1), &[addr("2001:db8:1::1")]);
    sim.add_router_iface(edge, Some(access2), &[addr("2001:db8:2::1")]);
    sim.add_router_iface(edge, Some(core), &[addr("2001:db8:ff::1")]);
    let dc = sim.add_node(
        "dc-router",
        Router::new()
            .route(addr("2001:db8:9::"), 64, IfaceId(1), None)
            .route(addr("::"), 0, IfaceId(0), Some(addr("2001:db8:ff::1"))),
    );
    sim.add_router_iface(dc, Some(core), &[addr("2001:db8:ff::2")]);
    sim.add_router_iface(dc, Some(server_lan), &[addr("2001:db8:9::1")]);

    let server_addr = addr("2001:db8:9::7");
    let server = sim.add_node("echo-server", UdpEcho::new());
    sim.add_iface(server, Some(server_lan), &[server_addr]);
    let coa1 = addr("2001:db8:1::100");
    let pinger = sim.add_node("mobile", UdpPinger::new(coa1, server_addr, ms(100), 40));
    let mif = sim.add_iface(pinger, Some(access1), &[coa1]);
    for l in [access1, access2, core, server_lan] {
        sim.capture(l);
    }
    sim.note("mobile starts pinging the echo server from access1 (10 % loss)");
    sim.schedule(ms(2_000), move |s| {
        s.move_iface(pinger, mif, Some(access2));
        s.note("mobile moves to access2; packets in flight to it are lost and it keeps its old source address");
    });
    sim.run_until(Duration::from_secs(6))?;

    let (sent, replies) = sim
        .endpoint::<UdpPinger>(pinger)
        .map(|p| (p.sent(), p.replies()))
        .unwrap_or_default();
    let answered = sim
        .endpoint::<UdpEcho>(server)
        .map(UdpEcho::answered)
        .unwrap_or(0);
    sim.note(format!(
        "done: {sent} requests, {answered} answered, {replies} replies back"
    ));
    let mut summary = vec![
        ("requests sent".to_owned(), sent.to_string()),
        ("requests answered".to_owned(), answered.to_string()),
        ("replies received".to_owned(), replies.to_string()),
    ];
    for l in [access1, access2, core, server_lan] {
        let st = sim.link_stats(l);
        summary.push((
            format!("link {}", sim.link_name(l).unwrap_or("?")),
            format!(
                "sent {} delivered {} lost {} no-neighbour {} moved {}",
                st.sent, st.delivered, st.lost, st.dropped_no_neighbour, st.dropped_moved
            ),
        ));
    }
    // Before the move the pinger hears replies; after it, replies go to the
    // old link, where nobody owns its address any more.
    let ok = sent == 40
        && replies > 0
        && u64::from(replies) < answered
        && sim.link_stats(access1).dropped_no_neighbour > 0;
    Ok(Report {
        sim,
        summary,
        captured: vec![access1, access2, core, server_lan],
        ok,
    })
}

/// Mobile IPv6 over [`crate::drivers::mip6::Mip6World`]: the mobile node
/// pings the correspondent from its home address while it leaves home
/// (10 % loss, jitter and reordering on the visited links), moves to a
/// second visited link and returns home.
pub fn mip6_handover(seed: u64) -> Result<Report, SimError> {
    use crate::drivers::mip6::{Mip6World, Path, WorldConfig, addrs};
    let secs = Duration::from_secs;
    let mut w = Mip6World::new(&WorldConfig {
        seed,
        loss: 0.1,
        reorder: 0.1,
        jitter: Duration::from_millis(20),
        duplicate: 0.02,
        ping_interval: Duration::from_millis(500),
        ..WorldConfig::default()
    });
    w.sim
        .note("mobile node at home pings the correspondent from its home address");
    w.sim.run_until(secs(2))?;
    let mut summary = Vec::new();
    let mut ok = true;
    for (i, (link, coa)) in [(1, addrs::COA_A), (2, addrs::COA_B)]
        .into_iter()
        .enumerate()
    {
        w.move_mn(link);
        w.sim.note(format!(
            "mobile node moves to visited link {}",
            if i == 0 { "A" } else { "B" }
        ));
        let start = w.sim.now();
        let (mn_id, cn_id) = (w.mn, w.cn);
        let reached = w.sim.run_until_cond(start.saturating_add(secs(120)), |s| {
            let mn = s.endpoint::<crate::drivers::mip6::MnNode>(mn_id);
            let cn = s.endpoint::<crate::drivers::mip6::CnNode>(cn_id);
            mn.is_some_and(|m| {
                m.home_binding() == Some((addrs::HA, coa))
                    && m.route_optimised(addrs::CN) == Some(coa)
            }) && cn.is_some_and(|c| c.machine().lookup(addrs::HOA, addrs::CN) == Some(coa))
        })?;
        let took = w.sim.now().saturating_sub(start);
        w.sim.note(format!(
            "home registration and route optimisation for {coa}: {}",
            if reached {
                format!("bound after {:.3} s", took.as_secs_f64())
            } else {
                "NOT bound".to_owned()
            }
        ));
        summary.push((
            format!("bound with care-of {coa} after"),
            format!("{:.3} s", took.as_secs_f64()),
        ));
        ok &= reached;
        w.sim.run_for(secs(5))?;
    }
    w.move_mn(0);
    w.sim.note("mobile node returns home");
    let start = w.sim.now();
    let (mn_id, ha_id) = (w.mn, w.ha);
    let home = w.sim.run_until_cond(start.saturating_add(secs(60)), |s| {
        s.endpoint::<crate::drivers::mip6::MnNode>(mn_id)
            .is_some_and(|m| m.home_binding().is_none())
            && s.endpoint::<crate::drivers::mip6::HaNode>(ha_id)
                .is_some_and(|h| h.machine().bindings() == 0)
    })?;
    w.sim.note(format!(
        "home binding removed: {}",
        if home {
            format!(
                "after {:.3} s",
                w.sim.now().saturating_sub(start).as_secs_f64()
            )
        } else {
            "NOT removed".to_owned()
        }
    ));
    ok &= home;
    w.sim.run_for(secs(3))?;
    let count = |p: Path| w.mn().replies().iter().filter(|r| r.path == p).count();
    let req = w.mn().requests();
    summary.push((
        "requests home / tunnelled / route-optimised / no path".to_owned(),
        format!(
            "{} / {} / {} / {}",
            req.home, req.tunnelled, req.route_optimised, req.no_path
        ),
    ));
    summary.push((
        "replies home / tunnelled / route-optimised".to_owned(),
        format!(
            "{} / {} / {}",
            count(Path::Home),
            count(Path::Tunnelled),
            count(Path::RouteOptimised)
        ),
    ));
    let st = w.mn().machine().stats();
    summary.push((
        "mobile node BU sent / BA accepted / HoTI+CoTI sent".to_owned(),
        format!(
            "{} / {} / {}",
            st.bu_sent, st.ba_accepted, st.test_init_sent
        ),
    ));
    ok &= count(Path::RouteOptimised) > 0 && count(Path::Tunnelled) > 0;
    let captured = w.links.to_vec();
    Ok(Report {
        sim: w.sim,
        summary,
        captured,
        ok,
    })
}

/// Shim6 over [`crate::drivers::shim6::Shim6World`]: two hosts with three
/// HBA locators each (5 % loss, duplication and reordering on every access
/// link) establish a context, move their traffic to their last locators,
/// then host 0 loses the link of its last locator, withdraws that locator
/// with an Update Request and moves its traffic to its first locators.
pub fn shim6_multihoming(seed: u64) -> Result<Report, SimError> {
    use crate::drivers::shim6::{Shim6Node, Shim6World, Shim6WorldConfig, Via, site_prefix};
    use hba_cga::{cga::Sec, hba::HbaSet};
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;
    use shim6_proto::locators::LocalIdentity;

    let secs = Duration::from_secs;
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut id = |site: u16| {
        let prefixes: Vec<[u8; 8]> = (0..3).map(|i| site_prefix(site, i)).collect();
        HbaSet::generate(&mut rng, &prefixes, Sec::ZERO, None)
            .ok()
            .and_then(|set| LocalIdentity::from_hba(&set, 0).ok())
    };
    let (Some(a), Some(b)) = (id(0xa), id(0xb)) else {
        return Err(SimError::Setup("HBA set generation failed".to_owned()));
    };
    let cfg = Shim6WorldConfig {
        seed,
        loss: 0.05,
        duplicate: 0.02,
        reorder: 0.05,
        ..Shim6WorldConfig::default()
    };
    let mut w = Shim6World::new(&cfg, [a, b]).map_err(|e| SimError::Setup(format!("{e:?}")))?;
    let (h0, h1) = (w.hosts[0], w.hosts[1]);
    w.sim
        .note("host 0 pings host 1 ULID to ULID; it starts a Shim6 context at 0.5 s");
    let up = w.sim.run_until_cond(secs(300), |s| {
        [h0, h1].iter().all(|h| {
            s.endpoint::<Shim6Node>(*h)
                .is_some_and(|n| n.established() == 1)
        })
    })?;
    let mut ok = up;
    w.sim
        .note(format!("context established on both hosts: {up}"));
    // Both move to their last locators.
    let mut pairs = Vec::new();
    for i in 0..2 {
        let me = w.node(i);
        let peer = w.node(1 - i);
        if let (Some(tag), Some(l), Some(p)) = (
            me.context(peer.ulid()).and_then(|c| c.ct_local),
            me.locators().last().copied(),
            peer.locators().last().copied(),
        ) {
            pairs.push((i, tag, l, p));
        }
    }
    for (i, tag, l, p) in &pairs {
        let (tag, l, p) = (*tag, *l, *p);
        let node = if *i == 0 { h0 } else { h1 };
        let done = w.sim.with_endpoint::<Shim6Node, _>(node, |n, now| {
            n.command(now, |h, _| h.set_locator_pair(tag, l, p))
        });
        ok &= matches!(done, Some(Ok(())));
        w.sim.note(format!("host {i} sends from {l} to {p}"));
    }
    w.sim.run_for(secs(5))?;
    // Host 0's last link fails.
    let failed_link = w.links[0].last().copied();
    if let Some(l) = failed_link {
        w.sim.set_link_up(l, false);
    }
    let gone = w.node(0).locators().last().copied();
    w.sim.note(format!(
        "host 0's link for {} goes down",
        gone.map(|g| g.to_string()).unwrap_or_default()
    ));
    let t_fail = w.sim.now();
    w.sim.run_for(secs(2))?;
    if let Some(gone) = gone {
        let list = w.locators_without(0, gone);
        let ulid0 = w.node(0).ulid();
        let peer_ulid = w.node(1).ulid();
        let first_peer = w.node(1).locators().first().copied();
        let started = w.sim.with_endpoint::<Shim6Node, _>(h0, |n, now| {
            let tag = n.context(peer_ulid).and_then(|c| c.ct_local);
            n.command(now, |h, now| {
                let r = h.update_locators(now, ulid0, list);
                if let (Some(tag), Some(p)) = (tag, first_peer) {
                    let _ = h.set_locator_pair(tag, ulid0, p);
                }
                r
            })
        });
        w.sim.note(format!(
            "host 0 withdraws {gone} (Update Request) and sends from its ULID: {:?}",
            started.map(|r| r.is_ok())
        ));
    }
    let t_update = w.sim.now();
    w.sim.run_for(secs(10))?;
    let replies = w.node(0).replies();
    let before_fail = replies
        .iter()
        .filter(|r| r.at <= t_fail && r.via == Via::Shim)
        .count();
    let during = replies
        .iter()
        .filter(|r| r.at > t_fail && r.at <= t_update)
        .count();
    let after = replies
        .iter()
        .filter(|r| r.at > t_update && r.via == Via::Shim)
        .count();
    let st0 = w.node(0).machine().stats();
    let st1 = w.node(1).machine().stats();
    let peer_view = w
        .node(1)
        .context(w.node(0).ulid())
        .and_then(|c| c.ct_local)
        .and_then(|t| w.node(1).machine().peer_locators(t).map(<[_]>::len));
    let summary = vec![
        (
            "replies through the shim before the failure".to_owned(),
            before_fail.to_string(),
        ),
        (
            "replies while the link was down".to_owned(),
            during.to_string(),
        ),
        (
            "replies through the shim after the update".to_owned(),
            after.to_string(),
        ),
        (
            "host 1's view of host 0's locators".to_owned(),
            format!("{peer_view:?}"),
        ),
        (
            "host 0 sent I1/I2/UpdateRequest".to_owned(),
            format!(
                "{}/{}/{}",
                st0.sent.i1, st0.sent.i2, st0.sent.update_request
            ),
        ),
        (
            "host 1 sent R1/R2/UpdateAck".to_owned(),
            format!("{}/{}/{}", st1.sent.r1, st1.sent.r2, st1.sent.update_ack),
        ),
    ];
    ok &= before_fail > 0 && after > 0 && peer_view == Some(2);
    let captured = w.all_links();
    Ok(Report {
        sim: w.sim,
        summary,
        captured,
        ok,
    })
}

fn print_report(name: &str, report: &Report) {
    println!("== scenario {name}");
    for n in report.sim.notes() {
        println!("  {:>10.3} s  {}", n.at.as_secs_f64(), n.text);
    }
    let width = report
        .summary
        .iter()
        .map(|(k, _)| k.len())
        .max()
        .unwrap_or(0);
    for (k, v) in &report.summary {
        println!("  {k:<width$}  {v}");
    }
    println!("  result: {}", if report.ok { "ok" } else { "NOT REACHED" });
}

/// `mobsim tour`: every scenario, then what else the suite offers.
pub fn tour(seed: u64) -> ExitCode {
    println!("mobsim tour (seed {seed})");
    println!("Protocol scenarios join this tour as their crates gain state machines.");
    let mut ok = true;
    for sc in all() {
        println!();
        match (sc.run)(seed) {
            Ok(r) => {
                print_report(sc.name, &r);
                ok &= r.ok;
            }
            Err(e) => {
                println!("== scenario {}: {e}", sc.name);
                ok = false;
            }
        }
    }
    println!();
    println!(
        "Also available: `mobsim decode HEX` (packets as JSON), `mobsim cga` (CGA/HBA tools),"
    );
    println!("`mobsim scenario --list`.");
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `mobsim scenario`.
pub fn run_cli(name: Option<&str>, list: bool, seed: u64, pcap_dir: Option<&Path>) -> ExitCode {
    let scenarios = all();
    let Some(name) = name.filter(|_| !list) else {
        for sc in &scenarios {
            println!("{:<16} {}", sc.name, sc.about);
        }
        return if list {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(2)
        };
    };
    let Some(sc) = scenarios.iter().find(|s| s.name == name) else {
        eprintln!("mobsim scenario: no scenario named {name:?} (see --list)");
        return ExitCode::from(2);
    };
    let report = match (sc.run)(seed) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("mobsim scenario {name}: {e}");
            return ExitCode::FAILURE;
        }
    };
    print_report(sc.name, &report);
    if let Some(dir) = pcap_dir {
        let path = dir.join(format!("{name}.pcapng"));
        if let Err(e) = std::fs::create_dir_all(dir)
            .and_then(|()| std::fs::write(&path, report.sim.pcapng(&report.captured)))
        {
            eprintln!("mobsim scenario: cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        println!("  capture: {}", path.display());
    }
    if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
