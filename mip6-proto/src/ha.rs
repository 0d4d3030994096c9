//! The home agent (and NEMO home agent): home registrations, the binding
//! cache, proxy DAD, mobile network prefixes, DHAAD replies and mobile
//! prefix advertisements (RFC 6275 §10, RFC 3963 §6), multiple care-of
//! addresses (RFC 5648) and the authentication protocol of RFC 4285.
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
//!
//! ## Multiple care-of addresses (RFC 5648)
//! A Binding Update with Binding Identifier options acts on those BIDs
//! only: each is registered, refreshed (an option without a care-of
//! address keeps the known one) or, with lifetime 0, deregistered, and gets
//! its own [`FwdEvent::HomeBindingAdded`] / [`FwdEvent::HomeBindingRemoved`]
//! with `bid: Some(..)` and its own expiry. Several options make a bulk
//! registration. The O flag replaces every binding of the home address; a
//! Binding Update without BID options replaces them all with one regular
//! binding (a deregistration deletes them all). A BID option with the H
//! flag registers a home binding: the care-of address is the home address
//! and the answer is 5 MCOA RETURNHOME WO/NDP (or 0, [`McoaPolicy`]).
//!
//! | case | answer |
//! |---|---|
//! | BID option of length other than 4, 8, 20 | BA 164 MCOA MALFORMED |
//! | BID 0, a BID twice, a care-of address not global unicast IPv6 | 164 for that BID |
//! | BID options without O while a regular binding exists | BA 165 MCOA NON-MCOA BINDING EXISTS |
//! | `mcoa.enabled` off | BA 166 MCOA PROHIBITED |
//! | no care-of address for an unknown BID | 167 MCOA UNKNOWN COA for that BID |
//! | several BIDs, `mcoa.bulk` off | BA 168 MCOA BULK REGISTRATION PROHIBITED |
//! | H flag, `mcoa.home_and_foreign` off | 169 for that BID |
//! | more than `mcoa.max_bids` BIDs | 130 for the BIDs beyond (counted) |
//! | deregistering an unknown BID | 133 for that BID |
//!
//! With one BID option the status goes in the BA's Status field; with
//! several, each BID's goes in its option and the BA says 4 MCOA
//! NOTCOMPLETE when any is not zero (RFC 5648 §6.2). The BA copies every
//! BID option without its care-of address.
//!
//! A home address with one binding costs one cache entry; the bindings of
//! home addresses registered with BIDs live in a separate ordered map keyed
//! by (home address, BID), so the single-binding case stays small.
//!
//! ## Authentication without IPsec (RFC 4285)
//! A home address with a [`MnHaSecurityAssociation`] must authenticate
//! every Binding Update with the MN-HA Mobility Message Authentication
//! option, last: `First(96, HMAC_SHA1(key, care-of | home | MH data))`
//! where the care-of address is the IPv6 source of the BU ([`crate::crypto::mn_ha_authenticator`]).
//! An MN-AAA option may follow the MN-HA option; this home agent has no
//! AAA server and does not check it. No MN-HA option: dropped
//! ([`Dropped::AuthMissing`]); an SPI not of this home
//! address: dropped ([`Dropped::UnknownSpi`]); a wrong authenticator: BA 146
//! MIPV6-AUTH-FAIL. Then the Replay Protection timestamp (NTP format) must
//! be within `window` (default 7 s) of `time_of_day_at_epoch + now` and
//! above the last timestamp accepted for this association, else BA 144
//! MIPV6-ID-MISMATCH (its timestamp: our seconds, the BU's fraction); a
//! missing one when required gives 145 MIPV6-MESG-ID-REQD. Every BA to an
//! authenticated BU echoes the timestamp and carries the MN-HA option,
//! computed over the BA's destination (the care-of address) and the home
//! address.
//!
//! ```
//! use core::net::IpAddr;
//! use core::time::Duration;
//! use mip6_proto::event::{FwdEvent, Output, RxDatagram};
//! use mip6_proto::ha::{HaConfig, HomeAgent};
//! use mip6_proto::wire::mh::{BuFlags, Message, MhPacket, MhRepr};
//! use mip6_proto::wire::options::{MobilityOption, Options};
//! use rand_chacha::ChaCha20Rng;
//! use rand_core::SeedableRng;
//!
//! let (ha_addr, hoa) = ("2001:db8:1::1".parse().unwrap(), "2001:db8:1::100".parse().unwrap());
//! let mut cfg = HaConfig::new(ha_addr, "2001:db8:1::".parse().unwrap(), 64);
//! cfg.dad = false;
//! let mut ha = HomeAgent::new(cfg, ChaCha20Rng::seed_from_u64(1), Duration::ZERO).unwrap();
//! // A bulk registration of two interfaces, with O (RFC 5648 §5.9).
//! let c1 = "2001:db8:2::1".parse().unwrap();
//! let c2 = "2001:db8:3::1".parse().unwrap();
//! let opts = [
//!     MobilityOption::BindingIdentifier { bid: 1, status: 0, h: false, care_of: Some(IpAddr::V6(c1)) },
//!     MobilityOption::BindingIdentifier { bid: 2, status: 0, h: false, care_of: Some(IpAddr::V6(c2)) },
//! ];
//! let bu = MhRepr {
//!     payload_proto: 59,
//!     message: Message::BindingUpdate { sequence: 1, flags: BuFlags::A | BuFlags::H | BuFlags::O, lifetime: 10 },
//!     options: Options::List(&opts),
//! };
//! let mut b = vec![0u8; bu.buffer_len()];
//! bu.emit(&mut MhPacket::new_unchecked(&mut b[..]), &hoa, &ha_addr).unwrap();
//! let rx = RxDatagram { src: c1, dst: ha_addr, hao: Some(hoa), rh2: None, tunnelled: false, next_header: 135, payload: &b };
//! ha.handle_datagram(Duration::ZERO, &rx).unwrap();
//! let mut buf = Vec::new();
//! let mut bids = Vec::new();
//! while let Some(o) = ha.poll_output(&mut buf) {
//!     if let Output::Fwd(FwdEvent::HomeBindingAdded { bid: Some(bid), care_of, .. }) = o {
//!         bids.push((bid, care_of));
//!     }
//! }
//! assert_eq!(bids, vec![(1, c1), (2, c2)]);
//! assert_eq!(ha.bids(hoa).count(), 2);
//! ```
#![deny(clippy::arithmetic_side_effects)]

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::net::{IpAddr, Ipv6Addr};
use core::time::Duration;

