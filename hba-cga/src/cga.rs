//! CGA hashes, generation (RFC 3972 §4) and verification (RFC 3972 §5).
//!
//! Generation is split in two so that nothing ever blocks a driver:
//! [`Hash2Search`] (and [`CgaSearch`], which adds the subnet prefix) runs the
//! modifier search of steps 1-3 in bounded [`step`](CgaSearch::step)s, and
//! [`Cga::from_modifier`] does steps 4-7 and 9. A duplicate address
//! detection collision (step 8) is reported with [`Cga::report_collision`].
//! With feature `std`, [`parallel::ParallelSearch`] splits the modifier space
//! over threads.
//!
//! Sec values: RFC 3972 defines Sec 0-7 as "16*Sec leftmost bits of Hash2
//! are zero" with SHA-1, and every verifier MUST process all eight.
//! RFC 4982 turned Sec into a registry and registered only 0, 1 and 2 (with
//! that same meaning); 3-7 are unassigned there. This crate generates and
//! verifies all eight with the RFC 3972 meaning; [`Sec::is_registered`] tells
//! which ones RFC 4982 registers.
//!
//! ```
//! use core::net::Ipv6Addr;
//! use hba_cga::cga::{verify, Cga, CgaSearch, Sec};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // Any DER SEQUENCE works as a key here: the CGA hashes treat it as
//! // opaque bytes (real callers pass an RSA SubjectPublicKeyInfo).
//! let key = [0x30, 0x03, 0x02, 0x01, 0x03];
//! let prefix = [0xfe, 0x80, 0, 0, 0, 0, 0, 0];
//! let sec = Sec::new(1)?;
//! let mut search = CgaSearch::new(prefix, sec, &key, &[], [0x42; 16])?;
//! let cga: Cga = loop {
//!     // a driver would do one bounded step per turn of its event loop
//!     if let Some(cga) = search.step(10_000) {
//!         break cga;
//!     }
//! };
//! assert_eq!(verify(&cga.address(), cga.params_bytes()), Ok(sec));
//! assert!(search.attempts() >= 1);
//! # Ok(()) }
//! ```

use alloc::vec::Vec;
use core::net::Ipv6Addr;

use rand_core::CryptoRng;
use sha1::{Digest, Sha1};

use crate::error::{Error, VerifyError};
use crate::wire::{CgaParams, CgaParamsRepr, ExtensionRepr};

/// The security parameter Sec (RFC 3972 §2), a 3-bit unsigned integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Sec(u8);

impl Sec {
    /// Sec 0: no hash extension.
    pub const ZERO: Self = Self(0);
    /// Sec 1: 16 zero bits of Hash2.
    pub const ONE: Self = Self(1);
    /// Sec 2: 32 zero bits of Hash2.
    pub const TWO: Self = Self(2);

    /// Builds a Sec from 0-7.
    ///
    /// # Errors
    /// [`Error::BadSec`] for values above 7.
    pub const fn new(v: u8) -> Result<Self, Error> {
        if v > 7 {
            Err(Error::BadSec(v))
        } else {
            Ok(Self(v))
        }
    }

    /// The value, 0-7.
    #[must_use]
    pub const fn get(self) -> u8 {
        self.0
    }

    /// How many leftmost bits of Hash2 must be zero (16*Sec).
    #[must_use]
    pub const fn zero_bits(self) -> u32 {
        16 * self.0 as u32
    }

    /// Whether RFC 4982's CGA SEC registry assigns this value (0, 1, 2).
    #[must_use]
    pub const fn is_registered(self) -> bool {
        self.0 <= 2
    }

    /// Expected number of Hash2 attempts of a modifier search, 2^(16*Sec).
    #[must_use]
    #[allow(clippy::cast_precision_loss)]
    pub fn expected_attempts(self) -> f64 {
        (1u128 << self.zero_bits()) as f64
    }

    /// The Sec written in the three leftmost bits of an address.
    #[must_use]
    pub const fn of_address(addr: &Ipv6Addr) -> Self {
        Self(addr.octets()[8] >> 5)
    }
}

/// The leftmost 64 bits of an address (its subnet prefix).
#[must_use]
pub fn prefix_of(addr: &Ipv6Addr) -> [u8; 8] {
    let o = addr.octets();
    *o.first_chunk::<8>().unwrap_or(&[0; 8])
}

