//! Bodies of the fuzz targets in `fuzz/fuzz_targets/shim6_*.rs`, kept here so
//! that they compile with the crate and the stored corpora replay under
//! `cargo test --features fuzzing` (`tests/fuzz_corpus.rs`).
//!
//! Each body must never panic on any input except when it finds a bug: the
//! assertions here are the properties the fuzzer checks.

#![allow(clippy::expect_used, clippy::panic)] // a fuzz body panics exactly when it finds a bug

use alloc::collections::VecDeque;
use alloc::vec;
use alloc::vec::Vec;
use core::net::Ipv6Addr;
use core::time::Duration;

use arbitrary::{Arbitrary, Unstructured};
use hba_cga::cga::Sec;
use hba_cga::hba::HbaSet;
use hba_cga::sig::RsaSigner;

use crate::endpoint::{HostConfig, Shim6Host};
use crate::event::{Output, RxDatagram};
use crate::locators::LocalIdentity;
use crate::wire::{
    ContextTag, ControlRepr, OptionRepr, Options, PayloadRepr, Shim6Packet, Shim6Repr,
};

/// `shim6_ctrl`: parse any octets as a Shim6 header; whatever parses must
/// emit (with options re-encoded from their typed form, not copied), parse
/// again to the same representation, and emit to the same octets.
///
/// # Panics
/// When the round trip breaks (a bug).
pub fn shim6_ctrl(data: &[u8]) {
    let Ok(view) = Shim6Packet::new_checked(data) else {
        return;
    };
    let Ok(repr) = Shim6Repr::parse(&view) else {
        return;
    };
    // Re-emit from the wire form: the header octets exactly, except
    // reserved fields, which are written as zero.
    let mut first = vec![0u8; repr.buffer_len()];
    repr.emit(&mut Shim6Packet::new_unchecked(&mut first[..]))
        .expect("a parsed header re-emits");
    let again = Shim6Repr::parse(&Shim6Packet::new_checked(&first[..]).expect("fits"))
        .expect("an emitted header parses");
    assert_eq!(again, repr);

    // Re-encode options from their typed form.
    if let Shim6Repr::Control(c) = &repr {
        let opts: Vec<OptionRepr<'_>> = c.options.iter().collect();
        let typed = ControlRepr {
            next_header: c.next_header,
            message: c.message.clone(),
            options: Options::List(&opts),
        };
        let mut second = vec![0u8; typed.buffer_len()];
        typed
            .emit(&mut Shim6Packet::new_unchecked(&mut second[..]))
            .expect("typed options emit");
        let third = ControlRepr::parse(&Shim6Packet::new_checked(&second[..]).expect("fits"))
            .expect("typed emission parses");
        assert_eq!(third, typed);
        assert_eq!(third, *c);
    }
}

/// A tiny deterministic generator for the fuzz bodies (not for production:
/// production callers inject a real CSPRNG).
#[derive(Clone, Debug)]
pub struct SplitMix(pub u64);

impl rand_core::TryRng for SplitMix {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok((self.try_next_u64()? >> 32) as u32)
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        Ok(z ^ (z >> 31))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for chunk in dst.chunks_mut(8) {
            let v = self.try_next_u64()?.to_le_bytes();
            chunk.copy_from_slice(v.get(..chunk.len()).unwrap_or(&[]));
        }
        Ok(())
    }
}

impl rand_core::TryCryptoRng for SplitMix {}

/// One step of [`shim6_host`].
#[derive(Debug, Clone, Arbitrary)]
pub enum HostOp {
    /// A starts establishing with B's ULID (`peer` 0) or another address.
    Establish {
        /// Which peer.
        peer: u8,
        /// Forked Instance Identifier (small, so that pairs repeat).
        fii: u8,
    },
    /// A's next output reaches B; `mutate` flips one octet and fixes the
    /// checksum (so that the message reaches the verification code).
    DeliverAtoB {
        /// (octet index, XOR mask).
        mutate: Option<(u16, u8)>,
    },
    /// B's next output reaches A.
    DeliverBtoA {
        /// (octet index, XOR mask).
        mutate: Option<(u16, u8)>,
    },
    /// A's next output is lost.
    LoseA,
    /// B's next output is lost.
    LoseB,
    /// Arbitrary octets as a Shim6 header.
    Raw {
        /// To B (else A).
        to_b: bool,
        /// Source from the address pool.
        src: u8,
        /// Destination from the address pool.
        dst: u8,
        /// The octets.
        bytes: Vec<u8>,
    },
    /// A payload extension header with this tag.
    Payload {
        /// To B (else A).
        to_b: bool,
        /// Source from the address pool.
        src: u8,
        /// The tag (truncated to 47 bits; small values hit small spaces).
        tag: u64,
    },
    /// Time passes; both hosts run their timers.
    Advance {
        /// Milliseconds.
        ms: u32,
    },
    /// A host tears its first context down.
    Teardown {
        /// B (else A).
        to_b: bool,
    },
    /// A's data plane uses its first context.
    Traffic,
    /// An ICMP Unrecognized Next Header quoting these octets reaches A.
    Icmp {
        /// Quoted Shim6 header.
        bytes: Vec<u8>,
        /// Quote A's last output instead.
        last: bool,
    },
    /// A changes its locator preferences.
    Prefs {
        /// Flags of the second locator.
        flags: u8,
    },
}

