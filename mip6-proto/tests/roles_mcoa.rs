//! Multiple care-of addresses (RFC 5648): a mobile node with several
//! interfaces and its home agent, back to back; exact messages, times and
//! forwarding events, and every MCoA status.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // test code

mod common;

use core::net::IpAddr;
use core::time::Duration;

use common::*;
use mip6_proto::bul_fsm::PrimaryState;
use mip6_proto::event::{FwdEvent, TxExt};
use mip6_proto::mn::{BidState, McoaConfig};
use mip6_proto::movement::Movement;
use mip6_proto::wire::mh::{BaStatus, MhPacket};
use mip6_proto::wire::options::MobilityOption;

fn bid_opt(bid: u16, h: bool, coa: Option<&str>) -> MobilityOption<'static> {
    MobilityOption::BindingIdentifier {
        bid,
        status: 0,
        h,
        care_of: coa.map(|c| IpAddr::V6(a(c))),
    }
}

fn added(bid: u16, coa: &str, expires: Duration) -> FwdEvent {
    FwdEvent::HomeBindingAdded {
        home: a(HOA),
        care_of: a(coa),
        local: a(HA),
        bid: Some(bid),
        link_local: false,
        expires,
    }
}

fn removed(bid: Option<u16>) -> FwdEvent {
    FwdEvent::HomeBindingRemoved {
        home: a(HOA),
        local: a(HA),
        bid,
    }
}

fn bul_added(bid: u16, coa: &str, home_link: bool, ndp_prohibited: bool) -> FwdEvent {
    FwdEvent::McoaBulAdded {
        home: a(HOA),
        peer: a(HA),
        bid,
        care_of: a(coa),
        home_link,
        ndp_prohibited,
    }
}

fn bul_removed(bid: u16) -> FwdEvent {
    FwdEvent::McoaBulRemoved {
        home: a(HOA),
        peer: a(HA),
        bid,
    }
}

fn mcoa_pair(ha: impl FnOnce(&mut mip6_proto::ha::HaConfig)) -> Pair {
    Pair::new(|m| m.mcoa = Some(McoaConfig::default()), ha)
}

//= https://www.rfc-editor.org/rfc/rfc5648#section-5.4
//= type=test
//# If a mobile node wants to delete a particular binding(s) from its
//# home agent and correspondent nodes, the mobile node sends a Binding
//# Update with lifetime set to zero and includes a Binding Identifier
//# mobility option(s) with the BID(s) it wants to de-register.
#[test]
fn two_interfaces_register_two_bids_then_one_is_deregistered() {
    let mut p = mcoa_pair(|_| {});
    let s0 = p.mn.home_entry().unwrap().seq;
    p.attach(1, COA1);
    assert!(p.mn.mcoa_active());
    let bu = p.msgs("mn", "BU")[0].clone();
    assert_eq!(
        (bu.tx.src, bu.tx.dst, bu.tx.ext),
        (a(COA1), a(HA), TxExt::HomeAddress(a(HOA)))
    );
    // RFC 5648 §5.9: the first registration sets O; §5.1: the care-of
    // address goes in the option the first time; lifetime 40 s = 10 units.
    assert_eq!(
        bu.bytes,
        bu_bytes(
            s0.wrapping_add(1),
            AHO,
            10,
            &[bid_opt(1, false, Some(COA1))]
        )
    );
    let ba = p.msgs("ha", "BA")[0].clone();
    assert_eq!(
        (ba.tx.src, ba.tx.dst, ba.tx.ext),
        (a(HA), a(COA1), TxExt::Type2Routing(a(HOA)))
    );
    assert_eq!(ba.ba(), (0, s0.wrapping_add(1), 10));
    assert_eq!(ba.bids(), vec![(1, 0, false, None)]);

    p.run_until(S);
    p.attach(2, COA2);
    let bu = p.msgs("mn", "BU")[1].clone();
    assert_eq!(bu.tx.src, a(COA2), "sent over the new interface");
    assert_eq!(
        bu.bytes,
        bu_bytes(s0.wrapping_add(2), AH, 10, &[bid_opt(2, false, Some(COA2))])
    );
    assert_eq!(
        p.ha.bids(a(HOA))
            .map(|v| (v.bid, v.care_of))
            .collect::<Vec<_>>(),
        vec![(1, a(COA1)), (2, a(COA2))]
    );
    assert_eq!(p.ha.lookup_bid(a(HOA), 2), Some(a(COA2)));
    assert_eq!(p.mn.bid(1).unwrap().state, BidState::Bound);
    assert_eq!(p.mn.bid(2).unwrap().state, BidState::Bound);

    // Interface 1 loses its address at 2 s: only BID 1 is deregistered,
    // through interface 2, without a care-of address in the option.
    p.run_until(2 * S);
    p.lost(1);
    let bu = p.msgs("mn", "BU")[2].clone();
    assert_eq!(
        (bu.tx.src, bu.tx.ext),
        (a(COA2), TxExt::HomeAddress(a(HOA)))
    );
    assert_eq!(
        bu.bytes,
        bu_bytes(s0.wrapping_add(3), AH, 0, &[bid_opt(1, false, None)])
    );
    let ba = p.msgs("ha", "BA")[2].clone();
    assert_eq!(ba.tx.dst, a(COA2));
    assert_eq!(ba.ba(), (0, s0.wrapping_add(3), 0));
    assert_eq!(ba.bids(), vec![(1, 0, false, None)]);
    assert_eq!(p.mn.bid(1), None);
    assert_eq!(p.mn.bid(2).unwrap().state, BidState::Bound);
    assert_eq!(
        p.ha.bids(a(HOA)).map(|v| v.bid).collect::<Vec<_>>(),
        vec![2]
    );
    assert_eq!(p.ha.lookup(a(HOA)), Some(a(COA2)));

    // BID 2 refreshes at half its 40 s lifetime: 1 + 20 = 21 s, without the
    // care-of address (RFC 5648 §5.1).
    p.run_until(22 * S);
    let times: Vec<Duration> = p.msgs("mn", "BU").iter().map(|s| s.at).collect();
    assert_eq!(times, vec![Duration::ZERO, S, 2 * S, 21 * S]);
    assert_eq!(
        p.msgs("mn", "BU")[3].bytes,
        bu_bytes(s0.wrapping_add(4), AH, 10, &[bid_opt(2, false, None)])
    );
    assert_eq!(
        p.events,
        vec![
            (Duration::ZERO, "ha", added(1, COA1, 40 * S)),
            (Duration::ZERO, "mn", bul_added(1, COA1, false, false)),
            (S, "ha", added(2, COA2, 41 * S)),
            (S, "mn", bul_added(2, COA2, false, false)),
            (2 * S, "mn", bul_removed(1)),
            (2 * S, "ha", removed(Some(1))),
            (21 * S, "ha", added(2, COA2, 61 * S)),
        ]
    );
}

