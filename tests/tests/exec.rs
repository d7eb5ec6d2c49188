//! `exec` into a running container.

use rune_integration::*;

/// A running container (`sleep`), with noNewPrivileges off so exec's
/// `--no-new-privs` is observable.
fn running(rune: &Rune, prefix: &str) -> (Bundle, i32) {
    let mut b = Bundle::new(prefix);
    b.set("/process/noNewPrivileges", json!(false))
        .args(&["sleep", "100000"]);
    let (_, pid) = rune.start_container(&b);
    (b, pid)
}

fn finish(rune: &Rune, b: &Bundle, pid: i32) {
    rune.delete_force(&b.id).assert_ok();
    assert_no_leaks(rune, b, Some(pid));
}

#[test]
fn exec_output_and_exit_code() {
    let rune = Rune::new();
    let (b, pid) = running(&rune, "exec");
    let out = rune.exec(&b.id, &["sh", "-c", "echo out; echo err >&2; exit 7"]);
    assert_eq!(out.exit_code(), 7, "{out}");
    assert_eq!(out.stdout, "out\n");
    assert!(out.stderr.contains("err"), "{out}");
    let out = rune.exec(&b.id, &["echo", "a b", "c"]);
    out.assert_ok();
    assert_eq!(out.stdout, "a b c\n");
    // The exec'd process shares the container's namespaces.
    let out = rune.exec(
        &b.id,
        &[
            "sh",
            "-c",
            "readlink /proc/self/ns/pid; readlink /proc/self/ns/mnt",
        ],
    );
    out.assert_ok();
    let want = format!(
        "{}\n{}\n",
        ns_link(&pid.to_string(), "pid"),
        ns_link(&pid.to_string(), "mnt")
    );
    assert_eq!(out.stdout, want);
    finish(&rune, &b, pid);
}

#[test]
fn exec_exit_code_when_killed_by_signal() {
    let rune = Rune::new();
    let (b, pid) = running(&rune, "execsig");
    let out = rune.exec(&b.id, &["sh", "-c", "kill -KILL $$"]);
    assert_eq!(out.exit_code(), 137, "{out}");
    finish(&rune, &b, pid);
}

#[test]
fn exec_stdin_pass_through() {
    let rune = Rune::new();
    let (b, pid) = running(&rune, "execstdin");
    let out = rune
        .cmd(["exec", b.id.as_str(), "cat"])
        .stdin(b"piped into exec\n")
        .run();
    out.assert_ok();
    assert_eq!(out.stdout, "piped into exec\n");
    finish(&rune, &b, pid);
}

#[test]
fn exec_process_json() {
    let rune = Rune::new();
    let (b, pid) = running(&rune, "execproc");
    let process = json!({
        "terminal": false,
        "user": {"uid": 1000, "gid": 1000},
        "args": ["sh", "-c", "echo $FOO; pwd; id -u"],
        "env": ["PATH=/bin", "FOO=from-process-json"],
        "cwd": "/etc"
    });
    let pfile = rune.scratch().join("process.json");
    std::fs::write(&pfile, process.to_string()).unwrap();
    let out = rune
        .cmd(["exec", "--process", pfile.to_str().unwrap(), b.id.as_str()])
        .run();
    out.assert_ok();
    assert_eq!(out.stdout, "from-process-json\n/etc\n1000\n");
    // Short form -p.
    let out = rune
        .cmd(["exec", "-p", pfile.to_str().unwrap(), b.id.as_str()])
        .run();
    out.assert_ok();
    assert!(out.stdout.starts_with("from-process-json\n"));
    finish(&rune, &b, pid);
}

#[test]
fn exec_env_and_cwd() {
    let rune = Rune::new();
    let (b, pid) = running(&rune, "execenv");
    let out = rune.exec(
        &b.id,
        &[
            "-e",
            "FOO=bar",
            "-e",
            "BAZ=qux quux",
            "--cwd",
            "/proc",
            "--",
            "sh",
            "-c",
            "echo \"$FOO|$BAZ\"; pwd; echo $PATH",
        ],
    );
    out.assert_ok();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines[0], "bar|qux quux");
    assert_eq!(lines[1], "/proc");
    // The container's env is inherited.
    assert_eq!(
        lines[2],
        "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    );
    let out = rune.exec(
        &b.id,
        &["--env=X=1", "--cwd=/etc", "--", "sh", "-c", "echo $X; pwd"],
    );
    out.assert_ok();
    assert_eq!(out.stdout, "1\n/etc\n");
    finish(&rune, &b, pid);
}

