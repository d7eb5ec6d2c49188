//! `exec` into an enclave container: every exec'd command runs in the enclave
//! (`pal_create_process` + `pal_exec` in the container's init), with its own
//! stdio, environment, working directory and exit code.

use rune_integration::*;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;

per_pal_version!(
    [v2 = 2, v3 = 3]
    exec_output_and_exit_code,
    exec_stdin_through_enclave,
    exec_detach_with_pid_file,
    exec_concurrent,
    exec_env_and_cwd,
);

/// A started enclave container whose entrypoint is `sleep 1000`.
fn running(prefix: &str, version: u32) -> (Rune, Bundle, TraceDir, i32) {
    let rune = Rune::new();
    let (mut b, trace) = skeleton_bundle(prefix, version);
    b.args(&["sleep", "1000"]);
    let (_, pid) = rune.start_container(&b);
    assert!(
        trace
            .wait_line(|l| l.starts_with("pal_create_process ") && l.contains("[sleep,1000]"))
            .is_some(),
        "entrypoint not created:\n{}",
        trace.dump()
    );
    (rune, b, trace, pid)
}

fn finish(rune: &Rune, b: &Bundle, pid: i32) {
    rune.delete_force(&b.id).assert_ok();
    assert_no_leaks(rune, b, Some(pid));
}

fn exec_output_and_exit_code(version: u32) {
    let (rune, b, trace, pid) = running("encexec", version);
    let script = "echo out; echo err >&2; exit 5";
    let out = rune.exec(&b.id, &["sh", "-c", script]);
    assert_eq!(out.exit_code(), 5, "{out}");
    assert_eq!(out.stdout, "out\n", "{out}");
    assert!(out.stderr.contains("err\n"), "{out}");
    let (create, _, exec) = process_pair(&trace.lines(), script);
    // The command is resolved through PATH; argv[0] stays as given.
    assert!(
        create.starts_with(&format!(
            "pal_create_process path=/bin/sh argv=[sh,-c,{script}] "
        )),
        "{create}"
    );
    assert!(exec.ends_with(" -> exit=5"), "{exec}");

    // Killed by a signal: 128 + N, as for runc.
    let out = rune.exec(&b.id, &["sh", "-c", "kill -KILL $$"]);
    assert_eq!(out.exit_code(), 137, "{out}");
    // The container itself is unaffected.
    assert_eq!(rune.status(&b.id), "running");
    assert!(pid_alive(pid));
    finish(&rune, &b, pid);
}

fn exec_stdin_through_enclave(version: u32) {
    let (rune, b, trace, pid) = running("encexecin", version);
    let out = rune
        .cmd(["exec", b.id.as_str(), "cat"])
        .stdin(b"piped into the enclave\n")
        .run();
    out.assert_ok();
    assert_eq!(out.stdout, "piped into the enclave\n", "{out}");
    let (_, _, exec) = process_pair(&trace.lines(), "argv=[cat]");
    assert!(exec.ends_with(" -> exit=0"), "{exec}");
    finish(&rune, &b, pid);
}

fn exec_detach_with_pid_file(version: u32) {
    let (rune, b, trace, pid) = running("encexecd", version);
    let gate = trace.file("gate");
    mkfifo(&gate);
    let pf = rune.scratch().join("exec.pid");
    let script = "read x < /trace/gate; echo \"got-$x\" > /trace/done";
    let out = rune.exec(
        &b.id,
        &[
            "--detach",
            "--pid-file",
            pf.to_str().unwrap(),
            "--",
            "sh",
            "-c",
            script,
        ],
    );
    out.assert_ok();
    let epid = read_pid_file(&pf);
    assert_ne!(epid, pid);
    // The enclave process is blocked on the gate, so its exec stays alive.
    assert!(pid_alive(epid), "exec pid {epid} is not alive");
    // Its proxy is in the container's cgroup, as an exec'd process is (not the caller's).
    let cgroups_of = |p: i32| std::fs::read_to_string(format!("/proc/{p}/cgroup")).unwrap();
    assert_eq!(cgroups_of(epid), cgroups_of(pid), "the proxy's cgroups");
    assert_ne!(cgroups_of(epid), cgroups_of(std::process::id() as i32));
    // Open the gate once the process in the enclave has opened it for reading.
    let mut writer = None;
    let opened = wait_until(POLL_TIMEOUT, || {
        writer = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&gate)
            .ok();
        writer.is_some()
    });
    assert!(opened, "nobody opened the gate:\n{}", trace.dump());
    let mut w = writer.unwrap();
    w.write_all(b"go\n").unwrap();
    drop(w);
    assert!(
        wait_until(POLL_TIMEOUT, || !pid_alive(epid)),
        "exec pid {epid} outlived its enclave process"
    );
    assert_eq!(
        std::fs::read_to_string(trace.file("done")).unwrap_or_default(),
        "got-go\n"
    );
    let (_, _, exec) = process_pair(&trace.lines(), "/trace/gate");
    assert!(exec.ends_with(" -> exit=0"), "{exec}");
    assert_eq!(rune.status(&b.id), "running");
    finish(&rune, &b, pid);
}

