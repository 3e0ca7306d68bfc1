//! What an attacker and a careless user tried: key encryption
//! that must not be lost, keys that must not be needed, OpenSSL that must
//! not prompt, `--out` targets that must not be replaced, file names that
//! must not collide, characters that must not hide, bounds, and manifest
//! serials JavaScript can read.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use crate::common::*;
use serde_json::Value;

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn ca_key(home: &TestHome) -> String {
    std::fs::read_to_string(home.path().join("projects").join(GID).join("ca.key.pem")).unwrap()
}

#[test]
fn ca_keys_stay_encrypted_and_certificates_need_no_key() {
    let home = TestHome::without_ca(&registry(""));
    let pass = home.path().join("pass");
    std::fs::write(&pass, "s3cret\n").unwrap();
    let p = pass.to_str().unwrap();
    // A passphrase at hand encrypts the key, --encrypt or not.
    home.ok(&["--passphrase-file", p, "ca", "init"]);
    assert!(ca_key(&home).starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    // PBES2 with PBKDF2-HMAC-SHA256 at 600,000 (0x927C0) iterations.
    let key_file = home.path().join("projects").join(GID).join("ca.key.pem");
    let parsed = openssl_ok(&["asn1parse", "-in", key_file.to_str().unwrap()]);
    for needle in [
        "PBES2",
        "PBKDF2",
        ":0927C0",
        "hmacWithSHA256",
        "aes-256-cbc",
    ] {
        assert!(parsed.contains(needle), "{needle} in {parsed}");
    }
    // Printing the certificate needs no passphrase.
    let cert = home.ok(&["ca", "cert"]);
    assert!(cert.starts_with("-----BEGIN CERTIFICATE-----"), "{cert}");
    // Rotating without the passphrase would drop the encryption: refused.
    let out = home.run(&["ca", "init", "--rotate"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("is encrypted: set ATLAS_CA_PASSPHRASE"),
        "{}",
        stderr(&out)
    );
    assert_eq!(home.ok(&["ca", "cert"]), cert, "nothing rotated");
    home.ok(&["--passphrase-file", p, "ca", "init", "--rotate"]);
    assert!(ca_key(&home).starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    assert_ne!(home.ok(&["ca", "cert"]), cert);
    home.ok(&[
        "--passphrase-file",
        p,
        "dbusers",
        "certs",
        "create",
        "--username",
        "alice",
        "--key-type",
        "ec-p256",
    ]);

    // A key encrypted the old way (2,048 iterations) is still read.
    let old = home.path().join("old.pem");
    openssl_ok(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-out",
        old.to_str().unwrap(),
    ]);
    let old_encrypted = home.path().join("old-enc.pem");
    openssl_ok(&[
        "pkcs8",
        "-topk8",
        "-v2",
        "aes-256-cbc",
        "-iter",
        "2048",
        "-in",
        old.to_str().unwrap(),
        "-out",
        old_encrypted.to_str().unwrap(),
        "-passout",
        "pass:s3cret",
    ]);
    home.ok(&[
        "--passphrase-file",
        p,
        "ca",
        "init",
        "--rotate",
        "--import-key",
        old_encrypted.to_str().unwrap(),
    ]);
    home.ok(&[
        "--passphrase-file",
        p,
        "dbusers",
        "certs",
        "create",
        "--username",
        "alice",
        "--key-type",
        "ec-p256",
    ]);
}

#[test]
fn legacy_encrypted_keys_never_make_openssl_prompt() {
    let home = TestHome::without_ca(&registry(""));
    let key = home.path().join("legacy.pem");
    openssl_ok(&[
        "genrsa",
        "-traditional",
        "-aes256",
        "-passout",
        "pass:old-pass",
        "-out",
        key.to_str().unwrap(),
        "2048",
    ]);
    assert!(
        std::fs::read_to_string(&key)
            .unwrap()
            .contains("Proc-Type: 4,ENCRYPTED")
    );
    // `setsid` leaves no controlling terminal: a prompt would fail, not hang;
    // the timeout catches a hang anyway.
    let run = |envs: &[(&str, &str)]| {
        let mut c = Command::new("timeout");
        c.args(["20", "setsid", env!("CARGO_BIN_EXE_atlas-ca")])
            .arg("--home")
            .arg(home.path())
            .args(["ca", "init", "--import-key", key.to_str().unwrap()])
            .env_remove("ATLAS_CA_PASSPHRASE")
            .env_remove("MONGODB_ATLAS_PROJECT_ID");
        for (k, v) in envs {
            c.env(k, v);
        }
        c.output().unwrap()
    };
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("is encrypted"), "{}", stderr(&out));
    let out = run(&[("ATLAS_CA_PASSPHRASE", "wrong")]);
    assert!(
        stderr(&out).contains("wrong passphrase"),
        "{}",
        stderr(&out)
    );
    let out = run(&[("ATLAS_CA_PASSPHRASE", "old-pass")]);
    assert!(out.status.success(), "{}", stderr(&out));
    // The imported key is stored encrypted with that passphrase.
    assert!(ca_key(&home).starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
}

#[test]
fn out_never_replaces_links_devices_or_files_without_force() {
    let home = TestHome::new(&registry(""));
    let target = home.path().join("target.pem");
    std::fs::write(&target, "precious").unwrap();
    let link = home.path().join("link.pem");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let cases = [
        (link.to_str().unwrap(), "symbolic link"),
        ("/dev/null", "not a regular file"),
        (home.path().to_str().unwrap(), "not a regular file"),
        (target.to_str().unwrap(), "pass --force"),
    ];
    let rows = ledger_rows(home.path());
    for (out, needle) in cases {
        for args in [
            vec![
                "dbusers",
                "certs",
                "create",
                "--username",
                "alice",
                "--key-type",
                "ec-p256",
                "--out",
                out,
            ],
            vec![
                "server-cert",
                "--host",
                "localhost",
                "--key-type",
                "ec-p256",
                "--out",
                out,
            ],
            vec!["ca", "crl", "--out", out],
        ] {
            let run = home.run(&args);
            assert!(!run.status.success(), "{args:?}");
            assert!(stderr(&run).contains(needle), "{args:?}: {}", stderr(&run));
            assert_eq!(ledger_rows(home.path()), rows, "{args:?} recorded");
        }
        if needle != "pass --force" {
            let run = home.run(&[CREATE_ALICE, &["--out", out, "--force"]].concat());
            assert!(!run.status.success(), "--force never replaces {out}");
            assert!(stderr(&run).contains(needle), "{out}: {}", stderr(&run));
            assert_eq!(ledger_rows(home.path()), rows, "--force {out} recorded");
        }
    }
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious");
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    home.ok(&[
        CREATE_ALICE,
        &["--out", target.to_str().unwrap(), "--force"],
    ]
    .concat());
    assert!(
        std::fs::read_to_string(&target)
            .unwrap()
            .starts_with("-----BEGIN CERTIFICATE-----")
    );
    assert_eq!(mode(&target), 0o600);
}

#[test]
fn clashing_user_names_get_their_own_files() {
    let text = format!(
        "{}\n[[projects.databaseUsers]]\nusername = \"a_b-2-1\"\nx509Type = \"MANAGED\"\n\
         [[projects.databaseUsers]]\nusername = \"a_b\"\nx509Type = \"MANAGED\"\n\
         [[projects.databaseUsers]]\nusername = \"a/b\"\nx509Type = \"MANAGED\"\n\
         [[projects.databaseUsers]]\nusername = \"a b\"\nx509Type = \"MANAGED\"\n",
        registry("")
    );
    let home = TestHome::new(&text);
    let out = home.path().join("fx");
    home.ok(&[
        "fixtures",
        "--out",
        out.to_str().unwrap(),
        "--users",
        "a_b-2-1,a_b,a/b,a b",
        "--count-per-user",
        "2",
        "--key-type",
        "ec-p256",
        "--quiet",
    ]);
    let manifest: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    let files: std::collections::BTreeSet<&str> = manifest
        .iter()
        .map(|e| e["file"].as_str().unwrap())
        .collect();
    assert_eq!(files.len(), 8, "{files:?}");
    for entry in &manifest {
        let pem = out.join(entry["file"].as_str().unwrap());
        let want = format!("CN={}", entry["username"].as_str().unwrap());
        assert_eq!(rfc2253_subject_of(&pem), want, "{pem:?}");
        // Serials JavaScript can read: decimal and hex strings beside the number.
        let serial = entry["serial"].as_u64().unwrap();
        assert_eq!(entry["serialDecimal"], serial.to_string());
        let shown = x509_field(&pem, "-serial");
        assert_eq!(
            shown,
            format!(
                "serial={}",
                entry["serialHex"].as_str().unwrap().to_uppercase()
            )
        );
    }
    let kit = home.path().join("kit");
    let out = home.run(&[
        "local-kit",
        "--out",
        kit.to_str().unwrap(),
        "--key-type",
        "ec-p256",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let users: Vec<_> = std::fs::read_dir(kit.join("users")).unwrap().collect();
    // alice, bob and the four above: every MANAGED user has its own file.
    assert_eq!(users.len(), 6);
    // Six users, CA, CRL, server, config, create-users.js, README and the list.
    assert!(stderr(&out).contains("wrote 13 files"), "{}", stderr(&out));
}

#[test]
fn hidden_characters_are_refused_and_escaped() {
    for c in [
        '\u{00AD}',
        '\u{061C}',
        '\u{180E}',
        '\u{206A}',
        '\u{FFF9}',
        '\u{2028}',
        '\u{2029}',
        '\u{034F}',
        '\u{17B4}',
        '\u{E0041}',
        '\u{FE0F}',
    ] {
        let name = format!("x{c}y");
        let text = format!(
            "{}\n[[projects.databaseUsers]]\nusername = \"{name}\"\nx509Type = \"MANAGED\"\n",
            registry("")
        );
        let home = TestHome::without_ca(&text);
        let out = home.run(&["dbusers", "certs", "create", "--username", &name]);
        assert!(
            stderr(&out).contains("ATLAS_MANAGED_X509_NAME_INVALID"),
            "U+{:04X}: {}",
            u32::from(c),
            stderr(&out)
        );
        assert!(
            !stderr(&out).contains(c),
            "U+{:04X} reached the terminal",
            u32::from(c)
        );
        assert!(
            !home.files().iter().any(|f| f.starts_with("projects")),
            "nothing written"
        );
    }
    // A registry user with an escape sequence: the message shows it escaped.
    let text = format!(
        "{}\n[[projects.databaseUsers]]\nusername = \"evil\\u001b[2J\"\nx509Type = \"MANAGED\"\n",
        registry("")
    );
    let home = TestHome::without_ca(&text);
    let out = home.run(&["dbusers", "certs", "create", "--username", "evil\u{1b}[2J"]);
    let err = stderr(&out);
    assert!(
        !err.contains('\u{1b}') && err.contains("evil\\u{1b}[2J"),
        "{err:?}"
    );
}

#[test]
fn fixtures_are_bounded_and_create_nothing_when_refused() {
    let home = TestHome::new(&registry(""));
    let out = home.path().join("never");
    let cases: [(&[&str], &str); 2] = [
        (
            &["--count-per-user", "400000"],
            "one run issues at most 100000",
        ),
        (&["--jobs", "10000"], "--jobs 10000: at most 256"),
    ];
    for (extra, needle) in cases {
        let mut args = vec!["fixtures", "--out", out.to_str().unwrap(), "--quiet"];
        args.extend(extra);
        let run = home.run(&args);
        assert!(!run.status.success());
        assert!(stderr(&run).contains(needle), "{}", stderr(&run));
        assert!(!out.exists());
    }
    // A ledger that cannot be opened: no output directory either.
    std::fs::create_dir(home.path().join("ledger.sqlite3")).unwrap();
    let run = home.run(&[
        "fixtures",
        "--out",
        out.to_str().unwrap(),
        "--key-type",
        "ec-p256",
        "--quiet",
    ]);
    assert!(!run.status.success());
    assert!(!out.exists(), "{}", stderr(&run));
}

#[test]
fn modes_are_explicit_whatever_the_umask() {
    let home = TestHome::without_ca(&registry(""));
    let out = home.path().join("fx");
    let script = format!(
        "umask 000 && exec {} --home {} fixtures --out {} --key-type ec-p256 --quiet",
        env!("CARGO_BIN_EXE_atlas-ca"),
        home.path().display(),
        out.display()
    );
    let run = Command::new("sh").args(["-c", &script]).output().unwrap();
    assert!(run.status.success(), "{}", stderr(&run));
    assert_eq!(mode(&out), 0o700);
    assert_eq!(mode(&out.join("alice.pem")), 0o600);
    let project = home.path().join("projects").join(GID);
    assert_eq!(mode(&project), 0o700);
    assert_eq!(mode(&project.join(".lock")), 0o600);
    assert_eq!(mode(&project.join("ca.key.pem")), 0o600);
    let script = format!(
        "umask 000 && exec {} --home {} dbusers create readAnyDatabase --username zed",
        env!("CARGO_BIN_EXE_atlas-ca"),
        home.path().display()
    );
    let run = Command::new("sh").args(["-c", &script]).output().unwrap();
    assert!(run.status.success(), "{}", stderr(&run));
    assert_eq!(mode(&home.path().join("users.toml")), 0o600);
    assert_eq!(mode(&home.path().join(".users.toml.lock")), 0o600);
}

#[test]
fn kit_paths_survive_spaces_hashes_and_colons() {
    let home = TestHome::new(&registry(""));
    let kit = home.path().join("my kit #1: it's");
    home.ok(&[
        "local-kit",
        "--out",
        kit.to_str().unwrap(),
        "--key-type",
        "ec-p256",
        "--host",
        "10.1.2.3",
        "--host",
        "db.test",
    ]);
    let python = python_with(&["pyyaml:yaml"]);
    let script = r#"
import json, shlex, sys, yaml
kit = sys.argv[1]
conf = yaml.safe_load(open(kit + "/mongod.conf"))
readme = open(kit + "/README.txt").read()
words = [w for line in readme.splitlines() if line.strip().startswith(("mongod ", "mongosh ", "--"))
         for w in shlex.split(line.strip().rstrip("\\"))]
print(json.dumps({"tls": conf["net"]["tls"], "bind": conf["net"]["bindIp"], "words": words}))
"#;
    let out = script_ok(Command::new(&python).args(["-c", script]).arg(&kit));
    let v: Value = serde_json::from_str(&out).unwrap();
    let path = |f: &str| kit.join(f).display().to_string();
    assert_eq!(v["tls"]["certificateKeyFile"], path("server.pem"));
    assert_eq!(v["tls"]["CAFile"], path("ca.pem"));
    assert_eq!(v["tls"]["CRLFile"], path("crl.pem"));
    assert_eq!(v["bind"], "localhost,127.0.0.1,10.1.2.3");
    let words: Vec<&str> = v["words"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert!(words.contains(&path("server.pem").as_str()), "{words:?}");
    assert!(words.contains(&path("mongod.conf").as_str()), "{words:?}");
    assert!(
        words.contains(&path("users/alice.pem").as_str()),
        "{words:?}"
    );
}

#[test]
fn temporaries_of_killed_runs_are_swept_and_reported() {
    let home = TestHome::new(&registry(""));
    let out = home.path().join("fx");
    std::fs::create_dir(&out).unwrap();
    // What a killed run leaves: a temporary of a process that is gone.
    let stale = out.join(".tmp-atlas-ca-2147483-AbCdEf");
    std::fs::write(&stale, "-----BEGIN PRIVATE KEY-----").unwrap();
    let foreign = out.join(".tmp-someone-else");
    std::fs::write(&foreign, "not ours").unwrap();
    let run = home.run(&[
        "fixtures",
        "--out",
        out.to_str().unwrap(),
        "--key-type",
        "ec-p256",
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(!stale.exists(), "the stale temporary is gone");
    assert!(foreign.exists(), "other programs' files are left alone");
    assert!(
        stderr(&run).contains("removed 1 temporary file that an interrupted run left"),
        "{}",
        stderr(&run)
    );
}

#[test]
fn force_replaces_an_earlier_run_as_a_whole() {
    let home = TestHome::new(&registry(""));
    let out = home.path().join("fx");
    let o = out.to_str().unwrap();
    home.ok(&[
        "fixtures",
        "--out",
        o,
        "--count-per-user",
        "3",
        "--key-type",
        "ec-p256",
        "--quiet",
    ]);
    let mine = out.join("notes.txt");
    std::fs::write(&mine, "mine").unwrap();
    home.ok(&[
        "fixtures",
        "--out",
        o,
        "--count-per-user",
        "2",
        "--key-type",
        "ec-p256",
        "--quiet",
        "--force",
    ]);
    let mut files: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "alice-1.pem",
            "alice-2.pem",
            "bob-1.pem",
            "bob-2.pem",
            "ca.pem",
            "manifest.json",
            "notes.txt"
        ],
        "the third certificates of the earlier run are gone, other files stay"
    );
}

#[test]
fn a_role_that_could_become_code_is_refused_everywhere() {
    // U+2028 ends a JavaScript line comment; a collection name carrying it
    // could become code in the kit's create-users.js. The model's one rule
    // for roles refuses it in a hand-written registry (at its place), and
    // in a user created or updated; the kit's own escaping is unit-tested.
    let evil = r#"orders\u2028require('child_process').execSync('touch pwned')\u2028//"#;
    let text = registry("").replace(
        r#"roles = [{ roleName = "readWrite", databaseName = "app" }]"#,
        &format!(
            r#"roles = [{{ roleName = "read", databaseName = "app", collectionName = "{evil}" }}]"#
        ),
    );
    let home = TestHome::new(&text);
    let kit = home.path().join("kit");
    let run = home.run(&["local-kit", "--out", kit.to_str().unwrap()]);
    let err = stderr(&run);
    assert_eq!(run.status.code(), Some(1), "{err}");
    let at = text
        .lines()
        .position(|l| l.contains("collectionName"))
        .unwrap()
        + 1;
    let path = home.path().join("users.toml");
    assert!(
        err.starts_with(&format!("Error: {}:{at}:", path.display())),
        "{err}"
    );
    assert!(err.contains("roles of user \"alice\""), "{err}");
    assert!(!kit.exists(), "a refused registry makes no kit");
    let run = home.run(&[
        "dbusers",
        "create",
        "--username",
        "zed",
        "--x509Type",
        "MANAGED",
        "--role",
        "read@app.orders\u{2028}x",
    ]);
    assert!(!run.status.success());
}
