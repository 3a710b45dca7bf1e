//! Masks for redacted renders (`--redact`): `vaultplate:sha256-hmac:<first 12 hex>` of a value,
//! keyed with the operator's `VAULTPLATE_REDACT_KEY` (or a random key per run), so that a diff
//! shows which values changed and never what they are.

use std::fmt::Write as _;
use std::io::Read as _;

use sha2::{Digest as _, Sha256};

use crate::sensitive::Sensitive;

/// What every mask starts with.
pub(crate) const MASK_PREFIX: &str = "vaultplate:sha256-hmac:";

/// SHA-256's block size in bytes, which HMAC pads its key to.
const BLOCK: usize = 64;

/// The key of a run's masks. Never printed.
#[derive(Clone)]
pub struct RedactKey(Sensitive);

impl std::fmt::Debug for RedactKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RedactKey(<redacted>)")
    }
}

impl RedactKey {
    /// The operator's key, as the text of the setting.
    pub(crate) fn new(key: Sensitive) -> Self {
        RedactKey(key)
    }

    /// A key nobody knows, for a run without `VAULTPLATE_REDACT_KEY`: its masks show which
    /// fields are filled, and cannot be compared with another run's.
    pub(crate) fn random() -> std::io::Result<Self> {
        let mut bytes = [0u8; 32];
        std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
        Ok(RedactKey(Sensitive::new(hex(&bytes))))
    }

    /// The mask of `value`: the same for the same value and key, different for any other value.
    pub(crate) fn mask(&self, value: &str) -> String {
        let digest = hmac_sha256(self.0.expose().as_bytes(), value.as_bytes());
        format!("{MASK_PREFIX}{}", &hex(&digest)[..12])
    }
}

/// HMAC-SHA256 (RFC 2104) of `message` with `key`.
pub(crate) fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.map(|b| b ^ byte);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

/// Lower-case hexadecimal.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231() {
        // Test case 2: a short key.
        assert_eq!(
            hex(&hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // Test case 6: a key longer than the block, hashed first.
        assert_eq!(
            hex(&hmac_sha256(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn masks_change_with_the_value_and_the_key() {
        let key = RedactKey::new(Sensitive::new("k"));
        let mask = key.mask("s3cr3t");
        assert!(mask.starts_with(MASK_PREFIX));
        assert_eq!(mask.len(), MASK_PREFIX.len() + 12);
        assert_eq!(mask, key.mask("s3cr3t"));
        assert_ne!(mask, key.mask("s3cr3u"));
        assert_ne!(mask, RedactKey::new(Sensitive::new("l")).mask("s3cr3t"));
        let random = RedactKey::random().expect("urandom");
        assert_ne!(random.mask("s3cr3t"), mask);
        assert!(!format!("{random:?}").contains(random.0.expose()));
    }
}
