//! The mobile node (and mobile router): the binding update list, home
//! registration, return routability and route optimisation with
//! correspondents (RFC 6275 §11, RFC 3963), driven by SHISA's two-layer
//! machine ([`crate::bul_fsm`]).
//!
//! ```
//! use core::time::Duration;
//! use mip6_proto::mn::{MnConfig, MobileNode};
//! use rand_chacha::ChaCha20Rng;
//! use rand_core::SeedableRng;
//!
//! let cfg = MnConfig::new("2001:db8:1::100".parse().unwrap(), 64, Some("2001:db8:1::1".parse().unwrap()));
//! let mn = MobileNode::new(cfg, ChaCha20Rng::seed_from_u64(1), Duration::ZERO).unwrap();
//! assert_eq!(mn.bul().count(), 1); // the home registration entry, IDLE
//! ```
//!
//! The executor runs the actions of [`crate::bul_fsm::primary`] and
//! [`crate::bul_fsm::secondary`] in table order. Where RFC 6275 and SHISA
//! differ, `shisa-fsm.md` §6 decides: a Binding Acknowledgement with a
//! status of 128 or more is a rejection (no forwarding state; a home
//! registration tries the next home agent); the granted lifetime shortens
//! the entry's; expired-nonce statuses restart return routability; an
//! unauthenticated status 135 from a correspondent is ignored; the first
//! registration timeout is configurable (default 1.5 s); at most
//! MAX_UPDATE_RATE Binding Updates per second go to one peer; DHAAD is
//! retransmitted at most DHAAD_RETRIES times per attempt.
#![deny(clippy::arithmetic_side_effects)]

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::net::Ipv6Addr;
use core::time::Duration;

use crate::crypto::{self, Kbm};
use crate::wire::icmpv6::MipIcmpRepr;
use crate::wire::mh::{BaStatus, BeStatus, BuFlags, Message, MhPacket, MhRepr};
use crate::wire::options::{MobilityOption, OptionType, Options};
use rand_core::CryptoRng;

use crate::bul_fsm::{
    self, Act, Guards, Next, PrimaryEvent, PrimaryState, RetransKind, RrEvent, RrState,
};
use crate::event::{Clock, FwdEvent, OutQueue, Output, RxDatagram, TxExt, in_prefix};
use crate::movement::Movement;
use crate::timer::TimerHeap;

/// InitialBindackTimeoutFirstReg (RFC 6275 §13): 1.5 s.
pub const INITIAL_BINDACK_TIMEOUT_FIRST_REG: Duration = Duration::from_millis(1500);
/// INITIAL_BINDACK_TIMEOUT (RFC 6275 §12): 1 s.
pub const INITIAL_BINDACK_TIMEOUT: Duration = Duration::from_secs(1);
/// MAX_BINDACK_TIMEOUT (RFC 6275 §12): 32 s.
pub const MAX_BINDACK_TIMEOUT: Duration = Duration::from_secs(32);
/// MAX_UPDATE_RATE (RFC 6275 §12): 3 Binding Updates per second per peer.
pub const MAX_UPDATE_RATE: usize = 3;
/// INITIAL_DHAAD_TIMEOUT (RFC 6275 §12): 3 s.
pub const INITIAL_DHAAD_TIMEOUT: Duration = Duration::from_secs(3);
/// DHAAD_RETRIES (RFC 6275 §12): 4.
pub const DHAAD_RETRIES: u8 = 4;
/// MAX_TOKEN_LIFETIME (RFC 6275 §12): 210 s.
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(210);

/// Configuration of a [`MobileNode`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MnConfig {
    /// The home address.
    pub home: Ipv6Addr,
    /// The home prefix length.
    pub home_prefix_len: u8,
    /// The home agent, if known (else DHAAD finds one).
    pub home_agent: Option<Ipv6Addr>,
    /// Lifetime asked for in home registrations (SHISA's default: 40 s).
    pub home_lifetime: Duration,
    /// Lifetime asked for in correspondent registrations.
    pub correspondent_lifetime: Duration,
    /// InitialBindackTimeoutFirstReg.
    pub first_reg_timeout: Duration,
    /// Ask correspondents for Binding Acknowledgements (A flag).
    pub correspondent_ack: bool,
    /// Run route optimisation with correspondents.
    pub route_optimisation: bool,
    /// Most binding update list entries.
    pub max_entries: usize,
    /// Act as a mobile router (R flag) with these mobile network prefixes
    /// (explicit mode), or none (implicit mode).
    pub mobile_router: Option<Vec<(Ipv6Addr, u8)>>,
    /// Register several care-of addresses at once with Binding Identifiers
    /// (RFC 5648). Needs `home_agent`.
    pub mcoa: Option<McoaConfig>,
    /// Authenticate home registrations with the MN-HA Mobility Message
    /// Authentication option (RFC 4285) instead of relying on IPsec.
    pub auth: Option<MnAuthConfig>,
}

/// Multiple care-of addresses (RFC 5648) at the mobile node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct McoaConfig {
    /// Most BIDs (interfaces or care-of addresses) tracked.
    pub max_bids: usize,
    /// Use bulk registration (several BIDs in one Binding Update) when
    /// several bindings change together.
    pub bulk: bool,
    /// BID-PRI, the local preference of each BID (lower is preferred;
    /// unlisted BIDs get 128). It orders the Binding Identifier options of a
    /// bulk registration and picks the care-of address kept when the home
    /// agent refuses multiple bindings. RFC 5648 puts no priority on the
    /// wire.
    pub priorities: Vec<(u16, u8)>,
}

impl Default for McoaConfig {
    /// 8 BIDs, bulk registration, no priorities.
    fn default() -> Self {
        Self {
            max_bids: 8,
            bulk: true,
            priorities: Vec::new(),
        }
    }
}

/// The mobile node's side of an RFC 4285 mobility security association
/// with its home agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MnAuthConfig {
    /// The Mobility SPI (0-255 are reserved).
    pub spi: u32,
    /// The MN-HA shared key (RFC 4285 §5.1: 16 octets).
    pub key: Vec<u8>,
    /// A Network Access Identifier sent in a Mobile Node Identifier option
    /// (RFC 4283, subtype 1) before the authentication option.
    pub nai: Option<Vec<u8>>,
    /// Send the Mobility Message Replay Protection option (RFC 4285 §6).
    pub timestamps: bool,
    /// The time of day at the driver's epoch counted from 1900, the clock
    /// of the timestamps (`time_of_day_at_epoch + now`).
    pub time_of_day_at_epoch: Duration,
}

