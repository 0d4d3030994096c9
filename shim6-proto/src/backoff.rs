//! Retransmission timeouts (RFC 5533 §14): binary exponential backoff, then
//! randomisation uniformly over 0.5 to 1.5 times the backed-off value.
//!
//! "The first retransmission would happen based on a uniformly distributed
//! random number in the range of [0.5*4, 1.5*4] seconds; the second
//! retransmission, [0.5*8, 1.5*8] seconds after the first one, etc."
#![deny(clippy::arithmetic_side_effects)]

use core::time::Duration;

use rand_core::CryptoRng;

/// Backoff exponents above this are treated as this (2^16 times the
/// nominal value already exceeds any sensible ceiling).
pub const MAX_EXPONENT: u32 = 16;

/// The nominal (not yet randomised) timeout before retransmission number
/// `attempt + 1`: `nominal * 2^attempt`, at most `ceiling` when given (as
/// MAX_UPDATE_TIMEOUT bounds UPDATE_TIMEOUT).
#[must_use]
pub fn backed_off(nominal: Duration, attempt: u32, ceiling: Option<Duration>) -> Duration {
    let factor = 1u32 << attempt.min(MAX_EXPONENT);
    let d = nominal.saturating_mul(factor);
    match ceiling {
        Some(c) => d.min(c),
        None => d,
    }
}

/// [`backed_off`] randomised uniformly over `[0.5, 1.5]` times its value,
/// from the injected RNG.
#[must_use]
pub fn retransmit_timeout<R: CryptoRng + ?Sized>(
    nominal: Duration,
    attempt: u32,
    ceiling: Option<Duration>,
    rng: &mut R,
) -> Duration {
    let base = backed_off(nominal, attempt, ceiling).as_nanos();
    // Uniform in [0, base] by multiply-and-shift of a 64-bit draw.
    let span = base.saturating_add(1);
    let r = u128::from(rng.next_u64()).saturating_mul(span) >> 64;
    let ns = (base >> 1).saturating_add(r);
    Duration::from_nanos(u64::try_from(ns).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{I1_TIMEOUT, MAX_UPDATE_TIMEOUT, UPDATE_TIMEOUT};
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    #[test]
    fn doubling_and_ceiling() {
        assert_eq!(backed_off(I1_TIMEOUT, 0, None), Duration::from_secs(4));
        assert_eq!(backed_off(I1_TIMEOUT, 1, None), Duration::from_secs(8));
        assert_eq!(backed_off(I1_TIMEOUT, 3, None), Duration::from_secs(32));
        // 4, 8, 16, 32, 64, 120, 120 s for updates.
        let ups: [u64; 7] = [4, 8, 16, 32, 64, 120, 120];
        for (i, want) in ups.iter().enumerate() {
            let got = backed_off(
                UPDATE_TIMEOUT,
                u32::try_from(i).unwrap(),
                Some(MAX_UPDATE_TIMEOUT),
            );
            assert_eq!(got, Duration::from_secs(*want));
        }
        assert_eq!(backed_off(Duration::MAX, 40, None), Duration::MAX);
    }

    #[test]
    fn randomised_within_half_and_one_and_a_half() {
        let mut r = ChaCha20Rng::seed_from_u64(14);
        let (mut low, mut high) = (Duration::MAX, Duration::ZERO);
        for _ in 0..4000 {
            let d = retransmit_timeout(I1_TIMEOUT, 1, None, &mut r);
            assert!(
                d >= Duration::from_secs(4) && d <= Duration::from_secs(12),
                "{d:?}"
            );
            low = low.min(d);
            high = high.max(d);
        }
        // 4000 uniform draws over [4 s, 12 s] reach both ends within 50 ms.
        assert!(low < Duration::from_millis(4050), "{low:?}");
        assert!(high > Duration::from_millis(11950), "{high:?}");
    }
}
