//! RFC 4285: the MN-HA Mobility Message Authentication option and the
//! timestamp Replay Protection option between a mobile node and its home
//! agent. The expected authenticators are computed here with the `hmac` and
//! `sha1` crates over bytes assembled by hand, per RFC 4285 §5.1.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // test code

mod common;

use core::time::Duration;

use common::*;
use hmac::{Hmac, KeyInit, Mac};
use mip6_proto::bul_fsm::PrimaryState;
use mip6_proto::crypto;
use mip6_proto::event::RxDatagram;
use mip6_proto::ha::{Dropped as HaDropped, MnHaSecurityAssociation};
use mip6_proto::mn::{Dropped as MnDropped, McoaConfig, MnAuthConfig};
use mip6_proto::movement::Movement;
use mip6_proto::wire::mh::{BaFlags, BaStatus, Message, MhPacket, MhRepr};
use mip6_proto::wire::options::{MobilityOption, Options};
use sha1::Sha1;

const SPI: u32 = 0x0000_1000;
const KEY: [u8; 16] = [0x0b; 16];
/// 3 900 000 000 s after 1900-01-01 (in 2023): the time of day at the
/// driver's epoch, as an NTP seconds count.
const T0: u64 = 3_900_000_000;
const NAI: &[u8] = b"mn@example.com";

fn mn_auth(skew: u64) -> MnAuthConfig {
    MnAuthConfig {
        spi: SPI,
        key: KEY.to_vec(),
        nai: Some(NAI.to_vec()),
        timestamps: true,
        time_of_day_at_epoch: Duration::from_secs(T0 + skew),
        aaa_key: None,
    }
}

fn auth_pair(
    mn: impl FnOnce(&mut mip6_proto::mn::MnConfig),
    ha: impl FnOnce(&mut mip6_proto::ha::HaConfig),
) -> Pair {
    Pair::new(
        |m| {
            m.auth = Some(mn_auth(0));
            mn(m);
        },
        |h| {
            h.security_associations = vec![MnHaSecurityAssociation::new(SPI, a(HOA), KEY.to_vec())];
            h.time_of_day_at_epoch = Duration::from_secs(T0);
            ha(h);
        },
    )
}

fn move_to(p: &mut Pair, coa: &str) {
    p.mn.handle_movement(
        p.now,
        Movement::Moved {
            home: a(HOA),
            care_of: a(coa),
            iface: 1,
            bid: None,
        },
    );
    p.settle();
}

/// Walks the options by hand (RFC 6275 §6.2.1: Pad1 is one zero octet,
/// every other option is type, length, data) and returns (type, offset).
fn walk(mh: &[u8]) -> Vec<(u8, usize)> {
    let total = (usize::from(mh[1]) + 1) * 8;
    let mut at = 12; // Binding Update and Acknowledgement: options at 12
    let mut v = Vec::new();
    while at < total {
        let t = mh[at];
        if t == 0 {
            at += 1;
            continue;
        }
        if t != 1 {
            v.push((t, at));
        }
        at += 2 + usize::from(mh[at + 1]);
    }
    v
}

/// RFC 4285 §5.1, computed independently:
/// First(96, HMAC_SHA1(key, care-of | home | MH data up to and including
/// the SPI, checksum zeroed)).
fn expected_auth(mh: &[u8], coa: &str) -> ([u8; 12], usize) {
    let (t, at) = *walk(mh).last().unwrap();
    assert_eq!(t, 9, "the authentication option is the last option");
    assert_eq!(mh[at + 1], 17, "subtype, SPI and 96 bits");
    assert_eq!(mh[at + 2], 1, "MN-HA subtype");
    assert_eq!(&mh[at + 3..at + 7], &SPI.to_be_bytes());
    let spi_end = at + 7;
    let mut data = mh[..spi_end].to_vec();
    data[4] = 0;
    data[5] = 0;
    let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(&KEY).unwrap();
    mac.update(&a(coa).octets());
    mac.update(&a(HOA).octets());
    mac.update(&data);
    let full = mac.finalize().into_bytes();
    let mut out = [0u8; 12];
    out.copy_from_slice(&full[..12]);
    (out, spi_end)
}

