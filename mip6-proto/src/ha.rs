//! The home agent (and NEMO home agent): home registrations, the binding
//! cache, proxy DAD, mobile network prefixes, DHAAD replies and mobile
//! prefix advertisements (RFC 6275 §10, RFC 3963 §6).
//!
//! ```
//! use core::time::Duration;
//! use mip6_proto::ha::{HaConfig, HomeAgent};
//! use rand_chacha::ChaCha20Rng;
//! use rand_core::SeedableRng;
//!
//! let cfg = HaConfig::new("2001:db8:1::1".parse().unwrap(), "2001:db8:1::".parse().unwrap(), 64);
//! let ha = HomeAgent::new(cfg, ChaCha20Rng::seed_from_u64(1), Duration::ZERO).unwrap();
//! assert_eq!(ha.bindings(), 0);
//! ```
//!
//! ## Binding cache entries
//! A first registration waits for proxy DAD when it is configured
//! (`shisa-fsm.md` §3: the BA and the forwarding events are sent only on
//! success; failure answers status 134 and deletes the entry). A bound
//! entry is refreshed by each accepted BU and deleted by a deregistration
//! or when its lifetime ends; a home agent sends no Binding Refresh
//! Requests.
//!
//! | state | BU (L > 0) | BU (dereg) | DAD ok | DAD failed | TIMEOUT |
//! |---|---|---|---|---|---|
//! | (none) | DAD: DadRequest → PENDING; else install, BA 0 → BOUND | BA 133 | | | |
//! | PENDING | (waits; a newer BU replaces the pending one) | deleted, BA 0 | install, BA 0 → BOUND | BA 134, deleted | |
//! | BOUND | update, BA 0 → BOUND | HomeBindingRemoved, BA 0, deleted | | | HomeBindingRemoved, deleted |
#![deny(clippy::arithmetic_side_effects)]

use alloc::vec::Vec;
use core::net::Ipv6Addr;
use core::time::Duration;

use crate::wire::icmpv6::{AddrList, MipIcmpRepr, PrefixInfo, PrefixList};
use crate::wire::mh::{BaFlags, BaStatus, BuFlags, Message, MhPacket, MhRepr};
use crate::wire::options::{MobilityOption, OptionType, Options};
use rand_core::CryptoRng;

use crate::event::{
    Clock, FwdEvent, OutQueue, Output, RxDatagram, TxExt, in_prefix, is_unicast, seq_greater,
};
use crate::timer::TimerHeap;

/// A prefix of the home link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HomePrefix {
    /// The prefix.
    pub prefix: Ipv6Addr,
    /// Its length.
    pub len: u8,
    /// When its valid lifetime ends (`None`: infinite).
    pub valid_until: Option<Duration>,
}

/// A mobile router the home agent serves (RFC 3963 §6.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MobileRouter {
    /// Its home address.
    pub home: Ipv6Addr,
    /// The mobile network prefixes it may register (and the ones used in
    /// implicit mode).
    pub prefixes: Vec<(Ipv6Addr, u8)>,
}

/// Configuration of a [`HomeAgent`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HaConfig {
    /// The home agent's address on the home link (source of its messages).
    pub address: Ipv6Addr,
    /// The home link's prefixes.
    pub home_prefixes: Vec<HomePrefix>,
    /// Most bindings kept (BA status 130 beyond).
    pub max_bindings: usize,
    /// Longest lifetime granted.
    pub max_lifetime: Duration,
    /// Run proxy DAD before the first registration of a home address.
    pub dad: bool,
    /// This home agent's preference (Home Agent Information option).
    pub preference: u16,
    /// Other home agents of the home link with their preferences (for
    /// DHAAD replies), and whether they serve mobile routers.
    pub other_agents: Vec<(Ipv6Addr, u16, bool)>,
    /// Serve mobile routers (RFC 3963).
    pub nemo: bool,
    /// The mobile routers and their prefixes.
    pub mobile_routers: Vec<MobileRouter>,
}

impl HaConfig {
    /// A home agent at `address` for the home prefix `prefix/len`, with
    /// DAD, NEMO off and room for 10 000 bindings of at most 1 hour.
    pub fn new(address: Ipv6Addr, prefix: Ipv6Addr, len: u8) -> Self {
        Self {
            address,
            home_prefixes: alloc::vec![HomePrefix {
                prefix,
                len,
                valid_until: None
            }],
            max_bindings: 10_000,
            max_lifetime: Duration::from_secs(3600),
            dad: true,
            preference: 0,
            other_agents: Vec::new(),
            nemo: false,
            mobile_routers: Vec::new(),
        }
    }
}

/// A configuration the home agent cannot run with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// No home prefix, or a prefix length above 128.
    HomePrefix,
    /// `max_bindings` or `max_lifetime` is zero.
    Limits,
}

/// Why a datagram changed nothing but counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Dropped {
    /// The message does not parse.
    Malformed(crate::wire::Error),
    /// Its checksum is wrong.
    BadChecksum,
    /// Payload Proto is not 59.
    PayloadProto,
    /// Not a message a home agent takes.
    NotForHomeAgent,
    /// A home registration with a Nonce Indices option (RFC 6275 §9.5.1).
    NonceIndicesInHomeRegistration,
    /// A source or home address that is not unicast.
    NotUnicast,
    /// A Mobile Prefix Solicitation from a node without a binding.
    NoBinding,
}

/// Counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HaStats {
    /// Registrations accepted (first ones and refreshes).
    pub registrations: u64,
    /// Deregistrations accepted.
    pub deregistrations: u64,
    /// Binding Updates refused with a status ≥ 128.
    pub refused: u64,
    /// Binding Acknowledgements sent.
    pub ba_sent: u64,
    /// DHAAD replies sent.
    pub dhaad_replies: u64,
    /// Mobile Prefix Advertisements sent.
    pub mpa_sent: u64,
    /// Bindings that expired.
    pub expired: u64,
    /// Datagrams dropped.
    pub dropped: u64,
    /// Calls with a time older than the latest one (clamped).
    pub time_went_back: u64,
}

