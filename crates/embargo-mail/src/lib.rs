//! Mail without I/O: an inbound message parsed into what intake needs (who, what,
//! the thread it belongs to, its attachments byte for byte), classified, or the reason
//! it cannot be used.

pub mod inbound;
pub mod protection;

pub use inbound::{Attachment, Inbound, Kind, Limits, Unusable};
pub use protection::{Keys, Protection};
