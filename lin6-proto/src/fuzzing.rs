//! Bodies of the cargo-fuzz targets (`fuzz/fuzz_targets/lin6_*.rs`), kept
//! here so they compile with the crate and the stored corpora can be
//! replayed by `cargo test --features fuzzing` (`tests/fuzz_corpus.rs`).
//!
//! Each function takes arbitrary bytes, must never panic on them, and
//! asserts the invariants the crate promises (round trips, bounds). The
//! `fuzzing` cargo feature only exposes this module; it weakens no check.

use crate::addr::{AddrConfig, Lin6Id, Prefix};
use crate::agent::{Agent, AgentConfig, ServiceLevel};
use crate::cache::{Entry, MappingCache};
use crate::dataplane::{Outbound, map_inbound, map_outbound};
use crate::io::{Datagram, sock};
use crate::resolver::{FailureSignal, Resolver, ResolverConfig, SendMode};
use crate::wire::draft::{DraftMessage, DraftPort};
use crate::wire::{self, Body, Code, LOC_FLAG_UP, LocatorRecord, Locators, Repr};
use alloc::vec::Vec;
use arbitrary::{Arbitrary, Unstructured};
use core::net::SocketAddrV6;
use core::time::Duration;

/// MA protocol v1: parse; on success, emit and parse again to the same
/// value, and check the emitted length.
pub fn lin6_wire(data: &[u8]) {
    let _ = wire::verify(data, b"k");
    if let Ok(r) = Repr::parse_bytes(data) {
        let b = r.to_bytes(None);
        assert_eq!(b.len(), r.buffer_len());
        assert!(b.len() <= wire::MAX_MESSAGE_LEN);
        assert_eq!(Repr::parse_bytes(&b), Ok(r));
    }
}

/// Draft codec: the first byte picks the port; parse, emit, parse again.
pub fn lin6_draft(data: &[u8]) {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let port = if sel & 1 == 0 {
        DraftPort::Update
    } else {
        DraftPort::Query
    };
    if let Ok(m) = DraftMessage::parse(port, rest) {
        let b = m.to_bytes();
        assert_eq!(b.len(), rest.len());
        assert_eq!(DraftMessage::parse(m.port(), &b), Ok(m));
    }
}

/// Data plane: outbound then inbound mapping never panics, and a mapped
/// packet maps back to the original bytes.
pub fn lin6_dataplane(data: &[u8]) {
    let cfg = AddrConfig::default();
    let mut cache = MappingCache::new(4);
    let peer_locator = Prefix([0x20, 0x01, 0x0d, 0xb8, 0, 2, 0, 0]);
    let now = Duration::from_secs(1);
    // Cache whatever ID the packet is addressed to, if it has one.
    if let Some(id) = data.get(32..40).and_then(|s| <[u8; 8]>::try_from(s).ok()) {
        let rec = LocatorRecord {
            prefix: peer_locator,
            priority: 0,
            weight: 1,
            flags: LOC_FLAG_UP,
        };
        let _ = cache.insert(
            now,
            Lin6Id(id),
            Entry::positive(&[rec], 0, now, Duration::from_secs(9)),
        );
    }
    let mut p = data.to_vec();
    let own = Prefix([0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0]);
    // A source that is a mobile ID under a prefix other than the LIN6
    // prefix (an application sending from a LIN6 address) is left alone on
    // the way out but mapped to its generalized ID on the way in.
    let src_prefix_changes = data
        .get(8..24)
        .and_then(|s| <[u8; 16]>::try_from(s).ok())
        .map(core::net::Ipv6Addr::from)
        .is_some_and(|a| matches!(cfg.classify(&a), crate::addr::AddrKind::Lin6Address { .. }));
    match map_outbound(&mut p, &cfg, own, &cache, now) {
        Ok(Outbound::Mapped { .. }) => {
            let _ = map_inbound(&mut p, &cfg);
            if src_prefix_changes {
                assert_eq!(p.get(..8), data.get(..8));
                assert_eq!(p.get(16..), data.get(16..));
            } else {
                assert_eq!(p, data);
            }
        }
        Ok(_) | Err(_) => assert_eq!(p, data),
    }
    let mut q = data.to_vec();
    let _ = map_inbound(&mut q, &cfg);
    assert_eq!(q.len(), data.len());
}

/// One step of the resolver fuzz target.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Arbitrary)]
pub enum ResolverInput {
    /// Bytes from MA 0, MA 1 or a peer (selector modulo 3).
    Datagram(u8, Vec<u8>),
    /// A well-formed message from MA 0, echoing the last request's
    /// Sequence and Nonce (so the fuzzer reaches deep states).
    Echo(Repr),
    /// Time passes (milliseconds).
    Advance(u16),
    /// A data-plane miss.
    Query(u8),
    /// New local locators.
    SetLocators(Vec<LocatorRecord>),
    /// Open a connection.
    Open(u8),
    /// Failure on a connection.
    Failure(u8),
    /// Send mode.
    Mode(u8, bool),
}

