//! The correspondent node: return routability responder, Binding Update
//! verification and the binding cache (RFC 6275 §9), with one binding per
//! Binding Identifier (RFC 5648).
//!
//! ```
//! use core::time::Duration;
//! use mip6_proto::cn::{CnConfig, Correspondent};
//! use rand_chacha::ChaCha20Rng;
//! use rand_core::SeedableRng;
//!
//! let mut cn = Correspondent::new(CnConfig::default(), ChaCha20Rng::seed_from_u64(1), Duration::ZERO).unwrap();
//! assert_eq!(cn.bindings(), 0);
//! assert_eq!(cn.poll_timeout(), None);
//! ```
//!
//! ## Binding cache entry machine
//! Each entry follows seed 002's states (Table 7) and events (Table 8), as
//! `shisa-fsm.md` §3 describes them, with RFC 6275 §9.5.5 for the refresh
//! requests (sent only while the binding is in active use, never at expiry):
//!
//! | state | entered | BU (L > 0, CoA ≠ HoA) | BU (L = 0 or CoA = HoA) | TIMEOUT |
//! |---|---|---|---|---|
//! | BOUND | BU accepted: BindingAdded, timer at L/2 | update, BindingAdded, timer at L/2 → BOUND | BindingRemoved, entry deleted | remaining ≥ 3 s: BRR if in use, timer at remaining/2 → WAITB; else BRR if in use, timer at expiry → WAITB2 |
//! | WAITB | the refresh timer fired with ≥ 3 s left | → BOUND | deleted | as in BOUND |
//! | WAITB2 | less than 3 s (MIP6_BRR_INTERVAL) left | → BOUND | deleted | expiry: BindingRemoved, entry deleted |
//!
//! ## Multiple care-of addresses (RFC 5648 §6.2)
//! With [`CnConfig::mcoa`] (the default) a Binding Update carrying one
//! Binding Identifier option registers, refreshes or (lifetime 0)
//! deregisters the binding of that BID only, beside the others of the home
//! address ([`FwdEvent::BidBindingAdded`] / [`FwdEvent::BidBindingRemoved`],
//! [`Correspondent::lookup_bid`]). The authenticator covers the care-of
//! address of the option (or the BID's known one). Several BID options are
//! refused with 168 (bulk registration is for home agents), an unknown BID
//! without care-of address with 167, BID options without O while a
//! regular binding exists with 165, BID 0 or a care-of address that is not
//! global unicast IPv6 with 164, an unknown BID's deregistration with 133.
//! A regular Binding Update replaces (or deletes) every BID binding. The
//! BA copies the BID option with status zero and no care-of address. BID
//! bindings live until their lifetime ends: no Binding Refresh Requests.
#![deny(clippy::arithmetic_side_effects)]

use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;
use core::net::{IpAddr, Ipv6Addr};
use core::time::Duration;

use crate::crypto::{self, Kbm, NonceConfig, NonceTable, RrError};
use crate::wire::mh::{BaFlags, BaStatus, BeStatus, Message, MhPacket, MhRepr};
use crate::wire::options::{MobilityOption, OptionType, Options};
use rand_core::CryptoRng;

use crate::event::{Clock, FwdEvent, OutQueue, Output, RxDatagram, TxExt, is_unicast, seq_greater};
use crate::timer::TimerHeap;

/// MAX_RR_BINDING_LIFETIME (RFC 6275 §12): 420 seconds.
pub const MAX_RR_BINDING_LIFETIME: Duration = Duration::from_secs(420);
/// Below this remaining lifetime an entry enters WAITB2 (SHISA's
/// MIP6_BRR_INTERVAL).
pub const BRR_INTERVAL: Duration = Duration::from_secs(3);

/// When the correspondent sends Binding Refresh Requests (RFC 6275 §9.5.5:
/// a MAY, for bindings in active use).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrrPolicy {
    /// Never.
    Never,
    /// Only for bindings the driver reported traffic on since the last BU
    /// ([`Correspondent::note_traffic`]).
    WhenInUse,
}

/// Configuration of a [`Correspondent`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CnConfig {
    /// Most bindings kept; a new binding beyond it gets BA status 130.
    pub max_bindings: usize,
    /// Longest lifetime granted (at most MAX_RR_BINDING_LIFETIME).
    pub max_binding_lifetime: Duration,
    /// The nonce table's settings.
    pub nonces: NonceConfig,
    /// Binding Refresh Requests.
    pub brr: BrrPolicy,
    /// Shortest gap between two Binding Errors (rate limit, §9.3.3).
    pub binding_error_interval: Duration,
    /// Most spent nonce combinations remembered after deregistrations
    /// (§9.5.3).
    pub max_spent: usize,
    /// Keep one binding per Binding Identifier (RFC 5648 §6.2): a Binding
    /// Update with one BID option registers or deregisters that BID only;
    /// several are refused with 168 (bulk registration is for home agents).
    /// Off: BID options are skipped as unknown options (RFC 6275 §6.2.1).
    pub mcoa: bool,
    /// Most BIDs one home address may hold here (130 beyond).
    pub max_bids: usize,
}

impl Default for CnConfig {
    fn default() -> Self {
        Self {
            max_bindings: 1024,
            max_binding_lifetime: MAX_RR_BINDING_LIFETIME,
            nonces: NonceConfig::default(),
            brr: BrrPolicy::WhenInUse,
            binding_error_interval: Duration::from_millis(100),
            max_spent: 1024,
            mcoa: true,
            max_bids: 8,
        }
    }
}

/// A configuration the correspondent cannot run with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// `max_binding_lifetime` is zero or above MAX_RR_BINDING_LIFETIME.
    BindingLifetime,
    /// `max_bindings` is zero.
    NoBindings,
}

/// Why a datagram changed nothing (counted in [`CnStats`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Dropped {
    /// The Mobility Header does not parse.
    Malformed(crate::wire::Error),
    /// Its checksum is wrong.
    BadChecksum,
    /// Payload Proto is not 59 (§9.2): an ICMPv6 Parameter Problem is due.
    PayloadProto,
    /// A Home or Care-of Test Init carried a Home Address option (§9.4.1).
    TestInitWithHao,
    /// A message a correspondent does not take (HoT, CoT, BA, BE, BRR).
    NotForCorrespondent,
    /// A BU without Nonce Indices and Binding Authorization Data, or with
    /// Binding Authorization Data that is not the last option.
    MissingAuthorization,
    /// The authenticator does not verify.
    BadAuthenticator,
    /// The nonces were spent by a deregistration (§9.5.3).
    SpentNonces,
    /// The source or home address is not a unicast address.
    NotUnicast,
    /// An unknown MH type (a Binding Error with status 2 is sent).
    UnknownType,
    /// The Binding Error was not sent: rate limit.
    RateLimited,
}

/// Counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CnStats {
    /// Home Test Init messages answered.
    pub hoti: u64,
    /// Care-of Test Init messages answered.
    pub coti: u64,
    /// Binding Updates accepted.
    pub bu_accepted: u64,
    /// Binding Updates refused with a Binding Acknowledgement status.
    pub bu_refused: u64,
    /// Binding Acknowledgements sent.
    pub ba_sent: u64,
    /// Binding Refresh Requests sent.
    pub brr_sent: u64,
    /// Binding Errors sent.
    pub be_sent: u64,
    /// Datagrams dropped.
    pub dropped: u64,
    /// Of those, for a bad checksum or a malformed header.
    pub dropped_malformed: u64,
    /// Of those, for a bad or missing authorization.
    pub dropped_auth: u64,
    /// Calls with a time older than the latest one (clamped).
    pub time_went_back: u64,
}

/// The binding cache entry states (seed 002 Table 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BcState {
    /// Registered.
    Bound,
    /// Past half its lifetime: refresh requested.
    WaitB,
    /// Less than [`BRR_INTERVAL`] left.
    WaitB2,
}

#[derive(Debug, Clone)]
struct Binding {
    care_of: Ipv6Addr,
    seq: u16,
    expires: Duration,
    state: BcState,
    timer: u64,
    in_use: bool,
}

type Key = (Ipv6Addr, Ipv6Addr); // (home, local)
type BidKey = (Ipv6Addr, Ipv6Addr, u16); // (home, local, BID)

/// A binding registered with a Binding Identifier (RFC 5648): it lives
/// until its lifetime ends (no refresh requests).
#[derive(Debug, Clone)]
struct BidBinding {
    care_of: Ipv6Addr,
    seq: u16,
    timer: u64,
}

/// Where the Binding Acknowledgement of a Binding Update goes.
#[derive(Debug, Clone, Copy)]
struct Reply {
    local: Ipv6Addr,
    dst: Ipv6Addr,
    ext: TxExt,
    home: Ipv6Addr,
    kbm: Kbm,
    care_of: Ipv6Addr,
    seq: u16,
    bid: u16,
}

