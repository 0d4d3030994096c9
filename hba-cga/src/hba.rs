//! Hash-Based Addresses (RFC 5535).
//!
//! An HBA set binds a set of prefixes together: every member's CGA
//! Parameters carry the same modifier, the same public key (or 384-bit
//! pseudo-key) and the Multi-Prefix extension listing every prefix, so the
//! one Hash2 search (RFC 5535 §6 steps 2-4) serves the whole set.
//!
//! ```
//! use hba_cga::cga::Sec;
//! use hba_cga::hba::{verify_membership, HbaKey, HbaSet};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let prefixes = [[0x20, 0x01, 0x0d, 0xb8, 0, 0xa, 0, 0], [0x20, 0x01, 0x0d, 0xb8, 0, 0xb, 0, 0]];
//! // An HBA-only set (no public key): the pseudo-key is 384 random bits.
//! let set = HbaSet::from_modifier([0; 16], &prefixes, Sec::ZERO, HbaKey::Pseudo([7; 48]))?;
//! let a = set.members()[0].address();
//! let b = set.members()[1].address();
//! // The parameters of member 0 prove that member 1 belongs to the set.
//! assert!(verify_membership(&b, set.members()[0].params_bytes()).is_ok());
//! assert!(verify_membership(&a, set.members()[0].params_bytes()).is_ok());
//! # Ok(()) }
//! ```
//!
//! Pseudo-key format: RFC 5535 §6 asks for the 384-bit random value
//! "formatted as an RSA key in a DER-encoded ASN.1 structure of the type
//! SubjectPublicKeyInfo". [`pseudo_key_der`] produces what the deployed
//! implementations produce and what the project's independent vectors
//! (LinShim6's libcga, checked by its authors against a third
//! implementation) contain: an `rsaEncryption` SubjectPublicKeyInfo whose
//! BIT STRING holds the 48 random octets. Verification never decodes the
//! key, so any encoding verifies.

use alloc::vec::Vec;
use core::net::Ipv6Addr;

use rand_core::CryptoRng;

use crate::cga::{self, Cga, Hash2Search, Sec, prefix_of};
use crate::error::{Error, HbaVerifyError};
use crate::wire::{CgaParams, ExtensionRepr};

/// The CGA Extension Type of the Multi-Prefix extension (RFC 5535 §10).
pub const MULTI_PREFIX_EXT_TYPE: u16 = 0x0012;

/// Length of the pseudo-key random value (384 bits, RFC 5535 §6).
pub const PSEUDO_KEY_LEN: usize = 48;

/// The P flag: the first bit of the 32-bit flags word (RFC 5535 §5).
const P_FLAG: u32 = 0x8000_0000;

/// Most prefixes one Multi-Prefix extension holds ((65535 - 4) / 8).
pub const MAX_PREFIXES: usize = (u16::MAX as usize - 4) / 8;

/// The DER prefix of a pseudo-key: SEQUENCE { AlgorithmIdentifier
/// { rsaEncryption, NULL }, BIT STRING (49 octets: 0 unused bits) }.
const PSEUDO_KEY_PREFIX: [u8; 20] = [
    0x30, 0x42, 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05,
    0x00, 0x03, 0x31, 0x00,
];

/// Encodes 384 random bits as an HBA pseudo-key SubjectPublicKeyInfo.
#[must_use]
pub fn pseudo_key_der(random: &[u8; PSEUDO_KEY_LEN]) -> Vec<u8> {
    let mut v = Vec::with_capacity(PSEUDO_KEY_PREFIX.len() + PSEUDO_KEY_LEN);
    v.extend_from_slice(&PSEUDO_KEY_PREFIX);
    v.extend_from_slice(random);
    v
}

/// Whether a public key field is a pseudo-key in the [`pseudo_key_der`]
/// format.
#[must_use]
pub fn is_pseudo_key(der: &[u8]) -> bool {
    der.len() == PSEUDO_KEY_PREFIX.len() + PSEUDO_KEY_LEN && der.starts_with(&PSEUDO_KEY_PREFIX)
}

