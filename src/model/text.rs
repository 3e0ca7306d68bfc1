//! Text that must show as itself: the username policy for certificate
//! subjects, and escaping for user-supplied text in messages and logs.

/// Longest username (in characters) accepted as a certificate subject.
pub const MAX_USERNAME_CHARS: usize = 1024;

/// `bytes` as lowercase hex, two digits a byte (ids, fingerprints,
/// digests).
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// True when `username` can be a managed X.509 subject: not empty, at most
/// [`MAX_USERNAME_CHARS`], and nothing that does not show as itself:
/// control, format, separator-line/paragraph, private-use, surrogate and
/// unassigned code points (general categories Cc, Cf, Zl, Zp, Co, Cs, Cn),
/// variation selectors and the other default-ignorable code points.
pub fn is_valid_username(username: &str) -> bool {
    !username.is_empty()
        && !username.chars().any(is_hidden)
        && username.chars().count() <= MAX_USERNAME_CHARS
}

/// Whether `c` would not show as itself in a name: see [`is_valid_username`].
pub fn is_hidden(c: char) -> bool {
    use unicode_properties::{GeneralCategory as G, UnicodeGeneralCategory};
    matches!(
        c.general_category(),
        G::Control
            | G::Format
            | G::LineSeparator
            | G::ParagraphSeparator
            | G::PrivateUse
            | G::Surrogate
            | G::Unassigned
    ) || is_default_ignorable(c)
}

/// Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt),
/// which includes the variation selectors.
fn is_default_ignorable(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'..='\u{1160}'
            | '\u{17B4}'..='\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFF8}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

/// `s` with every character that would not show as itself written as
/// `\u{..}`, so that user-supplied text cannot steer a terminal or hide in
/// a log.
pub fn escape_hidden(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if is_hidden(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn username_rules() {
        assert!(is_valid_username("a,b"));
        assert!(!is_valid_username(""));
        assert!(!is_valid_username("a\0b"));
        assert!(!is_valid_username("a\nb"));
        assert!(!is_valid_username("a\u{202e}b"));
        assert!(!is_valid_username("a\u{200b}b"));
        assert!(is_valid_username("ａｌｉｃｅ"));
        assert!(is_valid_username(&"x".repeat(MAX_USERNAME_CHARS)));
        assert!(!is_valid_username(&"x".repeat(MAX_USERNAME_CHARS + 1)));
    }

    #[test]
    fn every_hidden_character_is_refused() {
        let listed = [
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
            '\u{E000}',
            '\u{0378}',
            '\u{1b}',
        ];
        for c in listed {
            assert!(
                !is_valid_username(&format!("a{c}b")),
                "U+{:04X}",
                u32::from(c)
            );
            assert!(
                !is_valid_username(&c.to_string()),
                "U+{:04X} alone",
                u32::from(c)
            );
        }
        assert!(is_valid_username("zoë ñandú 日本"));
    }

    #[test]
    fn hidden_characters_are_escaped() {
        assert_eq!(
            escape_hidden("a\u{1b}[31mb\u{202e}c"),
            "a\\u{1b}[31mb\\u{202e}c"
        );
        assert_eq!(escape_hidden("zoë"), "zoë");
    }
}
