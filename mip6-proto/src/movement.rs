//! Movement detection: SHISA's babymdd, with the kernel behaviour it relies
//! on, as a sans-IO machine.
//!
//! The detector watches the mobile node's interfaces: router advertisements,
//! neighbour-unreachability (NUD) results for routers, duplicate address
//! detection (DAD) results and link state go in; it answers with
//! [`Movement`]s ("moved: here is the new care-of address", "returned
//! home") and with [`MdRequest`]s for the driver (send a Router
//! Solicitation, probe a router's reachability, run DAD on a new address).
//! Any other detector (link-layer triggers, say) can drive the mobile node
//! instead by implementing [`MovementDetector`].
//!
//! ## The algorithm (`shisa-fsm.md` §4, seed 002 §4.6)
//! Kernel side:
//! - K1: every router advertisement puts each router of that interface in
//!   reachability probing: the driver is asked to probe it (NUD).
//! - K2: a router that fails NUD, or whose router lifetime ends, is removed;
//!   the addresses of prefixes left with no reachable advertising router are
//!   DETACHED. A later advertisement of the prefix re-attaches the address:
//!   DETACHED cleared, TENTATIVE set, DAD run again.
//! - K3: an advertised prefix equal to a home prefix is not autoconfigured:
//!   it is a home hint. The home address then counts as an address of the
//!   interface advertised by that router, so K2 detaches it when the home
//!   routers become unreachable (the node left home) and the next home
//!   advertisement re-attaches it (no DAD: SHISA marks it NODAD).
//! - K4: when a link goes down, its default routers' remaining lifetime is
//!   clamped to at most 2 s.
//!
//! babymdd side:
//! - B1: a home hint on a watched interface: location HOME; that interface's
//!   candidate is the home address; no primary interface.
//! - B2: a new usable address: recompute the interface's candidate.
//! - B3: an address removed: at home on the primary interface with an
//!   address of a home prefix, forget the candidates and the location; then
//!   recompute as babymdd does.
//! - B4: an address DETACHED: a care-of address is removed (B3); a home
//!   address clears the candidates and the location.
//! - B5: link up: send a Router Solicitation; link down: clamp (K4), then
//!   send a Router Solicitation.
//!
//! The candidate care-of address of an interface is its last usable global
//! address: not DUPLICATED, not DETACHED and (\[SPEC]) not TENTATIVE.
//!
//! Selection, with the \[SPEC] corrections of `shisa-fsm.md` §4: at HOME,
//! the first interface whose candidate is a home address becomes the
//! primary interface (once: no repeated RETURNED HOME) and every home
//! address is reported returned home. Otherwise interfaces are walked in
//! priority order; the first one with a candidate that differs from what it
//! last reported takes over when there is no primary interface, when it has
//! a strictly better priority, or when the primary interface has lost its
//! candidate; every home address is then reported moved to its candidate
//! (nothing is reported when the candidate lies in a home prefix).
#![deny(clippy::arithmetic_side_effects)]

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::net::Ipv6Addr;
use core::time::Duration;

use crate::event::in_prefix;

/// K4: the longest remaining router lifetime after the link goes down.
pub const SCAN_ROUTER_LIFETIME: Duration = Duration::from_secs(2);

/// What a detector tells the mobile node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Movement {
    /// The node is away from home: register `care_of` for `home`.
    Moved {
        /// The home address.
        home: Ipv6Addr,
        /// The new care-of address.
        care_of: Ipv6Addr,
        /// The interface (the driver's index) the care-of address is on.
        iface: u32,
        /// The Binding Identifier configured for that interface (RFC 5648).
        bid: Option<u16>,
    },
    /// The node is back on its home link.
    ReturnedHome {
        /// The home address.
        home: Ipv6Addr,
        /// The interface on the home link.
        iface: u32,
    },
}

