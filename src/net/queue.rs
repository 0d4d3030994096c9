//! The event queue: deadline-ordered, stable for equal times.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::time::Duration;

/// One queued item: its time, its insertion number and the payload.
struct Entry<T> {
    at: Duration,
    seq: u64,
    item: T,
}

impl<T> PartialEq for Entry<T> {
    fn eq(&self, other: &Self) -> bool {
        self.at == other.at && self.seq == other.seq
    }
}

impl<T> Eq for Entry<T> {}

impl<T> PartialOrd for Entry<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<T> Ord for Entry<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        // BinaryHeap is a max-heap: reverse so the earliest (then the first
        // inserted) comes out first.
        other.at.cmp(&self.at).then(other.seq.cmp(&self.seq))
    }
}

/// A priority queue of items keyed by time.
///
/// Items with equal times come out in insertion order, so a simulation that
/// schedules the same things in the same order replays identically.
///
/// ```
/// use std::time::Duration;
/// use mobsim::net::EventQueue;
///
/// let mut q = EventQueue::new();
/// q.push(Duration::from_millis(5), "b");
/// q.push(Duration::from_millis(1), "a");
/// q.push(Duration::from_millis(5), "c");
/// assert_eq!(q.pop(), Some((Duration::from_millis(1), "a")));
/// assert_eq!(q.pop(), Some((Duration::from_millis(5), "b")));
/// assert_eq!(q.pop(), Some((Duration::from_millis(5), "c")));
/// assert_eq!(q.pop(), None);
/// ```
pub struct EventQueue<T> {
    heap: BinaryHeap<Entry<T>>,
    next_seq: u64,
}

impl<T> Default for EventQueue<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> EventQueue<T> {
    /// An empty queue.
    pub fn new() -> Self {
        Self {
            heap: BinaryHeap::new(),
            next_seq: 0,
        }
    }

    /// Queues `item` at time `at`.
    pub fn push(&mut self, at: Duration, item: T) {
        let seq = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1);
        self.heap.push(Entry { at, seq, item });
    }

    /// The time of the earliest item.
    pub fn peek_time(&self) -> Option<Duration> {
        self.heap.peek().map(|e| e.at)
    }

    /// Removes and returns the earliest item.
    pub fn pop(&mut self) -> Option<(Duration, T)> {
        self.heap.pop().map(|e| (e.at, e.item))
    }

    /// Number of queued items.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether the queue is empty.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_times_keep_insertion_order() {
        let mut q = EventQueue::new();
        for i in 0..100u32 {
            q.push(Duration::from_secs(u64::from(i % 3)), i);
        }
        let mut last = (Duration::ZERO, 0u32);
        let mut first = true;
        while let Some((t, i)) = q.pop() {
            if !first {
                assert!(
                    t > last.0 || (t == last.0 && i > last.1),
                    "{t:?} {i} after {last:?}"
                );
            }
            first = false;
            last = (t, i);
        }
    }
}
