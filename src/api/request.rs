//! Parsing what a client sends: the create body and the list query's
//! paging parameters, with Atlas's errors for anything malformed.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::atlas_error::{ApiError, ErrorCode};
use super::certs::DEFAULT_MONTHS;
use super::json::{MAX_ITEMS_PER_PAGE, Paging};
use super::manage::{Password, UserSpec};
use crate::model::names::parse_or_none;
use crate::model::{KeyRoleName, Label};

/// Read-only fields of Atlas's certificate entity, which a create body may
/// carry (SDKs echo them) and which are ignored.
const READ_ONLY_FIELDS: [&str; 6] = [
    "_id",
    "createdAt",
    "groupId",
    "links",
    "notAfter",
    "subject",
];

/// Parses a create body, `{"monthsUntilExpiration": N}`, into the months;
/// an empty body means the default. Errors are Atlas's for bad JSON.
pub fn parse_create_body(body: &[u8]) -> Result<i64, ApiError> {
    let mut months = DEFAULT_MONTHS;
    for (key, v) in object(body)? {
        match key.as_str() {
            "monthsUntilExpiration" => {
                months = v.as_i64().ok_or_else(|| {
                    ApiError::new(ErrorCode::InvalidJsonAttribute, &["monthsUntilExpiration"])
                })?;
            }
            k if READ_ONLY_FIELDS.contains(&k) => {}
            k => return Err(ApiError::new(ErrorCode::InvalidAttribute, &[k])),
        }
    }
    Ok(months)
}

/// Parses Atlas's list query parameters (`includeCount`, `itemsPerPage`
/// 1..=500, `pageNum` >= 1) from `(name, value)` pairs; others are ignored.
/// Booleans follow Java's `Boolean.parseBoolean`: only `true` (any case) is true.
pub fn parse_paging<'a>(
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<Paging, ApiError> {
    let mut paging = Paging::default();
    for (name, value) in pairs {
        let number = |lo: u32, hi: u32| {
            value
                .parse::<u32>()
                .ok()
                .filter(|n| (lo..=hi).contains(n))
                .ok_or_else(|| ApiError::new(ErrorCode::InvalidQueryParameter, &[name]))
        };
        match name {
            "includeCount" => paging.include_count = value.eq_ignore_ascii_case("true"),
            "itemsPerPage" => paging.items_per_page = number(1, MAX_ITEMS_PER_PAGE)?,
            "pageNum" => paging.page_num = number(1, u32::MAX)?,
            _ => {}
        }
    }
    Ok(paging)
}

/// The JSON object of a request body; an empty body is `{}`. A `null`
/// member means the member is absent, as on Atlas (`go.mongodb.org/atlas`
/// sends `"scopes":null`, the Atlas CLI `"roles":null` to keep the roles).
fn object(body: &[u8]) -> Result<serde_json::Map<String, serde_json::Value>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(serde_json::Map::new());
    }
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|_| ApiError::new(ErrorCode::MalformedJson, &[]))?;
    match value {
        serde_json::Value::Object(mut map) => {
            map.retain(|_, v| !v.is_null());
            Ok(map)
        }
        _ => Err(ApiError::new(ErrorCode::InvalidJson, &[])),
    }
}

/// An attribute of type `T`, or Atlas's error for another shape.
fn typed<T: serde::de::DeserializeOwned>(key: &str, v: serde_json::Value) -> Result<T, ApiError> {
    serde_json::from_value(v).map_err(|_| ApiError::new(ErrorCode::InvalidJsonAttribute, &[key]))
}

/// A name of `T`'s or `NONE`, or Atlas's error for anything else.
fn or_none<T: crate::model::AtlasName>(
    key: &str,
    v: &serde_json::Value,
) -> Result<Option<T>, ApiError> {
    parse_or_none(&string(key, v)?)
        .map_err(|_| ApiError::new(ErrorCode::InvalidJsonAttribute, &[key]))
}

/// A string attribute, or Atlas's error for another type.
fn string(key: &str, v: &serde_json::Value) -> Result<String, ApiError> {
    v.as_str()
        .map(String::from)
        .ok_or_else(|| ApiError::new(ErrorCode::InvalidJsonAttribute, &[key]))
}

