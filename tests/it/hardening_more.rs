//! Hardening, fourth pass (issue 30): what an attacker and a hurried user
//! broke, each refused now, with nothing left behind.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::common::*;

#[test]
fn output_paths_with_control_characters_are_refused_everywhere() {
    let home = TestHome::new(&registry(""));
    let evil = home.path().join("k\ntouch PWNED\n#");
    let before = snapshot(home.path());
    for args in [
        vec![
            "local-kit",
            "--out",
            s(&evil),
            "--replset",
            "rs0",
            "--members",
            "1",
        ],
        vec!["fixtures", "--out", s(&evil), "--key-type", "ec-p256"],
        [CREATE_ALICE, &["--out", s(&evil)]].concat(),
        vec!["ca", "crl", "--out", s(&evil)],
    ] {
        let run = home.run(&args);
        assert_eq!(run.status.code(), Some(1), "{args:?}");
        assert!(
            stderr(&run).contains("has a control character in its path"),
            "{args:?}: {}",
            stderr(&run)
        );
        assert_eq!(before, snapshot(home.path()), "{args:?} wrote something");
    }
    let pki = home.path().join("p\u{7f}");
    let run = home.run(&[
        "pki",
        "apply",
        s(&crate::pki_apply::example()),
        "--out",
        s(&pki),
    ]);
    assert_eq!(run.status.code(), Some(1));
    assert!(!pki.exists());
}

#[test]
fn a_pki_table_s_file_may_not_be_another_s_directory() {
    let home = TestHome::new(&registry(""));
    let file = home.path().join("clash.toml");
    std::fs::write(
        &file,
        format!(
            "[[cert]]\nname = \"root\"\nissuer = \"self\"\nca = true\nkey = \"ec-p256\"\n\
             [[cert]]\nname = \"alice\"\nissuer = \"atlas\"\nproject = \"{GID}\"\nusername = \"alice\"\nkey = \"ec-p256\"\n\
             [[cert]]\nname = \"inner\"\nfile = \"alice.pem/root\"\nissuer = \"root\"\nkey = \"ec-p256\"\n"
        ),
    )
    .unwrap();
    let before = snapshot(home.path());
    for verb in [
        &["pki", "check", s(&file)][..],
        &[
            "pki",
            "apply",
            s(&file),
            "--out",
            s(&home.path().join("out")),
        ],
    ] {
        let run = home.run(verb);
        assert_eq!(run.status.code(), Some(1), "{verb:?}");
        assert!(
            stderr(&run).contains("goes through alice.pem, which \"alice\" writes as a file"),
            "{}",
            stderr(&run)
        );
    }
    assert_eq!(
        before,
        snapshot(home.path()),
        "no row, no key, no directory"
    );
}

#[test]
fn verify_never_waits_on_a_passphrase() {
    let home = TestHome::new(&registry(""));
    let out = home.path().join("x509gen");
    assert!(
        crate::pki_apply::apply(&home, &crate::pki_apply::example(), &out, &[])
            .status
            .success()
    );
    // stdin open and empty, as a terminal that nobody answers would be:
    // the run ends at once and says why.
    let run = home
        .cmd()
        .args(["verify", s(&out.join("password_protected.pem"))])
        .stdin(Stdio::piped())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&run.stdout);
    assert!(text.contains("the private key is encrypted"), "{text}");
    assert!(!stderr(&run).contains("pass phrase"), "{}", stderr(&run));
}

