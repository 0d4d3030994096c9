//! Bodies of the role fuzz targets (`mip6_role_mn`, `mip6_role_ha`,
//! `mip6_role_cn`): the bytes are a script of inputs for one machine
//! (well-formed Mobility Headers with valid checksums built from the bytes,
//! raw datagrams, the role's local hints, time steps), interpreted until
//! they run out. After every input the output queue is drained and the
//! role's invariants are asserted:
//! - its tables stay within their configured bounds;
//! - after `handle_timeout(now)`, `poll_timeout` is never at or before `now`;
//! - the correspondent never binds (random bytes cannot forge a Binding
//!   Authorization Data authenticator), and the mobile node never makes a
//!   correspondent binding usable (no return routability can complete);
//! - every transmission appended exactly `len` bytes.

use alloc::vec::Vec;
use core::net::Ipv6Addr;
use core::time::Duration;

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use crate::cn::{CnConfig, Correspondent};
use crate::event::{FwdEvent, Output, RxDatagram};
use crate::ha::{HaConfig, HomeAgent};
use crate::mn::{MnConfig, MobileNode};
use crate::movement::Movement;
use crate::wire::mh::{BaFlags, BaStatus, BeStatus, BuFlags, Message, MhPacket, MhRepr};
use crate::wire::options::{MobilityOption, Options};

/// Bounds the targets configure (small, so that the fuzzer reaches them).
const MAX_TABLE: usize = 4;
/// Most inputs interpreted per run.
const MAX_STEPS: usize = 256;

const HOME: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0x100);
const HA: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 1);
const HOME_PREFIX: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0);
const CN: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 9, 0, 0, 0, 0, 9);

/// Addresses the script picks from: the roles' own, a few care-of and
/// home addresses, and some that are not unicast.
fn addr(i: u8) -> Ipv6Addr {
    match i % 12 {
        0 => HOME,
        1 => HA,
        2 => CN,
        3 => Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0x101),
        4 => Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0x102),
        5 => Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0x103),
        6 => Ipv6Addr::new(0x2001, 0xdb8, 0x20, 0, 0, 0, 0, 0x200),
        7 => Ipv6Addr::new(0x2001, 0xdb8, 0x21, 0, 0, 0, 0, 0x200),
        8 => Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0xfdff, 0xffff, 0xffff, 0xfffe),
        9 => Ipv6Addr::UNSPECIFIED,
        10 => Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1),
        _ => Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1),
    }
}

struct Script<'a>(&'a [u8]);

impl Script<'_> {
    fn u8(&mut self) -> Option<u8> {
        let (b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(*b)
    }
    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_be_bytes([self.u8()?, self.u8()?]))
    }
    fn u64(&mut self) -> u64 {
        let mut v = 0u64;
        for _ in 0..8 {
            v = (v << 8) | u64::from(self.u8().unwrap_or(0));
        }
        v
    }
    fn bytes(&mut self, n: usize) -> &[u8] {
        let n = n.min(self.0.len());
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        a
    }
}

/// One input of a script, common to every role.
enum Step {
    /// A datagram with these addresses and this payload.
    Datagram {
        src: Ipv6Addr,
        dst: Ipv6Addr,
        hao: Option<Ipv6Addr>,
        rh2: Option<Ipv6Addr>,
        tunnelled: bool,
        next_header: u8,
        payload: Vec<u8>,
    },
    /// The role's local hint number `0`, with two argument bytes.
    Hint(u8, u8, u8),
    /// Time advances by this many milliseconds, then `handle_timeout`.
    Wait(u32),
}

