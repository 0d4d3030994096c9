//! Responder validators for R1 and R1bis (RFC 5533 §5.15.1, §7.10.1,
//! §7.17.1), without per-peer state.
//!
//! The responder keeps a secret S of at least 128 bits and a counter C;
//! the Responder Nonce is C and the validator is a one-way function of S,
//! the nonce and the fields the I2 (or I2bis) must echo. Here the one-way
//! function is HMAC-SHA1 keyed with S over:
//!
//! - R1 (§7.10.1): the Responder Nonce, the Initiator Context Tag, the
//!   ULIDs, the locators of the I1 and the Forked Instance Identifier
//!   (0 when absent);
//! - R1bis (§7.17.1): the Responder Nonce, the Receiver Context Tag of the
//!   packet that triggered it and its locators.
//!
//! A one-octet domain label keeps the two kinds apart. The secret rotates
//! every `lifetime` (at least VALIDATOR_MIN_LIFETIME); C increments at each
//! rotation, so a nonce names the secret that made it: the current one or,
//! during rotation, the previous one. Older nonces fail, which bounds the
//! age of an accepted validator to two lifetimes and defeats replays older
//! than that (§5.15.1: "isn't a replayed I2/I2bis message").
#![deny(clippy::arithmetic_side_effects)]

use core::net::Ipv6Addr;
use core::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use rand_core::CryptoRng;
use sha1::Sha1;

use crate::config::VALIDATOR_MIN_LIFETIME;
use crate::error::ConfigError;
use crate::wire::ContextTag;

/// Octets of a validator (an HMAC-SHA1 output).
pub const VALIDATOR_LEN: usize = 20;
/// Octets of a secret: 128 bits, the minimum the tracker asks for, is
/// exceeded.
pub const SECRET_LEN: usize = 32;

/// What the R1 validator covers: fields of the I1 and of its IPv6 header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct R1Input {
    /// Initiator Context Tag of the I1.
    pub initiator_context_tag: ContextTag,
    /// The initiator's ULID (ULID Pair option, else the I1's source).
    pub initiator_ulid: Ipv6Addr,
    /// The responder's ULID (ULID Pair option, else the I1's destination).
    pub responder_ulid: Ipv6Addr,
    /// The I1's IPv6 source address.
    pub src_locator: Ipv6Addr,
    /// The I1's IPv6 destination address.
    pub dst_locator: Ipv6Addr,
    /// The Forked Instance Identifier of the I1, 0 when absent.
    pub forked_instance_id: u32,
}

/// What the R1bis validator covers: fields of the packet that triggered it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct R1bisInput {
    /// The Receiver Context Tag of the received packet.
    pub packet_context_tag: ContextTag,
    /// The packet's IPv6 source address.
    pub src_locator: Ipv6Addr,
    /// The packet's IPv6 destination address.
    pub dst_locator: Ipv6Addr,
}

/// The rotating secrets of a responder.
pub struct ValidatorKeys {
    lifetime: Duration,
    current: [u8; SECRET_LEN],
    previous: [u8; SECRET_LEN],
    counter: u32,
    rotated_at: Duration,
}

impl core::fmt::Debug for ValidatorKeys {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Never print the secrets.
        f.debug_struct("ValidatorKeys")
            .field("lifetime", &self.lifetime)
            .field("counter", &self.counter)
            .field("rotated_at", &self.rotated_at)
            .finish_non_exhaustive()
    }
}

impl ValidatorKeys {
    /// Fresh secrets from `rng`, rotating every `lifetime` from `now`.
    /// Errors when `lifetime` is below VALIDATOR_MIN_LIFETIME.
    pub fn new<R: CryptoRng + ?Sized>(
        lifetime: Duration,
        rng: &mut R,
        now: Duration,
    ) -> Result<Self, ConfigError> {
        if lifetime < VALIDATOR_MIN_LIFETIME {
            return Err(ConfigError::ValidatorLifetime);
        }
        let mut current = [0u8; SECRET_LEN];
        let mut previous = [0u8; SECRET_LEN];
        rng.fill_bytes(&mut current);
        rng.fill_bytes(&mut previous);
        Ok(Self {
            lifetime,
            current,
            previous,
            counter: rng.next_u32(),
            rotated_at: now,
        })
    }