#[test]
fn exec_user_and_additional_gids() {
    let rune = Rune::new();
    let (b, pid) = running(&rune, "execuser");
    let out = rune.exec(
        &b.id,
        &[
            "-u",
            "1000:1000",
            "-g",
            "1001",
            "-g",
            "1002",
            "--",
            "sh",
            "-c",
            "id -u; id -g; id -G",
        ],
    );
    out.assert_ok();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines[0], "1000");
    assert_eq!(lines[1], "1000");
    let mut groups: Vec<&str> = lines[2].split_whitespace().collect();
    groups.sort_unstable();
    assert_eq!(groups, ["1000", "1001", "1002"], "{out}");
    let out = rune.exec(&b.id, &["--user", "1000", "--", "id", "-u"]);
    out.assert_ok();
    assert_eq!(out.stdout, "1000\n");
    finish(&rune, &b, pid);
}

#[test]
fn exec_capabilities() {
    let rune = Rune::new();
    let (b, pid) = running(&rune, "execcap");
    let eff = |out: &Output| {
        out.assert_ok();
        parse_cap_hex(&proc_status_field(&out.stdout, "CapEff").unwrap())
    };
    let base = eff(&rune.exec(&b.id, &["cat", "/proc/self/status"]));
    assert_eq!(
        base,
        cap_mask(&["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"])
    );
    let out = rune.exec(
        &b.id,
        &["--cap", "CAP_SYS_ADMIN", "--", "cat", "/proc/self/status"],
    );
    let with = eff(&out);
    assert_eq!(with, base | (1 << cap_bit("CAP_SYS_ADMIN")), "{out}");
    let bnd = parse_cap_hex(&proc_status_field(&out.stdout, "CapBnd").unwrap());
    assert_ne!(bnd & (1 << cap_bit("CAP_SYS_ADMIN")), 0);
    finish(&rune, &b, pid);
}

#[test]
fn exec_no_new_privs() {
    let rune = Rune::new();
    let (b, pid) = running(&rune, "execnnp");
    let nnp = |args: &[&str]| {
        let out = rune.exec(&b.id, args);
        out.assert_ok();
        proc_status_field(&out.stdout, "NoNewPrivs").unwrap()
    };
    assert_eq!(nnp(&["cat", "/proc/self/status"]), "0");
    assert_eq!(
        nnp(&["--no-new-privs", "--", "cat", "/proc/self/status"]),
        "1"
    );
    finish(&rune, &b, pid);
}