//= https://www.rfc-editor.org/rfc/rfc4285#section-5.1
//= type=test
//# Authentication Data = First (96, HMAC_SHA1(MN-HA Shared key, Mobility
//# Data))
#[test]
fn the_authenticator_over_hand_assembled_bytes() {
    // A Binding Update, every octet placed by hand: Replay Protection at
    // 8n+2 (offset 18 after a 6-octet PadN), Pad1, MN-HA option at 4n+1
    // (offset 29), ending at 48 = 6 x 8 octets: Header Len 5.
    let ts = T0 << 32;
    let mut b: Vec<u8> = vec![59, 5, 5, 0, 0, 0, 0x00, 0x2a, 0xc0, 0x00, 0x00, 0x0a];
    b.extend_from_slice(&[1, 4, 0, 0, 0, 0]); // PadN, 6 octets
    b.extend_from_slice(&[10, 8]);
    b.extend_from_slice(&ts.to_be_bytes());
    b.push(0); // Pad1
    b.extend_from_slice(&[9, 17, 1]);
    b.extend_from_slice(&SPI.to_be_bytes());
    b.extend_from_slice(&[0; 12]);
    assert_eq!(b.len(), 48);
    // The wire layer lays the same message out identically.
    let zero = [0u8; 12];
    let opts = [
        MobilityOption::ReplayProtection { timestamp: ts },
        MobilityOption::MobilityMessageAuthentication {
            subtype: 1,
            spi: SPI,
            data: &zero,
        },
    ];
    let repr = MhRepr {
        payload_proto: 59,
        message: Message::BindingUpdate {
            sequence: 42,
            flags: AH,
            lifetime: 10,
        },
        options: Options::List(&opts),
    };
    let mut e = vec![0u8; repr.buffer_len()];
    repr.emit_unchecksummed(&mut MhPacket::new_unchecked(&mut e[..]))
        .unwrap();
    assert_eq!(e, b);
    let (want, spi_end) = expected_auth(&b, COA1);
    assert_eq!(spi_end, 36);
    assert_eq!(
        crypto::mn_ha_authenticator(&KEY, &a(COA1), &a(HOA), &b[..36]),
        Some(want)
    );
    // The checksum does not take part.
    let mut c = b.clone();
    c[4] = 0xde;
    c[5] = 0xad;
    assert_eq!(
        crypto::mn_ha_authenticator(&KEY, &a(COA1), &a(HOA), &c[..36]),
        Some(want)
    );
    assert!(crypto::sign_mn_ha(&mut b, &KEY, &a(COA1), &a(HOA)));
    assert_eq!(&b[36..48], &want);
    let o = crypto::find_mn_ha(&b).unwrap();
    assert_eq!(
        (o.spi, o.data_offset, o.data_len, o.last),
        (SPI, 36, 12, true)
    );
    assert!(crypto::verify_mn_ha(&b, &o, &KEY, &a(COA1), &a(HOA)));
    assert!(!crypto::verify_mn_ha(&b, &o, &KEY, &a(COA2), &a(HOA)));
    // NTP format: 1.5 s is 1 << 32 | 1 << 31.
    assert_eq!(
        crypto::ntp_timestamp(Duration::from_millis(1500)),
        (1u64 << 32) | (1u64 << 31)
    );
}

