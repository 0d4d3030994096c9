//! Mobile IPv6 on the simulated network: a mobile node with babymdd, a home
//! agent and a correspondent, each an [`Endpoint`] wrapping the
//! `mip6-proto` machine, plus [`Mip6World`], the topology the scenario and
//! the integration tests run on.
//!
//! The drivers do what a kernel does around SHISA's daemons:
//! - turn received IPv6 packets into [`RxDatagram`]s (walking extension
//!   headers, reading the Home Address option and the type 2 routing
//!   header, removing the tunnel header);
//! - turn [`Transmit`]s into whole packets (inserting the Home Address
//!   option or the type 2 routing header with [`transform`]);
//! - run the data plane the forwarding-plane events describe: the home
//!   agent claims home addresses (proxy neighbour discovery) and tunnels
//!   their packets to the care-of address; the mobile node reverse-tunnels
//!   through its home agent or, once a correspondent's binding is usable,
//!   sends route-optimised with a Home Address option; the correspondent
//!   swaps the Home Address option on receipt and answers with a type 2
//!   routing header.
//!
//! Applications: the mobile node pings the correspondent's UDP echo
//! service from its home address; every reply records the path it took.
//!
//! ```
//! use std::time::Duration;
//! use mobsim::drivers::mip6::{Mip6World, WorldConfig};
//!
//! let mut w = Mip6World::new(&WorldConfig::default());
//! w.sim.run_until(Duration::from_secs(1)).unwrap();
//! w.move_mn(1); // to the first visited link
//! w.sim.run_until(Duration::from_secs(15)).unwrap();
//! let mn = w.mn();
//! assert!(mn.home_binding().is_some());
//! ```

use std::collections::{BTreeMap, VecDeque};
use std::net::Ipv6Addr;
use std::time::Duration;

use mip6_proto::cn::{CnConfig, Correspondent};
use mip6_proto::event::{FwdEvent, Output, RxDatagram, Transmit, TxExt};
use mip6_proto::ha::{HaConfig, HomeAgent};
use mip6_proto::mn::{MnConfig, MobileNode};
use mip6_proto::movement::{
    AdvertisedPrefix, Babymdd, MdConfig, MdInterface, MdRequest, Movement, MovementDetector,
};
use mip6_proto::transform::{self, TunnelEnds};
use mip6_proto::wire::IpProtocol;
use mip6_proto::wire::ipv6::{self, Ipv6Packet, Ipv6Repr};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use crate::net::ip;
use crate::net::toy::{ECHO_PORT, PINGER_PORT, UdpPinger};
use crate::net::{Action, Endpoint, IfaceId, LinkConfig, LinkEvent, LinkId, NodeId, Router, Sim};

/// Hop limit of the packets the drivers originate and of tunnel headers.
pub const HOP_LIMIT: u8 = 64;
/// How long the drivers take to answer a duplicate address detection
/// request: RetransTimer × DupAddrDetectTransmits of RFC 4862 (1 s × 1).
pub const DAD_TIME: Duration = Duration::from_secs(1);
/// Router lifetime of the router advertisements a driver synthesises when
/// its interface attaches to a link with a prefix.
pub const RA_ROUTER_LIFETIME: Duration = Duration::from_secs(1800);
/// Valid lifetime of the advertised prefixes.
pub const RA_VALID_LIFETIME: Duration = Duration::from_secs(3600);

/// What the drivers learn from walking a received packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Walk {
    /// IPv6 source as received.
    pub src: Ipv6Addr,
    /// IPv6 destination as received.
    pub dst: Ipv6Addr,
    /// The home address of the first Home Address option.
    pub hao: Option<Ipv6Addr>,
    /// The home address of the first type 2 routing header.
    pub rh2: Option<Ipv6Addr>,
    /// The upper-layer protocol (41 for a tunnelled packet).
    pub upper: u8,
    /// Where the upper-layer header starts.
    pub upper_offset: usize,
    /// The packet's length per its payload length field.
    pub len: usize,
}

fn addr_at(pkt: &[u8], at: usize) -> Option<Ipv6Addr> {
    let end = at.checked_add(16)?;
    let b: [u8; 16] = pkt.get(at..end)?.try_into().ok()?;
    Some(Ipv6Addr::from(b))
}

/// Walks an IPv6 packet's extension headers; `None` when it is malformed.
pub fn walk(pkt: &[u8]) -> Option<Walk> {
    let view = Ipv6Packet::new_checked(pkt).ok()?;
    let ip = Ipv6Repr::parse(&view).ok()?;
    let len = ipv6::HEADER_LEN.checked_add(usize::from(ip.payload_len))?;
    let pkt = pkt.get(..len)?;
    let info = ipv6::mobility_info(pkt, ipv6::DEFAULT_MAX_EXT_HEADERS).ok()?;
    let hao = match info.hao_offset {
        Some(at) => Some(addr_at(pkt, at)?),
        None => None,
    };
    let rh2 = match info.rh2_offset {
        Some(at) => Some(addr_at(pkt, at.checked_add(8)?)?),
        None => None,
    };
    Some(Walk {
        src: ip.src,
        dst: ip.dst,
        hao,
        rh2,
        upper: info.upper.0,
        upper_offset: info.upper_offset,
        len,
    })
}

/// Offset of the Next Header field that names the header at `upper_offset`
/// (the fixed header's, or the last extension header's).
fn next_header_field_of(packet: &[u8], upper_offset: usize) -> Option<usize> {
    if upper_offset == ipv6::HEADER_LEN {
        return Some(6);
    }
    let mut at = ipv6::HEADER_LEN;
    loop {
        // Every extension header the walk accepted starts with Next Header
        // and a length in 8-octet units after the first 8.
        let len = usize::from(*packet.get(at.checked_add(1)?)?)
            .checked_add(1)?
            .checked_mul(8)?;
        let next = at.checked_add(len)?;
        if next == upper_offset {
            return Some(at);
        }
        if next > upper_offset {
            return None;
        }
        at = next;
    }
}

fn plain_packet(src: Ipv6Addr, dst: Ipv6Addr, next_header: u8, body: &[u8]) -> Option<Vec<u8>> {
    let payload_len = u16::try_from(body.len()).ok()?;
    let mut buf = vec![0u8; ipv6::HEADER_LEN];
    Ipv6Repr {
        src,
        dst,
        next_header: IpProtocol(next_header),
        payload_len,
        hop_limit: HOP_LIMIT,
        traffic_class: 0,
        flow_label: 0,
    }
    .emit(&mut buf)
    .ok()?;
    buf.extend_from_slice(body);
    Some(buf)
}

/// Builds the whole IPv6 packet for a machine's [`Transmit`] whose message
/// is `body`: the fixed header and, for [`TxExt::HomeAddress`] or
/// [`TxExt::Type2Routing`], the extension header, inserted by the same
/// transforms the data plane uses.
pub fn to_packet(tx: &Transmit, body: &[u8]) -> Option<Vec<u8>> {
    let (src, dst) = match tx.ext {
        TxExt::None => (tx.src, tx.dst),
        TxExt::HomeAddress(home) => (home, tx.dst),
        TxExt::Type2Routing(home) => (tx.src, home),
    };
    let mut buf = plain_packet(src, dst, tx.next_header, body)?;
    let len = buf.len();
    buf.resize(len.checked_add(24)?, 0);
    let n = match tx.ext {
        TxExt::None => len,
        TxExt::HomeAddress(_) => transform::mn_output_ro(&mut buf, len, tx.src).ok()?,
        TxExt::Type2Routing(_) => transform::cn_output_ro(&mut buf, len, tx.dst).ok()?,
    };
    buf.truncate(n);
    Some(buf)
}

