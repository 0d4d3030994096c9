//! The ULID-pair context state machine (RFC 5533 §6.2, §7 and the tables of
//! Appendix B, "Simplified STATE Machine").
//!
//! This module holds the states and the transition function [`step`], a
//! pure function of (state, trigger) that follows Appendix B row by row.
//! The context itself (ULIDs, tags, nonces, locators, timers) and its
//! verification work come on top of it; `step` decides the action and the
//! next state once the caller has evaluated the trigger's checks (nonce,
//! validator, context tag match, retry counter).
//!
//! (The tracker refers to these tables as Appendix C; in RFC 5533 they are
//! Appendix B. Appendix C, "Context Tag Reuse", shapes the
//! [`ctag`](crate::ctag) allocator.)
//!
//! ## Transitions
//!
//! "Discard" drops the message; "not delivered" means the dispatcher has no
//! way to route the message to a context in this state (§12.4), which the
//! caller treats like a discard. Timeouts count retransmissions: "exceeded"
//! is the RFC's `counter > *_RETRIES_MAX`.
//!
//! | state | trigger | action | next state |
//! |---|---|---|---|
//! | IDLE | receive I1 | send R1 | IDLE |
//! | IDLE | heuristic triggers establishment | send I1 | I1-SENT |
//! | IDLE | receive I2, validator and RESP nonce verify | send R2 | ESTABLISHED |
//! | IDLE | receive I2, verification fails | discard | IDLE |
//! | IDLE | receive I2bis, validator and RESP nonce verify | send R2 | ESTABLISHED |
//! | IDLE | receive I2bis, verification fails | discard | IDLE |
//! | IDLE | R1, R1bis, R2 | not delivered | IDLE |
//! | IDLE | payload extension header or other control message | send R1bis | IDLE |
//! | I1-SENT | receive R1, INIT nonce verifies | send I2 | I2-SENT |
//! | I1-SENT | receive R1, INIT nonce fails | discard | I1-SENT |
//! | I1-SENT | receive I1 | send R2 | I1-SENT |
//! | I1-SENT | receive R2, INIT nonce verifies | none | ESTABLISHED |
//! | I1-SENT | receive R2, INIT nonce fails | discard | I1-SENT |
//! | I1-SENT | receive I2, validator and RESP nonce verify | send R2 | ESTABLISHED |
//! | I1-SENT | receive I2, verification fails | discard | I1-SENT |
//! | I1-SENT | receive I2bis, validator and RESP nonce verify | send R2 | ESTABLISHED |
//! | I1-SENT | receive I2bis, verification fails | discard | I1-SENT |
//! | I1-SENT | timeout, counter <= I1_RETRIES_MAX | send I1 | I1-SENT |
//! | I1-SENT | timeout, counter > I1_RETRIES_MAX | none | E-FAILED |
//! | I1-SENT | ICMP Unrecognized Next Header for the I1 | none | NO-SUPPORT (see below) |
//! | I1-SENT | R1bis | not delivered | I1-SENT |
//! | I1-SENT | payload extension header or other control message | discard | I1-SENT |
//! | I2-SENT | receive R2, INIT nonce verifies | none | ESTABLISHED |
//! | I2-SENT | receive R2, INIT nonce fails | discard | I2-SENT |
//! | I2-SENT | receive I1 | send R2 | I2-SENT |
//! | I2-SENT | receive I2, validator and RESP nonce verify | send R2 | I2-SENT |
//! | I2-SENT | receive I2bis, validator and RESP nonce verify | send R2 | I2-SENT |
//! | I2-SENT | receive R1 | discard | I2-SENT |
//! | I2-SENT | timeout, counter <= I2_RETRIES_MAX | send I2 | I2-SENT |
//! | I2-SENT | timeout, counter > I2_RETRIES_MAX | send I1 | I1-SENT |
//! | I2-SENT | R1bis | not delivered | I2-SENT |
//! | I2-SENT | payload extension header or other control message | accept and send I2 | I2-SENT |
//! | I2BIS-SENT | receive R2, INIT nonce verifies | none | ESTABLISHED |
//! | I2BIS-SENT | receive R2, INIT nonce fails | discard | I2BIS-SENT |
//! | I2BIS-SENT | receive I1 | send R2 | I2BIS-SENT |
//! | I2BIS-SENT | receive I2, validator and RESP nonce verify | send R2 | I2BIS-SENT |
//! | I2BIS-SENT | receive I2bis, validator and RESP nonce verify | send R2 | I2BIS-SENT |
//! | I2BIS-SENT | receive R1 | discard | I2BIS-SENT |
//! | I2BIS-SENT | timeout, counter <= I2bis_RETRIES_MAX | send I2bis | I2BIS-SENT |
//! | I2BIS-SENT | timeout, counter > I2bis_RETRIES_MAX | send I1 | I1-SENT |
//! | I2BIS-SENT | R1bis | not delivered | I2BIS-SENT |
//! | I2BIS-SENT | payload extension header or other control message | accept and send I2bis | I2BIS-SENT |
//! | ESTABLISHED | receive I1, CT(peer) does not match | send R1 | ESTABLISHED |
//! | ESTABLISHED | receive I1, CT(peer) matches | send R2 | ESTABLISHED |
//! | ESTABLISHED | receive I2, validator and RESP nonce verify | send R2 | ESTABLISHED |
//! | ESTABLISHED | receive I2, verification fails | discard | ESTABLISHED |
//! | ESTABLISHED | receive I2bis, validator and RESP nonce verify | send R2 | ESTABLISHED |
//! | ESTABLISHED | receive I2bis, verification fails | discard | ESTABLISHED |
//! | ESTABLISHED | receive R2 | discard | ESTABLISHED |
//! | ESTABLISHED | receive R1 | discard | ESTABLISHED |
//! | ESTABLISHED | receive R1bis | send I2bis | I2BIS-SENT |
//! | ESTABLISHED | payload extension header or other control message | process | ESTABLISHED |
//! | ESTABLISHED | implementation heuristic (idle, no ULP) | discard state | IDLE |
//! | E-FAILED | NO_R1_HOLDDOWN_TIME elapsed | none | IDLE |
//! | E-FAILED | any packet | as in IDLE | ESTABLISHED if IDLE would, else E-FAILED |
//! | NO-SUPPORT | ICMP_HOLDDOWN_TIME elapsed | none | IDLE |
//! | NO-SUPPORT | any packet | as in IDLE | ESTABLISHED if IDLE would, else NO-SUPPORT |
//!
//! Rows the tables leave out keep the state and do nothing: a timeout with
//! no retransmission pending, a hold-down expiry outside E-FAILED and
//! NO-SUPPORT, a heuristic trigger in any state but IDLE (in E-FAILED and
//! NO-SUPPORT it is exactly what the negative cache of §7.8 suppresses),
//! an ICMP error outside I1-SENT, and verification failures in I2-SENT and
//! I2BIS-SENT (discarded, as in the other states).
//!
//! Where Appendix B and the text disagree, the text is normative (Appendix
//! B says so): the I1-SENT table moves to E-FAILED on an ICMP error, but
//! §6.2 defines NO-SUPPORT as "ICMP Unrecognized Next Header type (type 4,
//! code 1) received", §7.8 gives it its own ICMP_HOLDDOWN_TIME and the
//! diagram of Appendix B.1 draws "ICMP Error/Null" to NO SUPPORT. [`step`]
//! goes to NO-SUPPORT.