    /// Rotates the secret if its lifetime is over (several times after a
    /// long pause, so that no secret outlives two lifetimes). Call before
    /// issuing or verifying; a `now` earlier than the last rotation is a no-op.
    pub fn rotate_if_due<R: CryptoRng + ?Sized>(&mut self, rng: &mut R, now: Duration) {
        let mut steps = 0u8;
        while now.saturating_sub(self.rotated_at) >= self.lifetime && steps < 2 {
            self.previous = self.current;
            rng.fill_bytes(&mut self.current);
            self.counter = self.counter.wrapping_add(1);
            self.rotated_at = self.rotated_at.saturating_add(self.lifetime);
            steps = steps.saturating_add(1);
        }
        if now.saturating_sub(self.rotated_at) >= self.lifetime {
            // Paused for more than two lifetimes: restart the schedule at now.
            self.rotated_at = now;
        }
    }

    /// When the next rotation is due.
    pub fn next_rotation(&self) -> Duration {
        self.rotated_at.saturating_add(self.lifetime)
    }

    /// The Responder Nonce to send now (the counter C).
    pub fn responder_nonce(&self) -> u32 {
        self.counter
    }

    fn secret_for(&self, nonce: u32) -> Option<&[u8; SECRET_LEN]> {
        if nonce == self.counter {
            Some(&self.current)
        } else if nonce == self.counter.wrapping_sub(1) {
            Some(&self.previous)
        } else {
            None
        }
    }

    fn mac(secret: &[u8; SECRET_LEN], label: u8, nonce: u32) -> Hmac<Sha1> {
        // HMAC takes keys of any length: this cannot fail.
        let mut m = match <Hmac<Sha1> as KeyInit>::new_from_slice(secret) {
            Ok(m) => m,
            Err(_) => <Hmac<Sha1> as KeyInit>::new(&Default::default()),
        };
        m.update(&[label]);
        m.update(&nonce.to_be_bytes());
        m
    }

    fn r1_mac(secret: &[u8; SECRET_LEN], nonce: u32, i: &R1Input) -> Hmac<Sha1> {
        let mut m = Self::mac(secret, 1, nonce);
        m.update(&i.initiator_context_tag.get().to_be_bytes());
        m.update(&i.initiator_ulid.octets());
        m.update(&i.responder_ulid.octets());
        m.update(&i.src_locator.octets());
        m.update(&i.dst_locator.octets());
        m.update(&i.forked_instance_id.to_be_bytes());
        m
    }

    fn r1bis_mac(secret: &[u8; SECRET_LEN], nonce: u32, i: &R1bisInput) -> Hmac<Sha1> {
        let mut m = Self::mac(secret, 2, nonce);
        m.update(&i.packet_context_tag.get().to_be_bytes());
        m.update(&i.src_locator.octets());
        m.update(&i.dst_locator.octets());
        m
    }

    /// The Responder Nonce and validator for an R1 answering `input`.
    pub fn issue_r1(&self, input: &R1Input) -> (u32, [u8; VALIDATOR_LEN]) {
        let nonce = self.counter;
        let out = Self::r1_mac(&self.current, nonce, input)
            .finalize()
            .into_bytes();
        (nonce, out.into())
    }

    /// Whether an I2 echoing `nonce` and `validator` was answered by one of
    /// our R1s for `input` (current or previous secret; constant-time).
    pub fn verify_r1(&self, nonce: u32, input: &R1Input, validator: &[u8]) -> bool {
        self.secret_for(nonce).is_some_and(|s| {
            Self::r1_mac(s, nonce, input)
                .verify_slice(validator)
                .is_ok()
        })
    }

    /// The Responder Nonce and validator for an R1bis answering `input`.
    pub fn issue_r1bis(&self, input: &R1bisInput) -> (u32, [u8; VALIDATOR_LEN]) {
        let nonce = self.counter;
        let out = Self::r1bis_mac(&self.current, nonce, input)
            .finalize()
            .into_bytes();
        (nonce, out.into())
    }

