//! Sealing of confidential fields: XChaCha20-Poly1305 under data keys that are themselves
//! wrapped by a master key kept outside the database (a key file or the environment).
//!
//! A sealed value is `version (1) | data key id (4, big endian) | nonce (24) | ciphertext`.
//! The associated data names the field and its row, so a sealed value copied into another
//! row or column fails to open rather than showing up in the wrong place.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chacha20poly1305::aead::{Aead, KeyInit, OsRng, Payload};
use chacha20poly1305::{AeadCore, XChaCha20Poly1305, XNonce};

const FORMAT_VERSION: u8 = 1;
const HEADER: usize = 1 + 4 + 24;

/// Errors of the sealing layer. None of them carries plaintext.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// The master key file is not where it should be.
    #[error(
        "the master key file {0} is missing; the database was sealed with a key that must be provided (key file or EMBARGO_MASTER_KEY)"
    )]
    MasterKeyMissing(PathBuf),
    /// The master key is not 32 bytes of base64.
    #[error("the master key in {0} is malformed: expected 32 bytes, base64-encoded")]
    MasterKeyMalformed(String),
    /// The master key does not unwrap the database's data keys.
    #[error(
        "the master key does not match this database: its data keys cannot be unwrapped; refusing to start"
    )]
    WrongMasterKey,
    /// A sealed value does not open: tampered, moved, or sealed under an unknown key.
    #[error("a sealed value failed authentication ({0})")]
    Corrupt(&'static str),
    /// The key file could not be read or written.
    #[error("master key file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
}

/// The 32-byte key that wraps the data keys. Never stored in the database.
#[derive(Clone)]
pub struct MasterKey([u8; 32]);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey([redacted])")
    }
}

impl MasterKey {
    /// A fresh random key.
    pub fn generate() -> MasterKey {
        MasterKey(XChaCha20Poly1305::generate_key(&mut OsRng).into())
    }

    /// Reads a key from its base64 text form; `origin` names where it came from for errors.
    pub fn from_base64(text: &str, origin: &str) -> Result<MasterKey, SealError> {
        let bytes = B64
            .decode(text.trim())
            .map_err(|_| SealError::MasterKeyMalformed(origin.to_owned()))?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| SealError::MasterKeyMalformed(origin.to_owned()))?;
        Ok(MasterKey(key))
    }

    /// The base64 text form written to key files.
    pub fn to_base64(&self) -> String {
        B64.encode(self.0)
    }

    /// Reads a key file.
    pub fn read_file(path: &Path) -> Result<MasterKey, SealError> {
        match std::fs::read_to_string(path) {
            Ok(text) => MasterKey::from_base64(&text, &path.display().to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(SealError::MasterKeyMissing(path.to_owned()))
            }
            Err(source) => Err(SealError::Io {
                path: path.to_owned(),
                source,
            }),
        }
    }

    /// Writes a new key file readable by its owner only; never overwrites an existing one.
    pub fn create_file(&self, path: &Path) -> Result<(), SealError> {
        use std::io::Write;
        let io = |source| SealError::Io {
            path: path.to_owned(),
            source,
        };
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(path).map_err(io)?;
        file.write_all(format!("{}\n", self.to_base64()).as_bytes())
            .map_err(io)?;
        file.sync_all().map_err(io)?;
        Ok(())
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&self.0.into())
    }

    /// Wraps a data key for storage in the database.
    pub(crate) fn wrap(&self, id: i64, key: &[u8; 32]) -> Result<Vec<u8>, SealError> {
        seal_with(
            &self.cipher(),
            0,
            &crate::contexts::wrapped_data_key(id),
            key,
        )
    }

    /// Unwraps a stored data key.
    pub(crate) fn unwrap_key(&self, id: i64, wrapped: &[u8]) -> Result<[u8; 32], SealError> {
        let plain = open_with(
            &self.cipher(),
            &crate::contexts::wrapped_data_key(id),
            wrapped,
        )
        .map_err(|_| SealError::WrongMasterKey)?;
        plain.try_into().map_err(|_| SealError::WrongMasterKey)
    }
}

fn seal_with(
    cipher: &XChaCha20Poly1305,
    key_id: u32,
    context: &str,
    plain: &[u8],
) -> Result<Vec<u8>, SealError> {
    let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
    let ciphertext = cipher
        .encrypt(
            &nonce,
            Payload {
                msg: plain,
                aad: context.as_bytes(),
            },
        )
        .map_err(|_| SealError::Corrupt("encryption failed"))?;
    let mut out = Vec::with_capacity(HEADER + ciphertext.len());
    out.push(FORMAT_VERSION);
    out.extend_from_slice(&key_id.to_be_bytes());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ciphertext);
    Ok(out)
}

