//! A container (or a careless caller's config) must not reach the host: leaked directory fds as
//! a cwd (CVE-2024-21626), the host's root during `exec`, a cgroupsPath climbing out of
//! cgroupfs, mounts made in the host's namespace. Each test is the attack.

use rune_integration::*;
use std::fs::File;
use std::path::{Path, PathBuf};

/// A host directory with a marker file a container must never see.
fn host_dir(rune: &Rune) -> (PathBuf, String) {
    let d = rune.scratch().join("host-secret");
    std::fs::create_dir_all(&d).unwrap();
    let marker = format!("HOST-MARKER-{}", std::process::id());
    std::fs::write(d.join(&marker), b"x").unwrap();
    (d, marker)
}

fn open_dir(d: &Path) -> File {
    File::open(d).unwrap()
}

/// A container whose root has CAP_SYS_PTRACE and a writable /tmp: the watcher of an attack.
fn ptrace_watcher(prefix: &str) -> Bundle {
    let mut b = Bundle::new(prefix);
    for set in ["bounding", "effective", "permitted"] {
        b.array_push(
            &format!("/process/capabilities/{set}"),
            json!("CAP_SYS_PTRACE"),
        );
    }
    b.writable_tmp();
    b
}

#[test]
fn a_cwd_through_an_inherited_fd_is_refused_at_create() {
    let rune = Rune::new();
    let (dir, marker) = host_dir(&rune);
    for n in 3..=5 {
        let mut b = Bundle::new("esccwd");
        b.cwd(&format!("/proc/self/fd/{n}"))
            .sh("ls; ls ../..; pwd -P");
        b.write();
        rune.track(&b.id);
        let mut inv = rune.cmd(["run", "--bundle", b.path().to_str().unwrap(), &b.id]);
        for _ in 3..=5 {
            inv = inv.pass_fd(open_dir(&dir));
        }
        let out = inv.run();
        assert!(!out.stdout.contains(&marker), "fd {n}: on the host: {out}");
        out.assert_fail_mentioning(&["cwd"]);
        assert_no_leaks(&rune, &b, None);
    }
}