fn encapsulated(packet: &[u8], src: Ipv6Addr, dst: Ipv6Addr) -> Option<Vec<u8>> {
    let len = packet.len();
    let mut buf = packet.to_vec();
    buf.resize(len.checked_add(ipv6::HEADER_LEN)?, 0);
    let ends = TunnelEnds {
        src,
        dst,
        hop_limit: HOP_LIMIT,
    };
    let n = transform::encapsulate(&mut buf, len, &ends).ok()?;
    buf.truncate(n);
    Some(buf)
}

fn rx_of<'a>(w: &Walk, pkt: &'a [u8], tunnelled: bool) -> Option<RxDatagram<'a>> {
    let payload = pkt.get(w.upper_offset..w.len)?;
    Some(RxDatagram {
        src: w.src,
        dst: w.rh2.unwrap_or(w.dst),
        hao: w.hao,
        rh2: w.rh2,
        tunnelled,
        next_header: w.upper,
        payload,
    })
}

/// A UDP datagram found by [`walk`]ing a packet whose addresses are final
/// (after any Home Address swap).
struct Udp<'a> {
    src: Ipv6Addr,
    src_port: u16,
    dst_port: u16,
    payload: &'a [u8],
}

fn udp_of(pkt: &[u8]) -> Option<Udp<'_>> {
    let w = walk(pkt)?;
    if w.upper != IpProtocol::UDP.0 {
        return None;
    }
    let seg = pkt.get(w.upper_offset..w.len)?;
    let hdr: &[u8; 8] = seg.first_chunk()?;
    let [s0, s1, d0, d1, l0, l1, _, _] = *hdr;
    let seg = seg.get(..usize::from(u16::from_be_bytes([l0, l1])))?;
    // The checksum covers the home address: it verifies only when the
    // transforms restored the addresses the sender computed it over.
    if ip::pseudo_header_checksum(w.src, w.dst, 17, seg) != 0 {
        return None;
    }
    Some(Udp {
        src: w.src,
        src_port: u16::from_be_bytes([s0, s1]),
        dst_port: u16::from_be_bytes([d0, d1]),
        payload: seg.get(8..)?,
    })
}

fn transmit(out: &mut VecDeque<Action>, packet: Vec<u8>) {
    out.push_back(Action::Transmit {
        iface: IfaceId(0),
        next_hop: None,
        packet,
    });
}

/// Drains one machine's output queue: transmissions become packets in
/// `out`; forwarding-plane events are returned in order.
fn drain(
    out: &mut VecDeque<Action>,
    mut poll: impl FnMut(&mut Vec<u8>) -> Option<Output>,
    mut on_tx: impl FnMut(&Transmit, Vec<u8>) -> Option<Vec<u8>>,
) -> Vec<FwdEvent> {
    let mut events = Vec::new();
    loop {
        let mut buf = Vec::new();
        match poll(&mut buf) {
            Some(Output::Transmit(t)) => {
                let body = buf.get(buf.len().saturating_sub(t.len)..).unwrap_or(&[]);
                if let Some(p) = to_packet(&t, body).and_then(|p| on_tx(&t, p)) {
                    transmit(out, p);
                }
            }
            Some(Output::Fwd(e)) => events.push(e),
            None => return events,
        }
    }
}

/// The Mobile IPv6 Home-Agents anycast address of a /64 home prefix
/// (RFC 2526 §2 with anycast ID 0x7e, RFC 6275 §10.5): the prefix followed
/// by fdff:ffff:ffff:fffe.
pub fn home_agents_anycast(prefix: Ipv6Addr) -> Ipv6Addr {
    let p = u128::from(prefix) & !u128::from(u64::MAX);
    Ipv6Addr::from(p | 0xfdff_ffff_ffff_fffe)
}

/// Counters of a home agent node's data plane.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HaNodeStats {
    /// Packets for a home address tunnelled to its care-of address.
    pub tunnelled_out: u64,
    /// Reverse-tunnelled packets decapsulated and forwarded.
    pub tunnelled_in: u64,
    /// Tunnelled packets refused (no binding for the inner source).
    pub refused: u64,
    /// Packets that did not parse.
    pub malformed: u64,
}

/// A home agent on the simulated network. See the [module docs](self).
pub struct HaNode {
    ha: HomeAgent<ChaCha20Rng>,
    addr: Ipv6Addr,
    anycast: Vec<Ipv6Addr>,
    /// Home address → its bindings by Binding Identifier (`None`: a
    /// binding without one) → care-of address.
    bindings: BTreeMap<Ipv6Addr, BTreeMap<Option<u16>, Ipv6Addr>>,
    /// NEMO: mobile network prefix → care-of address of its mobile router.
    prefix_routes: Vec<(Ipv6Addr, u8, Ipv6Addr)>,
    dad: Vec<(Duration, Ipv6Addr)>,
    out: VecDeque<Action>,
    events: Vec<(Duration, FwdEvent)>,
    stats: HaNodeStats,
}

impl HaNode {
    /// A home agent node running `cfg`, seeded with `seed`.
    ///
    /// # Errors
    /// The home agent's configuration error.
    pub fn new(cfg: HaConfig, seed: u64) -> Result<Self, mip6_proto::ha::ConfigError> {
        let addr = cfg.address;
        let anycast = cfg
            .home_prefixes
            .iter()
            .filter(|p| p.len == 64)
            .map(|p| home_agents_anycast(p.prefix))
            .collect();
        Ok(Self {
            anycast,
            ha: HomeAgent::new(cfg, ChaCha20Rng::seed_from_u64(seed), Duration::ZERO)?,
            addr,
            bindings: BTreeMap::new(),
            prefix_routes: Vec::new(),
            dad: Vec::new(),
            out: VecDeque::new(),
            events: Vec::new(),
            stats: HaNodeStats::default(),
        })
    }

    /// The home agent machine.
    pub fn machine(&self) -> &HomeAgent<ChaCha20Rng> {
        &self.ha
    }

    /// Every forwarding-plane event with its time.
    pub fn events(&self) -> &[(Duration, FwdEvent)] {
        &self.events
    }

    /// Data-plane counters.
    pub fn stats(&self) -> HaNodeStats {
        self.stats
    }

    /// Where packets for `home` are tunnelled: its only binding, or with
    /// several Binding Identifiers the lowest one's care-of address (a
    /// simple flow-agnostic policy; RFC 5648 leaves the choice to the home
    /// agent). A home binding (care-of = home) is not a tunnel end.
    pub fn tunnel_end(&self, home: Ipv6Addr) -> Option<Ipv6Addr> {
        self.bindings
            .get(&home)?
            .values()
            .copied()
            .find(|c| *c != home)
    }

