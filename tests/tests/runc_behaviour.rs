//! Behaviour a container manager or a person can tell apart from runc's: each test states
//! what runc 1.1.5 does, and fails where rune did otherwise.

use rune_integration::*;

#[test]
fn exec_env_overrides_the_configs_variable() {
    // runc: the command line wins over config.json's env for the same name.
    let rune = Rune::new();
    let mut b = Bundle::new("rcenv");
    b.env("FOO=config").args(&["sleep", "1000"]);
    let (_, pid) = rune.start_container(&b);
    // `env` shows the environment as execve got it (a shell would tidy duplicates away).
    let out = rune.exec(&b.id, &["--env", "FOO=cli", "env"]);
    out.assert_ok();
    let foo: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("FOO="))
        .collect();
    assert_eq!(foo, ["FOO=cli"], "{out}");
    rune.delete_force(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
}

#[test]
fn exec_process_json_without_user_runs_as_the_containers_user() {
    let rune = Rune::new();
    let mut b = Bundle::new("rcpuser");
    b.user(1000, 1000, &[]).args(&["sleep", "1000"]);
    let (_, pid) = rune.start_container(&b);
    let p = rune.scratch().join("p.json");
    std::fs::write(
        &p,
        r#"{"args": ["/bin/sh", "-c", "/bin/id -u; /bin/id -g"], "cwd": "/"}"#,
    )
    .unwrap();
    let out = rune.exec(&b.id, &["--process", p.to_str().unwrap()]);
    out.assert_ok();
    assert_eq!(out.stdout, "1000\n1000\n", "{out}");
    rune.delete_force(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
}

#[test]
fn container_hooks_get_the_process_environment_and_the_root_as_cwd() {
    // runc's init has the process's environment when it runs createContainer and
    // startContainer hooks without an env of their own; createContainer runs in the
    // container's root (before the switch), not in the bundle.
    let rune = Rune::new();
    let out_dir = rune.scratch().join("hooks");
    std::fs::create_dir_all(&out_dir).unwrap();
    let mut b = Bundle::new("rchooks");
    b.env("HOOKVAR=from-process").args(&["true"]);
    let o = out_dir.to_str().unwrap();
    b.hook(
        "createContainer",
        json!({"path": "/bin/sh", "args": ["sh", "-c", format!("pwd > {o}/cwd; echo $HOOKVAR > {o}/create")]}),
    );
    b.writable_tmp().hook(
        "startContainer",
        json!({"path": "/bin/sh", "args": ["sh", "-c", "echo $HOOKVAR > /tmp/start; cat /tmp/start"]}),
    );
    let out = rune.run(&b);
    out.assert_ok();
    let read = |f: &str| std::fs::read_to_string(out_dir.join(f)).unwrap_or_default();
    assert_eq!(read("create").trim(), "from-process");
    assert_eq!(read("cwd").trim(), rootfs().to_str().unwrap());
    assert_no_leaks(&rune, &b, None);
    // A hook given an env gets exactly that.
    let mut b = Bundle::new("rchooks2");
    b.env("HOOKVAR=from-process").args(&["true"]);
    b.hook(
        "createContainer",
        json!({"path": "/bin/sh", "args": ["sh", "-c", format!("echo \"[$HOOKVAR]\" > {o}/own")],
               "env": ["OTHER=1"]}),
    );
    rune.run(&b).assert_ok();
    assert_eq!(read("own").trim(), "[]");
    assert_no_leaks(&rune, &b, None);
}

#[test]
fn a_failed_hook_says_error_running_hook() {
    let rune = Rune::new();
    let mut b = Bundle::new("rchookerr");
    b.args(&["true"])
        .hook("prestart", json!({"path": "/bin/false", "args": ["false"]}));
    rune.run(&b)
        .assert_fail_mentioning(&["error running prestart hook #0"]);
    assert_no_leaks(&rune, &b, None);
}

/// The console's pty belongs to the process's uid and keeps the group devpts gave it, the tty
/// group (gid=5 in the usual devpts options), for `run` and `exec`, root or not (runc's
/// tty.bats "tty owner").
#[test]
fn the_console_belongs_to_the_processs_user_and_the_tty_group() {
    for (uid, gid, want) in [(0, 0, "owner=0:5"), (1000, 1001, "owner=1000:5")] {
        let rune = Rune::new();
        let mut b = Bundle::new("rcttyown");
        b.terminal(true)
            .user(uid, gid, &[])
            .sh("stat -c owner=%u:%g $(tty); sleep 1000");
        let console = ConsoleSocket::new(b"");
        let out = rune.run_with(
            &b,
            &["-d", "--console-socket", console.path().to_str().unwrap()],
        );
        out.assert_ok();
        let exec_console = ConsoleSocket::new(b"");
        rune.cmd([
            "exec",
            "-t",
            "--user",
            &format!("{uid}:{gid}"),
            "--console-socket",
            exec_console.path().to_str().unwrap(),
            &b.id,
            "sh",
            "-c",
            "stat -c owner=%u:%g $(tty)",
        ])
        .run()
        .assert_ok();
        let exec_cap = exec_console.finish();
        assert!(
            exec_cap.output.contains(want),
            "exec: {:?}",
            exec_cap.output
        );
        rune.delete_force(&b.id).assert_ok();
        let cap = console.finish();
        assert!(cap.output.contains(want), "run: {:?}", cap.output);
        assert_no_leaks(&rune, &b, None);
    }
}

#[test]
fn a_cwd_only_root_can_enter_still_works_for_a_user() {
    // runc enters the cwd before it drops privileges.
    let rune = Rune::new();
    let mut b = Bundle::new("rccwd");
    b.mount("/secret", "tmpfs", "tmpfs", &["mode=0700"])
        .user(42, 42, &[])
        .cwd("/secret")
        .sh("pwd");
    let out = rune.run(&b);
    out.assert_ok();
    assert_eq!(out.stdout, "/secret\n", "{out}");
    assert_no_leaks(&rune, &b, None);
}

#[test]
fn state_and_list_print_runcs_field_order() {
    let rune = Rune::new();
    let mut b = Bundle::new("rcorder");
    b.args(&["sleep", "1000"])
        .set("/annotations", json!({"b": "2", "a": "1"}));
    let (_, pid) = rune.create_ok(&b);
    // The tests' serde_json keeps the order fields came in (preserve_order).
    let keys = |v: &Value| -> Vec<String> { v.as_object().unwrap().keys().cloned().collect() };
    let runc = [
        "ociVersion",
        "id",
        "pid",
        "status",
        "bundle",
        "rootfs",
        "created",
        "annotations",
        "owner",
    ];
    let state = rune.state_raw(&b.id);
    state.assert_ok();
    assert_eq!(keys(&state.json()), runc, "{}", state.stdout);
    let list = rune.cmd(["list", "--format", "json"]).run();
    list.assert_ok();
    assert_eq!(keys(&list.json()[0]), runc, "{}", list.stdout);
    rune.delete_force(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
}

#[test]
fn version_prints_runcs_lines() {
    let rune = Rune::new();
    let out = rune.cmd(["--version"]).run();
    out.assert_ok();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(lines[0].starts_with("rune version "), "{out}");
    assert!(lines[1].starts_with("commit: "), "{out}");
    assert!(lines[2].starts_with("spec: 1."), "{out}");
    assert!(
        lines.iter().any(|l| l.starts_with("libseccomp: 2.")),
        "{out}"
    );
}

#[test]
fn help_has_runcs_layout() {
    let rune = Rune::new();
    for args in [vec!["--help"], vec!["-h"]] {
        let out = rune.cmd(&args).run();
        out.assert_ok();
        let heads: Vec<&str> = out
            .stdout
            .lines()
            .filter(|l| l.ends_with(':') && !l.starts_with(' '))
            .collect();
        assert_eq!(
            heads,
            [
                "NAME:",
                "USAGE:",
                "VERSION:",
                "COMMANDS:",
                "GLOBAL OPTIONS:"
            ],
            "{out}"
        );
    }
    for args in [
        vec!["create", "-h"],
        vec!["help", "create"],
        vec!["kill", "--help"],
    ] {
        let out = rune.cmd(&args).run();
        out.assert_ok();
        let name = args
            .iter()
            .find(|a| !a.starts_with('-') && **a != "help")
            .unwrap();
        assert!(
            out.stdout.starts_with(&format!("NAME:\n   rune {name} - ")),
            "{out}"
        );
        assert!(out.stdout.contains("\nUSAGE:\n   rune "), "{out}");
        assert!(out.stdout.contains("\nOPTIONS:\n"), "{out}");
    }
}

#[test]
fn without_a_mount_namespace_the_rootfs_is_still_bound_onto_itself() {
    // runc binds the rootfs onto itself in the caller's mount namespace, where it stays: the
    // tools that unmount the rootfs afterwards expect that mount.
    let rune = Rune::new();
    let root = rune.scratch().join("rootfs");
    rootfs_copy(&root);
    let mounted = || {
        std::fs::read_to_string("/proc/self/mountinfo")
            .unwrap()
            .lines()
            .any(|l| l.split(' ').nth(4) == root.to_str())
    };
    let mut b = Bundle::new("rcnomnt");
    b.set("/root/path", json!(root.to_str().unwrap()))
        .remove_namespace("mount")
        .unset("/linux/maskedPaths")
        .unset("/linux/readonlyPaths")
        .readonly(false)
        .set("/mounts", json!([]))
        .args(&["/bin/true"]);
    let out = rune.run(&b);
    out.assert_ok();
    assert!(mounted(), "no bind of the rootfs onto itself");
    let c = std::ffi::CString::new(root.to_str().unwrap()).unwrap();
    // SAFETY: umount2 with a valid path.
    assert_eq!(unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) }, 0);
    assert_no_leaks(&rune, &b, None);
}

#[test]
fn a_bind_source_the_user_namespace_cannot_reach_is_mounted() {
    // runc opens bind sources before the init enters the user namespace and mounts them by
    // fd: a source below a directory only host root may enter still works.
    let rune = Rune::new();
    let private = rune.scratch().join("private");
    let data = private.join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("file"), "reached\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    // The mapped root cannot make the mount point in the shared rootfs: it exists already.
    ensure_mount_point("/data");
    let mut b = Bundle::new("rcuserbind");
    b.user_namespace(200000, 65536)
        .bind(&data, "/data", &["rbind", "ro"])
        .sh("cat /data/file; touch /data/x 2>/dev/null && echo WRITABLE; true");
    let out = rune.run(&b);
    out.assert_ok();
    assert_eq!(out.stdout, "reached\n", "{out}");
    assert_no_leaks(&rune, &b, None);
}
