//! HTTP as `curl` speaks it, and Digest computed by hand.

use std::process::{Command, Stdio};

/// An HTTP response as `curl` saw it.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}
impl Reply {
    /// The nonce of this reply's Digest challenge.
    pub fn nonce(&self) -> String {
        let challenge = self.header("www-authenticate").expect("a Digest challenge");
        challenge
            .split("nonce=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .rev()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}
/// Runs `curl` with `args` (plus `-s -i`); parses the last response.
/// The `Accept` header every Atlas client sends on v2 (the SDK's, the
/// Atlas CLI's, the docs' curl samples).
pub const ACCEPT_V2: &str = "Accept: application/vnd.atlas.2023-01-01+json";

/// Runs curl with `args`, adding [`ACCEPT_V2`] unless `args` set an
/// `Accept` header themselves.
pub fn curl(args: &[&str]) -> Reply {
    let own_accept = args
        .iter()
        .any(|a| a.to_ascii_lowercase().starts_with("accept:"));
    let out = Command::new("curl")
        .args(["-s", "-S", "-i"])
        .args(if own_accept {
            &[][..]
        } else {
            &["-H", ACCEPT_V2][..]
        })
        .args(args)
        .output()
        .expect("curl");
    assert!(
        out.status.success(),
        "curl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    // With --digest, curl prints the 401 and then the final response.
    let last = text.rfind("HTTP/1.1 ").unwrap();
    let (head, body) = text[last..].split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Reply {
        status,
        headers,
        body: body.to_string(),
    }
}
/// The value of an `Authorization: Digest` header with an MD5 response
/// computed by hand for `user:password` (cnonce "c0ffee", qop auth).
pub fn digest_authorization(
    user: &str,
    password: &str,
    method: &str,
    uri: &str,
    nonce: &str,
    nc: &str,
) -> String {
    use md5::{Digest, Md5};
    let h = |s: String| {
        Md5::digest(s.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    let ha1 = h(format!("{user}:MMS Public API:{password}"));
    let ha2 = h(format!("{method}:{uri}"));
    let response = h(format!("{ha1}:{nonce}:{nc}:c0ffee:auth:{ha2}"));
    format!(
        "Digest username=\"{user}\", realm=\"MMS Public API\", nonce=\"{nonce}\", uri=\"{uri}\", \
         cnonce=\"c0ffee\", nc={nc}, qop=auth, response=\"{response}\""
    )
}
/// `method` on `url` with curl, Digest as `user` (`key:secret`), with a
/// JSON `body` if any.
pub fn digest_call(user: &str, method: &str, url: &str, body: Option<&str>) -> Reply {
    let mut args = vec!["--digest", "--user", user, "-X", method];
    if let Some(body) = body {
        args.extend(["-H", "Content-Type: application/json", "--data", body]);
    }
    args.push(url);
    curl(&args)
}

/// Starts `curl --digest -X POST` on `url` as `user:password`, printing the
/// body then the status code on a last line; read it with [`body_and_status`].
pub fn spawn_curl_create(url: &str, user: &str) -> std::process::Child {
    Command::new("curl")
        .args([
            "-s",
            "--digest",
            "--user",
            user,
            "-X",
            "POST",
            "-H",
            ACCEPT_V2,
            "--write-out",
            "\n%{http_code}",
            url,
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap()
}
/// Waits for a curl started by [`spawn_curl_create`]: (body, status code).
pub fn body_and_status(child: std::process::Child) -> (String, String) {
    let text = String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", text.as_str()));
    (body.to_string(), code.to_string())
}
