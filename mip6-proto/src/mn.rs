//! The mobile node (and mobile router): the binding update list, home
//! registration, return routability and route optimisation with
//! correspondents (RFC 6275 §11, RFC 3963), driven by SHISA's two-layer
//! machine ([`crate::bul_fsm`]); multiple care-of addresses with the home
//! agent (RFC 5648) and RFC 4285 authentication of home registrations.
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
//!
//! ## Multiple care-of addresses (RFC 5648)
//! With [`MnConfig::mcoa`] set, a [`Movement::Moved`] that carries a BID
//! (the interface's Binding Identifier) registers that interface's care-of
//! address as its own binding with the home agent, beside the others:
//! one Binding Identifier option per BID, the care-of address in it the
//! first time (and whenever it changes), the O flag on the first
//! registration (§5.9). [`MobileNode::handle_bulk_movement`] registers
//! several at once in one Binding Update (§5.3);
//! [`MobileNode::handle_bid_lost`] deregisters one BID only, from another
//! interface (§5.4); a care-of address on the home link registers a home
//! binding (H flag, §5.6.3) while the other interfaces stay away, and
//! [`Movement::ReturnedHome`] deregisters everything (§5.5.1). Each BID
//! has its own retransmissions, refresh and expiry; its state is in
//! [`MobileNode::bids`] and the forwarding plane hears
//! [`FwdEvent::McoaBulAdded`] / [`FwdEvent::McoaBulRemoved`].
//!
//! A BID's status is its option's Status, or the BA's when that is zero
//! (§5.7). Below 128 it is registered (5 MCOA RETURNHOME WO/NDP: no
//! Neighbor Discovery for the home address, [`BidView::ndp_prohibited`]).
//! 165 sends every BID again with O; 167 sends the BID again with its
//! care-of address; 168 stops bulk registration and sends each BID alone;
//! 166, or a BA without any Binding Identifier option, means the home
//! agent does not do multiple bindings: the node falls back to one
//! ordinary home registration of its preferred care-of address (lowest
//! BID-PRI, then lowest BID). Other refusals (164 among them) mark the BID
//! [`BidState::Refused`] until its interface attaches again. Route
//! optimisation is not started while bindings are registered per BID.
//!
//! ## Authentication without IPsec (RFC 4285)
//! With [`MnConfig::auth`] every home registration Binding Update ends
//! with a Mobile Node Identifier option (when an NAI is set), a Replay
//! Protection option (NTP timestamp of `time_of_day_at_epoch + now`,
//! strictly increasing) and the MN-HA authentication option computed over
//! the BU's source address, the home address and the message (and, with
//! `aaa_key`, an MN-AAA option after it). A BA from
//! the home agent must carry a valid MN-HA option and echo the timestamp,
//! else it is dropped ([`Dropped::AuthFailed`],
//! [`Dropped::TimestampMismatch`]). 144 MIPV6-ID-MISMATCH moves our clock
//! to the home agent's seconds and sends the BU again; 146 MIPV6-AUTH-FAIL
//! stops Binding Updates to the home agent (§5.3).
//!
//! ```
//! use core::net::IpAddr;
//! use core::time::Duration;
//! use mip6_proto::event::Output;
//! use mip6_proto::mn::{McoaConfig, MnConfig, MobileNode};
//! use mip6_proto::movement::Movement;
//! use mip6_proto::wire::mh::{MhPacket, MhRepr};
//! use mip6_proto::wire::options::MobilityOption;
//! use rand_chacha::ChaCha20Rng;
//! use rand_core::SeedableRng;
//!
//! let hoa = "2001:db8:1::100".parse().unwrap();
//! let mut cfg = MnConfig::new(hoa, 64, Some("2001:db8:1::1".parse().unwrap()));
//! cfg.mcoa = Some(McoaConfig::default());
//! let mut mn = MobileNode::new(cfg, ChaCha20Rng::seed_from_u64(1), Duration::ZERO).unwrap();
//! let wifi = "2001:db8:2::1".parse().unwrap();
//! mn.handle_movement(Duration::ZERO, Movement::Moved { home: hoa, care_of: wifi, iface: 1, bid: Some(1) });
//! let mut buf = Vec::new();
//! let Some(Output::Transmit(tx)) = mn.poll_output(&mut buf) else { panic!() };
//! assert_eq!(tx.src, wifi);
//! let bu = MhRepr::parse_unverified(&MhPacket::new_checked(&buf[..]).unwrap()).unwrap();
//! assert_eq!(
//!     bu.options.iter().flatten().next(),
//!     Some(MobilityOption::BindingIdentifier { bid: 1, status: 0, h: false, care_of: Some(IpAddr::V6(wifi)) })
//! );
//! ```
#![deny(clippy::arithmetic_side_effects)]

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::net::{IpAddr, Ipv6Addr};
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
    /// An MN-AAA shared key: an MN-AAA authentication option (RFC 4285
    /// §5.2, SPI HMAC_SHA1_SPI) follows the MN-HA option, for a home agent
    /// that checks Binding Updates with its AAA server.
    pub aaa_key: Option<Vec<u8>>,
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
    /// Correspondent BUs not sent because a keygen token had outlived
    /// MAX_TOKEN_LIFETIME (return routability ran again).
    pub tokens_expired: u64,
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
    /// A Binding Update for it (sequence number `seq`) awaits its BA.
    awaiting: bool,
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
    /// The timestamp of the last accepted Binding Update.
    last_ok: u64,
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
    /// The sequence number of the last Binding Update sent with O, until
    /// a registration is accepted: if it is refused or lost, O goes again.
    o_seq: Option<u16>,
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

