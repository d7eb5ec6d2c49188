//! `linux.seccomp`: rules, errno values, argument conditions, flags, Podman's
//! default profile and the `listenerPath` seccomp agent protocol.

use rune_integration::*;

const PODMAN_PROFILE: &str = "/usr/share/containers/seccomp.json";
const UNISTD: &str = "/usr/include/x86_64-linux-gnu/asm/unistd_64.h";

fn deny_mkdir(errno: Option<u32>) -> Value {
    let mut rule = json!({"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"});
    if let Some(e) = errno {
        rule["errnoRet"] = json!(e);
    }
    rule
}

fn allow_all_but(rules: Value) -> Value {
    json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": rules})
}

/// `run` a container with `seccomp`, `noNewPrivileges = nnp`, a writable
/// /tmp and `script`; asserts nothing is left behind.
fn run_seccomp(seccomp: Value, nnp: bool, script: &str) -> Output {
    let rune = Rune::new();
    let mut b = Bundle::new("seccomp");
    b.set("/linux/seccomp", seccomp)
        .set("/process/noNewPrivileges", json!(nnp))
        .writable_tmp()
        .sh(script);
    let out = rune.run(&b);
    assert_no_leaks(&rune, &b, None);
    out
}

const MKDIR: &str = "echo ok; mkdir /tmp/x; echo rc=$?; ls /tmp; \
                     grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status";

#[test]
fn errno_rule_denies_mkdir_with_and_without_no_new_privileges() {
    for nnp in [true, false] {
        let out = run_seccomp(allow_all_but(json!([deny_mkdir(Some(13))])), nnp, MKDIR);
        out.assert_ok();
        let want = format!(
            "ok\nrc=1\nNoNewPrivs:\t{}\nSeccomp:\t2\n",
            if nnp { 1 } else { 0 }
        );
        assert_eq!(out.stdout, want, "noNewPrivileges={nnp}: {out}");
        assert!(out.stderr.contains("Permission denied"), "{out}");
    }
}

#[test]
fn errno_rule_without_errno_ret_is_eperm() {
    let out = run_seccomp(allow_all_but(json!([deny_mkdir(None)])), true, MKDIR);
    out.assert_ok();
    assert!(out.stdout.starts_with("ok\nrc=1\n"), "{out}");
    assert!(out.stderr.contains("Operation not permitted"), "{out}");
}

#[test]
fn default_errno_ret() {
    // Default ERRNO(ENOSPC), with every syscall of the host's x86_64 table
    // allowed except mkdir/mkdirat.
    let table = std::fs::read_to_string(UNISTD)
        .unwrap_or_else(|e| panic!("{UNISTD}: {e} (install linux-libc-dev)"));
    let names: Vec<&str> = table
        .lines()
        .filter_map(|l| l.strip_prefix("#define __NR_")?.split_whitespace().next())
        .filter(|n| *n != "mkdir" && *n != "mkdirat")
        .collect();
    assert!(
        names.len() > 300,
        "syscall table too short: {}",
        names.len()
    );
    let seccomp = json!({
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": 28,
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        "syscalls": [{"names": names, "action": "SCMP_ACT_ALLOW"}]
    });
    let out = run_seccomp(seccomp, true, MKDIR);
    out.assert_ok();
    assert!(out.stdout.starts_with("ok\nrc=1\n"), "{out}");
    assert!(out.stderr.contains("No space left on device"), "{out}");
}

