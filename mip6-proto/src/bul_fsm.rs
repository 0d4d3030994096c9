//! SHISA's binding update list machines as transition tables.
//!
//! A binding update list entry runs two machines (seed 002 §4.7, and
//! `shisa-fsm.md` §1-2, which gives the tables SHISA's code implements):
//! the **primary** machine tracks the registration with the peer and the
//! **secondary** machine runs return routability for correspondent entries.
//! This module holds only the tables: [`primary`] and [`secondary`] map a
//! (state, event, guards) triple to the actions to run and the next state,
//! with no side effects, so a reader can check them row by row against the
//! tables below and RFC 6275. The mobile node's executor interprets the
//! actions (sending, timers, forwarding-plane events).
//!
//! Every (state, event) pair not listed is ignored: [`primary`] and
//! [`secondary`] return `None`, and the entry changes nothing.
//!
//! ## Primary machine
//!
//! Guards: **H** the entry is the home registration, **C** a correspondent;
//! **A** the entry requests acknowledgements; **HA** a home agent is known.
//! Actions are the variants of [`Act`] (BU = send a Binding Update, T1(first)
//! / T1(init) = arm the retransmission timer at InitialBindackTimeoutFirstReg
//! / InitialBindackTimeout, BACKOFF = double it up to MAX_BINDACK_TIMEOUT, T2
//! = arm the expire timer at the lifetime, REG = install in the forwarding
//! plane + refresh timer + T2, ...).
//!
//! | state | event | guard | actions | next |
//! |---|---|---|---|---|
//! | IDLE | MOVEMENT | H, HA | L:=def; BU; T1(first); T2 | WAITA |
//! | IDLE | MOVEMENT | H, no HA | L:=def; TRYHA | (TRYHA decides) |
//! | IDLE | MOVEMENT | C | L:=def; RR(START_RR); T2 | RRINIT |
//! | IDLE | REVERSE_PACKET | C | L:=def; STOPR; T2; RR(START_RR) | RRINIT |
//! | IDLE | REVERSE_PACKET | H | L:=def | IDLE |
//! | IDLE | ICMP_ERR | | STOPR; DISABLE | IDLE |
//! | IDLE | EXPIRE | C | FREE | (freed) |
//! | RRINIT | RR_DONE | A | BU; T1(init) | WAITA |
//! | RRINIT | RR_DONE | no A | BU; REG | BOUND |
//! | RRINIT | MOVEMENT | | STOPR; RR(STOP_RR); RR(START_RR) | RRINIT |
//! | RRINIT | RETURNING_HOME | | STOPT; RR(STOP_RR); FREE | (freed) |
//! | RRINIT | UNKNOWN_MH, ICMP_ERR | | STOPR; RR(STOP_RR); DISABLE | IDLE |
//! | RRINIT | EXPIRE | | STOPT; FREE | (freed) |
//! | RRREDO | RR_DONE | A | BU; T1(init) | WAITAR |
//! | RRREDO | RR_DONE | no A | BU; REG | BOUND |
//! | RRREDO | MOVEMENT | | KDEL; RR(STOP_RR); RR(START_RR) | RRINIT |
//! | RRREDO | RETURNING_HOME | | KDEL; RR(STOP_RR); RR(START_HOME_RR) | RRDEL |
//! | RRREDO | UNKNOWN_MH, ICMP_ERR | | KDEL; STOPR; RR(STOP_RR); DISABLE | IDLE |
//! | RRREDO | EXPIRE | | STOPT; KDEL; FREE \[SPEC: as in BOUND] | (freed) |
//! | RRDEL | RR_DONE | A | BU(dereg); T1(init) | WAITD |
//! | RRDEL | RR_DONE | no A | BU(dereg); DEREG; STOPT; KDEL; FREE | (freed) |
//! | RRDEL | MOVEMENT | | L:=def \[SPEC]; STOPR; RR(STOP_RR); RR(START_RR) | RRINIT |
//! | RRDEL | UNKNOWN_MH | | STOPT; RR(STOP_RR); KDEL; FREE | (freed) |
//! | RRDEL | ICMP_ERR | | STOPR; RR(STOP_RR); DISABLE; KDEL | IDLE |
//! | RRDEL | EXPIRE | | STOPT; KDEL; FREE | (freed) |
//! | WAITA | BACK | | BAPRE; REG; H: REGISTERED to every C | BOUND |
//! | WAITA | RETRANS | | BU; BACKOFF | WAITA |
//! | WAITA | EXPIRE | H | TRYHA | (TRYHA decides) |
//! | WAITA | EXPIRE | C | STOPT; FREE | (freed) |
//! | WAITA | UNKNOWN_MH | C | STOPR; DISABLE | IDLE |
//! | WAITA | MOVEMENT | H | BU; T1(first); T2 | WAITA |
//! | WAITA | MOVEMENT | C | STOPT; RR(START_RR); T2 | RRINIT |
//! | WAITA | RETURNING_HOME | H | BU; T1(first) | WAITD |
//! | WAITA | RETURNING_HOME | C | STOPT; RR(START_HOME_RR) | RRDEL |
//! | WAITAR | BACK | | BAPRE; REG | BOUND |
//! | WAITAR | RETRANS | | BU; BACKOFF | WAITAR |
//! | WAITAR | EXPIRE | H | KDEL; TRYHA | (TRYHA decides) |
//! | WAITAR | EXPIRE | C | KDEL; STOPT; FREE | (freed) |
//! | WAITAR | UNKNOWN_MH | C | STOPR; DISABLE; KDEL | IDLE |
//! | WAITAR | MOVEMENT | H | KDEL; BU; T1(first) | WAITA |
//! | WAITAR | MOVEMENT | C | KDEL; STOPR; RR(START_RR) | RRINIT |
//! | WAITAR | RETURNING_HOME | H | KDEL; BU; T1(first) | WAITD |
//! | WAITD | BACK | H | BAPRE; DEREG; STOPT; KDEL; DEREGISTERED to every C | IDLE |
//! | WAITD | BACK | C | BAPRE; DEREG; STOPT; KDEL; FREE | (freed) |
//! | WAITD | RETRANS | | BU; BACKOFF | WAITD |
//! | WAITD | EXPIRE | H | STOPT; KDEL | IDLE |
//! | WAITD | EXPIRE | C | STOPT; KDEL; FREE | (freed) |
//! | WAITD | UNKNOWN_MH | C | STOPR; DISABLE | IDLE |
//! | WAITD | MOVEMENT | H | L:=def; STOPT; BU; T1(first); T2 | WAITA |
//! | WAITD | MOVEMENT | C | L:=def | WAITD |
//! | BOUND | RETRANS, BRR | H | BU; T1(init) | WAITAR |
//! | BOUND | RETRANS, BRR | C | STOPR; RR(START_RR) | RRREDO |
//! | BOUND | MOVEMENT | H | KDEL; BU; T1(first) | WAITA |
//! | BOUND | REGISTERED | C | KDEL; STOPR; RR(START_RR) | RRINIT |
//! | BOUND | RETURNING_HOME | H | KDEL; BU(dereg); T1(first) | WAITD |
//! | BOUND | DEREGISTERED | C | KDEL; RR(START_HOME_RR) | RRDEL |
//! | BOUND | BACK | C | BAPRE; T1(refresh); T2 | BOUND |
//! | BOUND | UNKNOWN_HAO | C | KDEL; STOPR; RR(STOP_RR); RR(START_RR) | RRINIT |
//! | BOUND | EXPIRE | H | STOPT; KDEL; TRYHA | (TRYHA decides) |
//! | BOUND | EXPIRE | C | STOPT; KDEL; FREE | (freed) |
//! | DHAAD | DHAAD_REPLY | H | PICKHA; BU; T1(first); T2 | WAITA |
//! | DHAAD | RETRANS | H | DHAAD request; DHAAD backoff | DHAAD |
//! | DHAAD | EXPIRE | H | T2; new DHAAD round \[RFC 11.4.1: retries are bounded, so a round ends] | DHAAD |
//! | DHAAD | RETURNING_HOME | H | STOPT | IDLE |
//!
//! Actions that can fail stop the transition where they fail and keep the
//! state: BAPRE (the Binding Acknowledgement is not valid for this entry:
//! see the mobile node's BA checks) and PICKHA (no home agent in the reply).
//! TRYHA picks the next home agent itself and moves to WAITA, or to DHAAD
//! when none is left.
//!
//! ## Secondary machine (return routability)
//!
//! | state | event | actions | next |
//! |---|---|---|---|
//! | START | START_RR | HoTI; CoTI; T1(init) | WAITHC |
//! | START | START_HOME_RR | HoTI; T1(init) | WAITH |
//! | WAITHC | HOT (cookie matches) | store home token | WAITC |
//! | WAITHC | COT (cookie matches) | store care-of token | WAITH |
//! | WAITHC | RETRANS | HoTI; CoTI; BACKOFF | WAITHC |
//! | WAITH | HOT (cookie matches) | store home token; STOPR; RR_DONE | START |
//! | WAITH | RETRANS | HoTI; BACKOFF | WAITH |
//! | WAITC | COT (cookie matches) | store care-of token; STOPR; RR_DONE | START |
//! | WAITC | RETRANS | CoTI; BACKOFF | WAITC |
//! | WAITHC, WAITH, WAITC | STOP_RR | STOPR | START |
//!
//! A HoT or CoT whose cookie does not match is not an event at all (the
//! executor drops it before the table). RR_DONE is delivered to the primary
//! machine after the secondary has reset to START (\[SPEC], `shisa-fsm.md`
//! §2).
#![deny(clippy::arithmetic_side_effects)]

