//! LIN6 multihoming failover end to end through the mobsim network core.
//!
//! Topology (one router R, four links):
//!
//! ```text
//!   A (multihomed) --L1 2001:db8:1::/64-- R --L3 2001:db8:3::/64-- B
//!                  --L2 2001:db8:2::/64-- R --L4 2001:db8:f::/64-- MA
//! ```
//!
//! A registers both locators (prefix 1 preferred) with the MA. B queries
//! A's mapping, opens a connection and pings A's generalized ID every
//! 100 ms; A echoes from the locator the ping arrived on. At 3 s link L1
//! goes down. A's driver does not watch link state, so only B's driver
//! notices (no echo for 350 ms: a timeout failure signal); B's resolver
//! switches the connection to A's next locator (prefix 2) with an event and
//! the echoes resume. Every ping and echo is mapped by the crate's data
//! plane and verified against its UDP checksum over the generalized IDs
//! after the receiver's inbound mapping.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // test code

use std::collections::VecDeque;
use std::net::Ipv6Addr;
use std::time::Duration;

use lin6_proto::addr::{AddrConfig, Lin6Id, Prefix};
use lin6_proto::agent::{self, Agent, AgentConfig, ServiceLevel};
use lin6_proto::dataplane::{PendingQueue, map_inbound, rewrite_outbound};
use lin6_proto::io::{Datagram, sock};
use lin6_proto::resolver::{self, ConnId, FailureSignal, Resolver, ResolverConfig};
use lin6_proto::wire::{LOC_FLAG_UP, LocatorRecord};
use mobsim::net::{Action, Endpoint, IfaceId, LinkConfig, Router, Sim, ip};
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;

const MA_PORT: u16 = 7360;
const APP_PORT: u16 = 9000;

fn a(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}
fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}
fn pfx(s: &str) -> Prefix {
    Prefix::of(&a(s))
}
fn id_a() -> Lin6Id {
    Lin6Id([0x02, 0x01, 0x4a, 0, 0, 0, 0, 0x0a])
}
fn id_b() -> Lin6Id {
    Lin6Id([0x02, 0x01, 0x4a, 0, 0, 0, 0, 0x0b])
}
fn ma_addr() -> Ipv6Addr {
    a("2001:db8:f::53")
}

/// Hosts the agent machine.
struct MaNode {
    agent: Agent,
    out: VecDeque<Action>,
    registered: Vec<(Lin6Id, ServiceLevel, usize)>,
}

impl MaNode {
    fn flush(&mut self) {
        while let Some(o) = self.agent.poll_output() {
            match o {
                agent::Output::Transmit(t) => {
                    let src = t.src.unwrap_or(ma_addr());
                    let p =
                        ip::build_udp(src, *t.dst.ip(), t.src_port, t.dst.port(), 64, &t.payload)
                            .unwrap();
                    self.out.push_back(Action::Transmit {
                        iface: IfaceId(0),
                        next_hop: None,
                        packet: p,
                    });
                }
                agent::Output::Event(agent::Event::NodeRegistered {
                    lin6_id,
                    level,
                    locators,
                    ..
                }) => self.registered.push((lin6_id, level, locators.len())),
                agent::Output::Event(_) => {}
            }
        }
    }
}

impl Endpoint for MaNode {
    fn handle_packet(&mut self, now: Duration, _iface: IfaceId, packet: &[u8]) {
        if let Some(u) = ip::read_udp(packet)
            && u.dst_port == MA_PORT
            && u.checksum_ok
        {
            let d = Datagram {
                src: sock(u.ip.src, u.src_port),
                dst: sock(u.ip.dst, u.dst_port),
                payload: u.payload,
            };
            self.agent.handle_datagram(now, &d);
            self.flush();
        }
    }
    fn handle_timeout(&mut self, now: Duration) {
        self.agent.handle_timeout(now);
        self.flush();
    }
    fn poll_action(&mut self) -> Option<Action> {
        self.out.pop_front()
    }
    fn poll_timeout(&self) -> Option<Duration> {
        self.agent.poll_timeout()
    }
}

