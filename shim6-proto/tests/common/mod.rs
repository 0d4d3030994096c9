//! Shared fixtures of the host tests: identities and a two-host loop.
#![allow(dead_code)]

use std::net::Ipv6Addr;
use std::time::Duration;

use hba_cga::cga::{Cga, Sec};
use hba_cga::hba::HbaSet;
use hba_cga::sig::{CgaSigner, RsaSigner};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use shim6_proto::endpoint::{HostConfig, Shim6Host};
use shim6_proto::event::{Event, Output, RxDatagram};
use shim6_proto::locators::LocalIdentity;
use shim6_proto::wire::{ControlRepr, Message, MessageType, Shim6Packet};

pub type Host = Shim6Host<ChaCha20Rng, RsaSigner>;

pub const RSA1024: &str = include_str!("../vectors/rsa1024.pem");
pub const RSA2048: &str = include_str!("../vectors/rsa2048.pem");

pub fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

/// `2001:db8:<site>:<i>::/64` as a 64-bit prefix.
pub fn prefix(site: u16, i: u16) -> [u8; 8] {
    let [a, b] = site.to_be_bytes();
    let [c, d] = i.to_be_bytes();
    [0x20, 0x01, 0x0d, 0xb8, a, b, c, d]
}

/// An HBA-only identity with `n` locators (Sec 0), the ULID first.
pub fn hba_identity(site: u16, n: u16, seed: u64) -> LocalIdentity<RsaSigner> {
    let prefixes: Vec<[u8; 8]> = (0..n).map(|i| prefix(site, i)).collect();
    let set = HbaSet::generate(&mut rng(seed), &prefixes, Sec::ZERO, None).unwrap();
    LocalIdentity::from_hba(&set, 0).unwrap()
}

/// A CGA identity from a fixed key with `n` locators: the CGA ULID, then
/// `n - 1` plain addresses with method CGA.
pub fn cga_identity(site: u16, n: u16, pem: &str, seed: u64) -> LocalIdentity<RsaSigner> {
    let signer = RsaSigner::from_pem(pem).unwrap();
    let spki = signer.public_key_der().unwrap();
    let mut modifier = [0u8; 16];
    modifier[15] = seed as u8;
    let cga = Cga::from_modifier(modifier, prefix(site, 0), Sec::ZERO, &spki, &[]).unwrap();
    let extra: Vec<Ipv6Addr> = (1..n)
        .map(|i| {
            let mut o = [0u8; 16];
            o[..8].copy_from_slice(&prefix(site, i));
            o[15] = 1;
            Ipv6Addr::from(o)
        })
        .collect();
    LocalIdentity::from_cga(&mut rng(seed), &cga, signer, &extra).unwrap()
}

pub fn exact() -> HostConfig {
    HostConfig {
        jitter: false,
        ..HostConfig::default()
    }
}

pub fn host(cfg: HostConfig, seed: u64, id: LocalIdentity<RsaSigner>) -> Host {
    Shim6Host::new(cfg, rng(seed), Duration::ZERO, vec![id]).unwrap()
}

/// One message seen on the wire.
#[derive(Debug, Clone)]
pub struct Seen {
    pub at: Duration,
    /// 0: from host A, 1: from host B.
    pub from: usize,
    pub src: Ipv6Addr,
    pub dst: Ipv6Addr,
    pub bytes: Vec<u8>,
}

impl Seen {
    pub fn msg_type(&self) -> MessageType {
        let v = Shim6Packet::new_checked(&self.bytes[..]).unwrap();
        ControlRepr::parse(&v).unwrap().message.msg_type()
    }

    pub fn message(&self) -> Message<'_> {
        let v = Shim6Packet::new_checked(&self.bytes[..]).unwrap();
        ControlRepr::parse(&v).unwrap().message
    }
}

