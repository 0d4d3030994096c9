//! The Mapping Agent protocol v1 wire format (`../shared/spec/lin6.md` §3)
//! and the draft-compatible codec ([`draft`], §4).
//!
//! smoltcp style: [`Packet`] is a zero-copy view whose [`Packet::new_checked`]
//! validates the header and the Length field once; [`Repr`] is the owned,
//! `Copy`, allocation-free representation with [`Repr::parse`],
//! [`Repr::buffer_len`] and [`Repr::emit`]. The HMAC-SHA-256-128 trailer is
//! computed by [`sign`] and checked by [`verify`].
//!
//! ```text
//!  0       1       2       3       4               6               8
//! +-------+-------+-------+-------+---------------+---------------+
//! |Version| Type  | Code  | Flags |    Length     |    Key ID     |
//! +-------+-------+-------+-------+---------------+---------------+
//! |          Sequence             |            Nonce (8)          ...
//! +-------------------------------+-------------------------------+
//! ```
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::arithmetic_side_effects
)]

pub mod draft;

use crate::addr::{Lin6Id, Prefix};
use core::fmt;
use hmac::{KeyInit, Mac};

/// Default UDP port of the MA protocol v1.
pub const DEFAULT_PORT: u16 = 7360;
/// Protocol version carried in every message.
pub const VERSION: u8 = 1;
/// Length of the common header.
pub const HEADER_LEN: usize = 20;
/// Length of one locator record.
pub const LOCATOR_LEN: usize = 12;
/// Most locator records in one message.
pub const MAX_LOCATORS: usize = 16;
/// Length of the auth trailer.
pub const TRAILER_LEN: usize = 20;
/// Length of the truncated MAC.
pub const MAC_LEN: usize = 16;
/// The largest message: REGISTER with 16 records and a trailer.
pub const MAX_MESSAGE_LEN: usize = 252;
/// Auth trailer algorithm 1: HMAC-SHA-256 truncated to 128 bits.
pub const ALG_HMAC_SHA256_128: u8 = 1;

/// REGISTER flag A (bit0): want an ack.
pub const FLAG_ACK: u8 = 0x01;
/// REGISTER flag M (bit1): merge the listed locators into the set.
pub const FLAG_MERGE: u8 = 0x02;
/// QUERY flag C (bit0): an 8-byte cookie follows the target.
pub const FLAG_COOKIE: u8 = 0x01;
/// Locator record flag R (bit0): the interface is up.
pub const LOC_FLAG_UP: u8 = 0x01;
/// Locator priority meaning "do not use".
pub const PRIORITY_UNUSABLE: u8 = 255;

/// Why bytes are not a valid message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The buffer ends before the header or before `Length`.
    #[error("truncated")]
    Truncated,
    /// `Length` disagrees with the type's layout.
    #[error("bad length")]
    BadLength,
    /// Version is not 1.
    #[error("bad version {0}")]
    BadVersion(u8),
    /// Type is not one of 0x01..=0x06.
    #[error("unknown type {0:#04x}")]
    UnknownType(u8),
    /// N is above 16.
    #[error("too many locators ({0})")]
    TooManyLocators(u8),
    /// The auth trailer's MAC length is not 16.
    #[error("bad auth trailer")]
    BadTrailer,
}

macro_rules! open_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$cm:meta])* $c:ident = $v:expr),* $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
        pub struct $name(pub u8);
        impl $name {
            $($(#[$cm])* pub const $c: Self = Self($v);)*
            /// The name the spec uses, or `None` for an unknown value.
            pub fn name(self) -> Option<&'static str> {
                match self.0 { $($v => Some(stringify!($c)),)* _ => None }
            }
        }
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self.name() { Some(n) => f.write_str(n), None => write!(f, "{:#04x}", self.0) }
            }
        }
        impl From<u8> for $name { fn from(v: u8) -> Self { Self(v) } }
        impl From<$name> for u8 { fn from(v: $name) -> u8 { v.0 } }
    };
}

open_enum! {
    /// Message type.
    MsgType {
        /// Node to MA: register the node's locators.
        REGISTER = 0x01,
        /// MA to node: the result of a REGISTER.
        REGISTER_ACK = 0x02,
        /// Node to MA: ask for a node's locators.
        QUERY = 0x03,
        /// MA to node: a mapping or a negative reply.
        REPLY = 0x04,
        /// Node to node: "my locators changed, re-query my MA".
        REFRESH = 0x05,
        /// Error answer to any request.
        NACK = 0x06,
    }
}