/// A binding cache entry's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HaBindingState {
    /// Waiting for proxy DAD before the first registration completes.
    Pending,
    /// Registered.
    Bound,
}

#[derive(Debug, Clone)]
struct PendingBa {
    dst: Ipv6Addr,
    ext: TxExt,
    seq: u16,
    lifetime: u16,
    flags: BaFlags,
}

#[derive(Debug, Clone)]
struct Binding {
    care_of: Ipv6Addr,
    seq: u16,
    expires: Duration,
    state: HaBindingState,
    timer: u64,
    link_local: bool,
    router: bool,
    /// Mobile network prefixes (rare: boxed to keep entries small).
    prefixes: alloc::boxed::Box<[(Ipv6Addr, u8)]>,
    /// The BA waiting for proxy DAD (rare: boxed).
    pending: Option<alloc::boxed::Box<PendingBa>>,
}

/// The home agent machine. See the [module docs](self).
pub struct HomeAgent<R> {
    cfg: HaConfig,
    #[allow(dead_code)]
    rng: R,
    bindings: hashbrown::HashMap<Ipv6Addr, Binding, foldhash::fast::FixedState>,
    timers: TimerHeap<Ipv6Addr>,
    out: OutQueue,
    clock: Clock,
    stats: HaStats,
}

impl<R: CryptoRng> HomeAgent<R> {
    /// A home agent with an empty binding cache.
    pub fn new(cfg: HaConfig, mut rng: R, now: Duration) -> Result<Self, ConfigError> {
        if cfg.home_prefixes.is_empty() || cfg.home_prefixes.iter().any(|p| p.len > 128) {
            return Err(ConfigError::HomePrefix);
        }
        if cfg.max_bindings == 0 || cfg.max_lifetime.is_zero() {
            return Err(ConfigError::Limits);
        }
        // The hash key comes from the injected RNG, so a peer cannot aim
        // for collisions.
        let seed = rng.next_u64();
        Ok(Self {
            cfg,
            rng,
            bindings: hashbrown::HashMap::with_hasher(foldhash::fast::FixedState::with_seed(seed)),
            timers: TimerHeap::new(),
            out: OutQueue::default(),
            clock: Clock::new(now),
            stats: HaStats::default(),
        })
    }

    /// Counters.
    pub fn stats(&self) -> HaStats {
        let mut s = self.stats;
        s.time_went_back = self.clock.went_back;
        s
    }

    /// Number of binding cache entries (pending ones included).
    pub fn bindings(&self) -> usize {
        self.bindings.len()
    }

    /// The care-of address `home` is registered at (bound entries only):
    /// where the forwarding plane tunnels its packets.
    pub fn lookup(&self, home: Ipv6Addr) -> Option<Ipv6Addr> {
        self.bindings
            .get(&home)
            .filter(|b| b.state == HaBindingState::Bound)
            .map(|b| b.care_of)
    }

    /// The state of the entry for `home`.
    pub fn binding_state(&self, home: Ipv6Addr) -> Option<HaBindingState> {
        self.bindings.get(&home).map(|b| b.state)
    }

    fn drop(&mut self, why: Dropped) -> Result<(), Dropped> {
        self.stats.dropped = self.stats.dropped.saturating_add(1);
        Err(why)
    }

    /// A Mobility Header (next header 135) or ICMPv6 message (58) arrived.
    pub fn handle_datagram(&mut self, now: Duration, rx: &RxDatagram<'_>) -> Result<(), Dropped> {
        let now = self.clock.advance(now);
        match rx.next_header {
            135 => self.handle_mh(now, rx),
            58 => self.handle_icmp(now, rx),
            _ => self.drop(Dropped::NotForHomeAgent),
        }
    }

    fn handle_icmp(&mut self, now: Duration, rx: &RxDatagram<'_>) -> Result<(), Dropped> {
        let src_for_ck = rx.hao.unwrap_or(rx.src);
        let msg = match MipIcmpRepr::parse(rx.payload, &src_for_ck, &rx.dst) {
            Ok(m) => m,
            Err(crate::wire::Error::BadChecksum) => return self.drop(Dropped::BadChecksum),
            Err(e) => return self.drop(Dropped::Malformed(e)),
        };
        match msg {
            MipIcmpRepr::DhaadRequest { identifier, r } => {
                if !is_unicast(rx.src) {
                    return self.drop(Dropped::NotUnicast);
                }
                //= https://www.rfc-editor.org/rfc/rfc6275#section-10.5
                //# The home agent MUST list the home agents in the
                //# Home Agent Addresses field in order of decreasing preference
                let mut agents: Vec<(u16, Ipv6Addr)> = Vec::new();
                if !r || self.cfg.nemo {
                    agents.push((self.cfg.preference, self.cfg.address));
                }
                for (a, p, mr) in &self.cfg.other_agents {
                    if !r || *mr {
                        agents.push((*p, *a));
                    }
                }
                agents.sort_by_key(|x| core::cmp::Reverse(x.0));
                // Fit in the minimum MTU: 1280 - 40 (IPv6) - 8 (ICMPv6 header).
                agents.truncate((1280 - 48) / 16);
                let addrs: Vec<Ipv6Addr> = agents.iter().map(|(_, a)| *a).collect();
                let reply = MipIcmpRepr::DhaadReply {
                    identifier,
                    r,
                    addresses: AddrList::List(&addrs),
                };
                if self.queue_icmp(&reply, self.cfg.address, rx.src, TxExt::None, rx.src) {
                    self.stats.dhaad_replies = self.stats.dhaad_replies.saturating_add(1);
                }
                let _ = now;
                Ok(())
            }
            MipIcmpRepr::MobilePrefixSolicitation { identifier } => {
                let Some(home) = rx.hao else {
                    return self.drop(Dropped::NoBinding);
                };
                if self.lookup(home).is_none() {
                    return self.drop(Dropped::NoBinding);
                }
                self.send_mpa(now, identifier, home, rx.src);
                Ok(())
            }
            _ => self.drop(Dropped::NotForHomeAgent),
        }
    }

