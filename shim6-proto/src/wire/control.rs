//! Shim6 control messages (RFC 5533 §5.3-5.14, RFC 5534 §5.1-5.2).
//!
//! Fixed part of each message after the 4 common octets
//! (`Next Header | Hdr Ext Len | 0 + Type | Type-specific + S`) and the
//! Checksum (octets 4-5); `R|tag` is a reserved bit and a 47-bit context tag:
//!
//! | type | message | octets 6.. | options at |
//! |---|---|---|---|
//! | 1 | I1 | R\|Initiator Context Tag, Initiator Nonce | 16 |
//! | 2 | R1 | Reserved2 (16), Initiator Nonce, Responder Nonce | 16 |
//! | 3 | I2 | R\|Initiator Context Tag, Initiator Nonce, Responder Nonce, Reserved2 (32) | 24 |
//! | 4 | R2 | R\|Responder Context Tag, Initiator Nonce | 16 |
//! | 5 | R1bis | R\|Packet Context Tag, Responder Nonce | 16 |
//! | 6 | I2bis | R\|Initiator Context Tag, Initiator Nonce, Responder Nonce, Reserved2 (49), Packet Context Tag | 32 |
//! | 64 | Update Request | R\|Receiver Context Tag, Request Nonce | 16 |
//! | 65 | Update Acknowledgement | R\|Receiver Context Tag, Request Nonce | 16 |
//! | 66 | Keepalive | R\|Receiver Context Tag, Reserved2 (32) | 16 |
//! | 67 | Probe | R\|Receiver Context Tag, Precvd, Psent, Sta, Reserved2 (22), reports | 16 + 40 per report |
//! | 68 | Error | Pointer (16), Packet in error | — |
//!
//! Reserved fields are written as zero and ignored on receipt. The checksum
//! covers the whole Shim6 header (Hdr Ext Len), never what follows it.
//!
//! Unknown message types (RFC 5533 §5.3, §12.3): after the checksum is
//! verified, a type this crate does not know parses to [`Message::Unknown`],
//! so that the receiver can send a Shim6 Error message with Error Code 0
//! and the Pointer at the Type octet ([`Message::UNKNOWN_TYPE_POINTER`]).
//! [`MessageType::triggers_r1bis`] tells which types (64-127) may refer to
//! a context that the receiver lost.

use super::header::{MAX_HEADER_LEN, Shim6Packet};
use super::options::Options;
use super::reap::{ProbeReport, ProbeReports, ReapState};
use super::{
    ContextTag, Error, Result, align8, checksum, checksum_ok, rd8, rd16, rd32, rdtag, wr, wr8,
    wr16, wr32, wrtag,
};

/// A control message type: 7 bits (RFC 5533 §5.3, Table 1). Open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageType(pub u8);

impl MessageType {
    /// I1: first establishment message from the initiator.
    pub const I1: Self = Self(1);
    /// R1: first establishment message from the responder.
    pub const R1: Self = Self(2);
    /// I2: second establishment message from the initiator.
    pub const I2: Self = Self(3);
    /// R2: second establishment message from the responder.
    pub const R2: Self = Self(4);
    /// R1bis: reply to a reference to a non-existent context.
    pub const R1BIS: Self = Self(5);
    /// I2bis: reply to an R1bis.
    pub const I2BIS: Self = Self(6);
    /// Update Request.
    pub const UPDATE_REQUEST: Self = Self(64);
    /// Update Acknowledgement.
    pub const UPDATE_ACK: Self = Self(65);
    /// REAP Keepalive (RFC 5534 §5.1).
    pub const KEEPALIVE: Self = Self(66);
    /// REAP Probe (RFC 5534 §5.2).
    pub const PROBE: Self = Self(67);
    /// Error message (RFC 5533 §5.14).
    pub const ERROR: Self = Self(68);

