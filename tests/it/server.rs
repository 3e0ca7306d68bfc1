//! `atlas-ca serve` driven by real clients: curl (the exact command from
//! MongoDB's documentation), Python `requests`, and hand-made Digest headers.

use std::process::Command;

use crate::common::*;
use serde_json::Value;

pub(crate) const OWNER: &str = "owner:owner-secret";
const SELF_MANAGED_GID: &str = "aaaaaaaaaaaaaaaaaaaaaaaa";
const LIMITED_GID: &str = "bbbbbbbbbbbbbbbbbbbbbbbb";

pub(crate) fn server_registry() -> String {
    format!(
        r#"{}
[[projects.databaseUsers]]
username = "tab	name"
x509Type = "MANAGED"

[[projects]]
id = "{SELF_MANAGED_GID}"
selfManagedX509 = true
[[projects.databaseUsers]]
username = "alice"
x509Type = "MANAGED"

[[projects]]
id = "{LIMITED_GID}"
maxCertsPerUser = 1
[[projects.databaseUsers]]
username = "alice"
x509Type = "MANAGED"
{API_KEYS}"#,
        registry("")
    )
}

pub(crate) fn certs_url(server: &Server, version: &str, gid: &str, user: &str) -> String {
    format!(
        "{}/groups/{gid}/databaseUsers/{user}/certs",
        server.api(version)
    )
}

pub(crate) fn create(url: &str, user: &str, body: &str) -> Reply {
    curl(&[
        "--request",
        "POST",
        "--user",
        user,
        "--header",
        "Content-Type: application/json",
        "--digest",
        url,
        "--data",
        body,
    ])
}

pub(crate) fn get(url: &str, user: &str) -> Reply {
    curl(&["--user", user, "--digest", url])
}

pub(crate) fn serial_of_pem(home: &TestHome, pem: &str) -> u64 {
    let path = home.path().join(format!("serial-{}.pem", unique()));
    std::fs::write(&path, pem).unwrap();
    serial_of(&path)
}

