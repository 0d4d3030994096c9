//! Locator sets and their verification (RFC 5533 §7.2, §5.15.2-5.15.5;
//! RFC 5535 §4, §7.2, §8.1).
//!
//! A host proves that its locators belong to its ULID in one of two ways,
//! per locator (the Verification Method of the Locator List option):
//!
//! - **HBA** (method 1): the locator is a member of the HBA set of the
//!   ULID. The receiver checks it against the CGA Parameter Data Structure
//!   (PDS) of the ULID, which carries the Multi-Prefix extension
//!   ([`hba_cga::hba::verify_membership`]). No signature.
//! - **CGA** (method 2): the ULID is a CGA (or a CGA-compatible HBA, RFC
//!   5535 §8.1) and the message carries a CGA Signature made with the
//!   ULID's private key over the Shim6 CGA Message Type tag
//!   ([`hba_cga::sig::SHIM6_TAG`], 0x4A30 5662 4858 574B 3655 416F 506A
//!   6D48, §5.15.5), the 32-bit Locator List Generation and the CGA-method
//!   locators in list order ([`signed_message`]).
//!
//! Whatever the method, the PDS must first "correspond to the ULID(peer)"
//! (§7.13, §7.16, §7.20): the ULID verifies against it as an HBA set
//! member or as a CGA. A locator that verifies neither way makes the whole
//! list, and the message that carries it, unacceptable
//! ([`verify_peer_locators`] returns an error and the machine discards the
//! message): §7.2 says to ignore a list whose method is unsupported or
//! inconsistent with the PDS, and §7.13/§7.16/§7.20 discard messages whose
//! verification fails.
#![deny(clippy::arithmetic_side_effects)]

use alloc::vec::Vec;
use core::net::Ipv6Addr;

use hba_cga::cga::{self, Cga};
use hba_cga::hba::{self, HbaSet};
use hba_cga::sig::{self, CgaSigner, RsaKeyLimits, SHIM6_TAG};
use hba_cga::wire::CgaParams;
use rand_core::CryptoRng;

use crate::wire::{Locator, LocatorList, VerificationMethod};

/// Most locators in one Locator List option (Num Locators is one octet).
pub const MAX_LOCATORS: usize = 255;

/// Why a local identity cannot be built (a configuration error).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// The ULID does not verify against the PDS (neither as an HBA set
    /// member nor as a CGA).
    #[error("the ULID does not verify against its CGA parameters")]
    UlidDoesNotVerify,
    /// An HBA-method locator is not a member of the ULID's HBA set.
    #[error("locator {0} is not in the HBA set")]
    NotInHbaSet(Ipv6Addr),
    /// CGA-method locators need a signer.
    #[error("CGA-method locators need a signing key")]
    NeedsSigner,
    /// The signer's public key is not the one in the PDS.
    #[error("the signing key is not the key of the CGA parameters")]
    SignerKeyMismatch,
    /// The signature could not be made.
    #[error("signing failed")]
    Sign,
    /// No locators, more than [`MAX_LOCATORS`], or the ULID is missing
    /// from them.
    #[error("bad locator count or ULID not among the locators")]
    Locators,
    /// A verification method other than HBA (1) and CGA (2).
    #[error("unsupported verification method {0}")]
    UnknownMethod(u8),
    /// An HBA member index beyond the set.
    #[error("no such HBA set member")]
    NoSuchMember,
}

/// Why a peer's locators were refused (the message carrying them is
/// discarded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LocatorError {
    /// The PDS does not correspond to the peer's ULID (§7.13).
    #[error("CGA parameters do not correspond to the peer ULID")]
    PdsNotForUlid,
    /// Locators other than by ULID but no PDS to verify them.
    #[error("locator list without CGA parameters")]
    MissingPds,
    /// A locator with a method this host does not support (§7.2).
    #[error("unsupported verification method at locator {index}")]
    UnknownMethod {
        /// Index of the locator in the list.
        index: usize,
    },
    /// An HBA-method locator is not in the HBA set (RFC 5535 §7.2).
    #[error("locator {index} is not in the HBA set")]
    NotInHbaSet {
        /// Index of the locator in the list.
        index: usize,
    },
    /// CGA-method locators without a CGA Signature option.
    #[error("CGA-method locators without a signature")]
    MissingSignature,
    /// The CGA signature does not verify with the PDS's key (§5.15.5).
    #[error("bad CGA signature")]
    BadSignature,
    /// More locators than the configured bound.
    #[error("too many locators")]
    TooMany,
}

