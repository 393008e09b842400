//! Mailbox files: an mbox (mboxrd) split into its messages, for batch intake.

/// Splits an mbox (mboxrd) file into its messages: each starts at a `From ` line, and
/// body lines quoted as `>From ` lose one `>`.
pub fn split(data: &[u8]) -> Vec<Vec<u8>> {
    let mut messages = Vec::new();
    let mut current: Option<Vec<u8>> = None;
    for line in data.split_inclusive(|b| *b == b'\n') {
        if line.starts_with(b"From ") {
            if let Some(m) = current.take() {
                messages.push(m);
            }
            current = Some(Vec::new());
            continue;
        }
        let Some(m) = current.as_mut() else {
            continue;
        };
        let unquoted = match line.iter().position(|b| *b != b'>') {
            Some(n) if n > 0 && line[n..].starts_with(b"From ") => &line[1..],
            _ => line,
        };
        m.extend_from_slice(unquoted);
    }
    if let Some(m) = current {
        messages.push(m);
    }
    messages
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn mbox_splits_on_from_lines_and_unquotes() {
        let data = b"From a@b Mon Nov 23 10:00:00 2026\nSubject: one\n\n>From here on\n\nFrom c@d Mon Nov 23 10:01:00 2026\nSubject: two\n\nbody\n";
        let messages = split(data);
        assert_eq!(messages.len(), 2);
        assert_eq!(messages[0], b"Subject: one\n\nFrom here on\n\n");
        assert!(messages[1].starts_with(b"Subject: two"));
    }
}
