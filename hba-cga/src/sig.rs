//! CGA signatures (RFC 3972 §6): RSASSA-PKCS1-v1_5 with SHA-1 over the
//! 128-bit CGA Message Type tag followed by the message.
//!
//! Signing goes through the small [`CgaSigner`] trait (so that the `rsa`
//! version, or an HSM, can move behind it) and always uses the blinded,
//! RNG-taking signing call. Verification needs no RNG.
//!
//! ```
//! use hba_cga::sig::{self, CgaSigner, RsaKeyLimits, RsaSigner, SHIM6_TAG};
//! # use rand_core::SeedableRng;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let pem = include_str!("../tests/vectors/rsa1024.pem");
//! let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
//! let key = RsaSigner::from_pem(pem)?; // or RsaSigner::generate(&mut rng, 2048)
//! let spki = key.public_key_der()?;
//! let signature = key.sign(&mut rng, &SHIM6_TAG, b"locator list")?;
//! sig::verify(&spki, &SHIM6_TAG, b"locator list", &signature, RsaKeyLimits::DEFAULT)?;
//! assert!(sig::verify(&spki, &SHIM6_TAG, b"locator lisT", &signature, RsaKeyLimits::DEFAULT).is_err());
//! # Ok(()) }
//! ```

use alloc::string::String;
use alloc::vec::Vec;
use core::net::Ipv6Addr;
use core::ops::RangeInclusive;

use digest::Update;
use rand_core::CryptoRng;
use rsa::pkcs1v15::{Signature, SigningKey};
use rsa::pkcs8::der::Decode;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::signature::{RandomizedDigestSigner, SignatureEncoding};
use rsa::{BoxedUint, RsaPrivateKey, RsaPublicKey};
use sha1::Sha1;

use crate::cga::{self, Sec};
use crate::error::{Error, SignatureError};

/// A 128-bit CGA Message Type tag (RFC 3972 §6, in network byte order).
pub type Tag = [u8; 16];

/// The SEND tag, RFC 3971 §5.2: 0x086F CA5E 10B2 00C9 9C8C E001 6427 7C08.
pub const SEND_TAG: Tag = [
    0x08, 0x6F, 0xCA, 0x5E, 0x10, 0xB2, 0x00, 0xC9, 0x9C, 0x8C, 0xE0, 0x01, 0x64, 0x27, 0x7C, 0x08,
];

/// The Shim6 tag, RFC 5533 §5.15.5 (the CGA Signature option) and §17:
/// 0x4A30 5662 4858 574B 3655 416F 506A 6D48.
pub const SHIM6_TAG: Tag = [
    0x4A, 0x30, 0x56, 0x62, 0x48, 0x58, 0x57, 0x4B, 0x36, 0x55, 0x41, 0x6F, 0x50, 0x6A, 0x6D, 0x48,
];

/// Something that makes CGA signatures.
pub trait CgaSigner {
    /// The public key as a DER SubjectPublicKeyInfo (the CGA Parameters'
    /// Public Key field).
    ///
    /// # Errors
    /// [`Error::Key`] when the key cannot be encoded.
    fn public_key_der(&self) -> Result<Vec<u8>, Error>;

    /// Signs `tag || message` (RSASSA-PKCS1-v1_5, SHA-1), blinding the
    /// private-key operation with `rng`.
    ///
    /// # Errors
    /// [`Error::Sign`] when the signature cannot be computed.
    fn sign<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        tag: &Tag,
        message: &[u8],
    ) -> Result<Vec<u8>, Error>;
}

/// An RSA private key for CGA signatures.
#[derive(Debug, Clone)]
pub struct RsaSigner {
    key: SigningKey<Sha1>,
}

impl RsaSigner {
    /// Generates a key of `bits` bits (at least 1024) with the injected RNG.
    ///
    /// # Errors
    /// [`Error::Key`] when generation fails or `bits` is below 1024.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R, bits: usize) -> Result<Self, Error> {
        RsaPrivateKey::new(rng, bits)
            .map(Self::from_private_key)
            .map_err(|_| Error::Key)
    }

    /// Wraps an `rsa` private key.
    #[must_use]
    pub fn from_private_key(key: RsaPrivateKey) -> Self {
        Self {
            key: SigningKey::new(key),
        }
    }

    /// Decodes a DER private key, PKCS#8 or PKCS#1.
    ///
    /// # Errors
    /// [`Error::Key`] when it is neither.
    pub fn from_der(der: &[u8]) -> Result<Self, Error> {
        use rsa::pkcs1::DecodeRsaPrivateKey;
        RsaPrivateKey::from_pkcs8_der(der)
            .or_else(|_| RsaPrivateKey::from_pkcs1_der(der))
            .map(Self::from_private_key)
            .map_err(|_| Error::Key)
    }

    /// Decodes a PEM private key (`PRIVATE KEY` or `RSA PRIVATE KEY`).
    ///
    /// # Errors
    /// [`Error::Key`] when it is neither.
    pub fn from_pem(pem: &str) -> Result<Self, Error> {
        use rsa::pkcs1::DecodeRsaPrivateKey;
        RsaPrivateKey::from_pkcs8_pem(pem)
            .or_else(|_| RsaPrivateKey::from_pkcs1_pem(pem))
            .map(Self::from_private_key)
            .map_err(|_| Error::Key)
    }

    /// Encodes the private key as PKCS#8 PEM.
    ///
    /// # Errors
    /// [`Error::Key`] when encoding fails.
    pub fn to_pkcs8_pem(&self) -> Result<String, Error> {
        self.key
            .as_ref()
            .to_pkcs8_pem(LineEnding::LF)
            .map(|s| String::from(s.as_str()))
            .map_err(|_| Error::Key)
    }

    /// Modulus size in bits.
    #[must_use]
    pub fn bits(&self) -> usize {
        use rsa::traits::PublicKeyParts;
        self.key.as_ref().n().bits() as usize
    }
}

