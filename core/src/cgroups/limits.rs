//! Writing `linux.resources` to a container's cgroup. cgroups-rs finds the controllers;
//! values go to the controller files directly so every failure names the file and the value,
//! and a controller or file the host lacks is an error only when the config sets its value
//! (runc's rule: skipped when unset, a clear error when set).

use crate::err;
use crate::error::{Error, Result};
use cgroups_rs::blkio::BlkIoController;
use cgroups_rs::cgroup::Cgroup;
use cgroups_rs::cpu::CpuController;
use cgroups_rs::cpuset::CpuSetController;
use cgroups_rs::hugetlb::HugeTlbController;
use cgroups_rs::memory::MemController;
use cgroups_rs::net_cls::NetClsController;
use cgroups_rs::net_prio::NetPrioController;
use cgroups_rs::pid::PidController;
use cgroups_rs::Controller;
use oci_spec::runtime::LinuxResources;
use std::path::Path;

/// Writes `value` to `<dir>/<file>`.
fn write(dir: &Path, file: &str, value: &str) -> Result<()> {
    use std::io::Write;
    let p = dir.join(file);
    // No O_CREAT: cgroupfs answers EACCES for a missing file then, not ENOENT.
    let r = std::fs::OpenOptions::new()
        .write(true)
        .open(&p)
        .and_then(|mut f| f.write_all(value.as_bytes()));
    r.map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            err!(
                InvalidSpec,
                "cgroup: {} does not exist on this host (the kernel lacks this limit)",
                p.display()
            )
        } else {
            Error::io(format!("cgroup: write {:?} to {}", value, p.display()), e)
        }
    })
}

fn missing(ctrl: &str, what: &str) -> Error {
    err!(
        InvalidSpec,
        "{} is set but the {} cgroup controller is not available to rune on this host",
        what,
        ctrl
    )
}

/// runc treats 0 as "not set" for most limits (Docker sends zeros for what it leaves alone).
fn nz<T: Default + PartialEq>(v: Option<T>) -> Option<T> {
    v.filter(|x| *x != T::default())
}

fn v2(cg: &Cgroup) -> bool {
    cg.v2()
}

pub fn apply(cg: &Cgroup, res: &LinuxResources) -> Result<()> {
    super::ranges::check(res)?;
    memory(cg, res)?;
    cpu(cg, res)?;
    pids(cg, res)?;
    blkio(cg, res)?;
    hugetlb(cg, res)?;
    network(cg, res)?;
    if res.rdma().as_ref().is_some_and(|r| !r.is_empty()) {
        return Err(missing("rdma", "linux.resources.rdma"));
    }
    if let Some(u) = res.unified().as_ref().filter(|u| !u.is_empty()) {
        if !v2(cg) {
            return Err(err!(
                InvalidSpec,
                "linux.resources.unified needs a cgroup v2 host; this one uses cgroup v1"
            ));
        }
        let dir = cgroups_rs::hierarchies::auto().root().join(cg.path());
        for (k, v) in u {
            if k.contains('/') || k.starts_with('.') {
                return Err(err!(
                    InvalidSpec,
                    "linux.resources.unified: invalid key {:?}",
                    k
                ));
            }
            write(&dir, k, v)?;
        }
    }
    Ok(())
}

