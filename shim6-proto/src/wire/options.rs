//! Shim6 options (RFC 5533 §5.15, RFC 5534 §5.3).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |             Type            |C|             Length            |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ~                          Contents                             ~
//! ~                                               +-+-+-+-+-+-+-+-+
//! ~                                               |    Padding    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Length counts the contents only; padding (0-7 zero octets, not checked on
//! receipt) makes each option a multiple of 8 octets:
//! `Total Length = 11 + Length - (Length + 3) mod 8`.
//!
//! The critical bit, exactly as §5.15 says: an option that the host does not
//! understand, *or that is not listed as valid for the message type*, is
//! silently ignored when C=0; when C=1 the rest of the message MUST NOT be
//! processed and [`ControlRepr::parse`](super::ControlRepr::parse) returns
//! [`Error::UnrecognizedCriticalOption`] with the Pointer for the Error
//! message (Error Code 1). The C bit of a recognised option has no effect
//! and is kept, so messages re-emit byte for byte.
//!
//! [`Options`] holds a message's options: the validated wire area of a
//! parsed message (iterated lazily, no allocation) or a list to emit.

use alloc::vec::Vec;
use core::net::Ipv6Addr;

use super::control::MessageType;
use super::{Error, Result, align8, rd8, rd16, rd32, rdaddr, wr, wr8, wr16, wr32, zero};

/// A Shim6 option type: 15 bits (RFC 5533 §5.15, Table 3). Open: unknown
/// values round-trip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OptionType(pub u16);

impl OptionType {
    /// Responder Validator (§5.15.1).
    pub const RESPONDER_VALIDATOR: Self = Self(1);
    /// Locator List (§5.15.2).
    pub const LOCATOR_LIST: Self = Self(2);
    /// Locator Preferences (§5.15.3).
    pub const LOCATOR_PREFERENCES: Self = Self(3);
    /// CGA Parameter Data Structure (§5.15.4).
    pub const CGA_PARAMETERS: Self = Self(4);
    /// CGA Signature (§5.15.5).
    pub const CGA_SIGNATURE: Self = Self(5);
    /// ULID Pair (§5.15.6).
    pub const ULID_PAIR: Self = Self(6);
    /// Forked Instance Identifier (§5.15.7).
    pub const FORKED_INSTANCE_ID: Self = Self(7);
    /// Keepalive Timeout (RFC 5534 §5.3).
    pub const KEEPALIVE_TIMEOUT: Self = Self(10);

    /// Whether this host understands the option type at all.
    #[must_use]
    pub const fn is_known(self) -> bool {
        matches!(self.0, 1..=7 | 10)
    }

    /// The snake-case name used by `mobsim decode`, if known.
    #[must_use]
    pub const fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            1 => "responder_validator",
            2 => "locator_list",
            3 => "locator_preferences",
            4 => "cga_parameter_data_structure",
            5 => "cga_signature",
            6 => "ulid_pair",
            7 => "forked_instance_identifier",
            10 => "keepalive_timeout",
            _ => return None,
        })
    }

    /// Whether the option is listed as valid for message type `msg`
    /// (RFC 5533 §5.4-5.11, RFC 5534 §5.3 for Keepalive Timeout, which "MAY
    /// be sent in the I2, I2bis, R2, or UPDATE messages"). An option that is
    /// not is treated like an unknown one (§5.15).
    #[must_use]
    pub const fn allowed_in(self, msg: MessageType) -> bool {
        match msg.0 {
            // I1: ULID pair, Forked Instance Identifier.
            1 => matches!(self.0, 6 | 7),
            // R1, R1bis: Responder Validator.
            2 | 5 => matches!(self.0, 1),
            // I2, I2bis: everything.
            3 | 6 => matches!(self.0, 1..=7 | 10),
            // R2, Update Request: locators, preferences, CGA, keepalive timeout.
            4 | 64 => matches!(self.0, 2..=5 | 10),
            // Update Acknowledgement, Keepalive, Probe, and unknown: none.
            _ => false,
        }
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for OptionType {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(Self(u16::arbitrary(u)? & 0x7fff))
    }
}