impl MnConfig {
    /// A mobile node with home address `home/len` and home agent `ha`
    /// (`None`: discover it).
    pub fn new(home: Ipv6Addr, home_prefix_len: u8, ha: Option<Ipv6Addr>) -> Self {
        Self {
            home,
            home_prefix_len,
            home_agent: ha,
            home_lifetime: Duration::from_secs(40),
            correspondent_lifetime: Duration::from_secs(40),
            first_reg_timeout: INITIAL_BINDACK_TIMEOUT_FIRST_REG,
            correspondent_ack: false,
            route_optimisation: true,
            max_entries: 64,
            mobile_router: None,
            mcoa: None,
            auth: None,
        }
    }
}

/// A configuration the mobile node cannot run with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// The home prefix length is above 128, or the home address is not unicast.
    Home,
    /// A lifetime is zero or above 262 140 s (the 16-bit field in 4 s units).
    Lifetime,
    /// `max_entries` is zero.
    NoEntries,
    /// Multiple care-of addresses without a configured home agent, or with
    /// `max_bids` zero.
    Mcoa,
    /// RFC 4285: a reserved SPI (below 256) or an empty key.
    Auth,
}

/// Why an input changed nothing but counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Dropped {
    /// The message does not parse.
    Malformed(crate::wire::Error),
    /// Its checksum is wrong.
    BadChecksum,
    /// No binding update list entry matches.
    NoEntry,
    /// A Home Test or Care-of Test whose cookie does not match.
    CookieMismatch,
    /// A message that must not carry a Home Address option or routing
    /// header did, or a BA for a node away from home came without a type 2
    /// routing header.
    BadHeaders,
    /// A BA whose sequence number is not the last one sent.
    StaleSequence,
    /// A BA from a correspondent without a valid authenticator.
    BadAuthenticator,
    /// Not a message a mobile node takes.
    NotForMobileNode,
    /// The binding update list is full.
    TableFull,
    /// The event does not apply in the entry's state.
    Ignored,
    /// RFC 4285: a Binding Acknowledgement from the home agent whose MN-HA
    /// authentication option is missing, names another SPI or does not
    /// verify (silently discarded).
    AuthFailed,
    /// RFC 4285 §6: a Binding Acknowledgement whose timestamp is not the
    /// one sent (silently discarded).
    TimestampMismatch,
}

/// Counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MnStats {
    /// Binding Updates sent.
    pub bu_sent: u64,
    /// Binding Updates held back by MAX_UPDATE_RATE.
    pub bu_rate_limited: u64,
    /// Binding Acknowledgements accepted.
    pub ba_accepted: u64,
    /// Binding Acknowledgements with a rejection status.
    pub ba_rejected: u64,
    /// Home Test Init / Care-of Test Init sent.
    pub test_init_sent: u64,
    /// DHAAD requests sent.
    pub dhaad_sent: u64,
    /// Mobile Prefix Solicitations sent.
    pub mps_sent: u64,
    /// Inputs dropped.
    pub dropped: u64,
    /// Calls with a time older than the latest one (clamped).
    pub time_went_back: u64,
    /// Binding Identifier registrations refused by the home agent.
    pub bid_rejected: u64,
    /// Attachments ignored because `mcoa.max_bids` BIDs are tracked.
    pub bid_table_full: u64,
    /// RFC 5648 fall-backs to a single binding (166 or a home agent
    /// without MCoA support).
    pub mcoa_fallbacks: u64,
    /// RFC 4285: timestamp adjustments after 144 MIPV6-ID-MISMATCH.
    pub timestamp_adjusted: u64,
}

/// The state of one Binding Identifier's binding with the home agent
/// (RFC 5648).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BidState {
    /// A Binding Update for it is waiting for its acknowledgement.
    Registering,
    /// Registered.
    Bound,
    /// A deregistration is waiting for its acknowledgement.
    Deregistering,
    /// The home agent refused it with this status; not retried until the
    /// interface attaches again.
    Refused(BaStatus),
}

/// A read-only view of one Binding Identifier (RFC 5648).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BidView {
    /// The Binding Identifier.
    pub bid: u16,
    /// Its BID-PRI (lower is preferred).
    pub priority: u8,
    /// Its care-of address (the home address on the home link).
    pub care_of: Ipv6Addr,
    /// The state of its binding.
    pub state: BidState,
    /// The interface is on the home link (home binding, H flag).
    pub home_link: bool,
    /// RFC 5648 §5.6.3: the home agent answered 5 MCOA RETURNHOME WO/NDP:
    /// the node must not run Neighbor Discovery for its home address.
    pub ndp_prohibited: bool,
    /// Sequence number of its last Binding Update.
    pub seq: u16,
}

/// Whether multiple care-of addresses are in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum McoaMode {
    /// No attachment with a BID yet.
    Unused,
    /// Bindings are registered per BID.
    Active,
    /// The home agent refused them: one binding, the preferred care-of
    /// address, through the ordinary home registration.
    Single,
}

#[derive(Debug, Clone)]
struct Bid {
    care_of: Ipv6Addr,
    priority: u8,
    state: BidState,
    home_link: bool,
    /// The interface has the address.
    attached: bool,
    seq: u16,
    /// Put the care-of address in the next BID option.
    send_coa: bool,
    ndp_prohibited: bool,
    retrans_interval: Duration,
    retrans_timer: u64,
    expire_timer: u64,
    /// Refresh interval (4 s units) from the last BA.
    refresh: u16,
    bound: bool,
}

/// RFC 4285 state.
#[derive(Debug, Clone, Default)]
struct AuthState {
    /// The last timestamp sent.
    last_ts: u64,
    /// Correction of our timestamps learnt from 144 (NTP fixed point).
    adjust: i64,
    /// The last Binding Updates: sequence number, IPv6 source (the care-of
    /// address authenticated) and timestamp.
    sent: [Option<(u16, Ipv6Addr, Option<u64>)>; 8],
    next: usize,
    /// 146 MIPV6-AUTH-FAIL received: no more Binding Updates to the home
    /// agent (RFC 4285 §5.3).
    stopped: bool,
}

/// Where the mobile node is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Location {
    Home,
    Away(Ipv6Addr),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum TimerKind {
    Retrans,
    Expire,
    BidRetrans(u16),
    BidExpire(u16),
}

#[derive(Debug, Clone)]
struct Entry {
    home: bool,
    care_of: Ipv6Addr,
    state: PrimaryState,
    rr: RrState,
    seq: u16,
    /// Requested lifetime, 4 s units.
    lifetime: u16,
    /// Refresh interval from the last BA, 4 s units.
    refresh: u16,
    ack: bool,
    disabled: bool,
    retrans_interval: Duration,
    retrans_timer: u64,
    expire_timer: u64,
    expire_at: Option<Duration>,
    hot_cookie: [u8; 8],
    cot_cookie: [u8; 8],
    home_token: Option<(u16, [u8; 8], Duration)>,
    care_of_token: Option<(u16, [u8; 8], Duration)>,
    recent_bus: [Option<Duration>; MAX_UPDATE_RATE],
    retransmitted: bool,
    /// The granted lifetime of the last accepted BA (4 s units).
    granted: u16,
}

