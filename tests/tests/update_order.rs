//! `update` of values the kernel checks against each other: each pair is written in the order
//! the kernel accepts (runc's), whatever the values in force.

use rune_integration::updating::{cg, finish, read_trim, running, update};
use rune_integration::*;

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
