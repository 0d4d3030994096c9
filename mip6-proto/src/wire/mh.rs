//! The Mobility Header (RFC 6275 §6.1) and its messages.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Payload Proto |  Header Len   |   MH Type     |   Reserved    |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |           Checksum            |                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               |
//! .                         Message Data                          .
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Header Len counts 8-octet units, not including the first 8 octets. The
//! checksum covers the IPv6 pseudo-header (next header 135) and the whole
//! Mobility Header; when a Home Address option is present the home address
//! stands in for the source address (§6.1.1).

use core::net::Ipv6Addr;

use super::options::Options;
use super::{Error, Result, checksum, rd8, rd16, rdaddr, rdn, wr, wr8, wr16, zero};

/// Mobility Header type (IANA "Mobility Header Types"). Unknown values are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct MhType(pub u8);

impl MhType {
    /// Binding Refresh Request (§6.1.2).
    pub const BINDING_REFRESH_REQUEST: Self = Self(0);
    /// Home Test Init (§6.1.3).
    pub const HOME_TEST_INIT: Self = Self(1);
    /// Care-of Test Init (§6.1.4).
    pub const CARE_OF_TEST_INIT: Self = Self(2);
    /// Home Test (§6.1.5).
    pub const HOME_TEST: Self = Self(3);
    /// Care-of Test (§6.1.6).
    pub const CARE_OF_TEST: Self = Self(4);
    /// Binding Update (§6.1.7).
    pub const BINDING_UPDATE: Self = Self(5);
    /// Binding Acknowledgement (§6.1.8).
    pub const BINDING_ACK: Self = Self(6);
    /// Binding Error (§6.1.9).
    pub const BINDING_ERROR: Self = Self(7);
    /// Experimental Mobility Header (RFC 5096 §2).
    pub const EXPERIMENTAL: Self = Self(11);

    /// The snake_case name used by the decoder, `None` when unknown to this crate.
    #[must_use]
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "binding_refresh_request",
            1 => "home_test_init",
            2 => "care_of_test_init",
            3 => "home_test",
            4 => "care_of_test",
            5 => "binding_update",
            6 => "binding_acknowledgement",
            7 => "binding_error",
            11 => "experimental",
            _ => return None,
        })
    }

    /// Length of the fixed part (header included) of a message of this type,
    /// i.e. the offset of its first option; `None` for types without options.
    #[must_use]
    pub fn options_offset(self) -> Option<usize> {
        match self.0 {
            0 => Some(8),
            1 | 2 => Some(16),
            3 | 4 | 7 => Some(24),
            5 | 6 => Some(12),
            _ => None,
        }
    }
}

/// Binding Acknowledgement status (RFC 6275 §6.1.8, RFC 3963 §4.2, RFC 4285
/// §8, RFC 5648 §4.4). Values below 128 mean acceptance. Unknown values are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct BaStatus(pub u8);

