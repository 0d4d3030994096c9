//! Return routability cryptography (RFC 6275 §5.2).
//!
//! ```text
//! home keygen token    = First(64, HMAC_SHA1(Kcn, home address | nonce | 0))
//! care-of keygen token = First(64, HMAC_SHA1(Kcn, care-of address | nonce | 1))
//! Kbm                  = SHA1(home keygen token | care-of keygen token)
//! Kbm (deregistration) = SHA1(home keygen token)
//! Authenticator        = First(96, HMAC_SHA1(Kbm, care-of address |
//!                                   correspondent | MH data))
//! ```
//! The MH data is the Mobility Header up to and including the type and
//! length octets of the Binding Authorization Data option (the last option,
//! RFC 6275 §6.2.7), with the checksum taken as zero. HMAC and SHA-1 come
//! from the RustCrypto `hmac` and `sha1` crates.
//!
//! The correspondent's [`NonceTable`] holds the nonces it hands out with their
//! indices and the Kcn each was issued under; nonces expire after
//! `MAX_NONCE_LIFETIME` and Kcn is regenerated from the injected RNG.

use alloc::collections::VecDeque;
use core::net::Ipv6Addr;
use core::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use rand_core::CryptoRng;
use sha1::{Digest, Sha1};

/// Kcn, the correspondent's secret (20 octets).
pub type Kcn = [u8; 20];
/// A nonce (64 bits).
pub type Nonce = [u8; 8];
/// A keygen token (64 bits).
pub type Token = [u8; 8];
/// Kbm, the binding management key (20 octets).
pub type Kbm = [u8; 20];
/// The Binding Authorization Data authenticator (96 bits).
pub type Authenticator = [u8; 12];

/// MAX_NONCE_LIFETIME (RFC 6275 §12): 240 seconds.
pub const MAX_NONCE_LIFETIME: Duration = Duration::from_secs(240);
/// MAX_TOKEN_LIFETIME (RFC 6275 §12): 210 seconds.
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(210);
/// Length of the Binding Authorization Data option on the wire (type, length, 12 octets).
pub const BAD_OPTION_LEN: usize = 14;

fn hmac_sha1(key: &[u8]) -> Hmac<Sha1> {
    match <Hmac<Sha1> as KeyInit>::new_from_slice(key) {
        Ok(m) => m,
        // HMAC accepts keys of any length; this arm is never taken.
        Err(_) => <Hmac<Sha1> as KeyInit>::new(&Default::default()),
    }
}

fn first<const N: usize>(d: &[u8]) -> [u8; N] {
    d.first_chunk::<N>().copied().unwrap_or([0; N])
}

fn keygen(kcn: &Kcn, addr: &Ipv6Addr, nonce: &Nonce, which: u8) -> Token {
    let mut m = hmac_sha1(kcn);
    m.update(&addr.octets());
    m.update(nonce);
    m.update(&[which]);
    first(&m.finalize().into_bytes())
}

/// Home keygen token for `home` and the home nonce.
#[must_use]
pub fn home_keygen_token(kcn: &Kcn, home: &Ipv6Addr, nonce: &Nonce) -> Token {
    keygen(kcn, home, nonce, 0)
}

/// Care-of keygen token for `care_of` and the care-of nonce.
#[must_use]
pub fn care_of_keygen_token(kcn: &Kcn, care_of: &Ipv6Addr, nonce: &Nonce) -> Token {
    keygen(kcn, care_of, nonce, 1)
}

/// Kbm from the home token and, for a registration, the care-of token
/// (`None` for a deregistration, RFC 6275 §5.2.5).
#[must_use]
pub fn kbm(home_token: &Token, care_of_token: Option<&Token>) -> Kbm {
    let mut h = Sha1::new();
    h.update(home_token);
    if let Some(c) = care_of_token {
        h.update(c);
    }
    first(&h.finalize())
}

fn auth_mac(kbm: &Kbm, care_of: &Ipv6Addr, cn: &Ipv6Addr, mh_data: &[u8]) -> Option<Hmac<Sha1>> {
    let mut m = hmac_sha1(kbm);
    m.update(&care_of.octets());
    m.update(&cn.octets());
    // The checksum (octets 4-5) counts as zero.
    m.update(mh_data.get(..4)?);
    m.update(&[0, 0]);
    m.update(mh_data.get(6..)?);
    Some(m)
}