//= https://www.rfc-editor.org/rfc/rfc5648#section-5.3
//= type=test
//# To use bulk registration, the mobile node includes a Binding
//# Identifier mobility option for each BID it wants to register in the
//# same Binding Update message.
#[test]
fn bulk_registration_puts_every_bid_in_one_binding_update() {
    let mut p = Pair::new(
        |m| {
            m.mcoa = Some(McoaConfig {
                priorities: vec![(2, 1)],
                ..McoaConfig::default()
            })
        },
        |_| {},
    );
    let s0 = p.mn.home_entry().unwrap().seq;
    let mv = |bid: u16, coa: &str| Movement::Moved {
        home: a(HOA),
        care_of: a(coa),
        iface: u32::from(bid),
        bid: Some(bid),
    };
    p.mn.handle_bulk_movement(Duration::ZERO, &[mv(1, COA1), mv(2, COA2)]);
    p.settle();
    let bus = p.msgs("mn", "BU");
    assert_eq!(bus.len(), 1);
    // BID 2 is preferred (BID-PRI 1): first option, and the BU leaves from
    // its care-of address.
    assert_eq!(bus[0].tx.src, a(COA2));
    assert_eq!(
        bus[0].bytes,
        bu_bytes(
            s0.wrapping_add(1),
            AHO,
            10,
            &[bid_opt(2, false, Some(COA2)), bid_opt(1, false, Some(COA1))]
        )
    );
    let ba = p.msgs("ha", "BA")[0].clone();
    assert_eq!(ba.ba(), (0, s0.wrapping_add(1), 10));
    assert_eq!(ba.bids(), vec![(2, 0, false, None), (1, 0, false, None)]);
    assert_eq!(
        p.events,
        vec![
            (Duration::ZERO, "ha", added(2, COA2, 40 * S)),
            (Duration::ZERO, "ha", added(1, COA1, 40 * S)),
            (Duration::ZERO, "mn", bul_added(1, COA1, false, false)),
            (Duration::ZERO, "mn", bul_added(2, COA2, false, false)),
        ]
    );
    assert_eq!(p.ha.bid_bindings(), 2);
    assert_eq!(p.ha.bindings(), 1);
    // The lookup care-of address is the lowest BID's.
    assert_eq!(p.ha.lookup(a(HOA)), Some(a(COA1)));
    // Both refresh together at 20 s in one bulk BU.
    p.run_until(21 * S);
    let bus = p.msgs("mn", "BU");
    assert_eq!(bus.len(), 2);
    assert_eq!(bus[1].at, 20 * S);
    assert_eq!(
        bus[1].bids(),
        vec![(2, 0, false, None), (1, 0, false, None)]
    );
}

