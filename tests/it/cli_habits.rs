//! A mature CLI's habits: completions and a man page from the same
//! definitions as --help, --version naming the commit and OpenSSL, an
//! example on every help page, help wrapped to the terminal, and the home
//! said where it matters.

use std::process::Command;

use crate::common::*;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_atlas-ca"))
}

fn stdout_of(mut c: Command) -> String {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn completions_and_the_man_page_come_from_the_help() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = bin();
    c.args(["completions", "bash"]);
    let script = stdout_of(c);
    let file = dir.path().join("atlas-ca.bash");
    std::fs::write(&file, &script).unwrap();
    assert!(
        Command::new("bash")
            .arg("-n")
            .arg(&file)
            .status()
            .unwrap()
            .success()
    );
    // A word completes to the subcommand.
    let completed = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source {}; COMP_WORDS=(atlas-ca dbu); COMP_CWORD=1; _atlas__ca atlas-ca dbu atlas-ca; echo \"${{COMPREPLY[@]}}\"",
            file.display()
        ))
        .output()
        .unwrap();
    let words = String::from_utf8(completed.stdout).unwrap();
    assert!(
        words.split_whitespace().any(|w| w == "dbusers"),
        "{words:?}"
    );
    for shell in ["zsh", "fish", "powershell"] {
        let mut c = bin();
        c.args(["completions", shell]);
        assert!(stdout_of(c).contains("atlas-ca"), "{shell}");
    }
    // The man page renders without a warning.
    let mut c = bin();
    c.arg("man");
    let page = dir.path().join("atlas-ca.1");
    std::fs::write(&page, stdout_of(c)).unwrap();
    let groff = Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-z"])
        .arg(&page)
        .output()
        .unwrap();
    assert!(groff.status.success());
    assert_eq!(String::from_utf8_lossy(&groff.stderr), "", "groff warnings");
    let man = Command::new("man")
        .arg("-l")
        .arg(&page)
        .env("MANWIDTH", "80")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&man.stdout);
    assert!(
        text.contains("atlas-ca") && text.contains("dbusers"),
        "{text}"
    );
}

#[test]
fn version_names_the_commit_and_openssl() {
    let mut c = bin();
    c.arg("--version");
    let v = stdout_of(c);
    assert!(
        v.starts_with(&format!("atlas-ca {}", env!("CARGO_PKG_VERSION"))),
        "{v}"
    );
    assert!(v.contains("commit ") && v.contains("OpenSSL 3"), "{v}");
}

/// Every help page: its path, and its text at `COLUMNS`.
fn pages(columns: &str) -> Vec<(String, String)> {
    let mut todo = vec![Vec::<String>::new()];
    let mut out = Vec::new();
    while let Some(path) = todo.pop() {
        let mut c = bin();
        c.args(&path).arg("--help").env("COLUMNS", columns);
        let text = stdout_of(c);
        if let Some(list) = text.split("\nCommands:\n").nth(1) {
            for line in list.lines().take_while(|l| !l.is_empty()) {
                if line.starts_with("  ") && !line.starts_with("   ") {
                    let name = line
                        .split_whitespace()
                        .next()
                        .unwrap()
                        .trim_end_matches(',');
                    if name != "help" {
                        let mut next = path.clone();
                        next.push(name.to_string());
                        todo.push(next);
                    }
                }
            }
        }
        out.push((path.join(" "), text));
    }
    out
}

#[test]
fn every_help_page_has_an_example_and_fits_the_terminal() {
    let all = pages("80");
    assert!(all.len() > 40, "{} pages", all.len());
    for (path, text) in &all {
        assert!(
            text.contains("Examples:\n  atlas-ca") || text.contains("Examples:\n  cd"),
            "no example: {path:?}"
        );
        for line in text.lines() {
            assert!(line.chars().count() <= 80, "{path:?}: {line:?}");
        }
    }
    // The top level names the exit codes.
    let top = &all.iter().find(|(p, _)| p.is_empty()).unwrap().1;
    assert!(top.contains("Exit status: 0 success, 1 failure"), "{top}");
}

