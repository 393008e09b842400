//! A wrapper for confidential values: its `Debug` and `Display` print `[redacted]`, so a
//! value cannot reach a log line, a panic message or an error by accident. Reading it
//! takes an explicit `expose()`.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A confidential value. Serialises as the value itself (for the API, to those allowed).
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Confidential<T>(T);

impl<T> Confidential<T> {
    /// Wraps a value.
    pub fn new(value: T) -> Confidential<T> {
        Confidential(value)
    }

    /// The value, for the code that has to use it.
    pub fn expose(&self) -> &T {
        &self.0
    }

    /// The value, unwrapped.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for Confidential<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl<T> fmt::Display for Confidential<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl<T> From<T> for Confidential<T> {
    fn from(value: T) -> Self {
        Confidential(value)
    }
}

impl From<&str> for Confidential<String> {
    fn from(value: &str) -> Self {
        Confidential(value.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_printed() {
        let secret = Confidential::new("the exploit".to_owned());
        assert_eq!(
            format!("{secret:?} {secret} {:?}", Some(&secret)),
            "[redacted] [redacted] Some([redacted])"
        );
        assert_eq!(serde_json::to_string(&secret).unwrap(), "\"the exploit\"");
        assert_eq!(secret.expose(), "the exploit");
    }
}