    fn pump(&mut self, now: Duration) {
        let events = drain(&mut self.out, |b| self.ha.poll_output(b), |_, p| Some(p));
        for e in events {
            self.events.push((now, e));
            match e {
                FwdEvent::HomeBindingAdded {
                    home, care_of, bid, ..
                } => {
                    let b = self.bindings.entry(home).or_default();
                    if b.is_empty() {
                        self.out.push_back(Action::ClaimAddress {
                            iface: IfaceId(0),
                            addr: home,
                        });
                    }
                    b.insert(bid, care_of);
                }
                FwdEvent::HomeBindingRemoved { home, bid, .. } => {
                    let empty = self.bindings.get_mut(&home).is_none_or(|b| {
                        b.remove(&bid);
                        b.is_empty()
                    });
                    if empty && self.bindings.remove(&home).is_some() {
                        self.out.push_back(Action::ReleaseAddress {
                            iface: IfaceId(0),
                            addr: home,
                        });
                    }
                }
                FwdEvent::DadRequest { home } => {
                    self.dad.push((now.saturating_add(DAD_TIME), home));
                }
                FwdEvent::PrefixRouteAdded {
                    prefix,
                    len,
                    care_of,
                    ..
                } => {
                    self.prefix_routes
                        .retain(|(p, l, _)| !(*p == prefix && *l == len));
                    self.prefix_routes.push((prefix, len, care_of));
                }
                FwdEvent::PrefixRouteRemoved { prefix, len } => {
                    self.prefix_routes
                        .retain(|(p, l, _)| !(*p == prefix && *l == len));
                }
                _ => {}
            }
        }
    }
}

impl Endpoint for HaNode {
    fn handle_packet(&mut self, now: Duration, _iface: IfaceId, packet: &[u8]) {
        let Some(w) = walk(packet) else {
            self.stats.malformed = self.stats.malformed.saturating_add(1);
            return;
        };
        if w.dst == self.addr && w.upper == IpProtocol::IPV6.0 {
            let mut buf = packet.to_vec();
            let bindings = &self.bindings;
            let routes = &self.prefix_routes;
            // A reverse-tunnelled packet comes from a home address or (NEMO,
            // RFC 3963 §6.1) from a mobile network prefix, through the
            // care-of address registered for it.
            match transform::ha_tunnel_input(&mut buf, w.len, |inner_src, outer_src| {
                bindings
                    .get(inner_src)
                    .is_some_and(|b| b.values().any(|c| c == outer_src))
                    || routes
                        .iter()
                        .any(|(p, l, c)| c == outer_src && ip::in_prefix(*inner_src, *p, *l))
            }) {
                Ok(n) => {
                    buf.truncate(n);
                    self.stats.tunnelled_in = self.stats.tunnelled_in.saturating_add(1);
                    transmit(&mut self.out, buf);
                }
                Err(_) => self.stats.refused = self.stats.refused.saturating_add(1),
            }
        } else if w.dst == self.addr || w.dst.is_multicast() || self.anycast.contains(&w.dst) {
            if let Some(rx) = rx_of(&w, packet, false) {
                // Refusals are counted by the machine.
                let _ = self.ha.handle_datagram(now, &rx);
            }
        } else if let Some(coa) = self.tunnel_end(w.dst).or_else(|| {
            self.prefix_routes
                .iter()
                .filter(|(p, l, _)| ip::in_prefix(w.dst, *p, *l))
                .max_by_key(|(_, l, _)| *l)
                .map(|(_, _, c)| *c)
        }) && let Some(p) = packet
            .get(..w.len)
            .and_then(|p| encapsulated(p, self.addr, coa))
        {
            self.stats.tunnelled_out = self.stats.tunnelled_out.saturating_add(1);
            transmit(&mut self.out, p);
        }
        self.pump(now);
    }

    fn handle_link_event(&mut self, _now: Duration, iface: IfaceId, event: &LinkEvent) {
        if matches!(event, LinkEvent::Attached { .. }) {
            for addr in &self.anycast {
                self.out
                    .push_back(Action::ClaimAddress { iface, addr: *addr });
            }
        }
    }

    fn handle_timeout(&mut self, now: Duration) {
        let due: Vec<Ipv6Addr> = self
            .dad
            .iter()
            .filter(|(at, _)| *at <= now)
            .map(|(_, h)| *h)
            .collect();
        self.dad.retain(|(at, _)| *at > now);
        for home in due {
            // Nobody else on the home link uses a mobile node's home address.
            self.ha.dad_result(now, home, true);
        }
        self.ha.handle_timeout(now);
        self.pump(now);
    }

    fn poll_action(&mut self) -> Option<Action> {
        self.out.pop_front()
    }

    fn poll_timeout(&self) -> Option<Duration> {
        let dad = self.dad.iter().map(|(at, _)| *at).min();
        match (self.ha.poll_timeout(), dad) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// How a reply reached the mobile node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Path {
    /// On the home link, without Mobile IPv6.
    Home,
    /// Through the home agent's tunnel.
    Tunnelled,
    /// Route-optimised (type 2 routing header).
    RouteOptimised,
}

/// One echo reply the mobile node received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reply {
    /// The request's sequence number.
    pub seq: u32,
    /// When the reply arrived.
    pub at: Duration,
    /// Its path.
    pub path: Path,
}

/// How a request left the mobile node.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestStats {
    /// Sent on the home link.
    pub home: u64,
    /// Reverse-tunnelled through the home agent.
    pub tunnelled: u64,
    /// Route-optimised (Home Address option).
    pub route_optimised: u64,
    /// Not sent: away from home without a usable home binding.
    pub no_path: u64,
}

/// The link an interface is on: its id, its advertised prefix, whether it is up.
type Attachment = (LinkId, Option<(Ipv6Addr, u8)>, bool);

/// A mobile node on the simulated network: `mip6-proto`'s
/// [`MobileNode`] with [`Babymdd`] watching interface 0, and a UDP pinger
/// towards one correspondent. See the [module docs](self).
pub struct MnNode {
    mn: MobileNode<ChaCha20Rng>,
    mdd: Babymdd,
    home: Ipv6Addr,
    link: Option<Attachment>,
    at_home: bool,
    home_bul: Option<(Ipv6Addr, Ipv6Addr)>,
    /// Multiple care-of addresses: the registered bindings by BID (home
    /// agent, care-of address), and each interface's care-of address.
    mcoa_bul: BTreeMap<u16, (Ipv6Addr, Ipv6Addr)>,
    iface_coas: BTreeMap<usize, Ipv6Addr>,
    mcoa: bool,
    ro: BTreeMap<Ipv6Addr, Ipv6Addr>,
    dad: Vec<(Duration, Ipv6Addr)>,
    peer: Ipv6Addr,
    interval: Duration,
    next_ping: Option<Duration>,
    send_times: Vec<Duration>,
    replies: Vec<Reply>,
    requests: RequestStats,
    movements: Vec<(Duration, Movement)>,
    events: Vec<(Duration, FwdEvent)>,
    out: VecDeque<Action>,
    /// Mobile router: the mobile network behind interface 1.
    mobile_network: Option<(Ipv6Addr, u8)>,
    forwarded: RouterStats,
}