#[test]
fn curl_from_the_docs_and_the_cli_share_one_ledger() {
    let home = TestHome::new(&server_registry());
    let server = Server::start(&home, &[]);
    let (base, gid) = (&server.base, GID);
    // The documented command, unchanged but for the base URL.
    let out = Command::new("curl")
        .args([
            "--request",
            "POST",
            "--user",
            "owner:owner-secret",
            "--header",
            "Content-Type: application/json",
            "--digest",
            &format!("{base}/api/atlas/v1.0/groups/{gid}/databaseUsers/alice/certs?pretty=true"),
            "--data",
            r#"{"monthsUntilExpiration":12}"#,
            "--silent",
            "--write-out",
            "\n%{http_code} %{content_type}",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let (pem, meta) = text.rsplit_once('\n').unwrap();
    assert_eq!(meta, "201 application/json");
    assert!(
        pem.starts_with("-----BEGIN CERTIFICATE-----\n")
            && pem.ends_with("-----END PRIVATE KEY-----\n")
    );
    let file = home.path().join("http.pem");
    std::fs::write(&file, pem).unwrap();
    let ca = home.path().join("ca.pem");
    std::fs::write(&ca, home.ok(&["ca", "cert", "--projectId", GID])).unwrap();
    openssl_ok(&[
        "verify",
        "-purpose",
        "sslclient",
        "-CAfile",
        ca.to_str().unwrap(),
        file.to_str().unwrap(),
    ]);
    let http_serial = serial_of_pem(&home, pem);

    // v2 answers with Atlas's versioned media type.
    let reply = create(&certs_url(&server, "v2", GID, "bob"), OWNER, "");
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(
        reply.header("content-type"),
        Some("application/vnd.atlas.2023-01-01+json;charset=utf-8")
    );
    assert_eq!(reply.header("ratelimit-limit"), Some("1200"));
    assert!(
        reply
            .header("ratelimit-remaining")
            .unwrap()
            .parse::<u32>()
            .unwrap()
            < 1200
    );

    // The CLI sees the HTTP certificate, and the server the CLI's.
    let cli_serial = serial_of(&home.issue("alice", &["--projectId", GID]));
    let cli_list = home.list_json("alice", &[]);
    let reply = get(
        &format!(
            "{}?includeCount=true",
            certs_url(&server, "v2", GID, "alice")
        ),
        OWNER,
    );
    assert_eq!(reply.status, 200);
    let http_list: Value = serde_json::from_str(&reply.body).unwrap();
    for list in [&cli_list, &http_list] {
        let ids: Vec<u64> = list["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["_id"].as_u64().unwrap())
            .collect();
        assert_eq!(ids, vec![http_serial, cli_serial]);
    }
    assert_eq!(cli_list["results"], http_list["results"]);
    assert_eq!(
        http_list["links"][0]["href"],
        format!(
            "{base}/api/atlas/v2/groups/{GID}/databaseUsers/alice/certs?includeCount=true&pageNum=1&itemsPerPage=100"
        )
    );
    assert!(server.log().contains(&format!(
        "POST /api/atlas/v1.0/groups/{GID}/databaseUsers/alice/certs 201 "
    )));
}

#[test]
fn authentication_and_roles() {
    let home = TestHome::new(&server_registry());
    let server = Server::start(&home, &[]);
    let url = certs_url(&server, "v2", GID, "alice");

    // No credentials: Atlas's challenge, header and body.
    let reply = curl(&[&url]);
    assert_eq!(reply.status, 401);
    let challenge = reply.header("www-authenticate").unwrap();
    let nonce = reply.nonce();
    assert_eq!(
        challenge,
        format!(
            r#"Digest realm="MMS Public API", domain="", nonce="{nonce}", algorithm=MD5, qop="auth", stale=false"#
        )
    );
    assert_eq!(
        reply.body,
        "{\n  \"error\" : 401,\n  \"reason\" : \"Unauthorized\",\n  \"detail\" : \"You are not authorized for this resource.\",\n  \"errorCode\" : \"UNEXPECTED_ERROR\"\n}"
    );
    assert_eq!(reply.header("content-type"), Some("application/json"));

    // Wrong password, unknown key: challenged again.
    assert_eq!(get(&url, "owner:wrong").status, 401);
    assert_eq!(get(&url, "nobody:owner-secret").status, 401);

    // Roles.
    let compact = |code: &str, detail: &str| {
        format!(
            r#"{{"detail":"{detail}","error":401,"errorCode":"{code}","parameters":[],"reason":"Unauthorized"}}"#
        )
    };
    let reply = create(&url, "reader:reader-secret", "");
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (
            401,
            compact(
                "USER_UNAUTHORIZED",
                "Current user is not authorized to perform this action."
            )
            .as_str()
        )
    );
    assert_eq!(get(&url, "reader:reader-secret").status, 200);
    let reply = get(&url, "outsider:outsider-secret");
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (
            401,
            compact(
                "NOT_IN_GROUP",
                "The current user is not in the group, or the group does not exist."
            )
            .as_str()
        )
    );
    assert_eq!(get(&url, "orgowner:orgowner-secret").status, 200);
    // Certificates need Project Owner (the spec's x-rolesRequirements for
    // createDatabaseUserCert); Database Access Admin is not enough.
    let reply = create(&url, "dbadmin:dbadmin-secret", "");
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (
            401,
            compact(
                "USER_UNAUTHORIZED",
                "Current user is not authorized to perform this action."
            )
            .as_str()
        )
    );

    // A hand-made MD5 response: accepted once per nc (a nonce's expiry is
    // unit-tested in server/digest.rs with injected times).
    let uri = format!("/api/atlas/v2/groups/{GID}/databaseUsers/alice/certs");
    let header = |nonce: &str, nc: &str| {
        let value = digest_authorization("reader", "reader-secret", "GET", &uri, nonce, nc);
        format!("Authorization: {value}")
    };
    let fresh = curl(&[&url]);
    let nonce = fresh.nonce();
    assert_eq!(curl(&["-H", &header(&nonce, "00000001"), &url]).status, 200);
    assert_eq!(
        curl(&["-H", &header(&nonce, "00000002"), &url]).status,
        200,
        "nonce reuse with a rising nc"
    );
    let replay = curl(&["-H", &header(&nonce, "00000002"), &url]);
    assert_eq!(replay.status, 401, "a replayed nc is refused");
    assert!(
        replay
            .header("www-authenticate")
            .unwrap()
            .ends_with("stale=false")
    );
    assert_eq!(curl(&["-H", &header(&nonce, "00000003"), &url]).status, 200);
    // A nonce this server never issued (say, before a restart): stale too.
    let foreign = "0".repeat(64);
    let stale = curl(&["-H", &header(&foreign, "00000001"), &url]);
    assert!(
        stale
            .header("www-authenticate")
            .unwrap()
            .ends_with("stale=true")
    );
}

