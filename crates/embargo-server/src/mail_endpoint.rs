//! Where mail goes out and comes in: the URL of an SMTP relay or IMAP server, how its
//! connection is protected, and the TLS client both use (rustls with ring, as the HTTP
//! client uses, trusting Mozilla's roots plus the operator's own CA when one is given).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::CertificateDer;
use tokio_rustls::rustls::pki_types::pem::PemObject;

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// TLS from the first byte (`smtps://`, `imaps://`).
    Implicit,
    /// STARTTLS, and the connection is refused when the server does not offer it.
    StartTls,
    /// STARTTLS when offered, plain otherwise (SMTP only; open to a downgrade).
    Opportunistic,
    /// No TLS: a relay on this machine, or `tls=none` said explicitly.
    Plain,
}

/// A mail server as the URL names it.
#[derive(Clone)]
pub struct Endpoint {
    /// Host name or address; also the name its certificate must carry.
    pub host: String,
    /// Port.
    pub port: u16,
    /// The login, when the server wants one.
    pub user: Option<String>,
    /// The password given in the URL itself (a file or the environment is better).
    pub password: Option<String>,
    /// How the connection is protected.
    pub security: Security,
    /// The URL's path without its slash (the IMAP mailbox).
    pub path: String,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}@{}:{} ({:?})",
            self.user.as_deref().unwrap_or("-"),
            self.host,
            self.port,
            self.security
        )
    }
}

/// The two protocols: their schemes and default ports.
#[derive(Debug, Clone, Copy)]
pub enum Protocol {
    /// Mail out.
    Smtp,
    /// Mail in.
    Imap,
}

impl Protocol {
    fn schemes(self) -> (&'static str, &'static str) {
        match self {
            Protocol::Smtp => ("smtp", "smtps"),
            Protocol::Imap => ("imap", "imaps"),
        }
    }

    fn default_port(self, security: Security) -> u16 {
        match (self, security) {
            (Protocol::Smtp, Security::Implicit) => 465,
            (Protocol::Smtp, Security::StartTls | Security::Opportunistic) => 587,
            (Protocol::Smtp, Security::Plain) => 25,
            (Protocol::Imap, Security::Implicit) => 993,
            (Protocol::Imap, _) => 143,
        }
    }
}

/// Why a mail server's settings cannot be used. None of them quotes a password.
#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    /// The URL does not parse or has the wrong scheme.
    #[error("'{shown}' is not a usable {protocol} URL: {why}")]
    BadUrl {
        /// The URL without its password.
        shown: String,
        /// `smtp://` or `imap://`.
        protocol: &'static str,
        /// What is wrong.
        why: String,
    },
    /// A password would cross the network without TLS.
    #[error(
        "{0}: a password would cross the network in clear; use {1}:// or tls=required (tls=none is for a server on this machine)"
    )]
    ClearPassword(String, &'static str),
    /// The CA file cannot be read or holds no certificate.
    #[error("CA file {0}: {1}")]
    CaFile(PathBuf, String),
}

impl Endpoint {
    /// Reads `smtp[s]://[user[:password]@]host[:port][/path][?tls=required|opportunistic|none]`
    /// (or `imap[s]://…`). Without `tls=`, a plain scheme means STARTTLS required, except
    /// to a loopback address, where the local MTA or mail server is reached as it is.
    pub fn parse(given: &str, protocol: Protocol) -> Result<Endpoint, EndpointError> {
        let (plain_scheme, tls_scheme) = protocol.schemes();
        let shown = without_password(given);
        let bad = |why: &str| EndpointError::BadUrl {
            shown: shown.clone(),
            protocol: plain_scheme,
            why: why.to_owned(),
        };
        if !given.contains("://") {
            return Err(bad(&format!("write it as {plain_scheme}://host:port")));
        }
        let url = ::url::Url::parse(given).map_err(|e| bad(&e.to_string()))?;
        let host = match url.host() {
            Some(::url::Host::Domain(d)) if !d.is_empty() => d.to_owned(),
            Some(::url::Host::Ipv4(a)) => a.to_string(),
            Some(::url::Host::Ipv6(a)) => a.to_string(),
            _ => return Err(bad("it names no host")),
        };
        let loopback = is_loopback(&host);
        let mut tls = None;
        for (key, value) in url.query_pairs() {
            match key.as_ref() {
                "tls" => tls = Some(value.into_owned()),
                other => return Err(bad(&format!("unknown parameter '{other}'"))),
            }
        }
        let security = match (url.scheme(), tls.as_deref()) {
            (s, None) if s == tls_scheme => Security::Implicit,
            (s, Some(_)) if s == tls_scheme => {
                return Err(bad(&format!("{tls_scheme}:// is always TLS; drop tls=")));
            }
            (s, None) if s == plain_scheme && loopback => Security::Plain,
            (s, None | Some("required")) if s == plain_scheme => Security::StartTls,
            (s, Some("none")) if s == plain_scheme => Security::Plain,
            (s, Some("opportunistic")) if s == plain_scheme => match protocol {
                Protocol::Smtp => Security::Opportunistic,
                Protocol::Imap => return Err(bad("IMAP takes tls=required or tls=none")),
            },
            (s, Some(other)) if s == plain_scheme => {
                return Err(bad(&format!(
                    "tls={other}: say required, opportunistic or none"
                )));
            }
            (other, _) => {
                return Err(bad(&format!(
                    "the scheme is {other}://, not {plain_scheme}:// or {tls_scheme}://"
                )));
            }
        };
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map(|c| c.into_owned())
                .map_err(|_| bad("the user or password is not UTF-8"))
        };
        let user = match url.username() {
            "" => None,
            u => Some(decode(u)?),
        };
        let password = url.password().map(decode).transpose()?;
        let path = decode(url.path().trim_start_matches('/'))?;
        Ok(Endpoint {
            port: url
                .port()
                .unwrap_or_else(|| protocol.default_port(security)),
            host,
            user,
            password,
            security,
            path,
        })
        .and_then(|e| e.refuse_clear_password(&shown, tls_scheme))
    }

    fn refuse_clear_password(
        self,
        shown: &str,
        tls_scheme: &'static str,
    ) -> Result<Endpoint, EndpointError> {
        let exposed = matches!(self.security, Security::Plain | Security::Opportunistic);
        if exposed && self.user.is_some() && !is_loopback(&self.host) {
            return Err(EndpointError::ClearPassword(shown.to_owned(), tls_scheme));
        }
        Ok(self)
    }
}

