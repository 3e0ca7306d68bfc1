//! The shapes of the commands that manage the registry, with the Atlas
//! CLI's names, flags and aliases: `dbusers create|describe|update|delete`,
//! `projects`, `projects apiKeys`, `security customerCerts`.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use time::OffsetDateTime;

use super::args_shared::{OrNone, Output, ProjectArg, named, named_or_none, parse_time};
use crate::model::{
    AwsIamType, KeyRoleName, Label, LdapAuthType, OidcAuthType, Role, Scope, ScopeKind, X509Type,
};

#[derive(Debug, Args)]
pub(super) struct UserCreateArgs {
    /// Built-in roles on the admin database (atlasAdmin,
    /// readWriteAnyDatabase, readAnyDatabase, clusterMonitor, backup,
    /// dbAdminAnyDatabase, enableSharding).
    #[arg(value_name = "builtInRole")]
    pub(super) built_in_roles: Vec<String>,
    /// The user name (for X.509 users, the certificate's CN).
    #[arg(short = 'u', long)]
    pub(super) username: String,
    /// How the user authenticates with X.509.
    #[arg(long = "x509Type", value_parser = named_or_none::<X509Type>(), default_value = "NONE")]
    pub(super) x509_type: OrNone<X509Type>,
    /// AWS IAM authentication: the user name is an IAM user's or role's ARN.
    #[arg(long = "awsIAMType", value_parser = named_or_none::<AwsIamType>(),
          conflicts_with_all = ["x509_type", "ldap_type", "oidc_type"])]
    pub(super) aws_iam_type: Option<OrNone<AwsIamType>>,
    /// LDAP authentication: the user name is a DN (GROUP: an LDAP group,
    /// in admin).
    #[arg(long = "ldapType", value_parser = named_or_none::<LdapAuthType>(),
          conflicts_with_all = ["x509_type", "oidc_type"])]
    pub(super) ldap_type: Option<OrNone<LdapAuthType>>,
    /// OIDC federated authentication: the user name is IDP_ID/NAME
    /// (IDP_GROUP: a workforce group; USER: a workload user).
    #[arg(long = "oidcType", value_parser = named_or_none::<OidcAuthType>(),
          conflicts_with_all = ["x509_type", "password"])]
    pub(super) oidc_type: Option<OrNone<OidcAuthType>>,
    #[command(flatten)]
    pub(super) user: UserArgs,
}

/// What `dbusers create` and `dbusers update` both take.
#[derive(Debug, Args)]
pub(super) struct UserArgs {
    /// A role as name[@database[.collection]] (the database defaults to
    /// admin; repeat, or separate by commas); on update, the roles replace
    /// the old ones.
    #[arg(long = "role", value_delimiter = ',', value_parser = parse_role)]
    pub(super) roles: Vec<Role>,
    /// A cluster or data lake the user is limited to, NAME[:CLUSTER|DATA_LAKE]
    /// (repeat, or separate by commas); on update, the scopes replace the old ones.
    #[arg(long = "scope", value_delimiter = ',', value_parser = parse_scope)]
    pub(super) scopes: Vec<Scope>,
    /// A description (at most 100 characters).
    #[arg(long = "desc")]
    pub(super) description: Option<String>,
    /// When Atlas deletes this temporary user (RFC 3339).
    #[arg(long = "deleteAfter", value_parser = parse_time)]
    pub(super) delete_after: Option<OffsetDateTime>,
    /// The password of a password (SCRAM) user: checked as Atlas checks
    /// it (at least 8 characters, not for $external users), never stored
    /// (atlas-ca has no password database, so it does not ask for one).
    #[arg(short = 'p', long)]
    pub(super) password: Option<String>,
    #[command(flatten)]
    pub(super) project: ProjectArg,
    /// Output format (`json`: the Atlas user body).
    #[arg(short, long, value_enum)]
    pub(super) output: Option<Output>,
}

