//! Shim6 on the simulated network: a multihomed host (one interface per
//! locator) running `shim6-proto`'s [`Shim6Host`] with its data plane, and
//! [`Shim6World`], two such hosts joined by a router.
//!
//! The driver does what LinShim6's kernel part does around the daemon:
//! - control messages (IP protocol 140 with the P bit clear) and payload
//!   extension headers whose context tag is unknown go to the machine (the
//!   latter draws an R1bis, RFC 5533 §12.2);
//! - outgoing upper-layer packets between the ULIDs of an established
//!   context are rewritten to the context's locator pair with the payload
//!   extension header ([`dataplane::outbound`]) and leave on the interface
//!   that owns the source locator; incoming ones are restored
//!   ([`dataplane::inbound`]);
//! - the machine's events install, update and remove contexts.
//!
//! Application: one host pings the other's UDP echo service, ULID to ULID;
//! each reply records whether it came through the shim (with a payload
//! extension header) or not.
//!
//! ```
//! use std::time::Duration;
//! use hba_cga::{cga::Sec, hba::HbaSet};
//! use mobsim::drivers::shim6::{Shim6World, Shim6WorldConfig, site_prefix};
//! use rand_chacha::ChaCha20Rng;
//! use rand_core::SeedableRng;
//! use shim6_proto::locators::LocalIdentity;
//!
//! let id = |site, seed| {
//!     let prefixes: Vec<[u8; 8]> = (0..2).map(|i| site_prefix(site, i)).collect();
//!     let set = HbaSet::generate(&mut ChaCha20Rng::seed_from_u64(seed), &prefixes, Sec::ZERO, None).unwrap();
//!     LocalIdentity::from_hba(&set, 0).unwrap()
//! };
//! let mut w = Shim6World::new(&Shim6WorldConfig::default(), [id(0xa, 1), id(0xb, 2)]).unwrap();
//! w.sim.run_until(Duration::from_secs(5)).unwrap();
//! assert_eq!(w.node(0).established(), 1);
//! ```

use std::collections::{BTreeMap, VecDeque};
use std::net::Ipv6Addr;
use std::time::Duration;

use hba_cga::sig::RsaSigner;
use mip6_proto::wire::ipv6;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use shim6_proto::context::ContextState;
use shim6_proto::dataplane::{self, DataplaneError, TxContext};
use shim6_proto::endpoint::{HostConfig, Shim6Host};
use shim6_proto::event::{ContextInfo, Event, Output, RxDatagram};
use shim6_proto::locators::LocalIdentity;
use shim6_proto::wire::Locator;

use crate::net::toy::{ECHO_PORT, PINGER_PORT};
use crate::net::{
    Action, Endpoint, IfaceId, LinkConfig, LinkEvent, LinkId, NodeId, Router, Sim, ip,
};

/// Room left before each packet for the payload extension header.
const HEADROOM: usize = 8;
/// Hop limit of the packets the application sends.
const HOP_LIMIT: u8 = 64;

/// The application of a [`Shim6Node`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum App {
    /// Ping the peer's echo service every interval, from the first
    /// attachment on.
    Pinger(Duration),
    /// Answer echo requests.
    Echo,
}

/// How a packet crossed the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Via {
    /// Plain, between the ULIDs (no context, or the locators are the ULIDs).
    Plain,
    /// Rewritten by the shim, with a payload extension header.
    Shim,
}

/// One echo reply a pinger received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reply {
    /// The request's sequence number.
    pub seq: u32,
    /// When it arrived.
    pub at: Duration,
    /// How.
    pub via: Via,
}

/// Data-plane counters of a [`Shim6Node`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DataStats {
    /// Packets sent plain.
    pub sent_plain: u64,
    /// Packets rewritten to a locator pair.
    pub sent_shim: u64,
    /// Packets received with a payload extension header and restored.
    pub received_shim: u64,
    /// Payload extension headers with an unknown tag (given to the machine).
    pub unknown_tag: u64,
    /// Packets the data plane refused.
    pub errors: u64,
}

/// A multihomed Shim6 host on the simulated network: interface `i` owns
/// the identity's locator `i`. See the [module docs](self).
pub struct Shim6Node {
    host: Shim6Host<ChaCha20Rng, RsaSigner>,
    ulid: Ipv6Addr,
    locators: Vec<Ipv6Addr>,
    peer_ulid: Ipv6Addr,
    app: App,
    establish_at: Option<Duration>,
    initiator: bool,
    next_ping: Option<Duration>,
    send_times: Vec<Duration>,
    replies: Vec<Reply>,
    answered: u64,
    contexts: BTreeMap<Ipv6Addr, ContextInfo>,
    events: Vec<(Duration, Event)>,
    stats: DataStats,
    out: VecDeque<Action>,
}

