//! Kit inputs a hurried user gets wrong (issue 30 item 13): members that
//! collide or are not hosts, `--port` beside `--member`, IPv6 members, and
//! paths or extension values a YAML reader would misread.

use std::os::unix::ffi::OsStrExt;

use super::kit_clusters::{cluster_home, configs};
use crate::common::*;

/// Asserts that `run` failed saying `message`.
fn refused(run: &std::process::Output, message: &str) {
    assert!(!run.status.success(), "{message}");
    assert!(stderr(run).contains(message), "{}", stderr(run));
}

#[test]
fn members_that_are_not_one_host_each_are_refused() {
    let home = cluster_home();
    let kit = home.path().join("bad");
    let before = snapshot(home.path());
    let replset = ["--replset", "rs0"];
    for (members, message) in [
        (
            vec!["localhost:27017", "127.0.0.1:27017"],
            "two members would listen on 127.0.0.1:27017",
        ),
        (
            vec!["[::1]:27017", "localhost:27017"],
            "two members would listen",
        ),
        (
            vec!["*.example.test:27017"],
            "a member is one host, not a wildcard",
        ),
        (vec!["1.2.3:27017"], "1.2.3"),
        (vec!["999.1.1.1:27017"], "999.1.1.1"),
    ] {
        let mut all = vec!["local-kit", "--out", s(&kit)];
        all.extend(replset);
        for m in &members {
            all.extend(["--member", m]);
        }
        refused(&home.run(&all), message);
    }
    let run = home.run(&[
        "local-kit",
        "--out",
        s(&kit),
        "--replset",
        "rs0",
        "--port",
        "5000",
        "--member",
        "db1.example.test:27017",
    ]);
    refused(&run, "with --member each HOST:PORT gives its own");
    assert_eq!(snapshot(home.path()), before);
}

#[test]
fn ipv6_members_odd_characters_and_non_utf8_paths() {
    let home = cluster_home();
    // YAML-hostile text that is no control character in a path: a
    // noncharacter and a line separator; in the extension value NEL, a C1
    // control and DEL too. PyYAML must read each back exactly.
    let kit = home.path().join("kit\u{fffe}\u{2028}x");
    let value = "member\u{85}\u{9f}\u{7f}\u{fffe}";
    home.ok(&[
        "local-kit",
        "--out",
        s(&kit),
        "--key-type",
        "ec-p256",
        "--replset",
        "rs0",
        "--member",
        "[::1]:27018",
        "--member",
        "db1.example.test:27017",
        "--membership-extension",
        value,
    ]);
    let confs = configs(&kit);
    let v6 = &confs["mongod-0.conf"];
    assert_eq!(v6["net.ipv6"], true, "{v6}");
    assert_eq!(v6["net.tls.clusterAuthX509.extensionValue"], value);
    let ca = v6["net.tls.CAFile"].as_str().unwrap();
    assert_eq!(ca, kit.join("ca.pem").to_str().unwrap());
    assert!(std::path::Path::new(ca).is_file());
    assert!(confs["mongod-1.conf"].get("net.ipv6").is_none());

    // A path that is not UTF-8 cannot be written into a config.
    let raw = std::ffi::OsStr::from_bytes(b"kit-\xff");
    let bad = home.path().join(raw);
    let before = snapshot(home.path());
    let run = home
        .cmd()
        .args(["local-kit", "--key-type", "ec-p256", "--out"])
        .arg(&bad)
        .output()
        .unwrap();
    refused(&run, "is not valid UTF-8");
    assert_eq!(snapshot(home.path()), before);
}

#[test]
fn a_forced_kit_removes_what_the_earlier_kit_wrote_and_it_does_not() {
    let home = cluster_home();
    let kit = home.path().join("kit");
    let base = ["local-kit", "--out", s(&kit), "--key-type", "ec-p256"];
    home.ok(&[&base[..], &["--replset", "rs0", "--members", "2"]].concat());
    assert!(kit.join("start.sh").is_file() && kit.join("members").is_dir());
    std::fs::write(kit.join("notes.txt"), "mine").unwrap();
    home.ok(&[&base[..], &["--force"]].concat());
    let mut left = files_under(&kit);
    left.sort();
    let stale: Vec<&String> = left
        .iter()
        .filter(|f| f.starts_with("members") || f.starts_with("mongod-") || *f == "start.sh")
        .collect();
    assert!(stale.is_empty(), "left behind: {stale:?}");
    assert!(
        !kit.join("members").exists(),
        "the emptied directory goes too"
    );
    assert!(kit.join("server.pem").is_file() && kit.join("mongod.conf").is_file());
    assert_eq!(
        std::fs::read_to_string(kit.join("notes.txt")).unwrap(),
        "mine"
    );
}

#[test]
fn members_on_several_hosts_start_on_their_own_host() {
    use std::os::unix::fs::PermissionsExt;
    let home = cluster_home();
    let kit = home.path().join("kit");
    home.ok(&[
        "local-kit",
        "--out",
        s(&kit),
        "--key-type",
        "ec-p256",
        "--replset",
        "rs0",
        "--member",
        "db1.example.test:27017",
        "--member",
        "db2.example.test:27017",
        "--member",
        "db2.example.test:27018",
    ]);
    // A stand-in mongod that records the config it was given.
    let bin = home.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let fake = bin.join("mongod");
    std::fs::write(
        &fake,
        "#!/bin/sh\necho \"$2\" >> \"$(dirname \"$0\")/started\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let run = |args: &[&str]| {
        std::process::Command::new("sh")
            .arg(kit.join("start.sh"))
            .args(args)
            .env("PATH", &path)
            .output()
            .unwrap()
    };
    let usage = run(&[]);
    assert_eq!(usage.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&usage.stderr).contains("db2.example.test"));
    assert!(run(&["db2.example.test"]).status.success());
    let started = std::fs::read_to_string(bin.join("started")).unwrap();
    let expected = ["mongod-1.conf", "mongod-2.conf"].map(|c| kit.join(c).display().to_string());
    assert_eq!(started.lines().collect::<Vec<_>>(), expected);
    assert_eq!(run(&["elsewhere.test"]).status.code(), Some(2));
    let readme = std::fs::read_to_string(kit.join("README.txt")).unwrap();
    assert!(
        readme.contains("db2.example.test: members/mongod-1.pem mongod-1.conf members/mongod-2.pem mongod-2.conf"),
        "{readme}"
    );
}