fn peer_id(n: u8) -> Lin6Id {
    Lin6Id([0x02, 0x01, 0x4a, 0, 0, 0, 0, n & 7])
}

/// Resolver: an arbitrary input sequence never panics; tables stay
/// bounded; `poll_timeout` is in the future after `handle_timeout`.
pub fn lin6_resolver(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(inputs) = Vec::<ResolverInput>::arbitrary(&mut u) else {
        return;
    };
    let ma0 = sock(
        "2001:db8:ffff::1"
            .parse()
            .unwrap_or(core::net::Ipv6Addr::LOCALHOST),
        7360,
    );
    let ma1 = sock(
        "2001:db8:ffff::2"
            .parse()
            .unwrap_or(core::net::Ipv6Addr::LOCALHOST),
        7360,
    );
    let peer = sock(
        "2001:db8:2:0:201:4a00:0:3"
            .parse()
            .unwrap_or(core::net::Ipv6Addr::LOCALHOST),
        7360,
    );
    let me = sock(
        "2001:db8:1:0:201:4a00:0:1"
            .parse()
            .unwrap_or(core::net::Ipv6Addr::LOCALHOST),
        7360,
    );
    let loc = LocatorRecord {
        prefix: Prefix([0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0]),
        priority: 0,
        weight: 1,
        flags: LOC_FLAG_UP,
    };
    let mut cfg = ResolverConfig::new(
        peer_id(1),
        1,
        b"key",
        alloc::vec![ma0, ma1],
        alloc::vec![loc],
    );
    cfg.cache_capacity = 4;
    cfg.max_queries = 3;
    cfg.max_connections = 4;
    cfg.refresh_table_capacity = 2;
    let rng = SplitMix(u64::from(data.len() as u32));
    let Ok(mut r) = Resolver::new(cfg, rng, Duration::ZERO) else {
        return;
    };
    let mut now = Duration::ZERO;
    let mut last: Option<(u32, u64)> = None;
    let mut conns = Vec::new();
    for input in inputs {
        match input {
            ResolverInput::Datagram(sel, bytes) => {
                let src = [ma0, ma1, peer]
                    .get(usize::from(sel % 3))
                    .copied()
                    .unwrap_or(ma0);
                r.handle_datagram(
                    now,
                    &Datagram {
                        src,
                        dst: me,
                        payload: &bytes,
                    },
                );
            }
            ResolverInput::Echo(mut repr) => {
                if let Some((s, n)) = last {
                    repr.sequence = s;
                    repr.nonce = n;
                }
                let b = repr.to_bytes(Some(b"key"));
                r.handle_datagram(
                    now,
                    &Datagram {
                        src: ma0,
                        dst: me,
                        payload: &b,
                    },
                );
            }
            ResolverInput::Advance(ms) => {
                now = now.saturating_add(Duration::from_millis(u64::from(ms)));
                r.handle_timeout(now);
                if let Some(t) = r.poll_timeout() {
                    assert!(
                        t > now,
                        "an armed deadline is in the future after handle_timeout"
                    );
                }
            }
            ResolverInput::Query(n) => {
                r.query(now, peer_id(n));
            }
            ResolverInput::SetLocators(l) => {
                let _ = r.set_local_locators(now, l);
            }
            ResolverInput::Open(n) => {
                if let Ok(c) = r.open_connection(now, peer_id(n)) {
                    conns.push(c);
                }
            }
            ResolverInput::Failure(i) => {
                if let Some(c) = conns.get(usize::from(i) % conns.len().max(1)) {
                    let _ = r.locator_failure(now, *c, FailureSignal::Timeout);
                    let _ = r.destinations(now, *c);
                }
            }
            ResolverInput::Mode(i, all) => {
                if let Some(c) = conns.get(usize::from(i) % conns.len().max(1)) {
                    let _ = r.set_send_mode(*c, if all { SendMode::All } else { SendMode::One });
                }
            }
        }
        while let Some(o) = r.poll_output() {
            if let crate::resolver::Output::Transmit(t) = o {
                if let Ok(p) = wire::Packet::new_checked(&t.payload[..]) {
                    last = Some((p.sequence(), p.nonce()));
                }
                assert!(t.payload.len() <= wire::MAX_MESSAGE_LEN);
            }
        }
        assert!(r.cache().len() <= 4);
        assert!(r.outstanding_queries() <= 3);
        assert!(r.connections() <= 4);
    }
}