#[test]
fn invalid_utf8_in_a_pki_file_or_password_file_is_refused() {
    let home = TestHome::new(&registry(""));
    let file = home.path().join("bad.toml");
    let mut bytes = b"[[cert]]\nname = \"a\"\nissuer = \"self\"\nkey_password = \"pa".to_vec();
    bytes.extend([0xff, 0xfe]);
    bytes.extend(b"\"\n");
    std::fs::write(&file, bytes).unwrap();
    for verb in ["check", "apply"] {
        let mut args = vec!["pki", verb, s(&file)];
        let out = home.path().join("out");
        if verb == "apply" {
            args.extend(["--out", s(&out)]);
        }
        let run = home.run(&args);
        assert_eq!(run.status.code(), Some(1));
        let want = format!("{}:4:19: the file is not valid UTF-8", file.display());
        assert!(stderr(&run).contains(&want), "{}", stderr(&run));
        assert!(!out.exists());
    }
    let password = home.path().join("password");
    std::fs::write(&password, [b'p', 0xff, b'\n']).unwrap();
    let kit = home.path().join("kit");
    let run = home.run(&[
        "local-kit",
        "--out",
        s(&kit),
        "--pkcs12",
        "--pkcs12-password-file",
        s(&password),
    ]);
    assert_eq!(run.status.code(), Some(1));
    assert!(stderr(&run).contains("not valid UTF-8"), "{}", stderr(&run));
    assert!(!kit.exists());
}

#[test]
fn fixtures_refuse_a_user_or_an_issue_time_given_twice() {
    let home = TestHome::new(&registry(""));
    let out = home.path().join("fx");
    let before = snapshot(home.path());
    for (args, needle) in [
        (
            vec!["--users", "alice,alice"],
            "--users names \"alice\" is given twice",
        ),
        (
            vec![
                "--issued-at-for",
                "alice=2026-01-01T00:00:00Z",
                "--issued-at-for",
                "alice=2025-01-01T00:00:00Z",
            ],
            "--issued-at-for sets the time of \"alice\" is given twice",
        ),
    ] {
        let mut all = vec!["fixtures", "--out", s(&out), "--key-type", "ec-p256"];
        all.extend(args);
        let run = home.run(&all);
        assert_eq!(run.status.code(), Some(1));
        assert!(stderr(&run).contains(needle), "{}", stderr(&run));
        assert_eq!(before, snapshot(home.path()));
    }
}

#[test]
fn ocsp_refuses_bytes_after_the_request() {
    let home = TestHome::new(&registry(""));
    let pem = home.issue("alice", &[]);
    let server = Server::start(&home, &[]);
    let req = home.path().join("req.der");
    openssl_ok(&[
        "ocsp",
        "-issuer",
        s(&home.ca_cert()),
        "-cert",
        s(&pem),
        "-no_nonce",
        "-reqout",
        s(&req),
    ]);
    let one = std::fs::read(&req).unwrap();
    let two = home.path().join("two.der");
    std::fs::write(&two, [one.clone(), one].concat()).unwrap();
    let answer = |body: &Path| {
        let resp = home.path().join(format!("resp-{}.der", unique()));
        let out = Command::new("curl")
            .args([
                "-sS",
                "-o",
                s(&resp),
                "-H",
                "Content-Type: application/ocsp-request",
            ])
            .arg("--data-binary")
            .arg(format!("@{}", s(body)))
            .arg(format!("{}/ocsp", server.base))
            .output()
            .unwrap();
        assert!(out.status.success());
        openssl(&["ocsp", "-respin", s(&resp), "-resp_text", "-noverify"]).1
    };
    assert!(answer(&req).contains("Response Status: successful"));
    assert!(
        answer(&two).contains("malformedrequest"),
        "{}",
        answer(&two)
    );
}

#[test]
fn ca_crl_without_a_ca_refuses_and_makes_none() {
    let home = TestHome::without_ca(&registry(""));
    let before = snapshot(home.path());
    let run = home.run(&["ca", "crl"]);
    assert_eq!(run.status.code(), Some(1));
    assert!(
        stderr(&run).contains("has no CA yet: it has signed nothing; `atlas-ca ca init` makes one"),
        "{}",
        stderr(&run)
    );
    assert_eq!(before, snapshot(home.path()), "no CA was made");
}