impl Shim6Node {
    /// A host with identity `id` talking to `peer_ulid`, seeded with
    /// `seed`. When `establish_at` is set the host starts the context then
    /// (the trigger heuristic's decision, made by the test or scenario), and
    /// again when an establishment fails and its hold-down ends.
    ///
    /// # Errors
    /// The machine's configuration error.
    pub fn new(
        cfg: HostConfig,
        seed: u64,
        id: LocalIdentity<RsaSigner>,
        peer_ulid: Ipv6Addr,
        app: App,
        establish_at: Option<Duration>,
    ) -> Result<Self, shim6_proto::ConfigError> {
        let ulid = id.ulid();
        let locators = id.locators().iter().map(|l| l.addr).collect();
        let host = Shim6Host::new(
            cfg,
            ChaCha20Rng::seed_from_u64(seed),
            Duration::ZERO,
            vec![id],
        )?;
        Ok(Self {
            host,
            ulid,
            locators,
            peer_ulid,
            app,
            establish_at,
            initiator: establish_at.is_some(),
            next_ping: None,
            send_times: Vec::new(),
            replies: Vec::new(),
            answered: 0,
            contexts: BTreeMap::new(),
            events: Vec::new(),
            stats: DataStats::default(),
            out: VecDeque::new(),
        })
    }

    /// The machine.
    pub fn machine(&self) -> &Shim6Host<ChaCha20Rng, RsaSigner> {
        &self.host
    }

    /// Runs `f` on the machine at `now` (a local command: locator update,
    /// locator pair choice, teardown), then handles what it queued. Use it
    /// through [`Sim::with_endpoint`], which gives `now`.
    pub fn command<T>(
        &mut self,
        now: Duration,
        f: impl FnOnce(&mut Shim6Host<ChaCha20Rng, RsaSigner>, Duration) -> T,
    ) -> T {
        let r = f(&mut self.host, now);
        self.pump(now);
        r
    }

    /// ULID.
    pub fn ulid(&self) -> Ipv6Addr {
        self.ulid
    }

    /// The locators, interface `i` owning locator `i`.
    pub fn locators(&self) -> &[Ipv6Addr] {
        &self.locators
    }

    /// Established contexts installed in the data plane.
    pub fn established(&self) -> usize {
        self.contexts.len()
    }

    /// The installed context with `peer_ulid`.
    pub fn context(&self, peer_ulid: Ipv6Addr) -> Option<ContextInfo> {
        self.contexts.get(&peer_ulid).copied()
    }

    /// Echo replies received (pinger).
    pub fn replies(&self) -> &[Reply] {
        &self.replies
    }

    /// Echo requests answered (echo).
    pub fn answered(&self) -> u64 {
        self.answered
    }

    /// Every event with its time.
    pub fn events(&self) -> &[(Duration, Event)] {
        &self.events
    }

    /// Data-plane counters.
    pub fn data_stats(&self) -> DataStats {
        self.stats
    }

    /// Forgets every context, as a host that rebooted: the machine is
    /// replaced by a fresh one with the same identity (RFC 5533 §7.17's
    /// "lost context"). Returns false when the new machine cannot be made.
    pub fn reboot(&mut self, now: Duration, seed: u64) -> bool {
        let Some(id) = self.host.identities().first().cloned() else {
            return false;
        };
        let cfg = self.host.config().clone();
        match Shim6Host::new(cfg, ChaCha20Rng::seed_from_u64(seed), now, vec![id]) {
            Ok(h) => {
                self.host = h;
                self.contexts.clear();
                true
            }
            Err(_) => false,
        }
    }

    fn iface_of(&self, locator: Ipv6Addr) -> IfaceId {
        IfaceId(
            self.locators
                .iter()
                .position(|l| *l == locator)
                .unwrap_or(0),
        )
    }