/// Two hosts back to back: what one sends the other receives, unless the
/// filter drops it.
pub struct Pair {
    pub hosts: [Host; 2],
    pub now: Duration,
    pub wire: Vec<Seen>,
    /// Events with the host that emitted them and the number of messages
    /// that host had emitted before.
    pub events: Vec<(usize, Event, usize)>,
    pub dropped: Vec<Seen>,
}

impl Pair {
    pub fn new(a: Host, b: Host) -> Self {
        Self {
            hosts: [a, b],
            now: Duration::ZERO,
            wire: Vec::new(),
            events: Vec::new(),
            dropped: Vec::new(),
        }
    }

    /// Moves messages until both queues are empty; `drop` decides per
    /// message whether it is lost.
    pub fn pump(&mut self, drop: &mut dyn FnMut(&Seen) -> bool) {
        loop {
            let mut moved = false;
            for from in 0..2 {
                let mut buf = Vec::new();
                while let Some(o) = self.hosts[from].poll_output(&mut buf) {
                    match o {
                        Output::Event(e) => {
                            let sent = self.wire.iter().filter(|s| s.from == from).count()
                                + self.dropped.iter().filter(|s| s.from == from).count();
                            self.events.push((from, e, sent));
                        }
                        Output::Transmit(t) => {
                            let bytes = buf[buf.len() - t.len..].to_vec();
                            buf.clear();
                            let seen = Seen {
                                at: self.now,
                                from,
                                src: t.src,
                                dst: t.dst,
                                bytes,
                            };
                            if drop(&seen) {
                                self.dropped.push(seen);
                                continue;
                            }
                            let to = 1 - from;
                            let _ = self.hosts[to].handle_datagram(
                                self.now,
                                &RxDatagram {
                                    src: seen.src,
                                    dst: seen.dst,
                                    payload: &seen.bytes,
                                },
                            );
                            self.wire.push(seen);
                            moved = true;
                        }
                    }
                }
            }
            if !moved
                && self.hosts[0].pending_outputs() == 0
                && self.hosts[1].pending_outputs() == 0
            {
                break;
            }
        }
    }

    /// Advances to the earliest deadline of either host (if not after
    /// `limit`) and runs it; false when there is none.
    pub fn step_timer(&mut self, limit: Duration, drop: &mut dyn FnMut(&Seen) -> bool) -> bool {
        let next = [0, 1]
            .iter()
            .filter_map(|&i| self.hosts[i].poll_timeout())
            .min();
        match next {
            Some(t) if t <= limit => {
                self.now = self.now.max(t);
                for i in 0..2 {
                    self.hosts[i].handle_timeout(self.now);
                }
                self.pump(drop);
                true
            }
            _ => false,
        }
    }

    /// Runs timers and messages up to `limit`.
    pub fn run_until(&mut self, limit: Duration, drop: &mut dyn FnMut(&Seen) -> bool) {
        self.pump(drop);
        while self.step_timer(limit, drop) {}
        self.now = self.now.max(limit);
    }

    pub fn types(&self) -> Vec<(usize, MessageType)> {
        self.wire.iter().map(|s| (s.from, s.msg_type())).collect()
    }
}

pub fn keep(_: &Seen) -> bool {
    false
}

pub fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// A CGA-compatible HBA identity (RFC 5535 §8.1) with `n` members and the
/// key of `pem`.
pub fn cga_hba_identity(site: u16, n: u16, pem: &str, seed: u64) -> LocalIdentity<RsaSigner> {
    let signer = RsaSigner::from_pem(pem).unwrap();
    let spki = signer.public_key_der().unwrap();
    let prefixes: Vec<[u8; 8]> = (0..n).map(|i| prefix(site, i)).collect();
    let set = HbaSet::generate(&mut rng(seed), &prefixes, Sec::ZERO, Some(&spki)).unwrap();
    LocalIdentity::from_cga_compatible_hba(&mut rng(seed), &set, 0, signer, &[]).unwrap()
}
