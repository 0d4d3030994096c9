//! The agent machine: lin6agentd's role, the Mapping Agent.
//!
//! Order of checks for a REGISTER: MAC under the key found by (LIN6 ID,
//! Key ID) (`AUTH_FAILED`, unsigned, on a bad or unknown key), the Node ID
//! database (`UNKNOWN_NODE`), replay (Sequence newer than the last accepted
//! one by RFC 1982 arithmetic and |timestamp - now| <= 300 s, else
//! `REPLAY`; the same Sequence and Nonce as the last accepted request is a
//! retransmission whose ACK was lost: it is acked again and changes
//! nothing), the table bound (`NOT_SERVED`), then the mapping is stored
//! with its lifetime clamped to [30, 3600] s, [`Event::NodeRegistered`]
//! (Node ID and service level) is queued, and the signed REGISTER_ACK
//! follows it. A failed check changes nothing.
//!
//! QUERY gets a REPLY (TTL = min(remaining lifetime, 300 s)) or a negative
//! REPLY (`NO_MAPPING`, N = 0, TTL 60 s; `NOT_SERVED` for IDs outside the
//! Node ID database). Malformed requests get a NACK echoing Sequence and
//! Nonce. A QUERY's optional trailer is checked with the key found by (the
//! LIN6 ID in the querier's source address, Key ID); a bad one gets a NACK
//! AUTH_FAILED, a good one a REPLY signed with the same key. Every source
//! address is rate-limited (a bounded table), and the
//! mapping table is bounded.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::arithmetic_side_effects
)]

use crate::addr::{AddrConfig, Lin6Id};
use crate::io::{Datagram, Transmit, TypeCounters, ts_distance, unix_secs};
use crate::wire::{
    self, Auth, Body, Code, Error as WireError, FLAG_ACK, FLAG_MERGE, LocatorRecord, Locators,
    MsgType, Packet, Repr,
};
use alloc::collections::{BTreeMap, BTreeSet, VecDeque};
use alloc::vec::Vec;
use core::fmt;
use core::net::Ipv6Addr;
use core::time::Duration;

/// A service level from the Node ID database (seed 000: normal or premium).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct ServiceLevel(pub u8);

impl ServiceLevel {
    /// Normal service.
    pub const NORMAL: Self = Self(0);
    /// Premium service.
    pub const PREMIUM: Self = Self(1);
}

impl fmt::Debug for ServiceLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::NORMAL => f.write_str("NORMAL"),
            Self::PREMIUM => f.write_str("PREMIUM"),
            Self(v) => write!(f, "ServiceLevel({v})"),
        }
    }
}

/// Agent configuration. [`AgentConfig::new`] fills the spec's defaults.
#[derive(Clone, Debug)]
pub struct AgentConfig {
    /// LIN6 prefix and OUI.
    pub addr: AddrConfig,
    /// UDP port (7360).
    pub port: u16,
    /// The Node ID database: the nodes this MA serves and their level.
    pub nodes: Vec<(Lin6Id, ServiceLevel)>,
    /// Pre-shared keys by (LIN6 ID, Key ID).
    pub keys: Vec<(Lin6Id, u16, Vec<u8>)>,
    /// Lifetime clamp, low end (30 s).
    pub min_lifetime: Duration,
    /// Lifetime clamp, high end (3600 s).
    pub max_lifetime: Duration,
    /// Most a REPLY's TTL may be (300 s).
    pub max_reply_ttl: Duration,
    /// Negative-reply TTL (60 s).
    pub negative_ttl: Duration,
    /// Accepted |timestamp - now| (300 s).
    pub timestamp_window: Duration,
    /// Unix time (s) at the driver's epoch.
    pub unix_time_at_epoch: u64,
    /// Mapping table bound.
    pub max_mappings: usize,
    /// Messages accepted per source address per `rate_interval`.
    pub rate_limit: u32,
    /// Rate-limit window.
    pub rate_interval: Duration,
    /// Rate-limit table bound.
    pub rate_table_capacity: usize,
}

impl AgentConfig {
    /// Defaults from `../shared/spec/lin6.md` §3 with an empty database.
    pub fn new() -> Self {
        AgentConfig {
            addr: AddrConfig::default(),
            port: wire::DEFAULT_PORT,
            nodes: Vec::new(),
            keys: Vec::new(),
            min_lifetime: Duration::from_secs(30),
            max_lifetime: Duration::from_secs(3600),
            max_reply_ttl: Duration::from_secs(300),
            negative_ttl: Duration::from_secs(60),
            timestamp_window: Duration::from_secs(300),
            unix_time_at_epoch: 0,
            max_mappings: 65_536,
            rate_limit: 20,
            rate_interval: Duration::from_secs(1),
            rate_table_capacity: 4096,
        }
    }
}

