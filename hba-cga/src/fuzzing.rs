//! Bodies of the cargo-fuzz targets (`fuzz/fuzz_targets/cga_*.rs`), behind
//! the `fuzzing` cargo feature so that they keep compiling and the stored
//! corpora replay under `cargo test` (`tests/fuzz_corpus.rs`).
//!
//! Each function takes the fuzzer's bytes, must never panic on any input,
//! and asserts the invariants that hold whatever the input. The `fuzzing`
//! cargo feature changes no check of the library; only the rustc cfg
//! `fuzzing` that cargo-fuzz sets relaxes RSA signature verification
//! ([`crate::sig::verify`]).

use core::net::Ipv6Addr;

use crate::cga::{self, Sec};
use crate::hba;
use crate::wire::{CgaParams, CgaParamsRepr};

fn split_address(data: &[u8]) -> Option<(Ipv6Addr, &[u8])> {
    let (a, rest) = data.split_first_chunk::<16>()?;
    Some((Ipv6Addr::from(*a), rest))
}

/// Target `cga_params`: parses the bytes as CGA Parameters; whatever parses
/// re-emits to the same bytes and parses to the same value.
///
/// # Panics
/// When an invariant breaks (that is the point of a fuzz target).
#[allow(clippy::panic)]
pub fn cga_params(data: &[u8]) {
    let Ok(view) = CgaParams::new_checked(data) else {
        return;
    };
    let _ = view.extensions().count();
    let Ok(repr) = CgaParamsRepr::parse(&view) else {
        panic!("a checked view failed to parse");
    };
    match repr.to_vec() {
        Ok(bytes) if bytes == data => {}
        other => panic!("emit differs from the input: {other:?}"),
    }
    if repr.buffer_len() != data.len() {
        panic!("buffer_len differs from the input length");
    }
}

/// Target `cga_verify`: the first 16 octets are an address, the rest CGA
/// Parameters. Verification must not panic, and a success must be
/// consistent with the parameters (prefix, collision count, Sec).
///
/// # Panics
/// When an invariant breaks.
#[allow(clippy::panic)]
pub fn cga_verify(data: &[u8]) {
    let Some((addr, params)) = split_address(data) else {
        return;
    };
    if let Ok(sec) = cga::verify(&addr, params) {
        let Ok(view) = CgaParams::new_checked(params) else {
            panic!("verified parameters do not parse");
        };
        if view.subnet_prefix() != cga::prefix_of(&addr) || view.collision_count() > 2 {
            panic!("verified a CGA that fails step 1 or 2");
        }
        if sec != Sec::of_address(&addr) {
            panic!("wrong Sec");
        }
        // Regeneration from the parameters gives the same address up to
        // the u and g bits.
        if let Ok(repr) = CgaParamsRepr::parse(&view)
            && let Ok(c) = cga::Cga::from_params(repr, sec)
        {
            let (a, b) = (c.address().octets(), addr.octets());
            let same = a.iter().zip(b.iter()).enumerate().all(|(i, (x, y))| {
                if i == 8 {
                    x & !0x03 == y & !0x03
                } else {
                    x == y
                }
            });
            if !same {
                panic!("regenerated address differs");
            }
        }
    }
}

/// Target `hba_verify`: the first 16 octets are an address, the rest the
/// CGA Parameters of an HBA set member. Membership verification must not
/// panic, and a success implies the prefix is in the set.
///
/// # Panics
/// When an invariant breaks.
#[allow(clippy::panic)]
pub fn hba_verify(data: &[u8]) {
    let Some((addr, params)) = split_address(data) else {
        return;
    };
    if hba::verify_membership(&addr, params).is_ok() {
        let Ok(view) = CgaParams::new_checked(params) else {
            panic!("verified parameters do not parse");
        };
        match hba::MultiPrefixExt::find(&view) {
            Some(Ok(m)) if m.contains(&cga::prefix_of(&addr)) => {}
            _ => panic!("member of a set that does not list its prefix"),
        }
    }
}
