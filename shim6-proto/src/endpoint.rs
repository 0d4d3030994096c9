//! The Shim6 host: every ULID-pair context of a host, as one sans-IO
//! machine (RFC 5533 §7, §9, §12).
//!
//! ```
//! use core::time::Duration;
//! use hba_cga::{cga::Sec, hba::HbaSet, sig::RsaSigner};
//! use rand_chacha::ChaCha20Rng;
//! use rand_core::SeedableRng;
//! use shim6_proto::endpoint::{HostConfig, Shim6Host};
//! use shim6_proto::locators::LocalIdentity;
//!
//! let mut rng = ChaCha20Rng::seed_from_u64(7);
//! let set = HbaSet::generate(&mut rng, &[[0x20, 1, 0xd, 0xb8, 0, 1, 0, 0]], Sec::ZERO, None).unwrap();
//! let id = LocalIdentity::<RsaSigner>::from_hba(&set, 0).unwrap();
//! let host = Shim6Host::new(HostConfig::default(), rng, Duration::ZERO, vec![id]).unwrap();
//! assert_eq!(host.contexts(), 0);
//! assert_eq!(host.poll_timeout(), None);
//! ```
//!
//! ## Driving
//! [`Shim6Host::handle_datagram`] takes every received Shim6 header
//! (control messages, and payload extension headers whose context tag the
//! data plane did not know); [`Shim6Host::handle_timeout`] runs the
//! retransmission, hold-down and idle timers;
//! [`Shim6Host::poll_output`] yields transmissions and forwarding-plane
//! events in causal order; [`Shim6Host::poll_timeout`] gives the next
//! absolute deadline. [`Shim6Host::establish`] is the establishment
//! heuristic's decision (RFC 5533 Appendix B "heuristic triggers").
//!
//! ## The machine
//! Each context's state changes only through [`crate::context::step`]; its rows
//! are listed in [the `context` module](crate::context). The host
//! evaluates the trigger's checks first and then performs the returned
//! action:
//!
//! | trigger | checks the host makes before [`step`] (RFC section) |
//! |---|---|
//! | establish() | no context for the ULID pair and FII (E-FAILED / NO-SUPPORT: refused, §7.8) |
//! | I1 | ULIDs from the ULID Pair option or the addresses, FII (§7.9); `ct_matches`: the I1's tag is CT(peer) and, with a ULID Pair option, its source is in Ls(peer) |
//! | R1 | a context with this Initiator Nonce and the R1's addresses as Lp(peer), Lp(local), else dropped (§7.11) |
//! | I2 / I2bis | `valid`: the Responder Validator and nonce verify (§7.13, §7.20), the PDS corresponds to ULID(peer) and every locator verifies (§7.2), and, for an existing context, the source locator is in Ls(peer) or in the new list |
//! | R2 | a context with this Initiator Nonce and locators (§7.16); before it enters ESTABLISHED, its PDS and locators verify |
//! | R1bis | a context whose CT(peer) is the Packet Context Tag and whose locator pair is the R1bis's (§7.18) |
//! | payload / control 64-127 | the context whose CT(local) is the tag; for a control message, also its source in Ls(peer) and destination in Ls(local), else treated as no context (§10.4, §10.5); none: the IDLE row (R1bis, §7.17) |
//! | timer | the retransmission counter against the state's RETRIES_MAX (§7.8, §7.12, §7.19) |
//! | ICMP | the quoted packet is the I1 of a context (tag and nonce, §7.8) |
//!
//! | action of [`step`] | what the host does |
//! |---|---|
//! | SendI1 | I1 from Lp(local) to Lp(peer), ULID Pair option when they are not the ULIDs, FII option when not 0; retransmission timer I1_TIMEOUT with binary backoff (counter reset when coming from I2-SENT or I2BIS-SENT) |
//! | SendR1 | stateless R1: Responder Nonce and Validator from the rotating secret (§7.10) |
//! | SendI2 | I2 echoing the validator, with the locator list, PDS and (CGA) signature; timer I2_TIMEOUT |
//! | SendR2 | (new context: allocate CT(local), refuse when the table is full) record CT(peer), Ls(peer); resolve context confusion (§7.15); the event, then R2 with the local locators |
//! | SendR1bis | stateless R1bis to the packet's source (§7.17) |
//! | SendI2bis | I2bis over the R1bis's locator pair, CT(peer) unchanged; timer I2bis_TIMEOUT |
//! | Process | the context was used (idle timer); an Update Request is verified (new list with the message's or the stored PDS, preferences against the generation and the count) and recorded, then acknowledged, or refused with an Error (codes 2-4, §10.4); an Update Acknowledgement with the outstanding nonce ends the update (§10.5) |
//! | ProcessAndSendI2(bis) | as Process, and the I2 (I2bis) again |
//! | DiscardState | the context is removed ([`Event::ContextRemoved`]) |
//! | Discard / NotDelivered | counted drop ([`Dropped`]) |
//! | None into ESTABLISHED | record CT(peer) and Ls(peer) from the R2, [`Event::ContextEstablished`] |
//! | None into E-FAILED / NO-SUPPORT | CT(local) released, [`Event::EstablishmentFailed`], hold-down NO_R1_HOLDDOWN_TIME / ICMP_HOLDDOWN_TIME |
//! | HolddownExpired into IDLE | the entry is forgotten |
//!
//! Outside the table: [`Shim6Host::update_locators`] and
//! [`Shim6Host::update_preferences`] start an Update Request on every
//! context of the identity that has CT(peer), retransmitted from
//! UPDATE_TIMEOUT doubling up to MAX_UPDATE_TIMEOUT until acknowledged
//! (§10.1-10.3); unknown message types and unrecognised critical options
//! get a Shim6 Error (codes 0 and 1, §12.3), at most one per
//! [`HostConfig::error_interval`].
//!
//! ## Bounds
//! At most [`HostConfig::max_contexts`] entries (E-FAILED and NO-SUPPORT
//! entries included); a new context beyond that is refused and counted.
//! R1 and R1bis are answered without creating any state. Established
//! contexts idle for [`HostConfig::idle_timeout`] are removed (§9
//! suggests 5 minutes; LinShim6 servers use 10 s). A peer's locator list
//! is bounded by [`HostConfig::max_peer_locators`], the output queue by
//! [`HostConfig::max_pending_outputs`].
//!
//! ## Interpretations
//! - Appendix B's I1-SENT row goes to E-FAILED on an ICMP error; the text
//!   (§6.2, §7.8) is normative and goes to NO-SUPPORT, as
//!   [`crate::context::step`] does.
//! - E-FAILED and NO-SUPPORT entries keep no context tag (it is released
//!   into the quarantine); a valid I2 for the pair allocates a new one.
//! - A retransmitted I1 keeps its context tag and Initiator Nonce; the I2
//!   keeps the I1's nonce (§7.11 allows either).
//! - The R1 validator covers the I1's locators (§7.10.1), so the I2 must
//!   come over the same locator pair; an I2 from elsewhere fails it.
//! - Update Requests are verified and recorded atomically: a valid list
//!   with bad preferences changes nothing (§10.4 would record the list
//!   first).
//! - When an update withdraws Lp(peer) or Lp(local), the pair falls back
//!   to the ULID until REAP explores another one.
//! - "Accept and send I2 (I2bis)" on payload in I2-SENT (I2BIS-SENT) sends
//!   at most one per [`RESEND_INTERVAL`] per context; further payload is
//!   still accepted.
#![deny(clippy::arithmetic_side_effects)]

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec;
use alloc::vec::Vec;
use core::net::Ipv6Addr;
use core::time::Duration;

use hba_cga::sig::{CgaSigner, RsaKeyLimits, RsaSigner};
use rand_core::CryptoRng;

use crate::backoff;
use crate::config::{
    I1_RETRIES_MAX, I1_TIMEOUT, I2_RETRIES_MAX, I2_TIMEOUT, I2bis_RETRIES_MAX, I2bis_TIMEOUT,
    ICMP_HOLDDOWN_TIME, MAX_UPDATE_TIMEOUT, NO_R1_HOLDDOWN_TIME, UPDATE_TIMEOUT,
    VALIDATOR_MIN_LIFETIME,
};
use crate::context::{Action, ContextState, Trigger, step};
use crate::ctag::{ContextTagAllocator, CtagConfig};
use crate::error::ConfigError;
use crate::event::{Clock, ContextInfo, Event, OutQueue, Output, RxDatagram, is_unicast};
use crate::heuristic::TriggerPolicy;
use crate::locators::{IdentityError, LocalIdentity, LocatorError, verify_peer_locators};
use crate::timer::TimerHeap;
use crate::validator::{R1Input, R1bisInput, ValidatorKeys};
use crate::wire::{
    self, ContextTag, ControlRepr, ErrorCode, LocatorList, LocatorPreferences, Locators, Message,
    MessageType, NO_NEXT_HEADER, OptionRepr, OptionType, OptionValue, Options, PayloadRepr,
    Shim6Packet,
};

/// Configuration of a [`Shim6Host`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostConfig {
    /// Most context entries (any state but IDLE). Also bounds the live
    /// context tags.
    pub max_contexts: usize,
    /// Context tag space and reuse quarantine (`max_live` is replaced by
    /// `max_contexts`).
    pub ctag: CtagConfig,
    /// Lifetime of a validator secret (at least VALIDATOR_MIN_LIFETIME;
    /// a validator stays valid for up to two lifetimes).
    pub validator_lifetime: Duration,
    /// Remove an ESTABLISHED context after this long without traffic
    /// (`None`: never).
    pub idle_timeout: Option<Duration>,
    /// Randomise retransmission timeouts over 0.5-1.5 times the nominal
    /// value (§14). Off only for tests that check exact times.
    pub jitter: bool,
    /// Most locators accepted from a peer in one Locator List.
    pub max_peer_locators: usize,
    /// RSA key sizes accepted in peers' CGA signatures.
    pub key_limits: RsaKeyLimits,
    /// Most local identities (ULIDs).
    pub max_identities: usize,
    /// Shortest gap between two Shim6 Error messages (`None`: never send
    /// any). Errors due in between are counted and not sent.
    pub error_interval: Option<Duration>,
    /// Most messages waiting in the output queue: a driver that does not
    /// poll loses (and the host counts) further transmissions, so a flood
    /// of I1s cannot grow the queue without bound. Events are never dropped.
    pub max_pending_outputs: usize,
}

impl Default for HostConfig {
    fn default() -> Self {
        Self {
            max_contexts: 1024,
            ctag: CtagConfig::default(),
            validator_lifetime: VALIDATOR_MIN_LIFETIME,
            idle_timeout: Some(Duration::from_secs(300)),
            jitter: true,
            max_peer_locators: 32,
            key_limits: RsaKeyLimits::DEFAULT,
            max_identities: 16,
            error_interval: Some(Duration::from_millis(100)),
            max_pending_outputs: 4096,
        }
    }
}

