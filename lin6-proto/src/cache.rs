//! The mapping cache: per LIN6 ID a set of locators (priority, weight,
//! up/down, lifetime), or a negative entry with its TTL. Bounded: when full,
//! expired entries are purged first, then new IDs are refused and counted.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::arithmetic_side_effects
)]

use crate::addr::{Lin6Id, Prefix};
use crate::wire::{LocatorRecord, MAX_LOCATORS};
use alloc::collections::BTreeSet;
use core::hash::{BuildHasher, Hasher};
use core::time::Duration;
use hashbrown::HashMap;

/// One cached locator.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct CachedLocator {
    /// The record as the MA returned it (R flag = up).
    pub record: LocatorRecord,
    /// When this locator stops being valid.
    pub expires: Duration,
}

/// A positive or negative cache entry (inline, no allocation).
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Entry {
    /// Locators are known.
    Positive {
        /// The locators (first `len`).
        locators: [CachedLocator; MAX_LOCATORS],
        /// Number of valid locators.
        len: u8,
        /// The mapping timestamp the MA reported (Unix seconds).
        mapping_timestamp: u32,
        /// When the entry as a whole expires (latest locator expiry).
        expires: Duration,
    },
    /// The MA said NO_MAPPING; do not ask again before `expires`.
    Negative {
        /// End of the negative TTL.
        expires: Duration,
    },
}

impl Entry {
    /// Builds a positive entry from records valid for `ttl` from `now`.
    pub fn positive(
        records: &[LocatorRecord],
        mapping_timestamp: u32,
        now: Duration,
        ttl: Duration,
    ) -> Self {
        let expires = now.saturating_add(ttl);
        let mut locators = [CachedLocator::default(); MAX_LOCATORS];
        let mut len = 0u8;
        for (slot, r) in locators.iter_mut().zip(records) {
            *slot = CachedLocator {
                record: *r,
                expires,
            };
            len = len.saturating_add(1);
        }
        Entry::Positive {
            locators,
            len,
            mapping_timestamp,
            expires,
        }
    }

    /// When the entry expires.
    pub fn expires(&self) -> Duration {
        match self {
            Entry::Positive { expires, .. } | Entry::Negative { expires } => *expires,
        }
    }

    /// The cached locators (empty for a negative entry).
    pub fn locators(&self) -> &[CachedLocator] {
        match self {
            Entry::Positive { locators, len, .. } => {
                locators.get(..usize::from(*len)).unwrap_or(&[])
            }
            Entry::Negative { .. } => &[],
        }
    }

    fn locators_mut(&mut self) -> &mut [CachedLocator] {
        match self {
            Entry::Positive { locators, len, .. } => {
                locators.get_mut(..usize::from(*len)).unwrap_or(&mut [])
            }
            Entry::Negative { .. } => &mut [],
        }
    }
}

/// Result of a lookup.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Lookup<'a> {
    /// A live positive entry.
    Hit(&'a Entry),
    /// A live negative entry.
    Negative,
    /// Nothing (or only expired data).
    Miss,
}

/// Why an insert was refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CacheError {
    /// The cache holds `capacity` live entries.
    #[error("mapping cache full")]
    Full,
}

/// Cache counters.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct CacheStats {
    /// Inserts refused because the cache was full.
    pub refused_full: u64,
    /// Entries removed because they expired.
    pub expired: u64,
    /// Lookups that hit.
    pub hits: u64,
    /// Lookups that missed.
    pub misses: u64,
}

/// The small per-ID record the data plane reads: where the entry lives and
/// its precomputed best locator.
#[derive(Clone, Copy, Debug)]
struct Slot {
    /// Entry expiry.
    expires: Duration,
    /// Until when `best` is valid (the best locator's own expiry).
    best_until: Duration,
    /// Index into the slab.
    idx: u32,
    /// Best usable locator (priority, then weight), if any.
    best: Option<Prefix>,
}

/// The bounded mapping cache.
///
/// Entries live in a slab; a hash index (keyed: see [`KeyedHash`]) maps
/// each LIN6 ID to a small slot carrying the precomputed best locator, so
/// the data-plane lookup ([`MappingCache::best_locator`]) touches a few
/// cache lines only. Expiry is kept in an ordered set.
#[derive(Clone, Debug)]
pub struct MappingCache {
    map: HashMap<Lin6Id, Slot, KeyedHash>,
    slab: alloc::vec::Vec<Entry>,
    free: alloc::vec::Vec<u32>,
    by_expiry: BTreeSet<(Duration, Lin6Id)>,
    capacity: usize,
    stats: CacheStats,
}

