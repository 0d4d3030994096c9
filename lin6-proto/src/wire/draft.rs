//! The draft-compatible codec (`../shared/spec/lin6.md` §4), for fidelity
//! tests only.
//!
//! Query and update share type codes, so they run on different ports
//! ([`UPDATE_PORT`] 7362, [`QUERY_PORT`] 7363); [`DraftMessage::parse`] takes
//! the port kind. The spec gives no type code for Mapping Refresh; this
//! crate uses [`TYPE_REFRESH`] = 0x03 on the update port.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::arithmetic_side_effects
)]

use super::Error;
use crate::addr::{Lin6Id, Prefix};

/// Port of Mapping Update Request / Reply and Mapping Refresh.
pub const UPDATE_PORT: u16 = 7362;
/// Port of MA Query / Reply.
pub const QUERY_PORT: u16 = 7363;
/// Type of Mapping Update Request and MA Query.
pub const TYPE_REQUEST: u8 = 0x01;
/// Type of Mapping Update Reply and MA Reply.
pub const TYPE_REPLY: u8 = 0x02;
/// Type of Mapping Refresh (our choice; the drafts' layout has a type byte).
pub const TYPE_REFRESH: u8 = 0x03;
/// Update Reply code: succeeded.
pub const CODE_SUCCEEDED: u8 = 0;
/// Update Reply code: authentication failed.
pub const CODE_AUTH_FAILED: u8 = 1;
/// MA Reply code: no mapping.
pub const CODE_NO_MAPPING: u8 = 1;
/// Length of the 32-byte request layout.
pub const LONG_LEN: usize = 32;
/// Length of the Update Reply.
pub const SHORT_LEN: usize = 8;
/// Length of the Mapping Refresh.
pub const REFRESH_LEN: usize = 16;

/// Which port the bytes arrived on.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum DraftPort {
    /// 7362: updates and refreshes.
    Update,
    /// 7363: queries.
    Query,
}

/// The 32-byte layout shared by Update Request, MA Query and MA Reply.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct MappingRecord {
    /// Code.
    pub code: u8,
    /// Flags (16 bits).
    pub flags: u16,
    /// Sequence.
    pub sequence: u32,
    /// Network prefix.
    pub prefix: Prefix,
    /// LIN6 ID.
    pub lin6_id: Lin6Id,
    /// Timestamp.
    pub timestamp: u32,
    /// Lifetime.
    pub lifetime: u32,
}

/// One draft-format message.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum DraftMessage {
    /// Mapping Update Request (update port, type 0x01).
    UpdateRequest(MappingRecord),
    /// Mapping Update Reply (update port, type 0x02, 8 bytes).
    UpdateReply {
        /// Code (0 succeeded, 1 authentication failed).
        code: u8,
        /// Flags.
        flags: u16,
        /// Sequence.
        sequence: u32,
    },
    /// MA Query (query port, type 0x01).
    Query(MappingRecord),
    /// MA Reply (query port, type 0x02; code 1 = no mapping).
    Reply(MappingRecord),
    /// Mapping Refresh (update port, type 0x03, 16 bytes).
    Refresh {
        /// LIN6 ID.
        lin6_id: Lin6Id,
        /// Timestamp.
        timestamp: u32,
    },
}

fn arr<const N: usize>(b: &[u8], at: usize) -> Result<[u8; N], Error> {
    let end = at.checked_add(N).ok_or(Error::Truncated)?;
    let s = b.get(at..end).ok_or(Error::Truncated)?;
    s.try_into().map_err(|_| Error::Truncated)
}

fn put(b: &mut [u8], at: usize, v: &[u8]) {
    if let Some(s) = at.checked_add(v.len()).and_then(|end| b.get_mut(at..end)) {
        s.copy_from_slice(v);
    }
}

impl MappingRecord {
    fn parse(b: &[u8]) -> Result<Self, Error> {
        if b.len() < LONG_LEN {
            return Err(Error::Truncated);
        }
        if b.len() != LONG_LEN {
            return Err(Error::BadLength);
        }
        let [_, code] = arr::<2>(b, 0)?;
        Ok(MappingRecord {
            code,
            flags: u16::from_be_bytes(arr(b, 2)?),
            sequence: u32::from_be_bytes(arr(b, 4)?),
            prefix: Prefix(arr(b, 8)?),
            lin6_id: Lin6Id(arr(b, 16)?),
            timestamp: u32::from_be_bytes(arr(b, 24)?),
            lifetime: u32::from_be_bytes(arr(b, 28)?),
        })
    }
    fn emit(&self, ty: u8, b: &mut [u8]) {
        put(b, 0, &[ty, self.code]);
        put(b, 2, &self.flags.to_be_bytes());
        put(b, 4, &self.sequence.to_be_bytes());
        put(b, 8, &self.prefix.0);
        put(b, 16, &self.lin6_id.0);
        put(b, 24, &self.timestamp.to_be_bytes());
        put(b, 28, &self.lifetime.to_be_bytes());
    }
}