//= https://www.rfc-editor.org/rfc/rfc5648#section-6.2
//= type=test
//# If the length is incorrect, the
//# receiver MUST reject the Binding Update and return the status value
//# set to [MCOA MALFORMED].
#[test]
fn ha_answers_164_to_a_bid_option_of_a_bad_length() {
    let mut p = mcoa_pair(|_| {});
    // A BU built by hand: a BID option of length 6 (RFC 5648 §4.3 allows
    // 4, 8 or 20), then PadN to 24 octets.
    let mut b = vec![
        59, 2, 5, 0, 0, 0, 0, 7, 0xc0, 0x00, 0, 10, // header, seq 7, A|H, 40 s
        35, 6, 0, 1, 0, 0, 0, 0, // BID 1 with two stray octets
        1, 2, 0, 0, // PadN
    ];
    MhPacket::new_unchecked(&mut b[..]).fill_checksum(&a(HOA), &a(HA));
    to_ha(&mut p.ha, Duration::ZERO, COA1, &b).unwrap();
    let (ev, msgs) = drain_ha(&mut p.ha);
    assert!(ev.is_empty());
    assert_eq!(msgs[0].ba(), (164, 7, 0));
    assert_eq!(p.ha.bindings(), 0);
    // A link-local care-of address is malformed too, for that BID.
    let b = bu_bytes(8, AH, 10, &[bid_opt(1, false, Some("fe80::1"))]);
    to_ha(&mut p.ha, Duration::ZERO, COA1, &b).unwrap();
    let (_, msgs) = drain_ha(&mut p.ha);
    assert_eq!(msgs[0].ba().0, 164);
    assert_eq!(p.ha.bindings(), 0);
}

//= https://www.rfc-editor.org/rfc/rfc5648#section-6.2
//= type=test
//# If the 'O' flag is unset in the Binding Update and the receiver
//# has a regular binding that does not have a BID for the mobile
//# node, it must not process the Binding Update.
#[test]
fn ha_answers_165_without_o_and_replaces_the_regular_binding_with_o() {
    let mut p = mcoa_pair(|_| {});
    to_ha(&mut p.ha, Duration::ZERO, COA1, &bu_bytes(1, AH, 10, &[])).unwrap();
    let (ev, _) = drain_ha(&mut p.ha);
    assert!(matches!(
        ev[0],
        FwdEvent::HomeBindingAdded { bid: None, .. }
    ));
    let b = bu_bytes(2, AH, 10, &[bid_opt(1, false, Some(COA2))]);
    to_ha(&mut p.ha, S, COA2, &b).unwrap();
    let (ev, msgs) = drain_ha(&mut p.ha);
    assert!(ev.is_empty(), "nothing changes");
    assert_eq!(msgs[0].ba(), (165, 2, 0));
    assert_eq!(msgs[0].bids(), vec![(1, 0, false, None)]);
    assert_eq!(p.ha.lookup(a(HOA)), Some(a(COA1)));
    assert_eq!(p.ha.bids(a(HOA)).count(), 0);
    let b = bu_bytes(3, AHO, 10, &[bid_opt(1, false, Some(COA2))]);
    to_ha(&mut p.ha, S, COA2, &b).unwrap();
    let (ev, msgs) = drain_ha(&mut p.ha);
    assert_eq!(ev, vec![removed(None), added(1, COA2, 41 * S)]);
    assert_eq!(msgs[0].ba(), (0, 3, 10));
}

//= https://www.rfc-editor.org/rfc/rfc5648#section-5.7
//= type=test
//# If the status value is [MCOA PROHIBITED], the mobile node MUST
//# stop registering multiple bindings with the node that sent the
//# Binding Acknowledgement.
#[test]
fn mn_falls_back_to_one_binding_on_166() {
    let mut p = mcoa_pair(|h| h.mcoa.enabled = false);
    let s0 = p.mn.home_entry().unwrap().seq;
    p.attach(1, COA1);
    let ba = p.msgs("ha", "BA")[0].clone();
    assert_eq!(ba.ba(), (166, s0.wrapping_add(1), 0));
    assert_eq!(ba.bids(), vec![(1, 0, false, None)]);
    // The ordinary home registration of the preferred care-of address.
    let bus = p.msgs("mn", "BU");
    assert_eq!(bus.len(), 2);
    assert_eq!(
        bus[1].bytes,
        bu_bytes(
            s0.wrapping_add(2),
            AH,
            10,
            &[MobilityOption::AlternateCareOfAddress(a(COA1))]
        )
    );
    assert!(!p.mn.mcoa_active());
    assert_eq!(p.mn.stats().mcoa_fallbacks, 1);
    assert_eq!(
        p.mn.bid(1).unwrap().state,
        BidState::Refused(BaStatus::MCOA_PROHIBITED)
    );
    let he = p.mn.home_entry().unwrap();
    assert_eq!((he.state, he.care_of), (PrimaryState::Bound, a(COA1)));
    assert_eq!(p.ha.lookup(a(HOA)), Some(a(COA1)));
    // A second interface does not displace the preferred (lower) BID.
    p.attach(2, COA2);
    assert_eq!(p.msgs("mn", "BU").len(), 2);
    // Losing BID 1 moves the single binding to BID 2's address.
    p.lost(1);
    let bus = p.msgs("mn", "BU");
    assert_eq!(bus.len(), 3);
    assert_eq!(bus[2].tx.src, a(COA2));
    assert_eq!(p.ha.lookup(a(HOA)), Some(a(COA2)));
}

