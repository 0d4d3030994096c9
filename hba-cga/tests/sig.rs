//! CGA signatures (RFC 3972 §6) against an independent signer (openssl).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test helpers

use hba_cga::cga::{self, Sec};
use hba_cga::hba::{self, HbaSet};
use hba_cga::sig::{self, CgaSigner, RsaKeyLimits, RsaSigner, SEND_TAG, SHIM6_TAG};
use hba_cga::{HbaVerifyError, SignatureError, VerifyError};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

fn file(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/vectors/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn key1024() -> RsaSigner {
    RsaSigner::from_pem(std::str::from_utf8(&file("rsa1024.pem")).unwrap()).unwrap()
}

/// Parses the tags as the RFCs print them.
fn rfc_hex(s: &str) -> [u8; 16] {
    let digits: String = s.chars().filter(char::is_ascii_hexdigit).collect();
    hex::decode(digits).unwrap().try_into().unwrap()
}

#[test]
fn tags_are_the_rfc_values() {
    // RFC 3971 §5.2 and RFC 5533 §5.15.5 / §17, as printed there.
    assert_eq!(SEND_TAG, rfc_hex("086F CA5E 10B2 00C9 9C8C E001 6427 7C08"));
    assert_eq!(
        SHIM6_TAG,
        rfc_hex("4A 30 5662 4858 574B 3655 416F 506A 6D48")
    );
}

#[test]
fn same_signature_as_openssl_and_verifies_it() {
    let key = key1024();
    assert_eq!(key.bits(), 1024);
    let spki = key.public_key_der().unwrap();
    assert_eq!(spki, file("rsa1024-spki.der"));
    let input = file("sig-input-shim6.bin");
    let (tag, msg) = input.split_at(16);
    assert_eq!(tag, SHIM6_TAG);
    let theirs = file("sig-openssl-rsa1024-shim6.bin");
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let ours = key.sign(&mut rng, &SHIM6_TAG, msg).unwrap();
    assert_eq!(ours, theirs);
    assert_eq!(
        sig::verify(&spki, &SHIM6_TAG, msg, &theirs, RsaKeyLimits::DEFAULT),
        Ok(())
    );
    // The tag is part of the signed data.
    assert_eq!(
        sig::verify(&spki, &SEND_TAG, msg, &theirs, RsaKeyLimits::DEFAULT),
        Err(SignatureError::BadSignature)
    );
    // Every single-bit change of the signature is caught.
    for bit in 0..theirs.len() * 8 {
        let mut s = theirs.clone();
        s[bit / 8] ^= 0x80 >> (bit % 8);
        assert!(sig::verify(&spki, &SHIM6_TAG, msg, &s, RsaKeyLimits::DEFAULT).is_err());
    }
    assert!(
        sig::verify(
            &spki,
            &SHIM6_TAG,
            msg,
            &theirs[..127],
            RsaKeyLimits::DEFAULT
        )
        .is_err()
    );
}

#[test]
fn key_limits_and_bad_keys() {
    let spki = key1024().public_key_der().unwrap();
    let limits = RsaKeyLimits { bits: 2048..=4096 };
    assert!(sig::decode_public_key(&spki, &limits).is_err());
    assert!(sig::decode_public_key(&spki, &RsaKeyLimits::DEFAULT).is_ok());
    // An HBA pseudo-key is no RSA key.
    let pseudo = hba::pseudo_key_der(&[0x55; 48]);
    assert_eq!(
        sig::decode_public_key(&pseudo, &RsaKeyLimits::RFC3972).err(),
        Some(SignatureError::Key)
    );
    for n in 0..spki.len() {
        assert!(sig::decode_public_key(&spki[..n], &RsaKeyLimits::DEFAULT).is_err());
    }
}

#[test]
fn rfc3972_appendix_a_key_decodes_only_with_rfc_limits() {
    // The 512-bit Appendix A key: accepted under RFC 3972 §5's 384-bit
    // floor, refused by the default policy.
    let spki = hex::decode("305c300d06092a864886f70d0101010500034b003048024100c2c2f137305454f10bd9cea36844b530e9211a4b262b16467cb7dfba1f595c0194f275be5a4d386f2c3c2382508773c7867f9b3b9e63a09c7bc48f7a54ebefaf0203010001").unwrap();
    assert!(sig::decode_public_key(&spki, &RsaKeyLimits::RFC3972).is_ok());
    assert!(sig::decode_public_key(&spki, &RsaKeyLimits::DEFAULT).is_err());
}

#[test]
fn pkcs1_der_and_pem_keys_load() {
    let der = RsaSigner::from_der(&file("rsa2048-pkcs1.der")).unwrap();
    let pem = RsaSigner::from_pem(std::str::from_utf8(&file("rsa2048.pem")).unwrap()).unwrap();
    assert_eq!(der.bits(), 2048);
    assert_eq!(der.public_key_der().unwrap(), pem.public_key_der().unwrap());
    assert!(RsaSigner::from_der(b"not a key").is_err());
    assert!(
        RsaSigner::from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
            .is_err()
    );
    let again = RsaSigner::from_pem(&pem.to_pkcs8_pem().unwrap()).unwrap();
    assert_eq!(
        again.public_key_der().unwrap(),
        pem.public_key_der().unwrap()
    );
}

#[test]
fn signed_cga_end_to_end() {
    let key = key1024();
    let spki = key.public_key_der().unwrap();
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let c = cga::generate(
        &mut rng,
        [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 9],
        Sec::ONE,
        &spki,
        &[],
    )
    .unwrap();
    let msg = b"neighbor advertisement";
    let s = key.sign(&mut rng, &SEND_TAG, msg).unwrap();
    let a = c.address();
    assert_eq!(
        sig::verify_cga(
            &a,
            c.params_bytes(),
            &SEND_TAG,
            msg,
            &s,
            RsaKeyLimits::DEFAULT
        ),
        Ok(Sec::ONE)
    );
    let mut o = a.octets();
    o[15] ^= 4;
    assert_eq!(
        sig::verify_cga(
            &o.into(),
            c.params_bytes(),
            &SEND_TAG,
            msg,
            &s,
            RsaKeyLimits::DEFAULT
        ),
        Err(SignatureError::Cga(VerifyError::Hash1))
    );
    assert_eq!(
        sig::verify_cga(
            &a,
            c.params_bytes(),
            &SEND_TAG,
            b"other",
            &s,
            RsaKeyLimits::DEFAULT
        ),
        Err(SignatureError::BadSignature)
    );
}

#[test]
fn keygen_with_injected_rng_is_deterministic() {
    let a = RsaSigner::generate(&mut ChaCha20Rng::seed_from_u64(11), 1024).unwrap();
    let b = RsaSigner::generate(&mut ChaCha20Rng::seed_from_u64(11), 1024).unwrap();
    assert_eq!(a.bits(), 1024);
    assert_eq!(a.public_key_der().unwrap(), b.public_key_der().unwrap());
    assert!(RsaSigner::generate(&mut ChaCha20Rng::seed_from_u64(11), 512).is_err());
}

#[test]
fn cga_compatible_hba_set_adds_a_prefix_as_a_signed_cga() {
    let key = key1024();
    let spki = key.public_key_der().unwrap();
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let prefixes = [
        [0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0],
        [0x20, 0x01, 0x0d, 0xb8, 0, 2, 0, 0],
    ];
    let set = HbaSet::generate(&mut rng, &prefixes, Sec::ONE, Some(&spki)).unwrap();
    assert!(set.is_cga_compatible());
    for m in set.members() {
        assert_eq!(
            hba::verify_membership(&m.address(), set.members()[0].params_bytes()),
            Ok(Sec::ONE)
        );
        assert_eq!(cga::verify(&m.address(), m.params_bytes()), Ok(Sec::ONE));
    }
    // A third prefix, learnt later.
    let late = set
        .add_prefix_as_cga([0x20, 0x01, 0x0d, 0xb8, 0, 3, 0, 0])
        .unwrap();
    assert_eq!(
        cga::verify(&late.address(), late.params_bytes()),
        Ok(Sec::ONE)
    );
    assert_eq!(
        hba::verify_membership(&late.address(), set.members()[0].params_bytes()),
        Err(HbaVerifyError::PrefixNotInSet)
    );
    let update = b"locator list: the three prefixes";
    let s = key.sign(&mut rng, &SHIM6_TAG, update).unwrap();
    assert_eq!(
        sig::verify_cga(
            &late.address(),
            late.params_bytes(),
            &SHIM6_TAG,
            update,
            &s,
            RsaKeyLimits::DEFAULT
        ),
        Ok(Sec::ONE)
    );
    // An HBA-only set has no key to sign with.
    let only = HbaSet::generate(&mut rng, &prefixes, Sec::ZERO, None).unwrap();
    assert!(only.add_prefix_as_cga([9; 8]).is_err());
}