/// Why a received datagram changed nothing but counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Dropped {
    /// The Shim6 header does not parse (bad checksum, length, critical option...).
    Malformed(wire::Error),
    /// An address is not unicast.
    NotUnicast,
    /// The receiver ULID is not one of this host's ULIDs.
    NotOurUlid,
    /// No context matches (R1, R2, R1bis, ICMP).
    NoContext,
    /// An R1, R1bis, I2 or I2bis without a Responder Validator option.
    MissingValidator,
    /// The Responder Validator or nonce does not verify.
    BadValidator,
    /// The peer's locators do not verify.
    BadLocators(LocatorError),
    /// The source locator is neither in Ls(peer) nor in the verified list.
    SourceNotInLocators,
    /// The context table is full.
    TableFull,
    /// The state machine discards this message in this state.
    Discarded(ContextState),
    /// The message cannot be delivered to a context in this state (§12.4).
    NotDelivered(ContextState),
    /// A message this host does not act on (Error, unknown types).
    Unsupported(MessageType),
    /// A control message for a known tag from outside Ls(peer) or to
    /// outside Ls(local): a stale context; an R1bis was sent (§10.4).
    NotInContextLocators,
    /// Locator Preferences for another generation than the peer's list
    /// (§10.4, Error Code 3).
    GenerationMismatch,
    /// Locator Preferences whose element count is not the number of
    /// locators (§10.4, Error Code 4).
    LocatorCount,
    /// An Update Acknowledgement for no outstanding Update Request.
    StaleAck,
}

/// Messages per type.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MsgCounts {
    /// I1.
    pub i1: u64,
    /// R1.
    pub r1: u64,
    /// I2.
    pub i2: u64,
    /// R2.
    pub r2: u64,
    /// R1bis.
    pub r1bis: u64,
    /// I2bis.
    pub i2bis: u64,
    /// Update Request.
    pub update_request: u64,
    /// Update Acknowledgement.
    pub update_ack: u64,
    /// Keepalive and Probe (REAP).
    pub reap: u64,
    /// Error.
    pub error: u64,
    /// Unknown types.
    pub other: u64,
    /// Payload extension headers (received only).
    pub payload: u64,
}

impl MsgCounts {
    fn bump(&mut self, t: MessageType) {
        let c = match t {
            MessageType::I1 => &mut self.i1,
            MessageType::R1 => &mut self.r1,
            MessageType::I2 => &mut self.i2,
            MessageType::R2 => &mut self.r2,
            MessageType::R1BIS => &mut self.r1bis,
            MessageType::I2BIS => &mut self.i2bis,
            MessageType::UPDATE_REQUEST => &mut self.update_request,
            MessageType::UPDATE_ACK => &mut self.update_ack,
            MessageType::KEEPALIVE | MessageType::PROBE => &mut self.reap,
            MessageType::ERROR => &mut self.error,
            _ => &mut self.other,
        };
        *c = c.saturating_add(1);
    }
}

/// Counters of a [`Shim6Host`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HostStats {
    /// Messages sent, per type.
    pub sent: MsgCounts,
    /// Messages received (parsed), per type.
    pub received: MsgCounts,
    /// Contexts that reached ESTABLISHED.
    pub established: u64,
    /// Established contexts removed (any reason).
    pub removed: u64,
    /// Of those, for idleness.
    pub removed_idle: u64,
    /// Of those, for context confusion (§7.15).
    pub confusions: u64,
    /// Establishments that ended in E-FAILED.
    pub failed_no_r1: u64,
    /// Establishments that ended in NO-SUPPORT.
    pub failed_no_support: u64,
    /// Datagrams dropped (every [`Dropped`]).
    pub dropped: u64,
    /// Of those, malformed.
    pub dropped_malformed: u64,
    /// Of those, for a bad validator or unverifiable locators.
    pub dropped_verification: u64,
    /// Of those, with no matching context.
    pub dropped_no_context: u64,
    /// New contexts refused because the table was full.
    pub refused_full: u64,
    /// Messages that could not be encoded (too long).
    pub emit_errors: u64,
    /// Shim6 Error messages not sent because of `error_interval`.
    pub errors_suppressed: u64,
    /// Messages not queued because `max_pending_outputs` were waiting.
    pub outputs_dropped: u64,
    /// Payload-triggered I2/I2bis not sent (one per RESEND_INTERVAL).
    pub resends_suppressed: u64,
    /// Calls with a time older than the latest one (clamped).
    pub time_went_back: u64,
}

/// Misuse of the API or exhausted local resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// The ULID is not one of this host's identities.
    #[error("not a local ULID")]
    UnknownUlid,
    /// A context for the ULID pair and FII exists.
    #[error("context exists in state {0}")]
    Exists(ContextState),
    /// The pair is in E-FAILED or NO-SUPPORT (negative cache, §7.8).
    #[error("held down in state {0}")]
    HeldDown(ContextState),
    /// The context table is full.
    #[error("context table full")]
    TableFull,
    /// No such context.
    #[error("no such context")]
    NoContext,
    /// The locator is not usable for this context.
    #[error("not a locator of the context")]
    NotALocator,
    /// Too many identities, or one with the same ULID exists.
    #[error("identity refused")]
    Identity,
    /// The new locators or preferences do not verify (nothing changed).
    #[error("locators refused: {0}")]
    Locators(IdentityError),
}

/// What starts an establishment (RFC 5533 §7.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Establish {
    /// ULID(local): one of this host's identities.
    pub local_ulid: Ipv6Addr,
    /// ULID(peer).
    pub peer_ulid: Ipv6Addr,
    /// Forked Instance Identifier (0: the default context).
    pub fii: u32,
    /// The locator pair for the exchange, when not the ULIDs (the I1
    /// then carries a ULID Pair option).
    pub locators: Option<(Ipv6Addr, Ipv6Addr)>,
}

type Id = u64;

/// Shortest gap between two I2 (I2bis) messages triggered by payload
/// packets in I2-SENT (I2BIS-SENT) on one context.
pub const RESEND_INTERVAL: Duration = Duration::from_secs(1);

/// A message built for a context: source, destination, type and octets.
type Built = Option<(
    Ipv6Addr,
    Ipv6Addr,
    MessageType,
    Result<Vec<u8>, wire::Error>,
)>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TimerKind {
    /// I1, I2 or I2bis retransmission.
    Retransmit,
    /// E-FAILED / NO-SUPPORT hold-down.
    Holddown,
    /// Idle garbage collection.
    Idle,
    /// Update Request retransmission.
    Update,
}

#[derive(Debug, Clone)]
struct Context {
    state: ContextState,
    local_ulid: Ipv6Addr,
    peer_ulid: Ipv6Addr,
    fii: u32,
    ct_local: Option<ContextTag>,
    ct_peer: Option<ContextTag>,
    init_nonce: Option<u32>,
    lp_local: Ipv6Addr,
    lp_peer: Ipv6Addr,
    ls_peer: Vec<Ipv6Addr>,
    /// From the last R1 or R1bis: echoed in I2 / I2bis.
    resp_nonce: u32,
    validator: Vec<u8>,
    packet_ct: ContextTag,
    retx: u32,
    timer: u64,
    idle_timer: u64,
    last_used: Duration,
    installed: bool,
    /// The peer's PDS (from I2, I2bis, R2 or an Update Request), for
    /// verifying later updates that omit it.
    peer_pds: Vec<u8>,
    /// The peer's Locator List Generation and the number of locators in
    /// that list.
    peer_generation: u32,
    peer_list_len: usize,
    /// The peer's Locator Preferences: generation, Element Len, elements.
    peer_prefs: Option<(u32, u8, Vec<u8>)>,
    /// The outstanding Update Request's nonce.
    update_nonce: Option<u32>,
    update_retx: u32,
    update_timer: u64,
    /// When a payload last triggered an I2/I2bis.
    last_resend: Option<Duration>,
    /// What the forwarding plane was last told on (re)entering ESTABLISHED.
    announced: Option<ContextInfo>,
    /// The version of the local locators last sent to the peer.
    sent_version: Option<u64>,
}

impl Context {
    fn info(&self) -> ContextInfo {
        ContextInfo {
            state: self.state,
            local_ulid: self.local_ulid,
            peer_ulid: self.peer_ulid,
            fii: self.fii,
            ct_local: self.ct_local,
            ct_peer: self.ct_peer,
            local_locator: self.lp_local,
            peer_locator: self.lp_peer,
        }
    }

    fn ulid_option(&self) -> bool {
        self.lp_local != self.local_ulid || self.lp_peer != self.peer_ulid
    }

    fn timer_gen(&self, k: TimerKind) -> u64 {
        match k {
            TimerKind::Retransmit | TimerKind::Holddown => self.timer,
            TimerKind::Idle => self.idle_timer,
            TimerKind::Update => self.update_timer,
        }
    }
}

/// The ULIDs (sender, receiver) and whether a ULID Pair option carried them.
fn ulids(rx: &RxDatagram<'_>, opts: &Options<'_>) -> (Ipv6Addr, Ipv6Addr, bool) {
    match opts.find(OptionType::ULID_PAIR).map(|o| o.value) {
        Some(OptionValue::UlidPair { sender, receiver }) => (sender, receiver, true),
        _ => (rx.src, rx.dst, false),
    }
}

fn fii_of(opts: &Options<'_>) -> u32 {
    match opts.find(OptionType::FORKED_INSTANCE_ID).map(|o| o.value) {
        Some(OptionValue::ForkedInstanceId(f)) => f,
        _ => 0,
    }
}

fn validator_of<'a>(opts: &Options<'a>) -> Option<&'a [u8]> {
    match opts.find(OptionType::RESPONDER_VALIDATOR).map(|o| o.value) {
        Some(OptionValue::ResponderValidator(v)) => Some(v),
        _ => None,
    }
}

/// The locator list, PDS and signature options of a message.
fn proof_of<'a>(
    opts: &Options<'a>,
) -> (Option<LocatorList<'a>>, Option<&'a [u8]>, Option<&'a [u8]>) {
    let mut list = None;
    let mut pds = None;
    let mut sig = None;
    for o in opts.iter() {
        match o.value {
            OptionValue::LocatorList(l) if list.is_none() => list = Some(l),
            OptionValue::CgaParameters(p) if pds.is_none() => pds = Some(p),
            OptionValue::CgaSignature(s) if sig.is_none() => sig = Some(s),
            _ => {}
        }
    }
    (list, pds, sig)
}

/// Offset from the start of the Shim6 header of the first option of type
/// `ty` in a parsed message whose options start at `area_offset`.
fn option_offset(opts: &Options<'_>, ty: OptionType, area_offset: usize) -> Option<usize> {
    match opts {
        Options::Wire(area) => crate::wire::options::RawOptions::new(area)
            .flatten()
            .find(|r| r.option_type == ty)
            .map(|r| area_offset.saturating_add(r.offset)),
        _ => None,
    }
}