/// The octets a CGA Signature covers after the tag (§5.15.5): the Locator
/// List Generation, then the CGA-method locators in list order.
#[must_use]
pub fn signed_message(generation: u32, locators: impl Iterator<Item = Locator>) -> Vec<u8> {
    let mut m = Vec::with_capacity(4);
    m.extend_from_slice(&generation.to_be_bytes());
    for l in locators.filter(|l| l.method == VerificationMethod::CGA) {
        m.extend_from_slice(&l.addr.octets());
    }
    m
}

/// Whether `ulid` verifies against `pds`, as an HBA set member (RFC 5535
/// §7.2) or as a CGA (RFC 3972 §5).
#[must_use]
pub fn pds_matches_ulid(ulid: &Ipv6Addr, pds: &[u8]) -> bool {
    hba::verify_membership(ulid, pds).is_ok() || cga::verify(ulid, pds).is_ok()
}

/// Verifies a peer's locators (RFC 5533 §7.2) and returns Ls(peer): the
/// ULID first, then the listed locators (duplicates dropped), at most
/// `max + 1` addresses.
///
/// `list`, `pds` and `signature` are the Locator List, CGA Parameter Data
/// Structure and CGA Signature options of the message, when present.
/// Without a list the peer's only locator is its ULID.
///
/// # Errors
/// The [`LocatorError`] of the first check that fails.
pub fn verify_peer_locators(
    peer_ulid: Ipv6Addr,
    list: Option<&LocatorList<'_>>,
    pds: Option<&[u8]>,
    signature: Option<&[u8]>,
    limits: &RsaKeyLimits,
    max: usize,
) -> Result<Vec<Ipv6Addr>, LocatorError> {
    if let Some(p) = pds
        && !pds_matches_ulid(&peer_ulid, p)
    {
        return Err(LocatorError::PdsNotForUlid);
    }
    let mut out = Vec::new();
    out.push(peer_ulid);
    let Some(list) = list else {
        return Ok(out);
    };
    if list.locators.len() > max {
        return Err(LocatorError::TooMany);
    }
    if list.locators.is_empty() {
        return Ok(out);
    }
    let pds = pds.ok_or(LocatorError::MissingPds)?;
    let mut any_cga = false;
    for (index, l) in list.locators.iter().enumerate() {
        match l.method {
            VerificationMethod::HBA => {
                if hba::verify_membership(&l.addr, pds).is_err() {
                    return Err(LocatorError::NotInHbaSet { index });
                }
            }
            VerificationMethod::CGA => any_cga = true,
            _ => return Err(LocatorError::UnknownMethod { index }),
        }
    }
    if any_cga {
        let signature = signature.ok_or(LocatorError::MissingSignature)?;
        let view = CgaParams::new_checked(pds).map_err(|_| LocatorError::PdsNotForUlid)?;
        let msg = signed_message(list.generation, list.locators.iter());
        sig::verify(
            view.public_key(),
            &SHIM6_TAG,
            &msg,
            signature,
            limits.clone(),
        )
        .map_err(|_| LocatorError::BadSignature)?;
    }
    for l in list.locators.iter() {
        if !out.contains(&l.addr) {
            out.push(l.addr);
        }
    }
    Ok(out)
}

/// A local ULID with its locators and what proves them: the PDS, the
/// locator list generation and, for CGA-method locators, a signing key and
/// the current signature. `Debug` never prints the signing key.
#[derive(Clone)]
pub struct LocalIdentity<S> {
    ulid: Ipv6Addr,
    pds: Vec<u8>,
    locators: Vec<Locator>,
    generation: u32,
    signer: Option<S>,
    signature: Option<Vec<u8>>,
    preferences: Option<(u8, Vec<u8>)>,
    version: u64,
}

impl<S> core::fmt::Debug for LocalIdentity<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("LocalIdentity")
            .field("ulid", &self.ulid)
            .field("locators", &self.locators)
            .field("generation", &self.generation)
            .field("has_signer", &self.signer.is_some())
            .finish_non_exhaustive()
    }
}

impl<S: CgaSigner> LocalIdentity<S> {
    /// An HBA-only identity: the ULID is member `ulid_index` of `set` and
    /// every member is a locator (method HBA).
    ///
    /// # Errors
    /// [`IdentityError::NoSuchMember`], or a set that does not verify.
    pub fn from_hba(set: &HbaSet, ulid_index: usize) -> Result<Self, IdentityError> {
        let member = set
            .members()
            .get(ulid_index)
            .ok_or(IdentityError::NoSuchMember)?;
        let locators = set
            .members()
            .iter()
            .map(|m| Locator {
                method: VerificationMethod::HBA,
                addr: m.address(),
            })
            .collect();
        Self::check(
            member.address(),
            member.params_bytes().to_vec(),
            locators,
            None,
        )
    }