    fn send_mpa(&mut self, now: Duration, identifier: u16, home: Ipv6Addr, care_of: Ipv6Addr) {
        let prefixes: Vec<PrefixInfo> = self
            .cfg
            .home_prefixes
            .iter()
            .map(|p| {
                let secs = p.valid_until.map_or(u32::MAX, |t| {
                    u32::try_from(t.saturating_sub(now).as_secs()).unwrap_or(u32::MAX)
                });
                PrefixInfo {
                    prefix_len: p.len,
                    l: true,
                    a: true,
                    r: false,
                    valid_lifetime: secs,
                    preferred_lifetime: secs,
                    prefix: p.prefix,
                }
            })
            .collect();
        let mpa = MipIcmpRepr::MobilePrefixAdvertisement {
            identifier,
            m: false,
            o: false,
            prefixes: PrefixList::List(&prefixes),
        };
        if self.queue_icmp(
            &mpa,
            self.cfg.address,
            care_of,
            TxExt::Type2Routing(home),
            home,
        ) {
            self.stats.mpa_sent = self.stats.mpa_sent.saturating_add(1);
        }
    }

    /// The home link's prefixes changed: sends an unsolicited Mobile Prefix
    /// Advertisement to every registered mobile node (RFC 6275 §10.6.2).
    pub fn set_home_prefixes(&mut self, now: Duration, prefixes: Vec<HomePrefix>) {
        let now = self.clock.advance(now);
        self.cfg.home_prefixes = prefixes;
        let mut bound: Vec<(Ipv6Addr, Ipv6Addr)> = self
            .bindings
            .iter()
            .filter(|(_, b)| b.state == HaBindingState::Bound)
            .map(|(h, b)| (*h, b.care_of))
            .collect();
        bound.sort();
        for (home, care_of) in bound {
            self.send_mpa(now, 0, home, care_of);
        }
    }

    fn queue_icmp(
        &mut self,
        m: &MipIcmpRepr<'_>,
        src: Ipv6Addr,
        dst: Ipv6Addr,
        ext: TxExt,
        ck_dst: Ipv6Addr,
    ) -> bool {
        let mut bytes = alloc::vec![0u8; m.buffer_len()];
        if m.emit(&mut bytes, &src, &ck_dst).is_err() {
            return false;
        }
        self.out.msg(src, dst, ext, 58, bytes);
        true
    }

    fn handle_mh(&mut self, now: Duration, rx: &RxDatagram<'_>) -> Result<(), Dropped> {
        let pkt = match MhPacket::new_checked(rx.payload) {
            Ok(p) => p,
            Err(e) => return self.drop(Dropped::Malformed(e)),
        };
        let home_src = rx.hao.unwrap_or(rx.src);
        let repr = match MhRepr::parse(&pkt, &home_src, &rx.dst) {
            Ok(r) => r,
            Err(crate::wire::Error::BadChecksum) => return self.drop(Dropped::BadChecksum),
            Err(e) => return self.drop(Dropped::Malformed(e)),
        };
        if repr.payload_proto != 59 {
            return self.drop(Dropped::PayloadProto);
        }
        match repr.message {
            Message::BindingUpdate {
                sequence,
                flags,
                lifetime,
            } if flags.contains(BuFlags::H) => {
                self.home_registration(now, rx, &repr.options, sequence, flags, lifetime)
            }
            _ => self.drop(Dropped::NotForHomeAgent),
        }
    }