/// The correspondent node machine. See the [module docs](self).
pub struct Correspondent<R> {
    cfg: CnConfig,
    rng: R,
    nonces: NonceTable,
    bindings: hashbrown::HashMap<Key, Binding, foldhash::fast::FixedState>,
    timers: TimerHeap<Key>,
    /// RFC 5648 bindings, apart from the regular ones.
    bids: BTreeMap<BidKey, BidBinding>,
    bid_timers: TimerHeap<BidKey>,
    spent: VecDeque<(Ipv6Addr, Ipv6Addr, u16, u16, Duration)>,
    out: OutQueue,
    last_be: Option<Duration>,
    clock: Clock,
    stats: CnStats,
}

impl<R: CryptoRng> Correspondent<R> {
    /// A correspondent with an empty binding cache and a fresh Kcn.
    pub fn new(cfg: CnConfig, mut rng: R, now: Duration) -> Result<Self, ConfigError> {
        if cfg.max_binding_lifetime.is_zero() || cfg.max_binding_lifetime > MAX_RR_BINDING_LIFETIME
        {
            return Err(ConfigError::BindingLifetime);
        }
        if cfg.max_bindings == 0 {
            return Err(ConfigError::NoBindings);
        }
        let nonces = NonceTable::new(cfg.nonces, &mut rng, now);
        let seed = rng.next_u64();
        Ok(Self {
            cfg,
            rng,
            nonces,
            bindings: hashbrown::HashMap::with_hasher(foldhash::fast::FixedState::with_seed(seed)),
            timers: TimerHeap::new(),
            bids: BTreeMap::new(),
            bid_timers: TimerHeap::new(),
            spent: VecDeque::new(),
            out: OutQueue::default(),
            last_be: None,
            clock: Clock::new(now),
            stats: CnStats::default(),
        })
    }

    /// Counters.
    pub fn stats(&self) -> CnStats {
        let mut s = self.stats;
        s.time_went_back = self.clock.went_back;
        s
    }

    /// Number of bindings.
    pub fn bindings(&self) -> usize {
        self.bindings.len()
    }

    /// The care-of address bound to `home` at `local` (for the receive-side
    /// Home Address option check and the send-side type 2 routing header).
    pub fn lookup(&self, home: Ipv6Addr, local: Ipv6Addr) -> Option<Ipv6Addr> {
        self.bindings.get(&(home, local)).map(|b| b.care_of)
    }

    /// The care-of address of `home`'s binding `bid` at `local` (RFC 5648).
    pub fn lookup_bid(&self, home: Ipv6Addr, local: Ipv6Addr, bid: u16) -> Option<Ipv6Addr> {
        self.bids.get(&(home, local, bid)).map(|b| b.care_of)
    }

    /// Number of bindings registered with a Binding Identifier.
    pub fn bid_bindings(&self) -> usize {
        self.bids.len()
    }

    fn bid_range(
        &self,
        home: Ipv6Addr,
        local: Ipv6Addr,
    ) -> impl Iterator<Item = (&BidKey, &BidBinding)> {
        self.bids.range((home, local, 0)..=(home, local, u16::MAX))
    }

    /// Deletes the BID bindings of `home` at `local` (all, or all but
    /// `keep`).
    fn clear_bids(&mut self, home: Ipv6Addr, local: Ipv6Addr, keep: Option<u16>) {
        let keys: Vec<BidKey> = self
            .bid_range(home, local)
            .map(|(k, _)| *k)
            .filter(|k| Some(k.2) != keep)
            .collect();
        for k in keys {
            self.bids.remove(&k);
            self.out.fwd(FwdEvent::BidBindingRemoved {
                home,
                local,
                bid: k.2,
            });
        }
    }

    /// A Binding Update with Binding Identifier options, authenticated
    /// (RFC 5648 §6.2, correspondent side).
    #[allow(clippy::too_many_arguments)]
    fn bid_update(
        &mut self,
        now: Duration,
        r: Reply,
        bid_opts: &[(u16, Option<IpAddr>)],
        flags: crate::wire::mh::BuFlags,
        lifetime: u16,
        dereg: bool,
        nonces: (u16, u16),
        ack: bool,
    ) -> Result<(), Dropped> {
        let (home, local, seq, bid) = (r.home, r.local, r.seq, r.bid);
        let refuse = |cn: &mut Self, status: BaStatus, seq: u16| {
            cn.stats.bu_refused = cn.stats.bu_refused.saturating_add(1);
            cn.send_ba_bid(&r, status, seq, 0);
            Ok(())
        };
        //= https://www.rfc-editor.org/rfc/rfc5648#section-6.2
        //# If the receiving node is a correspondent node, it MUST reject the Binding
        //# Update and return the status value set to [MCOA BULK REGISTRATION
        //# PROHIBITED] in the binding Acknowledgement.
        if bid_opts.len() > 1 {
            return refuse(self, BaStatus::MCOA_BULK_REGISTRATION_PROHIBITED, seq);
        }
        let malformed = bid == 0
            || match bid_opts.first().and_then(|b| b.1) {
                Some(IpAddr::V6(c)) => !is_unicast(c) || c.is_unicast_link_local(),
                Some(IpAddr::V4(_)) => true,
                None => false,
            };
        if malformed {
            return refuse(self, BaStatus::MCOA_MALFORMED, seq);
        }
        let last = self
            .bindings
            .get(&(home, local))
            .map(|b| b.seq)
            .or_else(|| self.bid_range(home, local).next().map(|(_, b)| b.seq));
        if let Some(last) = last
            && !seq_greater(seq, last)
        {
            return refuse(self, BaStatus::SEQUENCE_NUMBER_OUT_OF_WINDOW, last);
        }
        let key = (home, local, bid);
        if dereg {
            //= https://www.rfc-editor.org/rfc/rfc5648#section-6.2
            //# If the receiving
            //# node does not have an appropriate binding for the BID, it MUST
            //# reject the Binding Update and send a Binding Acknowledgement with
            //# status set to 133 [not home agent for this mobile node].
            if self.bids.remove(&key).is_none() {
                return refuse(self, BaStatus::NOT_HOME_AGENT_FOR_THIS_MN, seq);
            }
            self.out
                .fwd(FwdEvent::BidBindingRemoved { home, local, bid });
            while self.spent.len() >= self.cfg.max_spent.max(1) {
                self.spent.pop_front();
            }
            let until = now.saturating_add(self.cfg.nonces.nonce_lifetime);
            self.spent
                .push_back((home, r.care_of, nonces.0, nonces.1, until));
            self.set_bid_seq(home, local, seq);
            self.stats.bu_accepted = self.stats.bu_accepted.saturating_add(1);
            if ack {
                self.send_ba_bid(&r, BaStatus::ACCEPTED, seq, 0);
            }
            self.purge_timers();
            return Ok(());
        }
        let known = self.bids.contains_key(&key);
        if bid_opts.first().is_some_and(|b| b.1.is_none()) && !known {
            return refuse(self, BaStatus::MCOA_UNKNOWN_COA, seq);
        }
        let overwrite = flags.contains(crate::wire::mh::BuFlags::O);
        let regular = self.bindings.contains_key(&(home, local));
        if regular && !overwrite {
            return refuse(self, BaStatus::MCOA_NON_MCOA_BINDING_EXISTS, seq);
        }
        let count = if overwrite {
            0
        } else {
            self.bid_range(home, local).count()
        };
        let total = self.bindings.len().saturating_add(self.bids.len());
        if (!known || overwrite) && (count >= self.cfg.max_bids || total >= self.cfg.max_bindings) {
            return refuse(self, BaStatus::INSUFFICIENT_RESOURCES, seq);
        }
        if overwrite {
            if self.bindings.remove(&(home, local)).is_some() {
                self.out.fwd(FwdEvent::BindingRemoved { home, local });
            }
            self.clear_bids(home, local, Some(bid));
        }
        let requested = Duration::from_secs(u64::from(lifetime).saturating_mul(4));
        let granted = requested.min(self.cfg.max_binding_lifetime);
        let units = u16::try_from(granted.as_secs() / 4).unwrap_or(u16::MAX);
        let expires = now.saturating_add(Duration::from_secs(u64::from(units).saturating_mul(4)));
        let timer = self.bid_timers.arm(expires, key);
        self.bids.insert(
            key,
            BidBinding {
                care_of: r.care_of,
                seq,
                timer,
            },
        );
        self.set_bid_seq(home, local, seq);
        self.purge_timers();
        self.stats.bu_accepted = self.stats.bu_accepted.saturating_add(1);
        self.out.fwd(FwdEvent::BidBindingAdded {
            home,
            care_of: r.care_of,
            local,
            bid,
            expires,
        });
        if ack {
            self.send_ba_bid(&r, BaStatus::ACCEPTED, seq, units);
        }
        Ok(())
    }

