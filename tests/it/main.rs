//! The integration tests, in one binary (one link, one copy of `common`):
//! each module runs the real `atlas-ca` binary and checks what it makes
//! with independent tools (the `openssl` CLI, Python's `ssl`, rustls,
//! pkilint, curl, requests, the Node Atlas client).

mod common;

mod api_keys_http;
mod atlas_cli;
mod bad_input;
mod bounds;
mod cli_habits;
mod connections;
mod customer_cas;
mod errors;
mod faults;
mod fidelity;
mod fixtures;
mod hardening;
mod hardening_more;
mod help;
mod https;
mod keys;
mod kit_clusters;
mod kit_inputs;
mod layers;
mod ledger;
mod manage;
mod manage_http;
mod names;
mod newcomer;
mod ocsp;
mod ocsp_dirs;
mod over_time;
mod pki_apply;
mod pki_main;
mod pki_sets;
mod pki_upstream;
mod profile;
mod project_reads;
mod projects_http;
mod readme;
mod refusals;
mod registry_files;
mod reproducible;
mod rotation;
mod server;
mod server_clients;
mod server_limits;
mod service_accounts;
mod service_accounts_http;
mod system_status;
mod terraform;
mod tls;
mod tls_lint;
mod user_kinds;
mod verify_mongod;