#[test]
fn numeric_looking_hosts_and_bare_wildcards_are_refused() {
    let home = TestHome::new(&registry(""));
    for host in [
        "127.1",
        "0177.0.0.1",
        "0x7f.0.0.1",
        "999.999.999.999",
        "1",
        "*.com",
    ] {
        let out = home.path().join("server.pem");
        let run = home.run(&[
            "server-cert",
            "--host",
            host,
            "--key-type",
            "ec-p256",
            "--out",
            s(&out),
        ]);
        assert_eq!(run.status.code(), Some(2), "{host}: {}", stderr(&run));
        assert!(!out.exists(), "{host}");
    }
    home.ok(&[
        "server-cert",
        "--host",
        "db1.example.test",
        "--host",
        "*.example.test",
        "--key-type",
        "ec-p256",
    ]);
}

#[test]
fn pkcs12_names_and_passwords_that_openssl_cannot_take_are_refused_first() {
    let home = TestHome::without_ca("");
    for (p12, needle) in [
        ("{ password = \"a\\u0000b\" }", "cannot hold a NUL"),
        (
            "{ password = \"x\", friendly_name = \"n\\u0000\" }",
            "cannot hold a NUL",
        ),
        (
            "{ password = \"x\", friendly_name = \"\u{1F600}\" }",
            "no character beyond U+FFFF",
        ),
    ] {
        let file = home.path().join("p12.toml");
        std::fs::write(
            &file,
            format!(
                "[[cert]]\nname = \"a\"\nissuer = \"self\"\nkey = \"ec-p256\"\npkcs12 = {p12}\n"
            ),
        )
        .unwrap();
        let out = home.path().join("out");
        let run = home.run(&["pki", "apply", s(&file), "--out", s(&out)]);
        assert_eq!(run.status.code(), Some(1), "{p12}: {}", stderr(&run));
        assert!(stderr(&run).contains(needle), "{}", stderr(&run));
        assert!(!out.exists());
    }
    // A kit user whose name is no BMPString gets a PKCS#12 without one.
    let home = TestHome::new(&registry(""));
    home.ok(&[
        "dbusers",
        "create",
        "--username",
        "smile\u{1F600}",
        "--x509Type",
        "MANAGED",
        "--role",
        "read@app",
    ]);
    let password = home.path().join("pw");
    std::fs::write(&password, "secret\n").unwrap();
    let kit = home.path().join("kit");
    home.ok(&[
        "local-kit",
        "--out",
        s(&kit),
        "--key-type",
        "ec-p256",
        "--pkcs12",
        "--pkcs12-password-file",
        s(&password),
    ]);
    let p12 = files_under(&kit)
        .into_iter()
        .find(|f| f.contains("smile") && f.ends_with(".p12"))
        .unwrap();
    openssl_ok(&[
        "pkcs12",
        "-in",
        s(&kit.join(p12)),
        "-passin",
        "pass:secret",
        "-nokeys",
    ]);
    std::fs::write(&password, "se\0cret\n").unwrap();
    let run = home.run(&[
        "local-kit",
        "--out",
        s(&home.path().join("kit2")),
        "--pkcs12",
        "--pkcs12-password-file",
        s(&password),
    ]);
    assert_eq!(run.status.code(), Some(1));
    assert!(stderr(&run).contains("holds a NUL"), "{}", stderr(&run));
}

#[test]
fn a_pki_file_has_a_bounded_number_of_tables() {
    let home = TestHome::without_ca("");
    let mut text = String::new();
    for i in 0..2_001 {
        text.push_str(&format!(
            "[[cert]]\nname = \"c{i}\"\nissuer = \"self\"\nkey = \"ec-p256\"\n"
        ));
    }
    let file = home.path().join("big.toml");
    std::fs::write(&file, text).unwrap();
    let run = home.run(&["pki", "check", s(&file)]);
    assert_eq!(run.status.code(), Some(1));
    assert!(
        stderr(&run).contains("2001 tables: one file makes at most 2000"),
        "{}",
        stderr(&run)
    );
}