    /// The name used by `mobsim decode`, if known.
    #[must_use]
    pub const fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            1 => "I1",
            2 => "R1",
            3 => "I2",
            4 => "R2",
            5 => "R1bis",
            6 => "I2bis",
            64 => "UpdateRequest",
            65 => "UpdateAck",
            66 => "Keepalive",
            67 => "Probe",
            68 => "Error",
            _ => return None,
        })
    }

    /// Whether this crate knows the type.
    #[must_use]
    pub const fn is_known(self) -> bool {
        self.name().is_some()
    }

    /// Type codes 64-127 trigger an R1bis when the receiver has no context
    /// for them; codes 0-63 never do (RFC 5533 §5.3).
    #[must_use]
    pub const fn triggers_r1bis(self) -> bool {
        self.0 & 0x7f >= 64
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for MessageType {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(Self(u8::arbitrary(u)? & 0x7f))
    }
}

/// The Error Code of a Shim6 Error message (7 bits, RFC 5533 §5.14, Table 2). Open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ErrorCode(pub u8);

impl ErrorCode {
    /// Unknown Shim6 message type.
    pub const UNKNOWN_MESSAGE_TYPE: Self = Self(0);
    /// Critical option not recognized.
    pub const CRITICAL_OPTION: Self = Self(1);
    /// Locator verification method failed.
    pub const VERIFICATION_FAILED: Self = Self(2);
    /// Locator List Generation number out of sync.
    pub const GENERATION_OUT_OF_SYNC: Self = Self(3);
    /// Error in the number of locators in a Locator Preference option.
    pub const LOCATOR_COUNT: Self = Self(4);
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for ErrorCode {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(Self(u8::arbitrary(u)? & 0x7f))
    }
}

/// The type-specific fields of a control message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Message<'a> {
    /// I1 (§5.4).
    I1 {
        /// Initiator Context Tag.
        context_tag: ContextTag,
        /// Initiator Nonce.
        initiator_nonce: u32,
    },
    /// R1 (§5.5).
    R1 {
        /// Initiator Nonce, copied from the I1.
        initiator_nonce: u32,
        /// Responder Nonce.
        responder_nonce: u32,
    },
    /// I2 (§5.6).
    I2 {
        /// Initiator Context Tag.
        context_tag: ContextTag,
        /// Initiator Nonce.
        initiator_nonce: u32,
        /// Responder Nonce, copied from the R1.
        responder_nonce: u32,
    },
    /// R2 (§5.7).
    R2 {
        /// Responder Context Tag.
        context_tag: ContextTag,
        /// Initiator Nonce, copied from the I2.
        initiator_nonce: u32,
    },
    /// R1bis (§5.8).
    R1bis {
        /// The context tag of the packet that triggered the R1bis.
        packet_context_tag: ContextTag,
        /// Responder Nonce.
        responder_nonce: u32,
    },
    /// I2bis (§5.9).
    I2bis {
        /// Initiator Context Tag.
        context_tag: ContextTag,
        /// Initiator Nonce.
        initiator_nonce: u32,
        /// Responder Nonce, copied from the R1bis.
        responder_nonce: u32,
        /// Packet Context Tag, copied from the R1bis.
        packet_context_tag: ContextTag,
    },
    /// Update Request (§5.10).
    UpdateRequest {
        /// Receiver Context Tag.
        context_tag: ContextTag,
        /// Request Nonce.
        request_nonce: u32,
    },
    /// Update Acknowledgement (§5.11).
    UpdateAck {
        /// Receiver Context Tag.
        context_tag: ContextTag,
        /// Request Nonce, copied from the Update Request.
        request_nonce: u32,
    },
    /// REAP Keepalive (RFC 5534 §5.1).
    Keepalive {
        /// Receiver Context Tag.
        context_tag: ContextTag,
    },
    /// REAP Probe (RFC 5534 §5.2).
    Probe {
        /// Receiver Context Tag.
        context_tag: ContextTag,
        /// Sta: the sender's REAP state.
        state: ReapState,
        /// Probes sent (Psent, at most 15; the first is this probe).
        sent: ProbeReports<'a>,
        /// Probes received (Precvd, at most 15).
        received: ProbeReports<'a>,
    },
    /// Error message (§5.14). Carries no options.
    Error {
        /// Error Code (7 bits).
        code: ErrorCode,
        /// Octet offset in the invoking packet where the error was detected.
        pointer: u16,
        /// As much of the invoking packet as fits (the rest of the header,
        /// padding included).
        packet_in_error: &'a [u8],
    },
    /// A type this crate does not know. Carries no options.
    Unknown {
        /// The Type.
        msg_type: MessageType,
        /// The Type-specific field (7 bits).
        type_specific: u8,
        /// Octets 6 to the end of the header.
        body: &'a [u8],
    },
}