/// The Multi-Prefix extension (RFC 5535 §5).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct MultiPrefixExt {
    /// The P flag: a real public key is in the Public Key field.
    pub public_key: bool,
    /// Prefix\[1..n\].
    pub prefixes: Vec<[u8; 8]>,
}

impl MultiPrefixExt {
    /// Parses the Extension Data (flags word, then 8n octets of prefixes).
    /// The 31 reserved bits are ignored, as §5 requires on receipt.
    ///
    /// # Errors
    /// [`Error::BadMultiPrefix`] when the length is not 4 + 8n.
    pub fn parse(data: &[u8]) -> Result<Self, Error> {
        let (flags, list) = split_data(data)?;
        Ok(Self {
            public_key: flags & P_FLAG != 0,
            prefixes: list
                .chunks_exact(8)
                .map(|c| {
                    let mut p = [0; 8];
                    p.copy_from_slice(c);
                    p
                })
                .collect(),
        })
    }

    /// The first Multi-Prefix extension of checked parameters, if any.
    ///
    /// # Errors
    /// [`Error::BadMultiPrefix`] when it is malformed.
    pub fn find<T: AsRef<[u8]>>(params: &CgaParams<T>) -> Option<Result<Self, Error>> {
        params
            .extensions()
            .find(|e| e.ext_type == MULTI_PREFIX_EXT_TYPE)
            .map(|e| Self::parse(e.data))
    }

    /// The extension as a TLV (Ext Len = 4 + 8n, P in the first bit,
    /// reserved bits zero).
    ///
    /// # Errors
    /// [`Error::TooLong`] for more than [`MAX_PREFIXES`] prefixes.
    pub fn to_extension(&self) -> Result<ExtensionRepr, Error> {
        if self.prefixes.len() > MAX_PREFIXES {
            return Err(Error::TooLong);
        }
        let mut data = Vec::with_capacity(4 + 8 * self.prefixes.len());
        //= https://www.rfc-editor.org/rfc/rfc5535#section-5
        //# Reserved:  31-bit reserved field.  MUST be initialized to zero, and
        //#    ignored upon receipt.
        let flags = if self.public_key { P_FLAG } else { 0 };
        data.extend_from_slice(&flags.to_be_bytes());
        for p in &self.prefixes {
            data.extend_from_slice(p);
        }
        Ok(ExtensionRepr {
            ext_type: MULTI_PREFIX_EXT_TYPE,
            data,
        })
    }

    /// Whether `prefix` is in the set.
    #[must_use]
    pub fn contains(&self, prefix: &[u8; 8]) -> bool {
        self.prefixes.contains(prefix)
    }
}

fn split_data(data: &[u8]) -> Result<(u32, &[u8]), Error> {
    let (flags, list) = data.split_first_chunk::<4>().ok_or(Error::BadMultiPrefix)?;
    if list.len() % 8 != 0 {
        return Err(Error::BadMultiPrefix);
    }
    Ok((u32::from_be_bytes(*flags), list))
}

/// What goes in the Public Key field of an HBA set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HbaKey<'a> {
    /// An HBA-only set: the 384-bit random Extended Modifier, encoded with
    /// [`pseudo_key_der`]; the P flag is zero.
    Pseudo([u8; PSEUDO_KEY_LEN]),
    /// A CGA-compatible set: a real public key (DER SubjectPublicKeyInfo);
    /// the P flag is one.
    Public(&'a [u8]),
}

impl HbaKey<'_> {
    fn der(&self) -> Vec<u8> {
        match self {
            Self::Pseudo(r) => pseudo_key_der(r),
            Self::Public(k) => k.to_vec(),
        }
    }

    fn is_public(&self) -> bool {
        matches!(self, Self::Public(_))
    }
}