#[test]
fn the_home_is_said_where_it_matters() {
    let cwd = tempfile::tempdir().unwrap();
    std::fs::create_dir(cwd.path().join("ca")).unwrap();
    std::fs::write(cwd.path().join("ca/users.toml"), registry("")).unwrap();
    let out = bin()
        .current_dir(cwd.path())
        .env_remove("ATLAS_CA_HOME")
        .arg("home")
        .output()
        .unwrap();
    let path = String::from_utf8(out.stdout).unwrap();
    let abs = std::fs::canonicalize(cwd.path()).unwrap().join("ca");
    assert_eq!(
        std::fs::canonicalize(path.trim()).unwrap(),
        abs,
        "absolute: {path}"
    );
    assert!(std::path::Path::new(path.trim()).is_absolute(), "{path}");
    let why = String::from_utf8(out.stderr).unwrap();
    assert!(
        why.contains("./ca in the current directory holds a users.toml"),
        "{why}"
    );
    assert!(why.contains("--home DIR or ATLAS_CA_HOME=DIR"), "{why}");
    // `init` where a registry exists says which home and why.
    let init = bin()
        .current_dir(cwd.path())
        .env_remove("ATLAS_CA_HOME")
        .arg("init")
        .output()
        .unwrap();
    assert!(!init.status.success());
    let err = String::from_utf8(init.stderr).unwrap();
    assert!(
        err.contains("already exists") && err.contains("(home: ") && err.contains("chosen by ./ca"),
        "{err}"
    );
    // A command with nothing to do names the home chosen by the variable.
    let other = cwd.path().join("other");
    let init = bin()
        .env("ATLAS_CA_HOME", &other)
        .arg("init")
        .output()
        .unwrap();
    assert!(init.status.success());
    let empty = bin()
        .env("ATLAS_CA_HOME", &other)
        .args(["fixtures", "--out"])
        .arg(cwd.path().join("fx"))
        .output()
        .unwrap();
    let err = String::from_utf8(empty.stderr).unwrap();
    assert!(err.contains("nothing to issue"), "{err}");
    assert!(
        err.contains(&format!(
            "(home: {}, chosen by ATLAS_CA_HOME)",
            other.display()
        )),
        "{err}"
    );
}

#[test]
fn mistakes_get_the_nearest_right_word() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    std::fs::write(
        &file,
        "[[cert]]\nname = \"a\"\nissuer = \"self\"\nkey_usag = []\n",
    )
    .unwrap();
    let out = bin().args(["pki", "check"]).arg(&file).output().unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("bad.toml:4:1: unknown field `key_usag`; did you mean `key_usage`?"),
        "{err}"
    );
    assert!(
        !err.contains("`append_after_key`"),
        "not every field: {err}"
    );
    // certs create offers only what it prints.
    let help = stdout_of({
        let mut c = bin();
        c.args(["dbusers", "certs", "create", "--help"]);
        c
    });
    assert!(!help.contains("- table"), "{help}");
    let table = bin()
        .args(["dbusers", "certs", "create", "-u", "alice", "-o", "table"])
        .output()
        .unwrap();
    assert_eq!(table.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&table.stderr).contains("[possible values: json]"));
}

#[test]
fn a_home_names_its_default_project_and_deletes_one() {
    let home = TestHome::new(&registry(""));
    let made = home.ok(&["projects", "create", "second", "-o", "json"]);
    let second: serde_json::Value = serde_json::from_str(&made).unwrap();
    let second = second["id"].as_str().unwrap().to_string();
    // Two projects: a command needs one named...
    let run = home.run(&["dbusers", "list", "-o", "json"]);
    assert!(
        stderr(&run).contains("atlas-ca projects use ID"),
        "{}",
        stderr(&run)
    );
    // ...or the home's default.
    assert!(home.ok(&["projects", "use", "second"]).contains(&second));
    let listed: serde_json::Value =
        serde_json::from_str(&home.ok(&["dbusers", "list", "-o", "json"])).unwrap();
    assert_eq!(listed["totalCount"], 0, "the second project has no users");
    home.ok(&["projects", "use", "--none"]);
    assert!(!home.run(&["dbusers", "list"]).status.success());
    // Delete asks; without a terminal it needs --force, and changes nothing.
    let refused = home.run(&["projects", "delete", &second]);
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("--force"), "{}", stderr(&refused));
    assert!(home.ok(&["projects", "list"]).contains(&second));
    let gone = home.ok(&["projects", "delete", &second, "--force"]);
    assert_eq!(gone.trim(), format!("Project '{second}' deleted"));
    assert!(!home.ok(&["projects", "list"]).contains(&second));
    // One project again: no default needed.
    assert!(home.run(&["dbusers", "list"]).status.success());
}

