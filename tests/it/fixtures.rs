//! `atlas-ca fixtures`: batch issuance, checked certificate by certificate
//! with the `openssl` CLI against its manifest and the ledger.

use std::collections::BTreeSet;
use std::path::Path;

use crate::common::*;
use serde_json::Value;

fn manifest(dir: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(dir.join("manifest.json")).unwrap();
    serde_json::from_str::<Value>(&text)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn fixtures_match_their_manifest_and_the_ledger() {
    use std::os::unix::fs::PermissionsExt;
    let home = TestHome::new(&registry(""));
    let out = home.path().join("fx");
    let fixtures = |extra: &[&str]| {
        let args = [
            "fixtures",
            "--out",
            out.to_str().unwrap(),
            "--count-per-user",
            "3",
            "--key-type",
            "ec-p256",
        ];
        home.run(&[&args[..], extra].concat())
    };
    let run = fixtures(&[]);
    assert!(run.status.success(), "{}", stderr(&run));
    // Not a terminal: no progress bar, one summary line.
    let err = stderr(&run);
    assert!(
        err.lines()
            .last()
            .unwrap()
            .starts_with("atlas-ca: issued 6 certificates"),
        "{err}"
    );
    assert!(!err.contains('\r'), "{err:?}");

    let entries = manifest(&out);
    let files: Vec<&str> = entries
        .iter()
        .map(|e| e["file"].as_str().unwrap())
        .collect();
    assert_eq!(
        files,
        [
            "alice-1.pem",
            "alice-2.pem",
            "alice-3.pem",
            "bob-1.pem",
            "bob-2.pem",
            "bob-3.pem"
        ]
    );
    let ca = out.join("ca.pem");
    assert_eq!(
        std::fs::read(&ca).unwrap(),
        std::fs::read(home.ca_cert()).unwrap()
    );
    let mut serials = BTreeSet::new();
    for e in &entries {
        let pem = out.join(e["file"].as_str().unwrap());
        assert_eq!(
            std::fs::metadata(&pem).unwrap().permissions().mode() & 0o777,
            0o600
        );
        openssl_ok(&[
            "verify",
            "-CAfile",
            ca.to_str().unwrap(),
            pem.to_str().unwrap(),
        ]);
        let serial = serial_of(&pem);
        assert_eq!(e["serial"], serial);
        let fp_sha256 = openssl_ok(&[
            "x509",
            "-in",
            pem.to_str().unwrap(),
            "-noout",
            "-fingerprint",
            "-sha256",
        ]);
        let fp_sha256 = fp_sha256
            .trim()
            .split('=')
            .nth(1)
            .unwrap()
            .replace(':', "")
            .to_lowercase();
        assert_eq!(e["fingerprint"], fp_sha256.as_str());
        assert_eq!(
            e["subject"],
            format!("CN={}", e["username"].as_str().unwrap()).as_str()
        );
        assert!(serials.insert(serial));
    }
    // The ledger has each, as issuing one by one would have recorded it.
    for user in ["alice", "bob"] {
        let v: Value =
            serde_json::from_str(&home.ok(&["dbusers", "certs", "list", user, "-o", "json"]))
                .unwrap();
        for r in v["results"].as_array().unwrap() {
            let e = entries
                .iter()
                .find(|e| e["serial"] == r["_id"])
                .expect("listed and in the manifest");
            assert_eq!(e["notBefore"], r["createdAt"]);
            assert_eq!(e["notAfter"], r["notAfter"]);
        }
        assert_eq!(v["totalCount"], 3);
    }

    // Again: refused without --force and nothing touched; replaced with it.
    let before = std::fs::read(out.join("alice-1.pem")).unwrap();
    let again = fixtures(&[]);
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("pass --force"),
        "{}",
        stderr(&again)
    );
    assert_eq!(std::fs::read(out.join("alice-1.pem")).unwrap(), before);
    let forced = fixtures(&["--force", "--quiet"]);
    assert!(forced.status.success(), "{}", stderr(&forced));
    assert_ne!(std::fs::read(out.join("alice-1.pem")).unwrap(), before);
}

#[test]
fn fixtures_have_the_atlas_profile_and_options() {
    let home = TestHome::new(&registry(""));
    let out = home.path().join("fx");
    home.ok(&[
        "fixtures",
        "--out",
        out.to_str().unwrap(),
        "--users",
        "bob",
        "--key-type",
        "rsa-2048",
        "--issued-at",
        "2026-08-10T03:06:35Z",
        "--monthsUntilExpiration",
        "12",
        "--jobs",
        "2",
    ]);
    let entries = manifest(&out);
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["file"], "bob.pem");
    let pem = out.join("bob.pem");
    let single = home.issue(
        "bob",
        &[
            "--issued-at",
            "2026-08-10T03:06:35Z",
            "--monthsUntilExpiration",
            "12",
            "--key-type",
            "rsa-2048",
        ],
    );
    assert_eq!(
        der_skeleton(&pem),
        der_skeleton(&single),
        "the same profile as one by one"
    );
    for field in ["-subject", "-issuer", "-startdate", "-enddate"] {
        assert_eq!(x509_field(&pem, field), x509_field(&single, field));
    }
    assert_eq!(
        x509_field(&pem, "-startdate"),
        "notBefore=Aug 10 02:06:35 2026 GMT"
    );
}

