//! Errors of the crate outside the wire layer (which has [`wire::Error`](crate::wire::Error)).
//!
//! A peer's bad message is never an `Err` for the caller; these errors are
//! for configuration, API misuse and exhausted local resources.

/// A configuration value the crate refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The context tag space must have between 1 and 47 bits.
    #[error("context tag bits must be 1..=47, got {0}")]
    ContextTagBits(u32),
    /// A table bound of zero.
    #[error("a table bound must not be zero")]
    ZeroBound,
    /// A validator secret lifetime below VALIDATOR_MIN_LIFETIME (RFC 5533 §14).
    #[error("validator lifetime below VALIDATOR_MIN_LIFETIME")]
    ValidatorLifetime,
    /// More local identities than `max_identities`, or two with one ULID.
    #[error("too many or duplicate identities")]
    Identities,
}

/// Why no context tag could be allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum CtagError {
    /// The configured number of live context tags is reached.
    #[error("context tag table full")]
    Full,
    /// Every tag of the configured space is live.
    #[error("context tag space exhausted")]
    Exhausted,
}
