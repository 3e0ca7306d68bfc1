//! Certificates over time: a kit's CRL lasts as long as its longest-lived
//! certificate (mongod refuses every client once its CRLFile has
//! expired), `ca crl` makes a CRL of any lifetime, and a kit says when it
//! ends and how to renew it. Dates are read with the openssl CLI.

use std::path::Path;

use crate::common::*;

/// An `openssl` date field (`-enddate`, `-nextupdate`) of `file` as ISO
/// 8601 UTC (`2027-12-07 05:08:17Z`), which sorts as time does.
fn date(kind: &str, file: &Path, field: &str) -> String {
    let out = openssl_ok(&[
        kind,
        "-in",
        s(file),
        "-noout",
        field,
        "-dateopt",
        "iso_8601",
    ]);
    out.trim()
        .split_once('=')
        .map(|(_, d)| d.to_string())
        .unwrap_or_else(|| panic!("no date in {out:?}"))
}

/// Every certificate file of a kit directory (its PEM files but the CA and
/// the CRL).
fn kit_certificates(kit: &Path) -> Vec<std::path::PathBuf> {
    files_under(kit)
        .into_iter()
        .filter(|f| f.ends_with(".pem") && f != "ca.pem" && f != "crl.pem")
        .map(|f| kit.join(f))
        .collect()
}

#[test]
fn a_kit_s_crl_outlives_every_certificate_in_it() {
    let home = TestHome::new(&registry(""));
    for (name, extra) in [
        ("single", &["--monthsUntilExpiration", "18"][..]),
        (
            "rs",
            &["--replset", "rs0", "--members", "2", "--port", "28017"][..],
        ),
    ] {
        let kit = home.path().join(name);
        let mut args = vec!["local-kit", "--out", s(&kit), "--key-type", "ec-p256"];
        args.extend(extra);
        let run = home.run(&args);
        assert!(run.status.success(), "{}", stderr(&run));
        let crl = kit.join("crl.pem");
        let next = date("crl", &crl, "-nextupdate");
        let certs = kit_certificates(&kit);
        assert!(certs.len() >= 3, "{certs:?}");
        let ends: Vec<String> = certs.iter().map(|c| date("x509", c, "-enddate")).collect();
        for (cert, end) in certs.iter().zip(&ends) {
            assert!(
                next >= *end,
                "{name}: crl.pem's nextUpdate {next} is before {} ends ({end})",
                cert.display()
            );
        }
        // mongod's check: the CRL verifies with the kit's CA and is current.
        openssl_ok(&[
            "crl",
            "-in",
            s(&crl),
            "-CAfile",
            s(&kit.join("ca.pem")),
            "-noout",
        ]);
        // It says when the first certificate ends, and how to renew.
        let first = ends.iter().min().unwrap();
        let said = stderr(&run);
        let day = &first[..10];
        assert!(
            said.contains("the kit's first certificate ends ") && said.contains(day),
            "{said}"
        );
        let readme = std::fs::read_to_string(kit.join("README.txt")).unwrap();
        assert!(
            readme.contains("Renewing: the first certificate of this kit ends "),
            "{readme}"
        );
        assert!(readme.contains(day), "{readme}");
        assert!(readme.contains("ca crl --projectId"), "{readme}");
        assert!(!readme.contains("30 days"), "{readme}");
    }
}

#[test]
fn ca_crl_takes_any_lifetime_and_refuses_none() {
    let home = TestHome::new(&registry(""));
    let crl = home.path().join("crl.pem");
    home.ok(&["ca", "crl", "--next-update", "400", "--out", s(&crl)]);
    let next = date("crl", &crl, "-nextupdate");
    let last = date("crl", &crl, "-lastupdate");
    let year = |d: &str| d[..4].parse::<i32>().unwrap();
    // 400 days on: the next year, or the one after for a late start.
    assert!(year(&next) - year(&last) >= 1, "{last} .. {next}");
    openssl_ok(&[
        "crl",
        "-in",
        s(&crl),
        "-CAfile",
        s(&home.ca_cert()),
        "-noout",
    ]);
    // The default stays 30 days.
    let default = home.path().join("default.pem");
    home.ok(&["ca", "crl", "--out", s(&default)]);
    assert!(date("crl", &default, "-nextupdate") < next);
    for bad in ["0", "3651", "-1", "x"] {
        let run = home.run(&["ca", "crl", "--next-update", bad]);
        assert_eq!(run.status.code(), Some(2), "{bad}: {}", stderr(&run));
    }
}

