//! OpenPGP for Embargo, on rPGP (pure Rust) and interoperable with GnuPG: the team's key,
//! decrypting and verifying what reporters send, encrypting to a reporter's key and
//! signing what the team publishes. No I/O; keys come and go as armored text.
//!
//! Errors describe what is wrong with a key or message and never quote its content.

use std::io::Cursor;

use pgp::composed::{
    ArmorOptions, CleartextSignedMessage, DecryptionOptions, Deserializable, DetachedSignature,
    EncryptionCaps, KeyType, Message, MessageBuilder, SecretKeyParamsBuilder, SignedPublicKey,
    SignedSecretKey, SubkeyParamsBuilder, TheRing,
};
use pgp::crypto::ecc_curve::ECCCurve;
use pgp::crypto::hash::HashAlgorithm;
use pgp::crypto::sym::SymmetricKeyAlgorithm;
use pgp::packet::Signature as SignaturePacket;
use pgp::types::{KeyDetails, Password, Seipdv1ReadMode, VerifyingKey};
use rand::thread_rng;

/// Errors of OpenPGP handling.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OpenPgpError {
    /// The text is not an OpenPGP key of the kind asked for.
    #[error("not a usable OpenPGP {0}")]
    NotAKey(&'static str),
    /// A secret key is protected by a passphrase that was not given or is wrong.
    #[error("the secret key is protected by a passphrase, and the one given does not unlock it")]
    Passphrase,
    /// A public key has no key that may encrypt.
    #[error("the OpenPGP key has no encryption key")]
    CannotEncrypt,
    /// A message is not readable OpenPGP.
    #[error("not a readable OpenPGP message")]
    Malformed,
    /// The message is not encrypted to any key we hold.
    #[error("the message is not encrypted to the team's key")]
    NotForUs,
    /// Decryption failed (tampered or damaged data).
    #[error("the message could not be decrypted: its data is damaged or was altered")]
    Damaged,
    /// Encrypting or signing failed.
    #[error("OpenPGP {0} failed")]
    Operation(&'static str),
    /// The decrypted (and decompressed) data would exceed the caller's limit: a
    /// decompression bomb, or simply too much. Reading stopped at the limit.
    #[error("the decrypted data is larger than the limit of {0} bytes")]
    TooLarge(usize),
    /// The data is compressed with an algorithm that is not read here (BZip2).
    #[error("the message is compressed with an algorithm that is not supported")]
    UnsupportedCompression,
}

type Result<T> = std::result::Result<T, OpenPgpError>;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// The team's key pair: decrypts reports and signs announcements.
#[derive(Clone)]
pub struct TeamKey {
    secret: SignedSecretKey,
    passphrase: String,
}

// Never print secret key material.
impl std::fmt::Debug for TeamKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TeamKey({})", self.fingerprint())
    }
}

impl TeamKey {
    /// A new key: an Ed25519 primary key that certifies and signs, and a Curve25519
    /// encryption subkey. GnuPG 2.2 and later read both.
    pub fn generate(user_id: &str) -> Result<TeamKey> {
        let mut encryption = SubkeyParamsBuilder::default();
        encryption
            .key_type(KeyType::ECDH(ECCCurve::Curve25519Legacy))
            .can_sign(false)
            .can_encrypt(EncryptionCaps::All)
            .can_authenticate(false);
        let encryption = encryption
            .build()
            .map_err(|_| OpenPgpError::Operation("key generation"))?;
        let mut params = SecretKeyParamsBuilder::default();
        params
            .key_type(KeyType::Ed25519Legacy)
            .can_certify(true)
            .can_sign(true)
            .can_encrypt(EncryptionCaps::None)
            .primary_user_id(user_id.into())
            .preferred_symmetric_algorithms(
                vec![SymmetricKeyAlgorithm::AES256, SymmetricKeyAlgorithm::AES128].into(),
            )
            .preferred_hash_algorithms(vec![HashAlgorithm::Sha256, HashAlgorithm::Sha512].into())
            .subkeys(vec![encryption]);
        let params = params
            .build()
            .map_err(|_| OpenPgpError::Operation("key generation"))?;
        let secret = params
            .generate(thread_rng())
            .map_err(|_| OpenPgpError::Operation("key generation"))?;
        Ok(TeamKey {
            secret,
            passphrase: String::new(),
        })
    }