#[test]
fn successes_say_what_they_wrote_and_quiet_says_nothing() {
    let home = TestHome::new(&registry(""));
    let out = home.path().join("alice.pem");
    let run = home.run(&[
        "dbusers",
        "certs",
        "create",
        "-u",
        "alice",
        "--key-type",
        "ec-p256",
        "--out",
        s(&out),
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let said = stderr(&run);
    assert!(
        said.contains(&format!(
            "wrote {}: a client certificate and its key (mode 0600)",
            out.display()
        )),
        "{said}"
    );
    let quiet = home.path().join("bob.pem");
    let run = home.run(&[
        "-q",
        "dbusers",
        "certs",
        "create",
        "-u",
        "alice",
        "--key-type",
        "ec-p256",
        "--out",
        s(&quiet),
    ]);
    assert!(run.status.success());
    assert_eq!(stderr(&run), "");
    // A new CA says it is being made.
    let fresh = TestHome::without_ca(&registry(""));
    let run = fresh.run(&["ca", "cert"]);
    assert!(
        stderr(&run).contains("generating the CA key of project"),
        "{}",
        stderr(&run)
    );
}

#[test]
fn kits_and_pkis_show_what_was_made() {
    let home = crate::kit_clusters::cluster_home();
    let kit = home.path().join("sh");
    let run = home.run(&[
        "local-kit",
        "--out",
        s(&kit),
        "--key-type",
        "ec-p256",
        "--sharded",
        "--shards",
        "1",
        "--members",
        "1",
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let said = stderr(&run);
    let header = said
        .lines()
        .find(|l| l.starts_with("PROCESS"))
        .unwrap_or_else(|| panic!("{said}"));
    assert!(
        header.contains("ADDRESS") && header.contains("CERTIFICATE") && header.contains("ENDS")
    );
    for row in ["mongod (configRS)", "mongod (shard0)", "mongos"] {
        let line = said
            .lines()
            .find(|l| l.starts_with(row))
            .unwrap_or_else(|| panic!("{row}: {said}"));
        let file = line
            .split_whitespace()
            .find(|w| w.starts_with("members/"))
            .unwrap();
        assert!(kit.join(file).is_file(), "{line}");
    }
    // pki apply draws the issuer tree.
    let file = home.path().join("tree.toml");
    std::fs::write(
        &file,
        "[defaults]\nkey = \"ec-p256\"\n[[cert]]\nname = \"root\"\nissuer = \"self\"\nca = true\n\
         [[cert]]\nname = \"mid\"\nissuer = \"root\"\nca = true\n\
         [[cert]]\nname = \"leaf\"\nissuer = \"mid\"\n[[cert]]\nname = \"other\"\nissuer = \"root\"\n",
    )
    .unwrap();
    let run = home.run(&[
        "pki",
        "apply",
        s(&file),
        "--out",
        s(&home.path().join("pki")),
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(
        stderr(&run).starts_with("root\n├── mid\n│   └── leaf\n└── other\n"),
        "{}",
        stderr(&run)
    );
    let quiet = home.run(&[
        "-q",
        "pki",
        "apply",
        s(&file),
        "--out",
        s(&home.path().join("pki2")),
    ]);
    assert_eq!(stderr(&quiet), "");
}

#[test]
fn verify_tells_a_failed_check_from_one_it_could_not_make() {
    let home = TestHome::new(&registry(""));
    let missing = home.run(&["verify", s(&home.path().join("nope.pem"))]);
    assert_eq!(missing.status.code(), Some(2), "{}", stderr(&missing));
    let junk = home.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate").unwrap();
    let failed = home.run(&["verify", s(&junk)]);
    assert_eq!(failed.status.code(), Some(1), "{}", stderr(&failed));
    let nothing = home.run(&["verify", "--mongod", s(&home.path().join("none"))]);
    assert_eq!(nothing.status.code(), Some(2), "{}", stderr(&nothing));
}

#[test]
fn dry_runs_write_nothing_and_json_says_what_was_written() {
    let home = TestHome::new(&registry(""));
    let file = home.path().join("p.toml");
    std::fs::write(
        &file,
        "[defaults]\nkey = \"ec-p256\"\n[[cert]]\nname = \"ca\"\nissuer = \"self\"\nca = true\n",
    )
    .unwrap();
    let before = snapshot(home.path());
    let kit = home.path().join("kit");
    let plan = home.ok(&[
        "local-kit",
        "--out",
        s(&kit),
        "--dry-run",
        "--key-type",
        "ec-p256",
    ]);
    assert!(
        plan.starts_with("would write ") && plan.contains("  mongod.conf\n"),
        "{plan}"
    );
    assert!(!kit.exists());
    let fx = home.path().join("fx");
    let planned: serde_json::Value = serde_json::from_str(&home.ok(&[
        "fixtures",
        "--out",
        s(&fx),
        "--dry-run",
        "-o",
        "json",
        "--key-type",
        "ec-p256",
    ]))
    .unwrap();
    assert_eq!(planned["dryRun"], true);
    assert!(
        planned["files"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "manifest.json")
    );
    let pki = home.path().join("pki");
    let would: serde_json::Value = serde_json::from_str(&home.ok(&[
        "pki",
        "apply",
        s(&file),
        "--out",
        s(&pki),
        "--dry-run",
        "-o",
        "json",
    ]))
    .unwrap();
    assert!(!pki.exists() && !fx.exists());
    assert!(
        snapshot(home.path()) == before,
        "a dry run changes nothing, the ledger included"
    );
    // The real runs write what the plans said.
    let wrote: serde_json::Value =
        serde_json::from_str(&home.ok(&["pki", "apply", s(&file), "--out", s(&pki), "-o", "json"]))
            .unwrap();
    assert_eq!(wrote["dryRun"], false);
    assert_eq!(wrote["files"], would["files"]);
    for f in wrote["files"].as_array().unwrap() {
        assert!(pki.join(f.as_str().unwrap()).is_file(), "{f}");
    }
    let checks: serde_json::Value =
        serde_json::from_str(&home.ok(&["verify", "--mongod", s(&pki), "-o", "json"])).unwrap();
    assert!(
        checks
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["passed"] == true),
        "{checks}"
    );
}

#[test]
fn pki_apply_shows_progress_on_a_terminal_and_serve_a_curl_line() {
    let home = TestHome::new(&format!("{}{API_KEYS}", registry("")));
    let file = home.path().join("p.toml");
    let mut toml = String::from(
        "[defaults]\nkey = \"ec-p256\"\n[[cert]]\nname = \"ca\"\nissuer = \"self\"\nca = true\n",
    );
    for i in 0..40 {
        toml.push_str(&format!("[[cert]]\nname = \"leaf{i}\"\nissuer = \"ca\"\n"));
    }
    std::fs::write(&file, toml).unwrap();
    let command = format!(
        "{} --home '{}' pki apply '{}' --out '{}'",
        env!("CARGO_BIN_EXE_atlas-ca"),
        home.path().display(),
        file.display(),
        home.path().join("pki").display()
    );
    let run = Command::new("script")
        .args(["-qfec", &command, "/dev/null"])
        .env_remove("ATLAS_CA_HOME")
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", stderr(&run));
    let shown = String::from_utf8_lossy(&run.stdout);
    assert!(shown.contains("/41 certificates"), "{shown:?}");
    // serve, on a terminal, prints a curl line for the first key: read
    // until it comes, then stop the server.
    let command = format!(
        "{} --home '{}' serve --listen 127.0.0.1:0 --key-pool 0",
        env!("CARGO_BIN_EXE_atlas-ca"),
        home.path().display()
    );
    let mut child = Command::new("script")
        .args(["-qfc", &command, "/dev/null"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::BufRead;
    let reader = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = None;
    for l in reader.lines() {
        let l = l.unwrap();
        if let Some(found) = l.trim_end_matches('\r').strip_prefix("atlas-ca: try: ") {
            line = Some(found.to_string());
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let line = line.expect("a try line");
    assert!(
        line.starts_with("curl --digest -u '") && line.ends_with("/databaseUsers"),
        "{line}"
    );
}

#[test]
fn server_cert_says_what_it_wrote_as_json() {
    let home = TestHome::new(&registry(""));
    let out = home.path().join("server.pem");
    let said: serde_json::Value = serde_json::from_str(&home.ok(&[
        "server-cert",
        "--host",
        "localhost",
        "--key-type",
        "ec-p256",
        "--out",
        s(&out),
        "-o",
        "json",
    ]))
    .unwrap();
    assert_eq!(said["file"], out.display().to_string());
    let serial = openssl_ok(&["x509", "-in", s(&out), "-noout", "-serial"]);
    assert_eq!(
        serial
            .trim()
            .trim_start_matches("serial=")
            .to_ascii_lowercase(),
        said["serial"].as_str().unwrap()
    );
    // JSON describes a file: without --out it is refused by the parser.
    let bare = home.run(&["server-cert", "--host", "localhost", "-o", "json"]);
    assert_eq!(bare.status.code(), Some(2));
}
