//! The Atlas API model shared by the CLI and the HTTP server: requests,
//! their validation in Atlas's order with Atlas's errors, and the response
//! bodies with their rendering.
//!
//! Both front ends call [`create_cert`], [`list_certs`] and
//! [`users::list_users`]; these validate, then hand over to
//! [`crate::issuing`] and the ledger.

mod atlas_error;
mod cas;
mod certs;
pub(crate) mod clusters;
pub(crate) mod customer_x509;
mod error;
mod issued;
pub(crate) mod json;
pub(crate) mod keys;
mod ldap;
mod local;
pub(crate) mod manage;
mod ocsp;
pub(crate) mod project_info;
pub(crate) mod project_state;
pub(crate) mod projects;
mod render;
mod request;
mod revoke;
pub(crate) mod service_accounts;
pub(crate) mod users;

pub use atlas_error::{ApiError, CHALLENGE_BODY, ErrorCode};
pub use certs::{CreateCert, Created, DEFAULT_MONTHS, create_cert, list_certs};
pub(crate) use certs::{cert_page, certs_url, create_cert_with, issue, validate_create};
pub use error::{Error, Invalid};
pub use issued::issued;
pub use json::{Envelope, MAX_ITEMS_PER_PAGE, Page, Paging, timestamp};
pub use local::{CrlScope, MAX_SERVER_MONTHS, ServerCert, crl_pem, plan_server_cert};
pub use ocsp::{FixedCa, Responder};
pub use render::render;
pub use request::{
    parse_add_key_body, parse_create_body, parse_key_body, parse_key_roles_body,
    parse_new_user_body, parse_no_teams, parse_paging, parse_project_body, parse_project_patch,
    parse_settings_body, parse_user_body, parse_user_security_body,
};
pub use revoke::{revoke_cert, revoke_serial, serial_candidates};
pub use users::project;
