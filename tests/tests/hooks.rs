//! OCI hooks.

use rune_integration::*;
use std::path::Path;

/// A host hook: `/bin/sh -c <script>`.
fn sh_hook(script: &str) -> Value {
    json!({"path": "/bin/sh", "args": ["sh", "-c", script]})
}

const HOST_HOOKS: &[&str] = &[
    "prestart",
    "createRuntime",
    "createContainer",
    "poststart",
    "poststop",
];

/// Every hook records its state JSON and appends its name to a shared log.
/// `startContainer` runs in the container, so it writes through a bind mount.
fn hooked_bundle(prefix: &str, marks: &Path) -> Bundle {
    let mut b = Bundle::new(prefix);
    let dir = marks.display();
    for kind in HOST_HOOKS {
        b.hook(
            kind,
            sh_hook(&format!(
                "cat > {dir}/{kind}.json; echo {kind} >> {dir}/log"
            )),
        );
    }
    b.hook(
        "startContainer",
        sh_hook("cat > /mnt/a/startContainer.json; echo startContainer >> /mnt/a/log"),
    );
    b.bind(marks, "/mnt/a", &["bind"]);
    b.sh("echo process >> /mnt/a/log");
    b
}

fn read_state(marks: &Path, kind: &str) -> Value {
    let text = std::fs::read_to_string(marks.join(format!("{kind}.json")))
        .unwrap_or_else(|e| panic!("{kind} hook did not run: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{kind} stdin is not JSON ({e}): {text}"))
}

#[test]
fn all_hooks_run_in_order_with_state_on_stdin() {
    let rune = Rune::new();
    let marks = tempfile::tempdir().unwrap();
    let b = hooked_bundle("hooks", marks.path());

    let (_, pid) = rune.create_ok(&b);
    let log = || std::fs::read_to_string(marks.path().join("log")).unwrap_or_default();
    let after_create: Vec<String> = log().lines().map(str::to_string).collect();
    for kind in ["prestart", "createRuntime", "createContainer"] {
        assert!(
            after_create.iter().any(|l| l == kind),
            "{kind} not run by create: {after_create:?}"
        );
    }
    assert!(!after_create
        .iter()
        .any(|l| l == "startContainer" || l == "process"));

    rune.start(&b.id).assert_ok();
    // poststart runs before start returns.
    assert!(log().contains("poststart"), "{}", log());
    assert!(rune.wait_status(&b.id, "stopped"));
    rune.delete(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));

    let lines: Vec<String> = log().lines().map(str::to_string).collect();
    let pos = |name: &str| {
        lines
            .iter()
            .position(|l| l == name)
            .unwrap_or_else(|| panic!("{name} missing from {lines:?}"))
    };
    assert!(pos("createContainer") < pos("startContainer"), "{lines:?}");
    assert!(pos("startContainer") < pos("process"), "{lines:?}");
    assert_eq!(
        lines.last().map(String::as_str),
        Some("poststop"),
        "{lines:?}"
    );
    assert_eq!(lines.len(), 7, "each hook runs exactly once: {lines:?}");

    for kind in HOST_HOOKS.iter().chain(&["startContainer"]) {
        let st = read_state(marks.path(), kind);
        assert_eq!(st["id"], b.id.as_str(), "{kind}: {st}");
        assert!(st["ociVersion"].is_string(), "{kind}: {st}");
        assert!(st["status"].is_string(), "{kind}: {st}");
        let bundle = st["bundle"].as_str().unwrap_or_default();
        assert_eq!(
            Path::new(bundle).canonicalize().ok(),
            b.path().canonicalize().ok(),
            "{kind}: {st}"
        );
    }
    for kind in ["prestart", "createRuntime", "poststart"] {
        let st = read_state(marks.path(), kind);
        assert_eq!(st["pid"], pid, "{kind} should see the init pid: {st}");
    }
    // The environment is made before the create-time hooks (lifecycle step 2).
    for (kind, status) in [
        ("prestart", "created"),
        ("createRuntime", "created"),
        ("poststart", "running"),
        ("poststop", "stopped"),
    ] {
        assert_eq!(read_state(marks.path(), kind)["status"], status, "{kind}");
    }
}