/// States of the primary machine (seed 002 Table 5, plus SHISA's DHAAD).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrimaryState {
    /// No binding and no signalling in progress.
    Idle,
    /// Return routability before the first BU to a correspondent.
    RrInit,
    /// Return routability to refresh a bound correspondent.
    RrRedo,
    /// Return routability (home test only) before a deregistration.
    RrDel,
    /// BU sent, waiting for its acknowledgement.
    WaitA,
    /// Refresh BU sent while bound, waiting for its acknowledgement.
    WaitAr,
    /// Deregistration sent, waiting for its acknowledgement.
    WaitD,
    /// Registered.
    Bound,
    /// Home agent discovery in progress (home entries only).
    Dhaad,
}

/// States of the secondary (return routability) machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RrState {
    /// No return routability in progress.
    Start,
    /// Waiting for both the Home Test and the Care-of Test.
    WaitHc,
    /// Waiting for the Home Test only.
    WaitH,
    /// Waiting for the Care-of Test only.
    WaitC,
}

/// Events of the primary machine (seed 002 Table 6 and `shisa-fsm.md` §0.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrimaryEvent {
    /// The node moved: the entry's care-of address changed.
    Movement,
    /// The node returned home.
    ReturningHome,
    /// A tunnelled packet from the peer arrived (start route optimisation).
    ReversePacket,
    /// The secondary machine finished return routability.
    RrDone,
    /// A Binding Acknowledgement for this entry arrived.
    Back,
    /// A Binding Refresh Request arrived.
    Brr,
    /// A Binding Error with status 1 (unknown Home Address option).
    UnknownHao,
    /// A Binding Error with status 2 (unknown Mobility Header type).
    UnknownMh,
    /// An ICMPv6 error saying the peer does not support Mobile IPv6.
    IcmpErr,
    /// The home registration completed (sent to correspondent entries).
    Registered,
    /// The home deregistration completed (sent to correspondent entries).
    Deregistered,
    /// A DHAAD reply arrived.
    DhaadReply,
    /// The retransmission (or refresh) timer fired.
    Retrans,
    /// The expire timer fired.
    Expire,
}