/// A locator verification method (RFC 5533 §5.15.2, Table 4). Open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct VerificationMethod(pub u8);

impl VerificationMethod {
    /// Hash-Based Addresses (RFC 5535).
    pub const HBA: Self = Self(1);
    /// Cryptographically Generated Addresses (RFC 3972).
    pub const CGA: Self = Self(2);
}

/// The flags of a locator preference element (RFC 5533 §5.15.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct PreferenceFlags(pub u8);

impl PreferenceFlags {
    /// The locator is known not to work.
    pub const BROKEN: Self = Self(0x01);
    /// The locator is less stable (e.g. a care-of address).
    pub const TRANSIENT: Self = Self(0x02);

    /// True when every flag of `other` is set in `self`.
    #[must_use]
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }
}

/// One locator with its verification method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Locator {
    /// How the receiver verifies it.
    pub method: VerificationMethod,
    /// The address.
    pub addr: Ipv6Addr,
}

/// The locators of a Locator List option: the wire form of a parsed
/// message or a list to emit. At most 255 (Num Locators is one octet).
#[derive(Debug, Clone)]
pub enum Locators<'a> {
    /// As on the wire: N verification methods and N 16-octet addresses
    /// (`addrs.len()` must be `16 * methods.len()`).
    Wire {
        /// N octets of verification method.
        methods: &'a [u8],
        /// N locators, 16 octets each.
        addrs: &'a [u8],
    },
    /// A borrowed list.
    List(&'a [Locator]),
    /// An owned list (allocates when built, never when parsing).
    Owned(Vec<Locator>),
}

impl<'a> Locators<'a> {
    /// The number of locators N.
    #[must_use]
    pub fn len(&self) -> usize {
        match self {
            Self::Wire { methods, .. } => methods.len(),
            Self::List(l) => l.len(),
            Self::Owned(v) => v.len(),
        }
    }

    /// True when there is no locator.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `i`th locator.
    #[must_use]
    pub fn get(&self, i: usize) -> Option<Locator> {
        match self {
            Self::Wire { methods, addrs } => {
                let m = *methods.get(i)?;
                let at = i.checked_mul(16)?;
                let a = addrs.get(at..)?.first_chunk::<16>()?;
                Some(Locator {
                    method: VerificationMethod(m),
                    addr: Ipv6Addr::from(*a),
                })
            }
            Self::List(l) => l.get(i).copied(),
            Self::Owned(v) => v.get(i).copied(),
        }
    }

    /// Iterates over the locators in order.
    pub fn iter(&self) -> impl Iterator<Item = Locator> + '_ {
        (0..self.len()).map_while(|i| self.get(i))
    }

    fn consistent(&self) -> bool {
        match self {
            Self::Wire { methods, addrs } => methods.len().checked_mul(16) == Some(addrs.len()),
            _ => true,
        }
    }
}

impl PartialEq for Locators<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}
impl Eq for Locators<'_> {}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for Locators<'a> {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        let mut v: Vec<Locator> = u.arbitrary()?;
        v.truncate(255);
        Ok(Self::Owned(v))
    }
}

/// Locator List option contents (RFC 5533 §5.15.2).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct LocatorList<'a> {
    /// Locator List Generation.
    pub generation: u32,
    /// The locators with their verification methods.
    pub locators: Locators<'a>,
}

impl LocatorList<'_> {
    /// Octets of padding between the verification methods and the
    /// locators, so that the locators start on a multiple of 8 octets
    /// from the option start (counted in Length).
    #[must_use]
    pub fn inner_padding(n: usize) -> usize {
        let used = n.saturating_add(9);
        align8(used).saturating_sub(used)
    }

    fn content_len(&self) -> usize {
        let n = self.locators.len();
        n.saturating_mul(17)
            .saturating_add(5)
            .saturating_add(Self::inner_padding(n))
    }
}

