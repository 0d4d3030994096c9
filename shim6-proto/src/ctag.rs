//! The 47-bit context tag allocator (RFC 5533 §4.1, §7.1, Appendix C).
//!
//! - Every live tag is unique on the host: payload extension headers are
//!   demultiplexed on the tag alone (§7.1: "the Context Tag MUST be unique
//!   for each context").
//! - Tags are drawn uniformly at random from the injected crypto RNG, with
//!   no structure: all configured bits are random (§7.1 asks for at least
//!   30 unstructured random bits, so that off-path attackers cannot guess
//!   them).
//! - To minimise reuse (§7.1: the host "SHOULD randomly cycle through the
//!   unstructured tag name space"), a released tag waits in a bounded FIFO
//!   quarantine before it can be drawn again; Appendix C explains what a
//!   reused tag costs.
//! - For testing the recovery mechanisms, Appendix C.4 recommends a small
//!   tag space ("keep the top 40 bits as zero ... 128 unique Context
//!   Tags"): [`CtagConfig::bits`] does that. Below 30 bits the allocator no
//!   longer meets §7.1; use it for tests only.
//!
//! Allocation is O(log n) expected: a few random draws, then, when the
//! space is nearly full, a scan of at most `live + quarantined + 1`
//! consecutive values from a random start, which must meet a free tag.
#![deny(clippy::arithmetic_side_effects)]

use alloc::collections::{BTreeSet, VecDeque};

use rand_core::CryptoRng;

use crate::error::{ConfigError, CtagError};
use crate::wire::ContextTag;

/// Random draws before falling back to a scan.
const DRAWS: usize = 32;

/// Configuration of a [`ContextTagAllocator`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CtagConfig {
    /// Random bits per tag (1..=47; 47, the default, is the whole space).
    pub bits: u32,
    /// At most this many live tags (contexts) at once.
    pub max_live: usize,
    /// Released tags kept out of circulation, oldest first out.
    pub quarantine: usize,
}

impl Default for CtagConfig {
    fn default() -> Self {
        Self {
            bits: ContextTag::BITS,
            max_live: 1 << 20,
            quarantine: 4096,
        }
    }
}

impl CtagConfig {
    /// Checks the configuration.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.bits == 0 || self.bits > ContextTag::BITS {
            return Err(ConfigError::ContextTagBits(self.bits));
        }
        if self.max_live == 0 {
            return Err(ConfigError::ZeroBound);
        }
        Ok(())
    }

    /// Number of tags in the space, `2^bits`.
    fn space(&self) -> u64 {
        1u64.checked_shl(self.bits).unwrap_or(u64::MAX)
    }
}

/// Hands out unique, random context tags and takes them back.
#[derive(Debug, Clone)]
pub struct ContextTagAllocator {
    cfg: CtagConfig,
    mask: u64,
    live: BTreeSet<u64>,
    quarantined: BTreeSet<u64>,
    quarantine: VecDeque<u64>,
}

