//! The container process: args, env, cwd, user, umask, caps, rlimits, stdio.

use rune_integration::*;

/// Run `script` in a fresh container built by `edit`; return stdout.
#[track_caller]
fn run_sh(edit: impl FnOnce(&mut Bundle), script: &str) -> String {
    let rune = Rune::new();
    let mut b = Bundle::new("proc");
    b.sh(script);
    edit(&mut b);
    let out = rune.run(&b);
    out.assert_ok();
    assert_no_leaks(&rune, &b, None);
    out.stdout
}

#[test]
fn args_are_passed_verbatim() {
    let rune = Rune::new();
    let mut b = Bundle::new("args");
    b.args(&["/bin/echo", "a b", "", "$HOME", "*", "last"]);
    let out = rune.run(&b);
    out.assert_ok();
    assert_eq!(out.stdout, "a b  $HOME * last\n");
    assert_no_leaks(&rune, &b, None);
}

#[test]
fn args_resolved_via_path() {
    // `env` is found through the spec's PATH, not the runtime's.
    let out = run_sh(
        |b| {
            b.args(&["env"]);
        },
        "",
    );
    assert!(
        out.lines()
            .any(|l| l == "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
        "{out}"
    );
}

#[test]
fn env_is_exactly_the_spec_env() {
    let out = run_sh(
        |b| {
            b.env("FOO=bar baz").env("EMPTY=");
        },
        "env | sort",
    );
    let vars: Vec<&str> = out.lines().collect();
    assert!(vars.contains(&"FOO=bar baz"), "{out}");
    assert!(vars.contains(&"EMPTY="), "{out}");
    assert!(vars.contains(&"TERM=xterm"), "{out}");
    // Nothing leaks in from the runtime's own environment.
    assert!(!vars.iter().any(|v| v.starts_with("CARGO")), "{out}");
    assert!(!vars.iter().any(|v| v.starts_with("RUNE_BIN")), "{out}");
}

#[test]
fn home_defaults_from_passwd() {
    // runc sets HOME from /etc/passwd when the spec does not.
    let out = run_sh(
        |b| {
            b.user(1000, 1000, &[]);
        },
        "echo $HOME",
    );
    assert_eq!(out.trim(), "/home/test");
}

#[test]
fn cwd_is_applied() {
    assert_eq!(
        run_sh(
            |b| {
                b.cwd("/etc");
            },
            "pwd"
        )
        .trim(),
        "/etc"
    );
}

#[test]
fn cwd_is_created_if_missing() {
    // The rootfs is read-only, so the missing cwd goes inside a tmpfs.
    let out = run_sh(
        |b| {
            b.mount("/mnt/a", "tmpfs", "tmpfs", &[])
                .cwd("/mnt/a/new/dir");
        },
        "pwd",
    );
    assert_eq!(out.trim(), "/mnt/a/new/dir");
}

#[test]
fn user_uid_gid_additional_gids() {
    let out = run_sh(
        |b| {
            b.user(1000, 1000, &[1001, 1002]);
        },
        "id -u; id -g; id -G",
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "1000");
    assert_eq!(lines[1], "1000");
    let mut groups: Vec<&str> = lines[2].split_whitespace().collect();
    groups.sort_unstable();
    assert_eq!(groups, ["1000", "1001", "1002"], "{out}");
}

#[test]
fn root_user_has_no_supplementary_groups() {
    let out = run_sh(|_| {}, "id -u; id -G; grep Groups /proc/self/status");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "0");
    assert_eq!(lines[1].trim(), "0", "{out}");
    assert_eq!(lines[2].trim_start_matches("Groups:").trim(), "", "{out}");
}

#[test]
fn umask_is_applied() {
    let out = run_sh(
        |b| {
            b.set("/process/user/umask", json!(0o077));
        },
        "umask",
    );
    assert_eq!(out.trim(), "0077");
    // Without one, the default is 0022.
    assert_eq!(run_sh(|_| {}, "umask").trim(), "0022");
}

const DEFAULT_CAPS: &[&str] = &["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"];

fn caps_of(status: &str) -> [u64; 5] {
    ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"].map(|f| {
        parse_cap_hex(
            &proc_status_field(status, f).unwrap_or_else(|| panic!("{f} missing in {status}")),
        )
    })
}

#[test]
fn default_capabilities() {
    let out = run_sh(|_| {}, "cat /proc/self/status");
    let [inh, prm, eff, bnd, amb] = caps_of(&out);
    let want = cap_mask(DEFAULT_CAPS);
    assert_eq!(want, 0x2000_0420);
    assert_eq!(eff, want, "CapEff");
    assert_eq!(prm, want, "CapPrm");
    assert_eq!(bnd, want, "CapBnd");
    // No inheritable set in the spec, so nothing inheritable; ambient
    // capabilities must be inheritable too, so none can be raised.
    assert_eq!(inh, 0, "CapInh");
    assert_eq!(amb, 0, "CapAmb");
}

