//! Atlas fidelity: paging links, `X-Error-Code`,
//! version dates, read-only `links` in a create body, and Digest clients
//! that sign the path alone.

use crate::common::*;
use serde_json::Value;

const OWNER: &str = "owner:owner-secret";

fn start() -> (TestHome, Server) {
    let home = TestHome::new(&format!("{}{API_KEYS}", registry("")));
    let server = Server::start(&home, &["--key-pool", "0"]);
    (home, server)
}

fn get(url: &str, extra: &[&str]) -> Reply {
    let mut args = vec!["--digest", "--user", OWNER];
    args.extend(extra);
    args.push(url);
    curl(&args)
}

fn links(reply: &Reply) -> Vec<(String, String)> {
    let v: Value = serde_json::from_str(&reply.body).unwrap();
    v["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["rel"].as_str().unwrap().to_string(),
                l["href"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn paging_links_keep_the_request_and_point_onwards() {
    let (_home, server) = start();
    let users = format!("{}/groups/{GID}/databaseUsers", server.api("v2"));
    // Four users, three a page: page 1 has a next, page 2 only a previous.
    let first = links(&get(
        &format!("{users}?includeCount=true&itemsPerPage=3"),
        &[],
    ));
    assert_eq!(
        first,
        [
            (
                "self".to_string(),
                format!("{users}?includeCount=true&pageNum=1&itemsPerPage=3")
            ),
            (
                "next".to_string(),
                format!("{users}?includeCount=true&itemsPerPage=3&pageNum=2")
            ),
        ]
    );
    let last = links(&get(&format!("{users}?itemsPerPage=3&pageNum=2"), &[]));
    assert_eq!(
        last,
        [
            (
                "self".to_string(),
                format!("{users}?pageNum=2&itemsPerPage=3")
            ),
            (
                "previous".to_string(),
                format!("{users}?itemsPerPage=3&pageNum=1")
            ),
        ]
    );
    let pretty = get(&format!("{users}?pretty=true"), &[]);
    assert!(
        pretty.body.contains(&format!(
            "\"href\" : \"{users}?pretty=true&pageNum=1&itemsPerPage=100\""
        )),
        "{}",
        pretty.body
    );
    let all = links(&get(&format!("{users}?itemsPerPage=4"), &[]));
    assert_eq!(all.len(), 1, "no next on the only page: {all:?}");
    // Users carry their own self links, in the list and alone.
    let list: Value = serde_json::from_str(&get(&users, &[]).body).unwrap();
    assert_eq!(
        list["results"][0]["links"][0]["href"],
        format!("{users}/$external/alice")
    );
}

#[test]
fn every_error_carries_x_error_code_and_version_dates_are_checked() {
    let (_home, server) = start();
    let v2 = server.api("v2");
    let certs = format!("{v2}/groups/{GID}/databaseUsers/alice/certs");
    let post = |url: &str, body: &str, extra: &[&str]| {
        let mut args = vec![
            "-X",
            "POST",
            "-H",
            "Content-Type: application/json",
            "--data",
            body,
        ];
        args.extend(extra);
        get(url, &args)
    };
    // The Digest challenge carries no X-Error-Code (none of Atlas's
    // recorded 401s does), and no rate headers.
    let challenge = curl(&[&certs]);
    assert_eq!(challenge.status, 401);
    assert_eq!(challenge.header("x-error-code"), None);
    assert_eq!(challenge.header("ratelimit-limit"), None);
    let cases: Vec<(Reply, u16, &str)> = vec![
        (
            get(
                &format!("{v2}/groups/111111111111111111111111/databaseUsers"),
                &[],
            ),
            401,
            "NOT_IN_GROUP",
        ),
        (post(&certs, "{", &[]), 400, "MALFORMED_JSON"),
        (
            post(&certs, r#"{"monthsUntilExpiration":25}"#, &[]),
            400,
            "CERT_EXPIRY_CANNOT_EXCEED_TWO_YEARS",
        ),
        (
            get(&format!("{v2}/nowhere"), &[]),
            404,
            "RESOURCE_NOT_FOUND",
        ),
        (
            get(&format!("{v2}/groups/{GID}"), &["-X", "PUT"]),
            405,
            "METHOD_NOT_ALLOWED",
        ),
        (
            post(
                &format!("{v2}/groups/{GID}/databaseUsers"),
                &format!(
                    r#"{{"username":"alice","x509Type":"MANAGED","databaseName":"$external","groupId":"{GID}","roles":[]}}"#
                ),
                &[],
            ),
            409,
            "USER_ALREADY_EXISTS",
        ),
        // Before the first version, or not a date.
        (
            get(
                &certs,
                &["-H", "Accept: application/vnd.atlas.2022-12-31+json"],
            ),
            406,
            "INVALID_VERSION_DATE",
        ),
        (
            get(
                &certs,
                &["-H", "Accept: application/vnd.atlas.2023-13-01+json"],
            ),
            406,
            "INVALID_VERSION_DATE",
        ),
    ];
    for (reply, status, code) in cases {
        assert_eq!(reply.status, status, "{code}: {}", reply.body);
        assert_eq!(reply.header("x-error-code"), Some(code), "{code}");
        if status == 406 {
            let v: Value = serde_json::from_str(&reply.body).unwrap();
            assert_eq!(v["detail"], "Invalid accept header or version date.");
        }
    }
    // A v2 request that names no version is refused (after the Digest
    // challenge: curl's first request still gets it).
    for accept in ["application/json", "*/*"] {
        let reply = get(&certs, &["-H", &format!("Accept: {accept}")]);
        assert_eq!(reply.status, 406, "{accept}: {}", reply.body);
        assert_eq!(reply.header("x-error-code"), Some("INVALID_VERSION_DATE"));
    }
    let bare = curl(&["-H", "Accept:", &certs]);
    assert_eq!(bare.status, 401, "no credentials: the challenge first");
    let bare = get(&certs, &["-H", "Accept:"]);
    assert_eq!(bare.status, 406, "no Accept at all: {}", bare.body);
    for accept in [
        "application/vnd.atlas.2023-01-01+json",
        "application/vnd.atlas.2023-01-01+json;charset=utf-8, application/json",
        // Later dates get the newest version not later than them, as the
        // Atlas docs' own curl samples ask.
        "application/vnd.atlas.2025-03-12+json",
        "application/vnd.atlas.2024-08-05+json",
    ] {
        let reply = get(&certs, &["-H", &format!("Accept: {accept}")]);
        assert_eq!(reply.status, 200, "{accept}: {}", reply.body);
        assert_eq!(reply.header("x-error-code"), None);
        assert_eq!(
            reply.header("content-type"),
            Some("application/vnd.atlas.2023-01-01+json;charset=utf-8"),
            "{accept}"
        );
    }
    // v1.0 has no version dates.
    let v1 = get(
        &format!(
            "{}/groups/{GID}/databaseUsers/alice/certs",
            server.api("v1.0")
        ),
        &["-H", "Accept: application/vnd.atlas.2024-08-05+json"],
    );
    assert_eq!(v1.status, 200);
}

#[test]
fn read_only_links_in_a_create_body_are_ignored() {
    let (_home, server) = start();
    let certs = format!(
        "{}/groups/{GID}/databaseUsers/alice/certs",
        server.api("v2")
    );
    let reply = get(
        &certs,
        &[
            "-X",
            "POST",
            "-H",
            "Content-Type: application/json",
            "--data",
            r#"{"monthsUntilExpiration":2,"links":[{"href":"x","rel":"self"}],"_id":1}"#,
        ],
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
    // The body is Atlas's: the certificate, then its key; the months asked
    // for were taken, the echoed fields were not.
    let blocks: Vec<&str> = reply
        .body
        .lines()
        .filter(|l| l.starts_with("-----BEGIN "))
        .collect();
    assert_eq!(
        blocks,
        ["-----BEGIN CERTIFICATE-----", "-----BEGIN PRIVATE KEY-----"],
        "{}",
        reply.body
    );
    let pem = _home.path().join("links.pem");
    std::fs::write(&pem, &reply.body).unwrap();
    openssl_ok(&["verify", "-CAfile", s(&_home.ca_cert()), s(&pem)]);
    assert!(
        x509_field(&pem, "-subject").ends_with("CN=alice")
            || x509_field(&pem, "-subject").ends_with("CN = alice")
    );
    let valid_after = |days: u32| {
        openssl(&[
            "x509",
            "-in",
            s(&pem),
            "-noout",
            "-checkend",
            &(days * 86_400).to_string(),
        ])
        .0
    };
    assert!(valid_after(55), "two months, not less");
    assert!(!valid_after(65), "two months, not the default three");
    assert_ne!(serial_of(&pem), 1, "the body's _id is not taken");
}

#[test]
fn digest_signed_over_the_path_alone_is_accepted_with_a_query() {
    let (_home, server) = start();
    let path = format!("/api/atlas/v2/groups/{GID}/databaseUsers/alice/certs");
    let url = format!("{}{path}?pretty=true", server.base);
    let nonce = curl(&["-X", "POST", &url]).nonce();
    let post = |uri: &str, nc: &str| {
        let auth = digest_authorization("owner", "owner-secret", "POST", uri, &nonce, nc);
        curl(&[
            "-X",
            "POST",
            "-H",
            &format!("Authorization: {auth}"),
            "-H",
            "Content-Type: application/json",
            "--data",
            "{}",
            &url,
        ])
    };
    let created = post(&path, "00000001");
    assert_eq!(created.status, 201, "{}", created.body);
    assert!(created.body.starts_with("-----BEGIN CERTIFICATE-----"));
    // The full path and query works as before; any other uri does not.
    assert_eq!(post(&format!("{path}?pretty=true"), "00000002").status, 201);
    let other = format!("/api/atlas/v2/groups/{GID}/databaseUsers/bob/certs");
    assert_eq!(post(&other, "00000003").status, 401);
    assert_eq!(
        post(&format!("{path}?pretty=false"), "00000004").status,
        401
    );
    // Without a query, the path is the whole uri: a path with a query is not it.
    let bare = format!("{}{path}", server.base);
    let nonce = curl(&["-X", "POST", &bare]).nonce();
    let auth = digest_authorization(
        "owner",
        "owner-secret",
        "POST",
        &format!("{path}?x=1"),
        &nonce,
        "00000001",
    );
    let refused = curl(&["-X", "POST", "-H", &format!("Authorization: {auth}"), &bare]);
    assert_eq!(refused.status, 401);
}

#[test]
fn rate_windows_are_counted_as_atlas_counts_them() {
    let (_home, server) = start();
    let v2 = server.api("v2");
    let users = format!("{v2}/groups/{GID}/databaseUsers");
    let remaining = |r: &Reply| r.header("ratelimit-remaining").map(str::to_string);
    // One count for every databaseUsers method and path (recorded
    // `TestDBUserWithFlags`).
    assert_eq!(remaining(&get(&users, &[])).as_deref(), Some("9999"));
    let alice = format!("{users}/$external/alice");
    assert_eq!(remaining(&get(&alice, &[])).as_deref(), Some("9998"));
    let created = get(
        &users,
        &[
            "-X",
            "POST",
            "-H",
            "Content-Type: application/json",
            "--data",
            &format!(
                r#"{{"databaseName":"$external","groupId":"{GID}","username":"erin","x509Type":"MANAGED","roles":[{{"databaseName":"app","roleName":"read"}}]}}"#
            ),
        ],
    );
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(remaining(&created).as_deref(), Some("9997"));
    // The project id in another case is the same project, the same count.
    let upper = format!("{v2}/groups/{}/databaseUsers", GID.to_ascii_uppercase());
    assert_eq!(remaining(&get(&upper, &[])).as_deref(), Some("9996"));
    // Certificate create and list share theirs, with their own allowance.
    let certs = get(&format!("{users}/alice/certs"), &[]);
    assert_eq!(certs.header("ratelimit-limit"), Some("1200"));
    assert_eq!(remaining(&certs).as_deref(), Some("1199"));
    let made = get(&format!("{users}/erin/certs"), &["-X", "POST"]);
    assert_eq!(made.status, 201, "{}", made.body);
    assert_eq!(remaining(&made).as_deref(), Some("1198"));
    assert_eq!(remaining(&get(&users, &[])).as_deref(), Some("9995"));
    // Elsewhere one count per resource and project (recorded
    // `TestAtlasProjects`): `/groups` and `/groups/{id}` are two.
    assert_eq!(
        remaining(&get(&format!("{v2}/groups"), &[])).as_deref(),
        Some("1199")
    );
    let project = format!("{v2}/groups/{GID}");
    assert_eq!(remaining(&get(&project, &[])).as_deref(), Some("1199"));
    // A project that does not exist is refused before the resource: no
    // rate headers (an Organization Owner's key sees every project).
    let missing = curl(&[
        "--digest",
        "--user",
        "orgowner:orgowner-secret",
        &format!("{v2}/groups/aaaaaaaaaaaaaaaaaaaaaaaa/databaseUsers"),
    ]);
    assert_eq!(missing.status, 404, "{}", missing.body);
    assert_eq!(missing.header("x-error-code"), Some("GROUP_NOT_FOUND"));
    assert_eq!(missing.header("ratelimit-limit"), None);
}