    /// Reads an armored secret key (as `gpg --export-secret-keys --armor` writes it),
    /// checking that the passphrase, if any, unlocks it.
    pub fn from_armored(text: &str, passphrase: &str) -> Result<TeamKey> {
        let (secret, _) =
            SignedSecretKey::from_string(text).map_err(|_| OpenPgpError::NotAKey("secret key"))?;
        secret
            .verify_bindings()
            .map_err(|_| OpenPgpError::NotAKey("secret key"))?;
        let password = Password::from(passphrase);
        secret
            .primary_key
            .unlock(&password, |_, _| Ok(()))
            .map_err(|_| OpenPgpError::Passphrase)?
            .map_err(|_| OpenPgpError::Passphrase)?;
        Ok(TeamKey {
            secret,
            passphrase: passphrase.to_owned(),
        })
    }

    /// The secret key, armored, for sealed storage.
    pub fn armored_secret(&self) -> Result<String> {
        self.secret
            .to_armored_string(ArmorOptions::default())
            .map_err(|_| OpenPgpError::Operation("export"))
    }

    /// The passphrase the secret key was stored with (empty when none).
    pub fn passphrase(&self) -> &str {
        &self.passphrase
    }

    /// The public half, for security.txt and for reporters.
    pub fn public(&self) -> PublicKey {
        PublicKey {
            key: self.secret.to_public_key(),
        }
    }

    /// The primary key's fingerprint, upper-case hex.
    pub fn fingerprint(&self) -> String {
        hex(self.secret.fingerprint().as_bytes())
    }

    fn password(&self) -> Password {
        Password::from(self.passphrase.as_str())
    }
}

/// Someone's public key: a reporter's, to encrypt replies and check signatures.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey {
    key: SignedPublicKey,
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({})", self.fingerprint())
    }
}

impl PublicKey {
    /// Reads an armored public key (as `gpg --export --armor` writes it).
    pub fn from_armored(text: &str) -> Result<PublicKey> {
        let (key, _) =
            SignedPublicKey::from_string(text).map_err(|_| OpenPgpError::NotAKey("public key"))?;
        key.verify_bindings()
            .map_err(|_| OpenPgpError::NotAKey("public key"))?;
        Ok(PublicKey { key })
    }

    /// The key, armored.
    pub fn armored(&self) -> Result<String> {
        self.key
            .to_armored_string(ArmorOptions::default())
            .map_err(|_| OpenPgpError::Operation("export"))
    }

    /// The primary key's fingerprint, upper-case hex.
    pub fn fingerprint(&self) -> String {
        hex(self.key.fingerprint().as_bytes())
    }

    /// The key's user IDs, as text.
    pub fn user_ids(&self) -> Vec<String> {
        self.key
            .details
            .users
            .iter()
            .map(|u| String::from_utf8_lossy(u.id.id()).into_owned())
            .collect()
    }

    /// Whether replies can be encrypted to it.
    pub fn can_encrypt(&self) -> bool {
        self.encryption_subkey().is_some() || self.key.primary_key.algorithm().can_encrypt()
    }

    fn encryption_subkey(&self) -> Option<&pgp::composed::SignedPublicSubKey> {
        self.key.public_subkeys.iter().find(|k| {
            k.algorithm().can_encrypt()
                && k.signatures.iter().any(|s| {
                    let flags = s.key_flags();
                    flags.encrypt_comms() || flags.encrypt_storage()
                })
        })
    }

