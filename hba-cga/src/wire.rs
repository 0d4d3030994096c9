//! The CGA Parameters data structure (RFC 3972 §3) and its extension fields
//! (RFC 4581 TLVs).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                                                               |
//! +                      Modifier (16 octets)                     +
//! |                                                               |
//! +                                                               +
//! |                                                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                    Subnet Prefix (8 octets)                   |
//! +                                                               +
//! |                                                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |Collision Count|                                               |
//! +-+-+-+-+-+-+-+-+                                               |
//! ~                  Public Key (variable length)                 ~
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ~           Extension Fields (optional, variable length)        ~
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! The public key is a DER SubjectPublicKeyInfo; its length comes from its
//! outer DER header, and the view treats its content as opaque bytes (so
//! HBA pseudo-keys and non-RSA keys pass through unchanged). Everything
//! after it is a sequence of RFC 4581 extension TLVs (16-bit type, 16-bit
//! length of the data, data); unknown types are kept, never dropped.
//!
//! ```
//! use hba_cga::wire::{CgaParams, CgaParamsRepr, ExtensionRepr};
//! # fn main() -> Result<(), hba_cga::Error> {
//! let repr = CgaParamsRepr {
//!     modifier: [7; 16],
//!     subnet_prefix: [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1],
//!     collision_count: 0,
//!     public_key: vec![0x30, 0x03, 0x02, 0x01, 0x05], // any DER SEQUENCE
//!     extensions: vec![ExtensionRepr { ext_type: 0xfffd, data: vec![1, 2, 3] }],
//! };
//! let bytes = repr.to_vec()?;
//! assert_eq!(bytes.len(), repr.buffer_len());
//! let view = CgaParams::new_checked(&bytes[..])?;
//! assert_eq!(view.public_key(), &[0x30, 0x03, 0x02, 0x01, 0x05]);
//! assert_eq!(view.extensions().count(), 1);
//! assert_eq!(CgaParamsRepr::parse(&view)?, repr);
//! # Ok(()) }
//! ```

#![deny(clippy::arithmetic_side_effects)]

use alloc::vec::Vec;

use crate::error::Error;

/// Field offsets of the fixed part.
mod field {
    use core::ops::Range;
    /// The 128-bit modifier.
    pub const MODIFIER: Range<usize> = 0..16;
    /// The 64-bit subnet prefix.
    pub const SUBNET_PREFIX: Range<usize> = 16..24;
    /// The 8-bit collision count.
    pub const COLLISION_COUNT: usize = 24;
    /// Start of the public key.
    pub const PUBLIC_KEY: usize = 25;
}

/// Length of the fixed part (modifier, subnet prefix, collision count).
pub const FIXED_LEN: usize = field::PUBLIC_KEY;

/// Length of an RFC 4581 extension header (type and length).
pub const EXT_HEADER_LEN: usize = 4;

/// Largest DER length this crate accepts for the public key field (1 MiB;
/// real keys are a few hundred octets, and the buffer bounds it anyway).
pub const MAX_PUBLIC_KEY_LEN: usize = 1 << 20;

/// Total length (header included) of the DER TLV at the start of `b`, which
/// must be a SEQUENCE with a definite length that fits in `b`.
///
/// # Errors
/// [`Error::Truncated`] when `b` is shorter than the TLV,
/// [`Error::BadPublicKey`] when the tag is not SEQUENCE or the length form
/// is indefinite or longer than 3 octets.
pub fn der_sequence_len(b: &[u8]) -> Result<usize, Error> {
    let (&tag, rest) = b.split_first().ok_or(Error::Truncated)?;
    if tag != 0x30 {
        return Err(Error::BadPublicKey);
    }
    let (&l0, rest) = rest.split_first().ok_or(Error::Truncated)?;
    let (hdr, len) = if l0 < 0x80 {
        (2usize, usize::from(l0))
    } else {
        let n = usize::from(l0 & 0x7f);
        if n == 0 || n > 3 {
            return Err(Error::BadPublicKey);
        }
        let octets = rest.get(..n).ok_or(Error::Truncated)?;
        let len = octets
            .iter()
            .fold(0usize, |acc, &o| (acc << 8) | usize::from(o));
        (2 + n, len)
    };
    if len > MAX_PUBLIC_KEY_LEN {
        return Err(Error::BadPublicKey);
    }
    let total = hdr.checked_add(len).ok_or(Error::BadPublicKey)?;
    if total > b.len() {
        return Err(Error::Truncated);
    }
    Ok(total)
}

