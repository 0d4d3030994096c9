//! Mobility options (RFC 6275 §6.2 and the RFCs that extend it).
//!
//! Options follow the fixed part of each message as type-length-value
//! triples. [`RawOptions`] walks them one by one, padding included;
//! [`OptionsIter`] skips Pad1/PadN and decodes each option into a
//! [`MobilityOption`]. Neither allocates.
//!
//! Alignment: `emit` places every option at its `xn+y` alignment (RFC 6275
//! §6.2, RFC 3963 §4.3, RFC 4285 §5-6, RFC 5555 §3, RFC 5648 §4.3) with Pad1
//! or PadN, and pads the message to a multiple of 8 octets. `parse` does not
//! demand alignment: the RFC states the sender's rule, not a receiver check.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{Error, Result, rd8, rd16, rd32, rd64, rdaddr, rdn, wr, wr8, wr16, wr32, zero};

/// Mobility option type (IANA "Mobility Options" registry). Unknown values are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct OptionType(pub u8);

impl OptionType {
    /// Pad1 (RFC 6275 §6.2.2).
    pub const PAD1: Self = Self(0);
    /// PadN (RFC 6275 §6.2.3).
    pub const PADN: Self = Self(1);
    /// Binding Refresh Advice (RFC 6275 §6.2.4).
    pub const BINDING_REFRESH_ADVICE: Self = Self(2);
    /// Alternate Care-of Address (RFC 6275 §6.2.5).
    pub const ALTERNATE_CARE_OF_ADDRESS: Self = Self(3);
    /// Nonce Indices (RFC 6275 §6.2.6).
    pub const NONCE_INDICES: Self = Self(4);
    /// Binding Authorization Data (RFC 6275 §6.2.7).
    pub const BINDING_AUTHORIZATION_DATA: Self = Self(5);
    /// Mobile Network Prefix (RFC 3963 §4.3).
    pub const MOBILE_NETWORK_PREFIX: Self = Self(6);
    /// Mobility Header Link-Layer Address (RFC 5568 §6.5.2).
    pub const LINK_LAYER_ADDRESS: Self = Self(7);
    /// Mobile Node Identifier (RFC 4283 §3).
    pub const MOBILE_NODE_IDENTIFIER: Self = Self(8);
    /// Mobility Message Authentication (RFC 4285 §5).
    pub const MOBILITY_MESSAGE_AUTHENTICATION: Self = Self(9);
    /// Mobility Message Replay Protection (RFC 4285 §6).
    pub const REPLAY_PROTECTION: Self = Self(10);
    /// CGA Parameters Request (RFC 4866 §5.6).
    pub const CGA_PARAMETERS_REQUEST: Self = Self(11);
    /// CGA Parameters (RFC 4866 §5.6).
    pub const CGA_PARAMETERS: Self = Self(12);
    /// Signature (RFC 4866 §5.6).
    pub const SIGNATURE: Self = Self(13);
    /// Permanent Home Keygen Token (RFC 4866 §5.6).
    pub const PERMANENT_HOME_KEYGEN_TOKEN: Self = Self(14);
    /// Care-of Test Init (RFC 4866 §5.6).
    pub const CARE_OF_TEST_INIT: Self = Self(15);
    /// Care-of Test (RFC 4866 §5.6).
    pub const CARE_OF_TEST: Self = Self(16);
    /// Experimental Mobility Option (RFC 5096 §3; option 11 is RFC 4866's CGA Parameters Request).
    pub const EXPERIMENTAL: Self = Self(18);
    /// IPv4 Home Address (RFC 5555 §3.1.1).
    pub const IPV4_HOME_ADDRESS: Self = Self(29);
    /// IPv4 Address Acknowledgement (RFC 5555 §3.2.1; §8 of the RFC misprints it as 29, IANA assigned 30).
    pub const IPV4_ADDRESS_ACK: Self = Self(30);
    /// NAT Detection (RFC 5555 §3.2.2).
    pub const NAT_DETECTION: Self = Self(31);
    /// IPv4 Care-of Address (RFC 5555 §3.1.2).
    pub const IPV4_CARE_OF_ADDRESS: Self = Self(32);
    /// Binding Identifier (RFC 5648 §4.3).
    pub const BINDING_IDENTIFIER: Self = Self(35);

