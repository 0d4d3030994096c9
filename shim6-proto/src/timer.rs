//! The crate's timer queue (the same shape as `mip6-proto`'s, which this
//! crate may not depend on): deadlines of many table entries in one binary
//! heap, invalidated lazily, so [`TimerHeap::next`] is O(1) and arming a
//! timer is O(log n).
//!
//! Each entry of a table keeps, per timer kind, the generation of its armed
//! timer (`0` = disarmed); re-arming or stopping a timer bumps the
//! generation, and heap items of older generations are skipped when they
//! surface. The owner calls [`TimerHeap::expire`] with a closure that tells
//! whether an item is still the armed one.
//!
//! ```
//! use core::time::Duration;
//! use shim6_proto::timer::TimerHeap;
//! let mut t: TimerHeap<u32> = TimerHeap::new();
//! let g1 = t.arm(Duration::from_secs(5), 1);
//! let _ = t.arm(Duration::from_secs(3), 2);
//! let g1b = t.arm(Duration::from_secs(9), 1); // re-armed: g1 is stale
//! let live = |k: &u32, g: u64| (*k == 1 && g == g1b) || *k == 2;
//! t.purge(live);
//! assert_eq!(t.next(), Some(Duration::from_secs(3)));
//! let mut fired = vec![];
//! t.expire(Duration::from_secs(6), live, |k, _| fired.push(k));
//! assert_eq!(fired, vec![2]);
//! t.purge(live);
//! assert_eq!(t.next(), Some(Duration::from_secs(9)));
//! # let _ = g1;
//! ```
#![deny(clippy::arithmetic_side_effects)]

use alloc::collections::BinaryHeap;
use core::cmp::{Ordering, Reverse};
use core::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
struct Item<K> {
    at: Duration,
    generation: u64,
    key: K,
}

impl<K: Eq> PartialOrd for Item<K> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<K: Eq> Ord for Item<K> {
    fn cmp(&self, other: &Self) -> Ordering {
        // Ties broken by generation (arming order), never by the key, so
        // the order of equal deadlines is the order they were armed.
        self.at
            .cmp(&other.at)
            .then(self.generation.cmp(&other.generation))
    }
}

/// Deadlines of many keyed timers. See the [module docs](self).
#[derive(Debug, Clone)]
pub struct TimerHeap<K> {
    heap: BinaryHeap<Reverse<Item<K>>>,
    next_generation: u64,
}

impl<K: Eq + Clone> Default for TimerHeap<K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Eq + Clone> TimerHeap<K> {
    /// An empty heap.
    pub fn new() -> Self {
        Self {
            heap: BinaryHeap::new(),
            next_generation: 1,
        }
    }

    /// Arms a timer for `key` at `at`; returns its generation, which the
    /// owner stores (any older generation of the same timer becomes stale).
    pub fn arm(&mut self, at: Duration, key: K) -> u64 {
        let generation = self.next_generation;
        self.next_generation = self.next_generation.saturating_add(1);
        self.heap.push(Reverse(Item {
            at,
            generation,
            key,
        }));
        generation
    }

    /// Drops stale items from the top so that [`TimerHeap::next`] is exact.
    /// Call after disarming or re-arming timers.
    pub fn purge(&mut self, mut live: impl FnMut(&K, u64) -> bool) {
        while let Some(Reverse(top)) = self.heap.peek() {
            if live(&top.key, top.generation) {
                break;
            }
            self.heap.pop();
        }
    }

    /// The earliest deadline (exact after [`TimerHeap::purge`]).
    pub fn next(&self) -> Option<Duration> {
        self.heap.peek().map(|Reverse(i)| i.at)
    }

    /// Pops every live item due at or before `now`, in deadline order, and
    /// gives it to `fire` (which may arm new timers through its own state;
    /// those are not fired in this call even if due).
    pub fn expire(
        &mut self,
        now: Duration,
        mut live: impl FnMut(&K, u64) -> bool,
        mut fire: impl FnMut(K, u64),
    ) {
        let mut due = alloc::vec::Vec::new();
        while let Some(Reverse(top)) = self.heap.peek() {
            if top.at > now {
                break;
            }
            if let Some(Reverse(item)) = self.heap.pop()
                && live(&item.key, item.generation)
            {
                due.push(item);
            }
        }
        for item in due {
            fire(item.key, item.generation);
        }
    }

    /// Items in the heap, stale ones included.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether the heap is empty.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Rebuilds the heap without stale items when they outnumber the live
    /// ones, bounding memory under churn.
    pub fn compact(&mut self, mut live: impl FnMut(&K, u64) -> bool, live_count: usize) {
        if self.heap.len() > live_count.saturating_mul(2).saturating_add(64) {
            self.heap.retain(|Reverse(i)| live(&i.key, i.generation));
        }
    }
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)]
mod tests {
    use super::*;
    use alloc::collections::BTreeMap;
    #[allow(unused_imports)]
    use alloc::vec;
    #[allow(unused_imports)]
    use alloc::vec::Vec;

    #[test]
    fn model_check_against_a_map() {
        // A simple deterministic pseudo-random sequence of operations.
        let mut x: u64 = 0x9e3779b97f4a7c15;
        let mut rnd = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut heap: TimerHeap<u8> = TimerHeap::new();
        let mut armed: BTreeMap<u8, (Duration, u64)> = BTreeMap::new();
        let mut now = Duration::ZERO;
        for _ in 0..20_000 {
            let key = (rnd() % 16) as u8;
            match rnd() % 4 {
                0 | 1 => {
                    let at = now + Duration::from_millis(rnd() % 1000);
                    let g = heap.arm(at, key);
                    armed.insert(key, (at, g));
                }
                2 => {
                    armed.remove(&key);
                }
                _ => {
                    now += Duration::from_millis(rnd() % 300);
                    let snapshot = armed.clone();
                    let live = |k: &u8, g: u64| snapshot.get(k).is_some_and(|(_, ag)| *ag == g);
                    let mut fired = alloc::vec::Vec::new();
                    heap.expire(now, live, |k, _| fired.push(k));
                    let mut expected: alloc::vec::Vec<(Duration, u64, u8)> = armed
                        .iter()
                        .filter(|(_, (at, _))| *at <= now)
                        .map(|(k, (at, g))| (*at, *g, *k))
                        .collect();
                    expected.sort();
                    assert_eq!(
                        fired,
                        expected.iter().map(|e| e.2).collect::<alloc::vec::Vec<_>>()
                    );
                    for k in &fired {
                        armed.remove(k);
                    }
                }
            }
            let snapshot = armed.clone();
            heap.purge(|k, g| snapshot.get(k).is_some_and(|(_, ag)| *ag == g));
            assert_eq!(heap.next(), armed.values().map(|(at, _)| *at).min());
            heap.compact(
                |k, g| snapshot.get(k).is_some_and(|(_, ag)| *ag == g),
                armed.len(),
            );
            assert!(heap.len() <= armed.len() * 2 + 65);
        }
    }
}
