//! A plain user on the host must not reach a container or its state: every file and socket
//! rune makes has an explicit mode whatever the umask, a --root others can write is refused,
//! and the enclave keeper serves only root and the container's owner. Each test is the attack.

use rune_integration::*;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;

fn mode(p: &Path) -> u32 {
    std::fs::symlink_metadata(p)
        .unwrap_or_else(|e| panic!("stat {p:?}: {e}"))
        .mode()
        & 0o7777
}

fn chmod(p: &Path, m: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
}

/// `sh -c script` as the plain test user.
fn as_user(script: &str) -> std::process::Output {
    ensure_test_user();
    Command::new("runuser")
        .args(["-u", TEST_USER, "--", "/bin/sh", "-c", script])
        .output()
        .expect("run runuser")
}

/// `create` of an enclave container under `umask`, with a pid file.
fn create_with_umask(rune: &Rune, b: &Bundle, umask: u32) {
    rune.create_cmd(b).umask(umask).run().assert_ok();
}

#[test]
fn state_files_and_the_enclave_socket_ignore_the_umask() {
    for umask in [0o000, 0o077] {
        let rune = Rune::new();
        let (mut b, _trace) = skeleton_bundle("secmode", 3);
        b.args(&["sleep", "1000"]);
        create_with_umask(&rune, &b, umask);
        let dir = rune.root().join(&b.id);
        assert_eq!(mode(&dir), 0o700, "state directory, umask {umask:03o}");
        assert_eq!(mode(&dir.join("state.json")), 0o600, "umask {umask:03o}");
        assert_eq!(mode(&dir.join("exec.fifo")), 0o600, "umask {umask:03o}");
        assert_eq!(mode(&dir.join("enclave.sock")), 0o600, "umask {umask:03o}");
        assert_eq!(mode(&rune.pid_file(&b.id)), 0o644, "umask {umask:03o}");
        rune.delete_force(&b.id).assert_ok();
        assert_no_leaks(&rune, &b, None);
    }
    // A root rune makes itself is 0700 too.
    let rune = Rune::new();
    let root = rune.scratch().join("new-root");
    let mut b = Bundle::new("secnewroot");
    b.args(&["true"]);
    b.write();
    let out = rune
        .cmd([
            "--root",
            root.to_str().unwrap(),
            "run",
            "--bundle",
            b.path().to_str().unwrap(),
            &b.id,
        ])
        .without_root()
        .umask(0)
        .run();
    out.assert_ok();
    assert_eq!(mode(&root), 0o700);
}

#[test]
fn a_root_that_other_users_can_write_is_refused() {
    let rune = Rune::new();
    chmod(rune.root(), 0o777);
    let mut b = Bundle::new("secroot");
    b.args(&["true"]);
    let out = rune.create(&b);
    out.assert_fail_mentioning(&["writable by other users"]);
    assert!(!rune.root().join(&b.id).exists());
    // A state a plain user planted there is never read (its hooks never run as root).
    rune.cmd(["list"])
        .run()
        .assert_fail_mentioning(&["writable by other users"]);
    rune.delete_force(&b.id)
        .assert_fail_mentioning(&["writable by other users"]);
    chmod(rune.root(), 0o700);
    assert_no_leaks(&rune, &b, None);
}

#[test]
fn a_plain_user_cannot_read_or_edit_a_container_state() {
    let rune = Rune::new();
    // As a careless admin might leave it: the root itself readable by all.
    chmod(rune.root(), 0o755);
    let mut b = Bundle::new("secstate");
    b.args(&["sleep", "1000"]).env("SECRET=hunter2");
    let (_, pid) = rune.create_ok(&b);
    let state = rune.root().join(&b.id).join("state.json");
    let out = as_user(&format!(
        "cat {0} && echo READ; echo '{{}}' > {0} && echo WROTE; \
         ls {1} && echo LISTED",
        state.display(),
        rune.root().join(&b.id).display()
    ));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !stdout.contains("hunter2"),
        "the user read the config: {stdout}"
    );
    for what in ["READ", "WROTE", "LISTED"] {
        assert!(!stdout.contains(what), "the user could: {stdout}");
    }
    // The state is intact: root's own commands still work on it.
    assert_eq!(rune.status(&b.id), "created");
    rune.delete_force(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
}

#[test]
fn the_enclave_keeper_refuses_a_plain_user() {
    let rune = Rune::new();
    let (mut b, trace) = skeleton_bundle("secpeer", 3);
    b.args(&["sleep", "1000"]);
    let (_, pid) = rune.start_container(&b);
    // Undo the file-system defence by hand (the modes of an older rune), so that only the
    // enclave keeper's own check stands between the user and an exec in the enclave.
    let dir = rune.root().join(&b.id);
    chmod(rune.root(), 0o755);
    chmod(&dir, 0o755);
    chmod(&dir.join("state.json"), 0o644);
    chmod(&dir.join("enclave.sock"), 0o666);
    let out = as_user(&format!(
        "{} --root {} exec {} cat /etc/shadow </",
        user_rune_bin().display(),
        rune.root().display(),
        b.id
    ));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the exec was served: {out:?}");
    assert!(
        stderr.contains(&format!("refused a connection from uid {TEST_UID}")),
        "the refusal does not say why: {stderr}"
    );
    assert!(
        !trace.calls().iter().any(|c| c.contains("[cat,")),
        "the enclave started the user's process:\n{}",
        trace.dump()
    );
    // Root is still served.
    let ok = rune.exec(&b.id, &["echo", "root-ok"]);
    ok.assert_ok();
    assert_eq!(ok.stdout.trim(), "root-ok");
    rune.delete_force(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
}
