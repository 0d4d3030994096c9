//! When to establish a context: the trigger heuristic, a replaceable
//! policy (RFC 5533 §7.7 leaves it to the implementation; seed 003 §3.1,
//! §3.4 describe LinShim6's).
//!
//! The driver reports upper-layer traffic between two ULIDs that have no
//! context with [`Shim6Host::offer_traffic`](crate::endpoint::Shim6Host::offer_traffic);
//! the host asks its caller's [`TriggerPolicy`] and establishes when it
//! says so. [`LinShim6Trigger`] is LinShim6's heuristic:
//!
//! - establish once `trigger_bytes` (default 2 KB) have flowed between the
//!   pair, or once traffic is still flowing `trigger_time` (default 60 s)
//!   after it was first seen (seed 003 §3.1);
//! - a server never initiates (§3.4: it only answers I1s and creates state
//!   on valid I2s);
//! - skip peers whose ULID has a modified EUI-64 interface identifier
//!   (`ff:fe` in its middle octets): such addresses are neither HBAs nor
//!   CGAs, so the peer most probably has no Shim6 (§3.4);
//! - no establishment beyond `max_contexts` concurrent contexts (§3.4).
//!
//! ```
//! use core::time::Duration;
//! use shim6_proto::heuristic::{LinShim6Trigger, TriggerConfig, TriggerPolicy};
//!
//! let mut t = LinShim6Trigger::new(TriggerConfig::default());
//! let (a, b) = ("2001:db8:a::1".parse().unwrap(), "2001:db8:b::1".parse().unwrap());
//! assert!(!t.on_traffic(Duration::ZERO, a, b, 1500, 0));
//! assert!(t.on_traffic(Duration::from_millis(10), a, b, 600, 0)); // 2100 bytes >= 2048
//! ```
#![deny(clippy::arithmetic_side_effects)]

use alloc::collections::BTreeMap;
use core::net::Ipv6Addr;
use core::time::Duration;

/// Decides when upper-layer traffic between two ULIDs warrants a context.
pub trait TriggerPolicy {
    /// `bytes` of upper-layer traffic (either direction) between
    /// `local_ulid` and `peer_ulid`, which have no context, at `now`;
    /// `contexts` is the host's current number of contexts. True: establish
    /// now.
    fn on_traffic(
        &mut self,
        now: Duration,
        local_ulid: Ipv6Addr,
        peer_ulid: Ipv6Addr,
        bytes: usize,
        contexts: usize,
    ) -> bool;

    /// The pair got a context (or establishment was refused): forget its
    /// accounting.
    fn forget(&mut self, local_ulid: Ipv6Addr, peer_ulid: Ipv6Addr);
}

/// Never establishes (a server, seed 003 §3.4).
#[derive(Debug, Clone, Copy, Default)]
pub struct Never;

impl TriggerPolicy for Never {
    fn on_traffic(&mut self, _: Duration, _: Ipv6Addr, _: Ipv6Addr, _: usize, _: usize) -> bool {
        false
    }

    fn forget(&mut self, _: Ipv6Addr, _: Ipv6Addr) {}
}

/// Configuration of [`LinShim6Trigger`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TriggerConfig {
    /// Establish after this many bytes (seed 003: 2 KB).
    pub trigger_bytes: u64,
    /// Or when traffic still flows this long after it started (seed 003:
    /// one minute).
    pub trigger_time: Duration,
    /// Never initiate.
    pub server_mode: bool,
    /// Skip peers whose ULID has an `ff:fe` (EUI-64) interface identifier.
    pub skip_eui64: bool,
    /// Do not establish while the host has this many contexts.
    pub max_contexts: usize,
    /// Most pairs accounted at once; a new pair beyond it is not tracked
    /// (counted) until older ones go quiet.
    pub max_flows: usize,
}

impl Default for TriggerConfig {
    fn default() -> Self {
        Self {
            trigger_bytes: 2048,
            trigger_time: Duration::from_secs(60),
            server_mode: false,
            skip_eui64: true,
            max_contexts: 1024,
            max_flows: 4096,
        }
    }
}

/// Counters of [`LinShim6Trigger`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TriggerStats {
    /// Establishments decided.
    pub triggered: u64,
    /// Reports ignored for an EUI-64 peer.
    pub skipped_eui64: u64,
    /// Triggers suppressed by `max_contexts`.
    pub suppressed_cap: u64,
    /// New pairs not tracked because the flow table was full.
    pub flows_refused: u64,
}

#[derive(Debug, Clone, Copy)]
struct Flow {
    first: Duration,
    last: Duration,
    bytes: u64,
}

/// LinShim6's trigger heuristic (see the [module docs](self)).
#[derive(Debug, Clone)]
pub struct LinShim6Trigger {
    cfg: TriggerConfig,
    flows: BTreeMap<(Ipv6Addr, Ipv6Addr), Flow>,
    stats: TriggerStats,
}

/// Whether the interface identifier of `a` is a modified EUI-64 one
/// (octets 11 and 12 are `ff fe`, RFC 4291 Appendix A).
#[must_use]
pub fn is_eui64(a: &Ipv6Addr) -> bool {
    let o = a.octets();
    matches!((o.get(11), o.get(12)), (Some(0xff), Some(0xfe)))
}

impl LinShim6Trigger {
    /// A heuristic with no flows.
    #[must_use]
    pub fn new(cfg: TriggerConfig) -> Self {
        Self {
            cfg,
            flows: BTreeMap::new(),
            stats: TriggerStats::default(),
        }
    }

    /// Counters.
    #[must_use]
    pub fn stats(&self) -> TriggerStats {
        self.stats
    }

