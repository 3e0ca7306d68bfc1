//! File names for users' certificates: safe on any file system, and unique
//! within one output by construction.

use std::collections::BTreeSet;

/// Longest stem, in bytes: a name of up to 1024 characters would exceed
/// every file system's 255-byte limit; clashes of cut names fall back to
/// `~2`, `~3`, ... as any other.
const MAX_STEM: usize = 64;

/// A file-system-safe stem for a user's certificate file: ASCII letters,
/// digits, `-`, `_` and `.` kept, everything else `_`, from the first
/// [`MAX_STEM`] characters, never a leading dot.
fn stem(username: &str) -> String {
    let safe: String = username
        .chars()
        .take(MAX_STEM)
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if safe.starts_with('.') {
        format!("_{safe}")
    } else {
        safe
    }
}

/// Hands out file names, each once: `<prefix><stem><suffix>.pem`, and when
/// that is taken (two users whose names differ only in unsafe characters,
/// or a user named like another's numbered file), the first of
/// `<stem>~2`, `<stem>~3`, ... that is free. `~` never occurs in a stem, so
/// a fallback cannot clash with a first choice made later.
#[derive(Debug, Default)]
pub(crate) struct FileNames {
    taken: BTreeSet<String>,
}

impl FileNames {
    /// Names `username`'s file; `number` (1-based) tells files of one user
    /// apart when there are several.
    pub(crate) fn name(&mut self, prefix: &str, username: &str, number: Option<u32>) -> String {
        let stem = stem(username);
        let numbered = |s: &str| match number {
            Some(i) => format!("{prefix}{s}-{i}.pem"),
            None => format!("{prefix}{s}.pem"),
        };
        let mut name = numbered(&stem);
        let mut n = 1u64;
        while !self.taken.insert(name.clone()) {
            n += 1;
            name = numbered(&format!("{stem}~{n}"));
        }
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_are_safe() {
        assert_eq!(stem("alice"), "alice");
        assert_eq!(stem("../x y"), "_.._x_y");
        assert_eq!(stem("zoë/1"), "zo__1");
        assert_eq!(stem(&"x".repeat(1024)).len(), MAX_STEM);
    }

    #[test]
    fn chains_of_clashes_get_distinct_names() {
        let mut names = FileNames::default();
        let all: Vec<String> = ["a_b-2-1", "a_b", "a/b", "a b", "a_b~2"]
            .iter()
            .map(|u| names.name("", u, None))
            .collect();
        let unique: BTreeSet<&String> = all.iter().collect();
        assert_eq!(unique.len(), all.len(), "{all:?}");
        assert_eq!(
            all[..4],
            ["a_b-2-1.pem", "a_b.pem", "a_b~2.pem", "a_b~3.pem"]
        );
    }

    #[test]
    fn numbered_files_clash_with_names_too() {
        let mut names = FileNames::default();
        let first = names.name("", "x-1", None);
        let second = names.name("", "x", Some(1));
        assert_eq!((first.as_str(), second.as_str()), ("x-1.pem", "x~2-1.pem"));
    }
}