impl Entry {
    fn new(home: bool, care_of: Ipv6Addr, seq: u16, ack: bool) -> Self {
        Self {
            home,
            care_of,
            state: PrimaryState::Idle,
            rr: RrState::Start,
            seq,
            lifetime: 0,
            refresh: 0,
            ack,
            disabled: false,
            retrans_interval: INITIAL_BINDACK_TIMEOUT,
            retrans_timer: 0,
            expire_timer: 0,
            expire_at: None,
            hot_cookie: [0; 8],
            cot_cookie: [0; 8],
            home_token: None,
            care_of_token: None,
            recent_bus: [None; MAX_UPDATE_RATE],
            retransmitted: false,
            granted: 0,
        }
    }
}

/// A read-only view of one binding update list entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BulView {
    /// The home agent or correspondent.
    pub peer: Ipv6Addr,
    /// Whether it is the home registration.
    pub home_registration: bool,
    /// Primary state.
    pub state: PrimaryState,
    /// Secondary (return routability) state.
    pub rr: RrState,
    /// Care-of address.
    pub care_of: Ipv6Addr,
    /// Last sequence number sent.
    pub seq: u16,
    /// Whether route optimisation with the peer is disabled.
    pub disabled: bool,
}

#[derive(Debug, Clone)]
/// The result of the BA checks (BAPRE).
struct BaOk {
    lifetime: u16,
    refresh: u16,
}

/// The mobile node machine. See the [module docs](self).
pub struct MobileNode<R> {
    cfg: MnConfig,
    rng: R,
    /// Entries keyed by peer (`::` = the home registration before a home
    /// agent is known).
    bul: BTreeMap<Ipv6Addr, Entry>,
    home_peer: Ipv6Addr,
    ha_list: Vec<Ipv6Addr>,
    /// Home agents that refused or did not answer, with when.
    failed_has: Vec<(Ipv6Addr, Duration)>,
    location: Location,
    timers: TimerHeap<(Ipv6Addr, TimerKind)>,
    out: OutQueue,
    dhaad_id: u16,
    dhaad_tries: u8,
    no_ro: Vec<Ipv6Addr>,
    clock: Clock,
    stats: MnStats,
    /// The BA being processed (BAPRE input).
    ba_in: Option<BaIn>,
    /// Set by an action that stops the transition.
    abort: bool,
    /// RFC 5648 bindings by BID.
    bids: BTreeMap<u16, Bid>,
    mcoa_mode: McoaMode,
    /// Bulk registration allowed (cleared by 168).
    bulk_ok: bool,
    /// Set the O flag in the next registration (bootstrapping, 165).
    overwrite: bool,
    /// The sequence number of a plain deregistration of every binding.
    dereg_all_seq: Option<u16>,
    auth: Option<AuthState>,
}

#[derive(Debug, Clone, Copy)]
struct BaIn {
    status: BaStatus,
    seq: u16,
    lifetime: u16,
    refresh: Option<u16>,
    r_flag: bool,
    authentic: bool,
}

fn units(d: Duration) -> u16 {
    u16::try_from(d.as_secs() / 4).unwrap_or(u16::MAX)
}

fn secs4(u: u16) -> Duration {
    Duration::from_secs(u64::from(u).saturating_mul(4))
}

impl<R: CryptoRng> MobileNode<R> {
    /// A mobile node at home, with its home registration entry in IDLE.
    pub fn new(cfg: MnConfig, mut rng: R, now: Duration) -> Result<Self, ConfigError> {
        if cfg.home_prefix_len > 128 || cfg.home.is_unspecified() || cfg.home.is_multicast() {
            return Err(ConfigError::Home);
        }
        let max = Duration::from_secs(4 * u64::from(u16::MAX));
        for l in [cfg.home_lifetime, cfg.correspondent_lifetime] {
            if l < Duration::from_secs(4) || l > max {
                return Err(ConfigError::Lifetime);
            }
        }
        if cfg.max_entries == 0 {
            return Err(ConfigError::NoEntries);
        }
        if let Some(m) = &cfg.mcoa
            && (m.max_bids == 0 || cfg.home_agent.is_none())
        {
            return Err(ConfigError::Mcoa);
        }
        if let Some(a) = &cfg.auth
            && (a.spi < 256 || a.key.is_empty())
        {
            return Err(ConfigError::Auth);
        }
        let home_peer = cfg.home_agent.unwrap_or(Ipv6Addr::UNSPECIFIED);
        let seq = rng.next_u32() as u16;
        let mut bul = BTreeMap::new();
        bul.insert(home_peer, Entry::new(true, cfg.home, seq, true));
        let dhaad_id = rng.next_u32() as u16;
        let auth = cfg.auth.as_ref().map(|_| AuthState::default());
        Ok(Self {
            ha_list: cfg.home_agent.into_iter().collect(),
            cfg,
            rng,
            bul,
            home_peer,
            failed_has: Vec::new(),
            location: Location::Home,
            timers: TimerHeap::new(),
            out: OutQueue::default(),
            dhaad_id,
            dhaad_tries: 0,
            no_ro: Vec::new(),
            clock: Clock::new(now),
            stats: MnStats::default(),
            ba_in: None,
            abort: false,
            bids: BTreeMap::new(),
            mcoa_mode: McoaMode::Unused,
            bulk_ok: true,
            overwrite: true,
            dereg_all_seq: None,
            auth,
        })
    }

    /// Counters.
    pub fn stats(&self) -> MnStats {
        let mut s = self.stats;
        s.time_went_back = self.clock.went_back;
        s
    }