impl Default for AgentConfig {
    fn default() -> Self {
        Self::new()
    }
}

/// A configuration error.
#[derive(Clone, Copy, PartialEq, Eq, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AgentConfigError {
    /// min_lifetime > max_lifetime.
    #[error("lifetime bounds inverted")]
    LifetimeBounds,
    /// A key with Key ID 0 or an empty key.
    #[error("key ID 0 or empty key")]
    BadKey,
}

/// Events for the driver.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum Event {
    /// A node registered (or updated) its mapping: classify and shape its
    /// traffic by `level`.
    NodeRegistered {
        /// The node.
        lin6_id: Lin6Id,
        /// Its service level.
        level: ServiceLevel,
        /// Its locators.
        locators: Vec<LocatorRecord>,
        /// Granted lifetime.
        lifetime: Duration,
    },
    /// A node deregistered (lifetime 0).
    NodeDeregistered {
        /// The node.
        lin6_id: Lin6Id,
    },
    /// A mapping's lifetime ran out.
    NodeExpired {
        /// The node.
        lin6_id: Lin6Id,
    },
}

/// One output of the ordered queue.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Output {
    /// A datagram to send.
    Transmit(Transmit),
    /// An event for the driver (always before the datagram it enables).
    Event(Event),
}

/// Counters.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct AgentStats {
    /// Messages received per type.
    pub rx: TypeCounters,
    /// Messages sent per type.
    pub tx: TypeCounters,
    /// NACKs sent per code (index = code, 0..=10; 11 = other).
    pub nacks: [u64; 12],
    /// Registrations refused for a bad or unknown key.
    pub auth_failed: u64,
    /// Registrations refused: Node ID not in the database.
    pub unknown_node: u64,
    /// Registrations refused as replays.
    pub replay: u64,
    /// Retransmitted REGISTERs answered again without a state change.
    pub retransmissions: u64,
    /// Registrations refused: table full.
    pub table_full: u64,
    /// Messages dropped by the rate limit.
    pub rate_limited: u64,
    /// Datagrams too short to answer.
    pub drop_runt: u64,
    /// Messages an MA does not accept (acks, replies, REFRESH).
    pub drop_unexpected: u64,
    /// Mappings accepted.
    pub registered: u64,
    /// Mappings expired.
    pub expired: u64,
    /// Calls whose `now` went backwards (clamped).
    pub time_went_backwards: u64,
}

/// One stored mapping.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Mapping {
    /// Locators.
    pub locators: Locators,
    /// End of the granted lifetime.
    pub expires: Duration,
    /// The node's REGISTER timestamp.
    pub timestamp: u32,
    /// Service level.
    pub level: ServiceLevel,
}

/// The Mapping Agent machine.
pub struct Agent {
    cfg: AgentConfig,
    now: Duration,
    nodes: BTreeMap<Lin6Id, ServiceLevel>,
    keys: BTreeMap<(Lin6Id, u16), Vec<u8>>,
    /// Last accepted (Sequence, Nonce, granted lifetime) per node.
    last_seq: BTreeMap<Lin6Id, (u32, u64, u32)>,
    mappings: BTreeMap<Lin6Id, Mapping>,
    expiry: BTreeSet<(Duration, Lin6Id)>,
    rate: BTreeMap<Ipv6Addr, (Duration, u32)>,
    out: VecDeque<Output>,
    stats: AgentStats,
}

impl Agent {
    /// Validates `cfg`. The agent needs no randomness (its replies echo the
    /// requests' Nonce and Sequence).
    pub fn new(cfg: AgentConfig, now: Duration) -> Result<Self, AgentConfigError> {
        if cfg.min_lifetime > cfg.max_lifetime {
            return Err(AgentConfigError::LifetimeBounds);
        }
        let mut keys = BTreeMap::new();
        for (id, kid, k) in &cfg.keys {
            if *kid == 0 || k.is_empty() {
                return Err(AgentConfigError::BadKey);
            }
            keys.insert((*id, *kid), k.clone());
        }
        let nodes = cfg.nodes.iter().copied().collect();
        Ok(Agent {
            cfg,
            now,
            nodes,
            keys,
            last_seq: BTreeMap::new(),
            mappings: BTreeMap::new(),
            expiry: BTreeSet::new(),
            rate: BTreeMap::new(),
            out: VecDeque::new(),
            stats: AgentStats::default(),
        })
    }