    /// The snake_case name used by the decoder, or `None` for an unassigned value.
    #[must_use]
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "pad1",
            1 => "padn",
            2 => "binding_refresh_advice",
            3 => "alternate_care_of_address",
            4 => "nonce_indices",
            5 => "binding_authorization_data",
            6 => "mobile_network_prefix",
            7 => "mh_link_layer_address",
            8 => "mobile_node_identifier",
            9 => "mobility_message_authentication",
            10 => "replay_protection",
            11 => "cga_parameters_request",
            12 => "cga_parameters",
            13 => "signature",
            14 => "permanent_home_keygen_token",
            15 => "care_of_test_init",
            16 => "care_of_test",
            18 => "experimental",
            29 => "ipv4_home_address",
            30 => "ipv4_address_acknowledgement",
            31 => "nat_detection",
            32 => "ipv4_care_of_address",
            35 => "binding_identifier",
            _ => return None,
        })
    }
}

/// Subtype of the Mobile Node Identifier option (RFC 4283 §3): 1 = NAI.
pub const MNID_SUBTYPE_NAI: u8 = 1;

/// One mobility option other than Pad1/PadN, borrowing variable parts from the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[non_exhaustive]
pub enum MobilityOption<'a> {
    /// Binding Refresh Advice: refresh interval in units of 4 seconds.
    BindingRefreshAdvice {
        /// Refresh interval, 4-second units.
        refresh_interval: u16,
    },
    /// Alternate Care-of Address.
    AlternateCareOfAddress(Ipv6Addr),
    /// Nonce Indices.
    NonceIndices {
        /// Home nonce index.
        home: u16,
        /// Care-of nonce index.
        care_of: u16,
    },
    /// Binding Authorization Data: the authenticator (96 bits for return routability).
    BindingAuthorizationData(&'a [u8]),
    /// Mobile Network Prefix (RFC 3963).
    MobileNetworkPrefix {
        /// Prefix length in bits.
        prefix_len: u8,
        /// The prefix.
        prefix: Ipv6Addr,
    },
    /// Link-layer address (RFC 5568): option code and address octets.
    LinkLayerAddress {
        /// Option-Code.
        option_code: u8,
        /// The link-layer address.
        lla: &'a [u8],
    },
    /// Mobile Node Identifier (RFC 4283): subtype (1 = NAI) and identifier.
    MobileNodeIdentifier {
        /// Subtype.
        subtype: u8,
        /// Identifier octets (an NAI for subtype 1).
        identifier: &'a [u8],
    },
    /// Mobility Message Authentication (RFC 4285).
    MobilityMessageAuthentication {
        /// Subtype (1 = MN-HA, 2 = MN-AAA).
        subtype: u8,
        /// Mobility SPI.
        spi: u32,
        /// Authentication data.
        data: &'a [u8],
    },
    /// Mobility Message Replay Protection (RFC 4285): 64-bit timestamp.
    ReplayProtection {
        /// Timestamp (NTP format, RFC 4285 §6).
        timestamp: u64,
    },
    /// CGA Parameters Request (RFC 4866), no data.
    CgaParametersRequest,
    /// CGA Parameters (RFC 4866).
    CgaParameters(&'a [u8]),
    /// Signature (RFC 4866).
    Signature(&'a [u8]),
    /// Permanent Home Keygen Token (RFC 4866).
    PermanentHomeKeygenToken([u8; 8]),
    /// Care-of Test Init option (RFC 4866), no data.
    CareOfTestInit,
    /// Care-of Test option (RFC 4866): care-of keygen token.
    CareOfTest([u8; 8]),
    /// Experimental Mobility Option (RFC 5096): opaque data.
    Experimental(&'a [u8]),
    /// IPv4 Home Address (RFC 5555).
    Ipv4HomeAddress {
        /// Prefix length (6 bits, 0-63).
        prefix_len: u8,
        /// P flag: a mobile network prefix is requested.
        p: bool,
        /// The IPv4 home address.
        address: Ipv4Addr,
    },
    /// IPv4 Address Acknowledgement (RFC 5555).
    Ipv4AddressAck {
        /// Status (0-127 success).
        status: u8,
        /// Prefix length (6 bits, 0-63).
        prefix_len: u8,
        /// The IPv4 home address.
        address: Ipv4Addr,
    },
    /// NAT Detection (RFC 5555).
    NatDetection {
        /// F flag: UDP encapsulation required.
        f: bool,
        /// Suggested NAT binding refresh time, seconds.
        refresh_time: u32,
    },
    /// IPv4 Care-of Address (RFC 5555).
    Ipv4CareOfAddress(Ipv4Addr),
    /// Binding Identifier (RFC 5648).
    BindingIdentifier {
        /// Binding ID.
        bid: u16,
        /// Status (meaningful in a BA or CoT).
        status: u8,
        /// H flag: simultaneous home and foreign binding.
        h: bool,
        /// Optional IPv4 or IPv6 care-of address.
        care_of: Option<IpAddr>,
    },
    /// An option this crate does not know; skipped by protocol logic (RFC 6275 §6.2.1).
    Unknown {
        /// Its type.
        option_type: u8,
        /// Its data.
        data: &'a [u8],
    },
}

/// A raw option as found on the wire, padding included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawOption<'a> {
    /// Offset of the type octet from the start of the options area.
    pub offset: usize,
    /// Option type.
    pub option_type: OptionType,
    /// Option data (`None` for Pad1, which has no length octet).
    pub data: Option<&'a [u8]>,
}

/// Walks the options area octet by octet: Pad1, PadN and every other TLV.
/// Yields `Err(Truncated)` once if an option overruns the area, then stops.
#[derive(Debug, Clone)]
pub struct RawOptions<'a> {
    buf: &'a [u8],
    pos: usize,
    done: bool,
}

impl<'a> RawOptions<'a> {
    /// Iterates over the options area `buf`.
    #[must_use]
    pub fn new(buf: &'a [u8]) -> Self {
        Self {
            buf,
            pos: 0,
            done: false,
        }
    }
}

impl<'a> Iterator for RawOptions<'a> {
    type Item = Result<RawOption<'a>>;
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let rest = self.buf.get(self.pos..)?;
        let (&ty, after) = rest.split_first()?;
        let offset = self.pos;
        if ty == 0 {
            self.pos = self.pos.saturating_add(1);
            return Some(Ok(RawOption {
                offset,
                option_type: OptionType::PAD1,
                data: None,
            }));
        }
        let Some((&len, body)) = after.split_first() else {
            self.done = true;
            return Some(Err(Error::Truncated));
        };
        let Some(data) = body.get(..usize::from(len)) else {
            self.done = true;
            return Some(Err(Error::Truncated));
        };
        self.pos = self.pos.saturating_add(2).saturating_add(usize::from(len));
        Some(Ok(RawOption {
            offset,
            option_type: OptionType(ty),
            data: Some(data),
        }))
    }
}

