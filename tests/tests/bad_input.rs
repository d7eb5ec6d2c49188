//! Bad input: each fails with a non-zero exit, names the cause on stderr and
//! leaves nothing behind.

use rune_integration::*;

/// `create` must fail naming every one of `causes` (the cause, not a word any error has),
/// leaving no state, cgroup or container behind.
#[track_caller]
fn create_fails(rune: &Rune, b: &Bundle, causes: &[&str]) -> Output {
    let out = rune
        .cmd([
            "create",
            "--bundle",
            b.path().to_str().unwrap(),
            "--pid-file",
            rune.pid_file(&b.id).to_str().unwrap(),
            b.id.as_str(),
        ])
        .run();
    rune.track(&b.id);
    out.assert_fail_mentioning(causes);
    assert_no_leaks(rune, b, None);
    assert_nothing_in_root(rune);
    out
}

#[track_caller]
fn assert_nothing_in_root(rune: &Rune) {
    let out = rune.cmd(["list", "-q"]).run();
    out.assert_ok();
    assert_eq!(out.stdout.trim(), "", "containers left behind: {out}");
}

/// A bundle whose spec has been edited by `edit` and written out.
fn bundle_with(prefix: &str, edit: impl FnOnce(&mut Bundle)) -> Bundle {
    let mut b = Bundle::new(prefix);
    b.args(&["true"]);
    edit(&mut b);
    b.write();
    b
}

#[test]
fn malformed_config_json() {
    let rune = Rune::new();
    let b = Bundle::new("badjson");
    b.write_raw("{\"ociVersion\": \"1.0.2\", not json");
    create_fails(&rune, &b, &["invalid config.json", "at line 1 column"]);
}

#[test]
fn schema_invalid_args_type() {
    let rune = Rune::new();
    let b = bundle_with("badargs", |b| {
        b.set("/process/args", json!("notalist"));
    });
    create_fails(
        &rune,
        &b,
        &["invalid config.json", "notalist", "expected a sequence"],
    );
}

#[test]
fn missing_process_args() {
    let rune = Rune::new();
    let b = bundle_with("noargs", |b| {
        b.unset("/process/args");
    });
    create_fails(&rune, &b, &["process.args must not be empty"]);
    let b = bundle_with("emptyargs", |b| {
        b.args(&[]);
    });
    create_fails(&rune, &b, &["process.args must not be empty"]);
}

#[test]
fn missing_process() {
    let rune = Rune::new();
    let b = bundle_with("noprocess", |b| {
        b.unset("/process");
    });
    create_fails(&rune, &b, &["config.json: process is missing"]);
}

#[test]
fn missing_root() {
    let rune = Rune::new();
    let b = bundle_with("noroot", |b| {
        b.unset("/root");
    });
    create_fails(&rune, &b, &["config.json: root is missing"]);
}

#[test]
fn oci_version_not_semver() {
    let rune = Rune::new();
    for v in ["invalid", "1.0", "1.0.2.3", "01.0.0", "1.0.0-", ""] {
        let b = bundle_with("badversion", |b| {
            b.set("/ociVersion", json!(v));
        });
        create_fails(&rune, &b, &["ociVersion", "is not a SemVer version"]);
    }
    // What real callers send is fine.
    for v in ["1.0.0", "1.0.2-dev", "1.2.1", "1.1.0-rc.1+build.5"] {
        let b = bundle_with("goodversion", |b| {
            b.set("/ociVersion", json!(v));
        });
        rune.run(&b).assert_ok();
    }
}

#[test]
fn relative_cwd() {
    let rune = Rune::new();
    let b = bundle_with("relcwd", |b| {
        b.cwd("relative/dir");
    });
    create_fails(&rune, &b, &["process.cwd", "is not an absolute path"]);
}

#[test]
fn invalid_container_ids() {
    let rune = Rune::new();
    let b = bundle_with("badid", |_| {});
    // A nested root, so that `..` names a sacrificial directory holding a
    // canary rather than /tmp.
    let sandbox = rune.scratch().join("sandbox");
    let root = sandbox.join("root");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(sandbox.join("canary"), "x").unwrap();
    let root_arg = root.to_str().unwrap();
    for id in ["", "a/b", "..", "a b", "../escape", "."] {
        let out = rune
            .cmd(["create", "--bundle", b.path().to_str().unwrap(), id])
            .without_root()
            .global(["--root", root_arg])
            .run();
        out.assert_fail();
        let err = out.stderr.to_lowercase();
        assert!(
            err.contains("container id") || (!id.is_empty() && err.contains(id)),
            "stderr should name the bad id {id:?}:\n{out}"
        );
        let list = rune
            .cmd(["list", "-q"])
            .without_root()
            .global(["--root", root_arg])
            .run();
        list.assert_ok();
        assert_eq!(list.stdout.trim(), "", "{list}");
    }
    assert!(
        sandbox.join("canary").exists(),
        "the root's parent was damaged"
    );
    assert!(!sandbox.join("escape").exists(), "an id escaped the root");
    assert!(!root.join("a").exists(), "an id with / made a directory");
    assert_no_leaks(&rune, &b, None);
}

