//! `GET /api/atlas/v2` (getSystemStatus), which clients call to check
//! their credentials, in the spec's shape.

use crate::common::*;

#[test]
fn the_system_status_shows_the_asking_key() {
    let home = TestHome::new(&format!("{}{API_KEYS}", registry("")));
    let server = Server::start(&home, &[]);
    let root = server.api("v2");
    let reply = digest_call("owner:owner-secret", "GET", &root, None);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        reply.header("content-type"),
        Some("application/vnd.atlas.2023-01-01+json;charset=utf-8")
    );
    // The spec's keys, in Atlas's alphabetical order.
    let body: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    let keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["apiKey", "appName", "build", "links", "throttling"]);
    assert!(
        reply
            .body
            .starts_with("{\"apiKey\":{\"accessList\":[],\"id\":"),
        "{}",
        reply.body
    );
    assert_eq!(body["appName"], "MongoDB Atlas");
    assert_eq!(body["throttling"], false);
    let build = body["build"].as_str().unwrap();
    assert!(build.len() == 40 && build.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(body["apiKey"]["publicKey"], "owner");
    assert_eq!(
        body["apiKey"]["roles"],
        serde_json::json!([{"groupId": GID, "roleName": "GROUP_OWNER"}])
    );
    assert_eq!(body["links"][0]["href"], root);
    // Credentials are what it checks: without them, Atlas's challenge.
    assert_eq!(curl(&[&root]).status, 401);
}
