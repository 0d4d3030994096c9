//! The deterministic network every multi-node test of the suite runs on.
//!
//! A [`Sim`] holds nodes, links and one virtual clock. Nodes own a sans-IO
//! [`Endpoint`] (whole IPv6 packets in, [`Action`]s and timer deadlines
//! out); links carry packets between the interfaces attached to them with
//! delay, jitter, loss, duplication, reordering, bandwidth and up/down
//! state; [`Router`] forwards by longest prefix; interfaces move between
//! links. Everything random comes from one seeded ChaCha generator and
//! events with equal times run in the order they were scheduled, so the same
//! seed gives the same run, bit for bit (capture bytes included).
//!
//! ## Delivery on a link
//! A link is a broadcast segment with neighbour discovery abstracted away.
//! A packet sent on an interface goes to the interfaces of the same link
//! that own its next hop (the `next_hop` of [`Action::Transmit`], else the
//! destination address); a multicast destination goes to every other
//! interface; a unicast destination that no interface owns goes to the
//! link's first router interface (the default router). Addresses are
//! claimed and released by the endpoints ([`Action::ClaimAddress`]), which
//! is also how a home agent proxies for a mobile node's home address.
//!
//! ```
//! use std::time::Duration;
//! use mobsim::net::{LinkConfig, Sim, toy::{UdpEcho, UdpPinger}};
//!
//! let mut sim = Sim::new(7);
//! let lan = sim.add_link(LinkConfig::new("lan").delay(Duration::from_millis(5)).loss(0.2));
//! let a_addr = "2001:db8::a".parse().unwrap();
//! let b_addr = "2001:db8::b".parse().unwrap();
//! let a = sim.add_node("a", UdpPinger::new(a_addr, b_addr, Duration::from_millis(100), 20));
//! let b = sim.add_node("b", UdpEcho::new());
//! sim.add_iface(a, Some(lan), &[a_addr]);
//! sim.add_iface(b, Some(lan), &[b_addr]);
//! sim.capture(lan);
//! sim.run_until(Duration::from_secs(3)).unwrap();
//! let pinger = sim.endpoint::<UdpPinger>(a).unwrap();
//! assert_eq!(pinger.sent(), 20);
//! assert!(pinger.replies() < 20); // some requests or replies were lost
//! assert!(!sim.pcapng(&[lan]).is_empty());
//! ```

mod queue;
mod router;

pub mod ip;
pub mod toy;

pub use queue::EventQueue;
pub use router::{Route, Router, RouterStats};

use std::any::Any;
use std::net::Ipv6Addr;
use std::time::Duration;

use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};

use crate::pcap::PcapngBuilder;

/// A node of the simulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(pub usize);

/// A link of the simulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LinkId(pub usize);

/// An interface of one node (its index among that node's interfaces).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IfaceId(pub usize);

/// What an endpoint asks its node to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Send a whole IPv6 packet on an interface.
    Transmit {
        /// The interface to send on.
        iface: IfaceId,
        /// The next hop on that link; `None` means the destination itself
        /// (or the default router when no neighbour owns it).
        next_hop: Option<Ipv6Addr>,
        /// The packet, starting at the IPv6 fixed header.
        packet: Vec<u8>,
    },
    /// Start receiving packets for `addr` on `iface` (address assignment,
    /// or proxy neighbour discovery).
    ClaimAddress {
        /// The interface.
        iface: IfaceId,
        /// The address.
        addr: Ipv6Addr,
    },
    /// Stop receiving packets for `addr` on `iface`.
    ReleaseAddress {
        /// The interface.
        iface: IfaceId,
        /// The address.
        addr: Ipv6Addr,
    },
}

/// A change of an interface's link that the node is told about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkEvent {
    /// The interface is now attached to `link` (at creation or after a move).
    Attached {
        /// The link.
        link: LinkId,
        /// The on-link prefix the link's routers advertise, if any.
        prefix: Option<(Ipv6Addr, u8)>,
        /// Whether the link is up.
        up: bool,
    },
    /// The interface left its link and is attached to nothing.
    Detached,
    /// The interface's link went up.
    Up,
    /// The interface's link went down.
    Down,
}