open_enum! {
    /// Result / error code.
    Code {
        /// Success.
        OK = 0,
        /// Bad or unknown key.
        AUTH_FAILED = 1,
        /// No mapping for the ID.
        NO_MAPPING = 2,
        /// This MA does not serve the ID; re-resolve the MA.
        NOT_SERVED = 3,
        /// Sequence not newer or timestamp out of the window.
        REPLAY = 4,
        /// Malformed message.
        MALFORMED = 5,
        /// Version not supported.
        BAD_VERSION = 6,
        /// More than 16 locators.
        TOO_MANY_LOCATORS = 7,
        /// Rate limited.
        RATE_LIMITED = 8,
        /// Unknown message type.
        UNKNOWN_TYPE = 9,
        /// The MA's Node ID database does not list this ID.
        UNKNOWN_NODE = 10,
    }
}

mod field {
    use core::ops::Range;
    pub const VERSION: usize = 0;
    pub const TYPE: usize = 1;
    pub const CODE: usize = 2;
    pub const FLAGS: usize = 3;
    pub const LENGTH: Range<usize> = 4..6;
    pub const KEY_ID: Range<usize> = 6..8;
    pub const SEQUENCE: Range<usize> = 8..12;
    pub const NONCE: Range<usize> = 12..20;
    // Bodies (offsets from the start of the message).
    pub const ID: Range<usize> = 20..28;
    pub const W28: Range<usize> = 28..32;
    pub const W32: Range<usize> = 32..36;
    pub const COUNT: usize = 36;
    pub const RESERVED3: Range<usize> = 37..40;
    pub const RECORDS: usize = 40;
    pub const COOKIE: Range<usize> = 28..36;
    pub const NACK_TYPE: usize = 20;
    pub const NACK_RESERVED: Range<usize> = 21..24;
}

fn rd<const N: usize>(b: &[u8], r: core::ops::Range<usize>) -> [u8; N] {
    let mut out = [0u8; N];
    if let Some(s) = b.get(r)
        && s.len() == N
    {
        out.copy_from_slice(s);
    }
    out
}

fn wr(b: &mut [u8], r: core::ops::Range<usize>, v: &[u8]) {
    if let Some(s) = b.get_mut(r)
        && s.len() == v.len()
    {
        s.copy_from_slice(v);
    }
}

fn wr1(b: &mut [u8], i: usize, v: u8) {
    if let Some(s) = b.get_mut(i) {
        *s = v;
    }
}