#[test]
fn the_ledger_lists_every_kind_soonest_end_first() {
    let home = TestHome::new(&registry(""));
    let user = home.issue("alice", &["--monthsUntilExpiration", "2"]);
    let expired = home.issue(
        "bob",
        &[
            "--issued-at",
            "2024-01-01T00:00:00Z",
            "--monthsUntilExpiration",
            "1",
        ],
    );
    let revoked = home.issue("bob", &[]);
    home.revoke("bob", serial_of(&revoked));
    let server = home.path().join("server.pem");
    home.ok(&[
        "server-cert",
        "--host",
        "db.test",
        "--key-type",
        "ec-p256",
        "--out",
        s(&server),
    ]);
    let kit = home.path().join("kit");
    home.ok(&[
        "local-kit",
        "--out",
        s(&kit),
        "--replset",
        "rs0",
        "--members",
        "1",
        "--key-type",
        "ec-p256",
    ]);
    let member = kit.join("members/mongod-0.pem");

    let json: serde_json::Value =
        serde_json::from_str(&home.ok(&["ledger", "--expiring", "90", "-o", "json"])).unwrap();
    let results = json["results"].as_array().unwrap();
    let ends: Vec<&str> = results
        .iter()
        .map(|r| r["notAfter"].as_str().unwrap())
        .collect();
    let mut sorted = ends.clone();
    sorted.sort();
    assert_eq!(ends, sorted, "soonest end first");
    // Each file's certificate is listed with its kind, serial (as openssl
    // prints it), notAfter and state.
    let find = |pem: &Path| {
        let serial = x509_field(pem, "-serial")
            .trim_start_matches("serial=")
            .to_lowercase();
        results
            .iter()
            .find(|r| r["serial"] == serial.as_str())
            .unwrap_or_else(|| panic!("{serial} not listed: {json}"))
            .clone()
    };
    for (pem, kind, state) in [
        (&user, "user", "expiring"),
        (&expired, "user", "expired"),
        (&revoked, "user", "revoked"),
        (&server, "server", "live"),
        (&member, "member", "live"),
    ] {
        let entry = find(pem);
        assert_eq!(entry["kind"], kind, "{entry}");
        assert_eq!(entry["state"], state, "{entry}");
        let end = date("x509", pem, "-enddate").replace(' ', "T");
        assert_eq!(entry["notAfter"], end.as_str(), "{entry}");
    }
    assert!(find(&expired)["daysLeft"].as_i64().unwrap() < 0);
    let summary = &json["summary"];
    assert_eq!(summary["total"].as_u64(), Some(results.len() as u64));
    assert_eq!(summary["expired"], 1);
    assert_eq!(summary["revoked"], 1);
    // The table ends with the same counts; one project's view is the same here.
    let table = home.ok(&["ledger", "--expiring", "90", "--projectId", GID]);
    assert!(table.starts_with("NOT AFTER "), "{table}");
    assert!(
        table.trim_end().ends_with(&format!(
            "{} certificates: {} live, {} expiring within 90 days, 1 expired, 0 not yet valid, 1 revoked",
            results.len(),
            summary["live"],
            summary["expiring"]
        )),
        "{table}"
    );
    assert_eq!(table.lines().count(), results.len() + 2, "{table}");
    // Another project's view is empty, and says so.
    let other = home.ok(&["ledger", "--projectId", OTHER_GID]);
    assert!(other.contains("0 certificates: "), "{other}");
}