/// Joins a subnet prefix and an interface identifier.
#[must_use]
pub fn make_address(prefix: &[u8; 8], iid: &[u8; 8]) -> Ipv6Addr {
    let mut o = [0u8; 16];
    let (hi, lo) = o.split_at_mut(8);
    hi.copy_from_slice(prefix);
    lo.copy_from_slice(iid);
    Ipv6Addr::from(o)
}

/// Hash1 (RFC 3972 §3): the leftmost 64 bits of SHA-1 over the CGA
/// Parameters.
#[must_use]
pub fn hash1(params: &[u8]) -> [u8; 8] {
    first8(&Sha1::digest(params))
}

fn first8(d: &[u8]) -> [u8; 8] {
    let mut h = [0; 8];
    if let Some(s) = d.get(..8) {
        h.copy_from_slice(s);
    }
    h
}

/// Hash2 (RFC 3972 §3): the leftmost 112 bits of SHA-1 over the modifier,
/// 9 zero octets, the public key and the extension fields
/// (`key_and_extensions`).
#[must_use]
pub fn hash2(modifier: &[u8; 16], key_and_extensions: &[u8]) -> [u8; 14] {
    let d = Sha1::new()
        .chain_update(modifier)
        .chain_update([0u8; 9])
        .chain_update(key_and_extensions)
        .finalize();
    let mut h = [0; 14];
    if let Some(s) = d.get(..14) {
        h.copy_from_slice(s);
    }
    h
}

/// Whether the 16*Sec leftmost bits of Hash2 are zero (§4 step 3, §5 step 7).
#[must_use]
pub fn hash2_satisfies(hash2: &[u8; 14], sec: Sec) -> bool {
    hash2
        .iter()
        .take(usize::from(sec.get()) * 2)
        .all(|&b| b == 0)
}

/// The interface identifier of §4 step 6: Hash1 with Sec in the three
/// leftmost bits and the u and g bits (bits 6 and 7) cleared.
#[must_use]
pub fn interface_id(hash1: &[u8; 8], sec: Sec) -> [u8; 8] {
    //= https://www.rfc-editor.org/rfc/rfc3972#section-4
    //# 6. Form an interface identifier from Hash1 by writing the value of
    //#    Sec into the three leftmost bits and by setting bits 6 and 7
    //#    (i.e., the "u" and "g" bits) to zero.
    let mut iid = *hash1;
    iid[0] = (iid[0] & 0x1c) | (sec.get() << 5);
    iid
}

/// The SHA-1 initial hash value (FIPS 180-4 §5.3.1).
const SHA1_IV: [u32; 5] = [
    0x6745_2301,
    0xEFCD_AB89,
    0x98BA_DCFE,
    0x1032_5476,
    0xC3D2_E1F0,
];

/// Hash2 for many modifiers over one constant tail, with no allocation and
/// no copy per attempt: the message is padded once into SHA-1 blocks, and
/// each attempt rewrites the 16 modifier octets of the first block and runs
/// the compression function over all blocks.
#[derive(Clone)]
pub struct Hash2Engine {
    blocks: Vec<[u8; 64]>,
}

impl core::fmt::Debug for Hash2Engine {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Hash2Engine")
            .field("blocks", &self.blocks.len())
            .finish()
    }
}

impl Hash2Engine {
    /// Pads `modifier(16) | 0^9 | key_and_extensions` once.
    #[must_use]
    pub fn new(key_and_extensions: &[u8]) -> Self {
        let msg_len = 25 + key_and_extensions.len();
        let n_blocks = (msg_len + 1 + 8).div_ceil(64);
        let mut flat = alloc::vec![0u8; n_blocks * 64];
        if let Some(dst) = flat.get_mut(25..msg_len) {
            dst.copy_from_slice(key_and_extensions);
        }
        if let Some(b) = flat.get_mut(msg_len) {
            *b = 0x80;
        }
        let bit_len = (msg_len as u64).wrapping_mul(8).to_be_bytes();
        let end = flat.len();
        if let Some(dst) = flat.get_mut(end - 8..) {
            dst.copy_from_slice(&bit_len);
        }
        let blocks = flat
            .chunks_exact(64)
            .map(|c| {
                let mut b = [0u8; 64];
                b.copy_from_slice(c);
                b
            })
            .collect();
        Self { blocks }
    }