    /// Checks a signature against the primary key and each subkey.
    fn verifies(&self, check: impl Fn(KeyRef<'_>) -> bool) -> bool {
        check(KeyRef::Primary(&self.key.primary_key))
            || self
                .key
                .public_subkeys
                .iter()
                .any(|k| check(KeyRef::Sub(&k.key)))
    }

    /// Whether the key (primary or a subkey) has this 8-byte key ID or fingerprint.
    fn has_issuer(&self, signature: &SignaturePacket) -> bool {
        let ids: Vec<Vec<u8>> = std::iter::once(&self.key.primary_key)
            .map(|k| (k.legacy_key_id(), k.fingerprint()))
            .chain(
                self.key
                    .public_subkeys
                    .iter()
                    .map(|k| (k.key.legacy_key_id(), k.key.fingerprint())),
            )
            .flat_map(|(id, fp)| [id.as_ref().to_vec(), fp.as_bytes().to_vec()])
            .collect();
        signature
            .issuer_key_id()
            .iter()
            .any(|id| ids.iter().any(|k| k.as_slice() == id.as_ref()))
            || signature
                .issuer_fingerprint()
                .iter()
                .any(|fp| ids.iter().any(|k| k.as_slice() == fp.as_bytes()))
    }
}

/// A primary key or a subkey, which sign with different packet types.
#[derive(Clone, Copy)]
enum KeyRef<'a> {
    Primary(&'a pgp::packet::PublicKey),
    Sub(&'a pgp::packet::PublicSubkey),
}

impl KeyRef<'_> {
    fn as_dyn(&self) -> &dyn VerifyingKey {
        match self {
            KeyRef::Primary(k) => *k,
            KeyRef::Sub(k) => *k,
        }
    }

    fn verifies(&self, signature: &SignaturePacket, data: &[u8]) -> bool {
        match self {
            KeyRef::Primary(k) => signature.verify(*k, data).is_ok(),
            KeyRef::Sub(k) => signature.verify(*k, data).is_ok(),
        }
    }
}

/// What a signature check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureCheck {
    /// A valid signature by a key we know.
    Good {
        /// The signer's primary key fingerprint.
        fingerprint: String,
        /// The signer's first user ID.
        user_id: Option<String>,
    },
    /// Signed by a key we do not have, so it cannot be checked.
    UnknownKey {
        /// The issuer's key ID or fingerprint, upper-case hex.
        issuer: String,
    },
    /// Made by a key we know, but it does not verify: the content was altered.
    Bad {
        /// The key it claims.
        fingerprint: String,
    },
}

impl SignatureCheck {
    /// A one-line description for the case timeline.
    pub fn describe(&self) -> String {
        match self {
            SignatureCheck::Good {
                fingerprint,
                user_id,
            } => match user_id {
                Some(uid) => format!("good signature by {uid} (key {fingerprint})"),
                None => format!("good signature by key {fingerprint}"),
            },
            SignatureCheck::UnknownKey { issuer } => {
                format!("signed by key {issuer}, which is not known: not verified")
            }
            SignatureCheck::Bad { fingerprint } => {
                format!(
                    "BAD signature: made with key {fingerprint}, but the content does not match it"
                )
            }
        }
    }
}

fn issuer(signature: &SignaturePacket) -> String {
    signature
        .issuer_fingerprint()
        .first()
        .map(|fp| hex(fp.as_bytes()))
        .or_else(|| signature.issuer_key_id().first().map(|id| hex(id.as_ref())))
        .unwrap_or_else(|| "(none given)".to_owned())
}

/// Checks signatures against the known keys: good if any verifies, bad if a known key's
/// signature does not, unknown otherwise.
fn check_signatures(
    signatures: &[SignaturePacket],
    signers: &[PublicKey],
    verify: impl Fn(&SignaturePacket, KeyRef<'_>) -> bool,
) -> Option<SignatureCheck> {
    let first = signatures.first()?;
    let mut bad = None;
    for signature in signatures {
        for signer in signers {
            if signer.verifies(|k| verify(signature, k)) {
                return Some(SignatureCheck::Good {
                    fingerprint: signer.fingerprint(),
                    user_id: signer.user_ids().into_iter().next(),
                });
            }
            if bad.is_none() && signer.has_issuer(signature) {
                bad = Some(SignatureCheck::Bad {
                    fingerprint: signer.fingerprint(),
                });
            }
        }
    }
    Some(bad.unwrap_or_else(|| SignatureCheck::UnknownKey {
        issuer: issuer(first),
    }))
}

/// A decrypted message.
pub struct Opened {
    /// The plaintext.
    pub data: Vec<u8>,
    /// The check of a signature inside the encryption, if it was signed.
    pub signature: Option<SignatureCheck>,
}

impl std::fmt::Debug for Opened {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Opened({} bytes, {:?})", self.data.len(), self.signature)
    }
}

