//! Embargo's domain: what a case is, how it moves through the lifecycle, how it is
//! rated and timed, and who may see it. Nothing in this crate does I/O.

pub mod access;
pub mod canned;
pub mod case;
pub mod checklist;
pub mod clocks;
pub mod confidential;
pub mod cve_record;
pub mod cvss;
pub mod cwe;
pub mod diff;
pub mod disclosure;
pub mod findings;
pub mod fix;
pub mod lifecycle;
pub mod project;
pub mod reference;
pub mod review;
pub mod search;
pub mod state;
pub mod timeline;
pub mod triage;
