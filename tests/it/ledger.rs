//! The ledger seen through `dbusers certs list`: the Atlas list body, what
//! it includes, and concurrent issuers on one home.

use std::collections::BTreeSet;

use crate::common::*;
use serde_json::Value;

/// `openssl`'s date (`Aug 10 02:06:35 2026 GMT`) as Atlas writes it.
fn atlas_time(pem: &std::path::Path, field: &str) -> String {
    let value = x509_field(pem, field);
    let value = value.split_once('=').unwrap().1;
    let out = std::process::Command::new("date")
        .args(["-u", "-d", value, "+%Y-%m-%dT%H:%M:%SZ"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn keys(v: &Value) -> Vec<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

#[test]
fn list_is_the_atlas_body() {
    let home = TestHome::new(&registry(""));
    let expired = home.issue(
        "alice",
        &[
            "--issued-at",
            "2020-01-31T10:00:00Z",
            "--monthsUntilExpiration",
            "1",
        ],
    );
    // Issued on the 15th of last month (no month-end clamping), valid 24
    // months: always in force when the test runs.
    let today = time::OffsetDateTime::now_utc().date();
    let (year, month) = match today.month() {
        time::Month::January => (today.year() - 1, 12),
        m => (today.year(), u8::from(m) - 1),
    };
    let issued = format!("{year}-{month:02}-15T14:56:22Z");
    let older = home.issue(
        "alice",
        &["--issued-at", &issued, "--monthsUntilExpiration", "24"],
    );
    let created = format!("{year}-{month:02}-15T13:56:22Z");
    let not_after = format!("{}-{month:02}-15T14:56:22Z", year + 2);
    let newer = home.issue("alice", &[]);
    home.issue("bob", &[]);

    let body = home.ok(&["dbusers", "certs", "list", "alice", "-o", "json"]);
    // As the Atlas CLI prints it: indented by two spaces, keys in Atlas's
    // order (checked on the raw text, not only the parse).
    let first = format!(
        "{{\n  \"links\": [\n    {{\n      \"href\": \"http://localhost:8080/api/atlas/v2/groups/{GID}/databaseUsers/alice/certs?includeCount=true&pageNum=1&itemsPerPage=100\",\n      \"rel\": \"self\"\n    }}\n  ],\n  \"results\": [\n    {{\n      \"_id\": {},\n      \"createdAt\": \"{created}\",\n      \"groupId\": \"{GID}\",\n      \"notAfter\": \"{not_after}\",\n      \"subject\": \"CN=alice\"\n    }},\n",
        serial_of(&older)
    );
    assert!(body.starts_with(&first), "{body}\n{first}");
    assert!(body.ends_with("  \"totalCount\": 2\n}\n"), "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["totalCount"], 2, "expired certificates are not listed");
    let newest = &v["results"][1];
    assert_eq!(newest["_id"], serial_of(&newer));
    assert_eq!(
        newest["createdAt"],
        atlas_time(&newer, "-startdate").as_str()
    );
    assert_eq!(newest["notAfter"], atlas_time(&newer, "-enddate").as_str());

    if let Some(reference) = shared_reference("atlas-list-user389.json") {
        let r: Value = serde_json::from_str(&std::fs::read_to_string(reference).unwrap()).unwrap();
        assert_eq!(keys(&v), keys(&r));
        assert_eq!(keys(&v["results"][0]), keys(&r["results"][0]));
        assert_eq!(keys(&v["links"][0]), keys(&r["links"][0]));
        let q = |v: &Value| {
            v["links"][0]["href"]
                .as_str()
                .unwrap()
                .split_once('?')
                .unwrap()
                .1
                .to_string()
        };
        assert_eq!(q(&v), q(&r));
    }

    // --all adds the expired one, oldest first; the table shows status.
    let all: Value = serde_json::from_str(
        &home.ok(&["dbusers", "certs", "list", "alice", "-o", "json", "--all"]),
    )
    .unwrap();
    let ids: Vec<u64> = all["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["_id"].as_u64().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![serial_of(&expired), serial_of(&older), serial_of(&newer)]
    );
    let table = home.ok(&["dbusers", "certs", "list", "alice", "--all"]);
    assert!(table.starts_with("ID "), "{table}");
    let row = table.lines().nth(1).unwrap();
    assert!(row.starts_with(&serial_of(&expired).to_string()), "{table}");
    assert!(
        row.ends_with("   expired   CN=alice   2020-01-31T09:00:00Z   2020-02-29T10:00:00Z"),
        "{table}"
    );
    let table = home.ok(&["dbusers", "certs", "list", "alice"]);
    assert_eq!(table.lines().count(), 3, "{table}");

    // Paging.
    let page: Value = serde_json::from_str(&home.ok(&[
        "dbusers", "certs", "list", "alice", "-o", "json", "--page", "2", "--limit", "1",
    ]))
    .unwrap();
    assert_eq!(page["results"].as_array().unwrap().len(), 1);
    assert_eq!(page["results"][0]["_id"], serial_of(&newer));
    assert_eq!(page["totalCount"], 2);
    assert!(
        page["links"][0]["href"]
            .as_str()
            .unwrap()
            .ends_with("?includeCount=true&pageNum=2&itemsPerPage=1")
    );
}

#[test]
fn listing_writes_nothing() {
    let home = TestHome::without_ca(&registry(""));
    let body = home.ok(&["dbusers", "certs", "list", "alice", "-o", "json"]);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["results"], Value::Array(vec![]));
    assert_eq!(v["totalCount"], 0);
    assert_eq!(home.files(), vec!["users.toml".to_string()]);
    let out = home.run(&["dbusers", "certs", "list", "nobody"]);
    assert!(!out.status.success());
    assert_eq!(
        stderr(&out),
        "Error: USERNAME_NOT_FOUND: No user with username nobody exists.\n"
    );
}

#[test]
fn users_list() {
    let home = TestHome::new(&registry(""));
    let v: Value = serde_json::from_str(&home.ok(&["dbusers", "list", "-o", "json"])).unwrap();
    assert_eq!(v["totalCount"], 4);
    let alice = &v["results"][0];
    assert_eq!(
        keys(alice),
        [
            "awsIAMType",
            "databaseName",
            "groupId",
            "labels",
            "ldapAuthType",
            "links",
            "oidcAuthType",
            "roles",
            "scopes",
            "username",
            "x509Type"
        ]
    );
    assert_eq!(alice["x509Type"], "MANAGED");
    assert_eq!(alice["databaseName"], "$external");
    assert_eq!(
        alice["roles"],
        serde_json::json!([{"databaseName": "app", "roleName": "readWrite"}])
    );
    assert_eq!(v["results"][3]["databaseName"], "admin");
    let table = home.ok(&["dbusers", "list"]);
    assert!(
        table.lines().nth(1).unwrap().starts_with("alice "),
        "{table}"
    );
}

#[test]
fn concurrent_processes_lose_nothing() {
    const N: usize = 8;
    let home = TestHome::without_ca(&registry(""));
    assert!(!home.ca_cert().exists());
    // All start on a home without a CA: they must also agree on one CA
    // (each certificate verifies against the one CA there is, and no
    // other was made and retired or left beside it).
    let serials = home.create_concurrently(N, &["--key-type", "ec-p256"]);
    assert_eq!(serials.len(), N);
    let ca_dir = home.ca_cert().parent().unwrap().to_path_buf();
    let made: Vec<String> = files_under(&ca_dir)
        .into_iter()
        .filter(|f| f != ".lock")
        .collect();
    assert_eq!(made, ["ca.cert.pem", "ca.key.pem"], "one CA, made once");
    let mut listed = BTreeSet::new();
    for user in ["alice", "bob"] {
        let v: Value =
            serde_json::from_str(&home.ok(&["dbusers", "certs", "list", user, "-o", "json"]))
                .unwrap();
        for r in v["results"].as_array().unwrap() {
            assert!(listed.insert(r["_id"].as_u64().unwrap()));
        }
    }
    assert_eq!(listed, serials, "every certificate issued is in the ledger");
}
