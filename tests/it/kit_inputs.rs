//! Kit inputs a hurried user gets wrong (issue 30 item 13): members that
//! collide or are not hosts, `--port` beside `--member`, IPv6 members, and
//! paths or extension values a YAML reader would misread.

use std::os::unix::ffi::OsStrExt;

use super::kit_clusters::{cluster_home, configs};
use crate::common::*;

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
        let run = home.run(&all);
        assert!(!run.status.success(), "{all:?}");
        assert!(stderr(&run).contains(message), "{all:?}: {}", stderr(&run));
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
    assert!(!run.status.success());
    assert!(
        stderr(&run).contains("with --member each HOST:PORT gives its own"),
        "{}",
        stderr(&run)
    );
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
    assert!(!run.status.success());
    assert!(
        stderr(&run).contains("is not valid UTF-8"),
        "{}",
        stderr(&run)
    );
    assert_eq!(snapshot(home.path()), before);
}
