//! The project endpoints beside users and certificates, against the
//! bodies the Atlas CLI recorded (`TestLDAPWithFlags`, `TestProjectSettings`)
//! and the spec's shapes: LDAP settings kept, project settings, limits,
//! the managed slow-ms switch, teams and users, and the home's local kits
//! as the project's clusters.

use crate::common::*;
use crate::manage_http::{OWNER, READER, home_and_server, json};

/// The recorded `TestProjectSettings/Describe` body: a new project's.
const SETTINGS: &str = r#"{"isAtlasHomePageAiAssistantEnabled":true,"isClusterAiAssistantEnabled":true,"isCollectDatabaseSpecificsStatisticsEnabled":true,"isDataExplorerEnabled":true,"isDataExplorerGenAIFeaturesEnabled":true,"isDataExplorerGenAISampleDocumentPassingEnabled":false,"isDataValidationEnabled":true,"isExtendedStorageSizesEnabled":false,"isNativeRerankingEnabled":false,"isPerformanceAdvisorEnabled":true,"isRealtimePerformancePanelEnabled":true,"isSchemaAdvisorEnabled":true}"#;

#[test]
fn ldap_settings_are_kept_as_atlas_keeps_them() {
    let (home, server) = home_and_server();
    let security = format!("{}/groups/{GID}/userSecurity", server.api("v2"));
    // The Atlas CLI's `security ldap save` body (recorded values).
    let saved = digest_call(
        OWNER,
        "PATCH",
        &security,
        Some(
            r#"{"ldap":{"hostname":"2.tcp.ngrok.io","port":19657,"bindUsername":"cn=admin,dc=example,dc=org","bindPassword":"admin","userToDNMapping":[{"match":"(.+)@ENGINEERING.EXAMPLE.COM","substitution":"cn={0},ou=engineering,dc=example,dc=com"}]}}"#,
        ),
    );
    let recorded = r#"{"customerX509":{},"ldap":{"authenticationEnabled":false,"authorizationEnabled":false,"bindUsername":"cn=admin,dc=example,dc=org","hostname":"2.tcp.ngrok.io","port":19657,"userToDNMapping":[{"match":"(.+)@ENGINEERING.EXAMPLE.COM","substitution":"cn={0},ou=engineering,dc=example,dc=com"}]}}"#;
    assert_eq!((saved.status, saved.body.as_str()), (202, recorded));
    let got = digest_call(OWNER, "GET", &security, None);
    assert_eq!((got.status, got.body.as_str()), (200, recorded));
    // The bind password is never answered, nor kept on disk.
    let stored =
        std::fs::read_to_string(home.path().join(format!("projects/{GID}/settings.json"))).unwrap();
    assert!(!stored.contains("admin\""), "{stored}");
    assert!(!stored.contains("bindPassword"), "{stored}");
    // A bad member is refused, naming it, and nothing changes.
    let bad = digest_call(
        OWNER,
        "PATCH",
        &security,
        Some(r#"{"ldap":{"hostname":"other","colour":"red"}}"#),
    );
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert_eq!(json(&bad)["parameters"][0], "ldap.colour");
    assert_eq!(digest_call(OWNER, "GET", &security, None).body, recorded);
    // `security ldap delete`: the mapping goes (recorded `/Delete`).
    let deleted = digest_call(
        OWNER,
        "DELETE",
        &format!("{security}/ldap/userToDNMapping"),
        None,
    );
    assert_eq!(deleted.status, 202);
    assert_eq!(
        deleted.body,
        r#"{"customerX509":{},"ldap":{"authenticationEnabled":false,"authorizationEnabled":false,"bindUsername":"cn=admin,dc=example,dc=org","hostname":"2.tcp.ngrok.io","port":19657}}"#
    );
}

#[test]
fn project_settings_limits_and_slow_ms() {
    let (_home, server) = home_and_server();
    let group = format!("{}/groups/{GID}", server.api("v2"));
    let settings = format!("{group}/settings");
    let got = digest_call(READER, "GET", &settings, None);
    assert_eq!((got.status, got.body.as_str()), (200, SETTINGS));
    // A Project Read Only key may read, not change.
    let refused = digest_call(READER, "PATCH", &settings, Some("{}"));
    assert_eq!(refused.status, 401, "{}", refused.body);
    let patched = digest_call(
        OWNER,
        "PATCH",
        &settings,
        Some(r#"{"isCollectDatabaseSpecificsStatisticsEnabled":false}"#),
    );
    let expected = SETTINGS.replace(
        r#""isCollectDatabaseSpecificsStatisticsEnabled":true"#,
        r#""isCollectDatabaseSpecificsStatisticsEnabled":false"#,
    );
    assert_eq!(
        (patched.status, patched.body.as_str()),
        (200, expected.as_str())
    );
    assert_eq!(digest_call(READER, "GET", &settings, None).body, expected);
    let unknown = digest_call(OWNER, "PATCH", &settings, Some(r#"{"isFun":true}"#));
    assert_eq!(json(&unknown)["errorCode"], "INVALID_ATTRIBUTE");

    // Limits: a bare array, the users' usage counted.
    let limits = json(&digest_call(
        READER,
        "GET",
        &format!("{group}/limits"),
        None,
    ));
    let all = limits.as_array().unwrap();
    assert_eq!(all.len(), 8);
    let users = all
        .iter()
        .find(|l| l["name"] == "atlas.project.security.databaseAccess.users")
        .unwrap();
    let listed = json(&digest_call(
        READER,
        "GET",
        &format!("{group}/databaseUsers"),
        None,
    ));
    assert_eq!(
        users.to_string(),
        format!(
            r#"{{"currentUsage":{},"defaultLimit":100,"maximumLimit":100,"name":"atlas.project.security.databaseAccess.users","value":100}}"#,
            listed["totalCount"]
        )
    );
    let clusters = format!("{group}/limits/atlas.project.deployment.clusters");
    let set = digest_call(
        OWNER,
        "PATCH",
        &clusters,
        Some(r#"{"name":"atlas.project.deployment.clusters","value":30}"#),
    );
    assert_eq!(set.status, 200, "{}", set.body);
    assert_eq!(json(&set)["value"], 30);
    assert_eq!(
        json(&digest_call(READER, "GET", &clusters, None))["value"],
        30
    );
    let too_many = digest_call(OWNER, "PATCH", &clusters, Some(r#"{"value":101}"#));
    assert_eq!(too_many.status, 400, "{}", too_many.body);
    let reset = digest_call(OWNER, "DELETE", &clusters, None);
    assert_eq!((reset.status, reset.body.as_str()), (204, ""));
    assert_eq!(
        json(&digest_call(READER, "GET", &clusters, None))["value"],
        25
    );
    let nope = digest_call(READER, "GET", &format!("{group}/limits/nope"), None);
    assert_eq!(nope.status, 404);

    // The managed slow-ms switch: a bare boolean, on for a new project.
    let slow = format!("{group}/managedSlowMs");
    assert_eq!(digest_call(READER, "GET", &slow, None).body, "true");
    let off = digest_call(OWNER, "DELETE", &format!("{slow}/disable"), None);
    assert_eq!((off.status, off.body.as_str()), (204, ""));
    assert_eq!(digest_call(READER, "GET", &slow, None).body, "false");
    let on = digest_call(OWNER, "POST", &format!("{slow}/enable"), None);
    assert_eq!(on.status, 204);
    assert_eq!(digest_call(READER, "GET", &slow, None).body, "true");
}

#[test]
fn teams_users_and_flex_clusters_are_empty_pages() {
    let (_home, server) = home_and_server();
    let group = format!("{}/groups/{GID}", server.api("v2"));
    // Each in the version its clients ask for (the spec's): Terraform's
    // users 2025-02-19, the operator's flex clusters 2024-11-13 and
    // clusters 2024-08-05.
    for (path, date) in [
        ("teams", "2023-01-01"),
        ("users", "2025-02-19"),
        ("flexClusters", "2024-11-13"),
        ("clusters", "2024-08-05"),
    ] {
        let url = format!("{group}/{path}");
        let accept = format!("Accept: application/vnd.atlas.{date}+json");
        let page = curl(&["--digest", "--user", READER, "-H", &accept, &url]);
        assert_eq!(page.status, 200, "{path}: {}", page.body);
        assert_eq!(
            page.header("content-type"),
            Some(format!("application/vnd.atlas.{date}+json;charset=utf-8").as_str())
        );
        assert_eq!(
            page.body,
            format!(
                r#"{{"links":[{{"href":"{url}?pageNum=1&itemsPerPage=100","rel":"self"}}],"results":[],"totalCount":0}}"#
            ),
            "{path}"
        );
    }
    // A version older than a resource's first is Atlas's 406.
    let flex = digest_call(READER, "GET", &format!("{group}/flexClusters"), None);
    assert_eq!(flex.status, 406, "{}", flex.body);
    // Terraform sends `[]` on every update; a team that does not exist is
    // not found.
    let teams = format!("{group}/teams");
    assert_eq!(digest_call(OWNER, "POST", &teams, Some("[]")).status, 200);
    let team = digest_call(
        OWNER,
        "POST",
        &teams,
        Some(r#"[{"teamId":"6a0000000000000000000000","roleNames":["GROUP_OWNER"]}]"#),
    );
    assert_eq!(json(&team)["errorCode"], "TEAM_NOT_FOUND");
    let ips = digest_call(READER, "GET", &format!("{group}/ipAddresses"), None);
    assert_eq!(
        ips.body,
        format!(r#"{{"groupId":"{GID}","services":{{"clusters":[]}}}}"#)
    );
}

#[test]
fn local_kits_are_the_projects_clusters() {
    let (home, server) = home_and_server();
    let kit = home.path().join("rs-kit");
    home.ok(&[
        "local-kit",
        "--out",
        s(&kit),
        "--replset",
        "rs0",
        "--members",
        "2",
        "--key-type",
        "ec-p256",
    ]);
    let group = format!("{}/groups/{GID}", server.api("v2"));
    let list = json(&digest_call(
        READER,
        "GET",
        &format!("{group}/clusters"),
        None,
    ));
    assert_eq!(list["totalCount"], 1, "{list}");
    let cluster = &list["results"][0];
    assert_eq!(cluster["name"], "rs-kit");
    assert_eq!(cluster["clusterType"], "REPLICASET");
    assert_eq!(cluster["stateName"], "IDLE");
    let standard = cluster["connectionStrings"]["standard"].as_str().unwrap();
    assert_eq!(
        standard,
        "mongodb://localhost:27017,localhost:27018/?tls=true&replicaSet=rs0"
    );
    // Every address the connection string names is a member the kit's
    // configs start, and the kit's README says so too.
    let configs = crate::kit_clusters::configs(&kit);
    let ports: Vec<i64> = configs
        .as_object()
        .unwrap()
        .values()
        .filter_map(|c| c["net.port"].as_i64())
        .collect();
    for port in [27017, 27018] {
        assert!(ports.contains(&port), "{ports:?}");
    }
    let one = digest_call(READER, "GET", &format!("{group}/clusters/rs-kit"), None);
    assert_eq!(json(&one)["connectionStrings"]["standard"], standard);
    let ips = json(&digest_call(
        READER,
        "GET",
        &format!("{group}/ipAddresses"),
        None,
    ));
    assert_eq!(ips["services"]["clusters"][0]["clusterName"], "rs-kit");
    let usage = json(&digest_call(
        READER,
        "GET",
        &format!("{group}/limits/atlas.project.deployment.clusters"),
        None,
    ));
    assert_eq!(usage["currentUsage"], 1);
    // A kit removed is a cluster gone; one never made is not found.
    std::fs::remove_dir_all(&kit).unwrap();
    let list = json(&digest_call(
        READER,
        "GET",
        &format!("{group}/clusters"),
        None,
    ));
    assert_eq!(list["totalCount"], 0);
    let gone = digest_call(READER, "GET", &format!("{group}/clusters/rs-kit"), None);
    assert_eq!(json(&gone)["errorCode"], "CLUSTER_NOT_FOUND");
    // Two kits in directories of one name are two clusters; a kit made
    // again in its directory keeps its name.
    let kit = |dir: &str| {
        let out = home.path().join(dir).join("kit");
        home.ok(&[
            "local-kit",
            "--out",
            s(&out),
            "--key-type",
            "ec-p256",
            "--force",
        ]);
    };
    kit("a");
    kit("b");
    kit("a");
    let list = json(&digest_call(
        READER,
        "GET",
        &format!("{group}/clusters"),
        None,
    ));
    let names: Vec<&str> = list["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["kit", "kit-2"], "{list}");
}

/// The Atlas CLI's plain verbs, as the calls they make (its source and
/// recordings): `clusters list` and `clusters connectionStrings describe`
/// ask for 2023-02-01 and print `id`, `name`, `mongoDBVersion`, `stateName`
/// and `connectionStrings`; `projects settings describe` and `projects
/// teams list` the 2023-01-01 bodies, paged with `includeCount=true`.
#[test]
fn atlas_cli_verbs_find_what_they_print() {
    let (home, server) = home_and_server();
    let kit = home.path().join("solo");
    home.ok(&["local-kit", "--out", s(&kit), "--key-type", "ec-p256"]);
    let group = format!("{}/groups/{GID}", server.api("v2"));
    let accept = "Accept: application/vnd.atlas.2023-02-01+json";
    let list_url = format!(
        "{group}/clusters?includeCount=true&includeDeletedWithRetainedBackups=false&pageNum=1&itemsPerPage=100"
    );
    let listed = curl(&["--digest", "--user", READER, "-H", accept, &list_url]);
    assert_eq!(
        listed.header("content-type"),
        Some("application/vnd.atlas.2023-02-01+json;charset=utf-8")
    );
    // A deprecated version's answer says so, as recorded.
    assert_eq!(
        listed.header("deprecation"),
        Some("Mon, 5 Aug 2024 00:00:00 GMT")
    );
    assert_eq!(
        listed.header("sunset"),
        Some("Thu, 1 Jul 2027 00:00:00 GMT")
    );
    let page = json(&listed);
    assert_eq!(
        page["links"][0]["href"],
        format!(
            "{group}/clusters?includeCount=true&includeDeletedWithRetainedBackups=false&pageNum=1&itemsPerPage=100"
        )
    );
    let cluster = &page["results"][0];
    for field in ["id", "name", "mongoDBVersion", "stateName"] {
        assert!(cluster[field].is_string(), "{field}: {cluster}");
    }
    assert_eq!(cluster["clusterType"], "STANDALONE");
    let described = json(&curl(&[
        "--digest",
        "--user",
        READER,
        "-H",
        accept,
        &format!("{group}/clusters/solo"),
    ]));
    assert_eq!(
        described["connectionStrings"],
        serde_json::json!({"standard": "mongodb://localhost:27017/?tls=true"})
    );
    // The standalone kit's own README connects to the same address.
    let readme = std::fs::read_to_string(kit.join("README.txt")).unwrap();
    assert!(
        readme.contains("mongodb://localhost:27017/?tls=true"),
        "{readme}"
    );
    let teams = json(&digest_call(
        READER,
        "GET",
        &format!("{group}/teams?includeCount=true&pageNum=1&itemsPerPage=100"),
        None,
    ));
    assert_eq!(teams["totalCount"], 0);
    let settings = json(&digest_call(
        READER,
        "GET",
        &format!("{group}/settings"),
        None,
    ));
    for column in [
        "isCollectDatabaseSpecificsStatisticsEnabled",
        "isDataExplorerEnabled",
        "isPerformanceAdvisorEnabled",
        "isRealtimePerformancePanelEnabled",
        "isSchemaAdvisorEnabled",
    ] {
        assert!(settings[column].is_boolean(), "{column}");
    }
}
