//! Unit tests of `args.rs`, apart to keep it short.

use super::*;
use clap::CommandFactory;

#[test]
fn the_command_line_is_consistent() {
    Cli::command().debug_assert();
}

#[test]
fn limits_come_from_the_core() {
    let parse = |args: &[&str]| Cli::try_parse_from(args).map(|_| ());
    assert!(
        parse(&[
            "atlas-ca", "dbusers", "certs", "list", "u", "--limit", "500"
        ])
        .is_ok()
    );
    assert!(
        parse(&[
            "atlas-ca", "dbusers", "certs", "list", "u", "--limit", "501"
        ])
        .is_err()
    );
    assert!(
        parse(&[
            "atlas-ca",
            "local-kit",
            "--out",
            "k",
            "--monthsUntilExpiration",
            "119"
        ])
        .is_ok()
    );
    assert!(
        parse(&[
            "atlas-ca",
            "local-kit",
            "--out",
            "k",
            "--monthsUntilExpiration",
            "120"
        ])
        .is_err()
    );
    assert!(
        parse(&[
            "atlas-ca",
            "fixtures",
            "--out",
            "f",
            "--key-type",
            "ec-p384"
        ])
        .is_ok()
    );
    assert!(parse(&["atlas-ca", "fixtures", "--out", "f", "--key-type", "dsa"]).is_err());
    assert!(
        parse(&[
            "atlas-ca",
            "fixtures",
            "--out",
            "f",
            "--cert-profile",
            "strict"
        ])
        .is_ok()
    );
    assert!(parse(&["atlas-ca", "dbusers", "ls", "-P", "e2e"]).is_ok());
}