use crate::crypto;
use crate::wire::icmpv6::{AddrList, MipIcmpRepr, PrefixInfo, PrefixList};
use crate::wire::mh::{BaFlags, BaStatus, BuFlags, Message, MhPacket, MhRepr};
use crate::wire::options::{MobilityOption, OptionType, Options, RawOptions};
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
    /// Multiple care-of addresses (RFC 5648).
    pub mcoa: McoaPolicy,
    /// Shared-key mobility security associations with mobile nodes for the
    /// Mobility Message Authentication option (RFC 4285), at most one per
    /// home address. A mobile node with one must authenticate every Binding
    /// Update with it.
    pub security_associations: Vec<MnHaSecurityAssociation>,
    /// The time of day at the driver's epoch, counted from 1900 (NTP's
    /// era 0): `time_of_day_at_epoch + now` is the clock that RFC 4285
    /// timestamps are checked against.
    pub time_of_day_at_epoch: Duration,
}

/// What a [`HomeAgent`] accepts of RFC 5648 (multiple care-of addresses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct McoaPolicy {
    /// Accept Binding Updates with Binding Identifier options (else status
    /// 166 MCOA PROHIBITED).
    pub enabled: bool,
    /// Most bindings (BIDs) one home address may hold; a BID beyond is
    /// refused with status 130 in its Binding Identifier option and counted
    /// in [`HaStats::bid_limit_refused`].
    pub max_bids: usize,
    /// Accept bulk registrations, several BIDs in one Binding Update (else
    /// 168 MCOA BULK REGISTRATION PROHIBITED).
    pub bulk: bool,
    /// Accept a home binding (BID option with the H flag) while other
    /// bindings stay away (else 169 for that BID).
    pub home_and_foreign: bool,
    /// Answer a home binding with 5 MCOA RETURNHOME WO/NDP: the home agent
    /// keeps defending the home address and the mobile node must not run
    /// Neighbor Discovery for it (RFC 5648 §6.3: the home agent is not the
    /// only router of the home link); else 0.
    pub returnhome_wo_ndp: bool,
}

impl Default for McoaPolicy {
    /// Enabled, bulk and simultaneous home and foreign attachment allowed,
    /// at most 8 BIDs per home address, home bindings answered with 5.
    fn default() -> Self {
        Self {
            enabled: true,
            max_bids: 8,
            bulk: true,
            home_and_foreign: true,
            returnhome_wo_ndp: true,
        }
    }
}

/// RFC 4285 §5.1 and §6: the default "close enough" window for timestamps.
pub const DEFAULT_TIMESTAMP_WINDOW: Duration = Duration::from_secs(7);

/// A shared-key-based mobility security association between a mobile node
/// and this home agent (RFC 4285 §5.1): Mobility SPI, key, HMAC_SHA1 and
/// timestamp replay protection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MnHaSecurityAssociation {
    /// The Mobility SPI (0-255 are reserved).
    pub spi: u32,
    /// The mobile node's home address.
    pub home: Ipv6Addr,
    /// The shared key (RFC 4285 §5.1: 16 octets).
    pub key: Vec<u8>,
    /// Require the Mobility Message Replay Protection option (else Binding
    /// Updates without it are refused with 145 MIPV6-MESG-ID-REQD, RFC 4285
    /// §6); without it the sequence number protects against replays.
    pub require_timestamp: bool,
    /// How far a timestamp may be from the home agent's clock.
    pub window: Duration,
}

impl MnHaSecurityAssociation {
    /// An association with timestamps required and the default window.
    pub fn new(spi: u32, home: Ipv6Addr, key: Vec<u8>) -> Self {
        Self {
            spi,
            home,
            key,
            require_timestamp: true,
            window: DEFAULT_TIMESTAMP_WINDOW,
        }
    }
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
            mcoa: McoaPolicy::default(),
            security_associations: Vec::new(),
            time_of_day_at_epoch: Duration::ZERO,
        }
    }
}

/// A configuration the home agent cannot run with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// No home prefix, or a prefix length above 128.
    HomePrefix,
    /// `max_bindings`, `max_lifetime` or `mcoa.max_bids` is zero.
    Limits,
    /// A security association with a reserved SPI (below 256), an empty
    /// key, a zero window, or an SPI or home address used twice.
    SecurityAssociation,
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
    /// A Binding Update without the MN-HA authentication option from a
    /// mobile node with a security association (RFC 4285 §5: silently
    /// discarded).
    AuthMissing,
    /// An MN-HA authentication option whose SPI names no security
    /// association of this home address (RFC 4285 §5.1.1: discarded).
    UnknownSpi,
    /// An MN-HA authentication option that is not the last option.
    AuthNotLast,
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
    /// BIDs registered or refreshed (RFC 5648).
    pub bid_registrations: u64,
    /// BIDs deregistered one by one (RFC 5648 §5.4).
    pub bid_deregistrations: u64,
    /// BIDs refused because the home address holds `mcoa.max_bids` already.
    pub bid_limit_refused: u64,
    /// Binding Updates whose MN-HA authenticator did not verify (answered
    /// with 146 MIPV6-AUTH-FAIL).
    pub auth_failed: u64,
    /// Binding Updates refused for their timestamp (144 MIPV6-ID-MISMATCH)
    /// or for lacking one (145 MIPV6-MESG-ID-REQD).
    pub replay_refused: u64,
}

/// One binding of a home address registered with a Binding Identifier
/// (RFC 5648).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HaBidView {
    /// The Binding Identifier.
    pub bid: u16,
    /// Its care-of address (the home address for a home binding).
    pub care_of: Ipv6Addr,
    /// When it expires.
    pub expires: Duration,
    /// A home binding (H flag): the mobile node is on the home link through
    /// this interface.
    pub home_link: bool,
}

/// A binding cache entry's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HaBindingState {
    /// Waiting for proxy DAD before the first registration completes.
    Pending,
    /// Registered.
    Bound,
}

/// Where and how a Binding Acknowledgement goes.
#[derive(Debug, Clone, Copy)]
struct Reply {
    local: Ipv6Addr,
    dst: Ipv6Addr,
    ext: TxExt,
    home: Ipv6Addr,
    flags: BaFlags,
    /// RFC 4285: the SPI to authenticate with and the timestamp to echo.
    auth: Option<(u32, Option<u64>)>,
}

/// A Binding Identifier option to send back.
#[derive(Debug, Clone, Copy)]
struct BidAck {
    bid: u16,
    status: u8,
    h: bool,
}

/// A Binding Identifier option received.
#[derive(Debug, Clone, Copy)]
struct BidReq {
    bid: u16,
    h: bool,
    care_of: Option<IpAddr>,
}

/// The outcome of the RFC 4285 checks.
enum Auth {
    /// No authentication option and no association: IPsec's business.
    NotUsed,
    /// Authenticated with this SPI; this timestamp is to be echoed.
    Ok(u32, Option<u64>),
    /// Discarded silently.
    Drop(Dropped),
    /// Refused with this status (the BA is authenticated with the SPI and
    /// carries the timestamp).
    Refuse(BaStatus, u32, Option<u64>),
}