//= https://www.rfc-editor.org/rfc/rfc5648#section-6.2
//= type=test
//# When the length value is 4 and the Binding Identifier is
//# present in the binding cache, the receiving node MUST update
//# the associated binding entry.  Otherwise, the receiving node
//# MUST reject that Binding Identifier mobility option
#[test]
fn ha_answers_167_for_an_unknown_bid_without_care_of_address() {
    let mut p = mcoa_pair(|_| {});
    let b = bu_bytes(1, AHO, 10, &[bid_opt(3, false, None)]);
    to_ha(&mut p.ha, Duration::ZERO, COA1, &b).unwrap();
    let (ev, msgs) = drain_ha(&mut p.ha);
    assert!(ev.is_empty());
    assert_eq!(msgs[0].ba(), (167, 1, 0));
    // In a bulk registration the status goes in the option, under 4.
    let b = bu_bytes(2, AHO, 10, &[bid_opt(1, false, Some(COA1))]);
    to_ha(&mut p.ha, Duration::ZERO, COA1, &b).unwrap();
    drain_ha(&mut p.ha);
    let b = bu_bytes(
        3,
        AH,
        10,
        &[bid_opt(1, false, None), bid_opt(3, false, None)],
    );
    to_ha(&mut p.ha, S, COA1, &b).unwrap();
    let (ev, msgs) = drain_ha(&mut p.ha);
    assert_eq!(ev, vec![added(1, COA1, 41 * S)]);
    assert_eq!(msgs[0].ba(), (4, 3, 10));
    assert_eq!(
        msgs[0].bids(),
        vec![(1, 0, false, None), (3, 167, false, None)]
    );
}

//= https://www.rfc-editor.org/rfc/rfc5648#section-5.7
//= type=test
//# If the status value is [MCOA BULK REGISTRATION PROHIBITED], the
//# mobile node needs to stop using bulk registrations with the node
//# that sent the Binding Acknowledgement.
#[test]
fn mn_registers_one_by_one_after_168() {
    let mut p = mcoa_pair(|h| h.mcoa.bulk = false);
    let s0 = p.mn.home_entry().unwrap().seq;
    let mv = |bid: u16, coa: &str| Movement::Moved {
        home: a(HOA),
        care_of: a(coa),
        iface: 0,
        bid: Some(bid),
    };
    p.mn.handle_bulk_movement(Duration::ZERO, &[mv(1, COA1), mv(2, COA2)]);
    p.settle();
    let bas: Vec<(u8, u16, u16)> = p.msgs("ha", "BA").iter().map(|s| s.ba()).collect();
    assert_eq!(
        bas,
        vec![
            (168, s0.wrapping_add(1), 0),
            (0, s0.wrapping_add(2), 10),
            (0, s0.wrapping_add(3), 10)
        ]
    );
    let bus = p.msgs("mn", "BU");
    assert_eq!(
        bus[1].bids(),
        vec![(1, 0, false, Some(IpAddr::V6(a(COA1))))]
    );
    assert_eq!(
        bus[2].bids(),
        vec![(2, 0, false, Some(IpAddr::V6(a(COA2))))]
    );
    // Only the first of them carries O (it replaces every binding).
    assert_eq!(
        u16::from_be_bytes([bus[1].bytes[8], bus[1].bytes[9]]) & 0x0040,
        0x0040
    );
    assert_eq!(
        u16::from_be_bytes([bus[2].bytes[8], bus[2].bytes[9]]) & 0x0040,
        0
    );
    assert_eq!(p.ha.bid_bindings(), 2);
    assert_eq!(p.mn.bid(2).unwrap().state, BidState::Bound);
}

#[test]
fn ha_answers_169_when_home_and_foreign_is_prohibited() {
    let mut p = mcoa_pair(|h| h.mcoa.home_and_foreign = false);
    let b = bu_bytes(1, AHO, 10, &[bid_opt(2, true, Some(HOA))]);
    to_ha(&mut p.ha, Duration::ZERO, COA1, &b).unwrap();
    let (ev, msgs) = drain_ha(&mut p.ha);
    assert!(ev.is_empty());
    assert_eq!(msgs[0].ba(), (169, 1, 0));
    assert_eq!(msgs[0].bids(), vec![(2, 0, true, None)]);
}