type Msg = (Ipv6Addr, Ipv6Addr, Vec<u8>);

fn identity(site: u8, seed: u64) -> Option<LocalIdentity<RsaSigner>> {
    let prefixes = [
        [0x20, 0x01, 0x0d, 0xb8, 0, site, 0, 0],
        [0x20, 0x01, 0x0d, 0xb8, 0, site, 0, 1],
    ];
    let set = HbaSet::generate(&mut SplitMix(seed), &prefixes, Sec::ZERO, None).ok()?;
    LocalIdentity::from_hba(&set, 0).ok()
}

fn pool(i: u8, a: &[Ipv6Addr], b: &[Ipv6Addr]) -> Ipv6Addr {
    let all: Vec<Ipv6Addr> = a
        .iter()
        .chain(b.iter())
        .copied()
        .chain([Ipv6Addr::new(0x2001, 0xdb8, 0xc, 0, 0, 0, 0, 1)])
        .collect();
    let n = all.len().max(1);
    all.get(usize::from(i) % n)
        .copied()
        .unwrap_or(Ipv6Addr::UNSPECIFIED)
}

fn drain<R: rand_core::CryptoRng>(h: &mut Shim6Host<R>, q: &mut VecDeque<Msg>) {
    let mut buf = Vec::new();
    while let Some(o) = h.poll_output(&mut buf) {
        if let Output::Transmit(t) = o {
            let start = buf.len().saturating_sub(t.len);
            let bytes = buf.get(start..).unwrap_or(&[]).to_vec();
            buf.clear();
            if q.len() >= 64 {
                q.pop_front();
            }
            q.push_back((t.src, t.dst, bytes));
        }
    }
}

fn mutate(bytes: &mut [u8], m: Option<(u16, u8)>) {
    let Some((at, mask)) = m else {
        return;
    };
    let n = bytes.len().max(1);
    if let Some(b) = bytes.get_mut(usize::from(at) % n) {
        *b ^= mask | 1;
    }
    let mut p = Shim6Packet::new_unchecked(bytes);
    if !p.p_bit() {
        p.fill_checksum();
    }
}

