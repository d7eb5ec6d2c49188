//! Root filesystem and mounts.

use rune_integration::*;
use std::path::Path;

#[test]
fn readonly_root() {
    let mut b = Bundle::new("roroot");
    let out = run_in(
        &mut b,
        "touch /newfile 2>/dev/null && echo wrote || echo denied; cat /proc/self/mountinfo",
    );
    assert!(out.starts_with("denied\n"), "{out}");
    assert!(
        mount_opts(mountinfo_line(&out, "/")).contains(&"ro"),
        "{out}"
    );
}

#[test]
fn relative_root_path_and_writable_root() {
    let rune = Rune::new();
    let mut b = Bundle::new("relroot");
    // A private copy of the rootfs beside config.json, so it may be writable.
    rootfs_copy(&b.file("rootfs"));
    b.set("/root", json!({"path": "rootfs"}))
        .sh("echo from-container > /written && cat /etc/motd");
    let out = rune.run(&b);
    out.assert_ok();
    assert_eq!(out.stdout, "rune integration rootfs\n");
    assert_eq!(
        std::fs::read_to_string(b.file("rootfs/written")).unwrap(),
        "from-container\n"
    );
    assert_no_leaks(&rune, &b, None);
}

#[test]
fn tmpfs_with_options() {
    // The tmpfs at /mnt/a/t has no pre-existing mount point (it is created in
    // the outer tmpfs), so its mode comes from the mode= option alone.
    let mut b = Bundle::new("tmpfs");
    b.mount("/mnt/a", "tmpfs", "tmpfs", &[]).mount(
        "/mnt/a/t",
        "tmpfs",
        "tmpfs",
        &["nosuid", "size=1m", "mode=1777"],
    );
    let out = run_in(
        &mut b,
        "stat -c %a /mnt/a/t; echo data > /mnt/a/t/f && cat /mnt/a/t/f; \
         df -k /mnt/a/t | tail -n 1; cat /proc/self/mountinfo",
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "1777", "{out}");
    assert_eq!(lines[1], "data");
    // size=1m: 1024 1K-blocks in total.
    assert_eq!(lines[2].split_whitespace().nth(1), Some("1024"), "{out}");
    let line = mountinfo_line(&out, "/mnt/a/t");
    assert!(line.contains(" - tmpfs "), "{line}");
    assert!(super_opts(line).contains(&"size=1024k"), "{line}");
    assert!(mount_opts(line).contains(&"nosuid"), "{line}");
}

/// `tmpcopyup`: the tmpfs starts with a copy of the directory it covers (owners, modes and
/// symlinks kept, links not followed), and what the container writes stays in the tmpfs.
#[test]
fn tmpfs_tmpcopyup() {
    use std::os::unix::fs::PermissionsExt;
    let mut b = Bundle::new("copyup");
    let root = b.file("rootfs");
    rootfs_copy(&root);
    let data = root.join("srv/data");
    std::fs::create_dir_all(data.join("sub")).unwrap();
    let file = data.join("sub/file");
    std::fs::write(&file, "copied\n").unwrap();
    std::os::unix::fs::chown(&file, Some(1000), Some(1001)).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o604)).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", data.join("link")).unwrap();
    b.set("/root", json!({"path": "rootfs", "readonly": true}))
        .mount("/srv/data", "tmpfs", "tmpfs", &["tmpcopyup", "mode=755"])
        .mount("/bin", "tmpfs", "tmpfs", &["tmpcopyup"]);
    let out = run_in(
        &mut b,
        "cat /srv/data/sub/file; stat -c '%u %g %a' /srv/data/sub/file; \
         readlink /srv/data/link; echo new > /srv/data/new && cat /srv/data/new; \
         stat -c %a /srv/data; grep -c ' /srv/data ' /proc/self/mountinfo",
    );
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        ["copied", "1000 1001 604", "/etc/passwd", "new", "755", "1"],
        "{out}"
    );
    assert!(!data.join("new").exists());
}

#[test]
fn bind_mount_read_and_write_through() {
    let host = tempfile::tempdir().unwrap();
    std::fs::write(host.path().join("from-host"), "hello host\n").unwrap();
    let mut b = Bundle::new("bind");
    b.bind(host.path(), "/mnt/a", &["bind"]);
    let out = run_in(
        &mut b,
        "cat /mnt/a/from-host; echo hello container > /mnt/a/from-container",
    );
    assert_eq!(out, "hello host\n");
    assert_eq!(
        std::fs::read_to_string(host.path().join("from-container")).unwrap(),
        "hello container\n"
    );
}