/// Checks the inputs and builds (public key, Multi-Prefix extension).
fn prepare(
    prefixes: &[[u8; 8]],
    sec: Sec,
    key: &HbaKey<'_>,
) -> Result<(Vec<u8>, ExtensionRepr), Error> {
    if sec.get() > 2 {
        // RFC 5535 §6: "only valid for Sec values of 0, 1, and 2".
        return Err(Error::BadSec(sec.get()));
    }
    if prefixes.is_empty() {
        return Err(Error::NoPrefixes);
    }
    let der = key.der();
    if crate::wire::der_sequence_len(&der)? != der.len() {
        return Err(Error::BadPublicKey);
    }
    let ext = MultiPrefixExt {
        public_key: key.is_public(),
        prefixes: prefixes.to_vec(),
    }
    .to_extension()?;
    Ok((der, ext))
}

/// The Hash2 input tail (public key, then extension fields) of an HBA set:
/// feed it to [`cga::parallel::ParallelSearch`] or [`Hash2Search`] to search
/// a modifier elsewhere, then build the set with [`HbaSet::from_modifier`].
///
/// # Errors
/// See [`HbaSet::from_modifier`].
pub fn hash2_tail(prefixes: &[[u8; 8]], sec: Sec, key: &HbaKey<'_>) -> Result<Vec<u8>, Error> {
    let (mut der, ext) = prepare(prefixes, sec, key)?;
    ext.write(&mut der)?;
    Ok(der)
}

/// A resumable HBA set generation (RFC 5535 §6).
#[derive(Debug, Clone)]
pub struct HbaSearch {
    search: Hash2Search,
    prefixes: Vec<[u8; 8]>,
    key: Vec<u8>,
    ext: ExtensionRepr,
}

impl HbaSearch {
    /// A search from the initial modifier `start`.
    ///
    /// # Errors
    /// See [`HbaSet::from_modifier`].
    pub fn new(
        prefixes: &[[u8; 8]],
        sec: Sec,
        key: HbaKey<'_>,
        start: [u8; 16],
    ) -> Result<Self, Error> {
        let (der, ext) = prepare(prefixes, sec, &key)?;
        let mut ext_bytes = Vec::with_capacity(ext.buffer_len());
        ext.write(&mut ext_bytes)?;
        Ok(Self {
            search: Hash2Search::new(sec, &der, &ext_bytes, start),
            prefixes: prefixes.to_vec(),
            key: der,
            ext,
        })
    }

    /// A search with a random modifier and, without a public key, a random
    /// 384-bit Extended Modifier (RFC 5535 §6 step 2; drawn in that order).
    ///
    /// # Errors
    /// See [`HbaSet::from_modifier`].
    pub fn with_rng<R: CryptoRng + ?Sized>(
        rng: &mut R,
        prefixes: &[[u8; 8]],
        sec: Sec,
        public_key: Option<&[u8]>,
    ) -> Result<Self, Error> {
        let mut start = [0u8; 16];
        rng.fill_bytes(&mut start);
        let key = match public_key {
            Some(k) => HbaKey::Public(k),
            None => {
                let mut r = [0u8; PSEUDO_KEY_LEN];
                rng.fill_bytes(&mut r);
                HbaKey::Pseudo(r)
            }
        };
        Self::new(prefixes, sec, key, start)
    }

    /// Tries at most `max_iters` modifiers; `Some(set)` once found.
    pub fn step(&mut self, max_iters: u64) -> Option<HbaSet> {
        let m = self.search.step(max_iters)?;
        HbaSet::assemble(
            m,
            &self.prefixes,
            self.search.sec(),
            self.key.clone(),
            &self.ext,
        )
        .ok()
    }

    /// Hash2 computations so far.
    #[must_use]
    pub fn attempts(&self) -> u64 {
        self.search.attempts()
    }
}

/// A generated HBA set: one CGA per prefix, all sharing modifier, key and
/// Multi-Prefix extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HbaSet {
    modifier: [u8; 16],
    sec: Sec,
    public_key: Vec<u8>,
    ext: ExtensionRepr,
    members: Vec<Cga>,
}