/// A zero-copy view of one MA protocol message.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buf: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking it (for emitting).
    pub fn new_unchecked(buf: T) -> Self {
        Packet { buf }
    }

    /// Wraps and checks: the header is present, Length is at least 20 and
    /// the buffer holds Length bytes. After `Ok`, no accessor panics (none
    /// ever does: they read through `get`).
    pub fn new_checked(buf: T) -> Result<Self, Error> {
        let p = Packet { buf };
        p.check_len()?;
        Ok(p)
    }

    /// See [`Packet::new_checked`].
    pub fn check_len(&self) -> Result<(), Error> {
        let b = self.buf.as_ref();
        if b.len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        let len = usize::from(self.length());
        if len < HEADER_LEN {
            return Err(Error::BadLength);
        }
        if b.len() < len {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buf
    }

    fn b(&self) -> &[u8] {
        self.buf.as_ref()
    }

    /// Version field.
    pub fn version(&self) -> u8 {
        self.b().get(field::VERSION).copied().unwrap_or(0)
    }
    /// Type field.
    pub fn msg_type(&self) -> MsgType {
        MsgType(self.b().get(field::TYPE).copied().unwrap_or(0))
    }
    /// Code field.
    pub fn code(&self) -> Code {
        Code(self.b().get(field::CODE).copied().unwrap_or(0))
    }
    /// Flags field.
    pub fn flags(&self) -> u8 {
        self.b().get(field::FLAGS).copied().unwrap_or(0)
    }
    /// Length field (whole message including the trailer).
    pub fn length(&self) -> u16 {
        u16::from_be_bytes(rd(self.b(), field::LENGTH))
    }
    /// Key ID field (0: no auth trailer).
    pub fn key_id(&self) -> u16 {
        u16::from_be_bytes(rd(self.b(), field::KEY_ID))
    }
    /// Sequence field.
    pub fn sequence(&self) -> u32 {
        u32::from_be_bytes(rd(self.b(), field::SEQUENCE))
    }
    /// Nonce field.
    pub fn nonce(&self) -> u64 {
        u64::from_be_bytes(rd(self.b(), field::NONCE))
    }
    /// The message's bytes (the first Length bytes of the buffer).
    pub fn message(&self) -> &[u8] {
        let b = self.b();
        b.get(..usize::from(self.length())).unwrap_or(b)
    }
    /// Whether an auth trailer is present (Key ID ≠ 0).
    pub fn has_trailer(&self) -> bool {
        self.key_id() != 0
    }
    /// Length of the message without the trailer.
    fn unsigned_len(&self) -> usize {
        let len = usize::from(self.length());
        if self.has_trailer() {
            len.saturating_sub(TRAILER_LEN)
        } else {
            len
        }
    }
    fn msg(&self) -> &[u8] {
        self.message()
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    fn bm(&mut self) -> &mut [u8] {
        self.buf.as_mut()
    }
    /// Sets Version.
    pub fn set_version(&mut self, v: u8) {
        wr1(self.bm(), field::VERSION, v)
    }
    /// Sets Type.
    pub fn set_msg_type(&mut self, v: MsgType) {
        wr1(self.bm(), field::TYPE, v.0)
    }
    /// Sets Code.
    pub fn set_code(&mut self, v: Code) {
        wr1(self.bm(), field::CODE, v.0)
    }
    /// Sets Flags.
    pub fn set_flags(&mut self, v: u8) {
        wr1(self.bm(), field::FLAGS, v)
    }
    /// Sets Length.
    pub fn set_length(&mut self, v: u16) {
        wr(self.bm(), field::LENGTH, &v.to_be_bytes())
    }
    /// Sets Key ID.
    pub fn set_key_id(&mut self, v: u16) {
        wr(self.bm(), field::KEY_ID, &v.to_be_bytes())
    }
    /// Sets Sequence.
    pub fn set_sequence(&mut self, v: u32) {
        wr(self.bm(), field::SEQUENCE, &v.to_be_bytes())
    }
    /// Sets Nonce.
    pub fn set_nonce(&mut self, v: u64) {
        wr(self.bm(), field::NONCE, &v.to_be_bytes())
    }
}

/// One locator record (12 bytes).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct LocatorRecord {
    /// Network prefix (the locator).
    pub prefix: Prefix,
    /// Priority, lower preferred; 255 = do not use.
    pub priority: u8,
    /// Weight: share among equal priority.
    pub weight: u8,
    /// Flags (bit0 R: interface up).
    pub flags: u8,
}

impl LocatorRecord {
    /// Whether flag R (interface up) is set.
    pub fn is_up(&self) -> bool {
        self.flags & LOC_FLAG_UP != 0
    }
    /// Whether the locator may be used: up and priority below 255.
    pub fn is_usable(&self) -> bool {
        self.is_up() && self.priority != PRIORITY_UNUSABLE
    }
    fn parse(b: &[u8; LOCATOR_LEN]) -> Self {
        let [
            p0,
            p1,
            p2,
            p3,
            p4,
            p5,
            p6,
            p7,
            priority,
            weight,
            flags,
            _reserved,
        ] = *b;
        LocatorRecord {
            prefix: Prefix([p0, p1, p2, p3, p4, p5, p6, p7]),
            priority,
            weight,
            flags,
        }
    }
    fn emit(&self) -> [u8; LOCATOR_LEN] {
        let [p0, p1, p2, p3, p4, p5, p6, p7] = self.prefix.0;
        [
            p0,
            p1,
            p2,
            p3,
            p4,
            p5,
            p6,
            p7,
            self.priority,
            self.weight,
            self.flags,
            0,
        ]
    }
}

/// Up to 16 locator records, inline (no allocation).
#[derive(Clone, Copy)]
pub struct Locators {
    len: u8,
    items: [LocatorRecord; MAX_LOCATORS],
}

impl Default for Locators {
    fn default() -> Self {
        Locators {
            len: 0,
            items: [LocatorRecord::default(); MAX_LOCATORS],
        }
    }
}

impl PartialEq for Locators {
    fn eq(&self, o: &Self) -> bool {
        self.as_slice() == o.as_slice()
    }
}
impl Eq for Locators {}

