//! A `pki apply` file's subject and times, the parts `check` must read as
//! `apply` does: the fuzzer's three lines become one seeded table's
//! `subject`, `not_before` and `not_after`. Whatever `check` accepts,
//! `apply` makes (never a raw OpenSSL error after the keys exist), and
//! whatever it refuses is refused at a line and column.
#![no_main]

use atlas_ca::{Error, Home, Invalid, PkiMode, Reproduce};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut lines = text.splitn(3, '\n');
    let field = |s: Option<&str>| toml::Value::String(s.unwrap_or_default().into()).to_string();
    let (subject, not_before, not_after) = (field(lines.next()), field(lines.next()), field(lines.next()));
    let file = format!(
        "[defaults]\nkey = \"ec-p256\"\nseed = \"fuzz\"\nnow = \"2026-01-01T00:00:00Z\"\n\n\
         [[cert]]\nname = \"ca\"\nissuer = \"self\"\nsubject = {subject}\nca = true\n\
         not_before = {not_before}\nnot_after = {not_after}\n"
    );
    let path = std::path::Path::new("fuzz.toml");
    match atlas_ca::pki_check(path, &file) {
        Ok(_) => {}
        Err(Error::Invalid(Invalid::Spec { line, column, .. })) => {
            assert!(line >= 1 && column >= 1);
            return;
        }
        Err(e) => unreachable!("check gives only positioned errors: {e}"),
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let spec = dir.path().join("pki.toml");
    std::fs::write(&spec, &file).expect("the file is written");
    let home = Home::new(dir.path());
    let mode = PkiMode::default();
    let out = dir.path().join("out");
    if let Err(e) = atlas_ca::pki_apply(&home, &spec, &out, mode, &Reproduce::default(), &|_, _| {}) {
        panic!("check accepted what apply refuses: {e}\n{file}");
    }
});