    //= https://www.rfc-editor.org/rfc/rfc5648#section-4.1
    //# The sequence number value MUST be shared among all the Binding Update
    //# List entries related to Binding Updates sent to a particular home
    //# agent or correspondent node.
    fn set_bid_seq(&mut self, home: Ipv6Addr, local: Ipv6Addr, seq: u16) {
        for (_, b) in self
            .bids
            .range_mut((home, local, 0)..=(home, local, u16::MAX))
        {
            b.seq = seq;
        }
    }

    /// A BA that copies the BID option (status zero, no care-of address:
    /// RFC 5648 §6.2) before the Binding Authorization Data.
    fn send_ba_bid(&mut self, r: &Reply, status: BaStatus, sequence: u16, lifetime: u16) {
        if !is_unicast(r.dst) {
            return;
        }
        let zero = [0u8; 12];
        //= https://www.rfc-editor.org/rfc/rfc5648#section-6.2
        //# When a correspondent node sends a Binding Acknowledgement, the status
        //# value MUST always be stored in the Status field of the Binding
        //# Acknowledgement and the Status field of the Binding Identifier
        //# mobility option MUST always be set to zero.
        let opts = [
            MobilityOption::BindingIdentifier {
                bid: r.bid,
                status: 0,
                h: false,
                care_of: None,
            },
            MobilityOption::BindingAuthorizationData(&zero),
        ];
        let repr = MhRepr {
            payload_proto: 59,
            message: Message::BindingAck {
                status,
                flags: BaFlags(0),
                sequence,
                lifetime,
            },
            options: Options::List(&opts),
        };
        let ck_dst = match r.ext {
            TxExt::Type2Routing(h) => h,
            _ => r.dst,
        };
        if self.queue_msg(
            &repr,
            r.local,
            r.dst,
            r.ext,
            r.local,
            ck_dst,
            Some((&r.kbm, r.care_of)),
        ) {
            self.stats.ba_sent = self.stats.ba_sent.saturating_add(1);
        }
    }

    /// The state of the binding for `home` at `local`.
    pub fn binding_state(&self, home: Ipv6Addr, local: Ipv6Addr) -> Option<BcState> {
        self.bindings.get(&(home, local)).map(|b| b.state)
    }

    /// The driver saw traffic on the binding (makes it eligible for a
    /// Binding Refresh Request).
    pub fn note_traffic(&mut self, home: Ipv6Addr, local: Ipv6Addr) {
        if let Some(b) = self.bindings.get_mut(&(home, local)) {
            b.in_use = true;
        }
    }

    fn drop(&mut self, why: Dropped) -> Result<(), Dropped> {
        self.stats.dropped = self.stats.dropped.saturating_add(1);
        match why {
            Dropped::Malformed(_) | Dropped::BadChecksum | Dropped::PayloadProto => {
                self.stats.dropped_malformed = self.stats.dropped_malformed.saturating_add(1);
            }
            Dropped::MissingAuthorization | Dropped::BadAuthenticator | Dropped::SpentNonces => {
                self.stats.dropped_auth = self.stats.dropped_auth.saturating_add(1);
            }
            _ => {}
        }
        Err(why)
    }

    /// A packet carrying a Home Address option for `home` arrived from
    /// `src` to `local`, and no binding exists (§9.3.1): answer with a
    /// Binding Error, status 1 (rate-limited).
    pub fn handle_unknown_hao(
        &mut self,
        now: Duration,
        src: Ipv6Addr,
        local: Ipv6Addr,
        home: Ipv6Addr,
    ) -> Result<(), Dropped> {
        let now = self.clock.advance(now);
        if self.bindings.contains_key(&(home, local)) {
            return Ok(());
        }
        self.binding_error(now, local, src, BeStatus::UNKNOWN_BINDING_FOR_HAO, home)
    }

    fn binding_error(
        &mut self,
        now: Duration,
        src: Ipv6Addr,
        dst: Ipv6Addr,
        status: BeStatus,
        home: Ipv6Addr,
    ) -> Result<(), Dropped> {
        //= https://www.rfc-editor.org/rfc/rfc6275#section-9.3.3
        //# If the Source Address field does not contain a unicast address, the Binding
        //# Error message MUST NOT be sent.
        if !is_unicast(dst) {
            return self.drop(Dropped::NotUnicast);
        }
        if self
            .last_be
            .is_some_and(|t| now.saturating_sub(t) < self.cfg.binding_error_interval)
        {
            return self.drop(Dropped::RateLimited);
        }
        self.last_be = Some(now);
        let repr = MhRepr::new(Message::BindingError {
            status,
            home_address: home,
        });
        if self.queue_msg(&repr, src, dst, TxExt::None, src, dst, None) {
            self.stats.be_sent = self.stats.be_sent.saturating_add(1);
        }
        Ok(())
    }

    /// Emits `repr` (signed with `sign = Some((kbm, care_of))`) and queues it.
    #[allow(clippy::too_many_arguments)]
    fn queue_msg(
        &mut self,
        repr: &MhRepr<'_>,
        src: Ipv6Addr,
        dst: Ipv6Addr,
        ext: TxExt,
        ck_src: Ipv6Addr,
        ck_dst: Ipv6Addr,
        sign: Option<(&Kbm, Ipv6Addr)>,
    ) -> bool {
        let mut buf = alloc::vec![0u8; repr.buffer_len()];
        if repr
            .emit_unchecksummed(&mut MhPacket::new_unchecked(&mut buf[..]))
            .is_err()
        {
            return false;
        }
        if let Some((kbm, care_of)) = sign
            && !crypto::sign_mh(&mut buf, kbm, &care_of, &src)
        {
            return false;
        }
        MhPacket::new_unchecked(&mut buf[..]).fill_checksum(&ck_src, &ck_dst);
        self.out.msg(src, dst, ext, 135, buf);
        true
    }

    /// A Mobility Header arrived. Errors are the reasons it changed nothing
    /// but counters; answers (HoT, CoT, BA, BE) are queued for
    /// [`Correspondent::poll_output`].
    pub fn handle_datagram(&mut self, now: Duration, rx: &RxDatagram<'_>) -> Result<(), Dropped> {
        let now = self.clock.advance(now);
        let pkt = match MhPacket::new_checked(rx.payload) {
            Ok(p) => p,
            Err(e) => return self.drop(Dropped::Malformed(e)),
        };
        let home_src = rx.hao.unwrap_or(rx.src);
        //= https://www.rfc-editor.org/rfc/rfc6275#section-9.2
        //# The checksum must be verified as per Section 6.1.  If invalid, the
        //# node MUST silently discard the message.
        let repr = match MhRepr::parse(&pkt, &home_src, &rx.dst) {
            Ok(r) => r,
            Err(crate::wire::Error::BadChecksum) => return self.drop(Dropped::BadChecksum),
            Err(e) => return self.drop(Dropped::Malformed(e)),
        };
        if let Message::Unknown { .. } = repr.message {
            //= https://www.rfc-editor.org/rfc/rfc6275#section-9.2
            //# Otherwise, the node MUST discard the message and issue a Binding
            //# Error message as described in Section 9.3.3, with the Status field
            //# set to 2 (unrecognized MH Type value).
            let home = rx.hao.unwrap_or(Ipv6Addr::UNSPECIFIED);
            self.binding_error(now, rx.dst, rx.src, BeStatus::UNRECOGNIZED_MH_TYPE, home)?;
            return self.drop(Dropped::UnknownType);
        }
        if repr.payload_proto != 59 {
            return self.drop(Dropped::PayloadProto);
        }
        match repr.message {
            Message::HomeTestInit { cookie } => {
                if rx.hao.is_some() {
                    return self.drop(Dropped::TestInitWithHao);
                }
                let (nonce_index, token) = self.nonces.home_token(&mut self.rng, now, &rx.src);
                let hot = MhRepr::new(Message::HomeTest {
                    nonce_index,
                    cookie,
                    token,
                });
                if self.queue_msg(&hot, rx.dst, rx.src, TxExt::None, rx.dst, rx.src, None) {
                    self.stats.hoti = self.stats.hoti.saturating_add(1);
                }
                Ok(())
            }
            Message::CareOfTestInit { cookie } => {
                if rx.hao.is_some() {
                    return self.drop(Dropped::TestInitWithHao);
                }
                let (nonce_index, token) = self.nonces.care_of_token(&mut self.rng, now, &rx.src);
                let cot = MhRepr::new(Message::CareOfTest {
                    nonce_index,
                    cookie,
                    token,
                });
                if self.queue_msg(&cot, rx.dst, rx.src, TxExt::None, rx.dst, rx.src, None) {
                    self.stats.coti = self.stats.coti.saturating_add(1);
                }
                Ok(())
            }
            Message::BindingUpdate {
                sequence,
                flags,
                lifetime,
            } => self.binding_update(now, rx, &repr.options, sequence, flags, lifetime),
            _ => self.drop(Dropped::NotForCorrespondent),
        }
    }