use core::fmt;

/// The states of a ULID-pair context (RFC 5533 §6.2), named exactly as
/// there by [`ContextState::name`] and `Display`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum ContextState {
    /// State machine start.
    #[default]
    Idle,
    /// Initiating the context-establishment exchange.
    I1Sent,
    /// Waiting to complete the context-establishment exchange.
    I2Sent,
    /// Potential context loss detected.
    I2bisSent,
    /// Shim context established.
    Established,
    /// The context-establishment exchange failed.
    EFailed,
    /// ICMP Unrecognized Next Header received: the peer has no Shim6.
    NoSupport,
}

impl ContextState {
    /// Every state, in the order of §6.2.
    pub const ALL: [Self; 7] = [
        Self::Idle,
        Self::I1Sent,
        Self::I2Sent,
        Self::I2bisSent,
        Self::Established,
        Self::EFailed,
        Self::NoSupport,
    ];

    /// The RFC's name of the state.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Idle => "IDLE",
            Self::I1Sent => "I1-SENT",
            Self::I2Sent => "I2-SENT",
            Self::I2bisSent => "I2BIS-SENT",
            Self::Established => "ESTABLISHED",
            Self::EFailed => "E-FAILED",
            Self::NoSupport => "NO-SUPPORT",
        }
    }
}

