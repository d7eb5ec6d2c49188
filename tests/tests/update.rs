//! `update`: changing the resources of a running container.

use rune_integration::*;
use std::path::{Path, PathBuf};

const HOG: &str = "x=$(head -c 100000000 /dev/zero | tr '\\0' a); echo survived";

fn read_trim(p: &Path) -> String {
    std::fs::read_to_string(p)
        .unwrap_or_else(|e| panic!("read {p:?}: {e}"))
        .trim()
        .to_string()
}

/// A running `sleep` container with no resource limits.
fn running(rune: &Rune, prefix: &str) -> (Bundle, i32) {
    let mut b = Bundle::new(prefix);
    b.args(&["sleep", "100000"]);
    let (_, pid) = rune.start_container(&b);
    (b, pid)
}

fn cg(b: &Bundle, controller: &str, file: &str) -> PathBuf {
    cgroup_dir(controller, &b.cgroups_path_value().unwrap()).join(file)
}

fn update(rune: &Rune, id: &str, flags: &[&str]) -> Output {
    let mut args = vec!["update"];
    args.extend_from_slice(flags);
    args.push(id);
    rune.cmd(args).run()
}

fn finish(rune: &Rune, b: &Bundle, pid: i32) {
    rune.delete_force(&b.id).assert_ok();
    assert_no_leaks(rune, b, Some(pid));
}

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
    assert_eq!(
        read_trim(&cg(&b, "memory", "memory.limit_in_bytes")),
        "67108864"
    );
    assert_eq!(
        read_trim(&cg(&b, "memory", "memory.memsw.limit_in_bytes")),
        "67108864"
    );
    assert_eq!(
        read_trim(&cg(&b, "memory", "memory.soft_limit_in_bytes")),
        "33554432"
    );
    // Effect: now the hog is OOM-killed.
    let out = rune.exec(&b.id, &["sh", "-c", HOG]);
    assert_eq!(out.exit_code(), 137, "{out}");
    // Raise memory+swap, then lift the swap limit with -1.
    update(&rune, &b.id, &["--memory-swap", "96m"]).assert_ok();
    assert_eq!(
        read_trim(&cg(&b, "memory", "memory.memsw.limit_in_bytes")),
        "100663296"
    );
    update(&rune, &b.id, &["--memory-swap", "-1"]).assert_ok();
    let memsw: u64 = read_trim(&cg(&b, "memory", "memory.memsw.limit_in_bytes"))
        .parse()
        .unwrap();
    assert!(memsw > 1 << 60, "memory-swap -1 is unlimited: {memsw}");
    assert_eq!(
        read_trim(&cg(&b, "memory", "memory.limit_in_bytes")),
        "67108864"
    );
    assert_eq!(rune.status(&b.id), "running");
    finish(&rune, &b, pid);
}

fn memory_and_memsw(b: &Bundle) -> (u64, u64) {
    let num = |f: &str| -> u64 { read_trim(&cg(b, "memory", f)).parse().unwrap() };
    (
        num("memory.limit_in_bytes"),
        num("memory.memsw.limit_in_bytes"),
    )
}