    /// A CGA identity: the ULID is `cga`, its locators are the ULID and
    /// `extra`, all with method CGA, signed with `signer` (whose key must be
    /// the CGA's).
    ///
    /// # Errors
    /// See [`LocalIdentity::new`].
    pub fn from_cga<R: CryptoRng + ?Sized>(
        rng: &mut R,
        cga: &Cga,
        signer: S,
        extra: &[Ipv6Addr],
    ) -> Result<Self, IdentityError> {
        let mut locators = Vec::with_capacity(extra.len().saturating_add(1));
        locators.push(Locator {
            method: VerificationMethod::CGA,
            addr: cga.address(),
        });
        locators.extend(extra.iter().map(|a| Locator {
            method: VerificationMethod::CGA,
            addr: *a,
        }));
        Self::new(
            rng,
            cga.address(),
            cga.params_bytes().to_vec(),
            locators,
            Some(signer),
        )
    }

    /// A CGA-compatible HBA identity (RFC 5535 §8.1): the members of `set`
    /// with method HBA, then `extra` with method CGA, signed with `signer`
    /// (the set's key).
    ///
    /// # Errors
    /// See [`LocalIdentity::new`].
    pub fn from_cga_compatible_hba<R: CryptoRng + ?Sized>(
        rng: &mut R,
        set: &HbaSet,
        ulid_index: usize,
        signer: S,
        extra: &[Ipv6Addr],
    ) -> Result<Self, IdentityError> {
        let member = set
            .members()
            .get(ulid_index)
            .ok_or(IdentityError::NoSuchMember)?;
        let mut locators: Vec<Locator> = set
            .members()
            .iter()
            .map(|m| Locator {
                method: VerificationMethod::HBA,
                addr: m.address(),
            })
            .collect();
        locators.extend(extra.iter().map(|a| Locator {
            method: VerificationMethod::CGA,
            addr: *a,
        }));
        Self::new(
            rng,
            member.address(),
            member.params_bytes().to_vec(),
            locators,
            Some(signer),
        )
    }

    /// An identity from its parts. The ULID must verify against `pds`, be
    /// among `locators`, HBA-method locators must be in the HBA set, and
    /// CGA-method locators need `signer`, whose key must be the PDS's.
    ///
    /// # Errors
    /// The [`IdentityError`] of the first failed check.
    pub fn new<R: CryptoRng + ?Sized>(
        rng: &mut R,
        ulid: Ipv6Addr,
        pds: Vec<u8>,
        locators: Vec<Locator>,
        signer: Option<S>,
    ) -> Result<Self, IdentityError> {
        let mut id = Self::check(ulid, pds, locators, signer)?;
        id.sign(rng)?;
        Ok(id)
    }

    fn check(
        ulid: Ipv6Addr,
        pds: Vec<u8>,
        locators: Vec<Locator>,
        signer: Option<S>,
    ) -> Result<Self, IdentityError> {
        if !pds_matches_ulid(&ulid, &pds) {
            return Err(IdentityError::UlidDoesNotVerify);
        }
        Self::check_locators(&ulid, &pds, &locators, signer.as_ref())?;
        Ok(Self {
            ulid,
            pds,
            locators,
            generation: 0,
            signer,
            signature: None,
            preferences: None,
            version: 0,
        })
    }

    fn check_locators(
        ulid: &Ipv6Addr,
        pds: &[u8],
        locators: &[Locator],
        signer: Option<&S>,
    ) -> Result<(), IdentityError> {
        if locators.is_empty()
            || locators.len() > MAX_LOCATORS
            || !locators.iter().any(|l| l.addr == *ulid)
        {
            return Err(IdentityError::Locators);
        }
        let mut any_cga = false;
        for l in locators {
            match l.method {
                VerificationMethod::HBA => {
                    if hba::verify_membership(&l.addr, pds).is_err() {
                        return Err(IdentityError::NotInHbaSet(l.addr));
                    }
                }
                VerificationMethod::CGA => any_cga = true,
                m => return Err(IdentityError::UnknownMethod(m.0)),
            }
        }
        if any_cga {
            let signer = signer.ok_or(IdentityError::NeedsSigner)?;
            let key = signer
                .public_key_der()
                .map_err(|_| IdentityError::SignerKeyMismatch)?;
            let view = CgaParams::new_checked(pds).map_err(|_| IdentityError::UlidDoesNotVerify)?;
            if view.public_key() != key.as_slice() {
                return Err(IdentityError::SignerKeyMismatch);
            }
        }
        Ok(())
    }

