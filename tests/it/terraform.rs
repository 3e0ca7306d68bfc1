//! Terraform's calls, replayed in the provider's order against `serve`
//! (terraform-provider-mongodbatlas `internal/service/project/`,
//! `databaseuser/` and `x509authenticationdatabaseuser/`): a configuration
//! with a `mongodbatlas_project`, a `data "mongodbatlas_project"` by name,
//! a `mongodbatlas_database_user` with `x509_type = "MANAGED"` and a
//! `mongodbatlas_x509_authentication_database_user` applies, plans without
//! changes and destroys. Each answer is checked for what the provider
//! reads (a missing settings flag or `totalCount` panics it; a missing
//! `withDefaultAlertsSettings` or auth type is a drift).

use serde_json::Value;

use crate::common::*;
use crate::manage_http::{ORG, home_and_server, json};

/// The six settings flags the provider dereferences without a check.
const REQUIRED_FLAGS: [&str; 6] = [
    "isCollectDatabaseSpecificsStatisticsEnabled",
    "isDataExplorerEnabled",
    "isExtendedStorageSizesEnabled",
    "isPerformanceAdvisorEnabled",
    "isRealtimePerformancePanelEnabled",
    "isSchemaAdvisorEnabled",
];

/// One call, which must answer `status`; its JSON body (`Null` if none).
fn call(method: &str, url: &str, body: Option<&str>, status: u16) -> Value {
    let reply = digest_call(ORG, method, url, body);
    body_of(reply, method, url, status)
}

/// A GET in the version the provider asks for there (the SDK's: the
/// project's users 2025-02-19, clusters 2024-08-05).
fn get_at(date: &str, url: &str) -> Value {
    let accept = format!("Accept: application/vnd.atlas.{date}+json");
    let reply = curl(&["--digest", "--user", ORG, "-H", &accept, url]);
    body_of(reply, "GET", url, 200)
}

fn body_of(reply: Reply, method: &str, url: &str, status: u16) -> Value {
    assert_eq!(reply.status, status, "{method} {url}: {}", reply.body);
    if reply.body.is_empty() {
        Value::Null
    } else {
        json(&reply)
    }
}

/// The reads the provider makes after every create and read of a project
/// (`GetProjectPropsFromAPI`), and what it keeps of them.
fn project_props(group: &str) -> Value {
    let teams = call("GET", &format!("{group}/teams"), None, 200);
    assert!(teams["totalCount"].is_u64(), "{teams}");
    let limits = call("GET", &format!("{group}/limits"), None, 200);
    assert!(limits.as_array().is_some_and(|l| !l.is_empty()), "{limits}");
    let settings = call("GET", &format!("{group}/settings"), None, 200);
    for flag in REQUIRED_FLAGS {
        assert!(settings[flag].is_boolean(), "{flag} missing: {settings}");
    }
    let ips = call("GET", &format!("{group}/ipAddresses"), None, 200);
    assert!(ips["services"]["clusters"].is_array(), "{ips}");
    let slow = call("GET", &format!("{group}/managedSlowMs"), None, 200);
    assert!(slow.is_boolean(), "{slow}");
    serde_json::json!({"teams": teams, "limits": limits, "settings": settings, "slow": slow})
}

/// What the provider keeps of the group itself.
fn group_state(group: &Value) -> Value {
    for field in ["id", "name", "orgId", "clusterCount", "created"] {
        assert!(!group[field].is_null(), "{field} missing: {group}");
    }
    assert_eq!(group["withDefaultAlertsSettings"], true, "{group}");
    serde_json::json!([
        group["id"],
        group["name"],
        group["orgId"],
        group["created"],
        group["tags"]
    ])
}