impl DraftMessage {
    /// Parses one message received on `port`. The length must be exact.
    pub fn parse(port: DraftPort, b: &[u8]) -> Result<Self, Error> {
        let ty = *b.first().ok_or(Error::Truncated)?;
        match (port, ty) {
            (DraftPort::Update, TYPE_REQUEST) => Ok(Self::UpdateRequest(MappingRecord::parse(b)?)),
            (DraftPort::Query, TYPE_REQUEST) => Ok(Self::Query(MappingRecord::parse(b)?)),
            (DraftPort::Query, TYPE_REPLY) => Ok(Self::Reply(MappingRecord::parse(b)?)),
            (DraftPort::Update, TYPE_REPLY) => {
                if b.len() < SHORT_LEN {
                    return Err(Error::Truncated);
                }
                if b.len() != SHORT_LEN {
                    return Err(Error::BadLength);
                }
                let [_, code] = arr::<2>(b, 0)?;
                Ok(Self::UpdateReply {
                    code,
                    flags: u16::from_be_bytes(arr(b, 2)?),
                    sequence: u32::from_be_bytes(arr(b, 4)?),
                })
            }
            (DraftPort::Update, TYPE_REFRESH) => {
                if b.len() < REFRESH_LEN {
                    return Err(Error::Truncated);
                }
                if b.len() != REFRESH_LEN {
                    return Err(Error::BadLength);
                }
                Ok(Self::Refresh {
                    lin6_id: Lin6Id(arr(b, 4)?),
                    timestamp: u32::from_be_bytes(arr(b, 12)?),
                })
            }
            (_, t) => Err(Error::UnknownType(t)),
        }
    }

    /// The port this message runs on.
    pub fn port(&self) -> DraftPort {
        match self {
            Self::Query(_) | Self::Reply(_) => DraftPort::Query,
            _ => DraftPort::Update,
        }
    }

    /// Bytes [`DraftMessage::emit`] writes.
    pub fn buffer_len(&self) -> usize {
        match self {
            Self::UpdateReply { .. } => SHORT_LEN,
            Self::Refresh { .. } => REFRESH_LEN,
            _ => LONG_LEN,
        }
    }

    /// Writes into `b` (at least [`DraftMessage::buffer_len`] bytes; shorter
    /// buffers get a partial message, never a panic).
    pub fn emit(&self, b: &mut [u8]) {
        match self {
            Self::UpdateRequest(r) | Self::Query(r) => r.emit(TYPE_REQUEST, b),
            Self::Reply(r) => r.emit(TYPE_REPLY, b),
            Self::UpdateReply {
                code,
                flags,
                sequence,
            } => {
                put(b, 0, &[TYPE_REPLY, *code]);
                put(b, 2, &flags.to_be_bytes());
                put(b, 4, &sequence.to_be_bytes());
            }
            Self::Refresh { lin6_id, timestamp } => {
                put(b, 0, &[TYPE_REFRESH, 0, 0, 0]);
                put(b, 4, &lin6_id.0);
                put(b, 12, &timestamp.to_be_bytes());
            }
        }
    }

    /// Emits into a fresh vector.
    pub fn to_bytes(&self) -> alloc::vec::Vec<u8> {
        let mut v = alloc::vec![0u8; self.buffer_len()];
        self.emit(&mut v);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_request_layout() {
        let m = DraftMessage::UpdateRequest(MappingRecord {
            code: 0,
            flags: 0x8001,
            sequence: 5,
            prefix: Prefix([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1]),
            lin6_id: Lin6Id([2, 1, 0x4a, 0, 0, 0, 0, 2]),
            timestamp: 0x01020304,
            lifetime: 600,
        });
        let b = m.to_bytes();
        let expect: [u8; 32] = [
            1, 0, 0x80, 0x01, 0, 0, 0, 5, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 2, 1, 0x4a, 0, 0, 0,
            0, 2, 1, 2, 3, 4, 0, 0, 2, 0x58,
        ];
        assert_eq!(b, expect);
        assert_eq!(DraftMessage::parse(DraftPort::Update, &b), Ok(m));
        // Same bytes on the query port are an MA Query.
        assert!(matches!(
            DraftMessage::parse(DraftPort::Query, &b),
            Ok(DraftMessage::Query(_))
        ));
        for n in 0..b.len() {
            assert!(DraftMessage::parse(DraftPort::Update, &b[..n]).is_err());
        }
    }

    #[test]
    fn short_messages() {
        let r = DraftMessage::UpdateReply {
            code: CODE_AUTH_FAILED,
            flags: 0,
            sequence: 0x0a0b0c0d,
        };
        assert_eq!(r.to_bytes(), [2, 1, 0, 0, 0x0a, 0x0b, 0x0c, 0x0d]);
        let f = DraftMessage::Refresh {
            lin6_id: Lin6Id([2, 1, 0x4a, 0, 0, 0, 0, 9]),
            timestamp: 7,
        };
        let b = f.to_bytes();
        assert_eq!(b.len(), 16);
        assert_eq!(&b[..4], &[3, 0, 0, 0]);
        assert_eq!(DraftMessage::parse(DraftPort::Update, &b), Ok(f));
        assert_eq!(
            DraftMessage::parse(DraftPort::Query, &b),
            Err(Error::UnknownType(3))
        );
        let mut long = b.clone();
        long.push(0);
        assert_eq!(
            DraftMessage::parse(DraftPort::Update, &long),
            Err(Error::BadLength)
        );
    }
}