/// What a mobile router forwarded for its mobile network.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RouterStats {
    /// From the mobile network, sent on (reverse-tunnelled when away).
    pub outbound: u64,
    /// Into the mobile network (from the home agent's tunnel when away).
    pub inbound: u64,
    /// Dropped: away from home without a usable home binding.
    pub no_path: u64,
}

/// An ICMPv6 Parameter Problem (type 4) or Destination Unreachable (type 1)
/// whose quoted packet carried a Mobility Header: the quoted destination,
/// the peer that refused it.
fn quoted_mobility_error(pkt: &[u8], w: &Walk) -> Option<Ipv6Addr> {
    let icmp = pkt.get(w.upper_offset..w.len)?;
    let ty = *icmp.first()?;
    if !(ty == 4 || ty == 1) {
        return None;
    }
    if ip::pseudo_header_checksum(w.src, w.dst, 58, icmp) != 0 {
        return None;
    }
    let quoted = icmp.get(8..)?;
    // The quote may be cut short: read the fixed header and walk what is there.
    let dst = addr_at(quoted, 24)?;
    let q = walk(quoted);
    let mh = match q {
        Some(q) => q.upper == IpProtocol::MOBILITY.0,
        None => quoted.get(6) == Some(&IpProtocol::MOBILITY.0),
    };
    mh.then_some(dst)
}

/// The router address the drivers use for `link` in synthesised router
/// advertisements (a link-local address unique per link).
pub fn router_of(link: LinkId) -> Ipv6Addr {
    let n = u64::try_from(link.0).unwrap_or(u64::MAX);
    Ipv6Addr::from((0xfe80u128 << 112) | (1u128 << 64) | u128::from(n))
}

impl MnNode {
    /// A mobile node running `cfg` (home prefix /64), seeded with `seed`,
    /// that pings `peer`'s UDP echo service every `interval` from its home
    /// address (`Duration::ZERO`: never).
    ///
    /// # Errors
    /// The mobile node's configuration error.
    pub fn new(
        cfg: MnConfig,
        seed: u64,
        peer: Ipv6Addr,
        interval: Duration,
    ) -> Result<Self, mip6_proto::mn::ConfigError> {
        let home = cfg.home;
        let mcoa = cfg.mcoa.is_some();
        let mut iid = [0u8; 8];
        iid.copy_from_slice(home.octets().get(8..).unwrap_or(&[0; 8]));
        let mdd = Babymdd::new(MdConfig {
            home: vec![(home, cfg.home_prefix_len)],
            interfaces: vec![MdInterface {
                iface: 0,
                iid,
                bid: None,
            }],
            max_routers: 4,
            max_addresses: 8,
        });
        Ok(Self {
            mn: MobileNode::new(cfg, ChaCha20Rng::seed_from_u64(seed), Duration::ZERO)?,
            mdd,
            home,
            link: None,
            at_home: true,
            home_bul: None,
            mcoa_bul: BTreeMap::new(),
            iface_coas: BTreeMap::new(),
            mcoa,
            ro: BTreeMap::new(),
            dad: Vec::new(),
            peer,
            interval,
            next_ping: None,
            send_times: Vec::new(),
            replies: Vec::new(),
            requests: RequestStats::default(),
            movements: Vec::new(),
            events: Vec::new(),
            out: VecDeque::new(),
            mobile_network: None,
            forwarded: RouterStats::default(),
        })
    }

    /// Makes this node a mobile router (builder style) for the mobile
    /// network `prefix/len` on its interface 1: packets from the mobile
    /// network are forwarded (reverse-tunnelled through the home agent while
    /// away, RFC 3963 §5.5) and packets for it that arrive through the tunnel
    /// are forwarded onto it. The machine's configuration decides whether
    /// the prefix is registered explicitly or implicitly.
    #[must_use]
    pub fn with_mobile_network(mut self, prefix: Ipv6Addr, len: u8) -> Self {
        self.mobile_network = Some((prefix, len));
        self
    }

    /// What the mobile router forwarded.
    pub fn forwarded(&self) -> RouterStats {
        self.forwarded
    }

    fn in_mobile_network(&self, a: Ipv6Addr) -> bool {
        self.mobile_network
            .is_some_and(|(p, l)| ip::in_prefix(a, p, l))
    }

    /// Mobile router: a packet from the mobile network goes out.
    fn forward_out(&mut self, packet: &[u8]) {
        let out = if self.at_home {
            Some(packet.to_vec())
        } else if let Some((ha, coa)) = self.tunnel() {
            encapsulated(packet, coa, ha)
        } else {
            None
        };
        match out {
            Some(p) => {
                self.forwarded.outbound = self.forwarded.outbound.saturating_add(1);
                transmit(&mut self.out, p);
            }
            None => self.forwarded.no_path = self.forwarded.no_path.saturating_add(1),
        }
    }

    /// Mobile router: a packet for the mobile network goes onto it.
    fn forward_in(&mut self, packet: Vec<u8>) {
        self.forwarded.inbound = self.forwarded.inbound.saturating_add(1);
        self.out.push_back(Action::Transmit {
            iface: IfaceId(1),
            next_hop: None,
            packet,
        });
    }

    /// The mobile node machine.
    pub fn machine(&self) -> &MobileNode<ChaCha20Rng> {
        &self.mn
    }

    /// The movement detector.
    pub fn detector(&self) -> &Babymdd {
        &self.mdd
    }

    /// The usable home registration: (home agent, care-of address).
    pub fn home_binding(&self) -> Option<(Ipv6Addr, Ipv6Addr)> {
        self.home_bul
    }

    /// Multiple care-of addresses: the usable bindings with the home agent
    /// by Binding Identifier (home agent, care-of address).
    pub fn bid_bindings(&self) -> &BTreeMap<u16, (Ipv6Addr, Ipv6Addr)> {
        &self.mcoa_bul
    }

    /// The reverse tunnel in use: the home registration, or the preferred
    /// (lowest) Binding Identifier's binding.
    fn tunnel(&self) -> Option<(Ipv6Addr, Ipv6Addr)> {
        self.home_bul
            .or_else(|| self.mcoa_bul.values().next().copied())
    }

    /// Multiple care-of addresses (interface `i` has Binding Identifier
    /// `i + 1`): an interface that attaches to a foreign link registers its
    /// own care-of address; one that leaves loses its binding. babymdd,
    /// which elects one primary interface, is not used in this mode.
    fn mcoa_link_event(&mut self, now: Duration, iface: usize, event: &LinkEvent) {
        let bid = u16::try_from(iface.saturating_add(1)).unwrap_or(u16::MAX);
        match event {
            LinkEvent::Attached {
                prefix: Some((p, 64)),
                up: true,
                ..
            } if !ip::in_prefix(self.home, *p, 64) => {
                let coa = Ipv6Addr::from(
                    (u128::from(*p) & !u128::from(u64::MAX))
                        | (u128::from(self.home) & u128::from(u64::MAX)),
                );
                self.iface_coas.insert(iface, coa);
                self.out.push_back(Action::ClaimAddress {
                    iface: IfaceId(iface),
                    addr: coa,
                });
                self.at_home = false;
                let m = Movement::Moved {
                    home: self.home,
                    care_of: coa,
                    iface: u32::try_from(iface).unwrap_or(u32::MAX),
                    bid: Some(bid),
                };
                self.movements.push((now, m));
                self.mn.handle_movement(now, m);
            }
            LinkEvent::Detached | LinkEvent::Down => {
                if let Some(coa) = self.iface_coas.remove(&iface) {
                    self.out.push_back(Action::ReleaseAddress {
                        iface: IfaceId(iface),
                        addr: coa,
                    });
                    let _ = self.mn.handle_bid_lost(now, bid);
                }
            }
            _ => {}
        }
    }