/// One element of a Locator Preferences option: Flags, then Priority (when
/// Element Len >= 2), Weight (>= 3) and any longer format's octets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PreferenceElement<'a> {
    /// Flags (BROKEN, TRANSIENT).
    pub flags: PreferenceFlags,
    /// Priority, as in DNS SRV records.
    pub priority: Option<u8>,
    /// Weight, as in DNS SRV records.
    pub weight: Option<u8>,
    /// Octets beyond the third (Element Len > 3; not specified by RFC 5533).
    pub rest: &'a [u8],
}

/// Locator Preferences option contents (RFC 5533 §5.15.3), with elements of
/// any length from 1 to 255 octets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocatorPreferences<'a> {
    /// Locator List Generation the elements apply to.
    pub generation: u32,
    /// Element Len: octets per element (1: flags; 2: + priority; 3: + weight).
    pub element_len: u8,
    /// The elements, concatenated: `elements.len()` must be a multiple of
    /// `element_len`, which must not be 0.
    pub elements: &'a [u8],
}

impl<'a> LocatorPreferences<'a> {
    /// Number of elements (0 when Element Len is 0).
    #[must_use]
    pub fn count(&self) -> usize {
        self.elements
            .len()
            .checked_div(usize::from(self.element_len))
            .unwrap_or(0)
    }

    /// Iterates over the elements.
    pub fn iter(&self) -> impl Iterator<Item = PreferenceElement<'a>> + 'a {
        let n = usize::from(self.element_len).max(1);
        let elements: &'a [u8] = self.elements;
        let valid = self.valid();
        elements
            .chunks_exact(n)
            .take_while(move |_| valid)
            .map(|e| PreferenceElement {
                flags: PreferenceFlags(rd8(e, 0)),
                priority: e.get(1).copied(),
                weight: e.get(2).copied(),
                rest: e.get(3..).unwrap_or(&[]),
            })
    }

    fn valid(&self) -> bool {
        self.element_len != 0
            && self
                .elements
                .len()
                .is_multiple_of(usize::from(self.element_len))
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for LocatorPreferences<'a> {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        let generation = u.arbitrary()?;
        let element_len: u8 = u.int_in_range(1..=4)?;
        let count: usize = u.int_in_range(0..=16)?;
        let elements = u.bytes(count.saturating_mul(usize::from(element_len)))?;
        Ok(Self {
            generation,
            element_len,
            elements,
        })
    }
}

