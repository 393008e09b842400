//! Sending mail through an SMTP relay: the local MTA on loopback, or a hosted relay
//! over TLS (implicit or STARTTLS) with AUTH.

use lettre::message::Mailbox;
use lettre::message::header::{ContentDisposition, ContentType};
use lettre::message::{MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};

use crate::mail_endpoint::{
    Endpoint, EndpointError, Protocol, Security, read_ca_file, without_password,
};
use embargo_store::OutboundMail;

/// Where and as whom mail goes out.
#[derive(Clone)]
pub struct MailSettings {
    /// The relay: `smtp://127.0.0.1:25` (the local MTA), `smtps://user@relay:465`, or
    /// `smtp://user@relay:587` (STARTTLS required); see [`Endpoint::parse`].
    pub smtp_url: String,
    /// The relay's password when the URL carries none (from a file or the environment).
    pub password: Option<String>,
    /// A CA whose certificates are trusted besides Mozilla's roots (a private relay).
    pub ca_file: Option<std::path::PathBuf>,
    /// The sender address, e.g. `security@cloudstack.example`.
    pub from: String,
    /// The server's public base URL, for the reporter's link.
    pub public_url: String,
}

impl std::fmt::Debug for MailSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Mail({} as {})",
            without_password(&self.smtp_url),
            self.from
        )
    }
}

/// Errors of sending; none of them quotes the message.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The settings are unusable.
    #[error("mail settings: {0}")]
    Settings(String),
    /// The relay's URL or CA file is unusable.
    #[error("mail settings: {0}")]
    Endpoint(#[from] EndpointError),
    /// An address in the mail is not usable.
    #[error("an address of the message is not valid")]
    Address,
    /// The message could not be encrypted to the recipient's key.
    #[error("the message could not be encrypted: {0}")]
    Encryption(String),
    /// The relay refused or could not be reached; worth a retry. Only the reply code is
    /// kept: a relay's text can quote the recipient's address.
    #[error("the SMTP relay did not take the message ({0})")]
    Relay(String),
}

/// What a relay failure was, without the relay's own words (they can quote an address).
/// Failures of TLS and of the client's own checks are lettre's and rustls's words, which
/// name certificates and capabilities, never the message.
fn relay_failure(e: &lettre::transport::smtp::Error) -> String {
    let code = e.status().map(|c| c.to_string());
    match code.as_deref() {
        Some(c @ ("535" | "534" | "530" | "538")) => {
            format!(
                "authentication refused or required (reply code {c}); check the relay's user and password"
            )
        }
        Some(c) if e.is_permanent() => format!("permanent failure, reply code {c}"),
        Some(c) => format!("reply code {c}"),
        None if e.is_timeout() => "timed out".to_owned(),
        None if e.is_tls() => format!(
            "TLS failed ({}); is the relay's certificate trusted (a CA file for a private relay)?",
            tls_cause(e).unwrap_or_default()
        ),
        None if e.is_client() => {
            // e.g. "STARTTLS is not supported by this server": a downgrade refused.
            format!("refused by Embargo: {e}")
        }
        None => match tls_cause(e) {
            Some(cause) => format!(
                "TLS failed ({cause}); is the relay's certificate trusted (a CA file for a private relay)?"
            ),
            None => "the relay could not be reached or the connection failed".to_owned(),
        },
    }
}

/// The rustls error somewhere in a failure's causes: a handshake fails inside the
/// connection, so lettre reports it as a connection error wrapping an I/O error.
fn tls_cause(e: &lettre::transport::smtp::Error) -> Option<String> {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(c) = cause {
        if let Some(tls) = c.downcast_ref::<tokio_rustls::rustls::Error>() {
            return Some(tls.to_string());
        }
        if let Some(tls) = c
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<tokio_rustls::rustls::Error>())
        {
            return Some(tls.to_string());
        }
        cause = c.source();
    }
    None
}

/// An SMTP sender.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    domain: String,
    public_url: String,
}