/// `shim6_host`: two hosts (A initiates, B only responds) driven by an
/// arbitrary sequence of [`HostOp`]s: deliveries (possibly mutated with a
/// fixed checksum), losses, raw datagrams, payload tags, time, teardowns,
/// ICMP errors, preference updates. Asserted after every step: tables
/// within their bounds, B holds contexts only with A's ULID (no context
/// without a valid I2: the validator and the HBA verification cannot be
/// forged), and after `handle_timeout(now)` no deadline lies at or before
/// `now`.
///
/// # Panics
/// When an invariant breaks (a bug).
pub fn shim6_host(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(ops) = Vec::<HostOp>::arbitrary(&mut u) else {
        return;
    };
    let (Some(ia), Some(ib)) = (identity(0xa, 1), identity(0xb, 2)) else {
        return;
    };
    let (ua, ub) = (ia.ulid(), ib.ulid());
    let la: Vec<Ipv6Addr> = ia.locators().iter().map(|l| l.addr).collect();
    let lb: Vec<Ipv6Addr> = ib.locators().iter().map(|l| l.addr).collect();
    let cfg = HostConfig {
        max_contexts: 4,
        idle_timeout: Some(Duration::from_secs(10)),
        ctag: crate::ctag::CtagConfig {
            bits: 3,
            max_live: 4,
            quarantine: 2,
        },
        ..HostConfig::default()
    };
    let Ok(mut a) = Shim6Host::new(cfg.clone(), SplitMix(3), Duration::ZERO, vec![ia]) else {
        return;
    };
    let Ok(mut b) = Shim6Host::new(cfg, SplitMix(4), Duration::ZERO, vec![ib]) else {
        return;
    };
    let mut qa: VecDeque<Msg> = VecDeque::new();
    let mut qb: VecDeque<Msg> = VecDeque::new();
    let mut now = Duration::ZERO;
    for op in ops {
        match op {
            HostOp::Establish { peer, fii } => {
                let p = if peer == 0 { ub } else { pool(peer, &la, &lb) };
                let _ = a.establish_with(
                    now,
                    crate::endpoint::Establish {
                        local_ulid: ua,
                        peer_ulid: p,
                        fii: u32::from(fii & 3),
                        locators: None,
                    },
                );
            }
            HostOp::DeliverAtoB { mutate: m } => {
                if let Some((src, dst, mut bytes)) = qa.pop_front() {
                    mutate(&mut bytes, m);
                    let _ = b.handle_datagram(
                        now,
                        &RxDatagram {
                            src,
                            dst,
                            payload: &bytes,
                        },
                    );
                }
            }
            HostOp::DeliverBtoA { mutate: m } => {
                if let Some((src, dst, mut bytes)) = qb.pop_front() {
                    mutate(&mut bytes, m);
                    let _ = a.handle_datagram(
                        now,
                        &RxDatagram {
                            src,
                            dst,
                            payload: &bytes,
                        },
                    );
                }
            }
            HostOp::LoseA => {
                qa.pop_front();
            }
            HostOp::LoseB => {
                qb.pop_front();
            }
            HostOp::Raw {
                to_b,
                src,
                dst,
                bytes,
            } => {
                let rx = RxDatagram {
                    src: pool(src, &la, &lb),
                    dst: pool(dst, &la, &lb),
                    payload: &bytes,
                };
                let _ = if to_b {
                    b.handle_datagram(now, &rx)
                } else {
                    a.handle_datagram(now, &rx)
                };
            }
            HostOp::Payload { to_b, src, tag } => {
                let mut bytes = vec![0u8; 8];
                let _ = PayloadRepr {
                    next_header: 59,
                    context_tag: ContextTag::from_bits_truncate(tag),
                }
                .emit(&mut Shim6Packet::new_unchecked(&mut bytes[..]));
                let (h, dst) = if to_b { (&mut b, ub) } else { (&mut a, ua) };
                let _ = h.handle_datagram(
                    now,
                    &RxDatagram {
                        src: pool(src, &la, &lb),
                        dst,
                        payload: &bytes,
                    },
                );
            }
            HostOp::Advance { ms } => {
                now = now.saturating_add(Duration::from_millis(u64::from(ms % 200_000)));
                a.handle_timeout(now);
                b.handle_timeout(now);
                for h in [a.poll_timeout(), b.poll_timeout()].into_iter().flatten() {
                    assert!(h > now, "deadline {h:?} not after {now:?}");
                }
            }
            HostOp::Teardown { to_b } => {
                let h = if to_b { &mut b } else { &mut a };
                let first = h.iter_contexts().find_map(|c| c.ct_local);
                if let Some(t) = first {
                    let _ = h.teardown(now, t);
                }
            }
            HostOp::Traffic => {
                let first = a.iter_contexts().find_map(|c| c.ct_local);
                if let Some(t) = first {
                    a.note_traffic(now, t);
                }
            }
            HostOp::Icmp { bytes, last } => {
                let quoted = if last {
                    qa.back().cloned()
                } else {
                    Some((ua, ub, bytes))
                };
                if let Some((src, dst, q)) = quoted {
                    let _ = a.handle_icmp_unrecognized_next_header(
                        now,
                        &RxDatagram {
                            src,
                            dst,
                            payload: &q,
                        },
                    );
                }
            }
            HostOp::Prefs { flags } => {
                let _ = a.update_preferences(now, ua, 1, vec![0, flags]);
            }
        }
        drain(&mut a, &mut qa);
        drain(&mut b, &mut qb);
        for h in [&a, &b] {
            assert!(h.contexts() <= h.config().max_contexts);
            assert!(h.live_tags() <= h.contexts());
        }
        for c in b.iter_contexts() {
            assert_eq!(
                (c.local_ulid, c.peer_ulid),
                (ub, ua),
                "context B never verified"
            );
        }
    }
}
