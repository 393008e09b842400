//! The first-run link: a server that starts with nobody to sign in prints a one-time
//! link on its console, valid for an hour, whose page creates the first administrator,
//! organisation and project. Only the link's holder (whoever reads the console) can use
//! it; it is spent once used, and a restart makes a new one.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::extract::constant_time_eq;

/// How long a first-run link stays valid.
pub const VALID_FOR: Duration = Duration::from_secs(3600);

/// The server's first-run link, if it has one.
#[derive(Default)]
pub struct SetupLink {
    current: Mutex<Option<(String, Instant)>>,
}

impl std::fmt::Debug for SetupLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SetupLink")
    }
}

impl SetupLink {
    /// Makes a new link's secret, replacing any earlier one.
    pub fn issue(&self) -> String {
        use base64::Engine;
        use rand::RngCore;
        let mut bytes = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        if let Ok(mut current) = self.current.lock() {
            *current = Some((secret.clone(), Instant::now() + VALID_FOR));
        }
        secret
    }

    /// Whether `secret` is the live link's.
    pub fn valid(&self, secret: &str) -> bool {
        self.current.lock().is_ok_and(|current| {
            current.as_ref().is_some_and(|(s, until)| {
                Instant::now() < *until && constant_time_eq(s.as_bytes(), secret.as_bytes())
            })
        })
    }

    /// Spends the link: it opens nothing any more.
    pub fn spend(&self) {
        if let Ok(mut current) = self.current.lock() {
            *current = None;
        }
    }
}
