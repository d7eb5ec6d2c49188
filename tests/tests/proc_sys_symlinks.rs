//! A rootfs whose /proc or /sys is a symlink is refused, as runc refuses it: procfs and sysfs
//! go only on an ordinary directory, so the masked paths (and AppArmor rules) written for
//! /proc and /sys cannot be sidestepped by moving the mount elsewhere (CVE-2023-27561).

use rune_integration::*;
use std::path::Path;

/// A bundle with a private, writable copy of the rootfs at `rootfs/`, in which `link` (e.g.
/// `proc`) is replaced by a symlink to `target`.
fn bundle_with_link(prefix: &str, link: &str, target: &str) -> Bundle {
    let b = Bundle::new(prefix);
    rootfs_copy(&b.file("rootfs"));
    let at = b.file("rootfs").join(link);
    std::fs::remove_dir(&at).unwrap();
    std::os::unix::fs::symlink(target, &at).unwrap();
    b
}

/// The run is refused and leaves nothing; then `untouched` checks the rootfs.
#[track_caller]
fn assert_refused_leaving(mut b: Bundle, untouched: impl FnOnce()) {
    let rune = Rune::new();
    b.set("/root", json!({"path": "rootfs"})).args(&["true"]);
    let out = rune.run(&b);
    out.assert_fail_mentioning(&["must be mounted on ordinary directory"]);
    untouched();
    assert_no_leaks(&rune, &b, None);
}

/// Refused, and nothing was made through the link (`made`, where it leads).
#[track_caller]
fn assert_refused(b: Bundle, made: &Path) {
    let made = made.to_path_buf();
    assert_refused_leaving(b, move || assert!(!made.exists(), "{made:?} was created"));
}

#[test]
fn proc_as_a_dangling_symlink_is_refused() {
    let b = bundle_with_link("procln", "proc", "/tmp/x");
    let made = b.file("rootfs/tmp/x");
    assert_refused(b, &made);
}

#[test]
fn sys_as_a_symlink_to_a_directory_is_refused() {
    let b = bundle_with_link("sysln", "sys", "tmp");
    let made = b.file("rootfs/tmp/fs");
    assert_refused(b, &made);
}

#[test]
fn proc_on_a_file_is_refused() {
    let b = bundle_with_link("procfile", "proc", "/tmp/x");
    let at = b.file("rootfs/proc");
    std::fs::remove_file(&at).unwrap();
    std::fs::write(&at, "").unwrap();
    // The file is left as it was: not replaced by a directory, nothing mounted on it.
    assert_refused_leaving(b, move || {
        let md = std::fs::symlink_metadata(&at).unwrap();
        assert!(md.is_file() && md.len() == 0, "{at:?} changed: {md:?}");
    });
}
