//! # shim6-proto: Shim6 and REAP
//!
//! The Shim6 multihoming shim (RFC 5533) and REAP failure detection and
//! locator pair exploration (RFC 5534), sans-IO, `no_std` + `alloc`.
//!
//! The crate holds the complete wire layer: the Shim6 header (IP
//! protocol 140), the payload extension header with its 47-bit context tag,
//! every control message (I1, R1, I2, R2, R1bis, I2bis, Update Request,
//! Update Acknowledgement, Keepalive, Probe, Error) with its checksum, and
//! every option with the critical bit exactly as RFC 5533 §5.15 says.
//! Parsing never allocates; options, locators and probe reports are
//! iterated lazily from the buffer.
//!
//! ```
//! use shim6_proto::wire::{
//!     ContextTag, ControlRepr, Message, OptionRepr, OptionValue, Options, Shim6Packet,
//! };
//!
//! let sender = "2001:db8:1::1".parse().unwrap();
//! let receiver = "2001:db8:2::2".parse().unwrap();
//! let opts = [OptionRepr::new(OptionValue::UlidPair { sender, receiver })];
//! let i1 = ControlRepr {
//!     next_header: 59,
//!     message: Message::I1 {
//!         context_tag: ContextTag::new(0x1234_5678_9abc).unwrap(),
//!         initiator_nonce: 0xdead_beef,
//!     },
//!     options: Options::List(&opts),
//! };
//! let mut buf = vec![0u8; i1.buffer_len()];
//! i1.emit(&mut Shim6Packet::new_unchecked(&mut buf[..])).unwrap(); // fills in the checksum
//! assert_eq!(buf.len(), 16 + 40);
//!
//! let view = Shim6Packet::new_checked(&buf[..]).unwrap();
//! assert!(view.verify_checksum());
//! let parsed = ControlRepr::parse(&view).unwrap();
//! assert_eq!(parsed, i1);
//! let ulids = parsed.options.iter().next().unwrap();
//! assert_eq!(ulids.value, OptionValue::UlidPair { sender, receiver });
//!
//! // A flipped bit fails the checksum.
//! buf[13] ^= 1;
//! let view = Shim6Packet::new_checked(&buf[..]).unwrap();
//! assert_eq!(ControlRepr::parse(&view), Err(shim6_proto::wire::Error::BadChecksum));
//! ```
//!
//! Two hosts establish a context (I1, R1, I2, R2) with HBA-secured
//! locators; the driver only moves bytes and runs timers:
//!
//! ```
//! use core::time::Duration;
//! use hba_cga::{cga::Sec, hba::HbaSet, sig::RsaSigner};
//! use rand_chacha::ChaCha20Rng;
//! use rand_core::SeedableRng;
//! use shim6_proto::context::ContextState;
//! use shim6_proto::endpoint::{HostConfig, Shim6Host};
//! use shim6_proto::event::{Event, Output, RxDatagram};
//! use shim6_proto::locators::LocalIdentity;
//!
//! let identity = |site: u8, seed: u64| {
//!     let prefixes = [[0x20, 1, 0xd, 0xb8, 0, site, 0, 0], [0x20, 1, 0xd, 0xb8, 0, site, 0, 1]];
//!     let set = HbaSet::generate(&mut ChaCha20Rng::seed_from_u64(seed), &prefixes, Sec::ZERO, None).unwrap();
//!     LocalIdentity::<RsaSigner>::from_hba(&set, 0).unwrap()
//! };
//! let (ia, ib) = (identity(0xa, 1), identity(0xb, 2));
//! let (ua, ub) = (ia.ulid(), ib.ulid());
//! let rng = |s| ChaCha20Rng::seed_from_u64(s);
//! let mut hosts = [
//!     Shim6Host::new(HostConfig::default(), rng(3), Duration::ZERO, vec![ia]).unwrap(),
//!     Shim6Host::new(HostConfig::default(), rng(4), Duration::ZERO, vec![ib]).unwrap(),
//! ];
//! let now = Duration::ZERO;
//! hosts[0].establish(now, ua, ub).unwrap();
//! let mut established = 0;
//! loop {
//!     let mut moved = false;
//!     for from in 0..2 {
//!         let mut buf = Vec::new();
//!         while let Some(out) = hosts[from].poll_output(&mut buf) {
//!             match out {
//!                 Output::Transmit(t) => {
//!                     let rx = RxDatagram { src: t.src, dst: t.dst, payload: &buf[buf.len() - t.len..] };
//!                     let _ = hosts[1 - from].handle_datagram(now, &rx);
//!                     moved = true;
//!                 }
//!                 Output::Event(Event::ContextEstablished(_)) => established += 1,
//!                 Output::Event(_) => {}
//!             }
//!         }
//!     }
//!     if !moved { break; }
//! }
//! assert_eq!(established, 2);
//! assert_eq!(hosts[0].state(ua, ub, 0), ContextState::Established);
//! assert_eq!(hosts[1].state(ub, ua, 0), ContextState::Established);
//! ```
//!
//! ## Modules
//! - [`wire`]: views and representations of every Shim6 and REAP format.
//! - [`endpoint`]: [`Shim6Host`](endpoint::Shim6Host), the sans-IO machine
//!   owning every context of a host: initiator (I1/I2 with retransmission
//!   and backoff, E-FAILED and NO-SUPPORT hold-downs), stateless responder
//!   (R1/R1bis from rotating validators, state only on a verified
//!   I2/I2bis), context recovery (R1bis, I2bis), locator and preference
//!   updates (Update Request/Acknowledgement), forked contexts, the ULID
//!   Pair option, context confusion, idle garbage collection, Shim6 Error
//!   messages, bounded tables and counters, every state change through
//!   [`context::step`].
//! - [`event`]: inputs and outputs of the machine (received datagrams,
//!   transmissions, forwarding-plane events).
//! - [`locators`]: local identities (HBA sets, CGAs, CGA-compatible HBA
//!   sets) and verification of a peer's locators (HBA membership, CGA
//!   signatures with the Shim6 tag) through `hba-cga`.
//! - [`dataplane`]: in-place, allocation-free locator rewriting with the
//!   payload extension header, its inverse, and the reverse mapping of an
//!   ICMPv6 error's packet in error (§8).
//! - [`heuristic`]: when to establish, as a replaceable
//!   [`TriggerPolicy`](heuristic::TriggerPolicy) (LinShim6's 2 KB / 60 s
//!   trigger, server mode, EUI-64 skip, context cap).
//! - [`ctag`]: the 47-bit context tag allocator (unique per host, random
//!   from the injected RNG, with a reuse quarantine).
//! - [`context`]: the context states of RFC 5533 §6.2 and the transition
//!   function of its Appendix B tables.
//! - [`validator`]: stateless R1/R1bis responder validators from a
//!   rotating secret (HMAC-SHA1).
//! - [`backoff`]: retransmission timeouts with binary exponential backoff
//!   and the RFC's 0.5-1.5 randomisation.
//! - [`timer`]: the deadline heap with lazily invalidated generations.
//! - [`config`]: the protocol constants of RFC 5533 §14.
//! - [`error`]: configuration and allocation errors.
//! - `fuzzing` (feature `fuzzing`): bodies of the fuzz targets, among them
//!   `shim6_host`, two hosts under arbitrary input sequences.
//!
//! Still missing (see the project tracker): REAP (RFC 5534: keepalives,
//! probes, failure detection and locator pair exploration, the Keepalive
//! Timeout option; until then the locator pair changes only through
//! [`Shim6Host::set_locator_pair`](endpoint::Shim6Host::set_locator_pair)
//! and received Locator Preferences are recorded but not acted on); acting
//! on received Shim6 Error messages, and on the ICMP errors §8 gives to the
//! shim (destination unreachable, time exceeded: REAP's business; the
//! reverse mapping for the ULP is in [`dataplane`]); the API extensions of
//! §4.3; the multi-node network tests and the mobsim driver.
//! Everything is sans-IO: time is `core::time::Duration` since the
//! driver's epoch and randomness comes from an injected `rand_core` 0.10
//! [`rand_core::CryptoRng`].
//!
//! Locator security (CGA signatures and HBA sets) comes from the `hba-cga`
//! crate; the wire layer keeps CGA Parameter Data Structures and CGA
//! signatures as opaque octets and [`locators`] verifies them. The suite
//! never performs RSA decryption, so RUSTSEC-2023-0071 (Marvin) does not
//! apply.
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod backoff;
pub mod config;
pub mod context;
pub mod ctag;
pub mod dataplane;
pub mod endpoint;
pub mod error;
pub mod event;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod heuristic;
pub mod locators;
pub mod timer;
pub mod validator;
pub mod wire;

pub use error::{ConfigError, CtagError};
pub use wire::Error;