/// Whether a block of text holds an armored OpenPGP message.
pub fn has_armored_message(text: &[u8]) -> bool {
    memmem(text, b"-----BEGIN PGP MESSAGE-----").is_some()
}

fn memmem(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn parse_message(data: &[u8]) -> Result<Message<'_>> {
    if has_armored_message(data) {
        Message::from_armor(Cursor::new(data))
            .map(|(m, _)| m)
            .map_err(|_| OpenPgpError::Malformed)
    } else {
        Message::from_bytes(Cursor::new(data)).map_err(|_| OpenPgpError::Malformed)
    }
}

/// Decrypts an OpenPGP message (armored or binary) with the team's key, and checks a
/// signature inside it against `signers`.
pub fn decrypt(
    data: &[u8],
    team: &TeamKey,
    signers: &[PublicKey],
    max_plaintext: usize,
) -> Result<Opened> {
    let message = parse_message(data)?;
    if !message.is_encrypted() {
        return Err(OpenPgpError::Malformed);
    }
    let mut message = message
        .decrypt(&team.password(), &team.secret)
        .map_err(|e| match e {
            pgp::errors::Error::MissingKey => OpenPgpError::NotForUs,
            _ => OpenPgpError::NotForUs,
        })?;
    // gpg compresses, then signs inside; peel each layer. Decompression is lazy: nothing
    // is inflated until it is read below.
    for _ in 0..4 {
        if message.is_compressed() {
            // Starting to decompress fails only for an algorithm not built in (BZip2).
            message = message
                .decompress()
                .map_err(|_| OpenPgpError::UnsupportedCompression)?;
        } else {
            break;
        }
    }
    let data = read_capped(&mut message, max_plaintext)?;
    let signature = if message.is_signed() {
        let found: Vec<SignaturePacket> = match &message {
            Message::Signed { reader, .. } => (0..reader.num_signatures())
                .filter_map(|i| reader.signature(i).cloned())
                .collect(),
            _ => Vec::new(),
        };
        // verify_nested_explicit needs the index; map each signature back to it.
        let index_of = |s: &SignaturePacket| found.iter().position(|f| f == s).unwrap_or(0);
        check_signatures(&found, signers, |s, key| {
            message
                .verify_nested_explicit(index_of(s), key.as_dyn())
                .is_ok()
        })
    } else {
        None
    };
    Ok(Opened { data, signature })
}

/// Reads a message's plaintext, stopping one byte past `max`: a 400 MB bomb costs no
/// more memory than the limit.
fn read_capped(message: &mut Message<'_>, max: usize) -> Result<Vec<u8>> {
    use std::io::Read;
    let mut data = Vec::new();
    let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
    message
        .take(limit)
        .read_to_end(&mut data)
        .map_err(|_| OpenPgpError::Damaged)?;
    if data.len() > max {
        return Err(OpenPgpError::TooLarge(max));
    }
    Ok(data)
}

/// Checks a detached signature (PGP/MIME `multipart/signed`) over `data`.
pub fn verify_detached(
    data: &[u8],
    signature: &[u8],
    signers: &[PublicKey],
) -> Result<SignatureCheck> {
    let parsed = if memmem(signature, b"-----BEGIN PGP SIGNATURE-----").is_some() {
        DetachedSignature::from_armor_single(Cursor::new(signature)).map(|(s, _)| s)
    } else {
        DetachedSignature::from_bytes(Cursor::new(signature))
    }
    .map_err(|_| OpenPgpError::Malformed)?;
    check_signatures(
        std::slice::from_ref(&parsed.signature),
        signers,
        |s, key| key.verifies(s, data),
    )
    .ok_or(OpenPgpError::Malformed)
}

