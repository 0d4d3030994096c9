//! The resolver machine: lin6resolvd's role on a LIN6 node.
//!
//! - Registers all local locators with its Mapping Agent (REGISTER with
//!   retransmission at 1 s doubling, 5 tries, then the next MA of the list),
//!   re-registers at 2/3 of the granted lifetime and at once on a prefix
//!   change ([`Resolver::set_local_locators`]).
//! - Resolves peers: [`Resolver::query`] (a data-plane miss) sends a QUERY
//!   with retries (1 s x 3 transmissions); REPLY fills the [`MappingCache`]
//!   (positive or negative with its TTL).
//! - Handles REFRESH from peers (one per ID per 3 s, timestamp window) by
//!   re-querying, and sends REFRESH to connected peers after a prefix
//!   change has been registered.
//! - Multihoming (seed 004): per-connection source and destination locator,
//!   failover on a failure signal by priority then weight with an event,
//!   "send to all locators" mode, `getaddrinfo2` ([`Resolver::peer_locators`])
//!   and FOREIGNLOCATOR ([`Resolver::force_foreign_locator`]).
//!
//! After a restart the node's fresh random Sequence may look old to the MA;
//! an authenticated REPLAY answer makes the node jump its Sequence by 2^30
//! (at most three times) and register again.
//!
//! Replies are accepted only from the MA the request went to, with the
//! request's Sequence and Nonce; REGISTER_ACK also needs a valid MAC
//! (AUTH_FAILED with Key ID 0 is advisory: counted, reported, and the
//! retransmission goes on).
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::arithmetic_side_effects
)]

use crate::addr::{AddrConfig, Lin6Id, Prefix};
use crate::cache::{Entry, MappingCache, preference_key};
use crate::io::{Datagram, Transmit, TypeCounters, sock, ts_distance, unix_secs};
use crate::wire::{
    self, Auth, Body, Code, FLAG_ACK, LocatorRecord, Locators, MAX_LOCATORS, MsgType, Repr,
};
use alloc::collections::{BTreeMap, BTreeSet, VecDeque};
use alloc::vec::Vec;
use core::net::{Ipv6Addr, SocketAddrV6};
use core::time::Duration;
use rand_core::CryptoRng;

/// Resolver configuration. [`ResolverConfig::new`] fills the spec's defaults.
#[derive(Clone, Debug)]
pub struct ResolverConfig {
    /// LIN6 prefix and OUI.
    pub addr: AddrConfig,
    /// This node's LIN6 ID (must be a mobile ID under `addr.oui`).
    pub node_id: Lin6Id,
    /// Key ID of the pre-shared key (non-zero).
    pub key_id: u16,
    /// The pre-shared key.
    pub key: Vec<u8>,
    /// This node's MAs, in preference order (e.g. from
    /// [`crate::addr::parse_txt_records`]).
    pub agents: Vec<SocketAddrV6>,
    /// The local locators to register (up to 16).
    pub locators: Vec<LocatorRecord>,
    /// UDP port this node sends from and receives REFRESH on (7360).
    pub port: u16,
    /// Requested lifetime (600 s).
    pub requested_lifetime: Duration,
    /// First REGISTER retransmission timeout (1 s, doubling).
    pub register_rto: Duration,
    /// REGISTER transmissions per MA (5).
    pub register_tries: u32,
    /// Pause after every MA failed before starting over (32 s).
    pub all_agents_failed_pause: Duration,
    /// QUERY retransmission interval (1 s).
    pub query_rto: Duration,
    /// QUERY transmissions (3).
    pub query_tries: u32,
    /// Minimum interval between REFRESHes acted on per ID (3 s).
    pub refresh_min_interval: Duration,
    /// Accepted |timestamp - now| (300 s).
    pub timestamp_window: Duration,
    /// Unix time (s) at the driver's epoch (`now = 0`).
    pub unix_time_at_epoch: u64,
    /// Mapping cache bound.
    pub cache_capacity: usize,
    /// Outstanding queries bound.
    pub max_queries: usize,
    /// Connections bound.
    pub max_connections: usize,
    /// Per-ID REFRESH rate-limit table bound.
    pub refresh_table_capacity: usize,
    /// Per-peer MA hints bound.
    pub peer_agent_capacity: usize,
    /// The Sequence before the first request (a driver that persists it
    /// across restarts sets it; `None`: drawn from the RNG).
    pub initial_sequence: Option<u32>,
}

impl ResolverConfig {
    /// Defaults from `../shared/spec/lin6.md` §3.
    pub fn new(
        node_id: Lin6Id,
        key_id: u16,
        key: &[u8],
        agents: Vec<SocketAddrV6>,
        locators: Vec<LocatorRecord>,
    ) -> Self {
        ResolverConfig {
            addr: AddrConfig::default(),
            node_id,
            key_id,
            key: key.to_vec(),
            agents,
            locators,
            port: wire::DEFAULT_PORT,
            requested_lifetime: Duration::from_secs(600),
            register_rto: Duration::from_secs(1),
            register_tries: 5,
            all_agents_failed_pause: Duration::from_secs(32),
            query_rto: Duration::from_secs(1),
            query_tries: 3,
            refresh_min_interval: Duration::from_secs(3),
            timestamp_window: Duration::from_secs(300),
            unix_time_at_epoch: 0,
            cache_capacity: 4096,
            max_queries: 64,
            max_connections: 1024,
            refresh_table_capacity: 1024,
            peer_agent_capacity: 1024,
            initial_sequence: None,
        }
    }
}