/// The contents of one option.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum OptionValue<'a> {
    /// Responder Validator (§5.15.1): opaque to all but the responder.
    ResponderValidator(&'a [u8]),
    /// Locator List (§5.15.2).
    LocatorList(LocatorList<'a>),
    /// Locator Preferences (§5.15.3).
    LocatorPreferences(LocatorPreferences<'a>),
    /// CGA Parameter Data Structure (§5.15.4), opaque here (RFC 3972 §4).
    CgaParameters(&'a [u8]),
    /// CGA Signature (§5.15.5): a PKCS#1 v1.5 signature, opaque here.
    CgaSignature(&'a [u8]),
    /// ULID Pair (§5.15.6).
    UlidPair {
        /// The sender's ULID.
        sender: Ipv6Addr,
        /// The receiver's ULID.
        receiver: Ipv6Addr,
    },
    /// Forked Instance Identifier (§5.15.7).
    ForkedInstanceId(u32),
    /// Keepalive Timeout in seconds (RFC 5534 §5.3).
    KeepaliveTimeout(u16),
    /// An option this host does not interpret (or not valid in the message
    /// that carried it).
    Unknown {
        /// Its type.
        option_type: OptionType,
        /// Its contents (without padding).
        data: &'a [u8],
    },
}

impl<'a> OptionValue<'a> {
    /// The option type.
    #[must_use]
    pub fn option_type(&self) -> OptionType {
        match self {
            Self::ResponderValidator(_) => OptionType::RESPONDER_VALIDATOR,
            Self::LocatorList(_) => OptionType::LOCATOR_LIST,
            Self::LocatorPreferences(_) => OptionType::LOCATOR_PREFERENCES,
            Self::CgaParameters(_) => OptionType::CGA_PARAMETERS,
            Self::CgaSignature(_) => OptionType::CGA_SIGNATURE,
            Self::UlidPair { .. } => OptionType::ULID_PAIR,
            Self::ForkedInstanceId(_) => OptionType::FORKED_INSTANCE_ID,
            Self::KeepaliveTimeout(_) => OptionType::KEEPALIVE_TIMEOUT,
            Self::Unknown { option_type, .. } => *option_type,
        }
    }

    /// Parses the contents `data` of an option of type `ty`. Known types are
    /// checked strictly; other types give [`OptionValue::Unknown`].
    pub fn parse(ty: OptionType, data: &'a [u8]) -> Result<Self> {
        Ok(match ty {
            OptionType::RESPONDER_VALIDATOR => Self::ResponderValidator(data),
            OptionType::LOCATOR_LIST => {
                if data.len() < 5 {
                    return Err(Error::BadLength);
                }
                let n = usize::from(rd8(data, 4));
                let start = n
                    .saturating_add(5)
                    .saturating_add(LocatorList::inner_padding(n));
                let expect = start.saturating_add(n.saturating_mul(16));
                if data.len() != expect {
                    return Err(Error::BadLength);
                }
                let methods = data.get(5..n.saturating_add(5)).ok_or(Error::BadLength)?;
                let addrs = data.get(start..).ok_or(Error::BadLength)?;
                Self::LocatorList(LocatorList {
                    generation: rd32(data, 0),
                    locators: Locators::Wire { methods, addrs },
                })
            }
            OptionType::LOCATOR_PREFERENCES => {
                if data.len() < 5 {
                    return Err(Error::BadLength);
                }
                let p = LocatorPreferences {
                    generation: rd32(data, 0),
                    element_len: rd8(data, 4),
                    elements: data.get(5..).unwrap_or(&[]),
                };
                if p.element_len == 0 {
                    return Err(Error::BadValue);
                }
                if !p.valid() {
                    return Err(Error::BadLength);
                }
                Self::LocatorPreferences(p)
            }
            OptionType::CGA_PARAMETERS => Self::CgaParameters(data),
            OptionType::CGA_SIGNATURE => Self::CgaSignature(data),
            OptionType::ULID_PAIR => {
                if data.len() != 36 {
                    return Err(Error::BadLength);
                }
                Self::UlidPair {
                    sender: rdaddr(data, 4),
                    receiver: rdaddr(data, 20),
                }
            }
            OptionType::FORKED_INSTANCE_ID => {
                if data.len() != 4 {
                    return Err(Error::BadLength);
                }
                Self::ForkedInstanceId(rd32(data, 0))
            }
            OptionType::KEEPALIVE_TIMEOUT => {
                if data.len() != 4 {
                    return Err(Error::BadLength);
                }
                Self::KeepaliveTimeout(rd16(data, 2))
            }
            option_type => Self::Unknown { option_type, data },
        })
    }

    /// The Length field: octets of contents, without padding.
    #[must_use]
    pub fn content_len(&self) -> usize {
        match self {
            Self::ResponderValidator(d)
            | Self::CgaParameters(d)
            | Self::CgaSignature(d)
            | Self::Unknown { data: d, .. } => d.len(),
            Self::LocatorList(l) => l.content_len(),
            Self::LocatorPreferences(p) => p.elements.len().saturating_add(5),
            Self::UlidPair { .. } => 36,
            Self::ForkedInstanceId(_) | Self::KeepaliveTimeout(_) => 4,
        }
    }

    /// Writes the contents at the start of `b` (which holds at least
    /// `content_len()` octets).
    fn emit_contents(&self, b: &mut [u8]) -> Result<()> {
        match self {
            Self::ResponderValidator(d)
            | Self::CgaParameters(d)
            | Self::CgaSignature(d)
            | Self::Unknown { data: d, .. } => wr(b, 0, d),
            Self::LocatorList(l) => {
                let n = l.locators.len();
                let n8 = u8::try_from(n).map_err(|_| Error::TooLong)?;
                if !l.locators.consistent() {
                    return Err(Error::BadLength);
                }
                wr32(b, 0, l.generation);
                wr8(b, 4, n8);
                let pad = LocatorList::inner_padding(n);
                let start = n.saturating_add(5).saturating_add(pad);
                zero(b, n.saturating_add(5), pad);
                for (i, loc) in l.locators.iter().enumerate() {
                    wr8(b, i.saturating_add(5), loc.method.0);
                    wr(
                        b,
                        start.saturating_add(i.saturating_mul(16)),
                        &loc.addr.octets(),
                    );
                }
            }
            Self::LocatorPreferences(p) => {
                if !p.valid() {
                    return Err(Error::BadValue);
                }
                wr32(b, 0, p.generation);
                wr8(b, 4, p.element_len);
                wr(b, 5, p.elements);
            }
            Self::UlidPair { sender, receiver } => {
                zero(b, 0, 4);
                wr(b, 4, &sender.octets());
                wr(b, 20, &receiver.octets());
            }
            Self::ForkedInstanceId(v) => wr32(b, 0, *v),
            Self::KeepaliveTimeout(t) => {
                zero(b, 0, 2);
                wr16(b, 2, *t);
            }
        }
        Ok(())
    }
}

/// One option: its contents and its C bit.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct OptionRepr<'a> {
    /// The C (critical) bit as sent. It only matters for options the
    /// receiver does not recognise (§5.15).
    pub critical: bool,
    /// The contents.
    pub value: OptionValue<'a>,
}

impl<'a> OptionRepr<'a> {
    /// A non-critical option (C=0), as RFC 5533 defines all of its options.
    #[must_use]
    pub const fn new(value: OptionValue<'a>) -> Self {
        Self {
            critical: false,
            value,
        }
    }

    /// Octets taken on the wire, padding included (a multiple of 8).
    #[must_use]
    pub fn buffer_len(&self) -> usize {
        align8(self.value.content_len().saturating_add(4))
    }

    /// Writes the option, padding included, at the start of `b`; returns the
    /// octets written.
    pub fn emit(&self, b: &mut [u8]) -> Result<usize> {
        let len = self.value.content_len();
        let len16 = u16::try_from(len).map_err(|_| Error::TooLong)?;
        let total = self.buffer_len();
        //= https://www.rfc-editor.org/rfc/rfc5533#section-5.15
        //# When needed, padding MUST be
        //# added to the end of the parameter so that the total length becomes a
        //# multiple of 8 bytes.
        let out = b.get_mut(..total).ok_or(Error::BufferTooSmall)?;
        let ty = self.value.option_type().0 & 0x7fff;
        wr16(out, 0, (ty << 1) | u16::from(self.critical));
        wr16(out, 2, len16);
        let contents = out.get_mut(4..).ok_or(Error::BufferTooSmall)?;
        self.value.emit_contents(contents)?;
        zero(
            out,
            len.saturating_add(4),
            total.saturating_sub(len).saturating_sub(4),
        );
        Ok(total)
    }
}

/// One option as framed on the wire, before interpretation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawOption<'a> {
    /// Offset of the Type field from the start of the options area.
    pub offset: usize,
    /// The 15-bit type.
    pub option_type: OptionType,
    /// The C bit.
    pub critical: bool,
    /// The contents (Length octets).
    pub data: &'a [u8],
    /// The padding octets that follow (sent as zero, not checked).
    pub padding: &'a [u8],
}

/// Walks an options area option by option, checking only the framing.
/// After an error it yields nothing more.
#[derive(Debug, Clone)]
pub struct RawOptions<'a> {
    area: &'a [u8],
    at: usize,
}

impl<'a> RawOptions<'a> {
    /// Walks `area` (the octets after a message's fixed fields).
    #[must_use]
    pub const fn new(area: &'a [u8]) -> Self {
        Self { area, at: 0 }
    }
}

impl<'a> Iterator for RawOptions<'a> {
    type Item = Result<RawOption<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.area.get(self.at..)?;
        if rest.is_empty() {
            return None;
        }
        let offset = self.at;
        // Any error ends the walk.
        self.at = self.area.len();
        if rest.len() < 4 {
            return Some(Err(Error::Truncated));
        }
        let tc = rd16(rest, 0);
        let len = usize::from(rd16(rest, 2));
        let end = len.saturating_add(4);
        let total = align8(end);
        let (Some(data), Some(padding)) = (rest.get(4..end), rest.get(end..total)) else {
            return Some(Err(Error::Truncated));
        };
        self.at = offset.saturating_add(total);
        Some(Ok(RawOption {
            offset,
            option_type: OptionType(tc >> 1),
            critical: tc & 1 != 0,
            data,
            padding,
        }))
    }
}