fn memory(cg: &Cgroup, res: &LinuxResources) -> Result<()> {
    let m = match res.memory() {
        Some(m) => m,
        None => return Ok(()),
    };
    let (limit, reservation, swap) = (nz(m.limit()), nz(m.reservation()), nz(m.swap()));
    // Docker sends -1 for "unset" swappiness.
    let swappiness = m.swappiness().filter(|s| *s as i64 != -1 && *s != u64::MAX);
    let kernel_tcp = nz(m.kernel_tcp());
    let any = limit.is_some()
        || kernel_tcp.is_some()
        || reservation.is_some()
        || swap.is_some()
        || swappiness.is_some()
        || m.disable_oom_killer() == Some(true);
    let mc: &MemController = match cg.controller_of() {
        Some(c) => c,
        None if any => return Err(missing("memory", "a memory limit")),
        None => return Ok(()),
    };
    let dir = mc.path().to_path_buf();
    for v in [limit, reservation, swap, kernel_tcp].into_iter().flatten() {
        if v < -1 {
            return Err(err!(
                InvalidSpec,
                "linux.resources.memory: invalid value {} (a size in bytes, or -1)",
                v
            ));
        }
    }
    if m.check_before_update().unwrap_or(false) {
        if let Some(limit) = limit.filter(|l| *l > 0) {
            let usage = mc.memory_stat().usage_in_bytes as i64;
            if limit < usage {
                return Err(err!(
                    InvalidArgument,
                    "memory limit {} is below the current usage {}",
                    limit,
                    usage
                ));
            }
        }
    }
    let (limit_file, swap_file, soft_file) = if v2(cg) {
        ("memory.max", "memory.swap.max", "memory.low")
    } else {
        (
            "memory.limit_in_bytes",
            "memory.memsw.limit_in_bytes",
            "memory.soft_limit_in_bytes",
        )
    };
    let num = |v: i64| {
        if v2(cg) && v == -1 {
            "max".to_string()
        } else {
            v.to_string()
        }
    };
    // v2's swap.max is swap alone; the spec's swap is memory+swap.
    let swap_val = |swap: i64| {
        if v2(cg) && swap > 0 {
            (swap - limit.unwrap_or(0)).max(0).to_string()
        } else {
            num(swap)
        }
    };
    match (limit, swap) {
        (Some(l), Some(sw)) => {
            // memsw must stay >= the limit: the order depends on the values now in force.
            if write(&dir, limit_file, &num(l)).is_err() {
                write(&dir, swap_file, &swap_val(sw))?;
                write(&dir, limit_file, &num(l))?;
            } else {
                write(&dir, swap_file, &swap_val(sw))?;
            }
        }
        (Some(l), None) => write(&dir, limit_file, &num(l))?,
        (None, Some(sw)) => write(&dir, swap_file, &swap_val(sw))?,
        (None, None) => {}
    }
    if let Some(r) = reservation {
        write(&dir, soft_file, &num(r))?;
    }
    // kernelTCP is v1's alone (v2 accounts TCP buffers in memory.max); `kernel`, the kmem
    // limit, the kernel itself no longer enforces (5.16 on), and runc ignores it.
    if let (Some(t), false) = (kernel_tcp, v2(cg)) {
        write(&dir, "memory.kmem.tcp.limit_in_bytes", &t.to_string())?;
    }
    if let Some(s) = swappiness {
        if s > 100 {
            return Err(err!(
                InvalidSpec,
                "linux.resources.memory.swappiness {} is above 100",
                s
            ));
        }
        if !v2(cg) {
            write(&dir, "memory.swappiness", &s.to_string())?;
        }
    }
    if m.disable_oom_killer() == Some(true) && !v2(cg) {
        write(&dir, "memory.oom_control", "1")?;
    }
    if let Some(h) = m.use_hierarchy() {
        if !v2(cg) {
            // Only settable before children exist; the kernel keeps 1 nowadays.
            let _ = write(&dir, "memory.use_hierarchy", if h { "1" } else { "0" });
        }
    }
    Ok(())
}

fn cpu(cg: &Cgroup, res: &LinuxResources) -> Result<()> {
    let c = match res.cpu() {
        Some(c) => c,
        None => return Ok(()),
    };
    let (shares, quota, period) = (nz(c.shares()), nz(c.quota()), nz(c.period()));
    let (rt_period, rt_runtime) = (nz(c.realtime_period()), nz(c.realtime_runtime()));
    let wants_cpu = shares.is_some()
        || quota.is_some()
        || period.is_some()
        || c.burst().is_some()
        || rt_period.is_some()
        || rt_runtime.is_some()
        || nz(c.idle()).is_some();
    if wants_cpu {
        let cc: &CpuController = cg
            .controller_of()
            .ok_or_else(|| missing("cpu", "a cpu limit"))?;
        let dir = cc.path().to_path_buf();
        if v2(cg) {
            if let Some(s) = shares {
                // cgroup v1 shares [2, 262144] to v2 weight [1, 10000], as runc converts.
                let w = 1 + ((s.clamp(2, 262144) - 2) * 9999) / 262142;
                write(&dir, "cpu.weight", &w.to_string())?;
            }
            if c.quota().is_some() || c.period().is_some() {
                let q = c
                    .quota()
                    .filter(|q| *q > 0)
                    .map(|q| q.to_string())
                    .unwrap_or_else(|| "max".into());
                write(
                    &dir,
                    "cpu.max",
                    &format!("{} {}", q, c.period().unwrap_or(100000)),
                )?;
            }
        } else {
            if let Some(s) = shares {
                write(&dir, "cpu.shares", &s.to_string())?;
            }
            if let Some(p) = period {
                write(&dir, "cpu.cfs_period_us", &p.to_string())?;
            }
            if let Some(q) = quota {
                write(&dir, "cpu.cfs_quota_us", &q.to_string())?;
            }
            if let Some(p) = rt_period {
                write(&dir, "cpu.rt_period_us", &p.to_string())?;
            }
            if let Some(r) = rt_runtime {
                write(&dir, "cpu.rt_runtime_us", &r.to_string())?;
            }
        }
        if let Some(b) = c.burst() {
            write(
                &dir,
                if v2(cg) {
                    "cpu.max.burst"
                } else {
                    "cpu.cfs_burst_us"
                },
                &b.to_string(),
            )?;
        }
        if let Some(i) = nz(c.idle()) {
            write(&dir, "cpu.idle", &i.to_string())?;
        }
    }
    let cpus = c.cpus().as_deref().filter(|s| !s.is_empty());
    let mems = c.mems().as_deref().filter(|s| !s.is_empty());
    if cpus.is_some() || mems.is_some() {
        let cs: &CpuSetController = cg
            .controller_of()
            .ok_or_else(|| missing("cpuset", "cpus/mems"))?;
        let dir = cs.path().to_path_buf();
        if let Some(v) = cpus {
            write(&dir, "cpuset.cpus", v)?;
        }
        if let Some(v) = mems {
            write(&dir, "cpuset.mems", v)?;
        }
    }
    Ok(())
}

