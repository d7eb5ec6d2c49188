//! `update`: changing the resources of a running container (the v1 files on a v1 or hybrid
//! host, the unified ones on cgroup v2).

use rune_integration::updating::{
    assert_cpu_quota, assert_cpu_shares, cg, finish, memory_limit, read_trim, running, update,
};
use rune_integration::*;

/// dd's one 100 MB buffer (see resources.rs): the shell's status is dd's (137 when killed).
const HOG: &str = "dd if=/dev/zero of=/dev/null bs=100M count=1 2>/dev/null && echo survived";

#[test]
fn update_memory_limits() {
    let rune = Rune::new();
    let (b, pid) = running(&rune, "updmem");
    // Unlimited at first: the hog survives.
    let out = rune.exec(&b.id, &["sh", "-c", HOG]);
    assert_eq!(out.stdout, "survived\n", "{out}");
    update(
        &rune,
        &b.id,
        &[
            "--memory",
            "64m",
            "--memory-swap",
            "64m",
            "--memory-reservation",
            "32m",
        ],
    )
    .assert_ok();
    let v2 = cgroup_v2();
    // v1's memory+swap; v2's swap alone (memory+swap minus the limit).
    let swap_file = CgroupHost::probe().pick("memory.memsw.limit_in_bytes", "memory.swap.max");
    let swap = || read_trim(&cg(&b, "memory", swap_file));
    // Without swap accounting there is no swap file, and a swap limit is an error.
    let swap_acct = cg(&b, "memory", swap_file).exists();
    assert_eq!(memory_limit(&b), "67108864");
    if swap_acct {
        assert_eq!(swap(), if v2 { "0" } else { "67108864" });
    }
    let reservation = CgroupHost::probe().pick("memory.soft_limit_in_bytes", "memory.low");
    assert_eq!(read_trim(&cg(&b, "memory", reservation)), "33554432");
    // Effect: now the hog is OOM-killed.
    let out = rune.exec(&b.id, &["sh", "-c", HOG]);
    assert_eq!(out.exit_code(), 137, "{out}");
    // Raise memory+swap (on v2 counted from the memory limit in force: 96m - 64m of swap),
    // then lift the swap limit with -1.
    let out = update(&rune, &b.id, &["--memory-swap", "96m"]);
    if swap_acct {
        out.assert_ok();
        assert_eq!(swap(), if v2 { "33554432" } else { "100663296" });
    } else {
        out.assert_fail_mentioning(&[swap_file]);
    }
    update(&rune, &b.id, &["--memory-swap", "-1"]).assert_ok();
    if swap_acct {
        let memsw = swap();
        assert!(
            memsw == "max" || memsw.parse::<u64>().unwrap() > 1 << 60,
            "memory-swap -1 is unlimited: {memsw}"
        );
    }
    assert_eq!(memory_limit(&b), "67108864");
    assert_eq!(rune.status(&b.id), "running");
    finish(&rune, &b, pid);
}

/// `update --memory` alone keeps the container's memory+swap, as runc does: on cgroup v2 the
/// swap limit is then what is left of it above the new memory limit (on v1 memory+swap stays).
/// Before, on v2 the swap limit stayed what the first memory limit had left.
#[test]
fn update_memory_alone_keeps_memory_plus_swap() {
    let rune = Rune::new();
    let (b, pid) = running(&rune, "updmemonly");
    let swap_file = CgroupHost::probe().pick("memory.memsw.limit_in_bytes", "memory.swap.max");
    let swap_acct = cg(&b, "memory", swap_file).exists();
    let first = update(&rune, &b.id, &["--memory", "64m", "--memory-swap", "128m"]);
    if !swap_acct {
        // No swap accounting on this kernel: a swap limit is refused, naming the file.
        first.assert_fail_mentioning(&[swap_file]);
        finish(&rune, &b, pid);
        return;
    }
    first.assert_ok();
    let swap = || read_trim(&cg(&b, "memory", swap_file));
    let mib = |n: u64| (n << 20).to_string();
    let v2 = cgroup_v2();
    assert_eq!(swap(), if v2 { mib(64) } else { mib(128) });
    for limit in [96, 32] {
        update(&rune, &b.id, &["--memory", &format!("{limit}m")]).assert_ok();
        assert_eq!(memory_limit(&b), mib(limit));
        assert_eq!(
            swap(),
            if v2 { mib(128 - limit) } else { mib(128) },
            "after {limit}m"
        );
    }
    finish(&rune, &b, pid);
}

#[test]
fn update_cpu_limits() {
    let rune = Rune::new();
    let (b, pid) = running(&rune, "updcpu");
    update(
        &rune,
        &b.id,
        &[
            "--cpu-period",
            "50000",
            "--cpu-quota",
            "20000",
            "--cpu-share",
            "256",
            "--cpuset-cpus",
            "0",
        ],
    )
    .assert_ok();
    assert_cpu_quota(&b, 20000, 50000);
    assert_cpu_shares(&b, 256);
    assert_eq!(read_trim(&cg(&b, "cpuset", "cpuset.cpus")), "0");
    // Effect: the running init and new processes are confined to CPU 0.
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    assert_eq!(
        proc_status_field(&status, "Cpus_allowed_list").as_deref(),
        Some("0")
    );
    let out = rune.exec(&b.id, &["nproc"]);
    out.assert_ok();
    assert_eq!(out.stdout, "1\n");
    finish(&rune, &b, pid);
}

