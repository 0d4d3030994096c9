//! The data plane: outbound and inbound LIN6 address mapping on whole IPv6
//! packets, in place and allocation-free, plus the bounded queue of packets
//! waiting on a mapping query.
//!
//! Only the upper 64 bits of the fixed header's source and destination
//! addresses change. Both ends compute transport checksums over generalized
//! IDs (LIN6 prefix ‖ LIN6 ID), so the mapping never touches a checksum:
//! mapped out at the sender and back at the receiver, the packet verifies
//! exactly as the sender's transport built it.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::arithmetic_side_effects
)]

use crate::addr::{AddrConfig, Lin6Id, Prefix};
use crate::cache::MappingCache;
use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::time::Duration;

/// IPv6 fixed header length.
pub const IPV6_HEADER_LEN: usize = 40;
const SRC_PREFIX: core::ops::Range<usize> = 8..16;
const SRC_ID: core::ops::Range<usize> = 16..24;
const DST_PREFIX: core::ops::Range<usize> = 24..32;
const DST_ID: core::ops::Range<usize> = 32..40;

/// Why a packet cannot be mapped.
#[derive(Clone, Copy, PartialEq, Eq, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MapError {
    /// Shorter than the IPv6 fixed header.
    #[error("not a whole IPv6 header")]
    Truncated,
    /// The version nibble is not 6.
    #[error("not IPv6")]
    NotIpv6,
}

/// What [`map_outbound`] did.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Outbound {
    /// Both generalized IDs were replaced by locators.
    Mapped {
        /// The peer.
        peer: Lin6Id,
        /// The destination locator used.
        locator: Prefix,
    },
    /// The destination is not a generalized ID: the packet is left as is.
    NotLin6,
    /// No usable mapping: queue the packet and query the MA for `peer`.
    NeedMapping {
        /// The peer.
        peer: Lin6Id,
    },
}

/// What [`map_inbound`] did.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Inbound {
    /// The source was a LIN6 address and is now a generalized ID.
    pub src_mapped: bool,
    /// The destination was a LIN6 address and is now a generalized ID.
    pub dst_mapped: bool,
}

#[inline]
fn check(pkt: &[u8]) -> Result<(), MapError> {
    match pkt.first() {
        None => Err(MapError::Truncated),
        Some(_) if pkt.len() < IPV6_HEADER_LEN => Err(MapError::Truncated),
        Some(v) if v >> 4 != 6 => Err(MapError::NotIpv6),
        Some(_) => Ok(()),
    }
}

#[inline]
fn get8(pkt: &[u8], r: core::ops::Range<usize>) -> [u8; 8] {
    let mut o = [0u8; 8];
    if let Some(s) = pkt.get(r)
        && let Ok(a) = <[u8; 8]>::try_from(s)
    {
        o = a;
    }
    o
}

#[inline]
fn put8(pkt: &mut [u8], r: core::ops::Range<usize>, v: [u8; 8]) {
    if let Some(s) = pkt.get_mut(r) {
        s.copy_from_slice(&v);
    }
}

/// Rewrites a packet addressed generalized ID → generalized ID to
/// `src_locator` ‖ own ID → `dst_locator` ‖ peer ID. The source is only
/// rewritten if it is a generalized ID. Returns the peer, or `None` (packet
/// untouched) if the destination is not a generalized ID.
#[inline]
pub fn rewrite_outbound(
    pkt: &mut [u8],
    cfg: &AddrConfig,
    src_locator: Prefix,
    dst_locator: Prefix,
) -> Result<Option<Lin6Id>, MapError> {
    check(pkt)?;
    let dst_id = Lin6Id(get8(pkt, DST_ID));
    if get8(pkt, DST_PREFIX) != cfg.lin6_prefix.0 || !cfg.is_mobile_id(dst_id) {
        return Ok(None);
    }
    apply(pkt, cfg, src_locator, dst_locator);
    Ok(Some(dst_id))
}

/// Writes the locators; the caller has checked the header and the
/// destination.
#[inline(always)]
fn apply(pkt: &mut [u8], cfg: &AddrConfig, src_locator: Prefix, dst_locator: Prefix) {
    put8(pkt, DST_PREFIX, dst_locator.0);
    if get8(pkt, SRC_PREFIX) == cfg.lin6_prefix.0 && cfg.is_mobile_id(Lin6Id(get8(pkt, SRC_ID))) {
        put8(pkt, SRC_PREFIX, src_locator.0);
    }
}