impl fmt::Display for ContextState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What happened to a context, with the checks the caller already made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Trigger {
    /// The establishment heuristic fired for this ULID pair.
    Heuristic,
    /// An I1 arrived; `ct_matches`: its context tag equals CT(peer) (used
    /// in ESTABLISHED, §7.9).
    ReceiveI1 {
        /// The I1's Initiator Context Tag equals CT(peer).
        ct_matches: bool,
    },
    /// An R1 arrived; `nonce_ok`: its Initiator Nonce is ours.
    ReceiveR1 {
        /// The Initiator Nonce verifies.
        nonce_ok: bool,
    },
    /// An I2 arrived; `valid`: its validator and Responder Nonce verify.
    ReceiveI2 {
        /// Validator and RESP nonce verify.
        valid: bool,
    },
    /// An R2 arrived; `nonce_ok`: its Initiator Nonce is ours.
    ReceiveR2 {
        /// The Initiator Nonce verifies.
        nonce_ok: bool,
    },
    /// An R1bis arrived for this context.
    ReceiveR1bis,
    /// An I2bis arrived; `valid`: its validator and Responder Nonce verify.
    ReceiveI2bis {
        /// Validator and RESP nonce verify.
        valid: bool,
    },
    /// A payload extension header or another control message (Update,
    /// Keepalive, Probe) for this context.
    PayloadOrControl,
    /// The retransmission timer fired; `exceeded`: the incremented counter
    /// is above the state's `*_RETRIES_MAX`.
    Timeout {
        /// counter > the RETRIES_MAX of the state.
        exceeded: bool,
    },
    /// ICMP Unrecognized Next Header (type 4, code 1) quoting our I1.
    IcmpUnrecognizedNextHeader,
    /// NO_R1_HOLDDOWN_TIME or ICMP_HOLDDOWN_TIME elapsed.
    HolddownExpired,
    /// The implementation's heuristic decided to drop an idle context.
    Teardown,
}

/// What the context does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Action {
    /// Nothing (beyond the state change).
    None,
    /// Drop the message.
    Discard,
    /// The dispatcher cannot deliver this message to a context in this state (§12.4).
    NotDelivered,
    /// Send (or retransmit) an I1.
    SendI1,
    /// Send an R1 (stateless, §7.10).
    SendR1,
    /// Send (or retransmit) an I2.
    SendI2,
    /// Send an R2.
    SendR2,
    /// Send an R1bis (§7.17).
    SendR1bis,
    /// Send (or retransmit) an I2bis.
    SendI2bis,
    /// Process the payload or control message.
    Process,
    /// Accept the message and send an I2 (the R2 was probably lost).
    ProcessAndSendI2,
    /// Accept the message and send an I2bis (the R2 was probably lost).
    ProcessAndSendI2bis,
    /// Discard the context state.
    DiscardState,
}

/// The outcome of [`step`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Transition {
    /// What to do.
    pub action: Action,
    /// The state afterwards.
    pub next: ContextState,
}

const fn t(action: Action, next: ContextState) -> Transition {
    Transition { action, next }
}

