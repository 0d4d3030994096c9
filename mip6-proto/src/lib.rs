//! # mip6-proto: Mobile IPv6, NEMO and multiple care-of addresses
//!
//! Every Mobile IPv6 wire format (RFC 6275, 3963, 5648, 5555, 4283, 4285,
//! 5096), return-routability cryptography (RFC 6275 §5.2) and the data-plane
//! transforms of the eight packet paths of SHISA, all sans-IO, `no_std` +
//! `alloc`, with zero allocation to parse.
//!
//! ```
//! use core::net::Ipv6Addr;
//! use mip6_proto::wire::mh::{BuFlags, Message, MhPacket, MhRepr};
//! use mip6_proto::wire::options::{MobilityOption, Options};
//!
//! let hoa: Ipv6Addr = "2001:db8:1::100".parse().unwrap();
//! let ha: Ipv6Addr = "2001:db8:1::1".parse().unwrap();
//! let opts = [MobilityOption::AlternateCareOfAddress("2001:db8:2::200".parse().unwrap())];
//! let bu = MhRepr {
//!     payload_proto: 59,
//!     message: Message::BindingUpdate { sequence: 7, flags: BuFlags::A | BuFlags::H, lifetime: 105 },
//!     options: Options::List(&opts),
//! };
//! let mut buf = vec![0u8; bu.buffer_len()];
//! // The checksum uses the home address as source (RFC 6275 §6.1.1).
//! bu.emit(&mut MhPacket::new_unchecked(&mut buf[..]), &hoa, &ha).unwrap();
//! assert_eq!(buf.len() % 8, 0);
//!
//! let parsed = MhRepr::parse(&MhPacket::new_checked(&buf[..]).unwrap(), &hoa, &ha).unwrap();
//! assert_eq!(parsed, bu);
//! ```
//!
//! ## Modules
//! - [`wire`]: views and representations of the Mobility Header, its
//!   messages and options, the Home Address option, the type 2 routing
//!   header, ICMPv6 144-147 and a bounded IPv6 extension header walk.
//! - [`crypto`]: return routability: keygen tokens, Kbm, the Binding
//!   Authorization Data authenticator and the correspondent's nonce table.
//! - [`transform`]: the per-packet transforms of the data plane.
//! - [`mn`], [`ha`], [`cn`]: the mobile node (and mobile router), home agent
//!   (and NEMO home agent) and correspondent node machines, with
//!   [`bul_fsm`] (SHISA's binding update list tables), [`movement`]
//!   (babymdd movement detection), [`event`] (their inputs and outputs) and
//!   [`timer`] (the deadline heap they share).
//!
//! The mobile node and the home agent register several care-of addresses
//! at once with Binding Identifiers (RFC 5648: per-BID and bulk
//! registration, per-BID deregistration, home bindings while other
//! interfaces stay away, every MCoA status) and can authenticate home
//! registrations without IPsec by the Mobility Message Authentication and
//! Replay Protection options of RFC 4285 (see [`mn`] and [`ha`]).
//!
//! The role machines follow the sans-IO contract of the suite: feed them
//! datagrams, local hints and timeouts; after each call drain `poll_output`
//! (forwarding-plane events come before the messages they make usable) and
//! re-read `poll_timeout`, an absolute deadline.
//!
//! - `fuzzing` (feature): the bodies of the `fuzz/fuzz_targets/mip6_*.rs`
//!   targets.
//!
//! Time is `core::time::Duration` since the driver's epoch; randomness comes
//! from an injected `rand_core` 0.10 [`rand_core::CryptoRng`].
//!
//! ## Numbers and choices
//! - Mobility option 11 is RFC 4866's CGA Parameters Request; RFC 5096's
//!   Experimental Mobility Option is 18 and its experimental message is MH
//!   type 11. RFC 5555's IPv4 Address Acknowledgement is option 30 (its §8
//!   repeats 29 by mistake; §3.2.1 and IANA say 30).
//! - The Mobility Header checksum uses the home address as source when a
//!   Home Address option is present (RFC 6275 §6.1.1) and the final
//!   destination (a type 2 routing header's home address) as destination
//!   (RFC 8200 §8.1).
//! - Parsing reports what is on the wire and leaves protocol decisions to the
//!   caller: a Payload Proto other than 59 (RFC 6275 §9.2) is reported, an
//!   unknown MH type parses as [`wire::mh::Message::Unknown`] so that the
//!   caller can answer with a Binding Error (status 2), unknown options parse
//!   as [`wire::options::MobilityOption::Unknown`] and are skipped by the
//!   protocol logic. Emission always aligns options; parsing does not demand
//!   alignment.
//! - RFC 4285's Mobility Data starts with "care-of address | home
//!   address": the care-of address is the IPv6 source of the Binding
//!   Update and the destination of the Binding Acknowledgement (the home
//!   address when the mobile node is on the home link). The MN-HA option
//!   is the last option; only the padding to a multiple of 8 octets may
//!   follow it (it is not covered by the authenticator). The mobile node
//!   can add an MN-AAA option (HMAC_SHA1_SPI) after it; the home agent,
//!   which has no AAA server to ask, verifies the MN-HA option only and
//!   ignores an MN-AAA option that follows it. The home agent records a timestamp as soon as
//!   the Binding Update is authenticated and fresh, even if the update is
//!   then refused for another reason.
//! - RFC 5648: one Binding Identifier option carries its status in the
//!   BA's Status field (the option's is zero); a bulk registration puts
//!   each BID's status in its option under 4 MCOA NOTCOMPLETE when any is
//!   not zero (§6.2). BID 0, a repeated BID, an IPv4 care-of address (no
//!   DSMIPv6 here) or one that is not global unicast is 164 for that BID. A
//!   home binding is answered 5 MCOA RETURNHOME WO/NDP by default (§6.3).
//! - The generic IPv6 walk ([`wire::ipv6`]) is written here rather than taken
//!   from a crate: the transforms need writable offsets of the Home Address
//!   option, the type 2 routing header and the Next Header fields, and the
//!   Mobility Header must be part of the walk.
//!
//! ## Features
//! - `std` (default): `std::error::Error` through `thiserror`.
//! - `arbitrary`: `Arbitrary` for every representation (needs `std`).
//! - `fuzzing`: the `fuzzing` module (fuzz target bodies).
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod bul_fsm;
pub mod cn;
pub mod crypto;
pub mod event;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod ha;
pub mod mn;
pub mod movement;
pub mod timer;
pub mod transform;
pub mod wire;

pub use wire::Error;