    #[allow(clippy::too_many_lines)]
    fn binding_update(
        &mut self,
        now: Duration,
        rx: &RxDatagram<'_>,
        options: &Options<'_>,
        seq: u16,
        flags: crate::wire::mh::BuFlags,
        lifetime: u16,
    ) -> Result<(), Dropped> {
        let home = rx.hao.unwrap_or(rx.src);
        let local = rx.dst;
        //= https://www.rfc-editor.org/rfc/rfc6275#section-9.5.1
        //# The packet MUST contain a unicast routable home address, either in
        //# the Home Address option or in the Source Address, if the Home
        //# Address option is not present.
        if !is_unicast(home) || !is_unicast(rx.src) {
            return self.drop(Dropped::NotUnicast);
        }
        let care_of = match options.find(OptionType::ALTERNATE_CARE_OF_ADDRESS) {
            Some(MobilityOption::AlternateCareOfAddress(a)) => a,
            _ => rx.src,
        };
        // The BA goes to the source address, with a type 2 routing header
        // when the BU carried a Home Address option (§9.5.4).
        let (ba_dst, ba_ext) = match rx.hao {
            Some(h) => (rx.src, TxExt::Type2Routing(h)),
            None => (rx.src, TxExt::None),
        };
        let ack = flags.contains(crate::wire::mh::BuFlags::A);
        if flags.contains(crate::wire::mh::BuFlags::H) {
            //= https://www.rfc-editor.org/rfc/rfc6275#section-10.3.1
            //# If the node implements only correspondent node functionality, or
            //# has not been configured to act as a home agent, then the node MUST
            //# reject the Binding Update.  The node MUST also return a Binding
            //# Acknowledgement to the mobile node, in which the Status field is
            //# set to 131 (home registration not supported).
            self.stats.bu_refused = self.stats.bu_refused.saturating_add(1);
            self.send_ba(
                local,
                ba_dst,
                ba_ext,
                home,
                BaStatus::HOME_REGISTRATION_NOT_SUPPORTED,
                seq,
                0,
                None,
                care_of,
            );
            return Ok(());
        }
        let (
            Some(MobilityOption::NonceIndices {
                home: hi,
                care_of: ci,
            }),
            Some(MobilityOption::BindingAuthorizationData(_)),
        ) = (
            options.find(OptionType::NONCE_INDICES),
            options.find(OptionType::BINDING_AUTHORIZATION_DATA),
        )
        else {
            return self.drop(Dropped::MissingAuthorization);
        };
        //= https://www.rfc-editor.org/rfc/rfc6275#section-9.5.1
        //# The Binding Authorization Data mobility option MUST be the last
        //# option and MUST NOT have trailing padding.
        // (verify_mh only accepts a message ending with the 12-octet field.)
        let bid_opts: Vec<(u16, Option<IpAddr>)> = if self.cfg.mcoa {
            options
                .iter()
                .flatten()
                .filter_map(|o| match o {
                    MobilityOption::BindingIdentifier { bid, care_of, .. } => Some((bid, care_of)),
                    _ => None,
                })
                .collect()
        } else {
            Vec::new()
        };
        //= https://www.rfc-editor.org/rfc/rfc5648#section-5.2
        //# The care-of Keygen tokens MUST be maintained for
        //# each care-of address that the mobile node wants to register to the
        //# correspondent node.
        // The care-of address of a BID registration is in its option, or
        // known from the BID's binding.
        let care_of = match bid_opts.first() {
            Some((_, Some(IpAddr::V6(c)))) => *c,
            Some((b, None)) => self
                .bids
                .get(&(home, local, *b))
                .map_or(care_of, |e| e.care_of),
            _ => care_of,
        };
        let dereg = lifetime == 0 || care_of == home;
        let mh_len = MhPacket::new_checked(rx.payload)
            .map(|p| p.total_len())
            .unwrap_or(0);
        let mh = rx.payload.get(..mh_len).unwrap_or(&[]);
        if self.spent.iter().any(|s| {
            s.0 == home && s.1 == care_of && s.2 == hi && (dereg || s.3 == ci) && s.4 > now
        }) {
            return self.drop(Dropped::SpentNonces);
        }
        let kbm = match self
            .nonces
            .verify_bu(now, mh, &home, &care_of, &local, hi, ci, dereg)
        {
            Ok(k) => k,
            Err(RrError::BadAuthenticator) => return self.drop(Dropped::BadAuthenticator),
            Err(e) => {
                //= https://www.rfc-editor.org/rfc/rfc6275#section-9.5.1
                //# If the receiving node no longer recognizes the Home Nonce Index
                //# value, Care-of Nonce Index value, or both values from the Binding
                //# Update, then the receiving node MUST send back a Binding
                //# Acknowledgement with status code 136, 137, or 138, respectively.
                let status = e.ba_status().unwrap_or(BaStatus::REASON_UNSPECIFIED);
                self.stats.bu_refused = self.stats.bu_refused.saturating_add(1);
                self.send_ba(local, ba_dst, ba_ext, home, status, seq, 0, None, care_of);
                return Ok(());
            }
        };
        if let Some(&(bid, _)) = bid_opts.first() {
            let r = Reply {
                local,
                dst: ba_dst,
                ext: ba_ext,
                home,
                kbm,
                care_of,
                seq,
                bid,
            };
            return self.bid_update(now, r, &bid_opts, flags, lifetime, dereg, (hi, ci), ack);
        }
        let key = (home, local);
        let last = self
            .bindings
            .get(&key)
            .map(|b| b.seq)
            .or_else(|| self.bid_range(home, local).next().map(|(_, b)| b.seq));
        if let Some(last) = last
            && !seq_greater(seq, last)
        {
            //= https://www.rfc-editor.org/rfc/rfc6275#section-9.5.1
            //# If the mobile node sends a sequence number that is not greater than
            //# the sequence number from the last valid Binding Update for this home
            //# address, then the receiving node MUST send back a Binding
            //# Acknowledgement with status code 135, and the last accepted sequence
            //# number in the Sequence Number field of the Binding Acknowledgement.
            self.stats.bu_refused = self.stats.bu_refused.saturating_add(1);
            self.send_ba(
                local,
                ba_dst,
                ba_ext,
                home,
                BaStatus::SEQUENCE_NUMBER_OUT_OF_WINDOW,
                last,
                0,
                Some(&kbm),
                care_of,
            );
            return Ok(());
        }
        //= https://www.rfc-editor.org/rfc/rfc5648#section-6.2
        //# If the receiver already has multiple bindings for the home address, it MUST
        //# replace all the existing bindings with the received binding.  If the
        //# [RFC3775] Binding Update is for de-registration, the receiver MUST
        //# delete all existing bindings from its binding cache.
        if dereg {
            self.clear_bids(home, local, None);
            if self.bindings.remove(&key).is_some() {
                self.out.fwd(FwdEvent::BindingRemoved { home, local });
            }
            //= https://www.rfc-editor.org/rfc/rfc6275#section-9.5.3
            //# If both nonces are still valid, the correspondent node has to remember the
            //# particular combination of nonce indices, addresses, and sequence
            //# number as illegal until at least one of the nonces has become too
            //# old.
            while self.spent.len() >= self.cfg.max_spent.max(1) {
                self.spent.pop_front();
            }
            let until = now.saturating_add(self.cfg.nonces.nonce_lifetime);
            self.spent.push_back((home, care_of, hi, ci, until));
            self.stats.bu_accepted = self.stats.bu_accepted.saturating_add(1);
            if ack {
                self.send_ba(
                    local,
                    ba_dst,
                    ba_ext,
                    home,
                    BaStatus::ACCEPTED,
                    seq,
                    0,
                    Some(&kbm),
                    care_of,
                );
            }
            return Ok(());
        }
        if !self.bindings.contains_key(&key)
            && self
                .bindings
                .len()
                .saturating_add(self.bids.len())
                .saturating_sub(self.bid_range(home, local).count())
                >= self.cfg.max_bindings
        {
            //= https://www.rfc-editor.org/rfc/rfc6275#section-9.5.2
            //# In both cases the correspondent node SHOULD return a Binding
            //# Acknowledgement with status value 130.
            self.stats.bu_refused = self.stats.bu_refused.saturating_add(1);
            self.send_ba(
                local,
                ba_dst,
                ba_ext,
                home,
                BaStatus::INSUFFICIENT_RESOURCES,
                seq,
                0,
                Some(&kbm),
                care_of,
            );
            return Ok(());
        }
        //= https://www.rfc-editor.org/rfc/rfc6275#section-9.5.2
        //# the lifetime for the Binding Cache entry MUST NOT be greater than the Lifetime
        //# value specified in the Binding Update.
        let requested = Duration::from_secs(u64::from(lifetime).saturating_mul(4));
        let granted = requested.min(self.cfg.max_binding_lifetime);
        let units = u16::try_from(granted.as_secs() / 4).unwrap_or(u16::MAX);
        let granted = Duration::from_secs(u64::from(units).saturating_mul(4));
        let expires = now.saturating_add(granted);
        let refresh_at = now.saturating_add(granted.checked_div(2).unwrap_or_default());
        self.clear_bids(home, local, None);
        let timer = self.timers.arm(refresh_at, key);
        self.bindings.insert(
            key,
            Binding {
                care_of,
                seq,
                expires,
                state: BcState::Bound,
                timer,
                in_use: false,
            },
        );
        self.purge_timers();
        self.stats.bu_accepted = self.stats.bu_accepted.saturating_add(1);
        self.out.fwd(FwdEvent::BindingAdded {
            home,
            care_of,
            local,
            expires,
        });
        if ack {
            self.send_ba(
                local,
                ba_dst,
                ba_ext,
                home,
                BaStatus::ACCEPTED,
                seq,
                units,
                Some(&kbm),
                care_of,
            );
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn send_ba(
        &mut self,
        src: Ipv6Addr,
        dst: Ipv6Addr,
        ext: TxExt,
        home: Ipv6Addr,
        status: BaStatus,
        sequence: u16,
        lifetime: u16,
        kbm: Option<&Kbm>,
        care_of: Ipv6Addr,
    ) {
        if !is_unicast(dst) {
            return;
        }
        let zero = [0u8; 12];
        let opts = [MobilityOption::BindingAuthorizationData(&zero)];
        //= https://www.rfc-editor.org/rfc/rfc6275#section-9.5.4
        //# If the Status field in the Binding Acknowledgement contains the value
        //# 136 (expired home nonce index), 137 (expired care-of nonce index), or
        //# 138 (expired nonces), then the message MUST NOT include the Binding
        //# Authorization Data mobility option.
        let options = match kbm {
            Some(_) => Options::List(&opts),
            None => Options::List(&[]),
        };
        let repr = MhRepr {
            payload_proto: 59,
            message: Message::BindingAck {
                status,
                flags: BaFlags(0),
                sequence,
                lifetime,
            },
            options,
        };
        // The checksum's destination is the final one: the home address
        // behind the type 2 routing header.
        let ck_dst = match ext {
            TxExt::Type2Routing(h) => h,
            _ => dst,
        };
        let _ = home;
        if self.queue_msg(&repr, src, dst, ext, src, ck_dst, kbm.map(|k| (k, care_of))) {
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
        let bids = &self.bids;
        self.bid_timers
            .purge(|k, g| bids.get(k).is_some_and(|b| b.timer == g));
        self.bid_timers
            .compact(|k, g| bids.get(k).is_some_and(|b| b.timer == g), bids.len());
    }

    /// The earliest deadline (absolute).
    pub fn poll_timeout(&self) -> Option<Duration> {
        match (self.timers.next(), self.bid_timers.next()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Runs the binding cache entry machines whose timers are due.
    /// Spurious calls are no-ops.
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
            let bids = &self.bids;
            self.bid_timers.expire(
                now,
                |k, g| bids.get(k).is_some_and(|b| b.timer == g),
                |k, _| due_bids.push(k),
            );
        }
        for k in due_bids {
            if self.bids.remove(&k).is_some() {
                self.out.fwd(FwdEvent::BidBindingRemoved {
                    home: k.0,
                    local: k.1,
                    bid: k.2,
                });
            }
        }
        for key in due {
            let Some(b) = self.bindings.get(&key) else {
                continue;
            };
            let (state, expires, care_of, in_use) = (b.state, b.expires, b.care_of, b.in_use);
            if state == BcState::WaitB2 || expires <= now {
                self.bindings.remove(&key);
                self.out.fwd(FwdEvent::BindingRemoved {
                    home: key.0,
                    local: key.1,
                });
                continue;
            }
            let remaining = expires.saturating_sub(now);
            let (next_state, at) = if remaining >= BRR_INTERVAL {
                (
                    BcState::WaitB,
                    now.saturating_add(remaining.checked_div(2).unwrap_or_default()),
                )
            } else {
                (BcState::WaitB2, expires)
            };
            if self.cfg.brr == BrrPolicy::WhenInUse && in_use {
                //= https://www.rfc-editor.org/rfc/rfc6275#section-9.5.5
                //# If the sender knows that the Binding Cache entry is still in active
                //# use, it MAY send a Binding Refresh Request message to the mobile node
                let brr = MhRepr::new(Message::BindingRefreshRequest);
                if self.queue_msg(
                    &brr,
                    key.1,
                    care_of,
                    TxExt::Type2Routing(key.0),
                    key.1,
                    key.0,
                    None,
                ) {
                    self.stats.brr_sent = self.stats.brr_sent.saturating_add(1);
                }
            }
            let timer = self.timers.arm(at, key);
            if let Some(b) = self.bindings.get_mut(&key) {
                b.state = next_state;
                b.timer = timer;
            }
        }
        self.purge_timers();
    }

    /// The next output, in causal order. On [`Output::Transmit`] the
    /// Mobility Header's bytes are appended to `buf`.
    pub fn poll_output(&mut self, buf: &mut Vec<u8>) -> Option<Output> {
        self.out.poll(buf)
    }
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)]
mod tests {
    use super::*;
    use crate::crypto::{kbm, verify_mh};
    use crate::event::Transmit;
    use crate::wire::mh::BuFlags;
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

    struct Mn {
        hoa: Ipv6Addr,
        coa: Ipv6Addr,
        cn: Ipv6Addr,
    }

    fn setup() -> (Correspondent<ChaCha20Rng>, Mn) {
        let cn = Correspondent::new(
            CnConfig::default(),
            ChaCha20Rng::seed_from_u64(7),
            Duration::ZERO,
        )
        .unwrap();
        (
            cn,
            Mn {
                hoa: a("2001:db8:1::100"),
                coa: a("2001:db8:2::200"),
                cn: a("2001:db8:9::9"),
            },
        )
    }

    fn emit(repr: &MhRepr<'_>, src: Ipv6Addr, dst: Ipv6Addr) -> Vec<u8> {
        let mut b = alloc::vec![0u8; repr.buffer_len()];
        repr.emit(&mut MhPacket::new_unchecked(&mut b[..]), &src, &dst)
            .unwrap();
        b
    }

    fn drain(cn: &mut Correspondent<ChaCha20Rng>) -> Vec<(Output, Vec<u8>)> {
        let mut v = Vec::new();
        loop {
            let mut buf = Vec::new();
            match cn.poll_output(&mut buf) {
                Some(o) => v.push((o, buf)),
                None => return v,
            }
        }
    }

    fn rx<'a>(
        src: Ipv6Addr,
        dst: Ipv6Addr,
        hao: Option<Ipv6Addr>,
        payload: &'a [u8],
    ) -> RxDatagram<'a> {
        RxDatagram {
            src,
            dst,
            hao,
            rh2: None,
            tunnelled: false,
            next_header: 135,
            payload,
        }
    }

