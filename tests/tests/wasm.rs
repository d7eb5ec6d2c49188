//! Plain wasm containers (`module.wasm.image/variant` = `compat` or `compat-smart`): the
//! entrypoint, a WebAssembly module, runs on rune's engine in the container's init, with its
//! arguments, environment, stdio and the container's root preopened; a non-module entrypoint
//! runs natively (`compat-smart`) or is refused (`compat`). The module is tests/fixtures/wasm/
//! tool.wat (see there for what its commands do).

use rune_integration::*;

fn plain(prefix: &str, args: &[&str]) -> Bundle {
    let mut b = Bundle::new(prefix);
    b.tool(args).wasm_variant("compat-smart");
    b
}

#[test]
fn module_gets_args_env_and_stdio_and_its_exit_code() {
    let rune = Rune::new();
    let mut b = plain("wasmargs", &["args", "hello world", "x"]);
    let out = rune.run(&b);
    out.assert_ok();
    assert_eq!(out.stdout, "hello world\nx\n", "{out}");

    b.tool(&["env"]).env("GREETING=from the config");
    let out = rune.run(&b);
    out.assert_ok();
    assert!(
        out.stdout.lines().any(|l| l == "GREETING=from the config"),
        "{out}"
    );

    b.tool(&["read"]);
    let out = run_with_stdin(&rune, &b, b"through stdin\n");
    out.assert_ok();
    assert_eq!(out.stdout, "through stdin\n", "{out}");

    b.tool(&["quit", "42"]);
    let out = rune.run(&b);
    assert_eq!(out.exit_code(), 42, "{out}");
    assert_no_leaks(&rune, &b, None);
}

#[test]
fn the_containers_root_is_preopened() {
    let rune = Rune::new();
    let mut b = plain("wasmroot", &["cat", "/etc/passwd"]);
    let out = rune.run(&b);
    out.assert_ok();
    let passwd = std::fs::read_to_string(rootfs().join("etc/passwd")).unwrap();
    assert_eq!(out.stdout, passwd, "{out}");

    // Written through the preopened root, into a volume: the host sees the file.
    let vol = tempfile::tempdir().unwrap();
    ensure_mount_point("/vol");
    b.bind(vol.path(), "/vol", &["bind", "rw"])
        .tool(&["make", "/vol/made", "by a module"]);
    rune.run(&b).assert_ok();
    assert_eq!(
        std::fs::read_to_string(vol.path().join("made")).unwrap(),
        "by a module\n"
    );
    // A host path outside the container's root does not exist for the module.
    b.tool(&["cat", vol.path().join("made").to_str().unwrap()]);
    let out = rune.run(&b);
    assert_eq!(out.exit_code(), 1, "{out}");
    assert!(out.stderr.contains("cannot open"), "{out}");
}

#[test]
fn a_trap_is_exit_134_naming_it() {
    let rune = Rune::new();
    let b = plain("wasmtrap", &["trap"]);
    let out = rune.run(&b);
    assert_eq!(out.exit_code(), 134, "{out}");
    assert!(out.stderr.contains("trap"), "{out}");
    assert!(out.stderr.contains("unreachable"), "{out}");
    assert_no_leaks(&rune, &b, None);
}

/// `kill` ends a module in a busy loop or blocked in a WASI call (SIGTERM, SIGKILL); pause and
/// resume freeze it; delete leaves nothing.
#[test]
fn kill_pause_and_delete_reach_the_module() {
    let rune = Rune::new();
    for (what, sig) in [("spin", "TERM"), ("wait", "TERM"), ("wait", "KILL")] {
        kill_paused_and_resumed(&rune, &plain("wasmkill", &[what]), sig);
    }
}

#[test]
fn exit_status_of_a_killed_module_is_128_plus_the_signal() {
    let rune = Rune::new();
    let b = plain("wasmsig", &["spin"]);
    let run = rune.run_killed(&b, "TERM");
    assert_eq!(run.exit_code(), 143, "{run}");
    assert_no_leaks(&rune, &b, None);
}

#[test]
fn compat_smart_runs_a_native_entrypoint_natively() {
    let rune = Rune::new();
    let mut b = Bundle::new("wasmnative");
    b.args(&["echo", "native"]).wasm_variant("compat-smart");
    let out = rune.run(&b);
    out.assert_ok();
    assert_eq!(out.stdout, "native\n", "{out}");
    // A module need not be executable (and in the image usually is not): found all the same.
    let mut b = plain("wasmnoexec", &["args", "found"]);
    b.set("/process/env", json!(["PATH=/wasm:/bin"]))
        .set("/process/args", json!(["tool.wasm", "args", "found"]));
    let out = rune.run(&b);
    out.assert_ok();
    assert_eq!(out.stdout, "found\n", "{out}");
}

#[test]
fn compat_refuses_a_native_entrypoint() {
    let rune = Rune::new();
    let mut b = Bundle::new("wasmcompat");
    b.args(&["echo", "native"]).wasm_variant("compat");
    let out = rune.run(&b);
    out.assert_fail_mentioning(&["compat", "/bin/echo", "not a WebAssembly module"]);
    assert!(!out.stdout.contains("native"), "{out}");
    assert_no_leaks(&rune, &b, None);
    assert_eq!(rune.cmd(["list", "-q"]).run().stdout.trim(), "");
}

#[test]
fn bad_modules_and_settings_fail_create_naming_the_cause() {
    let rune = Rune::new();
    // A file with the magic but no valid module after it.
    let broken = wasm_dir().join(format!("broken-{}.wasm", std::process::id()));
    std::fs::write(&broken, b"\0asm\x01\x00\x00\x00\xff\xff").unwrap();
    let name = format!("/wasm/{}", broken.file_name().unwrap().to_str().unwrap());
    let mut b = plain("wasmbroken", &[]);
    b.set("/process/args", json!([name]));
    let out = rune.create(&b);
    out.assert_fail_mentioning(&["invalid WebAssembly module", &name]);
    assert_no_leaks(&rune, &b, None);
    std::fs::remove_file(&broken).unwrap();

    let mut b = plain("wasmmissing", &[]);
    b.set("/process/args", json!(["/wasm/none.wasm"]));
    rune.create(&b)
        .assert_fail_mentioning(&["/wasm/none.wasm", "No such file or directory"]);
    assert_no_leaks(&rune, &b, None);

    let mut b = plain("wasmvariant", &["args"]);
    b.wasm_variant("compat-fancy");
    rune.create(&b)
        .assert_fail_mentioning(&["module.wasm.image/variant", "compat-fancy"]);
    assert_no_leaks(&rune, &b, None);

    // The engine missing: named, with where it was looked for.
    let b = plain("wasmnoengine", &["args"]);
    let out = rune
        .create_cmd(&b)
        .through(["env", "RUNE_WASM_ENGINE=/nonexistent/liberpal-wasm.so"])
        .run();
    out.assert_fail_mentioning(&["wasm engine", "/nonexistent/liberpal-wasm.so"]);
    assert_no_leaks(&rune, &b, None);
    assert_eq!(rune.cmd(["list", "-q"]).run().stdout.trim(), "");
}