    fn pump(&mut self, now: Duration) {
        loop {
            let mut buf = Vec::new();
            match self.host.poll_output(&mut buf) {
                Some(Output::Transmit(t)) => {
                    let body = buf
                        .get(buf.len().saturating_sub(t.len)..)
                        .unwrap_or_default();
                    if let Some(p) = ip_packet(t.src, t.dst, 140, body) {
                        let iface = self.iface_of(t.src);
                        self.out.push_back(Action::Transmit {
                            iface,
                            next_hop: None,
                            packet: p,
                        });
                    }
                }
                Some(Output::Event(e)) => {
                    self.events.push((now, e));
                    match e {
                        Event::ContextEstablished(c) | Event::ContextUpdated(c) => {
                            self.contexts.insert(c.peer_ulid, c);
                        }
                        Event::ContextRemoved { peer_ulid, .. } => {
                            self.contexts.remove(&peer_ulid);
                        }
                        Event::EstablishmentFailed {
                            peer_ulid, until, ..
                        } if self.initiator && peer_ulid == self.peer_ulid => {
                            // The traffic that triggered the establishment
                            // goes on: try again when the hold-down ends.
                            self.establish_at = Some(until);
                        }
                        _ => {}
                    }
                }
                None => return,
            }
        }
    }

    /// Sends an upper-layer packet between the ULIDs through the data plane.
    fn send(&mut self, now: Duration, packet: Vec<u8>) {
        let ctx = self
            .contexts
            .get(&self.peer_ulid)
            .and_then(TxContext::from_info);
        let Some(ctx) = ctx.filter(|c| !c.is_identity()) else {
            self.stats.sent_plain = self.stats.sent_plain.saturating_add(1);
            let iface = self.iface_of(self.ulid);
            self.out.push_back(Action::Transmit {
                iface,
                next_hop: None,
                packet,
            });
            return;
        };
        let mut buf = vec![0u8; HEADROOM];
        buf.extend_from_slice(&packet);
        let end = buf.len();
        match dataplane::outbound(&mut buf, HEADROOM, end, &ctx) {
            Ok(start) => {
                self.stats.sent_shim = self.stats.sent_shim.saturating_add(1);
                if let Some(tag) = self.contexts.get(&self.peer_ulid).and_then(|c| c.ct_local) {
                    self.host.note_traffic(now, tag);
                }
                self.out.push_back(Action::Transmit {
                    iface: self.iface_of(ctx.local_locator),
                    next_hop: None,
                    packet: buf.split_off(start),
                });
            }
            Err(_) => self.stats.errors = self.stats.errors.saturating_add(1),
        }
    }

    fn ping(&mut self, now: Duration) {
        let seq = u32::try_from(self.send_times.len()).unwrap_or(u32::MAX);
        let mut payload = seq.to_be_bytes().to_vec();
        payload.extend_from_slice(&[0x36; 92]);
        if let Some(p) = ip::build_udp(
            self.ulid,
            self.peer_ulid,
            PINGER_PORT,
            ECHO_PORT,
            HOP_LIMIT,
            &payload,
        ) {
            self.send_times.push(now);
            self.send(now, p);
        }
    }

    /// An upper-layer packet with its final (ULID) addresses.
    fn deliver(&mut self, now: Duration, packet: &[u8], via: Via) {
        let Some(u) = ip::read_udp(packet) else {
            return;
        };
        if !u.checksum_ok || u.ip.dst != self.ulid {
            return;
        }
        match self.app {
            App::Echo if u.dst_port == ECHO_PORT => {
                if let Some(p) = ip::build_udp(
                    self.ulid, u.ip.src, ECHO_PORT, u.src_port, HOP_LIMIT, u.payload,
                ) {
                    self.answered = self.answered.saturating_add(1);
                    self.send(now, p);
                }
            }
            App::Pinger(_) if u.src_port == ECHO_PORT && u.dst_port == PINGER_PORT => {
                if let Some(seq) = u.payload.first_chunk::<4>().map(|b| u32::from_be_bytes(*b)) {
                    self.replies.push(Reply { seq, at: now, via });
                }
            }
            _ => {}
        }
    }
}

fn ip_packet(src: Ipv6Addr, dst: Ipv6Addr, next_header: u8, body: &[u8]) -> Option<Vec<u8>> {
    let len = u16::try_from(body.len()).ok()?;
    let mut p = Vec::with_capacity(body.len().saturating_add(40));
    p.extend_from_slice(&[0x60, 0, 0, 0]);
    p.extend_from_slice(&len.to_be_bytes());
    p.push(next_header);
    p.push(HOP_LIMIT);
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    p.extend_from_slice(body);
    Some(p)
}