impl BaStatus {
    /// 0 Binding Update accepted.
    pub const ACCEPTED: Self = Self(0);
    /// 1 Accepted but prefix discovery necessary.
    pub const ACCEPTED_PREFIX_DISCOVERY_NECESSARY: Self = Self(1);
    /// 4 MCOA NOTCOMPLETE (RFC 5648).
    pub const MCOA_NOTCOMPLETE: Self = Self(4);
    /// 5 MCOA RETURNHOME WO/NDP (RFC 5648).
    pub const MCOA_RETURNHOME_WO_NDP: Self = Self(5);
    /// 128 Reason unspecified.
    pub const REASON_UNSPECIFIED: Self = Self(128);
    /// 129 Administratively prohibited.
    pub const ADMINISTRATIVELY_PROHIBITED: Self = Self(129);
    /// 130 Insufficient resources.
    pub const INSUFFICIENT_RESOURCES: Self = Self(130);
    /// 131 Home registration not supported.
    pub const HOME_REGISTRATION_NOT_SUPPORTED: Self = Self(131);
    /// 132 Not home subnet.
    pub const NOT_HOME_SUBNET: Self = Self(132);
    /// 133 Not home agent for this mobile node.
    pub const NOT_HOME_AGENT_FOR_THIS_MN: Self = Self(133);
    /// 134 Duplicate Address Detection failed.
    pub const DUPLICATE_ADDRESS_DETECTION_FAILED: Self = Self(134);
    /// 135 Sequence number out of window.
    pub const SEQUENCE_NUMBER_OUT_OF_WINDOW: Self = Self(135);
    /// 136 Expired home nonce index.
    pub const EXPIRED_HOME_NONCE_INDEX: Self = Self(136);
    /// 137 Expired care-of nonce index.
    pub const EXPIRED_CARE_OF_NONCE_INDEX: Self = Self(137);
    /// 138 Expired nonces.
    pub const EXPIRED_NONCES: Self = Self(138);
    /// 139 Registration type change disallowed.
    pub const REGISTRATION_TYPE_CHANGE_DISALLOWED: Self = Self(139);
    /// 140 Mobile Router Operation not permitted (RFC 3963).
    pub const MOBILE_ROUTER_OPERATION_NOT_PERMITTED: Self = Self(140);
    /// 141 Invalid Prefix (RFC 3963).
    pub const INVALID_PREFIX: Self = Self(141);
    /// 142 Not Authorized for Prefix (RFC 3963).
    pub const NOT_AUTHORIZED_FOR_PREFIX: Self = Self(142);
    /// 143 Forwarding Setup failed (RFC 3963).
    pub const FORWARDING_SETUP_FAILED: Self = Self(143);
    /// 144 MIPV6-ID-MISMATCH (RFC 4285).
    pub const MIPV6_ID_MISMATCH: Self = Self(144);
    /// 145 MIPV6-MESG-ID-REQD (RFC 4285).
    pub const MIPV6_MESG_ID_REQD: Self = Self(145);
    /// 146 MIPV6-AUTH-FAIL (RFC 4285).
    pub const MIPV6_AUTH_FAIL: Self = Self(146);
    /// 164 MCOA MALFORMED (RFC 5648).
    pub const MCOA_MALFORMED: Self = Self(164);
    /// 165 MCOA NON-MCOA BINDING EXISTS (RFC 5648).
    pub const MCOA_NON_MCOA_BINDING_EXISTS: Self = Self(165);
    /// 166 MCOA PROHIBITED (RFC 5648).
    pub const MCOA_PROHIBITED: Self = Self(166);
    /// 167 MCOA UNKNOWN COA (RFC 5648).
    pub const MCOA_UNKNOWN_COA: Self = Self(167);
    /// 168 MCOA BULK REGISTRATION PROHIBITED (RFC 5648).
    pub const MCOA_BULK_REGISTRATION_PROHIBITED: Self = Self(168);
    /// 169 MCOA SIMULTANEOUS HOME AND FOREIGN PROHIBITED (RFC 5648).
    pub const MCOA_SIMULTANEOUS_HOME_AND_FOREIGN_PROHIBITED: Self = Self(169);

    /// True for the acceptance codes (< 128).
    #[must_use]
    pub fn is_accepted(self) -> bool {
        self.0 < 128
    }
}

/// Binding Error status (RFC 6275 §6.1.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct BeStatus(pub u8);

impl BeStatus {
    /// 1 Unknown binding for Home Address destination option.
    pub const UNKNOWN_BINDING_FOR_HAO: Self = Self(1);
    /// 2 Unrecognized MH Type value.
    pub const UNRECOGNIZED_MH_TYPE: Self = Self(2);
}

/// Binding Update flags, the whole 16-bit flags/reserved field (reserved bits are kept).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct BuFlags(pub u16);

impl BuFlags {
    /// A: Acknowledge (RFC 6275).
    pub const A: Self = Self(0x8000);
    /// H: Home Registration (RFC 6275).
    pub const H: Self = Self(0x4000);
    /// L: Link-Local Address Compatibility (RFC 6275).
    pub const L: Self = Self(0x2000);
    /// K: Key Management Mobility Capability (RFC 6275).
    pub const K: Self = Self(0x1000);
    /// M: MAP Registration (RFC 5380).
    pub const M: Self = Self(0x0800);
    /// R: Mobile Router (RFC 3963).
    pub const R: Self = Self(0x0400);
    /// P: Proxy Registration (RFC 5213).
    pub const P: Self = Self(0x0200);
    /// F: Forcing UDP encapsulation (RFC 5555 §3.1.3).
    pub const F: Self = Self(0x0100);
    /// T: TLV-header format (RFC 5845).
    pub const T: Self = Self(0x0080);
    /// O: Overwrite (RFC 5648 §4.2; the RFC's figure puts it after F and T).
    pub const O: Self = Self(0x0040);