    /// SHA-1 blocks compressed per attempt.
    #[must_use]
    pub fn blocks_per_attempt(&self) -> usize {
        self.blocks.len()
    }

    /// The full SHA-1 state after hashing with `modifier`.
    #[inline]
    pub fn state(&mut self, modifier: u128) -> [u32; 5] {
        if let Some(b) = self.blocks.first_mut()
            && let Some(m) = b.get_mut(..16)
        {
            m.copy_from_slice(&modifier.to_be_bytes());
        }
        let mut st = SHA1_IV;
        sha1::block_api::compress(&mut st, &self.blocks);
        st
    }

    /// Hash2 for `modifier`.
    #[must_use]
    pub fn hash2(&mut self, modifier: u128) -> [u8; 14] {
        let st = self.state(modifier);
        let mut out = [0u8; 20];
        for (dst, w) in out.chunks_exact_mut(4).zip(st) {
            dst.copy_from_slice(&w.to_be_bytes());
        }
        let mut h = [0; 14];
        h.copy_from_slice(out.get(..14).unwrap_or(&[0; 14]));
        h
    }

    /// Whether `modifier` satisfies Sec (the 16*Sec leftmost bits of Hash2
    /// are zero).
    #[inline]
    pub fn satisfies(&mut self, modifier: u128, sec: Sec) -> bool {
        if sec.get() == 0 {
            return true;
        }
        let st = self.state(modifier);
        let hi = (u128::from(st[0]) << 96)
            | (u128::from(st[1]) << 64)
            | (u128::from(st[2]) << 32)
            | u128::from(st[3]);
        hi >> (128 - sec.zero_bits()) == 0
    }
}

/// The modifier search of RFC 3972 §4 steps 1-3 (and RFC 5535 §6 steps
/// 2-4), in bounded steps.
///
/// It tries `start`, `start + 1`, ... (modulo 2^128) until Hash2 has
/// 16*Sec leading zero bits, or until `limit` modifiers were tried.
#[derive(Debug, Clone)]
pub struct Hash2Search {
    engine: Hash2Engine,
    sec: Sec,
    next: u128,
    remaining: u128,
    attempts: u64,
    found: Option<[u8; 16]>,
}

impl Hash2Search {
    /// A search from `start` over the public key and encoded extension
    /// fields (RFC 4581 TLVs), with no limit.
    #[must_use]
    pub fn new(sec: Sec, public_key: &[u8], extensions: &[u8], start: [u8; 16]) -> Self {
        let mut tail = Vec::with_capacity(public_key.len() + extensions.len());
        tail.extend_from_slice(public_key);
        tail.extend_from_slice(extensions);
        Self::with_tail(sec, &tail, start, u128::MAX)
    }

    /// A search over `key_and_extensions` that tries at most `limit`
    /// modifiers from `start` (used to split the space between threads).
    #[must_use]
    pub fn with_tail(sec: Sec, key_and_extensions: &[u8], start: [u8; 16], limit: u128) -> Self {
        let found = (sec.get() == 0).then_some(start);
        Self {
            engine: Hash2Engine::new(key_and_extensions),
            sec,
            next: u128::from_be_bytes(start),
            remaining: limit,
            attempts: 0,
            found,
        }
    }

    /// Tries at most `max_iters` modifiers. Returns the modifier once one
    /// satisfies Sec (at once for Sec 0: steps 2-3 are skipped), and keeps
    /// returning it on later calls.
    pub fn step(&mut self, max_iters: u64) -> Option<[u8; 16]> {
        if self.found.is_some() {
            return self.found;
        }
        let n = u128::from(max_iters).min(self.remaining);
        let mut m = self.next;
        let mut done: u128 = 0;
        while done < n {
            done += 1;
            if self.engine.satisfies(m, self.sec) {
                self.found = Some(m.to_be_bytes());
                break;
            }
            m = m.wrapping_add(1);
        }
        self.next = m;
        self.remaining -= done;
        self.attempts = self
            .attempts
            .saturating_add(u64::try_from(done).unwrap_or(u64::MAX));
        self.found
    }

    /// Hash2 computations so far.
    #[must_use]
    pub fn attempts(&self) -> u64 {
        self.attempts
    }

