//! Enclave runtimes that follow Occlum's and WAMR's PAL conventions (tests/fixtures/pal_occlum.c,
//! pal_wamr.c), and PALs that misbehave (pal_misbehaving.c), through a container's whole life:
//! exit codes with signal deaths, exec, kill with an accepted and a refused signal, pal_init
//! failures, pause/resume, delete, nothing left.

use rune_integration::*;

fn bundle(prefix: &str, lib: &str, args: &str) -> Bundle {
    let mut b = Bundle::new(prefix);
    b.enclave_type("sim")
        .enclave_runtime_path(&fixture_lib(lib))
        .enclave_runtime_args(args);
    b
}

/// `run` of `sh -c script` in the enclave: its exit code.
fn run_code(lib: &str, args: &str, script: &str) -> i32 {
    let rune = Rune::new();
    let mut b = bundle("convrun", lib, args);
    b.sh(script);
    let out = rune.run(&b);
    assert_no_leaks(&rune, &b, None);
    out.exit_code()
}

#[test]
fn occlum_exit_codes_and_signal_deaths() {
    // Occlum's *exit_value is a wait(2) status: 9 is a death by SIGKILL, not exit code 9.
    assert_eq!(run_code("pal_occlum", ".", "exit 3"), 3);
    assert_eq!(run_code("pal_occlum", ".", "kill -9 $$"), 137);
    assert_eq!(run_code("pal_occlum", ".", "kill -TERM $$"), 143);
}

