//! # hba-cga: CGA and HBA addresses, and CGA signatures
//!
//! Cryptographically Generated Addresses (RFC 3972, with the extension
//! fields of RFC 4581 and the Sec registry of RFC 4982), Hash-Based Addresses
//! (RFC 5535) and CGA signatures (RSASSA-PKCS1-v1_5 with SHA-1 over a 128-bit
//! CGA Message Type tag, as SEND (RFC 3971) and Shim6 (RFC 5533) use them).
//!
//! ```
//! use core::net::Ipv6Addr;
//! use hba_cga::cga::{self, Sec};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // The RFC 3972 Appendix A example: a Sec=1 link-local CGA.
//! let params = hex_decode(
//!     "89a8a8b2e858d8b8f2633f44d2d4ce9bfe8000000000000000305c300d06092a864886f70d01\
//!      01010500034b003048024100c2c2f137305454f10bd9cea36844b530e9211a4b262b16467cb7df\
//!      ba1f595c0194f275be5a4d386f2c3c2382508773c7867f9b3b9e63a09c7bc48f7a54ebefaf0203010001",
//! );
//! let address: Ipv6Addr = "fe80::3c4a:5bf6:ffb4:ca6c".parse()?;
//! assert_eq!(cga::verify(&address, &params), Ok(Sec::ONE));
//!
//! // Change one bit of the address: step 4 (Hash1) fails.
//! let other: Ipv6Addr = "fe80::3c4a:5bf6:ffb4:ca6d".parse()?;
//! assert_eq!(cga::verify(&other, &params).map_err(|e| e.step()), Err(4));
//! # Ok(()) }
//! # fn hex_decode(s: &str) -> Vec<u8> {
//! #     let s: Vec<u8> = s.bytes().filter(u8::is_ascii_hexdigit).collect();
//! #     s.chunks(2).map(|c| u8::from_str_radix(std::str::from_utf8(c).unwrap(), 16).unwrap()).collect()
//! # }
//! ```
//!
//! ## Modules
//! - [`wire`]: the CGA Parameters data structure (zero-copy view and owned
//!   representation) and its RFC 4581 extension TLVs.
//! - [`cga`]: Hash1, Hash2, Sec, generation as a resumable search (and, with
//!   feature `std`, on several threads) and verification, one error per
//!   failed RFC 3972 §5 step.
//! - [`hba`]: RFC 5535 HBA sets: the Multi-Prefix extension, the 384-bit
//!   pseudo-key, set generation with one Hash2 search, membership
//!   verification, CGA-compatible sets.
//! - [`sig`]: CGA signatures (RFC 3972 §6) with the SEND and Shim6 type tags.
//!
//! ## Sans-IO and `no_std`
//! The crate is `#![no_std]` with `alloc`; it reads no clock, opens no
//! socket and has no default RNG: generation and signing take an injected
//! `rand_core` crypto RNG. Feature `std` (default) adds `std::error::Error`
//! through `thiserror` and the multi-threaded search [`cga::parallel`].
//!
//! ## Cargo features
//! - `std` (default): `std::error::Error` through `thiserror` and
//!   [`cga::parallel`], the multi-threaded modifier search (scoped threads,
//!   one contiguous slice of the modifier space per thread, a shared stop
//!   flag and attempt counter).
//! - `arbitrary`: `arbitrary::Arbitrary` for the wire representations.
//! - `fuzzing`: the bodies of the cargo-fuzz targets (`fuzzing` module). It
//!   weakens no check; only the rustc cfg `fuzzing` that cargo-fuzz sets
//!   makes [`sig::verify`] accept any signature.
//!
//! ## Security notes
//! - RUSTSEC-2023-0071 (the "Marvin" timing side channel of the `rsa`
//!   crate) concerns RSA *decryption*. This crate never decrypts: it only
//!   signs (with the blinded, RNG-taking call) and verifies.
//! - SHA-1 and RSA PKCS#1 v1.5 are what RFC 3972 and RFC 3971 mandate; the
//!   crate implements them as specified, it does not endorse them.
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod cga;
pub mod error;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod hba;
pub mod sig;
pub mod wire;

pub use error::{Error, HbaVerifyError, SignatureError, VerifyError};
