//! How a database user authenticates besides X.509: AWS IAM, LDAP and OIDC,
//! as Atlas's `awsIAMType`, `ldapAuthType` and `oidcAuthType` spell it, and
//! where each kind of user lives (`admin` or `$external`).

use std::fmt;

use serde::{Deserialize, Serialize};

use super::registry::{UnknownName, X509Type};

/// A type whose values are Atlas's names (for the command line's lists).
pub trait AtlasName: Copy + Send + Sync + 'static {
    /// Every value.
    fn all() -> &'static [Self];
    /// The value's name, as Atlas spells it.
    fn atlas_name(self) -> &'static str;
}

/// An enum of Atlas names: the type, `ALL`, `name()`, `Display` and
/// `FromStr`, with serde reading and writing the same names.
macro_rules! atlas_names {
    ($(#[$meta:meta])* $ty:ident, $what:literal, $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
        #[non_exhaustive]
        pub enum $ty {
            /// Not this way (`NONE`).
            #[default]
            #[serde(rename = "NONE")]
            None,
            $($(#[$vmeta])* #[serde(rename = $text)] $variant,)+
        }

        impl $ty {
            /// Every value, `NONE` first.
            pub const ALL: &'static [$ty] = &[$ty::None, $($ty::$variant),+];

            /// The name, as Atlas spells it.
            pub fn name(self) -> &'static str {
                match self {
                    $ty::None => "NONE",
                    $($ty::$variant => $text,)+
                }
            }
        }

        impl AtlasName for $ty {
            fn all() -> &'static [$ty] {
                $ty::ALL
            }

            fn atlas_name(self) -> &'static str {
                self.name()
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }

        impl std::str::FromStr for $ty {
            type Err = UnknownName;

            fn from_str(s: &str) -> Result<$ty, UnknownName> {
                $ty::ALL
                    .iter()
                    .copied()
                    .find(|t| t.name() == s)
                    .ok_or_else(|| UnknownName { what: $what, name: s.to_string() })
            }
        }
    };
}

atlas_names! {
    /// AWS IAM authentication (`awsIAMType`): the user name is an ARN.
    AwsIamType, "awsIAMType",
    /// An IAM user's credentials.
    User = "USER",
    /// An IAM role's credentials.
    Role = "ROLE",
}

atlas_names! {
    /// LDAP (`ldapAuthType`): the user name is an RFC 2253 DN.
    LdapAuthType, "ldapAuthType",
    /// An LDAP group, authorized through its members (lives in `admin`).
    Group = "GROUP",
    /// One LDAP user (lives in `$external`).
    User = "USER",
}

atlas_names! {
    /// OIDC federated authentication (`oidcAuthType`): the user name is
    /// the identity provider's id, `/`, and the group or user name.
    OidcAuthType, "oidcAuthType",
    /// A workforce identity provider's group (lives in `admin`).
    IdpGroup = "IDP_GROUP",
    /// A workload identity provider's user.
    User = "USER",
}

/// A user's authentication types other than X.509; at most one of these
/// and `x509Type` is not `NONE`, and all `NONE` is a password (SCRAM) user.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AuthTypes {
    /// `awsIAMType`.
    pub aws_iam: AwsIamType,
    /// `ldapAuthType`.
    pub ldap: LdapAuthType,
    /// `oidcAuthType`.
    pub oidc: OidcAuthType,
}

/// `admin` first: where it is the default.
const ADMIN_FIRST: &[&str] = &["admin", "$external"];
/// `$external` only.
const EXTERNAL: &[&str] = &["$external"];
/// `admin` only.
const ADMIN: &[&str] = &["admin"];

impl AuthTypes {
    /// The Atlas fields, `x509Type` among them, that are not `NONE`.
    pub fn set_fields(&self, x509: X509Type) -> Vec<&'static str> {
        [
            (x509 != X509Type::None, "x509Type"),
            (self.aws_iam != AwsIamType::None, "awsIAMType"),
            (self.ldap != LdapAuthType::None, "ldapAuthType"),
            (self.oidc != OidcAuthType::None, "oidcAuthType"),
        ]
        .into_iter()
        .filter_map(|(set, name)| set.then_some(name))
        .collect()
    }

    /// Whether this is a password (SCRAM) user: every type `NONE`.
    pub fn is_scram(&self, x509: X509Type) -> bool {
        self.set_fields(x509).is_empty()
    }

    /// Where a user authenticating so may live, its default first: X.509,
    /// AWS IAM and LDAP users in `$external` (the spec), LDAP groups and
    /// OIDC workforce groups in `admin` (the spec, the Atlas CLI), OIDC
    /// workload users in either, `admin` first as the Atlas CLI sends it,
    /// and password users in either, `admin` first. With more than one type
    /// set, the first one set decides.
    pub fn databases(&self, x509: X509Type) -> &'static [&'static str] {
        if x509 != X509Type::None || self.aws_iam != AwsIamType::None {
            return EXTERNAL;
        }
        match (self.ldap, self.oidc) {
            (LdapAuthType::Group, _) | (_, OidcAuthType::IdpGroup) => ADMIN,
            (LdapAuthType::None, _) => ADMIN_FIRST,
            _ => EXTERNAL,
        }
    }

    /// Whether `name` has the form this kind of user names take: an ARN
    /// for AWS IAM (`arn:...`), `IDP/NAME` for OIDC (ours: Atlas checks
    /// the identity provider, which atlas-ca does not know); any name else.
    pub fn accepts_name(&self, name: &str) -> bool {
        if self.aws_iam != AwsIamType::None {
            return name
                .strip_prefix("arn:")
                .is_some_and(|rest| !rest.is_empty());
        }
        if self.oidc != OidcAuthType::None {
            return name
                .split_once('/')
                .is_some_and(|(idp, rest)| !idp.is_empty() && !rest.is_empty());
        }
        true
    }

    /// Checks that a user of `x509` and these types, named `name`, may live
    /// in `database` (`None`: the default, which always fits), in this
    /// order: one type at most, the name's form, the database. The one
    /// rule the registry and the API both apply.
    pub fn check(
        &self,
        x509: X509Type,
        name: &str,
        database: Option<&str>,
    ) -> Result<(), AuthProblem> {
        if let [first, second, ..] = self.set_fields(x509)[..] {
            return Err(AuthProblem::TwoKinds(first, second));
        }
        if !self.accepts_name(name) {
            return Err(AuthProblem::NameForm);
        }
        let databases = self.databases(x509);
        match database {
            Some(db) if !databases.contains(&db) => Err(AuthProblem::Database(databases)),
            _ => Ok(()),
        }
    }

    /// The form [`AuthTypes::accepts_name`] asks for, for messages.
    pub fn name_form(&self) -> &'static str {
        if self.aws_iam != AwsIamType::None {
            "an AWS IAM user or role is named by its ARN (arn:aws:iam::ACCOUNT:user/NAME)"
        } else if self.oidc != OidcAuthType::None {
            "an OIDC user or group is named IDP_ID/NAME (the identity provider's id, a slash, the name)"
        } else {
            "any name"
        }
    }
}

