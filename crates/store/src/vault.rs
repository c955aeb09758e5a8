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
    /// What the database records of the key: a hash that names it and reveals nothing of it.
    fingerprint: String,
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
        let fingerprint = hex::encode(
            Sha256::new()
                .chain_update(b"baiqian-data-key-fingerprint")
                .chain_update(key)
                .finalize(),
        )[..32]
            .to_string();
        Self {
            cipher,
            mac_key,
            fingerprint,
        }
    }

    /// The key's fingerprint (32 hex characters), recorded in the database it seals.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
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
        Self::open_or_create_key_file(path).map(|(vault, _)| vault)
    }

    /// As `open_key_file`, and whether the file was created now.
    pub fn open_or_create_key_file(path: &std::path::Path) -> Result<(Self, bool), VaultError> {
        let shown = path.display().to_string();
        let created = !path.exists();
        if created {
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
        Ok((Self::from_key(&key), created))
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

/// Where personal data is sealed, to find one sealed value when the database has no fingerprint
/// yet (a database from before the fingerprint was kept).
const SEALED_COLUMNS: &[(&str, &str)] = &[
    ("members", "id_sealed"),
    ("users", "totp_secret_sealed"),
    ("secretaries", "phone_sealed"),
    ("first_secretaries", "phone_sealed"),
    ("aid_members", "id_sealed"),
    ("aid_members", "phone_sealed"),
    ("wishes", "phone_sealed"),
    ("service_requests", "phone_sealed"),
];

impl crate::Db {
    /// Binds the database to the vault's key, before a node serves: the first node records the
    /// key's fingerprint; a node holding another key is refused (`WrongDataKey`, and nothing is
    /// written), so no node seals data with a key the others lack. A database from before the
    /// fingerprint was kept is checked by opening one of its sealed values.
    pub async fn bind_data_key(&self, vault: &Vault, now: i64) -> crate::Result<()> {
        use sqlx::Row;
        let mut tx = self.write().await?;
        let recorded: Option<String> = sqlx::query("SELECT fingerprint FROM data_key WHERE id = 1")
            .fetch_optional(tx.conn())
            .await?
            .map(|r| r.try_get(0))
            .transpose()?;
        match recorded {
            Some(f) if f == vault.fingerprint() => return Ok(()),
            Some(f) => {
                return Err(crate::StoreError::WrongDataKey(format!(
                    "this database's personal data is sealed with the data key {f}, not with the \
                     key given ({}): start every node with the same key file \
                     (--data-key-file) / 数据密钥与本数据库记录的不一致，请各节点使用同一密钥文件",
                    vault.fingerprint()
                )));
            }
            None => {}
        }
        for (table, column) in SEALED_COLUMNS {
            let sample: Option<String> = sqlx::query(&format!(
                "SELECT {column} FROM {table} WHERE {column} IS NOT NULL LIMIT 1"
            ))
            .fetch_optional(tx.conn())
            .await?
            .map(|r| r.try_get(0))
            .transpose()?;
            if let Some(sealed) = sample
                && vault.open(&sealed).is_err()
            {
                return Err(crate::StoreError::WrongDataKey(format!(
                    "this database holds personal data ({table}.{column}) that the data key given \
                     ({}) does not open: give the key it was sealed with (--data-key-file), never a \
                     new one / 数据库中已有以其他密钥加密的个人信息，请提供原密钥文件",
                    vault.fingerprint()
                )));
            }
        }
        sqlx::query("INSERT INTO data_key (id, fingerprint, recorded_at) VALUES (1, $1, $2)")
            .bind(vault.fingerprint())
            .bind(now)
            .execute(tx.conn())
            .await?;
        tx.commit().await?;
        tracing::info!(
            fingerprint = vault.fingerprint(),
            "data key recorded in the database"
        );
        Ok(())
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