#[test]
fn a_cwd_through_an_inherited_fd_is_refused_at_exec() {
    let rune = Rune::new();
    let (dir, marker) = host_dir(&rune);
    let mut b = Bundle::new("escexec");
    b.args(&["sleep", "1000"]);
    let (_, pid) = rune.start_container(&b);
    let out = rune
        .cmd([
            "exec",
            "--cwd",
            "/proc/self/fd/3",
            &b.id,
            "sh",
            "-c",
            "ls; ls ../..",
        ])
        .pass_fd(open_dir(&dir))
        .run();
    assert!(!out.stdout.contains(&marker), "on the host: {out}");
    out.assert_fail_mentioning(&["cwd"]);
    // A relative cwd and empty args are refused too, with the field named (no panic).
    let rel = rune.exec(&b.id, &["--cwd", "tmp", "true"]);
    rel.assert_fail_mentioning(&["cwd"]);
    let proc_json = rune.scratch().join("noargs.json");
    std::fs::write(
        &proc_json,
        r#"{"args": [], "cwd": "/", "user": {"uid": 0, "gid": 0}}"#,
    )
    .unwrap();
    let noargs = rune.exec(&b.id, &["--process", proc_json.to_str().unwrap()]);
    noargs.assert_fail_mentioning(&["args must not be empty"]);
    assert_ne!(noargs.code, Some(101), "rune panicked: {noargs}");
    rune.delete_force(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
}

#[test]
fn the_enclave_keeper_keeps_no_fd_of_its_creator() {
    let rune = Rune::new();
    let (dir, marker) = host_dir(&rune);
    let (mut b, _trace) = skeleton_bundle("escenc", 3);
    b.args(&["sleep", "1000"]);
    let pid_file = rune.pid_file(&b.id);
    let mut inv = rune.create_cmd(&b);
    for _ in 3..=9 {
        inv = inv.pass_fd(open_dir(&dir));
    }
    inv.run().assert_ok();
    rune.start(&b.id).assert_ok();
    let pid = read_pid_file(&pid_file);
    // Nothing the init holds leads to the host directory.
    for e in std::fs::read_dir(format!("/proc/{pid}/fd")).unwrap() {
        let link = std::fs::read_link(e.unwrap().path()).unwrap_or_default();
        assert!(!link.starts_with(&dir), "the enclave keeper holds {link:?}");
    }
    // A later, clean exec cannot use them either.
    for n in 3..=9 {
        let out = rune.exec(&b.id, &["--cwd", &format!("/proc/self/fd/{n}"), "ls"]);
        assert!(!out.stdout.contains(&marker), "fd {n}: on the host: {out}");
        assert!(
            !out.success(),
            "fd {n}: a cwd outside the root was accepted: {out}"
        );
    }
    rune.delete_force(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
}

#[test]
fn exec_never_shows_the_host_root_in_the_container() {
    // A container root with CAP_SYS_PTRACE watches /proc/*/root of every process while
    // processes are exec'd into it: the host's root must never show.
    let rune = Rune::new();
    let marker = rune.scratch().join("host-root-marker");
    std::fs::write(&marker, b"x").unwrap();
    let mut b = ptrace_watcher("escroot");
    b.sh(&format!(
        "while :; do for p in /proc/[0-9]*; do \
           [ -e $p/root{} ] && echo ESCAPED >> /tmp/seen; done; done",
        marker.display()
    ));
    let (_, pid) = rune.start_container(&b);
    for _ in 0..40 {
        rune.exec(&b.id, &["true"]).assert_ok();
    }
    let seen = rune.exec(&b.id, &["sh", "-c", "cat /tmp/seen 2>/dev/null; echo end"]);
    seen.assert_ok();
    assert_eq!(seen.stdout.trim(), "end", "the host's root was visible");
    rune.delete_force(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
}

#[test]
fn a_cgroups_path_with_dotdot_stays_inside_cgroupfs() {
    let rune = Rune::new();
    let name = format!("rune-esc-{}", std::process::id());
    let evil = format!("/rune-test/../../../../../../tmp/{name}");
    let mut b = Bundle::new("esccg");
    b.cgroups_path(Some(&evil)).sh("cat /proc/self/cgroup");
    let out = rune.run(&b);
    out.assert_ok();
    assert!(
        !Path::new("/tmp").join(&name).exists(),
        "a cgroup was made as a plain host directory"
    );
    assert!(out.stdout.contains(&format!(":/tmp/{name}")), "{out}");
    // Cleaned, it names /tmp/<name> in each hierarchy, which delete removed.
    assert!(!cgroup_dir("memory", &format!("/tmp/{name}")).exists());
    assert_no_leaks(&rune, &b, None);
}

#[test]
fn masked_paths_without_a_mount_namespace_are_refused() {
    let before = std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .count();
    let rune = Rune::new();
    let mut b = Bundle::new("escmnt");
    b.remove_namespace("mount").args(&["true"]);
    let out = rune.run(&b);
    out.assert_fail_mentioning(&["mount namespace"]);
    assert_no_leaks(&rune, &b, None);
    // Read-only paths alone, and a read-only root, likewise.
    let mut b = Bundle::new("escmnt2");
    b.remove_namespace("mount")
        .unset("/linux/maskedPaths")
        .args(&["true"]);
    rune.run(&b).assert_fail_mentioning(&["mount namespace"]);
    let after = std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .count();
    assert!(
        after <= before,
        "mounts leaked into the host: {before} -> {after}"
    );
}

#[test]
fn exec_never_shows_the_callers_fds_in_the_container() {
    // A container root with CAP_SYS_PTRACE watches the fds of every process it can see while a
    // caller holding a host directory open (fds 3..9, not preserved) execs into it: no process
    // in the container, the exec's own init included, may ever hold one of them.
    let rune = Rune::new();
    let (dir, _) = host_dir(&rune);
    let mut b = ptrace_watcher("escfds");
    b.sh(&format!(
        "while :; do for p in /proc/[0-9]*; do \
           ls -l $p/fd 2>/dev/null | grep -q {} && echo \"SEEN in $p\" >> /tmp/seen; done; done",
        dir.display()
    ));
    let (_, pid) = rune.start_container(&b);
    for _ in 0..40 {
        let mut inv = rune.cmd(["exec", &b.id, "true"]);
        for _ in 3..=9 {
            inv = inv.pass_fd(open_dir(&dir));
        }
        inv.run().assert_ok();
    }
    let seen = rune.exec(&b.id, &["sh", "-c", "cat /tmp/seen 2>/dev/null; echo end"]);
    seen.assert_ok();
    assert_eq!(seen.stdout.trim(), "end", "a caller's fd was visible");
    rune.delete_force(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
}