/// A movement detector the mobile node can be driven by.
pub trait MovementDetector {
    /// The next movement to act on.
    fn poll_movement(&mut self) -> Option<Movement>;
    /// The next deadline of the detector.
    fn poll_timeout(&self) -> Option<Duration>;
    /// The deadline has passed (spurious calls are no-ops).
    fn handle_timeout(&mut self, now: Duration);
}

/// What the detector asks its driver to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MdRequest {
    /// Send a Router Solicitation to all-routers on `iface`.
    SendRouterSolicitation {
        /// Interface.
        iface: u32,
    },
    /// Probe the reachability of `router` (NUD) and report it with
    /// [`Babymdd::handle_nud_result`].
    ProbeRouter {
        /// Interface.
        iface: u32,
        /// The router's address.
        router: Ipv6Addr,
    },
    /// Run DAD on `addr` and report it with [`Babymdd::handle_dad_result`].
    StartDad {
        /// Interface.
        iface: u32,
        /// The tentative address.
        addr: Ipv6Addr,
    },
    /// `addr` is gone from `iface`.
    RemoveAddress {
        /// Interface.
        iface: u32,
        /// The address.
        addr: Ipv6Addr,
    },
}

/// One prefix of a router advertisement (its Prefix Information option).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdvertisedPrefix {
    /// The prefix.
    pub prefix: Ipv6Addr,
    /// Its length.
    pub len: u8,
    /// The A (autonomous configuration) flag.
    pub autonomous: bool,
    /// Valid lifetime.
    pub valid: Duration,
}

/// A watched interface, in priority order in [`MdConfig::interfaces`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MdInterface {
    /// The driver's interface index.
    pub iface: u32,
    /// Interface identifier used to form addresses from /64 prefixes.
    pub iid: [u8; 8],
    /// Binding Identifier of care-of addresses on this interface.
    pub bid: Option<u16>,
}

/// Configuration of [`Babymdd`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MdConfig {
    /// Home addresses with their home prefix lengths.
    pub home: Vec<(Ipv6Addr, u8)>,
    /// Watched interfaces, best first.
    pub interfaces: Vec<MdInterface>,
    /// Most routers remembered per interface.
    pub max_routers: usize,
    /// Most addresses per interface.
    pub max_addresses: usize,
}

/// Where the node is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// Not known yet.
    Unknown,
    /// On the home link.
    Home,
    /// Away from home.
    Foreign,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Router {
    addr: Ipv6Addr,
    expires: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Addr {
    addr: Ipv6Addr,
    tentative: bool,
    duplicated: bool,
    detached: bool,
    valid_until: Duration,
}

#[derive(Debug, Clone)]
struct Iface {
    cfg: MdInterface,
    link_up: bool,
    routers: Vec<Router>,
    /// (address, routers that advertise its prefix)
    addrs: Vec<(Addr, Vec<Ipv6Addr>)>,
    coa: Option<Ipv6Addr>,
    pcoa: Option<Ipv6Addr>,
}

/// Counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MdStats {
    /// Router advertisements processed.
    pub router_advertisements: u64,
    /// Inputs for an interface that is not watched.
    pub unknown_interface: u64,
    /// Routers or addresses refused because a table was full.
    pub table_full: u64,
    /// Movements reported.
    pub movements: u64,
}

/// SHISA's babymdd with its kernel part. See the [module docs](self).
#[derive(Debug)]
pub struct Babymdd {
    cfg: MdConfig,
    ifaces: Vec<Iface>,
    location: Location,
    primary: Option<usize>,
    movements: VecDeque<Movement>,
    requests: VecDeque<MdRequest>,
    stats: MdStats,
}

fn is_global(a: Ipv6Addr) -> bool {
    !(a.is_unspecified() || a.is_loopback() || a.is_multicast() || a.is_unicast_link_local())
}