    /// Runs HoTI/CoTI and returns (home index, care-of index, Kbm).
    fn rr(cn: &mut Correspondent<ChaCha20Rng>, mn: &Mn, now: Duration) -> (u16, u16, Kbm) {
        let hoti = emit(
            &MhRepr::new(Message::HomeTestInit { cookie: [1; 8] }),
            mn.hoa,
            mn.cn,
        );
        cn.handle_datagram(now, &rx(mn.hoa, mn.cn, None, &hoti))
            .unwrap();
        let coti = emit(
            &MhRepr::new(Message::CareOfTestInit { cookie: [2; 8] }),
            mn.coa,
            mn.cn,
        );
        cn.handle_datagram(now, &rx(mn.coa, mn.cn, None, &coti))
            .unwrap();
        let out = drain(cn);
        assert_eq!(out.len(), 2);
        fn parse(x: &(Output, Vec<u8>)) -> (Transmit, Message<'_>) {
            let (o, b) = x;
            let Output::Transmit(t) = o else { panic!() };
            let r = MhRepr::parse(&MhPacket::new_checked(&b[..]).unwrap(), &t.src, &t.dst).unwrap();
            (*t, r.message)
        }
        let (t1, hot) = parse(&out[0]);
        let (t2, cot) = parse(&out[1]);
        assert_eq!(
            (t1.src, t1.dst, t1.ext),
            (mn.cn, mn.hoa, TxExt::None),
            "HoT to the home address"
        );
        assert_eq!(
            (t2.src, t2.dst),
            (mn.cn, mn.coa),
            "CoT to the care-of address"
        );
        let Message::HomeTest {
            nonce_index: hi,
            cookie: c1,
            token: ht,
        } = hot
        else {
            panic!()
        };
        let Message::CareOfTest {
            nonce_index: ci,
            cookie: c2,
            token: ct,
        } = cot
        else {
            panic!()
        };
        assert_eq!((c1, c2), ([1; 8], [2; 8]), "cookies echoed");
        (hi, ci, kbm(&ht, Some(&ct)))
    }

