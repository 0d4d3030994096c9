//! The mobsim network core: timing, loss, duplication, reordering,
//! bandwidth, routing, movement, link state and determinism.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // test code

use std::net::Ipv6Addr;
use std::time::Duration;

use mobsim::net::toy::{UdpEcho, UdpPinger};
use mobsim::net::{Action, Endpoint, IfaceId, LinkConfig, LinkEvent, NodeId, Router, Sim, ip};

fn a(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Records every packet it receives with its time; sends what it is told.
#[derive(Default)]
struct Probe {
    rx: Vec<(Duration, Vec<u8>)>,
    events: Vec<(Duration, LinkEvent)>,
    out: Vec<Action>,
}

impl Probe {
    fn send(&mut self, packet: Vec<u8>) {
        self.out.push(Action::Transmit {
            iface: IfaceId(0),
            next_hop: None,
            packet,
        });
    }
}

impl Endpoint for Probe {
    fn handle_packet(&mut self, now: Duration, _iface: IfaceId, packet: &[u8]) {
        self.rx.push((now, packet.to_vec()));
    }
    fn handle_timeout(&mut self, _now: Duration) {}
    fn handle_link_event(&mut self, now: Duration, _iface: IfaceId, event: &LinkEvent) {
        self.events.push((now, event.clone()));
    }
    fn poll_action(&mut self) -> Option<Action> {
        if self.out.is_empty() {
            None
        } else {
            Some(self.out.remove(0))
        }
    }
    fn poll_timeout(&self) -> Option<Duration> {
        None
    }
}

fn two_probes(cfg: LinkConfig, seed: u64) -> (Sim, NodeId, NodeId, mobsim::net::LinkId) {
    let mut sim = Sim::new(seed);
    let link = sim.add_link(cfg);
    let x = sim.add_node("x", Probe::default());
    let y = sim.add_node("y", Probe::default());
    sim.add_iface(x, Some(link), &[a("2001:db8::1")]);
    sim.add_iface(y, Some(link), &[a("2001:db8::2")]);
    (sim, x, y, link)
}

fn udp(n: u8, len: usize) -> Vec<u8> {
    ip::build_udp(a("2001:db8::1"), a("2001:db8::2"), 1, 2, 64, &vec![n; len]).unwrap()
}

#[test]
fn delay_is_exact_and_packets_keep_order_without_jitter() {
    let (mut sim, x, y, link) = two_probes(LinkConfig::new("l").delay(ms(10)), 1);
    sim.run_until(ms(5)).unwrap();
    sim.with_endpoint::<Probe, _>(x, |p, _| {
        for n in 0..5 {
            p.send(udp(n, 10));
        }
    });
    sim.run_until(ms(100)).unwrap();
    let rx = &sim.endpoint::<Probe>(y).unwrap().rx;
    assert_eq!(rx.len(), 5);
    for (i, (t, p)) in rx.iter().enumerate() {
        assert_eq!(*t, ms(15), "sent at 5 ms + 10 ms delay");
        assert_eq!(p[48], i as u8, "order kept");
    }
    assert_eq!(sim.link_stats(link).delivered, 5);
    // The sender does not hear itself.
    assert!(sim.endpoint::<Probe>(x).unwrap().rx.is_empty());
}

#[test]
fn bandwidth_serialises_packets() {
    // 8 Mbit/s: a 1000-byte packet takes 8000 bits / 8e6 bit/s = 1 ms.
    let (mut sim, x, y, _) = two_probes(LinkConfig::new("l").delay(ms(2)).bandwidth(8_000_000), 1);
    sim.with_endpoint::<Probe, _>(x, |p, _| {
        for n in 0..3 {
            p.send(udp(n, 1000 - 48));
        }
    });
    sim.run_until(ms(50)).unwrap();
    let times: Vec<Duration> = sim
        .endpoint::<Probe>(y)
        .unwrap()
        .rx
        .iter()
        .map(|(t, _)| *t)
        .collect();
    assert_eq!(times, vec![ms(3), ms(4), ms(5)]);
}

#[test]
fn loss_duplication_and_reordering_rates_follow_the_configuration() {
    let cfg = LinkConfig::new("l")
        .delay(ms(1))
        .loss(0.25)
        .duplicate(0.1)
        .reorder(0.2, ms(50));
    let (mut sim, x, y, link) = two_probes(cfg, 99);
    let n = 4000u32;
    for i in 0..n {
        sim.schedule(ms(u64::from(i)), move |s| {
            s.with_endpoint::<Probe, _>(x, |p, _| {
                let mut pkt = udp(0, 4);
                pkt[48..52].copy_from_slice(&i.to_be_bytes());
                p.send(pkt);
            });
        });
    }
    sim.run_until(ms(u64::from(n) + 1000)).unwrap();
    let st = sim.link_stats(link);
    assert_eq!(st.sent, u64::from(n));
    let lost = st.lost as f64 / f64::from(n);
    assert!((0.22..0.28).contains(&lost), "loss rate {lost}");
    let survivors = u64::from(n) - st.lost;
    let dup = st.duplicated as f64 / survivors as f64;
    assert!((0.08..0.12).contains(&dup), "duplication rate {dup}");
    let rx = &sim.endpoint::<Probe>(y).unwrap().rx;
    assert_eq!(rx.len() as u64, survivors + st.duplicated);
    assert_eq!(st.delivered, rx.len() as u64);
    let seqs: Vec<u32> = rx
        .iter()
        .map(|(_, p)| u32::from_be_bytes(p[48..52].try_into().unwrap()))
        .collect();
    let inversions = seqs.windows(2).filter(|w| w[1] < w[0]).count();
    assert!(
        inversions > 100,
        "reordering produced {inversions} inversions"
    );
}

#[test]
fn jitter_stays_within_bounds() {
    let (mut sim, x, y, _) = two_probes(LinkConfig::new("l").delay(ms(10)).jitter(ms(4)), 5);
    sim.with_endpoint::<Probe, _>(x, |p, _| {
        for n in 0..200 {
            p.send(udp(n as u8, 4));
        }
    });
    sim.run_until(ms(100)).unwrap();
    let rx = &sim.endpoint::<Probe>(y).unwrap().rx;
    assert_eq!(rx.len(), 200);
    assert!(rx.iter().all(|(t, _)| *t >= ms(10) && *t <= ms(14)));
    assert!(rx.iter().any(|(t, _)| *t > ms(12)) && rx.iter().any(|(t, _)| *t < ms(12)));
}

#[test]
fn mtu_link_down_and_no_neighbour_drops_are_counted() {
    let (mut sim, x, y, link) = two_probes(LinkConfig::new("l").mtu(1280), 1);
    sim.with_endpoint::<Probe, _>(x, |p, _| {
        p.send(udp(0, 1281 - 48)); // one byte over the MTU
        p.send(ip::build_udp(a("2001:db8::1"), a("2001:db8::99"), 1, 2, 64, b"?").unwrap());
        p.send(vec![0x40; 40]); // IPv4-looking garbage
    });
    sim.set_link_up(link, false);
    sim.with_endpoint::<Probe, _>(x, |p, _| p.send(udp(1, 4)));
    sim.set_link_up(link, true);
    sim.run_until(ms(10)).unwrap();
    let st = sim.link_stats(link);
    assert_eq!(st.dropped_too_big, 1);
    assert_eq!(st.dropped_no_neighbour, 1);
    assert_eq!(st.dropped_not_ipv6, 1);
    assert_eq!(st.dropped_down, 1);
    assert_eq!(st.delivered, 0);
    let ev: Vec<LinkEvent> = sim
        .endpoint::<Probe>(y)
        .unwrap()
        .events
        .iter()
        .map(|e| e.1.clone())
        .collect();
    assert!(matches!(ev[0], LinkEvent::Attached { up: true, .. }));
    assert_eq!(&ev[1..], &[LinkEvent::Down, LinkEvent::Up]);
}

#[test]
fn packets_in_flight_when_the_link_goes_down_are_dropped() {
    let (mut sim, x, y, link) = two_probes(LinkConfig::new("l").delay(ms(10)), 1);
    sim.with_endpoint::<Probe, _>(x, |p, _| p.send(udp(0, 4)));
    sim.schedule(ms(5), move |s| s.set_link_up(link, false));
    sim.run_until(ms(20)).unwrap();
    assert!(sim.endpoint::<Probe>(y).unwrap().rx.is_empty());
    assert_eq!(sim.link_stats(link).dropped_down, 1);
}

/// h1 — r1 — r2 — h2 with longest-prefix routes, and a mobile host that
/// moves from r2's first link to its second.
#[test]
fn routers_forward_by_longest_prefix_and_nodes_move() {
    let mut sim = Sim::new(3);
    let l1 = sim.add_link(
        LinkConfig::new("l1")
            .delay(ms(1))
            .prefix(a("2001:db8:1::"), 64),
    );
    let core = sim.add_link(LinkConfig::new("core").delay(ms(5)));
    let l2 = sim.add_link(
        LinkConfig::new("l2")
            .delay(ms(1))
            .prefix(a("2001:db8:2::"), 64),
    );
    let l3 = sim.add_link(
        LinkConfig::new("l3")
            .delay(ms(1))
            .prefix(a("2001:db8:3::"), 64),
    );
    let r1 = sim.add_node(
        "r1",
        Router::new()
            .route(a("2001:db8:1::"), 64, IfaceId(0), None)
            .route(a("::"), 0, IfaceId(1), Some(a("2001:db8:ff::2"))),
    );
    sim.add_router_iface(r1, Some(l1), &[a("2001:db8:1::ffff")]);
    sim.add_router_iface(r1, Some(core), &[a("2001:db8:ff::1")]);
    let r2 = sim.add_node(
        "r2",
        Router::new()
            .route(a("2001:db8::"), 32, IfaceId(0), Some(a("2001:db8:ff::1")))
            .route(a("2001:db8:2::"), 64, IfaceId(1), None)
            .route(a("2001:db8:3::"), 64, IfaceId(2), None),
    );
    sim.add_router_iface(r2, Some(core), &[a("2001:db8:ff::2")]);
    sim.add_router_iface(r2, Some(l2), &[a("2001:db8:2::ffff")]);
    sim.add_router_iface(r2, Some(l3), &[a("2001:db8:3::ffff")]);
    let h1 = sim.add_node("h1", Probe::default());
    sim.add_iface(h1, Some(l1), &[a("2001:db8:1::1")]);
    let h2 = sim.add_node("h2", Probe::default());
    let h2_if = sim.add_iface(h2, Some(l2), &[a("2001:db8:2::2")]);

    let to = |dst: &str| ip::build_udp(a("2001:db8:1::1"), a(dst), 1, 2, 64, b"hi").unwrap();
    sim.with_endpoint::<Probe, _>(h1, |p, _| p.send(to("2001:db8:2::2")));
    sim.run_until(ms(50)).unwrap();
    {
        let rx = &sim.endpoint::<Probe>(h2).unwrap().rx;
        assert_eq!(rx.len(), 1);
        assert_eq!(rx[0].0, ms(1 + 5 + 1), "three link delays");
        assert_eq!(rx[0].1[7], 62, "two routers decremented the hop limit");
    }

    // h2 moves to l3 and takes an address there; its old address is gone.
    sim.move_iface(h2, h2_if, Some(l3));
    sim.with_endpoint::<Probe, _>(h2, |p, _| {
        p.out.push(Action::ReleaseAddress {
            iface: IfaceId(0),
            addr: a("2001:db8:2::2"),
        });
        p.out.push(Action::ClaimAddress {
            iface: IfaceId(0),
            addr: a("2001:db8:3::2"),
        });
    });
    assert_eq!(sim.iface_addrs(h2, h2_if), &[a("2001:db8:3::2")]);
    let events = &sim.endpoint::<Probe>(h2).unwrap().events;
    assert_eq!(
        events.last().unwrap().1,
        LinkEvent::Attached {
            link: l3,
            prefix: Some((a("2001:db8:3::"), 64)),
            up: true
        }
    );
    sim.with_endpoint::<Probe, _>(h1, |p, _| {
        p.send(to("2001:db8:2::2"));
        p.send(to("2001:db8:3::2"));
    });
    sim.run_until(ms(100)).unwrap();
    let rx = &sim.endpoint::<Probe>(h2).unwrap().rx;
    assert_eq!(rx.len(), 2);
    assert_eq!(&rx[1].1[24..40], &a("2001:db8:3::2").octets());
    assert_eq!(
        sim.link_stats(l2).dropped_no_neighbour,
        1,
        "nobody owns the old address"
    );
    assert_eq!(sim.endpoint::<Router>(r1).unwrap().stats().forwarded, 3);
}

#[test]
fn in_flight_packets_to_a_node_that_moved_are_dropped() {
    let mut sim = Sim::new(1);
    let l1 = sim.add_link(LinkConfig::new("l1").delay(ms(10)));
    let l2 = sim.add_link(LinkConfig::new("l2"));
    let x = sim.add_node("x", Probe::default());
    let y = sim.add_node("y", Probe::default());
    sim.add_iface(x, Some(l1), &[a("2001:db8::1")]);
    let yi = sim.add_iface(y, Some(l1), &[a("2001:db8::2")]);
    sim.with_endpoint::<Probe, _>(x, |p, _| p.send(udp(0, 4)));
    sim.schedule(ms(5), move |s| s.move_iface(y, yi, Some(l2)));
    sim.run_until(ms(30)).unwrap();
    assert!(sim.endpoint::<Probe>(y).unwrap().rx.is_empty());
    assert_eq!(sim.link_stats(l1).dropped_moved, 1);
    assert_eq!(sim.iface_link(y, yi), Some(l2));
}

fn lossy_run(seed: u64) -> (Vec<u8>, u32) {
    let mut sim = Sim::new(seed);
    let cfg = LinkConfig::new("lossy")
        .delay(ms(20))
        .jitter(ms(15))
        .loss(0.1)
        .duplicate(0.05)
        .reorder(0.05, ms(30));
    let lan = sim.add_link(cfg);
    let pa = a("2001:db8::a");
    let pb = a("2001:db8::b");
    let p = sim.add_node("pinger", UdpPinger::new(pa, pb, ms(10), 200));
    let e = sim.add_node("echo", UdpEcho::new());
    sim.add_iface(p, Some(lan), &[pa]);
    sim.add_iface(e, Some(lan), &[pb]);
    sim.capture(lan);
    sim.run_until(Duration::from_secs(5)).unwrap();
    let replies = sim.endpoint::<UdpPinger>(p).unwrap().replies();
    (sim.pcapng(&[lan]), replies)
}

#[test]
fn same_seed_gives_identical_capture_bytes() {
    let (c1, r1) = lossy_run(42);
    let (c2, r2) = lossy_run(42);
    assert_eq!(c1, c2);
    assert_eq!(r1, r2);
    let (c3, _) = lossy_run(43);
    assert_ne!(c1, c3, "another seed gives another run");
}

#[test]
fn timers_fire_at_their_deadlines() {
    let mut sim = Sim::new(1);
    let lan = sim.add_link(LinkConfig::new("lan"));
    let p = sim.add_node("p", UdpPinger::new(a("::1"), a("::2"), ms(250), 4));
    sim.add_iface(p, Some(lan), &[a("::1")]);
    sim.capture(lan);
    sim.run_until(Duration::from_secs(10)).unwrap();
    let times: Vec<Duration> = sim.captured(lan).iter().map(|(t, _)| *t).collect();
    assert_eq!(times, vec![ms(0), ms(250), ms(500), ms(750)]);
}

/// An endpoint that always asks to be woken now: the event limit stops it.
struct Spinner;
impl Endpoint for Spinner {
    fn handle_packet(&mut self, _: Duration, _: IfaceId, _: &[u8]) {}
    fn handle_timeout(&mut self, _: Duration) {}
    fn poll_action(&mut self) -> Option<Action> {
        None
    }
    fn poll_timeout(&self) -> Option<Duration> {
        Some(Duration::ZERO)
    }
}

#[test]
fn a_spinning_endpoint_hits_the_event_limit() {
    let mut sim = Sim::new(1);
    sim.add_node("spin", Spinner);
    sim.set_event_limit(1000);
    assert!(sim.run_until(ms(1)).is_err());
}