fn want(data: &[u8], len: usize) -> Result<()> {
    if data.len() == len {
        Ok(())
    } else {
        Err(Error::BadLength)
    }
}

impl<'a> MobilityOption<'a> {
    /// Decodes the data of one option of type `ty` (not Pad1/PadN).
    ///
    /// # Errors
    /// [`Error::BadLength`] when the length does not match the option's format.
    #[inline]
    pub fn parse(ty: OptionType, d: &'a [u8]) -> Result<Self> {
        Ok(match ty {
            OptionType::BINDING_REFRESH_ADVICE => {
                want(d, 2)?;
                Self::BindingRefreshAdvice {
                    refresh_interval: rd16(d, 0),
                }
            }
            OptionType::ALTERNATE_CARE_OF_ADDRESS => {
                want(d, 16)?;
                Self::AlternateCareOfAddress(rdaddr(d, 0))
            }
            OptionType::NONCE_INDICES => {
                want(d, 4)?;
                Self::NonceIndices {
                    home: rd16(d, 0),
                    care_of: rd16(d, 2),
                }
            }
            OptionType::BINDING_AUTHORIZATION_DATA => Self::BindingAuthorizationData(d),
            OptionType::MOBILE_NETWORK_PREFIX => {
                want(d, 18)?;
                Self::MobileNetworkPrefix {
                    prefix_len: rd8(d, 1),
                    prefix: rdaddr(d, 2),
                }
            }
            OptionType::LINK_LAYER_ADDRESS => {
                let (&option_code, lla) = d.split_first().ok_or(Error::BadLength)?;
                Self::LinkLayerAddress { option_code, lla }
            }
            OptionType::MOBILE_NODE_IDENTIFIER => {
                let (&subtype, identifier) = d.split_first().ok_or(Error::BadLength)?;
                Self::MobileNodeIdentifier {
                    subtype,
                    identifier,
                }
            }
            OptionType::MOBILITY_MESSAGE_AUTHENTICATION => {
                let data = d.get(5..).ok_or(Error::BadLength)?;
                Self::MobilityMessageAuthentication {
                    subtype: rd8(d, 0),
                    spi: rd32(d, 1),
                    data,
                }
            }
            OptionType::REPLAY_PROTECTION => {
                want(d, 8)?;
                Self::ReplayProtection {
                    timestamp: rd64(d, 0),
                }
            }
            OptionType::CGA_PARAMETERS_REQUEST => {
                want(d, 0)?;
                Self::CgaParametersRequest
            }
            OptionType::CGA_PARAMETERS => Self::CgaParameters(d),
            OptionType::SIGNATURE => Self::Signature(d),
            OptionType::PERMANENT_HOME_KEYGEN_TOKEN => {
                want(d, 8)?;
                Self::PermanentHomeKeygenToken(rdn(d, 0))
            }
            OptionType::CARE_OF_TEST_INIT => {
                want(d, 0)?;
                Self::CareOfTestInit
            }
            OptionType::CARE_OF_TEST => {
                want(d, 8)?;
                Self::CareOfTest(rdn(d, 0))
            }
            OptionType::EXPERIMENTAL => Self::Experimental(d),
            OptionType::IPV4_HOME_ADDRESS => {
                want(d, 6)?;
                Self::Ipv4HomeAddress {
                    prefix_len: rd8(d, 0) >> 2,
                    p: rd8(d, 0) & 0x02 != 0,
                    address: Ipv4Addr::from(rdn::<4>(d, 2)),
                }
            }
            OptionType::IPV4_ADDRESS_ACK => {
                want(d, 6)?;
                Self::Ipv4AddressAck {
                    status: rd8(d, 0),
                    prefix_len: rd8(d, 1) >> 2,
                    address: Ipv4Addr::from(rdn::<4>(d, 2)),
                }
            }
            OptionType::NAT_DETECTION => {
                want(d, 6)?;
                Self::NatDetection {
                    f: rd8(d, 0) & 0x80 != 0,
                    refresh_time: rd32(d, 2),
                }
            }
            OptionType::IPV4_CARE_OF_ADDRESS => {
                want(d, 6)?;
                Self::Ipv4CareOfAddress(Ipv4Addr::from(rdn::<4>(d, 2)))
            }
            OptionType::BINDING_IDENTIFIER => {
                let care_of = match d.len() {
                    4 => None,
                    8 => Some(IpAddr::V4(Ipv4Addr::from(rdn::<4>(d, 4)))),
                    20 => Some(IpAddr::V6(rdaddr(d, 4))),
                    _ => return Err(Error::BadLength),
                };
                Self::BindingIdentifier {
                    bid: rd16(d, 0),
                    status: rd8(d, 2),
                    h: rd8(d, 3) & 0x80 != 0,
                    care_of,
                }
            }
            OptionType::PAD1 | OptionType::PADN => return Err(Error::BadValue),
            //= https://www.rfc-editor.org/rfc/rfc6275#section-6.2.1
            //# When processing a Mobility Header containing an option for which the Option Type
            //# value is not recognized by the receiver, the receiver MUST quietly
            //# ignore and skip over the option, correctly handling any remaining
            //# options in the message.
            OptionType(option_type) => Self::Unknown {
                option_type,
                data: d,
            },
        })
    }

