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