/// Parses a database user body (`PATCH .../databaseUsers/{db}/{user}`):
/// `username`, `databaseName`, `groupId`, the four authentication types,
/// `password`, `roles`, `scopes`, `labels`, `description`,
/// `deleteAfterDate`; `links` (read-only) is accepted and ignored. A
/// password is noted, never kept; `null` means absent.
pub fn parse_user_body(body: &[u8]) -> Result<UserSpec, ApiError> {
    let mut spec = UserSpec::default();
    for (key, v) in object(body)? {
        match key.as_str() {
            "username" => spec.username = Some(string(&key, &v)?),
            "databaseName" => spec.database_name = Some(string(&key, &v)?),
            "groupId" => spec.group_id = Some(string(&key, &v)?),
            "x509Type" => spec.x509_type = Some(or_none(&key, &v)?),
            "awsIAMType" => spec.aws_iam = Some(or_none(&key, &v)?),
            "ldapAuthType" => spec.ldap = Some(or_none(&key, &v)?),
            "oidcAuthType" => spec.oidc = Some(or_none(&key, &v)?),
            "roles" => spec.roles = Some(typed(&key, v)?),
            "password" => spec.password = Some(Password::given(&string(&key, &v)?)),
            "description" => spec.description = Some(string(&key, &v)?),
            "deleteAfterDate" => {
                let text = string(&key, &v)?;
                let at = OffsetDateTime::parse(&text, &Rfc3339)
                    .map_err(|_| ApiError::new(ErrorCode::InvalidAttribute, &[&key]))?;
                spec.delete_after_date = Some(at);
            }
            "labels" => spec.labels = Some(typed(&key, v)?),
            "scopes" => spec.scopes = Some(typed(&key, v)?),
            "links" => {}
            k => return Err(ApiError::new(ErrorCode::InvalidAttribute, &[k])),
        }
    }
    Ok(spec)
}

/// Parses a new database user (`POST .../databaseUsers`): as
/// [`parse_user_body`], with the spec's required `databaseName`, `roles`
/// and `username`; `groupId`, which the spec requires too, Atlas takes
/// from the path when it is absent (Ansible's modules never send it).
pub fn parse_new_user_body(body: &[u8]) -> Result<UserSpec, ApiError> {
    let spec = parse_user_body(body)?;
    let required = [
        ("databaseName", spec.database_name.is_some()),
        ("roles", spec.roles.is_some()),
        ("username", spec.username.is_some()),
    ];
    match required.iter().find(|(_, given)| !given) {
        Some((name, _)) => Err(ApiError::new(ErrorCode::MissingAttribute, &[name])),
        None => Ok(spec),
    }
}

/// Parses `POST /groups/{id}/apiKeys`: `desc` and `roles` (project role
/// names) are required; `ORG_OWNER` is an organization role, not one a
/// project grants.
pub fn parse_key_body(body: &[u8]) -> Result<(String, Vec<KeyRoleName>), ApiError> {
    let invalid = |k: &str| ApiError::new(ErrorCode::InvalidAttribute, &[k]);
    let map = object(body)?;
    let (mut desc, mut roles) = (None, None);
    for (key, v) in map {
        match key.as_str() {
            "desc" => desc = Some(string(&key, &v)?),
            "roles" => roles = Some(role_names(&key, v)?),
            k => return Err(invalid(k)),
        }
    }
    let desc = desc.ok_or_else(|| ApiError::new(ErrorCode::MissingAttribute, &["desc"]))?;
    match roles {
        Some(r) if !r.is_empty() => Ok((desc, r)),
        _ => Err(ApiError::new(ErrorCode::MissingAttribute, &["roles"])),
    }
}

/// Parses a `PATCH /groups/{id}/apiKeys/{apiUserId}` body (the spec's
/// `UpdateAtlasProjectApiKey`): a new `desc` and the key's `roles` in the
/// project (project roles only), each optional, one at least.
pub fn parse_key_roles_body(
    body: &[u8],
) -> Result<(Option<String>, Option<Vec<KeyRoleName>>), ApiError> {
    let (mut desc, mut roles) = (None, None);
    for (key, v) in object(body)? {
        match key.as_str() {
            "desc" => desc = Some(string(&key, &v)?),
            "roles" => roles = Some(role_names(&key, v)?),
            k => return Err(ApiError::new(ErrorCode::InvalidAttribute, &[k])),
        }
    }
    if desc.is_none() && roles.as_ref().is_none_or(Vec::is_empty) {
        return Err(ApiError::new(ErrorCode::MissingAttribute, &["roles"]));
    }
    Ok((desc, roles.filter(|r| !r.is_empty())))
}

