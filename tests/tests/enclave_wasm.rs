//! WebAssembly in an enclave: rune's engine, liberpal-wasm.so, as the enclave runtime (PAL v3,
//! `enclave.type: sim`). The entrypoint and each `exec` are modules run in the enclave; `kill`
//! reaches them through pal_kill, `attest` through pal_get_local_report. The module is
//! tests/fixtures/wasm/tool.wat.

use rune_integration::*;

fn enclave(prefix: &str, args: &[&str]) -> Bundle {
    let mut b = Bundle::new(prefix);
    b.tool(args).wasm_enclave();
    b
}

#[test]
fn entrypoint_runs_in_the_enclave() {
    let rune = Rune::new();
    let mut b = enclave("ewasm", &["args", "in", "the enclave"]);
    let out = rune.run(&b);
    out.assert_ok();
    assert_eq!(out.stdout, "in\nthe enclave\n", "{out}");

    b.tool(&["cat", "/etc/passwd"]);
    let out = rune.run(&b);
    out.assert_ok();
    let passwd = std::fs::read_to_string(rootfs().join("etc/passwd")).unwrap();
    assert_eq!(out.stdout, passwd, "{out}");

    b.tool(&["env"])
        .env("ENCLAVE_RUNTIME_LOGLEVEL=debug")
        .env("SEEN=yes");
    let out = rune.run(&b);
    out.assert_ok();
    assert!(out.stdout.lines().any(|l| l == "SEEN=yes"), "{out}");
    // rune consumed its ENCLAVE_* settings: the module does not see them.
    assert!(!out.stdout.contains("ENCLAVE_"), "{out}");

    b.tool(&["quit", "3"]);
    assert_eq!(rune.run(&b).exit_code(), 3);
    b.tool(&["trap"]);
    let out = rune.run(&b);
    assert_eq!(out.exit_code(), 134, "{out}");
    assert!(out.stderr.contains("unreachable"), "{out}");
    assert_no_leaks(&rune, &b, None);
}

#[test]
fn exec_runs_another_module_in_the_same_enclave() {
    let rune = Rune::new();
    let b = enclave("ewasmexec", &["wait"]);
    let (_, pid) = rune.start_container(&b);
    // Recorded as a PAL v3 runtime (state.json, rune's own record).
    let record = std::fs::read_to_string(rune.root().join(&b.id).join("state.json")).unwrap();
    let record: Value = serde_json::from_str(&record).unwrap();
    assert_eq!(record["enclave"]["pal_version"], 3, "{record}");

    let out = rune.exec(&b.id, &[TOOL, "args", "from exec"]);
    out.assert_ok();
    assert_eq!(out.stdout, "from exec\n", "{out}");
    assert_eq!(rune.exec(&b.id, &[TOOL, "quit", "5"]).exit_code(), 5);
    let out = rune
        .cmd(["exec", b.id.as_str(), TOOL, "read"])
        .stdin(b"into the enclave\n")
        .run();
    out.assert_ok();
    assert_eq!(out.stdout, "into the enclave\n", "{out}");
    let out = rune.exec(&b.id, &[TOOL, "trap"]);
    assert_eq!(out.exit_code(), 134, "{out}");
    assert!(out.stderr.contains("trap"), "{out}");
    // Not a module: the engine says so and the exec fails; the container goes on.
    let out = rune.exec(&b.id, &["/etc/passwd"]);
    out.assert_fail_mentioning(&["not a WebAssembly module"]);
    assert_eq!(rune.status(&b.id), "running");

    rune.delete_force(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
}

/// `kill` reaches the entrypoint module through pal_kill, in a busy loop or blocked in a WASI
/// call; pause and resume freeze the enclave; delete ends everything.
#[test]
fn kill_pause_and_delete_reach_the_module() {
    let rune = Rune::new();
    for (what, sig) in [("spin", "TERM"), ("wait", "TERM"), ("spin", "KILL")] {
        kill_paused_and_resumed(&rune, &enclave("ewasmkill", &[what]), sig);
    }
    // A running exec'd module ends with the container.
    let b = enclave("ewasmdel", &["wait"]);
    let (_, pid) = rune.start_container(&b);
    rune.cmd(["exec", "-d", b.id.as_str(), TOOL, "spin"])
        .run()
        .assert_ok();
    rune.delete_force(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
}

#[test]
fn run_exit_code_of_a_killed_module() {
    let rune = Rune::new();
    let b = enclave("ewasmsig", &["spin"]);
    let run = rune.run_killed(&b, "TERM");
    assert_eq!(run.exit_code(), 143, "{run}");
    assert_no_leaks(&rune, &b, None);
}

#[test]
fn attest_answers_with_the_engines_simulated_report() {
    let rune = Rune::new();
    let b = enclave("ewasmatt", &["wait"]);
    let (_, pid) = rune.start_container(&b);
    let out = rune.cmd(["attest", b.id.as_str()]).run();
    out.assert_ok();
    let report = stdout_bytes(&out);
    assert_eq!(report.len(), 432, "{out}");
    assert!(
        report.starts_with(b"RUNE-WASM-SIMULATED-REPORT v1"),
        "{out}"
    );
    rune.delete_force(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
}

#[test]
fn a_bad_module_or_setting_fails_naming_the_cause() {
    let rune = Rune::new();
    let mut b = enclave("ewasmbad", &[]);
    b.set("/process/args", json!(["/etc/passwd"]));
    let out = rune.run(&b);
    out.assert_fail_mentioning(&["not a WebAssembly module", "pal_create_process", "ENOEXEC"]);
    assert_no_leaks(&rune, &b, None);

    let mut b = enclave("ewasmargs", &["args"]);
    b.enclave_runtime_args("unexpected");
    let out = rune.create(&b);
    out.assert_fail_mentioning(&["takes no arguments", "pal_init"]);
    assert_no_leaks(&rune, &b, None);
    assert_eq!(rune.cmd(["list", "-q"]).run().stdout.trim(), "");
}