/// Reads a cleartext-signed text (`-----BEGIN PGP SIGNED MESSAGE-----`): the signed text
/// and the check of its signature.
pub fn verify_cleartext(text: &str, signers: &[PublicKey]) -> Result<(String, SignatureCheck)> {
    let (message, _) =
        CleartextSignedMessage::from_string(text).map_err(|_| OpenPgpError::Malformed)?;
    let signed = message.signed_text();
    let check = check_signatures(message.signatures(), signers, |s, key| {
        key.verifies(s, signed.as_bytes())
    })
    .ok_or(OpenPgpError::Malformed)?;
    Ok((signed.replace("\r\n", "\n"), check))
}

/// Encrypts `data` to `recipient` (and to the team, so the team can read its own
/// sent mail), signed by the team when given; armored.
pub fn encrypt(data: &[u8], recipient: &PublicKey, team: Option<&TeamKey>) -> Result<String> {
    let mut rng = thread_rng();
    let mut builder = MessageBuilder::from_bytes("", data.to_vec());
    if let Some(team) = team {
        builder.sign(
            &team.secret.primary_key,
            team.password(),
            HashAlgorithm::Sha256,
        );
    }
    let mut builder = builder.seipd_v1(&mut rng, SymmetricKeyAlgorithm::AES256);
    match recipient.encryption_subkey() {
        Some(sub) => builder.encrypt_to_key(&mut rng, sub),
        None if recipient.key.primary_key.algorithm().can_encrypt() => {
            builder.encrypt_to_key(&mut rng, &recipient.key)
        }
        None => return Err(OpenPgpError::CannotEncrypt),
    }
    .map_err(|_| OpenPgpError::Operation("encryption"))?;
    if let Some(team) = team
        && let Some(sub) = team.public().encryption_subkey()
    {
        builder
            .encrypt_to_key(&mut rng, sub)
            .map_err(|_| OpenPgpError::Operation("encryption"))?;
    }
    builder
        .to_armored_string(&mut rng, ArmorOptions::default())
        .map_err(|_| OpenPgpError::Operation("encryption"))
}

/// Encrypts `data` to `recipient` alone, binary, uncompressed and unsigned: for files
/// (backups) that only the holder of the recipient's secret key may open. SEIPD carries a
/// hash of the plaintext, so a changed byte makes the whole file fail to open.
pub fn seal_to(data: &[u8], recipient: &PublicKey) -> Result<Vec<u8>> {
    let mut rng = thread_rng();
    let builder = MessageBuilder::from_bytes("", data.to_vec());
    let mut builder = builder.seipd_v1(&mut rng, SymmetricKeyAlgorithm::AES256);
    match recipient.encryption_subkey() {
        Some(sub) => builder.encrypt_to_key(&mut rng, sub),
        None if recipient.key.primary_key.algorithm().can_encrypt() => {
            builder.encrypt_to_key(&mut rng, &recipient.key)
        }
        None => return Err(OpenPgpError::CannotEncrypt),
    }
    .map_err(|_| OpenPgpError::Operation("encryption"))?;
    builder
        .to_vec(&mut rng)
        .map_err(|_| OpenPgpError::Operation("encryption"))
}

/// As [`seal_to`], reading the plaintext from `plain` and writing the message to `out` as
/// it goes (partial-length packets): memory stays constant however large the plaintext.
pub fn seal_stream_to(
    plain: impl std::io::Read,
    out: impl std::io::Write,
    recipient: &PublicKey,
) -> Result<()> {
    let mut rng = thread_rng();
    let builder = MessageBuilder::from_reader("", plain);
    let mut builder = builder.seipd_v1(&mut rng, SymmetricKeyAlgorithm::AES256);
    match recipient.encryption_subkey() {
        Some(sub) => builder.encrypt_to_key(&mut rng, sub),
        None if recipient.key.primary_key.algorithm().can_encrypt() => {
            builder.encrypt_to_key(&mut rng, &recipient.key)
        }
        None => return Err(OpenPgpError::CannotEncrypt),
    }
    .map_err(|_| OpenPgpError::Operation("encryption"))?;
    builder
        .to_writer(&mut rng, out)
        .map_err(|_| OpenPgpError::Operation("encryption"))
}

