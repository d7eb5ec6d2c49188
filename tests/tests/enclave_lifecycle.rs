//! Enclave containers driven through the skeleton PAL (v1, v2, v3): `run`,
//! `create`/`start`/`kill`/`delete`, the exact PAL call sequence, and how the
//! `enclave.*` annotations and `ENCLAVE_*` variables configure it.

use rune_integration::*;

per_pal_version!(
    [v1 = 1, v2 = 2, v3 = 3]
    run_echo_exact_trace,
    run_relative_command_resolved_through_path,
    run_exit_code,
    run_stdin_through_enclave,
    create_start_kill_delete,
    create_start_runs_to_completion,
);

/// The `pal_init` line for `args` at log level `level`.
fn init_line(version: u32, args: &str, level: &str) -> String {
    let tail = if version >= 3 { " fd=-1 addr=0x0" } else { "" };
    format!("pal_init args=\"{args}\" log_level={level}{tail}")
}

fn run_echo_exact_trace(version: u32) {
    let rune = Rune::new();
    let (mut b, trace) = skeleton_bundle("encecho", version);
    b.args(&["/bin/echo", "hi"]);
    let out = rune.run(&b);
    out.assert_ok();
    assert_eq!(out.stdout, "hi\n", "{out}");
    let lines = trace.lines();
    let init = init_line(version, TRACE_ARG, "info");
    let want: Vec<String> = if version == 1 {
        vec![
            init,
            "pal_exec path=/bin/echo argv=[/bin/echo,hi] stdio=0,1,2 -> exit=0".into(),
            "pal_destroy".into(),
        ]
    } else {
        let pid = lines
            .get(1)
            .and_then(|l| created_pid(l))
            .unwrap_or_else(|| panic!("no pal_create_process second:\n{}", trace.dump()));
        vec![
            init,
            format!(
                "pal_create_process path=/bin/echo argv=[/bin/echo,hi] stdio=0,1,2 -> pid={pid}"
            ),
            format!("pal_exec pid={pid} -> exit=0"),
            "pal_destroy".into(),
        ]
    };
    assert_eq!(lines, want, "trace of v{version}");
    assert_no_leaks(&rune, &b, None);
}

fn run_relative_command_resolved_through_path(version: u32) {
    let rune = Rune::new();
    let (mut b, trace) = skeleton_bundle("encpath", version);
    b.args(&["echo", "hello"]);
    let out = rune.run(&b);
    out.assert_ok();
    assert_eq!(out.stdout, "hello\n", "{out}");
    // The PAL gets the absolute path; argv[0] stays as config.json has it.
    let call = if version == 1 {
        "pal_exec"
    } else {
        "pal_create_process"
    };
    let want = format!("{call} path=/bin/echo argv=[echo,hello] stdio=0,1,2 -> ");
    assert!(
        trace.lines().iter().any(|l| l.starts_with(&want)),
        "no {want:?} in trace:\n{}",
        trace.dump()
    );
    assert_no_leaks(&rune, &b, None);
}

fn run_exit_code(version: u32) {
    let rune = Rune::new();
    let (mut b, trace) = skeleton_bundle("encexit", version);
    b.sh("exit 3");
    let out = rune.run(&b);
    assert_eq!(out.exit_code(), 3, "{out}");
    let lines = trace.lines();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("pal_exec ") && l.ends_with(" -> exit=3")),
        "trace:\n{}",
        trace.dump()
    );
    assert_eq!(
        trace.calls().last().map(String::as_str),
        Some("pal_destroy")
    );
    assert_no_leaks(&rune, &b, None);
}

fn run_stdin_through_enclave(version: u32) {
    let rune = Rune::new();
    let (mut b, trace) = skeleton_bundle("encstdin", version);
    b.args(&["cat"]);
    let out = run_with_stdin(&rune, &b, b"into the enclave\nline two\n");
    out.assert_ok();
    assert_eq!(out.stdout, "into the enclave\nline two\n", "{out}");
    assert!(
        trace.calls().iter().any(|c| c == "pal_exec"),
        "{}",
        trace.dump()
    );
    assert_no_leaks(&rune, &b, None);
}