//= https://www.rfc-editor.org/rfc/rfc4285#section-6
//= type=test
//# If the timestamp is valid, the Home Agent copies the entire Timestamp
//# field into the Timestamp field in the BA it returns to the Mobile
//# Node.
#[test]
fn an_authenticated_registration_is_accepted() {
    let mut p = auth_pair(|_| {}, |_| {});
    move_to(&mut p, COA1);
    let bu = p.msgs("mn", "BU")[0].clone();
    // Options in order: Alternate Care-of Address, Mobile Node Identifier
    // (NAI), Replay Protection, MN-HA authentication last.
    let types: Vec<u8> = walk(&bu.bytes).iter().map(|x| x.0).collect();
    assert_eq!(types, vec![3, 8, 10, 9]);
    let r = bu.repr();
    let opts: Vec<MobilityOption<'_>> = r.options.iter().flatten().collect();
    assert_eq!(
        opts[1],
        MobilityOption::MobileNodeIdentifier {
            subtype: 1,
            identifier: NAI
        }
    );
    // At the epoch the time of day is exactly T0 s: no fraction.
    assert_eq!(
        opts[2],
        MobilityOption::ReplayProtection {
            timestamp: T0 << 32
        }
    );
    let (want, spi_end) = expected_auth(&bu.bytes, COA1);
    assert_eq!(&bu.bytes[spi_end..spi_end + 12], &want);
    assert!(
        MhPacket::new_checked(&bu.bytes[..])
            .unwrap()
            .verify_checksum(&a(HOA), &a(HA))
    );
    // The BA: accepted, the timestamp echoed, authenticated for the same
    // care-of and home addresses.
    let ba = p.msgs("ha", "BA")[0].clone();
    assert_eq!(ba.ba().0, 0);
    let types: Vec<u8> = walk(&ba.bytes).iter().map(|x| x.0).collect();
    assert_eq!(types, vec![10, 9]);
    let opts: Vec<MobilityOption<'_>> = ba.repr().options.iter().flatten().collect();
    assert_eq!(
        opts[0],
        MobilityOption::ReplayProtection {
            timestamp: T0 << 32
        }
    );
    let (want, spi_end) = expected_auth(&ba.bytes, COA1);
    assert_eq!(&ba.bytes[spi_end..spi_end + 12], &want);
    assert_eq!(p.mn.home_entry().unwrap().state, PrimaryState::Bound);
    assert_eq!(p.ha.lookup(a(HOA)), Some(a(COA1)));
    assert_eq!(p.mn_results, vec![Ok(())]);
    // The refresh at 20 s carries the later time of day.
    p.run_until(21 * S);
    let bu = p.msgs("mn", "BU")[1].clone();
    let opts: Vec<MobilityOption<'_>> = bu.repr().options.iter().flatten().collect();
    assert_eq!(
        opts[2],
        MobilityOption::ReplayProtection {
            timestamp: (T0 + 20) << 32
        }
    );
    assert_eq!(p.msgs("ha", "BA")[1].ba().0, 0);
}

//= https://www.rfc-editor.org/rfc/rfc4285#section-5.3
//= type=test
//# In case of authentication failure, the Home Agent MUST send a Binding
//# Acknowledgement with status code MIPV6-AUTH-FAIL to the Mobile Node,
//# if a shared-key-based mobility security association to be used
//# between Mobile Node and Home Agent for authentication exists.
#[test]
fn a_bad_authenticator_gets_146_and_the_mobile_node_stops() {
    let mut p = auth_pair(|_| {}, |_| {});
    p.lose = |s| s.from == "mn";
    move_to(&mut p, COA1);
    let mut bad = p.msgs("mn", "BU")[0].clone();
    let n = bad.bytes.len();
    let (_, spi_end) = expected_auth(&bad.bytes, COA1);
    bad.bytes[spi_end] ^= 0x01;
    assert!(spi_end + 12 <= n);
    MhPacket::new_unchecked(&mut bad.bytes[..]).fill_checksum(&a(HOA), &a(HA));
    p.deliver(&bad);
    p.settle();
    let ba = p.msgs("ha", "BA")[0].clone();
    assert_eq!(ba.ba().0, BaStatus::MIPV6_AUTH_FAIL.0);
    // Still authenticated, with the timestamp echoed.
    let (want, spi_end) = expected_auth(&ba.bytes, COA1);
    assert_eq!(&ba.bytes[spi_end..spi_end + 12], &want);
    assert_eq!(p.ha.stats().auth_failed, 1);
    assert_eq!(p.ha.bindings(), 0);
    // RFC 4285 §5.3: the mobile node stops sending Binding Updates.
    assert_eq!(p.mn.home_entry().unwrap().state, PrimaryState::Idle);
    p.run_until(60 * S);
    assert_eq!(p.msgs("mn", "BU").len(), 1);
}