/// Opens a message [`seal_stream_to`] (or [`seal_to`]) wrote, as a reader of its
/// plaintext, decrypted as it is read: memory stays constant however large the message.
///
/// What it yields is not yet authenticated: the message's integrity (its MDC) is checked
/// only as its end is read, and a reader that fails there (or anywhere) means the file
/// was altered. A caller acts on nothing it read until it has read to the end without
/// error (restore loads everything into one transaction and commits only then).
pub fn open_sealed_reader<'a>(
    sealed: impl std::io::BufRead + std::fmt::Debug + Send + 'a,
    identity: &TeamKey,
) -> Result<impl std::io::BufRead + 'a> {
    let message = Message::from_bytes(sealed).map_err(|_| OpenPgpError::Malformed)?;
    if !message.is_encrypted() {
        return Err(OpenPgpError::Malformed);
    }
    // rPGP's default reads a whole SEIPDv1 message into memory to check it before
    // releasing any of it, and refuses one over 1 GiB: a large backup could not be
    // restored at all.
    let password = identity.password();
    let ring = TheRing {
        secret_keys: vec![&identity.secret],
        key_passwords: vec![&password],
        decrypt_options: DecryptionOptions::new().set_seipdv1_read_mode(Seipdv1ReadMode::Streaming),
        ..Default::default()
    };
    let (message, _) = message
        .decrypt_the_ring(ring, true)
        .map_err(|_| OpenPgpError::NotForUs)?;
    if message.is_compressed() {
        // Embargo never compresses what it seals: a compressed message is not its own.
        return Err(OpenPgpError::Malformed);
    }
    Ok(message)
}

/// Opens what [`seal_to`] sealed, with the recipient's secret key. The plaintext of an
/// uncompressed message is never larger than the message itself.
pub fn open_sealed(data: &[u8], identity: &TeamKey) -> Result<Vec<u8>> {
    decrypt(data, identity, &[], data.len()).map(|opened| opened.data)
}

/// A detached signature by the team over `data`, armored.
pub fn sign_detached(data: &[u8], team: &TeamKey) -> Result<String> {
    DetachedSignature::sign_binary_data(
        thread_rng(),
        &team.secret.primary_key,
        &team.password(),
        HashAlgorithm::Sha256,
        data,
    )
    .and_then(|s| s.to_armored_string(ArmorOptions::default()))
    .map_err(|_| OpenPgpError::Operation("signing"))
}

