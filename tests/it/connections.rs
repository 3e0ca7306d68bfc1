//! Keep-alive connections and request bodies: a response given before the
//! body was read (a Digest challenge, `invalid_client`) first reads the
//! body the client sends anyway (bounded in size and time), so that the
//! client sees the answer and may retry on the same connection; a body
//! not read (too large, held back by `Expect: 100-continue`) gets
//! `Connection: close`, so that real clients retry on a new connection
//! instead of sending into a closed one.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use crate::common::*;

/// Sends `head`, then `body` `delay` later, on one connection; returns
/// the response head, lower-cased, and whether the server then closed.
fn delayed_body(server: &Server, head: &str, body: &str, delay: Duration) -> (String, bool) {
    let addr = server.base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(1)))
        .unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    std::thread::sleep(delay);
    // The server may already have answered and closed; that is the point.
    let _ = stream.write_all(body.as_bytes());
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    let closed = loop {
        match stream.read(&mut buf) {
            Ok(0) => break true,
            Ok(n) => received.extend_from_slice(&buf[..n]),
            // Still open after the response: a kept-alive connection.
            Err(_) => break false,
        }
    };
    let text = String::from_utf8_lossy(&received).to_lowercase();
    let head = text
        .split("\r\n\r\n")
        .next()
        .unwrap_or_default()
        .to_string();
    (head, closed)
}

#[test]
fn a_refusal_before_the_body_says_connection_close() {
    let home = TestHome::new(&format!("{}{API_KEYS}", registry("")));
    // Idle keep-alive connections last the client timeout: longer than
    // the reads below wait.
    let server = Server::start(&home, &["--client-timeout", "10"]);
    let body = r#"{"monthsUntilExpiration":3}"#;
    let post = |path: &str, extra: &str| {
        format!(
            "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n{extra}\r\n",
            body.len()
        )
    };
    let certs = format!("/api/atlas/v2/groups/{GID}/databaseUsers/alice/certs");
    let delay = Duration::from_millis(300);

    // The Digest challenge: the body the client sends anyway is read
    // first (it is small and on time), so the connection stays open for
    // the retry with credentials.
    let (head, closed) = delayed_body(&server, &post(&certs, ""), body, delay);
    assert!(head.starts_with("http/1.1 401"), "{head}");
    assert!(!head.contains("connection: close"), "{head}");
    assert!(!closed, "kept alive after reading the body");

    // OAuth's invalid_client, the same.
    let basic = "Authorization: Basic bWRiX3NhX2lkX3g6bm8=\r\n";
    let (head, closed) = delayed_body(&server, &post("/api/oauth/token", basic), body, delay);
    assert!(head.starts_with("http/1.1 401"), "{head}");
    assert!(!closed);

    // A client that waits for 100 Continue is answered without its body
    // being asked for: then the connection closes, and says so.
    let expect = "Expect: 100-continue\r\n";
    let (head, closed) = delayed_body(&server, &post(&certs, expect), body, delay);
    assert!(head.starts_with("http/1.1 401"), "{head}");
    assert!(head.contains("\r\nconnection: close"), "{head}");
    assert!(closed, "the server closes after saying so");

    // A body declared over the limit is never read.
    let huge =
        format!("POST {certs} HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000000\r\n\r\n");
    let (head, closed) = delayed_body(&server, &huge, body, delay);
    assert!(head.starts_with("http/1.1 401"), "{head}");
    assert!(head.contains("\r\nconnection: close"), "{head}");
    assert!(closed);

    // No body, nothing unread: the connection stays open for the next
    // request (the read times out rather than seeing the end).
    let get = format!("GET {certs} HTTP/1.1\r\nHost: localhost\r\n\r\n");
    let (head, closed) = delayed_body(&server, &get, "", Duration::ZERO);
    assert!(head.starts_with("http/1.1 401"), "{head}");
    assert!(!head.contains("connection: close"), "{head}");
    assert!(!closed, "kept alive");
}

#[test]
fn digest_clients_with_bodies_never_see_a_dropped_connection() {
    let home = TestHome::new(&format!("{}{API_KEYS}", registry("")));
    let python = python_with(&["requests", "httpx"]);
    let server = Server::start(&home, &[]);
    // Each request is challenged first, its body sent in a second write
    // (http.client and httpx both do), then retried with credentials.
    let script = r#"
import sys, requests, httpx
from requests.auth import HTTPDigestAuth
url, n = sys.argv[1], int(sys.argv[2])
# Over http.client's 2000 bytes, so that the body goes in its own write.
body = '{"monthsUntilExpiration": 3' + ' ' * 3500 + '}'
headers = {"Content-Type": "application/json",
           "Accept": "application/vnd.atlas.2023-01-01+json"}
failed = 0
with requests.Session() as s:
    for _ in range(n):
        try:
            r = s.post(url, data=body, headers=headers, auth=HTTPDigestAuth("owner", "owner-secret"))
            failed += r.status_code != 201
        except requests.RequestException:
            failed += 1
with httpx.Client(auth=httpx.DigestAuth("owner", "owner-secret")) as c:
    for _ in range(n):
        try:
            failed += c.post(url, content=body, headers=headers).status_code != 201
        except httpx.HTTPError:
            failed += 1
print(failed)
"#;
    let url = format!(
        "{}/groups/{GID}/databaseUsers/alice/certs",
        server.api("v2")
    );
    let out = script_ok(Command::new(&python).args(["-c", script, &url, "150"]));
    assert_eq!(out.trim(), "0", "failed requests out of 300");
}