    #[allow(clippy::too_many_lines, clippy::too_many_arguments)]
    fn home_registration(
        &mut self,
        now: Duration,
        rx: &RxDatagram<'_>,
        options: &Options<'_>,
        seq: u16,
        flags: BuFlags,
        lifetime: u16,
    ) -> Result<(), Dropped> {
        let home = rx.hao.unwrap_or(rx.src);
        if !is_unicast(home) || !is_unicast(rx.src) {
            return self.drop(Dropped::NotUnicast);
        }
        //= https://www.rfc-editor.org/rfc/rfc6275#section-9.5.1
        //# If the Home Registration (H) bit is set, the Nonce Indices mobility
        //# option MUST NOT be present.
        if options.find(OptionType::NONCE_INDICES).is_some() {
            return self.drop(Dropped::NonceIndicesInHomeRegistration);
        }
        let care_of = match options.find(OptionType::ALTERNATE_CARE_OF_ADDRESS) {
            Some(MobilityOption::AlternateCareOfAddress(a)) => a,
            _ => rx.src,
        };
        let (ba_dst, ba_ext) = match rx.hao {
            Some(h) => (rx.src, TxExt::Type2Routing(h)),
            None => (rx.src, TxExt::None),
        };
        let router = flags.contains(BuFlags::R);
        let ba_flags = if router { BaFlags::R } else { BaFlags(0) };
        let local = rx.dst;
        let refuse = |ha: &mut Self, status: BaStatus, s: u16| {
            ha.stats.refused = ha.stats.refused.saturating_add(1);
            ha.send_ba(local, ba_dst, ba_ext, home, status, ba_flags, s, 0);
            Ok(())
        };
        //= https://www.rfc-editor.org/rfc/rfc6275#section-10.3.1
        //# Else, if the home address for the binding (the Home Address field
        //# in the packet's Home Address option) is not an on-link IPv6
        //# address with respect to the home agent's current Prefix List, then
        //# the home agent MUST reject the Binding Update and SHOULD return a
        //# Binding Acknowledgement to the mobile node, in which the Status
        //# field is set to 132 (not home subnet).
        let Some(prefix) = self
            .cfg
            .home_prefixes
            .iter()
            .find(|p| in_prefix(home, p.prefix, p.len))
            .copied()
        else {
            return refuse(self, BaStatus::NOT_HOME_SUBNET, seq);
        };
        if let Some(b) = self.bindings.get(&home) {
            if !seq_greater(seq, b.seq) {
                let last = b.seq;
                return refuse(self, BaStatus::SEQUENCE_NUMBER_OUT_OF_WINDOW, last);
            }
            if b.router != router {
                return refuse(self, BaStatus::REGISTRATION_TYPE_CHANGE_DISALLOWED, seq);
            }
        }
        let dereg = lifetime == 0 || care_of == home;
        if dereg {
            //= https://www.rfc-editor.org/rfc/rfc6275#section-10.3.2
            //# If the home agent does not have an entry for this home address in
            //# its Binding Cache, then it MUST reject the Binding Update and
            //# SHOULD return a Binding Acknowledgement to the mobile node, in
            //# which the Status field is set to 133 (not home agent for this
            //# mobile node).
            if !self.bindings.contains_key(&home) {
                return refuse(self, BaStatus::NOT_HOME_AGENT_FOR_THIS_MN, seq);
            }
            self.remove(home, local);
            self.stats.deregistrations = self.stats.deregistrations.saturating_add(1);
            self.send_ba(
                local,
                ba_dst,
                ba_ext,
                home,
                BaStatus::ACCEPTED,
                ba_flags,
                seq,
                0,
            );
            return Ok(());
        }
        // NEMO (RFC 3963 §6.2).
        let mut prefixes: Vec<(Ipv6Addr, u8)> = Vec::new();
        if router {
            if !self.cfg.nemo {
                return refuse(self, BaStatus::MOBILE_ROUTER_OPERATION_NOT_PERMITTED, seq);
            }
            let allowed: Vec<(Ipv6Addr, u8)> = self
                .cfg
                .mobile_routers
                .iter()
                .find(|m| m.home == home)
                .map(|m| m.prefixes.clone())
                .unwrap_or_default();
            let explicit: Vec<(Ipv6Addr, u8)> = options
                .iter()
                .filter_map(|o| match o {
                    Ok(MobilityOption::MobileNetworkPrefix { prefix_len, prefix }) => {
                        Some((prefix, prefix_len))
                    }
                    _ => None,
                })
                .collect();
            if explicit.is_empty() {
                // Implicit mode: the configured prefixes.
                if allowed.is_empty() {
                    return refuse(self, BaStatus::FORWARDING_SETUP_FAILED, seq);
                }
                prefixes = allowed;
            } else {
                for (p, l) in &explicit {
                    if *l == 0
                        || *l > 128
                        || self
                            .cfg
                            .home_prefixes
                            .iter()
                            .any(|h| in_prefix(*p, h.prefix, h.len))
                    {
                        return refuse(self, BaStatus::INVALID_PREFIX, seq);
                    }
                    if !allowed
                        .iter()
                        .any(|(ap, al)| al == l && in_prefix(*p, *ap, *al))
                    {
                        return refuse(self, BaStatus::NOT_AUTHORIZED_FOR_PREFIX, seq);
                    }
                }
                prefixes = explicit;
            }
        }
        if !self.bindings.contains_key(&home) && self.bindings.len() >= self.cfg.max_bindings {
            return refuse(self, BaStatus::INSUFFICIENT_RESOURCES, seq);
        }
        //= https://www.rfc-editor.org/rfc/rfc6275#section-10.3.1
        //# The lifetime of the Binding Cache entry MUST NOT be greater than the
        //# remaining valid lifetime for the home address
        let requested = Duration::from_secs(u64::from(lifetime).saturating_mul(4));
        let mut granted = requested.min(self.cfg.max_lifetime);
        if let Some(until) = prefix.valid_until {
            granted = granted.min(until.saturating_sub(now));
        }
        let units = u16::try_from(granted.as_secs() / 4).unwrap_or(u16::MAX);
        if units == 0 {
            return refuse(self, BaStatus::REASON_UNSPECIFIED, seq);
        }
        let granted = Duration::from_secs(u64::from(units).saturating_mul(4));
        let expires = now.saturating_add(granted);
        let link_local = flags.contains(BuFlags::L);
        let first = !self.bindings.contains_key(&home);
        let pending = PendingBa {
            dst: ba_dst,
            ext: ba_ext,
            seq,
            lifetime: units,
            flags: ba_flags,
        };
        if first && self.cfg.dad {
            // Wait for proxy DAD (shisa-fsm.md §3): nothing installed yet.
            let timer = self.timers.arm(expires, home);
            self.bindings.insert(
                home,
                Binding {
                    care_of,
                    seq,
                    expires,
                    state: HaBindingState::Pending,
                    timer,
                    link_local,
                    router,
                    prefixes: prefixes.into_boxed_slice(),
                    pending: Some(alloc::boxed::Box::new(pending)),
                },
            );
            self.out.fwd(FwdEvent::DadRequest { home });
            self.purge_timers();
            return Ok(());
        }
        if let Some(b) = self.bindings.get_mut(&home)
            && b.state == HaBindingState::Pending
        {
            // A newer BU while DAD runs: it replaces the pending one.
            b.care_of = care_of;
            b.seq = seq;
            b.expires = expires;
            b.link_local = link_local;
            b.prefixes = prefixes.into_boxed_slice();
            b.pending = Some(alloc::boxed::Box::new(pending));
            return Ok(());
        }
        let old_prefixes: Vec<(Ipv6Addr, u8)> = self
            .bindings
            .get(&home)
            .map(|b| b.prefixes.to_vec())
            .unwrap_or_default();
        for (p, l) in old_prefixes.iter().filter(|x| !prefixes.contains(x)) {
            self.out.fwd(FwdEvent::PrefixRouteRemoved {
                prefix: *p,
                len: *l,
            });
        }
        let timer = self.timers.arm(expires, home);
        self.bindings.insert(
            home,
            Binding {
                care_of,
                seq,
                expires,
                state: HaBindingState::Bound,
                timer,
                link_local,
                router,
                prefixes: prefixes.into_boxed_slice(),
                pending: None,
            },
        );
        self.purge_timers();
        self.install(home, local);
        self.send_ba(
            local,
            ba_dst,
            ba_ext,
            home,
            BaStatus::ACCEPTED,
            ba_flags,
            seq,
            units,
        );
        Ok(())
    }