/// The transition of Appendix B for `trigger` in `state` (see the table in
/// the module documentation).
#[must_use]
pub const fn step(state: ContextState, trigger: Trigger) -> Transition {
    use Action as A;
    use ContextState as S;
    use Trigger as T;
    match state {
        S::Idle => match trigger {
            T::ReceiveI1 { .. } => t(A::SendR1, S::Idle),
            T::Heuristic => t(A::SendI1, S::I1Sent),
            T::ReceiveI2 { valid: true } | T::ReceiveI2bis { valid: true } => {
                t(A::SendR2, S::Established)
            }
            T::ReceiveI2 { valid: false } | T::ReceiveI2bis { valid: false } => {
                t(A::Discard, S::Idle)
            }
            T::ReceiveR1 { .. } | T::ReceiveR1bis | T::ReceiveR2 { .. } => {
                t(A::NotDelivered, S::Idle)
            }
            T::PayloadOrControl => t(A::SendR1bis, S::Idle),
            T::Timeout { .. }
            | T::IcmpUnrecognizedNextHeader
            | T::HolddownExpired
            | T::Teardown => t(A::None, S::Idle),
        },
        S::I1Sent => match trigger {
            T::ReceiveR1 { nonce_ok: true } => t(A::SendI2, S::I2Sent),
            T::ReceiveR1 { nonce_ok: false } => t(A::Discard, S::I1Sent),
            T::ReceiveI1 { .. } => t(A::SendR2, S::I1Sent),
            T::ReceiveR2 { nonce_ok: true } => t(A::None, S::Established),
            T::ReceiveR2 { nonce_ok: false } => t(A::Discard, S::I1Sent),
            T::ReceiveI2 { valid: true } | T::ReceiveI2bis { valid: true } => {
                t(A::SendR2, S::Established)
            }
            T::ReceiveI2 { valid: false } | T::ReceiveI2bis { valid: false } => {
                t(A::Discard, S::I1Sent)
            }
            T::Timeout { exceeded: false } => t(A::SendI1, S::I1Sent),
            T::Timeout { exceeded: true } => t(A::None, S::EFailed),
            T::IcmpUnrecognizedNextHeader => t(A::None, S::NoSupport),
            T::ReceiveR1bis => t(A::NotDelivered, S::I1Sent),
            T::PayloadOrControl => t(A::Discard, S::I1Sent),
            T::Heuristic | T::HolddownExpired | T::Teardown => t(A::None, S::I1Sent),
        },
        S::I2Sent | S::I2bisSent => {
            let (retx, accept) = match state {
                S::I2Sent => (A::SendI2, A::ProcessAndSendI2),
                _ => (A::SendI2bis, A::ProcessAndSendI2bis),
            };
            match trigger {
                T::ReceiveR2 { nonce_ok: true } => t(A::None, S::Established),
                T::ReceiveR2 { nonce_ok: false } => t(A::Discard, state),
                T::ReceiveI1 { .. } => t(A::SendR2, state),
                T::ReceiveI2 { valid: true } | T::ReceiveI2bis { valid: true } => {
                    t(A::SendR2, state)
                }
                T::ReceiveI2 { valid: false } | T::ReceiveI2bis { valid: false } => {
                    t(A::Discard, state)
                }
                T::ReceiveR1 { .. } => t(A::Discard, state),
                T::Timeout { exceeded: false } => t(retx, state),
                T::Timeout { exceeded: true } => t(A::SendI1, S::I1Sent),
                T::ReceiveR1bis => t(A::NotDelivered, state),
                T::PayloadOrControl => t(accept, state),
                T::Heuristic | T::IcmpUnrecognizedNextHeader | T::HolddownExpired | T::Teardown => {
                    t(A::None, state)
                }
            }
        }
        S::Established => match trigger {
            T::ReceiveI1 { ct_matches: false } => t(A::SendR1, S::Established),
            T::ReceiveI1 { ct_matches: true } => t(A::SendR2, S::Established),
            T::ReceiveI2 { valid: true } | T::ReceiveI2bis { valid: true } => {
                t(A::SendR2, S::Established)
            }
            T::ReceiveI2 { valid: false } | T::ReceiveI2bis { valid: false } => {
                t(A::Discard, S::Established)
            }
            T::ReceiveR2 { .. } | T::ReceiveR1 { .. } => t(A::Discard, S::Established),
            T::ReceiveR1bis => t(A::SendI2bis, S::I2bisSent),
            T::PayloadOrControl => t(A::Process, S::Established),
            T::Teardown => t(A::DiscardState, S::Idle),
            T::Heuristic
            | T::Timeout { .. }
            | T::IcmpUnrecognizedNextHeader
            | T::HolddownExpired => t(A::None, S::Established),
        },
        S::EFailed | S::NoSupport => match trigger {
            T::HolddownExpired => t(A::None, S::Idle),
            // The negative cache: do not initiate while holding down.
            T::Heuristic | T::Timeout { .. } | T::IcmpUnrecognizedNextHeader | T::Teardown => {
                t(A::None, state)
            }
            // Any packet: process as in IDLE.
            _ => {
                let idle = step(S::Idle, trigger);
                match idle.next {
                    S::Idle => t(idle.action, state),
                    next => t(idle.action, next),
                }
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action as A;
    use ContextState as S;
    use Trigger as T;
    use alloc::vec::Vec;

    #[test]
    fn names_are_the_rfc_names() {
        let names: Vec<_> = S::ALL.iter().map(|s| alloc::format!("{s}")).collect();
        assert_eq!(
            names,
            [
                "IDLE",
                "I1-SENT",
                "I2-SENT",
                "I2BIS-SENT",
                "ESTABLISHED",
                "E-FAILED",
                "NO-SUPPORT"
            ]
        );
    }

    /// Every row of RFC 5533 Appendix B, transcribed from the RFC text.
    #[test]
    fn appendix_b_rows() {
        let rows: &[(S, T, A, S)] = &[
            // IDLE
            (
                S::Idle,
                T::ReceiveI1 { ct_matches: false },
                A::SendR1,
                S::Idle,
            ),
            (S::Idle, T::Heuristic, A::SendI1, S::I1Sent),
            (
                S::Idle,
                T::ReceiveI2 { valid: true },
                A::SendR2,
                S::Established,
            ),
            (S::Idle, T::ReceiveI2 { valid: false }, A::Discard, S::Idle),
            (
                S::Idle,
                T::ReceiveI2bis { valid: true },
                A::SendR2,
                S::Established,
            ),
            (
                S::Idle,
                T::ReceiveI2bis { valid: false },
                A::Discard,
                S::Idle,
            ),
            (
                S::Idle,
                T::ReceiveR1 { nonce_ok: true },
                A::NotDelivered,
                S::Idle,
            ),
            (S::Idle, T::ReceiveR1bis, A::NotDelivered, S::Idle),
            (
                S::Idle,
                T::ReceiveR2 { nonce_ok: true },
                A::NotDelivered,
                S::Idle,
            ),
            (S::Idle, T::PayloadOrControl, A::SendR1bis, S::Idle),
            // I1-SENT
            (
                S::I1Sent,
                T::ReceiveR1 { nonce_ok: true },
                A::SendI2,
                S::I2Sent,
            ),
            (
                S::I1Sent,
                T::ReceiveR1 { nonce_ok: false },
                A::Discard,
                S::I1Sent,
            ),
            (
                S::I1Sent,
                T::ReceiveI1 { ct_matches: false },
                A::SendR2,
                S::I1Sent,
            ),
            (
                S::I1Sent,
                T::ReceiveR2 { nonce_ok: true },
                A::None,
                S::Established,
            ),
            (
                S::I1Sent,
                T::ReceiveR2 { nonce_ok: false },
                A::Discard,
                S::I1Sent,
            ),
            (
                S::I1Sent,
                T::ReceiveI2 { valid: true },
                A::SendR2,
                S::Established,
            ),
            (
                S::I1Sent,
                T::ReceiveI2 { valid: false },
                A::Discard,
                S::I1Sent,
            ),
            (
                S::I1Sent,
                T::ReceiveI2bis { valid: true },
                A::SendR2,
                S::Established,
            ),
            (
                S::I1Sent,
                T::ReceiveI2bis { valid: false },
                A::Discard,
                S::I1Sent,
            ),
            (
                S::I1Sent,
                T::Timeout { exceeded: false },
                A::SendI1,
                S::I1Sent,
            ),
            (
                S::I1Sent,
                T::Timeout { exceeded: true },
                A::None,
                S::EFailed,
            ),
            (
                S::I1Sent,
                T::IcmpUnrecognizedNextHeader,
                A::None,
                S::NoSupport,
            ),
            (S::I1Sent, T::ReceiveR1bis, A::NotDelivered, S::I1Sent),
            (S::I1Sent, T::PayloadOrControl, A::Discard, S::I1Sent),
            // I2-SENT
            (
                S::I2Sent,
                T::ReceiveR2 { nonce_ok: true },
                A::None,
                S::Established,
            ),
            (
                S::I2Sent,
                T::ReceiveR2 { nonce_ok: false },
                A::Discard,
                S::I2Sent,
            ),
            (
                S::I2Sent,
                T::ReceiveI1 { ct_matches: false },
                A::SendR2,
                S::I2Sent,
            ),
            (
                S::I2Sent,
                T::ReceiveI2 { valid: true },
                A::SendR2,
                S::I2Sent,
            ),
            (
                S::I2Sent,
                T::ReceiveI2bis { valid: true },
                A::SendR2,
                S::I2Sent,
            ),
            (
                S::I2Sent,
                T::ReceiveR1 { nonce_ok: true },
                A::Discard,
                S::I2Sent,
            ),
            (
                S::I2Sent,
                T::Timeout { exceeded: false },
                A::SendI2,
                S::I2Sent,
            ),
            (
                S::I2Sent,
                T::Timeout { exceeded: true },
                A::SendI1,
                S::I1Sent,
            ),
            (S::I2Sent, T::ReceiveR1bis, A::NotDelivered, S::I2Sent),
            (
                S::I2Sent,
                T::PayloadOrControl,
                A::ProcessAndSendI2,
                S::I2Sent,
            ),
            // I2BIS-SENT
            (
                S::I2bisSent,
                T::ReceiveR2 { nonce_ok: true },
                A::None,
                S::Established,
            ),
            (
                S::I2bisSent,
                T::ReceiveR2 { nonce_ok: false },
                A::Discard,
                S::I2bisSent,
            ),
            (
                S::I2bisSent,
                T::ReceiveI1 { ct_matches: true },
                A::SendR2,
                S::I2bisSent,
            ),
            (
                S::I2bisSent,
                T::ReceiveI2 { valid: true },
                A::SendR2,
                S::I2bisSent,
            ),
            (
                S::I2bisSent,
                T::ReceiveI2bis { valid: true },
                A::SendR2,
                S::I2bisSent,
            ),
            (
                S::I2bisSent,
                T::ReceiveR1 { nonce_ok: false },
                A::Discard,
                S::I2bisSent,
            ),
            (
                S::I2bisSent,
                T::Timeout { exceeded: false },
                A::SendI2bis,
                S::I2bisSent,
            ),
            (
                S::I2bisSent,
                T::Timeout { exceeded: true },
                A::SendI1,
                S::I1Sent,
            ),
            (S::I2bisSent, T::ReceiveR1bis, A::NotDelivered, S::I2bisSent),
            (
                S::I2bisSent,
                T::PayloadOrControl,
                A::ProcessAndSendI2bis,
                S::I2bisSent,
            ),
            // ESTABLISHED
            (
                S::Established,
                T::ReceiveI1 { ct_matches: false },
                A::SendR1,
                S::Established,
            ),
            (
                S::Established,
                T::ReceiveI1 { ct_matches: true },
                A::SendR2,
                S::Established,
            ),
            (
                S::Established,
                T::ReceiveI2 { valid: true },
                A::SendR2,
                S::Established,
            ),
            (
                S::Established,
                T::ReceiveI2 { valid: false },
                A::Discard,
                S::Established,
            ),
            (
                S::Established,
                T::ReceiveI2bis { valid: true },
                A::SendR2,
                S::Established,
            ),
            (
                S::Established,
                T::ReceiveI2bis { valid: false },
                A::Discard,
                S::Established,
            ),
            (
                S::Established,
                T::ReceiveR2 { nonce_ok: true },
                A::Discard,
                S::Established,
            ),
            (
                S::Established,
                T::ReceiveR1 { nonce_ok: true },
                A::Discard,
                S::Established,
            ),
            (S::Established, T::ReceiveR1bis, A::SendI2bis, S::I2bisSent),
            (
                S::Established,
                T::PayloadOrControl,
                A::Process,
                S::Established,
            ),
            (S::Established, T::Teardown, A::DiscardState, S::Idle),
            // E-FAILED and NO-SUPPORT
            (S::EFailed, T::HolddownExpired, A::None, S::Idle),
            (
                S::EFailed,
                T::ReceiveI1 { ct_matches: false },
                A::SendR1,
                S::EFailed,
            ),
            (
                S::EFailed,
                T::ReceiveI2 { valid: true },
                A::SendR2,
                S::Established,
            ),
            (S::EFailed, T::PayloadOrControl, A::SendR1bis, S::EFailed),
            (S::EFailed, T::Heuristic, A::None, S::EFailed),
            (S::NoSupport, T::HolddownExpired, A::None, S::Idle),
            (
                S::NoSupport,
                T::ReceiveI1 { ct_matches: true },
                A::SendR1,
                S::NoSupport,
            ),
            (
                S::NoSupport,
                T::ReceiveI2bis { valid: true },
                A::SendR2,
                S::Established,
            ),
            (
                S::NoSupport,
                T::ReceiveI2bis { valid: false },
                A::Discard,
                S::NoSupport,
            ),
            (S::NoSupport, T::Heuristic, A::None, S::NoSupport),
        ];
        for &(state, trigger, action, next) in rows {
            assert_eq!(
                step(state, trigger),
                Transition { action, next },
                "{state} on {trigger:?}"
            );
        }
    }

    #[test]
    fn only_listed_triggers_leave_a_state() {
        // Every (state, trigger) pair: a state change only happens on the
        // triggers Appendix B lists for it.
        let triggers = [
            T::Heuristic,
            T::ReceiveI1 { ct_matches: false },
            T::ReceiveI1 { ct_matches: true },
            T::ReceiveR1 { nonce_ok: false },
            T::ReceiveR1 { nonce_ok: true },
            T::ReceiveI2 { valid: false },
            T::ReceiveI2 { valid: true },
            T::ReceiveR2 { nonce_ok: false },
            T::ReceiveR2 { nonce_ok: true },
            T::ReceiveR1bis,
            T::ReceiveI2bis { valid: false },
            T::ReceiveI2bis { valid: true },
            T::PayloadOrControl,
            T::Timeout { exceeded: false },
            T::Timeout { exceeded: true },
            T::IcmpUnrecognizedNextHeader,
            T::HolddownExpired,
            T::Teardown,
        ];
        let mut changes = 0;
        for s in S::ALL {
            for tr in triggers {
                let out = step(s, tr);
                if out.next != s {
                    changes += 1;
                }
                // Nothing but ESTABLISHED's teardown and the hold-downs goes back to IDLE.
                if out.next == S::Idle && s != S::Idle {
                    assert!(matches!(tr, T::Teardown | T::HolddownExpired), "{s} {tr:?}");
                }
            }
        }
        // Counted from the table: IDLE 3 (heuristic, valid I2, valid I2bis),
        // I1-SENT 6 (R1 ok, R2 ok, valid I2, valid I2bis, timeout exceeded,
        // ICMP), I2-SENT 2 and I2BIS-SENT 2 (R2 ok, timeout exceeded),
        // ESTABLISHED 2 (R1bis, teardown), E-FAILED 3 and NO-SUPPORT 3
        // (hold-down, valid I2, valid I2bis).
        assert_eq!(changes, 21);
    }
}