    /// The option's type.
    #[must_use]
    pub fn option_type(&self) -> OptionType {
        match self {
            Self::BindingRefreshAdvice { .. } => OptionType::BINDING_REFRESH_ADVICE,
            Self::AlternateCareOfAddress(_) => OptionType::ALTERNATE_CARE_OF_ADDRESS,
            Self::NonceIndices { .. } => OptionType::NONCE_INDICES,
            Self::BindingAuthorizationData(_) => OptionType::BINDING_AUTHORIZATION_DATA,
            Self::MobileNetworkPrefix { .. } => OptionType::MOBILE_NETWORK_PREFIX,
            Self::LinkLayerAddress { .. } => OptionType::LINK_LAYER_ADDRESS,
            Self::MobileNodeIdentifier { .. } => OptionType::MOBILE_NODE_IDENTIFIER,
            Self::MobilityMessageAuthentication { .. } => {
                OptionType::MOBILITY_MESSAGE_AUTHENTICATION
            }
            Self::ReplayProtection { .. } => OptionType::REPLAY_PROTECTION,
            Self::CgaParametersRequest => OptionType::CGA_PARAMETERS_REQUEST,
            Self::CgaParameters(_) => OptionType::CGA_PARAMETERS,
            Self::Signature(_) => OptionType::SIGNATURE,
            Self::PermanentHomeKeygenToken(_) => OptionType::PERMANENT_HOME_KEYGEN_TOKEN,
            Self::CareOfTestInit => OptionType::CARE_OF_TEST_INIT,
            Self::CareOfTest(_) => OptionType::CARE_OF_TEST,
            Self::Experimental(_) => OptionType::EXPERIMENTAL,
            Self::Ipv4HomeAddress { .. } => OptionType::IPV4_HOME_ADDRESS,
            Self::Ipv4AddressAck { .. } => OptionType::IPV4_ADDRESS_ACK,
            Self::NatDetection { .. } => OptionType::NAT_DETECTION,
            Self::Ipv4CareOfAddress(_) => OptionType::IPV4_CARE_OF_ADDRESS,
            Self::BindingIdentifier { .. } => OptionType::BINDING_IDENTIFIER,
            Self::Unknown { option_type, .. } => OptionType(*option_type),
        }
    }

