//! Error types.
//!
//! [`Error`] covers malformed bytes and API misuse (bad arguments, key
//! problems). Verification failures have their own enums, one variant per
//! failed step: [`VerifyError`] for RFC 3972 §5, [`HbaVerifyError`] for
//! RFC 5535 §7.2 and [`SignatureError`] for RFC 3972 §6.

/// Malformed input, bad arguments and key errors.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum Error {
    /// The buffer ends before the fixed part (25 octets) or before the end
    /// of the public key announced by its DER length.
    #[error("CGA parameters truncated")]
    Truncated,
    /// The public key field does not start with a DER SEQUENCE with a
    /// definite length (RFC 3972 §3: a DER-encoded SubjectPublicKeyInfo).
    #[error("public key is not a DER SEQUENCE")]
    BadPublicKey,
    /// The extension fields do not form a sequence of RFC 4581 TLVs (a
    /// header or a value runs past the end of the buffer).
    #[error("extension fields are not well-formed RFC 4581 TLVs")]
    BadExtension,
    /// A field is too long for its length field (an extension value longer
    /// than 65535 octets, more prefixes than a Multi-Prefix extension holds).
    #[error("a field is too long for its length field")]
    TooLong,
    /// The emit buffer is not exactly `buffer_len()` octets long.
    #[error("emit buffer has the wrong length")]
    BufferLength,
    /// The security parameter is outside 0-7 (RFC 3972 §2: three bits).
    #[error("security parameter {0} is outside 0-7")]
    BadSec(u8),
    /// Three address collisions were already reported (RFC 3972 §4 step 8:
    /// "after three collisions, stop and report the error").
    #[error("three address collisions: giving up (RFC 3972 section 4 step 8)")]
    TooManyCollisions,
    /// The Multi-Prefix extension (RFC 5535 §5) is malformed: its length is
    /// not 4 + 8n octets.
    #[error("malformed Multi-Prefix extension")]
    BadMultiPrefix,
    /// An HBA set needs at least one prefix.
    #[error("an HBA set needs at least one prefix")]
    NoPrefixes,
    /// An index names no member of the HBA set.
    #[error("no such HBA set member")]
    NoSuchMember,
    /// The key could not be generated, decoded or encoded.
    #[error("RSA key error")]
    Key,
    /// The signature could not be computed.
    #[error("signing failed")]
    Sign,
    /// A bounded modifier search tried every modifier it was allowed to
    /// without a match, or was cancelled.
    #[error("modifier search ended without a match")]
    SearchExhausted,
}

/// Why RFC 3972 §5 verification failed: one variant per step that can fail.
///
/// Steps 3, 5 and 6 only compute values (Hash1, Sec, Hash2) and cannot
/// fail; the parameters must parse before step 1 ([`VerifyError::Malformed`]).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum VerifyError {
    /// The CGA Parameters could not be parsed.
    #[error("malformed CGA parameters: {0}")]
    Malformed(Error),
    /// Step 1: the collision count is not 0, 1 or 2.
    #[error("step 1: collision count {0} is not 0, 1 or 2")]
    CollisionCount(u8),
    /// Step 2: the subnet prefix of the parameters differs from the
    /// leftmost 64 bits of the address.
    #[error("step 2: subnet prefix differs from the address prefix")]
    SubnetPrefix,
    /// Step 4: Hash1 differs from the interface identifier (outside the Sec,
    /// u and g bits).
    #[error("step 4: Hash1 differs from the interface identifier")]
    Hash1,
    /// Step 7: the 16*Sec leftmost bits of Hash2 are not all zero.
    #[error("step 7: the 16*Sec leftmost bits of Hash2 are not zero (Sec {0})")]
    Hash2(u8),
}

impl VerifyError {
    /// The RFC 3972 §5 step that failed (0 when the parameters did not parse).
    #[must_use]
    pub const fn step(&self) -> u8 {
        match self {
            Self::Malformed(_) => 0,
            Self::CollisionCount(_) => 1,
            Self::SubnetPrefix => 2,
            Self::Hash1 => 4,
            Self::Hash2(_) => 7,
        }
    }
}

/// Why RFC 5535 §7.2 HBA set membership verification failed.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum HbaVerifyError {
    /// The CGA Parameters could not be parsed.
    #[error("malformed CGA parameters: {0}")]
    Malformed(Error),
    /// The parameters carry no (well-formed) Multi-Prefix extension, so they
    /// define no HBA set.
    #[error("no Multi-Prefix extension in the CGA parameters")]
    NoMultiPrefix,
    /// Step 1: the address prefix is not in the Multi-Prefix extension.
    #[error("step 1: the address prefix is not in the HBA set")]
    PrefixNotInSet,
    /// The address has Sec 3-7: RFC 5535 §7 defines HBA verification for
    /// Sec 0, 1 and 2 only.
    #[error("HBA verification is defined for Sec 0-2 only (Sec {0})")]
    UnsupportedSec(u8),
    /// Step 2: CGA verification (with the subnet prefix replaced) failed.
    #[error("step 2: {0}")]
    Cga(VerifyError),
}

/// Why CGA signature verification (RFC 3972 §6) failed.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum SignatureError {
    /// The address does not verify against the parameters.
    #[error("CGA verification failed: {0}")]
    Cga(VerifyError),
    /// The public key is not an RSA SubjectPublicKeyInfo this crate accepts
    /// (see [`crate::sig::RsaKeyLimits`]).
    #[error("public key is not an acceptable RSA key")]
    Key,
    /// The RSASSA-PKCS1-v1_5 signature does not verify.
    #[error("bad signature")]
    BadSignature,
}