    fn install(&mut self, home: Ipv6Addr, local: Ipv6Addr) {
        let Some(b) = self.bindings.get(&home) else {
            return;
        };
        let ev = FwdEvent::HomeBindingAdded {
            home,
            care_of: b.care_of,
            local,
            bid: None,
            link_local: b.link_local,
            expires: b.expires,
        };
        let routes: Vec<FwdEvent> = b
            .prefixes
            .iter()
            .map(|(p, l)| FwdEvent::PrefixRouteAdded {
                prefix: *p,
                len: *l,
                home,
                care_of: b.care_of,
            })
            .collect();
        self.out.fwd(ev);
        for r in routes {
            self.out.fwd(r);
        }
        self.stats.registrations = self.stats.registrations.saturating_add(1);
    }

    fn remove(&mut self, home: Ipv6Addr, local: Ipv6Addr) {
        if let Some(b) = self.bindings.remove(&home)
            && b.state == HaBindingState::Bound
        {
            for &(p, l) in b.prefixes.iter() {
                self.out
                    .fwd(FwdEvent::PrefixRouteRemoved { prefix: p, len: l });
            }
            self.out.fwd(FwdEvent::HomeBindingRemoved {
                home,
                local,
                bid: None,
            });
        }
        self.purge_timers();
    }

    /// The result of the proxy DAD asked for by [`FwdEvent::DadRequest`].
    pub fn dad_result(&mut self, now: Duration, home: Ipv6Addr, unique: bool) {
        let _ = self.clock.advance(now);
        let local = self.cfg.address;
        let Some(b) = self.bindings.get_mut(&home) else {
            return;
        };
        if b.state != HaBindingState::Pending {
            return;
        }
        let Some(p) = b.pending.take() else { return };
        if unique {
            b.state = HaBindingState::Bound;
            self.install(home, local);
            self.send_ba(
                local,
                p.dst,
                p.ext,
                home,
                BaStatus::ACCEPTED,
                p.flags,
                p.seq,
                p.lifetime,
            );
        } else {
            self.bindings.remove(&home);
            self.purge_timers();
            self.stats.refused = self.stats.refused.saturating_add(1);
            self.send_ba(
                local,
                p.dst,
                p.ext,
                home,
                BaStatus::DUPLICATE_ADDRESS_DETECTION_FAILED,
                p.flags,
                p.seq,
                0,
            );
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn send_ba(
        &mut self,
        src: Ipv6Addr,
        dst: Ipv6Addr,
        ext: TxExt,
        home: Ipv6Addr,
        status: BaStatus,
        flags: BaFlags,
        sequence: u16,
        lifetime: u16,
    ) {
        if !is_unicast(dst) {
            return;
        }
        let repr = MhRepr::new(Message::BindingAck {
            status,
            flags,
            sequence,
            lifetime,
        });
        let mut bytes = alloc::vec![0u8; repr.buffer_len()];
        let ck_dst = match ext {
            TxExt::Type2Routing(h) => h,
            _ => dst,
        };
        let _ = home;
        if repr
            .emit(&mut MhPacket::new_unchecked(&mut bytes[..]), &src, &ck_dst)
            .is_ok()
        {
            self.out.msg(src, dst, ext, 135, bytes);
            self.stats.ba_sent = self.stats.ba_sent.saturating_add(1);
        }
    }

    fn purge_timers(&mut self) {
        let bindings = &self.bindings;
        self.timers
            .purge(|k, g| bindings.get(k).is_some_and(|b| b.timer == g));
        self.timers.compact(
            |k, g| bindings.get(k).is_some_and(|b| b.timer == g),
            bindings.len(),
        );
    }

    /// The earliest deadline (absolute).
    pub fn poll_timeout(&self) -> Option<Duration> {
        self.timers.next()
    }

    /// Expires bindings whose lifetime ended. Spurious calls are no-ops.
    pub fn handle_timeout(&mut self, now: Duration) {
        let now = self.clock.advance(now);
        let mut due = Vec::new();
        {
            let bindings = &self.bindings;
            self.timers.expire(
                now,
                |k, g| bindings.get(k).is_some_and(|b| b.timer == g),
                |k, _| due.push(k),
            );
        }
        let local = self.cfg.address;
        for home in due {
            self.stats.expired = self.stats.expired.saturating_add(1);
            self.remove(home, local);
        }
        self.purge_timers();
    }

    /// The next output, in causal order. On [`Output::Transmit`] the message
    /// bytes are appended to `buf`.
    pub fn poll_output(&mut self, buf: &mut Vec<u8>) -> Option<Output> {
        self.out.poll(buf)
    }
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)]
mod tests {
    use super::*;
    #[allow(unused_imports)]
    use alloc::vec;
    #[allow(unused_imports)]
    use alloc::vec::Vec;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    fn a(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }
    const S: Duration = Duration::from_secs(1);
    const HA: &str = "2001:db8:1::1";
    const HOA: &str = "2001:db8:1::100";
    const COA: &str = "2001:db8:2::200";

    fn ha_with(f: impl FnOnce(&mut HaConfig)) -> HomeAgent<ChaCha20Rng> {
        let mut cfg = HaConfig::new(a(HA), a("2001:db8:1::"), 64);
        f(&mut cfg);
        HomeAgent::new(cfg, ChaCha20Rng::seed_from_u64(3), Duration::ZERO).unwrap()
    }

