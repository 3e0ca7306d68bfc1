//! How a database user authenticates, as one sum type, and where each kind
//! lives: Atlas's four optional fields (`x509Type`, `awsIAMType`,
//! `ldapAuthType`, `oidcAuthType`) and `databaseName`, read into a value
//! that cannot hold two kinds or a kind in the wrong database.

use super::names::atlas_enum;

atlas_enum! {
    /// Where a user is defined: Atlas's `databaseName`.
    pub enum Database("databaseName", Exact) {
        /// `admin`: password users, LDAP groups, OIDC workforce groups.
        Admin = "admin", "users MongoDB authenticates itself";
        /// `$external`: users an outside authority vouches for.
        External = "$external", "users authenticated by X.509, AWS IAM, LDAP or OIDC";
    }
}

atlas_enum! {
    /// How a user authenticates with X.509 (`x509Type`, without `NONE`).
    #[non_exhaustive]
    pub enum X509Type("x509Type", Exact) {
        /// Atlas-managed X.509: Atlas (here: atlas-ca) issues the certificates.
        Managed = "MANAGED", "Atlas-managed X.509: atlas-ca issues the certificates";
        /// Self-managed X.509: the customer's own CA issues the certificates.
        Customer = "CUSTOMER", "Customer-managed X.509: the project's customer CAs issue them";
    }
}

atlas_enum! {
    /// AWS IAM authentication (`awsIAMType`): the user name is an ARN.
    #[non_exhaustive]
    pub enum AwsIamType("awsIAMType", Exact) {
        /// An IAM user's credentials.
        User = "USER", "an IAM user's credentials";
        /// An IAM role's credentials.
        Role = "ROLE", "an IAM role's credentials";
    }
}

atlas_enum! {
    /// LDAP (`ldapAuthType`): the user name is an RFC 2253 DN.
    #[non_exhaustive]
    pub enum LdapAuthType("ldapAuthType", Exact) {
        /// An LDAP group, authorized through its members (lives in `admin`).
        Group = "GROUP", "an LDAP group, in admin";
        /// One LDAP user (lives in `$external`).
        User = "USER", "one LDAP user, in $external";
    }
}

atlas_enum! {
    /// OIDC federated authentication (`oidcAuthType`): the user name is
    /// the identity provider's id, `/`, and the group or user name.
    #[non_exhaustive]
    pub enum OidcAuthType("oidcAuthType", Exact) {
        /// A workforce identity provider's group (lives in `admin`).
        IdpGroup = "IDP_GROUP", "a workforce identity provider's group, in admin";
        /// A workload identity provider's user.
        User = "USER", "a workload identity provider's user";
    }
}

/// How a database user authenticates: exactly one way, with the database
/// where the kind has a choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UserKind {
    /// A password (SCRAM) user; `admin` unless written otherwise.
    Password(Database),
    /// An X.509 user, in `$external`.
    X509(X509Type),
    /// An AWS IAM user or role, in `$external`.
    AwsIam(AwsIamType),
    /// An LDAP user (in `$external`) or group (in `admin`).
    Ldap(LdapAuthType),
    /// An OIDC workforce group, in `admin`.
    OidcGroup,
    /// An OIDC workload user, in either database (`admin` first, as the
    /// Atlas CLI sends it).
    OidcUser(Database),
}

/// Atlas's four authentication fields as a body or file writes them
/// (`None`: `NONE` or absent).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AuthFields {
    /// `x509Type`.
    pub x509: Option<X509Type>,
    /// `awsIAMType`.
    pub aws_iam: Option<AwsIamType>,
    /// `ldapAuthType`.
    pub ldap: Option<LdapAuthType>,
    /// `oidcAuthType`.
    pub oidc: Option<OidcAuthType>,
}

/// Why a user's fields, name and database do not go together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KindProblem {
    /// Two authentication types are set (the first two, by Atlas name).
    TwoKinds(&'static str, &'static str),
    /// The database is not one the kind lives in: these are.
    Database(&'static [Database]),
}

/// `admin` first: where it is the default.
const ADMIN_FIRST: &[Database] = &[Database::Admin, Database::External];
/// `$external` only.
const EXTERNAL: &[Database] = &[Database::External];
/// `admin` only.
const ADMIN: &[Database] = &[Database::Admin];