    /// The modifier found, if any.
    #[must_use]
    pub fn found(&self) -> Option<[u8; 16]> {
        self.found
    }

    /// Whether the search stopped without a match because its limit ran out.
    #[must_use]
    pub fn is_exhausted(&self) -> bool {
        self.found.is_none() && self.remaining == 0
    }

    /// The security parameter searched for.
    #[must_use]
    pub fn sec(&self) -> Sec {
        self.sec
    }

    /// SHA-1 blocks per attempt.
    #[must_use]
    pub fn blocks_per_attempt(&self) -> usize {
        self.engine.blocks_per_attempt()
    }
}

/// A resumable CGA generation (RFC 3972 §4) for one subnet prefix.
#[derive(Debug, Clone)]
pub struct CgaSearch {
    search: Hash2Search,
    template: CgaParamsRepr,
    template_bytes: Vec<u8>,
}

impl CgaSearch {
    /// A search with the initial modifier `start` (step 1). Extensions are
    /// given as encoded RFC 4581 TLV octets.
    ///
    /// # Errors
    /// [`Error::BadPublicKey`] / [`Error::Truncated`] when the key is not
    /// exactly one DER SEQUENCE, [`Error::BadExtension`] when `extensions`
    /// are not well-formed TLVs.
    pub fn new(
        prefix: [u8; 8],
        sec: Sec,
        public_key: &[u8],
        extensions: &[u8],
        start: [u8; 16],
    ) -> Result<Self, Error> {
        let mut bytes = Vec::with_capacity(25 + public_key.len() + extensions.len());
        bytes.extend_from_slice(&[0; 16]);
        bytes.extend_from_slice(&prefix);
        bytes.push(0);
        bytes.extend_from_slice(public_key);
        bytes.extend_from_slice(extensions);
        let template = CgaParamsRepr::from_bytes(&bytes)?;
        if template.public_key.len() != public_key.len() {
            return Err(Error::BadPublicKey);
        }
        Ok(Self {
            search: Hash2Search::new(sec, public_key, extensions, start),
            template,
            template_bytes: bytes,
        })
    }

    /// A search from a random initial modifier (RFC 3972 §4: "SHOULD be
    /// chosen randomly").
    ///
    /// # Errors
    /// See [`CgaSearch::new`].
    pub fn with_rng<R: CryptoRng + ?Sized>(
        rng: &mut R,
        prefix: [u8; 8],
        sec: Sec,
        public_key: &[u8],
        extensions: &[u8],
    ) -> Result<Self, Error> {
        let mut start = [0u8; 16];
        rng.fill_bytes(&mut start);
        Self::new(prefix, sec, public_key, extensions, start)
    }

    /// Tries at most `max_iters` modifiers; `Some(cga)` once one satisfies
    /// Sec (steps 4-7 and 9 done, collision count 0).
    pub fn step(&mut self, max_iters: u64) -> Option<Cga> {
        let m = self.search.step(max_iters)?;
        let mut params = self.template.clone();
        params.modifier = m;
        let mut bytes = self.template_bytes.clone();
        CgaParams::new_unchecked(&mut bytes[..]).set_modifier(&m);
        Some(Cga::assemble(params, bytes, self.search.sec()))
    }

    /// Hash2 computations so far.
    #[must_use]
    pub fn attempts(&self) -> u64 {
        self.search.attempts()
    }

    /// The underlying modifier search.
    #[must_use]
    pub fn hash2_search(&self) -> &Hash2Search {
        &self.search
    }
}

/// A generated CGA: the address and its CGA Parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cga {
    address: Ipv6Addr,
    sec: Sec,
    params: CgaParamsRepr,
    bytes: Vec<u8>,
}

impl Cga {
    /// Steps 4-7 and 9 of RFC 3972 §4 for a modifier that satisfies Sec
    /// (from a search, or reused for a new prefix as §4 allows).
    ///
    /// # Errors
    /// [`Error::BadPublicKey`] / [`Error::Truncated`] when the key is not
    /// exactly one DER SEQUENCE, [`Error::TooLong`] for an oversized
    /// extension.
    pub fn from_modifier(
        modifier: [u8; 16],
        prefix: [u8; 8],
        sec: Sec,
        public_key: &[u8],
        extensions: &[ExtensionRepr],
    ) -> Result<Self, Error> {
        Self::from_params(
            CgaParamsRepr {
                modifier,
                subnet_prefix: prefix,
                collision_count: 0,
                public_key: public_key.to_vec(),
                extensions: extensions.to_vec(),
            },
            sec,
        )
    }