    /// True when every bit of `f` is set.
    #[must_use]
    pub fn contains(self, f: Self) -> bool {
        self.0 & f.0 == f.0
    }
}

impl core::ops::BitOr for BuFlags {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

/// Binding Acknowledgement flags octet (reserved bits are kept).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct BaFlags(pub u8);

impl BaFlags {
    /// K: Key Management Mobility Capability (RFC 6275).
    pub const K: Self = Self(0x80);
    /// R: Mobile Router (RFC 3963).
    pub const R: Self = Self(0x40);
    /// P: Proxy Registration (RFC 5213).
    pub const P: Self = Self(0x20);

    /// True when every bit of `f` is set.
    #[must_use]
    pub fn contains(self, f: Self) -> bool {
        self.0 & f.0 == f.0
    }
}

impl core::ops::BitOr for BaFlags {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

/// The fixed part of each Mobility Header message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[non_exhaustive]
pub enum Message<'a> {
    /// Binding Refresh Request.
    BindingRefreshRequest,
    /// Home Test Init.
    HomeTestInit {
        /// Home Init Cookie.
        cookie: [u8; 8],
    },
    /// Care-of Test Init.
    CareOfTestInit {
        /// Care-of Init Cookie.
        cookie: [u8; 8],
    },
    /// Home Test.
    HomeTest {
        /// Home Nonce Index.
        nonce_index: u16,
        /// Home Init Cookie.
        cookie: [u8; 8],
        /// Home Keygen Token.
        token: [u8; 8],
    },
    /// Care-of Test.
    CareOfTest {
        /// Care-of Nonce Index.
        nonce_index: u16,
        /// Care-of Init Cookie.
        cookie: [u8; 8],
        /// Care-of Keygen Token.
        token: [u8; 8],
    },
    /// Binding Update.
    BindingUpdate {
        /// Sequence number.
        sequence: u16,
        /// Flags.
        flags: BuFlags,
        /// Lifetime in 4-second units.
        lifetime: u16,
    },
    /// Binding Acknowledgement.
    BindingAck {
        /// Status.
        status: BaStatus,
        /// Flags.
        flags: BaFlags,
        /// Sequence number.
        sequence: u16,
        /// Lifetime in 4-second units.
        lifetime: u16,
    },
    /// Binding Error.
    BindingError {
        /// Status.
        status: BeStatus,
        /// Home address (from the offending packet's HAO, or unspecified).
        home_address: Ipv6Addr,
    },
    /// Experimental Mobility Header (RFC 5096): opaque message data, no options.
    Experimental(&'a [u8]),
    /// A type this crate does not know: answer with a Binding Error, status 2
    /// (RFC 6275 §9.2). `data` is everything after the checksum.
    Unknown {
        /// The MH type.
        mh_type: u8,
        /// Message data.
        data: &'a [u8],
    },
}

impl Message<'_> {
    /// The MH type of this message.
    #[must_use]
    pub fn mh_type(&self) -> MhType {
        match self {
            Self::BindingRefreshRequest => MhType::BINDING_REFRESH_REQUEST,
            Self::HomeTestInit { .. } => MhType::HOME_TEST_INIT,
            Self::CareOfTestInit { .. } => MhType::CARE_OF_TEST_INIT,
            Self::HomeTest { .. } => MhType::HOME_TEST,
            Self::CareOfTest { .. } => MhType::CARE_OF_TEST,
            Self::BindingUpdate { .. } => MhType::BINDING_UPDATE,
            Self::BindingAck { .. } => MhType::BINDING_ACK,
            Self::BindingError { .. } => MhType::BINDING_ERROR,
            Self::Experimental(_) => MhType::EXPERIMENTAL,
            Self::Unknown { mh_type, .. } => MhType(*mh_type),
        }
    }
}

mod field {
    pub const PAYLOAD_PROTO: usize = 0;
    pub const HDR_LEN: usize = 1;
    pub const MH_TYPE: usize = 2;
    pub const RESERVED: usize = 3;
    pub const CHECKSUM: usize = 4;
    pub const DATA: usize = 6;
}

/// A zero-copy view of a Mobility Header.
#[derive(Debug, Clone)]
pub struct MhPacket<T: AsRef<[u8]>> {
    buf: T,
}

impl<T: AsRef<[u8]>> MhPacket<T> {
    /// Wraps a buffer without checks (for emission).
    pub const fn new_unchecked(buf: T) -> Self {
        Self { buf }
    }

