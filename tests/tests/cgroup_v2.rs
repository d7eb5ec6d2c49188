//! A pure cgroup v2 host, as far as this v1-hybrid machine allows: in a private mount namespace
//! cgroup2 is mounted over /sys/fs/cgroup, so rune (through cgroups-rs) sees a unified host.
//! Only the controllers not bound to v1 (hugetlb here) are in that tree, so limits cannot be
//! checked; cgroup creation, membership, the container's cgroup2 mount, freezing through
//! cgroup.freeze, the clear error for an absent controller and the removal can.
//!
//! On a real pure v2 host the same private mount gives the host's own unified tree again, so
//! the same checks run there natively, with every controller present: there the limit the
//! emulated host lacks is written instead of refused.

use rune_integration::*;
use std::process::Command;

/// Runs `script` on the unified host. On the way out, whatever happened, every container left in
/// `rune`'s root is deleted there (where its cgroup is), so none holds the output pipes open.
fn on_v2_host(rune: &Rune, script: &str) -> (bool, String) {
    let r = format!("{} --root {}", rune.bin().display(), rune.root().display());
    let full = format!(
        "trap 'for c in $({r} list -q); do {r} delete --force $c; done' EXIT; set -e; \
         mount -t tmpfs tmpfs /sys/fs/cgroup; mount -t cgroup2 none /sys/fs/cgroup; {script}"
    );
    // A real v2 host may be the emulated test guest, far slower than this machine.
    let limit = if cgroup_v2() { "600" } else { "30" };
    let out = Command::new("timeout")
        .args([
            limit,
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            &full,
        ])
        .output()
        .expect("run unshare (util-linux)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Writes the bundle; returns the rune command line (with --root) and the script lines that
/// create and start the container, leaving its pid in `$pid`.
fn started_in_script(rune: &Rune, b: &Bundle) -> (String, String) {
    b.write();
    rune.track(&b.id);
    let r = format!("{} --root {}", rune.bin().display(), rune.root().display());
    let (id, bundle) = (&b.id, b.path().display());
    let start = format!(
        "{r} create --bundle {bundle} {id}; {r} start {id}; \
         pid=$({r} state {id} | sed -n 's/.*\"pid\": \\([0-9]*\\).*/\\1/p');"
    );
    (r, start)
}

#[test]
fn container_on_a_unified_cgroup_host() {
    let rune = Rune::new();
    let mut b = Bundle::new("cgv2");
    let cg = format!("/rune-test-v2a/{}", b.id);
    b.cgroups_path(Some(&cg)).namespace("cgroup", None).args(&[
        "sh",
        "-c",
        "grep cgroup2 /proc/self/mounts | cut -d' ' -f2,3; sleep 1000",
    ]);
    let (r, start) = started_in_script(&rune, &b);
    let id = &b.id;
    let script = format!(
        "{start} \
         grep -qx \"$pid\" /sys/fs/cgroup{cg}/cgroup.procs && echo member; \
         {r} pause {id}; {r} state {id} | grep -q '\"paused\"' && echo paused; \
         echo freeze=$(cat /sys/fs/cgroup{cg}/cgroup.freeze); \
         {r} resume {id}; {r} state {id} | grep -q '\"running\"' && echo resumed; \
         {r} delete --force {id}; [ ! -e /sys/fs/cgroup{cg} ] && echo removed; \
         rmdir /sys/fs/cgroup/rune-test-v2a 2>/dev/null || true"
    );
    let (ok, text) = on_v2_host(&rune, &script);
    assert!(ok, "{text}");
    for want in ["member", "paused", "freeze=1", "resumed", "removed"] {
        assert!(
            text.lines().any(|l| l.trim() == want),
            "no {want:?} in:\n{text}"
        );
    }
    assert!(
        text.contains("/sys/fs/cgroup cgroup2"),
        "the container's cgroup mount:\n{text}"
    );
}

/// On the emulated host the pids controller is v1's, absent from the unified tree: a pids limit
/// is a clear error naming it. On a real v2 host it is there, and the limit is written.
#[test]
fn absent_v2_controller_is_a_clear_error() {
    let rune = Rune::new();
    let mut b = Bundle::new("cgv2lim");
    b.cgroups_path(Some(&format!("/rune-test-v2b/{}", b.id)))
        .set("/linux/resources/pids", serde_json::json!({"limit": 10}))
        .args(&["cat", "/sys/fs/cgroup/pids.max"]);
    b.write();
    rune.track(&b.id);
    let script = format!(
        "{} --root {} run --bundle {} {} && echo run-succeeded; \
         rmdir /sys/fs/cgroup/rune-test-v2b 2>/dev/null || true",
        rune.bin().display(),
        rune.root().display(),
        b.path().display(),
        b.id
    );
    let (_, text) = on_v2_host(&rune, &script);
    if cgroup_v2() {
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        assert_eq!(lines, ["10", "run-succeeded"], "{text}");
    } else {
        assert!(!text.contains("run-succeeded"), "{text}");
        assert!(text.contains("pids"), "{text}");
    }
    assert!(rune.cmd(["list", "-q"]).run().stdout.trim().is_empty());
}

/// Containers created at the same moment under one new parent cgroup all start: whoever makes a
/// shared directory first, the others go on past it.
#[test]
fn concurrent_containers_share_a_new_parent() {
    let rune = Rune::new();
    let r = format!("{} --root {}", rune.bin().display(), rune.root().display());
    let parent = format!("rune-test-v2c-{}", std::process::id());
    let mut bundles = Vec::new();
    let mut script = String::from("set +e; ");
    for round in 0..4 {
        for _ in 0..6 {
            let mut b = Bundle::new("cgv2par");
            let cg = format!("/{parent}-{round}/a/b/{}", b.id);
            b.cgroups_path(Some(&cg)).args(&["true"]);
            b.write();
            rune.track(&b.id);
            script += &format!(
                "({r} run --bundle {} {} 2>&1 >/dev/null && echo ok-{} || echo FAILED-{}) & ",
                b.path().display(),
                b.id,
                b.id,
                b.id
            );
            bundles.push(b);
        }
        script += "wait; ";
        script += &format!(
            "rmdir /sys/fs/cgroup/{parent}-{round}/a/b /sys/fs/cgroup/{parent}-{round}/a \
             /sys/fs/cgroup/{parent}-{round}; "
        );
    }
    let (_, text) = on_v2_host(&rune, &script);
    for b in &bundles {
        assert!(
            text.lines().any(|l| l.trim() == format!("ok-{}", b.id)),
            "{} did not run:\n{text}",
            b.id
        );
    }
}

/// On a unified host too, a cgroup frozen beforehand (cgroup.freeze) is refused at once rather
/// than stopping the init in it; the `timeout` only keeps a regression from hanging the test.
#[test]
fn a_frozen_v2_cgroup_is_refused_at_create() {
    let rune = Rune::new();
    let mut b = Bundle::new("cgv2frozen");
    let cg = format!("/rune-test-v2f/{}", b.id);
    b.cgroups_path(Some(&cg)).args(&["sleep", "1000"]);
    b.write();
    rune.track(&b.id);
    let (r, id) = (
        format!("{} --root {}", rune.bin().display(), rune.root().display()),
        &b.id,
    );
    let script = format!(
        "mkdir -p /sys/fs/cgroup{cg}; echo 1 > /sys/fs/cgroup{cg}/cgroup.freeze; \
         timeout 15 {r} run -d --bundle {} {id} && echo unexpected-success; echo rc=$?; \
         [ -z \"$({r} list -q)\" ] && echo nothing-listed; \
         [ -z \"$(cat /sys/fs/cgroup{cg}/cgroup.procs)\" ] && echo no-process; \
         echo 0 > /sys/fs/cgroup{cg}/cgroup.freeze; rmdir /sys/fs/cgroup{cg} /sys/fs/cgroup/rune-test-v2f",
        b.path().display()
    );
    let (ok, text) = on_v2_host(&rune, &script);
    assert!(ok, "{text}");
    assert!(text.contains("unexpectedly frozen"), "{text}");
    for want in ["rc=1", "nothing-listed", "no-process"] {
        assert!(
            text.lines().any(|l| l.trim() == want),
            "no {want:?} in:\n{text}"
        );
    }
}

/// Without a cgroup namespace the container's own cgroup2 directory is bind-mounted at
/// /sys/fs/cgroup, read-only as the config asks.
#[test]
fn cgroup2_bind_mount_without_cgroup_namespace() {
    let rune = Rune::new();
    let mut b = Bundle::new("cgv2bind");
    let cg = format!("/rune-test-v2d/{}", b.id);
    b.cgroups_path(Some(&cg)).args(&[
        "sh",
        "-c",
        "grep ' /sys/fs/cgroup ' /proc/self/mounts | cut -d' ' -f3,4 | cut -d, -f1; \
         grep -qx 1 /sys/fs/cgroup/cgroup.procs && echo pid1-inside; \
         mkdir /sys/fs/cgroup/sub 2>/dev/null || echo refused",
    ]);
    b.write();
    rune.track(&b.id);
    let script = format!(
        "{} --root {} run --bundle {} {}; rmdir /sys/fs/cgroup/rune-test-v2d",
        rune.bin().display(),
        rune.root().display(),
        b.path().display(),
        b.id
    );
    let (ok, text) = on_v2_host(&rune, &script);
    assert!(ok, "{text}");
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    assert_eq!(lines, ["cgroup2 ro", "pid1-inside", "refused"], "{text}");
}

/// The init moves itself to a leaf below the container's cgroup and turns a controller on for
/// its children: cgroup v2 then refuses processes in the container's cgroup itself (EBUSY), and
/// `exec` joins the init's cgroup instead, as runc does. (The controller is the first the
/// container's cgroup has: hugetlb on the emulated host, cpuset or cpu on a real one.)
#[test]
fn exec_joins_the_init_cgroup_when_the_top_one_refuses() {
    let rune = Rune::new();
    let mut b = Bundle::new("cgv2exec");
    let cg = format!("/rune-test-v2e/{}", b.id);
    b.cgroups_path(Some(&cg)).args(&["sleep", "1000"]);
    let (r, start) = started_in_script(&rune, &b);
    let id = &b.id;
    let script = format!(
        "{start} \
         mkdir /sys/fs/cgroup{cg}/leaf; echo $pid > /sys/fs/cgroup{cg}/leaf/cgroup.procs; \
         echo +$(cut -d' ' -f1 /sys/fs/cgroup{cg}/cgroup.controllers) \
           > /sys/fs/cgroup{cg}/cgroup.subtree_control; \
         echo $$ > /sys/fs/cgroup{cg}/cgroup.procs 2>/dev/null || echo top-refuses; \
         {r} exec {id} grep ^0:: /proc/self/cgroup; \
         {r} delete --force {id}; [ ! -e /sys/fs/cgroup{cg} ] && echo removed; \
         rmdir /sys/fs/cgroup/rune-test-v2e"
    );
    let (ok, text) = on_v2_host(&rune, &script);
    assert!(ok, "{text}");
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    assert_eq!(
        lines,
        ["top-refuses", format!("0::{cg}/leaf").as_str(), "removed"],
        "{text}"
    );
}

/// Runs, on the unified host, a container with CAP_MKNOD, a tmpfs without nodev at /mnt/d,
/// `extra` device rules after the default deny-all, and `script`; returns its output lines.
fn with_device_rules(extra: Value, script: &str) -> Vec<String> {
    let rune = Rune::new();
    let mut b = Bundle::new("cgv2dev");
    let cg = format!("/rune-test-v2f/{}", b.id);
    let caps = json!(["CAP_MKNOD"]);
    for set in ["bounding", "effective", "permitted"] {
        b.set(&format!("/process/capabilities/{set}"), caps.clone());
    }
    for rule in extra.as_array().unwrap() {
        b.array_push("/linux/resources/devices", rule.clone());
    }
    b.cgroups_path(Some(&cg))
        .mount("/mnt/d", "tmpfs", "tmpfs", &["rw"])
        .sh(script);
    b.write();
    rune.track(&b.id);
    let run = format!(
        "{} --root {} run --bundle {} {}; rmdir /sys/fs/cgroup/rune-test-v2f",
        rune.bin().display(),
        rune.root().display(),
        b.path().display(),
        b.id
    );
    let (ok, text) = on_v2_host(&rune, &run);
    assert!(ok, "{text}");
    text.lines().map(|l| l.trim().to_string()).collect()
}

/// cgroup v2 has no devices controller: the config's device rules become an eBPF program on
/// the container's cgroup, the last matching rule deciding. With the default deny-all plus
/// the default nodes, a node the container makes for /dev/null works and one for a disk is
/// refused (EPERM); without the program the open reaches the driver (ENXIO here). A rule for
/// the disk with "r" lets reads through and still refuses writes.
#[test]
fn device_rules_are_an_ebpf_program() {
    let disk = "mknod /mnt/d/null c 1 3 && echo x > /mnt/d/null && echo null-ok; \
                mknod /mnt/d/disk b 8 0; head -c 1 /mnt/d/disk 2>&1 | sed 's/.*: //'; \
                (echo x > /mnt/d/disk) 2>&1 | sed 's/.*: //'";
    assert_eq!(
        with_device_rules(json!([]), disk),
        [
            "null-ok",
            "Operation not permitted",
            "Operation not permitted"
        ]
    );
    let read_only = json!([{"allow": true, "type": "b", "major": 8, "minor": 0, "access": "r"}]);
    assert_eq!(
        with_device_rules(read_only, disk),
        [
            "null-ok",
            "No such device or address",
            "Operation not permitted"
        ]
    );
}