/// Parses a `POST /groups/{id}/apiKeys/{apiUserId}` body (addProjectApiKey):
/// an array of `{"roles": [...], "userId": ...}`, the roles the key gets
/// in the project (all entries' together) and the `userId`s named.
pub fn parse_add_key_body(body: &[u8]) -> Result<(Vec<KeyRoleName>, Vec<String>), ApiError> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|_| ApiError::new(ErrorCode::MalformedJson, &[]))?;
    let serde_json::Value::Array(entries) = value else {
        return Err(ApiError::new(ErrorCode::InvalidJson, &[]));
    };
    let (mut roles, mut ids) = (Vec::new(), Vec::new());
    for entry in entries {
        let serde_json::Value::Object(members) = entry else {
            return Err(ApiError::new(ErrorCode::InvalidJson, &[]));
        };
        for (key, v) in members {
            match key.as_str() {
                "roles" => roles.extend(role_names(&key, v)?),
                "userId" => ids.push(string(&key, &v)?),
                k => return Err(ApiError::new(ErrorCode::InvalidAttribute, &[k])),
            }
        }
    }
    if roles.is_empty() {
        return Err(ApiError::new(ErrorCode::MissingAttribute, &["roles"]));
    }
    Ok((roles, ids))
}

/// A list of project role names; `ORG_OWNER` is no project's.
fn role_names(key: &str, v: serde_json::Value) -> Result<Vec<KeyRoleName>, ApiError> {
    let names: Vec<String> = typed(key, v)?;
    names
        .iter()
        .map(|n| {
            n.parse::<KeyRoleName>()
                .ok()
                .filter(|r| *r != KeyRoleName::OrgOwner)
        })
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| ApiError::new(ErrorCode::InvalidAttribute, &["roles"]))
}

/// Parses a project body (`POST /groups`): `name` is required, `tags`
/// optional; `orgId` and the entity's read-only fields are accepted and
/// ignored.
pub fn parse_project_body(body: &[u8]) -> Result<(String, Vec<Label>), ApiError> {
    let (name, tags) = parse_project_patch(body)?;
    let name = name.ok_or_else(|| ApiError::new(ErrorCode::MissingAttribute, &["name"]))?;
    Ok((name, tags.unwrap_or_default()))
}

/// Parses a `PATCH /groups/{id}` body: a new `name` and `tags`, either
/// left out to keep it; the entity's read-only fields are ignored.
pub fn parse_project_patch(body: &[u8]) -> Result<(Option<String>, Option<Vec<Label>>), ApiError> {
    let (mut name, mut tags) = (None, None);
    for (key, v) in object(body)? {
        match key.as_str() {
            "name" => name = Some(string(&key, &v)?),
            "tags" => tags = Some(typed(&key, v)?),
            "orgId" | "id" | "links" | "clusterCount" | "created" | "withDefaultAlertsSettings" => {
            }
            // Writable on Atlas (Terraform sends it when configured); no
            // region applies offline, so it is checked and not kept (ours).
            "regionUsageRestrictions" => {
                string(&key, &v)?;
            }
            k => return Err(ApiError::new(ErrorCode::InvalidAttribute, &[k])),
        }
    }
    Ok((name, tags))
}

/// A body's JSON object (`PATCH /groups/{id}/settings`, a limit), `null`
/// members left out; its members are checked by who applies them.
pub fn parse_settings_body(
    body: &[u8],
) -> Result<serde_json::Map<String, serde_json::Value>, ApiError> {
    object(body)
}

/// `POST /groups/{id}/teams`: a JSON array of teams; none exist offline,
/// so only the empty one Terraform sends on every update is accepted.
pub fn parse_no_teams(body: &[u8]) -> Result<(), ApiError> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|_| ApiError::new(ErrorCode::MalformedJson, &[]))?;
    match value {
        serde_json::Value::Array(teams) if teams.is_empty() => Ok(()),
        serde_json::Value::Array(teams) => {
            let id = teams[0]["teamId"].as_str().unwrap_or("").to_string();
            Err(ApiError::new(ErrorCode::TeamNotFound, &[&id]))
        }
        _ => Err(ApiError::new(ErrorCode::InvalidJson, &[])),
    }
}