fn timer_live(
    bul: &BTreeMap<Ipv6Addr, Entry>,
    bids: &BTreeMap<u16, Bid>,
    k: &(Ipv6Addr, TimerKind),
    g: u64,
) -> bool {
    match k.1 {
        TimerKind::Retrans => bul.get(&k.0).is_some_and(|e| e.retrans_timer == g),
        TimerKind::Expire => bul.get(&k.0).is_some_and(|e| e.expire_timer == g),
        TimerKind::BidRetrans(b) => bids.get(&b).is_some_and(|e| e.retrans_timer == g),
        TimerKind::BidExpire(b) => bids.get(&b).is_some_and(|e| e.expire_timer == g),
    }
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
            o_seq: None,
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
    ///
    /// With multiple care-of addresses configured (`cfg.mcoa`), a
    /// [`Movement::Moved`] carrying a BID registers (or updates) that BID's
    /// binding alone (RFC 5648 §5.2): a care-of address on the home link
    /// registers a home binding (§5.6.3); [`Movement::ReturnedHome`]
    /// deregisters every binding (§5.5.1); a `Moved` without a BID is
    /// ignored while BIDs are in use.
    pub fn handle_movement(&mut self, now: Duration, m: Movement) {
        let now = self.clock.advance(now);
        match m {
            Movement::Moved {
                home,
                care_of,
                bid: Some(bid),
                ..
            } if home == self.cfg.home && self.cfg.mcoa.is_some() => {
                self.bid_attach(now, &[(bid, care_of)]);
            }
            Movement::Moved { home, care_of, .. } if home == self.cfg.home => {
                if self.mcoa_mode == McoaMode::Active {
                    return;
                }
                self.single_moved(now, care_of);
            }
            Movement::ReturnedHome { home, .. } if home == self.cfg.home => {
                if self.mcoa_mode == McoaMode::Active {
                    self.bids_return_home(now);
                } else {
                    self.single_returned_home(now);
                }
            }
            _ => {}
        }
    }

    /// Several interfaces got care-of addresses at once: with multiple
    /// care-of addresses their BIDs are registered in one bulk Binding
    /// Update (RFC 5648 §5.3) when `mcoa.bulk` is set and the home agent
    /// has not refused bulk registration; otherwise each movement is
    /// handled as by [`handle_movement`](Self::handle_movement).
    pub fn handle_bulk_movement(&mut self, now: Duration, ms: &[Movement]) {
        let now = self.clock.advance(now);
        if self.cfg.mcoa.is_none() {
            for m in ms {
                self.handle_movement(now, *m);
            }
            return;
        }
        let home = self.cfg.home;
        let list: Vec<(u16, Ipv6Addr)> = ms
            .iter()
            .filter_map(|m| match *m {
                Movement::Moved {
                    home: h,
                    care_of,
                    bid: Some(b),
                    ..
                } if h == home => Some((b, care_of)),
                _ => None,
            })
            .collect();
        self.bid_attach(now, &list);
    }

    /// The interface of `bid` lost its care-of address: only that binding
    /// is deregistered (RFC 5648 §5.4: lifetime 0 and its Binding
    /// Identifier option), from another interface's care-of address. With
    /// no other interface left to send from, the binding is forgotten
    /// locally and expires at the home agent.
    ///
    /// # Errors
    /// [`Dropped::NoEntry`] when `bid` is not known.
    pub fn handle_bid_lost(&mut self, now: Duration, bid: u16) -> Result<(), Dropped> {
        let now = self.clock.advance(now);
        let hp = self.home_peer;
        let Some(e) = self.bids.get_mut(&bid) else {
            return self.drop(Dropped::NoEntry);
        };
        e.attached = false;
        let was_bound = core::mem::replace(&mut e.bound, false);
        e.retrans_timer = 0;
        e.expire_timer = 0;
        let state = e.state;
        if was_bound {
            self.out.fwd(FwdEvent::McoaBulRemoved {
                home: self.cfg.home,
                peer: hp,
                bid,
            });
        }
        if self.mcoa_mode != McoaMode::Active || matches!(state, BidState::Refused(_)) {
            self.bids.remove(&bid);
            if self.mcoa_mode == McoaMode::Single {
                self.single_best(now);
            }
            self.purge_timers();
            return Ok(());
        }
        if !self.send_bid_bus(now, &[bid], true, false) {
            self.bids.remove(&bid);
        }
        self.bids_location();
        self.purge_timers();
        Ok(())
    }

    /// The Binding Identifiers and the state of their bindings, by BID.
    pub fn bids(&self) -> impl Iterator<Item = BidView> + '_ {
        self.bids.iter().map(|(bid, e)| BidView {
            bid: *bid,
            priority: e.priority,
            care_of: e.care_of,
            state: e.state,
            home_link: e.home_link,
            ndp_prohibited: e.ndp_prohibited,
            seq: e.seq,
        })
    }

    /// One Binding Identifier's binding.
    pub fn bid(&self, bid: u16) -> Option<BidView> {
        self.bids().find(|v| v.bid == bid)
    }

    /// Whether bindings are registered per BID (RFC 5648), as opposed to
    /// one binding (no BID yet, or the home agent refused them).
    pub fn mcoa_active(&self) -> bool {
        self.mcoa_mode == McoaMode::Active
    }

    fn priority(&self, bid: u16) -> u8 {
        self.cfg
            .mcoa
            .as_ref()
            .and_then(|m| m.priorities.iter().find(|(b, _)| *b == bid))
            .map_or(128, |(_, p)| *p)
    }

    fn bid_attach(&mut self, now: Duration, list: &[(u16, Ipv6Addr)]) {
        let max = self.cfg.mcoa.as_ref().map_or(0, |m| m.max_bids);
        let mut changed: Vec<u16> = Vec::new();
        for &(bid, care_of) in list {
            //= https://www.rfc-editor.org/rfc/rfc5648#section-5.1
            //# A zero value SHOULD NOT be used as a BID.
            if bid == 0 || changed.contains(&bid) {
                self.stats.dropped = self.stats.dropped.saturating_add(1);
                continue;
            }
            if !self.bids.contains_key(&bid) && self.bids.len() >= max {
                self.stats.bid_table_full = self.stats.bid_table_full.saturating_add(1);
                continue;
            }
            let home_link = in_prefix(care_of, self.cfg.home, self.cfg.home_prefix_len);
            let coa = if home_link { self.cfg.home } else { care_of };
            let priority = self.priority(bid);
            let e = self.bids.entry(bid).or_insert(Bid {
                care_of: coa,
                priority,
                state: BidState::Registering,
                home_link,
                attached: false,
                seq: 0,
                send_coa: true,
                ndp_prohibited: false,
                retrans_interval: INITIAL_BINDACK_TIMEOUT,
                retrans_timer: 0,
                expire_timer: 0,
                refresh: 0,
                bound: false,
                awaiting: false,
            });
            let same = e.attached
                && e.care_of == coa
                && e.home_link == home_link
                && matches!(e.state, BidState::Registering | BidState::Bound);
            e.attached = true;
            if same {
                continue;
            }
            //= https://www.rfc-editor.org/rfc/rfc5648#section-5.1
            //# When a mobile node registers a given BID for the first time, it MUST
            //# include the Care-of Address field in the Binding Identifier mobility
            //# option.
            if e.care_of != coa || e.home_link != home_link || !e.bound {
                e.send_coa = true;
            }
            e.care_of = coa;
            e.home_link = home_link;
            // Not bound at this address until the home agent says so (a
            // binding at the old address may still be in place).
            e.state = BidState::Registering;
            changed.push(bid);
        }
        if changed.is_empty() {
            return;
        }
        match self.mcoa_mode {
            McoaMode::Single => {
                self.single_best(now);
                return;
            }
            McoaMode::Unused => self.enter_mcoa(),
            McoaMode::Active => {}
        }
        self.send_bid_bus(now, &changed, false, false);
        self.bids_location();
        self.purge_timers();
    }

    /// The first BID attachment: the ordinary home registration steps
    /// aside (the O flag of the first BID registration replaces its
    /// binding at the home agent, RFC 5648 §5.9).
    fn enter_mcoa(&mut self) {
        self.mcoa_mode = McoaMode::Active;
        self.overwrite = true;
        self.bulk_ok = true;
        let hp = self.home_peer;
        if let Some(e) = self.bul.get_mut(&hp) {
            let was = core::mem::replace(&mut e.state, PrimaryState::Idle);
            e.retrans_timer = 0;
            e.expire_timer = 0;
            e.expire_at = None;
            if was == PrimaryState::Bound {
                self.out.fwd(FwdEvent::BulRemoved {
                    home: self.cfg.home,
                    peer: hp,
                });
            }
        }
    }

    /// Sends Binding Updates for `bids`: one bulk update when allowed,
    /// else one each. `backoff` doubles their retransmission intervals.
    /// Returns false when nothing could be sent.
    fn send_bid_bus(&mut self, now: Duration, bids: &[u16], dereg: bool, backoff: bool) -> bool {
        if bids.is_empty() {
            return true;
        }
        let mut sorted: Vec<u16> = bids
            .iter()
            .copied()
            .filter(|b| self.bids.contains_key(b))
            .collect();
        sorted.sort_by_key(|b| (self.bids.get(b).map_or(u8::MAX, |e| e.priority), *b));
        let bulk = self.bulk_ok && self.cfg.mcoa.as_ref().is_some_and(|m| m.bulk);
        if bulk {
            self.send_bid_bu(now, &sorted, dereg, backoff)
        } else {
            let mut any = false;
            for b in sorted {
                any |= self.send_bid_bu(now, &[b], dereg, backoff);
            }
            any
        }
    }

    /// One Binding Update with a Binding Identifier option per BID of
    /// `bids` (RFC 5648 §5.2-§5.4, §5.6.3).
    fn send_bid_bu(&mut self, now: Duration, bids: &[u16], dereg: bool, backoff: bool) -> bool {
        let home = self.cfg.home;
        let hp = self.home_peer;
        // The source: the first (preferred) BID registered, or for a
        // deregistration the preferred interface still attached.
        let src_bid = if dereg {
            self.bids
                .iter()
                .filter(|(_, e)| e.attached)
                .min_by_key(|(b, e)| (e.home_link, e.priority, **b))
                .map(|(b, _)| *b)
        } else {
            bids.first().copied()
        };
        let Some(src_e) = src_bid.and_then(|b| self.bids.get(&b)) else {
            return false;
        };
        let (src, ext) = if src_e.home_link {
            (home, TxExt::None)
        } else {
            (src_e.care_of, TxExt::HomeAddress(home))
        };
        let Some(seq) = self.bul.get(&hp).map(|e| e.seq.wrapping_add(1)) else {
            return false;
        };
        let mut flags = BuFlags::A | BuFlags::H;
        if self.cfg.mobile_router.is_some() {
            flags = flags | BuFlags::R;
        }
        //= https://www.rfc-editor.org/rfc/rfc5648#section-5.9
        //# When a mobile node bootstraps and registers multiple bindings for the
        //# first time, it MUST set the 'O' flag in the Binding Update message.
        let overwrite = !dereg && self.overwrite;
        if overwrite {
            flags = flags | BuFlags::O;
        }
        let lifetime = if dereg {
            0
        } else {
            units(self.cfg.home_lifetime)
        };
        let mut opts: Vec<MobilityOption<'_>> = Vec::new();
        for b in bids {
            let Some(e) = self.bids.get(b) else { continue };
            //= https://www.rfc-editor.org/rfc/rfc5648#section-5.6.3
            //# The lifetime MUST be set to a non-zero
            //# lifetime of the home binding, and the Care-of Address field MUST be
            //# set to the home address.
            let care_of = if dereg {
                None
            } else if e.home_link {
                Some(IpAddr::V6(home))
            } else if e.send_coa || overwrite {
                // The O flag replaces every binding: the home agent may
                // know none of the care-of addresses.
                Some(IpAddr::V6(e.care_of))
            } else {
                None
            };
            opts.push(MobilityOption::BindingIdentifier {
                bid: *b,
                status: 0,
                h: e.home_link && !dereg,
                care_of,
            });
        }
        if let Some(ps) = &self.cfg.mobile_router
            && !dereg
        {
            for (p, l) in ps {
                opts.push(MobilityOption::MobileNetworkPrefix {
                    prefix_len: *l,
                    prefix: *p,
                });
            }
        }
        if !self.queue_bu(now, hp, seq, flags, lifetime, opts, src, ext, None, true) {
            return false;
        }
        if let Some(e) = self.bul.get_mut(&hp) {
            e.seq = seq;
        }
        if overwrite {
            self.overwrite = false;
            self.o_seq = Some(seq);
        }
        for b in bids {
            let first_reg = self.cfg.first_reg_timeout;
            let Some(e) = self.bids.get_mut(b) else {
                continue;
            };
            e.seq = seq;
            e.awaiting = true;
            e.state = if dereg {
                BidState::Deregistering
            } else if e.state == BidState::Bound {
                // A refresh keeps the binding usable meanwhile.
                BidState::Bound
            } else {
                BidState::Registering
            };
            e.retrans_interval = if backoff {
                e.retrans_interval
                    .saturating_mul(2)
                    .min(MAX_BINDACK_TIMEOUT)
            } else if e.bound || dereg {
                INITIAL_BINDACK_TIMEOUT
            } else {
                first_reg
            };
            let at = now.saturating_add(e.retrans_interval);
            self.arm_bid(*b, true, at);
        }
        true
    }

    /// Deregisters every binding with a plain Binding Update (RFC 5648
    /// §5.4, §5.5.1: no Binding Identifier option).
    fn send_dereg_all(&mut self, now: Duration, backoff: bool) -> bool {
        let home = self.cfg.home;
        let hp = self.home_peer;
        let Some(seq) = self.bul.get(&hp).map(|e| e.seq.wrapping_add(1)) else {
            return false;
        };
        let mut flags = BuFlags::A | BuFlags::H;
        if self.cfg.mobile_router.is_some() {
            flags = flags | BuFlags::R;
        }
        if !self.queue_bu(
            now,
            hp,
            seq,
            flags,
            0,
            Vec::new(),
            home,
            TxExt::None,
            None,
            true,
        ) {
            return false;
        }
        if let Some(e) = self.bul.get_mut(&hp) {
            e.seq = seq;
        }
        self.dereg_all_seq = Some(seq);
        let bids: Vec<u16> = self.bids.keys().copied().collect();
        for b in bids {
            let Some(e) = self.bids.get_mut(&b) else {
                continue;
            };
            e.seq = seq;
            e.awaiting = true;
            e.state = BidState::Deregistering;
            e.retrans_interval = if backoff {
                e.retrans_interval
                    .saturating_mul(2)
                    .min(MAX_BINDACK_TIMEOUT)
            } else {
                INITIAL_BINDACK_TIMEOUT
            };
            let at = now.saturating_add(e.retrans_interval);
            self.arm_bid(b, true, at);
        }
        true
    }

    /// Back on the home link with every binding to delete (RFC 5648
    /// §5.5.1).
    fn bids_return_home(&mut self, now: Duration) {
        let hp = self.home_peer;
        let bound: Vec<u16> = self
            .bids
            .iter()
            .filter(|(_, e)| e.bound)
            .map(|(b, _)| *b)
            .collect();
        for b in bound {
            if let Some(e) = self.bids.get_mut(&b) {
                e.bound = false;
                e.attached = false;
                e.expire_timer = 0;
            }
            self.out.fwd(FwdEvent::McoaBulRemoved {
                home: self.cfg.home,
                peer: hp,
                bid: b,
            });
        }
        for e in self.bids.values_mut() {
            e.attached = false;
        }
        self.location = Location::Home;
        self.send_dereg_all(now, false);
        self.purge_timers();
    }

    fn arm_bid(&mut self, bid: u16, retrans: bool, at: Duration) {
        let hp = self.home_peer;
        let kind = if retrans {
            TimerKind::BidRetrans(bid)
        } else {
            TimerKind::BidExpire(bid)
        };
        let g = self.timers.arm(at, (hp, kind));
        if let Some(e) = self.bids.get_mut(&bid) {
            if retrans {
                e.retrans_timer = g;
            } else {
                e.expire_timer = g;
            }
        }
    }

    /// The location the rest of the machine sees: the preferred care-of
    /// address still attached, else home.
    fn bids_location(&mut self) {
        let best = self
            .bids
            .iter()
            .filter(|(_, e)| e.attached && !e.home_link)
            .min_by_key(|(b, e)| (e.priority, **b))
            .map(|(_, e)| e.care_of);
        if let Some(c) = best {
            self.location = Location::Away(c);
        } else if self.bids.values().any(|e| e.attached && e.home_link) {
            self.location = Location::Home;
        }
    }

    /// The home agent refused multiple bindings (166, or it ignored the
    /// Binding Identifier options, RFC 5648 §5.7): one binding, for the
    /// preferred care-of address, through the ordinary home registration.
    fn mcoa_fallback(&mut self, now: Duration) {
        self.stats.mcoa_fallbacks = self.stats.mcoa_fallbacks.saturating_add(1);
        self.mcoa_mode = McoaMode::Single;
        let hp = self.home_peer;
        let bids: Vec<u16> = self.bids.keys().copied().collect();
        for b in bids {
            let Some(e) = self.bids.get_mut(&b) else {
                continue;
            };
            let was_bound = core::mem::replace(&mut e.bound, false);
            e.retrans_timer = 0;
            e.expire_timer = 0;
            e.state = BidState::Refused(BaStatus::MCOA_PROHIBITED);
            if was_bound {
                self.out.fwd(FwdEvent::McoaBulRemoved {
                    home: self.cfg.home,
                    peer: hp,
                    bid: b,
                });
            }
        }
        // The home entry registers from scratch.
        if let Some(e) = self.bul.get_mut(&hp) {
            e.state = PrimaryState::Idle;
        }
        self.single_best(now);
    }

    /// Single-binding mode: the preferred attached care-of address is the
    /// one registered.
    fn single_best(&mut self, now: Duration) {
        let best = self
            .bids
            .iter()
            .filter(|(_, e)| e.attached && !e.home_link)
            .min_by_key(|(b, e)| (e.priority, **b))
            .map(|(_, e)| e.care_of);
        match best {
            Some(c) => {
                let idle = self
                    .bul
                    .get(&self.home_peer)
                    .is_some_and(|e| e.state == PrimaryState::Idle);
                if self.location != Location::Away(c) || idle {
                    self.single_moved(now, c);
                }
            }
            None => {
                let registered = self
                    .bul
                    .get(&self.home_peer)
                    .filter(|e| e.state != PrimaryState::Idle)
                    .map(|e| e.care_of);
                if let Some(c) = registered
                    && self.bids.values().any(|e| e.attached && e.home_link)
                {
                    // Deregister even if the BIDs already put us "home".
                    self.location = Location::Away(c);
                    self.single_returned_home(now);
                }
            }
        }
    }

    fn single_moved(&mut self, now: Duration, care_of: Ipv6Addr) {
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

    fn single_returned_home(&mut self, now: Duration) {
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
                let from_ha = rx.src == self.home_peer && !self.home_peer.is_unspecified();
                if from_ha && self.cfg.auth.is_some() {
                    if let Err(d) = self.check_ba_auth(rx, sequence, status, &repr.options) {
                        return self.drop(d);
                    }
                    //= https://www.rfc-editor.org/rfc/rfc4285#section-6
                    //# If authentication succeeds, the Mobile Node MUST adjust its timestamp
                    //# and send subsequent Binding Update using the updated value.
                    if status == BaStatus::MIPV6_ID_MISMATCH {
                        self.adjust_timestamp(now, &repr.options);
                        self.resend_home(now, sequence);
                        return Ok(());
                    }
                    //= https://www.rfc-editor.org/rfc/rfc4285#section-5.3
                    //# Upon receiving a Binding Acknowledgement with status code MIPV6-
                    //# AUTH-FAIL, the Mobile Node SHOULD stop sending new Binding Updates to
                    //# the Home Agent.
                    if status == BaStatus::MIPV6_AUTH_FAIL {
                        self.auth_stop();
                        return Ok(());
                    }
                    if status.0 < 128
                        && let Some(MobilityOption::ReplayProtection { timestamp }) =
                            repr.options.find(OptionType::REPLAY_PROTECTION)
                        && let Some(st) = self.auth.as_mut()
                    {
                        st.last_ok = timestamp;
                    }
                }
                if from_ha && self.mcoa_mode == McoaMode::Active {
                    return self.bids_ba(now, status, sequence, lifetime, &repr.options);
                }
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
                //= https://www.rfc-editor.org/rfc/rfc5648#section-5.8
                //# The mobile node SHOULD then
                //# send a Binding Update at least for the respective binding, as
                //# described in Sections 5.2 and 5.3.
                if self.mcoa_mode == McoaMode::Active && rx.src == self.home_peer {
                    let bound: Vec<u16> = self
                        .bids
                        .iter()
                        .filter(|(_, e)| e.bound)
                        .map(|(b, _)| *b)
                        .collect();
                    self.send_bid_bus(now, &bound, false, false);
                    self.purge_timers();
                    return Ok(());
                }
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

    /// RFC 4285 §5.1.1 and §6: the BA's MN-HA authenticator (over the
    /// care-of address the BU was sent from) and its timestamp.
    fn check_ba_auth(
        &self,
        rx: &RxDatagram<'_>,
        seq: u16,
        status: BaStatus,
        options: &Options<'_>,
    ) -> Result<(), Dropped> {
        let Some(a) = &self.cfg.auth else {
            return Ok(());
        };
        //= https://www.rfc-editor.org/rfc/rfc4285#section-5.1.1
        //# The Mobile Node or Home Agent receiving this option MUST verify the
        //# authentication data in the option.
        let Some(o) = crypto::find_mn_ha(rx.payload) else {
            return Err(Dropped::AuthFailed);
        };
        if o.spi != a.spi || !o.last {
            return Err(Dropped::AuthFailed);
        }
        let Some(st) = self.auth.as_ref() else {
            return Err(Dropped::AuthFailed);
        };
        let rec = st
            .sent
            .iter()
            .flatten()
            .find(|r| r.0 == seq)
            .or_else(|| {
                st.sent
                    .get(st.next.wrapping_sub(1))
                    .and_then(|r| r.as_ref())
            })
            .copied();
        let Some((_, care_of, sent_ts)) = rec else {
            return Err(Dropped::AuthFailed);
        };
        if !crypto::verify_mn_ha(rx.payload, &o, &a.key, &care_of, &self.cfg.home) {
            return Err(Dropped::AuthFailed);
        }
        //= https://www.rfc-editor.org/rfc/rfc4285#section-6
        //# Upon receiving a BA that does not contain the MIPV6-ID-MISMATCH
        //# status code, the Mobile Node MUST compare the Timestamp value in the
        //# BA to the Timestamp value it sent in the corresponding BU.  If the
        //# values match, the Mobile Node proceeds to process the MN-HA
        //# authentication data in the BA.  If the values do not match, the
        //# Mobile Node silently discards the BA.
        if status != BaStatus::MIPV6_ID_MISMATCH
            && let Some(t) = sent_ts
        {
            let got = match options.find(OptionType::REPLAY_PROTECTION) {
                Some(MobilityOption::ReplayProtection { timestamp }) => Some(timestamp),
                _ => None,
            };
            if got != Some(t) {
                return Err(Dropped::TimestampMismatch);
            }
        }
        Ok(())
    }

    /// 144: the home agent's time of day is in the high 32 bits of the
    /// BA's timestamp; later timestamps follow its clock.
    fn adjust_timestamp(&mut self, now: Duration, options: &Options<'_>) {
        let Some(MobilityOption::ReplayProtection { timestamp }) =
            options.find(OptionType::REPLAY_PROTECTION)
        else {
            return;
        };
        let tod = self
            .cfg
            .auth
            .as_ref()
            .map_or(Duration::ZERO, |a| a.time_of_day_at_epoch)
            .saturating_add(now);
        let ours = crypto::ntp_timestamp(tod);
        let secs = |t: u64| i64::from(u32::try_from(t.checked_shr(32).unwrap_or(0)).unwrap_or(0));
        let delta = secs(timestamp)
            .saturating_sub(secs(ours))
            .saturating_mul(0x1_0000_0000);
        if let Some(st) = self.auth.as_mut() {
            st.adjust = delta;
            st.last_ts = st.last_ok;
        }
        self.stats.timestamp_adjusted = self.stats.timestamp_adjusted.saturating_add(1);
    }

    /// Sends again the home registration Binding Update(s) answered by the
    /// BA with sequence number `seq`.
    fn resend_home(&mut self, now: Duration, seq: u16) {
        if self.mcoa_mode == McoaMode::Active {
            if self.dereg_all_seq == Some(seq) {
                self.send_dereg_all(now, false);
            } else {
                let (mut reg, mut dereg) = (Vec::new(), Vec::new());
                for (b, e) in &self.bids {
                    if e.seq != seq || !e.awaiting {
                        continue;
                    }
                    match e.state {
                        BidState::Registering | BidState::Bound => reg.push(*b),
                        BidState::Deregistering => dereg.push(*b),
                        BidState::Refused(_) => {}
                    }
                }
                self.send_bid_bus(now, &reg, false, false);
                self.send_bid_bus(now, &dereg, true, false);
            }
            self.purge_timers();
            return;
        }
        let hp = self.home_peer;
        let Some(state) = self.bul.get(&hp).map(|e| e.state) else {
            return;
        };
        if matches!(
            state,
            PrimaryState::WaitA | PrimaryState::WaitAr | PrimaryState::WaitD
        ) {
            self.send_bu(now, hp, state == PrimaryState::WaitD);
            self.act(now, hp, Act::Retrans(RetransKind::FirstReg));
            self.purge_timers();
        }
    }

    /// 146: no more Binding Updates to the home agent.
    fn auth_stop(&mut self) {
        if let Some(st) = self.auth.as_mut() {
            st.stopped = true;
        }
        self.stats.ba_rejected = self.stats.ba_rejected.saturating_add(1);
        let hp = self.home_peer;
        if let Some(e) = self.bul.get_mut(&hp) {
            e.state = PrimaryState::Idle;
            e.retrans_timer = 0;
            e.expire_timer = 0;
            e.expire_at = None;
        }
        let bids: Vec<u16> = self.bids.keys().copied().collect();
        for b in bids {
            let Some(e) = self.bids.get_mut(&b) else {
                continue;
            };
            let was_bound = core::mem::replace(&mut e.bound, false);
            e.retrans_timer = 0;
            e.expire_timer = 0;
            e.state = BidState::Refused(BaStatus::MIPV6_AUTH_FAIL);
            if was_bound {
                self.out.fwd(FwdEvent::McoaBulRemoved {
                    home: self.cfg.home,
                    peer: hp,
                    bid: b,
                });
            }
        }
        self.purge_timers();
    }

    /// A Binding Acknowledgement from the home agent while bindings are
    /// registered per BID (RFC 5648 §5.7).
    #[allow(clippy::too_many_lines)]
    fn bids_ba(
        &mut self,
        now: Duration,
        status: BaStatus,
        seq: u16,
        lifetime: u16,
        options: &Options<'_>,
    ) -> Result<(), Dropped> {
        let hp = self.home_peer;
        let home = self.cfg.home;
        if self.dereg_all_seq == Some(seq) {
            if status.0 >= 128 && status != BaStatus::NOT_HOME_AGENT_FOR_THIS_MN {
                self.stats.ba_rejected = self.stats.ba_rejected.saturating_add(1);
                return Ok(());
            }
            self.stats.ba_accepted = self.stats.ba_accepted.saturating_add(1);
            self.bids.clear();
            self.dereg_all_seq = None;
            self.mcoa_mode = McoaMode::Unused;
            self.overwrite = true;
            self.location = Location::Home;
            self.purge_timers();
            return Ok(());
        }
        let o_refused = self.o_seq == Some(seq);
        if status == BaStatus::SEQUENCE_NUMBER_OUT_OF_WINDOW {
            // RFC 6275 §11.7.3: continue from the home agent's number.
            if let Some(e) = self.bul.get_mut(&hp) {
                e.seq = seq;
            }
            if self.o_seq.take().is_some() {
                self.overwrite = true;
            }
            let (mut reg, mut dereg) = (Vec::new(), Vec::new());
            for (b, e) in &self.bids {
                match e.state {
                    BidState::Registering => reg.push(*b),
                    BidState::Bound if e.awaiting => reg.push(*b),
                    BidState::Deregistering => dereg.push(*b),
                    BidState::Bound | BidState::Refused(_) => {}
                }
            }
            if reg.is_empty() && dereg.is_empty() {
                return self.drop(Dropped::StaleSequence);
            }
            self.send_bid_bus(now, &reg, false, false);
            self.send_bid_bus(now, &dereg, true, false);
            self.purge_timers();
            return Ok(());
        }
        let covered: Vec<u16> = self
            .bids
            .iter()
            .filter(|(_, e)| e.seq == seq && e.awaiting)
            .map(|(b, _)| *b)
            .collect();
        if covered.is_empty() {
            return self.drop(Dropped::StaleSequence);
        }
        let per_bid: Vec<(u16, u8)> = options
            .iter()
            .flatten()
            .filter_map(|o| match o {
                MobilityOption::BindingIdentifier { bid, status, .. } => Some((bid, status)),
                _ => None,
            })
            .collect();
        let registering = covered.iter().any(|b| {
            self.bids
                .get(b)
                .is_some_and(|e| e.state != BidState::Deregistering)
        });
        //= https://www.rfc-editor.org/rfc/rfc5648#section-5.7
        //# Therefore, if no such mobility option is included
        //# in the Binding Acknowledgement in response to a Binding Update for a
        //# multiple care-of addresses registration, this indicates that the
        //# originating node of the Binding Acknowledgement does not support
        //# processing the Binding Identifier mobility option regardless of
        //# status value.
        //= https://www.rfc-editor.org/rfc/rfc5648#section-5.7
        //# If the status value is [MCOA PROHIBITED], the mobile node MUST
        //# stop registering multiple bindings with the node that sent the
        //# Binding Acknowledgement.
        if (per_bid.is_empty() && registering)
            || status == BaStatus::MCOA_PROHIBITED
            || per_bid
                .iter()
                .any(|(_, s)| *s == BaStatus::MCOA_PROHIBITED.0)
        {
            self.stats.ba_rejected = self.stats.ba_rejected.saturating_add(1);
            self.mcoa_fallback(now);
            self.purge_timers();
            return Ok(());
        }
        //= https://www.rfc-editor.org/rfc/rfc5648#section-5.7
        //# If the status value is [MCOA BULK REGISTRATION PROHIBITED], the
        //# mobile node needs to stop using bulk registrations with the node
        //# that sent the Binding Acknowledgement.  It should assume that none
        //# of the attempted registrations were successful.
        if status == BaStatus::MCOA_BULK_REGISTRATION_PROHIBITED {
            self.stats.ba_rejected = self.stats.ba_rejected.saturating_add(1);
            self.bulk_ok = false;
            if o_refused {
                self.overwrite = true;
            }
            let (mut reg, mut dereg) = (Vec::new(), Vec::new());
            for b in &covered {
                match self.bids.get(b).map(|e| e.state) {
                    Some(BidState::Deregistering) => dereg.push(*b),
                    Some(_) => reg.push(*b),
                    None => {}
                }
            }
            self.send_bid_bus(now, &reg, false, false);
            self.send_bid_bus(now, &dereg, true, false);
            self.purge_timers();
            return Ok(());
        }
        let refresh_advice = match options.find(OptionType::BINDING_REFRESH_ADVICE) {
            Some(MobilityOption::BindingRefreshAdvice { refresh_interval }) => {
                Some(refresh_interval)
            }
            _ => None,
        };
        let requested = units(self.cfg.home_lifetime);
        let granted = lifetime.min(requested);
        let mut again: Vec<u16> = Vec::new();
        let mut accepted = false;
        for b in covered {
            //= https://www.rfc-editor.org/rfc/rfc5648#section-5.7
            //# If the status value in the Binding Identifier mobility option is zero, the
            //# mobile node uses the value in the Status field of the Binding
            //# Acknowledgement.  Otherwise, it uses the value in the Status field of
            //# the Binding Identifier mobility option.
            let st = per_bid
                .iter()
                .find(|(x, _)| *x == b)
                .map(|(_, s)| *s)
                .filter(|s| *s != 0)
                .unwrap_or(status.0);
            let Some(e) = self.bids.get_mut(&b) else {
                continue;
            };
            e.retrans_timer = 0;
            e.awaiting = false;
            if e.state == BidState::Deregistering {
                // Gone at the home agent (or it never had it: 133, 167).
                if st < 128
                    || st == BaStatus::NOT_HOME_AGENT_FOR_THIS_MN.0
                    || st == BaStatus::MCOA_UNKNOWN_COA.0
                {
                    self.stats.ba_accepted = self.stats.ba_accepted.saturating_add(1);
                    self.bids.remove(&b);
                } else {
                    self.stats.ba_rejected = self.stats.ba_rejected.saturating_add(1);
                    self.stats.bid_rejected = self.stats.bid_rejected.saturating_add(1);
                    e.state = BidState::Refused(BaStatus(st));
                    if !e.attached {
                        self.bids.remove(&b);
                    }
                }
                continue;
            }
            if st < 128 && granted > 0 {
                accepted = true;
                self.stats.ba_accepted = self.stats.ba_accepted.saturating_add(1);
                // A new binding or a new care-of address (not a refresh).
                let newly = !e.bound || e.state == BidState::Registering;
                e.state = BidState::Bound;
                e.bound = true;
                e.send_coa = false;
                //= https://www.rfc-editor.org/rfc/rfc5648#section-5.6.3
                //# If the mobile
                //# node receives [MCOA RETURNHOME WO/NDP (5)] status value in the
                //# received Binding Acknowledgment, it MUST NOT respond to Neighbor
                //# Solicitation even after the Binding Acknowledgement.
                let ndp = st == BaStatus::MCOA_RETURNHOME_WO_NDP.0;
                let changed = ndp != e.ndp_prohibited;
                e.ndp_prohibited = ndp;
                e.refresh = match refresh_advice {
                    Some(r) if r > 0 && r <= granted => r,
                    _ => granted / 2,
                };
                let (care_of, home_link, refresh) = (e.care_of, e.home_link, e.refresh);
                if refresh > 0 {
                    self.arm_bid(b, true, now.saturating_add(secs4(refresh)));
                }
                self.arm_bid(b, false, now.saturating_add(secs4(granted)));
                if newly || changed {
                    self.out.fwd(FwdEvent::McoaBulAdded {
                        home,
                        peer: hp,
                        bid: b,
                        care_of,
                        home_link,
                        ndp_prohibited: ndp,
                    });
                }
                continue;
            }
            //= https://www.rfc-editor.org/rfc/rfc5648#section-5.7
            //# The mobile
            //# node MUST set 'O' flag so that all the registered bindings are
            //# replaced by an MCoA registration as described in Section 5.9.
            if st == BaStatus::MCOA_NON_MCOA_BINDING_EXISTS.0 {
                self.overwrite = true;
                e.send_coa = true;
                again.push(b);
                continue;
            }
            //= https://www.rfc-editor.org/rfc/rfc5648#section-5.7
            //# If the mobile node is trying to refresh a binding, it SHOULD send a Binding
            //# Identifier mobility option including the Care-of Address field.
            if st == BaStatus::MCOA_UNKNOWN_COA.0 {
                e.send_coa = true;
                again.push(b);
                continue;
            }
            // Any other refusal (164 MCOA MALFORMED among them): not retried
            // until the interface attaches again.
            self.stats.ba_rejected = self.stats.ba_rejected.saturating_add(1);
            self.stats.bid_rejected = self.stats.bid_rejected.saturating_add(1);
            let was_bound = core::mem::replace(&mut e.bound, false);
            e.state = BidState::Refused(BaStatus(st));
            e.expire_timer = 0;
            if was_bound {
                self.out.fwd(FwdEvent::McoaBulRemoved {
                    home,
                    peer: hp,
                    bid: b,
                });
            }
        }
        if accepted {
            // The home agent holds registrations made since: an O flag
            // retransmitted now would wipe them.
            self.o_seq = None;
        } else if o_refused {
            self.overwrite = true;
        }
        if !again.is_empty() {
            if self.overwrite {
                // The O flag replaces everything: register every attached BID.
                for (b, e) in &self.bids {
                    if e.attached && !again.contains(b) && !matches!(e.state, BidState::Refused(_))
                    {
                        again.push(*b);
                    }
                }
            }
            self.send_bid_bus(now, &again, false, false);
        }
        self.bids_location();
        self.purge_timers();
        Ok(())
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
                TimerKind::BidRetrans(_) | TimerKind::BidExpire(_) => {}
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
        if e.home && self.auth.as_ref().is_some_and(|a| a.stopped) {
            return;
        }
        // RFC 6275 §5.2.7, §12: a keygen token is not used once
        // MAX_TOKEN_LIFETIME has passed since it arrived (a BU retransmitted
        // for long enough would otherwise carry stale tokens). Return
        // routability runs again, as for an expired-nonce status.
        let stale = |t: Option<(u16, [u8; 8], Duration)>| {
            t.is_some_and(|(_, _, at)| now.saturating_sub(at) >= MAX_TOKEN_LIFETIME)
        };
        if !e.home && (stale(e.home_token) || stale(e.care_of_token)) {
            e.home_token = None;
            e.care_of_token = None;
            let state = e.state;
            self.stats.tokens_expired = self.stats.tokens_expired.saturating_add(1);
            // Stop the transition that wanted to send (see `fire`).
            self.abort = true;
            self.fire_rr(now, peer, RrEvent::StopRr);
            self.fire_rr(now, peer, RrEvent::StartRr);
            if let Some(e) = self.bul.get_mut(&peer) {
                e.state = match state {
                    PrimaryState::WaitD | PrimaryState::RrDel => PrimaryState::RrDel,
                    PrimaryState::WaitAr | PrimaryState::Bound | PrimaryState::RrRedo => {
                        PrimaryState::RrRedo
                    }
                    _ => PrimaryState::RrInit,
                };
            }
            return;
        }
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
        let (src, ext) = if at_home {
            (home_addr, TxExt::None)
        } else {
            (care_of, TxExt::HomeAddress(home_addr))
        };
        let _ = self.queue_bu(
            now,
            peer,
            seq,
            flags,
            lifetime,
            opts,
            src,
            ext,
            kbm.map(|k| (k, care_of)),
            is_home,
        );
    }

    /// The next RFC 4285 timestamp: our time of day, corrected by what a
    /// 144 taught us, and above every timestamp sent before (§6).
    fn next_timestamp(&mut self, now: Duration) -> u64 {
        let tod = self
            .cfg
            .auth
            .as_ref()
            .map_or(Duration::ZERO, |a| a.time_of_day_at_epoch)
            .saturating_add(now);
        let st = self.auth.get_or_insert_with(AuthState::default);
        let base = crypto::ntp_timestamp(tod).wrapping_add_signed(st.adjust);
        //= https://www.rfc-editor.org/rfc/rfc4285#section-6
        //# Note, however, that when
        //# using timestamps, the 64-bit timestamp used in a Binding Update from
        //# the Mobile Node MUST be greater than that used in any previous
        //# successful Binding Update.
        let t = if base > st.last_ts {
            base
        } else {
            st.last_ts.wrapping_add(1)
        };
        st.last_ts = t;
        t
    }

    /// Emits, authenticates and queues a Binding Update. A home
    /// registration gets the RFC 4285 options when configured (Mobile Node
    /// Identifier, Replay Protection, then MN-HA authentication, last);
    /// `kbm` signs a correspondent registration (Binding Authorization
    /// Data, with this care-of address).
    #[allow(clippy::too_many_arguments)]
    fn queue_bu(
        &mut self,
        now: Duration,
        peer: Ipv6Addr,
        seq: u16,
        flags: BuFlags,
        lifetime: u16,
        opts: Vec<MobilityOption<'_>>,
        src: Ipv6Addr,
        ext: TxExt,
        kbm: Option<(Kbm, Ipv6Addr)>,
        home_reg: bool,
    ) -> bool {
        let home = self.cfg.home;
        let auth = if home_reg {
            self.cfg.auth.clone()
        } else {
            None
        };
        let zero = [0u8; crypto::MN_HA_AUTH_LEN];
        let zero20 = [0u8; crypto::MN_AAA_AUTH_LEN];
        let mut opts = opts;
        let mut ts = None;
        if let Some(a) = &auth {
            if let Some(n) = &a.nai {
                opts.push(MobilityOption::MobileNodeIdentifier {
                    subtype: crate::wire::options::MNID_SUBTYPE_NAI,
                    identifier: n,
                });
            }
            if a.timestamps {
                let t = self.next_timestamp(now);
                ts = Some(t);
                opts.push(MobilityOption::ReplayProtection { timestamp: t });
            }
            //= https://www.rfc-editor.org/rfc/rfc4285#section-5.1.1
            //# The Mobile Node MUST
            //# include this option in a BU if it has a shared-key-based mobility
            //# security association with the Home Agent.
            opts.push(MobilityOption::MobilityMessageAuthentication {
                subtype: crypto::MN_HA_SUBTYPE,
                spi: a.spi,
                data: &zero,
            });
            //= https://www.rfc-editor.org/rfc/rfc4285#section-5.2
            //# The MN-AAA mobility message authentication option must be the last
            //# option in a message with a mobility header.
            if a.aaa_key.is_some() {
                opts.push(MobilityOption::MobilityMessageAuthentication {
                    subtype: crypto::MN_AAA_SUBTYPE,
                    spi: crypto::HMAC_SHA1_SPI,
                    data: &zero20,
                });
            }
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
            return false;
        }
        if let Some((k, care_of)) = kbm
            && !crypto::sign_mh(&mut bytes, &k, &care_of, &peer)
        {
            return false;
        }
        //= https://www.rfc-editor.org/rfc/rfc4285#section-5.1
        //# Mobility Data = care-of address | home address | Mobility Header (MH)
        //# Data
        if let Some(a) = &auth
            && !crypto::sign_mn_ha(&mut bytes, &a.key, &src, &home)
        {
            return false;
        }
        if let Some(k) = auth.as_ref().and_then(|a| a.aaa_key.as_ref())
            && !crypto::sign_mn_aaa(&mut bytes, k, &src, &home)
        {
            return false;
        }
        MhPacket::new_unchecked(&mut bytes[..]).fill_checksum(&home, &peer);
        self.out.msg(src, peer, ext, 135, bytes);
        self.stats.bu_sent = self.stats.bu_sent.saturating_add(1);
        if auth.is_some()
            && let Some(st) = self.auth.as_mut()
        {
            let i = st.next.checked_rem(st.sent.len()).unwrap_or(0);
            if let Some(slot) = st.sent.get_mut(i) {
                *slot = Some((seq, src, ts));
            }
            st.next = i.wrapping_add(1);
        }
        true
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
        let (bul, bids) = (&self.bul, &self.bids);
        let live = |k: &(Ipv6Addr, TimerKind), g: u64| timer_live(bul, bids, k, g);
        self.timers.purge(live);
        self.timers
            .compact(live, bul.len().saturating_add(bids.len()).saturating_mul(2));
    }

    /// BID timers that fired: retransmissions and refreshes go out
    /// together (one bulk Binding Update when allowed); an expired binding
    /// is removed and registered again if its interface still has the
    /// address.
    fn bid_timeouts(&mut self, now: Duration, retrans: &[u16], expired: &[u16]) {
        let hp = self.home_peer;
        for b in expired {
            let Some(e) = self.bids.get_mut(b) else {
                continue;
            };
            let was_bound = core::mem::replace(&mut e.bound, false);
            e.retrans_timer = 0;
            let attached = e.attached;
            if attached {
                e.state = BidState::Registering;
                e.send_coa = true;
            }
            if was_bound {
                self.out.fwd(FwdEvent::McoaBulRemoved {
                    home: self.cfg.home,
                    peer: hp,
                    bid: *b,
                });
            }
            if !attached {
                self.bids.remove(b);
            }
        }
        let mut reg: Vec<u16> = Vec::new();
        let mut fresh: Vec<u16> = Vec::new();
        let mut dereg: Vec<u16> = Vec::new();
        for b in expired.iter().chain(retrans) {
            let Some(e) = self.bids.get(b) else { continue };
            let list = match e.state {
                BidState::Registering if expired.contains(b) => &mut fresh,
                BidState::Registering => &mut reg,
                BidState::Bound if e.awaiting => &mut reg,
                BidState::Bound => &mut fresh,
                BidState::Deregistering => &mut dereg,
                BidState::Refused(_) => continue,
            };
            if !list.contains(b) {
                list.push(*b);
            }
        }
        if !dereg.is_empty() && self.dereg_all_seq.is_some() {
            self.send_dereg_all(now, true);
            dereg.clear();
        }
        // A lost Binding Update with O: its retransmission carries O again.
        if let Some(o) = self.o_seq
            && reg
                .iter()
                .any(|b| self.bids.get(b).is_some_and(|e| e.seq == o))
        {
            self.overwrite = true;
        }
        self.send_bid_bus(now, &reg, false, true);
        self.send_bid_bus(now, &fresh, false, false);
        self.send_bid_bus(now, &dereg, true, true);
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
            let (bul, bids) = (&self.bul, &self.bids);
            let live = |k: &(Ipv6Addr, TimerKind), g: u64| timer_live(bul, bids, k, g);
            self.timers.expire(now, live, |k, g| due.push((k, g)));
        }
        let mut bid_retrans: Vec<u16> = Vec::new();
        let mut bid_expired: Vec<u16> = Vec::new();
        for ((peer, kind), g) in due {
            // Still the armed timer? (An earlier one in this batch may have
            // re-armed or freed it.)
            if !timer_live(&self.bul, &self.bids, &(peer, kind), g) {
                continue;
            }
            match kind {
                TimerKind::BidRetrans(b) => {
                    if let Some(e) = self.bids.get_mut(&b) {
                        e.retrans_timer = 0;
                    }
                    bid_retrans.push(b);
                    continue;
                }
                TimerKind::BidExpire(b) => {
                    if let Some(e) = self.bids.get_mut(&b) {
                        e.expire_timer = 0;
                    }
                    bid_expired.push(b);
                    continue;
                }
                _ => {}
            }
            if let Some(e) = self.bul.get_mut(&peer) {
                match kind {
                    TimerKind::Retrans => e.retrans_timer = 0,
                    TimerKind::Expire => {
                        e.expire_timer = 0;
                        e.expire_at = None;
                    }
                    TimerKind::BidRetrans(_) | TimerKind::BidExpire(_) => {}
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
                TimerKind::BidRetrans(_) | TimerKind::BidExpire(_) => {}
            }
        }
        if !bid_expired.is_empty() || !bid_retrans.is_empty() {
            self.bid_timeouts(now, &bid_retrans, &bid_expired);
        }
        self.purge_timers();
    }

    /// The next output, in causal order. On [`Output::Transmit`] the message
    /// bytes are appended to `buf`.
    pub fn poll_output(&mut self, buf: &mut Vec<u8>) -> Option<Output> {
        self.out.poll(buf)
    }
}