impl Message<'_> {
    /// The Pointer of the Error message (Code 0) for an unknown type: the
    /// Type octet.
    pub const UNKNOWN_TYPE_POINTER: u16 = 2;

    /// The message type.
    #[must_use]
    pub fn msg_type(&self) -> MessageType {
        match self {
            Self::I1 { .. } => MessageType::I1,
            Self::R1 { .. } => MessageType::R1,
            Self::I2 { .. } => MessageType::I2,
            Self::R2 { .. } => MessageType::R2,
            Self::R1bis { .. } => MessageType::R1BIS,
            Self::I2bis { .. } => MessageType::I2BIS,
            Self::UpdateRequest { .. } => MessageType::UPDATE_REQUEST,
            Self::UpdateAck { .. } => MessageType::UPDATE_ACK,
            Self::Keepalive { .. } => MessageType::KEEPALIVE,
            Self::Probe { .. } => MessageType::PROBE,
            Self::Error { .. } => MessageType::ERROR,
            Self::Unknown { msg_type, .. } => MessageType(msg_type.0 & 0x7f),
        }
    }

    /// The context tag that the receiver allocated, for messages that carry
    /// one (Update Request/Ack, Keepalive, Probe): the key of §12.4's lookup.
    #[must_use]
    pub fn receiver_context_tag(&self) -> Option<ContextTag> {
        match self {
            Self::UpdateRequest { context_tag, .. }
            | Self::UpdateAck { context_tag, .. }
            | Self::Keepalive { context_tag }
            | Self::Probe { context_tag, .. } => Some(*context_tag),
            _ => None,
        }
    }

    /// Whether the message has an options area.
    #[must_use]
    pub fn has_options(&self) -> bool {
        !matches!(self, Self::Error { .. } | Self::Unknown { .. })
    }

    /// Octets before the options (or the whole body of Error/Unknown, unpadded).
    fn fixed_len(&self) -> usize {
        match self {
            Self::I2 { .. } => 24,
            Self::I2bis { .. } => 32,
            Self::Probe { sent, received, .. } => sent
                .len()
                .saturating_add(received.len())
                .saturating_mul(ProbeReport::LEN)
                .saturating_add(16),
            Self::Error {
                packet_in_error, ..
            } => packet_in_error.len().saturating_add(8),
            Self::Unknown { body, .. } => body.len().saturating_add(6),
            _ => 16,
        }
    }
}

/// A Shim6 control message: Next Header, the type-specific fields and the
/// options.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct ControlRepr<'a> {
    /// Next Header, normally 59 (no next header).
    pub next_header: u8,
    /// The message.
    pub message: Message<'a>,
    /// The options (ignored by `emit` for Error and Unknown messages).
    pub options: Options<'a>,
}

