//! Property tests: round trips and no panics on arbitrary input.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test helpers

use std::net::Ipv6Addr;

use hba_cga::cga::{self, Sec};
use hba_cga::hba::{self, MultiPrefixExt};
use hba_cga::wire::{CgaParams, CgaParamsRepr, ExtensionRepr};
use proptest::prelude::*;

/// A DER SEQUENCE with short or long-form length.
fn der_key() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..400).prop_map(|content| {
        let mut k = vec![0x30];
        let n = content.len();
        if n < 0x80 {
            k.push(n as u8);
        } else if n < 0x100 {
            k.extend_from_slice(&[0x81, n as u8]);
        } else {
            k.extend_from_slice(&[0x82, (n >> 8) as u8, n as u8]);
        }
        k.extend_from_slice(&content);
        k
    })
}

fn ext() -> impl Strategy<Value = ExtensionRepr> {
    (any::<u16>(), prop::collection::vec(any::<u8>(), 0..64))
        .prop_map(|(ext_type, data)| ExtensionRepr { ext_type, data })
}

fn repr() -> impl Strategy<Value = CgaParamsRepr> {
    (
        any::<[u8; 16]>(),
        any::<[u8; 8]>(),
        any::<u8>(),
        der_key(),
        prop::collection::vec(ext(), 0..5),
    )
        .prop_map(
            |(modifier, subnet_prefix, collision_count, public_key, extensions)| CgaParamsRepr {
                modifier,
                subnet_prefix,
                collision_count,
                public_key,
                extensions,
            },
        )
}

proptest! {
    #[test]
    fn parse_emit_round_trip(r in repr()) {
        let b = r.to_vec().unwrap();
        prop_assert_eq!(b.len(), r.buffer_len());
        let view = CgaParams::new_checked(&b[..]).unwrap();
        prop_assert_eq!(view.extensions().count(), r.extensions.len());
        prop_assert_eq!(CgaParamsRepr::parse(&view).unwrap(), r);
    }

    #[test]
    fn truncation_inside_the_fixed_part_or_key_fails(r in repr()) {
        let b = r.to_vec().unwrap();
        for n in 0..25 + r.public_key.len() {
            prop_assert!(CgaParams::new_checked(&b[..n]).is_err());
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(b in prop::collection::vec(any::<u8>(), 0..300), a in any::<[u8; 16]>()) {
        let addr = Ipv6Addr::from(a);
        if let Ok(r) = CgaParamsRepr::from_bytes(&b) {
            prop_assert_eq!(r.to_vec().unwrap(), b.clone());
        }
        let _ = cga::verify(&addr, &b);
        let _ = hba::verify_membership(&addr, &b);
    }

    #[test]
    fn generated_sec0_always_verifies(r in repr(), collision in 0u8..3) {
        let mut r = r;
        r.collision_count = collision;
        let c = cga::Cga::from_params(r, Sec::ZERO).unwrap();
        prop_assert_eq!(cga::verify(&c.address(), c.params_bytes()), Ok(Sec::ZERO));
    }

    #[test]
    fn multi_prefix_round_trip(p in any::<bool>(), prefixes in prop::collection::vec(any::<[u8; 8]>(), 0..20)) {
        let m = MultiPrefixExt { public_key: p, prefixes };
        let e = m.to_extension().unwrap();
        prop_assert_eq!(e.data.len(), 4 + 8 * m.prefixes.len());
        prop_assert_eq!(MultiPrefixExt::parse(&e.data).unwrap(), m);
    }
}