//= https://www.rfc-editor.org/rfc/rfc5648#section-6.2
//= type=test
//# If the status value is specific to one of the bindings in the bulk
//# registration, the status value MUST be stored in the Status field in
//# the corresponding Binding Identifier mobility option.
#[test]
fn bid_limit_per_home_address_gives_per_bid_status_under_4() {
    let mut p = mcoa_pair(|h| h.mcoa.max_bids = 1);
    let s0 = p.mn.home_entry().unwrap().seq;
    let mv = |bid: u16, coa: &str| Movement::Moved {
        home: a(HOA),
        care_of: a(coa),
        iface: 0,
        bid: Some(bid),
    };
    p.mn.handle_bulk_movement(Duration::ZERO, &[mv(1, COA1), mv(2, COA2)]);
    p.settle();
    let ba = p.msgs("ha", "BA")[0].clone();
    assert_eq!(ba.ba(), (4, s0.wrapping_add(1), 10));
    assert_eq!(ba.bids(), vec![(1, 0, false, None), (2, 130, false, None)]);
    assert_eq!(p.ha.stats().bid_limit_refused, 1);
    assert_eq!(p.ha.bid_bindings(), 1);
    assert_eq!(p.mn.bid(1).unwrap().state, BidState::Bound);
    assert_eq!(
        p.mn.bid(2).unwrap().state,
        BidState::Refused(BaStatus::INSUFFICIENT_RESOURCES)
    );
    assert_eq!(p.mn.stats().bid_rejected, 1);
    // Not retried.
    p.run_until(5 * S);
    assert_eq!(p.msgs("mn", "BU").len(), 1);
}

//= https://www.rfc-editor.org/rfc/rfc5648#section-6.2
//= type=test
//# If the receiver
//# already has multiple bindings for the home address, it MUST replace
//# all the existing bindings with the received binding.  If the
//# [RFC3775] Binding Update is for de-registration, the receiver MUST
//# delete all existing bindings from its binding cache.
#[test]
fn a_regular_bu_replaces_every_bid_and_a_regular_deregistration_deletes_them() {
    let mut p = mcoa_pair(|_| {});
    let b = bu_bytes(
        1,
        AHO,
        10,
        &[bid_opt(1, false, Some(COA1)), bid_opt(2, false, Some(COA2))],
    );
    to_ha(&mut p.ha, Duration::ZERO, COA1, &b).unwrap();
    drain_ha(&mut p.ha);
    to_ha(&mut p.ha, S, COA3, &bu_bytes(2, AH, 10, &[])).unwrap();
    let (ev, msgs) = drain_ha(&mut p.ha);
    assert_eq!(ev[..2], [removed(Some(1)), removed(Some(2))]);
    assert!(matches!(
        ev[2],
        FwdEvent::HomeBindingAdded { bid: None, care_of, .. } if care_of == a(COA3)
    ));
    assert_eq!(msgs[0].ba(), (0, 2, 10));
    assert_eq!(p.ha.bid_bindings(), 0);
    let b = bu_bytes(
        3,
        AHO,
        10,
        &[bid_opt(1, false, Some(COA1)), bid_opt(2, false, Some(COA2))],
    );
    to_ha(&mut p.ha, 2 * S, COA1, &b).unwrap();
    let (ev, _) = drain_ha(&mut p.ha);
    assert_eq!(
        ev,
        vec![
            removed(None),
            added(1, COA1, 42 * S),
            added(2, COA2, 42 * S)
        ]
    );
    to_ha(&mut p.ha, 3 * S, COA1, &bu_bytes(4, AH, 0, &[])).unwrap();
    let (ev, msgs) = drain_ha(&mut p.ha);
    assert_eq!(ev, vec![removed(Some(1)), removed(Some(2))]);
    assert_eq!(msgs[0].ba(), (0, 4, 0));
    assert_eq!(p.ha.bindings(), 0);
    assert_eq!(p.ha.bid_bindings(), 0);
}

