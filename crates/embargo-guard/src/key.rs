//! The guard key, and files only their owner may read.
//!
//! Case references and CVE IDs are few enough to enumerate and sensitive terms are often
//! guessable, so a hash of them, salted or not, can be reversed by whoever holds the list.
//! Their entries are therefore HMAC-SHA256 under this key, which only the server-side hook
//! and CI hold: without it the entries are indistinguishable from random bytes.

use std::io::Write;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Why a guard key cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The file could not be read or written.
    #[error("guard key file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The file does not hold 32 bytes of base64.
    #[error("the guard key in {0} is malformed: expected 32 bytes, base64-encoded")]
    Malformed(String),
}

/// A project's 32-byte guard key.
#[derive(Clone, PartialEq, Eq)]
pub struct GuardKey([u8; 32]);

impl std::fmt::Debug for GuardKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GuardKey([redacted])")
    }
}

impl GuardKey {
    /// The key from its bytes (the store derives them).
    pub fn from_bytes(bytes: [u8; 32]) -> GuardKey {
        GuardKey(bytes)
    }

    /// A keyed MAC, ready for input.
    pub(crate) fn mac(&self) -> Hmac<Sha256> {
        // HMAC pads a short key with zeros to the block size (RFC 2104), so padding it here
        // gives the same MAC through the constructor that cannot fail.
        let mut block = [0u8; 64];
        block[..32].copy_from_slice(&self.0);
        <Hmac<Sha256> as KeyInit>::new(&block.into())
    }

    /// A short public name of the key, so a hook can tell that its key file and its deny
    /// list belong together. A MAC of a fixed string: it reveals nothing of the key.
    pub fn id(&self) -> String {
        let mut mac = self.mac();
        mac.update(b"embargo guard key id");
        mac.finalize().into_bytes()[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The file form: base64 and a newline.
    pub fn to_file_text(&self) -> String {
        format!("{}\n", B64.encode(self.0))
    }

    /// Reads a key file.
    pub fn read(path: &Path) -> Result<GuardKey, KeyError> {
        let text = std::fs::read_to_string(path).map_err(|source| KeyError::Io {
            path: path.display().to_string(),
            source,
        })?;
        let bytes = B64
            .decode(text.trim())
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or_else(|| KeyError::Malformed(path.display().to_string()))?;
        Ok(GuardKey(bytes))
    }
}

/// Creates `path` readable and writable by its owner only (0600) and writes `text`;
/// refuses when the file exists, so a key is written once and never silently replaced.
pub fn create_private(path: &Path, text: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

/// Replaces `path` with `text`, 0600, through a file beside it and a rename, so a hook
/// reading the old file never sees half of the new one and a file that was once
/// world-readable does not stay so.
pub fn replace_private(path: &Path, text: &str) -> std::io::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "deny-list".to_owned());
    let temp = path.with_file_name(format!(".{name}.{:016x}.tmp", rand::random::<u64>()));
    create_private(&temp, text)?;
    std::fs::rename(&temp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&temp);
    })
}
