//! What Embargo's mail says, as pure functions of what each mail needs: the store loads
//! the inputs and records what was sent, and every word people receive is here. Mail to
//! people outside the case's team names the case by reference only.

/// A mail's subject and plain-text body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letter {
    /// The subject line.
    pub subject: String,
    /// The body.
    pub body: String,
}

fn base(url: &str) -> &str {
    url.trim_end_matches('/')
}

/// The case page on the desk, for people on the case's team.
pub fn case_link(public_url: &str, reference: &str) -> String {
    format!("{}/desk/cases/{reference}", base(public_url))
}

/// The reporter's lines on following their case by its secret link.
pub fn follow_line(public_url: &str, link: &str) -> String {
    format!(
        "Follow the case and reply at {}/reporter/{link}\n(keep this link to yourself: it opens your case).",
        base(public_url)
    )
}

/// The acknowledgement of a new report, to its reporter: the project's own text (its
/// canned "acknowledgement", `{ref}` standing for the reference), then what happens next
/// and by when (`respond_by`: the acknowledgement clock's date).
pub fn acknowledgement(reference: &str, text: &str, respond_by: &str, follow: &str) -> Letter {
    let text = text.replace("{ref}", reference);
    Letter {
        subject: format!("[{reference}] We have received your security report"),
        body: format!(
            "{text}\n\n\
             What happens next:\n\
             - By {respond_by}, a member of the security team reads your report and writes to you: \
             whether it is accepted as a vulnerability, and any questions.\n\
             - If it is, the team prepares a fix in private, agrees a date for the announcement \
             with you, and credits you as you choose.\n\
             - Until the announcement, please keep the report confidential. To add information, \
             reply to this message.\n\n{follow}\n"
        ),
    }
}

/// A message from the team to the reporter.
pub fn reply_to_reporter(reference: &str, text: &str, follow: &str) -> Letter {
    Letter {
        subject: format!("Re: [{reference}] Your security report"),
        body: format!("{text}\n\n-- \n{reference}\n{follow}\n"),
    }
}

/// The notice to whoever forwarded a report: by reference only, since the reporter's
/// secret link is the reporter's alone.
pub fn forwarder_notice(reference: &str) -> Letter {
    Letter {
        subject: format!("[{reference}] The report you forwarded was received"),
        body: format!(
            "Thank you for forwarding this report. The security team has received it as {reference}, \
             credited to its original reporter, who has been sent an acknowledgement.\n"
        ),
    }
}

/// An invitation to collaborate, with the single-use secret that accepts the terms.
pub fn invitation(reference: &str, public_url: &str, secret: &str) -> Letter {
    let base = base(public_url);
    Letter {
        subject: format!("[{reference}] You are invited to help with a security case"),
        body: format!(
            "The security team invites you to help with {reference}, an embargoed security case.\n\n\
             You will see it once you accept the confidentiality terms. Open this link to read them \
             and accept (with your account's password, or a new one of at least 12 characters if you \
             have none yet):\n\n  {base}/invitations/{secret}\n\n\
             (Scripts may accept with POST {base}/api/invitations/accept instead.)\n\n\
             Keep this message to yourself: the link is yours alone.\n"
        ),
    }
}

/// An invitation to a project's security team, to a newcomer: the link to choose their
/// own password, then a second factor.
pub fn welcome(project: &str, public_url: &str, secret: &str) -> Letter {
    let base = base(public_url);
    Letter {
        subject: format!("You are invited to the {project} security team"),
        body: format!(
            "You are invited to join the {project} security team on Embargo, where its              vulnerability reports are handled in confidence.\n\n             Open this link within a week to choose your password (nobody else will know it):\n\n               {base}/welcome/{secret}\n\n             Then set up your second factor on your account page.\n\n             Keep this message to yourself: the link is yours alone, and works once.\n"
        ),
    }
}

/// A new report, to its project's team.
pub fn new_report(project: &str, reference: &str, channel: &str, public_url: &str) -> Letter {
    Letter {
        subject: format!("[{reference}] New report for {project}"),
        body: format!(
            "A new report arrived for {project} by {channel}: {reference}.\nIt is in your queue: {}\n",
            case_link(public_url, reference)
        ),
    }
}