/// Checks that `b` is a sequence of well-formed RFC 4581 TLVs.
fn check_extensions(mut b: &[u8]) -> Result<(), Error> {
    while !b.is_empty() {
        let (_, _, rest) = split_extension(b)?;
        b = rest;
    }
    Ok(())
}

/// Splits one TLV off the front of `b`.
fn split_extension(b: &[u8]) -> Result<(u16, &[u8], &[u8]), Error> {
    let (hdr, rest) = b
        .split_first_chunk::<EXT_HEADER_LEN>()
        .ok_or(Error::BadExtension)?;
    let ext_type = u16::from_be_bytes([hdr[0], hdr[1]]);
    let len = usize::from(u16::from_be_bytes([hdr[2], hdr[3]]));
    if rest.len() < len {
        return Err(Error::BadExtension);
    }
    let (data, rest) = rest.split_at(len);
    Ok((ext_type, data, rest))
}

/// A zero-copy view of CGA Parameters.
///
/// After [`CgaParams::new_checked`] succeeds, no accessor panics and the
/// extension fields are known to be well-formed TLVs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CgaParams<T: AsRef<[u8]>> {
    buf: T,
}

impl<T: AsRef<[u8]>> CgaParams<T> {
    /// Wraps a buffer without checking it (for emit buffers).
    pub const fn new_unchecked(buf: T) -> Self {
        Self { buf }
    }

    /// Wraps a buffer and checks it with [`CgaParams::check_len`].
    ///
    /// # Errors
    /// See [`CgaParams::check_len`].
    pub fn new_checked(buf: T) -> Result<Self, Error> {
        let p = Self { buf };
        p.check_len()?;
        Ok(p)
    }

    /// Checks the fixed part, the DER length of the public key and the TLV
    /// framing of the extension fields.
    ///
    /// # Errors
    /// [`Error::Truncated`], [`Error::BadPublicKey`] or [`Error::BadExtension`].
    pub fn check_len(&self) -> Result<(), Error> {
        let b = self.buf.as_ref();
        let key = b.get(field::PUBLIC_KEY..).ok_or(Error::Truncated)?;
        let key_len = der_sequence_len(key)?;
        check_extensions(key.get(key_len..).ok_or(Error::Truncated)?)
    }

    /// Consumes the view and returns the buffer.
    pub fn into_inner(self) -> T {
        self.buf
    }