/// Hosts a resolver machine, the LIN6 data plane and a tiny application:
/// the pinger (B) or the echo responder (A).
struct Lin6Node {
    cfg: AddrConfig,
    res: Resolver<ChaCha8Rng>,
    /// (locator, interface) of this node.
    ifaces: Vec<(Prefix, IfaceId)>,
    pending: PendingQueue,
    out: VecDeque<Action>,
    events: Vec<(Duration, resolver::Event)>,
    /// Pinger state.
    ping_to: Option<Lin6Id>,
    conn: Option<ConnId>,
    next_ping: Option<Duration>,
    last_echo: Duration,
    last_switch: Duration,
    sent: u32,
    echoes: Vec<(Duration, u32, Prefix)>,
    /// Responder state: (peer, connection).
    conns: Vec<(Lin6Id, ConnId)>,
    bad_checksums: u32,
    got: u32,
}

impl Lin6Node {
    fn new(
        id: Lin6Id,
        key: &[u8],
        locs: Vec<LocatorRecord>,
        ifaces: Vec<(Prefix, IfaceId)>,
        seed: u64,
    ) -> Self {
        let rc = ResolverConfig::new(id, 1, key, vec![sock(ma_addr(), MA_PORT)], locs);
        let res = Resolver::new(rc, ChaCha8Rng::seed_from_u64(seed), Duration::ZERO).unwrap();
        Lin6Node {
            cfg: AddrConfig::default(),
            res,
            ifaces,
            pending: PendingQueue::new(64, 64 * 1500),
            out: VecDeque::new(),
            events: Vec::new(),
            ping_to: None,
            conn: None,
            next_ping: None,
            last_echo: Duration::ZERO,
            last_switch: Duration::ZERO,
            sent: 0,
            echoes: Vec::new(),
            conns: Vec::new(),
            bad_checksums: 0,
            got: 0,
        }
        // The first REGISTER waits in the machine's queue until the node has
        // an interface (see `handle_link_event`).
    }

    fn id(&self) -> Lin6Id {
        self.res.config().node_id
    }

    fn iface_of(&self, loc: Prefix) -> IfaceId {
        self.ifaces
            .iter()
            .find(|(p, _)| *p == loc)
            .map(|(_, i)| *i)
            .unwrap_or(IfaceId(0))
    }

    /// Sends a generalized-ID packet on `conn` (queues it while the mapping
    /// is unknown).
    fn send_app(&mut self, now: Duration, conn: ConnId, peer: Lin6Id, mut pkt: Vec<u8>) {
        match self.res.connection_locators(now, conn) {
            Some((src, dst)) => {
                let mapped = rewrite_outbound(&mut pkt, &self.cfg, src, dst).unwrap();
                assert_eq!(mapped, Some(peer));
                let iface = self.iface_of(src);
                self.out.push_back(Action::Transmit {
                    iface,
                    next_hop: None,
                    packet: pkt,
                });
            }
            None => {
                let _ = self.pending.push(now, peer, &pkt);
            }
        }
    }

    fn conn_for(&self, peer: Lin6Id) -> Option<ConnId> {
        if self.ping_to == Some(peer) {
            return self.conn;
        }
        self.conns.iter().find(|(p, _)| *p == peer).map(|(_, c)| *c)
    }

    fn flush(&mut self, now: Duration) {
        while let Some(o) = self.res.poll_output() {
            match o {
                resolver::Output::Transmit(t) => {
                    let src_loc = self.res.own_locator().unwrap();
                    let src = self.cfg.lin6_address(src_loc, self.id());
                    let p =
                        ip::build_udp(src, *t.dst.ip(), t.src_port, t.dst.port(), 64, &t.payload)
                            .unwrap();
                    let iface = self.iface_of(src_loc);
                    self.out.push_back(Action::Transmit {
                        iface,
                        next_hop: None,
                        packet: p,
                    });
                }
                resolver::Output::Event(e) => {
                    if let resolver::Event::MappingResolved { peer, .. } = &e {
                        let peer = *peer;
                        if let Some(c) = self.conn_for(peer) {
                            for pkt in self.pending.release(peer) {
                                self.send_app(now, c, peer, pkt);
                            }
                        }
                    }
                    self.events.push((now, e));
                }
            }
        }
    }

