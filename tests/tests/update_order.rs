//! `update` of values the kernel checks against each other: each pair is written in the order
//! the kernel accepts (runc's), whatever the values in force. Where cgroup v2 has no such
//! pair (memory.max and memory.swap.max are independent, cpu.max is one file) or no such knob
//! (realtime), the tests check the v2 values, or that rune leaves them alone, as runc does.

use rune_integration::updating::{assert_cpu_quota, cg, finish, read_trim, running, update};
use rune_integration::*;

/// The memory and memory+swap limits in force (unlimited: u64::MAX on v2, the kernel's
/// huge page-aligned number on v1); on v2 memory+swap is memory.max plus memory.swap.max.
fn memory_and_memsw(b: &Bundle) -> (u64, u64) {
    let num = |f: &str| -> u64 {
        match read_trim(&cg(b, "memory", f)).as_str() {
            "max" => u64::MAX,
            v => v.parse().unwrap(),
        }
    };
    if cgroup_v2() {
        let mem = num("memory.max");
        (mem, mem.saturating_add(num("memory.swap.max")))
    } else {
        (
            num("memory.limit_in_bytes"),
            num("memory.memsw.limit_in_bytes"),
        )
    }
}

/// v1 refuses memory.limit_in_bytes above memory.memsw.limit_in_bytes and the reverse, so the
/// two writes go in the order that keeps memsw >= memory (runc's): `--memory -1` after a swap
/// limit lifts both, raising both writes memsw first, lowering both the memory limit first.
/// On v2 the same updates give the same memory and memory+swap (swap.max = swap - limit).
/// Without swap accounting (no memsw / swap.max file) a swap limit is an error naming the file.
#[test]
fn update_memory_and_swap_in_the_order_the_kernel_accepts() {
    const M: u64 = 1 << 20;
    let rune = Rune::new();
    let (b, pid) = running(&rune, "updmemorder");
    let swap_file = CgroupHost::probe().pick("memory.memsw.limit_in_bytes", "memory.swap.max");
    if !cg(&b, "memory", swap_file).exists() {
        update(&rune, &b.id, &["--memory", "64m", "--memory-swap", "128m"])
            .assert_fail_mentioning(&[swap_file]);
        return finish(&rune, &b, pid);
    }
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

/// A cgroup made by the test in the cpu hierarchy (at an absolute `path`) for a container to go
/// below; removed from every hierarchy at the end (rune makes it in the others). Made before
/// the test's `Rune`, so dropped after it, once its containers are gone.
struct ParentCgroup(String);

impl ParentCgroup {
    fn new(path: String, files: &[(&str, &str)]) -> ParentCgroup {
        let p = ParentCgroup(path);
        let dir = make_cgroup_dir("cpu", &p.0);
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
/// kernel says EINVAL; runc then writes the quota first and the period after it. (v2 writes
/// both at once in cpu.max, and lets a child's quota exceed its parent's.)
#[test]
fn update_cpu_period_and_quota_below_a_parent_quota() {
    let files: &[(&str, &str)] = CgroupHost::probe().pick(
        &[
            ("cpu.cfs_period_us", "100000"),
            ("cpu.cfs_quota_us", "50000"),
        ],
        &[("cpu.max", "50000 100000")],
    );
    let parent = ParentCgroup::new(format!("/rune-test/{}", unique_id("updcfsparent")), files);
    let rune = Rune::new();
    let b = parent.child("updcfs", json!({"quota": 40000, "period": 100000}));
    let (_, pid) = rune.start_container(&b);
    update(
        &rune,
        &b.id,
        &["--cpu-period", "50000", "--cpu-quota", "20000"],
    )
    .assert_ok();
    assert_cpu_quota(&b, 20000, 50000);
    // And back up: the period first is fine then.
    update(
        &rune,
        &b.id,
        &["--cpu-period", "100000", "--cpu-quota", "45000"],
    )
    .assert_ok();
    assert_cpu_quota(&b, 45000, 100000);
    finish(&rune, &b, pid);
}

/// The same for the realtime pair: a 1 s period with 0.1 s runtime moving to a 0.1 s period
/// with 10 ms runtime; the period alone first would leave the runtime longer than the period.
/// The parent sits at the root, the one cgroup with realtime time to give (950 ms a second).
/// The files exist only with realtime group scheduling (CONFIG_RT_GROUP_SCHED) on v1: a kernel
/// without it makes the realtime limits an error naming the file. cgroup v2 has no realtime
/// knobs: rune ignores the fields there, as runc does, and writes nothing.
#[test]
fn update_cpu_rt_period_and_runtime_in_the_order_the_kernel_accepts() {
    let cpu = json!({"realtimePeriod": 1000000, "realtimeRuntime": 100000});
    let rt_flags = ["--cpu-rt-period", "100000", "--cpu-rt-runtime", "10000"];
    if cgroup_v2() || !cgroup_has_file("cpu", "cpu.rt_runtime_us") {
        let rune = Rune::new();
        let mut b = Bundle::new("updrt");
        b.set("/linux/resources/cpu", cpu)
            .args(&["sleep", "100000"]);
        if !cgroup_v2() {
            rune.create(&b)
                .assert_fail_mentioning(&["cpu.rt_period_us", "does not exist on this host"]);
            return assert_no_leaks(&rune, &b, None);
        }
        let (_, pid) = rune.start_container(&b);
        update(&rune, &b.id, &rt_flags).assert_ok();
        for f in ["cpu.rt_period_us", "cpu.rt_runtime_us"] {
            assert!(!cg(&b, "cpu", f).exists(), "{f} on cgroup v2");
        }
        return finish(&rune, &b, pid);
    }
    let parent = ParentCgroup::new(
        format!("/{}", unique_id("rune-test-rt")),
        &[("cpu.rt_runtime_us", "200000")],
    );
    let rune = Rune::new();
    let b = parent.child("updrt", cpu);
    let (_, pid) = rune.start_container(&b);
    update(&rune, &b.id, &rt_flags).assert_ok();
    assert_eq!(read_trim(&cg(&b, "cpu", "cpu.rt_period_us")), "100000");
    assert_eq!(read_trim(&cg(&b, "cpu", "cpu.rt_runtime_us")), "10000");
    finish(&rune, &b, pid);
}

/// The burst may not exceed the quota: lowering both writes the burst first, raising both
/// the quota first (the burst is retried after it), as runc does. v1's cpu.cfs_burst_us, v2's
/// cpu.max.burst (kernel 5.14 on): without one the burst is an error naming the file.
#[test]
fn update_cpu_burst_and_quota_in_the_order_the_kernel_accepts() {
    let rune = Rune::new();
    let mut b = Bundle::new("updburst");
    b.set(
        "/linux/resources/cpu",
        json!({"quota": 25000, "period": 100000, "burst": 20000}),
    )
    .args(&["sleep", "100000"]);
    let burst_file = CgroupHost::probe().pick("cpu.cfs_burst_us", "cpu.max.burst");
    if !cgroup_has_file("cpu", burst_file) {
        rune.create(&b)
            .assert_fail_mentioning(&[burst_file, "does not exist on this host"]);
        return assert_no_leaks(&rune, &b, None);
    }
    let (_, pid) = rune.start_container(&b);
    let quota_burst = || {
        let quota = if cgroup_v2() {
            let max = read_trim(&cg(&b, "cpu", "cpu.max"));
            max.split_whitespace().next().unwrap().to_string()
        } else {
            read_trim(&cg(&b, "cpu", "cpu.cfs_quota_us"))
        };
        (quota, read_trim(&cg(&b, "cpu", burst_file)))
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
