//! Text that goes into the kit's files as it must: strings quoted for the
//! shell, JavaScript and YAML, and the `setParameter` block every config
//! shares. A leaf: the kit's renderers use it, it uses none of them.

/// `s` quoted for a POSIX shell: in single quotes, a single quote written
/// as `'\''`.
pub(super) fn sh(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// `s` as a JavaScript string literal and a YAML double-quoted scalar:
/// JSON's, with `\u` escapes too for what JSON leaves raw but either
/// reader refuses or reads as a line break: DEL and the C1 controls (NEL
/// among them), U+2028 and U+2029, and the noncharacters U+FFFE and
/// U+FFFF.
pub(super) fn js(s: &str) -> String {
    // A string always serializes.
    let json = serde_json::to_string(s).expect("a string serializes");
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if matches!(
            c,
            '\u{7f}'..='\u{9f}' | '\u{2028}' | '\u{2029}' | '\u{fffe}' | '\u{ffff}'
        ) {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// `setParameter` turning on mongod's OCSP checks and stapling, when the
/// certificates carry an OCSP address.
pub(super) fn ocsp_parameters(ocsp: bool) -> &'static str {
    if ocsp {
        "setParameter:\n  ocspEnabled: true\n  ocspStaplingRefreshPeriodSecs: 300\n"
    } else {
        ""
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_quoting_survives_any_path() {
        assert_eq!(sh("/a b/c#d: e"), "'/a b/c#d: e'");
        assert_eq!(sh("it's"), "'it'\\''s'");
    }

    #[test]
    fn javascript_strings_cannot_end_a_line() {
        let evil = "a\u{2028}b\u{2029}c\"d\\";
        let lit = js(evil);
        assert_eq!(lit, r#""a\u2028b\u2029c\"d\\""#);
        assert!(!lit.contains(['\u{2028}', '\u{2029}', '\n']));
        let back: String = serde_json::from_str(&lit).unwrap();
        assert_eq!(back, evil);
        let odd = "del\u{7f} nel\u{85} c1\u{9f} non\u{fffe}";
        let lit = js(odd);
        assert_eq!(lit, r#""del\u007f nel\u0085 c1\u009f non\ufffe""#);
        let back: String = serde_json::from_str(&lit).unwrap();
        assert_eq!(back, odd);
    }
}