impl<'a> ControlRepr<'a> {
    /// Parses a control message as RFC 5533 §12.3 and §5.15 say: the header
    /// fits in the buffer, P = 0 ([`Error::WrongKind`]), S = 0
    /// ([`Error::NotShim6`]), the checksum verifies ([`Error::BadChecksum`]), Hdr Ext Len
    /// covers the type's fixed fields ([`Error::BadLength`]), options are
    /// well framed, options valid for the type are well formed, and no
    /// option with C=1 is unknown or invalid for the type
    /// ([`Error::UnrecognizedCriticalOption`]). Reserved fields are ignored.
    pub fn parse(p: &Shim6Packet<&'a [u8]>) -> Result<Self> {
        p.check_len()?;
        if p.p_bit() {
            return Err(Error::WrongKind);
        }
        // The S bit first: a HIP message has another checksum (RFC 7401 §5.1.1).
        if p.s_bit() {
            return Err(Error::NotShim6);
        }
        let h = p.header_bytes();
        //= https://www.rfc-editor.org/rfc/rfc5533#section-12.3
        //# A shim control message has the Checksum field verified.
        if !checksum_ok(h) {
            return Err(Error::BadChecksum);
        }
        let t = p.msg_type();
        let tag = |at| rdtag(h, at);
        let message = match t {
            MessageType::I1 => Message::I1 {
                context_tag: tag(6),
                initiator_nonce: rd32(h, 12),
            },
            MessageType::R1 => Message::R1 {
                initiator_nonce: rd32(h, 8),
                responder_nonce: rd32(h, 12),
            },
            MessageType::I2 => Message::I2 {
                context_tag: tag(6),
                initiator_nonce: rd32(h, 12),
                responder_nonce: rd32(h, 16),
            },
            MessageType::R2 => Message::R2 {
                context_tag: tag(6),
                initiator_nonce: rd32(h, 12),
            },
            MessageType::R1BIS => Message::R1bis {
                packet_context_tag: tag(6),
                responder_nonce: rd32(h, 12),
            },
            MessageType::I2BIS => Message::I2bis {
                context_tag: tag(6),
                initiator_nonce: rd32(h, 12),
                responder_nonce: rd32(h, 16),
                packet_context_tag: tag(26),
            },
            MessageType::UPDATE_REQUEST => Message::UpdateRequest {
                context_tag: tag(6),
                request_nonce: rd32(h, 12),
            },
            MessageType::UPDATE_ACK => Message::UpdateAck {
                context_tag: tag(6),
                request_nonce: rd32(h, 12),
            },
            MessageType::KEEPALIVE => Message::Keepalive {
                context_tag: tag(6),
            },
            MessageType::PROBE => {
                let counts = rd8(h, 12);
                let received = usize::from(counts >> 4).saturating_mul(ProbeReport::LEN);
                let sent = usize::from(counts & 0x0f).saturating_mul(ProbeReport::LEN);
                let sent_end = sent.saturating_add(16);
                let recv_end = sent_end.saturating_add(received);
                let (Some(s), Some(r)) = (h.get(16..sent_end), h.get(sent_end..recv_end)) else {
                    return Err(Error::BadLength);
                };
                Message::Probe {
                    context_tag: tag(6),
                    state: ReapState(rd8(h, 13) >> 6),
                    sent: ProbeReports::Wire(s),
                    received: ProbeReports::Wire(r),
                }
            }
            MessageType::ERROR => Message::Error {
                code: ErrorCode(p.type_specific()),
                pointer: rd16(h, 6),
                packet_in_error: h.get(8..).unwrap_or(&[]),
            },
            msg_type => Message::Unknown {
                msg_type,
                type_specific: p.type_specific(),
                body: h.get(6..).unwrap_or(&[]),
            },
        };
        let fixed = message.fixed_len();
        if h.len() < fixed {
            return Err(Error::BadLength);
        }
        let options = if message.has_options() {
            let area = h.get(fixed..).unwrap_or(&[]);
            Options::validate(area, t, fixed)?;
            Options::Wire(area)
        } else {
            Options::EMPTY
        };
        Ok(Self {
            next_header: p.next_header(),
            message,
            options,
        })
    }

    /// Octets of the message (the whole Shim6 header, a multiple of 8).
    #[must_use]
    pub fn buffer_len(&self) -> usize {
        let opts = if self.message.has_options() {
            self.options.buffer_len()
        } else {
            0
        };
        align8(self.message.fixed_len().saturating_add(opts))
    }