fn encode(message: Message<'_>, opts: &[OptionRepr<'_>]) -> Result<Vec<u8>, wire::Error> {
    let repr = ControlRepr {
        next_header: NO_NEXT_HEADER,
        message,
        options: Options::List(opts),
    };
    let mut buf = vec![0u8; repr.buffer_len()];
    repr.emit(&mut Shim6Packet::new_unchecked(&mut buf[..]))?;
    Ok(buf)
}

fn locator_options<'a, S>(id: &'a LocalIdentity<S>, v: &mut Vec<OptionRepr<'a>>) {
    v.push(OptionRepr::new(OptionValue::LocatorList(LocatorList {
        generation: id.generation(),
        locators: Locators::List(id.locators()),
    })));
    v.push(OptionRepr::new(OptionValue::CgaParameters(id.pds())));
    if let Some(s) = id.signature() {
        v.push(OptionRepr::new(OptionValue::CgaSignature(s)));
    }
    if let Some((element_len, elements)) = id.preferences() {
        v.push(OptionRepr::new(OptionValue::LocatorPreferences(
            LocatorPreferences {
                generation: id.generation(),
                element_len,
                elements,
            },
        )));
    }
}

/// The Shim6 host machine. See the [module docs](self).
pub struct Shim6Host<R, S = RsaSigner> {
    cfg: HostConfig,
    rng: R,
    ids: Vec<LocalIdentity<S>>,
    keys: ValidatorKeys,
    ctags: ContextTagAllocator,
    contexts: BTreeMap<Id, Context>,
    by_ulids: BTreeMap<(Ipv6Addr, Ipv6Addr, u32), Id>,
    by_ct_local: BTreeMap<ContextTag, Id>,
    by_nonce: BTreeMap<u32, Id>,
    by_ct_peer: BTreeSet<(ContextTag, Id)>,
    next_id: Id,
    timers: TimerHeap<(Id, TimerKind)>,
    out: OutQueue,
    clock: Clock,
    stats: HostStats,
    last_error: Option<Duration>,
}