/// Outbound mapping through the cache: the destination generalized ID gets
/// the peer's best usable locator, the source generalized ID gets
/// `own_locator`. On a miss (or negative entry) the packet is untouched and
/// [`Outbound::NeedMapping`] tells the caller to queue it and query.
#[inline]
pub fn map_outbound(
    pkt: &mut [u8],
    cfg: &AddrConfig,
    own_locator: Prefix,
    cache: &MappingCache,
    now: Duration,
) -> Result<Outbound, MapError> {
    check(pkt)?;
    let dst_id = Lin6Id(get8(pkt, DST_ID));
    if get8(pkt, DST_PREFIX) != cfg.lin6_prefix.0 || !cfg.is_mobile_id(dst_id) {
        return Ok(Outbound::NotLin6);
    }
    match cache.best_locator(now, dst_id) {
        Some(locator) => {
            apply(pkt, cfg, own_locator, locator);
            Ok(Outbound::Mapped {
                peer: dst_id,
                locator,
            })
        }
        None => Ok(Outbound::NeedMapping { peer: dst_id }),
    }
}

/// Inbound mapping: every address (source and destination) whose interface
/// identifier is a mobile LIN6 ID gets the LIN6 prefix. Stationary IDs and
/// other addresses are left alone.
#[inline]
pub fn map_inbound(pkt: &mut [u8], cfg: &AddrConfig) -> Result<Inbound, MapError> {
    check(pkt)?;
    let mut r = Inbound::default();
    if cfg.is_mobile_id(Lin6Id(get8(pkt, SRC_ID))) && get8(pkt, SRC_PREFIX) != cfg.lin6_prefix.0 {
        put8(pkt, SRC_PREFIX, cfg.lin6_prefix.0);
        r.src_mapped = true;
    }
    if cfg.is_mobile_id(Lin6Id(get8(pkt, DST_ID))) && get8(pkt, DST_PREFIX) != cfg.lin6_prefix.0 {
        put8(pkt, DST_PREFIX, cfg.lin6_prefix.0);
        r.dst_mapped = true;
    }
    Ok(r)
}

/// Why a packet was not queued.
#[derive(Clone, Copy, PartialEq, Eq, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QueueError {
    /// The queue holds its maximum number of packets or bytes.
    #[error("pending queue full")]
    Full,
}

/// Counters of the pending queue.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct QueueStats {
    /// Packets accepted.
    pub queued: u64,
    /// Packets refused because the queue was full.
    pub refused_full: u64,
    /// Packets dropped on a negative reply, a failed query or age.
    pub dropped: u64,
    /// Packets released after a mapping arrived.
    pub released: u64,
}

/// A bounded FIFO of packets waiting on a mapping query (by packets and by
/// bytes).
#[derive(Clone, Debug)]
pub struct PendingQueue {
    q: VecDeque<(Lin6Id, Duration, Vec<u8>)>,
    max_packets: usize,
    max_bytes: usize,
    bytes: usize,
    stats: QueueStats,
}

impl PendingQueue {
    /// A queue of at most `max_packets` packets and `max_bytes` bytes.
    pub fn new(max_packets: usize, max_bytes: usize) -> Self {
        PendingQueue {
            q: VecDeque::new(),
            max_packets,
            max_bytes,
            bytes: 0,
            stats: QueueStats::default(),
        }
    }

    /// Queues a copy of `pkt` for `peer`.
    pub fn push(&mut self, now: Duration, peer: Lin6Id, pkt: &[u8]) -> Result<(), QueueError> {
        let nb = self.bytes.saturating_add(pkt.len());
        if self.q.len() >= self.max_packets || nb > self.max_bytes {
            self.stats.refused_full = self.stats.refused_full.saturating_add(1);
            return Err(QueueError::Full);
        }
        self.q.push_back((peer, now, pkt.to_vec()));
        self.bytes = nb;
        self.stats.queued = self.stats.queued.saturating_add(1);
        Ok(())
    }