#[test]
fn exec_detach_with_pid_file() {
    let rune = Rune::new();
    let (b, pid) = running(&rune, "execd");
    let pf = rune.scratch().join("exec.pid");
    let out = rune.exec(
        &b.id,
        &[
            "--detach",
            "--pid-file",
            pf.to_str().unwrap(),
            "--",
            "sleep",
            "100000",
        ],
    );
    out.assert_ok();
    let epid = read_pid_file(&pf);
    assert!(pid_alive(epid));
    assert_ne!(epid, pid);
    assert_eq!(
        ns_link(&epid.to_string(), "pid"),
        ns_link(&pid.to_string(), "pid")
    );
    let cmdline = std::fs::read_to_string(format!("/proc/{epid}/cmdline")).unwrap();
    assert_eq!(cmdline, "sleep\u{0}100000\u{0}");
    // Short -d form.
    let pf2 = rune.scratch().join("exec2.pid");
    rune.exec(
        &b.id,
        &[
            "-d",
            "--pid-file",
            pf2.to_str().unwrap(),
            "--",
            "sleep",
            "100000",
        ],
    )
    .assert_ok();
    let epid2 = read_pid_file(&pf2);

    rune.kill(&b.id, Some("KILL")).assert_ok();
    assert!(rune.wait_status(&b.id, "stopped"));
    rune.delete(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
    for p in [epid, epid2] {
        assert!(
            wait_until(POLL_TIMEOUT, || !pid_alive(p)),
            "exec'd {p} survived"
        );
    }
}

#[test]
fn exec_with_terminal_and_console_socket() {
    let rune = Rune::new();
    let (b, pid) = running(&rune, "exectty");
    let console = ConsoleSocket::new(b"");
    let out = rune.exec(
        &b.id,
        &[
            "-t",
            "-d",
            "--console-socket",
            console.path().to_str().unwrap(),
            "--",
            "sh",
            "-c",
            "tty; echo exec-tty-done",
        ],
    );
    out.assert_ok();
    let cap = console.finish();
    assert!(cap.got_master);
    let text = cap.output.replace('\r', "");
    assert!(text.starts_with("/dev/pts/"), "{text:?}");
    assert!(text.contains("exec-tty-done"), "{text:?}");
    finish(&rune, &b, pid);
}

#[test]
fn exec_nonexistent_executable_fails() {
    let rune = Rune::new();
    let (b, pid) = running(&rune, "execnoexe");
    rune.exec(&b.id, &["/nonexistent-exe"])
        .assert_fail_mentioning(&["/nonexistent-exe"]);
    // The container is unaffected.
    assert_eq!(rune.status(&b.id), "running");
    finish(&rune, &b, pid);
}

#[test]
fn exec_into_stopped_container_fails() {
    let rune = Rune::new();
    let mut b = Bundle::new("execstopped");
    b.args(&["true"]);
    let (_, pid) = rune.start_container(&b);
    assert!(rune.wait_status(&b.id, "stopped"));
    rune.exec(&b.id, &["true"])
        .assert_fail_mentioning(&["cannot exec in a stopped container"]);
    rune.delete(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
}

#[test]
fn exec_into_nonexistent_container_fails() {
    let rune = Rune::new();
    let id = unique_id("execnone");
    rune.exec(&id, &["true"])
        .assert_fail_mentioning(&["container", &id, "does not exist"]);
}

#[test]
fn exec_into_a_sub_cgroup() {
    let rune = Rune::new();
    let (b, pid) = running(&rune, "execcg");
    let cg = b
        .cgroups_path_value()
        .expect("the default bundle has a cgroupsPath");
    if cgroup_v2() {
        // One tree: `--cgroup PATH` with no controller names, as runc takes it there.
        std::fs::create_dir(cgroup_dir("", &cg).join("sub1")).unwrap();
        let out = rune.exec(
            &b.id,
            &["--cgroup", "sub1", "--", "cat", "/proc/self/cgroup"],
        );
        out.assert_ok();
        assert_eq!(out.stdout.trim(), format!("0::{cg}/sub1"), "{out}");
    } else {
        exec_into_v1_sub_cgroups(&rune, &b, &cg);
    }
    // A missing sub-cgroup: runc's words (exec.bats), which callers match.
    let out = rune.exec(&b.id, &["--cgroup", "nosuch", "--", "true"]);
    out.assert_fail();
    assert!(
        out.stderr.contains("adding pid ")
            && out.stderr.contains(" to cgroups")
            && out.stderr.contains("/nosuch/cgroup.procs: no such file "),
        "{out}"
    );
    // Climbing out of the container's cgroup: runc's words.
    rune.exec(&b.id, &["--cgroup", "../../x", "--", "true"])
        .assert_fail_mentioning(&["is not a sub cgroup path"]);
    // delete removes the sub-cgroups with the container's.
    finish(&rune, &b, pid);
}

/// `--cgroup memory,pids:sub1` on v1: those hierarchies' sub-cgroup, the others untouched.
fn exec_into_v1_sub_cgroups(rune: &Rune, b: &Bundle, cg: &str) {
    for ctrl in ["memory", "pids"] {
        std::fs::create_dir(cgroup_dir(ctrl, cg).join("sub1")).unwrap();
    }
    let out = rune.exec(
        &b.id,
        &[
            "--cgroup",
            "memory,pids:sub1",
            "--",
            "cat",
            "/proc/self/cgroup",
        ],
    );
    out.assert_ok();
    let line = |c: &str| {
        out.stdout
            .lines()
            .find(|l| l.split(':').nth(1) == Some(c))
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        line("memory").ends_with(&format!("{cg}/sub1")),
        "{}",
        out.stdout
    );
    assert!(
        line("pids").ends_with(&format!("{cg}/sub1")),
        "{}",
        out.stdout
    );
    assert!(line("cpu").ends_with(cg), "{}", out.stdout);
}