    fn bu_bytes(
        seq: u16,
        flags: BuFlags,
        lifetime: u16,
        opts: &[MobilityOption<'_>],
        hoa: Ipv6Addr,
    ) -> Vec<u8> {
        let repr = MhRepr {
            payload_proto: 59,
            message: Message::BindingUpdate {
                sequence: seq,
                flags,
                lifetime,
            },
            options: Options::List(opts),
        };
        let mut b = alloc::vec![0u8; repr.buffer_len()];
        repr.emit(&mut MhPacket::new_unchecked(&mut b[..]), &hoa, &a(HA))
            .unwrap();
        b
    }

    fn send_bu(
        ha: &mut HomeAgent<ChaCha20Rng>,
        now: Duration,
        seq: u16,
        flags: BuFlags,
        lifetime: u16,
        opts: &[MobilityOption<'_>],
    ) -> Result<(), Dropped> {
        let b = bu_bytes(seq, flags, lifetime, opts, a(HOA));
        ha.handle_datagram(
            now,
            &RxDatagram {
                src: a(COA),
                dst: a(HA),
                hao: Some(a(HOA)),
                rh2: None,
                tunnelled: false,
                next_header: 135,
                payload: &b,
            },
        )
    }

    fn drain(ha: &mut HomeAgent<ChaCha20Rng>) -> Vec<(Output, Vec<u8>)> {
        let mut v = Vec::new();
        loop {
            let mut buf = Vec::new();
            match ha.poll_output(&mut buf) {
                Some(o) => v.push((o, buf)),
                None => return v,
            }
        }
    }

    fn ba(out: &[(Output, Vec<u8>)]) -> (BaStatus, BaFlags, u16, u16) {
        let (o, b) = out
            .iter()
            .find(|(o, _)| matches!(o, Output::Transmit(_)))
            .unwrap();
        let Output::Transmit(t) = o else { panic!() };
        assert_eq!(
            (t.src, t.dst, t.ext, t.next_header),
            (a(HA), a(COA), TxExt::Type2Routing(a(HOA)), 135)
        );
        let r = MhRepr::parse(&MhPacket::new_checked(&b[..]).unwrap(), &a(HA), &a(HOA)).unwrap();
        let Message::BindingAck {
            status,
            flags,
            sequence,
            lifetime,
        } = r.message
        else {
            panic!()
        };
        (status, flags, sequence, lifetime)
    }

    const HA_FLAGS: BuFlags = BuFlags(0x8000 | 0x4000); // A | H

    #[test]
    fn first_registration_waits_for_dad_then_installs_before_the_ba() {
        let mut ha = ha_with(|_| {});
        send_bu(&mut ha, S, 1, HA_FLAGS, 100, &[]).unwrap();
        let out = drain(&mut ha);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].0, Output::Fwd(FwdEvent::DadRequest { home: a(HOA) }));
        assert_eq!(ha.binding_state(a(HOA)), Some(HaBindingState::Pending));
        assert_eq!(ha.lookup(a(HOA)), None, "not usable before DAD");
        ha.dad_result(2 * S, a(HOA), true);
        let out = drain(&mut ha);
        assert_eq!(
            out[0].0,
            Output::Fwd(FwdEvent::HomeBindingAdded {
                home: a(HOA),
                care_of: a(COA),
                local: a(HA),
                bid: None,
                link_local: false,
                expires: S + 400 * S
            })
        );
        assert_eq!(ba(&out), (BaStatus::ACCEPTED, BaFlags(0), 1, 100));
        assert_eq!(ha.lookup(a(HOA)), Some(a(COA)));
        // A refresh from a new care-of address needs no DAD.
        let coa2 = a("2001:db8:3::300");
        let b = bu_bytes(
            2,
            HA_FLAGS,
            100,
            &[MobilityOption::AlternateCareOfAddress(coa2)],
            a(HOA),
        );
        ha.handle_datagram(
            3 * S,
            &RxDatagram {
                src: a(COA),
                dst: a(HA),
                hao: Some(a(HOA)),
                rh2: None,
                tunnelled: false,
                next_header: 135,
                payload: &b,
            },
        )
        .unwrap();
        let out = drain(&mut ha);
        assert!(
            matches!(out[0].0, Output::Fwd(FwdEvent::HomeBindingAdded { care_of, .. }) if care_of == coa2),
            "Alternate Care-of Address wins"
        );
        assert_eq!(ba(&out).0, BaStatus::ACCEPTED);
    }

    #[test]
    fn dad_failure_answers_134_and_forgets() {
        let mut ha = ha_with(|_| {});
        send_bu(&mut ha, S, 1, HA_FLAGS, 100, &[]).unwrap();
        drain(&mut ha);
        ha.dad_result(2 * S, a(HOA), false);
        let out = drain(&mut ha);
        assert_eq!(out.len(), 1);
        assert_eq!(ba(&out).0, BaStatus::DUPLICATE_ADDRESS_DETECTION_FAILED);
        assert_eq!(ha.bindings(), 0);
    }

    #[test]
    fn refusals_133_132_135_130_and_lifetime_limits() {
        let mut ha = ha_with(|c| {
            c.dad = false;
            c.max_bindings = 1;
            c.home_prefixes[0].valid_until = Some(1000 * S);
        });
        // Deregistration without a binding: 133.
        send_bu(&mut ha, S, 1, HA_FLAGS, 0, &[]).unwrap();
        assert_eq!(ba(&drain(&mut ha)).0, BaStatus::NOT_HOME_AGENT_FOR_THIS_MN);
        // A home address off the home prefix: 132.
        let b = bu_bytes(1, HA_FLAGS, 10, &[], a("2001:db8:5::1"));
        ha.handle_datagram(
            S,
            &RxDatagram {
                src: a(COA),
                dst: a(HA),
                hao: Some(a("2001:db8:5::1")),
                rh2: None,
                tunnelled: false,
                next_header: 135,
                payload: &b,
            },
        )
        .unwrap();
        let out = drain(&mut ha);
        let r = MhRepr::parse(
            &MhPacket::new_checked(&out[0].1[..]).unwrap(),
            &a(HA),
            &a("2001:db8:5::1"),
        )
        .unwrap();
        assert!(matches!(
            r.message,
            Message::BindingAck {
                status: BaStatus::NOT_HOME_SUBNET,
                ..
            }
        ));
        // Lifetime: 65535 units asked, max_lifetime 3600 s, prefix valid until 1000 s → 999 s → 249 units.
        send_bu(&mut ha, S, 7, HA_FLAGS, u16::MAX, &[]).unwrap();
        assert_eq!(
            ba(&drain(&mut ha)),
            (BaStatus::ACCEPTED, BaFlags(0), 7, 249)
        );
        // Old sequence: 135 with the last accepted one.
        send_bu(&mut ha, 2 * S, 7, HA_FLAGS, 10, &[]).unwrap();
        assert_eq!(ba(&drain(&mut ha)).0.0, 135);
        // Second home address, cache full: 130.
        let b = bu_bytes(1, HA_FLAGS, 10, &[], a("2001:db8:1::2"));
        ha.handle_datagram(
            S,
            &RxDatagram {
                src: a(COA),
                dst: a(HA),
                hao: Some(a("2001:db8:1::2")),
                rh2: None,
                tunnelled: false,
                next_header: 135,
                payload: &b,
            },
        )
        .unwrap();
        let out = drain(&mut ha);
        let r = MhRepr::parse(
            &MhPacket::new_checked(&out[0].1[..]).unwrap(),
            &a(HA),
            &a("2001:db8:1::2"),
        )
        .unwrap();
        assert!(matches!(
            r.message,
            Message::BindingAck {
                status: BaStatus::INSUFFICIENT_RESOURCES,
                ..
            }
        ));
        // A home registration must not carry Nonce Indices.
        assert_eq!(
            send_bu(
                &mut ha,
                3 * S,
                9,
                HA_FLAGS,
                10,
                &[MobilityOption::NonceIndices {
                    home: 1,
                    care_of: 2
                }]
            ),
            Err(Dropped::NonceIndicesInHomeRegistration)
        );
    }