fn open_with(
    cipher: &XChaCha20Poly1305,
    context: &str,
    sealed: &[u8],
) -> Result<Vec<u8>, SealError> {
    if sealed.len() < HEADER || sealed[0] != FORMAT_VERSION {
        return Err(SealError::Corrupt("unknown format"));
    }
    let nonce = XNonce::from_slice(&sealed[5..HEADER]);
    cipher
        .decrypt(
            nonce,
            Payload {
                msg: &sealed[HEADER..],
                aad: context.as_bytes(),
            },
        )
        .map_err(|_| SealError::Corrupt("authentication tag mismatch"))
}

/// The unwrapped data keys of a database; seals with the newest, opens with any.
pub struct Keyring {
    active: u32,
    ciphers: HashMap<u32, XChaCha20Poly1305>,
    audit_key: [u8; 32],
    /// Keyed tags (Message-IDs, sign-in counters): a key of its own, derived once.
    tag_mac: hmac::Hmac<sha2::Sha256>,
    guard_root: [u8; 32],
    /// The search index's keys, one per data key: tokens are made with the active one and
    /// looked up under all, so that cases indexed before a rotation are found until
    /// `keys reseal` indexes them again.
    search_macs: Vec<(u32, hmac::Hmac<sha2::Sha256>)>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Keyring(active={}, keys={})",
            self.active,
            self.ciphers.len()
        )
    }
}

/// A key for one purpose, derived from `key` under its label: the audit chain's and the
/// commit guard's keys come from data keys this way, and never open a sealed value.
fn derive(key: &[u8; 32], label: &[u8]) -> Option<[u8; 32]> {
    use hmac::Mac;
    let mut mac = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(key).ok()?;
    mac.update(label);
    Some(mac.finalize().into_bytes().into())
}

impl Keyring {
    /// Builds a keyring from unwrapped data keys.
    pub(crate) fn new(keys: Vec<(u32, [u8; 32])>) -> Option<Keyring> {
        let active = keys.iter().map(|(id, _)| *id).max()?;
        // The first data key never changes (rotation re-wraps it), so neither does the
        // audit chain's key derived from it.
        let (_, first) = keys.iter().min_by_key(|(id, _)| *id)?;
        let audit_key = derive(first, b"embargo audit chain v1")?;
        // The commit guard's keys follow the newest data key, so a new data key gives
        // the guard new keys too.
        let (_, newest) = keys.iter().max_by_key(|(id, _)| *id)?;
        let guard_root = derive(newest, b"embargo commit guard v1")?;
        let search_macs = keys
            .iter()
            .map(|(id, key)| {
                use hmac::Mac;
                let derived = derive(key, b"embargo search index v1")?;
                let mac = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(&derived).ok()?;
                Some((*id, mac))
            })
            .collect::<Option<Vec<_>>>()?;
        let ciphers = keys
            .into_iter()
            .map(|(id, key)| (id, XChaCha20Poly1305::new(&key.into())))
            .collect();
        let tag_key = derive(&audit_key, b"embargo tag key v1")?;
        use hmac::Mac;
        let tag_mac = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(&tag_key).ok()?;
        Some(Keyring {
            active,
            ciphers,
            audit_key,
            tag_mac,
            guard_root,
            search_macs,
        })
    }

    /// The key of the audit log's chain.
    pub(crate) fn audit_key(&self) -> &[u8; 32] {
        &self.audit_key
    }

    /// The root the commit guard's per-project keys are derived from.
    pub(crate) fn guard_root(&self) -> &[u8; 32] {
        &self.guard_root
    }