/// A configuration or API misuse.
#[derive(Clone, Copy, PartialEq, Eq, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResolverError {
    /// The node ID is not a mobile LIN6 ID.
    #[error("bad node ID: {0}")]
    BadNodeId(crate::addr::AddrError),
    /// Key ID 0 or an empty key.
    #[error("a non-zero key ID and a key are required")]
    NoKey,
    /// No MA configured.
    #[error("no mapping agent")]
    NoAgent,
    /// More than 16 local locators.
    #[error("more than 16 locators")]
    TooManyLocators,
    /// The connection table is full.
    #[error("connection table full")]
    ConnectionsFull,
    /// No such connection.
    #[error("no such connection")]
    UnknownConnection,
    /// The locator is not one of ours.
    #[error("not a local locator")]
    NotLocal,
}

/// A connection handle (multihoming API).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct ConnId(pub u64);

/// How a connection sends.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum SendMode {
    /// One destination locator at a time (failover on failure).
    #[default]
    One,
    /// Each packet to every usable locator of the peer (seed 004's telephony example).
    All,
}

/// Why a connection switched locators.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum FailureSignal {
    /// An ICMPv6 destination unreachable for the current locator.
    IcmpUnreachable,
    /// A timeout the driver (e.g. TCP) reported.
    Timeout,
    /// An explicit application call.
    Explicit,
}

/// Registration state.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RegState {
    /// REGISTER outstanding to `agents[agent]`.
    Registering {
        /// Index into the MA list.
        agent: usize,
    },
    /// Registered with `agents[agent]` until `expires`.
    Registered {
        /// Index into the MA list.
        agent: usize,
        /// End of the granted lifetime.
        expires: Duration,
    },
    /// Every MA failed; start over at the pause's end.
    Backoff,
    /// An MA refused with a final code (UNKNOWN_NODE, REPLAY, ...).
    Refused(Code),
    /// [`Resolver::deregister`] completed.
    Deregistered,
}

/// Events for the driver.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum Event {
    /// The MA accepted the registration.
    Registered {
        /// The MA.
        agent: SocketAddrV6,
        /// Granted lifetime.
        granted: Duration,
    },
    /// No answer after all tries: moving to the next MA.
    AgentFailover {
        /// The MA given up on.
        from: SocketAddrV6,
        /// The next one.
        to: SocketAddrV6,
    },
    /// Every MA failed; retrying after a pause.
    AgentsExhausted,
    /// The MA acknowledged a deregistration (lifetime 0).
    Deregistered {
        /// The MA.
        agent: SocketAddrV6,
    },
    /// The MA answered NOT_SERVED: re-resolve the MA (DNS TXT) and call
    /// [`Resolver::set_agents`].
    ReResolveAgent {
        /// The MA that does not serve us.
        agent: SocketAddrV6,
    },
    /// The MA refused for good (code in the event).
    RegistrationRefused {
        /// The MA.
        agent: SocketAddrV6,
        /// Its code.
        code: Code,
    },
    /// An unauthenticated AUTH_FAILED arrived (advisory; retransmission goes on).
    AuthFailedAdvisory {
        /// Where it came from.
        agent: SocketAddrV6,
    },
    /// A mapping arrived; release packets queued for `peer`.
    MappingResolved {
        /// The peer.
        peer: Lin6Id,
        /// Its usable locators, best first.
        locators: Vec<LocatorRecord>,
    },
    /// NO_MAPPING: drop packets queued for `peer`.
    MappingNegative {
        /// The peer.
        peer: Lin6Id,
        /// Negative-cache time.
        ttl: Duration,
    },
    /// No answer to the query.
    QueryFailed {
        /// The peer.
        peer: Lin6Id,
    },
    /// A connection moved to another destination locator.
    LocatorSwitched {
        /// The connection.
        conn: ConnId,
        /// Its peer.
        peer: Lin6Id,
        /// The failed locator.
        from: Prefix,
        /// The new one.
        to: Prefix,
        /// What triggered the switch.
        reason: FailureSignal,
    },
    /// A connection has no usable locator left (failed marks are cleared
    /// and the mapping is re-queried).
    AllLocatorsFailed {
        /// The connection.
        conn: ConnId,
        /// Its peer.
        peer: Lin6Id,
    },
}

/// One output of the ordered queue.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Output {
    /// A datagram to send.
    Transmit(Transmit),
    /// An event for the driver.
    Event(Event),
}

/// Counters.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct ResolverStats {
    /// Messages received per type.
    pub rx: TypeCounters,
    /// Messages sent per type.
    pub tx: TypeCounters,
    /// Unparsable datagrams.
    pub drop_malformed: u64,
    /// Replies that match no outstanding request (or come from elsewhere).
    pub drop_unmatched: u64,
    /// REGISTER_ACKs with a missing or bad MAC.
    pub drop_bad_mac: u64,
    /// REFRESH outside the timestamp window or older than the last seen.
    pub drop_replay: u64,
    /// REFRESH within the rate limit.
    pub drop_rate_limited: u64,
    /// REFRESH for IDs we do not talk to.
    pub refresh_ignored: u64,
    /// Messages of a type a node does not accept.
    pub drop_unexpected: u64,
    /// Queries refused because too many are outstanding.
    pub queries_refused: u64,
    /// Calls whose `now` went backwards (clamped).
    pub time_went_backwards: u64,
    /// Advisory AUTH_FAILED replies.
    pub auth_failed_advisory: u64,
    /// Tables full (refresh table, peer hints, cache).
    pub table_full: u64,
    /// Sequence jumps after an authenticated REPLAY.
    pub replay_resyncs: u64,
}

