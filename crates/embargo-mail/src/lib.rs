//! Mail without I/O: an inbound message parsed into what intake needs (who, what,
//! the thread it belongs to, its attachments byte for byte), classified, or the reason
//! it cannot be used.

mod charset;
pub mod forward;
pub mod inbound;
pub mod limits;
pub mod mbox;
mod parts;
pub mod patch;
pub mod protection;
pub mod wording;

pub use forward::Forwarded;
pub use inbound::{Attachment, Inbound, Kind, Unusable};
pub use limits::{Limit, Limits};
pub use protection::{Keys, Protection};
