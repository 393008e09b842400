//! The signed-in member every team page is drawn for: what they may see, and the token
//! their forms carry. How a session becomes a member is `auth`'s.

use embargo_core::access::Viewer;

use crate::extract::constant_time_eq;
use crate::web::PageError;

/// A signed-in person on a team page.
pub struct Member {
    /// What they may see; the store checks every read and change against it.
    pub viewer: Viewer,
    /// Their address, for the header.
    pub email: String,
    /// The token every form of theirs carries.
    pub csrf: String,
}

impl Member {
    /// Refuses a form that does not carry this session's token.
    pub fn check(&self, sent: &str) -> Result<(), PageError> {
        if constant_time_eq(sent.as_bytes(), self.csrf.as_bytes()) {
            Ok(())
        } else {
            Err(PageError::Csrf)
        }
    }
}
