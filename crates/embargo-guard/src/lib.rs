//! Embargo's commit guard: it keeps embargoed vulnerabilities out of public commits,
//! branch names, pull requests and changelog fragments, using an exported deny list that
//! holds only hashes; and it works out affected versions from git.

pub mod denylist;
pub mod git;
pub mod normalize;
pub mod versions;

pub use denylist::{DenyInputs, DenyList, DenyListError, Finding, Kind, Matcher};