#[test]
fn unknown_bid_deregistration_is_133_and_each_bid_expires_on_its_own() {
    let mut p = mcoa_pair(|_| {});
    let b = bu_bytes(1, AHO, 10, &[bid_opt(1, false, Some(COA1))]);
    to_ha(&mut p.ha, Duration::ZERO, COA1, &b).unwrap();
    drain_ha(&mut p.ha);
    let b = bu_bytes(2, AH, 10, &[bid_opt(2, false, Some(COA2))]);
    to_ha(&mut p.ha, 10 * S, COA2, &b).unwrap();
    drain_ha(&mut p.ha);
    let b = bu_bytes(3, AH, 0, &[bid_opt(5, false, None)]);
    to_ha(&mut p.ha, 11 * S, COA1, &b).unwrap();
    let (ev, msgs) = drain_ha(&mut p.ha);
    assert!(ev.is_empty());
    assert_eq!(msgs[0].ba(), (133, 3, 0));
    assert_eq!(p.ha.bid_bindings(), 2);
    assert_eq!(p.ha.poll_timeout(), Some(40 * S));
    p.ha.handle_timeout(40 * S);
    let (ev, _) = drain_ha(&mut p.ha);
    assert_eq!(ev, vec![removed(Some(1))]);
    assert_eq!(p.ha.bindings(), 1);
    assert_eq!(p.ha.poll_timeout(), Some(50 * S));
    p.ha.handle_timeout(50 * S);
    let (ev, _) = drain_ha(&mut p.ha);
    assert_eq!(ev, vec![removed(Some(2))]);
    assert_eq!(p.ha.bindings(), 0);
    assert_eq!(p.ha.poll_timeout(), None);
    assert_eq!(p.ha.stats().expired, 2);
}

//= https://www.rfc-editor.org/rfc/rfc5648#section-5.6.3
//= type=test
//# When the home binding is used, the mobile node MUST send a
//# registering Binding Update with a Binding Identifier mobility option
//# with the 'H' flag set.
#[test]
fn one_interface_returns_home_while_the_other_stays_away() {
    for wo_ndp in [true, false] {
        let mut p = mcoa_pair(|h| h.mcoa.returnhome_wo_ndp = wo_ndp);
        let s0 = p.mn.home_entry().unwrap().seq;
        p.attach(1, COA1);
        p.run_until(S);
        p.attach(2, HOA);
        let bu = p.msgs("mn", "BU")[1].clone();
        assert_eq!(
            (bu.tx.src, bu.tx.dst, bu.tx.ext),
            (a(HOA), a(HA), TxExt::None),
            "from the home link"
        );
        assert_eq!(
            bu.bytes,
            bu_bytes(s0.wrapping_add(2), AH, 10, &[bid_opt(2, true, Some(HOA))])
        );
        let ba = p.msgs("ha", "BA")[1].clone();
        assert_eq!((ba.tx.dst, ba.tx.ext), (a(HOA), TxExt::None));
        let status = if wo_ndp { 5 } else { 0 };
        assert_eq!(ba.ba(), (status, s0.wrapping_add(2), 10));
        assert_eq!(ba.bids(), vec![(2, 0, true, None)]);
        assert_eq!(
            p.events[2..],
            [
                (S, "ha", added(2, HOA, 41 * S)),
                (S, "mn", bul_added(2, HOA, true, wo_ndp)),
            ]
        );
        let v = p.mn.bid(2).unwrap();
        assert_eq!(
            (v.state, v.home_link, v.ndp_prohibited),
            (BidState::Bound, true, wo_ndp)
        );
        assert_eq!(p.mn.bid(1).unwrap().state, BidState::Bound);
        assert!(p.ha.bids(a(HOA)).any(|v| v.bid == 2 && v.home_link));
        assert_eq!(p.ha.lookup_bid(a(HOA), 1), Some(a(COA1)));
    }
}

//= https://www.rfc-editor.org/rfc/rfc5648#section-5.5.1
//= type=test
//# The mobile node returns home and de-registers all the bindings it has
//# with the home agent
#[test]
fn returning_home_deregisters_every_binding() {
    let mut p = mcoa_pair(|_| {});
    p.attach(1, COA1);
    p.attach(2, COA2);
    let seq = p.mn.home_entry().unwrap().seq;
    p.run_until(S);
    p.mn.handle_movement(
        S,
        Movement::ReturnedHome {
            home: a(HOA),
            iface: 1,
        },
    );
    p.settle();
    let bu = p.msgs("mn", "BU")[2].clone();
    assert_eq!((bu.tx.src, bu.tx.ext), (a(HOA), TxExt::None));
    assert_eq!(bu.bytes, bu_bytes(seq.wrapping_add(1), AH, 0, &[]));
    assert_eq!(
        p.events[4..],
        [
            (S, "mn", bul_removed(1)),
            (S, "mn", bul_removed(2)),
            (S, "ha", removed(Some(1))),
            (S, "ha", removed(Some(2))),
        ]
    );
    assert_eq!(p.ha.bindings(), 0);
    assert_eq!(p.mn.bids().count(), 0);
    assert!(!p.mn.mcoa_active());
    // Leaving again bootstraps with O.
    p.attach(1, COA1);
    let bu = p.msgs("mn", "BU")[3].clone();
    assert_eq!(
        u16::from_be_bytes([bu.bytes[8], bu.bytes[9]]) & 0x0040,
        0x0040
    );
}