//= https://www.rfc-editor.org/rfc/rfc4285#section-6
//= type=test
//# If the Timestamp field is not valid but the authentication of the BU
//# succeeds, the Home Agent MUST send a Binding Acknowledgement with
//# status code MIPV6-ID-MISMATCH.
#[test]
fn a_replayed_binding_update_gets_144() {
    let mut p = auth_pair(|_| {}, |_| {});
    move_to(&mut p, COA1);
    let first = p.msgs("mn", "BU")[0].clone();
    p.run_until(5 * S);
    // An attacker replays the first BU 5 s later: within the window, but
    // not newer than the last accepted timestamp.
    let r = p.ha.handle_datagram(
        5 * S,
        &RxDatagram {
            src: a(COA1),
            dst: a(HA),
            hao: Some(a(HOA)),
            rh2: None,
            tunnelled: false,
            next_header: 135,
            payload: &first.bytes,
        },
    );
    assert_eq!(r, Ok(()));
    let (ev, msgs) = drain_ha(&mut p.ha);
    assert!(ev.is_empty(), "no binding change");
    assert_eq!(msgs[0].ba().0, BaStatus::MIPV6_ID_MISMATCH.0);
    // High 32 bits: the home agent's time of day; low 32: the BU's.
    let opts: Vec<MobilityOption<'_>> = msgs[0].repr().options.iter().flatten().collect();
    assert_eq!(
        opts[0],
        MobilityOption::ReplayProtection {
            timestamp: (T0 + 5) << 32
        }
    );
    assert_eq!(p.ha.stats().replay_refused, 1);
    assert_eq!(p.ha.lookup(a(HOA)), Some(a(COA1)));
}

//= https://www.rfc-editor.org/rfc/rfc4285#section-6
//= type=test
//# If the Mobile Node receives a Binding Acknowledgement with the code
//# MIPV6-ID-MISMATCH, the Mobile Node MUST authenticate the BA by
//# processing the MN-HA authentication mobility option.
#[test]
fn a_skewed_clock_is_corrected_after_144() {
    // The mobile node's clock is 100 s ahead: outside the 7 s window.
    let mut p = auth_pair(|m| m.auth = Some(mn_auth(100)), |_| {});
    move_to(&mut p, COA1);
    let bas: Vec<u8> = p.msgs("ha", "BA").iter().map(|s| s.ba().0).collect();
    assert_eq!(bas, vec![144, 0]);
    let bus = p.msgs("mn", "BU");
    let ts = |s: &Sent| {
        s.repr()
            .options
            .iter()
            .flatten()
            .find_map(|o| match o {
                MobilityOption::ReplayProtection { timestamp } => Some(timestamp),
                _ => None,
            })
            .unwrap()
    };
    assert_eq!(ts(bus[0]), (T0 + 100) << 32);
    assert_eq!(ts(bus[1]), T0 << 32);
    assert_eq!(p.mn.stats().timestamp_adjusted, 1);
    assert_eq!(p.mn.home_entry().unwrap().state, PrimaryState::Bound);
}

//= https://www.rfc-editor.org/rfc/rfc4285#section-5.1.1
//= type=test
//# If the Home
//# Agent does not have shared-key-based mobility SA, Home Agent MUST
//# discard the BU.
#[test]
fn an_unknown_spi_or_a_missing_option_is_discarded_silently() {
    let mut p = auth_pair(|_| {}, |h| h.security_associations[0].spi = 0x2000);
    move_to(&mut p, COA1);
    assert_eq!(p.ha_results, vec![Err(HaDropped::UnknownSpi)]);
    assert!(p.msgs("ha", "BA").is_empty());
    assert_eq!(p.ha.stats().dropped, 1);
    // A mobile node with a security association that sends no option.
    let mut p = auth_pair(|m| m.auth = None, |_| {});
    move_to(&mut p, COA1);
    assert_eq!(p.ha_results, vec![Err(HaDropped::AuthMissing)]);
    assert!(p.msgs("ha", "BA").is_empty());
}