    /// The address for given parameters (steps 5-7 with their collision
    /// count). The modifier is not checked against Sec: see [`verify`].
    ///
    /// # Errors
    /// See [`Cga::from_modifier`]; [`Error::TooManyCollisions`] for a
    /// collision count above 2.
    pub fn from_params(params: CgaParamsRepr, sec: Sec) -> Result<Self, Error> {
        if params.collision_count > 2 {
            return Err(Error::TooManyCollisions);
        }
        let bytes = params.to_vec()?;
        Ok(Self::assemble(params, bytes, sec))
    }

    /// Steps 5-7 on parameters already encoded as `bytes`.
    fn assemble(params: CgaParamsRepr, bytes: Vec<u8>, sec: Sec) -> Self {
        let iid = interface_id(&hash1(&bytes), sec);
        Self {
            address: make_address(&params.subnet_prefix, &iid),
            sec,
            params,
            bytes,
        }
    }

    /// Step 8: duplicate address detection found the address in use.
    /// Increments the collision count and recomputes the address.
    ///
    /// # Errors
    /// [`Error::TooManyCollisions`] on the third collision (the CGA is left
    /// unchanged).
    pub fn report_collision(&mut self) -> Result<(), Error> {
        //= https://www.rfc-editor.org/rfc/rfc3972#section-4
        //# If an address collision is detected, increment the collision count
        //# by one and go back to step 5.  However, after three collisions,
        //# stop and report the error.
        if self.params.collision_count >= 2 {
            return Err(Error::TooManyCollisions);
        }
        let mut p = self.params.clone();
        p.collision_count += 1;
        *self = Self::from_params(p, self.sec)?;
        Ok(())
    }

    /// The address.
    #[must_use]
    pub fn address(&self) -> Ipv6Addr {
        self.address
    }

    /// The security parameter.
    #[must_use]
    pub fn sec(&self) -> Sec {
        self.sec
    }

    /// The CGA Parameters.
    #[must_use]
    pub fn params(&self) -> &CgaParamsRepr {
        &self.params
    }