#[test]
fn occlum_exec_kill_pause_and_delete() {
    let rune = Rune::new();
    let mut b = bundle("convocc", "pal_occlum", ".");
    b.args(&["sleep", "1000"]);
    let (_, pid) = rune.start_container(&b);
    assert_eq!(rune.exec(&b.id, &["sh", "-c", "exit 5"]).exit_code(), 5);
    assert_eq!(
        rune.exec(&b.id, &["sh", "-c", "kill -9 $$"]).exit_code(),
        137
    );
    // Occlum refuses SIGUSR1: the caller is told, and the container runs on.
    let refused = rune.kill(&b.id, Some("USR1"));
    refused.assert_fail_mentioning(&["pal_kill("]);
    assert!(
        refused.stderr.contains("SIGUSR1") && refused.stderr.contains("EINVAL"),
        "the refusal does not name the signal and the reason: {refused}"
    );
    assert_eq!(rune.status(&b.id), "running");
    rune.cmd(["pause", &b.id]).run().assert_ok();
    assert_eq!(rune.status(&b.id), "paused");
    rune.cmd(["resume", &b.id]).run().assert_ok();
    assert_eq!(rune.status(&b.id), "running");
    // SIGTERM is accepted and ends the entrypoint, and with it the container.
    rune.kill(&b.id, Some("TERM")).assert_ok();
    assert!(rune.wait_status(&b.id, "stopped"));
    rune.delete(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
}

#[test]
fn occlum_pal_init_failure_is_named() {
    let rune = Rune::new();
    let mut b = bundle("convoccinit", "pal_occlum", "/no/such/instance");
    b.args(&["true"]);
    let out = rune.create(&b);
    out.assert_fail_mentioning(&["pal_init"]);
    assert!(out.stderr.contains("ENOENT"), "errno not named: {out}");
    assert_no_leaks(&rune, &b, None);
}

#[test]
fn wamr_runs_reports_and_takes_signals() {
    // WAMR never writes *exit_value: rune reports 0, as documented.
    let rune = Rune::new();
    let mut b = bundle("convwamr", "pal_wamr", "");
    b.sh("echo out; exit 3");
    let out = rune.run(&b);
    out.assert_ok();
    assert_eq!(out.stdout, "out\n");
    assert_no_leaks(&rune, &b, None);

    let mut b = bundle("convwamr2", "pal_wamr", "");
    b.args(&["sleep", "1000"]);
    let (_, pid) = rune.start_container(&b);
    let ex = rune.exec(&b.id, &["echo", "in-enclave"]);
    ex.assert_ok();
    assert_eq!(ex.stdout, "in-enclave\n");
    // WAMR's pal_kill takes any signal (and does nothing): no error for the caller.
    rune.kill(&b.id, Some("USR1")).assert_ok();
    rune.cmd(["pause", &b.id]).run().assert_ok();
    rune.cmd(["resume", &b.id]).run().assert_ok();
    // SIGKILL ends the container whatever the PAL does with signals.
    rune.kill(&b.id, Some("KILL")).assert_ok();
    assert!(rune.wait_status(&b.id, "stopped"));
    rune.delete(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
}

#[test]
fn wamr_pal_init_failure_is_named() {
    let rune = Rune::new();
    let mut b = bundle("convwamrinit", "pal_wamr", "fail");
    b.args(&["true"]);
    let out = rune.create(&b);
    out.assert_fail_mentioning(&["pal_init"]);
    assert!(
        out.stderr.contains("returned 1"),
        "return value not named: {out}"
    );
    assert_no_leaks(&rune, &b, None);
}

#[test]
fn the_annotation_overrides_the_guess() {
    // The misbehaving PAL follows the spec (exit codes): told it reports wait statuses, rune
    // reads its 3 as a death by signal 3.
    let rune = Rune::new();
    let mut b = bundle("convann", "pal_misbehaving", "");
    b.annotation("enclave.runtime.exit-status", "wait-status")
        .sh("exit 3");
    assert_eq!(rune.run(&b).exit_code(), 128 + 3);
    assert_no_leaks(&rune, &b, None);
    let mut b = bundle("convannbad", "pal_misbehaving", "");
    b.annotation("enclave.runtime.exit-status", "status")
        .args(&["true"]);
    rune.create(&b)
        .assert_fail_mentioning(&["enclave.runtime.exit-status"]);
    assert_no_leaks(&rune, &b, None);
}

#[test]
fn a_pal_that_exits_inside_pal_exec() {
    assert_eq!(run_code("pal_misbehaving", "exit-in-exec", "exit 4"), 4);
}

#[test]
fn a_pal_that_blocks_in_pal_destroy_is_still_deleted() {
    let rune = Rune::new();
    let mut b = bundle("convblock", "pal_misbehaving", "block-destroy");
    b.args(&["sleep", "1000"]);
    let (_, pid) = rune.start_container(&b);
    rune.delete_force(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
}

#[test]
fn a_pal_that_writes_after_pal_destroy() {
    let rune = Rune::new();
    let mut b = bundle("convlate", "pal_misbehaving", "late-writer");
    b.sh("echo first; exit 6");
    let out = rune.run(&b);
    assert_eq!(out.exit_code(), 6, "{out}");
    assert!(out.stdout.contains("first"), "{out}");
    assert_no_leaks(&rune, &b, None);
}

/// The v2 skeleton (the PAL version both real runtimes implement) with `args`.
fn skeleton_as(prefix: &str, args: &str) -> Bundle {
    let mut b = Bundle::new(prefix);
    b.skeleton(2).enclave_runtime_args(args);
    b
}

#[test]
fn the_skeleton_impersonates_each_convention() {
    // convention=occlum: wait statuses, which the annotation tells rune to expect.
    let rune = Rune::new();
    for (script, code) in [("kill -9 $$", 137), ("exit 3", 3)] {
        let mut b = skeleton_as("convskel", "convention=occlum");
        b.annotation("enclave.runtime.exit-status", "wait-status")
            .sh(script);
        assert_eq!(rune.run(&b).exit_code(), code, "{script}");
        assert_no_leaks(&rune, &b, None);
    }
    // convention=occlum refuses SIGUSR1: so does rune kill.
    let mut b = skeleton_as("convskel3", "convention=occlum");
    b.args(&["sleep", "1000"]);
    let (_, pid) = rune.start_container(&b);
    rune.kill(&b.id, Some("USR1"))
        .assert_fail_mentioning(&["pal_kill("]);
    rune.delete_force(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
    // convention=wamr: a failing pal_init returns 1, as WAMR's.
    let mut b = skeleton_as("convskel4", "convention=wamr,fail=pal_init");
    b.args(&["true"]);
    let out = rune.create(&b);
    out.assert_fail_mentioning(&["pal_init"]);
    assert!(out.stderr.contains("returned 1"), "{out}");
    assert_no_leaks(&rune, &b, None);
}