    /// A keyed tag of `data` for `purpose`: the same every time, unguessable without the
    /// keys (used where a value must be stable across retries and must not be predicted,
    /// such as the Message-IDs of mail the team sends).
    pub(crate) fn tag(&self, purpose: &str, data: &str) -> String {
        use hmac::Mac;
        let mut mac = self.tag_mac.clone();
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(data.as_bytes());
        mac.finalize().into_bytes()[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The search index's token of `term` under the data key `key_id` (64 bits of its
    /// keyed hash: collisions only add a candidate, and an integer keeps the index small).
    pub(crate) fn search_token(&self, key_id: u32, term: &str) -> Option<i64> {
        use hmac::Mac;
        let (_, mac) = self.search_macs.iter().find(|(id, _)| *id == key_id)?;
        let mut mac = mac.clone();
        mac.update(term.as_bytes());
        let bytes: [u8; 8] = mac.finalize().into_bytes()[..8].try_into().ok()?;
        Some(i64::from_be_bytes(bytes))
    }

    /// The tokens of `term` under every data key, for lookups.
    pub(crate) fn search_tokens(&self, term: &str) -> Vec<i64> {
        self.search_macs
            .iter()
            .filter_map(|(id, _)| self.search_token(*id, term))
            .collect()
    }

    /// The data key new values are sealed with.
    pub(crate) fn active(&self) -> u32 {
        self.active
    }

    /// Which data key sealed a value, from its header.
    pub(crate) fn key_of(sealed: &[u8]) -> Option<u32> {
        let id: [u8; 4] = sealed.get(1..5)?.try_into().ok()?;
        Some(u32::from_be_bytes(id))
    }

    /// A new random data key.
    pub(crate) fn generate_data_key() -> [u8; 32] {
        XChaCha20Poly1305::generate_key(&mut OsRng).into()
    }

    /// Seals `plain` for the field named by `context`.
    pub fn seal(&self, context: &str, plain: &[u8]) -> Result<Vec<u8>, SealError> {
        let cipher = self
            .ciphers
            .get(&self.active)
            .ok_or(SealError::Corrupt("no active data key"))?;
        seal_with(cipher, self.active, context, plain)
    }

    /// Opens a value sealed for the field named by `context`.
    pub fn open(&self, context: &str, sealed: &[u8]) -> Result<Vec<u8>, SealError> {
        let id_bytes: [u8; 4] = sealed
            .get(1..5)
            .and_then(|b| b.try_into().ok())
            .ok_or(SealError::Corrupt("truncated"))?;
        let cipher = self
            .ciphers
            .get(&u32::from_be_bytes(id_bytes))
            .ok_or(SealError::Corrupt("unknown data key"))?;
        open_with(cipher, context, sealed)
    }

    /// Seals a text field.
    pub fn seal_str(&self, context: &str, plain: &str) -> Result<Vec<u8>, SealError> {
        self.seal(context, plain.as_bytes())
    }

    /// Opens a text field.
    pub fn open_string(&self, context: &str, sealed: &[u8]) -> Result<String, SealError> {
        String::from_utf8(self.open(context, sealed)?).map_err(|_| SealError::Corrupt("not UTF-8"))
    }
}

/// Seals a value as JSON.
pub(crate) fn seal_json<T: serde::Serialize>(
    keys: &Keyring,
    context: &str,
    value: &T,
) -> crate::Result<Vec<u8>> {
    let json = serde_json::to_vec(value).map_err(|e| crate::StoreError::Corrupt(e.to_string()))?;
    Ok(keys.seal(context, &json)?)
}

/// Opens a value sealed as JSON.
pub(crate) fn open_json<T: serde::de::DeserializeOwned>(
    keys: &Keyring,
    context: &str,
    sealed: &[u8],
) -> crate::Result<T> {
    let plain = keys.open(context, sealed)?;
    serde_json::from_slice(&plain)
        .map_err(|_| crate::StoreError::Corrupt(format!("sealed value {context}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_are_bound_to_their_field() {
        let ring = Keyring::new(vec![(1, Keyring::generate_data_key())]).unwrap();
        let sealed = ring.seal_str("case:1:1:title", "canary-secret").unwrap();
        assert!(!sealed.windows(6).any(|w| w == b"canary"));
        assert_eq!(
            ring.open_string("case:1:1:title", &sealed).unwrap(),
            "canary-secret"
        );
        assert!(ring.open_string("case:1:2:title", &sealed).is_err());
        let mut tampered = sealed.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(ring.open_string("case:1:1:title", &tampered).is_err());
    }

    #[test]
    fn a_wrong_master_key_is_detected() {
        let master = MasterKey::generate();
        let key = Keyring::generate_data_key();
        let wrapped = master.wrap(1, &key).unwrap();
        assert_eq!(master.unwrap_key(1, &wrapped).unwrap(), key);
        assert!(matches!(
            MasterKey::generate().unwrap_key(1, &wrapped),
            Err(SealError::WrongMasterKey)
        ));
        assert_eq!(format!("{master:?}"), "MasterKey([redacted])");
    }
}