    /// The encoded CGA Parameters.
    #[must_use]
    pub fn params_bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// Verifies an address against encoded CGA Parameters (RFC 3972 §5, every
/// step, stopping at the first failure). Returns the Sec read from the
/// address.
///
/// # Errors
/// The [`VerifyError`] of the failed step.
pub fn verify(address: &Ipv6Addr, params: &[u8]) -> Result<Sec, VerifyError> {
    let view = CgaParams::new_checked(params).map_err(VerifyError::Malformed)?;
    verify_view(address, &view)
}

/// [`verify`] on a checked view.
///
/// # Errors
/// The [`VerifyError`] of the failed step.
pub fn verify_view<T: AsRef<[u8]>>(
    address: &Ipv6Addr,
    params: &CgaParams<T>,
) -> Result<Sec, VerifyError> {
    verify_inner(address, params, None)
}

/// RFC 3972 §5, optionally with the subnet prefix replaced (RFC 5535 §7.2
/// step 1) without copying the parameters.
pub(crate) fn verify_inner<T: AsRef<[u8]>>(
    address: &Ipv6Addr,
    params: &CgaParams<T>,
    prefix_override: Option<[u8; 8]>,
) -> Result<Sec, VerifyError> {
    params.check_len().map_err(VerifyError::Malformed)?;
    //= https://www.rfc-editor.org/rfc/rfc3972#section-5
    //# 1. Check that the collision count in the CGA Parameters data
    //#    structure is 0, 1, or 2.  The CGA verification fails if the
    //#    collision count is out of the valid range.
    let cc = params.collision_count();
    if cc > 2 {
        return Err(VerifyError::CollisionCount(cc));
    }
    //= https://www.rfc-editor.org/rfc/rfc3972#section-5
    //# 2. Check that the subnet prefix in the CGA Parameters data structure
    //#    is equal to the subnet prefix (i.e., the leftmost 64 bits) of the
    //#    address.  The CGA verification fails if the prefix values differ.
    let subnet_prefix = prefix_override.unwrap_or_else(|| params.subnet_prefix());
    let addr_prefix = prefix_of(address);
    if subnet_prefix != addr_prefix {
        return Err(VerifyError::SubnetPrefix);
    }
    //= https://www.rfc-editor.org/rfc/rfc3972#section-5
    //# 3. Execute the SHA-1 algorithm on the CGA Parameters data structure.
    //#    Take the 64 leftmost bits of the SHA-1 hash value.  The result is
    //#    Hash1.
    let h1 = first8(
        &Sha1::new()
            .chain_update(params.modifier())
            .chain_update(subnet_prefix)
            .chain_update([cc])
            .chain_update(params.key_and_extensions())
            .finalize(),
    );
    //= https://www.rfc-editor.org/rfc/rfc3972#section-5
    //# 4. Compare Hash1 with the interface identifier (i.e., the rightmost
    //#    64 bits) of the address.  Differences in the three leftmost bits
    //#    and in bits 6 and 7 (i.e., the "u" and "g" bits) are ignored.
    let o = address.octets();
    let iid = o.last_chunk::<8>().copied().unwrap_or([0; 8]);
    let mut a = iid;
    let mut b = h1;
    a[0] &= 0x1c;
    b[0] &= 0x1c;
    if a != b {
        return Err(VerifyError::Hash1);
    }
    //= https://www.rfc-editor.org/rfc/rfc3972#section-5
    //# 5. Read the security parameter Sec from the three leftmost bits of
    //#    the 64-bit interface identifier of the address.
    let sec = Sec::of_address(address);
    //= https://www.rfc-editor.org/rfc/rfc3972#section-5
    //# 7. Compare the 16*Sec leftmost bits of Hash2 with zero.  If any one
    //#    of them is not zero, the CGA verification fails.
    // (Steps 6 and 7 are skipped for Sec 0, where they cannot fail.)
    if sec.get() != 0 {
        let h2 = hash2(&params.modifier(), params.key_and_extensions());
        if !hash2_satisfies(&h2, sec) {
            return Err(VerifyError::Hash2(sec.get()));
        }
    }
    Ok(sec)
}

/// Generates a CGA on the calling thread, blocking until the search ends
/// (use [`CgaSearch`] to stay responsive, or
/// [`parallel::generate`] with feature `std`).
///
/// # Errors
/// See [`CgaSearch::new`].
pub fn generate<R: CryptoRng + ?Sized>(
    rng: &mut R,
    prefix: [u8; 8],
    sec: Sec,
    public_key: &[u8],
    extensions: &[u8],
) -> Result<Cga, Error> {
    let mut s = CgaSearch::with_rng(rng, prefix, sec, public_key, extensions)?;
    loop {
        if let Some(c) = s.step(1 << 20) {
            return Ok(c);
        }
    }
}

#[cfg(feature = "std")]
pub mod parallel {
    //! Multi-threaded modifier search (feature `std`).
    //!
    //! The modifier space (2^128 values, taken modulo 2^128 from the start
    //! modifier) is cut into one contiguous range per thread, so no modifier
    //! is tried twice; each thread increments through its range as RFC 3972
    //! §4 step 3 does. A shared flag stops every thread once one finds a
    //! match, and a shared counter makes progress observable while
    //! [`ParallelSearch::run`] blocks (call [`ParallelSearch::attempts`] from
    //! another thread). Threads are scoped: nothing outlives `run`.

    use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

    use super::{Cga, Hash2Search, Sec};
    use crate::error::Error;
    use crate::wire::ExtensionRepr;
    use alloc::vec::Vec;
    use rand_core::CryptoRng;

    /// Modifiers tried between two looks at the stop flag.
    const BATCH: u64 = 4096;

    /// A modifier search over several threads.
    #[derive(Debug)]
    pub struct ParallelSearch {
        tail: Vec<u8>,
        sec: Sec,
        start: u128,
        limit: u128,
        threads: usize,
        attempts: AtomicU64,
        stop: AtomicBool,
    }

    impl ParallelSearch {
        /// A search from `start` on `threads` threads (at least 1).
        #[must_use]
        pub fn new(
            sec: Sec,
            public_key: &[u8],
            extensions: &[u8],
            start: [u8; 16],
            threads: usize,
        ) -> Self {
            let mut tail = Vec::with_capacity(public_key.len() + extensions.len());
            tail.extend_from_slice(public_key);
            tail.extend_from_slice(extensions);
            Self {
                tail,
                sec,
                start: u128::from_be_bytes(start),
                limit: u128::MAX,
                threads: threads.max(1),
                attempts: AtomicU64::new(0),
                stop: AtomicBool::new(false),
            }
        }