/// The authenticator over `mh_data`: the Mobility Header up to and including
/// the Binding Authorization Data option's type and length octets. Returns
/// `None` when `mh_data` is shorter than the 6-octet header.
#[must_use]
pub fn authenticator(
    kbm: &Kbm,
    care_of: &Ipv6Addr,
    cn: &Ipv6Addr,
    mh_data: &[u8],
) -> Option<Authenticator> {
    Some(first(
        &auth_mac(kbm, care_of, cn, mh_data)?.finalize().into_bytes(),
    ))
}

/// Splits an emitted Mobility Header whose last option is a 12-octet Binding
/// Authorization Data option into (authenticated data, authenticator field offset).
fn bad_split(mh: &[u8]) -> Option<usize> {
    let len = mh.len();
    let at = len.checked_sub(12)?;
    let t = mh.get(at.checked_sub(2)?)?;
    let l = mh.get(at.checked_sub(1)?)?;
    (*t == 5 && *l == 12 && at >= 8).then_some(at)
}

/// Fills the authenticator of an emitted Binding Update or Binding
/// Acknowledgement (`mh`, exactly the Mobility Header) whose last option is
/// the Binding Authorization Data option with a 12-octet field. Returns
/// false, touching nothing, when the message does not end that way. Fill the
/// checksum afterwards.
pub fn sign_mh(mh: &mut [u8], kbm: &Kbm, care_of: &Ipv6Addr, cn: &Ipv6Addr) -> bool {
    let Some(at) = bad_split(mh) else {
        return false;
    };
    let Some(a) = mh
        .get(..at)
        .and_then(|d| authenticator(kbm, care_of, cn, d))
    else {
        return false;
    };
    match mh.get_mut(at..) {
        Some(f) => {
            f.copy_from_slice(&a);
            true
        }
        None => false,
    }
}

/// Verifies, in constant time, the authenticator of a received Mobility
/// Header `mh` whose last option is the Binding Authorization Data option.
#[must_use]
pub fn verify_mh(mh: &[u8], kbm: &Kbm, care_of: &Ipv6Addr, cn: &Ipv6Addr) -> bool {
    let Some(at) = bad_split(mh) else {
        return false;
    };
    let (Some(data), Some(tag)) = (mh.get(..at), mh.get(at..)) else {
        return false;
    };
    match auth_mac(kbm, care_of, cn, data) {
        Some(m) => m.verify_truncated_left(tag).is_ok(),
        None => false,
    }
}

/// RFC 4285 §5.1: subtype of the MN-HA Mobility Message Authentication option.
pub const MN_HA_SUBTYPE: u8 = 1;
/// RFC 4285 §5.2: subtype of the MN-AAA Mobility Message Authentication option.
pub const MN_AAA_SUBTYPE: u8 = 2;
/// RFC 4285 §5.1: the Authentication Data of the MN-HA option is the first
/// 96 bits of the HMAC_SHA1 result.
pub const MN_HA_AUTH_LEN: usize = 12;

/// RFC 4285 §8: the Mobility SPI of the MN-AAA option that names
/// HMAC_SHA1 (§5.2).
pub const HMAC_SHA1_SPI: u32 = 3;
/// RFC 4285 §5.2 with HMAC_SHA1_SPI: the MN-AAA Authentication Data is the
/// whole HMAC_SHA1 result.
pub const MN_AAA_AUTH_LEN: usize = 20;

/// Where a Mobility Message Authentication option (RFC 4285 §5) sits in a
/// Mobility Header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MnHaOption {
    /// The Mobility SPI.
    pub spi: u32,
    /// Offset of the Authentication Data field (just after the SPI): the
    /// authenticated MH data is `mh[..data_offset]`.
    pub data_offset: usize,
    /// Length of the Authentication Data field.
    pub data_len: usize,
    /// Whether only padding follows the option, or, for the MN-HA option,
    /// padding and an MN-AAA option (RFC 4285 §5: the MN-HA option is the
    /// last one unless an MN-AAA option follows it, which is last).
    pub last: bool,
}