    /// Writes the message into the first [`buffer_len`](Self::buffer_len)
    /// octets of `p` and fills in the checksum. Errors: [`Error::TooLong`]
    /// beyond 2048 octets or with more than 15 probe reports of a kind or
    /// 255 locators, [`Error::BufferTooSmall`], [`Error::BadLength`] or
    /// [`Error::BadValue`] for an inconsistent locator list or preference
    /// option.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, p: &mut Shim6Packet<T>) -> Result<()> {
        let len = self.buffer_len();
        if len > MAX_HEADER_LEN {
            return Err(Error::TooLong);
        }
        let hel = u8::try_from((len >> 3).saturating_sub(1)).map_err(|_| Error::TooLong)?;
        let b = p.buffer_mut().get_mut(..len).ok_or(Error::BufferTooSmall)?;
        b.fill(0);
        wr8(b, 0, self.next_header);
        wr8(b, 1, hel);
        let t = self.message.msg_type();
        wr8(b, 2, t.0 & 0x7f);
        match &self.message {
            Message::I1 {
                context_tag,
                initiator_nonce,
            } => {
                wrtag(b, 6, *context_tag);
                wr32(b, 12, *initiator_nonce);
            }
            Message::R1 {
                initiator_nonce,
                responder_nonce,
            } => {
                wr32(b, 8, *initiator_nonce);
                wr32(b, 12, *responder_nonce);
            }
            Message::I2 {
                context_tag,
                initiator_nonce,
                responder_nonce,
            } => {
                wrtag(b, 6, *context_tag);
                wr32(b, 12, *initiator_nonce);
                wr32(b, 16, *responder_nonce);
            }
            Message::R2 {
                context_tag,
                initiator_nonce,
            } => {
                wrtag(b, 6, *context_tag);
                wr32(b, 12, *initiator_nonce);
            }
            Message::R1bis {
                packet_context_tag,
                responder_nonce,
            } => {
                wrtag(b, 6, *packet_context_tag);
                wr32(b, 12, *responder_nonce);
            }
            Message::I2bis {
                context_tag,
                initiator_nonce,
                responder_nonce,
                packet_context_tag,
            } => {
                wrtag(b, 6, *context_tag);
                wr32(b, 12, *initiator_nonce);
                wr32(b, 16, *responder_nonce);
                wrtag(b, 26, *packet_context_tag);
            }
            Message::UpdateRequest {
                context_tag,
                request_nonce,
            }
            | Message::UpdateAck {
                context_tag,
                request_nonce,
            } => {
                wrtag(b, 6, *context_tag);
                wr32(b, 12, *request_nonce);
            }
            Message::Keepalive { context_tag } => wrtag(b, 6, *context_tag),
            Message::Probe {
                context_tag,
                state,
                sent,
                received,
            } => {
                let ns = u8::try_from(sent.len()).ok().filter(|n| *n <= 15);
                let nr = u8::try_from(received.len()).ok().filter(|n| *n <= 15);
                let (Some(ns), Some(nr)) = (ns, nr) else {
                    return Err(Error::TooLong);
                };
                for list in [sent, received] {
                    if let ProbeReports::Wire(w) = list
                        && !w.len().is_multiple_of(ProbeReport::LEN)
                    {
                        return Err(Error::BadLength);
                    }
                }
                wrtag(b, 6, *context_tag);
                wr8(b, 12, (nr << 4) | ns);
                wr8(b, 13, (state.0 & 3) << 6);
                let mut at = 16usize;
                for r in sent.iter().chain(received.iter()) {
                    if let Some(out) = b.get_mut(at..) {
                        r.write(out);
                    }
                    at = at.saturating_add(ProbeReport::LEN);
                }
            }
            Message::Error {
                code,
                pointer,
                packet_in_error,
            } => {
                wr8(b, 3, (code.0 & 0x7f) << 1);
                wr16(b, 6, *pointer);
                wr(b, 8, packet_in_error);
            }
            Message::Unknown {
                type_specific,
                body,
                ..
            } => {
                wr8(b, 3, (type_specific & 0x7f) << 1);
                wr(b, 6, body);
            }
        }
        if self.message.has_options() {
            let fixed = self.message.fixed_len();
            let area = b.get_mut(fixed..).ok_or(Error::BufferTooSmall)?;
            self.options.emit(area)?;
        }
        let c = checksum(b);
        wr16(b, 4, c);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::options::{OptionRepr, OptionType, OptionValue};
    use super::*;

    fn emit(r: &ControlRepr<'_>) -> alloc::vec::Vec<u8> {
        let mut b = alloc::vec![0u8; r.buffer_len()];
        r.emit(&mut Shim6Packet::new_unchecked(&mut b[..])).unwrap();
        b
    }