/// A sans-IO endpoint hosted by a node: the one small trait every driver
/// implements to put a protocol machine on the simulated network.
///
/// The contract mirrors the protocol crates': after any `handle_*` call the
/// simulator drains [`Endpoint::poll_action`] to `None` and then reads
/// [`Endpoint::poll_timeout`] (an absolute deadline); when that time comes
/// it calls [`Endpoint::handle_timeout`]. Spurious timeouts must be no-ops.
pub trait Endpoint: Any {
    /// A packet arrived on `iface`.
    fn handle_packet(&mut self, now: Duration, iface: IfaceId, packet: &[u8]);
    /// The deadline returned by `poll_timeout` has passed.
    fn handle_timeout(&mut self, now: Duration);
    /// The interface `iface` changed link or link state. Default: ignored.
    fn handle_link_event(&mut self, now: Duration, iface: IfaceId, event: &LinkEvent) {
        let _ = (now, iface, event);
    }
    /// The next thing to do, if any.
    fn poll_action(&mut self) -> Option<Action>;
    /// The next absolute deadline, if any.
    fn poll_timeout(&self) -> Option<Duration>;
}

/// A link's properties.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkConfig {
    /// Name, shown in captures and summaries.
    pub name: String,
    /// One-way propagation delay.
    pub delay: Duration,
    /// Extra delay drawn uniformly from `[0, jitter]` per packet (which
    /// reorders packets sent closer together than the jitter).
    pub jitter: Duration,
    /// Probability that a packet is lost.
    pub loss: f64,
    /// Probability that a packet is delivered twice.
    pub duplicate: f64,
    /// Probability that a packet is held back by `reorder_delay`.
    pub reorder: f64,
    /// Extra delay of a reordered packet.
    pub reorder_delay: Duration,
    /// Bandwidth in bits per second (`None`: infinite). Packets are
    /// serialised one after another on the link.
    pub bandwidth_bps: Option<u64>,
    /// Bytes that may wait for serialisation before tail drop (with a
    /// bandwidth only).
    pub queue_limit: usize,
    /// Largest packet the link carries; larger ones are dropped.
    pub mtu: usize,
    /// The prefix the link's routers advertise (told to interfaces that
    /// attach).
    pub prefix: Option<(Ipv6Addr, u8)>,
}

impl LinkConfig {
    /// A perfect link: no delay, no loss, MTU 1500.
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            delay: Duration::ZERO,
            jitter: Duration::ZERO,
            loss: 0.0,
            duplicate: 0.0,
            reorder: 0.0,
            reorder_delay: Duration::ZERO,
            bandwidth_bps: None,
            queue_limit: 64 * 1500,
            mtu: 1500,
            prefix: None,
        }
    }
    /// Sets the one-way delay.
    pub fn delay(mut self, d: Duration) -> Self {
        self.delay = d;
        self
    }
    /// Sets the jitter.
    pub fn jitter(mut self, d: Duration) -> Self {
        self.jitter = d;
        self
    }
    /// Sets the loss probability.
    pub fn loss(mut self, p: f64) -> Self {
        self.loss = p;
        self
    }
    /// Sets the duplication probability.
    pub fn duplicate(mut self, p: f64) -> Self {
        self.duplicate = p;
        self
    }
    /// Sets the reordering probability and the hold-back delay.
    pub fn reorder(mut self, p: f64, hold: Duration) -> Self {
        self.reorder = p;
        self.reorder_delay = hold;
        self
    }
    /// Sets the bandwidth in bits per second.
    pub fn bandwidth(mut self, bps: u64) -> Self {
        self.bandwidth_bps = Some(bps);
        self
    }
    /// Sets the MTU.
    pub fn mtu(mut self, mtu: usize) -> Self {
        self.mtu = mtu;
        self
    }
    /// Sets the advertised on-link prefix.
    pub fn prefix(mut self, prefix: Ipv6Addr, len: u8) -> Self {
        self.prefix = Some((prefix, len));
        self
    }
}

/// What a link did with the packets sent on it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkStats {
    /// Packets put on the link.
    pub sent: u64,
    /// Copies handed to a receiving interface.
    pub delivered: u64,
    /// Packets lost by the loss probability.
    pub lost: u64,
    /// Extra copies made by the duplication probability.
    pub duplicated: u64,
    /// Packets held back by the reordering probability.
    pub reordered: u64,
    /// Packets dropped because the link was down (at send or delivery).
    pub dropped_down: u64,
    /// Packets dropped because no interface owns the next hop and there is
    /// no router.
    pub dropped_no_neighbour: u64,
    /// Packets dropped because the receiver left the link in flight.
    pub dropped_moved: u64,
    /// Packets larger than the MTU.
    pub dropped_too_big: u64,
    /// Packets dropped because the serialisation queue was full.
    pub dropped_queue: u64,
    /// Packets that are not IPv6.
    pub dropped_not_ipv6: u64,
}

