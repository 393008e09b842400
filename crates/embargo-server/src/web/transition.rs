//! The form that moves a case to another state, asking for what that move needs (a
//! reason, the message to the reporter, the case it duplicates, an override, the
//! retrospective).

use std::collections::HashMap;

use embargo_core::lifecycle::State;
use maud::{Markup, html};

/// The form for moving the case `r` to `to`, keeping what was typed before a refusal.
pub(super) fn transition_form(
    r: &str,
    csrf: &str,
    to: State,
    typed: &HashMap<String, String>,
) -> Markup {
    let value = |name: &str| typed.get(name).cloned().unwrap_or_default();
    let id = |name: &str| format!("t-{}-{name}", to.as_str());
    let needs_message = matches!(to, State::Invalid | State::Duplicate);
    html! {
        form.transition method="post" action={ "/desk/cases/" (r) "/transition" } {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="to" value=(to.as_str());
            fieldset {
                legend { "Move to " (to.as_str()) }
                label for=(id("reason")) { "Why (on the timeline)" }
                textarea id=(id("reason")) name="reason" rows="2" {}
                @if needs_message {
                    label for=(id("message")) { "Message to the reporter" }
                    textarea id=(id("message")) name="message_to_reporter" rows="2" { (value("message_to_reporter")) }
                }
                @if to == State::Duplicate {
                    label for=(id("dup")) { "Duplicate of (case reference)" }
                    input id=(id("dup")) type="text" name="duplicate_of" value=(value("duplicate_of"));
                }
                @if to == State::Announced {
                    label for=(id("override")) { "Why announce before the embargo date (only if it is early)" }
                    textarea id=(id("override")) name="override_reason" rows="2" {}
                    label for=(id("not-sent")) { "Why it counts as announced although Embargo has not sent it to every list (only then)" }
                    textarea id=(id("not-sent")) name="not_sent_reason" rows="2" {}
                }
                @if to == State::Closed {
                    label for=(id("root")) { "Root cause" }
                    select id=(id("root")) name="root_cause" {
                        @for v in ["input-validation", "output-encoding", "injection", "authentication", "authorization", "cryptography", "memory-safety", "configuration", "dependency", "logic", "other"] {
                            option value=(v) { (v) }
                        }
                    }
                    label for=(id("found")) { "Found by" }
                    select id=(id("found")) name="found_by" {
                        @for v in ["external-report", "internal-review", "automated-scan", "fuzzing", "other"] {
                            option value=(v) { (v) }
                        }
                    }
                    label for=(id("rcwe")) { "CWE" }
                    input id=(id("rcwe")) type="text" name="retro_cwe" placeholder="CWE-79";
                    label for=(id("introduced")) { "Introduced in (version or commit)" }
                    input id=(id("introduced")) type="text" name="introduced";
                    label for=(id("prevention")) { "What would have prevented it" }
                    textarea id=(id("prevention")) name="prevention" rows="3" { (value("prevention")) }
                }
                button type="submit" { "Move to " (to.as_str()) }
            }
        }
    }
}