fn pids(cg: &Cgroup, res: &LinuxResources) -> Result<()> {
    if let Some(p) = res.pids().filter(|p| p.limit() != 0) {
        let pc: &PidController = cg
            .controller_of()
            .ok_or_else(|| missing("pids", "a pids limit"))?;
        let v = if p.limit() > 0 {
            p.limit().to_string()
        } else {
            "max".into()
        };
        write(pc.path(), "pids.max", &v)?;
    }
    Ok(())
}

fn blkio(cg: &Cgroup, res: &LinuxResources) -> Result<()> {
    let b = match res.block_io() {
        Some(b) => b,
        None => return Ok(()),
    };
    fn empty<T>(v: &Option<Vec<T>>) -> bool {
        v.as_ref().is_none_or(|v| v.is_empty())
    }
    let (weight, leaf) = (nz(b.weight()), nz(b.leaf_weight()));
    let set = weight.is_some()
        || leaf.is_some()
        || !empty(b.weight_device())
        || !empty(b.throttle_read_bps_device())
        || !empty(b.throttle_write_bps_device())
        || !empty(b.throttle_read_iops_device())
        || !empty(b.throttle_write_iops_device());
    if !set {
        return Ok(());
    }
    let bc: &BlkIoController = cg
        .controller_of()
        .ok_or_else(|| missing("blkio", "a block I/O limit"))?;
    let dir = bc.path().to_path_buf();
    if v2(cg) {
        if let Some(w) = weight {
            write(&dir, "io.weight", &format!("default {}", w))?;
        }
        for (list, key) in [
            (b.throttle_read_bps_device(), "rbps"),
            (b.throttle_write_bps_device(), "wbps"),
            (b.throttle_read_iops_device(), "riops"),
            (b.throttle_write_iops_device(), "wiops"),
        ] {
            for d in list.iter().flatten() {
                write(
                    &dir,
                    "io.max",
                    &format!("{}:{} {}={}", d.major(), d.minor(), key, d.rate()),
                )?;
            }
        }
        return Ok(());
    }
    if let Some(w) = weight {
        write(&dir, "blkio.weight", &w.to_string())?;
    }
    if let Some(w) = leaf {
        write(&dir, "blkio.leaf_weight", &w.to_string())?;
    }
    for d in b.weight_device().iter().flatten() {
        if let Some(w) = d.weight() {
            write(
                &dir,
                "blkio.weight_device",
                &format!("{}:{} {}", d.major(), d.minor(), w),
            )?;
        }
        if let Some(w) = d.leaf_weight() {
            write(
                &dir,
                "blkio.leaf_weight_device",
                &format!("{}:{} {}", d.major(), d.minor(), w),
            )?;
        }
    }
    for (list, file) in [
        (
            b.throttle_read_bps_device(),
            "blkio.throttle.read_bps_device",
        ),
        (
            b.throttle_write_bps_device(),
            "blkio.throttle.write_bps_device",
        ),
        (
            b.throttle_read_iops_device(),
            "blkio.throttle.read_iops_device",
        ),
        (
            b.throttle_write_iops_device(),
            "blkio.throttle.write_iops_device",
        ),
    ] {
        for d in list.iter().flatten() {
            write(
                &dir,
                file,
                &format!("{}:{} {}", d.major(), d.minor(), d.rate()),
            )?;
        }
    }
    Ok(())
}

fn hugetlb(cg: &Cgroup, res: &LinuxResources) -> Result<()> {
    let limits = match res.hugepage_limits().as_ref().filter(|l| !l.is_empty()) {
        Some(l) => l,
        None => return Ok(()),
    };
    let hc: &HugeTlbController = cg.controller_of().ok_or_else(|| {
        missing("hugetlb", "linux.resources.hugepageLimits (on this hybrid host hugetlb lives only in the cgroup2 hierarchy)")
    })?;
    for l in limits {
        let file = if v2(cg) {
            format!("hugetlb.{}.max", l.page_size())
        } else {
            format!("hugetlb.{}.limit_in_bytes", l.page_size())
        };
        write(hc.path(), &file, &l.limit().to_string())?;
    }
    Ok(())
}

fn network(cg: &Cgroup, res: &LinuxResources) -> Result<()> {
    let n = match res.network() {
        Some(n) => n,
        None => return Ok(()),
    };
    if let Some(id) = n.class_id() {
        let c: &NetClsController = cg
            .controller_of()
            .ok_or_else(|| missing("net_cls", "linux.resources.network.classID"))?;
        write(c.path(), "net_cls.classid", &id.to_string())?;
    }
    if let Some(prios) = n.priorities().as_ref().filter(|p| !p.is_empty()) {
        let c: &NetPrioController = cg
            .controller_of()
            .ok_or_else(|| missing("net_prio", "linux.resources.network.priorities"))?;
        for p in prios {
            write(
                c.path(),
                "net_prio.ifpriomap",
                &format!("{} {}", p.name(), p.priority()),
            )?;
        }
    }
    Ok(())
}