fn exec_concurrent(version: u32) {
    let (rune, b, trace, pid) = running("encexecn", version);
    // Each exec waits until all four are running in the enclave at once.
    let all_ready = "[ -e /trace/ready-0 ] && [ -e /trace/ready-1 ] && \
                     [ -e /trace/ready-2 ] && [ -e /trace/ready-3 ]";
    let outs: Vec<Output> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|i| {
                let script = format!(
                    "echo exec-{i}; echo err-{i} >&2; : > /trace/ready-{i}; \
                     until {all_ready}; do sleep 0.05; done; exit {}",
                    10 + i
                );
                let (rune, id) = (&rune, b.id.as_str());
                s.spawn(move || rune.exec(id, &["sh", "-c", &script]))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (i, out) in outs.iter().enumerate() {
        assert_eq!(out.exit_code(), 10 + i as i32, "exec {i}: {out}");
        assert_eq!(out.stdout, format!("exec-{i}\n"), "exec {i}: {out}");
        assert!(out.stderr.contains(&format!("err-{i}")), "exec {i}: {out}");
    }
    let lines = trace.lines();
    let mut pids = Vec::new();
    for i in 0..4 {
        let (_, p, exec) = process_pair(&lines, &format!("echo exec-{i};"));
        assert!(exec.ends_with(&format!(" -> exit={}", 10 + i)), "{exec}");
        pids.push(p);
    }
    pids.sort_unstable();
    pids.dedup();
    assert_eq!(pids.len(), 4, "trace:\n{}", trace.dump());
    finish(&rune, &b, pid);
}

fn exec_env_and_cwd(version: u32) {
    let (rune, b, _trace, pid) = running("encexecenv", version);
    let out = rune.exec(
        &b.id,
        &[
            "-e",
            "FOO=bar",
            "-e",
            "BAZ=qux quux",
            "--cwd",
            "/etc",
            "--",
            "sh",
            "-c",
            "echo \"$FOO|$BAZ\"; pwd; echo $PATH",
        ],
    );
    out.assert_ok();
    assert_eq!(
        out.stdout,
        "bar|qux quux\n/etc\n/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n",
        "{out}"
    );
    // Another exec does not inherit the first one's settings.
    let out = rune.exec(&b.id, &["sh", "-c", "echo \"[$FOO]\"; pwd"]);
    out.assert_ok();
    assert_eq!(out.stdout, "[]\n/\n", "{out}");
    finish(&rune, &b, pid);
}

#[test]
fn exec_hides_enclave_variables() {
    let rune = Rune::new();
    let trace = TraceDir::new();
    let mut b = Bundle::new("encexecvars");
    b.trace_mount(&trace)
        .env("ENCLAVE_TYPE=sim")
        .env(&format!(
            "ENCLAVE_RUNTIME_PATH={}",
            skeleton_lib(3).display()
        ))
        .env(&format!("ENCLAVE_RUNTIME_ARGS={TRACE_ARG}"))
        .env("ENCLAVE_RUNTIME_LOGLEVEL=info")
        .args(&["sleep", "1000"]);
    let (_, pid) = rune.start_container(&b);
    let out = rune.exec(&b.id, &["env"]);
    out.assert_ok();
    assert!(out.stdout.contains("PATH="), "{out}");
    assert!(!out.stdout.contains("ENCLAVE_"), "{out}");
    assert!(
        trace.lines().iter().any(|l| l.contains("argv=[env]")),
        "exec did not go through the PAL:\n{}",
        trace.dump()
    );
    finish(&rune, &b, pid);
}

#[test]
fn exec_is_refused_by_a_v1_pal() {
    let rune = Rune::new();
    let (mut b, trace) = skeleton_bundle("encexecv1", 1);
    b.args(&["sleep", "1000"]);
    let (_, pid) = rune.start_container(&b);
    assert!(rune.wait_status(&b.id, "running"));
    let before = trace.lines();
    let out = rune.exec(&b.id, &["echo", "never"]);
    assert_eq!(out.code, Some(255), "{out}");
    assert!(
        out.stderr
            .contains("not supported by this enclave runtime (PAL v1)"),
        "{out}"
    );
    assert!(!out.stdout.contains("never"), "{out}");
    assert_eq!(trace.lines(), before, "exec reached the PAL");
    assert_eq!(rune.status(&b.id), "running");
    finish(&rune, &b, pid);
}