    /// The usable route-optimised binding with `peer` (its care-of address).
    pub fn route_optimised(&self, peer: Ipv6Addr) -> Option<Ipv6Addr> {
        self.ro.get(&peer).copied()
    }

    /// Echo replies received, in arrival order.
    pub fn replies(&self) -> &[Reply] {
        &self.replies
    }

    /// Requests sent, by path.
    pub fn requests(&self) -> RequestStats {
        self.requests
    }

    /// Movements babymdd reported, with their times.
    pub fn movements(&self) -> &[(Duration, Movement)] {
        &self.movements
    }

    /// Every forwarding-plane event with its time.
    pub fn events(&self) -> &[(Duration, FwdEvent)] {
        &self.events
    }

    fn advertise(&mut self, now: Duration) {
        if let Some((link, Some((prefix, len)), true)) = self.link {
            self.mdd.handle_router_advertisement(
                now,
                0,
                router_of(link),
                RA_ROUTER_LIFETIME,
                &[AdvertisedPrefix {
                    prefix,
                    len,
                    autonomous: true,
                    valid: RA_VALID_LIFETIME,
                }],
            );
        }
    }

    fn pump(&mut self, now: Duration) {
        // Router solicitations are answered at most once per pump: an
        // answer makes the detector probe routers, never solicit again.
        let mut solicited = false;
        while let Some(req) = self.mdd.poll_request() {
            match req {
                MdRequest::SendRouterSolicitation { .. } => {
                    if !solicited {
                        solicited = true;
                        self.advertise(now);
                    }
                }
                MdRequest::ProbeRouter { iface, router } => {
                    let reachable = self
                        .link
                        .is_some_and(|(l, _, up)| up && router_of(l) == router);
                    self.mdd.handle_nud_result(iface, router, reachable);
                }
                MdRequest::StartDad { addr, .. } => {
                    self.out.push_back(Action::ClaimAddress {
                        iface: IfaceId(0),
                        addr,
                    });
                    self.dad.push((now.saturating_add(DAD_TIME), addr));
                }
                MdRequest::RemoveAddress { addr, .. } => {
                    if addr != self.home {
                        self.out.push_back(Action::ReleaseAddress {
                            iface: IfaceId(0),
                            addr,
                        });
                    }
                }
            }
        }
        while let Some(m) = self.mdd.poll_movement() {
            self.movements.push((now, m));
            match m {
                Movement::Moved { .. } => self.at_home = false,
                Movement::ReturnedHome { .. } => self.at_home = true,
            }
            self.mn.handle_movement(now, m);
        }
        let home = self.home;
        let at_home = self.at_home;
        let home_bul = self.tunnel();
        let events = drain(
            &mut self.out,
            |b| self.mn.poll_output(b),
            |t, p| {
                // A message from the home address while away (HoTI, say)
                // is reverse-tunnelled through the home agent.
                if t.src == home && t.ext == TxExt::None && !at_home {
                    let (ha, coa) = home_bul?;
                    encapsulated(&p, coa, ha)
                } else {
                    Some(p)
                }
            },
        );
        for e in events {
            self.events.push((now, e));
            match e {
                FwdEvent::BulAdded {
                    peer,
                    care_of,
                    home_registration: true,
                    ..
                } => self.home_bul = Some((peer, care_of)),
                FwdEvent::BulAdded { peer, care_of, .. } => {
                    self.ro.insert(peer, care_of);
                }
                FwdEvent::McoaBulAdded {
                    peer,
                    bid,
                    care_of,
                    home_link: false,
                    ..
                } => {
                    self.mcoa_bul.insert(bid, (peer, care_of));
                }
                FwdEvent::McoaBulRemoved { bid, .. } => {
                    self.mcoa_bul.remove(&bid);
                }
                FwdEvent::BulRemoved { peer, .. } => {
                    if self.home_bul.is_some_and(|(ha, _)| ha == peer) {
                        self.home_bul = None;
                    }
                    self.ro.remove(&peer);
                }
                _ => {}
            }
        }
    }

    fn ping(&mut self) {
        let seq = u32::try_from(self.send_times.len()).unwrap_or(u32::MAX);
        let mut payload = seq.to_be_bytes().to_vec();
        payload.extend_from_slice(&[0x6d; 28]);
        let Some(p) = ip::build_udp(
            self.home,
            self.peer,
            PINGER_PORT,
            ECHO_PORT,
            HOP_LIMIT,
            &payload,
        ) else {
            return;
        };
        let tunnel = self.tunnel();
        let r = &mut self.requests;
        let packet = if self.at_home {
            r.home = r.home.saturating_add(1);
            Some(p)
        } else if let Some(coa) = self.ro.get(&self.peer).copied() {
            r.route_optimised = r.route_optimised.saturating_add(1);
            let len = p.len();
            let mut buf = p;
            buf.resize(len.saturating_add(24), 0);
            transform::mn_output_ro(&mut buf, len, coa).ok().map(|n| {
                buf.truncate(n);
                buf
            })
        } else if let Some((ha, coa)) = tunnel {
            r.tunnelled = r.tunnelled.saturating_add(1);
            encapsulated(&p, coa, ha)
        } else {
            r.no_path = r.no_path.saturating_add(1);
            None
        };
        if let Some(p) = packet {
            transmit(&mut self.out, p);
        }
    }

    fn inner(&mut self, now: Duration, pkt: &[u8], path: Path) {
        let Some(w) = walk(pkt) else { return };
        if w.upper == IpProtocol::ICMPV6.0
            && let Some(peer) = quoted_mobility_error(pkt, &w)
        {
            // MIPSOCK's forwarding-plane hint: the peer does not support
            // Mobile IPv6 (RFC 6275 §11.3.5).
            self.mn.handle_icmp_error(now, peer);
            return;
        }
        if w.upper == IpProtocol::MOBILITY.0 || w.upper == IpProtocol::ICMPV6.0 {
            if let Some(rx) = rx_of(&w, pkt, path == Path::Tunnelled) {
                let _ = self.mn.handle_datagram(now, &rx);
            }
            return;
        }
        if let Some(u) = udp_of(pkt)
            && u.src_port == ECHO_PORT
            && u.dst_port == PINGER_PORT
            && let Some(seq) = u.payload.first_chunk::<4>().map(|b| u32::from_be_bytes(*b))
        {
            self.replies.push(Reply { seq, at: now, path });
            if path == Path::Tunnelled && !self.ro.contains_key(&u.src) {
                // MIPSOCK RR_HINT: traffic from a correspondent came through
                // the tunnel; the machine decides whether to start RR.
                let _ = self.mn.handle_reverse_packet(now, u.src);
            }
        }
    }
}