/// Errors of a simulation run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimError {
    /// More events than [`Sim::set_event_limit`] allows in one run call:
    /// an endpoint probably asks for a timeout it never consumes.
    #[error("event limit of {limit} reached at {at:?}")]
    EventLimit {
        /// The limit.
        limit: u64,
        /// Virtual time when it was reached.
        at: Duration,
    },
    /// A scenario could not build its network or endpoints.
    #[error("setup failed: {0}")]
    Setup(String),
}

/// A note in the simulation's timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// Virtual time.
    pub at: Duration,
    /// The text.
    pub text: String,
}

struct Iface {
    link: Option<LinkId>,
    addrs: Vec<Ipv6Addr>,
    router: bool,
}

struct Node {
    name: String,
    ep: Box<dyn Endpoint>,
    ifaces: Vec<Iface>,
    timer_at: Option<Duration>,
    timer_gen: u64,
}

struct Link {
    cfg: LinkConfig,
    up: bool,
    members: Vec<(NodeId, IfaceId)>,
    busy_until: Duration,
    stats: LinkStats,
    capture: Option<Vec<(Duration, Vec<u8>)>>,
}

type Call = Box<dyn FnOnce(&mut Sim)>;

enum Event {
    Deliver {
        link: LinkId,
        node: NodeId,
        iface: IfaceId,
        packet: Vec<u8>,
    },
    Timer {
        node: NodeId,
        generation: u64,
    },
    Call(Call),
}

/// The simulator. See the [module documentation](self).
pub struct Sim {
    now: Duration,
    rng: ChaCha8Rng,
    queue: EventQueue<Event>,
    nodes: Vec<Node>,
    links: Vec<Link>,
    notes: Vec<Note>,
    event_limit: u64,
    events: u64,
}