    /// Length of the option data (without type and length octets).
    #[must_use]
    pub fn data_len(&self) -> usize {
        match self {
            Self::BindingRefreshAdvice { .. } => 2,
            Self::AlternateCareOfAddress(_) => 16,
            Self::NonceIndices { .. } => 4,
            Self::MobileNetworkPrefix { .. } => 18,
            Self::ReplayProtection { .. }
            | Self::PermanentHomeKeygenToken(_)
            | Self::CareOfTest(_) => 8,
            Self::CgaParametersRequest | Self::CareOfTestInit => 0,
            Self::Ipv4HomeAddress { .. }
            | Self::Ipv4AddressAck { .. }
            | Self::NatDetection { .. }
            | Self::Ipv4CareOfAddress(_) => 6,
            Self::BindingIdentifier { care_of, .. } => match care_of {
                None => 4,
                Some(IpAddr::V4(_)) => 8,
                Some(IpAddr::V6(_)) => 20,
            },
            Self::BindingAuthorizationData(d)
            | Self::CgaParameters(d)
            | Self::Signature(d)
            | Self::Experimental(d)
            | Self::Unknown { data: d, .. } => d.len(),
            Self::LinkLayerAddress { lla: d, .. }
            | Self::MobileNodeIdentifier { identifier: d, .. } => d.len().saturating_add(1),
            Self::MobilityMessageAuthentication { data, .. } => data.len().saturating_add(5),
        }
    }

    /// Octets on the wire: type, length and data.
    #[must_use]
    pub fn buffer_len(&self) -> usize {
        self.data_len().saturating_add(2)
    }

    /// Alignment requirement `(x, y)`: the type octet goes at offset `x*n + y`
    /// from the start of the Mobility Header.
    #[must_use]
    pub fn alignment(&self) -> (usize, usize) {
        match self {
            Self::BindingRefreshAdvice { .. } | Self::NonceIndices { .. } => (2, 0),
            Self::AlternateCareOfAddress(_) => (8, 6),
            Self::BindingAuthorizationData(_) | Self::ReplayProtection { .. } => (8, 2),
            Self::MobileNetworkPrefix { .. } => (8, 4),
            Self::MobileNodeIdentifier { .. } => (2, 0),
            Self::MobilityMessageAuthentication { .. } => (4, 1),
            Self::Ipv4HomeAddress { .. }
            | Self::Ipv4AddressAck { .. }
            | Self::NatDetection { .. }
            | Self::Ipv4CareOfAddress(_) => (4, 0),
            Self::BindingIdentifier { care_of, .. } => {
                if care_of.is_some() {
                    (8, 2)
                } else {
                    (2, 0)
                }
            }
            _ => (1, 0),
        }
    }

    /// Checks that the option can be emitted and parses back to itself.
    ///
    /// # Errors
    /// [`Error::BadLength`] when the data exceeds 255 octets, [`Error::BadValue`]
    /// for a field out of range or an `Unknown` option holding a known type.
    pub fn check(&self) -> Result<()> {
        if self.data_len() > 255 {
            return Err(Error::BadLength);
        }
        match self {
            Self::Ipv4HomeAddress { prefix_len, .. } | Self::Ipv4AddressAck { prefix_len, .. }
                if *prefix_len > 63 =>
            {
                Err(Error::BadValue)
            }
            Self::Unknown { option_type, .. } if OptionType(*option_type).name().is_some() => {
                Err(Error::BadValue)
            }
            _ => Ok(()),
        }
    }