    fn clamp(&mut self, now: Duration) {
        if now < self.now {
            self.stats.time_went_backwards = self.stats.time_went_backwards.saturating_add(1);
        } else {
            self.now = now;
        }
    }

    /// Counters.
    pub fn stats(&self) -> AgentStats {
        self.stats
    }
    /// The mapping of `id`, if live.
    pub fn mapping(&self, id: Lin6Id) -> Option<&Mapping> {
        self.mappings.get(&id).filter(|m| m.expires > self.now)
    }
    /// Number of stored mappings.
    pub fn mapping_count(&self) -> usize {
        self.mappings.len()
    }
    /// Size of the rate-limit table.
    pub fn rate_table_len(&self) -> usize {
        self.rate.len()
    }
    /// The configuration.
    pub fn config(&self) -> &AgentConfig {
        &self.cfg
    }

    /// The next output, in causal order.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// The next absolute deadline (a mapping's expiry).
    pub fn poll_timeout(&self) -> Option<Duration> {
        self.expiry.first().map(|(t, _)| *t)
    }

    /// Expires mappings. Spurious calls are no-ops.
    pub fn handle_timeout(&mut self, now: Duration) {
        self.clamp(now);
        while let Some(&(t, id)) = self.expiry.first() {
            if t > self.now {
                break;
            }
            self.expiry.pop_first();
            if self.mappings.remove(&id).is_some() {
                self.stats.expired = self.stats.expired.saturating_add(1);
                self.out
                    .push_back(Output::Event(Event::NodeExpired { lin6_id: id }));
            }
        }
        let (iv, now) = (self.cfg.rate_interval, self.now);
        if self.rate.len() >= self.cfg.rate_table_capacity {
            self.rate
                .retain(|_, (start, _)| now < start.saturating_add(iv));
        }
    }

    fn unix_now(&self) -> u32 {
        unix_secs(self.cfg.unix_time_at_epoch, self.now)
    }

    fn send(&mut self, d: &Datagram<'_>, repr: &Repr, key: Option<&[u8]>) {
        self.stats.tx.bump(repr.msg_type());
        if repr.msg_type() == MsgType::NACK {
            let i = usize::from(repr.code.0).min(11);
            if let Some(c) = self.stats.nacks.get_mut(i) {
                *c = c.saturating_add(1);
            }
        }
        self.out.push_back(Output::Transmit(Transmit {
            src: Some(*d.dst.ip()),
            src_port: d.dst.port(),
            dst: d.src,
            payload: repr.to_bytes(key),
        }));
    }

    fn nack(&mut self, d: &Datagram<'_>, offending: MsgType, code: Code, seq: u32, nonce: u64) {
        let repr = Repr {
            code,
            flags: 0,
            key_id: 0,
            sequence: seq,
            nonce,
            body: Body::Nack {
                offending_type: offending,
            },
            auth: None,
        };
        self.send(d, &repr, None);
    }

    /// Returns false if `src` is over its rate (a NACK RATE_LIMITED is sent
    /// once per window, the rest is dropped silently).
    fn rate_ok(&mut self, d: &Datagram<'_>) -> bool {
        let src = *d.src.ip();
        let now = self.now;
        let iv = self.cfg.rate_interval;
        if !self.rate.contains_key(&src) && self.rate.len() >= self.cfg.rate_table_capacity {
            self.rate
                .retain(|_, (start, _)| now < start.saturating_add(iv));
            if self.rate.len() >= self.cfg.rate_table_capacity {
                self.stats.rate_limited = self.stats.rate_limited.saturating_add(1);
                return false;
            }
        }
        let e = self.rate.entry(src).or_insert((now, 0));
        if now >= e.0.saturating_add(iv) {
            *e = (now, 0);
        }
        e.1 = e.1.saturating_add(1);
        let count = e.1;
        if count <= self.cfg.rate_limit {
            return true;
        }
        self.stats.rate_limited = self.stats.rate_limited.saturating_add(1);
        if count == self.cfg.rate_limit.saturating_add(1)
            && let Ok(p) = Packet::new_checked(d.payload)
        {
            let t = p.msg_type();
            if t == MsgType::REGISTER || t == MsgType::QUERY {
                self.nack(d, t, Code::RATE_LIMITED, p.sequence(), p.nonce());
            }
        }
        false
    }