/// Sequence jumps tried after authenticated REPLAY answers before giving up.
const MAX_REPLAY_RESYNCS: u32 = 3;

#[derive(Clone, Copy, Debug)]
struct Pending {
    seq: u32,
    nonce: u64,
    agent: SocketAddrV6,
    tries: u32,
    deadline: Duration,
}

#[derive(Clone, Debug)]
struct Conn {
    peer: Lin6Id,
    mode: SendMode,
    dst: Option<Prefix>,
    src: Option<Prefix>,
    failed: Vec<Prefix>,
}

/// The resolver machine.
pub struct Resolver<R: CryptoRng> {
    cfg: ResolverConfig,
    rng: R,
    now: Duration,
    seq: u32,
    reg: RegState,
    reg_pending: Option<Pending>,
    reg_deadline: Option<Duration>,
    refresh_peers_after_reg: bool,
    deregistering: bool,
    replay_resyncs: u32,
    cache: MappingCache,
    queries: BTreeMap<Lin6Id, Pending>,
    query_deadlines: BTreeSet<(Duration, Lin6Id)>,
    peer_agents: BTreeMap<Lin6Id, SocketAddrV6>,
    refresh_seen: BTreeMap<Lin6Id, (Duration, u32)>,
    conns: BTreeMap<ConnId, Conn>,
    next_conn: u64,
    out: VecDeque<Output>,
    stats: ResolverStats,
}

impl<R: CryptoRng> Resolver<R> {
    /// Validates `cfg` and starts registering at once (the first REGISTER is
    /// in the output queue).
    pub fn new(cfg: ResolverConfig, mut rng: R, now: Duration) -> Result<Self, ResolverError> {
        cfg.addr
            .validate_id(cfg.node_id)
            .map_err(ResolverError::BadNodeId)?;
        if cfg.key_id == 0 || cfg.key.is_empty() {
            return Err(ResolverError::NoKey);
        }
        if cfg.agents.is_empty() {
            return Err(ResolverError::NoAgent);
        }
        if cfg.locators.len() > MAX_LOCATORS {
            return Err(ResolverError::TooManyLocators);
        }
        let seq = match cfg.initial_sequence {
            Some(s) => s,
            None => rng.next_u32(),
        };
        let cache =
            MappingCache::with_hash_key(cfg.cache_capacity, [rng.next_u64(), rng.next_u64()]);
        let mut r = Resolver {
            cfg,
            rng,
            now,
            seq,
            reg: RegState::Registering { agent: 0 },
            reg_pending: None,
            reg_deadline: None,
            refresh_peers_after_reg: false,
            deregistering: false,
            replay_resyncs: 0,
            cache,
            queries: BTreeMap::new(),
            query_deadlines: BTreeSet::new(),
            peer_agents: BTreeMap::new(),
            refresh_seen: BTreeMap::new(),
            conns: BTreeMap::new(),
            next_conn: 1,
            out: VecDeque::new(),
            stats: ResolverStats::default(),
        };
        r.start_register(0);
        Ok(r)
    }