/// `terraform refresh` of everything: the state the plan compares.
fn refresh(v2: &str, id: &str, user: &str) -> Value {
    let group = format!("{v2}/groups/{id}");
    let state = group_state(&call("GET", &group, None, 200));
    let props = project_props(&group);
    let by_name = call("GET", &format!("{v2}/groups/byName/tf-project"), None, 200);
    assert_eq!(by_name["id"], id);
    let users = get_at("2025-02-19", &format!("{group}/users?pageNum=1"));
    assert!(users["results"].is_array(), "{users}");
    let db_user = call(
        "GET",
        &format!("{group}/databaseUsers/$external/{user}"),
        None,
        200,
    );
    for kind in ["awsIAMType", "ldapAuthType", "oidcAuthType"] {
        assert_eq!(db_user[kind], "NONE", "{db_user}");
    }
    let certs = call(
        "GET",
        &format!("{group}/databaseUsers/{user}/certs"),
        None,
        200,
    );
    serde_json::json!([state, props, db_user, certs["results"]])
}

#[test]
fn terraform_applies_plans_clean_and_destroys() {
    let (_home, server) = home_and_server();
    let v2 = server.api("v2");
    let org = "5efda6aea3f2ed2e7dd6ce06";

    // apply: mongodbatlas_project (the SDK sends the read-only fields too).
    let created = call(
        "POST",
        &format!("{v2}/groups"),
        Some(&format!(
            r#"{{"clusterCount":0,"created":"0001-01-01T00:00:00Z","name":"tf-project","orgId":"{org}","tags":[],"withDefaultAlertsSettings":true}}"#
        )),
        201,
    );
    let id = created["id"].as_str().unwrap().to_string();
    let group = format!("{v2}/groups/{id}");
    let mut settings = call("GET", &format!("{group}/settings"), None, 200);
    settings["isDataExplorerEnabled"] = Value::Bool(false);
    let patched = call(
        "PATCH",
        &format!("{group}/settings"),
        Some(&settings.to_string()),
        200,
    );
    assert_eq!(patched, settings);
    group_state(&call("GET", &group, None, 200));
    call(
        "DELETE",
        &format!("{group}/managedSlowMs/disable"),
        None,
        204,
    );
    project_props(&group);

    // mongodbatlas_database_user, then the X.509 resource's certificate.
    let user = "CN=tf-user";
    let body = format!(
        r#"{{"awsIAMType":"NONE","databaseName":"$external","groupId":"{id}","labels":[],"ldapAuthType":"NONE","oidcAuthType":"NONE","roles":[{{"databaseName":"app","roleName":"readWrite"}}],"scopes":[],"username":"{user}","x509Type":"MANAGED"}}"#
    );
    let made = call("POST", &format!("{group}/databaseUsers"), Some(&body), 201);
    assert_eq!(made["x509Type"], "MANAGED");
    let cert = digest_call(
        ORG,
        "POST",
        &format!("{group}/databaseUsers/{user}/certs"),
        Some(r#"{"monthsUntilExpiration":3}"#),
    );
    assert_eq!(cert.status, 201, "{}", cert.body);
    assert!(cert.body.starts_with("-----BEGIN CERTIFICATE-----"));

    // plan: two refreshes see the same state; the settings and the
    // switch are as applied.
    let first = refresh(&v2, &id, user);
    assert_eq!(first[1]["settings"]["isDataExplorerEnabled"], false);
    assert_eq!(first[1]["slow"], false);
    assert_eq!(first[3].as_array().unwrap().len(), 1);
    assert_eq!(
        refresh(&v2, &id, user),
        first,
        "a plan after apply shows changes"
    );

    // destroy: the user, then the clusters poll, then the project.
    call(
        "DELETE",
        &format!("{group}/databaseUsers/$external/{user}"),
        None,
        204,
    );
    let clusters = get_at("2024-08-05", &format!("{group}/clusters"));
    assert_eq!(clusters["totalCount"], 0, "{clusters}");
    call("DELETE", &group, None, 202);
    let gone = digest_call(ORG, "GET", &group, None);
    assert_eq!(gone.status, 404, "{}", gone.body);
}
