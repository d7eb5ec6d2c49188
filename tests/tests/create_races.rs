//! Races against `create`: a symlink swapped under a mount destination while the container is
//! made (CVE-2024-45310 class), and `create` killed at any moment. Each test is the attack.

use rune_integration::*;
use std::ffi::CString;
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// renameat2(RENAME_EXCHANGE): swaps two names atomically.
fn exchange(a: &Path, b: &Path) {
    let a = CString::new(a.to_str().unwrap()).unwrap();
    let b = CString::new(b.to_str().unwrap()).unwrap();
    // SAFETY: renameat2 with two valid paths.
    unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            2u32, // RENAME_EXCHANGE
        )
    };
}

#[test]
fn a_symlink_swapped_under_a_mount_destination_never_leads_to_the_host() {
    let rune = Rune::new();
    // A private copy of the rootfs, where the racer may swap names.
    let root = rune.scratch().join("rootfs");
    rootfs_copy(&root);
    let outside = rune.scratch().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::create_dir_all(root.join("mnt")).unwrap();
    std::os::unix::fs::symlink(&outside, root.join("mnt.alt")).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let racer = {
        let (stop, a, b) = (stop.clone(), root.join("mnt"), root.join("mnt.alt"));
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                exchange(&a, &b);
            }
        })
    };
    for _ in 0..60 {
        let mut b = Bundle::new("racelink");
        b.set("/root/path", json!(root.to_str().unwrap()))
            .mount("/mnt/a/b", "tmpfs", "tmpfs", &[])
            .args(&["true"]);
        // The swap may make a create fail (a path that is a link at one moment): never escape.
        if rune.create(&b).success() {
            rune.delete_force(&b.id).assert_ok();
        }
        assert_no_leaks(&rune, &b, None);
    }
    stop.store(true, Ordering::Relaxed);
    racer.join().unwrap();
    let made: Vec<_> = std::fs::read_dir(&outside).unwrap().collect();
    assert!(made.is_empty(), "rune made {made:?} on the host");
}

#[test]
fn delete_force_after_a_killed_create_leaves_nothing() {
    let rune = Rune::new();
    for (i, delay_ms) in [0u64, 1, 2, 3, 5, 8, 12, 16, 20, 25, 30, 40, 55, 75, 100]
        .into_iter()
        .enumerate()
    {
        let mut b = Bundle::new("racekill");
        b.args(&["sleep", "1000"]).hook(
            "createRuntime",
            json!({"path": "/bin/sleep", "args": ["sleep", "0.03"]}),
        );
        b.write();
        let mut child = rune
            .command()
            .args(["create", "--bundle", b.path().to_str().unwrap(), &b.id])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        let del = rune.delete_force(&b.id);
        assert!(
            del.success() || del.stderr.contains("does not exist"),
            "kill point {i}: {del}"
        );
        assert_no_leaks(&rune, &b, None);
    }
}