    #[test]
    fn i1_layout_by_hand() {
        let r = ControlRepr {
            next_header: 59,
            message: Message::I1 {
                context_tag: ContextTag::new(0x0102_0304_0506).unwrap(),
                initiator_nonce: 0x0a0b_0c0d,
            },
            options: Options::EMPTY,
        };
        let b = emit(&r);
        // Header by hand from RFC 5533 §5.4; checksum zero while summing:
        // 3b01+0100+0102+0304+0506+0a0b+0c0d = 0x5b25, complement 0xa4da.
        assert_eq!(
            b,
            [
                0x3b, 1, 1, 0, 0xa4, 0xda, 1, 2, 3, 4, 5, 6, 0x0a, 0x0b, 0x0c, 0x0d
            ]
        );
        assert_eq!(
            ControlRepr::parse(&Shim6Packet::new_checked(&b[..]).unwrap()).unwrap(),
            r
        );
    }

    #[test]
    fn unknown_type_parses_with_pointer_info() {
        let mut b = [0x3bu8, 0, 0x10, 0x0a, 0, 0, 0xde, 0xad];
        let c = checksum(&b);
        b[4..6].copy_from_slice(&c.to_be_bytes());
        let r = ControlRepr::parse(&Shim6Packet::new_checked(&b[..]).unwrap()).unwrap();
        assert_eq!(
            r.message,
            Message::Unknown {
                msg_type: MessageType(16),
                type_specific: 5,
                body: &[0xde, 0xad][..]
            }
        );
        assert!(!r.message.msg_type().triggers_r1bis());
        assert!(MessageType(100).triggers_r1bis());
        assert_eq!(emit(&r), b);
    }

    #[test]
    fn s_bit_and_p_bit() {
        let mut b = [0x3bu8, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        let c = checksum(&b);
        b[4..6].copy_from_slice(&c.to_be_bytes());
        assert_eq!(
            ControlRepr::parse(&Shim6Packet::new_checked(&b[..]).unwrap()),
            Err(Error::NotShim6)
        );
        let p = [0x3bu8, 0, 0x80, 0, 0, 0, 0, 1];
        assert_eq!(
            ControlRepr::parse(&Shim6Packet::new_checked(&p[..]).unwrap()),
            Err(Error::WrongKind)
        );
    }

    #[test]
    fn hdr_ext_len_too_small_for_type() {
        // An I2 needs 24 octets; this one says 16.
        let mut b = [0x3bu8, 1, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        let c = checksum(&b);
        b[4..6].copy_from_slice(&c.to_be_bytes());
        assert_eq!(
            ControlRepr::parse(&Shim6Packet::new_checked(&b[..]).unwrap()),
            Err(Error::BadLength)
        );
    }

    #[test]
    fn critical_unknown_option_pointer() {
        let unknown = [
            OptionRepr::new(OptionValue::ForkedInstanceId(7)),
            OptionRepr {
                critical: true,
                value: OptionValue::Unknown {
                    option_type: OptionType(99),
                    data: &[1, 2, 3],
                },
            },
        ];
        let r = ControlRepr {
            next_header: 59,
            message: Message::I1 {
                context_tag: ContextTag::MAX,
                initiator_nonce: 1,
            },
            options: Options::List(&unknown),
        };
        let b = emit(&r);
        // Options start at 16; the FII takes 8 octets; the unknown option at 24.
        assert_eq!(
            ControlRepr::parse(&Shim6Packet::new_checked(&b[..]).unwrap()),
            Err(Error::UnrecognizedCriticalOption { pointer: 24 })
        );
        // The same option with C=0 is silently ignored.
        let ignored = [
            unknown[0].clone(),
            OptionRepr::new(unknown[1].value.clone()),
        ];
        let r2 = ControlRepr {
            options: Options::List(&ignored),
            ..r.clone()
        };
        let b2 = emit(&r2);
        assert_eq!(
            ControlRepr::parse(&Shim6Packet::new_checked(&b2[..]).unwrap()).unwrap(),
            r2
        );
        // A known option that is not valid in the message counts as unknown:
        // a Responder Validator in an I1 with C=1.
        let rv = [OptionRepr {
            critical: true,
            value: OptionValue::ResponderValidator(&[9; 8]),
        }];
        let r3 = ControlRepr {
            options: Options::List(&rv),
            ..r
        };
        let b3 = emit(&r3);
        assert_eq!(
            ControlRepr::parse(&Shim6Packet::new_checked(&b3[..]).unwrap()),
            Err(Error::UnrecognizedCriticalOption { pointer: 16 })
        );
    }
}