/// Events of the secondary machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RrEvent {
    /// Run the home and care-of tests.
    StartRr,
    /// Run the home test only (deregistration).
    StartHomeRr,
    /// Abandon return routability.
    StopRr,
    /// A Home Test with a matching cookie arrived.
    Hot,
    /// A Care-of Test with a matching cookie arrived.
    Cot,
    /// The retransmission timer fired.
    Retrans,
}

/// What the tables need to know about the entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Guards {
    /// The entry is the home registration (H), not a correspondent (C).
    pub home: bool,
    /// The entry's BUs request an acknowledgement (A flag).
    pub ack: bool,
    /// A home agent is known for a home entry.
    pub ha_known: bool,
}

/// Which initial value the retransmission timer takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RetransKind {
    /// InitialBindackTimeoutFirstReg (first home registration).
    FirstReg,
    /// InitialBindackTimeout (re-registration, correspondents, RR).
    Initial,
    /// The refresh interval of a bound entry.
    Refresh,
}

/// One action of a transition, in the order the executor runs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Act {
    /// L := the configured lifetime.
    LifetimeDefault,
    /// Send a Binding Update with the entry's lifetime.
    SendBu,
    /// Send a deregistration Binding Update (lifetime 0).
    SendDeregBu,
    /// Arm the retransmission timer.
    Retrans(RetransKind),
    /// Double the retransmission interval (capped) and re-arm it.
    Backoff,
    /// Arm the expire timer at the entry's lifetime (no-op for lifetime 0).
    ArmExpire,
    /// Stop the retransmission timer.
    StopRetrans,
    /// Stop both timers.
    StopTimers,
    /// Tell the forwarding plane the entry is usable.
    KernelAdd,
    /// Tell the forwarding plane the entry is gone.
    KernelDel,
    /// KernelAdd, the refresh timer and the expire timer.
    Register,
    /// Mark the peer as not supporting Mobile IPv6 (no route optimisation).
    Disable,
    /// Delete the entry (always last).
    Free,
    /// Give an event to the secondary machine.
    Rr(RrEvent),
    /// Try the next home agent (may change state itself).
    TryHa,
    /// Take the home address back on the home link.
    Dereg,
    /// Validate the Binding Acknowledgement; stops the transition on failure.
    BaPreprocess,
    /// Tell every correspondent entry of the home address: REGISTERED.
    NotifyRegistered,
    /// Tell every correspondent entry of the home address: DEREGISTERED.
    NotifyDeregistered,
    /// Pick a home agent from the DHAAD reply; stops the transition if none.
    PickHa,
    /// Send a DHAAD request.
    SendDhaad,
    /// Double the DHAAD retransmission interval (capped) and re-arm it.
    DhaadBackoff,
    /// Start a new round of DHAAD: request, retry count and interval reset.
    DhaadRestart,
    /// Send a Home Test Init.
    SendHoti,
    /// Send a Care-of Test Init.
    SendCoti,
    /// Store the home nonce index and keygen token of the Home Test.
    StoreHot,
    /// Store the care-of nonce index and keygen token of the Care-of Test.
    StoreCot,
    /// Deliver RR_DONE to the primary machine.
    RrDone,
}

