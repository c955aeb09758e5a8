//! Personal data at rest (PIPL): ID numbers and phones are stored encrypted (AES-256-GCM, a
//! fresh nonce per value) with a keyed hash (HMAC-SHA-256) beside them for uniqueness and lookup.
//! The key lives outside the database, in a file the operator keeps (and backs up) separately.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("data key file {0}: {1}")]
    KeyFile(String, String),
    #[error("data key must be 64 hex characters (32 bytes)")]
    KeyShape,
    #[error("random source: {0}")]
    Random(String),
    #[error("a stored value does not decrypt with this key")]
    Decrypt,
}

#[derive(Clone)]
pub struct Vault {
    cipher: Aes256Gcm,
    mac_key: [u8; 32],
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vault(..)")
    }
}

impl Vault {
    pub fn from_key(key: &[u8; 32]) -> Self {
        let cipher = Aes256Gcm::new(key.into());
        // A separate key for the hash, so the hash reveals nothing about the cipher key.
        let mac_key: [u8; 32] = Sha256::new()
            .chain_update(b"baiqian-lookup-hash")
            .chain_update(key)
            .finalize()
            .into();
        Self { cipher, mac_key }
    }

    /// A vault with a fresh random key (tests).
    pub fn random() -> Result<Self, VaultError> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|e| VaultError::Random(e.to_string()))?;
        Ok(Self::from_key(&key))
    }

    /// Reads the key (64 hex characters) from `path`, creating the file with a new random key,
    /// readable by the owner only, when it does not exist.
    pub fn open_key_file(path: &std::path::Path) -> Result<Self, VaultError> {
        let shown = path.display().to_string();
        if !path.exists() {
            let mut key = [0u8; 32];
            getrandom::fill(&mut key).map_err(|e| VaultError::Random(e.to_string()))?;
            write_private(path, &hex::encode(key))
                .map_err(|e| VaultError::KeyFile(shown.clone(), e.to_string()))?;
            tracing::warn!(path = %shown, "created a new data key file: back it up apart from the database");
        }
        let text =
            std::fs::read_to_string(path).map_err(|e| VaultError::KeyFile(shown, e.to_string()))?;
        let bytes = hex::decode(text.trim()).map_err(|_| VaultError::KeyShape)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| VaultError::KeyShape)?;
        Ok(Self::from_key(&key))
    }

    /// The lookup hash of a value (hex): equal values, equal hashes; nothing else to learn.
    pub fn hash(&self, value: &str) -> String {
        let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(&self.mac_key) else {
            return String::new();
        };
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// `hex(nonce || ciphertext)`.
    pub fn seal(&self, value: &str) -> Result<String, VaultError> {
        let mut nonce = [0u8; 12];
        getrandom::fill(&mut nonce).map_err(|e| VaultError::Random(e.to_string()))?;
        let sealed = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), value.as_bytes())
            .map_err(|_| VaultError::Decrypt)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(hex::encode(out))
    }

    pub fn open(&self, sealed: &str) -> Result<String, VaultError> {
        let bytes = hex::decode(sealed).map_err(|_| VaultError::Decrypt)?;
        if bytes.len() < 12 {
            return Err(VaultError::Decrypt);
        }
        let (nonce, body) = bytes.split_at(12);
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), body)
            .map_err(|_| VaultError::Decrypt)?;
        String::from_utf8(plain).map_err(|_| VaultError::Decrypt)
    }
}

#[cfg(unix)]
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_hashes() {
        let v = Vault::from_key(&[7u8; 32]);
        let a = v.seal("11010519491231002X").unwrap();
        let b = v.seal("11010519491231002X").unwrap();
        assert_ne!(a, b, "a fresh nonce each time");
        assert!(!a.contains("19491231"));
        assert_eq!(v.open(&a).unwrap(), "11010519491231002X");
        assert_eq!(v.hash("x"), v.hash("x"));
        assert_ne!(v.hash("x"), Vault::from_key(&[8u8; 32]).hash("x"));
        assert!(Vault::from_key(&[8u8; 32]).open(&a).is_err());
    }

    #[test]
    fn key_file_is_created_once() {
        let dir = std::env::temp_dir().join(format!("baiqian-vault-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("k.key");
        let _ = std::fs::remove_file(&path);
        let a = Vault::open_key_file(&path).unwrap();
        let sealed = a.seal("13800000000").unwrap();
        let b = Vault::open_key_file(&path).unwrap();
        assert_eq!(b.open(&sealed).unwrap(), "13800000000");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