impl fmt::Debug for Locators {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

impl Locators {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }
    /// Copies up to 16 records; `Err` if `s` has more.
    pub fn from_slice(s: &[LocatorRecord]) -> Result<Self, Error> {
        let mut l = Self::new();
        for r in s {
            l.push(*r)?;
        }
        Ok(l)
    }
    /// Appends a record; `Err(TooManyLocators)` when 16 are present.
    pub fn push(&mut self, r: LocatorRecord) -> Result<(), Error> {
        let slot = self
            .items
            .get_mut(usize::from(self.len))
            .ok_or(Error::TooManyLocators(self.len))?;
        *slot = r;
        self.len = self.len.saturating_add(1);
        Ok(())
    }
    /// The records.
    pub fn as_slice(&self) -> &[LocatorRecord] {
        self.items.get(..usize::from(self.len)).unwrap_or(&[])
    }
    /// Number of records.
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }
    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for Locators {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        let n = u.int_in_range(0..=MAX_LOCATORS)?;
        let mut l = Locators::new();
        for _ in 0..n {
            let _ = l.push(u.arbitrary()?);
        }
        Ok(l)
    }
}

/// The auth trailer's content.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Auth {
    /// Algorithm (1 = HMAC-SHA-256-128).
    pub algorithm: u8,
    /// The MAC.
    pub mac: [u8; MAC_LEN],
}

impl Default for Auth {
    fn default() -> Self {
        Auth {
            algorithm: ALG_HMAC_SHA256_128,
            mac: [0; MAC_LEN],
        }
    }
}

/// The type-specific part of a message.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Body {
    /// 0x01 REGISTER.
    Register {
        /// The registering node.
        lin6_id: Lin6Id,
        /// Seconds since the Unix epoch.
        timestamp: u32,
        /// Requested lifetime in seconds (0 = deregister).
        lifetime: u32,
        /// The node's locators.
        locators: Locators,
    },
    /// 0x02 REGISTER_ACK.
    RegisterAck {
        /// The registered node.
        lin6_id: Lin6Id,
        /// Granted lifetime in seconds.
        granted_lifetime: u32,
        /// The MA's timestamp.
        ma_timestamp: u32,
    },
    /// 0x03 QUERY.
    Query {
        /// The node whose mapping is wanted.
        target: Lin6Id,
        /// Cookie (flag C).
        cookie: Option<u64>,
    },
    /// 0x04 REPLY.
    Reply {
        /// The node the mapping is for.
        lin6_id: Lin6Id,
        /// When the mapping was registered (Unix seconds).
        mapping_timestamp: u32,
        /// Seconds the querier may cache this answer.
        ttl: u32,
        /// The node's locators (none in a negative reply).
        locators: Locators,
    },
    /// 0x05 REFRESH.
    Refresh {
        /// The sender.
        lin6_id: Lin6Id,
        /// Unix seconds.
        timestamp: u32,
    },
    /// 0x06 NACK.
    Nack {
        /// Type of the message being refused.
        offending_type: MsgType,
    },
}

impl Body {
    /// The message type of this body.
    pub fn msg_type(&self) -> MsgType {
        match self {
            Body::Register { .. } => MsgType::REGISTER,
            Body::RegisterAck { .. } => MsgType::REGISTER_ACK,
            Body::Query { .. } => MsgType::QUERY,
            Body::Reply { .. } => MsgType::REPLY,
            Body::Refresh { .. } => MsgType::REFRESH,
            Body::Nack { .. } => MsgType::NACK,
        }
    }

    /// Length of header + body (no trailer).
    pub fn unsigned_len(&self) -> usize {
        let body = match self {
            Body::Register { locators, .. } | Body::Reply { locators, .. } => {
                20usize.saturating_add(locators.len().saturating_mul(LOCATOR_LEN))
            }
            Body::RegisterAck { .. } => 16,
            Body::Query { cookie: None, .. } => 8,
            Body::Query {
                cookie: Some(_), ..
            } => 16,
            Body::Refresh { .. } => 12,
            Body::Nack { .. } => 4,
        };
        HEADER_LEN.saturating_add(body)
    }
}

/// An owned MA protocol v1 message.
///
/// Invariants kept by [`Repr::parse`] and assumed by [`Repr::emit`]: `auth`
/// is `Some` iff `key_id != 0`; for QUERY, `flags` holds the flags other than
/// C (C is derived from `cookie`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Repr {
    /// Code (0 in requests).
    pub code: Code,
    /// Flags.
    pub flags: u8,
    /// Key ID (0: no trailer).
    pub key_id: u16,
    /// Sequence.
    pub sequence: u32,
    /// Nonce.
    pub nonce: u64,
    /// Type-specific part.
    pub body: Body,
    /// The trailer, present iff `key_id != 0`.
    pub auth: Option<Auth>,
}

