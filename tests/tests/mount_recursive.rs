//! The recursive mount options (`rro`, `rnosuid`, `rnoexec`, ...): they reach the submounts an
//! `rbind` brings along, where `ro`, `nosuid` and `noexec` change the top mount only.

use rune_integration::*;
use tempfile::TempDir;

/// A host directory holding `top` and a tmpfs submount `sub/` holding `inner` and a copy of
/// busybox.
fn host_tree() -> (TempDir, HostMount) {
    let host = tempfile::tempdir().unwrap();
    let sub = host.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    let m = HostMount::tmpfs(&sub);
    std::fs::write(host.path().join("top"), "top\n").unwrap();
    std::fs::write(sub.join("inner"), "inner\n").unwrap();
    std::fs::copy("/bin/busybox", sub.join("busybox")).unwrap();
    (host, m)
}

#[test]
fn rro_makes_the_submounts_of_an_rbind_read_only() {
    let (host, _m) = host_tree();
    let mut b = Bundle::new("rro");
    b.bind(host.path(), "/mnt/a", &["rbind", "rro"])
        .bind(host.path(), "/mnt/b", &["rbind", "ro"]);
    let out = run_in(
        &mut b,
        "cat /mnt/a/sub/inner; \
         touch /mnt/a/sub/new 2>&1 || echo sub-denied; \
         touch /mnt/a/new 2>&1 || echo top-denied; \
         touch /mnt/b/sub/from-b && echo ro-sub-writable; \
         cat /proc/self/mountinfo",
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[..6],
        [
            "inner",
            "touch: /mnt/a/sub/new: Read-only file system",
            "sub-denied",
            "touch: /mnt/a/new: Read-only file system",
            "top-denied",
            // Plain `ro` is not recursive: the submount keeps its own flags.
            "ro-sub-writable",
        ],
        "{out}"
    );
    assert!(mount_opts(mountinfo_line(&out, "/mnt/a/sub")).contains(&"ro"));
    assert!(mount_opts(mountinfo_line(&out, "/mnt/b/sub")).contains(&"rw"));
    assert!(!host.path().join("sub/new").exists());
    assert!(host.path().join("sub/from-b").exists());
}

#[test]
fn rnoexec_rnosuid_rnodev_reach_the_submounts() {
    let (host, _m) = host_tree();
    let mut b = Bundle::new("rnoexec");
    b.bind(
        host.path(),
        "/mnt/a",
        &["rbind", "rnoexec", "rnosuid", "rnodev"],
    )
    .bind(host.path(), "/mnt/b", &["rbind", "noexec"]);
    let out = run_in(
        &mut b,
        "/mnt/a/sub/busybox true 2>/dev/null && echo exec-a || echo noexec-a; \
         /mnt/b/sub/busybox true && echo exec-b; \
         cat /proc/self/mountinfo",
    );
    // Plain `noexec` is not recursive: the submount of /mnt/b still runs programs.
    assert!(out.starts_with("noexec-a\nexec-b\n"), "{out}");
    for target in ["/mnt/a", "/mnt/a/sub"] {
        let opts = mount_opts(mountinfo_line(&out, target));
        for o in ["noexec", "nosuid", "nodev"] {
            assert!(opts.contains(&o), "{o} missing on {target}: {opts:?}");
        }
    }
}

#[test]
fn recursive_atime_options_reach_the_submounts() {
    let (host, _m) = host_tree();
    let mut b = Bundle::new("ratime");
    b.bind(host.path(), "/mnt/a", &["rbind", "rnoatime", "rnodiratime"])
        .bind(host.path(), "/mnt/b", &["rbind", "rstrictatime"])
        .bind(host.path(), "/mnt/c", &["rbind", "rnorelatime"]);
    let out = run_in(&mut b, "cat /proc/self/mountinfo");
    // rnorelatime leaves the submount's mode as it was (relatime), as runc does.
    let sub = mount_opts(mountinfo_line(&out, "/mnt/c/sub"));
    assert!(sub.contains(&"relatime"), "rnorelatime: {sub:?}");
    let sub = mount_opts(mountinfo_line(&out, "/mnt/a/sub"));
    assert!(
        sub.contains(&"noatime") && sub.contains(&"nodiratime"),
        "{sub:?}"
    );
    // strictatime shows as neither relatime nor noatime.
    let sub = mount_opts(mountinfo_line(&out, "/mnt/b/sub"));
    assert!(
        !sub.contains(&"relatime") && !sub.contains(&"noatime"),
        "{sub:?}"
    );
}

/// Recursive options on a fresh (not bind) mount apply to it as well, and never reach the
/// file system's data string (runc 1.1.5 ignores them there).
#[test]
fn recursive_options_on_a_fresh_mount() {
    let mut b = Bundle::new("rtmpfs");
    b.mount("/mnt/a", "tmpfs", "tmpfs", &["rro", "rnoexec", "size=1m"])
        .mount("/mnt/b", "tmpfs", "tmpfs", &["nosymfollow", "symfollow"]);
    let out = run_in(
        &mut b,
        "touch /mnt/a/f 2>/dev/null && echo wrote-a || echo ro-a; cat /proc/self/mountinfo",
    );
    assert!(out.starts_with("ro-a\n"), "{out}");
    let line = mountinfo_line(&out, "/mnt/a");
    assert!(mount_opts(line).contains(&"ro"), "{line}");
    assert!(mount_opts(line).contains(&"noexec"), "{line}");
    assert!(super_opts(line).contains(&"size=1024k"), "{line}");
    // `symfollow` undoes `nosymfollow` (and is no tmpfs option).
    let line = mountinfo_line(&out, "/mnt/b");
    assert!(!mount_opts(line).contains(&"nosymfollow"), "{line}");
}