#[derive(Debug, Args)]
pub(super) struct UserRefArgs {
    /// The database user.
    pub(super) username: String,
    /// The user's authentication database.
    #[arg(long = "authDB", default_value = "admin")]
    pub(super) auth_db: String,
    #[command(flatten)]
    pub(super) project: ProjectArg,
    /// Output format (`json`: the Atlas user body).
    #[arg(short, long, value_enum)]
    pub(super) output: Option<Output>,
}

#[derive(Debug, Args)]
pub(super) struct UserUpdateArgs {
    /// The database user.
    pub(super) username: String,
    /// A new X.509 type.
    #[arg(long = "x509Type", value_parser = named_or_none::<X509Type>())]
    pub(super) x509_type: Option<OrNone<X509Type>>,
    #[command(flatten)]
    pub(super) user: UserArgs,
}

#[derive(Debug, Args)]
pub(super) struct UserDeleteArgs {
    /// The database user.
    pub(super) username: String,
    /// The user's authentication database.
    #[arg(long = "authDB", default_value = "admin")]
    pub(super) auth_db: String,
    /// Delete without asking (required when stdin is not a terminal).
    #[arg(long)]
    pub(super) force: bool,
    #[command(flatten)]
    pub(super) project: ProjectArg,
}

#[derive(Debug, Subcommand)]
pub(super) enum ProjectsCommand {
    /// Creates a project with a fresh random id.
    #[command(after_help = "Examples:\n  \
      atlas-ca projects create staging\n  \
      atlas-ca projects create staging --tag env=dev -o json")]
    Create {
        /// The project's name.
        name: String,
        /// A tag KEY=VALUE (repeat for more).
        #[arg(long = "tag", value_parser = parse_tag)]
        tags: Vec<Label>,
        /// Output format (`json`: the Atlas project body).
        #[arg(short, long, value_enum)]
        output: Option<Output>,
    },
    /// Lists the projects.
    #[command(visible_alias = "ls")]
    #[command(after_help = "Examples:\n  \
      atlas-ca projects list\n  \
      atlas-ca projects list -o json")]
    List {
        /// Output format (`json`: the Atlas list body).
        #[arg(short, long, value_enum)]
        output: Option<Output>,
    },
    /// Shows one project.
    #[command(visible_alias = "get")]
    #[command(after_help = "Examples:\n  \
      atlas-ca projects describe 5efda6aea3f2ed2e7dd6ce05")]
    Describe {
        /// The project id.
        id: String,
        /// Output format (`json`: the Atlas project body).
        #[arg(short, long, value_enum)]
        output: Option<Output>,
    },
    /// Names the project commands act on when the registry has several
    /// and none is given (as the Atlas CLI's profile keeps a project id).
    #[command(after_help = "Examples:\n  \
      atlas-ca projects use 5efda6aea3f2ed2e7dd6ce05\n  \
      atlas-ca projects use staging          by name\n  \
      atlas-ca projects use --none           no default")]
    Use {
        /// The project id or name.
        #[arg(required_unless_present = "none", conflicts_with = "none")]
        id: Option<String>,
        /// Forget the default.
        #[arg(long)]
        none: bool,
    },
    /// Deletes a project: it leaves the registry with its users; its CA
    /// files and ledger rows stay. Asks on a terminal unless --force; without
    /// a terminal, needs --force.
    #[command(visible_alias = "rm")]
    #[command(after_help = "Examples:\n  \
      atlas-ca projects delete 6a0000000000000000000000\n  \
      atlas-ca projects delete 6a0000000000000000000000 --force")]
    Delete {
        /// The project id.
        id: String,
        /// Delete without asking.
        #[arg(long)]
        force: bool,
    },
    /// Programmatic API keys (HTTP Digest credentials for `serve`).
    #[command(after_help = "Examples:\n  \
      atlas-ca projects apiKeys create --desc ci --role GROUP_OWNER\n  \
      atlas-ca projects apiKeys list")]
    #[command(subcommand, name = "apiKeys", visible_alias = "apikeys")]
    ApiKeys(ApiKeysCommand),
    /// Service accounts (OAuth 2.0 client credentials for `serve`).
    #[command(
        subcommand,
        name = "serviceAccounts",
        visible_alias = "serviceaccounts"
    )]
    #[command(after_help = "Examples:\n  \
      atlas-ca projects serviceAccounts create --name ci --role GROUP_OWNER\n  \
      atlas-ca projects serviceAccounts list")]
    ServiceAccounts(ServiceAccountsCommand),
}