/// A well-formed Mobility Header from the script, checksummed for the
/// addresses it will be received with.
fn mobility_header(s: &mut Script<'_>, src: Ipv6Addr, dst: Ipv6Addr) -> Option<Vec<u8>> {
    let ty = s.u8()?;
    let a = s.u16()?;
    let b = s.u16()?;
    let c = s.u16()?;
    let d = s.u8()?;
    let mut cookie = [0u8; 8];
    cookie.copy_from_slice(&[a.to_be_bytes(), b.to_be_bytes(), c.to_be_bytes(), [d, ty]].concat());
    let message = match ty % 8 {
        0 => Message::BindingRefreshRequest,
        1 => Message::HomeTestInit { cookie },
        2 => Message::CareOfTestInit { cookie },
        3 => Message::HomeTest {
            nonce_index: b,
            cookie,
            token: cookie,
        },
        4 => Message::CareOfTest {
            nonce_index: b,
            cookie,
            token: cookie,
        },
        5 => Message::BindingUpdate {
            sequence: a,
            flags: BuFlags(b & 0xff00),
            lifetime: c,
        },
        6 => Message::BindingAck {
            status: BaStatus(d),
            flags: BaFlags(ty & 0xc0),
            sequence: a,
            lifetime: c,
        },
        _ => Message::BindingError {
            status: BeStatus(d % 3),
            home_address: addr(d),
        },
    };
    let auth = [d; 12];
    let prefix = addr(d.wrapping_add(1));
    let all = [
        MobilityOption::NonceIndices {
            home: b,
            care_of: c,
        },
        MobilityOption::BindingAuthorizationData(&auth),
        MobilityOption::BindingRefreshAdvice {
            refresh_interval: a,
        },
        MobilityOption::AlternateCareOfAddress(addr(d)),
        MobilityOption::MobileNetworkPrefix {
            prefix_len: d % 130,
            prefix,
        },
    ];
    // Bit i of the option mask selects option i.
    let mask = s.u8()?;
    let chosen: Vec<MobilityOption<'_>> = all
        .iter()
        .enumerate()
        .filter(|(i, _)| mask & (1u8 << i) != 0)
        .map(|(_, o)| *o)
        .collect();
    let repr = MhRepr {
        payload_proto: 59,
        message,
        options: Options::List(&chosen),
    };
    let mut buf = alloc::vec![0u8; repr.buffer_len()];
    repr.emit(&mut MhPacket::new_unchecked(&mut buf[..]), &src, &dst)
        .ok()?;
    Some(buf)
}

fn next_step(s: &mut Script<'_>) -> Option<Step> {
    let op = s.u8()?;
    Some(match op % 4 {
        0 | 1 => {
            let f = s.u8()?;
            let (src, dst) = (addr(s.u8()?), addr(s.u8()?));
            let hao = (f & 1 != 0).then(|| addr(f >> 4));
            let rh2 = (f & 2 != 0).then_some(dst);
            let tunnelled = f & 4 != 0;
            let (next_header, payload) = if op % 4 == 0 {
                // The checksum covers the home address (RFC 6275 §6.1.1).
                (
                    135,
                    mobility_header(s, hao.unwrap_or(src), rh2.unwrap_or(dst))?,
                )
            } else {
                let n = usize::from(s.u8()? % 96);
                let nh = if f & 8 != 0 { 135 } else { 58 };
                (nh, s.bytes(n).to_vec())
            };
            Step::Datagram {
                src,
                dst,
                hao,
                rh2,
                tunnelled,
                next_header,
                payload,
            }
        }
        2 => Step::Hint(s.u8()?, s.u8()?, s.u8()?),
        _ => {
            Step::Wait(u32::from(s.u16()?).saturating_mul(u32::from(s.u8()? % 8).saturating_add(1)))
        }
    })
}

/// Drains an output queue, checking the transmissions' lengths; returns
/// the forwarding-plane events.
#[allow(clippy::panic)]
fn drain(mut poll: impl FnMut(&mut Vec<u8>) -> Option<Output>) -> Vec<FwdEvent> {
    let mut events = Vec::new();
    for _ in 0..10_000 {
        let mut buf = Vec::new();
        match poll(&mut buf) {
            Some(Output::Transmit(t)) => assert_eq!(t.len, buf.len(), "transmit length"),
            Some(Output::Fwd(e)) => events.push(e),
            None => return events,
        }
    }
    panic!("the output queue does not drain");
}

fn check_deadline(at: Option<Duration>, now: Duration) {
    if let Some(t) = at {
        assert!(
            t > now,
            "poll_timeout {t:?} not after handle_timeout({now:?})"
        );
    }
}