impl Sim {
    /// An empty network at time zero whose randomness comes from `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            now: Duration::ZERO,
            rng: ChaCha8Rng::seed_from_u64(seed),
            queue: EventQueue::new(),
            nodes: Vec::new(),
            links: Vec::new(),
            notes: Vec::new(),
            event_limit: 50_000_000,
            events: 0,
        }
    }

    /// Current virtual time.
    pub fn now(&self) -> Duration {
        self.now
    }

    /// Total events processed so far.
    pub fn events_processed(&self) -> u64 {
        self.events
    }

    /// Bounds the events one `run_*` call may process (default 5·10^7).
    pub fn set_event_limit(&mut self, limit: u64) {
        self.event_limit = limit;
    }

    /// A seed drawn from the simulator's generator, for endpoints' own RNGs
    /// (so that the whole run still depends on one seed only).
    pub fn derive_seed(&mut self) -> u64 {
        self.rng.next_u64()
    }

    /// Adds a link.
    pub fn add_link(&mut self, cfg: LinkConfig) -> LinkId {
        self.links.push(Link {
            cfg,
            up: true,
            members: Vec::new(),
            busy_until: Duration::ZERO,
            stats: LinkStats::default(),
            capture: None,
        });
        LinkId(self.links.len().saturating_sub(1))
    }

    /// Adds a node hosting `endpoint`. It has no interface yet.
    pub fn add_node<E: Endpoint>(&mut self, name: &str, endpoint: E) -> NodeId {
        self.add_boxed_node(name, Box::new(endpoint))
    }

    /// Adds a node hosting an already boxed endpoint.
    pub fn add_boxed_node(&mut self, name: &str, endpoint: Box<dyn Endpoint>) -> NodeId {
        self.nodes.push(Node {
            name: name.to_owned(),
            ep: endpoint,
            ifaces: Vec::new(),
            timer_at: None,
            timer_gen: 0,
        });
        let id = NodeId(self.nodes.len().saturating_sub(1));
        self.flush(id);
        id
    }

    /// Adds an interface to `node`, attached to `link` (if any) and owning
    /// `addrs`. The endpoint is told with [`LinkEvent::Attached`].
    ///
    /// # Panics
    /// If `node` or `link` does not exist (a bug in the test, not input).
    #[allow(clippy::panic)]
    pub fn add_iface(&mut self, node: NodeId, link: Option<LinkId>, addrs: &[Ipv6Addr]) -> IfaceId {
        self.add_iface_inner(node, link, addrs, false)
    }

    /// Adds a router interface: besides its own addresses it receives every
    /// packet of its link that no other interface owns.
    pub fn add_router_iface(
        &mut self,
        node: NodeId,
        link: Option<LinkId>,
        addrs: &[Ipv6Addr],
    ) -> IfaceId {
        self.add_iface_inner(node, link, addrs, true)
    }

    #[allow(clippy::panic)]
    fn add_iface_inner(
        &mut self,
        node: NodeId,
        link: Option<LinkId>,
        addrs: &[Ipv6Addr],
        router: bool,
    ) -> IfaceId {
        let Some(n) = self.nodes.get_mut(node.0) else {
            panic!("add_iface: no node {node:?}");
        };
        n.ifaces.push(Iface {
            link: None,
            addrs: addrs.to_vec(),
            router,
        });
        let iface = IfaceId(n.ifaces.len().saturating_sub(1));
        if link.is_some() {
            self.move_iface(node, iface, link);
        }
        iface
    }

    /// Moves an interface to another link (or detaches it with `None`). The
    /// endpoint is told with [`LinkEvent::Detached`] and
    /// [`LinkEvent::Attached`]. Packets in flight to the interface on the
    /// old link are dropped when they arrive.
    #[allow(clippy::panic)]
    pub fn move_iface(&mut self, node: NodeId, iface: IfaceId, to: Option<LinkId>) {
        if let Some(l) = to
            && l.0 >= self.links.len()
        {
            panic!("move_iface: no link {l:?}");
        }
        let Some(old) = self
            .nodes
            .get_mut(node.0)
            .and_then(|n| n.ifaces.get_mut(iface.0))
            .map(|i| std::mem::replace(&mut i.link, to))
        else {
            panic!("move_iface: no interface {iface:?} on {node:?}");
        };
        if let Some(old) = old
            && let Some(l) = self.links.get_mut(old.0)
        {
            l.members.retain(|m| *m != (node, iface));
        }
        let now = self.now;
        if old.is_some() {
            self.with_ep(node, |ep| {
                ep.handle_link_event(now, iface, &LinkEvent::Detached)
            });
        }
        if let Some(to) = to
            && let Some(l) = self.links.get_mut(to.0)
        {
            l.members.push((node, iface));
            let ev = LinkEvent::Attached {
                link: to,
                prefix: l.cfg.prefix,
                up: l.up,
            };
            self.with_ep(node, |ep| ep.handle_link_event(now, iface, &ev));
        }
    }

    /// Brings a link up or down; attached endpoints are told.
    pub fn set_link_up(&mut self, link: LinkId, up: bool) {
        let Some(l) = self.links.get_mut(link.0) else {
            return;
        };
        if l.up == up {
            return;
        }
        l.up = up;
        let members = l.members.clone();
        let now = self.now;
        let ev = if up { LinkEvent::Up } else { LinkEvent::Down };
        for (node, iface) in members {
            self.with_ep(node, |ep| ep.handle_link_event(now, iface, &ev));
        }
    }

    /// Starts recording every packet put on `link` (at the sender, before
    /// loss) for [`Sim::pcapng`].
    pub fn capture(&mut self, link: LinkId) {
        if let Some(l) = self.links.get_mut(link.0)
            && l.capture.is_none()
        {
            l.capture = Some(Vec::new());
        }
    }

    /// The packets captured on `link` so far, with their times.
    pub fn captured(&self, link: LinkId) -> &[(Duration, Vec<u8>)] {
        self.links
            .get(link.0)
            .and_then(|l| l.capture.as_deref())
            .unwrap_or(&[])
    }

    /// A pcapng file with one interface per link of `links` (in that order)
    /// holding what was captured on it, packets in time order.
    pub fn pcapng(&self, links: &[LinkId]) -> Vec<u8> {
        let mut b = PcapngBuilder::new();
        let mut all: Vec<(Duration, u32, &[u8])> = Vec::new();
        for link in links {
            let name = self.link_name(*link).unwrap_or("?");
            let i = b.add_interface(name);
            all.extend(
                self.captured(*link)
                    .iter()
                    .map(|(t, p)| (*t, i, p.as_slice())),
            );
        }
        all.sort_by_key(|(t, i, _)| (*t, *i));
        for (t, i, p) in all {
            b.add_packet(i, t, p);
        }
        b.finish()
    }

    /// A link's name.
    pub fn link_name(&self, link: LinkId) -> Option<&str> {
        self.links.get(link.0).map(|l| l.cfg.name.as_str())
    }

    /// A node's name.
    pub fn node_name(&self, node: NodeId) -> Option<&str> {
        self.nodes.get(node.0).map(|n| n.name.as_str())
    }

    /// A link's counters.
    pub fn link_stats(&self, link: LinkId) -> LinkStats {
        self.links.get(link.0).map(|l| l.stats).unwrap_or_default()
    }

    /// All links, in creation order.
    pub fn links(&self) -> impl Iterator<Item = LinkId> + '_ {
        (0..self.links.len()).map(LinkId)
    }

    /// The link an interface is attached to.
    pub fn iface_link(&self, node: NodeId, iface: IfaceId) -> Option<LinkId> {
        self.nodes.get(node.0)?.ifaces.get(iface.0)?.link
    }

    /// The addresses an interface currently owns.
    pub fn iface_addrs(&self, node: NodeId, iface: IfaceId) -> &[Ipv6Addr] {
        self.nodes
            .get(node.0)
            .and_then(|n| n.ifaces.get(iface.0))
            .map(|i| i.addrs.as_slice())
            .unwrap_or(&[])
    }

    /// The endpoint of `node`, if it is a `T`.
    pub fn endpoint<T: Endpoint>(&self, node: NodeId) -> Option<&T> {
        let ep: &dyn Any = &*self.nodes.get(node.0)?.ep;
        ep.downcast_ref::<T>()
    }

    /// Runs `f` on the endpoint of `node` (if it is a `T`) with the current
    /// time, then carries out what it asks. This is how a test or scenario
    /// gives an endpoint a local command ("move", "send data").
    pub fn with_endpoint<T: Endpoint, R>(
        &mut self,
        node: NodeId,
        f: impl FnOnce(&mut T, Duration) -> R,
    ) -> Option<R> {
        let now = self.now;
        let ep: &mut dyn Any = &mut *self.nodes.get_mut(node.0)?.ep;
        let r = f(ep.downcast_mut::<T>()?, now);
        self.flush(node);
        Some(r)
    }

    /// Adds a line to the timeline at the current time.
    pub fn note(&mut self, text: impl Into<String>) {
        self.notes.push(Note {
            at: self.now,
            text: text.into(),
        });
    }

    /// The timeline written with [`Sim::note`].
    pub fn notes(&self) -> &[Note] {
        &self.notes
    }

    /// Runs `f` at time `at` (or now, if `at` has passed), after the events
    /// already queued for that time.
    pub fn schedule(&mut self, at: Duration, f: impl FnOnce(&mut Sim) + 'static) {
        let at = at.max(self.now);
        self.queue.push(at, Event::Call(Box::new(f)));
    }

    /// The time of the next event.
    pub fn next_event_time(&self) -> Option<Duration> {
        self.queue.peek_time()
    }

    /// Processes the next event; `false` when there is none.
    pub fn step(&mut self) -> bool {
        let Some((at, ev)) = self.queue.pop() else {
            return false;
        };
        self.now = self.now.max(at);
        self.events = self.events.saturating_add(1);
        match ev {
            Event::Deliver {
                link,
                node,
                iface,
                packet,
            } => self.deliver(link, node, iface, &packet),
            Event::Timer { node, generation } => {
                let now = self.now;
                let due = self
                    .nodes
                    .get_mut(node.0)
                    .filter(|n| n.timer_gen == generation)
                    .map(|n| n.timer_at = None)
                    .is_some();
                if due {
                    self.with_ep(node, |ep| ep.handle_timeout(now));
                }
            }
            Event::Call(f) => f(self),
        }
        true
    }

    /// Processes every event up to and including time `until`, then sets the
    /// clock to `until`.
    pub fn run_until(&mut self, until: Duration) -> Result<(), SimError> {
        let start = self.events;
        while self.queue.peek_time().is_some_and(|t| t <= until) {
            if self.events.saturating_sub(start) >= self.event_limit {
                return Err(SimError::EventLimit {
                    limit: self.event_limit,
                    at: self.now,
                });
            }
            self.step();
        }
        self.now = self.now.max(until);
        Ok(())
    }

    /// Runs for `d` more virtual time.
    pub fn run_for(&mut self, d: Duration) -> Result<(), SimError> {
        self.run_until(self.now.saturating_add(d))
    }

    /// Runs until `done(self)` holds (checked after each event) or `until`;
    /// returns whether `done` held.
    pub fn run_until_cond(
        &mut self,
        until: Duration,
        mut done: impl FnMut(&Sim) -> bool,
    ) -> Result<bool, SimError> {
        let start = self.events;
        loop {
            if done(self) {
                return Ok(true);
            }
            if self.queue.peek_time().is_none_or(|t| t > until) {
                self.now = self.now.max(until);
                return Ok(done(self));
            }
            if self.events.saturating_sub(start) >= self.event_limit {
                return Err(SimError::EventLimit {
                    limit: self.event_limit,
                    at: self.now,
                });
            }
            self.step();
        }
    }

    fn with_ep(&mut self, node: NodeId, f: impl FnOnce(&mut dyn Endpoint)) {
        if let Some(n) = self.nodes.get_mut(node.0) {
            f(&mut *n.ep);
            self.flush(node);
        }
    }

    /// Carries out everything `node` asks, then re-arms its timer.
    fn flush(&mut self, node: NodeId) {
        while let Some(action) = self.nodes.get_mut(node.0).and_then(|n| n.ep.poll_action()) {
            match action {
                Action::Transmit {
                    iface,
                    next_hop,
                    packet,
                } => self.transmit(node, iface, next_hop, packet),
                Action::ClaimAddress { iface, addr } => {
                    if let Some(i) = self.iface_mut(node, iface)
                        && !i.addrs.contains(&addr)
                    {
                        i.addrs.push(addr);
                    }
                }
                Action::ReleaseAddress { iface, addr } => {
                    if let Some(i) = self.iface_mut(node, iface) {
                        i.addrs.retain(|a| *a != addr);
                    }
                }
            }
        }
        let now = self.now;
        let Some(n) = self.nodes.get_mut(node.0) else {
            return;
        };
        let want = n.ep.poll_timeout().map(|t| t.max(now));
        if want != n.timer_at {
            n.timer_at = want;
            n.timer_gen = n.timer_gen.wrapping_add(1);
            if let Some(at) = want {
                let generation = n.timer_gen;
                self.queue.push(at, Event::Timer { node, generation });
            }
        }
    }

    fn iface_mut(&mut self, node: NodeId, iface: IfaceId) -> Option<&mut Iface> {
        self.nodes.get_mut(node.0)?.ifaces.get_mut(iface.0)
    }

    fn unit(&mut self) -> f64 {
        // 53 random bits into [0, 1).
        (self.rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.unit() < p
    }

    fn jitter(&mut self, max: Duration) -> Duration {
        if max.is_zero() {
            return Duration::ZERO;
        }
        let nanos = u64::try_from(max.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(self.rng.next_u64() % nanos.saturating_add(1))
    }

    fn transmit(
        &mut self,
        node: NodeId,
        iface: IfaceId,
        next_hop: Option<Ipv6Addr>,
        packet: Vec<u8>,
    ) {
        let Some(link_id) = self
            .nodes
            .get(node.0)
            .and_then(|n| n.ifaces.get(iface.0))
            .and_then(|i| i.link)
        else {
            return; // not attached: the packet goes nowhere
        };
        let now = self.now;
        let Some(link) = self.links.get_mut(link_id.0) else {
            return;
        };
        link.stats.sent = link.stats.sent.saturating_add(1);
        if let Some(cap) = link.capture.as_mut() {
            cap.push((now, packet.clone()));
        }
        if !link.up {
            link.stats.dropped_down = link.stats.dropped_down.saturating_add(1);
            return;
        }
        if packet.len() > link.cfg.mtu {
            link.stats.dropped_too_big = link.stats.dropped_too_big.saturating_add(1);
            return;
        }
        let Some(fixed) = ip::read_fixed(&packet) else {
            link.stats.dropped_not_ipv6 = link.stats.dropped_not_ipv6.saturating_add(1);
            return;
        };
        // Serialisation on a link with a bandwidth.
        let mut depart = now;
        if let Some(bps) = link.cfg.bandwidth_bps.filter(|b| *b > 0) {
            let start = link.busy_until.max(now);
            let backlog_ns = start.saturating_sub(now).as_nanos();
            let backlog_bytes = backlog_ns.saturating_mul(u128::from(bps)) / 8_000_000_000;
            if backlog_bytes > link.cfg.queue_limit as u128 {
                link.stats.dropped_queue = link.stats.dropped_queue.saturating_add(1);
                return;
            }
            let bits = u128::try_from(packet.len())
                .unwrap_or(u128::MAX)
                .saturating_mul(8);
            let tx_ns = bits.saturating_mul(1_000_000_000) / u128::from(bps);
            depart = start.saturating_add(Duration::from_nanos(
                u64::try_from(tx_ns).unwrap_or(u64::MAX),
            ));
            link.busy_until = depart;
        }
        // Receivers.
        let target = next_hop.unwrap_or(fixed.dst);
        let members = link.members.clone();
        let is_router = |sim: &Sim, (n, i): (NodeId, IfaceId)| {
            sim.nodes
                .get(n.0)
                .and_then(|x| x.ifaces.get(i.0))
                .is_some_and(|x| x.router)
        };
        let owns = |sim: &Sim, (n, i): (NodeId, IfaceId)| {
            sim.nodes
                .get(n.0)
                .and_then(|x| x.ifaces.get(i.0))
                .is_some_and(|x| x.addrs.contains(&target))
        };
        let others = members.iter().copied().filter(|m| *m != (node, iface));
        let mut receivers: Vec<(NodeId, IfaceId)> = if target.is_multicast() {
            others.collect()
        } else {
            others.filter(|m| owns(self, *m)).collect()
        };
        if receivers.is_empty() && next_hop.is_none() && !target.is_multicast() {
            receivers.extend(
                members
                    .iter()
                    .copied()
                    .filter(|m| *m != (node, iface) && is_router(self, *m))
                    .take(1),
            );
        }
        let (delay, jitter, loss, dup, reorder, hold) = match self.links.get(link_id.0) {
            Some(l) => (
                l.cfg.delay,
                l.cfg.jitter,
                l.cfg.loss,
                l.cfg.duplicate,
                l.cfg.reorder,
                l.cfg.reorder_delay,
            ),
            None => return,
        };
        if receivers.is_empty() {
            self.bump(link_id, |s| &mut s.dropped_no_neighbour);
            return;
        }
        if self.chance(loss) {
            self.bump(link_id, |s| &mut s.lost);
            return;
        }
        let copies = if self.chance(dup) {
            self.bump(link_id, |s| &mut s.duplicated);
            2
        } else {
            1
        };
        for _ in 0..copies {
            let mut at = depart
                .saturating_add(delay)
                .saturating_add(self.jitter(jitter));
            if self.chance(reorder) {
                self.bump(link_id, |s| &mut s.reordered);
                at = at.saturating_add(hold);
            }
            for (n, i) in &receivers {
                self.queue.push(
                    at,
                    Event::Deliver {
                        link: link_id,
                        node: *n,
                        iface: *i,
                        packet: packet.clone(),
                    },
                );
            }
        }
    }

    fn bump(&mut self, link: LinkId, field: impl FnOnce(&mut LinkStats) -> &mut u64) {
        if let Some(l) = self.links.get_mut(link.0) {
            let c = field(&mut l.stats);
            *c = c.saturating_add(1);
        }
    }

    fn deliver(&mut self, link: LinkId, node: NodeId, iface: IfaceId, packet: &[u8]) {
        let up = self.links.get(link.0).is_some_and(|l| l.up);
        if !up {
            self.bump(link, |s| &mut s.dropped_down);
            return;
        }
        if self.iface_link(node, iface) != Some(link) {
            self.bump(link, |s| &mut s.dropped_moved);
            return;
        }
        self.bump(link, |s| &mut s.delivered);
        let now = self.now;
        self.with_ep(node, |ep| ep.handle_packet(now, iface, packet));
    }
}