/// Parses a `PATCH /groups/{id}/userSecurity` body: the customer CAs' PEM
/// (`customerX509.cas`) and the LDAP settings, each `None` when the body
/// leaves it alone.
pub fn parse_user_security_body(body: &[u8]) -> Result<SecurityPatch, ApiError> {
    let mut patch = SecurityPatch::default();
    for (key, v) in object(body)? {
        match key.as_str() {
            "customerX509" => {
                let serde_json::Value::Object(inner) = v else {
                    return Err(ApiError::new(ErrorCode::InvalidJsonAttribute, &[&key]));
                };
                for (k, v) in inner {
                    match k.as_str() {
                        "cas" => patch.cas = Some(string("customerX509.cas", &v)?),
                        other => {
                            let name = format!("customerX509.{other}");
                            return Err(ApiError::new(ErrorCode::InvalidAttribute, &[&name]));
                        }
                    }
                }
            }
            "ldap" => patch.ldap = Some(v),
            "links" => {}
            k => return Err(ApiError::new(ErrorCode::InvalidAttribute, &[k])),
        }
    }
    Ok(patch)
}

/// What a `userSecurity` PATCH changes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecurityPatch {
    /// The customer CAs (`customerX509.cas`), turning customer X.509 on.
    pub cas: Option<String>,
    /// The `ldap` object, checked when applied.
    pub ldap: Option<serde_json::Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_bodies() {
        let code = |b: &str| parse_create_body(b.as_bytes()).map_err(|e| (e.code, e.detail));
        assert_eq!(code(""), Ok(3));
        assert_eq!(code(" \n"), Ok(3));
        assert_eq!(code(r#"{"monthsUntilExpiration":12}"#), Ok(12));
        assert_eq!(
            code(r#"{"monthsUntilExpiration":null,"groupId":"x"}"#),
            Ok(3)
        );
        assert_eq!(code("{").unwrap_err().0, ErrorCode::MalformedJson);
        assert_eq!(code("[1]").unwrap_err().0, ErrorCode::InvalidJson);
        assert_eq!(code(r#""12""#).unwrap_err().0, ErrorCode::InvalidJson);
        assert_eq!(
            code(r#"{"monthsUntilExpiration":"12"}"#).unwrap_err(),
            (
                ErrorCode::InvalidJsonAttribute,
                "Received JSON for the monthsUntilExpiration attribute does not match expected format.".into()
            )
        );
        assert_eq!(
            code(r#"{"monthsUntilExpiration":1.5}"#).unwrap_err().0,
            ErrorCode::InvalidJsonAttribute
        );
        assert_eq!(
            code(r#"{"months":1}"#).unwrap_err(),
            (
                ErrorCode::InvalidAttribute,
                "Invalid attribute months specified.".into()
            )
        );
    }

    #[test]
    fn user_bodies() {
        let spec = parse_user_body(
            br#"{"username":"u","x509Type":"MANAGED","databaseName":"$external","groupId":"g",
                 "roles":[{"roleName":"atlasAdmin","databaseName":"admin"}],"labels":[],
                 "awsIAMType":"NONE","links":[]}"#,
        )
        .unwrap();
        assert_eq!(spec.username.as_deref(), Some("u"));
        assert_eq!(spec.x509_type, Some(Some(crate::model::X509Type::Managed)));
        assert_eq!(spec.roles.unwrap()[0].role_name, "atlasAdmin");
        let code = |b: &str| parse_user_body(b.as_bytes()).unwrap_err();
        assert_eq!(code("{").code, ErrorCode::MalformedJson);
        assert_eq!(code("[]").code, ErrorCode::InvalidJson);
        // null means absent: roles left alone, scopes and labels unset.
        let kept =
            parse_user_body(br#"{"roles":null,"scopes":null,"labels":null,"password":null}"#)
                .unwrap();
        assert_eq!(kept.roles, None);
        assert_eq!(
            parse_user_security_body(br#"{"customerX509":null}"#),
            Ok(SecurityPatch::default())
        );
        assert_eq!(
            code(r#"{"x509Type":"SOMETIMES"}"#).code,
            ErrorCode::InvalidJsonAttribute
        );
        assert_eq!(
            code(r#"{"username":1}"#).code,
            ErrorCode::InvalidJsonAttribute
        );
        assert_eq!(
            code(r#"{"roles":[{"role":"x"}]}"#).code,
            ErrorCode::InvalidJsonAttribute
        );
        let ldap = parse_user_body(br#"{"ldapAuthType":"GROUP","password":"secret12"}"#).unwrap();
        assert_eq!(ldap.ldap, Some(Some(crate::model::LdapAuthType::Group)));
        assert_eq!(ldap.password, Some(Password::given("12345678")));
        assert_eq!(
            code(r#"{"oidcAuthType":"WORKLOAD"}"#).code,
            ErrorCode::InvalidJsonAttribute
        );
        assert_eq!(code(r#"{"password":8}"#).parameters, ["password"]);
        assert_eq!(code(r#"{"nickname":"x"}"#).parameters, ["nickname"]);
    }

    #[test]
    fn new_users_name_the_required_attributes() {
        let full = r#"{"username":"u","databaseName":"admin","groupId":"g","roles":[]}"#;
        assert!(parse_new_user_body(full.as_bytes()).is_ok());
        // Without groupId: the path's project (Atlas takes it from there).
        let no_group = full.replace(r#""groupId":"g","#, "");
        assert_eq!(
            parse_new_user_body(no_group.as_bytes()).unwrap().group_id,
            None
        );
        for (drop, name) in [
            (r#""username":"u","#, "username"),
            (r#""databaseName":"admin","#, "databaseName"),
            (r#","roles":[]"#, "roles"),
        ] {
            let e = parse_new_user_body(full.replace(drop, "").as_bytes()).unwrap_err();
            assert_eq!(
                (e.code, e.parameters),
                (ErrorCode::MissingAttribute, vec![name.to_string()])
            );
        }
        // A null is absent, so a required one is missing.
        let e = parse_new_user_body(full.replace("[]", "null").as_bytes()).unwrap_err();
        assert_eq!(e.parameters, ["roles"]);
    }

    #[test]
    fn create_bodies_need_a_description_and_project_roles() {
        assert_eq!(
            parse_key_body(br#"{"desc":"ci","roles":["GROUP_READ_ONLY"]}"#),
            Ok(("ci".into(), vec![KeyRoleName::GroupReadOnly]))
        );
        let code = |b: &str| parse_key_body(b.as_bytes()).map_err(|e| (e.code, e.parameters));
        let missing = |p: &str| Err((ErrorCode::MissingAttribute, vec![p.to_string()]));
        assert_eq!(code(r#"{"roles":["GROUP_OWNER"]}"#), missing("desc"));
        assert_eq!(code(r#"{"desc":"x","roles":[]}"#), missing("roles"));
        assert_eq!(code(r#"{"desc":"x","roles":null}"#), missing("roles"));
        let invalid = |p: &str| Err((ErrorCode::InvalidAttribute, vec![p.to_string()]));
        assert_eq!(
            code(r#"{"desc":"x","roles":["ORG_OWNER"]}"#),
            invalid("roles")
        );
        assert_eq!(code(r#"{"desc":"x","roles":["ROOT"]}"#), invalid("roles"));
        assert_eq!(
            code(r#"{"desc":"x","roles":["GROUP_OWNER"],"k":1}"#),
            invalid("k")
        );
        assert_eq!(
            code(r#"{"desc":1,"roles":[]}"#).unwrap_err().0,
            ErrorCode::InvalidJsonAttribute
        );
        assert_eq!(code("[]").unwrap_err().0, ErrorCode::InvalidJson);
    }

    #[test]
    fn project_and_security_bodies() {
        assert_eq!(
            parse_project_body(br#"{"name":"p","orgId":"o"}"#),
            Ok(("p".into(), Vec::new()))
        );
        assert_eq!(
            parse_project_body(b"{}").unwrap_err().code,
            ErrorCode::MissingAttribute
        );
        assert_eq!(
            parse_user_security_body(br#"{"customerX509":{"cas":"PEM"}}"#).map(|p| p.cas),
            Ok(Some("PEM".into()))
        );
        assert_eq!(
            parse_user_security_body(br#"{"customerX509":{"x":1}}"#)
                .unwrap_err()
                .parameters,
            ["customerX509.x"]
        );
    }

    #[test]
    fn paging_parameters() {
        assert_eq!(parse_paging([]), Ok(Paging::default()));
        let p = parse_paging([
            ("includeCount", "FALSE"),
            ("itemsPerPage", "500"),
            ("pageNum", "7"),
        ])
        .unwrap();
        assert_eq!(
            (p.include_count, p.items_per_page, p.page_num),
            (false, 500, 7)
        );
        assert!(
            !parse_paging([("includeCount", "yes")])
                .unwrap()
                .include_count
        );
        for bad in [
            ("itemsPerPage", "0"),
            ("itemsPerPage", "501"),
            ("pageNum", "0"),
            ("pageNum", "x"),
        ] {
            assert_eq!(
                parse_paging([bad]).unwrap_err().code,
                ErrorCode::InvalidQueryParameter
            );
        }
    }
}