/// Finds the first MN-HA Mobility Message Authentication option of a
/// Mobility Header `mh` (the whole header, `Header Len` octets or more).
/// `None` when the message has none, or is too short or of a type without
/// options.
#[must_use]
pub fn find_mn_ha(mh: &[u8]) -> Option<MnHaOption> {
    find_auth(mh, MN_HA_SUBTYPE)
}

/// Finds the first MN-AAA Mobility Message Authentication option (RFC 4285
/// §5.2), as [`find_mn_ha`] does.
#[must_use]
pub fn find_mn_aaa(mh: &[u8]) -> Option<MnHaOption> {
    find_auth(mh, MN_AAA_SUBTYPE)
}

fn find_auth(mh: &[u8], subtype: u8) -> Option<MnHaOption> {
    use crate::wire::mh::MhPacket;
    use crate::wire::options::{OptionType, RawOptions};
    let p = MhPacket::new_checked(mh).ok()?;
    let start = p.mh_type().options_offset()?;
    let area = p.options_area();
    let mut found: Option<MnHaOption> = None;
    let mut seen_aaa = false;
    for raw in RawOptions::new(area) {
        let raw = raw.ok()?;
        let Some(d) = raw.data else { continue };
        if raw.option_type == OptionType::PADN {
            continue;
        }
        if let Some(f) = found.as_mut() {
            // Something other than padding after it: only one MN-AAA
            // option may follow an MN-HA option.
            let aaa = raw.option_type == OptionType::MOBILITY_MESSAGE_AUTHENTICATION
                && d.first() == Some(&MN_AAA_SUBTYPE);
            if subtype != MN_HA_SUBTYPE || !aaa || core::mem::replace(&mut seen_aaa, true) {
                f.last = false;
            }
            continue;
        }
        if raw.option_type == OptionType::MOBILITY_MESSAGE_AUTHENTICATION
            && d.first() == Some(&subtype)
            && let Some(spi) = d.get(1..5)
        {
            let spi = u32::from_be_bytes([*spi.first()?, *spi.get(1)?, *spi.get(2)?, *spi.get(3)?]);
            // Type, length, subtype and SPI: 7 octets from the option start.
            let data_offset = start.checked_add(raw.offset)?.checked_add(7)?;
            found = Some(MnHaOption {
                spi,
                data_offset,
                data_len: d.len().checked_sub(5)?,
                last: true,
            });
        }
    }
    found
}

fn mn_ha_mac(
    key: &[u8],
    care_of: &Ipv6Addr,
    home: &Ipv6Addr,
    mh_data: &[u8],
) -> Option<Hmac<Sha1>> {
    //= https://www.rfc-editor.org/rfc/rfc4285#section-5.1
    //# Mobility Data = care-of address | home address | Mobility Header (MH)
    //# Data
    let mut m = hmac_sha1(key);
    m.update(&care_of.octets());
    m.update(&home.octets());
    //= https://www.rfc-editor.org/rfc/rfc4285#section-5.1
    //# The Checksum field in the
    //# Mobility Header MUST be set to 0 to calculate the Mobility Data.
    m.update(mh_data.get(..4)?);
    m.update(&[0, 0]);
    m.update(mh_data.get(6..)?);
    Some(m)
}

/// The MN-HA authenticator of RFC 4285 §5.1:
/// `First(96, HMAC_SHA1(key, care-of address | home address | MH data))`,
/// where `mh_data` is the Mobility Header up to and including the Mobility
/// SPI of the option (its checksum is taken as zero). `None` when `mh_data`
/// is shorter than 6 octets.
#[must_use]
pub fn mn_ha_authenticator(
    key: &[u8],
    care_of: &Ipv6Addr,
    home: &Ipv6Addr,
    mh_data: &[u8],
) -> Option<Authenticator> {
    Some(first(
        &mn_ha_mac(key, care_of, home, mh_data)?
            .finalize()
            .into_bytes(),
    ))
}