    /// The whole structure (the input of Hash1).
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.as_ref()
    }

    /// The 128-bit modifier.
    pub fn modifier(&self) -> [u8; 16] {
        let mut m = [0; 16];
        if let Some(s) = self.buf.as_ref().get(field::MODIFIER) {
            m.copy_from_slice(s);
        }
        m
    }

    /// The 64-bit subnet prefix.
    pub fn subnet_prefix(&self) -> [u8; 8] {
        let mut p = [0; 8];
        if let Some(s) = self.buf.as_ref().get(field::SUBNET_PREFIX) {
            p.copy_from_slice(s);
        }
        p
    }

    /// The collision count.
    pub fn collision_count(&self) -> u8 {
        self.buf
            .as_ref()
            .get(field::COLLISION_COUNT)
            .copied()
            .unwrap_or(0)
    }

    fn key_end(&self) -> usize {
        let b = self.buf.as_ref();
        b.get(field::PUBLIC_KEY..)
            .and_then(|k| der_sequence_len(k).ok())
            .map_or(b.len(), |l| field::PUBLIC_KEY.saturating_add(l))
    }

    /// The public key (a DER SubjectPublicKeyInfo, kept opaque).
    pub fn public_key(&self) -> &[u8] {
        self.buf
            .as_ref()
            .get(field::PUBLIC_KEY..self.key_end())
            .unwrap_or(&[])
    }

    /// The raw extension fields (everything after the public key).
    pub fn extension_bytes(&self) -> &[u8] {
        self.buf.as_ref().get(self.key_end()..).unwrap_or(&[])
    }

    /// The public key followed by the extension fields (the constant tail of
    /// the Hash2 input).
    pub fn key_and_extensions(&self) -> &[u8] {
        self.buf.as_ref().get(field::PUBLIC_KEY..).unwrap_or(&[])
    }

    /// Iterates over the extension fields, unknown types included.
    pub fn extensions(&self) -> Extensions<'_> {
        Extensions {
            rest: self.extension_bytes(),
        }
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> CgaParams<T> {
    /// Sets the modifier.
    pub fn set_modifier(&mut self, m: &[u8; 16]) {
        if let Some(s) = self.buf.as_mut().get_mut(field::MODIFIER) {
            s.copy_from_slice(m);
        }
    }

    /// Sets the subnet prefix.
    pub fn set_subnet_prefix(&mut self, p: &[u8; 8]) {
        if let Some(s) = self.buf.as_mut().get_mut(field::SUBNET_PREFIX) {
            s.copy_from_slice(p);
        }
    }

    /// Sets the collision count.
    pub fn set_collision_count(&mut self, c: u8) {
        if let Some(s) = self.buf.as_mut().get_mut(field::COLLISION_COUNT) {
            *s = c;
        }
    }
}

/// One extension field, borrowed from a [`CgaParams`] view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extension<'a> {
    /// The 16-bit Extension Type.
    pub ext_type: u16,
    /// The Extension Data.
    pub data: &'a [u8],
}

/// Lazy iterator over the extension fields of a view.
#[derive(Debug, Clone)]
pub struct Extensions<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Extensions<'a> {
    type Item = Extension<'a>;

    fn next(&mut self) -> Option<Extension<'a>> {
        match split_extension(self.rest) {
            Ok((ext_type, data, rest)) => {
                self.rest = rest;
                Some(Extension { ext_type, data })
            }
            Err(_) => {
                self.rest = &[];
                None
            }
        }
    }
}

/// An owned extension field (RFC 4581 TLV).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct ExtensionRepr {
    /// The 16-bit Extension Type.
    pub ext_type: u16,
    /// The Extension Data (at most 65535 octets).
    pub data: Vec<u8>,
}

impl ExtensionRepr {
    /// Encoded length (header included).
    #[must_use]
    pub fn buffer_len(&self) -> usize {
        EXT_HEADER_LEN.saturating_add(self.data.len())
    }

    /// Appends the TLV to `out`.
    ///
    /// # Errors
    /// [`Error::TooLong`] when the data is longer than 65535 octets.
    pub fn write(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        let len = u16::try_from(self.data.len()).map_err(|_| Error::TooLong)?;
        out.extend_from_slice(&self.ext_type.to_be_bytes());
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&self.data);
        Ok(())
    }

    /// Encodes a list of extensions as the Extension Fields octets.
    ///
    /// # Errors
    /// [`Error::TooLong`] when a value is longer than 65535 octets.
    pub fn encode_all(exts: &[Self]) -> Result<Vec<u8>, Error> {
        let mut out = Vec::with_capacity(exts.iter().map(Self::buffer_len).sum());
        for e in exts {
            e.write(&mut out)?;
        }
        Ok(out)
    }
}