/// v1 refuses memory.limit_in_bytes above memory.memsw.limit_in_bytes and the reverse, so the
/// two writes go in the order that keeps memsw >= memory (runc's): `--memory -1` after a swap
/// limit lifts both, raising both writes memsw first, lowering both the memory limit first.
#[test]
fn update_memory_and_swap_in_the_order_the_kernel_accepts() {
    const M: u64 = 1 << 20;
    let rune = Rune::new();
    let (b, pid) = running(&rune, "updmemorder");
    update(&rune, &b.id, &["--memory", "64m", "--memory-swap", "128m"]).assert_ok();
    assert_eq!(memory_and_memsw(&b), (64 * M, 128 * M));
    update(&rune, &b.id, &["--memory", "-1"]).assert_ok();
    let (mem, memsw) = memory_and_memsw(&b);
    assert!(mem > 1 << 60 && memsw > 1 << 60, "-1: {mem} / {memsw}");
    update(&rune, &b.id, &["--memory", "32m", "--memory-swap", "48m"]).assert_ok();
    assert_eq!(memory_and_memsw(&b), (32 * M, 48 * M));
    update(&rune, &b.id, &["--memory", "256m", "--memory-swap", "512m"]).assert_ok();
    assert_eq!(memory_and_memsw(&b), (256 * M, 512 * M));
    update(&rune, &b.id, &["--memory", "16m", "--memory-swap", "24m"]).assert_ok();
    assert_eq!(memory_and_memsw(&b), (16 * M, 24 * M));
    update(&rune, &b.id, &["--memory-swap", "-1", "--memory", "8m"]).assert_ok();
    let (mem, memsw) = memory_and_memsw(&b);
    assert!(mem == 8 * M && memsw > 1 << 60, "{mem} / {memsw}");
    assert_eq!(rune.status(&b.id), "running");
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
    assert_eq!(read_trim(&cg(&b, "cpu", "cpu.cfs_period_us")), "50000");
    assert_eq!(read_trim(&cg(&b, "cpu", "cpu.cfs_quota_us")), "20000");
    assert_eq!(read_trim(&cg(&b, "cpu", "cpu.shares")), "256");
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

/// A cgroup made by the test in the cpu hierarchy (at an absolute `path`) for a container to go
/// below; removed from every hierarchy at the end (rune makes it in the others). Made before
/// the test's `Rune`, so dropped after it, once its containers are gone.
struct ParentCgroup(String);

impl ParentCgroup {
    fn new(path: String, files: &[(&str, &str)]) -> ParentCgroup {
        let p = ParentCgroup(path);
        let dir = cgroup_dir("cpu", &p.0);
        std::fs::create_dir_all(&dir).unwrap();
        for (f, v) in files {
            std::fs::write(dir.join(f), v).unwrap_or_else(|e| panic!("{f} = {v}: {e}"));
        }
        p
    }

    /// A container bundle whose cgroup is below this one.
    fn child(&self, prefix: &str, cpu: Value) -> Bundle {
        let mut b = Bundle::new(prefix);
        let path = format!("{}/{}", self.0, b.id);
        b.cgroups_path(Some(&path))
            .set("/linux/resources/cpu", cpu)
            .args(&["sleep", "100000"]);
        b
    }
}

impl Drop for ParentCgroup {
    fn drop(&mut self) {
        for d in cgroup_dirs_for(&self.0) {
            // The child's removal may still be settling in the kernel: a few tries.
            wait_until(POLL_TIMEOUT, || {
                std::fs::remove_dir(&d).is_ok() || !d.exists()
            });
        }
    }
}

/// Under a parent whose quota is half a CPU, a container at 0.4 CPU (40000/100000) moves to
/// 20000/50000: the period alone first would be 40000/50000, above the parent's, and the
/// kernel says EINVAL; runc then writes the quota first and the period after it.
#[test]
fn update_cpu_period_and_quota_below_a_parent_quota() {
    let parent = ParentCgroup::new(
        format!("/rune-test/{}", unique_id("updcfsparent")),
        &[
            ("cpu.cfs_period_us", "100000"),
            ("cpu.cfs_quota_us", "50000"),
        ],
    );
    let rune = Rune::new();
    let b = parent.child("updcfs", json!({"quota": 40000, "period": 100000}));
    let (_, pid) = rune.start_container(&b);
    update(
        &rune,
        &b.id,
        &["--cpu-period", "50000", "--cpu-quota", "20000"],
    )
    .assert_ok();
    assert_eq!(read_trim(&cg(&b, "cpu", "cpu.cfs_period_us")), "50000");
    assert_eq!(read_trim(&cg(&b, "cpu", "cpu.cfs_quota_us")), "20000");
    // And back up: the period first is fine then.
    update(
        &rune,
        &b.id,
        &["--cpu-period", "100000", "--cpu-quota", "45000"],
    )
    .assert_ok();
    assert_eq!(read_trim(&cg(&b, "cpu", "cpu.cfs_period_us")), "100000");
    assert_eq!(read_trim(&cg(&b, "cpu", "cpu.cfs_quota_us")), "45000");
    finish(&rune, &b, pid);
}

/// The same for the realtime pair: a 1 s period with 0.1 s runtime moving to a 0.1 s period
/// with 10 ms runtime; the period alone first would leave the runtime longer than the period.
/// The parent sits at the root, the one cgroup with realtime time to give (950 ms a second).
#[test]
fn update_cpu_rt_period_and_runtime_in_the_order_the_kernel_accepts() {
    let parent = ParentCgroup::new(
        format!("/{}", unique_id("rune-test-rt")),
        &[("cpu.rt_runtime_us", "200000")],
    );
    let rune = Rune::new();
    let cpu = json!({"realtimePeriod": 1000000, "realtimeRuntime": 100000});
    let b = parent.child("updrt", cpu);
    let (_, pid) = rune.start_container(&b);
    update(
        &rune,
        &b.id,
        &["--cpu-rt-period", "100000", "--cpu-rt-runtime", "10000"],
    )
    .assert_ok();
    assert_eq!(read_trim(&cg(&b, "cpu", "cpu.rt_period_us")), "100000");
    assert_eq!(read_trim(&cg(&b, "cpu", "cpu.rt_runtime_us")), "10000");
    finish(&rune, &b, pid);
}

/// The burst may not exceed the quota: lowering both writes the burst first, raising both
/// the quota first (the burst is retried after it), as runc does.
#[test]
fn update_cpu_burst_and_quota_in_the_order_the_kernel_accepts() {
    let rune = Rune::new();
    let mut b = Bundle::new("updburst");
    b.set(
        "/linux/resources/cpu",
        json!({"quota": 25000, "period": 100000, "burst": 20000}),
    )
    .args(&["sleep", "100000"]);
    let (_, pid) = rune.start_container(&b);
    let quota_burst = || {
        (
            read_trim(&cg(&b, "cpu", "cpu.cfs_quota_us")),
            read_trim(&cg(&b, "cpu", "cpu.cfs_burst_us")),
        )
    };
    assert_eq!(quota_burst(), ("25000".into(), "20000".into()));
    let lower = json!({"cpu": {"quota": 10000, "burst": 8000}}).to_string();
    let out = rune
        .cmd(["update", "-r", "-", b.id.as_str()])
        .stdin(lower.as_bytes())
        .run();
    out.assert_ok();
    assert_eq!(quota_burst(), ("10000".into(), "8000".into()));
    update(
        &rune,
        &b.id,
        &["--cpu-quota", "50000", "--cpu-burst", "40000"],
    )
    .assert_ok();
    assert_eq!(quota_burst(), ("50000".into(), "40000".into()));
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
    assert_eq!(
        read_trim(&cg(&b, "memory", "memory.limit_in_bytes")),
        "50331648"
    );
    assert_eq!(read_trim(&cg(&b, "cpu", "cpu.shares")), "300");
    assert_eq!(read_trim(&cg(&b, "cpu", "cpu.cfs_quota_us")), "30000");
    assert_eq!(read_trim(&cg(&b, "pids", "pids.max")), "25");

    // `-r -` reads stdin; the other flags are ignored when -r is given.
    let stdin = json!({"pids": {"limit": 12}, "cpu": {"shares": 400}});
    let out = rune
        .cmd(["update", "-r", "-", "--pids-limit", "99", b.id.as_str()])
        .stdin(stdin.to_string().as_bytes())
        .run();
    out.assert_ok();
    assert_eq!(read_trim(&cg(&b, "pids", "pids.max")), "12");
    assert_eq!(read_trim(&cg(&b, "cpu", "cpu.shares")), "400");
    // What -r did not mention is unchanged.
    assert_eq!(
        read_trim(&cg(&b, "memory", "memory.limit_in_bytes")),
        "50331648"
    );
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
    out.assert_fail_mentioning(&["does not exist", "not exist", "not found"]);
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
    assert_eq!(
        read_trim(&cg(&b, "memory", "memory.limit_in_bytes")),
        "67108864"
    );
    assert_eq!(rune.status(&b.id), "running");
    finish(&rune, &b, pid);
}

/// Errors in runc's words, which callers and users match: a bad flag value is "invalid value
/// for <flag>: ...", cpu shares out of range "the minimum/maximum allowed cpu-shares is N", a
/// memory limit below the usage "unable to set memory limit to N (current usage: ...)", a value
/// the kernel refuses `failed to write "V": write <file>: ...`. Nothing changes.
#[test]
fn update_errors_in_runc_words() {
    let rune = Rune::new();
    let (b, pid) = running(&rune, "updwords");
    update(&rune, &b.id, &["--memory", "64m", "--cpu-share", "512"]).assert_ok();
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
        (
            &["--cpuset-cpus", "99"],
            &[r#"failed to write \"99\": write /sys/fs/cgroup/cpuset"#],
        ),
    ];
    for (flags, words) in cases {
        let out = update(&rune, &b.id, flags);
        out.assert_fail();
        for w in words {
            assert!(out.stderr.contains(w), "{flags:?}: {w:?} not in:\n{out}");
        }
    }
    assert_eq!(
        read_trim(&cg(&b, "memory", "memory.limit_in_bytes")),
        "67108864"
    );
    assert_eq!(read_trim(&cg(&b, "cpu", "cpu.shares")), "512");
    assert_eq!(rune.status(&b.id), "running");
    finish(&rune, &b, pid);
}

/// `--blkio-weight` reaches CFQ's blkio.weight or, on kernels with only BFQ (this one),
/// blkio.bfq.weight, as with runc; `--l3-cache-schema` needs Intel RDT.
#[test]
fn update_blkio_weight_and_rdt_flags() {
    let rune = Rune::new();
    let (b, pid) = running(&rune, "updblkio");
    update(&rune, &b.id, &["--blkio-weight", "500"]).assert_ok();
    let file = ["blkio.weight", "blkio.bfq.weight"]
        .into_iter()
        .map(|f| cg(&b, "blkio", f))
        .find(|p| p.exists())
        .expect("this kernel has neither blkio.weight nor blkio.bfq.weight");
    assert_eq!(read_trim(&file), "500", "{file:?}");
    update(&rune, &b.id, &["--l3-cache-schema", "L3:0=f"]).assert_fail_mentioning(&["RDT"]);
    finish(&rune, &b, pid);
}