    /// Wraps a buffer and checks that it holds the whole header.
    ///
    /// # Errors
    /// See [`check_len`](Self::check_len).
    pub fn new_checked(buf: T) -> Result<Self> {
        let p = Self { buf };
        p.check_len()?;
        Ok(p)
    }

    /// After `Ok(())`, no accessor panics and [`total_len`](Self::total_len) fits the buffer.
    ///
    /// # Errors
    /// [`Error::Truncated`] when the buffer is shorter than 8 octets or than Header Len says.
    pub fn check_len(&self) -> Result<()> {
        let b = self.buf.as_ref();
        if b.len() < 8 || b.len() < self.total_len() {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }

    /// Consumes the view.
    pub fn into_inner(self) -> T {
        self.buf
    }

    /// Payload Proto (59 = none).
    pub fn payload_proto(&self) -> u8 {
        rd8(self.buf.as_ref(), field::PAYLOAD_PROTO)
    }
    /// Header Len in 8-octet units, the first 8 excluded.
    pub fn header_len(&self) -> u8 {
        rd8(self.buf.as_ref(), field::HDR_LEN)
    }
    /// Length of the Mobility Header in octets: `(Header Len + 1) * 8`.
    pub fn total_len(&self) -> usize {
        (usize::from(self.header_len()).saturating_add(1)).saturating_mul(8)
    }
    /// MH Type.
    pub fn mh_type(&self) -> MhType {
        MhType(rd8(self.buf.as_ref(), field::MH_TYPE))
    }
    /// Reserved octet.
    pub fn reserved(&self) -> u8 {
        rd8(self.buf.as_ref(), field::RESERVED)
    }
    /// Checksum field.
    pub fn checksum(&self) -> u16 {
        rd16(self.buf.as_ref(), field::CHECKSUM)
    }
    /// The whole Mobility Header (`total_len` octets), empty if the buffer is short.
    pub fn header_bytes(&self) -> &[u8] {
        self.buf.as_ref().get(..self.total_len()).unwrap_or(&[])
    }
    /// Message data: after the checksum up to `total_len`.
    pub fn message_data(&self) -> &[u8] {
        self.header_bytes().get(field::DATA..).unwrap_or(&[])
    }
    /// The options area for a known message type (empty for others).
    pub fn options_area(&self) -> &[u8] {
        match self.mh_type().options_offset() {
            Some(off) => self.header_bytes().get(off..).unwrap_or(&[]),
            None => &[],
        }
    }
    /// True when the checksum verifies for this source and destination.
    /// `src` is the home address when a Home Address option is present.
    //= https://www.rfc-editor.org/rfc/rfc6275#section-6.1.1
    //# If a mobility message has a Home Address
    //# destination option, then the checksum calculation uses the home
    //# address in this option as the value of the IPv6 Source Address
    //# field.
    pub fn verify_checksum(&self, src: &Ipv6Addr, dst: &Ipv6Addr) -> bool {
        checksum::verify(src, dst, 135, self.header_bytes())
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> MhPacket<T> {
    /// Sets Payload Proto.
    pub fn set_payload_proto(&mut self, v: u8) {
        wr8(self.buf.as_mut(), field::PAYLOAD_PROTO, v);
    }
    /// Sets Header Len. Voids the guarantee of `check_len`.
    pub fn set_header_len(&mut self, v: u8) {
        wr8(self.buf.as_mut(), field::HDR_LEN, v);
    }
    /// Sets MH Type.
    pub fn set_mh_type(&mut self, v: MhType) {
        wr8(self.buf.as_mut(), field::MH_TYPE, v.0);
    }
    /// Sets the checksum field.
    pub fn set_checksum(&mut self, v: u16) {
        wr16(self.buf.as_mut(), field::CHECKSUM, v);
    }
    /// Computes and stores the checksum for `src` (the home address when a
    /// Home Address option is present) and `dst`.
    pub fn fill_checksum(&mut self, src: &Ipv6Addr, dst: &Ipv6Addr) {
        //= https://www.rfc-editor.org/rfc/rfc6275#section-6.1.1
        //# For computing the checksum, the checksum field is set to zero.
        self.set_checksum(0);
        let c = checksum::compute(src, dst, 135, self.header_bytes());
        self.set_checksum(c);
    }
}

/// A parsed or to-be-emitted Mobility Header message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct MhRepr<'a> {
    /// Payload Proto. RFC 6275 §9.2 makes a receiver discard a message whose
    /// Payload Proto is not 59; `parse` reports the value and leaves that to the caller.
    pub payload_proto: u8,
    /// The message.
    pub message: Message<'a>,
    /// Its mobility options (none for experimental and unknown messages).
    pub options: Options<'a>,
}

impl<'a> MhRepr<'a> {
    /// A message with no options and Payload Proto 59.
    #[must_use]
    pub fn new(message: Message<'a>) -> Self {
        Self {
            payload_proto: 59,
            message,
            options: Options::List(&[]),
        }
    }

    /// Parses and verifies the checksum (`src` is the home address when the
    /// packet carries a Home Address option, RFC 6275 §6.1.1).
    ///
    /// # Errors
    /// [`Error::BadChecksum`], and any error of [`parse_unverified`](Self::parse_unverified).
    pub fn parse(p: &MhPacket<&'a [u8]>, src: &Ipv6Addr, dst: &Ipv6Addr) -> Result<Self> {
        let r = Self::parse_unverified(p)?;
        if !p.verify_checksum(src, dst) {
            return Err(Error::BadChecksum);
        }
        Ok(r)
    }

    /// Parses without looking at the checksum (for a bare Mobility Header).
    ///
    /// # Errors
    /// [`Error::Truncated`] (buffer shorter than Header Len), [`Error::BadLength`]
    /// (Header Len shorter than the message type's fixed part, a known option
    /// with a bad length), [`Error::Truncated`] for an option overrunning the message.
    pub fn parse_unverified(p: &MhPacket<&'a [u8]>) -> Result<Self> {
        p.check_len()?;
        let b: &'a [u8] = p.buf;
        let total = p.total_len();
        let hdr: &'a [u8] = b.get(..total).ok_or(Error::Truncated)?;
        let ty = p.mh_type();
        if let Some(off) = ty.options_offset()
            && total < off
        {
            //= https://www.rfc-editor.org/rfc/rfc6275#section-9.2
            //# The Header Len field in the Mobility Header MUST NOT be less than
            //# the length specified for this particular type of message in
            //# Section 6.1.
            return Err(Error::BadLength);
        }
        let message = match ty {
            MhType::BINDING_REFRESH_REQUEST => Message::BindingRefreshRequest,
            MhType::HOME_TEST_INIT => Message::HomeTestInit {
                cookie: rdn(hdr, 8),
            },
            MhType::CARE_OF_TEST_INIT => Message::CareOfTestInit {
                cookie: rdn(hdr, 8),
            },
            MhType::HOME_TEST => Message::HomeTest {
                nonce_index: rd16(hdr, 6),
                cookie: rdn(hdr, 8),
                token: rdn(hdr, 16),
            },
            MhType::CARE_OF_TEST => Message::CareOfTest {
                nonce_index: rd16(hdr, 6),
                cookie: rdn(hdr, 8),
                token: rdn(hdr, 16),
            },
            MhType::BINDING_UPDATE => Message::BindingUpdate {
                sequence: rd16(hdr, 6),
                flags: BuFlags(rd16(hdr, 8)),
                lifetime: rd16(hdr, 10),
            },
            MhType::BINDING_ACK => Message::BindingAck {
                status: BaStatus(rd8(hdr, 6)),
                flags: BaFlags(rd8(hdr, 7)),
                sequence: rd16(hdr, 8),
                lifetime: rd16(hdr, 10),
            },
            MhType::BINDING_ERROR => Message::BindingError {
                status: BeStatus(rd8(hdr, 6)),
                home_address: rdaddr(hdr, 8),
            },
            MhType::EXPERIMENTAL => Message::Experimental(hdr.get(field::DATA..).unwrap_or(&[])),
            MhType(t) => Message::Unknown {
                mh_type: t,
                data: hdr.get(field::DATA..).unwrap_or(&[]),
            },
        };
        let options = match ty.options_offset() {
            Some(off) => {
                let area: &'a [u8] = hdr.get(off..).unwrap_or(&[]);
                Options::validate(area)?;
                Options::Wire(area)
            }
            None => Options::List(&[]),
        };
        Ok(Self {
            payload_proto: p.payload_proto(),
            message,
            options,
        })
    }

    /// Octets [`emit`](Self::emit) writes (a multiple of 8).
    #[must_use]
    pub fn buffer_len(&self) -> usize {
        match self.message {
            Message::Experimental(d) | Message::Unknown { data: d, .. } => {
                d.len().saturating_add(field::DATA)
            }
            ref m => {
                let off = m.mh_type().options_offset().unwrap_or(8);
                off.saturating_add(self.options.emitted_len(off))
            }
        }
    }

    /// Emits the message with a zero checksum. Options are aligned and the
    /// message padded to a multiple of 8 octets.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] when `p` is shorter than [`buffer_len`](Self::buffer_len);
    /// [`Error::BadLength`] when the message is longer than 2048 octets, or the
    /// opaque data of an experimental/unknown message is not `8n + 2` octets;
    /// [`Error::BadValue`] for an unknown type holding a known number or an invalid option.
    pub fn emit_unchecksummed<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        p: &mut MhPacket<T>,
    ) -> Result<()> {
        let len = self.buffer_len();
        if !len.is_multiple_of(8) || len > 2048 {
            return Err(Error::BadLength);
        }
        let ty = self.message.mh_type();
        if matches!(self.message, Message::Unknown { .. }) && ty.name().is_some() {
            return Err(Error::BadValue);
        }
        let b = p.buf.as_mut().get_mut(..len).ok_or(Error::BufferTooSmall)?;
        zero(b, 0, len);
        wr8(b, field::PAYLOAD_PROTO, self.payload_proto);
        let units = u8::try_from((len / 8).saturating_sub(1)).map_err(|_| Error::BadLength)?;
        wr8(b, field::HDR_LEN, units);
        wr8(b, field::MH_TYPE, ty.0);
        match self.message {
            Message::BindingRefreshRequest => {}
            Message::HomeTestInit { cookie } | Message::CareOfTestInit { cookie } => {
                wr(b, 8, &cookie)
            }
            Message::HomeTest {
                nonce_index,
                cookie,
                token,
            }
            | Message::CareOfTest {
                nonce_index,
                cookie,
                token,
            } => {
                wr16(b, 6, nonce_index);
                wr(b, 8, &cookie);
                wr(b, 16, &token);
            }
            Message::BindingUpdate {
                sequence,
                flags,
                lifetime,
            } => {
                wr16(b, 6, sequence);
                wr16(b, 8, flags.0);
                wr16(b, 10, lifetime);
            }
            Message::BindingAck {
                status,
                flags,
                sequence,
                lifetime,
            } => {
                wr8(b, 6, status.0);
                wr8(b, 7, flags.0);
                wr16(b, 8, sequence);
                wr16(b, 10, lifetime);
            }
            Message::BindingError {
                status,
                home_address,
            } => {
                wr8(b, 6, status.0);
                wr(b, 8, &home_address.octets());
            }
            Message::Experimental(d) | Message::Unknown { data: d, .. } => wr(b, field::DATA, d),
        }
        if let Some(off) = ty.options_offset() {
            self.options.emit(b, off)?;
        }
        Ok(())
    }

    /// Emits the message and fills the checksum (`src` is the home address when
    /// the packet will carry a Home Address option).
    ///
    /// # Errors
    /// As [`emit_unchecksummed`](Self::emit_unchecksummed).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        p: &mut MhPacket<T>,
        src: &Ipv6Addr,
        dst: &Ipv6Addr,
    ) -> Result<()> {
        self.emit_unchecksummed(p)?;
        p.fill_checksum(src, dst);
        Ok(())
    }
}
