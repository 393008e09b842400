//! Sending mail through an SMTP relay (usually the local MTA on loopback).

use lettre::message::Mailbox;
use lettre::message::header::{ContentDisposition, ContentType};
use lettre::message::{MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use embargo_store::OutboundMail;

/// Where and as whom mail goes out.
#[derive(Debug, Clone)]
pub struct MailSettings {
    /// The relay, e.g. `smtp://127.0.0.1:25`.
    pub smtp_url: String,
    /// The sender address, e.g. `security@cloudstack.example`.
    pub from: String,
    /// The server's public base URL, for the reporter's link.
    pub public_url: String,
}

/// Errors of sending; none of them quotes the message.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The settings are unusable.
    #[error("mail settings: {0}")]
    Settings(String),
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

/// What a relay failure was, without the relay's own words.
fn relay_failure(e: &lettre::transport::smtp::Error) -> String {
    match e.status() {
        Some(code) if e.is_permanent() => format!("permanent failure, reply code {code}"),
        Some(code) => format!("reply code {code}"),
        None if e.is_timeout() => "timed out".to_owned(),
        None => "the relay could not be reached or the connection failed".to_owned(),
    }
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
        // Plain SMTP to a relay the operator runs (normally the MTA on loopback), which
        // takes care of TLS to the world.
        let bad = || {
            MailError::Settings(format!(
                "'{}' is not an smtp://host:port URL",
                settings.smtp_url
            ))
        };
        let rest = settings.smtp_url.strip_prefix("smtp://").ok_or_else(bad)?;
        let (host, port) = match rest.trim_end_matches('/').rsplit_once(':') {
            Some((host, port)) => (host, port.parse::<u16>().map_err(|_| bad())?),
            None => (rest.trim_end_matches('/'), 25),
        };
        if host.is_empty() {
            return Err(bad());
        }
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(port)
            .build();
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
        self.transport
            .send(message)
            .await
            .map_err(|e| MailError::Relay(relay_failure(&e)))?;
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