        /// Tries at most `total` modifiers over all threads (default: the
        /// whole space), so that a bounded run (a benchmark, a time-boxed
        /// attempt) ends on its own.
        #[must_use]
        pub fn with_limit(mut self, total: u128) -> Self {
            self.limit = total;
            self
        }

        /// The range of thread `i`: its first modifier and its length.
        #[must_use]
        pub fn range(&self, i: usize) -> (u128, u128) {
            let n = self.threads as u128;
            let chunk = self.limit / n;
            let i = i as u128;
            let first = self.start.wrapping_add(chunk.wrapping_mul(i));
            let len = if i + 1 == n {
                self.limit - chunk * (n - 1)
            } else {
                chunk
            };
            (first, len)
        }

        /// Runs the search to the end (or until [`ParallelSearch::cancel`]).
        /// Returns the modifier found, `None` if cancelled.
        pub fn run(&self) -> Option<[u8; 16]> {
            if self.sec.get() == 0 {
                return Some(self.start.to_be_bytes());
            }
            let results: Vec<Option<[u8; 16]>> = std::thread::scope(|s| {
                let handles: Vec<_> = (0..self.threads)
                    .map(|i| s.spawn(move || self.worker(i)))
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().ok().flatten())
                    .collect()
            });
            results.into_iter().flatten().next()
        }

        fn worker(&self, i: usize) -> Option<[u8; 16]> {
            let (first, len) = self.range(i);
            let mut h = Hash2Search::with_tail(self.sec, &self.tail, first.to_be_bytes(), len);
            loop {
                if self.stop.load(Ordering::Relaxed) {
                    return None;
                }
                let before = h.attempts();
                let r = h.step(BATCH);
                self.attempts
                    .fetch_add(h.attempts() - before, Ordering::Relaxed);
                if r.is_some() {
                    self.stop.store(true, Ordering::Relaxed);
                    return r;
                }
                if h.is_exhausted() {
                    return None;
                }
            }
        }

        /// Hash2 computations so far, over all threads.
        #[must_use]
        pub fn attempts(&self) -> u64 {
            self.attempts.load(Ordering::Relaxed)
        }

        /// Stops the search; `run` returns `None` soon after.
        pub fn cancel(&self) {
            self.stop.store(true, Ordering::Relaxed);
        }

        /// Number of threads.
        #[must_use]
        pub fn threads(&self) -> usize {
            self.threads
        }
    }