fn run<M>(
    data: &[u8],
    machine: &mut M,
    mut datagram: impl FnMut(&mut M, Duration, &RxDatagram<'_>),
    mut hint: impl FnMut(&mut M, Duration, u8, u8, u8),
    mut timeout: impl FnMut(&mut M, Duration) -> Option<Duration>,
    mut after: impl FnMut(&mut M),
) {
    let mut s = Script(data);
    let mut now = Duration::ZERO;
    for _ in 0..MAX_STEPS {
        let Some(step) = next_step(&mut s) else { break };
        match step {
            Step::Datagram {
                src,
                dst,
                hao,
                rh2,
                tunnelled,
                next_header,
                payload,
            } => {
                let rx = RxDatagram {
                    src,
                    dst,
                    hao,
                    rh2,
                    tunnelled,
                    next_header,
                    payload: &payload,
                };
                datagram(machine, now, &rx);
            }
            Step::Hint(k, a, b) => hint(machine, now, k, a, b),
            Step::Wait(ms) => {
                now = now.saturating_add(Duration::from_millis(u64::from(ms)));
                let next = timeout(machine, now);
                check_deadline(next, now);
            }
        }
        after(machine);
    }
}

/// `mip6_role_mn`: a mobile node (home agent known, or discovered when the
/// first script byte is odd; a mobile router in explicit mode when bit 1 of
/// it is set) fed a script. Hints: movement to a care-of address, return
/// home, a reverse-tunnelled packet from a peer, an ICMP error from a peer.
#[allow(clippy::missing_panics_doc)]
pub fn role_mn(data: &[u8]) {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let mut s = Script(rest);
    let seed = s.u64();
    let mut cfg = MnConfig::new(HOME, 64, (flags & 1 == 0).then_some(HA));
    cfg.max_entries = MAX_TABLE;
    cfg.correspondent_ack = flags & 4 != 0;
    if flags & 2 != 0 {
        cfg.mobile_router = Some(alloc::vec![(addr(6), 64)]);
    }
    let Ok(mut mn) = MobileNode::new(cfg, ChaCha20Rng::seed_from_u64(seed), Duration::ZERO) else {
        return;
    };
    run(
        s.0,
        &mut mn,
        |m, now, rx| {
            let _ = m.handle_datagram(now, rx);
        },
        |m, now, k, a, b| match k % 4 {
            0 => m.handle_movement(
                now,
                Movement::Moved {
                    home: HOME,
                    care_of: addr(a),
                    iface: u32::from(b),
                    bid: None,
                },
            ),
            1 => m.handle_movement(
                now,
                Movement::ReturnedHome {
                    home: HOME,
                    iface: u32::from(b),
                },
            ),
            2 => {
                let _ = m.handle_reverse_packet(now, addr(a));
            }
            _ => m.handle_icmp_error(now, addr(a)),
        },
        |m, now| {
            m.handle_timeout(now);
            m.poll_timeout()
        },
        |m| {
            let events = drain(|b| m.poll_output(b));
            assert!(
                !events.iter().any(|e| matches!(
                    e,
                    FwdEvent::BulAdded {
                        home_registration: false,
                        ..
                    }
                )),
                "route optimisation without return routability"
            );
            assert!(m.bul().count() <= MAX_TABLE, "binding update list bound");
        },
    );
}

/// `mip6_role_ha`: a home agent (NEMO on when the first script byte is
/// odd) fed a script. Hints: a DAD result for a home address.
#[allow(clippy::missing_panics_doc)]
pub fn role_ha(data: &[u8]) {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let mut s = Script(rest);
    let seed = s.u64();
    let mut cfg = HaConfig::new(HA, HOME_PREFIX, 64);
    cfg.max_bindings = MAX_TABLE;
    cfg.dad = flags & 2 != 0;
    if flags & 1 != 0 {
        cfg.nemo = true;
        cfg.mobile_routers = alloc::vec![crate::ha::MobileRouter {
            home: HOME,
            prefixes: alloc::vec![(addr(6), 64)],
        }];
    }
    let Ok(mut ha) = HomeAgent::new(cfg, ChaCha20Rng::seed_from_u64(seed), Duration::ZERO) else {
        return;
    };
    run(
        s.0,
        &mut ha,
        |m, now, rx| {
            let _ = m.handle_datagram(now, rx);
        },
        |m, now, _, a, b| m.dad_result(now, addr(a), b & 1 == 0),
        |m, now| {
            m.handle_timeout(now);
            m.poll_timeout()
        },
        |m| {
            let _ = drain(|b| m.poll_output(b));
            assert!(m.bindings() <= MAX_TABLE, "binding cache bound");
        },
    );
}

/// `mip6_role_cn`: a correspondent fed a script. Hints: a packet with a
/// Home Address option and no binding, traffic for a binding.
#[allow(clippy::missing_panics_doc)]
pub fn role_cn(data: &[u8]) {
    let mut s = Script(data);
    let seed = s.u64();
    let cfg = CnConfig {
        max_bindings: MAX_TABLE,
        ..CnConfig::default()
    };
    let Ok(mut cn) = Correspondent::new(cfg, ChaCha20Rng::seed_from_u64(seed), Duration::ZERO)
    else {
        return;
    };
    run(
        s.0,
        &mut cn,
        |m, now, rx| {
            let _ = m.handle_datagram(now, rx);
        },
        |m, now, k, a, b| {
            if k & 1 == 0 {
                let _ = m.handle_unknown_hao(now, addr(a), CN, addr(b));
            } else {
                m.note_traffic(addr(a), CN);
            }
        },
        |m, now| {
            m.handle_timeout(now);
            m.poll_timeout()
        },
        |m| {
            let events = drain(|b| m.poll_output(b));
            assert!(
                !events
                    .iter()
                    .any(|e| matches!(e, FwdEvent::BindingAdded { .. })),
                "a binding without a valid authenticator"
            );
            assert_eq!(m.bindings(), 0, "a binding without a valid authenticator");
        },
    );
}
