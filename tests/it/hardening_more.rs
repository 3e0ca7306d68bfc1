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