#[test]
fn pki_status_knows_what_ends_on_purpose() {
    let home = TestHome::without_ca("");
    let out = home.path().join("x509gen");
    let file = crate::pki_apply::example();
    let applied = crate::pki_apply::apply(&home, &file, &out, &[]);
    assert!(applied.status.success(), "{}", stderr(&applied));
    let expired = out.join("expired.pem");
    let expired_end = date("x509", &expired, "-enddate").replace(' ', "T");

    // Without the file: drivers' expired.pem is an error, named.
    let bare = home.run(&["pki", "status", s(&out), "--within", "7"]);
    assert_eq!(bare.status.code(), Some(1), "{}", stderr(&bare));
    let table = String::from_utf8_lossy(&bare.stdout);
    let line = table.lines().find(|l| l.contains("expired.pem")).unwrap();
    assert!(
        line.starts_with(&expired_end) && line.contains(" expired "),
        "{table}"
    );
    assert!(
        stderr(&bare).contains("1 certificate or CRL in "),
        "{}",
        stderr(&bare)
    );

    // With it: intended, and nothing else needs attention within a week.
    let run = home.run(&[
        "pki",
        "status",
        s(&out),
        "--file",
        s(&file),
        "--within",
        "7",
        "-o",
        "json",
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let json: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    let results = json["results"].as_array().unwrap();
    let entry = results
        .iter()
        .find(|r| r["files"][0] == "expired.pem")
        .unwrap();
    assert_eq!(entry["state"], "expired");
    assert_eq!(entry["intended"], true);
    assert_eq!(entry["notAfter"], expired_end.as_str());
    assert_eq!(json["needingAttention"], 0);
    // Every certificate and CRL is there once, soonest end first, each as
    // openssl reads it.
    let ends: Vec<&str> = results
        .iter()
        .map(|r| r["notAfter"].as_str().unwrap())
        .collect();
    assert!(ends.windows(2).all(|w| w[0] <= w[1]), "{ends:?}");
    let crl = results.iter().find(|r| r["files"][0] == "crl.pem").unwrap();
    assert_eq!(crl["kind"], "crl");
    assert_eq!(
        crl["notAfter"],
        date("crl", &out.join("crl.pem"), "-nextupdate")
            .replace(' ', "T")
            .as_str()
    );
    // A 30-day window catches the OCSP sets' 30-day CRLs: they end soon.
    let month = home.run(&["pki", "status", s(&out), "--file", s(&file)]);
    assert_eq!(month.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&month.stdout).contains("ocsp/rsa/revoked.pem"));
}

#[test]
fn pki_status_reads_a_kit_and_refuses_what_is_not_a_directory() {
    let home = TestHome::new(&registry(""));
    let kit = home.path().join("kit");
    home.ok(&["local-kit", "--out", s(&kit), "--key-type", "ec-p256"]);
    let json: serde_json::Value =
        serde_json::from_str(&home.ok(&["pki", "status", s(&kit), "-o", "json"])).unwrap();
    let files: Vec<&str> = json["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["files"][0].as_str().unwrap())
        .collect();
    for f in ["ca.pem", "crl.pem", "server.pem", "users/alice.pem"] {
        assert!(files.contains(&f), "{f}: {files:?}");
    }
    let missing = home.run(&["pki", "status", s(&home.path().join("nowhere"))]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(stderr(&missing).contains("nowhere"), "{}", stderr(&missing));
}

/// The private key blocks of a PEM file, as written.
fn key_blocks(file: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    let mut blocks = Vec::new();
    let mut rest = text.as_str();
    while let Some(start) = rest.find("-----BEGIN ") {
        let end = rest[start..].find("-----END ").unwrap() + start;
        let stop = rest[end..].find('\n').map_or(rest.len(), |n| end + n);
        let block = &rest[start..stop];
        if block.contains("PRIVATE KEY-----") {
            blocks.push(block.to_string());
        }
        rest = &rest[stop..];
    }
    blocks
}

#[test]
fn renew_keeps_every_key_and_makes_every_certificate_anew() {
    let home = TestHome::without_ca("");
    let out = home.path().join("x509gen");
    let file = crate::pki_apply::example();
    let first = crate::pki_apply::apply(&home, &file, &out, &[]);
    assert!(first.status.success(), "{}", stderr(&first));
    let before: Vec<(String, Vec<String>, Option<u64>)> = files_under(&out)
        .into_iter()
        .filter(|f| !f.ends_with(".pfx"))
        .map(|f| {
            let path = out.join(&f);
            (f, key_blocks(&path), try_serial_of(&path))
        })
        .collect();
    assert!(before.iter().filter(|(_, k, _)| !k.is_empty()).count() >= 20);

    let renewed = crate::pki_apply::apply(&home, &file, &out, &["--renew"]);
    assert!(renewed.status.success(), "{}", stderr(&renewed));
    for (f, keys, serial) in &before {
        let path = out.join(f);
        assert_eq!(
            &key_blocks(&path),
            keys,
            "{f}: its key blocks are kept byte for byte"
        );
        if let Some(serial) = serial {
            assert_ne!(
                try_serial_of(&path),
                Some(*serial),
                "{f}: a new certificate"
            );
        }
    }
    // The encrypted ones still open with the file's passwords, and match
    // their certificates (openssl's own check).
    let pkcs8 = out.join("client-pkcs8-encrypted.pem");
    let modulus = |args: &[&str]| openssl_ok(args).trim().to_string();
    assert_eq!(
        modulus(&[
            "rsa",
            "-in",
            s(&pkcs8),
            "-passin",
            "pass:password",
            "-noout",
            "-modulus"
        ]),
        modulus(&["x509", "-in", s(&pkcs8), "-noout", "-modulus"])
    );

    // A table that now asks for its key encrypted gets it so, the same key.
    let changed = home.path().join("changed.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    let table = "name = \"client_roles\"\n";
    assert!(text.contains(table), "the example has a client_roles table");
    std::fs::write(
        &changed,
        text.replace(table, &format!("{table}key_password = \"now-secret\"\n")),
    )
    .unwrap();
    let common = out.join("extra/client_roles.pem");
    let before_key = openssl_ok(&["pkey", "-in", s(&common), "-pubout"]);
    let renewed = crate::pki_apply::apply(&home, &changed, &out, &["--renew"]);
    assert!(renewed.status.success(), "{}", stderr(&renewed));
    assert!(key_blocks(&common)[0].starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    let after_key = openssl_ok(&[
        "pkey",
        "-in",
        s(&common),
        "-passin",
        "pass:now-secret",
        "-pubout",
    ]);
    assert_eq!(before_key, after_key, "the same key, encrypted now");
    let check = home.run(&["pki", "check", s(&changed), "--against", s(&out)]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );

    // A key that cannot be read refuses the run, and nothing changes.
    std::fs::write(out.join("server.pem"), "not a key").unwrap();
    let unchanged = snapshot(&out);
    let refused = crate::pki_apply::apply(&home, &changed, &out, &["--renew"]);
    assert_eq!(refused.status.code(), Some(1));
    let said = stderr(&refused);
    assert!(
        said.contains("--renew keeps the directory's keys") && said.contains("server.pem"),
        "{said}"
    );
    assert_eq!(
        unchanged,
        snapshot(&out),
        "a refused renewal writes nothing"
    );
}

#[test]
fn pki_check_against_names_every_file_that_is_not_what_the_file_makes() {
    let home = TestHome::without_ca("");
    let out = home.path().join("x509gen");
    let file = crate::pki_apply::example();
    let applied = crate::pki_apply::apply(&home, &file, &out, &[]);
    assert!(applied.status.success(), "{}", stderr(&applied));
    let check = || home.run(&["pki", "check", s(&file), "--against", s(&out)]);
    let clean = check();
    assert!(
        clean.status.success(),
        "{}",
        String::from_utf8_lossy(&clean.stdout)
    );
    assert!(String::from_utf8_lossy(&clean.stdout).contains("holds what"));

    // Another certificate in a file, a file gone, a stray one, a key
    // decrypted: each named, exit 1.
    std::fs::copy(out.join("client.pem"), out.join("server.pem")).unwrap();
    std::fs::remove_file(out.join("wild.pem")).unwrap();
    std::fs::write(out.join("stray.pem"), "").unwrap();
    let encrypted = out.join("client-pkcs8-encrypted.pem");
    let cert = openssl_ok(&["x509", "-in", s(&encrypted)]);
    let plain = openssl_ok(&["pkey", "-in", s(&encrypted), "-passin", "pass:password"]);
    std::fs::write(&encrypted, format!("{cert}{plain}")).unwrap();
    let run = check();
    assert_eq!(run.status.code(), Some(1));
    let said = String::from_utf8_lossy(&run.stdout).to_string();
    for line in [
        "server.pem: subject",
        "wild.pem: missing",
        "stray.pem: extra",
        "client-pkcs8-encrypted.pem: key encoding PRIVATE KEY, not ENCRYPTED PRIVATE KEY",
    ] {
        assert!(said.lines().any(|l| l == line), "{line:?} in {said}");
    }
    assert!(stderr(&run).contains("differences"), "{}", stderr(&run));
}