//= https://www.rfc-editor.org/rfc/rfc4285#section-6
//= type=test
//# If the policy at Home Agent mandates replay protection using this
//# option (as opposed to the sequence number in the Mobility Header in
//# Binding Update) and the Binding Update from the Mobile Node does not
//# include this option, the Home Agent discards the BU and sets the
//# Status Code in BA to MIPV6-MESG-ID-REQD.
#[test]
fn a_missing_timestamp_gets_145_unless_sequence_numbers_suffice() {
    let mut p = auth_pair(
        |m| {
            if let Some(x) = m.auth.as_mut() {
                x.timestamps = false;
            }
        },
        |_| {},
    );
    move_to(&mut p, COA1);
    let ba = p.msgs("ha", "BA")[0].clone();
    assert_eq!(ba.ba().0, BaStatus::MIPV6_MESG_ID_REQD.0);
    let (want, spi_end) = expected_auth(&ba.bytes, COA1);
    assert_eq!(&ba.bytes[spi_end..spi_end + 12], &want);
    assert_eq!(p.ha.bindings(), 0);
    let mut p = auth_pair(
        |m| {
            if let Some(x) = m.auth.as_mut() {
                x.timestamps = false;
            }
        },
        |h| h.security_associations[0].require_timestamp = false,
    );
    move_to(&mut p, COA1);
    assert_eq!(p.msgs("ha", "BA")[0].ba().0, 0);
    assert_eq!(p.mn.home_entry().unwrap().state, PrimaryState::Bound);
}

//= https://www.rfc-editor.org/rfc/rfc4285#section-6
//= type=test
//# If the values do not match, the
//# Mobile Node silently discards the BA.
#[test]
fn the_mobile_node_discards_a_forged_or_mismatched_ba() {
    let mut p = auth_pair(|_| {}, |_| {});
    p.lose = |s| s.from == "ha";
    move_to(&mut p, COA1);
    let seq = p.mn.home_entry().unwrap().seq;
    let ba_with = |ts: u64, key: &[u8]| {
        let zero = [0u8; 12];
        let opts = [
            MobilityOption::ReplayProtection { timestamp: ts },
            MobilityOption::MobilityMessageAuthentication {
                subtype: 1,
                spi: SPI,
                data: &zero,
            },
        ];
        let repr = MhRepr {
            payload_proto: 59,
            message: Message::BindingAck {
                status: BaStatus::ACCEPTED,
                flags: BaFlags(0),
                sequence: seq,
                lifetime: 10,
            },
            options: Options::List(&opts),
        };
        let mut b = vec![0u8; repr.buffer_len()];
        repr.emit_unchecksummed(&mut MhPacket::new_unchecked(&mut b[..]))
            .unwrap();
        assert!(crypto::sign_mn_ha(&mut b, key, &a(COA1), &a(HOA)));
        MhPacket::new_unchecked(&mut b[..]).fill_checksum(&a(HA), &a(HOA));
        b
    };
    let give = |p: &mut Pair, b: &[u8]| {
        p.mn.handle_datagram(
            Duration::ZERO,
            &RxDatagram {
                src: a(HA),
                dst: a(HOA),
                hao: None,
                rh2: Some(a(HOA)),
                tunnelled: false,
                next_header: 135,
                payload: b,
            },
        )
    };
    let b = ba_with((T0 << 32) + 1, &KEY);
    assert_eq!(give(&mut p, &b), Err(MnDropped::TimestampMismatch));
    let b = ba_with(T0 << 32, &[0x0c; 16]);
    assert_eq!(give(&mut p, &b), Err(MnDropped::AuthFailed));
    assert_eq!(p.mn.home_entry().unwrap().state, PrimaryState::WaitA);
    let b = ba_with(T0 << 32, &KEY);
    assert_eq!(give(&mut p, &b), Ok(()));
    assert_eq!(p.mn.home_entry().unwrap().state, PrimaryState::Bound);
}