impl Babymdd {
    /// A detector for `cfg` at time `now`; the location starts unknown.
    pub fn new(cfg: MdConfig) -> Self {
        let ifaces = cfg
            .interfaces
            .iter()
            .map(|c| Iface {
                cfg: *c,
                link_up: false,
                routers: Vec::new(),
                addrs: Vec::new(),
                coa: None,
                pcoa: None,
            })
            .collect();
        Self {
            cfg,
            ifaces,
            location: Location::Unknown,
            primary: None,
            movements: VecDeque::new(),
            requests: VecDeque::new(),
            stats: MdStats::default(),
        }
    }

    /// Where the node is.
    pub fn location(&self) -> Location {
        self.location
    }

    /// The interface carrying the current care-of address.
    pub fn primary_iface(&self) -> Option<u32> {
        self.primary
            .and_then(|i| self.ifaces.get(i))
            .map(|i| i.cfg.iface)
    }

    /// Counters.
    pub fn stats(&self) -> MdStats {
        self.stats
    }

    /// The next request for the driver.
    pub fn poll_request(&mut self) -> Option<MdRequest> {
        self.requests.pop_front()
    }

    fn index(&mut self, iface: u32) -> Option<usize> {
        let i = self.ifaces.iter().position(|x| x.cfg.iface == iface);
        if i.is_none() {
            self.stats.unknown_interface = self.stats.unknown_interface.saturating_add(1);
        }
        i
    }

    fn home_prefix_of(&self, a: Ipv6Addr) -> Option<Ipv6Addr> {
        self.cfg
            .home
            .iter()
            .find(|(h, len)| in_prefix(a, *h, *len))
            .map(|(h, _)| *h)
    }

    /// A router advertisement from `router` arrived on `iface`.
    pub fn handle_router_advertisement(
        &mut self,
        now: Duration,
        iface: u32,
        router: Ipv6Addr,
        router_lifetime: Duration,
        prefixes: &[AdvertisedPrefix],
    ) {
        let Some(i) = self.index(iface) else { return };
        self.stats.router_advertisements = self.stats.router_advertisements.saturating_add(1);
        let max_routers = self.cfg.max_routers;
        let max_addrs = self.cfg.max_addresses;
        let home: Vec<(Ipv6Addr, u8)> = self.cfg.home.clone();
        let mut table_full = 0u64;
        let mut home_hint: Option<Ipv6Addr> = None;
        let mut changed = false;
        if let Some(x) = self.ifaces.get_mut(i) {
            // K1: probe every known router of the interface.
            for r in &x.routers {
                self.requests.push_back(MdRequest::ProbeRouter {
                    iface,
                    router: r.addr,
                });
            }
            let expires = now.saturating_add(router_lifetime);
            let n_routers = x.routers.len();
            match x.routers.iter_mut().find(|r| r.addr == router) {
                Some(r) => r.expires = expires,
                None if router_lifetime.is_zero() => {}
                None if n_routers < max_routers => x.routers.push(Router {
                    addr: router,
                    expires,
                }),
                None => table_full = table_full.saturating_add(1),
            }
            if router_lifetime.is_zero() {
                x.routers.retain(|r| r.addr != router);
            }
            for p in prefixes.iter().filter(|p| p.autonomous && p.len == 64) {
                // K3: a home prefix is a hint, not an address to configure.
                if let Some((h, _)) = home
                    .iter()
                    .find(|(h, len)| in_prefix(*h, p.prefix, p.len) && *len == p.len)
                {
                    home_hint = Some(*h);
                    // The home address sits on the physical interface at
                    // home, and K2 watches its advertising routers like any
                    // other address's (shisa-fsm.md §4 K2: "the HoA on a
                    // physical interface included").
                    let valid_until = now.saturating_add(p.valid);
                    let n_addrs = x.addrs.len();
                    match x.addrs.iter_mut().find(|(a, _)| a.addr == *h) {
                        Some((a, adv)) => {
                            a.valid_until = valid_until;
                            a.detached = false;
                            if !adv.contains(&router) {
                                adv.push(router);
                            }
                        }
                        None if n_addrs < max_addrs => x.addrs.push((
                            Addr {
                                addr: *h,
                                tentative: false,
                                duplicated: false,
                                detached: false,
                                valid_until,
                            },
                            alloc::vec![router],
                        )),
                        None => table_full = table_full.saturating_add(1),
                    }
                    continue;
                }
                let mut o = p.prefix.octets();
                if let Some(tail) = o.get_mut(8..) {
                    tail.copy_from_slice(&x.cfg.iid);
                }
                let addr = Ipv6Addr::from(o);
                let valid_until = now.saturating_add(p.valid);
                let n_addrs = x.addrs.len();
                match x.addrs.iter_mut().find(|(a, _)| a.addr == addr) {
                    Some((a, adv)) => {
                        a.valid_until = valid_until;
                        if !adv.contains(&router) {
                            adv.push(router);
                        }
                        if a.detached {
                            // K2: re-attached: DAD again.
                            a.detached = false;
                            a.tentative = true;
                            self.requests.push_back(MdRequest::StartDad { iface, addr });
                            changed = true;
                        }
                    }
                    None if n_addrs < max_addrs => {
                        x.addrs.push((
                            Addr {
                                addr,
                                tentative: true,
                                duplicated: false,
                                detached: false,
                                valid_until,
                            },
                            alloc::vec![router],
                        ));
                        self.requests.push_back(MdRequest::StartDad { iface, addr });
                    }
                    None => table_full = table_full.saturating_add(1),
                }
            }
        }
        self.stats.table_full = self.stats.table_full.saturating_add(table_full);
        if let Some(hoa) = home_hint {
            // B1.
            let already = self.location == Location::Home
                && self.ifaces.get(i).is_some_and(|x| x.coa == Some(hoa));
            self.location = Location::Home;
            if let Some(x) = self.ifaces.get_mut(i) {
                x.coa = Some(hoa);
            }
            if !already {
                self.primary = None;
            }
            self.select();
        } else if changed {
            self.recompute(i);
            self.select();
        }
    }