    fn ping(&mut self, now: Duration) {
        let (Some(peer), Some(conn)) = (self.ping_to, self.conn) else {
            return;
        };
        // Driver-level failure detection: no echo for 350 ms.
        if self.sent > 3
            && now.saturating_sub(self.last_echo) > ms(350)
            && now.saturating_sub(self.last_switch) > ms(350)
        {
            let _ = self.res.locator_failure(now, conn, FailureSignal::Timeout);
            self.last_switch = now;
            self.flush(now);
        }
        self.sent += 1;
        let me = self.cfg.generalized_id(self.id());
        let them = self.cfg.generalized_id(peer);
        let pkt =
            ip::build_udp(me, them, APP_PORT, APP_PORT, 64, &self.sent.to_be_bytes()).unwrap();
        self.send_app(now, conn, peer, pkt);
    }
}

impl Endpoint for Lin6Node {
    fn handle_packet(&mut self, now: Duration, _iface: IfaceId, packet: &[u8]) {
        let Some(u) = ip::read_udp(packet) else {
            return;
        };
        if u.dst_port == MA_PORT {
            let d = Datagram {
                src: sock(u.ip.src, u.src_port),
                dst: sock(u.ip.dst, u.dst_port),
                payload: u.payload,
            };
            if u.checksum_ok {
                self.res.handle_datagram(now, &d);
            }
            self.flush(now);
            return;
        }
        // Application traffic: map the LIN6 addresses back to generalized IDs.
        let arrived_on = Prefix::of(&u.ip.dst);
        let mut p = packet.to_vec();
        let m = map_inbound(&mut p, &self.cfg).unwrap();
        assert!(m.src_mapped && m.dst_mapped);
        let u = ip::read_udp(&p).unwrap();
        if !u.checksum_ok {
            self.bad_checksums += 1;
            return;
        }
        self.got += 1;
        let peer = Lin6Id::of(&u.ip.src);
        let n = u32::from_be_bytes(u.payload.try_into().unwrap());
        if self.ping_to == Some(peer) {
            self.echoes.push((now, n, arrived_on));
            self.last_echo = now;
            return;
        }
        // Responder: echo from the locator the ping arrived on.
        let conn = match self.conn_for(peer) {
            Some(c) => c,
            None => {
                let c = self.res.open_connection(now, peer).unwrap();
                self.conns.push((peer, c));
                c
            }
        };
        self.res.force_local_locator(conn, arrived_on).unwrap();
        let echo = ip::build_udp(u.ip.dst, u.ip.src, APP_PORT, u.src_port, 64, u.payload).unwrap();
        self.flush(now);
        self.send_app(now, conn, peer, echo);
        self.flush(now);
    }

    fn handle_timeout(&mut self, now: Duration) {
        self.res.handle_timeout(now);
        self.flush(now);
        if let Some(t) = self.next_ping
            && t <= now
        {
            self.ping(now);
            self.next_ping = Some(t + ms(100));
        }
    }

    fn handle_link_event(
        &mut self,
        now: Duration,
        _iface: IfaceId,
        _event: &mobsim::net::LinkEvent,
    ) {
        // This driver does not act on link state (the failure must be found
        // end to end); it only starts sending once attached.
        self.flush(now);
    }

    fn poll_action(&mut self) -> Option<Action> {
        self.out.pop_front()
    }

    fn poll_timeout(&self) -> Option<Duration> {
        match (self.res.poll_timeout(), self.next_ping) {
            (Some(x), Some(y)) => Some(x.min(y)),
            (x, y) => x.or(y),
        }
    }
}

#[test]
fn lin6_multihoming_failover_through_mobsim() {
    let first = scenario();
    assert_eq!(first, scenario(), "same seed, same capture bytes");
}