impl Endpoint for Shim6Node {
    fn handle_packet(&mut self, now: Duration, _iface: IfaceId, packet: &[u8]) {
        let Some(fixed) = ip::read_fixed(packet) else {
            return;
        };
        let end = 40usize
            .saturating_add(usize::from(fixed.payload_len))
            .min(packet.len());
        let Some(pkt) = packet.get(..end) else { return };
        match dataplane::find_tag(pkt, 0, end) {
            Ok((tag, at)) => match self.host.context_by_tag(tag) {
                Some(c)
                    if c.state == ContextState::Established
                        || c.state == ContextState::I2bisSent =>
                {
                    let mut buf = pkt.to_vec();
                    match dataplane::inbound(&mut buf, 0, end, c.peer_ulid, c.local_ulid) {
                        Ok(start) => {
                            self.stats.received_shim = self.stats.received_shim.saturating_add(1);
                            self.host.note_traffic(now, tag);
                            self.deliver(now, buf.get(start..).unwrap_or_default(), Via::Shim);
                        }
                        Err(_) => self.stats.errors = self.stats.errors.saturating_add(1),
                    }
                }
                _ => {
                    // §12.2: no context for the tag: the machine answers
                    // with an R1bis.
                    self.stats.unknown_tag = self.stats.unknown_tag.saturating_add(1);
                    let rx = RxDatagram {
                        src: fixed.src,
                        dst: fixed.dst,
                        payload: pkt.get(at..).unwrap_or_default(),
                    };
                    let _ = self.host.handle_datagram(now, &rx);
                }
            },
            Err(DataplaneError::ControlMessage) => {
                if let Ok(info) = ipv6::mobility_info(pkt, ipv6::DEFAULT_MAX_EXT_HEADERS) {
                    let rx = RxDatagram {
                        src: fixed.src,
                        dst: fixed.dst,
                        payload: pkt.get(info.upper_offset..).unwrap_or_default(),
                    };
                    let _ = self.host.handle_datagram(now, &rx);
                }
            }
            Err(_) => self.deliver(now, pkt, Via::Plain),
        }
        self.pump(now);
    }

    fn handle_timeout(&mut self, now: Duration) {
        // The machine first (a hold-down ending at `now` returns the pair
        // to IDLE), then the establishment.
        self.host.handle_timeout(now);
        if self.establish_at.is_some_and(|t| t <= now) {
            self.establish_at = None;
            let _ = self.host.establish(now, self.ulid, self.peer_ulid);
        }
        if let (Some(at), App::Pinger(every)) = (self.next_ping, self.app)
            && at <= now
        {
            self.ping(now);
            self.next_ping = Some(at.saturating_add(every));
        }
        self.pump(now);
    }

    fn handle_link_event(&mut self, now: Duration, _iface: IfaceId, event: &LinkEvent) {
        if matches!(event, LinkEvent::Attached { .. })
            && self.next_ping.is_none()
            && let App::Pinger(every) = self.app
        {
            self.next_ping = Some(now.saturating_add(every));
        }
        self.pump(now);
    }

    fn poll_action(&mut self) -> Option<Action> {
        self.out.pop_front()
    }

    fn poll_timeout(&self) -> Option<Duration> {
        [self.host.poll_timeout(), self.next_ping, self.establish_at]
            .into_iter()
            .flatten()
            .min()
    }
}

/// `2001:db8:<site>:<i>::/64` as the 8 octets of a prefix.
pub fn site_prefix(site: u16, i: u16) -> [u8; 8] {
    let [a, b] = site.to_be_bytes();
    let [c, d] = i.to_be_bytes();
    [0x20, 0x01, 0x0d, 0xb8, a, b, c, d]
}

/// How [`Shim6World`] is built.
#[derive(Debug, Clone)]
pub struct Shim6WorldConfig {
    /// Seed of the simulation.
    pub seed: u64,
    /// Loss probability on every access link.
    pub loss: f64,
    /// Duplication probability.
    pub duplicate: f64,
    /// Reordering probability (held back 20 ms).
    pub reorder: f64,
    /// One-way delay of each access link.
    pub delay: Duration,
    /// The pinger's interval.
    pub ping_interval: Duration,
    /// When host 0 establishes the context.
    pub establish_at: Duration,
    /// The hosts' machine configuration.
    pub host: HostConfig,
}

impl Default for Shim6WorldConfig {
    fn default() -> Self {
        Self {
            seed: 1,
            loss: 0.0,
            duplicate: 0.0,
            reorder: 0.0,
            delay: Duration::from_millis(10),
            ping_interval: Duration::from_millis(200),
            establish_at: Duration::from_millis(500),
            host: HostConfig::default(),
        }
    }
}

