//! /dev: default devices, symlinks, devpts and `linux.devices`.

use rune_integration::*;

#[track_caller]
#[test]
fn default_devices_exist_as_char_devices() {
    let mut b = Bundle::new("devs");
    let out = run_in(
        &mut b,
        "for d in null zero full random urandom tty; do stat -c '%n|%F|%t:%T|%a' /dev/$d; done",
    );
    let want = [
        ("null", "1:3"),
        ("zero", "1:5"),
        ("full", "1:7"),
        ("random", "1:8"),
        ("urandom", "1:9"),
        ("tty", "5:0"),
    ];
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), want.len(), "{out}");
    for ((name, dev), line) in want.iter().zip(lines) {
        let f: Vec<&str> = line.split('|').collect();
        assert_eq!(f[0], format!("/dev/{name}"));
        assert_eq!(f[1], "character special file", "{line}");
        assert_eq!(f[2], *dev, "{line}");
        assert_eq!(f[3], "666", "{line}");
    }
}

#[test]
fn default_devices_work() {
    let mut b = Bundle::new("devuse");
    let out = run_in(
        &mut b,
        "echo x > /dev/null && echo null-ok; head -c 4 /dev/zero | wc -c; \
         echo x > /dev/full 2>/dev/null || echo full-enospc; head -c 8 /dev/urandom | wc -c",
    );
    let v: Vec<&str> = out.split_whitespace().collect();
    assert_eq!(v, ["null-ok", "4", "full-enospc", "8"], "{out}");
}

#[test]
fn dev_symlinks() {
    let mut b = Bundle::new("devlinks");
    let out = run_in(
        &mut b,
        "for l in fd stdin stdout stderr ptmx; do echo \"$l=$(readlink /dev/$l)\"; done",
    );
    let want = "fd=/proc/self/fd\nstdin=/proc/self/fd/0\nstdout=/proc/self/fd/1\n\
                stderr=/proc/self/fd/2\nptmx=pts/ptmx\n";
    assert_eq!(out, want);
}

#[test]
fn devpts_is_mounted() {
    let mut b = Bundle::new("devpts");
    let out = run_in(&mut b, "grep ' /dev/pts ' /proc/mounts; ls -A /dev/pts");
    let line = out.lines().next().unwrap_or("");
    let f: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(f.get(2), Some(&"devpts"), "{out}");
    assert!(
        f[3].contains("newinstance") || f[3].contains("ptmxmode=666"),
        "{out}"
    );
    assert!(out.lines().any(|l| l == "ptmx"), "{out}");
}

#[test]
fn no_unexpected_devices() {
    // /dev is a fresh tmpfs: none of the host's disks show up.
    let mut b = Bundle::new("devclean");
    let out = run_in(&mut b, "ls -A /dev");
    assert!(
        !out.lines()
            .any(|l| l.starts_with("vd") || l.starts_with("sd") || l == "kmsg" || l == "mem"),
        "{out}"
    );
}

#[test]
fn linux_devices_entry() {
    let mut b = Bundle::new("mydev");
    b.array_push(
        "/linux/devices",
        json!({"path": "/dev/mynull", "type": "c", "major": 1, "minor": 3,
               "fileMode": 0o640, "uid": 0, "gid": 5}),
    )
    .array_push(
        "/linux/resources/devices",
        json!({"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"}),
    );
    let out = run_in(
        &mut b,
        "stat -c '%F|%t:%T|%a|%u:%g' /dev/mynull; echo x > /dev/mynull && echo write-ok",
    );
    assert_eq!(out, "character special file|1:3|640|0:5\nwrite-ok\n");
}

#[test]
fn device_cgroup_allow_list() {
    // The default spec denies all devices but the standard ones. A node made
    // with mknod for another device (the fuse device, 10:229) opens only when
    // linux.resources.devices allows it.
    let caps = json!(["CAP_MKNOD", "CAP_KILL"]);
    let script = "mknod /mnt/a/fuse c 10 229 && \
                  ( exec 3<> /mnt/a/fuse ) 2>/dev/null && echo opened || echo denied";
    let mut outputs = Vec::new();
    for (allow, fifo) in [(false, false), (true, false), (false, true)] {
        let mut b = Bundle::new("devcg");
        b.set(
            "/process/capabilities",
            json!({"bounding": caps, "effective": caps, "permitted": caps}),
        )
        .mount("/mnt/a", "tmpfs", "tmpfs", &[]);
        if allow {
            b.array_push(
                "/linux/resources/devices",
                json!({"allow": true, "type": "c", "major": 10, "minor": 229, "access": "rwm"}),
            );
        }
        // A fifo in linux.devices is made, and opens no other device.
        if fifo {
            b.array_push(
                "/linux/devices",
                json!({"path": "/dev/myfifo", "type": "p", "major": 0, "minor": 0}),
            );
        }
        outputs.push(run_in(&mut b, script).trim().to_string());
    }
    assert_eq!(outputs, ["denied", "opened", "denied"]);
}

#[test]
fn a_linux_devices_node_is_no_exception_to_the_allowed_list() {
    // runc makes the node but allows only what linux.resources.devices says: with the default
    // deny-all and no rule for 1:11, /dev/kmsg is there and cannot be written (nor read).
    let mut b = Bundle::new("devkmsg");
    b.array_push(
        "/linux/devices",
        json!({"path": "/dev/kmsg", "type": "c", "major": 1, "minor": 11,
               "fileMode": 0o666, "uid": 0, "gid": 0}),
    );
    let out = run_in(
        &mut b,
        "test -c /dev/kmsg && echo node; (echo rune-test > /dev/kmsg) 2>/dev/null && echo wrote; \
         (head -c1 /dev/kmsg >/dev/null) 2>/dev/null && echo read; true",
    );
    assert_eq!(out, "node\n");
    // With an allow rule for writing, it writes.
    let mut b = Bundle::new("devkmsgr");
    b.array_push(
        "/linux/devices",
        json!({"path": "/dev/kmsg", "type": "c", "major": 1, "minor": 11,
               "fileMode": 0o666, "uid": 0, "gid": 0}),
    )
    .array_push(
        "/linux/resources/devices",
        json!({"allow": true, "type": "c", "major": 1, "minor": 11, "access": "w"}),
    );
    let out = run_in(
        &mut b,
        "(echo rune-test > /dev/kmsg) 2>/dev/null && echo wrote; true",
    );
    assert_eq!(out, "wrote\n");
}

/// An `a` in a rule's access means nothing, as in runc (which keeps r, w and m of an access
/// and whose tests deny "rwa"): "wa" allows writing, a later "rwa" denial takes it back.
#[test]
fn an_a_in_a_device_access_means_nothing_as_in_runc() {
    let kmsg = json!({"path": "/dev/kmsg", "type": "c", "major": 1, "minor": 11,
                      "fileMode": 0o666, "uid": 0, "gid": 0});
    let script = "(echo rune-test > /dev/kmsg) 2>/dev/null && echo wrote || echo denied";
    let mut outputs = Vec::new();
    for (name, rules) in [
        ("devwa", vec![("allow", "wa")]),
        ("devrwa", vec![("allow", "rwm"), ("deny", "rwa")]),
    ] {
        let mut b = Bundle::new(name);
        b.array_push("/linux/devices", kmsg.clone());
        for (what, access) in rules {
            b.array_push(
                "/linux/resources/devices",
                json!({"allow": what == "allow", "type": "c", "major": 1, "minor": 11,
                       "access": access}),
            );
        }
        outputs.push(run_in(&mut b, script).trim().to_string());
    }
    assert_eq!(outputs, ["wrote", "denied"]);
}