fn read_locators(m: &[u8], n: u8) -> Result<Locators, Error> {
    if usize::from(n) > MAX_LOCATORS {
        return Err(Error::TooManyLocators(n));
    }
    let mut l = Locators::new();
    let recs = m.get(field::RECORDS..).ok_or(Error::Truncated)?;
    for chunk in recs.chunks_exact(LOCATOR_LEN).take(usize::from(n)) {
        let arr: &[u8; LOCATOR_LEN] = chunk.try_into().map_err(|_| Error::Truncated)?;
        l.push(LocatorRecord::parse(arr))?;
    }
    Ok(l)
}

impl Repr {
    /// The message type.
    pub fn msg_type(&self) -> MsgType {
        self.body.msg_type()
    }

    /// Parses a checked view. Checks Version, Type, the exact length for the
    /// type (including N and the trailer) and the trailer's MAC length.
    /// Does not check the MAC (see [`verify`]).
    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>) -> Result<Repr, Error> {
        p.check_len()?;
        if p.version() != VERSION {
            return Err(Error::BadVersion(p.version()));
        }
        let m = p.msg();
        let t = p.msg_type();
        let flags = p.flags();
        let ulen = p.unsigned_len();
        if p.has_trailer() && usize::from(p.length()) < HEADER_LEN.saturating_add(TRAILER_LEN) {
            return Err(Error::BadLength);
        }
        let need = |n: usize| -> Result<(), Error> {
            if ulen == n {
                Ok(())
            } else {
                Err(Error::BadLength)
            }
        };
        let id = || Lin6Id(rd(m, field::ID));
        let w28 = || u32::from_be_bytes(rd(m, field::W28));
        let w32 = || u32::from_be_bytes(rd(m, field::W32));
        let mut out_flags = flags;
        let body = match t {
            MsgType::REGISTER | MsgType::REPLY => {
                if ulen < field::RECORDS {
                    return Err(Error::BadLength);
                }
                let n = m.get(field::COUNT).copied().unwrap_or(0);
                if usize::from(n) > MAX_LOCATORS {
                    return Err(Error::TooManyLocators(n));
                }
                need(field::RECORDS.saturating_add(usize::from(n).saturating_mul(LOCATOR_LEN)))?;
                let locators = read_locators(m, n)?;
                if t == MsgType::REGISTER {
                    Body::Register {
                        lin6_id: id(),
                        timestamp: w28(),
                        lifetime: w32(),
                        locators,
                    }
                } else {
                    Body::Reply {
                        lin6_id: id(),
                        mapping_timestamp: w28(),
                        ttl: w32(),
                        locators,
                    }
                }
            }
            MsgType::REGISTER_ACK => {
                need(36)?;
                Body::RegisterAck {
                    lin6_id: id(),
                    granted_lifetime: w28(),
                    ma_timestamp: w32(),
                }
            }
            MsgType::QUERY => {
                out_flags = flags & !FLAG_COOKIE;
                if flags & FLAG_COOKIE != 0 {
                    need(36)?;
                    Body::Query {
                        target: id(),
                        cookie: Some(u64::from_be_bytes(rd(m, field::COOKIE))),
                    }
                } else {
                    need(28)?;
                    Body::Query {
                        target: id(),
                        cookie: None,
                    }
                }
            }
            MsgType::REFRESH => {
                need(32)?;
                Body::Refresh {
                    lin6_id: id(),
                    timestamp: w28(),
                }
            }
            MsgType::NACK => {
                need(24)?;
                Body::Nack {
                    offending_type: MsgType(m.get(field::NACK_TYPE).copied().unwrap_or(0)),
                }
            }
            MsgType(other) => return Err(Error::UnknownType(other)),
        };
        let auth = if p.has_trailer() {
            let tr = m.get(ulen..).ok_or(Error::Truncated)?;
            let [alg, _reserved, l0, l1, mac @ ..] = tr else {
                return Err(Error::BadLength);
            };
            if u16::from_be_bytes([*l0, *l1]) != MAC_LEN as u16 {
                return Err(Error::BadTrailer);
            }
            let mac: [u8; MAC_LEN] = mac.try_into().map_err(|_| Error::BadLength)?;
            Some(Auth {
                algorithm: *alg,
                mac,
            })
        } else {
            None
        };
        Ok(Repr {
            code: p.code(),
            flags: out_flags,
            key_id: p.key_id(),
            sequence: p.sequence(),
            nonce: p.nonce(),
            body,
            auth,
        })
    }

    /// Parses bytes (a UDP payload).
    pub fn parse_bytes(b: &[u8]) -> Result<Repr, Error> {
        Repr::parse(&Packet::new_checked(b)?)
    }

    /// Bytes [`Repr::emit`] writes.
    pub fn buffer_len(&self) -> usize {
        let l = self.body.unsigned_len();
        if self.key_id != 0 {
            l.saturating_add(TRAILER_LEN)
        } else {
            l
        }
    }

    /// Writes the message into `p`, which must be at least
    /// [`Repr::buffer_len`] bytes (shorter buffers get a partial message,
    /// never a panic). The trailer carries `auth` (or a zero MAC); call
    /// [`sign`] afterwards to compute the MAC.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, p: &mut Packet<T>) {
        let len = self.buffer_len();
        let ulen = self.body.unsigned_len();
        p.set_version(VERSION);
        p.set_msg_type(self.msg_type());
        p.set_code(self.code);
        let flags = match self.body {
            Body::Query { cookie, .. } => {
                let f = self.flags & !FLAG_COOKIE;
                if cookie.is_some() { f | FLAG_COOKIE } else { f }
            }
            _ => self.flags,
        };
        p.set_flags(flags);
        p.set_length(u16::try_from(len).unwrap_or(u16::MAX));
        p.set_key_id(self.key_id);
        p.set_sequence(self.sequence);
        p.set_nonce(self.nonce);
        let b = p.bm();
        let mut locs: &[LocatorRecord] = &[];
        match &self.body {
            Body::Register {
                lin6_id,
                timestamp: a,
                lifetime: c,
                locators,
            }
            | Body::Reply {
                lin6_id,
                mapping_timestamp: a,
                ttl: c,
                locators,
            } => {
                wr(b, field::ID, &lin6_id.0);
                wr(b, field::W28, &a.to_be_bytes());
                wr(b, field::W32, &c.to_be_bytes());
                wr1(b, field::COUNT, u8::try_from(locators.len()).unwrap_or(0));
                wr(b, field::RESERVED3, &[0; 3]);
                locs = locators.as_slice();
            }
            Body::RegisterAck {
                lin6_id,
                granted_lifetime,
                ma_timestamp,
            } => {
                wr(b, field::ID, &lin6_id.0);
                wr(b, field::W28, &granted_lifetime.to_be_bytes());
                wr(b, field::W32, &ma_timestamp.to_be_bytes());
            }
            Body::Query { target, cookie } => {
                wr(b, field::ID, &target.0);
                if let Some(c) = cookie {
                    wr(b, field::COOKIE, &c.to_be_bytes());
                }
            }
            Body::Refresh { lin6_id, timestamp } => {
                wr(b, field::ID, &lin6_id.0);
                wr(b, field::W28, &timestamp.to_be_bytes());
            }
            Body::Nack { offending_type } => {
                wr1(b, field::NACK_TYPE, offending_type.0);
                wr(b, field::NACK_RESERVED, &[0; 3]);
            }
        }
        if let Some(recs) = b.get_mut(field::RECORDS..) {
            for (chunk, r) in recs.chunks_exact_mut(LOCATOR_LEN).zip(locs) {
                chunk.copy_from_slice(&r.emit());
            }
        }
        if self.key_id != 0 {
            let a = self.auth.unwrap_or_default();
            if let Some(tr) = b.get_mut(ulen..len)
                && let [alg, res, l0, l1, mac @ ..] = tr
            {
                *alg = a.algorithm;
                *res = 0;
                [*l0, *l1] = (MAC_LEN as u16).to_be_bytes();
                if mac.len() == MAC_LEN {
                    mac.copy_from_slice(&a.mac);
                }
            }
        }
    }

    /// Emits into a fresh vector; signs it with `key` when `key_id != 0` and
    /// a key is given.
    pub fn to_bytes(&self, key: Option<&[u8]>) -> alloc::vec::Vec<u8> {
        let mut v = alloc::vec![0u8; self.buffer_len()];
        self.emit(&mut Packet::new_unchecked(&mut v[..]));
        if let (Some(k), true) = (key, self.key_id != 0) {
            sign(&mut v, k);
        }
        v
    }
}

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// HMAC-SHA-256 of `parts` (concatenated) under `key`.
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut out = [0u8; 32];
    if let Ok(mut m) = <HmacSha256 as KeyInit>::new_from_slice(key) {
        for p in parts {
            m.update(p);
        }
        out.copy_from_slice(&m.finalize().into_bytes());
    }
    out
}