    /// The result of DAD on `addr`.
    pub fn handle_dad_result(&mut self, iface: u32, addr: Ipv6Addr, unique: bool) {
        let Some(i) = self.index(iface) else { return };
        if let Some(x) = self.ifaces.get_mut(i)
            && let Some((a, _)) = x.addrs.iter_mut().find(|(a, _)| a.addr == addr)
        {
            a.tentative = false;
            a.duplicated = !unique;
        }
        // B2.
        self.recompute(i);
        self.select();
    }

    /// The result of probing `router` (K2 when unreachable).
    pub fn handle_nud_result(&mut self, iface: u32, router: Ipv6Addr, reachable: bool) {
        if reachable {
            return;
        }
        let Some(i) = self.index(iface) else { return };
        self.remove_router(i, router);
    }

    /// The link of `iface` went up or down (B5, K4).
    pub fn handle_link(&mut self, now: Duration, iface: u32, up: bool) {
        let Some(i) = self.index(iface) else { return };
        if let Some(x) = self.ifaces.get_mut(i) {
            x.link_up = up;
            if !up {
                let cap = now.saturating_add(SCAN_ROUTER_LIFETIME);
                for r in &mut x.routers {
                    r.expires = r.expires.min(cap);
                }
            }
        }
        self.requests
            .push_back(MdRequest::SendRouterSolicitation { iface });
    }

