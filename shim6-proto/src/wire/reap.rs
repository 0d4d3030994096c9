//! REAP message fields (RFC 5534 §5.1-5.2): the Probe's state and probe
//! reports. The Keepalive and Probe messages themselves are variants of
//! [`Message`](super::Message).
//!
//! ```text
//! Probe (type 67) after the common header and Receiver Context Tag:
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Precvd| Psent |Sta|                 Reserved2                 |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  Psent sent probe reports, then Precvd received probe reports, |
//! |  40 octets each: source, destination, nonce, data              |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! //                         Options                             //
//! ```

use alloc::vec::Vec;
use core::net::Ipv6Addr;

use super::{rd32, rdaddr, wr, wr32};

/// The Sta field of a Probe (2 bits, RFC 5534 §5.2). Open: the illegal
/// value 3 round-trips.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ReapState(pub u8);

impl ReapState {
    /// The sender sees no problem in either direction.
    pub const OPERATIONAL: Self = Self(0);
    /// The sender has a problem communicating with the recipient.
    pub const EXPLORING: Self = Self(1);
    /// The sender receives, but the recipient has not confirmed.
    pub const INBOUND_OK: Self = Self(2);

    /// The name used by RFC 5534, if the value is legal.
    #[must_use]
    pub const fn name(self) -> Option<&'static str> {
        match self.0 {
            0 => Some("Operational"),
            1 => Some("Exploring"),
            2 => Some("InboundOk"),
            _ => None,
        }
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for ReapState {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(Self(u8::arbitrary(u)? & 3))
    }
}

/// One probe report: the fields of a probe sent or received.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct ProbeReport {
    /// The probe's IPv6 source address.
    pub source: Ipv6Addr,
    /// The probe's IPv6 destination address.
    pub destination: Ipv6Addr,
    /// The Probe Nonce.
    pub nonce: u32,
    /// The Probe Data (copied back unchanged).
    pub data: u32,
}

impl ProbeReport {
    /// Octets of one report on the wire.
    pub const LEN: usize = 40;

    fn read(b: &[u8]) -> Self {
        Self {
            source: rdaddr(b, 0),
            destination: rdaddr(b, 16),
            nonce: rd32(b, 32),
            data: rd32(b, 36),
        }
    }

    pub(crate) fn write(&self, b: &mut [u8]) {
        wr(b, 0, &self.source.octets());
        wr(b, 16, &self.destination.octets());
        wr32(b, 32, self.nonce);
        wr32(b, 36, self.data);
    }
}

/// A list of probe reports (at most 15: Psent and Precvd are 4 bits).
#[derive(Debug, Clone)]
pub enum ProbeReports<'a> {
    /// As on the wire: a multiple of 40 octets.
    Wire(&'a [u8]),
    /// A borrowed list.
    List(&'a [ProbeReport]),
    /// An owned list (allocates when built, never when parsing).
    Owned(Vec<ProbeReport>),
}

impl Default for ProbeReports<'_> {
    fn default() -> Self {
        Self::List(&[])
    }
}

impl ProbeReports<'_> {
    /// The number of reports.
    #[must_use]
    pub fn len(&self) -> usize {
        match self {
            Self::Wire(b) => b.len() / ProbeReport::LEN,
            Self::List(l) => l.len(),
            Self::Owned(v) => v.len(),
        }
    }

    /// True when there is no report.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Iterates over the reports.
    pub fn iter(&self) -> impl Iterator<Item = ProbeReport> + '_ {
        let (wire, list): (&[u8], &[ProbeReport]) = match self {
            Self::Wire(b) => (b, &[]),
            Self::List(l) => (&[], l),
            Self::Owned(v) => (&[], v),
        };
        wire.chunks_exact(ProbeReport::LEN)
            .map(ProbeReport::read)
            .chain(list.iter().copied())
    }
}

impl PartialEq for ProbeReports<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}
impl Eq for ProbeReports<'_> {}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for ProbeReports<'a> {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        let mut v: Vec<ProbeReport> = u.arbitrary()?;
        v.truncate(15);
        Ok(Self::Owned(v))
    }
}