#[test]
fn update_pids_limit_is_enforced() {
    // Init waits on a FIFO (a builtin `read`: no fork), then tries to start
    // ten processes. The forks happen in init, not through `exec`, whose
    // helper would itself be subject to the limit.
    let rune = Rune::new();
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("go");
    mkfifo(&fifo);
    let mut b = Bundle::new("updpids");
    b.bind(dir.path(), "/mnt/a", &[]).sh(
        "read x < /mnt/a/go; for i in 1 2 3 4 5 6 7 8 9 10; do sleep 1000 & done; \
         echo all-forked; exec sleep 100000",
    );
    let (out, pid) = rune.start_container(&b);
    update(&rune, &b.id, &["--pids-limit", "30"]).assert_ok();
    assert_eq!(read_trim(&cg(&b, "pids", "pids.max")), "30");
    // -1 lifts the limit.
    update(&rune, &b.id, &["--pids-limit", "-1"]).assert_ok();
    assert_eq!(read_trim(&cg(&b, "pids", "pids.max")), "max");
    update(&rune, &b.id, &["--pids-limit", "5"]).assert_ok();
    assert_eq!(read_trim(&cg(&b, "pids", "pids.max")), "5");
    trigger(&fifo);
    let done = || out.stdout_now().contains("all-forked") || out.stderr_now().contains("fork");
    assert!(wait_until(POLL_TIMEOUT, done), "fork loop did not finish");
    assert!(
        !out.stdout_now().contains("all-forked") && out.stderr_now().contains("fork"),
        "10 forks under pids.max=5: {:?} / {:?}",
        out.stdout_now(),
        out.stderr_now()
    );
    let current: u32 = read_trim(&cg(&b, "pids", "pids.current")).parse().unwrap();
    assert!(current <= 5, "pids.current = {current}");
    finish(&rune, &b, pid);
}

#[test]
fn update_from_resources_file_and_stdin() {
    let rune = Rune::new();
    let (b, pid) = running(&rune, "updres");
    let file = rune.scratch().join("resources.json");
    let res = json!({
        "memory": {"limit": 48 * 1024 * 1024},
        "cpu": {"shares": 300, "quota": 30000, "period": 100000},
        "pids": {"limit": 25}
    });
    std::fs::write(&file, res.to_string()).unwrap();
    update(&rune, &b.id, &["--resources", file.to_str().unwrap()]).assert_ok();
    assert_eq!(memory_limit(&b), "50331648");
    assert_cpu_shares(&b, 300);
    assert_cpu_quota(&b, 30000, 100000);
    assert_eq!(read_trim(&cg(&b, "pids", "pids.max")), "25");

    // `-r -` reads stdin; the other flags are ignored when -r is given.
    let stdin = json!({"pids": {"limit": 12}, "cpu": {"shares": 400}});
    let out = rune
        .cmd(["update", "-r", "-", "--pids-limit", "99", b.id.as_str()])
        .stdin(stdin.to_string().as_bytes())
        .run();
    out.assert_ok();
    assert_eq!(read_trim(&cg(&b, "pids", "pids.max")), "12");
    assert_cpu_shares(&b, 400);
    // What -r did not mention is unchanged.
    assert_eq!(memory_limit(&b), "50331648");
    finish(&rune, &b, pid);
}

#[test]
fn update_stopped_or_missing_container_fails() {
    let rune = Rune::new();
    let mut b = Bundle::new("updstopped");
    b.args(&["true"]);
    let (_, pid) = rune.start_container(&b);
    assert!(rune.wait_status(&b.id, "stopped"));
    // runc's ErrNotRunning, the words containerd's shim looks for.
    update(&rune, &b.id, &["--memory", "64m"]).assert_fail_mentioning(&["container not running"]);
    update(&rune, &b.id, &["--pids-limit", "10"])
        .assert_fail_mentioning(&["container not running"]);
    rune.delete(&b.id).assert_ok();
    assert_no_leaks(&rune, &b, Some(pid));

    let out = update(&rune, "no-such-container-upd", &["--memory", "64m"]);
    out.assert_fail_mentioning(&["no-such-container-upd", "does not exist"]);
}