#[test]
fn argument_condition() {
    // busybox linux64 calls personality(PER_LINUX = 0), linux32
    // personality(PER_LINUX32 = 8): only the former matches arg0 == 0.
    let rule = |value: u64| {
        json!({"names": ["personality"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
               "args": [{"index": 0, "value": value, "op": "SCMP_CMP_EQ"}]})
    };
    let seccomp = allow_all_but(json!([rule(0), rule(0xffff_ffff)]));
    let out = run_seccomp(
        seccomp,
        true,
        "linux64 true && echo linux64-ok; linux32 true && echo linux32-ok",
    );
    out.assert_ok();
    assert_eq!(out.stdout, "linux32-ok\n", "{out}");
    assert!(out.stderr.contains("Operation not permitted"), "{out}");
}

#[test]
fn unknown_syscall_names_are_ignored() {
    let rule = json!({"names": ["mkdir", "not_a_syscall_rune", "mkdirat"],
                      "action": "SCMP_ACT_ERRNO", "errnoRet": 13});
    let out = run_seccomp(allow_all_but(json!([rule])), true, MKDIR);
    out.assert_ok();
    assert!(out.stdout.starts_with("ok\nrc=1\n"), "{out}");
    assert!(out.stderr.contains("Permission denied"), "{out}");
}

#[test]
fn filter_flags_log_and_spec_allow_are_accepted() {
    for nnp in [true, false] {
        let mut seccomp = allow_all_but(json!([deny_mkdir(Some(13))]));
        seccomp["flags"] = json!(["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"]);
        let out = run_seccomp(seccomp, nnp, MKDIR);
        out.assert_ok();
        assert!(out.stdout.starts_with("ok\nrc=1\n"), "nnp={nnp}: {out}");
        assert!(out.stdout.contains("Seccomp:\t2"), "{out}");
    }
}

/// Podman's profile in OCI form: `archMap` -> `architectures` (x86_64 and its
/// sub-architectures); each rule's `includes`/`excludes` evaluated for amd64
/// and the container's capabilities (the rule dropped if they do not match);
/// the fields the runtime-spec schema lacks (`archMap`, `defaultErrno`,
/// `comment`, `includes`, `excludes`, `errno`) stripped.
fn podman_profile_as_oci(caps: &[&str]) -> Value {
    let text = std::fs::read_to_string(PODMAN_PROFILE).unwrap_or_else(|e| {
        panic!("{PODMAN_PROFILE}: {e} (apt-get install golang-github-containers-common)")
    });
    let p: Value = serde_json::from_str(&text).expect("profile is JSON");
    let arch = p["archMap"]
        .as_array()
        .and_then(|m| m.iter().find(|a| a["architecture"] == "SCMP_ARCH_X86_64"))
        .expect("x86_64 in archMap");
    let mut arches = vec![arch["architecture"].clone()];
    arches.extend(
        arch["subArchitectures"]
            .as_array()
            .cloned()
            .unwrap_or_default(),
    );
    let list = |v: &Value, k: &str| -> Vec<String> {
        v[k].as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    let applies = |r: &Value| {
        let (inc, exc) = (&r["includes"], &r["excludes"]);
        let inc_arches = list(inc, "arches");
        (inc_arches.is_empty() || inc_arches.iter().any(|a| a == "amd64"))
            && list(inc, "caps").iter().all(|c| caps.contains(&c.as_str()))
            && !list(exc, "arches").iter().any(|a| a == "amd64")
            && !list(exc, "caps").iter().any(|c| caps.contains(&c.as_str()))
    };
    let syscalls: Vec<Value> = p["syscalls"]
        .as_array()
        .expect("syscalls")
        .iter()
        .filter(|r| applies(r))
        .map(|r| {
            let mut o = serde_json::Map::new();
            for k in ["names", "action", "errnoRet", "args"] {
                if !r[k].is_null() {
                    o.insert(k.into(), r[k].clone());
                }
            }
            Value::Object(o)
        })
        .collect();
    json!({
        "defaultAction": p["defaultAction"],
        "defaultErrnoRet": p["defaultErrnoRet"],
        "architectures": arches,
        "syscalls": syscalls
    })
}

#[test]
fn podman_default_profile() {
    let caps = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"];
    let seccomp = podman_profile_as_oci(&caps);
    assert_eq!(seccomp["defaultAction"], "SCMP_ACT_ERRNO");
    for nnp in [true, false] {
        let out = run_seccomp(
            seccomp.clone(),
            nnp,
            "echo ok; mkdir /tmp/x && ls /tmp; grep Seccomp: /proc/self/status",
        );
        out.assert_ok();
        assert_eq!(out.stdout, "ok\nx\nSeccomp:\t2\n", "nnp={nnp}: {out}");
    }
}

/// A NOTIFY rule for mkdir/mkdirat reported to the agent listening at `path`.
fn notify_profile(path: &std::path::Path, metadata: &str) -> Value {
    json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "listenerPath": path.to_str().unwrap(),
        "listenerMetadata": metadata,
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}]
    })
}