#[test]
fn every_error_over_http() {
    let home = TestHome::new(&server_registry());
    let server = Server::start(&home, &[]);
    let url = |gid: &str, user: &str| certs_url(&server, "v1.0", gid, user);
    let alice = url(GID, "alice");
    let check = |reply: Reply, status: u16, code: &str, detail: &str, params: &[&str]| {
        let want = serde_json::json!({
            "detail": detail, "error": status, "errorCode": code, "parameters": params,
            "reason": common_reason(status),
        });
        assert_eq!(reply.status, status, "{}", reply.body);
        assert_eq!(reply.header("content-type"), Some("application/json"));
        assert!(
            !reply.body.contains(": ") && !reply.body.contains('\n'),
            "compact: {}",
            reply.body
        );
        assert_eq!(serde_json::from_str::<Value>(&reply.body).unwrap(), want);
    };
    let org = "orgowner:orgowner-secret";
    check(
        create(&url("xyz", "alice"), OWNER, ""),
        404,
        "INVALID_GROUP_ID",
        "An invalid group ID xyz was specified.",
        &["xyz"],
    );
    check(
        create(&url("111111111111111111111111", "alice"), org, ""),
        404,
        "GROUP_NOT_FOUND",
        "No group with ID 111111111111111111111111 exists.",
        &["111111111111111111111111"],
    );
    check(
        create(&url(GID, "nobody"), OWNER, ""),
        404,
        "USERNAME_NOT_FOUND",
        "No user with username nobody exists.",
        &["nobody"],
    );
    check(
        create(&url(GID, "carol"), OWNER, ""),
        400,
        "USER_NOT_MANAGED_X509",
        "The user does not have managed mode X509 enabled.",
        &[],
    );
    check(
        create(&url(SELF_MANAGED_GID, "alice"), org, ""),
        400,
        "CANNOT_GENERATE_CERT_IF_ADVANCED_X509",
        "The user cannot create managed X.509 certs if advanced mode is on.",
        &[],
    );
    check(
        create(&url(GID, "tab%09name"), OWNER, ""),
        400,
        "ATLAS_MANAGED_X509_NAME_INVALID",
        "The username tab\tname is invalid for Atlas-managed X.509 user auth. These usernames must take the form CN=<username> with no additional OIDs.",
        &["tab\tname"],
    );
    check(
        create(&alice, OWNER, r#"{"monthsUntilExpiration":25}"#),
        400,
        "CERT_EXPIRY_CANNOT_EXCEED_TWO_YEARS",
        "Atlas-generated X.509 certificates have a maximum expiration of 24 months.",
        &[],
    );
    check(
        create(&alice, OWNER, r#"{"monthsUntilExpiration":0}"#),
        400,
        "INVALID_ATTRIBUTE",
        "Invalid attribute monthsUntilExpiration specified.",
        &["monthsUntilExpiration"],
    );
    check(
        create(&alice, OWNER, r#"{"monthsUntilExpiration":"#),
        400,
        "MALFORMED_JSON",
        "Received JSON is malformed.",
        &[],
    );
    check(
        create(&alice, OWNER, "[12]"),
        400,
        "INVALID_JSON",
        "Received JSON does not match expected format.",
        &[],
    );
    check(
        create(&alice, OWNER, r#"{"monthsUntilExpiration":"12"}"#),
        400,
        "INVALID_JSON_ATTRIBUTE",
        "Received JSON for the monthsUntilExpiration attribute does not match expected format.",
        &["monthsUntilExpiration"],
    );
    check(
        create(&alice, OWNER, r#"{"months":12}"#),
        400,
        "INVALID_ATTRIBUTE",
        "Invalid attribute months specified.",
        &["months"],
    );
    let big = format!(
        r#"{{"monthsUntilExpiration":12,"pad":"{}"}}"#,
        "x".repeat(70 * 1024)
    );
    check(
        create(&alice, OWNER, &big),
        413,
        "PAYLOAD_TOO_LARGE",
        "The request body exceeds the limit of 65536 bytes.",
        &["65536"],
    );
    let nowhere = format!("{}/api/atlas/v1.0/nowhere", server.base);
    check(
        curl(&[&nowhere]),
        404,
        "RESOURCE_NOT_FOUND",
        "Cannot find resource /api/atlas/v1.0/nowhere.",
        &["/api/atlas/v1.0/nowhere"],
    );
    let path = format!("/api/atlas/v1.0/groups/{GID}/databaseUsers/alice/certs");
    check(
        curl(&["-X", "DELETE", &alice]),
        405,
        "METHOD_NOT_ALLOWED",
        &format!("Method DELETE is not allowed for resource {path}."),
        &["DELETE", &path],
    );
    check(
        get(&format!("{alice}?itemsPerPage=501"), OWNER),
        400,
        "INVALID_QUERY_PARAMETER",
        "Invalid query parameter itemsPerPage specified.",
        &["itemsPerPage"],
    );

    // The per-user limit: one certificate, then the error.
    let limited = url(LIMITED_GID, "alice");
    assert_eq!(create(&limited, org, "").status, 201);
    check(
        create(&limited, org, ""),
        400,
        "ATLAS_GENERATED_CERTS_LIMIT_EXCEEDED",
        "The limit on generated certificates per user has been reached.",
        &[],
    );
    // Nothing else was issued by all those errors.
    let v = home.list_json("alice", &["--all"]);
    assert_eq!(v["totalCount"], 0);
}

fn common_reason(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Payload Too Large",
        _ => "?",
    }
}

#[test]
fn pretty_envelope_users_and_reload() {
    let home = TestHome::new(&server_registry());
    let server = Server::start(&home, &[]);
    let users = format!("{}/groups/{GID}/databaseUsers", server.api("v2"));
    let reply = get(
        &format!("{users}?envelope=true&itemsPerPage=2&pageNum=2&includeCount=false"),
        OWNER,
    );
    assert_eq!(reply.status, 200);
    let v: Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(v["status"], 200);
    assert!(v.get("totalCount").is_none());
    assert_eq!(v["results"][0]["username"], "carol");
    assert!(
        v["links"][0]["href"]
            .as_str()
            .unwrap()
            .ends_with("?envelope=true&includeCount=false&pageNum=2&itemsPerPage=2"),
        "the request's own parameters are kept, in their order"
    );
    // Users 3 and 4 of 4 (with the tab user: 5): a next page exists.
    assert_eq!(v["links"][1]["rel"], "next");
    assert!(
        v["links"][1]["href"]
            .as_str()
            .unwrap()
            .ends_with("?envelope=true&includeCount=false&itemsPerPage=2&pageNum=3")
    );
    assert_eq!(v["links"][2]["rel"], "previous");

    let reply = get(&format!("{users}/admin/dave?pretty=true"), OWNER);
    assert!(
        reply
            .body
            .starts_with("{\n  \"awsIAMType\" : \"NONE\",\n  \"databaseName\" : \"admin\","),
        "{}",
        reply.body
    );
    assert!(reply.body.contains("\"labels\" : [ ],"));
    let reply = get(&format!("{users}/$external/dave?envelope=true"), OWNER);
    assert_eq!(reply.status, 404);
    assert_eq!(
        reply.body,
        r#"{"content":{"detail":"No user with username dave exists.","error":404,"errorCode":"USERNAME_NOT_FOUND","parameters":["dave"],"reason":"Not Found"},"status":404}"#
    );
    let reply = create(
        &format!("{}?envelope=true", certs_url(&server, "v2", GID, "bob")),
        OWNER,
        "",
    );
    assert_eq!(reply.status, 201);
    let v: Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(v["status"], 201);
    assert!(
        v["content"]
            .as_str()
            .unwrap()
            .starts_with("-----BEGIN CERTIFICATE-----\n")
    );

    // A registry edit takes effect without a restart...
    let erin = certs_url(&server, "v2", GID, "erin");
    assert_eq!(get(&erin, OWNER).status, 404);
    let registry = home.path().join("users.toml");
    let text = std::fs::read_to_string(&registry).unwrap();
    let with_erin = text.replace(
        "[[projects.databaseUsers]]\nusername = \"bob\"",
        "[[projects.databaseUsers]]\nusername = \"erin\"\nx509Type = \"MANAGED\"\n\n[[projects.databaseUsers]]\nusername = \"bob\"",
    );
    assert_ne!(with_erin, text);
    std::fs::write(&registry, &with_erin).unwrap();
    assert_eq!(get(&erin, OWNER).status, 200);
    // ...and a broken one leaves the last good one in force.
    std::fs::write(&registry, format!("{with_erin}\nbroken = [")).unwrap();
    assert_eq!(get(&erin, OWNER).status, 200);
    assert!(
        server.log().contains("keeping the last good registry"),
        "{}",
        server.log()
    );
}