/// Two multihomed Shim6 hosts: host 0 (the pinger and initiator) and host
/// 1 (the echo service), each with one access link per locator, joined by
/// one router that routes every locator's /64 to its link.
pub struct Shim6World {
    /// The simulation.
    pub sim: Sim,
    /// The two hosts.
    pub hosts: [NodeId; 2],
    /// Each host's access links, in locator order.
    pub links: [Vec<LinkId>; 2],
}

/// Why [`Shim6World::new`] failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorldError {
    /// A machine refused its configuration.
    Config(shim6_proto::ConfigError),
}

impl Shim6World {
    /// Builds the world for two identities (host 0's and host 1's).
    ///
    /// # Errors
    /// [`WorldError::Config`].
    pub fn new(
        cfg: &Shim6WorldConfig,
        ids: [LocalIdentity<RsaSigner>; 2],
    ) -> Result<Self, WorldError> {
        let mut sim = Sim::new(cfg.seed);
        let [id0, id1] = ids;
        let ulids = [id0.ulid(), id1.ulid()];
        let locs: [Vec<Ipv6Addr>; 2] = [
            id0.locators().iter().map(|l| l.addr).collect(),
            id1.locators().iter().map(|l| l.addr).collect(),
        ];
        let mut router = Router::new();
        let mut links: [Vec<LinkId>; 2] = [Vec::new(), Vec::new()];
        let mut router_ifaces = Vec::new();
        let mut n = 0usize;
        for (h, ls) in locs.iter().enumerate() {
            for (i, l) in ls.iter().enumerate() {
                let prefix = Ipv6Addr::from(u128::from(*l) & !u128::from(u64::MAX));
                let link = sim.add_link(
                    LinkConfig::new(&format!("host{h}-{i}"))
                        .delay(cfg.delay)
                        .loss(cfg.loss)
                        .duplicate(cfg.duplicate)
                        .reorder(cfg.reorder, Duration::from_millis(20))
                        .prefix(prefix, 64),
                );
                router = router.route(prefix, 64, IfaceId(n), None);
                router_ifaces.push((link, Ipv6Addr::from(u128::from(prefix) | 0xfffe)));
                if let Some(v) = links.get_mut(h) {
                    v.push(link);
                }
                n = n.saturating_add(1);
            }
        }
        let r = sim.add_node("router", router);
        for (link, addr) in router_ifaces {
            sim.add_router_iface(r, Some(link), &[addr]);
        }
        let seeds = [sim.derive_seed(), sim.derive_seed()];
        let a = Shim6Node::new(
            cfg.host.clone(),
            seeds[0],
            id0,
            ulids[1],
            App::Pinger(cfg.ping_interval),
            Some(cfg.establish_at),
        )
        .map_err(WorldError::Config)?;
        let b = Shim6Node::new(cfg.host.clone(), seeds[1], id1, ulids[0], App::Echo, None)
            .map_err(WorldError::Config)?;
        let hosts = [sim.add_node("host0", a), sim.add_node("host1", b)];
        for (h, node) in hosts.iter().enumerate() {
            let (Some(ls), Some(lk)) = (locs.get(h), links.get(h)) else {
                continue;
            };
            for (l, link) in ls.iter().zip(lk) {
                sim.add_iface(*node, Some(*link), &[*l]);
                sim.capture(*link);
            }
        }
        Ok(Self { sim, hosts, links })
    }

    /// Host `i`'s driver (0 or 1).
    ///
    /// # Panics
    /// When `i` is not 0 or 1.
    #[allow(clippy::expect_used, clippy::indexing_slicing)]
    pub fn node(&self, i: usize) -> &Shim6Node {
        self.sim
            .endpoint::<Shim6Node>(self.hosts[i])
            .expect("a Shim6 host")
    }

    /// Every captured link.
    pub fn all_links(&self) -> Vec<LinkId> {
        self.links.iter().flatten().copied().collect()
    }

    /// Host `i`'s new locator list for [`Shim6Host::update_locators`]: its
    /// current locators without `drop`.
    pub fn locators_without(&self, i: usize, drop: Ipv6Addr) -> Vec<Locator> {
        self.node(i)
            .machine()
            .identities()
            .first()
            .map(|id| {
                id.locators()
                    .iter()
                    .filter(|l| l.addr != drop)
                    .copied()
                    .collect()
            })
            .unwrap_or_default()
    }
}