impl ContextTagAllocator {
    /// An empty allocator.
    pub fn new(cfg: CtagConfig) -> Result<Self, ConfigError> {
        cfg.validate()?;
        Ok(Self {
            mask: cfg.space().saturating_sub(1),
            cfg,
            live: BTreeSet::new(),
            quarantined: BTreeSet::new(),
            quarantine: VecDeque::new(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &CtagConfig {
        &self.cfg
    }

    /// Number of live tags.
    pub fn live(&self) -> usize {
        self.live.len()
    }

    /// Whether `tag` is live (allocated and not released).
    pub fn is_live(&self, tag: ContextTag) -> bool {
        self.live.contains(&tag.get())
    }

    /// Whether `tag` was released recently and is not handed out again yet.
    pub fn is_quarantined(&self, tag: ContextTag) -> bool {
        self.quarantined.contains(&tag.get())
    }

    fn free(&self, v: u64) -> bool {
        !self.live.contains(&v) && !self.quarantined.contains(&v)
    }

    fn release_oldest(&mut self) -> bool {
        match self.quarantine.pop_front() {
            Some(old) => {
                self.quarantined.remove(&old);
                true
            }
            None => false,
        }
    }

    /// Allocates a fresh tag from `rng`. Errors: [`CtagError::Full`] at
    /// `max_live` live tags, [`CtagError::Exhausted`] when every tag of the
    /// space is live.
    pub fn allocate<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
    ) -> Result<ContextTag, CtagError> {
        if self.live.len() >= self.cfg.max_live {
            return Err(CtagError::Full);
        }
        let space = self.cfg.space();
        let live = u64::try_from(self.live.len()).unwrap_or(u64::MAX);
        if live >= space {
            return Err(CtagError::Exhausted);
        }
        // Keep at least one tag free: shorten the quarantine if it fills the space.
        while u64::try_from(self.live.len().saturating_add(self.quarantined.len()))
            .unwrap_or(u64::MAX)
            >= space
        {
            if !self.release_oldest() {
                return Err(CtagError::Exhausted);
            }
        }
        for _ in 0..DRAWS {
            let v = rng.next_u64() & self.mask;
            if self.free(v) {
                return Ok(self.take(v));
            }
        }
        // Nearly full: scan from a random start; among occupied + 1
        // consecutive values at least one is free.
        let occupied = self.live.len().saturating_add(self.quarantined.len());
        let mut v = rng.next_u64() & self.mask;
        for _ in 0..=occupied {
            if self.free(v) {
                return Ok(self.take(v));
            }
            v = v.wrapping_add(1) & self.mask;
        }
        Err(CtagError::Exhausted)
    }

    //= https://www.rfc-editor.org/rfc/rfc5533#section-7.1
    //# Since the Shim6 Payload Extension headers are
    //# demultiplexed based solely on the Context Tag value (without using
    //# the locators), the Context Tag MUST be unique for each context.
    fn take(&mut self, v: u64) -> ContextTag {
        self.live.insert(v);
        ContextTag::from_bits_truncate(v)
    }

    /// Marks `tag` as the local tag of a context; false when it is already
    /// live or outside the configured space (for restoring state).
    pub fn reserve(&mut self, tag: ContextTag) -> bool {
        let v = tag.get();
        if v & !self.mask != 0 || self.live.contains(&v) || self.live.len() >= self.cfg.max_live {
            return false;
        }
        if self.quarantined.remove(&v) {
            self.quarantine.retain(|q| *q != v);
        }
        self.live.insert(v);
        true
    }

    /// Releases `tag` into the quarantine; false when it was not live.
    pub fn release(&mut self, tag: ContextTag) -> bool {
        let v = tag.get();
        if !self.live.remove(&v) {
            return false;
        }
        if self.cfg.quarantine > 0 {
            if self.quarantine.len() >= self.cfg.quarantine {
                self.release_oldest();
            }
            self.quarantine.push_back(v);
            self.quarantined.insert(v);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    fn rng(seed: u64) -> ChaCha20Rng {
        ChaCha20Rng::seed_from_u64(seed)
    }

    #[test]
    fn config_validation() {
        for bits in [0, 48, 64] {
            let cfg = CtagConfig {
                bits,
                ..CtagConfig::default()
            };
            assert_eq!(
                ContextTagAllocator::new(cfg).unwrap_err(),
                ConfigError::ContextTagBits(bits)
            );
        }
        let cfg = CtagConfig {
            max_live: 0,
            ..CtagConfig::default()
        };
        assert_eq!(
            ContextTagAllocator::new(cfg).unwrap_err(),
            ConfigError::ZeroBound
        );
    }

    #[test]
    fn unique_and_within_47_bits() {
        let mut a = ContextTagAllocator::new(CtagConfig::default()).unwrap();
        let mut r = rng(1);
        let mut seen = BTreeSet::new();
        let mut high = 0;
        for _ in 0..2000 {
            let t = a.allocate(&mut r).unwrap();
            assert!(t.get() < 1 << 47);
            assert!(seen.insert(t.get()));
            if t.get() >= 1 << 46 {
                high += 1;
            }
        }
        assert_eq!(a.live(), 2000);
        // Uniform over 47 bits: about half have the top bit (binomial, 2000 draws).
        assert!((800..1200).contains(&high), "{high}");
    }

    #[test]
    fn small_space_fills_exactly_and_refuses() {
        // Appendix C.4's test setting: 7 bits, 128 tags.
        let cfg = CtagConfig {
            bits: 7,
            max_live: 1000,
            quarantine: 16,
        };
        let mut a = ContextTagAllocator::new(cfg).unwrap();
        let mut r = rng(2);
        let mut seen = BTreeSet::new();
        for _ in 0..128 {
            assert!(seen.insert(a.allocate(&mut r).unwrap().get()));
        }
        assert_eq!(seen, (0..128).collect());
        assert_eq!(a.allocate(&mut r), Err(CtagError::Exhausted));
        // Released tags are quarantined but the space wins when nothing else is free.
        let t = ContextTag::new(5).unwrap();
        assert!(a.release(t));
        assert!(a.is_quarantined(t));
        assert_eq!(a.allocate(&mut r), Ok(t));
        assert!(!a.release(ContextTag::new(200).unwrap()));
    }

    #[test]
    fn quarantine_delays_reuse() {
        let cfg = CtagConfig {
            bits: 4,
            max_live: 16,
            quarantine: 8,
        };
        let mut a = ContextTagAllocator::new(cfg).unwrap();
        let mut r = rng(3);
        let first = a.allocate(&mut r).unwrap();
        assert!(a.release(first));
        // 8 tags of 16 are free and not quarantined: the first tag does not
        // come back among the next 7 allocations.
        for _ in 0..7 {
            let t = a.allocate(&mut r).unwrap();
            assert_ne!(t, first);
        }
    }

    #[test]
    fn max_live_bound() {
        let cfg = CtagConfig {
            max_live: 3,
            ..CtagConfig::default()
        };
        let mut a = ContextTagAllocator::new(cfg).unwrap();
        let mut r = rng(4);
        let tags: Vec<_> = (0..3).map(|_| a.allocate(&mut r).unwrap()).collect();
        assert_eq!(a.allocate(&mut r), Err(CtagError::Full));
        assert!(a.release(tags[1]));
        assert!(a.allocate(&mut r).is_ok());
        assert!(!a.reserve(tags[0]));
    }

    #[test]
    fn same_seed_same_tags() {
        let run = |seed| {
            let mut a = ContextTagAllocator::new(CtagConfig::default()).unwrap();
            let mut r = rng(seed);
            (0..10)
                .map(|_| a.allocate(&mut r).unwrap().get())
                .collect::<Vec<_>>()
        };
        assert_eq!(run(9), run(9));
        assert_ne!(run(9), run(10));
    }
}
