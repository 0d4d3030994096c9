//! Datagrams in and out of the machines, and the shared counters.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::arithmetic_side_effects
)]

use alloc::vec::Vec;
use core::net::{Ipv6Addr, SocketAddrV6};

/// A received UDP datagram (the machines see only UDP payloads).
#[derive(Clone, Copy, Debug)]
pub struct Datagram<'a> {
    /// Source address and port.
    pub src: SocketAddrV6,
    /// Destination address and port.
    pub dst: SocketAddrV6,
    /// The UDP payload.
    pub payload: &'a [u8],
}

/// A UDP datagram to send.
#[derive(Clone, PartialEq, Eq, Debug)]
#[must_use]
pub struct Transmit {
    /// Source address to use (`None`: the driver's choice).
    pub src: Option<Ipv6Addr>,
    /// Source UDP port.
    pub src_port: u16,
    /// Destination.
    pub dst: SocketAddrV6,
    /// The UDP payload.
    pub payload: Vec<u8>,
}

/// Counters per message type (index = type value 1..=6; 0 counts unknown
/// types).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct TypeCounters(pub [u64; 7]);

impl TypeCounters {
    /// Adds one for `t`.
    pub fn bump(&mut self, t: crate::wire::MsgType) {
        let i = if (1..=6).contains(&t.0) {
            usize::from(t.0)
        } else {
            0
        };
        if let Some(c) = self.0.get_mut(i) {
            *c = c.saturating_add(1);
        }
    }
    /// The count for `t`.
    pub fn get(&self, t: crate::wire::MsgType) -> u64 {
        let i = if (1..=6).contains(&t.0) {
            usize::from(t.0)
        } else {
            0
        };
        self.0.get(i).copied().unwrap_or(0)
    }
}

/// `SocketAddrV6` without flow info and scope.
pub fn sock(addr: Ipv6Addr, port: u16) -> SocketAddrV6 {
    SocketAddrV6::new(addr, port, 0, 0)
}

/// Unix seconds at `now`, given the Unix time of the driver's epoch.
pub(crate) fn unix_secs(unix_at_epoch: u64, now: core::time::Duration) -> u32 {
    // Truncation to 32 bits is the wire's choice (wraps in 2106).
    unix_at_epoch.saturating_add(now.as_secs()) as u32
}

/// |a - b| for 32-bit Unix timestamps.
pub(crate) fn ts_distance(a: u32, b: u32) -> u32 {
    a.abs_diff(b)
}
