//! Embargo's commit guard: it keeps embargoed vulnerabilities out of public commits,
//! branch names, pull requests and changelog fragments, using an exported deny list that
//! holds only hashes (keyed ones for whatever can be enumerated); and it works out
//! affected versions from git.

pub mod denylist;
pub mod git;
pub mod key;
pub mod matcher;
pub mod normalize;
pub mod versions;

pub use denylist::{DenyInputs, DenyList, DenyListError};
pub use key::{GuardKey, KeyError};
pub use matcher::{Finding, Kind, Matcher, NOT_CHECKED_HERE};

#[cfg(test)]
mod tests;