/// Owned CGA Parameters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct CgaParamsRepr {
    /// The 128-bit modifier.
    pub modifier: [u8; 16],
    /// The 64-bit subnet prefix.
    pub subnet_prefix: [u8; 8],
    /// The collision count (0, 1 or 2 in a valid CGA; any value parses).
    pub collision_count: u8,
    /// The public key: exactly one DER SEQUENCE (a SubjectPublicKeyInfo).
    pub public_key: Vec<u8>,
    /// The extension fields, in order, unknown types included.
    pub extensions: Vec<ExtensionRepr>,
}

impl CgaParamsRepr {
    /// Parses a checked view. Allocates only the owned copies of the public
    /// key and extension data (bounded by the input length).
    ///
    /// # Errors
    /// The errors of [`CgaParams::check_len`] (checked again here, so a view
    /// built with `new_unchecked` is safe to pass).
    pub fn parse<T: AsRef<[u8]>>(p: &CgaParams<T>) -> Result<Self, Error> {
        p.check_len()?;
        Ok(Self {
            modifier: p.modifier(),
            subnet_prefix: p.subnet_prefix(),
            collision_count: p.collision_count(),
            public_key: p.public_key().to_vec(),
            extensions: p
                .extensions()
                .map(|e| ExtensionRepr {
                    ext_type: e.ext_type,
                    data: e.data.to_vec(),
                })
                .collect(),
        })
    }

    /// Parses bytes (shorthand for `parse(&CgaParams::new_checked(b)?)`).
    ///
    /// # Errors
    /// See [`CgaParams::check_len`].
    pub fn from_bytes(b: &[u8]) -> Result<Self, Error> {
        Self::parse(&CgaParams::new_checked(b)?)
    }

    /// Encoded length.
    #[must_use]
    pub fn buffer_len(&self) -> usize {
        self.extensions.iter().map(ExtensionRepr::buffer_len).fold(
            FIXED_LEN.saturating_add(self.public_key.len()),
            usize::saturating_add,
        )
    }

    /// Checks what `emit` needs: the public key is exactly one DER SEQUENCE
    /// and every extension value fits its 16-bit length.
    ///
    /// # Errors
    /// [`Error::BadPublicKey`], [`Error::Truncated`] or [`Error::TooLong`].
    pub fn check(&self) -> Result<(), Error> {
        if der_sequence_len(&self.public_key)? != self.public_key.len() {
            return Err(Error::BadPublicKey);
        }
        if self
            .extensions
            .iter()
            .any(|e| u16::try_from(e.data.len()).is_err())
        {
            return Err(Error::TooLong);
        }
        Ok(())
    }