#[derive(Debug, Clone)]
struct SaState {
    home: Ipv6Addr,
    key: Vec<u8>,
    require_timestamp: bool,
    window: Duration,
    /// The last accepted timestamp (RFC 4285 §6).
    last_ts: Option<u64>,
}

#[derive(Debug, Clone)]
struct PendingBa {
    reply: Reply,
    seq: u16,
    lifetime: u16,
    status: BaStatus,
    bids: alloc::boxed::Box<[BidAck]>,
}

/// A BID's binding (RFC 5648), beside its home address's entry.
#[derive(Debug, Clone)]
struct BidEntry {
    care_of: Ipv6Addr,
    expires: Duration,
    timer: u64,
    home_link: bool,
}

/// The BA status and the BID options of a (bulk) registration: one BID
/// carries its status in the BA; several carry theirs in their options
/// under 4 MCOA NOTCOMPLETE when any is not zero (RFC 5648 §6.2).
fn compose(acks: &[BidAck]) -> (BaStatus, Vec<BidAck>) {
    match acks {
        [one] => (
            BaStatus(one.status),
            alloc::vec![BidAck { status: 0, ..*one }],
        ),
        _ if acks.iter().any(|a| a.status != 0) => (BaStatus::MCOA_NOTCOMPLETE, acks.to_vec()),
        _ => (BaStatus::ACCEPTED, acks.to_vec()),
    }
}

/// The timestamp of the first Mobility Message Replay Protection option.
fn raw_timestamp(mh: &[u8]) -> Option<u64> {
    let p = MhPacket::new_checked(mh).ok()?;
    RawOptions::new(p.options_area())
        .flatten()
        .find(|o| o.option_type == OptionType::REPLAY_PROTECTION)
        .and_then(|o| o.data)
        .and_then(|d| d.first_chunk::<8>())
        .map(|b| u64::from_be_bytes(*b))
}