//= https://www.rfc-editor.org/rfc/rfc5648#section-5.7
//= type=test
//# The mobile
//# node MUST set 'O' flag so that all the registered bindings are
//# replaced by an MCoA registration as described in Section 5.9.
#[test]
fn mn_resends_with_o_after_135_and_165() {
    let mut p = mcoa_pair(|_| {});
    let s0 = p.mn.home_entry().unwrap().seq;
    p.attach(1, COA1);
    // Meanwhile the home agent got a regular binding with a newer sequence
    // number (the mobile node lost state, RFC 5648 §5.9).
    let far = s0.wrapping_add(100);
    to_ha(&mut p.ha, S, COA3, &bu_bytes(far, AH, 10, &[])).unwrap();
    drain_ha(&mut p.ha);
    p.run_until(S);
    p.attach(2, COA2);
    let bas: Vec<u8> = p.msgs("ha", "BA").iter().map(|s| s.ba().0).collect();
    assert_eq!(bas, vec![0, 135, 165, 0]);
    let bus = p.msgs("mn", "BU");
    // After 135 the next BU continues from the home agent's number.
    assert_eq!(
        bus[2].bytes,
        bu_bytes(
            far.wrapping_add(1),
            AH,
            10,
            &[bid_opt(2, false, Some(COA2))]
        )
    );
    // After 165 every attached BID again, with O and care-of addresses.
    assert_eq!(
        bus[3].bytes,
        bu_bytes(
            far.wrapping_add(2),
            AHO,
            10,
            &[bid_opt(1, false, Some(COA1)), bid_opt(2, false, Some(COA2))]
        )
    );
    assert_eq!(
        p.ha.bids(a(HOA))
            .map(|v| (v.bid, v.care_of))
            .collect::<Vec<_>>(),
        vec![(1, a(COA1)), (2, a(COA2))]
    );
    assert_eq!(p.mn.bid(2).unwrap().state, BidState::Bound);
}

#[test]
fn a_bid_refused_as_malformed_is_not_retried() {
    let mut p = mcoa_pair(|_| {});
    p.attach(1, "fe80::1");
    assert_eq!(p.msgs("ha", "BA")[0].ba().0, 164);
    assert_eq!(
        p.mn.bid(1).unwrap().state,
        BidState::Refused(BaStatus::MCOA_MALFORMED)
    );
    p.run_until(60 * S);
    assert_eq!(p.msgs("mn", "BU").len(), 1);
    assert_eq!(p.mn.poll_timeout(), None);
}

#[test]
fn bid_zero_and_table_bounds_are_enforced_at_the_mobile_node() {
    let mut p = Pair::new(
        |m| {
            m.mcoa = Some(McoaConfig {
                max_bids: 2,
                ..McoaConfig::default()
            })
        },
        |_| {},
    );
    p.attach(0, COA1);
    assert!(p.sent.is_empty(), "BID 0 is reserved");
    p.attach(1, COA1);
    p.attach(2, COA2);
    p.attach(3, COA3);
    assert_eq!(p.mn.bids().count(), 2);
    assert_eq!(p.mn.stats().bid_table_full, 1);
    assert_eq!(
        p.mn.handle_bid_lost(Duration::ZERO, 9),
        Err(mip6_proto::mn::Dropped::NoEntry)
    );
}

#[test]
fn a_bid_registration_backs_off_like_a_first_registration() {
    let mut p = mcoa_pair(|_| {});
    p.lose = |s| s.from == "ha";
    p.attach(1, COA1);
    p.run_until(11 * S);
    let times: Vec<Duration> = p.msgs("mn", "BU").iter().map(|s| s.at).collect();
    // InitialBindackTimeoutFirstReg 1.5 s, doubling (RFC 6275 §11.8).
    assert_eq!(
        times,
        vec![
            Duration::ZERO,
            Duration::from_millis(1500),
            Duration::from_millis(4500),
            Duration::from_millis(10500)
        ]
    );
    // Every retransmission still carries O and the care-of address.
    for s in p.msgs("mn", "BU") {
        assert_eq!(
            u16::from_be_bytes([s.bytes[8], s.bytes[9]]) & 0x0040,
            0x0040
        );
        assert_eq!(s.bids(), vec![(1, 0, false, Some(IpAddr::V6(a(COA1))))]);
    }
    assert_eq!(p.mn.bid(1).unwrap().state, BidState::Registering);
}