    /// Removes and returns the packets waiting for `peer`, oldest first.
    pub fn release(&mut self, peer: Lin6Id) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut keep = VecDeque::with_capacity(self.q.len());
        for (id, t, p) in self.q.drain(..) {
            if id == peer {
                out.push(p);
            } else {
                keep.push_back((id, t, p));
            }
        }
        self.q = keep;
        self.bytes = self
            .q
            .iter()
            .map(|(_, _, p)| p.len())
            .fold(0usize, usize::saturating_add);
        self.stats.released = self.stats.released.saturating_add(out.len() as u64);
        out
    }

    /// Drops the packets waiting for `peer` (negative reply, failed query);
    /// returns how many.
    pub fn drop_peer(&mut self, peer: Lin6Id) -> usize {
        let n = self.release(peer).len();
        self.stats.released = self.stats.released.saturating_sub(n as u64);
        self.stats.dropped = self.stats.dropped.saturating_add(n as u64);
        n
    }

    /// Drops packets queued at or before `now - max_age`; returns how many.
    pub fn expire(&mut self, now: Duration, max_age: Duration) -> usize {
        let mut n = 0usize;
        while let Some((_, t, p)) = self.q.front() {
            if t.saturating_add(max_age) > now {
                break;
            }
            self.bytes = self.bytes.saturating_sub(p.len());
            self.q.pop_front();
            n = n.saturating_add(1);
        }
        self.stats.dropped = self.stats.dropped.saturating_add(n as u64);
        n
    }

    /// Packets queued.
    pub fn len(&self) -> usize {
        self.q.len()
    }
    /// Whether the queue is empty.
    pub fn is_empty(&self) -> bool {
        self.q.is_empty()
    }
    /// Bytes queued.
    pub fn bytes(&self) -> usize {
        self.bytes
    }
    /// Counters.
    pub fn stats(&self) -> QueueStats {
        self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_non_ipv6() {
        let c = AddrConfig::default();
        assert_eq!(map_inbound(&mut [0x60; 39], &c), Err(MapError::Truncated));
        assert_eq!(map_inbound(&mut [], &c), Err(MapError::Truncated));
        assert_eq!(map_inbound(&mut [0x45; 40], &c), Err(MapError::NotIpv6));
    }

    /// Found by the lin6_dataplane fuzz target: a source that is already a
    /// LIN6 address (locator ‖ mobile ID) stays as is on the way out, and
    /// becomes the generalized ID on the way in.
    #[test]
    fn source_already_a_lin6_address() {
        let c = AddrConfig::default();
        let mut cache = MappingCache::new(1);
        let dst = Lin6Id([2, 1, 0x4a, 0, 0, 0, 0, 2]);
        let pb = Prefix([0x20, 1, 0xd, 0xb8, 0, 0xb, 0, 0]);
        let rec = crate::wire::LocatorRecord {
            prefix: pb,
            priority: 0,
            weight: 1,
            flags: crate::wire::LOC_FLAG_UP,
        };
        let t = Duration::ZERO;
        cache
            .insert(
                t,
                dst,
                crate::cache::Entry::positive(&[rec], 0, t, Duration::from_secs(9)),
            )
            .unwrap();
        let mut p = [0u8; 40];
        p[0] = 0x60;
        p[8..16].copy_from_slice(&[0x20, 1, 0xd, 0xb8, 0, 0xa, 0, 0]);
        p[16..24].copy_from_slice(&[2, 1, 0x4a, 0, 0, 0, 0, 1]);
        p[24..32].copy_from_slice(&c.lin6_prefix.0);
        p[32..40].copy_from_slice(&dst.0);
        let own = Prefix([0x20, 1, 0xd, 0xb8, 0, 9, 0, 0]);
        assert!(matches!(
            map_outbound(&mut p, &c, own, &cache, t),
            Ok(Outbound::Mapped { .. })
        ));
        assert_eq!(
            &p[8..16],
            &[0x20, 1, 0xd, 0xb8, 0, 0xa, 0, 0],
            "source left alone"
        );
        assert_eq!(&p[24..32], &pb.0);
        let r = map_inbound(&mut p, &c).unwrap();
        assert!(r.src_mapped && r.dst_mapped);
        assert_eq!(&p[8..16], &c.lin6_prefix.0);
    }

    #[test]
    fn queue_bounds() {
        let mut q = PendingQueue::new(2, 100);
        let a = Lin6Id::from_u64(1);
        let b = Lin6Id::from_u64(2);
        q.push(Duration::ZERO, a, &[1; 40]).unwrap();
        assert_eq!(q.push(Duration::ZERO, b, &[2; 61]), Err(QueueError::Full));
        q.push(Duration::from_secs(1), b, &[2; 60]).unwrap();
        assert_eq!(q.push(Duration::ZERO, b, &[2; 1]), Err(QueueError::Full));
        assert_eq!(q.stats().refused_full, 2);
        assert_eq!(q.release(b), alloc::vec![alloc::vec![2u8; 60]]);
        assert_eq!(q.bytes(), 40);
        assert_eq!(q.expire(Duration::from_secs(3), Duration::from_secs(3)), 1);
        assert!(q.is_empty());
    }
}