    fn sign<R: CryptoRng + ?Sized>(&mut self, rng: &mut R) -> Result<(), IdentityError> {
        self.signature = None;
        if self
            .locators
            .iter()
            .any(|l| l.method == VerificationMethod::CGA)
        {
            let signer = self.signer.as_ref().ok_or(IdentityError::NeedsSigner)?;
            let msg = signed_message(self.generation, self.locators.iter().copied());
            let s = signer
                .sign(rng, &SHIM6_TAG, &msg)
                .map_err(|_| IdentityError::Sign)?;
            self.signature = Some(s);
        }
        Ok(())
    }

    /// Replaces the locators (a locator list change, §10.1): a new random
    /// generation, CGA-method locators signed again, preferences cleared.
    ///
    /// # Errors
    /// As [`LocalIdentity::new`]; the identity is unchanged on error.
    pub fn set_locators<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        locators: Vec<Locator>,
    ) -> Result<(), IdentityError> {
        Self::check_locators(&self.ulid, &self.pds, &locators, self.signer.as_ref())?;
        let old = (
            core::mem::replace(&mut self.locators, locators),
            self.generation,
            self.signature.take(),
            self.preferences.take(),
        );
        //= https://www.rfc-editor.org/rfc/rfc5533#section-10.1
        //# Should the host send a new Locator List, the host picks a new random,
        //# local generation number
        let mut g = rng.next_u32();
        if g == self.generation {
            g = g.wrapping_add(1);
        }
        self.generation = g;
        if let Err(e) = self.sign(rng) {
            (
                self.locators,
                self.generation,
                self.signature,
                self.preferences,
            ) = old;
            return Err(e);
        }
        self.version = self.version.wrapping_add(1);
        Ok(())
    }

    /// Sets the Locator Preferences (§5.15.3, §10.1) of the current list:
    /// one element of `element_len` octets (1: flags; 2: + priority; 3: +
    /// weight) per locator, in list order. `None` clears them.
    ///
    /// # Errors
    /// [`IdentityError::Locators`] when the element count or length does
    /// not match.
    pub fn set_preferences(&mut self, prefs: Option<(u8, Vec<u8>)>) -> Result<(), IdentityError> {
        if let Some((len, elements)) = &prefs {
            let n = usize::from(*len);
            if !(1..=3).contains(&n) || Some(elements.len()) != self.locators.len().checked_mul(n) {
                return Err(IdentityError::Locators);
            }
        }
        self.preferences = prefs;
        self.version = self.version.wrapping_add(1);
        Ok(())
    }
}

impl<S> LocalIdentity<S> {
    /// The ULID.
    pub fn ulid(&self) -> Ipv6Addr {
        self.ulid
    }

    /// The CGA Parameter Data Structure of the ULID.
    pub fn pds(&self) -> &[u8] {
        &self.pds
    }

    /// The locators, in list order.
    pub fn locators(&self) -> &[Locator] {
        &self.locators
    }

    /// The Locator List Generation.
    pub fn generation(&self) -> u32 {
        self.generation
    }

    /// The CGA Signature over the current list, when it has CGA-method
    /// locators.
    pub fn signature(&self) -> Option<&[u8]> {
        self.signature.as_deref()
    }

    /// The Locator Preferences of the current list: Element Len and the
    /// elements.
    pub fn preferences(&self) -> Option<(u8, &[u8])> {
        self.preferences.as_ref().map(|(l, e)| (*l, e.as_slice()))
    }

