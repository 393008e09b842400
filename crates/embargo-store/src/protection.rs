//! What OpenPGP did for a message, put on the timeline, and the reporter's key learned
//! from it.

use embargo_core::timeline::EventKind;
use embargo_mail::Inbound;
use sqlx::AnyConnection;

use crate::timeline::{Act, record_event};
use crate::{Result, Store};

impl Store {
    /// Notes on the timeline what OpenPGP did for a message (decrypted, the signature's
    /// check), and learns the reporter's key from it when none is known.
    pub(crate) async fn record_protection(
        &self,
        conn: &mut AnyConnection,
        case_id: i64,
        inbound: &Inbound,
        now: i64,
    ) -> Result<()> {
        if !inbound.protection.is_used() && inbound.protection.keys.is_empty() {
            return Ok(());
        }
        let mut notes = Vec::new();
        if inbound.protection.is_used() {
            notes.push(inbound.protection.describe());
        }
        // The sender's own key: one whose user ID names the sender, or the only one given.
        let from = inbound.from_email.as_str();
        let keys = &inbound.protection.keys;
        let own = keys
            .iter()
            .find(|k| {
                k.user_ids()
                    .iter()
                    .any(|u| u.to_ascii_lowercase().contains(from))
            })
            .or(if keys.len() == 1 { keys.first() } else { None });
        let is_reporter = self
            .case_reporter_email(conn, case_id)
            .await?
            .is_some_and(|e| e.eq_ignore_ascii_case(from));
        if let Some(key) = own
            && is_reporter
            && self.learn_reporter_key(conn, case_id, key).await?
        {
            notes.push(format!(
                "the reporter's OpenPGP key {} came with the message; mail to the reporter is encrypted to it",
                key.fingerprint()
            ));
        }
        if notes.is_empty() {
            return Ok(());
        }
        let act = Act {
            case_id,
            actor: None,
            now,
        };
        record_event(
            conn,
            self.keys(),
            act,
            EventKind::Openpgp,
            None,
            Some(&notes.join("; ")),
        )
        .await?;
        Ok(())
    }

    pub(crate) async fn case_reporter_email(
        &self,
        conn: &mut AnyConnection,
        case_id: i64,
    ) -> Result<Option<String>> {
        let case = crate::case_row::load(conn, self.keys(), case_id, true).await?;
        Ok(case.reporter_email())
    }
}
