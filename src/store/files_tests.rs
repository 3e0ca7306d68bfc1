//! Unit tests of `files.rs`, apart to keep it short.

use super::*;

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    v.sort();
    v
}

#[test]
fn a_live_writer_s_temporaries_survive_a_sweep_and_dead_ones_do_not() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let live = Dir::new(dir, &Notes::default());
    let staged = live
        .stage(Path::new("a.pem"), b"key", 0o600, false)
        .unwrap();
    // A run killed with its claim gone, and one whose lock file is
    // still there but held by nobody (a lock is per open file, so this
    // process's second open finds the live claim held, as another
    // process in any pid namespace would).
    std::fs::write(dir.join(format!("{TMP_PREFIX}gone00-x1")), "k").unwrap();
    std::fs::write(dir.join(format!("{TMP_PREFIX}dead00{LOCK_SUFFIX}")), "").unwrap();
    std::fs::write(dir.join(format!("{TMP_PREFIX}dead00-x2")), "k").unwrap();
    std::fs::write(dir.join(".tmp-other-program"), "k").unwrap();
    assert_eq!(sweep(dir), 2);
    let left = names(dir);
    assert_eq!(left.len(), 3, "{left:?}");
    assert!(left.contains(&".tmp-other-program".to_string()));
    assert!(staged.tmp.exists(), "the live temporary is kept");
    staged.publish().unwrap();
    drop(live);
    assert_eq!(names(dir), [".tmp-other-program", "a.pem"]);
}

#[test]
fn a_sweep_is_a_note() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join(format!("{TMP_PREFIX}gone00-AbCdEf")), "k").unwrap();
    // An earlier atlas-ca's temporary, named after a live process id
    // (this one's): kept.
    let ours = format!("{TMP_PREFIX}{}-XyZ", std::process::id());
    std::fs::write(tmp.path().join(&ours), "k").unwrap();
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    let notes = Notes::to(move |n| sink.lock().unwrap().push(n));
    let dir = Dir::new(tmp.path(), &notes);
    drop(dir.stage(Path::new("b"), b"", 0o644, false).unwrap());
    let seen = seen.lock().unwrap();
    assert!(
        matches!(&seen[..], [Note::TemporariesRemoved { count: 1, .. }]),
        "{seen:?}"
    );
    assert!(
        tmp.path().join(ours).exists(),
        "a live process's temporary is kept"
    );
}
