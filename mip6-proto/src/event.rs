//! What the role machines take in and give out: received datagrams,
//! transmissions, forwarding-plane events.
//!
//! One ordered queue per machine (`poll_output`): a forwarding-plane event
//! that makes a message usable always comes before that message (for
//! example `BindingAdded` before the Binding Acknowledgement).
#![deny(clippy::arithmetic_side_effects)]

use core::net::Ipv6Addr;
use core::time::Duration;

/// A received Mobility Header, with what the driver learned from the IPv6
/// headers around it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RxDatagram<'a> {
    /// The IPv6 source address as received (the care-of address when a
    /// Home Address option is present).
    pub src: Ipv6Addr,
    /// The final IPv6 destination (after a type 2 routing header).
    pub dst: Ipv6Addr,
    /// The home address of a Home Address option, if the packet had one.
    pub hao: Option<Ipv6Addr>,
    /// The home address of a type 2 routing header, if the packet had one.
    pub rh2: Option<Ipv6Addr>,
    /// Whether the packet arrived inside an IPv6-in-IPv6 tunnel.
    pub tunnelled: bool,
    /// The upper-layer protocol: 135 (Mobility Header) or 58 (ICMPv6).
    pub next_header: u8,
    /// The upper-layer message (Mobility Header or ICMPv6) and what follows
    /// it in the packet.
    pub payload: &'a [u8],
}

/// Extension headers the driver adds when it sends a [`Transmit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxExt {
    /// None.
    None,
    /// A Home Address option carrying this home address (the IPv6 source is
    /// the care-of address).
    HomeAddress(Ipv6Addr),
    /// A type 2 routing header carrying this home address (the IPv6
    /// destination is the care-of address).
    Type2Routing(Ipv6Addr),
}

/// A Mobility Header or ICMPv6 message to send. Its bytes were appended to
/// the caller's buffer by `poll_output`; the checksum is already computed
/// for the final addresses (the home address for a Home Address option or
/// a type 2 routing header).
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transmit {
    /// IPv6 source.
    pub src: Ipv6Addr,
    /// IPv6 destination.
    pub dst: Ipv6Addr,
    /// Extension headers to add.
    pub ext: TxExt,
    /// The upper-layer protocol of the bytes: 135 (Mobility Header) or 58
    /// (ICMPv6).
    pub next_header: u8,
    /// Length of the message appended to the buffer.
    pub len: usize,
}

/// An event for the forwarding plane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FwdEvent {
    /// A binding is in place: route-optimised traffic to `home` goes to
    /// `care_of` (type 2 routing header), and packets from `care_of` with a
    /// Home Address option for `home` are accepted.
    BindingAdded {
        /// Home address.
        home: Ipv6Addr,
        /// Care-of address.
        care_of: Ipv6Addr,
        /// The local address the binding is with.
        local: Ipv6Addr,
        /// When it expires.
        expires: Duration,
    },
    /// Correspondent (RFC 5648): the binding `bid` of `home` is in place,
    /// beside the others of `home` (route-optimised traffic may use any of
    /// them; RFC 5648 leaves the choice to the forwarding plane).
    BidBindingAdded {
        /// Home address.
        home: Ipv6Addr,
        /// Care-of address.
        care_of: Ipv6Addr,
        /// The local address the binding is with.
        local: Ipv6Addr,
        /// The Binding Identifier.
        bid: u16,
        /// When it expires.
        expires: Duration,
    },
    /// Correspondent (RFC 5648): the binding `bid` of `home` is gone.
    BidBindingRemoved {
        /// Home address.
        home: Ipv6Addr,
        /// The local address the binding was with.
        local: Ipv6Addr,
        /// The Binding Identifier.
        bid: u16,
    },
    /// The binding for `home` is gone.
    BindingRemoved {
        /// Home address.
        home: Ipv6Addr,
        /// The local address the binding was with.
        local: Ipv6Addr,
    },
    /// Home agent: before the first registration of `home`, run duplicate
    /// address detection for it on the home link on the mobile node's
    /// behalf and report the result.
    DadRequest {
        /// The home address.
        home: Ipv6Addr,
    },
    /// Home agent: intercept packets for `home` on the home link (proxy
    /// neighbour discovery, and for its link-local address too when
    /// `link_local` is set) and tunnel them to `care_of`; accept packets
    /// reverse-tunnelled from `care_of`.
    HomeBindingAdded {
        /// The home address.
        home: Ipv6Addr,
        /// The care-of address (tunnel end point).
        care_of: Ipv6Addr,
        /// The home agent address the binding is with.
        local: Ipv6Addr,
        /// Binding Identifier (multiple care-of addresses).
        bid: Option<u16>,
        /// The L flag: defend the link-local address with the same
        /// interface identifier too.
        link_local: bool,
        /// When it expires.
        expires: Duration,
    },
    /// Home agent: stop intercepting and tunnelling for `home`.
    HomeBindingRemoved {
        /// The home address.
        home: Ipv6Addr,
        /// The home agent address the binding was with.
        local: Ipv6Addr,
        /// Binding Identifier (multiple care-of addresses).
        bid: Option<u16>,
    },
    /// Home agent (NEMO): route `prefix/len` through the tunnel to the mobile
    /// router whose home address is `home`.
    PrefixRouteAdded {
        /// The mobile network prefix.
        prefix: Ipv6Addr,
        /// Its length.
        len: u8,
        /// The mobile router's home address.
        home: Ipv6Addr,
        /// Its care-of address.
        care_of: Ipv6Addr,
    },
    /// Mobile node: the binding with `peer` is registered and usable: for
    /// the home agent, reverse-tunnel traffic from `home` through
    /// `care_of` and accept tunnelled packets; for a correspondent, send to
    /// it route-optimised (Home Address option) and accept its packets with
    /// a type 2 routing header (MIPSOCK BUL_ADD).
    BulAdded {
        /// The home address.
        home: Ipv6Addr,
        /// The home agent or correspondent.
        peer: Ipv6Addr,
        /// The care-of address registered.
        care_of: Ipv6Addr,
        /// Whether this is the home registration.
        home_registration: bool,
    },
    /// Mobile node: the binding with `peer` is no longer usable (MIPSOCK
    /// BUL_REMOVE).
    BulRemoved {
        /// The home address.
        home: Ipv6Addr,
        /// The home agent or correspondent.
        peer: Ipv6Addr,
    },
    /// Mobile node (RFC 5648): the binding `bid` with the home agent `peer`
    /// is registered: reverse-tunnel traffic through `care_of` on that
    /// interface (on the home link, when `home_link` is set, send and
    /// receive directly, without Neighbor Discovery for the home address
    /// when `ndp_prohibited` is set, RFC 5648 §5.6.4).
    McoaBulAdded {
        /// The home address.
        home: Ipv6Addr,
        /// The home agent.
        peer: Ipv6Addr,
        /// The Binding Identifier.
        bid: u16,
        /// The care-of address registered (the home address on the home
        /// link).
        care_of: Ipv6Addr,
        /// The interface is on the home link (home binding).
        home_link: bool,
        /// The home agent answered 5 MCOA RETURNHOME WO/NDP.
        ndp_prohibited: bool,
    },
    /// Mobile node (RFC 5648): the binding `bid` with `peer` is no longer
    /// usable.
    McoaBulRemoved {
        /// The home address.
        home: Ipv6Addr,
        /// The home agent.
        peer: Ipv6Addr,
        /// The Binding Identifier.
        bid: u16,
    },
    /// Home agent (NEMO): the route for `prefix/len` is gone.
    PrefixRouteRemoved {
        /// The mobile network prefix.
        prefix: Ipv6Addr,
        /// Its length.
        len: u8,
    },
}