#[test]
fn fixtures_fail_whole_and_write_nothing() {
    let home = TestHome::without_ca(&registry("maxCertsPerUser = 2"));
    let out = home.path().join("fx");
    let cases: &[(&[&str], &str)] = &[
        (
            &["--users", "alice,nobody"],
            "Error: USERNAME_NOT_FOUND: No user with username nobody exists.",
        ),
        (&["--users", "carol"], "Error: USER_NOT_MANAGED_X509:"),
        (
            &["--count-per-user", "3"],
            "Error: ATLAS_GENERATED_CERTS_LIMIT_EXCEEDED:",
        ),
        (
            &["--monthsUntilExpiration", "25"],
            "Error: CERT_EXPIRY_CANNOT_EXCEED_TWO_YEARS:",
        ),
    ];
    for (args, want) in cases {
        let run = home.run(
            &[
                &[
                    "fixtures",
                    "--out",
                    out.to_str().unwrap(),
                    "--key-type",
                    "ec-p256",
                ],
                *args,
            ]
            .concat(),
        );
        assert!(!run.status.success(), "{args:?}");
        assert!(stderr(&run).starts_with(want), "{args:?}: {}", stderr(&run));
        assert!(!out.exists(), "{args:?} wrote files");
        assert_eq!(home.files(), vec!["users.toml".to_string()], "{args:?}");
    }
}

#[test]
fn server_key_pool_serves_fresh_keys() {
    let home = TestHome::new(&format!("{}{API_KEYS}", registry("")));
    let create = |server: &Server| {
        let url = format!(
            "{}/groups/{GID}/databaseUsers/alice/certs",
            server.api("v2")
        );
        curl(&[
            "--digest",
            "--user",
            "owner:owner-secret",
            "-X",
            "POST",
            &url,
        ])
    };
    let server = Server::start(&home, &["--key-pool", "2"]);
    let mut keys = BTreeSet::new();
    for _ in 0..3 {
        let reply = create(&server);
        assert_eq!(reply.status, 201, "{}", reply.body);
        let left: usize = reply
            .header("x-key-pool-remaining")
            .expect("pool header")
            .parse()
            .unwrap();
        assert!(left <= 2);
        let pem = home.path().join(format!("pool-{}.pem", unique()));
        std::fs::write(&pem, &reply.body).unwrap();
        assert!(
            openssl_ok(&["x509", "-in", pem.to_str().unwrap(), "-noout", "-text"])
                .contains("Public-Key: (4096 bit)")
        );
        assert!(
            keys.insert(openssl_ok(&[
                "pkey",
                "-in",
                pem.to_str().unwrap(),
                "-pubout"
            ])),
            "a key handed out twice"
        );
    }
    drop(server);
    let server = Server::start(&home, &["--key-pool", "0"]);
    let reply = create(&server);
    assert_eq!(reply.status, 201);
    assert_eq!(reply.header("x-key-pool-remaining"), None);
}

/// Runs a fixtures command on a pseudo-terminal (util-linux `script`) and
/// returns what the terminal showed.
fn on_a_terminal(home: &TestHome, out: &str, extra: &str) -> String {
    let command = format!(
        "{} --home '{}' fixtures --out '{out}' --count-per-user 12 --key-type rsa-2048 {extra}",
        env!("CARGO_BIN_EXE_atlas-ca"),
        home.path().display(),
    );
    let run = std::process::Command::new("script")
        .args(["-qfec", &command, "/dev/null"])
        .env_remove("ATLAS_CA_HOME")
        .output()
        .expect("script (util-linux) runs");
    assert!(run.status.success(), "{}", stderr(&run));
    String::from_utf8_lossy(&run.stdout).into_owned()
}

#[test]
fn progress_bar_on_a_terminal_unless_quiet() {
    let home = TestHome::new(&registry(""));
    let fx = home.path().join("fx");
    let shown = on_a_terminal(&home, fx.to_str().unwrap(), "");
    // Count, rate and ETA, redrawn in place, then the summary line.
    assert!(shown.contains("/24 certificates"), "{shown:?}");
    assert!(shown.contains("/s  ETA "), "{shown:?}");
    assert!(shown.contains('\r'), "{shown:?}");
    assert!(
        shown.contains("atlas-ca: issued 24 certificates to "),
        "{shown:?}"
    );
    assert_eq!(manifest(&fx).len(), 24);

    let quiet = home.path().join("quiet");
    let shown = on_a_terminal(&home, quiet.to_str().unwrap(), "--quiet");
    assert_eq!(shown, "", "--quiet prints nothing");
    assert_eq!(manifest(&quiet).len(), 24);
}

#[test]
fn one_run_mixes_expired_and_valid_certificates() {
    let home = TestHome::new(&registry(""));
    let out = home.path().join("mixed");
    home.ok(&[
        "fixtures",
        "--out",
        out.to_str().unwrap(),
        "--key-type",
        "ec-p256",
        "--monthsUntilExpiration",
        "1",
        "--issued-at-for",
        "alice=2020-01-01T00:00:00Z",
        "--quiet",
    ]);
    let ca = home.ca_cert();
    let verify = |user: &str| {
        openssl(&[
            "verify",
            "-CAfile",
            ca.to_str().unwrap(),
            out.join(format!("{user}.pem")).to_str().unwrap(),
        ])
    };
    let (ok, text) = verify("alice");
    assert!(!ok && text.contains("certificate has expired"), "{text}");
    assert!(verify("bob").0);
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    let text = manifest.to_string();
    assert!(
        text.contains("2020-02-01T00:00:00Z"),
        "alice's notAfter: {text}"
    );
    // A user the run does not issue to is refused, and nothing is written.
    let again = home.path().join("again");
    let run = home.run(&[
        "fixtures",
        "--out",
        again.to_str().unwrap(),
        "--users",
        "bob",
        "--issued-at-for",
        "alice=2020-01-01T00:00:00Z",
    ]);
    assert!(
        stderr(&run).contains("\"alice\" is not among the users this run issues to"),
        "{}",
        stderr(&run)
    );
    assert!(!again.exists());
}