    fn bu(mn: &Mn, seq: u16, flags: BuFlags, lifetime: u16, hi: u16, ci: u16, k: &Kbm) -> Vec<u8> {
        let zero = [0u8; 12];
        let opts = [
            MobilityOption::NonceIndices {
                home: hi,
                care_of: ci,
            },
            MobilityOption::BindingAuthorizationData(&zero),
        ];
        let repr = MhRepr {
            payload_proto: 59,
            message: Message::BindingUpdate {
                sequence: seq,
                flags,
                lifetime,
            },
            options: Options::List(&opts),
        };
        let mut b = alloc::vec![0u8; repr.buffer_len()];
        repr.emit_unchecksummed(&mut MhPacket::new_unchecked(&mut b[..]))
            .unwrap();
        assert!(crypto::sign_mh(&mut b, k, &mn.coa, &mn.cn));
        MhPacket::new_unchecked(&mut b[..]).fill_checksum(&mn.hoa, &mn.cn);
        b
    }

    fn ba_of(out: &[(Output, Vec<u8>)], mn: &Mn) -> (Transmit, BaStatus, u16, u16, Vec<u8>) {
        let (o, b) = out
            .iter()
            .find(|(o, _)| matches!(o, Output::Transmit(_)))
            .unwrap();
        let Output::Transmit(t) = o else { panic!() };
        assert_eq!(
            (t.src, t.dst, t.ext),
            (mn.cn, mn.coa, TxExt::Type2Routing(mn.hoa)),
            "BA via RH2"
        );
        // The checksum covers the final destination, the home address.
        let r = MhRepr::parse(&MhPacket::new_checked(&b[..]).unwrap(), &mn.cn, &mn.hoa).unwrap();
        let Message::BindingAck {
            status,
            sequence,
            lifetime,
            ..
        } = r.message
        else {
            panic!()
        };
        (*t, status, sequence, lifetime, b.clone())
    }

    #[test]
    fn rr_then_bu_creates_a_binding_and_an_authenticated_ba() {
        let (mut cn, mn) = setup();
        let (hi, ci, k) = rr(&mut cn, &mn, S);
        let m = bu(&mn, 10, BuFlags::A, 200, hi, ci, &k); // 800 s requested
        cn.handle_datagram(2 * S, &rx(mn.coa, mn.cn, Some(mn.hoa), &m))
            .unwrap();
        let out = drain(&mut cn);
        assert_eq!(out.len(), 2);
        // The forwarding event comes before the BA it makes usable.
        assert_eq!(
            out[0].0,
            Output::Fwd(FwdEvent::BindingAdded {
                home: mn.hoa,
                care_of: mn.coa,
                local: mn.cn,
                expires: 2 * S + MAX_RR_BINDING_LIFETIME
            })
        );
        let (_, status, seq, life, b) = ba_of(&out, &mn);
        assert_eq!(
            (status, seq, life),
            (BaStatus::ACCEPTED, 10, 105),
            "420 s cap = 105 units"
        );
        assert!(
            verify_mh(&b, &k, &mn.coa, &mn.cn),
            "BA carries a valid authenticator"
        );
        assert_eq!(cn.lookup(mn.hoa, mn.cn), Some(mn.coa));
        assert_eq!(cn.binding_state(mn.hoa, mn.cn), Some(BcState::Bound));

        // The same BU again: sequence not greater → 135 with the last sequence.
        cn.handle_datagram(3 * S, &rx(mn.coa, mn.cn, Some(mn.hoa), &m))
            .unwrap();
        let out = drain(&mut cn);
        let (_, status, seq, _, b) = ba_of(&out, &mn);
        assert_eq!((status, seq), (BaStatus::SEQUENCE_NUMBER_OUT_OF_WINDOW, 10));
        assert!(verify_mh(&b, &k, &mn.coa, &mn.cn));
        // Sequence comparison is modulo 2^16: 10 + 32767 is greater, 10 + 32768 is not.
        assert!(seq_greater(10u16.wrapping_add(32767), 10));
        assert!(!seq_greater(10u16.wrapping_add(32768), 10));
    }

    #[allow(clippy::too_many_arguments)]
    fn bu_bid(
        mn: &Mn,
        seq: u16,
        flags: BuFlags,
        lifetime: u16,
        hi: u16,
        ci: u16,
        k: &Kbm,
        bids: &[MobilityOption<'_>],
    ) -> Vec<u8> {
        let zero = [0u8; 12];
        // RFC 5648 §5.2: the Binding Authorization Data after the BID option.
        let mut opts: Vec<MobilityOption<'_>> = bids.to_vec();
        opts.push(MobilityOption::NonceIndices {
            home: hi,
            care_of: ci,
        });
        opts.push(MobilityOption::BindingAuthorizationData(&zero));
        let repr = MhRepr {
            payload_proto: 59,
            message: Message::BindingUpdate {
                sequence: seq,
                flags,
                lifetime,
            },
            options: Options::List(&opts),
        };
        let mut b = alloc::vec![0u8; repr.buffer_len()];
        repr.emit_unchecksummed(&mut MhPacket::new_unchecked(&mut b[..]))
            .unwrap();
        assert!(crypto::sign_mh(&mut b, k, &mn.coa, &mn.cn));
        MhPacket::new_unchecked(&mut b[..]).fill_checksum(&mn.hoa, &mn.cn);
        b
    }

    fn bid(b: u16, coa: Option<Ipv6Addr>) -> MobilityOption<'static> {
        MobilityOption::BindingIdentifier {
            bid: b,
            status: 0,
            h: false,
            care_of: coa.map(IpAddr::V6),
        }
    }