    fn remove_router(&mut self, i: usize, router: Ipv6Addr) {
        let mut detached_home = false;
        let mut detached_coas = Vec::new();
        let home = self.cfg.home.clone();
        let Some(x) = self.ifaces.get_mut(i) else {
            return;
        };
        x.routers.retain(|r| r.addr != router);
        for (a, adv) in &mut x.addrs {
            adv.retain(|r| *r != router);
            if adv.is_empty() && !a.detached {
                a.detached = true;
                if home.iter().any(|(h, _)| *h == a.addr) {
                    detached_home = true;
                } else {
                    detached_coas.push(a.addr);
                }
            }
        }
        // B4.
        for addr in detached_coas {
            self.remove_address(i, addr);
        }
        if detached_home {
            if let Some(x) = self.ifaces.get_mut(i) {
                x.coa = None;
                x.pcoa = None;
            }
            // [SPEC] B1's selection made this interface the primary one
            // (shisa-fsm.md §4: "set coaif"); its home candidate is gone,
            // so it is no longer primary, as B3 does for a deleted address.
            if self.primary == Some(i) {
                self.primary = None;
            }
            self.location = Location::Unknown;
            self.recompute(i);
            self.select();
        }
    }

    /// B3: `addr` leaves interface `i`.
    fn remove_address(&mut self, i: usize, addr: Ipv6Addr) {
        let home_prefix = self.home_prefix_of(addr).is_some();
        let at_home = self.location == Location::Home;
        let is_primary = self.primary == Some(i);
        let Some(x) = self.ifaces.get_mut(i) else {
            return;
        };
        x.addrs.retain(|(a, _)| a.addr != addr);
        let iface = x.cfg.iface;
        self.requests
            .push_back(MdRequest::RemoveAddress { iface, addr });
        if at_home && is_primary && home_prefix {
            x.coa = None;
            x.pcoa = None;
            self.location = Location::Unknown;
        }
        if is_primary {
            self.primary = None;
        }
        if x.coa == Some(addr) {
            x.coa = None;
        }
        self.recompute(i);
        self.select();
    }

    /// B2: the candidate care-of address of interface `i`.
    fn recompute(&mut self, i: usize) {
        let at_home = self.location == Location::Home;
        let Some(x) = self.ifaces.get_mut(i) else {
            return;
        };
        if at_home
            && x.coa
                .is_some_and(|c| self.cfg.home.iter().any(|(h, _)| *h == c))
        {
            return; // B1 set it to the home address
        }
        x.coa = x
            .addrs
            .iter()
            .rev()
            .map(|(a, _)| a)
            .find(|a| !a.tentative && !a.duplicated && !a.detached && is_global(a.addr))
            .map(|a| a.addr);
    }

    fn select(&mut self) {
        if self.location == Location::Home {
            let Some(i) = self.ifaces.iter().position(|x| {
                x.coa
                    .is_some_and(|c| self.cfg.home.iter().any(|(h, _)| *h == c))
            }) else {
                return;
            };
            if self.primary == Some(i) {
                return; // [SPEC] de-duplicated
            }
            self.primary = Some(i);
            let iface = self.ifaces.get(i).map(|x| x.cfg.iface).unwrap_or_default();
            for (home, _) in &self.cfg.home {
                self.movements
                    .push_back(Movement::ReturnedHome { home: *home, iface });
                self.stats.movements = self.stats.movements.saturating_add(1);
            }
            return;
        }
        let primary_lost = self
            .primary
            .and_then(|p| self.ifaces.get(p))
            .is_none_or(|x| x.coa.is_none());
        for i in 0..self.ifaces.len() {
            let Some(x) = self.ifaces.get(i) else {
                continue;
            };
            let Some(coa) = x.coa else { continue };
            if x.pcoa == Some(coa) && self.primary == Some(i) {
                continue;
            }
            if x.pcoa == Some(coa) && !primary_lost {
                continue;
            }
            let better = self.primary.is_none_or(|p| i < p);
            if !(better || primary_lost) {
                continue;
            }
            let (iface, bid) = (x.cfg.iface, x.cfg.bid);
            if self.home_prefix_of(coa).is_none() {
                for (home, _) in &self.cfg.home {
                    self.movements.push_back(Movement::Moved {
                        home: *home,
                        care_of: coa,
                        iface,
                        bid,
                    });
                    self.stats.movements = self.stats.movements.saturating_add(1);
                }
            }
            if let Some(x) = self.ifaces.get_mut(i) {
                x.pcoa = Some(coa);
            }
            self.primary = Some(i);
            self.location = Location::Foreign;
            return;
        }
    }
}

