//! Protocol constants, named as in RFC 5533 §14.
//!
//! The retransmit timers (I1, I2, I2bis, Update) back off exponentially and
//! are then randomised uniformly over 0.5 to 1.5 times the backed-off value
//! (§14); the establishment machine applies that.
#![allow(non_upper_case_globals)] // I2bis_* are spelled as in RFC 5533 §14

use core::time::Duration;

/// Retransmissions of I1 before giving up.
pub const I1_RETRIES_MAX: u32 = 4;
/// Initial I1 retransmission timeout.
pub const I1_TIMEOUT: Duration = Duration::from_secs(4);
/// How long a peer that never answered an I1 is not tried again.
pub const NO_R1_HOLDDOWN_TIME: Duration = Duration::from_secs(60);
/// How long a peer that answered with ICMP Unrecognized Next Header is not tried again.
pub const ICMP_HOLDDOWN_TIME: Duration = Duration::from_secs(600);
/// Initial I2 retransmission timeout.
pub const I2_TIMEOUT: Duration = Duration::from_secs(4);
/// Retransmissions of I2 before falling back to I1.
pub const I2_RETRIES_MAX: u32 = 2;
/// Initial I2bis retransmission timeout.
pub const I2bis_TIMEOUT: Duration = Duration::from_secs(4);
/// Retransmissions of I2bis before falling back to I1.
pub const I2bis_RETRIES_MAX: u32 = 2;
/// Minimum lifetime of a responder validator secret.
pub const VALIDATOR_MIN_LIFETIME: Duration = Duration::from_secs(30);
/// Initial Update Request retransmission timeout.
pub const UPDATE_TIMEOUT: Duration = Duration::from_secs(4);
/// Ceiling of the Update Request retransmission timeout.
pub const MAX_UPDATE_TIMEOUT: Duration = Duration::from_secs(120);