impl CgaSigner for RsaSigner {
    fn public_key_der(&self) -> Result<Vec<u8>, Error> {
        self.key
            .as_ref()
            .as_public_key()
            .to_public_key_der()
            .map(|d| d.as_bytes().to_vec())
            .map_err(|_| Error::Key)
    }

    fn sign<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        tag: &Tag,
        message: &[u8],
    ) -> Result<Vec<u8>, Error> {
        let s: Signature = self
            .key
            .try_sign_digest_with_rng(rng, |d: &mut Sha1| {
                d.update(tag);
                d.update(message);
                Ok(())
            })
            .map_err(|_| Error::Sign)?;
        Ok(s.to_vec())
    }
}

/// The RSA modulus sizes a verifier accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RsaKeyLimits {
    /// Accepted modulus sizes in bits, inclusive.
    pub bits: RangeInclusive<usize>,
}

impl RsaKeyLimits {
    /// 1024-4096 bits: the default. RFC 3972 §5 asks verifiers to accept
    /// 384-2048 bits, but keys under 1024 bits are factorable today.
    pub const DEFAULT: Self = Self { bits: 1024..=4096 };
    /// 384-4096 bits: RFC 3972 §5's range (and longer keys, which it
    /// allows), for interoperability tests with old peers.
    pub const RFC3972: Self = Self { bits: 384..=4096 };
}

impl Default for RsaKeyLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Decodes an rsaEncryption SubjectPublicKeyInfo within `limits`.
///
/// # Errors
/// [`SignatureError::Key`] for anything else.
pub fn decode_public_key(
    der: &[u8],
    limits: &RsaKeyLimits,
) -> Result<RsaPublicKey, SignatureError> {
    let spki =
        rsa::pkcs8::SubjectPublicKeyInfoRef::from_der(der).map_err(|_| SignatureError::Key)?;
    if spki.algorithm.oid != rsa::pkcs1::ALGORITHM_OID {
        return Err(SignatureError::Key);
    }
    let bits = spki
        .subject_public_key
        .as_bytes()
        .ok_or(SignatureError::Key)?;
    let pk = rsa::pkcs1::RsaPublicKeyRef::from_der(bits).map_err(|_| SignatureError::Key)?;
    let uint = |b: &[u8]| {
        let precision =
            u32::try_from(b.len().saturating_mul(8)).map_err(|_| SignatureError::Key)?;
        BoxedUint::from_be_slice(b, precision).map_err(|_| SignatureError::Key)
    };
    let n = uint(pk.modulus.as_bytes())?;
    let e = uint(pk.public_exponent.as_bytes())?;
    RsaPublicKey::new_with_size_limits(n, e, limits.bits.clone()).map_err(|_| SignatureError::Key)
}

/// Verifies an RSASSA-PKCS1-v1_5/SHA-1 signature over `tag || message`
/// with the public key `spki_der` (no RNG needed).
///
/// # Errors
/// [`SignatureError::Key`] or [`SignatureError::BadSignature`].
pub fn verify(
    spki_der: &[u8],
    tag: &Tag,
    message: &[u8],
    signature: &[u8],
    limits: RsaKeyLimits,
) -> Result<(), SignatureError> {
    #[cfg(fuzzing)]
    {
        // cargo-fuzz builds (rustc `--cfg fuzzing`, never the `fuzzing`
        // cargo feature) accept any signature so the fuzzer reaches the
        // code behind it, as rustls's fuzzing provider does.
        let _ = (spki_der, tag, message, signature, limits);
        return Ok(());
    }
    #[cfg(not(fuzzing))]
    {
        use rsa::pkcs1v15::VerifyingKey;
        use rsa::signature::DigestVerifier;
        let key = decode_public_key(spki_der, &limits)?;
        let sig = Signature::try_from(signature).map_err(|_| SignatureError::BadSignature)?;
        VerifyingKey::<Sha1>::new(key)
            .verify_digest(
                |d: &mut Sha1| {
                    d.update(tag);
                    d.update(message);
                    Ok(())
                },
                &sig,
            )
            .map_err(|_| SignatureError::BadSignature)
    }
}

/// RFC 3972 §6 verification: the address verifies against the CGA
/// Parameters (§5), then the signature verifies with their public key.
/// Returns the address's Sec.
///
/// # Errors
/// [`SignatureError::Cga`] first, then those of [`verify`].
pub fn verify_cga(
    address: &Ipv6Addr,
    params: &[u8],
    tag: &Tag,
    message: &[u8],
    signature: &[u8],
    limits: RsaKeyLimits,
) -> Result<Sec, SignatureError> {
    let view = crate::wire::CgaParams::new_checked(params)
        .map_err(|e| SignatureError::Cga(crate::error::VerifyError::Malformed(e)))?;
    let sec = cga::verify_view(address, &view).map_err(SignatureError::Cga)?;
    verify(view.public_key(), tag, message, signature, limits)?;
    Ok(sec)
}