#[test]
fn bind_mount_of_a_file() {
    let host = tempfile::tempdir().unwrap();
    let f = host.path().join("motd");
    std::fs::write(&f, "bound file\n").unwrap();
    let mut b = Bundle::new("bindfile");
    b.bind(&f, "/etc/motd", &["bind", "ro"]);
    assert_eq!(run_in(&mut b, "cat /etc/motd"), "bound file\n");
}

#[test]
fn readonly_bind_mount() {
    let host = tempfile::tempdir().unwrap();
    std::fs::write(host.path().join("f"), "ro data\n").unwrap();
    let mut b = Bundle::new("robind");
    b.bind(host.path(), "/mnt/a", &["bind", "ro"]);
    let out = run_in(
        &mut b,
        "cat /mnt/a/f; touch /mnt/a/new 2>/dev/null && echo wrote || echo denied; \
         cat /proc/self/mountinfo",
    );
    assert!(out.starts_with("ro data\ndenied\n"), "{out}");
    assert!(mount_opts(mountinfo_line(&out, "/mnt/a")).contains(&"ro"));
    assert!(!host.path().join("new").exists());
}

#[test]
fn bind_is_not_recursive_but_rbind_is() {
    let host = tempfile::tempdir().unwrap();
    let sub = host.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    let _m = HostMount::tmpfs(&sub);
    std::fs::write(sub.join("inner"), "x").unwrap();
    let mut b = Bundle::new("rbind");
    b.bind(host.path(), "/mnt/a", &["bind"])
        .bind(host.path(), "/mnt/b", &["rbind"]);
    let out = run_in(&mut b, "ls /mnt/a/sub; echo --; ls /mnt/b/sub");
    assert_eq!(out, "--\ninner\n");
}

#[test]
fn nosuid_nodev_noexec_options() {
    let mut b = Bundle::new("mntopts");
    b.mount("/mnt/a", "tmpfs", "tmpfs", &["nosuid", "nodev", "noexec"])
        .mount("/mnt/b", "tmpfs", "tmpfs", &["exec"]);
    let out = run_in(
        &mut b,
        "cp /bin/busybox /mnt/a/true; cp /bin/busybox /mnt/b/true; \
         /mnt/a/true 2>/dev/null && echo exec-a || echo noexec-a; \
         /mnt/b/true && echo exec-b; cat /proc/self/mountinfo",
    );
    assert!(out.starts_with("noexec-a\nexec-b\n"), "{out}");
    let a = mount_opts(mountinfo_line(&out, "/mnt/a"));
    for o in ["nosuid", "nodev", "noexec"] {
        assert!(a.contains(&o), "{o} missing in {a:?}");
    }
    let bopts = mount_opts(mountinfo_line(&out, "/mnt/b"));
    assert!(!bopts.contains(&"noexec"), "{bopts:?}");
}

#[test]
fn mount_destination_created_inside_tmpfs() {
    let host = tempfile::tempdir().unwrap();
    std::fs::write(host.path().join("f"), "nested\n").unwrap();
    let mut b = Bundle::new("nested");
    b.mount("/mnt/a", "tmpfs", "tmpfs", &[])
        .bind(host.path(), "/mnt/a/x/y", &["bind"]);
    assert_eq!(run_in(&mut b, "cat /mnt/a/x/y/f"), "nested\n");
}

const DEFAULT_MASKED: &[&str] = &[
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/sys/firmware",
    "/proc/scsi",
];