/// The trailer MAC of `msg` (a whole message, trailer last): the first 16
/// bytes of HMAC-SHA-256(key, msg with its last 16 bytes zeroed).
pub fn compute_mac(key: &[u8], msg: &[u8]) -> [u8; MAC_LEN] {
    let head = msg.get(..msg.len().saturating_sub(MAC_LEN)).unwrap_or(&[]);
    let full = hmac_sha256(key, &[head, &[0u8; MAC_LEN]]);
    let mut out = [0u8; MAC_LEN];
    if let Some(h) = full.first_chunk::<MAC_LEN>() {
        out = *h;
    }
    out
}

/// Writes the trailer MAC of the message in `buf` (Length bytes, trailer
/// last). No-op if `buf` has no trailer.
pub fn sign(buf: &mut [u8], key: &[u8]) {
    let Ok(p) = Packet::new_checked(&*buf) else {
        return;
    };
    if !p.has_trailer() {
        return;
    }
    let len = usize::from(p.length());
    let msg = buf.get(..len).unwrap_or(&[]);
    let mac = compute_mac(key, msg);
    if let Some(m) = buf.get_mut(len.saturating_sub(MAC_LEN)..len) {
        m.copy_from_slice(&mac);
    }
}

/// Checks the trailer of the message in `buf` under `key`, in constant time:
/// false if there is no trailer, the algorithm is not 1, or the MAC differs.
///
/// Built with `--cfg fuzzing` (the cargo-fuzz rustc flag, never the
/// `fuzzing` cargo feature) this accepts any MAC so fuzzers reach the state
/// machines behind it.
pub fn verify(buf: &[u8], key: &[u8]) -> bool {
    let Ok(p) = Packet::new_checked(buf) else {
        return false;
    };
    let Ok(r) = Repr::parse(&p) else {
        return false;
    };
    let Some(auth) = r.auth else {
        return false;
    };
    if auth.algorithm != ALG_HMAC_SHA256_128 {
        return false;
    }
    if cfg!(fuzzing) {
        return true;
    }
    let msg = p.message();
    let head = msg.get(..msg.len().saturating_sub(MAC_LEN)).unwrap_or(&[]);
    match <HmacSha256 as KeyInit>::new_from_slice(key) {
        Ok(mut m) => {
            m.update(head);
            m.update(&[0u8; MAC_LEN]);
            m.verify_truncated_left(&auth.mac).is_ok()
        }
        Err(_) => false,
    }
}