/// Fills the Authentication Data of the MN-HA option of an emitted Binding
/// Update or Acknowledgement `mh` (the option must be the last one and have
/// a 12-octet data field). Returns false, touching nothing, otherwise. Fill
/// the checksum afterwards.
#[must_use]
pub fn sign_mn_ha(mh: &mut [u8], key: &[u8], care_of: &Ipv6Addr, home: &Ipv6Addr) -> bool {
    let Some(o) = find_mn_ha(mh) else {
        return false;
    };
    if !o.last || o.data_len != MN_HA_AUTH_LEN {
        return false;
    }
    let Some(a) = mh
        .get(..o.data_offset)
        .and_then(|d| mn_ha_authenticator(key, care_of, home, d))
    else {
        return false;
    };
    match mh.get_mut(o.data_offset..o.data_offset.saturating_add(MN_HA_AUTH_LEN)) {
        Some(f) => {
            f.copy_from_slice(&a);
            true
        }
        None => false,
    }
}

/// Verifies, in constant time, the MN-HA authenticator of a received
/// Mobility Header `mh` (RFC 4285 §5.1) found at `o` (from [`find_mn_ha`]).
#[must_use]
pub fn verify_mn_ha(
    mh: &[u8],
    o: &MnHaOption,
    key: &[u8],
    care_of: &Ipv6Addr,
    home: &Ipv6Addr,
) -> bool {
    if o.data_len != MN_HA_AUTH_LEN {
        return false;
    }
    let (Some(data), Some(tag)) = (
        mh.get(..o.data_offset),
        mh.get(o.data_offset..o.data_offset.saturating_add(MN_HA_AUTH_LEN)),
    ) else {
        return false;
    };
    match mn_ha_mac(key, care_of, home, data) {
        Some(m) => m.verify_truncated_left(tag).is_ok(),
        None => false,
    }
}

/// The MN-AAA authenticator of RFC 4285 §5.2 with HMAC_SHA1_SPI:
/// `HMAC_SHA1(key, SHA1(care-of address | home address | MH data))`, where
/// `mh_data` is the Mobility Header up to and including the Mobility SPI of
/// the MN-AAA option (its checksum taken as zero, as for MN-HA). `None`
/// when `mh_data` is shorter than 6 octets.
#[must_use]
pub fn mn_aaa_authenticator(
    key: &[u8],
    care_of: &Ipv6Addr,
    home: &Ipv6Addr,
    mh_data: &[u8],
) -> Option<[u8; MN_AAA_AUTH_LEN]> {
    //= https://www.rfc-editor.org/rfc/rfc4285#section-5.2
    //# MAC_Mobility Data = SHA1(care-of address | home address | MH Data)
    let mut h = Sha1::new();
    h.update(care_of.octets());
    h.update(home.octets());
    h.update(mh_data.get(..4)?);
    h.update([0, 0]);
    h.update(mh_data.get(6..)?);
    let mut m = hmac_sha1(key);
    m.update(&h.finalize());
    Some(first(&m.finalize().into_bytes()))
}

/// Fills the Authentication Data of the MN-AAA option (the last option,
/// with a 20-octet field) of an emitted Binding Update. Fill the MN-HA
/// option first (the MN-AAA data covers it) and the checksum last.
#[must_use]
pub fn sign_mn_aaa(mh: &mut [u8], key: &[u8], care_of: &Ipv6Addr, home: &Ipv6Addr) -> bool {
    let Some(o) = find_mn_aaa(mh) else {
        return false;
    };
    if !o.last || o.data_len != MN_AAA_AUTH_LEN {
        return false;
    }
    let Some(a) = mh
        .get(..o.data_offset)
        .and_then(|d| mn_aaa_authenticator(key, care_of, home, d))
    else {
        return false;
    };
    match mh.get_mut(o.data_offset..o.data_offset.saturating_add(MN_AAA_AUTH_LEN)) {
        Some(f) => {
            f.copy_from_slice(&a);
            true
        }
        None => false,
    }
}

/// The 64-bit NTP timestamp (RFC 1305: seconds since 1900 in the high 32
/// bits, fraction in the low 32) of a time of day `t` counted from 1900
/// (RFC 4285 §6). Seconds wrap modulo 2^32 as NTP's do.
#[must_use]
pub fn ntp_timestamp(t: Duration) -> u64 {
    let secs = t.as_secs() & 0xffff_ffff;
    let frac = (u64::from(t.subsec_nanos()) << 32) / 1_000_000_000;
    (secs << 32) | (frac & 0xffff_ffff)
}