impl MovementDetector for Babymdd {
    fn poll_movement(&mut self) -> Option<Movement> {
        self.movements.pop_front()
    }

    fn poll_timeout(&self) -> Option<Duration> {
        self.ifaces
            .iter()
            .flat_map(|x| {
                x.routers
                    .iter()
                    .map(|r| r.expires)
                    .chain(x.addrs.iter().map(|(a, _)| a.valid_until))
            })
            .min()
    }

    fn handle_timeout(&mut self, now: Duration) {
        for i in 0..self.ifaces.len() {
            let expired_routers: Vec<Ipv6Addr> = self
                .ifaces
                .get(i)
                .map(|x| {
                    x.routers
                        .iter()
                        .filter(|r| r.expires <= now)
                        .map(|r| r.addr)
                        .collect()
                })
                .unwrap_or_default();
            for r in expired_routers {
                self.remove_router(i, r);
            }
            let expired_addrs: Vec<Ipv6Addr> = self
                .ifaces
                .get(i)
                .map(|x| {
                    x.addrs
                        .iter()
                        .filter(|(a, _)| a.valid_until <= now)
                        .map(|(a, _)| a.addr)
                        .collect()
                })
                .unwrap_or_default();
            for a in expired_addrs {
                self.remove_address(i, a);
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)]
mod tests {
    use super::*;
    #[allow(unused_imports)]
    use alloc::vec;
    #[allow(unused_imports)]
    use alloc::vec::Vec;

    fn a(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }
    const IID: [u8; 8] = [0, 0, 0, 0, 0, 0, 0, 0x42];
    const S: Duration = Duration::from_secs(1);

    fn md(ifaces: &[(u32, Option<u16>)]) -> Babymdd {
        Babymdd::new(MdConfig {
            home: vec![(a("2001:db8:1::42"), 64)],
            interfaces: ifaces
                .iter()
                .map(|&(iface, bid)| MdInterface {
                    iface,
                    iid: IID,
                    bid,
                })
                .collect(),
            max_routers: 4,
            max_addresses: 4,
        })
    }

    fn ra(m: &mut Babymdd, now: Duration, iface: u32, router: &str, prefix: &str) {
        let p = AdvertisedPrefix {
            prefix: a(prefix),
            len: 64,
            autonomous: true,
            valid: 3600 * S,
        };
        m.handle_router_advertisement(now, iface, a(router), 1800 * S, &[p]);
    }

    fn requests(m: &mut Babymdd) -> Vec<MdRequest> {
        core::iter::from_fn(|| m.poll_request()).collect()
    }

    fn moves(m: &mut Babymdd) -> Vec<Movement> {
        core::iter::from_fn(|| m.poll_movement()).collect()
    }

    #[test]
    fn foreign_prefix_then_dad_reports_a_move() {
        let mut m = md(&[(1, None)]);
        ra(&mut m, S, 1, "fe80::2", "2001:db8:2::");
        assert_eq!(
            requests(&mut m),
            vec![MdRequest::StartDad {
                iface: 1,
                addr: a("2001:db8:2::42")
            }]
        );
        assert!(
            moves(&mut m).is_empty(),
            "a tentative address is not a care-of address [SPEC]"
        );
        m.handle_dad_result(1, a("2001:db8:2::42"), true);
        assert_eq!(
            moves(&mut m),
            vec![Movement::Moved {
                home: a("2001:db8:1::42"),
                care_of: a("2001:db8:2::42"),
                iface: 1,
                bid: None
            }]
        );
        assert_eq!(m.location(), Location::Foreign);
        // K1: the next advertisement probes the known router; nothing moves.
        ra(&mut m, 2 * S, 1, "fe80::2", "2001:db8:2::");
        assert_eq!(
            requests(&mut m),
            vec![MdRequest::ProbeRouter {
                iface: 1,
                router: a("fe80::2")
            }]
        );
        assert!(moves(&mut m).is_empty());
    }

    #[test]
    fn leaving_home_detaches_the_home_address_and_moves() {
        let mut m = md(&[(1, None)]);
        // At home: B1.
        ra(&mut m, S, 1, "fe80::1", "2001:db8:1::");
        let _ = requests(&mut m);
        assert_eq!(
            moves(&mut m),
            vec![Movement::ReturnedHome {
                home: a("2001:db8:1::42"),
                iface: 1
            }]
        );
        // On a foreign link: K1 probes the home router; NUD fails (K2), the
        // home address is detached (B4: location unknown, no primary).
        ra(&mut m, 10 * S, 1, "fe80::2", "2001:db8:2::");
        assert_eq!(
            requests(&mut m),
            vec![
                MdRequest::ProbeRouter {
                    iface: 1,
                    router: a("fe80::1")
                },
                MdRequest::StartDad {
                    iface: 1,
                    addr: a("2001:db8:2::42")
                }
            ]
        );
        m.handle_nud_result(1, a("fe80::1"), false);
        assert_eq!(m.location(), Location::Unknown);
        assert!(moves(&mut m).is_empty());
        // DAD done: B2 and the selection report the move.
        m.handle_dad_result(1, a("2001:db8:2::42"), true);
        assert_eq!(
            moves(&mut m),
            vec![Movement::Moved {
                home: a("2001:db8:1::42"),
                care_of: a("2001:db8:2::42"),
                iface: 1,
                bid: None
            }]
        );
        assert_eq!(m.location(), Location::Foreign);
        // Back home: the home advertisement re-attaches the home address.
        ra(&mut m, 20 * S, 1, "fe80::1", "2001:db8:1::");
        let _ = requests(&mut m);
        assert_eq!(
            moves(&mut m),
            vec![Movement::ReturnedHome {
                home: a("2001:db8:1::42"),
                iface: 1
            }]
        );
        assert_eq!(m.location(), Location::Home);
    }

    #[test]
    fn router_failure_detaches_and_a_new_network_moves_again() {
        let mut m = md(&[(1, Some(7))]);
        ra(&mut m, S, 1, "fe80::2", "2001:db8:2::");
        m.handle_dad_result(1, a("2001:db8:2::42"), true);
        moves(&mut m);
        requests(&mut m);
        // New link: a new router advertises; the old one fails NUD.
        ra(&mut m, 10 * S, 1, "fe80::3", "2001:db8:3::");
        m.handle_nud_result(1, a("fe80::2"), false);
        let r = requests(&mut m);
        assert!(
            r.contains(&MdRequest::RemoveAddress {
                iface: 1,
                addr: a("2001:db8:2::42")
            }),
            "{r:?}"
        );
        assert!(r.contains(&MdRequest::StartDad {
            iface: 1,
            addr: a("2001:db8:3::42")
        }));
        assert!(moves(&mut m).is_empty());
        m.handle_dad_result(1, a("2001:db8:3::42"), true);
        assert_eq!(
            moves(&mut m),
            vec![Movement::Moved {
                home: a("2001:db8:1::42"),
                care_of: a("2001:db8:3::42"),
                iface: 1,
                bid: Some(7)
            }]
        );
    }

    #[test]
    fn returning_home_is_reported_once() {
        let mut m = md(&[(1, None)]);
        ra(&mut m, S, 1, "fe80::2", "2001:db8:2::");
        m.handle_dad_result(1, a("2001:db8:2::42"), true);
        moves(&mut m);
        ra(&mut m, 5 * S, 1, "fe80::1", "2001:db8:1::");
        assert_eq!(
            moves(&mut m),
            vec![Movement::ReturnedHome {
                home: a("2001:db8:1::42"),
                iface: 1
            }]
        );
        assert_eq!(m.location(), Location::Home);
        ra(&mut m, 6 * S, 1, "fe80::1", "2001:db8:1::");
        assert!(moves(&mut m).is_empty(), "[SPEC] no repeated RETURNED HOME");
    }

    #[test]
    fn better_interface_wins_and_fallback_on_loss() {
        let mut m = md(&[(1, Some(1)), (2, Some(2))]);
        // The worse interface gets an address first.
        ra(&mut m, S, 2, "fe80::b", "2001:db8:b::");
        m.handle_dad_result(2, a("2001:db8:b::42"), true);
        assert!(matches!(
            moves(&mut m)[..],
            [Movement::Moved { iface: 2, .. }]
        ));
        // The better one takes over.
        ra(&mut m, 2 * S, 1, "fe80::a", "2001:db8:a::");
        m.handle_dad_result(1, a("2001:db8:a::42"), true);
        assert!(matches!(
            moves(&mut m)[..],
            [Movement::Moved {
                iface: 1,
                bid: Some(1),
                ..
            }]
        ));
        assert_eq!(m.primary_iface(), Some(1));
        // A change on the worse interface does not displace it [SPEC].
        ra(&mut m, 3 * S, 2, "fe80::b", "2001:db8:c::");
        m.handle_dad_result(2, a("2001:db8:c::42"), true);
        assert!(moves(&mut m).is_empty());
        // The better interface loses its router: back to the other one.
        m.handle_nud_result(1, a("fe80::a"), false);
        let mv = moves(&mut m);
        assert!(
            matches!(mv[..], [Movement::Moved { iface: 2, .. }]),
            "{mv:?}"
        );
    }

    #[test]
    fn duplicate_address_is_never_a_care_of_address() {
        let mut m = md(&[(1, None)]);
        ra(&mut m, S, 1, "fe80::2", "2001:db8:2::");
        m.handle_dad_result(1, a("2001:db8:2::42"), false);
        assert!(moves(&mut m).is_empty());
    }

    #[test]
    fn link_down_clamps_router_lifetimes_and_expiry_detaches() {
        let mut m = md(&[(1, None)]);
        m.handle_link(Duration::ZERO, 1, true);
        assert_eq!(
            requests(&mut m),
            vec![MdRequest::SendRouterSolicitation { iface: 1 }]
        );
        ra(&mut m, S, 1, "fe80::2", "2001:db8:2::");
        m.handle_dad_result(1, a("2001:db8:2::42"), true);
        moves(&mut m);
        requests(&mut m);
        m.handle_link(10 * S, 1, false);
        assert_eq!(
            requests(&mut m),
            vec![MdRequest::SendRouterSolicitation { iface: 1 }]
        );
        assert_eq!(m.poll_timeout(), Some(12 * S), "K4: at most 2 s left");
        m.handle_timeout(11 * S);
        assert!(requests(&mut m).is_empty(), "spurious timeout is a no-op");
        m.handle_timeout(12 * S);
        assert_eq!(
            requests(&mut m),
            vec![MdRequest::RemoveAddress {
                iface: 1,
                addr: a("2001:db8:2::42")
            }]
        );
        assert_eq!(m.primary_iface(), None);
    }

    #[test]
    fn unknown_interfaces_and_full_tables_are_counted() {
        let mut m = md(&[(1, None)]);
        ra(&mut m, S, 9, "fe80::2", "2001:db8:2::");
        assert_eq!(m.stats().unknown_interface, 1);
        for n in 0..6u16 {
            let p = AdvertisedPrefix {
                prefix: Ipv6Addr::new(0x2001, 0xdb8, 0x10 + n, 0, 0, 0, 0, 0),
                len: 64,
                autonomous: true,
                valid: S,
            };
            m.handle_router_advertisement(
                S,
                1,
                Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, n + 1),
                S,
                &[p],
            );
        }
        assert_eq!(m.stats().table_full, 2 + 2, "4 routers and 4 addresses fit");
    }
}