/// Wireshark reads the capture without a malformed-packet warning. With UDP
/// checksum validation on, the MA protocol datagrams (sent between real
/// addresses) verify, while the mapped application datagrams do not verify
/// against their on-the-wire addresses: LIN6 checksums cover the
/// generalized IDs, which is the point of the design.
#[test]
fn lin6_capture_dissects_cleanly() {
    let pcap = scenario();
    let packets = mobsim::tshark::dissect(&pcap, &[]).expect("tshark runs");
    assert!(packets.len() > 100);
    for p in &packets {
        assert!(
            mobsim::tshark::problems(p).is_empty(),
            "{:?}",
            mobsim::tshark::problems(p)
        );
    }
    let checked = mobsim::tshark::dissect(&pcap, &["udp.check_checksum:TRUE"]).unwrap();
    let (mut ma, mut app) = (0, 0);
    for p in &checked {
        let status = mobsim::tshark::field(p, "udp.checksum.status");
        let ports = (
            mobsim::tshark::field(p, "udp.srcport"),
            mobsim::tshark::field(p, "udp.dstport"),
        );
        if ports.0 == Some("7360") || ports.1 == Some("7360") {
            assert_eq!(status, Some("1"), "MA datagram checksum good");
            ma += 1;
        } else if ports.1 == Some("9000") {
            assert_eq!(
                status,
                Some("0"),
                "mapped datagram: checksum over generalized IDs"
            );
            app += 1;
        }
    }
    assert!(ma >= 4 && app > 50, "{ma} {app}");
}

