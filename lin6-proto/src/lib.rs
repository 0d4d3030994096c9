//! # lin6-proto: LIN6 identifier/locator addressing, sans-IO
//!
//! LIN6 (Location Independent Network Architecture for IPv6) splits an IPv6
//! address 8+8: the upper 64 bits are a locator (a routable prefix), the
//! lower 64 bits the LIN6 ID (Node ID, EUI-64 format with the LIN6 OUI).
//! Applications and transport checksums see only *generalized IDs* (LIN6
//! prefix ‖ LIN6 ID); the node maps them to locators on the way out and
//! back on the way in. This crate holds:
//!
//! - [`addr`]: LIN6 ID, generalized ID, LIN6 address, stationary addresses,
//!   the ip6.arpa name and the `lin6-ma=`/`lin6-ls=` TXT strings.
//! - [`wire`]: the Mapping Agent protocol v1 (every message, locator
//!   records, the HMAC-SHA-256-128 trailer, every code) and, in
//!   [`wire::draft`], the draft-compatible codec.
//! - [`dataplane`]: in-place, allocation-free, checksum-neutral mapping of
//!   whole IPv6 packets, and the bounded queue of packets waiting on a query.
//! - [`cache`]: the bounded mapping cache (positive and negative entries).
//! - [`resolver`]: the node's machine (lin6resolvd): registration, queries,
//!   REFRESH, replay protection, and the multihoming API of seed 004.
//! - [`agent`]: the Mapping Agent machine (lin6agentd).
//!
//! The protocol is specified in `../shared/spec/lin6.md` of the project.
//!
//! ## Driving the machines
//!
//! Both machines follow one contract: feed `handle_datagram(now, ..)` and
//! `handle_timeout(now)`, then drain `poll_output()` to `None` (one ordered
//! queue: an event always comes before the datagram it makes usable), then
//! re-read `poll_timeout()` (an absolute deadline). Time is a
//! [`core::time::Duration`] since an epoch the driver picks; a `now` that
//! goes backwards is clamped and counted. Randomness (sequence start,
//! nonces) comes from an injected [`rand_core::CryptoRng`]. A peer's bad
//! message is never an `Err`: it becomes a protocol answer (a NACK, an
//! ACK code) or a counted drop.
//!
//! ```
//! use core::time::Duration;
//! use lin6_proto::addr::{AddrConfig, Lin6Id, Prefix};
//! use lin6_proto::agent::{self, Agent, AgentConfig, ServiceLevel};
//! use lin6_proto::io::{Datagram, sock};
//! use lin6_proto::resolver::{self, Resolver, ResolverConfig};
//! use lin6_proto::wire::{LocatorRecord, LOC_FLAG_UP};
//! use rand_chacha::ChaCha8Rng;
//! use rand_core::SeedableRng;
//!
//! let id = Lin6Id([0x02, 0x01, 0x4a, 0, 0, 0, 0, 2]);
//! let gid = AddrConfig::default().generalized_id(id);
//! assert_eq!(gid, "3ffe:501:1830:1999:201:4a00::2".parse::<core::net::Ipv6Addr>().unwrap());
//!
//! // A Mapping Agent that serves `id` with a pre-shared key.
//! let ma = sock("2001:db8:ffff::1".parse().unwrap(), 7360);
//! let mut cfg = AgentConfig::new();
//! cfg.nodes.push((id, ServiceLevel::PREMIUM));
//! cfg.keys.push((id, 1, b"pre-shared key".to_vec()));
//! let mut ma_machine = Agent::new(cfg, Duration::ZERO).unwrap();
//!
//! // The node registers its locator 2001:db8:1::/64.
//! let here = Prefix([0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0]);
//! let loc = LocatorRecord { prefix: here, priority: 0, weight: 1, flags: LOC_FLAG_UP };
//! let rcfg = ResolverConfig::new(id, 1, b"pre-shared key", vec![ma], vec![loc]);
//! let mut node = Resolver::new(rcfg, ChaCha8Rng::seed_from_u64(1), Duration::ZERO).unwrap();
//! let me = sock(AddrConfig::default().lin6_address(here, id), 7360);
//!
//! let Some(resolver::Output::Transmit(reg)) = node.poll_output() else { panic!() };
//! ma_machine.handle_datagram(Duration::ZERO, &Datagram { src: me, dst: reg.dst, payload: &reg.payload });
//! // The agent tells its driver first (Node ID and service level), then acks.
//! assert!(matches!(ma_machine.poll_output(),
//!     Some(agent::Output::Event(agent::Event::NodeRegistered { level: ServiceLevel::PREMIUM, .. }))));
//! let Some(agent::Output::Transmit(ack)) = ma_machine.poll_output() else { panic!() };
//! node.handle_datagram(Duration::ZERO, &Datagram { src: ma, dst: me, payload: &ack.payload });
//! assert!(matches!(node.poll_output(),
//!     Some(resolver::Output::Event(resolver::Event::Registered { granted, .. })) if granted == Duration::from_secs(600)));
//! // Re-registration is due at 2/3 of the granted lifetime.
//! assert_eq!(node.poll_timeout(), Some(Duration::from_secs(400)));
//! ```
//!
//! ## Features
//!
//! `std` (default) adds `std::error::Error` through `thiserror`;
//! `arbitrary` derives `arbitrary::Arbitrary` for the wire types;
//! `fuzzing` exposes the `fuzzing` module, the bodies of the cargo-fuzz targets. The
//! `fuzzing` cargo feature never weakens a check; only the rustc cfg
//! `--cfg fuzzing` that cargo-fuzz sets makes [`wire::verify`] accept any MAC.
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod addr;
pub mod agent;
pub mod cache;
pub mod dataplane;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod io;
pub mod resolver;
pub mod wire;