    #[test]
    fn deregistration_and_expiry_remove_the_binding() {
        let mut ha = ha_with(|c| c.dad = false);
        send_bu(&mut ha, S, 1, HA_FLAGS, 10, &[]).unwrap();
        drain(&mut ha);
        assert_eq!(ha.poll_timeout(), Some(41 * S));
        ha.handle_timeout(40 * S);
        assert!(drain(&mut ha).is_empty(), "spurious timeout");
        ha.handle_timeout(41 * S);
        assert_eq!(
            drain(&mut ha)[0].0,
            Output::Fwd(FwdEvent::HomeBindingRemoved {
                home: a(HOA),
                local: a(HA),
                bid: None
            })
        );
        assert_eq!(ha.poll_timeout(), None);
        send_bu(&mut ha, 50 * S, 2, HA_FLAGS, 10, &[]).unwrap();
        drain(&mut ha);
        // Returning home: care-of = home address (no HAO), lifetime 0.
        let b = bu_bytes(3, HA_FLAGS, 0, &[], a(HOA));
        ha.handle_datagram(
            51 * S,
            &RxDatagram {
                src: a(HOA),
                dst: a(HA),
                hao: None,
                rh2: None,
                tunnelled: false,
                next_header: 135,
                payload: &b,
            },
        )
        .unwrap();
        let out = drain(&mut ha);
        assert_eq!(
            out[0].0,
            Output::Fwd(FwdEvent::HomeBindingRemoved {
                home: a(HOA),
                local: a(HA),
                bid: None
            })
        );
        let Output::Transmit(t) = out[1].0 else {
            panic!()
        };
        assert_eq!(
            (t.dst, t.ext),
            (a(HOA), TxExt::None),
            "BA to the home address, no routing header"
        );
        assert_eq!(ha.bindings(), 0);
    }

    fn nemo_ha() -> HomeAgent<ChaCha20Rng> {
        ha_with(|c| {
            c.dad = false;
            c.nemo = true;
            c.mobile_routers = alloc::vec![MobileRouter {
                home: a(HOA),
                prefixes: alloc::vec![(a("2001:db8:100::"), 48)]
            }];
        })
    }

    const MR_FLAGS: BuFlags = BuFlags(0x8000 | 0x4000 | 0x0400); // A | H | R

    #[test]
    fn nemo_explicit_implicit_and_refusals() {
        // Explicit mode with an authorised prefix.
        let mut ha = nemo_ha();
        send_bu(
            &mut ha,
            S,
            1,
            MR_FLAGS,
            10,
            &[MobilityOption::MobileNetworkPrefix {
                prefix_len: 48,
                prefix: a("2001:db8:100::"),
            }],
        )
        .unwrap();
        let out = drain(&mut ha);
        assert!(matches!(
            out[0].0,
            Output::Fwd(FwdEvent::HomeBindingAdded { .. })
        ));
        assert_eq!(
            out[1].0,
            Output::Fwd(FwdEvent::PrefixRouteAdded {
                prefix: a("2001:db8:100::"),
                len: 48,
                home: a(HOA),
                care_of: a(COA)
            })
        );
        assert_eq!(ba(&out), (BaStatus::ACCEPTED, BaFlags::R, 1, 10));
        // Registration type change (R cleared): 139.
        send_bu(&mut ha, S, 2, HA_FLAGS, 10, &[]).unwrap();
        assert_eq!(
            ba(&drain(&mut ha)).0,
            BaStatus::REGISTRATION_TYPE_CHANGE_DISALLOWED
        );
        // Deregistration removes the route too.
        send_bu(&mut ha, S, 3, MR_FLAGS, 0, &[]).unwrap();
        let out = drain(&mut ha);
        assert_eq!(
            out[0].0,
            Output::Fwd(FwdEvent::PrefixRouteRemoved {
                prefix: a("2001:db8:100::"),
                len: 48
            })
        );

        // Implicit mode: the configured prefixes.
        let mut ha = nemo_ha();
        send_bu(&mut ha, S, 1, MR_FLAGS, 10, &[]).unwrap();
        assert!(
            drain(&mut ha)
                .iter()
                .any(|(o, _)| matches!(o, Output::Fwd(FwdEvent::PrefixRouteAdded { len: 48, .. })))
        );

        // Unauthorised prefix: 142; a home prefix as network prefix: 141.
        let mut ha = nemo_ha();
        send_bu(
            &mut ha,
            S,
            1,
            MR_FLAGS,
            10,
            &[MobilityOption::MobileNetworkPrefix {
                prefix_len: 48,
                prefix: a("2001:db8:200::"),
            }],
        )
        .unwrap();
        assert_eq!(ba(&drain(&mut ha)).0, BaStatus::NOT_AUTHORIZED_FOR_PREFIX);
        send_bu(
            &mut ha,
            S,
            2,
            MR_FLAGS,
            10,
            &[MobilityOption::MobileNetworkPrefix {
                prefix_len: 64,
                prefix: a("2001:db8:1::"),
            }],
        )
        .unwrap();
        assert_eq!(ba(&drain(&mut ha)).0, BaStatus::INVALID_PREFIX);

        // NEMO off: 140. Implicit with nothing configured: 143.
        let mut ha = ha_with(|c| c.dad = false);
        send_bu(&mut ha, S, 1, MR_FLAGS, 10, &[]).unwrap();
        assert_eq!(
            ba(&drain(&mut ha)).0,
            BaStatus::MOBILE_ROUTER_OPERATION_NOT_PERMITTED
        );
        let mut ha = ha_with(|c| {
            c.dad = false;
            c.nemo = true;
        });
        send_bu(&mut ha, S, 1, MR_FLAGS, 10, &[]).unwrap();
        assert_eq!(ba(&drain(&mut ha)).0, BaStatus::FORWARDING_SETUP_FAILED);
    }