impl Endpoint for MnNode {
    fn handle_packet(&mut self, now: Duration, iface: IfaceId, packet: &[u8]) {
        let Some(w) = walk(packet) else { return };
        let mut buf = packet.get(..w.len).unwrap_or_default().to_vec();
        if iface == IfaceId(1) && self.mobile_network.is_some() {
            if w.dst != self.home {
                self.forward_out(&buf);
            }
            return;
        }
        if w.upper == IpProtocol::IPV6.0 {
            let Some((ha, _)) = self.tunnel() else { return };
            let home = self.home;
            let mnp = self.mobile_network;
            let ours =
                |d: &Ipv6Addr| *d == home || mnp.is_some_and(|(p, l)| ip::in_prefix(*d, p, l));
            if let Ok(n) = transform::mn_tunnel_input(&mut buf, w.len, ha, ours) {
                buf.truncate(n);
                match walk(&buf).map(|x| x.dst) {
                    Some(d) if d != home && self.in_mobile_network(d) => self.forward_in(buf),
                    _ => self.inner(now, &buf, Path::Tunnelled),
                }
            }
        } else if w.dst != self.home && self.in_mobile_network(w.dst) {
            self.forward_in(buf);
        } else if w.rh2.is_some() {
            if w.upper == IpProtocol::MOBILITY.0 {
                // Signalling (a Binding Acknowledgement) goes to the machine
                // as received; it checks the routing header itself.
                if let Some(rx) = rx_of(&w, packet, false) {
                    let _ = self.mn.handle_datagram(now, &rx);
                }
            } else {
                let home = self.home;
                if transform::mn_input_ro(&mut buf, w.len, |h| *h == home).is_ok() {
                    self.inner(now, &buf, Path::RouteOptimised);
                }
            }
        } else {
            let path = if self.at_home {
                Path::Home
            } else {
                Path::RouteOptimised
            };
            self.inner(now, &buf, path);
        }
        self.pump(now);
    }

    fn handle_timeout(&mut self, now: Duration) {
        let due: Vec<Ipv6Addr> = self
            .dad
            .iter()
            .filter(|(at, _)| *at <= now)
            .map(|(_, a)| *a)
            .collect();
        self.dad.retain(|(at, _)| *at > now);
        for a in due {
            self.mdd.handle_dad_result(0, a, true);
        }
        self.mdd.handle_timeout(now);
        self.mn.handle_timeout(now);
        if let Some(at) = self.next_ping
            && at <= now
        {
            self.ping();
            self.next_ping = Some(at.saturating_add(self.interval));
        }
        self.pump(now);
    }

    fn handle_link_event(&mut self, now: Duration, iface: IfaceId, event: &LinkEvent) {
        if self.mcoa {
            if self.next_ping.is_none() && !self.interval.is_zero() {
                self.next_ping = Some(now.saturating_add(self.interval));
            }
            self.mcoa_link_event(now, iface.0, event);
            self.pump(now);
            return;
        }
        match event {
            LinkEvent::Attached { link, prefix, up } => {
                self.link = Some((*link, *prefix, *up));
                self.mdd.handle_link(now, 0, *up);
                self.advertise(now);
                if self.next_ping.is_none() && !self.interval.is_zero() {
                    self.next_ping = Some(now.saturating_add(self.interval));
                }
            }
            LinkEvent::Detached => {
                self.link = None;
                self.mdd.handle_link(now, 0, false);
            }
            LinkEvent::Up | LinkEvent::Down => {
                let up = matches!(event, LinkEvent::Up);
                if let Some(l) = self.link.as_mut() {
                    l.2 = up;
                }
                self.mdd.handle_link(now, 0, up);
                self.advertise(now);
            }
        }
        self.pump(now);
    }

    fn poll_action(&mut self) -> Option<Action> {
        let mut a = self.out.pop_front()?;
        // Send on the interface that owns the packet's source (a care-of
        // address of one of several interfaces).
        if let Action::Transmit { iface, packet, .. } = &mut a
            && let Some(src) = addr_at(packet, 8)
            && let Some((i, _)) = self.iface_coas.iter().find(|(_, c)| **c == src)
        {
            *iface = IfaceId(*i);
        }
        Some(a)
    }

    fn poll_timeout(&self) -> Option<Duration> {
        [
            self.mn.poll_timeout(),
            self.mdd.poll_timeout(),
            self.next_ping,
            self.dad.iter().map(|(at, _)| *at).min(),
        ]
        .into_iter()
        .flatten()
        .min()
    }
}

/// A correspondent on the simulated network: `mip6-proto`'s
/// [`Correspondent`] and a UDP echo service that answers route-optimised
/// when it holds a binding. See the [module docs](self).
pub struct CnNode {
    cn: Correspondent<ChaCha20Rng>,
    addr: Ipv6Addr,
    mobile_ipv6: bool,
    parameter_problems: u64,
    bindings: BTreeMap<Ipv6Addr, Ipv6Addr>,
    answered_direct: u64,
    answered_ro: u64,
    events: Vec<(Duration, FwdEvent)>,
    out: VecDeque<Action>,
}

impl CnNode {
    /// A correspondent at `addr` running `cfg`, seeded with `seed`.
    ///
    /// # Errors
    /// The correspondent's configuration error.
    pub fn new(
        addr: Ipv6Addr,
        cfg: CnConfig,
        seed: u64,
    ) -> Result<Self, mip6_proto::cn::ConfigError> {
        Ok(Self {
            cn: Correspondent::new(cfg, ChaCha20Rng::seed_from_u64(seed), Duration::ZERO)?,
            addr,
            mobile_ipv6: true,
            parameter_problems: 0,
            bindings: BTreeMap::new(),
            answered_direct: 0,
            answered_ro: 0,
            events: Vec::new(),
            out: VecDeque::new(),
        })
    }

    /// The correspondent machine.
    pub fn machine(&self) -> &Correspondent<ChaCha20Rng> {
        &self.cn
    }

    /// Makes this node an IPv6 host without Mobile IPv6 (builder style): it
    /// answers every Mobility Header with an ICMPv6 Parameter Problem, code 1
    /// (unrecognised Next Header, RFC 4443 §3.4), as RFC 6275 §9.2 expects of
    /// such a node, and drops packets with a Home Address option the same
    /// way.
    #[must_use]
    pub fn without_mobile_ipv6(mut self) -> Self {
        self.mobile_ipv6 = false;
        self
    }

    /// ICMPv6 Parameter Problems sent (without Mobile IPv6).
    pub fn parameter_problems(&self) -> u64 {
        self.parameter_problems
    }

    /// RFC 4443 §3.4: a Parameter Problem (code 1) pointing at the Next
    /// Header field that named the Mobility Header, quoting as much of the
    /// packet as fits in the minimum MTU.
    fn parameter_problem(&mut self, packet: &[u8], w: &Walk) {
        let Some(pointer) = next_header_field_of(packet, w.upper_offset) else {
            return;
        };
        let quote = packet.get(..w.len.min(1280 - 48)).unwrap_or_default();
        let mut icmp = vec![4u8, 1, 0, 0];
        icmp.extend_from_slice(&u32::try_from(pointer).unwrap_or(0).to_be_bytes());
        icmp.extend_from_slice(quote);
        let ck = ip::pseudo_header_checksum(self.addr, w.src, 58, &icmp);
        if let Some(f) = icmp.get_mut(2..4) {
            f.copy_from_slice(&ck.to_be_bytes());
        }
        if let Some(p) = plain_packet(self.addr, w.src, 58, &icmp) {
            self.parameter_problems = self.parameter_problems.saturating_add(1);
            transmit(&mut self.out, p);
        }
    }