#[track_caller]
fn assert_process_state(r: &ListenerReport, id: &str, metadata: &str) {
    assert!(r.connected, "the runtime never connected to listenerPath");
    assert_eq!(r.fds, 1, "fds received: {}; payload {:?}", r.fds, r.raw);
    let s = &r.state;
    assert!(s.is_object(), "payload is not a JSON object: {:?}", r.raw);
    assert!(
        s["ociVersion"].as_str().is_some_and(|v| !v.is_empty()),
        "{s}"
    );
    assert_eq!(s["fds"], json!(["seccompFd"]), "{s}");
    assert!(s["pid"].as_i64().is_some_and(|p| p > 0), "{s}");
    assert_eq!(s["metadata"], metadata, "{s}");
    assert_eq!(s["state"]["id"], id, "{s}");
}

#[test]
fn listener_answers_notifications() {
    let agent = SeccompListener::new(NotifyReply::Errno(libc::ENAMETOOLONG));
    let meta = "MKNOD=/dev/null;rune-test";
    let rune = Rune::new();
    let mut b = Bundle::new("seclisten");
    b.set("/linux/seccomp", notify_profile(agent.path(), meta))
        .writable_tmp()
        .sh("mkdir /tmp/x; echo rc=$?; ls /tmp; echo end");
    let out = rune.run(&b);
    let report = agent.finish();
    assert_process_state(&report, &b.id, meta);
    out.assert_ok();
    assert_eq!(out.stdout, "rc=1\nend\n", "{out}");
    assert!(out.stderr.contains("File name too long"), "{out}");
    assert!(!report.notifications.is_empty(), "no notification answered");
    for n in &report.notifications {
        assert!(
            n.nr == libc::SYS_mkdir as i32 || n.nr == libc::SYS_mkdirat as i32,
            "{n:?}"
        );
        assert!(n.pid > 0, "{n:?}");
    }
    assert_no_leaks(&rune, &b, None);
}

#[test]
fn listener_closing_the_fd_makes_syscalls_fail_with_enosys() {
    let agent = SeccompListener::new(NotifyReply::Close);
    let rune = Rune::new();
    let mut b = Bundle::new("seclistenclose");
    b.set("/linux/seccomp", notify_profile(agent.path(), "m"))
        .writable_tmp()
        .sh("echo start; mkdir /tmp/x; echo rc=$?; ls /tmp");
    let out = rune.run(&b);
    let report = agent.finish();
    assert_process_state(&report, &b.id, "m");
    out.assert_ok();
    assert_eq!(out.stdout, "start\nrc=1\n", "{out}");
    assert!(out.stderr.contains("Function not implemented"), "{out}");
    assert_no_leaks(&rune, &b, None);
}

/// A mkdir that the agent holds after receiving it, while the container sends it SIGSTOP (a
/// non-fatal signal), waits up to a second for it to stop, and sends SIGCONT. Returns the
/// notifications the agent got and the container's output.
fn held_mkdir_stopped_and_continued(flags: Value) -> (Vec<Notification>, Output) {
    let agent = SeccompListener::new(NotifyReply::GatedErrno(libc::ENAMETOOLONG));
    let rune = Rune::new();
    let mut b = Bundle::new("secheld");
    let mut profile = notify_profile(agent.path(), "k");
    profile["flags"] = flags;
    b.set("/linux/seccomp", profile)
        .writable_tmp()
        .bind(agent.dir(), "/mnt/agent", &[])
        .sh("mkdir /tmp/x & m=$!; \
             until [ -e /mnt/agent/received ]; do usleep 10000; done; \
             kill -STOP $m; i=0; \
             until grep -q '^State:.*stopped' /proc/$m/status || [ $i -ge 100 ]; do \
               usleep 10000; i=$((i+1)); done; \
             grep '^State:' /proc/$m/status; kill -CONT $m; \
             : > /mnt/agent/continue; wait $m; echo rc=$?; grep Seccomp: /proc/self/status");
    let out = rune.run(&b);
    let report = agent.finish();
    assert_process_state(&report, &b.id, "k");
    out.assert_ok();
    assert!(out.stderr.contains("File name too long"), "{out}");
    assert_no_leaks(&rune, &b, None);
    (report.notifications, out)
}

/// SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, which the libseccomp here (2.5) cannot set: rune
/// loads the filter with it itself. Once the agent has received a notification, only a fatal
/// signal interrupts the syscall: the process waits killable (state D) and never stops, and
/// the agent sees one notification; without the flag it stops, the kernel restarts the syscall on SIGCONT, and
/// the agent sees it twice.
#[test]
fn listener_with_wait_killable_recv() {
    let (seen, out) = held_mkdir_stopped_and_continued(json!([
        "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
        "SECCOMP_FILTER_FLAG_LOG"
    ]));
    assert_eq!(seen.len(), 1, "{seen:?}\n{out}");
    assert!(
        out.stdout.starts_with("State:\tD (disk sleep)\nrc=1\n"),
        "{out}"
    );
    assert!(out.stdout.contains("Seccomp:\t2"), "{out}");

    let (seen, out) = held_mkdir_stopped_and_continued(json!([]));
    assert_eq!(seen.len(), 2, "without the flag:\n{seen:?}\n{out}");
    assert!(out.stdout.starts_with("State:\tT (stopped)\n"), "{out}");
}

#[test]
fn podman_profile_as_shipped_is_accepted() {
    // The file as is, with its non-OCI fields (archMap, includes, comment...)
    // that the runtime must ignore, as runc does.
    let text = std::fs::read_to_string(PODMAN_PROFILE).unwrap_or_else(|e| {
        panic!("{PODMAN_PROFILE}: {e} (apt-get install golang-github-containers-common)")
    });
    let raw: Value = serde_json::from_str(&text).unwrap();
    let out = run_seccomp(raw, true, "echo ok; grep Seccomp: /proc/self/status");
    out.assert_ok();
    assert_eq!(out.stdout, "ok\nSeccomp:\t2\n", "{out}");
}

/// An allow-list profile (default EPERM) naming every x86-64 syscall up to `max` (from the
/// kernel headers), as a profile written for an older kernel does.
fn allow_list_up_to(max: i64) -> Value {
    let text = std::fs::read_to_string(UNISTD).expect("kernel headers (linux-libc-dev)");
    let names: Vec<String> = text
        .lines()
        .filter_map(|l| {
            let mut it = l.strip_prefix("#define __NR_")?.split_whitespace();
            let (name, nr) = (it.next()?, it.next()?.parse::<i64>().ok()?);
            (nr <= max).then(|| name.to_string())
        })
        .collect();
    json!({"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"],
           "syscalls": [{"names": names, "action": "SCMP_ACT_ALLOW"}]})
}

/// A static probe that makes raw system calls by number and prints each errno.
fn syscall_probe(rune: &Rune) -> std::path::PathBuf {
    let src = rune.scratch().join("probe.c");
    std::fs::write(
        &src,
        "#include <errno.h>\n#include <stdio.h>\n#include <stdlib.h>\n#include <unistd.h>\n\
         int main(int c, char **v) { for (int i = 1; i < c; i++) { errno = 0;\n\
         long r = syscall(atol(v[i]), -1, 0, 0, 0); printf(\"%s:%ld:%d\\n\", v[i], r, errno); }\n\
         return 0; }\n",
    )
    .unwrap();
    let bin = rune.scratch().join("probe");
    let st = std::process::Command::new("cc")
        .args(["-static", "-O0", "-o"])
        .arg(&bin)
        .arg(&src)
        .status()
        .unwrap();
    assert!(st.success(), "cc -static failed");
    bin
}