#[test]
fn inheritable_and_ambient_capabilities() {
    let out = run_sh(
        |b| {
            b.set("/process/capabilities/inheritable", json!(DEFAULT_CAPS));
        },
        "cat /proc/self/status",
    );
    let want = cap_mask(DEFAULT_CAPS);
    assert_eq!(caps_of(&out), [want; 5], "Inh/Prm/Eff/Bnd/Amb");
}

#[test]
fn ambient_capabilities_survive_for_non_root_user() {
    let out = run_sh(
        |b| {
            b.set("/process/capabilities/inheritable", json!(DEFAULT_CAPS))
                .user(1000, 1000, &[]);
        },
        "cat /proc/self/status",
    );
    let want = cap_mask(DEFAULT_CAPS);
    let [_, prm, eff, _, amb] = caps_of(&out);
    assert_eq!((prm, eff, amb), (want, want, want), "{out}");
}

#[test]
fn custom_capability_set() {
    let caps = ["CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_NET_RAW"];
    let out = run_sh(
        |b| {
            b.set(
                "/process/capabilities",
                json!({"bounding": caps, "effective": caps, "permitted": caps}),
            );
        },
        "cat /proc/self/status",
    );
    let [inh, prm, eff, bnd, amb] = caps_of(&out);
    let want = cap_mask(&caps);
    assert_eq!((prm, eff, bnd), (want, want, want));
    assert_eq!((inh, amb), (0, 0));
}

/// A runtime on a restricted host (here: rune started with CAP_SYS_NICE out of its bounding
/// set, as a host may withhold capabilities from root) cannot give what it does not hold. Asked
/// for every capability in all five sets (youki's process_capabilities), the process starts
/// with all that rune holds, and rune warns of the rest by name (config.md: logged, not a
/// failure). Before, capset failed: "set capabilities: Operation not permitted".
#[test]
fn capabilities_the_runtime_does_not_hold_are_a_warning_not_a_failure() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let wrapper = dir.path().join("rune-without-nice");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nexec setpriv --bounding-set -sys_nice {} \"$@\"\n",
            rune_bin().display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let rune = Rune::with_bin(wrapper);
    let all = CAP_NAMES;
    let mut b = Bundle::new("capsheld");
    b.set(
        "/process/capabilities",
        json!({"bounding": all, "effective": all, "permitted": all, "inheritable": all,
               "ambient": all}),
    )
    .args(&["sleep", "1000"]);
    let mine = std::fs::read_to_string("/proc/self/status").unwrap();
    let held = parse_cap_hex(&proc_status_field(&mine, "CapPrm").unwrap())
        & cap_mask(all)
        & !cap_mask(&["CAP_SYS_NICE"]);
    let missing: Vec<&str> = all
        .iter()
        .copied()
        .filter(|n| held & cap_mask(&[n]) == 0)
        .collect();
    let warned = |out: &Output| {
        assert!(out.stderr.contains("level=warning"), "{out}");
        for name in &missing {
            assert!(out.stderr.contains(name), "{name} not named: {out}");
        }
    };
    // The init (create) and a process exec'd with the same capabilities.
    let (created, pid) = rune.create_ok(&b);
    warned(&created);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let [inh, prm, eff, _, amb] = caps_of(&status);
    assert_eq!([inh, prm, eff, amb], [held; 4], "{status}");
    rune.start(&b.id).assert_ok();
    let exec = rune.exec(&b.id, &["cat", "/proc/self/status"]);
    exec.assert_ok();
    warned(&exec);
    let [inh, prm, eff, _, amb] = caps_of(&exec.stdout);
    assert_eq!([inh, prm, eff, amb], [held; 4], "{exec}");
    rune.delete_force(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
}

#[test]
fn rlimits_are_applied() {
    let out = run_sh(
        |b| {
            b.set(
                "/process/rlimits",
                json!([
                    {"type": "RLIMIT_NOFILE", "soft": 321, "hard": 654},
                    {"type": "RLIMIT_NPROC", "soft": 1111, "hard": 2222}
                ]),
            );
        },
        "ulimit -n; ulimit -Hn; cat /proc/self/limits",
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "321");
    assert_eq!(lines[1], "654");
    let limit = |name: &str| -> Vec<String> {
        out.lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("{name} missing:\n{out}"))[name.len()..]
            .split_whitespace()
            .map(str::to_string)
            .collect()
    };
    assert_eq!(limit("Max open files")[..2], ["321", "654"]);
    assert_eq!(limit("Max processes")[..2], ["1111", "2222"]);
}

#[test]
fn default_nofile_rlimit_is_1024() {
    assert_eq!(run_sh(|_| {}, "ulimit -n").trim(), "1024");
}

#[test]
fn no_new_privileges() {
    let on = run_sh(|_| {}, "grep NoNewPrivs /proc/self/status");
    assert_eq!(proc_status_field(&on, "NoNewPrivs").as_deref(), Some("1"));
    let off = run_sh(
        |b| {
            b.set("/process/noNewPrivileges", json!(false));
        },
        "grep NoNewPrivs /proc/self/status",
    );
    assert_eq!(proc_status_field(&off, "NoNewPrivs").as_deref(), Some("0"));
}