#[test]
fn an_unrefreshed_bid_expires_and_registers_again() {
    let mut p = mcoa_pair(|_| {});
    p.lose = |s| s.from == "ha" && s.at > Duration::ZERO;
    p.attach(1, COA1);
    p.run_until(41 * S);
    let times: Vec<Duration> = p.msgs("mn", "BU").iter().map(|s| s.at).collect();
    // Refresh at 20 s, retransmitted at 1, 2, 4, 8 s intervals; the binding
    // expires at 40 s and is registered afresh.
    assert_eq!(
        times,
        vec![
            Duration::ZERO,
            20 * S,
            21 * S,
            23 * S,
            27 * S,
            35 * S,
            40 * S
        ]
    );
    assert_eq!(p.msgs("mn", "BU")[1].bids(), vec![(1, 0, false, None)]);
    assert_eq!(
        p.msgs("mn", "BU")[6].bids(),
        vec![(1, 0, false, Some(IpAddr::V6(a(COA1))))]
    );
    assert!(p.events.contains(&(40 * S, "mn", bul_removed(1))));
    assert_eq!(p.mn.bid(1).unwrap().state, BidState::Registering);
}

//= https://www.rfc-editor.org/rfc/rfc5648#section-5.8
//= type=test
//# The mobile node SHOULD then
//# send a Binding Update at least for the respective binding, as
//# described in Sections 5.2 and 5.3.
#[test]
fn a_binding_refresh_request_refreshes_every_bid() {
    let mut p = mcoa_pair(|_| {});
    p.attach(1, COA1);
    p.attach(2, COA2);
    p.run_until(5 * S);
    let brr = {
        let r =
            mip6_proto::wire::mh::MhRepr::new(mip6_proto::wire::mh::Message::BindingRefreshRequest);
        let mut b = vec![0u8; r.buffer_len()];
        r.emit(&mut MhPacket::new_unchecked(&mut b[..]), &a(HA), &a(HOA))
            .unwrap();
        b
    };
    p.mn.handle_datagram(
        5 * S,
        &mip6_proto::event::RxDatagram {
            src: a(HA),
            dst: a(HOA),
            hao: None,
            rh2: Some(a(HOA)),
            tunnelled: false,
            next_header: 135,
            payload: &brr,
        },
    )
    .unwrap();
    p.settle();
    let bus = p.msgs("mn", "BU");
    assert_eq!(bus.len(), 3);
    assert_eq!(bus[2].at, 5 * S);
    assert_eq!(
        bus[2].bids(),
        vec![(1, 0, false, None), (2, 0, false, None)]
    );
    assert_eq!(p.msgs("ha", "BA")[2].ba().0, 0);
}

//= https://www.rfc-editor.org/rfc/rfc5648#section-5.7
//= type=test
//# The mobile node then SHOULD no longer
//# attempt a multiple care-of addresses registration with that node.
#[test]
fn a_ba_without_bid_options_means_no_mcoa_support() {
    let mut p = mcoa_pair(|_| {});
    p.lose = |s| s.from == "ha";
    let s0 = p.mn.home_entry().unwrap().seq;
    p.attach(1, COA1);
    // A home agent that ignores the option: a plain BA.
    let r = mip6_proto::wire::mh::MhRepr::new(mip6_proto::wire::mh::Message::BindingAck {
        status: BaStatus::ACCEPTED,
        flags: mip6_proto::wire::mh::BaFlags(0),
        sequence: s0.wrapping_add(1),
        lifetime: 10,
    });
    let mut b = vec![0u8; r.buffer_len()];
    r.emit(&mut MhPacket::new_unchecked(&mut b[..]), &a(HA), &a(HOA))
        .unwrap();
    p.mn.handle_datagram(
        Duration::ZERO,
        &mip6_proto::event::RxDatagram {
            src: a(HA),
            dst: a(HOA),
            hao: None,
            rh2: Some(a(HOA)),
            tunnelled: false,
            next_header: 135,
            payload: &b,
        },
    )
    .unwrap();
    p.settle();
    assert!(!p.mn.mcoa_active());
    assert_eq!(p.mn.stats().mcoa_fallbacks, 1);
    let bus = p.msgs("mn", "BU");
    assert_eq!(bus.len(), 2);
    assert!(bus[1].bids().is_empty(), "an ordinary registration");
}

#[test]
fn an_unanswered_return_home_backs_off() {
    let mut p = mcoa_pair(|_| {});
    p.attach(1, COA1);
    p.lose = |s| s.from == "ha";
    p.mn.handle_movement(
        Duration::ZERO,
        Movement::ReturnedHome {
            home: a(HOA),
            iface: 1,
        },
    );
    p.run_until(16 * S);
    let times: Vec<Duration> = p.msgs("mn", "BU").iter().skip(1).map(|s| s.at).collect();
    assert_eq!(times, vec![Duration::ZERO, S, 3 * S, 7 * S, 15 * S]);
    for s in p.msgs("mn", "BU").iter().skip(1) {
        assert!(s.bids().is_empty());
        assert_eq!(s.tx.src, a(HOA));
    }
}