#[derive(Debug, Subcommand)]
pub(super) enum ServiceAccountsCommand {
    /// Creates a service account; prints its client secret once.
    #[command(after_help = "Examples:\n  \
      atlas-ca projects serviceAccounts create --name ci --role GROUP_OWNER\n  \
      atlas-ca projects serviceAccounts create --name ci --role GROUP_READ_ONLY -o json")]
    #[command(
        override_usage = "atlas-ca projects serviceAccounts create [OPTIONS] \\\n         --name <NAME> --role <ROLES>"
    )]
    Create {
        /// The account's name.
        #[arg(long)]
        name: String,
        /// A role (repeat), as for API keys.
        #[arg(long = "role", required = true, value_delimiter = ',', value_parser = named::<KeyRoleName>())]
        roles: Vec<KeyRoleName>,
        #[command(flatten)]
        project: ProjectArg,
        /// Output format (`json`: the account, with its secret).
        #[arg(short, long, value_enum)]
        output: Option<Output>,
    },
    /// Lists the accounts, secrets masked.
    #[command(visible_alias = "ls")]
    #[command(after_help = "Examples:\n  \
      atlas-ca projects serviceAccounts list\n  \
      atlas-ca projects serviceAccounts list -o json")]
    List {
        /// Output format.
        #[arg(short, long, value_enum)]
        output: Option<Output>,
    },
    /// Deletes an account (its tokens stop working).
    #[command(visible_alias = "rm")]
    #[command(after_help = "Examples:\n  \
      atlas-ca projects serviceAccounts delete mdb_sa_id_6a0000000000000000000000")]
    Delete {
        /// The account's client id.
        client_id: String,
    },
}

#[derive(Debug, Subcommand)]
pub(super) enum ApiKeysCommand {
    /// Creates a key; prints its private key once.
    #[command(after_help = "Examples:\n  \
      atlas-ca projects apiKeys create --desc ci --role GROUP_OWNER\n  \
      atlas-ca projects apiKeys create --desc reports --role GROUP_READ_ONLY -o json")]
    Create {
        /// What the key is for.
        #[arg(long)]
        desc: String,
        /// A role (repeat): GROUP_OWNER, GROUP_DATABASE_ACCESS_ADMIN,
        /// GROUP_READ_ONLY (in the project), ORG_OWNER.
        #[arg(long = "role", required = true, value_delimiter = ',', value_parser = named::<KeyRoleName>())]
        roles: Vec<KeyRoleName>,
        #[command(flatten)]
        project: ProjectArg,
        /// Output format (`json`: the key, with its private key).
        #[arg(short, long, value_enum)]
        output: Option<Output>,
    },
    /// Lists the keys, private keys masked.
    #[command(visible_alias = "ls")]
    #[command(after_help = "Examples:\n  \
      atlas-ca projects apiKeys list\n  \
      atlas-ca projects apiKeys list -o json")]
    List {
        #[command(flatten)]
        project: ProjectArg,
        /// Output format (`json`: the project's paged list, as Atlas
        /// answers it).
        #[arg(short, long, value_enum)]
        output: Option<Output>,
    },
    /// Deletes a key.
    #[command(visible_alias = "rm")]
    #[command(after_help = "Examples:\n  \
      atlas-ca projects apiKeys delete abcdefgh")]
    Delete {
        /// The key's public key.
        public_key: String,
    },
}