/// Where a transition leaves the entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Next<S> {
    /// Into this state.
    To(S),
    /// The entry is deleted.
    Freed,
    /// An action (TRYHA) decides the state.
    Decided,
}

/// One row of a table: its actions and where it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition<S: 'static> {
    /// The actions, in order.
    pub acts: &'static [Act],
    /// The next state.
    pub next: Next<S>,
}

use Act::*;
use PrimaryEvent as E;
use PrimaryState as P;

const fn to<S>(acts: &'static [Act], s: S) -> Option<Transition<S>> {
    Some(Transition {
        acts,
        next: Next::To(s),
    })
}

const fn freed<S>(acts: &'static [Act]) -> Option<Transition<S>> {
    Some(Transition {
        acts,
        next: Next::Freed,
    })
}

const fn decided<S>(acts: &'static [Act]) -> Option<Transition<S>> {
    Some(Transition {
        acts,
        next: Next::Decided,
    })
}

/// The primary machine's table: `None` means the event is ignored.
pub fn primary(
    state: PrimaryState,
    event: PrimaryEvent,
    g: Guards,
) -> Option<Transition<PrimaryState>> {
    let h = g.home;
    match (state, event) {
        (P::Idle, E::Movement) if h && g.ha_known => to(
            &[
                LifetimeDefault,
                SendBu,
                Retrans(RetransKind::FirstReg),
                ArmExpire,
            ],
            P::WaitA,
        ),
        (P::Idle, E::Movement) if h => decided(&[LifetimeDefault, TryHa]),
        (P::Idle, E::Movement) => to(
            &[LifetimeDefault, Rr(RrEvent::StartRr), ArmExpire],
            P::RrInit,
        ),
        (P::Idle, E::ReversePacket) if h => to(&[LifetimeDefault], P::Idle),
        (P::Idle, E::ReversePacket) => to(
            &[
                LifetimeDefault,
                StopRetrans,
                ArmExpire,
                Rr(RrEvent::StartRr),
            ],
            P::RrInit,
        ),
        (P::Idle, E::IcmpErr) => to(&[StopRetrans, Disable], P::Idle),
        (P::Idle, E::Expire) if !h => freed(&[Free]),

        (P::RrInit, E::RrDone) if g.ack => to(&[SendBu, Retrans(RetransKind::Initial)], P::WaitA),
        (P::RrInit, E::RrDone) => to(&[SendBu, Register], P::Bound),
        (P::RrInit, E::Movement) => to(
            &[StopRetrans, Rr(RrEvent::StopRr), Rr(RrEvent::StartRr)],
            P::RrInit,
        ),
        (P::RrInit, E::ReturningHome) => freed(&[StopTimers, Rr(RrEvent::StopRr), Free]),
        (P::RrInit, E::UnknownMh | E::IcmpErr) => {
            to(&[StopRetrans, Rr(RrEvent::StopRr), Disable], P::Idle)
        }
        (P::RrInit, E::Expire) => freed(&[StopTimers, Free]),

        (P::RrRedo, E::RrDone) if g.ack => to(&[SendBu, Retrans(RetransKind::Initial)], P::WaitAr),
        (P::RrRedo, E::RrDone) => to(&[SendBu, Register], P::Bound),
        (P::RrRedo, E::Movement) => to(
            &[KernelDel, Rr(RrEvent::StopRr), Rr(RrEvent::StartRr)],
            P::RrInit,
        ),
        (P::RrRedo, E::ReturningHome) => to(
            &[KernelDel, Rr(RrEvent::StopRr), Rr(RrEvent::StartHomeRr)],
            P::RrDel,
        ),
        (P::RrRedo, E::UnknownMh | E::IcmpErr) => to(
            &[KernelDel, StopRetrans, Rr(RrEvent::StopRr), Disable],
            P::Idle,
        ),
        // SHISA ignores this (a quirk); shisa-fsm.md [SPEC]: treat as in BOUND.
        (P::RrRedo, E::Expire) => freed(&[StopTimers, KernelDel, Free]),

        (P::RrDel, E::RrDone) if g.ack => {
            to(&[SendDeregBu, Retrans(RetransKind::Initial)], P::WaitD)
        }
        (P::RrDel, E::RrDone) => freed(&[SendDeregBu, Dereg, StopTimers, KernelDel, Free]),
        // SHISA keeps L at 0 here (a quirk); [SPEC]: L := default.
        (P::RrDel, E::Movement) => to(
            &[
                LifetimeDefault,
                StopRetrans,
                Rr(RrEvent::StopRr),
                Rr(RrEvent::StartRr),
            ],
            P::RrInit,
        ),
        (P::RrDel, E::UnknownMh) => freed(&[StopTimers, Rr(RrEvent::StopRr), KernelDel, Free]),
        (P::RrDel, E::IcmpErr) => to(
            &[StopRetrans, Rr(RrEvent::StopRr), Disable, KernelDel],
            P::Idle,
        ),
        (P::RrDel, E::Expire) => freed(&[StopTimers, KernelDel, Free]),

        (P::WaitA, E::Back) if h => to(&[BaPreprocess, Register, NotifyRegistered], P::Bound),
        (P::WaitA, E::Back) => to(&[BaPreprocess, Register], P::Bound),
        (P::WaitA, E::Retrans) => to(&[SendBu, Backoff], P::WaitA),
        (P::WaitA, E::Expire) if h => decided(&[TryHa]),
        (P::WaitA, E::Expire) => freed(&[StopTimers, Free]),
        (P::WaitA, E::UnknownMh) if !h => to(&[StopRetrans, Disable], P::Idle),
        (P::WaitA, E::Movement) if h => to(
            &[SendBu, Retrans(RetransKind::FirstReg), ArmExpire],
            P::WaitA,
        ),
        (P::WaitA, E::Movement) => to(&[StopTimers, Rr(RrEvent::StartRr), ArmExpire], P::RrInit),
        (P::WaitA, E::ReturningHome) if h => {
            to(&[SendDeregBu, Retrans(RetransKind::FirstReg)], P::WaitD)
        }
        (P::WaitA, E::ReturningHome) => to(&[StopTimers, Rr(RrEvent::StartHomeRr)], P::RrDel),

        (P::WaitAr, E::Back) => to(&[BaPreprocess, Register], P::Bound),
        (P::WaitAr, E::Retrans) => to(&[SendBu, Backoff], P::WaitAr),
        (P::WaitAr, E::Expire) if h => decided(&[KernelDel, TryHa]),
        (P::WaitAr, E::Expire) => freed(&[KernelDel, StopTimers, Free]),
        (P::WaitAr, E::UnknownMh) if !h => to(&[StopRetrans, Disable, KernelDel], P::Idle),
        (P::WaitAr, E::Movement) if h => to(
            &[KernelDel, SendBu, Retrans(RetransKind::FirstReg)],
            P::WaitA,
        ),
        (P::WaitAr, E::Movement) => to(&[KernelDel, StopRetrans, Rr(RrEvent::StartRr)], P::RrInit),
        (P::WaitAr, E::ReturningHome) if h => to(
            &[KernelDel, SendDeregBu, Retrans(RetransKind::FirstReg)],
            P::WaitD,
        ),

        (P::WaitD, E::Back) if h => to(
            &[
                BaPreprocess,
                Dereg,
                StopTimers,
                KernelDel,
                NotifyDeregistered,
            ],
            P::Idle,
        ),
        (P::WaitD, E::Back) => freed(&[BaPreprocess, Dereg, StopTimers, KernelDel, Free]),
        (P::WaitD, E::Retrans) => to(&[SendDeregBu, Backoff], P::WaitD),
        (P::WaitD, E::Expire) if h => to(&[StopTimers, KernelDel], P::Idle),
        (P::WaitD, E::Expire) => freed(&[StopTimers, KernelDel, Free]),
        (P::WaitD, E::UnknownMh) if !h => to(&[StopRetrans, Disable], P::Idle),
        (P::WaitD, E::Movement) if h => to(
            &[
                LifetimeDefault,
                StopTimers,
                SendBu,
                Retrans(RetransKind::FirstReg),
                ArmExpire,
            ],
            P::WaitA,
        ),
        (P::WaitD, E::Movement) => to(&[LifetimeDefault], P::WaitD),

        (P::Bound, E::Retrans | E::Brr) if h => {
            to(&[SendBu, Retrans(RetransKind::Initial)], P::WaitAr)
        }
        (P::Bound, E::Retrans | E::Brr) => to(&[StopRetrans, Rr(RrEvent::StartRr)], P::RrRedo),
        (P::Bound, E::Movement) if h => to(
            &[KernelDel, SendBu, Retrans(RetransKind::FirstReg)],
            P::WaitA,
        ),
        (P::Bound, E::Registered) if !h => {
            to(&[KernelDel, StopRetrans, Rr(RrEvent::StartRr)], P::RrInit)
        }
        (P::Bound, E::ReturningHome) if h => to(
            &[KernelDel, SendDeregBu, Retrans(RetransKind::FirstReg)],
            P::WaitD,
        ),
        (P::Bound, E::Deregistered) if !h => to(&[KernelDel, Rr(RrEvent::StartHomeRr)], P::RrDel),
        (P::Bound, E::Back) if !h => to(
            &[BaPreprocess, Retrans(RetransKind::Refresh), ArmExpire],
            P::Bound,
        ),
        (P::Bound, E::UnknownHao) if !h => to(
            &[
                KernelDel,
                StopRetrans,
                Rr(RrEvent::StopRr),
                Rr(RrEvent::StartRr),
            ],
            P::RrInit,
        ),
        (P::Bound, E::Expire) if h => decided(&[StopTimers, KernelDel, TryHa]),
        (P::Bound, E::Expire) => freed(&[StopTimers, KernelDel, Free]),

        (P::Dhaad, E::DhaadReply) if h => to(
            &[PickHa, SendBu, Retrans(RetransKind::FirstReg), ArmExpire],
            P::WaitA,
        ),
        (P::Dhaad, E::Retrans) if h => to(&[SendDhaad, DhaadBackoff], P::Dhaad),
        (P::Dhaad, E::Expire) if h => to(&[ArmExpire, DhaadRestart], P::Dhaad),
        (P::Dhaad, E::ReturningHome) if h => to(&[StopTimers], P::Idle),

        _ => None,
    }
}