impl<R, S> core::fmt::Debug for Shim6Host<R, S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Shim6Host")
            .field("contexts", &self.contexts.len())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl<R: CryptoRng, S: CgaSigner> Shim6Host<R, S> {
    /// A host with the given local identities and no context.
    ///
    /// # Errors
    /// A bad table bound, context tag space or validator lifetime.
    pub fn new(
        cfg: HostConfig,
        mut rng: R,
        now: Duration,
        identities: Vec<LocalIdentity<S>>,
    ) -> Result<Self, ConfigError> {
        if cfg.max_contexts == 0
            || cfg.max_identities == 0
            || cfg.max_peer_locators == 0
            || cfg.max_pending_outputs == 0
        {
            return Err(ConfigError::ZeroBound);
        }
        let duplicate = identities.iter().enumerate().any(|(i, a)| {
            identities
                .iter()
                .skip(i.saturating_add(1))
                .any(|b| a.ulid() == b.ulid())
        });
        if identities.len() > cfg.max_identities || duplicate {
            return Err(ConfigError::Identities);
        }
        let ctags = ContextTagAllocator::new(CtagConfig {
            max_live: cfg.max_contexts,
            ..cfg.ctag
        })?;
        let keys = ValidatorKeys::new(cfg.validator_lifetime, &mut rng, now)?;
        Ok(Self {
            cfg,
            rng,
            ids: identities,
            keys,
            ctags,
            contexts: BTreeMap::new(),
            by_ulids: BTreeMap::new(),
            by_ct_local: BTreeMap::new(),
            by_nonce: BTreeMap::new(),
            by_ct_peer: BTreeSet::new(),
            next_id: 1,
            timers: TimerHeap::new(),
            out: OutQueue::default(),
            clock: Clock::new(now),
            stats: HostStats::default(),
            last_error: None,
        })
    }

    // ---- getters ----

    /// Counters.
    pub fn stats(&self) -> HostStats {
        let mut s = self.stats;
        s.time_went_back = self.clock.went_back;
        s
    }

    /// The configuration.
    pub fn config(&self) -> &HostConfig {
        &self.cfg
    }

    /// Number of context entries (any state but IDLE).
    pub fn contexts(&self) -> usize {
        self.contexts.len()
    }

    /// Live context tags (CT(local) values), at most `max_contexts`.
    pub fn live_tags(&self) -> usize {
        self.ctags.live()
    }

    /// Outputs waiting in the queue.
    pub fn pending_outputs(&self) -> usize {
        self.out.len()
    }

    /// The local identities.
    pub fn identities(&self) -> &[LocalIdentity<S>] {
        &self.ids
    }

    /// The state of the context for a ULID pair (IDLE when there is none).
    pub fn state(&self, local_ulid: Ipv6Addr, peer_ulid: Ipv6Addr, fii: u32) -> ContextState {
        self.by_ulids
            .get(&(local_ulid, peer_ulid, fii))
            .and_then(|id| self.contexts.get(id))
            .map_or(ContextState::Idle, |c| c.state)
    }

    /// The context for a ULID pair.
    pub fn context_for(
        &self,
        local_ulid: Ipv6Addr,
        peer_ulid: Ipv6Addr,
        fii: u32,
    ) -> Option<ContextInfo> {
        self.by_ulids
            .get(&(local_ulid, peer_ulid, fii))
            .and_then(|id| self.contexts.get(id))
            .map(Context::info)
    }

    /// The context whose CT(local) is `tag` (the receive-side lookup of a
    /// payload extension header, §12.2).
    pub fn context_by_tag(&self, tag: ContextTag) -> Option<ContextInfo> {
        self.by_ct_local
            .get(&tag)
            .and_then(|id| self.contexts.get(id))
            .map(Context::info)
    }

    /// The context that sends with CT(peer) `tag` over this locator pair
    /// (for the reverse mapping of an ICMPv6 error's packet in error, §8).
    pub fn context_by_peer_tag(
        &self,
        tag: ContextTag,
        local_locator: Ipv6Addr,
        peer_locator: Ipv6Addr,
    ) -> Option<ContextInfo> {
        self.by_ct_peer
            .range((tag, Id::MIN)..=(tag, Id::MAX))
            .filter_map(|(_, id)| self.contexts.get(id))
            .find(|c| c.lp_local == local_locator && c.lp_peer == peer_locator)
            .map(Context::info)
    }

    /// Ls(peer) of the context whose CT(local) is `tag`: the peer's ULID,
    /// then its verified locators.
    pub fn peer_locators(&self, tag: ContextTag) -> Option<&[Ipv6Addr]> {
        self.by_ct_local
            .get(&tag)
            .and_then(|id| self.contexts.get(id))
            .map(|c| c.ls_peer.as_slice())
    }

    /// Every context, in no particular order.
    pub fn iter_contexts(&self) -> impl Iterator<Item = ContextInfo> + '_ {
        self.contexts.values().map(Context::info)
    }

    // ---- local commands ----

    /// Adds a local identity.
    ///
    /// # Errors
    /// [`ApiError::Identity`] when `max_identities` is reached or the ULID
    /// is already an identity.
    pub fn add_identity(&mut self, id: LocalIdentity<S>) -> Result<(), ApiError> {
        if self.ids.len() >= self.cfg.max_identities || self.identity(id.ulid()).is_some() {
            return Err(ApiError::Identity);
        }
        self.ids.push(id);
        Ok(())
    }

    fn identity(&self, ulid: Ipv6Addr) -> Option<&LocalIdentity<S>> {
        self.ids.iter().find(|i| i.ulid() == ulid)
    }

    /// Whether `ulid` is a local ULID and `addr` it or one of its locators.
    fn is_local_locator(&self, ulid: Ipv6Addr, addr: Ipv6Addr) -> bool {
        self.identity(ulid)
            .is_some_and(|i| addr == ulid || i.has_locator(addr))
    }

    /// Starts establishing the default context for a ULID pair, with the
    /// ULIDs as locators. Returns CT(local).
    ///
    /// # Errors
    /// See [`Shim6Host::establish_with`].
    pub fn establish(
        &mut self,
        now: Duration,
        local_ulid: Ipv6Addr,
        peer_ulid: Ipv6Addr,
    ) -> Result<ContextTag, ApiError> {
        self.establish_with(
            now,
            Establish {
                local_ulid,
                peer_ulid,
                fii: 0,
                locators: None,
            },
        )
    }

    /// Starts establishing a context (RFC 5533 §7.7): the IDLE row
    /// "heuristic triggers establishment". Returns CT(local).
    ///
    /// # Errors
    /// [`ApiError::UnknownUlid`], [`ApiError::Exists`] (a context for the
    /// pair and FII exists), [`ApiError::HeldDown`] (E-FAILED or
    /// NO-SUPPORT), [`ApiError::TableFull`], [`ApiError::NotALocator`] (the
    /// local locator is not the identity's).
    pub fn establish_with(&mut self, now: Duration, e: Establish) -> Result<ContextTag, ApiError> {
        let now = self.clock.advance(now);
        let (lp_local, lp_peer) = e.locators.unwrap_or((e.local_ulid, e.peer_ulid));
        let Some(ident) = self.identity(e.local_ulid) else {
            return Err(ApiError::UnknownUlid);
        };
        if !ident.has_locator(lp_local) && lp_local != e.local_ulid {
            return Err(ApiError::NotALocator);
        }
        if !is_unicast(lp_peer) || !is_unicast(e.peer_ulid) {
            return Err(ApiError::NotALocator);
        }
        let state = self.state(e.local_ulid, e.peer_ulid, e.fii);
        let tr = step(state, Trigger::Heuristic);
        if tr.action != Action::SendI1 {
            return Err(match state {
                ContextState::EFailed | ContextState::NoSupport => ApiError::HeldDown(state),
                s => ApiError::Exists(s),
            });
        }
        let id = self
            .create_context(e.local_ulid, e.peer_ulid, e.fii, lp_local, lp_peer, now)
            .map_err(|_| ApiError::TableFull)?;
        self.fresh_nonce(id);
        self.set_state(id, tr.next);
        self.retx_reset(id);
        self.send_i1(id);
        self.arm_retransmit(id, now, I1_TIMEOUT);
        self.purge_timers();
        self.contexts
            .get(&id)
            .and_then(|c| c.ct_local)
            .ok_or(ApiError::NoContext)
    }

    /// Upper-layer traffic of `bytes` octets between two ULIDs, seen by the
    /// data plane (§11, §12.1). With a context for the pair it only keeps
    /// the context alive; without one, `policy` decides whether to
    /// establish now (the "heuristic triggers establishment" row). Returns
    /// the new CT(local) when an establishment started.
    ///
    /// # Errors
    /// As [`Shim6Host::establish`] when the policy triggered and the
    /// establishment could not start.
    pub fn offer_traffic<P: TriggerPolicy + ?Sized>(
        &mut self,
        now: Duration,
        local_ulid: Ipv6Addr,
        peer_ulid: Ipv6Addr,
        bytes: usize,
        policy: &mut P,
    ) -> Result<Option<ContextTag>, ApiError> {
        let now = self.clock.advance(now);
        if let Some(&id) = self.by_ulids.get(&(local_ulid, peer_ulid, 0)) {
            self.touch(id, now);
            return Ok(None);
        }
        if self.identity(local_ulid).is_none() {
            return Err(ApiError::UnknownUlid);
        }
        if !policy.on_traffic(now, local_ulid, peer_ulid, bytes, self.contexts.len()) {
            return Ok(None);
        }
        policy.forget(local_ulid, peer_ulid);
        self.establish(now, local_ulid, peer_ulid).map(Some)
    }

    /// The data plane used the context whose CT(local) is `tag` (sent or
    /// received a packet): it is not idle.
    pub fn note_traffic(&mut self, now: Duration, tag: ContextTag) {
        let now = self.clock.advance(now);
        if let Some(id) = self.by_ct_local.get(&tag)
            && let Some(c) = self.contexts.get_mut(id)
        {
            c.last_used = now;
        }
    }

    /// Removes the context whose CT(local) is `tag` (the "implementation
    /// heuristic" teardown of §9, ESTABLISHED only).
    ///
    /// # Errors
    /// [`ApiError::NoContext`] when there is no established context with it.
    pub fn teardown(&mut self, now: Duration, tag: ContextTag) -> Result<(), ApiError> {
        let _ = self.clock.advance(now);
        let id = *self.by_ct_local.get(&tag).ok_or(ApiError::NoContext)?;
        let state = self.contexts.get(&id).map(|c| c.state);
        let tr = step(state.unwrap_or_default(), Trigger::Teardown);
        if tr.action != Action::DiscardState {
            return Err(ApiError::NoContext);
        }
        self.remove_context(id);
        self.purge_timers();
        Ok(())
    }

    /// Chooses the locator pair of an established context (what REAP or
    /// the application would decide): `local` must be one of the local
    /// identity's locators and `peer` in Ls(peer).
    ///
    /// # Errors
    /// [`ApiError::NoContext`], [`ApiError::NotALocator`].
    pub fn set_locator_pair(
        &mut self,
        tag: ContextTag,
        local: Ipv6Addr,
        peer: Ipv6Addr,
    ) -> Result<(), ApiError> {
        let id = *self.by_ct_local.get(&tag).ok_or(ApiError::NoContext)?;
        let c = self.contexts.get(&id).ok_or(ApiError::NoContext)?;
        let ok_local = self
            .identity(c.local_ulid)
            .is_some_and(|i| i.has_locator(local));
        if !ok_local || !c.ls_peer.contains(&peer) {
            return Err(ApiError::NotALocator);
        }
        if let Some(c) = self.contexts.get_mut(&id) {
            c.lp_local = local;
            c.lp_peer = peer;
            if c.installed {
                let info = c.info();
                self.out.event(Event::ContextUpdated(info));
            }
        }
        Ok(())
    }

    /// Replaces the locators of the local identity `local_ulid` (§10.1):
    /// a new random generation, CGA-method locators signed again; every
    /// context of the identity that has CT(peer) (ESTABLISHED, I2BIS-SENT)
    /// sends an Update Request (a new Request Nonce, abandoning any
    /// outstanding one, §10.3), retransmitted until acknowledged. Contexts
    /// still being established send the new list in their next I2/I2bis.
    /// Returns the number of Update Requests started.
    ///
    /// # Errors
    /// [`ApiError::UnknownUlid`]; [`ApiError::Locators`] when a locator
    /// verifies neither as an HBA set member nor by a CGA signature (then
    /// nothing changes).
    pub fn update_locators(
        &mut self,
        now: Duration,
        local_ulid: Ipv6Addr,
        locators: Vec<crate::wire::Locator>,
    ) -> Result<usize, ApiError> {
        let now = self.clock.advance(now);
        let ident = self
            .ids
            .iter_mut()
            .find(|i| i.ulid() == local_ulid)
            .ok_or(ApiError::UnknownUlid)?;
        ident
            .set_locators(&mut self.rng, locators)
            .map_err(ApiError::Locators)?;
        let n = self.start_updates(now, local_ulid, true);
        self.purge_timers();
        Ok(n)
    }

    /// Sets the Locator Preferences of identity `local_ulid` (Element Len
    /// and one element per locator, §5.15.3) and sends them in an Update
    /// Request on each of its contexts, as [`Shim6Host::update_locators`].
    ///
    /// # Errors
    /// [`ApiError::UnknownUlid`]; [`ApiError::Locators`] for a bad count.
    pub fn update_preferences(
        &mut self,
        now: Duration,
        local_ulid: Ipv6Addr,
        element_len: u8,
        elements: Vec<u8>,
    ) -> Result<usize, ApiError> {
        let now = self.clock.advance(now);
        let ident = self
            .ids
            .iter_mut()
            .find(|i| i.ulid() == local_ulid)
            .ok_or(ApiError::UnknownUlid)?;
        ident
            .set_preferences(Some((element_len, elements)))
            .map_err(ApiError::Locators)?;
        let n = self.start_updates(now, local_ulid, false);
        self.purge_timers();
        Ok(n)
    }

    /// The peer's Locator Preferences on the context whose CT(local) is
    /// `tag`: generation, Element Len, elements.
    pub fn peer_preferences(&self, tag: ContextTag) -> Option<(u32, u8, &[u8])> {
        let c = self
            .by_ct_local
            .get(&tag)
            .and_then(|id| self.contexts.get(id))?;
        c.peer_prefs
            .as_ref()
            .map(|(g, l, e)| (*g, *l, e.as_slice()))
    }

    /// Whether the context whose CT(local) is `tag` has an Update Request
    /// outstanding.
    pub fn update_pending(&self, tag: ContextTag) -> bool {
        self.by_ct_local
            .get(&tag)
            .and_then(|id| self.contexts.get(id))
            .is_some_and(|c| c.update_nonce.is_some())
    }

    fn start_updates(&mut self, now: Duration, local_ulid: Ipv6Addr, list_changed: bool) -> usize {
        let locators: Vec<Ipv6Addr> = self
            .identity(local_ulid)
            .map(|i| i.locators().iter().map(|l| l.addr).collect())
            .unwrap_or_default();
        let ids: Vec<Id> = self
            .contexts
            .iter()
            .filter(|(_, c)| c.local_ulid == local_ulid)
            .map(|(id, _)| *id)
            .collect();
        let mut n = 0usize;
        for id in ids {
            let Some(c) = self.contexts.get_mut(&id) else {
                continue;
            };
            if list_changed && !locators.contains(&c.lp_local) {
                c.lp_local = c.local_ulid;
                if c.installed {
                    let info = c.info();
                    self.out.event(Event::ContextUpdated(info));
                }
            }
            if self.start_update(id, now) {
                n = n.saturating_add(1);
            }
        }
        n
    }

    /// A new Update Request (new nonce) on a context that has CT(peer).
    fn start_update(&mut self, id: Id, now: Duration) -> bool {
        let nonce = self.rng.next_u32();
        let Some(c) = self.contexts.get_mut(&id) else {
            return false;
        };
        if !matches!(c.state, ContextState::Established | ContextState::I2bisSent) {
            return false;
        }
        c.update_nonce = Some(nonce);
        c.update_retx = 0;
        self.send_update(id);
        self.arm_update(id, now);
        true
    }

    /// Records which version of the local locators the peer was sent.
    fn note_sent_locators(&mut self, id: Id) {
        let Some(c) = self.contexts.get(&id) else {
            return;
        };
        let v = self.identity(c.local_ulid).map(LocalIdentity::version);
        if let Some(c) = self.contexts.get_mut(&id) {
            c.sent_version = v;
        }
    }

    fn arm_update(&mut self, id: Id, now: Duration) {
        let Some(c) = self.contexts.get_mut(&id) else {
            return;
        };
        //= https://www.rfc-editor.org/rfc/rfc5533#section-10.2
        //# The binary exponential backoff stops at MAX_UPDATE_TIMEOUT.
        let d = if self.cfg.jitter {
            backoff::retransmit_timeout(
                UPDATE_TIMEOUT,
                c.update_retx,
                Some(MAX_UPDATE_TIMEOUT),
                &mut self.rng,
            )
        } else {
            backoff::backed_off(UPDATE_TIMEOUT, c.update_retx, Some(MAX_UPDATE_TIMEOUT))
        };
        c.update_timer = self
            .timers
            .arm(now.saturating_add(d), (id, TimerKind::Update));
    }

    fn on_update_timer(&mut self, id: Id, now: Duration) {
        let Some(c) = self.contexts.get_mut(&id) else {
            return;
        };
        c.update_timer = 0;
        if c.update_nonce.is_none()
            || !matches!(c.state, ContextState::Established | ContextState::I2bisSent)
        {
            return;
        }
        //= https://www.rfc-editor.org/rfc/rfc5533#section-10.2
        //# Should there be no response, the retransmissions continue forever.
        c.update_retx = c.update_retx.saturating_add(1);
        self.send_update(id);
        self.arm_update(id, now);
    }

    fn send_update(&mut self, id: Id) {
        let built = self.context_message(id, true, |c| Message::UpdateRequest {
            context_tag: c.ct_peer.unwrap_or_default(),
            request_nonce: c.update_nonce.unwrap_or_default(),
        });
        self.queue(built);
        self.note_sent_locators(id);
    }

    // ---- inputs ----

    /// Takes a received Shim6 header (control message, or payload
    /// extension header the data plane had no context for). A peer's bad
    /// message is a counted [`Dropped`], never a state change.
    ///
    /// # Errors
    /// Why the datagram was dropped (already counted).
    pub fn handle_datagram(&mut self, now: Duration, rx: &RxDatagram<'_>) -> Result<(), Dropped> {
        let now = self.clock.advance(now);
        self.keys.rotate_if_due(&mut self.rng, now);
        let r = self.dispatch(now, rx);
        self.purge_timers();
        r
    }

    fn dispatch(&mut self, now: Duration, rx: &RxDatagram<'_>) -> Result<(), Dropped> {
        if !is_unicast(rx.src) || !is_unicast(rx.dst) {
            return self.drop(Dropped::NotUnicast);
        }
        let view = match Shim6Packet::new_checked(rx.payload) {
            Ok(v) => v,
            Err(e) => return self.drop(Dropped::Malformed(e)),
        };
        if view.p_bit() {
            let p = match PayloadRepr::parse(&view) {
                Ok(p) => p,
                Err(e) => return self.drop(Dropped::Malformed(e)),
            };
            self.stats.received.payload = self.stats.received.payload.saturating_add(1);
            return self.on_tagged(now, rx, p.context_tag, None);
        }
        let repr = match ControlRepr::parse(&view) {
            Ok(r) => r,
            Err(e) => {
                if let wire::Error::UnrecognizedCriticalOption { pointer } = e {
                    //= https://www.rfc-editor.org/rfc/rfc5533#section-12.3
                    //# If there
                    //# is any option in the message with C=1 that isn't known to the host,
                    //# then the host MUST send a Shim6 Error message with Error Code=1 with
                    //# the Pointer field referencing the first octet of the Option Type.
                    self.send_error(now, rx, ErrorCode::CRITICAL_OPTION, pointer);
                }
                return self.drop(Dropped::Malformed(e));
            }
        };
        let t = repr.message.msg_type();
        self.stats.received.bump(t);
        if let Message::Unknown { .. } = repr.message {
            //= https://www.rfc-editor.org/rfc/rfc5533#section-12.3
            //# If the packet contains a shim message type that is unknown
            //# to the receiver, then a Shim6 Error message with Error Code=0 is
            //# generated and sent back.
            self.send_error(
                now,
                rx,
                ErrorCode::UNKNOWN_MESSAGE_TYPE,
                Message::UNKNOWN_TYPE_POINTER,
            );
            return self.drop(Dropped::Unsupported(t));
        }
        match repr.message {
            Message::I1 {
                context_tag,
                initiator_nonce,
            } => self.on_i1(rx, &repr.options, context_tag, initiator_nonce),
            Message::R1 {
                initiator_nonce,
                responder_nonce,
            } => self.on_r1(now, rx, &repr.options, initiator_nonce, responder_nonce),
            Message::I2 {
                context_tag,
                initiator_nonce,
                responder_nonce,
            } => self.on_i2(
                now,
                rx,
                &repr.options,
                context_tag,
                initiator_nonce,
                responder_nonce,
                None,
            ),
            Message::I2bis {
                context_tag,
                initiator_nonce,
                responder_nonce,
                packet_context_tag,
            } => self.on_i2(
                now,
                rx,
                &repr.options,
                context_tag,
                initiator_nonce,
                responder_nonce,
                Some(packet_context_tag),
            ),
            Message::R2 {
                context_tag,
                initiator_nonce,
            } => self.on_r2(now, rx, &repr.options, context_tag, initiator_nonce),
            Message::R1bis {
                packet_context_tag,
                responder_nonce,
            } => self.on_r1bis(now, rx, &repr.options, packet_context_tag, responder_nonce),
            ref m => match m.receiver_context_tag() {
                Some(tag) => self.on_tagged(now, rx, tag, Some((m, &repr.options))),
                None => self.drop(Dropped::Unsupported(t)),
            },
        }
    }

    /// Takes an ICMPv6 Unrecognized Next Header error (type 4, code 1)
    /// whose invoking packet is `quoted` (its IPv6 addresses and the Shim6
    /// header). When it quotes the I1 of a context in I1-SENT, the context
    /// goes to NO-SUPPORT (§7.8).
    ///
    /// # Errors
    /// Why it was ignored (counted).
    pub fn handle_icmp_unrecognized_next_header(
        &mut self,
        now: Duration,
        quoted: &RxDatagram<'_>,
    ) -> Result<(), Dropped> {
        let now = self.clock.advance(now);
        let view = match Shim6Packet::new_checked(quoted.payload) {
            Ok(v) => v,
            Err(e) => return self.drop(Dropped::Malformed(e)),
        };
        let repr = match ControlRepr::parse(&view) {
            Ok(r) => r,
            Err(e) => return self.drop(Dropped::Malformed(e)),
        };
        let Message::I1 {
            context_tag,
            initiator_nonce,
        } = repr.message
        else {
            return self.drop(Dropped::NoContext);
        };
        let Some(&id) = self.by_ct_local.get(&context_tag) else {
            return self.drop(Dropped::NoContext);
        };
        let Some(c) = self.contexts.get(&id) else {
            return self.drop(Dropped::NoContext);
        };
        if c.init_nonce != Some(initiator_nonce)
            || c.lp_local != quoted.src
            || c.lp_peer != quoted.dst
        {
            return self.drop(Dropped::NoContext);
        }
        let state = c.state;
        let tr = step(state, Trigger::IcmpUnrecognizedNextHeader);
        if tr.next == ContextState::NoSupport && state != ContextState::NoSupport {
            self.enter_failed(id, now, ContextState::NoSupport);
            self.purge_timers();
            Ok(())
        } else {
            self.drop(Dropped::Discarded(state))
        }
    }

    // ---- message handlers ----

    fn on_i1(
        &mut self,
        rx: &RxDatagram<'_>,
        opts: &Options<'_>,
        tag: ContextTag,
        nonce: u32,
    ) -> Result<(), Dropped> {
        let (peer_ulid, local_ulid, has_opt) = ulids(rx, opts);
        if !self.is_local_locator(local_ulid, rx.dst) {
            return self.drop(Dropped::NotOurUlid);
        }
        let fii = fii_of(opts);
        let id = self.by_ulids.get(&(local_ulid, peer_ulid, fii)).copied();
        let (state, ct_matches) = match id.and_then(|id| self.contexts.get(&id)) {
            Some(c) => (
                c.state,
                c.ct_peer == Some(tag) && (!has_opt || c.ls_peer.contains(&rx.src)),
            ),
            None => (ContextState::Idle, false),
        };
        let tr = step(state, Trigger::ReceiveI1 { ct_matches });
        match (tr.action, id) {
            (Action::SendR1, _) => {
                let input = R1Input {
                    initiator_context_tag: tag,
                    initiator_ulid: peer_ulid,
                    responder_ulid: local_ulid,
                    src_locator: rx.src,
                    dst_locator: rx.dst,
                    forked_instance_id: fii,
                };
                let (resp_nonce, v) = self.keys.issue_r1(&input);
                let opts = [OptionRepr::new(OptionValue::ResponderValidator(&v))];
                let msg = Message::R1 {
                    initiator_nonce: nonce,
                    responder_nonce: resp_nonce,
                };
                self.send(rx.dst, rx.src, msg, &opts);
                Ok(())
            }
            (Action::SendR2, Some(id)) => {
                self.send_r2(id, nonce, rx.dst, rx.src);
                Ok(())
            }
            _ => self.drop(Dropped::Discarded(state)),
        }
    }

    fn on_r1(
        &mut self,
        now: Duration,
        rx: &RxDatagram<'_>,
        opts: &Options<'_>,
        init_nonce: u32,
        resp_nonce: u32,
    ) -> Result<(), Dropped> {
        let Some(id) = self.find_by_nonce(init_nonce, rx) else {
            return self.drop(Dropped::NoContext);
        };
        let state = self.contexts.get(&id).map(|c| c.state).unwrap_or_default();
        let tr = step(state, Trigger::ReceiveR1 { nonce_ok: true });
        match tr.action {
            Action::SendI2 => {
                let Some(v) = validator_of(opts) else {
                    return self.drop(Dropped::MissingValidator);
                };
                if let Some(c) = self.contexts.get_mut(&id) {
                    c.resp_nonce = resp_nonce;
                    c.validator = v.to_vec();
                }
                self.set_state(id, tr.next);
                self.retx_reset(id);
                self.send_i2(id);
                self.arm_retransmit(id, now, I2_TIMEOUT);
                Ok(())
            }
            Action::NotDelivered => self.drop(Dropped::NotDelivered(state)),
            _ => self.drop(Dropped::Discarded(state)),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn on_i2(
        &mut self,
        now: Duration,
        rx: &RxDatagram<'_>,
        opts: &Options<'_>,
        tag: ContextTag,
        init_nonce: u32,
        resp_nonce: u32,
        packet_ct: Option<ContextTag>,
    ) -> Result<(), Dropped> {
        let (peer_ulid, local_ulid, _) = ulids(rx, opts);
        if !self.is_local_locator(local_ulid, rx.dst) {
            return self.drop(Dropped::NotOurUlid);
        }
        let fii = fii_of(opts);
        let Some(v) = validator_of(opts) else {
            return self.drop(Dropped::MissingValidator);
        };
        let validator_ok = match packet_ct {
            None => self.keys.verify_r1(
                resp_nonce,
                &R1Input {
                    initiator_context_tag: tag,
                    initiator_ulid: peer_ulid,
                    responder_ulid: local_ulid,
                    src_locator: rx.src,
                    dst_locator: rx.dst,
                    forked_instance_id: fii,
                },
                v,
            ),
            Some(p) => self.keys.verify_r1bis(
                resp_nonce,
                &R1bisInput {
                    packet_context_tag: p,
                    src_locator: rx.src,
                    dst_locator: rx.dst,
                },
                v,
            ),
        };
        let id = self.by_ulids.get(&(local_ulid, peer_ulid, fii)).copied();
        let ctx = id.and_then(|id| self.contexts.get(&id));
        let state = ctx.map_or(ContextState::Idle, |c| c.state);
        // Verification only once the validator proved the initiator is on
        // the path (no RSA work for blind floods).
        let verdict = if validator_ok {
            let (list, pds, sig) = proof_of(opts);
            match verify_peer_locators(
                peer_ulid,
                list.as_ref(),
                pds,
                sig,
                &self.cfg.key_limits,
                self.cfg.max_peer_locators,
            ) {
                Ok(ls) => {
                    let src_ok = match state {
                        ContextState::I1Sent
                        | ContextState::I2Sent
                        | ContextState::I2bisSent
                        | ContextState::Established => {
                            ls.contains(&rx.src) || ctx.is_some_and(|c| c.ls_peer.contains(&rx.src))
                        }
                        _ => true,
                    };
                    if src_ok {
                        Ok(ls)
                    } else {
                        Err(Dropped::SourceNotInLocators)
                    }
                }
                Err(e) => Err(Dropped::BadLocators(e)),
            }
        } else {
            Err(Dropped::BadValidator)
        };
        let valid = verdict.is_ok();
        let trigger = match packet_ct {
            None => Trigger::ReceiveI2 { valid },
            Some(_) => Trigger::ReceiveI2bis { valid },
        };
        let tr = step(state, trigger);
        match (tr.action, verdict) {
            (Action::SendR2, Ok(ls)) => {
                let id = match id {
                    Some(id) => id,
                    None => {
                        match self.create_context(local_ulid, peer_ulid, fii, rx.dst, rx.src, now) {
                            Ok(id) => id,
                            Err(e) => return self.drop(e),
                        }
                    }
                };
                if let Err(e) = self.ensure_ct_local(id) {
                    return self.drop(e);
                }
                self.record_peer(id, tag, ls, rx, opts);
                self.resolve_confusion(id);
                if tr.next == ContextState::Established {
                    self.enter_established(id, now);
                } else {
                    self.set_state(id, tr.next);
                }
                self.send_r2(id, init_nonce, rx.dst, rx.src);
                Ok(())
            }
            (_, Err(e)) => self.drop(e),
            _ => self.drop(Dropped::Discarded(state)),
        }
    }

    fn on_r2(
        &mut self,
        now: Duration,
        rx: &RxDatagram<'_>,
        opts: &Options<'_>,
        tag: ContextTag,
        init_nonce: u32,
    ) -> Result<(), Dropped> {
        let Some(id) = self.find_by_nonce(init_nonce, rx) else {
            return self.drop(Dropped::NoContext);
        };
        let Some(c) = self.contexts.get(&id) else {
            return self.drop(Dropped::NoContext);
        };
        let (state, peer_ulid) = (c.state, c.peer_ulid);
        let tr = step(state, Trigger::ReceiveR2 { nonce_ok: true });
        if tr.action != Action::None || tr.next != ContextState::Established {
            return self.drop(Dropped::Discarded(state));
        }
        let (list, pds, sig) = proof_of(opts);
        let ls = match verify_peer_locators(
            peer_ulid,
            list.as_ref(),
            pds,
            sig,
            &self.cfg.key_limits,
            self.cfg.max_peer_locators,
        ) {
            Ok(ls) => ls,
            Err(e) => return self.drop(Dropped::BadLocators(e)),
        };
        self.record_peer(id, tag, ls, rx, opts);
        self.resolve_confusion(id);
        self.enter_established(id, now);
        // The locators changed after the I2 (I2bis) went out: tell the peer
        // now (§10.1).
        let stale = self.contexts.get(&id).is_some_and(|c| {
            c.sent_version.is_some()
                && c.sent_version != self.identity(c.local_ulid).map(LocalIdentity::version)
        });
        if stale {
            self.start_update(id, now);
        }
        Ok(())
    }

    fn on_r1bis(
        &mut self,
        now: Duration,
        rx: &RxDatagram<'_>,
        opts: &Options<'_>,
        packet_ct: ContextTag,
        resp_nonce: u32,
    ) -> Result<(), Dropped> {
        let lo = (packet_ct, Id::MIN);
        let hi = (packet_ct, Id::MAX);
        let found = self
            .by_ct_peer
            .range(lo..=hi)
            .map(|&(_, id)| id)
            .find(|id| {
                self.contexts
                    .get(id)
                    .is_some_and(|c| c.lp_peer == rx.src && c.lp_local == rx.dst)
            });
        let Some(id) = found else {
            return self.drop(Dropped::NoContext);
        };
        let state = self.contexts.get(&id).map(|c| c.state).unwrap_or_default();
        let tr = step(state, Trigger::ReceiveR1bis);
        match tr.action {
            Action::SendI2bis => {
                let Some(v) = validator_of(opts) else {
                    return self.drop(Dropped::MissingValidator);
                };
                if let Some(c) = self.contexts.get_mut(&id) {
                    c.resp_nonce = resp_nonce;
                    c.validator = v.to_vec();
                    c.packet_ct = packet_ct;
                }
                if self
                    .contexts
                    .get(&id)
                    .is_some_and(|c| c.init_nonce.is_none())
                {
                    let _ = self.fresh_nonce(id);
                }
                self.set_state(id, tr.next);
                self.retx_reset(id);
                self.send_i2bis(id);
                self.arm_retransmit(id, now, I2bis_TIMEOUT);
                Ok(())
            }
            Action::NotDelivered => self.drop(Dropped::NotDelivered(state)),
            _ => self.drop(Dropped::Discarded(state)),
        }
    }

    /// A payload extension header (`msg` None) or a control message of
    /// types 64-127 carrying the receiver's context tag (§12.2, §10.4,
    /// §10.5).
    fn on_tagged(
        &mut self,
        now: Duration,
        rx: &RxDatagram<'_>,
        tag: ContextTag,
        msg: Option<(&Message<'_>, &Options<'_>)>,
    ) -> Result<(), Dropped> {
        let mut id = self.by_ct_local.get(&tag).copied();
        // §10.4, §10.5: a control message from outside Ls(peer) / to
        // outside Ls(local) comes from a stale context that happens to use
        // this tag: answer as if there were no context.
        if msg.is_some()
            && let Some(i) = id
            && !self.contexts.get(&i).is_some_and(|c| {
                c.ls_peer.contains(&rx.src)
                    && self
                        .identity(c.local_ulid)
                        .is_some_and(|l| l.has_locator(rx.dst) || l.ulid() == rx.dst)
            })
        {
            id = None;
        }
        let state = id
            .and_then(|id| self.contexts.get(&id))
            .map_or(ContextState::Idle, |c| c.state);
        let tr = step(state, Trigger::PayloadOrControl);
        match (tr.action, id) {
            (Action::SendR1bis, _) => {
                let input = R1bisInput {
                    packet_context_tag: tag,
                    src_locator: rx.src,
                    dst_locator: rx.dst,
                };
                let (resp_nonce, v) = self.keys.issue_r1bis(&input);
                let opts = [OptionRepr::new(OptionValue::ResponderValidator(&v))];
                let m = Message::R1bis {
                    packet_context_tag: tag,
                    responder_nonce: resp_nonce,
                };
                self.send(rx.dst, rx.src, m, &opts);
                if msg.is_some() && self.by_ct_local.contains_key(&tag) {
                    return self.drop(Dropped::NotInContextLocators);
                }
                Ok(())
            }
            (Action::Process, Some(id)) => self.process_tagged(id, now, rx, msg),
            (Action::ProcessAndSendI2, Some(id)) => {
                if self.resend_due(id, now) {
                    self.send_i2(id);
                }
                self.process_tagged(id, now, rx, msg)
            }
            (Action::ProcessAndSendI2bis, Some(id)) => {
                if self.resend_due(id, now) {
                    self.send_i2bis(id);
                }
                self.process_tagged(id, now, rx, msg)
            }
            _ => self.drop(Dropped::Discarded(state)),
        }
    }

    /// Whether a payload-triggered I2/I2bis may go out now: at most one
    /// per [`RESEND_INTERVAL`] per context, so that a stream of payload
    /// packets does not become a stream of I2bis messages (each larger
    /// than the packet that triggered it).
    fn resend_due(&mut self, id: Id, now: Duration) -> bool {
        let Some(c) = self.contexts.get_mut(&id) else {
            return false;
        };
        if c.last_resend
            .is_some_and(|t| now < t.saturating_add(RESEND_INTERVAL))
        {
            self.stats.resends_suppressed = self.stats.resends_suppressed.saturating_add(1);
            return false;
        }
        c.last_resend = Some(now);
        true
    }

    /// The "process" of a payload or a control message 64-127 for a
    /// context: Update Request (§10.4), Update Acknowledgement (§10.5);
    /// REAP messages only keep the context alive.
    fn process_tagged(
        &mut self,
        id: Id,
        now: Duration,
        rx: &RxDatagram<'_>,
        msg: Option<(&Message<'_>, &Options<'_>)>,
    ) -> Result<(), Dropped> {
        match msg {
            None => {
                self.touch(id, now);
                Ok(())
            }
            Some((Message::UpdateRequest { request_nonce, .. }, opts)) => {
                self.on_update_request(id, now, rx, *request_nonce, opts)
            }
            Some((Message::UpdateAck { request_nonce, .. }, _)) => {
                let Some(c) = self.contexts.get_mut(&id) else {
                    return self.drop(Dropped::NoContext);
                };
                if c.update_nonce != Some(*request_nonce) {
                    //= https://www.rfc-editor.org/rfc/rfc5533#section-10.5
                    //# If the Request Nonce doesn't match the nonce for the last sent Update
                    //# Request for the context, then the Update Acknowledgement is silently
                    //# ignored.
                    return self.drop(Dropped::StaleAck);
                }
                c.update_nonce = None;
                c.update_timer = 0;
                c.update_retx = 0;
                c.last_used = now;
                Ok(())
            }
            Some((m, _)) => {
                self.touch(id, now);
                self.drop(Dropped::Unsupported(m.msg_type()))
            }
        }
    }

    /// §10.4: verify the new list (with the PDS of the message or of the
    /// establishment), check the preferences against it, then record both
    /// and acknowledge. Nothing is recorded unless everything verifies.
    fn error_at(&mut self, now: Duration, rx: &RxDatagram<'_>, code: ErrorCode, at: Option<usize>) {
        let pointer = at.and_then(|a| u16::try_from(a).ok()).unwrap_or(0);
        self.send_error(now, rx, code, pointer);
    }

    fn on_update_request(
        &mut self,
        id: Id,
        now: Duration,
        rx: &RxDatagram<'_>,
        nonce: u32,
        opts: &Options<'_>,
    ) -> Result<(), Dropped> {
        let Some(c) = self.contexts.get(&id) else {
            return self.drop(Dropped::NoContext);
        };
        if c.ct_peer.is_none() {
            // I2-SENT: CT(peer) unknown, nothing to acknowledge with; the
            // I2 just sent will establish the context and the peer
            // retransmits its request.
            return self.drop(Dropped::Discarded(c.state));
        }
        let (list, pds, sig) = proof_of(opts);
        let prefs = match opts.find(OptionType::LOCATOR_PREFERENCES).map(|o| o.value) {
            Some(OptionValue::LocatorPreferences(p)) => Some(p),
            _ => None,
        };
        let pds_used = pds.unwrap_or(&c.peer_pds);
        let pds_opt = if pds_used.is_empty() {
            None
        } else {
            Some(pds_used)
        };
        let new_list = match &list {
            Some(l) => match verify_peer_locators(
                c.peer_ulid,
                Some(l),
                pds_opt,
                sig,
                &self.cfg.key_limits,
                self.cfg.max_peer_locators,
            ) {
                Ok(ls) => Some((ls, l.generation, l.locators.len())),
                Err(e) => {
                    //= https://www.rfc-editor.org/rfc/rfc5533#section-10.4
                    //# If the locator list
                    //# cannot be verified, this procedure should send a Shim6 Error message
                    //# with Error Code=2.
                    let index = match e {
                        LocatorError::UnknownMethod { index }
                        | LocatorError::NotInHbaSet { index } => index,
                        _ => 0,
                    };
                    // The Verification Method octet: option header 4,
                    // generation 4, Num Locators 1.
                    let at = option_offset(opts, OptionType::LOCATOR_LIST, 16)
                        .map(|o| o.saturating_add(9).saturating_add(index));
                    self.error_at(now, rx, ErrorCode::VERIFICATION_FAILED, at);
                    return self.drop(Dropped::BadLocators(e));
                }
            },
            None => {
                if let Some(p) = pds
                    && !crate::locators::pds_matches_ulid(&c.peer_ulid, p)
                {
                    return self.drop(Dropped::BadLocators(LocatorError::PdsNotForUlid));
                }
                None
            }
        };
        let (generation, list_len) = new_list
            .as_ref()
            .map_or((c.peer_generation, c.peer_list_len), |(_, g, n)| (*g, *n));
        if let Some(p) = &prefs {
            let at = option_offset(opts, OptionType::LOCATOR_PREFERENCES, 16);
            if p.generation != generation {
                //= https://www.rfc-editor.org/rfc/rfc5533#section-10.4
                //# If they do not match,
                //# then the host generates a Shim6 Error message with Error Code=3 and
                //# with the Pointer field referring to the first octet in the Locator
                //# List Generation number in the Locator Preference option.
                let at = at.map(|o| o.saturating_add(4));
                self.error_at(now, rx, ErrorCode::GENERATION_OUT_OF_SYNC, at);
                return self.drop(Dropped::GenerationMismatch);
            }
            if p.count() != list_len {
                //= https://www.rfc-editor.org/rfc/rfc5533#section-10.4
                //# if the number of elements in the Locator Preference option
                //# does not match the number of locators in Ls(peer), then a Shim6 Error
                //# message with Error Code=4 is sent with the Pointer field referring to
                //# the first octet of the Length field in the Locator Preference option.
                let at = at.map(|o| o.saturating_add(2));
                self.error_at(now, rx, ErrorCode::LOCATOR_COUNT, at);
                return self.drop(Dropped::LocatorCount);
            }
        }
        let ct_peer = c.ct_peer;
        let keep_pds = pds.map(<[u8]>::to_vec);
        let Some(c) = self.contexts.get_mut(&id) else {
            return self.drop(Dropped::NoContext);
        };
        if let Some(p) = keep_pds {
            c.peer_pds = p;
        }
        if let Some((ls, g, n)) = new_list {
            c.peer_generation = g;
            c.peer_list_len = n;
            c.peer_prefs = None;
            if !ls.contains(&c.lp_peer) {
                // The locator in use is withdrawn: back to the ULID until
                // REAP (RFC 5534) explores a better pair.
                c.lp_peer = c.peer_ulid;
            }
            c.ls_peer = ls;
        }
        if let Some(p) = prefs {
            c.peer_prefs = Some((p.generation, p.element_len, p.elements.to_vec()));
        }
        c.last_used = now;
        if c.installed {
            let info = c.info();
            self.out.event(Event::ContextUpdated(info));
        }
        let ack = Message::UpdateAck {
            context_tag: ct_peer.unwrap_or_default(),
            request_nonce: nonce,
        };
        self.send(rx.dst, rx.src, ack, &[]);
        Ok(())
    }

    // ---- timers ----

    /// The earliest deadline (absolute), if any.
    pub fn poll_timeout(&self) -> Option<Duration> {
        self.timers.next()
    }

    /// Runs every timer due at `now`. Spurious calls are no-ops.
    pub fn handle_timeout(&mut self, now: Duration) {
        let now = self.clock.advance(now);
        let mut due = Vec::new();
        {
            let contexts = &self.contexts;
            self.timers.expire(
                now,
                |&(id, k), g| contexts.get(&id).is_some_and(|c| c.timer_gen(k) == g),
                |key, _| due.push(key),
            );
        }
        for (id, kind) in due {
            match kind {
                TimerKind::Retransmit => self.on_retransmit(id, now),
                TimerKind::Holddown => self.on_holddown(id),
                TimerKind::Idle => self.on_idle(id, now),
                TimerKind::Update => self.on_update_timer(id, now),
            }
        }
        self.purge_timers();
    }

    fn on_retransmit(&mut self, id: Id, now: Duration) {
        let Some(c) = self.contexts.get_mut(&id) else {
            return;
        };
        c.timer = 0;
        c.retx = c.retx.saturating_add(1);
        let state = c.state;
        let max = match state {
            ContextState::I1Sent => I1_RETRIES_MAX,
            ContextState::I2Sent => I2_RETRIES_MAX,
            ContextState::I2bisSent => I2bis_RETRIES_MAX,
            _ => return,
        };
        let exceeded = c.retx > max;
        let tr = step(state, Trigger::Timeout { exceeded });
        match tr.action {
            Action::SendI1 => {
                if state != ContextState::I1Sent {
                    self.retx_reset(id);
                }
                self.set_state(id, tr.next);
                self.send_i1(id);
                self.arm_retransmit(id, now, I1_TIMEOUT);
            }
            Action::SendI2 => {
                self.send_i2(id);
                self.arm_retransmit(id, now, I2_TIMEOUT);
            }
            Action::SendI2bis => {
                self.send_i2bis(id);
                self.arm_retransmit(id, now, I2bis_TIMEOUT);
            }
            _ => {
                if tr.next == ContextState::EFailed {
                    self.enter_failed(id, now, ContextState::EFailed);
                }
            }
        }
    }

    fn on_holddown(&mut self, id: Id) {
        let Some(c) = self.contexts.get(&id) else {
            return;
        };
        let tr = step(c.state, Trigger::HolddownExpired);
        if tr.next == ContextState::Idle {
            self.remove_context(id);
        }
    }

    fn on_idle(&mut self, id: Id, now: Duration) {
        let Some(c) = self.contexts.get_mut(&id) else {
            return;
        };
        c.idle_timer = 0;
        let Some(idle) = self.cfg.idle_timeout else {
            return;
        };
        if c.state != ContextState::Established {
            return;
        }
        let deadline = c.last_used.saturating_add(idle);
        if deadline > now {
            let g = self.timers.arm(deadline, (id, TimerKind::Idle));
            c.idle_timer = g;
            return;
        }
        let tr = step(c.state, Trigger::Teardown);
        if tr.action == Action::DiscardState {
            self.stats.removed_idle = self.stats.removed_idle.saturating_add(1);
            self.remove_context(id);
        }
    }

    /// The next output, in causal order. On [`Output::Transmit`] the
    /// Shim6 header's octets are appended to `buf`.
    pub fn poll_output(&mut self, buf: &mut Vec<u8>) -> Option<Output> {
        self.out.poll(buf)
    }

    // ---- context bookkeeping ----

    fn drop(&mut self, why: Dropped) -> Result<(), Dropped> {
        let s = &mut self.stats;
        s.dropped = s.dropped.saturating_add(1);
        match why {
            Dropped::Malformed(_) | Dropped::NotUnicast | Dropped::MissingValidator => {
                s.dropped_malformed = s.dropped_malformed.saturating_add(1);
            }
            Dropped::BadValidator
            | Dropped::BadLocators(_)
            | Dropped::SourceNotInLocators
            | Dropped::GenerationMismatch
            | Dropped::LocatorCount => {
                s.dropped_verification = s.dropped_verification.saturating_add(1);
            }
            Dropped::NoContext | Dropped::NotOurUlid | Dropped::NotInContextLocators => {
                s.dropped_no_context = s.dropped_no_context.saturating_add(1);
            }
            Dropped::TableFull => s.refused_full = s.refused_full.saturating_add(1),
            _ => {}
        }
        Err(why)
    }

    fn create_context(
        &mut self,
        local_ulid: Ipv6Addr,
        peer_ulid: Ipv6Addr,
        fii: u32,
        lp_local: Ipv6Addr,
        lp_peer: Ipv6Addr,
        now: Duration,
    ) -> Result<Id, Dropped> {
        if self.contexts.len() >= self.cfg.max_contexts {
            return Err(Dropped::TableFull);
        }
        let tag = self
            .ctags
            .allocate(&mut self.rng)
            .map_err(|_| Dropped::TableFull)?;
        let id = self.next_id;
        self.next_id = self.next_id.saturating_add(1);
        self.contexts.insert(
            id,
            Context {
                state: ContextState::Idle,
                local_ulid,
                peer_ulid,
                fii,
                ct_local: Some(tag),
                ct_peer: None,
                init_nonce: None,
                lp_local,
                lp_peer,
                ls_peer: vec![peer_ulid],
                resp_nonce: 0,
                validator: Vec::new(),
                packet_ct: ContextTag::default(),
                retx: 0,
                timer: 0,
                idle_timer: 0,
                last_used: now,
                installed: false,
                peer_pds: Vec::new(),
                peer_generation: 0,
                peer_list_len: 0,
                peer_prefs: None,
                update_nonce: None,
                update_retx: 0,
                update_timer: 0,
                last_resend: None,
                announced: None,
                sent_version: None,
            },
        );
        self.by_ulids.insert((local_ulid, peer_ulid, fii), id);
        self.by_ct_local.insert(tag, id);
        Ok(id)
    }

    /// E-FAILED and NO-SUPPORT entries have no CT(local): allocate one.
    fn ensure_ct_local(&mut self, id: Id) -> Result<(), Dropped> {
        if self.contexts.get(&id).is_some_and(|c| c.ct_local.is_none()) {
            let tag = self
                .ctags
                .allocate(&mut self.rng)
                .map_err(|_| Dropped::TableFull)?;
            if let Some(c) = self.contexts.get_mut(&id) {
                c.ct_local = Some(tag);
            }
            self.by_ct_local.insert(tag, id);
        }
        Ok(())
    }

    fn fresh_nonce(&mut self, id: Id) -> u32 {
        let mut n = self.rng.next_u32();
        for _ in 0..8 {
            if !self.by_nonce.contains_key(&n) {
                break;
            }
            n = self.rng.next_u32();
        }
        if let Some(c) = self.contexts.get_mut(&id) {
            if let Some(old) = c.init_nonce.replace(n) {
                self.by_nonce.remove(&old);
            }
            self.by_nonce.insert(n, id);
        }
        n
    }

    /// The context that sent Initiator Nonce `nonce` over the locator pair
    /// the reply came back on.
    fn find_by_nonce(&self, nonce: u32, rx: &RxDatagram<'_>) -> Option<Id> {
        let id = *self.by_nonce.get(&nonce)?;
        let c = self.contexts.get(&id)?;
        (c.lp_peer == rx.src && c.lp_local == rx.dst).then_some(id)
    }

    fn set_state(&mut self, id: Id, next: ContextState) {
        if let Some(c) = self.contexts.get_mut(&id) {
            c.state = next;
        }
    }

    fn retx_reset(&mut self, id: Id) {
        if let Some(c) = self.contexts.get_mut(&id) {
            c.retx = 0;
        }
    }

    fn touch(&mut self, id: Id, now: Duration) {
        if let Some(c) = self.contexts.get_mut(&id) {
            c.last_used = now;
        }
    }

    fn arm_retransmit(&mut self, id: Id, now: Duration, nominal: Duration) {
        let Some(c) = self.contexts.get_mut(&id) else {
            return;
        };
        let d = if self.cfg.jitter {
            backoff::retransmit_timeout(nominal, c.retx, None, &mut self.rng)
        } else {
            backoff::backed_off(nominal, c.retx, None)
        };
        c.timer = self
            .timers
            .arm(now.saturating_add(d), (id, TimerKind::Retransmit));
    }

    fn set_ct_peer(&mut self, id: Id, tag: Option<ContextTag>) {
        let Some(c) = self.contexts.get_mut(&id) else {
            return;
        };
        if let Some(old) = c.ct_peer {
            self.by_ct_peer.remove(&(old, id));
        }
        c.ct_peer = tag;
        if let Some(t) = tag {
            self.by_ct_peer.insert((t, id));
        }
    }

    /// Records CT(peer) and Ls(peer) from an I2, I2bis or R2. A context
    /// not yet established takes the message's locator pair; an
    /// established one keeps its pair while Lp(peer) stays in Ls(peer).
    fn record_peer(
        &mut self,
        id: Id,
        tag: ContextTag,
        ls: Vec<Ipv6Addr>,
        rx: &RxDatagram<'_>,
        opts: &Options<'_>,
    ) {
        self.set_ct_peer(id, Some(tag));
        let (list, pds, _) = proof_of(opts);
        if let Some(c) = self.contexts.get_mut(&id) {
            if c.state != ContextState::Established || !ls.contains(&c.lp_peer) {
                c.lp_peer = rx.src;
                c.lp_local = rx.dst;
            }
            c.ls_peer = ls;
            if let Some(p) = pds {
                c.peer_pds = p.to_vec();
            }
            if let Some(l) = &list {
                c.peer_generation = l.generation;
                c.peer_list_len = l.locators.len();
            }
            c.peer_prefs = match opts.find(OptionType::LOCATOR_PREFERENCES).map(|o| o.value) {
                Some(OptionValue::LocatorPreferences(p))
                    if Some(p.generation) == list.as_ref().map(|l| l.generation)
                        && p.count() == c.peer_list_len =>
                {
                    Some((p.generation, p.element_len, p.elements.to_vec()))
                }
                _ => None,
            };
        }
    }

    /// §7.15: other contexts in ESTABLISHED or I2BIS-SENT with the same
    /// CT(peer), an overlapping Ls(peer) and another ULID pair or FII are
    /// removed.
    fn resolve_confusion(&mut self, id: Id) {
        let Some(c) = self.contexts.get(&id) else {
            return;
        };
        let Some(ct) = c.ct_peer else {
            return;
        };
        let confused: Vec<Id> = self
            .by_ct_peer
            .range((ct, Id::MIN)..=(ct, Id::MAX))
            .map(|&(_, o)| o)
            .filter(|&o| o != id)
            .filter(|o| {
                self.contexts.get(o).is_some_and(|d| {
                    matches!(d.state, ContextState::Established | ContextState::I2bisSent)
                        && d.ls_peer.iter().any(|l| c.ls_peer.contains(l))
                        && (d.local_ulid, d.peer_ulid, d.fii) != (c.local_ulid, c.peer_ulid, c.fii)
                })
            })
            .collect();
        for o in confused {
            self.stats.confusions = self.stats.confusions.saturating_add(1);
            self.remove_context(o);
        }
    }

    fn enter_established(&mut self, id: Id, now: Duration) {
        let idle = self.cfg.idle_timeout;
        let Some(c) = self.contexts.get_mut(&id) else {
            return;
        };
        let was_installed = c.installed;
        c.state = ContextState::Established;
        c.timer = 0;
        c.retx = 0;
        c.last_used = now;
        c.installed = true;
        if let Some(idle) = idle {
            c.idle_timer = self
                .timers
                .arm(now.saturating_add(idle), (id, TimerKind::Idle));
        }
        let info = c.info();
        let changed = c.announced != Some(info);
        c.announced = Some(info);
        if !was_installed {
            self.stats.established = self.stats.established.saturating_add(1);
            self.out.event(Event::ContextEstablished(info));
        } else if changed {
            // A retransmitted I2 that changes nothing announces nothing.
            self.out.event(Event::ContextUpdated(info));
        }
    }

    fn enter_failed(&mut self, id: Id, now: Duration, state: ContextState) {
        let hold = if state == ContextState::NoSupport {
            self.stats.failed_no_support = self.stats.failed_no_support.saturating_add(1);
            ICMP_HOLDDOWN_TIME
        } else {
            self.stats.failed_no_r1 = self.stats.failed_no_r1.saturating_add(1);
            NO_R1_HOLDDOWN_TIME
        };
        self.uninstall(id);
        self.set_ct_peer(id, None);
        let until = now.saturating_add(hold);
        let Some(c) = self.contexts.get_mut(&id) else {
            return;
        };
        c.state = state;
        c.idle_timer = 0;
        c.validator = Vec::new();
        if let Some(t) = c.ct_local.take() {
            self.by_ct_local.remove(&t);
            self.ctags.release(t);
        }
        if let Some(n) = c.init_nonce.take() {
            self.by_nonce.remove(&n);
        }
        c.timer = self.timers.arm(until, (id, TimerKind::Holddown));
        let ev = Event::EstablishmentFailed {
            local_ulid: c.local_ulid,
            peer_ulid: c.peer_ulid,
            fii: c.fii,
            state,
            until,
        };
        self.out.event(ev);
    }

    /// Emits ContextRemoved when the forwarding plane had the context.
    fn uninstall(&mut self, id: Id) {
        let Some(c) = self.contexts.get_mut(&id) else {
            return;
        };
        if c.installed {
            c.installed = false;
            if let Some(ct_local) = c.ct_local {
                self.stats.removed = self.stats.removed.saturating_add(1);
                self.out.event(Event::ContextRemoved {
                    local_ulid: c.local_ulid,
                    peer_ulid: c.peer_ulid,
                    fii: c.fii,
                    ct_local,
                });
            }
        }
    }

    fn remove_context(&mut self, id: Id) {
        self.uninstall(id);
        self.set_ct_peer(id, None);
        let Some(c) = self.contexts.remove(&id) else {
            return;
        };
        self.by_ulids.remove(&(c.local_ulid, c.peer_ulid, c.fii));
        if let Some(t) = c.ct_local {
            self.by_ct_local.remove(&t);
            self.ctags.release(t);
        }
        if let Some(n) = c.init_nonce {
            self.by_nonce.remove(&n);
        }
    }

    fn purge_timers(&mut self) {
        let contexts = &self.contexts;
        let live = |&(id, k): &(Id, TimerKind), g: u64| {
            contexts.get(&id).is_some_and(|c| c.timer_gen(k) == g)
        };
        self.timers.purge(live);
        // Up to three armed timers per context.
        self.timers.compact(live, contexts.len().saturating_mul(3));
    }

    // ---- sending ----

    /// A Shim6 Error message (§5.14) back to the sender of `rx`, carrying
    /// as much of its Shim6 header as fits in the IPv6 minimum MTU; at most
    /// one per `error_interval`. The Pointer counts from the start of the
    /// Shim6 header, which is what the Packet in Error holds.
    fn send_error(&mut self, now: Duration, rx: &RxDatagram<'_>, code: ErrorCode, pointer: u16) {
        let Some(gap) = self.cfg.error_interval else {
            return;
        };
        if self
            .last_error
            .is_some_and(|last| now < last.saturating_add(gap))
        {
            self.stats.errors_suppressed = self.stats.errors_suppressed.saturating_add(1);
            return;
        }
        self.last_error = Some(now);
        // 1280 - 40 (IPv6) - 8 (Error header).
        let n = rx.payload.len().min(1232);
        let m = Message::Error {
            code,
            pointer,
            packet_in_error: rx.payload.get(..n).unwrap_or(&[]),
        };
        self.send(rx.dst, rx.src, m, &[]);
    }

    fn send(&mut self, src: Ipv6Addr, dst: Ipv6Addr, msg: Message<'_>, opts: &[OptionRepr<'_>]) {
        let t = msg.msg_type();
        if self.out.len() >= self.cfg.max_pending_outputs {
            self.stats.outputs_dropped = self.stats.outputs_dropped.saturating_add(1);
            return;
        }
        match encode(msg, opts) {
            Ok(bytes) => {
                self.stats.sent.bump(t);
                self.out.msg(src, dst, bytes);
            }
            Err(_) => self.stats.emit_errors = self.stats.emit_errors.saturating_add(1),
        }
    }

    /// Builds a message of context `id` (with the ULID Pair and FII options
    /// when needed, and the local locators when `with_locators`).
    fn context_message(
        &self,
        id: Id,
        with_locators: bool,
        msg: impl FnOnce(&Context) -> Message<'static>,
    ) -> Built {
        let c = self.contexts.get(&id)?;
        let m = msg(c);
        let t = m.msg_type();
        let mut opts: Vec<OptionRepr<'_>> = Vec::new();
        if t == MessageType::I2 || t == MessageType::I2BIS {
            opts.push(OptionRepr::new(OptionValue::ResponderValidator(
                &c.validator,
            )));
        }
        let setup = matches!(t, MessageType::I1 | MessageType::I2 | MessageType::I2BIS);
        if c.ulid_option() && setup {
            opts.push(OptionRepr::new(OptionValue::UlidPair {
                sender: c.local_ulid,
                receiver: c.peer_ulid,
            }));
        }
        if c.fii != 0 && setup {
            opts.push(OptionRepr::new(OptionValue::ForkedInstanceId(c.fii)));
        }
        if with_locators && let Some(ident) = self.identity(c.local_ulid) {
            locator_options(ident, &mut opts);
        }
        Some((c.lp_local, c.lp_peer, t, encode(m, &opts)))
    }

    fn queue(&mut self, built: Built) {
        match built {
            Some(_) if self.out.len() >= self.cfg.max_pending_outputs => {
                self.stats.outputs_dropped = self.stats.outputs_dropped.saturating_add(1);
            }
            Some((src, dst, t, Ok(bytes))) => {
                self.stats.sent.bump(t);
                self.out.msg(src, dst, bytes);
            }
            Some((_, _, _, Err(_))) => {
                self.stats.emit_errors = self.stats.emit_errors.saturating_add(1);
            }
            None => {}
        }
    }

    fn send_i1(&mut self, id: Id) {
        let built = self.context_message(id, false, |c| Message::I1 {
            context_tag: c.ct_local.unwrap_or_default(),
            initiator_nonce: c.init_nonce.unwrap_or_default(),
        });
        self.queue(built);
    }

    fn send_i2(&mut self, id: Id) {
        let built = self.context_message(id, true, |c| Message::I2 {
            context_tag: c.ct_local.unwrap_or_default(),
            initiator_nonce: c.init_nonce.unwrap_or_default(),
            responder_nonce: c.resp_nonce,
        });
        self.queue(built);
        self.note_sent_locators(id);
    }

    fn send_i2bis(&mut self, id: Id) {
        let built = self.context_message(id, true, |c| Message::I2bis {
            context_tag: c.ct_local.unwrap_or_default(),
            initiator_nonce: c.init_nonce.unwrap_or_default(),
            responder_nonce: c.resp_nonce,
            packet_context_tag: c.packet_ct,
        });
        self.queue(built);
        self.note_sent_locators(id);
    }

    /// R2 (§7.14) answering Initiator Nonce `nonce`, from `src` to `dst`.
    fn send_r2(&mut self, id: Id, nonce: u32, src: Ipv6Addr, dst: Ipv6Addr) {
        let built = self
            .context_message(id, true, |c| Message::R2 {
                context_tag: c.ct_local.unwrap_or_default(),
                initiator_nonce: nonce,
            })
            .map(|(_, _, t, b)| (src, dst, t, b));
        self.queue(built);
        self.note_sent_locators(id);
    }
}
