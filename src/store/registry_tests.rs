//! Unit tests of `registry.rs`, apart to keep it short.

use super::*;
use crate::model::{Database, UserKind};

fn err(text: &str) -> (usize, usize, String) {
    match Registry::parse(text, Path::new("r.toml")) {
        Err(RegistryError::Invalid {
            line,
            column,
            message,
            ..
        }) => (line, column, message),
        other => panic!("expected an error, got {other:?}"),
    }
}

const P: &str = "[[projects]]\nid = \"5efda6aea3f2ed2e7dd6ce05\"\n";

#[test]
fn parses_users_with_defaults() {
    let text = format!(
        "{P}[[projects.databaseUsers]]\nusername = \"alice\"\nx509Type = \"MANAGED\"\n\
         roles = [{{ roleName = \"readWrite\", databaseName = \"app\" }}]\n\
         [[projects.databaseUsers]]\nusername = \"bob\"\n\
         [[projects.databaseUsers]]\nusername = \"CN=ops,DC=example\"\nldapAuthType = \"GROUP\"\n\
         [[projects.databaseUsers]]\nusername = \"CN=ann,DC=example\"\nldapAuthType = \"USER\"\n"
    );
    let r = Registry::parse(&text, Path::new("r.toml")).unwrap();
    let p = r.project("5EFDA6AEA3F2ED2E7DD6CE05").unwrap();
    let now = time::OffsetDateTime::now_utc();
    let user = |name: &str| p.user(name, now).unwrap();
    assert_eq!(user("alice").kind, UserKind::X509(X509Type::Managed));
    assert_eq!(user("alice").database(), Database::External);
    assert_eq!(user("alice").roles[0].role_name, "readWrite");
    assert_eq!(user("bob").kind, UserKind::Password(Database::Admin));
    assert_eq!(
        user("CN=ops,DC=example").kind,
        UserKind::Ldap(LdapAuthType::Group)
    );
    assert_eq!(user("CN=ops,DC=example").database(), Database::Admin);
    assert_eq!(user("CN=ann,DC=example").database(), Database::External);
}

#[test]
fn unknown_key_points_at_itself() {
    let text = format!("{P}[[projects.databaseUsers]]\nusername = \"a\"\nx509type = \"MANAGED\"\n");
    let (line, column, message) = err(&text);
    assert_eq!((line, column), (5, 1));
    assert!(message.contains("x509type"), "{message}");
}

#[test]
fn semantic_errors_have_positions() {
    let cases = [
        (
            "[[projects]]\nid = \"xyz\"\n".to_string(),
            2,
            6,
            "24 lowercase",
        ),
        (format!("{P}{P}"), 4, 6, "duplicate project"),
        (
            format!(
                "{P}[[projects.databaseUsers]]\nusername = \"a\"\n[[projects.databaseUsers]]\nusername = \"a\"\n"
            ),
            6,
            12,
            "duplicate username",
        ),
        (
            format!(
                "{P}[[projects.databaseUsers]]\nusername = \"a\"\nx509Type = \"MANAGED\"\ndatabaseName = \"admin\"\n"
            ),
            6,
            16,
            "$external",
        ),
        (
            format!("{P}[[projects.databaseUsers]]\nusername = \"a\"\nx509Type = \"SOMETIMES\"\n"),
            5,
            12,
            "unknown variant",
        ),
        (
            format!(
                "{P}[[projects.databaseUsers]]\nusername = \"a\"\nx509Type = \"MANAGED\"\nldapAuthType = \"USER\"\n"
            ),
            4,
            12,
            "sets x509Type and ldapAuthType",
        ),
        (
            format!("{P}[[projects.databaseUsers]]\nusername = \"ci\"\nawsIAMType = \"ROLE\"\n"),
            4,
            12,
            "ARN",
        ),
        (
            format!(
                "{P}[[projects.databaseUsers]]\nusername = \"idp/g\"\noidcAuthType = \"IDP_GROUP\"\ndatabaseName = \"$external\"\n"
            ),
            6,
            16,
            "must be \"admin\"",
        ),
    ];
    for (text, line, column, needle) in cases {
        let (l, c, m) = err(&text);
        assert_eq!((l, c), (line, column), "{text}: {m}");
        assert!(m.contains(needle), "{m} lacks {needle}");
    }
}

#[test]
fn more_than_100_users_is_an_error() {
    let mut text = P.to_string();
    for i in 0..=MAX_USERS_PER_PROJECT {
        text.push_str(&format!(
            "[[projects.databaseUsers]]\nusername = \"u{i}\"\n"
        ));
    }
    let (line, _, message) = err(&text);
    assert_eq!(
        line,
        3 + 2 * MAX_USERS_PER_PROJECT,
        "points at the table header"
    );
    assert!(message.contains("more than 100"), "{message}");
}

#[test]
fn api_keys_and_their_errors() {
    let text = format!(
        "{P}[[apiKeys]]\npublicKey = \"pub\"\nprivateKey = \"priv\"\n\
         roles = [{{ roleName = \"GROUP_OWNER\", groupId = \"5EFDA6AEA3F2ED2E7DD6CE05\" }}, {{ roleName = \"ORG_OWNER\" }}]\n"
    );
    let r = Registry::parse(&text, Path::new("r.toml")).unwrap();
    let key = r.api_key("pub").unwrap();
    assert_eq!(
        key.roles[0].group_id.as_deref(),
        Some("5efda6aea3f2ed2e7dd6ce05")
    );
    assert_eq!(key.roles[1].role_name, KeyRoleName::OrgOwner);
    assert_eq!(key.kind, CredentialKind::ApiKey);
    let bad = [
        (
            "roles = [{ roleName = \"GROUP_READ_ONLY\" }]",
            "needs a groupId",
        ),
        (
            "roles = [{ roleName = \"ORG_OWNER\", groupId = \"5efda6aea3f2ed2e7dd6ce05\" }]",
            "remove its groupId",
        ),
        (
            "roles = [{ roleName = \"GROUP_OWNER\", groupId = \"x\" }]",
            "not a 24-hex",
        ),
        (
            "roles = [{ roleName = \"GROUP_ADMIN\", groupId = \"x\" }]",
            "unknown variant",
        ),
    ];
    for (roles, needle) in bad {
        let text = format!("[[apiKeys]]\npublicKey = \"p\"\nprivateKey = \"q\"\n{roles}\n");
        let (line, _, message) = err(&text);
        assert_eq!(line, 4, "{message}");
        assert!(message.contains(needle), "{message}");
    }
    let dup = "[[apiKeys]]\npublicKey = \"p\"\nprivateKey = \"q\"\n[[apiKeys]]\npublicKey = \"p\"\nprivateKey = \"r\"\n";
    assert_eq!(err(dup).0, 5);
}

#[test]
fn line_column_counts_characters() {
    assert_eq!(line_column("ab\nçd", 5), (2, 2));
    assert_eq!(line_column("", 0), (1, 1));
}