/// RFC 1982 serial-number comparison for 32-bit sequence numbers: whether
/// `a` is newer than `b`.
pub fn seq_newer(a: u32, b: u32) -> bool {
    let d = a.wrapping_sub(b);
    d != 0 && d < 0x8000_0000
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn hex(s: &str) -> Vec<u8> {
        let s: Vec<u8> = s.bytes().filter(|c| c.is_ascii_hexdigit()).collect();
        s.chunks(2)
            .map(|c| u8::from_str_radix(core::str::from_utf8(c).unwrap(), 16).unwrap())
            .collect()
    }

    // RFC 4231 test cases 1, 2 and 6 (HMAC-SHA-256), checking our HMAC helper.
    #[test]
    fn rfc4231_vectors() {
        let k1 = [0x0bu8; 20];
        assert_eq!(
            hmac_sha256(&k1, &[b"Hi There"]).to_vec(),
            hex("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
        );
        assert_eq!(
            hmac_sha256(b"Jefe", &[b"what do ya want ", b"for nothing?"]).to_vec(),
            hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        );
        let k6 = [0xaau8; 131];
        assert_eq!(
            hmac_sha256(
                &k6,
                &[b"Test Using Larger Than Block-Size Key - Hash Key First"]
            )
            .to_vec(),
            hex("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
        );
        // RFC 4231 test case 5 is the 128-bit truncation.
        let k5 = [0x0cu8; 20];
        assert_eq!(
            hmac_sha256(&k5, &[b"Test With Truncation"])[..16].to_vec(),
            hex("a3b6167473100ee06e0c796c2955552b")
        );
    }

    #[test]
    fn query_bytes_by_hand() {
        let r = Repr {
            code: Code::OK,
            flags: 0,
            key_id: 0,
            sequence: 0x01020304,
            nonce: 0x1122334455667788,
            body: Body::Query {
                target: Lin6Id([2, 1, 0x4a, 0, 0, 0, 0, 2]),
                cookie: Some(0xa0a1a2a3a4a5a6a7),
            },
            auth: None,
        };
        let b = r.to_bytes(None);
        let expect = hex("01 03 00 01 0024 0000 01020304 1122334455667788 \
             02014a0000000002 a0a1a2a3a4a5a6a7");
        assert_eq!(b, expect);
        assert_eq!(Repr::parse_bytes(&b).unwrap(), r);
        for n in 0..b.len() {
            assert!(Repr::parse_bytes(&b[..n]).is_err(), "prefix {n}");
        }
    }

    #[test]
    fn register_signed_and_verified() {
        let mut locs = Locators::new();
        locs.push(LocatorRecord {
            prefix: Prefix([0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0]),
            priority: 1,
            weight: 10,
            flags: LOC_FLAG_UP,
        })
        .unwrap();
        let r = Repr {
            code: Code::OK,
            flags: FLAG_ACK,
            key_id: 7,
            sequence: 1,
            nonce: 2,
            body: Body::Register {
                lin6_id: Lin6Id([2, 1, 0x4a, 0, 0, 0, 0, 2]),
                timestamp: 1_000_000,
                lifetime: 600,
                locators: locs,
            },
            auth: Some(Auth::default()),
        };
        let key = b"secret-key";
        let b = r.to_bytes(Some(key));
        assert_eq!(b.len(), 40 + 12 + 20);
        assert_eq!(&b[4..6], &[0, 72]);
        // Independent MAC: HMAC over the bytes with the MAC zeroed, truncated.
        let mut z = b.clone();
        z[56..72].fill(0);
        assert_eq!(&b[56..72], &hmac_sha256(key, &[&z])[..16]);
        assert_eq!(&b[52..56], &[1, 0, 0, 16]);
        assert!(verify(&b, key));
        assert!(!verify(&b, b"other"));
        let mut t = b.clone();
        t[30] ^= 1;
        assert!(!verify(&t, key));
        for n in 0..b.len() {
            assert!(Repr::parse_bytes(&b[..n]).is_err());
        }
    }

    #[test]
    fn bad_inputs() {
        let ack = Repr {
            code: Code::NO_MAPPING,
            flags: 0,
            key_id: 0,
            sequence: 9,
            nonce: 9,
            body: Body::RegisterAck {
                lin6_id: Lin6Id::default(),
                granted_lifetime: 3,
                ma_timestamp: 4,
            },
            auth: None,
        };
        let mut b = ack.to_bytes(None);
        assert_eq!(b.len(), 36);
        b[0] = 2;
        assert_eq!(Repr::parse_bytes(&b), Err(Error::BadVersion(2)));
        b[0] = 1;
        b[1] = 0x77;
        assert_eq!(Repr::parse_bytes(&b), Err(Error::UnknownType(0x77)));
        b[1] = 2;
        b[5] = 35;
        assert_eq!(Repr::parse_bytes(&b), Err(Error::BadLength));
        b[5] = 10;
        assert_eq!(Repr::parse_bytes(&b), Err(Error::BadLength));
        // N = 17 in a REGISTER.
        let mut reg = hex(
            "01 01 00 01 0028 0000 00000001 0000000000000001 02014a0000000002 00000000 00000258 11 000000",
        );
        assert_eq!(Repr::parse_bytes(&reg), Err(Error::TooManyLocators(17)));
        reg[36] = 0;
        assert!(Repr::parse_bytes(&reg).is_ok());
        // Overlong buffer: bytes past Length are ignored.
        reg.extend_from_slice(&[0xff; 5]);
        assert!(Repr::parse_bytes(&reg).is_ok());
    }

    #[test]
    fn serial_numbers() {
        assert!(seq_newer(1, 0));
        assert!(seq_newer(0, u32::MAX));
        assert!(!seq_newer(5, 5));
        assert!(!seq_newer(0, 1));
        assert!(!seq_newer(0x8000_0000, 0));
    }
}