/// The secondary machine's table: `None` means the event is ignored.
pub fn secondary(state: RrState, event: RrEvent) -> Option<Transition<RrState>> {
    use RrEvent as R;
    use RrState as S;
    match (state, event) {
        (S::Start, R::StartRr) => to(
            &[SendHoti, SendCoti, Retrans(RetransKind::Initial)],
            S::WaitHc,
        ),
        (S::Start, R::StartHomeRr) => to(&[SendHoti, Retrans(RetransKind::Initial)], S::WaitH),
        (S::WaitHc, R::Hot) => to(&[StoreHot], S::WaitC),
        (S::WaitHc, R::Cot) => to(&[StoreCot], S::WaitH),
        (S::WaitHc, R::Retrans) => to(&[SendHoti, SendCoti, Backoff], S::WaitHc),
        (S::WaitH, R::Hot) => to(&[StoreHot, StopRetrans, RrDone], S::Start),
        (S::WaitH, R::Retrans) => to(&[SendHoti, Backoff], S::WaitH),
        (S::WaitC, R::Cot) => to(&[StoreCot, StopRetrans, RrDone], S::Start),
        (S::WaitC, R::Retrans) => to(&[SendCoti, Backoff], S::WaitC),
        (S::WaitHc | S::WaitH | S::WaitC, R::StopRr) => to(&[StopRetrans], S::Start),
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)]
mod tests {
    use super::*;
    #[allow(unused_imports)]
    use alloc::vec;
    #[allow(unused_imports)]
    use alloc::vec::Vec;

