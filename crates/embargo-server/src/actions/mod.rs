//! What the API and the pages both do, written once. Each action takes plain inputs and
//! answers with a typed outcome; the API renders it as JSON and the pages as a page, but
//! the checks, their order and the trimming are the same for both.

pub mod account;
pub mod cve;
pub mod report;
pub mod session;

pub use report::{PublicReport, ReportRefused, file_public_report};
pub use session::{SignInRefused, SignedIn, sign_in};
