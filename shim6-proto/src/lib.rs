//! # shim6-proto: Shim6 and REAP
//!
//! The Shim6 multihoming shim (RFC 5533) and REAP failure detection and
//! locator pair exploration (RFC 5534), sans-IO, `no_std` + `alloc`.
//!
//! This release holds the complete wire layer: the Shim6 header (IP
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
//! ## Modules
//! - [`wire`]: views and representations of every Shim6 and REAP format.
//! - [`ctag`]: the 47-bit context tag allocator (unique per host, random
//!   from the injected RNG, with a reuse quarantine).
//! - [`context`]: the context states of RFC 5533 §6.2 and the transition
//!   function of its Appendix B tables.
//! - [`validator`]: stateless R1/R1bis responder validators from a
//!   rotating secret (HMAC-SHA1).
//! - [`backoff`]: retransmission timeouts with binary exponential backoff
//!   and the RFC's 0.5-1.5 randomisation.
//! - [`config`]: the protocol constants of RFC 5533 §14.
//! - [`error`]: configuration and allocation errors.
//!
//! Still to come (see the project tracker): the context machine around
//! [`context::step`] (initiator, responder, recovery, updates, forking),
//! locator verification through `hba-cga`, REAP behaviour and the data
//! plane. Everything is sans-IO: time is `core::time::Duration` since the
//! driver's epoch and randomness comes from an injected `rand_core` 0.10
//! [`rand_core::CryptoRng`].
//!
//! Locator security (CGA signatures and HBA sets) comes from the `hba-cga`
//! crate; the wire layer keeps CGA Parameter Data Structures and CGA
//! signatures as opaque octets. The suite never performs RSA decryption, so
//! RUSTSEC-2023-0071 (Marvin) does not apply.
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