    /// Writes the structure into a view of exactly `buffer_len()` octets.
    ///
    /// # Errors
    /// [`Error::BufferLength`] for a buffer of another length, and the
    /// errors of [`CgaParamsRepr::check`].
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, p: &mut CgaParams<T>) -> Result<(), Error> {
        self.check()?;
        if p.buf.as_ref().len() != self.buffer_len() {
            return Err(Error::BufferLength);
        }
        let out = p.buf.as_mut();
        let mut pos: usize = 0;
        let mut put = |bytes: &[u8]| {
            if let Some(dst) = out.get_mut(pos..pos.saturating_add(bytes.len())) {
                dst.copy_from_slice(bytes);
            }
            pos = pos.saturating_add(bytes.len());
        };
        put(&self.modifier);
        put(&self.subnet_prefix);
        put(&[self.collision_count]);
        put(&self.public_key);
        for e in &self.extensions {
            let len = u16::try_from(e.data.len()).map_err(|_| Error::TooLong)?;
            put(&e.ext_type.to_be_bytes());
            put(&len.to_be_bytes());
            put(&e.data);
        }
        Ok(())
    }

    /// Encodes into a new vector.
    ///
    /// # Errors
    /// See [`CgaParamsRepr::check`].
    pub fn to_vec(&self) -> Result<Vec<u8>, Error> {
        let mut v = alloc::vec![0u8; self.buffer_len()];
        self.emit(&mut CgaParams::new_unchecked(&mut v[..]))?;
        Ok(v)
    }

    /// The encoded extension fields (Hash1 and Hash2 input tail).
    ///
    /// # Errors
    /// [`Error::TooLong`] when a value exceeds 65535 octets.
    pub fn extension_bytes(&self) -> Result<Vec<u8>, Error> {
        ExtensionRepr::encode_all(&self.extensions)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn sample() -> CgaParamsRepr {
        CgaParamsRepr {
            modifier: [0x11; 16],
            subnet_prefix: [0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2],
            collision_count: 1,
            public_key: vec![0x30, 0x81, 0x02, 0xaa, 0xbb],
            extensions: vec![
                ExtensionRepr {
                    ext_type: 0x0012,
                    data: vec![0x80, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8],
                },
                ExtensionRepr {
                    ext_type: 0xffff,
                    data: vec![],
                },
            ],
        }
    }

    #[test]
    fn layout_is_the_rfc_one() {
        let b = sample().to_vec().unwrap();
        assert_eq!(&b[..16], &[0x11; 16]);
        assert_eq!(&b[16..24], &[0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2]);
        assert_eq!(b[24], 1);
        assert_eq!(&b[25..30], &[0x30, 0x81, 0x02, 0xaa, 0xbb]);
        assert_eq!(&b[30..34], &[0x00, 0x12, 0x00, 0x0c]);
        assert_eq!(&b[46..50], &[0xff, 0xff, 0x00, 0x00]);
        assert_eq!(b.len(), 50);
    }

    #[test]
    fn every_truncation_fails() {
        let b = sample().to_vec().unwrap();
        for n in 0..b.len() {
            // 30 (end of the key) and 46 (between the two extensions) are TLV
            // boundaries: those prefixes are complete, shorter structures.
            if n == 30 || n == 46 {
                assert!(CgaParams::new_checked(&b[..n]).is_ok());
                continue;
            }
            assert!(CgaParams::new_checked(&b[..n]).is_err(), "len {n}");
        }
    }

    #[test]
    fn der_lengths() {
        assert_eq!(der_sequence_len(&[0x30, 0x00]), Ok(2));
        assert_eq!(der_sequence_len(&[0x31, 0x00]), Err(Error::BadPublicKey));
        assert_eq!(der_sequence_len(&[0x30, 0x80]), Err(Error::BadPublicKey));
        assert_eq!(
            der_sequence_len(&[0x30, 0x84, 0, 0, 0, 1]),
            Err(Error::BadPublicKey)
        );
        assert_eq!(der_sequence_len(&[0x30, 0x82, 0x00]), Err(Error::Truncated));
        assert_eq!(der_sequence_len(&[0x30, 0x82, 0x00, 0x01, 0x05]), Ok(5));
        assert_eq!(
            der_sequence_len(&[0x30, 0x83, 0xff, 0xff, 0xff]),
            Err(Error::BadPublicKey)
        );
    }

    #[test]
    fn emit_checks_key_and_buffer() {
        let mut r = sample();
        let mut short = [0u8; 10];
        assert_eq!(
            r.emit(&mut CgaParams::new_unchecked(&mut short[..])),
            Err(Error::BufferLength)
        );
        r.public_key.push(0);
        assert_eq!(r.to_vec(), Err(Error::BadPublicKey));
        r.public_key.pop();
        r.extensions[0].data = vec![0; 65536];
        assert_eq!(r.to_vec(), Err(Error::TooLong));
    }

    #[test]
    fn setters() {
        let mut b = sample().to_vec().unwrap();
        let mut v = CgaParams::new_unchecked(&mut b[..]);
        v.set_modifier(&[9; 16]);
        v.set_subnet_prefix(&[8; 8]);
        v.set_collision_count(2);
        let r = CgaParamsRepr::from_bytes(&b).unwrap();
        assert_eq!(
            (r.modifier, r.subnet_prefix, r.collision_count),
            ([9; 16], [8; 8], 2)
        );
    }
}