/// The options of a control message.
#[derive(Debug, Clone)]
pub enum Options<'a> {
    /// The options area of a parsed message, validated by the parser (no
    /// allocation; re-emitted octet for octet).
    Wire(&'a [u8]),
    /// A borrowed list.
    List(&'a [OptionRepr<'a>]),
    /// An owned list (allocates when built, never when parsing).
    Owned(Vec<OptionRepr<'a>>),
}

impl Default for Options<'_> {
    fn default() -> Self {
        Self::EMPTY
    }
}

impl<'a> Options<'a> {
    /// No options.
    pub const EMPTY: Options<'static> = Options::List(&[]);

    /// Iterates over the options. Each option of a wire area comes out typed
    /// when its type is known and its contents are well formed, as
    /// [`OptionValue::Unknown`] otherwise.
    pub fn iter(&self) -> OptionsIter<'_, 'a> {
        match self {
            Self::Wire(b) => OptionsIter::Wire(RawOptions::new(b)),
            Self::List(l) => OptionsIter::List(l.iter()),
            Self::Owned(v) => OptionsIter::List(v.iter()),
        }
    }

    /// The first option of type `ty`.
    #[must_use]
    pub fn find(&self, ty: OptionType) -> Option<OptionRepr<'a>> {
        self.iter().find(|o| o.value.option_type() == ty)
    }

    /// True when there is no option.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    /// Octets taken on the wire.
    #[must_use]
    pub fn buffer_len(&self) -> usize {
        match self {
            Self::Wire(b) => b.len(),
            Self::List(l) => l.iter().fold(0, |a, o| a.saturating_add(o.buffer_len())),
            Self::Owned(v) => v.iter().fold(0, |a, o| a.saturating_add(o.buffer_len())),
        }
    }

    /// Writes the options at the start of `b`; returns the octets written.
    pub fn emit(&self, b: &mut [u8]) -> Result<usize> {
        let list: &[OptionRepr<'a>] = match self {
            Self::Wire(w) => {
                let out = b.get_mut(..w.len()).ok_or(Error::BufferTooSmall)?;
                out.copy_from_slice(w);
                return Ok(w.len());
            }
            Self::List(l) => l,
            Self::Owned(v) => v,
        };
        let mut at = 0usize;
        for o in list {
            let out = b.get_mut(at..).ok_or(Error::BufferTooSmall)?;
            at = at.saturating_add(o.emit(out)?);
        }
        Ok(at)
    }

    /// Checks a message's options area as RFC 5533 §5.15 requires: framing
    /// intact; options valid for `msg` well formed; any option with C=1 that
    /// is unknown or not valid for `msg` is [`Error::UnrecognizedCriticalOption`]
    /// with the Pointer `area_offset + offset` (its Type field from the start
    /// of the Shim6 header). Options with C=0 that are unknown or not valid
    /// for `msg` are ignored.
    pub fn validate(area: &[u8], msg: MessageType, area_offset: usize) -> Result<()> {
        for raw in RawOptions::new(area) {
            let raw = raw?;
            if raw.option_type.allowed_in(msg) {
                OptionValue::parse(raw.option_type, raw.data)?;
            } else if raw.critical {
                //= https://www.rfc-editor.org/rfc/rfc5533#section-5.15
                //# If C=1, then the host SHOULD send back a Shim6 Error message with
                //# Error Code=1, with the Pointer field referencing the first octet
                //# in the Option Type field.  When C=1, the rest of the message MUST
                //# NOT be processed.
                let at = area_offset.saturating_add(raw.offset);
                let pointer = u16::try_from(at).map_err(|_| Error::BadLength)?;
                return Err(Error::UnrecognizedCriticalOption { pointer });
            }
        }
        Ok(())
    }
}