    /// The binding update list.
    pub fn bul(&self) -> impl Iterator<Item = BulView> + '_ {
        self.bul.iter().map(|(peer, e)| BulView {
            peer: *peer,
            home_registration: e.home,
            state: e.state,
            rr: e.rr,
            care_of: e.care_of,
            seq: e.seq,
            disabled: e.disabled,
        })
    }

    /// The entry for `peer`.
    pub fn entry(&self, peer: Ipv6Addr) -> Option<BulView> {
        self.bul().find(|v| v.peer == peer)
    }

    /// The home registration's entry.
    pub fn home_entry(&self) -> Option<BulView> {
        self.entry(self.home_peer)
    }

    fn drop(&mut self, why: Dropped) -> Result<(), Dropped> {
        self.stats.dropped = self.stats.dropped.saturating_add(1);
        Err(why)
    }

    fn care_of(&self) -> Ipv6Addr {
        match self.location {
            Location::Home => self.cfg.home,
            Location::Away(c) => c,
        }
    }

    /// A movement from the detector (babymdd or another
    /// [`crate::movement::MovementDetector`]).
    pub fn handle_movement(&mut self, now: Duration, m: Movement) {
        let now = self.clock.advance(now);
        match m {
            Movement::Moved { home, care_of, .. } if home == self.cfg.home => {
                if in_prefix(care_of, self.cfg.home, self.cfg.home_prefix_len) {
                    return;
                }
                self.location = Location::Away(care_of);
                let peers: Vec<Ipv6Addr> = self.bul.keys().copied().collect();
                for p in &peers {
                    if let Some(e) = self.bul.get_mut(p) {
                        e.care_of = care_of;
                    }
                }
                // The home entry first, then the correspondents.
                let hp = self.home_peer;
                self.fire(now, hp, PrimaryEvent::Movement);
                for p in peers.into_iter().filter(|p| *p != hp) {
                    self.fire(now, p, PrimaryEvent::Movement);
                }
            }
            Movement::ReturnedHome { home, .. } if home == self.cfg.home => {
                if self.location == Location::Home {
                    return;
                }
                self.location = Location::Home;
                let peers: Vec<Ipv6Addr> = self.bul.keys().copied().collect();
                for p in &peers {
                    if let Some(e) = self.bul.get_mut(p) {
                        e.care_of = self.cfg.home;
                        e.lifetime = 0;
                    }
                }
                let hp = self.home_peer;
                self.fire(now, hp, PrimaryEvent::ReturningHome);
                for p in peers.into_iter().filter(|p| *p != hp) {
                    self.fire(now, p, PrimaryEvent::ReturningHome);
                }
            }
            _ => {}
        }
    }

    /// The forwarding plane saw a packet from `peer` tunnelled by the home
    /// agent (MIPSOCK RR_HINT): start route optimisation with it.
    pub fn handle_reverse_packet(&mut self, now: Duration, peer: Ipv6Addr) -> Result<(), Dropped> {
        let now = self.clock.advance(now);
        let Location::Away(care_of) = self.location else {
            return self.drop(Dropped::Ignored);
        };
        let home_bound = self
            .bul
            .get(&self.home_peer)
            .is_some_and(|e| e.state == PrimaryState::Bound);
        if !self.cfg.route_optimisation
            || !home_bound
            || peer.is_unicast_link_local()
            || peer.is_multicast()
            || self.no_ro.contains(&peer)
            || peer == self.home_peer
        {
            return self.drop(Dropped::Ignored);
        }
        if !self.bul.contains_key(&peer) {
            if self.bul.len() >= self.cfg.max_entries {
                return self.drop(Dropped::TableFull);
            }
            let seq = self.rng.next_u32() as u16;
            self.bul.insert(
                peer,
                Entry::new(false, care_of, seq, self.cfg.correspondent_ack),
            );
        }
        self.fire(now, peer, PrimaryEvent::ReversePacket);
        Ok(())
    }

    /// An ICMPv6 Parameter Problem (code 1) or Destination Unreachable from
    /// `peer` answered one of our mobility messages: the peer does not
    /// support Mobile IPv6; traffic with it stays on the tunnel.
    pub fn handle_icmp_error(&mut self, now: Duration, peer: Ipv6Addr) {
        let now = self.clock.advance(now);
        if self.bul.contains_key(&peer) && peer != self.home_peer {
            self.fire(now, peer, PrimaryEvent::IcmpErr);
        }
    }

    /// A Mobility Header (135) or ICMPv6 message (58) arrived.
    pub fn handle_datagram(&mut self, now: Duration, rx: &RxDatagram<'_>) -> Result<(), Dropped> {
        let now = self.clock.advance(now);
        match rx.next_header {
            135 => self.handle_mh(now, rx),
            58 => self.handle_icmp(now, rx),
            _ => self.drop(Dropped::NotForMobileNode),
        }
    }

    fn handle_icmp(&mut self, now: Duration, rx: &RxDatagram<'_>) -> Result<(), Dropped> {
        let ck_dst = rx.rh2.unwrap_or(rx.dst);
        let msg = match MipIcmpRepr::parse(rx.payload, &rx.src, &ck_dst) {
            Ok(m) => m,
            Err(crate::wire::Error::BadChecksum) => return self.drop(Dropped::BadChecksum),
            Err(e) => return self.drop(Dropped::Malformed(e)),
        };
        match msg {
            MipIcmpRepr::DhaadReply {
                identifier,
                addresses,
                ..
            } => {
                if identifier != self.dhaad_id {
                    return self.drop(Dropped::NoEntry);
                }
                self.ha_list = addresses.iter().filter(|a| !a.is_unspecified()).collect();
                self.dhaad_id = self.rng.next_u32() as u16;
                let peer = self.home_peer;
                if self
                    .bul
                    .get(&peer)
                    .is_some_and(|e| e.state == PrimaryState::Dhaad)
                {
                    self.fire(now, peer, PrimaryEvent::DhaadReply);
                }
                Ok(())
            }
            MipIcmpRepr::MobilePrefixAdvertisement { .. } => Ok(()),
            _ => self.drop(Dropped::NotForMobileNode),
        }
    }

    fn handle_mh(&mut self, now: Duration, rx: &RxDatagram<'_>) -> Result<(), Dropped> {
        let pkt = match MhPacket::new_checked(rx.payload) {
            Ok(p) => p,
            Err(e) => return self.drop(Dropped::Malformed(e)),
        };
        // The final destination is the home address behind a type 2
        // routing header.
        let dst = rx.rh2.unwrap_or(rx.dst);
        let repr = match MhRepr::parse(&pkt, &rx.src, &dst) {
            Ok(r) => r,
            Err(crate::wire::Error::BadChecksum) => return self.drop(Dropped::BadChecksum),
            Err(e) => return self.drop(Dropped::Malformed(e)),
        };
        match repr.message {
            Message::HomeTest {
                nonce_index,
                cookie,
                token,
            } => {
                if rx.hao.is_some() || rx.rh2.is_some() {
                    return self.drop(Dropped::BadHeaders);
                }
                let Some(e) = self.bul.get_mut(&rx.src) else {
                    return self.drop(Dropped::NoEntry);
                };
                if e.hot_cookie != cookie || !matches!(e.rr, RrState::WaitHc | RrState::WaitH) {
                    return self.drop(Dropped::CookieMismatch);
                }
                e.home_token = Some((nonce_index, token, now));
                self.fire_rr(now, rx.src, RrEvent::Hot);
                Ok(())
            }
            Message::CareOfTest {
                nonce_index,
                cookie,
                token,
            } => {
                if rx.hao.is_some() || rx.rh2.is_some() {
                    return self.drop(Dropped::BadHeaders);
                }
                let Some(e) = self.bul.get_mut(&rx.src) else {
                    return self.drop(Dropped::NoEntry);
                };
                if e.cot_cookie != cookie || !matches!(e.rr, RrState::WaitHc | RrState::WaitC) {
                    return self.drop(Dropped::CookieMismatch);
                }
                e.care_of_token = Some((nonce_index, token, now));
                self.fire_rr(now, rx.src, RrEvent::Cot);
                Ok(())
            }
            Message::BindingAck {
                status,
                flags,
                sequence,
                lifetime,
            } => {
                if matches!(self.location, Location::Away(_)) && rx.rh2.is_none() {
                    return self.drop(Dropped::BadHeaders);
                }
                let Some(e) = self.bul.get(&rx.src) else {
                    return self.drop(Dropped::NoEntry);
                };
                let authentic = if e.home {
                    true // home registrations rely on IPsec (or RFC 4285) below us
                } else {
                    match self.kbm_of(rx.src) {
                        Some(k) => {
                            let len = pkt.total_len();
                            repr.options
                                .find(OptionType::BINDING_AUTHORIZATION_DATA)
                                .is_some()
                                && crypto::verify_mh(
                                    rx.payload.get(..len).unwrap_or(&[]),
                                    &k,
                                    &e.care_of,
                                    &rx.src,
                                )
                        }
                        None => false,
                    }
                };
                let refresh = match repr.options.find(OptionType::BINDING_REFRESH_ADVICE) {
                    Some(MobilityOption::BindingRefreshAdvice { refresh_interval }) => {
                        Some(refresh_interval)
                    }
                    _ => None,
                };
                self.ba_in = Some(BaIn {
                    status,
                    seq: sequence,
                    lifetime,
                    refresh,
                    r_flag: flags.contains(crate::wire::mh::BaFlags::R),
                    authentic,
                });
                self.fire(now, rx.src, PrimaryEvent::Back);
                let handled = self.ba_in.take().is_none();
                if handled {
                    Ok(())
                } else {
                    self.drop(Dropped::Ignored)
                }
            }
            Message::BindingRefreshRequest => {
                if !self.bul.contains_key(&rx.src) {
                    return self.drop(Dropped::NoEntry);
                }
                self.fire(now, rx.src, PrimaryEvent::Brr);
                Ok(())
            }
            Message::BindingError { status, .. } => {
                if !self.bul.contains_key(&rx.src) {
                    return self.drop(Dropped::NoEntry);
                }
                let ev = if status == BeStatus::UNKNOWN_BINDING_FOR_HAO {
                    PrimaryEvent::UnknownHao
                } else if status == BeStatus::UNRECOGNIZED_MH_TYPE {
                    PrimaryEvent::UnknownMh
                } else {
                    return self.drop(Dropped::Ignored);
                };
                self.fire(now, rx.src, ev);
                Ok(())
            }
            _ => self.drop(Dropped::NotForMobileNode),
        }
    }

    fn kbm_of(&self, peer: Ipv6Addr) -> Option<Kbm> {
        let e = self.bul.get(&peer)?;
        let (_, ht, _) = e.home_token?;
        let dereg = e.lifetime == 0 || e.care_of == self.cfg.home;
        if dereg {
            Some(crypto::kbm(&ht, None))
        } else {
            let (_, ct, _) = e.care_of_token?;
            Some(crypto::kbm(&ht, Some(&ct)))
        }
    }

    fn guards(&self, peer: Ipv6Addr) -> Guards {
        let e = self.bul.get(&peer);
        Guards {
            home: e.is_some_and(|e| e.home),
            ack: e.is_some_and(|e| e.ack),
            ha_known: !self.home_peer.is_unspecified(),
        }
    }

    /// Gives `ev` to the primary machine of `peer`'s entry.
    fn fire(&mut self, now: Duration, peer: Ipv6Addr, ev: PrimaryEvent) {
        let Some(state) = self.bul.get(&peer).map(|e| e.state) else {
            return;
        };
        let Some(t) = bul_fsm::primary(state, ev, self.guards(peer)) else {
            return;
        };
        self.abort = false;
        let mut peer = peer;
        for act in t.acts {
            self.act(now, peer, *act);
            if *act == Act::PickHa && !self.abort {
                // The home entry is now keyed by the chosen agent.
                peer = self.home_peer;
            }
            if self.abort || !self.bul.contains_key(&peer) {
                break;
            }
        }
        if self.abort {
            self.abort = false;
            return;
        }
        if let Next::To(s) = t.next
            && let Some(e) = self.bul.get_mut(&peer)
        {
            e.state = s;
        }
        // Notifications to correspondent entries come after the state change.
        if t.acts.contains(&Act::NotifyRegistered) {
            self.notify(now, PrimaryEvent::Registered);
        }
        if t.acts.contains(&Act::NotifyDeregistered) {
            self.notify(now, PrimaryEvent::Deregistered);
        }
        self.purge_timers();
    }

    fn notify(&mut self, now: Duration, ev: PrimaryEvent) {
        let cs: Vec<Ipv6Addr> = self
            .bul
            .iter()
            .filter(|(_, e)| !e.home)
            .map(|(p, _)| *p)
            .collect();
        for p in cs {
            self.fire(now, p, ev);
        }
    }

    /// Gives `ev` to the secondary machine of `peer`'s entry.
    fn fire_rr(&mut self, now: Duration, peer: Ipv6Addr, ev: RrEvent) {
        let Some(e) = self.bul.get(&peer) else { return };
        // Guard: a disabled peer or one in the no-RO list only stops.
        let ev = if e.disabled || self.no_ro.contains(&peer) {
            RrEvent::StopRr
        } else {
            ev
        };
        let Some(t) = bul_fsm::secondary(e.rr, ev) else {
            return;
        };
        let mut done = false;
        for act in t.acts {
            if *act == Act::RrDone {
                done = true;
                continue;
            }
            self.act(now, peer, *act);
        }
        if let Next::To(s) = t.next
            && let Some(e) = self.bul.get_mut(&peer)
        {
            e.rr = s;
        }
        // [SPEC] reset to START first, then RR_DONE to the primary.
        if done {
            self.fire(now, peer, PrimaryEvent::RrDone);
        }
        self.purge_timers();
    }

    fn arm(&mut self, peer: Ipv6Addr, kind: TimerKind, at: Duration) {
        let g = self.timers.arm(at, (peer, kind));
        if let Some(e) = self.bul.get_mut(&peer) {
            match kind {
                TimerKind::Retrans => e.retrans_timer = g,
                TimerKind::Expire => {
                    e.expire_timer = g;
                    e.expire_at = Some(at);
                }
            }
        }
    }

    #[allow(clippy::too_many_lines)]
    fn act(&mut self, now: Duration, peer: Ipv6Addr, act: Act) {
        match act {
            Act::LifetimeDefault => {
                let l = if self.bul.get(&peer).is_some_and(|e| e.home) {
                    units(self.cfg.home_lifetime)
                } else {
                    units(self.cfg.correspondent_lifetime)
                };
                if let Some(e) = self.bul.get_mut(&peer) {
                    e.lifetime = l;
                }
            }
            Act::SendBu => self.send_bu(now, peer, false),
            Act::SendDeregBu => self.send_bu(now, peer, true),
            Act::Retrans(kind) => {
                let d = match kind {
                    RetransKind::FirstReg => self.cfg.first_reg_timeout,
                    RetransKind::Initial => INITIAL_BINDACK_TIMEOUT,
                    RetransKind::Refresh => {
                        let r = self.bul.get(&peer).map_or(0, |e| e.refresh);
                        if r == 0 {
                            return;
                        }
                        secs4(r)
                    }
                };
                if let Some(e) = self.bul.get_mut(&peer) {
                    e.retrans_interval = d;
                    e.retransmitted = false;
                }
                self.arm(peer, TimerKind::Retrans, now.saturating_add(d));
            }
            Act::Backoff => {
                let d = self
                    .bul
                    .get(&peer)
                    .map_or(INITIAL_BINDACK_TIMEOUT, |e| e.retrans_interval);
                let d = d.saturating_mul(2).min(MAX_BINDACK_TIMEOUT);
                if let Some(e) = self.bul.get_mut(&peer) {
                    e.retrans_interval = d;
                    e.retransmitted = true;
                }
                self.arm(peer, TimerKind::Retrans, now.saturating_add(d));
            }
            Act::ArmExpire => {
                let l = self.bul.get(&peer).map_or(0, |e| e.lifetime);
                if l > 0 {
                    self.arm(peer, TimerKind::Expire, now.saturating_add(secs4(l)));
                }
            }
            Act::StopRetrans => {
                if let Some(e) = self.bul.get_mut(&peer) {
                    e.retrans_timer = 0;
                }
            }
            Act::StopTimers => {
                if let Some(e) = self.bul.get_mut(&peer) {
                    e.retrans_timer = 0;
                    e.expire_timer = 0;
                    e.expire_at = None;
                }
            }
            Act::KernelAdd => self.kernel_add(peer),
            Act::KernelDel => {
                self.out.fwd(FwdEvent::BulRemoved {
                    home: self.cfg.home,
                    peer,
                });
            }
            Act::Register => {
                self.kernel_add(peer);
                let (refresh, granted) = self
                    .bul
                    .get(&peer)
                    .map_or((0, 0), |e| (e.refresh, e.granted));
                if refresh > 0 {
                    self.arm(peer, TimerKind::Retrans, now.saturating_add(secs4(refresh)));
                } else if let Some(e) = self.bul.get_mut(&peer) {
                    e.retrans_timer = 0;
                }
                if granted > 0 {
                    self.arm(peer, TimerKind::Expire, now.saturating_add(secs4(granted)));
                }
            }
            Act::Disable => {
                if let Some(e) = self.bul.get_mut(&peer) {
                    e.disabled = true;
                }
                if !self.no_ro.contains(&peer)
                    && self.no_ro.len() < self.cfg.max_entries.saturating_mul(4)
                {
                    self.no_ro.push(peer);
                }
            }
            Act::Free => {
                self.bul.remove(&peer);
            }
            Act::Rr(ev) => self.fire_rr(now, peer, ev),
            Act::TryHa => self.try_ha(now, peer),
            Act::Dereg => {}
            Act::BaPreprocess => {
                if let Err(()) = self.ba_preprocess(now, peer) {
                    self.abort = true;
                }
            }
            Act::NotifyRegistered | Act::NotifyDeregistered => {}
            Act::PickHa => {
                let Some(ha) = self.next_ha(now) else {
                    self.abort = true;
                    return;
                };
                self.set_home_peer(ha);
            }
            Act::DhaadRestart => {
                self.dhaad_tries = 0;
                if let Some(e) = self.bul.get_mut(&peer) {
                    e.retrans_interval = INITIAL_DHAAD_TIMEOUT;
                }
                self.send_dhaad(now);
                self.arm(
                    peer,
                    TimerKind::Retrans,
                    now.saturating_add(INITIAL_DHAAD_TIMEOUT),
                );
            }
            Act::SendDhaad => self.send_dhaad(now),
            Act::DhaadBackoff => {
                if self.dhaad_tries >= DHAAD_RETRIES {
                    // RFC 6275 §11.4.1: at most DHAAD_RETRIES retransmissions;
                    // the next attempt starts when the expire timer fires.
                    if let Some(e) = self.bul.get_mut(&peer) {
                        e.retrans_timer = 0;
                    }
                    return;
                }
                let d = self
                    .bul
                    .get(&peer)
                    .map_or(INITIAL_DHAAD_TIMEOUT, |e| e.retrans_interval);
                let d = d.saturating_mul(2);
                if let Some(e) = self.bul.get_mut(&peer) {
                    e.retrans_interval = d;
                }
                self.arm(peer, TimerKind::Retrans, now.saturating_add(d));
            }
            Act::SendHoti => self.send_test_init(now, peer, true),
            Act::SendCoti => self.send_test_init(now, peer, false),
            Act::StoreHot | Act::StoreCot | Act::RrDone => {}
        }
    }

    fn set_home_peer(&mut self, ha: Ipv6Addr) {
        let old = self.home_peer;
        if old == ha {
            return;
        }
        if let Some(mut e) = self.bul.remove(&old) {
            e.retrans_timer = 0;
            e.expire_timer = 0;
            self.bul.insert(ha, e);
        }
        self.home_peer = ha;
    }

    fn kernel_add(&mut self, peer: Ipv6Addr) {
        if let Some(e) = self.bul.get(&peer) {
            self.out.fwd(FwdEvent::BulAdded {
                home: self.cfg.home,
                peer,
                care_of: e.care_of,
                home_registration: e.home,
            });
        }
    }

    /// The best home agent that has not failed within the last home
    /// registration lifetime.
    fn next_ha(&self, now: Duration) -> Option<Ipv6Addr> {
        let window = self.cfg.home_lifetime;
        self.ha_list
            .iter()
            .find(|h| {
                !self
                    .failed_has
                    .iter()
                    .any(|(f, t)| f == *h && now.saturating_sub(*t) < window)
            })
            .copied()
    }

    /// TRYHA (`shisa-fsm.md` §1.2, with RFC 6275 §11.7.1's fail-over).
    fn try_ha(&mut self, now: Duration, peer: Ipv6Addr) {
        if !peer.is_unspecified() {
            self.failed_has.retain(|(f, _)| *f != peer);
            if self.failed_has.len() >= self.cfg.max_entries {
                self.failed_has.remove(0);
            }
            self.failed_has.push((peer, now));
        }
        let next = self.next_ha(now);
        match next {
            Some(ha) => {
                self.set_home_peer(ha);
                if let Some(e) = self.bul.get_mut(&ha) {
                    e.state = PrimaryState::WaitA;
                }
                self.send_bu(now, ha, false);
                self.act(now, ha, Act::Retrans(RetransKind::FirstReg));
                self.act(now, ha, Act::ArmExpire);
            }
            None => {
                // Every known agent failed recently: discover.
                if self.care_of() == self.cfg.home {
                    return;
                }
                let hp = self.home_peer;
                if let Some(e) = self.bul.get_mut(&hp) {
                    e.state = PrimaryState::Dhaad;
                    e.retrans_interval = INITIAL_DHAAD_TIMEOUT;
                }
                self.dhaad_tries = 0;
                self.send_dhaad(now);
                self.arm(
                    hp,
                    TimerKind::Retrans,
                    now.saturating_add(INITIAL_DHAAD_TIMEOUT),
                );
                self.act(now, hp, Act::ArmExpire);
            }
        }
    }

    fn send_dhaad(&mut self, now: Duration) {
        let _ = now;
        let Location::Away(care_of) = self.location else {
            return;
        };
        // RFC 6275 §10.5: the Mobile IPv6 Home-Agents anycast address of the
        // home prefix (interface identifier fdff:ffff:ffff:fffe for a /64).
        let mut o = self.cfg.home.octets();
        if let Some(iid) = o.get_mut(8..) {
            iid.copy_from_slice(&[0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe]);
        }
        let dst = Ipv6Addr::from(o);
        let r = self.cfg.mobile_router.is_some();
        let m = MipIcmpRepr::DhaadRequest {
            identifier: self.dhaad_id,
            r,
        };
        let mut bytes = alloc::vec![0u8; m.buffer_len()];
        if m.emit(&mut bytes, &care_of, &dst).is_ok() {
            self.dhaad_tries = self.dhaad_tries.saturating_add(1);
            self.stats.dhaad_sent = self.stats.dhaad_sent.saturating_add(1);
            self.out.msg(care_of, dst, TxExt::None, 58, bytes);
        }
    }

    fn send_test_init(&mut self, now: Duration, peer: Ipv6Addr, home: bool) {
        let mut cookie = [0u8; 8];
        self.rng.fill_bytes(&mut cookie);
        let care_of = self.care_of();
        let Some(e) = self.bul.get_mut(&peer) else {
            return;
        };
        let (msg, src) = if home {
            e.hot_cookie = cookie;
            (Message::HomeTestInit { cookie }, self.cfg.home)
        } else {
            e.cot_cookie = cookie;
            (Message::CareOfTestInit { cookie }, care_of)
        };
        let repr = MhRepr::new(msg);
        let mut bytes = alloc::vec![0u8; repr.buffer_len()];
        if repr
            .emit(&mut MhPacket::new_unchecked(&mut bytes[..]), &src, &peer)
            .is_ok()
        {
            // The HoTI leaves from the home address: the forwarding plane
            // reverse-tunnels it through the home agent.
            self.out.msg(src, peer, TxExt::None, 135, bytes);
            self.stats.test_init_sent = self.stats.test_init_sent.saturating_add(1);
        }
        let _ = now;
    }

    fn send_bu(&mut self, now: Duration, peer: Ipv6Addr, dereg: bool) {
        let home_addr = self.cfg.home;
        let at_home = self.location == Location::Home;
        let Some(e) = self.bul.get_mut(&peer) else {
            return;
        };
        // MAX_UPDATE_RATE per peer; a held-back BU goes out at the next
        // retransmission.
        if e.recent_bus
            .iter()
            .all(|t| t.is_some_and(|t| now.saturating_sub(t) < Duration::from_secs(1)))
        {
            self.stats.bu_rate_limited = self.stats.bu_rate_limited.saturating_add(1);
            return;
        }
        e.seq = e.seq.wrapping_add(1);
        if let Some(slot) = e
            .recent_bus
            .iter_mut()
            .min_by_key(|t| t.unwrap_or(Duration::ZERO))
        {
            *slot = Some(now);
        }
        let lifetime = if dereg || at_home { 0 } else { e.lifetime };
        let mut flags = BuFlags(0);
        if e.ack {
            flags = flags | BuFlags::A;
        }
        if e.home {
            flags = flags | BuFlags::H;
            if self.cfg.mobile_router.is_some() {
                flags = flags | BuFlags::R;
            }
        }
        let care_of = if at_home { home_addr } else { e.care_of };
        let (seq, is_home) = (e.seq, e.home);
        let mut opts: Vec<MobilityOption<'_>> = Vec::new();
        let zero = [0u8; 12];
        let mut kbm = None;
        if is_home {
            if !at_home {
                opts.push(MobilityOption::AlternateCareOfAddress(care_of));
            }
            if let Some(ps) = &self.cfg.mobile_router
                && lifetime > 0
            {
                for (p, l) in ps {
                    opts.push(MobilityOption::MobileNetworkPrefix {
                        prefix_len: *l,
                        prefix: *p,
                    });
                }
            }
        } else {
            let Some((hi, ht, _)) = e.home_token else {
                return;
            };
            let ci = e.care_of_token.map_or(0, |c| c.0);
            kbm = if lifetime == 0 {
                Some(crypto::kbm(&ht, None))
            } else {
                let Some((_, ct, _)) = e.care_of_token else {
                    return;
                };
                Some(crypto::kbm(&ht, Some(&ct)))
            };
            opts.push(MobilityOption::NonceIndices {
                home: hi,
                care_of: ci,
            });
            opts.push(MobilityOption::BindingAuthorizationData(&zero));
        }
        let repr = MhRepr {
            payload_proto: 59,
            message: Message::BindingUpdate {
                sequence: seq,
                flags,
                lifetime,
            },
            options: Options::List(&opts),
        };
        let mut bytes = alloc::vec![0u8; repr.buffer_len()];
        if repr
            .emit_unchecksummed(&mut MhPacket::new_unchecked(&mut bytes[..]))
            .is_err()
        {
            return;
        }
        if let Some(k) = kbm
            && !crypto::sign_mh(&mut bytes, &k, &care_of, &peer)
        {
            return;
        }
        MhPacket::new_unchecked(&mut bytes[..]).fill_checksum(&home_addr, &peer);
        let (src, ext) = if at_home {
            (home_addr, TxExt::None)
        } else {
            (care_of, TxExt::HomeAddress(home_addr))
        };
        self.out.msg(src, peer, ext, 135, bytes);
        self.stats.bu_sent = self.stats.bu_sent.saturating_add(1);
    }

    /// BAPRE (`shisa-fsm.md` §1.1 with the §6 decisions).
    fn ba_preprocess(&mut self, now: Duration, peer: Ipv6Addr) -> Result<(), ()> {
        let Some(ba) = self.ba_in else { return Err(()) };
        let Some(e) = self.bul.get(&peer) else {
            return Err(());
        };
        let (is_home, state) = (e.home, e.state);
        if ba.status == BaStatus::SEQUENCE_NUMBER_OUT_OF_WINDOW {
            // [RFC] 11.7.3: an unauthenticated 135 is ignored.
            if !ba.authentic {
                return Err(());
            }
            if let Some(e) = self.bul.get_mut(&peer) {
                e.seq = ba.seq;
            }
            let dereg = state == PrimaryState::WaitD;
            self.send_bu(now, peer, dereg);
            self.act(
                now,
                peer,
                Act::Retrans(if is_home {
                    RetransKind::FirstReg
                } else {
                    RetransKind::Initial
                }),
            );
            self.ba_in = None;
            return Err(());
        }
        if ba.seq != e.seq {
            return Err(());
        }
        if matches!(
            ba.status,
            BaStatus::EXPIRED_HOME_NONCE_INDEX
                | BaStatus::EXPIRED_CARE_OF_NONCE_INDEX
                | BaStatus::EXPIRED_NONCES
        ) && !is_home
        {
            // [SPEC] §6.5: restart return routability.
            self.ba_in = None;
            self.fire_rr(now, peer, RrEvent::StopRr);
            self.fire_rr(now, peer, RrEvent::StartRr);
            if let Some(e) = self.bul.get_mut(&peer) {
                e.state = match state {
                    PrimaryState::WaitD => PrimaryState::RrDel,
                    PrimaryState::WaitAr => PrimaryState::RrRedo,
                    _ => PrimaryState::RrInit,
                };
            }
            return Err(());
        }
        if !ba.authentic {
            return Err(());
        }
        // Status 133 in WAITD after a retransmission: the HA already
        // deleted the binding (the first BA was lost).
        let accepted = ba.status.0 < 128
            || (ba.status == BaStatus::NOT_HOME_AGENT_FOR_THIS_MN
                && state == PrimaryState::WaitD
                && e.retransmitted);
        self.ba_in = None;
        if !accepted {
            // [SPEC] §6.1: a rejection installs nothing.
            self.stats.ba_rejected = self.stats.ba_rejected.saturating_add(1);
            if is_home && state != PrimaryState::WaitD {
                if let Some(e) = self.bul.get_mut(&peer) {
                    e.retrans_timer = 0;
                }
                self.try_ha(now, peer);
            } else if !is_home {
                self.act(now, peer, Act::StopRetrans);
                self.act(now, peer, Act::Disable);
                if let Some(e) = self.bul.get_mut(&peer) {
                    e.state = PrimaryState::Idle;
                }
            }
            return Err(());
        }
        // NEMO: the BU had R but the BA does not → the agent cannot serve us.
        if is_home && self.cfg.mobile_router.is_some() && !ba.r_flag && state != PrimaryState::WaitD
        {
            self.stats.ba_rejected = self.stats.ba_rejected.saturating_add(1);
            self.try_ha(now, peer);
            return Err(());
        }
        self.stats.ba_accepted = self.stats.ba_accepted.saturating_add(1);
        let requested = e.lifetime;
        let granted = ba.lifetime.min(requested);
        // [SPEC] §6.2: the granted lifetime shortens the entry's.
        let refresh = if is_home {
            match ba.refresh {
                Some(r) if r > 0 && r <= granted => r,
                _ => granted / 2,
            }
        } else if self.cfg.correspondent_ack {
            // [SPEC] §6.3: refresh at 0.8 of the granted lifetime.
            u16::try_from(u32::from(granted) * 4 / 5).unwrap_or(granted)
        } else {
            0
        };
        let ok = BaOk {
            lifetime: granted,
            refresh,
        };
        if let Some(e) = self.bul.get_mut(&peer) {
            e.granted = ok.lifetime;
            e.refresh = ok.refresh;
        }
        if ba.status == BaStatus::ACCEPTED_PREFIX_DISCOVERY_NECESSARY && is_home {
            self.send_mps(peer);
        }
        Ok(())
    }

    fn send_mps(&mut self, ha: Ipv6Addr) {
        let Location::Away(care_of) = self.location else {
            return;
        };
        let m = MipIcmpRepr::MobilePrefixSolicitation {
            identifier: self.rng.next_u32() as u16,
        };
        let mut bytes = alloc::vec![0u8; m.buffer_len()];
        if m.emit(&mut bytes, &self.cfg.home, &ha).is_ok() {
            self.stats.mps_sent = self.stats.mps_sent.saturating_add(1);
            self.out
                .msg(care_of, ha, TxExt::HomeAddress(self.cfg.home), 58, bytes);
        }
    }

    fn purge_timers(&mut self) {
        let bul = &self.bul;
        let live = |k: &(Ipv6Addr, TimerKind), g: u64| {
            bul.get(&k.0).is_some_and(|e| match k.1 {
                TimerKind::Retrans => e.retrans_timer == g,
                TimerKind::Expire => e.expire_timer == g,
            })
        };
        self.timers.purge(live);
        self.timers.compact(live, bul.len().saturating_mul(2));
    }

    /// The earliest deadline (absolute).
    pub fn poll_timeout(&self) -> Option<Duration> {
        self.timers.next()
    }

    /// Fires the timers that are due. Spurious calls are no-ops.
    pub fn handle_timeout(&mut self, now: Duration) {
        let now = self.clock.advance(now);
        let mut due = Vec::new();
        {
            let bul = &self.bul;
            let live = |k: &(Ipv6Addr, TimerKind), g: u64| {
                bul.get(&k.0).is_some_and(|e| match k.1 {
                    TimerKind::Retrans => e.retrans_timer == g,
                    TimerKind::Expire => e.expire_timer == g,
                })
            };
            self.timers.expire(now, live, |k, g| due.push((k, g)));
        }
        for ((peer, kind), g) in due {
            // Still the armed timer? (An earlier one in this batch may have
            // re-armed or freed it.)
            let live = self.bul.get(&peer).is_some_and(|e| match kind {
                TimerKind::Retrans => e.retrans_timer == g,
                TimerKind::Expire => e.expire_timer == g,
            });
            if !live {
                continue;
            }
            if let Some(e) = self.bul.get_mut(&peer) {
                match kind {
                    TimerKind::Retrans => e.retrans_timer = 0,
                    TimerKind::Expire => {
                        e.expire_timer = 0;
                        e.expire_at = None;
                    }
                }
            }
            match kind {
                TimerKind::Retrans => {
                    let rr = self.bul.get(&peer).map(|e| e.rr);
                    if matches!(rr, Some(RrState::WaitHc | RrState::WaitH | RrState::WaitC)) {
                        self.fire_rr(now, peer, RrEvent::Retrans);
                    } else {
                        self.fire(now, peer, PrimaryEvent::Retrans);
                    }
                }
                TimerKind::Expire => self.fire(now, peer, PrimaryEvent::Expire),
            }
        }
        self.purge_timers();
    }

    /// The next output, in causal order. On [`Output::Transmit`] the message
    /// bytes are appended to `buf`.
    pub fn poll_output(&mut self, buf: &mut Vec<u8>) -> Option<Output> {
        self.out.poll(buf)
    }
}