    //= https://www.rfc-editor.org/rfc/rfc5648#section-6.2
    //= type=test
    //# When a correspondent node sends a Binding Acknowledgement, the status
    //# value MUST always be stored in the Status field of the Binding
    //# Acknowledgement and the Status field of the Binding Identifier
    //# mobility option MUST always be set to zero.
    #[test]
    fn one_binding_per_bid_at_a_correspondent() {
        let (mut cn, mn) = setup();
        let (hi, ci, k) = rr(&mut cn, &mn, S);
        let send = |cn: &mut Correspondent<ChaCha20Rng>, m: &[u8]| {
            cn.handle_datagram(S, &rx(mn.coa, mn.cn, Some(mn.hoa), m))
                .unwrap();
            drain(cn)
        };
        let m = bu_bid(&mn, 1, BuFlags::A, 10, hi, ci, &k, &[bid(1, Some(mn.coa))]);
        let out = send(&mut cn, &m);
        assert_eq!(
            out[0].0,
            Output::Fwd(FwdEvent::BidBindingAdded {
                home: mn.hoa,
                care_of: mn.coa,
                local: mn.cn,
                bid: 1,
                expires: 41 * S
            })
        );
        let (_, status, seq, life, b) = ba_of(&out, &mn);
        assert_eq!((status, seq, life), (BaStatus::ACCEPTED, 1, 10));
        assert!(verify_mh(&b, &k, &mn.coa, &mn.cn));
        let r = MhRepr::parse(&MhPacket::new_checked(&b[..]).unwrap(), &mn.cn, &mn.hoa).unwrap();
        let opts: Vec<MobilityOption<'_>> = r.options.iter().flatten().collect();
        assert_eq!(opts[0], bid(1, None), "BID copied, status 0, no care-of");
        assert_eq!(cn.lookup_bid(mn.hoa, mn.cn, 1), Some(mn.coa));
        assert_eq!((cn.bindings(), cn.bid_bindings()), (0, 1));

        // Bulk registration: 168, nothing changes.
        let m = bu_bid(
            &mn,
            2,
            BuFlags::A,
            10,
            hi,
            ci,
            &k,
            &[bid(1, None), bid(2, Some(mn.coa))],
        );
        let out = send(&mut cn, &m);
        assert_eq!(out.len(), 1);
        assert_eq!(
            ba_of(&out, &mn).1,
            BaStatus::MCOA_BULK_REGISTRATION_PROHIBITED
        );
        // A refresh without the care-of address keeps the known one.
        let m = bu_bid(&mn, 3, BuFlags::A, 10, hi, ci, &k, &[bid(1, None)]);
        let out = send(&mut cn, &m);
        assert!(matches!(
            out[0].0,
            Output::Fwd(FwdEvent::BidBindingAdded { bid: 1, care_of, .. }) if care_of == mn.coa
        ));
        // An unknown BID without care-of address: 167; BID 0: 164.
        let m = bu_bid(&mn, 4, BuFlags::A, 10, hi, ci, &k, &[bid(5, None)]);
        assert_eq!(ba_of(&send(&mut cn, &m), &mn).1, BaStatus::MCOA_UNKNOWN_COA);
        let m = bu_bid(&mn, 4, BuFlags::A, 10, hi, ci, &k, &[bid(0, Some(mn.coa))]);
        assert_eq!(ba_of(&send(&mut cn, &m), &mn).1, BaStatus::MCOA_MALFORMED);
        // A regular BU replaces every BID binding (RFC 5648 §6.2).
        let m = bu(&mn, 5, BuFlags::A, 10, hi, ci, &k);
        let out = send(&mut cn, &m);
        assert_eq!(
            out[0].0,
            Output::Fwd(FwdEvent::BidBindingRemoved {
                home: mn.hoa,
                local: mn.cn,
                bid: 1
            })
        );
        assert!(matches!(
            out[1].0,
            Output::Fwd(FwdEvent::BindingAdded { .. })
        ));
        // Then a BID registration without O: 165; with O it replaces it.
        let m = bu_bid(&mn, 6, BuFlags::A, 10, hi, ci, &k, &[bid(2, Some(mn.coa))]);
        assert_eq!(
            ba_of(&send(&mut cn, &m), &mn).1,
            BaStatus::MCOA_NON_MCOA_BINDING_EXISTS
        );
        let m = bu_bid(
            &mn,
            7,
            BuFlags::A | BuFlags::O,
            10,
            hi,
            ci,
            &k,
            &[bid(2, Some(mn.coa))],
        );
        let out = send(&mut cn, &m);
        assert_eq!(
            out[0].0,
            Output::Fwd(FwdEvent::BindingRemoved {
                home: mn.hoa,
                local: mn.cn
            })
        );
        assert!(matches!(
            out[1].0,
            Output::Fwd(FwdEvent::BidBindingAdded { bid: 2, .. })
        ));
        assert_eq!(ba_of(&out, &mn).1, BaStatus::ACCEPTED);
        // A BID binding lives until its lifetime ends.
        assert_eq!(cn.poll_timeout(), Some(41 * S));
        cn.handle_timeout(41 * S);
        assert_eq!(
            drain(&mut cn)[0].0,
            Output::Fwd(FwdEvent::BidBindingRemoved {
                home: mn.hoa,
                local: mn.cn,
                bid: 2
            })
        );
        assert_eq!(cn.bid_bindings(), 0);
        // With MCoA off, the option is skipped: a regular binding.
        let mut cn2 = Correspondent::new(
            CnConfig {
                mcoa: false,
                ..CnConfig::default()
            },
            ChaCha20Rng::seed_from_u64(7),
            Duration::ZERO,
        )
        .unwrap();
        let (hi, ci, k) = rr(&mut cn2, &mn, S);
        let m = bu_bid(&mn, 1, BuFlags::A, 10, hi, ci, &k, &[bid(1, Some(mn.coa))]);
        let out = send(&mut cn2, &m);
        assert!(matches!(
            out[0].0,
            Output::Fwd(FwdEvent::BindingAdded { .. })
        ));
    }

    #[test]
    fn bu_without_ack_changes_the_cache_silently() {
        let (mut cn, mn) = setup();
        let (hi, ci, k) = rr(&mut cn, &mn, S);
        let m = bu(&mn, 1, BuFlags(0), 10, hi, ci, &k);
        cn.handle_datagram(S, &rx(mn.coa, mn.cn, Some(mn.hoa), &m))
            .unwrap();
        let out = drain(&mut cn);
        assert_eq!(out.len(), 1);
        assert!(matches!(
            out[0].0,
            Output::Fwd(FwdEvent::BindingAdded { .. })
        ));
    }

    #[test]
    fn forged_or_incomplete_bus_change_nothing() {
        let (mut cn, mn) = setup();
        let (hi, ci, k) = rr(&mut cn, &mn, S);
        let mut wrong = k;
        wrong[0] ^= 1;
        let m = bu(&mn, 1, BuFlags::A, 10, hi, ci, &wrong);
        assert_eq!(
            cn.handle_datagram(S, &rx(mn.coa, mn.cn, Some(mn.hoa), &m)),
            Err(Dropped::BadAuthenticator)
        );
        // Valid authenticator but a different care-of address than the one signed for.
        let m = bu(&mn, 1, BuFlags::A, 10, hi, ci, &k);
        let other = a("2001:db8:3::3");
        let mut m2 = m.clone();
        MhPacket::new_unchecked(&mut m2[..]).fill_checksum(&mn.hoa, &mn.cn);
        assert_eq!(
            cn.handle_datagram(S, &rx(other, mn.cn, Some(mn.hoa), &m2)),
            Err(Dropped::BadAuthenticator)
        );
        // No authorization options at all.
        let plain = emit(
            &MhRepr::new(Message::BindingUpdate {
                sequence: 1,
                flags: BuFlags::A,
                lifetime: 10,
            }),
            mn.hoa,
            mn.cn,
        );
        assert_eq!(
            cn.handle_datagram(S, &rx(mn.coa, mn.cn, Some(mn.hoa), &plain)),
            Err(Dropped::MissingAuthorization)
        );
        // A bad checksum.
        let mut bad = m.clone();
        bad[4] ^= 0xff;
        assert_eq!(
            cn.handle_datagram(S, &rx(mn.coa, mn.cn, Some(mn.hoa), &bad)),
            Err(Dropped::BadChecksum)
        );
        assert!(drain(&mut cn).is_empty());
        assert_eq!(cn.bindings(), 0);
        assert_eq!(cn.stats().dropped_auth, 3);
    }

    #[test]
    fn home_registration_at_a_correspondent_gets_131() {
        let (mut cn, mn) = setup();
        let m = emit(
            &MhRepr::new(Message::BindingUpdate {
                sequence: 5,
                flags: BuFlags::A | BuFlags::H,
                lifetime: 10,
            }),
            mn.hoa,
            mn.cn,
        );
        cn.handle_datagram(S, &rx(mn.coa, mn.cn, Some(mn.hoa), &m))
            .unwrap();
        let out = drain(&mut cn);
        let (_, status, seq, _, _) = ba_of(&out, &mn);
        assert_eq!(
            (status, seq),
            (BaStatus::HOME_REGISTRATION_NOT_SUPPORTED, 5)
        );
        assert_eq!(cn.bindings(), 0);
    }

    #[test]
    fn expired_nonces_get_136_137_138_without_authenticator() {
        let (mut cn, mn) = setup();
        let (hi, ci, k) = rr(&mut cn, &mn, S);
        // Both nonces are forgotten after MAX_NONCE_LIFETIME.
        let late = S + crypto::MAX_NONCE_LIFETIME + S;
        let (hi2, ci2, k2) = rr(&mut cn, &mn, late);
        assert_ne!(hi, hi2);
        for (h, c, kk, want) in [
            (hi, ci2, &k2, BaStatus::EXPIRED_HOME_NONCE_INDEX),
            (hi2, ci, &k2, BaStatus::EXPIRED_CARE_OF_NONCE_INDEX),
            (hi, ci, &k, BaStatus::EXPIRED_NONCES),
        ] {
            let m = bu(&mn, 1, BuFlags(0), 10, h, c, kk);
            cn.handle_datagram(late, &rx(mn.coa, mn.cn, Some(mn.hoa), &m))
                .unwrap();
            let out = drain(&mut cn);
            let (_, status, _, _, b) = ba_of(&out, &mn);
            assert_eq!(status, want);
            assert_eq!(b.len(), 16, "no Binding Authorization Data option");
        }
        assert_eq!(cn.bindings(), 0);
    }