impl PartialEq for Options<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}
impl Eq for Options<'_> {}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for Options<'a> {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(Self::Owned(u.arbitrary()?))
    }
}

/// Iterator over [`Options`].
#[derive(Debug, Clone)]
pub enum OptionsIter<'o, 'a> {
    /// Over a wire area.
    Wire(RawOptions<'a>),
    /// Over a list.
    List(core::slice::Iter<'o, OptionRepr<'a>>),
}

impl<'a> Iterator for OptionsIter<'_, 'a> {
    type Item = OptionRepr<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Self::List(it) => it.next().cloned(),
            Self::Wire(raw) => {
                let r = raw.next()?.ok()?;
                let value =
                    OptionValue::parse(r.option_type, r.data).unwrap_or(OptionValue::Unknown {
                        option_type: r.option_type,
                        data: r.data,
                    });
                Some(OptionRepr {
                    critical: r.critical,
                    value,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn total_length_formula() {
        // RFC 5533 §5.15: Total Length = 11 + Length - (Length + 3) mod 8.
        for len in 0usize..200 {
            let o = OptionRepr::new(OptionValue::ResponderValidator(&[0u8; 200][..len]));
            assert_eq!(o.buffer_len(), 11 + len - (len + 3) % 8, "len {len}");
        }
    }

    #[test]
    fn locator_list_inner_padding() {
        // §5.15.2: locators start on a multiple of 8 from the option start:
        // 4 (header) + 4 (generation) + 1 (N) + N + padding.
        assert_eq!(LocatorList::inner_padding(1), 6);
        assert_eq!(LocatorList::inner_padding(2), 5);
        assert_eq!(LocatorList::inner_padding(3), 4);
        assert_eq!(LocatorList::inner_padding(7), 0);
        assert_eq!(LocatorList::inner_padding(8), 7);
    }

    #[test]
    fn critical_bit_encoding() {
        let o = OptionRepr {
            critical: true,
            value: OptionValue::ForkedInstanceId(1),
        };
        let mut b = [0xaau8; 8];
        assert_eq!(o.emit(&mut b).unwrap(), 8);
        assert_eq!(b, [0x00, 0x0f, 0x00, 0x04, 0, 0, 0, 1]);
    }

    #[test]
    fn allowed_matrix() {
        use OptionType as O;
        assert!(O::ULID_PAIR.allowed_in(MessageType::I1));
        assert!(!O::RESPONDER_VALIDATOR.allowed_in(MessageType::I1));
        assert!(O::RESPONDER_VALIDATOR.allowed_in(MessageType::R1BIS));
        assert!(O::KEEPALIVE_TIMEOUT.allowed_in(MessageType::UPDATE_REQUEST));
        assert!(!O::ULID_PAIR.allowed_in(MessageType::R2));
        assert!(!O::KEEPALIVE_TIMEOUT.allowed_in(MessageType::UPDATE_ACK));
        assert!(!O(8).allowed_in(MessageType::I2));
    }

    //= https://www.rfc-editor.org/rfc/rfc5533#section-5.15.3
    //= type=test
    //# This document doesn't specify the format when the Element length is
    //# more than three, except that any such formats MUST be defined so that
    //# the first three octets are the same as in the above case
    #[test]
    fn preference_elements_of_every_length() {
        // Two elements of 4 octets: flags, priority, weight, one more octet.
        let data = [0, 0, 0, 9, 4, 0x01, 10, 20, 0xaa, 0x02, 30, 40, 0xbb];
        let Ok(OptionValue::LocatorPreferences(p)) =
            OptionValue::parse(OptionType::LOCATOR_PREFERENCES, &data)
        else {
            panic!("parses");
        };
        assert_eq!((p.generation, p.element_len, p.count()), (9, 4, 2));
        let e: alloc::vec::Vec<_> = p.iter().collect();
        assert!(e[0].flags.contains(PreferenceFlags::BROKEN));
        assert!(e[1].flags.contains(PreferenceFlags::TRANSIENT));
        assert_eq!(
            (e[0].priority, e[0].weight, e[0].rest),
            (Some(10), Some(20), &[0xaa][..])
        );
        assert_eq!(
            (e[1].priority, e[1].weight, e[1].rest),
            (Some(30), Some(40), &[0xbb][..])
        );
        // Element Len 1: flags only.
        let one = [0, 0, 0, 1, 1, 0x01, 0x00, 0x02];
        let Ok(OptionValue::LocatorPreferences(p)) =
            OptionValue::parse(OptionType::LOCATOR_PREFERENCES, &one)
        else {
            panic!("parses");
        };
        let flags: alloc::vec::Vec<_> = p
            .iter()
            .map(|e| (e.flags.0, e.priority, e.weight))
            .collect();
        assert_eq!(flags, [(1, None, None), (0, None, None), (2, None, None)]);
        // Element Len 255: one element of 255 octets.
        let mut big = alloc::vec![0u8; 5 + 255];
        big[4] = 255;
        big[5] = 0x02;
        let Ok(OptionValue::LocatorPreferences(p)) =
            OptionValue::parse(OptionType::LOCATOR_PREFERENCES, &big)
        else {
            panic!("parses");
        };
        assert_eq!(p.count(), 1);
        assert_eq!(p.iter().next().unwrap().rest.len(), 252);
        // And they re-emit octet for octet.
        let o = OptionRepr::new(OptionValue::LocatorPreferences(p));
        let mut out = alloc::vec![0u8; o.buffer_len()];
        o.emit(&mut out).unwrap();
        assert_eq!(&out[4..4 + big.len()], &big[..]);
        assert_eq!(out[0..4], [0, 6, 1, 4]);
    }

    #[test]
    fn raw_options_framing_errors() {
        // A header that announces more contents than the area holds.
        let area = [0, 2, 0, 200, 0, 0, 0, 0];
        let mut it = RawOptions::new(&area);
        assert_eq!(it.next(), Some(Err(Error::Truncated)));
        assert_eq!(it.next(), None);
        // Contents fit but the padding does not.
        let area = [0, 14, 0, 5, 1, 2, 3, 4, 5];
        assert_eq!(RawOptions::new(&area).next(), Some(Err(Error::Truncated)));
        // Fewer than 4 octets left.
        assert_eq!(RawOptions::new(&[0, 2]).next(), Some(Err(Error::Truncated)));
        assert_eq!(RawOptions::new(&[]).next(), None);
    }

    #[test]
    fn bad_known_option_lengths() {
        assert_eq!(
            OptionValue::parse(OptionType::ULID_PAIR, &[0; 35]),
            Err(Error::BadLength)
        );
        assert_eq!(
            OptionValue::parse(OptionType::FORKED_INSTANCE_ID, &[0; 5]),
            Err(Error::BadLength)
        );
        assert_eq!(
            OptionValue::parse(OptionType::KEEPALIVE_TIMEOUT, &[0; 2]),
            Err(Error::BadLength)
        );
        assert_eq!(
            OptionValue::parse(OptionType::LOCATOR_LIST, &[0; 4]),
            Err(Error::BadLength)
        );
        // N = 1 needs 5 + 1 + 6 + 16 = 28 octets.
        let mut ll = [0u8; 28];
        ll[4] = 1;
        assert!(OptionValue::parse(OptionType::LOCATOR_LIST, &ll).is_ok());
        assert_eq!(
            OptionValue::parse(OptionType::LOCATOR_LIST, &ll[..27]),
            Err(Error::BadLength)
        );
        assert_eq!(
            OptionValue::parse(OptionType::LOCATOR_PREFERENCES, &[0, 0, 0, 0, 0, 1]),
            Err(Error::BadValue)
        );
        assert_eq!(
            OptionValue::parse(OptionType::LOCATOR_PREFERENCES, &[0, 0, 0, 0, 2, 1, 2, 3]),
            Err(Error::BadLength)
        );
    }
}