#[test]
fn update_rejects_bad_memory_values() {
    let rune = Rune::new();
    let (b, pid) = running(&rune, "updbad");
    update(&rune, &b.id, &["--memory", "64m"]).assert_ok();
    for bad in ["--memory=-5", "--memory=12xyz", "--memory-reservation=lots"] {
        let out = update(&rune, &b.id, &[bad]);
        out.assert_fail_mentioning(&["invalid", "memory"]);
        let flag = bad.split('=').next().unwrap().trim_start_matches('-');
        assert!(
            out.stderr.contains(flag) || out.stderr.contains(bad.split('=').nth(1).unwrap()),
            "stderr names neither the option nor the value: {out}"
        );
    }
    assert_eq!(memory_limit(&b), "67108864");
    assert_eq!(rune.status(&b.id), "running");
    finish(&rune, &b, pid);
}

/// Errors in runc's words, which callers and users match: a bad flag value is "invalid value
/// for <flag>: ...", cpu shares out of range "the minimum/maximum allowed cpu-shares is N", a
/// memory limit below the usage "unable to set memory limit to N (current usage: ...)", a value
/// the kernel refuses `failed to write "V": write <file>: ...`. Nothing changes. (On cgroup v2
/// the kernel takes a memory.max below the usage and reclaims or OOM-kills to meet it, as with
/// runc: that case is v1's alone.)
#[test]
fn update_errors_in_runc_words() {
    let rune = Rune::new();
    let (b, pid) = running(&rune, "updwords");
    update(&rune, &b.id, &["--memory", "64m", "--cpu-share", "512"]).assert_ok();
    let v2 = cgroup_v2();
    let cpuset_words = if v2 {
        r#"failed to write \"99\": write /sys/fs/cgroup/rune-test/"#
    } else {
        r#"failed to write \"99\": write /sys/fs/cgroup/cpuset"#
    };
    let cases: [(&[&str], &[&str]); 12] = [
        (
            &["--memory", "abc"],
            &["invalid value for memory: invalid size: 'abc'"],
        ),
        (
            &["--memory-swap", "1e9"],
            &["invalid value for memory-swap: invalid size: '1e9'"],
        ),
        (
            &["--memory-reservation", "lots"],
            &["invalid value for memory-reservation"],
        ),
        (&["--cpu-share", "abc"], &["invalid value for cpu-share"]),
        (&["--cpu-quota", "1.5"], &["invalid value for cpu-quota"]),
        (&["--cpu-period", "-1"], &["invalid value for cpu-period"]),
        // runc 1.1.5's own flag parser words these two `invalid value "x" for flag -pids-limit`.
        (&["--pids-limit", "many"], &["invalid value", "pids-limit"]),
        (
            &["--blkio-weight", "heavy"],
            &["invalid value", "blkio-weight"],
        ),
        (
            &["--cpu-share", "1"],
            &["the minimum allowed cpu-shares is 2"],
        ),
        (
            &["--cpu-share", "300000"],
            &["the maximum allowed cpu-shares is 262144"],
        ),
        (
            &["--memory", "4k"],
            &["unable to set memory limit to 4096 (current usage: "],
        ),
        (&["--cpuset-cpus", "99"], &[cpuset_words]),
    ];
    for (flags, words) in cases {
        if v2 && flags[0] == "--memory" && flags[1] == "4k" {
            continue;
        }
        let out = update(&rune, &b.id, flags);
        out.assert_fail();
        for w in words {
            assert!(out.stderr.contains(w), "{flags:?}: {w:?} not in:\n{out}");
        }
    }
    assert_eq!(memory_limit(&b), "67108864");
    assert_cpu_shares(&b, 512);
    assert_eq!(rune.status(&b.id), "running");
    finish(&rune, &b, pid);
}

/// `--blkio-weight` reaches CFQ's blkio.weight or, on kernels with only BFQ, blkio.bfq.weight,
/// as with runc; on a kernel with neither (no CFQ, no BFQ built) it fails with an error that
/// names the missing files and leaves the container running. On cgroup v2: BFQ's io.bfq.weight
/// as it is, else io.weight converted as runc converts it. `--l3-cache-schema` needs Intel RDT.
#[test]
fn update_blkio_weight_and_rdt_flags() {
    let rune = Rune::new();
    let (b, pid) = running(&rune, "updblkio");
    let (files, want) = CgroupHost::probe().pick(
        (["blkio.weight", "blkio.bfq.weight"], ["500", "500"]),
        // v2 shows the weight of every device without one of its own as `default N`.
        (
            ["io.bfq.weight", "io.weight"],
            ["default 500", "default 4950"],
        ),
    );
    let file = files
        .into_iter()
        .zip(want)
        .map(|(f, w)| (cg(&b, "blkio", f), w))
        .find(|(p, _)| p.exists());
    let out = update(&rune, &b.id, &["--blkio-weight", "500"]);
    match file {
        Some((file, want)) => {
            out.assert_ok();
            assert_eq!(read_trim(&file), want, "{file:?}");
        }
        None => {
            out.assert_fail_mentioning(&["has neither blkio.weight nor blkio.bfq.weight"]);
            assert_eq!(rune.status(&b.id), "running");
        }
    }
    update(&rune, &b.id, &["--l3-cache-schema", "L3:0=f"]).assert_fail_mentioning(&["RDT"]);
    finish(&rune, &b, pid);
}