fn create_start_kill_delete(version: u32) {
    let rune = Rune::new();
    let (mut b, trace) = skeleton_bundle("enckill", version);
    b.args(&["sleep", "1000"]);
    let (_, pid) = rune.create_ok(&b);
    assert!(pid_alive(pid), "init {pid} not alive after create");
    assert_eq!(rune.status(&b.id), "created");
    assert_eq!(rune.state(&b.id)["pid"], json!(pid));
    // pal_init ran on create; the entrypoint waits for start.
    assert_eq!(trace.calls(), ["pal_init"], "{}", trace.dump());
    rune.start(&b.id).assert_ok();
    assert!(rune.wait_status(&b.id, "running"));
    let created = if version == 1 {
        None
    } else {
        let line = trace
            .wait_line(|l| l.starts_with("pal_create_process "))
            .unwrap_or_else(|| panic!("entrypoint never created:\n{}", trace.dump()));
        assert!(line.contains("argv=[sleep,1000]"), "{line}");
        created_pid(&line)
    };
    // The enclave keeper stays pid 1 of the container while the payload runs.
    assert!(pid_alive(pid));
    assert_eq!(rune.state(&b.id)["pid"], json!(pid));

    rune.kill(&b.id, Some("TERM")).assert_ok();
    assert!(rune.wait_status(&b.id, "stopped"), "TERM did not stop it");
    assert!(wait_until(POLL_TIMEOUT, || !pid_alive(pid)));
    if let Some(epid) = created {
        let want = format!("pal_kill pid={epid} sig=15");
        assert!(
            trace.lines().contains(&want),
            "no {want:?} in trace:\n{}",
            trace.dump()
        );
    }
    if version > 1 {
        // The entrypoint ended, so the enclave was torn down.
        assert_eq!(
            trace.calls().last().map(String::as_str),
            Some("pal_destroy")
        );
    }
    rune.delete(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
}

fn create_start_runs_to_completion(version: u32) {
    let rune = Rune::new();
    let (mut b, trace) = skeleton_bundle("enccs", version);
    b.sh("echo hello from the enclave");
    let (out, pid) = rune.create_ok(&b);
    assert_eq!(rune.status(&b.id), "created");
    rune.start(&b.id).assert_ok();
    assert!(rune.wait_status(&b.id, "stopped"));
    assert_eq!(out.stdout_now(), "hello from the enclave\n");
    let calls = trace.calls();
    let want: &[&str] = if version == 1 {
        &["pal_init", "pal_exec", "pal_destroy"]
    } else {
        &["pal_init", "pal_create_process", "pal_exec", "pal_destroy"]
    };
    assert_eq!(calls, want, "{}", trace.dump());
    rune.delete(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
}

#[test]
fn args_are_joined_by_spaces_and_loglevel_defaults_to_info() {
    let rune = Rune::new();
    let (mut b, trace) = skeleton_bundle("encargs", 3);
    b.enclave_runtime_args(&format!("{TRACE_ARG},errno-style"))
        .remove_annotation("enclave.runtime.loglevel")
        .args(&["true"]);
    rune.run(&b).assert_ok();
    let first = trace.lines().into_iter().next().unwrap_or_default();
    assert_eq!(
        first,
        init_line(3, "trace=/trace/trace.log errno-style", "info")
    );
    assert_no_leaks(&rune, &b, None);
}

#[test]
fn loglevel_annotation_is_passed_on() {
    let rune = Rune::new();
    let (mut b, trace) = skeleton_bundle("enclevel", 2);
    b.enclave_loglevel("error").args(&["true"]);
    rune.run(&b).assert_ok();
    let first = trace.lines().into_iter().next().unwrap_or_default();
    assert_eq!(first, init_line(2, TRACE_ARG, "error"));
    assert_no_leaks(&rune, &b, None);
}

#[test]
fn enclave_type_is_case_insensitive() {
    for typ in ["SIM", "Sim"] {
        let rune = Rune::new();
        let (mut b, trace) = skeleton_bundle("enccase", 3);
        b.enclave_type(typ).args(&["/bin/echo", "hi"]);
        let out = rune.run(&b);
        out.assert_ok();
        assert_eq!(out.stdout, "hi\n");
        assert_eq!(trace.calls().first().map(String::as_str), Some("pal_init"));
        assert_no_leaks(&rune, &b, None);
    }
}

#[test]
fn environment_overrides_annotations_and_is_hidden_from_payload() {
    let rune = Rune::new();
    let trace = TraceDir::new();
    let mut b = Bundle::new("encenv");
    // Annotations that would not work; the environment overrides every one.
    b.enclave_type("foo")
        .annotation("enclave.runtime.path", "/nonexistent/liberpal-nothing.so")
        .enclave_runtime_args("trace=/trace/wrong.log")
        .enclave_loglevel("error")
        .trace_mount(&trace)
        .env("ENCLAVE_TYPE=sim")
        .env(&format!(
            "ENCLAVE_RUNTIME_PATH={}",
            skeleton_lib(3).display()
        ))
        .env("ENCLAVE_RUNTIME_ARGS=trace=/trace/trace.log,errno-style")
        .env("ENCLAVE_RUNTIME_LOGLEVEL=warning")
        .env("ENCLAVE_RA_TYPE=none")
        .env("KEEP_ME=yes")
        .args(&["env"]);
    let out = rune.run(&b);
    out.assert_ok();
    assert!(
        !out.stdout.contains("ENCLAVE_"),
        "ENCLAVE_* reached the payload: {}",
        out.stdout
    );
    assert!(out.stdout.lines().any(|l| l == "KEEP_ME=yes"), "{out}");
    assert!(!trace.file("wrong.log").exists());
    let first = trace.lines().into_iter().next().unwrap_or_default();
    assert_eq!(
        first,
        init_line(3, "trace=/trace/trace.log errno-style", "warning")
    );
    assert_no_leaks(&rune, &b, None);
}

#[test]
fn environment_alone_makes_an_enclave_container() {
    for version in [1, 2] {
        let rune = Rune::new();
        let trace = TraceDir::new();
        let mut b = Bundle::new("encenvonly");
        b.trace_mount(&trace)
            .env("ENCLAVE_TYPE=sim")
            .env(&format!(
                "ENCLAVE_RUNTIME_PATH={}",
                skeleton_lib(version).display()
            ))
            .env(&format!("ENCLAVE_RUNTIME_ARGS={TRACE_ARG}"))
            .sh("env; echo pid=$$");
        let out = rune.run(&b);
        out.assert_ok();
        assert!(
            !out.stdout.contains("ENCLAVE_"),
            "v{version}: {}",
            out.stdout
        );
        // The payload is not pid 1: the enclave keeper is.
        assert!(
            !out.stdout.contains("pid=1\n"),
            "v{version}: {}",
            out.stdout
        );
        let first = trace.lines().into_iter().next().unwrap_or_default();
        assert_eq!(first, init_line(version, TRACE_ARG, "info"));
        assert_no_leaks(&rune, &b, None);
    }
}

#[test]
fn no_enclave_type_is_a_plain_container() {
    let rune = Rune::new();
    let (mut b, trace) = skeleton_bundle("encplain", 3);
    b.remove_annotation("enclave.type").sh("echo pid=$$");
    let out = rune.run(&b);
    out.assert_ok();
    assert_eq!(out.stdout, "pid=1\n", "{out}");
    assert!(
        !trace.file("trace.log").exists(),
        "the PAL was loaded:\n{}",
        trace.dump()
    );
    assert_no_leaks(&rune, &b, None);
}

#[test]
fn entrypoint_gets_cwd_and_env_from_config() {
    let rune = Rune::new();
    let (mut b, _trace) = skeleton_bundle("enccwd", 3);
    b.cwd("/etc").env("FOO=bar baz").sh("pwd; echo \"$FOO\"");
    let out = rune.run(&b);
    out.assert_ok();
    assert_eq!(out.stdout, "/etc\nbar baz\n", "{out}");
    assert_no_leaks(&rune, &b, None);
}

/// The rune binary's code in process `pid` (the executable mappings of the file its
/// /proc/<pid>/exe is): (resident, mapped), in KiB.
fn exe_text_kib(pid: i32) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    let exe = std::fs::metadata(format!("/proc/{pid}/exe")).unwrap();
    let smaps = std::fs::read_to_string(format!("/proc/{pid}/smaps")).unwrap();
    let (mut rss, mut size, mut ours) = (0, 0, false);
    for line in smaps.lines() {
        let w: Vec<&str> = line.split_whitespace().collect();
        let field =
            |name: &str| (ours && w.first() == Some(&name)).then(|| w[1].parse::<u64>().unwrap());
        if w.len() >= 5 && w[0].contains('-') && w[1].len() == 4 {
            ours = w[1].contains('x') && w[4].parse::<u64>().ok() == Some(exe.ino());
        } else if let Some(kib) = field("Rss:") {
            rss += kib;
        } else if let Some(kib) = field("Size:") {
            size += kib;
        }
    }
    (rss, size)
}

/// Once the entrypoint runs, the enclave keeper gives back the pages of the rune binary it
/// ran to set the container up: it keeps resident only the code it runs while it waits, a
/// small part of the binary's code (before, the set-up code stayed: over half of it).
#[test]
fn an_idle_keeper_keeps_little_of_rune_resident() {
    let rune = Rune::new();
    let (mut b, trace) = skeleton_bundle("enckeeprss", 3);
    b.args(&["sleep", "1000"]);
    let (_, pid) = rune.start_container(&b);
    assert!(trace
        .wait_line(|l| l.starts_with("pal_create_process "))
        .is_some());
    let small = || {
        let (rss, size) = exe_text_kib(pid);
        rss * 4 < size
    };
    assert!(
        wait_until(POLL_TIMEOUT, small),
        "the keeper keeps (resident, mapped) {:?} KiB of the rune binary's code",
        exe_text_kib(pid)
    );
    // It still serves: an exec runs in the enclave.
    let out = rune.exec(&b.id, &["echo", "served"]);
    out.assert_ok();
    assert_eq!(out.stdout, "served\n");
    rune.delete_force(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
}