#[test]
fn duplicate_id() {
    let rune = Rune::new();
    let mut b = Bundle::new("dupid");
    b.args(&["sleep", "1000"]);
    let (_, pid) = rune.create_ok(&b);
    let out = rune
        .cmd([
            "create",
            "--bundle",
            b.path().to_str().unwrap(),
            b.id.as_str(),
        ])
        .run();
    out.assert_fail_mentioning(&["exist", &b.id]);
    // The first container is untouched.
    let st = rune.state(&b.id);
    assert_eq!(st["status"], "created");
    assert_eq!(st["pid"], pid);
    rune.delete_force(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
}

#[test]
fn missing_bundle_dir() {
    let rune = Rune::new();
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-bundle");
    let id = unique_id("nobundle");
    rune.cmd(["create", "--bundle", missing.to_str().unwrap(), id.as_str()])
        .run()
        .assert_fail_mentioning(&["no-such-bundle"]);
    assert_nothing_in_root(&rune);
}

#[test]
fn missing_config_json() {
    let rune = Rune::new();
    let b = Bundle::new("nocfg");
    create_fails(&rune, &b, &["config.json: no such file"]);
}

#[test]
fn missing_rootfs() {
    let rune = Rune::new();
    let b = bundle_with("norootfs", |b| {
        b.set("/root/path", json!("/nonexistent-rootfs-dir"));
    });
    create_fails(&rune, &b, &["rootfs /nonexistent-rootfs-dir: no such file"]);
    let b = bundle_with("norootfsrel", |b| {
        b.set("/root/path", json!("rootfs"));
    });
    let bundle_rootfs = format!("rootfs {}: no such file", b.file("rootfs").display());
    create_fails(&rune, &b, &[&bundle_rootfs]);
}

#[test]
fn nonexistent_executable() {
    let rune = Rune::new();
    let b = bundle_with("noexe", |b| {
        b.args(&["/nonexistent"]);
    });
    create_fails(&rune, &b, &["exec:", "stat /nonexistent: no such file"]);
    let b = bundle_with("noexepath", |b| {
        b.args(&["no-such-command-xyz"]);
    });
    create_fails(
        &rune,
        &b,
        &["no-such-command-xyz", "executable file not found in $PATH"],
    );
    // Also through `run`.
    let b = bundle_with("noexerun", |b| {
        b.args(&["/nonexistent"]);
    });
    rune.run(&b).assert_fail_mentioning(&["/nonexistent"]);
    assert_no_leaks(&rune, &b, None);
    assert_nothing_in_root(&rune);
}

#[test]
fn non_executable_file() {
    let rune = Rune::new();
    let b = bundle_with("noperm", |b| {
        b.args(&["/etc/passwd"]);
    });
    create_fails(&rune, &b, &["exec:", "/etc/passwd", "permission denied"]);
}

#[test]
fn cwd_is_a_file() {
    let rune = Rune::new();
    let b = bundle_with("cwdfile", |b| {
        b.cwd("/etc/passwd");
    });
    create_fails(&rune, &b, &["chdir to cwd /etc/passwd: not a directory"]);
}

#[test]
fn bind_mount_source_missing() {
    let rune = Rune::new();
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("missing-source");
    let b = bundle_with("nobindsrc", |b| {
        b.bind(&src, "/mnt/a", &["bind"]);
    });
    create_fails(
        &rune,
        &b,
        &["mount /mnt/a: bind", "missing-source: no such file"],
    );
}

/// The idmapped mounts the spec says must fail (config.md, `idmap`): no mappings on the mount
/// and no user namespace to take them from; a mapping that is not a bind; uidMappings without
/// gidMappings. Each names the mount and the cause, and leaves nothing.
#[test]
fn idmapped_mounts_that_cannot_be_are_refused() {
    let rune = Rune::new();
    let dir = tempfile::tempdir().unwrap();
    let map = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
    let b = bundle_with("idmapnons", |b| {
        b.bind(dir.path(), "/mnt/a", &["rbind", "ridmap"]);
    });
    create_fails(
        &rune,
        &b,
        &[
            "mount /mnt/a: option",
            "ridmap",
            "needs uidMappings and gidMappings on the mount, or a user namespace",
        ],
    );
    let b = bundle_with("idmaptmpfs", |b| {
        b.user_namespace(100000, 65536)
            .mount("/mnt/a", "tmpfs", "tmpfs", &["idmap"]);
    });
    create_fails(
        &rune,
        &b,
        &["mount /mnt/a", "only supported for bind mounts"],
    );
    let b = bundle_with("idmaphalf", |b| {
        b.bind(dir.path(), "/mnt/a", &["rbind", "idmap"]);
        let m = b.spec["mounts"].as_array_mut().unwrap().last_mut().unwrap();
        m["uidMappings"] = map.clone();
    });
    create_fails(
        &rune,
        &b,
        &["mount /mnt/a", "both uidMappings and gidMappings"],
    );
}

#[test]
fn unknown_namespace_type() {
    let rune = Rune::new();
    let b = bundle_with("badns", |b| {
        b.namespace("bogus", None);
    });
    create_fails(
        &rune,
        &b,
        &["invalid config.json", "unknown variant `bogus`"],
    );
}

#[test]
fn unknown_rlimit() {
    let rune = Rune::new();
    let b = bundle_with("badrlimit", |b| {
        b.set(
            "/process/rlimits",
            json!([{"type": "RLIMIT_BOGUS", "soft": 1, "hard": 1}]),
        );
    });
    create_fails(
        &rune,
        &b,
        &["invalid config.json", "unknown variant `RLIMIT_BOGUS`"],
    );
}

#[test]
fn unknown_signal() {
    let rune = Rune::new();
    let mut b = Bundle::new("badsig");
    b.args(&["sleep", "1000"]);
    let (_, pid) = rune.start_container(&b);
    for sig in ["FOO", "SIGFOO"] {
        rune.kill(&b.id, Some(sig)).assert_fail_mentioning(&[sig]);
    }
    rune.kill(&b.id, Some("99999")).assert_fail();
    rune.kill(&b.id, Some("-1")).assert_fail();
    // 0 only checks the init is there, as kill(1) and runc do.
    rune.kill(&b.id, Some("0")).assert_ok();
    // The container is untouched.
    assert_eq!(rune.status(&b.id), "running");
    assert!(pid_alive(pid));
    rune.delete_force(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
}

#[test]
fn unknown_subcommand_and_missing_id() {
    let rune = Rune::new();
    // Usage errors exit 1, as runc's do; an unknown command 3, with urfave/cli's words.
    let unknown = rune.cmd(["frobnicate"]).run();
    assert_eq!(unknown.exit_code(), 3, "{unknown}");
    unknown.assert_fail_mentioning(&["No help topic for 'frobnicate'"]);
    assert_eq!(rune.cmd(["--bogus", "list"]).run().exit_code(), 1);
    for sub in ["start", "state", "kill", "delete"] {
        assert_eq!(rune.cmd([sub]).run().exit_code(), 1, "{sub}");
    }
    assert_eq!(rune.cmd(["--help"]).run().exit_code(), 0);
    // runc's checkpoint and restore, with their flags: the checks runc makes before CRIU,
    // then rune's own clear error.
    rune.cmd([
        "checkpoint",
        "--image-path",
        "/tmp/x",
        "--leave-running",
        "c",
    ])
    .run()
    .assert_fail_mentioning(&["does not exist"]);
    rune.cmd(["restore", "-d", "--image-path", "/tmp/x", "c"])
        .run()
        .assert_fail_mentioning(&["not supported"]);
}

#[test]
fn checkpoint_and_restore_check_their_arguments_as_runc_does() {
    let rune = Rune::new();
    let mut b = Bundle::new("ckpt");
    b.args(&["sleep", "1000"]);
    let (_, pid) = rune.create_ok(&b);
    // A created container cannot be checkpointed (runc's words).
    rune.cmd(["checkpoint", &b.id])
        .run()
        .assert_fail_mentioning(&["cannot be checkpointed in created state"]);
    rune.start(&b.id).assert_ok();
    let images = rune.scratch().join("images");
    std::fs::create_dir_all(images.join("parent")).unwrap();
    let img = images.to_str().unwrap();
    for (parent, words) in [
        ("/abs", "--parent-path must be relative"),
        ("missing", "invalid --parent-path"),
    ] {
        rune.cmd([
            "checkpoint",
            "--image-path",
            img,
            "--parent-path",
            parent,
            &b.id,
        ])
        .run()
        .assert_fail_mentioning(&[words]);
        rune.cmd([
            "restore",
            "--image-path",
            img,
            &format!("--parent-path={parent}"),
            "r",
        ])
        .run()
        .assert_fail_mentioning(&[words]);
    }
    rune.cmd([
        "checkpoint",
        "--image-path",
        img,
        "--parent-path",
        "parent",
        &b.id,
    ])
    .run()
    .assert_fail_mentioning(&["not supported"]);
    assert_eq!(rune.status(&b.id), "running");
    rune.delete_force(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
}
