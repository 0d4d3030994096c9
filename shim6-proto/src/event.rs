//! What the Shim6 machine takes in and gives out: received datagrams,
//! transmissions and forwarding-plane events, in one ordered queue.
//!
//! A forwarding-plane event that makes a message usable always comes before
//! that message: [`Event::ContextEstablished`] before the R2 that lets the
//! peer send with the new context tag.
#![deny(clippy::arithmetic_side_effects)]

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::net::Ipv6Addr;
use core::time::Duration;

use crate::context::ContextState;
use crate::wire::ContextTag;

/// A received Shim6 header (IP protocol 140) with its IPv6 addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RxDatagram<'a> {
    /// The IPv6 source address (a locator of the peer).
    pub src: Ipv6Addr,
    /// The IPv6 destination address (a locator of this host).
    pub dst: Ipv6Addr,
    /// The octets from the start of the Shim6 header to the end of the
    /// packet.
    pub payload: &'a [u8],
}

/// A Shim6 control message to send: IPv6 next header 140, the Shim6
/// header's octets appended to the caller's buffer by `poll_output`.
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transmit {
    /// IPv6 source (a local locator).
    pub src: Ipv6Addr,
    /// IPv6 destination (a peer locator).
    pub dst: Ipv6Addr,
    /// Length of the message appended to the buffer.
    pub len: usize,
}

/// What the data plane needs to know about a context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContextInfo {
    /// The context's state.
    pub state: ContextState,
    /// ULID(local).
    pub local_ulid: Ipv6Addr,
    /// ULID(peer).
    pub peer_ulid: Ipv6Addr,
    /// Forked Instance Identifier (0 for the default context).
    pub fii: u32,
    /// CT(local): the tag the peer puts in payload extension headers it
    /// sends to this host.
    pub ct_local: Option<ContextTag>,
    /// CT(peer): the tag this host puts in payload extension headers.
    pub ct_peer: Option<ContextTag>,
    /// Lp(local): the source locator in use.
    pub local_locator: Ipv6Addr,
    /// Lp(peer): the destination locator in use.
    pub peer_locator: Ipv6Addr,
}

/// An event for the forwarding plane (or the application).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A context reached ESTABLISHED: install it (payload extension
    /// headers with `ct_local` map back to the ULIDs; packets between the
    /// ULIDs may be rewritten to the locator pair with `ct_peer`).
    ContextEstablished(ContextInfo),
    /// An established context changed CT(peer), its locator pair or the
    /// peer's locators: replace what was installed.
    ContextUpdated(ContextInfo),
    /// A context is gone (teardown, idle, context confusion).
    ContextRemoved {
        /// ULID(local).
        local_ulid: Ipv6Addr,
        /// ULID(peer).
        peer_ulid: Ipv6Addr,
        /// Forked Instance Identifier.
        fii: u32,
        /// CT(local) it had.
        ct_local: ContextTag,
    },
    /// Establishment failed: no R1 after I1_RETRIES_MAX retransmissions
    /// (E-FAILED) or ICMP Unrecognized Next Header (NO-SUPPORT). The pair
    /// is not tried again for the hold-down time.
    EstablishmentFailed {
        /// ULID(local).
        local_ulid: Ipv6Addr,
        /// ULID(peer).
        peer_ulid: Ipv6Addr,
        /// Forked Instance Identifier.
        fii: u32,
        /// E-FAILED or NO-SUPPORT.
        state: ContextState,
        /// When the hold-down ends.
        until: Duration,
    },
}

/// One output of the machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// A forwarding-plane event.
    Event(Event),
    /// A message to send.
    Transmit(Transmit),
}

/// The clock a machine keeps: never goes backwards; an older `now` is
/// clamped and counted.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Clock {
    now: Duration,
    /// Calls with a time older than the latest one.
    pub(crate) went_back: u64,
}

impl Clock {
    pub(crate) fn new(now: Duration) -> Self {
        Self { now, went_back: 0 }
    }

    /// The time to use for a call made at `now`.
    pub(crate) fn advance(&mut self, now: Duration) -> Duration {
        if now < self.now {
            self.went_back = self.went_back.saturating_add(1);
        } else {
            self.now = now;
        }
        self.now
    }
}

#[derive(Debug, Clone)]
enum Queued {
    Event(Event),
    Msg {
        src: Ipv6Addr,
        dst: Ipv6Addr,
        bytes: Vec<u8>,
    },
}

/// A machine's one ordered output queue.
#[derive(Debug, Clone, Default)]
pub(crate) struct OutQueue {
    q: VecDeque<Queued>,
}

impl OutQueue {
    pub(crate) fn event(&mut self, ev: Event) {
        self.q.push_back(Queued::Event(ev));
    }

    pub(crate) fn msg(&mut self, src: Ipv6Addr, dst: Ipv6Addr, bytes: Vec<u8>) {
        self.q.push_back(Queued::Msg { src, dst, bytes });
    }

    pub(crate) fn len(&self) -> usize {
        self.q.len()
    }

    /// The next output; a message's bytes are appended to `buf`.
    pub(crate) fn poll(&mut self, buf: &mut Vec<u8>) -> Option<Output> {
        match self.q.pop_front()? {
            Queued::Event(ev) => Some(Output::Event(ev)),
            Queued::Msg { src, dst, bytes } => {
                buf.extend_from_slice(&bytes);
                Some(Output::Transmit(Transmit {
                    src,
                    dst,
                    len: bytes.len(),
                }))
            }
        }
    }
}

/// A unicast address a message may be sent to or accepted from.
pub(crate) fn is_unicast(a: Ipv6Addr) -> bool {
    !(a.is_unspecified() || a.is_multicast() || a.is_loopback())
}