fn secs4(u: u16) -> Duration {
    Duration::from_secs(u64::from(u).saturating_mul(4))
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
    /// Registered with Binding Identifiers (RFC 5648): the bindings are in
    /// the home agent's BID map and `care_of` mirrors the lowest BID's.
    mcoa: bool,
    /// How many BIDs (when `mcoa`).
    bids: u16,
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
    /// RFC 5648: the bindings of home addresses registered with BIDs,
    /// apart so that a single binding costs nothing more.
    mcoa: BTreeMap<(Ipv6Addr, u16), BidEntry>,
    bid_timers: TimerHeap<(Ipv6Addr, u16)>,
    /// RFC 4285 associations by SPI, and the SPI of each home address.
    sas: BTreeMap<u32, SaState>,
    sa_homes: BTreeMap<Ipv6Addr, u32>,
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
        if cfg.max_bindings == 0 || cfg.max_lifetime.is_zero() || cfg.mcoa.max_bids == 0 {
            return Err(ConfigError::Limits);
        }
        let mut sas = BTreeMap::new();
        let mut sa_homes = BTreeMap::new();
        for sa in &cfg.security_associations {
            if sa.spi < 256
                || sa.key.is_empty()
                || sa.window.is_zero()
                || sas.contains_key(&sa.spi)
                || sa_homes.contains_key(&sa.home)
            {
                return Err(ConfigError::SecurityAssociation);
            }
            sa_homes.insert(sa.home, sa.spi);
            sas.insert(
                sa.spi,
                SaState {
                    home: sa.home,
                    key: sa.key.clone(),
                    require_timestamp: sa.require_timestamp,
                    window: sa.window,
                    last_ts: None,
                },
            );
        }
        // The hash key comes from the injected RNG, so a peer cannot aim
        // for collisions.
        let seed = rng.next_u64();
        Ok(Self {
            cfg,
            rng,
            bindings: hashbrown::HashMap::with_hasher(foldhash::fast::FixedState::with_seed(seed)),
            timers: TimerHeap::new(),
            mcoa: BTreeMap::new(),
            bid_timers: TimerHeap::new(),
            sas,
            sa_homes,
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

    /// The care-of address of `home`'s binding `bid` (RFC 5648; bound
    /// entries only).
    pub fn lookup_bid(&self, home: Ipv6Addr, bid: u16) -> Option<Ipv6Addr> {
        self.bindings
            .get(&home)
            .filter(|b| b.state == HaBindingState::Bound)?;
        self.mcoa.get(&(home, bid)).map(|e| e.care_of)
    }

    /// The bindings of `home` registered with Binding Identifiers, by BID
    /// (empty for a home address registered without).
    pub fn bids(&self, home: Ipv6Addr) -> impl Iterator<Item = HaBidView> + '_ {
        self.bid_range(home).map(|(k, e)| HaBidView {
            bid: k.1,
            care_of: e.care_of,
            expires: e.expires,
            home_link: e.home_link,
        })
    }

    /// Number of bindings held with Binding Identifiers, all home addresses
    /// together (at most `max_bindings * mcoa.max_bids`).
    pub fn bid_bindings(&self) -> usize {
        self.mcoa.len()
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
            Err(crate::wire::Error::BadLength) => {
                if let Some(r) = self.malformed_bid(now, rx, &pkt) {
                    return r;
                }
                return self.drop(Dropped::Malformed(crate::wire::Error::BadLength));
            }
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
            } if flags.contains(BuFlags::H) => self.home_registration(
                now,
                rx,
                pkt.header_bytes(),
                &repr.options,
                sequence,
                flags,
                lifetime,
            ),
            _ => self.drop(Dropped::NotForHomeAgent),
        }
    }

    /// A home registration that fails to parse only because of Binding
    /// Identifier options of a bad length: RFC 5648 §6.2 answers 164.
    fn malformed_bid(
        &mut self,
        now: Duration,
        rx: &RxDatagram<'_>,
        pkt: &MhPacket<&[u8]>,
    ) -> Option<Result<(), Dropped>> {
        let mh = pkt.header_bytes();
        let home = rx.hao.unwrap_or(rx.src);
        if pkt.mh_type() != crate::wire::mh::MhType::BINDING_UPDATE
            || mh.len() < 12
            || mh.first() != Some(&59)
            || !is_unicast(home)
            || !is_unicast(rx.src)
            || !pkt.verify_checksum(&home, &rx.dst)
        {
            return None;
        }
        let flags = BuFlags(u16::from_be_bytes([*mh.get(8)?, *mh.get(9)?]));
        if !flags.contains(BuFlags::H) {
            return None;
        }
        let mut bad_bid = false;
        for raw in RawOptions::new(pkt.options_area()) {
            let raw = raw.ok()?;
            let Some(d) = raw.data else { continue };
            if raw.option_type == OptionType::PADN {
                continue;
            }
            if MobilityOption::parse(raw.option_type, d).is_err() {
                if raw.option_type == OptionType::BINDING_IDENTIFIER {
                    bad_bid = true;
                } else {
                    return None;
                }
            }
        }
        if !bad_bid {
            return None;
        }
        let seq = u16::from_be_bytes([*mh.get(6)?, *mh.get(7)?]);
        let auth = match self.check_auth(now, home, rx.src, mh) {
            Auth::NotUsed => None,
            Auth::Ok(spi, ts) => Some((spi, ts)),
            Auth::Drop(d) => return Some(self.drop(d)),
            Auth::Refuse(status, spi, ts) => {
                let r = self.reply_to(rx, home, flags, Some((spi, ts)));
                return Some(self.refuse(&r, status, seq, &[]));
            }
        };
        let r = self.reply_to(rx, home, flags, auth);
        //= https://www.rfc-editor.org/rfc/rfc5648#section-6.2
        //# If the length is incorrect, the receiver MUST reject the Binding Update and
        //# return the status value set to [MCOA MALFORMED].
        Some(self.refuse(&r, BaStatus::MCOA_MALFORMED, seq, &[]))
    }

    fn reply_to(
        &self,
        rx: &RxDatagram<'_>,
        home: Ipv6Addr,
        flags: BuFlags,
        auth: Option<(u32, Option<u64>)>,
    ) -> Reply {
        let (dst, ext) = match rx.hao {
            Some(h) => (rx.src, TxExt::Type2Routing(h)),
            None => (rx.src, TxExt::None),
        };
        Reply {
            local: rx.dst,
            dst,
            ext,
            home,
            flags: if flags.contains(BuFlags::R) {
                BaFlags::R
            } else {
                BaFlags(0)
            },
            auth,
        }
    }

    /// RFC 4285 §5.1 and §6: the MN-HA authentication option and the
    /// timestamp of a home registration.
    fn check_auth(&mut self, now: Duration, home: Ipv6Addr, care_of: Ipv6Addr, mh: &[u8]) -> Auth {
        let Some(o) = crypto::find_mn_ha(mh) else {
            //= https://www.rfc-editor.org/rfc/rfc4285#section-5
            //# When a Binding Update or Binding Acknowledgement is received without
            //# a mobility message authentication option and the entity receiving it
            //# is configured to use the mobility message authentication option or
            //# has the shared-key-based mobility security association for the
            //# mobility message authentication option, the entity should silently
            //# discard the received message.
            if self.sa_homes.contains_key(&home) {
                return Auth::Drop(Dropped::AuthMissing);
            }
            return Auth::NotUsed;
        };
        let ts = raw_timestamp(mh);
        let tod = self.cfg.time_of_day_at_epoch.saturating_add(now);
        let Some(sa) = self.sas.get_mut(&o.spi).filter(|sa| sa.home == home) else {
            //= https://www.rfc-editor.org/rfc/rfc4285#section-5.1.1
            //# If the Home
            //# Agent does not have shared-key-based mobility SA, Home Agent MUST
            //# discard the BU.
            return Auth::Drop(Dropped::UnknownSpi);
        };
        if !o.last {
            return Auth::Drop(Dropped::AuthNotLast);
        }
        //= https://www.rfc-editor.org/rfc/rfc4285#section-5.1.1
        //# If authentication fails, the Home
        //# Agent MUST send BA with Status Code MIPV6-AUTH-FAIL.
        if !crypto::verify_mn_ha(mh, &o, &sa.key, &care_of, &home) {
            self.stats.auth_failed = self.stats.auth_failed.saturating_add(1);
            return Auth::Refuse(BaStatus::MIPV6_AUTH_FAIL, o.spi, ts);
        }
        let Some(t) = ts else {
            if sa.require_timestamp {
                //= https://www.rfc-editor.org/rfc/rfc4285#section-6
                //# If the policy at Home Agent mandates replay protection using this
                //# option (as opposed to the sequence number in the Mobility Header in
                //# Binding Update) and the Binding Update from the Mobile Node does not
                //# include this option, the Home Agent discards the BU and sets the
                //# Status Code in BA to MIPV6-MESG-ID-REQD.
                self.stats.replay_refused = self.stats.replay_refused.saturating_add(1);
                return Auth::Refuse(BaStatus::MIPV6_MESG_ID_REQD, o.spi, None);
            }
            return Auth::Ok(o.spi, None);
        };
        //= https://www.rfc-editor.org/rfc/rfc4285#section-6
        //# In order to be valid, the timestamp contained in the Timestamp field
        //# MUST be close enough to the Home Agent's time-of-day clock and the
        //# timestamp MUST be greater than all previously accepted timestamps for
        //# the requesting Mobile Node.
        let ours = crypto::ntp_timestamp(tod);
        let close = ours.abs_diff(t) <= crypto::ntp_timestamp(sa.window);
        let newer = sa.last_ts.is_none_or(|l| t > l);
        if !(close && newer) {
            self.stats.replay_refused = self.stats.replay_refused.saturating_add(1);
            //= https://www.rfc-editor.org/rfc/rfc4285#section-6
            //# If the timestamp is not valid, the Home Agent copies only the
            //# low-order 32 bits into the BA, and supplies the high-order 32 bits
            //# from its own time of day.
            let echo = (ours & 0xffff_ffff_0000_0000) | (t & 0xffff_ffff);
            return Auth::Refuse(BaStatus::MIPV6_ID_MISMATCH, o.spi, Some(echo));
        }
        sa.last_ts = Some(t);
        Auth::Ok(o.spi, Some(t))
    }

    fn refuse(
        &mut self,
        r: &Reply,
        status: BaStatus,
        seq: u16,
        bids: &[BidAck],
    ) -> Result<(), Dropped> {
        self.stats.refused = self.stats.refused.saturating_add(1);
        let echo: Vec<BidAck> = bids.iter().map(|b| BidAck { status: 0, ..*b }).collect();
        self.send_ba(r, status, seq, 0, &echo);
        Ok(())
    }

    #[allow(clippy::too_many_lines, clippy::too_many_arguments)]
    fn home_registration(
        &mut self,
        now: Duration,
        rx: &RxDatagram<'_>,
        mh: &[u8],
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
        let reqs: Vec<BidReq> = options
            .iter()
            .flatten()
            .filter_map(|o| match o {
                MobilityOption::BindingIdentifier {
                    bid, h, care_of, ..
                } => Some(BidReq { bid, h, care_of }),
                _ => None,
            })
            .collect();
        let echo: Vec<BidAck> = reqs
            .iter()
            .map(|q| BidAck {
                bid: q.bid,
                status: 0,
                h: q.h,
            })
            .collect();
        let auth = match self.check_auth(now, home, rx.src, mh) {
            Auth::NotUsed => None,
            Auth::Ok(spi, ts) => Some((spi, ts)),
            Auth::Drop(d) => return self.drop(d),
            Auth::Refuse(status, spi, ts) => {
                let r = self.reply_to(rx, home, flags, Some((spi, ts)));
                return self.refuse(&r, status, seq, &echo);
            }
        };
        let care_of = match options.find(OptionType::ALTERNATE_CARE_OF_ADDRESS) {
            Some(MobilityOption::AlternateCareOfAddress(a)) => a,
            _ => rx.src,
        };
        let r = self.reply_to(rx, home, flags, auth);
        let router = flags.contains(BuFlags::R);
        let local = rx.dst;
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
            return self.refuse(&r, BaStatus::NOT_HOME_SUBNET, seq, &echo);
        };
        if let Some(b) = self.bindings.get(&home) {
            if !seq_greater(seq, b.seq) {
                let last = b.seq;
                return self.refuse(&r, BaStatus::SEQUENCE_NUMBER_OUT_OF_WINDOW, last, &echo);
            }
            if b.router != router {
                return self.refuse(
                    &r,
                    BaStatus::REGISTRATION_TYPE_CHANGE_DISALLOWED,
                    seq,
                    &echo,
                );
            }
        }
        if !reqs.is_empty() {
            return self.mcoa_registration(now, &r, &reqs, seq, flags, lifetime, prefix, options);
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
                return self.refuse(&r, BaStatus::NOT_HOME_AGENT_FOR_THIS_MN, seq, &[]);
            }
            //= https://www.rfc-editor.org/rfc/rfc5648#section-6.2
            //# If the
            //# [RFC3775] Binding Update is for de-registration, the receiver MUST
            //# delete all existing bindings from its binding cache.
            self.remove(home, local);
            self.stats.deregistrations = self.stats.deregistrations.saturating_add(1);
            self.send_ba(&r, BaStatus::ACCEPTED, seq, 0, &[]);
            return Ok(());
        }
        let prefixes = match self.nemo_prefixes(home, router, options) {
            Ok(p) => p,
            Err(status) => return self.refuse(&r, status, seq, &[]),
        };
        if !self.bindings.contains_key(&home) && self.bindings.len() >= self.cfg.max_bindings {
            return self.refuse(&r, BaStatus::INSUFFICIENT_RESOURCES, seq, &[]);
        }
        let Some(units) = self.granted(now, lifetime, &prefix) else {
            return self.refuse(&r, BaStatus::REASON_UNSPECIFIED, seq, &[]);
        };
        let expires = now.saturating_add(secs4(units));
        let link_local = flags.contains(BuFlags::L);
        //= https://www.rfc-editor.org/rfc/rfc5648#section-6.2
        //# If the receiver
        //# already has multiple bindings for the home address, it MUST replace
        //# all the existing bindings with the received binding.
        if self.bindings.get(&home).is_some_and(|b| b.mcoa) {
            self.clear_bids(home, local);
        }
        let first = !self.bindings.contains_key(&home);
        let pending = PendingBa {
            reply: r,
            seq,
            lifetime: units,
            status: BaStatus::ACCEPTED,
            bids: alloc::boxed::Box::new([]),
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
                    mcoa: false,
                    bids: 0,
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
            b.mcoa = false;
            b.bids = 0;
            b.timer = self.timers.arm(expires, home);
            b.care_of = care_of;
            b.seq = seq;
            b.expires = expires;
            b.link_local = link_local;
            b.prefixes = prefixes.into_boxed_slice();
            b.pending = Some(alloc::boxed::Box::new(pending));
            return Ok(());
        }
        self.drop_stale_routes(home, &prefixes);
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
                mcoa: false,
                bids: 0,
                prefixes: prefixes.into_boxed_slice(),
                pending: None,
            },
        );
        self.purge_timers();
        self.install(home, local);
        self.send_ba(&r, BaStatus::ACCEPTED, seq, units, &[]);
        Ok(())
    }

    /// Prefix routes of `home` that `new` no longer lists are removed.
    fn drop_stale_routes(&mut self, home: Ipv6Addr, new: &[(Ipv6Addr, u8)]) {
        let old: Vec<(Ipv6Addr, u8)> = self
            .bindings
            .get(&home)
            .filter(|b| b.state == HaBindingState::Bound)
            .map(|b| b.prefixes.to_vec())
            .unwrap_or_default();
        for (p, l) in old.iter().filter(|x| !new.contains(x)) {
            self.out.fwd(FwdEvent::PrefixRouteRemoved {
                prefix: *p,
                len: *l,
            });
        }
    }

    /// The granted lifetime in 4 s units (`None` when it rounds to zero).
    fn granted(&self, now: Duration, lifetime: u16, prefix: &HomePrefix) -> Option<u16> {
        //= https://www.rfc-editor.org/rfc/rfc6275#section-10.3.1
        //# The lifetime of the Binding Cache entry MUST NOT be greater than the
        //# remaining valid lifetime for the home address
        let mut granted = secs4(lifetime).min(self.cfg.max_lifetime);
        if let Some(until) = prefix.valid_until {
            granted = granted.min(until.saturating_sub(now));
        }
        let units = u16::try_from(granted.as_secs() / 4).unwrap_or(u16::MAX);
        (units > 0).then_some(units)
    }

    /// NEMO (RFC 3963 §6.2): the prefixes to route, or the refusal status.
    fn nemo_prefixes(
        &self,
        home: Ipv6Addr,
        router: bool,
        options: &Options<'_>,
    ) -> Result<Vec<(Ipv6Addr, u8)>, BaStatus> {
        if !router {
            return Ok(Vec::new());
        }
        if !self.cfg.nemo {
            return Err(BaStatus::MOBILE_ROUTER_OPERATION_NOT_PERMITTED);
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
                return Err(BaStatus::FORWARDING_SETUP_FAILED);
            }
            return Ok(allowed);
        }
        for (p, l) in &explicit {
            if *l == 0
                || *l > 128
                || self
                    .cfg
                    .home_prefixes
                    .iter()
                    .any(|h| in_prefix(*p, h.prefix, h.len))
            {
                return Err(BaStatus::INVALID_PREFIX);
            }
            if !allowed
                .iter()
                .any(|(ap, al)| al == l && in_prefix(*p, *ap, *al))
            {
                return Err(BaStatus::NOT_AUTHORIZED_FOR_PREFIX);
            }
        }
        Ok(explicit)
    }

    /// A home registration with Binding Identifier options (RFC 5648 §6.2).
    #[allow(clippy::too_many_lines, clippy::too_many_arguments)]
    fn mcoa_registration(
        &mut self,
        now: Duration,
        r: &Reply,
        reqs: &[BidReq],
        seq: u16,
        flags: BuFlags,
        lifetime: u16,
        prefix: HomePrefix,
        options: &Options<'_>,
    ) -> Result<(), Dropped> {
        let home = r.home;
        let local = r.local;
        let mut acks: Vec<BidAck> = reqs
            .iter()
            .map(|q| BidAck {
                bid: q.bid,
                status: 0,
                h: q.h,
            })
            .collect();
        if !self.cfg.mcoa.enabled {
            return self.refuse(r, BaStatus::MCOA_PROHIBITED, seq, &acks);
        }
        //= https://www.rfc-editor.org/rfc/rfc5648#section-6.2
        //# When multiple Binding Identifier mobility options are present in
        //# the Binding Update, it is treated as bulk registration.
        if reqs.len() > 1 && !self.cfg.mcoa.bulk {
            return self.refuse(r, BaStatus::MCOA_BULK_REGISTRATION_PROHIBITED, seq, &acks);
        }
        //= https://www.rfc-editor.org/rfc/rfc5648#section-6.2
        //# If the
        //# unicast routable address [RFC3775] is not present in the Care-of
        //# Address field, the receiver MUST reject the Binding Identifier
        //# mobility option and return the status value set to [MCOA
        //# MALFORMED].
        for (i, (q, ack)) in reqs.iter().zip(acks.iter_mut()).enumerate() {
            let dup = reqs.iter().take(i).any(|p| p.bid == q.bid);
            let bad_coa = match q.care_of {
                None => false,
                Some(IpAddr::V6(c)) => !is_unicast(c) || c.is_unicast_link_local(),
                // No DSMIPv6 (RFC 5555) here: an IPv4 care-of address is
                // not one this home agent can tunnel to.
                Some(IpAddr::V4(_)) => true,
            };
            if q.bid == 0 || dup || bad_coa {
                ack.status = BaStatus::MCOA_MALFORMED.0;
            }
        }
        let existing = self.bindings.get(&home).map(|b| (b.mcoa, b.state));
        if lifetime == 0 {
            //= https://www.rfc-editor.org/rfc/rfc5648#section-6.2
            //# If the Lifetime field in the Binding Update is set to zero, the
            //# receiving node deletes the binding entry that corresponds to the
            //# BID in the Binding Identifier mobility option.  If the receiving
            //# node does not have an appropriate binding for the BID, it MUST
            //# reject the Binding Update and send a Binding Acknowledgement with
            //# status set to 133 [not home agent for this mobile node].
            if existing.is_none_or(|(m, _)| !m) {
                return self.refuse(r, BaStatus::NOT_HOME_AGENT_FOR_THIS_MN, seq, &acks);
            }
            let mut removed = 0u64;
            for ack in &mut acks {
                if ack.status != 0 {
                    continue;
                }
                if self.remove_bid(home, ack.bid, local) {
                    removed = removed.saturating_add(1);
                } else {
                    ack.status = BaStatus::NOT_HOME_AGENT_FOR_THIS_MN.0;
                }
            }
            if removed == 0 {
                let (status, acks) = compose(&acks);
                self.stats.refused = self.stats.refused.saturating_add(1);
                self.send_ba(r, status, seq, 0, &acks);
                return Ok(());
            }
            //= https://www.rfc-editor.org/rfc/rfc5648#section-4.1
            //# When a home agent receives an individual Binding
            //# Update, it should update the sequence number for all the bindings for
            //# a particular mobile node, with the sequence number in the received
            //# Binding Update.
            if let Some(b) = self.bindings.get_mut(&home) {
                b.seq = seq;
            }
            self.after_bid_change(home, local);
            self.stats.deregistrations = self.stats.deregistrations.saturating_add(1);
            self.stats.bid_deregistrations = self.stats.bid_deregistrations.saturating_add(removed);
            let (status, acks) = compose(&acks);
            self.send_ba(r, status, seq, 0, &acks);
            return Ok(());
        }
        let overwrite = flags.contains(BuFlags::O);
        //= https://www.rfc-editor.org/rfc/rfc5648#section-6.2
        //# If the 'O' flag is unset in the Binding Update and the receiver
        //# has a regular binding that does not have a BID for the mobile
        //# node, it must not process the Binding Update.  The receiver
        //# should send a Binding Acknowledgement with status set to [MCOA
        //# NON-MCOA BINDING EXISTS].
        if existing.is_some_and(|(m, _)| !m) && !overwrite {
            return self.refuse(r, BaStatus::MCOA_NON_MCOA_BINDING_EXISTS, seq, &acks);
        }
        let router = r.flags.contains(BaFlags::R);
        let prefixes = match self.nemo_prefixes(home, router, options) {
            Ok(p) => p,
            Err(status) => return self.refuse(r, status, seq, &acks),
        };
        if existing.is_none() && self.bindings.len() >= self.cfg.max_bindings {
            return self.refuse(r, BaStatus::INSUFFICIENT_RESOURCES, seq, &acks);
        }
        let Some(units) = self.granted(now, lifetime, &prefix) else {
            return self.refuse(r, BaStatus::REASON_UNSPECIFIED, seq, &acks);
        };
        let expires = now.saturating_add(secs4(units));
        let mut count = if overwrite {
            0
        } else {
            self.bid_range(home).count()
        };
        let mut plan: Vec<(u16, Ipv6Addr, bool)> = Vec::new();
        for (q, ack) in reqs.iter().zip(acks.iter_mut()) {
            if ack.status != 0 {
                continue;
            }
            let known = self.mcoa.get(&(home, q.bid)).map(|e| e.care_of);
            let care_of = if q.h {
                if !self.cfg.mcoa.home_and_foreign {
                    ack.status = BaStatus::MCOA_SIMULTANEOUS_HOME_AND_FOREIGN_PROHIBITED.0;
                    continue;
                }
                //= https://www.rfc-editor.org/rfc/rfc5648#section-6.2
                //# If the 'H' flag is set, the home agent stores a home
                //# address in the Care-of Address field of the binding cache entry.
                home
            } else {
                match (q.care_of, known) {
                    (Some(IpAddr::V6(c)), _) => c,
                    (_, Some(c)) => c,
                    //= https://www.rfc-editor.org/rfc/rfc5648#section-6.2
                    //# Otherwise, the receiving node
                    //# MUST reject that Binding Identifier mobility option and send a
                    //# Binding Acknowledgement with the status for that Binding
                    //# Identifier mobility option set to [MCOA UNKNOWN].
                    _ => {
                        ack.status = BaStatus::MCOA_UNKNOWN_COA.0;
                        continue;
                    }
                }
            };
            let new = overwrite || known.is_none();
            if new {
                if count >= self.cfg.mcoa.max_bids {
                    self.stats.bid_limit_refused = self.stats.bid_limit_refused.saturating_add(1);
                    ack.status = BaStatus::INSUFFICIENT_RESOURCES.0;
                    continue;
                }
                count = count.saturating_add(1);
            }
            if q.h && self.cfg.mcoa.returnhome_wo_ndp {
                //= https://www.rfc-editor.org/rfc/rfc5648#section-6.3
                //# If the home agent is not the only router in the home link, the
                //# home agent returns [MCOA RETURNHOME WO/NDP] value in the Status
                //# field of the Binding Identifier mobility option.
                ack.status = BaStatus::MCOA_RETURNHOME_WO_NDP.0;
            }
            plan.push((q.bid, care_of, q.h));
        }
        if plan.is_empty() {
            let (status, acks) = compose(&acks);
            self.stats.refused = self.stats.refused.saturating_add(1);
            self.send_ba(r, status, seq, 0, &acks);
            return Ok(());
        }
        let link_local = flags.contains(BuFlags::L);
        let was_pending = existing.is_some_and(|(_, s)| s == HaBindingState::Pending);
        let first = existing.is_none();
        //= https://www.rfc-editor.org/rfc/rfc5648#section-6.2
        //# If the 'O' flag is set in the Binding Update, the receiving
        //# node removes all the existing bindings and registers the
        //# received binding(s).
        if overwrite && existing.is_some() {
            if existing.is_some_and(|(m, _)| !m) {
                self.remove(home, local);
            } else {
                self.clear_bids(home, local);
            }
        }
        if !was_pending {
            self.drop_stale_routes(home, &prefixes);
        }
        let state = if was_pending || (first && self.cfg.dad) {
            HaBindingState::Pending
        } else {
            HaBindingState::Bound
        };
        let entry = self.bindings.entry(home).or_insert(Binding {
            care_of: home,
            seq,
            expires,
            state,
            timer: 0,
            link_local,
            router,
            mcoa: true,
            bids: 0,
            prefixes: alloc::boxed::Box::new([]),
            pending: None,
        });
        entry.seq = seq;
        entry.expires = expires;
        entry.state = state;
        entry.timer = 0;
        entry.link_local = link_local;
        entry.router = router;
        entry.mcoa = true;
        entry.prefixes = prefixes.into_boxed_slice();
        for &(bid, care_of, h) in &plan {
            let timer = self.bid_timers.arm(expires, (home, bid));
            self.mcoa.insert(
                (home, bid),
                BidEntry {
                    care_of,
                    expires,
                    timer,
                    home_link: h,
                },
            );
        }
        self.sync_entry(home);
        self.purge_timers();
        self.stats.bid_registrations = self
            .stats
            .bid_registrations
            .saturating_add(u64::try_from(plan.len()).unwrap_or(u64::MAX));
        let (status, acks) = compose(&acks);
        if state == HaBindingState::Pending {
            let pending = PendingBa {
                reply: *r,
                seq,
                lifetime: units,
                status,
                bids: acks.into_boxed_slice(),
            };
            if let Some(b) = self.bindings.get_mut(&home) {
                b.pending = Some(alloc::boxed::Box::new(pending));
            }
            if !was_pending {
                self.out.fwd(FwdEvent::DadRequest { home });
            }
            return Ok(());
        }
        for &(bid, _, _) in &plan {
            self.install_bid(home, bid, local);
        }
        self.install_routes(home);
        self.stats.registrations = self.stats.registrations.saturating_add(1);
        self.send_ba(r, status, seq, units, &acks);
        Ok(())
    }

    /// The BIDs of `home`.
    fn bid_range(&self, home: Ipv6Addr) -> impl Iterator<Item = (&(Ipv6Addr, u16), &BidEntry)> {
        self.mcoa.range((home, 0)..=(home, u16::MAX))
    }

    /// Keeps the entry's count and lookup care-of address (the lowest BID's)
    /// in step with its BIDs.
    fn sync_entry(&mut self, home: Ipv6Addr) {
        let (n, first) = {
            let mut it = self.bid_range(home);
            let first = it.next().map(|(_, e)| e.care_of);
            (
                u16::try_from(it.count().saturating_add(usize::from(first.is_some())))
                    .unwrap_or(u16::MAX),
                first,
            )
        };
        if let Some(b) = self.bindings.get_mut(&home) {
            b.bids = n;
            if let Some(c) = first {
                b.care_of = c;
            }
        }
    }

    /// Removes one BID (with its forwarding event if it was installed).
    fn remove_bid(&mut self, home: Ipv6Addr, bid: u16, local: Ipv6Addr) -> bool {
        let Some(_) = self.mcoa.remove(&(home, bid)) else {
            return false;
        };
        if self
            .bindings
            .get(&home)
            .is_some_and(|b| b.state == HaBindingState::Bound)
        {
            self.out.fwd(FwdEvent::HomeBindingRemoved {
                home,
                local,
                bid: Some(bid),
            });
        }
        self.sync_entry(home);
        true
    }

    /// After BIDs went away: an entry left without any is deleted.
    fn after_bid_change(&mut self, home: Ipv6Addr, local: Ipv6Addr) {
        if self
            .bindings
            .get(&home)
            .is_some_and(|b| b.mcoa && b.bids == 0)
        {
            self.remove(home, local);
        }
        self.purge_timers();
    }

    /// Removes every BID of `home` (keeping the entry).
    fn clear_bids(&mut self, home: Ipv6Addr, local: Ipv6Addr) {
        let bids: Vec<u16> = self.bid_range(home).map(|(k, _)| k.1).collect();
        for bid in bids {
            self.remove_bid(home, bid, local);
        }
    }

    fn install_bid(&mut self, home: Ipv6Addr, bid: u16, local: Ipv6Addr) {
        let (Some(b), Some(e)) = (self.bindings.get(&home), self.mcoa.get(&(home, bid))) else {
            return;
        };
        self.out.fwd(FwdEvent::HomeBindingAdded {
            home,
            care_of: e.care_of,
            local,
            bid: Some(bid),
            link_local: b.link_local,
            expires: e.expires,
        });
    }

    fn install_routes(&mut self, home: Ipv6Addr) {
        let Some(b) = self.bindings.get(&home) else {
            return;
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
        for r in routes {
            self.out.fwd(r);
        }
    }

    fn install(&mut self, home: Ipv6Addr, local: Ipv6Addr) {
        let Some(b) = self.bindings.get(&home) else {
            return;
        };
        if b.mcoa {
            let bids: Vec<u16> = self.bid_range(home).map(|(k, _)| k.1).collect();
            for bid in bids {
                self.install_bid(home, bid, local);
            }
        } else {
            self.out.fwd(FwdEvent::HomeBindingAdded {
                home,
                care_of: b.care_of,
                local,
                bid: None,
                link_local: b.link_local,
                expires: b.expires,
            });
        }
        self.install_routes(home);
        self.stats.registrations = self.stats.registrations.saturating_add(1);
    }

    fn remove(&mut self, home: Ipv6Addr, local: Ipv6Addr) {
        let bids: Vec<u16> = self.bid_range(home).map(|(k, _)| k.1).collect();
        for bid in &bids {
            self.mcoa.remove(&(home, *bid));
        }
        if let Some(b) = self.bindings.remove(&home)
            && b.state == HaBindingState::Bound
        {
            for &(p, l) in b.prefixes.iter() {
                self.out
                    .fwd(FwdEvent::PrefixRouteRemoved { prefix: p, len: l });
            }
            if b.mcoa {
                for bid in bids {
                    self.out.fwd(FwdEvent::HomeBindingRemoved {
                        home,
                        local,
                        bid: Some(bid),
                    });
                }
            } else {
                self.out.fwd(FwdEvent::HomeBindingRemoved {
                    home,
                    local,
                    bid: None,
                });
            }
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
            self.send_ba(&p.reply, p.status, p.seq, p.lifetime, &p.bids);
        } else {
            self.remove(home, local);
            self.stats.refused = self.stats.refused.saturating_add(1);
            let echo: Vec<BidAck> = p.bids.iter().map(|b| BidAck { status: 0, ..*b }).collect();
            self.send_ba(
                &p.reply,
                BaStatus::DUPLICATE_ADDRESS_DETECTION_FAILED,
                p.seq,
                0,
                &echo,
            );
        }
    }

    /// Sends a Binding Acknowledgement with the Binding Identifier options
    /// `bids` and, when the BU was authenticated (RFC 4285), the replay
    /// protection and MN-HA authentication options.
    fn send_ba(
        &mut self,
        r: &Reply,
        status: BaStatus,
        sequence: u16,
        lifetime: u16,
        bids: &[BidAck],
    ) {
        if !is_unicast(r.dst) {
            return;
        }
        let zero = [0u8; crypto::MN_HA_AUTH_LEN];
        //= https://www.rfc-editor.org/rfc/rfc5648#section-6.2
        //# The Care-of Address field in each Binding Identifier mobility option,
        //# however, MAY be omitted, because the mobile node can match a
        //# corresponding Binding Update List entry using the BID.
        let mut opts: Vec<MobilityOption<'_>> = bids
            .iter()
            .map(|b| MobilityOption::BindingIdentifier {
                bid: b.bid,
                status: b.status,
                h: b.h,
                care_of: None,
            })
            .collect();
        let key = r
            .auth
            .and_then(|(spi, _)| self.sas.get(&spi).map(|sa| sa.key.clone()));
        if let (Some((spi, ts)), Some(_)) = (r.auth, &key) {
            //= https://www.rfc-editor.org/rfc/rfc4285#section-6
            //# When the Home Agent receives the mobility message replay protection
            //# option in Binding Update, it MUST include the mobility message replay
            //# protection option in Binding Acknowledgement.
            if let Some(timestamp) = ts {
                opts.push(MobilityOption::ReplayProtection { timestamp });
            }
            //= https://www.rfc-editor.org/rfc/rfc4285#section-5.1.1
            //# The Home Agent MUST
            //# include this option in the BA if it received this option in the
            //# corresponding BU and Home Agent has a shared-key-based mobility
            //# security association with the Mobile Node.
            opts.push(MobilityOption::MobilityMessageAuthentication {
                subtype: crypto::MN_HA_SUBTYPE,
                spi,
                data: &zero,
            });
        }
        let repr = MhRepr {
            payload_proto: 59,
            message: Message::BindingAck {
                status,
                flags: r.flags,
                sequence,
                lifetime,
            },
            options: Options::List(&opts),
        };
        let mut bytes = alloc::vec![0u8; repr.buffer_len()];
        let ck_dst = match r.ext {
            TxExt::Type2Routing(h) => h,
            _ => r.dst,
        };
        if repr
            .emit_unchecksummed(&mut MhPacket::new_unchecked(&mut bytes[..]))
            .is_err()
        {
            return;
        }
        if let Some(k) = &key
            && !crypto::sign_mn_ha(&mut bytes, k, &r.dst, &r.home)
        {
            return;
        }
        MhPacket::new_unchecked(&mut bytes[..]).fill_checksum(&r.local, &ck_dst);
        self.out.msg(r.local, r.dst, r.ext, 135, bytes);
        self.stats.ba_sent = self.stats.ba_sent.saturating_add(1);
    }

    fn purge_timers(&mut self) {
        let bindings = &self.bindings;
        self.timers
            .purge(|k, g| bindings.get(k).is_some_and(|b| b.timer == g));
        self.timers.compact(
            |k, g| bindings.get(k).is_some_and(|b| b.timer == g),
            bindings.len(),
        );
        let mcoa = &self.mcoa;
        self.bid_timers
            .purge(|k, g| mcoa.get(k).is_some_and(|b| b.timer == g));
        self.bid_timers
            .compact(|k, g| mcoa.get(k).is_some_and(|b| b.timer == g), mcoa.len());
    }

    /// The earliest deadline (absolute).
    pub fn poll_timeout(&self) -> Option<Duration> {
        match (self.timers.next(), self.bid_timers.next()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
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
        let mut due_bids = Vec::new();
        {
            let mcoa = &self.mcoa;
            self.bid_timers.expire(
                now,
                |k, g| mcoa.get(k).is_some_and(|b| b.timer == g),
                |k, _| due_bids.push(k),
            );
        }
        let local = self.cfg.address;
        for home in due {
            self.stats.expired = self.stats.expired.saturating_add(1);
            self.remove(home, local);
        }
        for (home, bid) in due_bids {
            if self.remove_bid(home, bid, local) {
                self.stats.expired = self.stats.expired.saturating_add(1);
                self.after_bid_change(home, local);
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
    fn a_single_binding_entry_does_not_grow_with_mcoa() {
        // The roles bench's budget is 256 bytes per home address with one
        // binding: BIDs live in their own map, the entry keeps its size.
        assert!(core::mem::size_of::<Binding>() <= 72);
        let mut ha = ha_with(|c| c.dad = false);
        send_bu(&mut ha, S, 1, HA_FLAGS, 10, &[]).unwrap();
        assert_eq!((ha.bindings(), ha.bid_bindings()), (1, 0));
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