/// Whether a host is this machine.
fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|a| a.is_loopback())
}

/// The URL as it may be shown: the password, if any, replaced.
pub fn without_password(given: &str) -> String {
    match ::url::Url::parse(given) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        Ok(url) => url.to_string(),
        Err(_) => match given.rsplit_once('@') {
            Some((_, rest)) => format!("…@{rest}"),
            None => given.to_owned(),
        },
    }
}

/// The certificates of a PEM file (an operator's CA), refused when it holds none.
pub fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, EndpointError> {
    let bytes =
        std::fs::read(path).map_err(|e| EndpointError::CaFile(path.to_owned(), e.to_string()))?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| EndpointError::CaFile(path.to_owned(), e.to_string()))?;
    if certs.is_empty() {
        return Err(EndpointError::CaFile(
            path.to_owned(),
            "no PEM certificate in it".to_owned(),
        ));
    }
    Ok(certs)
}

/// The TLS client of mail in: Mozilla's roots, plus the given CA's certificates.
pub fn client_config(
    extra: &[CertificateDer<'static>],
) -> Result<Arc<rustls::ClientConfig>, EndpointError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for cert in extra {
        roots
            .add(cert.clone())
            .map_err(|e| EndpointError::CaFile(PathBuf::from("(CA file)"), e.to_string()))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| EndpointError::CaFile(PathBuf::from("(TLS)"), e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url: &str) -> Result<Endpoint, EndpointError> {
        Endpoint::parse(url, Protocol::Smtp)
    }

    #[test]
    fn security_follows_scheme_parameter_and_host() {
        let cases = [
            ("smtp://127.0.0.1:2525", Security::Plain, 2525),
            ("smtp://localhost", Security::Plain, 25),
            ("smtp://relay.example.org", Security::StartTls, 587),
            (
                "smtp://relay.example.org:25?tls=required",
                Security::StartTls,
                25,
            ),
            (
                "smtp://relay.example.org?tls=opportunistic",
                Security::Opportunistic,
                587,
            ),
            ("smtp://10.0.0.5?tls=none", Security::Plain, 25),
            (
                "smtp://127.0.0.1:2525?tls=required",
                Security::StartTls,
                2525,
            ),
            ("smtps://relay.example.org", Security::Implicit, 465),
        ];
        for (url, security, port) in cases {
            let e = parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
            assert_eq!((e.security, e.port), (security, port), "{url}");
        }
        let imap = Endpoint::parse("imaps://intake@mail.example.org/Reports", Protocol::Imap)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((imap.security, imap.port), (Security::Implicit, 993));
        assert_eq!(imap.path, "Reports");
    }

    #[test]
    fn credentials_are_decoded_and_never_shown() {
        let e = parse("smtps://embargo%40example.org:p%40ss@relay.example.org")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(e.user.as_deref(), Some("embargo@example.org"));
        assert_eq!(e.password.as_deref(), Some("p@ss"));
        assert!(!format!("{e:?}").contains("p@ss"));
        let err = parse("smtps://u:s3cret@relay.example.org?tls=none")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            !err.contains("s3cret") && err.contains("always TLS"),
            "{err}"
        );
    }

    #[test]
    fn passwords_in_clear_over_the_network_are_refused() {
        for url in [
            "smtp://u@relay.example.org?tls=none",
            "smtp://u@relay.example.org?tls=opportunistic",
        ] {
            assert!(
                matches!(parse(url), Err(EndpointError::ClearPassword(..))),
                "{url}"
            );
        }
        assert!(parse("smtp://u@127.0.0.1:25").is_ok(), "loopback is local");
    }

    #[test]
    fn wrong_urls_say_what_is_wrong() {
        for (url, says) in [
            ("http://relay.example.org", "scheme"),
            ("smtp://relay.example.org?tls=maybe", "tls=maybe"),
            ("smtp://relay.example.org?starttls=1", "unknown parameter"),
            ("smtp:///nohost", "host"),
            ("relay.example.org:25", "smtp://host:port"),
        ] {
            let err = parse(url).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(err.contains(says), "{url}: {err}");
        }
        let err = Endpoint::parse(
            "imap://u@mail.example.org?tls=opportunistic",
            Protocol::Imap,
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(err.contains("tls=required or tls=none"), "{err}");
    }
}
