//! Users of every kind (password, OIDC, AWS IAM, LDAP) over HTTP and the
//! CLI, and the Atlas CLI's `TestDBUserWithFlags` and
//! `TestDBUsersWithStdin` exchanges replayed with curl: each answer is
//! compared field for field with the one Atlas recorded (stated here, in
//! Atlas's key order, with the recorder's masked ids swapped for ours).

use crate::common::*;
use serde_json::Value;

const OWNER: &str = "owner:owner-secret";

fn call(method: &str, url: &str, body: Option<&str>) -> Reply {
    digest_call(OWNER, method, url, body)
}

fn start() -> (TestHome, Server) {
    let home = TestHome::new(&format!("{}{API_KEYS}", registry("")));
    let server = Server::start(&home, &[]);
    (home, server)
}

/// The user body Atlas answers, for a user in `admin` of our project:
/// `extra` are the fields after `databaseName` up to `groupId` (such as
/// a deleteAfterDate), then the link, `oidc`, `roles` and `scopes`.
fn answer(host: &str, name: &str, extra: &str, oidc: &str, roles: &str, scopes: &str) -> String {
    let segment = name.replace('/', "%2F");
    format!(
        r#"{{"awsIAMType":"NONE","databaseName":"admin",{extra}"groupId":"{GID}","labels":[],"ldapAuthType":"NONE","links":[{{"href":"http://{host}/api/atlas/v2/groups/{GID}/databaseUsers/admin/{segment}","rel":"self"}}],"oidcAuthType":"{oidc}","roles":{roles},"scopes":{scopes},"username":"{name}","x509Type":"NONE"}}"#
    )
}

#[test]
fn the_atlas_cli_user_flags_sequence_over_http() {
    let (home, server) = start();
    let host = server.base.trim_start_matches("http://").to_string();
    let users = format!("{}/groups/{GID}/databaseUsers", server.api("v2"));
    let one = format!("{users}/admin/user-253");
    let admin = r#"[{"databaseName":"admin","roleName":"atlasAdmin"}]"#;
    let read_write = r#"[{"databaseName":"admin","roleName":"readWrite"}]"#;
    let two_scopes = r#"[{"name":"snapshotCluster0","type":"CLUSTER"},{"name":"snapshotCluster1","type":"CLUSTER"}]"#;
    let one_scope = r#"[{"name":"snapshotCluster0","type":"CLUSTER"}]"#;
    let after = r#""deleteAfterDate":"2099-08-11T03:05:41Z","#;

    // Create: what `atlas dbusers create atlasAdmin --deleteAfter ...
    // --username user-253 --password ... --scope c0,c1:CLUSTER` sends.
    let body = format!(
        r#"{{"awsIAMType":"NONE","databaseName":"admin","deleteAfterDate":"2099-08-11T03:05:41Z","groupId":"{GID}","ldapAuthType":"NONE","oidcAuthType":"NONE","password":"cGFzc3dvcmQxMjM0","roles":{admin},"scopes":{two_scopes},"username":"user-253","x509Type":"NONE"}}"#
    );
    let created = call("POST", &users, Some(&body));
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(
        created.body,
        answer(&host, "user-253", after, "NONE", admin, two_scopes)
    );

    // List, and what `ls -c` prints from it: the results alone.
    let listed = call("GET", &users, None);
    assert_eq!(listed.status, 200);
    let page: Value = serde_json::from_str(&listed.body).unwrap();
    assert_eq!(
        page["links"][0]["href"],
        format!("http://{host}/api/atlas/v2/groups/{GID}/databaseUsers?pageNum=1&itemsPerPage=100")
    );
    let entry: Value =
        serde_json::from_str(&answer(&host, "user-253", after, "NONE", admin, two_scopes)).unwrap();
    // After the registry's four users, in the order they were made.
    assert_eq!(page["results"][4], entry);
    assert_eq!(page["totalCount"], 5);
    let compact: Value =
        serde_json::from_str(&home.ok(&["dbusers", "ls", "-c", "-o", "json"])).unwrap();
    // The CLI's links start at the Atlas CLI recorder's base.
    let served = page["results"].to_string().replace(&host, "localhost:8080");
    assert_eq!(compact.to_string(), served);

    // Describe.
    let described = call("GET", &one, None);
    assert_eq!(
        (described.status, described.body.as_str()),
        (
            200,
            answer(&host, "user-253", after, "NONE", admin, two_scopes).as_str()
        )
    );

    // Update: `update user-253 --role readWrite --scope c0 --password ...`.
    let body = format!(
        r#"{{"databaseName":"admin","groupId":"{GID}","password":"bmV3cGFzc3dvcmQx","roles":{read_write},"scopes":{one_scope},"username":"user-253","x509Type":"NONE"}}"#
    );
    let updated = call("PATCH", &one, Some(&body));
    assert_eq!(
        (updated.status, updated.body.as_str()),
        (
            200,
            answer(&host, "user-253", after, "NONE", read_write, one_scope).as_str()
        )
    );

    // Update only the password: the SDK sends "roles":null, which keeps them.
    let body = format!(
        r#"{{"databaseName":"admin","groupId":"{GID}","password":"b25seXBhc3N3b3Jk","roles":null,"username":"user-253","x509Type":"NONE"}}"#
    );
    let password_only = call("PATCH", &one, Some(&body));
    assert_eq!(
        (password_only.status, password_only.body.as_str()),
        (
            200,
            answer(&host, "user-253", after, "NONE", read_write, one_scope).as_str()
        )
    );
    let registry = std::fs::read_to_string(home.path().join("users.toml")).unwrap();
    for secret in ["cGFzc3dvcmQxMjM0", "bmV3cGFzc3dvcmQx", "b25seXBhc3N3b3Jk"] {
        assert!(!registry.contains(secret), "a password is never stored");
    }

    // Delete (`--authDB admin`): 204, no body, and the user is gone.
    let deleted = call("DELETE", &one, None);
    assert_eq!((deleted.status, deleted.body.as_str()), (204, ""));
    let gone = call("GET", &one, None);
    assert_eq!(gone.status, 404);
}