    /// Pairs being accounted.
    #[must_use]
    pub fn flows(&self) -> usize {
        self.flows.len()
    }

    /// Forgets pairs quiet for `trigger_time`.
    fn expire(&mut self, now: Duration) {
        let quiet = self.cfg.trigger_time;
        self.flows.retain(|_, f| now.saturating_sub(f.last) < quiet);
    }
}

impl TriggerPolicy for LinShim6Trigger {
    fn on_traffic(
        &mut self,
        now: Duration,
        local_ulid: Ipv6Addr,
        peer_ulid: Ipv6Addr,
        bytes: usize,
        contexts: usize,
    ) -> bool {
        if self.cfg.server_mode {
            return false;
        }
        if self.cfg.skip_eui64 && is_eui64(&peer_ulid) {
            self.stats.skipped_eui64 = self.stats.skipped_eui64.saturating_add(1);
            return false;
        }
        let key = (local_ulid, peer_ulid);
        if !self.flows.contains_key(&key) && self.flows.len() >= self.cfg.max_flows {
            self.expire(now);
            if self.flows.len() >= self.cfg.max_flows {
                self.stats.flows_refused = self.stats.flows_refused.saturating_add(1);
                return false;
            }
        }
        let f = self.flows.entry(key).or_insert(Flow {
            first: now,
            last: now,
            bytes: 0,
        });
        if now.saturating_sub(f.last) >= self.cfg.trigger_time {
            // The flow went quiet for a whole period: start counting again.
            *f = Flow {
                first: now,
                last: now,
                bytes: 0,
            };
        }
        f.last = now.max(f.last);
        f.bytes = f
            .bytes
            .saturating_add(u64::try_from(bytes).unwrap_or(u64::MAX));
        let due = f.bytes >= self.cfg.trigger_bytes
            || now.saturating_sub(f.first) >= self.cfg.trigger_time;
        if !due {
            return false;
        }
        if contexts >= self.cfg.max_contexts {
            self.stats.suppressed_cap = self.stats.suppressed_cap.saturating_add(1);
            return false;
        }
        self.flows.remove(&key);
        self.stats.triggered = self.stats.triggered.saturating_add(1);
        true
    }

    fn forget(&mut self, local_ulid: Ipv6Addr, peer_ulid: Ipv6Addr) {
        self.flows.remove(&(local_ulid, peer_ulid));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    #[test]
    fn bytes_or_time() {
        let mut t = LinShim6Trigger::new(TriggerConfig::default());
        let (l, p) = (a("2001:db8:a::1"), a("2001:db8:b::1"));
        // 2047 bytes: not yet; the 2048th does it.
        assert!(!t.on_traffic(Duration::ZERO, l, p, 2047, 0));
        assert!(t.on_traffic(Duration::from_secs(1), l, p, 1, 0));
        assert_eq!(t.flows(), 0);
        // A trickle: 10 bytes every 10 s triggers at 60 s, not before.
        let p2 = a("2001:db8:c::1");
        for s in (100..160).step_by(10) {
            assert!(!t.on_traffic(Duration::from_secs(s), l, p2, 10, 0), "{s}");
        }
        assert!(t.on_traffic(Duration::from_secs(160), l, p2, 10, 0));
        assert_eq!(t.stats().triggered, 2);
    }

    #[test]
    fn quiet_flow_starts_over() {
        let mut t = LinShim6Trigger::new(TriggerConfig::default());
        let (l, p) = (a("2001:db8:a::1"), a("2001:db8:b::1"));
        assert!(!t.on_traffic(Duration::ZERO, l, p, 2000, 0));
        // 60 s of silence: the 2000 bytes are forgotten.
        assert!(!t.on_traffic(Duration::from_secs(60), l, p, 100, 0));
        assert!(!t.on_traffic(Duration::from_secs(61), l, p, 1000, 0));
        assert!(t.on_traffic(Duration::from_secs(62), l, p, 948, 0));
    }

    #[test]
    fn server_eui64_and_caps() {
        let (l, p) = (a("2001:db8:a::1"), a("2001:db8:b::1"));
        let mut s = LinShim6Trigger::new(TriggerConfig {
            server_mode: true,
            ..TriggerConfig::default()
        });
        assert!(!s.on_traffic(Duration::ZERO, l, p, 1 << 20, 0));
        assert!(!s.on_traffic(Duration::from_secs(600), l, p, 1 << 20, 0));
        let mut t = LinShim6Trigger::new(TriggerConfig {
            max_contexts: 2,
            max_flows: 1,
            ..TriggerConfig::default()
        });
        let mac = a("2001:db8:b::211:22ff:fe33:4455");
        assert!(is_eui64(&mac));
        assert!(!is_eui64(&p));
        assert!(!t.on_traffic(Duration::ZERO, l, mac, 1 << 20, 0));
        assert_eq!(t.stats().skipped_eui64, 1);
        // At the context cap: suppressed, and still counted for later.
        assert!(!t.on_traffic(Duration::ZERO, l, p, 4096, 2));
        assert_eq!(t.stats().suppressed_cap, 1);
        assert!(t.on_traffic(Duration::from_secs(1), l, p, 1, 1));
        // One flow at most: a second pair is refused while the first is live.
        assert!(!t.on_traffic(Duration::from_secs(2), l, p, 1, 0));
        assert!(!t.on_traffic(Duration::from_secs(3), l, a("2001:db8:d::1"), 4096, 0));
        assert_eq!(t.stats().flows_refused, 1);
        assert!(!Never.on_traffic(Duration::ZERO, l, p, usize::MAX, 0));
    }
}
