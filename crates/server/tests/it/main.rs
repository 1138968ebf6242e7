//! The integration suite: every test runs against SQLite and against PostgreSQL through the
//! real router (see `common`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::crate_in_macro_def)]

mod common;

mod access_matrix;
mod alertmanager;
mod audit;
mod auth;
mod bad_input;
mod bulk;
mod cmdb;
mod cmdb_import;
mod configs;
mod correlation;
mod desk;
mod event_console;
mod events;
mod fuzz_seeds;
mod incident_links;
mod incidents;
mod kpis;
mod major;
mod problems;
mod resources;
mod saved_filters;
mod services;
mod slas;
mod timeline;
mod vendors;
