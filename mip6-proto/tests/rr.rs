//! Return routability on the correspondent's side: the nonce table with
//! indices, MAX_NONCE_LIFETIME expiry and Kcn regeneration, driven by a seeded
//! ChaCha generator, and a Binding Update signed by the mobile node's side.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use core::net::Ipv6Addr;
use core::time::Duration;

use mip6_proto::crypto::{self, NonceConfig, NonceTable, RrError};
use mip6_proto::wire::mh::{BaStatus, BuFlags, Message, MhPacket, MhRepr};
use mip6_proto::wire::options::{MobilityOption, Options};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

fn a(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

/// The MN side: a BU with Nonce Indices and Binding Authorization Data, signed with Kbm.
fn signed_bu(
    kbm: &crypto::Kbm,
    hi: u16,
    ci: u16,
    coa: &Ipv6Addr,
    cn: &Ipv6Addr,
    lifetime: u16,
) -> Vec<u8> {
    let opts = [
        MobilityOption::NonceIndices {
            home: hi,
            care_of: ci,
        },
        MobilityOption::BindingAuthorizationData(&[0; 12]),
    ];
    let bu = MhRepr {
        payload_proto: 59,
        message: Message::BindingUpdate {
            sequence: 9,
            flags: BuFlags::A,
            lifetime,
        },
        options: Options::List(&opts),
    };
    let mut buf = vec![0u8; bu.buffer_len()];
    bu.emit_unchecksummed(&mut MhPacket::new_unchecked(&mut buf[..]))
        .unwrap();
    assert!(crypto::sign_mh(&mut buf, kbm, coa, cn));
    buf
}

#[test]
fn correspondent_verifies_what_the_mobile_node_signs() {
    let (hoa, coa, cn) = (
        a("2001:db8:1::100"),
        a("2001:db8:2::200"),
        a("2001:db8:3::300"),
    );
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let t0 = Duration::from_secs(1000);
    let mut table = NonceTable::new(NonceConfig::default(), &mut rng, t0);
    let (hi, ht) = table.home_token(&mut rng, t0, &hoa);
    let (ci, ct) = table.care_of_token(&mut rng, t0 + Duration::from_secs(1), &coa);
    assert_eq!(
        hi, ci,
        "one nonce serves both tests within the nonce interval"
    );
    // The MN computes Kbm from the tokens it received.
    let kbm = crypto::kbm(&ht, Some(&ct));
    let bu = signed_bu(&kbm, hi, ci, &coa, &cn, 100);
    let t = t0 + Duration::from_secs(10);
    assert_eq!(
        table.verify_bu(t, &bu, &hoa, &coa, &cn, hi, ci, false),
        Ok(kbm)
    );
    // A wrong care-of address, correspondent or index fails.
    assert_eq!(
        table.verify_bu(t, &bu, &hoa, &hoa, &cn, hi, ci, false),
        Err(RrError::BadAuthenticator)
    );
    assert_eq!(
        table.verify_bu(t, &bu, &hoa, &coa, &hoa, hi, ci, false),
        Err(RrError::BadAuthenticator)
    );
    assert_eq!(
        table.verify_bu(t, &bu, &hoa, &coa, &cn, hi.wrapping_add(100), ci, false),
        Err(RrError::ExpiredHomeNonce)
    );
    assert_eq!(
        table.verify_bu(t, &bu, &hoa, &coa, &cn, hi, ci.wrapping_add(100), false),
        Err(RrError::ExpiredCareOfNonce)
    );
    assert_eq!(
        table.verify_bu(
            t,
            &bu,
            &hoa,
            &coa,
            &cn,
            hi.wrapping_add(100),
            ci.wrapping_add(100),
            false
        ),
        Err(RrError::ExpiredNonces)
    );
    // Deregistration: Kbm from the home token only (RFC 6275 §5.2.5).
    let kbm_d = crypto::kbm(&ht, None);
    let bu_d = signed_bu(&kbm_d, hi, 0, &hoa, &cn, 0);
    assert_eq!(
        table.verify_bu(t, &bu_d, &hoa, &hoa, &cn, hi, 0, true),
        Ok(kbm_d)
    );
}

#[test]
fn nonces_expire_after_max_nonce_lifetime() {
    let hoa = a("2001:db8:1::100");
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let t0 = Duration::ZERO;
    let mut table = NonceTable::new(NonceConfig::default(), &mut rng, t0);
    let (i0, _) = table.home_token(&mut rng, t0, &hoa);
    // 239 s later it is still known; at 240 s (MAX_NONCE_LIFETIME) it is not.
    let just_before = crypto::MAX_NONCE_LIFETIME - Duration::from_secs(1);
    assert!(table.kbm_for(just_before, &hoa, &hoa, i0, 0, true).is_ok());
    assert_eq!(
        table.kbm_for(crypto::MAX_NONCE_LIFETIME, &hoa, &hoa, i0, 0, true),
        Err(RrError::ExpiredHomeNonce)
    );
    // Newer nonces get new indices; the table stays bounded.
    let mut seen = std::collections::BTreeSet::new();
    for s in 0..100u64 {
        let i = table.current(&mut rng, Duration::from_secs(s * 30));
        seen.insert(i);
        assert!(table.len() <= NonceConfig::default().max_nonces);
        assert!(table.len() <= 9, "nonces older than 240 s are dropped");
    }
    assert_eq!(seen.len(), 100);
    assert_eq!(RrError::ExpiredHomeNonce.ba_status(), Some(BaStatus(136)));
    assert_eq!(RrError::ExpiredCareOfNonce.ba_status(), Some(BaStatus(137)));
    assert_eq!(RrError::ExpiredNonces.ba_status(), Some(BaStatus(138)));
    assert_eq!(RrError::BadAuthenticator.ba_status(), None);
}

#[test]
fn kcn_regeneration_keeps_issued_tokens_valid_until_their_nonce_expires() {
    let hoa = a("2001:db8:1::100");
    let cfg = NonceConfig {
        kcn_lifetime: Duration::from_secs(100),
        ..NonceConfig::default()
    };
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let mut table = NonceTable::new(cfg, &mut rng, Duration::ZERO);
    let (i0, t0) = table.home_token(&mut rng, Duration::ZERO, &hoa);
    let k_before = table
        .kbm_for(Duration::from_secs(1), &hoa, &hoa, i0, 0, true)
        .unwrap();
    assert_eq!(k_before, crypto::kbm(&t0, None));
    // After the Kcn lifetime a new Kcn and nonce exist ...
    let (i1, t1) = table.home_token(&mut rng, Duration::from_secs(150), &hoa);
    assert_ne!(i0, i1);
    assert_ne!(t0, t1);
    // ... and the old index still yields the old token's Kbm.
    assert_eq!(
        table.kbm_for(Duration::from_secs(150), &hoa, &hoa, i0, 0, true),
        Ok(k_before)
    );
}

#[test]
fn same_seed_same_tokens() {
    let hoa = a("2001:db8:1::100");
    let run = |seed| {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let mut t = NonceTable::new(NonceConfig::default(), &mut rng, Duration::ZERO);
        t.home_token(&mut rng, Duration::from_secs(5), &hoa)
    };
    assert_eq!(run(42), run(42));
    assert_ne!(run(42), run(43));
}

#[test]
fn signing_refuses_a_message_without_the_authorization_option_last() {
    let opts = [
        MobilityOption::BindingAuthorizationData(&[0; 12]),
        MobilityOption::NonceIndices {
            home: 1,
            care_of: 2,
        },
    ];
    let bu = MhRepr {
        payload_proto: 59,
        message: Message::BindingUpdate {
            sequence: 1,
            flags: BuFlags::A,
            lifetime: 1,
        },
        options: Options::List(&opts),
    };
    let mut buf = vec![0u8; bu.buffer_len()];
    bu.emit_unchecksummed(&mut MhPacket::new_unchecked(&mut buf[..]))
        .unwrap();
    let before = buf.clone();
    assert!(!crypto::sign_mh(&mut buf, &[1; 20], &a("::1"), &a("::2")));
    assert_eq!(buf, before);
    assert!(!crypto::verify_mh(&buf, &[1; 20], &a("::1"), &a("::2")));
    assert!(!crypto::verify_mh(&[], &[1; 20], &a("::1"), &a("::2")));
}