/// `text` cleartext-signed by the team (as security.txt is signed).
pub fn sign_cleartext(text: &str, team: &TeamKey) -> Result<String> {
    CleartextSignedMessage::sign(
        thread_rng(),
        text,
        &team.secret.primary_key,
        &team.password(),
    )
    .and_then(|m| m.to_armored_string(ArmorOptions::default()))
    .map_err(|_| OpenPgpError::Operation("signing"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_encrypts_decrypts_and_signs() {
        let team = TeamKey::generate("Security <security@example.org>").unwrap();
        let reporter = TeamKey::generate("Reporter <r@example.net>").unwrap();
        let stored = team.armored_secret().unwrap();
        let team = TeamKey::from_armored(&stored, "").unwrap();

        let sealed = encrypt(b"the proof of concept", &team.public(), Some(&reporter)).unwrap();
        assert!(!sealed.contains("proof"));
        let opened = decrypt(sealed.as_bytes(), &team, &[reporter.public()], 1 << 20).unwrap();
        assert_eq!(opened.data, b"the proof of concept");
        assert!(matches!(
            opened.signature,
            Some(SignatureCheck::Good { .. })
        ));

        let unknown = decrypt(sealed.as_bytes(), &team, &[], 1 << 20).unwrap();
        assert!(matches!(
            unknown.signature,
            Some(SignatureCheck::UnknownKey { .. })
        ));

        let other = TeamKey::generate("Other <o@example.org>").unwrap();
        assert_eq!(
            decrypt(sealed.as_bytes(), &other, &[], 1 << 20).unwrap_err(),
            OpenPgpError::NotForUs
        );
        assert_eq!(
            decrypt(sealed.as_bytes(), &team, &[], 5).unwrap_err(),
            OpenPgpError::TooLarge(5),
            "reading stops at the limit"
        );

        let file = seal_to(b"backup lines", &team.public()).unwrap();
        assert_eq!(open_sealed(&file, &team).unwrap(), b"backup lines");
        let mut flipped = file.clone();
        let last = flipped.len() - 3;
        flipped[last] ^= 1;
        assert!(
            open_sealed(&flipped, &team).is_err(),
            "a flipped byte is refused"
        );
        assert_eq!(
            open_sealed(&file, &other).unwrap_err(),
            OpenPgpError::NotForUs
        );

        let sig = sign_detached(b"announcement", &team).unwrap();
        assert!(matches!(
            verify_detached(b"announcement", sig.as_bytes(), &[team.public()]).unwrap(),
            SignatureCheck::Good { .. }
        ));
        assert!(matches!(
            verify_detached(b"announcement!", sig.as_bytes(), &[team.public()]).unwrap(),
            SignatureCheck::Bad { .. }
        ));

        let clear = sign_cleartext("Contact: mailto:security@example.org\n", &team).unwrap();
        let (text, check) = verify_cleartext(&clear, &[team.public()]).unwrap();
        assert!(text.starts_with("Contact: mailto:security@example.org"));
        assert!(matches!(check, SignatureCheck::Good { .. }));
    }

    #[test]
    fn bad_input_is_named_without_content() {
        assert_eq!(
            PublicKey::from_armored("secret words").unwrap_err(),
            OpenPgpError::NotAKey("public key")
        );
        let team = TeamKey::generate("T <t@example.org>").unwrap();
        assert_eq!(
            decrypt(
                b"-----BEGIN PGP MESSAGE-----\n\nnot base64 at all\n-----END PGP MESSAGE-----\n",
                &team,
                &[],
                1 << 20
            )
            .unwrap_err(),
            OpenPgpError::Malformed
        );
        assert!(!format!("{team:?}").contains("PRIVATE"));
    }

    /// Counts what the decryptor has taken from the file.
    #[derive(Debug)]
    struct Counted<'a> {
        inner: &'a [u8],
        taken: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    }

    impl std::io::Read for Counted<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let n = self.inner.read(out)?;
            self.taken
                .fetch_add(n, std::sync::atomic::Ordering::Relaxed);
            Ok(n)
        }
    }

    #[test]
    fn a_sealed_file_is_opened_as_it_is_read_and_checked_at_its_end() {
        use std::io::BufRead;
        let team = TeamKey::generate("Backups <backups@example.org>").unwrap();
        let line = "{\"t\":\"cases\",\"r\":[1,\"sealed\"]}\n".repeat(64);
        let plain = line.repeat(4096); // about 2.4 MB
        let mut sealed = Vec::new();
        seal_stream_to(plain.as_bytes(), &mut sealed, &team.public()).unwrap();

        let taken = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let file = std::io::BufReader::new(Counted {
            inner: &sealed,
            taken: taken.clone(),
        });
        let mut reader = open_sealed_reader(file, &team).unwrap();
        let mut first = String::new();
        reader.read_line(&mut first).unwrap();
        assert!(first.starts_with("{\"t\":\"cases\""));
        let read = taken.load(std::sync::atomic::Ordering::Relaxed);
        assert!(
            read < sealed.len() / 4,
            "the first line came after {read} of {} bytes: the file was read whole first",
            sealed.len()
        );
        let mut rest = Vec::new();
        std::io::Read::read_to_end(&mut reader, &mut rest).unwrap();
        assert_eq!(first.len() + rest.len(), plain.len());

        // A byte altered near the end: the lines before it come out, the end fails.
        let mut altered = sealed.clone();
        let at = altered.len() - 100;
        altered[at] ^= 1;
        let mut reader = open_sealed_reader(std::io::BufReader::new(&altered[..]), &team).unwrap();
        let mut all = Vec::new();
        assert!(std::io::Read::read_to_end(&mut reader, &mut all).is_err());
    }
}
