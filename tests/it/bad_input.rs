//! Bad input of every kind: malformed registries (each pointing at its file,
//! line and column, creating nothing), hostile usernames, and HTTP abuse
//! that the server must answer and survive.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::common::*;

const HEAD: &str = "[[projects]]\nid = \"5efda6aea3f2ed2e7dd6ce05\"\n";
const USER: &str = "[[projects.databaseUsers]]\nusername = \"alice\"\nx509Type = \"MANAGED\"\n";

/// (registry text, line, column, part of the message).
fn malformed() -> Vec<(String, usize, usize, &'static str)> {
    let h = HEAD;
    let u = USER;
    let many: String = (0..101)
        .map(|i| format!("[[projects.databaseUsers]]\nusername = \"u{i}\"\n"))
        .collect();
    vec![
        ("[[projects]\n".into(), 1, 12, "unclosed array table"),
        (
            "[[projects]]\nid = \n".into(),
            2,
            6,
            "string values must be quoted",
        ),
        (
            "[[projects]]\nid = \"5efda6aea3f2ed2e7dd6ce05\" junk\n".into(),
            2,
            33,
            "unexpected key or value",
        ),
        (
            format!("{h}id = \"5efda6aea3f2ed2e7dd6ce05\"\n"),
            3,
            1,
            "duplicate key",
        ),
        ("project = []\n".into(), 1, 1, "unknown field `project`"),
        (format!("{h}nmae = \"x\"\n"), 3, 1, "unknown field `nmae`"),
        (
            format!("{h}[[projects.databaseUsers]]\nusername = \"a\"\nx509type = \"MANAGED\"\n"),
            5,
            1,
            "unknown field `x509type`",
        ),
        (
            "[[projects]]\nid = 5\n".into(),
            2,
            6,
            "invalid type: integer `5`, expected a string",
        ),
        (
            format!("{h}selfManagedX509 = \"yes\"\n"),
            3,
            19,
            "invalid type: string \"yes\", expected a boolean",
        ),
        (
            format!("{h}maxCertsPerUser = -1\n"),
            3,
            19,
            "invalid value: integer `-1`",
        ),
        (
            format!("{h}maxCertsPerUser = 0\n"),
            3,
            19,
            "maxCertsPerUser must be at least 1",
        ),
        (
            format!("{h}maxCertsPerUser = 1.5\n"),
            3,
            19,
            "invalid type: floating point `1.5`",
        ),
        (
            format!("{h}databaseUsers = \"alice\"\n"),
            3,
            17,
            "invalid type: string \"alice\", expected a sequence",
        ),
        (u.to_string(), 1, 3, "expected a sequence"),
        (
            format!("{h}[[projects.databaseUsers]]\nusername = \"a\"\nroles = \"readWrite\"\n"),
            5,
            9,
            "expected a sequence",
        ),
        (
            format!(
                "{h}[[projects.databaseUsers]]\nusername = \"a\"\nroles = [{{ roleName = \"read\" }}]\n"
            ),
            5,
            10,
            "missing field `databaseName`",
        ),
        (
            format!(
                "{h}[[projects.databaseUsers]]\nusername = \"a\"\nroles = [{{ roleName = \"read\", db = \"x\" }}]\n"
            ),
            5,
            31,
            "unknown field `db`",
        ),
        (
            format!("{h}[[projects.databaseUsers]]\nusername = \"a\"\nx509Type = \"managed\"\n"),
            5,
            12,
            "unknown variant `managed`",
        ),
        (
            format!("{h}[[projects.databaseUsers]]\nusername = \"a\"\nx509Type = 1\n"),
            5,
            12,
            "invalid type: integer `1`, expected a string",
        ),
        (
            "[[projects]]\nname = \"x\"\n".into(),
            1,
            1,
            "missing field `id`",
        ),
        (
            format!("{h}[[projects.databaseUsers]]\nx509Type = \"MANAGED\"\n"),
            3,
            1,
            "missing field `username`",
        ),
        (
            format!("{h}[[projects.databaseUsers]]\nusername = \"\"\n"),
            4,
            12,
            "username is empty",
        ),
        (format!("{h}{h}"), 4, 6, "duplicate project id"),
        (format!("{h}{u}{u}"), 7, 12, "duplicate username \"alice\""),
        (
            "[[projects]]\nid = \"xyz\"\n".into(),
            2,
            6,
            "must be 24 lowercase hexadecimal",
        ),
        (
            "[[projects]]\nid = \"5EFDA6AEA3F2ED2E7DD6CE05\"\n".into(),
            2,
            6,
            "must be 24 lowercase hexadecimal",
        ),
        (
            "[[projects]]\nid = \"../../../../etc/passwd\"\n".into(),
            2,
            6,
            "must be 24 lowercase hexadecimal",
        ),
        (
            "[[projects]]\nid = \"zzzzzzzzzzzzzzzzzzzzzzzz\"\n".into(),
            2,
            6,
            "must be 24 lowercase hexadecimal",
        ),
        (
            format!(
                "{h}[[projects.databaseUsers]]\nusername = \"a\"\nx509Type = \"MANAGED\"\ndatabaseName = \"admin\"\n"
            ),
            6,
            16,
            "must be \"$external\"",
        ),
        (
            format!("{h}[[projects.databaseUsers]]\nusername = \"a\"\ndatabaseName = \"test\"\n"),
            5,
            16,
            "must be \"admin\" or \"$external\"",
        ),
        (format!("{h}{many}"), 203, 1, "more than 100 database users"),
        (
            format!("[[projects]]\nid = \"{}\"\n", "a".repeat(1 << 20)),
            2,
            6,
            "must be 24 lowercase hexadecimal",
        ),
        (
            format!(
                "{h}[[apiKeys]]\npublicKey = \"p\"\nprivateKey = \"q\"\nroles = [{{ roleName = \"GROUP_OWNER\" }}]\n"
            ),
            6,
            10,
            "a project role needs a groupId",
        ),
        (
            format!(
                "{h}[[apiKeys]]\npublicKey = \"p\"\nprivateKey = \"q\"\n[[apiKeys]]\npublicKey = \"p\"\nprivateKey = \"r\"\n"
            ),
            7,
            13,
            "duplicate publicKey",
        ),
        (
            format!("{h}name = \"a\u{0}b\"\n"),
            3,
            10,
            "invalid basic string",
        ),
    ]
}