/// Why a user's kind, name and database do not go together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthProblem {
    /// Two authentication types are set (the first two, by Atlas name).
    TwoKinds(&'static str, &'static str),
    /// The name is not of the kind's form ([`AuthTypes::name_form`]).
    NameForm,
    /// The database is not one the kind lives in: these are.
    Database(&'static [&'static str]),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_serde() {
        for t in AwsIamType::ALL {
            assert_eq!(t.name().parse::<AwsIamType>(), Ok(*t));
            assert_eq!(serde_json::to_string(t).unwrap(), format!("\"{t}\""));
        }
        for t in OidcAuthType::ALL {
            assert_eq!(t.name().parse::<OidcAuthType>(), Ok(*t));
            assert_eq!(serde_json::to_string(t).unwrap(), format!("\"{t}\""));
        }
        assert_eq!(
            serde_json::from_str::<LdapAuthType>("\"GROUP\"").unwrap(),
            LdapAuthType::Group
        );
        assert!("group".parse::<LdapAuthType>().is_err());
    }

    #[test]
    fn databases_follow_the_kind() {
        let none = AuthTypes::default();
        assert_eq!(none.databases(X509Type::None), ["admin", "$external"]);
        assert_eq!(none.databases(X509Type::Managed), ["$external"]);
        let of = |aws, ldap, oidc| AuthTypes {
            aws_iam: aws,
            ldap,
            oidc,
        };
        use {AwsIamType as A, LdapAuthType as L, OidcAuthType as O};
        assert_eq!(
            of(A::Role, L::None, O::None).databases(X509Type::None),
            ["$external"]
        );
        assert_eq!(
            of(A::None, L::User, O::None).databases(X509Type::None),
            ["$external"]
        );
        assert_eq!(
            of(A::None, L::Group, O::None).databases(X509Type::None),
            ["admin"]
        );
        assert_eq!(
            of(A::None, L::None, O::IdpGroup).databases(X509Type::None),
            ["admin"]
        );
        assert_eq!(
            of(A::None, L::None, O::User).databases(X509Type::None),
            ["admin", "$external"]
        );
        let two = of(A::User, L::None, O::User);
        assert_eq!(
            two.set_fields(X509Type::Managed),
            ["x509Type", "awsIAMType", "oidcAuthType"]
        );
        assert!(none.is_scram(X509Type::None));
        assert!(!two.is_scram(X509Type::None));
    }

    #[test]
    fn one_check_in_the_order_both_callers_report() {
        let aws = AuthTypes {
            aws_iam: AwsIamType::User,
            ..AuthTypes::default()
        };
        let check = |t: AuthTypes, x: X509Type, name: &str, db: Option<&str>| t.check(x, name, db);
        assert_eq!(
            check(aws, X509Type::Managed, "ci", Some("admin")),
            Err(AuthProblem::TwoKinds("x509Type", "awsIAMType"))
        );
        assert_eq!(
            check(aws, X509Type::None, "ci", Some("admin")),
            Err(AuthProblem::NameForm)
        );
        assert_eq!(
            check(aws, X509Type::None, "arn:aws:iam::1:user/ci", Some("admin")),
            Err(AuthProblem::Database(&["$external"]))
        );
        assert_eq!(
            check(aws, X509Type::None, "arn:aws:iam::1:user/ci", None),
            Ok(())
        );
    }

    #[test]
    fn names_have_the_kind_s_form() {
        let aws = AuthTypes {
            aws_iam: AwsIamType::User,
            ..AuthTypes::default()
        };
        assert!(aws.accepts_name("arn:aws:iam::123456789012:user/ci"));
        assert!(!aws.accepts_name("ci"));
        assert!(!aws.accepts_name("arn:"));
        let oidc = AuthTypes {
            oidc: OidcAuthType::IdpGroup,
            ..AuthTypes::default()
        };
        assert!(oidc.accepts_name("d0123456789abcdef012345d/user-332"));
        assert!(!oidc.accepts_name("user-332"));
        assert!(!oidc.accepts_name("/user"));
        assert!(AuthTypes::default().accepts_name("anything"));
    }
}