#[test]
fn poststart_hooks_run_at_start_not_at_create() {
    // Spec: poststart hooks are called after the user process is executed,
    // i.e. by `start`; `create` runs only prestart/createRuntime/createContainer.
    let rune = Rune::new();
    let marks = tempfile::tempdir().unwrap();
    let b = hooked_bundle("poststart", marks.path());
    let (_, pid) = rune.create_ok(&b);
    let log = || std::fs::read_to_string(marks.path().join("log")).unwrap_or_default();
    let mut after_create: Vec<String> = log().lines().map(str::to_string).collect();
    after_create.sort();
    assert_eq!(
        after_create,
        ["createContainer", "createRuntime", "prestart"]
    );
    rune.start(&b.id).assert_ok();
    assert!(log().lines().any(|l| l == "poststart"), "{}", log());
    rune.delete_force(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
}

#[test]
fn hooks_get_args_env_and_run_with_run() {
    let rune = Rune::new();
    let marks = tempfile::tempdir().unwrap();
    let mut b = Bundle::new("hookenv");
    // After `sh -c SCRIPT`, the next args are $0, $1, ... of the script.
    b.hook(
        "prestart",
        json!({
            "path": "/bin/sh",
            "args": ["sh", "-c", "echo \"$HOOK_VAR $1\" > \"$0\"/args", marks.path(), "second"],
            "env": ["HOOK_VAR=hook-value"]
        }),
    )
    .args(&["true"]);
    rune.run(&b).assert_ok();
    assert_eq!(
        std::fs::read_to_string(marks.path().join("args")).unwrap(),
        "hook-value second\n"
    );
    assert_no_leaks(&rune, &b, None);
}

#[test]
fn failing_prestart_hook_fails_create_and_leaves_nothing() {
    let rune = Rune::new();
    let mut b = Bundle::new("hookfail");
    b.hook("prestart", sh_hook("echo hook-said-no >&2; exit 3"))
        .args(&["sleep", "1000"]);
    let out = rune.create(&b);
    out.assert_fail_mentioning(&["hook"]);
    assert_no_leaks(&rune, &b, None);
    rune.state_raw(&b.id).assert_fail();
    let list = rune.cmd(["list", "-q"]).run();
    list.assert_ok();
    assert_eq!(list.stdout.trim(), "", "{list}");
}

#[test]
fn failing_create_hooks_go_on_with_poststop() {
    // runtime.md: a failed prestart, createRuntime or createContainer hook is an error, and
    // the lifecycle goes on at the destruction and the poststop hooks (as runc does).
    let rune = Rune::new();
    for point in ["prestart", "createRuntime", "createContainer"] {
        let marks = tempfile::tempdir().unwrap();
        let mut b = Bundle::new("hookfailstop");
        b.hook(point, sh_hook("exit 3"))
            .hook(
                "poststop",
                sh_hook(&format!("cat > {}/poststop.json", marks.path().display())),
            )
            .args(&["true"]);
        let out = rune.create(&b);
        out.assert_fail_mentioning(&[point]);
        // Only rune's own error: nothing from the init it gave up on.
        assert!(!out.stderr.contains("rune init"), "{point}: {out}");
        let st = read_state(marks.path(), "poststop");
        assert_eq!(st["status"], "stopped", "{point}: {st}");
        assert_eq!(st["id"], b.id.as_str(), "{point}: {st}");
        assert_no_leaks(&rune, &b, None);
    }
}

#[test]
fn failing_create_runtime_hook_fails_run() {
    let rune = Rune::new();
    let marks = tempfile::tempdir().unwrap();
    let mut b = Bundle::new("hookfail2");
    b.hook("createRuntime", sh_hook("exit 1"))
        .sh(&format!("touch {}/ran", marks.path().display()));
    rune.run(&b).assert_fail_mentioning(&["hook"]);
    assert!(!marks.path().join("ran").exists());
    assert_no_leaks(&rune, &b, None);
}

#[test]
fn hook_timeout_is_enforced() {
    let rune = Rune::new();
    let mut b = Bundle::new("hooktimeout");
    let mut hook = sh_hook("exec sleep 60");
    hook["timeout"] = json!(1);
    b.hook("createRuntime", hook).args(&["true"]);
    // Well below the hook's 60 s: the runtime must kill it.
    let out = rune.create(&b);
    assert!(!out.timed_out, "the hook timeout was not enforced:\n{out}");
    out.assert_fail_mentioning(&["error running", "hook #0", "timed out after"]);
    assert_no_leaks(&rune, &b, None);
}

#[test]
fn failing_poststop_hook_does_not_fail_delete_nor_stop_the_others() {
    // Spec: a failing poststop hook is logged, "the remaining hooks and lifecycle continue".
    let rune = Rune::new();
    let marks = tempfile::tempdir().unwrap();
    let mut b = Bundle::new("poststopfail");
    b.hook("poststop", sh_hook("exit 3"))
        .hook(
            "poststop",
            sh_hook(&format!("touch {}/second", marks.path().display())),
        )
        .args(&["true"]);
    let (_, pid) = rune.start_container(&b);
    assert!(rune.wait_status(&b.id, "stopped"));
    let out = rune.delete(&b.id);
    out.assert_ok();
    assert!(out.stderr.contains("poststop hook #0"), "{out}");
    assert!(
        marks.path().join("second").exists(),
        "the second hook did not run"
    );
    assert_no_leaks(&rune, &b, Some(pid));
}

#[test]
fn failing_poststart_hook_fails_start_and_stops_the_container() {
    // Spec (runtime.md, lifecycle step 9): the runtime generates an error, stops the container
    // and goes on at its destruction; runc does the same.
    let rune = Rune::new();
    let marks = tempfile::tempdir().unwrap();
    let mut b = Bundle::new("poststartfail");
    b.hook("poststart", sh_hook("echo hook-said-no >&2; exit 3"))
        .hook(
            "poststart",
            sh_hook(&format!("touch {}/second", marks.path().display())),
        )
        .hook(
            "poststop",
            sh_hook(&format!("touch {}/poststop", marks.path().display())),
        )
        .args(&["sleep", "1000"]);
    let (_, pid) = rune.create_ok(&b);
    rune.start(&b.id)
        .assert_fail_mentioning(&["poststart hook #0"])
        .assert_fail_mentioning(&["hook-said-no"]);
    assert_eq!(rune.status(&b.id), "stopped");
    assert!(!marks.path().join("second").exists());
    rune.delete(&b.id).assert_ok();
    assert!(marks.path().join("poststop").exists());
    assert_no_leaks(&rune, &b, Some(pid));

    // `run` removes the container it could not start.
    let mut b = Bundle::new("poststartfailrun");
    b.hook("poststart", sh_hook("exit 3"))
        .args(&["sleep", "1000"]);
    rune.run(&b).assert_fail_mentioning(&["poststart"]);
    assert_no_leaks(&rune, &b, None);
}

#[test]
fn host_hooks_run_in_the_bundle_directory() {
    let rune = Rune::new();
    let marks = tempfile::tempdir().unwrap();
    let mut b = Bundle::new("hookcwd");
    for kind in ["prestart", "poststop"] {
        b.hook(
            kind,
            sh_hook(&format!("pwd > {}/{kind}", marks.path().display())),
        );
    }
    b.args(&["true"]);
    rune.run(&b).assert_ok();
    for kind in ["prestart", "poststop"] {
        let cwd = std::fs::read_to_string(marks.path().join(kind)).unwrap();
        assert_eq!(
            Path::new(cwd.trim()).canonicalize().ok(),
            b.path().canonicalize().ok(),
            "{kind}"
        );
    }
}

#[test]
fn hook_timeout_of_zero_is_refused() {
    let rune = Rune::new();
    let mut b = Bundle::new("hooktimeout0");
    let mut hook = sh_hook("true");
    hook["timeout"] = json!(0);
    b.hook("poststart", hook).args(&["true"]);
    rune.create(&b)
        .assert_fail_mentioning(&["timeout must be greater than zero"]);
    assert_no_leaks(&rune, &b, None);
}

#[test]
fn poststart_hooks_run_once_the_program_is_executed() {
    // runtime.md: poststart hooks are called after the user-specified process is executed. A
    // slow startContainer hook (run by the init before its execve) holds the program back;
    // the poststart hook still finds the program, not rune, at the pid of the state.
    let rune = Rune::new();
    let marks = tempfile::tempdir().unwrap();
    let mut b = Bundle::new("poststartexec");
    b.hook("startContainer", sh_hook("sleep 0.3"))
        .hook(
            "poststart",
            sh_hook(&format!(
                "pid=$(sed -n 's/.*\"pid\": *\\([0-9]*\\).*/\\1/p'); \
                 readlink /proc/$pid/exe > {}/exe",
                marks.path().display()
            )),
        )
        .args(&["sleep", "1000"]);
    let (_, pid) = rune.create_ok(&b);
    rune.start(&b.id).assert_ok();
    let exe = std::fs::read_to_string(marks.path().join("exe")).unwrap();
    assert!(exe.trim().ends_with("busybox"), "{exe:?}");
    rune.delete_force(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
}

/// A hook's output is read while it runs: one that writes far more than a pipe holds, with no
/// timeout, does not block rune; a failing hook's error says runc's "error running hook" with
/// the hook's stdout and stderr, at every point.
#[test]
fn hook_output_is_read_while_it_runs_and_named_on_failure() {
    let rune = Rune::new();
    let mut b = Bundle::new("hookloud");
    let loud = "head -c 1048576 /dev/zero; head -c 1048576 /dev/zero >&2";
    b.hook("prestart", sh_hook(loud))
        .hook("createRuntime", sh_hook(loud))
        .hook("poststart", sh_hook(loud))
        .args(&["true"]);
    rune.run(&b).assert_ok();
    assert_no_leaks(&rune, &b, None);
    for point in [
        "prestart",
        "createRuntime",
        "createContainer",
        "startContainer",
    ] {
        let rune = Rune::new();
        let mut b = Bundle::new("hookfail");
        b.hook(point, sh_hook("echo said-out; echo said-err >&2; exit 3"))
            .args(&["true"]);
        let out = rune.run(&b);
        for w in [
            "error running hook",
            &format!("error running {point} hook #0"),
            "exit status: 3",
            "stdout: said-out",
            "stderr: said-err",
        ] {
            assert!(out.stderr.contains(w), "{point}: {w:?} not in {out}");
        }
        assert!(!out.success(), "{point}: {out}");
        assert_no_leaks(&rune, &b, None);
    }
}