    /// Echo requests answered: (without, with a type 2 routing header).
    pub fn answered(&self) -> (u64, u64) {
        (self.answered_direct, self.answered_ro)
    }

    /// Every forwarding-plane event with its time.
    pub fn events(&self) -> &[(Duration, FwdEvent)] {
        &self.events
    }

    fn echo(&mut self, pkt: &[u8]) {
        let Some(u) = udp_of(pkt) else { return };
        if u.dst_port != ECHO_PORT {
            return;
        }
        let Some(p) = ip::build_udp(
            self.addr, u.src, ECHO_PORT, u.src_port, HOP_LIMIT, u.payload,
        ) else {
            return;
        };
        self.cn.note_traffic(u.src, self.addr);
        let packet = match self.bindings.get(&u.src).copied() {
            Some(coa) => {
                let len = p.len();
                let mut buf = p;
                buf.resize(len.saturating_add(24), 0);
                transform::cn_output_ro(&mut buf, len, coa).ok().map(|n| {
                    buf.truncate(n);
                    self.answered_ro = self.answered_ro.saturating_add(1);
                    buf
                })
            }
            None => {
                self.answered_direct = self.answered_direct.saturating_add(1);
                Some(p)
            }
        };
        if let Some(p) = packet {
            transmit(&mut self.out, p);
        }
    }

    fn pump(&mut self, now: Duration) {
        let events = drain(&mut self.out, |b| self.cn.poll_output(b), |_, p| Some(p));
        for e in events {
            self.events.push((now, e));
            match e {
                FwdEvent::BindingAdded { home, care_of, .. } => {
                    self.bindings.insert(home, care_of);
                }
                FwdEvent::BindingRemoved { home, .. } => {
                    self.bindings.remove(&home);
                }
                _ => {}
            }
        }
    }
}

impl Endpoint for CnNode {
    fn handle_packet(&mut self, now: Duration, _iface: IfaceId, packet: &[u8]) {
        let Some(w) = walk(packet) else { return };
        if w.dst != self.addr {
            return;
        }
        let is_mh = w.upper == IpProtocol::MOBILITY.0;
        if !self.mobile_ipv6 {
            if is_mh {
                self.parameter_problem(packet, &w);
            } else if w.hao.is_none() {
                self.echo(packet);
            }
            return;
        }
        if let Some(home) = w.hao {
            let mut buf = packet.get(..w.len).unwrap_or_default().to_vec();
            let bindings = &self.bindings;
            match transform::cn_input_ro(&mut buf, w.len, |h, c| bindings.get(h) == Some(c)) {
                Ok(_) if is_mh => {
                    if let Some(rx) = rx_of(&w, packet, false) {
                        let _ = self.cn.handle_datagram(now, &rx);
                    }
                }
                Ok(_) => self.echo(&buf),
                Err(_) => {
                    let _ = self.cn.handle_unknown_hao(now, w.src, w.dst, home);
                }
            }
        } else if is_mh {
            if let Some(rx) = rx_of(&w, packet, false) {
                let _ = self.cn.handle_datagram(now, &rx);
            }
        } else {
            self.echo(packet);
        }
        self.pump(now);
    }

    fn handle_timeout(&mut self, now: Duration) {
        self.cn.handle_timeout(now);
        self.pump(now);
    }

    fn poll_action(&mut self) -> Option<Action> {
        self.out.pop_front()
    }

    fn poll_timeout(&self) -> Option<Duration> {
        self.cn.poll_timeout()
    }
}

/// How [`Mip6World`] is built.
#[derive(Debug, Clone)]
pub struct WorldConfig {
    /// Seed of the simulation (and, derived from it, of every machine).
    pub seed: u64,
    /// Loss probability on the visited links.
    pub loss: f64,
    /// Reordering probability on the visited links (held back 30 ms).
    pub reorder: f64,
    /// Jitter on the visited links.
    pub jitter: Duration,
    /// Duplication probability on the visited links.
    pub duplicate: f64,
    /// Interval of the mobile node's echo requests (zero: none).
    pub ping_interval: Duration,
    /// Whether the mobile node runs route optimisation.
    pub route_optimisation: bool,
    /// Whether the mobile node is configured with its home agent (else it
    /// discovers it with DHAAD).
    pub home_agent_known: bool,
    /// Whether the correspondent supports Mobile IPv6.
    pub correspondent_mobile_ipv6: bool,
    /// Make the mobile node a mobile router (RFC 3963, explicit mode) for
    /// the mobile network 2001:db8:99::/64, with a host behind it that pings
    /// the correspondent.
    pub mobile_router: bool,
    /// Give the mobile node a second interface (detached at first) and
    /// multiple care-of addresses (RFC 5648): interface `i` registers
    /// Binding Identifier `i + 1`.
    pub mcoa: bool,
}

impl Default for WorldConfig {
    fn default() -> Self {
        Self {
            seed: 1,
            loss: 0.0,
            reorder: 0.0,
            jitter: Duration::ZERO,
            duplicate: 0.0,
            ping_interval: Duration::from_millis(500),
            route_optimisation: true,
            home_agent_known: true,
            correspondent_mobile_ipv6: true,
            mobile_router: false,
            mcoa: false,
        }
    }
}

/// The Mobile IPv6 topology: a home link (2001:db8:1::/64, home agent
/// `::1`), two visited links (2001:db8:a::/64 and 2001:db8:b::/64), the
/// correspondent's link (2001:db8:c::/64, correspondent `::c`), all joined
/// by one router; the mobile node (home address 2001:db8:1::100) starts on
/// the home link. Every link is captured.
pub struct Mip6World {
    /// The simulation.
    pub sim: Sim,
    /// Home link, visited link A, visited link B, correspondent link.
    pub links: [LinkId; 4],
    /// The mobile node.
    pub mn: NodeId,
    /// The home agent.
    pub ha: NodeId,
    /// The correspondent.
    pub cn: NodeId,
    /// With [`WorldConfig::mobile_router`]: the mobile network's link and
    /// the host on it (a [`UdpPinger`] towards the correspondent).
    pub mobile_network: Option<(LinkId, NodeId)>,
    mn_iface: IfaceId,
    mn_iface2: Option<IfaceId>,
}

/// Addresses of [`Mip6World`].
pub mod addrs {
    use std::net::Ipv6Addr;