    /// Writes type, length and data into `buf` (at least [`buffer_len`](Self::buffer_len) long).
    ///
    /// # Errors
    /// As [`check`](Self::check), and [`Error::BufferTooSmall`].
    pub fn emit(&self, buf: &mut [u8]) -> Result<()> {
        self.check()?;
        let len = self.data_len();
        if buf.len() < len.saturating_add(2) {
            return Err(Error::BufferTooSmall);
        }
        wr8(buf, 0, self.option_type().0);
        wr8(buf, 1, u8::try_from(len).map_err(|_| Error::BadLength)?);
        zero(buf, 2, len);
        let d = buf.get_mut(2..).ok_or(Error::BufferTooSmall)?;
        match *self {
            Self::BindingRefreshAdvice { refresh_interval } => wr16(d, 0, refresh_interval),
            Self::AlternateCareOfAddress(a) => wr(d, 0, &a.octets()),
            Self::NonceIndices { home, care_of } => {
                wr16(d, 0, home);
                wr16(d, 2, care_of);
            }
            Self::MobileNetworkPrefix { prefix_len, prefix } => {
                wr8(d, 1, prefix_len);
                wr(d, 2, &prefix.octets());
            }
            Self::LinkLayerAddress {
                option_code: c,
                lla: s,
            }
            | Self::MobileNodeIdentifier {
                subtype: c,
                identifier: s,
            } => {
                wr8(d, 0, c);
                wr(d, 1, s);
            }
            Self::MobilityMessageAuthentication { subtype, spi, data } => {
                wr8(d, 0, subtype);
                wr32(d, 1, spi);
                wr(d, 5, data);
            }
            Self::ReplayProtection { timestamp } => wr(d, 0, &timestamp.to_be_bytes()),
            Self::CgaParametersRequest | Self::CareOfTestInit => {}
            Self::PermanentHomeKeygenToken(t) | Self::CareOfTest(t) => wr(d, 0, &t),
            Self::BindingAuthorizationData(s)
            | Self::CgaParameters(s)
            | Self::Signature(s)
            | Self::Experimental(s)
            | Self::Unknown { data: s, .. } => wr(d, 0, s),
            Self::Ipv4HomeAddress {
                prefix_len,
                p,
                address,
            } => {
                wr8(d, 0, (prefix_len << 2) | if p { 0x02 } else { 0 });
                wr(d, 2, &address.octets());
            }
            Self::Ipv4AddressAck {
                status,
                prefix_len,
                address,
            } => {
                wr8(d, 0, status);
                wr8(d, 1, prefix_len << 2);
                wr(d, 2, &address.octets());
            }
            Self::NatDetection { f, refresh_time } => {
                wr8(d, 0, if f { 0x80 } else { 0 });
                wr32(d, 2, refresh_time);
            }
            Self::Ipv4CareOfAddress(a) => wr(d, 2, &a.octets()),
            Self::BindingIdentifier {
                bid,
                status,
                h,
                care_of,
            } => {
                wr16(d, 0, bid);
                wr8(d, 2, status);
                wr8(d, 3, if h { 0x80 } else { 0 });
                match care_of {
                    None => {}
                    Some(IpAddr::V4(a)) => wr(d, 4, &a.octets()),
                    Some(IpAddr::V6(a)) => wr(d, 4, &a.octets()),
                }
            }
        }
        Ok(())
    }
}

/// Number of padding octets needed at `offset` for alignment `(x, y)`.
#[must_use]
pub fn pad_for(offset: usize, (x, y): (usize, usize)) -> usize {
    if x <= 1 {
        return 0;
    }
    let cur = offset.checked_rem(x).unwrap_or(0);
    let want = y.checked_rem(x).unwrap_or(0);
    want.wrapping_sub(cur)
        .wrapping_add(x)
        .checked_rem(x)
        .unwrap_or(0)
}

/// Writes `n` octets of padding (Pad1 for one octet, PadN otherwise) at `at`.
pub(crate) fn write_pad(buf: &mut [u8], at: usize, n: usize) {
    match n {
        0 => {}
        1 => wr8(buf, at, 0),
        _ => {
            wr8(buf, at, 1);
            wr8(
                buf,
                at.saturating_add(1),
                u8::try_from(n.saturating_sub(2)).unwrap_or(0),
            );
            zero(buf, at.saturating_add(2), n.saturating_sub(2));
        }
    }
}