impl AuthFields {
    /// The Atlas fields that are set, in Atlas's order.
    pub fn set_fields(&self) -> Vec<&'static str> {
        [
            (self.x509.is_some(), "x509Type"),
            (self.aws_iam.is_some(), "awsIAMType"),
            (self.ldap.is_some(), "ldapAuthType"),
            (self.oidc.is_some(), "oidcAuthType"),
        ]
        .into_iter()
        .filter_map(|(set, name)| set.then_some(name))
        .collect()
    }

    /// Where a user with these fields may live, its default first: X.509,
    /// AWS IAM and LDAP users in `$external` (the spec), LDAP groups and
    /// OIDC workforce groups in `admin` (the spec, the Atlas CLI), OIDC
    /// workload users and password users in either, `admin` first. With
    /// more than one field set, the first one decides.
    pub fn databases(&self) -> &'static [Database] {
        if self.x509.is_some() || self.aws_iam.is_some() {
            return EXTERNAL;
        }
        match (self.ldap, self.oidc) {
            (Some(LdapAuthType::Group), _) | (None, Some(OidcAuthType::IdpGroup)) => ADMIN,
            (Some(LdapAuthType::User), _) => EXTERNAL,
            (None, _) => ADMIN_FIRST,
        }
    }

    /// The kind these fields name, living in `database` (`None`: the
    /// kind's default): one field at most, then the database.
    pub fn kind(&self, database: Option<Database>) -> Result<UserKind, KindProblem> {
        if let [first, second, ..] = self.set_fields()[..] {
            return Err(KindProblem::TwoKinds(first, second));
        }
        let allowed = self.databases();
        let db = match database {
            Some(db) if !allowed.contains(&db) => return Err(KindProblem::Database(allowed)),
            Some(db) => db,
            None => allowed[0],
        };
        Ok(match *self {
            AuthFields { x509: Some(t), .. } => UserKind::X509(t),
            AuthFields {
                aws_iam: Some(t), ..
            } => UserKind::AwsIam(t),
            AuthFields { ldap: Some(t), .. } => UserKind::Ldap(t),
            AuthFields {
                oidc: Some(OidcAuthType::IdpGroup),
                ..
            } => UserKind::OidcGroup,
            AuthFields { oidc: Some(_), .. } => UserKind::OidcUser(db),
            AuthFields { .. } => UserKind::Password(db),
        })
    }
}

impl UserKind {
    /// The database this user lives in.
    pub fn database(self) -> Database {
        match self {
            UserKind::Password(db) | UserKind::OidcUser(db) => db,
            UserKind::X509(_) | UserKind::AwsIam(_) | UserKind::Ldap(LdapAuthType::User) => {
                Database::External
            }
            UserKind::Ldap(LdapAuthType::Group) | UserKind::OidcGroup => Database::Admin,
        }
    }

    /// The kind as Atlas's four fields.
    pub fn fields(self) -> AuthFields {
        let mut f = AuthFields::default();
        match self {
            UserKind::Password(_) => {}
            UserKind::X509(t) => f.x509 = Some(t),
            UserKind::AwsIam(t) => f.aws_iam = Some(t),
            UserKind::Ldap(t) => f.ldap = Some(t),
            UserKind::OidcGroup => f.oidc = Some(OidcAuthType::IdpGroup),
            UserKind::OidcUser(_) => f.oidc = Some(OidcAuthType::User),
        }
        f
    }

    /// The X.509 type, when the user authenticates with X.509.
    pub fn x509(self) -> Option<X509Type> {
        self.fields().x509
    }

    /// Whether this is a password (SCRAM) user.
    pub fn is_password(self) -> bool {
        matches!(self, UserKind::Password(_))
    }

    /// Whether `name` has the form this kind's names take: an ARN for AWS
    /// IAM (`arn:...`), `IDP/NAME` for OIDC (ours: Atlas checks the
    /// identity provider, which atlas-ca does not know); any name else.
    pub fn accepts_name(self, name: &str) -> bool {
        match self {
            UserKind::AwsIam(_) => name
                .strip_prefix("arn:")
                .is_some_and(|rest| !rest.is_empty()),
            UserKind::OidcGroup | UserKind::OidcUser(_) => name
                .split_once('/')
                .is_some_and(|(idp, rest)| !idp.is_empty() && !rest.is_empty()),
            _ => true,
        }
    }