/// A message on a case from outside the team (the reporter, or a third party), by
/// reference only: what was written is on the case page.
pub fn message_arrived(project: &str, reference: &str, public_url: &str) -> Letter {
    Letter {
        subject: format!("[{reference}] New message on a {project} case"),
        body: format!(
            "A message arrived on {reference} ({project}): from the reporter, or someone writing about the case.
Read it on the case page: {}
",
            case_link(public_url, reference)
        ),
    }
}

/// A request for a member's view of a report, by reference only.
pub fn view_requested(project: &str, reference: &str, public_url: &str) -> Letter {
    Letter {
        subject: format!("[{reference}] Your view is asked on a {project} report"),
        body: format!(
            "A member of the {project} security team asks for your view of {reference}: \
             is it a vulnerability, hardening, information only, invalid, or a duplicate?\n\
             Give it on the case page: {}\n",
            case_link(public_url, reference)
        ),
    }
}

/// A confirmed vulnerability, to the foundation security team.
pub fn confirmed(project: &str, reference: &str, public_url: &str) -> Letter {
    Letter {
        subject: format!("[{reference}] {project} confirmed a vulnerability"),
        body: format!(
            "The {project} security team confirmed {reference}.\nIt is in your queue: {}\n",
            case_link(public_url, reference)
        ),
    }
}

/// A stalled case's escalation, to the foundation team and the project's private list.
pub fn escalation(reference: &str, state: &str, since: &str, public_url: &str) -> Letter {
    Letter {
        subject: format!("[{reference}] Stalled: no activity since {since}"),
        body: format!(
            "{reference} ({state}) has had no activity since {since}. As the procedure asks, a case without activity for this long is escalated to the foundation security team and the project's private list.\n\nThe case: {}\n",
            case_link(public_url, reference)
        ),
    }
}

/// The daily digest of a project's cases that need attention, one line each.
pub fn digest(project: &str, lines: &[String], public_url: &str) -> Letter {
    Letter {
        subject: format!(
            "[{project}] Daily digest: {} case(s) need attention",
            lines.len()
        ),
        body: format!(
            "What needs attention in {project} today:\n\n{}\n\nThe queue: {}/desk?project={project}\n",
            lines.join("\n"),
            base(public_url)
        ),
    }
}

/// A pre-notification's text: the embargo, the acknowledgement deadline, then the
/// advisory. It asks for a reply; a copy with an acknowledgement link says so instead.
pub fn prenotification(advisory: &str, embargo: &str, acknowledge_days: i64) -> String {
    format!(
        "EMBARGOED: this advisory is confidential until {embargo}. Do not share it beyond the people preparing your update, and do not publish anything about it before then.\n\nPlease acknowledge receipt within {acknowledge_days} day(s) by replying to this message.\n\n{advisory}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn team_mail_names_the_case_and_nothing_of_it() {
        for letter in [
            new_report(
                "CLOUDSTACK",
                "CLOUDSTACK-SEC-1",
                "mail",
                "https://e.example/",
            ),
            confirmed("CLOUDSTACK", "CLOUDSTACK-SEC-1", "https://e.example"),
            escalation(
                "CLOUDSTACK-SEC-1",
                "triage",
                "2026-01-01",
                "https://e.example",
            ),
        ] {
            assert!(letter.subject.starts_with("[CLOUDSTACK-SEC-1]"));
            assert!(
                letter
                    .body
                    .contains("https://e.example/desk/cases/CLOUDSTACK-SEC-1"),
                "{}",
                letter.body
            );
        }
    }

    #[test]
    fn the_reporter_reply_carries_the_follow_link_under_a_signature() {
        let follow = follow_line("https://e.example/", "s3cret");
        let letter = reply_to_reporter("X-SEC-2", "Fixed in 1.2.", &follow);
        assert_eq!(letter.subject, "Re: [X-SEC-2] Your security report");
        assert!(
            letter
                .body
                .starts_with("Fixed in 1.2.\n\n-- \nX-SEC-2\nFollow the case")
        );
        assert!(letter.body.contains("https://e.example/reporter/s3cret"));
    }
}