#[test]
fn users_of_every_kind_are_stored_and_served() {
    let (home, server) = start();
    let host = server.base.trim_start_matches("http://").to_string();
    let users = format!("{}/groups/{GID}/databaseUsers", server.api("v2"));
    let admin = r#"[{"databaseName":"admin","roleName":"atlasAdmin"}]"#;
    let scopes = r#"[{"name":"snapshotCluster0","type":"CLUSTER"},{"name":"snapshotCluster1","type":"CLUSTER"}]"#;

    // TestDBUsersWithStdin/Create_OIDC_user: an OIDC workforce group in
    // admin, its slash escaped in the link (recorded: 201).
    let oidc = "d0123456789abcdef012345d/user-332";
    let body = format!(
        r#"{{"awsIAMType":"NONE","databaseName":"admin","groupId":"{GID}","ldapAuthType":"NONE","oidcAuthType":"IDP_GROUP","roles":{admin},"scopes":{scopes},"username":"{oidc}","x509Type":"NONE"}}"#
    );
    let created = call("POST", &users, Some(&body));
    let expected = answer(&host, oidc, "", "IDP_GROUP", admin, scopes);
    assert_eq!(
        (created.status, created.body.as_str()),
        (201, expected.as_str())
    );
    let one = format!("{users}/admin/d0123456789abcdef012345d%2Fuser-332");
    let described = call("GET", &one, None);
    assert_eq!(
        (described.status, described.body.as_str()),
        (200, expected.as_str())
    );

    // AWS IAM and LDAP users, each where its kind lives.
    for (body, db, field, value) in [
        (
            r#"{"username":"arn:aws:iam::123456789012:role/ci","databaseName":"$external","awsIAMType":"ROLE"}"#,
            "$external",
            "awsIAMType",
            "ROLE",
        ),
        (
            r#"{"username":"CN=ops,OU=groups,DC=example,DC=com","databaseName":"admin","ldapAuthType":"GROUP"}"#,
            "admin",
            "ldapAuthType",
            "GROUP",
        ),
        (
            r#"{"username":"CN=ann,OU=people,DC=example,DC=com","databaseName":"$external","ldapAuthType":"USER"}"#,
            "$external",
            "ldapAuthType",
            "USER",
        ),
    ] {
        let mut full: Value = serde_json::from_str(body).unwrap();
        full["groupId"] = GID.into();
        full["roles"] = serde_json::from_str(admin).unwrap();
        let reply = call("POST", &users, Some(&full.to_string()));
        assert_eq!(reply.status, 201, "{body}: {}", reply.body);
        let v: Value = serde_json::from_str(&reply.body).unwrap();
        assert_eq!(
            (v["databaseName"].as_str(), v[field].as_str()),
            (Some(db), Some(value))
        );
        assert_eq!(v["x509Type"], "NONE");
    }

    // The registry holds them, no password, and the CLI sees them.
    let text = std::fs::read_to_string(home.path().join("users.toml")).unwrap();
    for line in [
        r#"oidcAuthType = "IDP_GROUP""#,
        r#"awsIAMType = "ROLE""#,
        r#"ldapAuthType = "GROUP""#,
        r#"ldapAuthType = "USER""#,
    ] {
        assert!(text.contains(line), "{line} missing:\n{text}");
    }
    let described: Value =
        serde_json::from_str(&home.ok(&["dbusers", "describe", oidc, "-o", "json"])).unwrap();
    assert_eq!(described["oidcAuthType"], "IDP_GROUP");

    // Only managed X.509 users get certificates.
    let cert = call(
        "POST",
        &format!("{users}/{}/certs", "arn:aws:iam::123456789012:role%2Fci"),
        Some("{}"),
    );
    assert_eq!(cert.status, 400, "{}", cert.body);
    let v: Value = serde_json::from_str(&cert.body).unwrap();
    assert_eq!(v["errorCode"], "USER_NOT_MANAGED_X509");

    // A PATCH that would change a user's kind or database is refused as
    // Atlas refuses it, and the user stays as it was.
    let group = format!("{users}/admin/CN=ops,OU=groups,DC=example,DC=com");
    for body in [
        r#"{"ldapAuthType":"USER","databaseName":"$external"}"#,
        r#"{"databaseName":"$external"}"#,
        r#"{"x509Type":"MANAGED"}"#,
    ] {
        let refused = call("PATCH", &group, Some(body));
        assert_eq!(
            refused.body,
            r#"{"detail":"Cannot modify the username of an existing database user.","error":409,"errorCode":"DATABASE_USERNAME_CANNOT_BE_CHANGED","parameters":[],"reason":"Conflict"}"#,
            "{body}"
        );
    }
    let still: Value = serde_json::from_str(&call("GET", &group, None).body).unwrap();
    assert_eq!(still["ldapAuthType"], "GROUP");
    // The same fields, as the Atlas CLI sends them on every update: kept.
    let kept = call(
        "PATCH",
        &group,
        Some(r#"{"ldapAuthType":"GROUP","x509Type":"NONE"}"#),
    );
    assert_eq!(kept.status, 200, "{}", kept.body);
    let deleted = call("DELETE", &one, None);
    assert_eq!(deleted.status, 204);
    assert_eq!(call("GET", &one, None).status, 404);
    // Deleted again: Atlas's USER_NOT_FOUND (the Kubernetes operator's
    // "already deleted"); GET keeps USERNAME_NOT_FOUND.
    let again: Value = serde_json::from_str(&call("DELETE", &one, None).body).unwrap();
    assert_eq!(
        (again["error"].as_u64(), again["errorCode"].as_str()),
        (Some(404), Some("USER_NOT_FOUND"))
    );
    let got: Value = serde_json::from_str(&call("GET", &one, None).body).unwrap();
    assert_eq!(got["errorCode"], "USERNAME_NOT_FOUND");
}

#[test]
fn the_cli_creates_users_of_every_kind_as_the_atlas_cli_sends_them() {
    let home = TestHome::new(&registry(""));
    let json = |args: &[&str]| -> Value {
        let mut all = vec!["dbusers", "create", "atlasAdmin"];
        all.extend(args);
        all.extend(["-o", "json"]);
        serde_json::from_str(&home.ok(&all)).unwrap()
    };
    // The Atlas CLI puts OIDC users and LDAP groups in admin, AWS IAM and
    // LDAP users in $external.
    for (args, db, field, value) in [
        (
            vec![
                "--username",
                "d0123456789abcdef012345d/dev",
                "--oidcType",
                "IDP_GROUP",
            ],
            "admin",
            "oidcAuthType",
            "IDP_GROUP",
        ),
        (
            vec!["--username", "idp1/svc", "--oidcType", "USER"],
            "admin",
            "oidcAuthType",
            "USER",
        ),
        (
            vec![
                "--username",
                "arn:aws:iam::1:user/ci",
                "--awsIAMType",
                "USER",
            ],
            "$external",
            "awsIAMType",
            "USER",
        ),
        (
            vec!["--username", "CN=ops,DC=example", "--ldapType", "GROUP"],
            "admin",
            "ldapAuthType",
            "GROUP",
        ),
        (
            vec!["--username", "CN=ann,DC=example", "--ldapType", "USER"],
            "$external",
            "ldapAuthType",
            "USER",
        ),
    ] {
        let v = json(&args);
        assert_eq!(
            (v["databaseName"].as_str(), v[field].as_str()),
            (Some(db), Some(value)),
            "{args:?}"
        );
    }
    // What the Atlas CLI refuses, and what Atlas would.
    let refused = |args: &[&str], needle: &str| {
        let mut all = vec!["dbusers", "create", "atlasAdmin"];
        all.extend(args);
        let out = home.run(&all);
        assert!(!out.status.success(), "{args:?}");
        assert!(stderr(&out).contains(needle), "{args:?}: {}", stderr(&out));
    };
    refused(
        &[
            "--username",
            "x",
            "--oidcType",
            "USER",
            "--password",
            "longenough",
        ],
        "cannot be used with",
    );
    refused(
        &[
            "--username",
            "CN=x",
            "--ldapType",
            "USER",
            "--password",
            "longenough",
        ],
        "password",
    );
    refused(
        &["--username", "x", "--password", "short"],
        "at least 8 characters",
    );
    refused(&["--username", "ci", "--awsIAMType", "ROLE"], "ARN");
    refused(
        &["--username", "x", "--oidcType", "SOMETIMES"],
        "invalid value",
    );
    let text = std::fs::read_to_string(home.path().join("users.toml")).unwrap();
    assert!(
        !text.contains("longenough") && !text.contains("\"x\""),
        "{text}"
    );
}

/// Project API keys over HTTP, as `TestAtlasProjectAPIKeys` records them:
/// create 200 with the private key once, ORG_MEMBER first; the paged list
/// masks it and puts the project role first; DELETE 204. The new key
/// authenticates until it is removed.
#[test]
fn project_api_keys_over_http_as_atlas_records_them() {
    let org = "a0123456789abcdef012345a";
    let home = TestHome::new(&format!(
        "{}{API_KEYS}",
        registry(&format!("orgId = \"{org}\""))
    ));
    let server = Server::start(&home, &[]);
    let v2 = server.api("v2");
    let host = server.base.trim_start_matches("http://").to_string();
    let keys = format!("{v2}/groups/{GID}/apiKeys");
    let created = call(
        "POST",
        &keys,
        Some(r#"{"desc":"e2e-test","roles":["GROUP_READ_ONLY"]}"#),
    );
    assert_eq!(created.status, 200, "{}", created.body);
    let v: Value = serde_json::from_str(&created.body).unwrap();
    let (id, public, private) = (
        v["id"].as_str().unwrap().to_string(),
        v["publicKey"].as_str().unwrap().to_string(),
        v["privateKey"].as_str().unwrap().to_string(),
    );
    assert!(
        id.len() == 24 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{id}"
    );
    assert!(
        public.len() == 8 && public.bytes().all(|b| b.is_ascii_lowercase()),
        "{public}"
    );
    let tail = &private[private.len() - 12..];
    assert_eq!(
        created.body,
        format!(
            r#"{{"desc":"e2e-test","id":"{id}","links":[{{"href":"http://{host}/api/atlas/v2/orgs/{org}/apiKeys/{id}","rel":"self"}}],"privateKey":"{private}","publicKey":"{public}","roles":[{{"orgId":"{org}","roleName":"ORG_MEMBER"}},{{"groupId":"{GID}","roleName":"GROUP_READ_ONLY"}}]}}"#
        )
    );
    // The new key reads the project, and may not write.
    let as_new = |method: &str, url: &str| {
        curl(&[
            "--digest",
            "--user",
            &format!("{public}:{private}"),
            "-X",
            method,
            url,
        ])
    };
    assert_eq!(as_new("GET", &format!("{v2}/groups/{GID}")).status, 200);
    // Listing keys needs Project Read Only (the spec's); making them, the
    // owner.
    assert_eq!(as_new("GET", &keys).status, 200, "listing keys: read only");
    let posted = curl(&[
        "--digest",
        "--user",
        &format!("{public}:{private}"),
        "-X",
        "POST",
        "-H",
        "Content-Type: application/json",
        "--data",
        r#"{"desc":"x","roles":["GROUP_READ_ONLY"]}"#,
        &keys,
    ]);
    assert_eq!(posted.status, 401, "making keys is the owner's");
    // The list: the owner key and the new one, masked, project role first.
    let listed: Value = serde_json::from_str(&call("GET", &keys, None).body).unwrap();
    assert_eq!(
        listed["links"][0]["href"],
        format!("http://{host}/api/atlas/v2/groups/{GID}/apiKeys?pageNum=1&itemsPerPage=100")
    );
    let mine = listed["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == id.as_str())
        .unwrap()
        .clone();
    assert_eq!(mine["privateKey"], format!("********-****-****-{tail}"));
    assert_eq!(
        mine["roles"],
        serde_json::json!([
            {"groupId": GID, "roleName": "GROUP_READ_ONLY"},
            {"orgId": org, "roleName": "ORG_MEMBER"}
        ])
    );
    assert!(
        listed["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k["publicKey"] != "orgowner"),
        "an organization key is not the project's"
    );
    assert!(!listed.to_string().contains(&private), "masked in lists");
    // The CLI lists the same keys.
    let cli: Value =
        serde_json::from_str(&home.ok(&["projects", "apiKeys", "list", "-o", "json"])).unwrap();
    assert_eq!(
        cli["results"].to_string().replace("localhost:8080", &host),
        listed["results"].to_string()
    );
    // Refusals change nothing.
    let before = std::fs::read_to_string(home.path().join("users.toml")).unwrap();
    for (body, status, code) in [
        (
            r#"{"desc":"x","roles":["ORG_OWNER"]}"#,
            400,
            "INVALID_ATTRIBUTE",
        ),
        (r#"{"roles":["GROUP_OWNER"]}"#, 400, "MISSING_ATTRIBUTE"),
        (r#"{"desc":"x"}"#, 400, "MISSING_ATTRIBUTE"),
    ] {
        let reply = call("POST", &keys, Some(body));
        let e: Value = serde_json::from_str(&reply.body).unwrap();
        assert_eq!(
            (reply.status, e["errorCode"].as_str()),
            (status, Some(code)),
            "{body}"
        );
    }
    let missing = call("DELETE", &format!("{keys}/ffffffffffffffffffffffff"), None);
    assert_eq!(missing.status, 404, "{}", missing.body);
    assert_eq!(
        std::fs::read_to_string(home.path().join("users.toml")).unwrap(),
        before
    );
    // DELETE: 204, and the key no longer authenticates.
    let deleted = call("DELETE", &format!("{keys}/{id}"), None);
    assert_eq!((deleted.status, deleted.body.as_str()), (204, ""));
    assert_eq!(as_new("GET", &format!("{v2}/groups/{GID}")).status, 401);
    let text = std::fs::read_to_string(home.path().join("users.toml")).unwrap();
    assert!(!text.contains(&public), "{text}");
}
