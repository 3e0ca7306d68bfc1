//! The crate's structure as ARCHITECTURE.md states it, read from the
//! sources: a module imports only from its own layer or the ones below it,
//! no two modules import each other round a circle (inside a folder too),
//! only the front ends print, and no source file (tests included) is over
//! 600 lines.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, lowest first; `cli` starts the server, so it sits above it.
const LAYERS: [&str; 8] = [
    "model", "pki", "store", "issuing", "api", "tools", "server", "cli",
];

/// Every `.rs` file under `dir`.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// A file's module path: `src/tools/kit/mod.rs` is `tools::kit`.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

/// The code of `text` without comments, string literals and its unit
/// tests (enough of Rust for `use` lines and paths not to be found in
/// docs or messages, nor a test's `use super::*`).
fn code(text: &str) -> String {
    let mut out = String::new();
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => text,
    };
    for line in text.lines() {
        let line = line.trim_start();
        if line.starts_with("//") {
            continue;
        }
        let mut in_str = false;
        let mut prev = ' ';
        for c in line.chars() {
            if c == '"' && prev != '\\' {
                in_str = !in_str;
            } else if !in_str {
                out.push(c);
            }
            prev = if prev == '\\' { ' ' } else { c };
        }
        out.push('\n');
    }
    out
}

/// The module paths `file` (module `me`) refers to: `crate::a::b`,
/// `super::a`, and in a `mod.rs` its children's `use child::...`.
fn references(code: &str, me: &[String], children: &BTreeSet<String>) -> Vec<Vec<String>> {
    let mut refs = Vec::new();
    let words: Vec<&str> = code
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':' || c == '{'))
        .collect();
    for w in words {
        let w = w.trim_end_matches(':').trim_end_matches('{');
        if !w.contains("::") {
            // `pub(super)`, `pub(crate)`: visibility, not a path.
            continue;
        }
        let parts: Vec<&str> = w
            .split("::")
            .filter(|p| !p.is_empty() && *p != "{")
            .collect();
        match parts.first() {
            Some(&"crate") => refs.push(parts[1..].iter().map(|s| s.to_string()).collect()),
            Some(&"super") => {
                let mut base: Vec<String> = me.to_vec();
                let mut rest = &parts[..];
                while rest.first() == Some(&"super") {
                    base.pop();
                    rest = &rest[1..];
                }
                base.extend(rest.iter().map(|s| s.to_string()));
                refs.push(base);
            }
            Some(first) if children.contains(*first) && parts.len() > 1 => {
                let mut base = me.to_vec();
                base.extend(parts.iter().map(|s| s.to_string()));
                refs.push(base);
            }
            _ => {}
        }
    }
    refs
}

#[test]
fn layers_import_downwards_without_circles_and_only_front_ends_print() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let modules: BTreeMap<Vec<String>, PathBuf> = files
        .iter()
        .map(|f| (module_of(&src, f), f.clone()))
        .collect();
    let mut problems = Vec::new();
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for (me, file) in &modules {
        let text = std::fs::read_to_string(file).unwrap();
        let lines = text.lines().count();
        if lines > 600 {
            problems.push(format!("{} has {lines} lines", file.display()));
        }
        let Some(layer) = me.first().and_then(|l| LAYERS.iter().position(|x| x == l)) else {
            continue;
        };
        if me.last().is_some_and(|m| m.ends_with("_tests")) {
            continue;
        }
        let code = code(&text);
        if layer < LAYERS.iter().position(|l| *l == "server").unwrap()
            && (code.contains("println!") || code.contains("print!("))
        {
            problems.push(format!("{} prints", file.display()));
        }
        let children: BTreeSet<String> = modules
            .keys()
            .filter(|m| m.len() == me.len() + 1 && m.starts_with(me))
            .map(|m| m[me.len()].clone())
            .collect();
        for target in references(&code, me, &children) {
            // The longest known module the path starts with.
            let Some(to) = (1..=target.len())
                .rev()
                .map(|n| target[..n].to_vec())
                .find(|m| modules.contains_key(m))
            else {
                continue;
            };
            if let Some(to_layer) = LAYERS.iter().position(|l| *l == to[0])
                && to_layer > layer
            {
                problems.push(format!(
                    "{} ({}) imports {} from a layer above",
                    file.display(),
                    LAYERS[layer],
                    to.join("::")
                ));
            }
            if to != *me {
                edges.entry(me.clone()).or_default().insert(to);
            }
        }
    }
    // A circle: a module that reaches itself (a parent's mod.rs and its
    // children count as modules like any other).
    for start in edges.keys() {
        let mut stack = vec![(start.clone(), vec![start.clone()])];
        let mut seen = BTreeSet::new();
        while let Some((at, path)) = stack.pop() {
            for next in edges.get(&at).into_iter().flatten() {
                if next == start {
                    let names: Vec<String> = path.iter().map(|m| m.join("::")).collect();
                    problems.push(format!(
                        "circle: {} -> {}",
                        names.join(" -> "),
                        start.join("::")
                    ));
                } else if seen.insert(next.clone()) {
                    let mut p = path.clone();
                    p.push(next.clone());
                    stack.push((next.clone(), p));
                }
            }
        }
    }
    let mut tests = Vec::new();
    sources(&src.with_file_name("tests"), &mut tests);
    for file in tests {
        let lines = std::fs::read_to_string(&file).unwrap().lines().count();
        if lines > 600 {
            problems.push(format!("{} has {lines} lines", file.display()));
        }
    }
    problems.sort();
    problems.dedup();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