#[test]
fn every_malformed_registry_points_at_itself_and_creates_nothing() {
    let cases = malformed();
    assert!(cases.len() >= 30);
    let mut wrong = Vec::new();
    for (text, line, column, needle) in cases {
        let home = TestHome::without_ca(&text);
        let out = home.create("alice", &["--projectId", GID]);
        let err = stderr(&out);
        let path = home.path().join("users.toml");
        let want = format!("Error: {}:{line}:{column}: ", path.display());
        assert_eq!(out.status.code(), Some(1), "{err}");
        if !err.starts_with(&want) || !err.contains(needle) {
            wrong.push(format!(
                "want {line}:{column} {needle}\n got {}",
                &err[..err.len().min(300)]
            ));
        }
        assert!(
            err.len() < 2000,
            "the message stays short even for enormous input"
        );
        assert_eq!(home.files(), vec!["users.toml".to_string()], "{needle}");
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn invalid_utf8_registry() {
    let home = TestHome::new("");
    let path = home.path().join("users.toml");
    std::fs::write(
        &path,
        b"[[projects]]\nid = \"5efda6aea3f2ed2e7dd6ce05\"\nname = \"caf\xe9\"\n",
    )
    .unwrap();
    let out = home.run(&["dbusers", "list"]);
    assert_eq!(
        stderr(&out),
        format!(
            "Error: {}:3:12: the file is not valid UTF-8\n  (home: {}, chosen by --home)\n",
            path.display(),
            home.path().display()
        )
    );
}

#[test]
fn hostile_usernames_are_escaped_or_refused() {
    let accepted = [
        "quote\"d",
        "back\\slash",
        "=equals=",
        "+plus,comma;semi<lt>gt",
        "# leading hash",
        "trailing space ",
        "ａｌｉｃｅ", // fullwidth look-alike of alice
        "e\u{301}",   // decomposed é
        "\u{e9}",     // composed é: a different user
        "emoji 🙂",
    ];
    let long = "x".repeat(1024);
    let refused = [
        "nul\u{0}byte",
        "new\nline",
        "tab\there",
        "del\u{7f}",
        "c1\u{85}",
        "bidi\u{202e}txt",
        "zero\u{200b}width",
        "bom\u{feff}",
    ];
    let home = TestHome::new(&with_users(
        accepted
            .iter()
            .chain(refused.iter())
            .chain([&long.as_str()]),
    ));
    for name in accepted.iter().chain([&long.as_str()]) {
        let pem = home.issue(name, &["--key-type", "ec-p256"]);
        let p = pem.to_str().unwrap();
        openssl_ok(&["verify", "-CAfile", home.ca_cert().to_str().unwrap(), p]);
        let subject = rfc2253_subject_of(&pem);
        let v: serde_json::Value =
            serde_json::from_str(&home.ok(&["dbusers", "certs", "list", name, "-o", "json"]))
                .unwrap();
        assert_eq!(v["results"][0]["subject"], subject.as_str(), "{name:?}");
        // The CN holds exactly the name: one RDN, one attribute.
        let cn = openssl_ok(&[
            "x509",
            "-in",
            p,
            "-noout",
            "-subject",
            "-nameopt",
            "multiline,utf8,-esc_msb",
        ]);
        assert_eq!(cn.lines().count(), 2, "{name:?}: {cn}");
    }
    // The kit creates each user under the name mongod derives, which for
    // these is OpenSSL's RFC 2253 form with bytes from 0x80 up as \XX.
    let kit_home = TestHome::new(&with_users(accepted.iter().chain([&long.as_str()])));
    let kit = kit_home.path().join("kit");
    kit_home.ok(&[
        "local-kit",
        "--out",
        kit.to_str().unwrap(),
        "--key-type",
        "ec-p256",
    ]);
    let js = std::fs::read_to_string(kit.join("create-users.js")).unwrap();
    let users: Vec<_> = std::fs::read_dir(kit.join("users")).unwrap().collect();
    assert_eq!(
        users.len(),
        accepted.len() + 3,
        "alice, bob and the long one too"
    );
    for user in users {
        let pem = user.unwrap().path();
        let literal = serde_json::to_string(&mongod_name_of(&pem)).unwrap();
        assert!(
            js.contains(&format!("user: {literal}")),
            "{literal} in {js}"
        );
    }
    for name in refused {
        // NUL cannot be passed as an argument at all; the others reach the check.
        if name.contains('\0') {
            continue;
        }
        let out = home.create(name, &[]);
        assert_eq!(out.status.code(), Some(1), "{name:?}");
        assert!(
            stderr(&out).starts_with("Error: ATLAS_MANAGED_X509_NAME_INVALID: "),
            "{name:?}: {}",
            stderr(&out)
        );
    }
}

/// The test registry with a MANAGED user for each name.
fn with_users<'a>(names: impl Iterator<Item = &'a &'a str>) -> String {
    let mut text = registry("");
    for name in names {
        let quoted = toml::Value::String(name.to_string()).to_string();
        text.push_str(&format!(
            "\n[[projects.databaseUsers]]\nusername = {quoted}\nx509Type = \"MANAGED\"\n"
        ));
    }
    text
}

fn raw(base: &str, request: &[u8]) -> String {
    let addr = base.strip_prefix("http://").unwrap();
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let _ = s.write_all(request);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn http_abuse_is_answered_and_survived() {
    let home = TestHome::new(&format!("{}{API_KEYS}", registry("")));
    let mut server = Server::start(&home, &["--client-timeout", "1"]);
    let path = format!("/api/atlas/v2/groups/{GID}/databaseUsers");
    let url = format!("{}{path}", server.base);
    let alive = || {
        assert_eq!(
            curl(&["--digest", "--user", "reader:reader-secret", &url]).status,
            200
        )
    };

    // Repeated and malformed Digest parameters, wrong realm and uri: 401.
    let nonce = curl(&[&url]).nonce();
    for header in [
        format!(
            "Digest username=\"reader\", username=\"owner\", realm=\"MMS Public API\", nonce=\"{nonce}\", uri=\"{path}\", response=\"0\", qop=auth, nc=00000001, cnonce=\"x\""
        ),
        format!(
            "Digest username=\"reader\", realm=\"Other\", nonce=\"{nonce}\", uri=\"{path}\", response=\"0\", qop=auth, nc=00000001, cnonce=\"x\""
        ),
        format!(
            "Digest username=\"reader\", realm=\"MMS Public API\", nonce=\"{nonce}\", uri=\"/elsewhere\", response=\"0\", qop=auth, nc=zz, cnonce=\"x\""
        ),
        "Digest username=\"unterminated".to_string(),
        "Digest ,,,,=,=\"".to_string(),
        format!("Digest {}", "a=b, ".repeat(2000)),
        "Basic cmVhZGVyOnJlYWRlci1zZWNyZXQ=".to_string(),
    ] {
        let r = curl(&["-H", &format!("Authorization: {header}"), &url]);
        assert_eq!(r.status, 401, "{header:.80}");
    }
    alive();

    // Header floods: too many or too large headers get an HTTP error, not a crash.
    let mut flood = format!("GET {path} HTTP/1.1\r\nHost: x\r\n");
    for i in 0..500 {
        flood.push_str(&format!("X-Flood-{i}: {}\r\n", "y".repeat(100)));
    }
    flood.push_str("\r\n");
    let reply = raw(&server.base, flood.as_bytes());
    assert!(
        reply.is_empty() || reply.starts_with("HTTP/1.1 431") || reply.starts_with("HTTP/1.1 400"),
        "{reply:.200}"
    );
    let huge = format!(
        "GET {path} HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "z".repeat(1 << 20)
    );
    let reply = raw(&server.base, huge.as_bytes());
    assert!(
        reply.is_empty() || reply.starts_with("HTTP/1.1 431") || reply.starts_with("HTTP/1.1 400"),
        "{reply:.200}"
    );
    // Garbage instead of HTTP.
    let reply = raw(&server.base, b"\x00\x01\x02 not http at all\r\n\r\n");
    assert!(
        reply.is_empty() || reply.starts_with("HTTP/1.1 400"),
        "{reply:.200}"
    );
    alive();

    // Slow clients: many connections that send half a request and stall
    // do not keep others from being served, and are cut off after the
    // client timeout (1 s here).
    let addr = server.base.strip_prefix("http://").unwrap().to_string();
    let stalled: Vec<TcpStream> = (0..64)
        .map(|_| {
            let mut s = TcpStream::connect(&addr).unwrap();
            s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nX-Slow: ").as_bytes())
                .unwrap();
            s
        })
        .collect();
    alive();
    for mut s in stalled {
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut buf = Vec::new();
        let read = s.read_to_end(&mut buf);
        assert!(read.is_ok(), "a stalled client was not cut off: {read:?}");
    }
    // An authenticated create whose body never arrives in full: 408.
    let nonce = curl(&[&url]).nonce();
    let uri = format!("{path}/alice/certs");
    let authorization =
        digest_authorization("owner", "owner-secret", "POST", &uri, &nonce, "00000001");
    let request = format!(
        "POST {uri} HTTP/1.1\r\nHost: x\r\n{ACCEPT_V2}\r\nContent-Length: 1000\r\nAuthorization: {authorization}\r\n\r\n{{\"monthsUntilExpiration\""
    );
    let reply = raw(&server.base, request.as_bytes());
    assert!(reply.starts_with("HTTP/1.1 408"), "{reply:.300}");
    assert!(
        reply.contains(r#""errorCode":"REQUEST_TIMEOUT""#),
        "{reply:.300}"
    );
    alive();
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "the server is still running"
    );
}