#[test]
fn a_syscall_newer_than_the_profile_gets_enosys() {
    // runc's -ENOSYS stub: glibc and Go fall back on ENOSYS, but take EPERM as a refusal.
    // The profile knows syscalls up to 334 (rseq); 435 (clone3), 439 (faccessat2) and 500
    // (none yet) are newer. A known, unlisted one keeps the profile's EPERM: that is what
    // the allow-list says of it.
    let rune = Rune::new();
    let probe = syscall_probe(&rune);
    let mut profile = allow_list_up_to(334);
    profile["syscalls"][0]["names"]
        .as_array_mut()
        .unwrap()
        .retain(|n| n != "getpriority"); // 140: known, denied
    let mut b = Bundle::new("secenosys");
    b.set("/linux/seccomp", profile)
        .bind(&probe, "/probe", &["bind", "ro"])
        .args(&["/probe", "435", "439", "500", "140"]);
    let out = rune.run(&b);
    out.assert_ok();
    let enosys = libc::ENOSYS;
    let eperm = libc::EPERM;
    assert_eq!(
        out.stdout,
        format!("435:-1:{enosys}\n439:-1:{enosys}\n500:-1:{enosys}\n140:-1:{eperm}\n"),
        "{out}"
    );
    assert_no_leaks(&rune, &b, None);
}

#[test]
fn notify_on_the_inits_own_syscalls_does_not_hang() {
    // Without no_new_privs the filter is loaded early, and rune's init still opens, reads and
    // closes files before it runs the process: the agent must have the fd by then.
    let agent = SeccompListener::new(NotifyReply::Continue);
    let rune = Rune::new();
    let mut b = Bundle::new("secnotifyinit");
    b.set(
        "/linux/seccomp",
        json!({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": agent.path().to_str().unwrap(),
               "syscalls": [{"names": ["openat", "read", "close", "execve"],
                             "action": "SCMP_ACT_NOTIFY"}]}),
    )
    .set("/process/noNewPrivileges", json!(false))
    .sh("echo ran");
    let out = rune.run(&b);
    let report = agent.finish();
    out.assert_ok();
    assert_eq!(out.stdout, "ran\n", "{out}");
    assert!(!report.notifications.is_empty());
    assert_no_leaks(&rune, &b, None);
}

#[test]
fn notify_on_write_is_refused() {
    // runc: "SCMP_ACT_NOTIFY cannot be used for the write syscall" (the agent could never be
    // told); rune needs sendmsg too.
    for call in ["write", "sendmsg"] {
        let rune = Rune::new();
        let mut b = Bundle::new("secnotifywrite");
        b.set(
            "/linux/seccomp",
            json!({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/nonexistent.sock",
                   "syscalls": [{"names": [call], "action": "SCMP_ACT_NOTIFY"}]}),
        )
        .args(&["true"]);
        let out = rune.run(&b);
        out.assert_fail_mentioning(&[&format!("cannot be used for the {call} syscall")]);
        assert_no_leaks(&rune, &b, None);
    }
}

#[test]
fn no_fd_of_the_caller_survives_under_a_profile_without_close_range() {
    // A profile from before close_range(2) (436) must not leave the caller's descriptors open
    // in the container: rune closes them before the filter is loaded.
    let rune = Rune::new();
    let mut b = Bundle::new("secfdprofile");
    b.set("/linux/seccomp", allow_list_up_to(334))
        .set("/process/noNewPrivileges", json!(true))
        .sh("ls /proc/self/fd | sort -n | tr '\\n' ' '");
    b.write();
    rune.track(&b.id);
    let dir = std::fs::File::open(rune.scratch()).unwrap();
    let out = rune
        .cmd(["run", "--bundle", b.path().to_str().unwrap(), &b.id])
        .pass_fd(dir.try_clone().unwrap())
        .pass_fd(dir)
        .run();
    out.assert_ok();
    // 0-2 and the one ls opens for the directory.
    assert_eq!(out.stdout.split_whitespace().count(), 4, "{out}");
    assert_no_leaks(&rune, &b, None);
}