#[test]
fn default_masked_paths() {
    // Every default masked path that exists on this kernel reads as empty.
    let present: Vec<&str> = DEFAULT_MASKED
        .iter()
        .copied()
        .filter(|p| Path::new(p).exists())
        .collect();
    assert!(present.contains(&"/sys/firmware"), "host has {present:?}");
    let script = present
        .iter()
        .map(|p| {
            format!(
                "if [ -d {p} ]; then echo {p}=$(ls -A {p} | wc -l); \
                 else echo {p}=$(cat {p} | wc -c); fi"
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    let mut b = Bundle::new("masked");
    let out = run_in(&mut b, &script);
    let want: Vec<String> = present.iter().map(|p| format!("{p}=0")).collect();
    assert_eq!(out.lines().collect::<Vec<_>>(), want);
}

#[test]
fn custom_masked_dir_and_file() {
    let mut b = Bundle::new("masked2");
    b.array_push("/linux/maskedPaths", json!("/etc"))
        .array_push("/linux/maskedPaths", json!("/bin/busybox-not-there"))
        .array_push("/linux/maskedPaths", json!("/proc/cpuinfo"));
    // Masking a path that does not exist is not an error.
    let out = run_in(&mut b, "ls -A /etc | wc -l; wc -c < /proc/cpuinfo");
    let v: Vec<&str> = out.split_whitespace().collect();
    assert_eq!(v, ["0", "0"], "{out}");
}

#[test]
fn readonly_paths() {
    let mut b = Bundle::new("ropaths");
    b.mount("/mnt/a", "tmpfs", "tmpfs", &[])
        .array_push("/linux/readonlyPaths", json!("/mnt/a"));
    let out = run_in(
        &mut b,
        "echo 1 > /proc/sys/kernel/domainname 2>/dev/null && echo wrote-sys || echo ro-sys; \
         touch /mnt/a/f 2>/dev/null && echo wrote-a || echo ro-a; cat /proc/self/mountinfo",
    );
    assert!(out.starts_with("ro-sys\nro-a\n"), "{out}");
    assert!(mount_opts(mountinfo_line(&out, "/proc/sys")).contains(&"ro"));
    assert!(mount_opts(mountinfo_line(&out, "/mnt/a")).contains(&"ro"));
}

#[test]
fn sys_and_cgroup_mounts_are_readonly() {
    let mut b = Bundle::new("sysro");
    let out = run_in(&mut b, "cat /proc/self/mountinfo");
    assert!(mount_opts(mountinfo_line(&out, "/sys")).contains(&"ro"));
    assert!(mountinfo_line(&out, "/dev/shm").contains(" - tmpfs "));
    assert!(mountinfo_line(&out, "/dev/mqueue").contains(" - mqueue "));
    assert!(mountinfo_line(&out, "/proc").contains(" - proc "));
}

#[test]
fn no_pivot() {
    let rune = Rune::new();
    let mut b = Bundle::new("nopivot");
    b.sh("cat /etc/motd; ls /");
    let out = rune.run_with(&b, &["--no-pivot"]);
    out.assert_ok();
    assert!(out.stdout.starts_with("rune integration rootfs\n"), "{out}");
    // The host's root is not visible: only the rootfs's entries.
    assert!(!out.stdout.lines().any(|l| l == "work"), "{out}");
    assert_no_leaks(&rune, &b, None);
}

/// With --no-pivot the host's proc and sysfs stay in the container's mount namespace unless
/// hidden: while a full one is there, the kernel lets the container mount a new, unmasked
/// proc from a user namespace of its own (runc's no_pivot.bats). rune hides them, as runc.
#[test]
fn no_pivot_leaves_no_full_proc_to_mount_a_bare_one_from() {
    let rune = Rune::new();
    let mut b = Bundle::new("nopivotproc");
    // Mapping root in a new user namespace needs CAP_SETFCAP (Linux 5.12 on).
    for set in ["bounding", "permitted"] {
        b.array_push(
            &format!("/process/capabilities/{set}"),
            json!("CAP_SETFCAP"),
        );
    }
    b.sh("unshare -mrpf sh -c 'mount -t proc none /proc 2>&1 && echo mounted-bare-proc'; echo end");
    let out = rune.run_with(&b, &["--no-pivot"]);
    out.assert_ok();
    assert!(!out.stdout.contains("mounted-bare-proc"), "{out}");
    assert!(out.stdout.contains("mount: permission denied"), "{out}");
    assert_no_leaks(&rune, &b, None);
}

/// A read-only /dev tmpfs works, as runc makes it (mounts.bats "ro /dev mount"): the device
/// nodes, links and /dev/pts are made first, then /dev is read-only; so is a read-only tmpfs
/// with tmpcopyup, filled first. The devices still work and nothing new can be made there.
#[test]
fn read_only_dev_and_tmpfs_are_filled_before_they_turn_read_only() {
    let mut mounts = default_spec()["mounts"].clone();
    for m in mounts.as_array_mut().unwrap() {
        if m["destination"] == "/dev" {
            m["options"].as_array_mut().unwrap().push(json!("ro"));
        }
    }
    let mut b = Bundle::new("mntrodev");
    b.set("/mounts", mounts)
        .mount("/etc", "tmpfs", "tmpfs", &["ro", "tmpcopyup", "mode=755"]);
    let out = run_in(
        &mut b,
        "echo x > /dev/null && head -c1 /dev/zero | wc -c; ls /dev/pts/ptmx; \
         readlink /dev/fd; cat /etc/motd; touch /dev/new 2>&1; touch /etc/new 2>&1; \
         grep -E ' /dev | /etc ' /proc/self/mountinfo",
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[..4],
        [
            "1",
            "/dev/pts/ptmx",
            "/proc/self/fd",
            "rune integration rootfs"
        ],
        "{out}"
    );
    assert!(
        out.contains("touch: /dev/new: Read-only file system"),
        "{out}"
    );
    assert!(
        out.contains("touch: /etc/new: Read-only file system"),
        "{out}"
    );
    for dest in ["/dev", "/etc"] {
        assert!(
            mount_opts(mountinfo_line(&out, dest)).contains(&"ro"),
            "{dest}: {out}"
        );
    }
}
