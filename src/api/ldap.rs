//! A project's LDAP settings (`userSecurity.ldap`): Atlas stores what a
//! PATCH sends and GET returns it (recorded `TestLDAPWithFlags/Save` and
//! `/Get`). Nothing here talks to an LDAP server; the settings are kept
//! so that Terraform and `atlas security ldap` see no drift.

use serde::{Deserialize, Serialize};

use super::atlas_error::{ApiError, ErrorCode};

/// Most `userToDNMapping` rules one project keeps (ours).
pub const MAX_DN_MAPPINGS: usize = 100;

/// The stored settings, in Atlas's key order. `bindPassword` is
/// write-only on Atlas and is not kept here at all (ours: nothing uses it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LdapSettings {
    authentication_enabled: bool,
    authorization_enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    authz_query_template: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    bind_username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    ca_certificate: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    hostname: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    port: Option<u16>,
    #[serde(
        rename = "userToDNMapping",
        skip_serializing_if = "Option::is_none",
        default
    )]
    user_to_dn_mapping: Option<Vec<DnMapping>>,
}

/// One rule mapping a user name to an LDAP distinguished name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DnMapping {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    ldap_query: Option<String>,
    #[serde(rename = "match")]
    matches: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    substitution: Option<String>,
}

impl LdapSettings {
    /// Applies a PATCH's `ldap` object: each member given replaces the
    /// stored one (`null` leaves it); an unknown member or a wrong type is
    /// Atlas's error naming `ldap.<member>`, and nothing changes.
    pub fn patch(&mut self, v: serde_json::Value) -> Result<(), ApiError> {
        let serde_json::Value::Object(members) = v else {
            return Err(ApiError::new(ErrorCode::InvalidJsonAttribute, &["ldap"]));
        };
        let mut next = self.clone();
        for (key, v) in members {
            if v.is_null() {
                continue;
            }
            let name = format!("ldap.{key}");
            let bad = || ApiError::new(ErrorCode::InvalidJsonAttribute, &[&name]);
            let text = |v: &serde_json::Value| v.as_str().map(String::from).ok_or_else(bad);
            match key.as_str() {
                "authenticationEnabled" => {
                    next.authentication_enabled = v.as_bool().ok_or_else(bad)?
                }
                "authorizationEnabled" => {
                    next.authorization_enabled = v.as_bool().ok_or_else(bad)?
                }
                "authzQueryTemplate" => next.authz_query_template = Some(text(&v)?),
                "bindUsername" => next.bind_username = Some(text(&v)?),
                "caCertificate" => next.ca_certificate = Some(text(&v)?),
                "hostname" => next.hostname = Some(text(&v)?),
                "port" => {
                    let port = v.as_u64().and_then(|p| u16::try_from(p).ok());
                    next.port = Some(port.filter(|p| *p > 0).ok_or_else(bad)?);
                }
                "userToDNMapping" => {
                    let rules: Vec<DnMapping> = serde_json::from_value(v).map_err(|_| bad())?;
                    if rules.len() > MAX_DN_MAPPINGS {
                        return Err(bad());
                    }
                    next.user_to_dn_mapping = Some(rules);
                }
                // Write-only on Atlas; accepted, not kept.
                "bindPassword" => {
                    text(&v)?;
                }
                "links" => {}
                _ => return Err(ApiError::new(ErrorCode::InvalidAttribute, &[&name])),
            }
        }
        *self = next;
        Ok(())
    }

    /// `DELETE .../userSecurity/ldap/userToDNMapping`: the rules go, the
    /// rest stays.
    pub fn clear_mapping(&mut self) {
        self.user_to_dn_mapping = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_keeps_atlas_order_and_refuses_strays() {
        let mut ldap = LdapSettings::default();
        ldap.patch(serde_json::json!({
            "hostname": "ldap.example", "port": 19657, "bindUsername": "cn=admin",
            "bindPassword": "secret",
            "userToDNMapping": [{"match": "(.+)@X", "substitution": "cn={0}"}]
        }))
        .unwrap();
        assert_eq!(
            serde_json::to_string(&ldap).unwrap(),
            r#"{"authenticationEnabled":false,"authorizationEnabled":false,"bindUsername":"cn=admin","hostname":"ldap.example","port":19657,"userToDNMapping":[{"match":"(.+)@X","substitution":"cn={0}"}]}"#
        );
        let before = ldap.clone();
        let err = ldap
            .patch(serde_json::json!({"hostname": "h2", "colour": 1}))
            .unwrap_err();
        assert_eq!(err.parameters, ["ldap.colour"]);
        let err = ldap.patch(serde_json::json!({"port": 70000})).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidJsonAttribute);
        assert_eq!(ldap, before, "a refused patch changes nothing");
        ldap.clear_mapping();
        assert!(
            !serde_json::to_string(&ldap)
                .unwrap()
                .contains("userToDNMapping")
        );
    }
}