/// A keyed 64-bit hash for the cache index: multiply-xorshift rounds over
/// the key with a 128-bit secret. Not a cryptographic MAC, but without the
/// secret an outsider cannot aim IDs at one bucket; the resolver draws the
/// secret from its injected RNG.
#[derive(Clone, Copy, Debug)]
pub struct KeyedHash {
    k0: u64,
    k1: u64,
}

impl KeyedHash {
    /// A hasher keyed with `key`.
    pub fn new(key: [u64; 2]) -> Self {
        let [k0, k1] = key;
        KeyedHash { k0, k1: k1 | 1 }
    }
}

/// The running state of [`KeyedHash`].
#[derive(Clone, Copy, Debug)]
pub struct KeyedHasher {
    h: u64,
    k1: u64,
}

#[inline(always)]
fn mix(x: u64) -> u64 {
    let x = (x ^ (x >> 32)).wrapping_mul(0xd6e8_feb8_6659_fd93);
    let x = (x ^ (x >> 32)).wrapping_mul(0xd6e8_feb8_6659_fd93);
    x ^ (x >> 32)
}

impl Hasher for KeyedHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for c in bytes.chunks(8) {
            let mut w = [0u8; 8];
            if let Some(d) = w.get_mut(..c.len()) {
                d.copy_from_slice(c);
            }
            self.h = mix(self.h ^ u64::from_le_bytes(w)).wrapping_add(self.k1);
        }
    }
    #[inline]
    fn write_usize(&mut self, _len: usize) {
        // Only fixed-size keys are hashed; lengths add nothing.
    }
    #[inline]
    fn finish(&self) -> u64 {
        mix(self.h ^ self.k1)
    }
}

impl BuildHasher for KeyedHash {
    type Hasher = KeyedHasher;
    #[inline]
    fn build_hasher(&self) -> KeyedHasher {
        KeyedHasher {
            h: self.k0,
            k1: self.k1,
        }
    }
}

fn best_of(e: &Entry) -> (Option<Prefix>, Duration) {
    match e
        .locators()
        .iter()
        .filter(|l| l.record.is_usable())
        .min_by_key(|l| preference_key(&l.record))
    {
        Some(l) => (Some(l.record.prefix), l.expires.min(e.expires())),
        None => (None, e.expires()),
    }
}

/// Orders usable locators: priority ascending, then weight descending, then
/// the order the MA gave.
pub fn preference_key(r: &LocatorRecord) -> (u8, core::cmp::Reverse<u8>) {
    (r.priority, core::cmp::Reverse(r.weight))
}

impl MappingCache {
    /// An empty cache of at most `capacity` entries, with a fixed hash key
    /// (tests and benches; a node should use [`MappingCache::with_hash_key`]).
    pub fn new(capacity: usize) -> Self {
        Self::with_hash_key(capacity, [0x243f_6a88_85a3_08d3, 0x1319_8a2e_0370_7344])
    }

    /// An empty cache of at most `capacity` entries whose index is keyed
    /// with a secret (draw it from a CSPRNG).
    pub fn with_hash_key(capacity: usize, key: [u64; 2]) -> Self {
        MappingCache {
            map: HashMap::with_hasher(KeyedHash::new(key)),
            slab: alloc::vec::Vec::new(),
            free: alloc::vec::Vec::new(),
            by_expiry: BTreeSet::new(),
            capacity,
            stats: CacheStats::default(),
        }
    }

    /// Number of entries (live or not yet purged).
    pub fn len(&self) -> usize {
        self.map.len()
    }
    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
    /// The configured bound.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
    /// Counters.
    pub fn stats(&self) -> CacheStats {
        self.stats
    }