    /// Generates a CGA with a random start modifier on `threads` threads.
    ///
    /// # Errors
    /// See [`Cga::from_modifier`].
    pub fn generate<R: CryptoRng + ?Sized>(
        rng: &mut R,
        prefix: [u8; 8],
        sec: Sec,
        public_key: &[u8],
        extensions: &[ExtensionRepr],
        threads: usize,
    ) -> Result<Cga, Error> {
        let mut start = [0u8; 16];
        rng.fill_bytes(&mut start);
        let ext = ExtensionRepr::encode_all(extensions)?;
        let s = ParallelSearch::new(sec, public_key, &ext, start, threads);
        // Unbounded and never cancelled: `run` only ends by finding one.
        let m = s.run().ok_or(Error::SearchExhausted)?;
        Cga::from_modifier(m, prefix, sec, public_key, extensions)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_matches_sha1() {
        for len in [0usize, 1, 30, 31, 38, 39, 40, 100, 162, 294, 500] {
            let tail: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
            let mut e = Hash2Engine::new(&tail);
            for m in [
                0u128,
                1,
                u128::MAX,
                0x0123_4567_89ab_cdef_0011_2233_4455_6677,
            ] {
                assert_eq!(e.hash2(m), hash2(&m.to_be_bytes(), &tail), "len {len}");
            }
        }
    }

    #[test]
    fn interface_id_bits() {
        let iid = interface_id(&[0xff; 8], Sec::new(5).unwrap());
        assert_eq!(iid[0], 0b1011_1100);
        assert_eq!(&iid[1..], &[0xff; 7]);
        let iid = interface_id(&[0x00; 8], Sec::ZERO);
        assert_eq!(iid, [0; 8]);
    }

    #[test]
    fn sec_range() {
        assert!(Sec::new(7).is_ok());
        assert_eq!(Sec::new(8), Err(Error::BadSec(8)));
        assert!(Sec::TWO.is_registered());
        assert!(!Sec::new(3).unwrap().is_registered());
    }

    #[test]
    fn satisfies_matches_bytes() {
        let mut e = Hash2Engine::new(&[1, 2, 3]);
        for m in 0u128..5000 {
            let h = e.hash2(m);
            for s in 0..=2 {
                let sec = Sec::new(s).unwrap();
                assert_eq!(e.satisfies(m, sec), hash2_satisfies(&h, sec));
            }
        }
    }

    #[test]
    fn step_is_bounded_and_resumable() {
        let mut a = Hash2Search::new(Sec::ONE, &[0x30, 0x00], &[], [0; 16]);
        let mut b = a.clone();
        let whole = loop {
            if let Some(m) = a.step(u64::MAX) {
                break m;
            }
        };
        let mut calls = 0u64;
        let stepped = loop {
            calls += 1;
            if let Some(m) = b.step(100) {
                break m;
            }
            assert_eq!(b.attempts(), calls * 100);
        };
        assert_eq!(whole, stepped);
        assert_eq!(a.attempts(), b.attempts());
        let mut h = Hash2Engine::new(&[0x30, 0x00]);
        assert!(hash2_satisfies(
            &h.hash2(u128::from_be_bytes(whole)),
            Sec::ONE
        ));
        // Every earlier modifier failed.
        for m in 0..u128::from_be_bytes(whole) {
            assert!(!h.satisfies(m, Sec::ONE));
        }
    }

    #[test]
    fn limit_exhausts() {
        let mut s = Hash2Search::with_tail(Sec::new(7).unwrap(), &[0x30, 0x00], [0; 16], 10);
        assert_eq!(s.step(100), None);
        assert!(s.is_exhausted());
        assert_eq!(s.attempts(), 10);
    }

    #[cfg(feature = "std")]
    #[test]
    fn parallel_ranges_cover_the_space() {
        for n in 1..=5usize {
            let p = parallel::ParallelSearch::new(Sec::ONE, &[0x30, 0], &[], [0xff; 16], n);
            let mut total: u128 = 0;
            let mut expect_first = u128::MAX;
            for i in 0..n {
                let (first, len) = p.range(i);
                assert_eq!(first, expect_first);
                expect_first = first.wrapping_add(len);
                total += len;
            }
            assert_eq!(total, u128::MAX);
            let p = p.with_limit(1001);
            let total: u128 = (0..n).map(|i| p.range(i).1).sum();
            assert_eq!(total, 1001);
            assert_eq!(p.range(0).0, u128::MAX);
        }
    }

    #[cfg(feature = "std")]
    #[test]
    fn parallel_limit_counts_every_attempt() {
        let p = parallel::ParallelSearch::new(Sec::new(7).unwrap(), &[0x30, 0], &[], [0; 16], 2)
            .with_limit(10_000);
        assert_eq!(p.run(), None);
        assert_eq!(p.attempts(), 10_000);
    }

    #[cfg(feature = "std")]
    #[test]
    fn parallel_one_thread_equals_sequential() {
        let key = [0x30, 0x01, 0x07];
        let mut seq = Hash2Search::new(Sec::ONE, &key, &[], [3; 16]);
        let m = seq.step(u64::MAX).unwrap();
        let p = parallel::ParallelSearch::new(Sec::ONE, &key, &[], [3; 16], 1);
        assert_eq!(p.run(), Some(m));
        assert_eq!(p.attempts(), seq.attempts());
        let p2 = parallel::ParallelSearch::new(Sec::ONE, &key, &[], [3; 16], 2);
        let m2 = p2.run().unwrap();
        assert!(hash2_satisfies(&hash2(&m2, &key), Sec::ONE));
    }

    #[cfg(feature = "std")]
    #[test]
    fn parallel_cancel() {
        let p = parallel::ParallelSearch::new(Sec::new(7).unwrap(), &[0x30, 0], &[], [0; 16], 2);
        p.cancel();
        assert_eq!(p.run(), None);
    }
}