#[test]
fn multiple_care_of_addresses_with_authentication() {
    let mut p = auth_pair(|m| m.mcoa = Some(McoaConfig::default()), |_| {});
    let mv = |bid: u16, coa: &str| Movement::Moved {
        home: a(HOA),
        care_of: a(coa),
        iface: 0,
        bid: Some(bid),
    };
    p.mn.handle_bulk_movement(Duration::ZERO, &[mv(1, COA1), mv(2, COA2)]);
    p.settle();
    let bu = p.msgs("mn", "BU")[0].clone();
    let types: Vec<u8> = walk(&bu.bytes).iter().map(|x| x.0).collect();
    assert_eq!(types, vec![35, 35, 8, 10, 9]);
    // Authenticated with the source (BID 1's care-of address).
    let (want, spi_end) = expected_auth(&bu.bytes, COA1);
    assert_eq!(&bu.bytes[spi_end..spi_end + 12], &want);
    assert_eq!(p.msgs("ha", "BA")[0].ba().0, 0);
    assert_eq!(p.ha.bid_bindings(), 2);
    assert_eq!(
        p.mn.bids()
            .filter(|b| b.state == mip6_proto::mn::BidState::Bound)
            .count(),
        2
    );
}

//= https://www.rfc-editor.org/rfc/rfc4285#section-5.2
//= type=test
//# MAC_Mobility Data = SHA1(care-of address | home address | MH Data)
#[test]
fn an_mn_aaa_option_follows_the_mn_ha_option() {
    const AAA: [u8; 16] = [0x5a; 16];
    let mut p = auth_pair(
        |m| {
            if let Some(x) = m.auth.as_mut() {
                x.aaa_key = Some(AAA.to_vec());
            }
        },
        |_| {},
    );
    move_to(&mut p, COA1);
    let bu = p.msgs("mn", "BU")[0].clone();
    let opts = walk(&bu.bytes);
    let types: Vec<u8> = opts.iter().map(|x| x.0).collect();
    assert_eq!(types, vec![3, 8, 10, 9, 9]);
    // MN-HA: over the message up to its own SPI.
    let (_, ha_at) = opts[3];
    assert_eq!(bu.bytes[ha_at + 2], 1);
    let ha_end = ha_at + 7;
    let mut d = bu.bytes[..ha_end].to_vec();
    d[4] = 0;
    d[5] = 0;
    let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(&KEY).unwrap();
    mac.update(&a(COA1).octets());
    mac.update(&a(HOA).octets());
    mac.update(&d);
    assert_eq!(
        &bu.bytes[ha_end..ha_end + 12],
        &mac.finalize().into_bytes()[..12]
    );
    // MN-AAA, last: SPI HMAC_SHA1_SPI (3), HMAC_SHA1(key, SHA1(coa | hoa |
    // MH data up to its SPI)), 20 octets.
    let (_, aaa_at) = opts[4];
    assert_eq!(
        (bu.bytes[aaa_at + 1], bu.bytes[aaa_at + 2]),
        (25, 2),
        "length 5 + 20, subtype 2"
    );
    assert_eq!(&bu.bytes[aaa_at + 3..aaa_at + 7], &3u32.to_be_bytes());
    let aaa_end = aaa_at + 7;
    let mut d = bu.bytes[..aaa_end].to_vec();
    d[4] = 0;
    d[5] = 0;
    use sha1::Digest;
    let mut h = Sha1::new();
    h.update(a(COA1).octets());
    h.update(a(HOA).octets());
    h.update(&d);
    let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(&AAA).unwrap();
    mac.update(&h.finalize());
    assert_eq!(
        &bu.bytes[aaa_end..aaa_end + 20],
        &mac.finalize().into_bytes()[..]
    );
    // The home agent verifies the MN-HA option and accepts; its BA has no
    // MN-AAA option (RFC 4285 §5.2).
    let ba = p.msgs("ha", "BA")[0].clone();
    assert_eq!(ba.ba().0, 0);
    let types: Vec<u8> = walk(&ba.bytes).iter().map(|x| x.0).collect();
    assert_eq!(types, vec![10, 9]);
    assert_eq!(p.mn.home_entry().unwrap().state, PrimaryState::Bound);
}