    /// Counts changes of the locators or preferences (what a peer was sent
    /// can be compared with it).
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Whether `addr` is one of the locators.
    pub fn has_locator(&self, addr: Ipv6Addr) -> bool {
        self.locators.iter().any(|l| l.addr == addr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Locators;
    use hba_cga::cga::Sec;
    use hba_cga::sig::{CgaSigner, RsaSigner};
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    fn set(seed: u64, n: u8) -> HbaSet {
        let mut r = ChaCha20Rng::seed_from_u64(seed);
        let prefixes: Vec<[u8; 8]> = (0..n)
            .map(|i| [0x20, 0x01, 0x0d, 0xb8, 0, i, 0, 0])
            .collect();
        HbaSet::generate(&mut r, &prefixes, Sec::ZERO, None).unwrap()
    }

    #[test]
    fn hba_identity_verifies_at_the_peer() {
        let s = set(1, 3);
        let id = LocalIdentity::<RsaSigner>::from_hba(&s, 1).unwrap();
        assert_eq!(id.ulid(), s.members()[1].address());
        assert_eq!(id.locators().len(), 3);
        assert!(id.signature().is_none());
        let list = LocatorList {
            generation: 0,
            locators: Locators::List(id.locators()),
        };
        let ls = verify_peer_locators(
            id.ulid(),
            Some(&list),
            Some(id.pds()),
            None,
            &RsaKeyLimits::DEFAULT,
            16,
        )
        .unwrap();
        // ULID first, then the two other members.
        assert_eq!(ls.len(), 3);
        assert_eq!(ls[0], id.ulid());
        // A locator of another set is refused, at its index.
        let other = set(2, 2);
        let mut l = id.locators().to_vec();
        l.push(Locator {
            method: VerificationMethod::HBA,
            addr: other.members()[0].address(),
        });
        let bad = LocatorList {
            generation: 0,
            locators: Locators::List(&l),
        };
        assert_eq!(
            verify_peer_locators(
                id.ulid(),
                Some(&bad),
                Some(id.pds()),
                None,
                &RsaKeyLimits::DEFAULT,
                16
            ),
            Err(LocatorError::NotInHbaSet { index: 3 })
        );
        // The PDS of another ULID.
        assert_eq!(
            verify_peer_locators(
                other.members()[0].address(),
                Some(&list),
                Some(id.pds()),
                None,
                &RsaKeyLimits::DEFAULT,
                16
            ),
            Err(LocatorError::PdsNotForUlid)
        );
        // Too many.
        assert_eq!(
            verify_peer_locators(
                id.ulid(),
                Some(&list),
                Some(id.pds()),
                None,
                &RsaKeyLimits::DEFAULT,
                2
            ),
            Err(LocatorError::TooMany)
        );
        // An unknown method.
        l.truncate(3);
        l[2].method = VerificationMethod(7);
        let unk = LocatorList {
            generation: 0,
            locators: Locators::List(&l),
        };
        assert_eq!(
            verify_peer_locators(
                id.ulid(),
                Some(&unk),
                Some(id.pds()),
                None,
                &RsaKeyLimits::DEFAULT,
                16
            ),
            Err(LocatorError::UnknownMethod { index: 2 })
        );
    }

    #[test]
    fn debug_never_prints_the_key() {
        let mut r = ChaCha20Rng::seed_from_u64(9);
        let signer = RsaSigner::from_pem(include_str!("../tests/vectors/rsa1024.pem")).unwrap();
        let spki = signer.public_key_der().unwrap();
        let c = Cga::from_modifier(
            [1; 16],
            [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0],
            Sec::ZERO,
            &spki,
            &[],
        )
        .unwrap();
        let id = LocalIdentity::from_cga(&mut r, &c, signer, &[]).unwrap();
        let d = alloc::format!("{id:?}");
        assert!(d.contains("has_signer: true"), "{d}");
        // No key material: neither the word nor long digit runs.
        assert!(!d.to_lowercase().contains("key"), "{d}");
        assert!(d.len() < 300, "{d}");
    }

    #[test]
    fn signed_message_layout() {
        let a: Ipv6Addr = "2001:db8::1".parse().unwrap();
        let b: Ipv6Addr = "2001:db8::2".parse().unwrap();
        let l = [
            Locator {
                method: VerificationMethod::HBA,
                addr: a,
            },
            Locator {
                method: VerificationMethod::CGA,
                addr: b,
            },
        ];
        let m = signed_message(0x0102_0304, l.iter().copied());
        // 4 octets of generation, then only the CGA locator (§5.15.5 item 3).
        assert_eq!(m.len(), 20);
        assert_eq!(&m[..4], &[1, 2, 3, 4]);
        assert_eq!(&m[4..], &b.octets());
    }

    #[test]
    fn hba_only_identity_cannot_have_cga_locators() {
        let s = set(3, 2);
        let mut l: Vec<Locator> = s
            .members()
            .iter()
            .map(|m| Locator {
                method: VerificationMethod::HBA,
                addr: m.address(),
            })
            .collect();
        l.push(Locator {
            method: VerificationMethod::CGA,
            addr: "2001:db8:ff::1".parse().unwrap(),
        });
        let mut r = ChaCha20Rng::seed_from_u64(4);
        let e = LocalIdentity::<RsaSigner>::new(
            &mut r,
            s.members()[0].address(),
            s.members()[0].params_bytes().to_vec(),
            l,
            None,
        )
        .unwrap_err();
        assert_eq!(e, IdentityError::NeedsSigner);
    }
}