    /// The home prefix.
    pub const HOME_PREFIX: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0);
    /// The home agent.
    pub const HA: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 1);
    /// The mobile node's home address.
    pub const HOA: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0x100);
    /// Visited link A's prefix.
    pub const PREFIX_A: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xa, 0, 0, 0, 0, 0);
    /// Visited link B's prefix.
    pub const PREFIX_B: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xb, 0, 0, 0, 0, 0);
    /// The care-of address on link A (the home address's interface identifier).
    pub const COA_A: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xa, 0, 0, 0, 0, 0x100);
    /// The care-of address on link B.
    pub const COA_B: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xb, 0, 0, 0, 0, 0x100);
    /// The correspondent's prefix.
    pub const CN_PREFIX: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xc, 0, 0, 0, 0, 0);
    /// The correspondent.
    pub const CN: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xc, 0, 0, 0, 0, 0xc);
    /// The mobile network prefix (mobile router worlds).
    pub const MNP: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0x99, 0, 0, 0, 0, 0);
    /// The mobile router's address on its mobile network.
    pub const MR_INGRESS: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0x99, 0, 0, 0, 0, 1);
    /// The host on the mobile network.
    pub const HOST: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0x99, 0, 0, 0, 0, 0x10);
}

impl Mip6World {
    /// Builds the topology of [`Mip6World`] for `cfg`.
    ///
    /// # Panics
    /// Never with the fixed configurations used here (they are valid).
    #[allow(clippy::expect_used)]
    pub fn new(cfg: &WorldConfig) -> Self {
        use addrs::*;
        let ms = Duration::from_millis;
        let mut sim = Sim::new(cfg.seed);
        let visited = |name: &str, prefix| {
            LinkConfig::new(name)
                .delay(ms(10))
                .jitter(cfg.jitter)
                .loss(cfg.loss)
                .duplicate(cfg.duplicate)
                .reorder(cfg.reorder, ms(30))
                .prefix(prefix, 64)
        };
        let home = sim.add_link(LinkConfig::new("home").delay(ms(2)).prefix(HOME_PREFIX, 64));
        let va = sim.add_link(visited("visited-a", PREFIX_A));
        let vb = sim.add_link(visited("visited-b", PREFIX_B));
        let cnl = sim.add_link(
            LinkConfig::new("cn-net")
                .delay(ms(15))
                .prefix(CN_PREFIX, 64),
        );
        let router = sim.add_node(
            "router",
            Router::new()
                .route(HOME_PREFIX, 64, IfaceId(0), None)
                .route(PREFIX_A, 64, IfaceId(1), None)
                .route(PREFIX_B, 64, IfaceId(2), None)
                .route(CN_PREFIX, 64, IfaceId(3), None)
                // The mobile network is reached through its home agent.
                .route(MNP, 64, IfaceId(0), Some(HA)),
        );
        for (l, p) in [
            (home, HOME_PREFIX),
            (va, PREFIX_A),
            (vb, PREFIX_B),
            (cnl, CN_PREFIX),
        ] {
            let router_addr = Ipv6Addr::from(u128::from(p) | 0xfe);
            sim.add_router_iface(router, Some(l), &[router_addr]);
        }
        let ha_seed = sim.derive_seed();
        let mut ha_cfg = HaConfig::new(HA, HOME_PREFIX, 64);
        if cfg.mobile_router {
            ha_cfg.nemo = true;
            ha_cfg.mobile_routers = vec![mip6_proto::ha::MobileRouter {
                home: HOA,
                prefixes: vec![(MNP, 64)],
            }];
        }
        let ha = sim.add_node(
            "home-agent",
            HaNode::new(ha_cfg, ha_seed).expect("valid HA config"),
        );
        sim.add_iface(ha, Some(home), &[HA]);
        let cn_seed = sim.derive_seed();
        let mut cn_node = CnNode::new(CN, CnConfig::default(), cn_seed).expect("valid CN config");
        if !cfg.correspondent_mobile_ipv6 {
            cn_node = cn_node.without_mobile_ipv6();
        }
        let cn = sim.add_node("correspondent", cn_node);
        sim.add_iface(cn, Some(cnl), &[CN]);
        let mut mcfg = MnConfig::new(HOA, 64, cfg.home_agent_known.then_some(HA));
        mcfg.route_optimisation = cfg.route_optimisation;
        if cfg.mobile_router {
            mcfg.mobile_router = Some(vec![(MNP, 64)]);
        }
        if cfg.mcoa {
            mcfg.mcoa = Some(mip6_proto::mn::McoaConfig {
                max_bids: 4,
                bulk: true,
                priorities: Vec::new(),
            });
        }
        let mn_seed = sim.derive_seed();
        let mut node = MnNode::new(mcfg, mn_seed, CN, cfg.ping_interval).expect("valid MN config");
        if cfg.mobile_router {
            node = node.with_mobile_network(MNP, 64);
        }
        let mn = sim.add_node(
            if cfg.mobile_router {
                "mobile-router"
            } else {
                "mobile-node"
            },
            node,
        );
        let mn_iface = sim.add_iface(mn, Some(home), &[HOA]);
        let mn_iface2 = cfg.mcoa.then(|| sim.add_iface(mn, None, &[]));
        let mobile_network = cfg.mobile_router.then(|| {
            let net = sim.add_link(LinkConfig::new("mobile-net").delay(ms(1)).prefix(MNP, 64));
            sim.add_router_iface(mn, Some(net), &[MR_INGRESS]);
            let host = sim.add_node(
                "host",
                UdpPinger::new(HOST, CN, cfg.ping_interval.max(ms(100)), 100_000),
            );
            sim.add_iface(host, Some(net), &[HOST]);
            sim.capture(net);
            (net, host)
        });
        for l in [home, va, vb, cnl] {
            sim.capture(l);
        }
        Self {
            sim,
            links: [home, va, vb, cnl],
            mn,
            ha,
            cn,
            mobile_network,
            mn_iface,
            mn_iface2,
        }
    }

    /// Moves the mobile node to link `i` of [`Mip6World::links`] (0: home).
    pub fn move_mn(&mut self, i: usize) {
        let to = self.links.get(i).copied();
        self.sim.move_iface(self.mn, self.mn_iface, to);
    }

    /// With [`WorldConfig::mcoa`]: moves the mobile node's second
    /// interface to link `i` of [`Mip6World::links`], or detaches it.
    pub fn move_mn_second(&mut self, i: Option<usize>) {
        if let Some(iface) = self.mn_iface2 {
            let to = i.and_then(|i| self.links.get(i).copied());
            self.sim.move_iface(self.mn, iface, to);
        }
    }

    /// The mobile node's driver.
    ///
    /// # Panics
    /// Never: the node is created by [`Mip6World::new`].
    #[allow(clippy::expect_used)]
    pub fn mn(&self) -> &MnNode {
        self.sim
            .endpoint::<MnNode>(self.mn)
            .expect("the mobile node")
    }

    /// The home agent's driver.
    ///
    /// # Panics
    /// Never: the node is created by [`Mip6World::new`].
    #[allow(clippy::expect_used)]
    pub fn ha(&self) -> &HaNode {
        self.sim
            .endpoint::<HaNode>(self.ha)
            .expect("the home agent")
    }

    /// The correspondent's driver.
    ///
    /// # Panics
    /// Never: the node is created by [`Mip6World::new`].
    #[allow(clippy::expect_used)]
    pub fn cn(&self) -> &CnNode {
        self.sim
            .endpoint::<CnNode>(self.cn)
            .expect("the correspondent")
    }
}