    /// Whether an I2bis echoing `nonce` and `validator` was answered by one
    /// of our R1bis for `input`.
    pub fn verify_r1bis(&self, nonce: u32, input: &R1bisInput, validator: &[u8]) -> bool {
        self.secret_for(nonce).is_some_and(|s| {
            Self::r1bis_mac(s, nonce, input)
                .verify_slice(validator)
                .is_ok()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    fn input() -> R1Input {
        R1Input {
            initiator_context_tag: ContextTag::new(42).unwrap(),
            initiator_ulid: "2001:db8::1".parse().unwrap(),
            responder_ulid: "2001:db8::2".parse().unwrap(),
            src_locator: "2001:db8::1".parse().unwrap(),
            dst_locator: "2001:db8::2".parse().unwrap(),
            forked_instance_id: 0,
        }
    }

    #[test]
    fn lifetime_below_minimum_is_refused() {
        let mut r = ChaCha20Rng::seed_from_u64(1);
        let e = ValidatorKeys::new(Duration::from_secs(29), &mut r, Duration::ZERO).unwrap_err();
        assert_eq!(e, ConfigError::ValidatorLifetime);
    }

    #[test]
    fn validator_binds_every_input() {
        let mut r = ChaCha20Rng::seed_from_u64(2);
        let k = ValidatorKeys::new(Duration::from_secs(30), &mut r, Duration::ZERO).unwrap();
        let i = input();
        let (n, v) = k.issue_r1(&i);
        assert!(k.verify_r1(n, &i, &v));
        let changed = [
            R1Input {
                initiator_context_tag: ContextTag::new(43).unwrap(),
                ..i
            },
            R1Input {
                initiator_ulid: "2001:db8::9".parse().unwrap(),
                ..i
            },
            R1Input {
                responder_ulid: "2001:db8::9".parse().unwrap(),
                ..i
            },
            R1Input {
                src_locator: "2001:db8::9".parse().unwrap(),
                ..i
            },
            R1Input {
                dst_locator: "2001:db8::9".parse().unwrap(),
                ..i
            },
            R1Input {
                forked_instance_id: 1,
                ..i
            },
        ];
        for c in changed {
            assert!(!k.verify_r1(n, &c, &v), "{c:?}");
        }
        let mut bad = v;
        bad[19] ^= 1;
        assert!(!k.verify_r1(n, &i, &bad));
        assert!(!k.verify_r1(n, &i, &v[..19]));
        assert!(!k.verify_r1(n.wrapping_add(1), &i, &v));
        // An R1bis validator is not an R1 validator.
        let bi = R1bisInput {
            packet_context_tag: i.initiator_context_tag,
            src_locator: i.src_locator,
            dst_locator: i.dst_locator,
        };
        let (nb, vb) = k.issue_r1bis(&bi);
        assert!(k.verify_r1bis(nb, &bi, &vb));
        assert!(!k.verify_r1(nb, &i, &vb));
    }

    #[test]
    fn previous_secret_stays_valid_for_one_rotation() {
        let mut r = ChaCha20Rng::seed_from_u64(3);
        let life = Duration::from_secs(30);
        let mut k = ValidatorKeys::new(life, &mut r, Duration::ZERO).unwrap();
        let i = input();
        let (n, v) = k.issue_r1(&i);
        k.rotate_if_due(&mut r, Duration::from_secs(29));
        assert_eq!(k.responder_nonce(), n);
        k.rotate_if_due(&mut r, Duration::from_secs(30));
        assert_ne!(k.responder_nonce(), n);
        assert!(k.verify_r1(n, &i, &v), "previous secret still valid");
        let (n2, v2) = k.issue_r1(&i);
        assert_ne!(v2, v);
        k.rotate_if_due(&mut r, Duration::from_secs(60));
        assert!(!k.verify_r1(n, &i, &v), "two rotations later");
        assert!(k.verify_r1(n2, &i, &v2));
        // A long pause rotates twice at most and forgets both.
        k.rotate_if_due(&mut r, Duration::from_secs(10_000));
        assert!(!k.verify_r1(n2, &i, &v2));
        assert_eq!(k.next_rotation(), Duration::from_secs(10_030));
    }
}
