//! Every command's help renders, with the global options in their own
//! section, and mentions no flag that does not exist.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

fn help(path: &[String]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_atlas-ca"))
        .args(path)
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success(), "{path:?} --help failed");
    String::from_utf8(out.stdout).unwrap()
}

/// The subcommands a help text lists under `Commands:` (names on their
/// own line, as next_line_help prints them).
fn subcommands(text: &str) -> Vec<String> {
    let Some(section) = text.split("\nCommands:\n").nth(1) else {
        return Vec::new();
    };
    section
        .lines()
        .take_while(|l| !l.is_empty())
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .map(|l| l.trim().to_string())
        .filter(|name| name != "help")
        .collect()
}

/// The flags a help text defines (its option lines) and those it mentions
/// anywhere.
fn flags(text: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let words = |l: &str| -> Vec<String> {
        l.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .filter(|w| w.starts_with("--") && w.len() > 2 && w.as_bytes()[2].is_ascii_alphabetic())
            .map(String::from)
            .collect()
    };
    let mut defined = BTreeSet::new();
    let mut mentioned = BTreeSet::new();
    for line in text.lines() {
        let t = line.trim_start();
        if line.starts_with("  ")
            && (t.starts_with("--") || (t.starts_with('-') && t.get(2..4) == Some(", ")))
        {
            defined.extend(words(t).into_iter().take(1));
        }
        mentioned.extend(words(line));
    }
    (defined, mentioned)
}

#[test]
fn every_help_renders_and_names_only_real_flags() {
    let mut todo = vec![Vec::<String>::new()];
    let mut texts = BTreeMap::new();
    while let Some(path) = todo.pop() {
        let text = help(&path);
        for sub in subcommands(&text) {
            let mut next = path.clone();
            next.push(sub);
            todo.push(next);
        }
        texts.insert(path, text);
    }
    assert!(texts.len() > 30, "only {} commands found", texts.len());
    let mut all_defined = BTreeSet::new();
    for (path, text) in &texts {
        all_defined.extend(flags(text).0);
        if !path.is_empty() {
            assert!(
                text.contains("\nGlobal options:\n      --home <HOME>"),
                "{path:?}: {text}"
            );
        }
    }
    for (path, text) in &texts {
        for flag in flags(text).1 {
            assert!(
                all_defined.contains(&flag),
                "{path:?} mentions {flag}, which no command has"
            );
        }
    }
    // The main commands carry examples, and the top level starts with init.
    for path in [
        vec!["init"],
        vec!["dbusers", "certs", "create"],
        vec!["local-kit"],
        vec!["fixtures"],
        vec!["pki", "apply"],
        vec!["serve"],
    ] {
        let path: Vec<String> = path.into_iter().map(String::from).collect();
        assert!(
            texts[&path].contains("\nExamples:\n  atlas-ca "),
            "{path:?}"
        );
    }
    let top = &texts[&Vec::new()];
    assert_eq!(subcommands(top).first().map(String::as_str), Some("init"));
    assert!(top.contains("atlas-ca dbusers certs create --username alice --out alice.pem"));
}