#[test]
fn oom_score_adj() {
    let out = run_sh(
        |b| {
            b.set("/process/oomScoreAdj", json!(237));
        },
        "cat /proc/self/oom_score_adj",
    );
    assert_eq!(out.trim(), "237");
}

#[test]
fn stdin_stdout_stderr_pass_through() {
    let rune = Rune::new();
    let mut b = Bundle::new("stdio");
    b.sh("cat; echo to-stderr >&2");
    b.write();
    rune.track(&b.id);
    let input: Vec<u8> = (0..200_000u32)
        .map(|i| b"abc\n\x00\xff"[i as usize % 6])
        .collect();
    let out = rune
        .cmd(["run", "--bundle", b.path().to_str().unwrap(), b.id.as_str()])
        .stdin(&input)
        .run();
    out.assert_ok();
    let got = std::fs::read(&out.stdout_path).unwrap();
    assert_eq!(got.len(), input.len(), "stdout length");
    assert!(got == input, "stdin bytes must come back unchanged");
    assert!(out.stderr.contains("to-stderr"), "{out}");
    assert_no_leaks(&rune, &b, None);
}

#[test]
fn stdio_are_the_runtime_stdio_not_a_terminal() {
    let out = run_sh(|_| {}, "test -t 0 || test -t 1 || echo not-a-tty");
    assert_eq!(out.trim(), "not-a-tty");
}

/// The signal masks of /proc/<pid>/status, as (blocked, ignored).
fn sig_masks(status: &str) -> (String, String) {
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_string())
            .unwrap_or_else(|| panic!("no {name} in {status}"))
    };
    (field("SigBlk:"), field("SigIgn:"))
}

/// `rune ARGS` from a caller that ignores SIGQUIT and three real-time signals (glibc's own 32,
/// SIGRTMIN, SIGRTMAX) and blocks SIGUSR1, as a host process may: dispositions and masks an
/// execve passes on.
fn rune_ignoring(rune: &Rune, args: &[&str]) -> std::process::Output {
    use std::os::unix::process::CommandExt;
    let mut c = rune.command();
    c.args(args);
    // SAFETY: between fork and exec only async-signal-safe calls: rt_sigaction, sigprocmask.
    unsafe {
        c.pre_exec(|| {
            for s in [libc::SIGQUIT, 32, 34, 64] {
                let ign = [libc::SIG_IGN, 0, 0, 0];
                libc::syscall(libc::SYS_rt_sigaction, s, ign.as_ptr(), 0usize, 8usize);
            }
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGUSR1);
            libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
            Ok(())
        });
    }
    c.stdin(std::process::Stdio::null()).output().unwrap()
}

#[test]
fn the_process_starts_with_no_signal_blocked_or_ignored() {
    // rune spawns its init with every signal blocked (the child shares rune's memory until it
    // executes) and ignores SIGPIPE itself; its caller may ignore or block others. None of it
    // may reach the container's processes: the entrypoint's nor an exec'd one's.
    let none = (
        "0000000000000000".to_string(),
        "0000000000000000".to_string(),
    );
    let rune = Rune::new();
    let mut b = Bundle::new("sigmask");
    b.args(&["cat", "/proc/self/status"]);
    b.write();
    let bundle = b.path().to_str().unwrap();
    let out = rune_ignoring(&rune, &["run", "--bundle", bundle, &b.id]);
    let status = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(sig_masks(&status), none, "{status}");
    assert_no_leaks(&rune, &b, None);

    let mut b = Bundle::new("sigmaskx");
    b.args(&["sleep", "1000"]);
    let (_, pid) = rune.start_container(&b);
    let out = rune_ignoring(&rune, &["exec", &b.id, "cat", "/proc/self/status"]);
    let status = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(sig_masks(&status), none, "{status}");
    rune.delete_force(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));
}

#[test]
fn a_caller_that_closed_stdio_gets_dev_null_there() {
    // rune started with descriptors 0-2 closed opens /dev/null on them first (as a Rust
    // program's start does), so no file it opens takes those numbers, where a container's
    // stdio or its own messages would go.
    use std::os::unix::process::CommandExt;
    let rune = Rune::new();
    let mut b = Bundle::new("closedio");
    b.args(&["sleep", "1000"]);
    b.write();
    let mut c = rune.command();
    c.args(["run", "--bundle"]).arg(b.path()).arg(&b.id);
    // SAFETY: close(2) only, between fork and exec.
    unsafe {
        c.pre_exec(|| {
            for fd in 0..3 {
                libc::close(fd);
            }
            Ok(())
        });
    }
    let mut child = c.spawn().unwrap();
    assert!(rune.wait_status(&b.id, "running"), "never running");
    for fd in 0..3 {
        let target = std::fs::read_link(format!("/proc/{}/fd/{fd}", child.id()));
        assert_eq!(
            target.unwrap(),
            std::path::Path::new("/dev/null"),
            "fd {fd}"
        );
    }
    rune.kill(&b.id, Some("KILL")).assert_ok();
    child.wait().unwrap();
    rune.delete_force(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, None);
}
