//! Embargo's integration tests: one binary, every scenario on SQLite and on PostgreSQL.
//! PostgreSQL is reached at EMBARGO_TEST_PG (default postgres://postgres@127.0.0.1:5432/postgres);
//! each test creates and drops its own database.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod access;
mod agreement;
mod architecture;
mod attacks;
mod browser;
mod canary;
mod confidentiality;
mod config;
mod crash;
mod cve_services;
mod disclosure;
mod errors;
mod export;
mod findings;
mod guard;
mod guard_attack;
mod history;
mod hostile;
mod imap;
mod intake;
mod jobs;
mod lifecycle;
mod lifecycle_table;
mod mail;
mod mail_tls;
mod matrix;
mod openpgp;
mod operations;
mod packaging;
mod postfix;
mod processes;
mod properties;
mod review;
mod roles;
mod routing;
mod safekeeping;
mod schema;
mod signin;
mod support;
mod team;
mod upgrade;
mod web;
mod web_matrix;
mod world;