/// The options of a message: either the raw wire area of a parsed message
/// (iterated lazily) or a list supplied for emission.
#[derive(Debug, Clone)]
pub enum Options<'a> {
    /// The options area of a parsed message, validated by the parser.
    Wire(&'a [u8]),
    /// A borrowed list.
    List(&'a [MobilityOption<'a>]),
    /// An owned list (allocates when built, never when parsing).
    Owned(alloc::vec::Vec<MobilityOption<'a>>),
}

impl Default for Options<'_> {
    fn default() -> Self {
        Self::List(&[])
    }
}

impl<'a> Options<'a> {
    /// No options.
    pub const EMPTY: Options<'static> = Options::List(&[]);

    /// Iterates over the options, Pad1/PadN skipped.
    #[must_use]
    #[inline]
    pub fn iter(&self) -> OptionsIter<'_, 'a> {
        match self {
            Self::Wire(b) => OptionsIter::Wire(RawOptions::new(b)),
            Self::List(l) => OptionsIter::List(l.iter()),
            Self::Owned(v) => OptionsIter::List(v.iter()),
        }
    }

    /// Validates a wire area: no option overruns it and every known option has a valid length.
    ///
    /// # Errors
    /// [`Error::Truncated`] for an overrun, [`Error::BadLength`] for a bad option length.
    #[inline]
    pub fn validate(area: &[u8]) -> Result<()> {
        for raw in RawOptions::new(area) {
            let raw = raw?;
            if let Some(d) = raw.data
                && raw.option_type != OptionType::PADN
            {
                MobilityOption::parse(raw.option_type, d)?;
            }
        }
        Ok(())
    }

    /// Number of octets the options take when emitted from `start` (offset of
    /// the first option from the start of the Mobility Header), including the
    /// final padding to a multiple of 8 octets.
    #[must_use]
    pub fn emitted_len(&self, start: usize) -> usize {
        let mut off = start;
        for o in self.iter().flatten() {
            off = off
                .saturating_add(pad_for(off, o.alignment()))
                .saturating_add(o.buffer_len());
        }
        off = off.saturating_add(pad_for(off, (8, 0)));
        off.saturating_sub(start)
    }

    /// Emits the options at offset `start` of `mh` (the whole Mobility Header buffer).
    ///
    /// # Errors
    /// Any error of [`MobilityOption::emit`]; [`Error::BufferTooSmall`].
    pub fn emit(&self, mh: &mut [u8], start: usize) -> Result<usize> {
        let mut off = start;
        for o in self.iter() {
            let o = o?;
            let pad = pad_for(off, o.alignment());
            write_pad(mh, off, pad);
            off = off.saturating_add(pad);
            o.emit(mh.get_mut(off..).ok_or(Error::BufferTooSmall)?)?;
            off = off.saturating_add(o.buffer_len());
        }
        let pad = pad_for(off, (8, 0));
        if mh.len() < off.saturating_add(pad) {
            return Err(Error::BufferTooSmall);
        }
        write_pad(mh, off, pad);
        Ok(off.saturating_add(pad).saturating_sub(start))
    }

    /// The first option of the given type, if any.
    #[must_use]
    pub fn find(&self, ty: OptionType) -> Option<MobilityOption<'a>> {
        self.iter().flatten().find(|o| o.option_type() == ty)
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

/// Iterator over [`Options`]: yields each non-padding option.
#[derive(Debug, Clone)]
pub enum OptionsIter<'o, 'a> {
    /// Over a wire area.
    Wire(RawOptions<'a>),
    /// Over a list.
    List(core::slice::Iter<'o, MobilityOption<'a>>),
}

impl<'a> Iterator for OptionsIter<'_, 'a> {
    type Item = Result<MobilityOption<'a>>;
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Self::List(it) => it.next().map(|o| Ok(*o)),
            Self::Wire(raw) => loop {
                match raw.next()? {
                    Err(e) => return Some(Err(e)),
                    Ok(RawOption { data: None, .. }) => continue,
                    Ok(RawOption {
                        option_type: OptionType::PADN,
                        ..
                    }) => continue,
                    Ok(RawOption {
                        option_type,
                        data: Some(d),
                        ..
                    }) => return Some(MobilityOption::parse(option_type, d)),
                }
            },
        }
    }
}