/// One output of a role machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// A forwarding-plane event.
    Fwd(FwdEvent),
    /// A message to send.
    Transmit(Transmit),
}

/// RFC 6275 §9.5.1: sequence number `a` is greater than `b` modulo 2^16
/// (`b` and the 32 767 values before it are not).
#[must_use]
pub fn seq_greater(a: u16, b: u16) -> bool {
    a != b && a.wrapping_sub(b) < 0x8000
}

/// Whether `addr` lies in `prefix/len` (`len` above 128 matches nothing).
#[must_use]
pub fn in_prefix(addr: Ipv6Addr, prefix: Ipv6Addr, len: u8) -> bool {
    match len {
        0 => true,
        1..=128 => {
            let mask = u128::MAX
                .checked_shl(128u32.saturating_sub(u32::from(len)))
                .unwrap_or(0);
            u128::from(addr) & mask == u128::from(prefix) & mask
        }
        _ => false,
    }
}

/// A unicast address a message may be sent to or accepted from.
pub(crate) fn is_unicast(a: Ipv6Addr) -> bool {
    !(a.is_unspecified() || a.is_multicast() || a.is_loopback())
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
    Fwd(FwdEvent),
    Msg {
        src: Ipv6Addr,
        dst: Ipv6Addr,
        ext: TxExt,
        next_header: u8,
        bytes: alloc::vec::Vec<u8>,
    },
}

/// A machine's one ordered output queue.
#[derive(Debug, Clone, Default)]
pub(crate) struct OutQueue {
    q: alloc::collections::VecDeque<Queued>,
}

impl OutQueue {
    /// Queues a forwarding-plane event.
    pub(crate) fn fwd(&mut self, ev: FwdEvent) {
        self.q.push_back(Queued::Fwd(ev));
    }

    /// Queues a message (Mobility Header when `next_header` is 135, ICMPv6
    /// when 58) whose checksum is already filled.
    pub(crate) fn msg(
        &mut self,
        src: Ipv6Addr,
        dst: Ipv6Addr,
        ext: TxExt,
        next_header: u8,
        bytes: alloc::vec::Vec<u8>,
    ) {
        self.q.push_back(Queued::Msg {
            src,
            dst,
            ext,
            next_header,
            bytes,
        });
    }

    /// The next output; a message's bytes are appended to `buf`.
    pub(crate) fn poll(&mut self, buf: &mut alloc::vec::Vec<u8>) -> Option<Output> {
        match self.q.pop_front()? {
            Queued::Fwd(ev) => Some(Output::Fwd(ev)),
            Queued::Msg {
                src,
                dst,
                ext,
                next_header,
                bytes,
            } => {
                buf.extend_from_slice(&bytes);
                Some(Output::Transmit(Transmit {
                    src,
                    dst,
                    ext,
                    next_header,
                    len: bytes.len(),
                }))
            }
        }
    }
}