    /// Inserts or replaces the entry of `id`. Purges expired entries when
    /// full; refuses (and counts) a new ID if still full.
    pub fn insert(&mut self, now: Duration, id: Lin6Id, entry: Entry) -> Result<(), CacheError> {
        if !self.map.contains_key(&id) && self.map.len() >= self.capacity {
            self.purge_expired(now);
            if self.map.len() >= self.capacity {
                self.stats.refused_full = self.stats.refused_full.saturating_add(1);
                return Err(CacheError::Full);
            }
        }
        let (best, best_until) = best_of(&entry);
        let idx = match self.map.get(&id) {
            Some(old) => {
                self.by_expiry.remove(&(old.expires, id));
                if let Some(e) = self.slab.get_mut(old.idx as usize) {
                    *e = entry;
                }
                old.idx
            }
            None => match self.free.pop() {
                Some(i) => {
                    if let Some(e) = self.slab.get_mut(i as usize) {
                        *e = entry;
                    }
                    i
                }
                None => {
                    self.slab.push(entry);
                    u32::try_from(self.slab.len().saturating_sub(1)).unwrap_or(u32::MAX)
                }
            },
        };
        self.map.insert(
            id,
            Slot {
                expires: entry.expires(),
                best_until,
                idx,
                best,
            },
        );
        self.by_expiry.insert((entry.expires(), id));
        Ok(())
    }

    fn entry(&self, slot: &Slot) -> Option<&Entry> {
        self.slab.get(slot.idx as usize)
    }

    /// Removes the entry of `id`.
    pub fn remove(&mut self, id: Lin6Id) -> Option<Entry> {
        let slot = self.map.remove(&id)?;
        self.by_expiry.remove(&(slot.expires, id));
        self.free.push(slot.idx);
        self.entry(&slot).copied()
    }

    /// Removes every entry whose expiry is `<= now`; returns how many.
    pub fn purge_expired(&mut self, now: Duration) -> usize {
        let mut n = 0usize;
        while let Some(&(t, id)) = self.by_expiry.first() {
            if t > now {
                break;
            }
            self.by_expiry.pop_first();
            if let Some(slot) = self.map.remove(&id) {
                self.free.push(slot.idx);
            }
            n = n.saturating_add(1);
        }
        self.stats.expired = self.stats.expired.saturating_add(n as u64);
        n
    }

    /// The earliest expiry, for the owner's timer.
    pub fn next_expiry(&self) -> Option<Duration> {
        self.by_expiry.first().map(|(t, _)| *t)
    }