    fn clamp(&mut self, now: Duration) -> Duration {
        if now < self.now {
            self.stats.time_went_backwards = self.stats.time_went_backwards.saturating_add(1);
        } else {
            self.now = now;
        }
        self.now
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    fn unix_now(&self) -> u32 {
        unix_secs(self.cfg.unix_time_at_epoch, self.now)
    }

    fn send(&mut self, dst: SocketAddrV6, repr: &Repr, key: Option<&[u8]>) {
        self.stats.tx.bump(repr.msg_type());
        let payload = repr.to_bytes(key);
        self.out.push_back(Output::Transmit(Transmit {
            src: None,
            src_port: self.cfg.port,
            dst,
            payload,
        }));
    }

    fn agent(&self, i: usize) -> SocketAddrV6 {
        self.cfg
            .agents
            .get(i)
            .or_else(|| self.cfg.agents.first())
            .copied()
            .unwrap_or_else(|| sock(Ipv6Addr::UNSPECIFIED, wire::DEFAULT_PORT))
    }

    fn locators(&self) -> Locators {
        let mut l = Locators::new();
        for r in self.cfg.locators.iter().take(MAX_LOCATORS) {
            let _ = l.push(*r);
        }
        l
    }

    fn register_repr(&self, seq: u32, nonce: u64) -> Repr {
        Repr {
            code: Code::OK,
            flags: FLAG_ACK,
            key_id: self.cfg.key_id,
            sequence: seq,
            nonce,
            body: Body::Register {
                lin6_id: self.cfg.node_id,
                timestamp: self.unix_now(),
                lifetime: if self.deregistering {
                    0
                } else {
                    u32::try_from(self.cfg.requested_lifetime.as_secs()).unwrap_or(u32::MAX)
                },
                locators: self.locators(),
            },
            auth: Some(Auth::default()),
        }
    }

    /// Sends a fresh REGISTER (new Sequence and Nonce) to `agents[idx]`.
    fn start_register(&mut self, idx: usize) {
        let seq = self.next_seq();
        let nonce = self.rng.next_u64();
        let agent = self.agent(idx);
        let deadline = self.now.saturating_add(self.cfg.register_rto);
        self.reg_pending = Some(Pending {
            seq,
            nonce,
            agent,
            tries: 1,
            deadline,
        });
        if !matches!(self.reg, RegState::Registered { .. }) {
            self.reg = RegState::Registering { agent: idx };
        }
        self.reg_deadline = Some(deadline);
        let repr = self.register_repr(seq, nonce);
        let key = self.cfg.key.clone();
        self.send(agent, &repr, Some(&key));
    }

    fn reg_agent_index(&self) -> usize {
        match self.reg {
            RegState::Registering { agent } | RegState::Registered { agent, .. } => agent,
            _ => 0,
        }
    }

    /// Drives timers. Spurious calls are no-ops.
    pub fn handle_timeout(&mut self, now: Duration) {
        let now = self.clamp(now);
        if let Some(d) = self.reg_deadline
            && d <= now
        {
            self.reg_deadline = None;
            self.registration_timer();
        }
        while let Some(&(d, peer)) = self.query_deadlines.first() {
            if d > now {
                break;
            }
            self.query_deadlines.pop_first();
            self.query_timer(peer);
        }
    }

    fn registration_timer(&mut self) {
        let idx = self.reg_agent_index();
        match (self.reg_pending, self.reg) {
            (Some(p), _) if p.tries < self.cfg.register_tries => {
                // Retransmit: same Sequence and Nonce, doubled timeout.
                let shift = p.tries.min(16);
                let rto = self.cfg.register_rto.saturating_mul(1u32 << shift);
                let deadline = self.now.saturating_add(rto);
                self.reg_pending = Some(Pending {
                    tries: p.tries.saturating_add(1),
                    deadline,
                    ..p
                });
                self.reg_deadline = Some(deadline);
                // The same request (Sequence and Nonce unchanged), re-signed
                // with the current timestamp.
                let repr = self.register_repr(p.seq, p.nonce);
                let key = self.cfg.key.clone();
                self.send(p.agent, &repr, Some(&key));
            }
            (Some(p), _) => {
                let next = idx.saturating_add(1);
                if next < self.cfg.agents.len() {
                    let to = self.agent(next);
                    self.out
                        .push_back(Output::Event(Event::AgentFailover { from: p.agent, to }));
                    self.reg = RegState::Registering { agent: next };
                    self.start_register(next);
                } else {
                    self.reg_pending = None;
                    self.reg = RegState::Backoff;
                    self.out.push_back(Output::Event(Event::AgentsExhausted));
                    self.reg_deadline =
                        Some(self.now.saturating_add(self.cfg.all_agents_failed_pause));
                }
            }
            (None, RegState::Backoff) => {
                self.reg = RegState::Registering { agent: 0 };
                self.start_register(0);
            }
            (None, RegState::Registered { agent, .. }) => {
                // 2/3 of the grant: re-register with the same MA.
                self.start_register(agent);
            }
            (None, _) => {}
        }
    }

    fn query_timer(&mut self, peer: Lin6Id) {
        let Some(q) = self.queries.get(&peer).copied() else {
            return;
        };
        if q.deadline > self.now {
            return;
        }
        if q.tries < self.cfg.query_tries {
            let deadline = self.now.saturating_add(self.cfg.query_rto);
            self.queries.insert(
                peer,
                Pending {
                    tries: q.tries.saturating_add(1),
                    deadline,
                    ..q
                },
            );
            self.query_deadlines.insert((deadline, peer));
            self.send_query(peer, q.seq, q.nonce, q.agent);
        } else {
            self.queries.remove(&peer);
            self.out
                .push_back(Output::Event(Event::QueryFailed { peer }));
        }
    }

    fn send_query(&mut self, peer: Lin6Id, seq: u32, nonce: u64, agent: SocketAddrV6) {
        let repr = Repr {
            code: Code::OK,
            flags: 0,
            key_id: 0,
            sequence: seq,
            nonce,
            body: Body::Query {
                target: peer,
                cookie: None,
            },
            auth: None,
        };
        self.send(agent, &repr, None);
    }

    /// The next absolute deadline.
    pub fn poll_timeout(&self) -> Option<Duration> {
        let q = self.query_deadlines.first().map(|(d, _)| *d);
        match (self.reg_deadline, q) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The next output, in causal order.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// Counters.
    pub fn stats(&self) -> ResolverStats {
        self.stats
    }

    /// Registration state.
    pub fn reg_state(&self) -> RegState {
        self.reg
    }

    /// The mapping cache (the data plane reads it).
    pub fn cache(&self) -> &MappingCache {
        &self.cache
    }

    /// The configuration.
    pub fn config(&self) -> &ResolverConfig {
        &self.cfg
    }

    /// Number of outstanding queries.
    pub fn outstanding_queries(&self) -> usize {
        self.queries.len()
    }

    /// This node's best usable local locator (the data plane's source prefix).
    pub fn own_locator(&self) -> Option<Prefix> {
        self.cfg
            .locators
            .iter()
            .filter(|l| l.is_usable())
            .min_by_key(|l| preference_key(l))
            .map(|l| l.prefix)
    }

    /// Replaces the MA list (after [`Event::ReResolveAgent`]) and registers
    /// with the first one.
    pub fn set_agents(
        &mut self,
        now: Duration,
        agents: Vec<SocketAddrV6>,
    ) -> Result<(), ResolverError> {
        if agents.is_empty() {
            return Err(ResolverError::NoAgent);
        }
        self.clamp(now);
        self.cfg.agents = agents;
        self.deregistering = false;
        self.reg = RegState::Registering { agent: 0 };
        self.start_register(0);
        Ok(())
    }

    /// Replaces the local locators (a prefix change, an interface up/down).
    /// If the set changed, re-registers at once and, once registered, sends
    /// REFRESH to connected peers.
    pub fn set_local_locators(
        &mut self,
        now: Duration,
        locators: Vec<LocatorRecord>,
    ) -> Result<(), ResolverError> {
        if locators.len() > MAX_LOCATORS {
            return Err(ResolverError::TooManyLocators);
        }
        self.clamp(now);
        if locators == self.cfg.locators {
            return Ok(());
        }
        self.cfg.locators = locators;
        for c in self.conns.values_mut() {
            if let Some(s) = c.src
                && !self
                    .cfg
                    .locators
                    .iter()
                    .any(|l| l.prefix == s && l.is_usable())
            {
                c.src = None;
            }
        }
        self.refresh_peers_after_reg = true;
        self.deregistering = false;
        let idx = self.reg_agent_index();
        self.start_register(idx);
        Ok(())
    }

    /// Deregisters (REGISTER with lifetime 0, retransmitted like any
    /// REGISTER) from the current MA; [`Event::Deregistered`] follows.
    pub fn deregister(&mut self, now: Duration) {
        self.clamp(now);
        self.deregistering = true;
        self.refresh_peers_after_reg = false;
        let idx = self.reg_agent_index();
        self.start_register(idx);
    }

    /// The DNS name whose TXT record (`lin6-ma=...`) names `peer`'s MA: the
    /// ip6.arpa name of its generalized ID. The driver resolves it, parses
    /// the strings with [`crate::addr::parse_txt_records`] and calls
    /// [`Resolver::set_peer_agent`]; without a hint, queries go to this
    /// node's own MA.
    pub fn peer_agent_query_name(&self, peer: Lin6Id) -> alloc::string::String {
        crate::addr::ip6_arpa_name(&self.cfg.addr.generalized_id(peer))
    }

    /// Records the MA to ask for `peer` (found through its TXT record).
    pub fn set_peer_agent(&mut self, peer: Lin6Id, agent: SocketAddrV6) {
        if !self.peer_agents.contains_key(&peer)
            && self.peer_agents.len() >= self.cfg.peer_agent_capacity
        {
            self.stats.table_full = self.stats.table_full.saturating_add(1);
            return;
        }
        self.peer_agents.insert(peer, agent);
    }

    /// Starts a QUERY for `peer` unless one is outstanding or a live cache
    /// entry (positive or negative) exists. Returns whether a query is (now)
    /// outstanding.
    pub fn query(&mut self, now: Duration, peer: Lin6Id) -> bool {
        self.clamp(now);
        if self.queries.contains_key(&peer) {
            return true;
        }
        if !matches!(self.cache.peek(self.now, peer), crate::cache::Lookup::Miss) {
            return false;
        }
        self.start_query(peer)
    }

    fn start_query(&mut self, peer: Lin6Id) -> bool {
        if self.queries.contains_key(&peer) {
            return true;
        }
        if self.queries.len() >= self.cfg.max_queries {
            self.stats.queries_refused = self.stats.queries_refused.saturating_add(1);
            return false;
        }
        let seq = self.next_seq();
        let nonce = self.rng.next_u64();
        let agent = match self.peer_agents.get(&peer) {
            Some(a) => *a,
            None => self.agent(self.reg_agent_index()),
        };
        let deadline = self.now.saturating_add(self.cfg.query_rto);
        self.queries.insert(
            peer,
            Pending {
                seq,
                nonce,
                agent,
                tries: 1,
                deadline,
            },
        );
        self.query_deadlines.insert((deadline, peer));
        self.send_query(peer, seq, nonce, agent);
        true
    }

    /// Handles one received datagram. A bad message is counted and dropped.
    pub fn handle_datagram(&mut self, now: Duration, d: &Datagram<'_>) {
        self.clamp(now);
        let repr = match Repr::parse_bytes(d.payload) {
            Ok(r) => r,
            Err(_) => {
                self.stats.drop_malformed = self.stats.drop_malformed.saturating_add(1);
                return;
            }
        };
        self.stats.rx.bump(repr.msg_type());
        match repr.body {
            Body::RegisterAck { .. } => self.on_register_ack(d, &repr),
            Body::Reply { .. } => self.on_reply(d, &repr),
            Body::Refresh { lin6_id, timestamp } => self.on_refresh(lin6_id, timestamp),
            Body::Nack { offending_type } => self.on_nack(d, &repr, offending_type),
            Body::Register { .. } | Body::Query { .. } => {
                self.stats.drop_unexpected = self.stats.drop_unexpected.saturating_add(1);
            }
        }
    }

    fn drop_unmatched(&mut self) {
        self.stats.drop_unmatched = self.stats.drop_unmatched.saturating_add(1);
    }

    fn on_register_ack(&mut self, d: &Datagram<'_>, repr: &Repr) {
        let Some(p) = self.reg_pending else {
            return self.drop_unmatched();
        };
        let Body::RegisterAck {
            lin6_id,
            granted_lifetime,
            ..
        } = repr.body
        else {
            return;
        };
        if d.src != p.agent
            || repr.sequence != p.seq
            || repr.nonce != p.nonce
            || lin6_id != self.cfg.node_id
        {
            return self.drop_unmatched();
        }
        if repr.code == Code::AUTH_FAILED && repr.key_id == 0 {
            self.stats.auth_failed_advisory = self.stats.auth_failed_advisory.saturating_add(1);
            self.out
                .push_back(Output::Event(Event::AuthFailedAdvisory { agent: p.agent }));
            return;
        }
        if repr.key_id != self.cfg.key_id || !wire::verify(d.payload, &self.cfg.key) {
            self.stats.drop_bad_mac = self.stats.drop_bad_mac.saturating_add(1);
            return;
        }
        let idx = self.reg_agent_index();
        match repr.code {
            Code::OK => {
                self.reg_pending = None;
                self.replay_resyncs = 0;
                let granted = Duration::from_secs(u64::from(granted_lifetime));
                if granted.is_zero() || self.deregistering {
                    // Deregistered: nothing to refresh.
                    self.reg = RegState::Deregistered;
                    self.reg_deadline = None;
                    self.out
                        .push_back(Output::Event(Event::Deregistered { agent: p.agent }));
                    return;
                }
                let expires = self.now.saturating_add(granted);
                self.reg = RegState::Registered {
                    agent: idx,
                    expires,
                };
                // Re-register at 2/3 of the grant.
                let two_thirds = granted.saturating_mul(2).checked_div(3).unwrap_or(granted);
                self.reg_deadline = Some(self.now.saturating_add(two_thirds));
                self.out.push_back(Output::Event(Event::Registered {
                    agent: p.agent,
                    granted,
                }));
                if core::mem::take(&mut self.refresh_peers_after_reg) {
                    self.send_refreshes();
                }
            }
            Code::NOT_SERVED => {
                self.reg_pending = None;
                self.reg_deadline = None;
                self.reg = RegState::Refused(Code::NOT_SERVED);
                self.out
                    .push_back(Output::Event(Event::ReResolveAgent { agent: p.agent }));
            }
            Code::RATE_LIMITED => {
                // Keep retransmitting on the normal schedule.
            }
            Code::REPLAY if self.replay_resyncs < MAX_REPLAY_RESYNCS => {
                // The MA holds a newer Sequence for us (we restarted with a
                // fresh random one). The answer is authenticated, so jump a
                // quarter of the sequence space and ask again: at most three
                // jumps reach a value the MA sees as newer. A timestamp out of
                // the window keeps failing and ends in RegistrationRefused.
                self.replay_resyncs = self.replay_resyncs.saturating_add(1);
                self.stats.replay_resyncs = self.stats.replay_resyncs.saturating_add(1);
                self.seq = self.seq.wrapping_add(0x4000_0000);
                self.start_register(idx);
            }
            code => {
                self.reg_pending = None;
                self.reg_deadline = None;
                self.reg = RegState::Refused(code);
                self.out
                    .push_back(Output::Event(Event::RegistrationRefused {
                        agent: p.agent,
                        code,
                    }));
            }
        }
    }

    fn send_refreshes(&mut self) {
        let Some(_own) = self.own_locator() else {
            return;
        };
        let mut targets: Vec<(Lin6Id, Prefix)> = Vec::new();
        for c in self.conns.values() {
            if let Some(dst) = c.dst.or_else(|| self.cache.best_locator(self.now, c.peer))
                && !targets.iter().any(|(p, l)| *p == c.peer && *l == dst)
            {
                targets.push((c.peer, dst));
            }
        }
        let ts = self.unix_now();
        for (peer, loc) in targets {
            let seq = self.next_seq();
            let nonce = self.rng.next_u64();
            let repr = Repr {
                code: Code::OK,
                flags: 0,
                key_id: 0,
                sequence: seq,
                nonce,
                body: Body::Refresh {
                    lin6_id: self.cfg.node_id,
                    timestamp: ts,
                },
                auth: None,
            };
            let dst = sock(self.cfg.addr.lin6_address(loc, peer), self.cfg.port);
            self.send(dst, &repr, None);
        }
    }

    fn on_reply(&mut self, d: &Datagram<'_>, repr: &Repr) {
        let Body::Reply {
            lin6_id,
            mapping_timestamp,
            ttl,
            locators,
        } = repr.body
        else {
            return;
        };
        let Some(q) = self.queries.get(&lin6_id).copied() else {
            return self.drop_unmatched();
        };
        if d.src != q.agent || repr.sequence != q.seq || repr.nonce != q.nonce {
            return self.drop_unmatched();
        }
        self.queries.remove(&lin6_id);
        self.query_deadlines.remove(&(q.deadline, lin6_id));
        let ttl_d = Duration::from_secs(u64::from(ttl));
        if repr.code == Code::NO_MAPPING || (repr.code == Code::OK && locators.is_empty()) {
            let e = Entry::Negative {
                expires: self.now.saturating_add(ttl_d),
            };
            if self.cache.insert(self.now, lin6_id, e).is_err() {
                self.stats.table_full = self.stats.table_full.saturating_add(1);
            }
            self.out.push_back(Output::Event(Event::MappingNegative {
                peer: lin6_id,
                ttl: ttl_d,
            }));
            return;
        }
        if repr.code != Code::OK {
            self.out
                .push_back(Output::Event(Event::QueryFailed { peer: lin6_id }));
            return;
        }
        let e = Entry::positive(locators.as_slice(), mapping_timestamp, self.now, ttl_d);
        if self.cache.insert(self.now, lin6_id, e).is_err() {
            self.stats.table_full = self.stats.table_full.saturating_add(1);
        }
        let locs = self.cache.usable_locators(self.now, lin6_id);
        // Connections whose destination locator vanished pick again.
        for c in self.conns.values_mut() {
            if c.peer == lin6_id
                && let Some(cur) = c.dst
                && !locs.iter().any(|l| l.prefix == cur)
            {
                c.dst = None;
            }
        }
        self.out.push_back(Output::Event(Event::MappingResolved {
            peer: lin6_id,
            locators: locs,
        }));
    }

    fn on_refresh(&mut self, id: Lin6Id, ts: u32) {
        let window = u32::try_from(self.cfg.timestamp_window.as_secs()).unwrap_or(u32::MAX);
        if ts_distance(ts, self.unix_now()) > window {
            self.stats.drop_replay = self.stats.drop_replay.saturating_add(1);
            return;
        }
        let known = self.conns.values().any(|c| c.peer == id)
            || self.queries.contains_key(&id)
            || !matches!(self.cache.peek(self.now, id), crate::cache::Lookup::Miss);
        if !known {
            self.stats.refresh_ignored = self.stats.refresh_ignored.saturating_add(1);
            return;
        }
        if let Some(&(at, last_ts)) = self.refresh_seen.get(&id) {
            if ts < last_ts {
                self.stats.drop_replay = self.stats.drop_replay.saturating_add(1);
                return;
            }
            if self.now < at.saturating_add(self.cfg.refresh_min_interval) {
                self.stats.drop_rate_limited = self.stats.drop_rate_limited.saturating_add(1);
                return;
            }
        } else if self.refresh_seen.len() >= self.cfg.refresh_table_capacity {
            let min = self.cfg.refresh_min_interval;
            let now = self.now;
            self.refresh_seen
                .retain(|_, (at, _)| now < at.saturating_add(min));
            if self.refresh_seen.len() >= self.cfg.refresh_table_capacity {
                self.stats.table_full = self.stats.table_full.saturating_add(1);
                return;
            }
        }
        self.refresh_seen.insert(id, (self.now, ts));
        self.cache.remove(id);
        self.start_query(id);
    }

    fn on_nack(&mut self, d: &Datagram<'_>, repr: &Repr, offending: MsgType) {
        if offending == MsgType::REGISTER {
            match self.reg_pending {
                Some(p) if p.agent == d.src && p.seq == repr.sequence && p.nonce == repr.nonce => {
                    if repr.code == Code::RATE_LIMITED || repr.code == Code::AUTH_FAILED {
                        self.stats.auth_failed_advisory =
                            self.stats.auth_failed_advisory.saturating_add(1);
                        return;
                    }
                    // A NACK is unauthenticated: report it, keep retransmitting.
                    self.out
                        .push_back(Output::Event(Event::RegistrationRefused {
                            agent: p.agent,
                            code: repr.code,
                        }));
                }
                _ => self.drop_unmatched(),
            }
        } else if offending == MsgType::QUERY {
            let hit = self
                .queries
                .iter()
                .find(|(_, q)| q.agent == d.src && q.seq == repr.sequence && q.nonce == repr.nonce)
                .map(|(id, q)| (*id, *q));
            match hit {
                Some((peer, q)) => {
                    self.queries.remove(&peer);
                    self.query_deadlines.remove(&(q.deadline, peer));
                    self.out
                        .push_back(Output::Event(Event::QueryFailed { peer }));
                }
                None => self.drop_unmatched(),
            }
        } else {
            self.drop_unmatched();
        }
    }

    // ----- multihoming API (seed 004) -----

    /// Opens a connection to `peer` (the generalized IDs never change). If
    /// the mapping is unknown a query starts.
    pub fn open_connection(
        &mut self,
        now: Duration,
        peer: Lin6Id,
    ) -> Result<ConnId, ResolverError> {
        self.clamp(now);
        if self.conns.len() >= self.cfg.max_connections {
            return Err(ResolverError::ConnectionsFull);
        }
        let id = ConnId(self.next_conn);
        self.next_conn = self.next_conn.wrapping_add(1);
        self.conns.insert(
            id,
            Conn {
                peer,
                mode: SendMode::One,
                dst: None,
                src: None,
                failed: Vec::new(),
            },
        );
        if matches!(self.cache.peek(self.now, peer), crate::cache::Lookup::Miss) {
            self.start_query(peer);
        }
        Ok(id)
    }

    /// Closes a connection.
    pub fn close_connection(&mut self, conn: ConnId) {
        self.conns.remove(&conn);
    }

    /// Sets the send mode of a connection.
    pub fn set_send_mode(&mut self, conn: ConnId, mode: SendMode) -> Result<(), ResolverError> {
        let c = self
            .conns
            .get_mut(&conn)
            .ok_or(ResolverError::UnknownConnection)?;
        c.mode = mode;
        Ok(())
    }

    /// FOREIGNLOCATOR: forces the destination locator of a connection.
    pub fn force_foreign_locator(
        &mut self,
        conn: ConnId,
        locator: Prefix,
    ) -> Result<(), ResolverError> {
        let c = self
            .conns
            .get_mut(&conn)
            .ok_or(ResolverError::UnknownConnection)?;
        c.dst = Some(locator);
        c.failed.retain(|p| *p != locator);
        Ok(())
    }

    /// Forces the source locator of a connection (must be a local locator).
    pub fn force_local_locator(
        &mut self,
        conn: ConnId,
        locator: Prefix,
    ) -> Result<(), ResolverError> {
        if !self.cfg.locators.iter().any(|l| l.prefix == locator) {
            return Err(ResolverError::NotLocal);
        }
        let c = self
            .conns
            .get_mut(&conn)
            .ok_or(ResolverError::UnknownConnection)?;
        c.src = Some(locator);
        Ok(())
    }

    /// `getaddrinfo2`: the peer's full usable locator list, best first. On a
    /// miss, a query starts and [`Event::MappingResolved`] brings the list.
    pub fn peer_locators(&mut self, now: Duration, peer: Lin6Id) -> Option<Vec<LocatorRecord>> {
        self.clamp(now);
        match self.cache.peek(self.now, peer) {
            crate::cache::Lookup::Hit(_) => Some(self.cache.usable_locators(self.now, peer)),
            crate::cache::Lookup::Negative => Some(Vec::new()),
            crate::cache::Lookup::Miss => {
                self.start_query(peer);
                None
            }
        }
    }

    fn pick_dst(&self, c: &Conn) -> Option<Prefix> {
        self.cache
            .usable_locators(self.now, c.peer)
            .into_iter()
            .map(|l| l.prefix)
            .find(|p| !c.failed.contains(p))
    }

    /// The (source, destination) locators of a connection at `now`, choosing
    /// them if needed: the source is the forced one or the best local one;
    /// the destination is the forced/current one or the peer's best
    /// non-failed locator. `None` while the mapping is unknown.
    pub fn connection_locators(&mut self, now: Duration, conn: ConnId) -> Option<(Prefix, Prefix)> {
        self.clamp(now);
        let own = self.own_locator();
        let c = self.conns.get(&conn)?.clone();
        let src = c.src.or(own)?;
        let dst = match c.dst {
            Some(d) => d,
            None => {
                let d = self.pick_dst(&c)?;
                if let Some(cm) = self.conns.get_mut(&conn) {
                    cm.dst = Some(d);
                }
                d
            }
        };
        Some((src, dst))
    }

    /// The destination locators each packet of `conn` goes to: one (mode
    /// [`SendMode::One`]) or every usable one (mode [`SendMode::All`]).
    pub fn destinations(&mut self, now: Duration, conn: ConnId) -> Vec<Prefix> {
        let Some(mode) = self.conns.get(&conn).map(|c| c.mode) else {
            return Vec::new();
        };
        match mode {
            SendMode::All => {
                self.clamp(now);
                let peer = self.conns.get(&conn).map(|c| c.peer).unwrap_or_default();
                self.cache
                    .usable_locators(self.now, peer)
                    .into_iter()
                    .map(|l| l.prefix)
                    .collect()
            }
            SendMode::One => self
                .connection_locators(now, conn)
                .map(|(_, d)| d)
                .into_iter()
                .collect(),
        }
    }

    /// A failure signal for `conn`'s current destination locator: switch to
    /// the next usable one (priority, then weight), with an event.
    pub fn locator_failure(
        &mut self,
        now: Duration,
        conn: ConnId,
        reason: FailureSignal,
    ) -> Result<Option<Prefix>, ResolverError> {
        self.clamp(now);
        let mut c = self
            .conns
            .get(&conn)
            .cloned()
            .ok_or(ResolverError::UnknownConnection)?;
        let Some(from) = c.dst.or_else(|| self.pick_dst(&c)) else {
            return Ok(None);
        };
        if !c.failed.contains(&from) && c.failed.len() < MAX_LOCATORS {
            c.failed.push(from);
        }
        c.dst = None;
        let next = self.pick_dst(&c);
        match next {
            Some(to) => {
                c.dst = Some(to);
                self.out.push_back(Output::Event(Event::LocatorSwitched {
                    conn,
                    peer: c.peer,
                    from,
                    to,
                    reason,
                }));
            }
            None => {
                c.failed.clear();
                self.out.push_back(Output::Event(Event::AllLocatorsFailed {
                    conn,
                    peer: c.peer,
                }));
                self.cache.remove(c.peer);
                self.start_query(c.peer);
            }
        }
        self.conns.insert(conn, c);
        Ok(next)
    }

    /// An ICMPv6 destination unreachable for `dst` (a LIN6 address on the
    /// wire): every connection using that locator of that peer fails over.
    pub fn icmp_unreachable(&mut self, now: Duration, dst: Ipv6Addr) {
        let peer = Lin6Id::of(&dst);
        let loc = Prefix::of(&dst);
        let hit: Vec<ConnId> = self
            .conns
            .iter()
            .filter(|(_, c)| c.peer == peer && c.dst == Some(loc))
            .map(|(id, _)| *id)
            .collect();
        for id in hit {
            let _ = self.locator_failure(now, id, FailureSignal::IcmpUnreachable);
        }
    }

    /// Open connections.
    pub fn connections(&self) -> usize {
        self.conns.len()
    }
}