#[test]
fn pki_check_finds_what_apply_would_fail_on() {
    let home = TestHome::without_ca("");
    let cases = [
        ("subject = \"CN=x\\\\\"", 4, "a backslash escapes"),
        ("subject = \"L=\\\\4\"", 4, "a backslash escapes"),
        (
            "subject = \"CN=x,1.2.3=#0400\"",
            4,
            "OpenSSL cannot read it",
        ),
        ("subject = \"1.02.3=x\"", 4, "is not an attribute type"),
        ("not_before = \"-3000y\"", 4, "years 1950 to 9999"),
        ("not_after = \"+-5s\"", 4, "neither a date"),
    ];
    for (line, at, needle) in cases {
        let file = home.path().join("f.toml");
        std::fs::write(
            &file,
            format!("[[cert]]\nname = \"a\"\nissuer = \"self\"\n{line}\nkey = \"ec-p256\"\n"),
        )
        .unwrap();
        let run = home.run(&["pki", "check", s(&file)]);
        assert_eq!(run.status.code(), Some(1), "{line}");
        let said = stderr(&run);
        assert!(
            said.contains(&format!("f.toml:{at}:")) && said.contains(needle),
            "{line}: {said}"
        );
    }
}

#[test]
fn a_directory_another_run_is_writing_is_refused() {
    let home = TestHome::new(&registry(""));
    let out = home.path().join("out");
    std::fs::create_dir(&out).unwrap();
    // Another run's claim: a lock on the directory itself.
    let held = std::fs::File::open(&out).unwrap();
    held.lock().unwrap();
    for args in [
        vec![
            "pki",
            "apply",
            s(&crate::pki_apply::example()),
            "--out",
            s(&out),
            "--force",
        ],
        vec![
            "fixtures",
            "--out",
            s(&out),
            "--key-type",
            "ec-p256",
            "--force",
        ],
        vec![
            "local-kit",
            "--out",
            s(&out),
            "--key-type",
            "ec-p256",
            "--force",
        ],
    ] {
        let run = home.run(&args);
        assert_eq!(run.status.code(), Some(1), "{args:?}");
        assert!(
            stderr(&run).contains("another atlas-ca run is writing this directory now"),
            "{args:?}: {}",
            stderr(&run)
        );
        assert!(files_under(&out).is_empty(), "{args:?} wrote into it");
    }
    drop(held);
    home.ok(&[
        "fixtures",
        "--out",
        s(&out),
        "--key-type",
        "ec-p256",
        "--force",
    ]);
}

#[test]
fn refusals_found_at_signing_time_are_found_in_the_plan() {
    let home = TestHome::new(&registry(""));
    home.ok(&[CREATE_ALICE, &["--out", s(&home.path().join("first.pem"))]].concat());
    let before = snapshot(home.path());
    let out = home.path().join("fx");
    // A certificate that would outlive its CA: refused before the output
    // directory or a ledger row exists.
    let run = home.run(&[
        "fixtures",
        "--out",
        s(&out),
        "--key-type",
        "ec-p256",
        "--issued-at",
        "2099-01-01T00:00:00Z",
    ]);
    assert_eq!(run.status.code(), Some(1), "{}", stderr(&run));
    assert!(
        stderr(&run).contains("would end after its CA"),
        "{}",
        stderr(&run)
    );
    // A file in a directory that does not exist: refused before signing.
    let missing = home.path().join("missing/dir/alice.pem");
    let run = home.run(&[CREATE_ALICE, &["--out", s(&missing)]].concat());
    assert_ne!(run.status.code(), Some(0));
    assert!(stderr(&run).contains("does not exist"), "{}", stderr(&run));
    assert_eq!(
        snapshot(home.path()),
        before,
        "a refused run changed the home"
    );
}