    /// Looks `id` up at `now` (expired data counts as a miss) without
    /// touching the counters.
    pub fn peek(&self, now: Duration, id: Lin6Id) -> Lookup<'_> {
        match self.map.get(&id) {
            Some(slot) if slot.expires > now => match self.entry(slot) {
                Some(e @ Entry::Positive { .. }) => Lookup::Hit(e),
                Some(Entry::Negative { .. }) => Lookup::Negative,
                None => Lookup::Miss,
            },
            _ => Lookup::Miss,
        }
    }

    /// Like [`MappingCache::peek`], counting hits and misses.
    pub fn lookup(&mut self, now: Duration, id: Lin6Id) -> Lookup<'_> {
        let hit = matches!(self.peek(now, id), Lookup::Hit(_));
        if hit {
            self.stats.hits = self.stats.hits.saturating_add(1);
        } else {
            self.stats.misses = self.stats.misses.saturating_add(1);
        }
        self.peek(now, id)
    }

    /// The usable, unexpired locators of `id`, best first (priority, then
    /// weight). This is `getaddrinfo2`'s locator list.
    pub fn usable_locators(&self, now: Duration, id: Lin6Id) -> alloc::vec::Vec<LocatorRecord> {
        let mut v: alloc::vec::Vec<LocatorRecord> = match self.peek(now, id) {
            Lookup::Hit(e) => e
                .locators()
                .iter()
                .filter(|l| l.expires > now && l.record.is_usable())
                .map(|l| l.record)
                .collect(),
            _ => alloc::vec::Vec::new(),
        };
        v.sort_by_key(preference_key);
        v
    }

    /// The best usable locator of `id` at `now` (data-plane fast path: one
    /// ordered-index lookup, no allocation, no scan while the precomputed
    /// choice is valid).
    #[inline]
    pub fn best_locator(&self, now: Duration, id: Lin6Id) -> Option<Prefix> {
        let slot = self.map.get(&id)?;
        if slot.expires <= now {
            return None;
        }
        if now < slot.best_until {
            return slot.best;
        }
        // Some locator expired before the entry: scan.
        self.entry(slot)?
            .locators()
            .iter()
            .filter(|l| l.expires > now && l.record.is_usable())
            .min_by_key(|l| preference_key(&l.record))
            .map(|l| l.record.prefix)
    }

    /// Marks a locator of `id` up or down (e.g. after an ICMPv6 unreachable).
    /// Returns whether it was found.
    pub fn set_locator_up(&mut self, id: Lin6Id, prefix: Prefix, up: bool) -> bool {
        let Some(slot) = self.map.get_mut(&id) else {
            return false;
        };
        let Some(e) = self.slab.get_mut(slot.idx as usize) else {
            return false;
        };
        let mut found = false;
        for l in e.locators_mut() {
            if l.record.prefix == prefix {
                if up {
                    l.record.flags |= crate::wire::LOC_FLAG_UP;
                } else {
                    l.record.flags &= !crate::wire::LOC_FLAG_UP;
                }
                found = true;
            }
        }
        (slot.best, slot.best_until) = best_of(e);
        found
    }

    /// Iterates over all entries.
    pub fn iter(&self) -> impl Iterator<Item = (&Lin6Id, &Entry)> {
        self.map
            .iter()
            .filter_map(|(id, slot)| self.slab.get(slot.idx as usize).map(|e| (id, e)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::LOC_FLAG_UP;

    fn rec(p: u8, pri: u8, w: u8, up: bool) -> LocatorRecord {
        LocatorRecord {
            prefix: Prefix([0x20, 0x01, 0x0d, 0xb8, 0, p, 0, 0]),
            priority: pri,
            weight: w,
            flags: if up { LOC_FLAG_UP } else { 0 },
        }
    }

    #[test]
    fn best_by_priority_then_weight() {
        let mut c = MappingCache::new(4);
        let id = Lin6Id::from_u64(0x0201_4a00_0000_0002);
        let t0 = Duration::from_secs(10);
        let recs = [
            rec(1, 5, 1, true),
            rec(2, 1, 1, true),
            rec(3, 1, 9, true),
            rec(4, 0, 9, false),
            rec(5, 255, 1, true),
        ];
        c.insert(
            t0,
            id,
            Entry::positive(&recs, 0, t0, Duration::from_secs(30)),
        )
        .unwrap();
        assert_eq!(c.best_locator(t0, id), Some(recs[2].prefix));
        let all = c.usable_locators(t0, id);
        assert_eq!(
            all.iter()
                .map(|r| r.prefix.0[5])
                .collect::<alloc::vec::Vec<_>>(),
            [3, 2, 1]
        );
        assert!(c.set_locator_up(id, recs[2].prefix, false));
        assert_eq!(c.best_locator(t0, id), Some(recs[1].prefix));
        // Lifetime: gone at t0 + 30 s.
        assert_eq!(c.best_locator(t0 + Duration::from_secs(30), id), None);
        assert_eq!(
            c.peek(t0 + Duration::from_secs(29), Lin6Id::default()),
            Lookup::Miss
        );
    }

    #[test]
    fn bounded_and_negative() {
        let mut c = MappingCache::new(2);
        let now = Duration::from_secs(1);
        c.insert(
            now,
            Lin6Id::from_u64(1),
            Entry::Negative {
                expires: now + Duration::from_secs(60),
            },
        )
        .unwrap();
        c.insert(
            now,
            Lin6Id::from_u64(2),
            Entry::Negative {
                expires: now + Duration::from_secs(5),
            },
        )
        .unwrap();
        assert_eq!(c.peek(now, Lin6Id::from_u64(1)), Lookup::Negative);
        assert_eq!(
            c.insert(now, Lin6Id::from_u64(3), Entry::Negative { expires: now }),
            Err(CacheError::Full)
        );
        assert_eq!(c.stats().refused_full, 1);
        // After entry 2 expires, there is room again.
        let later = now + Duration::from_secs(5);
        c.insert(
            later,
            Lin6Id::from_u64(3),
            Entry::Negative {
                expires: later + Duration::from_secs(1),
            },
        )
        .unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c.stats().expired, 1);
        assert_eq!(c.next_expiry(), Some(later + Duration::from_secs(1)));
    }
}