#[derive(Debug, Subcommand)]
pub(super) enum SecurityCommand {
    /// Customer-managed X.509: the project's own CAs.
    #[command(after_help = "Examples:\n  \
      atlas-ca security customerCerts create --casFile my-ca.pem\n  \
      atlas-ca security customerCerts disable")]
    #[command(subcommand, name = "customerCerts", visible_alias = "customercerts")]
    CustomerCerts(CustomerCertsCommand),
}

#[derive(Debug, Subcommand)]
pub(super) enum CustomerCertsCommand {
    /// Turns customer X.509 on with the CA certificates in a PEM file.
    #[command(after_help = "Examples:\n  \
      atlas-ca security customerCerts create --casFile my-ca.pem")]
    Create {
        /// The PEM file of one or more CA certificates.
        #[arg(long = "casFile")]
        cas_file: PathBuf,
        #[command(flatten)]
        project: ProjectArg,
    },
    /// Shows the customer CAs (nothing when off).
    #[command(visible_alias = "get")]
    #[command(after_help = "Examples:\n  \
      atlas-ca security customerCerts describe\n  \
      atlas-ca security customerCerts describe -o json")]
    Describe {
        #[command(flatten)]
        project: ProjectArg,
        /// Output format (`json`: the userSecurity body).
        #[arg(short, long, value_enum)]
        output: Option<Output>,
    },
    /// Turns customer X.509 off.
    #[command(after_help = "Examples:\n  \
      atlas-ca security customerCerts disable")]
    Disable {
        #[command(flatten)]
        project: ProjectArg,
    },
}

/// `name@database[.collection]`, as the Atlas CLI's `--role`.
/// `--scope NAME[:TYPE]`, as the Atlas CLI writes it (TYPE: CLUSTER by default).
fn parse_scope(s: &str) -> Result<Scope, String> {
    let (name, kind) = s.split_once(':').unwrap_or((s, "CLUSTER"));
    let kind = match kind {
        "CLUSTER" => ScopeKind::Cluster,
        "DATA_LAKE" => ScopeKind::DataLake,
        other => return Err(format!("scope type {other:?}: CLUSTER or DATA_LAKE")),
    };
    if name.is_empty() {
        return Err(format!("{s:?} is not NAME[:CLUSTER|DATA_LAKE]"));
    }
    Ok(Scope {
        name: name.to_string(),
        kind,
    })
}

/// `--tag KEY=VALUE`.
fn parse_tag(s: &str) -> Result<Label, String> {
    match s.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok(Label {
            key: key.to_string(),
            value: value.to_string(),
        }),
        _ => Err(format!("{s:?} is not KEY=VALUE")),
    }
}

fn parse_role(s: &str) -> Result<Role, String> {
    // The Atlas CLI's own rule: no `@db` means `@admin`.
    let (name, rest) = s.split_once('@').unwrap_or((s, "admin"));
    if name.is_empty() || rest.is_empty() {
        return Err(format!("{s:?} is not name[@database[.collection]]"));
    }
    let (database, collection) = match rest.split_once('.') {
        Some((d, c)) => (d, Some(c.to_string())),
        None => (rest, None),
    };
    Ok(Role {
        collection_name: collection,
        database_name: database.to_string(),
        role_name: name.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_as_the_atlas_cli_writes_them() {
        let r = parse_role("readWrite@app.orders").unwrap();
        assert_eq!(
            (
                r.role_name.as_str(),
                r.database_name.as_str(),
                r.collection_name.as_deref()
            ),
            ("readWrite", "app", Some("orders"))
        );
        assert_eq!(
            parse_role("atlasAdmin@admin").unwrap().collection_name,
            None
        );
        let bare = parse_role("readWrite").unwrap();
        assert_eq!(
            (bare.role_name.as_str(), bare.database_name.as_str()),
            ("readWrite", "admin")
        );
        assert!(parse_role("@app").is_err());
        assert!(parse_role("read@").is_err());
    }
}