    const ALL_P: [PrimaryState; 9] = [
        P::Idle,
        P::RrInit,
        P::RrRedo,
        P::RrDel,
        P::WaitA,
        P::WaitAr,
        P::WaitD,
        P::Bound,
        P::Dhaad,
    ];
    const ALL_E: [PrimaryEvent; 14] = [
        E::Movement,
        E::ReturningHome,
        E::ReversePacket,
        E::RrDone,
        E::Back,
        E::Brr,
        E::UnknownHao,
        E::UnknownMh,
        E::IcmpErr,
        E::Registered,
        E::Deregistered,
        E::DhaadReply,
        E::Retrans,
        E::Expire,
    ];
    const H: Guards = Guards {
        home: true,
        ack: true,
        ha_known: true,
    };
    const C: Guards = Guards {
        home: false,
        ack: false,
        ha_known: false,
    };

    fn all_guards() -> impl Iterator<Item = Guards> {
        (0..8u8).map(|b| Guards {
            home: b & 1 != 0,
            ack: b & 2 != 0,
            ha_known: b & 4 != 0,
        })
    }

    #[test]
    fn free_is_last_and_only_when_freed() {
        for s in ALL_P {
            for e in ALL_E {
                for g in all_guards() {
                    if let Some(t) = primary(s, e, g) {
                        let frees = t.acts.contains(&Free);
                        assert_eq!(frees, t.next == Next::Freed, "{s:?} {e:?} {g:?}");
                        if frees {
                            assert_eq!(t.acts.last(), Some(&Free));
                        }
                        assert_eq!(
                            t.acts.contains(&TryHa),
                            t.next == Next::Decided,
                            "{s:?} {e:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn home_entries_are_never_freed_and_never_run_rr() {
        let mut reachable = vec![P::Idle];
        let mut i = 0;
        while let Some(&s) = reachable.get(i) {
            for e in ALL_E {
                for g in all_guards().filter(|g| g.home) {
                    if let Some(Transition {
                        next: Next::To(n), ..
                    }) = primary(s, e, g)
                        && !reachable.contains(&n)
                    {
                        reachable.push(n);
                    }
                }
            }
            i += 1;
        }
        // TRYHA leads to WAITA or DHAAD.
        for extra in [P::WaitA, P::Dhaad] {
            if !reachable.contains(&extra) {
                reachable.push(extra);
            }
        }
        reachable.sort_by_key(|s| *s as u8);
        assert_eq!(
            reachable,
            vec![P::Idle, P::WaitA, P::WaitAr, P::WaitD, P::Bound, P::Dhaad]
        );
        // shisa-fsm.md §1.4: H never runs RR and keeps its entry. (The RR
        // states are not reachable by a home entry.)
        for s in [P::Idle, P::WaitA, P::WaitAr, P::WaitD, P::Bound, P::Dhaad] {
            for e in ALL_E {
                for g in all_guards().filter(|g| g.home) {
                    if let Some(t) = primary(s, e, g) {
                        assert_ne!(t.next, Next::Freed, "{s:?} {e:?}");
                        assert!(!t.acts.iter().any(|a| matches!(a, Rr(_))), "{s:?} {e:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn dhaad_is_home_only() {
        for e in ALL_E {
            assert!(primary(P::Dhaad, e, C).is_none(), "{e:?}");
        }
    }

    #[test]
    fn kernel_add_only_when_entering_bound() {
        for s in ALL_P {
            for e in ALL_E {
                for g in all_guards() {
                    if let Some(t) = primary(s, e, g)
                        && t.acts.iter().any(|a| matches!(a, Register | KernelAdd))
                    {
                        assert_eq!(t.next, Next::To(P::Bound), "{s:?} {e:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn rows_from_the_spec() {
        assert_eq!(
            primary(P::Idle, E::Movement, H).unwrap().next,
            Next::To(P::WaitA)
        );
        assert_eq!(
            primary(
                P::Idle,
                E::Movement,
                Guards {
                    ha_known: false,
                    ..H
                }
            )
            .unwrap()
            .acts,
            &[LifetimeDefault, TryHa]
        );
        assert_eq!(
            primary(P::Bound, E::Brr, C).unwrap().next,
            Next::To(P::RrRedo)
        );
        assert_eq!(
            primary(P::Bound, E::Movement, C),
            None,
            "C waits for REGISTERED"
        );
        assert_eq!(
            primary(P::WaitA, E::IcmpErr, C),
            None,
            "ICMP_ERR ignored in WAITA"
        );
        for s in [P::WaitA, P::WaitAr, P::Bound] {
            assert_eq!(primary(s, E::ReversePacket, C), None);
        }
        assert_eq!(
            primary(P::WaitD, E::Back, H).unwrap().acts.last(),
            Some(&NotifyDeregistered)
        );
    }

    #[test]
    fn secondary_rows() {
        use RrEvent as R;
        use RrState as S;
        assert_eq!(secondary(S::Start, R::Hot), None);
        assert_eq!(secondary(S::WaitC, R::Hot), None);
        assert_eq!(secondary(S::WaitH, R::Cot), None);
        assert_eq!(secondary(S::Start, R::StopRr), None);
        let t = secondary(S::WaitHc, R::Hot).unwrap();
        assert_eq!(t.next, Next::To(S::WaitC));
        let t = secondary(S::WaitC, R::Cot).unwrap();
        assert_eq!(
            (t.acts, t.next),
            (&[StoreCot, StopRetrans, RrDone][..], Next::To(S::Start))
        );
    }
}