impl Mailer {
    /// Prepares a sender; connects only when sending.
    pub fn new(settings: &MailSettings) -> Result<Mailer, MailError> {
        let relay = Endpoint::parse(&settings.smtp_url, Protocol::Smtp)?;
        let tls = || -> Result<TlsParameters, MailError> {
            let mut builder = TlsParameters::builder(relay.host.clone());
            if let Some(path) = &settings.ca_file {
                for cert in read_ca_file(path)? {
                    builder = builder.add_root_certificate(
                        Certificate::from_der(cert.to_vec())
                            .map_err(|e| MailError::Settings(format!("CA file: {e}")))?,
                    );
                }
            }
            builder
                .build_rustls()
                .map_err(|e| MailError::Settings(format!("TLS: {e}")))
        };
        let security = match relay.security {
            Security::Implicit => Tls::Wrapper(tls()?),
            Security::StartTls => Tls::Required(tls()?),
            Security::Opportunistic => Tls::Opportunistic(tls()?),
            Security::Plain => Tls::None,
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&relay.host)
            .port(relay.port)
            .tls(security);
        if let Some(user) = &relay.user {
            let password = relay
                .password
                .clone()
                .or_else(|| settings.password.clone())
                .ok_or_else(|| {
                    MailError::Settings(format!(
                        "the relay's user is {user} but no password is given (EMBARGO_SMTP_PASSWORD_FILE or EMBARGO_SMTP_PASSWORD)"
                    ))
                })?;
            builder = builder
                .credentials(Credentials::new(user.clone(), password))
                .authentication(vec![Mechanism::Plain, Mechanism::Login]);
        }
        let transport = builder.build();
        let from: Mailbox = settings.from.parse().map_err(|_| {
            MailError::Settings(format!("'{}' is not a mail address", settings.from))
        })?;
        let domain = from.email.domain().to_owned();
        Ok(Mailer {
            transport,
            from,
            domain,
            public_url: settings.public_url.clone(),
        })
    }

    /// Connects to the relay, says EHLO, takes up TLS and logs in as sending would, then
    /// quits: for `embargo config check`.
    pub async fn check(&self) -> Result<(), MailError> {
        match self.transport.test_connection().await {
            Ok(true) => Ok(()),
            Ok(false) => Err(MailError::Relay("the relay did not answer NOOP".to_owned())),
            Err(e) => Err(MailError::Relay(relay_failure(&e))),
        }
    }

    /// The domain our Message-IDs use.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The base URL of the reporter's link.
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// Sends a message; returns it as sent, for the record.
    pub async fn send(&self, mail: &OutboundMail) -> Result<Vec<u8>, MailError> {
        let to: Mailbox = mail.to.parse().map_err(|_| MailError::Address)?;
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .message_id(Some(format!("<{}>", mail.message_id)));
        if let Some(parent) = &mail.in_reply_to {
            builder = builder.in_reply_to(format!("<{parent}>"));
        }
        if !mail.references.is_empty() {
            let refs: Vec<String> = mail.references.iter().map(|r| format!("<{r}>")).collect();
            builder = builder.references(refs.join(" "));
        }
        let message = match &mail.encrypt_to {
            None => builder
                .header(ContentType::TEXT_PLAIN)
                .body(mail.body.clone())
                .map_err(|_| MailError::Address)?,
            Some(key) => builder
                .multipart(encrypted(mail, key)?)
                .map_err(|_| MailError::Address)?,
        };
        let raw = message.formatted();
        let sent = self.transport.send(message).await;
        crate::metrics::record_mail(if sent.is_ok() { "sent" } else { "failed" });
        sent.map_err(|e| MailError::Relay(relay_failure(&e)))?;
        Ok(raw)
    }
}

/// The message as PGP/MIME (RFC 3156 §4): the text entity encrypted to the recipient
/// (and to the team, signed by it, when the project has a team key).
fn encrypted(
    mail: &OutboundMail,
    key: &embargo_openpgp::PublicKey,
) -> Result<MultiPart, MailError> {
    let entity = format!(
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{}",
        mail.body.replace("\r\n", "\n").replace('\n', "\r\n")
    );
    let armored = embargo_openpgp::encrypt(entity.as_bytes(), key, mail.sign_with.as_ref())
        .map_err(|e| MailError::Encryption(e.to_string()))?;
    let content_type =
        |t: &str| ContentType::parse(t).map_err(|_| MailError::Encryption("content type".into()));
    Ok(MultiPart::encrypted("application/pgp-encrypted".to_owned())
        .singlepart(
            SinglePart::builder()
                .header(content_type("application/pgp-encrypted")?)
                .body("Version: 1\r\n".to_owned()),
        )
        .singlepart(
            SinglePart::builder()
                .header(content_type(
                    "application/octet-stream; name=\"encrypted.asc\"",
                )?)
                .header(ContentDisposition::inline_with_name("encrypted.asc"))
                .body(armored),
        ))
}