    /// Handles one datagram. Bad input becomes a NACK or a counted drop.
    pub fn handle_datagram(&mut self, now: Duration, d: &Datagram<'_>) {
        self.clamp(now);
        if !self.rate_ok(d) {
            return;
        }
        let repr = match Repr::parse_bytes(d.payload) {
            Ok(r) => r,
            Err(e) => return self.on_parse_error(d, e),
        };
        self.stats.rx.bump(repr.msg_type());
        match repr.body {
            Body::Register { .. } => self.on_register(d, &repr),
            Body::Query { .. } => self.on_query(d, &repr),
            _ => self.stats.drop_unexpected = self.stats.drop_unexpected.saturating_add(1),
        }
    }

    fn on_parse_error(&mut self, d: &Datagram<'_>, e: WireError) {
        // Echo Sequence and Nonce when the 20-byte header is there.
        let hdr = d.payload.get(..wire::HEADER_LEN);
        let Some(h) = hdr else {
            self.stats.drop_runt = self.stats.drop_runt.saturating_add(1);
            return;
        };
        let p = Packet::new_unchecked(h);
        let t = p.msg_type();
        let code = match e {
            WireError::BadVersion(_) => Code::BAD_VERSION,
            WireError::UnknownType(_) => Code::UNKNOWN_TYPE,
            WireError::TooManyLocators(_) => Code::TOO_MANY_LOCATORS,
            _ => Code::MALFORMED,
        };
        // Never answer answers (no NACK loops between two agents).
        if matches!(
            t,
            MsgType::REGISTER_ACK | MsgType::REPLY | MsgType::NACK | MsgType::REFRESH
        ) && code != Code::BAD_VERSION
        {
            self.stats.drop_unexpected = self.stats.drop_unexpected.saturating_add(1);
            return;
        }
        self.stats.rx.bump(t);
        self.nack(d, t, code, p.sequence(), p.nonce());
    }

    fn ack(
        &mut self,
        d: &Datagram<'_>,
        repr: &Repr,
        code: Code,
        id: Lin6Id,
        granted: u32,
        key: Option<&[u8]>,
    ) {
        let signed = key.is_some();
        let r = Repr {
            code,
            flags: 0,
            key_id: if signed { repr.key_id } else { 0 },
            sequence: repr.sequence,
            nonce: repr.nonce,
            body: Body::RegisterAck {
                lin6_id: id,
                granted_lifetime: granted,
                ma_timestamp: self.unix_now(),
            },
            auth: if signed { Some(Auth::default()) } else { None },
        };
        self.send(d, &r, key);
    }