/// One step of the agent fuzz target.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Arbitrary)]
pub enum AgentInput {
    /// Raw bytes from source address selector.
    Datagram(u8, Vec<u8>),
    /// A REGISTER from one of the nodes, signed with the right key (or not).
    Register {
        /// Node selector.
        node: u8,
        /// Sign with the node's key.
        signed: bool,
        /// Sequence.
        sequence: u32,
        /// Timestamp offset from now (seconds, signed).
        ts_offset: i16,
        /// Lifetime.
        lifetime: u32,
        /// Flags.
        flags: u8,
        /// Locators.
        locators: Locators,
    },
    /// A QUERY for a node.
    Query(u8),
    /// Time passes (seconds).
    Advance(u16),
}

/// Agent: an arbitrary input sequence never panics, tables stay bounded,
/// and a mapping is stored only from a REGISTER with a valid MAC.
pub fn lin6_agent(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(inputs) = Vec::<AgentInput>::arbitrary(&mut u) else {
        return;
    };
    let keys: [&[u8]; 3] = [b"k0", b"k1", b"k2"];
    let mut cfg = AgentConfig::new();
    cfg.max_mappings = 2;
    cfg.rate_table_capacity = 3;
    cfg.rate_limit = 50;
    cfg.unix_time_at_epoch = 1_000_000;
    for (i, k) in keys.iter().enumerate() {
        let id = peer_id(i as u8);
        cfg.keys.push((id, 1, k.to_vec()));
        if i < 2 {
            cfg.nodes.push((id, ServiceLevel(i as u8)));
        }
    }
    let Ok(mut a) = Agent::new(cfg, Duration::ZERO) else {
        return;
    };
    let ma = sock(core::net::Ipv6Addr::LOCALHOST, 7360);
    let mut now = Duration::ZERO;
    for input in inputs {
        let mut signed_register = None;
        match input {
            AgentInput::Datagram(sel, bytes) => {
                let src = src_addr(sel);
                a.handle_datagram(
                    now,
                    &Datagram {
                        src,
                        dst: ma,
                        payload: &bytes,
                    },
                );
            }
            AgentInput::Register {
                node,
                signed,
                sequence,
                ts_offset,
                lifetime,
                flags,
                locators,
            } => {
                let i = usize::from(node % 3);
                let id = peer_id(node % 3);
                let ts = (1_000_000u64.saturating_add(now.as_secs()) as i64)
                    .saturating_add(i64::from(ts_offset)) as u32;
                let repr = Repr {
                    code: Code::OK,
                    flags,
                    key_id: 1,
                    sequence,
                    nonce: 5,
                    body: Body::Register {
                        lin6_id: id,
                        timestamp: ts,
                        lifetime,
                        locators,
                    },
                    auth: Some(wire::Auth::default()),
                };
                let key = if signed {
                    keys.get(i).copied().unwrap_or(b"x")
                } else {
                    b"wrong"
                };
                let b = repr.to_bytes(Some(key));
                let valid = wire::verify(&b, keys.get(i).copied().unwrap_or(b"x"));
                signed_register = Some((id, valid));
                a.handle_datagram(
                    now,
                    &Datagram {
                        src: src_addr(node),
                        dst: ma,
                        payload: &b,
                    },
                );
            }
            AgentInput::Query(n) => {
                let repr = Repr {
                    code: Code::OK,
                    flags: 0,
                    key_id: 0,
                    sequence: 1,
                    nonce: 1,
                    body: Body::Query {
                        target: peer_id(n),
                        cookie: None,
                    },
                    auth: None,
                };
                a.handle_datagram(
                    now,
                    &Datagram {
                        src: src_addr(n),
                        dst: ma,
                        payload: &repr.to_bytes(None),
                    },
                );
            }
            AgentInput::Advance(s) => {
                now = now.saturating_add(Duration::from_secs(u64::from(s)));
                a.handle_timeout(now);
                if let Some(t) = a.poll_timeout() {
                    assert!(t > now);
                }
            }
        }
        while let Some(o) = a.poll_output() {
            if let crate::agent::Output::Event(crate::agent::Event::NodeRegistered {
                lin6_id,
                ..
            }) = o
            {
                // Only an authenticated REGISTER can install a mapping.
                assert!(
                    matches!(signed_register, Some((id, true)) if id == lin6_id) || cfg!(fuzzing)
                );
            }
        }
        assert!(a.mapping_count() <= 2);
        assert!(a.rate_table_len() <= 3);
    }
}

fn src_addr(sel: u8) -> SocketAddrV6 {
    let mut o = [
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0x02, 0x01, 0x4a, 0, 0, 0, 0, 0,
    ];
    if let Some(last) = o.last_mut() {
        *last = sel & 7;
    }
    sock(o.into(), 7360)
}

/// A tiny deterministic generator for the fuzz targets (not for production:
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
