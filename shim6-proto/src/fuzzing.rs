//! Bodies of the fuzz targets in `fuzz/fuzz_targets/shim6_*.rs`, kept here so
//! that they compile with the crate and the stored corpora replay under
//! `cargo test --features fuzzing` (`tests/fuzz_corpus.rs`).
//!
//! Each body must never panic on any input except when it finds a bug: the
//! assertions here are the properties the fuzzer checks.

#![allow(clippy::expect_used, clippy::panic)] // a fuzz body panics exactly when it finds a bug

use alloc::vec;
use alloc::vec::Vec;

use crate::wire::{ControlRepr, OptionRepr, Options, Shim6Packet, Shim6Repr};

/// `shim6_ctrl`: parse any octets as a Shim6 header; whatever parses must
/// emit (with options re-encoded from their typed form, not copied), parse
/// again to the same representation, and emit to the same octets.
///
/// # Panics
/// When the round trip breaks (a bug).
pub fn shim6_ctrl(data: &[u8]) {
    let Ok(view) = Shim6Packet::new_checked(data) else {
        return;
    };
    let Ok(repr) = Shim6Repr::parse(&view) else {
        return;
    };
    // Re-emit from the wire form: the header octets exactly, except
    // reserved fields, which are written as zero.
    let mut first = vec![0u8; repr.buffer_len()];
    repr.emit(&mut Shim6Packet::new_unchecked(&mut first[..]))
        .expect("a parsed header re-emits");
    let again = Shim6Repr::parse(&Shim6Packet::new_checked(&first[..]).expect("fits"))
        .expect("an emitted header parses");
    assert_eq!(again, repr);

    // Re-encode options from their typed form.
    if let Shim6Repr::Control(c) = &repr {
        let opts: Vec<OptionRepr<'_>> = c.options.iter().collect();
        let typed = ControlRepr {
            next_header: c.next_header,
            message: c.message.clone(),
            options: Options::List(&opts),
        };
        let mut second = vec![0u8; typed.buffer_len()];
        typed
            .emit(&mut Shim6Packet::new_unchecked(&mut second[..]))
            .expect("typed options emit");
        let third = ControlRepr::parse(&Shim6Packet::new_checked(&second[..]).expect("fits"))
            .expect("typed emission parses");
        assert_eq!(third, typed);
        assert_eq!(third, *c);
    }
}