    fn on_register(&mut self, d: &Datagram<'_>, repr: &Repr) {
        let Body::Register {
            lin6_id,
            timestamp,
            lifetime,
            locators,
        } = repr.body
        else {
            return;
        };
        // 1. Authentication: mandatory, key by (LIN6 ID, Key ID).
        let key = self.keys.get(&(lin6_id, repr.key_id)).cloned();
        let Some(key) = key.filter(|k| repr.key_id != 0 && wire::verify(d.payload, k)) else {
            self.stats.auth_failed = self.stats.auth_failed.saturating_add(1);
            return self.ack(d, repr, Code::AUTH_FAILED, lin6_id, 0, None);
        };
        // 2. Node ID database.
        let Some(level) = self.nodes.get(&lin6_id).copied() else {
            self.stats.unknown_node = self.stats.unknown_node.saturating_add(1);
            return self.ack(d, repr, Code::UNKNOWN_NODE, lin6_id, 0, Some(&key));
        };
        // 3. Replay: sequence newer, timestamp within the window.
        let window = u32::try_from(self.cfg.timestamp_window.as_secs()).unwrap_or(u32::MAX);
        let last = self.last_seq.get(&lin6_id).copied();
        let in_window = ts_distance(timestamp, self.unix_now()) <= window;
        if let Some((seq, nonce, granted)) = last
            && seq == repr.sequence
            && nonce == repr.nonce
            && in_window
        {
            // A retransmission of the request last accepted (its ACK was
            // lost): answer again, change nothing.
            self.stats.retransmissions = self.stats.retransmissions.saturating_add(1);
            if repr.flags & FLAG_ACK != 0 {
                self.ack(d, repr, Code::OK, lin6_id, granted, Some(&key));
            }
            return;
        }
        let stale_seq = last.is_some_and(|(seq, _, _)| !wire::seq_newer(repr.sequence, seq));
        if stale_seq || !in_window {
            self.stats.replay = self.stats.replay.saturating_add(1);
            return self.ack(d, repr, Code::REPLAY, lin6_id, 0, Some(&key));
        }
        let want_ack = repr.flags & FLAG_ACK != 0;
        if lifetime == 0 {
            self.last_seq
                .insert(lin6_id, (repr.sequence, repr.nonce, 0));
            if let Some(m) = self.mappings.remove(&lin6_id) {
                self.expiry.remove(&(m.expires, lin6_id));
                self.out
                    .push_back(Output::Event(Event::NodeDeregistered { lin6_id }));
            }
            if want_ack {
                self.ack(d, repr, Code::OK, lin6_id, 0, Some(&key));
            }
            return;
        }
        // 4. Locator set (merge or replace).
        let old = self.mappings.get(&lin6_id).copied();
        let merged = if repr.flags & FLAG_MERGE != 0 {
            let mut set = old.map(|m| m.locators).unwrap_or_default();
            let mut ok = true;
            for r in locators.as_slice() {
                let mut found = false;
                let mut next = Locators::new();
                for e in set.as_slice() {
                    let _ = next.push(if e.prefix == r.prefix {
                        found = true;
                        *r
                    } else {
                        *e
                    });
                }
                if !found && next.push(*r).is_err() {
                    ok = false;
                }
                set = next;
            }
            if !ok {
                return self.ack(d, repr, Code::TOO_MANY_LOCATORS, lin6_id, 0, Some(&key));
            }
            set
        } else {
            locators
        };
        // 5. Table bound.
        if old.is_none() && self.mappings.len() >= self.cfg.max_mappings {
            self.stats.table_full = self.stats.table_full.saturating_add(1);
            return self.ack(d, repr, Code::NOT_SERVED, lin6_id, 0, Some(&key));
        }
        // 6. Store with the clamped lifetime.
        let granted = Duration::from_secs(u64::from(lifetime))
            .clamp(self.cfg.min_lifetime, self.cfg.max_lifetime);
        let expires = self.now.saturating_add(granted);
        if let Some(o) = old {
            self.expiry.remove(&(o.expires, lin6_id));
        }
        self.mappings.insert(
            lin6_id,
            Mapping {
                locators: merged,
                expires,
                timestamp,
                level,
            },
        );
        self.expiry.insert((expires, lin6_id));
        let g = u32::try_from(granted.as_secs()).unwrap_or(u32::MAX);
        self.last_seq
            .insert(lin6_id, (repr.sequence, repr.nonce, g));
        self.stats.registered = self.stats.registered.saturating_add(1);
        self.out.push_back(Output::Event(Event::NodeRegistered {
            lin6_id,
            level,
            locators: merged.as_slice().to_vec(),
            lifetime: granted,
        }));
        if want_ack {
            self.ack(d, repr, Code::OK, lin6_id, g, Some(&key));
        }
    }

    fn on_query(&mut self, d: &Datagram<'_>, repr: &Repr) {
        let Body::Query { target, .. } = repr.body else {
            return;
        };
        // Optional auth: the querier's key is found by the ID in its source address.
        let mut key = None;
        if repr.key_id != 0 {
            let querier = Lin6Id::of(d.src.ip());
            match self.keys.get(&(querier, repr.key_id)) {
                Some(k) if wire::verify(d.payload, k) => key = Some(k.clone()),
                _ => {
                    self.stats.auth_failed = self.stats.auth_failed.saturating_add(1);
                    return self.nack(
                        d,
                        MsgType::QUERY,
                        Code::AUTH_FAILED,
                        repr.sequence,
                        repr.nonce,
                    );
                }
            }
        }
        let live = self
            .mappings
            .get(&target)
            .filter(|m| m.expires > self.now)
            .copied();
        let (code, ts, ttl, locs) = match live {
            Some(m) => {
                let remaining = m.expires.saturating_sub(self.now);
                let ttl = remaining.min(self.cfg.max_reply_ttl);
                (Code::OK, m.timestamp, ttl, m.locators)
            }
            None => {
                let code = if self.nodes.contains_key(&target) {
                    Code::NO_MAPPING
                } else {
                    Code::NOT_SERVED
                };
                (code, 0, self.cfg.negative_ttl, Locators::new())
            }
        };
        let r = Repr {
            code,
            flags: 0,
            key_id: if key.is_some() { repr.key_id } else { 0 },
            sequence: repr.sequence,
            nonce: repr.nonce,
            body: Body::Reply {
                lin6_id: target,
                mapping_timestamp: ts,
                ttl: u32::try_from(ttl.as_secs()).unwrap_or(u32::MAX),
                locators: locs,
            },
            auth: key.as_ref().map(|_| Auth::default()),
        };
        self.send(d, &r, key.as_deref());
    }
}