impl HbaSet {
    /// RFC 5535 §6 steps 1 and 5-6 for a modifier that satisfies Sec (steps
    /// 2-4 are the search: [`HbaSearch`]).
    ///
    /// # Errors
    /// [`Error::BadSec`] for Sec above 2, [`Error::NoPrefixes`],
    /// [`Error::TooLong`] for more than [`MAX_PREFIXES`] prefixes, and a
    /// public key that is not one DER SEQUENCE.
    pub fn from_modifier(
        modifier: [u8; 16],
        prefixes: &[[u8; 8]],
        sec: Sec,
        key: HbaKey<'_>,
    ) -> Result<Self, Error> {
        let (der, ext) = prepare(prefixes, sec, &key)?;
        Self::assemble(modifier, prefixes, sec, der, &ext)
    }

    fn assemble(
        modifier: [u8; 16],
        prefixes: &[[u8; 8]],
        sec: Sec,
        public_key: Vec<u8>,
        ext: &ExtensionRepr,
    ) -> Result<Self, Error> {
        let exts = core::slice::from_ref(ext);
        let members = prefixes
            .iter()
            .map(|p| Cga::from_modifier(modifier, *p, sec, &public_key, exts))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            modifier,
            sec,
            public_key,
            ext: ext.clone(),
            members,
        })
    }

    /// Generates a set on the calling thread, blocking until the search
    /// ends (use [`HbaSearch`] to stay responsive).
    ///
    /// # Errors
    /// See [`HbaSet::from_modifier`].
    pub fn generate<R: CryptoRng + ?Sized>(
        rng: &mut R,
        prefixes: &[[u8; 8]],
        sec: Sec,
        public_key: Option<&[u8]>,
    ) -> Result<Self, Error> {
        let mut s = HbaSearch::with_rng(rng, prefixes, sec, public_key)?;
        loop {
            if let Some(set) = s.step(1 << 20) {
                return Ok(set);
            }
        }
    }

    /// The members, in the order of the prefixes.
    #[must_use]
    pub fn members(&self) -> &[Cga] {
        &self.members
    }

    /// The member with this address, if any.
    #[must_use]
    pub fn member(&self, address: &Ipv6Addr) -> Option<&Cga> {
        self.members.iter().find(|c| c.address() == *address)
    }

    /// §6 step 6.4: duplicate address detection found member `index` in
    /// use; its collision count goes up and its address changes.
    ///
    /// # Errors
    /// [`Error::NoSuchMember`], or [`Error::TooManyCollisions`] on its
    /// third collision.
    pub fn report_collision(&mut self, index: usize) -> Result<(), Error> {
        self.members
            .get_mut(index)
            .ok_or(Error::NoSuchMember)?
            .report_collision()
    }

    /// The shared modifier.
    #[must_use]
    pub fn modifier(&self) -> [u8; 16] {
        self.modifier
    }

    /// The security parameter.
    #[must_use]
    pub fn sec(&self) -> Sec {
        self.sec
    }

    /// The Public Key field (a real key or a pseudo-key).
    #[must_use]
    pub fn public_key(&self) -> &[u8] {
        &self.public_key
    }

    /// The Multi-Prefix extension TLV.
    #[must_use]
    pub fn extension(&self) -> &ExtensionRepr {
        &self.ext
    }

    /// Whether the set is CGA-compatible (P flag set: a real key).
    #[must_use]
    pub fn is_cga_compatible(&self) -> bool {
        self.ext.data.first().is_some_and(|b| b & 0x80 != 0)
    }

    /// RFC 5535 §4: a prefix learnt after the set was generated gets a CGA
    /// bound to the set's public key (same modifier, key and Multi-Prefix
    /// extension, so no new search: RFC 3972 §4 allows reusing the
    /// modifier). It verifies as a CGA but not as a member of the set; the
    /// owner proves it with a CGA signature made with the set's key
    /// ([`crate::sig`]).
    ///
    /// # Errors
    /// [`Error::Key`] for an HBA-only set (no key to sign with).
    pub fn add_prefix_as_cga(&self, prefix: [u8; 8]) -> Result<Cga, Error> {
        if !self.is_cga_compatible() {
            return Err(Error::Key);
        }
        Cga::from_modifier(
            self.modifier,
            prefix,
            self.sec,
            &self.public_key,
            core::slice::from_ref(&self.ext),
        )
    }
}

