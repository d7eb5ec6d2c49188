//! Enclave runtimes that cannot be used: `create` and `run` fail with a clear
//! message naming the cause, and leave nothing behind.

use rune_integration::*;
use std::path::Path;

/// Configure a bundle with `setup`, then check that both `create` and `run`
/// fail and leak nothing; returns their outputs.
fn create_and_run_fail(prefix: &str, setup: impl Fn(&mut Bundle, &TraceDir)) -> Vec<Output> {
    let mut outs = Vec::new();
    for cmd in ["create", "run"] {
        let rune = Rune::new();
        let trace = TraceDir::new();
        let mut b = Bundle::new(prefix);
        b.trace_mount(&trace).args(&["/bin/echo", "payload-ran"]);
        setup(&mut b, &trace);
        let out = if cmd == "create" {
            rune.create(&b)
        } else {
            rune.run(&b)
        };
        out.assert_fail();
        assert!(!out.stdout.contains("payload-ran"), "{out}");
        let pf = rune.pid_file(&b.id);
        let pid = pf.exists().then(|| read_pid_file(&pf));
        assert_no_leaks(&rune, &b, pid);
        outs.push(out);
    }
    outs
}

/// The skeleton v`version` with these options (plus the trace).
fn skeleton_with(version: u32, options: &str) -> impl Fn(&mut Bundle, &TraceDir) {
    let args = format!("{TRACE_ARG},{options}");
    move |b, _| {
        b.skeleton(version).enclave_runtime_args(&args);
    }
}

#[test]
fn missing_runtime_library() {
    let lib = format!("/nonexistent-{}/liberpal-missing.so", unique_id("lib"));
    let outs = create_and_run_fail("encnolib", |b, _| {
        b.enclave_type("sim").enclave_runtime_path(Path::new(&lib));
    });
    for out in &outs {
        assert_fail_with(out, &[&lib], &[]);
    }
}

#[test]
fn missing_runtime_path_annotation() {
    let outs = create_and_run_fail("encnopath", |b, _| {
        b.enclave_type("sim");
    });
    for out in &outs {
        assert_fail_with(
            out,
            &[],
            &[&["enclave.runtime.path", "ENCLAVE_RUNTIME_PATH"]],
        );
    }
}

#[test]
fn runtime_missing_a_required_symbol() {
    let lib = fixture_lib("pal_no_kill");
    let outs = create_and_run_fail("encnosym", |b, _| {
        b.enclave_type("sim").enclave_runtime_path(&lib);
    });
    for out in &outs {
        assert_fail_with(out, &["pal_kill"], &[]);
    }
}

#[test]
fn runtime_with_a_newer_api_version() {
    let lib = fixture_lib("pal_version4");
    let outs = create_and_run_fail("encv4", |b, _| {
        b.enclave_type("sim").enclave_runtime_path(&lib);
    });
    for out in &outs {
        assert_fail_with(out, &["version 4"], &[]);
    }
}

#[test]
fn pal_init_failing_with_negative_errno() {
    for version in [1, 2, 3] {
        let outs = create_and_run_fail("encfail", skeleton_with(version, "fail=pal_init"));
        for out in &outs {
            assert_fail_with(
                out,
                &["pal_init"],
                &[&["-22", "EINVAL", "Invalid argument"]],
            );
            // What the PAL itself prints reaches rune's stderr.
            assert!(
                out.stderr
                    .contains("skeleton: pal_init: failing as asked (fail=pal_init)"),
                "v{version}: {out}"
            );
        }
    }
}

#[test]
fn pal_init_failing_with_errno_style() {
    let outs = create_and_run_fail("encerrno", skeleton_with(3, "fail=pal_init,errno-style"));
    for out in &outs {
        assert_fail_with(out, &["pal_init", "-1"], &[&["EINVAL", "Invalid argument"]]);
    }
}

#[test]
fn pal_init_crashing() {
    let outs = create_and_run_fail("enccrash", skeleton_with(3, "crash=pal_init"));
    for out in &outs {
        assert_fail_with(out, &["pal_init"], &[&["SIGSEGV", "signal 11"]]);
        assert!(
            out.stderr
                .contains("skeleton: pal_init: crashing as asked (crash=pal_init)"),
            "{out}"
        );
    }
}

#[test]
fn pal_init_trace_shows_the_failure() {
    let rune = Rune::new();
    let (mut b, trace) = skeleton_bundle("encfailtrace", 2);
    b.enclave_runtime_args(&format!("{TRACE_ARG},fail=pal_init"))
        .args(&["true"]);
    rune.run(&b).assert_fail();
    // Nothing but the failed pal_init reached the PAL.
    assert_eq!(
        trace.lines(),
        [format!(
            "pal_init args=\"{TRACE_ARG} fail=pal_init\" log_level=info -> error=EINVAL"
        )]
    );
    assert_no_leaks(&rune, &b, None);
}

#[test]
fn unknown_enclave_type() {
    let lib = skeleton_lib(3);
    let outs = create_and_run_fail("enctype", |b, _| {
        b.enclave_type("foo").enclave_runtime_path(&lib);
    });
    for out in &outs {
        assert_fail_with(
            out,
            &["foo", "intelSgx", "awsNitroEnclaves", "jailhouse", "sim"],
            &[],
        );
    }
}

#[test]
fn intel_sgx_without_sgx_device_nodes() {
    let nodes = [
        "/dev/sgx_enclave",
        "/dev/sgx/enclave",
        "/dev/isgx",
        "/dev/sgx_provision",
    ];
    if let Some(n) = nodes.iter().find(|n| Path::new(n).exists()) {
        // This host has SGX; enclave_sgx.rs checks the same on a fake host without it.
        eprintln!("{n} exists on this host: nothing to check here");
        return;
    }
    let lib = skeleton_lib(3);
    let outs = create_and_run_fail("encnosgx", |b, _| {
        b.enclave_type("intelSgx").enclave_runtime_path(&lib);
    });
    for out in &outs {
        assert_fail_with(out, &["/dev/sgx_enclave", "/dev/isgx"], &[]);
    }
}
