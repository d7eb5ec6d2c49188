//! What the `update` tests share: a running container to update, its cgroup files, the
//! `update` command itself.

use crate::{assert_no_leaks, cgroup_dir, cpu_weight_of_shares, Bundle, CgroupHost, Output, Rune};
use std::path::{Path, PathBuf};

pub fn read_trim(p: &Path) -> String {
    std::fs::read_to_string(p)
        .unwrap_or_else(|e| panic!("read {p:?}: {e}"))
        .trim()
        .to_string()
}

/// A running `sleep` container with no resource limits.
pub fn running(rune: &Rune, prefix: &str) -> (Bundle, i32) {
    let mut b = Bundle::new(prefix);
    b.args(&["sleep", "100000"]);
    let (_, pid) = rune.start_container(&b);
    (b, pid)
}

/// A file of the container's cgroup in one v1 controller (the unified tree on cgroup v2).
pub fn cg(b: &Bundle, controller: &str, file: &str) -> PathBuf {
    cgroup_dir(controller, &b.cgroups_path_value().unwrap()).join(file)
}

/// `update <flags...> ID`.
pub fn update(rune: &Rune, id: &str, flags: &[&str]) -> Output {
    let mut args = vec!["update"];
    args.extend_from_slice(flags);
    args.push(id);
    rune.cmd(args).run()
}

/// Force-deletes the container and checks nothing is left.
pub fn finish(rune: &Rune, b: &Bundle, pid: i32) {
    rune.delete_force(&b.id).assert_ok();
    assert_no_leaks(rune, b, Some(pid));
}

/// The memory limit in force: memory.limit_in_bytes (v1) or memory.max (v2).
pub fn memory_limit(b: &Bundle) -> String {
    let file = CgroupHost::probe().pick("memory.limit_in_bytes", "memory.max");
    read_trim(&cg(b, "memory", file))
}

/// The cpu shares in force as the file shows them: cpu.shares (v1), or on v2 cpu.weight,
/// checked to be the weight runc converts `shares` to.
#[track_caller]
pub fn assert_cpu_shares(b: &Bundle, shares: u64) {
    if CgroupHost::probe().is_v2() {
        let w = read_trim(&cg(b, "cpu", "cpu.weight"));
        assert_eq!(
            w,
            cpu_weight_of_shares(shares).to_string(),
            "cpu.weight for shares {shares}"
        );
    } else {
        assert_eq!(read_trim(&cg(b, "cpu", "cpu.shares")), shares.to_string());
    }
}

/// The CFS quota and period in force: cpu.cfs_quota_us and cpu.cfs_period_us (v1), or
/// v2's cpu.max "QUOTA PERIOD".
#[track_caller]
pub fn assert_cpu_quota(b: &Bundle, quota: i64, period: u64) {
    if CgroupHost::probe().is_v2() {
        assert_eq!(
            read_trim(&cg(b, "cpu", "cpu.max")),
            format!("{quota} {period}")
        );
    } else {
        assert_eq!(
            read_trim(&cg(b, "cpu", "cpu.cfs_quota_us")),
            quota.to_string()
        );
        assert_eq!(
            read_trim(&cg(b, "cpu", "cpu.cfs_period_us")),
            period.to_string()
        );
    }
}