/// RFC 5535 §7.2: verifies that `address` belongs to the HBA set defined by
/// `params` (the CGA Parameters of any member). Returns the address's Sec.
///
/// # Errors
/// The [`HbaVerifyError`] of the failed step.
pub fn verify_membership(address: &Ipv6Addr, params: &[u8]) -> Result<Sec, HbaVerifyError> {
    let view = CgaParams::new_checked(params).map_err(HbaVerifyError::Malformed)?;
    let data = view
        .extensions()
        .find(|e| e.ext_type == MULTI_PREFIX_EXT_TYPE)
        .ok_or(HbaVerifyError::NoMultiPrefix)?
        .data;
    let (_, list) = split_data(data).map_err(|_| HbaVerifyError::NoMultiPrefix)?;
    //= https://www.rfc-editor.org/rfc/rfc5535#section-7.2
    //# 1. Verify that the 64-bit HBA prefix is included in the prefix set of
    //#    the Multi-Prefix extension.  If it is not included, the
    //#    verification fails.  If it is included, replace the prefix
    //#    contained in the Subnet Prefix field of the CGA Parameter Data
    //#    Structure by the 64-bit HBA prefix.
    let prefix = prefix_of(address);
    if !list.chunks_exact(8).any(|p| p == prefix) {
        return Err(HbaVerifyError::PrefixNotInSet);
    }
    // Step 2, with the subnet prefix replaced (no copy of the parameters).
    let sec = Sec::of_address(address);
    if sec.get() > 2 {
        return Err(HbaVerifyError::UnsupportedSec(sec.get()));
    }
    cga::verify_inner(address, &view, Some(prefix)).map_err(HbaVerifyError::Cga)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_prefix_wire() {
        let e = MultiPrefixExt {
            public_key: true,
            prefixes: alloc::vec![[1; 8], [2; 8]],
        };
        let x = e.to_extension().unwrap();
        assert_eq!(x.ext_type, 0x0012);
        assert_eq!(x.data.len(), 20); // Ext Len = n*8 + 4 (RFC 5535 §6 step 1)
        assert_eq!(&x.data[..4], &[0x80, 0, 0, 0]);
        assert_eq!(MultiPrefixExt::parse(&x.data).unwrap(), e);
        // Reserved bits are ignored on receipt.
        let mut d = x.data.clone();
        d[3] = 0x80;
        assert_eq!(MultiPrefixExt::parse(&d).unwrap(), e);
        d[0] = 0;
        assert!(!MultiPrefixExt::parse(&d).unwrap().public_key);
        for n in [0usize, 3, 5, 11] {
            assert_eq!(
                MultiPrefixExt::parse(&x.data[..n]),
                Err(Error::BadMultiPrefix)
            );
        }
    }

    #[test]
    fn sec_above_two_refused() {
        let r = HbaSet::from_modifier(
            [0; 16],
            &[[1; 8]],
            Sec::new(3).unwrap(),
            HbaKey::Pseudo([0; 48]),
        );
        assert_eq!(r, Err(Error::BadSec(3)));
        let r = HbaSet::from_modifier([0; 16], &[], Sec::ZERO, HbaKey::Pseudo([0; 48]));
        assert_eq!(r, Err(Error::NoPrefixes));
    }

    #[test]
    fn collisions_per_member() {
        let mut s = HbaSet::from_modifier(
            [0; 16],
            &[[1; 8], [2; 8]],
            Sec::ZERO,
            HbaKey::Pseudo([5; 48]),
        )
        .unwrap();
        let before = s.members()[1].address();
        s.report_collision(1).unwrap();
        assert_ne!(s.members()[1].address(), before);
        assert_eq!(s.members()[1].params().collision_count, 1);
        assert_eq!(s.members()[0].params().collision_count, 0);
        s.report_collision(1).unwrap();
        assert_eq!(s.report_collision(1), Err(Error::TooManyCollisions));
        assert_eq!(s.report_collision(2), Err(Error::NoSuchMember));
        let a = s.members()[1].address();
        assert!(verify_membership(&a, s.members()[0].params_bytes()).is_err());
        assert!(verify_membership(&a, s.members()[1].params_bytes()).is_ok());
    }
}