    /// The form [`UserKind::accepts_name`] asks for, for messages.
    pub fn name_form(self) -> &'static str {
        match self {
            UserKind::AwsIam(_) => {
                "an AWS IAM user or role is named by its ARN (arn:aws:iam::ACCOUNT:user/NAME)"
            }
            UserKind::OidcGroup | UserKind::OidcUser(_) => {
                "an OIDC user or group is named IDP_ID/NAME (the identity provider's id, a slash, the name)"
            }
            _ => "any name",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(
        x509: Option<X509Type>,
        aws_iam: Option<AwsIamType>,
        ldap: Option<LdapAuthType>,
        oidc: Option<OidcAuthType>,
    ) -> AuthFields {
        AuthFields {
            x509,
            aws_iam,
            ldap,
            oidc,
        }
    }

    #[test]
    fn every_kind_goes_to_its_fields_and_back() {
        use Database::{Admin, External};
        let kinds = [
            UserKind::Password(Admin),
            UserKind::Password(External),
            UserKind::X509(X509Type::Managed),
            UserKind::X509(X509Type::Customer),
            UserKind::AwsIam(AwsIamType::User),
            UserKind::AwsIam(AwsIamType::Role),
            UserKind::Ldap(LdapAuthType::User),
            UserKind::Ldap(LdapAuthType::Group),
            UserKind::OidcGroup,
            UserKind::OidcUser(Admin),
            UserKind::OidcUser(External),
        ];
        for k in kinds {
            assert_eq!(k.fields().kind(Some(k.database())), Ok(k), "{k:?}");
            assert!(k.fields().databases().contains(&k.database()), "{k:?}");
        }
    }

    #[test]
    fn databases_follow_the_kind() {
        use Database::{Admin, External};
        let none = AuthFields::default();
        assert_eq!(none.databases(), [Admin, External]);
        assert_eq!(none.kind(None), Ok(UserKind::Password(Admin)));
        let x509 = fields(Some(X509Type::Managed), None, None, None);
        assert_eq!(x509.databases(), [External]);
        assert_eq!(
            x509.kind(Some(Admin)),
            Err(KindProblem::Database(&[External]))
        );
        let group = fields(None, None, Some(LdapAuthType::Group), None);
        assert_eq!(group.kind(None), Ok(UserKind::Ldap(LdapAuthType::Group)));
        assert_eq!(group.databases(), [Admin]);
        let idp = fields(None, None, None, Some(OidcAuthType::IdpGroup));
        assert_eq!(idp.databases(), [Admin]);
        let workload = fields(None, None, None, Some(OidcAuthType::User));
        assert_eq!(workload.databases(), [Admin, External]);
        let three = fields(
            Some(X509Type::Managed),
            Some(AwsIamType::User),
            None,
            Some(OidcAuthType::User),
        );
        assert_eq!(
            three.set_fields(),
            ["x509Type", "awsIAMType", "oidcAuthType"]
        );
        assert_eq!(
            three.kind(None),
            Err(KindProblem::TwoKinds("x509Type", "awsIAMType"))
        );
    }

    #[test]
    fn names_have_the_kind_s_form() {
        let aws = UserKind::AwsIam(AwsIamType::User);
        assert!(aws.accepts_name("arn:aws:iam::123456789012:user/ci"));
        assert!(!aws.accepts_name("ci"));
        assert!(!aws.accepts_name("arn:"));
        assert!(UserKind::OidcGroup.accepts_name("d0123456789abcdef012345d/user-332"));
        assert!(!UserKind::OidcGroup.accepts_name("user-332"));
        assert!(!UserKind::OidcGroup.accepts_name("/user"));
        assert!(UserKind::Password(Database::Admin).accepts_name("anything"));
    }

    #[test]
    fn names_are_atlas_s_exactly() {
        assert_eq!("$external".parse::<Database>(), Ok(Database::External));
        assert!("ADMIN".parse::<Database>().is_err());
        assert!("managed".parse::<X509Type>().is_err());
        assert_eq!(
            serde_json::from_str::<LdapAuthType>("\"GROUP\"").unwrap(),
            LdapAuthType::Group
        );
    }
}