    #[test]
    fn deregistration_uses_the_home_token_and_spends_the_nonces() {
        let (mut cn, mn) = setup();
        let (hi, ci, k) = rr(&mut cn, &mn, S);
        cn.handle_datagram(
            S,
            &rx(
                mn.coa,
                mn.cn,
                Some(mn.hoa),
                &bu(&mn, 1, BuFlags(0), 10, hi, ci, &k),
            ),
        )
        .unwrap();
        drain(&mut cn);
        // Returning home: HoTI only; Kbm = SHA1(home token); sent from the home address.
        let hoti = emit(
            &MhRepr::new(Message::HomeTestInit { cookie: [3; 8] }),
            mn.hoa,
            mn.cn,
        );
        cn.handle_datagram(2 * S, &rx(mn.hoa, mn.cn, None, &hoti))
            .unwrap();
        let out = drain(&mut cn);
        let b = &out[0].1;
        let r = MhRepr::parse(&MhPacket::new_checked(&b[..]).unwrap(), &mn.cn, &mn.hoa).unwrap();
        let Message::HomeTest {
            nonce_index, token, ..
        } = r.message
        else {
            panic!()
        };
        let kh = kbm(&token, None);
        let home = Mn {
            hoa: mn.hoa,
            coa: mn.hoa,
            cn: mn.cn,
        };
        let m = bu(&home, 2, BuFlags::A, 0, nonce_index, 0xdead, &kh);
        cn.handle_datagram(2 * S, &rx(mn.hoa, mn.cn, None, &m))
            .unwrap();
        let out = drain(&mut cn);
        assert_eq!(
            out[0].0,
            Output::Fwd(FwdEvent::BindingRemoved {
                home: mn.hoa,
                local: mn.cn
            })
        );
        let Output::Transmit(t) = out[1].0 else {
            panic!()
        };
        assert_eq!(
            (t.dst, t.ext),
            (mn.hoa, TxExt::None),
            "at home: BA without routing header"
        );
        assert_eq!(cn.bindings(), 0);
        // The same nonces cannot be used again for that address pair.
        let m = bu(&home, 3, BuFlags::A, 0, nonce_index, 0xdead, &kh);
        assert_eq!(
            cn.handle_datagram(3 * S, &rx(mn.hoa, mn.cn, None, &m)),
            Err(Dropped::SpentNonces)
        );
    }

    #[test]
    fn refresh_requests_and_expiry_follow_the_entry_machine() {
        let (mut cn, mn) = setup();
        let (hi, ci, k) = rr(&mut cn, &mn, Duration::ZERO);
        cn.handle_datagram(
            Duration::ZERO,
            &rx(
                mn.coa,
                mn.cn,
                Some(mn.hoa),
                &bu(&mn, 1, BuFlags(0), 10, hi, ci, &k),
            ),
        )
        .unwrap();
        drain(&mut cn);
        cn.note_traffic(mn.hoa, mn.cn);
        // 40 s lifetime: refresh timer at 20 s, then 30, 35, 37.5 (2.5 s left → WAITB2), expiry at 40.
        let mut brr_times = Vec::new();
        let mut states = Vec::new();
        while let Some(t) = cn.poll_timeout() {
            cn.handle_timeout(t);
            assert!(
                cn.poll_timeout().is_none_or(|n| n > t),
                "no past deadline after handle_timeout"
            );
            states.push(cn.binding_state(mn.hoa, mn.cn));
            for (o, _) in drain(&mut cn) {
                match o {
                    Output::Transmit(tx) => {
                        assert_eq!((tx.dst, tx.ext), (mn.coa, TxExt::Type2Routing(mn.hoa)));
                        brr_times.push(t);
                    }
                    Output::Fwd(FwdEvent::BindingRemoved { .. }) => assert_eq!(t, 40 * S),
                    other => panic!("{other:?}"),
                }
            }
        }
        let ms = Duration::from_millis;
        assert_eq!(brr_times, vec![20 * S, 30 * S, 35 * S, ms(37_500)]);
        assert_eq!(
            states,
            vec![
                Some(BcState::WaitB),
                Some(BcState::WaitB),
                Some(BcState::WaitB),
                Some(BcState::WaitB2),
                None
            ]
        );
    }

    #[test]
    fn no_refresh_request_for_an_idle_binding() {
        let (mut cn, mn) = setup();
        let (hi, ci, k) = rr(&mut cn, &mn, Duration::ZERO);
        cn.handle_datagram(
            Duration::ZERO,
            &rx(
                mn.coa,
                mn.cn,
                Some(mn.hoa),
                &bu(&mn, 1, BuFlags(0), 10, hi, ci, &k),
            ),
        )
        .unwrap();
        drain(&mut cn);
        cn.handle_timeout(20 * S);
        assert!(drain(&mut cn).is_empty());
        cn.handle_timeout(100 * S);
        assert!(matches!(
            drain(&mut cn)[..],
            [(Output::Fwd(FwdEvent::BindingRemoved { .. }), _)]
        ));
    }

    #[test]
    fn unknown_type_test_init_with_hao_and_unknown_hao() {
        let (mut cn, mn) = setup();
        // Unknown MH type 42 (data 8n+2 octets): Binding Error status 2.
        let mut m = alloc::vec![59, 1, 42, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        MhPacket::new_unchecked(&mut m[..]).fill_checksum(&mn.hoa, &mn.cn);
        assert_eq!(
            cn.handle_datagram(S, &rx(mn.coa, mn.cn, Some(mn.hoa), &m)),
            Err(Dropped::UnknownType)
        );
        let out = drain(&mut cn);
        let Output::Transmit(t) = out[0].0 else {
            panic!()
        };
        assert_eq!(t.dst, mn.coa, "to the source address as received");
        let r = MhRepr::parse(
            &MhPacket::new_checked(&out[0].1[..]).unwrap(),
            &mn.cn,
            &mn.coa,
        )
        .unwrap();
        assert_eq!(
            r.message,
            Message::BindingError {
                status: BeStatus::UNRECOGNIZED_MH_TYPE,
                home_address: mn.hoa
            }
        );
        // Rate limit: a second one right away is not sent.
        assert_eq!(
            cn.handle_datagram(S, &rx(mn.coa, mn.cn, Some(mn.hoa), &m)),
            Err(Dropped::RateLimited)
        );
        // HoTI with a Home Address option: silently ignored.
        let hoti = emit(
            &MhRepr::new(Message::HomeTestInit { cookie: [1; 8] }),
            mn.hoa,
            mn.cn,
        );
        assert_eq!(
            cn.handle_datagram(2 * S, &rx(mn.coa, mn.cn, Some(mn.hoa), &hoti)),
            Err(Dropped::TestInitWithHao)
        );
        // Data with a HAO and no binding: Binding Error status 1.
        cn.handle_unknown_hao(3 * S, mn.coa, mn.cn, mn.hoa).unwrap();
        let out = drain(&mut cn);
        let r = MhRepr::parse(
            &MhPacket::new_checked(&out[0].1[..]).unwrap(),
            &mn.cn,
            &mn.coa,
        )
        .unwrap();
        assert_eq!(
            r.message,
            Message::BindingError {
                status: BeStatus::UNKNOWN_BINDING_FOR_HAO,
                home_address: mn.hoa
            }
        );
    }

    #[test]
    fn a_full_cache_refuses_with_130() {
        let mut cn = Correspondent::new(
            CnConfig {
                max_bindings: 1,
                ..CnConfig::default()
            },
            ChaCha20Rng::seed_from_u64(1),
            Duration::ZERO,
        )
        .unwrap();
        let m1 = Mn {
            hoa: a("2001:db8:1::1"),
            coa: a("2001:db8:2::1"),
            cn: a("2001:db8:9::9"),
        };
        let m2 = Mn {
            hoa: a("2001:db8:1::2"),
            coa: a("2001:db8:2::2"),
            cn: a("2001:db8:9::9"),
        };
        let (hi, ci, k) = rr(&mut cn, &m1, S);
        cn.handle_datagram(
            S,
            &rx(
                m1.coa,
                m1.cn,
                Some(m1.hoa),
                &bu(&m1, 1, BuFlags(0), 10, hi, ci, &k),
            ),
        )
        .unwrap();
        drain(&mut cn);
        let (hi, ci, k) = rr(&mut cn, &m2, S);
        cn.handle_datagram(
            S,
            &rx(
                m2.coa,
                m2.cn,
                Some(m2.hoa),
                &bu(&m2, 1, BuFlags(0), 10, hi, ci, &k),
            ),
        )
        .unwrap();
        let out = drain(&mut cn);
        let (_, status, _, _, _) = ba_of(&out, &m2);
        assert_eq!(
            status,
            BaStatus::INSUFFICIENT_RESOURCES,
            "a refusal is acknowledged even without A"
        );
        assert_eq!(cn.bindings(), 1);
    }

    #[test]
    fn config_is_validated() {
        let bad = CnConfig {
            max_binding_lifetime: Duration::from_secs(421),
            ..CnConfig::default()
        };
        assert_eq!(
            Correspondent::new(bad, ChaCha20Rng::seed_from_u64(1), Duration::ZERO).err(),
            Some(ConfigError::BindingLifetime)
        );
    }
}