/// Configuration of a [`NonceTable`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NonceConfig {
    /// A new nonce is generated when the newest is older than this.
    pub nonce_interval: Duration,
    /// Nonces are forgotten after this (RFC: MAX_NONCE_LIFETIME).
    pub nonce_lifetime: Duration,
    /// Kcn is regenerated when older than this.
    pub kcn_lifetime: Duration,
    /// Maximum number of nonces kept; the oldest is evicted first.
    pub max_nonces: usize,
}

impl Default for NonceConfig {
    fn default() -> Self {
        Self {
            nonce_interval: Duration::from_secs(30),
            nonce_lifetime: MAX_NONCE_LIFETIME,
            kcn_lifetime: Duration::from_secs(3600),
            max_nonces: 16,
        }
    }
}

#[derive(Debug, Clone)]
struct NonceEntry {
    index: u16,
    nonce: Nonce,
    kcn: Kcn,
    created: Duration,
}

/// Why a correspondent rejects a Binding Update's return routability
/// material, with the Binding Acknowledgement status it calls for (§9.5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RrError {
    /// The home nonce index is unknown or expired: status 136.
    #[error("expired home nonce index")]
    ExpiredHomeNonce,
    /// The care-of nonce index is unknown or expired: status 137.
    #[error("expired care-of nonce index")]
    ExpiredCareOfNonce,
    /// Both are: status 138.
    #[error("expired nonces")]
    ExpiredNonces,
    /// The authenticator does not verify (silently discard).
    #[error("bad authenticator")]
    BadAuthenticator,
}

impl RrError {
    /// The Binding Acknowledgement status to send, if any (`None`: discard silently).
    #[must_use]
    pub fn ba_status(self) -> Option<crate::wire::mh::BaStatus> {
        use crate::wire::mh::BaStatus;
        match self {
            Self::ExpiredHomeNonce => Some(BaStatus::EXPIRED_HOME_NONCE_INDEX),
            Self::ExpiredCareOfNonce => Some(BaStatus::EXPIRED_CARE_OF_NONCE_INDEX),
            Self::ExpiredNonces => Some(BaStatus::EXPIRED_NONCES),
            Self::BadAuthenticator => None,
        }
    }
}

/// The correspondent's nonces and Kcn (RFC 6275 §5.2.2, §5.2.7).
#[derive(Debug, Clone)]
pub struct NonceTable {
    cfg: NonceConfig,
    entries: VecDeque<NonceEntry>,
    next_index: u16,
    kcn: Kcn,
    kcn_created: Duration,
}

impl NonceTable {
    /// A table with a fresh Kcn and first nonce drawn from `rng`.
    pub fn new<R: CryptoRng + ?Sized>(cfg: NonceConfig, rng: &mut R, now: Duration) -> Self {
        let mut kcn = [0u8; 20];
        rng.fill_bytes(&mut kcn);
        let mut idx = [0u8; 2];
        rng.fill_bytes(&mut idx);
        let mut t = Self {
            cfg,
            entries: VecDeque::new(),
            next_index: u16::from_be_bytes(idx),
            kcn,
            kcn_created: now,
        };
        t.push_nonce(rng, now);
        t
    }

    fn push_nonce<R: CryptoRng + ?Sized>(&mut self, rng: &mut R, now: Duration) {
        let mut nonce = [0u8; 8];
        rng.fill_bytes(&mut nonce);
        let index = self.next_index;
        self.next_index = self.next_index.wrapping_add(1);
        while self.entries.len() >= self.cfg.max_nonces.max(1) {
            self.entries.pop_front();
        }
        self.entries.push_back(NonceEntry {
            index,
            nonce,
            kcn: self.kcn,
            created: now,
        });
    }

    /// Expires old nonces, regenerates Kcn and issues a new nonce when due.
    pub fn refresh<R: CryptoRng + ?Sized>(&mut self, rng: &mut R, now: Duration) {
        let life = self.cfg.nonce_lifetime;
        while self
            .entries
            .front()
            .is_some_and(|e| now.saturating_sub(e.created) >= life)
        {
            self.entries.pop_front();
        }
        if now.saturating_sub(self.kcn_created) >= self.cfg.kcn_lifetime {
            rng.fill_bytes(&mut self.kcn);
            self.kcn_created = now;
            self.push_nonce(rng, now);
        }
        let stale = self
            .entries
            .back()
            .is_none_or(|e| now.saturating_sub(e.created) >= self.cfg.nonce_interval);
        if stale {
            self.push_nonce(rng, now);
        }
    }