/// Runs the scenario with its assertions; returns the pcapng of isp1, isp2
/// and the MA's link.
fn scenario() -> Vec<u8> {
    let mut sim = Sim::new(6);
    let d = ms(2);
    let l1 = sim.add_link(
        LinkConfig::new("isp1")
            .delay(d)
            .prefix(a("2001:db8:1::"), 64),
    );
    let l2 = sim.add_link(
        LinkConfig::new("isp2")
            .delay(d)
            .prefix(a("2001:db8:2::"), 64),
    );
    let l3 = sim.add_link(
        LinkConfig::new("b-net")
            .delay(d)
            .prefix(a("2001:db8:3::"), 64),
    );
    let l4 = sim.add_link(
        LinkConfig::new("ma-net")
            .delay(d)
            .prefix(a("2001:db8:f::"), 64),
    );

    let router = Router::new()
        .route(a("2001:db8:1::"), 64, IfaceId(0), None)
        .route(a("2001:db8:2::"), 64, IfaceId(1), None)
        .route(a("2001:db8:3::"), 64, IfaceId(2), None)
        .route(a("2001:db8:f::"), 64, IfaceId(3), None);
    let r = sim.add_node("router", router);
    sim.add_router_iface(r, Some(l1), &[a("2001:db8:1::1")]);
    sim.add_router_iface(r, Some(l2), &[a("2001:db8:2::1")]);
    sim.add_router_iface(r, Some(l3), &[a("2001:db8:3::1")]);
    sim.add_router_iface(r, Some(l4), &[a("2001:db8:f::1")]);

    let mut acfg = AgentConfig::new();
    acfg.nodes = vec![
        (id_a(), ServiceLevel::PREMIUM),
        (id_b(), ServiceLevel::NORMAL),
    ];
    acfg.keys = vec![
        (id_a(), 1, b"key-a".to_vec()),
        (id_b(), 1, b"key-b".to_vec()),
    ];
    let ma = sim.add_node(
        "ma",
        MaNode {
            agent: Agent::new(acfg, Duration::ZERO).unwrap(),
            out: VecDeque::new(),
            registered: vec![],
        },
    );
    sim.add_iface(ma, Some(l4), &[ma_addr()]);

    let (p1, p2, p3) = (
        pfx("2001:db8:1::"),
        pfx("2001:db8:2::"),
        pfx("2001:db8:3::"),
    );
    let up = |prefix, priority| LocatorRecord {
        prefix,
        priority,
        weight: 1,
        flags: LOC_FLAG_UP,
    };
    let cfg = AddrConfig::default();
    let node_a = Lin6Node::new(
        id_a(),
        b"key-a",
        vec![up(p1, 0), up(p2, 1)],
        vec![(p1, IfaceId(0)), (p2, IfaceId(1))],
        11,
    );
    let na = sim.add_node("a", node_a);
    sim.add_iface(na, Some(l1), &[cfg.lin6_address(p1, id_a())]);
    sim.add_iface(na, Some(l2), &[cfg.lin6_address(p2, id_a())]);
    let node_b = Lin6Node::new(
        id_b(),
        b"key-b",
        vec![up(p3, 0)],
        vec![(p3, IfaceId(0))],
        12,
    );
    let nb = sim.add_node("b", node_b);
    sim.add_iface(nb, Some(l3), &[cfg.lin6_address(p3, id_b())]);
    sim.capture(l1);
    sim.capture(l2);
    sim.capture(l4);

    // Registration of both nodes.
    sim.run_until(ms(500)).unwrap();
    let m = sim.endpoint::<MaNode>(ma).unwrap();
    assert_eq!(
        m.registered,
        vec![
            (id_a(), ServiceLevel::PREMIUM, 2),
            (id_b(), ServiceLevel::NORMAL, 1)
        ]
    );

    // B opens a connection to A and pings every 100 ms from 1 s.
    sim.with_endpoint::<Lin6Node, _>(nb, |n, now| {
        n.ping_to = Some(id_a());
        n.conn = Some(n.res.open_connection(now, id_a()).unwrap());
        n.next_ping = Some(Duration::from_secs(1));
        n.last_echo = Duration::from_secs(1);
        n.flush(now);
    });
    sim.run_until(Duration::from_secs(3)).unwrap();
    let b = sim.endpoint::<Lin6Node>(nb).unwrap();
    let before = b.echoes.len();
    assert!(before >= 18, "echoes before the failure: {before}");
    assert!(b.echoes.iter().all(|(_, _, via)| *via == p3));
    // getaddrinfo2 at B lists both of A's locators, prefix 1 first.
    sim.with_endpoint::<Lin6Node, _>(nb, |n, now| {
        let l: Vec<Prefix> = n
            .res
            .peer_locators(now, id_a())
            .unwrap()
            .iter()
            .map(|r| r.prefix)
            .collect();
        assert_eq!(l, vec![p1, p2]);
        assert_eq!(
            n.res.connection_locators(now, n.conn.unwrap()),
            Some((p3, p1))
        );
    });

    // Prefix 1 fails.
    sim.set_link_up(l1, false);
    sim.run_until(Duration::from_secs(6)).unwrap();
    let b = sim.endpoint::<Lin6Node>(nb).unwrap();
    let switches: Vec<_> = b
        .events
        .iter()
        .filter_map(|(t, e)| match e {
            resolver::Event::LocatorSwitched {
                from,
                to,
                reason,
                peer,
                ..
            } => Some((*t, *peer, *from, *to, *reason)),
            _ => None,
        })
        .collect();
    assert_eq!(switches.len(), 1, "{switches:?}");
    let (t, peer, from, to, reason) = switches[0];
    assert_eq!(
        (peer, from, to, reason),
        (id_a(), p1, p2, FailureSignal::Timeout)
    );
    assert!(
        t > Duration::from_secs(3) && t < ms(3600),
        "switched at {t:?}"
    );
    let after: Vec<_> = b.echoes.iter().filter(|(at, _, _)| *at > t).collect();
    assert!(
        after.len() >= 20,
        "echoes after the switch: {}",
        after.len()
    );
    assert!(
        b.echoes.last().unwrap().0 > ms(5800),
        "echoes continue to the end"
    );
    assert_eq!(b.bad_checksums, 0);
    let a_node = sim.endpoint::<Lin6Node>(na).unwrap();
    assert_eq!(a_node.bad_checksums, 0);
    assert!(a_node.got >= 40);
    // Packets to A's prefix 2 crossed isp2 only after the switch.
    let on_l2: Vec<_> = sim
        .captured(l2)
        .iter()
        .filter(|(_, p)| {
            ip::read_udp(p).is_some_and(|u| u.dst_port == APP_PORT && Prefix::of(&u.ip.dst) == p2)
        })
        .collect();
    assert!(!on_l2.is_empty());
    assert!(on_l2.iter().all(|(at, _)| *at >= t));
    let pcap = sim.pcapng(&[l1, l2, l4]);
    assert!(!pcap.is_empty());
    pcap
}