    fn icmp(m: &MipIcmpRepr<'_>, src: Ipv6Addr, dst: Ipv6Addr) -> Vec<u8> {
        let mut b = alloc::vec![0u8; m.buffer_len()];
        m.emit(&mut b, &src, &dst).unwrap();
        b
    }

    #[test]
    fn dhaad_reply_lists_agents_by_preference() {
        let mut ha = ha_with(|c| {
            c.preference = 5;
            c.other_agents = alloc::vec![
                (a("2001:db8:1::2"), 10, false),
                (a("2001:db8:1::3"), 1, true)
            ];
        });
        let anycast = a("2001:db8:1::fdff:ffff:ffff:fffe");
        let req = icmp(
            &MipIcmpRepr::DhaadRequest {
                identifier: 77,
                r: false,
            },
            a(COA),
            anycast,
        );
        ha.handle_datagram(
            S,
            &RxDatagram {
                src: a(COA),
                dst: anycast,
                hao: None,
                rh2: None,
                tunnelled: false,
                next_header: 58,
                payload: &req,
            },
        )
        .unwrap();
        let out = drain(&mut ha);
        let Output::Transmit(t) = out[0].0 else {
            panic!()
        };
        assert_eq!((t.src, t.dst, t.next_header), (a(HA), a(COA), 58));
        let r = MipIcmpRepr::parse(&out[0].1, &a(HA), &a(COA)).unwrap();
        let MipIcmpRepr::DhaadReply {
            identifier,
            addresses,
            ..
        } = r
        else {
            panic!()
        };
        assert_eq!(identifier, 77);
        assert_eq!(
            addresses.iter().collect::<Vec<_>>(),
            vec![a("2001:db8:1::2"), a(HA), a("2001:db8:1::3")]
        );
        // Mobile router support asked: only agents that serve mobile routers.
        let req = icmp(
            &MipIcmpRepr::DhaadRequest {
                identifier: 78,
                r: true,
            },
            a(COA),
            anycast,
        );
        ha.handle_datagram(
            S,
            &RxDatagram {
                src: a(COA),
                dst: anycast,
                hao: None,
                rh2: None,
                tunnelled: false,
                next_header: 58,
                payload: &req,
            },
        )
        .unwrap();
        let out = drain(&mut ha);
        let MipIcmpRepr::DhaadReply { addresses, .. } =
            MipIcmpRepr::parse(&out[0].1, &a(HA), &a(COA)).unwrap()
        else {
            panic!()
        };
        assert_eq!(
            addresses.iter().collect::<Vec<_>>(),
            vec![a("2001:db8:1::3")]
        );
    }

    #[test]
    fn mobile_prefix_solicitation_needs_a_binding() {
        let mut ha = ha_with(|c| c.dad = false);
        let mps = icmp(
            &MipIcmpRepr::MobilePrefixSolicitation { identifier: 9 },
            a(HOA),
            a(HA),
        );
        let rx = RxDatagram {
            src: a(COA),
            dst: a(HA),
            hao: Some(a(HOA)),
            rh2: None,
            tunnelled: false,
            next_header: 58,
            payload: &mps,
        };
        assert_eq!(ha.handle_datagram(S, &rx), Err(Dropped::NoBinding));
        send_bu(&mut ha, S, 1, HA_FLAGS, 10, &[]).unwrap();
        drain(&mut ha);
        ha.handle_datagram(2 * S, &rx).unwrap();
        let out = drain(&mut ha);
        let Output::Transmit(t) = out[0].0 else {
            panic!()
        };
        assert_eq!((t.dst, t.ext), (a(COA), TxExt::Type2Routing(a(HOA))));
        let r = MipIcmpRepr::parse(&out[0].1, &a(HA), &a(HOA)).unwrap();
        let MipIcmpRepr::MobilePrefixAdvertisement {
            identifier,
            prefixes,
            ..
        } = r
        else {
            panic!()
        };
        assert_eq!(identifier, 9);
        assert_eq!(
            prefixes
                .iter()
                .map(|p| (p.prefix, p.prefix_len))
                .collect::<Vec<_>>(),
            vec![(a("2001:db8:1::"), 64)]
        );
        // A prefix change is advertised unsolicited.
        ha.set_home_prefixes(
            3 * S,
            alloc::vec![HomePrefix {
                prefix: a("2001:db8:1::"),
                len: 64,
                valid_until: Some(100 * S)
            }],
        );
        let out = drain(&mut ha);
        let r = MipIcmpRepr::parse(&out[0].1, &a(HA), &a(HOA)).unwrap();
        let MipIcmpRepr::MobilePrefixAdvertisement { prefixes, .. } = r else {
            panic!()
        };
        assert_eq!(prefixes.iter().next().unwrap().valid_lifetime, 97);
    }
}