    /// The current nonce index (refreshing first).
    pub fn current<R: CryptoRng + ?Sized>(&mut self, rng: &mut R, now: Duration) -> u16 {
        self.refresh(rng, now);
        self.entries.back().map_or(0, |e| e.index)
    }

    fn lookup(&self, index: u16, now: Duration) -> Option<&NonceEntry> {
        self.entries
            .iter()
            .find(|e| e.index == index && now.saturating_sub(e.created) < self.cfg.nonce_lifetime)
    }

    /// Number of live nonces.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no nonce is held.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The (nonce index, home keygen token) for a Home Test.
    pub fn home_token<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: Duration,
        home: &Ipv6Addr,
    ) -> (u16, Token) {
        let i = self.current(rng, now);
        let t = self
            .lookup(i, now)
            .map_or([0; 8], |e| home_keygen_token(&e.kcn, home, &e.nonce));
        (i, t)
    }

    /// The (nonce index, care-of keygen token) for a Care-of Test.
    pub fn care_of_token<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: Duration,
        care_of: &Ipv6Addr,
    ) -> (u16, Token) {
        let i = self.current(rng, now);
        let t = self
            .lookup(i, now)
            .map_or([0; 8], |e| care_of_keygen_token(&e.kcn, care_of, &e.nonce));
        (i, t)
    }

    /// Recomputes Kbm from the nonce indices of a Binding Update
    /// (`care_of_index` is ignored for a deregistration, where `care_of == home`
    /// or the lifetime is zero: pass `deregistration = true`).
    ///
    /// # Errors
    /// [`RrError::ExpiredHomeNonce`], [`RrError::ExpiredCareOfNonce`], [`RrError::ExpiredNonces`].
    pub fn kbm_for(
        &self,
        now: Duration,
        home: &Ipv6Addr,
        care_of: &Ipv6Addr,
        home_index: u16,
        care_of_index: u16,
        deregistration: bool,
    ) -> Result<Kbm, RrError> {
        let h = self.lookup(home_index, now);
        let c = if deregistration {
            None
        } else {
            Some(self.lookup(care_of_index, now))
        };
        match (h, c) {
            (None, Some(None)) => Err(RrError::ExpiredNonces),
            (None, _) => Err(RrError::ExpiredHomeNonce),
            (Some(_), Some(None)) => Err(RrError::ExpiredCareOfNonce),
            (Some(h), None) => Ok(kbm(&home_keygen_token(&h.kcn, home, &h.nonce), None)),
            (Some(h), Some(Some(c))) => {
                let ht = home_keygen_token(&h.kcn, home, &h.nonce);
                let ct = care_of_keygen_token(&c.kcn, care_of, &c.nonce);
                Ok(kbm(&ht, Some(&ct)))
            }
        }
    }

    /// Verifies a received Binding Update `mh` (exactly the Mobility Header)
    /// sent from `care_of` for `home` to the correspondent `cn`, with the nonce
    /// indices of its Nonce Indices option. Returns Kbm (to authenticate the
    /// Binding Acknowledgement) on success.
    ///
    /// # Errors
    /// As [`kbm_for`](Self::kbm_for), and [`RrError::BadAuthenticator`].
    #[allow(clippy::too_many_arguments)]
    pub fn verify_bu(
        &self,
        now: Duration,
        mh: &[u8],
        home: &Ipv6Addr,
        care_of: &Ipv6Addr,
        cn: &Ipv6Addr,
        home_index: u16,
        care_of_index: u16,
        deregistration: bool,
    ) -> Result<Kbm, RrError> {
        let k = self.kbm_for(
            now,
            home,
            care_of,
            home_index,
            care_of_index,
            deregistration,
        )?;
        if verify_mh(mh, &k, care_of, cn) {
            Ok(k)
        } else {
            Err(RrError::BadAuthenticator)
        }
    }
}
